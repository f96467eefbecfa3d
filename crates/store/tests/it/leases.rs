//! Leases under load: 10,000 jobs drained by two workers, in one process and
//! in two; and a process killed mid-way whose jobs are taken over.

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use junction_store::{
    AttemptReport, JobId, NewJob, NewRecord, RecordFilter, RecordKind, RecordStatus, Store,
};
use tokio::task::JoinSet;

use crate::backends::{fresh_schema, open, temp_path};

const JOBS: usize = 10_000;

/// Appends `JOBS` records of one job each, 64 at a time.
async fn seed(store: &Arc<dyn Store>) {
    let mut tasks = JoinSet::new();
    for p in 0..64 {
        let store = store.clone();
        tasks.spawn(async move {
            for _ in (p..JOBS).step_by(64) {
                let record = NewRecord {
                    kind: RecordKind::Call,
                    topic: "drain".into(),
                    dedupe_key: None,
                    headers: vec![],
                    body: Bytes::from_static(b"{}"),
                    meta: serde_json::Value::Null,
                    jobs: vec![NewJob { target: "http://x".into(), due_at: None }],
                };
                store.append(record).await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
}

async fn all_delivered(store: &Arc<dyn Store>) {
    let depths = store.queue_depths().await.unwrap();
    assert!(depths.iter().all(|d| d.ready == 0 && d.leased == 0 && d.dead == 0), "{depths:?}");
    let pending = RecordFilter { status: Some(RecordStatus::Pending), ..Default::default() };
    let page = junction_store::PageRequest { after: None, limit: 10 };
    assert!(store.records(&pending, page).await.unwrap().items.is_empty());
}

async fn two_workers_in_one_process(spec: String) {
    let store = open(&spec).await;
    seed(&store).await;
    let mut workers = JoinSet::new();
    for owner in ["a", "b"] {
        let store = store.clone();
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let claimed = store.claim(owner, 64, Duration::from_secs(30)).await.unwrap();
                if claimed.is_empty() {
                    return done;
                }
                let mut settles = JoinSet::new();
                for c in claimed {
                    let store = store.clone();
                    settles.spawn(async move {
                        let ok = store.complete(&c.lease, AttemptReport::default()).await.unwrap();
                        (c.job.id, ok)
                    });
                }
                while let Some(r) = settles.join_next().await {
                    let (id, ok) = r.unwrap();
                    assert!(ok, "a lease was lost with nothing failing");
                    done.push(id);
                }
            }
        });
    }
    let mut counts: HashMap<JobId, usize> = HashMap::new();
    while let Some(done) = workers.join_next().await {
        for id in done.unwrap() {
            *counts.entry(id).or_default() += 1;
        }
    }
    assert_eq!(counts.len(), JOBS, "every job completed");
    assert!(counts.values().all(|&n| n == 1), "a job completed twice");
    all_delivered(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_workers_complete_each_job_once() {
    let scratch = temp_path("drain");
    two_workers_in_one_process(format!("sqlite:{}", scratch.path().join("junction.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers_complete_each_job_once() {
    two_workers_in_one_process(format!("postgres:{}", fresh_schema("drain").await)).await;
}

/// What one drain process reported, by event.
#[derive(Default)]
struct Log {
    claimed: HashSet<String>,
    delivered: Vec<String>,
    done: HashSet<String>,
}

fn spawn_drain(spec: &str, owner: &str, lease_ms: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_store-drill"))
        .args(["drain", spec, owner, &lease_ms.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads a drain's output until it ends, or (with `kill_after`) kills it
/// with SIGKILL after that many deliveries.
fn follow(mut child: Child, kill_after: Option<usize>) -> Log {
    let mut log = Log::default();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let (event, job) = line.split_once(' ').unwrap();
        match event {
            "claimed" => {
                log.claimed.insert(job.to_owned());
            }
            "delivered" => log.delivered.push(job.to_owned()),
            "done" => {
                log.done.insert(job.to_owned());
            }
            other => panic!("unexpected line {other:?}"),
        }
        if kill_after.is_some_and(|n| log.delivered.len() >= n) {
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    if kill_after.is_none() {
        assert!(status.success(), "drain exited with {status:?}");
    }
    log
}

async fn two_processes(spec: String, kill_one: bool) {
    let store = open(&spec).await;
    seed(&store).await;
    let lease_ms = if kill_one { 2000 } else { 30_000 };
    let (a, b) = (spawn_drain(&spec, "a", lease_ms), spawn_drain(&spec, "b", lease_ms));
    let kill_after = kill_one.then_some(1500);
    let a = tokio::task::spawn_blocking(move || follow(a, kill_after));
    let b = tokio::task::spawn_blocking(move || follow(b, None));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let mut deliveries: HashMap<&str, usize> = HashMap::new();
    for job in a.delivered.iter().chain(&b.delivered) {
        *deliveries.entry(job.as_str()).or_default() += 1;
    }
    assert_eq!(deliveries.len(), JOBS, "every job was delivered");
    let twice: HashSet<&str> = deliveries.iter().filter(|(_, n)| **n > 1).map(|(j, _)| *j).collect();
    if kill_one {
        // Only the jobs the dead process held (claimed, not completed) may be delivered again.
        let held_at_death: HashSet<&str> = a.claimed.difference(&a.done).map(String::as_str).collect();
        assert!(
            twice.is_subset(&held_at_death),
            "{} duplicates outside the dead process's leases",
            twice.difference(&held_at_death).count()
        );
        assert!(!a.done.is_empty() && !b.done.is_empty(), "both processes worked");
    } else {
        assert!(twice.is_empty(), "{} jobs delivered twice with nothing failing", twice.len());
        assert_eq!(a.done.len() + b.done.len(), JOBS);
    }
    all_delivered(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_deliver_each_job_once() {
    let scratch = temp_path("procs");
    two_processes(format!("sqlite:{}", scratch.path().join("junction.db").display()), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_deliver_each_job_once() {
    two_processes(format!("postgres:{}", fresh_schema("procs").await), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jobs_of_a_killed_process_are_taken_over() {
    let scratch = temp_path("kill");
    two_processes(format!("sqlite:{}", scratch.path().join("junction.db").display()), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_jobs_of_a_killed_process_are_taken_over() {
    two_processes(format!("postgres:{}", fresh_schema("kill").await), true).await;
}
