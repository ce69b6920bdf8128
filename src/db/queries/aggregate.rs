//! Group-by aggregates over two facts: project participation (projects and partnerships) and
//! student placements. Each request is one statement over the derived fact tables (`db::facts`):
//! the fact rows with their dimension keys, grouped. Region keys use the memberships valid on one day, or on each row's own start date, so
//! a territorial reform does not make a time series jump.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::sql::{Sql, sum_int};
use crate::db::cells;
use crate::domain::metrics::Period;

/// Most groups one aggregate may return; more is an error asking for a narrower request.
pub const MAX_GROUPS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Country code of the organisation.
    Country,
    /// The region (of the chosen kinds) the organisation's seat belongs to.
    Region,
    /// Placements only: the region of the student's enrolling organisation, whatever the side.
    HomeRegion,
    /// Placements only: the region of the host organisation, whatever the side.
    HostRegion,
    Programme,
    OrganisationKind,
    /// Start year of the project (placements: of the placement).
    Year,
    CrossBorder,
}

/// Which day decides region membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeographyDay {
    On(NaiveDate),
    /// Each row's own start date (projects: their start; placements: theirs).
    RowDate(NaiveDate),
}

#[derive(Clone, Debug)]
pub struct Geography {
    /// Region kinds (`fylke`, `lan`, …) to group by; they should partition the map.
    pub region_kinds: Vec<String>,
    pub day: GeographyDay,
}

/// The keys of one group; a key is `None` when the dimension was not asked for or is unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupKeys {
    pub country: Option<String>,
    pub region_id: Option<i32>,
    pub home_region_id: Option<i32>,
    pub host_region_id: Option<i32>,
    pub programme_id: Option<i32>,
    pub organisation_kind: Option<String>,
    pub year: Option<i32>,
    pub cross_border: Option<bool>,
}

impl GroupKeys {
    /// The keys as text, in dimension order (for disclosure control).
    pub fn as_strings(&self, dimensions: &[Dimension]) -> Vec<Option<String>> {
        dimensions
            .iter()
            .map(|d| match d {
                Dimension::Country => self.country.clone(),
                Dimension::Region => self.region_id.map(|v| v.to_string()),
                Dimension::HomeRegion => self.home_region_id.map(|v| v.to_string()),
                Dimension::HostRegion => self.host_region_id.map(|v| v.to_string()),
                Dimension::Programme => self.programme_id.map(|v| v.to_string()),
                Dimension::OrganisationKind => self.organisation_kind.clone(),
                Dimension::Year => self.year.map(|v| v.to_string()),
                Dimension::CrossBorder => self.cross_border.map(|v| v.to_string()),
            })
            .collect()
    }
}

/// Budget statistics in EUR over the distinct projects of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BudgetStats {
    pub sum: Option<f64>,
    pub average: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Projects with a budget in a convertible currency.
    pub projects: i64,
}

/// A group of project participations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParticipationGroup {
    pub keys: GroupKeys,
    pub projects: i64,
    /// Acting (non-funder) partner rows.
    pub partnerships: i64,
    pub organisations: i64,
    pub budget: BudgetStats,
    pub average_attainment: Option<f64>,
}

/// A group of placements.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlacementGroup {
    pub keys: GroupKeys,
    pub placements: i64,
    pub students: i64,
    pub cross_border: i64,
}

/// Which organisation of a placement the organisation dimensions describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementSide {
    Host,
    /// The student's enrolling organisation.
    Home,
}

/// What a participation aggregate computes beyond counts (each costs work).
#[derive(Clone, Copy, Debug, Default)]
pub struct ParticipationMeasures {
    pub budget: bool,
    pub attainment: bool,
}

fn key_columns(dimensions: &[Dimension]) -> String {
    (0..dimensions.len()).map(|i| format!("k{i}")).collect::<Vec<_>>().join(", ")
}

