//! Monthly metric rollups (tables and why: migration 10): per node (a region's epoch or a
//! municipality), edge (0: facts starting in the month, 1: facts ending in it) and month, the
//! sums of each measure. Rows active in [a, b] are those started by b minus those ended before a,
//! so a period's sums are the rollup rows of its whole months plus the facts of its partial months.
//!
//! One definition: [`contributions`] turns fact rows into per-node, per-edge rows. The rollups
//! are its sums; the write path keeps them by subtracting the contributions of the facts it is
//! about to replace and adding those of their replacements ([`apply`], in the write's
//! transaction); the metrics read the partial months through it too. A changed membership
//! changes its region's epochs: that region's nodes and rollups are recomputed
//! ([`rebuild_nodes`]); a bulk load recomputes all ([`rebuild`]).

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DbErr};

use super::queries::sql::{Sql, sum_int};
use crate::domain::epochs::{Membership, epochs};

/// The first day of an epoch or month that is open towards the past.
pub fn open_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date")
}

/// A node kind's name in `metric_nodes` and the rollups.
pub const REGION: &str = "region";
pub const MUNICIPALITY: &str = "municipality";

/// A family of measures, each with its facts and rollup table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Projects active at a node (any acting partner seated in it), with their partner rows there,
    /// budgets and goals (from `project_facts` and `partnership_facts`).
    Projects,
    /// Placements hosted at a node, placements out of it and those crossing the border
    /// (`placement_facts`).
    Placements,
    /// Students enrolled at a node's organisations (`enrolment_facts`).
    Enrolments,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Projects, Family::Placements, Family::Enrolments];

    pub fn table(self) -> &'static str {
        match self {
            Self::Projects => "project_months",
            Self::Placements => "placement_months",
            Self::Enrolments => "enrolment_months",
        }
    }

    /// The measures, and whether each is a floating-point sum.
    pub fn measures(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Projects => &[
                ("projects", false),
                ("partner_rows", false),
                ("cross_border", false),
                ("budget_eur", true),
                ("budgets", false),
                ("goals_with_target", false),
                ("goals_without_target", false),
                ("goals_measured", false),
                ("attainment_sum", true),
                ("attainment_count", false),
            ],
            Self::Placements => &[("placements_in", false), ("placements_out", false), ("cross_border", false)],
            Self::Enrolments => &[("enrolments", false)],
        }
    }
}

/// Which fact rows a contribution reads.
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    All,
    /// Of these projects, placements or students (by family).
    Ids(&'a [i32]),
    /// Starting within the inclusive span.
    StartingIn(NaiveDate, NaiveDate),
    /// Ending within the inclusive span.
    EndingIn(NaiveDate, NaiveDate),
}

/// Which nodes a contribution is for: all, all of one kind, or these nodes of one kind.
#[derive(Clone, Copy, Debug)]
pub enum Nodes<'a> {
    All,
    Kind(&'a str),
    Of(&'a str, &'a [i32]),
}

fn push_rows(sql: &mut Sql, family: Family, rows: Rows<'_>) {
    match rows {
        Rows::All => {}
        Rows::Ids(ids) => {
            let column = match family {
                Family::Projects => "f.project_id",
                Family::Placements => "f.placement_id",
                Family::Enrolments => "f.student_id",
            };
            sql.push(&format!(" AND {column} IN ")).bind_ids(ids);
        }
        Rows::StartingIn(first, last) => {
            sql.push(" AND f.valid_from >= ").bind(first).push(" AND f.valid_from <= ").bind(last);
        }
        Rows::EndingIn(first, last) => {
            sql.push(" AND f.valid_to >= ").bind(first).push(" AND f.valid_to <= ").bind(last);
        }
    }
}

fn push_nodes(sql: &mut Sql, nodes: Nodes<'_>) {
    match nodes {
        Nodes::All => {}
        Nodes::Kind(kind) => {
            sql.push(" AND n.node_kind = ").bind(kind.to_owned());
        }
        Nodes::Of(kind, ids) => {
            sql.push(" AND n.node_kind = ").bind(kind.to_owned()).push(" AND n.node_id IN ").bind_ids(ids);
        }
    }
}

