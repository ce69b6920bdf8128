//! Command line and configuration: one clap struct; every option has an environment fallback
//! and a safe default, and its doc comment is its `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Samverka: a GraphQL registry of Norwegian–Swedish cross-border collaboration.
///
/// Without a subcommand it serves the demo registry: it creates (or reuses) a SQLite file,
/// migrates it, loads the demo data on first start, and serves GraphQL with GraphiQL at `/`.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://user@host/db`. Default: the SQLite
    /// file given by --sqlite-path.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// SQLite file used when no DATABASE_URL is set (created if missing, WAL mode).
    #[arg(long, env = "SAMVERKA_SQLITE_PATH", default_value = "samverka.db", global = true)]
    pub sqlite_path: PathBuf,

    /// Connections in the database pool.
    #[arg(long, env = "SAMVERKA_DB_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_connections: u32,

    #[command(flatten)]
    pub auth: crate::auth::AuthArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL (the default): migrate, load the reference map (when this release of it is not loaded yet) and the demo registry into an empty database, listen.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Import files in one transaction; re-importing the same files changes nothing.
    ///
    /// Formats: `seed-facts` (the registry's own JSON, the default), `forskningsradet-eu` (the
    /// Research Council of Norway's "Bevilgninger fra EU til norske forskningsmiljøer" CSV),
    /// `cordis` (CORDIS project.csv + organization.csv), `ror` (the ROR v2 JSON dump) and `csv`
    /// (any project/partner list, through a TOML mapping: see examples/import/).
    ///
    /// Organisations are matched by org number, ROR id, then name within the same municipality;
    /// municipality codes are read on the day the file's codes refer to (inferred, or
    /// --codes-on). A bad row names its file, row and column; with --skip-invalid the good rows
    /// are imported and the bad ones listed, otherwise nothing is written. Progress goes to
    /// standard error, the report to standard error (or standard output as JSON with --json).
    Import(ImportArgs),
    /// Fill an EMPTY database with a generated registry for benchmarks and load tests.
    ///
    /// `--synthetic` is required (the only kind of seed): fake organisations, projects and
    /// students, marked synthetic, deterministic per seed on SQLite and PostgreSQL alike.
    /// Scales: small (2k organisations, 20k placements, seconds), medium (10k / 200k),
    /// large (50k organisations, 35k projects, 200k partnerships, 500k students, 1M placements;
    /// a few minutes on PostgreSQL).
    Seed(SeedArgs),
    /// Print a signed bearer token for local use, e.g. `samverka token --role editor --ttl 1h`.
    Token(TokenArgs),
    /// Build a partner network from the database, then export it (`--format`) or time every
    /// analysis on it (`--timings`), without a server: for researchers' scripts and the network
    /// benchmark (`bench/network`). Filters as in GraphQL `network(…)`.
    Network(NetworkArgs),
    /// Write the GraphQL schema (SDL) to a file, `-` for standard output.
    ExportSchema {
        #[arg(default_value = "schema.graphql")]
        output: PathBuf,
    },
}

#[derive(Clone, Debug, clap::Args)]
pub struct ImportArgs {
    /// The files to import (cordis: project.csv and organization.csv).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(long, value_enum, default_value = "seed-facts")]
    pub format: ImportFormat,
    /// csv: the mapping file (TOML) that says which column holds what.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Match, check and count everything, write nothing; prints what would be created, updated,
    /// matched and left ambiguous.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the good rows and list the bad ones (default: one bad row stops the import).
    #[arg(long)]
    pub skip_invalid: bool,
    /// The day the files' municipality codes refer to, YYYY-MM-DD (default: inferred from the
    /// codes: the latest day on which most of them were valid).
    #[arg(long)]
    pub codes_on: Option<chrono::NaiveDate>,
    /// The NUTS version of the files' NUTS codes: 2013, 2016, 2021 or 2024 (default: inferred).
    #[arg(long)]
    pub nuts_version: Option<String>,
    /// ror: the countries whose records are imported (ISO codes, comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "NO,SE")]
    pub country: Vec<String>,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

/// What `samverka import --format` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    SeedFacts,
    ForskningsradetEu,
    Cordis,
    Ror,
    Csv,
}

impl ImportFormat {
    /// The funders' format, or `None` for seed-facts.
    pub fn funders(self) -> Option<crate::domain::import::formats::Format> {
        use crate::domain::import::formats::Format;
        match self {
            Self::SeedFacts => None,
            Self::ForskningsradetEu => Some(Format::ForskningsradetEu),
            Self::Cordis => Some(Format::Cordis),
            Self::Ror => Some(Format::Ror),
            Self::Csv => Some(Format::Csv),
        }
    }
}

#[derive(Clone, Debug, clap::Args)]
pub struct SeedArgs {
    /// Generate a synthetic registry (required: there is no other kind of seed).
    #[arg(long, required = true)]
    pub synthetic: bool,
    /// How big: small, medium or large.
    #[arg(long, value_enum, default_value = "small")]
    pub scale: SeedScale,
    /// The random seed: the same seed gives the same registry.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// No progress bars (they are drawn on standard error only when it is a terminal anyway).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SeedScale {
    Small,
    Medium,
    Large,
}

