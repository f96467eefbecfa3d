//! The values stored and returned: records, jobs, leases, attempts, pages,
//! API keys.

use std::{fmt, str::FromStr};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Timestamp;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7): later ids sort after earlier ones.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// The id of a record (an event, a queued call, a message) or of an audit entry.
    RecordId
);
id_type!(
    /// The id of one delivery job of a record.
    JobId
);

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// An inbound webhook; topic = source name.
    Event,
    /// A queued egress call; topic = dependency name.
    Call,
    /// An outbound webhook message; topic = application id.
    Message,
}

impl RecordKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Event => "event",
            RecordKind::Call => "call",
            RecordKind::Message => "message",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, crate::StoreError> {
        Ok(match s {
            "event" => RecordKind::Event,
            "call" => RecordKind::Call,
            "message" => RecordKind::Message,
            other => return Err(crate::StoreError::Corrupt(format!("unknown record kind {other:?}"))),
        })
    }
}

/// Where a record's deliveries stand, over all its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordStatus {
    /// At least one job is still to be delivered.
    Pending,
    /// Every job was delivered.
    Delivered,
    /// No job is pending and at least one was dead-lettered.
    Dead,
    /// The record has no jobs (events with no forward target).
    Stored,
}

impl RecordStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Pending => "pending",
            RecordStatus::Delivered => "delivered",
            RecordStatus::Dead => "dead",
            RecordStatus::Stored => "stored",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, crate::StoreError> {
        Ok(match s {
            "pending" => RecordStatus::Pending,
            "delivered" => RecordStatus::Delivered,
            "dead" => RecordStatus::Dead,
            "stored" => RecordStatus::Stored,
            other => return Err(crate::StoreError::Corrupt(format!("unknown record status {other:?}"))),
        })
    }
}

/// A record to append, with the jobs that deliver it.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// What it is.
    pub kind: RecordKind,
    /// The source, dependency or application it belongs to.
    pub topic: String,
    /// Deduplication key within (kind, topic), such as a provider's delivery id.
    pub dedupe_key: Option<String>,
    /// Headers to keep (already stripped of credentials by the caller).
    pub headers: Vec<(String, String)>,
    /// The body, as received.
    pub body: Bytes,
    /// Feature-specific details (method, path, idempotency key, callback...).
    pub meta: serde_json::Value,
    /// Delivery jobs, committed with the record.
    pub jobs: Vec<NewJob>,
}

/// A delivery job to create with a record.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Where it goes: a URL or an endpoint id.
    pub target: String,
    /// When it first becomes due; now when `None`.
    pub due_at: Option<Timestamp>,
}

/// The outcome of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The record's id (the first record's, for a duplicate).
    pub id: RecordId,
    /// Whether a record with the same dedupe key already existed.
    pub duplicate: bool,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its id.
    pub id: RecordId,
    /// What it is.
    pub kind: RecordKind,
    /// The source, dependency or application.
    pub topic: String,
    /// Its deduplication key, if any.
    pub dedupe_key: Option<String>,
    /// When it was appended.
    pub created_at: Timestamp,
    /// Stored headers.
    pub headers: Vec<(String, String)>,
    /// Stored body.
    pub body: Bytes,
    /// Feature-specific details.
    pub meta: serde_json::Value,
    /// Delivery status over its jobs.
    pub status: RecordStatus,
}

/// The state of a delivery job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting until it is due.
    Ready,
    /// Held by a worker under a lease.
    Leased,
    /// Delivered.
    Delivered,
    /// Given up on (dead-lettered).
    Dead,
}

impl JobState {
    pub(crate) fn parse(state: &str, leased: bool) -> Result<Self, crate::StoreError> {
        Ok(match (state, leased) {
            ("ready", false) => JobState::Ready,
            ("ready", true) => JobState::Leased,
            ("delivered", _) => JobState::Delivered,
            ("dead", _) => JobState::Dead,
            (other, _) => return Err(crate::StoreError::Corrupt(format!("unknown job state {other:?}"))),
        })
    }
}

/// A delivery job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The record it delivers.
    pub record_id: RecordId,
    /// Where it goes.
    pub target: String,
    /// Where it stands.
    pub state: JobState,
    /// Attempts so far (claims, less releases).
    pub attempts: u32,
    /// When it is next due (or when its lease ends, while leased).
    pub due_at: Timestamp,
    /// When it was created.
    pub created_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// A worker's hold on a job. The owner carries a token unique to the claim,
/// which fences it: once the lease expires and the job is claimed again (or
/// re-driven), this lease can change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job held.
    pub job: JobId,
    /// Who holds it: the worker's name, `#`, and a token unique to this claim.
    pub owner: String,
    /// The attempt this lease is for (1 for the first).
    pub attempt: u32,
    /// When another worker may take the job.
    pub expires_at: Timestamp,
}

/// The lease owner stored for one claim: the worker's name and a token
/// unique to the claim.
pub(crate) fn claim_token(owner: &str) -> String {
    format!("{owner}#{}", Uuid::now_v7().simple())
}

/// A claimed job with its record.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The hold on the job.
    pub lease: Lease,
    /// The job.
    pub job: Job,
    /// What it delivers.
    pub record: Record,
}

