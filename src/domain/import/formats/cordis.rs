//! `cordis`: the CORDIS project and organisation CSVs (`project.csv` + `organization.csv`,
//! `;`-separated, quoted). Projects with at least one Norwegian or Swedish participant are
//! imported with *all* their participants, so ties to third countries stay visible. NO/SE
//! participants are placed by city within their NUTS region (version inferred from the codes or
//! given), and identified by the org number their VAT number carries (`NO…MVA`, `SE…01`).

use std::collections::{HashMap, HashSet};

use entity::enums::{BudgetKind, OrganisationKind, PartnerRole};

use super::{InputFile, Reader, framework_programme, project_record};
use crate::domain::identity;
use crate::domain::import::intake::{OrganisationIn, PartnerIn, PlaceIn, RowRef};
use crate::domain::import::records::BudgetLineRecord;
use crate::domain::import::tabular::{Cells, RowError, Table};

const NORDIC: [&str; 2] = ["NO", "SE"];

pub fn read(reader: &mut Reader, files: &[InputFile]) -> Result<(), RowError> {
    let mut projects = None;
    let mut organisations = None;
    for file in files {
        let table = Table::read(&file.name, &file.bytes, None)?;
        if table.has("projectID") && table.has("organisationID") {
            organisations = Some(table);
        } else if table.has("id") && table.has("frameworkProgramme") {
            projects = Some(table);
        } else {
            return Err(RowError::file(
                &file.name,
                "unknown_file",
                "neither a CORDIS project.csv (columns id, frameworkProgramme…) nor organization.csv (projectID, organisationID…)",
            ));
        }
    }
    let names = files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    let projects = projects.ok_or_else(|| RowError::file(&names, "missing_file", "project.csv is missing"))?;
    let organisations =
        organisations.ok_or_else(|| RowError::file(&names, "missing_file", "organization.csv is missing"))?;
    projects.require(&[
        "id",
        "title",
        "startDate",
        "endDate",
        "totalCost",
        "ecMaxContribution",
        "frameworkProgramme",
    ])?;
    organisations.require(&["projectID", "name", "country", "role", "ecContribution"])?;

    // Which projects have a Nordic participant: the only ones imported.
    let nordic: HashSet<String> = organisations
        .cells()
        .filter(|cells| cells.get("country").is_some_and(|c| NORDIC.contains(&c.to_ascii_uppercase().as_str())))
        .filter_map(|cells| cells.get("projectID").map(str::to_owned))
        .collect();

    let listed: HashSet<String> = projects.cells().filter_map(|cells| cells.get("id").map(str::to_owned)).collect();
    let mut slugs: HashMap<String, String> = HashMap::new();
    for cells in projects.cells() {
        reader.batch.rows += 1;
        reader.progress(1);
        let Some(id) = cells.get("id") else {
            reader.batch.errors.push(cells.error("id", "required", "is empty"));
            continue;
        };
        if !nordic.contains(id) {
            reader.batch.skip("project without a Norwegian or Swedish participant");
            continue;
        }
        match project(reader, &cells, id) {
            Ok(slug) => {
                slugs.insert(id.to_owned(), slug);
            }
            Err(error) => reader.batch.errors.push(error),
        }
    }
    for cells in organisations.cells() {
        reader.batch.rows += 1;
        reader.progress(1);
        let Some(slug) = cells.get("projectID").and_then(|id| slugs.get(id)).cloned() else {
            if cells.get("projectID").is_some_and(|id| nordic.contains(id)) {
                // Its project row was refused or is missing: that error is reported once.
                if !cells.get("projectID").is_some_and(|id| listed.contains(id)) {
                    reader.batch.errors.push(cells.error(
                        "projectID",
                        "unknown_project",
                        "no such project in project.csv",
                    ));
                }
            } else {
                reader.batch.skip("participant of a project without a Norwegian or Swedish participant");
            }
            continue;
        };
        if let Err(error) = participant(reader, &cells, &slug) {
            reader.batch.errors.push(error);
        }
    }
    Ok(())
}

