//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Junction: an integration gateway for third-party APIs and webhooks.
///
/// Exit status: 0 ok, 1 a problem was found, 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "junction", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the gateway: proxy, webhooks, management API, metrics.
    Serve(ServeArgs),
    /// Check a manifest and report every problem in it.
    Check(ConfigArg),
    /// Print the JSON Schema of junction.toml, for editors.
    Schema,
    /// Re-drive the forwards of a source's events received since a time.
    Replay(ReplayArgs),
    /// Create, list and revoke management API keys (stored hashed in the manifest's storage).
    Keys(KeysArgs),
    /// Show the dependencies and queues of a running server, as tables.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    pub(crate) command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key and print it, alone on its stdout line; it is not shown again.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// What the key may do: read (GETs), write (also retries and replays) or admin (also the audit log).
        #[arg(long, value_parser = parse_scope)]
        scope: junction_identity::Scope,
    },
    /// List active keys: `ID SCOPE CREATED`, one per line (never the key itself).
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Revoke a key by its id; servers refuse it within seconds.
    Revoke {
        #[command(flatten)]
        config: ConfigArg,
        /// The key's id, as `keys list` prints it.
        id: String,
    },
}

fn parse_scope(s: &str) -> Result<junction_identity::Scope, String> {
    s.parse().map_err(|_| format!("`{s}` is not a scope: use read, write or admin"))
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// The server's address; by default the manifest's `server.listen`.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// A management API key with the read scope.
    #[arg(long, env = "JUNCTION_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub(crate) key: String,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// The source whose events are replayed.
    #[arg(long)]
    pub(crate) source: String,
    /// Replay events received at or after this RFC 3339 time, e.g. 2026-11-25T10:00:00Z.
    #[arg(long)]
    pub(crate) since: String,
}

/// Where the manifest is.
#[derive(Debug, Args)]
pub(crate) struct ConfigArg {
    /// Path of the manifest.
    #[arg(long, short = 'c', env = "JUNCTION_CONFIG", default_value = "junction.toml", value_name = "PATH")]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, env = "JUNCTION_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,
    /// Log filter, e.g. "info" or "junction_gateway=debug,info" (RUST_LOG syntax).
    #[arg(long, default_value = "info", env = "JUNCTION_LOG")]
    pub(crate) log_level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line, for log pipelines.
    Json,
}