/// What happened in one delivery attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptReport {
    /// When the attempt started.
    pub started_at: Timestamp,
    /// How long it took.
    pub duration_ms: u64,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// The start of the answer's body, for the attempt log.
    pub response_excerpt: Option<String>,
}

/// A logged attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The job.
    pub job: JobId,
    /// 1 for the first attempt.
    pub number: u32,
    /// What happened.
    pub report: AttemptReport,
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Only this source, dependency or application.
    pub topic: Option<String>,
    /// Only records with this delivery status.
    pub status: Option<RecordStatus>,
    /// Only records created at or after this time.
    pub since: Option<Timestamp>,
    /// Only records created strictly before this time.
    pub until: Option<Timestamp>,
    /// Only records whose `meta` is a JSON object with each of these
    /// top-level fields equal to the value, compared as text: a string as is,
    /// a number as its JSON text (`("status", "200")` matches `"status": 200`),
    /// a boolean as `true` or `false`. A field that is missing, null, an
    /// object or an array never matches. Field names are matched exactly,
    /// never parsed as paths; a name or value holding a NUL matches nothing.
    pub meta: Vec<(String, String)>,
}

impl RecordFilter {
    /// Whether the filter asks for text no record can hold: a NUL character,
    /// which PostgreSQL text cannot store (and would refuse as a parameter).
    /// Both backends then answer an empty page rather than an error.
    pub(crate) fn matches_nothing(&self) -> bool {
        let nul = |s: &str| s.contains('\0');
        self.topic.as_deref().is_some_and(nul)
            || self.meta.iter().any(|(field, value)| nul(field) || nul(value))
    }
}

/// Which page to return: records older than the cursor, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// The `next` cursor of the previous page; `None` for the first.
    pub after: Option<RecordId>,
    /// Page size, 1 to 1000.
    pub limit: usize,
}

impl PageRequest {
    /// The page size the backends serve: `limit` brought within 1 to 1000.
    pub(crate) fn size(&self) -> usize {
        self.limit.clamp(1, 1000)
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// The cursor of the next page, if there may be one.
    pub next: Option<RecordId>,
}

impl<T> Page<T> {
    /// The page of `fetched`, which holds up to `limit + 1` items: the one
    /// past the limit is not returned, it only shows there is a next page.
    pub(crate) fn from_fetched(mut fetched: Vec<T>, limit: usize, id: impl Fn(&T) -> RecordId) -> Self {
        let next = if fetched.len() > limit {
            fetched.truncate(limit);
            fetched.last().map(id)
        } else {
            None
        };
        Page { items: fetched, next }
    }
}

/// A stored answer for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers to replay.
    pub headers: Vec<(String, String)>,
    /// Body to replay.
    pub body: Bytes,
}

/// The state of an idempotency key when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use: the caller handles the request, then completes or abandons the key.
    Started,
    /// Another request with this key is being handled now (answer 409).
    InProgress,
    /// The key was used with a different request (answer 422).
    Mismatch,
    /// The key was used with the same request: replay this answer.
    Completed(StoredResponse),
}

/// What retention keeps.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Finished records (all jobs delivered or dead, or none) created before this go.
    pub records_before: Timestamp,
    /// Audit entries created before this go.
    pub audit_before: Timestamp,
}

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Records.
    pub records: u64,
    /// Audit entries.
    pub audit_entries: u64,
    /// Jobs of those records.
    pub jobs: u64,
    /// Attempts of those jobs.
    pub attempts: u64,
    /// Expired idempotency keys.
    pub idempotency_keys: u64,
}

/// Job counts of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    /// Record kind.
    pub kind: RecordKind,
    /// Source, dependency or application.
    pub topic: String,
    /// Jobs waiting.
    pub ready: u64,
    /// Jobs held by workers.
    pub leased: u64,
    /// Dead-lettered jobs.
    pub dead: u64,
}

/// A management API key as stored: its id, scope and hash, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id, chosen by the caller (shown to operators, never secret).
    pub id: String,
    /// What it may do, opaque to the store (such as `read`, `write`, `admin`).
    pub scope: String,
    /// The key's hash, opaque to the store; unique among keys.
    pub hash: String,
    /// When it was created (the store's clock).
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Its id; unique among keys, revoked ones included.
    pub id: String,
    /// What it may do, opaque to the store.
    pub scope: String,
    /// The key's hash (never the key itself); unique among keys.
    pub hash: String,
}

impl NewApiKey {
    /// The key as stored at `now`, not revoked.
    pub(crate) fn stored_at(&self, now: Timestamp) -> ApiKey {
        ApiKey {
            id: self.id.clone(),
            scope: self.scope.clone(),
            hash: self.hash.clone(),
            created_at: now,
            revoked_at: None,
        }
    }
}

/// Headers as stored (a JSON array of pairs).
pub(crate) fn headers_to_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn headers_from_json(text: &str) -> Result<Vec<(String, String)>, crate::StoreError> {
    serde_json::from_str(text).map_err(|e| crate::StoreError::Corrupt(format!("headers: {e}")))
}
