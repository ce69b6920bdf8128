//! Countries, regions, municipalities and their dated codes and memberships.

use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use entity::{country, municipality, municipality_code, region, region_code, region_membership, region_parent};

use super::actors::Organisation;
use super::common::{
    CodeScheme, Date, LifecycleStatus, RegionKind, Source, SuppressedCount, as_of_or_today, date, load_one, source_of,
};
use super::history::{DatedName, MunicipalityChange, RegionChange, name_on, sorted_names};
use super::nested_limit;
use crate::domain::dates::periods_overlap;
use crate::graphql::direct::Direct;
use crate::graphql::loaders::*;

/// A country (ISO 3166-1 alpha-2).
pub struct Country(pub country::Model);

#[Object]
impl Country {
    /// What the country's organisations did in `period` (default: all time).
    async fn metrics(
        &self,
        period: Option<super::common::PeriodInput>,
        as_of: Option<super::common::Date>,
    ) -> async_graphql::Result<super::metrics::Metrics> {
        super::metrics::Metrics::new(
            crate::domain::metrics::NodeKind::Country,
            self.0.id,
            period,
            as_of,
            chrono::Utc::now().date_naive(),
        )
    }

    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// ISO 3166-1 alpha-2 code, e.g. `NO`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }
    async fn eu_member(&self) -> bool {
        self.0.eu_member
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}

pub async fn country_of(ctx: &Context<'_>, id: Option<i32>) -> Result<Option<Country>> {
    match id {
        Some(id) => Ok(load_one(ctx, CountryById(id)).await?.map(Country)),
        None => Ok(None),
    }
}

/// An official code with the period it was valid.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Code {
    pub scheme: CodeScheme,
    pub value: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// For NUTS codes: the NUTS version(s) the code belongs to.
    pub nuts_version: Option<String>,
    pub verified: bool,
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    pub version: i32,
    #[graphql(skip)]
    pub source_id: Option<i32>,
}

#[ComplexObject]
impl Code {
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.source_id).await
    }
}

impl From<region_code::Model> for Code {
    fn from(m: region_code::Model) -> Self {
        Self {
            scheme: m.scheme.into(),
            value: m.value,
            valid_from: date(m.valid_from),
            valid_to: date(m.valid_to),
            nuts_version: m.nuts_version,
            verified: m.verified,
            version: m.version,
            source_id: m.source_id,
        }
    }
}

impl From<municipality_code::Model> for Code {
    fn from(m: municipality_code::Model) -> Self {
        Self {
            scheme: m.scheme.into(),
            value: m.value,
            valid_from: date(m.valid_from),
            valid_to: date(m.valid_to),
            nuts_version: None,
            verified: m.verified,
            version: m.version,
            source_id: m.source_id,
        }
    }
}

/// Codes of `scheme` (all schemes when `None`) valid on `as_of` (all periods when `None`), oldest first.
fn select_codes(mut codes: Vec<Code>, scheme: Option<CodeScheme>, as_of: Option<Date>) -> Vec<Code> {
    codes.retain(|code| {
        scheme.is_none_or(|s| s == code.scheme)
            && as_of.is_none_or(|day| {
                periods_overlap(code.valid_from.map(|d| d.0), code.valid_to.map(|d| d.0), Some(day.0), Some(day.0))
            })
    });
    codes.sort_by_key(|code| (code.valid_from.map(|d| d.0), code.value.clone()));
    codes
}

/// A fylke, län, NUTS region or named sub-region.
pub struct Region(pub region::Model);

/// The map day a region's metrics use by default: today, or its last day if it has ended.
pub fn region_default_day(region: &region::Model) -> chrono::NaiveDate {
    let today = chrono::Utc::now().date_naive();
    region.valid_to.filter(|end| *end < today).unwrap_or(today)
}

#[Object]
impl Region {
    /// What the organisations seated in the region's municipalities did in `period` (default: all time). Membership is taken on `asOf` (default today, or the region's last day if it has ended), so reforms don't move history: ask with one `asOf` to compare periods on one map.
    async fn metrics(
        &self,
        period: Option<super::common::PeriodInput>,
        as_of: Option<super::common::Date>,
    ) -> async_graphql::Result<super::metrics::Metrics> {
        super::metrics::Metrics::new(
            crate::domain::metrics::NodeKind::Region,
            self.0.id,
            period,
            as_of,
            region_default_day(&self.0),
        )
    }

    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    async fn kind(&self) -> RegionKind {
        self.0.kind.into()
    }
    async fn status(&self) -> LifecycleStatus {
        self.0.status.into()
    }
    /// First day the region existed, when known (null: since before records).
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    /// Last day the region existed (null: still exists).
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Country>> {
        country_of(ctx, self.0.country_id).await
    }

