//! Reads the seed-facts format (`data/seed-facts.json`, schema_version 1) into
//! [`RegistryRecords`]. Every error names the JSON path and the reason, and parsing finishes
//! before anything is written, so a malformed file changes nothing.
//!
//! Mapping choices (see also README "Demo registry"):
//! - An entity without its own `verified` flag counts as verified: the flag in this format marks
//!   doubtful facts (`verified: false`); facts inside carry their own flags.
//! - Municipalities named as project partners become organisations of kind `municipality`
//!   with slug `org-<municipality slug>`, so every partner is an organisation.
//! - A project's `partners`, `project_owners`, `lead`, `driven_by` and `funder` merge into one
//!   partner row per organisation, with the strongest role (lead > owner > partner > funder).
//! - `people` are not imported: contact persons are personal data the registry does not need.

pub mod formats;
pub mod gazetteer;
pub mod intake;
mod json;
pub mod records;
pub mod rules;
pub mod tabular;

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use entity::enums::{
    BudgetKind, ChangeKind, CodeScheme, CollaborationKind, Comparator, GoalKind, LifecycleStatus, OrganisationKind,
    PartnerRole, RegionKind,
};
use json::Node;
pub use records::*;

use crate::domain::dates::{DateSpan, parse_partial_date, year_span};
use crate::domain::identity;

/// A reason the file cannot be imported, at a JSON path such as `$.projects[3].budget[0].amount`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ImportError {
    pub path: String,
    pub reason: String,
}

/// Parses and checks a whole seed-facts file.
pub fn parse_seed_facts(bytes: &[u8]) -> Result<RegistryRecords, ImportError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| ImportError { path: "$".into(), reason: format!("not valid JSON: {error}") })?;
    let root = Node::root(&value);
    root.expect_object()?;
    let version = root.field("meta").field("schema_version");
    match version.opt_i64()? {
        Some(1) => {}
        Some(other) => return Err(version.error(format!("schema_version {other} is not supported (expected 1)"))),
        None => return Err(version.error("missing: the file must say which schema_version it follows")),
    }
    let mut reader = Reader::default();
    reader.read_sources(&root.field("meta").field("sources"))?;
    for node in root.field("countries").items()? {
        reader.read_country(&node)?;
    }
    for node in root.field("regions").items()? {
        reader.read_region(&node)?;
    }
    for node in root.field("municipalities").items()? {
        reader.read_municipality(&node)?;
    }
    for node in root.field("organisations").items()? {
        reader.read_organisation(&node)?;
    }
    for node in root.field("programmes").items()? {
        reader.read_programme(&node)?;
    }
    for node in root.field("projects").items()?.into_iter().chain(root.field("related_projects").items()?) {
        reader.read_project(&node)?;
    }
    reader.finish()
}

#[derive(Default)]
struct Reader {
    records: RegistryRecords,
    source_keys: HashSet<String>,
    /// Municipalities that act as partners, keyed by municipality slug.
    municipal_partners: BTreeMap<String, Provenance>,
    /// References to check once every entity is known: (path, kind, slug).
    references: Vec<(String, &'static str, String)>,
    /// Memberships listed on a region (`members`), added to their municipality at the end.
    pending_memberships: Vec<(String, MembershipRecord)>,
    /// (path, organisation, successor, provenance) from `successor` fields.
    organisation_successors: Vec<(String, String, String, Provenance)>,
    /// Organisations whose existence note says they were formed by a merger.
    formed_by_merger: HashSet<String>,
}

impl Reader {
    fn provenance(&mut self, node: &Node, inherited: Option<&Provenance>) -> Result<Provenance, ImportError> {
        let source = node.opt_str("source")?.map(str::to_owned).or_else(|| inherited.and_then(|p| p.source.clone()));
        if let Some(key) = &source {
            self.note_source(key);
        }
        let verified = node.opt_bool("verified")?.unwrap_or_else(|| inherited.is_none_or(|p| p.verified));
        Ok(Provenance { source, verified, locator: None })
    }

    /// Sources cited but not described in `meta.sources` (seed files, URLs) get a row too.
    fn note_source(&mut self, key: &str) {
        if self.source_keys.insert(key.to_owned()) {
            let (kind, url) = if key.starts_with("http://") || key.starts_with("https://") {
                ("web page", Some(key.to_owned()))
            } else if key.ends_with(".txt") && key.chars().take(3).all(|c| c.is_ascii_digit()) {
                ("seed document", None)
            } else {
                ("reference", None)
            };
            self.records.sources.push(SourceRecord {
                key: key.to_owned(),
                kind: kind.into(),
                title: Some(key.to_owned()),
                url,
                locator: None,
                description: None,
            });
        }
    }

