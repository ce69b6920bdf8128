//! An index on organisations by seat, then name in byte order, then id: the first organisations
//! of a municipality (the graph's nested read, `organisations(first:)`) are then the index's
//! first entries for that seat, not every organisation seated there sorted (a city seats
//! hundreds). PostgreSQL sorts these lists with `COLLATE "C"` (byte order, as SQLite and the
//! server do), so its index names that collation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_organisations_seat_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "name COLLATE \"C\"",
            _ => "name",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!("CREATE INDEX {INDEX} ON organisations (municipality_id, {name}, id)"))
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table("organisations".to_owned()).to_owned()).await
    }
}
