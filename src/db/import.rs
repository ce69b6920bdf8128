//! Writes [`RegistryRecords`] in one transaction, idempotently: every row is matched to the
//! existing one by its natural key (slug, or parent + key for child rows) and only written when
//! it differs, so re-importing the same file changes nothing. Top-level rows the file does not
//! mention are kept (they may come from editors or another import).
//!
//! An import speaks for its own sources: a child fact of an imported parent (a code, a
//! membership, a name, a partner…) that the file no longer lists is removed only when it cites
//! one of the file's sources (or none). So the reference map and the demo registry can both
//! describe Nome — the map its codes and fylker, the demo its membership of the Midt-Telemark
//! region — and re-importing either leaves the other's facts alone. A record marked
//! `attach_only` names a row another import owns (the map's municipalities and regions): its
//! row is not written, only the facts this file adds to it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use entity::*;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    Iterable, PrimaryKeyToColumn, QueryFilter,
};

use crate::db::Db;
use crate::db::events::{self, Change, Operation};
use crate::db::rows::Row;
use crate::db::write::WriteError;
use crate::domain::import::intake::KnownOrganisation;
use crate::domain::import::rules;
use crate::domain::import::{Provenance, RegistryRecords};
use crate::domain::text::search_form;
use crate::domain::validation::{self, Violation};
use entity::enums::RegionKind;

/// Rows written per table by one import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
}

/// What an import did, per table.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub tables: BTreeMap<&'static str, TableCounts>,
}

impl ImportSummary {
    pub fn total(&self) -> TableCounts {
        self.tables.values().fold(TableCounts::default(), |sum, t| TableCounts {
            inserted: sum.inserted + t.inserted,
            updated: sum.updated + t.updated,
            deleted: sum.deleted + t.deleted,
            unchanged: sum.unchanged + t.unchanged,
        })
    }

    /// True when the import found everything as it already was.
    pub fn changed_nothing(&self) -> bool {
        let total = self.total();
        total.inserted + total.updated + total.deleted == 0
    }
}

/// Imports all records in one transaction: all of it is written, or none of it.
/// Each written row also writes its change event, with `actor` as its author.
///
/// Before anything is written the records pass the editors' write rules
/// ([`crate::domain::import::rules`]): a row a mutation would refuse is refused here too.
pub async fn import_records(db: &Db, records: &RegistryRecords, actor: &str) -> Result<ImportSummary, WriteError> {
    write_records(db, records, actor, Mode::Commit, None).await
}

/// Whether an import is kept or only tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Commit,
    /// Everything is written inside the transaction and counted, then rolled back: the counts
    /// are exactly what a real import would do.
    DryRun,
}

/// [`import_records`], or its dry run; `progress` hears of every row the writer syncs.
pub async fn write_records(
    db: &Db,
    records: &RegistryRecords,
    actor: &str,
    mode: Mode,
    progress: Option<&mut (dyn FnMut(u64) + Send)>,
) -> Result<ImportSummary, WriteError> {
    let violations = rules::check(records);
    if let Some(first) = violations.first() {
        let more = match violations.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Err(WriteError::Invalid(Violation {
            field: first.violation.field.clone(),
            rule: first.violation.rule,
            message: format!("{}: {}{more}", first.at, first.violation.message),
        }));
    }
    let (turn, tx) = super::write::begin(db).await?;
    let mut writer = Writer { tx: &tx, actor, summary: ImportSummary::default(), ids: Ids::default(), progress };
    writer.write(records).await?;
    writer.check_against_registry(records).await?;
    let summary = writer.summary;
    match mode {
        Mode::Commit => {
            super::write::commit(&turn, tx).await?;
            db.commits.committed();
        }
        Mode::DryRun => tx.rollback().await?,
    }
    Ok(summary)
}

/// The country codes the registry has.
pub async fn country_codes(db: &Db) -> Result<HashSet<String>, DbErr> {
    Ok(country::Entity::find().all(&db.conn).await?.into_iter().map(|c| c.code).collect())
}

