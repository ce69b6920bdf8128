//! Keeps the database on the shipped reference map: on start (and before an import) the
//! release fingerprint stored in `reference_releases` is compared with the binary's; only when
//! they differ is the map built and imported — through the ordinary importer, so a new release
//! writes just what changed, with its change events.

use chrono::Utc;
use entity::reference_release;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::Db;
use super::import::{ImportSummary, import_records};
use crate::domain::reference;

/// The `reference_releases` row of the municipality/county/NUTS map.
const MAP_RELEASE: &str = "reference-map";

/// Loads the shipped map unless the database already holds this release of it. Returns what
/// the import wrote, or `None` when nothing had to be done (one indexed read).
pub async fn ensure_loaded(db: &Db) -> Result<Option<ImportSummary>, DbErr> {
    let fingerprint = reference::builtin_fingerprint();
    let stored =
        reference_release::Entity::find().filter(reference_release::Column::Name.eq(MAP_RELEASE)).one(&db.conn).await?;
    if stored.as_ref().is_some_and(|row| row.fingerprint == fingerprint) {
        return Ok(None);
    }
    let map = reference::builtin().map_err(|reason| DbErr::Custom(format!("the shipped reference map: {reason}")))?;
    let summary = import_records(db, &map.records, "reference").await.map_err(|error| match error {
        super::write::WriteError::Db(error) => error,
        other => DbErr::Custom(format!("the shipped reference map: {other}")),
    })?;
    // A crash before this write only means the next start imports again, which writes nothing.
    match stored {
        Some(row) => {
            let mut row = row.into_active_model();
            row.fingerprint = Set(fingerprint);
            row.loaded_at = Set(Utc::now());
            row.update(&db.conn).await?;
        }
        None => {
            reference_release::ActiveModel {
                name: Set(MAP_RELEASE.into()),
                fingerprint: Set(fingerprint),
                loaded_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&db.conn)
            .await?;
        }
    }
    Ok(Some(summary))
}
