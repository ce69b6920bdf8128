//! Samverka: a GraphQL registry of Norwegian–Swedish cross-border collaboration.
//!
//! # Codemap
//! - `entity/` (crate): SeaORM entities, one per table, with provenance columns. No GraphQL.
//! - `migration/` (crate): the one migration set for SQLite and PostgreSQL.
//! - [`domain`]: plain Rust that knows neither GraphQL nor SQL: partial dates
//!   ([`domain::dates`]), the seed-facts reader with JSON-path errors ([`domain::import`]),
//!   editors' drafts ([`domain::edits`]), the write rules ([`domain::validation`]) and
//!   k-anonymity ([`domain::privacy`]).
//! - [`db`]: connecting, migrating, the statement counter, the idempotent importer writer
//!   ([`db::import`]), list selections and the batched lookups behind DataLoaders
//!   ([`db::queries`]), transactional versioned writes ([`db::write`]) and the events outbox
//!   ([`db::events`]).
//! - [`auth`]: bearer JWTs (HS256/RS256), roles, the principal of a request.
//! - [`edge`]: the HTTP edge before GraphQL: authentication, per-client rate limit, coded refusals.
//! - [`graphql`]: schema and limits, the root query and mutation, object wrappers around entity
//!   models, DataLoaders, guards, pagination, error codes, the `/graphql` HTTP handler.
//! - [`server`]: routes (`/`, `/graphql`, `/healthz`, `/readyz`) and middleware.
//! - [`cli`]: the command line (`serve`, `migrate`, `import`, `token`, `export-schema`).
//!
//! # Invariants
//! - Resolvers never query per parent: relations and counts go through `graphql::loaders`, so the
//!   number of SQL statements per request grows with query depth, not with page size.
//! - Imports are one transaction; parsing finishes before the first write.
//! - Student data is guarded field by field (`graphql::access`), not just hidden.
//! - Every write is one transaction that checks versions and writes its change event
//!   (`db::write`); nothing above `db` opens a transaction.

pub mod auth;
pub mod cli;
pub mod db;
pub mod domain;
pub mod edge;
pub mod graphql;
pub mod server;
pub mod telemetry;

use db::Db;
use db::import::ImportSummary;

/// Parses a seed-facts file and imports it in one transaction (the CLI importer and the first
/// start of the server both come through here).
/// `actor` names the author in the change events (`demo`, `cli`, or a token subject).
pub async fn load_registry(db: &Db, bytes: &[u8], actor: &str) -> anyhow::Result<ImportSummary> {
    let records = domain::import::parse_seed_facts(bytes)?;
    Ok(db::import::import_records(&db.conn, &records, actor).await?)
}
