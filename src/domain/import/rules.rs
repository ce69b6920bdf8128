//! The editors' write rules, run on whole files: every record becomes the draft a mutation
//! would send ([`crate::domain::edits`]) and passes the same [`SelfCheck`] and the same
//! registry rules ([`crate::domain::validation`]) over its siblings in the file, so a row
//! refused by `createProject` cannot arrive through `importRegistry` or an importer either.

use std::collections::HashMap;

use entity::enums::RegionKind;

use super::records::*;
use crate::domain::edits::*;
use crate::domain::validation::{self as rule, Checked, Dated, Violation};

/// A rule a record broke, with where it is (`project eu-101000123`, or the file row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordViolation {
    pub at: String,
    /// The file row the record came from (its provenance locator), for rows read from files.
    pub locator: Option<String>,
    pub violation: Violation,
}

impl std::fmt::Display for RecordViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.at, self.violation, self.violation.rule)
    }
}

struct Checker {
    found: Vec<RecordViolation>,
}

impl Checker {
    fn note(&mut self, at: impl FnOnce() -> Place, result: Checked) {
        if let Err(violation) = result {
            let Place { at, locator } = at();
            self.found.push(RecordViolation { at, locator, violation });
        }
    }
}

/// Where a record is: how messages name it, and its file row when it has one.
#[derive(Clone)]
struct Place {
    at: String,
    locator: Option<String>,
}

impl Place {
    fn named(at: String) -> Self {
        Self { at, locator: None }
    }
}

fn place(what: &str, key: &str, provenance: &Provenance) -> Place {
    let at = match &provenance.locator {
        Some(locator) => format!("{locator} ({what} `{key}`)"),
        None => format!("{what} `{key}`"),
    };
    Place { at, locator: provenance.locator.clone() }
}

/// Every violation in `records` (empty: the file may be written).
pub fn check(records: &RegistryRecords) -> Vec<RecordViolation> {
    let mut checker = Checker { found: Vec::new() };
    let region_kinds: HashMap<&str, RegionKind> = records.regions.iter().map(|r| (r.slug.as_str(), r.kind)).collect();
    for s in &records.sources {
        checker.note(|| Place::named(format!("source `{}`", s.key)), s.check());
    }
    for c in &records.countries {
        checker.note(|| Place::named(format!("country `{}`", c.code)), c.check());
    }
    for r in &records.regions {
        let at = || place("region", &r.slug, &r.provenance);
        let draft = RegionDraft {
            slug: r.slug.clone(),
            name: r.name.clone(),
            short_name: r.short_name.clone(),
            kind: r.kind,
            country: r.country.clone(),
            status: r.status,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            note: r.note.clone(),
            provenance: r.provenance.clone(),
        };
        checker.note(at, draft.check());
        check_codes(&mut checker, &at(), &r.codes);
        for p in &r.parents {
            let draft = RegionParentDraft {
                region: r.slug.clone(),
                parent: p.parent_slug.clone(),
                nuts_version: p.nuts_version.clone(),
                valid_from: p.valid_from,
                valid_to: p.valid_to,
                provenance: p.provenance.clone(),
            };
            checker.note(at, draft.check());
        }
    }
    for m in &records.municipalities {
        let at = || place("municipality", &m.slug, &m.provenance);
        let draft = MunicipalityDraft {
            slug: m.slug.clone(),
            name: m.name.clone(),
            country: m.country.clone(),
            established_on: m.established_on,
            admin_centre: m.admin_centre.clone(),
            note: m.note.clone(),
            provenance: m.provenance.clone(),
        };
        checker.note(at, draft.check());
        check_codes(&mut checker, &at(), &m.codes);
        // Rule `membership_overlap`: one region of a kind at a time.
        let mut by_kind: HashMap<RegionKind, Vec<Dated>> = HashMap::new();
        for membership in &m.memberships {
            let draft = MembershipDraft {
                municipality: m.slug.clone(),
                region: membership.region_slug.clone(),
                valid_from: membership.valid_from,
                valid_to: membership.valid_to,
                provenance: membership.provenance.clone(),
            };
            checker.note(at, draft.check());
            if let Some(kind) = region_kinds.get(membership.region_slug.as_str()) {
                let same = by_kind.entry(*kind).or_default();
                checker.note(
                    at,
                    rule::no_overlap("validFrom", "membership_overlap", draft.valid_from, draft.valid_to, same),
                );
                same.push(Dated {
                    label: format!("the membership in {}", membership.region_slug),
                    from: membership.valid_from,
                    to: membership.valid_to,
                });
            }
        }
    }
    for o in &records.organisations {
        let draft = OrganisationDraft {
            slug: o.slug.clone(),
            name: o.name.clone(),
            short_name: o.short_name.clone(),
            kind: o.kind,
            kind_label: o.kind_label.clone(),
            country: o.country.clone(),
            municipality: o.municipality_slug.clone(),
            represents_municipality: o.represents_municipality_slug.clone(),
            org_number: o.org_number.clone(),
            ror: o.ror.clone(),
            valid_from: o.valid_from,
            valid_to: o.valid_to,
            provenance: o.provenance.clone(),
        };
        let at = || place("organisation", &o.slug, &o.provenance);
        checker.note(at, draft.check());
        checker.note(at, draft.with_checked_identity().map(drop));
    }
    for l in &records.organisation_links {
        checker.note(
            || place("organisation link", &l.from_slug, &l.provenance),
            if l.from_slug == l.to_slug {
                Err(Violation::new(
                    "relatedOrganisation",
                    "distinct_organisations",
                    "an organisation cannot be linked to itself",
                ))
            } else {
                Ok(())
            },
        );
    }
    for p in &records.programmes {
        checker.note(|| place("programme", &p.slug, &p.provenance), p.check());
    }
    for p in &records.projects {
        check_project(&mut checker, p);
    }
    checker.found
}

