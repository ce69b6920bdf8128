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
use super::query::{PlacementFilter, ProjectFilter, SortDirection, analytics_db, db};
use super::types::common::{
    Date, OrganisationKind, PeriodInput, PeriodOutput, RegionKind, SuppressedCount, as_of_or_today, loader,
};
use super::types::geography::Region;
use super::types::metrics::Metrics;
use super::types::work::Programme;
use crate::db::queries::aggregate::{self, Dimension, Geography, GeographyDay, GroupKeys, MAX_GROUPS};
use crate::db::queries::lists;
use crate::domain::filter::Comparison;
use crate::domain::groups;
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
    /// A count as this caller sees it (`None` when withheld), by `PlacementGroupMeasure` index.
    fn visible(&self, measure: usize) -> Option<f64> {
        let count = match measure {
            0 => self.count(self.group.placements, None),
            1 => self.count(self.group.students, None),
            _ => self.count(self.group.cross_border, Some(self.group.placements)),
        };
        count.0.value.map(|v| v as f64)
    }

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

/// What a project group can be filtered and ordered by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectGroupMeasure {
    Count,
    Partnerships,
    Organisations,
    BudgetEurSum,
    BudgetEurAverage,
    BudgetEurMin,
    BudgetEurMax,
    ProjectsWithBudget,
    AverageAttainment,
}

/// What a partnership group can be filtered and ordered by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartnershipGroupMeasure {
    Count,
    Projects,
    Organisations,
    BudgetEurSum,
    BudgetEurAverage,
}

/// What a placement group can be filtered and ordered by. For the public a withheld count is
/// unknown: a condition on it is false and an order puts it last, so neither tells its value.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementGroupMeasure {
    Placements,
    Students,
    CrossBorder,
}

/// A condition on a group's measure (HAVING); given together, all must hold. An unknown value
/// (no budget; a count withheld from the caller) passes none.
#[derive(InputObject, Clone, Copy, Debug)]
#[graphql(
    concrete(name = "ProjectGroupHaving", params(ProjectGroupMeasure)),
    concrete(name = "PartnershipGroupHaving", params(PartnershipGroupMeasure)),
    concrete(name = "PlacementGroupHaving", params(PlacementGroupMeasure))
)]
pub struct GroupHaving<M: async_graphql::InputType + Copy> {
    pub measure: M,
    pub eq: Option<f64>,
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub between: Option<[f64; 2]>,
}

/// One key of the groups' order (default: largest first); ties keep key order.
#[derive(InputObject, Clone, Copy, Debug)]
#[graphql(
    concrete(name = "ProjectGroupOrder", params(ProjectGroupMeasure)),
    concrete(name = "PartnershipGroupOrder", params(PartnershipGroupMeasure)),
    concrete(name = "PlacementGroupOrder", params(PlacementGroupMeasure))
)]
pub struct GroupOrderInput<M: async_graphql::InputType + Copy> {
    pub measure: M,
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

/// The most conditions and order keys one aggregate takes.
const MAX_GROUP_TESTS: usize = 10;

/// `having`, `orderBy` and `top` as the domain's choice, with `index` numbering the measures.
fn group_choice<M: async_graphql::InputType + Copy>(
    having: Option<Vec<GroupHaving<M>>>,
    order_by: Option<Vec<GroupOrderInput<M>>>,
    top: Option<i32>,
    index: impl Fn(M) -> usize,
) -> Result<(Vec<groups::Having>, Vec<groups::GroupOrder>, Option<usize>)> {
    let having = having.unwrap_or_default();
    let order_by = order_by.unwrap_or_default();
    if having.len() > MAX_GROUP_TESTS || order_by.len() > MAX_GROUP_TESTS {
        return Err(bad_input(
            "having",
            format!("at most {MAX_GROUP_TESTS} conditions and {MAX_GROUP_TESTS} order keys"),
        ));
    }
    let mut conditions = Vec::new();
    for h in having {
        let measure = index(h.measure);
        let between = h.between.map(|[low, high]| Comparison::Between(low, high));
        let tests = [h.eq.map(Comparison::Eq), h.gt.map(Comparison::Gt), h.gte.map(Comparison::Gte)]
            .into_iter()
            .chain([h.lt.map(Comparison::Lt), h.lte.map(Comparison::Lte), between]);
        for comparison in tests.flatten() {
            let (low, high) = match comparison {
                Comparison::Between(low, high) => (low, high),
                Comparison::Eq(v) | Comparison::Gt(v) | Comparison::Gte(v) | Comparison::Lt(v) | Comparison::Lte(v) => {
                    (v, v)
                }
            };
            if !low.is_finite() || !high.is_finite() || low > high {
                return Err(bad_input("having", "numbers must be finite, and `between` needs its low end first"));
            }
            conditions.push(groups::Having { measure, comparison });
        }
    }
    let order = order_by
        .into_iter()
        .map(|o| groups::GroupOrder { measure: index(o.measure), descending: o.direction == SortDirection::Desc })
        .collect();
    let top = match top {
        None => None,
        Some(n) if n >= 1 && n as usize <= MAX_GROUPS => Some(n as usize),
        Some(_) => return Err(bad_input("top", format!("`top` is between 1 and {MAX_GROUPS}"))),
    };
    Ok((conditions, order, top))
}

fn participation_value(group: &aggregate::ParticipationGroup, measure: usize) -> Option<f64> {
    // The measure indexes of ProjectGroupMeasure and PartnershipGroupMeasure (see their `as usize`).
    match measure {
        0 => Some(group.projects as f64),
        1 => Some(group.partnerships as f64),
        2 => Some(group.organisations as f64),
        3 => group.budget.sum,
        4 => group.budget.average,
        5 => group.budget.min,
        6 => group.budget.max,
        7 => Some(group.budget.projects as f64),
        8 => group.average_attainment,
        _ => None,
    }
}

fn project_measure(measure: ProjectGroupMeasure) -> usize {
    measure as usize
}

fn partnership_measure(measure: PartnershipGroupMeasure) -> usize {
    match measure {
        PartnershipGroupMeasure::Count => 1,
        PartnershipGroupMeasure::Projects => 0,
        PartnershipGroupMeasure::Organisations => 2,
        PartnershipGroupMeasure::BudgetEurSum => 3,
        PartnershipGroupMeasure::BudgetEurAverage => 4,
    }
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
    #[allow(clippy::too_many_arguments)]
    async fn project_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
        #[graphql(desc = "Keep only the groups whose measures pass these conditions (HAVING), all of them.")]
        having: Option<Vec<GroupHaving<ProjectGroupMeasure>>>,
        #[graphql(desc = "Order the groups by measures (default: by their keys).")] order_by: Option<
            Vec<GroupOrderInput<ProjectGroupMeasure>>,
        >,
        #[graphql(desc = "Keep the first `top` groups (after `having` and `orderBy`).")] top: Option<i32>,
    ) -> Result<Aggregate<ProjectGroup>> {
        let (having, order, top) = group_choice(having, order_by, top, project_measure)?;
        let groups = participation(ctx, filter, group_by, geography).await?;
        let groups = groups::choose(groups, participation_value, &having, &order, top);
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let rows = groups.into_iter().map(|group| Direct(ProjectGroup { group, names: names.clone() })).collect();
        Ok(Aggregate { rows, withheld_groups: 0 })
    }

