//! The shipped reference files (`data/reference/`), compiled into the binary so that no start
//! reads anything outside the database: see `data/reference/README.md` for sources and licences.

/// Statistics Norway's KLASS 131 versions that list every municipality, oldest first.
pub const KLASS_VERSIONS: &[&str] = &[
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1971.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1972.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1974.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1976.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1977.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1988.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1990.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1991.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1992.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1993.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1994.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-1995.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2002.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2003.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2004.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2005.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2006.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2008.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2011.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2012.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2013.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2015.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2017.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2018.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2019.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2020.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2022.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2023.json"),
    include_str!("../../../data/reference/no/klass-131/Kommuneinndeling-2024.json"),
];

/// KLASS 131's change table (`codeChanges`).
pub const KLASS_CHANGES: &str = include_str!("../../../data/reference/no/klass-131/changetables.json");

/// Norwegian county numbers and names (three generations of codes, no dates).
pub const FYLKE_NAMES: &str = include_str!("../../../data/reference/no/county_names_numbers.txt");

/// Statistics Sweden's current län and kommuner (CC0).
pub const SE_COUNTIES: &str = include_str!("../../../data/reference/se/counties.csv");
pub const SE_MUNICIPALITIES: &str = include_str!("../../../data/reference/se/municipalities.csv");

/// Swedish code changes since 1971, compiled with sources; unconfirmed rows say so.
pub const SE_CHANGES: &str = include_str!("../../../data/reference/se/kommun-changes.csv");

/// NUTS 2013/2016/2021/2024 codes and names of Norway and Sweden, levels 0–3 (Eurostat GISCO).
pub const NUTS_NAMES: &str = include_str!("../../../data/reference/nuts/nuts-names.csv");

/// Every shipped file above, for the release fingerprint.
pub fn all() -> impl Iterator<Item = &'static str> {
    KLASS_VERSIONS.iter().copied().chain([
        KLASS_CHANGES,
        FYLKE_NAMES,
        SE_COUNTIES,
        SE_MUNICIPALITIES,
        SE_CHANGES,
        NUTS_NAMES,
    ])
}
