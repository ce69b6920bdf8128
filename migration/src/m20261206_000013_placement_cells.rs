//! `placement_cells`: placements, distinct students and cross-border placements per fylke or
//! län of the student's home, fylke or län of the host (both on today's map: each region's open
//! epoch in `metric_nodes`) and start year — the public's "placements by home × host region ×
//! year". Derived (`db::cells`): recomputed in the write's transaction for the cells a write
//! touches, rebuilt whole after bulk loads; emptying `metric_nodes` has `Db::migrate` rebuild it.
//!
//! Also an index on `placement_facts` by start year and end, so that the placements of a
//! period's first, partial year that started before it are found without reading the others.

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
        key.col("home_region_id".to_owned()).col("host_region_id".to_owned()).col("start_year".to_owned());
        manager
            .create_table(
                Table::create()
                    .table("placement_cells")
                    .col(int("home_region_id"))
                    .col(int("host_region_id"))
                    .col(int("start_year"))
                    .col(big("placements"))
                    .col(big("students"))
                    .col(big("cross_border"))
                    .primary_key(&mut key)
                    .to_owned(),
            )
            .await?;
        let mut index = Index::create();
        index.name("ix_placement_cells_year").table("placement_cells".to_owned()).col("start_year".to_owned());
        manager.create_index(index).await?;
        let mut index = Index::create();
        index.name("ix_placement_facts_year_end").table("placement_facts".to_owned());
        // Every column the grouped placements read, so the rows it finds are read from it alone.
        for column in [
            "start_year",
            "valid_to",
            "valid_from",
            "home_municipality_id",
            "host_municipality_id",
            "student_id",
            "cross_border",
        ] {
            index.col(column.to_owned());
        }
        manager.create_index(index).await?;
        manager.get_connection().execute_unprepared("DELETE FROM metric_nodes").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("ix_placement_facts_year_end").table("placement_facts".to_owned()).to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table("placement_cells").to_owned()).await
    }
}