/// ` LEFT JOIN region_memberships <alias> …` for the municipality in `municipality` (a column),
/// dated by `row_date` (a column) when the geography asks for each row's own date.
fn region_join(sql: &mut Sql, geography: &Geography, alias: &str, municipality: &str, row_date: &str) {
    sql.push(&format!(" LEFT JOIN region_memberships {alias} ON {alias}.municipality_id = {municipality}"));
    sql.push(&format!(" AND {alias}.region_id"));
    in_regions_of_kinds(sql, geography);
    let (from, to) = (format!("{alias}.valid_from"), format!("{alias}.valid_to"));
    match geography.day {
        GeographyDay::On(day) => {
            sql.and_valid_on(&from, &to, day);
        }
        GeographyDay::RowDate(fallback) => {
            sql.push(&format!(" AND ({from} IS NULL OR {from} <= COALESCE("))
                .push(row_date)
                .push(", ")
                .bind(fallback)
                .push(&format!(")) AND ({to} IS NULL OR {to} >= COALESCE("))
                .push(row_date)
                .push(", ")
                .bind(fallback)
                .push("))");
        }
    }
}

/// ` GROUP BY keys ORDER BY keys LIMIT MAX_GROUPS + 1` (one more, to tell "too many").
fn group_and_limit(sql: &mut Sql, keys: &str) {
    if !keys.is_empty() {
        sql.push(&format!(" GROUP BY {keys} ORDER BY {keys}"));
    }
    sql.push(&format!(" LIMIT {}", MAX_GROUPS + 1));
}

fn read_keys(row: &QueryResult, dimensions: &[Dimension]) -> Result<GroupKeys, DbErr> {
    let mut keys = GroupKeys::default();
    for (index, dimension) in dimensions.iter().enumerate() {
        let column = format!("k{index}");
        match dimension {
            Dimension::Country => keys.country = row.try_get("", &column)?,
            Dimension::Region => keys.region_id = row.try_get("", &column)?,
            Dimension::HomeRegion => keys.home_region_id = row.try_get("", &column)?,
            Dimension::HostRegion => keys.host_region_id = row.try_get("", &column)?,
            Dimension::Programme => keys.programme_id = row.try_get("", &column)?,
            Dimension::OrganisationKind => keys.organisation_kind = row.try_get("", &column)?,
            Dimension::Year => keys.year = row.try_get("", &column)?,
            Dimension::CrossBorder => keys.cross_border = row.try_get::<Option<i32>>("", &column)?.map(|v| v != 0),
        }
    }
    Ok(keys)
}

/// Which source rows an aggregate counts: those dated in `period`, read on the fact rows' own
/// dates (the common filter then needs no join back to the source table), and, when the list
/// filter asks for more than a period, those of `rest` (a subquery selecting source ids).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rows<'a> {
    pub period: Period,
    pub rest: Option<&'a SelectStatement>,
}

impl Rows<'_> {
    /// ` WHERE …` over the fact alias `f`'s dates and its source id column `id_column`.
    fn push_where(&self, sql: &mut Sql, dates: &str, id_column: &str) {
        sql.push(" WHERE 1 = 1");
        sql.and_dated_overlap(&format!("{dates}.valid_from"), &format!("{dates}.valid_to"), self.period);
        if let Some(rest) = self.rest {
            sql.push(&format!(" AND {id_column} IN (")).embed(rest).push(")");
        }
    }
}

/// Why a dimension cannot group a fact.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} groups placements only")]
pub struct NotForProjects(pub Dimension);

/// The key expression of a participation dimension over the partner rows `f` (which carry their
/// project's programme, year and flag), their country `c` and region membership `rm`.
fn partner_key(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Country => "c.code",
        Dimension::Region => "rm.region_id",
        Dimension::Programme => "f.programme_id",
        Dimension::OrganisationKind => "f.organisation_kind",
        Dimension::Year => "f.start_year",
        Dimension::CrossBorder => "f.cross_border",
        Dimension::HomeRegion | Dimension::HostRegion => unreachable!("placements only, refused before"),
    }
}

/// ` LEFT JOIN`s the partner dimensions need: countries and region memberships of `f`.
fn partner_joins(sql: &mut Sql, dimensions: &[Dimension], geography: &Geography) {
    if dimensions.contains(&Dimension::Country) {
        sql.push(" LEFT JOIN countries c ON c.id = f.country_id");
    }
    if dimensions.contains(&Dimension::Region) {
        region_join(sql, geography, "rm", "f.municipality_id", "f.valid_from");
    }
}

