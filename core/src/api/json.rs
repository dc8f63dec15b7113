//! One JSON call: the path every resource but chat goes through, and the generic call the C
//! surface offers for every endpoint.

use reqwest::Method;
use serde_json::Value;

use crate::attempt::{with_retries, AttemptError};
use crate::error::{Error, Result};
use crate::meta::ResponseMeta;
use crate::report::Outcome;
use crate::request_options::RequestOptions;
use crate::retry::{Failure, Idempotency};
use crate::transport::{read_small_body, Accept, Body};
use crate::Client;

/// A JSON response: its document (`None` for an empty body) and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonResponse {
    /// The response's JSON; `None` when the body was empty.
    pub json: Option<Value>,
    /// The request id and headers.
    pub meta: ResponseMeta,
}

impl Client {
    /// Sends `method path` (relative to the base URL, starting with `/`) with an optional JSON
    /// body and returns the JSON response, with the retries, errors and metadata of every other
    /// call: `GET`, `PATCH` and `DELETE` are retried like the models list, a `POST` only where
    /// nothing can have been created (429, a connection never made).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        options: &RequestOptions,
    ) -> Result<JsonResponse> {
        let body = match body {
            Some(json) => Body::Json(serde_json::to_vec(json).map_err(|e| Error::invalid(e.to_string()))?.into()),
            None => Body::None,
        };
        call(self, options, method, path, body).await
    }
}

/// Checks `path` and runs one JSON call with retries by method.
pub(crate) async fn call(
    client: &Client,
    options: &RequestOptions,
    method: Method,
    path: &str,
    body: Body,
) -> Result<JsonResponse> {
    let (config, transport) = client.parts();
    let report = options.observe(config, &method, path, None);
    let checked = check_path(path).and_then(|()| match &body {
        Body::Upload(upload) => upload.check(),
        _ => Ok(()),
    });
    let mut call = match checked.and_then(|()| options.resolve(config)) {
        Ok(call) => call,
        Err(error) => {
            report.finish(Outcome::Failed, Some(&error), 0);
            return Err(error);
        }
    };
    call.report = report;
    let result = with_retries(&call, &method, path, Idempotency::of(&method), || async {
        let response = transport.send(&call, method.clone(), path, &body, Accept::Json).await?;
        let meta = ResponseMeta::of(response.headers());
        let raw = read_small_body(response, call.timeout, config.read_timeout)
            .await
            .map_err(|error| AttemptError { failure: Failure::AfterSend, error })?;
        let json = parse(&raw).map_err(|error| AttemptError { failure: Failure::Fatal, error })?;
        Ok(JsonResponse { json, meta })
    })
    .await
    .map(|(value, _slot)| value);
    call.report.finish_result(&result);
    result
}

/// A JSON body, or `None` when empty.
fn parse(raw: &[u8]) -> Result<Option<Value>> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(raw).map(Some).map_err(|e| Error::decode(format!("the response is not valid JSON: {e}")))
}

/// A path the base URL can be joined with: `/` first, no control characters, no `..`.
fn check_path(path: &str) -> Result<()> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(Error::invalid(format!("path {path:?} must start with a single /")));
    }
    if path.chars().any(|c| c.is_control() || c == ' ') || path.split(['/', '?']).any(|s| s == "..") {
        return Err(Error::invalid(format!("path {path:?} has a space, a control character or a .. segment")));
    }
    Ok(())
}

/// One path segment (an id) made safe to put in a path: non-empty, and escaped.
pub(crate) fn segment(name: &str, id: &str) -> Result<String> {
    if id.trim().is_empty() {
        return Err(Error::invalid(format!("{name} must not be empty")));
    }
    if id.contains('\0') {
        return Err(Error::invalid(format!("{name} must not contain a NUL character")));
    }
    Ok(url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20"))
}

/// A JSON body, with the fields left unset (null) dropped rather than sent.
pub(crate) fn json_body(value: Value) -> Result<Body> {
    let value = match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    };
    serde_json::to_vec(&value).map(|bytes| Body::Json(bytes.into())).map_err(|e| Error::invalid(e.to_string()))
}

/// The array of a list response: the document itself, or its field `key`.
pub(crate) fn list_of(json: Option<Value>, key: &str) -> Result<Vec<Value>> {
    match json {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Object(mut map)) => match map.remove(key) {
            Some(Value::Array(items)) => Ok(items),
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(_) => Err(Error::decode(format!("the response's {key:?} is not a list"))),
        },
        None => Ok(Vec::new()),
        Some(_) => Err(Error::decode(format!("the response is neither a list nor an object with {key:?}"))),
    }
}

/// A field as text: a string as it is, a number written out; `None` for anything else.
pub(crate) fn text_of(json: &Value, key: &str) -> Option<String> {
    match json.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_segments() {
        for ok in ["/knowledge", "/agents/a1/run", "/knowledge?x=1"] {
            check_path(ok).unwrap();
        }
        for bad in ["knowledge", "//evil.example/x", "/a b", "/a/../b", "/a\n"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        assert_eq!(segment("id", "kb 1/../x").unwrap(), "kb%201%2F..%2Fx");
        assert!(segment("id", " ").is_err());
    }

    #[test]
    fn lists_in_either_shape() {
        let items = list_of(Some(serde_json::json!({"agents": [{"id": "a"}]})), "agents").unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(list_of(Some(serde_json::json!([1, 2])), "agents").unwrap().len(), 2);
        assert!(list_of(None, "agents").unwrap().is_empty());
        assert!(list_of(Some(serde_json::json!({"agents": 3})), "agents").is_err());
        assert_eq!(text_of(&serde_json::json!({"n": 4, "s": "x", "b": true}), "n").as_deref(), Some("4"));
    }
}
