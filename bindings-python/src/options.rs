//! Options from Python values, handed to the core as they are: each client option goes to
//! `ClientBuilder::set` by name (the core knows every option, its type, its checks), so an
//! option the core adds needs nothing here; the binding only turns Python values into
//! [`OptionValue`]s. Per-call options become the core's [`RequestOptions`].

use mixerlead::{ClientBuilder, Error, OptionValue, RequestOptions};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

use crate::errors::to_py_err;

/// One option's Python value as the core takes it; `None` for `None` (not given). `bool` is
/// checked before `int`, of which it is a subclass; a path (`os.PathLike`) is its `str`.
fn value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Option<OptionValue>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Some(OptionValue::Flag(flag.is_true())));
    }
    if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        return Ok(Some(OptionValue::Number(value.extract::<f64>()?)));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(Some(OptionValue::Text(value.extract::<String>()?)));
    }
    if value.hasattr("__fspath__")? {
        let path = value.py().import("os")?.call_method1("fsdecode", (value,))?;
        return Ok(Some(OptionValue::Text(path.extract::<String>()?)));
    }
    let type_name = value.get_type().name()?;
    Err(PyTypeError::new_err(format!("{name} must be a str, a number or a bool, not {type_name}")))
}

/// The entries of an options dict that have a value, in order.
pub fn values(options: &Bound<'_, PyDict>) -> PyResult<Vec<(String, OptionValue)>> {
    let mut values = Vec::with_capacity(options.len());
    for (name, item) in options.iter() {
        let name: String = name.extract().map_err(|_| PyTypeError::new_err("option names must be str"))?;
        let value = value(&name, &item).map_err(|type_error| {
            // An unknown name is the first thing to say (a ConfigurationError from the core).
            match ClientBuilder::default().set(&name, OptionValue::Text(String::new())) {
                Err(unknown) if unknown.kind() == mixerlead::ErrorKind::Configuration => to_py_err(item.py(), unknown),
                _ => type_error,
            }
        })?;
        if let Some(value) = value {
            values.push((name, value));
        }
    }
    Ok(values)
}

/// `builder` with every value set by name. An unknown name is a `ConfigurationError` (from the
/// core); a bad value a `TypeError` when the option does not take that type at all, a
/// `ValueError` when it does (a negative timeout, a count that is not whole).
pub fn apply(mut builder: ClientBuilder, values: Vec<(String, OptionValue)>) -> Result<ClientBuilder, BadOption> {
    for (name, value) in values {
        let probe = zero_like(&value);
        builder = builder.set(&name, value).map_err(|error| {
            // Whether the option takes this type is the core's to say: ask it with a plain
            // value of the same type.
            let takes_type = ClientBuilder::default().set(&name, probe).is_ok();
            BadOption { error, wrong_type: !takes_type }
        })?;
    }
    Ok(builder)
}

/// An option the core refused, and whether for its type.
pub struct BadOption {
    pub error: Error,
    pub wrong_type: bool,
}

impl BadOption {
    pub fn into_py_err(self, py: Python<'_>) -> PyErr {
        match self.wrong_type && self.error.kind() == mixerlead::ErrorKind::InvalidArgument {
            true => PyTypeError::new_err(self.error.message().to_string()),
            false => to_py_err(py, self.error),
        }
    }
}

impl From<Error> for BadOption {
    fn from(error: Error) -> Self {
        BadOption { error, wrong_type: false }
    }
}

/// A value of the same type as `value` that any option of that type accepts.
fn zero_like(value: &OptionValue) -> OptionValue {
    match value {
        OptionValue::Text(_) => OptionValue::Text(String::new()),
        OptionValue::Number(_) => OptionValue::Number(0.0),
        OptionValue::Flag(_) => OptionValue::Flag(false),
    }
}

/// The keyword arguments every call takes (`timeout=`, `max_retries=`, `extra_headers=`) as
/// the core's [`RequestOptions`]. Only Python types are checked here; the core checks the
/// values (a negative timeout, an `Authorization` header) when the call starts.
pub fn request_options(
    timeout: Option<&Bound<'_, PyAny>>,
    max_retries: Option<&Bound<'_, PyAny>>,
    extra_headers: Option<&Bound<'_, PyAny>>,
) -> PyResult<RequestOptions> {
    let mut options = RequestOptions::new();
    match timeout.map(|t| value("timeout", t)).transpose()?.flatten() {
        None => {}
        Some(OptionValue::Number(seconds)) => options = options.timeout_secs(seconds),
        Some(_) => return Err(PyTypeError::new_err("timeout must be a number of seconds")),
    }
    match max_retries.map(|n| value("max_retries", n)).transpose()?.flatten() {
        None => {}
        Some(OptionValue::Number(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => options = options.max_retries(n as i64),
        Some(OptionValue::Number(n)) => {
            return Err(PyValueError::new_err(format!("max_retries must be a whole number, got {n}")))
        }
        Some(_) => return Err(PyTypeError::new_err("max_retries must be an int")),
    }
    if let Some(headers) = extra_headers.filter(|h| !h.is_none()) {
        let items = headers
            .call_method0("items")
            .map_err(|_| PyTypeError::new_err("extra_headers must be a mapping of str to str"))?;
        for item in items.try_iter()? {
            let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            match (name.extract::<String>(), value.extract::<String>()) {
                (Ok(name), Ok(value)) => options = options.header(name, value),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "extra_headers must be a mapping of str to str, got {}: {}",
                        name.get_type().name()?,
                        value.get_type().name()?
                    )))
                }
            }
        }
    }
    Ok(options)
}
