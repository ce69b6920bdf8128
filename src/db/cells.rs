//! Partnership cells (table and why: migration 12): per region of today's map — each region's
//! open epoch in `metric_nodes` — and project start year, the acting partner rows seated in it,
//! their distinct projects and distinct organisations. Distinct counts do not add up across
//! regions or years, so a cell is never adjusted: the cells a write touches are recomputed from
//! the facts, in the write's transaction. Which those are: the cells of the changed projects'
//! partner rows before and after the change ([`touched_by`], called by `facts::refresh`
//! around its recomputation) and every cell of a region whose memberships changed (called by
//! `rollups::rebuild_nodes` once the region's epochs are new).
//!
//! Placement cells (migration 13) are kept the same way: per fylke or län of the student's home
//! and of the host on today's map, and start year, for placements with a region on both sides.
//!
//! `queries::aggregate` answers "partnerships by region × year" and "placements by home × host
//! region × year" from them when the map the question asks for is today's.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr};

use super::queries::sql::Sql;

/// A cell's region and start year (0 for a project without a start date).
pub type Cell = (i32, i32);

/// ` AND` the start year of `f` is one of `years` (0: none), written so that the index on
/// `partnership_facts (municipality_id, start_year, …)` serves it.
fn and_years(sql: &mut Sql, years: &[i32]) {
    let dated: Vec<i32> = years.iter().copied().filter(|year| *year != 0).collect();
    sql.push(" AND (f.start_year IN ").bind_ids(&dated);
    if years.contains(&0) {
        sql.push(" OR f.start_year IS NULL");
    }
    sql.push(")");
}

/// `metric_nodes n` joined to the partner rows `f` seated in a member of a region's open epoch.
const OPEN_REGION_ROWS: &str = "FROM metric_nodes n JOIN partnership_facts f ON f.municipality_id = n.municipality_id \
     WHERE n.node_kind = 'region' AND n.epoch_to IS NULL";

/// The cells the partner rows of `projects` are in, as the facts are now.
pub async fn touched_by<C: ConnectionTrait>(conn: &C, projects: &[i32]) -> Result<BTreeSet<Cell>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT DISTINCT n.node_id AS region_id, COALESCE(f.start_year, 0) AS start_year {OPEN_REGION_ROWS} \
         AND f.project_id IN "
    ))
    .bind_ids(projects);
    let rows = conn.query_all_raw(sql.statement()).await?;
    rows.iter().map(|row| Ok((row.try_get("", "region_id")?, row.try_get("", "start_year")?))).collect()
}

/// On PostgreSQL, plans the rest of the write's transaction for its own values. The cells'
/// statements differ only in their id lists, so one text comes back with every similar write,
/// and from its sixth run PostgreSQL may switch to a generic plan that guesses one row per
/// list and loops over the facts once per row found (large: a 1.3 s organisation move took
/// 35 s on its sixth repetition). Outside a transaction (full rebuilds) this does nothing.
async fn plan_for_these_values<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    if conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        conn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    }
    Ok(())
}

/// Recomputes `cells` from the facts. Their regions' and years' cross product is recomputed, a
/// superset that is as true and takes one statement.
pub async fn recompute_cells<C: ConnectionTrait>(conn: &C, cells: &BTreeSet<Cell>) -> Result<(), DbErr> {
    if cells.is_empty() {
        return Ok(());
    }
    let regions: Vec<i32> = cells.iter().map(|(region, _)| *region).collect::<BTreeSet<_>>().into_iter().collect();
    let years: Vec<i32> = cells.iter().map(|(_, year)| *year).collect::<BTreeSet<_>>().into_iter().collect();
    recompute(conn, Some(&regions), Some(&years)).await
}