/// `(node_kind, node_id, epoch_from, edge, month, <measures>)`: one row per fact row, node it
/// counts for and edge (a fact without an end has no end edge; one without a start starts in
/// the open past). A subquery, to be summed.
pub fn contributions(sql: &mut Sql, family: Family, rows: Rows<'_>, nodes: Nodes<'_>) {
    let open = open_start();
    let edges = "(SELECT 0 AS edge UNION ALL SELECT 1 AS edge) e";
    // The month of the edge: of the start (or the open past) or of the end.
    let month = |sql: &mut Sql, alias: &str| {
        let (start, end) = (sql.month_of(&format!("{alias}.valid_from")), sql.month_of(&format!("{alias}.valid_to")));
        sql.push(&format!("CASE WHEN e.edge = 0 THEN COALESCE({start}, "))
            .bind(open)
            .push(&format!(") ELSE {end} END AS month"));
    };
    match family {
        Family::Projects => {
            sql.push("SELECT x.node_kind, x.node_id, x.epoch_from, e.edge, ");
            month(sql, "p");
            sql.push(
                ", 1 AS projects, x.partner_rows, p.cross_border, COALESCE(p.budget_eur, 0) AS budget_eur, \
                 CASE WHEN p.budget_eur IS NULL THEN 0 ELSE 1 END AS budgets, p.goals_with_target, \
                 p.goals_without_target, p.goals_measured, p.attainment_sum, p.attainment_count \
                 FROM (SELECT n.node_kind, n.node_id, n.epoch_from, f.project_id, COUNT(*) AS partner_rows \
                 FROM partnership_facts f JOIN metric_nodes n ON n.municipality_id = f.municipality_id WHERE 1 = 1",
            );
            push_rows(sql, family, rows);
            push_nodes(sql, nodes);
            sql.push(&format!(
                " GROUP BY n.node_kind, n.node_id, n.epoch_from, f.project_id) x \
                 JOIN project_facts p ON p.project_id = x.project_id CROSS JOIN {edges} \
                 WHERE e.edge = 0 OR p.valid_to IS NOT NULL"
            ));
        }
        Family::Placements => {
            sql.push("SELECT s.node_kind, s.node_id, s.epoch_from, e.edge, ");
            month(sql, "s");
            sql.push(
                ", s.placements_in, s.placements_out, s.cross_border FROM (\
                 SELECT n.node_kind, n.node_id, n.epoch_from, f.valid_from, f.valid_to, 1 AS placements_in, \
                 0 AS placements_out, f.cross_border FROM placement_facts f \
                 JOIN metric_nodes n ON n.municipality_id = f.host_municipality_id WHERE 1 = 1",
            );
            push_rows(sql, family, rows);
            push_nodes(sql, nodes);
            // Out: enrolled at the node, hosted outside it (the same epoch's other members).
            sql.push(
                " UNION ALL SELECT n.node_kind, n.node_id, n.epoch_from, f.valid_from, f.valid_to, 0, 1, \
                 f.cross_border FROM placement_facts f JOIN metric_nodes n ON n.municipality_id = f.home_municipality_id \
                 WHERE NOT EXISTS (SELECT 1 FROM metric_nodes same WHERE same.node_kind = n.node_kind \
                 AND same.node_id = n.node_id AND same.epoch_from = n.epoch_from \
                 AND same.municipality_id = f.host_municipality_id)",
            );
            push_rows(sql, family, rows);
            push_nodes(sql, nodes);
            sql.push(&format!(") s CROSS JOIN {edges} WHERE e.edge = 0 OR s.valid_to IS NOT NULL"));
        }
        Family::Enrolments => {
            sql.push("SELECT n.node_kind, n.node_id, n.epoch_from, e.edge, ");
            month(sql, "f");
            sql.push(&format!(
                ", 1 AS enrolments FROM enrolment_facts f JOIN metric_nodes n ON n.municipality_id = f.municipality_id \
                 CROSS JOIN {edges} WHERE (e.edge = 0 OR f.valid_to IS NOT NULL)"
            ));
            push_rows(sql, family, rows);
            push_nodes(sql, nodes);
        }
    }
}

/// Adds (`sign` 1) or subtracts (-1) the contributions of `rows` to the family's rollup.
pub async fn apply<C: ConnectionTrait>(conn: &C, family: Family, rows: Rows<'_>, sign: i32) -> Result<(), DbErr> {
    sum_into(conn, family, rows, Nodes::All, sign, true).await
}

