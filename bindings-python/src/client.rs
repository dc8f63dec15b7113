//! `NativeClient`: the core client with Python argument conversion.

use mixerlead::binding::OptionValue;
use mixerlead::{ChatReply, ChatRequest, Client, HeaderMap, ModelList};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::to_py_err;
use crate::options;
use crate::stream::ChatStream;
use crate::wait::{into_asyncio, wait};

/// One model as a tuple: (id, name, task, requires_paid).
type ModelRow = (String, String, String, bool);
/// Response headers as (name, value) pairs, names in lower case, in the order received.
type HeaderPairs = Vec<(String, String)>;
/// The models list: (rows, request_id, headers).
type ModelsOut = (Vec<ModelRow>, Option<String>, HeaderPairs);
/// A whole reply: (text, conversation_id, request_id, headers).
type ReplyOut = (String, Option<String>, Option<String>, HeaderPairs);

#[pyclass(frozen, module = "mixerlead._native")]
pub struct NativeClient {
    inner: Client,
}

/// An option's value as Python shows it: a whole number as an `int`.
fn option_object(py: Python<'_>, value: OptionValue) -> PyResult<Bound<'_, PyAny>> {
    Ok(match value {
        OptionValue::Text(text) => text.into_pyobject(py)?.into_any(),
        OptionValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => (n as i64).into_pyobject(py)?.into_any(),
        OptionValue::Number(n) => n.into_pyobject(py)?.into_any(),
        OptionValue::Flag(flag) => flag.into_pyobject(py)?.to_owned().into_any(),
    })
}

fn header_pairs(headers: &HeaderMap) -> HeaderPairs {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect()
}

/// `headers` as a `mixerlead.Headers` (a case-insensitive mapping).
pub fn headers<'py>(py: Python<'py>, headers: &HeaderMap) -> PyResult<Bound<'py, PyAny>> {
    static HEADERS: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    HEADERS.import(py, "mixerlead._types", "Headers")?.call1((header_pairs(headers),))
}

fn models_out(models: ModelList) -> ModelsOut {
    let request_id = models.request_id().map(str::to_string);
    let headers = header_pairs(models.headers());
    let rows = models.into_iter().map(|m| (m.id, m.name, m.task, m.requires_paid)).collect();
    (rows, request_id, headers)
}

fn reply_out(reply: ChatReply) -> ReplyOut {
    let headers = header_pairs(&reply.headers);
    (reply.text, reply.conversation_id, reply.request_id, headers)
}

