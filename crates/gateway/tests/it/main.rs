//! Integration tests of the gateway library.
#![allow(unreachable_pub, reason = "a test binary has no public API")]

mod retention;
mod workers;