/// The registry's organisations as matching needs them (slug, names, identifiers, seat).
pub async fn known_organisations(db: &Db) -> Result<Vec<KnownOrganisation>, DbErr> {
    let municipalities: HashMap<i32, String> =
        municipality::Entity::find().all(&db.conn).await?.into_iter().map(|m| (m.id, m.slug)).collect();
    let countries: HashMap<i32, String> =
        country::Entity::find().all(&db.conn).await?.into_iter().map(|c| (c.id, c.code)).collect();
    let sources: HashMap<i32, String> =
        source::Entity::find().all(&db.conn).await?.into_iter().map(|s| (s.id, s.key)).collect();
    let lookup = |map: &HashMap<i32, String>, id: Option<i32>| id.and_then(|id| map.get(&id).cloned());
    Ok(organisation::Entity::find()
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|o| KnownOrganisation {
            slug: o.slug,
            name: o.name,
            short_name: o.short_name,
            kind: o.kind,
            kind_label: o.kind_label,
            country: lookup(&countries, o.country_id),
            municipality_slug: lookup(&municipalities, o.municipality_id),
            represents_municipality_slug: lookup(&municipalities, o.represents_municipality_id),
            org_number: o.org_number,
            ror: o.ror,
            valid_from: o.valid_from,
            valid_to: o.valid_to,
            provenance: Provenance {
                source: lookup(&sources, o.source_id),
                verified: o.verified,
                locator: o.source_locator,
            },
            names: Vec::new(),
        })
        .collect())
}

#[derive(Default)]
struct Ids {
    /// Ids of the sources this file declares: the facts it speaks for.
    own_sources: HashSet<i32>,
    sources: HashMap<String, i32>,
    countries: HashMap<String, i32>,
    regions: HashMap<String, i32>,
    municipalities: HashMap<String, i32>,
    organisations: HashMap<String, i32>,
    programmes: HashMap<String, i32>,
    projects: HashMap<String, i32>,
    goals: HashMap<String, i32>,
}

/// Looks up the id of a slug that the parser has already checked.
fn id_of(map: &HashMap<String, i32>, slug: &str) -> Result<i32, DbErr> {
    map.get(slug)
        .copied()
        .ok_or_else(|| DbErr::Custom(format!("import: `{slug}` was not written before it was referenced")))
}

fn opt_id_of(map: &HashMap<String, i32>, slug: Option<&String>) -> Result<Option<i32>, DbErr> {
    slug.map(|slug| id_of(map, slug)).transpose()
}

struct Writer<'a, 'p> {
    tx: &'a DatabaseTransaction,
    actor: &'a str,
    summary: ImportSummary,
    ids: Ids,
    progress: Option<&'p mut (dyn FnMut(u64) + Send)>,
}

impl Writer<'_, '_> {
    /// Brings the rows matching `existing` in line with `desired`, by `key`.
    async fn sync<E, K>(
        &mut self,
        table: &'static str,
        existing: Vec<E::Model>,
        desired: Vec<E::Model>,
        key: impl Fn(&E::Model) -> K,
        delete_missing: Option<&HashSet<i32>>,
    ) -> Result<HashMap<K, i32>, DbErr>
    where
        E: EntityTrait,
        E::Model: Row + IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        K: Eq + Hash,
    {
        let counts = self.summary.tables.entry(table).or_default();
        let mut by_key: HashMap<K, E::Model> = existing.into_iter().map(|row| (key(&row), row)).collect();
        let mut ids = HashMap::new();
        let mut changes = Vec::new();
        for mut row in desired {
            if let Some(progress) = self.progress.as_mut() {
                progress(1);
            }
            let row_key = key(&row);
            match by_key.remove(&row_key) {
                Some(current) => {
                    row.set_id(current.id());
                    row.set_version(current.version());
                    // Where in the file a row sits is not a fact about it: a newer file that
                    // only moves a row does not rewrite it.
                    let mut same_place = row.clone();
                    same_place.set_locator(current.locator());
                    if same_place == current {
                        counts.unchanged += 1;
                    } else {
                        row.set_version(current.version() + 1);
                        row.clone().into_active_model().reset_all().update(self.tx).await?;
                        counts.updated += 1;
                        changes.push(
                            Change::of(table, row.id(), row.slug(), Operation::Update, row.version(), &row)
                                .from(&current),
                        );
                    }
                    ids.insert(row_key, current.id());
                }
                None => {
                    row.set_version(1);
                    let mut active = row.into_active_model().reset_all();
                    for primary_key in E::PrimaryKey::iter() {
                        active.not_set(primary_key.into_column());
                    }
                    let inserted = active.insert(self.tx).await?;
                    counts.inserted += 1;
                    ids.insert(row_key, inserted.id());
                    changes.push(Change::of(
                        table,
                        inserted.id(),
                        inserted.slug(),
                        Operation::Create,
                        inserted.version(),
                        &inserted,
                    ));
                }
            }
        }
        if let Some(deletable) = delete_missing {
            for (_, row) in by_key.into_iter().filter(|(_, row)| deletable.contains(&row.id())) {
                changes.push(Change::of(table, row.id(), row.slug(), Operation::Delete, row.version(), &row));
                row.into_active_model().delete(self.tx).await?;
                counts.deleted += 1;
            }
        }
        for change in changes {
            events::record(self.tx, self.actor, change).await?;
        }
        Ok(ids)
    }

