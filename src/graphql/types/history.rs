//! Names by period and reforms as rows: who became whom, when and how, for municipalities,
//! counties and organisations; and the answer of a code translation.

use async_graphql::{Context, Object, Result, SimpleObject};
use entity::{municipality_change, municipality_name, organisation_change, organisation_name, region_change};

use super::actors::Organisation;
use super::common::{ChangeKind, Date, Source, date, load_one, source_of};
use super::geography::{Municipality, Region};
use crate::domain::dates::periods_overlap;
use crate::graphql::loaders::*;

/// A name over the period it was in use.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DatedName {
    pub name: String,
    /// First day in use (null: since before records).
    pub valid_from: Option<Date>,
    /// Last day in use (null: still in use).
    pub valid_to: Option<Date>,
    pub verified: bool,
    #[graphql(skip)]
    pub source_id: Option<i32>,
}

#[async_graphql::ComplexObject]
impl DatedName {
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        source_of(ctx, self.source_id).await
    }
}

impl From<municipality_name::Model> for DatedName {
    fn from(m: municipality_name::Model) -> Self {
        Self {
            name: m.name,
            valid_from: date(m.valid_from),
            valid_to: date(m.valid_to),
            verified: m.verified,
            source_id: m.source_id,
        }
    }
}

impl From<organisation_name::Model> for DatedName {
    fn from(m: organisation_name::Model) -> Self {
        Self {
            name: m.name,
            valid_from: date(m.valid_from),
            valid_to: date(m.valid_to),
            verified: m.verified,
            source_id: m.source_id,
        }
    }
}

/// Names oldest first; the one in use on `day`, if the rows say.
pub fn sorted_names(mut names: Vec<DatedName>) -> Vec<DatedName> {
    names.sort_by_key(|n| n.valid_from.map(|d| d.0));
    names
}

pub fn name_on(names: &[DatedName], day: chrono::NaiveDate) -> Option<String> {
    names
        .iter()
        .find(|n| periods_overlap(n.valid_from.map(|d| d.0), n.valid_to.map(|d| d.0), Some(day), Some(day)))
        .map(|n| n.name.clone())
}

/// A reform row type: the two tables differ only in what their sides point at.
macro_rules! change_object {
    ($(#[$doc:meta])* $name:ident($module:ident) => $side:ident by $load:ident, $from:ident, $to:ident) => {
        $(#[$doc])*
        pub struct $name(pub $module::Model);

        #[Object]
        impl $name {
            /// The first day of the new state.
            async fn day(&self) -> Date {
                Date(self.0.day)
            }
            async fn kind(&self) -> ChangeKind {
                self.0.kind.into()
            }
            /// The unit before the change (null when the source does not say).
            async fn from(&self, ctx: &Context<'_>) -> Result<Option<$side>> {
                $load(ctx, self.0.$from).await
            }
            /// Its code the day before (null: not known; an unconfirmed old code is never guessed).
            #[graphql(name = "fromCode")]
            async fn code_before(&self) -> Option<&str> {
                self.0.from_code.as_deref()
            }
            /// Its name the day before.
            #[graphql(name = "fromName")]
            async fn name_before(&self) -> Option<&str> {
                self.0.from_name.as_deref()
            }
            async fn to(&self, ctx: &Context<'_>) -> Result<Option<$side>> {
                $load(ctx, self.0.$to).await
            }
            /// Its code from that day.
            #[graphql(name = "toCode")]
            async fn code_after(&self) -> Option<&str> {
                self.0.to_code.as_deref()
            }
            /// Its name from that day.
            #[graphql(name = "toName")]
            async fn name_after(&self) -> Option<&str> {
                self.0.to_name.as_deref()
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
        }
    };
}

change_object!(
    /// One predecessor → successor pair of a municipal reform (a merger of three is three rows).
    MunicipalityChange(municipality_change) => Municipality by municipality, from_municipality_id, to_municipality_id
);

change_object!(
    /// One predecessor → successor pair of a county reform (Viken's split is three rows).
    RegionChange(region_change) => Region by region, from_region_id, to_region_id
);

async fn municipality(ctx: &Context<'_>, id: Option<i32>) -> Result<Option<Municipality>> {
    match id {
        Some(id) => Ok(load_one(ctx, MunicipalityById(id)).await?.map(Municipality)),
        None => Ok(None),
    }
}

async fn region(ctx: &Context<'_>, id: Option<i32>) -> Result<Option<Region>> {
    match id {
        Some(id) => Ok(load_one(ctx, RegionById(id)).await?.map(Region)),
        None => Ok(None),
    }
}

/// An organisation that became another: a merger (Høgskolen i Telemark into Høgskolen i
/// Sørøst-Norge, 2016-01-01) or a rename (into Universitetet i Sørøst-Norge, 2018-05-04).
pub struct OrganisationChange(pub organisation_change::Model);

#[Object]
impl OrganisationChange {
    async fn day(&self) -> Date {
        Date(self.0.day)
    }
    async fn kind(&self) -> ChangeKind {
        self.0.kind.into()
    }
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(load_one(ctx, OrganisationById(self.0.from_organisation_id)).await?.map(Organisation))
    }
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(load_one(ctx, OrganisationById(self.0.to_organisation_id)).await?.map(Organisation))
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
}

/// What one code on one day corresponds to on another.
pub struct CodeTranslation {
    pub code: String,
    pub from: Date,
    pub to: Date,
    pub source: Option<i32>,
    pub matches: Vec<(i32, Option<String>)>,
}

#[Object]
impl CodeTranslation {
    /// The code asked about.
    async fn code(&self) -> &str {
        &self.code
    }
    async fn from(&self) -> Date {
        self.from
    }
    async fn to(&self) -> Date {
        self.to
    }
    /// False when no municipality carried the code on `from`.
    async fn found(&self) -> bool {
        self.source.is_some()
    }
    /// The municipality that carried the code on `from`.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        municipality(ctx, self.source).await
    }
    /// The municipalities on `to` that correspond to it (several after a split, or backwards
    /// across a merger), by code.
    async fn matches(&self) -> Vec<CodeMatch> {
        self.matches.iter().map(|(id, code)| CodeMatch { id: *id, code: code.clone() }).collect()
    }
    /// Just their codes on `to` (a municipality with no known code then is left out).
    async fn codes(&self) -> Vec<String> {
        self.matches.iter().filter_map(|(_, code)| code.clone()).collect()
    }
}

/// A municipality a code corresponds to, with its code on the target day.
pub struct CodeMatch {
    id: i32,
    code: Option<String>,
}

#[Object]
impl CodeMatch {
    /// Its code on the target day (null when the source does not give it).
    async fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        municipality(ctx, Some(self.id)).await
    }
}
