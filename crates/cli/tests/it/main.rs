//! End-to-end tests of the `junction` binary, run as a user would run it.
#![allow(unreachable_pub, reason = "a test binary has no public API")]

mod e2e_admin;
mod e2e_check;
mod e2e_egress;
mod e2e_ingress;
mod e2e_queue;
mod e2e_serve;
mod fault_upstream;
mod harness;
mod receiver;
mod secrets;