    fn source_id(&self, provenance: &Provenance) -> Result<Option<i32>, DbErr> {
        opt_id_of(&self.ids.sources, provenance.source.as_ref())
    }

    /// Whether this file speaks for a fact citing `source_id` (its own sources, or none).
    fn owns(&self, source_id: Option<i32>) -> bool {
        source_id.is_none_or(|id| self.ids.own_sources.contains(&id))
    }

    /// The ids of the existing rows this file speaks for (see the module docs): the ones it
    /// may delete when it no longer lists them. A row another source stated that this file
    /// states too (same key) is updated to this file's statement either way.
    fn deletable<M: Row>(&self, rows: &[M], source_id: impl Fn(&M) -> Option<i32>) -> HashSet<i32> {
        rows.iter().filter(|row| self.owns(source_id(row))).map(Row::id).collect()
    }

    /// The rules that compare a row with rows other sources wrote, as `addProjectPartner`,
    /// `updateProject` and `addMembership` check them against the database: run on the registry
    /// as this import leaves it, inside its transaction, so a refused import writes nothing.
    async fn check_against_registry(&mut self, records: &RegistryRecords) -> Result<(), WriteError> {
        // Rule `budget_share`: no partner of an imported project brings more than its budget.
        let project_ids: Vec<i32> = self.ids.projects.values().copied().collect();
        if !project_ids.is_empty() {
            let budgets: HashMap<i32, (String, Option<f64>)> = project::Entity::find()
                .filter(project::Column::Id.is_in(project_ids.clone()))
                .all(self.tx)
                .await?
                .into_iter()
                .map(|p| (p.id, (p.slug, p.budget_total)))
                .collect();
            let partners = project_partner::Entity::find()
                .filter(project_partner::Column::ProjectId.is_in(project_ids))
                .all(self.tx)
                .await?;
            for partner in partners {
                let Some((slug, budget)) = budgets.get(&partner.project_id) else { continue };
                validation::budget_share("budgetShare", partner.budget_share, *budget).map_err(|violation| {
                    Violation { message: format!("project `{slug}`: {}", violation.message), ..violation }
                })?;
            }
        }
        // Rule `membership_overlap`: a municipality is in one region of a kind at a time.
        let municipality_ids: Vec<i32> =
            records.municipalities.iter().filter_map(|m| self.ids.municipalities.get(&m.slug).copied()).collect();
        if !municipality_ids.is_empty() {
            let kinds: HashMap<i32, (RegionKind, String)> =
                region::Entity::find().all(self.tx).await?.into_iter().map(|r| (r.id, (r.kind, r.slug))).collect();
            let memberships = region_membership::Entity::find()
                .filter(region_membership::Column::MunicipalityId.is_in(municipality_ids))
                .all(self.tx)
                .await?;
            let mut seen: HashMap<(i32, RegionKind), Vec<validation::Dated>> = HashMap::new();
            for membership in memberships {
                let Some((kind, region)) = kinds.get(&membership.region_id) else { continue };
                let same = seen.entry((membership.municipality_id, *kind)).or_default();
                validation::no_overlap(
                    "validFrom",
                    "membership_overlap",
                    membership.valid_from,
                    membership.valid_to,
                    same,
                )
                .map_err(|violation| Violation {
                    message: format!("membership in `{region}`: {}", violation.message),
                    ..violation
                })?;
                same.push(validation::Dated {
                    label: format!("the membership in {region}"),
                    from: membership.valid_from,
                    to: membership.valid_to,
                });
            }
        }
        Ok(())
    }

    async fn write(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        self.write_sources_and_countries(records).await?;
        self.write_regions(records).await?;
        self.write_municipalities(records).await?;
        self.write_changes(records).await?;
        self.write_organisations_and_programmes(records).await?;
        self.write_projects(records).await
    }

