//! A circuit breaker per dependency: closed → open when the failure rate
//! over a sliding window reaches the threshold (once enough calls were
//! seen) → after `open_for`, half-open: one probe at a time → closed on a
//! successful probe, open again on a failed one.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use tokio::time::Instant;

/// Buckets the sliding window is divided into.
const BUCKETS: u32 = 10;

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Failure share that opens the breaker, in (0, 1].
    pub failure_rate: f64,
    /// Calls needed in the window before the rate counts.
    pub min_calls: u32,
    /// The sliding window.
    pub window: Duration,
    /// How long the breaker stays open before a probe.
    pub open_for: Duration,
}

/// The breaker's state, for metrics and status pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass; outcomes are counted.
    Closed,
    /// Calls are refused until the open period ends.
    Open,
    /// One probe call decides whether to close.
    HalfOpen,
}

/// The breaker refused the call; try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    /// How long until a call may be let through (at least one second, as
    /// `Retry-After` has second resolution).
    pub retry_after: Duration,
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    calls: u32,
    failures: u32,
}

#[derive(Debug)]
struct Inner {
    state: State,
    buckets: VecDeque<Bucket>,
}

/// A circuit breaker. Share it with `Arc`.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Permission for one call. Report its outcome with [`Permit::record`];
/// dropping it unrecorded (an abandoned call) counts as nothing.
#[derive(Debug)]
pub struct Permit {
    breaker: Arc<Breaker>,
    probe: bool,
    recorded: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Arc<Self> {
        Arc::new(Self { config, inner: Mutex::new(Inner { state: State::Closed, buckets: VecDeque::new() }) })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the counts unusable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current state (an expired open period shows as half-open).
    pub fn state(&self) -> BreakerState {
        match self.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if Instant::now() < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Lets a call through, or says how long the breaker stays open.
    pub fn acquire(self: &Arc<Self>) -> Result<Permit, Open> {
        let now = Instant::now();
        let mut inner = self.lock();
        let probe = match inner.state {
            State::Closed => false,
            State::Open { until } if now < until => return Err(open(until - now)),
            State::Open { .. } | State::HalfOpen { probing: false } => {
                inner.state = State::HalfOpen { probing: true };
                true
            }
            State::HalfOpen { probing: true } => return Err(open(Duration::from_secs(1))),
        };
        Ok(Permit { breaker: self.clone(), probe, recorded: false })
    }

    fn record(&self, probe: bool, failure: bool) {
        let now = Instant::now();
        let mut inner = self.lock();
        if probe {
            inner.state = if failure {
                State::Open { until: now + self.config.open_for }
            } else {
                inner.buckets.clear();
                State::Closed
            };
            return;
        }
        if !matches!(inner.state, State::Closed) {
            // The breaker opened while this call was in flight; its outcome is stale.
            return;
        }
        let width = self.config.window / BUCKETS;
        while inner.buckets.front().is_some_and(|b| now.duration_since(b.start) >= self.config.window) {
            inner.buckets.pop_front();
        }
        match inner.buckets.back_mut() {
            Some(b) if now.duration_since(b.start) < width => {
                b.calls += 1;
                b.failures += u32::from(failure);
            }
            _ => inner.buckets.push_back(Bucket { start: now, calls: 1, failures: u32::from(failure) }),
        }
        let (calls, failures) =
            inner.buckets.iter().fold((0u32, 0u32), |(c, f), b| (c + b.calls, f + b.failures));
        if calls >= self.config.min_calls
            && f64::from(failures) >= self.config.failure_rate * f64::from(calls)
        {
            inner.state = State::Open { until: now + self.config.open_for };
            inner.buckets.clear();
        }
    }
}

fn open(remaining: Duration) -> Open {
    Open { retry_after: remaining.max(Duration::from_secs(1)) }
}

impl Permit {
    /// Reports the call's outcome: `failure` for connect errors, timeouts
    /// and 5xx answers (never 4xx or 429).
    pub fn record(mut self, failure: bool) {
        self.recorded = true;
        self.breaker.record(self.probe, failure);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            // An abandoned probe must not keep the breaker half-open forever.
            let mut inner = self.breaker.lock();
            if matches!(inner.state, State::HalfOpen { probing: true }) {
                inner.state = State::HalfOpen { probing: false };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            failure_rate: 0.5,
            min_calls: 4,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_half_opens_and_closes() {
        let b = Breaker::new(config());
        for failure in [false, true, false] {
            b.acquire().unwrap().record(failure);
        }
        assert_eq!(b.state(), BreakerState::Closed, "below min_calls");
        b.acquire().unwrap().record(true);
        assert_eq!(b.state(), BreakerState::Open, "2 of 4 failed");
        assert_eq!(b.acquire().unwrap_err().retry_after, Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(5)).await;
        let probe = b.acquire().unwrap();
        assert!(b.acquire().is_err(), "one probe at a time");
        probe.record(true);
        assert_eq!(b.state(), BreakerState::Open, "a failed probe reopens");
        tokio::time::advance(Duration::from_secs(5)).await;
        b.acquire().unwrap().record(false);
        assert_eq!(b.state(), BreakerState::Closed);
        b.acquire().unwrap().record(true);
        assert_eq!(b.state(), BreakerState::Closed, "the window restarted when it closed");
    }

    #[tokio::test(start_paused = true)]
    async fn old_failures_leave_the_window() {
        let b = Breaker::new(config());
        for _ in 0..3 {
            b.acquire().unwrap().record(true);
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        for _ in 0..3 {
            b.acquire().unwrap().record(false);
        }
        b.acquire().unwrap().record(true);
        assert_eq!(b.state(), BreakerState::Closed, "1 of 4 in the window");
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_frees_the_slot() {
        let b = Breaker::new(BreakerConfig { min_calls: 1, ..config() });
        b.acquire().unwrap().record(true);
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(b.acquire().unwrap());
        assert!(b.acquire().is_ok());
    }

    #[derive(Debug, Clone)]
    enum Step {
        Call { failure: bool },
        Wait { ms: u64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            any::<bool>().prop_map(|failure| Step::Call { failure }),
            (0u64..8000).prop_map(|ms| Step::Wait { ms }),
        ]
    }

    proptest! {
        /// Whatever happens: an open breaker refuses calls until open_for has
        /// passed since it opened, a half-open one admits one probe, and the
        /// breaker only opens on a window meeting min_calls and the rate.
        #[test]
        fn state_machine_invariants(steps in proptest::collection::vec(step(), 1..120)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
            rt.block_on(async {
                let cfg = config();
                let b = Breaker::new(cfg);
                let mut opened_at: Option<Instant> = None;
                for s in steps {
                    match s {
                        Step::Wait { ms } => tokio::time::advance(Duration::from_millis(ms)).await,
                        Step::Call { failure } => {
                            let before = b.state();
                            match b.acquire() {
                                Ok(permit) => {
                                    if let Some(at) = opened_at {
                                        prop_assert!(Instant::now().duration_since(at) >= cfg.open_for, "let through while open");
                                        prop_assert!(b.acquire().is_err(), "a second concurrent probe");
                                    }
                                    permit.record(failure);
                                    match b.state() {
                                        BreakerState::Open => opened_at = Some(Instant::now()),
                                        BreakerState::Closed => opened_at = None,
                                        BreakerState::HalfOpen => {}
                                    }
                                }
                                Err(open) => {
                                    prop_assert!(before != BreakerState::Closed, "refused while closed");
                                    prop_assert!(open.retry_after >= Duration::from_secs(1));
                                }
                            }
                        }
                    }
                }
                Ok(())
            })?;
        }
    }
}
