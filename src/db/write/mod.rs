//! Editors' writes. Every public function here is one transaction: resolve the references a
//! draft names (unknown → `NotFound`), run the registry rules of `domain::validation` against
//! the rows inside the transaction, write with an optimistic version check, and record the
//! change event in the same transaction. Nothing is written unless everything holds.
//!
//! Lost updates are impossible: an update names the version it read and the `UPDATE … WHERE
//! version = expected` affects no row when someone else wrote first (`Conflict`). Rules that
//! compare a new row with its siblings (overlapping memberships, codes, budget shares) first
//! lock the parent row (`lock`), so two concurrent writers cannot both pass the check.

mod registry;

pub use registry::*;

use entity::*;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

use super::events::{self, Change, Operation};
use super::rows::Row;
use crate::db::Db;
use crate::domain::validation::Violation;

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An input broke a rule (`BAD_USER_INPUT`).
    #[error(transparent)]
    Invalid(#[from] Violation),
    /// A referenced row does not exist (`NOT_FOUND`).
    #[error("no {what} `{key}`")]
    NotFound { field: &'static str, what: &'static str, key: String },
    /// The write collides with the registry as it is: a taken slug, a stale version, a row
    /// still referenced (`CONFLICT`).
    #[error("{message}")]
    Conflict { field: Option<&'static str>, rule: &'static str, message: String },
    /// The write could not get its turn in time: another writer (an import, say) held the
    /// registry (`BUSY`; retrying later is safe, nothing was written).
    #[error("{0}")]
    Busy(String),
    /// Anything else (`INTERNAL`; the cause is logged, never shown).
    #[error(transparent)]
    Db(DbErr),
}

impl From<DbErr> for WriteError {
    fn from(error: DbErr) -> Self {
        // Constraints are the last line of defence behind the checks; a race that reaches them
        // is still a conflict, not an internal error.
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict { field: None, rule: "unique", message: "another row already has this key".into() }
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::Conflict {
                field: None,
                rule: "still_referenced",
                message: "other rows still refer to this one; remove or re-point them first".into(),
            },
            _ if events::is_lock_timeout(&error) => Self::Busy(BUSY_MESSAGE.into()),
            _ => Self::Db(error),
        }
    }
}

pub type WriteResult<T> = Result<T, WriteError>;

/// Whether a slugged row is created or replaced.
#[derive(Clone, Debug)]
pub enum Target {
    Create,
    /// Replace the row now called `slug`, which the client read at `expected_version`.
    Update {
        slug: String,
        expected_version: i32,
    },
}

/// A registry table the generic writers know: its name in events and messages, id and version.
pub trait Table: EntityTrait
where
    Self::Model: Row + IntoActiveModel<Self::ActiveModel>,
    Self::ActiveModel: ActiveModelTrait<Entity = Self> + ActiveModelBehavior + Send,
{
    /// How messages name a row of the table ("project", "membership").
    const WHAT: &'static str;
    /// The table's name, as change events record it.
    fn name() -> &'static str {
        Self::default().table_name()
    }
    fn id_column() -> Self::Column;
    fn version_column() -> Self::Column;
}

/// A table whose rows have a unique natural key (slug, source key, country code).
pub trait KeyedTable: Table
where
    Self::Model: Row + IntoActiveModel<Self::ActiveModel>,
    Self::ActiveModel: ActiveModelTrait<Entity = Self> + ActiveModelBehavior + Send,
{
    fn key_column() -> Self::Column;
    fn key_of(model: &Self::Model) -> &str;
}

macro_rules! tables {
    ($($module:ident: $what:literal $(key $key:ident)?),+ $(,)?) => {$(
        impl Table for $module::Entity {
            const WHAT: &'static str = $what;
            fn id_column() -> Self::Column { $module::Column::Id }
            fn version_column() -> Self::Column { $module::Column::Version }
        }
        $(tables!(@key $module $key);)?
    )+};
    (@key $module:ident $key:ident) => {
        impl KeyedTable for $module::Entity {
            fn key_column() -> Self::Column { tables!(@column $module $key) }
            fn key_of(model: &Self::Model) -> &str { &model.$key }
        }
    };
    (@column $module:ident slug) => { $module::Column::Slug };
    (@column $module:ident key) => { $module::Column::Key };
    (@column $module:ident code) => { $module::Column::Code };
}

