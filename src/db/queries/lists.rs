//! Filtered selections for the top-level lists and their orders. Each `*_select` returns a
//! `Select` the caller refines (`where:`), pages (`keyset`) and counts; the shorthand filters are
//! ANDed. [`ordering`] gives a list's sort keys; every order ends on the id.

use chrono::NaiveDate;
use entity::enums::{CollaborationKind, GoalKind, LifecycleStatus, OrganisationKind, PlacementKind, RegionKind};
use entity::*;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use super::filter;
use super::keyset::{KeyJoin, KeyKind, SortKey};

use super::{col, ids_where, overlaps, valid_on};
use crate::domain::metrics::Period;
use crate::domain::text::{LIKE_ESCAPE, contains_pattern, search_form};

/// What a list can be ordered by. Not every list has every field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    Name,
    Slug,
    Start,
    End,
    /// Projects: the headline budget in its own currency.
    Budget,
    /// Projects: the headline budget in euros.
    BudgetEur,
    /// Organisations: their partner rows; projects: their partners.
    Partnerships,
    /// Programmes: their projects; organisations: the projects they are partners in.
    Projects,
    /// How well the name matches the filter's `search`.
    Relevance,
    /// Regions and municipalities: projects active in a period (their metric).
    ActiveProjects,
    /// Regions and municipalities: cross-border projects active in a period.
    CrossBorderProjects,
}

impl SortField {
    /// A node metric, computed for the whole filtered list before the page is read.
    pub fn is_node_metric(self) -> bool {
        matches!(self, SortField::ActiveProjects | SortField::CrossBorderProjects)
    }
}

/// A node metric's value for every row of a list, and what it was computed for (the period
/// and day, part of the cursor's order label).
#[derive(Clone, Debug, Default)]
pub struct MetricValues {
    pub label: String,
    pub values: Vec<(i32, i64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self { field: SortField::Name, descending: false }
    }
}

/// The sort field is not available on this list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedSort {
    #[error("this list cannot be sorted by {0:?}")]
    Field(SortField),
    #[error("RELEVANCE needs a `search` in the filter that holds for every row")]
    NoSearch,
    #[error("a list is sorted by at most {MAX_SORT_KEYS} fields")]
    TooMany,
}

/// The most fields one `orderBy` may list.
pub const MAX_SORT_KEYS: usize = 4;

/// The lists, for their sort keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Countries,
    Regions,
    Municipalities,
    Organisations,
    Programmes,
    Projects,
    Goals,
    IndicatorValues,
    Collaborations,
    Sources,
    Students,
    Placements,
}

impl List {
    fn table(self) -> &'static str {
        match self {
            List::Countries => "countries",
            List::Regions => "regions",
            List::Municipalities => "municipalities",
            List::Organisations => "organisations",
            List::Programmes => "programmes",
            List::Projects => "projects",
            List::Goals => "goals",
            List::IndicatorValues => "indicator_values",
            List::Collaborations => "collaborations",
            List::Sources => "sources",
            List::Students => "students",
            List::Placements => "student_placements",
        }
    }

    fn column(self, field: SortField) -> Option<(&'static str, KeyKind)> {
        use KeyKind::{Date, Number, Text};
        use List::{
            Collaborations, Countries, Goals, IndicatorValues, Municipalities, Organisations, Placements, Programmes,
            Regions, Sources, Students,
        };
        use SortField::{Budget, BudgetEur, End, Name, Slug, Start};
        Some(match (self, field) {
            (Countries, Name) => ("name", Text),
            (Countries, Slug) => ("code", Text),
            (Sources, Name | Slug) => ("key", Text),
            (Goals, Name) | (IndicatorValues, Name) => ("text", Text),
            (Collaborations | Students | Placements, Name) => ("slug", Text),
            (Regions | Municipalities | Organisations | Programmes | List::Projects, Name) => ("name", Text),
            (Countries | Sources, _) => return None,
            (_, Slug) => ("slug", Text),
            (Municipalities, Start) => ("established_on", Date),
            (Municipalities, End) => ("dissolved_on", Date),
            (IndicatorValues, Start) => ("period_from", Date),
            (IndicatorValues, End) => ("period_to", Date),
            (Students, Start) => ("enrolled_from", Date),
            (Students, End) => ("enrolled_to", Date),
            (Goals, Start | End) => return None,
            (_, Start) => ("valid_from", Date),
            (_, End) => ("valid_to", Date),
            (List::Projects, Budget) => ("budget_total", Number),
            (List::Projects, BudgetEur) => ("budget_eur", Number),
            _ => return None,
        })
    }

    /// A count computed per row in the statement that reads the page (never per resolver).
    /// An organisation's counts are its row of `organisation_facts` (none: no partnerships),
    /// joined to the page.
    fn metric(self, field: SortField) -> Option<(Expr, Option<KeyJoin>)> {
        let table = self.table();
        let count = |from: &str, key: &str, what: &str| {
            (Expr::cust(format!("(SELECT COUNT({what}) FROM {from} m WHERE m.{key} = {table}.id)")), None)
        };
        let organisation_fact = |column: &str| {
            let join = KeyJoin { table: "organisation_facts", column: "organisation_id" };
            (Expr::cust(format!("COALESCE({}.{column}, 0)", join.alias())), Some(join))
        };
        match (self, field) {
            (List::Organisations, SortField::Partnerships) => Some(organisation_fact("partnerships")),
            (List::Projects, SortField::Partnerships) => Some(count("project_partners", "project_id", "*")),
            (List::Organisations, SortField::Projects) => Some(organisation_fact("projects")),
            (List::Programmes, SortField::Projects) => Some(count("projects", "programme_id", "*")),
            _ => None,
        }
    }

    fn has_search(self) -> bool {
        matches!(self, List::Regions | List::Municipalities | List::Organisations | List::Programmes | List::Projects)
    }
}