    /// Codes of the region; filter by scheme and by the day they were valid.
    async fn codes(&self, ctx: &Context<'_>, scheme: Option<CodeScheme>, as_of: Option<Date>) -> Result<Vec<Code>> {
        let codes = load_one(ctx, RegionCodesByRegion(self.0.id)).await?.unwrap_or_default();
        Ok(select_codes(codes.into_iter().map(Code::from).collect(), scheme, as_of))
    }

    /// The code of `scheme` valid on `asOf` (default today), e.g. `code(scheme: FYLKESNUMMER, asOf: "2018-06-01")`.
    async fn code(&self, ctx: &Context<'_>, scheme: CodeScheme, as_of: Option<Date>) -> Result<Option<String>> {
        let day = Date(as_of_or_today(as_of));
        let codes = load_one(ctx, RegionCodesByRegion(self.0.id)).await?.unwrap_or_default();
        Ok(select_codes(codes.into_iter().map(Code::from).collect(), Some(scheme), Some(day)).pop().map(|c| c.value))
    }

    /// County reforms the region took part in (mergers and splits of fylker and län), oldest first.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<RegionChange>> {
        let mut rows = load_one(ctx, ChangesToRegion(self.0.id)).await?.unwrap_or_default();
        let from = load_one(ctx, ChangesFromRegion(self.0.id)).await?.unwrap_or_default();
        rows.extend(from.into_iter().filter(|c| c.to_region_id != Some(self.0.id)));
        rows.sort_by_key(|c| (c.day, c.id));
        Ok(rows.into_iter().map(RegionChange).collect())
    }

    /// Regions this one lies in (NUTS hierarchy, fylke/län → its NUTS-3 region, sub-region →
    /// fylke/län), on `asOf` when given.
    async fn parents(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<RegionLink>> {
        let links = load_one(ctx, ParentLinksByRegion(self.0.id)).await?.unwrap_or_default();
        Ok(links.into_iter().filter(|l| link_holds(l, as_of)).map(|link| RegionLink { link, upward: true }).collect())
    }

    /// Regions that lie in this one, on `asOf` when given.
    async fn children(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<RegionLink>> {
        let links = load_one(ctx, ChildLinksByRegion(self.0.id)).await?.unwrap_or_default();
        Ok(links.into_iter().filter(|l| link_holds(l, as_of)).map(|link| RegionLink { link, upward: false }).collect())
    }

    /// Member municipalities on `asOf` (default today), by name.
    #[graphql(complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false)))]
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Direct<Municipality>>> {
        let limit = nested_limit(first)?;
        let ids = load_one(ctx, MunicipalityIdsByRegionOn(self.0.id, as_of_or_today(as_of))).await?.unwrap_or_default();
        let mut municipalities: Vec<municipality::Model> = super::common::loader(ctx)
            .load_many(ids.into_iter().map(MunicipalityById))
            .await
            .map_err(|e| crate::graphql::error::internal(&e))?
            .into_values()
            .collect();
        municipalities.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(municipalities.into_iter().take(limit).map(|row| Direct(Municipality(row))).collect())
    }

    /// How many municipalities belonged to the region on `asOf` (default today).
    async fn municipality_count(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<i64> {
        Ok(load_one(ctx, MunicipalityCountByRegionOn(self.0.id, as_of_or_today(as_of))).await?.unwrap_or(0))
    }
    /// How many students live in the region's municipalities on `asOf` (by home municipality;
    /// suppressed below k = 5 for the public).
    async fn student_count(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<SuppressedCount> {
        let municipalities =
            load_one(ctx, MunicipalityIdsByRegionOn(self.0.id, as_of_or_today(as_of))).await?.unwrap_or_default();
        let counts = super::common::loader(ctx)
            .load_many(municipalities.into_iter().map(StudentCountByMunicipality))
            .await
            .map_err(|e| crate::graphql::error::internal(&e))?;
        Ok(SuppressedCount::for_caller(ctx, counts.values().sum()))
    }
}

fn link_holds(link: &region_parent::Model, as_of: Option<Date>) -> bool {
    as_of.is_none_or(|day| periods_overlap(link.valid_from, link.valid_to, Some(day.0), Some(day.0)))
}

/// A dated parent/child link between two regions.
pub struct RegionLink {
    link: region_parent::Model,
    /// True when `region` is the parent (seen from the child).
    upward: bool,
}

impl RegionLink {
    /// The link seen from the child (`upward`) or from the parent.
    pub fn new(link: region_parent::Model, upward: bool) -> Self {
        Self { link, upward }
    }
}

#[Object]
impl RegionLink {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.link.version
    }
    /// The region at the other end of the link.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let id = if self.upward { self.link.parent_id } else { self.link.region_id };
        Ok(load_one(ctx, RegionById(id)).await?.map(Region))
    }
    async fn nuts_version(&self) -> Option<&str> {
        self.link.nuts_version.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        date(self.link.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.link.valid_to)
    }
    async fn verified(&self) -> bool {
        self.link.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.link.source_id).await
    }
}

