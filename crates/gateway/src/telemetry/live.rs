//! The last five minutes of each dependency, for `GET /v1/dependencies` and
//! the SLA check: call and failure counts and a latency histogram in
//! ten-second slots of a ring, so reading costs the same at any load.
//!
//! Prometheus histograms are cumulative since start; operators asking "is
//! Stripe healthy now" need a sliding window, so this keeps its own.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Seconds one slot covers.
const SLOT_SECS: u64 = 10;
/// Slots in the window: 30 × 10 s = 5 minutes.
const SLOTS: usize = 30;
/// The window the figures cover.
pub(crate) const WINDOW: Duration = Duration::from_secs(SLOT_SECS * SLOTS as u64);
/// Latency buckets grow by this factor: quantiles are exact to within ~5 %.
const GROWTH: f64 = 1.1;
/// The lower bound of the first bucket, in microseconds.
const FIRST_US: f64 = 50.0;
/// Buckets from 50 µs up to about 10 minutes; slower calls share the last one.
const BUCKETS: usize = 173;

/// Figures of one dependency over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LiveFigures {
    /// Calls that ended in the window (refused and queued ones included).
    pub(crate) calls: u64,
    /// Calls per second over the part of the window the process has been up.
    pub(crate) rate_per_sec: f64,
    /// Failed calls (no answer, 5xx, breaker open, queued) over all calls; `None` without calls.
    pub(crate) error_rate: Option<f64>,
    /// Median latency in milliseconds (upper bound of its bucket).
    pub(crate) p50_ms: Option<f64>,
    /// 99th percentile latency in milliseconds (upper bound of its bucket).
    pub(crate) p99_ms: Option<f64>,
}

/// Sliding-window statistics for every dependency of the manifest.
#[derive(Debug)]
pub(crate) struct LiveStats {
    started: Instant,
    windows: HashMap<String, Mutex<Window>>,
}

impl LiveStats {
    /// Windows for these dependencies (others are ignored when recorded).
    pub(crate) fn new<'a>(dependencies: impl IntoIterator<Item = &'a str>) -> Self {
        let windows = dependencies.into_iter().map(|d| (d.to_owned(), Mutex::new(Window::new()))).collect();
        Self { started: Instant::now(), windows }
    }

    /// Counts a finished call.
    pub(crate) fn record(&self, dependency: &str, failed: bool, took: Duration) {
        self.record_at(self.started.elapsed(), dependency, failed, took);
    }

    /// The figures of `dependency` now; `None` for a name not in the manifest.
    pub(crate) fn figures(&self, dependency: &str) -> Option<LiveFigures> {
        self.figures_at(self.started.elapsed(), dependency)
    }

    fn record_at(&self, uptime: Duration, dependency: &str, failed: bool, took: Duration) {
        if let Some(window) = self.windows.get(dependency) {
            window.lock().unwrap_or_else(|e| e.into_inner()).record(
                uptime.as_secs() / SLOT_SECS,
                failed,
                took,
            );
        }
    }

    fn figures_at(&self, uptime: Duration, dependency: &str) -> Option<LiveFigures> {
        let window = self.windows.get(dependency)?;
        let window = window.lock().unwrap_or_else(|e| e.into_inner());
        Some(window.figures(uptime))
    }
}

/// One dependency's ring of slots.
#[derive(Debug)]
struct Window {
    slots: Vec<Slot>,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Which ten-second period since start this slot holds now.
    period: u64,
    calls: u64,
    failures: u64,
    latency: Box<[u32; BUCKETS]>,
}

impl Slot {
    fn empty(period: u64) -> Self {
        Self { period, calls: 0, failures: 0, latency: Box::new([0; BUCKETS]) }
    }
}

impl Window {
    fn new() -> Self {
        Self { slots: (0..SLOTS).map(|_| Slot::empty(u64::MAX)).collect() }
    }

    fn record(&mut self, period: u64, failed: bool, took: Duration) {
        let slot = &mut self.slots[(period % SLOTS as u64) as usize];
        if slot.period != period {
            slot.period = period;
            slot.calls = 0;
            slot.failures = 0;
            slot.latency.fill(0);
        }
        slot.calls += 1;
        slot.failures += u64::from(failed);
        let bucket = &mut slot.latency[bucket_of(took)];
        *bucket = bucket.saturating_add(1);
    }

