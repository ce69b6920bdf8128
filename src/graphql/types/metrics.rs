//! `metrics(period, asOf)` on regions, municipalities, organisations, programmes and countries:
//! a lazy object whose field groups each load through their own DataLoader key, so a client pays
//! only for what it selects and a page of nodes costs one statement per group.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;

use super::common::{Date, OrganisationKind, PeriodInput, PeriodOutput, SuppressedCount, period_of};
use crate::domain::metrics::{GoalStats, NodeKind, PlacementStats, ProjectStats};
use crate::graphql::error::OrInternal;
use crate::graphql::loaders::{
    MetricsKey, MetricsLoader, OrganisationKindsOf, PlacementStatsOf, ProjectStatsOf, RegistryLoader,
    StudentsEnrolledOf,
};

/// Loads one metric group through the request's metrics loader (the ordinary loader where
/// there is none, as in tools that build their own context).
async fn load_metrics<K>(
    ctx: &Context<'_>,
    key: K,
) -> Result<Option<<RegistryLoader as async_graphql::dataloader::Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RegistryLoader: async_graphql::dataloader::Loader<K>,
    <RegistryLoader as async_graphql::dataloader::Loader<K>>::Error: std::fmt::Display,
{
    match ctx.data_opt::<MetricsLoader>() {
        Some(MetricsLoader(loader)) => loader.load_one(key).await.or_internal(),
        None => super::common::load_one(ctx, key).await,
    }
}

/// What a node did in a period. Projects count when their period overlaps it; organisations are
/// those seated in the node (for a region: in its municipalities on `asOf`; for a programme: the
/// acting partners of its projects). Student counts are suppressed below k = 5 for the public.
#[derive(Clone, Copy, Debug)]
pub struct Metrics(pub MetricsKey);

impl Metrics {
    /// Checks the arguments and builds the key; `as_of` defaults to `default_day`.
    pub fn new(
        kind: NodeKind,
        id: i32,
        period: Option<PeriodInput>,
        as_of: Option<Date>,
        default_day: NaiveDate,
    ) -> Result<Self> {
        let period = period_of(period, "period")?;
        Ok(Self(MetricsKey { kind, period, as_of: as_of.map_or(default_day, |d| d.0), id }))
    }

    async fn projects(&self, ctx: &Context<'_>) -> Result<ProjectStats> {
        Ok(load_metrics(ctx, ProjectStatsOf(self.0)).await?.unwrap_or_default())
    }

    async fn placements(&self, ctx: &Context<'_>) -> Result<PlacementStats> {
        Ok(load_metrics(ctx, PlacementStatsOf(self.0)).await?.unwrap_or_default())
    }
}

/// Organisations of one kind.
#[derive(SimpleObject)]
pub struct KindCount {
    pub kind: OrganisationKind,
    pub count: i64,
}

/// Results against numeric targets.
#[derive(SimpleObject)]
pub struct GoalAttainment {
    /// Mean of (latest result ÷ target) over measured goals with a positive numeric target
    /// (target ÷ result for "at most" targets); 1.0 means on target. Null when none is measured.
    pub average: Option<f64>,
    pub goals_with_target: i64,
    pub goals_without_target: i64,
    /// Goals with a target and at least one measured result.
    pub goals_measured: i64,
}

impl From<GoalStats> for GoalAttainment {
    fn from(stats: GoalStats) -> Self {
        Self {
            average: stats.average_attainment,
            goals_with_target: stats.goals_with_target,
            goals_without_target: stats.goals_without_target,
            goals_measured: stats.goals_measured,
        }
    }
}

#[Object]
impl Metrics {
    async fn period(&self) -> PeriodOutput {
        self.0.period.into()
    }

    /// The day whose region memberships decide which organisations a region holds.
    async fn as_of(&self) -> Date {
        Date(self.0.as_of)
    }

    /// Organisations of the node (all kinds).
    async fn organisations(&self, ctx: &Context<'_>) -> Result<i64> {
        let kinds = load_metrics(ctx, OrganisationKindsOf(self.0)).await?.unwrap_or_default();
        Ok(kinds.iter().map(|(_, n)| n).sum())
    }

    async fn organisations_by_kind(&self, ctx: &Context<'_>) -> Result<Vec<KindCount>> {
        let kinds = load_metrics(ctx, OrganisationKindsOf(self.0)).await?.unwrap_or_default();
        Ok(kinds
            .into_iter()
            .filter_map(|(kind, count)| {
                entity::enums::OrganisationKind::parse(&kind).map(|kind| KindCount { kind: kind.into(), count })
            })
            .collect())
    }

    /// Projects active in the period with a (non-funder) partner in the node.
    async fn active_projects(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.projects(ctx).await?.active_projects)
    }

    /// Partner rows of the node's organisations in those projects.
    async fn partnerships(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.projects(ctx).await?.partnerships)
    }

    /// Active projects whose acting partners are in more than one country.
    async fn cross_border_projects(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.projects(ctx).await?.cross_border_projects)
    }

    /// Cross-border projects ÷ active projects; null without active projects.
    async fn cross_border_share(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.projects(ctx).await?.cross_border_share())
    }

    /// Sum of the active projects' total budgets in EUR (fixed 2023 rates for NOK, SEK, DKK);
    /// each project counts once per node, whatever its share.
    async fn budget_total_eur(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(self.projects(ctx).await?.budget_total_eur)
    }

    /// Active projects whose budget is known in a convertible currency.
    async fn projects_with_budget(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.projects(ctx).await?.projects_with_budget)
    }

    async fn goal_attainment(&self, ctx: &Context<'_>) -> Result<GoalAttainment> {
        Ok(self.projects(ctx).await?.goals.into())
    }

    /// Students enrolled at the node's organisations during the period (for a programme:
    /// students placed within its projects).
    async fn students_enrolled(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        let count = load_metrics(ctx, StudentsEnrolledOf(self.0)).await?.unwrap_or(0);
        Ok(SuppressedCount::for_caller(ctx, count))
    }

    /// Placements hosted by the node's organisations (its own students included).
    async fn placements_in(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        Ok(SuppressedCount::for_caller(ctx, self.placements(ctx).await?.incoming))
    }

    /// Placements of the node's students at hosts outside it.
    async fn placements_out(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        Ok(SuppressedCount::for_caller(ctx, self.placements(ctx).await?.outgoing))
    }

    /// Of placements in and out, those whose host and enrolling organisation are in different
    /// countries.
    async fn cross_border_placements(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        Ok(SuppressedCount::for_caller(ctx, self.placements(ctx).await?.cross_border))
    }
}
