//! Test-only: an export that panics on purpose, so the Node suite can prove that a panic
//! becomes an exception and the process lives on.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, InvalidAs};
use crate::wait::promise;

/// Panics where `place` says: `"sync"` in the export's body, `"async"` in its work on the
/// runtime, `"settle"` while a promise's value becomes a JS value, `"return"` while the export's
/// own return value does (napi's conversion, under its `catch_unwind`). Inert — it throws a
/// plain `Error` — unless `MIXERLEAD_NODE_TEST_PANICS=1` when it is called. Not part of the JS
/// API: `index.js` does not hand it out.
#[napi(js_name = "__testPanic", catch_unwind)]
pub fn test_panic<'env>(env: &'env Env, place: String) -> Result<Either<Object<'env>, PanicsWhenConverted>> {
    if std::env::var_os("MIXERLEAD_NODE_TEST_PANICS").is_none_or(|v| v != "1") {
        return Err(napi::Error::from_reason("__testPanic needs MIXERLEAD_NODE_TEST_PANICS=1"));
    }
    guard(|| match place.as_str() {
        "sync" => panic!("test panic in the export's body"),
        "async" => {
            promise(env, InvalidAs::Type, async { panic!("test panic on the runtime") as mixerlead::Result<()> })
                .map(Either::A)
        }
        "settle" => promise(env, InvalidAs::Type, async { Ok(PanicsWhenConverted) }).map(Either::A),
        "return" => Ok(Either::B(PanicsWhenConverted)),
        other => Err(napi::Error::from_reason(format!("unknown place {other:?}"))),
    })
}

/// A value whose conversion to JS panics.
#[doc(hidden)]
pub struct PanicsWhenConverted;

impl ToNapiValue for PanicsWhenConverted {
    unsafe fn to_napi_value(_env: sys::napi_env, _val: Self) -> Result<sys::napi_value> {
        panic!("test panic while converting a value to JS")
    }
}