/// The family's sums of `rows` for `nodes`, inserted; `upsert` adds them to the rows already
/// there (else the nodes must have none: a rebuild, which inserts in key order so that a node's
/// rows sit together on disk).
async fn sum_into<C: ConnectionTrait>(
    conn: &C,
    family: Family,
    rows: Rows<'_>,
    nodes: Nodes<'_>,
    sign: i32,
    upsert: bool,
) -> Result<(), DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    let measures = family.measures();
    let names = measures.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
    let sums = measures
        .iter()
        .map(|(name, float)| {
            let signed = format!("{sign} * c.{name}");
            if *float { format!("SUM({signed})") } else { sum_int(&signed) }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let updates = measures
        .iter()
        .map(|(name, _)| format!("{name} = {table}.{name} + excluded.{name}", table = family.table()))
        .collect::<Vec<_>>()
        .join(", ");
    sql.push(&format!(
        "INSERT INTO {table} (node_kind, node_id, epoch_from, edge, month, {names}) \
         SELECT c.node_kind, c.node_id, c.epoch_from, c.edge, c.month, {sums} FROM (",
        table = family.table()
    ));
    contributions(&mut sql, family, rows, nodes);
    // `WHERE 1 = 1` keeps SQLite from reading the upsert's ON as a join's.
    let key = "c.node_kind, c.node_id, c.epoch_from, c.edge, c.month";
    sql.push(&format!(") c WHERE 1 = 1 GROUP BY {key}"));
    if upsert {
        sql.push(&format!(" ON CONFLICT (node_kind, node_id, epoch_from, edge, month) DO UPDATE SET {updates}"));
    } else {
        sql.push(&format!(" ORDER BY {key}"));
    }
    conn.execute_raw(sql.statement()).await.map(|_| ())
}

/// The tables keyed by metric node: the nodes and their rollups.
const NODE_TABLES: [&str; 4] = ["metric_nodes", "project_months", "placement_months", "enrolment_months"];

/// Recomputes `metric_nodes` from the memberships and municipalities as they are, then every
/// rollup from the facts.
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    // Emptied whole first (`facts::clear`: no doubled tables on PostgreSQL).
    for table in NODE_TABLES {
        conn.execute_raw(super::facts::clear(conn.get_database_backend(), table, "node_id", None).statement()).await?;
    }
    rebuild_nodes(conn, REGION, None).await?;
    rebuild_nodes(conn, MUNICIPALITY, None).await
}

