//! Per-request fault scripts, read from the base URL: `http://HOST:PORT/s/<script>/api`, where
//! `<script>` is `key=value` pairs joined with `;` (values percent-encoded when needed), e.g.
//! `/s/id=t1;fail=429;times=2;retry_after=0.2/api`.
//!
//! A script counts its requests (for `times=N` and for [`crate::Emulator::stats`]) under its
//! `id=`, or, without one, under the whole script string (percent-decoded): two scripts that
//! differ in anything keep separate counts, and requests sent without a script share the id `""`.

use std::time::Duration;

use crate::Format;

/// What one request asks the emulator to do differently.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    /// The name the emulator counts this request under (for `times` and
    /// [`crate::Emulator::stats`]): the `id=` of the script, else the whole script
    /// (percent-decoded, see [`Scenario::id_of`]).
    pub id: String,
    /// Whether the script named its id with `id=` (rather than being its own id).
    pub named: bool,
    /// Wire format of the reply; `None` uses the emulator's default.
    pub format: Option<Format>,
    /// Answer with this status for the first `times` attempts.
    pub fail: Option<u16>,
    /// How many attempts `fail`, `drop` and `header_delay_ms` apply to (default: all).
    pub times: Option<u64>,
    /// `Retry-After` header value sent with a failure.
    pub retry_after: Option<String>,
    /// `retry-after-ms` header value sent with a failure.
    pub retry_after_ms: Option<String>,
    /// The error body: `json` (default, `{"error": …}`), `text`, or `empty`.
    pub error_body: Option<String>,
    /// Close the connection after reading the request, without any response.
    pub drop: bool,
    /// Wait this long before sending the response headers.
    pub header_delay: Option<Duration>,
    /// Delay between pieces (overrides the emulator's default).
    pub delay: Option<Duration>,
    /// The reply as this many generated pieces (~5 % multi-byte).
    pub pieces: Option<usize>,
    /// Cut the connection after this many pieces.
    pub disconnect_after: Option<usize>,
    /// Stop sending (but keep the connection open) after this many pieces.
    pub stall_after: Option<usize>,
    /// Send an in-band error after this many pieces.
    pub error_after: Option<usize>,
    /// Write multi-byte characters one byte per network write.
    pub split_utf8: bool,
    /// Send a payload that is not valid JSON (in `json` format: a decode error).
    pub malformed: bool,
    /// Send one event larger than 16 MiB.
    pub oversize: bool,
    /// Where the conversation id goes: `header` (default), `payload`, or `none`.
    pub conv_in: Option<String>,
    /// SSE with `\r\n` line ends.
    pub crlf: bool,
    /// Per-key limit of requests a second for this request's key.
    pub rate_limit: Option<u32>,
    /// Answer `307` to the same path this many times before serving it.
    pub redirect: Option<u32>,
    /// The scheme the redirects point to (default: the listener's own), e.g. `http` from TLS.
    pub redirect_scheme: Option<String>,
    /// Send non-streamed bodies (models list, error bodies) one byte every this many ms.
    pub drip: Option<Duration>,
    /// The `error` message of a scripted failure (default `scripted failure <status>`).
    pub error_text: Option<String>,
    /// The host the redirects point to (default: the request's own `Host`), e.g. `localhost` to
    /// leave the origin `127.0.0.1`.
    pub redirect_host: Option<String>,
}