/// The runtime named at the end of the `User-Agent`: `CPython/3.11.7`, as
/// `platform.python_implementation()` and the version's three numbers give it.
fn runtime_name(py: Python<'_>) -> PyResult<&'static str> {
    static NAME: PyOnceLock<String> = PyOnceLock::new();
    NAME.get_or_try_init(py, || {
        let sys = py.import("sys")?;
        let name: String = sys.getattr("implementation")?.getattr("name")?.extract()?;
        let version = sys.getattr("version_info")?;
        let [major, minor, micro] = [0, 1, 2].map(|i| version.get_item(i).and_then(|n| n.extract::<u32>()));
        let (major, minor, micro) = (major?, minor?, micro?);
        let name = match name.as_str() {
            "cpython" => "CPython",
            "pypy" => "PyPy",
            "graalpy" => "GraalVM",
            "ironpython" => "IronPython",
            "jython" => "Jython",
            other => other,
        };
        Ok::<_, PyErr>(format!("{name}/{major}.{minor}.{micro}"))
    })
    .map(String::as_str)
}

#[pymethods]
impl NativeClient {
    /// `options`: the client options by their snake_case names (`None` values: not given).
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let values = options::values(options)?;
        let builder = Client::builder().surface("python").runtime(runtime_name(py)?).log_sink(crate::log::sink());
        let builder = options::apply(builder, values).map_err(|bad| bad.into_py_err(py))?;
        builder.build().map(|inner| NativeClient { inner }).map_err(|e| to_py_err(py, e))
    }

    /// A client with `options` changed, sharing this one's connection pool.
    fn with_options(&self, py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<NativeClient> {
        let values = options::values(options)?;
        let mut refused = None;
        let derived = self.inner.with_options(|builder| {
            options::apply(builder, values).map_err(|bad| {
                let error = bad.error.clone();
                refused = Some(bad);
                error
            })
        });
        match (derived, refused) {
            (Ok(inner), _) => Ok(NativeClient { inner }),
            (Err(_), Some(bad)) => Err(bad.into_py_err(py)),
            (Err(error), None) => Err(to_py_err(py, error)),
        }
    }

    /// Whether this client and `other` share one connection pool (for the tests).
    fn _shares_pool_with(&self, other: &NativeClient) -> bool {
        self.inner.shares_pool_with(&other.inner)
    }

    /// The options a `repr` shows, as (name, value) pairs; the key as its last 4 characters.
    fn _shown_options<'py>(&self, py: Python<'py>) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
        self.inner.shown_options().into_iter().map(|(name, value)| Ok((name, option_object(py, value)?))).collect()
    }

    /// `mixerlead.Client(base_url='…', api_key='…1234', max_retries=2)`: no key, no Rust syntax.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut fields = Vec::new();
        for (name, value) in self._shown_options(py)? {
            fields.push(format!("{name}={}", value.repr()?));
        }
        Ok(format!("mixerlead.Client({})", fields.join(", ")))
    }

    #[getter]
    fn base_url(&self) -> String {
        self.inner.base_url().to_string()
    }

    #[pyo3(signature = (options=None))]
    fn list_models(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<ModelsOut> {
        let call = options::request_options(py, options)?;
        let client = self.inner.clone();
        wait(py, async move { client.list_models_with(&call).await.map(models_out) })
    }

    #[pyo3(signature = (options=None))]
    fn alist_models<'py>(&self, py: Python<'py>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        let call = options::request_options(py, options)?;
        let client = self.inner.clone();
        into_asyncio(py, async move { client.list_models_with(&call).await.map(models_out) })
    }

    #[pyo3(signature = (message, model=None, conversation_id=None, options=None))]
    fn chat(
        &self,
        py: Python<'_>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ChatStream> {
        let call = options::request_options(py, options)?;
        let request = ChatRequest::from_parts(message, model, conversation_id);
        let client = self.inner.clone();
        wait(py, async move { client.chat_with(request, &call).await }).map(ChatStream::new)
    }

    #[pyo3(signature = (message, model=None, conversation_id=None, options=None))]
    fn achat<'py>(
        &self,
        py: Python<'py>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = options::request_options(py, options)?;
        let request = ChatRequest::from_parts(message, model, conversation_id);
        let client = self.inner.clone();
        into_asyncio(py, async move { client.chat_with(request, &call).await.map(ChatStream::new) })
    }

    /// The whole reply: (text, conversation_id, request_id, headers).
    #[pyo3(signature = (message, model=None, conversation_id=None, options=None))]
    fn send(
        &self,
        py: Python<'_>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ReplyOut> {
        let call = options::request_options(py, options)?;
        let request = ChatRequest::from_parts(message, model, conversation_id);
        let client = self.inner.clone();
        wait(py, async move { client.send_with(request, &call).await.map(reply_out) })
    }

    #[pyo3(signature = (message, model=None, conversation_id=None, options=None))]
    fn asend<'py>(
        &self,
        py: Python<'py>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = options::request_options(py, options)?;
        let request = ChatRequest::from_parts(message, model, conversation_id);
        let client = self.inner.clone();
        into_asyncio(py, async move { client.send_with(request, &call).await.map(reply_out) })
    }

    /// A Workspace API call (knowledge, skills, agents, artifacts) by name; `args` as
    /// `mixerlead._workspace` passes them.
    #[pyo3(signature = (op, args, options=None))]
    fn workspace(
        &self,
        py: Python<'_>,
        op: &str,
        args: &Bound<'_, PyTuple>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let call = options::request_options(py, options)?;
        let pending = crate::workspace::prepare(py, &self.inner, op, args, call)?;
        let out = wait(py, pending)?;
        Ok(out.into_pyobject(py)?.unbind())
    }

    /// [`Self::workspace`] for asyncio.
    #[pyo3(signature = (op, args, options=None))]
    fn aworkspace<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        args: &Bound<'_, PyTuple>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = options::request_options(py, options)?;
        let pending = crate::workspace::prepare(py, &self.inner, op, args, call)?;
        into_asyncio(py, pending)
    }
}
