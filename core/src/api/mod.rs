//! The Workspace API, one file per resource: its request and response types and its calls.

pub(crate) mod agents;
pub(crate) mod artifacts;
pub(crate) mod chat;
pub(crate) mod json;
pub(crate) mod knowledge;
pub(crate) mod models;
pub(crate) mod skills;
pub(crate) mod upload;
