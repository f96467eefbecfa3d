//! Every file in `tests/broken/` must fail with a problem that names the key
//! on its `# expect: LINE:COL KEY` line and points at that line and column.
//! The full rendering is snapshot-tested, so wording changes are reviewed.

use std::path::Path;

use junction_manifest::{Diagnostics, MapEnv, parse};

fn env() -> MapEnv {
    MapEnv::new([
        ("GH_SECRET", "gh-webhook-secret-value"),
        ("STRIPE_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        ("STRIPE_WHSEC", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("TWILIO_TOKEN", "twilio-auth-token"),
        ("ACME_SECRET", "acme-secret"),
        ("EMPTY", ""),
    ])
}

struct Expectation {
    line_col: Option<(usize, usize)>,
    key: String,
}

fn expectation(text: &str) -> Expectation {
    let header = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("`# expect:` header");
    let (loc, key) = match header.split_once(' ') {
        Some((loc, key)) if loc.contains(':') => (Some(loc), key),
        _ => (None, header.trim()),
    };
    let line_col = loc.map(|l| {
        let (line, col) = l.split_once(':').unwrap();
        (line.parse().unwrap(), col.parse().unwrap())
    });
    Expectation { line_col, key: key.to_owned() }
}

fn check(file: &Path) -> Diagnostics {
    let name = format!("tests/broken/{}", file.file_name().unwrap().to_string_lossy());
    let text = std::fs::read_to_string(file).unwrap();
    let expected = expectation(&text);
    let diagnostics = parse(&name, &text, &env()).expect_err(&format!("{name} should be rejected"));
    let named = |message: &str| {
        if expected.key == "invalid TOML" {
            message.starts_with("invalid TOML")
        } else {
            message.contains(&format!("`{}`", expected.key))
        }
    };
    let found = diagnostics.problems().iter().any(|p| {
        let at = diagnostics.line_column(p);
        named(&p.message) && expected.line_col.is_none_or(|lc| lc == (at.line, at.column))
    });
    assert!(found, "{name}: no problem naming {:?} at {:?}:\n{diagnostics}", expected.key, expected.line_col);
    diagnostics
}

#[test]
fn broken_manifests_are_reported_at_the_right_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 25, "the corpus must keep at least 25 broken manifests");
    for file in files {
        let diagnostics = check(&file);
        let snapshot = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(snapshot, diagnostics.render(false));
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = r#"
[server]
listen = "nowhere"
max_body = "huge"

[dependencies.stripe]
base_url = "ftp://x"
timeout = "forever"
"#;
    let diagnostics = parse("junction.toml", text, &env()).unwrap_err();
    let keys: Vec<_> = diagnostics.problems().iter().map(|p| p.message.split('`').nth(1).unwrap()).collect();
    assert_eq!(
        keys,
        ["server.listen", "server.max_body", "dependencies.stripe.base_url", "dependencies.stripe.timeout"]
    );
    assert!(diagnostics.render(false).ends_with("error: junction.toml has 4 problems\n"));
}

#[test]
fn values_from_the_environment_are_never_echoed() {
    let env = MapEnv::new([("DB_URL", "mysql://root:hunter2@db/x"), ("LISTEN", "hunter2-listen")]);
    let text = "[storage]\nurl = \"${DB_URL}\"\n[server]\nlisten = \"${LISTEN}\"\n";
    let rendered = parse("junction.toml", text, &env).unwrap_err().render(false);
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(rendered.contains("the value from the environment"), "{rendered}");
}

#[test]
fn hostile_input_gets_diagnostics_not_a_panic() {
    let deep = format!("a = {}{}", "[".repeat(5000), "]".repeat(5000));
    let cases = [
        "\u{0}\u{1}\u{2}".to_owned(),
        "[[[[".to_owned(),
        "x = \"\\u{D800}\"".to_owned(),
        "[server]\nlisten = \"é\u{301}\"".to_owned(),
        deep,
        "[dependencies]\n".to_owned() + &"a".repeat(100_000) + " = 1",
        "key = \"".to_owned() + &"x".repeat(1_000_000),
    ];
    for text in cases {
        let result = std::panic::catch_unwind(|| parse("junction.toml", &text, &env()).map(|_| ()));
        let diagnostics = result.expect("no panic").expect_err("rejected");
        assert!(!diagnostics.problems().is_empty());
        let _ = diagnostics.render(false);
    }
}

#[test]
fn keywords_and_retry_conditions_read_the_environment_too() {
    let env = MapEnv::new([("FALLBACK", "queue"), ("CODE", "503"), ("BAD", "sometimes")]);
    let text = "[dependencies.a]\nbase_url = \"http://x\"\nfallback = \"${FALLBACK}\"\nretry = { on = [\"${CODE}\"] }\n";
    let m = parse("junction.toml", text, &env).unwrap();
    assert_eq!(m.dependencies["a"].fallback, junction_manifest::Fallback::Queue);
    assert_eq!(m.dependencies["a"].retry.on, [junction_manifest::RetryOn::Status(503)]);
    let bad = "[dependencies.a]\nbase_url = \"http://x\"\nfallback = \"${BAD}\"\n";
    let rendered = parse("junction.toml", bad, &env).unwrap_err().render(false);
    assert!(rendered.contains("found the value from the environment"), "{rendered}");
    assert!(!rendered.contains("sometimes"), "{rendered}");
}