    async fn write_sources_and_countries(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let desired = records
            .sources
            .iter()
            .map(|s| source::Model {
                id: 0,
                key: s.key.clone(),
                kind: s.kind.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
                locator: s.locator.clone(),
                description: s.description.clone(),
                version: 1,
            })
            .collect();
        let existing = source::Entity::find().all(self.tx).await?;
        let all: HashMap<String, i32> = existing.iter().map(|s| (s.key.clone(), s.id)).collect();
        let own = self.sync::<source::Entity, _>("sources", existing, desired, |r| r.key.clone(), None).await?;
        self.ids.own_sources = own.values().copied().collect();
        self.ids.sources = all.into_iter().chain(own).collect();

        let mut desired = Vec::new();
        for c in &records.countries {
            desired.push(country::Model {
                id: 0,
                code: c.code.clone(),
                name: c.name.clone(),
                name_en: c.name_en.clone(),
                eu_member: c.eu_member,
                source_id: self.source_id(&c.provenance)?,
                verified: c.provenance.verified,
                version: 1,
            });
        }
        let existing = country::Entity::find().all(self.tx).await?;
        let all: HashMap<String, i32> = existing.iter().map(|c| (c.code.clone(), c.id)).collect();
        let written = self.sync::<country::Entity, _>("countries", existing, desired, |r| r.code.clone(), None).await?;
        self.ids.countries = all.into_iter().chain(written).collect();
        Ok(())
    }

    async fn write_regions(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let mut desired = Vec::new();
        for r in records.regions.iter().filter(|r| !r.attach_only) {
            desired.push(region::Model {
                id: 0,
                slug: r.slug.clone(),
                name: r.name.clone(),
                search_name: search_form(&r.name),
                short_name: r.short_name.clone(),
                kind: r.kind,
                country_id: opt_id_of(&self.ids.countries, r.country.as_ref())?,
                status: r.status,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                note: r.note.clone(),
                source_id: self.source_id(&r.provenance)?,
                verified: r.provenance.verified,
                version: 1,
            });
        }
        let existing = region::Entity::find().all(self.tx).await?;
        let all: HashMap<String, i32> = existing.iter().map(|r| (r.slug.clone(), r.id)).collect();
        let written = self.sync::<region::Entity, _>("regions", existing, desired, |r| r.slug.clone(), None).await?;
        self.ids.regions = all.into_iter().chain(written).collect();
        let imported: Vec<i32> =
            records.regions.iter().map(|r| id_of(&self.ids.regions, &r.slug)).collect::<Result<_, _>>()?;

        let (mut codes, mut parents) = (Vec::new(), Vec::new());
        for r in &records.regions {
            let region_id = id_of(&self.ids.regions, &r.slug)?;
            for c in &r.codes {
                codes.push(region_code::Model {
                    id: 0,
                    region_id,
                    scheme: c.scheme,
                    value: c.value.clone(),
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                    nuts_version: c.nuts_version.clone(),
                    source_id: self.source_id(&c.provenance)?,
                    verified: c.provenance.verified,
                    version: 1,
                });
            }
            for p in &r.parents {
                parents.push(region_parent::Model {
                    id: 0,
                    region_id,
                    parent_id: id_of(&self.ids.regions, &p.parent_slug)?,
                    nuts_version: p.nuts_version.clone(),
                    valid_from: p.valid_from,
                    valid_to: p.valid_to,
                    source_id: self.source_id(&p.provenance)?,
                    verified: p.provenance.verified,
                    version: 1,
                });
            }
        }
        let existing = region_code::Entity::find()
            .filter(region_code::Column::RegionId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |c| c.source_id);
        self.sync::<region_code::Entity, _>(
            "region_codes",
            existing,
            codes,
            |c| (c.region_id, c.scheme, c.value.clone(), c.valid_from),
            Some(&deletable),
        )
        .await?;
        let existing =
            region_parent::Entity::find().filter(region_parent::Column::RegionId.is_in(imported)).all(self.tx).await?;
        let deletable = self.deletable(&existing, |p| p.source_id);
        self.sync::<region_parent::Entity, _>(
            "region_parents",
            existing,
            parents,
            |p| (p.region_id, p.parent_id, p.nuts_version.clone(), p.valid_from),
            Some(&deletable),
        )
        .await?;
        Ok(())
    }