    fn refer(&mut self, node: &Node, kind: &'static str, slug: &str) {
        self.references.push((node.path(), kind, slug.to_owned()));
    }

    fn read_sources(&mut self, node: &Node) -> Result<(), ImportError> {
        for (key, entry) in node.entries()? {
            entry.expect_object()?;
            self.source_keys.insert(key.clone());
            let is_url = key.starts_with("http://") || key.starts_with("https://");
            self.records.sources.push(SourceRecord {
                kind: entry.opt_str("kind")?.unwrap_or(if is_url { "web page" } else { "reference" }).to_owned(),
                title: Some(key.clone()),
                url: is_url.then(|| key.clone()),
                locator: entry.opt_str("locator")?.map(str::to_owned),
                description: entry.opt_str("what")?.map(str::to_owned),
                key,
            });
        }
        Ok(())
    }

    fn read_country(&mut self, node: &Node) -> Result<(), ImportError> {
        let code = node.req_str("id")?;
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(node.field("id").error(format!("`{code}` is not an ISO 3166-1 alpha-2 code")));
        }
        let record = CountryRecord {
            code: code.to_owned(),
            name: node.req_str("name")?.to_owned(),
            name_en: node.opt_str("name_en")?.map(str::to_owned),
            eu_member: node.opt_bool("eu_member")?.unwrap_or(false),
            provenance: self.provenance(node, None)?,
        };
        self.records.countries.push(record);
        Ok(())
    }

    fn read_codes(&mut self, node: &Node, inherited: &Provenance) -> Result<Vec<CodeRecord>, ImportError> {
        let mut codes = Vec::new();
        for code in node.field("codes").items()? {
            let scheme_node = code.field("scheme");
            let scheme_text = scheme_node.as_str()?;
            let scheme = CodeScheme::parse(&scheme_text.replace('ä', "a")).ok_or_else(|| {
                scheme_node.error(format!(
                    "unknown code scheme `{scheme_text}` (expected one of {})",
                    CodeScheme::ALL.join(", ")
                ))
            })?;
            let valid_from = code.opt_date("valid_from")?;
            let valid_to = code.opt_date("valid_to")?;
            check_order(&code, valid_from, valid_to)?;
            codes.push(CodeRecord {
                scheme,
                value: code.req_str("value")?.to_owned(),
                valid_from,
                valid_to,
                nuts_version: code.opt_str("nuts_version")?.map(str::to_owned),
                provenance: self.provenance(&code, Some(inherited))?,
            });
        }
        Ok(codes)
    }

