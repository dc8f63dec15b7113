//! The rest of the Workspace API, in memory: knowledge sources (indexed after a delay, a URL
//! with `fail` in it ends in `error`), skills, agents (with a daily run quota) and artifacts.
//! Each workspace is one API key and project id (`X-Project-Id`), so tests stay apart.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::http::Request;

/// The fixed skills every workspace has.
const SKILLS: &[(&str, &str, &str, &str)] = &[
    ("summarize", "Summarize", "writing", "Summarizes a text in a few bullet points"),
    ("outline", "Outline", "writing", "Drafts an outline for a topic"),
    ("competitor-scan", "Competitor scan", "research", "Lists what is known about a competitor"),
];

const AGENT_TYPES: &[&str] = &["research", "strategy", "execution", "monitoring"];

/// How the workspace endpoints behave (set from [`crate::EmulatorConfig`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub index_delay: Duration,
    pub max_upload: usize,
    pub agent_runs_per_day: u32,
}

struct SourceRecord {
    id: String,
    kind: &'static str,
    origin: String,
    name: String,
    fails: bool,
    enabled: bool,
    created_at: u64,
    /// When the current indexing finishes.
    ready_at: Instant,
    chunks: u64,
}

impl SourceRecord {
    fn status(&self, now: Instant) -> &'static str {
        match (now >= self.ready_at, self.fails) {
            (false, _) => "indexing",
            (true, true) => "error",
            (true, false) => "indexed",
        }
    }

    fn to_json(&self, now: Instant) -> Value {
        let status = self.status(now);
        json!({
            "id": self.id,
            "type": self.kind,
            "name": self.name,
            "source_url_or_path": self.origin,
            "status": status,
            "chunk_count": if status == "indexed" { self.chunks } else { 0 },
            "enabled": u8::from(self.enabled),
            "created_at": self.created_at,
            "indexed_at": if status == "indexed" { Value::from(self.created_at) } else { Value::Null },
            "last_error": if status == "error" { Value::from(format!("could not fetch {}: host unreachable", self.origin)) } else { Value::Null },
        })
    }
}

#[derive(Default)]
struct Workspace {
    sources: Vec<SourceRecord>,
    agents: Vec<Value>,
    artifacts: Vec<Value>,
    runs_today: u32,
    next_id: u64,
}

impl Workspace {
    fn next(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{}", self.next_id)
    }
}

/// Every workspace of the emulator.
#[derive(Default)]
pub(crate) struct Workspaces {
    all: Mutex<HashMap<String, Workspace>>,
}

/// A response: status and JSON body (`None`: empty).
pub(crate) type Reply = (u16, Option<Value>);

