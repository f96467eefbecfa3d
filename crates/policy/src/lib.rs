//! Resilience policies for outbound HTTP calls, usable in any Rust program:
//! exponential backoff with full jitter that honours `Retry-After`, a retry
//! budget, a circuit breaker over a sliding window, a GCRA rate limiter that
//! waits briefly or says how long to wait, and a bulkhead — each usable
//! directly or as a tower layer ([`BreakerLayer`], [`RateLimitLayer`],
//! [`BulkheadLayer`]).
//!
//! **Architecture Invariant:** this crate knows nothing about axum, the
//! manifest or the store. Time comes from tokio (`tokio::time::pause` in tests).
#![forbid(unsafe_code)]

mod backoff;
mod breaker;
mod budget;
mod bulkhead;
mod classify;
mod layer;
mod rate_limit;
mod retry_after;

pub use crate::{
    backoff::Backoff,
    breaker::{Breaker, BreakerConfig, BreakerState, Open, Permit},
    budget::RetryBudget,
    bulkhead::{Bulkhead, Full},
    classify::{Attempt, RetryOn},
    layer::{BreakerLayer, BreakerService, BulkheadLayer, BulkheadService, RateLimitLayer, RateLimitService},
    rate_limit::{RateLimited, RateLimiter},
    retry_after::retry_after,
};