/// A kommune / kommun. Dissolved municipalities keep their row and point to their successor.
pub struct Municipality(pub municipality::Model);

#[Object]
impl Municipality {
    /// What the organisations seated in the municipality did in `period` (default: all time).
    async fn metrics(
        &self,
        period: Option<super::common::PeriodInput>,
        as_of: Option<super::common::Date>,
    ) -> async_graphql::Result<super::metrics::Metrics> {
        super::metrics::Metrics::new(
            crate::domain::metrics::NodeKind::Municipality,
            self.0.id,
            period,
            as_of,
            chrono::Utc::now().date_naive(),
        )
    }

    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// How many students have this as home municipality (suppressed below k = 5 for the public).
    async fn student_count(&self, ctx: &Context<'_>) -> Result<SuppressedCount> {
        let n = load_one(ctx, StudentCountByMunicipality(self.0.id)).await?.unwrap_or(0);
        Ok(SuppressedCount::for_caller(ctx, n))
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The official name (with Sami or Kven forms where they are part of it), on `asOf` when
    /// given (default: the current name).
    async fn name(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<String> {
        if let Some(day) = as_of {
            let names = load_one(ctx, NamesByMunicipality(self.0.id)).await?.unwrap_or_default();
            let names: Vec<DatedName> = names.into_iter().map(DatedName::from).collect();
            if let Some(name) = name_on(&names, day.0) {
                return Ok(name);
            }
        }
        Ok(self.0.name.clone())
    }
    /// Every name it has carried, oldest first.
    async fn names(&self, ctx: &Context<'_>) -> Result<Vec<DatedName>> {
        let names = load_one(ctx, NamesByMunicipality(self.0.id)).await?.unwrap_or_default();
        Ok(sorted_names(names.into_iter().map(DatedName::from).collect()))
    }
    async fn status(&self) -> LifecycleStatus {
        self.0.status.into()
    }
    async fn established_on(&self) -> Option<Date> {
        date(self.0.established_on)
    }
    /// Last day before the successor took over.
    async fn dissolved_on(&self) -> Option<Date> {
        date(self.0.dissolved_on)
    }
    async fn admin_centre(&self) -> Option<&str> {
        self.0.admin_centre.as_deref()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Country>> {
        country_of(ctx, Some(self.0.country_id)).await
    }
    async fn successor(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        match self.0.successor_id {
            Some(id) => Ok(load_one(ctx, MunicipalityById(id)).await?.map(Municipality)),
            None => Ok(None),
        }
    }
    /// Every reform the municipality took part in, on either side, oldest first: mergers,
    /// splits, transfers of area, renumberings, county changes and name changes.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<MunicipalityChange>> {
        let mut rows = load_one(ctx, ChangesToMunicipality(self.0.id)).await?.unwrap_or_default();
        let from = load_one(ctx, ChangesFromMunicipality(self.0.id)).await?.unwrap_or_default();
        rows.extend(from.into_iter().filter(|c| c.to_municipality_id != Some(self.0.id)));
        rows.sort_by_key(|c| (c.day, c.id));
        Ok(rows.into_iter().map(MunicipalityChange).collect())
    }
    /// Other municipalities whose area became (part of) this one, by name.
    async fn predecessors(&self, ctx: &Context<'_>) -> Result<Vec<Direct<Municipality>>> {
        let rows = load_one(ctx, ChangesToMunicipality(self.0.id)).await?.unwrap_or_default();
        let ids = rows.iter().filter_map(|c| c.from_municipality_id).filter(|id| *id != self.0.id);
        others(ctx, ids).await
    }
    /// Other municipalities that took over (part of) this one's area, by name.
    async fn successors(&self, ctx: &Context<'_>) -> Result<Vec<Direct<Municipality>>> {
        let rows = load_one(ctx, ChangesFromMunicipality(self.0.id)).await?.unwrap_or_default();
        let ids = rows.iter().filter_map(|c| c.to_municipality_id).filter(|id| *id != self.0.id);
        others(ctx, ids).await
    }

    /// Codes of the municipality; filter by scheme and by the day they were valid.
    async fn codes(&self, ctx: &Context<'_>, scheme: Option<CodeScheme>, as_of: Option<Date>) -> Result<Vec<Code>> {
        let codes = load_one(ctx, MunicipalityCodesByMunicipality(self.0.id)).await?.unwrap_or_default();
        Ok(select_codes(codes.into_iter().map(Code::from).collect(), scheme, as_of))
    }

    /// The code of `scheme` valid on `asOf` (default today): Nome is 0819 in 2018, 3816 in 2022, 4018 in 2025.
    async fn code(&self, ctx: &Context<'_>, scheme: CodeScheme, as_of: Option<Date>) -> Result<Option<String>> {
        let day = Date(as_of_or_today(as_of));
        let codes = load_one(ctx, MunicipalityCodesByMunicipality(self.0.id)).await?.unwrap_or_default();
        Ok(select_codes(codes.into_iter().map(Code::from).collect(), Some(scheme), Some(day)).pop().map(|c| c.value))
    }

    /// Region memberships, all of them or those valid on `asOf`.
    async fn memberships(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Direct<RegionMembership>>> {
        let rows = load_one(ctx, MembershipsByMunicipality(self.0.id, as_of.map(|d| d.0))).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Direct(RegionMembership(row))).collect())
    }

    /// Regions the municipality belonged to on `asOf` (default today), optionally of some kinds.
    async fn regions(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
        kinds: Option<Vec<RegionKind>>,
    ) -> Result<Vec<Direct<Region>>> {
        let day = as_of_or_today(as_of);
        let rows = load_one(ctx, MembershipsByMunicipality(self.0.id, Some(day))).await?.unwrap_or_default();
        let regions = super::common::loader(ctx)
            .load_many(rows.iter().map(|m| RegionById(m.region_id)))
            .await
            .map_err(|e| crate::graphql::error::internal(&e))?;
        let mut regions: Vec<region::Model> = regions
            .into_values()
            .filter(|r| {
                kinds.as_ref().is_none_or(|kinds| kinds.iter().any(|k| entity::enums::RegionKind::from(*k) == r.kind))
            })
            .collect();
        regions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(regions.into_iter().map(|row| Direct(Region(row))).collect())
    }

    /// Organisations seated in the municipality, by name.
    #[graphql(complexity = "crate::graphql::cost::nested(first, child_complexity)", directive = crate::graphql::cost::list_size::apply(Some(50), Some(vec!["first".into()]), Some(false)))]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Direct<Organisation>>> {
        let limit = nested_limit(first)?;
        // Windowed in SQL: a big municipality's thousands of organisations never leave the database.
        let mut rows = load_one(ctx, FirstOrganisationsBySeat(self.0.id, limit)).await?.unwrap_or_default();
        rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(rows.into_iter().map(|row| Direct(Organisation(row))).collect())
    }

