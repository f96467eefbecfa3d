//! `junction replay --source S --since T`: re-drive the forwards of every
//! event a source received since T. Works on the manifest's storage, also
//! while servers are running on it (they pick the jobs up).

use std::{io::IsTerminal, process::ExitCode, time::UNIX_EPOCH};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use junction_store::{PageRequest, RecordFilter, RecordKind, Timestamp};

use crate::{args::ReplayArgs, check::load_or_report};

pub(crate) fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let Some(manifest) = load_or_report(&args.config) else { return Ok(ExitCode::FAILURE) };
    if !manifest.sources.contains_key(args.source.as_str()) {
        bail!("no source named `{}` in {}", args.source, args.config.config.display());
    }
    let since = humantime::parse_rfc3339_weak(&args.since).with_context(|| {
        format!("--since {:?} is not an RFC 3339 time such as 2026-11-25T10:00:00Z", args.since)
    })?;
    let since = Timestamp(i64::try_from(since.duration_since(UNIX_EPOCH)?.as_millis())?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = junction_gateway::open_store(&manifest.storage.url).await?;
        let filter = RecordFilter {
            kind: Some(RecordKind::Event),
            topic: Some(args.source.clone()),
            since: Some(since),
            ..Default::default()
        };
        let bar = progress();
        let (mut events, mut forwards) = (0u64, 0u64);
        let mut page = PageRequest { after: None, limit: 500 };
        loop {
            let found = store.records(&filter, page).await?;
            for record in &found.items {
                forwards += u64::try_from(store.redrive(record.id).await?).unwrap_or(0);
                events += 1;
                bar.set_message(format!("{events} events, {forwards} forwards"));
                bar.inc(1);
            }
            match found.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        bar.finish_and_clear();
        println!(
            "re-drove {events} events ({forwards} forwards) of source `{}` since {}",
            args.source, args.since
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// A spinner on a terminal; nothing when output is piped.
fn progress() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({per_sec})")
            .unwrap_or(ProgressStyle::default_spinner()),
    );
    bar
}
