//! The derived fact tables the analytical statements read (`project_facts`,
//! `partnership_facts`, `placement_facts`, migration 9; `enrolment_facts`, migration 10;
//! `organisation_facts`, migration 17) and,
//! through [`super::rollups`], their monthly rollups. They are a
//! function of the registry's rows, kept true in the transaction of every write:
//!
//! - every write path (editors' mutations, imports, the reference map) records one change
//!   event per row it touches, in its transaction ([`super::events::record`]);
//! - just before that transaction commits, [`flush`] reads the events it wrote (sequence numbers
//!   above the one it started at; writers are serialised, so those are its own), works out which
//!   facts depend on the changed rows (a moved organisation: its partnerships' projects, the
//!   placements it hosts and those of the students it enrols; an ended membership or a new
//!   placement: the rows themselves; a changed budget or goal: its project), and recomputes
//!   exactly those fact rows from the rows as they now are.
//!
//! A bulk load (the synthetic seed, a migration that adds the tables) calls [`rebuild`], which
//! recomputes every fact row with the same statements. So there is one definition of each fact:
//! the `INSERT … SELECT` below, restricted or not.

use std::collections::BTreeSet;

use entity::enums::PartnerRole;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};

use super::cells;
use super::queries::filter::ValueBits;
use super::queries::sql::{ATTAINMENT, Sql};
use super::rollups::{self, Family, Rows};

/// The tables whose changes feed facts (see [`Stale::note`]).
const FEEDING_TABLES: [&str; 9] = [
    "student_placements",
    "students",
    "organisations",
    "projects",
    "project_partners",
    "goals",
    "indicator_values",
    "region_memberships",
    "municipalities",
];

/// Ids per statement when refreshing (well under both backends' bind-parameter limits).
const CHUNK: usize = 1000;

/// What a set of changes makes stale.
#[derive(Debug, Default)]
pub struct Stale {
    pub projects: BTreeSet<i32>,
    pub placements: BTreeSet<i32>,
    /// Organisations whose placements and projects must be found first.
    organisations: BTreeSet<i32>,
    students: BTreeSet<i32>,
    /// Projects whose placements carry their programme.
    placement_projects: BTreeSet<i32>,
    /// Regions whose memberships changed: their epochs, and so their rollups, are recomputed.
    pub regions: BTreeSet<i32>,
    /// Municipalities created or changed: their metric nodes are recomputed.
    pub municipalities: BTreeSet<i32>,
    /// Organisations that gained, lost or changed a partnership: their partnership summary.
    pub partner_organisations: BTreeSet<i32>,
}

impl Stale {
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.placements.is_empty()
            && self.organisations.is_empty()
            && self.students.is_empty()
            && self.placement_projects.is_empty()
            && self.regions.is_empty()
            && self.municipalities.is_empty()
            && self.partner_organisations.is_empty()
    }

    /// Notes one changed row: its table, id and JSON before and after.
    pub fn note(&mut self, table: &str, id: i32, rows: [Option<&str>; 2]) {
        // The ids a row (as it was and as it is) names in `column`.
        let named = |column: &str| {
            rows.into_iter()
                .flatten()
                .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
                .filter_map(|row| row.get(column).and_then(serde_json::Value::as_i64))
                .filter_map(|id| i32::try_from(id).ok())
                .collect::<Vec<_>>()
        };
        match table {
            "student_placements" => {
                self.placements.insert(id);
            }
            "students" => {
                self.students.insert(id);
            }
            "organisations" => {
                self.organisations.insert(id);
            }
            "projects" => {
                self.projects.insert(id);
                self.placement_projects.insert(id);
            }
            // A partner row changes its project's partner count and cross-border flag, and its
            // organisations' (as it was and as it is) partnership summary; a goal or result its
            // project's attainment.
            "project_partners" => {
                self.projects.extend(named("project_id"));
                self.partner_organisations.extend(named("organisation_id"));
            }
            "goals" | "indicator_values" => self.projects.extend(named("project_id")),
            "region_memberships" => self.regions.extend(named("region_id")),
            "municipalities" => {
                self.municipalities.insert(id);
            }
            _ => {}
        }
    }
}

