//! Options objects from JS, handed to the core as they are: each property of a client options
//! object goes to `ClientBuilder::set` by name (the core knows every option, its type, its
//! checks); the binding only turns JS values into [`OptionValue`]s.

use mixerlead::binding::OptionValue;
use mixerlead::{ClientBuilder, Error, ErrorKind, RequestOptions};
use napi::bindgen_prelude::*;

use crate::errors::{to_napi, InvalidAs};

/// The properties of `options` that have a value (`undefined` and `null` mean "not given"),
/// as client option values. A value that is not a string, a number or a boolean is a
/// `TypeError` naming its option (a `ConfigurationError` when the name is not an option).
pub(crate) fn values(options: &Object, what: &str) -> Result<Vec<(String, OptionValue)>> {
    let mut values = Vec::new();
    for name in Object::keys(options)? {
        let Some(value) = options.get::<Unknown>(&name)? else { continue };
        let value_type = value.get_type()?;
        if matches!(value_type, ValueType::Undefined | ValueType::Null) {
            continue;
        }
        let value = match primitive(&value, value_type)? {
            Some(value) => value,
            None => {
                // An unknown name is the first thing to say (a ConfigurationError from the core).
                if let Err(unknown) = ClientBuilder::default().set(&name, OptionValue::Text(String::new())) {
                    if unknown.kind() == ErrorKind::Configuration {
                        return Err(to_napi(unknown, InvalidAs::Type));
                    }
                }
                let message =
                    format!("{what} {name} must be a string, a number or a boolean, not {}", js_type(value_type));
                return Err(to_napi(Error::new(ErrorKind::InvalidArgument, message), InvalidAs::Type));
            }
        };
        values.push((name, value));
    }
    Ok(values)
}

/// `builder` with every value set by name. An error says how JS sees it: an unknown name is a
/// `ConfigurationError` (from the core); a bad value a `TypeError` when the option does not
/// take that type at all, a `RangeError` when it does (a count that is not whole).
pub(crate) fn apply(
    mut builder: ClientBuilder,
    values: Vec<(String, OptionValue)>,
) -> std::result::Result<ClientBuilder, (Error, InvalidAs)> {
    for (name, value) in values {
        let probe = zero_like(&value);
        builder = builder.set(&name, value).map_err(|error| {
            // Whether the option takes this type is the core's to say: ask it with a plain
            // value of the same type.
            let takes_type = ClientBuilder::default().set(&name, probe).is_ok();
            (error, if takes_type { InvalidAs::Range } else { InvalidAs::Type })
        })?;
    }
    Ok(builder)
}

/// A value of the same type as `value` that any option of that type accepts.
fn zero_like(value: &OptionValue) -> OptionValue {
    match value {
        OptionValue::Text(_) => OptionValue::Text(String::new()),
        OptionValue::Number(_) => OptionValue::Number(0.0),
        OptionValue::Flag(_) => OptionValue::Flag(false),
    }
}

/// How JS's `typeof` names a value type.
pub(crate) fn js_type(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Function => "a function",
        ValueType::BigInt => "a bigint",
        _ => "an object",
    }
}

/// The options of one call (`{ signal, timeout, maxRetries, headers }`; `signal` stays in JS)
/// as the core's [`RequestOptions`]: `headers` through `RequestOptions::header`, every other
/// name through `RequestOptions::set`, which knows them (an unknown name is a
/// `ConfigurationError` naming it). The core checks the values' ranges when the call starts.
pub(crate) fn request_options(options: Option<&Object>) -> Result<RequestOptions> {
    let mut out = RequestOptions::new();
    let Some(options) = options else { return Ok(out) };
    for name in Object::keys(options)? {
        let Some(value) = options.get::<Unknown>(&name)? else { continue };
        let value_type = value.get_type()?;
        out = match (name.as_str(), value_type) {
            (_, ValueType::Undefined | ValueType::Null) | ("signal", _) => continue,
            // The OpenTelemetry layer's tag for this call's report (see `report.rs`).
            // SAFETY: the value is a number, as `get_type` just reported.
            ("observe", ValueType::Number) => out.on_report(crate::report::hook(unsafe { value.cast::<f64>() }?)),
            // SAFETY: the value is an object, as `get_type` just reported.
            ("headers", ValueType::Object) => headers(out, &unsafe { value.cast::<Object>() }?)?,
            ("headers", other) => {
                let message = format!(
                    "request option headers must be an object of header names and values, not {}",
                    js_type(other)
                );
                return Err(to_napi(Error::new(ErrorKind::InvalidArgument, message), InvalidAs::Type));
            }
            _ => {
                let value = match primitive(&value, value_type)? {
                    Some(value) => value,
                    None => {
                        // An unknown name is the first thing to say (a ConfigurationError from the core).
                        if let Err(unknown) = RequestOptions::new().set(&name, OptionValue::Number(0.0)) {
                            if unknown.kind() == ErrorKind::Configuration {
                                return Err(to_napi(unknown, InvalidAs::Type));
                            }
                        }
                        let message = format!("request option {name} must be a number, not {}", js_type(value_type));
                        return Err(to_napi(Error::new(ErrorKind::InvalidArgument, message), InvalidAs::Type));
                    }
                };
                let probe = zero_like(&value);
                out.set(&name, value).map_err(|error| {
                    // As for client options: a RangeError when the option takes this type at all.
                    let takes_type = RequestOptions::new().set(&name, probe).is_ok();
                    to_napi(error, if takes_type { InvalidAs::Range } else { InvalidAs::Type })
                })?
            }
        };
    }
    Ok(out)
}

/// A string, a number or a boolean as an [`OptionValue`]; `None` for any other type.
fn primitive(value: &Unknown, value_type: ValueType) -> Result<Option<OptionValue>> {
    // SAFETY (each cast): the value is of the type `get_type` reported.
    Ok(Some(match value_type {
        ValueType::String => OptionValue::Text(unsafe { value.cast::<String>() }?),
        ValueType::Number => OptionValue::Number(unsafe { value.cast::<f64>() }?),
        ValueType::Boolean => OptionValue::Flag(unsafe { value.cast::<bool>() }?),
        _ => return Ok(None),
    }))
}

/// `out` with the extra headers of `headers` (`{ name: value }`); the core checks names and
/// values (no `Authorization`, no newline) when the call starts.
fn headers(mut out: RequestOptions, headers: &Object) -> Result<RequestOptions> {
    for name in Object::keys(headers)? {
        let Some(value) = headers.get::<Unknown>(&name)? else { continue };
        match value.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            // SAFETY: the value is a string, as `get_type` just reported.
            ValueType::String => out = out.header(name, unsafe { value.cast::<String>() }?),
            other => {
                let message = format!("header {name:?} must have a string value, not {}", js_type(other));
                return Err(to_napi(Error::new(ErrorKind::InvalidArgument, message), InvalidAs::Type));
            }
        }
    }
    Ok(out)
}
