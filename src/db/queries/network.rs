//! What a partner network is made of: ties between organisations — co-partnership
//! in projects (funders are not partners here), collaborations, placements (enrolling
//! organisation ↔ host) — counted per pair in SQL, plus the organisations and the places they
//! roll up to on the network's day. `domain::network` builds the graph from it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::enums::OrganisationKind;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::sql::Sql;
use crate::domain::network::work::{RegistryCounts, Size};
use crate::domain::network::{EdgeKind, Organisation, Place, Selection, Tie};

/// Which ties, of which organisations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetworkFilter {
    /// Projects of this programme (slug); collaborations and placements within them.
    pub programme: Option<String>,
    /// This project (slug) only.
    pub project: Option<String>,
    /// Organisations seated in a municipality of this region (slug) on `as_of`.
    pub region: Option<String>,
    pub kinds: Option<Vec<OrganisationKind>>,
    /// Organisations of this country (code).
    pub country: Option<String>,
    /// Ties active in this period (projects, collaborations and placements overlapping it).
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    /// The day of region memberships (roll-up and the region filter).
    pub as_of: NaiveDate,
    pub edges: Vec<EdgeKind>,
}

impl NetworkFilter {
    /// A stable text form, for cache keys.
    pub fn key(&self) -> String {
        format!("{self:?}")
    }

    fn limits_projects(&self) -> bool {
        self.programme.is_some() || self.project.is_some()
    }

    /// ` AND <project alias> matches the programme and project filters`.
    fn and_project(&self, sql: &mut Sql, alias: &str) {
        if let Some(programme) = &self.programme {
            sql.push(&format!(" AND {alias}.programme_id IN (SELECT id FROM programmes WHERE slug = "))
                .bind(programme.clone())
                .push(")");
        }
        if let Some(project) = &self.project {
            sql.push(&format!(" AND {alias}.slug = ")).bind(project.clone());
        }
    }
}

