//! The root mutation: create, update (whole-row, with `expectedVersion`), delete or end for every
//! entity, relation edits, and the bulk import. Editors and up only. Resolvers translate input
//! objects into `domain::edits` drafts and call `db::write`; validation, transactions and change
//! events live there.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use entity::*;

use super::access::{Role, RoleGuard, actor_of};
use super::error::{OrCoded, OrInternal, bad_input};
use super::types::actors::{Organisation, Placement, Student};
use super::types::common::*;
use super::types::geography::{Code, Country, Municipality, Region, RegionLink, RegionMembership};
use super::types::work::{BudgetLine, Collaboration, Goal, IndicatorValue, Programme, Project, ProjectPartner};
use crate::db::Db;
use crate::db::write::{self, CodeOwner, CodeRow, Target};
use crate::domain::edits::*;

fn day(date: Option<Date>) -> Option<chrono::NaiveDate> {
    date.map(|d| d.0)
}

fn provenance(source: Option<String>, verified: bool) -> Provenance {
    Provenance { source, verified, locator: None }
}

fn target(slug: Option<String>, expected_version: Option<i32>) -> Target {
    match (slug, expected_version) {
        (Some(slug), Some(expected_version)) => Target::Update { slug, expected_version },
        _ => Target::Create,
    }
}

/// The database and the actor change events will name.
fn writer<'a>(ctx: &'a Context<'_>) -> Result<(&'a Db, String)> {
    Ok((ctx.data::<Db>()?, actor_of(ctx)))
}

// ------------------------------------------------------------------------------------- inputs