/// The fact rows when only counts are asked: every acting partner row, then one row for each
/// project without any (partner keys null). No join of projects to partners: the partner rows
/// carry what the project dimensions need.
fn partners_then_partnerless(sql: &mut Sql, projects: Rows<'_>, dimensions: &[Dimension], geography: &Geography) {
    sql.push("SELECT ");
    for (index, dimension) in dimensions.iter().enumerate() {
        sql.push(&format!("{} AS k{index}, ", partner_key(*dimension)));
    }
    sql.push("f.project_id, f.partner_id AS partner_row, f.organisation_id FROM partnership_facts f");
    partner_joins(sql, dimensions, geography);
    projects.push_where(sql, "f", "f.project_id");
    sql.push(" UNION ALL SELECT ");
    for (index, dimension) in dimensions.iter().enumerate() {
        sql.push(&format!("{} AS k{index}, ", project_key(*dimension).unwrap_or("NULL")));
    }
    sql.push("p.project_id, NULL AS partner_row, NULL AS organisation_id FROM project_facts p");
    projects.push_where(sql, "p", "p.project_id");
    sql.push(" AND p.acting_partners = 0");
}

/// The fact rows when budgets or attainment are asked: projects joined to their partner rows
/// (one row for a project without any), each project's first row in its group marked, so a
/// budget counts once per group.
fn projects_with_partners(
    sql: &mut Sql,
    projects: Rows<'_>,
    dimensions: &[Dimension],
    geography: &Geography,
    measures: ParticipationMeasures,
) {
    // The project's own columns for its dimensions: a project without partners has no `f` row.
    let expressions: Vec<&str> = dimensions.iter().map(|d| project_key(*d).unwrap_or(partner_key(*d))).collect();
    sql.push("SELECT ");
    for (index, expression) in expressions.iter().enumerate() {
        sql.push(&format!("{expression} AS k{index}, "));
    }
    sql.push("p.project_id, f.partner_id AS partner_row, f.organisation_id, p.budget_eur AS eur");
    if measures.attainment {
        // Each project's mean attainment over its measured, targeted goals.
        sql.push(", CASE WHEN p.attainment_count > 0 THEN p.attainment_sum / p.attainment_count END AS attainment");
    }
    sql.push(&format!(
        ", ROW_NUMBER() OVER (PARTITION BY {}p.project_id ORDER BY f.partner_id) AS first_in_group",
        expressions.iter().map(|e| format!("{e}, ")).collect::<String>()
    ));
    sql.push(" FROM project_facts p LEFT JOIN partnership_facts f ON f.project_id = p.project_id");
    partner_joins(sql, dimensions, geography);
    projects.push_where(sql, "p", "p.project_id");
}

/// The key expression of a dimension of the project itself (programme, start year, cross-border
/// flag) over `project_facts p`; `None` for the partner dimensions.
fn project_key(dimension: Dimension) -> Option<&'static str> {
    match dimension {
        Dimension::Programme => Some("p.programme_id"),
        Dimension::Year => Some("p.start_year"),
        Dimension::CrossBorder => Some("p.cross_border"),
        _ => None,
    }
}