/// The rows of the network `filter` selects.
pub async fn select<C: ConnectionTrait>(conn: &C, filter: &NetworkFilter) -> Result<Selection, DbErr> {
    let backend = conn.get_database_backend();
    let mut ties = Vec::new();
    for kind in &filter.edges {
        let mut sql = Sql::new(backend);
        match kind {
            EdgeKind::Partnership => {
                sql.push(
                    "SELECT a.organisation_id, b.organisation_id, COUNT(DISTINCT a.project_id) \
                     FROM project_partners a \
                     JOIN project_partners b ON b.project_id = a.project_id AND b.organisation_id > a.organisation_id \
                     JOIN projects p ON p.id = a.project_id \
                     WHERE a.role <> 'funder' AND b.role <> 'funder'",
                );
                filter.and_project(&mut sql, "p");
                sql.and_overlaps("p.valid_from", "p.valid_to", filter.period_from, filter.period_to);
                sql.push(" GROUP BY a.organisation_id, b.organisation_id");
            }
            EdgeKind::Collaboration => {
                sql.push("SELECT c.organisation_a_id, c.organisation_b_id, COUNT(*) FROM collaborations c");
                if filter.limits_projects() {
                    sql.push(" JOIN projects p ON p.id = c.project_id");
                }
                sql.push(" WHERE c.organisation_a_id <> c.organisation_b_id");
                filter.and_project(&mut sql, "p");
                sql.and_overlaps("c.valid_from", "c.valid_to", filter.period_from, filter.period_to);
                sql.push(" GROUP BY c.organisation_a_id, c.organisation_b_id");
            }
            EdgeKind::Placement => {
                sql.push(
                    "SELECT s.enrolling_organisation_id, sp.host_organisation_id, COUNT(*) \
                     FROM student_placements sp JOIN students s ON s.id = sp.student_id",
                );
                if filter.limits_projects() {
                    sql.push(" JOIN projects p ON p.id = sp.project_id");
                }
                sql.push(" WHERE s.enrolling_organisation_id IS NOT NULL");
                filter.and_project(&mut sql, "p");
                sql.and_overlaps("sp.valid_from", "sp.valid_to", filter.period_from, filter.period_to);
                sql.push(" GROUP BY s.enrolling_organisation_id, sp.host_organisation_id");
            }
        }
        for row in conn.query_all_raw(sql.statement()).await? {
            let count: i64 = row.try_get_by_index(2)?;
            ties.push(Tie {
                a: row.try_get_by_index(0)?,
                b: row.try_get_by_index(1)?,
                kind: *kind,
                count: u32::try_from(count).unwrap_or(u32::MAX),
            });
        }
    }

    let ends: HashSet<i32> = ties.iter().flat_map(|tie| [tie.a, tie.b]).collect();
    let countries = places(conn, "SELECT c.id, c.code, c.name, c.code FROM countries c").await?;
    let in_region = match &filter.region {
        Some(region) => {
            let mut sql = Sql::new(backend);
            sql.push(
                "SELECT rm.municipality_id FROM region_memberships rm JOIN regions r ON r.id = rm.region_id \
                 WHERE r.slug = ",
            )
            .bind(region.clone());
            sql.and_valid_on("rm.valid_from", "rm.valid_to", filter.as_of);
            let rows = conn.query_all_raw(sql.statement()).await?;
            Some(rows.iter().map(|row| row.try_get_by_index::<i32>(0)).collect::<Result<HashSet<i32>, DbErr>>()?)
        }
        None => None,
    };
    let kinds: Option<HashSet<&str>> = filter.kinds.as_ref().map(|kinds| kinds.iter().map(|k| k.as_str()).collect());
    let country_id =
        filter.country.as_ref().map(|code| countries.iter().find(|(_, c)| &c.key == code).map(|(id, _)| *id));

    let mut sql = Sql::new(backend);
    sql.push("SELECT rm.municipality_id, rm.region_id FROM region_memberships rm JOIN regions r ON r.id = rm.region_id WHERE r.kind IN ('fylke', 'lan')");
    sql.and_valid_on("rm.valid_from", "rm.valid_to", filter.as_of);
    let mut county_of: HashMap<i32, i32> = HashMap::new();
    for row in conn.query_all_raw(sql.statement()).await? {
        county_of.entry(row.try_get_by_index(0)?).or_insert(row.try_get_by_index(1)?);
    }

    let mut organisations = Vec::new();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT id, slug, name, kind, country_id, municipality_id FROM organisations",
        ))
        .await?;
    for row in rows {
        let id: i32 = row.try_get_by_index(0)?;
        if !ends.contains(&id) {
            continue;
        }
        let kind: String = row.try_get_by_index(3)?;
        let country: Option<i32> = row.try_get_by_index(4)?;
        let municipality: Option<i32> = row.try_get_by_index(5)?;
        let allowed = kinds.as_ref().is_none_or(|kinds| kinds.contains(kind.as_str()))
            && country_id.is_none_or(|wanted| wanted.is_some() && country == wanted)
            && in_region.as_ref().is_none_or(|members| municipality.is_some_and(|m| members.contains(&m)));
        if allowed {
            organisations.push(Organisation {
                id,
                key: row.try_get_by_index(1)?,
                label: row.try_get_by_index(2)?,
                kind,
                country_id: country,
                municipality_id: municipality,
                region_id: municipality.and_then(|m| county_of.get(&m).copied()),
            });
        }
    }
    let kept: HashSet<i32> = organisations.iter().map(|o| o.id).collect();
    ties.retain(|tie| kept.contains(&tie.a) && kept.contains(&tie.b));
    Ok(Selection {
        organisations,
        municipalities: places(
            conn,
            "SELECT m.id, m.slug, m.name, c.code FROM municipalities m LEFT JOIN countries c ON c.id = m.country_id",
        )
        .await?,
        regions: places(
            conn,
            "SELECT r.id, r.slug, r.name, c.code FROM regions r LEFT JOIN countries c ON c.id = r.country_id \
             WHERE r.kind IN ('fylke', 'lan')",
        )
        .await?,
        countries,
        ties,
    })
}

/// `id → place` from a statement selecting id, key, label, country code.
async fn places<C: ConnectionTrait>(conn: &C, select: &str) -> Result<HashMap<i32, Place>, DbErr> {
    let rows = conn.query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), select)).await?;
    rows.iter().map(place).collect()
}

