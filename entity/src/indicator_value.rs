//! `indicator_values`: one row per indicator value.

use crate::enums::Comparator;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "indicator_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub project_id: i32,
    pub goal_id: Option<i32>,
    pub text: String,
    pub value: Option<f64>,
    pub comparator: Option<Comparator>,
    pub approximate: bool,
    pub unit: Option<String>,
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    pub period_text: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(belongs_to = "super::goal::Entity", from = "Column::GoalId", to = "super::goal::Column::Id")]
    Goal,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
