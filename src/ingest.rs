//! Every way files come in, on one path: the seed-facts registry (`load_registry`: first start,
//! `samverka import FILE`, `importRegistry`) and funders' files (`import_files`: `samverka import
//! --format NAME`, `importFile`). Files are read and checked row by row, placed on the shipped
//! map, matched to the registry's organisations, checked against the editors' write rules, and
//! written by the one importer writer in one transaction with its change events — or, in a dry
//! run, written, counted and rolled back.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

use chrono::NaiveDate;

use crate::db::Db;
use crate::db::import::{ImportSummary, Mode};
use crate::db::write::WriteError;
use crate::domain::import::formats::{self, Format, InputFile, ReadOptions};
use crate::domain::import::gazetteer::{Gazetteer, NUTS_VERSIONS};
use crate::domain::import::intake::{self, MatchReport, ResolveOptions, RowRef};
use crate::domain::import::records::RegistryRecords;
use crate::domain::import::rules;
use crate::domain::import::tabular::RowError;

/// Parses a seed-facts file, places it on the reference map (loading the map first when the
/// database does not hold this release of it) and imports it in one transaction (the CLI
/// importer and the first start of the server both come through here).
/// `actor` names the author in the change events (`demo`, `cli`, or a token subject).
pub async fn load_registry(db: &Db, bytes: &[u8], actor: &str) -> anyhow::Result<ImportSummary> {
    let records = crate::domain::reference::read_on_map(bytes)?;
    crate::db::reference::ensure_loaded(db).await?;
    Ok(crate::db::import::import_records(db, &records, actor).await?)
}

/// An import of funders' files.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub format: Format,
    pub files: Vec<InputFile>,
    pub read: ReadOptions,
    pub resolve: ResolveOptions,
    pub dry_run: bool,
    /// Import the good rows and list the bad ones (otherwise one bad row stops everything).
    pub skip_invalid: bool,
}

/// What an import did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub format: String,
    pub files: Vec<String>,
    /// Data rows (records, for JSON) the files held.
    pub rows: u64,
    pub dry_run: bool,
    /// Whether anything was committed.
    pub committed: bool,
    pub summary: ImportSummary,
    pub matching: MatchReport,
    /// Rows refused, with file, row, column and reason.
    pub invalid: Vec<RowError>,
    /// Rows deliberately left out, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// The day each country's municipality codes were read on, and the NUTS version.
    pub codes_on: BTreeMap<String, NaiveDate>,
    pub nuts_version: Option<String>,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// A file cannot be read at all (not CSV, missing columns, no mapping).
    #[error("{0}")]
    File(RowError),
    /// Some rows are bad and `skip_invalid` is off: the report lists them; nothing was written.
    #[error("{} invalid row(s); nothing was written (first: {})", .0.invalid.len(), .0.invalid.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Box<ImportReport>),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Hears how far an import is: `phase` ("read", "write"), rows done so far.
