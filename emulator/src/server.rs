//! Connections, routing, and the chat reply with its scripted faults.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::http::{read_request, Http1, ReadError, Request, Writer};
use crate::reply::{self, Framing};
use crate::sink::Sink;
use crate::{Format, Scenario, State};

/// The models the emulated service offers; `ml-pro` needs a paid plan.
const MODELS: &[(&str, &str, &str, bool)] = &[
    ("ml-auto", "Auto", "Automatic model selection", false),
    ("ml-fast", "Fast", "Quick everyday answers", false),
    ("ml-writer", "Writer", "Long-form writing", false),
    ("ml-pro", "Pro", "Deep reasoning", true),
];

/// Bytes buffered before a write when pieces have no delay between them.
const FLUSH_AT: usize = 16 * 1024;
/// Longest a scripted stall holds the connection open.
const MAX_STALL: Duration = Duration::from_secs(120);

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

pub(crate) async fn serve(listener: TcpListener, state: Arc<State>, tls: Option<TlsAcceptor>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = socket.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        match tls.clone() {
            None => {
                let (read, write) = socket.into_split();
                tokio::spawn(connection(Box::new(read), Box::new(write), state));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                        crate::http2::serve(stream, state).await;
                    } else {
                        let (read, write) = tokio::io::split(stream);
                        connection(Box::new(read), Box::new(write), state).await;
                    }
                });
            }
        }
    }
}

async fn connection(
    read: Box<dyn AsyncRead + Send + Unpin>,
    write: Box<dyn AsyncWrite + Send + Unpin>,
    state: Arc<State>,
) {
    let mut http1 = Http1 { reader: BufReader::new(read), writer: Writer::new(write) };
    loop {
        let request = match read_request(&mut http1.reader).await {
            Ok(request) => request,
            Err(ReadError::Closed) => return,
            Err(ReadError::Malformed) => {
                let _ = http1.respond(400, &json_type(), error_json("malformed HTTP request").as_bytes()).await;
                return;
            }
            Err(ReadError::TooLarge) => {
                let _ = too_large(&mut http1).await;
                return;
            }
        };
        let keep_alive = !request.wants_close();
        match handle(&state, request, &mut http1).await {
            Ok(true) if keep_alive => {}
            _ => return,
        }
    }
}

/// The answer to a request whose body is over the limit.
pub(crate) async fn too_large(sink: &mut impl Sink) -> std::io::Result<()> {
    let body = error_json("request body too large (limit 1 MiB)");
    sink.respond(413, &json_type(), body.as_bytes()).await
}

fn json_type() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json".to_string())]
}

fn error_json(message: &str) -> String {
    json!({ "error": message }).to_string()
}

/// Splits `/s/<script>/api/chat?q` into the script and the API path (`/chat`).
fn split_target(target: &str) -> (Option<&str>, &str, &str) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (script, path) = match path.strip_prefix("/s/") {
        Some(rest) => match rest.split_once('/') {
            Some((script, rest)) => (Some(script), &path[path.len() - rest.len() - 1..]),
            None => (Some(rest), ""),
        },
        None => (None, path),
    };
    let path = match path.strip_prefix("/api") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    (script, path, query)
}

