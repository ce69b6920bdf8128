//! Budgets in euros at the rate of their own date: the write path stores the converted amount,
//! the rate and the ECB day it used, so aggregates sum euros row by row without a rate join.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite cannot add several at once.
        for column in [
            ColumnDef::new("budget_eur").double().null().to_owned(),
            ColumnDef::new("budget_eur_rate").double().null().to_owned(),
            ColumnDef::new("budget_rate_date").date().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table("projects").add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["budget_eur", "budget_eur_rate", "budget_rate_date"] {
            manager.alter_table(Table::alter().table("projects").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
