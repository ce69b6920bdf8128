//! What a funder's file says, before it is placed and matched ([`Batch`]), and how it becomes
//! ordinary [`RegistryRecords`] ([`resolve`]): each organisation is placed on the map (by a
//! dated municipality code, a NUTS code or a city), matched to one the registry already has (by
//! org number, ROR id, then normalised name within the same municipality) or created, and each
//! project row names its partners by slug. Matching never guesses: two candidates are an
//! ambiguity, reported against the row.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use entity::enums::{OrganisationKind, OrganisationLinkKind, PartnerRole};

use super::gazetteer::{Found, Gazetteer, name_key};
use super::records::*;
use super::tabular::RowError;
use crate::domain::reference::slugify;

/// Where a row of a file is: for provenance (`organization.csv row 7`) and errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRef {
    pub file: String,
    pub row: u64,
}

impl RowRef {
    pub fn locator(&self) -> String {
        format!("{} row {}", self.file, self.row)
    }

    /// The row a [`RowRef::locator`] names.
    pub fn parse(locator: &str) -> Option<RowRef> {
        let (file, row) = locator.rsplit_once(" row ")?;
        Some(RowRef { file: file.to_owned(), row: row.trim().parse().ok()? })
    }

    pub fn error(&self, column: Option<&str>, rule: &str, message: impl Into<String>) -> RowError {
        RowError {
            file: self.file.clone(),
            row: Some(self.row),
            column: column.map(str::to_owned),
            rule: rule.to_owned(),
            message: message.into(),
        }
    }
}

/// How a file says where an organisation is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum PlaceIn {
    #[default]
    Unknown,
    /// A municipality code (kommunenummer for NO, kommunkod for SE) of the map of some day;
    /// `row_day` is the row's own date, tried when the file's day does not fit the code.
    Code { column: String, code: String, row_day: Option<NaiveDate> },
    /// A NUTS code and/or a city name.
    Area { nuts: Option<String>, city: Option<String> },
}

/// An organisation as a file names it.
#[derive(Clone, Debug)]
pub struct OrganisationIn {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub kind_label: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Checked and normalised ([`crate::domain::identity`]).
    pub org_number: Option<String>,
    pub ror: Option<String>,
    /// The file's own identifier of the organisation (CORDIS organisationID), for deduplication.
    pub file_key: Option<String>,
    pub place: PlaceIn,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub names: Vec<NameRecord>,
    /// Other names it goes by (ROR's labels and aliases), for matching only.
    pub aliases: Vec<String>,
    pub at: RowRef,
}

impl OrganisationIn {
    /// A short name, unless it is a placeholder (`ukjent`, `n/a`, `-`).
    pub fn set_short_name(&mut self, short: Option<&str>) {
        self.short_name = short
            .map(str::trim)
            .filter(|s| !matches!(s.to_lowercase().as_str(), "" | "-" | "ukjent" | "okänd" | "unknown" | "n/a" | "na"))
            .map(str::to_owned);
    }

    pub fn new(name: &str, at: RowRef) -> Self {
        Self {
            name: name.trim().to_owned(),
            short_name: None,
            kind: OrganisationKind::Unknown,
            kind_label: None,
            country: None,
            org_number: None,
            ror: None,
            file_key: None,
            place: PlaceIn::Unknown,
            valid_from: None,
            valid_to: None,
            names: Vec::new(),
            aliases: Vec::new(),
            at,
        }
    }

    /// The key rows naming the same organisation share within one file.
    fn dedup_key(&self) -> String {
        if let Some(number) = &self.org_number {
            return format!("org:{number}");
        }
        if let Some(ror) = &self.ror {
            return format!("ror:{ror}");
        }
        if let Some(key) = &self.file_key {
            return format!("file:{key}");
        }
        let place = match &self.place {
            PlaceIn::Unknown => String::new(),
            PlaceIn::Code { code, .. } => code.clone(),
            PlaceIn::Area { nuts, city } => {
                format!("{}|{}", nuts.as_deref().unwrap_or(""), city.as_deref().map(name_key).unwrap_or_default())
            }
        };
        format!("name:{}|{}|{place}", self.country.as_deref().unwrap_or(""), name_key(&self.name))
    }
}

