//! One function per editor operation. Each runs in one transaction (see the module above):
//! self-checks, references, registry rules, the write and its events, then commit.

use chrono::NaiveDate;
use entity::enums::{CodeScheme, LifecycleStatus, PartnerRole};
use entity::*;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use super::*;
use crate::domain::edits::*;
use crate::domain::text::search_form;
use crate::domain::validation::{self as rule, Dated};

/// Runs `$body` in a write transaction bound to `$tx`; an early `?` drops (rolls back) it.
macro_rules! transaction {
    ($db:expr, $tx:ident => $body:expr) => {{
        let (turn, $tx) = begin($db).await?;
        let result = $body;
        commit(&turn, $tx).await?;
        $db.commits.committed();
        Ok(result)
    }};
}

async fn provenance_ids(tx: &DatabaseTransaction, provenance: &Provenance) -> WriteResult<Option<i32>> {
    source_id(tx, "source", provenance.source.as_deref()).await
}

async fn country_id(tx: &DatabaseTransaction, code: Option<&str>) -> WriteResult<Option<i32>> {
    opt_id_of::<country::Entity>(tx, "country", code).await
}

// ---------------------------------------------------------------- sources and countries

pub async fn save_source(db: &Db, actor: &str, target: Target, draft: SourceDraft) -> WriteResult<source::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<source::Entity>(&tx, &target).await?;
        let model = source::Model {
            id: 0,
            key: draft.key,
            kind: draft.kind,
            title: draft.title,
            url: draft.url,
            locator: draft.locator,
            description: draft.description,
            version: 0,
        };
        save_keyed::<source::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

pub async fn save_country(db: &Db, actor: &str, target: Target, draft: CountryDraft) -> WriteResult<country::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<country::Entity>(&tx, &target).await?;
        let model = country::Model {
            id: 0,
            code: draft.code,
            name: draft.name,
            name_en: draft.name_en,
            eu_member: draft.eu_member,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<country::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

// ---------------------------------------------------------------- regions

pub async fn save_region(db: &Db, actor: &str, target: Target, draft: RegionDraft) -> WriteResult<region::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<region::Entity>(&tx, &target).await?;
        let model = region::Model {
            id: 0,
            search_name: search_form(&draft.name),
            slug: draft.slug,
            name: draft.name,
            short_name: draft.short_name,
            kind: draft.kind,
            country_id: country_id(&tx, draft.country.as_deref()).await?,
            status: draft.status,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            note: draft.note,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<region::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

/// Ends a region on `valid_to` (regions are never deleted: history refers to them).
pub async fn end_region(
    db: &Db,
    actor: &str,
    slug: &str,
    expected_version: i32,
    valid_to: NaiveDate,
) -> WriteResult<region::Model> {
    transaction!(db, tx => {
        let mut row = by_key::<region::Entity>(&tx, "slug", slug).await?;
        rule::period("validTo", row.valid_from, Some(valid_to))?;
        row.valid_to = Some(valid_to);
        row.status = LifecycleStatus::Dissolved;
        let id = row.id;
        update::<region::Entity>(&tx, actor, id, expected_version, row, Operation::End).await?
    })
}

pub async fn add_region_parent(db: &Db, actor: &str, draft: RegionParentDraft) -> WriteResult<region_parent::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let region_id = id_of::<region::Entity>(&tx, "region", &draft.region).await?;
        let parent_id = id_of::<region::Entity>(&tx, "parent", &draft.parent).await?;
        let model = region_parent::Model {
            id: 0,
            region_id,
            parent_id,
            nuts_version: draft.nuts_version,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        insert::<region_parent::Entity>(&tx, actor, model).await?
    })
}

