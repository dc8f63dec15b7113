//! The knowledge base: sources added by URL, text or file upload, or by crawling a site; listed,
//! enabled, disabled, re-indexed and deleted; and a wait until they are indexed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::json::{call, json_body, list_of, segment, text_of, JsonResponse};
use super::upload::{Upload, UploadSource};
use crate::error::{Error, ErrorKind, Result};
use crate::request_options::RequestOptions;
use crate::transport::Body;
use crate::Client;

/// Where a source's indexing stands. Statuses the service adds later are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceStatus {
    /// Being fetched and indexed.
    Indexing,
    /// Ready: chat is grounded on it (when enabled).
    Indexed,
    /// Indexing failed; see [`Source::last_error`].
    Error,
    /// A status this SDK does not know yet.
    Other(String),
}

impl SourceStatus {
    fn parse(text: &str) -> SourceStatus {
        match text {
            "indexing" => SourceStatus::Indexing,
            "indexed" => SourceStatus::Indexed,
            "error" => SourceStatus::Error,
            other => SourceStatus::Other(other.to_string()),
        }
    }

    /// The status as the service spells it.
    pub fn as_str(&self) -> &str {
        match self {
            SourceStatus::Indexing => "indexing",
            SourceStatus::Indexed => "indexed",
            SourceStatus::Error => "error",
            SourceStatus::Other(text) => text,
        }
    }
}

/// One source of the knowledge base, as [`Knowledge::list`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Its id (`kb_…`).
    pub id: String,
    /// `url`, `text`, `file`, `crawl`, … as the service says.
    pub kind: Option<String>,
    /// The URL or file path it came from.
    pub source_url_or_path: Option<String>,
    /// Where its indexing stands.
    pub status: SourceStatus,
    /// How many chunks it was split into.
    pub chunk_count: Option<u64>,
    /// Whether chat uses it.
    pub enabled: bool,
    /// When it was added, as the service wrote it.
    pub created_at: Option<String>,
    /// When it was indexed, as the service wrote it.
    pub indexed_at: Option<String>,
    /// Why indexing failed, when it did.
    pub last_error: Option<String>,
    /// The whole object as the service sent it.
    pub raw: Value,
}

impl Source {
    fn from_json(raw: Value) -> Result<Source> {
        let id = text_of(&raw, "id").ok_or_else(|| Error::decode("a knowledge source without an id"))?;
        Ok(Source {
            id,
            kind: text_of(&raw, "type"),
            source_url_or_path: text_of(&raw, "source_url_or_path"),
            status: SourceStatus::parse(text_of(&raw, "status").as_deref().unwrap_or("indexing")),
            chunk_count: raw.get("chunk_count").and_then(Value::as_u64),
            enabled: match raw.get("enabled") {
                Some(Value::Bool(b)) => *b,
                Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                _ => true,
            },
            created_at: text_of(&raw, "created_at"),
            indexed_at: text_of(&raw, "indexed_at"),
            last_error: text_of(&raw, "last_error").filter(|e| !e.is_empty()),
            raw,
        })
    }
}

/// What [`Knowledge::add`], [`Knowledge::reindex`] and [`Knowledge::crawl`] return: the id and
/// the status it starts in.
#[derive(Debug, Clone, PartialEq)]
pub struct Indexing {
    /// The source's id (`kb_…`), or the crawl's id.
    pub id: String,
    /// Where its indexing stands (`indexing` at first).
    pub status: SourceStatus,
    /// The most pages a crawl fetches, when the service said.
    pub max_pages: Option<u64>,
    /// The whole response as the service sent it (`null` when it was empty).
    pub raw: Value,
}

