//! The arithmetic of pacing one scope, on plain seconds so that it can be tested without a
//! clock: a GCRA schedule (each request reserves the next free moment), the 429 gate, and the
//! adaptive rate that follows the service (cubic, as AWS SDKs' adaptive retry mode).

/// Multiplicative cut of the rate on a 429.
pub(crate) const BETA: f64 = 0.7;
/// How fast the cubic grows the rate back.
pub(crate) const SCALE: f64 = 0.4;
/// The rate is never cut below this, in requests per second.
pub(crate) const MIN_RATE: f64 = 0.5;
/// The length of a measurement bucket of the sending rate, in seconds.
const BUCKET: f64 = 0.5;
/// The weight of the newest bucket in the measured sending rate.
const SMOOTHING: f64 = 0.8;
/// Requests a scope must have sent lately before a 429 turns pacing on: a rate measured from
/// one or two requests means nothing, and the gate alone holds a lone caller.
const MIN_SAMPLE: f64 = 4.0;

/// A rate and the burst it lets through after an idle spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limit {
    /// Requests per second.
    pub per_second: f64,
    /// Requests let through at once (at least 1).
    pub burst: f64,
}

/// The pacing state of one scope. Times are seconds on one monotonic clock.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    /// GCRA's theoretical arrival time: when the next request is due at the paced rate.
    tat: f64,
    /// No request is sent before this (a 429's `Retry-After`).
    gate_until: f64,
    /// Paced by the adaptive rate since the first 429.
    adaptive: bool,
    /// The adaptive rate, requests per second.
    rate: f64,
    /// The rate at the last 429, the cubic's plateau.
    last_max_rate: f64,
    /// When the last 429 came.
    last_throttle: f64,
    /// The measured sending rate (smoothed), requests per second.
    measured: f64,
    bucket_start: f64,
    bucket_count: f64,
    /// Responses that were not 429s, in the current and the previous bucket: the rate the
    /// service accepts.
    accepted: (f64, f64),
    accepted_start: f64,
}

impl Pacer {
    pub(crate) fn new(now: f64) -> Pacer {
        Pacer {
            tat: now,
            gate_until: f64::NEG_INFINITY,
            adaptive: false,
            rate: f64::INFINITY,
            last_max_rate: 0.0,
            last_throttle: now,
            measured: 0.0,
            bucket_start: (now / BUCKET).floor() * BUCKET,
            bucket_count: 0.0,
            accepted: (0.0, 0.0),
            accepted_start: (now / BUCKET).floor() * BUCKET,
        }
    }

    /// The limit this scope is paced at, given the client's fixed one: none until a 429 or a
    /// fixed limit; the lower of the two after a 429.
    pub(crate) fn limit(&self, fixed: Option<Limit>) -> Option<Limit> {
        let adaptive = self.adaptive.then_some(Limit { per_second: self.rate, burst: 1.0 });
        match (fixed, adaptive) {
            (Some(f), Some(a)) if a.per_second < f.per_second => Some(a),
            (Some(f), _) => Some(f),
            (None, a) => a,
        }
    }

    /// When the gate opens, if it is closed at `now`.
    pub(crate) fn gate(&self, now: f64) -> Option<f64> {
        (self.gate_until > now).then_some(self.gate_until)
    }

    /// Reserves the next moment a request may be sent at `now`, and returns the wait until it
    /// (0 when it may go at once). A wait longer than `max_wait` reserves nothing: `Err(wait)`.
    pub(crate) fn reserve(&mut self, now: f64, fixed: Option<Limit>, max_wait: f64) -> Result<f64, f64> {
        let gate = self.gate(now);
        let Some(limit) = self.limit(fixed) else {
            // Not paced: only a closed gate holds the request.
            let wait = gate.map_or(0.0, |open| open - now);
            return if wait > max_wait { Err(wait) } else { Ok(wait) };
        };
        let interval = 1.0 / limit.per_second;
        let tolerance = (limit.burst.max(1.0) - 1.0) * interval;
        let mut tat = self.tat.max(now);
        if let Some(open) = gate {
            // After the gate, waiters go one interval apart, not all at once.
            tat = tat.max(open + tolerance);
        }
        let wait = (tat - tolerance - now).max(0.0);
        if wait > max_wait {
            return Err(wait);
        }
        self.tat = tat + interval;
        Ok(wait)
    }

