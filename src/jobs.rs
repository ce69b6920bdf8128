//! Heavy CPU work (network builds and analyses, drawings for downloads): a process-wide queue
//! with one slot per core, first come first served, so a burst of analyses waits its turn
//! instead of oversubscribing the CPU that cheap reads need. The work runs on its own rayon pool
//! whose threads have a lower scheduling priority (nice 10), so a read that arrives while both
//! cores are busy with analyses is still served at once. A job whose caller goes away (request
//! timeout, closed connection) is stopped: dropping the waiting future raises its
//! [`Stop`](crate::domain::network::stop::Stop), which the long loops check.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::network::stop::{Stop, Stopped};

/// A heavy job that did not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum JobFailed {
    #[error("the heavy-job queue is closed")]
    QueueClosed,
    #[error("the job was stopped: its request went away")]
    Stopped,
    #[error("a heavy job panicked: {0}")]
    Panicked(String),
}

/// How niced the heavy pool's threads are (0 normal, 19 lowest).
const HEAVY_NICENESS: i32 = 10;

/// Jobs of this process by state, for `/metrics`.
static WAITING: AtomicU64 = AtomicU64::new(0);
static RUNNING: AtomicU64 = AtomicU64::new(0);
static STOPPED: AtomicU64 = AtomicU64::new(0);

/// Heavy jobs waiting for a slot, running, and stopped early since start.
pub fn counts() -> (u64, u64, u64) {
    (WAITING.load(Ordering::Relaxed), RUNNING.load(Ordering::Relaxed), STOPPED.load(Ordering::Relaxed))
}

/// Decrements its gauge when dropped, however the job ends.
struct Gauge(&'static AtomicU64);

impl Gauge {
    fn enter(gauge: &'static AtomicU64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(cores()))
}

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores())
            .thread_name(|i| format!("heavy-{i}"))
            .start_handler(|_| {
                // Linux applies PRIO_PROCESS with who = 0 to the calling thread only. Failure
                // (a sandbox forbidding it) leaves the thread at normal priority: slower reads
                // under load, nothing wrong.
                if let Err(error) = rustix::process::setpriority_process(None, HEAVY_NICENESS) {
                    tracing::debug!(%error, "heavy-job thread keeps its priority");
                }
            })
            .build()
            .expect("the heavy-job thread pool starts")
    })
}

/// Runs `work` once a slot is free, on the heavy pool, and waits for it. Dropping the returned
/// future gives up a place in the queue, or raises the job's [`Stop`] if it already runs; work
/// that notices returns `Err(Stopped)` (counted in `/metrics`).
pub async fn run<T: Send + 'static>(
    work: impl FnOnce(&Stop) -> Result<T, Stopped> + Send + 'static,
) -> Result<T, JobFailed> {
    let waiting = Gauge::enter(&WAITING);
    let slot = slots().acquire().await.map_err(|_| JobFailed::QueueClosed)?;
    drop(waiting);
    let stop = Stop::default();
    let _stop_when_abandoned = stop.raise_on_drop();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let running = Gauge::enter(&RUNNING);
    pool().spawn(move || {
        // The slot is held until the work has really stopped, not just until nobody waits.
        let _slot = slot;
        let _running = running;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&stop)));
        if matches!(outcome, Ok(Err(Stopped))) {
            STOPPED.fetch_add(1, Ordering::Relaxed);
            tracing::info!("a heavy job stopped early: its request timed out or its client went away");
        }
        let _ = sender.send(outcome);
    });
    match receiver.await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(Stopped))) => Err(JobFailed::Stopped),
        Ok(Err(panic)) => Err(JobFailed::Panicked(
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        )),
        Err(_) => Err(JobFailed::Panicked("the job ended without an answer".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_whose_caller_goes_away_is_stopped() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (stopped_tx, stopped_rx) = std::sync::mpsc::channel();
        let job = tokio::spawn(run(move |stop| {
            started_tx.send(()).expect("test waits");
            while !stop.is_raised() {
                std::thread::yield_now();
            }
            stopped_tx.send(()).expect("test waits");
            stop.check()
        }));
        tokio::task::spawn_blocking(move || started_rx.recv().expect("job started")).await.expect("joined");
        job.abort();
        tokio::task::spawn_blocking(move || stopped_rx.recv().expect("the job saw its stop")).await.expect("joined");
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let outcome = run(|_| -> Result<i32, Stopped> { panic!("boom") }).await;
        assert!(matches!(outcome, Err(JobFailed::Panicked(message)) if message == "boom"));
    }
}