/// Recomputes the facts that the changes this transaction recorded (events after `since`) make
/// stale. Called by every write path just before it commits.
pub async fn flush<C: ConnectionTrait>(conn: &C, since: i64) -> Result<(), DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT entity, entity_id, data, previous FROM events WHERE seq > ")
        .bind(since)
        .push(&format!(" AND entity IN ({})", FEEDING_TABLES.map(|t| format!("'{t}'")).join(", ")));
    let statement = sql.statement();
    let mut stale = Stale::default();
    for row in conn.query_all_raw(statement).await? {
        let entity: String = row.try_get("", "entity")?;
        let data: Option<String> = row.try_get("", "data")?;
        let previous: Option<String> = row.try_get("", "previous")?;
        stale.note(&entity, row.try_get("", "entity_id")?, [data.as_deref(), previous.as_deref()]);
    }
    refresh(conn, stale).await
}

/// Recomputes the fact rows of `stale`.
pub async fn refresh<C: ConnectionTrait>(conn: &C, mut stale: Stale) -> Result<(), DbErr> {
    if stale.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    // Organisations and students reach facts through other rows: find them as they are now and
    // as the facts remember them (a placement whose student moved away still names the old one).
    let organisations: Vec<i32> = stale.organisations.iter().copied().collect();
    for ids in organisations.chunks(CHUNK) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT project_id AS id FROM project_partners WHERE organisation_id IN ")
            .bind_ids(ids)
            .push(" UNION SELECT project_id FROM partnership_facts WHERE organisation_id IN ")
            .bind_ids(ids);
        stale.projects.extend(ids_of(conn, sql).await?);
        let mut sql = Sql::new(backend);
        sql.push("SELECT id FROM student_placements WHERE host_organisation_id IN ")
            .bind_ids(ids)
            .push(
                " UNION SELECT sp.id FROM student_placements sp JOIN students st ON st.id = sp.student_id \
                 WHERE st.enrolling_organisation_id IN ",
            )
            .bind_ids(ids)
            .push(" UNION SELECT placement_id FROM placement_facts WHERE host_organisation_id IN ")
            .bind_ids(ids)
            .push(" OR home_organisation_id IN ")
            .bind_ids(ids);
        stale.placements.extend(ids_of(conn, sql).await?);
        let mut sql = Sql::new(backend);
        sql.push("SELECT id FROM students WHERE enrolling_organisation_id IN ")
            .bind_ids(ids)
            .push(" UNION SELECT student_id FROM enrolment_facts WHERE organisation_id IN ")
            .bind_ids(ids);
        stale.students.extend(ids_of(conn, sql).await?);
    }
    let students: Vec<i32> = stale.students.iter().copied().collect();
    for ids in students.chunks(CHUNK) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT id FROM student_placements WHERE student_id IN ")
            .bind_ids(ids)
            .push(" UNION SELECT placement_id FROM placement_facts WHERE student_id IN ")
            .bind_ids(ids);
        stale.placements.extend(ids_of(conn, sql).await?);
    }
    let projects: Vec<i32> = stale.placement_projects.iter().copied().collect();
    for ids in projects.chunks(CHUNK) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT id FROM student_placements WHERE project_id IN ")
            .bind_ids(ids)
            .push(" UNION SELECT placement_id FROM placement_facts WHERE project_id IN ")
            .bind_ids(ids);
        stale.placements.extend(ids_of(conn, sql).await?);
    }
    // Each family's rollup loses what the old facts gave and gains what the new ones give.
    // The partnership cells of the projects' partner rows as they were and as they are.
    let projects: Vec<i32> = stale.projects.iter().copied().collect();
    let mut cells = BTreeSet::new();
    for ids in projects.chunks(CHUNK) {
        cells.extend(cells::touched_by(conn, ids).await?);
        replace(conn, Family::Projects, ids).await?;
        cells.extend(cells::touched_by(conn, ids).await?);
    }
    cells::recompute_cells(conn, &cells).await?;
    let placements: Vec<i32> = stale.placements.iter().copied().collect();
    let mut placement_cells = BTreeSet::new();
    for ids in placements.chunks(CHUNK) {
        placement_cells.extend(cells::placements_touched_by(conn, ids).await?);
        replace(conn, Family::Placements, ids).await?;
        placement_cells.extend(cells::placements_touched_by(conn, ids).await?);
    }
    cells::recompute_placement_cells(conn, &placement_cells).await?;
    for ids in students.chunks(CHUNK) {
        replace(conn, Family::Enrolments, ids).await?;
    }
    // A changed membership changes its region's epochs: that region's rollups are recomputed
    // from the facts (now current); other regions keep theirs.
    let regions: Vec<i32> = stale.regions.iter().copied().collect();
    for ids in regions.chunks(CHUNK) {
        rollups::rebuild_nodes(conn, rollups::REGION, Some(ids)).await?;
    }
    let municipalities: Vec<i32> = stale.municipalities.iter().copied().collect();
    for ids in municipalities.chunks(CHUNK) {
        rollups::rebuild_nodes(conn, rollups::MUNICIPALITY, Some(ids)).await?;
    }
    let partner_organisations: Vec<i32> = stale.partner_organisations.iter().copied().collect();
    for ids in partner_organisations.chunks(CHUNK) {
        refresh_organisations(conn, Some(ids)).await?;
    }
    Ok(())
}