/// A partner row: which organisation (index into [`Batch::organisations`]) in which role.
#[derive(Clone, Debug)]
pub struct PartnerIn {
    pub organisation: usize,
    pub role: PartnerRole,
    pub role_label: Option<String>,
    pub budget_share: Option<f64>,
    pub at: RowRef,
}

/// A project with the partners the file lists (`record.partners` is filled by [`resolve`]).
#[derive(Clone, Debug)]
pub struct ProjectIn {
    pub record: ProjectRecord,
    pub partners: Vec<PartnerIn>,
}

/// An undated link a file states: `from` (index into [`Batch::organisations`]) is part of,
/// related to, or succeeded by the organisation with ROR id `to_ror`.
#[derive(Clone, Debug)]
pub struct LinkIn {
    pub from: usize,
    pub to_ror: String,
    pub kind: OrganisationLinkKind,
    pub at: RowRef,
}

/// Everything one import read from its files.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub source: Option<SourceRecord>,
    /// Whether the format is an authoritative register (its rows are `verified`).
    pub authoritative: bool,
    pub programmes: Vec<ProgrammeRecord>,
    pub projects: Vec<ProjectIn>,
    pub organisations: Vec<OrganisationIn>,
    /// Links from an organisation of the batch to another, named by its ROR id (it may be in
    /// the batch or already in the registry).
    pub organisation_links: Vec<LinkIn>,
    dedup: HashMap<String, usize>,
    project_index: HashMap<String, usize>,
    /// Rows the reader could not use.
    pub errors: Vec<RowError>,
    /// Rows deliberately left out (a project without Nordic partners, a record of another
    /// country), by reason.
    pub skipped: BTreeMap<String, u64>,
    /// How many data rows the files held.
    pub rows: u64,
    /// What the file itself says about its codes (a mapping's `codes_on`, `nuts_version`).
    pub codes_on: Option<NaiveDate>,
    pub nuts_version: Option<String>,
}

impl Batch {
    /// The provenance of a row of this batch.
    pub fn provenance(&self, at: &RowRef) -> Provenance {
        Provenance {
            source: self.source.as_ref().map(|s| s.key.clone()),
            verified: self.authoritative,
            locator: Some(at.locator()),
        }
    }

    /// Adds an organisation, or returns the one already read under the same key (an org number,
    /// ROR id, file id, or name and place), filling in what the earlier row left blank.
    pub fn organisation(&mut self, organisation: OrganisationIn) -> usize {
        let key = organisation.dedup_key();
        if let Some(&at) = self.dedup.get(&key) {
            let known = &mut self.organisations[at];
            if known.short_name.is_none() {
                known.short_name = organisation.short_name;
            }
            if known.place == PlaceIn::Unknown {
                known.place = organisation.place;
            }
            if known.ror.is_none() {
                known.ror = organisation.ror;
            }
            return at;
        }
        self.organisations.push(organisation);
        self.dedup.insert(key, self.organisations.len() - 1);
        self.organisations.len() - 1
    }

    /// The project with `slug`, added from `make` the first time.
    pub fn project(&mut self, slug: &str, make: impl FnOnce() -> ProjectRecord) -> &mut ProjectIn {
        let at = match self.project_index.get(slug) {
            Some(&at) => at,
            None => {
                self.projects.push(ProjectIn { record: make(), partners: Vec::new() });
                self.project_index.insert(slug.to_owned(), self.projects.len() - 1);
                self.projects.len() - 1
            }
        };
        &mut self.projects[at]
    }

    /// The project read earlier under `slug`.
    pub fn project_mut(&mut self, slug: &str) -> Option<&mut ProjectIn> {
        let at = *self.project_index.get(slug)?;
        self.projects.get_mut(at)
    }

    pub fn has_project(&self, slug: &str) -> bool {
        self.project_index.contains_key(slug)
    }

    pub fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
    }
}

/// An organisation the registry already has, as the record an import would write for it (its
/// dated names left out).
pub type KnownOrganisation = OrganisationRecord;

/// How an organisation of the file was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    OrgNumber,
    Ror,
    Name,
}

