//! The analysts' root fields: group-by aggregates over projects, partnerships and placements,
//! and `compare` (regions × periods). Resolvers only translate arguments; the SQL is in
//! `db::queries::aggregate` and `db::queries::metrics`, disclosure control in `domain::privacy`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use entity::{programme, region};
use sea_orm::sea_query::{PostgresQueryBuilder, SelectStatement};

use super::direct::Direct;
use super::error::{OrInternal, bad_input, not_found};
use super::loaders::{ProgrammeById, RegionById};
use super::query::{PlacementFilter, ProjectFilter, analytics_db, db};
use super::types::common::{
    Date, OrganisationKind, PeriodInput, PeriodOutput, RegionKind, SuppressedCount, as_of_or_today, loader,
};
use super::types::geography::Region;
use super::types::metrics::Metrics;
use super::types::work::Programme;
use crate::db::queries::aggregate::{self, Dimension, Geography, GeographyDay, GroupKeys, MAX_GROUPS};
use crate::db::queries::lists;
use crate::domain::metrics::NodeKind;
use crate::domain::privacy::{part_withheld, suppressed_cells};

/// At most this many regions, and periods, in one `compare`.
const MAX_COMPARED: usize = 50;

#[derive(Default)]
pub struct AnalyticsQuery;

/// What to group by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateDimension {
    /// The organisation's country (code).
    Country,
    /// The region of `geography.regionKinds` that the organisation's seat belonged to.
    Region,
    /// Placements only: the region of the student's enrolling organisation (whatever `side`).
    HomeRegion,
    /// Placements only: the region of the host organisation (whatever `side`).
    HostRegion,
    Programme,
    OrganisationKind,
    /// Start year (of the project; of the placement).
    Year,
    /// Project: acting partners in more than one country. Placement: host and enrolling
    /// organisation in different countries.
    CrossBorder,
}

impl From<AggregateDimension> for Dimension {
    fn from(dimension: AggregateDimension) -> Self {
        match dimension {
            AggregateDimension::Country => Self::Country,
            AggregateDimension::Region => Self::Region,
            AggregateDimension::HomeRegion => Self::HomeRegion,
            AggregateDimension::HostRegion => Self::HostRegion,
            AggregateDimension::Programme => Self::Programme,
            AggregateDimension::OrganisationKind => Self::OrganisationKind,
            AggregateDimension::Year => Self::Year,
            AggregateDimension::CrossBorder => Self::CrossBorder,
        }
    }
}

/// Which map region keys come from.
#[derive(InputObject, Default)]
pub struct GeographyInput {
    /// Region kinds to group by; they should partition the map (default FYLKE and LAN).
    pub region_kinds: Option<Vec<RegionKind>>,
    /// Memberships valid on this day (default today): one map for every year of a series.
    pub as_of: Option<Date>,
    /// Instead, each row's own start date: the map as it was when the project or placement began.
    #[graphql(default)]
    pub at_row_date: bool,
}

impl GeographyInput {
    fn into_db(self) -> Geography {
        let kinds = self.region_kinds.unwrap_or_else(|| vec![RegionKind::Fylke, RegionKind::Lan]);
        let day = as_of_or_today(self.as_of);
        Geography {
            region_kinds: kinds.into_iter().map(|k| entity::enums::RegionKind::from(k).as_str().to_owned()).collect(),
            day: if self.at_row_date { GeographyDay::RowDate(day) } else { GeographyDay::On(day) },
        }
    }
}

/// Which organisation of a placement the organisation dimensions describe.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlacementSide {
    #[default]
    Host,
    /// The student's enrolling organisation.
    Home,
}

fn dimensions(group_by: Vec<AggregateDimension>) -> Vec<Dimension> {
    let mut dimensions: Vec<Dimension> = Vec::new();
    for dimension in group_by {
        let dimension = dimension.into();
        if !dimensions.contains(&dimension) {
            dimensions.push(dimension);
        }
    }
    dimensions
}

fn too_many<T>(rows: &[T]) -> Result<()> {
    if rows.len() > MAX_GROUPS {
        return Err(bad_input(
            "groupBy",
            format!("more than {MAX_GROUPS} groups: filter further or group more coarsely"),
        ));
    }
    Ok(())
}

/// The regions and programmes an aggregate's keys name, loaded with one loader call for all
/// its groups: thousands of groups each awaiting the loader per key cost more than the SQL.
#[derive(Default)]
struct KeyNames {
    regions: HashMap<i32, region::Model>,
    programmes: HashMap<i32, programme::Model>,
}

