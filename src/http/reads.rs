//! Which database answers a request when queries go to a streaming replica
//! (`--read-database-url`): mutations, subscriptions and the feed stay on the primary; a query
//! goes to the replica unless it presents a write's WAL position (`x-samverka-after-lsn`) that
//! the replica has not replayed within the wait, or the replica cannot be asked. Then the
//! primary answers: a client always sees its own writes.
//!
//! A replica that is down is routed around: a probe asks it (and the primary, for the lag in
//! bytes) every [`PROBE_EVERY`] on pools of their own; while it does not answer, queries go to
//! the primary, and a query the replica fails or drops on its way down is answered again by the
//! primary ([`ReadRouting::replica_failed`]), so a client sees no error for it.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::db::replica::ReplicaStatus;
use crate::db::{Db, StatementCounter, replica};
use crate::domain::lsn::{BadLsn, Lsn};

/// A write's response: the primary's WAL position after it committed.
pub const LSN_HEADER: &str = "x-samverka-lsn";
/// A query's request: the position it must see (a write's `x-samverka-lsn`).
pub const AFTER_LSN_HEADER: &str = "x-samverka-after-lsn";
/// Every response when reads are routed: `primary` or `replica`.
pub const DATABASE_HEADER: &str = "x-samverka-database";

/// How often a waiting query asks the replica again.
const REPLAY_POLL: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answerer {
    Primary,
    Replica,
}

impl Answerer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
        }
    }
}

/// How often the probe asks the replica whether it answers, and how far behind it is.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long the probe waits for an answer before it takes the replica for down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the probe waits for the primary's position (for the lag in bytes only).
const PRIMARY_TIMEOUT: Duration = Duration::from_millis(300);

/// What the probe last found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaHealth {
    /// It answered the last probe (queries go to it).
    pub up: bool,
    /// What it said of itself at the last probe it answered.
    pub status: ReplicaStatus,
    /// Bytes of WAL the primary had written that it had not replayed (`None`: the primary did
    /// not answer in time).
    pub lag_bytes: Option<f64>,
}

/// The replica, the read-your-writes wait, its health, and what each database answered (for
/// `/metrics`).
#[derive(Clone, Debug)]
pub struct ReadRouting {
    pub replica: Db,
    pub wait: Duration,
    pub answered_by_primary: StatementCounter,
    pub answered_by_replica: StatementCounter,
    /// Queries the replica failed or dropped that the primary then answered.
    pub answered_again: StatementCounter,
    health: Arc<watch::Sender<ReplicaHealth>>,
}

impl ReadRouting {
    /// Routing to `replica`, taken for up until a probe ([`Self::start_probe`]) says otherwise.
    pub fn new(replica: Db, wait: Duration) -> Self {
        let (health, _) = watch::channel(ReplicaHealth { up: true, status: ReplicaStatus::default(), lag_bytes: None });
        Self {
            replica,
            wait,
            answered_by_primary: StatementCounter::default(),
            answered_by_replica: StatementCounter::default(),
            answered_again: StatementCounter::default(),
            health: Arc::new(health),
        }
    }

    pub fn health(&self) -> ReplicaHealth {
        *self.health.borrow()
    }

    /// Asks the replica (at `replica_url`) and the primary (at `primary_url`) every
    /// [`PROBE_EVERY`], on pools of one connection each (their statements are not counted as
    /// requests'), for as long as the process runs.
    pub async fn start_probe(&self, primary_url: &str, replica_url: &str) -> Result<(), sea_orm::DbErr> {
        let primary = Db::connect(primary_url, 1).await?.conn;
        let replica = Db::lazy(replica_url, 1).await?.conn;
        let health = self.health.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PROBE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // The primary first: a replica read after it is at or past it when caught up.
                // Its own short wait: a primary (or pooler) that is down must not make the
                // replica look down.
                let primary_at = tokio::time::timeout(PRIMARY_TIMEOUT, replica::current_lsn(&primary)).await;
                let primary_at = primary_at.ok().and_then(Result::ok).flatten();
                let probed = tokio::time::timeout(PROBE_TIMEOUT, replica::status(&replica)).await;
                let previous = *health.borrow();
                let now = match probed {
                    Ok(Ok(status)) => {
                        let lag_bytes = match (primary_at, status.replayed) {
                            (Some(primary), Some(replayed)) => Some(primary.0.saturating_sub(replayed.0) as f64),
                            _ => None,
                        };
                        ReplicaHealth { up: true, status, lag_bytes }
                    }
                    Ok(Err(error)) => {
                        if previous.up {
                            tracing::warn!(error.cause = %error, "the replica does not answer; the primary answers queries");
                        }
                        ReplicaHealth { up: false, ..previous }
                    }
                    Err(_) => {
                        if previous.up {
                            tracing::warn!(
                                "the replica did not answer within {PROBE_TIMEOUT:?}; the primary answers queries"
                            );
                        }
                        ReplicaHealth { up: false, ..previous }
                    }
                };
                if now.up && !previous.up {
                    tracing::info!("the replica answers again; queries go to it");
                }
                health.send_replace(now);
            }
        });
        Ok(())
    }

    /// A query the replica could not answer (it failed with `UNAVAILABLE` or `BUSY`, or went
    /// down while answering): takes the replica for down until the probe finds it answering,
    /// unless it answers a probe now (then the failure was the query's own, and stands).
    pub async fn replica_failed(&self) -> bool {
        if !self.health().up {
            return true;
        }
        if tokio::time::timeout(PROBE_TIMEOUT, self.replica.conn.ping()).await.is_ok_and(|pinged| pinged.is_ok()) {
            return false;
        }
        self.health.send_modify(|health| health.up = false);
        tracing::warn!("a query failed on the replica, which does not answer; the primary answers queries");
        true
    }

    /// Resolves when the replica is taken for down (a query running there is then answered by
    /// the primary instead of waiting for its connection to fail).
    pub async fn went_down(&self) {
        let mut health = self.health.subscribe();
        let _ = health.wait_for(|health| !health.up).await;
    }

    /// Who answers a query that must see `after` (none: any state of the replica will do).
    pub async fn choose(&self, after: Option<Lsn>) -> Answerer {
        if !self.health().up {
            return Answerer::Primary;
        }
        let Some(lsn) = after else { return Answerer::Replica };
        let deadline = Instant::now() + self.wait;
        loop {
            let asked = tokio::time::timeout_at(deadline, replica::has_replayed(&self.replica.conn, lsn)).await;
            match asked {
                Ok(Ok(true)) => return Answerer::Replica,
                Ok(Ok(false)) if Instant::now() + REPLAY_POLL <= deadline => tokio::time::sleep(REPLAY_POLL).await,
                Ok(Ok(false)) | Err(_) => return Answerer::Primary,
                Ok(Err(error)) => {
                    tracing::warn!(error.cause = %error, "the replica could not say how far it has replayed; the primary answers");
                    return Answerer::Primary;
                }
            }
        }
    }

    pub fn count(&self, answerer: Answerer) {
        match answerer {
            Answerer::Primary => self.answered_by_primary.increment(),
            Answerer::Replica => self.answered_by_replica.increment(),
        }
    }
}

/// The position a request asks to see, if any; a malformed one is refused, never ignored.
pub fn after_lsn(headers: &HeaderMap) -> Result<Option<Lsn>, BadLsn> {
    let Some(value) = headers.get(AFTER_LSN_HEADER) else { return Ok(None) };
    let text = value.to_str().map_err(|_| BadLsn("(not text)".to_owned()))?;
    text.parse().map(Some)
}