/// Projects and partnerships grouped by `dimensions`, of the projects `projects` selects. Reads
/// `project_facts` and `partnership_facts` (`db::facts`): one row per acting partnership, plus
/// one per project without any.
pub async fn participation<C: ConnectionTrait>(
    conn: &C,
    projects: Rows<'_>,
    dimensions: &[Dimension],
    geography: &Geography,
    measures: ParticipationMeasures,
) -> Result<Vec<ParticipationGroup>, DbErr> {
    if let Some(dimension) = dimensions.iter().find(|d| matches!(d, Dimension::HomeRegion | Dimension::HostRegion)) {
        return Err(DbErr::Custom(NotForProjects(*dimension).to_string()));
    }
    let per_project = measures.budget || measures.attainment;
    if !per_project && let Some(groups) = participation_from_cells(conn, projects, dimensions, geography).await? {
        return Ok(groups);
    }
    let project_level = dimensions.iter().all(|d| project_key(*d).is_some());
    let counts_only = ParticipationMeasures::default();
    if per_project && !project_level {
        // A project's partner rows fall into several groups: mark its first row in each.
        let mut sql = Sql::new(conn.get_database_backend());
        counts_select(&mut sql, dimensions, measures);
        projects_with_partners(&mut sql, projects, dimensions, geography, measures);
        return read_groups(conn, sql, dimensions, measures).await;
    }
    let mut sql = Sql::new(conn.get_database_backend());
    counts_select(&mut sql, dimensions, counts_only);
    partners_then_partnerless(&mut sql, projects, dimensions, geography);
    let mut groups = read_groups(conn, sql, dimensions, counts_only).await?;
    if per_project {
        // All of a project's rows are in one group: its budget and attainment are the project's
        // own, grouped straight from `project_facts`, and the two answers share their keys.
        let mut sql = Sql::new(conn.get_database_backend());
        sql.push("SELECT ");
        for (index, dimension) in dimensions.iter().enumerate() {
            sql.push(&format!("{} AS k{index}, ", project_key(*dimension).unwrap_or("NULL")));
        }
        sql.push(
            "SUM(p.budget_eur) AS budget_sum, AVG(p.budget_eur) AS budget_avg, MIN(p.budget_eur) AS budget_min, \
             MAX(p.budget_eur) AS budget_max, COUNT(p.budget_eur) AS budgets, \
             AVG(CASE WHEN p.attainment_count > 0 THEN p.attainment_sum / p.attainment_count END) AS attainment \
             FROM project_facts p",
        );
        projects.push_where(&mut sql, "p", "p.project_id");
        group_and_limit(&mut sql, &key_columns(dimensions));
        let mut by_keys: HashMap<GroupKeys, (BudgetStats, Option<f64>)> = HashMap::new();
        for row in conn.query_all_raw(sql.statement()).await? {
            let (budget, attainment) = read_measures(&row, measures)?;
            by_keys.insert(read_keys(&row, dimensions)?, (budget, attainment));
        }
        for group in &mut groups {
            if let Some((budget, attainment)) = by_keys.remove(&group.keys) {
                (group.budget, group.average_attainment) = (budget, attainment);
            }
        }
    }
    Ok(groups)
}

/// ` IN (SELECT id FROM regions WHERE kind IN (…))`: the regions of the geography's kinds.
fn in_regions_of_kinds(sql: &mut Sql, geography: &Geography) {
    sql.push(" IN (SELECT id FROM regions WHERE kind IN (");
    for (index, kind) in geography.region_kinds.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(kind.clone());
    }
    sql.push("))");
}

