//! Reads an event id out of a JSON body, for providers (Stripe, Slack) that put
//! their deduplication key in the payload rather than in a header.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The top-level string `field` of a JSON object body; `None` for any other
/// body (including invalid JSON). When a key repeats, the last one counts,
/// as in any JSON object parse. Only called once the signature has verified,
/// so the parse cost is never paid for forged requests.
///
/// Everything but that field is only validated, not built: provider events
/// nest whole objects, and building them allocated for every key and value.
pub(crate) fn json_string_field(body: &[u8], field: &str) -> Option<String> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let found = FieldOf(field).deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    found
}

/// Finds one top-level field of a JSON object while reading it.
struct FieldOf<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for FieldOf<'_> {
    type Value = Option<String>;

    // Any other top-level value is a type error, which the caller reads as "no id".
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldOf<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.0 {
                found = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(value) => Some(value),
                    _ => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_top_level_strings() {
        let cases: [(&[u8], Option<&str>); 17] = [
            (br#"{"id":"evt_1","data":{"id":"obj_1"}}"#, Some("evt_1")),
            (br#"{"data":{"id":"obj_1","list":[1,{"id":"x"}]},"id":"evt_2"}"#, Some("evt_2")),
            (br#" {"id" : "evt_\u0033\n"} "#, Some("evt_3\n")),
            (br#"{"id":"evt_1","id":"evt_last"}"#, Some("evt_last")),
            (br#"{"id":"evt_1","id":7}"#, None),
            (br#"{"i\u0064":"escaped_key"}"#, Some("escaped_key")),
            (br#"{"data":{"id":"obj_1"}}"#, None),
            (br#"{"id":42}"#, None),
            (br#"{"id":null}"#, None),
            (br#"["id"]"#, None),
            (br#""id""#, None),
            (b"token=x&id=1", None),
            (b"", None),
            (br#"{"id":"evt_1"} trailing"#, None),
            (br#"{"id":"evt_1","#, None),
            (br#"{"id":"evt_1","data":{"#, None),
            (b"{\"id\":\"evt_\xff\"}", None),
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

    #[test]
    fn deep_nesting_is_read_without_recursion() {
        // Skipped values are walked iteratively: no stack overflow however deep.
        let deep = format!(r#"{{"data":{}{},"id":"evt_1"}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(json_string_field(deep.as_bytes(), "id").as_deref(), Some("evt_1"));
        let unclosed = format!(r#"{{"id":"evt_1","data":{}"#, "[".repeat(100_000));
        assert_eq!(json_string_field(unclosed.as_bytes(), "id"), None);
    }
}
