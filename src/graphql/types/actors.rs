//! Organisations, and the pseudonymous students with their placements (personal data: every
//! student field and lookup is guarded, see `crate::graphql::access`).

use async_graphql::{Context, Object, Result};
use entity::enums::OrganisationLinkKind;
use entity::{organisation, student, student_placement};

use super::common::{Date, OrganisationKind, PlacementKind, Source, SuppressedCount, date, load_one, source_of};
use super::geography::{Country, Municipality, country_of};
use super::history::{DatedName, OrganisationChange, name_on, sorted_names};
use super::nested_limit;
use super::work::{Collaboration, Project, ProjectPartner};
use crate::graphql::access::{Role, RoleGuard};
use crate::graphql::direct::Direct;
use crate::graphql::loaders::*;

/// The organisations `ids` (distinct), by name.
impl Organisation {
    /// The other ends of this organisation's undated links of `kind`: the organisations it
    /// links to (`outgoing`), or those linking to it.
    async fn linked(&self, ctx: &Context<'_>, kind: OrganisationLinkKind, outgoing: bool) -> Result<Vec<i32>> {
        let rows = if outgoing {
            load_one(ctx, LinksFromOrganisation(self.0.id)).await?
        } else {
            load_one(ctx, LinksToOrganisation(self.0.id)).await?
        };
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.kind == kind)
            .map(|l| if outgoing { l.related_organisation_id } else { l.organisation_id })
            .collect())
    }
}

async fn organisations(ctx: &Context<'_>, ids: impl Iterator<Item = i32>) -> Result<Vec<Organisation>> {
    let ids: std::collections::BTreeSet<i32> = ids.collect();
    let mut rows: Vec<organisation::Model> = super::common::loader(ctx)
        .load_many(ids.into_iter().map(OrganisationById))
        .await
        .map_err(|e| crate::graphql::error::internal(&e))?
        .into_values()
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(rows.into_iter().map(Organisation).collect())
}

/// A university, company, science centre, public body… or a municipality acting as partner.
pub struct Organisation(pub organisation::Model);

