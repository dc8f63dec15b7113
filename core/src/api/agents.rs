//! Agents of the active project: list, create, run.

use std::fmt;
use std::str::FromStr;

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::json::{call, json_body, list_of, segment, text_of};
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::transport::Body;
use crate::Client;

/// What an agent does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentType {
    /// Gathers and summarises information.
    Research,
    /// Plans.
    Strategy,
    /// Carries out tasks.
    Execution,
    /// Watches and reports.
    Monitoring,
}

impl AgentType {
    /// The type as the service spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Research => "research",
            AgentType::Strategy => "strategy",
            AgentType::Execution => "execution",
            AgentType::Monitoring => "monitoring",
        }
    }
}

impl fmt::Display for AgentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentType {
    type Err = Error;

    /// `research`, `strategy`, `execution` or `monitoring`; anything else is an
    /// invalid-argument error, before anything is sent.
    fn from_str(text: &str) -> Result<AgentType> {
        Ok(match text {
            "research" => AgentType::Research,
            "strategy" => AgentType::Strategy,
            "execution" => AgentType::Execution,
            "monitoring" => AgentType::Monitoring,
            other => {
                return Err(Error::invalid(format!(
                    "unknown agent type {other:?}: use research, strategy, execution or monitoring"
                )))
            }
        })
    }
}

/// An agent, or an artifact: the fields known to be there, and the whole object.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its id.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Its type (an agent's `research`, …; an artifact's kind).
    pub kind: Option<String>,
    /// The whole object as the service sent it.
    pub raw: Value,
}

impl Record {
    pub(crate) fn from_json(raw: Value) -> Record {
        Record { id: text_of(&raw, "id"), name: text_of(&raw, "name"), kind: text_of(&raw, "type"), raw }
    }
}

/// The agent calls of a client: `client.agents()`.
#[derive(Debug, Clone)]
pub struct Agents<'c> {
    client: &'c Client,
    options: RequestOptions,
}

impl Client {
    /// Agents of the active project (`X-Project-Id`).
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self, options: RequestOptions::default() }
    }
}

impl Agents<'_> {
    /// These calls with `options` (timeout, retries, extra headers).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Every agent (`GET /agents`).
    pub async fn list(&self) -> Result<Vec<Record>> {
        let json = call(self.client, &self.options, Method::GET, "/agents", Body::None).await?.json;
        Ok(list_of(json, "agents")?.into_iter().map(Record::from_json).collect())
    }

    /// Creates an agent (`POST /agents`); never sent twice.
    pub async fn create(&self, name: &str, kind: AgentType, config: Option<Map<String, Value>>) -> Result<Record> {
        if name.trim().is_empty() {
            return Err(Error::invalid("name must not be empty"));
        }
        let body = json_body(json!({ "name": name, "type": kind.as_str(), "config": config.unwrap_or_default() }))?;
        let json = call(self.client, &self.options, Method::POST, "/agents", body).await?.json;
        Ok(Record::from_json(json.unwrap_or(Value::Null)))
    }

    /// Runs the agent (`POST /agents/{id}/run`): costs credits, and a daily quota applies (a 403
    /// then, never retried). Returns the agent's output as the service sent it.
    pub async fn run(&self, agent_id: &str) -> Result<Value> {
        let path = format!("/agents/{}/run", segment("agent_id", agent_id)?);
        Ok(call(self.client, &self.options, Method::POST, &path, Body::None).await?.json.unwrap_or(Value::Null))
    }
}
