//! Response metadata as it crosses into JS: the headers as a flat list the JS layer turns into
//! a WHATWG `Headers`.

use mixerlead::HeaderMap;

/// `[name0, value0, name1, value1, …]`: names lower-case, values as `fetch` shows them (each
/// byte one character, a ByteString), every value of a repeated header.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<String> {
    let mut pairs = Vec::with_capacity(headers.len() * 2);
    for (name, value) in headers {
        pairs.push(name.as_str().to_string());
        pairs.push(value.as_bytes().iter().map(|&b| char::from(b)).collect());
    }
    pairs
}
