//! Reading the keys of one TOML table, and reporting the keys nobody read.

use std::{collections::BTreeMap, ops::Range};

use toml::de::{DeTable, DeValue};

use super::{Cx, Decode, Value, wrong_type};
use crate::{diagnostic::Problem, value::Name};

/// One TOML table being decoded. Every key read through it is remembered, so
/// [`Table::finish`] can report the unknown ones with a "did you mean".
pub(crate) struct Table<'a, 'i> {
    path: String,
    span: Range<usize>,
    entries: &'a DeTable<'i>,
    known: Vec<&'static str>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// Starts reading `value` as the table at `path` ("" for the document).
    pub(crate) fn new(value: &'a Value<'i>, path: &str, cx: &mut Cx<'_>) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(entries) => Some(Self::from_entries(entries, value.span(), path)),
            _ => {
                wrong_type(value, path, "a table", cx);
                None
            }
        }
    }

    pub(crate) fn from_entries(entries: &'a DeTable<'i>, span: Range<usize>, path: &str) -> Self {
        Self { path: path.to_owned(), span, entries, known: Vec::new() }
    }

    /// The dotted path of `key` in this table.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The span of the table itself (its header or inline braces).
    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The raw value of `key`, marking the key as known.
    pub(crate) fn raw(&mut self, key: &'static str) -> Option<&'a Value<'i>> {
        self.known.push(key);
        self.entries.get(key)
    }

    /// The span of `key`'s value, or of the table when the key is absent.
    pub(crate) fn span_of(&self, key: &str) -> Range<usize> {
        self.entries.get(key).map_or_else(|| self.span.clone(), |v| v.span())
    }

    /// A key that must be present.
    pub(crate) fn required<T: Decode>(&mut self, key: &'static str, cx: &mut Cx<'_>) -> Option<T> {
        let path = self.path_of(key);
        match self.raw(key) {
            Some(value) => T::decode(value, &path, cx),
            None => {
                let table = if self.path.is_empty() {
                    "the manifest".to_owned()
                } else {
                    format!("`[{}]`", self.path)
                };
                cx.report(Problem::new(
                    self.span.clone(),
                    format!("missing required key `{path}`"),
                    format!("{table} needs `{key}`"),
                ));
                None
            }
        }
    }

    /// A key that may be absent. Also `None` when present but invalid (already reported).
    pub(crate) fn optional<T: Decode>(&mut self, key: &'static str, cx: &mut Cx<'_>) -> Option<T> {
        let path = self.path_of(key);
        self.raw(key).and_then(|value| T::decode(value, &path, cx))
    }

    /// A key with a default, used when it is absent or invalid (already reported).
    pub(crate) fn or<T: Decode>(&mut self, key: &'static str, cx: &mut Cx<'_>, default: T) -> T {
        self.optional(key, cx).unwrap_or(default)
    }

    /// A sub-table, or `T::default()` when absent.
    pub(crate) fn section<T: Decode + Default>(&mut self, key: &'static str, cx: &mut Cx<'_>) -> T {
        self.or(key, cx, T::default())
    }

    /// A table of named entries, such as `[dependencies.stripe]`. Names are
    /// checked against the pinned name pattern.
    pub(crate) fn named<T: Decode>(&mut self, key: &'static str, cx: &mut Cx<'_>) -> BTreeMap<Name, T> {
        let mut out = BTreeMap::new();
        let path = self.path_of(key);
        let Some(value) = self.raw(key) else { return out };
        let DeValue::Table(entries) = value.get_ref() else {
            wrong_type(value, &path, "a table of named entries", cx);
            return out;
        };
        for (name, entry) in entries {
            let entry_path = format!("{path}.{}", name.get_ref());
            let name = Name::parse(name.get_ref(), name.span(), &path, cx);
            if let (Some(name), Some(entry)) = (name, T::decode(entry, &entry_path, cx)) {
                out.insert(name, entry);
            }
        }
        out
    }

    /// Reports every key that no one read, suggesting the closest known key.
    pub(crate) fn finish(self, cx: &mut Cx<'_>) {
        for (key, _) in self.entries.iter() {
            let name = key.get_ref().as_ref();
            if self.known.contains(&name) {
                continue;
            }
            let within =
                if self.path.is_empty() { "the manifest".to_owned() } else { format!("`[{}]`", self.path) };
            let mut problem = Problem::new(
                key.span(),
                format!("unknown key `{}` in {within}", self.path_of(name)),
                "unknown key",
            );
            problem = match closest(name, &self.known) {
                Some(best) => problem.with_help(format!("did you mean `{best}`?")),
                None => problem.with_help(format!("known keys: {}", quoted_list(&self.known))),
            };
            cx.report(problem);
        }
    }
}

/// The known word most like `word`, if one is close enough to be a typo.
pub(crate) fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `` `a`, `b`, `c` ``.
pub(crate) fn quoted_list(words: &[&str]) -> String {
    words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
}

impl Table<'_, '_> {
    /// Reports "`path.key` {rule}" at `key`'s value unless `ok` holds.
    pub(crate) fn check(&self, cx: &mut Cx<'_>, key: &str, ok: bool, rule: &str, label: &str) -> bool {
        let path = self.path_of(key);
        cx.ensure(ok, &self.span_of(key), || format!("`{path}` {rule}"), label)
    }
}
