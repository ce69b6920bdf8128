//! DataLoaders: every relation and every per-parent count the schema exposes is fetched here, in
//! one statement per batch of parents. Resolvers never query the database per parent.
//!
//! One `RegistryLoader` is built per request (so its cache never serves another client's
//! view), and each key type below is one edge or aggregate, named `<Target>By<Key>` or
//! `<Thing>Count<By>`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use chrono::NaiveDate;
use entity::*;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::OnceCell;

use crate::db::Db;
use crate::db::cache::AnalyticsCache;
use crate::db::events;
use crate::db::queries::{batch, metrics};
use crate::domain::metrics::{NodeKind, Period, PlacementStats, ProjectStats};

/// Loader errors are shared between all waiters of a batch.
pub type LoadError = Arc<DbErr>;

#[derive(Clone, Debug)]
pub struct RegistryLoader {
    conn: DatabaseConnection,
    /// The analytics pool ([`crate::db::Db::analytics`]): metrics statements queue there, so
    /// they never hold the connections cheap lookups need.
    analytics: DatabaseConnection,
    analytics_cache: AnalyticsCache,
    /// The data version this request's analytical answers are cached under, read once, when
    /// the first one is asked for; `None` on a WebSocket, whose subscriptions outlive versions
    /// (each batch reads the version then).
    data_version: Option<Arc<OnceCell<i64>>>,
    /// Admission to analytics ([`crate::db::Db::analytics_gate`]).
    gate: Arc<tokio::sync::Semaphore>,
    /// The request's analytics turn, shared by its loaders; `None` on a WebSocket, whose
    /// connection outlives requests (each batch then takes a permit for itself).
    turn: Option<AnalyticsTurn>,
}

/// A request's admission to analytics: taken with its first analytical statement, released
/// when the request's loaders are dropped at its end.
#[derive(Clone, Debug, Default)]
pub struct AnalyticsTurn(Arc<OnceCell<tokio::sync::OwnedSemaphorePermit>>);

/// A permit held for one batch (a WebSocket's), or nothing when the request holds its turn.
type BatchPermit = Option<tokio::sync::OwnedSemaphorePermit>;

/// The per-request loader; its analytics share `turn` with the request's metrics loader.
pub fn request_loader(db: &Db, turn: AnalyticsTurn) -> DataLoader<RegistryLoader> {
    DataLoader::new(RegistryLoader::new(db, Some(turn)), tokio::spawn).max_batch_size(500)
}

/// The loader metrics go through: its own DataLoader, which gathers keys for [`METRICS_GATHER`]
/// instead of the usual 1 ms. A page of 50 regions with ten metric fields each takes a few
/// milliseconds of resolver work to ask for all its keys; with 1 ms the first batch would leave
/// with the first few regions and every metric group would run as several statements over the
/// same facts (measured: 54 statements instead of 5 for all counties' metrics on `large`).
pub struct MetricsLoader(pub DataLoader<RegistryLoader>);

/// A cached analytical answer at least this heavy (by its cache weight: some 1 000 groups) still
/// waits for the request's analytics turn before it is resolved.
pub const LARGE_ANSWER_BYTES: usize = 1_000 * crate::db::cache::ROW_BYTES;

/// How long the metrics loader gathers keys before it runs a batch.
pub const METRICS_GATHER: std::time::Duration = std::time::Duration::from_millis(5);

/// The metrics loader of one request ([`request_loader`]'s sibling, sharing its `turn`).
pub fn request_metrics_loader(db: &Db, turn: AnalyticsTurn) -> MetricsLoader {
    MetricsLoader(
        DataLoader::new(RegistryLoader::new(db, Some(turn)), tokio::spawn).max_batch_size(500).delay(METRICS_GATHER),
    )
}

/// The metrics loader of a WebSocket connection ([`connection_loader`]'s sibling).
pub fn connection_metrics_loader(db: &Db) -> MetricsLoader {
    MetricsLoader(
        DataLoader::new(RegistryLoader::new(db, None), tokio::spawn).max_batch_size(500).delay(METRICS_GATHER),
    )
}

