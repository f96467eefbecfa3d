//! Both backends' migrations stay in step.

use std::path::Path;

fn numbers(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn sqlite_and_postgres_have_the_same_migrations() {
    assert_eq!(numbers("sqlite"), numbers("postgres"));
    assert!(!numbers("sqlite").is_empty());
}
