//! Optimistic concurrency and the audit trail: a `version` on every row (bumped by every write,
//! checked against the client's `expectedVersion`) and the `events` outbox that every committed
//! change writes to in its own transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Every table of the registry model; each gets a `version`.
const VERSIONED_TABLES: &[&str] = &[
    "sources",
    "countries",
    "regions",
    "region_codes",
    "region_parents",
    "municipalities",
    "municipality_codes",
    "region_memberships",
    "organisations",
    "students",
    "student_placements",
    "programmes",
    "projects",
    "project_budget_lines",
    "project_partners",
    "collaborations",
    "goals",
    "indicator_values",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite cannot add several at once.
        for table in VERSIONED_TABLES {
            manager
                .alter_table(
                    Table::alter().table(*table).add_column(integer("version").default(1).not_null()).to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("events")
                    .col(big_pk_auto("seq"))
                    .col(text("entity"))
                    .col(integer("entity_id"))
                    .col(text_null("slug"))
                    .col(text("operation"))
                    .col(integer("version"))
                    .col(text("actor"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(text_null("data"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_events_entity").table("events").col("entity").col("entity_id").to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("events").if_exists().to_owned()).await?;
        for table in VERSIONED_TABLES {
            manager.alter_table(Table::alter().table(*table).drop_column("version").to_owned()).await?;
        }
        Ok(())
    }
}
