//! Crash safety: a process appending as fast as it can is killed with
//! SIGKILL; every record it reported committed is in the store afterwards.

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    str::FromStr,
    time::{Duration, Instant},
};

use junction_store::RecordId;

use crate::backends::{fresh_schema, open, temp_path};

async fn kill_mid_stream(spec: String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-drill"))
        .args(["append", &spec, "16"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reported = tokio::task::spawn_blocking(move || {
        let mut ids = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            ids.push(RecordId::from_str(line.strip_prefix("committed ").unwrap()).unwrap());
            if ids.len() >= 2000 || Instant::now() > deadline {
                break;
            }
        }
        // SIGKILL while the appenders are mid-stream.
        child.kill().unwrap();
        child.wait().unwrap();
        ids
    })
    .await
    .unwrap();
    assert!(reported.len() >= 500, "the child committed too little before the deadline: {}", reported.len());

    let store = open(&spec).await;
    let mut missing = Vec::new();
    for id in &reported {
        if store.record(*id).await.unwrap().is_none() {
            missing.push(*id);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged records lost: {missing:?}",
        missing.len(),
        reported.len()
    );
    assert_eq!(reported.iter().collect::<HashSet<_>>().len(), reported.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_loses_nothing_acknowledged_on_sigkill() {
    let scratch = temp_path("crash");
    let path = scratch.path().join("junction.db");
    kill_mid_stream(format!("sqlite:{}", path.display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_loses_nothing_acknowledged_on_sigkill() {
    kill_mid_stream(format!("postgres:{}", fresh_schema("crash").await)).await;
}