    fn read_region(&mut self, node: &Node) -> Result<(), ImportError> {
        let slug = node.req_str("id")?.to_owned();
        let kind_node = node.field("type");
        let kind_text = kind_node.as_str()?;
        let kind = RegionKind::parse(&kind_text.replace('ä', "a")).ok_or_else(|| {
            kind_node
                .error(format!("unknown region type `{kind_text}` (expected one of {})", RegionKind::ALL.join(", ")))
        })?;
        let provenance = self.provenance(node, None)?;
        let country = node.opt_str("country")?.map(str::to_owned);
        if let Some(code) = &country {
            self.refer(&node.field("country"), "country", code);
        }
        // A region may have existed in several spans (Telemark: until 2019 and again from 2024);
        // the row keeps the outer bounds, memberships and codes carry the detail.
        let mut valid_from = Some(NaiveDate::MAX);
        let mut valid_to = Some(NaiveDate::MIN);
        let spans = node.field("existence").items()?;
        for span in &spans {
            let from = span.opt_date("from")?;
            let to = span.opt_date("to")?;
            check_order(span, from, to)?;
            valid_from = valid_from.zip(from).map(|(a, b)| a.min(b));
            valid_to = valid_to.zip(to).map(|(a, b)| a.max(b));
        }
        if spans.is_empty() {
            (valid_from, valid_to) = (None, None);
        }
        let codes = self.read_codes(node, &provenance)?;
        let mut parents = Vec::new();
        for key in ["nuts1_parent", "nuts2_parent"] {
            for parent in node.field(key).items()? {
                let code = parent.req_str("code")?;
                let parent_slug = format!("nuts-{code}");
                self.refer(&parent.field("code"), "region", &parent_slug);
                let nuts_version = parent.opt_str("nuts_version")?.map(str::to_owned);
                // The link holds while the region's own NUTS code of that version holds.
                let own_code = codes.iter().find(|c| {
                    matches!(c.scheme, CodeScheme::Nuts1 | CodeScheme::Nuts2 | CodeScheme::Nuts3)
                        && c.nuts_version == nuts_version
                });
                parents.push(ParentRecord {
                    parent_slug,
                    valid_from: own_code.and_then(|c| c.valid_from),
                    valid_to: own_code.and_then(|c| c.valid_to),
                    nuts_version,
                    provenance: self.provenance(&parent, Some(&provenance))?,
                });
            }
        }
        if let Some(parent_slug) = node.opt_str("parent_region")? {
            self.refer(&node.field("parent_region"), "region", parent_slug);
            parents.push(ParentRecord {
                parent_slug: parent_slug.to_owned(),
                nuts_version: None,
                valid_from: None,
                valid_to: None,
                provenance: provenance.clone(),
            });
        }
        // NUTS codes nest by prefix (SE33 ⊂ SE3): a statistical region's parent is definitional.
        if let Some(code) = slug.strip_prefix("nuts-").filter(|code| code.len() > 3) {
            parents.push(ParentRecord {
                parent_slug: format!("nuts-{}", &code[..code.len() - 1]),
                nuts_version: None,
                valid_from: None,
                valid_to: None,
                provenance: provenance.clone(),
            });
        }
        // Sub-regions list their member municipalities on the region.
        if let Some(members) = node.field("members").opt_items()? {
            let member_provenance = Provenance {
                source: node.opt_str("members_source")?.map(str::to_owned).or(provenance.source.clone()),
                verified: provenance.verified,
                locator: None,
            };
            if let Some(key) = &member_provenance.source {
                self.note_source(key);
            }
            // A member is a municipality slug, or an object with its own provenance and period.
            for member in members {
                let (municipality, valid_from, valid_to, member_provenance) = if member.value().is_object() {
                    let from = member.opt_date("from")?;
                    let to = member.opt_date("to")?;
                    check_order(&member, from, to)?;
                    (
                        member.req_str("municipality")?.to_owned(),
                        from,
                        to,
                        self.provenance(&member, Some(&member_provenance))?,
                    )
                } else {
                    (member.as_str()?.to_owned(), None, None, member_provenance.clone())
                };
                let reference = if member.value().is_object() { member.field("municipality") } else { member.clone() };
                self.refer(&reference, "municipality", &municipality);
                self.pending_memberships.push((
                    municipality,
                    MembershipRecord { region_slug: slug.clone(), valid_from, valid_to, provenance: member_provenance },
                ));
            }
        }
        let status = match node.opt_str("status")? {
            None | Some("active") => LifecycleStatus::Active,
            Some("dissolved") => LifecycleStatus::Dissolved,
            Some(other) => {
                return Err(node
                    .field("status")
                    .error(format!("unknown status `{other}` (expected active or dissolved)")));
            }
        };
        self.records.regions.push(RegionRecord {
            name: node.req_str("name")?.to_owned(),
            short_name: node.opt_str("short_name")?.map(str::to_owned),
            kind,
            country,
            status,
            valid_from,
            valid_to,
            note: node.opt_str("note")?.map(str::to_owned),
            provenance,
            codes,
            parents,
            slug,
            attach_only: false,
        });
        Ok(())
    }

    fn read_municipality(&mut self, node: &Node) -> Result<(), ImportError> {
        let slug = node.req_str("id")?.to_owned();
        let provenance = self.provenance(node, None)?;
        let country = node.req_str("country")?.to_owned();
        self.refer(&node.field("country"), "country", &country);
        let status = match node.req_str("status")? {
            "active" => LifecycleStatus::Active,
            "dissolved" => LifecycleStatus::Dissolved,
            other => {
                return Err(node
                    .field("status")
                    .error(format!("unknown status `{other}` (expected active or dissolved)")));
            }
        };
        let successor = node.field("successor");
        let (successor_slug, dissolved_on) = if successor.is_present() {
            let target = successor.req_str("municipality")?.to_owned();
            self.refer(&successor.field("municipality"), "municipality", &target);
            let from = successor.opt_date("from")?;
            (Some(target), from.and_then(|day| day.pred_opt()))
        } else {
            (None, None)
        };
        if status == LifecycleStatus::Dissolved && successor_slug.is_none() && node.field("successor").is_present() {
            return Err(successor.error("a successor needs a municipality"));
        }
        let codes = self.read_codes(node, &provenance)?;
        let mut memberships = Vec::new();
        for membership in node.field("region_memberships").items()? {
            let region_slug = membership.req_str("region")?.to_owned();
            self.refer(&membership.field("region"), "region", &region_slug);
            let valid_from = membership.opt_date("from")?;
            let valid_to = membership.opt_date("to")?;
            check_order(&membership, valid_from, valid_to)?;
            memberships.push(MembershipRecord {
                region_slug,
                valid_from,
                valid_to,
                provenance: self.provenance(&membership, Some(&provenance))?,
            });
        }
        let established_on = node.field("established").opt_date("value")?;
        let admin_centre = node.field("admin_centre").opt_str("value")?.map(str::to_owned);
        self.records.municipalities.push(MunicipalityRecord {
            name: node.req_str("name")?.to_owned(),
            country,
            status,
            successor_slug,
            dissolved_on,
            established_on,
            admin_centre,
            note: node.opt_str("note")?.map(str::to_owned),
            provenance,
            codes,
            memberships,
            slug,
            names: Vec::new(),
            attach_only: false,
        });
        Ok(())
    }

