//! `reference_releases`: which release of the built-in reference map (municipalities, counties,
//! NUTS) the database holds, so a start only reloads it when the shipped files changed.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "reference_releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `reference-map` (one row per kind of reference data).
    #[sea_orm(unique)]
    pub name: String,
    /// A hash of the shipped files the rows were loaded from.
    pub fingerprint: String,
    pub loaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
