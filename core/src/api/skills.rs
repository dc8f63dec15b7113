//! Skills: list them, and run one with its variables.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::json::{call, json_body, list_of, text_of};
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::transport::Body;
use crate::Client;

/// One skill, as [`Skills::list`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    /// The id to run it by.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The whole object as the service sent it.
    pub raw: Value,
}

/// What a skill run returned.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillOutput {
    /// The output, as Markdown.
    pub output: String,
    /// The whole response as the service sent it.
    pub raw: Value,
}

/// The skill calls of a client: `client.skills()`.
#[derive(Debug, Clone)]
pub struct Skills<'c> {
    client: &'c Client,
    options: RequestOptions,
}

impl Client {
    /// Skills: ready-made tasks run with variables.
    pub fn skills(&self) -> Skills<'_> {
        Skills { client: self, options: RequestOptions::default() }
    }
}

impl Skills<'_> {
    /// These calls with `options` (timeout, retries, extra headers).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Every skill (`GET /skills`).
    pub async fn list(&self) -> Result<Vec<Skill>> {
        let json = call(self.client, &self.options, Method::GET, "/skills", Body::None).await?.json;
        list_of(json, "skills")?
            .into_iter()
            .map(|raw| {
                let id = text_of(&raw, "id").ok_or_else(|| Error::decode("a skill without an id"))?;
                Ok(Skill {
                    id,
                    name: text_of(&raw, "name"),
                    category: text_of(&raw, "category"),
                    description: text_of(&raw, "description"),
                    raw,
                })
            })
            .collect()
    }

    /// Runs the skill `skill_id` with `vars` (`POST /skills/exec`).
    pub async fn run(&self, skill_id: &str, vars: Map<String, Value>) -> Result<SkillOutput> {
        if skill_id.trim().is_empty() {
            return Err(Error::invalid("skill_id must not be empty"));
        }
        let body = json_body(json!({ "skillId": skill_id, "vars": vars }))?;
        let raw =
            call(self.client, &self.options, Method::POST, "/skills/exec", body).await?.json.unwrap_or(Value::Null);
        let output = text_of(&raw, "output").ok_or_else(|| Error::decode("the skill's response has no output"))?;
        Ok(SkillOutput { output, raw })
    }
}
