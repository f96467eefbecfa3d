//! Integration tests of `junction-identity`: real signatures, checked against
//! a JWKS served over HTTP by the test itself.
#![allow(unreachable_pub, reason = "a test binary has no public API")]

mod harness;
mod jwt_keys;
mod jwt_never_panics;
mod jwt_verify;
