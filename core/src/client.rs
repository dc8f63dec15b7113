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
        let transport = Transport::new(&config, None)?;
        Ok(Client { inner: Arc::new(Inner { config, transport }) })
    }

    /// A client with this one's options changed by `change`, sharing its connection pool
    /// (unless the change is to how connections are made: `connect_timeout`, `ca_file`, `proxy`).
    ///
    /// ```no_run
    /// # fn demo(client: mixerlead::Client) -> Result<(), mixerlead::Error> {
    /// let patient = client.with_options(|b| Ok(b.timeout_secs(300.0).max_retries(5)))?;
    /// # Ok(()) }
    /// ```
    pub fn with_options(&self, change: impl FnOnce(ClientBuilder) -> Result<ClientBuilder>) -> Result<Client> {
        let builder = change(self.inner.config.source.clone())?;
        let mut config = Config::resolve(builder, &|name| std::env::var(name).ok())?;
        config.traffic.share_slots_with(&self.inner.config.traffic);
        let transport = Transport::new(&config, Some(&self.inner.transport))?;
        Ok(Client { inner: Arc::new(Inner { config, transport }) })
    }

    /// Whether `self` and `other` share one connection pool.
    #[doc(hidden)]
    pub fn shares_pool_with(&self, other: &Client) -> bool {
        self.inner.transport.shares_pool_with(&other.inner.transport)
    }

    /// The options a binding's `repr` shows, by their snake_case names, each safe to print (the
    /// key as its last four characters); options left unset are left out.
    #[doc(hidden)]
    pub fn shown_options(&self) -> Vec<(&'static str, crate::OptionValue)> {
        use crate::OptionValue::{Number, Text};
        let c = &self.inner.config;
        let mut shown = vec![("base_url", Text(c.base_url.clone())), ("api_key", Text(redact_key(&c.api_key)))];
        if let Some(project) = &c.project_id {
            shown.push(("project_id", Text(project.clone())));
        }
        shown.push(("max_retries", Number(c.max_retries.into())));
        if let Some(record) = &c.record {
            shown.push(("record", Text(record.path().to_string())));
        }
        shown
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
