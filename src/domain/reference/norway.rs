//! Norway from KLASS 131: municipalities with their codes, names and fylke memberships by
//! date, the fylker (by name: Telemark is 08 until 2019 and 40 from 2024), and every reform as
//! change rows, from the differences between consecutive versions and the change table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::enums::{ChangeKind, CodeScheme, LifecycleStatus, RegionKind};
use serde::Deserialize;

use super::{KLASS_SOURCE, Slugs, day, day_before, name_forms, provenance, slugify};
use crate::domain::import::{ChangeRecord, CodeRecord, MembershipRecord, MunicipalityRecord, NameRecord};
use crate::domain::import::{RegionRecord, RegistryRecords};

/// KLASS's pseudo-municipality "Uoppgitt" (unknown): not a municipality.
const UNKNOWN_CODE: &str = "9999";

#[derive(Deserialize)]
struct KlassVersion {
    #[serde(rename = "validFrom")]
    valid_from: String,
    #[serde(rename = "classificationItems")]
    items: Vec<KlassItem>,
}

#[derive(Deserialize)]
struct KlassItem {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct ChangeTable {
    #[serde(rename = "codeChanges")]
    changes: Vec<KlassChange>,
}

#[derive(Deserialize)]
struct KlassChange {
    #[serde(rename = "oldCode")]
    old_code: String,
    #[serde(rename = "newCode")]
    new_code: String,
    #[serde(rename = "changeOccurred")]
    day: String,
}

struct Version {
    from: NaiveDate,
    /// code → name, without 9999.
    items: BTreeMap<String, String>,
}

/// A value over `[from, to)`; `None` bounds are open.
#[derive(Clone, Debug)]
struct Span {
    value: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

struct Municipality {
    first_name: String,
    established: Option<NaiveDate>,
    /// First day it no longer existed.
    dissolved: Option<NaiveDate>,
    codes: Vec<Span>,
    names: Vec<Span>,
}

struct Change {
    day: NaiveDate,
    kind: ChangeKind,
    from: usize,
    from_code: String,
    from_name: String,
    to: usize,
    to_code: String,
    to_name: String,
}

pub(super) fn add(records: &mut RegistryRecords, files: &super::Files) -> Result<(), String> {
    let versions = read_versions(&files.klass_versions)?;
    let table: ChangeTable = serde_json::from_str(files.klass_changes)
        .map_err(|error| format!("KLASS change table: not the expected JSON ({error})"))?;
    let mut by_day: HashMap<NaiveDate, Vec<(String, String)>> = HashMap::new();
    for change in &table.changes {
        if change.old_code == UNKNOWN_CODE || change.new_code == UNKNOWN_CODE {
            continue;
        }
        by_day
            .entry(day("KLASS change table", &change.day)?)
            .or_default()
            .push((change.old_code.clone(), change.new_code.clone()));
    }
    let (municipalities, changes) = follow_versions(&versions, &by_day)?;
    let fylke_names = read_fylke_names(files.fylke_names)?;
    let fylker = Fylker::new(&versions, &fylke_names)?;
    write_records(records, &municipalities, &changes, &fylker)
}

fn read_versions(texts: &[&str]) -> Result<Vec<Version>, String> {
    let mut versions = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        let version: KlassVersion = serde_json::from_str(text)
            .map_err(|error| format!("KLASS version #{index}: not the expected JSON ({error})"))?;
        let items = version
            .items
            .into_iter()
            .filter(|item| item.code != UNKNOWN_CODE)
            .map(|item| (item.code.trim().to_owned(), item.name.trim().to_owned()))
            .collect();
        versions.push(Version { from: day("KLASS version", &version.valid_from)?, items });
    }
    versions.sort_by_key(|v| v.from);
    if versions.is_empty() {
        return Err("KLASS: no versions".into());
    }
    Ok(versions)
}

/// Walks the versions in order and decides, at each change day, which municipality every code
/// belongs to (see the module docs of `reference` for the identity rule).
fn follow_versions(
    versions: &[Version],
    by_day: &HashMap<NaiveDate, Vec<(String, String)>>,
) -> Result<(Vec<Municipality>, Vec<Change>), String> {
    let mut municipalities: Vec<Municipality> = Vec::new();
    let mut current: HashMap<String, usize> = HashMap::new();
    for (code, name) in &versions[0].items {
        municipalities.push(Municipality {
            first_name: name.clone(),
            established: None,
            dissolved: None,
            codes: vec![Span { value: code.clone(), from: None, to: None }],
            names: vec![Span { value: name.clone(), from: None, to: None }],
        });
        current.insert(code.clone(), municipalities.len() - 1);
    }
    let mut changes = Vec::new();
    for pair in versions.windows(2) {
        let (before, after) = (&pair[0].items, &pair[1].items);
        let day = pair[1].from;
        let records = by_day.get(&day).map(Vec::as_slice).unwrap_or_default();
        let mut successors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut predecessors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (old, new) in records {
            if old != new {
                if !before.contains_key(old) || !after.contains_key(new) {
                    return Err(format!("KLASS change {old} → {new} on {day} names a code missing from its versions"));
                }
                successors.entry(old).or_default().insert(new);
                predecessors.entry(new).or_default().insert(old);
            }
        }
        let gone: BTreeSet<&str> = before.keys().filter(|c| !after.contains_key(*c)).map(String::as_str).collect();
        let mut continued: BTreeSet<&str> = BTreeSet::new();
        let mut next: HashMap<String, usize> = HashMap::new();
        for (code, name) in after {
            if let Some(&id) = current.get(code) {
                next.insert(code.clone(), id);
                continue;
            }
            let preds = predecessors.get(code.as_str()).cloned().unwrap_or_default();
            let open = |p: &&str| gone.contains(p) && !continued.contains(p);
            let same_name: Vec<&str> = preds
                .iter()
                .copied()
                .filter(open)
                .filter(|p| !name_forms(&before[*p]).is_disjoint(&name_forms(name)))
                .collect();
            // A one-to-one renumbering keeps the municipality whatever its name.
            let only = preds
                .iter()
                .copied()
                .find(open)
                .filter(|p| preds.len() == 1 && successors.get(p).is_some_and(|s| s.len() == 1));
            let continues = if same_name.len() == 1 { Some(same_name[0]) } else { only };
            let id = match continues {
                Some(p) => {
                    continued.insert(p);
                    current[p]
                }
                None => {
                    municipalities.push(Municipality {
                        first_name: name.clone(),
                        established: Some(day),
                        dissolved: None,
                        codes: Vec::new(),
                        names: Vec::new(),
                    });
                    municipalities.len() - 1
                }
            };
            next.insert(code.clone(), id);
        }
        // Codes and names from this day on.
        for (code, name) in after {
            let id = next[code];
            let m = &mut municipalities[id];
            if m.codes.last().is_none_or(|span| span.value != *code || span.to.is_some()) {
                if let Some(last) = m.codes.last_mut() {
                    last.to.get_or_insert(day);
                }
                m.codes.push(Span { value: code.clone(), from: Some(day), to: None });
            }
            match m.names.last_mut() {
                Some(last) if name_forms(&last.value) == name_forms(name) => {
                    // Same name (a qualifier added or dropped): keep the latest form.
                    last.value = name.clone();
                }
                last => {
                    let old_name = last.as_ref().map(|l| l.value.clone());
                    if let Some(last) = last {
                        last.to = Some(day);
                    }
                    m.names.push(Span { value: name.clone(), from: Some(day), to: None });
                    if let Some(old_name) = old_name {
                        let old_code = current
                            .iter()
                            .find(|(_, owner)| **owner == id)
                            .map_or_else(|| code.clone(), |(c, _)| c.clone());
                        changes.push(Change {
                            day,
                            kind: ChangeKind::NameChange,
                            from: id,
                            from_code: old_code,
                            from_name: old_name,
                            to: id,
                            to_code: code.clone(),
                            to_name: name.clone(),
                        });
                    }
                }
            }
        }
        for code in &gone {
            if !continued.contains(code) {
                let m = &mut municipalities[current[*code]];
                m.dissolved = Some(day);
                if let Some(last) = m.codes.last_mut() {
                    last.to = Some(day);
                }
                if let Some(last) = m.names.last_mut() {
                    last.to = Some(day);
                }
            }
        }
        for (old, new) in records {
            if old == new {
                continue;
            }
            let from = current[old.as_str()];
            let to = next[new.as_str()];
            let several_successors = successors.get(old.as_str()).is_some_and(|s| s.len() > 1);
            let several_predecessors = predecessors.get(new.as_str()).is_some_and(|p| p.len() > 1);
            let kind = if after.contains_key(old) {
                ChangeKind::Transfer
            } else if several_successors {
                ChangeKind::Split
            } else if several_predecessors {
                ChangeKind::Merger
            } else if old[..2] != new[..2] {
                ChangeKind::CountyChange
            } else {
                ChangeKind::Recode
            };
            changes.push(Change {
                day,
                kind,
                from,
                from_code: old.clone(),
                from_name: before[old].clone(),
                to,
                to_code: new.clone(),
                to_name: after[new].clone(),
            });
        }
        current = next;
    }
    changes.sort_by(|a, b| {
        (a.day, &a.from_code, &a.to_code, a.kind.as_str()).cmp(&(b.day, &b.from_code, &b.to_code, b.kind.as_str()))
    });
    Ok((municipalities, changes))
}

fn read_fylke_names(text: &str) -> Result<HashMap<String, String>, String> {
    let mut names = HashMap::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (code, name) =
            line.split_once(',').ok_or_else(|| format!("county_names_numbers.txt line {}: no comma", index + 1))?;
        names.insert(code.trim().to_owned(), name.trim().to_owned());
    }
    Ok(names)
}

