//! `students`: one row per student.

use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "students")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub home_municipality_id: Option<i32>,
    pub enrolling_organisation_id: i32,
    pub field_of_study: Option<String>,
    pub enrolled_from: Date,
    pub enrolled_to: Option<Date>,
    pub synthetic: bool,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::municipality::Entity",
        from = "Column::HomeMunicipalityId",
        to = "super::municipality::Column::Id"
    )]
    HomeMunicipality,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::EnrollingOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    EnrollingOrganisation,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
