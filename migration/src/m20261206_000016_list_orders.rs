//! Indexes for the default order of the two longest lists, organisations and projects: by name
//! in byte order, then id (the keyset order of `db::queries::keyset`). Page 1 is then the
//! index's first entries and page 1 000 a seek into it, instead of a sort of every row.
//! PostgreSQL orders these lists with `COLLATE "C"`, so its indexes name that collation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] =
    [("ix_organisations_name_order", "organisations"), ("ix_projects_name_order", "projects")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "name COLLATE \"C\"",
            _ => "name",
        };
        for (index, table) in INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!("CREATE INDEX {index} ON {table} ({name}, id)"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (index, table) in INDEXES {
            manager.drop_index(Index::drop().name(index).table(table.to_owned()).to_owned()).await?;
        }
        Ok(())
    }
}
