//! The root query: a lookup by slug and a filtered, sorted, paginated list for every entity.
//! Resolvers only translate arguments, call `crate::db::queries`, and wrap the rows.

use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, Result};
use entity::*;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::access::{Role, RoleGuard};
use super::compiled::{self, Compiled};
use super::error::{OrInternal, bad_input, not_found_by};
use super::filters::{self, *};
use super::pagination::{Page, PageArgs, page};
use super::types::actors::{Organisation, Placement, Student};
use super::types::common::*;
use super::types::geography::{Country, Municipality, Region};
use super::types::work::{Collaboration, Goal, IndicatorValue, Programme, Project};
use crate::db::queries::{self, filter, lists};

/// Which field a list is sorted by (which apply depends on the list).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "crate::db::queries::lists::SortField")]
pub enum SortField {
    #[default]
    Name,
    Slug,
    /// Start of the entity's period (validFrom, enrolledFrom…).
    Start,
    /// End of the entity's period.
    End,
    /// Headline budget in its own currency (projects only).
    Budget,
    /// Headline budget in euros (projects only); unknown budgets come last.
    BudgetEur,
    /// How many partner rows (organisations) or partners (projects): a count computed in the
    /// page's statement.
    Partnerships,
    /// How many projects (programmes; organisations: the projects they are partners in).
    Projects,
    /// How well the name matches the `search` of `where` (best first when ascending). The
    /// default order of a list whose `where` holds a `search` for every row.
    Relevance,
    /// Regions and municipalities: projects active in the sort key's `period`, with the map
    /// of its `asOf` (as `metrics(period, asOf).projects.activeProjects`).
    ActiveProjects,
    /// Regions and municipalities: cross-border projects active in the sort key's `period`
    /// (as `metrics(period, asOf).projects.crossBorderProjects`).
    CrossBorderProjects,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// One key of a list's order. `orderBy` takes up to four, most significant first; ties are
/// broken by id. Unknown values (NULL) come last in either direction, and text compares in
/// byte order, on both backends.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct SortOrder {
    #[graphql(default)]
    pub field: SortField,
    #[graphql(default)]
    pub direction: SortDirection,
    /// For metric fields: the period (default: all time).
    pub period: Option<PeriodInput>,
    /// For metric fields: the map's day (default: today).
    pub as_of: Option<Date>,
}

impl SortOrder {
    fn to_db(self) -> lists::Sort {
        lists::Sort { field: self.field.into(), descending: self.direction == SortDirection::Desc }
    }
}

/// The order of `list`, or `BAD_USER_INPUT` on `orderBy`. Node metrics (`ACTIVE_PROJECTS`…)
/// are computed here for every row `select` holds, one statement each.
async fn ordering<E: EntityTrait>(
    ctx: &Context<'_>,
    list: lists::List,
    select: &Select<E>,
    id: E::Column,
    order_by: Option<Vec<SortOrder>>,
    search: Option<&str>,
) -> Result<lists::Ordering> {
    let order_by = order_by.unwrap_or_default();
    let sorts: Vec<lists::Sort> = order_by.iter().copied().map(SortOrder::to_db).collect();
    let mut metrics = Vec::with_capacity(order_by.len());
    for (order, sort) in order_by.iter().zip(&sorts) {
        let kind = match list {
            lists::List::Regions => crate::domain::metrics::NodeKind::Region,
            lists::List::Municipalities => crate::domain::metrics::NodeKind::Municipality,
            _ => {
                metrics.push(None);
                continue;
            }
        };
        if !sort.field.is_node_metric() {
            metrics.push(None);
            continue;
        }
        let period = period_of(order.period, "orderBy.period")?;
        let day = as_of_or_today(order.as_of);
        let ids = queries::ids_of(select.clone(), id);
        let stats =
            queries::metrics::project_stats_of_all(analytics_db(ctx), ids, kind, period, day).await.or_internal()?;
        let values = stats
            .into_iter()
            .map(|(id, s)| {
                (
                    id,
                    if sort.field == lists::SortField::ActiveProjects {
                        s.active_projects
                    } else {
                        s.cross_border_projects
                    },
                )
            })
            .collect();
        metrics.push(Some(lists::MetricValues { label: format!("{period:?} {day}"), values }));
    }
    lists::ordering(list, &sorts, search, &metrics).map_err(|error| bad_input("orderBy", error.to_string()))
}

