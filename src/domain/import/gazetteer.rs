//! Finding places on the reference map the way funders' files name them: a kommunenummer or
//! kommunkod *as it was on some day* (files keep the codes of the year they were made), a NUTS
//! code of some version, or a city name. Built from the map's records, so it needs no database.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use entity::enums::{CodeScheme, RegionKind};

use super::records::RegistryRecords;
use crate::domain::dates::periods_overlap;
use crate::domain::reference::slugify;

/// A municipality of the map, as the gazetteer needs it.
#[derive(Debug)]
struct Place {
    slug: String,
    country: String,
    /// (code, first day, last day) of its municipality codes.
    codes: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)>,
    /// (region slug, first day, last day) of its memberships.
    regions: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)>,
}

/// Where a code or name was found, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The municipality (slug), and the day the code was read on.
    One(String, NaiveDate),
    /// Several municipalities fit (slugs).
    Several(Vec<String>),
    None,
}

/// The NUTS versions the shipped map holds.
pub const NUTS_VERSIONS: [&str; 4] = ["2013", "2016", "2021", "2024"];

/// A fylke or län carrying a NUTS code: (region slug, NUTS version, first day, last day).
type NutsRegion = (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>);

#[derive(Debug, Default)]
pub struct Gazetteer {
    places: Vec<Place>,
    by_code: HashMap<(String, String), Vec<usize>>,
    by_name: HashMap<(String, String), Vec<usize>>,
    /// NUTS code → (fylke/län slug, NUTS version, first day, last day) of the regions carrying it.
    nuts_regions: HashMap<String, Vec<NutsRegion>>,
    /// Every NUTS code of the map → the versions it is in.
    nuts_versions: HashMap<String, BTreeSet<String>>,
}

/// The form names are compared in: Nordic letters folded (ø → o, å → a, æ → ae, ä/ö → a/o),
/// case, punctuation and spacing ignored ("TROMSO", "Tromsø" and "tromsø " are one name).
pub fn name_key(name: &str) -> String {
    slugify(name).replace('-', " ")
}

/// English names Swedish and Norwegian cities go by in EU files.
const EXONYMS: &[(&str, &str)] = &[("gothenburg", "goteborg"), ("gotheburg", "goteborg")];

fn scheme_country(scheme: CodeScheme) -> Option<&'static str> {
    match scheme {
        CodeScheme::Kommunenummer => Some("NO"),
        CodeScheme::Kommunkod => Some("SE"),
        _ => None,
    }
}

