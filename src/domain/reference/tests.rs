//! The shipped map against facts of the classifications themselves.

use chrono::NaiveDate;
use entity::enums::{ChangeKind, CodeScheme, RegionKind};

use super::*;
use crate::domain::import::MunicipalityRecord;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn map() -> &'static ReferenceMap {
    builtin().expect("the shipped map builds")
}

fn exists(m: &MunicipalityRecord, day: NaiveDate) -> bool {
    m.established_on.is_none_or(|from| from <= day) && m.dissolved_on.is_none_or(|to| day <= to)
}

fn count(country: &str, day: &str) -> usize {
    map().records.municipalities.iter().filter(|m| m.country == country && exists(m, d(day))).count()
}

fn municipality(slug: &str) -> &'static MunicipalityRecord {
    map().records.municipalities.iter().find(|m| m.slug == slug).unwrap_or_else(|| panic!("{slug} is in the map"))
}

fn codes(slug: &str) -> Vec<(String, Option<NaiveDate>, Option<NaiveDate>)> {
    municipality(slug).codes.iter().map(|c| (c.value.clone(), c.valid_from, c.valid_to)).collect()
}

#[test]
fn municipality_counts_by_date() {
    assert_eq!(count("NO", "1971-01-01"), 449);
    assert_eq!(count("NO", "2019-12-31"), 422);
    assert_eq!(count("NO", "2020-01-01"), 356);
    assert_eq!(count("NO", "2023-12-31"), 356);
    assert_eq!(count("NO", "2024-01-01"), 357);
    for day in ["2003-01-01", "2010-06-30", "2024-01-01", "2026-11-29"] {
        assert_eq!(count("SE", day), 290, "{day}");
    }
    assert_eq!(count("SE", "2002-12-31"), 289, "Knivsta split from Uppsala in 2003");
}

#[test]
fn unknown_is_not_a_municipality() {
    let records = &map().records;
    assert!(records.municipalities.iter().all(|m| m.codes.iter().all(|c| c.value != "9999")));
    assert!(records.municipality_changes.iter().all(|c| c.from_code.as_deref() != Some("9999")));
}

#[test]
fn codes_are_dated_with_exclusive_ends_turned_inclusive() {
    assert_eq!(
        codes("mun-no-nome"),
        [
            ("0819".into(), None, Some(d("2019-12-31"))),
            ("3816".into(), Some(d("2020-01-01")), Some(d("2023-12-31"))),
            ("4018".into(), Some(d("2024-01-01")), None)
        ]
    );
    let baerum: Vec<String> = codes("mun-no-baerum").into_iter().map(|c| c.0).collect();
    assert_eq!(baerum, ["0219", "3024", "3201"]);
}

#[test]
fn the_demo_municipalities_and_regions_are_reference_entities() {
    let demo = crate::domain::import::parse_seed_facts(include_bytes!("../../../data/seed-facts.json")).expect("demo");
    let records = &map().records;
    for m in &demo.municipalities {
        let reference = records.municipalities.iter().find(|r| r.slug == m.slug);
        let reference = reference.unwrap_or_else(|| panic!("{} is a reference municipality", m.slug));
        for code in &m.codes {
            assert!(reference.codes.iter().any(|c| c.value == code.value), "{}: {}", m.slug, code.value);
        }
    }
    for r in demo
        .regions
        .iter()
        .filter(|r| !matches!(r.kind, RegionKind::SubRegion | RegionKind::InformalArea | RegionKind::Landskap))
    {
        assert!(
            records.regions.iter().any(|x| x.slug == r.slug && x.kind == r.kind),
            "{} is a reference region",
            r.slug
        );
    }
}

