//! The writer lane: mutations over HTTP run on a runtime thread of their own, with a small pool
//! of their own. A write is a dozen statements, each awaited in turn; on the shared runtime each
//! reply would queue behind every ready task (subscription fan-out to a thousand sockets, heavy
//! reads), so a flood of readers would slow editors to a crawl. On the lane a write only waits
//! for the database.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinError;

use crate::db::Db;

/// Connections of the lane's pool: one writer at a time holds one (`db::write::begin`), and the
/// mutations' answers (read after commit) need a few more.
const LANE_CONNECTIONS: u32 = 4;

/// A handle on the lane; cheap to clone. The lane's thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct WriterLane {
    inner: Arc<Inner>,
}

struct Inner {
    handle: Handle,
    db: Db,
    _stop: oneshot::Sender<()>,
}

impl WriterLane {
    /// Starts the lane's thread and opens its pool beside `db`'s (sharing its counters, cache,
    /// commit signal and writers' queue).
    pub async fn start(db: &Db) -> anyhow::Result<Self> {
        let (ready_tx, ready_rx) = oneshot::channel::<anyhow::Result<(Handle, Db)>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let main = db.clone();
        std::thread::Builder::new().name("samverka-writer".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready_tx.send(Err(error.into()));
                    return;
                }
            };
            runtime.block_on(async move {
                // Opened on this runtime, so the pool's sockets are driven by this thread.
                match main.companion(LANE_CONNECTIONS).await {
                    Ok(db) => {
                        let _ = ready_tx.send(Ok((Handle::current(), db)));
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.into()));
                        return;
                    }
                }
                let _ = stop_rx.await;
            });
        })?;
        let (handle, db) = ready_rx.await??;
        Ok(Self { inner: Arc::new(Inner { handle, db, _stop: stop_tx }) })
    }

    /// The lane's database: the same registry, on the lane's pool.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Runs `work` on the lane and waits for it.
    pub async fn run<F>(&self, work: F) -> Result<F::Output, JoinError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.handle.spawn(work).await
    }
}