fn place(row: &QueryResult) -> Result<(i32, Place), DbErr> {
    Ok((
        row.try_get_by_index(0)?,
        Place { key: row.try_get_by_index(1)?, label: row.try_get_by_index(2)?, country: row.try_get_by_index(3)? },
    ))
}

/// The counts the query-cost check estimates network sizes from: a handful of aggregates,
/// read at start and refreshed now and then, never while a request waits.
pub async fn registry_counts<C: ConnectionTrait>(conn: &C) -> Result<RegistryCounts, DbErr> {
    let backend = conn.get_database_backend();
    let count = |select: &'static str| async move {
        let row = conn.query_one_raw(sea_orm::Statement::from_string(backend, select)).await?;
        let value: Option<i64> = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => None,
        };
        Ok::<u64, DbErr>(value.unwrap_or(0).max(0) as u64)
    };
    let organisations = count("SELECT COUNT(*) FROM organisations").await?;
    // Collaborations are ties of the default network; placements only when asked for.
    let other_ties = count("SELECT COUNT(*) FROM collaborations").await?;
    let placements = count("SELECT COUNT(*) FROM student_placements").await?;
    // Partner pairs per programme (k partners make k(k−1)/2 pairs), and partners per programme.
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT g.slug, CAST(SUM(per_project.k * (per_project.k - 1) / 2) AS BIGINT), MAX(per_project.k), \
                    (SELECT COUNT(DISTINCT pp.organisation_id) FROM project_partners pp \
                     JOIN projects p ON p.id = pp.project_id WHERE p.programme_id = g.id) \
             FROM programmes g \
             JOIN (SELECT p.programme_id, COUNT(*) AS k FROM project_partners pp \
                   JOIN projects p ON p.id = pp.project_id GROUP BY p.id, p.programme_id) per_project \
               ON per_project.programme_id = g.id \
             GROUP BY g.id, g.slug",
        ))
        .await?;
    let mut counts = RegistryCounts::default();
    let mut pairs = 0u64;
    for row in rows {
        let slug: String = row.try_get_by_index(0)?;
        let programme_pairs = as_count(&row, 1)?;
        counts.largest_project = counts.largest_project.max(as_count(&row, 2)?);
        let partners = as_count(&row, 3)?;
        pairs = pairs.saturating_add(programme_pairs);
        counts.programmes.insert(slug, Size { nodes: partners, edges: programme_pairs.saturating_add(other_ties) });
    }
    counts.organisations = Size { nodes: organisations, edges: pairs.saturating_add(other_ties) };
    counts.placements = placements;
    counts.municipalities = count("SELECT COUNT(*) FROM municipalities").await?;
    counts.regions = count("SELECT COUNT(*) FROM regions").await?;
    counts.countries = count("SELECT COUNT(*) FROM countries").await?;
    Ok(counts)
}

/// A count column (NULL for none).
fn as_count(row: &QueryResult, index: usize) -> Result<u64, DbErr> {
    let value: Option<i64> = row.try_get_by_index(index)?;
    Ok(value.unwrap_or(0).max(0) as u64)
}

/// The first of these slugs that names nothing, with what it should have named.
pub async fn unknown_slug<C: ConnectionTrait>(
    conn: &C,
    programme: Option<&str>,
    project: Option<&str>,
    region: Option<&str>,
) -> Result<Option<(&'static str, String)>, DbErr> {
    use entity::{programme, project, region};
    if let Some(slug) = programme
        && super::one_by::<programme::Entity, _>(conn, programme::Column::Slug, slug).await?.is_none()
    {
        return Ok(Some(("programme", slug.to_owned())));
    }
    if let Some(slug) = project
        && super::one_by::<project::Entity, _>(conn, project::Column::Slug, slug).await?.is_none()
    {
        return Ok(Some(("project", slug.to_owned())));
    }
    if let Some(slug) = region
        && super::one_by::<region::Entity, _>(conn, region::Column::Slug, slug).await?.is_none()
    {
        return Ok(Some(("region", slug.to_owned())));
    }
    Ok(None)
}