fn project(reader: &mut Reader, cells: &Cells, id: &str) -> Result<String, RowError> {
    let at = RowRef { file: cells.file().to_owned(), row: cells.row };
    let start = cells.day("startDate", None)?;
    let end = cells.day("endDate", None)?;
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(cells.error(
            "endDate",
            "period_order",
            format!("the project ends ({end}) before it starts ({start})"),
        ));
    }
    let total = cells.amount("totalCost")?;
    let eu = cells.amount("ecMaxContribution")?;
    let programme = cells.get("frameworkProgramme").map(|name| reader.programme(framework_programme(name), true));
    let slug = format!("eu-{id}");
    let provenance = reader.batch.provenance(&at);
    let title = cells.required("title")?;
    let mut record = project_record(&slug, title, cells.get("acronym"), programme, start, end, provenance.clone());
    for (kind, label, amount) in [(BudgetKind::Total, "Total cost", total), (BudgetKind::Eu, "EC max contribution", eu)]
    {
        if let Some(amount) = amount {
            record.budget_lines.push(BudgetLineRecord {
                kind,
                label: label.into(),
                amount,
                currency: "EUR".into(),
                is_final: false,
                provenance: provenance.clone(),
            });
        }
    }
    reader.batch.project(&slug, || record);
    Ok(slug)
}

fn participant(reader: &mut Reader, cells: &Cells, project: &str) -> Result<(), RowError> {
    let at = RowRef { file: cells.file().to_owned(), row: cells.row };
    let country = cells.required("country")?.to_ascii_uppercase();
    let amount = cells.amount("ecContribution")?;
    let mut organisation = OrganisationIn::new(cells.required("name")?, at.clone());
    organisation.set_short_name(cells.get("shortName"));
    organisation.country = Some(match country.as_str() {
        // CORDIS writes Greece and the United Kingdom as the EU's own codes.
        "EL" => "GR".to_owned(),
        "UK" => "GB".to_owned(),
        _ => country.clone(),
    });
    organisation.file_key = cells.get("organisationID").map(|id| format!("cordis:{id}"));
    organisation.kind = kind_of_activity(cells.get("activityType"));
    organisation.kind_label = cells.get("activityType").map(str::to_owned);
    if NORDIC.contains(&country.as_str()) {
        organisation.org_number = cells.get("vatNumber").and_then(|vat| org_number_of_vat(&country, vat));
        organisation.place = PlaceIn::Area {
            nuts: cells.get("nutsCode").map(|c| c.to_ascii_uppercase()),
            city: cells.get("city").map(str::to_owned),
        };
    }
    let organisation = reader.batch.organisation(organisation);
    let role = cells.required("role")?;
    let Some(project) = reader.batch.project_mut(project) else {
        return Err(cells.error("projectID", "unknown_project", "no such project in project.csv"));
    };
    project.partners.push(PartnerIn {
        organisation,
        role: if role.eq_ignore_ascii_case("coordinator") { PartnerRole::Lead } else { PartnerRole::Partner },
        role_label: Some(role.to_owned()),
        budget_share: amount,
        at,
    });
    Ok(())
}

/// The organisation number inside a VAT number: `NO 974767880 MVA` → 974767880, `SE202100284101`
/// → 202100-2841. A VAT number that carries no valid number is ignored (CORDIS VAT numbers are
/// self-declared; the row still imports, matched by name).
pub fn org_number_of_vat(country: &str, vat: &str) -> Option<String> {
    let compact: String = vat.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    match country {
        "NO" => identity::norwegian_org_number(&compact).ok(),
        "SE" => {
            let digits = compact.strip_prefix("SE").unwrap_or(&compact);
            let digits = if digits.len() == 12 { digits.strip_suffix("01").unwrap_or(digits) } else { digits };
            identity::swedish_org_number(digits).ok()
        }
        _ => None,
    }
}

/// CORDIS activity types: HES higher education, REC research, PRC private company, PUB public
/// body, OTH other.
fn kind_of_activity(activity: Option<&str>) -> OrganisationKind {
    match activity.map(str::to_ascii_uppercase).as_deref() {
        Some("HES") => OrganisationKind::University,
        Some("REC") => OrganisationKind::ResearchInstitute,
        Some("PRC") => OrganisationKind::Company,
        _ => OrganisationKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_numbers_carry_org_numbers() {
        assert_eq!(org_number_of_vat("NO", "NO974767880MVA").as_deref(), Some("974767880"));
        assert_eq!(org_number_of_vat("NO", "NO 974 767 880 MVA").as_deref(), Some("974767880"));
        assert_eq!(org_number_of_vat("NO", "NO974767881MVA"), None);
        assert!(org_number_of_vat("SE", "SE202100284101").is_some());
    }
}
