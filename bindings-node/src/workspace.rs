//! The rest of the Workspace API on `NativeClient`: knowledge, skills, agents and
//! artifacts, one promise per call on the core's resource types. Type conversion only: the
//! core checks every argument (before anything is sent) and parses every response; JSON the
//! service leaves open crosses as text (`raw`), which the JS layer parses, and JSON going in
//! (skill variables, agent config, artifact fields) arrives as text `JSON.stringify` made.

use std::str::FromStr;
use std::time::Duration;

use mixerlead::{AgentType, Error, ErrorKind, Indexing, NewSource, Record, Skill, SkillOutput, Source, UploadSource};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::client::NativeClient;
use crate::errors::{guard, to_napi, InvalidAs};
use crate::options;
use crate::wait::{cancellable, promise, NativeCancel};

/// A source of the knowledge base (`Source`).
#[napi(object, object_from_js = false)]
pub struct NativeSource {
    pub id: String,
    pub kind: Option<String>,
    pub source_url_or_path: Option<String>,
    pub status: String,
    pub chunk_count: Option<f64>,
    pub enabled: bool,
    pub created_at: Option<String>,
    pub indexed_at: Option<String>,
    pub last_error: Option<String>,
    /// The object as the service sent it, as JSON text.
    pub raw: String,
}

impl From<Source> for NativeSource {
    fn from(s: Source) -> Self {
        NativeSource {
            status: s.status.as_str().to_string(),
            id: s.id,
            kind: s.kind,
            source_url_or_path: s.source_url_or_path,
            chunk_count: s.chunk_count.map(|n| n as f64),
            enabled: s.enabled,
            created_at: s.created_at,
            indexed_at: s.indexed_at,
            last_error: s.last_error,
            raw: s.raw.to_string(),
        }
    }
}

/// What an add, a crawl or a re-index started (`Indexing`).
#[napi(object, object_from_js = false)]
pub struct NativeIndexing {
    pub id: String,
    pub status: String,
    pub max_pages: Option<f64>,
    pub raw: String,
}

impl From<Indexing> for NativeIndexing {
    fn from(i: Indexing) -> Self {
        NativeIndexing {
            status: i.status.as_str().to_string(),
            id: i.id,
            max_pages: i.max_pages.map(|n| n as f64),
            raw: i.raw.to_string(),
        }
    }
}

/// A skill (`Skill`).
#[napi(object, object_from_js = false)]
pub struct NativeSkill {
    pub id: String,
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub raw: String,
}

impl From<Skill> for NativeSkill {
    fn from(s: Skill) -> Self {
        NativeSkill { id: s.id, name: s.name, category: s.category, description: s.description, raw: s.raw.to_string() }
    }
}

/// What a skill run returned (`SkillOutput`).
#[napi(object, object_from_js = false)]
pub struct NativeSkillOutput {
    pub output: String,
    pub raw: String,
}

impl From<SkillOutput> for NativeSkillOutput {
    fn from(o: SkillOutput) -> Self {
        NativeSkillOutput { output: o.output, raw: o.raw.to_string() }
    }
}

/// An agent or an artifact (`Record`).
#[napi(object, object_from_js = false)]
pub struct NativeRecord {
    pub id: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub raw: String,
}

impl From<Record> for NativeRecord {
    fn from(r: Record) -> Self {
        NativeRecord { id: r.id, name: r.name, kind: r.kind, raw: r.raw.to_string() }
    }
}

/// What to add to the knowledge base: at most one of `url`, `text`, `filePath`, `fileBytes`
/// (the core says when none or several of url, text and file are given).
#[napi(object, object_to_js = false)]
pub struct NativeNewSource {
    pub url: Option<String>,
    pub text: Option<String>,
    /// A file on disk, streamed.
    pub file_path: Option<String>,
    /// A file's contents (copied once, from JS memory).
    pub file_bytes: Option<Uint8Array>,
    /// The file name sent with `fileBytes`.
    pub file_name: Option<String>,
    /// The label of the source.
    pub name: Option<String>,
}

/// An invalid argument from the binding's own conversions.
fn invalid(message: String, invalid_as: InvalidAs) -> napi::Error {
    to_napi(Error::new(ErrorKind::InvalidArgument, message), invalid_as)
}

