//! Node metrics in SQL: one statement per metric group for a whole batch of nodes of one kind and
//! one period, whatever the batch size. Statements read the derived facts (`db::facts`):
//! a node is mapped to its keys (`node_keys`: a region to its municipalities on the day), and
//! the facts are matched on those keys, never joined through organisations row by row.
//! Definitions are in [`crate::domain::metrics`].

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr};

use super::sql::{Sql, sum_int};
use crate::db::rollups::{self, Family, Nodes, Rows};
use crate::domain::metrics::{GoalStats, NodeKind, Period, PlacementStats, ProjectStats};

/// A batch: nodes of one kind and one period, each with its geography day (which decides a
/// region's municipalities; other kinds ignore it). Results are keyed by position in `nodes`, so
/// one statement serves regions asked on different days (each defaults to its own last day).
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    pub kind: NodeKind,
    pub nodes: &'a [(i32, NaiveDate)],
    pub period: Period,
}

/// The facts' columns a node kind is matched on: an organisation's own column and, for a
/// placement, the host's and the enrolling organisation's.
struct KeyColumns {
    organisation: &'static str,
    partnership: &'static str,
    host: &'static str,
    home: &'static str,
}

fn key_columns(kind: NodeKind) -> KeyColumns {
    match kind {
        NodeKind::Region | NodeKind::Municipality => KeyColumns {
            organisation: "municipality_id",
            partnership: "municipality_id",
            host: "host_municipality_id",
            home: "home_municipality_id",
        },
        NodeKind::Organisation | NodeKind::Programme => KeyColumns {
            organisation: "id",
            partnership: "organisation_id",
            host: "host_organisation_id",
            home: "home_organisation_id",
        },
        NodeKind::Country => KeyColumns {
            organisation: "country_id",
            partnership: "country_id",
            host: "host_country_id",
            home: "home_country_id",
        },
    }
}

/// The rollups' name for a node kind that has them (regions and municipalities).
fn rolled_up_kind(kind: NodeKind) -> Option<&'static str> {
    match kind {
        NodeKind::Region => Some(rollups::REGION),
        NodeKind::Municipality => Some(rollups::MUNICIPALITY),
        _ => None,
    }
}

/// A family's measures summed over the period for each node of the batch (`node_id` is the
/// position): the rollup rows of the period's whole months, the facts of its partial months
/// (`db::rollups::split`), for the node's epoch on its day.
fn rolled_up(sql: &mut Sql, family: Family, batch: &Batch<'_>, kind: &'static str) {
    let split = rollups::split(batch.period.from, batch.period.to);
    let measures = family.measures();
    let columns = |alias: &str| measures.iter().map(|(name, _)| format!(", {alias}.{name}")).collect::<String>();
    node_list(sql, batch);
    sql.push(
        ", nodes AS (SELECT l.node_id AS position, e.node_id, e.epoch_from FROM node_list l \
         JOIN (SELECT DISTINCT node_id, epoch_from, epoch_to FROM metric_nodes WHERE node_kind = ",
    )
    .bind(kind.to_owned())
    .push(
        ") e ON e.node_id = l.key AND e.epoch_from <= l.day AND (e.epoch_to IS NULL OR e.epoch_to >= l.day)), \
         edges AS (SELECT nodes.position, m.edge",
    )
    .push(&columns("m"))
    .push(&format!(" FROM nodes JOIN {} m ON m.node_kind = ", family.table()))
    .bind(kind.to_owned())
    .push(" AND m.node_id = nodes.node_id AND m.epoch_from = nodes.epoch_from WHERE (m.edge = 0");
    if let Some(before) = split.starts_before {
        sql.push(" AND m.month < ").bind(before);
    }
    sql.push(")");
    if let Some(before) = split.ends_before {
        sql.push(" OR (m.edge = 1 AND m.month < ").bind(before).push(")");
    }
    let keys: Vec<i32> = batch.nodes.iter().map(|(id, _)| *id).collect();
    let partials = [
        (split.starts_partial.map(|(a, b)| Rows::StartingIn(a, b)), 0),
        (split.ends_partial.map(|(a, b)| Rows::EndingIn(a, b)), 1),
    ];
    for (rows, edge) in partials {
        let Some(rows) = rows else { continue };
        sql.push(" UNION ALL SELECT nodes.position, c.edge").push(&columns("c")).push(" FROM (");
        rollups::contributions(sql, family, rows, Nodes::Of(kind, &keys));
        sql.push(&format!(
            ") c JOIN nodes ON nodes.node_id = c.node_id AND nodes.epoch_from = c.epoch_from WHERE c.edge = {edge}"
        ));
    }
    let sums = measures
        .iter()
        .map(|(name, float)| {
            let signed = format!("CASE WHEN edge = 0 THEN {name} ELSE -{name} END");
            let sum = if *float { format!("SUM({signed})") } else { sum_int(&signed) };
            format!(", {sum} AS {name}")
        })
        .collect::<String>();
    sql.push(&format!(") SELECT position AS node_id{sums} FROM edges GROUP BY position"));
}