/// Recomputes the cells of `regions` (all when `None`), of the start years `years` (all when
/// `None`), from the facts and the regions' open epochs as they are.
pub async fn recompute<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[i32]>,
    years: Option<&[i32]>,
) -> Result<(), DbErr> {
    plan_for_these_values(conn).await?;
    let backend = conn.get_database_backend();
    let clear = if years.is_none() {
        super::facts::clear(backend, "partnership_cells", "region_id", regions)
    } else {
        let mut sql = Sql::new(backend);
        sql.push("DELETE FROM partnership_cells WHERE 1 = 1");
        if let Some(regions) = regions {
            sql.push(" AND region_id IN ").bind_ids(regions);
        }
        if let Some(years) = years {
            sql.push(" AND start_year IN ").bind_ids(years);
        }
        sql
    };
    conn.execute_raw(clear.statement()).await?;
    let mut sql = Sql::new(backend);
    sql.push(&format!(
        "INSERT INTO partnership_cells (region_id, start_year, partnerships, projects, organisations) \
         SELECT n.node_id, COALESCE(f.start_year, 0), COUNT(*), COUNT(DISTINCT f.project_id), \
         COUNT(DISTINCT f.organisation_id) {OPEN_REGION_ROWS}"
    ));
    if let Some(regions) = regions {
        sql.push(" AND n.node_id IN ").bind_ids(regions);
    }
    if let Some(years) = years {
        and_years(&mut sql, years);
    }
    sql.push(" GROUP BY n.node_id, COALESCE(f.start_year, 0)");
    conn.execute_raw(sql.statement()).await.map(|_| ())
}

/// The region kinds placement cells are kept for: the default geography, which partitions the
/// Nordic map (a region pair per placement; every pair of every kind would multiply the rows).
pub const PLACEMENT_CELL_KINDS: [&str; 2] = ["fylke", "lan"];

/// A placement cell's home region, host region and start year.
pub type PlacementCell = (i32, i32, i32);

/// `(SELECT node_id, municipality_id …)`: the members of each fylke and län of today's map.
pub fn todays_regions() -> String {
    let kinds = PLACEMENT_CELL_KINDS.map(|kind| format!("'{kind}'")).join(", ");
    format!(
        "(SELECT n.node_id, n.municipality_id FROM metric_nodes n JOIN regions r ON r.id = n.node_id \
         WHERE n.node_kind = 'region' AND n.epoch_to IS NULL AND r.kind IN ({kinds}))"
    )
}

/// A condition on the placement facts `f`, pushed after ` WHERE `.
pub type Condition<'a> = Box<dyn FnOnce(&mut Sql) + 'a>;

/// `SELECT home, host, start_year, placements, students, cross_border FROM …`: the placement
/// facts that any of `branches` selects (each a `UNION ALL` branch of its own, so that each
/// can take an index), grouped by the fylke or län of today's map of their student's home and
/// of their host and by start year. `inner`: only placements with a region on both sides (the
/// cells); else those sides are NULL (`LEFT JOIN`). The columns read are all in the index by
/// start year and end (migration 13), so rows found through it are read from it alone.
pub fn push_placement_groups(sql: &mut Sql, inner: bool, branches: Vec<Condition<'_>>) {
    let (join, regions) = (if inner { "JOIN" } else { "LEFT JOIN" }, todays_regions());
    sql.push(&format!(
        "SELECT hm.node_id AS home, hs.node_id AS host, f.start_year, COUNT(*) AS placements, \
         COUNT(DISTINCT f.student_id) AS students, {cross} AS cross_border FROM (",
        cross = super::queries::sql::sum_int("f.cross_border"),
    ));
    for (index, condition) in branches.into_iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(
            "SELECT f.start_year, f.valid_to, f.valid_from, f.home_municipality_id, f.host_municipality_id, \
             f.student_id, f.cross_border FROM placement_facts f WHERE ",
        );
        condition(sql);
    }
    sql.push(&format!(
        ") f {join} {regions} hm ON hm.municipality_id = f.home_municipality_id \
         {join} {regions} hs ON hs.municipality_id = f.host_municipality_id GROUP BY hm.node_id, hs.node_id, f.start_year"
    ));
}

