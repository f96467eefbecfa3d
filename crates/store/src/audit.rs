//! The audit log as the store keeps it: one row per audited action in a
//! table of its own, apart from records and their jobs.
//!
//! A proxied call writes one entry, so appending must be cheap: an entry is
//! a single row keyed by a time-ordered id (one B-tree, appended at its
//! end) plus one index by topic. Newest-first order, time windows and
//! retention are all ranges of that id, so they need no index of their own.

use std::sync::Mutex;

use bytes::Bytes;
use uuid::{ContextV7, Uuid};

use crate::{RecordId, Timestamp};

/// An audited action to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// What kind of action, e.g. `proxy`; opaque to the store.
    pub kind: String,
    /// The dependency, source or `admin`.
    pub topic: String,
    /// The HTTP status answered, if one was.
    pub status: Option<u16>,
    /// Who: a credential id or a client address.
    pub caller: String,
    /// The rest of the entry (method, path, outcome, ...) as the text of a
    /// JSON object; opaque to the store, returned as given.
    pub detail: String,
    /// The request body (already redacted), when bodies are audited.
    pub body: Option<Bytes>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id; ids sort by time.
    pub id: RecordId,
    /// When it was appended, by the store's clock to the millisecond (never
    /// earlier than the entry before it, should the clock step back).
    pub at: Timestamp,
    /// As appended.
    pub kind: String,
    /// As appended.
    pub topic: String,
    /// As appended.
    pub status: Option<u16>,
    /// As appended.
    pub caller: String,
    /// As appended.
    pub detail: String,
    /// As appended.
    pub body: Option<Bytes>,
}

/// Which audit entries to list; the conditions combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this dependency, source or `admin`.
    pub topic: Option<String>,
    /// Only entries that answered this status.
    pub status: Option<u16>,
    /// Only this caller.
    pub caller: Option<String>,
    /// Only entries appended at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries appended strictly before this time.
    pub until: Option<Timestamp>,
}

impl AuditFilter {
    /// Whether the filter asks for text no entry can hold (a NUL character,
    /// which PostgreSQL text cannot store): both backends answer an empty page.
    pub(crate) fn matches_nothing(&self) -> bool {
        [&self.kind, &self.topic, &self.caller].into_iter().flatten().any(|s| s.contains('\0'))
    }
}

/// Hands out audit ids: UUIDv7s carrying the store clock's time, strictly
/// increasing within the process even when many share a millisecond.
#[derive(Debug, Default)]
pub(crate) struct AuditIds(Mutex<ContextV7>);

impl AuditIds {
    /// The next id, for an entry appended at `now`.
    pub(crate) fn next(&self, now: Timestamp) -> RecordId {
        let millis = clamp_millis(now);
        let ts = uuid::Timestamp::from_unix(&self.0, millis / 1000, (millis % 1000) as u32 * 1_000_000);
        RecordId(Uuid::new_v7(ts))
    }
}

/// The smallest id an entry appended at `at` can have: entries at or after
/// `at` have ids at or above it, entries before it have ids below.
pub(crate) fn first_id_at(at: Timestamp) -> RecordId {
    RecordId(uuid::Builder::from_unix_timestamp_millis(clamp_millis(at), &[0; 10]).into_uuid())
}

/// When the entry with this id was appended.
pub(crate) fn time_of(id: RecordId) -> Timestamp {
    let (secs, nanos) = id.0.get_timestamp().map_or((0, 0), |ts| ts.to_unix());
    Timestamp(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000) + i64::from(nanos / 1_000_000))
}

/// A stored status as the HTTP status it was written from.
pub(crate) fn stored_status(stored: Option<i64>) -> crate::Result<Option<u16>> {
    stored
        .map(u16::try_from)
        .transpose()
        .map_err(|e| crate::StoreError::Corrupt(format!("audit status: {e}")))
}

/// UUIDv7 holds 48 bits of milliseconds since the epoch.
fn clamp_millis(at: Timestamp) -> u64 {
    u64::try_from(at.millis()).unwrap_or(0).min((1 << 48) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_within_a_millisecond_and_carry_its_time() {
        let ids = AuditIds::default();
        let at = Timestamp(1_764_000_000_123);
        let many: Vec<RecordId> = (0..1000).map(|_| ids.next(at)).collect();
        assert!(many.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
        assert!(many.iter().all(|id| time_of(*id) == at));
        assert!(first_id_at(at) <= many[0]);
        assert!(first_id_at(Timestamp(at.millis() + 1)) > many[999]);
        // A clock that steps back does not break the order: the entry keeps the later time.
        let after_step_back = ids.next(Timestamp(at.millis() - 5));
        assert!(after_step_back > many[999]);
        assert_eq!(time_of(after_step_back), at);
    }

    #[test]
    fn times_outside_uuidv7_are_clamped() {
        assert_eq!(time_of(first_id_at(Timestamp(-5))), Timestamp(0));
        assert_eq!(time_of(first_id_at(Timestamp(i64::MAX))).millis(), (1 << 48) - 1);
    }

    #[test]
    fn nul_text_matches_nothing() {
        assert!(AuditFilter { caller: Some("a\0".into()), ..Default::default() }.matches_nothing());
        assert!(!AuditFilter { caller: Some("a".into()), ..Default::default() }.matches_nothing());
    }
}
