//! `store-drill`: drives a store from a separate process, for the crash-safety
//! and lease tests (which kill it with SIGKILL) and for manual drills.
//!
//! ```text
//! store-drill append SPEC CONCURRENCY         append 1 KiB events forever; print "committed ID" after each commit
//! store-drill drain SPEC OWNER LEASE_MS       work every job; print "claimed JOB", "delivered JOB", "done JOB"
//! ```
//! SPEC is `sqlite:PATH` or `postgres:SCHEMA` (server from `DATABASE_URL`).
#![forbid(unsafe_code)]

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use junction_store::{
    AttemptReport, NewJob, NewRecord, RecordKind, Store, SystemClock, postgres::PostgresStore,
    sqlite::SqliteStore,
};

type Out = Arc<Mutex<std::io::Stdout>>;

fn say(out: &Out, line: &str) {
    let mut out = out.lock().expect("stdout lock");
    // A line is only useful to the parent once it is flushed: it means "this happened".
    writeln!(out, "{line}").and_then(|()| out.flush()).expect("writing to stdout");
}

async fn open(spec: &str) -> Arc<dyn Store> {
    match spec.split_once(':') {
        Some(("sqlite", path)) => {
            Arc::new(SqliteStore::open(path.as_ref(), Arc::new(SystemClock)).expect("open sqlite"))
        }
        Some(("postgres", schema)) => {
            let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
            Arc::new(
                PostgresStore::connect_in_schema(&url, schema, Arc::new(SystemClock)).await.expect("connect"),
            )
        }
        _ => panic!("SPEC is sqlite:PATH or postgres:SCHEMA"),
    }
}

async fn append(store: Arc<dyn Store>, concurrency: usize, out: Out) {
    let body = Bytes::from(vec![b'x'; 1024]);
    for _ in 0..concurrency {
        let (store, body, out) = (store.clone(), body.clone(), out.clone());
        tokio::spawn(async move {
            loop {
                let record = NewRecord {
                    kind: RecordKind::Event,
                    topic: "drill".into(),
                    dedupe_key: None,
                    headers: vec![],
                    body: body.clone(),
                    meta: serde_json::Value::Null,
                    jobs: vec![NewJob { target: "http://drill".into(), due_at: None }],
                };
                let appended = store.append(record).await.unwrap_or_else(|e| {
                    eprintln!("append failed: {e}");
                    std::process::exit(1);
                });
                say(&out, &format!("committed {}", appended.id));
            }
        });
    }
    // Appends until killed, or until an append fails (which exits the process).
    std::future::pending::<()>().await;
}

async fn drain(store: Arc<dyn Store>, owner: String, lease: Duration, out: Out) {
    loop {
        let claimed = store.claim(&owner, 32, lease).await.expect("claim");
        if claimed.is_empty() {
            let depths = store.queue_depths().await.expect("depths");
            if depths.iter().all(|d| d.ready + d.leased == 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let mut settles = Vec::new();
        for c in claimed {
            say(&out, &format!("claimed {}", c.job.id));
            let (store, out) = (store.clone(), out.clone());
            settles.push(tokio::spawn(async move {
                say(&out, &format!("delivered {}", c.job.id));
                let report = AttemptReport { status: Some(200), ..AttemptReport::default() };
                if store.complete(&c.lease, report).await.expect("complete") {
                    say(&out, &format!("done {}", c.job.id));
                }
            }));
        }
        for s in settles {
            s.await.expect("settle");
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let out: Out = Arc::new(Mutex::new(std::io::stdout()));
    runtime.block_on(async move {
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["append", spec, concurrency] => {
                append(open(spec).await, concurrency.parse().expect("CONCURRENCY"), out).await;
            }
            ["drain", spec, owner, lease_ms] => {
                let lease = Duration::from_millis(lease_ms.parse().expect("LEASE_MS"));
                drain(open(spec).await, (*owner).to_owned(), lease, out).await;
            }
            _ => {
                eprintln!(
                    "usage: store-drill append SPEC CONCURRENCY | store-drill drain SPEC OWNER LEASE_MS"
                );
                std::process::exit(2);
            }
        }
    });
}