/// Handles one request; `Ok(true)` when the response is complete and the connection may serve
/// another, `Ok(false)` when the scenario cut it short (or the client went away).
pub(crate) async fn handle(state: &State, request: Request, writer: &mut impl Sink) -> std::io::Result<bool> {
    let request_id = format!("req_{}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
    let mut headers = json_type();
    headers.push(("x-request-id", request_id));
    headers.push(("x-emulator-protocol", writer.protocol().to_string()));
    let (script, path, query) = split_target(&request.target);

    if path == "/_emulator/stats" {
        let id = query.split('&').find_map(|kv| kv.strip_prefix("id=")).unwrap_or("");
        let stats = state.stats_of(id);
        writer.respond(200, &headers, stats.to_json().to_string().as_bytes()).await?;
        return Ok(true);
    }
    let scenario = match Scenario::parse(script.unwrap_or("")) {
        Ok(s) => s,
        Err(message) => {
            writer.respond(400, &headers, error_json(&format!("bad scenario: {message}")).as_bytes()).await?;
            return Ok(true);
        }
    };
    let attempt = record_request(state, &scenario.id, &request);
    if let Some(cassette) = &state.cassette {
        return replay(state, cassette, &scenario.id, &request, path, query, writer).await;
    }
    let faulty = scenario.applies_to(attempt);
    if scenario.drop && faulty {
        return Ok(false);
    }
    if let Some(remaining) = scenario.redirect.filter(|n| *n > 0) {
        let script = script.unwrap_or("");
        let mut next = script.replace(&format!("redirect={remaining}"), &format!("redirect={}", remaining - 1));
        if !scenario.named {
            // The next hop's script differs (one redirect fewer): it names this one's id, so
            // that every hop counts under the script the client was given.
            next = format!("id={};{next}", crate::scenario::percent_encode(&scenario.id));
        }
        let host = request.header("host").unwrap_or("127.0.0.1");
        let host = match &scenario.redirect_host {
            Some(other) => format!("{other}:{}", host.rsplit(':').next().unwrap_or("80")),
            None => host.to_string(),
        };
        let own_scheme = if state.config.tls { "https" } else { "http" };
        let scheme = scenario.redirect_scheme.as_deref().unwrap_or(own_scheme);
        headers.push(("location", format!("{scheme}://{host}/s/{next}/api{path}")));
        writer.respond(307, &headers, error_json("moved").as_bytes()).await?;
        return Ok(true);
    }
    if let Some(delay) = scenario.header_delay.filter(|_| faulty) {
        tokio::time::sleep(delay).await;
    }
    let key = request.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("").trim();
    if let Some((status, message)) = check_key(key) {
        writer.respond(status, &headers, error_json(message).as_bytes()).await?;
        return Ok(true);
    }
    if let Some(wait) = rate_limited(state, key, scenario.rate_limit.or(state.config.rate_limit)) {
        headers.push(("retry-after", wait.to_string()));
        writer.respond(429, &headers, error_json("rate limited: too many requests for this key").as_bytes()).await?;
        return Ok(true);
    }
    if let Some(status) = scenario.fail.filter(|_| faulty) {
        return scripted_failure(&scenario, status, headers, writer).await;
    }
    if let Some((status, body)) = state.workspaces.handle(state.config.limits(), key, &request, path) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        respond(writer, &scenario, status, &headers, body.as_bytes()).await?;
        return Ok(true);
    }
    match (request.method.as_str(), path) {
        ("GET", "/ai/models") => {
            let models: Vec<Value> = MODELS
                .iter()
                .map(|(id, name, task, paid)| json!({"id": id, "name": name, "task": task, "requiresPaid": paid}))
                .collect();
            respond(writer, &scenario, 200, &headers, json!({ "models": models }).to_string().as_bytes()).await?;
            Ok(true)
        }
        ("POST", "/chat") => chat(state, &scenario, key, &request, headers, writer).await,
        (_, "/ai/models" | "/chat") => {
            writer.respond(405, &headers, error_json("method not allowed").as_bytes()).await?;
            Ok(true)
        }
        _ => {
            writer.respond(404, &headers, error_json(&format!("no such endpoint: {path}")).as_bytes()).await?;
            Ok(true)
        }
    }
}

/// Answers from the cassette, and counts what became of the request.
async fn replay(
    state: &State,
    cassette: &crate::cassette::Cassette,
    id: &str,
    request: &Request,
    path: &str,
    query: &str,
    writer: &mut impl Sink,
) -> std::io::Result<bool> {
    use crate::cassette::Replayed;
    let replayed = crate::cassette::replay(cassette, request, path, query, writer).await?;
    let now = state.now();
    state.with_stats(id, |stats| match replayed {
        Replayed::Unmatched => stats.unmatched += 1,
        Replayed::Sent(_) => stats.replayed += 1,
        Replayed::ClientGone => {
            stats.replayed += 1;
            stats.client_disconnects += 1;
            stats.disconnect_times.push(now);
        }
    });
    Ok(matches!(replayed, Replayed::Sent(true) | Replayed::Unmatched))
}

