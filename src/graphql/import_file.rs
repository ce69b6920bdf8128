//! `importFile`: funders' files through GraphQL, for editors. Files travel base64-encoded in
//! the JSON request (not as multipart uploads, which would reopen the CSRF hole JSON-only POSTs
//! close); the server's body limit bounds their size, and the CLI takes files of any size.
//! The work is `crate::ingest::import_files`, the same as `samverka import --format`.

use async_graphql::{Enum, ErrorExtensions, InputObject, SimpleObject};
use base64::Engine;

use super::error::{bad_input, write_error};
use super::mutation::TableImport;
use super::types::common::Date;
use crate::domain::import::formats::{Format, InputFile, ReadOptions};
use crate::domain::import::intake::{MatchExample, MatchedBy, ResolveOptions};
use crate::domain::import::tabular::RowError;
use crate::ingest::{ImportFailure, ImportReport, ImportRequest};

/// A format `importFile` reads.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ImportFormat")]
pub enum ImportFormatInput {
    /// The Research Council of Norway's "Bevilgninger fra EU til norske forskningsmiljøer" CSV.
    ForskningsradetEu,
    /// CORDIS `project.csv` and `organization.csv` (both files).
    Cordis,
    /// The ROR v2 JSON data dump (or a part of it).
    Ror,
    /// Any project/partner CSV, read through a TOML mapping (`mapping`).
    Csv,
}

impl From<ImportFormatInput> for Format {
    fn from(format: ImportFormatInput) -> Self {
        match format {
            ImportFormatInput::ForskningsradetEu => Format::ForskningsradetEu,
            ImportFormatInput::Cordis => Format::Cordis,
            ImportFormatInput::Ror => Format::Ror,
            ImportFormatInput::Csv => Format::Csv,
        }
    }
}

/// A file: its name (for provenance and error messages) and its bytes, base64-encoded.
#[derive(InputObject)]
pub struct ImportFileInput {
    pub name: String,
    pub content_base64: String,
}

impl ImportFileInput {
    fn decode(self, argument: &str) -> async_graphql::Result<InputFile> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|error| bad_input(argument, format!("`{}` is not base64: {error}", self.name)))?;
        Ok(InputFile { name: self.name, bytes })
    }
}

/// What an import did (or, with `dryRun`, would do).
#[derive(SimpleObject)]
pub struct ImportFileReport {
    pub format: String,
    pub files: Vec<String>,
    /// Data rows the files held (records, for ROR).
    pub rows: u64,
    pub dry_run: bool,
    /// Whether the import was committed (false for a dry run).
    pub committed: bool,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub tables: Vec<TableImport>,
    pub matching: ImportMatching,
    /// Rows left out with `skipInvalid` (without it, any invalid row fails the import).
    pub invalid: Vec<ImportRowError>,
    pub skipped: Vec<ImportSkipped>,
    /// The day each country's municipality codes were read on.
    pub codes_on: Vec<ImportCodesOn>,
    pub nuts_version: Option<String>,
}

/// How the file's organisations met the registry's.
#[derive(SimpleObject)]
pub struct ImportMatching {
    pub matched_by_org_number: u64,
    pub matched_by_ror: u64,
    pub matched_by_name: u64,
    pub created: u64,
    pub ambiguous: u64,
    /// ROR records matched by name only: offered as candidates, not written.
    pub candidates: u64,
    /// Organisations matched by org number that got their ROR id from the file (ROR).
    pub identified: u64,
    /// Norwegian or Swedish organisations the file does not place in a municipality.
    pub unplaced: u64,
    /// The first examples of each kind.
    pub examples: Vec<ImportMatchExample>,
}

#[derive(SimpleObject)]
pub struct ImportMatchExample {
    /// `matched`, `created`, `ambiguous`, `candidate` or `unplaced`.
    pub kind: String,
    pub name: String,
    pub slug: Option<String>,
    pub candidates: Vec<String>,
    /// File and row.
    pub locator: String,
}

