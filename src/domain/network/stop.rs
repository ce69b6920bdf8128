//! Cooperative cancellation of analyses: a request that times out or whose client goes away
//! raises its [`Stop`], and the long loops (one search per source in Brandes and closeness, one
//! pass in Louvain, one iteration in PageRank and eigenvector centrality) give up at their next
//! check, so the CPU is free again within a fraction of a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the caller still wants the answer. Cloning shares the flag; the default is never
/// raised.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

/// An analysis that gave up because its [`Stop`] was raised; its partial work is thrown away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the analysis was stopped before it finished")]
pub struct Stopped;

impl Stop {
    /// Asks every holder to give up.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Stopped)` once raised, for `?` between units of work.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.is_raised() { Err(Stopped) } else { Ok(()) }
    }

    /// A guard that raises this stop when dropped: held by the future that waits for the
    /// answer, so dropping that future (timeout, disconnect) stops the work.
    pub fn raise_on_drop(&self) -> RaiseOnDrop {
        RaiseOnDrop(self.clone())
    }
}

/// Raises its [`Stop`] when dropped.
#[derive(Debug)]
pub struct RaiseOnDrop(Stop);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.raise();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_raised_for_every_clone_when_its_guard_drops() {
        let stop = Stop::default();
        let seen_by_worker = stop.clone();
        assert_eq!(seen_by_worker.check(), Ok(()));
        drop(stop.raise_on_drop());
        assert_eq!(seen_by_worker.check(), Err(Stopped));
    }
}