impl From<SeedScale> for crate::db::seed::synthetic::Scale {
    fn from(scale: SeedScale) -> Self {
        match scale {
            SeedScale::Small => Self::Small,
            SeedScale::Medium => Self::Medium,
            SeedScale::Large => Self::Large,
        }
    }
}

#[derive(Clone, Debug, clap::Args)]
pub struct NetworkArgs {
    /// Ties within projects of this programme (slug).
    #[arg(long)]
    pub programme: Option<String>,
    /// Ties within this project (slug).
    #[arg(long)]
    pub project: Option<String>,
    /// Organisations seated in this region (slug) on --as-of.
    #[arg(long)]
    pub region: Option<String>,
    /// Organisations of this country (code).
    #[arg(long)]
    pub country: Option<String>,
    /// Ties active from this day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Ties active until this day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// The day of region memberships (default today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    #[arg(long, value_enum, default_value = "organisation")]
    pub level: NetworkLevelArg,
    /// Kinds of tie, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "partnership,collaboration")]
    pub edges: Vec<NetworkEdgeArg>,
    #[arg(long, default_value_t = 1)]
    pub min_weight: u32,
    /// Write the network in this format to standard output (or --output).
    #[arg(long, value_enum, conflicts_with = "timings")]
    pub format: Option<NetworkFormatArg>,
    #[arg(long, requires = "format")]
    pub output: Option<PathBuf>,
    /// Run every analysis --repeat times and print the fastest time of each.
    #[arg(long)]
    pub timings: bool,
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Sources of the sampled betweenness that --timings runs.
    #[arg(long, default_value_t = 256)]
    pub samples: usize,
    /// With --timings: one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// With --timings: only these analyses (comma-separated): degree, weighted-degree,
    /// betweenness, betweenness-sampled, closeness, pagerank, eigenvector, components, bridges,
    /// articulation-points, brokers, communities.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NetworkLevelArg {
    Organisation,
    Municipality,
    Region,
    Country,
}

