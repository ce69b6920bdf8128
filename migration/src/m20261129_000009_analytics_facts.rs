//! Derived fact tables for the analytical statements: one narrow, denormalised row per acting
//! partnership, per project and per student placement, holding what the metrics and aggregates
//! would otherwise join five tables for on every request (seats, countries, kinds, programmes,
//! cross-border flags, goal attainment). They are kept by the write path in the transaction of
//! every write (`db::facts`), never edited directly, and rebuilt whole after a bulk load.
//! No foreign keys: they are derived, and the write path removes their rows with their sources.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().not_null().to_owned()
}

fn opt_int(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().null().to_owned()
}

fn opt_date(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).date().null().to_owned()
}

fn opt_double(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).double().null().to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).string().not_null().to_owned()
}

/// (index name, table, columns).
const INDEXES: &[(&str, &str, &[&str])] = &[
    ("ix_project_facts_programme", "project_facts", &["programme_id", "valid_from", "valid_to"]),
    ("ix_project_facts_period", "project_facts", &["valid_from", "valid_to"]),
    (
        "ix_partnership_facts_municipality",
        "partnership_facts",
        &["municipality_id", "valid_from", "valid_to", "project_id"],
    ),
    ("ix_partnership_facts_organisation", "partnership_facts", &["organisation_id", "project_id"]),
    ("ix_partnership_facts_project", "partnership_facts", &["project_id"]),
    ("ix_partnership_facts_country", "partnership_facts", &["country_id", "project_id"]),
    ("ix_placement_facts_period", "placement_facts", &["valid_from", "valid_to"]),
    ("ix_placement_facts_host", "placement_facts", &["host_organisation_id", "valid_from"]),
    ("ix_placement_facts_home", "placement_facts", &["home_organisation_id", "valid_from"]),
    ("ix_placement_facts_host_municipality", "placement_facts", &["host_municipality_id", "valid_from"]),
    ("ix_placement_facts_home_municipality", "placement_facts", &["home_municipality_id", "valid_from"]),
    ("ix_placement_facts_student", "placement_facts", &["student_id"]),
    ("ix_placement_facts_project", "placement_facts", &["project_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("project_facts")
                    .col(ColumnDef::new("project_id").integer().not_null().primary_key())
                    .col(opt_int("programme_id"))
                    .col(opt_date("valid_from"))
                    .col(opt_date("valid_to"))
                    .col(opt_int("start_year"))
                    .col(opt_double("budget_eur"))
                    // Acting (non-funder) partner rows, and 1 when they span more than one country.
                    .col(int("acting_partners"))
                    .col(int("cross_border"))
                    .col(int("goals_with_target"))
                    .col(int("goals_without_target"))
                    .col(int("goals_measured"))
                    // Sum and number of the goals' attainments (latest result ÷ target).
                    .col(ColumnDef::new("attainment_sum").double().not_null())
                    .col(int("attainment_count"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("partnership_facts")
                    .col(ColumnDef::new("partner_id").integer().not_null().primary_key())
                    .col(int("project_id"))
                    .col(int("organisation_id"))
                    .col(opt_int("municipality_id"))
                    .col(opt_int("country_id"))
                    .col(text("organisation_kind"))
                    .col(opt_int("programme_id"))
                    .col(opt_date("valid_from"))
                    .col(opt_date("valid_to"))
                    .col(opt_int("start_year"))
                    .col(int("cross_border"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("placement_facts")
                    .col(ColumnDef::new("placement_id").integer().not_null().primary_key())
                    .col(int("student_id"))
                    .col(int("host_organisation_id"))
                    // The student's enrolling organisation.
                    .col(int("home_organisation_id"))
                    .col(opt_int("host_municipality_id"))
                    .col(opt_int("home_municipality_id"))
                    .col(opt_int("host_country_id"))
                    .col(opt_int("home_country_id"))
                    .col(text("host_kind"))
                    .col(text("home_kind"))
                    .col(opt_int("project_id"))
                    .col(opt_int("programme_id"))
                    .col(ColumnDef::new("valid_from").date().not_null())
                    .col(opt_date("valid_to"))
                    .col(int("start_year"))
                    .col(int("cross_border"))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table((*table).to_owned());
            for column in *columns {
                index.col((*column).to_owned());
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["placement_facts", "partnership_facts", "project_facts"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
