//! `junction check` and `junction schema` as a user runs them.

use std::process::Output;

use crate::harness::{Scratch, junction, repo_root};

fn check(path: &std::path::Path, env: &[(&str, &str)]) -> Output {
    junction().arg("check").arg("--config").arg(path).envs(env.iter().copied()).output().unwrap()
}

/// Variables the examples reference, with made-up values.
const EXAMPLE_ENV: &[(&str, &str)] = &[
    ("JUNCTION_ADMIN_KEY", "adm_example_key_0123456789"),
    ("STRIPE_API_KEY", "sk_test_example"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_example"),
    ("GITHUB_TOKEN", "ghp_example"),
    ("GITHUB_WEBHOOK_SECRET", "gh-example"),
    ("SLACK_SIGNING_SECRET", "slack-example"),
    ("FORWARD_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
];

#[test]
fn every_example_manifest_passes_check() {
    let dir = repo_root().join("examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = check(&path, EXAMPLE_ENV);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{}:\n{}", path.display(), String::from_utf8_lossy(&out.stderr));
            assert!(stdout.contains(": ok ("), "{stdout}");
            count += 1;
        }
    }
    assert!(count >= 2, "expected the example manifests, found {count}");
}

#[test]
fn problems_exit_1_with_every_diagnostic() {
    let dir = Scratch::new("check");
    let path = dir.write(
        "junction.toml",
        "[server]\nlisten = \"nowhere\"\n\n[dependencies.stripe]\nbase_url = \"https://api.stripe.com\"\ntimeout = \"soon\"\n",
    );
    let out = check(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("error: `server.listen`"), "{stderr}");
    assert!(stderr.contains("junction.toml:2:10"), "{stderr}");
    assert!(stderr.contains("error: `dependencies.stripe.timeout`"), "{stderr}");
    assert!(stderr.contains("junction.toml:6:11"), "{stderr}");
    assert!(stderr.trim_end().ends_with("has 2 problems"), "{stderr}");
}

#[test]
fn a_missing_file_is_a_problem_and_bad_usage_is_exit_2() {
    let out = check("/nonexistent/junction.toml".as_ref(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/junction.toml"));

    let out = junction().args(["check", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = junction().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = junction().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_config_path_comes_from_junction_config() {
    let dir = Scratch::new("check-env");
    let path = dir.write("custom.toml", "[server]\nlisten = \"127.0.0.1:0\"\n");
    let out = junction().arg("check").env("JUNCTION_CONFIG", &path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("custom.toml: ok (0 dependencies, 0 sources)"));
}

#[test]
fn serve_with_a_bad_manifest_prints_the_same_diagnostics_and_exits_1() {
    let dir = Scratch::new("serve-bad");
    let path = dir.write("junction.toml", "[server]\nmax_body = \"lots\"\n");
    let checked = check(&path, &[]);
    let served = junction().arg("serve").arg("--config").arg(&path).output().unwrap();
    assert_eq!(served.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&served.stderr), String::from_utf8_lossy(&checked.stderr));
}

#[test]
fn schema_prints_a_json_schema() {
    let out = junction().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(schema["properties"]["dependencies"].is_object());
}
