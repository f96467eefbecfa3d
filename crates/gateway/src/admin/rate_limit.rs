//! `[admin] rate_limit`: a fixed window of `requests` per `per` for each
//! credential (each client address, before one is known), announced on
//! every answer in the IETF httpapi draft-10 form:
//! `RateLimit-Policy: "default";q=100;w=1` and `RateLimit: "default";r=99;t=1`.
//!
//! A fixed window (not GCRA) because the headers promise a quota that
//! resets at a moment the client can see; the draft describes exactly that.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use http::{HeaderMap, HeaderName, HeaderValue};

/// `RateLimit-Policy`, the quota and its window.
pub(crate) static POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`, what is left of the current window.
pub(crate) static STATE: HeaderName = HeaderName::from_static("ratelimit");

/// Past this many tracked credentials, those of finished windows are forgotten.
const TRACKED: usize = 10_000;

/// Per-credential request counts in the current window.
#[derive(Debug)]
pub(crate) struct RateLimits {
    quota: u32,
    window: Duration,
    epoch: Instant,
    policy: HeaderValue,
    counts: Mutex<HashMap<String, Count>>,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    window: u64,
    used: u32,
}

/// What one request was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Whether the request may go on.
    pub(crate) allowed: bool,
    /// Requests left in the window.
    pub(crate) remaining: u32,
    /// Whole seconds until the window resets (at least 1).
    pub(crate) reset_secs: u64,
}

impl RateLimits {
    /// `quota` requests per `window` for each credential.
    pub(crate) fn new(quota: u32, window: Duration) -> Self {
        let window = window.max(Duration::from_millis(1));
        // The draft counts the window in whole seconds.
        let window_secs = window.as_secs_f64().ceil().max(1.0) as u64;
        let policy = HeaderValue::try_from(format!("\"default\";q={quota};w={window_secs}"))
            .unwrap_or_else(|_| HeaderValue::from_static("\"default\""));
        Self { quota, window, epoch: Instant::now(), policy, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts a request of `credential` now.
    pub(crate) fn check(&self, credential: &str) -> Decision {
        self.check_at(self.epoch.elapsed(), credential)
    }

    fn check_at(&self, since_epoch: Duration, credential: &str) -> Decision {
        let window_nanos = self.window.as_nanos().max(1);
        let now = since_epoch.as_nanos();
        let window = u64::try_from(now / window_nanos).unwrap_or(u64::MAX);
        let ends_in =
            Duration::from_nanos(u64::try_from(window_nanos - now % window_nanos).unwrap_or(u64::MAX));
        let reset_secs = ends_in.as_secs_f64().ceil().max(1.0) as u64;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= TRACKED && !counts.contains_key(credential) {
            counts.retain(|_, c| c.window == window);
        }
        let count = match counts.get_mut(credential) {
            Some(count) => count,
            None => counts.entry(credential.to_owned()).or_insert(Count { window, used: 0 }),
        };
        if count.window != window {
            *count = Count { window, used: 0 };
        }
        let allowed = count.used < self.quota;
        if allowed {
            count.used += 1;
        }
        Decision { allowed, remaining: self.quota - count.used, reset_secs }
    }

    /// Adds the draft-10 headers for `decision` to an answer.
    pub(crate) fn annotate(&self, headers: &mut HeaderMap, decision: Decision) {
        headers.insert(POLICY.clone(), self.policy.clone());
        let state = format!("\"default\";r={};t={}", decision.remaining, decision.reset_secs);
        if let Ok(value) = HeaderValue::try_from(state) {
            headers.insert(STATE.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_until_the_window_turns() {
        let limits = RateLimits::new(3, Duration::from_secs(1));
        let at = Duration::from_millis(200);
        let decisions: Vec<_> = (0..4).map(|_| limits.check_at(at, "key_a")).collect();
        assert_eq!(decisions.iter().map(|d| d.remaining).collect::<Vec<_>>(), [2, 1, 0, 0]);
        assert_eq!(decisions.iter().map(|d| d.allowed).collect::<Vec<_>>(), [true, true, true, false]);
        assert!(decisions.iter().all(|d| d.reset_secs == 1));
        let next = limits.check_at(Duration::from_millis(1_000), "key_a");
        assert!(next.allowed);
        assert_eq!(next.remaining, 2);
    }

    #[test]
    fn credentials_have_their_own_quota() {
        let limits = RateLimits::new(1, Duration::from_secs(60));
        assert!(limits.check_at(Duration::ZERO, "a").allowed);
        assert!(!limits.check_at(Duration::ZERO, "a").allowed);
        let b = limits.check_at(Duration::from_secs(59), "b");
        assert!(b.allowed);
        assert_eq!(b.reset_secs, 1);
    }

    #[test]
    fn headers_use_the_draft_10_form() {
        let limits = RateLimits::new(100, Duration::from_secs(1));
        let mut headers = HeaderMap::new();
        limits.annotate(&mut headers, limits.check_at(Duration::ZERO, "k"));
        assert_eq!(headers[&POLICY], "\"default\";q=100;w=1");
        assert_eq!(headers[&STATE], "\"default\";r=99;t=1");
    }

    #[test]
    fn sub_second_windows_announce_one_second() {
        let limits = RateLimits::new(5, Duration::from_millis(250));
        let mut headers = HeaderMap::new();
        limits.annotate(&mut headers, limits.check_at(Duration::from_millis(100), "k"));
        assert_eq!(headers[&POLICY], "\"default\";q=5;w=1");
    }

    #[test]
    fn forgets_finished_windows_when_many_credentials_are_tracked() {
        let limits = RateLimits::new(1, Duration::from_secs(1));
        for i in 0..TRACKED {
            limits.check_at(Duration::ZERO, &format!("ip:{i}"));
        }
        limits.check_at(Duration::from_secs(5), "new");
        assert_eq!(limits.counts.lock().unwrap().len(), 1);
    }
}
