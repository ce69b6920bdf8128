//! `forskningsradet-eu`: the Research Council of Norway's open dataset "Bevilgninger fra EU til
//! norske forskningsmiljøer", one `;`-separated row per Norwegian participant in an EU framework
//! project. The project is the EU grant (slug `eu-<grant number>`, the same as CORDIS gives it),
//! the programme the framework programme; the participant's municipality is the
//! `Adresse kommunenummer` of the day the file was made, read through the dated codes.

use entity::enums::{OrganisationKind, PartnerRole};

use super::{Reader, framework_programme, project_record};
use crate::domain::identity;
use crate::domain::import::intake::{OrganisationIn, PartnerIn, PlaceIn, RowRef};
use crate::domain::import::tabular::{Cells, RowError, Table};

const PROJECT: &str = "Prosjektnr";
const ACRONYM: &str = "Prosjektkortnavn";
const TITLE: &str = "Prosjektnavn";
const FRAMEWORK: &str = "Rammeprogram";
const SIGNED: &str = "Kontrakt signeringsdato";
const START: &str = "Kontrakt startdato";
const END: &str = "Kontrakt sluttdato";
const ORG_NUMBER: &str = "Organisasjonsnummer";
const ORG_NAME: &str = "Organisasjonsnavn";
const ORG_SHORT: &str = "Kortnavn";
const ROLE: &str = "Organisasjon rolle";
const SECTOR: &str = "FoU sektor";
const MUNICIPALITY: &str = "Adresse kommunenummer";
const AMOUNT: &str = "Innvilget beløp organisasjon EUR";

/// Columns without which a row means nothing; the rest of the documented header is optional.
const REQUIRED: &[&str] = &[PROJECT, TITLE, ORG_NAME, ROLE, MUNICIPALITY, AMOUNT];

pub fn read(reader: &mut Reader, file: &str, bytes: &[u8]) -> Result<(), RowError> {
    let table = Table::read(file, bytes, None)?;
    table.require(REQUIRED)?;
    for cells in table.cells() {
        reader.batch.rows += 1;
        if let Err(error) = row(reader, &cells) {
            reader.batch.errors.push(error);
        }
        reader.progress(1);
    }
    Ok(())
}

fn row(reader: &mut Reader, cells: &Cells) -> Result<(), RowError> {
    let at = RowRef { file: cells.file().to_owned(), row: cells.row };
    let grant = cells.required(PROJECT)?;
    let signed = cells.day(SIGNED, None)?;
    let start = cells.day(START, None)?;
    let end = cells.day(END, None)?;
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(cells.error(END, "period_order", format!("the contract ends ({end}) before it starts ({start})")));
    }
    let amount = cells.amount(AMOUNT)?;
    let org_number = cells
        .get(ORG_NUMBER)
        .map(|text| identity::norwegian_org_number(text).map_err(|e| cells.error(ORG_NUMBER, e.rule, e.message)))
        .transpose()?;
    let code = cells.get(MUNICIPALITY).map(|c| format!("{:0>4}", c));
    if let Some(code) = &code
        && (code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(cells.error(MUNICIPALITY, "code_format", format!("`{code}` is not a kommunenummer (4 digits)")));
    }
    let role = cells.required(ROLE)?;
    let framework = cells.get(FRAMEWORK);

    let mut organisation = OrganisationIn::new(cells.required(ORG_NAME)?, at.clone());
    organisation.set_short_name(cells.get(ORG_SHORT));
    organisation.country = Some("NO".into());
    organisation.org_number = org_number;
    organisation.kind = kind_of_sector(cells.get(SECTOR));
    organisation.kind_label = cells.get(SECTOR).map(str::to_owned);
    organisation.place = match code {
        Some(code) => PlaceIn::Code { column: MUNICIPALITY.into(), code, row_day: signed.or(start) },
        None => PlaceIn::Unknown,
    };
    let organisation = reader.batch.organisation(organisation);

    let programme = framework.map(|name| reader.programme(framework_programme(name), true));
    let slug = format!("eu-{}", grant.trim());
    let provenance = reader.batch.provenance(&at);
    let project = reader.batch.project(&slug, || {
        project_record(&slug, cells.get(TITLE).unwrap_or(grant), cells.get(ACRONYM), programme, start, end, provenance)
    });
    project.partners.push(PartnerIn {
        organisation,
        role: partner_role(role),
        role_label: Some(role.to_owned()),
        budget_share: amount,
        at,
    });
    Ok(())
}

/// COORDINATOR leads; PARTICIPANT, THIRD PARTY, ASSOCIATED PARTNER… take part.
pub(super) fn partner_role(role: &str) -> PartnerRole {
    let role = role.to_ascii_lowercase();
    if role.starts_with("coordinator") || role == "coo" { PartnerRole::Lead } else { PartnerRole::Partner }
}

/// The R&D sector (FoU sektor) as a kind of organisation.
fn kind_of_sector(sector: Option<&str>) -> OrganisationKind {
    let sector = sector.unwrap_or("").to_lowercase();
    if sector.contains("universitet") || sector.contains("høyskole") || sector.contains("uh-sektor") {
        OrganisationKind::University
    } else if sector.contains("institutt") {
        OrganisationKind::ResearchInstitute
    } else if sector.contains("næringsliv") {
        OrganisationKind::Company
    } else {
        OrganisationKind::Unknown
    }
}
