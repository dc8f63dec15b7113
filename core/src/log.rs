//! The client's log: each attempt, retry, response and stream end. Never the key, the message
//! sent or the reply's text: callers pass only methods, paths, statuses, counts and errors.
//!
//! A record goes to every place that wants it:
//! - the `log` facade, target `mixerlead`, for Rust applications (`env_logger`, `tracing-log`, …);
//! - stderr, when `MIXERLEAD_LOG=debug|info|warn|error` is set;
//! - the client's sink, when a binding gave one (Python's `logging`, Node's `logger` option).

use std::fmt::{self, Arguments};
use std::sync::{Arc, OnceLock};

/// How severe a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Each attempt and response.
    Debug,
    /// Retries and their waits, failures that end a call.
    Info,
    /// A stream that failed.
    Warn,
    /// Reserved for failures of the SDK itself.
    Error,
}

impl Level {
    /// `debug`, `info`, `warn` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    fn facade(self) -> log::Level {
        match self {
            Level::Debug => log::Level::Debug,
            Level::Info => log::Level::Info,
            Level::Warn => log::Level::Warn,
            Level::Error => log::Level::Error,
        }
    }
}

/// Where a binding wants a client's records: called on whatever thread logs (often one of the
/// runtime's), so it must not block.
pub type LogSink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// The log of one client: the places above, with the client's sink if it has one.
#[derive(Clone, Default)]
pub(crate) struct Log {
    sink: Option<LogSink>,
}

// A sink is a callback that keeps no state a panic could leave half-changed that the client
// relies on, so a client stays usable across `catch_unwind` as it was before it had a sink.
impl std::panic::UnwindSafe for Log {}
impl std::panic::RefUnwindSafe for Log {}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log").field("sink", &self.sink.is_some()).finish()
    }
}

impl Log {
    pub fn new(sink: Option<LogSink>) -> Log {
        Log { sink }
    }

    pub fn debug(&self, args: Arguments<'_>) {
        self.emit(Level::Debug, args)
    }

    pub fn info(&self, args: Arguments<'_>) {
        self.emit(Level::Info, args)
    }

    pub fn warn(&self, args: Arguments<'_>) {
        self.emit(Level::Warn, args)
    }

    fn emit(&self, level: Level, args: Arguments<'_>) {
        let to_stderr = stderr_threshold().is_some_and(|threshold| level >= threshold);
        let to_facade = log::log_enabled!(target: "mixerlead", level.facade());
        if !(to_stderr || to_facade || self.sink.is_some()) {
            return;
        }
        let text = args.to_string();
        if to_stderr {
            eprintln!("[mixerlead {}] {text}", level.name());
        }
        if to_facade {
            log::log!(target: "mixerlead", level.facade(), "{text}");
        }
        if let Some(sink) = &self.sink {
            sink(level, &text);
        }
    }
}

/// The level `MIXERLEAD_LOG` asks for on stderr (read once); `None` when unset.
fn stderr_threshold() -> Option<Level> {
    static LEVEL: OnceLock<Option<Level>> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        match std::env::var("MIXERLEAD_LOG").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(Level::Debug),
            "info" => Some(Level::Info),
            "warn" | "warning" => Some(Level::Warn),
            "error" => Some(Level::Error),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_sink_gets_every_record_with_its_level() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let log =
            Log::new(Some(Arc::new(move |level, text: &str| into.lock().unwrap().push((level, text.to_string())))));
        log.debug(format_args!("GET /ai/models: attempt {} of {}", 1, 3));
        log.warn(format_args!("stream failed"));
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], (Level::Debug, "GET /ai/models: attempt 1 of 3".to_string()));
        assert_eq!(seen[1].0, Level::Warn);
        Log::default().info(format_args!("no sink: nothing happens"));
    }
}
