//! Artifacts: outputs saved for reuse (a generated document, …).

use reqwest::Method;
use serde_json::{Map, Value};

use super::agents::Record;
use super::json::{call, list_of};
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::transport::Body;
use crate::Client;

/// The artifact calls of a client: `client.artifacts()`.
#[derive(Debug, Clone)]
pub struct Artifacts<'c> {
    client: &'c Client,
    options: RequestOptions,
}

impl Client {
    /// Artifacts: outputs saved for reuse.
    pub fn artifacts(&self) -> Artifacts<'_> {
        Artifacts { client: self, options: RequestOptions::default() }
    }
}

impl Artifacts<'_> {
    /// These calls with `options` (timeout, retries, extra headers).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Every artifact (`GET /artifacts`).
    pub async fn list(&self) -> Result<Vec<Record>> {
        let json = call(self.client, &self.options, Method::GET, "/artifacts", Body::None).await?.json;
        Ok(list_of(json, "artifacts")?.into_iter().map(Record::from_json).collect())
    }

    /// Saves an artifact with `fields` (`POST /artifacts`); never sent twice.
    pub async fn create(&self, fields: Map<String, Value>) -> Result<Record> {
        if fields.is_empty() {
            return Err(Error::invalid("an artifact needs at least one field"));
        }
        let body = Body::Json(serde_json::to_vec(&fields).map_err(|e| Error::invalid(e.to_string()))?.into());
        let json = call(self.client, &self.options, Method::POST, "/artifacts", body).await?.json;
        Ok(Record::from_json(json.unwrap_or(Value::Null)))
    }
}