    async fn write_municipalities(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let existing = municipality::Entity::find().all(self.tx).await?;
        // Successors may be new rows; resolve what exists now and fill the rest in a second pass,
        // so a re-import (where all exist) writes nothing.
        let known: HashMap<String, i32> = existing.iter().map(|m| (m.slug.clone(), m.id)).collect();
        let mut desired = Vec::new();
        for m in records.municipalities.iter().filter(|m| !m.attach_only) {
            desired.push(municipality::Model {
                id: 0,
                slug: m.slug.clone(),
                name: m.name.clone(),
                search_name: search_form(&m.name),
                country_id: id_of(&self.ids.countries, &m.country)?,
                status: m.status,
                successor_id: m.successor_slug.as_ref().and_then(|s| known.get(s).copied()),
                dissolved_on: m.dissolved_on,
                established_on: m.established_on,
                admin_centre: m.admin_centre.clone(),
                note: m.note.clone(),
                source_id: self.source_id(&m.provenance)?,
                verified: m.provenance.verified,
                version: 1,
            });
        }
        let by_slug: HashMap<String, municipality::Model> =
            desired.iter().map(|m| (m.slug.clone(), m.clone())).collect();
        let written =
            self.sync::<municipality::Entity, _>("municipalities", existing, desired, |m| m.slug.clone(), None).await?;
        self.ids.municipalities = known.into_iter().chain(written).collect();
        for m in records.municipalities.iter().filter(|m| !m.attach_only) {
            let Some(successor) = &m.successor_slug else { continue };
            let mut row =
                by_slug.get(&m.slug).cloned().ok_or_else(|| DbErr::Custom("import: municipality vanished".into()))?;
            if row.successor_id.is_none() {
                row.id = id_of(&self.ids.municipalities, &m.slug)?;
                row.successor_id = Some(id_of(&self.ids.municipalities, successor)?);
                let current = municipality::Entity::find_by_id(row.id).one(self.tx).await?;
                row.version = current.as_ref().map_or(1, |current| current.version) + 1;
                let mut change = Change::of("municipalities", row.id, row.slug(), Operation::Update, row.version, &row);
                if let Some(current) = &current {
                    change = change.from(current);
                }
                row.into_active_model().reset_all().update(self.tx).await?;
                events::record(self.tx, self.actor, change).await?;
            }
        }

        let imported: Vec<i32> = records
            .municipalities
            .iter()
            .map(|m| id_of(&self.ids.municipalities, &m.slug))
            .collect::<Result<_, _>>()?;
        let (mut codes, mut memberships, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for m in &records.municipalities {
            let municipality_id = id_of(&self.ids.municipalities, &m.slug)?;
            for n in &m.names {
                names.push(municipality_name::Model {
                    id: 0,
                    municipality_id,
                    name: n.name.clone(),
                    valid_from: n.valid_from,
                    valid_to: n.valid_to,
                    source_id: self.source_id(&n.provenance)?,
                    verified: n.provenance.verified,
                    version: 1,
                });
            }
            for c in &m.codes {
                codes.push(municipality_code::Model {
                    id: 0,
                    municipality_id,
                    scheme: c.scheme,
                    value: c.value.clone(),
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                    source_id: self.source_id(&c.provenance)?,
                    verified: c.provenance.verified,
                    version: 1,
                });
            }
            for membership in &m.memberships {
                memberships.push(region_membership::Model {
                    id: 0,
                    municipality_id,
                    region_id: id_of(&self.ids.regions, &membership.region_slug)?,
                    valid_from: membership.valid_from,
                    valid_to: membership.valid_to,
                    source_id: self.source_id(&membership.provenance)?,
                    verified: membership.provenance.verified,
                    version: 1,
                });
            }
        }
        let existing = municipality_code::Entity::find()
            .filter(municipality_code::Column::MunicipalityId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |c| c.source_id);
        self.sync::<municipality_code::Entity, _>(
            "municipality_codes",
            existing,
            codes,
            |c| (c.municipality_id, c.scheme, c.value.clone(), c.valid_from),
            Some(&deletable),
        )
        .await?;
        let existing = region_membership::Entity::find()
            .filter(region_membership::Column::MunicipalityId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |m| m.source_id);
        self.sync::<region_membership::Entity, _>(
            "region_memberships",
            existing,
            memberships,
            |m| (m.municipality_id, m.region_id, m.valid_from, m.valid_to),
            Some(&deletable),
        )
        .await?;
        let existing = municipality_name::Entity::find()
            .filter(municipality_name::Column::MunicipalityId.is_in(imported))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |n| n.source_id);
        self.sync::<municipality_name::Entity, _>(
            "municipality_names",
            existing,
            names,
            |n| (n.municipality_id, n.valid_from),
            Some(&deletable),
        )
        .await?;
        Ok(())
    }