impl KeyNames {
    async fn load<'a>(ctx: &Context<'_>, groups: impl Iterator<Item = &'a GroupKeys>) -> Result<Arc<Self>> {
        let (mut region_ids, mut programme_ids) = (BTreeSet::new(), BTreeSet::new());
        for keys in groups {
            region_ids.extend([keys.region_id, keys.home_region_id, keys.host_region_id].into_iter().flatten());
            programme_ids.extend(keys.programme_id);
        }
        let regions = loader(ctx).load_many(region_ids.into_iter().map(RegionById)).await.or_internal()?;
        let programmes = loader(ctx).load_many(programme_ids.into_iter().map(ProgrammeById)).await.or_internal()?;
        Ok(Arc::new(Self {
            regions: regions.into_iter().map(|(RegionById(id), model)| (id, model)).collect(),
            programmes: programmes.into_iter().map(|(ProgrammeById(id), model)| (id, model)).collect(),
        }))
    }

    fn region(&self, id: Option<i32>) -> Option<Direct<Region>> {
        id.and_then(|id| self.regions.get(&id)).cloned().map(|model| Direct(Region(model)))
    }
}

/// The keys of a group; keys not grouped by are null.
pub struct AggregateKeys {
    keys: GroupKeys,
    names: Arc<KeyNames>,
}

#[Object]
impl AggregateKeys {
    async fn country(&self) -> Option<&str> {
        self.keys.country.as_deref()
    }

    async fn region(&self) -> Option<Direct<Region>> {
        self.names.region(self.keys.region_id)
    }

    /// The student's enrolling organisation's region (placements grouped by `HOME_REGION`).
    async fn home_region(&self) -> Option<Direct<Region>> {
        self.names.region(self.keys.home_region_id)
    }

    /// The host organisation's region (placements grouped by `HOST_REGION`).
    async fn host_region(&self) -> Option<Direct<Region>> {
        self.names.region(self.keys.host_region_id)
    }

    async fn programme(&self) -> Option<Direct<Programme>> {
        self.keys
            .programme_id
            .and_then(|id| self.names.programmes.get(&id))
            .cloned()
            .map(|model| Direct(Programme(model)))
    }

    async fn organisation_kind(&self) -> Option<OrganisationKind> {
        self.keys.organisation_kind.as_deref().and_then(entity::enums::OrganisationKind::parse).map(Into::into)
    }

    async fn year(&self) -> Option<i32> {
        self.keys.year
    }

    async fn cross_border(&self) -> Option<bool> {
        self.keys.cross_border
    }
}

/// Budget totals in EUR over the distinct projects of a group.
#[derive(SimpleObject)]
pub struct BudgetStats {
    pub sum: Option<f64>,
    pub average: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Projects with a budget in a convertible currency.
    pub projects: i64,
}

impl From<aggregate::BudgetStats> for BudgetStats {
    fn from(stats: aggregate::BudgetStats) -> Self {
        Self { sum: stats.sum, average: stats.average, min: stats.min, max: stats.max, projects: stats.projects }
    }
}

/// A group of projects. A project counts once in every group its partners fall into, so the
/// groups of an organisation dimension add up to more than the whole.
pub struct ProjectGroup {
    group: aggregate::ParticipationGroup,
    names: Arc<KeyNames>,
}

#[Object]
impl ProjectGroup {
    async fn keys(&self) -> Direct<AggregateKeys> {
        Direct(AggregateKeys { keys: self.group.keys.clone(), names: self.names.clone() })
    }

    /// Distinct projects.
    async fn count(&self) -> i64 {
        self.group.projects
    }

    /// Their acting (non-funder) partner rows in the group.
    async fn partnerships(&self) -> i64 {
        self.group.partnerships
    }

    /// Distinct acting partner organisations in the group.
    async fn organisations(&self) -> i64 {
        self.group.organisations
    }

    async fn budget_eur(&self) -> Direct<BudgetStats> {
        Direct(self.group.budget.into())
    }

    /// Mean over the group's projects of their mean goal attainment (result ÷ target).
    async fn average_attainment(&self) -> Option<f64> {
        self.group.average_attainment
    }
}

/// A group of partnerships (acting partner rows).
pub struct PartnershipGroup {
    group: aggregate::ParticipationGroup,
    names: Arc<KeyNames>,
}

#[Object]
impl PartnershipGroup {
    async fn keys(&self) -> Direct<AggregateKeys> {
        Direct(AggregateKeys { keys: self.group.keys.clone(), names: self.names.clone() })
    }

    /// Partner rows.
    async fn count(&self) -> i64 {
        self.group.partnerships
    }

    /// Distinct projects.
    async fn projects(&self) -> i64 {
        self.group.projects
    }

    /// Distinct organisations.
    async fn organisations(&self) -> i64 {
        self.group.organisations
    }

