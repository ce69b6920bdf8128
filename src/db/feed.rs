//! The change feed of one server instance: a single reader follows the events outbox and fans
//! every new event out to all subscriptions of this process.
//!
//! The outbox is the only source. The reader wakes on a PostgreSQL `NOTIFY` (sent by every
//! write transaction and delivered at its commit, to every instance), on this process's own
//! commits, and on a poll timer, and then reads the rows after the last seq it has seen. Because
//! it always reads "everything after my position" from the table, a lost notification, a lost
//! `LISTEN` connection or a restarted PostgreSQL delays events but never drops one: the next
//! wake-up reads the gap. Writers are serialised ([`super::events::serialise_writers`]), so seq
//! order is commit order and "after my position" cannot skip a late commit.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use entity::event;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};

use super::events;

/// The PostgreSQL channel write transactions notify.
pub const CHANNEL: &str = "samverka_events";

/// Events read per statement while catching up.
const PAGE: u64 = 500;

/// A committed event and what it touches, worked out once by the reader for all subscribers.
#[derive(Debug)]
pub struct FeedEvent {
    pub event: event::Model,
    pub impact: Impact,
}

/// The projects and regions a change touches. A region is touched when the change is to the
/// region, or to a municipality that is or was its member, or to an organisation seated in one,
/// or to a project one of those organisations takes part in (with its partners, goals,
/// budget and results), a placement hosted there or a student enrolled there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    pub project_ids: BTreeSet<i32>,
    pub region_ids: BTreeSet<i32>,
}

/// How the reader is woken besides notifications.
#[derive(Clone, Copy, Debug)]
pub struct FeedOptions {
    /// Read the table at least this often (catches writes by other processes on SQLite, and
    /// anything a lost notification would have announced on PostgreSQL).
    pub poll: Duration,
    /// Events buffered per subscriber before it must catch up from the table.
    pub buffer: usize,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self { poll: Duration::from_secs(2), buffer: 4096 }
    }
}

/// Wakes the reader after this process commits (the in-process channel).
#[derive(Clone, Debug, Default)]
pub struct CommitSignal(Arc<Notify>);

impl CommitSignal {
    /// Called after a write transaction commits.
    pub fn committed(&self) {
        self.0.notify_one();
    }
}

/// The instance's feed: subscribe for live events, replay history from the table.
#[derive(Clone, Debug)]
pub struct Feed {
    sender: broadcast::Sender<Arc<FeedEvent>>,
}

impl Feed {
    /// Starts the reader over `conn` (from the current end of the outbox) and, on PostgreSQL,
    /// its `LISTEN` connection. Both run until the process ends.
    pub async fn start(conn: DatabaseConnection, commits: CommitSignal, options: FeedOptions) -> Result<Self, DbErr> {
        let start = events::data_version(&conn).await?;
        let (sender, _) = broadcast::channel(options.buffer);
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            tokio::spawn(listen(conn.clone(), commits.clone()));
        }
        let reader = Reader { conn, sender: sender.clone(), last: start };
        tokio::spawn(reader.run(commits, options.poll));
        Ok(Self { sender })
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.sender.subscribe()
    }
}

/// Up to [`PAGE`] committed events after `after` from the table, with their impact.
pub async fn replay(conn: &DatabaseConnection, after: i64) -> Result<Vec<Arc<FeedEvent>>, DbErr> {
    let rows = events::list(conn, after, None, PAGE).await?;
    let impacts = impacts(conn, &rows).await?;
    Ok(rows.into_iter().zip(impacts).map(|(event, impact)| Arc::new(FeedEvent { event, impact })).collect())
}

struct Reader {
    conn: DatabaseConnection,
    sender: broadcast::Sender<Arc<FeedEvent>>,
    last: i64,
}

impl Reader {
    async fn run(mut self, commits: CommitSignal, poll: Duration) {
        let mut failures = 0_u32;
        loop {
            tokio::select! {
                () = commits.0.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
            match self.catch_up().await {
                Ok(()) => failures = 0,
                Err(error) => {
                    // The database is away (restarting, say): try again, slower each time; the
                    // position stays, so nothing is skipped when it is back.
                    failures += 1;
                    tracing::warn!(%error, failures, "change feed could not read the outbox");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(failures.min(10)))).await;
                    commits.committed();
                }
            }
        }
    }

    /// Broadcasts every event after the position, page by page.
    async fn catch_up(&mut self) -> Result<(), DbErr> {
        loop {
            let page = replay(&self.conn, self.last).await?;
            let Some(last) = page.last().map(|e| e.event.seq) else { return Ok(()) };
            for event in page {
                // No receivers is not an error: nobody subscribes yet.
                let _ = self.sender.send(event);
            }
            self.last = last;
        }
    }
}

/// Holds a `LISTEN` connection and turns each notification into a wake-up of the reader. When
/// the connection is lost, sqlx reconnects inside `try_recv` and reports it as `None`: the
/// reader is woken then too, since notifications sent meanwhile are gone.
async fn listen(conn: DatabaseConnection, commits: CommitSignal) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut failures = 0_u32;
    loop {
        let pool = conn.get_postgres_connection_pool();
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(error) => {
                failures += 1;
                tracing::warn!(%error, failures, "change feed could not open its LISTEN connection");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(failures.min(20)))).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "change feed could not LISTEN");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        failures = 0;
        // Whatever committed while no connection listened is read now.
        commits.committed();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => commits.committed(),
                Ok(None) => {
                    tracing::info!("change feed LISTEN connection re-established");
                    commits.committed();
                }
                Err(error) => {
                    tracing::warn!(%error, "change feed LISTEN connection lost");
                    commits.committed();
                    break;
                }
            }
        }
    }
}

