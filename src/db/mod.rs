//! Persistence: connecting (SQLite or PostgreSQL, chosen by the URL), migrating, counting the
//! statements sent, and the queries each area needs. Entities live in the `entity` crate and the
//! schema in `migration`; SQL lives here and nowhere above.

pub mod cache;
pub mod cells;
pub mod events;
pub mod facts;
pub mod feed;
pub mod import;
pub mod queries;
pub mod reference;
pub mod replica;
pub mod rollups;
pub mod rows;
pub mod search;
pub mod seed;
pub mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, TransactionTrait,
};

/// A shared counter. As `Db::statements` it counts every SQL statement this process sends. Tests read it to prove that the number of
/// statements per request does not grow with page size (no N+1).
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Statements that take longer are logged at WARN.
const SLOW_STATEMENT: Duration = Duration::from_millis(100);

/// An open registry database.
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    /// The pool analytical statements (metrics, aggregates, network builds) run on. The server
    /// opens a small one of its own (`--analytics-connections`, one per core by default), so a
    /// burst of slow analytics queues there and never holds the connections cheap reads and
    /// writes need; elsewhere (tools, tests) it is `conn`.
    pub analytics: DatabaseConnection,
    /// Admission to analytics, one permit per analytics connection, handed out in arrival order
    /// (tokio's semaphore is fair). A request takes its permit with its first analytical
    /// statement and keeps it to its end (`graphql::loaders::AnalyticsTurn`), so under a burst
    /// requests finish one after another at the rate of one client, instead of all sharing the
    /// pool and all finishing late. Unbounded outside the server.
    pub analytics_gate: Arc<tokio::sync::Semaphore>,
    /// Where it was opened (a background task opens its own pool there).
    pub url: Arc<str>,
    pub statements: StatementCounter,
    /// GraphQL operations served on this connection (for statements per request in `/metrics`).
    pub operations: StatementCounter,
    /// Analytical results by data version, shared by every request of this process.
    pub analytics_cache: cache::AnalyticsCache,
    /// Wakes this process's change feed after its own commits.
    pub commits: feed::CommitSignal,
    /// This process's writers' queue: one write transaction at a time (`write::begin`).
    pub writers: Arc<tokio::sync::Mutex<()>>,
    /// The registry's counts the query-cost check estimates network sizes from
    /// ([`queries::network::registry_counts`]), refreshed by the server.
    pub network_counts: Arc<std::sync::RwLock<crate::domain::network::work::RegistryCounts>>,
}

