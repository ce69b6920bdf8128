//! `municipality_changes`: one row per (predecessor, successor) pair of a municipal reform: merger, split, transfer, recode, county change or name change. Splits and mergers are several rows with the same day.

use crate::enums::ChangeKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "municipality_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The day the change took effect (the first day of the new state).
    pub day: Date,
    pub kind: ChangeKind,
    /// The municipality before the change (null: not known, e.g. an unconfirmed old code).
    pub from_municipality_id: Option<i32>,
    /// The code it carried the day before (null: unknown or not a code change).
    pub from_code: Option<String>,
    pub from_name: Option<String>,
    /// The municipality after the change.
    pub to_municipality_id: Option<i32>,
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
    #[sea_orm(
        belongs_to = "super::municipality::Entity",
        from = "Column::FromMunicipalityId",
        to = "super::municipality::Column::Id"
    )]
    From,
    #[sea_orm(
        belongs_to = "super::municipality::Entity",
        from = "Column::ToMunicipalityId",
        to = "super::municipality::Column::Id"
    )]
    To,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
