//! How organisations stand to each other without a dated reform: part of (a faculty of a
//! university, a subsidiary), related, or succeeded by another (ROR's parent/child, related and
//! successor relationships, which carry no date).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn foreign_key(column: &str, target: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_organisation_links_{column}"))
        .from("organisation_links", column.to_owned())
        .to(target.to_owned(), "id")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organisation_links")
                    .col(pk_auto("id"))
                    .col(integer("organisation_id"))
                    .col(integer("related_organisation_id"))
                    .col(text("kind"))
                    .col(integer_null("source_id"))
                    .col(boolean("verified").default(false))
                    .col(integer("version").default(1))
                    .foreign_key(&mut foreign_key("organisation_id", "organisations"))
                    .foreign_key(&mut foreign_key("related_organisation_id", "organisations"))
                    .foreign_key(&mut foreign_key("source_id", "sources"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_organisation_links_pair_kind")
                    .table("organisation_links")
                    .col("organisation_id")
                    .col("related_organisation_id")
                    .col("kind")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organisation_links_related_organisation_id")
                    .table("organisation_links")
                    .col("related_organisation_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("organisation_links").to_owned()).await
    }
}
