//! `events.previous`: the row as it was before an update, so the change feed can tell what a
//! change moved away from (an organisation that moved municipality touches its old region too).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("events").add_column(ColumnDef::new("previous").text().null()).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("events").drop_column("previous").to_owned()).await
    }
}
