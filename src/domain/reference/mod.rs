//! The reference map shipped with the product: every Norwegian municipality and fylke since
//! 1971 (Statistics Norway's KLASS 131), every Swedish kommun and län with the compiled table of
//! Swedish changes, and the NUTS 0–3 regions of both countries in the 2013, 2016, 2021 and 2024
//! versions. [`build`] turns the shipped files into ordinary [`RegistryRecords`] — regions,
//! municipalities, dated codes, names and memberships, and reforms as rows of their own — which
//! the importer writes like any other file.
//!
//! Conventions:
//! - Stored periods are inclusive (`valid_to` is the last day); KLASS's exclusive `validTo` is
//!   turned into the day before.
//! - What the oldest shipped version lists is stored with an open start: the classification goes
//!   back further than the files do, and "since before records" is what an open start means.
//! - A municipality keeps its identity (slug) across a new code when it is the one that continues:
//!   a one-to-one renumbering, or the predecessor with the same name in a merger or split
//!   (Moss 0104 + Rygge 0136 → Moss 3002). Otherwise the successor is a new municipality.
//! - Slugs come from the first name (`mun-no-bo-telemark`, `reg-se-norrbotten`, `nuts-NO034`);
//!   a later namesake gets its first year appended (`mun-no-haram-2024`), so a slug never moves.
//! - Facts a source marks unconfirmed are loaded with `verified: false`; a code the source does
//!   not give is left out, never guessed.

mod anchor;
pub mod files;
mod norway;
mod nuts;
mod sweden;

use std::collections::HashSet;
use std::sync::OnceLock;

use chrono::{Days, NaiveDate};

pub use anchor::anchor;

use super::import::{CountryRecord, ImportError, Provenance, RegistryRecords, SourceRecord};

/// Source keys of the reference facts; an import speaks for the facts citing its own sources.
pub const KLASS_SOURCE: &str = "ssb-klass-131";
pub const SCB_SOURCE: &str = "scb-lan-kommuner";
pub const SE_CHANGES_SOURCE: &str = "samverka-se-kommun-changes";
pub const NUTS_SOURCE: &str = "eurostat-gisco-nuts";
pub const COUNTRIES_SOURCE: &str = "iso-3166-1";

/// Bump when the way the files are read changes, so existing databases reload the map.
const BUILDER_VERSION: &str = "reference-map/2";

/// The reference map as records, with the fingerprint of the files and builder it came from.
#[derive(Debug)]
pub struct ReferenceMap {
    pub records: RegistryRecords,
    pub fingerprint: String,
}

/// The shipped map, built once per process.
pub fn builtin() -> Result<&'static ReferenceMap, String> {
    static MAP: OnceLock<Result<ReferenceMap, String>> = OnceLock::new();
    MAP.get_or_init(|| build(&Files::builtin())).as_ref().map_err(Clone::clone)
}

/// The fingerprint of the shipped files, without building the map (cheap: one pass of hashing).
pub fn builtin_fingerprint() -> String {
    fingerprint(files::all())
}

/// Reads a seed-facts file and places its geography on the shipped map ([`anchor`]).
pub fn read_on_map(bytes: &[u8]) -> Result<RegistryRecords, ImportError> {
    let records = super::import::parse_seed_facts(bytes)?;
    let map = builtin().map_err(|reason| ImportError { path: "reference map".into(), reason })?;
    anchor(records, map)
}

/// The raw files the map is built from.
#[derive(Clone, Debug)]
pub struct Files<'a> {
    pub klass_versions: Vec<&'a str>,
    pub klass_changes: &'a str,
    pub fylke_names: &'a str,
    pub se_counties: &'a str,
    pub se_municipalities: &'a str,
    pub se_changes: &'a str,
    pub nuts_names: &'a str,
}

impl Files<'static> {
    pub fn builtin() -> Self {
        Self {
            klass_versions: files::KLASS_VERSIONS.to_vec(),
            klass_changes: files::KLASS_CHANGES,
            fylke_names: files::FYLKE_NAMES,
            se_counties: files::SE_COUNTIES,
            se_municipalities: files::SE_MUNICIPALITIES,
            se_changes: files::SE_CHANGES,
            nuts_names: files::NUTS_NAMES,
        }
    }
}

