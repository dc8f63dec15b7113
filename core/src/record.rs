//! Recording exchanges into a cassette (the `record` option; the format: docs/cassettes.md): one JSON line per
//! exchange — every attempt of every call — with the body as it was received, chunk by chunk,
//! and each chunk's time since the response headers. The emulator replays such a file.
//!
//! One writer per file per process; each line goes out in one `write()` on a file opened with
//! `O_APPEND`, so several processes may record into one file and every line stays whole.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use reqwest::header::{HeaderMap, AUTHORIZATION};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::transport::Body;

/// The version of the cassette format, named by a cassette's first line:
/// `{"mixerlead_cassette": 1}`.
pub const CASSETTE_VERSION: u64 = 1;

/// Environment variable naming the cassette to record into when the `record` option is unset.
pub const ENV_RECORD: &str = "MIXERLEAD_RECORD";

/// One cassette file of this process, shared by every client recording into it.
struct CassetteFile {
    path: String,
    file: Mutex<File>,
}

/// Where a client records its exchanges; `secret` (the API key) is scrubbed from every line.
#[derive(Clone)]
pub(crate) struct Recorder {
    file: Arc<CassetteFile>,
    secret: String,
}

impl Recorder {
    /// Opens `path` for appending (creating it with the version line) for a client whose key is
    /// `secret`; a path that cannot be opened, or a file that is not a cassette, is a
    /// configuration error naming the `record` option.
    pub(crate) fn open(path: &str, secret: &str) -> Result<Recorder> {
        let fail = |why: String| Error::config(format!("record: cannot record into {path:?}: {why}"));
        let file = open_shared(path).map_err(fail)?;
        Ok(Recorder { file, secret: secret.to_string() })
    }

    /// The cassette's path, as the option gave it.
    pub(crate) fn path(&self) -> &str {
        &self.file.path
    }

    /// Starts recording one attempt: what was sent. The response (or the failure to get one)
    /// completes it; dropping it unfinished writes what it has.
    pub(crate) fn exchange(&self, method: &str, path: &str, request: &reqwest::Request, body: &Body) -> Exchange {
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path.to_string(), Some(query.to_string())),
            None => (path.to_string(), None),
        };
        let mut request_headers = headers_of(request.headers());
        request_headers.retain(|name, _| name != AUTHORIZATION.as_str());
        Exchange {
            recorder: self.clone(),
            line: Line {
                method: method.to_string(),
                path,
                query,
                request: request_of(body),
                request_headers,
                status: None,
                response_headers: serde_json::Map::new(),
                chunks: Vec::new(),
                end: "",
                error: None,
            },
            headers_at: Instant::now(),
            partial: Vec::new(),
            written: false,
        }
    }

    /// Appends one line in a single `write()` (the file is in append mode): whole lines from
    /// any number of threads and processes.
    fn append(&self, line: &Line) {
        let Ok(mut text) = serde_json::to_string(line) else { return };
        if self.secret.len() >= 4 && text.contains(&self.secret) {
            text = text.replace(&self.secret, &crate::config::redact_key(&self.secret));
        }
        text.push('\n');
        let mut file = self.file.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = write_once(&mut file, text.as_bytes());
    }
}

/// Writes `bytes` with one `write()` when the system takes it whole (it does for regular files),
/// going on with the rest otherwise.
fn write_once(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    let written = file.write(bytes)?;
    if written < bytes.len() {
        file.write_all(&bytes[written..])?;
    }
    file.flush()
}

/// The process's one writer of `path`: opened for append now, or the one already open.
fn open_shared(path: &str) -> std::result::Result<Arc<CassetteFile>, String> {
    static OPEN: Mutex<Option<HashMap<PathBuf, Weak<CassetteFile>>>> = Mutex::new(None);
    if path.trim().is_empty() {
        return Err("the path is empty".into());
    }
    let mut file = OpenOptions::new().append(true).create(true).open(path).map_err(|e| e.to_string())?;
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    let open = open.get_or_insert_with(HashMap::new);
    open.retain(|_, file| file.strong_count() > 0);
    if let Some(shared) = open.get(&key).and_then(Weak::upgrade) {
        return Ok(shared);
    }
    let length = file.metadata().map_err(|e| e.to_string())?.len();
    if length == 0 {
        let first = format!("{{\"mixerlead_cassette\": {CASSETTE_VERSION}}}\n");
        write_once(&mut file, first.as_bytes()).map_err(|e| e.to_string())?;
    } else {
        check_first_line(path)?;
    }
    let shared = Arc::new(CassetteFile { path: path.to_string(), file: Mutex::new(file) });
    open.insert(key, Arc::downgrade(&shared));
    Ok(shared)
}