/// A JSON object from the text JS made with `JSON.stringify` (`None`: not given).
fn json_object(what: &str, json: Option<String>) -> Result<Option<Map<String, Value>>> {
    let Some(json) = json else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        _ => Err(invalid(format!("{what} must be a plain object of JSON values"), InvalidAs::Type)),
    }
}

/// Runs a call on the client with the call's options and cancellation: a promise of `T`.
/// An invalid argument the core finds is a `TypeError`, or a `RangeError` for the numeric
/// request options (`InvalidAs::Call`).
macro_rules! call {
    ($self:ident, $env:ident, $options:ident, $cancel:ident, |$client:ident, $o:ident| $body:expr) => {{
        let $client = $self.inner.clone();
        let $o = options::request_options($options.as_ref())?;
        let cancel = $cancel.map(NativeCancel::cancellation);
        promise($env, InvalidAs::Call, async move { cancellable(cancel, async { $body }).await })
    }};
}

#[napi]
impl NativeClient {
    /// `POST /knowledge`: a promise of `NativeIndexing`.
    #[napi(catch_unwind)]
    pub fn knowledge_add<'env>(
        &self,
        env: &'env Env,
        source: NativeNewSource,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let NativeNewSource { url, text, file_path, file_bytes, file_name, name } = source;
            let file = match (file_path, file_bytes) {
                (Some(path), None) => Some(UploadSource::Path(path.into())),
                (None, Some(bytes)) => Some(UploadSource::Bytes {
                    file_name: file_name.or_else(|| name.clone()).unwrap_or_else(|| "upload".to_string()),
                    data: bytes.to_vec().into(),
                }),
                (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(invalid("give file as a path or as bytes, not both".into(), InvalidAs::Type))
                }
            };
            // Exactly one of url, text and file: checked at once, before anything is sent.
            let source = NewSource::from_parts(url, text, file).map_err(|e| to_napi(e, InvalidAs::Type))?;
            call!(self, env, options, cancel, |client, o| {
                client.knowledge().options(o).add(source, name.as_deref()).await.map(NativeIndexing::from)
            })
        })
    }

    /// `POST /knowledge/crawl`: a promise of `NativeIndexing` (its `id` is the crawl's).
    #[napi(catch_unwind)]
    pub fn knowledge_crawl<'env>(
        &self,
        env: &'env Env,
        seed_url: String,
        max_pages: Option<f64>,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let max_pages = match max_pages {
                None => None,
                Some(n) if n.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&n) => Some(n as u32),
                Some(n) => {
                    return Err(invalid(
                        format!("maxPages must be a whole number from 1 to {}, got {n}", u32::MAX),
                        InvalidAs::Range,
                    ))
                }
            };
            call!(self, env, options, cancel, |client, o| {
                client.knowledge().options(o).crawl(&seed_url, max_pages).await.map(NativeIndexing::from)
            })
        })
    }

    /// `GET /knowledge`: a promise of `NativeSource[]`.
    #[napi(catch_unwind)]
    pub fn knowledge_list<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                let sources = client.knowledge().options(o).list().await?;
                Ok(sources.into_iter().map(NativeSource::from).collect::<Vec<_>>())
            })
        })
    }

    /// `PATCH /knowledge/{id}` `{"enabled": …}`: a promise of the source, or `null` when the
    /// service sent none.
    #[napi(catch_unwind)]
    pub fn knowledge_set_enabled<'env>(
        &self,
        env: &'env Env,
        id: String,
        enabled: bool,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                let knowledge = client.knowledge().options(o);
                let source = if enabled { knowledge.enable(&id).await? } else { knowledge.disable(&id).await? };
                Ok(source.map(NativeSource::from))
            })
        })
    }

    /// `POST /knowledge/{id}/reindex`: a promise of `NativeIndexing`.
    #[napi(catch_unwind)]
    pub fn knowledge_reindex<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                client.knowledge().options(o).reindex(&id).await.map(NativeIndexing::from)
            })
        })
    }

    /// `DELETE /knowledge/{id}`: a promise of `undefined`.
    #[napi(catch_unwind)]
    pub fn knowledge_delete<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| call!(self, env, options, cancel, |client, o| client.knowledge().options(o).delete(&id).await))
    }

    /// Polls until every source of `ids` is indexed, at most `timeout` seconds (`Infinity`: no
    /// deadline): a promise of their `NativeSource[]`; rejects with the core's indexing error
    /// when one fails.
    #[napi(catch_unwind)]
    pub fn knowledge_wait_until_indexed<'env>(
        &self,
        env: &'env Env,
        ids: Vec<String>,
        timeout: f64,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let timeout = match Duration::try_from_secs_f64(timeout) {
                Ok(timeout) => timeout,
                Err(_) if timeout == f64::INFINITY => Duration::MAX,
                Err(_) => {
                    return Err(invalid(
                        format!("timeout must be zero or more seconds, got {timeout}"),
                        InvalidAs::Range,
                    ))
                }
            };
            call!(self, env, options, cancel, |client, o| {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let sources = client.knowledge().options(o).wait_until_indexed(&ids, timeout).await?;
                Ok(sources.into_iter().map(NativeSource::from).collect::<Vec<_>>())
            })
        })
    }

    /// `GET /skills`: a promise of `NativeSkill[]`.
    #[napi(catch_unwind)]
    pub fn skills_list<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                let skills = client.skills().options(o).list().await?;
                Ok(skills.into_iter().map(NativeSkill::from).collect::<Vec<_>>())
            })
        })
    }

    /// `POST /skills/exec`: a promise of `NativeSkillOutput`. `vars` is JSON text.
    #[napi(catch_unwind)]
    pub fn skills_run<'env>(
        &self,
        env: &'env Env,
        skill_id: String,
        vars: Option<String>,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let vars = json_object("vars", vars)?.unwrap_or_default();
            call!(self, env, options, cancel, |client, o| {
                client.skills().options(o).run(&skill_id, vars).await.map(NativeSkillOutput::from)
            })
        })
    }

    /// `GET /agents`: a promise of `NativeRecord[]`.
    #[napi(catch_unwind)]
    pub fn agents_list<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                let agents = client.agents().options(o).list().await?;
                Ok(agents.into_iter().map(NativeRecord::from).collect::<Vec<_>>())
            })
        })
    }

    /// `POST /agents`: a promise of the agent (`NativeRecord`). `config` is JSON text. An
    /// unknown `kind` is refused at once.
    #[napi(catch_unwind)]
    pub fn agents_create<'env>(
        &self,
        env: &'env Env,
        name: String,
        kind: String,
        config: Option<String>,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let kind = AgentType::from_str(&kind).map_err(|e| to_napi(e, InvalidAs::Type))?;
            let config = json_object("config", config)?;
            call!(self, env, options, cancel, |client, o| {
                client.agents().options(o).create(&name, kind, config).await.map(NativeRecord::from)
            })
        })
    }

    /// `POST /agents/{id}/run`: a promise of the run's output as JSON text (`"null"` when the
    /// body was empty).
    #[napi(catch_unwind)]
    pub fn agents_run<'env>(
        &self,
        env: &'env Env,
        agent_id: String,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                client.agents().options(o).run(&agent_id).await.map(|output| output.to_string())
            })
        })
    }

    /// `GET /artifacts`: a promise of `NativeRecord[]`.
    #[napi(catch_unwind)]
    pub fn artifacts_list<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            call!(self, env, options, cancel, |client, o| {
                let artifacts = client.artifacts().options(o).list().await?;
                Ok(artifacts.into_iter().map(NativeRecord::from).collect::<Vec<_>>())
            })
        })
    }

    /// `POST /artifacts`: a promise of the artifact (`NativeRecord`). `fields` is JSON text.
    #[napi(catch_unwind)]
    pub fn artifacts_create<'env>(
        &self,
        env: &'env Env,
        fields: String,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let fields = json_object("fields", Some(fields))?.unwrap_or_default();
            call!(self, env, options, cancel, |client, o| {
                client.artifacts().options(o).create(fields).await.map(NativeRecord::from)
            })
        })
    }
}
