//! Monthly rollups of the node metrics, so a region's metrics for any period read a few hundred
//! small rows instead of scanning every placement, enrolment and partnership of the period.
//!
//! - `metric_nodes`: what a region (or municipality) is made of, per *epoch*: the maximal spans of
//!   days over which its member municipalities stay the same. A region asked on a day is the
//!   epoch holding that day; a municipality is one open epoch of itself.
//! - `enrolment_facts`: one row per student (seat and period of the enrolment), the fact the
//!   enrolment rollup is kept from.
//! - `project_months`, `placement_months`, `enrolment_months`: per node, epoch, edge (0: the rows
//!   that *start* in the month, 1: the rows that *end* in it) and month, the sums of each
//!   measure. Rows active in a period [a, b] are those started by b minus those ended before a,
//!   so whole months come from these rows and the partial months at either end from the facts.
//!
//! All are derived (`db::facts`, `db::rollups`): kept in the transaction of every write and
//! rebuilt whole after bulk loads and map changes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().not_null().to_owned()
}

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).big_integer().not_null().to_owned()
}

fn double(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).double().not_null().to_owned()
}

fn date(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).date().not_null().to_owned()
}

fn opt_int(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).integer().null().to_owned()
}

fn opt_date(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).date().null().to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).string().not_null().to_owned()
}

/// The key every rollup table shares.
const ROLLUP_KEY: [&str; 5] = ["node_kind", "node_id", "epoch_from", "edge", "month"];

fn rollup(name: &str, measures: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name.to_owned())
        .col(text("node_kind"))
        .col(int("node_id"))
        .col(date("epoch_from"))
        .col(ColumnDef::new("edge").small_integer().not_null())
        .col(date("month"));
    for measure in measures {
        table.col(measure);
    }
    let mut key = Index::create();
    for column in ROLLUP_KEY {
        key.col(column.to_owned());
    }
    table.primary_key(&mut key);
    table.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = Index::create();
        key.col("node_kind".to_owned())
            .col("node_id".to_owned())
            .col("epoch_from".to_owned())
            .col("municipality_id".to_owned());
        manager
            .create_table(
                Table::create()
                    .table("metric_nodes")
                    .col(text("node_kind"))
                    .col(int("node_id"))
                    // The epoch's first day (0001-01-01 when open) and last day (NULL when open).
                    .col(date("epoch_from"))
                    .col(opt_date("epoch_to"))
                    .col(int("municipality_id"))
                    .primary_key(&mut key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_metric_nodes_municipality")
                    .table("metric_nodes".to_owned())
                    .col("municipality_id".to_owned())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("enrolment_facts")
                    .col(ColumnDef::new("student_id").integer().not_null().primary_key())
                    .col(int("organisation_id"))
                    .col(opt_int("municipality_id"))
                    .col(opt_int("country_id"))
                    .col(date("valid_from"))
                    .col(opt_date("valid_to"))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_enrolment_facts_organisation", &["organisation_id", "valid_from"][..]),
            ("ix_enrolment_facts_period", &["valid_from", "valid_to"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("enrolment_facts".to_owned());
            for column in columns {
                index.col((*column).to_owned());
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(rollup(
                "project_months",
                vec![
                    big("projects"),
                    big("partner_rows"),
                    big("cross_border"),
                    double("budget_eur"),
                    big("budgets"),
                    big("goals_with_target"),
                    big("goals_without_target"),
                    big("goals_measured"),
                    double("attainment_sum"),
                    big("attainment_count"),
                ],
            ))
            .await?;
        manager
            .create_table(rollup(
                "placement_months",
                vec![big("placements_in"), big("placements_out"), big("cross_border")],
            ))
            .await?;
        manager.create_table(rollup("enrolment_months", vec![big("enrolments")])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["enrolment_months", "placement_months", "project_months", "enrolment_facts", "metric_nodes"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