/// The fylker: each fylkesnummer's runs of versions, grouped by name into one region each.
struct Fylker {
    /// slug → (name, fylkesnummer spans, exclusive), in order of first appearance.
    regions: Vec<(String, String, Vec<Span>)>,
    /// For each version start: fylkesnummer → index in `regions`.
    by_version: BTreeMap<NaiveDate, HashMap<String, usize>>,
}

impl Fylker {
    fn new(versions: &[Version], names: &HashMap<String, String>) -> Result<Self, String> {
        let mut regions: Vec<(String, String, Vec<Span>)> = Vec::new();
        let mut by_version = BTreeMap::new();
        let first = versions[0].from;
        for version in versions {
            let mut codes: HashMap<String, usize> = HashMap::new();
            for code in version.items.keys() {
                let fylke = &code[..2];
                if codes.contains_key(fylke) {
                    continue;
                }
                let name = names
                    .get(fylke)
                    .ok_or_else(|| format!("county_names_numbers.txt has no name for fylkesnummer {fylke}"))?;
                let slug = format!("reg-no-{}", slugify(name));
                let index = match regions.iter().position(|(s, _, _)| *s == slug) {
                    Some(index) => index,
                    None => {
                        regions.push((slug, name.clone(), Vec::new()));
                        regions.len() - 1
                    }
                };
                let spans = &mut regions[index].2;
                let from = (version.from != first).then_some(version.from);
                match spans.iter_mut().find(|s| s.value == fylke && s.to.is_none()) {
                    Some(_) => {}
                    None => spans.push(Span { value: fylke.to_owned(), from, to: None }),
                }
                codes.insert(fylke.to_owned(), index);
            }
            // Close the runs of codes this version no longer has.
            for (index, (_, _, spans)) in regions.iter_mut().enumerate() {
                for span in spans.iter_mut().filter(|s| s.to.is_none()) {
                    if codes.get(&span.value) != Some(&index) {
                        span.to = Some(version.from);
                    }
                }
            }
            by_version.insert(version.from, codes);
        }
        Ok(Self { regions, by_version })
    }