/// The loader of a WebSocket connection: like [`request_loader`], but every batch reads the
/// current data version, so a subscription's later messages are never answered from the cache
/// of an older one.
pub fn connection_loader(db: &Db) -> DataLoader<RegistryLoader> {
    DataLoader::new(RegistryLoader::new(db, None), tokio::spawn).max_batch_size(500)
}

impl RegistryLoader {
    fn new(db: &Db, per_request: Option<AnalyticsTurn>) -> Self {
        Self {
            conn: db.conn.clone(),
            analytics: db.analytics.clone(),
            analytics_cache: db.analytics_cache.clone(),
            data_version: per_request.is_some().then(Arc::default),
            gate: db.analytics_gate.clone(),
            turn: per_request,
        }
    }

    /// Waits for this request's analytics turn (or, on a WebSocket, a permit for one batch).
    async fn admitted(&self) -> Result<BatchPermit, DbErr> {
        let closed = |_| DbErr::Custom("the analytics gate is closed".into());
        match &self.turn {
            Some(turn) => {
                turn.0.get_or_try_init(|| self.gate.clone().acquire_owned()).await.map_err(closed)?;
                Ok(None)
            }
            None => Ok(Some(self.gate.clone().acquire_owned().await.map_err(closed)?)),
        }
    }

    /// The data version analytical answers are cached under (see `data_version`); 0 without
    /// a cache, where it is never used.
    async fn data_version(&self) -> Result<i64, DbErr> {
        if !self.analytics_cache.enabled() {
            return Ok(0);
        }
        match &self.data_version {
            Some(once) => Ok(*once.get_or_try_init(|| events::data_version(&self.conn)).await?),
            None => events::data_version(&self.conn).await,
        }
    }

    /// The analytical result for `key`: from the cross-request cache when this request's data
    /// version holds it, else computed by `compute` and stored (weighing `bytes(&value)`).
    pub async fn cached<T, F>(&self, key: String, bytes: impl Fn(&T) -> usize, compute: F) -> Result<T, DbErr>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T, DbErr>>,
    {
        let version = self.data_version().await?;
        if let Some(value) = self.analytics_cache.get::<T>(version, &key) {
            // A large answer costs tens of megabytes to resolve into a response even from
            // memory: it takes its analytics turn too, so a burst of them resolves a few at a
            // time instead of all at once (measured: 32 concurrent public placement questions
            // held 1.1 GB resident).
            // (On a WebSocket the permit covers only this wait: batches have no request turn.)
            if bytes(&value) >= LARGE_ANSWER_BYTES {
                self.admitted().await?;
            }
            return Ok(value);
        }
        let _permit = self.admitted().await?;
        let value = compute.await?;
        self.analytics_cache.insert(version, key, value.clone(), bytes(&value));
        Ok(value)
    }
}

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> i32) -> Vec<i32> {
    let mut ids: Vec<i32> = keys.iter().map(|key| id(*key)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Rows by id: `<Entity>ById(id)`.
macro_rules! by_id {
    ($($key:ident => $module:ident),+ $(,)?) => {
        $(
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $key(pub i32);

            impl Loader<$key> for RegistryLoader {
                type Value = $module::Model;
                type Error = LoadError;

                async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                    let rows = batch::by_ids::<$module::Entity, _>(&self.conn, &ids(keys, |k| k.0)).await?;
                    Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
                }
            }
        )+
    };
}

by_id!(
    CountryById => country,
    SourceById => source,
    RegionById => region,
    MunicipalityById => municipality,
    OrganisationById => organisation,
    ProgrammeById => programme,
    ProjectById => project,
    GoalById => goal,
    StudentById => student,
);

/// A foreign key column, required or optional.
trait ParentId {
    fn parent_id(self) -> Option<i32>;
}

impl ParentId for i32 {
    fn parent_id(self) -> Option<i32> {
        Some(self)
    }
}

impl ParentId for Option<i32> {
    fn parent_id(self) -> Option<i32> {
        self
    }
}

/// Child rows by a foreign key: `<Children>By<Parent>(parent id)`, with their parent column.
macro_rules! children_by {
    ($($key:ident => $module:ident . $column:ident / $field:ident),+ $(,)?) => {
        $(
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $key(pub i32);

            impl Loader<$key> for RegistryLoader {
                type Value = Vec<$module::Model>;
                type Error = LoadError;

                async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                    let grouped = batch::children::<$module::Entity, _>(
                        &self.conn,
                        $module::Column::$column,
                        &ids(keys, |k| k.0),
                        |row| ParentId::parent_id(row.$field),
                    )
                    .await?;
                    Ok(grouped.into_iter().map(|(parent, rows)| ($key(parent), rows)).collect())
                }
            }
        )+
    };
}

