//! Replaying a cassette (docs/cassettes.md): the exchanges a client recorded with its `record` option,
//! served again with their statuses, headers, chunks and timing.
//!
//! A request is answered by the first unused recorded exchange with the same method, path,
//! query and request body (JSON compared as values), then by the next such one. Chunks go out at
//! their recorded times divided by the speed (`0`: at once). A recorded cut connection is cut
//! again; a body the client stopped reading is held open after its recorded chunks, as the
//! service held it. No match: `404` naming the request, counted in the stats' `unmatched`.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::Request;
use crate::sink::Sink;

/// The cassette version this emulator reads.
pub const CASSETTE_VERSION: u64 = 1;

/// Longest a replayed body the client stopped reading is held open.
const MAX_HOLD: Duration = Duration::from_secs(120);

/// Bytes of a request body quoted in the error of an unmatched request.
const QUOTED_BODY: usize = 120;

/// Response headers a cassette keeps but a replay does not send: the replay frames the body
/// itself, and the chunks are the body after any decompression.
const NOT_REPLAYED: &[&str] = &["content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"];

/// How a recorded body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Read to its end.
    Complete,
    /// The connection failed mid-body.
    Cut,
    /// The client stopped reading (closed, cancelled, timed out) before the end.
    Closed,
}

/// One recorded exchange that got a response.
struct Recorded {
    method: String,
    path: String,
    query: String,
    request: Value,
    status: u16,
    headers: Vec<(String, String)>,
    /// `(ms since the headers, text)`.
    chunks: Vec<(f64, String)>,
    end: End,
}

/// A loaded cassette and which of its exchanges were served.
pub(crate) struct Cassette {
    exchanges: Vec<Recorded>,
    used: Mutex<Vec<bool>>,
    speed: f64,
}

