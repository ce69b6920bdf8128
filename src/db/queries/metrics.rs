//! Node metrics in SQL: one statement per metric group for a whole batch of nodes of one kind and
//! one period, whatever the batch size. Every statement starts from the node's organisations
//! (`org_scope`) and, where projects matter, the node's active projects (`node_projects`).
//! Definitions are in [`crate::domain::metrics`].

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr};

use super::sql::{ATTAINMENT, Sql, budget_in_eur, latest_values_cte, sum_int};
use crate::domain::metrics::{GoalStats, NodeKind, Period, PlacementStats, ProjectStats};

/// A batch: nodes of one kind, one period, one geography day (for regions).
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    pub kind: NodeKind,
    pub ids: &'a [i32],
    pub period: Period,
    pub as_of: NaiveDate,
}

/// `WITH org_scope(node_id, organisation_id) AS (…), node_projects(node_id, project_id,
/// partner_rows) AS (…)` for the batch.
fn scope(sql: &mut Sql, batch: &Batch<'_>, with_projects: bool) {
    let Period { from, to } = batch.period;
    sql.push("WITH org_scope AS (");
    match batch.kind {
        NodeKind::Region => {
            sql.push(
                "SELECT DISTINCT rm.region_id AS node_id, o.id AS organisation_id FROM region_memberships rm \
                 JOIN organisations o ON o.municipality_id = rm.municipality_id WHERE rm.region_id IN ",
            )
            .bind_ids(batch.ids)
            .and_valid_on("rm.valid_from", "rm.valid_to", batch.as_of);
        }
        NodeKind::Municipality => {
            sql.push("SELECT o.municipality_id AS node_id, o.id AS organisation_id FROM organisations o WHERE o.municipality_id IN ")
                .bind_ids(batch.ids);
        }
        NodeKind::Organisation => {
            sql.push("SELECT o.id AS node_id, o.id AS organisation_id FROM organisations o WHERE o.id IN ")
                .bind_ids(batch.ids);
        }
        NodeKind::Country => {
            sql.push(
                "SELECT o.country_id AS node_id, o.id AS organisation_id FROM organisations o WHERE o.country_id IN ",
            )
            .bind_ids(batch.ids);
        }
        NodeKind::Programme => {
            sql.push(
                "SELECT DISTINCT p.programme_id AS node_id, pp.organisation_id FROM projects p \
                 JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder' WHERE p.programme_id IN ",
            )
            .bind_ids(batch.ids)
            .and_overlaps("p.valid_from", "p.valid_to", from, to);
        }
    }
    sql.push(")");
    if !with_projects {
        return;
    }
    sql.push(", node_projects AS (");
    if batch.kind == NodeKind::Programme {
        sql.push(
            "SELECT p.programme_id AS node_id, p.id AS project_id, \
             (SELECT COUNT(*) FROM project_partners pp WHERE pp.project_id = p.id AND pp.role <> 'funder') AS partner_rows \
             FROM projects p WHERE p.programme_id IN ",
        )
        .bind_ids(batch.ids);
    } else {
        sql.push(
            "SELECT s.node_id, pp.project_id, COUNT(*) AS partner_rows FROM org_scope s \
             JOIN project_partners pp ON pp.organisation_id = s.organisation_id AND pp.role <> 'funder' \
             JOIN projects p ON p.id = pp.project_id WHERE 1 = 1",
        );
    }
    sql.and_overlaps("p.valid_from", "p.valid_to", from, to);
    if batch.kind != NodeKind::Programme {
        sql.push(" GROUP BY s.node_id, pp.project_id");
    }
    sql.push(")");
}

/// Organisations per node and kind.
pub async fn organisations_by_kind<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, Vec<(String, i64)>>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    scope(&mut sql, batch, false);
    sql.push(
        " SELECT s.node_id, o.kind, COUNT(*) AS n FROM org_scope s JOIN organisations o ON o.id = s.organisation_id \
         GROUP BY s.node_id, o.kind ORDER BY s.node_id, o.kind",
    );
    let mut result: HashMap<i32, Vec<(String, i64)>> = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        let node: i32 = row.try_get("", "node_id")?;
        result.entry(node).or_default().push((row.try_get("", "kind")?, row.try_get("", "n")?));
    }
    Ok(result)
}

/// Active projects, partnerships, cross-border projects and budgets per node.
pub async fn project_stats<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, ProjectStats>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    scope(&mut sql, batch, true);
    let eur = budget_in_eur("p");
    sql.push(
        ", cross_border AS (SELECT pp.project_id FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
         WHERE pp.role <> 'funder' AND pp.project_id IN (SELECT project_id FROM node_projects) \
         GROUP BY pp.project_id HAVING COUNT(DISTINCT o.country_id) > 1)",
    );
    sql.push(&format!(
        " SELECT np.node_id, COUNT(*) AS projects, {partnerships} AS partnerships, \
         {cross} AS cross_border, SUM({eur}) AS budget_eur, COUNT({eur}) AS with_budget \
         FROM node_projects np JOIN projects p ON p.id = np.project_id \
         LEFT JOIN cross_border c ON c.project_id = np.project_id GROUP BY np.node_id",
        partnerships = sum_int("np.partner_rows"),
        cross = sum_int("CASE WHEN c.project_id IS NULL THEN 0 ELSE 1 END"),
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
            },
        );
    }
    Ok(result)
}