tables!(
    source: "source" key key,
    country: "country" key code,
    region: "region" key slug,
    region_code: "region code",
    region_parent: "region parent",
    municipality: "municipality" key slug,
    municipality_code: "municipality code",
    region_membership: "membership",
    organisation: "organisation" key slug,
    student: "student" key slug,
    student_placement: "placement" key slug,
    programme: "programme" key slug,
    project: "project" key slug,
    project_budget_line: "budget line",
    project_partner: "project partner",
    collaboration: "collaboration" key slug,
    goal: "goal" key slug,
    indicator_value: "indicator value" key slug,
    municipality_name: "municipality name",
    municipality_change: "municipality change",
    region_change: "region change",
    organisation_name: "organisation name",
    organisation_change: "organisation change",
    organisation_link: "organisation link",
);

const BUSY_MESSAGE: &str = "the registry is busy with other writes; nothing was written, try again shortly";

/// How long a write waits for its turn behind this process's other writers.
const WRITER_TURN_WAIT: Duration = Duration::from_secs(10);

/// This process's writer turn ([`Db::writers`]). Bind it before the transaction, so that it
/// is dropped after it: `let (turn, tx) = begin(db).await?;`, and end with [`commit`].
pub struct WriterTurn {
    _turn: OwnedMutexGuard<()>,
    /// The outbox's last sequence number when the transaction began: the events after it are
    /// this transaction's own (writers are serialised).
    since: i64,
}

/// Brings the derived analytical facts up to date with what the transaction wrote
/// ([`crate::db::facts::flush`]), then commits.
pub async fn commit(turn: &WriterTurn, tx: DatabaseTransaction) -> Result<(), DbErr> {
    crate::db::facts::flush(&tx, turn.since).await?;
    tx.commit().await
}

/// Starts a write transaction.
///
/// Writers queue first on this process's turn ([`Db::writers`]), *without* a pool connection:
/// only one of them can hold the outbox lock anyway, and waiting for it inside a transaction
/// would pin a pooled connection each, so a burst of writes would starve readers and each
/// other of the pool. Then, on SQLite, `BEGIN IMMEDIATE` takes the write lock at once, so a
/// transaction that read first cannot fail later with a stale snapshot; on PostgreSQL the
/// transaction takes the outbox lock first ([`events::serialise_writers`]), which orders
/// writers across instances, waiting at most `lock_timeout`. Either wait running out is `Busy`.
pub async fn begin(db: &Db) -> WriteResult<(WriterTurn, DatabaseTransaction)> {
    let turn = tokio::time::timeout(WRITER_TURN_WAIT, db.writers.clone().lock_owned())
        .await
        .map_err(|_| WriteError::Busy(BUSY_MESSAGE.into()))?;
    let tx = db
        .conn
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    events::serialise_writers(&tx).await?;
    let since = events::data_version(&tx).await?;
    Ok((WriterTurn { _turn: turn, since }, tx))
}

/// The row with natural key `key`, or `NotFound` naming the input `field`.
pub async fn by_key<E>(tx: &DatabaseTransaction, field: &'static str, key: &str) -> WriteResult<E::Model>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    E::find().filter(E::key_column().eq(key)).one(tx).await?.ok_or_else(|| WriteError::NotFound {
        field,
        what: E::WHAT,
        key: key.to_owned(),
    })
}

pub async fn id_of<E>(tx: &DatabaseTransaction, field: &'static str, key: &str) -> WriteResult<i32>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    Ok(by_key::<E>(tx, field, key).await?.id())
}

pub async fn opt_id_of<E>(tx: &DatabaseTransaction, field: &'static str, key: Option<&str>) -> WriteResult<Option<i32>>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    match key {
        Some(key) => Ok(Some(id_of::<E>(tx, field, key).await?)),
        None => Ok(None),
    }
}

/// Takes the row lock on a parent row (a no-op update), so that checks over its children and
/// the write that follows cannot interleave with another transaction's. SQLite's immediate
/// transactions already serialise writers; on PostgreSQL this is the row lock.
pub async fn lock<E>(tx: &DatabaseTransaction, id: i32) -> WriteResult<()>
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    E::update_many()
        .col_expr(E::version_column(), Expr::col(E::version_column()))
        .filter(E::id_column().eq(id))
        .exec(tx)
        .await?;
    Ok(())
}

/// Inserts `model` at version 1 and records the `create` event.
pub async fn insert<E>(tx: &DatabaseTransaction, actor: &str, mut model: E::Model) -> WriteResult<E::Model>
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    model.set_version(1);
    let mut active = model.into_active_model().reset_all();
    active.not_set(E::id_column());
    let inserted = active.insert(tx).await?;
    let change = Change::of(E::name(), inserted.id(), inserted.slug(), Operation::Create, 1, &inserted);
    events::record(tx, actor, change).await?;
    Ok(inserted)
}