children_by!(
    RegionCodesByRegion => region_code.RegionId / region_id,
    ParentLinksByRegion => region_parent.RegionId / region_id,
    ChildLinksByRegion => region_parent.ParentId / parent_id,
    MunicipalityCodesByMunicipality => municipality_code.MunicipalityId / municipality_id,
    ChangesToMunicipality => municipality_change.ToMunicipalityId / to_municipality_id,
    ChangesFromMunicipality => municipality_change.FromMunicipalityId / from_municipality_id,
    NamesByMunicipality => municipality_name.MunicipalityId / municipality_id,
    ChangesToRegion => region_change.ToRegionId / to_region_id,
    ChangesFromRegion => region_change.FromRegionId / from_region_id,
    NamesByOrganisation => organisation_name.OrganisationId / organisation_id,
    ChangesToOrganisation => organisation_change.ToOrganisationId / to_organisation_id,
    ChangesFromOrganisation => organisation_change.FromOrganisationId / from_organisation_id,
    LinksFromOrganisation => organisation_link.OrganisationId / organisation_id,
    LinksToOrganisation => organisation_link.RelatedOrganisationId / related_organisation_id,
    OrganisationsRepresenting => organisation.RepresentsMunicipalityId / represents_municipality_id,
    PartnersByProject => project_partner.ProjectId / project_id,
    PartnersByOrganisation => project_partner.OrganisationId / organisation_id,
    ProjectsByProgramme => project.ProgrammeId / programme_id,
    GoalsByProject => goal.ProjectId / project_id,
    BudgetLinesByProject => project_budget_line.ProjectId / project_id,
    IndicatorValuesByGoal => indicator_value.GoalId / goal_id,
    IndicatorValuesByProject => indicator_value.ProjectId / project_id,
    CollaborationsByProject => collaboration.ProjectId / project_id,
    StudentsByEnrollingOrganisation => student.EnrollingOrganisationId / enrolling_organisation_id,
    StudentsByHomeMunicipality => student.HomeMunicipalityId / home_municipality_id,
    PlacementsByStudent => student_placement.StudentId / student_id,
    PlacementsByHost => student_placement.HostOrganisationId / host_organisation_id,
    PlacementsByProject => student_placement.ProjectId / project_id,
);

/// Per-parent counts: `<Thing>CountBy<Parent>(parent id)`.
macro_rules! count_by {
    ($($key:ident => $module:ident . $parent:ident counting $counted:ident),+ $(,)?) => {
        $(
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $key(pub i32);

            impl Loader<$key> for RegistryLoader {
                type Value = i64;
                type Error = LoadError;

                async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                    let counts = batch::count_by::<$module::Entity, _>(
                        &self.conn,
                        $module::Column::$parent,
                        $module::Column::$counted,
                        &ids(keys, |k| k.0),
                    )
                    .await?;
                    Ok(counts.into_iter().map(|(parent, n)| ($key(parent), n)).collect())
                }
            }
        )+
    };
}

count_by!(
    OrganisationCountBySeat => organisation.MunicipalityId counting Id,
    ProjectCountByOrganisation => project_partner.OrganisationId counting ProjectId,
    PartnerCountByProject => project_partner.ProjectId counting OrganisationId,
    ProjectCountByProgramme => project.ProgrammeId counting Id,
    GoalCountByProject => goal.ProjectId counting Id,
    StudentCountByOrganisation => student.EnrollingOrganisationId counting Id,
    StudentCountByMunicipality => student.HomeMunicipalityId counting Id,
);

/// Municipalities that belong to a region on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MunicipalityIdsByRegionOn(pub i32, pub NaiveDate);