    /// Budgets of the distinct projects (each once per group).
    async fn budget_eur(&self) -> Direct<BudgetStats> {
        Direct(self.group.budget.into())
    }
}

/// A group of student placements. For the public, groups below k = 5 students are withheld,
/// and so is the smallest neighbour of any withheld group that could otherwise be recovered by
/// subtraction (see `withheldGroups`).
pub struct PlacementGroup {
    group: aggregate::PlacementGroup,
    names: Arc<KeyNames>,
    withheld: bool,
    trusted: bool,
}

impl PlacementGroup {
    fn count(&self, value: i64, part_of: Option<i64>) -> Direct<SuppressedCount> {
        let hidden = !self.trusted && (self.withheld || part_of.is_some_and(|total| part_withheld(value, total)));
        Direct(SuppressedCount { value: (!hidden).then_some(value), suppressed: hidden })
    }
}

#[Object]
impl PlacementGroup {
    async fn keys(&self) -> Direct<AggregateKeys> {
        Direct(AggregateKeys { keys: self.group.keys.clone(), names: self.names.clone() })
    }

    async fn placements(&self) -> Direct<SuppressedCount> {
        self.count(self.group.placements, None)
    }

    /// Distinct students.
    async fn students(&self) -> Direct<SuppressedCount> {
        self.count(self.group.students, None)
    }

    /// Placements whose host and enrolling organisations are in different countries (withheld
    /// also when the rest of the group would be below k).
    async fn cross_border(&self) -> Direct<SuppressedCount> {
        self.count(self.group.cross_border, Some(self.group.placements))
    }
}

/// An aggregate's groups, ordered by their keys.
#[derive(SimpleObject)]
#[graphql(concrete(name = "ProjectAggregate", params(ProjectGroup)))]
#[graphql(concrete(name = "PartnershipAggregate", params(PartnershipGroup)))]
#[graphql(concrete(name = "PlacementAggregate", params(PlacementGroup)))]
pub struct Aggregate<T: async_graphql::OutputType + async_graphql::ContainerType> {
    pub rows: Vec<Direct<T>>,
    /// Groups withheld from this caller (always 0 for analysts and up).
    pub withheld_groups: i64,
}

/// One region's metrics over each period of a `compare`.
#[derive(SimpleObject)]
pub struct ComparisonRow {
    pub region: Region,
    /// One cell per period, in the order asked.
    pub cells: Vec<ComparisonCell>,
}

#[derive(SimpleObject)]
pub struct ComparisonCell {
    pub period: PeriodOutput,
    pub metrics: Metrics,
}

/// A filter subquery as text with its values inlined: part of a cache key.
fn statement_text(filter: Option<&SelectStatement>) -> String {
    filter.map(|select| select.to_string(PostgresQueryBuilder)).unwrap_or_default()
}

async fn participation(
    ctx: &Context<'_>,
    filter: Option<ProjectFilter>,
    group_by: Vec<AggregateDimension>,
    geography: Option<GeographyInput>,
) -> Result<Vec<aggregate::ParticipationGroup>> {
    let (period, rest) = match filter {
        Some(filter) => filter.into_db()?.split_period(),
        None => Default::default(),
    };
    let rest = match rest {
        Some(rest) => {
            let select = lists::projects_select(&rest);
            Some(crate::db::queries::ids_of(select, entity::project::Column::Id))
        }
        None => None,
    };
    let rows = ctx.look_ahead().field("rows");
    let measures = aggregate::ParticipationMeasures {
        budget: rows.field("budgetEur").exists(),
        attainment: rows.field("averageAttainment").exists(),
    };
    let dimensions = dimensions(group_by);
    if dimensions.iter().any(|d| matches!(d, Dimension::HomeRegion | Dimension::HostRegion)) {
        return Err(bad_input(
            "groupBy",
            "HOME_REGION and HOST_REGION group placements only; projects and partnerships group by REGION",
        ));
    }
    let geography = geography.unwrap_or_default().into_db();
    let key =
        format!("participation {period:?} {} {dimensions:?} {geography:?} {measures:?}", statement_text(rest.as_ref()));
    let rows = aggregate::Rows { period, rest: rest.as_ref() };
    let run = aggregate::participation(analytics_db(ctx), rows, &dimensions, &geography, measures);
    let groups = loader(ctx)
        .loader()
        .cached(key, |groups: &Vec<_>| groups.len() * crate::db::cache::ROW_BYTES, run)
        .await
        .or_internal()?;
    too_many(&groups)?;
    Ok(groups)
}

