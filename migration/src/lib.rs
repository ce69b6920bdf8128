//! Schema migrations of the registry, one set for SQLite and PostgreSQL. No seed data here: the
//! demo registry is loaded by the importer, through the same code path as `samverka import`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_registry;
mod m20261122_000002_versions_and_events;
mod m20261122_000003_analytics_indexes;
mod m20261122_000004_event_previous_row;
mod m20261129_000005_real_map;
mod m20261129_000006_budget_in_eur;
mod m20261129_000007_source_locator;
mod m20261129_000008_organisation_links;
mod m20261129_000009_analytics_facts;
mod m20261206_000010_metric_rollups;
mod m20261206_000011_rebuild_derived_facts;
mod m20261206_000012_current_map_cells;
mod m20261206_000013_placement_cells;
mod m20261206_000014_organisations_by_seat_and_name;
mod m20261206_000015_nordic_search;
mod m20261206_000016_list_orders;
mod m20261207_000017_organisation_facts;

pub use m20261206_000015_nordic_search::SEARCHED_TABLES;

/// The ordered list of migrations; `samverka migrate` and every server start apply it.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_registry::Migration),
            Box::new(m20261122_000002_versions_and_events::Migration),
            Box::new(m20261122_000003_analytics_indexes::Migration),
            Box::new(m20261122_000004_event_previous_row::Migration),
            Box::new(m20261129_000005_real_map::Migration),
            Box::new(m20261129_000006_budget_in_eur::Migration),
            Box::new(m20261129_000007_source_locator::Migration),
            Box::new(m20261129_000008_organisation_links::Migration),
            Box::new(m20261129_000009_analytics_facts::Migration),
            Box::new(m20261206_000010_metric_rollups::Migration),
            Box::new(m20261206_000011_rebuild_derived_facts::Migration),
            Box::new(m20261206_000012_current_map_cells::Migration),
            Box::new(m20261206_000013_placement_cells::Migration),
            Box::new(m20261206_000014_organisations_by_seat_and_name::Migration),
            Box::new(m20261206_000015_nordic_search::Migration),
            Box::new(m20261206_000016_list_orders::Migration),
            Box::new(m20261207_000017_organisation_facts::Migration),
        ]
    }
}
