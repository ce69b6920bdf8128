//! `collaborations`: one row per collaboration.

use crate::enums::CollaborationKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "collaborations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub organisation_a_id: i32,
    pub organisation_b_id: i32,
    pub kind: CollaborationKind,
    pub project_id: Option<i32>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub description: Option<String>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationAId",
        to = "super::organisation::Column::Id"
    )]
    OrganisationA,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationBId",
        to = "super::organisation::Column::Id"
    )]
    OrganisationB,
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
