//! Derived facts are rebuilt once: a goal's latest result used to sort an undated result first
//! on PostgreSQL and last on SQLite; both now put it last (`db::facts`). `Db::migrate` rebuilds
//! every fact table and rollup after applying migrations; emptying `metric_nodes` (its mark for
//! "derived facts missing") makes a process stopped before that rebuild redo it at its next start.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DELETE FROM metric_nodes").await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Nothing to undo: the facts are derived, and a rebuild is right for any version.
        Ok(())
    }
}
