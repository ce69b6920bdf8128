//! `regions`: one row per region.

use crate::enums::{LifecycleStatus, RegionKind};
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub search_name: String,
    pub short_name: Option<String>,
    pub kind: RegionKind,
    pub country_id: Option<i32>,
    pub status: LifecycleStatus,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub note: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::country::Entity", from = "Column::CountryId", to = "super::country::Column::Id")]
    Country,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