/// A source of facts (provenance catalogue entry).
#[derive(InputObject)]
pub struct SourceInput {
    pub key: String,
    pub kind: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub locator: Option<String>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct CountryInput {
    /// ISO 3166-1 alpha-2 (NO, SE).
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    #[graphql(default)]
    pub eu_member: bool,
    /// Key of the source the fact comes from.
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct RegionInput {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: RegionKind,
    /// Country code (NO, SE).
    pub country: Option<String>,
    #[graphql(default_with = "LifecycleStatus::Active")]
    pub status: LifecycleStatus,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub note: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct MunicipalityInput {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub established_on: Option<Date>,
    pub admin_centre: Option<String>,
    pub note: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct DissolutionInput {
    /// The first day the municipality no longer exists.
    pub dissolved_on: Date,
    /// Slug of the municipality that takes over.
    pub successor: Option<String>,
}

#[derive(InputObject)]
pub struct OrganisationInput {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub kind_label: Option<String>,
    pub country: Option<String>,
    /// Slug of the seat municipality.
    pub municipality: Option<String>,
    /// For kind MUNICIPALITY: slug of the municipality it stands for.
    pub represents_municipality: Option<String>,
    pub org_number: Option<String>,
    pub ror: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct ProgrammeInput {
    pub slug: String,
    pub name: String,
    pub full_name: Option<String>,
    pub country: Option<String>,
    /// Organisation slugs.
    pub owner: Option<String>,
    pub funder: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub period_text: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct ProjectInput {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    /// Programme slug.
    pub programme: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub period_text: Option<String>,
    #[graphql(default)]
    pub period_approximate: bool,
    pub budget_total: Option<f64>,
    /// ISO 4217 (EUR, NOK, SEK).
    pub budget_currency: Option<String>,
    pub budget_source: Option<String>,
    #[graphql(default)]
    pub budget_verified: bool,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct GoalInput {
    pub slug: String,
    /// Project slug.
    pub project: String,
    pub kind: GoalKind,
    pub kind_label: String,
    pub text: String,
    pub target_value: Option<f64>,
    pub target_comparator: Option<Comparator>,
    pub target_unit: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct IndicatorValueInput {
    pub slug: String,
    pub project: String,
    /// Slug of the goal it measures (of the same project).
    pub goal: Option<String>,
    pub text: String,
    pub value: Option<f64>,
    pub comparator: Option<Comparator>,
    #[graphql(default)]
    pub approximate: bool,
    pub unit: Option<String>,
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    pub period_text: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct CollaborationInput {
    pub slug: String,
    pub organisation_a: String,
    pub organisation_b: String,
    pub kind: CollaborationKind,
    pub project: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub description: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

/// A pseudonymous, synthetic student (the registry never holds real ones).
#[derive(InputObject)]
pub struct StudentInput {
    pub slug: String,
    pub home_municipality: Option<String>,
    pub enrolling_organisation: String,
    pub field_of_study: Option<String>,
    pub enrolled_from: Date,
    pub enrolled_to: Option<Date>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct PlacementInput {
    pub slug: String,
    pub student: String,
    /// Host organisation slug.
    pub host: String,
    pub project: Option<String>,
    pub kind: PlacementKind,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct PartnerInput {
    pub project: String,
    pub organisation: String,
    pub role: PartnerRole,
    pub role_label: Option<String>,
    /// The partner's share of the budget, in the project's currency; at most the project budget.
    pub budget_share: Option<f64>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct MembershipInput {
    pub municipality: String,
    pub region: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct CodeInput {
    pub scheme: CodeScheme,
    pub value: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// For NUTS codes of regions.
    pub nuts_version: Option<String>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct RegionParentInput {
    pub region: String,
    pub parent: String,
    pub nuts_version: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

#[derive(InputObject)]
pub struct BudgetLineInput {
    pub project: String,
    pub kind: BudgetKind,
    pub label: String,
    pub amount: f64,
    pub currency: String,
    #[graphql(default)]
    pub is_final: bool,
    pub source: Option<String>,
    #[graphql(default)]
    pub verified: bool,
}

// --------------------------------------------------------------------------------- to drafts

impl From<SourceInput> for SourceDraft {
    fn from(i: SourceInput) -> Self {
        Self { key: i.key, kind: i.kind, title: i.title, url: i.url, locator: i.locator, description: i.description }
    }
}

impl From<CountryInput> for CountryDraft {
    fn from(i: CountryInput) -> Self {
        Self {
            code: i.code,
            name: i.name,
            name_en: i.name_en,
            eu_member: i.eu_member,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<RegionInput> for RegionDraft {
    fn from(i: RegionInput) -> Self {
        Self {
            slug: i.slug,
            name: i.name,
            short_name: i.short_name,
            kind: i.kind.into(),
            country: i.country,
            status: i.status.into(),
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            note: i.note,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<MunicipalityInput> for MunicipalityDraft {
    fn from(i: MunicipalityInput) -> Self {
        Self {
            slug: i.slug,
            name: i.name,
            country: i.country,
            established_on: day(i.established_on),
            admin_centre: i.admin_centre,
            note: i.note,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<OrganisationInput> for OrganisationDraft {
    fn from(i: OrganisationInput) -> Self {
        Self {
            slug: i.slug,
            name: i.name,
            short_name: i.short_name,
            kind: i.kind.into(),
            kind_label: i.kind_label,
            country: i.country,
            municipality: i.municipality,
            represents_municipality: i.represents_municipality,
            org_number: i.org_number,
            ror: i.ror,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<ProgrammeInput> for ProgrammeDraft {
    fn from(i: ProgrammeInput) -> Self {
        Self {
            slug: i.slug,
            name: i.name,
            full_name: i.full_name,
            country: i.country,
            owner: i.owner,
            funder: i.funder,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            period_text: i.period_text,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<ProjectInput> for ProjectDraft {
    fn from(i: ProjectInput) -> Self {
        Self {
            slug: i.slug,
            name: i.name,
            short_name: i.short_name,
            programme: i.programme,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            period_text: i.period_text,
            period_approximate: i.period_approximate,
            budget_total: i.budget_total,
            budget_currency: i.budget_currency,
            budget_source: i.budget_source,
            budget_verified: i.budget_verified,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<GoalInput> for GoalDraft {
    fn from(i: GoalInput) -> Self {
        Self {
            slug: i.slug,
            project: i.project,
            kind: i.kind.into(),
            kind_label: i.kind_label,
            text: i.text,
            target_value: i.target_value,
            target_comparator: i.target_comparator.map(Into::into),
            target_unit: i.target_unit,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<IndicatorValueInput> for IndicatorValueDraft {
    fn from(i: IndicatorValueInput) -> Self {
        Self {
            slug: i.slug,
            project: i.project,
            goal: i.goal,
            text: i.text,
            value: i.value,
            comparator: i.comparator.map(Into::into),
            approximate: i.approximate,
            unit: i.unit,
            period_from: day(i.period_from),
            period_to: day(i.period_to),
            period_text: i.period_text,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<CollaborationInput> for CollaborationDraft {
    fn from(i: CollaborationInput) -> Self {
        Self {
            slug: i.slug,
            organisation_a: i.organisation_a,
            organisation_b: i.organisation_b,
            kind: i.kind.into(),
            project: i.project,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            description: i.description,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<StudentInput> for StudentDraft {
    fn from(i: StudentInput) -> Self {
        Self {
            slug: i.slug,
            home_municipality: i.home_municipality,
            enrolling_organisation: i.enrolling_organisation,
            field_of_study: i.field_of_study,
            enrolled_from: i.enrolled_from.0,
            enrolled_to: day(i.enrolled_to),
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<PlacementInput> for PlacementDraft {
    fn from(i: PlacementInput) -> Self {
        Self {
            slug: i.slug,
            student: i.student,
            host: i.host,
            project: i.project,
            kind: i.kind.into(),
            valid_from: i.valid_from.0,
            valid_to: day(i.valid_to),
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<PartnerInput> for PartnerDraft {
    fn from(i: PartnerInput) -> Self {
        Self {
            project: i.project,
            organisation: i.organisation,
            role: i.role.into(),
            role_label: i.role_label,
            budget_share: i.budget_share,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<MembershipInput> for MembershipDraft {
    fn from(i: MembershipInput) -> Self {
        Self {
            municipality: i.municipality,
            region: i.region,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<CodeInput> for CodeDraft {
    fn from(i: CodeInput) -> Self {
        Self {
            scheme: i.scheme.into(),
            value: i.value,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            nuts_version: i.nuts_version,
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<RegionParentInput> for RegionParentDraft {
    fn from(i: RegionParentInput) -> Self {
        Self {
            region: i.region,
            parent: i.parent,
            nuts_version: i.nuts_version,
            valid_from: day(i.valid_from),
            valid_to: day(i.valid_to),
            provenance: provenance(i.source, i.verified),
        }
    }
}

impl From<BudgetLineInput> for BudgetLineDraft {
    fn from(i: BudgetLineInput) -> Self {
        Self {
            project: i.project,
            kind: i.kind.into(),
            label: i.label,
            amount: i.amount,
            currency: i.currency,
            is_final: i.is_final,
            provenance: provenance(i.source, i.verified),
        }
    }
}

fn code(row: CodeRow) -> Code {
    match row {
        CodeRow::Region(row) => row.into(),
        CodeRow::Municipality(row) => row.into(),
    }
}

/// What a bulk import changed, per table and in total.
#[derive(SimpleObject)]
pub struct ImportResult {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub tables: Vec<TableImport>,
}

#[derive(SimpleObject)]
pub struct TableImport {
    pub table: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
}

// ----------------------------------------------------------------------------------- the root

/// Writes. Every field is one transaction; updates replace the whole row and need the
/// `expectedVersion` the client read (`CONFLICT` when the row changed meanwhile).
pub struct Mutation;

#[Object(guard = "RoleGuard::new(Role::Editor)")]
impl Mutation {
    // -- provenance and countries
    async fn create_source(&self, ctx: &Context<'_>, input: SourceInput) -> Result<Source> {
        let (db, actor) = writer(ctx)?;
        write::save_source(db, &actor, Target::Create, input.into()).await.map(Source::from).or_coded()
    }
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        key: String,
        expected_version: i32,
        input: SourceInput,
    ) -> Result<Source> {
        let (db, actor) = writer(ctx)?;
        write::save_source(db, &actor, target(Some(key), Some(expected_version)), input.into())
            .await
            .map(Source::from)
            .or_coded()
    }
    async fn create_country(&self, ctx: &Context<'_>, input: CountryInput) -> Result<Country> {
        let (db, actor) = writer(ctx)?;
        write::save_country(db, &actor, Target::Create, input.into()).await.map(Country).or_coded()
    }
    async fn update_country(
        &self,
        ctx: &Context<'_>,
        code: String,
        expected_version: i32,
        input: CountryInput,
    ) -> Result<Country> {
        let (db, actor) = writer(ctx)?;
        write::save_country(db, &actor, target(Some(code), Some(expected_version)), input.into())
            .await
            .map(Country)
            .or_coded()
    }

    // -- regions
    async fn create_region(&self, ctx: &Context<'_>, input: RegionInput) -> Result<Region> {
        let (db, actor) = writer(ctx)?;
        write::save_region(db, &actor, Target::Create, input.into()).await.map(Region).or_coded()
    }
    async fn update_region(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: RegionInput,
    ) -> Result<Region> {
        let (db, actor) = writer(ctx)?;
        write::save_region(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Region)
            .or_coded()
    }
    /// Ends a region on `validTo` (regions are never deleted; history refers to them).
    async fn end_region(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        valid_to: Date,
    ) -> Result<Region> {
        let (db, actor) = writer(ctx)?;
        write::end_region(db, &actor, &slug, expected_version, valid_to.0).await.map(Region).or_coded()
    }
    async fn add_region_code(&self, ctx: &Context<'_>, region: String, input: CodeInput) -> Result<Code> {
        let (db, actor) = writer(ctx)?;
        write::add_code(db, &actor, CodeOwner::Region(&region), input.into()).await.map(code).or_coded()
    }
    async fn remove_region_code(
        &self,
        ctx: &Context<'_>,
        region: String,
        scheme: CodeScheme,
        value: String,
    ) -> Result<Code> {
        let (db, actor) = writer(ctx)?;
        write::remove_code(db, &actor, CodeOwner::Region(&region), scheme.into(), &value).await.map(code).or_coded()
    }
    async fn add_region_parent(&self, ctx: &Context<'_>, input: RegionParentInput) -> Result<RegionLink> {
        let (db, actor) = writer(ctx)?;
        write::add_region_parent(db, &actor, input.into()).await.map(|link| RegionLink::new(link, true)).or_coded()
    }
    async fn remove_region_parent(
        &self,
        ctx: &Context<'_>,
        region: String,
        parent: String,
        nuts_version: Option<String>,
    ) -> Result<RegionLink> {
        let (db, actor) = writer(ctx)?;
        write::remove_region_parent(db, &actor, &region, &parent, nuts_version.as_deref())
            .await
            .map(|link| RegionLink::new(link, true))
            .or_coded()
    }

    // -- municipalities
    async fn create_municipality(&self, ctx: &Context<'_>, input: MunicipalityInput) -> Result<Municipality> {
        let (db, actor) = writer(ctx)?;
        write::save_municipality(db, &actor, Target::Create, input.into()).await.map(Municipality).or_coded()
    }
    /// Replaces name, country, dates and notes; status and successor change only by `dissolveMunicipality`.
    async fn update_municipality(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: MunicipalityInput,
    ) -> Result<Municipality> {
        let (db, actor) = writer(ctx)?;
        write::save_municipality(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Municipality)
            .or_coded()
    }
    /// Ends a municipality (a merger or split): it is dissolved on `dissolvedOn` with a
    /// successor, and its open memberships and codes end the day before. Never deleted.
    async fn dissolve_municipality(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: DissolutionInput,
    ) -> Result<Municipality> {
        let (db, actor) = writer(ctx)?;
        let dissolution = Dissolution { dissolved_on: input.dissolved_on.0, successor: input.successor };
        write::dissolve_municipality(db, &actor, &slug, expected_version, dissolution)
            .await
            .map(Municipality)
            .or_coded()
    }
    async fn add_municipality_code(&self, ctx: &Context<'_>, municipality: String, input: CodeInput) -> Result<Code> {
        let (db, actor) = writer(ctx)?;
        write::add_code(db, &actor, CodeOwner::Municipality(&municipality), input.into()).await.map(code).or_coded()
    }
    async fn remove_municipality_code(
        &self,
        ctx: &Context<'_>,
        municipality: String,
        scheme: CodeScheme,
        value: String,
    ) -> Result<Code> {
        let (db, actor) = writer(ctx)?;
        write::remove_code(db, &actor, CodeOwner::Municipality(&municipality), scheme.into(), &value)
            .await
            .map(code)
            .or_coded()
    }
    /// Adds a municipality to a region for a period (no overlap with its other regions of the same kind).
    async fn add_membership(&self, ctx: &Context<'_>, input: MembershipInput) -> Result<RegionMembership> {
        let (db, actor) = writer(ctx)?;
        write::add_membership(db, &actor, input.into()).await.map(RegionMembership).or_coded()
    }
    /// Ends a membership on `validTo`. `validFrom` picks the membership when there are several.
    async fn end_membership(
        &self,
        ctx: &Context<'_>,
        municipality: String,
        region: String,
        valid_from: Option<Date>,
        valid_to: Date,
        expected_version: i32,
    ) -> Result<RegionMembership> {
        let (db, actor) = writer(ctx)?;
        write::end_membership(db, &actor, &municipality, &region, day(valid_from), valid_to.0, expected_version)
            .await
            .map(RegionMembership)
            .or_coded()
    }
    /// Removes a membership recorded by mistake (to record a change of region, end it instead).
    async fn remove_membership(
        &self,
        ctx: &Context<'_>,
        municipality: String,
        region: String,
        valid_from: Option<Date>,
    ) -> Result<RegionMembership> {
        let (db, actor) = writer(ctx)?;
        write::remove_membership(db, &actor, &municipality, &region, day(valid_from))
            .await
            .map(RegionMembership)
            .or_coded()
    }

    // -- organisations and programmes
    async fn create_organisation(&self, ctx: &Context<'_>, input: OrganisationInput) -> Result<Organisation> {
        let (db, actor) = writer(ctx)?;
        write::save_organisation(db, &actor, Target::Create, input.into()).await.map(Organisation).or_coded()
    }
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: OrganisationInput,
    ) -> Result<Organisation> {
        let (db, actor) = writer(ctx)?;
        write::save_organisation(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Organisation)
            .or_coded()
    }
    /// Deletes an organisation nothing refers to (`CONFLICT` otherwise: end it with `validTo` instead).
    async fn delete_organisation(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
    ) -> Result<Organisation> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<organisation::Entity>(db, &actor, &slug, expected_version)
            .await
            .map(Organisation)
            .or_coded()
    }
    async fn create_programme(&self, ctx: &Context<'_>, input: ProgrammeInput) -> Result<Programme> {
        let (db, actor) = writer(ctx)?;
        write::save_programme(db, &actor, Target::Create, input.into()).await.map(Programme).or_coded()
    }
    async fn update_programme(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: ProgrammeInput,
    ) -> Result<Programme> {
        let (db, actor) = writer(ctx)?;
        write::save_programme(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Programme)
            .or_coded()
    }
    async fn delete_programme(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<Programme> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<programme::Entity>(db, &actor, &slug, expected_version).await.map(Programme).or_coded()
    }

    // -- projects and their parts
    async fn create_project(&self, ctx: &Context<'_>, input: ProjectInput) -> Result<Project> {
        let (db, actor) = writer(ctx)?;
        write::save_project(db, &actor, Target::Create, input.into()).await.map(Project).or_coded()
    }
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: ProjectInput,
    ) -> Result<Project> {
        let (db, actor) = writer(ctx)?;
        write::save_project(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Project)
            .or_coded()
    }
    /// Deletes a project with its partners, budget lines, goals and indicator values.
    async fn delete_project(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<Project> {
        let (db, actor) = writer(ctx)?;
        write::delete_project(db, &actor, &slug, expected_version).await.map(Project).or_coded()
    }
    async fn add_project_partner(&self, ctx: &Context<'_>, input: PartnerInput) -> Result<ProjectPartner> {
        let (db, actor) = writer(ctx)?;
        write::save_partner(db, &actor, input.into(), None).await.map(ProjectPartner).or_coded()
    }
    /// Replaces a partner's role label, budget share and provenance (project, organisation and role name it).
    async fn update_project_partner(
        &self,
        ctx: &Context<'_>,
        expected_version: i32,
        input: PartnerInput,
    ) -> Result<ProjectPartner> {
        let (db, actor) = writer(ctx)?;
        write::save_partner(db, &actor, input.into(), Some(expected_version)).await.map(ProjectPartner).or_coded()
    }
    async fn remove_project_partner(
        &self,
        ctx: &Context<'_>,
        project: String,
        organisation: String,
        role: PartnerRole,
    ) -> Result<ProjectPartner> {
        let (db, actor) = writer(ctx)?;
        write::remove_partner(db, &actor, &project, &organisation, role.into()).await.map(ProjectPartner).or_coded()
    }
    async fn add_budget_line(&self, ctx: &Context<'_>, input: BudgetLineInput) -> Result<BudgetLine> {
        let (db, actor) = writer(ctx)?;
        write::add_budget_line(db, &actor, input.into()).await.map(BudgetLine).or_coded()
    }
    async fn remove_budget_line(&self, ctx: &Context<'_>, project: String, label: String) -> Result<BudgetLine> {
        let (db, actor) = writer(ctx)?;
        write::remove_budget_line(db, &actor, &project, &label).await.map(BudgetLine).or_coded()
    }
    async fn create_goal(&self, ctx: &Context<'_>, input: GoalInput) -> Result<Goal> {
        let (db, actor) = writer(ctx)?;
        write::save_goal(db, &actor, Target::Create, input.into()).await.map(Goal).or_coded()
    }
    async fn update_goal(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: GoalInput,
    ) -> Result<Goal> {
        let (db, actor) = writer(ctx)?;
        write::save_goal(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Goal)
            .or_coded()
    }
    /// Deletes a goal no indicator value measures (`CONFLICT` otherwise).
    async fn delete_goal(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<Goal> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<goal::Entity>(db, &actor, &slug, expected_version).await.map(Goal).or_coded()
    }
    async fn add_indicator_value(&self, ctx: &Context<'_>, input: IndicatorValueInput) -> Result<IndicatorValue> {
        let (db, actor) = writer(ctx)?;
        write::save_indicator_value(db, &actor, Target::Create, input.into()).await.map(IndicatorValue).or_coded()
    }
    async fn update_indicator_value(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: IndicatorValueInput,
    ) -> Result<IndicatorValue> {
        let (db, actor) = writer(ctx)?;
        write::save_indicator_value(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(IndicatorValue)
            .or_coded()
    }
    async fn remove_indicator_value(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
    ) -> Result<IndicatorValue> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<indicator_value::Entity>(db, &actor, &slug, expected_version)
            .await
            .map(IndicatorValue)
            .or_coded()
    }
    async fn create_collaboration(&self, ctx: &Context<'_>, input: CollaborationInput) -> Result<Collaboration> {
        let (db, actor) = writer(ctx)?;
        write::save_collaboration(db, &actor, Target::Create, input.into()).await.map(Collaboration).or_coded()
    }
    async fn update_collaboration(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: CollaborationInput,
    ) -> Result<Collaboration> {
        let (db, actor) = writer(ctx)?;
        write::save_collaboration(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Collaboration)
            .or_coded()
    }
    async fn delete_collaboration(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
    ) -> Result<Collaboration> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<collaboration::Entity>(db, &actor, &slug, expected_version)
            .await
            .map(Collaboration)
            .or_coded()
    }

    // -- students (pseudonymous, synthetic) and placements
    async fn create_student(&self, ctx: &Context<'_>, input: StudentInput) -> Result<Student> {
        let (db, actor) = writer(ctx)?;
        write::save_student(db, &actor, Target::Create, input.into()).await.map(Student).or_coded()
    }
    async fn update_student(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: StudentInput,
    ) -> Result<Student> {
        let (db, actor) = writer(ctx)?;
        write::save_student(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Student)
            .or_coded()
    }
    /// Erases a student and their placements.
    async fn delete_student(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<Student> {
        let (db, actor) = writer(ctx)?;
        write::delete_student(db, &actor, &slug, expected_version).await.map(Student).or_coded()
    }
    async fn add_placement(&self, ctx: &Context<'_>, input: PlacementInput) -> Result<Placement> {
        let (db, actor) = writer(ctx)?;
        write::save_placement(db, &actor, Target::Create, input.into()).await.map(Placement).or_coded()
    }
    async fn update_placement(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i32,
        input: PlacementInput,
    ) -> Result<Placement> {
        let (db, actor) = writer(ctx)?;
        write::save_placement(db, &actor, target(Some(slug), Some(expected_version)), input.into())
            .await
            .map(Placement)
            .or_coded()
    }
    async fn remove_placement(&self, ctx: &Context<'_>, slug: String, expected_version: i32) -> Result<Placement> {
        let (db, actor) = writer(ctx)?;
        write::delete_keyed::<student_placement::Entity>(db, &actor, &slug, expected_version)
            .await
            .map(Placement)
            .or_coded()
    }

    // -- bulk
    /// Imports a whole registry file (seed-facts format, as JSON) in one transaction: all of it
    /// or nothing. Rows are matched by natural key, so re-importing changes nothing. (A JSON
    /// argument, not a multipart upload: multipart POSTs would reopen the CSRF hole that
    /// JSON-only POSTs close; the body limit bounds the size.)
    async fn import_registry(&self, ctx: &Context<'_>, registry: Json<serde_json::Value>) -> Result<ImportResult> {
        let (db, actor) = writer(ctx)?;
        let bytes = serde_json::to_vec(&registry.0).or_internal()?;
        let records =
            crate::domain::reference::read_on_map(&bytes).map_err(|error| bad_input("registry", error.to_string()))?;
        let summary = crate::db::import::import_records(db, &records, &actor).await.or_coded()?;
        let total = summary.total();
        Ok(ImportResult {
            inserted: total.inserted,
            updated: total.updated,
            deleted: total.deleted,
            unchanged: total.unchanged,
            tables: summary
                .tables
                .iter()
                .map(|(table, counts)| TableImport {
                    table: (*table).to_owned(),
                    inserted: counts.inserted,
                    updated: counts.updated,
                    deleted: counts.deleted,
                    unchanged: counts.unchanged,
                })
                .collect(),
        })
    }

    /// Imports funders' files in one transaction (`samverka import --format` over GraphQL):
    /// `FORSKNINGSRADET_EU`, `CORDIS` (both CSVs), `ROR` (JSON dump) or `CSV` with a TOML
    /// `mapping`. Files are base64 in the JSON request, within the server's body limit (use the
    /// CLI for bigger ones). Organisations are matched by org number, ROR id, then name within the
    /// same municipality; `dryRun` reports what would be written and writes nothing. Any invalid
    /// row fails the import with `BAD_USER_INPUT` listing the rows (`extensions.invalidRows`:
    /// file, row, column, rule, message) unless `skipInvalid`. Idempotent: the same files twice
    /// write nothing the second time.
    #[allow(clippy::too_many_arguments)]
    async fn import_file(
        &self,
        ctx: &Context<'_>,
        format: super::import_file::ImportFormatInput,
        files: Vec<super::import_file::ImportFileInput>,
        mapping: Option<super::import_file::ImportFileInput>,
        #[graphql(default)] dry_run: bool,
        #[graphql(default)] skip_invalid: bool,
        codes_on: Option<Date>,
        nuts_version: Option<String>,
        countries: Option<Vec<String>>,
    ) -> Result<super::import_file::ImportFileReport> {
        let (db, actor) = writer(ctx)?;
        let arguments = super::import_file::ImportFileArguments {
            format,
            files,
            mapping,
            dry_run,
            skip_invalid,
            codes_on,
            nuts_version,
            countries,
        };
        super::import_file::import_file(db, &actor, arguments).await
    }
}
