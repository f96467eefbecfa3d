//! The Junction manifest, `junction.toml`: its typed model, its parser with
//! rustc-style diagnostics, and its JSON Schema.
//!
//! ```
//! use junction_manifest::{MapEnv, parse};
//! let env = MapEnv::new([("TOKEN", "sk_test_123")]);
//! let manifest = parse("junction.toml", r#"
//!     [dependencies.stripe]
//!     base_url = "https://api.stripe.com"
//!     auth = { type = "bearer", token = "${TOKEN}" }
//! "#, &env).unwrap();
//! assert_eq!(manifest.dependencies["stripe"].retry.attempts, 3);
//! ```
#![forbid(unsafe_code)]

mod decode;
mod diagnostic;
mod env;
mod interpolate;
mod model;
mod schema;
mod secret;
mod value;

use std::path::Path;

use toml::de::DeTable;

use crate::decode::{Cx, Table};
pub use crate::{
    diagnostic::{Diagnostics, LineColumn, Problem},
    env::{EnvSource, MapEnv, ProcessEnv},
    model::*,
    schema::json_schema,
    secret::Secret,
    value::{ByteSize, HeaderName, HttpUrl, HumanDuration, Name, Percent},
};

/// Manifests larger than this are refused before parsing.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Why a manifest file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_MANIFEST_BYTES`].
    #[error("{path} is larger than {} MiB; is it really a manifest?", MAX_MANIFEST_BYTES >> 20)]
    TooLarge {
        /// The path as given.
        path: String,
    },
    /// The file was read and has problems.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and checks the manifest at `path`, interpolating from `env`.
pub fn load(path: &Path, env: &dyn EnvSource) -> Result<Manifest, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(LoadError::TooLarge { path: shown });
    }
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Read {
        path: shown.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is not UTF-8 text ({e})")),
    })?;
    parse(&shown, &text, env).map_err(LoadError::Invalid)
}

/// Parses and checks manifest text. `path` is only used in diagnostics.
/// All problems are reported together, in source order.
pub fn parse(path: &str, text: &str, env: &dyn EnvSource) -> Result<Manifest, Diagnostics> {
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        // A broken document recovers into a partial tree; checking its keys
        // would report noise such as missing keys, so stop at syntax.
        let problems = syntax_errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                let mut message = format!("invalid TOML: {}", e.message());
                // Name the key, as every other diagnostic does.
                if e.message() == "duplicate key"
                    && let Some(key) = text.get(span.clone()).filter(|k| !k.is_empty() && k.len() <= 80)
                {
                    message = format!("invalid TOML: duplicate key `{}`", key.trim_matches('"'));
                }
                Problem::new(span, message, "here")
            })
            .collect();
        return Err(Diagnostics::new(path, text, problems));
    }
    let mut cx = Cx::new(env);
    let span = document.span();
    let root = Table::from_entries(document.get_ref(), span.clone(), "");
    let manifest = Manifest::decode_document(root, &mut cx);
    let problems = cx.into_problems();
    if problems.is_empty() { Ok(manifest) } else { Err(Diagnostics::new(path, text, problems)) }
}
