//! Keys made by `junction keys create`, read from the store and cached so
//! that checking one costs a hash and a map lookup, not a query.
//!
//! The CLI writes keys straight to the store, possibly while servers run on
//! it; a server sees a new key at the first request that presents it (an
//! unknown key triggers a reload, at most every [`MISS_RELOAD`]) and a
//! revocation within [`MAX_AGE`].

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use junction_identity::Scope;
use junction_store::Store;
use tokio::sync::Mutex;

use super::caller::Caller;

/// How old the cache may get before a request reloads it (revocations apply within this).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(2);
/// An unknown key reloads the cache at most this often, so guessing keys cannot load the store.
pub(crate) const MISS_RELOAD: Duration = Duration::from_millis(250);

/// Active stored keys by hash.
pub(crate) struct StoredKeys {
    store: Arc<dyn Store>,
    cache: RwLock<Cache>,
    reload: Mutex<()>,
}

struct Cache {
    keys: Arc<HashMap<String, Caller>>,
    loaded: Option<Instant>,
}

impl StoredKeys {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: RwLock::new(Cache { keys: Arc::default(), loaded: None }),
            reload: Mutex::new(()),
        }
    }

    /// The caller whose key hashes to `hash`, if the key exists and is not revoked.
    pub(crate) async fn find(&self, hash: &str) -> Option<Caller> {
        let (keys, age) = self.snapshot();
        let found = keys.get(hash).cloned();
        let stale = age.is_none_or(|age| age > MAX_AGE);
        let retry_miss = found.is_none() && age.is_none_or(|age| age > MISS_RELOAD);
        if !stale && !retry_miss {
            return found;
        }
        if found.is_some() {
            // A known key answers now; the reload happens unless one is already running.
            if let Ok(_guard) = self.reload.try_lock() {
                self.load().await;
            }
        } else {
            let _guard = self.reload.lock().await;
            // Another request may have reloaded while this one waited.
            if self.snapshot().1.is_none_or(|age| age > MISS_RELOAD) {
                self.load().await;
            }
        }
        self.snapshot().0.get(hash).cloned()
    }

    fn snapshot(&self) -> (Arc<HashMap<String, Caller>>, Option<Duration>) {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        (cache.keys.clone(), cache.loaded.map(|at| at.elapsed()))
    }

    async fn load(&self) {
        match self.store.api_keys().await {
            Ok(keys) => {
                let active = keys
                    .into_iter()
                    .filter(|k| k.revoked_at.is_none())
                    .filter_map(|k| {
                        let Ok(scope) = k.scope.parse::<Scope>() else {
                            tracing::warn!(id = %k.id, "A stored API key has an unknown scope; it is ignored.");
                            return None;
                        };
                        Some((k.hash, Caller { id: k.id, scope }))
                    })
                    .collect();
                *self.cache.write().unwrap_or_else(|e| e.into_inner()) =
                    Cache { keys: Arc::new(active), loaded: Some(Instant::now()) };
            }
            Err(error) => {
                // Keep answering from what was loaded before; a later request tries again.
                tracing::error!(%error, "Cannot load API keys from the store.");
            }
        }
    }
}

impl std::fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKeys").field("cached", &self.snapshot().0.len()).finish_non_exhaustive()
    }
}
