//! Reads an event id out of a JSON body, for providers (Stripe, Slack) that put
//! their deduplication key in the payload rather than in a header.

/// The top-level string `field` of a JSON object body; `None` for any other body.
/// Only called once the signature has verified, so the parse cost is never paid
/// for forged requests.
pub(crate) fn json_string_field(body: &[u8], field: &str) -> Option<String> {
    let serde_json::Value::Object(mut object) = serde_json::from_slice(body).ok()? else { return None };
    match object.remove(field)? {
        serde_json::Value::String(id) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_top_level_strings() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (br#"{"id":"evt_1","data":{"id":"obj_1"}}"#, Some("evt_1")),
            (br#"{"data":{"id":"obj_1"}}"#, None),
            (br#"{"id":42}"#, None),
            (br#"["id"]"#, None),
            (b"token=x&id=1", None),
            (b"", None),
        ];
        for (body, expected) in cases {
            assert_eq!(
                json_string_field(body, "id").as_deref(),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
