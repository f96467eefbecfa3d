//! Latency samples and their summary.

use std::time::Duration;

/// What the workers measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    latencies_us: Vec<u32>,
    errors: u64,
}

impl Report {
    pub(crate) fn record(&mut self, took: Duration, ok: bool) {
        self.latencies_us.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        self.errors += u64::from(!ok);
    }

    pub(crate) fn merge(&mut self, other: Report) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
    }

    /// One line: `requests=N errors=N rps=N p50_ms=N p99_ms=N`.
    pub(crate) fn summary(mut self, elapsed: Duration) -> String {
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        let pct = |p: f64| {
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n.max(1)) - 1;
            self.latencies_us.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        format!(
            "requests={n} errors={} rps={:.0} p50_ms={:.3} p99_ms={:.3}",
            self.errors,
            n as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99)
        )
    }
}