/// `CASE WHEN t.id = ? THEN ? … ELSE 0 END`: a metric computed beforehand, as a sort key (a
/// list of regions or municipalities holds at most a few thousand rows).
fn node_metric(table: &str, values: &[(i32, i64)]) -> Expr {
    let mut case = sea_orm::sea_query::CaseStatement::new();
    for (id, value) in values {
        case = case.case(col(table, "id").eq(*id), *value);
    }
    if values.is_empty() { Expr::val(0i64) } else { case.finally(0i64).into() }
}

/// An order of a list: its keys (the id, ascending, always breaks ties) and a label cursors
/// carry, so a cursor of one order is not used with another.
#[derive(Clone, Debug)]
pub struct Ordering {
    pub keys: Vec<SortKey>,
    pub label: String,
}

/// The order `sorts` ask for on `list` (by name when empty, or by relevance when the filter
/// holds a `search` for every row).
pub fn ordering(
    list: List,
    sorts: &[Sort],
    search: Option<&str>,
    metrics: &[Option<MetricValues>],
) -> Result<Ordering, UnsupportedSort> {
    if sorts.len() > MAX_SORT_KEYS {
        return Err(UnsupportedSort::TooMany);
    }
    let ranked = search.filter(|_| list.has_search());
    let defaults;
    let sorts = if sorts.is_empty() {
        defaults = match ranked {
            Some(_) => vec![Sort { field: SortField::Relevance, descending: false }, Sort::default()],
            None => vec![Sort::default()],
        };
        &defaults[..]
    } else {
        sorts
    };
    let mut keys = Vec::with_capacity(sorts.len());
    let mut label = Vec::with_capacity(sorts.len());
    for (i, sort) in sorts.iter().enumerate() {
        let key = if sort.field.is_node_metric() {
            let values = metrics.get(i).and_then(Option::as_ref);
            let values = values.filter(|_| matches!(list, List::Regions | List::Municipalities));
            let values = values.ok_or(UnsupportedSort::Field(sort.field))?;
            label.push(format!("{:?}({})", sort.field, values.label));
            SortKey {
                expr: node_metric(list.table(), &values.values),
                kind: KeyKind::Integer,
                descending: sort.descending,
                nullable: false,
                joins: None,
            }
        } else if sort.field == SortField::Relevance {
            let phrase = ranked.ok_or(UnsupportedSort::NoSearch)?;
            label.push(format!("relevance({})", crate::domain::text::search_phrase(phrase)));
            SortKey {
                expr: filter::search_rank(list.table(), phrase),
                kind: KeyKind::Integer,
                descending: sort.descending,
                nullable: false,
                joins: None,
            }
        } else if let Some(metric) = list.metric(sort.field) {
            label.push(format!("{:?}", sort.field));
            let (expr, joins) = metric;
            SortKey { expr, kind: KeyKind::Integer, descending: sort.descending, nullable: false, joins }
        } else {
            let (column, kind) = list.column(sort.field).ok_or(UnsupportedSort::Field(sort.field))?;
            label.push(column.to_owned());
            // Every text column a list sorts by is NOT NULL (names, slugs, codes, keys).
            SortKey {
                expr: col(list.table(), column),
                kind,
                descending: sort.descending,
                nullable: kind != KeyKind::Text,
                joins: None,
            }
        };
        if sort.descending
            && let Some(last) = label.last_mut()
        {
            last.push_str(" desc");
        }
        keys.push(key);
    }
    Ok(Ordering { keys, label: label.join(",") })
}