/// `WITH node_list(node_id, key, day) AS (VALUES …)`: the batch's nodes by position.
fn node_list(sql: &mut Sql, batch: &Batch<'_>) {
    sql.push("WITH node_list AS (SELECT column1 AS node_id, column2 AS key, column3 AS day FROM (VALUES ");
    for (index, (id, day)) in batch.nodes.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.push("(").bind(index as i32).push(", ").bind(*id).push(", ").bind(*day).push(")");
    }
    sql.push(") v)");
}

/// `WITH node_list …, node_keys(node_id, key) AS (…)`: what each node of the batch is made of, in
/// the terms of [`key_columns`]. A region is its member municipalities on its day (each once);
/// other nodes are themselves. Not for programmes.
fn node_keys(sql: &mut Sql, batch: &Batch<'_>) {
    node_list(sql, batch);
    if batch.kind == NodeKind::Region {
        sql.push(
            ", node_keys AS (SELECT DISTINCT n.node_id, rm.municipality_id AS key FROM node_list n \
             JOIN region_memberships rm ON rm.region_id = n.key AND (rm.valid_from IS NULL OR rm.valid_from <= n.day) \
             AND (rm.valid_to IS NULL OR rm.valid_to >= n.day))",
        );
    } else {
        sql.push(", node_keys AS (SELECT node_id, key FROM node_list)");
    }
}

/// `WITH … node_projects(node_id, project_id, partner_rows) AS (…)`: the node's projects active in
/// the period, with its acting partner rows in each (a programme: its own projects, all their
/// acting partners).
fn node_projects(sql: &mut Sql, batch: &Batch<'_>) {
    let Period { from, to } = batch.period;
    if batch.kind == NodeKind::Programme {
        node_list(sql, batch);
        sql.push(
            ", node_projects AS (SELECT n.node_id, f.project_id, f.acting_partners AS partner_rows \
             FROM node_list n JOIN project_facts f ON f.programme_id = n.key WHERE 1 = 1",
        );
    } else {
        node_keys(sql, batch);
        sql.push(&format!(
            ", node_projects AS (SELECT k.node_id, f.project_id, COUNT(*) AS partner_rows FROM node_keys k \
             JOIN partnership_facts f ON f.{} = k.key WHERE 1 = 1",
            key_columns(batch.kind).partnership
        ));
    }
    sql.and_overlaps("f.valid_from", "f.valid_to", from, to);
    if batch.kind != NodeKind::Programme {
        sql.push(" GROUP BY k.node_id, f.project_id");
    }
    sql.push(")");
}