#[Object]
impl Organisation {
    /// What the organisation did in `period` (default: all time).
    async fn metrics(
        &self,
        period: Option<super::common::PeriodInput>,
        as_of: Option<super::common::Date>,
    ) -> async_graphql::Result<super::metrics::Metrics> {
        super::metrics::Metrics::new(
            crate::domain::metrics::NodeKind::Organisation,
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
    /// The name, on `asOf` when given (default: the current name).
    async fn name(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<String> {
        if let Some(day) = as_of {
            let names = load_one(ctx, NamesByOrganisation(self.0.id)).await?.unwrap_or_default();
            let names: Vec<DatedName> = names.into_iter().map(DatedName::from).collect();
            if let Some(name) = name_on(&names, day.0) {
                return Ok(name);
            }
        }
        Ok(self.0.name.clone())
    }
    /// Every name it has carried, oldest first.
    async fn names(&self, ctx: &Context<'_>) -> Result<Vec<DatedName>> {
        let names = load_one(ctx, NamesByOrganisation(self.0.id)).await?.unwrap_or_default();
        Ok(sorted_names(names.into_iter().map(DatedName::from).collect()))
    }
    /// Mergers and renames on either side, oldest first.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<OrganisationChange>> {
        let mut rows = load_one(ctx, ChangesToOrganisation(self.0.id)).await?.unwrap_or_default();
        rows.extend(load_one(ctx, ChangesFromOrganisation(self.0.id)).await?.unwrap_or_default());
        rows.sort_by_key(|c| (c.day, c.id));
        Ok(rows.into_iter().map(OrganisationChange).collect())
    }
    /// Organisations that became this one (merged into it, or renamed to it; dated reforms and
    /// ROR's undated successor links).
    async fn predecessors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let rows = load_one(ctx, ChangesToOrganisation(self.0.id)).await?.unwrap_or_default();
        let linked = self.linked(ctx, OrganisationLinkKind::SucceededBy, false).await?;
        organisations(ctx, rows.iter().map(|c| c.from_organisation_id).chain(linked)).await
    }
    /// Organisations this one became (dated reforms and ROR's undated successor links).
    async fn successors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let rows = load_one(ctx, ChangesFromOrganisation(self.0.id)).await?.unwrap_or_default();
        let linked = self.linked(ctx, OrganisationLinkKind::SucceededBy, true).await?;
        organisations(ctx, rows.iter().map(|c| c.to_organisation_id).chain(linked)).await
    }
    /// Organisations this one is part of (a university of its faculty; ROR's parent).
    async fn part_of(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let ids = self.linked(ctx, OrganisationLinkKind::PartOf, true).await?;
        organisations(ctx, ids.into_iter()).await
    }
    /// Organisations that are part of this one (ROR's children).
    async fn parts(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let ids = self.linked(ctx, OrganisationLinkKind::PartOf, false).await?;
        organisations(ctx, ids.into_iter()).await
    }
    /// Organisations related to this one (either side stated it; ROR's related).
    async fn related_organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let mut ids = self.linked(ctx, OrganisationLinkKind::Related, true).await?;
        ids.extend(self.linked(ctx, OrganisationLinkKind::Related, false).await?);
        organisations(ctx, ids.into_iter()).await
    }
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    async fn kind(&self) -> OrganisationKind {
        self.0.kind.into()
    }
    /// Norwegian organisasjonsnummer (9 digits) or Swedish organisationsnummer (NNNNNN-NNNN),
    /// check digit verified on every write.
    async fn org_number(&self) -> Option<&str> {
        self.0.org_number.as_deref()
    }
    /// ROR identifier (https://ror.org/…), only when confirmed.
    async fn ror(&self) -> Option<&str> {
        self.0.ror.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
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
    /// The municipality the organisation is seated in.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        match self.0.municipality_id {
            Some(id) => Ok(load_one(ctx, MunicipalityById(id)).await?.map(Municipality)),
            None => Ok(None),
        }
    }
    /// For organisations of kind MUNICIPALITY: the municipality they stand for.
    async fn represents_municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        match self.0.represents_municipality_id {
            Some(id) => Ok(load_one(ctx, MunicipalityById(id)).await?.map(Municipality)),
            None => Ok(None),
        }
    }
    /// The organisation's partnerships in projects, with role and provenance.
    #[graphql(complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false)))]
    async fn partnerships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Direct<ProjectPartner>>> {
        let limit = nested_limit(first)?;
        let rows = load_one(ctx, PartnersByOrganisation(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().take(limit).map(|row| Direct(ProjectPartner(row))).collect())
    }
    /// Projects the organisation takes part in, by name.
    #[graphql(complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false)))]
    async fn projects(&self, ctx: &Context<'_>, #[graphql(default = 50)] first: i32) -> Result<Vec<Direct<Project>>> {
        let limit = nested_limit(first)?;
        // Windowed in SQL: a hub's thousands of projects never leave the database.
        let mut projects = load_one(ctx, FirstProjectsByOrganisation(self.0.id, limit)).await?.unwrap_or_default();
        projects.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(projects.into_iter().map(|row| Direct(Project(row))).collect())
    }
    async fn project_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(load_one(ctx, ProjectCountByOrganisation(self.0.id)).await?.unwrap_or(0))
    }
    /// Explicit ties to other organisations.
    async fn collaborations(&self, ctx: &Context<'_>) -> Result<Vec<Direct<Collaboration>>> {
        let rows = load_one(ctx, CollaborationsByOrganisation(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(Collaboration(row))).collect())
    }
    /// How many students are enrolled here (suppressed below k = 5 for the public).
    async fn student_count(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        let n = load_one(ctx, StudentCountByOrganisation(self.0.id)).await?.unwrap_or(0);
        Ok(SuppressedCount::for_caller(ctx, n))
    }
    /// Students enrolled here (pseudonymous; analysts and up).
    #[graphql(
        guard = "RoleGuard::new(Role::Analyst)",
        complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false))
    )]

    async fn students(&self, ctx: &Context<'_>, #[graphql(default = 50)] first: i32) -> Result<Vec<Direct<Student>>> {
        let limit = nested_limit(first)?;
        let rows = load_one(ctx, StudentsByEnrollingOrganisation(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().take(limit).map(|row| Direct(Student(row))).collect())
    }
    /// Placements hosted here (analysts and up).
    #[graphql(
        guard = "RoleGuard::new(Role::Analyst)",
        complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false))
    )]

    async fn hosted_placements(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Direct<Placement>>> {
        let limit = nested_limit(first)?;
        let rows = load_one(ctx, PlacementsByHost(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().take(limit).map(|row| Direct(Placement(row))).collect())
    }
}

/// A pseudonymous student (no names). Personal data: analysts and up only.
pub struct Student(pub student::Model);

#[Object(guard = "RoleGuard::new(Role::Analyst)")]
impl Student {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Pseudonymous identifier.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn field_of_study(&self) -> Option<&str> {
        self.0.field_of_study.as_deref()
    }
    async fn enrolled_from(&self) -> Date {
        Date(self.0.enrolled_from)
    }
    async fn enrolled_to(&self) -> Option<Date> {
        date(self.0.enrolled_to)
    }
    /// True for generated (synthetic) students; the demo ships no real ones.
    async fn synthetic(&self) -> bool {
        self.0.synthetic
    }
    async fn home_municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        match self.0.home_municipality_id {
            Some(id) => Ok(load_one(ctx, MunicipalityById(id)).await?.map(Municipality)),
            None => Ok(None),
        }
    }
    async fn enrolling_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(load_one(ctx, OrganisationById(self.0.enrolling_organisation_id)).await?.map(Organisation))
    }
    async fn placements(&self, ctx: &Context<'_>) -> Result<Vec<Direct<Placement>>> {
        let rows = load_one(ctx, PlacementsByStudent(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(Placement(row))).collect())
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

/// A student's stay at a host organisation (internship, thesis, VFU, Demola case, course).
pub struct Placement(pub student_placement::Model);

#[Object(guard = "RoleGuard::new(Role::Analyst)")]
impl Placement {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn kind(&self) -> PlacementKind {
        self.0.kind.into()
    }
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    async fn student(&self, ctx: &Context<'_>) -> Result<Option<Student>> {
        Ok(load_one(ctx, StudentById(self.0.student_id)).await?.map(Student))
    }
    async fn host(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(load_one(ctx, OrganisationById(self.0.host_organisation_id)).await?.map(Organisation))
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
