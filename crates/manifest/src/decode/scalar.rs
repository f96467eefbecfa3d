//! Decoding of strings (with `${NAME}` interpolation), numbers, booleans and keywords.

use toml::de::DeValue;

use super::{Cx, Decode, Value, table::closest, table::quoted_list, wrong_type};
use crate::{
    diagnostic::Problem,
    interpolate::{InterpolateError, interpolate},
};

/// A string after `${NAME}` interpolation. `from_env` marks values that came
/// (partly) from the environment: error messages must not repeat those, since
/// they may hold credentials.
#[derive(Debug, Clone)]
pub(crate) struct Interpolated {
    pub(crate) value: String,
    pub(crate) from_env: bool,
}

impl Interpolated {
    /// The value quoted for an error message, or a neutral phrase when the
    /// value came from the environment.
    pub(crate) fn shown(&self) -> String {
        if self.from_env { "the value from the environment".to_owned() } else { format!("{:?}", self.value) }
    }
}

impl Decode for Interpolated {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let DeValue::String(raw) = value.get_ref() else {
            wrong_type(value, key, "a string", cx);
            return None;
        };
        match interpolate(raw, cx.env()) {
            Ok((value, from_env)) => Some(Interpolated { value, from_env }),
            Err(errors) => {
                for error in errors {
                    let problem = match error {
                        InterpolateError::Missing(name) => Problem::new(
                            value.span(),
                            format!("`{key}` refers to environment variable `{name}`, which is not set"),
                            format!("`${{{name}}}` is not set"),
                        )
                        .with_help(format!("set `{name}` in the environment Junction runs in")),
                        InterpolateError::Unterminated => Problem::new(
                            value.span(),
                            format!("`{key}` has an unterminated `${{` reference"),
                            "missing `}`",
                        )
                        .with_help("write `${NAME}` to read a variable, or `$$` for a literal `$`"),
                        InterpolateError::BadName(name) => Problem::new(
                            value.span(),
                            format!("`{key}` has an invalid variable name `{name}` in `${{...}}`"),
                            "not a variable name",
                        )
                        .with_help("names are letters, digits and `_`, not starting with a digit"),
                    };
                    cx.report(problem);
                }
                None
            }
        }
    }
}

impl Decode for String {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        Interpolated::decode(value, key, cx).map(|s| s.value)
    }
}

impl Decode for bool {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                wrong_type(value, key, "`true` or `false`", cx);
                None
            }
        }
    }
}

/// Integers are read as `i128` first so that "out of range" and "wrong type"
/// are different messages.
fn integer(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<i128> {
    match value.get_ref() {
        DeValue::Integer(i) => {
            let parsed = i128::from_str_radix(i.as_str(), i.radix()).ok();
            if parsed.is_none() {
                cx.report(Problem::new(value.span(), format!("`{key}` is too large"), "too large"));
            }
            parsed
        }
        _ => {
            wrong_type(value, key, "an integer", cx);
            None
        }
    }
}

macro_rules! decode_unsigned {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
                let n = integer(value, key, cx)?;
                let out = <$t>::try_from(n).ok();
                if out.is_none() {
                    cx.report(Problem::new(
                        value.span(),
                        format!("`{key}` must be between 0 and {}, found {n}", <$t>::MAX),
                        "out of range",
                    ));
                }
                out
            }
        }
    )*};
}
decode_unsigned!(u16, u32, u64);

impl Decode for f64 {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        match value.get_ref() {
            DeValue::Float(f) => {
                let parsed = f.as_str().parse::<f64>().ok().filter(|f| f.is_finite());
                if parsed.is_none() {
                    cx.report(Problem::new(
                        value.span(),
                        format!("`{key}` must be a finite number"),
                        "not finite",
                    ));
                }
                parsed
            }
            // An integer where a ratio is expected (`failure_rate = 1`) is fine.
            DeValue::Integer(_) => integer(value, key, cx).map(|n| n as f64),
            _ => {
                wrong_type(value, key, "a number", cx);
                None
            }
        }
    }
}

/// Reads one of a fixed set of words, such as `criticality = "high"`.
pub(crate) fn keyword<T: Copy>(
    value: &Value<'_>,
    key: &str,
    cx: &mut Cx<'_>,
    options: &[(&'static str, T)],
) -> Option<T> {
    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    if !matches!(value.get_ref(), DeValue::String(_)) {
        wrong_type(value, key, &format!("one of {}", quoted_list(&words)), cx);
        return None;
    }
    // Any string may come from the environment, keywords included.
    let text = Interpolated::decode(value, key, cx)?;
    if let Some((_, t)) = options.iter().find(|(w, _)| *w == text.value) {
        return Some(*t);
    }
    let raw = text.shown();
    let mut problem = Problem::new(
        value.span(),
        format!("`{key}` must be one of {}, found {raw}", quoted_list(&words)),
        "unknown value",
    );
    if let Some(best) = closest(&text.value, &words).filter(|_| !text.from_env) {
        problem = problem.with_help(format!("did you mean `{best}`?"));
    }
    cx.report(problem);
    None
}
