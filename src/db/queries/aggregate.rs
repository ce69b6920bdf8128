//! Group-by aggregates over three facts: project participation (projects and partnerships) and
//! student placements. Each request is one statement: the fact rows with their dimension keys,
//! grouped. Region keys use the memberships valid on one day, or on each row's own start date, so
//! a territorial reform does not make a time series jump.

use chrono::NaiveDate;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::sql::{ATTAINMENT, Sql, budget_in_eur, latest_values_cte};

/// Most groups one aggregate may return; more is an error asking for a narrower request.
pub const MAX_GROUPS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Country code of the organisation.
    Country,
    /// The region (of the chosen kinds) the organisation's seat belongs to.
    Region,
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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupKeys {
    pub country: Option<String>,
    pub region_id: Option<i32>,
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

/// ` LEFT JOIN region_memberships rm …` for organisations aliased `org`, dated by `row_date`.
fn region_join(sql: &mut Sql, geography: &Geography, org: &str, row_date: &str) {
    sql.push(&format!(" LEFT JOIN region_memberships rm ON rm.municipality_id = {org}.municipality_id"));
    sql.push(" AND rm.region_id IN (SELECT id FROM regions WHERE kind IN (");
    for (index, kind) in geography.region_kinds.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(kind.clone());
    }
    sql.push("))");
    match geography.day {
        GeographyDay::On(day) => {
            sql.and_valid_on("rm.valid_from", "rm.valid_to", day);
        }
        GeographyDay::RowDate(fallback) => {
            sql.push(" AND (rm.valid_from IS NULL OR rm.valid_from <= COALESCE(")
                .push(row_date)
                .push(", ")
                .bind(fallback)
                .push(")) AND (rm.valid_to IS NULL OR rm.valid_to >= COALESCE(")
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
            Dimension::Programme => keys.programme_id = row.try_get("", &column)?,
            Dimension::OrganisationKind => keys.organisation_kind = row.try_get("", &column)?,
            Dimension::Year => keys.year = row.try_get("", &column)?,
            Dimension::CrossBorder => keys.cross_border = row.try_get::<Option<i32>>("", &column)?.map(|v| v != 0),
        }
    }
    Ok(keys)
}

/// Projects whose acting partners span more than one country, as a CTE named `xb`.
const CROSS_BORDER_CTE: &str = "xb AS (SELECT pp.project_id FROM project_partners pp \
     JOIN organisations xo ON xo.id = pp.organisation_id WHERE pp.role <> 'funder' \
     GROUP BY pp.project_id HAVING COUNT(DISTINCT xo.country_id) > 1)";

/// Each project's mean attainment over its measured, targeted goals, as a CTE named `att`.
fn attainment_cte() -> String {
    format!(
        "{}, att AS (SELECT g.project_id, AVG({ATTAINMENT}) AS attainment FROM goals g \
         JOIN latest l ON l.goal_id = g.id GROUP BY g.project_id)",
        latest_values_cte("")
    )
}