fn check_codes(checker: &mut Checker, at: &Place, codes: &[CodeRecord]) {
    let mut seen: Vec<(&CodeRecord, Dated)> = Vec::new();
    for c in codes {
        checker.note(|| at.clone(), c.check());
        // Rule `code_overlap`: one code of a scheme (and NUTS version) at a time.
        let same: Vec<Dated> = seen
            .iter()
            .filter(|(other, _)| other.scheme == c.scheme && other.nuts_version == c.nuts_version)
            .map(|(_, dated)| dated.clone())
            .collect();
        checker.note(|| at.clone(), rule::no_overlap("validFrom", "code_overlap", c.valid_from, c.valid_to, &same));
        seen.push((c, Dated { label: format!("code {}", c.value), from: c.valid_from, to: c.valid_to }));
    }
}

fn check_project(checker: &mut Checker, p: &ProjectRecord) {
    let at = || place("project", &p.slug, &p.provenance);
    let headline = p.headline_budget();
    let draft = ProjectDraft {
        slug: p.slug.clone(),
        name: p.name.clone(),
        short_name: p.short_name.clone(),
        programme: p.programme_slug.clone(),
        valid_from: p.valid_from,
        valid_to: p.valid_to,
        period_text: p.period_text.clone(),
        period_approximate: p.period_approximate,
        budget_total: headline.map(|b| b.amount),
        budget_currency: headline.map(|b| b.currency.clone()),
        budget_source: headline.and_then(|b| b.provenance.source.clone()),
        budget_verified: headline.is_some_and(|b| b.provenance.verified),
        provenance: p.provenance.clone(),
    };
    checker.note(at, draft.check());
    for b in &p.budget_lines {
        let draft = BudgetLineDraft {
            project: p.slug.clone(),
            kind: b.kind,
            label: b.label.clone(),
            amount: b.amount,
            currency: b.currency.clone(),
            is_final: b.is_final,
            provenance: b.provenance.clone(),
        };
        checker.note(|| place("budget line", &b.label, &b.provenance), draft.check());
    }
    for partner in &p.partners {
        let draft = PartnerDraft {
            project: p.slug.clone(),
            organisation: partner.organisation_slug.clone(),
            role: partner.role,
            role_label: partner.role_label.clone(),
            budget_share: partner.budget_share,
            provenance: partner.provenance.clone(),
        };
        let at = || place("partner", &partner.organisation_slug, &partner.provenance);
        checker.note(at, draft.check());
        // Rule `budget_share`, as `addProjectPartner` runs it against the project's budget.
        let budget =
            headline.filter(|b| b.currency == "EUR" || p.budget_lines.iter().all(|l| l.currency == b.currency));
        checker.note(at, rule::budget_share("budgetShare", draft.budget_share, budget.map(|b| b.amount)));
    }
    for g in &p.goals {
        let draft = GoalDraft {
            slug: g.slug.clone(),
            project: p.slug.clone(),
            kind: g.kind,
            kind_label: g.kind_label.clone(),
            text: g.text.clone(),
            target_value: g.target_value,
            target_comparator: g.target_comparator,
            target_unit: g.target_unit.clone(),
            provenance: g.provenance.clone(),
        };
        checker.note(|| place("goal", &g.slug, &g.provenance), draft.check());
    }
    for v in &p.indicator_values {
        let draft = IndicatorValueDraft {
            slug: v.slug.clone(),
            project: p.slug.clone(),
            goal: v.goal_slug.clone(),
            text: v.text.clone(),
            value: v.value,
            comparator: v.comparator,
            approximate: v.approximate,
            unit: v.unit.clone(),
            period_from: v.period_from,
            period_to: v.period_to,
            period_text: v.period_text.clone(),
            provenance: v.provenance.clone(),
        };
        checker.note(|| place("indicator value", &v.slug, &v.provenance), draft.check());
    }
    for c in &p.collaborations {
        let draft = CollaborationDraft {
            slug: c.slug.clone(),
            organisation_a: c.organisation_a_slug.clone(),
            organisation_b: c.organisation_b_slug.clone(),
            kind: c.kind,
            project: Some(p.slug.clone()),
            valid_from: c.valid_from,
            valid_to: c.valid_to,
            description: c.description.clone(),
            provenance: c.provenance.clone(),
        };
        checker.note(|| place("collaboration", &c.slug, &c.provenance), draft.check());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_map_passes_the_rules() {
        let map = crate::domain::reference::builtin().expect("the map");
        let found = check(&map.records);
        assert!(found.is_empty(), "{} violations, first: {:?}", found.len(), found.first());
    }
}
