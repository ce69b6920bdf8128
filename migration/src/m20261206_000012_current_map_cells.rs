//! `partnership_cells`: partnerships, distinct projects and distinct organisations per region
//! of today's map (each region's open epoch in `metric_nodes`) and project start year — the
//! answer to "partnerships by region × year", which distinct counts keep from being summed out
//! of monthly rollups. Derived like the other fact tables (`db::cells`): kept in the write's
//! transaction, rebuilt whole after bulk loads; emptying `metric_nodes` has `Db::migrate`
//! rebuild them all, this table included.
//!
//! Also an index on `partnership_facts` by seat and start year, so that recomputing one
//! region's year reads only its rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().not_null().to_owned()
}

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = Index::create();
        key.col("region_id".to_owned()).col("start_year".to_owned());
        manager
            .create_table(
                Table::create()
                    .table("partnership_cells")
                    .col(int("region_id"))
                    // 0 for a project without a start date (a key column cannot be NULL).
                    .col(int("start_year"))
                    .col(big("partnerships"))
                    .col(big("projects"))
                    .col(big("organisations"))
                    .primary_key(&mut key)
                    .to_owned(),
            )
            .await?;
        let mut index = Index::create();
        index.name("ix_partnership_facts_seat_year").table("partnership_facts".to_owned());
        for column in ["municipality_id", "start_year", "project_id", "organisation_id"] {
            index.col(column.to_owned());
        }
        manager.create_index(index).await?;
        manager.get_connection().execute_unprepared("DELETE FROM metric_nodes").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("ix_partnership_facts_seat_year").table("partnership_facts".to_owned()).to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table("partnership_cells").to_owned()).await
    }
}
