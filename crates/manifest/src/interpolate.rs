//! `${NAME}` references to the environment inside manifest strings.
//!
//! `$$` writes a literal `$`; a `$` not followed by `{` or `$` is kept as is, so
//! values such as regexes and passwords with a lone `$` need no escaping.

use crate::env::EnvSource;

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpolateError {
    /// `${NAME}` names a variable that is not set.
    Missing(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${...}` with something that is not a variable name inside.
    BadName(String),
}

/// The string with every reference replaced, and whether any was.
pub(crate) fn interpolate(raw: &str, env: &dyn EnvSource) -> Result<(String, bool), Vec<InterpolateError>> {
    let mut out = String::with_capacity(raw.len());
    let mut errors = Vec::new();
    let mut from_env = false;
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                errors.push(InterpolateError::Unterminated);
                break;
            };
            let name = &inner[..end];
            if !is_variable_name(name) {
                errors.push(InterpolateError::BadName(name.to_owned()));
            } else if let Some(value) = env.var(name) {
                out.push_str(&value);
                from_env = true;
            } else {
                errors.push(InterpolateError::Missing(name.to_owned()));
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    if errors.is_empty() { Ok((out, from_env)) } else { Err(errors) }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{InterpolateError::*, *};
    use crate::env::MapEnv;

    fn run(raw: &str) -> Result<(String, bool), Vec<InterpolateError>> {
        interpolate(raw, &MapEnv::new([("A", "1"), ("EMPTY", "")]))
    }

    #[test]
    fn replaces_references() {
        assert_eq!(run("x${A}y${A}"), Ok(("x1y1".into(), true)));
        assert_eq!(run("${EMPTY}"), Ok(("".into(), true)));
        assert_eq!(run("plain"), Ok(("plain".into(), false)));
    }

    #[test]
    fn dollars_are_literal_unless_a_reference() {
        assert_eq!(run("$$"), Ok(("$".into(), false)));
        assert_eq!(run("$${A}"), Ok(("${A}".into(), false)));
        assert_eq!(run("a$b$"), Ok(("a$b$".into(), false)));
    }

    #[test]
    fn reports_every_bad_reference() {
        assert_eq!(run("${NOPE}${A}${ALSO}"), Err(vec![Missing("NOPE".into()), Missing("ALSO".into())]));
        assert_eq!(run("${A"), Err(vec![Unterminated]));
        assert_eq!(run("${1X}"), Err(vec![BadName("1X".into())]));
        assert_eq!(run("${}"), Err(vec![BadName("".into())]));
    }
}
