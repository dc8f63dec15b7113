//! `Client`: the resolved options and the transport every API call goes through. The calls
//! themselves live in `api/`, one file per resource.

use std::fmt;
use std::sync::Arc;

use crate::config::{redact_key, ClientBuilder, Config};
use crate::error::Result;
use crate::transport::Transport;

/// A client of the Workspace API. Cheap to clone (clones share the connection pool); safe to
/// use from many tasks and threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    transport: Transport,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("Client")
            .field("base_url", &c.base_url)
            .field("api_key", &redact_key(&c.api_key))
            .field("project_id", &c.project_id)
            .field("max_retries", &c.max_retries)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder for a client with explicit options.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment (`MIXERLEAD_API_KEY`, …) and defaults.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    pub(crate) fn from_config(config: Config) -> Result<Client> {
        let transport = Transport::new(&config)?;
        Ok(Client { inner: Arc::new(Inner { config, transport }) })
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.config.base_url
    }

    /// The options and the transport, for the calls in `api/`.
    pub(crate) fn parts(&self) -> (&Config, &Transport) {
        (&self.inner.config, &self.inner.transport)
    }
}