/// Goal attainment of each node's active projects.
pub async fn goal_stats<C: ConnectionTrait>(conn: &C, batch: &Batch<'_>) -> Result<HashMap<i32, GoalStats>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    scope(&mut sql, batch, true);
    sql.push(", ").push(&latest_values_cte("IN (SELECT project_id FROM node_projects)"));
    let targeted = "g.target_value IS NOT NULL AND g.target_value > 0";
    sql.push(&format!(
        " SELECT np.node_id, {with_target} AS with_target, {without_target} AS without_target, \
         {measured} AS measured, AVG({ATTAINMENT}) AS attainment \
         FROM node_projects np JOIN goals g ON g.project_id = np.project_id \
         LEFT JOIN latest l ON l.goal_id = g.id GROUP BY np.node_id",
        with_target = sum_int(&format!("CASE WHEN {targeted} THEN 1 ELSE 0 END")),
        without_target = sum_int(&format!("CASE WHEN {targeted} THEN 0 ELSE 1 END")),
        measured = sum_int(&format!("CASE WHEN {targeted} AND l.value IS NOT NULL THEN 1 ELSE 0 END")),
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
    if batch.kind == NodeKind::Programme {
        sql.push(
            "SELECT p.programme_id AS node_id, COUNT(DISTINCT sp.student_id) AS n FROM student_placements sp \
             JOIN projects p ON p.id = sp.project_id WHERE p.programme_id IN ",
        )
        .bind_ids(batch.ids)
        .and_overlaps("sp.valid_from", "sp.valid_to", from, to)
        .push(" GROUP BY p.programme_id");
    } else {
        scope(&mut sql, batch, false);
        sql.push(
            " SELECT s.node_id, COUNT(*) AS n FROM org_scope s \
             JOIN students st ON st.enrolling_organisation_id = s.organisation_id WHERE 1 = 1",
        )
        .and_overlaps("st.enrolled_from", "st.enrolled_to", from, to)
        .push(" GROUP BY s.node_id");
    }
    let mut result = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        result.insert(row.try_get::<i32>("", "node_id")?, row.try_get::<i64>("", "n")?);
    }
    Ok(result)
}

/// Placements in, out and across the border per node.
pub async fn placement_stats<C: ConnectionTrait>(
    conn: &C,
    batch: &Batch<'_>,
) -> Result<HashMap<i32, PlacementStats>, DbErr> {
    let Period { from, to } = batch.period;
    let mut sql = Sql::new(conn.get_database_backend());
    if batch.kind == NodeKind::Programme {
        sql.push(
            "WITH placed AS (SELECT p.programme_id AS node_id, sp.host_organisation_id AS host, \
             st.enrolling_organisation_id AS home, 1 AS incoming FROM student_placements sp \
             JOIN projects p ON p.id = sp.project_id JOIN students st ON st.id = sp.student_id WHERE p.programme_id IN ",
        )
        .bind_ids(batch.ids)
        .and_overlaps("sp.valid_from", "sp.valid_to", from, to)
        .push(")");
    } else {
        scope(&mut sql, batch, false);
        sql.push(
            ", placed AS (SELECT s.node_id, sp.host_organisation_id AS host, st.enrolling_organisation_id AS home, \
             1 AS incoming FROM org_scope s JOIN student_placements sp ON sp.host_organisation_id = s.organisation_id \
             JOIN students st ON st.id = sp.student_id WHERE 1 = 1",
        )
        .and_overlaps("sp.valid_from", "sp.valid_to", from, to)
        .push(
            " UNION ALL SELECT s.node_id, sp.host_organisation_id, st.enrolling_organisation_id, 0 FROM org_scope s \
             JOIN students st ON st.enrolling_organisation_id = s.organisation_id \
             JOIN student_placements sp ON sp.student_id = st.id WHERE NOT EXISTS (SELECT 1 FROM org_scope same_node \
             WHERE same_node.node_id = s.node_id AND same_node.organisation_id = sp.host_organisation_id)",
        )
        .and_overlaps("sp.valid_from", "sp.valid_to", from, to)
        .push(")");
    }
    sql.push(&format!(
        " SELECT pl.node_id, {incoming} AS incoming, {outgoing} AS outgoing, {cross} AS cross_border \
         FROM placed pl JOIN organisations host ON host.id = pl.host JOIN organisations home ON home.id = pl.home \
         GROUP BY pl.node_id",
        incoming = sum_int("pl.incoming"),
        outgoing = sum_int("1 - pl.incoming"),
        cross = sum_int("CASE WHEN host.country_id <> home.country_id THEN 1 ELSE 0 END"),
    ));
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