impl From<NetworkLevelArg> for crate::domain::network::Level {
    fn from(level: NetworkLevelArg) -> Self {
        match level {
            NetworkLevelArg::Organisation => Self::Organisation,
            NetworkLevelArg::Municipality => Self::Municipality,
            NetworkLevelArg::Region => Self::Region,
            NetworkLevelArg::Country => Self::Country,
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NetworkEdgeArg {
    Partnership,
    Collaboration,
    Placement,
}

impl From<NetworkEdgeArg> for crate::domain::network::EdgeKind {
    fn from(kind: NetworkEdgeArg) -> Self {
        match kind {
            NetworkEdgeArg::Partnership => Self::Partnership,
            NetworkEdgeArg::Collaboration => Self::Collaboration,
            NetworkEdgeArg::Placement => Self::Placement,
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NetworkFormatArg {
    Graphml,
    Gexf,
    NodesCsv,
    EdgesCsv,
    CytoscapeJson,
}

impl From<NetworkFormatArg> for crate::domain::network::export::Format {
    fn from(format: NetworkFormatArg) -> Self {
        match format {
            NetworkFormatArg::Graphml => Self::GraphMl,
            NetworkFormatArg::Gexf => Self::Gexf,
            NetworkFormatArg::NodesCsv => Self::CsvNodes,
            NetworkFormatArg::EdgesCsv => Self::CsvEdges,
            NetworkFormatArg::CytoscapeJson => Self::CytoscapeJson,
        }
    }
}

#[derive(Clone, Debug, clap::Args)]
pub struct TokenArgs {
    /// The role the token grants.
    #[arg(long, value_enum, default_value = "editor")]
    pub role: crate::auth::Role,
    /// How long the token is valid (`90s`, `15m`, `1h`, `7d`).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: std::time::Duration,
    /// The subject (`sub` claim) the change events will name as actor.
    #[arg(long, default_value = "local-editor")]
    pub subject: String,
}

#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SAMVERKA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Do not load the demo registry into an empty database.
    #[arg(long, env = "SAMVERKA_NO_DEMO")]
    pub no_demo: bool,

    /// Maximum query depth.
    #[arg(long, env = "SAMVERKA_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,

    /// The most any role may spend on one request, in cost units (list page sizes multiply what
    /// each item selects; network analyses weigh by algorithm and by the size of the network,
    /// estimated from the registry's counts; see the `Network` type in the schema). Per role:
    /// public 50 000, analysts and editors 1 000 000, admins 2 000 000, each capped by this.
    /// Dearer requests are refused with QUERY_TOO_EXPENSIVE before they run.
    #[arg(long, env = "SAMVERKA_MAX_COMPLEXITY", default_value_t = 2_000_000)]
    pub max_complexity: usize,

    /// Seconds before a request is cut off with 408.
    #[arg(long, env = "SAMVERKA_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Largest request body accepted, in bytes (bulk imports included).
    #[arg(long, env = "SAMVERKA_BODY_LIMIT", default_value_t = 4 * 1024 * 1024)]
    pub body_limit: usize,

    /// Most operations in one batched request (a JSON array); 0 refuses batches.
    #[arg(long, env = "SAMVERKA_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Requests per second each client (token subject, else IP address) may make; 0 = no limit.
    #[arg(long, env = "SAMVERKA_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit_per_second: u32,

    /// Requests a client may make at once before the per-second rate applies.
    #[arg(long, env = "SAMVERKA_RATE_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,

    /// Addresses of the balancers in front (comma-separated IPs): from them, the client a
    /// request is rate-limited as is the rightmost untrusted address of `X-Forwarded-For`; from
    /// anyone else the header is ignored. Without this, clients without a token behind a
    /// balancer share its address, and one limit.
    #[arg(long, env = "SAMVERKA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Origins allowed to call from a browser (CORS), comma-separated; none by default.
    #[arg(long, env = "SAMVERKA_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Turn off schema introspection (GraphiQL then cannot show the schema).
    #[arg(long, env = "SAMVERKA_DISABLE_INTROSPECTION")]
    pub disable_introspection: bool,

    /// Megabytes of metrics, aggregates, networks and analyses kept between requests until the
    /// data changes (each weighed by the bytes it holds); 0 turns the cache off. Formerly
    /// `--analytics-cache-rows`, still accepted (0 still turns it off; other values are now MB).
    #[arg(
        long,
        alias = "analytics-cache-rows",
        env = "SAMVERKA_ANALYTICS_CACHE_MB",
        default_value_t = crate::db::cache::DEFAULT_MB
    )]
    pub analytics_cache_mb: u64,

    /// Connections of the pool analytical statements run on (metrics, aggregates, network
    /// builds), apart from the main pool: slow analytics queue there instead of taking the
    /// connections cheap reads need. Default: one per CPU core.
    #[arg(long, env = "SAMVERKA_ANALYTICS_CONNECTIONS", default_value_t = default_analytics_connections())]
    pub analytics_connections: u32,

    /// Seconds a WebSocket may take to send `connection_init` before it is closed (4408).
    #[arg(long, env = "SAMVERKA_WS_INIT_TIMEOUT", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Seconds between the server's keep-alive messages on a WebSocket.
    #[arg(long, env = "SAMVERKA_WS_KEEPALIVE", default_value_t = 15)]
    pub ws_keepalive_secs: u64,

    /// Most subscriptions open at once on one WebSocket.
    #[arg(long, env = "SAMVERKA_WS_MAX_SUBSCRIPTIONS", default_value_t = 50)]
    pub ws_max_subscriptions: usize,

    /// Milliseconds between reads of the events table when no notification arrives (the
    /// safety net for lost notifications, and how changes by other processes are seen on SQLite).
    #[arg(long, env = "SAMVERKA_FEED_POLL_MS", default_value_t = 2000)]
    pub feed_poll_ms: u64,

    /// A direct PostgreSQL URL for the change feed's `LISTEN` and its reads of the events table
    /// (default: the database URL). Set it when the database URL goes through a pooler in
    /// transaction mode (PgBouncer), which does not pass `LISTEN` on: point it at the primary.
    #[arg(long, env = "SAMVERKA_FEED_DATABASE_URL")]
    pub feed_database_url: Option<String>,

    /// A PostgreSQL URL for queries: a streaming replica (or a pooler in front of one). Mutations,
    /// subscriptions and the feed stay on the database URL (the primary). A write's response
    /// carries `x-samverka-lsn`; a query that sends it back as `x-samverka-after-lsn` waits up
    /// to `--read-your-writes-wait-ms` for the replica to replay it, else reads on the primary.
    #[arg(long, env = "SAMVERKA_READ_DATABASE_URL")]
    pub read_database_url: Option<String>,

    /// How long a query that presents a write's position waits for the replica to replay it
    /// before it is answered by the primary instead.
    #[arg(long, env = "SAMVERKA_READ_YOUR_WRITES_WAIT_MS", default_value_t = 250)]
    pub read_your_writes_wait_ms: u64,

    /// Tests only: a clock the rate limiter reads instead of the real one, moved by hand.
    #[arg(skip)]
    pub rate_limit_clock: Option<governor::clock::FakeRelativeClock>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            no_demo: false,
            max_depth: 16,
            max_complexity: 2_000_000,
            request_timeout_secs: 30,
            body_limit: 4 * 1024 * 1024,
            max_batch: 10,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            disable_introspection: false,
            analytics_cache_mb: crate::db::cache::DEFAULT_MB,
            analytics_connections: default_analytics_connections(),
            ws_init_timeout_secs: 10,
            ws_keepalive_secs: 15,
            ws_max_subscriptions: 50,
            feed_poll_ms: 2000,
            feed_database_url: None,
            read_database_url: None,
            read_your_writes_wait_ms: 250,
            rate_limit_clock: None,
        }
    }
}

impl Cli {
    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| crate::db::sqlite_url(&self.sqlite_path))
    }
}

/// One analytics connection per core: analytical statements are CPU-bound, more would only
/// take turns on the same cores.
fn default_analytics_connections() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get() as u32)
}