/// Partnerships by region × year from `partnership_cells` (`db::cells`) when that is the whole
/// question: counts of every project, regions on a day on or after the last change to the map
/// of the kinds asked (so each region is its open epoch). `None` when it is not.
///
/// The cells hold the partner rows seated in a region; the rest (rows seated outside every
/// region of the kinds, or nowhere, and projects without partners) form the groups without a
/// region, counted from the facts through the seat index.
async fn participation_from_cells<C: ConnectionTrait>(
    conn: &C,
    projects: Rows<'_>,
    dimensions: &[Dimension],
    geography: &Geography,
) -> Result<Option<Vec<ParticipationGroup>>, DbErr> {
    let GeographyDay::On(day) = geography.day else { return Ok(None) };
    let region_by_year =
        dimensions.len() == 2 && dimensions.contains(&Dimension::Region) && dimensions.contains(&Dimension::Year);
    if !region_by_year || projects.rest.is_some() || projects.period != Period::default() {
        return Ok(None);
    }
    if !is_todays_map(conn, geography, day).await? {
        return Ok(None);
    }
    let backend = conn.get_database_backend();

    let group = |region_id, year, row: &QueryResult| -> Result<ParticipationGroup, DbErr> {
        Ok(ParticipationGroup {
            keys: GroupKeys { region_id, year, ..GroupKeys::default() },
            projects: row.try_get("", "projects")?,
            partnerships: row.try_get("", "partnerships")?,
            organisations: row.try_get("", "organisations")?,
            ..ParticipationGroup::default()
        })
    };
    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT region_id, start_year, partnerships, projects, organisations FROM partnership_cells WHERE region_id",
    );
    in_regions_of_kinds(&mut sql, geography);
    let mut groups = Vec::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        let year: i32 = row.try_get("", "start_year")?;
        groups.push(group(Some(row.try_get("", "region_id")?), (year != 0).then_some(year), &row)?);
    }

    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT m.id FROM municipalities m WHERE NOT EXISTS (SELECT 1 FROM metric_nodes n \
         WHERE n.node_kind = 'region' AND n.epoch_to IS NULL AND n.municipality_id = m.id AND n.node_id",
    );
    in_regions_of_kinds(&mut sql, geography);
    sql.push(")");
    let outside: Vec<i32> =
        conn.query_all_raw(sql.statement()).await?.iter().map(|row| row.try_get("", "id")).collect::<Result<_, _>>()?;
    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT start_year, COUNT(DISTINCT project_id) AS projects, COUNT(partner_row) AS partnerships, \
         COUNT(DISTINCT organisation_id) AS organisations FROM (SELECT f.start_year, f.project_id, \
         f.partner_id AS partner_row, f.organisation_id FROM partnership_facts f \
         WHERE f.municipality_id IS NULL OR f.municipality_id IN ",
    )
    .bind_ids(&outside)
    .push(
        " UNION ALL SELECT p.start_year, p.project_id, NULL, NULL FROM project_facts p WHERE p.acting_partners = 0) x \
         GROUP BY start_year",
    );
    for row in conn.query_all_raw(sql.statement()).await? {
        groups.push(group(None, row.try_get("", "start_year")?, &row)?);
    }

    sort_as_grouped(backend, dimensions, &mut groups, |group| &group.keys);
    Ok(Some(groups))
}

/// Whether memberships on `day` are today's map for the geography's region kinds: the day is on
/// or after the last change to any of their regions, so each region is its open epoch.
async fn is_todays_map<C: ConnectionTrait>(conn: &C, geography: &Geography, day: NaiveDate) -> Result<bool, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT MAX(epoch_from) AS last_from, MAX(epoch_to) AS last_to FROM metric_nodes WHERE node_kind = 'region' AND node_id");
    in_regions_of_kinds(&mut sql, geography);
    let Some(row) = conn.query_one_raw(sql.statement()).await? else { return Ok(false) };
    let last_from: Option<NaiveDate> = row.try_get("", "last_from")?;
    let last_to: Option<NaiveDate> = row.try_get("", "last_to")?;
    Ok(last_from.is_some_and(|from| day >= from) && last_to.is_none_or(|to| day > to))
}

