//! `csv` with a mapping: any programme's project/partner list (an Interreg "list of operations",
//! a keep.eu export, a spreadsheet saved as CSV), one row per partner, read through a small TOML
//! file that says which column holds what. `examples/import/` has a commented example.

use chrono::NaiveDate;
use entity::enums::{BudgetKind, OrganisationKind, PartnerRole};
use serde::Deserialize;

use super::{Reader, project_record};
use crate::domain::identity;
use crate::domain::import::intake::{OrganisationIn, PartnerIn, PlaceIn, RowRef};
use crate::domain::import::records::BudgetLineRecord;
use crate::domain::import::tabular::{Cells, RowError, Table};
use crate::domain::reference::slugify;

/// The mapping file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// What the file is, for the source catalogue.
    pub name: String,
    /// The key of the source entry the rows cite (`csv:<source>`).
    pub source: String,
    #[serde(default)]
    pub verified: bool,
    /// One character; detected from the header when absent.
    pub delimiter: Option<String>,
    /// The day the file's municipality codes refer to.
    pub codes_on: Option<NaiveDate>,
    pub nuts_version: Option<String>,
    /// A chrono format (`%d.%m.%Y`); common forms are recognised when absent.
    pub date_format: Option<String>,
    pub programme: Option<ProgrammeMapping>,
    pub project: ProjectMapping,
    pub partner: PartnerMapping,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeMapping {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectMapping {
    pub id: String,
    pub slug_prefix: String,
    pub name: String,
    pub short_name: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub budget: Option<String>,
    pub eu_funding: Option<String>,
    pub currency: Option<String>,
    pub currency_value: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerMapping {
    pub name: String,
    pub org_number: Option<String>,
    pub ror: Option<String>,
    pub country: Option<String>,
    pub country_value: Option<String>,
    pub role: Option<String>,
    #[serde(default)]
    pub lead_values: Vec<String>,
    pub municipality_code: Option<String>,
    pub nuts_code: Option<String>,
    pub city: Option<String>,
    pub budget_share: Option<String>,
}

impl Mapping {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Mapping, RowError> {
        let text = crate::domain::import::tabular::decode(bytes);
        let mapping: Mapping = toml::from_str(&text)
            .map_err(|error| RowError::file(file, "mapping", format!("not a valid mapping: {error}")))?;
        if let Some(d) = &mapping.delimiter
            && d.len() != 1
        {
            return Err(RowError::file(file, "mapping", format!("delimiter `{d}` must be one character")));
        }
        if let Some(version) = mapping.nuts_version.as_deref()
            && !crate::domain::import::gazetteer::NUTS_VERSIONS.contains(&version)
        {
            return Err(RowError::file(
                file,
                "mapping",
                format!("nuts_version `{version}` is not 2013, 2016, 2021 or 2024"),
            ));
        }
        if slugify(&mapping.project.slug_prefix).is_empty() {
            return Err(RowError::file(file, "mapping", "project.slug_prefix must hold letters or digits"));
        }
        Ok(mapping)
    }

    fn columns(&self) -> Vec<&str> {
        let p = &self.project;
        let o = &self.partner;
        [Some(&p.id), Some(&p.name), p.short_name.as_ref(), p.start.as_ref(), p.end.as_ref(), p.budget.as_ref()]
            .into_iter()
            .chain([p.eu_funding.as_ref(), p.currency.as_ref(), Some(&o.name), o.org_number.as_ref(), o.ror.as_ref()])
            .chain([o.country.as_ref(), o.role.as_ref(), o.municipality_code.as_ref(), o.nuts_code.as_ref()])
            .chain([o.city.as_ref(), o.budget_share.as_ref()])
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// Country names a spreadsheet may use instead of ISO codes.
fn country_code(text: &str) -> Option<String> {
    let key = slugify(text);
    let code = match key.as_str() {
        "norway" | "norge" | "noreg" | "norwegen" => "NO",
        "sweden" | "sverige" => "SE",
        "finland" | "suomi" => "FI",
        "denmark" | "danmark" => "DK",
        "iceland" | "island" => "IS",
        _ if text.trim().len() == 2 && text.trim().chars().all(|c| c.is_ascii_alphabetic()) => {
            return Some(text.trim().to_ascii_uppercase());
        }
        _ => return None,
    };
    Some(code.to_owned())
}

pub fn read(reader: &mut Reader, mapping: &Mapping, file: &str, bytes: &[u8]) -> Result<(), RowError> {
    let delimiter = mapping.delimiter.as_ref().and_then(|d| d.bytes().next());
    let table = Table::read(file, bytes, delimiter)?;
    table.require(&mapping.columns())?;
    reader.batch.codes_on = mapping.codes_on;
    reader.batch.nuts_version = mapping.nuts_version.clone();
    let programme =
        mapping.programme.as_ref().map(|p| reader.programme((p.slug.clone(), p.name.clone()), mapping.verified));
    for cells in table.cells() {
        reader.batch.rows += 1;
        if let Err(error) = row(reader, mapping, &cells, programme.as_ref()) {
            reader.batch.errors.push(error);
        }
        reader.progress(1);
    }
    Ok(())
}

fn row(reader: &mut Reader, mapping: &Mapping, cells: &Cells, programme: Option<&String>) -> Result<(), RowError> {
    let at = RowRef { file: cells.file().to_owned(), row: cells.row };
    let p = &mapping.project;
    let o = &mapping.partner;
    let format = mapping.date_format.as_deref();
    let id = cells.required(&p.id)?;
    let day = |column: &Option<String>| column.as_ref().map(|c| cells.day(c, format)).transpose().map(Option::flatten);
    let (start, end) = (day(&p.start)?, day(&p.end)?);
    if let (Some(start), Some(end), Some(column)) = (start, end, &p.end)
        && end < start
    {
        return Err(cells.error(
            column,
            "period_order",
            format!("the project ends ({end}) before it starts ({start})"),
        ));
    }
    let amount = |column: &Option<String>| column.as_ref().map(|c| cells.amount(c)).transpose().map(Option::flatten);
    let (budget, eu, share) = (amount(&p.budget)?, amount(&p.eu_funding)?, amount(&o.budget_share)?);
    let currency = match (&p.currency, &p.currency_value) {
        (Some(column), _) => cells.get(column).map(|c| c.to_ascii_uppercase()),
        (None, Some(value)) => Some(value.to_ascii_uppercase()),
        (None, None) => None,
    };
    if let Some(code) = &currency
        && !crate::domain::currency::is_iso4217(code)
    {
        return Err(cells.error(
            p.currency.as_deref().unwrap_or("currency_value"),
            "currency_format",
            format!("`{code}` is not an ISO 4217 currency code (EUR, NOK, SEK…)"),
        ));
    }
    if (budget.is_some() || eu.is_some()) && currency.is_none() {
        return Err(cells.error(
            p.currency.as_deref().unwrap_or(p.budget.as_deref().unwrap_or("")),
            "currency_required",
            "an amount needs a currency (a currency column or currency_value in the mapping)",
        ));
    }
    let country = match (&o.country, &o.country_value) {
        (Some(column), _) => match cells.get(column) {
            Some(text) => Some(
                country_code(text)
                    .ok_or_else(|| cells.error(column, "country", format!("`{text}` is not a country code or name")))?,
            ),
            None => None,
        },
        (None, Some(value)) => Some(value.to_ascii_uppercase()),
        (None, None) => None,
    };
    let mut organisation = OrganisationIn::new(cells.required(&o.name)?, at.clone());
    organisation.country = country.clone();
    if let Some(column) = &o.org_number
        && let Some(text) = cells.get(column)
    {
        organisation.org_number =
            Some(identity::org_number(country.as_deref(), text).map_err(|e| cells.error(column, e.rule, e.message))?);
    }
    if let Some(column) = &o.ror
        && let Some(text) = cells.get(column)
    {
        organisation.ror = Some(identity::ror_id(text).map_err(|e| cells.error(column, e.rule, e.message))?);
    }
    organisation.kind = OrganisationKind::Unknown;
    let code = o.municipality_code.as_ref().and_then(|c| cells.get(c).map(|v| (c, v)));
    organisation.place = match code {
        Some((column, code)) if matches!(country.as_deref(), Some("NO" | "SE")) => {
            let code = format!("{code:0>4}");
            if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(cells.error(
                    column,
                    "code_format",
                    format!("`{code}` is not a municipality code (4 digits)"),
                ));
            }
            PlaceIn::Code { column: column.clone(), code, row_day: start }
        }
        _ => match (o.nuts_code.as_ref().and_then(|c| cells.get(c)), o.city.as_ref().and_then(|c| cells.get(c))) {
            (None, None) => PlaceIn::Unknown,
            (nuts, city) => PlaceIn::Area { nuts: nuts.map(str::to_ascii_uppercase), city: city.map(str::to_owned) },
        },
    };
    let organisation = reader.batch.organisation(organisation);
    let role_text = o.role.as_ref().and_then(|c| cells.get(c));
    let role = match role_text {
        Some(text) if o.lead_values.iter().any(|v| v.trim().eq_ignore_ascii_case(text)) => PartnerRole::Lead,
        Some(text) if text.to_ascii_lowercase().starts_with("lead") => PartnerRole::Lead,
        _ => PartnerRole::Partner,
    };
    let slug = format!("{}-{}", slugify(&p.slug_prefix), slugify(id));
    let provenance = reader.batch.provenance(&at);
    let name = cells.required(&p.name)?;
    let short = p.short_name.as_ref().and_then(|c| cells.get(c));
    let first = !reader.batch.has_project(&slug);
    let project = reader
        .batch
        .project(&slug, || project_record(&slug, name, short, programme.cloned(), start, end, provenance.clone()));
    if first {
        for (kind, label, amount) in [(BudgetKind::Total, "Total budget", budget), (BudgetKind::Eu, "EU funding", eu)] {
            if let (Some(amount), Some(currency)) = (amount, &currency) {
                project.record.budget_lines.push(BudgetLineRecord {
                    kind,
                    label: label.into(),
                    amount,
                    currency: currency.clone(),
                    is_final: false,
                    provenance: provenance.clone(),
                });
            }
        }
    }
    project.partners.push(PartnerIn {
        organisation,
        role,
        role_label: role_text.map(str::to_owned),
        budget_share: share,
        at,
    });
    Ok(())
}
