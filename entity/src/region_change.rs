//! `region_changes`: one row per (predecessor, successor) pair of a county reform (fylke, län).

use crate::enums::ChangeKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "region_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The day the change took effect (the first day of the new state).
    pub day: Date,
    pub kind: ChangeKind,
    /// The region before the change (null: not known, e.g. an unconfirmed old code).
    pub from_region_id: Option<i32>,
    /// The code it carried the day before (null: unknown or not a code change).
    pub from_code: Option<String>,
    pub from_name: Option<String>,
    /// The region after the change.
    pub to_region_id: Option<i32>,
    pub to_code: Option<String>,
    pub to_name: Option<String>,
    pub note: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::region::Entity", from = "Column::FromRegionId", to = "super::region::Column::Id")]
    From,
    #[sea_orm(belongs_to = "super::region::Entity", from = "Column::ToRegionId", to = "super::region::Column::Id")]
    To,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
