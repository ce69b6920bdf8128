//! Partnership cells (table and why: migration 12): per region of today's map — each region's
//! open epoch in `metric_nodes` — and project start year, the acting partner rows seated in it,
//! their distinct projects and distinct organisations. Distinct counts do not add up across
//! regions or years, so a cell is never adjusted: the cells a write touches are recomputed from
//! the facts, in the write's transaction. Which those are: the cells of the changed projects'
//! partner rows before and after the change ([`touched_by`], called by `facts::refresh`
//! around its recomputation) and every cell of a region whose memberships changed (called by
//! `rollups::rebuild_nodes` once the region's epochs are new).
//!
//! `queries::aggregate` answers "partnerships by region × year" from them when the map the
//! question asks for is today's.

use std::collections::BTreeSet;

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