#[Object]
impl AnalyticsQuery {
    /// Projects grouped by `groupBy` (none: one group of everything), filtered like `projects`.
    /// Example: cross-border projects and budgets per fylke and län per year:
    /// `projectAggregate(groupBy: [REGION, YEAR, CROSS_BORDER]) { rows { keys { region { name } year crossBorder } count budgetEur { sum } } }`.
    async fn project_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
    ) -> Result<Aggregate<ProjectGroup>> {
        let groups = participation(ctx, filter, group_by, geography).await?;
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let rows = groups.into_iter().map(|group| Direct(ProjectGroup { group, names: names.clone() })).collect();
        Ok(Aggregate { rows, withheld_groups: 0 })
    }

    /// Partnerships (acting partner rows of the filtered projects) grouped by `groupBy`.
    async fn partnership_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
    ) -> Result<Aggregate<PartnershipGroup>> {
        let groups = participation(ctx, filter, group_by, geography).await?;
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let rows = groups.into_iter().map(|group| Direct(PartnershipGroup { group, names: names.clone() })).collect();
        Ok(Aggregate { rows, withheld_groups: 0 })
    }

    /// Student placements grouped by `groupBy`, organisation dimensions on `side` (default the
    /// host). Counts are of students' placements, so the public sees them under k-anonymity with
    /// complementary suppression.
    async fn placement_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlacementFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
        #[graphql(default)] side: PlacementSide,
    ) -> Result<Aggregate<PlacementGroup>> {
        let (period, rest) = match filter {
            Some(filter) => filter.into_db()?.split_period(),
            None => Default::default(),
        };
        let rest = match rest {
            Some(rest) => {
                let select = lists::placements_select(&rest);
                Some(crate::db::queries::ids_of(select, entity::student_placement::Column::Id))
            }
            None => None,
        };
        let dimensions = dimensions(group_by);
        let side = match side {
            PlacementSide::Host => aggregate::PlacementSide::Host,
            PlacementSide::Home => aggregate::PlacementSide::Home,
        };
        let geography = geography.unwrap_or_default().into_db();
        let key =
            format!("placements {period:?} {} {dimensions:?} {geography:?} {side:?}", statement_text(rest.as_ref()));
        let rows = aggregate::Rows { period, rest: rest.as_ref() };
        let run = aggregate::placements(analytics_db(ctx), rows, &dimensions, &geography, side);
        let groups = loader(ctx)
            .loader()
            .cached(key, |groups: &Vec<_>| groups.len() * crate::db::cache::ROW_BYTES, run)
            .await
            .or_internal()?;
        too_many(&groups)?;
        let trusted = super::access::role_of(ctx) >= crate::auth::Role::Analyst;
        // Analysts and up see every count: no disclosure control to work out for them.
        let withheld = if trusted {
            vec![false; groups.len()]
        } else {
            let cells: Vec<(Vec<Option<String>>, i64)> =
                groups.iter().map(|g| (g.keys.as_strings(&dimensions), g.students)).collect();
            suppressed_cells(&cells)
        };
        let withheld_groups = withheld.iter().filter(|w| **w).count() as i64;
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let rows = groups
            .into_iter()
            .zip(withheld)
            .map(|(group, withheld)| Direct(PlacementGroup { group, names: names.clone(), withheld, trusted }))
            .collect();
        Ok(Aggregate { rows, withheld_groups })
    }

    /// A region × period matrix of metrics in one request: one row per region (in the order
    /// given), one cell per period. Every cell uses the memberships of `asOf` (default today),
    /// so periods before and after a reform are compared on the same map.
    async fn compare(
        &self,
        ctx: &Context<'_>,
        regions: Vec<String>,
        periods: Vec<PeriodInput>,
        as_of: Option<Date>,
    ) -> Result<Vec<ComparisonRow>> {
        if regions.is_empty() || regions.len() > MAX_COMPARED {
            return Err(bad_input("regions", format!("give between 1 and {MAX_COMPARED} region slugs")));
        }
        if periods.is_empty() || periods.len() > MAX_COMPARED {
            return Err(bad_input("periods", format!("give between 1 and {MAX_COMPARED} periods")));
        }
        let found = crate::db::queries::all_in::<region::Entity, _>(db(ctx), region::Column::Slug, &regions)
            .await
            .or_internal()?;
        let day = as_of_or_today(as_of);
        let mut rows = Vec::with_capacity(regions.len());
        for slug in &regions {
            let Some(model) = found.iter().find(|r| &r.slug == slug) else {
                return Err(not_found("region", slug));
            };
            let cells = periods
                .iter()
                .map(|period| {
                    let metrics = Metrics::new(NodeKind::Region, model.id, Some(*period), as_of, day)?;
                    Ok(ComparisonCell { period: metrics.0.period.into(), metrics })
                })
                .collect::<Result<Vec<_>>>()?;
            rows.push(ComparisonRow { region: Region(model.clone()), cells });
        }
        Ok(rows)
    }
}