    fn read_organisation(&mut self, node: &Node) -> Result<(), ImportError> {
        let slug = node.req_str("id")?.to_owned();
        let kind_node = node.field("type");
        let kind_text = kind_node.as_str()?;
        let kind = OrganisationKind::parse(kind_text).ok_or_else(|| {
            kind_node.error(format!(
                "unknown organisation type `{kind_text}` (expected one of {})",
                OrganisationKind::ALL.join(", ")
            ))
        })?;
        let country = node.opt_str("country")?.map(str::to_owned);
        if let Some(code) = &country {
            self.refer(&node.field("country"), "country", code);
        }
        let municipality_slug = node.opt_str("municipality")?.map(str::to_owned);
        if let Some(municipality) = &municipality_slug {
            self.refer(&node.field("municipality"), "municipality", municipality);
        }
        let existence = node.field("existence").field("value");
        let valid_from = existence.opt_date("from")?;
        let valid_to = existence.opt_date("to")?;
        check_order(&existence, valid_from, valid_to)?;
        let provenance = self.provenance(node, None)?;
        let name = node.req_str("name")?.to_owned();
        let org_number_node = node.field("org_number").field("value");
        let org_number = match node.field("org_number").opt_str("value")? {
            Some(text) => Some(
                identity::org_number(country.as_deref(), text).map_err(|error| org_number_node.error(error.message))?,
            ),
            None => None,
        };
        let ror_node = node.field("ror").field("value");
        let ror = match node.field("ror").opt_str("value")? {
            Some(text) => Some(identity::ror_id(text).map_err(|error| ror_node.error(error.message))?),
            None => None,
        };
        if let Some(successor) = node.opt_str("successor")? {
            self.refer(&node.field("successor"), "organisation", successor);
            self.organisation_successors.push((
                node.field("successor").path(),
                slug.clone(),
                successor.to_owned(),
                provenance.clone(),
            ));
        }
        let merger_note = node.field("existence").opt_str("note")?.is_some_and(|note| note.contains("merger"));
        if merger_note {
            self.formed_by_merger.insert(slug.clone());
        }
        let names = if valid_from.is_some() || valid_to.is_some() {
            vec![NameRecord { name: name.clone(), valid_from, valid_to, provenance: provenance.clone() }]
        } else {
            Vec::new()
        };
        let record = OrganisationRecord {
            name,
            short_name: node.opt_str("short_name")?.map(str::to_owned),
            kind,
            kind_label: None,
            country,
            municipality_slug,
            represents_municipality_slug: None,
            org_number,
            ror,
            valid_from,
            valid_to,
            provenance,
            slug,
            names,
        };
        self.records.organisations.push(record);
        Ok(())
    }

    fn read_programme(&mut self, node: &Node) -> Result<(), ImportError> {
        let slug = node.req_str("id")?.to_owned();
        let mut organisation = |key: &str| -> Result<Option<String>, ImportError> {
            let value = node.opt_str(key)?.map(str::to_owned);
            if let Some(target) = &value {
                self.refer(&node.field(key), "organisation", target);
            }
            Ok(value)
        };
        let owner_slug = organisation("owner")?;
        let funder_slug = organisation("funder")?;
        let country = node.opt_str("country")?.map(str::to_owned);
        if let Some(code) = &country {
            self.refer(&node.field("country"), "country", code);
        }
        let period = node.field("period");
        let span = period.field("value");
        let valid_from = span.opt_span("from")?.map(|s| s.first);
        let valid_to = span.opt_span("to")?.map(|s| s.last);
        check_order(&span, valid_from, valid_to)?;
        let record = ProgrammeRecord {
            name: node.req_str("name")?.to_owned(),
            full_name: node.opt_str("full_name")?.map(str::to_owned),
            country,
            owner: owner_slug,
            funder: funder_slug,
            valid_from,
            valid_to,
            period_text: period.opt_str("text")?.map(str::to_owned),
            provenance: self.provenance(node, None)?,
            slug,
        };
        self.records.programmes.push(record);
        Ok(())
    }

