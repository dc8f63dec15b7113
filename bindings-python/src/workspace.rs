//! The rest of the Workspace API on `NativeClient`: knowledge, skills, agents and artifacts,
//! one operation by name (`NativeClient::workspace`, blocking, and `aworkspace` for asyncio)
//! on the core's resource types. Type
//! conversion only: the core checks every argument (before anything is sent) and parses every
//! response. Results cross as tuples whose last item is the object as the service sent it, as
//! JSON text (`raw`), which `mixerlead._workspace` parses; JSON going in (skill variables,
//! agent config, artifact fields) arrives as text `json.dumps` made.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use mixerlead::{
    AgentType, Client, Error, ErrorKind, Indexing, NewSource, Record, RequestOptions, Skill, SkillOutput, Source,
    UploadSource,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::{Map, Value};

use crate::errors::to_py_err;

/// (id, kind, source_url_or_path, status, chunk_count, enabled, created_at, indexed_at, last_error, raw)
type SourceOut = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<u64>,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);
/// The arguments of `knowledge_add`: (url, text, file_path, file_bytes, file_name, name).
type AddArgs = (Option<String>, Option<String>, Option<PathBuf>, Option<Vec<u8>>, Option<String>, Option<String>);
/// (id, status, max_pages, raw)
type IndexingOut = (String, String, Option<u64>, String);
/// (id, name, category, description, raw)
type SkillOut = (String, Option<String>, Option<String>, Option<String>, String);
/// (output, raw)
type SkillOutputOut = (String, String);
/// (id, name, kind, raw)
type RecordOut = (Option<String>, Option<String>, Option<String>, String);

fn source_out(s: Source) -> SourceOut {
    (
        s.id,
        s.kind,
        s.source_url_or_path,
        s.status.as_str().to_string(),
        s.chunk_count,
        s.enabled,
        s.created_at,
        s.indexed_at,
        s.last_error,
        s.raw.to_string(),
    )
}

fn indexing_out(i: Indexing) -> IndexingOut {
    (i.id, i.status.as_str().to_string(), i.max_pages, i.raw.to_string())
}

fn skill_out(s: Skill) -> SkillOut {
    (s.id, s.name, s.category, s.description, s.raw.to_string())
}

fn skill_output_out(o: SkillOutput) -> SkillOutputOut {
    (o.output, o.raw.to_string())
}

fn record_out(r: Record) -> RecordOut {
    (r.id, r.name, r.kind, r.raw.to_string())
}

/// A JSON object from the text `json.dumps` made (`None`: not given).
fn json_object(py: Python<'_>, what: &str, json: Option<String>) -> PyResult<Option<Map<String, Value>>> {
    let Some(json) = json else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        _ => {
            Err(to_py_err(py, Error::new(ErrorKind::InvalidArgument, format!("{what} must be a dict of JSON values"))))
        }
    }
}

/// What a call returned, turned into Python on the thread that settles it.
pub enum Out {
    Indexing(IndexingOut),
    Sources(Vec<SourceOut>),
    Source(Option<SourceOut>),
    Skills(Vec<SkillOut>),
    SkillOutput(SkillOutputOut),
    Records(Vec<RecordOut>),
    Record(RecordOut),
    Json(String),
    Nothing,
}

impl<'py> IntoPyObject<'py> for Out {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Out::Indexing(v) => v.into_pyobject(py)?.into_any(),
            Out::Sources(v) => v.into_pyobject(py)?.into_any(),
            Out::Source(v) => v.into_pyobject(py)?.into_any(),
            Out::Skills(v) => v.into_pyobject(py)?.into_any(),
            Out::SkillOutput(v) => v.into_pyobject(py)?.into_any(),
            Out::Records(v) => v.into_pyobject(py)?.into_any(),
            Out::Record(v) => v.into_pyobject(py)?.into_any(),
            Out::Json(v) => v.into_pyobject(py)?.into_any(),
            Out::Nothing => py.None().into_bound(py),
        })
    }
}

/// A call ready to run: its arguments checked and converted.
pub type Pending = Pin<Box<dyn Future<Output = mixerlead::Result<Out>> + Send>>;

fn invalid(py: Python<'_>, message: String) -> PyErr {
    to_py_err(py, Error::new(ErrorKind::InvalidArgument, message))
}