/// Counts the request under its scenario id; returns its 0-based attempt number.
fn record_request(state: &State, id: &str, request: &Request) -> u64 {
    let now = state.now();
    state.with_stats(id, |stats| {
        stats.requests += 1;
        stats.request_times.push(now);
        stats.last_path = request.target.clone();
        stats.last_body = String::from_utf8_lossy(&request.body).into_owned();
        stats.last_headers = request.headers.iter().filter(|(n, _)| n != "authorization").cloned().collect();
        stats.last_authorized = request.header("authorization").is_some();
        stats.requests - 1
    })
}

/// 401 for a missing, malformed or revoked key.
fn check_key(key: &str) -> Option<(u16, &'static str)> {
    if key.is_empty() {
        Some((401, "missing API key: send Authorization: Bearer <key>"))
    } else if !key.starts_with("ml_") {
        Some((401, "malformed API key"))
    } else if key.contains("revoked") {
        Some((401, "API key revoked"))
    } else {
        None
    }
}

/// Seconds to wait when `key` is over `limit` requests in its current one-second window.
fn rate_limited(state: &State, key: &str, limit: Option<u32>) -> Option<u64> {
    let limit = limit?;
    let mut windows = state.rate_windows.lock().unwrap();
    let now = Instant::now();
    let window = windows.entry(key.to_string()).or_insert((now, 0));
    if now.duration_since(window.0) >= Duration::from_secs(1) {
        *window = (now, 0);
    }
    window.1 += 1;
    (window.1 > limit).then_some(1)
}

async fn scripted_failure(
    scenario: &Scenario,
    status: u16,
    mut headers: Vec<(&'static str, String)>,
    writer: &mut impl Sink,
) -> std::io::Result<bool> {
    if let Some(value) = &scenario.retry_after {
        headers.push(("retry-after", value.clone()));
    }
    if let Some(value) = &scenario.retry_after_ms {
        headers.push(("retry-after-ms", value.clone()));
    }
    let body = match scenario.error_body.as_deref() {
        Some("text") => {
            headers[0].1 = "text/plain".to_string();
            format!("upstream failure {status} (plain text)")
        }
        Some("empty") => String::new(),
        _ => error_json(scenario.error_text.as_deref().unwrap_or(&format!("scripted failure {status}"))),
    };
    respond(writer, scenario, status, &headers, body.as_bytes()).await?;
    Ok(true)
}

/// A non-streamed response, dripped a byte at a time when the scenario asks for it.
async fn respond(
    writer: &mut impl Sink,
    scenario: &Scenario,
    status: u16,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    match scenario.drip {
        Some(gap) => writer.respond_dripping(status, headers, body, gap).await,
        None => writer.respond(status, headers, body).await,
    }
}

/// Checks the chat request; on success returns (message, conversation id, turn).
fn accept_chat(state: &State, key: &str, body: &[u8]) -> Result<(String, String, usize), (u16, String)> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err((400, "the body must be a JSON object".into()));
    };
    let message = match body.get("message") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        _ => return Err((400, "message is required".into())),
    };
    if let Some(model) = body.get("model").filter(|m| !m.is_null()) {
        let Some(model) = model.as_str() else {
            return Err((400, "model must be a string".into()));
        };
        let Some(&(_, _, _, paid)) = MODELS.iter().find(|(id, ..)| *id == model) else {
            return Err((404, format!("unknown model '{model}'")));
        };
        if paid && !key.contains("_paid") {
            return Err((403, format!("model '{model}' requires a paid plan")));
        }
    }
    if key.contains("nocredit") {
        return Err((403, "out of credits: add credits to continue".into()));
    }
    let mut conversations = state.conversations.lock().unwrap();
    match body.get("conversationId").and_then(Value::as_str) {
        Some(id) => match conversations.get_mut(id) {
            Some(turns) => {
                *turns += 1;
                Ok((message, id.to_string(), *turns))
            }
            None => Err((404, format!("conversation '{id}' not found"))),
        },
        None => {
            let mut next = state.next_conversation.lock().unwrap();
            *next += 1;
            let id = format!("conv_{next}");
            conversations.insert(id.clone(), 1);
            Ok((message, id, 1))
        }
    }
}