/// A row that could not be imported, and why.
#[derive(SimpleObject)]
pub struct ImportRowError {
    pub file: String,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub rule: String,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct ImportSkipped {
    pub reason: String,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct ImportCodesOn {
    pub country: String,
    pub day: Date,
}

impl From<&RowError> for ImportRowError {
    fn from(e: &RowError) -> Self {
        Self {
            file: e.file.clone(),
            row: e.row,
            column: e.column.clone(),
            rule: e.rule.clone(),
            message: e.message.clone(),
        }
    }
}

fn examples(kind: &str, list: &[MatchExample]) -> impl Iterator<Item = ImportMatchExample> {
    list.iter().map(move |e| ImportMatchExample {
        kind: kind.to_owned(),
        name: e.name.clone(),
        slug: e.slug.clone(),
        candidates: e.candidates.clone(),
        locator: e.locator.clone(),
    })
}

impl From<ImportReport> for ImportFileReport {
    fn from(report: ImportReport) -> Self {
        let total = report.summary.total();
        let m = &report.matching;
        let by = |key| m.matched.get(&key).copied().unwrap_or(0);
        Self {
            format: report.format.clone(),
            files: report.files.clone(),
            rows: report.rows,
            dry_run: report.dry_run,
            committed: report.committed,
            inserted: total.inserted,
            updated: total.updated,
            deleted: total.deleted,
            unchanged: total.unchanged,
            tables: report
                .summary
                .tables
                .iter()
                .filter(|(_, c)| c.inserted + c.updated + c.deleted + c.unchanged > 0)
                .map(|(table, c)| TableImport {
                    table: (*table).to_owned(),
                    inserted: c.inserted,
                    updated: c.updated,
                    deleted: c.deleted,
                    unchanged: c.unchanged,
                })
                .collect(),
            matching: ImportMatching {
                matched_by_org_number: by(MatchedBy::OrgNumber),
                matched_by_ror: by(MatchedBy::Ror),
                matched_by_name: by(MatchedBy::Name),
                created: m.created,
                ambiguous: m.ambiguous,
                candidates: m.candidates,
                identified: m.identified,
                unplaced: m.unplaced,
                examples: examples("matched", &m.matched_examples)
                    .chain(examples("created", &m.created_examples))
                    .chain(examples("ambiguous", &m.ambiguous_examples))
                    .chain(examples("candidate", &m.candidate_examples))
                    .chain(examples("unplaced", &m.unplaced_examples))
                    .collect(),
            },
            invalid: report.invalid.iter().map(ImportRowError::from).collect(),
            skipped: report
                .skipped
                .iter()
                .map(|(reason, count)| ImportSkipped { reason: reason.clone(), count: *count })
                .collect(),
            codes_on: report
                .codes_on
                .iter()
                .map(|(country, day)| ImportCodesOn { country: country.clone(), day: Date(*day) })
                .collect(),
            nuts_version: report.nuts_version.clone(),
        }
    }
}

/// Invalid rows listed in an error: at most this many in `extensions.invalidRows`.
const LISTED_ROWS: usize = 100;

/// The arguments of `importFile`, gathered.
pub struct ImportFileArguments {
    pub format: ImportFormatInput,
    pub files: Vec<ImportFileInput>,
    pub mapping: Option<ImportFileInput>,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub codes_on: Option<Date>,
    pub nuts_version: Option<String>,
    pub countries: Option<Vec<String>>,
}

pub async fn import_file(
    db: &crate::db::Db,
    actor: &str,
    arguments: ImportFileArguments,
) -> async_graphql::Result<ImportFileReport> {
    if arguments.files.is_empty() {
        return Err(bad_input("files", "name at least one file"));
    }
    if arguments.files.len() > 10 {
        return Err(bad_input("files", "at most 10 files per import"));
    }
    let files = arguments.files.into_iter().map(|f| f.decode("files")).collect::<async_graphql::Result<Vec<_>>>()?;
    let mapping = arguments.mapping.map(|m| m.decode("mapping")).transpose()?;
    let request = ImportRequest {
        format: arguments.format.into(),
        files,
        read: ReadOptions { countries: arguments.countries.unwrap_or_default(), mapping },
        resolve: ResolveOptions {
            codes_on: arguments.codes_on.map(|d| d.0),
            nuts_version: arguments.nuts_version,
            ..Default::default()
        },
        dry_run: arguments.dry_run,
        skip_invalid: arguments.skip_invalid,
    };
    match crate::ingest::import_files(db, actor, request, &mut crate::ingest::Silent).await {
        Ok(report) => Ok(report.into()),
        Err(ImportFailure::File(error)) => Err(bad_input("files", error.to_string()).extend_with(|_, extensions| {
            extensions.set("file", error.file.as_str());
            extensions.set("rule", error.rule.as_str());
        })),
        Err(ImportFailure::Invalid(report)) => {
            let count = report.invalid.len();
            let rows: Vec<async_graphql::Value> = report
                .invalid
                .iter()
                .take(LISTED_ROWS)
                .map(|e| {
                    async_graphql::Value::from_json(serde_json::to_value(e).unwrap_or_default()).unwrap_or_default()
                })
                .collect();
            let first = report.invalid.first().map(ToString::to_string).unwrap_or_default();
            Err(bad_input(
                "files",
                format!("{count} invalid row(s), nothing was written (skipInvalid imports the rest); first: {first}"),
            )
            .extend_with(move |_, extensions| {
                extensions.set("rule", "invalid_rows");
                extensions.set("invalidCount", count as u64);
                extensions.set("invalidRows", async_graphql::Value::List(rows));
            }))
        }
        Err(ImportFailure::Write(error)) => Err(write_error(error)),
    }
}
