//! Store benchmark: durable append throughput with 64 producers (group commit
//! against one fsync per record), claim+complete throughput, and claim
//! latency as the backlog grows. Run with
//!
//! ```text
//! cargo bench -p junction-store --bench store            # SQLite and PostgreSQL (DATABASE_URL)
//! BENCH_BACKLOG=10000,100000 cargo bench -p junction-store --bench store
//! BENCH_SECTIONS=events cargo bench -p junction-store --bench store     # webhook-shaped appends
//! BENCH_SECTIONS=audit cargo bench -p junction-store --bench store      # the proxy's audit entries
//! ```
//! Figures are printed as a table; `docs/performance.md` records them.
#![allow(missing_docs, reason = "a benchmark binary")]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use junction_store::{
    AttemptReport, NewAuditEntry, NewJob, NewRecord, RecordKind, Store, SystemClock,
    conformance::Scratch,
    postgres::PostgresStore,
    sqlite::{SqliteOptions, SqliteStore},
};
use tokio::task::JoinSet;

const PRODUCERS: usize = 64;

/// A queued call: one delivery job, no dedupe key.
fn record(body: &Bytes) -> NewRecord {
    NewRecord {
        kind: RecordKind::Event,
        topic: "bench".into(),
        dedupe_key: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.clone(),
        meta: serde_json::Value::Null,
        jobs: vec![NewJob { target: "http://bench".into(), due_at: None }],
    }
}

/// An accepted webhook as `POST /webhooks/{source}` stores it with no
/// forward target: the provider's unique event id as dedupe key, its headers.
fn event(body: &Bytes) -> NewRecord {
    let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let signature = format!("t=1767225600,v1={}", "5f".repeat(32));
    NewRecord {
        kind: RecordKind::Event,
        topic: "stripe".into(),
        dedupe_key: Some(id),
        headers: vec![
            ("content-type".into(), "application/json; charset=utf-8".into()),
            ("user-agent".into(), "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into()),
            ("stripe-signature".into(), signature),
            ("accept".into(), "*/*; q=0.5, application/xml".into()),
        ],
        body: body.clone(),
        meta: serde_json::json!({ "received_at_ms": 1_767_225_600_000_i64 }),
        jobs: Vec::new(),
    }
}

/// This process's CPU time (user + system, all threads) so far, from
/// `/proc/self/stat` (in 1/100 s, the kernel's fixed `USER_HZ`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux)");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let ticks: u64 =
        after_name.split(' ').skip(11).take(2).map(|f| f.parse::<u64>().expect("a tick count")).sum();
    Duration::from_millis(ticks * 10)
}

/// Records/s appended by `PRODUCERS` concurrent producers over `secs`.
async fn append_rate(store: Arc<dyn Store>, secs: f64) -> f64 {
    append_rate_of(store, secs, record).await.0
}

