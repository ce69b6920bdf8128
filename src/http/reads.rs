//! Which database answers a request when queries go to a streaming replica
//! (`--read-database-url`): mutations, subscriptions and the feed stay on the primary; a query
//! goes to the replica unless it presents a write's WAL position (`x-samverka-after-lsn`) that
//! the replica has not replayed within the wait, or the replica cannot be asked. Then the
//! primary answers: a client always sees its own writes.

use std::time::Duration;

use axum::http::HeaderMap;
use tokio::time::Instant;

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

/// The replica, the read-your-writes wait, and what each database answered (for `/metrics`).
#[derive(Clone, Debug)]
pub struct ReadRouting {
    pub replica: Db,
    pub wait: Duration,
    pub answered_by_primary: StatementCounter,
    pub answered_by_replica: StatementCounter,
}

impl ReadRouting {
    pub fn new(replica: Db, wait: Duration) -> Self {
        Self {
            replica,
            wait,
            answered_by_primary: StatementCounter::default(),
            answered_by_replica: StatementCounter::default(),
        }
    }

    /// Who answers a query that must see `after` (none: any state of the replica will do).
    pub async fn choose(&self, after: Option<Lsn>) -> Answerer {
        let Some(lsn) = after else { return Answerer::Replica };
        let deadline = Instant::now() + self.wait;
        loop {
            match replica::has_replayed(&self.replica.conn, lsn).await {
                Ok(true) => return Answerer::Replica,
                Ok(false) if Instant::now() + REPLAY_POLL <= deadline => tokio::time::sleep(REPLAY_POLL).await,
                Ok(false) => return Answerer::Primary,
                Err(error) => {
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
