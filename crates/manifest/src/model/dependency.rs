//! `[dependencies.NAME]`: a third-party API called through `/proxy/NAME/...`.

use std::{fmt, path::PathBuf};

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use super::RateLimit;
use crate::{
    decode::{Cx, Decode, Interpolated, Table, Value, keyword, wrong_type},
    diagnostic::Problem,
    secret::Secret,
    value::{HeaderName, HttpUrl, HumanDuration, Percent, string_schema},
};

/// One upstream API and the policies every call to it goes through.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// Where calls go: `/proxy/NAME/v1/x` is sent to `base_url` + `/v1/x`.
    pub base_url: HttpUrl,
    /// The team that owns this integration.
    #[serde(default)]
    pub owner: Option<String>,
    /// How much the product suffers when it fails. Default "medium".
    #[serde(default)]
    pub criticality: Criticality,
    /// What the provider promises; compared with what is observed.
    #[serde(default)]
    pub sla: Option<Sla>,
    /// What happens when a call cannot be made now: "fail" (default) or "queue".
    #[serde(default)]
    pub fallback: Fallback,
    /// Limit for each attempt, from connect to the end of the response head. Default "10s".
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Retries with exponential backoff and full jitter.
    #[serde(default)]
    pub retry: Retry,
    /// Stops calling a failing upstream for a while.
    #[serde(default)]
    pub breaker: Breaker,
    /// Client-side rate limit, so the provider's own limit is never hit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Most calls in flight at once; more get 503. Unlimited when absent.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    /// Header carrying the idempotency key, added to retried or queued unsafe
    /// requests that lack one. Default "Idempotency-Key".
    #[serde(default = "default_idempotency_header")]
    pub idempotency_header: HeaderName,
    /// Credentials added to every call; never logged.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// What to hide from the audit log.
    #[serde(default)]
    pub redact: Redact,
    /// Record request bodies in the audit log (after `redact`). Default false.
    #[serde(default)]
    pub audit_bodies: bool,
    /// A PEM file of extra CA certificates to trust for this upstream.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<PathBuf>,
    /// Limits for queued calls (with `fallback = "queue"`).
    #[serde(default)]
    pub queue: Queue,
}

fn default_timeout() -> HumanDuration {
    HumanDuration::secs(10)
}

fn default_idempotency_header() -> HeaderName {
    "Idempotency-Key".parse().expect("a valid header name")
}

/// How much the product depends on a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// The product is down without it.
    Critical,
    /// A main feature is down without it.
    High,
    /// Some features degrade.
    #[default]
    Medium,
    /// Nobody notices for a while.
    Low,
}

impl Decode for Criticality {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        use Criticality::*;
        keyword(value, key, cx, &[("critical", Critical), ("high", High), ("medium", Medium), ("low", Low)])
    }
}

/// What to do with a call that cannot be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Answer with the failure.
    #[default]
    Fail,
    /// Store the call durably, answer 202, deliver it later.
    Queue,
}

impl Decode for Fallback {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        keyword(value, key, cx, &[("fail", Fallback::Fail), ("queue", Fallback::Queue)])
    }
}

/// The provider's service level, as published or contracted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// Share of successful calls, e.g. "99.9%".
    #[serde(default)]
    pub availability: Option<Percent>,
    /// 99th percentile latency, e.g. "800ms".
    #[serde(default)]
    pub p99: Option<HumanDuration>,
}

impl Decode for Sla {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let sla = Sla { availability: t.optional("availability", cx), p99: t.optional("p99", cx) };
        t.finish(cx);
        Some(sla)
    }
}

/// Retry policy. `attempts` counts every attempt, the first included.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first included (1 means no retry). 1 to 100, default 3.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Base delay of the exponential backoff. Default "100ms".
    #[serde(default = "default_backoff")]
    pub backoff: HumanDuration,
    /// Largest delay between attempts; also the longest `Retry-After` that is
    /// waited for. Default "10s".
    #[serde(default = "default_max_backoff")]
    pub max_backoff: HumanDuration,
    /// What is retried: "connect", "timeout", "5xx", or a status code such as "429".
    /// Default ["connect", "timeout", "429", "5xx"].
    #[serde(default = "default_retry_on")]
    pub on: Vec<RetryOn>,
    /// Retries allowed as a share of recent requests (0 to 1), so a failing
    /// upstream cannot multiply traffic. Default 0.2.
    #[serde(default = "default_budget")]
    pub budget: f64,
}

fn default_attempts() -> u32 {
    3
}
fn default_backoff() -> HumanDuration {
    HumanDuration::millis(100)
}
fn default_max_backoff() -> HumanDuration {
    HumanDuration::secs(10)
}
fn default_retry_on() -> Vec<RetryOn> {
    vec![RetryOn::Connect, RetryOn::Timeout, RetryOn::Status(429), RetryOn::ServerError]
}
fn default_budget() -> f64 {
    0.2
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: default_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
            on: default_retry_on(),
            budget: default_budget(),
        }
    }
}