pub trait Progress: Send {
    fn update(&mut self, phase: &'static str, done: u64, total: Option<u64>);
}

/// No progress output (the GraphQL mutation).
#[derive(Debug)]
pub struct Silent;

impl Progress for Silent {
    fn update(&mut self, _: &'static str, _: u64, _: Option<u64>) {}
}

/// Progress lines on standard error, at most one a second: rows, rows/s and an ETA.
#[derive(Debug)]
pub struct StderrProgress {
    started: Instant,
    last: Option<Instant>,
    phase: &'static str,
    phase_started: Instant,
}

impl Default for StderrProgress {
    fn default() -> Self {
        Self { started: Instant::now(), last: None, phase: "", phase_started: Instant::now() }
    }
}

impl Progress for StderrProgress {
    fn update(&mut self, phase: &'static str, done: u64, total: Option<u64>) {
        let now = Instant::now();
        if phase != self.phase {
            self.phase = phase;
            self.phase_started = now;
            self.last = None;
        }
        // Short phases say nothing; long ones a line a second and one at the end.
        let finished = total.is_some_and(|t| done >= t);
        let running = now.duration_since(self.phase_started).as_secs_f64();
        let since_last = self.last.map_or(running, |last| now.duration_since(last).as_secs_f64());
        if running < 1.0 || (since_last < 1.0 && !finished) {
            return;
        }
        self.last = Some(now);
        let seconds = now.duration_since(self.phase_started).as_secs_f64().max(1e-3);
        let rate = done as f64 / seconds;
        let eta = match total {
            Some(total) if rate > 0.0 && total > done => format!(", ETA {:.0} s", (total - done) as f64 / rate),
            _ => String::new(),
        };
        let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
        eprintln!(
            "[{:>6.1} s] {phase}: {done}{of} rows ({rate:.0} rows/s{eta})",
            now.duration_since(self.started).as_secs_f64()
        );
    }
}

fn gazetteer() -> Result<&'static Gazetteer, WriteError> {
    static GAZETTEER: OnceLock<Result<Gazetteer, String>> = OnceLock::new();
    GAZETTEER
        .get_or_init(|| crate::domain::reference::builtin().map(|map| Gazetteer::new(&map.records)))
        .as_ref()
        .map_err(|reason| WriteError::Db(sea_orm::DbErr::Custom(format!("the shipped reference map: {reason}"))))
}

/// Reads, places, matches, checks and writes funders' files (see the module docs).
pub async fn import_files(
    db: &Db,
    actor: &str,
    request: ImportRequest,
    progress: &mut dyn Progress,
) -> Result<ImportReport, ImportFailure> {
    if let Some(version) = request.resolve.nuts_version.as_deref()
        && !NUTS_VERSIONS.contains(&version)
    {
        return Err(ImportFailure::File(RowError::file(
            "(options)",
            "nuts_version",
            format!("`{version}` is not a NUTS version of the reference map ({})", NUTS_VERSIONS.join(", ")),
        )));
    }
    let total_bytes: usize = request.files.iter().map(|f| f.bytes.len()).sum();
    let format = request.format;
    let batch = {
        let mut done = 0u64;
        let mut on_rows = |rows: u64| {
            done += rows;
            progress.update("read", done, None);
        };
        formats::read(format, &request.files, &request.read, &mut on_rows).map_err(ImportFailure::File)?
    };
    tracing::info!(format = format.name(), rows = batch.rows, bytes = total_bytes, "import read");
    crate::db::reference::ensure_loaded(db).await.map_err(WriteError::from)?;
    let known = crate::db::import::known_organisations(db).await.map_err(WriteError::from)?;
    let mut report = ImportReport {
        format: format.name().to_owned(),
        files: request.files.iter().map(|f| f.name.clone()).collect(),
        rows: batch.rows,
        dry_run: request.dry_run,
        skipped: batch.skipped.clone(),
        ..Default::default()
    };
    let mut options = request.resolve.clone();
    options.today.get_or_insert_with(|| chrono::Utc::now().date_naive());
    options.name_matches_are_candidates |= format == Format::Ror;
    options.fill_ror_ids |= format == Format::Ror;
    let resolution = intake::resolve(batch, gazetteer()?, &known, &options);
    report.matching = resolution.report;
    report.codes_on = resolution.codes_on;
    report.nuts_version = resolution.nuts_version;
    report.invalid = resolution.errors;
    let mut records = resolution.records;
    if records.organisations.is_empty() && records.projects.is_empty() && records.organisation_links.is_empty() {
        // Nothing cites the file: it leaves no trace either.
        records.sources.clear();
        records.programmes.clear();
    }
    // A participant from a country the registry does not list yet brings its country row,
    // named by its code until an editor names it.
    let countries = crate::db::import::country_codes(db).await.map_err(WriteError::from)?;
    let source = records.sources.first().map(|s| s.key.clone());
    let missing: std::collections::BTreeSet<String> =
        records.organisations.iter().filter_map(|o| o.country.clone()).filter(|c| !countries.contains(c)).collect();
    for code in missing {
        records.countries.push(crate::domain::import::records::CountryRecord {
            name: code.clone(),
            code,
            name_en: None,
            eu_member: false,
            provenance: crate::domain::edits::Provenance { source: source.clone(), verified: false, locator: None },
        });
    }

    // The editors' rules, on what the rows became.
    let violations = rules::check(&records);
    for violation in &violations {
        let (file, row) = match violation.locator.as_deref().and_then(RowRef::parse) {
            Some(at) => (at.file, Some(at.row)),
            None => (violation.at.clone(), None),
        };
        report.invalid.push(RowError {
            file,
            row,
            column: Some(violation.violation.field.clone()),
            rule: violation.violation.rule.to_owned(),
            message: format!("{} ({})", violation.violation.message, violation.at),
        });
    }
    if !report.invalid.is_empty() {
        report.invalid.sort_by(|a, b| (&a.file, a.row).cmp(&(&b.file, b.row)));
        if !request.skip_invalid {
            return Err(ImportFailure::Invalid(Box::new(report)));
        }
        drop_refused(&mut records, &violations);
    }

    let total_rows = records.organisations.len() as u64
        + records.projects.iter().map(|p| 1 + p.partners.len() + p.budget_lines.len()).sum::<usize>() as u64;
    let mut written = 0u64;
    let mut on_write = |rows: u64| {
        written += rows;
        progress.update("write", written.min(total_rows), Some(total_rows));
    };
    let mode = if request.dry_run { Mode::DryRun } else { Mode::Commit };
    report.summary = crate::db::import::write_records(db, &records, actor, mode, Some(&mut on_write)).await?;
    report.committed = !request.dry_run;
    Ok(report)
}

/// Leaves out what broke a rule (with `--skip-invalid`): the partner, budget line or project
/// whose row it came from.
fn drop_refused(records: &mut RegistryRecords, violations: &[rules::RecordViolation]) {
    let refused: std::collections::HashSet<&str> = violations.iter().filter_map(|v| v.locator.as_deref()).collect();
    let is_refused = |locator: &Option<String>| locator.as_deref().is_some_and(|l| refused.contains(l));
    records.projects.retain(|p| !is_refused(&p.provenance.locator));
    for project in &mut records.projects {
        project.partners.retain(|p| !is_refused(&p.provenance.locator));
        project.budget_lines.retain(|b| !is_refused(&b.provenance.locator));
    }
    let dropped: std::collections::HashSet<String> =
        records.organisations.iter().filter(|o| is_refused(&o.provenance.locator)).map(|o| o.slug.clone()).collect();
    records.organisations.retain(|o| !dropped.contains(&o.slug));
    for project in &mut records.projects {
        project.partners.retain(|p| !dropped.contains(&p.organisation_slug));
    }
}
