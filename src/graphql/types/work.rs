//! Programmes, projects, partnerships, collaborations, goals and indicator values.

use async_graphql::{Context, Object, Result};
use entity::{collaboration, goal, indicator_value, programme, project, project_budget_line, project_partner};

use super::actors::{Organisation, Placement};
use super::common::{
    BudgetKind, CollaborationKind, Comparator, Date, GoalKind, PartnerRole, Source, date, load_one, source_of,
};
use super::geography::{Country, country_of};
use super::nested_limit;
use crate::graphql::access::{Role, RoleGuard};
use crate::graphql::direct::Direct;
use crate::graphql::loaders::*;

/// A funding programme (Interreg Sverige-Norge, ESF, Byregionprogrammet…).
pub struct Programme(pub programme::Model);

#[Object]
impl Programme {
    /// What the programme's projects did in `period` (default: all time).
    async fn metrics(
        &self,
        period: Option<super::common::PeriodInput>,
        as_of: Option<super::common::Date>,
    ) -> async_graphql::Result<super::metrics::Metrics> {
        super::metrics::Metrics::new(
            crate::domain::metrics::NodeKind::Programme,
            self.0.id,
            period,
            as_of,
            chrono::Utc::now().date_naive(),
        )
    }

    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn full_name(&self) -> Option<&str> {
        self.0.full_name.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    /// The period as the source words it.
    async fn period_text(&self) -> Option<&str> {
        self.0.period_text.as_deref()
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    /// Where in its source file the row came from (`organization.csv row 7`), for rows read
    /// from funders' files.
    async fn source_locator(&self) -> Option<&str> {
        self.0.source_locator.as_deref()
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Country>> {
        country_of(ctx, self.0.country_id).await
    }
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation_of(ctx, self.0.owner_organisation_id).await
    }
    async fn funder(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation_of(ctx, self.0.funder_organisation_id).await
    }
    /// Projects of the programme, by name.
    #[graphql(complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false)))]
    async fn projects(&self, ctx: &Context<'_>, #[graphql(default = 50)] first: i32) -> Result<Vec<Direct<Project>>> {
        let limit = nested_limit(first)?;
        let mut rows = load_one(ctx, ProjectsByProgramme(self.0.id)).await?.unwrap_or_default();
        rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(rows.into_iter().take(limit).map(|row| Direct(Project(row))).collect())
    }
    async fn project_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(load_one(ctx, ProjectCountByProgramme(self.0.id)).await?.unwrap_or(0))
    }
}

async fn organisation_of(ctx: &Context<'_>, id: Option<i32>) -> Result<Option<Organisation>> {
    match id {
        Some(id) => Ok(load_one(ctx, OrganisationById(id)).await?.map(Organisation)),
        None => Ok(None),
    }
}

/// A project: its period, budget, partners and goals. `crossBorder` and `countries` are derived
/// from the partners, never typed in.
pub struct Project(pub project::Model);

#[Object]
impl Project {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// First day of the project (for partial source dates, the earliest day they can mean).
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    /// Last day of the project (for partial source dates, the latest day they can mean).
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    /// True when the source gave the period only partly ("2015-autumn", "2018").
    async fn period_approximate(&self) -> bool {
        self.0.period_approximate
    }
    async fn period_text(&self) -> Option<&str> {
        self.0.period_text.as_deref()
    }
    /// The headline (approved) total budget.
    async fn budget_total(&self) -> Option<f64> {
        self.0.budget_total
    }
    async fn budget_currency(&self) -> Option<&str> {
        self.0.budget_currency.as_deref()
    }
    /// The headline budget in euros, at the ECB reference rate of the project's start (its end
    /// when the start is unknown); null when it cannot be converted (no date, or a currency the
    /// ECB table does not carry).
    async fn budget_eur(&self) -> Option<f64> {
        self.0.budget_eur
    }
    /// The rate used: units of `budgetCurrency` per euro (1 for EUR).
    async fn budget_eur_rate(&self) -> Option<f64> {
        self.0.budget_eur_rate
    }
    /// The ECB business day whose rate was used (null for EUR).
    async fn budget_rate_date(&self) -> Option<Date> {
        date(self.0.budget_rate_date)
    }
    /// Why the rate's day differs from the budget's own day, when it does: a weekend or holiday
    /// (the last rate before it), or a day past the end of the shipped table (its last rate).
    async fn budget_rate_note(&self) -> Option<String> {
        let rate_date = self.0.budget_rate_date?;
        let wanted = self.0.valid_from.or(self.0.valid_to)?;
        let table_end = crate::domain::currency::ecb().last_day();
        if table_end.is_some_and(|end| wanted > end) {
            Some(format!(
                "{wanted} is after the last day of the shipped ECB table; its last rate ({rate_date}) is used"
            ))
        } else if rate_date < wanted {
            Some(format!("no ECB rate on {wanted}; the last one before it ({rate_date}) is used"))
        } else if rate_date > wanted {
            Some(format!("{wanted} is before the ECB table begins; its first rate ({rate_date}) is used"))
        } else {
            None
        }
    }
    async fn budget_verified(&self) -> bool {
        self.0.budget_verified
    }
    async fn budget_source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.budget_source_id).await
    }
    /// Every budget figure the sources give (approved and final totals, EU and national shares).
    async fn budget_lines(&self, ctx: &Context<'_>) -> Result<Vec<Direct<BudgetLine>>> {
        let rows = load_one(ctx, BudgetLinesByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(BudgetLine(row))).collect())
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    /// Where in its source file the row came from (`organization.csv row 7`), for rows read
    /// from funders' files.
    async fn source_locator(&self) -> Option<&str> {
        self.0.source_locator.as_deref()
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        match self.0.programme_id {
            Some(id) => Ok(load_one(ctx, ProgrammeById(id)).await?.map(Programme)),
            None => Ok(None),
        }
    }
    /// Partners with their roles; `roles` narrows to some roles.
    async fn partners(&self, ctx: &Context<'_>, roles: Option<Vec<PartnerRole>>) -> Result<Vec<ProjectPartner>> {
        let rows = load_one(ctx, PartnersByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|p| {
                roles.as_ref().is_none_or(|roles| roles.iter().any(|r| entity::enums::PartnerRole::from(*r) == p.role))
            })
            .map(ProjectPartner)
            .collect())
    }
    async fn partner_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(load_one(ctx, PartnerCountByProject(self.0.id)).await?.unwrap_or(0))
    }
    /// Countries of the acting partners (funders excluded), ISO codes sorted.
    async fn countries(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(load_one(ctx, CountriesByProject(self.0.id)).await?.unwrap_or_default())
    }
    /// True when the acting partners are in more than one country.
    async fn cross_border(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(load_one(ctx, CountriesByProject(self.0.id)).await?.unwrap_or_default().len() > 1)
    }
    async fn goals(&self, ctx: &Context<'_>, kinds: Option<Vec<GoalKind>>) -> Result<Vec<Goal>> {
        let rows = load_one(ctx, GoalsByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|g| {
                kinds.as_ref().is_none_or(|kinds| kinds.iter().any(|k| entity::enums::GoalKind::from(*k) == g.kind))
            })
            .map(Goal)
            .collect())
    }
    async fn goal_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(load_one(ctx, GoalCountByProject(self.0.id)).await?.unwrap_or(0))
    }
    /// Every measured value of the project, including figures not tied to a goal.
    async fn indicator_values(&self, ctx: &Context<'_>) -> Result<Vec<Direct<IndicatorValue>>> {
        let rows = load_one(ctx, IndicatorValuesByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(IndicatorValue(row))).collect())
    }
    async fn collaborations(&self, ctx: &Context<'_>) -> Result<Vec<Direct<Collaboration>>> {
        let rows = load_one(ctx, CollaborationsByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(Collaboration(row))).collect())
    }
    /// Student placements within the project (analysts and up).
    #[graphql(
        guard = "RoleGuard::new(Role::Analyst)",
        complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false))
    )]

    async fn placements(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Direct<Placement>>> {
        let limit = nested_limit(first)?;
        let rows = load_one(ctx, PlacementsByProject(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().take(limit).map(|row| Direct(Placement(row))).collect())
    }
}

/// One budget figure of a project.
pub struct BudgetLine(pub project_budget_line::Model);

#[Object]
impl BudgetLine {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn kind(&self) -> BudgetKind {
        self.0.kind.into()
    }
    /// The figure as the source labels it, e.g. "total (approved)".
    async fn label(&self) -> &str {
        &self.0.label
    }
    async fn amount(&self) -> f64 {
        self.0.amount
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// True for a final account rather than an approved budget.
    async fn is_final(&self) -> bool {
        self.0.is_final
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    /// Where in its source file the row came from (`organization.csv row 7`), for rows read
    /// from funders' files.
    async fn source_locator(&self) -> Option<&str> {
        self.0.source_locator.as_deref()
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

/// An organisation's part in a project.
pub struct ProjectPartner(pub project_partner::Model);

#[Object]
impl ProjectPartner {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn role(&self) -> PartnerRole {
        self.0.role.into()
    }
    /// The role as the source words it.
    async fn role_label(&self) -> Option<&str> {
        self.0.role_label.as_deref()
    }
    async fn budget_share(&self) -> Option<f64> {
        self.0.budget_share
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(load_one(ctx, ProjectById(self.0.project_id)).await?.map(Project))
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation_of(ctx, Some(self.0.organisation_id)).await
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    /// Where in its source file the row came from (`organization.csv row 7`), for rows read
    /// from funders' files.
    async fn source_locator(&self) -> Option<&str> {
        self.0.source_locator.as_deref()
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

/// An explicit, dated tie between two organisations.
pub struct Collaboration(pub collaboration::Model);

#[Object]
impl Collaboration {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn kind(&self) -> CollaborationKind {
        self.0.kind.into()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    async fn organisation_a(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation_of(ctx, Some(self.0.organisation_a_id)).await
    }
    async fn organisation_b(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation_of(ctx, Some(self.0.organisation_b_id)).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        match self.0.project_id {
            Some(id) => Ok(load_one(ctx, ProjectById(id)).await?.map(Project)),
            None => Ok(None),
        }
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

/// A project goal, with its numeric target when the source gives one.
pub struct Goal(pub goal::Model);

#[Object]
impl Goal {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn kind(&self) -> GoalKind {
        self.0.kind.into()
    }
    /// The kind as the source words it (resultatmål, effektmål, målbild…).
    async fn kind_label(&self) -> &str {
        &self.0.kind_label
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn target_value(&self) -> Option<f64> {
        self.0.target_value
    }
    async fn target_comparator(&self) -> Option<Comparator> {
        self.0.target_comparator.map(Into::into)
    }
    async fn target_unit(&self) -> Option<&str> {
        self.0.target_unit.as_deref()
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(load_one(ctx, ProjectById(self.0.project_id)).await?.map(Project))
    }
    /// Measured results for this goal.
    async fn indicator_values(&self, ctx: &Context<'_>) -> Result<Vec<Direct<IndicatorValue>>> {
        let rows = load_one(ctx, IndicatorValuesByGoal(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(IndicatorValue(row))).collect())
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

/// A measured result (value, comparator, unit, period).
pub struct IndicatorValue(pub indicator_value::Model);

#[Object]
impl IndicatorValue {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The result as the source words it.
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn value(&self) -> Option<f64> {
        self.0.value
    }
    async fn comparator(&self) -> Option<Comparator> {
        self.0.comparator.map(Into::into)
    }
    async fn approximate(&self) -> bool {
        self.0.approximate
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn period_from(&self) -> Option<Date> {
        date(self.0.period_from)
    }
    async fn period_to(&self) -> Option<Date> {
        date(self.0.period_to)
    }
    async fn period_text(&self) -> Option<&str> {
        self.0.period_text.as_deref()
    }
    async fn goal(&self, ctx: &Context<'_>) -> Result<Option<Goal>> {
        match self.0.goal_id {
            Some(id) => Ok(load_one(ctx, GoalById(id)).await?.map(Goal)),
            None => Ok(None),
        }
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(load_one(ctx, ProjectById(self.0.project_id)).await?.map(Project))
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}
