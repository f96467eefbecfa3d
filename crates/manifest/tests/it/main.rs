//! Integration tests of the manifest crate: the broken-manifest corpus and the schema.

mod diagnostics;
mod full_manifest;