fn error(status: u16, message: impl Into<String>) -> Reply {
    (status, Some(json!({ "error": message.into() })))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Workspaces {
    /// Handles a workspace endpoint; `None` when `path` is not one.
    pub(crate) fn handle(&self, limits: Limits, key: &str, request: &Request, path: &str) -> Option<Reply> {
        let workspace_key = format!("{key}\n{}", request.header("x-project-id").unwrap_or(""));
        let mut all = self.all.lock().unwrap();
        let ws = all.entry(workspace_key).or_default();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let method = request.method.as_str();
        let reply = match (method, segments.as_slice()) {
            ("POST", ["knowledge"]) => add_source(ws, limits, request),
            ("POST", ["knowledge", "crawl"]) => crawl(ws, limits, request),
            ("GET", ["knowledge"]) => {
                let now = Instant::now();
                (200, Some(json!({ "sources": ws.sources.iter().map(|s| s.to_json(now)).collect::<Vec<_>>() })))
            }
            ("PATCH", ["knowledge", id]) => match (ws.sources.iter_mut().find(|s| s.id == *id), json_body(request)) {
                (None, _) => error(404, format!("knowledge source '{id}' not found")),
                (_, None) => error(400, "the body must be a JSON object"),
                (Some(source), Some(body)) => match body.get("enabled").and_then(Value::as_bool) {
                    Some(enabled) => {
                        source.enabled = enabled;
                        (200, Some(source.to_json(Instant::now())))
                    }
                    None => error(400, "enabled (true or false) is required"),
                },
            },
            ("POST", ["knowledge", id, "reindex"]) => match ws.sources.iter_mut().find(|s| s.id == *id) {
                None => error(404, format!("knowledge source '{id}' not found")),
                Some(source) => {
                    source.ready_at = Instant::now() + limits.index_delay;
                    (200, Some(json!({ "id": source.id, "status": "indexing" })))
                }
            },
            ("DELETE", ["knowledge", id]) => match ws.sources.iter().position(|s| s.id == *id) {
                None => error(404, format!("knowledge source '{id}' not found")),
                Some(i) => {
                    ws.sources.remove(i);
                    (200, Some(json!({})))
                }
            },
            ("GET", ["skills"]) => {
                let skills: Vec<Value> = SKILLS
                    .iter()
                    .map(|(id, name, category, description)| {
                        json!({"id": id, "name": name, "category": category, "description": description})
                    })
                    .collect();
                (200, Some(json!({ "skills": skills })))
            }
            ("POST", ["skills", "exec"]) => run_skill(request),
            ("GET", ["agents"]) => (200, Some(json!({ "agents": ws.agents }))),
            ("POST", ["agents"]) => create_agent(ws, request),
            ("POST", ["agents", id, "run"]) => run_agent(ws, limits, id),
            ("GET", ["artifacts"]) => (200, Some(json!({ "artifacts": ws.artifacts }))),
            ("POST", ["artifacts"]) => match json_body(request) {
                Some(fields) if !fields.is_empty() => {
                    let mut artifact = fields;
                    artifact.insert("id".into(), ws.next("art").into());
                    artifact.insert("createdAt".into(), now_secs().into());
                    let artifact = Value::Object(artifact);
                    ws.artifacts.push(artifact.clone());
                    (201, Some(artifact))
                }
                _ => error(400, "an artifact is a non-empty JSON object"),
            },
            (_, ["knowledge" | "skills" | "agents" | "artifacts", ..]) => error(405, "method not allowed"),
            _ => return None,
        };
        Some(reply)
    }

    /// The names of the enabled, indexed sources of a workspace, for grounding a chat reply.
    pub(crate) fn grounding(&self, key: &str, project: Option<&str>) -> Vec<String> {
        let all = self.all.lock().unwrap();
        let now = Instant::now();
        all.get(&format!("{key}\n{}", project.unwrap_or("")))
            .map(|ws| {
                ws.sources.iter().filter(|s| s.enabled && s.status(now) == "indexed").map(|s| s.name.clone()).collect()
            })
            .unwrap_or_default()
    }
}

fn json_body(request: &Request) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn new_source(ws: &mut Workspace, limits: Limits, kind: &'static str, origin: String, name: Option<String>) -> Reply {
    if ws.sources.iter().any(|s| s.kind == kind && s.origin == origin) {
        return error(409, format!("a source for {origin} already exists"));
    }
    let id = ws.next("kb");
    let fails = origin.contains("fail");
    let chunks = 1 + origin.len() as u64 / 200;
    let name = name.unwrap_or_else(|| origin.chars().take(40).collect());
    let now = Instant::now();
    let created_at = now_secs();
    let source = SourceRecord {
        id: id.clone(),
        kind,
        origin,
        name,
        fails,
        enabled: true,
        created_at,
        ready_at: now + limits.index_delay,
        chunks,
    };
    ws.sources.push(source);
    (201, Some(json!({ "id": id, "status": "indexing" })))
}

fn add_source(ws: &mut Workspace, limits: Limits, request: &Request) -> Reply {
    if request.header("content-type").is_some_and(|t| t.starts_with("multipart/form-data")) {
        return upload(ws, limits, request);
    }
    let Some(body) = json_body(request) else {
        return error(400, "the body must be a JSON object, or multipart/form-data with a file");
    };
    let name = body.get("name").and_then(Value::as_str).map(str::to_string);
    match (body.get("url").and_then(Value::as_str), body.get("text").and_then(Value::as_str)) {
        (Some(url), None) if !url.trim().is_empty() => new_source(ws, limits, "url", url.to_string(), name),
        (None, Some(text)) if !text.trim().is_empty() => {
            let origin = format!("text:{}", text.chars().take(60).collect::<String>());
            new_source(ws, limits, "text", origin, name)
        }
        _ => error(400, "give exactly one of url or text (or upload a file)"),
    }
}

fn upload(ws: &mut Workspace, limits: Limits, request: &Request) -> Reply {
    if request.body_len > limits.max_upload {
        return error(
            413,
            format!("upload of {} bytes is over the storage quota ({} bytes)", request.body_len, limits.max_upload),
        );
    }
    let Some(parts) = multipart_headers(request) else {
        return error(400, "malformed multipart/form-data body");
    };
    let file_name = parts.iter().find(|(field, _, _)| field == "file").and_then(|(_, file, _)| file.clone());
    let Some(file_name) = file_name else {
        return error(400, "the upload has no file part");
    };
    let name = parts.iter().find(|(field, _, _)| field == "name").map(|(_, _, value)| value.clone());
    new_source(ws, limits, "file", file_name, name)
}

/// The parts of a multipart body's kept prefix: (field name, file name, value for small text
/// fields).
fn multipart_headers(request: &Request) -> Option<Vec<(String, Option<String>, String)>> {
    let content_type = request.header("content-type")?;
    let boundary = content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"');
    let body = String::from_utf8_lossy(&request.body);
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for part in body.split(&delimiter).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, value) = part.trim_start_matches("\r\n").split_once("\r\n\r\n").unwrap_or((part, ""));
        let disposition = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let attribute = |key: &str| {
            disposition
                .split(';')
                .find_map(|a| a.trim().strip_prefix(&format!("{key}=")).map(|v| v.trim_matches('"').to_string()))
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value).chars().take(200).collect();
        parts.push((attribute("name")?, attribute("filename"), value));
    }
    Some(parts)
}