    /// Counts a request sent at `now`, for the measured sending rate.
    pub(crate) fn sent(&mut self, now: f64) {
        let bucket = (now / BUCKET).floor() * BUCKET;
        if bucket > self.bucket_start {
            let rate = self.bucket_count / (bucket - self.bucket_start);
            self.measured = rate * SMOOTHING + self.measured * (1.0 - SMOOTHING);
            self.bucket_start = bucket;
            self.bucket_count = 0.0;
        }
        self.bucket_count += 1.0;
    }

    /// The sending rate: the smoothed measure, or the current bucket's when that is higher
    /// (a first 429 can come before a bucket was ever complete).
    fn sending_rate(&self, now: f64) -> f64 {
        let elapsed = (now - self.bucket_start).max(BUCKET / 4.0);
        self.measured.max(self.bucket_count / elapsed)
    }

    /// Moves the accepted-rate buckets to `now`.
    fn roll_accepted(&mut self, now: f64) {
        let bucket = (now / BUCKET).floor() * BUCKET;
        if bucket > self.accepted_start {
            let previous = if bucket - self.accepted_start <= BUCKET { self.accepted.1 } else { 0.0 };
            self.accepted = (previous, 0.0);
            self.accepted_start = bucket;
        }
    }

    /// The rate the service accepted over about the last second, when it accepted anything.
    fn accepted_rate(&mut self, now: f64) -> Option<f64> {
        self.roll_accepted(now);
        let (previous, current) = self.accepted;
        let span = BUCKET + (now - self.accepted_start).max(BUCKET / 4.0);
        (previous + current > 0.0).then(|| (previous + current) / span)
    }

    /// A 429 came at `now`, asking for `retry_after` seconds: the gate closes until then and the
    /// rate is cut, from what is being sent or, when lower, what the service accepted.
    /// A request sent before the last cut says nothing new about the rate: only its gate counts
    /// (a burst of refusals cuts the rate once, not once per refusal).
    pub(crate) fn throttled(&mut self, now: f64, sent_at: f64, retry_after: Option<f64>) {
        if let Some(wait) = retry_after {
            self.gate_until = self.gate_until.max(now + wait);
        }
        if self.adaptive && sent_at < self.last_throttle {
            return;
        }
        if !self.adaptive && self.bucket_count + self.measured * BUCKET < MIN_SAMPLE {
            return;
        }
        let mut sending = self.sending_rate(now);
        if let Some(accepted) = self.accepted_rate(now) {
            sending = sending.min(accepted);
        }
        let rate = if self.adaptive { sending.min(self.rate) } else { sending };
        self.last_max_rate = rate.max(MIN_RATE);
        self.last_throttle = now;
        self.rate = (rate * BETA).max(MIN_RATE);
        self.adaptive = true;
    }

    /// A request succeeded at `now`: the adaptive rate grows back along the cubic, to at most
    /// twice what is being sent. Little sending (the gate held everyone) never lowers it: only
    /// a 429 does.
    pub(crate) fn succeeded(&mut self, now: f64) {
        self.roll_accepted(now);
        self.accepted.1 += 1.0;
        if !self.adaptive {
            return;
        }
        let k = (self.last_max_rate * (1.0 - BETA) / SCALE).cbrt();
        let cubic = SCALE * (now - self.last_throttle - k).powi(3) + self.last_max_rate;
        let ceiling = (2.0 * self.sending_rate(now)).max(self.rate);
        self.rate = cubic.min(ceiling).max(MIN_RATE);
    }

