//! `region_codes`: one row per region code.

use crate::enums::CodeScheme;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "region_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub region_id: i32,
    pub scheme: CodeScheme,
    pub value: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub nuts_version: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::region::Entity", from = "Column::RegionId", to = "super::region::Column::Id")]
    Region,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
