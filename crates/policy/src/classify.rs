//! What an attempt's outcome means: may it be retried, and does it count
//! against the breaker.

use std::time::Duration;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// An answer, with its `Retry-After` if it had one.
    Response {
        /// HTTP status.
        status: u16,
        /// The wait the answer asked for.
        retry_after: Option<Duration>,
    },
    /// No answer within the per-attempt timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// Any other transport failure (reset, protocol error).
    Failed,
}

impl Attempt {
    /// Whether the breaker counts it as a failure: connect errors, timeouts,
    /// transport failures and 5xx answers; never 4xx or 429.
    pub fn is_failure(&self) -> bool {
        match self {
            Attempt::Response { status, .. } => *status >= 500,
            Attempt::Timeout | Attempt::Connect | Attempt::Failed => true,
        }
    }

    /// The wait a 429/503 answer asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Attempt::Response { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Which outcomes are retried (the manifest's `retry.on`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOn {
    /// Connection failures (and other transport failures before an answer).
    pub connect: bool,
    /// Timeouts.
    pub timeout: bool,
    /// Any 5xx answer.
    pub server_errors: bool,
    /// These status codes.
    pub statuses: Vec<u16>,
}

impl RetryOn {
    /// Whether `attempt` may be retried.
    pub fn retryable(&self, attempt: &Attempt) -> bool {
        match attempt {
            Attempt::Connect | Attempt::Failed => self.connect,
            Attempt::Timeout => self.timeout,
            Attempt::Response { status, .. } => {
                self.statuses.contains(status) || (self.server_errors && (500..600).contains(status))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_ignores_client_errors_and_429() {
        let r = |status| Attempt::Response { status, retry_after: None };
        assert!(r(503).is_failure() && r(500).is_failure() && Attempt::Timeout.is_failure());
        assert!(!r(429).is_failure() && !r(404).is_failure() && !r(200).is_failure());
        let on = RetryOn { connect: true, timeout: false, server_errors: true, statuses: vec![429] };
        assert!(on.retryable(&r(429)) && on.retryable(&r(502)) && on.retryable(&Attempt::Connect));
        assert!(!on.retryable(&r(404)) && !on.retryable(&Attempt::Timeout) && !on.retryable(&r(200)));
    }
}