impl Gazetteer {
    pub fn new(map: &RegistryRecords) -> Self {
        let mut gazetteer = Gazetteer::default();
        for municipality in &map.municipalities {
            let index = gazetteer.places.len();
            let codes: Vec<_> = municipality
                .codes
                .iter()
                .filter(|c| scheme_country(c.scheme).is_some())
                .map(|c| (c.value.clone(), c.valid_from, c.valid_to))
                .collect();
            for (code, _, _) in &codes {
                let entry = gazetteer.by_code.entry((municipality.country.clone(), code.clone())).or_default();
                if !entry.contains(&index) {
                    entry.push(index);
                }
            }
            let mut names: HashSet<String> = HashSet::new();
            for name in std::iter::once(&municipality.name).chain(municipality.names.iter().map(|n| &n.name)) {
                let bare = name.rfind(" (").filter(|_| name.ends_with(')')).map_or(name.as_str(), |at| &name[..at]);
                for form in bare.split(" - ").chain(bare.split('/')) {
                    names.insert(name_key(form));
                }
            }
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                gazetteer.by_name.entry((municipality.country.clone(), name)).or_default().push(index);
            }
            gazetteer.places.push(Place {
                slug: municipality.slug.clone(),
                country: municipality.country.clone(),
                codes,
                regions: municipality
                    .memberships
                    .iter()
                    .map(|m| (m.region_slug.clone(), m.valid_from, m.valid_to))
                    .collect(),
            });
        }
        for region in &map.regions {
            let is_nuts =
                matches!(region.kind, RegionKind::Nuts0 | RegionKind::Nuts1 | RegionKind::Nuts2 | RegionKind::Nuts3);
            for code in region.codes.iter().filter(|c| {
                matches!(c.scheme, CodeScheme::Nuts0 | CodeScheme::Nuts1 | CodeScheme::Nuts2 | CodeScheme::Nuts3)
            }) {
                if is_nuts {
                    let versions = gazetteer.nuts_versions.entry(code.value.clone()).or_default();
                    versions.extend(code.nuts_version.clone());
                } else {
                    gazetteer.nuts_regions.entry(code.value.clone()).or_default().push((
                        region.slug.clone(),
                        code.nuts_version.clone(),
                        code.valid_from,
                        code.valid_to,
                    ));
                }
            }
        }
        gazetteer
    }

    fn valid_on(codes: &[(String, Option<NaiveDate>, Option<NaiveDate>)], code: &str, day: NaiveDate) -> bool {
        codes.iter().any(|(c, from, to)| c == code && from.is_none_or(|f| f <= day) && to.is_none_or(|t| day <= t))
    }

    fn with_code_on(&self, country: &str, code: &str, day: NaiveDate) -> Vec<usize> {
        self.by_code
            .get(&(country.to_owned(), code.to_owned()))
            .map(|candidates| {
                candidates.iter().copied().filter(|&i| Self::valid_on(&self.places[i].codes, code, day)).collect()
            })
            .unwrap_or_default()
    }

    /// Whether the map knows `code` as a municipality code of `country` at any time.
    pub fn knows_code(&self, country: &str, code: &str) -> bool {
        self.by_code.contains_key(&(country.to_owned(), code.to_owned()))
    }

    /// The day a file's municipality codes most likely refer to: of 1 January and 1 July of
    /// every year up to `today`, the latest on which the most of `codes` were valid. A file
    /// mixing maps still gets the day that fits most of it; each code then falls back in
    /// [`Gazetteer::municipality_by_code`].
    pub fn infer_code_day(&self, country: &str, codes: &BTreeSet<String>, today: NaiveDate) -> Option<NaiveDate> {
        let mut best: Option<(usize, NaiveDate)> = None;
        for year in 1972..=today.year() {
            for month in [1, 7] {
                let Some(day) = NaiveDate::from_ymd_opt(year, month, 1).filter(|d| *d <= today) else { continue };
                let valid = codes.iter().filter(|code| !self.with_code_on(country, code, day).is_empty()).count();
                if valid > 0 && best.is_none_or(|(n, _)| valid >= n) {
                    best = Some((valid, day));
                }
            }
        }
        best.map(|(_, day)| day)
    }

    /// The municipality that carried `code` on `day`; failing that, on `fallback` (the row's
    /// own date); failing that, the last one that ever carried it (a code from an older map).
    pub fn municipality_by_code(
        &self,
        country: &str,
        code: &str,
        day: NaiveDate,
        fallback: Option<NaiveDate>,
    ) -> Found {
        for day in std::iter::once(day).chain(fallback) {
            match self.with_code_on(country, code, day).as_slice() {
                [one] => return Found::One(self.places[*one].slug.clone(), day),
                [] => {}
                several => return Found::Several(several.iter().map(|&i| self.places[i].slug.clone()).collect()),
            }
        }
        let Some(candidates) = self.by_code.get(&(country.to_owned(), code.to_owned())) else { return Found::None };
        // The most recent holder of the code.
        let latest = candidates
            .iter()
            .filter_map(|&i| {
                let place = &self.places[i];
                let last = place
                    .codes
                    .iter()
                    .filter(|(c, _, _)| c == code)
                    .map(|(_, _, to)| to.unwrap_or(NaiveDate::MAX))
                    .max()?;
                Some((last, i))
            })
            .max();
        match latest {
            Some((last, i)) => {
                let first =
                    self.places[i].codes.iter().filter(|(c, _, _)| c == code).filter_map(|(_, from, _)| *from).min();
                let read_on = if last == NaiveDate::MAX { first.unwrap_or(day) } else { last };
                Found::One(self.places[i].slug.clone(), read_on)
            }
            None => Found::None,
        }
    }

    /// Whether the map has NUTS `code` (in `version`, when given).
    pub fn knows_nuts(&self, code: &str, version: Option<&str>) -> bool {
        self.nuts_versions.get(code).is_some_and(|versions| version.is_none_or(|v| versions.contains(v)))
    }

    /// The NUTS version most of `codes` belong to (the latest on a tie).
    pub fn infer_nuts_version(&self, codes: &BTreeSet<String>) -> Option<String> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for code in codes {
            for version in self.nuts_versions.get(code).into_iter().flatten() {
                *counts.entry(version).or_default() += 1;
            }
        }
        counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0))).map(|(v, _)| v.to_owned())
    }

    /// The fylker/län a NUTS code stands for (in `version` when given).
    fn regions_of_nuts(&self, code: &str, version: Option<&str>) -> Vec<&NutsRegion> {
        self.nuts_regions
            .get(code)
            .map(|regions| {
                regions.iter().filter(|(_, v, _, _)| version.is_none_or(|want| v.as_deref() == Some(want))).collect()
            })
            .unwrap_or_default()
    }

    fn in_nuts(&self, place: usize, code: &str, version: Option<&str>) -> bool {
        self.regions_of_nuts(code, version).iter().any(|(region, _, from, to)| {
            self.places[place].regions.iter().any(|(r, mf, mt)| r == region && periods_overlap(*from, *to, *mf, *mt))
        })
    }

    /// The municipality a city name (any language form, any case, with or without Nordic
    /// letters) names in `country`, narrowed to the NUTS region when one is given. A NUTS
    /// region that is one municipality (Oslo, Gotland) places the row even without a city.
    pub fn municipality_by_city(&self, country: &str, city: Option<&str>, nuts: Option<(&str, Option<&str>)>) -> Found {
        let day = NaiveDate::MIN;
        let mut candidates: Vec<usize> = match city {
            Some(city) => {
                let mut key = name_key(city);
                if let Some((_, native)) = EXONYMS.iter().find(|(exonym, _)| *exonym == key) {
                    key = (*native).to_owned();
                }
                self.by_name.get(&(country.to_owned(), key)).cloned().unwrap_or_default()
            }
            None => Vec::new(),
        };
        if let Some((code, version)) = nuts {
            if candidates.len() > 1 {
                let inside: Vec<usize> =
                    candidates.iter().copied().filter(|&i| self.in_nuts(i, code, version)).collect();
                if !inside.is_empty() {
                    candidates = inside;
                }
            }
            if candidates.is_empty() {
                // A NUTS region that is a single municipality (whatever the city column says).
                let regions = self.regions_of_nuts(code, version);
                let members: BTreeSet<usize> = (0..self.places.len())
                    .filter(|&i| self.places[i].country == country)
                    .filter(|&i| {
                        regions.iter().any(|(region, _, from, to)| {
                            self.places[i]
                                .regions
                                .iter()
                                .any(|(r, mf, mt)| r == region && periods_overlap(*from, *to, *mf, *mt))
                        })
                    })
                    .collect();
                if members.len() == 1 {
                    candidates = members.into_iter().collect();
                }
            }
        }
        match candidates.as_slice() {
            [] => Found::None,
            [one] => Found::One(self.places[*one].slug.clone(), day),
            several => Found::Several(several.iter().map(|&i| self.places[i].slug.clone()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::builtin;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    #[test]
    fn codes_are_read_on_their_day() {
        let gazetteer = Gazetteer::new(&builtin().expect("the map").records);
        let codes: BTreeSet<String> = ["5001", "0301", "5405", "5401", "3024"].map(String::from).into();
        let inferred = gazetteer.infer_code_day("NO", &codes, day("2026-11-29")).expect("a day");
        assert!(inferred >= day("2020-01-01") && inferred <= day("2023-12-31"), "{inferred}");
        let vadso = gazetteer.municipality_by_code("NO", "5405", inferred, None);
        assert!(matches!(&vadso, Found::One(slug, _) if slug == "mun-no-vadso"), "{vadso:?}");
        // 1902 was Tromsø until 2019: a code from an older map still lands.
        assert!(
            matches!(gazetteer.municipality_by_code("NO", "1902", inferred, None), Found::One(slug, _) if slug == "mun-no-tromso")
        );
        assert_eq!(gazetteer.municipality_by_code("NO", "9998", inferred, None), Found::None);
        assert!(
            matches!(gazetteer.municipality_by_code("SE", "2580", day("2024-01-01"), None), Found::One(slug, _) if slug == "mun-se-lulea")
        );
    }

    #[test]
    fn cities_are_found_by_any_spelling() {
        let gazetteer = Gazetteer::new(&builtin().expect("the map").records);
        for (country, city, slug) in [
            ("NO", "TROMSO", "mun-no-tromso"),
            ("SE", "LULEA", "mun-se-lulea"),
            ("SE", "Gothenburg", "mun-se-goteborg"),
        ] {
            assert!(
                matches!(gazetteer.municipality_by_city(country, Some(city), None), Found::One(ref s, _) if s == slug),
                "{city}"
            );
        }
        // Oslo is one municipality: its NUTS region places a row without a usable city.
        assert!(matches!(
            gazetteer.municipality_by_city("NO", Some("Blindern"), Some(("NO081", Some("2021")))),
            Found::One(ref s, _) if s == "mun-no-oslo"
        ));
        assert!(gazetteer.knows_nuts("SE332", Some("2021")));
    }
}
