//! The Workspace API, one file per resource: its request and response types and its calls.

pub(crate) mod chat;
pub(crate) mod models;