    fn figures(&self, uptime: Duration) -> LiveFigures {
        let now = uptime.as_secs() / SLOT_SECS;
        let live = |slot: &&Slot| {
            slot.period != u64::MAX && slot.period + (SLOTS as u64) > now && slot.period <= now
        };
        let (mut calls, mut failures) = (0u64, 0u64);
        let mut latency = [0u64; BUCKETS];
        for slot in self.slots.iter().filter(live) {
            calls += slot.calls;
            failures += slot.failures;
            for (sum, n) in latency.iter_mut().zip(slot.latency.iter()) {
                *sum += u64::from(*n);
            }
        }
        // The current slot is partly elapsed; count the time the window really covers.
        let covered = uptime.min(WINDOW).as_secs_f64().max(1.0);
        let quantile = |q: f64| -> Option<f64> {
            if calls == 0 {
                return None;
            }
            let rank = ((calls as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            latency.iter().enumerate().find_map(|(i, n)| {
                seen += n;
                (seen >= rank).then(|| upper_bound_us(i) / 1000.0)
            })
        };
        LiveFigures {
            calls,
            rate_per_sec: calls as f64 / covered,
            error_rate: (calls > 0).then(|| failures as f64 / calls as f64),
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
        }
    }
}

fn bucket_of(took: Duration) -> usize {
    let us = took.as_secs_f64() * 1e6;
    if us <= FIRST_US {
        return 0;
    }
    let index = ((us / FIRST_US).ln() / GROWTH.ln()).ceil() as usize;
    index.min(BUCKETS - 1)
}

fn upper_bound_us(bucket: usize) -> f64 {
    FIRST_US * GROWTH.powi(bucket as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> LiveStats {
        LiveStats::new(["stripe"])
    }

    #[test]
    fn empty_window_has_no_quantiles_or_error_rate() {
        let f = stats().figures_at(Duration::from_secs(30), "stripe").unwrap();
        assert_eq!(f.calls, 0);
        assert_eq!(f.error_rate, None);
        assert_eq!(f.p50_ms, None);
        assert_eq!(f.p99_ms, None);
    }

    #[test]
    fn quantiles_are_within_a_bucket_of_the_truth() {
        let s = stats();
        for ms in 1..=100u64 {
            s.record_at(Duration::from_secs(5), "stripe", false, Duration::from_millis(ms));
        }
        let f = s.figures_at(Duration::from_secs(5), "stripe").unwrap();
        assert_eq!(f.calls, 100);
        let p50 = f.p50_ms.unwrap();
        let p99 = f.p99_ms.unwrap();
        assert!((50.0..=55.0).contains(&p50), "p50 {p50}");
        assert!((99.0..=109.0).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn error_rate_and_rate_cover_the_elapsed_time() {
        let s = stats();
        for i in 0..20 {
            s.record_at(Duration::from_secs(i), "stripe", i % 4 == 0, Duration::from_millis(2));
        }
        let f = s.figures_at(Duration::from_secs(20), "stripe").unwrap();
        assert_eq!(f.calls, 20);
        assert_eq!(f.error_rate, Some(0.25));
        assert!((f.rate_per_sec - 1.0).abs() < 1e-9, "{}", f.rate_per_sec);
    }

    #[test]
    fn calls_older_than_five_minutes_fall_out() {
        let s = stats();
        s.record_at(Duration::from_secs(1), "stripe", true, Duration::from_millis(1));
        s.record_at(Duration::from_secs(200), "stripe", false, Duration::from_millis(1));
        assert_eq!(s.figures_at(Duration::from_secs(299), "stripe").unwrap().calls, 2);
        let later = s.figures_at(Duration::from_secs(305), "stripe").unwrap();
        assert_eq!(later.calls, 1);
        assert_eq!(later.error_rate, Some(0.0));
        // A slot reused for a new period starts from zero.
        s.record_at(Duration::from_secs(301), "stripe", false, Duration::from_millis(1));
        assert_eq!(s.figures_at(Duration::from_secs(305), "stripe").unwrap().calls, 2);
        assert_eq!(s.figures_at(Duration::from_secs(1000), "stripe").unwrap().calls, 0);
    }

    #[test]
    fn extreme_latencies_land_in_the_edge_buckets() {
        assert_eq!(bucket_of(Duration::ZERO), 0);
        assert_eq!(bucket_of(Duration::from_secs(86_400)), BUCKETS - 1);
        assert!(upper_bound_us(BUCKETS - 1) > 600e6);
    }

    #[test]
    fn unknown_dependencies_are_ignored() {
        let s = stats();
        s.record_at(Duration::from_secs(1), "nope", false, Duration::from_millis(1));
        assert!(s.figures_at(Duration::from_secs(1), "nope").is_none());
    }
}