    /// A partner reference is either `org` or `municipality` (a municipality acting as partner).
    fn partner_slug(&mut self, node: &Node, provenance: &Provenance) -> Result<String, ImportError> {
        if let Some(org) = node.opt_str("org")? {
            self.refer(&node.field("org"), "organisation", org);
            return Ok(org.to_owned());
        }
        if let Some(municipality) = node.opt_str("municipality")? {
            self.refer(&node.field("municipality"), "municipality", municipality);
            self.municipal_partners.entry(municipality.to_owned()).or_insert_with(|| provenance.clone());
            return Ok(municipal_organisation_slug(municipality));
        }
        Err(node.error("a partner needs `org` or `municipality`"))
    }

    fn read_project(&mut self, node: &Node) -> Result<(), ImportError> {
        let slug = node.req_str("id")?.to_owned();
        let mut provenance = self.provenance(node, None)?;
        // A related project whose programme link is doubtful is flagged as a whole.
        if node.opt_bool("programme_verified")? == Some(false) {
            provenance.verified = false;
        }
        let programme_slug = node.opt_str("programme")?.map(str::to_owned);
        if let Some(programme) = &programme_slug {
            self.refer(&node.field("programme"), "programme", programme);
        }
        let period = node.field("period");
        let from = period.opt_span("from")?;
        let to = period.opt_span("to")?;
        let (valid_from, valid_to) = (from.map(|s| s.first), to.map(|s| s.last));
        check_order(&period, valid_from, valid_to)?;
        let period_approximate = from.is_some_and(|s| s.approximate) || to.is_some_and(|s| s.approximate);
        let period_text = period.opt_str("text")?.map(str::to_owned);

        let mut budget_lines = Vec::new();
        for line in node.field("budget").items()? {
            let label = line.req_str("kind")?.to_owned();
            let lower = label.to_lowercase();
            let kind = if lower.starts_with("total") {
                BudgetKind::Total
            } else if lower.starts_with("eu") {
                BudgetKind::Eu
            } else if lower.contains("national") || lower.contains("state") {
                BudgetKind::National
            } else {
                BudgetKind::Other
            };
            let amount = line.req_f64("amount")?;
            if amount < 0.0 {
                return Err(line.field("amount").error("a budget amount cannot be negative"));
            }
            let currency = line.req_str("currency")?.to_owned();
            if !crate::domain::currency::is_iso4217(&currency) {
                return Err(line
                    .field("currency")
                    .error(format!("`{currency}` is not an active ISO 4217 currency code (e.g. EUR, NOK, SEK)")));
            }
            budget_lines.push(BudgetLineRecord {
                kind,
                is_final: lower.contains("final"),
                label,
                amount,
                currency,
                provenance: self.provenance(&line, Some(&provenance))?,
            });
        }

        // Partners, merged per organisation with the strongest role.
        let mut partners: Vec<PartnerRecord> = Vec::new();
        let mut add_partner =
            |organisation_slug: String, entry_provenance: Provenance, role: PartnerRole, label: Option<String>| {
                match partners.iter_mut().find(|p| p.organisation_slug == organisation_slug) {
                    Some(existing) => {
                        if role_rank(role) > role_rank(existing.role) {
                            existing.role = role;
                        }
                        if let Some(label) = label {
                            existing.role_label = Some(match existing.role_label.take() {
                                Some(previous) if previous != label => format!("{previous}; {label}"),
                                _ => label,
                            });
                        }
                        if entry_provenance.verified && !existing.provenance.verified {
                            existing.provenance = entry_provenance;
                        }
                    }
                    None => partners.push(PartnerRecord {
                        organisation_slug,
                        role,
                        role_label: label,
                        budget_share: None,
                        provenance: entry_provenance,
                    }),
                }
            };
        let mut entries = Vec::new();
        for entry in node.field("partners").items()? {
            entries.push((entry.clone(), PartnerRole::Partner, entry.opt_str("role")?.map(str::to_owned)));
        }
        for entry in node.field("project_owners").items()? {
            entries.push((entry, PartnerRole::Owner, Some("project owner".to_owned())));
        }
        if node.field("lead").is_present() {
            entries.push((node.field("lead"), PartnerRole::Lead, Some("project lead".to_owned())));
        }
        for entry in node.field("driven_by").items()? {
            entries.push((entry, PartnerRole::Lead, Some("driven by".to_owned())));
        }
        for (entry, role, label) in entries {
            // `"org": null` marks a partner the source mentions without naming it: nothing to link.
            let unnamed = entry.value().get("org").is_some_and(serde_json::Value::is_null)
                && !entry.field("municipality").is_present();
            if unnamed {
                continue;
            }
            let entry_provenance = self.provenance(&entry, Some(&provenance))?;
            let organisation_slug = self.partner_slug(&entry, &entry_provenance)?;
            add_partner(organisation_slug, entry_provenance, role, label);
        }
        // Organisations named by a plain slug field carry the project's provenance.
        for (key, role, label) in
            [("norwegian_owner", PartnerRole::Owner, "Norwegian owner"), ("funder", PartnerRole::Funder, "funder")]
        {
            if let Some(organisation) = node.opt_str(key)? {
                self.refer(&node.field(key), "organisation", organisation);
                add_partner(organisation.to_owned(), provenance.clone(), role, Some(label.to_owned()));
            }
        }

        let mut goals = Vec::new();
        for goal in node.field("goals").items()? {
            let kind_label = goal.req_str("kind")?.to_owned();
            let target = goal.field("target");
            let target_value = target.opt_f64("value")?;
            goals.push(GoalRecord {
                slug: goal.req_str("id")?.to_owned(),
                kind: goal_kind(&kind_label),
                kind_label,
                text: goal.req_str("text")?.to_owned(),
                target_value,
                target_comparator: match target.opt_str("comparator")? {
                    Some(text) => Some(comparator(&target.field("comparator"), text)?),
                    None => target_value.map(|_| Comparator::Eq),
                },
                target_unit: target.opt_str("unit")?.map(str::to_owned),
                provenance: self.provenance(&goal, Some(&provenance))?,
            });
        }
        let goal_slugs: HashSet<String> = goals.iter().map(|g| g.slug.clone()).collect();

        let mut indicator_values = Vec::new();
        for result in node.field("results").items()? {
            let goal_slug = result.opt_str("goal")?.map(str::to_owned);
            if let Some(goal) = &goal_slug
                && !goal_slugs.contains(goal)
            {
                return Err(result
                    .field("goal")
                    .error(format!("unknown goal `{goal}`: not a goal of project `{slug}`")));
            }
            let value = result.opt_f64("value")?;
            let period = result.field("period");
            let from = period.opt_span("from")?;
            let to = period.opt_span("to")?;
            check_order(&period, from.map(|s| s.first), to.map(|s| s.last))?;
            indicator_values.push(IndicatorValueRecord {
                slug: result.req_str("id")?.to_owned(),
                goal_slug,
                text: result.req_str("text")?.to_owned(),
                value,
                comparator: match result.opt_str("comparator")? {
                    Some(text) => Some(comparator(&result.field("comparator"), text)?),
                    None => value.map(|_| Comparator::Eq),
                },
                approximate: result.opt_bool("approximate")?.unwrap_or(false),
                unit: result.opt_str("unit")?.map(str::to_owned),
                period_from: from.map(|s| s.first),
                period_to: to.map(|s| s.last),
                period_text: period.opt_str("text")?.map(str::to_owned),
                provenance: self.provenance(&result, Some(&provenance))?,
            });
        }
        // Figures the sources state about a project without tying them to a goal.
        for (key, label) in [("indicators", "indicator"), ("counts", "count")] {
            for (index, figure) in node.field(key).items()?.into_iter().enumerate() {
                let value = figure.req_f64("value")?;
                let unit = figure.opt_str("unit")?.map(str::to_owned);
                indicator_values.push(IndicatorValueRecord {
                    slug: format!("{slug}-{label}-{}", index + 1),
                    goal_slug: None,
                    text: figure
                        .opt_str("text")?
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("{value} {}", unit.clone().unwrap_or_default())),
                    value: Some(value),
                    comparator: Some(Comparator::Eq),
                    approximate: false,
                    unit,
                    period_from: None,
                    period_to: None,
                    period_text: None,
                    provenance: self.provenance(&figure, Some(&provenance))?,
                });
            }
        }