impl Decode for Retry {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let retry = Retry {
            attempts: t.or("attempts", cx, d.attempts),
            backoff: t.or("backoff", cx, d.backoff),
            max_backoff: t.or("max_backoff", cx, d.max_backoff),
            on: t.or("on", cx, d.on),
            budget: t.or("budget", cx, d.budget),
        };
        t.check(
            cx,
            "attempts",
            (1..=100).contains(&retry.attempts),
            "must be between 1 and 100",
            "out of range",
        );
        t.check(
            cx,
            "max_backoff",
            retry.backoff <= retry.max_backoff,
            &format!("must not be shorter than `backoff` ({})", retry.backoff),
            "shorter than backoff",
        );
        t.check(cx, "budget", (0.0..=1.0).contains(&retry.budget), "must be between 0 and 1", "out of range");
        t.finish(cx);
        Some(retry)
    }
}

/// A kind of failure that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOn {
    /// The connection could not be made.
    Connect,
    /// The attempt took longer than `timeout`.
    Timeout,
    /// Any 5xx answer.
    ServerError,
    /// One status code, 400 to 599.
    Status(u16),
}

impl fmt::Display for RetryOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryOn::Connect => f.write_str("connect"),
            RetryOn::Timeout => f.write_str("timeout"),
            RetryOn::ServerError => f.write_str("5xx"),
            RetryOn::Status(code) => write!(f, "{code}"),
        }
    }
}

impl Serialize for RetryOn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

string_schema!(RetryOn, "RetryOn", {
    "anyOf": [
        { "type": "string", "pattern": "^(connect|timeout|5xx|[45][0-9][0-9])$" },
        { "type": "integer", "minimum": 400, "maximum": 599 }
    ]
});

impl Decode for RetryOn {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let text = match value.get_ref() {
            toml::de::DeValue::String(_) => Interpolated::decode(value, key, cx)?.value,
            toml::de::DeValue::Integer(i) => i.as_str().to_owned(),
            _ => {
                wrong_type(value, key, "a string such as \"5xx\" or \"429\"", cx);
                return None;
            }
        };
        let parsed = match text.as_str() {
            "connect" => Some(RetryOn::Connect),
            "timeout" => Some(RetryOn::Timeout),
            "5xx" => Some(RetryOn::ServerError),
            code => code.parse::<u16>().ok().filter(|c| (400..=599).contains(c)).map(RetryOn::Status),
        };
        if parsed.is_none() {
            cx.report(
                Problem::new(
                    value.span(),
                    format!("`{key}`: {text:?} is not a retryable condition"),
                    "unknown condition",
                )
                .with_help(
                    "use \"connect\", \"timeout\", \"5xx\" or a status code from 400 to 599, such as \"429\"",
                ),
            );
        }
        parsed
    }
}

/// Circuit breaker: opens when the failure rate over `window` reaches
/// `failure_rate` once `min_calls` calls were seen; stays open for `open_for`,
/// then lets a probe through. Connect errors, timeouts and 5xx count as
/// failures; 4xx and 429 do not.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    /// Failure share that opens the breaker, in (0, 1]. Default 0.5.
    #[serde(default = "default_failure_rate")]
    pub failure_rate: f64,
    /// Calls needed in the window before the rate counts. Default 20.
    #[serde(default = "default_min_calls")]
    pub min_calls: u32,
    /// Sliding window the rate is measured over. Default "30s".
    #[serde(default = "default_window")]
    pub window: HumanDuration,
    /// How long the breaker stays open before a probe. Default "30s".
    #[serde(default = "default_open_for")]
    pub open_for: HumanDuration,
}

fn default_failure_rate() -> f64 {
    0.5
}
fn default_min_calls() -> u32 {
    20
}
fn default_window() -> HumanDuration {
    HumanDuration::secs(30)
}
fn default_open_for() -> HumanDuration {
    HumanDuration::secs(30)
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            failure_rate: default_failure_rate(),
            min_calls: default_min_calls(),
            window: default_window(),
            open_for: default_open_for(),
        }
    }
}

impl Decode for Breaker {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let b = Breaker {
            failure_rate: t.or("failure_rate", cx, d.failure_rate),
            min_calls: t.or("min_calls", cx, d.min_calls),
            window: t.or("window", cx, d.window),
            open_for: t.or("open_for", cx, d.open_for),
        };
        let rate_ok = b.failure_rate > 0.0 && b.failure_rate <= 1.0;
        t.check(cx, "failure_rate", rate_ok, "must be greater than 0 and at most 1", "out of range");
        t.check(cx, "min_calls", b.min_calls >= 1, "must be at least 1", "too small");
        t.check(cx, "window", !b.window.get().is_zero(), "must be longer than 0s", "zero window");
        t.check(cx, "open_for", !b.open_for.get().is_zero(), "must be longer than 0s", "zero duration");
        t.finish(cx);
        Some(b)
    }
}

