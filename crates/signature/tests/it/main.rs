//! Property tests over the public API: verification never panics on hostile
//! input, and whatever `testing::sign` produces verifies.

mod never_panics;
mod round_trip;

use std::time::Duration;

use http::HeaderName;
use junction_signature::{Encoding, HmacAlgorithm, HmacSpec, Scheme};

/// Modest, so the whole suite stays fast on a shared machine.
const CASES: u32 = 256;
const TOLERANCE: Duration = Duration::from_secs(300);

fn generic_spec(algorithm: HmacAlgorithm, encoding: Encoding, prefix: &str) -> Scheme {
    Scheme::Hmac(HmacSpec {
        header: HeaderName::from_static("x-signature"),
        algorithm,
        encoding,
        prefix: prefix.to_owned(),
    })
}
