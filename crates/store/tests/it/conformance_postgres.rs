//! The conformance suite on PostgreSQL (`DATABASE_URL`), one schema per check.

use std::sync::Arc;

use junction_store::{conformance::Harness, postgres::PostgresStore};

use crate::backends::{database_url, fresh_schema, manual_clock};

async fn harness(name: &str) -> Harness {
    let clock = manual_clock();
    let schema = fresh_schema(&format!("conf_{name}")).await;
    let store =
        PostgresStore::connect_in_schema(&database_url(), &schema, Arc::new(clock.clone())).await.unwrap();
    Harness { store: Arc::new(store), clock, scratch: None }
}

junction_store::conformance_suite!(harness);
