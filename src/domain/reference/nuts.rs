//! NUTS 0–3 of Norway and Sweden in the 2013, 2016, 2021 and 2024 versions: one region per
//! code, a dated code row and parent link per version, and each fylke and län linked to the
//! NUTS-3 region it coincides with, for the days both existed (matched by name per version).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::enums::{CodeScheme, LifecycleStatus, RegionKind};

use super::{NUTS_SOURCE, day, day_before, provenance};
use crate::domain::import::{CodeRecord, ParentRecord, RegionRecord, RegistryRecords};

/// Each version and the first day it applies (Eurostat: a NUTS version applies from 1 January of
/// the year given until the next one). The oldest shipped version is stored with an open start.
const VERSIONS: &[(&str, &str)] =
    &[("2013", "2015-01-01"), ("2016", "2018-01-01"), ("2021", "2021-01-01"), ("2024", "2024-01-01")];

struct Entry {
    level: u8,
    name: String,
}

/// `[from, to)` of a version; `from` is `None` for the oldest.
fn version_period(version: &str) -> Result<(Option<NaiveDate>, Option<NaiveDate>), String> {
    let at =
        VERSIONS.iter().position(|(v, _)| *v == version).ok_or_else(|| format!("unknown NUTS version {version}"))?;
    let from = if at == 0 { None } else { Some(day("NUTS versions", VERSIONS[at].1)?) };
    let to = match VERSIONS.get(at + 1) {
        Some((_, next)) => Some(day("NUTS versions", next)?),
        None => None,
    };
    Ok((from, to))
}

fn kind(level: u8) -> (RegionKind, CodeScheme) {
    match level {
        0 => (RegionKind::Nuts0, CodeScheme::Nuts0),
        1 => (RegionKind::Nuts1, CodeScheme::Nuts1),
        2 => (RegionKind::Nuts2, CodeScheme::Nuts2),
        _ => (RegionKind::Nuts3, CodeScheme::Nuts3),
    }
}

/// The name a fylke or län match uses: before any "/" (Sami forms), lower case.
fn match_form(name: &str) -> String {
    name.split('/').next().unwrap_or(name).trim().to_lowercase()
}

pub(super) fn add(records: &mut RegistryRecords, files: &super::Files) -> Result<(), String> {
    // version → code → entry
    let mut versions: BTreeMap<String, BTreeMap<String, Entry>> = BTreeMap::new();
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(files.nuts_names.as_bytes());
    for row in reader.records() {
        let row = row.map_err(|error| format!("nuts/nuts-names.csv: {error}"))?;
        let get = |i: usize| row.get(i).map(str::trim).ok_or_else(|| format!("nuts/nuts-names.csv: short row {row:?}"));
        let version = get(0)?.to_owned();
        version_period(&version)?;
        let level: u8 =
            get(1)?.parse().map_err(|_| format!("nuts/nuts-names.csv: level `{}`", get(1).unwrap_or("")))?;
        let code = get(2)?.to_owned();
        if code.len() != 2 + usize::from(level) {
            return Err(format!("nuts/nuts-names.csv: {code} is not a level-{level} code"));
        }
        versions.entry(version).or_default().insert(code, Entry { level, name: get(3)?.to_owned() });
    }
    // code → (level, latest name, versions it is in)
    let mut regions: BTreeMap<String, (u8, String, Vec<String>)> = BTreeMap::new();
    for (version, entries) in &versions {
        for (code, entry) in entries {
            let region = regions.entry(code.clone()).or_insert_with(|| (entry.level, entry.name.clone(), Vec::new()));
            region.1 = entry.name.clone();
            region.2.push(version.clone());
        }
    }
    let nuts = || provenance(NUTS_SOURCE, true);
    for (code, (level, name, in_versions)) in &regions {
        let (region_kind, scheme) = kind(*level);
        let mut codes = Vec::new();
        let mut parents = Vec::new();
        for version in in_versions {
            let (from, to) = version_period(version)?;
            codes.push(CodeRecord {
                scheme,
                value: code.clone(),
                valid_from: from,
                valid_to: to.map(day_before),
                nuts_version: Some(version.clone()),
                provenance: nuts(),
            });
            if *level > 0 {
                let parent = &code[..code.len() - 1];
                if versions[version].contains_key(parent) {
                    parents.push(ParentRecord {
                        parent_slug: format!("nuts-{parent}"),
                        nuts_version: Some(version.clone()),
                        valid_from: from,
                        valid_to: to.map(day_before),
                        provenance: nuts(),
                    });
                }
            }
        }
        let first = version_period(&in_versions[0])?.0;
        let last = version_period(in_versions.last().map_or("2024", String::as_str))?.1;
        records.regions.push(RegionRecord {
            slug: format!("nuts-{code}"),
            name: name.clone(),
            short_name: None,
            kind: region_kind,
            country: Some(code[..2].to_owned()),
            status: if last.is_none() { LifecycleStatus::Active } else { LifecycleStatus::Dissolved },
            valid_from: first,
            valid_to: last.map(day_before),
            note: None,
            provenance: nuts(),
            codes,
            parents,
            attach_only: false,
        });
    }
    link_counties(records, &versions)
}

/// Gives each fylke and län the NUTS-3 code (and parent link) of the region it coincides with,
/// for the days in both the version's period and one of the county's own code periods.
fn link_counties(
    records: &mut RegistryRecords,
    versions: &BTreeMap<String, BTreeMap<String, Entry>>,
) -> Result<(), String> {
    for version in versions.keys() {
        let (from, to) = version_period(version)?;
        let to_inclusive = to.map(day_before);
        for (code, entry) in versions[version].iter().filter(|(_, e)| e.level == 3) {
            let wanted = match_form(&entry.name);
            for county in records.regions.iter_mut().filter(|r| matches!(r.kind, RegionKind::Fylke | RegionKind::Lan)) {
                if match_form(&county.name) != wanted {
                    continue;
                }
                let own: Vec<(Option<NaiveDate>, Option<NaiveDate>)> = county
                    .codes
                    .iter()
                    .filter(|c| matches!(c.scheme, CodeScheme::Fylkesnummer | CodeScheme::Lanskod))
                    .map(|c| (c.valid_from, c.valid_to))
                    .collect();
                for (own_from, own_to) in own {
                    let start = match (from, own_from) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    let end = match (to_inclusive, own_to) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if matches!((start, end), (Some(s), Some(e)) if e < s) {
                        continue;
                    }
                    county.codes.push(CodeRecord {
                        scheme: CodeScheme::Nuts3,
                        value: code.clone(),
                        valid_from: start,
                        valid_to: end,
                        nuts_version: Some(version.clone()),
                        provenance: provenance(NUTS_SOURCE, true),
                    });
                    county.parents.push(ParentRecord {
                        parent_slug: format!("nuts-{code}"),
                        nuts_version: Some(version.clone()),
                        valid_from: start,
                        valid_to: end,
                        provenance: provenance(NUTS_SOURCE, true),
                    });
                }
            }
        }
    }
    Ok(())
}