fn crawl(ws: &mut Workspace, limits: Limits, request: &Request) -> Reply {
    let Some(body) = json_body(request) else {
        return error(400, "the body must be a JSON object");
    };
    let Some(seed) = body.get("seedUrl").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
        return error(400, "seedUrl is required");
    };
    let max_pages = body.get("maxPages").and_then(Value::as_u64).unwrap_or(10);
    let (status, reply) = new_source(ws, limits, "crawl", seed.to_string(), None);
    if status != 201 {
        return (status, reply);
    }
    let id = reply.as_ref().and_then(|r| r.get("id")).cloned().unwrap_or(Value::Null);
    (201, Some(json!({ "crawlId": id, "status": "indexing", "maxPages": max_pages })))
}

fn run_skill(request: &Request) -> Reply {
    let Some(body) = json_body(request) else {
        return error(400, "the body must be a JSON object");
    };
    let Some(skill) = body.get("skillId").and_then(Value::as_str) else {
        return error(400, "skillId is required");
    };
    let Some((_, name, _, _)) = SKILLS.iter().find(|(id, ..)| *id == skill) else {
        return error(404, format!("skill '{skill}' not found"));
    };
    let vars = body.get("vars").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut keys: Vec<&String> = vars.keys().collect();
    keys.sort();
    let mut output = format!("# {name}\n");
    for key in keys {
        let value = match &vars[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        output.push_str(&format!("\n- **{key}**: {value}"));
    }
    (200, Some(json!({ "output": output })))
}

fn create_agent(ws: &mut Workspace, request: &Request) -> Reply {
    let Some(body) = json_body(request) else {
        return error(400, "the body must be a JSON object");
    };
    let Some(name) = body.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) else {
        return error(400, "name is required");
    };
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("");
    if !AGENT_TYPES.contains(&kind) {
        return error(400, format!("type must be one of {}", AGENT_TYPES.join(", ")));
    }
    if ws.agents.iter().any(|a| a["name"] == name) {
        return error(409, format!("an agent named '{name}' already exists"));
    }
    let agent = json!({
        "id": ws.next("ag"),
        "name": name,
        "type": kind,
        "config": body.get("config").cloned().unwrap_or_else(|| json!({})),
        "createdAt": now_secs(),
    });
    ws.agents.push(agent.clone());
    (201, Some(agent))
}

fn run_agent(ws: &mut Workspace, limits: Limits, id: &str) -> Reply {
    let Some(agent) = ws.agents.iter().find(|a| a["id"] == id).cloned() else {
        return error(404, format!("agent '{id}' not found"));
    };
    if ws.runs_today >= limits.agent_runs_per_day {
        return error(403, format!("daily agent run quota reached ({} runs a day)", limits.agent_runs_per_day));
    }
    ws.runs_today += 1;
    let run_id = ws.next("run");
    let output = format!(
        "{} ({}) ran: nothing to report.",
        agent["name"].as_str().unwrap_or(""),
        agent["type"].as_str().unwrap_or("")
    );
    (200, Some(json!({ "runId": run_id, "agentId": id, "status": "completed", "output": output })))
}