    /// Reforms of municipalities and counties: the rows this file's sources state.
    async fn write_changes(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        // The two reform tables differ only in what their sides point at.
        macro_rules! sync_changes {
            ($records:expr, $module:ident, $table:literal, $ids:ident, $from:ident, $to:ident) => {{
                let mut desired = Vec::new();
                for c in $records {
                    desired.push($module::Model {
                        id: 0,
                        day: c.day,
                        kind: c.kind,
                        $from: opt_id_of(&self.ids.$ids, c.from_slug.as_ref())?,
                        from_code: c.from_code.clone(),
                        from_name: c.from_name.clone(),
                        $to: opt_id_of(&self.ids.$ids, c.to_slug.as_ref())?,
                        to_code: c.to_code.clone(),
                        to_name: c.to_name.clone(),
                        note: c.note.clone(),
                        source_id: self.source_id(&c.provenance)?,
                        verified: c.provenance.verified,
                        version: 1,
                    });
                }
                let existing = $module::Entity::find().all(self.tx).await?;
                let deletable = self.deletable(&existing, |c| c.source_id);
                self.sync::<$module::Entity, _>(
                    $table,
                    existing,
                    desired,
                    |c| (c.day, c.kind, c.$from, c.$to, c.from_code.clone(), c.to_code.clone()),
                    Some(&deletable),
                )
                .await?;
            }};
        }
        sync_changes!(
            &records.municipality_changes,
            municipality_change,
            "municipality_changes",
            municipalities,
            from_municipality_id,
            to_municipality_id
        );
        sync_changes!(&records.region_changes, region_change, "region_changes", regions, from_region_id, to_region_id);
        Ok(())
    }

    async fn write_organisations_and_programmes(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let mut desired = Vec::new();
        for o in &records.organisations {
            desired.push(organisation::Model {
                id: 0,
                slug: o.slug.clone(),
                name: o.name.clone(),
                search_name: search_form(&o.name),
                short_name: o.short_name.clone(),
                kind: o.kind,
                kind_label: o.kind_label.clone(),
                country_id: opt_id_of(&self.ids.countries, o.country.as_ref())?,
                municipality_id: opt_id_of(&self.ids.municipalities, o.municipality_slug.as_ref())?,
                represents_municipality_id: opt_id_of(
                    &self.ids.municipalities,
                    o.represents_municipality_slug.as_ref(),
                )?,
                org_number: o.org_number.clone(),
                ror: o.ror.clone(),
                valid_from: o.valid_from,
                valid_to: o.valid_to,
                source_id: self.source_id(&o.provenance)?,
                source_locator: o.provenance.locator.clone(),
                verified: o.provenance.verified,
                version: 1,
            });
        }
        let existing = organisation::Entity::find().all(self.tx).await?;
        let all: HashMap<String, i32> = existing.iter().map(|o| (o.slug.clone(), o.id)).collect();
        let written =
            self.sync::<organisation::Entity, _>("organisations", existing, desired, |o| o.slug.clone(), None).await?;
        self.ids.organisations = all.into_iter().chain(written).collect();
        self.write_organisation_history(records).await?;

        let mut desired = Vec::new();
        for p in &records.programmes {
            desired.push(programme::Model {
                id: 0,
                slug: p.slug.clone(),
                name: p.name.clone(),
                search_name: search_form(&p.name),
                full_name: p.full_name.clone(),
                country_id: opt_id_of(&self.ids.countries, p.country.as_ref())?,
                owner_organisation_id: opt_id_of(&self.ids.organisations, p.owner.as_ref())?,
                funder_organisation_id: opt_id_of(&self.ids.organisations, p.funder.as_ref())?,
                valid_from: p.valid_from,
                valid_to: p.valid_to,
                period_text: p.period_text.clone(),
                source_id: self.source_id(&p.provenance)?,
                source_locator: p.provenance.locator.clone(),
                verified: p.provenance.verified,
                version: 1,
            });
        }
        let existing = programme::Entity::find().all(self.tx).await?;
        let all: HashMap<String, i32> = existing.iter().map(|p| (p.slug.clone(), p.id)).collect();
        let written =
            self.sync::<programme::Entity, _>("programmes", existing, desired, |p| p.slug.clone(), None).await?;
        self.ids.programmes = all.into_iter().chain(written).collect();
        Ok(())
    }

