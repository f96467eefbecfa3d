//! A bulkhead: at most N calls in flight; the next is refused at once rather
//! than queued, so a slow dependency cannot tie up every task.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bulkhead is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Caps concurrent calls.
#[derive(Debug, Clone)]
pub struct Bulkhead(Arc<Semaphore>);

impl Bulkhead {
    /// At most `max` calls at once.
    pub fn new(max: u32) -> Self {
        Self(Arc::new(Semaphore::new(usize::try_from(max).unwrap_or(usize::MAX).max(1))))
    }

    /// A slot, held until the permit is dropped.
    pub fn try_acquire(&self) -> Result<OwnedSemaphorePermit, Full> {
        self.0.clone().try_acquire_owned().map_err(|_| Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_cap_and_frees_on_drop() {
        let b = Bulkhead::new(2);
        let (one, _two) = (b.try_acquire().unwrap(), b.try_acquire().unwrap());
        assert_eq!(b.try_acquire().unwrap_err(), Full);
        drop(one);
        assert!(b.try_acquire().is_ok());
    }
}
