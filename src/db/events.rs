//! The events outbox: every committed change writes one row here in its own transaction, so the
//! audit trail and the subscription feed (DESIGN §4) can never disagree with the data.

use entity::event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, NotSet, Set};

/// What happened to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// A row closed by date rather than removed (a dissolved municipality, an ended membership).
    End,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::End => "end",
        }
    }
}

/// One change to record.
#[derive(Clone, Debug)]
pub struct Change {
    pub entity: &'static str,
    pub entity_id: i32,
    pub slug: Option<String>,
    pub operation: Operation,
    pub version: i32,
    /// The row as JSON after the change (before it, for a delete).
    pub data: Option<String>,
}

impl Change {
    /// A change to `row` of `table`, with the row's JSON as data.
    pub fn of<M: serde::Serialize>(
        entity: &'static str,
        entity_id: i32,
        slug: Option<String>,
        operation: Operation,
        version: i32,
        row: &M,
    ) -> Self {
        Self { entity, entity_id, slug, operation, version, data: serde_json::to_string(row).ok() }
    }
}

/// Appends `change` to the outbox on `conn` (always the change's own transaction).
pub async fn record(conn: &impl ConnectionTrait, actor: &str, change: Change) -> Result<event::Model, DbErr> {
    event::ActiveModel {
        seq: NotSet,
        entity: Set(change.entity.to_owned()),
        entity_id: Set(change.entity_id),
        slug: Set(change.slug),
        operation: Set(change.operation.as_str().to_owned()),
        version: Set(change.version),
        actor: Set(actor.to_owned()),
        occurred_at: Set(chrono::Utc::now()),
        data: Set(change.data),
    }
    .insert(conn)
    .await
}

/// Events after `after` (a sequence number), oldest first, at most `limit`; optionally of one table.
pub async fn list(
    conn: &impl ConnectionTrait,
    after: i64,
    entity: Option<&str>,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = event::Entity::find().filter(event::Column::Seq.gt(after));
    if let Some(entity) = entity {
        query = query.filter(event::Column::Entity.eq(entity));
    }
    query.order_by_asc(event::Column::Seq).limit(limit).all(conn).await
}
