//! `redact.json`: dotted paths whose values are replaced before a body is audited.

use bytes::Bytes;
use serde_json::Value;

/// The body with the value at every path replaced by `"***"`; bodies that are
/// not JSON are replaced whole when any path is configured, since what they
/// hold cannot be checked.
pub(crate) fn redact_json(body: &Bytes, paths: &[String]) -> Bytes {
    if paths.is_empty() || body.is_empty() {
        return body.clone();
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return Bytes::from_static(b"\"*** (not JSON; redacted whole)\"");
    };
    for path in paths {
        redact_path(&mut value, &path.split('.').collect::<Vec<_>>());
    }
    Bytes::from(value.to_string())
}

fn redact_path(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else { return };
    match value {
        Value::Object(map) => {
            if let Some(child) = map.get_mut(*first) {
                if rest.is_empty() {
                    *child = Value::String("***".into());
                } else {
                    redact_path(child, rest);
                }
            }
        }
        // A path applies to every element of an array it meets.
        Value::Array(items) => items.iter_mut().for_each(|item| redact_path(item, path)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_values_at_paths_and_in_arrays() {
        let body = Bytes::from_static(br#"{"card":{"number":"4242424242424242","exp":"12/30"},"items":[{"card":{"number":"1"}}],"amount":5}"#);
        let out =
            redact_json(&body, &["card.number".into(), "items.card.number".into(), "missing.path".into()]);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["card"]["number"], "***");
        assert_eq!(v["card"]["exp"], "12/30");
        assert_eq!(v["items"][0]["card"]["number"], "***");
        assert_eq!(v["amount"], 5);
        assert!(
            !String::from_utf8_lossy(&redact_json(&Bytes::from_static(b"card=4242"), &["card".into()]))
                .contains("4242")
        );
        assert_eq!(redact_json(&body, &[]), body);
    }
}
