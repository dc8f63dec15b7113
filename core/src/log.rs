//! `MIXERLEAD_LOG=debug|info|warn|error`: the client's log lines on stderr. Silent when unset.
//! Callers never pass the API key to these functions.

use std::fmt::Arguments;
use std::sync::OnceLock;

/// Log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Off,
}

fn threshold() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        match std::env::var("MIXERLEAD_LOG").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            _ => Level::Off,
        }
    })
}

fn emit(level: Level, args: Arguments<'_>) {
    if level >= threshold() && threshold() != Level::Off {
        let name = format!("{level:?}").to_ascii_lowercase();
        eprintln!("[mixerlead {name}] {args}");
    }
}

pub(crate) fn debug(args: Arguments<'_>) {
    emit(Level::Debug, args)
}

pub(crate) fn info(args: Arguments<'_>) {
    emit(Level::Info, args)
}

pub(crate) fn warn(args: Arguments<'_>) {
    emit(Level::Warn, args)
}
