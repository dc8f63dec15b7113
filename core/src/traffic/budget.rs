//! The retry budget of a scope (Finagle's default): retries after a 5xx or a connection failure
//! may add at most 20 % of the requests plus 10 a second, so an outage does not triple the load.

/// The share of requests that may be retried.
const PERCENT_CAN_RETRY: f64 = 0.2;
/// Retries a second allowed whatever the traffic.
const MIN_RETRIES_PER_SECOND: f64 = 10.0;
/// How long a deposit counts, in seconds.
const TTL: f64 = 10.0;

/// Tokens: a retry takes one. Requests deposit a fifth of one each, which fade over [`TTL`];
/// a steady allowance refills at [`MIN_RETRIES_PER_SECOND`], holding at most `TTL` seconds' worth.
#[derive(Debug, Clone)]
pub(crate) struct RetryBudget {
    deposits: f64,
    allowance: f64,
    updated: f64,
}

impl RetryBudget {
    pub(crate) fn new(now: f64) -> RetryBudget {
        RetryBudget { deposits: 0.0, allowance: MIN_RETRIES_PER_SECOND * TTL, updated: now }
    }

    fn advance(&mut self, now: f64) {
        let elapsed = (now - self.updated).max(0.0);
        self.updated = self.updated.max(now);
        self.deposits *= (-elapsed / TTL).exp();
        self.allowance = (self.allowance + elapsed * MIN_RETRIES_PER_SECOND).min(MIN_RETRIES_PER_SECOND * TTL);
    }

    /// A first attempt was made.
    pub(crate) fn deposit(&mut self, now: f64) {
        self.advance(now);
        self.deposits += PERCENT_CAN_RETRY;
    }

    /// Takes a retry from the budget: `false` when it is spent (do not retry).
    pub(crate) fn withdraw(&mut self, now: f64) -> bool {
        self.advance(now);
        if self.deposits >= 1.0 {
            self.deposits -= 1.0;
        } else if self.allowance >= 1.0 {
            self.allowance -= 1.0;
        } else {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_gets_a_fifth_of_the_requests_plus_ten_a_second() {
        let mut budget = RetryBudget::new(0.0);
        let (mut requests, mut retries) = (0, 0);
        // 200 requests a second for 60 s, every one failing and asking for a retry.
        for step in 0..12_000 {
            let now = step as f64 / 200.0;
            budget.deposit(now);
            requests += 1;
            if budget.withdraw(now) {
                retries += 1;
            }
        }
        let allowed = 0.2 * requests as f64 + 10.0 * 60.0 + 100.0;
        assert!(retries as f64 <= allowed, "{retries} retries of {requests} requests");
        assert!(retries as f64 >= 0.2 * requests as f64 * 0.9, "{retries}");
    }

    #[test]
    fn a_quiet_scope_still_retries_ten_a_second() {
        let mut budget = RetryBudget::new(0.0);
        let granted = (0..300).filter(|_| budget.withdraw(0.0)).count();
        assert_eq!(granted, 100, "the stored allowance: 10 s of 10 a second");
        assert!(!budget.withdraw(0.0));
        assert!(budget.withdraw(0.1), "refills at 10 a second");
    }
}
