//! The provider's keys as last fetched, and when to fetch them again.
//!
//! Keys are fetched on first use, again when a token names a `kid` the cache
//! does not hold (at most once per `min_gap`, so a flood of made-up `kid`s
//! cannot turn into a flood of requests to the provider), and again on use
//! once they are older than `max_age`. There is no background task: whoever
//! needs the fetch does it, and callers that need it at the same time wait for
//! that one fetch instead of starting their own.

use std::{
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use tokio::{sync::Mutex, time::Instant};
use tracing::debug;

use super::{
    error::{FetchError, JwtError},
    fetch::JwksClient,
    jwks::{KeySet, VerifyingKey},
};

/// One published key set and when it was fetched.
#[derive(Clone)]
struct Snapshot {
    /// Bumped on every successful fetch, so a waiter can tell that the fetch
    /// it queued behind already happened.
    generation: u64,
    keys: Arc<KeySet>,
    /// `None` until the first successful fetch.
    fetched_at: Option<Instant>,
}

/// Who fetched last and how it went; held across the fetch so fetches never overlap.
#[derive(Default)]
struct Gate {
    last_attempt: Option<Instant>,
    last_error: Option<FetchError>,
}

pub(crate) struct KeyCache {
    client: JwksClient,
    current: RwLock<Snapshot>,
    gate: Mutex<Gate>,
}

/// Whether a caller waits for a fetch another caller has started.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    Yes,
    /// Use the keys at hand instead (a refresh of keys that still work).
    No,
}

impl KeyCache {
    pub(crate) fn new(client: JwksClient) -> Self {
        let empty = Snapshot { generation: 0, keys: Arc::default(), fetched_at: None };
        Self { client, current: RwLock::new(empty), gate: Mutex::default() }
    }

    /// The key a token's `kid` names, fetching the key set if needed.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        min_gap: Duration,
        max_age: Duration,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let mut snapshot = self.snapshot();
        match snapshot.fetched_at {
            None => {
                snapshot = self.refresh(snapshot.generation, min_gap, Wait::Yes).await?;
            }
            Some(at) if at.elapsed() >= max_age => {
                // Keys that are merely old still verify while the provider is unreachable.
                match self.refresh(snapshot.generation, min_gap, Wait::No).await {
                    Ok(fresh) => snapshot = fresh,
                    Err(error) => debug!(%error, "Using the cached JWKS past its refresh age."),
                }
            }
            Some(_) => {}
        }
        if let Some(key) = snapshot.keys.find(kid) {
            return Ok(Arc::clone(key));
        }
        // The provider may have rotated keys since the last fetch.
        let snapshot = self.refresh(snapshot.generation, min_gap, Wait::Yes).await?;
        snapshot.keys.find(kid).cloned().ok_or(JwtError::UnknownKey)
    }

    fn snapshot(&self) -> Snapshot {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Fetches a key set newer than generation `seen`, unless someone else
    /// already did, or the last attempt was less than `min_gap` ago (then the
    /// answer is that attempt's: the keys it got, or its error).
    async fn refresh(&self, seen: u64, min_gap: Duration, wait: Wait) -> Result<Snapshot, FetchError> {
        let mut gate = match wait {
            Wait::Yes => self.gate.lock().await,
            Wait::No => match self.gate.try_lock() {
                Ok(gate) => gate,
                Err(_) => return Ok(self.snapshot()),
            },
        };
        let current = self.snapshot();
        if current.generation != seen {
            return Ok(current);
        }
        if let Some(last) = gate.last_attempt
            && last.elapsed() < min_gap
        {
            return match &gate.last_error {
                Some(error) => Err(error.clone()),
                None => Ok(current),
            };
        }
        gate.last_attempt = Some(Instant::now());
        match self.client.fetch().await {
            Ok(keys) => {
                gate.last_error = None;
                let fresh = Snapshot {
                    generation: seen.wrapping_add(1),
                    keys: Arc::new(keys),
                    fetched_at: Some(Instant::now()),
                };
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
                Ok(fresh)
            }
            Err(error) => {
                gate.last_error = Some(error.clone());
                Err(error)
            }
        }
    }
}

impl From<FetchError> for JwtError {
    fn from(error: FetchError) -> Self {
        JwtError::KeysUnavailable(error)
    }
}
