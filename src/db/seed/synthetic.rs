//! The synthetic registry: a deterministic, realistically shaped, clearly fake registry for
//! benchmarks and load tests (`samverka seed --synthetic`). Same scale and seed give the same rows
//! on every backend: one ChaCha stream, drawn in a fixed order, no clock and no hash-map order.
//!
//! Shape: it lives on the real map ([`RealMap`], the shipped reference map): organisations,
//! students and placements sit in the 357 Norwegian and 290 Swedish municipalities of 2024, so
//! every analysis meets the real reforms (Viken 2020–2023, the 2024 splits); organisations are
//! seated by municipality size with skewed partner degrees (a few hubs, many small actors);
//! cross-border partnerships concentrate in counties on the border. Every name says
//! "(synthetic)", every row points at the one synthetic source, students carry
//! `synthetic = true` and nothing is `verified`.

use chrono::{Datelike, Duration, NaiveDate};
use entity::enums::*;
use entity::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use crate::domain::text::search_form;

/// How big a registry to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Small,
    Medium,
    Large,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }

    /// Row targets: organisations, projects, partnerships, students, placements.
    pub fn targets(self) -> Targets {
        match self {
            Self::Small => Targets {
                organisations: 2_000,
                projects: 1_400,
                partnerships: 8_000,
                students: 10_000,
                placements: 20_000,
            },
            Self::Medium => Targets {
                organisations: 10_000,
                projects: 7_000,
                partnerships: 40_000,
                students: 100_000,
                placements: 200_000,
            },
            Self::Large => Targets {
                organisations: 50_000,
                projects: 35_000,
                partnerships: 200_000,
                students: 500_000,
                placements: 1_000_000,
            },
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Targets {
    pub organisations: usize,
    pub projects: usize,
    pub partnerships: usize,
    pub students: usize,
    pub placements: usize,
}

/// The key of the synthetic source row: `synthetic-<scale>-<seed>`. Tools look for it to tell a
/// synthetic registry (and which one) from the demo.
pub fn source_key(scale: Scale, seed: u64) -> String {
    format!("synthetic-{}-{seed}", scale.name())
}

/// Every table of a synthetic registry, parents before children, ids from 1 (the source's id
/// comes after the reference map's sources).
#[derive(Debug, Default)]
pub struct Registry {
    pub sources: Vec<source::Model>,
    pub organisations: Vec<organisation::Model>,
    pub programmes: Vec<programme::Model>,
    pub projects: Vec<project::Model>,
    pub project_partners: Vec<project_partner::Model>,
    pub collaborations: Vec<collaboration::Model>,
    pub goals: Vec<goal::Model>,
    pub indicator_values: Vec<indicator_value::Model>,
    pub students: Vec<student::Model>,
    pub student_placements: Vec<student_placement::Model>,
}

/// Counties on the border, where cross-border work concentrates.
const BORDER_COUNTIES: &[&str] = &[
    "reg-no-ostfold",
    "reg-no-akershus",
    "reg-no-innlandet",
    "reg-no-trondelag",
    "reg-no-nordland",
    "reg-no-troms",
    "reg-no-finnmark",
    "reg-se-vastra-gotaland",
    "reg-se-varmland",
    "reg-se-dalarna",
    "reg-se-jamtland",
    "reg-se-vasterbotten",
    "reg-se-norrbotten",
];

/// The day whose map seats the organisations (fixed, so a seed gives the same rows every year).
pub const MAP_DAY: (i32, u32, u32) = (2024, 6, 1);

/// The real map as the generator needs it: the municipalities of [`MAP_DAY`], each with its
/// county then, and the ids the database gave them.
#[derive(Debug, Clone)]
pub struct RealMap {
    pub municipalities: Vec<MapMunicipality>,
    pub norway: i32,
    pub sweden: i32,
    /// The id the synthetic source row gets (after the sources already in the database).
    pub source_id: i32,
}

#[derive(Debug, Clone)]
pub struct MapMunicipality {
    pub id: i32,
    pub slug: String,
    pub code: String,
    pub country_id: i32,
    pub county_slug: String,
}

impl RealMap {
    /// The municipalities of `records` (the reference map) that exist on [`MAP_DAY`], in slug
    /// order, with their ids from `id_of` (the database's, or positions in tests).
    pub fn from_reference(
        records: &crate::domain::import::RegistryRecords,
        id_of: impl Fn(&str) -> Option<i32>,
        country_id_of: impl Fn(&str) -> Option<i32>,
        source_id: i32,
    ) -> Result<Self, String> {
        let on = day(MAP_DAY.0, MAP_DAY.1, MAP_DAY.2);
        let holds =
            |from: Option<NaiveDate>, to: Option<NaiveDate>| from.is_none_or(|f| f <= on) && to.is_none_or(|t| on <= t);
        let counties: std::collections::HashSet<&str> = records
            .regions
            .iter()
            .filter(|r| matches!(r.kind, RegionKind::Fylke | RegionKind::Lan))
            .map(|r| r.slug.as_str())
            .collect();
        let mut municipalities = Vec::new();
        for m in records.municipalities.iter().filter(|m| holds(m.established_on, m.dissolved_on)) {
            let code = m.codes.iter().find(|c| holds(c.valid_from, c.valid_to));
            let county = m
                .memberships
                .iter()
                .find(|ms| counties.contains(ms.region_slug.as_str()) && holds(ms.valid_from, ms.valid_to));
            let (Some(code), Some(county)) = (code, county) else {
                return Err(format!("{} has no code or county on the map day", m.slug));
            };
            municipalities.push(MapMunicipality {
                id: id_of(&m.slug).ok_or_else(|| format!("{} is not in the database", m.slug))?,
                slug: m.slug.clone(),
                code: code.value.clone(),
                country_id: country_id_of(&m.country).ok_or_else(|| format!("no country {}", m.country))?,
                county_slug: county.region_slug.clone(),
            });
        }
        municipalities.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(Self {
            municipalities,
            norway: country_id_of("NO").ok_or("no country NO")?,
            sweden: country_id_of("SE").ok_or("no country SE")?,
            source_id,
        })
    }
}

fn day(year: i32, month: u32, day_of_month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day_of_month).unwrap_or(NaiveDate::MIN)
}

/// Draws from weighted items by binary search over cumulative weights.
#[derive(Debug, Default, Clone)]
struct Sampler {
    items: Vec<usize>,
    cumulative: Vec<f64>,
}

impl Sampler {
    fn push(&mut self, item: usize, weight: f64) {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        self.items.push(item);
        self.cumulative.push(total + weight.max(0.0));
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> Option<usize> {
        let total = *self.cumulative.last()?;
        let point = rng.random::<f64>() * total;
        let at = self.cumulative.partition_point(|c| *c <= point).min(self.items.len() - 1);
        Some(self.items[at])
    }
}

/// A municipality as the generator sees it: its current region (an index into `areas`), how big
/// it is and how close to the border.
#[derive(Debug, Clone, Copy)]
struct Place {
    municipality_id: i32,
    country_id: i32,
    area: usize,
    size: f64,
    border: f64,
    /// The municipality's code on the map day, which names its partner organisation.
    code: u16,
}

struct Generator {
    rng: ChaCha8Rng,
    targets: Targets,
    registry: Registry,
    places: Vec<Place>,
    /// Counties of the map day in slug order; `Place::area` indexes them.
    areas: usize,
    source: Option<i32>,
    norway: i32,
    sweden: i32,
    /// Largest municipality id of the map (for id-indexed lookups).
    max_municipality_id: usize,
}

/// Builds the whole synthetic registry in memory on `map`. `large` takes a few hundred MB and
/// seconds.
pub fn generate(scale: Scale, seed: u64, map: &RealMap) -> Registry {
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        targets: scale.targets(),
        registry: Registry::default(),
        places: Vec::new(),
        areas: 0,
        source: Some(map.source_id),
        norway: map.norway,
        sweden: map.sweden,
        max_municipality_id: map.municipalities.iter().map(|m| m.id as usize).max().unwrap_or(0),
    };
    generator.registry.sources.push(source::Model {
        id: map.source_id,
        key: source_key(scale, seed),
        kind: "synthetic".to_owned(),
        title: Some(format!("Synthetic registry, scale {}, seed {seed}", scale.name())),
        url: None,
        locator: None,
        description: Some(
            "Generated by `samverka seed --synthetic`: not real organisations, projects or people.".to_owned(),
        ),
        version: 1,
    });
    generator.place_all(map);
    generator.organisations();
    generator.programmes();
    generator.projects();
    generator.collaborations();
    generator.students();
    generator.placements();
    generator.registry
}

impl Generator {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// Every municipality of the map is a place; its size falls with its rank in its county
    /// (the county's main city first: Swedish codes ending in 80–84 and the lowest code in
    /// Norway), its nearness to the border comes from its county.
    fn place_all(&mut self, map: &RealMap) {
        let mut counties: Vec<&str> = map.municipalities.iter().map(|m| m.county_slug.as_str()).collect();
        counties.sort_unstable();
        counties.dedup();
        self.areas = counties.len();
        for (area, county) in counties.iter().enumerate() {
            let mut members: Vec<&MapMunicipality> =
                map.municipalities.iter().filter(|m| m.county_slug == *county).collect();
            let is_centre = |m: &MapMunicipality| m.country_id == map.sweden && ("80".."85").contains(&&m.code[2..]);
            members.sort_by(|a, b| is_centre(b).cmp(&is_centre(a)).then(a.code.cmp(&b.code)));
            let near_border = BORDER_COUNTIES.contains(county);
            let region_size = 0.5 + self.rng.random::<f64>() * 1.5;
            for (rank, m) in members.iter().enumerate() {
                let border =
                    if near_border { 0.4 + 0.6 * self.rng.random::<f64>() } else { 0.1 * self.rng.random::<f64>() };
                self.places.push(Place {
                    municipality_id: m.id,
                    country_id: m.country_id,
                    area,
                    size: region_size / (rank as f64 + 1.0),
                    border,
                    code: m.code.parse().unwrap_or_default(),
                });
            }
        }
    }

    fn organisations(&mut self) {
        let mut seats = Sampler::default();
        for (index, place) in self.places.iter().enumerate() {
            seats.push(index, place.size);
        }
        // Every municipality acts as a partner too; the rest are drawn by kind.
        for place_index in 0..self.places.len() {
            let place = self.places[place_index];
            let name = format!("Kommune {:04} (synthetic)", place.code);
            self.add_organisation(OrganisationKind::Municipality, name, place, Some(place.municipality_id));
        }
        let kinds: &[(OrganisationKind, f64, &str)] = &[
            (OrganisationKind::Company, 0.78, "AS"),
            (OrganisationKind::University, 0.006, "University"),
            (OrganisationKind::UniversityCollege, 0.012, "University College"),
            (OrganisationKind::ResearchInstitute, 0.02, "Research Institute"),
            (OrganisationKind::ScienceCentre, 0.008, "Science Centre"),
            (OrganisationKind::KnowledgePark, 0.01, "Knowledge Park"),
            (OrganisationKind::BusinessGarden, 0.02, "Business Garden"),
            (OrganisationKind::LearningCentre, 0.02, "Learning Centre"),
            (OrganisationKind::UpperSecondarySchool, 0.04, "Upper Secondary School"),
            (OrganisationKind::BusinessAssociation, 0.03, "Business Association"),
            (OrganisationKind::MunicipalAssociation, 0.01, "Municipal Association"),
            (OrganisationKind::CountyAuthority, 0.004, "County Authority"),
            (OrganisationKind::BusinessDevelopmentCompany, 0.03, "Development Company"),
        ];
        let total: f64 = kinds.iter().map(|k| k.1).sum();
        while self.registry.organisations.len() < self.targets.organisations {
            let mut pick = self.rng.random::<f64>() * total;
            let mut chosen = kinds[0];
            for kind in kinds {
                if pick < kind.1 {
                    chosen = *kind;
                    break;
                }
                pick -= kind.1;
            }
            let Some(place_index) = seats.sample(&mut self.rng) else { break };
            let place = self.places[place_index];
            let number = self.registry.organisations.len() + 1;
            let suffix = if place.country_id == self.sweden && chosen.2 == "AS" { "AB" } else { chosen.2 };
            self.add_organisation(chosen.0, format!("Org {number:06} {suffix} (synthetic)"), place, None);
        }
    }

    fn add_organisation(&mut self, kind: OrganisationKind, name: String, place: Place, represents: Option<i32>) {
        let id = self.registry.organisations.len() as i32 + 1;
        self.registry.organisations.push(organisation::Model {
            id,
            slug: format!("syn-org-{id:06}"),
            search_name: search_form(&name),
            name,
            short_name: None,
            kind,
            kind_label: None,
            country_id: Some(place.country_id),
            municipality_id: Some(place.municipality_id),
            represents_municipality_id: represents,
            org_number: None,
            ror: None,
            valid_from: None,
            valid_to: None,
            source_id: self.source,
            source_locator: None,
            verified: false,
            version: 1,
        });
    }

    fn programmes(&mut self) {
        let (norway, sweden) = (Some(self.norway), Some(self.sweden));
        let programmes: &[(&str, &str, Option<i32>, i32)] = &[
            ("syn-interreg-se-no", "Interreg Sverige-Norge (synthetic)", None, 2007),
            ("syn-interreg-aurora", "Interreg Aurora (synthetic)", None, 2014),
            ("syn-interreg-nord", "Interreg Nord (synthetic)", None, 2007),
            ("syn-esf-norge", "ESF Norge (synthetic)", norway, 2007),
            ("syn-esf-sverige", "ESF Sverige (synthetic)", sweden, 2007),
            ("syn-byregion", "Byregionprogrammet (synthetic)", norway, 2014),
            ("syn-regionalfond", "Regionala utvecklingsfonden (synthetic)", sweden, 2007),
            ("syn-forskningsraadet", "Regional forskning (synthetic)", norway, 2010),
            ("syn-vinnova", "Vinnova regional (synthetic)", sweden, 2010),
        ];
        for (index, (slug, name, country_id, from)) in programmes.iter().enumerate() {
            self.registry.programmes.push(programme::Model {
                id: index as i32 + 1,
                slug: (*slug).to_owned(),
                name: (*name).to_owned(),
                search_name: search_form(name),
                full_name: None,
                country_id: *country_id,
                owner_organisation_id: None,
                funder_organisation_id: None,
                valid_from: Some(day(*from, 1, 1)),
                valid_to: None,
                period_text: None,
                source_id: self.source,
                source_locator: None,
                verified: false,
                version: 1,
            });
        }
    }

    /// Partner weights: hubs (universities, research, the biggest municipalities) get far more
    /// projects than the many small companies.
    fn partner_weight(&self, organisation: &organisation::Model, rank: usize) -> f64 {
        let kind = match organisation.kind {
            OrganisationKind::University => 60.0,
            OrganisationKind::UniversityCollege | OrganisationKind::ResearchInstitute => 25.0,
            OrganisationKind::CountyAuthority => 20.0,
            OrganisationKind::Municipality => 4.0,
            OrganisationKind::Company => 0.6,
            _ => 3.0,
        };
        kind / (1.0 + rank as f64).powf(0.35)
    }

    fn projects(&mut self) {
        // Samplers by current region, by country, and by country weighted by border nearness.
        let mut by_area = vec![Sampler::default(); self.areas];
        let mut by_country = [Sampler::default(), Sampler::default()];
        let mut border = [Sampler::default(), Sampler::default()];
        let place_of = self.place_index();
        for (index, organisation) in self.registry.organisations.iter().enumerate() {
            let place = self.places[place_of[organisation.municipality_id.unwrap_or(1) as usize]];
            let weight = self.partner_weight(organisation, index);
            let country = (place.country_id - 1) as usize;
            by_area[place.area].push(index, weight);
            by_country[country].push(index, weight);
            border[country].push(index, weight * place.border * place.border);
        }
        let mut leads = Sampler::default();
        for (index, organisation) in self.registry.organisations.iter().enumerate() {
            leads.push(index, self.partner_weight(organisation, index));
        }
        let mean_partners = self.targets.partnerships as f64 / self.targets.projects as f64;
        let budget = LogNormal::<f64>::new(13.0, 1.0).ok();
        let mut members: Vec<usize> = Vec::new();
        for number in 1..=self.targets.projects {
            let id = number as i32;
            let Some(lead) = leads.sample(&mut self.rng) else { break };
            let lead_place =
                self.places[place_of[self.registry.organisations[lead].municipality_id.unwrap_or(1) as usize]];
            let home = (lead_place.country_id - 1) as usize;
            let cross_border = self.chance(0.04 + 0.5 * lead_place.border);
            let partners = (1.0 + (-self.rng.random::<f64>().max(1e-9).ln()) * (mean_partners - 1.0)).floor() as usize;
            let partners = partners.clamp(if cross_border { 2 } else { 1 }, 60);
            members.clear();
            members.push(lead);
            let mut guard = 0;
            while members.len() < partners && guard < partners * 10 {
                guard += 1;
                let foreign_needed = cross_border && members.len() == 1;
                let roll = self.rng.random::<f64>();
                let candidate = if foreign_needed || (cross_border && roll < 0.35) {
                    border[1 - home].sample(&mut self.rng)
                } else if roll < 0.65 {
                    by_area[lead_place.area].sample(&mut self.rng)
                } else {
                    by_country[home].sample(&mut self.rng)
                };
                if let Some(candidate) = candidate.filter(|c| !members.contains(c)) {
                    members.push(candidate);
                }
            }
            let start_year = 2008 + (self.rng.random::<f64>().sqrt() * 18.0) as i32;
            let start = day(start_year.min(2025), 1 + self.rng.random_range(0..12), 1);
            let end = start + Duration::days(self.rng.random_range(365..1460));
            let programme = self.pick_programme(cross_border, lead_place.country_id);
            let amount: f64 = budget.as_ref().map_or(500_000.0, |b| b.sample(&mut self.rng));
            let amount = amount.round();
            let (budget_total, currency) = match self.rng.random_range(0..10) {
                0 => ((amount * 11.5).round(), "NOK"),
                1 => ((amount * 11.3).round(), "SEK"),
                _ => (amount, "EUR"),
            };
            let name = format!("Project {number:05} (synthetic)");
            let mut model = project::Model {
                id,
                slug: format!("syn-project-{number:05}"),
                search_name: search_form(&name),
                name,
                short_name: None,
                programme_id: Some(programme),
                valid_from: Some(start),
                valid_to: Some(end),
                period_text: None,
                period_approximate: false,
                budget_total: Some(budget_total),
                budget_currency: Some(currency.to_owned()),
                budget_source_id: self.source,
                budget_verified: false,
                budget_eur: None,
                budget_eur_rate: None,
                budget_rate_date: None,
                source_id: self.source,
                source_locator: None,
                verified: false,
                version: 1,
            };
            crate::db::rows::price_budget(&mut model);
            self.registry.projects.push(model);
            let share = 1.0 / members.len() as f64;
            for (position, organisation_index) in members.iter().enumerate() {
                let partner_id = self.registry.project_partners.len() as i32 + 1;
                self.registry.project_partners.push(project_partner::Model {
                    id: partner_id,
                    project_id: id,
                    organisation_id: *organisation_index as i32 + 1,
                    role: if position == 0 { PartnerRole::Lead } else { PartnerRole::Partner },
                    role_label: None,
                    budget_share: Some((share * 10_000.0).round() / 10_000.0),
                    source_id: self.source,
                    source_locator: None,
                    verified: false,
                    version: 1,
                });
            }
            self.goals(id, start, end);
        }
    }

    fn pick_programme(&mut self, cross_border: bool, country_id: i32) -> i32 {
        if cross_border && self.chance(0.85) {
            return 1 + self.rng.random_range(0..3);
        }
        let national: [i32; 3] = if country_id == self.norway { [4, 6, 8] } else { [5, 7, 9] };
        national[self.rng.random_range(0..3)]
    }

    /// Zero to three goals; most with a numeric target, most of those with measured results.
    fn goals(&mut self, project_id: i32, start: NaiveDate, end: NaiveDate) {
        let units = ["participants", "companies", "students", "jobs", "courses"];
        for _ in 0..self.rng.random_range(0..4) {
            let goal_id = self.registry.goals.len() as i32 + 1;
            let unit = units[self.rng.random_range(0..units.len())];
            let target = self.chance(0.7).then(|| f64::from(self.rng.random_range(5..500)));
            self.registry.goals.push(goal::Model {
                id: goal_id,
                slug: format!("syn-goal-{goal_id:06}"),
                project_id,
                kind: GoalKind::Result,
                kind_label: "Resultatmål".to_owned(),
                text: format!("Reach {} {unit} (synthetic)", target.map_or("more".to_owned(), |t| t.to_string())),
                target_value: target,
                target_comparator: target.map(|_| Comparator::Gte),
                target_unit: Some(unit.to_owned()),
                source_id: self.source,
                verified: false,
                version: 1,
            });
            let Some(target) = target else { continue };
            if !self.chance(0.8) {
                continue;
            }
            let value = (target * (0.3 + self.rng.random::<f64>() * 1.2)).round();
            let value_id = self.registry.indicator_values.len() as i32 + 1;
            self.registry.indicator_values.push(indicator_value::Model {
                id: value_id,
                slug: format!("syn-value-{value_id:06}"),
                project_id,
                goal_id: Some(goal_id),
                text: format!("{value} {unit} (synthetic)"),
                value: Some(value),
                comparator: Some(Comparator::Eq),
                approximate: false,
                unit: Some(unit.to_owned()),
                period_from: Some(start),
                period_to: Some(end),
                period_text: None,
                source_id: self.source,
                verified: false,
                version: 1,
            });
        }
    }

    /// Bilateral agreements and networks, mostly within a region: one per four organisations.
    fn collaborations(&mut self) {
        let kinds = [CollaborationKind::Agreement, CollaborationKind::Network, CollaborationKind::CourseDelivery];
        let count = self.registry.organisations.len() / 4;
        let organisations = self.registry.organisations.len();
        for number in 1..=count {
            let a = self.rng.random_range(0..organisations);
            let mut b = self.rng.random_range(0..organisations);
            if a == b {
                b = (b + 1) % organisations;
            }
            let from = day(2010 + self.rng.random_range(0..15), 1 + self.rng.random_range(0..12), 1);
            self.registry.collaborations.push(collaboration::Model {
                id: number as i32,
                slug: format!("syn-collab-{number:06}"),
                organisation_a_id: a as i32 + 1,
                organisation_b_id: b as i32 + 1,
                kind: kinds[self.rng.random_range(0..kinds.len())],
                project_id: None,
                valid_from: Some(from),
                valid_to: None,
                description: None,
                source_id: self.source,
                verified: false,
                version: 1,
            });
        }
    }

    /// `place_index()[municipality_id]` is the index of that municipality in `places`.
    fn place_index(&self) -> Vec<usize> {
        let mut index = vec![0; self.max_municipality_id + 1];
        for (position, place) in self.places.iter().enumerate() {
            index[place.municipality_id as usize] = position;
        }
        index
    }

    fn students(&mut self) {
        let place_of = self.place_index();
        let mut enrolling = Sampler::default();
        let mut homes_by_area = vec![Sampler::default(); self.areas];
        let mut homes = Sampler::default();
        for (index, organisation) in self.registry.organisations.iter().enumerate() {
            let weight = match organisation.kind {
                OrganisationKind::University => 10.0,
                OrganisationKind::UniversityCollege => 4.0,
                _ => 0.0,
            };
            if weight > 0.0 {
                enrolling.push(index, weight);
            }
        }
        for (index, place) in self.places.iter().enumerate() {
            homes_by_area[place.area].push(index, place.size);
            homes.push(index, place.size);
        }
        if enrolling.is_empty() {
            return;
        }
        let fields = ["engineering", "health", "teacher education", "business", "computing", "natural sciences"];
        for number in 1..=self.targets.students {
            let Some(organisation) = enrolling.sample(&mut self.rng) else { break };
            let seat = self.registry.organisations[organisation].municipality_id.unwrap_or(1) as usize;
            let area = self.places[place_of[seat]].area;
            let home =
                if self.chance(0.65) { homes_by_area[area].sample(&mut self.rng) } else { homes.sample(&mut self.rng) };
            let from = day(2008 + self.rng.random_range(0..17), 8, 15);
            let to = day(from.year() + self.rng.random_range(3..6), 6, 15);
            self.registry.students.push(student::Model {
                id: number as i32,
                slug: format!("syn-student-{number:07}"),
                home_municipality_id: home.map(|h| self.places[h].municipality_id),
                enrolling_organisation_id: organisation as i32 + 1,
                field_of_study: Some(fields[self.rng.random_range(0..fields.len())].to_owned()),
                enrolled_from: from,
                enrolled_to: Some(to),
                synthetic: true,
                source_id: self.source,
                verified: false,
                version: 1,
            });
        }
    }

    /// Placements: mostly in the student's own region, some elsewhere in the country, and a share
    /// abroad that grows near the border.
    fn placements(&mut self) {
        if self.registry.students.is_empty() {
            return;
        }
        let place_of = self.place_index();
        let mut by_area = vec![Sampler::default(); self.areas];
        let mut by_country = [Sampler::default(), Sampler::default()];
        let mut border = [Sampler::default(), Sampler::default()];
        for (index, organisation) in self.registry.organisations.iter().enumerate() {
            let place = self.places[place_of[organisation.municipality_id.unwrap_or(1) as usize]];
            let weight = if organisation.kind == OrganisationKind::Company { 1.0 } else { 2.0 };
            let country = (place.country_id - 1) as usize;
            by_area[place.area].push(index, weight);
            by_country[country].push(index, weight);
            border[country].push(index, weight * place.border);
        }
        let mut projects_of: Vec<Vec<i32>> = vec![Vec::new(); self.registry.organisations.len()];
        for partner in &self.registry.project_partners {
            projects_of[partner.organisation_id as usize - 1].push(partner.project_id);
        }
        let kinds = [
            PlacementKind::Internship,
            PlacementKind::Thesis,
            PlacementKind::Vfu,
            PlacementKind::DemolaCase,
            PlacementKind::Course,
        ];
        let students = self.registry.students.len();
        for number in 1..=self.targets.placements {
            let student = &self.registry.students[self.rng.random_range(0..students)];
            let (student_id, enrolled_from) = (student.id, student.enrolled_from);
            let seat = self.registry.organisations[student.enrolling_organisation_id as usize - 1]
                .municipality_id
                .unwrap_or(1);
            let place = self.places[place_of[seat as usize]];
            let home = (place.country_id - 1) as usize;
            let roll = self.rng.random::<f64>();
            let host = if roll < 0.05 + 0.3 * place.border {
                border[1 - home].sample(&mut self.rng)
            } else if roll < 0.75 {
                by_area[place.area].sample(&mut self.rng)
            } else {
                by_country[home].sample(&mut self.rng)
            };
            let Some(host) = host else { continue };
            let from = enrolled_from + Duration::days(self.rng.random_range(30..1000));
            let to = from + Duration::days(self.rng.random_range(30..180));
            let project_id = if self.chance(0.15) && !projects_of[host].is_empty() {
                Some(projects_of[host][self.rng.random_range(0..projects_of[host].len())])
            } else {
                None
            };
            self.registry.student_placements.push(student_placement::Model {
                id: number as i32,
                slug: format!("syn-placement-{number:07}"),
                student_id,
                host_organisation_id: host as i32 + 1,
                project_id,
                kind: kinds[self.rng.random_range(0..kinds.len())],
                valid_from: from,
                valid_to: Some(to),
                source_id: self.source,
                verified: false,
                version: 1,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped map with made-up ids (positions), as a database would number it.
    pub(crate) fn test_map() -> RealMap {
        let records = &crate::domain::reference::builtin().expect("map").records;
        let ids: std::collections::HashMap<&str, i32> =
            records.municipalities.iter().enumerate().map(|(i, m)| (m.slug.as_str(), i as i32 + 1)).collect();
        RealMap::from_reference(records, |slug| ids.get(slug).copied(), |c| Some(if c == "NO" { 1 } else { 2 }), 9)
            .expect("the map day has every municipality placed")
    }

    #[test]
    fn same_seed_same_registry_and_the_promised_shape() {
        let map = test_map();
        assert_eq!(map.municipalities.len(), 357 + 290);
        let a = generate(Scale::Small, 7, &map);
        let b = generate(Scale::Small, 7, &map);
        assert_eq!(a.organisations, b.organisations);
        assert_eq!(a.student_placements, b.student_placements);
        assert_ne!(generate(Scale::Small, 8, &map).project_partners, a.project_partners);
        assert_eq!(a.organisations.len(), 2_000);
        assert_eq!(a.projects.len(), 1_400);
        let partnerships = a.project_partners.len() as f64;
        assert!((6_000.0..10_000.0).contains(&partnerships), "{partnerships} partnerships");
        assert!(a.students.iter().all(|s| s.synthetic));
        assert!(a.organisations.iter().all(|o| o.source_id == Some(9)));
        // Skewed degrees: the busiest organisation partners far more projects than the median.
        let mut degree = vec![0usize; a.organisations.len()];
        for partner in &a.project_partners {
            degree[partner.organisation_id as usize - 1] += 1;
        }
        degree.sort_unstable();
        assert!(degree[degree.len() - 1] >= 20 * degree[degree.len() / 2].max(1), "{degree:?}");
        // Every municipality of the map acts as a partner organisation.
        let municipal = a.organisations.iter().filter(|o| o.kind == OrganisationKind::Municipality).count();
        assert_eq!(municipal, 647);
    }
}