/// Credentials Junction adds to every call to the dependency.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// `Authorization: Basic <base64(username:password)>`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A header of the provider's choosing, such as `X-Api-Key`.
    Header {
        /// The header name.
        name: HeaderName,
        /// The header value.
        value: Secret,
    },
}

#[derive(Clone, Copy)]
enum AuthType {
    Bearer,
    Basic,
    Header,
}

impl Decode for Auth {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let kind = match t.raw("type") {
            Some(v) => keyword(
                v,
                &t.path_of("type"),
                cx,
                &[("bearer", AuthType::Bearer), ("basic", AuthType::Basic), ("header", AuthType::Header)],
            ),
            None => {
                let span = t.span();
                cx.report(
                    Problem::new(span, format!("missing required key `{key}.type`"), "`auth` needs `type`")
                        .with_help("`type` is \"bearer\", \"basic\" or \"header\""),
                );
                None
            }
        };
        let auth = match kind {
            Some(AuthType::Bearer) => t.required("token", cx).map(|token| Auth::Bearer { token }),
            Some(AuthType::Basic) => {
                let username = t.required("username", cx);
                let password = t.required("password", cx);
                username.zip(password).map(|(username, password)| Auth::Basic { username, password })
            }
            Some(AuthType::Header) => {
                let name = t.required("name", cx);
                let value = t.required("value", cx);
                name.zip(value).map(|(name, value)| Auth::Header { name, value })
            }
            // The other keys cannot be judged without a valid type.
            None => return None,
        };
        t.finish(cx);
        auth
    }
}

/// What to hide from the audit log.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redact {
    /// Header names whose values are replaced by "***" (besides credentials,
    /// which always are).
    #[serde(default)]
    pub headers: Vec<HeaderName>,
    /// Dotted paths into JSON bodies whose values are replaced, e.g. "card.number".
    #[serde(default)]
    pub json: Vec<String>,
}

impl Decode for Redact {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let redact = Redact { headers: t.or("headers", cx, Vec::new()), json: t.or("json", cx, Vec::new()) };
        let paths_ok = redact.json.iter().all(|p| p.split('.').all(|seg| !seg.is_empty()));
        t.check(cx, "json", paths_ok, "must hold dotted paths such as \"card.number\"", "empty path segment");
        t.finish(cx);
        Some(redact)
    }
}

/// Limits for calls stored with `fallback = "queue"`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// A queued call older than this is dead-lettered. Default "72h".
    #[serde(default = "default_max_age")]
    pub max_age: HumanDuration,
    /// A queued call is dead-lettered after this many attempts. Default 50.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_max_age() -> HumanDuration {
    HumanDuration::secs(72 * 3600)
}
fn default_max_attempts() -> u32 {
    50
}

impl Default for Queue {
    fn default() -> Self {
        Self { max_age: default_max_age(), max_attempts: default_max_attempts() }
    }
}

impl Decode for Queue {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let q = Queue {
            max_age: t.or("max_age", cx, d.max_age),
            max_attempts: t.or("max_attempts", cx, d.max_attempts),
        };
        t.check(cx, "max_age", !q.max_age.get().is_zero(), "must be longer than 0s", "zero duration");
        t.check(cx, "max_attempts", q.max_attempts >= 1, "must be at least 1", "too small");
        t.finish(cx);
        Some(q)
    }
}

impl Decode for Dependency {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let base_url: Option<HttpUrl> = t.required("base_url", cx);
        let has_base_url = base_url.is_some();
        // Keep checking the other keys when base_url is bad, so every problem is reported.
        let dep = Dependency {
            base_url: base_url.unwrap_or_else(|| "http://invalid".parse().expect("valid URL")),
            owner: t.optional("owner", cx),
            criticality: t.section("criticality", cx),
            sla: t.optional("sla", cx),
            fallback: t.section("fallback", cx),
            timeout: t.or("timeout", cx, default_timeout()),
            retry: t.section("retry", cx),
            breaker: t.section("breaker", cx),
            rate_limit: t.optional("rate_limit", cx),
            max_concurrency: t.optional("max_concurrency", cx),
            idempotency_header: t.or("idempotency_header", cx, default_idempotency_header()),
            auth: t.optional("auth", cx),
            redact: t.section("redact", cx),
            audit_bodies: t.or("audit_bodies", cx, false),
            ca_file: t.optional::<String>("ca_file", cx).map(PathBuf::from),
            queue: t.section("queue", cx),
        };
        let timeout = dep.timeout;
        t.check(
            cx,
            "timeout",
            timeout > HumanDuration::ZERO && timeout <= HumanDuration::secs(3600),
            "must be longer than 0s and at most 1h",
            "out of range",
        );
        t.check(cx, "max_concurrency", dep.max_concurrency != Some(0), "must be at least 1", "too small");
        t.finish(cx);
        has_base_url.then_some(dep)
    }
}
