//! Delivery: the workers that take due jobs from the store and hand each to
//! the feature that knows how to deliver it (forwarding an inbound event,
//! sending a queued call, posting an outbound message).
//!
//! Features implement [`Deliver`]; the runtime in [`worker`] does the rest:
//! claiming with leases, keeping leases alive during long deliveries,
//! recording attempts, rescheduling, dead-lettering, and giving leases back
//! on shutdown.

pub mod retention;
pub mod worker;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use junction_store::{AttemptReport, Claimed, RecordKind, Timestamp};

pub use self::worker::{WorkerConfig, Workers};

/// What the feature decided after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered; the job is done.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(Timestamp),
    /// Failed for good (out of attempts or age, or not retryable); dead-letter it.
    DeadLetter,
}

/// One attempt's outcome: what happened (logged) and what to do next.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// What happened, for the attempt log.
    pub report: AttemptReport,
    /// What to do with the job.
    pub verdict: Verdict,
}

/// A feature's way of delivering the jobs of one kind of record.
#[async_trait]
pub trait Deliver: Send + Sync + 'static {
    /// Makes one attempt at `claimed` and decides what follows. Must not
    /// panic; a failure is a verdict.
    async fn deliver(&self, claimed: &Claimed) -> Attempted;
}

/// Which [`Deliver`] handles which kind of record.
#[derive(Clone, Default)]
pub struct Deliverers(HashMap<&'static str, Arc<dyn Deliver>>);

impl std::fmt::Debug for Deliverers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Deliverers {
    /// Routes records of `kind` to `deliver`.
    pub fn with(mut self, kind: RecordKind, deliver: Arc<dyn Deliver>) -> Self {
        self.0.insert(kind.as_str(), deliver);
        self
    }

    /// Whether no kind has a deliverer.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, kind: RecordKind) -> Option<&Arc<dyn Deliver>> {
        self.0.get(kind.as_str())
    }
}