/// `table.column IN (SELECT id FROM countries WHERE code = ?)`.
fn in_country(table: &str, column: &str, code: &str) -> Condition {
    Condition::all().add(col(table, column).in_subquery(ids_where("countries", "code", &code.to_uppercase())))
}

/// `table.column IN (SELECT id FROM other WHERE slug = ?)`.
fn in_slug(table: &str, column: &str, other: &str, slug: &str) -> Condition {
    Condition::all().add(col(table, column).in_subquery(ids_where(other, "slug", slug)))
}

/// Municipalities that belong to the region `slug` (on `as_of`, or at any time when `None`).
fn municipality_ids_in_region(slug: &str, as_of: Option<NaiveDate>) -> SelectStatement {
    let mut query = Query::select();
    query
        .column((Alias::new("region_memberships"), Alias::new("municipality_id")))
        .from(Alias::new("region_memberships"))
        .inner_join(
            Alias::new("regions"),
            col("regions", "id").equals((Alias::new("region_memberships"), Alias::new("region_id"))),
        )
        .and_where(col("regions", "slug").eq(slug));
    if let Some(day) = as_of {
        query.cond_where(valid_on("region_memberships", "valid_from", "valid_to", day));
    }
    query.to_owned()
}

/// Projects by their acting partners: funders (often EU bodies) do not count for geography.
fn acting_partner_projects() -> SelectStatement {
    Query::select()
        .column((Alias::new("project_partners"), Alias::new("project_id")))
        .from(Alias::new("project_partners"))
        .inner_join(
            Alias::new("organisations"),
            col("organisations", "id").equals((Alias::new("project_partners"), Alias::new("organisation_id"))),
        )
        .and_where(col("project_partners", "role").ne("funder"))
        .to_owned()
}

