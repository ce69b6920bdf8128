//! Places a file's geography on the reference map: a region or municipality the map already
//! has is the map's (same slug, same entity), so the file may not restate it differently. Its
//! codes and memberships that the map states too are checked and dropped; what the map does not
//! say (a membership of a named sub-region, an ISO 3166-2 code) stays, attached to the map's row.

use std::collections::HashMap;

use entity::enums::CodeScheme;

use super::ReferenceMap;
use crate::domain::dates::periods_overlap;
use crate::domain::import::{CodeRecord, ImportError, MunicipalityRecord, RegionRecord, RegistryRecords};

/// Returns `records` with every map-owned region and municipality turned into an attachment.
pub fn anchor(mut records: RegistryRecords, map: &ReferenceMap) -> Result<RegistryRecords, ImportError> {
    let regions: HashMap<&str, &RegionRecord> = map.records.regions.iter().map(|r| (r.slug.as_str(), r)).collect();
    let municipalities: HashMap<&str, &MunicipalityRecord> =
        map.records.municipalities.iter().map(|m| (m.slug.as_str(), m)).collect();
    let map_countries: Vec<&str> = map.records.countries.iter().map(|c| c.code.as_str()).collect();
    records.countries.retain(|c| !map_countries.contains(&c.code.as_str()));

    for (index, region) in records.regions.iter_mut().enumerate() {
        let Some(reference) = regions.get(region.slug.as_str()) else { continue };
        let path = format!("$.regions[{index}]");
        if reference.kind != region.kind {
            return Err(ImportError {
                path: format!("{path}.type"),
                reason: format!(
                    "`{}` is a {} on the reference map, not a {}",
                    region.slug,
                    reference.kind.as_str(),
                    region.kind.as_str()
                ),
            });
        }
        region.codes = own_codes(&path, &region.slug, std::mem::take(&mut region.codes), &reference.codes)?;
        region.parents.retain(|p| !regions.contains_key(p.parent_slug.as_str()));
        region.attach_only = true;
    }
    for (index, municipality) in records.municipalities.iter_mut().enumerate() {
        let Some(reference) = municipalities.get(municipality.slug.as_str()) else { continue };
        let path = format!("$.municipalities[{index}]");
        municipality.codes =
            own_codes(&path, &municipality.slug, std::mem::take(&mut municipality.codes), &reference.codes)?;
        let mut kept = Vec::new();
        for (at, membership) in std::mem::take(&mut municipality.memberships).into_iter().enumerate() {
            if !regions.contains_key(membership.region_slug.as_str()) {
                kept.push(membership);
                continue;
            }
            let agrees = reference.memberships.iter().any(|m| {
                m.region_slug == membership.region_slug
                    && periods_overlap(m.valid_from, m.valid_to, membership.valid_from, membership.valid_to)
            });
            if !agrees {
                return Err(ImportError {
                    path: format!("{path}.region_memberships[{at}]"),
                    reason: format!(
                        "the reference map does not place `{}` in `{}` at that time",
                        municipality.slug, membership.region_slug
                    ),
                });
            }
        }
        municipality.memberships = kept;
        municipality.names.clear();
        municipality.attach_only = true;
    }
    Ok(records)
}

/// The codes of `codes` the map does not state: a code of a scheme the map gives this entity
/// must be one of the map's (and overlap it in time); codes of other schemes are kept.
fn own_codes(
    path: &str,
    slug: &str,
    codes: Vec<CodeRecord>,
    reference: &[CodeRecord],
) -> Result<Vec<CodeRecord>, ImportError> {
    let mut kept = Vec::new();
    for (at, code) in codes.into_iter().enumerate() {
        let schemes: Vec<CodeScheme> = reference.iter().map(|c| c.scheme).collect();
        if !schemes.contains(&code.scheme) {
            kept.push(code);
            continue;
        }
        let agrees = reference.iter().any(|c| {
            c.scheme == code.scheme
                && c.value == code.value
                && periods_overlap(c.valid_from, c.valid_to, code.valid_from, code.valid_to)
        });
        if !agrees {
            return Err(ImportError {
                path: format!("{path}.codes[{at}]"),
                reason: format!(
                    "{} {} of `{slug}` disagrees with the reference map ({})",
                    code.scheme.as_str(),
                    code.value,
                    reference
                        .iter()
                        .filter(|c| c.scheme == code.scheme)
                        .map(|c| format!(
                            "{} {}–{}",
                            c.value,
                            c.valid_from.map_or("open".into(), |d| d.to_string()),
                            c.valid_to.map_or("open".into(), |d| d.to_string())
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    Ok(kept)
}
