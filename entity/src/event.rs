//! `events`: the outbox and audit trail. One row per committed change, written in the change's
//! own transaction; `seq` orders them and is the cursor subscribers resume from.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The table changed (`projects`, `region_memberships`, …).
    pub entity: String,
    pub entity_id: i32,
    pub slug: Option<String>,
    /// `create`, `update`, `delete` or `end`.
    pub operation: String,
    /// The row's version after the change (the last version for a delete).
    pub version: i32,
    /// Who made the change: the token subject, or `cli`/`demo` for local loads.
    pub actor: String,
    pub occurred_at: DateTimeUtc,
    /// The row as JSON after the change (before it, for a delete).
    pub data: Option<String>,
    /// The row as JSON before an update (none for a create or delete).
    pub previous: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
