//! Integration tests of the store against real backends: the conformance
//! suite on SQLite and PostgreSQL, crash safety and lease draining with real
//! processes.
#![allow(unreachable_pub, reason = "a test binary has no public API")]

mod backends;
mod conformance_postgres;
mod conformance_sqlite;
mod crash;
mod leases;
mod migrations;
