//! Where in its source a row came from (`project.csv row 17`): the importers of funders' files
//! name the file in `source_id` and the row here, so every imported row can be traced back.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 5] = ["organisations", "programmes", "projects", "project_partners", "project_budget_lines"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            let column = ColumnDef::new("source_locator").text().null().to_owned();
            manager.alter_table(Table::alter().table(table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager.alter_table(Table::alter().table(table).drop_column("source_locator").to_owned()).await?;
        }
        Ok(())
    }
}