/// Organisations per node and kind.
pub async fn organisations_by_kind<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, Vec<(String, i64)>>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    if batch.kind == NodeKind::Programme {
        let Period { from, to } = batch.period;
        node_list(&mut sql, batch);
        sql.push(
            ", node_organisations AS (SELECT DISTINCT n.node_id, f.organisation_id, f.organisation_kind AS kind \
             FROM node_list n JOIN partnership_facts f ON f.programme_id = n.key WHERE 1 = 1",
        )
        .and_overlaps("f.valid_from", "f.valid_to", from, to)
        .push(
            ") SELECT node_id, kind, COUNT(*) AS n FROM node_organisations GROUP BY node_id, kind ORDER BY node_id, kind",
        );
    } else {
        node_keys(&mut sql, batch);
        sql.push(&format!(
            " SELECT k.node_id, o.kind, COUNT(*) AS n FROM node_keys k JOIN organisations o ON o.{} = k.key \
             GROUP BY k.node_id, o.kind ORDER BY k.node_id, o.kind",
            key_columns(batch.kind).organisation
        ));
    }
    let mut result: HashMap<i32, Vec<(String, i64)>> = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        let node: i32 = row.try_get("", "node_id")?;
        result.entry(node).or_default().push((row.try_get("", "kind")?, row.try_get("", "n")?));
    }
    Ok(result)
}

/// Active projects, partnerships, cross-border projects, budgets and goals per node: one
/// statement for regions and municipalities (their rollup), two for other kinds.
pub async fn project_stats<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, ProjectStats>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    if let Some(kind) = rolled_up_kind(batch.kind) {
        rolled_up(&mut sql, Family::Projects, batch, kind);
        let mut result = HashMap::new();
        for row in conn.query_all_raw(sql.statement()).await? {
            let projects: i64 = row.try_get::<Option<i64>>("", "projects")?.unwrap_or(0);
            if projects == 0 {
                continue;
            }
            result.insert(
                row.try_get::<i32>("", "node_id")?,
                ProjectStats {
                    active_projects: projects,
                    partnerships: row.try_get::<Option<i64>>("", "partner_rows")?.unwrap_or(0),
                    cross_border_projects: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
                    budget_total_eur: row.try_get::<Option<f64>>("", "budget_eur")?.unwrap_or(0.0),
                    projects_with_budget: row.try_get::<Option<i64>>("", "budgets")?.unwrap_or(0),
                    goals: rolled_up_goals(&row)?,
                },
            );
        }
        return Ok(result);
    }
    node_projects(&mut sql, batch);
    sql.push(&format!(
        " SELECT np.node_id, COUNT(*) AS projects, {partnerships} AS partnerships, {cross} AS cross_border, \
         SUM(p.budget_eur) AS budget_eur, COUNT(p.budget_eur) AS with_budget \
         FROM node_projects np JOIN project_facts p ON p.project_id = np.project_id GROUP BY np.node_id",
        partnerships = sum_int("np.partner_rows"),
        cross = sum_int("p.cross_border"),
    ));
    let mut result = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        result.insert(
            row.try_get::<i32>("", "node_id")?,
            ProjectStats {
                active_projects: row.try_get("", "projects")?,
                partnerships: row.try_get::<Option<i64>>("", "partnerships")?.unwrap_or(0),
                cross_border_projects: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
                budget_total_eur: row.try_get::<Option<f64>>("", "budget_eur")?.unwrap_or(0.0),
                projects_with_budget: row.try_get("", "with_budget")?,
                goals: GoalStats::default(),
            },
        );
    }
    for (node, goals) in goal_stats(conn, batch).await? {
        result.entry(node).or_default().goals = goals;
    }
    Ok(result)
}

/// A node's goal statistics from its rolled-up project row.
fn rolled_up_goals(row: &sea_orm::QueryResult) -> Result<GoalStats, DbErr> {
    let count = row.try_get::<Option<i64>>("", "attainment_count")?.unwrap_or(0);
    let sum = row.try_get::<Option<f64>>("", "attainment_sum")?.unwrap_or(0.0);
    Ok(GoalStats {
        goals_with_target: row.try_get::<Option<i64>>("", "goals_with_target")?.unwrap_or(0),
        goals_without_target: row.try_get::<Option<i64>>("", "goals_without_target")?.unwrap_or(0),
        goals_measured: row.try_get::<Option<i64>>("", "goals_measured")?.unwrap_or(0),
        average_attainment: (count > 0).then(|| sum / count as f64),
    })
}

