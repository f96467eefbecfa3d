//! The conformance suite on the embedded SQLite backend.

use std::sync::Arc;

use junction_store::{conformance::Harness, sqlite::SqliteStore};

use crate::backends::{manual_clock, temp_path};

async fn harness(name: &str) -> Harness {
    let clock = manual_clock();
    let path = temp_path(name).join("junction.db");
    let store = SqliteStore::open(&path, Arc::new(clock.clone())).unwrap();
    Harness { store: Arc::new(store), clock }
}

junction_store::conformance_suite!(harness);
