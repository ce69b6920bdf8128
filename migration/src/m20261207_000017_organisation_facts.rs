//! `organisation_facts`: per organisation with partnerships, how many it has, in how many
//! projects, and which roles it holds (a bit per role, `db::facts::PARTNER_ROLE_BITS`). Lists of
//! organisations sort by the counts and filter `partnerships` on roles from this one row instead
//! of every partnership. Derived like the other facts (`db::facts`): kept in the transaction of
//! every write; emptying `metric_nodes` makes `Db::migrate` rebuild every fact table, this one
//! included.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn count(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organisation_facts")
                    .col(ColumnDef::new("organisation_id").integer().not_null().primary_key())
                    .col(count("partnerships"))
                    .col(count("projects"))
                    .col(count("partner_roles"))
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared("DELETE FROM metric_nodes").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("organisation_facts").to_owned()).await
    }
}
