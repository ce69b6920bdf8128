//! `organisation_changes`: one row per (predecessor, successor) pair of an organisation merger, split or rename.

use crate::enums::ChangeKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organisation_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The day the change took effect (the first day of the successor).
    pub day: Date,
    pub kind: ChangeKind,
    pub from_organisation_id: i32,
    pub to_organisation_id: i32,
    pub note: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::FromOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    From,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::ToOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    To,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
