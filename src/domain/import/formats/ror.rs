//! `ror`: the ROR v2 JSON data dump (an array of records), restricted to some countries (NO and
//! SE by default) while it is read, so the whole dump (over 100 000 records) is never held in
//! memory. A record becomes an organisation identity: its ROR id, the name in the country's own
//! language when ROR has one (else its display name), acronym, types, status, the year it was
//! established, and its parent/child, related and predecessor/successor links (undated
//! `organisation_links`: ROR gives no day, so they are not dated reforms).

use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};

use chrono::NaiveDate;
use entity::enums::{OrganisationKind, OrganisationLinkKind};

use super::Reader;
use crate::domain::identity;
use crate::domain::import::intake::{LinkIn, OrganisationIn, RowRef};
use crate::domain::import::tabular::RowError;

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    names: Vec<Name>,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    external_ids: Vec<ExternalId>,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    established: Option<i32>,
}

#[derive(Debug, Deserialize)]
struct Name {
    value: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Relationship {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Debug, Deserialize)]
struct ExternalId {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    preferred: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Location {
    #[serde(default)]
    geonames_details: Option<GeonamesDetails>,
}

#[derive(Debug, Deserialize)]
struct GeonamesDetails {
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Reads the array element by element, keeping the records of `countries` with their index.
struct Filtered<'a> {
    countries: &'a [String],
    kept: &'a mut Vec<(u64, Record)>,
    seen: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for Filtered<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Filtered<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of ROR v2 records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record>()? {
            *self.seen += 1;
            let country = record.locations.iter().find_map(|l| l.geonames_details.as_ref()?.country_code.clone());
            if country.is_some_and(|c| self.countries.iter().any(|want| want.eq_ignore_ascii_case(&c))) {
                self.kept.push((*self.seen, record));
            }
        }
        Ok(())
    }
}

pub fn read(reader: &mut Reader, file: &str, bytes: &[u8], countries: &[String]) -> Result<(), RowError> {
    let mut kept = Vec::new();
    let mut seen = 0u64;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Filtered { countries, kept: &mut kept, seen: &mut seen }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|error| {
            RowError::file(file, "json", format!("not a ROR v2 dump (a JSON array of records): {error}"))
        })?;
    reader.batch.rows += seen;
    reader.progress(seen);
    let mut reverse = Vec::new();
    for _ in 0..seen - kept.len() as u64 {
        reader.batch.skip("ROR record of another country");
    }
    for (number, record) in kept {
        // The record's position in the array is its row.
        let at = RowRef { file: file.to_owned(), row: number };
        match organisation(&record, at.clone()) {
            Ok(Some(organisation)) => {
                let index = reader.batch.organisation(organisation);
                for relationship in &record.relationships {
                    let Ok(other) = identity::ror_id(&relationship.id) else { continue };
                    // One direction per pair: a child names its parent, a predecessor its
                    // successor; the other side's statement is the same link.
                    let link = match relationship.kind.to_ascii_lowercase().as_str() {
                        "parent" => Some((index, other, OrganisationLinkKind::PartOf)),
                        "successor" => Some((index, other, OrganisationLinkKind::SucceededBy)),
                        "related" => Some((index, other, OrganisationLinkKind::Related)),
                        "child" | "predecessor" => {
                            // Stored from the other side when that record is read; when it is
                            // not in the file, the registry may still know it.
                            reverse.push((index, other, relationship.kind.to_ascii_lowercase(), at.clone()));
                            None
                        }
                        _ => None,
                    };
                    if let Some((from, to_ror, kind)) = link {
                        reader.batch.organisation_links.push(LinkIn { from, to_ror, kind, at: at.clone() });
                    }
                }
            }
            Ok(None) => reader.batch.skip("withdrawn ROR record"),
            Err(error) => reader.batch.errors.push(error),
        }
    }
    // A child or predecessor named only from the other side: the link from it, when the batch
    // has it (indexed by its ROR id).
    let index_of_ror: std::collections::HashMap<String, usize> =
        reader.batch.organisations.iter().enumerate().filter_map(|(i, o)| Some((o.ror.clone()?, i))).collect();
    for (index, other, kind, at) in reverse {
        let (Some(&from), Some(to_ror)) = (index_of_ror.get(&other), reader.batch.organisations[index].ror.clone())
        else {
            continue;
        };
        let kind = if kind == "child" { OrganisationLinkKind::PartOf } else { OrganisationLinkKind::SucceededBy };
        reader.batch.organisation_links.push(LinkIn { from, to_ror, kind, at });
    }
    Ok(())
}

fn organisation(record: &Record, at: RowRef) -> Result<Option<OrganisationIn>, RowError> {
    if record.status.as_deref() == Some("withdrawn") {
        return Ok(None);
    }
    let ror = identity::ror_id(&record.id).map_err(|e| at.error(Some("id"), e.rule, e.message))?;
    let location = record.locations.iter().find_map(|l| l.geonames_details.as_ref());
    let country = location.and_then(|l| l.country_code.clone()).map(|c| c.to_ascii_uppercase());
    let local_languages: &[&str] = match country.as_deref() {
        Some("NO") => &["nb", "no", "nn"],
        Some("SE") => &["sv"],
        _ => &[],
    };
    let display = record.names.iter().find(|n| n.types.iter().any(|t| t == "ror_display"));
    let local = record.names.iter().find(|n| {
        n.types.iter().any(|t| t == "label") && n.lang.as_deref().is_some_and(|l| local_languages.contains(&l))
    });
    let Some(name) = local.or(display).or(record.names.first()) else {
        return Err(at.error(Some("names"), "required", "the record has no name"));
    };
    let mut organisation = OrganisationIn::new(&name.value, at);
    organisation.short_name =
        record.names.iter().find(|n| n.types.iter().any(|t| t == "acronym")).map(|n| n.value.clone());
    organisation.ror = Some(ror);
    organisation.aliases = record.names.iter().map(|n| n.value.clone()).collect();
    organisation.country = country.clone();
    organisation.kind = kind_of_types(&record.types);
    let mut label = record.types.join(", ");
    if let Some(status) = record.status.as_deref().filter(|s| *s != "active") {
        label = format!("{label} ({status} in ROR)");
    }
    organisation.kind_label = Some(label).filter(|l| !l.is_empty());
    organisation.valid_from = record.established.and_then(|year| NaiveDate::from_ymd_opt(year, 1, 1));
    // An org number among the external ids (ROR lists them for some registries as `other`).
    organisation.org_number = record
        .external_ids
        .iter()
        .flat_map(|e| e.preferred.iter().chain(e.all.iter()).map(move |v| (e.kind.as_str(), v)))
        .filter(|(kind, _)| !matches!(*kind, "fundref" | "grid" | "isni" | "wikidata"))
        .find_map(|(_, value)| identity::org_number(country.as_deref(), value).ok());
    if let Some(city) = location.and_then(|l| l.name.clone()) {
        organisation.place = crate::domain::import::intake::PlaceIn::Area { nuts: None, city: Some(city) };
    }
    Ok(Some(organisation))
}

fn kind_of_types(types: &[String]) -> OrganisationKind {
    let has = |t: &str| types.iter().any(|x| x.eq_ignore_ascii_case(t));
    if has("education") {
        OrganisationKind::University
    } else if has("facility") || has("nonprofit") && has("research") {
        OrganisationKind::ResearchInstitute
    } else if has("company") {
        OrganisationKind::Company
    } else {
        OrganisationKind::Unknown
    }
}