/// One example line of a report.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MatchExample {
    pub name: String,
    pub slug: Option<String>,
    pub by: Option<MatchedBy>,
    pub candidates: Vec<String>,
    pub locator: String,
}

/// What matching found, with counts and the first examples of each kind.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MatchReport {
    pub matched: BTreeMap<MatchedBy, u64>,
    pub created: u64,
    pub ambiguous: u64,
    /// Records matched only by name when the format asks for more (ROR): offered to editors as
    /// candidates, not written.
    pub candidates: u64,
    /// Organisations matched by org number that got their ROR id from the file.
    pub identified: u64,
    /// Organisations of NO/SE the file does not place in a municipality.
    pub unplaced: u64,
    pub matched_examples: Vec<MatchExample>,
    pub created_examples: Vec<MatchExample>,
    pub ambiguous_examples: Vec<MatchExample>,
    pub candidate_examples: Vec<MatchExample>,
    pub unplaced_examples: Vec<MatchExample>,
}

const EXAMPLES: usize = 10;

fn push_example(list: &mut Vec<MatchExample>, example: MatchExample) {
    if list.len() < EXAMPLES {
        list.push(example);
    }
}

/// Choices the caller makes (CLI flags, mapping file, mutation arguments).
#[derive(Clone, Debug, Default)]
pub struct ResolveOptions {
    /// The day the file's municipality codes refer to (inferred from the codes when `None`).
    pub codes_on: Option<NaiveDate>,
    /// The NUTS version of the file's NUTS codes (inferred when `None`).
    pub nuts_version: Option<String>,
    /// Today, the latest day a code may be read on.
    pub today: Option<NaiveDate>,
    /// A name match alone does not make a record the registry's organisation: it is offered
    /// as a candidate and not written (ROR, whose records are identities).
    pub name_matches_are_candidates: bool,
    /// A record matched by org number gives the organisation its ROR id when it has none (ROR).
    pub fill_ror_ids: bool,
}

/// A resolved batch: records to write, what matching found, rows refused.
#[derive(Debug, Default)]
pub struct Resolution {
    pub records: RegistryRecords,
    pub report: MatchReport,
    pub errors: Vec<RowError>,
    /// The day codes were read on, per country, and the NUTS version used.
    pub codes_on: BTreeMap<String, NaiveDate>,
    pub nuts_version: Option<String>,
}

/// Keeps slugs unique: taken ones (the registry's and this batch's) get a suffix.
struct SlugBook<'a> {
    taken: &'a HashSet<String>,
    mine: HashSet<String>,
}

impl SlugBook<'_> {
    fn take(&mut self, base: &str) -> String {
        let base: String = base.chars().take(100).collect::<String>().trim_end_matches('-').to_owned();
        let mut candidate = base.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) || self.mine.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        self.mine.insert(candidate.clone());
        candidate
    }
}

