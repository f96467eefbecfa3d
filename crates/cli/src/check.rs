//! `junction check`: report every problem in a manifest.

use std::{io::IsTerminal, process::ExitCode};

use junction_manifest::{LoadError, Manifest, ProcessEnv};

use crate::args::ConfigArg;

pub(crate) fn run(args: &ConfigArg) -> anyhow::Result<ExitCode> {
    let Some(manifest) = load_or_report(args) else { return Ok(ExitCode::FAILURE) };
    println!(
        "{}: ok ({} {}, {} {})",
        args.config.display(),
        manifest.dependencies.len(),
        plural(manifest.dependencies.len(), "dependency", "dependencies"),
        manifest.sources.len(),
        plural(manifest.sources.len(), "source", "sources"),
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads the manifest, or prints why it cannot be used (the same report for
/// `check` and `serve`) and returns `None`.
pub(crate) fn load_or_report(args: &ConfigArg) -> Option<Manifest> {
    match junction_manifest::load(&args.config, &ProcessEnv) {
        Ok(manifest) => Some(manifest),
        Err(LoadError::Invalid(diagnostics)) => {
            let styled = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", diagnostics.render(styled));
            None
        }
        Err(other) => {
            eprintln!("error: {other}");
            None
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