impl Loader<MunicipalityIdsByRegionOn> for RegistryLoader {
    type Value = Vec<i32>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MunicipalityIdsByRegionOn],
    ) -> Result<HashMap<MunicipalityIdsByRegionOn, Self::Value>, Self::Error> {
        let mut result = HashMap::new();
        // Normally every key of a batch shares one date; group in case they do not.
        for day in distinct(keys.iter().map(|k| k.1)) {
            let region_ids = ids(keys, |k| k.0);
            for (region_id, municipality_id) in batch::memberships_of_regions(&self.conn, &region_ids, day).await? {
                result.entry(MunicipalityIdsByRegionOn(region_id, day)).or_insert_with(Vec::new).push(municipality_id);
            }
        }
        Ok(result)
    }
}

/// How many municipalities belong to a region on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MunicipalityCountByRegionOn(pub i32, pub NaiveDate);

impl Loader<MunicipalityCountByRegionOn> for RegistryLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MunicipalityCountByRegionOn],
    ) -> Result<HashMap<MunicipalityCountByRegionOn, Self::Value>, Self::Error> {
        let mut result = HashMap::new();
        for day in distinct(keys.iter().map(|k| k.1)) {
            let region_ids = ids(keys, |k| k.0);
            for (region_id, n) in batch::municipality_counts(&self.conn, &region_ids, day).await? {
                result.insert(MunicipalityCountByRegionOn(region_id, day), n);
            }
        }
        Ok(result)
    }
}

/// A municipality's region memberships (all, or those valid on a day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembershipsByMunicipality(pub i32, pub Option<NaiveDate>);

impl Loader<MembershipsByMunicipality> for RegistryLoader {
    type Value = Vec<region_membership::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembershipsByMunicipality],
    ) -> Result<HashMap<MembershipsByMunicipality, Self::Value>, Self::Error> {
        let mut result = HashMap::new();
        for day in distinct(keys.iter().map(|k| k.1)) {
            let municipality_ids = ids(keys, |k| k.0);
            for membership in batch::memberships_of_municipalities(&self.conn, &municipality_ids, day).await? {
                result
                    .entry(MembershipsByMunicipality(membership.municipality_id, day))
                    .or_insert_with(Vec::new)
                    .push(membership);
            }
        }
        Ok(result)
    }
}

/// Country codes of a project's acting partners, sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountriesByProject(pub i32);

impl Loader<CountriesByProject> for RegistryLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(&self, keys: &[CountriesByProject]) -> Result<HashMap<CountriesByProject, Self::Value>, Self::Error> {
        let mut result: HashMap<CountriesByProject, Vec<String>> = HashMap::new();
        for (project_id, code) in batch::project_partner_countries(&self.conn, &ids(keys, |k| k.0)).await? {
            result.entry(CountriesByProject(project_id)).or_default().push(code);
        }
        for codes in result.values_mut() {
            codes.sort();
        }
        Ok(result)
    }
}

/// Collaborations an organisation takes part in, on either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CollaborationsByOrganisation(pub i32);

impl Loader<CollaborationsByOrganisation> for RegistryLoader {
    type Value = Vec<collaboration::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CollaborationsByOrganisation],
    ) -> Result<HashMap<CollaborationsByOrganisation, Self::Value>, Self::Error> {
        let wanted = ids(keys, |k| k.0);
        let mut result: HashMap<CollaborationsByOrganisation, Vec<collaboration::Model>> = HashMap::new();
        for row in batch::collaborations_of(&self.conn, &wanted).await? {
            for side in [row.organisation_a_id, row.organisation_b_id] {
                if wanted.binary_search(&side).is_ok() {
                    result.entry(CollaborationsByOrganisation(side)).or_default().push(row.clone());
                }
            }
        }
        Ok(result)
    }
}

/// The first N organisations seated in a municipality (by name): `(municipality id, N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstOrganisationsBySeat(pub i32, pub usize);

impl Loader<FirstOrganisationsBySeat> for RegistryLoader {
    type Value = Vec<organisation::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FirstOrganisationsBySeat],
    ) -> Result<HashMap<FirstOrganisationsBySeat, Self::Value>, Self::Error> {
        let mut result: HashMap<FirstOrganisationsBySeat, Self::Value> = HashMap::new();
        for limit in distinct(keys.iter().map(|k| k.1)) {
            let parents = ids(&keys.iter().filter(|k| k.1 == limit).copied().collect::<Vec<_>>(), |k| k.0);
            for row in batch::first_organisations_by_seat(&self.conn, &parents, limit).await? {
                if let Some(seat) = row.municipality_id {
                    result.entry(FirstOrganisationsBySeat(seat, limit)).or_default().push(row);
                }
            }
        }
        Ok(result)
    }
}