/// Places, matches and turns `batch` into records. Rows that cannot be placed or matched are
/// returned as errors (the caller decides whether they stop the import).
pub fn resolve(
    mut batch: Batch,
    gazetteer: &Gazetteer,
    known: &[KnownOrganisation],
    options: &ResolveOptions,
) -> Resolution {
    let today = options.today.unwrap_or(NaiveDate::MAX);
    let mut resolution = Resolution { errors: batch.errors.clone(), ..Default::default() };

    // The day each country's codes refer to, and the NUTS version.
    let mut codes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut nuts_codes = BTreeSet::new();
    for organisation in &batch.organisations {
        match (&organisation.place, &organisation.country) {
            (PlaceIn::Code { code, .. }, Some(country)) => {
                codes.entry(country.clone()).or_default().insert(code.clone());
            }
            (PlaceIn::Area { nuts: Some(nuts), .. }, _) => {
                nuts_codes.insert(nuts.clone());
            }
            _ => {}
        }
    }
    for (country, codes) in &codes {
        let day = options.codes_on.or(batch.codes_on).or_else(|| gazetteer.infer_code_day(country, codes, today));
        if let Some(day) = day {
            resolution.codes_on.insert(country.clone(), day);
        }
    }
    let nuts_version = options
        .nuts_version
        .clone()
        .or(batch.nuts_version.clone())
        .or_else(|| gazetteer.infer_nuts_version(&nuts_codes));
    resolution.nuts_version = nuts_version.clone();

    // Place every organisation.
    let mut placed: Vec<Option<String>> = Vec::with_capacity(batch.organisations.len());
    let mut refused: HashSet<usize> = HashSet::new();
    for (index, organisation) in batch.organisations.iter().enumerate() {
        let country = organisation.country.as_deref().unwrap_or("");
        let found = match &organisation.place {
            PlaceIn::Unknown => Found::None,
            PlaceIn::Code { column, code, row_day } => {
                let day = resolution.codes_on.get(country).copied().unwrap_or(today);
                match gazetteer.municipality_by_code(country, code, day, *row_day) {
                    // Svalbard, Jan Mayen and the continental shelf (21xx–23xx) and "unknown"
                    // (9999) are Norwegian but in no municipality: the row stands, unplaced.
                    Found::None if country == "NO" && outside_municipalities(code) => Found::None,
                    Found::None => {
                        resolution.errors.push(organisation.at.error(
                            Some(column),
                            "unknown_code",
                            format!(
                                "`{code}` is not a municipality code of {country} on {day} (nor at any other time on the reference map)"
                            ),
                        ));
                        refused.insert(index);
                        Found::None
                    }
                    found => found,
                }
            }
            // An unknown NUTS code (an extra-regio `NOZZZ`, a typo in a third party's file)
            // does not refuse the row: the city may still place it, else it stays unplaced.
            PlaceIn::Area { nuts, city } => {
                let nuts = nuts.as_deref().filter(|n| gazetteer.knows_nuts(n, None));
                let version = nuts.and_then(|n| nuts_version.as_deref().filter(|v| gazetteer.knows_nuts(n, Some(v))));
                gazetteer.municipality_by_city(country, city.as_deref(), nuts.map(|n| (n, version)))
            }
        };
        placed.push(match found {
            Found::One(slug, _) => Some(slug),
            Found::Several(_) | Found::None => None,
        });
    }

    // Match against the registry, then create what is new.
    let taken: HashSet<String> = known.iter().map(|k| k.slug.clone()).collect();
    let mut slugs = SlugBook { taken: &taken, mine: HashSet::new() };
    let mut by_number: HashMap<&str, Vec<&KnownOrganisation>> = HashMap::new();
    let mut by_ror: HashMap<&str, Vec<&KnownOrganisation>> = HashMap::new();
    let mut by_name: HashMap<String, Vec<&KnownOrganisation>> = HashMap::new();
    for k in known {
        if let Some(number) = &k.org_number {
            by_number.entry(number).or_default().push(k);
        }
        if let Some(ror) = &k.ror {
            by_ror.entry(ror).or_default().push(k);
        }
        for form in organisation_name_forms(&k.name, k.short_name.as_deref(), &[]) {
            let entry = by_name.entry(form).or_default();
            if !entry.iter().any(|other| other.slug == k.slug) {
                entry.push(k);
            }
        }
    }
    let mut slug_of: Vec<Option<String>> = vec![None; batch.organisations.len()];
    for (index, organisation) in batch.organisations.iter().enumerate() {
        if refused.contains(&index) {
            continue;
        }
        let example = |slug: Option<String>, by: Option<MatchedBy>, candidates: Vec<String>| MatchExample {
            name: organisation.name.clone(),
            slug,
            by,
            candidates,
            locator: organisation.at.locator(),
        };
        let municipality = placed[index].clone();
        let candidates: Option<(MatchedBy, Vec<&KnownOrganisation>)> = organisation
            .org_number
            .as_deref()
            .and_then(|n| by_number.get(n))
            .map(|c| (MatchedBy::OrgNumber, c.clone()))
            .or_else(|| organisation.ror.as_deref().and_then(|r| by_ror.get(r)).map(|c| (MatchedBy::Ror, c.clone())))
            .or_else(|| {
                // By name only within the same municipality (or, unplaced, the same country),
                // and never over an identifier that says otherwise.
                let mut same: Vec<&KnownOrganisation> = Vec::new();
                for form in organisation_name_forms(
                    &organisation.name,
                    organisation.short_name.as_deref(),
                    &organisation.aliases,
                ) {
                    for k in by_name.get(&form).into_iter().flatten() {
                        if !same.iter().any(|other| other.slug == k.slug) {
                            same.push(k);
                        }
                    }
                }
                let same: Vec<&KnownOrganisation> = same
                    .into_iter()
                    .filter(|k| match (&municipality, &k.municipality_slug) {
                        (Some(mine), Some(theirs)) => mine == theirs,
                        (Some(_), None) | (None, _) => k.country.is_some() && k.country == organisation.country,
                    })
                    .filter(|k| {
                        let both_numbered = k.org_number.is_some() && organisation.org_number.is_some();
                        let both_in_ror = k.ror.is_some() && organisation.ror.is_some();
                        !(both_numbered || both_in_ror)
                    })
                    .collect();
                (!same.is_empty()).then_some((MatchedBy::Name, same))
            });
        match candidates {
            Some((MatchedBy::Name, found)) if options.name_matches_are_candidates => {
                resolution.report.candidates += 1;
                let names = found.iter().map(|k| k.slug.clone()).collect();
                push_example(&mut resolution.report.candidate_examples, example(None, Some(MatchedBy::Name), names));
                refused.insert(index);
            }
            Some((by, found)) if found.len() == 1 => {
                *resolution.report.matched.entry(by).or_default() += 1;
                if options.fill_ror_ids
                    && by == MatchedBy::OrgNumber
                    && found[0].ror.is_none()
                    && let Some(ror) = &organisation.ror
                {
                    let mut identified = found[0].clone();
                    identified.ror = Some(ror.clone());
                    resolution.report.identified += 1;
                    resolution.records.organisations.push(identified);
                }
                push_example(
                    &mut resolution.report.matched_examples,
                    example(Some(found[0].slug.clone()), Some(by), vec![]),
                );
                slug_of[index] = Some(found[0].slug.clone());
            }
            Some((by, found)) => {
                resolution.report.ambiguous += 1;
                let names: Vec<String> = found.iter().map(|k| k.slug.clone()).collect();
                resolution.errors.push(organisation.at.error(
                    None,
                    "ambiguous_match",
                    format!(
                        "`{}` matches {} organisations by {} ({}); give the row an org number or ROR id, or merge them first",
                        organisation.name,
                        found.len(),
                        match by {
                            MatchedBy::OrgNumber => "org number",
                            MatchedBy::Ror => "ROR id",
                            MatchedBy::Name => "name in the same municipality",
                        },
                        names.join(", ")
                    ),
                ));
                push_example(&mut resolution.report.ambiguous_examples, example(None, Some(by), names));
                refused.insert(index);
            }
            None => {
                let base = format!(
                    "org-{}{}",
                    organisation.country.as_deref().map(|c| format!("{}-", c.to_lowercase())).unwrap_or_default(),
                    slugify(
                        organisation
                            .short_name
                            .as_deref()
                            .filter(|s| s.chars().count() >= 3)
                            .unwrap_or(&organisation.name)
                    )
                );
                let slug = slugs.take(&base);
                resolution.report.created += 1;
                push_example(&mut resolution.report.created_examples, example(Some(slug.clone()), None, vec![]));
                if municipality.is_none() && matches!(organisation.country.as_deref(), Some("NO" | "SE")) {
                    resolution.report.unplaced += 1;
                    push_example(&mut resolution.report.unplaced_examples, example(Some(slug.clone()), None, vec![]));
                }
                resolution.records.organisations.push(OrganisationRecord {
                    slug: slug.clone(),
                    name: organisation.name.clone(),
                    short_name: organisation.short_name.clone(),
                    kind: organisation.kind,
                    kind_label: organisation.kind_label.clone(),
                    country: organisation.country.clone(),
                    municipality_slug: municipality,
                    represents_municipality_slug: None,
                    org_number: organisation.org_number.clone(),
                    ror: organisation.ror.clone(),
                    valid_from: organisation.valid_from,
                    valid_to: organisation.valid_to,
                    provenance: batch.provenance(&organisation.at),
                    names: organisation.names.clone(),
                });
                slug_of[index] = Some(slug);
            }
        }
    }
    // Links between organisations, where both ends are known (in the file or the registry).
    let mut slug_of_ror: HashMap<&str, String> =
        known.iter().filter_map(|k| Some((k.ror.as_deref()?, k.slug.clone()))).collect();
    for (index, organisation) in batch.organisations.iter().enumerate() {
        if let (Some(ror), Some(slug)) = (organisation.ror.as_deref(), &slug_of[index]) {
            slug_of_ror.insert(ror, slug.clone());
        }
    }
    for link in &batch.organisation_links {
        let (Some(from), Some(to)) = (&slug_of[link.from], slug_of_ror.get(link.to_ror.as_str())) else { continue };
        let record = OrganisationLinkRecord {
            from_slug: from.clone(),
            to_slug: to.clone(),
            kind: link.kind,
            provenance: batch.provenance(&link.at),
        };
        // One row per pair: a related link stated by both sides is one link.
        let duplicate = resolution.records.organisation_links.iter().any(|l| {
            l.kind == record.kind
                && ((l.from_slug == record.from_slug && l.to_slug == record.to_slug)
                    || (record.kind == OrganisationLinkKind::Related
                        && l.from_slug == record.to_slug
                        && l.to_slug == record.from_slug))
        });
        if from != to && !duplicate {
            resolution.records.organisation_links.push(record);
        }
    }

    // Projects with their partners (one row per organisation: the strongest role, shares summed).
    resolution.records.sources.extend(batch.source.clone());
    resolution.records.programmes = batch.programmes.clone();
    for project in std::mem::take(&mut batch.projects) {
        let mut record = project.record;
        let mut partners: Vec<PartnerRecord> = Vec::new();
        for partner in project.partners {
            let Some(slug) = slug_of[partner.organisation].clone() else { continue };
            match partners.iter_mut().find(|p| p.organisation_slug == slug) {
                Some(existing) => {
                    if role_rank(partner.role) < role_rank(existing.role) {
                        existing.role = partner.role;
                        existing.role_label = partner.role_label.clone();
                    }
                    existing.budget_share = match (existing.budget_share, partner.budget_share) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    };
                }
                None => partners.push(PartnerRecord {
                    organisation_slug: slug,
                    role: partner.role,
                    role_label: partner.role_label.clone(),
                    budget_share: partner.budget_share,
                    provenance: batch.provenance(&partner.at),
                }),
            }
        }
        record.partners = partners;
        resolution.records.projects.push(record);
    }
    resolution
}