/// Builds the whole map. Errors name the file and what is wrong with it.
pub fn build(files: &Files) -> Result<ReferenceMap, String> {
    let mut records = RegistryRecords { sources: sources(), countries: countries(), ..Default::default() };
    norway::add(&mut records, files)?;
    sweden::add(&mut records, files)?;
    nuts::add(&mut records, files)?;
    let all = files.klass_versions.iter().copied().chain([
        files.klass_changes,
        files.fylke_names,
        files.se_counties,
        files.se_municipalities,
        files.se_changes,
        files.nuts_names,
    ]);
    Ok(ReferenceMap { records, fingerprint: fingerprint(all) })
}

/// FNV-1a over the builder version and every file: a change detector, not a security hash.
fn fingerprint<'a>(files: impl Iterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in std::iter::once(BUILDER_VERSION).chain(files) {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{BUILDER_VERSION}:{hash:016x}")
}

fn sources() -> Vec<SourceRecord> {
    let source = |key: &str, title: &str, url: &str, description: &str| SourceRecord {
        key: key.into(),
        kind: "dataset".into(),
        title: Some(title.into()),
        url: Some(url.into()),
        locator: None,
        description: Some(description.into()),
    };
    vec![
        source(
            KLASS_SOURCE,
            "Statistisk sentralbyrå / Statistics Norway: KLASS 131 Standard for kommuneinndeling",
            "https://www.ssb.no/klass/klassifikasjoner/131",
            "Every version 1971–2024 and the change table; NLOD. Fylke names from the county number list shipped beside it.",
        ),
        source(
            SCB_SOURCE,
            "Statistiska centralbyrån (SCB): län and kommun codes",
            "https://www.scb.se/hitta-statistik/regional-statistik-och-kartor/regionala-indelningar/",
            "Current 21 län and 290 kommuner, via the sjbrg/swedish-geodata repository; CC0.",
        ),
        source(
            SE_CHANGES_SOURCE,
            "Swedish kommun and län code changes since 1971 (compiled)",
            "https://sv.wikipedia.org/wiki/Kommunkod",
            "Compiled from the pages named on each row (see the change's note); rows marked unconfirmed are loaded as unverified.",
        ),
        source(
            NUTS_SOURCE,
            "Eurostat GISCO: NUTS 2013, 2016, 2021 and 2024 (Norway, Sweden)",
            "https://ec.europa.eu/eurostat/web/nuts",
            "Codes and names, levels 0–3, via eurostat/Nuts2json; © EuroGeographics for the administrative boundaries.",
        ),
        source(
            COUNTRIES_SOURCE,
            "ISO 3166-1 alpha-2 country codes",
            "https://www.iso.org/iso-3166-country-codes.html",
            "NO and SE, and the countries EU projects most often involve.",
        ),
    ]
}

/// Countries of the EU, the EEA and the partners EU projects most often have besides, so a
/// foreign participant of a CORDIS project has its country row: (ISO code, name, EU member).
const OTHER_COUNTRIES: &[(&str, &str, bool)] = &[
    ("AT", "Austria", true),
    ("BE", "Belgium", true),
    ("BG", "Bulgaria", true),
    ("HR", "Croatia", true),
    ("CY", "Cyprus", true),
    ("CZ", "Czechia", true),
    ("DK", "Denmark", true),
    ("EE", "Estonia", true),
    ("FI", "Finland", true),
    ("FR", "France", true),
    ("DE", "Germany", true),
    ("GR", "Greece", true),
    ("HU", "Hungary", true),
    ("IE", "Ireland", true),
    ("IT", "Italy", true),
    ("LV", "Latvia", true),
    ("LT", "Lithuania", true),
    ("LU", "Luxembourg", true),
    ("MT", "Malta", true),
    ("NL", "Netherlands", true),
    ("PL", "Poland", true),
    ("PT", "Portugal", true),
    ("RO", "Romania", true),
    ("SK", "Slovakia", true),
    ("SI", "Slovenia", true),
    ("ES", "Spain", true),
    ("IS", "Iceland", false),
    ("LI", "Liechtenstein", false),
    ("CH", "Switzerland", false),
    ("GB", "United Kingdom", false),
    ("FO", "Faroe Islands", false),
    ("GL", "Greenland", false),
    ("RS", "Serbia", false),
    ("TR", "Türkiye", false),
    ("UA", "Ukraine", false),
    ("IL", "Israel", false),
    ("US", "United States", false),
    ("CA", "Canada", false),
    ("AU", "Australia", false),
    ("JP", "Japan", false),
    ("CN", "China", false),
    ("KR", "South Korea", false),
    ("IN", "India", false),
    ("BR", "Brazil", false),
    ("ZA", "South Africa", false),
    ("AL", "Albania", false),
    ("BA", "Bosnia and Herzegovina", false),
    ("ME", "Montenegro", false),
    ("MK", "North Macedonia", false),
    ("MD", "Moldova", false),
    ("GE", "Georgia", false),
    ("AM", "Armenia", false),
    ("TN", "Tunisia", false),
    ("MA", "Morocco", false),
    ("XK", "Kosovo", false),
    ("NZ", "New Zealand", false),
    ("SG", "Singapore", false),
    ("AR", "Argentina", false),
    ("CL", "Chile", false),
    ("MX", "Mexico", false),
    ("EG", "Egypt", false),
    ("KE", "Kenya", false),
    ("RU", "Russia", false),
];