impl Cassette {
    /// Reads the cassette at `path`; an error names the file and the line at fault.
    pub(crate) fn load(path: &Path, speed: f64) -> Result<Cassette, String> {
        let shown = path.display();
        if !(speed.is_finite() && speed >= 0.0) {
            return Err(format!("cassette speed must be zero or more, got {speed}"));
        }
        let text = std::fs::read(path).map_err(|e| format!("cassette {shown}: cannot be read: {e}"))?;
        let text = String::from_utf8(text).map_err(|e| {
            let line = text_line_of(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
            format!("cassette {shown} line {line}: not UTF-8 text")
        })?;
        let mut exchanges = Vec::new();
        let mut lines = text.split_inclusive('\n').enumerate().peekable();
        if lines.peek().is_none() {
            return Err(format!(
                "cassette {shown}: the file is empty (a cassette starts with {{\"mixerlead_cassette\": 1}})"
            ));
        }
        while let Some((index, raw)) = lines.next() {
            let number = index + 1;
            let at = |why: String| format!("cassette {shown} line {number}: {why}");
            let line = raw.trim();
            let value: Value = match serde_json::from_str(line) {
                Ok(value) => value,
                Err(_) if !raw.ends_with('\n') && lines.peek().is_none() => {
                    return Err(at("the line is cut short (the file ends mid-line)".into()))
                }
                Err(_) if line.is_empty() => continue,
                Err(e) => return Err(at(format!("not JSON: {e}"))),
            };
            if let Some(version) = value.get("mixerlead_cassette") {
                match version.as_u64() {
                    Some(CASSETTE_VERSION) => continue,
                    _ => {
                        return Err(at(format!(
                        "cassette version {version} is not supported (this emulator reads version {CASSETTE_VERSION})"
                    )))
                    }
                }
            }
            if number == 1 {
                return Err(at("not a mixerlead cassette: the first line must be {\"mixerlead_cassette\": 1}".into()));
            }
            if let Some(recorded) = Recorded::of(&value).map_err(at)? {
                exchanges.push(recorded);
            }
        }
        let used = Mutex::new(vec![false; exchanges.len()]);
        Ok(Cassette { exchanges, used, speed })
    }

    /// Exchanges that got a response, in the order they were recorded.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// Takes the first unused exchange that answers `request`.
    fn take(&self, method: &str, path: &str, query: &str, body: &Value) -> Option<&Recorded> {
        let mut used = self.used.lock().unwrap();
        let index = self.exchanges.iter().enumerate().position(|(i, r)| {
            !used[i] && r.method == method && r.path == path && r.query == query && r.request == *body
        })?;
        used[index] = true;
        Some(&self.exchanges[index])
    }
}

/// The 1-based line that `prefix` (the file up to a point) ends on.
fn text_line_of(prefix: &[u8]) -> usize {
    prefix.iter().filter(|b| **b == b'\n').count() + 1
}

impl Recorded {
    /// An exchange line; `None` for an attempt that got no response (nothing to replay).
    fn of(line: &Value) -> Result<Option<Recorded>, String> {
        let text = |name: &str| -> Result<String, String> {
            line.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("no {name:?} string"))
        };
        let status = match line.get("status") {
            None | Some(Value::Null) => return Ok(None),
            Some(status) => status
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| format!("status {status} is not an HTTP status"))?,
        };
        let headers = match line.get("response_headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(name, _)| !NOT_REPLAYED.contains(&name.to_ascii_lowercase().as_str()))
                .map(|(name, value)| match value {
                    Value::String(v) if !v.contains(['\r', '\n']) => Ok((name.to_ascii_lowercase(), v.clone())),
                    _ => Err(format!("response header {name:?} is not a one-line string")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("\"response_headers\" is not an object".into()),
        };
        let chunks = match line.get("chunks") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(chunks)) => chunks
                .iter()
                .map(|chunk| match chunk.as_array().map(Vec::as_slice) {
                    Some([Value::Number(ms), Value::String(text)]) => {
                        Ok((ms.as_f64().unwrap_or(0.0).max(0.0), text.clone()))
                    }
                    _ => Err(format!("chunk {chunk} is not [ms, text]")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("\"chunks\" is not a list".into()),
        };
        let end = match line.get("end").and_then(Value::as_str) {
            None | Some("complete") => End::Complete,
            Some("cut") => End::Cut,
            Some("closed") => End::Closed,
            Some(other) => return Err(format!("end {other:?} is not complete, cut or closed")),
        };
        let query = match line.get("query") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(q)) => q.clone(),
            Some(_) => return Err("\"query\" is not a string".into()),
        };
        Ok(Some(Recorded {
            method: text("method")?.to_ascii_uppercase(),
            path: text("path")?,
            query,
            request: line.get("request").cloned().unwrap_or(Value::Null),
            status,
            headers,
            chunks,
            end,
        }))
    }
}

/// The request body as a cassette records it: JSON as its value, an upload as its text fields
/// with `file: {name, size}`, other text as a string, nothing as `null`.
fn request_of(request: &Request) -> Value {
    if request.body_len == 0 {
        return Value::Null;
    }
    let content_type = request.header("content-type").unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        if let Some(upload) = upload_of(request, content_type) {
            return upload;
        }
    }
    serde_json::from_slice(&request.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
}

/// A multipart body's text fields, and its file part as `{name, size}`. The body may be only a
/// prefix of a large upload: the file's size then comes from the whole length, the file being
/// the last part.
fn upload_of(request: &Request, content_type: &str) -> Option<Value> {
    let boundary = content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"');
    let delimiter = format!("\r\n--{boundary}");
    let body = &request.body;
    // The first delimiter has no CR LF before it.
    let mut start = find(body, &delimiter.as_bytes()[2..])? + delimiter.len() - 2;
    let mut fields = serde_json::Map::new();
    loop {
        if body[start..].starts_with(b"--") {
            return Some(Value::Object(fields));
        }
        let head_end = find(&body[start..], b"\r\n\r\n")? + start;
        let head = String::from_utf8_lossy(&body[start..head_end]).into_owned();
        let content = head_end + 4;
        let disposition = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?.to_string();
        let attribute = |key: &str| {
            disposition
                .split(';')
                .find_map(|a| a.trim().strip_prefix(&format!("{key}=")).map(|v| v.trim_matches('"').to_string()))
        };
        let name = attribute("name")?;
        let (end, next) = match find(&body[content..], delimiter.as_bytes()) {
            Some(at) => (content + at, content + at + delimiter.len()),
            // A prefix of a large upload: the file runs to the closing delimiter.
            None => {
                let whole = request.body_len.checked_sub(delimiter.len() + "--\r\n".len())?;
                (whole, usize::MAX)
            }
        };
        match attribute("filename") {
            Some(file) => {
                fields.insert(name, json!({ "name": file, "size": end - content }));
            }
            None => {
                let value = String::from_utf8_lossy(body.get(content..end)?).into_owned();
                fields.insert(name, Value::String(value));
            }
        }
        if next == usize::MAX {
            return Some(Value::Object(fields));
        }
        start = next;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request body as quoted in the error of an unmatched request: its first bytes.
fn quoted(body: &Value) -> String {
    let text = match body {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut end = text.len().min(QUOTED_BODY);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let more = if end < text.len() { "…" } else { "" };
    format!(" {}{more}", &text[..end])
}

/// What became of a replayed request.
pub(crate) enum Replayed {
    /// The recorded response was sent; `true` when the connection may serve another request.
    Sent(bool),
    /// The client went away mid-body.
    ClientGone,
    /// No recorded exchange matched (a 404 was sent).
    Unmatched,
}

/// Answers `request` from the cassette.
pub(crate) async fn replay(
    cassette: &Cassette,
    request: &Request,
    path: &str,
    query: &str,
    writer: &mut impl Sink,
) -> std::io::Result<Replayed> {
    let body = request_of(request);
    let method = request.method.to_ascii_uppercase();
    let Some(recorded) = cassette.take(&method, path, query, &body) else {
        let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
        let message = format!("no recorded exchange for {method} {target}{}", quoted(&body));
        let headers = [("content-type", "application/json".to_string())];
        writer.respond(404, &headers, json!({ "error": message }).to_string().as_bytes()).await?;
        return Ok(Replayed::Unmatched);
    };
    let headers: Vec<(&str, String)> = recorded.headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    if recorded.chunks.is_empty() && recorded.end == End::Complete {
        writer.respond(recorded.status, &headers, b"").await?;
        return Ok(Replayed::Sent(true));
    }
    writer.head(recorded.status, &headers, None);
    let sent = match send_chunks(cassette, recorded, writer).await {
        Ok(sent) => sent,
        Err(_) => return Ok(Replayed::ClientGone),
    };
    Ok(Replayed::Sent(sent))
}

/// The recorded body at its recorded pace; `Ok(false)` when the connection ends with it.
async fn send_chunks(cassette: &Cassette, recorded: &Recorded, writer: &mut impl Sink) -> std::io::Result<bool> {
    writer.flush().await?;
    let started = Instant::now();
    for (ms, text) in &recorded.chunks {
        if cassette.speed > 0.0 {
            let due = Duration::from_secs_f64(ms / 1000.0 / cassette.speed);
            if let Some(wait) = due.checked_sub(started.elapsed()).filter(|w| !w.is_zero()) {
                writer.pause(wait).await?;
            }
        }
        writer.chunk(text.as_bytes());
        writer.flush().await?;
    }
    match recorded.end {
        End::Complete => {
            writer.last_chunk();
            writer.flush().await?;
            Ok(true)
        }
        End::Cut => Ok(false),
        End::Closed => {
            writer.pause(MAX_HOLD).await?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Cassette, String> {
        let dir = std::env::temp_dir().join(format!("mixerlead-cassette-{}-{}", std::process::id(), text.len()));
        std::fs::write(&dir, text).unwrap();
        let loaded = Cassette::load(&dir, 1.0);
        let _ = std::fs::remove_file(&dir);
        loaded
    }

    #[test]
    fn bad_cassettes_name_the_line() {
        let first = "{\"mixerlead_cassette\": 1}\n";
        assert!(load("").err().unwrap().contains("empty"));
        assert!(load("{\"mixerlead_cassette\": 2}\n").err().unwrap().contains("line 1: cassette version 2"));
        assert!(load("{\"method\":\"GET\"}\n").err().unwrap().contains("line 1: not a mixerlead cassette"));
        assert!(load(&format!("{first}not json\n")).err().unwrap().contains("line 2: not JSON"));
        let cut = format!("{first}{{\"method\":\"GET\",\"path\":\"/ai/models\",\"status\":200,\"chu");
        assert!(load(&cut).err().unwrap().contains("line 2: the line is cut short"));
        let bad_chunk = format!("{first}{{\"method\":\"GET\",\"path\":\"/x\",\"status\":200,\"chunks\":[[1]]}}\n");
        assert!(load(&bad_chunk).err().unwrap().contains("line 2: chunk [1]"));
        let ok = format!(
            "{first}{{\"method\":\"GET\",\"path\":\"/x\",\"status\":null}}\n{first}\n{{\"method\":\"GET\",\"path\":\"/x\",\"status\":200}}"
        );
        assert_eq!(load(&ok).unwrap().len(), 1, "failed attempts and repeated version lines are skipped");
    }

    #[test]
    fn uploads_as_fields_and_file_size() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nMy notes\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--b--\r\n";
        let request = Request {
            method: "POST".into(),
            target: "/api/knowledge".into(),
            headers: vec![("content-type".into(), "multipart/form-data; boundary=b".into())],
            body: body.to_vec(),
            body_len: body.len(),
        };
        assert_eq!(request_of(&request), json!({"name": "My notes", "file": {"name": "n.txt", "size": 5}}));
        let cut = Request { body: body[..body.len() - 12].to_vec(), ..request };
        assert_eq!(request_of(&cut), json!({"name": "My notes", "file": {"name": "n.txt", "size": 5}}));
    }
}