impl Indexing {
    fn from_json(raw: Option<Value>, id_field: &str, fallback_id: Option<&str>) -> Result<Indexing> {
        let raw = raw.unwrap_or(Value::Null);
        let id = text_of(&raw, id_field)
            .or_else(|| fallback_id.map(str::to_string))
            .ok_or_else(|| Error::decode(format!("the response has no {id_field:?}")))?;
        Ok(Indexing {
            id,
            status: SourceStatus::parse(text_of(&raw, "status").as_deref().unwrap_or("indexing")),
            max_pages: raw.get("maxPages").and_then(Value::as_u64),
            raw,
        })
    }
}

/// What to add to the knowledge base: exactly one of a URL, a text or a file.
#[derive(Debug, Clone)]
pub enum NewSource {
    /// A web page the service fetches.
    Url(String),
    /// Text given directly.
    Text(String),
    /// A file uploaded (streamed from disk).
    File(UploadSource),
}

impl NewSource {
    /// A file on disk, streamed when uploaded.
    pub fn file(path: impl Into<PathBuf>) -> NewSource {
        NewSource::File(UploadSource::Path(path.into()))
    }

    /// From a binding's optional arguments: exactly one must be given.
    #[doc(hidden)]
    pub fn from_parts(url: Option<String>, text: Option<String>, file: Option<UploadSource>) -> Result<NewSource> {
        match (url, text, file) {
            (Some(url), None, None) => Ok(NewSource::Url(url)),
            (None, Some(text), None) => Ok(NewSource::Text(text)),
            (None, None, Some(file)) => Ok(NewSource::File(file)),
            (None, None, None) => Err(Error::invalid("give one of url, text or file")),
            _ => Err(Error::invalid("give only one of url, text or file")),
        }
    }
}

/// The knowledge-base calls of a client: `client.knowledge()`.
#[derive(Debug, Clone)]
pub struct Knowledge<'c> {
    client: &'c Client,
    options: RequestOptions,
}

impl Client {
    /// The knowledge base: the sources chat is grounded on.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge { client: self, options: RequestOptions::default() }
    }
}

