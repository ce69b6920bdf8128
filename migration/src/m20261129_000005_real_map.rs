//! The real map: dated names and reforms of municipalities, counties and organisations, which
//! release of the shipped reference map a database holds, lookups by organisation number and
//! ROR id, and region codes unique per region (a fylke carries the NUTS-3 code of the NUTS-3
//! region it coincides with, which carries the same code itself).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, owner table, owner column) of the dated-name tables.
const NAME_TABLES: &[(&str, &str, &str)] = &[
    ("municipality_names", "municipalities", "municipality_id"),
    ("organisation_names", "organisations", "organisation_id"),
];

/// (table, subject table, column prefix) of the reform tables.
const CHANGE_TABLES: &[(&str, &str, &str)] =
    &[("municipality_changes", "municipalities", "municipality"), ("region_changes", "regions", "region")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, owner, column) in NAME_TABLES {
            manager
                .create_table(
                    Table::create()
                        .table(*table)
                        .col(pk_auto("id"))
                        .col(integer(*column))
                        .col(text("name"))
                        .col(date_null("valid_from"))
                        .col(date_null("valid_to"))
                        .col(integer_null("source_id"))
                        .col(boolean("verified").default(false))
                        .col(integer("version").default(1))
                        .foreign_key(&mut foreign_key(table, column, owner))
                        .foreign_key(&mut foreign_key(table, "source_id", "sources"))
                        .to_owned(),
                )
                .await?;
            index(manager, table, &[column]).await?;
        }
        for (table, subject, prefix) in CHANGE_TABLES {
            let from = format!("from_{prefix}_id");
            let to = format!("to_{prefix}_id");
            manager
                .create_table(
                    Table::create()
                        .table(*table)
                        .col(pk_auto("id"))
                        .col(date("day"))
                        .col(text("kind"))
                        .col(integer_null(Alias::new(from.clone())))
                        .col(text_null("from_code"))
                        .col(text_null("from_name"))
                        .col(integer_null(Alias::new(to.clone())))
                        .col(text_null("to_code"))
                        .col(text_null("to_name"))
                        .col(text_null("note"))
                        .col(integer_null("source_id"))
                        .col(boolean("verified").default(false))
                        .col(integer("version").default(1))
                        .foreign_key(&mut foreign_key(table, &from, subject))
                        .foreign_key(&mut foreign_key(table, &to, subject))
                        .foreign_key(&mut foreign_key(table, "source_id", "sources"))
                        .to_owned(),
                )
                .await?;
            index(manager, table, &[from.as_str()]).await?;
            index(manager, table, &[to.as_str()]).await?;
            index(manager, table, &["day"]).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("organisation_changes")
                    .col(pk_auto("id"))
                    .col(date("day"))
                    .col(text("kind"))
                    .col(integer("from_organisation_id"))
                    .col(integer("to_organisation_id"))
                    .col(text_null("note"))
                    .col(integer_null("source_id"))
                    .col(boolean("verified").default(false))
                    .col(integer("version").default(1))
                    .foreign_key(&mut foreign_key("organisation_changes", "from_organisation_id", "organisations"))
                    .foreign_key(&mut foreign_key("organisation_changes", "to_organisation_id", "organisations"))
                    .foreign_key(&mut foreign_key("organisation_changes", "source_id", "sources"))
                    .to_owned(),
            )
            .await?;
        index(manager, "organisation_changes", &["from_organisation_id"]).await?;
        index(manager, "organisation_changes", &["to_organisation_id"]).await?;
        manager
            .create_table(
                Table::create()
                    .table("reference_releases")
                    .col(pk_auto("id"))
                    .col(text_uniq("name"))
                    .col(text("fingerprint"))
                    .col(timestamp_with_time_zone("loaded_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "organisations", &["org_number"]).await?;
        index(manager, "organisations", &["ror"]).await?;
        index(manager, "municipality_codes", &["scheme", "value"]).await?;
        let connection = manager.get_connection();
        connection.execute_unprepared("DROP INDEX uq_region_codes_scheme_value_from").await?;
        connection
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_region_codes_region_scheme_value_from ON region_codes \
                 (region_id, scheme, value, COALESCE(valid_from, '0001-01-01'))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        connection.execute_unprepared("DROP INDEX uq_region_codes_region_scheme_value_from").await?;
        connection
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_region_codes_scheme_value_from ON region_codes \
                 (scheme, value, COALESCE(valid_from, '0001-01-01'))",
            )
            .await?;
        for table in [
            "reference_releases",
            "organisation_changes",
            "region_changes",
            "municipality_changes",
            "organisation_names",
            "municipality_names",
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        for (table, columns) in
            [("organisations", "org_number"), ("organisations", "ror"), ("municipality_codes", "scheme_value")]
        {
            manager.drop_index(Index::drop().name(format!("idx_{table}_{columns}")).table(table).to_owned()).await?;
        }
        Ok(())
    }
}

fn foreign_key(table: &str, column: &str, target: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table.to_owned(), column.to_owned())
        .to(target.to_owned(), "id")
        .to_owned()
}

async fn index(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(format!("idx_{table}_{}", columns.join("_"))).table(table.to_owned());
    for column in columns {
        statement.col(ToString::to_string(column));
    }
    manager.create_index(statement).await
}