    /// The fylke of a municipality code on `day` (the version in force then).
    fn of(&self, code: &str, day: Option<NaiveDate>) -> Option<usize> {
        let codes = match day {
            Some(day) => self.by_version.range(..=day).next_back().map(|(_, codes)| codes),
            None => self.by_version.values().next(),
        }?;
        codes.get(&code[..2]).copied()
    }
}

fn write_records(
    records: &mut RegistryRecords,
    municipalities: &[Municipality],
    changes: &[Change],
    fylker: &Fylker,
) -> Result<(), String> {
    let klass = || provenance(KLASS_SOURCE, true);
    let inclusive = |to: Option<NaiveDate>| to.map(day_before);
    for (slug, name, spans) in &fylker.regions {
        let valid_from = spans.first().and_then(|s| s.from);
        let valid_to = spans.last().and_then(|s| s.to).map(day_before);
        records.regions.push(RegionRecord {
            slug: slug.clone(),
            name: name.clone(),
            short_name: None,
            kind: RegionKind::Fylke,
            country: Some("NO".into()),
            status: if valid_to.is_none() { LifecycleStatus::Active } else { LifecycleStatus::Dissolved },
            valid_from: if spans.iter().any(|s| s.from.is_none()) { None } else { valid_from },
            valid_to,
            note: None,
            provenance: klass(),
            codes: spans
                .iter()
                .map(|s| CodeRecord {
                    scheme: CodeScheme::Fylkesnummer,
                    value: s.value.clone(),
                    valid_from: s.from,
                    valid_to: inclusive(s.to),
                    nuts_version: None,
                    provenance: klass(),
                })
                .collect(),
            parents: Vec::new(),
            attach_only: false,
        });
    }
    let mut slugs = Slugs::default();
    let municipality_slugs: Vec<String> = municipalities
        .iter()
        .map(|m| slugs.take(format!("mun-no-{}", slugify(&m.first_name)), m.established))
        .collect();
    let mut successor_of: HashMap<usize, BTreeSet<usize>> = HashMap::new();
    for change in changes.iter().filter(|c| c.from != c.to) {
        successor_of.entry(change.from).or_default().insert(change.to);
    }
    for (id, m) in municipalities.iter().enumerate() {
        let mut memberships: Vec<MembershipRecord> = Vec::new();
        for code in &m.codes {
            let fylke = fylker
                .of(&code.value, code.from)
                .ok_or_else(|| format!("no fylke for kommunenummer {} on {:?}", code.value, code.from))?;
            let region_slug = &fylker.regions[fylke].0;
            match memberships.last_mut() {
                Some(last) if last.region_slug == *region_slug && last.valid_to == code.from.map(day_before) => {
                    last.valid_to = inclusive(code.to);
                }
                _ => memberships.push(MembershipRecord {
                    region_slug: region_slug.clone(),
                    valid_from: code.from,
                    valid_to: inclusive(code.to),
                    provenance: klass(),
                }),
            }
        }
        let dissolved = m.dissolved.is_some();
        let successors = successor_of.get(&id);
        records.municipalities.push(MunicipalityRecord {
            slug: municipality_slugs[id].clone(),
            name: m.names.last().map_or_else(|| m.first_name.clone(), |n| n.value.clone()),
            country: "NO".into(),
            status: if dissolved { LifecycleStatus::Dissolved } else { LifecycleStatus::Active },
            successor_slug: successors
                .filter(|s| dissolved && s.len() == 1)
                .and_then(|s| s.iter().next())
                .map(|to| municipality_slugs[*to].clone()),
            dissolved_on: inclusive(m.dissolved),
            established_on: m.established,
            admin_centre: None,
            note: None,
            provenance: klass(),
            codes: m
                .codes
                .iter()
                .map(|s| CodeRecord {
                    scheme: CodeScheme::Kommunenummer,
                    value: s.value.clone(),
                    valid_from: s.from,
                    valid_to: inclusive(s.to),
                    nuts_version: None,
                    provenance: klass(),
                })
                .collect(),
            memberships,
            names: m
                .names
                .iter()
                .map(|s| NameRecord {
                    name: s.value.clone(),
                    valid_from: s.from,
                    valid_to: inclusive(s.to),
                    provenance: klass(),
                })
                .collect(),
            attach_only: false,
        });
    }
    for change in changes {
        records.municipality_changes.push(ChangeRecord {
            day: change.day,
            kind: change.kind,
            from_slug: Some(municipality_slugs[change.from].clone()),
            from_code: Some(change.from_code.clone()),
            from_name: Some(change.from_name.clone()),
            to_slug: Some(municipality_slugs[change.to].clone()),
            to_code: Some(change.to_code.clone()),
            to_name: Some(change.to_name.clone()),
            note: None,
            provenance: klass(),
        });
    }
    records.region_changes.extend(fylke_changes(municipalities, changes, fylker));
    Ok(())
}

