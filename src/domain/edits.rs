//! What an editor asks to write, as plain data: one draft per kind of row, naming other rows by
//! their slugs (or codes and keys), plus the checks a draft can make on its own. Rules that need
//! the rest of the registry (overlaps, budget shares, unknown references) run in the database
//! layer's write transaction, through [`super::validation`].
//!
//! Updates replace the whole row (the client sends back what it read, changed, with the version
//! it read), so one draft serves both create and update.

use chrono::NaiveDate;
use entity::enums::*;

use super::identity;
use super::validation::{self as rule, Checked};

/// Where a fact comes from: a source key, where in the source, and whether it was checked
/// against the source. One type for every way in (mutations, seed files, funders' files).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// A key of the source catalogue (seed file name, URL, `cordis:project.csv`, …).
    pub source: Option<String>,
    pub verified: bool,
    /// Where inside the source (`project.csv row 17`), for rows read from files.
    pub locator: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceDraft {
    pub key: String,
    pub kind: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub locator: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CountryDraft {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub eu_member: bool,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct RegionDraft {
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
}

#[derive(Clone, Debug)]
pub struct MunicipalityDraft {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub established_on: Option<NaiveDate>,
    pub admin_centre: Option<String>,
    pub note: Option<String>,
    pub provenance: Provenance,
}

/// Ending a municipality: it stops on `dissolved_on` and `successor` takes over. Its open
/// memberships and codes end the day before.
#[derive(Clone, Debug)]
pub struct Dissolution {
    pub dissolved_on: NaiveDate,
    pub successor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct OrganisationDraft {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub kind_label: Option<String>,
    pub country: Option<String>,
    pub municipality: Option<String>,
    pub represents_municipality: Option<String>,
    pub org_number: Option<String>,
    pub ror: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProgrammeDraft {
    pub slug: String,
    pub name: String,
    pub full_name: Option<String>,
    pub country: Option<String>,
    pub owner: Option<String>,
    pub funder: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct ProjectDraft {
    pub slug: String,
    pub name: String,
    pub short_name: Option<String>,
    pub programme: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub period_approximate: bool,
    pub budget_total: Option<f64>,
    pub budget_currency: Option<String>,
    pub budget_source: Option<String>,
    pub budget_verified: bool,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct GoalDraft {
    pub slug: String,
    pub project: String,
    pub kind: GoalKind,
    pub kind_label: String,
    pub text: String,
    pub target_value: Option<f64>,
    pub target_comparator: Option<Comparator>,
    pub target_unit: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct IndicatorValueDraft {
    pub slug: String,
    pub project: String,
    pub goal: Option<String>,
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

#[derive(Clone, Debug)]
pub struct CollaborationDraft {
    pub slug: String,
    pub organisation_a: String,
    pub organisation_b: String,
    pub kind: CollaborationKind,
    pub project: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct StudentDraft {
    pub slug: String,
    pub home_municipality: Option<String>,
    pub enrolling_organisation: String,
    pub field_of_study: Option<String>,
    pub enrolled_from: NaiveDate,
    pub enrolled_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct PlacementDraft {
    pub slug: String,
    pub student: String,
    pub host: String,
    pub project: Option<String>,
    pub kind: PlacementKind,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct PartnerDraft {
    pub project: String,
    pub organisation: String,
    pub role: PartnerRole,
    pub role_label: Option<String>,
    pub budget_share: Option<f64>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct MembershipDraft {
    pub municipality: String,
    pub region: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

/// A code of a region or a municipality (the owner is named by the mutation).
#[derive(Clone, Debug, PartialEq)]
pub struct CodeDraft {
    pub scheme: CodeScheme,
    pub value: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub nuts_version: Option<String>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct RegionParentDraft {
    pub region: String,
    pub parent: String,
    pub nuts_version: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug)]
pub struct BudgetLineDraft {
    pub project: String,
    pub kind: BudgetKind,
    pub label: String,
    pub amount: f64,
    pub currency: String,
    pub is_final: bool,
    pub provenance: Provenance,
}

/// The checks a draft can make without looking at the registry.
pub trait SelfCheck {
    fn check(&self) -> Checked;
}

fn currency(field: &str, code: Option<&str>) -> Checked {
    match code {
        Some(code) if !super::currency::is_iso4217(code) => Err(rule::Violation::new(
            field,
            "currency_format",
            format!("`{code}` is not an active ISO 4217 currency code (e.g. EUR, NOK, SEK)"),
        )),
        _ => Ok(()),
    }
}

impl SelfCheck for SourceDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("key", Some(self.key.as_str())),
            ("kind", Some(self.kind.as_str())),
            ("title", self.title.as_deref()),
            ("url", self.url.as_deref()),
            ("locator", self.locator.as_deref()),
            ("description", self.description.as_deref()),
        ])?;
        rule::required("key", &self.key)?;
        rule::required("kind", &self.kind)
    }
}

impl SelfCheck for CountryDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("code", Some(self.code.as_str())),
            ("name", Some(self.name.as_str())),
            ("nameEn", self.name_en.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        if self.code.len() != 2 || !self.code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(rule::Violation::new(
                "code",
                "code_format",
                "a country code is two capital letters (ISO 3166-1)",
            ));
        }
        rule::required("name", &self.name)
    }
}

impl SelfCheck for RegionDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("name", Some(self.name.as_str())),
            ("shortName", self.short_name.as_deref()),
            ("country", self.country.as_deref()),
            ("note", self.note.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("name", &self.name)?;
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for MunicipalityDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("name", Some(self.name.as_str())),
            ("country", Some(self.country.as_str())),
            ("adminCentre", self.admin_centre.as_deref()),
            ("note", self.note.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("name", &self.name)
    }
}

impl SelfCheck for OrganisationDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("name", Some(self.name.as_str())),
            ("shortName", self.short_name.as_deref()),
            ("kindLabel", self.kind_label.as_deref()),
            ("country", self.country.as_deref()),
            ("municipality", self.municipality.as_deref()),
            ("representsMunicipality", self.represents_municipality.as_deref()),
            ("orgNumber", self.org_number.as_deref()),
            ("ror", self.ror.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("name", &self.name)?;
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl OrganisationDraft {
    /// Checks the organisation number (MOD11 for Norway, Luhn for Sweden; a personnummer is
    /// refused as personal data) and the ROR id (checksum), and stores them in one form, so a
    /// lookup by either finds the row however it was written.
    pub fn with_checked_identity(mut self) -> Result<Self, rule::Violation> {
        if let Some(text) = self.org_number.take().filter(|t| !t.trim().is_empty()) {
            let number = identity::org_number(self.country.as_deref(), &text)
                .map_err(|error| rule::Violation::new("orgNumber", error.rule, error.message))?;
            self.org_number = Some(number);
        }
        if let Some(text) = self.ror.take().filter(|t| !t.trim().is_empty()) {
            let ror =
                identity::ror_id(&text).map_err(|error| rule::Violation::new("ror", error.rule, error.message))?;
            self.ror = Some(ror);
        }
        Ok(self)
    }
}

impl SelfCheck for ProgrammeDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("name", Some(self.name.as_str())),
            ("fullName", self.full_name.as_deref()),
            ("country", self.country.as_deref()),
            ("owner", self.owner.as_deref()),
            ("funder", self.funder.as_deref()),
            ("periodText", self.period_text.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("name", &self.name)?;
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for ProjectDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("name", Some(self.name.as_str())),
            ("shortName", self.short_name.as_deref()),
            ("programme", self.programme.as_deref()),
            ("periodText", self.period_text.as_deref()),
            ("budgetCurrency", self.budget_currency.as_deref()),
            ("budgetSource", self.budget_source.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("name", &self.name)?;
        rule::period("validTo", self.valid_from, self.valid_to)?;
        rule::non_negative("budgetTotal", self.budget_total)?;
        currency("budgetCurrency", self.budget_currency.as_deref())
    }
}

impl SelfCheck for GoalDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("project", Some(self.project.as_str())),
            ("kindLabel", Some(self.kind_label.as_str())),
            ("text", Some(self.text.as_str())),
            ("targetUnit", self.target_unit.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("text", &self.text)?;
        if self.target_comparator.is_some() && self.target_value.is_none() {
            return Err(rule::Violation::new(
                "targetComparator",
                "comparator_needs_value",
                "a comparator needs a target value",
            ));
        }
        Ok(())
    }
}

impl SelfCheck for IndicatorValueDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("project", Some(self.project.as_str())),
            ("goal", self.goal.as_deref()),
            ("text", Some(self.text.as_str())),
            ("unit", self.unit.as_deref()),
            ("periodText", self.period_text.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::required("text", &self.text)?;
        if self.comparator.is_some() && self.value.is_none() {
            return Err(rule::Violation::new("comparator", "comparator_needs_value", "a comparator needs a value"));
        }
        rule::period("periodTo", self.period_from, self.period_to)
    }
}

impl SelfCheck for CollaborationDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("organisationA", Some(self.organisation_a.as_str())),
            ("organisationB", Some(self.organisation_b.as_str())),
            ("project", self.project.as_deref()),
            ("description", self.description.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        if self.organisation_a == self.organisation_b {
            return Err(rule::Violation::new(
                "organisationB",
                "distinct_organisations",
                "a collaboration needs two different organisations",
            ));
        }
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for StudentDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("homeMunicipality", self.home_municipality.as_deref()),
            ("enrollingOrganisation", Some(self.enrolling_organisation.as_str())),
            ("fieldOfStudy", self.field_of_study.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::period("enrolledTo", Some(self.enrolled_from), self.enrolled_to)
    }
}

impl SelfCheck for PlacementDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("slug", Some(self.slug.as_str())),
            ("student", Some(self.student.as_str())),
            ("host", Some(self.host.as_str())),
            ("project", self.project.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::slug("slug", &self.slug)?;
        rule::period("validTo", Some(self.valid_from), self.valid_to)
    }
}

impl SelfCheck for PartnerDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("project", Some(self.project.as_str())),
            ("organisation", Some(self.organisation.as_str())),
            ("roleLabel", self.role_label.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::non_negative("budgetShare", self.budget_share)
    }
}

impl SelfCheck for MembershipDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("municipality", Some(self.municipality.as_str())),
            ("region", Some(self.region.as_str())),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for CodeDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("value", Some(self.value.as_str())),
            ("nutsVersion", self.nuts_version.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::code("value", self.scheme, &self.value)?;
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for RegionParentDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("region", Some(self.region.as_str())),
            ("parent", Some(self.parent.as_str())),
            ("nutsVersion", self.nuts_version.as_deref()),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        if self.region == self.parent {
            return Err(rule::Violation::new("parent", "parent_cycle", "a region cannot be its own parent"));
        }
        rule::period("validTo", self.valid_from, self.valid_to)
    }
}

impl SelfCheck for BudgetLineDraft {
    fn check(&self) -> Checked {
        rule::texts(&[
            ("project", Some(self.project.as_str())),
            ("label", Some(self.label.as_str())),
            ("currency", Some(self.currency.as_str())),
            ("source", self.provenance.source.as_deref()),
            ("locator", self.provenance.locator.as_deref()),
        ])?;
        rule::required("label", &self.label)?;
        rule::non_negative("amount", Some(self.amount))?;
        currency("currency", Some(&self.currency))
    }
}
