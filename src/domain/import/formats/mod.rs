//! The funders' formats the importers read, each into one [`Batch`]: `forskningsradet-eu`
//! ([`forskningsradet`]), `cordis` ([`cordis`]), `ror` ([`ror`]) and any CSV through a mapping
//! file ([`mapped`]). Readers check each row on its own (dates, amounts, identifiers) and keep
//! going, so one run lists every bad row; placing and matching come after ([`super::intake`]).

pub mod cordis;
pub mod forskningsradet;
pub mod mapped;
pub mod ror;

use std::collections::HashMap;

use chrono::NaiveDate;

use super::intake::Batch;
use super::records::{ProgrammeRecord, ProjectRecord, Provenance, SourceRecord};
use super::tabular::RowError;
use crate::domain::reference::slugify;

/// A file format `samverka import --format` and `importFile(format:)` accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    ForskningsradetEu,
    Cordis,
    Ror,
    Csv,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::ForskningsradetEu, Format::Cordis, Format::Ror, Format::Csv];

    pub fn name(self) -> &'static str {
        match self {
            Format::ForskningsradetEu => "forskningsradet-eu",
            Format::Cordis => "cordis",
            Format::Ror => "ror",
            Format::Csv => "csv",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Self::ALL.into_iter().find(|f| f.name() == name.trim().to_ascii_lowercase())
    }

    /// Whether the format is an authoritative register, whose rows are stored `verified`.
    /// ROR is the register of research organisation identities; the funders' lists are
    /// secondary sources of who took part.
    pub fn authoritative(self) -> bool {
        matches!(self, Format::Ror)
    }
}

/// A file to read: its name (for provenance and errors) and its bytes.
#[derive(Clone, Debug)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What the caller chose besides the files.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// `ror`: the countries whose records are imported (ISO alpha-2; default NO, SE).
    pub countries: Vec<String>,
    /// `csv`: the mapping file (TOML).
    pub mapping: Option<InputFile>,
}

/// Reads files of one format into a batch, calling `progress(rows)` as rows are read.
pub struct Reader<'p> {
    pub batch: Batch,
    programmes: HashMap<String, usize>,
    progress: &'p mut dyn FnMut(u64),
}

impl Reader<'_> {
    fn progress(&mut self, rows: u64) {
        (self.progress)(rows);
    }

    /// The programme `slug` called `name`, added once; returns its slug. (A programme names no
    /// source: several files may state it, and none of them owns it.)
    fn programme(&mut self, (slug, name): (String, String), verified: bool) -> String {
        if !self.programmes.contains_key(&slug) {
            self.programmes.insert(slug.clone(), self.batch.programmes.len());
            self.batch.programmes.push(ProgrammeRecord {
                slug: slug.clone(),
                full_name: Some(name.clone()),
                name,
                country: None,
                owner: None,
                funder: None,
                valid_from: None,
                valid_to: None,
                period_text: None,
                provenance: Provenance { source: None, verified, locator: None },
            });
        }
        slug
    }
}

/// Reads `files` as `format`. A file-level problem (missing columns, not JSON) stops the read;
/// row problems are collected in [`Batch::errors`].
pub fn read(
    format: Format,
    files: &[InputFile],
    options: &ReadOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Batch, RowError> {
    if files.is_empty() {
        return Err(RowError::file("(none)", "no_files", "name at least one file to import"));
    }
    // Sorted: the same files are the same source whatever order they are named in.
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut reader = Reader { batch: Batch::default(), programmes: HashMap::new(), progress };
    reader.batch.authoritative = format.authoritative();
    reader.batch.source = Some(SourceRecord {
        key: format!("{}:{}", format.name(), names.join("+")),
        kind: "imported file".into(),
        title: Some(names.join(", ")),
        url: None,
        locator: None,
        description: Some(format!("read by `samverka import --format {}`", format.name())),
    });
    match format {
        Format::ForskningsradetEu => {
            for file in files {
                forskningsradet::read(&mut reader, &file.name, &file.bytes)?;
            }
        }
        Format::Cordis => cordis::read(&mut reader, files)?,
        Format::Ror => {
            let countries = if options.countries.is_empty() {
                vec!["NO".to_owned(), "SE".to_owned()]
            } else {
                options.countries.iter().map(|c| c.trim().to_ascii_uppercase()).collect()
            };
            for file in files {
                ror::read(&mut reader, &file.name, &file.bytes, &countries)?;
            }
        }
        Format::Csv => {
            let mapping = options.mapping.as_ref().ok_or_else(|| {
                RowError::file(
                    &names.join(", "),
                    "no_mapping",
                    "the csv format needs a mapping file (--mapping FILE.toml)",
                )
            })?;
            let mapping = mapped::Mapping::parse(&mapping.name, &mapping.bytes)?;
            if let Some(source) = &mut reader.batch.source {
                source.key = format!("csv:{}", mapping.source);
                source.title = Some(mapping.name.clone());
                source.description = Some(format!(
                    "{} through mapping {}",
                    names.join(", "),
                    options.mapping.as_ref().map_or("", |m| m.name.as_str())
                ));
            }
            reader.batch.authoritative = mapping.verified;
            for file in files {
                mapped::read(&mut reader, &mapping, &file.name, &file.bytes)?;
            }
        }
    }
    Ok(reader.batch)
}

/// The EU framework programme a file names ("H2020", "Horisont Europa", "HORIZON", "FP7"…), as
/// (slug, name) of one programme whichever file names it.
pub fn framework_programme(name: &str) -> (String, String) {
    let key = slugify(name);
    let (slug, full) = match key.as_str() {
        "h2020" | "horizon-2020" | "horisont-2020" => ("eu-h2020", "Horizon 2020"),
        "horizon" | "he" | "heu" | "horizon-europe" | "horisont-europa" | "horizon-europa" | "horizon-europe-he" => {
            ("eu-horizon-europe", "Horizon Europe")
        }
        "fp7" | "7th-framework-programme" => ("eu-fp7", "Seventh Framework Programme (FP7)"),
        _ => return (format!("eu-{key}"), name.trim().to_owned()),
    };
    (slug.to_owned(), full.to_owned())
}

/// A project row with no budget, partners or goals yet.
pub fn project_record(
    slug: &str,
    title: &str,
    acronym: Option<&str>,
    programme: Option<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    provenance: Provenance,
) -> ProjectRecord {
    ProjectRecord {
        slug: slug.to_owned(),
        name: title.trim().to_owned(),
        short_name: acronym.map(|a| a.trim().to_owned()),
        programme_slug: programme,
        valid_from: start,
        valid_to: end,
        period_text: None,
        period_approximate: false,
        provenance,
        budget_lines: Vec::new(),
        partners: Vec::new(),
        goals: Vec::new(),
        indicator_values: Vec::new(),
        collaborations: Vec::new(),
    }
}
