//! `student_placements`: one row per student placement.

use crate::enums::PlacementKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "student_placements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub student_id: i32,
    pub host_organisation_id: i32,
    pub project_id: Option<i32>,
    pub kind: PlacementKind,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::student::Entity", from = "Column::StudentId", to = "super::student::Column::Id")]
    Student,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::HostOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    HostOrganisation,
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