fn countries() -> Vec<CountryRecord> {
    let provenance = Provenance { source: Some(COUNTRIES_SOURCE.into()), verified: true, locator: None };
    let mut countries = vec![
        CountryRecord {
            code: "NO".into(),
            name: "Norge".into(),
            name_en: Some("Norway".into()),
            eu_member: false,
            provenance: provenance.clone(),
        },
        CountryRecord {
            code: "SE".into(),
            name: "Sverige".into(),
            name_en: Some("Sweden".into()),
            eu_member: true,
            provenance: provenance.clone(),
        },
    ];
    countries.extend(OTHER_COUNTRIES.iter().map(|&(code, name, eu_member)| CountryRecord {
        code: code.into(),
        name: name.into(),
        name_en: Some(name.into()),
        eu_member,
        provenance: provenance.clone(),
    }));
    countries
}

fn provenance(source: &str, verified: bool) -> Provenance {
    Provenance { source: Some(source.into()), verified, locator: None }
}

/// `YYYY-MM-DD`, or an error naming the file.
fn day(file: &str, text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{file}: `{text}` is not a date"))
}

/// The last day of a period that ends before `exclusive_end`.
fn day_before(exclusive_end: NaiveDate) -> NaiveDate {
    exclusive_end.checked_sub_days(Days::new(1)).unwrap_or(exclusive_end)
}

/// ASCII slug of a name: Nordic letters folded as the demo's slugs fold them (ø → o, å → a,
/// æ → ae, ä → a, ö → o), everything else that is not a letter or digit becomes one `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'æ' => "ae",
            'ø' | 'ö' | 'ó' | 'ò' | 'ô' => "o",
            'å' | 'ä' | 'á' | 'à' | 'â' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'ü' | 'ú' => "u",
            'í' | 'ï' => "i",
            'š' => "s",
            'č' => "c",
            'ŋ' => "n",
            'đ' => "d",
            'ŧ' => "t",
            'ž' => "z",
            c if c.is_ascii_alphanumeric() => {
                slug.push(c);
                continue;
            }
            _ => "-",
        };
        slug.push_str(folded);
    }
    let mut collapsed = String::with_capacity(slug.len());
    for c in slug.chars() {
        if c == '-' && (collapsed.is_empty() || collapsed.ends_with('-')) {
            continue;
        }
        collapsed.push(c);
    }
    collapsed.trim_end_matches('-').to_owned()
}

/// Hands out slugs in order, appending the first year to a later namesake.
#[derive(Default)]
struct Slugs(HashSet<String>);

impl Slugs {
    fn take(&mut self, base: String, first_day: Option<NaiveDate>) -> String {
        if self.0.insert(base.clone()) {
            return base;
        }
        let year = first_day.map_or_else(|| "x".to_owned(), |d| chrono::Datelike::year(&d).to_string());
        let mut candidate = format!("{base}-{year}");
        let mut n = 2;
        while !self.0.insert(candidate.clone()) {
            candidate = format!("{base}-{year}-{n}");
            n += 1;
        }
        candidate
    }
}

/// The name without a trailing "(qualifier)", trimmed: KLASS adds and drops qualifiers such as
/// "Vang (Oppland)" from one version to the next without the municipality changing its name.
fn without_qualifier(name: &str) -> &str {
    let name = name.trim();
    match name.rfind(" (") {
        Some(at) if name.ends_with(')') => name[..at].trim(),
        _ => name,
    }
}

/// The language forms of a name ("Kárášjohka - Karasjok" → {kárášjohka, karasjok}).
fn name_forms(name: &str) -> HashSet<String> {
    without_qualifier(name).split(" - ").map(|form| form.trim().to_lowercase()).collect()
}

#[cfg(test)]
mod tests;