/// The first N projects of an organisation (by name): `(organisation id, N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstProjectsByOrganisation(pub i32, pub usize);

impl Loader<FirstProjectsByOrganisation> for RegistryLoader {
    type Value = Vec<project::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FirstProjectsByOrganisation],
    ) -> Result<HashMap<FirstProjectsByOrganisation, Self::Value>, Self::Error> {
        let mut result: HashMap<FirstProjectsByOrganisation, Self::Value> = HashMap::new();
        for limit in distinct(keys.iter().map(|k| k.1)) {
            let parents = ids(&keys.iter().filter(|k| k.1 == limit).copied().collect::<Vec<_>>(), |k| k.0);
            for (organisation_id, project) in batch::first_projects_by_organisation(&self.conn, &parents, limit).await?
            {
                result.entry(FirstProjectsByOrganisation(organisation_id, limit)).or_default().push(project);
            }
        }
        Ok(result)
    }
}

/// The distinct values, sorted: one statement per distinct day or limit among a batch's keys.
fn distinct<T: Ord>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut values: Vec<T> = values.collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// The node, period and geography day of a metrics question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricsKey {
    pub kind: NodeKind,
    pub period: Period,
    pub as_of: NaiveDate,
    pub id: i32,
}

/// Keys grouped by (kind, period): each group is one statement per metric group, whatever the
/// days of its nodes, so a `compare` over three periods sends three, a page of regions one.
fn metrics_groups(keys: impl Iterator<Item = MetricsKey>) -> Vec<Vec<MetricsKey>> {
    let mut sorted: Vec<MetricsKey> = keys.collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.chunk_by(|a, b| (a.kind, a.period) == (b.kind, b.period)).map(<[MetricsKey]>::to_vec).collect()
}

/// One loader key per metric group, so a query pays only for the groups it selects.
macro_rules! metrics_loader {
    ($($key:ident => $query:ident -> $value:ty),+ $(,)?) => {
        $(
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $key(pub MetricsKey);

            impl Loader<$key> for RegistryLoader {
                type Value = $value;
                type Error = LoadError;

                // Each node's value is cached on its own, so a page, a split batch and a
                // single node share entries.
                async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                    let version = self.data_version().await?;
                    let cache_key = |key: &MetricsKey| format!(concat!(stringify!($query), " {:?}"), key);
                    let mut result = HashMap::new();
                    let mut missing = Vec::new();
                    for key in keys {
                        match self.analytics_cache.get::<Option<$value>>(version, &cache_key(&key.0)) {
                            Some(Some(value)) => { result.insert(*key, value); }
                            Some(None) => {}
                            None => missing.push(key.0),
                        }
                    }
                    let _permit = if missing.is_empty() { None } else { self.admitted().await? };
                    for group in metrics_groups(missing.into_iter()) {
                        let nodes: Vec<(i32, NaiveDate)> = group.iter().map(|key| (key.id, key.as_of)).collect();
                        let batch = metrics::Batch { kind: group[0].kind, nodes: &nodes, period: group[0].period };
                        let mut values = metrics::$query(&self.analytics, &batch).await?;
                        for (index, key) in group.into_iter().enumerate() {
                            let value = values.remove(&(index as i32));
                            self.analytics_cache.insert(version, cache_key(&key), value.clone(), crate::db::cache::ROW_BYTES);
                            if let Some(value) = value {
                                result.insert($key(key), value);
                            }
                        }
                    }
                    Ok(result)
                }
            }
        )+
    };
}

metrics_loader!(
    OrganisationKindsOf => organisations_by_kind -> Vec<(String, i64)>,
    ProjectStatsOf => project_stats -> ProjectStats,
    StudentsEnrolledOf => students_enrolled -> i64,
    PlacementStatsOf => placement_stats -> PlacementStats,
);