        let mut collaborations = Vec::new();
        let between = node.field("collaboration_between").items()?;
        let mut sides = Vec::new();
        for side in &between {
            let side_provenance = self.provenance(side, Some(&provenance))?;
            sides.push((self.partner_slug(side, &side_provenance)?, side_provenance));
        }
        for (i, (a, a_provenance)) in sides.iter().enumerate() {
            for (b, b_provenance) in &sides[i + 1..] {
                collaborations.push(CollaborationRecord {
                    slug: format!("{slug}-collaboration-{}", collaborations.len() + 1),
                    organisation_a_slug: a.clone(),
                    organisation_b_slug: b.clone(),
                    kind: CollaborationKind::Network,
                    valid_from,
                    valid_to,
                    description: Some(format!("collaboration within project {slug}")),
                    provenance: Provenance {
                        source: a_provenance.source.clone(),
                        verified: a_provenance.verified && b_provenance.verified,
                        locator: None,
                    },
                });
            }
        }

        self.records.projects.push(ProjectRecord {
            name: node.req_str("name")?.to_owned(),
            short_name: node.opt_str("short_name")?.map(str::to_owned),
            programme_slug,
            valid_from,
            valid_to,
            period_text,
            period_approximate,
            provenance,
            budget_lines,
            partners,
            goals,
            indicator_values,
            collaborations,
            slug,
        });
        Ok(())
    }

    /// Adds the municipal partner organisations, attaches region-listed memberships and checks
    /// every reference and uniqueness rule.
    /// A `successor` link becomes a change on the successor's first day: a merger when the
    /// successor has several predecessors or says it was formed by one, a rename otherwise
    /// (Høgskolen i Sørøst-Norge → Universitetet i Sørøst-Norge on 2018-05-04).
    fn organisation_changes(&mut self) -> Result<(), ImportError> {
        let successors = std::mem::take(&mut self.organisation_successors);
        for (path, from, to, provenance) in &successors {
            let Some(successor) = self.records.organisations.iter().find(|o| &o.slug == to) else {
                continue; // reported as an unknown reference
            };
            let predecessors = successors.iter().filter(|(_, _, t, _)| t == to).count();
            let predecessor_end = self.records.organisations.iter().find(|o| &o.slug == from).and_then(|o| o.valid_to);
            let day =
                successor.valid_from.or_else(|| predecessor_end.and_then(|end| end.succ_opt())).ok_or_else(|| {
                    ImportError {
                        path: path.clone(),
                        reason: format!(
                            "`{to}` has no start date and `{from}` no end date: the day of the change is unknown"
                        ),
                    }
                })?;
            let kind = if predecessors > 1 || self.formed_by_merger.contains(to) {
                ChangeKind::Merger
            } else {
                ChangeKind::NameChange
            };
            self.records.organisation_changes.push(OrganisationChangeRecord {
                day,
                kind,
                from_slug: from.clone(),
                to_slug: to.clone(),
                note: None,
                provenance: provenance.clone(),
            });
        }
        Ok(())
    }

    fn finish(mut self) -> Result<RegistryRecords, ImportError> {
        for (municipality_slug, provenance) in std::mem::take(&mut self.municipal_partners) {
            let Some(municipality) = self.records.municipalities.iter().find(|m| m.slug == municipality_slug) else {
                continue; // reported below as an unknown reference
            };
            self.records.organisations.push(OrganisationRecord {
                slug: municipal_organisation_slug(&municipality_slug),
                name: municipality.name.clone(),
                short_name: None,
                kind: OrganisationKind::Municipality,
                kind_label: Some("municipality acting as partner".into()),
                country: Some(municipality.country.clone()),
                municipality_slug: Some(municipality_slug.clone()),
                represents_municipality_slug: Some(municipality_slug.clone()),
                org_number: None,
                ror: None,
                valid_from: municipality.established_on,
                valid_to: municipality.dissolved_on,
                provenance: Provenance {
                    source: municipality.provenance.source.clone(),
                    verified: provenance.verified || municipality.provenance.verified,
                    locator: None,
                },
                names: Vec::new(),
            });
        }
        self.organisation_changes()?;
        for (municipality_slug, membership) in std::mem::take(&mut self.pending_memberships) {
            if let Some(municipality) = self.records.municipalities.iter_mut().find(|m| m.slug == municipality_slug) {
                let duplicate = municipality.memberships.iter().any(|m| {
                    m.region_slug == membership.region_slug
                        && m.valid_from == membership.valid_from
                        && m.valid_to == membership.valid_to
                });
                if !duplicate {
                    municipality.memberships.push(membership);
                }
            }
        }

        let known = |kind: &str| -> HashSet<&str> {
            match kind {
                "country" => self.records.countries.iter().map(|c| c.code.as_str()).collect(),
                "region" => self.records.regions.iter().map(|r| r.slug.as_str()).collect(),
                "municipality" => self.records.municipalities.iter().map(|m| m.slug.as_str()).collect(),
                "organisation" => self.records.organisations.iter().map(|o| o.slug.as_str()).collect(),
                "programme" => self.records.programmes.iter().map(|p| p.slug.as_str()).collect(),
                _ => HashSet::new(),
            }
        };
        let tables: BTreeMap<&str, HashSet<&str>> = ["country", "region", "municipality", "organisation", "programme"]
            .into_iter()
            .map(|k| (k, known(k)))
            .collect();
        for (path, kind, slug) in &self.references {
            if !tables.get(kind).is_some_and(|slugs| slugs.contains(slug.as_str())) {
                return Err(ImportError { path: path.clone(), reason: format!("unknown {kind} `{slug}`") });
            }
        }
        unique_slugs("regions", self.records.regions.iter().map(|r| &r.slug))?;
        unique_slugs("municipalities", self.records.municipalities.iter().map(|m| &m.slug))?;
        unique_slugs("organisations", self.records.organisations.iter().map(|o| &o.slug))?;
        unique_slugs("programmes", self.records.programmes.iter().map(|p| &p.slug))?;
        unique_slugs("projects", self.records.projects.iter().map(|p| &p.slug))?;
        unique_slugs("goals", self.records.projects.iter().flat_map(|p| p.goals.iter().map(|g| &g.slug)))?;
        unique_slugs("results", self.records.projects.iter().flat_map(|p| p.indicator_values.iter().map(|v| &v.slug)))?;
        Ok(self.records)
    }
}

