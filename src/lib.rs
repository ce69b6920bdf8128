//! Samverka: a GraphQL registry of Norwegian–Swedish cross-border collaboration.
//!
//! # Codemap
//! - `entity/` (crate): SeaORM entities, one per table, with provenance columns. No GraphQL.
//! - `migration/` (crate): the one migration set for SQLite and PostgreSQL.
//! - [`domain`]: plain Rust that knows neither GraphQL nor SQL: partial dates
//!   ([`domain::dates`]), the seed-facts reader with JSON-path errors ([`domain::import`]),
//!   funders' files (`forskningsradet-eu`, `cordis`, `ror`, CSV + mapping) read into batches,
//!   placed on the map and matched to known organisations ([`domain::import::formats`],
//!   [`domain::import::tabular`], [`domain::import::gazetteer`], [`domain::import::intake`]),
//!   the mutations' rules run on whole files ([`domain::import::rules`]),
//!   the shipped reference map (KLASS 131, SCB, NUTS) and how files are anchored on it
//!   ([`domain::reference`]), code translation between days ([`domain::geography`]), a
//!   region's epochs between reforms ([`domain::epochs`]),
//!   organisation numbers and ROR ids ([`domain::identity`]), ISO 4217 and ECB rates
//!   ([`domain::currency`]), WAL positions clients send back ([`domain::lsn`]),
//!   editors' drafts ([`domain::edits`]), the write rules ([`domain::validation`]), the
//!   analysts' filter language and its limits ([`domain::filter`]), the Nordic name fold
//!   search matches ([`domain::text`]),
//!   k-anonymity with complementary suppression ([`domain::privacy`]), the metric
//!   definitions ([`domain::metrics`]) and partner-network analysis and export
//!   ([`domain::network`], on petgraph and rayon; what each analysis costs in
//!   [`domain::network::work`], cooperative cancellation in [`domain::network::stop`]).
//! - [`db`]: connecting, migrating, the statement counter, the idempotent importer writer
//!   ([`db::import`]; an import speaks for its own sources), keeping the database on the
//!   shipped reference map ([`db::reference`]), list selections and the batched lookups behind DataLoaders
//!   ([`db::queries`]), the analysts' filters compiled to SQL ([`db::queries::filter`]),
//!   keyset pages ([`db::queries::keyset`]), the stored folded names ([`db::search`]), node metrics and group-by aggregates in portable hand-written SQL
//!   ([`db::queries::metrics`], [`db::queries::aggregate`], [`db::queries::sql`]) over the
//!   derived analytical facts the write path keeps true at every commit ([`db::facts`]) and
//!   their monthly rollups per region epoch and municipality ([`db::rollups`]) and today's-map
//!   partnership cells per region and year ([`db::cells`]),
//!   transactional versioned writes ([`db::write`]), the events outbox with its writer lock and
//!   data version ([`db::events`]), the per-instance change feed that follows it (LISTEN/NOTIFY,
//!   [`db::feed`]), the analytics cache keyed by data version ([`db::cache`]), a replica's
//!   replay position and lag ([`db::replica`]) and the bulk synthetic seed ([`db::seed`]).
//! - [`ingest`]: every way files come in (seed facts, funders' files; CLI, first start and the
//!   `importRegistry`/`importFile` mutations): read, place, match, check, write or dry-run.
//! - [`codes`]: the one closed set of error codes, with their HTTP statuses.
//! - [`auth`]: bearer JWTs (HS256/RS256), roles, the principal of a request.
//! - [`jobs`]: heavy CPU work (network builds, analyses): one slot per core, a niced pool,
//!   stopped when its request goes away.
//! - [`graphql`]: schema and limits, query cost before execution ([`graphql::cost`]), response
//!   fields in the query's order ([`graphql::field_order`]), objects that come by the
//!   thousand resolved without the per-field extension chain ([`graphql::direct`]), the graph's
//!   spine (regions → municipalities → organisations → projects) compiled to one statement by
//!   look-ahead ([`graphql::compiled`], SQL in [`db::queries::graph`]), the root
//!   query (registry lists + `analytics`), mutation and subscription
//!   ([`graphql::subscription`]), object wrappers around entity models, DataLoaders, guards,
//!   pagination ([`graphql::pagination`]: keyset cursors), the `where:` inputs
//!   ([`graphql::filters`]), error codes, `network(…)` ([`graphql::network`]), `importFile`
//!   ([`graphql::import_file`]). No HTTP and no SQL.
//! - [`http`]: the transport: the edge before GraphQL (authentication, per-client rate limit,
//!   coded refusals: [`http::edge`]), the `/graphql` handler ([`http::graphql`]), the
//!   `/graphql/ws` WebSocket loop ([`http::ws`]), network downloads ([`http::downloads`]), the
//!   writer lane mutations run on ([`http::writer_lane`]) and which database answers a query
//!   ([`http::reads`]: a replica, with read-your-writes).
//!   The pages ([`http::pages`]): GraphiQL at `/`, the live map `/dashboard`, the partner network
//!   `/network`, and their assets under `/assets/` (front-end packages vendored from npm into
//!   `web/vendor`, map shapes built into `web/maps`, both by `web/vendor.sh`; all embedded in the
//!   binary; browser tests in `web/test`).
//! - [`server`]: routes (the pages, `/graphql`, `/graphql/ws`, `/export/…`, `/healthz`,
//!   `/readyz`, `/metrics`),
//!   middleware, and starting the instance's change feed.
//! - [`cli`]: the command line (`serve`, `migrate`, `import`, `seed`, `network`, `token`,
//!   `export-schema`).
//! - `data/reference/`: the reference files compiled into the binary (sources and licences in
//!   its README, attributions in `NOTICE`).
//! - `bench/startup`: first and second start and code translation; `bench/import`: importing
//!   10 000 partner rows; `bench/heavy`: 20 clients of exact betweenness beside a reader, CPU
//!   after they disconnect; `bench/hostile`: a hostile-input corpus against a release server;
//!   `bench/run`: the analytics benchmark (synthetic `large` on PostgreSQL, `medium` on SQLite,
//!   wrk, PostGraphile 4 side by side); `benches/subscriptions.rs`: subscription fan-out over two
//!   instances (`cargo bench --bench subscriptions`).
//!
//! The design and its invariants are in `ARCHITECTURE.md`.

pub mod auth;
pub mod cli;
pub mod codes;
pub mod db;
pub mod domain;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod server;
pub mod telemetry;

pub use ingest::load_registry;
