//! Ingress: providers' webhooks at `POST /webhooks/{source}`, verified,
//! deduplicated and committed before they are acknowledged, then forwarded
//! to internal services by the delivery workers.

mod forward;
mod handler;
mod sources;

pub use self::forward::Forwarder;
pub(crate) use self::{handler::receive, sources::Sources};

/// Why a source could not be set up from the manifest.
#[derive(Debug, thiserror::Error)]
#[error("source `{source_name}`: {reason}")]
pub struct IngressError {
    /// The source.
    pub source_name: String,
    /// What is wrong (never a secret).
    pub reason: String,
}