/// Projects and partnerships grouped by `dimensions`; `projects` limits the projects (a list
/// filter selecting `projects.id`).
pub async fn participation<C: ConnectionTrait>(
    conn: &C,
    projects: Option<&SelectStatement>,
    dimensions: &[Dimension],
    geography: &Geography,
    measures: ParticipationMeasures,
) -> Result<Vec<ParticipationGroup>, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    let mut ctes: Vec<String> = Vec::new();
    if dimensions.contains(&Dimension::CrossBorder) {
        ctes.push(CROSS_BORDER_CTE.to_owned());
    }
    if measures.attainment {
        ctes.push(attainment_cte());
    }
    if !ctes.is_empty() {
        sql.push("WITH ").push(&ctes.join(", ")).push(" ");
    }
    let mut expressions = Vec::new();
    for dimension in dimensions {
        let expression = match dimension {
            Dimension::Country => "c.code".to_owned(),
            Dimension::Region => "rm.region_id".to_owned(),
            Dimension::Programme => "p.programme_id".to_owned(),
            Dimension::OrganisationKind => "o.kind".to_owned(),
            Dimension::Year => sql.year_of("p.valid_from"),
            Dimension::CrossBorder => "CASE WHEN xb.project_id IS NULL THEN 0 ELSE 1 END".to_owned(),
        };
        expressions.push(expression);
    }
    let keys = key_columns(dimensions);
    let eur = budget_in_eur("p");
    // Budgets and attainment count each project once per group: the first of its partner rows.
    let first = if measures.budget || measures.attainment {
        format!(
            ", ROW_NUMBER() OVER (PARTITION BY {}p.id ORDER BY pp.id) AS first_in_group",
            expressions.iter().map(|e| format!("{e}, ")).collect::<String>()
        )
    } else {
        String::new()
    };
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
    sql.push(" FROM (SELECT ");
    for (index, expression) in expressions.iter().enumerate() {
        sql.push(&format!("{expression} AS k{index}, "));
    }
    sql.push(&format!("p.id AS project_id, pp.id AS partner_row, pp.organisation_id, {eur} AS eur"));
    sql.push(if measures.attainment { ", att.attainment" } else { "" });
    sql.push(&first);
    sql.push(
        " FROM projects p LEFT JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder' \
         LEFT JOIN organisations o ON o.id = pp.organisation_id",
    );
    if dimensions.contains(&Dimension::Country) {
        sql.push(" LEFT JOIN countries c ON c.id = o.country_id");
    }
    if dimensions.contains(&Dimension::Region) {
        region_join(&mut sql, geography, "o", "p.valid_from");
    }
    if dimensions.contains(&Dimension::CrossBorder) {
        sql.push(" LEFT JOIN xb ON xb.project_id = p.id");
    }
    if measures.attainment {
        sql.push(" LEFT JOIN att ON att.project_id = p.id");
    }
    if let Some(filter) = projects {
        sql.push(" WHERE p.id IN (").embed(filter).push(")");
    }
    sql.push(") fact");
    group_and_limit(&mut sql, &keys);
    let rows = conn.query_all_raw(sql.statement()).await?;
    rows.iter()
        .map(|row| {
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
            Ok(ParticipationGroup {
                keys: read_keys(row, dimensions)?,
                projects: row.try_get("", "projects")?,
                partnerships: row.try_get("", "partnerships")?,
                organisations: row.try_get("", "organisations")?,
                budget,
                average_attainment: if measures.attainment { row.try_get("", "attainment")? } else { None },
            })
        })
        .collect()
}

/// Placements grouped by `dimensions`, organisation dimensions taken on `side`; `placements`
/// limits the rows (a list filter selecting `student_placements.id`).
pub async fn placements<C: ConnectionTrait>(
    conn: &C,
    placements: Option<&SelectStatement>,
    dimensions: &[Dimension],
    geography: &Geography,
    side: PlacementSide,
) -> Result<Vec<PlacementGroup>, DbErr> {
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
            Dimension::Programme => "pj.programme_id".to_owned(),
            Dimension::OrganisationKind => format!("{org}.kind"),
            Dimension::Year => sql.year_of("sp.valid_from"),
            Dimension::CrossBorder => "CASE WHEN host.country_id <> home.country_id THEN 1 ELSE 0 END".to_owned(),
        };
        sql.push(&format!("{expression} AS k{index}, "));
    }
    sql.push(
        "COUNT(*) AS placements, COUNT(DISTINCT sp.student_id) AS students, \
         CAST(SUM(CASE WHEN host.country_id <> home.country_id THEN 1 ELSE 0 END) AS BIGINT) AS cross_border \
         FROM student_placements sp JOIN students st ON st.id = sp.student_id \
         JOIN organisations host ON host.id = sp.host_organisation_id \
         JOIN organisations home ON home.id = st.enrolling_organisation_id",
    );
    if dimensions.contains(&Dimension::Programme) {
        sql.push(" LEFT JOIN projects pj ON pj.id = sp.project_id");
    }
    if dimensions.contains(&Dimension::Country) {
        sql.push(&format!(" LEFT JOIN countries c ON c.id = {org}.country_id"));
    }
    if dimensions.contains(&Dimension::Region) {
        region_join(&mut sql, geography, org, "sp.valid_from");
    }
    if let Some(filter) = placements {
        sql.push(" WHERE sp.id IN (").embed(filter).push(")");
    }
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