/// Goal attainment of each node's active projects (each project's goals counted once per node),
/// for the node kinds without rollups.
async fn goal_stats<C: ConnectionTrait>(conn: &C, batch: &Batch<'_>) -> Result<HashMap<i32, GoalStats>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    node_projects(&mut sql, batch);
    sql.push(&format!(
        " SELECT np.node_id, {with_target} AS with_target, {without_target} AS without_target, \
         {measured} AS measured, CASE WHEN SUM(p.attainment_count) > 0 THEN SUM(p.attainment_sum) / SUM(p.attainment_count) END AS attainment \
         FROM node_projects np JOIN project_facts p ON p.project_id = np.project_id GROUP BY np.node_id",
        with_target = sum_int("p.goals_with_target"),
        without_target = sum_int("p.goals_without_target"),
        measured = sum_int("p.goals_measured"),
    ));
    let mut result = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        result.insert(
            row.try_get::<i32>("", "node_id")?,
            GoalStats {
                goals_with_target: row.try_get::<Option<i64>>("", "with_target")?.unwrap_or(0),
                goals_without_target: row.try_get::<Option<i64>>("", "without_target")?.unwrap_or(0),
                goals_measured: row.try_get::<Option<i64>>("", "measured")?.unwrap_or(0),
                average_attainment: row.try_get("", "attainment")?,
            },
        );
    }
    Ok(result)
}

/// Students enrolled in the period at the node's organisations (a programme: students placed
/// within its projects).
pub async fn students_enrolled<C: ConnectionTrait>(conn: &C, batch: &Batch<'_>) -> Result<HashMap<i32, i64>, DbErr> {
    let Period { from, to } = batch.period;
    let mut sql = Sql::new(conn.get_database_backend());
    if let Some(kind) = rolled_up_kind(batch.kind) {
        rolled_up(&mut sql, Family::Enrolments, batch, kind);
        let mut result = HashMap::new();
        for row in conn.query_all_raw(sql.statement()).await? {
            let enrolments = row.try_get::<Option<i64>>("", "enrolments")?.unwrap_or(0);
            if enrolments != 0 {
                result.insert(row.try_get::<i32>("", "node_id")?, enrolments);
            }
        }
        return Ok(result);
    }
    if batch.kind == NodeKind::Programme {
        node_list(&mut sql, batch);
        sql.push(
            " SELECT n.node_id, COUNT(DISTINCT f.student_id) AS n FROM node_list n \
             JOIN placement_facts f ON f.programme_id = n.key WHERE 1 = 1",
        )
        .and_overlaps("f.valid_from", "f.valid_to", from, to)
        .push(" GROUP BY n.node_id");
    } else {
        node_keys(&mut sql, batch);
        sql.push(&format!(
            " SELECT k.node_id, COUNT(*) AS n FROM node_keys k JOIN organisations o ON o.{} = k.key \
             JOIN students st ON st.enrolling_organisation_id = o.id WHERE 1 = 1",
            key_columns(batch.kind).organisation
        ))
        .and_overlaps("st.enrolled_from", "st.enrolled_to", from, to)
        .push(" GROUP BY k.node_id");
    }
    let mut result = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        result.insert(row.try_get::<i32>("", "node_id")?, row.try_get::<i64>("", "n")?);
    }
    Ok(result)
}

