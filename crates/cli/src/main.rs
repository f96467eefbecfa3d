//! The `junction` command: parses arguments, then hands over to a subcommand.
#![forbid(unsafe_code)]

mod args;
mod check;
mod keys;
mod logging;
mod replay;
mod schema;
mod serve;
mod status;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// mimalloc instead of glibc malloc: the store's writer thread frees what
/// request threads allocated, which glibc's per-thread arenas make slow
/// (`perf` showed malloc/free among the writer's top costs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // clap exits with status 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Schema => schema::run(),
        Command::Replay(args) => replay::run(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Status(args) => status::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
