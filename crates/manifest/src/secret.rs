//! A string that must never be printed: API tokens, webhook secrets, passwords.

use std::fmt;

use schemars::JsonSchema;

use crate::{
    decode::{Cx, Decode, Interpolated, Value},
    diagnostic::Problem,
};
use serde::{Serialize, Serializer};

/// A secret value from the manifest. `Debug`, `Display` and `Serialize` all
/// print `***`; the value is only reachable through [`Secret::expose`], so every
/// place that uses it is easy to find and review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the manifest or the environment.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Never log or return what this gives.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A secret. Write it as a reference to the environment, \"${NAME}\", so it stays out of the file.",
            "minLength": 1
        })
    }
}

impl Decode for Secret {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let s = Interpolated::decode(value, key, cx)?;
        if s.value.trim().is_empty() {
            let source = if s.from_env { "its environment variable is empty" } else { "it is empty" };
            cx.report(Problem::new(
                value.span(),
                format!("`{key}` is a secret, but {source}"),
                "empty secret",
            ));
            return None;
        }
        Some(Secret(s.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("sk_live_hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:#?}", Some(&s)), "Some(\n    Secret(***),\n)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "sk_live_hunter2");
    }
}