impl Knowledge<'_> {
    /// These calls with `options` (timeout, retries, extra headers).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    async fn call(&self, method: Method, path: &str, body: Body) -> Result<JsonResponse> {
        call(self.client, &self.options, method, path, body).await
    }

    /// Adds a source (`POST /knowledge`); it starts `indexing`. `name` labels it.
    pub async fn add(&self, source: NewSource, name: Option<&str>) -> Result<Indexing> {
        let name = name.filter(|n| !n.is_empty());
        let body = match source {
            NewSource::Url(url) => {
                if url.trim().is_empty() {
                    return Err(Error::invalid("url must not be empty"));
                }
                json_body(json!({ "url": url, "name": name }))?
            }
            NewSource::Text(text) => {
                if text.trim().is_empty() {
                    return Err(Error::invalid("text must not be empty"));
                }
                json_body(json!({ "text": text, "name": name }))?
            }
            NewSource::File(source) => {
                let fields = name.map(|n| vec![("name", n.to_string())]).unwrap_or_default();
                Body::Upload(Upload { source, fields })
            }
        };
        Indexing::from_json(self.call(Method::POST, "/knowledge", body).await?.json, "id", None)
    }

    /// Crawls a site from `seed_url` (`POST /knowledge/crawl`), at most `max_pages` pages.
    pub async fn crawl(&self, seed_url: &str, max_pages: Option<u32>) -> Result<Indexing> {
        if seed_url.trim().is_empty() {
            return Err(Error::invalid("seed_url must not be empty"));
        }
        if max_pages == Some(0) {
            return Err(Error::invalid("max_pages must be at least 1"));
        }
        let body = json_body(json!({ "seedUrl": seed_url, "maxPages": max_pages }))?;
        Indexing::from_json(self.call(Method::POST, "/knowledge/crawl", body).await?.json, "crawlId", None)
    }

    /// Every source (`GET /knowledge`).
    pub async fn list(&self) -> Result<Vec<Source>> {
        let json = self.call(Method::GET, "/knowledge", Body::None).await?.json;
        list_of(json, "sources")?.into_iter().map(Source::from_json).collect()
    }

    /// Lets chat use the source (`PATCH /knowledge/{id}`); the source when the service sends it.
    pub async fn enable(&self, id: &str) -> Result<Option<Source>> {
        self.set_enabled(id, true).await
    }

    /// Stops chat using the source (`PATCH /knowledge/{id}`).
    pub async fn disable(&self, id: &str) -> Result<Option<Source>> {
        self.set_enabled(id, false).await
    }

    async fn set_enabled(&self, id: &str, enabled: bool) -> Result<Option<Source>> {
        let path = format!("/knowledge/{}", segment("id", id)?);
        let json = self.call(Method::PATCH, &path, json_body(json!({ "enabled": enabled }))?).await?.json;
        json.filter(|j| j.get("id").is_some()).map(Source::from_json).transpose()
    }

    /// Indexes the source again (`POST /knowledge/{id}/reindex`).
    pub async fn reindex(&self, id: &str) -> Result<Indexing> {
        let path = format!("/knowledge/{}/reindex", segment("id", id)?);
        Indexing::from_json(self.call(Method::POST, &path, Body::None).await?.json, "id", Some(id))
    }

    /// Deletes the source (`DELETE /knowledge/{id}`).
    pub async fn delete(&self, id: &str) -> Result<()> {
        let path = format!("/knowledge/{}", segment("id", id)?);
        self.call(Method::DELETE, &path, Body::None).await.map(drop)
    }

    /// Polls the list, with backoff, until every source of `ids` is `indexed`; returns them.
    /// Fails with an [`ErrorKind::Indexing`] error carrying `last_error` when one ends in
    /// `error` or is not in the knowledge base, and with a timeout error after `timeout`.
    pub async fn wait_until_indexed(&self, ids: &[&str], timeout: Duration) -> Result<Vec<Source>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // A timeout too large to add to the clock (say 1e19 s) means no deadline.
        let deadline = Instant::now().checked_add(timeout);
        let mut wait = Duration::from_millis(200);
        loop {
            let sources = self.list().await?;
            let mut ready = Vec::with_capacity(ids.len());
            let mut pending = Vec::new();
            for id in ids {
                let Some(source) = sources.iter().find(|s| s.id == *id) else {
                    return Err(Error::indexing(id, None, format!("source {id} is not in the knowledge base")));
                };
                match &source.status {
                    SourceStatus::Indexed => ready.push(source.clone()),
                    SourceStatus::Error => {
                        let why = source.last_error.clone();
                        let message =
                            format!("source {id} failed to index: {}", why.as_deref().unwrap_or("no reason given"));
                        return Err(Error::indexing(id, why, message));
                    }
                    _ => pending.push(*id),
                }
            }
            if pending.is_empty() {
                return Ok(ready);
            }
            let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("still indexing after {:.1} s: {}", timeout.as_secs_f64(), pending.join(", ")),
                ));
            }
            tokio::time::sleep(wait.min(left)).await;
            wait = (wait * 3 / 2).min(Duration::from_secs(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_leniently() {
        let s = Source::from_json(
            json!({"id": "kb_1", "type": "url", "status": "queued", "enabled": 0, "chunk_count": 3, "created_at": 17}),
        )
        .unwrap();
        assert_eq!(s.status, SourceStatus::Other("queued".into()));
        assert!(!s.enabled);
        assert_eq!((s.chunk_count, s.created_at.as_deref()), (Some(3), Some("17")));
        assert!(Source::from_json(json!({"status": "indexed"})).is_err());
    }

    #[test]
    fn exactly_one_kind_of_source() {
        assert!(NewSource::from_parts(None, None, None).is_err());
        assert!(NewSource::from_parts(Some("u".into()), Some("t".into()), None).is_err());
        assert!(matches!(NewSource::from_parts(None, Some("t".into()), None), Ok(NewSource::Text(_))));
    }
}