pub async fn remove_region_parent(
    db: &Db,
    actor: &str,
    region: &str,
    parent: &str,
    nuts_version: Option<&str>,
) -> WriteResult<region_parent::Model> {
    transaction!(db, tx => {
        let region_id = id_of::<region::Entity>(&tx, "region", region).await?;
        let parent_id = id_of::<region::Entity>(&tx, "parent", parent).await?;
        let rows = region_parent::Entity::find()
            .filter(region_parent::Column::RegionId.eq(region_id))
            .filter(region_parent::Column::ParentId.eq(parent_id))
            .all(&tx)
            .await?;
        let row = rows
            .into_iter()
            .find(|row| row.nuts_version.as_deref() == nuts_version)
            .ok_or_else(|| WriteError::NotFound { field: "parent", what: "region parent", key: format!("{region} → {parent}") })?;
        delete::<region_parent::Entity>(&tx, actor, &row, None).await?;
        row
    })
}

// ---------------------------------------------------------------- codes

/// Where a code belongs.
#[derive(Clone, Copy, Debug)]
pub enum CodeOwner<'a> {
    Region(&'a str),
    Municipality(&'a str),
}

/// A code of a region or municipality, as written.
#[derive(Clone, Debug)]
pub enum CodeRow {
    Region(region_code::Model),
    Municipality(municipality_code::Model),
}

/// A sibling code as the overlap rule sees it.
fn code_period(scheme: CodeScheme, value: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Dated {
    Dated { label: format!("{} code {value}", scheme.as_str()), from, to }
}

/// Adds a code. Rule `code_overlap`: no two codes of one scheme valid on the same day.
pub async fn add_code(db: &Db, actor: &str, owner: CodeOwner<'_>, draft: CodeDraft) -> WriteResult<CodeRow> {
    draft.check()?;
    transaction!(db, tx => {
        let source_id = provenance_ids(&tx, &draft.provenance).await?;
        match owner {
            CodeOwner::Region(slug) => {
                let region_id = id_of::<region::Entity>(&tx, "region", slug).await?;
                lock::<region::Entity>(&tx, region_id).await?;
                let siblings = region_code::Entity::find()
                    .filter(region_code::Column::RegionId.eq(region_id))
                    .filter(region_code::Column::Scheme.eq(draft.scheme))
                    .all(&tx)
                    .await?;
                let dated: Vec<Dated> =
                    siblings.iter().map(|c| code_period(c.scheme, &c.value, c.valid_from, c.valid_to)).collect();
                rule::no_overlap("validFrom", "code_overlap", draft.valid_from, draft.valid_to, &dated)?;
                let model = region_code::Model {
                    id: 0,
                    region_id,
                    scheme: draft.scheme,
                    value: draft.value,
                    valid_from: draft.valid_from,
                    valid_to: draft.valid_to,
                    nuts_version: draft.nuts_version,
                    source_id,
                    verified: draft.provenance.verified,
                    version: 0,
                };
                CodeRow::Region(insert::<region_code::Entity>(&tx, actor, model).await?)
            }
            CodeOwner::Municipality(slug) => {
                let municipality_id = id_of::<municipality::Entity>(&tx, "municipality", slug).await?;
                lock::<municipality::Entity>(&tx, municipality_id).await?;
                let siblings = municipality_code::Entity::find()
                    .filter(municipality_code::Column::MunicipalityId.eq(municipality_id))
                    .filter(municipality_code::Column::Scheme.eq(draft.scheme))
                    .all(&tx)
                    .await?;
                let dated: Vec<Dated> =
                    siblings.iter().map(|c| code_period(c.scheme, &c.value, c.valid_from, c.valid_to)).collect();
                rule::no_overlap("validFrom", "code_overlap", draft.valid_from, draft.valid_to, &dated)?;
                let model = municipality_code::Model {
                    id: 0,
                    municipality_id,
                    scheme: draft.scheme,
                    value: draft.value,
                    valid_from: draft.valid_from,
                    valid_to: draft.valid_to,
                    source_id,
                    verified: draft.provenance.verified,
                    version: 0,
                };
                CodeRow::Municipality(insert::<municipality_code::Entity>(&tx, actor, model).await?)
            }
        }
    })
}

/// Removes the code `scheme`/`value` of an owner.
pub async fn remove_code(
    db: &Db,
    actor: &str,
    owner: CodeOwner<'_>,
    scheme: CodeScheme,
    value: &str,
) -> WriteResult<CodeRow> {
    let missing = |slug: &str| WriteError::NotFound {
        field: "value",
        what: "code",
        key: format!("{slug} {} {value}", scheme.as_str()),
    };
    transaction!(db, tx => {
        match owner {
            CodeOwner::Region(slug) => {
                let region_id = id_of::<region::Entity>(&tx, "region", slug).await?;
                let row = region_code::Entity::find()
                    .filter(region_code::Column::RegionId.eq(region_id))
                    .filter(region_code::Column::Scheme.eq(scheme))
                    .filter(region_code::Column::Value.eq(value))
                    .one(&tx)
                    .await?
                    .ok_or_else(|| missing(slug))?;
                delete::<region_code::Entity>(&tx, actor, &row, None).await?;
                CodeRow::Region(row)
            }
            CodeOwner::Municipality(slug) => {
                let municipality_id = id_of::<municipality::Entity>(&tx, "municipality", slug).await?;
                let row = municipality_code::Entity::find()
                    .filter(municipality_code::Column::MunicipalityId.eq(municipality_id))
                    .filter(municipality_code::Column::Scheme.eq(scheme))
                    .filter(municipality_code::Column::Value.eq(value))
                    .one(&tx)
                    .await?
                    .ok_or_else(|| missing(slug))?;
                delete::<municipality_code::Entity>(&tx, actor, &row, None).await?;
                CodeRow::Municipality(row)
            }
        }
    })
}

// ---------------------------------------------------------------- municipalities and memberships

pub async fn save_municipality(
    db: &Db,
    actor: &str,
    target: Target,
    draft: MunicipalityDraft,
) -> WriteResult<municipality::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<municipality::Entity>(&tx, &target).await?;
        // Status, successor and dissolution date change only through `dissolve_municipality`.
        let (status, successor_id, dissolved_on) = current
            .as_ref()
            .map_or((LifecycleStatus::Active, None, None), |(row, _)| (row.status, row.successor_id, row.dissolved_on));
        let model = municipality::Model {
            id: 0,
            search_name: search_form(&draft.name),
            slug: draft.slug,
            name: draft.name,
            country_id: id_of::<country::Entity>(&tx, "country", &draft.country).await?,
            status,
            successor_id,
            dissolved_on,
            established_on: draft.established_on,
            admin_centre: draft.admin_centre,
            note: draft.note,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<municipality::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

/// Dissolves a municipality (never deleted: history refers to it). Its open memberships and
/// codes end the day before `dissolved_on`; the successor takes over from that day.
pub async fn dissolve_municipality(
    db: &Db,
    actor: &str,
    slug: &str,
    expected_version: i32,
    dissolution: Dissolution,
) -> WriteResult<municipality::Model> {
    transaction!(db, tx => {
        let mut row = by_key::<municipality::Entity>(&tx, "slug", slug).await?;
        if row.status == LifecycleStatus::Dissolved {
            return Err(WriteError::Conflict {
                field: Some("slug"),
                rule: "already_dissolved",
                message: format!("`{slug}` is already dissolved"),
            });
        }
        rule::period("dissolvedOn", row.established_on, Some(dissolution.dissolved_on))?;
        let successor_id = match dissolution.successor.as_deref() {
            Some(successor) if successor == slug => {
                return Err(rule::Violation::new("successor", "successor_self", "a municipality cannot succeed itself").into());
            }
            Some(successor) => Some(id_of::<municipality::Entity>(&tx, "successor", successor).await?),
            None => None,
        };
        let last_day = dissolution.dissolved_on.pred_opt().unwrap_or(dissolution.dissolved_on);
        let still_open = |to: Option<NaiveDate>| to.is_none_or(|to| to > last_day);
        for membership in region_membership::Entity::find()
            .filter(region_membership::Column::MunicipalityId.eq(row.id))
            .all(&tx)
            .await?
        {
            if still_open(membership.valid_to) {
                let (id, version) = (membership.id, membership.version);
                let ended = region_membership::Model { valid_to: Some(last_day), ..membership };
                rule::period("dissolvedOn", ended.valid_from, ended.valid_to)?;
                update::<region_membership::Entity>(&tx, actor, id, version, ended, Operation::End).await?;
            }
        }
        for code in municipality_code::Entity::find()
            .filter(municipality_code::Column::MunicipalityId.eq(row.id))
            .all(&tx)
            .await?
        {
            if still_open(code.valid_to) {
                let (id, version) = (code.id, code.version);
                let ended = municipality_code::Model { valid_to: Some(last_day), ..code };
                rule::period("dissolvedOn", ended.valid_from, ended.valid_to)?;
                update::<municipality_code::Entity>(&tx, actor, id, version, ended, Operation::End).await?;
            }
        }
        row.status = LifecycleStatus::Dissolved;
        row.dissolved_on = Some(dissolution.dissolved_on);
        row.successor_id = successor_id;
        let id = row.id;
        update::<municipality::Entity>(&tx, actor, id, expected_version, row, Operation::End).await?
    })
}

/// Rule `membership_overlap`: a municipality is in at most one region of each kind on any day.
async fn check_membership(
    tx: &DatabaseTransaction,
    municipality_id: i32,
    region: &region::Model,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    except: Option<i32>,
) -> WriteResult<()> {
    let memberships = region_membership::Entity::find()
        .filter(region_membership::Column::MunicipalityId.eq(municipality_id))
        .all(tx)
        .await?;
    let region_ids: Vec<i32> = memberships.iter().map(|m| m.region_id).collect();
    let regions = region::Entity::find().filter(region::Column::Id.is_in(region_ids)).all(tx).await?;
    let same_kind: Vec<Dated> = memberships
        .iter()
        .filter(|m| Some(m.id) != except)
        .filter_map(|m| {
            let other = regions.iter().find(|r| r.id == m.region_id && r.kind == region.kind)?;
            Some(Dated { label: format!("the membership in {}", other.name), from: m.valid_from, to: m.valid_to })
        })
        .collect();
    rule::no_overlap("validFrom", "membership_overlap", from, to, &same_kind)?;
    Ok(())
}

pub async fn add_membership(db: &Db, actor: &str, draft: MembershipDraft) -> WriteResult<region_membership::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let municipality_id = id_of::<municipality::Entity>(&tx, "municipality", &draft.municipality).await?;
        let region = by_key::<region::Entity>(&tx, "region", &draft.region).await?;
        lock::<municipality::Entity>(&tx, municipality_id).await?;
        check_membership(&tx, municipality_id, &region, draft.valid_from, draft.valid_to, None).await?;
        let model = region_membership::Model {
            id: 0,
            municipality_id,
            region_id: region.id,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        insert::<region_membership::Entity>(&tx, actor, model).await?
    })
}

async fn find_membership(
    tx: &DatabaseTransaction,
    municipality: &str,
    region: &str,
    valid_from: Option<NaiveDate>,
) -> WriteResult<region_membership::Model> {
    let municipality_id = id_of::<municipality::Entity>(tx, "municipality", municipality).await?;
    let region_id = id_of::<region::Entity>(tx, "region", region).await?;
    region_membership::Entity::find()
        .filter(region_membership::Column::MunicipalityId.eq(municipality_id))
        .filter(region_membership::Column::RegionId.eq(region_id))
        .order_by_asc(region_membership::Column::Id)
        .all(tx)
        .await?
        .into_iter()
        .find(|m| valid_from.is_none() || m.valid_from == valid_from)
        .ok_or_else(|| WriteError::NotFound {
            field: "region",
            what: "membership",
            key: format!("{municipality} in {region}"),
        })
}

/// Ends a membership on `valid_to` (the municipality left the region).
pub async fn end_membership(
    db: &Db,
    actor: &str,
    municipality: &str,
    region: &str,
    valid_from: Option<NaiveDate>,
    valid_to: NaiveDate,
    expected_version: i32,
) -> WriteResult<region_membership::Model> {
    transaction!(db, tx => {
        let row = find_membership(&tx, municipality, region, valid_from).await?;
        rule::period("validTo", row.valid_from, Some(valid_to))?;
        let id = row.id;
        let ended = region_membership::Model { valid_to: Some(valid_to), ..row };
        update::<region_membership::Entity>(&tx, actor, id, expected_version, ended, Operation::End).await?
    })
}

pub async fn remove_membership(
    db: &Db,
    actor: &str,
    municipality: &str,
    region: &str,
    valid_from: Option<NaiveDate>,
) -> WriteResult<region_membership::Model> {
    transaction!(db, tx => {
        let row = find_membership(&tx, municipality, region, valid_from).await?;
        delete::<region_membership::Entity>(&tx, actor, &row, None).await?;
        row
    })
}

// ---------------------------------------------------------------- organisations and programmes

pub async fn save_organisation(
    db: &Db,
    actor: &str,
    target: Target,
    draft: OrganisationDraft,
) -> WriteResult<organisation::Model> {
    let draft = draft.with_checked_identity()?;
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<organisation::Entity>(&tx, &target).await?;
        let model = organisation::Model {
            id: 0,
            search_name: search_form(&draft.name),
            slug: draft.slug,
            name: draft.name,
            short_name: draft.short_name,
            kind: draft.kind,
            kind_label: draft.kind_label,
            country_id: country_id(&tx, draft.country.as_deref()).await?,
            municipality_id: opt_id_of::<municipality::Entity>(&tx, "municipality", draft.municipality.as_deref()).await?,
            represents_municipality_id: opt_id_of::<municipality::Entity>(
                &tx,
                "representsMunicipality",
                draft.represents_municipality.as_deref(),
            )
            .await?,
            org_number: draft.org_number,
            ror: draft.ror,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            source_locator: draft.provenance.locator.clone(),
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<organisation::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

pub async fn save_programme(
    db: &Db,
    actor: &str,
    target: Target,
    draft: ProgrammeDraft,
) -> WriteResult<programme::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<programme::Entity>(&tx, &target).await?;
        let model = programme::Model {
            id: 0,
            search_name: search_form(&draft.name),
            slug: draft.slug,
            name: draft.name,
            full_name: draft.full_name,
            country_id: country_id(&tx, draft.country.as_deref()).await?,
            owner_organisation_id: opt_id_of::<organisation::Entity>(&tx, "owner", draft.owner.as_deref()).await?,
            funder_organisation_id: opt_id_of::<organisation::Entity>(&tx, "funder", draft.funder.as_deref()).await?,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            period_text: draft.period_text,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            source_locator: draft.provenance.locator.clone(),
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<programme::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

// ---------------------------------------------------------------- projects and their parts

pub async fn save_project(db: &Db, actor: &str, target: Target, draft: ProjectDraft) -> WriteResult<project::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<project::Entity>(&tx, &target).await?;
        if let Some((row, _)) = &current {
            // Rule `budget_share` from the other side: the budget must still cover every share.
            let largest_share = project_partner::Entity::find()
                .filter(project_partner::Column::ProjectId.eq(row.id))
                .all(&tx)
                .await?
                .iter()
                .filter_map(|p| p.budget_share)
                .fold(None, |max: Option<f64>, share| Some(max.map_or(share, |m| m.max(share))));
            rule::budget_covers_shares("budgetTotal", draft.budget_total, largest_share)?;
        }
        let model = project::Model {
            id: 0,
            search_name: search_form(&draft.name),
            slug: draft.slug,
            name: draft.name,
            short_name: draft.short_name,
            programme_id: opt_id_of::<programme::Entity>(&tx, "programme", draft.programme.as_deref()).await?,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            period_text: draft.period_text,
            period_approximate: draft.period_approximate,
            budget_total: draft.budget_total,
            budget_currency: draft.budget_currency,
            budget_source_id: source_id(&tx, "budgetSource", draft.budget_source.as_deref()).await?,
            budget_verified: draft.budget_verified,
            budget_eur: None,
            budget_eur_rate: None,
            budget_rate_date: None,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            source_locator: draft.provenance.locator.clone(),
            verified: draft.provenance.verified,
            version: 0,
        };
        let mut model = model;
        crate::db::rows::price_budget(&mut model);
        save_keyed::<project::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

/// Deletes a project with what belongs only to it (partners, budget lines, goals and their
/// indicator values). Collaborations and placements that refer to it keep it alive (`CONFLICT`).
pub async fn delete_project(db: &Db, actor: &str, slug: &str, expected_version: i32) -> WriteResult<project::Model> {
    transaction!(db, tx => {
        let row = by_key::<project::Entity>(&tx, "slug", slug).await?;
        lock::<project::Entity>(&tx, row.id).await?;
        for value in indicator_value::Entity::find().filter(indicator_value::Column::ProjectId.eq(row.id)).all(&tx).await? {
            delete::<indicator_value::Entity>(&tx, actor, &value, None).await?;
        }
        for goal in goal::Entity::find().filter(goal::Column::ProjectId.eq(row.id)).all(&tx).await? {
            delete::<goal::Entity>(&tx, actor, &goal, None).await?;
        }
        for partner in project_partner::Entity::find().filter(project_partner::Column::ProjectId.eq(row.id)).all(&tx).await? {
            delete::<project_partner::Entity>(&tx, actor, &partner, None).await?;
        }
        for line in project_budget_line::Entity::find().filter(project_budget_line::Column::ProjectId.eq(row.id)).all(&tx).await? {
            delete::<project_budget_line::Entity>(&tx, actor, &line, None).await?;
        }
        delete::<project::Entity>(&tx, actor, &row, Some(expected_version)).await?;
        row
    })
}

/// Adds a partner (`expected_version: None`) or replaces one (its role label and budget share).
/// Rule `budget_share`: the share does not exceed the project budget.
pub async fn save_partner(
    db: &Db,
    actor: &str,
    draft: PartnerDraft,
    expected_version: Option<i32>,
) -> WriteResult<project_partner::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let project = by_key::<project::Entity>(&tx, "project", &draft.project).await?;
        let organisation_id = id_of::<organisation::Entity>(&tx, "organisation", &draft.organisation).await?;
        lock::<project::Entity>(&tx, project.id).await?;
        rule::budget_share("budgetShare", draft.budget_share, project.budget_total)?;
        let existing = find_partner(&tx, project.id, organisation_id, draft.role).await?;
        let model = project_partner::Model {
            id: 0,
            project_id: project.id,
            organisation_id,
            role: draft.role,
            role_label: draft.role_label,
            budget_share: draft.budget_share,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            source_locator: draft.provenance.locator.clone(),
            verified: draft.provenance.verified,
            version: 0,
        };
        match (existing, expected_version) {
            (None, None) => insert::<project_partner::Entity>(&tx, actor, model).await?,
            (Some(row), Some(expected)) => {
                update::<project_partner::Entity>(&tx, actor, row.id, expected, model, Operation::Update).await?
            }
            (Some(_), None) => {
                return Err(WriteError::Conflict {
                    field: Some("organisation"),
                    rule: "partner_exists",
                    message: format!("`{}` is already a {} of `{}`", draft.organisation, draft.role.as_str(), draft.project),
                });
            }
            (None, Some(_)) => {
                return Err(WriteError::NotFound {
                    field: "organisation",
                    what: "project partner",
                    key: format!("{} as {} of {}", draft.organisation, draft.role.as_str(), draft.project),
                });
            }
        }
    })
}

async fn find_partner(
    tx: &DatabaseTransaction,
    project_id: i32,
    organisation_id: i32,
    role: PartnerRole,
) -> WriteResult<Option<project_partner::Model>> {
    Ok(project_partner::Entity::find()
        .filter(project_partner::Column::ProjectId.eq(project_id))
        .filter(project_partner::Column::OrganisationId.eq(organisation_id))
        .filter(project_partner::Column::Role.eq(role))
        .one(tx)
        .await?)
}

pub async fn remove_partner(
    db: &Db,
    actor: &str,
    project: &str,
    organisation: &str,
    role: PartnerRole,
) -> WriteResult<project_partner::Model> {
    transaction!(db, tx => {
        let project_id = id_of::<project::Entity>(&tx, "project", project).await?;
        let organisation_id = id_of::<organisation::Entity>(&tx, "organisation", organisation).await?;
        let row = find_partner(&tx, project_id, organisation_id, role).await?.ok_or_else(|| WriteError::NotFound {
            field: "organisation",
            what: "project partner",
            key: format!("{organisation} as {} of {project}", role.as_str()),
        })?;
        delete::<project_partner::Entity>(&tx, actor, &row, None).await?;
        row
    })
}

pub async fn add_budget_line(db: &Db, actor: &str, draft: BudgetLineDraft) -> WriteResult<project_budget_line::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let project_id = id_of::<project::Entity>(&tx, "project", &draft.project).await?;
        let model = project_budget_line::Model {
            id: 0,
            project_id,
            kind: draft.kind,
            label: draft.label,
            amount: draft.amount,
            currency: draft.currency,
            is_final: draft.is_final,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            source_locator: draft.provenance.locator.clone(),
            verified: draft.provenance.verified,
            version: 0,
        };
        insert::<project_budget_line::Entity>(&tx, actor, model).await?
    })
}

