//! The conformance suite on the embedded SQLite backend.

use std::sync::Arc;

use junction_store::{conformance::Harness, sqlite::SqliteStore};

use crate::backends::{manual_clock, temp_path};

async fn harness(name: &str) -> Harness {
    let clock = manual_clock();
    let scratch = temp_path(name);
    let store = SqliteStore::open(&scratch.path().join("junction.db"), Arc::new(clock.clone())).unwrap();
    Harness { store: Arc::new(store), clock, scratch: Some(scratch) }
}

junction_store::conformance_suite!(harness);
