//! `goals`: one row per goal.

use crate::enums::{Comparator, GoalKind};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "goals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub project_id: i32,
    pub kind: GoalKind,
    pub kind_label: String,
    pub text: String,
    pub target_value: Option<f64>,
    pub target_comparator: Option<Comparator>,
    pub target_unit: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