/// County reforms, from the municipalities that crossed from a fylke that ended, or into one
/// that began, on a change day (a municipality moving between two fylker that both go on is
/// the municipality's county change, not the counties').
fn fylke_changes(municipalities: &[Municipality], changes: &[Change], fylker: &Fylker) -> Vec<ChangeRecord> {
    let mut pairs: BTreeSet<(NaiveDate, String, String)> = BTreeSet::new();
    let mut crossings: Vec<(NaiveDate, String, String)> = Vec::new();
    for m in municipalities {
        for pair in m.codes.windows(2) {
            if let Some(day) = pair[1].from {
                crossings.push((day, pair[0].value.clone(), pair[1].value.clone()));
            }
        }
    }
    for change in changes.iter().filter(|c| c.from != c.to) {
        crossings.push((change.day, change.from_code.clone(), change.to_code.clone()));
    }
    for (day, old, new) in crossings {
        let before = fylker.by_version.range(..day).next_back().map(|(_, c)| c);
        let after = fylker.by_version.get(&day);
        let (Some(before), Some(after)) = (before, after) else { continue };
        let (old_fylke, new_fylke) = (&old[..2], &new[..2]);
        if old_fylke == new_fylke {
            continue;
        }
        if after.contains_key(old_fylke) && before.contains_key(new_fylke) {
            continue;
        }
        pairs.insert((day, old_fylke.to_owned(), new_fylke.to_owned()));
    }
    let mut successors: HashMap<(NaiveDate, &str), usize> = HashMap::new();
    let mut predecessors: HashMap<(NaiveDate, &str), usize> = HashMap::new();
    for (day, old, new) in &pairs {
        *successors.entry((*day, old.as_str())).or_default() += 1;
        *predecessors.entry((*day, new.as_str())).or_default() += 1;
    }
    let mut rows = Vec::new();
    for (day, old, new) in &pairs {
        let before = fylker.by_version.range(..*day).next_back().map(|(_, c)| c);
        let Some(before) = before else { continue };
        let Some(&from) = before.get(old) else { continue };
        let Some(&to) = fylker.by_version.get(day).and_then(|c| c.get(new)) else { continue };
        let target_continues = before.contains_key(new.as_str());
        let kind = if successors[&(*day, old.as_str())] > 1 {
            ChangeKind::Split
        } else if target_continues || predecessors[&(*day, new.as_str())] > 1 {
            ChangeKind::Merger
        } else {
            ChangeKind::Recode
        };
        rows.push(ChangeRecord {
            day: *day,
            kind,
            from_slug: Some(fylker.regions[from].0.clone()),
            from_code: Some(old.clone()),
            from_name: Some(fylker.regions[from].1.clone()),
            to_slug: Some(fylker.regions[to].0.clone()),
            to_code: Some(new.clone()),
            to_name: Some(fylker.regions[to].1.clone()),
            note: None,
            provenance: provenance(KLASS_SOURCE, true),
        });
    }
    rows
}
