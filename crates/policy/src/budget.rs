//! A retry budget: retries may add at most a share of recent traffic, so a
//! failing dependency cannot multiply the load sent to it.

use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

/// Allows retries up to `ratio` of the requests of the last ten seconds
/// (plus a trickle of `min_per_sec`, so low traffic can still retry).
#[derive(Debug)]
pub struct RetryBudget(TpsBudget);

impl RetryBudget {
    /// A budget of `ratio` retries per request (0 to 1000).
    pub fn new(ratio: f64, min_per_sec: u32) -> Self {
        Self(TpsBudget::new(Duration::from_secs(10), min_per_sec, ratio.clamp(0.0, 1000.0) as f32))
    }

    /// Counts a first attempt.
    pub fn deposit(&self) {
        self.0.deposit();
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn withdraw(&self) -> bool {
        self.0.withdraw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_a_share_of_requests() {
        let budget = RetryBudget::new(0.2, 0);
        for _ in 0..100 {
            budget.deposit();
        }
        let allowed = (0..100).filter(|_| budget.withdraw()).count();
        assert!((15..=25).contains(&allowed), "{allowed} retries for 100 requests at 20%");
    }
}
