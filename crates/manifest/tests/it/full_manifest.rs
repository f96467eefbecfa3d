//! A manifest with every key: it parses, and the JSON Schema knows every key
//! the parser knows (and no others), so editors never disagree with `check`.

use std::collections::BTreeSet;

use junction_manifest::{MapEnv, json_schema, parse};
use serde_json::Value;

const FULL: &str = include_str!("../full.toml");

fn env() -> MapEnv {
    MapEnv::new([
        ("JUNCTION_ADMIN_KEY", "adm_0123456789abcdef0123"),
        ("STRIPE_API_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_test_secret"),
        ("FORWARD_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAA"),
        ("TWILIO_AUTH_TOKEN", "12345"),
        ("ACME_SECRET", "acme"),
        ("GH_TOKEN", "ghp_x"),
        ("PARTNER_PASSWORD", "pw"),
    ])
}

#[test]
fn the_full_manifest_parses_with_every_value() {
    let m = parse("full.toml", FULL, &env()).unwrap_or_else(|d| panic!("{d}"));
    let stripe = &m.dependencies["stripe"];
    assert_eq!(stripe.retry.attempts, 4);
    assert_eq!(stripe.queue.max_attempts, 50);
    assert_eq!(m.sources["stripe"].secret.len(), 1);
    assert_eq!(m.outbound.retry_schedule.len(), 8);
    let debug = format!("{m:?}");
    assert!(!debug.contains("sk_test_4eC39") && !debug.contains("adm_0123456789"), "secrets in Debug");
    let json = serde_json::to_string(&m).unwrap();
    assert!(!json.contains("sk_test_4eC39") && !json.contains("whsec_test_secret"), "secrets in JSON");
}

/// Dotted key paths of a TOML document, with `*` for named entries.
fn toml_keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            let named = matches!(prefix, "dependencies" | "sources");
            let path = match (prefix.is_empty(), named) {
                (true, _) => k.clone(),
                (false, true) => format!("{prefix}.*"),
                (false, false) => format!("{prefix}.{k}"),
            };
            if !named || prefix.is_empty() {
                out.insert(path.clone());
            }
            // `auth` is a tagged union; its keys are listed per variant below.
            if !path.ends_with(".auth") {
                toml_keys(v, &path, out);
            }
        }
    }
}

fn schema_keys(schema: &Value, node: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let node = resolve(schema, node);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            out.insert(path.clone());
            if !path.ends_with(".auth") {
                schema_keys(schema, v, &path, out);
            }
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for sub in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            schema_keys(schema, sub, prefix, out);
        }
    }
    // Named entries (`[dependencies.NAME]`) are pattern properties.
    for entry in node.get("patternProperties").and_then(Value::as_object).into_iter().flat_map(|m| m.values())
    {
        schema_keys(schema, entry, &format!("{prefix}.*"), out);
    }
}

fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            resolve(schema, &schema["$defs"][name])
        }
        None => node,
    }
}

#[test]
fn the_schema_and_the_parser_know_the_same_keys() {
    let doc: toml::Value = toml::from_str(FULL).unwrap();
    let mut from_manifest = BTreeSet::new();
    toml_keys(&doc, "", &mut from_manifest);
    let schema = json_schema();
    let mut from_schema = BTreeSet::new();
    schema_keys(&schema, &schema, "", &mut from_schema);
    assert_eq!(from_manifest, from_schema, "full.toml must use every key, and the schema must list them");
}

#[test]
fn the_schema_snapshot_is_current() {
    insta::assert_json_snapshot!("junction.schema", json_schema());
}
