//! Where `${NAME}` references in the manifest are looked up.
//!
//! The environment is read through this one trait so tests can pass a map and
//! never mutate the process environment.

use std::collections::HashMap;

/// A source of environment variables for `${NAME}` interpolation.
pub trait EnvSource {
    /// The value of `name`, or `None` when it is not set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        // A variable that is set but not valid UTF-8 cannot be put in a manifest
        // string; treating it as missing gives the user an error naming it.
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests and embedding.
#[derive(Debug, Clone, Default)]
pub struct MapEnv(HashMap<String, String>);

impl MapEnv {
    /// An environment holding exactly the given variables.
    pub fn new<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl EnvSource for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}
