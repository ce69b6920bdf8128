//! `programmes`: one row per programme.

use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "programmes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub search_name: String,
    pub full_name: Option<String>,
    pub country_id: Option<i32>,
    pub owner_organisation_id: Option<i32>,
    pub funder_organisation_id: Option<i32>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub period_text: Option<String>,
    pub source_id: Option<i32>,
    /// Where in the source the row came from (`organization.csv row 17`), for imported rows.
    pub source_locator: Option<String>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::country::Entity", from = "Column::CountryId", to = "super::country::Column::Id")]
    Country,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OwnerOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    OwnerOrganisation,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::FunderOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    FunderOrganisation,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
