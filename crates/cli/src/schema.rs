//! `junction schema`: the manifest's JSON Schema on stdout.

use std::process::ExitCode;

pub(crate) fn run() -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&junction_manifest::json_schema())?);
    Ok(ExitCode::SUCCESS)
}