/// The organisation that stands for a municipality when it acts as a partner.
pub fn municipal_organisation_slug(municipality_slug: &str) -> String {
    format!("org-{municipality_slug}")
}

fn unique_slugs<'a>(what: &str, slugs: impl Iterator<Item = &'a String>) -> Result<(), ImportError> {
    let mut seen = HashSet::new();
    for slug in slugs {
        if !seen.insert(slug) {
            return Err(ImportError { path: format!("$.{what}"), reason: format!("id `{slug}` appears twice") });
        }
    }
    Ok(())
}

fn check_order(node: &Node, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), ImportError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(node.error(format!("period ends ({to}) before it starts ({from})"))),
        _ => Ok(()),
    }
}

fn role_rank(role: PartnerRole) -> u8 {
    match role {
        PartnerRole::Funder => 0,
        PartnerRole::Partner => 1,
        PartnerRole::Owner => 2,
        PartnerRole::Lead => 3,
    }
}

fn goal_kind(label: &str) -> GoalKind {
    match label.to_lowercase().as_str() {
        "hovedmål" | "huvudmål" | "main goal" => GoalKind::Main,
        "resultatmål" | "result" => GoalKind::Result,
        "effektmål" | "effect" => GoalKind::Effect,
        "prosjektmål" | "projektmål" => GoalKind::Project,
        "formål" | "syfte" | "purpose" => GoalKind::Purpose,
        "målbild" | "målbilde" | "vision" => GoalKind::Vision,
        "metode" | "metod" | "method" => GoalKind::Method,
        _ => GoalKind::Other,
    }
}

fn comparator(node: &Node, text: &str) -> Result<Comparator, ImportError> {
    Comparator::parse(text).ok_or_else(|| {
        node.error(format!("unknown comparator `{text}` (expected one of {})", Comparator::ALL.join(" ")))
    })
}

/// Partial dates read from a JSON node: text (`"2015-autumn"`) or a bare year number.
fn span_of(node: &Node) -> Result<Option<DateSpan>, ImportError> {
    if let Some(text) = node.value().as_str() {
        return parse_partial_date(text).map(Some).map_err(|reason| node.error(reason));
    }
    if let Some(year) = node.value().as_i64() {
        return year_span(year).map(Some).map_err(|reason| node.error(reason));
    }
    if node.value().is_null() {
        return Ok(None);
    }
    Err(node.error("expected a date (\"YYYY-MM-DD\", \"YYYY\", \"YYYY-season\") or a year number"))
}