/// Groups put in the order the grouped statement gives (`group_and_limit`): by the keys as
/// asked, NULL last on PostgreSQL and first on SQLite; one more than `MAX_GROUPS` kept.
fn sort_as_grouped<G>(
    backend: sea_orm::DatabaseBackend,
    dimensions: &[Dimension],
    groups: &mut Vec<G>,
    keys: impl Fn(&G) -> &GroupKeys,
) {
    let nulls_first = backend == sea_orm::DatabaseBackend::Sqlite;
    let key = |keys: &GroupKeys, dimension: &Dimension| match dimension {
        Dimension::Region => keys.region_id,
        Dimension::HomeRegion => keys.home_region_id,
        Dimension::HostRegion => keys.host_region_id,
        Dimension::Programme => keys.programme_id,
        Dimension::Year => keys.year,
        // Not grouped from cells.
        Dimension::Country | Dimension::OrganisationKind | Dimension::CrossBorder => None,
    };
    groups.sort_by(|a, b| {
        let (a, b) = (keys(a), keys(b));
        dimensions
            .iter()
            .map(|dimension| match (key(a, dimension), key(b, dimension)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (None, None) => Ordering::Equal,
                (None, Some(_)) if nulls_first => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) if nulls_first => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    groups.truncate(MAX_GROUPS + 1);
}

/// `SELECT keys, counts[, measures] FROM (`: the grouped columns over the fact rows that follow.
fn counts_select(sql: &mut Sql, dimensions: &[Dimension], measures: ParticipationMeasures) {
    let keys = key_columns(dimensions);
    sql.push("SELECT ");
    if !keys.is_empty() {
        sql.push(&keys).push(", ");
    }
    sql.push("COUNT(DISTINCT project_id) AS projects, COUNT(partner_row) AS partnerships, COUNT(DISTINCT organisation_id) AS organisations");
    if measures.budget {
        sql.push(
            ", SUM(CASE WHEN first_in_group = 1 THEN eur END) AS budget_sum, AVG(CASE WHEN first_in_group = 1 THEN eur END) AS budget_avg, \
             MIN(eur) AS budget_min, MAX(eur) AS budget_max, COUNT(CASE WHEN first_in_group = 1 THEN eur END) AS budgets",
        );
    }
    if measures.attainment {
        sql.push(", AVG(CASE WHEN first_in_group = 1 THEN attainment END) AS attainment");
    }
    sql.push(" FROM (");
}

/// Closes `counts_select`'s fact rows, groups them and reads the groups.
async fn read_groups<C: ConnectionTrait>(
    conn: &C,
    mut sql: Sql,
    dimensions: &[Dimension],
    measures: ParticipationMeasures,
) -> Result<Vec<ParticipationGroup>, DbErr> {
    sql.push(") fact");
    group_and_limit(&mut sql, &key_columns(dimensions));
    let rows = conn.query_all_raw(sql.statement()).await?;
    rows.iter()
        .map(|row| {
            let (budget, average_attainment) = read_measures(row, measures)?;
            Ok(ParticipationGroup {
                keys: read_keys(row, dimensions)?,
                projects: row.try_get("", "projects")?,
                partnerships: row.try_get("", "partnerships")?,
                organisations: row.try_get("", "organisations")?,
                budget,
                average_attainment,
            })
        })
        .collect()
}

/// The budget and attainment columns of a group's row, as far as they were asked.
fn read_measures(row: &QueryResult, measures: ParticipationMeasures) -> Result<(BudgetStats, Option<f64>), DbErr> {
    let budget = if measures.budget {
        BudgetStats {
            sum: row.try_get("", "budget_sum")?,
            average: row.try_get("", "budget_avg")?,
            min: row.try_get("", "budget_min")?,
            max: row.try_get("", "budget_max")?,
            projects: row.try_get("", "budgets")?,
        }
    } else {
        BudgetStats::default()
    };
    let attainment = if measures.attainment { row.try_get("", "attainment")? } else { None };
    Ok((budget, attainment))
}

/// The placements `placements` selects, grouped by `dimensions`, organisation dimensions taken
/// on `side`. Reads `placement_facts`, or `placement_cells` when they answer (`placements_from_cells`).
pub async fn placements<C: ConnectionTrait>(
    conn: &C,
    placements: Rows<'_>,
    dimensions: &[Dimension],
    geography: &Geography,
    side: PlacementSide,
) -> Result<Vec<PlacementGroup>, DbErr> {
    if let Some(groups) = placements_from_cells(conn, placements, dimensions, geography).await? {
        return Ok(groups);
    }
    let mut sql = Sql::new(conn.get_database_backend());
    let org = match side {
        PlacementSide::Host => "host",
        PlacementSide::Home => "home",
    };
    let keys = key_columns(dimensions);
    sql.push("SELECT ");
    for (index, dimension) in dimensions.iter().enumerate() {
        let expression = match dimension {
            Dimension::Country => "c.code".to_owned(),
            Dimension::Region => "rm.region_id".to_owned(),
            Dimension::HomeRegion => "rm_home.region_id".to_owned(),
            Dimension::HostRegion => "rm_host.region_id".to_owned(),
            Dimension::Programme => "f.programme_id".to_owned(),
            Dimension::OrganisationKind => format!("f.{org}_kind"),
            Dimension::Year => "f.start_year".to_owned(),
            Dimension::CrossBorder => "f.cross_border".to_owned(),
        };
        sql.push(&format!("{expression} AS k{index}, "));
    }
    sql.push(&format!(
        "COUNT(*) AS placements, COUNT(DISTINCT f.student_id) AS students, {cross} AS cross_border \
         FROM placement_facts f",
        cross = sum_int("f.cross_border")
    ));
    if dimensions.contains(&Dimension::Country) {
        sql.push(&format!(" LEFT JOIN countries c ON c.id = f.{org}_country_id"));
    }
    if dimensions.contains(&Dimension::Region) {
        region_join(&mut sql, geography, "rm", &format!("f.{org}_municipality_id"), "f.valid_from");
    }
    if dimensions.contains(&Dimension::HomeRegion) {
        region_join(&mut sql, geography, "rm_home", "f.home_municipality_id", "f.valid_from");
    }
    if dimensions.contains(&Dimension::HostRegion) {
        region_join(&mut sql, geography, "rm_host", "f.host_municipality_id", "f.valid_from");
    }
    placements.push_where(&mut sql, "f", "f.placement_id");
    group_and_limit(&mut sql, &keys);
    let rows = conn.query_all_raw(sql.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok(PlacementGroup {
                keys: read_keys(row, dimensions)?,
                placements: row.try_get("", "placements")?,
                students: row.try_get("", "students")?,
                cross_border: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
            })
        })
        .collect()
}

/// Placements by home region × host region × year from `placement_cells` (`db::cells`) when that
/// is the question: fylker and län on a day of today's map, the placements of a period (or all)
/// and nothing else. `None` when it is not.
///
/// A placement is in a period when it overlaps it; grouped by start year, every placement that
/// starts in a whole year of the period is in it, so those years are read from the cells. The
/// rest come from the facts: those that started before the first whole year and still ran
/// (through the index by start year and end), those that started in the period's last, partial
/// year, and those with no fylke or län on a side (NULL keys, through the seat indexes).
async fn placements_from_cells<C: ConnectionTrait>(
    conn: &C,
    rows: Rows<'_>,
    dimensions: &[Dimension],
    geography: &Geography,
) -> Result<Option<Vec<PlacementGroup>>, DbErr> {
    use chrono::Datelike;

    let GeographyDay::On(day) = geography.day else { return Ok(None) };
    let asked = [Dimension::HomeRegion, Dimension::HostRegion, Dimension::Year];
    let mut kinds: Vec<&str> = geography.region_kinds.iter().map(String::as_str).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut cell_kinds = cells::PLACEMENT_CELL_KINDS.to_vec();
    cell_kinds.sort_unstable();
    if dimensions.len() != asked.len()
        || !asked.iter().all(|d| dimensions.contains(d))
        || rows.rest.is_some()
        || kinds != cell_kinds
    {
        return Ok(None);
    }
    let period = rows.period;
    // The whole years of the period (open ends: none to read from the facts on that side).
    let first_whole = period.from.map(|from| if from.ordinal() == 1 { from.year() } else { from.year() + 1 });
    let last_whole = period.to.map(|to| if to.month() == 12 && to.day() == 31 { to.year() } else { to.year() - 1 });
    if let (Some(first), Some(last)) = (first_whole, last_whole)
        && first > last
    {
        // No whole year: the period's placements are few, grouped from the facts.
        return Ok(None);
    }
    if !is_todays_map(conn, geography, day).await? {
        return Ok(None);
    }
    let backend = conn.get_database_backend();
    let read = |row: &QueryResult, (home, host): (Option<i32>, Option<i32>)| -> Result<PlacementGroup, DbErr> {
        Ok(PlacementGroup {
            keys: GroupKeys {
                home_region_id: home,
                host_region_id: host,
                year: row.try_get("", "start_year")?,
                ..GroupKeys::default()
            },
            placements: row.try_get("", "placements")?,
            students: row.try_get("", "students")?,
            cross_border: row.try_get::<Option<i64>>("", "cross_border")?.unwrap_or(0),
        })
    };
    let mut statements = Vec::new();
    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT home_region_id AS home, host_region_id AS host, start_year, placements, students, cross_border \
         FROM placement_cells WHERE 1 = 1",
    );
    if let Some(first) = first_whole {
        sql.push(" AND start_year >= ").bind(first);
    }
    if let Some(last) = last_whole {
        sql.push(" AND start_year <= ").bind(last);
    }
    statements.push(sql);
    if let (Some(first), Some(from)) = (first_whole, period.from) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT MIN(start_year) AS first FROM placement_facts");
        let earliest: Option<i32> = match conn.query_one_raw(sql.statement()).await? {
            Some(row) => row.try_get("", "first")?,
            None => None,
        };
        if let Some(earliest) = earliest.filter(|earliest| *earliest < first) {
            // Started in an earlier year and ended in the period or later (or not yet): one
            // probe per earlier year of the index by start year and end, each branch its own.
            let years: Vec<i32> = (earliest..first).collect();
            let started = |sql: &mut Sql| {
                sql.push("f.start_year IN ").bind_ids(&years);
                if let Some(to) = period.to {
                    sql.push(" AND f.valid_from <= ").bind(to);
                }
            };
            let mut sql = Sql::new(backend);
            cells::push_placement_groups(
                &mut sql,
                true,
                vec![
                    Box::new(|sql: &mut Sql| {
                        started(sql);
                        sql.push(" AND f.valid_to >= ").bind(from);
                    }),
                    Box::new(|sql: &mut Sql| {
                        started(sql);
                        sql.push(" AND f.valid_to IS NULL");
                    }),
                ],
            );
            statements.push(sql);
        }
    }
    if let Some(to) = period.to.filter(|to| last_whole.is_some_and(|last| last < to.year())) {
        // Started in the period's last, partial year: one probe of the same index.
        let branch = |sql: &mut Sql| {
            sql.push("f.start_year = ").bind(to.year()).push(" AND f.valid_from <= ").bind(to);
        };
        let branches: Vec<cells::Condition<'_>> = match period.from {
            Some(from) => vec![
                Box::new(move |sql: &mut Sql| {
                    branch(sql);
                    sql.push(" AND f.valid_to >= ").bind(from);
                }),
                Box::new(move |sql: &mut Sql| {
                    branch(sql);
                    sql.push(" AND f.valid_to IS NULL");
                }),
            ],
            None => vec![Box::new(branch)],
        };
        let mut sql = Sql::new(backend);
        cells::push_placement_groups(&mut sql, true, branches);
        statements.push(sql);
    }
    let mut groups = Vec::new();
    for sql in statements {
        for row in conn.query_all_raw(sql.statement()).await? {
            groups.push(read(&row, (Some(row.try_get("", "home")?), Some(row.try_get("", "host")?)))?);
        }
    }

    // Placements with no fylke or län on a side: seated nowhere, or in a municipality outside them.
    let mut sql = Sql::new(backend);
    sql.push(&format!(
        "SELECT m.id FROM municipalities m WHERE m.id NOT IN (SELECT t.municipality_id FROM {} t)",
        cells::todays_regions()
    ));
    let outside: Vec<i32> =
        conn.query_all_raw(sql.statement()).await?.iter().map(|row| row.try_get("", "id")).collect::<Result<_, _>>()?;
    let mut sql = Sql::new(backend);
    cells::push_placement_groups(
        &mut sql,
        false,
        vec![Box::new(|sql: &mut Sql| {
            sql.push("(f.home_municipality_id IS NULL OR f.host_municipality_id IS NULL OR f.home_municipality_id IN ")
                .bind_ids(&outside)
                .push(" OR f.host_municipality_id IN ")
                .bind_ids(&outside)
                .push(")");
            sql.and_dated_overlap("f.valid_from", "f.valid_to", period);
        })],
    );
    for row in conn.query_all_raw(sql.statement()).await? {
        groups.push(read(&row, (row.try_get("", "home")?, row.try_get("", "host")?))?);
    }
    sort_as_grouped(backend, dimensions, &mut groups, |group| &group.keys);
    Ok(Some(groups))
}