/// Placements in, out and across the border per node. Placements are first counted per (host
/// key, home key, cross-border) pair, so the node mapping joins a few thousand pairs, not the
/// placements themselves.
pub async fn placement_stats<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, PlacementStats>, DbErr> {
    let Period { from, to } = batch.period;
    let mut sql = Sql::new(conn.get_database_backend());
    if let Some(kind) = rolled_up_kind(batch.kind) {
        rolled_up(&mut sql, Family::Placements, batch, kind);
        let mut result = HashMap::new();
        for row in conn.query_all_raw(sql.statement()).await? {
            let stats = PlacementStats {
                incoming: row.try_get::<Option<i64>>("", "placements_in")?.unwrap_or(0),
                outgoing: row.try_get::<Option<i64>>("", "placements_out")?.unwrap_or(0),
                cross_border: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
            };
            if stats != PlacementStats::default() {
                result.insert(row.try_get::<i32>("", "node_id")?, stats);
            }
        }
        return Ok(result);
    }
    if batch.kind == NodeKind::Programme {
        node_list(&mut sql, batch);
        sql.push(&format!(
            " SELECT n.node_id, COUNT(*) AS incoming, 0 AS outgoing, {cross} AS cross_border \
             FROM node_list n JOIN placement_facts f ON f.programme_id = n.key WHERE 1 = 1",
            cross = sum_int("f.cross_border")
        ))
        .and_overlaps("f.valid_from", "f.valid_to", from, to)
        .push(" GROUP BY n.node_id");
    } else {
        let KeyColumns { host, home, .. } = key_columns(batch.kind);
        node_keys(&mut sql, batch);
        sql.push(&format!(
            ", pairs AS (SELECT f.{host} AS host_key, f.{home} AS home_key, f.cross_border, COUNT(*) AS n \
             FROM placement_facts f WHERE (f.{host} IN (SELECT key FROM node_keys) OR f.{home} IN (SELECT key FROM node_keys))"
        ))
        .and_overlaps("f.valid_from", "f.valid_to", from, to)
        .push(&format!(
            " GROUP BY f.{host}, f.{home}, f.cross_border), \
             placed AS (SELECT k.node_id, pairs.n AS incoming, 0 AS outgoing, pairs.cross_border * pairs.n AS crossing \
             FROM pairs JOIN node_keys k ON k.key = pairs.host_key \
             UNION ALL SELECT k.node_id, 0, pairs.n, pairs.cross_border * pairs.n FROM pairs \
             JOIN node_keys k ON k.key = pairs.home_key WHERE NOT EXISTS (SELECT 1 FROM node_keys same_node \
             WHERE same_node.node_id = k.node_id AND same_node.key = pairs.host_key)) \
             SELECT node_id, {incoming} AS incoming, {outgoing} AS outgoing, {cross} AS cross_border \
             FROM placed GROUP BY node_id",
            incoming = sum_int("incoming"),
            outgoing = sum_int("outgoing"),
            cross = sum_int("crossing"),
        ));
    }
    let mut result = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        result.insert(
            row.try_get::<i32>("", "node_id")?,
            PlacementStats {
                incoming: row.try_get::<Option<i64>>("", "incoming")?.unwrap_or(0),
                outgoing: row.try_get::<Option<i64>>("", "outgoing")?.unwrap_or(0),
                cross_border: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
            },
        );
    }
    Ok(result)
}

/// The project metrics of every row `ids` selects (regions or municipalities), on `as_of` over
/// `period`: what a list ordered by a metric sorts on. Two statements, whatever the page.
pub async fn project_stats_of_all<C: ConnectionTrait>(
    conn: &C,
    ids: sea_orm::sea_query::SelectStatement,
    kind: NodeKind,
    period: Period,
    as_of: NaiveDate,
) -> Result<HashMap<i32, ProjectStats>, DbErr> {
    let rows = conn.query_all(&ids).await?;
    let nodes: Vec<(i32, NaiveDate)> =
        rows.iter().map(|row| row.try_get_by_index::<i32>(0).map(|id| (id, as_of))).collect::<Result<_, _>>()?;
    if nodes.is_empty() {
        return Ok(HashMap::new());
    }
    // The batch's results are keyed by position in `nodes`.
    let by_position = project_stats(conn, &Batch { kind, nodes: &nodes, period }).await?;
    Ok(by_position
        .into_iter()
        .filter_map(|(position, stats)| nodes.get(usize::try_from(position).ok()?).map(|(id, _)| (*id, stats)))
        .collect())
}
