//! Seeding an empty database in bulk (`samverka seed --synthetic`): the reference map is loaded
//! first (the registry lives on it), the generator in [`synthetic`] builds the rows on it, this
//! module writes them in one transaction with multi-row
//! INSERTs, secondary indexes dropped first and rebuilt after (much faster than maintaining them
//! row by row), then fixes PostgreSQL's id sequences and refreshes planner statistics.
//!
//! Bulk seeding writes no change events: it is not an edit, and a million "created" events would
//! only be noise for subscribers. Rows start at version 1.

pub mod synthetic;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IntoActiveModel, Iterable, Statement,
    TransactionTrait,
};

use super::Db;
use synthetic::{Registry, Scale};

/// Parameters per INSERT: under SQLite's limit (32 766) and PostgreSQL's (65 535).
const MAX_PARAMETERS: usize = 30_000;

/// Tables a seed fills, in the order their foreign keys need.
const TABLES: &[&str] = &[
    "sources",
    "organisations",
    "programmes",
    "projects",
    "project_partners",
    "collaborations",
    "goals",
    "indicator_values",
    "students",
    "student_placements",
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "the database is not empty: `seed --synthetic` fills an empty database only (point DATABASE_URL or --sqlite-path at a new one)"
    )]
    NotEmpty,
    #[error("the reference map: {0}")]
    Map(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Rows written per table, and how long each took.
#[derive(Debug, Default)]
pub struct SeedSummary {
    pub tables: Vec<(&'static str, usize, Duration)>,
    pub indexes: Duration,
    pub total: Duration,
}

impl SeedSummary {
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|(_, rows, _)| rows).sum()
    }
}

/// Generates the synthetic registry of `scale` from `seed` and writes it into the (empty,
/// migrated) database. `progress` draws bars on standard error.
pub async fn seed_synthetic(db: &Db, scale: Scale, seed: u64, progress: bool) -> Result<SeedSummary, SeedError> {
    let started = Instant::now();
    if !db.is_empty().await? || has_rows(db, "students").await? {
        return Err(SeedError::NotEmpty);
    }
    let spinner = bar(progress, None, "reference map");
    super::reference::ensure_loaded(db).await?;
    let map = real_map(db).await?;
    spinner.set_message("generating");
    let registry = synthetic::generate(scale, seed, &map);
    spinner.finish_and_clear();
    let mut summary = write_registry(db, &registry, progress).await?;
    summary.total = started.elapsed();
    Ok(summary)
}

/// The shipped map's municipalities with the ids this database gave them.
async fn real_map(db: &Db) -> Result<synthetic::RealMap, SeedError> {
    use sea_orm::QueryOrder;
    let map = crate::domain::reference::builtin().map_err(SeedError::Map)?;
    let ids: std::collections::HashMap<String, i32> =
        entity::municipality::Entity::find().all(&db.conn).await?.into_iter().map(|m| (m.slug, m.id)).collect();
    let countries: std::collections::HashMap<String, i32> =
        entity::country::Entity::find().all(&db.conn).await?.into_iter().map(|c| (c.code, c.id)).collect();
    let last_source = entity::source::Entity::find()
        .order_by_desc(entity::source::Column::Id)
        .one(&db.conn)
        .await?
        .map_or(0, |s| s.id);
    synthetic::RealMap::from_reference(
        &map.records,
        |slug| ids.get(slug).copied(),
        |code| countries.get(code).copied(),
        last_source + 1,
    )
    .map_err(SeedError::Map)
}

async fn has_rows(db: &Db, table: &str) -> Result<bool, DbErr> {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(db.backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) > 0)
}

fn bar(visible: bool, length: Option<u64>, label: &str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = match length {
        Some(length) => ProgressBar::new(length).with_style(
            ProgressStyle::with_template("{msg:>20} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        ),
        None => {
            let spinner = ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        }
    };
    bar.set_message(label.to_owned());
    bar
}

async fn write_registry(db: &Db, registry: &Registry, progress: bool) -> Result<SeedSummary, DbErr> {
    let backend = db.backend();
    let txn = db.conn.begin().await?;
    let indexes = secondary_indexes(&txn, backend).await?;
    for (name, _) in &indexes {
        txn.execute_unprepared(&format!("DROP INDEX {name}")).await?;
    }
    let mut summary = SeedSummary::default();
    macro_rules! write {
        ($($table:literal => $field:ident as $module:ident),+ $(,)?) => {
            $(
                let started = Instant::now();
                insert_all::<entity::$module::ActiveModel, _>(&txn, &registry.$field, $table, progress).await?;
                summary.tables.push(($table, registry.$field.len(), started.elapsed()));
            )+
        };
    }
    write!(
        "sources" => sources as source,
        "organisations" => organisations as organisation,
        "programmes" => programmes as programme,
        "projects" => projects as project,
        "project_partners" => project_partners as project_partner,
        "collaborations" => collaborations as collaboration,
        "goals" => goals as goal,
        "indicator_values" => indicator_values as indicator_value,
        "students" => students as student,
        "student_placements" => student_placements as student_placement,
    );
    let started = Instant::now();
    let rebuilding = bar(progress, Some(indexes.len() as u64), "indexes");
    for (_, definition) in &indexes {
        txn.execute_unprepared(definition).await?;
        rebuilding.inc(1);
    }
    rebuilding.finish_and_clear();
    if backend == DatabaseBackend::Postgres {
        // Rows came with their ids; move each sequence past them so later inserts don't collide.
        for table in TABLES {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            ))
            .await?;
        }
    }
    // The derived analytical facts, from the rows just written, in the same transaction.
    let facts = bar(progress, None, "analytical facts");
    crate::db::facts::rebuild(&txn).await?;
    facts.finish_and_clear();
    txn.commit().await?;
    crate::db::facts::vacuum_analyze(&db.conn).await?;
    summary.indexes = started.elapsed();
    Ok(summary)
}

/// `(name, CREATE INDEX …)` of every index on the seeded tables that no constraint owns.
async fn secondary_indexes<C: ConnectionTrait>(
    conn: &C,
    backend: DatabaseBackend,
) -> Result<Vec<(String, String)>, DbErr> {
    let tables = TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename IN ({tables}) \
             AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
        ),
        _ => format!(
            "SELECT name, sql AS definition FROM sqlite_master \
             WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables}) ORDER BY name"
        ),
    };
    let rows = conn.query_all_raw(Statement::from_string(backend, sql)).await?;
    rows.iter().map(|row| Ok((row.try_get::<String>("", "name")?, row.try_get::<String>("", "definition")?))).collect()
}

async fn insert_all<A, C>(
    conn: &C,
    rows: &[<A::Entity as EntityTrait>::Model],
    label: &str,
    progress: bool,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Clone,
    C: ConnectionTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let chunk = (MAX_PARAMETERS / columns).max(1);
    let bar = bar(progress, Some(rows.len() as u64), label);
    for rows in rows.chunks(chunk) {
        <A::Entity as EntityTrait>::insert_many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(conn)
            .await?;
        bar.inc(rows.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}