/// Recomputes the facts `ids` of a family, and its rollup with them.
async fn replace<C: ConnectionTrait>(conn: &C, family: Family, ids: &[i32]) -> Result<(), DbErr> {
    rollups::apply(conn, family, Rows::Ids(ids), -1).await?;
    match family {
        Family::Projects => refresh_projects(conn, Some(ids)).await?,
        Family::Placements => refresh_placements(conn, Some(ids)).await?,
        Family::Enrolments => refresh_enrolments(conn, Some(ids)).await?,
    }
    rollups::apply(conn, family, Rows::Ids(ids), 1).await
}

/// Recomputes every fact row and rollup (after a bulk load, or when the tables are new).
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    analyze(conn).await?;
    refresh_projects(conn, None).await?;
    refresh_placements(conn, None).await?;
    refresh_enrolments(conn, None).await?;
    refresh_organisations(conn, None).await?;
    // The rollups and cells are grouped from the facts just written.
    analyze(conn).await?;
    rollups::rebuild(conn).await
}

/// After a full rebuild has committed: fresh statistics, and on PostgreSQL VACUUM sets the
/// visibility map, so the covering indexes serve index-only scans from the start (without it,
/// after a migration's rebuild the planner chose a sequential scan of the placement facts:
/// public placements on `large` 63 → 182 ms p50). VACUUM cannot run inside a transaction.
pub async fn vacuum_analyze<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let refresh = match conn.get_database_backend() {
        DatabaseBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    conn.execute_unprepared(refresh).await.map(|_| ())
}

/// Fresh planner statistics, inside the caller's transaction: a full rebuild runs right after a
/// bulk load or a migration, and without them both planners plan the rebuild for empty tables
/// (placement cells: PostgreSQL `large` 71 s, 1.8 s with statistics; SQLite `medium` 244 s,
/// 1.1 s with them, for 0.8 s of ANALYZE).
async fn analyze<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    conn.execute_unprepared("ANALYZE").await.map(|_| ())
}

async fn ids_of<C: ConnectionTrait>(conn: &C, sql: Sql) -> Result<Vec<i32>, DbErr> {
    conn.query_all_raw(sql.statement()).await?.iter().map(|row| row.try_get::<i32>("", "id")).collect()
}

async fn run<C: ConnectionTrait>(conn: &C, sql: Sql) -> Result<(), DbErr> {
    conn.execute_raw(sql.statement()).await.map(|_| ())
}

/// `DELETE`s the rows of `ids` (by `column`) from the fact table `table`. All of them, when `None`,
/// go by `TRUNCATE` on PostgreSQL: a full rebuild deletes and re-inserts every row in one
/// transaction, which cannot reuse the dead rows' space, so the table would double for good
/// (measured on `large`: `placement_facts` 111 → 222 MB, every scan reading both halves).
/// TRUNCATE is transactional there; it holds readers off until the rebuild commits, which runs
/// at migration and bulk-load time. (SQLite's unconditional DELETE already truncates.)
pub(crate) fn clear(backend: DatabaseBackend, table: &str, column: &str, ids: Option<&[i32]>) -> Sql {
    let mut sql = Sql::new(backend);
    if ids.is_none() && backend == DatabaseBackend::Postgres {
        sql.push(&format!("TRUNCATE {table}"));
    } else {
        sql.push(&format!("DELETE FROM {table}"));
        only(&mut sql, "WHERE", column, ids);
    }
    sql
}

/// ` WHERE <column> IN (ids)`, or nothing for all rows.
fn only(sql: &mut Sql, keyword: &str, column: &str, ids: Option<&[i32]>) {
    if let Some(ids) = ids {
        sql.push(&format!(" {keyword} {column} IN ")).bind_ids(ids);
    }
}

