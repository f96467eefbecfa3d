//! The JSON Schema of `junction.toml`, for editors (taplo, VS Code Even Better TOML).

use crate::model::Manifest;

/// The manifest's JSON Schema (draft 2020-12), generated from the model types
/// and their doc comments.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Manifest);
    schema.insert("title".into(), "junction.toml".into());
    schema.insert("$id".into(), "https://junction.dev/schema/junction.toml.json".into());
    schema.to_value()
}
