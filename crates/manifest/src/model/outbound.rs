//! `[outbound]`: webhooks the application sends to its own customers.

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    decode::{Cx, Decode, Table, Value},
    value::HumanDuration,
};

/// Delivery settings for outbound webhooks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// Delay before each attempt, the first included; its length is the number
    /// of attempts (1 to 50). Default ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"].
    #[serde(default = "default_retry_schedule")]
    pub retry_schedule: Vec<HumanDuration>,
    /// Allow customer endpoints on private, loopback and link-local addresses
    /// (an SSRF guard when false). Default false.
    #[serde(default)]
    pub allow_private_networks: bool,
}

fn default_retry_schedule() -> Vec<HumanDuration> {
    [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000].into_iter().map(HumanDuration::secs).collect()
}

impl Default for Outbound {
    fn default() -> Self {
        Self { retry_schedule: default_retry_schedule(), allow_private_networks: false }
    }
}

impl Decode for Outbound {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let outbound = Outbound {
            retry_schedule: t.or("retry_schedule", cx, d.retry_schedule),
            allow_private_networks: t.or("allow_private_networks", cx, d.allow_private_networks),
        };
        let len = outbound.retry_schedule.len();
        t.check(cx, "retry_schedule", (1..=50).contains(&len), "must have 1 to 50 entries", "wrong length");
        t.finish(cx);
        Some(outbound)
    }
}