/// Replaces row `id` with `model` if it is still at `expected_version`; records the event.
pub async fn update<E>(
    tx: &DatabaseTransaction,
    actor: &str,
    id: i32,
    expected_version: i32,
    mut model: E::Model,
    operation: Operation,
) -> WriteResult<E::Model>
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    // The row as it was, for the event: the feed tells subscribers of what it moved away from.
    let Some(previous) = E::find().filter(E::id_column().eq(id)).one(tx).await? else {
        return Err(stale::<E>(tx, id, expected_version).await);
    };
    model.set_id(id);
    model.set_version(expected_version + 1);
    let mut active = model.into_active_model().reset_all();
    active.not_set(E::id_column());
    let result = E::update_many()
        .set(active)
        .filter(E::id_column().eq(id))
        .filter(E::version_column().eq(expected_version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(stale::<E>(tx, id, expected_version).await);
    }
    let updated = reload::<E>(tx, id).await?;
    let change = Change::of(E::name(), id, updated.slug(), operation, updated.version(), &updated).from(&previous);
    events::record(tx, actor, change).await?;
    Ok(updated)
}

/// Deletes `row` if it is still at `expected_version` (any version when `None`, for rows that
/// go with their parent); records the event.
pub async fn delete<E>(
    tx: &DatabaseTransaction,
    actor: &str,
    row: &E::Model,
    expected_version: Option<i32>,
) -> WriteResult<()>
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel> + serde::Serialize,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let mut query = E::delete_many().filter(E::id_column().eq(row.id()));
    if let Some(expected) = expected_version {
        query = query.filter(E::version_column().eq(expected));
    }
    if query.exec(tx).await?.rows_affected == 0 {
        return Err(stale::<E>(tx, row.id(), expected_version.unwrap_or(row.version())).await);
    }
    let change = Change::of(E::name(), row.id(), row.slug(), Operation::Delete, row.version(), row);
    events::record(tx, actor, change).await?;
    Ok(())
}

async fn reload<E>(tx: &DatabaseTransaction, id: i32) -> WriteResult<E::Model>
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    E::find().filter(E::id_column().eq(id)).one(tx).await?.ok_or_else(|| {
        WriteError::Db(DbErr::RecordNotFound(format!("{} {id} vanished inside its transaction", E::name())))
    })
}

/// The conflict for a write that found the row at another version (or gone).
async fn stale<E>(tx: &DatabaseTransaction, id: i32, expected_version: i32) -> WriteError
where
    E: Table,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let message = match reload::<E>(tx, id).await {
        Ok(current) => format!(
            "the {} changed since you read it (you read version {expected_version}, it is now at version {}); read it again",
            E::WHAT,
            current.version()
        ),
        Err(_) => format!("the {} was deleted since you read it", E::WHAT),
    };
    WriteError::Conflict { field: Some("expectedVersion"), rule: "stale_version", message }
}

/// Creates or replaces a keyed row: the key must be free (or the row's own), the version current.
pub async fn save_keyed<E>(
    tx: &DatabaseTransaction,
    actor: &str,
    current: Option<(&E::Model, i32)>,
    model: E::Model,
) -> WriteResult<E::Model>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let key = E::key_of(&model).to_owned();
    let taken = E::find().filter(E::key_column().eq(key.as_str())).one(tx).await?;
    if let Some(other) = taken
        && current.is_none_or(|(row, _)| row.id() != other.id())
    {
        return Err(WriteError::Conflict {
            field: Some(if E::name() == "sources" {
                "key"
            } else if E::name() == "countries" {
                "code"
            } else {
                "slug"
            }),
            rule: "slug_unique",
            message: format!("another {} is already called `{key}`", E::WHAT),
        });
    }
    match current {
        None => insert::<E>(tx, actor, model).await,
        Some((row, expected_version)) => {
            update::<E>(tx, actor, row.id(), expected_version, model, Operation::Update).await
        }
    }
}

/// The current row a `Target` names (none for `Create`).
pub async fn target_row<E>(tx: &DatabaseTransaction, target: &Target) -> WriteResult<Option<(E::Model, i32)>>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    match target {
        Target::Create => Ok(None),
        Target::Update { slug, expected_version } => {
            Ok(Some((by_key::<E>(tx, "slug", slug).await?, *expected_version)))
        }
    }
}

/// The id of a provenance source key.
pub async fn source_id(tx: &DatabaseTransaction, field: &'static str, key: Option<&str>) -> WriteResult<Option<i32>> {
    opt_id_of::<source::Entity>(tx, field, key).await
}
