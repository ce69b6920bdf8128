//! `organisations`: one row per organisation.

use crate::enums::OrganisationKind;
use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub search_name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub kind_label: Option<String>,
    pub country_id: Option<i32>,
    pub municipality_id: Option<i32>,
    pub represents_municipality_id: Option<i32>,
    pub org_number: Option<String>,
    pub ror: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
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
        belongs_to = "super::municipality::Entity",
        from = "Column::MunicipalityId",
        to = "super::municipality::Column::Id"
    )]
    Municipality,
    #[sea_orm(
        belongs_to = "super::municipality::Entity",
        from = "Column::RepresentsMunicipalityId",
        to = "super::municipality::Column::Id"
    )]
    RepresentsMunicipality,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
