//! What a credential may do on `/v1`: read, write, or administer.

use std::{fmt, str::FromStr};

/// A credential's permission level; each level includes the ones below it
/// (`Admin` ⊇ `Write` ⊇ `Read`), so the derived order is the inclusion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Look at state: dependencies, deliveries, events, the audit log.
    Read,
    /// Change state: retry, replay, manage apps and endpoints.
    Write,
    /// Everything, including managing credentials.
    Admin,
}

impl Scope {
    /// Every scope, lowest first.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// Whether a credential with this scope may do what `needed` guards.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }

    /// The scope's name as written in the CLI, the store and token claims.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not `read`, `write` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: expected `read`, `write` or `admin`")]
pub struct ParseScopeError(String);

impl FromStr for Scope {
    type Err = ParseScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            // Scope names are short; cap what is echoed so a pasted secret is not repeated whole.
            let shown: String = s.chars().take(16).collect();
            ParseScopeError(if shown.len() < s.len() { format!("{shown}...") } else { shown })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_every_scope() {
        for scope in Scope::ALL {
            assert_eq!(scope.to_string().parse::<Scope>(), Ok(scope));
        }
        assert_eq!("read".parse::<Scope>(), Ok(Scope::Read));
        assert_eq!("write".parse::<Scope>(), Ok(Scope::Write));
        assert_eq!("admin".parse::<Scope>(), Ok(Scope::Admin));
    }

    #[test]
    fn refuses_other_spellings_with_a_clear_message() {
        for bad in ["", "Read", "ADMIN", " read", "owner", "read write"] {
            let err = bad.parse::<Scope>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("unknown scope `{bad}`: expected `read`, `write` or `admin`"),
            );
        }
        let long = "x".repeat(100);
        let err = long.parse::<Scope>().unwrap_err().to_string();
        assert!(err.contains("xxxxxxxxxxxxxxxx..."), "{err}");
        assert!(!err.contains(&long));
    }

    #[test]
    fn higher_scopes_include_lower_ones() {
        let allowed =
            |have: Scope| Scope::ALL.into_iter().filter(|need| have.allows(*need)).collect::<Vec<_>>();
        assert_eq!(allowed(Scope::Read), [Scope::Read]);
        assert_eq!(allowed(Scope::Write), [Scope::Read, Scope::Write]);
        assert_eq!(allowed(Scope::Admin), [Scope::Read, Scope::Write, Scope::Admin]);
    }
}
