//! Why a request or a configuration was refused, in words safe to log and to
//! return to the caller: no secret, no expected signature, no header value.

/// Why a request failed verification. The message says which check failed and
/// nothing else; building one from received or computed values is a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header the scheme requires is absent.
    #[error("the {0} header is missing")]
    MissingHeader(String),
    /// A header is present but cannot be read as the scheme describes.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: String,
        /// What is wrong with it, in general terms.
        reason: String,
    },
    /// The signed timestamp is too far from now, in either direction.
    #[error("the {header} timestamp is outside the allowed tolerance")]
    TimestampOutsideTolerance {
        /// The header holding the timestamp.
        header: String,
    },
    /// The header is well formed but none of its signatures matches any secret.
    #[error("no signature in {header} matches any configured secret")]
    NoMatchingSignature {
        /// The header holding the signatures.
        header: String,
    },
    /// The request URL, which Twilio signs, cannot be read.
    #[error("the request URL is malformed: {reason}")]
    MalformedUrl {
        /// What is wrong with it, in general terms.
        reason: String,
    },
    /// A form-encoded body, which Twilio signs parameter by parameter, cannot be decoded.
    #[error("the form-encoded body is malformed: {reason}")]
    MalformedBody {
        /// What is wrong with it, in general terms.
        reason: String,
    },
    /// The `bodySHA256` query parameter Twilio adds for JSON bodies is not the body's digest.
    #[error("the bodySHA256 in the request URL does not match the body")]
    BodyDigestMismatch,
    /// A Twilio request carries a body that its signature cannot cover: it is
    /// not form-encoded and the URL has no `bodySHA256`.
    #[error(
        "the body is neither form-encoded nor covered by a bodySHA256 in the URL, so no signature covers it"
    )]
    UnsignedBody,
}

/// Why a verifier or signer could not be built from its configuration. Names a
/// secret by position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The secret list is empty.
    #[error("at least one secret is required")]
    NoSecrets,
    /// One secret of the list cannot be used with the scheme.
    #[error("secret #{} is invalid: {reason}", .index + 1)]
    InvalidSecret {
        /// The secret's position in the list, from 0.
        index: usize,
        /// What is wrong with it, in general terms.
        reason: &'static str,
    },
    /// The secret given to a signer cannot be used.
    #[error("the signing secret is invalid: {reason}")]
    InvalidSigningSecret {
        /// What is wrong with it, in general terms.
        reason: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_which_check_failed() {
        let header = || "X-Hub-Signature-256".to_owned();
        let cases = [
            (Rejection::MissingHeader(header()), "the X-Hub-Signature-256 header is missing"),
            (
                Rejection::MalformedHeader { header: header(), reason: "the signature is not hex".into() },
                "the X-Hub-Signature-256 header is malformed: the signature is not hex",
            ),
            (
                Rejection::TimestampOutsideTolerance { header: "Stripe-Signature".into() },
                "the Stripe-Signature timestamp is outside the allowed tolerance",
            ),
            (
                Rejection::NoMatchingSignature { header: "Stripe-Signature".into() },
                "no signature in Stripe-Signature matches any configured secret",
            ),
            (Rejection::BodyDigestMismatch, "the bodySHA256 in the request URL does not match the body"),
        ];
        for (rejection, message) in cases {
            assert_eq!(rejection.to_string(), message);
        }
    }
}
