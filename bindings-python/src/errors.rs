//! The one mapping of core errors to Python exceptions. The exception classes live in Python
//! (`mixerlead/_errors.py`); this passes the error's fields to its factory.

use mixerlead::{Error, ErrorBody, ErrorKind};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The Python exception for a core error.
pub fn to_py_err(py: Python<'_>, error: Error) -> PyErr {
    if error.kind() == ErrorKind::InvalidArgument {
        return PyValueError::new_err(error.message().to_string());
    }
    let (body_json, body_text) = match error.body() {
        Some(ErrorBody::Json(json)) => (Some(json.to_string()), None),
        Some(ErrorBody::Text(text)) => (None, Some(text.clone())),
        None => (None, None),
    };
    let made = py.import("mixerlead._errors").and_then(|m| m.getattr("_from_native")).and_then(|factory| {
        factory.call1((
            error.kind().name(),
            error.message(),
            error.status_code(),
            body_json,
            body_text,
            error.request_id(),
            error.retry_after(),
            error.partial_text(),
            error.source_id(),
            error.last_error(),
        ))
    });
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(_) => PyRuntimeError::new_err(error.to_string()),
    }
}