/// The row's period overlaps [from, to]; rows whose period is entirely unknown do not match,
/// so "active in 2023" never includes projects the sources give no dates for.
fn dated_overlap(
    table: &str,
    from_column: &str,
    to_column: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Condition {
    overlaps(table, from_column, to_column, from, to)
        .add(Condition::any().add(col(table, from_column).is_not_null()).add(col(table, to_column).is_not_null()))
}

fn name_contains<E: EntityTrait>(select: Select<E>, column: E::Column, text: Option<&String>) -> Select<E> {
    match text {
        Some(text) => select.filter(contains_text(column, &search_form(text))),
        None => select,
    }
}

/// `column` holds `text` anywhere, wildcards in `text` taken literally (SeaORM's `contains`
/// passes `%` and `_` through as LIKE syntax).
fn contains_text<C: ColumnTrait>(column: C, text: &str) -> sea_orm::sea_query::SimpleExpr {
    column.like(sea_orm::sea_query::LikeExpr::new(contains_pattern(text)).escape(LIKE_ESCAPE))
}

fn verified<E: EntityTrait>(select: Select<E>, column: E::Column, flag: Option<bool>) -> Select<E> {
    match flag {
        Some(flag) => select.filter(column.eq(flag)),
        None => select,
    }
}

#[derive(Clone, Debug, Default)]
pub struct RegionFilter {
    pub name_contains: Option<String>,
    pub kinds: Option<Vec<RegionKind>>,
    pub country: Option<String>,
    /// Only regions that existed on this day.
    pub exists_on: Option<NaiveDate>,
    pub verified: Option<bool>,
}

/// A county or NUTS region with a gap in its existence (Telemark: fylke 08 until 2019, 40 from
/// 2024, nothing in between) exists on a day only when one of its own codes (its fylkesnummer,
/// länskod or NUTS code of its level) is valid that day; regions without such codes go by their
/// period alone.
fn own_code_on(day: NaiveDate) -> sea_orm::sea_query::SimpleExpr {
    let own = "CASE regions.kind WHEN 'fylke' THEN 'fylkesnummer' WHEN 'lan' THEN 'lanskod' ELSE regions.kind END";
    Expr::cust(format!(
        "(NOT EXISTS (SELECT 1 FROM region_codes rc WHERE rc.region_id = regions.id AND rc.scheme = {own}) \
         OR EXISTS (SELECT 1 FROM region_codes rc WHERE rc.region_id = regions.id AND rc.scheme = {own} \
         AND (rc.valid_from IS NULL OR rc.valid_from <= '{day}') AND (rc.valid_to IS NULL OR rc.valid_to >= '{day}')))"
    ))
}

pub fn regions_select(filter: &RegionFilter) -> Select<region::Entity> {
    let mut select = name_contains(region::Entity::find(), region::Column::SearchName, filter.name_contains.as_ref());
    if let Some(kinds) = &filter.kinds {
        select = select.filter(region::Column::Kind.is_in(kinds.iter().copied()));
    }
    if let Some(code) = &filter.country {
        select = select.filter(in_country("regions", "country_id", code));
    }
    if let Some(day) = filter.exists_on {
        select = select.filter(valid_on("regions", "valid_from", "valid_to", day)).filter(own_code_on(day));
    }
    select = verified(select, region::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct MunicipalityFilter {
    pub name_contains: Option<String>,
    pub country: Option<String>,
    /// Member of this region (slug), on `as_of` when given.
    pub region: Option<String>,
    pub as_of: Option<NaiveDate>,
    pub status: Option<LifecycleStatus>,
    pub verified: Option<bool>,
}

pub fn municipalities_select(filter: &MunicipalityFilter) -> Select<municipality::Entity> {
    let mut select =
        name_contains(municipality::Entity::find(), municipality::Column::SearchName, filter.name_contains.as_ref());
    if let Some(code) = &filter.country {
        select = select.filter(in_country("municipalities", "country_id", code));
    }
    if let Some(region) = &filter.region {
        select =
            select.filter(col("municipalities", "id").in_subquery(municipality_ids_in_region(region, filter.as_of)));
    } else if let Some(day) = filter.as_of {
        // Without a region, asOf keeps the municipalities that existed that day.
        select = select.filter(valid_on("municipalities", "established_on", "dissolved_on", day));
    }
    if let Some(status) = filter.status {
        select = select.filter(municipality::Column::Status.eq(status));
    }
    select = verified(select, municipality::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct OrganisationFilter {
    pub name_contains: Option<String>,
    pub kinds: Option<Vec<OrganisationKind>>,
    pub country: Option<String>,
    /// Seated in this municipality (slug).
    pub municipality: Option<String>,
    /// Seated in a municipality of this region (slug), on `as_of` when given.
    pub region: Option<String>,
    pub as_of: Option<NaiveDate>,
    pub verified: Option<bool>,
}

pub fn organisations_select(filter: &OrganisationFilter) -> Select<organisation::Entity> {
    let mut select =
        name_contains(organisation::Entity::find(), organisation::Column::SearchName, filter.name_contains.as_ref());
    if let Some(kinds) = &filter.kinds {
        select = select.filter(organisation::Column::Kind.is_in(kinds.iter().copied()));
    }
    if let Some(code) = &filter.country {
        select = select.filter(in_country("organisations", "country_id", code));
    }
    if let Some(slug) = &filter.municipality {
        select = select.filter(in_slug("organisations", "municipality_id", "municipalities", slug));
    }
    if let Some(region) = &filter.region {
        select = select.filter(
            col("organisations", "municipality_id").in_subquery(municipality_ids_in_region(region, filter.as_of)),
        );
    }
    select = verified(select, organisation::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct ProgrammeFilter {
    pub name_contains: Option<String>,
    pub country: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub verified: Option<bool>,
}

pub fn programmes_select(filter: &ProgrammeFilter) -> Select<programme::Entity> {
    let mut select =
        name_contains(programme::Entity::find(), programme::Column::SearchName, filter.name_contains.as_ref());
    if let Some(code) = &filter.country {
        select = select.filter(in_country("programmes", "country_id", code));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        select =
            select.filter(dated_overlap("programmes", "valid_from", "valid_to", filter.period_from, filter.period_to));
    }
    select = verified(select, programme::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectFilter {
    pub name_contains: Option<String>,
    pub programme: Option<String>,
    /// Has a (non-funder) partner in this country.
    pub country: Option<String>,
    /// Has a (non-funder) partner seated in this region, on `as_of` when given.
    pub region: Option<String>,
    pub as_of: Option<NaiveDate>,
    /// Partner organisation (slug).
    pub organisation: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub cross_border: Option<bool>,
    pub verified: Option<bool>,
}

impl ProjectFilter {
    /// The period apart from the rest of the filter (`None` when the period was all of it):
    /// aggregates read the period on their fact rows' own dates.
    pub fn split_period(mut self) -> (Period, Option<Self>) {
        let period = Period { from: self.period_from.take(), to: self.period_to.take() };
        (period, (self != Self::default()).then_some(self))
    }
}

pub fn projects_select(filter: &ProjectFilter) -> Select<project::Entity> {
    let mut select = name_contains(project::Entity::find(), project::Column::SearchName, filter.name_contains.as_ref());
    if let Some(slug) = &filter.programme {
        select = select.filter(in_slug("projects", "programme_id", "programmes", slug));
    }
    if let Some(code) = &filter.country {
        let in_country = acting_partner_projects()
            .and_where(col("organisations", "country_id").in_subquery(ids_where(
                "countries",
                "code",
                &code.to_uppercase(),
            )))
            .to_owned();
        select = select.filter(col("projects", "id").in_subquery(in_country));
    }
    if let Some(region) = &filter.region {
        let in_region = acting_partner_projects()
            .and_where(
                col("organisations", "municipality_id").in_subquery(municipality_ids_in_region(region, filter.as_of)),
            )
            .to_owned();
        select = select.filter(col("projects", "id").in_subquery(in_region));
    }
    if let Some(slug) = &filter.organisation {
        let with_partner = Query::select()
            .column((Alias::new("project_partners"), Alias::new("project_id")))
            .from(Alias::new("project_partners"))
            .and_where(col("project_partners", "organisation_id").in_subquery(ids_where("organisations", "slug", slug)))
            .to_owned();
        select = select.filter(col("projects", "id").in_subquery(with_partner));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        select =
            select.filter(dated_overlap("projects", "valid_from", "valid_to", filter.period_from, filter.period_to));
    }
    if let Some(cross_border) = filter.cross_border {
        let cross_border_ids = acting_partner_projects()
            .and_where(col("organisations", "country_id").is_not_null())
            .group_by_col((Alias::new("project_partners"), Alias::new("project_id")))
            .and_having(col("organisations", "country_id").count_distinct().gt(1))
            .to_owned();
        let id = col("projects", "id");
        select = select.filter(if cross_border {
            id.in_subquery(cross_border_ids)
        } else {
            id.not_in_subquery(cross_border_ids)
        });
    }
    select = verified(select, project::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct GoalFilter {
    pub project: Option<String>,
    pub kinds: Option<Vec<GoalKind>>,
    pub has_target: Option<bool>,
    pub text_contains: Option<String>,
    pub verified: Option<bool>,
}

pub fn goals_select(filter: &GoalFilter) -> Select<goal::Entity> {
    let mut select = goal::Entity::find();
    if let Some(slug) = &filter.project {
        select = select.filter(in_slug("goals", "project_id", "projects", slug));
    }
    if let Some(kinds) = &filter.kinds {
        select = select.filter(goal::Column::Kind.is_in(kinds.iter().copied()));
    }
    if let Some(has_target) = filter.has_target {
        select = select.filter(if has_target {
            goal::Column::TargetValue.is_not_null()
        } else {
            goal::Column::TargetValue.is_null()
        });
    }
    if let Some(text) = &filter.text_contains {
        select = select.filter(contains_text(goal::Column::Text, text));
    }
    select = verified(select, goal::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct IndicatorValueFilter {
    pub project: Option<String>,
    pub goal: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub verified: Option<bool>,
}

pub fn indicator_values_select(filter: &IndicatorValueFilter) -> Select<indicator_value::Entity> {
    let mut select = indicator_value::Entity::find();
    if let Some(slug) = &filter.project {
        select = select.filter(in_slug("indicator_values", "project_id", "projects", slug));
    }
    if let Some(slug) = &filter.goal {
        select = select.filter(in_slug("indicator_values", "goal_id", "goals", slug));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        select = select.filter(dated_overlap(
            "indicator_values",
            "period_from",
            "period_to",
            filter.period_from,
            filter.period_to,
        ));
    }
    select = verified(select, indicator_value::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct CollaborationFilter {
    pub organisation: Option<String>,
    pub project: Option<String>,
    pub kinds: Option<Vec<CollaborationKind>>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub verified: Option<bool>,
}

pub fn collaborations_select(filter: &CollaborationFilter) -> Select<collaboration::Entity> {
    let mut select = collaboration::Entity::find();
    if let Some(slug) = &filter.organisation {
        select =
            select.filter(
                Condition::any()
                    .add(in_slug("collaborations", "organisation_a_id", "organisations", slug))
                    .add(in_slug("collaborations", "organisation_b_id", "organisations", slug)),
            );
    }
    if let Some(slug) = &filter.project {
        select = select.filter(in_slug("collaborations", "project_id", "projects", slug));
    }
    if let Some(kinds) = &filter.kinds {
        select = select.filter(collaboration::Column::Kind.is_in(kinds.iter().copied()));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        select = select.filter(dated_overlap(
            "collaborations",
            "valid_from",
            "valid_to",
            filter.period_from,
            filter.period_to,
        ));
    }
    select = verified(select, collaboration::Column::Verified, filter.verified);
    select
}

#[derive(Clone, Debug, Default)]
pub struct SourceFilter {
    pub kind: Option<String>,
    pub key_contains: Option<String>,
}

pub fn sources_select(filter: &SourceFilter) -> Select<source::Entity> {
    let mut select = source::Entity::find();
    if let Some(kind) = &filter.kind {
        select = select.filter(source::Column::Kind.eq(kind.clone()));
    }
    if let Some(text) = &filter.key_contains {
        select = select.filter(contains_text(source::Column::Key, text));
    }
    select
}

pub fn countries_select() -> Select<country::Entity> {
    country::Entity::find()
}

#[derive(Clone, Debug, Default)]
pub struct StudentFilter {
    pub home_municipality: Option<String>,
    pub enrolling_organisation: Option<String>,
    pub enrolled_from: Option<NaiveDate>,
    pub enrolled_to: Option<NaiveDate>,
}

pub fn students_select(filter: &StudentFilter) -> Select<student::Entity> {
    let mut select = student::Entity::find();
    if let Some(slug) = &filter.home_municipality {
        select = select.filter(in_slug("students", "home_municipality_id", "municipalities", slug));
    }
    if let Some(slug) = &filter.enrolling_organisation {
        select = select.filter(in_slug("students", "enrolling_organisation_id", "organisations", slug));
    }
    if filter.enrolled_from.is_some() || filter.enrolled_to.is_some() {
        select = select.filter(dated_overlap(
            "students",
            "enrolled_from",
            "enrolled_to",
            filter.enrolled_from,
            filter.enrolled_to,
        ));
    }
    select
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlacementFilter {
    pub host_organisation: Option<String>,
    pub project: Option<String>,
    pub kinds: Option<Vec<PlacementKind>>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
}

impl PlacementFilter {
    /// The period apart from the rest of the filter, as `ProjectFilter::split_period`.
    pub fn split_period(mut self) -> (Period, Option<Self>) {
        let period = Period { from: self.period_from.take(), to: self.period_to.take() };
        (period, (self != Self::default()).then_some(self))
    }
}

pub fn placements_select(filter: &PlacementFilter) -> Select<student_placement::Entity> {
    let mut select = student_placement::Entity::find();
    if let Some(slug) = &filter.host_organisation {
        select = select.filter(in_slug("student_placements", "host_organisation_id", "organisations", slug));
    }
    if let Some(slug) = &filter.project {
        select = select.filter(in_slug("student_placements", "project_id", "projects", slug));
    }
    if let Some(kinds) = &filter.kinds {
        select = select.filter(student_placement::Column::Kind.is_in(kinds.iter().copied()));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        select = select.filter(dated_overlap(
            "student_placements",
            "valid_from",
            "valid_to",
            filter.period_from,
            filter.period_to,
        ));
    }
    select
}
