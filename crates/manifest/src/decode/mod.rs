//! Turns the spanned TOML tree into typed model values, collecting every
//! problem instead of stopping at the first.
//!
//! serde stops at the first error, and users fixing a manifest want to see all
//! of them at once, each pointing at its line. So the model types decode
//! themselves through [`Table`], which knows every key's span, remembers which
//! keys were read and reports the rest as unknown.

mod scalar;
mod table;

use std::ops::Range;

use toml::{Spanned, de::DeValue};

pub(crate) use self::{
    scalar::{Interpolated, keyword},
    table::Table,
};
use crate::{diagnostic::Problem, env::EnvSource};

/// A TOML value with its byte span in the source.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Decoding state: where `${NAME}` is looked up, and the problems found so far.
pub(crate) struct Cx<'e> {
    env: &'e dyn EnvSource,
    problems: Vec<Problem>,
}

impl<'e> Cx<'e> {
    pub(crate) fn new(env: &'e dyn EnvSource) -> Self {
        Self { env, problems: Vec::new() }
    }

    pub(crate) fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Reports a problem at `span` unless `ok` holds; returns `ok`.
    pub(crate) fn ensure(
        &mut self,
        ok: bool,
        span: &Range<usize>,
        message: impl FnOnce() -> String,
        label: &str,
    ) -> bool {
        if !ok {
            self.report(Problem::new(span.clone(), message(), label));
        }
        ok
    }

    pub(crate) fn env(&self) -> &'e dyn EnvSource {
        self.env
    }

    pub(crate) fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

/// A model type that can be read from a TOML value at a dotted key path.
pub(crate) trait Decode: Sized {
    /// Decodes `value`, found at `key`; on failure, reports and returns `None`.
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self>;
}

/// The "found ..." part of a type error.
pub(crate) fn found(value: &DeValue<'_>) -> String {
    let kind = match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    };
    kind.to_owned()
}

/// Reports that `key` holds the wrong type of value.
pub(crate) fn wrong_type(value: &Value<'_>, key: &str, expected: &str, cx: &mut Cx<'_>) {
    cx.report(Problem::new(
        value.span(),
        format!("`{key}` must be {expected}, found {}", found(value.get_ref())),
        format!("expected {expected}"),
    ));
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let DeValue::Array(items) = value.get_ref() else {
            wrong_type(value, key, "an array", cx);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match T::decode(item, &format!("{key}[{i}]"), cx) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// A value that may be written alone or as a list: `secret = "a"` or
/// `secret = ["a", "b"]`.
#[derive(Debug, Clone)]
pub(crate) struct OneOrMany<T>(pub(crate) Vec<T>);

impl<T: Decode> Decode for OneOrMany<T> {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        match value.get_ref() {
            DeValue::Array(_) => Vec::<T>::decode(value, key, cx).map(OneOrMany),
            _ => T::decode(value, key, cx).map(|v| OneOrMany(vec![v])),
        }
    }
}