/// Checks and converts the arguments of operation `op` (with the GIL, before anything is
/// sent), returning the call to run.
pub fn prepare(
    py: Python<'_>,
    client: &Client,
    op: &str,
    args: &Bound<'_, PyTuple>,
    o: RequestOptions,
) -> PyResult<Pending> {
    let client = client.clone();
    macro_rules! run {
        ($body:expr) => {
            Ok(Box::pin(async move { $body }) as Pending)
        };
    }
    match op {
        "knowledge_add" => {
            let (url, text, file_path, file_bytes, file_name, name): AddArgs = args.extract()?;
            let file = match (file_path, file_bytes) {
                (Some(path), _) => Some(UploadSource::Path(path)),
                (None, Some(bytes)) => Some(UploadSource::Bytes {
                    file_name: file_name.or_else(|| name.clone()).unwrap_or_else(|| "upload".to_string()),
                    data: bytes.into(),
                }),
                (None, None) => None,
            };
            let source = NewSource::from_parts(url, text, file).map_err(|e| to_py_err(py, e))?;
            run!(client
                .knowledge()
                .options(o)
                .add(source, name.as_deref())
                .await
                .map(|i| Out::Indexing(indexing_out(i))))
        }
        "knowledge_crawl" => {
            let (seed_url, max_pages): (String, Option<u32>) = args.extract()?;
            run!(client
                .knowledge()
                .options(o)
                .crawl(&seed_url, max_pages)
                .await
                .map(|i| Out::Indexing(indexing_out(i))))
        }
        "knowledge_list" => {
            run!(client
                .knowledge()
                .options(o)
                .list()
                .await
                .map(|s| Out::Sources(s.into_iter().map(source_out).collect())))
        }
        "knowledge_set_enabled" => {
            let (id, enabled): (String, bool) = args.extract()?;
            run!({
                let knowledge = client.knowledge().options(o);
                let source = if enabled { knowledge.enable(&id).await? } else { knowledge.disable(&id).await? };
                Ok(Out::Source(source.map(source_out)))
            })
        }
        "knowledge_reindex" => {
            let (id,): (String,) = args.extract()?;
            run!(client.knowledge().options(o).reindex(&id).await.map(|i| Out::Indexing(indexing_out(i))))
        }
        "knowledge_delete" => {
            let (id,): (String,) = args.extract()?;
            run!(client.knowledge().options(o).delete(&id).await.map(|()| Out::Nothing))
        }
        "knowledge_wait_until_indexed" => {
            let (ids, timeout): (Vec<String>, f64) = args.extract()?;
            let timeout = match Duration::try_from_secs_f64(timeout) {
                Ok(timeout) => timeout,
                Err(_) if timeout == f64::INFINITY => Duration::MAX,
                Err(_) => return Err(invalid(py, format!("timeout must be zero or more seconds, got {timeout}"))),
            };
            run!({
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let sources = client.knowledge().options(o).wait_until_indexed(&ids, timeout).await?;
                Ok(Out::Sources(sources.into_iter().map(source_out).collect()))
            })
        }
        "skills_list" => {
            run!(client.skills().options(o).list().await.map(|s| Out::Skills(s.into_iter().map(skill_out).collect())))
        }
        "skills_run" => {
            let (skill_id, vars): (String, Option<String>) = args.extract()?;
            let vars = json_object(py, "vars", vars)?.unwrap_or_default();
            run!(client.skills().options(o).run(&skill_id, vars).await.map(|s| Out::SkillOutput(skill_output_out(s))))
        }
        "agents_list" => {
            run!(client.agents().options(o).list().await.map(|s| Out::Records(s.into_iter().map(record_out).collect())))
        }
        "agents_create" => {
            let (name, kind, config): (String, String, Option<String>) = args.extract()?;
            let kind = AgentType::from_str(&kind).map_err(|e| to_py_err(py, e))?;
            let config = json_object(py, "config", config)?;
            run!(client.agents().options(o).create(&name, kind, config).await.map(|r| Out::Record(record_out(r))))
        }
        "agents_run" => {
            let (agent_id,): (String,) = args.extract()?;
            run!(client.agents().options(o).run(&agent_id).await.map(|v| Out::Json(v.to_string())))
        }
        "artifacts_list" => {
            run!(client
                .artifacts()
                .options(o)
                .list()
                .await
                .map(|s| Out::Records(s.into_iter().map(record_out).collect())))
        }
        "artifacts_create" => {
            let (fields,): (String,) = args.extract()?;
            let fields = json_object(py, "fields", Some(fields))?.unwrap_or_default();
            run!(client.artifacts().options(o).create(fields).await.map(|r| Out::Record(record_out(r))))
        }
        other => Err(invalid(py, format!("unknown workspace operation {other:?}"))),
    }
}
