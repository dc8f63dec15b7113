//! `NativeClient`: the core client with Python argument conversion.

use mixerlead::{ChatRequest, Client};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::to_py_err;
use crate::options;
use crate::stream::ChatStream;
use crate::wait::{into_asyncio, wait};

/// One model as a tuple: (id, name, task, requires_paid).
type ModelRow = (String, String, String, bool);

#[pyclass(frozen, module = "mixerlead._native")]
pub struct NativeClient {
    inner: Client,
}

fn rows(models: mixerlead::ModelList) -> Vec<ModelRow> {
    models.into_iter().map(|m| (m.id, m.name, m.task, m.requires_paid)).collect()
}

#[pymethods]
impl NativeClient {
    /// `options`: the client options by their snake_case names (`None` values: not given).
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let values = options::values(options)?;
        let builder = options::apply(Client::builder().surface("python"), values).map_err(|bad| bad.into_py_err(py))?;
        builder.build().map(|inner| NativeClient { inner }).map_err(|e| to_py_err(py, e))
    }

    /// The client without its key (at most the key's last 4 characters).
    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }

    #[getter]
    fn base_url(&self) -> String {
        self.inner.base_url().to_string()
    }

    fn list_models(&self, py: Python<'_>) -> PyResult<Vec<ModelRow>> {
        let client = self.inner.clone();
        wait(py, async move { client.list_models().await.map(rows) })
    }

    fn alist_models<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        into_asyncio(py, async move { client.list_models().await.map(rows) })
    }

    #[pyo3(signature = (message, model=None, conversation_id=None))]
    fn chat(
        &self,
        py: Python<'_>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
    ) -> PyResult<ChatStream> {
        let client = self.inner.clone();
        let request = ChatRequest::from_parts(message, model, conversation_id);
        wait(py, async move { client.chat(request).await }).map(ChatStream::new)
    }

    #[pyo3(signature = (message, model=None, conversation_id=None))]
    fn achat<'py>(
        &self,
        py: Python<'py>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let request = ChatRequest::from_parts(message, model, conversation_id);
        into_asyncio(py, async move { client.chat(request).await.map(ChatStream::new) })
    }

    /// The whole reply: (text, conversation_id).
    #[pyo3(signature = (message, model=None, conversation_id=None))]
    fn send(
        &self,
        py: Python<'_>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
    ) -> PyResult<(String, Option<String>)> {
        let client = self.inner.clone();
        let request = ChatRequest::from_parts(message, model, conversation_id);
        wait(py, async move { client.send(request).await.map(|r| (r.text, r.conversation_id)) })
    }

    #[pyo3(signature = (message, model=None, conversation_id=None))]
    fn asend<'py>(
        &self,
        py: Python<'py>,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let request = ChatRequest::from_parts(message, model, conversation_id);
        into_asyncio(py, async move { client.send(request).await.map(|r| (r.text, r.conversation_id)) })
    }
}
