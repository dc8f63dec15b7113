//! `GET /ai/models`: the models the service offers.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::attempt::{with_retries, AttemptError};
use crate::error::{Error, Result};
use crate::meta::ResponseMeta;
use crate::request_options::{CallSettings, RequestOptions};
use crate::retry::{Failure, Idempotency};
use crate::transport::{read_small_body, Accept, Body};
use crate::Client;

/// One model of the service, as [`Client::list_models`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// The id to pass as `model` (e.g. `ml-auto`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the model is for.
    #[serde(default)]
    pub task: String,
    /// Whether the model needs a paid plan.
    #[serde(default)]
    pub requires_paid: bool,
}

/// The models list, with the response's request id and headers. Derefs to `Vec<Model>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelList {
    models: Vec<Model>,
    meta: ResponseMeta,
}

impl ModelList {
    /// The response's request id (`X-Request-Id`), if it had one.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// The response headers.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.meta.headers
    }

    /// The models, without the metadata.
    pub fn into_vec(self) -> Vec<Model> {
        self.models
    }
}

impl std::ops::Deref for ModelList {
    type Target = Vec<Model>;

    fn deref(&self) -> &Vec<Model> {
        &self.models
    }
}

impl IntoIterator for ModelList {
    type Item = Model;
    type IntoIter = std::vec::IntoIter<Model>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.into_iter()
    }
}

impl<'a> IntoIterator for &'a ModelList {
    type Item = &'a Model;
    type IntoIter = std::slice::Iter<'a, Model>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.iter()
    }
}

impl Client {
    /// The models the service offers (`GET /ai/models`).
    pub async fn list_models(&self) -> Result<ModelList> {
        self.list_models_with(&RequestOptions::default()).await
    }

    /// [`Client::list_models`] with options for this call.
    pub async fn list_models_with(&self, options: &RequestOptions) -> Result<ModelList> {
        let (config, transport) = self.parts();
        let report = options.observe(config, &Method::GET, "/ai/models", None);
        let result = match options.resolve(config) {
            Ok(mut call) => {
                call.report = report.clone();
                list(&call, transport).await
            }
            Err(error) => Err(error),
        };
        report.finish_result(&result);
        result
    }
}

async fn list(call: &CallSettings<'_>, transport: &crate::transport::Transport) -> Result<ModelList> {
    with_retries(call, &Method::GET, "/ai/models", Idempotency::Get, || async {
        let response = transport.send(call, Method::GET, "/ai/models", &Body::None, Accept::Json).await?;
        let meta = ResponseMeta::of(response.headers());
        let body = read_small_body(response, call.timeout, call.config.read_timeout)
            .await
            .map_err(|error| AttemptError { failure: Failure::AfterSend, error })?;
        let models = parse_models(&body).map_err(|error| AttemptError { failure: Failure::Fatal, error })?;
        Ok(ModelList { models, meta })
    })
    .await
    .map(|(value, _slot)| value)
}

fn parse_models(body: &[u8]) -> Result<Vec<Model>> {
    #[derive(Deserialize)]
    struct Models {
        models: Vec<Model>,
    }
    serde_json::from_slice::<Models>(body)
        .map(|m| m.models)
        .or_else(|_| serde_json::from_slice::<Vec<Model>>(body))
        .map_err(|e| Error::decode(format!("the models list is not valid JSON of the expected shape: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn models_parse() {
        let body = br#"{"models":[{"id":"ml-auto","name":"Auto","task":"Automatic model selection","requiresPaid":false},{"id":"p","requiresPaid":true}]}"#;
        let models = parse_models(body).unwrap();
        assert_eq!(models[0].id, "ml-auto");
        assert_eq!(models[0].task, "Automatic model selection");
        assert!(models[1].requires_paid);
        assert_eq!(parse_models(b"{").unwrap_err().kind(), ErrorKind::Decode);
    }
}