    /// The adaptive rate, once a 429 turned it on.
    #[cfg(test)]
    pub(crate) fn adaptive_rate(&self) -> Option<f64> {
        self.adaptive.then_some(self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_MAX: f64 = f64::INFINITY;

    #[test]
    fn unpaced_until_a_429_or_a_limit() {
        let mut p = Pacer::new(0.0);
        for i in 0..1000 {
            assert_eq!(p.reserve(i as f64 * 1e-4, None, NO_MAX), Ok(0.0));
        }
        assert_eq!(p.adaptive_rate(), None);
    }

    #[test]
    fn a_fixed_limit_lets_the_burst_through_then_one_per_interval() {
        let mut p = Pacer::new(0.0);
        let limit = Some(Limit { per_second: 10.0, burst: 3.0 });
        let waits: Vec<f64> = (0..6).map(|_| p.reserve(0.0, limit, NO_MAX).unwrap()).collect();
        let expected = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3];
        for (w, e) in waits.iter().zip(expected) {
            assert!((w - e).abs() < 1e-9, "{waits:?}");
        }
        // Over 10 s of constant demand, 100 requests go (plus the burst), not more.
        let mut p = Pacer::new(0.0);
        let mut sent = 0;
        let mut t = 0.0;
        while t < 10.0 {
            let wait = p.reserve(t, limit, NO_MAX).unwrap();
            t += wait;
            if t < 10.0 {
                sent += 1;
            }
        }
        assert!((100..=103).contains(&sent), "{sent}");
    }

    #[test]
    fn the_gate_holds_everyone_then_releases_them_one_interval_apart() {
        let mut p = Pacer::new(0.0);
        for _ in 0..20 {
            p.sent(0.1);
        }
        p.throttled(0.2, 0.2, Some(1.0));
        let rate = p.adaptive_rate().unwrap();
        let waits: Vec<f64> = (0..4).map(|_| p.reserve(0.3, None, NO_MAX).unwrap()).collect();
        assert!((waits[0] - 0.9).abs() < 1e-9, "{waits:?}");
        for pair in waits.windows(2) {
            assert!((pair[1] - pair[0] - 1.0 / rate).abs() < 1e-9, "{waits:?}");
        }
        // A wait past the longest allowed reserves nothing.
        let before = p.clone();
        assert!(p.reserve(0.3, None, 0.5).is_err());
        assert_eq!(p.tat, before.tat);
    }

    #[test]
    fn a_429_cuts_the_sending_rate_by_beta_and_success_grows_it_back_along_the_cubic() {
        let mut p = Pacer::new(0.0);
        // 100 requests a second, measured over a few buckets.
        let mut t = 0.0;
        while t < 3.0 {
            p.sent(t);
            t += 0.01;
        }
        p.throttled(3.0, 3.0, None);
        let cut = p.adaptive_rate().unwrap();
        assert!((cut - 70.0).abs() < 3.0, "{cut}");
        // Back at the plateau after K seconds, K = cbrt(max × (1 − β) / scale).
        let k = (p.last_max_rate * (1.0 - BETA) / SCALE).cbrt();
        let mut t = 3.0;
        while t < 3.0 + k {
            p.sent(t);
            t += 0.01;
        }
        p.succeeded(3.0 + k);
        assert!((p.adaptive_rate().unwrap() - p.last_max_rate).abs() < 1.0, "{:?}", p.adaptive_rate());
        // Growth is capped at twice what is sent, and little sending does not lower the rate.
        let before = p.adaptive_rate().unwrap();
        p.succeeded(3.0 + k + 60.0);
        let capped = (2.0 * p.sending_rate(3.0 + k + 60.0)).max(before);
        assert!(p.adaptive_rate().unwrap() <= capped + 1e-9);
        assert!(p.adaptive_rate().unwrap() >= before - 1e-9, "a quiet spell never cuts the rate");
    }

    #[test]
    fn refusals_of_requests_sent_before_a_cut_do_not_cut_again() {
        let mut p = Pacer::new(0.0);
        for _ in 0..40 {
            p.sent(0.1);
        }
        p.throttled(0.2, 0.1, Some(1.0));
        let once = p.adaptive_rate().unwrap();
        for _ in 0..30 {
            p.throttled(0.21, 0.1, Some(1.0));
        }
        assert_eq!(p.adaptive_rate(), Some(once));
        p.throttled(1.5, 1.3, Some(1.0));
        assert!(p.adaptive_rate().unwrap() < once);
    }

    #[test]
    fn a_lone_callers_429_closes_the_gate_without_pacing() {
        let mut p = Pacer::new(0.0);
        p.sent(0.45);
        p.throttled(0.46, 0.45, Some(0.2));
        assert_eq!(p.adaptive_rate(), None);
        assert!((p.reserve(0.46, None, NO_MAX).unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(p.reserve(0.7, None, NO_MAX), Ok(0.0), "after the gate, no pacing");
    }

    #[test]
    fn the_rate_is_never_cut_below_the_floor() {
        let mut p = Pacer::new(0.0);
        for _ in 0..10 {
            p.sent(0.0);
        }
        for i in 0..50 {
            p.throttled(i as f64, i as f64, None);
        }
        assert_eq!(p.adaptive_rate(), Some(MIN_RATE));
        assert!(p.limit(None).unwrap().per_second >= MIN_RATE);
    }

    #[test]
    fn a_fixed_limit_and_the_adaptive_rate_the_lower_wins() {
        let mut p = Pacer::new(0.0);
        let fixed = Limit { per_second: 50.0, burst: 50.0 };
        assert_eq!(p.limit(Some(fixed)), Some(fixed));
        for _ in 0..10 {
            p.sent(0.0);
        }
        p.throttled(0.5, 0.5, None);
        assert!(p.limit(Some(fixed)).unwrap().per_second < 50.0);
    }
}
