//! `mixerlead._native`: the Rust core exposed to the `mixerlead` Python package. Type
//! conversion and error mapping only; every behaviour lives in the core crate.

mod client;
mod errors;
mod log;
mod options;
mod report;
mod stream;
mod testing;
mod wait;
mod workspace;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::NativeClient>()?;
    m.add_class::<stream::ChatStream>()?;
    m.add_class::<stream::BatchPieces>()?;
    m.add_class::<stream::Chunks>()?;
    m.add_class::<testing::NativeEmulator>()?;
    m.add_function(wrap_pyfunction!(log::_deliver_logs, m)?)?;
    m.add("__version__", mixerlead::VERSION)?;
    Ok(())
}