    /// Partnerships (acting partner rows of the filtered projects) grouped by `groupBy`.
    #[allow(clippy::too_many_arguments)]
    async fn partnership_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
        #[graphql(desc = "Keep only the groups whose measures pass these conditions (HAVING), all of them.")]
        having: Option<Vec<GroupHaving<PartnershipGroupMeasure>>>,
        #[graphql(desc = "Order the groups by measures (default: by their keys).")] order_by: Option<
            Vec<GroupOrderInput<PartnershipGroupMeasure>>,
        >,
        #[graphql(desc = "Keep the first `top` groups (after `having` and `orderBy`).")] top: Option<i32>,
    ) -> Result<Aggregate<PartnershipGroup>> {
        let (having, order, top) = group_choice(having, order_by, top, partnership_measure)?;
        let groups = participation(ctx, filter, group_by, geography).await?;
        let groups = groups::choose(groups, participation_value, &having, &order, top);
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let rows = groups.into_iter().map(|group| Direct(PartnershipGroup { group, names: names.clone() })).collect();
        Ok(Aggregate { rows, withheld_groups: 0 })
    }

    /// Student placements grouped by `groupBy`, organisation dimensions on `side` (default the
    /// host). Counts are of students' placements, so the public sees them under k-anonymity with
    /// complementary suppression.
    #[allow(clippy::too_many_arguments)]
    async fn placement_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlacementFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        geography: Option<GeographyInput>,
        #[graphql(default)] side: PlacementSide,
        #[graphql(
            desc = "Keep only the groups whose counts pass these conditions (HAVING). For the public a withheld count passes none, whatever its value."
        )]
        having: Option<Vec<GroupHaving<PlacementGroupMeasure>>>,
        #[graphql(
            desc = "Order the groups by counts (default: by their keys); withheld counts come last, in key order."
        )]
        order_by: Option<Vec<GroupOrderInput<PlacementGroupMeasure>>>,
        #[graphql(desc = "Keep the first `top` groups (after `having` and `orderBy`).")] top: Option<i32>,
    ) -> Result<Aggregate<PlacementGroup>> {
        let (having, order, top) = group_choice(having, order_by, top, |m| m as usize)?;
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
        // Disclosure control runs on every group first; `having` and `orderBy` then see only
        // what this caller may see (see `PlacementGroup::visible`).
        let names = KeyNames::load(ctx, groups.iter().map(|g| &g.keys)).await?;
        let groups: Vec<PlacementGroup> = groups
            .into_iter()
            .zip(withheld)
            .map(|(group, withheld)| PlacementGroup { group, names: names.clone(), withheld, trusted })
            .collect();
        let rows =
            groups::choose(groups, PlacementGroup::visible, &having, &order, top).into_iter().map(Direct).collect();
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