/// How a reply ended.
enum Ending {
    Completed,
    /// The scenario cut the connection.
    Cut,
}

async fn chat(
    state: &State,
    scenario: &Scenario,
    key: &str,
    request: &Request,
    mut headers: Vec<(&'static str, String)>,
    writer: &mut impl Sink,
) -> std::io::Result<bool> {
    let (message, conversation, turn) = match accept_chat(state, key, &request.body) {
        Ok(accepted) => accepted,
        Err((status, message)) => {
            writer.respond(status, &headers, error_json(&message).as_bytes()).await?;
            return Ok(true);
        }
    };
    let format = scenario.format.unwrap_or(state.config.format);
    let delay = scenario.delay.unwrap_or(state.config.token_delay);
    let pieces = match scenario.pieces {
        // Sent from the pre-rendered cache: no need to build a million strings per request.
        Some(_) if prerenderable(scenario, format, delay) => Vec::new(),
        Some(n) => reply::generated_pieces(n),
        None if scenario.split_utf8 => reply::multibyte_pieces(),
        None => {
            let mut pieces = reply::pieces_for(&message, turn, &conversation);
            let grounding = state.workspaces.grounding(key, request.header("x-project-id"));
            if !grounding.is_empty() {
                pieces.push(format!(" Grounded on: {}.", grounding.join(", ")));
            }
            pieces
        }
    };
    let conv_in = scenario.conv_in.as_deref().unwrap_or("header");
    headers.retain(|(name, _)| *name != "content-type");
    if let Some(content_type) = format.content_type() {
        headers.push(("content-type", content_type.to_string()));
    }
    headers.push(("cache-control", "no-cache".to_string()));
    if conv_in == "header" {
        headers.push(("x-conversation-id", conversation.clone()));
    }
    writer.head(200, &headers, None);
    state.with_stats(&scenario.id, |s| s.streams_started += 1);

    let in_payload = (conv_in == "payload").then_some(conversation.as_str());
    let outcome = match writer.flush().await {
        Ok(()) => write_reply(writer, scenario, format, &pieces, in_payload, delay).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(Ending::Completed) => {
            state.with_stats(&scenario.id, |s| s.streams_completed += 1);
            Ok(true)
        }
        Ok(Ending::Cut) => Ok(false),
        Err(_) => {
            let now = state.now();
            state.with_stats(&scenario.id, |s| {
                s.client_disconnects += 1;
                s.disconnect_times.push(now);
            });
            Ok(false)
        }
    }
}

/// The chat reply's body with its scripted faults. Every wait is a [`Sink::pause`] and every
/// write a [`Sink::flush`], both of which fail as soon as the client goes away.
async fn write_reply(
    writer: &mut impl Sink,
    scenario: &Scenario,
    format: Format,
    pieces: &[String],
    conversation_in_payload: Option<&str>,
    delay: Duration,
) -> std::io::Result<Ending> {
    let framing = Framing { format, crlf: scenario.crlf };
    let send = |writer: &mut _, bytes: &str| Sink::chunk(writer, bytes.as_bytes());
    send(writer, &framing.preamble(conversation_in_payload));
    if scenario.malformed {
        send(writer, &framing.malformed());
        if format == Format::Json {
            writer.last_chunk();
            writer.flush().await?;
            return Ok(Ending::Completed);
        }
    }
    if format == Format::Json {
        let body = framing.json_body(&pieces.concat(), conversation_in_payload);
        return write_json_body(writer, scenario, &framing, &body).await;
    }
    if let Some(body) = prerendered(scenario, &framing, delay) {
        for part in body.chunks(RENDERED_CHUNK) {
            writer.chunk(part);
            writer.flush().await?;
        }
        writer.last_chunk();
        writer.flush().await?;
        return Ok(Ending::Completed);
    }
    for (i, piece) in pieces.iter().enumerate() {
        if scenario.disconnect_after == Some(i) {
            writer.flush().await?;
            return Ok(Ending::Cut);
        }
        if scenario.stall_after == Some(i) {
            writer.flush().await?;
            writer.pause(MAX_STALL).await?;
            return Ok(Ending::Cut);
        }
        if scenario.error_after == Some(i) {
            send(writer, &framing.error("scripted in-band error"));
            writer.last_chunk();
            writer.flush().await?;
            return Ok(Ending::Completed);
        }
        let framed = framing.piece(piece);
        if scenario.split_utf8 {
            for byte in framed.as_bytes() {
                writer.chunk(std::slice::from_ref(byte));
                writer.flush().await?;
                writer.pause(Duration::from_millis(1)).await?;
            }
        } else {
            send(writer, &framed);
        }
        if !delay.is_zero() {
            writer.flush().await?;
            writer.pause(delay).await?;
        } else if writer.buffered() >= FLUSH_AT {
            writer.flush().await?;
        }
    }
    if scenario.oversize {
        send(writer, &framing.oversize());
    }
    send(writer, &framing.end());
    writer.last_chunk();
    writer.flush().await?;
    Ok(Ending::Completed)
}

/// Bytes of one write when sending a pre-rendered body.
const RENDERED_CHUNK: usize = 64 * 1024;

type RenderKey = (Format, bool, usize);

/// Generated replies (`pieces=N`) without faults or delays, framed once and reused, so that the
/// emulator is not what limits a benchmark. The body after the preamble, up to its end marker.
fn prerendered(scenario: &Scenario, framing: &Framing, delay: Duration) -> Option<Arc<Vec<u8>>> {
    static CACHE: Mutex<Vec<(RenderKey, Arc<Vec<u8>>)>> = Mutex::new(Vec::new());
    if !prerenderable(scenario, framing.format, delay) {
        return None;
    }
    let count = scenario.pieces?;
    let key = (framing.format, framing.crlf, count);
    let mut cache = CACHE.lock().unwrap();
    if let Some((_, body)) = cache.iter().find(|(k, _)| *k == key) {
        return Some(body.clone());
    }
    let mut body = Vec::new();
    for piece in reply::generated_pieces(count) {
        body.extend_from_slice(framing.piece(&piece).as_bytes());
    }
    body.extend_from_slice(framing.end().as_bytes());
    let body = Arc::new(body);
    if cache.len() >= 16 {
        cache.remove(0);
    }
    cache.push((key, body.clone()));
    Some(body)
}

fn prerenderable(scenario: &Scenario, format: Format, delay: Duration) -> bool {
    let faulty = scenario.disconnect_after.is_some()
        || scenario.stall_after.is_some()
        || scenario.error_after.is_some()
        || scenario.split_utf8
        || scenario.oversize
        || scenario.malformed;
    scenario.pieces.is_some() && format != Format::Json && !faulty && delay.is_zero()
}

/// The `json` format's single body, with its faults: cut or stalled halfway, or an error.
async fn write_json_body(
    writer: &mut impl Sink,
    scenario: &Scenario,
    framing: &Framing,
    body: &str,
) -> std::io::Result<Ending> {
    if scenario.error_after.is_some() {
        writer.chunk(framing.error("scripted in-band error").as_bytes());
    } else if scenario.oversize {
        writer.chunk(framing.oversize().as_bytes());
    } else if scenario.disconnect_after.is_some() || scenario.stall_after.is_some() {
        writer.chunk(&body.as_bytes()[..body.len() / 2]);
        writer.flush().await?;
        if scenario.stall_after.is_some() {
            writer.pause(MAX_STALL).await?;
        }
        return Ok(Ending::Cut);
    } else {
        writer.chunk(body.as_bytes());
    }
    writer.last_chunk();
    writer.flush().await?;
    Ok(Ending::Completed)
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn targets() {
        assert_eq!(split_target("/api/chat"), (None, "/chat", ""));
        assert_eq!(split_target("/chat"), (None, "/chat", ""));
        assert_eq!(split_target("/s/id=a;fail=1/api/ai/models?x=1"), (Some("id=a;fail=1"), "/ai/models", "x=1"));
        assert_eq!(split_target("/s/id=a/chat"), (Some("id=a"), "/chat", ""));
        assert_eq!(split_target("/api//chat"), (None, "//chat", ""));
        assert_eq!(split_target("/_emulator/stats?id=q"), (None, "/_emulator/stats", "id=q"));
    }
}
