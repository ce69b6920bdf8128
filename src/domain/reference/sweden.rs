//! Sweden: the current 21 län and 290 kommuner (SCB), and the compiled table of changes since
//! 1971. Rows the compilers could not confirm are loaded as unverified; a blank old code stays
//! unknown (the municipality simply has no code before the change).

use chrono::NaiveDate;
use entity::enums::{ChangeKind, CodeScheme, LifecycleStatus, RegionKind};

use super::{SCB_SOURCE, SE_CHANGES_SOURCE, Slugs, day, day_before, provenance, slugify};
use crate::domain::import::{ChangeRecord, CodeRecord, MembershipRecord, MunicipalityRecord, NameRecord, Provenance};
use crate::domain::import::{RegionRecord, RegistryRecords};

/// The two county mergers after which the merged county's municipalities kept their codes
/// unchecked one by one ("believed unchanged"): (county code, first day of the new county).
const UNCHECKED_BEFORE: &[(&str, &str)] = &[("12", "1997-01-01"), ("14", "1998-01-01")];

struct Row {
    day: NaiveDate,
    old_code: String,
    old_name: String,
    new_code: String,
    new_name: String,
    kind: String,
    source: String,
}

impl Row {
    fn confirmed(&self) -> bool {
        !self.source.trim_start().to_lowercase().starts_with("unconfirmed")
    }
}

/// A value over `[from, to)` with its own verification flag.
#[derive(Clone, Debug)]
struct Span {
    value: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    verified: bool,
}

struct County {
    slug: String,
    name: String,
    short_name: String,
    codes: Vec<Span>,
}

struct Municipality {
    slug: String,
    name: String,
    established: Option<(NaiveDate, bool)>,
    dissolved: Option<NaiveDate>,
    successor: Option<usize>,
    codes: Vec<Span>,
    /// Before its first known code: the county it was in (from the change table's note), verified.
    county_before_code: Option<(usize, bool)>,
}

fn csv_rows(name: &str, text: &str) -> Result<Vec<csv::StringRecord>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    reader.records().map(|row| row.map_err(|error| format!("{name}: {error}"))).collect()
}

fn field<'r>(name: &str, row: &'r csv::StringRecord, index: usize) -> Result<&'r str, String> {
    row.get(index).map(str::trim).ok_or_else(|| format!("{name}: row {:?} has no column {index}", row.position()))
}

/// "Kristianstads län" → "Kristianstad": the genitive s of the first word goes, "-hus" stays.
fn county_short_name(name: &str) -> String {
    let name = name.trim().trim_end_matches(" län");
    let mut words = name.splitn(2, ' ');
    let first = words.next().unwrap_or_default();
    let first = if first.ends_with('s') && !first.ends_with("hus") { &first[..first.len() - 1] } else { first };
    match words.next() {
        Some(rest) => format!("{first} {rest}"),
        None => first.to_owned(),
    }
}

/// The name before any "(…)" note the change table adds.
fn bare_name(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name).trim()
}

