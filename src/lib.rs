//! Samverka: a GraphQL registry of Norwegian–Swedish cross-border collaboration.
//!
//! # Codemap
//! - `entity/` (crate): SeaORM entities, one per table, with provenance columns. No GraphQL.
//! - `migration/` (crate): the one migration set for SQLite and PostgreSQL.
//! - [`domain`]: plain Rust that knows neither GraphQL nor SQL: partial dates
//!   ([`domain::dates`]), the seed-facts reader with JSON-path errors ([`domain::import`]).
//! - [`db`]: connecting, migrating, the statement counter, the idempotent importer writer
//!   ([`db::import`]), list selections and the batched lookups behind DataLoaders
//!   ([`db::queries`]).
//! - [`graphql`]: schema and limits, the root query, object wrappers around entity models,
//!   DataLoaders, guards, pagination, error codes, the `/graphql` HTTP handler.
//! - [`server`]: routes (`/`, `/graphql`, `/healthz`, `/readyz`) and middleware.
//! - [`cli`]: the command line (`serve`, `migrate`, `import`, `export-schema`).
//!
//! # Invariants
//! - Resolvers never query per parent: relations and counts go through `graphql::loaders`, so the
//!   number of SQL statements per request grows with query depth, not with page size.
//! - Imports are one transaction; parsing finishes before the first write.
//! - Student data is guarded field by field (`graphql::access`), not just hidden.

pub mod cli;
pub mod db;
pub mod domain;
pub mod graphql;
pub mod server;
pub mod telemetry;

use db::Db;
use db::import::ImportSummary;

/// Parses a seed-facts file and imports it in one transaction (the CLI importer and the first
/// start of the server both come through here).
pub async fn load_registry(db: &Db, bytes: &[u8]) -> anyhow::Result<ImportSummary> {
    let records = domain::import::parse_seed_facts(bytes)?;
    Ok(db::import::import_records(&db.conn, &records).await?)
}