/// `project_facts` and `partnership_facts` of the projects `ids` (all when `None`).
async fn refresh_projects<C: ConnectionTrait>(conn: &C, ids: Option<&[i32]>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    for table in ["partnership_facts", "project_facts"] {
        run(conn, clear(backend, table, "project_id", ids)).await?;
    }

    let mut sql = Sql::new(backend);
    let year = sql.year_of("p.valid_from");
    let targeted = "g.target_value IS NOT NULL AND g.target_value > 0";
    sql.push(&format!(
        "INSERT INTO project_facts (project_id, programme_id, valid_from, valid_to, start_year, budget_eur, \
         acting_partners, cross_border, goals_with_target, goals_without_target, goals_measured, attainment_sum, \
         attainment_count) \
         SELECT p.id, p.programme_id, p.valid_from, p.valid_to, {year}, p.budget_eur, COALESCE(a.partners, 0), \
         CASE WHEN a.countries > 1 THEN 1 ELSE 0 END, COALESCE(gs.with_target, 0), COALESCE(gs.without_target, 0), \
         COALESCE(gs.measured, 0), COALESCE(gs.attainment_sum, 0), COALESCE(gs.attainment_count, 0) FROM projects p \
         LEFT JOIN (SELECT pp.project_id, COUNT(*) AS partners, COUNT(DISTINCT o.country_id) AS countries \
         FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id WHERE pp.role <> 'funder'"
    ));
    only(&mut sql, "AND", "pp.project_id", ids);
    // Each goal's latest measured value: by the end of the period it covers (undated last:
    // PostgreSQL and SQLite would otherwise sort NULLs to opposite ends), then by id.
    sql.push(
        " GROUP BY pp.project_id) a ON a.project_id = p.id \
         LEFT JOIN (SELECT g.project_id, ",
    );
    sql.push(&format!(
        "SUM(CASE WHEN {targeted} THEN 1 ELSE 0 END) AS with_target, \
         SUM(CASE WHEN {targeted} THEN 0 ELSE 1 END) AS without_target, \
         SUM(CASE WHEN {targeted} AND l.value IS NOT NULL THEN 1 ELSE 0 END) AS measured, \
         SUM({ATTAINMENT}) AS attainment_sum, COUNT({ATTAINMENT}) AS attainment_count FROM goals g \
         LEFT JOIN (SELECT goal_id, value FROM (SELECT iv.goal_id, iv.value, ROW_NUMBER() OVER (\
         PARTITION BY iv.goal_id ORDER BY COALESCE(iv.period_to, iv.period_from) DESC NULLS LAST, iv.id DESC) AS position \
         FROM indicator_values iv WHERE iv.value IS NOT NULL AND iv.goal_id IS NOT NULL"
    ));
    if let Some(ids) = ids {
        sql.push(" AND iv.goal_id IN (SELECT id FROM goals WHERE project_id IN ").bind_ids(ids).push(")");
    }
    sql.push(") ranked WHERE position = 1) l ON l.goal_id = g.id");
    only(&mut sql, "WHERE", "g.project_id", ids);
    sql.push(" GROUP BY g.project_id) gs ON gs.project_id = p.id");
    only(&mut sql, "WHERE", "p.id", ids);
    run(conn, sql).await?;

    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO partnership_facts (partner_id, project_id, organisation_id, municipality_id, country_id, \
         organisation_kind, programme_id, valid_from, valid_to, start_year, cross_border) \
         SELECT pp.id, pp.project_id, pp.organisation_id, o.municipality_id, o.country_id, o.kind, f.programme_id, \
         f.valid_from, f.valid_to, f.start_year, f.cross_border FROM project_partners pp \
         JOIN organisations o ON o.id = pp.organisation_id JOIN project_facts f ON f.project_id = pp.project_id \
         WHERE pp.role <> 'funder'",
    );
    only(&mut sql, "AND", "pp.project_id", ids);
    run(conn, sql).await
}

/// The bit each partner role sets in `organisation_facts.partner_roles`, in the order of
/// [`PartnerRole`], and the bit of a stored role none of them names (there should be none; a
/// filter then still counts it as the role it is not).
pub fn partner_role_bits() -> ValueBits {
    use sea_orm::{ActiveEnum, Iterable};
    let roles: Vec<(String, i32)> =
        PartnerRole::iter().enumerate().map(|(bit, role)| (role.to_value(), 1 << bit)).collect();
    let other = 1 << roles.len();
    (roles, other)
}