    /// Dated names of the file's organisations, and its organisation mergers and renames.
    async fn write_organisation_history(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let imported: Vec<i32> =
            records.organisations.iter().map(|o| id_of(&self.ids.organisations, &o.slug)).collect::<Result<_, _>>()?;
        let mut names = Vec::new();
        for o in &records.organisations {
            let organisation_id = id_of(&self.ids.organisations, &o.slug)?;
            for n in &o.names {
                names.push(organisation_name::Model {
                    id: 0,
                    organisation_id,
                    name: n.name.clone(),
                    valid_from: n.valid_from,
                    valid_to: n.valid_to,
                    source_id: self.source_id(&n.provenance)?,
                    verified: n.provenance.verified,
                    version: 1,
                });
            }
        }
        let existing = organisation_name::Entity::find()
            .filter(organisation_name::Column::OrganisationId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |n| n.source_id);
        self.sync::<organisation_name::Entity, _>(
            "organisation_names",
            existing,
            names,
            |n| (n.organisation_id, n.valid_from),
            Some(&deletable),
        )
        .await?;
        let mut changes = Vec::new();
        for c in &records.organisation_changes {
            changes.push(organisation_change::Model {
                id: 0,
                day: c.day,
                kind: c.kind,
                from_organisation_id: id_of(&self.ids.organisations, &c.from_slug)?,
                to_organisation_id: id_of(&self.ids.organisations, &c.to_slug)?,
                note: c.note.clone(),
                source_id: self.source_id(&c.provenance)?,
                verified: c.provenance.verified,
                version: 1,
            });
        }
        let existing = organisation_change::Entity::find()
            .filter(organisation_change::Column::FromOrganisationId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |c| c.source_id);
        self.sync::<organisation_change::Entity, _>(
            "organisation_changes",
            existing,
            changes,
            |c| (c.from_organisation_id, c.to_organisation_id, c.day),
            Some(&deletable),
        )
        .await?;
        // Undated links, kept with the organisation they are about (which may be one this
        // file only matched: ROR states the links of organisations it does not write).
        let mut links = Vec::new();
        for l in &records.organisation_links {
            links.push(organisation_link::Model {
                id: 0,
                organisation_id: id_of(&self.ids.organisations, &l.from_slug)?,
                related_organisation_id: id_of(&self.ids.organisations, &l.to_slug)?,
                kind: l.kind,
                source_id: self.source_id(&l.provenance)?,
                verified: l.provenance.verified,
                version: 1,
            });
        }
        let subjects: Vec<i32> = imported.iter().copied().chain(links.iter().map(|l| l.organisation_id)).collect();
        let existing = organisation_link::Entity::find()
            .filter(organisation_link::Column::OrganisationId.is_in(subjects))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |l| l.source_id);
        self.sync::<organisation_link::Entity, _>(
            "organisation_links",
            existing,
            links,
            |l| (l.organisation_id, l.related_organisation_id, l.kind),
            Some(&deletable),
        )
        .await?;
        Ok(())
    }

    async fn write_projects(&mut self, records: &RegistryRecords) -> Result<(), DbErr> {
        let mut desired = Vec::new();
        for p in &records.projects {
            let headline = p.headline_budget();
            let mut model = project::Model {
                id: 0,
                slug: p.slug.clone(),
                name: p.name.clone(),
                search_name: search_form(&p.name),
                short_name: p.short_name.clone(),
                programme_id: opt_id_of(&self.ids.programmes, p.programme_slug.as_ref())?,
                valid_from: p.valid_from,
                valid_to: p.valid_to,
                period_text: p.period_text.clone(),
                period_approximate: p.period_approximate,
                budget_total: headline.map(|b| b.amount),
                budget_currency: headline.map(|b| b.currency.clone()),
                budget_source_id: match headline {
                    Some(line) => self.source_id(&line.provenance)?,
                    None => None,
                },
                budget_verified: headline.is_some_and(|b| b.provenance.verified),
                budget_eur: None,
                budget_eur_rate: None,
                budget_rate_date: None,
                source_id: self.source_id(&p.provenance)?,
                source_locator: p.provenance.locator.clone(),
                verified: p.provenance.verified,
                version: 1,
            };
            crate::db::rows::price_budget(&mut model);
            desired.push(model);
        }
        let existing = project::Entity::find().all(self.tx).await?;
        self.ids.projects =
            self.sync::<project::Entity, _>("projects", existing, desired, |p| p.slug.clone(), None).await?;
        let imported: Vec<i32> = self.ids.projects.values().copied().collect();

        let (mut lines, mut partners, mut goals, mut collaborations) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for p in &records.projects {
            let project_id = id_of(&self.ids.projects, &p.slug)?;
            for b in &p.budget_lines {
                lines.push(project_budget_line::Model {
                    id: 0,
                    project_id,
                    kind: b.kind,
                    label: b.label.clone(),
                    amount: b.amount,
                    currency: b.currency.clone(),
                    is_final: b.is_final,
                    source_id: self.source_id(&b.provenance)?,
                    source_locator: b.provenance.locator.clone(),
                    verified: b.provenance.verified,
                    version: 1,
                });
            }
            for partner in &p.partners {
                partners.push(project_partner::Model {
                    id: 0,
                    project_id,
                    organisation_id: id_of(&self.ids.organisations, &partner.organisation_slug)?,
                    role: partner.role,
                    role_label: partner.role_label.clone(),
                    budget_share: partner.budget_share,
                    source_id: self.source_id(&partner.provenance)?,
                    source_locator: partner.provenance.locator.clone(),
                    verified: partner.provenance.verified,
                    version: 1,
                });
            }
            for g in &p.goals {
                goals.push(goal::Model {
                    id: 0,
                    slug: g.slug.clone(),
                    project_id,
                    kind: g.kind,
                    kind_label: g.kind_label.clone(),
                    text: g.text.clone(),
                    target_value: g.target_value,
                    target_comparator: g.target_comparator,
                    target_unit: g.target_unit.clone(),
                    source_id: self.source_id(&g.provenance)?,
                    verified: g.provenance.verified,
                    version: 1,
                });
            }
            for c in &p.collaborations {
                collaborations.push(collaboration::Model {
                    id: 0,
                    slug: c.slug.clone(),
                    organisation_a_id: id_of(&self.ids.organisations, &c.organisation_a_slug)?,
                    organisation_b_id: id_of(&self.ids.organisations, &c.organisation_b_slug)?,
                    kind: c.kind,
                    project_id: Some(project_id),
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                    description: c.description.clone(),
                    source_id: self.source_id(&c.provenance)?,
                    verified: c.provenance.verified,
                    version: 1,
                });
            }
        }
        let existing = project_budget_line::Entity::find()
            .filter(project_budget_line::Column::ProjectId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |row| row.source_id);
        self.sync::<project_budget_line::Entity, _>(
            "project_budget_lines",
            existing,
            lines,
            |b| (b.project_id, b.label.clone()),
            Some(&deletable),
        )
        .await?;
        let existing = project_partner::Entity::find()
            .filter(project_partner::Column::ProjectId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |row| row.source_id);
        self.sync::<project_partner::Entity, _>(
            "project_partners",
            existing,
            partners,
            |p| (p.project_id, p.organisation_id),
            Some(&deletable),
        )
        .await?;
        let existing =
            goal::Entity::find().filter(goal::Column::ProjectId.is_in(imported.clone())).all(self.tx).await?;
        let deletable = self.deletable(&existing, |row| row.source_id);
        self.ids.goals =
            self.sync::<goal::Entity, _>("goals", existing, goals, |g| g.slug.clone(), Some(&deletable)).await?;
        let existing = collaboration::Entity::find()
            .filter(collaboration::Column::ProjectId.is_in(imported.clone()))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |row| row.source_id);
        self.sync::<collaboration::Entity, _>(
            "collaborations",
            existing,
            collaborations,
            |c| c.slug.clone(),
            Some(&deletable),
        )
        .await?;

        let mut values = Vec::new();
        for p in &records.projects {
            let project_id = id_of(&self.ids.projects, &p.slug)?;
            for v in &p.indicator_values {
                values.push(indicator_value::Model {
                    id: 0,
                    slug: v.slug.clone(),
                    project_id,
                    goal_id: opt_id_of(&self.ids.goals, v.goal_slug.as_ref())?,
                    text: v.text.clone(),
                    value: v.value,
                    comparator: v.comparator,
                    approximate: v.approximate,
                    unit: v.unit.clone(),
                    period_from: v.period_from,
                    period_to: v.period_to,
                    period_text: v.period_text.clone(),
                    source_id: self.source_id(&v.provenance)?,
                    verified: v.provenance.verified,
                    version: 1,
                });
            }
        }
        let existing = indicator_value::Entity::find()
            .filter(indicator_value::Column::ProjectId.is_in(imported))
            .all(self.tx)
            .await?;
        let deletable = self.deletable(&existing, |row| row.source_id);
        self.sync::<indicator_value::Entity, _>(
            "indicator_values",
            existing,
            values,
            |v| v.slug.clone(),
            Some(&deletable),
        )
        .await?;
        Ok(())
    }
}