/// Recomputes the metric nodes of one kind (`ids`, or all) from the map as it is, and their
/// rollups from the facts.
pub async fn rebuild_nodes<C: ConnectionTrait>(conn: &C, kind: &str, ids: Option<&[i32]>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    for table in NODE_TABLES {
        let mut sql = Sql::new(backend);
        sql.push(&format!("DELETE FROM {table} WHERE node_kind = ")).bind(kind.to_owned());
        if let Some(ids) = ids {
            sql.push(" AND node_id IN ").bind_ids(ids);
        }
        conn.execute_raw(sql.statement()).await?;
    }
    if kind == REGION {
        let mut sql = Sql::new(backend);
        sql.push("SELECT region_id, municipality_id, valid_from, valid_to FROM region_memberships");
        if let Some(ids) = ids {
            sql.push(" WHERE region_id IN ").bind_ids(ids);
        }
        let rows = conn.query_all_raw(sql.statement()).await?;
        let memberships = rows
            .iter()
            .map(|row| {
                Ok(Membership {
                    region: row.try_get("", "region_id")?,
                    municipality: row.try_get("", "municipality_id")?,
                    from: row.try_get("", "valid_from")?,
                    to: row.try_get("", "valid_to")?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        let members: Vec<(i32, NaiveDate, Option<NaiveDate>, i32)> = epochs(&memberships)
            .into_iter()
            .flat_map(|epoch| {
                let from = epoch.from.unwrap_or_else(open_start);
                epoch.members.into_iter().map(move |member| (epoch.region, from, epoch.to, member))
            })
            .collect();
        // Five values per row, well under both backends' bind limits.
        for chunk in members.chunks(2000) {
            let mut sql = Sql::new(backend);
            sql.push("INSERT INTO metric_nodes (node_kind, node_id, epoch_from, epoch_to, municipality_id) VALUES ");
            for (index, (region, from, to, member)) in chunk.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .bind(REGION.to_owned())
                    .push(", ")
                    .bind(*region)
                    .push(", ")
                    .bind(*from)
                    .push(", ")
                    .bind(*to)
                    .push(", ")
                    .bind(*member)
                    .push(")");
            }
            conn.execute_raw(sql.statement()).await?;
        }
    } else {
        let mut sql = Sql::new(backend);
        sql.push("INSERT INTO metric_nodes (node_kind, node_id, epoch_from, epoch_to, municipality_id) SELECT ")
            .bind(MUNICIPALITY.to_owned())
            .push(", id, ")
            .bind(open_start())
            .push(", NULL, id FROM municipalities");
        if let Some(ids) = ids {
            sql.push(" WHERE id IN ").bind_ids(ids);
        }
        conn.execute_raw(sql.statement()).await?;
    }
    if ids.is_none() {
        // A full rebuild follows an ANALYZE taken while the nodes were gone (a migration empties
        // them to ask for it): planned for an empty table, SQLite joined the placement cells'
        // regions pairwise before the facts (SQLite `large` upgraded in place: over 14 min for
        // one statement, 3.4 s with the nodes' statistics).
        conn.execute_unprepared("ANALYZE metric_nodes").await?;
    }
    let nodes = ids.map_or(Nodes::Kind(kind), |ids| Nodes::Of(kind, ids));
    for family in Family::ALL {
        sum_into(conn, family, Rows::All, nodes, 1, false).await?;
    }
    if kind == REGION {
        // New epochs, perhaps a new open one: the regions' cells follow, on either side of a
        // placement.
        super::cells::recompute(conn, ids, None).await?;
        super::cells::recompute_placements(conn, ids, None, None).await?;
        if ids.is_some() {
            super::cells::recompute_placements(conn, None, ids, None).await?;
        }
    }
    Ok(())
}

/// How a period is read from the rollups: start-edge rows of the months before `starts_before`
/// (all when `None`) plus the facts starting in `starts_partial`, minus end-edge rows of the
/// months before `ends_before` (none when `None`) and the facts ending in `ends_partial`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub starts_before: Option<NaiveDate>,
    pub starts_partial: Option<(NaiveDate, NaiveDate)>,
    pub ends_before: Option<NaiveDate>,
    pub ends_partial: Option<(NaiveDate, NaiveDate)>,
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

/// Rows active in [from, to] (open ends: `None`) are those started by `to` minus those ended
/// before `from`; whole months are read from the rollups, the partial ones from the facts.
pub fn split(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Split {
    let (starts_before, starts_partial) = match to {
        None => (None, None),
        Some(last) => match last.succ_opt() {
            None => (None, None),
            Some(next) if next.day() == 1 => (Some(next), None),
            Some(_) => (Some(month_start(last)), Some((month_start(last), last))),
        },
    };
    let (ends_before, ends_partial) = match from {
        None => (None, None),
        Some(first) => {
            let partial = first.pred_opt().filter(|_| first.day() != 1).map(|before| (month_start(first), before));
            (Some(month_start(first)), partial)
        }
    };
    Split { starts_before, starts_partial, ends_before, ends_partial }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a test date")
    }

    #[test]
    fn whole_months_come_from_the_rollup_and_partial_ones_from_the_facts() {
        assert_eq!(
            split(Some(day("2018-01-01")), Some(day("2020-12-31"))),
            Split {
                starts_before: Some(day("2021-01-01")),
                starts_partial: None,
                ends_before: Some(day("2018-01-01")),
                ends_partial: None
            }
        );
        assert_eq!(
            split(Some(day("2018-03-17")), Some(day("2020-02-28"))),
            Split {
                starts_before: Some(day("2020-02-01")),
                starts_partial: Some((day("2020-02-01"), day("2020-02-28"))),
                ends_before: Some(day("2018-03-01")),
                ends_partial: Some((day("2018-03-01"), day("2018-03-16")))
            }
        );
        // 2020 is a leap year: the 29th ends February.
        assert_eq!(split(None, Some(day("2020-02-29"))).starts_before, Some(day("2020-03-01")));
        assert_eq!(
            split(None, None),
            Split { starts_before: None, starts_partial: None, ends_before: None, ends_partial: None }
        );
    }
}