pub async fn remove_budget_line(
    db: &Db,
    actor: &str,
    project: &str,
    label: &str,
) -> WriteResult<project_budget_line::Model> {
    transaction!(db, tx => {
        let project_id = id_of::<project::Entity>(&tx, "project", project).await?;
        let row = project_budget_line::Entity::find()
            .filter(project_budget_line::Column::ProjectId.eq(project_id))
            .filter(project_budget_line::Column::Label.eq(label))
            .one(&tx)
            .await?
            .ok_or_else(|| WriteError::NotFound { field: "label", what: "budget line", key: format!("{project}: {label}") })?;
        delete::<project_budget_line::Entity>(&tx, actor, &row, None).await?;
        row
    })
}

pub async fn save_goal(db: &Db, actor: &str, target: Target, draft: GoalDraft) -> WriteResult<goal::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<goal::Entity>(&tx, &target).await?;
        let model = goal::Model {
            id: 0,
            slug: draft.slug,
            project_id: id_of::<project::Entity>(&tx, "project", &draft.project).await?,
            kind: draft.kind,
            kind_label: draft.kind_label,
            text: draft.text,
            target_value: draft.target_value,
            target_comparator: draft.target_comparator,
            target_unit: draft.target_unit,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<goal::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

pub async fn save_indicator_value(
    db: &Db,
    actor: &str,
    target: Target,
    draft: IndicatorValueDraft,
) -> WriteResult<indicator_value::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<indicator_value::Entity>(&tx, &target).await?;
        let project_id = id_of::<project::Entity>(&tx, "project", &draft.project).await?;
        let goal_id = match draft.goal.as_deref() {
            Some(slug) => {
                let goal = by_key::<goal::Entity>(&tx, "goal", slug).await?;
                if goal.project_id != project_id {
                    return Err(rule::Violation::new("goal", "goal_of_project", format!("goal `{slug}` belongs to another project")).into());
                }
                Some(goal.id)
            }
            None => None,
        };
        let model = indicator_value::Model {
            id: 0,
            slug: draft.slug,
            project_id,
            goal_id,
            text: draft.text,
            value: draft.value,
            comparator: draft.comparator,
            approximate: draft.approximate,
            unit: draft.unit,
            period_from: draft.period_from,
            period_to: draft.period_to,
            period_text: draft.period_text,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<indicator_value::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

pub async fn save_collaboration(
    db: &Db,
    actor: &str,
    target: Target,
    draft: CollaborationDraft,
) -> WriteResult<collaboration::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<collaboration::Entity>(&tx, &target).await?;
        let model = collaboration::Model {
            id: 0,
            slug: draft.slug,
            organisation_a_id: id_of::<organisation::Entity>(&tx, "organisationA", &draft.organisation_a).await?,
            organisation_b_id: id_of::<organisation::Entity>(&tx, "organisationB", &draft.organisation_b).await?,
            kind: draft.kind,
            project_id: opt_id_of::<project::Entity>(&tx, "project", draft.project.as_deref()).await?,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            description: draft.description,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<collaboration::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

// ---------------------------------------------------------------- students (personal data)

pub async fn save_student(db: &Db, actor: &str, target: Target, draft: StudentDraft) -> WriteResult<student::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<student::Entity>(&tx, &target).await?;
        let model = student::Model {
            id: 0,
            slug: draft.slug,
            home_municipality_id: opt_id_of::<municipality::Entity>(&tx, "homeMunicipality", draft.home_municipality.as_deref()).await?,
            enrolling_organisation_id: id_of::<organisation::Entity>(&tx, "enrollingOrganisation", &draft.enrolling_organisation).await?,
            field_of_study: draft.field_of_study,
            enrolled_from: draft.enrolled_from,
            enrolled_to: draft.enrolled_to,
            // The registry never holds real students (brief): every student written is synthetic.
            synthetic: true,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<student::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

/// Erases a student with their placements (personal data goes entirely).
pub async fn delete_student(db: &Db, actor: &str, slug: &str, expected_version: i32) -> WriteResult<student::Model> {
    transaction!(db, tx => {
        let row = by_key::<student::Entity>(&tx, "slug", slug).await?;
        for placement in student_placement::Entity::find().filter(student_placement::Column::StudentId.eq(row.id)).all(&tx).await? {
            delete::<student_placement::Entity>(&tx, actor, &placement, None).await?;
        }
        delete::<student::Entity>(&tx, actor, &row, Some(expected_version)).await?;
        row
    })
}

pub async fn save_placement(
    db: &Db,
    actor: &str,
    target: Target,
    draft: PlacementDraft,
) -> WriteResult<student_placement::Model> {
    draft.check()?;
    transaction!(db, tx => {
        let current = target_row::<student_placement::Entity>(&tx, &target).await?;
        let model = student_placement::Model {
            id: 0,
            slug: draft.slug,
            student_id: id_of::<student::Entity>(&tx, "student", &draft.student).await?,
            host_organisation_id: id_of::<organisation::Entity>(&tx, "host", &draft.host).await?,
            project_id: opt_id_of::<project::Entity>(&tx, "project", draft.project.as_deref()).await?,
            kind: draft.kind,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            source_id: provenance_ids(&tx, &draft.provenance).await?,
            verified: draft.provenance.verified,
            version: 0,
        };
        save_keyed::<student_placement::Entity>(&tx, actor, current.as_ref().map(|(row, v)| (row, *v)), model).await?
    })
}

/// Deletes a keyed row that nothing else owns (organisation, programme, goal, indicator value,
/// collaboration, placement). Rows still referenced elsewhere are a `CONFLICT`.
pub async fn delete_keyed<E>(db: &Db, actor: &str, slug: &str, expected_version: i32) -> WriteResult<E::Model>
where
    E: KeyedTable,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    transaction!(db, tx => {
        let row = by_key::<E>(&tx, "slug", slug).await?;
        delete::<E>(&tx, actor, &row, Some(expected_version)).await?;
        row
    })
}
