//! The registry as the importer understands it: plain records keyed by slugs, before any id
//! exists. `crate::db::import` writes these; nothing here knows about SQL.

use chrono::NaiveDate;
use entity::enums::{
    BudgetKind, ChangeKind, CollaborationKind, Comparator, GoalKind, LifecycleStatus, OrganisationKind,
    OrganisationLinkKind, PartnerRole, RegionKind,
};

pub use crate::domain::edits::Provenance;

/// The same row a mutation drafts (one shape for both ways in).
pub type SourceRecord = crate::domain::edits::SourceDraft;

/// The same row a mutation drafts (one shape for both ways in).
pub type CountryRecord = crate::domain::edits::CountryDraft;

/// The same row a mutation drafts (one shape for both ways in).
pub type CodeRecord = crate::domain::edits::CodeDraft;

#[derive(Clone, Debug, PartialEq)]
pub struct ParentRecord {
    pub parent_slug: String,
    pub nuts_version: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RegionRecord {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: RegionKind,
    pub country: Option<String>,
    pub status: LifecycleStatus,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
    pub provenance: Provenance,
    pub codes: Vec<CodeRecord>,
    pub parents: Vec<ParentRecord>,
    /// True when the region row belongs to another import (the reference map): this import
    /// leaves the row as it is and only adds its own codes and parents to it.
    pub attach_only: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MembershipRecord {
    pub region_slug: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MunicipalityRecord {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub status: LifecycleStatus,
    pub successor_slug: Option<String>,
    pub dissolved_on: Option<NaiveDate>,
    pub established_on: Option<NaiveDate>,
    pub admin_centre: Option<String>,
    pub note: Option<String>,
    pub provenance: Provenance,
    pub codes: Vec<CodeRecord>,
    pub memberships: Vec<MembershipRecord>,
    /// Names by period, oldest first (empty: only `name`).
    pub names: Vec<NameRecord>,
    /// True when the municipality row belongs to another import (the reference map): this
    /// import leaves the row as it is and only adds its own codes and memberships to it.
    pub attach_only: bool,
}

/// A name over the period it was in use.
#[derive(Clone, Debug, PartialEq)]
pub struct NameRecord {
    pub name: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

/// One (predecessor, successor) pair of a reform, by slug. A side is `None` when the source
/// does not say (an unconfirmed old code is never guessed).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRecord {
    pub day: NaiveDate,
    pub kind: ChangeKind,
    pub from_slug: Option<String>,
    pub from_code: Option<String>,
    pub from_name: Option<String>,
    pub to_slug: Option<String>,
    pub to_code: Option<String>,
    pub to_name: Option<String>,
    pub note: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationRecord {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub kind_label: Option<String>,
    pub country: Option<String>,
    pub municipality_slug: Option<String>,
    pub represents_municipality_slug: Option<String>,
    pub org_number: Option<String>,
    pub ror: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
    /// Names by period, oldest first (empty: only `name`).
    pub names: Vec<NameRecord>,
}

/// An organisation that became another (merger, split, rename), by slug.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationChangeRecord {
    pub day: NaiveDate,
    pub kind: ChangeKind,
    pub from_slug: String,
    pub to_slug: String,
    pub note: Option<String>,
    pub provenance: Provenance,
}

/// An undated link between organisations (part of, related, succeeded by), by slug.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationLinkRecord {
    pub from_slug: String,
    pub to_slug: String,
    pub kind: OrganisationLinkKind,
    pub provenance: Provenance,
}

/// The same row `createProgramme` drafts.
pub type ProgrammeRecord = crate::domain::edits::ProgrammeDraft;

#[derive(Clone, Debug, PartialEq)]
pub struct BudgetLineRecord {
    pub kind: BudgetKind,
    pub label: String,
    pub amount: f64,
    pub currency: String,
    pub is_final: bool,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PartnerRecord {
    pub organisation_slug: String,
    pub role: PartnerRole,
    pub role_label: Option<String>,
    pub budget_share: Option<f64>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GoalRecord {
    pub slug: String,
    pub kind: GoalKind,
    pub kind_label: String,
    pub text: String,
    pub target_value: Option<f64>,
    pub target_comparator: Option<Comparator>,
    pub target_unit: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorValueRecord {
    pub slug: String,
    pub goal_slug: Option<String>,
    pub text: String,
    pub value: Option<f64>,
    pub comparator: Option<Comparator>,
    pub approximate: bool,
    pub unit: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CollaborationRecord {
    pub slug: String,
    pub organisation_a_slug: String,
    pub organisation_b_slug: String,
    pub kind: CollaborationKind,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectRecord {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub programme_slug: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub period_approximate: bool,
    pub provenance: Provenance,
    pub budget_lines: Vec<BudgetLineRecord>,
    pub partners: Vec<PartnerRecord>,
    pub goals: Vec<GoalRecord>,
    pub indicator_values: Vec<IndicatorValueRecord>,
    pub collaborations: Vec<CollaborationRecord>,
}

impl ProjectRecord {
    /// The headline budget: the first total that is not a final account (the approved budget).
    pub fn headline_budget(&self) -> Option<&BudgetLineRecord> {
        let totals = || self.budget_lines.iter().filter(|line| line.kind == BudgetKind::Total);
        totals().find(|line| !line.is_final).or_else(|| totals().next())
    }
}

/// Everything one import file holds, in the order it must be written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistryRecords {
    pub sources: Vec<SourceRecord>,
    pub countries: Vec<CountryRecord>,
    pub regions: Vec<RegionRecord>,
    pub municipalities: Vec<MunicipalityRecord>,
    pub organisations: Vec<OrganisationRecord>,
    pub programmes: Vec<ProgrammeRecord>,
    pub projects: Vec<ProjectRecord>,
    /// Municipal reforms (the reference map's).
    pub municipality_changes: Vec<ChangeRecord>,
    /// County reforms (the reference map's).
    pub region_changes: Vec<ChangeRecord>,
    pub organisation_changes: Vec<OrganisationChangeRecord>,
    pub organisation_links: Vec<OrganisationLinkRecord>,
}
