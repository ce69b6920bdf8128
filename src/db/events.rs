//! The events outbox: every committed change writes one row here in its own transaction, so the
//! audit trail and the subscription feed can never disagree with the data.

use entity::event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, NotSet, Set, Statement};

/// The PostgreSQL advisory lock every write transaction takes first (the bytes of "SAMVOBOX").
const OUTBOX_LOCK: i64 = 0x5341_4d56_4f42_4f58;

/// Serialises writers so that outbox sequence numbers become visible in commit order.
///
/// PostgreSQL hands out sequence values when rows are inserted, not when they commit, so two
/// concurrent transactions can commit in the reverse order of their numbers: a reader that
/// has already passed seq 8 would then never see seq 7. Of the ways out (a visibility window,
/// ordering by `pg_current_xact_id()`, or serialising writers) this takes the simplest one that
/// cannot miss an event: every write transaction takes one transaction-scoped advisory lock as
/// its first statement and holds it to commit or rollback, so the transaction that drew the
/// lower number has always committed before the next one draws its own. Registry writes are
/// editor-paced (tens per second at most), so one writer at a time costs nothing that matters,
/// and taking the lock first (before any row lock) means it cannot deadlock. SQLite needs
/// nothing: `BEGIN IMMEDIATE` already admits one writer at a time.
///
/// It also makes [`data_version`] exact: the highest committed seq only ever grows.
///
/// Inside one process writers already queue before they take a connection (`write::begin`),
/// so this lock is only ever contended across instances; `lock_timeout` bounds that wait.
///
/// The same statement queues the one notification of the transaction (see [`record`]).
pub async fn serialise_writers(tx: &impl ConnectionTrait) -> Result<(), DbErr> {
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        // `SET LOCAL` cannot take a bind parameter; the value is a constant.
        tx.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SET LOCAL lock_timeout = '{}s'", WRITER_LOCK_WAIT_SECS),
        ))
        .await?;
        // Delivered at commit (never for a rollback) to every instance's LISTEN connection:
        // one wake-up per transaction, however many events it writes. A transaction that ends
        // up writing nothing costs its listeners one empty read.
        tx.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({OUTBOX_LOCK}), pg_notify('{}', '')", super::feed::CHANNEL),
        ))
        .await?;
    }
    Ok(())
}

/// How long a writer waits for another instance's writer before giving up with `BUSY`.
const WRITER_LOCK_WAIT_SECS: u32 = 10;

/// True for PostgreSQL's `lock_not_available` (SQLSTATE 55P03): a `lock_timeout` ran out.
pub fn is_lock_timeout(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (DbErr::Query(runtime) | DbErr::Exec(runtime) | DbErr::Conn(runtime)) = error else { return false };
    matches!(runtime, RuntimeErr::SqlxError(inner)
        if matches!(&**inner, sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03")))
}

/// The registry's data version: the seq of the last committed change event (0 when none).
/// Every write records an event in its transaction, so equal versions mean equal data, on every
/// instance (caches key on it). A bulk `seed --synthetic` writes no events; it only fills an
/// empty database, before any cache can hold anything of it.
pub async fn data_version(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(backend, "SELECT COALESCE(MAX(seq), 0) AS version FROM events"))
        .await?;
    match row {
        Some(row) => row.try_get::<i64>("", "version"),
        None => Ok(0),
    }
}

/// What happened to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// A row closed by date rather than removed (a dissolved municipality, an ended membership).
    End,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::End => "end",
        }
    }
}

/// One change to record.
#[derive(Clone, Debug)]
pub struct Change {
    pub entity: &'static str,
    pub entity_id: i32,
    pub slug: Option<String>,
    pub operation: Operation,
    pub version: i32,
    /// The row as JSON after the change (before it, for a delete).
    pub data: Option<String>,
    /// The row as JSON before an update.
    pub previous: Option<String>,
}

impl Change {
    /// A change to `row` of `table`, with the row's JSON as data.
    pub fn of<M: serde::Serialize>(
        entity: &'static str,
        entity_id: i32,
        slug: Option<String>,
        operation: Operation,
        version: i32,
        row: &M,
    ) -> Self {
        Self { entity, entity_id, slug, operation, version, data: serde_json::to_string(row).ok(), previous: None }
    }

    /// The same change, also naming the row as it was before.
    pub fn from<M: serde::Serialize>(mut self, previous: &M) -> Self {
        self.previous = serde_json::to_string(previous).ok();
        self
    }
}

/// Appends `change` to the outbox on `conn`: always the change's own transaction, which has
/// called [`serialise_writers`] first.
/// On PostgreSQL that transaction has also queued its `NOTIFY` ([`serialise_writers`]).
pub async fn record(conn: &impl ConnectionTrait, actor: &str, change: Change) -> Result<event::Model, DbErr> {
    event::ActiveModel {
        seq: NotSet,
        entity: Set(change.entity.to_owned()),
        entity_id: Set(change.entity_id),
        slug: Set(change.slug),
        operation: Set(change.operation.as_str().to_owned()),
        version: Set(change.version),
        actor: Set(actor.to_owned()),
        occurred_at: Set(chrono::Utc::now()),
        data: Set(change.data),
        previous: Set(change.previous),
    }
    .insert(conn)
    .await
}

/// Events after `after` (a sequence number), oldest first, at most `limit`; optionally of one table.
pub async fn list(
    conn: &impl ConnectionTrait,
    after: i64,
    entity: Option<&str>,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = event::Entity::find().filter(event::Column::Seq.gt(after));
    if let Some(entity) = entity {
        query = query.filter(event::Column::Entity.eq(entity));
    }
    query.order_by_asc(event::Column::Seq).limit(limit).all(conn).await
}