/// `organisation_facts` of the organisations `ids` (all when `None`): only organisations with
/// partnerships have a row. The roles are summed once each, which is their bitwise or (SQLite
/// has no `bit_or`).
async fn refresh_organisations<C: ConnectionTrait>(conn: &C, ids: Option<&[i32]>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    run(conn, clear(backend, "organisation_facts", "organisation_id", ids)).await?;
    let (roles, other) = partner_role_bits();
    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO organisation_facts (organisation_id, partnerships, projects, partner_roles) \
         SELECT organisation_id, COUNT(*), COUNT(DISTINCT project_id), SUM(DISTINCT CASE role",
    );
    for (role, bit) in &roles {
        sql.push(" WHEN ").bind(role.clone()).push(&format!(" THEN {bit}"));
    }
    sql.push(&format!(" ELSE {other} END) FROM project_partners"));
    only(&mut sql, "WHERE", "organisation_id", ids);
    sql.push(" GROUP BY organisation_id");
    run(conn, sql).await
}

/// `placement_facts` of the placements `ids` (all when `None`).
async fn refresh_placements<C: ConnectionTrait>(conn: &C, ids: Option<&[i32]>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    run(conn, clear(backend, "placement_facts", "placement_id", ids)).await?;

    let mut sql = Sql::new(backend);
    let year = sql.year_of("sp.valid_from");
    sql.push(&format!(
        "INSERT INTO placement_facts (placement_id, student_id, host_organisation_id, home_organisation_id, \
         host_municipality_id, home_municipality_id, host_country_id, home_country_id, host_kind, home_kind, \
         project_id, programme_id, valid_from, valid_to, start_year, cross_border) \
         SELECT sp.id, sp.student_id, sp.host_organisation_id, st.enrolling_organisation_id, host.municipality_id, \
         home.municipality_id, host.country_id, home.country_id, host.kind, home.kind, sp.project_id, pj.programme_id, \
         sp.valid_from, sp.valid_to, {year}, CASE WHEN host.country_id <> home.country_id THEN 1 ELSE 0 END \
         FROM student_placements sp JOIN students st ON st.id = sp.student_id \
         JOIN organisations host ON host.id = sp.host_organisation_id \
         JOIN organisations home ON home.id = st.enrolling_organisation_id LEFT JOIN projects pj ON pj.id = sp.project_id"
    ));
    only(&mut sql, "WHERE", "sp.id", ids);
    run(conn, sql).await
}

/// `enrolment_facts` of the students `ids` (all when `None`).
async fn refresh_enrolments<C: ConnectionTrait>(conn: &C, ids: Option<&[i32]>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    run(conn, clear(backend, "enrolment_facts", "student_id", ids)).await?;

    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO enrolment_facts (student_id, organisation_id, municipality_id, country_id, valid_from, valid_to) \
         SELECT st.id, st.enrolling_organisation_id, o.municipality_id, o.country_id, st.enrolled_from, st.enrolled_to \
         FROM students st JOIN organisations o ON o.id = st.enrolling_organisation_id",
    );
    only(&mut sql, "WHERE", "st.id", ids);
    run(conn, sql).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_traced_to_the_facts_they_feed() {
        let mut stale = Stale::default();
        stale.note("project_partners", 7, [Some(r#"{"id":7,"project_id":3}"#), Some(r#"{"id":7,"project_id":4}"#)]);
        stale.note("goals", 9, [None, Some(r#"{"id":9,"project_id":5}"#)]);
        stale.note("student_placements", 11, [None, None]);
        stale.note("regions", 1, [None, None]);
        assert_eq!(stale.projects.iter().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(stale.placements.iter().copied().collect::<Vec<_>>(), vec![11]);
        assert!(stale.regions.is_empty());
        let mut unrelated = Stale::default();
        unrelated.note("regions", 1, [None, None]);
        assert!(unrelated.is_empty());
        let mut map = Stale::default();
        map.note("region_memberships", 2, [Some(r#"{"id":2,"region_id":8}"#), None]);
        assert_eq!(map.regions.iter().copied().collect::<Vec<_>>(), vec![8]);
        assert!(!map.is_empty());
    }
}