impl Scenario {
    /// Parses a script such as `id=t1;fail=503;times=1`. Unknown keys are an error, so that a
    /// typo in a test does not pass silently.
    pub fn parse(script: &str) -> Result<Scenario, String> {
        let mut s = Scenario { id: Scenario::id_of(script), ..Scenario::default() };
        for pair in script.split(';').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, "1"));
            let value = percent_decode(raw);
            let num = || value.parse::<u64>().map_err(|_| format!("{key} needs a whole number, got {value:?}"));
            let ms = || num().map(Duration::from_millis);
            let flag = || Ok::<bool, String>(value != "0" && value != "false");
            match key {
                "id" => {
                    s.id = value.clone();
                    s.named = true;
                }
                "format" => s.format = Some(Format::parse(&value)?),
                "fail" => s.fail = Some(num()? as u16),
                "times" => s.times = Some(num()?),
                "retry_after" => s.retry_after = Some(value.clone()),
                "retry_after_ms" => s.retry_after_ms = Some(value.clone()),
                "error_body" => s.error_body = Some(value.clone()),
                "drop" => s.drop = flag()?,
                "header_delay_ms" => s.header_delay = Some(ms()?),
                "delay_ms" => s.delay = Some(ms()?),
                "pieces" => s.pieces = Some(num()? as usize),
                "disconnect_after" => s.disconnect_after = Some(num()? as usize),
                "stall_after" => s.stall_after = Some(num()? as usize),
                "error_after" => s.error_after = Some(num()? as usize),
                "split_utf8" => s.split_utf8 = flag()?,
                "malformed" => s.malformed = flag()?,
                "oversize" => s.oversize = flag()?,
                "conv_in" => s.conv_in = Some(value.clone()),
                "crlf" => s.crlf = flag()?,
                "rate_limit" => s.rate_limit = Some(num()? as u32),
                "redirect" => s.redirect = Some(num()? as u32),
                "redirect_host" => s.redirect_host = Some(value.clone()),
                "drip_ms" => s.drip = Some(ms()?),
                "redirect_scheme" => s.redirect_scheme = Some(value.clone()),
                "error_text" => s.error_text = Some(value.clone()),
                other => return Err(format!("unknown scenario key {other:?}")),
            }
        }
        Ok(s)
    }

    /// The id a script without `id=` counts its requests under, and the key
    /// [`crate::Emulator::stats`] looks up for `text`: `text` percent-decoded, so that a script
    /// reads the same whether the client sent it as written or with more of it percent-encoded.
    pub fn id_of(text: &str) -> String {
        percent_decode(text)
    }

    /// Whether attempt number `attempt` (0-based) is one the faults apply to.
    pub fn applies_to(&self, attempt: u64) -> bool {
        self.times.is_none_or(|times| attempt < times)
    }
}

/// `text` with every byte but ASCII letters, digits and `-._~,:` percent-encoded, for an `id=`
/// value that must come back unchanged from [`Scenario::parse`] (`;` and `=` included).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scripts() {
        let s =
            Scenario::parse("id=a1;fail=429;times=2;retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT;split_utf8")
                .unwrap();
        assert_eq!(s.id, "a1");
        assert_eq!(s.fail, Some(429));
        assert_eq!(s.retry_after.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert!(s.split_utf8);
        assert!(s.applies_to(1) && !s.applies_to(2));
        assert!(Scenario::parse("nope=1").is_err());
        assert!(Scenario::parse("fail=x").is_err());
        assert_eq!(Scenario::parse("").unwrap(), Scenario::default());
    }

    #[test]
    fn a_script_without_an_id_is_its_own_id() {
        let s = Scenario::parse("fail=429;times=1;retry_after=0").unwrap();
        assert_eq!((s.id.as_str(), s.named), ("fail=429;times=1;retry_after=0", false));
        let s = Scenario::parse("fail=503;error_text=a%20b").unwrap();
        assert_eq!(s.id, "fail=503;error_text=a b", "percent-decoded");
        assert_eq!(Scenario::id_of("fail=503;error_text=a%20b"), s.id);
        let s = Scenario::parse("fail=429;id=mine").unwrap();
        assert_eq!((s.id.as_str(), s.named), ("mine", true), "id= wherever it stands");
        let script = "fail=503;error_text=50%25 off;times=1";
        let encoded = format!("id={};redirect=1", percent_encode(&Scenario::id_of(script)));
        assert_eq!(Scenario::parse(&encoded).unwrap().id, Scenario::id_of(script), "{encoded}");
    }
}