fn period(input: Option<PeriodInput>) -> Result<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
    let period = period_of(input, "period")?;
    Ok((period.from, period.to))
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct RegionFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
    pub kind_in: Option<Vec<RegionKind>>,
    /// ISO country code.
    pub country: Option<String>,
    /// Only regions that existed on this day.
    pub exists_on: Option<Date>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct MunicipalityFilter {
    pub name_contains: Option<String>,
    pub country: Option<String>,
    /// Member of this region (slug) — on `asOf` when given, at any time otherwise.
    pub region: Option<String>,
    pub as_of: Option<Date>,
    pub status: Option<LifecycleStatus>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct OrganisationFilter {
    pub name_contains: Option<String>,
    pub kind_in: Option<Vec<OrganisationKind>>,
    pub country: Option<String>,
    /// Seated in this municipality (slug).
    pub municipality: Option<String>,
    /// Seated in a municipality of this region (slug), on `asOf` when given.
    pub region: Option<String>,
    pub as_of: Option<Date>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct ProgrammeFilter {
    pub name_contains: Option<String>,
    pub country: Option<String>,
    pub period: Option<PeriodInput>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct ProjectFilter {
    pub name_contains: Option<String>,
    /// Programme slug.
    pub programme: Option<String>,
    /// Has an acting (non-funder) partner in this country.
    pub country: Option<String>,
    /// Has an acting partner seated in this region (slug), on `asOf` when given.
    pub region: Option<String>,
    pub as_of: Option<Date>,
    /// Has this partner organisation (slug).
    pub organisation: Option<String>,
    /// The project period overlaps this period.
    pub period: Option<PeriodInput>,
    pub cross_border: Option<bool>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct GoalFilter {
    pub project: Option<String>,
    pub kind_in: Option<Vec<GoalKind>>,
    pub has_target: Option<bool>,
    pub text_contains: Option<String>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct IndicatorValueFilter {
    pub project: Option<String>,
    pub goal: Option<String>,
    pub period: Option<PeriodInput>,
    pub verified: Option<bool>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct CollaborationFilter {
    /// Either side is this organisation (slug).
    pub organisation: Option<String>,
    pub project: Option<String>,
    pub kind_in: Option<Vec<CollaborationKind>>,
    pub period: Option<PeriodInput>,
    pub verified: Option<bool>,
}

#[derive(InputObject, Default)]
pub struct SourceFilter {
    pub kind: Option<String>,
    pub key_contains: Option<String>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct StudentFilter {
    pub home_municipality: Option<String>,
    pub enrolling_organisation: Option<String>,
    pub enrolled: Option<PeriodInput>,
}

/// Shorthand for a few common tests, ANDed; `where` is the full filter language.
#[derive(InputObject, Default)]
pub struct PlacementFilter {
    pub host_organisation: Option<String>,
    pub project: Option<String>,
    pub kind_in: Option<Vec<PlacementKind>>,
    pub period: Option<PeriodInput>,
}

impl ProjectFilter {
    /// The database filter; fails on a reversed period.
    pub fn into_db(self) -> Result<lists::ProjectFilter> {
        let (period_from, period_to) = period(self.period)?;
        Ok(lists::ProjectFilter {
            name_contains: filter_text("nameContains", self.name_contains)?,
            programme: self.programme,
            country: self.country,
            region: self.region,
            as_of: self.as_of.map(|d| d.0),
            organisation: self.organisation,
            period_from,
            period_to,
            cross_border: self.cross_border,
            verified: self.verified,
        })
    }
}

impl PlacementFilter {
    /// The database filter; fails on a reversed period.
    pub fn into_db(self) -> Result<lists::PlacementFilter> {
        let (period_from, period_to) = period(self.period)?;
        Ok(lists::PlacementFilter {
            host_organisation: self.host_organisation,
            project: self.project,
            kinds: into_entity(&self.kind_in),
            period_from,
            period_to,
        })
    }
}

pub(crate) fn db<'a>(ctx: &'a Context<'_>) -> &'a DatabaseConnection {
    &ctx.data_unchecked::<crate::db::Db>().conn
}

/// The analytics pool, for aggregates and network builds (see [`crate::db::Db::analytics`]).
pub(crate) fn analytics_db<'a>(ctx: &'a Context<'_>) -> &'a DatabaseConnection {
    &ctx.data_unchecked::<crate::db::Db>().analytics
}

/// Runs a list selection as one page: the shorthand `filter` (already in `select`), then
/// `where`, then the keyset window of `order_by`.
#[allow(clippy::too_many_arguments)]
async fn list<E, T, W>(
    ctx: &Context<'_>,
    select: Select<E>,
    id: E::Column,
    list: lists::List,
    table: &'static filter::Table,
    where_: Option<W>,
    order_by: Option<Vec<SortOrder>>,
    args: PageArgs,
    wrap: impl Fn(E::Model) -> T,
) -> Result<Page<T>>
where
    E: EntityTrait,
    E::Model: Sync,
    T: async_graphql::OutputType + async_graphql::ContainerType,
    W: filters::WhereInput,
{
    let (select, search) = match &where_ {
        Some(where_) => {
            let compiled = filters::compile(ctx, table, where_)?;
            (select.filter(compiled.condition), compiled.ranking_search)
        }
        None => (select, None),
    };
    let order = ordering(ctx, list, &select, id, order_by, search.as_deref()).await?;
    page(db(ctx), select, id, order, args, total_wanted(ctx), wrap).await
}

/// One row by its unique text key, or `NOT_FOUND`.
/// The row whose `column` equals `key`, or `NOT_FOUND` naming `what`.
pub(super) async fn by_key<E: EntityTrait>(
    ctx: &Context<'_>,
    what: &str,
    column: E::Column,
    key: &str,
) -> Result<E::Model> {
    by_column::<E>(ctx, what, "slug", column, key).await
}

/// The row whose `column` (called `key_name` in messages) is `key`, or `NOT_FOUND`.
async fn by_column<E: EntityTrait>(
    ctx: &Context<'_>,
    what: &str,
    key_name: &str,
    column: E::Column,
    key: &str,
) -> Result<E::Model> {
    queries::one_by::<E, _>(db(ctx), column, key).await.or_internal()?.ok_or_else(|| not_found_by(what, key_name, key))
}

/// Whether the list's selection asks for `totalCount`.
fn total_wanted(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

fn args(after: Option<String>, before: Option<String>, first: Option<i32>, last: Option<i32>) -> PageArgs {
    PageArgs { after, before, first, last }
}

/// The root query: the registry's lists and lookups (`RegistryQuery`) and the analysts' fields
/// (`analytics::AnalyticsQuery`).
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(RegistryQuery, super::analytics::AnalyticsQuery, super::network::NetworkQuery);

#[derive(Default)]
pub struct RegistryQuery;

#[Object]
impl RegistryQuery {
    /// A country by ISO code (`NO`, `SE`).
    async fn country(&self, ctx: &Context<'_>, code: String) -> Result<Country> {
        by_key::<country::Entity>(ctx, "country", country::Column::Code, &code.to_uppercase()).await.map(Country)
    }

    #[graphql(complexity = "super::cost::page(first, last, child_complexity)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn countries(
        &self,
        ctx: &Context<'_>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Country>> {
        let select = lists::countries_select();
        let order = ordering(ctx, lists::List::Countries, &select, country::Column::Id, order_by, None).await?;
        page(db(ctx), select, country::Column::Id, order, args(after, before, first, last), total_wanted(ctx), Country)
            .await
    }

    /// A region by slug, e.g. `reg-no-telemark`.
    /// One region, by its slug, or by a code valid on `asOf` (default today):
    /// `region(code: "38", scheme: FYLKESNUMMER, asOf: "2021-06-01")` is Vestfold og Telemark,
    /// `region(code: "NO034", scheme: NUTS3, asOf: "2016-06-01")` the NUTS-3 region Telemark.
    async fn region(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        code: Option<String>,
        scheme: Option<CodeScheme>,
        as_of: Option<Date>,
    ) -> Result<Region> {
        match (slug, code) {
            (Some(slug), None) => {
                by_key::<region::Entity>(ctx, "region", region::Column::Slug, &slug).await.map(Region)
            }
            (None, Some(code)) => {
                let scheme = scheme
                    .ok_or_else(|| bad_input("scheme", "a code needs its scheme (FYLKESNUMMER, LANSKOD, NUTS3…)"))?;
                let day = as_of_or_today(as_of);
                queries::geography::region_with_code(db(ctx), scheme.into(), code.trim(), day)
                    .await
                    .or_internal()?
                    .map(Region)
                    .ok_or_else(|| not_found_by("region", "code", &format!("{} on {day}", code.trim())))
            }
            _ => Err(bad_input("slug", "give exactly one of slug or code")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::REGIONS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn regions(
        &self,
        ctx: &Context<'_>,
        filter: Option<RegionFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<RegionWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Compiled<Page<Region>>> {
        let plain = filter.is_none()
            && where_.is_none()
            && order_by.is_none()
            && after.is_none()
            && before.is_none()
            && last.is_none();
        if plain && let Some(page) = compiled::regions(ctx, first).await? {
            return Ok(page);
        }
        let f = filter.unwrap_or_default();
        let filter = lists::RegionFilter {
            name_contains: filter_text("nameContains", f.name_contains)?,
            kinds: into_entity(&f.kind_in),
            country: f.country,
            exists_on: f.exists_on.map(|d| d.0),
            verified: f.verified,
        };
        list(
            ctx,
            lists::regions_select(&filter),
            region::Column::Id,
            lists::List::Regions,
            &filter::REGIONS,
            where_,
            order_by,
            args(after, before, first, last),
            Region,
        )
        .await
        .map(Compiled::Resolved)
    }

    /// A municipality by slug, e.g. `mun-no-nome`.
    /// One municipality, by its slug, or by the code it carried on `asOf` (default today;
    /// `scheme` KOMMUNENUMMER by default, KOMMUNKOD for Sweden): `municipality(code: "1504",
    /// asOf: "2019-06-01")` is Ålesund, which has been 1508 since 2024.
    async fn municipality(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        code: Option<String>,
        #[graphql(default_with = "CodeScheme::Kommunenummer")] scheme: CodeScheme,
        as_of: Option<Date>,
    ) -> Result<Municipality> {
        match (slug, code) {
            (Some(slug), None) => {
                by_key::<municipality::Entity>(ctx, "municipality", municipality::Column::Slug, &slug)
                    .await
                    .map(Municipality)
            }
            (None, Some(code)) => {
                let day = as_of_or_today(as_of);
                queries::geography::municipality_with_code(db(ctx), scheme.into(), code.trim(), day)
                    .await
                    .or_internal()?
                    .map(Municipality)
                    .ok_or_else(|| not_found_by("municipality", "code", &format!("{} on {day}", code.trim())))
            }
            _ => Err(bad_input("slug", "give exactly one of slug or code")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::MUNICIPALITIES)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        filter: Option<MunicipalityFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<MunicipalityWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Municipality>> {
        let f = filter.unwrap_or_default();
        let filter = lists::MunicipalityFilter {
            name_contains: filter_text("nameContains", f.name_contains)?,
            country: f.country,
            region: f.region,
            as_of: f.as_of.map(|d| d.0),
            status: f.status.map(Into::into),
            verified: f.verified,
        };
        list(
            ctx,
            lists::municipalities_select(&filter),
            municipality::Column::Id,
            lists::List::Municipalities,
            &filter::MUNICIPALITIES,
            where_,
            order_by,
            args(after, before, first, last),
            Municipality,
        )
        .await
    }

    /// An organisation by slug, e.g. `org-inspiria`; municipalities acting as partners are `org-<municipality slug>`.
    /// One organisation, by exactly one of: its slug, its organisation number (Norwegian
    /// organisasjonsnummer or Swedish organisationsnummer, in any usual spelling: `911 770 709`,
    /// `222000-1776`) or its ROR id (`05kb8h459` or `https://ror.org/05kb8h459`).
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        org_number: Option<String>,
        ror: Option<String>,
    ) -> Result<Organisation> {
        use crate::domain::identity;
        match (slug, org_number, ror) {
            (Some(slug), None, None) => {
                by_key::<organisation::Entity>(ctx, "organisation", organisation::Column::Slug, &slug).await
            }
            (None, Some(text), None) => {
                let number = identity::org_number(None, &text).map_err(|error| {
                    bad_input("orgNumber", error.message).extend_with(|_, e| e.set("rule", error.rule))
                })?;
                by_column::<organisation::Entity>(
                    ctx,
                    "organisation",
                    "orgNumber",
                    organisation::Column::OrgNumber,
                    &number,
                )
                .await
            }
            (None, None, Some(text)) => {
                let ror = identity::ror_id(&text)
                    .map_err(|error| bad_input("ror", error.message).extend_with(|_, e| e.set("rule", error.rule)))?;
                by_column::<organisation::Entity>(ctx, "organisation", "ror", organisation::Column::Ror, &ror).await
            }
            _ => Err(bad_input("slug", "give exactly one of slug, orgNumber or ror")),
        }
        .map(Organisation)
    }

    /// Which municipalities on `to` correspond to each code on `from` (either day may be the
    /// later one): a merger leads to the merged municipality, a split to every part, a
    /// renumbering to the new code. For whole columns: up to 2 000 codes per request.
    /// `scheme` is KOMMUNENUMMER (Norway, default) or KOMMUNKOD (Sweden).
    async fn translate_municipality_codes(
        &self,
        ctx: &Context<'_>,
        codes: Vec<String>,
        from: Date,
        to: Date,
        #[graphql(default_with = "CodeScheme::Kommunenummer")] scheme: CodeScheme,
    ) -> Result<Vec<super::types::history::CodeTranslation>> {
        const MAX_CODES: usize = 2_000;
        if codes.len() > MAX_CODES {
            return Err(bad_input("codes", format!("at most {MAX_CODES} codes per request ({} given)", codes.len())));
        }
        let scheme: entity::enums::CodeScheme = scheme.into();
        if !matches!(scheme, entity::enums::CodeScheme::Kommunenummer | entity::enums::CodeScheme::Kommunkod) {
            return Err(bad_input("scheme", "municipality codes are KOMMUNENUMMER or KOMMUNKOD"));
        }
        let history = queries::geography::code_history(db(ctx), scheme).await.or_internal()?;
        Ok(codes
            .into_iter()
            .map(|code| {
                let code = code.trim().to_owned();
                let translation = history.translate(&code, from.0, to.0);
                super::types::history::CodeTranslation {
                    code,
                    from,
                    to,
                    source: translation.source,
                    matches: translation.matches,
                }
            })
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::ORGANISATIONS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganisationFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<OrganisationWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Organisation>> {
        let f = filter.unwrap_or_default();
        let filter = lists::OrganisationFilter {
            name_contains: filter_text("nameContains", f.name_contains)?,
            kinds: into_entity(&f.kind_in),
            country: f.country,
            municipality: f.municipality,
            region: f.region,
            as_of: f.as_of.map(|d| d.0),
            verified: f.verified,
        };
        list(
            ctx,
            lists::organisations_select(&filter),
            organisation::Column::Id,
            lists::List::Organisations,
            &filter::ORGANISATIONS,
            where_,
            order_by,
            args(after, before, first, last),
            Organisation,
        )
        .await
    }

    async fn programme(&self, ctx: &Context<'_>, slug: String) -> Result<Programme> {
        by_key::<programme::Entity>(ctx, "programme", programme::Column::Slug, &slug).await.map(Programme)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::PROGRAMMES)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn programmes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProgrammeFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<ProgrammeWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Programme>> {
        let f = filter.unwrap_or_default();
        let (period_from, period_to) = period(f.period)?;
        let filter = lists::ProgrammeFilter {
            name_contains: filter_text("nameContains", f.name_contains)?,
            country: f.country,
            period_from,
            period_to,
            verified: f.verified,
        };
        list(
            ctx,
            lists::programmes_select(&filter),
            programme::Column::Id,
            lists::List::Programmes,
            &filter::PROGRAMMES,
            where_,
            order_by,
            args(after, before, first, last),
            Programme,
        )
        .await
    }

    /// A project by slug, e.g. `proj-scandinavian-science-cluster`.
    async fn project(&self, ctx: &Context<'_>, slug: String) -> Result<Project> {
        by_key::<project::Entity>(ctx, "project", project::Column::Slug, &slug).await.map(Project)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::PROJECTS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<ProjectWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Project>> {
        let filter = filter.unwrap_or_default().into_db()?;
        list(
            ctx,
            lists::projects_select(&filter),
            project::Column::Id,
            lists::List::Projects,
            &filter::PROJECTS,
            where_,
            order_by,
            args(after, before, first, last),
            Project,
        )
        .await
    }

    async fn goal(&self, ctx: &Context<'_>, slug: String) -> Result<Goal> {
        by_key::<goal::Entity>(ctx, "goal", goal::Column::Slug, &slug).await.map(Goal)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::GOALS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn goals(
        &self,
        ctx: &Context<'_>,
        filter: Option<GoalFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<GoalWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Goal>> {
        let f = filter.unwrap_or_default();
        let filter = lists::GoalFilter {
            project: f.project,
            kinds: into_entity(&f.kind_in),
            has_target: f.has_target,
            text_contains: f.text_contains,
            verified: f.verified,
        };
        list(
            ctx,
            lists::goals_select(&filter),
            goal::Column::Id,
            lists::List::Goals,
            &filter::GOALS,
            where_,
            order_by,
            args(after, before, first, last),
            Goal,
        )
        .await
    }

    async fn indicator_value(&self, ctx: &Context<'_>, slug: String) -> Result<IndicatorValue> {
        by_key::<indicator_value::Entity>(ctx, "indicator value", indicator_value::Column::Slug, &slug)
            .await
            .map(IndicatorValue)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::INDICATOR_VALUES)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        filter: Option<IndicatorValueFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<IndicatorValueWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<IndicatorValue>> {
        let f = filter.unwrap_or_default();
        let (period_from, period_to) = period(f.period)?;
        let filter = lists::IndicatorValueFilter {
            project: f.project,
            goal: f.goal,
            period_from,
            period_to,
            verified: f.verified,
        };
        list(
            ctx,
            lists::indicator_values_select(&filter),
            indicator_value::Column::Id,
            lists::List::IndicatorValues,
            &filter::INDICATOR_VALUES,
            where_,
            order_by,
            args(after, before, first, last),
            IndicatorValue,
        )
        .await
    }

    async fn collaboration(&self, ctx: &Context<'_>, slug: String) -> Result<Collaboration> {
        by_key::<collaboration::Entity>(ctx, "collaboration", collaboration::Column::Slug, &slug)
            .await
            .map(Collaboration)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::COLLABORATIONS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn collaborations(
        &self,
        ctx: &Context<'_>,
        filter: Option<CollaborationFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<CollaborationWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Collaboration>> {
        let f = filter.unwrap_or_default();
        let (period_from, period_to) = period(f.period)?;
        let filter = lists::CollaborationFilter {
            organisation: f.organisation,
            project: f.project,
            kinds: into_entity(&f.kind_in),
            period_from,
            period_to,
            verified: f.verified,
        };
        list(
            ctx,
            lists::collaborations_select(&filter),
            collaboration::Column::Id,
            lists::List::Collaborations,
            &filter::COLLABORATIONS,
            where_,
            order_by,
            args(after, before, first, last),
            Collaboration,
        )
        .await
    }

    /// A source by its catalogue key (seed file name, URL, `github:owner/repo`…).
    async fn source(&self, ctx: &Context<'_>, key: String) -> Result<Source> {
        by_key::<source::Entity>(ctx, "source", source::Column::Key, &key).await.map(Source::from)
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost::page(first, last, child_complexity)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    async fn sources(
        &self,
        ctx: &Context<'_>,
        filter: Option<SourceFilter>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Source>> {
        let f = filter.unwrap_or_default();
        let filter = lists::SourceFilter { kind: f.kind, key_contains: f.key_contains };
        let select = lists::sources_select(&filter);
        let order = ordering(ctx, lists::List::Sources, &select, source::Column::Id, order_by, None).await?;
        page(
            db(ctx),
            select,
            source::Column::Id,
            order,
            args(after, before, first, last),
            total_wanted(ctx),
            Source::from,
        )
        .await
    }

    /// The audit trail (admins only): committed changes after sequence number `after`, oldest
    /// first, optionally of one table (`projects`, `region_memberships`…).
    #[graphql(guard = "RoleGuard::new(Role::Admin)")]
    async fn change_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] after: i64,
        entity: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<ChangeEvent>> {
        let limit = super::types::nested_limit(first)?;
        let rows = crate::db::events::list(db(ctx), after, entity.as_deref(), limit as u64).await.or_internal()?;
        Ok(rows.into_iter().map(ChangeEvent).collect())
    }

    /// A pseudonymous student (analysts and up).
    #[graphql(guard = "RoleGuard::new(Role::Analyst)")]
    async fn student(&self, ctx: &Context<'_>, slug: String) -> Result<Student> {
        by_key::<student::Entity>(ctx, "student", student::Column::Slug, &slug).await.map(Student)
    }

    /// Pseudonymous students (analysts and up). The guard runs before the filter, so filters
    /// cannot be used to probe student data.
    #[graphql(guard = "RoleGuard::new(Role::Analyst)", complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::STUDENTS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    #[allow(clippy::too_many_arguments)]
    async fn students(
        &self,
        ctx: &Context<'_>,
        filter: Option<StudentFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<StudentWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Student>> {
        let f = filter.unwrap_or_default();
        let (enrolled_from, enrolled_to) = period(f.enrolled)?;
        let filter = lists::StudentFilter {
            home_municipality: f.home_municipality,
            enrolling_organisation: f.enrolling_organisation,
            enrolled_from,
            enrolled_to,
        };
        list(
            ctx,
            lists::students_select(&filter),
            student::Column::Id,
            lists::List::Students,
            &filter::STUDENTS,
            where_,
            order_by,
            args(after, before, first, last),
            Student,
        )
        .await
    }

    /// A student placement (analysts and up).
    #[graphql(guard = "RoleGuard::new(Role::Analyst)")]
    async fn placement(&self, ctx: &Context<'_>, slug: String) -> Result<Placement> {
        by_key::<student_placement::Entity>(ctx, "placement", student_placement::Column::Slug, &slug)
            .await
            .map(Placement)
    }

    #[graphql(guard = "RoleGuard::new(Role::Analyst)", complexity = "super::cost::page(first, last, child_complexity) + super::filters::cost(&where_, &filter::PLACEMENTS)", directive = super::cost::list_size::apply(Some(50), Some(vec!["first".into(), "last".into()]), Some(false)))]
    #[allow(clippy::too_many_arguments)]
    async fn placements(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlacementFilter>,
        #[graphql(
            name = "where",
            desc = "Analysts' filter: `and`/`or`/`not`, operators per field type, `some`/`none`/`every` on relations; ANDed with `filter` (the shorthand of a few common tests). At most 6 levels deep, 40 tests, 500 values per `in`; adds to the query cost (1 per indexed test, 5 per unindexed one, 3 per relation)."
        )]
        where_: Option<PlacementWhere>,
        order_by: Option<Vec<SortOrder>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Placement>> {
        let filter = filter.unwrap_or_default().into_db()?;
        list(
            ctx,
            lists::placements_select(&filter),
            student_placement::Column::Id,
            lists::List::Placements,
            &filter::PLACEMENTS,
            where_,
            order_by,
            args(after, before, first, last),
            Placement,
        )
        .await
    }
}

/// One committed change: the audit trail and the feed subscriptions read.
pub struct ChangeEvent(pub entity::event::Model);

#[Object]
impl ChangeEvent {
    /// Position in the feed; resume after it.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// The table changed (`projects`, `region_memberships`…).
    async fn entity(&self) -> &str {
        &self.0.entity
    }
    async fn entity_id(&self) -> i32 {
        self.0.entity_id
    }
    async fn slug(&self) -> Option<&str> {
        self.0.slug.as_deref()
    }
    /// `create`, `update`, `delete` or `end`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The row's version after the change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Who made it (token subject; `demo` or `cli` for local loads).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// When it committed (RFC 3339, UTC).
    async fn occurred_at(&self) -> String {
        self.0.occurred_at.to_rfc3339()
    }
    /// The row as JSON after the change (before it, for a delete).
    async fn data(&self) -> Option<&str> {
        self.0.data.as_deref()
    }
}
