//! Client-side rate limiting with GCRA (governor): smooth, no bursts at
//! window edges. A call waits briefly for its turn, or is told how long it
//! would have to wait.

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, clock::Clock};

/// The call would have to wait longer than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// How long until it would be allowed.
    pub retry_after: Duration,
}

/// At most `requests` per `per`, with bursts up to `requests`.
#[derive(Debug)]
pub struct RateLimiter(DefaultDirectRateLimiter);

impl RateLimiter {
    /// A limiter of `requests` per `per` (both must be non-zero; the manifest checks).
    pub fn new(requests: u32, per: Duration) -> Self {
        let requests = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        let period = (per / requests.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period).expect("a non-zero period").allow_burst(requests);
        Self(governor::RateLimiter::direct(quota))
    }

    /// Takes a turn, waiting up to `max_wait` in all for it. Callers that
    /// wait together race for each turn, so the deadline is fixed up front.
    pub async fn acquire(&self, max_wait: Duration) -> Result<(), RateLimited> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            match self.0.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if wait > left {
                        return Err(RateLimited { retry_after: wait });
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn allows_the_burst_then_paces_or_refuses() {
        let limiter = RateLimiter::new(5, Duration::from_secs(1));
        for _ in 0..5 {
            limiter.acquire(Duration::ZERO).await.unwrap();
        }
        let refused = limiter.acquire(Duration::ZERO).await.unwrap_err();
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_millis(200));
        let started = Instant::now();
        limiter.acquire(Duration::from_secs(1)).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(100), "waited for the next turn");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_waiters_share_the_wait_budget() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5, Duration::from_secs(1)));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..30 {
            let limiter = limiter.clone();
            tasks.spawn(async move { limiter.acquire(Duration::from_millis(500)).await.is_ok() });
        }
        let mut passed = 0;
        while let Some(ok) = tasks.join_next().await {
            passed += usize::from(ok.unwrap());
        }
        assert!(started.elapsed() < Duration::from_millis(900), "nobody waits past the bound");
        assert!((5..=8).contains(&passed), "{passed} passed: the burst of 5 and about 2.5 more in 0.5s");
    }
}