pub(super) fn add(records: &mut RegistryRecords, files: &super::Files) -> Result<(), String> {
    let mut counties: Vec<County> = Vec::new();
    for row in csv_rows("se/counties.csv", files.se_counties)? {
        let code = field("se/counties.csv", &row, 0)?;
        let name = field("se/counties.csv", &row, 1)?;
        let short = field("se/counties.csv", &row, 2)?;
        counties.push(County {
            slug: format!("reg-se-{}", slugify(short)),
            name: name.to_owned(),
            short_name: short.to_owned(),
            codes: vec![Span { value: code.to_owned(), from: None, to: None, verified: true }],
        });
    }
    let mut municipalities: Vec<Municipality> = Vec::new();
    let mut slugs = Slugs::default();
    for row in csv_rows("se/municipalities.csv", files.se_municipalities)? {
        let code = field("se/municipalities.csv", &row, 0)?;
        let short = field("se/municipalities.csv", &row, 2)?;
        municipalities.push(Municipality {
            slug: slugs.take(format!("mun-se-{}", slugify(short)), None),
            name: short.to_owned(),
            established: None,
            dissolved: None,
            successor: None,
            codes: vec![Span { value: code.to_owned(), from: None, to: None, verified: true }],
            county_before_code: None,
        });
    }
    let mut rows = Vec::new();
    for row in csv_rows("se/kommun-changes.csv", files.se_changes)? {
        let get = |i| field("se/kommun-changes.csv", &row, i).map(str::to_owned);
        rows.push(Row {
            day: day("se/kommun-changes.csv", &get(0)?)?,
            old_code: get(1)?,
            old_name: get(2)?,
            new_code: get(3)?,
            new_name: get(4)?,
            kind: get(5)?,
            source: get(6)?,
        });
    }
    rows.sort_by_key(|r| r.day);

    let mut region_changes = Vec::new();
    // County mergers first: they decide which county a code prefix means on a day.
    for row in rows.iter().filter(|r| r.kind == "county_change" && r.new_code.len() == 2) {
        let to = counties
            .iter()
            .position(|c| c.name == row.new_name)
            .ok_or_else(|| format!("se/kommun-changes.csv: unknown county `{}`", row.new_name))?;
        for span in counties[to].codes.iter_mut().filter(|s| s.value == row.new_code) {
            span.from = Some(row.day);
        }
        let from = match counties.iter().position(|c| c.name == row.old_name) {
            Some(index) => index,
            None => {
                counties.push(County {
                    slug: format!("reg-se-{}", slugify(&county_short_name(&row.old_name))),
                    name: row.old_name.clone(),
                    short_name: county_short_name(&row.old_name),
                    codes: Vec::new(),
                });
                counties.len() - 1
            }
        };
        let inferred = row.source.contains("inferred") || row.source.contains("not directly confirmed");
        if !row.old_code.is_empty() {
            counties[from].codes.push(Span {
                value: row.old_code.clone(),
                from: None,
                to: Some(row.day),
                verified: row.confirmed() && !inferred,
            });
        }
        region_changes.push((row, from, to));
    }
    let county_of = |counties: &[County], code: &str, on: Option<NaiveDate>| -> Option<usize> {
        counties.iter().position(|c| {
            c.codes.iter().any(|s| {
                s.value == code[..2]
                    && match on {
                        Some(on) => s.from.is_none_or(|f| f <= on) && s.to.is_none_or(|t| on < t),
                        None => s.from.is_none(),
                    }
            })
        })
    };

    let mut municipality_changes = Vec::new();
    for row in rows.iter().filter(|r| !(r.kind == "county_change" && r.new_code.len() == 2)) {
        let find_code = |ms: &[Municipality], code: &str| {
            (!code.is_empty()).then(|| ms.iter().position(|m| m.codes.iter().any(|s| s.value == code))).flatten()
        };
        let find_name = |ms: &[Municipality], name: &str| ms.iter().position(|m| m.name == bare_name(name));
        let to = find_code(&municipalities, &row.new_code)
            .or_else(|| find_name(&municipalities, &row.new_name))
            .ok_or_else(|| format!("se/kommun-changes.csv: unknown municipality `{}`", row.new_name))?;
        let verified = row.confirmed();
        let kind = match row.kind.as_str() {
            "split" => ChangeKind::Split,
            "merge" => ChangeKind::Merger,
            "recode" | "county_change" => {
                if !row.old_code.is_empty() && !row.new_code.is_empty() && row.old_code[..2] == row.new_code[..2] {
                    ChangeKind::Recode
                } else {
                    ChangeKind::CountyChange
                }
            }
            other => return Err(format!("se/kommun-changes.csv: unknown kind `{other}`")),
        };
        let from = match kind {
            ChangeKind::Recode | ChangeKind::CountyChange => to,
            _ => {
                match find_code(&municipalities, &row.old_code).or_else(|| find_name(&municipalities, &row.old_name)) {
                    Some(index) => index,
                    None => {
                        // A municipality that no longer exists (1229 Bara).
                        let name = bare_name(&row.old_name).to_owned();
                        municipalities.push(Municipality {
                            slug: slugs.take(format!("mun-se-{}", slugify(&name)), None),
                            name,
                            established: None,
                            dissolved: None,
                            successor: None,
                            codes: (!row.old_code.is_empty())
                                .then(|| Span { value: row.old_code.clone(), from: None, to: None, verified })
                                .into_iter()
                                .collect(),
                            county_before_code: None,
                        });
                        municipalities.len() - 1
                    }
                }
            }
        };
        match kind {
            ChangeKind::Split => {
                let m = &mut municipalities[to];
                m.established = Some((row.day, verified));
                for span in m.codes.iter_mut().filter(|s| s.from.is_none()) {
                    span.from = Some(row.day);
                    span.verified &= verified;
                }
            }
            ChangeKind::Merger => {
                let m = &mut municipalities[from];
                m.dissolved = Some(row.day);
                m.successor = Some(to);
                for span in m.codes.iter_mut().filter(|s| s.to.is_none()) {
                    span.to = Some(row.day);
                }
            }
            _ => {
                let m = &mut municipalities[to];
                let starts_later = m.established.is_some_and(|(established, _)| established >= row.day);
                for span in m.codes.iter_mut().filter(|s| s.value == row.new_code) {
                    span.from = Some(row.day);
                }
                if row.old_code.is_empty() {
                    // The old code is unknown: the county it was in is all the table says.
                    let old_county = row.old_name.split_once(" (").map(|(_, rest)| rest.trim_end_matches(')'));
                    if let Some(county) = old_county.and_then(|name| counties.iter().position(|c| c.name == name)) {
                        m.county_before_code = Some((county, verified));
                    }
                } else if !starts_later {
                    m.codes.insert(0, Span { value: row.old_code.clone(), from: None, to: Some(row.day), verified });
                }
            }
        }
        municipality_changes.push((row, kind, from, to, verified));
    }
    // Codes of the merged counties' municipalities that the table does not list are believed
    // unchanged before the merger, but nobody checked them one by one.
    for m in &mut municipalities {
        for (county, day_text) in UNCHECKED_BEFORE {
            let merger = day("UNCHECKED_BEFORE", day_text)?;
            if let Some(at) = m
                .codes
                .iter()
                .position(|s| s.value.starts_with(county) && s.from.is_none() && s.to.is_none_or(|t| t > merger))
                && m.established.is_none_or(|(established, _)| established < merger)
            {
                let span = m.codes[at].clone();
                m.codes[at].from = Some(merger);
                m.codes.insert(at, Span { to: Some(merger), verified: false, ..span });
            }
        }
    }

    write(records, &counties, &municipalities, county_of)?;
    for (row, from, to) in region_changes {
        let into = |index: usize| (counties[index].slug.clone(), counties[index].name.clone());
        let predecessors =
            rows.iter().filter(|r| r.kind == "county_change" && r.new_code == row.new_code && r.day == row.day).count();
        let (from_slug, from_name) = into(from);
        let (to_slug, to_name) = into(to);
        records.region_changes.push(ChangeRecord {
            day: row.day,
            kind: if predecessors > 1 { ChangeKind::Merger } else { ChangeKind::CountyChange },
            from_slug: Some(from_slug),
            from_code: (!row.old_code.is_empty()).then(|| row.old_code.clone()),
            from_name: Some(from_name),
            to_slug: Some(to_slug),
            to_code: Some(row.new_code.clone()),
            to_name: Some(to_name),
            note: Some(row.source.clone()),
            provenance: provenance(SE_CHANGES_SOURCE, row.confirmed()),
        });
    }
    for (row, kind, from, to, verified) in municipality_changes {
        records.municipality_changes.push(ChangeRecord {
            day: row.day,
            kind,
            from_slug: Some(municipalities[from].slug.clone()),
            from_code: (!row.old_code.is_empty()).then(|| row.old_code.clone()),
            from_name: Some(bare_name(&row.old_name).to_owned()),
            to_slug: Some(municipalities[to].slug.clone()),
            to_code: (!row.new_code.is_empty()).then(|| row.new_code.clone()),
            to_name: Some(bare_name(&row.new_name).to_owned()),
            note: Some(format!("{}: {}", row.kind, row.source)),
            provenance: provenance(SE_CHANGES_SOURCE, verified),
        });
    }
    Ok(())
}