#[test]
fn a_split_is_many_to_many() {
    let changes: Vec<_> = map()
        .records
        .municipality_changes
        .iter()
        .filter(|c| c.from_code.as_deref() == Some("1507") && c.day == d("2024-01-01"))
        .map(|c| (c.kind, c.to_code.clone().unwrap_or_default(), c.to_slug.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        changes,
        [
            (ChangeKind::Split, "1508".to_owned(), "mun-no-alesund".to_owned()),
            (ChangeKind::Split, "1580".to_owned(), "mun-no-haram-2024".to_owned())
        ]
    );
    let merger = map()
        .records
        .municipality_changes
        .iter()
        .filter(|c| c.to_slug.as_deref() == Some("mun-no-midt-telemark") && c.kind == ChangeKind::Merger)
        .count();
    assert_eq!(merger, 2, "Bø and Sauherad");
    let county_change = map().records.municipality_changes.iter().any(|c| {
        c.from_code.as_deref() == Some("0219")
            && c.to_code.as_deref() == Some("3024")
            && c.kind == ChangeKind::CountyChange
    });
    assert!(county_change);
}

#[test]
fn fylker_and_lan_by_date() {
    let records = &map().records;
    let fylker = records.regions.iter().filter(|r| r.kind == RegionKind::Fylke);
    let on = |day: &str| {
        fylker
            .clone()
            .filter(|r| {
                r.codes.iter().any(|c| {
                    c.scheme == CodeScheme::Fylkesnummer
                        && c.valid_from.is_none_or(|f| f <= d(day))
                        && c.valid_to.is_none_or(|t| d(day) <= t)
                })
            })
            .count()
    };
    assert_eq!(on("2019-06-01"), 18);
    assert_eq!(on("2022-06-01"), 11);
    assert_eq!(on("2024-06-01"), 15);
    let lan_today = records.regions.iter().filter(|r| r.kind == RegionKind::Lan && r.valid_to.is_none()).count();
    assert_eq!(lan_today, 21);
    let telemark = records.regions.iter().find(|r| r.slug == "reg-no-telemark").expect("Telemark");
    let nuts3: Vec<_> =
        telemark.codes.iter().filter(|c| c.scheme == CodeScheme::Nuts3).map(|c| c.value.as_str()).collect();
    assert!(nuts3.contains(&"NO034") && nuts3.contains(&"NO094"), "{nuts3:?}");
}

#[test]
fn unconfirmed_swedish_rows_are_unverified_and_no_old_code_is_invented() {
    let records = &map().records;
    let simrishamn = municipality("mun-se-simrishamn");
    assert_eq!(
        simrishamn.codes.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
        ["1291"],
        "no invented 11xx code"
    );
    let change =
        records.municipality_changes.iter().find(|c| c.to_code.as_deref() == Some("1291")).expect("1997 change");
    assert!(!change.provenance.verified && change.from_code.is_none());
    let kristianstad =
        records.municipality_changes.iter().find(|c| c.from_code.as_deref() == Some("1180")).expect("1180");
    assert!(kristianstad.provenance.verified);
    let bara = municipality("mun-se-bara");
    assert_eq!(bara.successor_slug.as_deref(), Some("mun-se-svedala"));
    assert_eq!(bara.dissolved_on, Some(d("1976-12-31")));
}

#[test]
fn nuts_versions() {
    let records = &map().records;
    let in_version = |version: &str, kind: RegionKind| {
        records
            .regions
            .iter()
            .filter(|r| {
                r.kind == kind
                    && r.codes.iter().any(|c| c.nuts_version.as_deref() == Some(version) && c.value == r.slug[5..])
            })
            .count()
    };
    assert_eq!(in_version("2013", RegionKind::Nuts3), 40);
    assert_eq!(in_version("2016", RegionKind::Nuts3), 39);
    assert_eq!(in_version("2021", RegionKind::Nuts3), 33);
    assert_eq!(in_version("2024", RegionKind::Nuts3), 37);
    assert_eq!(in_version("2024", RegionKind::Nuts0), 2);
}

#[test]
fn slugs_fold_nordic_letters() {
    assert_eq!(slugify("Bø (Telemark)"), "bo-telemark");
    assert_eq!(slugify("Våler (Østfold)"), "valer-ostfold");
    assert_eq!(slugify("Västra Götalands län"), "vastra-gotalands-lan");
    assert_eq!(slugify("Kárášjohka - Karasjok"), "karasjohka-karasjok");
}
