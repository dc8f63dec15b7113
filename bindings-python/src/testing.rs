//! `NativeEmulator`: the emulator crate served in this process, on the core's runtime, for
//! `mixerlead.testing.Emulator`.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use mixerlead::runtime;
use mixerlead_emulator::{Emulator, EmulatorConfig, Format};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

#[pyclass(frozen, module = "mixerlead._native")]
pub struct NativeEmulator {
    /// `None` once closed.
    running: Mutex<Option<Emulator>>,
    base_url: String,
    ca_pem: Option<String>,
}

impl NativeEmulator {
    fn running(&self) -> MutexGuard<'_, Option<Emulator>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl NativeEmulator {
    /// Starts serving on 127.0.0.1 (`port`, 0: a free one); https with a certificate made now
    /// when `tls`. `format`, `token_delay_ms`, `rate_limit`: how replies are sent when a request
    /// does not script otherwise. `index_delay_ms`, `max_upload_bytes`, `agent_runs_per_day`: the
    /// Workspace API's limits. `cassette`, `speed`: replay that cassette (a path) instead, its
    /// times divided by `speed`. `None`: the emulator's defaults.
    #[new]
    #[pyo3(signature = (
        tls=false, index_delay_ms=None, max_upload_bytes=None, agent_runs_per_day=None, port=0,
        format=None, token_delay_ms=None, rate_limit=None, cassette=None, speed=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        tls: bool,
        index_delay_ms: Option<u64>,
        max_upload_bytes: Option<usize>,
        agent_runs_per_day: Option<u32>,
        port: i64,
        format: Option<&str>,
        token_delay_ms: Option<f64>,
        rate_limit: Option<u32>,
        cassette: Option<std::path::PathBuf>,
        speed: Option<f64>,
    ) -> PyResult<Self> {
        let mut config = EmulatorConfig { tls, rate_limit, ..EmulatorConfig::default() };
        config.port = u16::try_from(port)
            .map_err(|_| PyValueError::new_err(format!("port must be from 0 to 65535, got {port}")))?;
        if let Some(format) = format {
            config.format = Format::parse(format).map_err(PyValueError::new_err)?;
        }
        if let Some(ms) = token_delay_ms {
            config.token_delay = Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
                PyValueError::new_err(format!("token_delay_ms must be zero or more milliseconds, got {ms}"))
            })?;
        }
        if let Some(ms) = index_delay_ms {
            config.index_delay = Duration::from_millis(ms);
        }
        if let Some(bytes) = max_upload_bytes {
            config.max_upload = bytes;
        }
        if let Some(runs) = agent_runs_per_day {
            config.agent_runs_per_day = runs;
        }
        config.cassette = cassette;
        if let Some(speed) = speed {
            if !(speed.is_finite() && speed >= 0.0) {
                return Err(PyValueError::new_err(format!("speed must be zero or more, got {speed}")));
            }
            config.speed = speed;
        }
        // Started inside the runtime's context, so its server task runs on the runtime's threads.
        // A cassette it cannot replay is a ValueError naming the file and the line.
        let emulator = py.detach(|| runtime::block_on(Emulator::start(config))).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => PyValueError::new_err(e.to_string()),
            _ => e.into(),
        })?;
        Ok(NativeEmulator {
            base_url: emulator.base_url(),
            ca_pem: emulator.ca_pem().map(str::to_string),
            running: Mutex::new(Some(emulator)),
        })
    }

    #[getter]
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    #[getter]
    fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    fn scenario_url(&self, script: &str) -> PyResult<String> {
        match &*self.running() {
            Some(emulator) => Ok(emulator.scenario_url(script)),
            None => Err(PyRuntimeError::new_err("the emulator is stopped")),
        }
    }

    /// What the emulator saw for scenario `id` (a script's `id=`, or a script without one, or
    /// `""` for requests without a script), as a dict.
    fn stats<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyDict>> {
        let stats = match &*self.running() {
            Some(emulator) => emulator.stats(id),
            None => return Err(PyRuntimeError::new_err("the emulator is stopped")),
        };
        let out = PyDict::new(py);
        out.set_item("requests", stats.requests)?;
        out.set_item("streams_started", stats.streams_started)?;
        out.set_item("streams_completed", stats.streams_completed)?;
        out.set_item("client_disconnects", stats.client_disconnects)?;
        out.set_item("request_times", stats.request_times)?;
        out.set_item("disconnect_times", stats.disconnect_times)?;
        out.set_item("last_headers", stats.last_headers)?;
        out.set_item("last_path", stats.last_path)?;
        out.set_item("last_body", stats.last_body)?;
        out.set_item("last_authorized", stats.last_authorized)?;
        out.set_item("replayed", stats.replayed)?;
        out.set_item("unmatched", stats.unmatched)?;
        Ok(out)
    }

    /// Stops serving (connections still open are dropped).
    fn close(&self, py: Python<'_>) {
        let stopped = self.running().take();
        // Dropping it aborts its server task: done without the GIL, as it drops runtime state.
        py.detach(move || drop(stopped));
    }
}
