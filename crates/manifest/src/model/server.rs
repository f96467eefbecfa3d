//! `[server]`: the HTTP listener.

use std::net::SocketAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    decode::{Cx, Decode, Table, Value},
    value::{ByteSize, HumanDuration},
};

/// The HTTP listener that serves the proxy, webhooks, the API and metrics.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address and port to listen on. Default "127.0.0.1:8080".
    #[serde(default = "default_listen")]
    #[schemars(with = "String")]
    pub listen: SocketAddr,
    /// Largest request body accepted; larger ones get 413. Default "1MiB", at most "1GiB".
    #[serde(default = "default_max_body")]
    pub max_body: ByteSize,
    /// How long shutdown waits for in-flight requests after SIGTERM/SIGINT. Default "30s".
    #[serde(default = "default_drain_timeout")]
    pub drain_timeout: HumanDuration,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_max_body() -> ByteSize {
    ByteSize(1 << 20)
}

fn default_drain_timeout() -> HumanDuration {
    HumanDuration::secs(30)
}

impl Default for Server {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body: default_max_body(),
            drain_timeout: default_drain_timeout(),
        }
    }
}

impl Decode for Server {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let server = Server {
            listen: t.or("listen", cx, d.listen),
            max_body: t.or("max_body", cx, d.max_body),
            drain_timeout: t.or("drain_timeout", cx, d.drain_timeout),
        };
        let body = server.max_body.bytes();
        t.check(cx, "max_body", (1..=1 << 30).contains(&body), "must be between 1B and 1GiB", "out of range");
        t.check(
            cx,
            "drain_timeout",
            server.drain_timeout <= HumanDuration::secs(3600),
            "must be at most 1h",
            "too long",
        );
        t.finish(cx);
        Some(server)
    }
}
