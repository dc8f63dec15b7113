//! Options of one call, overriding the client's: timeout, retries, extra headers.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{positive_secs, Config};
use crate::error::{Error, Result};
use crate::report::{Recorder, ReportHook};

/// Options for one call, overriding the client's for that call only. Every call has a
/// `*_with` form that takes them (`chat_with`, `list_models_with`, …).
///
/// ```no_run
/// # async fn demo(client: mixerlead::Client) -> Result<(), mixerlead::Error> {
/// use mixerlead::{ChatRequest, RequestOptions};
/// let options = RequestOptions::new().timeout_secs(5.0).max_retries(0).header("x-trace", "abc");
/// let reply = client.send_with(ChatRequest::new("Hi"), &options).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    timeout: Option<f64>,
    max_retries: Option<i64>,
    headers: Vec<(String, String)>,
    report: Option<ReportHook>,
}

impl RequestOptions {
    /// No overrides: the client's options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Time until response headers for this call (and for a non-streamed body).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.timeout_secs(timeout.as_secs_f64())
    }

    /// [`RequestOptions::timeout`] in seconds.
    pub fn timeout_secs(mut self, seconds: f64) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Retries for this call (`0`: one attempt).
    pub fn max_retries(mut self, retries: i64) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// An extra header for this call (any but `Authorization`); a name given twice keeps the last.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Calls `hook` with this call's [`crate::CallReport`] once it is over (a stream: when it
    /// ended, failed, was closed or dropped). This is how the Python and Node bindings build
    /// their OpenTelemetry spans and metrics; Rust programs get the same as `tracing` spans.
    pub fn on_report(mut self, hook: ReportHook) -> Self {
        self.report = Some(hook);
        self
    }

    /// Sets the option `name` (`timeout`, `max_retries`/`maxRetries`) from a binding's value,
    /// as [`crate::ClientBuilder::set`] does for client options; headers go through
    /// [`RequestOptions::header`].
    #[doc(hidden)]
    pub fn set(self, name: &str, value: crate::OptionValue) -> Result<Self> {
        match name {
            "timeout" => Ok(self.timeout_secs(value.seconds(name)?)),
            "max_retries" | "maxRetries" => Ok(self.max_retries(value.count(name)?)),
            other => Err(Error::config(format!("unknown request option {other:?}"))),
        }
    }

    /// The settings of one call of a client with `config`; fails on a bad value, naming it.
    pub(crate) fn resolve<'c>(&self, config: &'c Config) -> Result<CallSettings<'c>> {
        let timeout = match self.timeout {
            Some(seconds) => positive_secs("timeout", seconds)?,
            None => config.timeout,
        };
        let max_retries = match self.max_retries {
            Some(n) => u32::try_from(n)
                .map_err(|_| Error::invalid(format!("max_retries must be between 0 and {}, got {n}", u32::MAX)))?,
            None => config.max_retries,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|_| Error::config(format!("extra header name {name:?} is not a valid header name")))?;
            if header == reqwest::header::AUTHORIZATION {
                return Err(Error::config(
                    "extra headers cannot set Authorization: pass api_key to the client instead",
                ));
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                Error::config(format!("extra header {name:?} has a value with a newline or another control character"))
            })?;
            headers.insert(header, value);
        }
        Ok(CallSettings { config, timeout, max_retries, headers, report: Recorder::default() })
    }
}

/// What one call runs with: the client's options with the call's overrides applied.
pub(crate) struct CallSettings<'c> {
    pub config: &'c Config,
    pub timeout: Duration,
    pub max_retries: u32,
    /// Extra headers, sent after the client's own (so they override all but `Authorization`).
    pub headers: HeaderMap,
    /// The call's report, once [`RequestOptions::observe`] started it.
    pub report: Recorder,
}

impl RequestOptions {
    /// Starts the report of a call with these options (see [`Recorder::start`]), before its
    /// arguments are checked: a call refused for a bad argument is reported too.
    pub(crate) fn observe(
        &self,
        config: &Config,
        method: &reqwest::Method,
        path: &str,
        chat: Option<(Option<&str>, Option<&str>)>,
    ) -> Recorder {
        Recorder::start(self.report.as_ref(), &config.base_url, method, path, chat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn config() -> Config {
        let builder = crate::ClientBuilder::default().api_key("ml_test_k").base_url("https://h.example/api");
        Config::resolve(builder, &|_| None).unwrap()
    }

    #[test]
    fn overrides_apply_and_bad_values_name_the_option() {
        let config = config();
        let call = RequestOptions::new().timeout_secs(2.5).max_retries(0).header("X-Trace", "t1").resolve(&config);
        let call = call.unwrap();
        assert_eq!((call.timeout, call.max_retries), (Duration::from_millis(2500), 0));
        assert_eq!(call.headers.get("x-trace").unwrap(), "t1");
        let plain = RequestOptions::new().resolve(&config).unwrap();
        assert_eq!((plain.timeout, plain.max_retries), (config.timeout, config.max_retries));

        let err = |o: RequestOptions| o.resolve(&config).err().expect("an error");
        let e = err(RequestOptions::new().timeout_secs(-1.0));
        assert!(e.kind() == ErrorKind::InvalidArgument && e.message().contains("timeout"), "{e}");
        let e = err(RequestOptions::new().max_retries(-1));
        assert!(e.kind() == ErrorKind::InvalidArgument && e.message().contains("max_retries"), "{e}");
        let e = err(RequestOptions::new().header("authorization", "Bearer x"));
        assert!(e.kind() == ErrorKind::Configuration && e.message().contains("Authorization"), "{e}");
        let e = err(RequestOptions::new().header("x-a", "one\r\nx-b: two"));
        assert!(e.kind() == ErrorKind::Configuration && e.message().contains("x-a"), "{e}");
        let e = err(RequestOptions::new().header("bad name", "v"));
        assert!(e.kind() == ErrorKind::Configuration && e.message().contains("bad name"), "{e}");
    }

    #[test]
    fn a_binding_value_of_the_wrong_kind_is_shown_as_the_user_wrote_it() {
        use crate::OptionValue::{Flag, Number, Text};
        let message = |name: &str, value| RequestOptions::new().set(name, value).expect_err("an error").to_string();
        assert_eq!(message("timeout", Text("abc".into())), "timeout must be a number of seconds, got \"abc\"");
        assert_eq!(message("max_retries", Number(1.5)), "max_retries must be a whole number, got 1.5");
        assert_eq!(message("maxRetries", Flag(true)), "maxRetries must be a whole number, got true");
        assert_eq!(message("retries", Number(1.0)), "unknown request option \"retries\"");
        let set = RequestOptions::new().set("timeout", Number(2.0)).unwrap().set("max_retries", Number(3.0)).unwrap();
        assert_eq!((set.timeout, set.max_retries), (Some(2.0), Some(3)));
    }
}