    async fn organisation_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(load_one(ctx, OrganisationCountBySeat(self.0.id)).await?.unwrap_or(0))
    }

    /// The organisation that stands for this municipality when it acts as a project partner.
    async fn as_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let rows = load_one(ctx, OrganisationsRepresenting(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().next().map(Organisation))
    }
}

/// The municipalities `ids` (distinct), by name.
async fn others(ctx: &Context<'_>, ids: impl Iterator<Item = i32>) -> Result<Vec<Direct<Municipality>>> {
    let ids: std::collections::BTreeSet<i32> = ids.collect();
    let mut rows: Vec<municipality::Model> = super::common::loader(ctx)
        .load_many(ids.into_iter().map(MunicipalityById))
        .await
        .map_err(|e| crate::graphql::error::internal(&e))?
        .into_values()
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(rows.into_iter().map(|row| Direct(Municipality(row))).collect())
}

/// A municipality's membership of a region over a period.
pub struct RegionMembership(pub region_membership::Model);

#[Object]
impl RegionMembership {
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        Ok(load_one(ctx, RegionById(self.0.region_id)).await?.map(Region))
    }
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        Ok(load_one(ctx, MunicipalityById(self.0.municipality_id)).await?.map(Municipality))
    }
    async fn valid_from(&self) -> Option<Date> {
        date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Option<Date> {
        date(self.0.valid_to)
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.0.source_id).await
    }
}