impl Db {
    /// Connects, creating the SQLite file (in WAL mode) if needed.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, max_connections, Pooling::MAIN).await
    }

    /// As [`Self::connect`], but connecting on first use: for a database that may be down now
    /// (the probe of a replica).
    pub async fn lazy(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, max_connections, Pooling { wait: READ_POOL_WAIT, lazy: true, ..Pooling::MAIN }).await
    }

    async fn connect_with(url: &str, max_connections: u32, pooling: Pooling) -> Result<Self, DbErr> {
        let statements = StatementCounter::default();
        let conn = open_pool_with(url, max_connections, statements.clone(), pooling).await?;
        Ok(Self {
            analytics_gate: Arc::new(tokio::sync::Semaphore::new(tokio::sync::Semaphore::MAX_PERMITS)),
            analytics: conn.clone(),
            conn,
            url: url.into(),
            statements,
            operations: StatementCounter::default(),
            analytics_cache: cache::AnalyticsCache::default(),
            commits: feed::CommitSignal::default(),
            writers: Arc::default(),
            network_counts: Arc::default(),
        })
    }

    /// A second pool on the same database that shares everything else with this one (counters,
    /// cache, commit signal, writers' queue): for work that must not wait on this pool.
    pub async fn companion(&self, max_connections: u32) -> Result<Self, DbErr> {
        Ok(Self { conn: open_pool(&self.url, max_connections, self.statements.clone()).await?, ..self.clone() })
    }

    /// The same registry read through `url` (a streaming replica), with main and analytics pools
    /// of its own and this one's counters, cache, commit signal and writers' queue. `url` stays
    /// the primary's: background tasks open their pools there. The cache can be shared because an
    /// entry is keyed by the data version read on the connection that computed it.
    ///
    /// Its pools connect lazily and give up on a connection sooner than the primary's: a replica
    /// that is down must neither stop an instance from starting nor hold queries that the
    /// primary can answer (`http::reads` routes around it).
    pub async fn reader(&self, url: &str, max_connections: u32, analytics_connections: u32) -> Result<Self, DbErr> {
        let main = Pooling { wait: READ_POOL_WAIT, lazy: true, ..Pooling::MAIN };
        let conn = open_pool_with(url, max_connections, self.statements.clone(), main).await?;
        let analytics_connections = analytics_connections.max(1);
        let analytics = Pooling { wait: READ_POOL_WAIT, lazy: true, ..Pooling::ANALYTICS };
        Ok(Self {
            conn,
            analytics: open_pool_with(url, analytics_connections, self.statements.clone(), analytics).await?,
            analytics_gate: Arc::new(tokio::sync::Semaphore::new(analytics_connections as usize)),
            ..self.clone()
        })
    }

    /// Gives analytical statements a pool of their own with `max_connections` connections, and
    /// one admission permit per connection.
    pub async fn with_analytics_pool(mut self, max_connections: u32) -> Result<Self, DbErr> {
        let max_connections = max_connections.max(1);
        self.analytics =
            open_pool_with(&self.url, max_connections, self.statements.clone(), Pooling::ANALYTICS).await?;
        self.analytics_gate = Arc::new(tokio::sync::Semaphore::new(max_connections as usize));
        Ok(self)
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        // The migrator's own checks read PostgreSQL's catalogs (about 0.2 s, most of a second
        // start); when the migrations table already lists every migration there is nothing to do.
        if self.all_migrations_applied().await && !self.derived_facts_missing().await? {
            if search::refill_pending(&self.conn).await? {
                self.refill_search_names().await?;
            }
            return Ok(());
        }
        Migrator::up(&self.conn, None).await?;
        self.refill_search_names().await?;
        // A migration may have added or reshaped the derived facts: recompute them all, once,
        // in one transaction (seconds at the `large` scale; nothing on an empty registry). A
        // process stopped between the migration's commit and this one's finds the facts missing
        // at its next start and recomputes them then.
        let tx = self.conn.begin().await?;
        facts::rebuild(&tx).await?;
        tx.commit().await?;
        facts::vacuum_analyze(&self.conn).await
    }

    /// Folds every name a migration left without its search form, in one transaction.
    async fn refill_search_names(&self) -> Result<(), DbErr> {
        let tx = self.conn.begin().await?;
        let refolded = search::refill(&tx).await?;
        tx.commit().await?;
        if refolded > 0 {
            tracing::info!(refolded, "names refolded for search");
        }
        Ok(())
    }

    /// True when the map is loaded but the derived facts are not (every municipality is a metric
    /// node once they are).
    async fn derived_facts_missing(&self) -> Result<bool, DbErr> {
        let statement = sea_orm::Statement::from_string(
            self.backend(),
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM municipalities) AND NOT EXISTS (SELECT 1 FROM metric_nodes) \
             THEN 1 ELSE 0 END AS missing",
        );
        let row = self.conn.query_one_raw(statement).await?;
        Ok(row.map(|row| row.try_get::<i32>("", "missing")).transpose()?.unwrap_or(0) == 1)
    }

    /// True when `seaql_migrations` lists exactly the migrations this binary knows.
    async fn all_migrations_applied(&self) -> bool {
        let statement = sea_orm::Statement::from_string(self.backend(), "SELECT version FROM seaql_migrations");
        let Ok(rows) = self.conn.query_all_raw(statement).await else { return false };
        let mut applied: Vec<String> =
            rows.iter().filter_map(|row| row.try_get::<String>("", "version").ok()).collect();
        let mut known: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        applied.sort();
        known.sort();
        applied == known
    }

    /// True when the database answers a trivial query (for `/readyz`).
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }

    /// True when the registry holds no organisations, programmes or projects yet (the
    /// reference map alone does not count: it is loaded on every first start).
    pub async fn is_empty(&self) -> Result<bool, DbErr> {
        use sea_orm::{EntityTrait, PaginatorTrait};
        Ok(entity::organisation::Entity::find().count(&self.conn).await? == 0
            && entity::programme::Entity::find().count(&self.conn).await? == 0
            && entity::project::Entity::find().count(&self.conn).await? == 0)
    }
}

