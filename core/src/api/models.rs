//! `GET /ai/models`: the models the service offers.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::attempt::{with_retries, AttemptError};
use crate::error::{Error, Result};
use crate::retry::{Failure, Idempotency};
use crate::transport::{read_small_body, Body};
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

impl Client {
    /// The models the service offers (`GET /ai/models`).
    pub async fn list_models(&self) -> Result<Vec<Model>> {
        let (config, transport) = self.parts();
        with_retries(config, &Method::GET, "/ai/models", Idempotency::Get, || async {
            let response = transport.send(config, Method::GET, "/ai/models", &Body::None).await?;
            let body = read_small_body(response, config)
                .await
                .map_err(|error| AttemptError { failure: Failure::AfterSend, error })?;
            parse_models(&body).map_err(|error| AttemptError { failure: Failure::Fatal, error })
        })
        .await
    }
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
