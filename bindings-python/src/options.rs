//! Options from Python values, handed to the core as they are: each client option goes to
//! `ClientBuilder::set` by name (the core knows every option, its type, its checks), so an
//! option the core adds needs nothing here; the binding only turns Python values into
//! [`OptionValue`]s. Per-call options become the core's [`RequestOptions`].

use mixerlead::binding::OptionValue;
use mixerlead::{ClientBuilder, Error, ErrorKind, RequestOptions};
use pyo3::exceptions::PyTypeError;
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

/// [`value`], except that a name `set` does not know is the error to give first (the core's
/// `ConfigurationError`), whatever the value.
fn known_value<T>(
    name: &str,
    item: &Bound<'_, PyAny>,
    set: impl Fn(&str, OptionValue) -> Result<T, Error>,
) -> PyResult<Option<OptionValue>> {
    value(name, item).map_err(|type_error| match set(name, OptionValue::Text(String::new())) {
        Err(unknown) if unknown.kind() == ErrorKind::Configuration => to_py_err(item.py(), unknown),
        _ => type_error,
    })
}

fn option_name(name: &Bound<'_, PyAny>) -> PyResult<String> {
    name.extract().map_err(|_| PyTypeError::new_err("option names must be str"))
}

/// The client options of a dict that have a value, in order, as the core takes them.
pub fn values(options: &Bound<'_, PyDict>) -> PyResult<Vec<(String, OptionValue)>> {
    let mut values = Vec::with_capacity(options.len());
    for (name, item) in options.iter() {
        let name = option_name(&name)?;
        if let Some(value) = known_value(&name, &item, |n, v| ClientBuilder::default().set(n, v))? {
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
        match self.wrong_type && self.error.kind() == ErrorKind::InvalidArgument {
            true => PyTypeError::new_err(self.error.message().to_string()),
            false => to_py_err(py, self.error),
        }
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

/// The options of one call (`timeout`, `max_retries`, `extra_headers`; `None` values: not
/// given) as the core's [`RequestOptions`]: each set by name (`RequestOptions::set`, so an
/// option the core adds needs nothing here), the headers one by one. Errors as for client
/// options; the core checks the values themselves (a negative timeout, an `Authorization`
/// header) when the call starts.
pub fn request_options(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<RequestOptions> {
    let mut call = RequestOptions::new();
    let Some(options) = options else { return Ok(call) };
    for (name, item) in options.iter() {
        let name = option_name(&name)?;
        if name == "observe" {
            if !item.is_none() {
                call = call.on_report(crate::report::hook(item.clone().unbind()));
            }
            continue;
        }
        if name == "extra_headers" {
            if !item.is_none() {
                call = headers(call, &item)?;
            }
            continue;
        }
        let Some(value) = known_value(&name, &item, |n, v| RequestOptions::new().set(n, v))? else { continue };
        let probe = zero_like(&value);
        call = call.set(&name, value).map_err(|error| {
            let takes_type = RequestOptions::new().set(&name, probe).is_ok();
            BadOption { error, wrong_type: !takes_type }.into_py_err(py)
        })?;
    }
    Ok(call)
}

/// `call` with the headers of `extra_headers`, a mapping of `str` to `str`.
fn headers(mut call: RequestOptions, extra_headers: &Bound<'_, PyAny>) -> PyResult<RequestOptions> {
    let items = extra_headers
        .call_method0("items")
        .map_err(|_| PyTypeError::new_err("extra_headers must be a mapping of str to str"))?;
    for item in items.try_iter()? {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        match (name.extract::<String>(), value.extract::<String>()) {
            (Ok(name), Ok(value)) => call = call.header(name, value),
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "extra_headers must be a mapping of str to str, got {}: {}",
                    name.get_type().name()?,
                    value.get_type().name()?
                )))
            }
        }
    }
    Ok(call)
}