/// A file already there must be a cassette of this version: appending to anything else would
/// spoil it.
fn check_first_line(path: &str) -> std::result::Result<(), String> {
    let mut first = String::new();
    let reader = File::open(path).map_err(|e| e.to_string())?;
    BufReader::new(reader).take(4096).read_line(&mut first).map_err(|e| e.to_string())?;
    let version = serde_json::from_str::<Value>(first.trim()).ok().and_then(|v| v.get("mixerlead_cassette")?.as_u64());
    match version {
        Some(CASSETTE_VERSION) => Ok(()),
        Some(other) => {
            Err(format!("it is a cassette of version {other}; this client writes version {CASSETTE_VERSION}"))
        }
        None => {
            Err("the file exists and is not a mixerlead cassette (its first line is not {\"mixerlead_cassette\": 1})"
                .into())
        }
    }
}

/// One line of a cassette.
#[derive(Serialize)]
struct Line {
    method: String,
    /// Relative to the base URL (`/chat`), without the query.
    path: String,
    /// The query string, without `?`; `null` when there is none.
    query: Option<String>,
    /// The JSON body; an upload as its fields with `file: {name, size}`; `null` without a body.
    request: Value,
    request_headers: serde_json::Map<String, Value>,
    /// `null` when no response came (a connection failure, a timeout before the headers).
    status: Option<u16>,
    response_headers: serde_json::Map<String, Value>,
    /// `[ms since the headers, text]` per network read.
    chunks: Vec<(f64, String)>,
    /// `complete` (the body's end was read), `cut` (the connection failed mid-body),
    /// `closed` (the client stopped reading first), `failed` (no response).
    end: &'static str,
    /// Why the attempt failed or was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One attempt being recorded; written when it ends (or when dropped).
pub(crate) struct Exchange {
    recorder: Recorder,
    line: Line,
    headers_at: Instant,
    /// The start of a UTF-8 character whose end is in the next read.
    partial: Vec<u8>,
    written: bool,
}

impl Exchange {
    /// The response's status and headers arrived.
    pub(crate) fn response(&mut self, status: u16, headers: &HeaderMap) {
        self.line.status = Some(status);
        self.line.response_headers = headers_of(headers);
        self.headers_at = Instant::now();
    }

    /// One network read of the body. Text goes in whole UTF-8 characters: a character split
    /// across reads is kept for the next one; an invalid byte becomes U+FFFD.
    pub(crate) fn chunk(&mut self, bytes: &[u8]) {
        let at = (self.headers_at.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(bytes);
        let keep = incomplete_tail(&data);
        self.partial = data.split_off(data.len() - keep);
        if !data.is_empty() {
            self.line.chunks.push((at, String::from_utf8_lossy(&data).into_owned()));
        }
    }

    /// The attempt is over: writes its line.
    pub(crate) fn finish(&mut self, end: &'static str, error: Option<String>) {
        if std::mem::replace(&mut self.written, true) {
            return;
        }
        if !self.partial.is_empty() {
            let at = (self.headers_at.elapsed().as_secs_f64() * 1e6).round() / 1e3;
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            self.line.chunks.push((at, rest));
        }
        self.line.end = end;
        self.line.error = error;
        self.recorder.append(&self.line);
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let end = if self.line.status.is_some() { "closed" } else { "failed" };
        self.finish(end, None);
    }
}

/// How many bytes at the end of `data` begin a UTF-8 character that is not complete yet.
fn incomplete_tail(data: &[u8]) -> usize {
    for back in 1..=3.min(data.len()) {
        let byte = data[data.len() - back];
        if byte & 0xC0 != 0x80 {
            let needed = match byte {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => return 0,
            };
            return if needed > back { back } else { 0 };
        }
    }
    0
}

/// Headers as a JSON object of lower-case names; a repeated header's values joined by `, `.
fn headers_of(headers: &HeaderMap) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for name in headers.keys() {
        let values: Vec<String> =
            headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        out.insert(name.as_str().to_string(), Value::String(values.join(", ")));
    }
    out
}

/// The request body as a cassette holds it.
fn request_of(body: &Body) -> Value {
    match body {
        Body::None => Value::Null,
        Body::Json(bytes) => {
            serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        }
        Body::Upload(upload) => {
            let mut fields = serde_json::Map::new();
            for (name, value) in &upload.fields {
                fields.insert(name.to_string(), Value::String(value.clone()));
            }
            let (name, size) = upload.file_name_and_size();
            fields.insert("file".into(), serde_json::json!({ "name": name, "size": size }));
            Value::Object(fields)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_characters_wait_for_their_end() {
        assert_eq!(incomplete_tail(b"abc"), 0);
        assert_eq!(incomplete_tail("é".as_bytes()), 0);
        assert_eq!(incomplete_tail(&"é".as_bytes()[..1]), 1);
        assert_eq!(incomplete_tail(&"€".as_bytes()[..2]), 2);
        assert_eq!(incomplete_tail(&"😀".as_bytes()[..3]), 3);
        assert_eq!(incomplete_tail(b"a\xff"), 0);
    }
}
