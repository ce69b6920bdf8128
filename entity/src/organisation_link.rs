//! `organisation_links`: one organisation is part of, related to, or succeeded by another
//! (undated; dated mergers and renames are `organisation_changes`).

use crate::enums::OrganisationLinkKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organisation_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The organisation the link is about (the part, the predecessor).
    pub organisation_id: i32,
    /// The other one (the whole it is part of, its successor, a related one).
    pub related_organisation_id: i32,
    pub kind: OrganisationLinkKind,
    pub source_id: Option<i32>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::RelatedOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Related,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