/// PostgreSQL settings of every session the pools open. JIT compiles the analytical statements
/// for hundreds of milliseconds to save a few: measured 810 ms with it, 250 ms without.
const SESSION: &[(&str, &str)] = &[("jit", "off")];

/// The analytics pool's sessions also sort and hash in memory: the group-by's COUNT(DISTINCT)
/// sorts and the metrics' hash aggregates spilled to disk with the default 4 MB on `large`.
/// A few connections × 64 MB is a bounded price (`--analytics-connections`).
const ANALYTICS_SESSION: &[(&str, &str)] = &[("jit", "off"), ("work_mem", "64MB")];

/// How long a request waits for a connection of the main pool.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How long an analytical statement may queue for the analytics pool: it is the queue that
/// keeps a burst of analytics from collapsing (32 clients of a 1 s question wait up to 16 s on
/// two connections); beyond it the request is refused as `BUSY`.
const ANALYTICS_QUEUE_WAIT: Duration = Duration::from_secs(60);

/// How long a query waits for a connection of a replica's pools before the primary answers it.
const READ_POOL_WAIT: Duration = Duration::from_secs(3);

/// How a pool's sessions are set up and how long a request waits for one of them.
#[derive(Clone, Copy, Debug)]
struct Pooling {
    session: &'static [(&'static str, &'static str)],
    wait: Duration,
    /// Connect on first use instead of at opening (a replica that is down at start).
    lazy: bool,
}

impl Pooling {
    const MAIN: Self = Self { session: SESSION, wait: POOL_WAIT, lazy: false };
    const ANALYTICS: Self = Self { session: ANALYTICS_SESSION, wait: ANALYTICS_QUEUE_WAIT, lazy: false };
}

/// Opens a pool on `url`; every statement it sends is counted on `statements`.
async fn open_pool(url: &str, max_connections: u32, statements: StatementCounter) -> Result<DatabaseConnection, DbErr> {
    open_pool_with(url, max_connections, statements, Pooling::MAIN).await
}

async fn open_pool_with(
    url: &str,
    max_connections: u32,
    statements: StatementCounter,
    Pooling { session, wait, lazy }: Pooling,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(wait)
        .connect_lazy(lazy)
        .sqlx_logging(false)
        // WAL lets readers go on while the importer writes; busy_timeout makes a writer wait
        // for the lock instead of failing at once.
        .map_sqlx_postgres_opts(move |postgres| postgres.options(session.iter().copied()))
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    let mut conn = Database::connect(options).await?;
    conn.set_metric_callback(move |info| {
        statements.increment();
        // Slow statements go to the log with their SQL (values elided), for EXPLAIN later.
        if info.elapsed >= SLOW_STATEMENT {
            tracing::warn!(
                elapsed_ms = info.elapsed.as_millis() as u64,
                failed = info.failed,
                sql = %abbreviated(&info.statement.sql),
                "slow SQL statement"
            );
        }
    });
    Ok(conn)
}

/// The first 500 characters of a statement (a bulk INSERT can run to megabytes).
fn abbreviated(sql: &str) -> &str {
    sql.char_indices().nth(500).map_or(sql, |(end, _)| &sql[..end])
}

/// The URL of the embedded default database at `path`.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Runs raw SQL that returns nothing (administration: creating test databases and the like).
pub async fn execute(conn: &DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    conn.execute_unprepared(sql).await.map(|_| ())
}
