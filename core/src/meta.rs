//! What a successful response carries besides its content: the request id and the headers.

use reqwest::header::HeaderMap;

/// The metadata of a successful response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseMeta {
    /// The response's `X-Request-Id` (else `Request-Id`), for support requests and logs.
    pub request_id: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
}

impl ResponseMeta {
    pub(crate) fn of(headers: &HeaderMap) -> ResponseMeta {
        ResponseMeta { request_id: request_id(headers), headers: headers.clone() }
    }
}

/// `X-Request-Id`, else `Request-Id`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}
