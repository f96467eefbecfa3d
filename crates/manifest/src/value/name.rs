//! Names of dependencies and sources: they appear in URL paths and metric labels.

use std::{fmt, ops::Range};

use serde::{Serialize, Serializer};

use super::string_schema;
use crate::{decode::Cx, diagnostic::Problem};

/// A dependency or source name matching `[a-z0-9][a-z0-9_-]{0,63}`, so it is
/// safe in paths (`/proxy/{name}/`), file names and metric labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// The name, if it matches the pattern.
    pub fn new(name: &str) -> Option<Self> {
        let mut chars = name.chars();
        let first_ok = matches!(chars.next(), Some('a'..='z' | '0'..='9'));
        let rest_ok = chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'));
        (first_ok && rest_ok && name.len() <= 64).then(|| Self(name.to_owned()))
    }

    /// Checks a table key used as a name, reporting a problem when it does not match.
    pub(crate) fn parse(name: &str, span: Range<usize>, table: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let out = Self::new(name);
        if out.is_none() {
            cx.report(
                Problem::new(
                    span,
                    format!("`{table}.{name}`: {name:?} is not a valid name"),
                    "invalid name",
                )
                .with_help(
                    "names are 1 to 64 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit",
                ),
            );
        }
        out
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

string_schema!(Name, "Name", {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_pinned_pattern() {
        for ok in ["stripe", "a", "0", "my-api_2", &"a".repeat(64)] {
            assert!(Name::new(ok).is_some(), "{ok}");
        }
        for bad in ["", "Stripe", "-a", "_a", "a.b", "a/b", "..", "a b", "é", &"a".repeat(65)] {
            assert!(Name::new(bad).is_none(), "{bad}");
        }
    }
}
