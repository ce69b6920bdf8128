//! Nordic name search: stored `search_name`s are refolded (accents, ø/æ/å and their ASCII
//! spellings; `domain::text::search_form`) and indexed for substring search — a trigram GIN
//! index on PostgreSQL, an FTS5 trigram table kept by triggers on SQLite.
//!
//! The fold is Rust code the migration cannot call, so the migration empties `search_name`
//! (never empty for a real row: names are required) and `Db::migrate` refills every empty one
//! after the migrations, in one transaction; a process stopped in between refills at its next
//! start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables with a `name` and a `search_name`.
pub const SEARCHED_TABLES: [&str; 5] = ["regions", "municipalities", "organisations", "programmes", "projects"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for table in SEARCHED_TABLES {
            conn.execute_unprepared(&format!("UPDATE {table} SET search_name = ''")).await?;
        }
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                // pg_trgm ships with PostgreSQL (contrib) and is a trusted extension; a server
                // without it still searches correctly, by scanning.
                let available = conn
                    .query_one_raw(Statement::from_string(
                        DatabaseBackend::Postgres,
                        "SELECT 1 AS one FROM pg_available_extensions WHERE name = 'pg_trgm'",
                    ))
                    .await?
                    .is_some();
                if available {
                    conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                    for table in SEARCHED_TABLES {
                        conn.execute_unprepared(&format!(
                            "CREATE INDEX ix_{table}_search_trgm ON {table} USING gin (search_name gin_trgm_ops)"
                        ))
                        .await?;
                    }
                }
            }
            _ => {
                for table in SEARCHED_TABLES {
                    for statement in sqlite_search_table(table) {
                        conn.execute_unprepared(&statement).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for table in SEARCHED_TABLES {
            match manager.get_database_backend() {
                DatabaseBackend::Postgres => {
                    conn.execute_unprepared(&format!("DROP INDEX IF EXISTS ix_{table}_search_trgm")).await?;
                }
                _ => {
                    for suffix in ["ai", "ad", "au"] {
                        conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_search_{suffix}")).await?;
                    }
                    conn.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}_search")).await?;
                }
            }
        }
        Ok(())
    }
}

/// An external-content FTS5 table over `table.search_name` with the trigram tokenizer (which
/// matches any substring of three or more characters), and the triggers that keep it current.
fn sqlite_search_table(table: &str) -> Vec<String> {
    let fts = format!("{table}_search");
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5(search_name, content='{table}', content_rowid='id', \
             tokenize='trigram')"
        ),
        format!(
            "CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts}(rowid, search_name) VALUES (new.id, new.search_name); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, search_name) VALUES ('delete', old.id, old.search_name); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_au AFTER UPDATE OF search_name ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, search_name) VALUES ('delete', old.id, old.search_name); \
             INSERT INTO {fts}(rowid, search_name) VALUES (new.id, new.search_name); END"
        ),
        format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"),
    ]
}