fn write(
    records: &mut RegistryRecords,
    counties: &[County],
    municipalities: &[Municipality],
    county_of: impl Fn(&[County], &str, Option<NaiveDate>) -> Option<usize>,
) -> Result<(), String> {
    let source = |verified: bool, changed: bool| {
        if changed { provenance(SE_CHANGES_SOURCE, verified) } else { provenance(SCB_SOURCE, verified) }
    };
    for county in counties {
        let current = county.codes.iter().any(|s| s.to.is_none());
        let valid_from = if county.codes.iter().any(|s| s.from.is_none()) {
            None
        } else {
            county.codes.iter().filter_map(|s| s.from).min()
        };
        records.regions.push(RegionRecord {
            slug: county.slug.clone(),
            name: county.name.clone(),
            short_name: Some(county.short_name.clone()),
            kind: RegionKind::Lan,
            country: Some("SE".into()),
            status: if current { LifecycleStatus::Active } else { LifecycleStatus::Dissolved },
            valid_from,
            valid_to: if current { None } else { county.codes.iter().filter_map(|s| s.to).max().map(day_before) },
            note: None,
            provenance: source(true, !current || valid_from.is_some()),
            codes: county
                .codes
                .iter()
                .map(|s| CodeRecord {
                    scheme: CodeScheme::Lanskod,
                    value: s.value.clone(),
                    valid_from: s.from,
                    valid_to: s.to.map(day_before),
                    nuts_version: None,
                    provenance: source(s.verified, s.from.is_some() || s.to.is_some()),
                })
                .collect(),
            parents: Vec::new(),
            attach_only: false,
        });
    }
    for m in municipalities {
        let mut memberships: Vec<MembershipRecord> = Vec::new();
        let mut push = |county: usize, from: Option<NaiveDate>, to: Option<NaiveDate>, provenance: Provenance| {
            let region_slug = counties[county].slug.clone();
            match memberships.last_mut() {
                Some(last)
                    if last.region_slug == region_slug
                        && last.valid_to == from.map(day_before)
                        && last.provenance == provenance =>
                {
                    last.valid_to = to.map(day_before);
                }
                _ => memberships.push(MembershipRecord {
                    region_slug,
                    valid_from: from,
                    valid_to: to.map(day_before),
                    provenance,
                }),
            }
        };
        let established = m.established.map(|(day, _)| day);
        if let (Some((county, verified)), Some(first)) = (m.county_before_code, m.codes.first()) {
            push(county, established, first.from, provenance(SE_CHANGES_SOURCE, verified));
        }
        for span in &m.codes {
            let county = county_of(counties, &span.value, span.from)
                .ok_or_else(|| format!("no län for kommunkod {} from {:?}", span.value, span.from))?;
            push(county, span.from, span.to, source(span.verified, span.from.is_some() || span.to.is_some()));
        }
        let by_code = |s: &Span| CodeRecord {
            scheme: CodeScheme::Kommunkod,
            value: s.value.clone(),
            valid_from: s.from,
            valid_to: s.to.map(day_before),
            nuts_version: None,
            provenance: source(s.verified, s.from.is_some() || s.to.is_some()),
        };
        records.municipalities.push(MunicipalityRecord {
            slug: m.slug.clone(),
            name: m.name.clone(),
            country: "SE".into(),
            status: if m.dissolved.is_some() { LifecycleStatus::Dissolved } else { LifecycleStatus::Active },
            successor_slug: m.successor.map(|s| municipalities[s].slug.clone()),
            dissolved_on: m.dissolved.map(day_before),
            established_on: established,
            admin_centre: None,
            note: None,
            provenance: source(
                m.established.is_none_or(|(_, verified)| verified),
                m.established.is_some() || m.dissolved.is_some(),
            ),
            codes: m.codes.iter().map(by_code).collect(),
            memberships,
            names: vec![NameRecord {
                name: m.name.clone(),
                valid_from: established,
                valid_to: m.dissolved.map(day_before),
                provenance: provenance(SCB_SOURCE, true),
            }],
            attach_only: false,
        });
    }
    Ok(())
}