/// The placement cells the placements `ids` are in, as the facts are now.
pub async fn placements_touched_by<C: ConnectionTrait>(
    conn: &C,
    ids: &[i32],
) -> Result<BTreeSet<PlacementCell>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    push_placement_groups(
        &mut sql,
        true,
        vec![Box::new(|sql: &mut Sql| {
            sql.push("f.placement_id IN ").bind_ids(ids);
        })],
    );
    let rows = conn.query_all_raw(sql.statement()).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "home")?, row.try_get("", "host")?, row.try_get("", "start_year")?)))
        .collect()
}

/// Recomputes `cells` (the cross product of their homes, hosts and years, as for partnerships).
pub async fn recompute_placement_cells<C: ConnectionTrait>(
    conn: &C,
    cells: &BTreeSet<PlacementCell>,
) -> Result<(), DbErr> {
    if cells.is_empty() {
        return Ok(());
    }
    let distinct =
        |pick: fn(&PlacementCell) -> i32| cells.iter().map(pick).collect::<BTreeSet<_>>().into_iter().collect();
    let (homes, hosts, years): (Vec<i32>, Vec<i32>, Vec<i32>) =
        (distinct(|c| c.0), distinct(|c| c.1), distinct(|c| c.2));
    recompute_placements(conn, Some(&homes), Some(&hosts), Some(&years)).await
}

/// Recomputes the placement cells of `homes` × `hosts` × `years` (each: all when `None`).
pub async fn recompute_placements<C: ConnectionTrait>(
    conn: &C,
    homes: Option<&[i32]>,
    hosts: Option<&[i32]>,
    years: Option<&[i32]>,
) -> Result<(), DbErr> {
    plan_for_these_values(conn).await?;
    let backend = conn.get_database_backend();
    let clear = if homes.is_none() && hosts.is_none() && years.is_none() {
        super::facts::clear(backend, "placement_cells", "home_region_id", None)
    } else {
        let mut sql = Sql::new(backend);
        sql.push("DELETE FROM placement_cells WHERE 1 = 1");
        for (column, ids) in [("home_region_id", homes), ("host_region_id", hosts), ("start_year", years)] {
            if let Some(ids) = ids {
                sql.push(&format!(" AND {column} IN ")).bind_ids(ids);
            }
        }
        sql
    };
    conn.execute_raw(clear.statement()).await?;
    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO placement_cells (home_region_id, host_region_id, start_year, placements, students, cross_border) \
         SELECT home, host, start_year, placements, students, cross_border FROM (",
    );
    let members = |sql: &mut Sql, column: &str, regions: &[i32]| {
        sql.push(&format!(
            " AND {column} IN (SELECT t.municipality_id FROM {} t WHERE t.node_id IN ",
            todays_regions()
        ))
        .bind_ids(regions)
        .push(")");
    };
    let condition = move |sql: &mut Sql| {
        sql.push("1 = 1");
        // Through the seat indexes (seat, start): the rows of the homes' (or else the hosts')
        // members, of the years' span.
        if let Some(homes) = homes {
            members(sql, "f.home_municipality_id", homes);
        }
        if let Some(hosts) = hosts {
            members(sql, "f.host_municipality_id", hosts);
        }
        if let Some(years) = years {
            sql.push(" AND f.start_year IN ").bind_ids(years);
            if let (Some(first), Some(last)) = (years.iter().min(), years.iter().max())
                && let (Some(from), Some(to)) =
                    (NaiveDate::from_ymd_opt(*first, 1, 1), NaiveDate::from_ymd_opt(*last, 12, 31))
            {
                sql.push(" AND f.valid_from >= ").bind(from).push(" AND f.valid_from <= ").bind(to);
            }
        }
    };
    push_placement_groups(&mut sql, true, vec![Box::new(condition)]);
    sql.push(") grouped");
    conn.execute_raw(sql.statement()).await.map(|_| ())
}