/// Records/s of `make` appended by `PRODUCERS` concurrent producers over
/// `secs`, and the process's CPU time per record (µs).
async fn append_rate_of(store: Arc<dyn Store>, secs: f64, make: fn(&Bytes) -> NewRecord) -> (f64, f64) {
    let body = Bytes::from(vec![b'x'; 1024]);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let cpu = cpu_time();
    for _ in 0..PRODUCERS {
        let (store, body, stop, count) = (store.clone(), body.clone(), stop.clone(), count.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                store.append(make(&body)).await.expect("append");
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let records = count.load(Ordering::Relaxed) as f64;
    let cpu_per_record = (cpu_time() - cpu).as_secs_f64() * 1e6 / records;
    (records / started.elapsed().as_secs_f64(), cpu_per_record)
}

/// Jobs/s claimed and completed by 4 workers claiming 64 at a time, until `n` are done.
async fn drain_rate(store: Arc<dyn Store>, n: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for w in 0..4 {
        let (store, done) = (store.clone(), done.clone());
        workers.spawn(async move {
            let owner = format!("w{w}");
            while done.load(Ordering::Relaxed) < n {
                let claimed = store.claim(&owner, 64, Duration::from_secs(30)).await.expect("claim");
                if claimed.is_empty() {
                    break;
                }
                let mut settles = JoinSet::new();
                for c in claimed {
                    let store = store.clone();
                    settles.spawn(async move { store.complete(&c.lease, AttemptReport::default()).await });
                }
                while let Some(r) = settles.join_next().await {
                    assert!(r.expect("task").expect("complete"));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Median and p99 of single-job claims (each then released) with `backlog` due jobs.
async fn claim_latency(store: Arc<dyn Store>) -> (f64, f64) {
    let mut samples = Vec::new();
    for _ in 0..300 {
        let started = Instant::now();
        let claimed = store.claim("probe", 1, Duration::from_secs(30)).await.expect("claim");
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        for c in claimed {
            store.complete(&c.lease, AttemptReport::default()).await.expect("complete");
        }
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}

fn sqlite_seed(path: &std::path::Path, n: u64) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    let tx = conn.transaction().expect("tx");
    {
        let mut rec = tx
            .prepare(
                "INSERT INTO records (id, kind, topic, created_at, headers, body, meta, status)
                 VALUES (?1, 'event', 'bench', 0, '[]', x'00', 'null', 'pending')",
            )
            .expect("prepare");
        let mut job = tx
            .prepare(
                "INSERT INTO jobs (id, record_id, kind, topic, target, state, attempts, due_at, created_at, updated_at)
                 VALUES (?1, ?2, 'event', 'bench', 'http://bench', 'ready', 0, ?3, 0, 0)",
            )
            .expect("prepare");
        for i in 0..n {
            let r = uuid::Uuid::now_v7().to_string();
            rec.execute([&r]).expect("record");
            job.execute(rusqlite::params![uuid::Uuid::now_v7().to_string(), r, i64::try_from(i).unwrap()])
                .expect("job");
        }
    }
    tx.commit().expect("commit");
}

async fn postgres_seed(url: &str, schema: &str, n: u64) {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let sql = format!(
        "WITH r AS (INSERT INTO {schema}.records (id, kind, topic, created_at, headers, body, meta, status)
                    SELECT gen_random_uuid(), 'event', 'bench', 0, '[]', '\\x00', 'null', 'pending'
                    FROM generate_series(1, $1) RETURNING id)
         INSERT INTO {schema}.jobs (id, record_id, kind, topic, target, state, attempts, due_at, created_at, updated_at)
         SELECT gen_random_uuid(), id, 'event', 'bench', 'http://bench', 'ready', 0, row_number() OVER (), 0, 0 FROM r"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::try_from(n).unwrap()).execute(&pool).await.expect("seed");
    pool.close().await;
}

async fn fresh_postgres(url: &str, schema: &str) -> Arc<dyn Store> {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await.expect("drop");
    pool.close().await;
    Arc::new(PostgresStore::connect_in_schema(url, schema, Arc::new(SystemClock)).await.expect("connect"))
}

/// A database path in a directory removed when the returned guard drops.
fn temp_db(tag: &str) -> (Scratch, std::path::PathBuf) {
    let dir = Scratch::new(&format!("bench-{tag}"));
    let path = dir.path().join("junction.db");
    (dir, path)
}

fn sqlite(path: &std::path::Path, max_batch: usize) -> Arc<dyn Store> {
    sqlite_with(path, SqliteOptions { max_batch, ..SqliteOptions::default() })
}

fn sqlite_with(path: &std::path::Path, options: SqliteOptions) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_with(path, Arc::new(SystemClock), options).expect("open"))
}

#[tokio::main]
async fn main() {
    let secs: f64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let backlogs: Vec<u64> = std::env::var("BENCH_BACKLOG")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_BACKLOG"))
        .collect();
    let url = std::env::var("DATABASE_URL").ok();
    let sections = std::env::var("BENCH_SECTIONS").unwrap_or_else(|_| "append,drain,latency".into());

    if sections.contains("append") {
        append_section(secs, url.as_deref()).await;
    }
    if sections.contains("events") {
        events_section(secs).await;
    }
    if sections.contains("audit") {
        audit_section(secs, url.as_deref()).await;
    }
    if sections.contains("drain") {
        drain_section(url.as_deref()).await;
    }
    if sections.contains("latency") {
        latency_section(&backlogs, url.as_deref()).await;
    }
}

async fn append_section(secs: f64, url: Option<&str>) {
    println!("## Append: {PRODUCERS} producers, 1 KiB records, durable commits, {secs}s each");
    let in_commit = SqliteOptions { overlap_sync: false, ..SqliteOptions::default() };
    let one = SqliteOptions { max_batch: 1, ..in_commit };
    let (_dir, path) = temp_db("one");
    let baseline = append_rate(sqlite_with(&path, one), secs).await;
    println!("sqlite, one fsync'd transaction per record (baseline): {baseline:.0} records/s");
    let (_dir, path) = temp_db("group-full");
    let grouped = append_rate(sqlite_with(&path, in_commit), secs).await;
    println!(
        "sqlite, group commit, fsync inside each commit (synchronous=FULL): {grouped:.0} records/s ({:.1}x baseline)",
        grouped / baseline
    );
    let (_dir, path) = temp_db("group");
    let overlapped = append_rate(sqlite(&path, 1024), secs).await;
    println!(
        "sqlite, group commit, fsync overlapped with the next batch (default): {overlapped:.0} records/s ({:.1}x baseline)",
        overlapped / baseline
    );
    let no_fsync = SqliteOptions { full_sync: false, ..SqliteOptions::default() };
    let (_dir, path) = temp_db("normal");
    let ceiling = append_rate(sqlite_with(&path, no_fsync), secs).await;
    println!(
        "sqlite, group commit without fsync (synchronous=NORMAL, the CPU ceiling): {ceiling:.0} records/s"
    );
    if let Some(url) = url {
        let pg = append_rate(fresh_postgres(url, "junction_bench_append").await, secs).await;
        println!("postgres: {pg:.0} records/s ({:.1}x sqlite baseline)", pg / baseline);
    }
}

async fn events_section(secs: f64) {
    println!(
        "## Webhook-shaped appends: {PRODUCERS} producers, 1 KiB bodies, unique event ids, no jobs, {secs}s each"
    );
    for (label, options) in [
        ("fsync overlapped (default)", SqliteOptions::default()),
        ("no fsync (synchronous=NORMAL)", SqliteOptions { full_sync: false, ..SqliteOptions::default() }),
    ] {
        let (_dir, path) = temp_db("events");
        let (rate, cpu) = append_rate_of(sqlite_with(&path, options), secs, event).await;
        println!("sqlite, {label}: {rate:.0} events/s, {cpu:.1} µs CPU per event (whole process)");
    }
}

/// Audit entries as the audit writer appends them for proxied calls.
fn audit_batch() -> Vec<NewAuditEntry> {
    (0..AUDIT_BATCH)
        .map(|_| NewAuditEntry {
            kind: "proxy".into(),
            topic: "up".into(),
            status: Some(200),
            caller: "127.0.0.1".into(),
            detail: format!(
                r#"{{"method":"GET","path":"/anything","outcome":"success","attempts":1,"latency_ms":0.41,"request_id":"{}","idempotency_key":null}}"#,
                uuid::Uuid::new_v4()
            ),
            body: None,
        })
        .collect()
}

/// Entries per batch, and batches in flight, as the gateway's audit writer.
const AUDIT_BATCH: usize = 128;
const AUDIT_IN_FLIGHT: usize = 2;

/// Audit entries/s appended in batches, and the process's CPU time per entry (µs).
async fn audit_rate(store: Arc<dyn Store>, secs: f64) -> (f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let cpu = cpu_time();
    for _ in 0..AUDIT_IN_FLIGHT {
        let (store, stop, count) = (store.clone(), stop.clone(), count.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                store.append_audit(audit_batch()).await.expect("append_audit");
                count.fetch_add(AUDIT_BATCH as u64, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let entries = count.load(Ordering::Relaxed) as f64;
    let cpu_per_entry = (cpu_time() - cpu).as_secs_f64() * 1e6 / entries;
    (entries / started.elapsed().as_secs_f64(), cpu_per_entry)
}

async fn audit_section(secs: f64, url: Option<&str>) {
    println!(
        "## Audit entries: batches of {AUDIT_BATCH}, {AUDIT_IN_FLIGHT} in flight, proxied-call-shaped, {secs}s each"
    );
    let (_dir, path) = temp_db("audit");
    let (rate, cpu) = audit_rate(sqlite(&path, 1024), secs).await;
    println!(
        "sqlite: {rate:.0} entries/s, {cpu:.1} µs CPU per entry (whole process, entry building included)"
    );
    if let Some(url) = url {
        let (rate, cpu) = audit_rate(fresh_postgres(url, "junction_bench_audit").await, secs).await;
        println!("postgres: {rate:.0} entries/s, {cpu:.1} µs CPU per entry (this process only)");
    }
}

async fn drain_section(url: Option<&str>) {
    println!("\n## Claim + complete: 4 workers, batches of 64");
    let (_dir, path) = temp_db("drain");
    sqlite(&path, 1024);
    sqlite_seed(&path, 50_000);
    let rate = drain_rate(sqlite(&path, 1024), 50_000).await;
    println!("sqlite: {rate:.0} jobs/s");
    if let Some(url) = url {
        let store = fresh_postgres(url, "junction_bench_drain").await;
        postgres_seed(url, "junction_bench_drain", 20_000).await;
        println!("postgres: {:.0} jobs/s", drain_rate(store, 20_000).await);
    }
}

async fn latency_section(backlogs: &[u64], url: Option<&str>) {
    println!("\n## Claim latency (one job) by backlog of due jobs");
    for &n in backlogs {
        let (_dir, path) = temp_db("latency");
        sqlite(&path, 1024);
        sqlite_seed(&path, n);
        let (p50, p99) = claim_latency(sqlite(&path, 1024)).await;
        print!("backlog {n:>8}: sqlite p50 {p50:.3} ms, p99 {p99:.3} ms");
        if let Some(url) = url {
            let store = fresh_postgres(url, "junction_bench_latency").await;
            postgres_seed(url, "junction_bench_latency", n).await;
            let (p50, p99) = claim_latency(store).await;
            print!("; postgres p50 {p50:.3} ms, p99 {p99:.3} ms");
        }
        println!();
    }
}
