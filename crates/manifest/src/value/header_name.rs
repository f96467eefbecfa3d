//! HTTP header names given in the manifest.

use std::{fmt, str::FromStr};

use serde::{Serialize, Serializer};

use super::{decode_from_str, string_schema};

/// A valid HTTP header name (an RFC 9110 token), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderName(String);

impl HeaderName {
    /// The name as written in the manifest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for HeaderName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const TCHAR: &str = "!#$%&'*+-.^_`|~";
        if s.is_empty() {
            return Err("it is empty".into());
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || TCHAR.contains(*c))) {
            return Err(format!("{c:?} is not allowed in a header name"));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for HeaderName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

string_schema!(HeaderName, "HeaderName", {
    "type": "string",
    "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
});

decode_from_str!(
    HeaderName,
    "a header name",
    "header names are letters, digits and RFC 9110 token characters such as `-`, e.g. \"X-Api-Key\""
);