/// What each of `rows` touches, in their order; a handful of statements for the whole page.
pub async fn impacts(conn: &DatabaseConnection, rows: &[event::Model]) -> Result<Vec<Impact>, DbErr> {
    let mut touched: Vec<Touched> = rows.iter().map(Touched::of).collect();
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    // Indicator values name their goal; goals and the rest name their project.
    let goals =
        lookup(conn, "SELECT id, project_id FROM goals WHERE id IN", touched.iter().flat_map(|t| &t.goals)).await?;
    let students = lookup(
        conn,
        "SELECT id, enrolling_organisation_id FROM students WHERE id IN",
        touched.iter().flat_map(|t| &t.students),
    )
    .await?;
    for t in &mut touched {
        t.projects.extend(t.goals.iter().filter_map(|g| goals.get(g)).flatten());
        t.organisations.extend(t.students.iter().filter_map(|s| students.get(s)).flatten());
    }
    let partners = lookup(
        conn,
        "SELECT project_id, organisation_id FROM project_partners WHERE project_id IN",
        touched.iter().flat_map(|t| &t.projects),
    )
    .await?;
    for t in &mut touched {
        t.organisations.extend(t.projects.iter().filter_map(|p| partners.get(p)).flatten());
    }
    let seats = lookup(
        conn,
        "SELECT id, municipality_id FROM organisations WHERE id IN",
        touched.iter().flat_map(|t| &t.organisations),
    )
    .await?;
    for t in &mut touched {
        t.municipalities.extend(t.organisations.iter().filter_map(|o| seats.get(o)).flatten());
    }
    let memberships = lookup(
        conn,
        "SELECT municipality_id, region_id FROM region_memberships WHERE municipality_id IN",
        touched.iter().flat_map(|t| &t.municipalities),
    )
    .await?;
    for t in &mut touched {
        t.regions.extend(t.municipalities.iter().filter_map(|m| memberships.get(m)).flatten());
    }
    // A region's parents (a län's landsdel, say) hold what it holds.
    let parents = lookup(
        conn,
        "SELECT region_id, parent_id FROM region_parents WHERE region_id IN",
        touched.iter().flat_map(|t| &t.regions),
    )
    .await?;
    Ok(touched
        .into_iter()
        .map(|t| {
            let mut region_ids = t.regions.clone();
            region_ids.extend(t.regions.iter().filter_map(|r| parents.get(r)).flatten());
            Impact { project_ids: t.projects, region_ids }
        })
        .collect())
}

/// The ids one event names, directly or through its row's foreign keys.
#[derive(Default)]
struct Touched {
    projects: BTreeSet<i32>,
    goals: BTreeSet<i32>,
    students: BTreeSet<i32>,
    organisations: BTreeSet<i32>,
    municipalities: BTreeSet<i32>,
    regions: BTreeSet<i32>,
}

impl Touched {
    /// From the row after the change and, for an update, the row before it: a row that moved
    /// (an organisation to another municipality, a partner to another project) touches both sides.
    fn of(event: &event::Model) -> Self {
        let mut t = Self::default();
        let own = Some(event.entity_id);
        match event.entity.as_str() {
            "projects" => t.projects.extend(own),
            "goals" => t.goals.extend(own),
            "students" => t.students.extend(own),
            "organisations" => t.organisations.extend(own),
            "municipalities" => t.municipalities.extend(own),
            "regions" => t.regions.extend(own),
            _ => {}
        }
        for row in [&event.data, &event.previous] {
            let Some(row) = row.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()) else { continue };
            t.add_references(&event.entity, &row);
        }
        t
    }

    /// The ids a row names by its foreign keys.
    fn add_references(&mut self, entity: &str, row: &Value) {
        let field = |name: &str| row.get(name).and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok());
        if entity == "region_parents" {
            self.regions.extend(field("parent_id"));
        }
        self.projects.extend(field("project_id"));
        self.goals.extend(field("goal_id"));
        self.students.extend(field("student_id"));
        for name in [
            "organisation_id",
            "organisation_a_id",
            "organisation_b_id",
            "host_organisation_id",
            "enrolling_organisation_id",
        ] {
            self.organisations.extend(field(name));
        }
        self.municipalities.extend(field("municipality_id"));
        self.municipalities.extend(field("home_municipality_id"));
        self.regions.extend(field("region_id"));
    }
}

/// `key → values` from a two-column statement `"SELECT key, value FROM … WHERE key IN"` over
/// the distinct `ids` (none: no statement).
async fn lookup<'a>(
    conn: &DatabaseConnection,
    select: &str,
    ids: impl Iterator<Item = &'a i32>,
) -> Result<HashMap<i32, Vec<i32>>, DbErr> {
    let ids: BTreeSet<i32> = ids.copied().collect();
    let mut result: HashMap<i32, Vec<i32>> = HashMap::new();
    if ids.is_empty() {
        return Ok(result);
    }
    // Ids are integers, so inlining them is safe and keeps the statement one round trip.
    let list = ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let backend = conn.get_database_backend();
    for row in conn.query_all_raw(Statement::from_string(backend, format!("{select} ({list})"))).await? {
        let key: i32 = row.try_get_by_index(0)?;
        if let Some(value) = row.try_get_by_index::<Option<i32>>(1)? {
            result.entry(key).or_default().push(value);
        }
    }
    Ok(result)
}
