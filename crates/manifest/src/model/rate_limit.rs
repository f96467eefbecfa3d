//! `{ requests = N, per = "1s" }`, shared by dependencies and the admin API.

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    decode::{Cx, Decode, Table, Value},
    value::HumanDuration,
};

/// At most `requests` per `per`, enforced with GCRA (smooth, no bursts at
/// window edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window; at least 1.
    pub requests: u32,
    /// The window, e.g. "1s" or "1m".
    pub per: HumanDuration,
}

impl Decode for RateLimit {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let requests: Option<u32> = t.required("requests", cx);
        let per: Option<HumanDuration> = t.required("per", cx);
        let requests_ok =
            requests.is_none_or(|r| t.check(cx, "requests", r >= 1, "must be at least 1", "too small"));
        let per_ok = per
            .is_none_or(|p| t.check(cx, "per", !p.get().is_zero(), "must be longer than 0s", "zero window"));
        t.finish(cx);
        (requests_ok && per_ok).then_some(RateLimit { requests: requests?, per: per? })
    }
}