/// Legal forms that do not tell organisations apart ("SINTEF AS" is "SINTEF").
const LEGAL_FORMS: &[&str] =
    &["as", "asa", "ab", "hf", "sf", "kf", "iks", "ba", "sa", "publ", "oy", "oyj", "gmbh", "ltd", "inc", "the"];

/// The forms an organisation's names are matched in: each name and its " - " parts, folded
/// ([`name_key`]) and without legal forms; a short name of three letters or more.
pub fn organisation_name_forms(name: &str, short_name: Option<&str>, aliases: &[String]) -> Vec<String> {
    let mut forms = Vec::new();
    let mut add = |text: &str| {
        let key = name_key(text);
        let trimmed: Vec<&str> = key.split(' ').filter(|w| !w.is_empty() && !LEGAL_FORMS.contains(w)).collect();
        let form = trimmed.join(" ");
        if form.len() >= 3 && !forms.contains(&form) {
            forms.push(form);
        }
    };
    for text in std::iter::once(name).chain(aliases.iter().map(String::as_str)) {
        add(text);
        let bare = text.split(" (").next().unwrap_or(text);
        add(bare);
        for part in bare.split(" - ") {
            add(part);
        }
    }
    if let Some(short) = short_name {
        add(short);
    }
    forms
}

/// Norwegian codes of places outside the municipal division: Svalbard and Jan Mayen (21xx,
/// 22xx), the continental shelf (23xx) and "unknown" (9999).
fn outside_municipalities(code: &str) -> bool {
    code == "9999" || matches!(code.get(..2), Some("21" | "22" | "23"))
}

fn role_rank(role: PartnerRole) -> u8 {
    match role {
        PartnerRole::Lead => 0,
        PartnerRole::Owner => 1,
        PartnerRole::Partner => 2,
        PartnerRole::Funder => 3,
    }
}
