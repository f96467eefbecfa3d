//! `junction keys create|list|revoke`: management API keys, kept hashed in
//! the manifest's storage. Servers on the same storage see a new key at its
//! first use and a revocation within seconds, without a restart.

use std::{
    process::ExitCode,
    time::{Duration, UNIX_EPOCH},
};

use anyhow::bail;
use junction_identity::{Scope, generate_key};
use junction_store::{NewApiKey, Store, Timestamp};

use crate::{
    args::{KeysArgs, KeysCommand},
    check::load_or_report,
};

pub(crate) fn run(args: &KeysArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.command {
        KeysCommand::Create { config, .. }
        | KeysCommand::List { config }
        | KeysCommand::Revoke { config, .. } => config,
    };
    let Some(manifest) = load_or_report(config) else { return Ok(ExitCode::FAILURE) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = junction_gateway::open_store(&manifest.storage.url).await?;
        match &args.command {
            KeysCommand::Create { scope, .. } => create(store.as_ref(), *scope).await,
            KeysCommand::List { .. } => list(store.as_ref()).await,
            KeysCommand::Revoke { id, .. } => revoke(store.as_ref(), id).await,
        }
    })
}

async fn create(store: &dyn Store, scope: Scope) -> anyhow::Result<ExitCode> {
    let key = generate_key();
    store
        .api_key_create(&NewApiKey { id: key.id.clone(), scope: scope.to_string(), hash: key.hash.clone() })
        .await?;
    // The key alone on stdout, so `KEY=$(junction keys create ...)` works; the rest on stderr.
    println!("{}", key.secret.expose());
    eprintln!("created key {} with scope {scope}; it is shown once and stored only as a hash", key.id);
    Ok(ExitCode::SUCCESS)
}

async fn list(store: &dyn Store) -> anyhow::Result<ExitCode> {
    for key in store.api_keys().await?.iter().filter(|k| k.revoked_at.is_none()) {
        println!("{} {} {}", key.id, key.scope, rfc3339(key.created_at));
    }
    Ok(ExitCode::SUCCESS)
}

async fn revoke(store: &dyn Store, id: &str) -> anyhow::Result<ExitCode> {
    if store.api_key_revoke(id).await? {
        eprintln!("revoked key {id}; running servers refuse it within seconds");
        return Ok(ExitCode::SUCCESS);
    }
    let known = store.api_keys().await?.into_iter().any(|k| k.id == id);
    if known {
        bail!("key {id} was already revoked");
    }
    bail!("no key has the id {id} (see `junction keys list`)")
}

fn rfc3339(at: Timestamp) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(at.millis()).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}
