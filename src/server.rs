//! The HTTP server: routes, middleware (tracing, timeout, body limit), and startup (migrate,
//! load the demo registry into an empty database). `App::build` binds first so tests can use
//! port 0 and read the real port.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Authenticator;
use crate::cli::ServeArgs;
use crate::db::Db;
use crate::db::cache::AnalyticsCache;
use crate::db::feed::{Feed, FeedOptions};
use crate::graphql::{Limits, build_schema};
use crate::http::downloads::{DownloadState, export_network};
use crate::http::edge::{Edge, REQUEST_ID, RateLimit, code_layer_errors, guard_edge};
use crate::http::graphql::{GraphqlState, graphql_handler};
use crate::http::reads::ReadRouting;
use crate::http::writer_lane::WriterLane;
use crate::http::ws::{WsLimits, WsState, ws_handler};

/// The demo registry shipped inside the binary, so it runs without the source tree.
pub const DEMO_REGISTRY: &[u8] = include_bytes!("../data/seed-facts.json");

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    router: Router,
}

impl App {
    /// Prepares the database (migrations; demo data when empty and wanted) and binds the listener.
    pub async fn build(db: Db, args: &ServeArgs, authenticator: Authenticator) -> anyhow::Result<Self> {
        db.migrate().await?;
        if let Some(summary) = crate::db::reference::ensure_loaded(&db).await? {
            let total = summary.total();
            tracing::info!(
                rows.inserted = total.inserted,
                rows.updated = total.updated,
                rows.deleted = total.deleted,
                "loaded the reference map (municipalities, counties, NUTS)"
            );
        }
        if !args.no_demo && db.is_empty().await? {
            let summary = crate::load_registry(&db, DEMO_REGISTRY, "demo").await?;
            tracing::info!(rows.inserted = summary.total().inserted, "loaded the demo registry into an empty database");
        }
        let listener = TcpListener::bind(args.listen).await?;
        Ok(Self { listener, router: router(db, args, authenticator).await? })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until ctrl-c (or the future is dropped).
    pub async fn run(self) -> std::io::Result<()> {
        // Peer addresses key the rate limiter for callers without a token.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown_signal()).await
    }
}

/// How often the counts behind network cost estimates are read again (a few aggregates).
const NETWORK_COUNTS_REFRESH: Duration = Duration::from_secs(60);

/// Reads the registry's counts the query-cost check estimates network sizes from. On failure the
/// previous counts stay (an estimate, not an answer).
async fn refresh_network_counts(db: &Db, into: &std::sync::RwLock<crate::domain::network::work::RegistryCounts>) {
    match crate::db::queries::network::registry_counts(&db.conn).await {
        Ok(counts) => *into.write().unwrap_or_else(std::sync::PoisonError::into_inner) = counts,
        Err(error) => tracing::warn!(error.cause = %error, "could not count the registry for network cost estimates"),
    }
}

/// The routes, and this instance's change feed (started here).
pub async fn router(mut db: Db, args: &ServeArgs, authenticator: Authenticator) -> anyhow::Result<Router> {
    db.analytics_cache = AnalyticsCache::new(args.analytics_cache_mb);
    let db = db.with_analytics_pool(args.analytics_connections).await?;
    let reads = match &args.read_database_url {
        Some(url) => {
            if db.backend() != sea_orm::DatabaseBackend::Postgres || !url.starts_with("postgres") {
                anyhow::bail!(
                    "--read-database-url needs PostgreSQL on both sides (a streaming replica of the database URL)"
                );
            }
            let size = db.conn.get_postgres_connection_pool().options().get_max_connections();
            let replica = db
                .reader(url, size, args.analytics_connections)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open the read database: {e}"))?;
            let reads = ReadRouting::new(replica, Duration::from_millis(args.read_your_writes_wait_ms));
            reads.start_probe(&db.url, url).await?;
            Some(reads)
        }
        None => None,
    };
    let feed_options = FeedOptions { poll: Duration::from_millis(args.feed_poll_ms.max(10)), ..FeedOptions::default() };
    // The feed reads on a pool of its own: request load cannot starve it, and its reads do not
    // count as statements of requests.
    let feed_db = Db::connect(args.feed_database_url.as_deref().unwrap_or(&db.url), 2).await?;
    let feed = Feed::start(feed_db.conn, db.commits.clone(), feed_options).await?;
    // The first read must succeed: without counts every network would be estimated as empty.
    // The counts are read on a pool of their own, so they never count as statements of requests.
    let counts_db = Db::connect(&db.url, 1).await?;
    *db.network_counts.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
        crate::db::queries::network::registry_counts(&counts_db.conn).await?;
    tokio::spawn({
        let counts = db.network_counts.clone();
        async move {
            let mut every = tokio::time::interval(NETWORK_COUNTS_REFRESH);
            every.tick().await;
            loop {
                every.tick().await;
                refresh_network_counts(&counts_db, &counts).await;
            }
        }
    });
    let cost_limits = crate::graphql::cost::CostLimits::default().capped(args.max_complexity);
    let limits = Limits {
        max_depth: args.max_depth,
        max_complexity: args.max_complexity,
        introspection: !args.disable_introspection,
    };
    let state = GraphqlState {
        schema: build_schema(Some(db.clone()), limits),
        db: db.clone(),
        max_batch: args.max_batch,
        writer_lane: Some(WriterLane::start(&db).await?),
        reads: reads.clone(),
    };
    let rate_limit = RateLimit {
        per_second: args.rate_limit_per_second,
        burst: args.rate_limit_burst,
        trusted_proxies: args.trusted_proxies.clone(),
    };
    let ws = WsState {
        schema: state.schema.clone(),
        db: db.clone(),
        feed,
        authenticator: authenticator.clone(),
        limits: WsLimits {
            init_timeout: Duration::from_secs(args.ws_init_timeout_secs),
            keepalive: Duration::from_secs(args.ws_keepalive_secs.max(1)),
            max_subscriptions: args.ws_max_subscriptions,
            ..WsLimits::default()
        },
    };
    let clock = args
        .rate_limit_clock
        .clone()
        .map_or_else(crate::http::edge::EdgeClock::real, crate::http::edge::EdgeClock::manual);
    let edge = Edge::new(authenticator, Some(rate_limit), clock);
    let graphql = Router::new()
        .route("/graphql", get(graphql_handler).post(graphql_handler))
        .with_state(state)
        .merge(Router::new().route("/graphql/ws", get(ws_handler)).with_state(ws))
        .merge(
            Router::new()
                .route("/export/{file}", get(export_network))
                .with_state(DownloadState { db: db.clone(), limits: cost_limits }),
        )
        .route_layer(middleware::from_fn_with_state(edge, guard_edge));
    let request_id = HeaderName::from_static(REQUEST_ID);
    Ok(Router::new()
        .merge(crate::http::pages::router())
        .merge(graphql)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(InstanceState { db: db.clone(), reads: reads.clone() }))
        .route("/metrics", get(metrics).with_state(InstanceState { db, reads }))
        // Innermost first: the body limit is a layer, so it also bounds what the handler reads.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(args.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(args.request_timeout_secs),
        ))
        .layer(middleware::from_fn(code_layer_errors))
        .layer(cors(&args.cors_origins)?)
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid)))
}

/// What `/metrics` and `/readyz` read: the primary (and its counters), and the replica's
/// routing when queries go to one.
#[derive(Clone)]
struct InstanceState {
    db: Db,
    reads: Option<ReadRouting>,
}

/// Prometheus text for routed reads: who answered, whether the replica answers, and its lag in
/// seconds and bytes (`NaN` when unknown, so a dashboard shows a gap rather than a stale number),
/// all from the routing's probe: a scrape sends no statement.
fn read_routing_metrics(reads: &ReadRouting) -> String {
    let health = reads.health();
    let known = |value: Option<f64>| if health.up { value.unwrap_or(f64::NAN) } else { f64::NAN };
    let receiving = match health.status.receiving {
        Some(receiving) if health.up => f64::from(u8::from(receiving)),
        _ => f64::NAN,
    };
    format!(
        "# HELP samverka_graphql_answered_total GraphQL requests by the database that answered them.\n\
         # TYPE samverka_graphql_answered_total counter\n\
         samverka_graphql_answered_total{{database=\"primary\"}} {}\n\
         samverka_graphql_answered_total{{database=\"replica\"}} {}\n\
         # HELP samverka_graphql_answered_again_total Queries the replica failed or dropped that the primary answered.\n\
         # TYPE samverka_graphql_answered_again_total counter\n\
         samverka_graphql_answered_again_total {}\n\
         # HELP samverka_replica_up Whether the replica answered its last probe (0: queries go to the primary).\n\
         # TYPE samverka_replica_up gauge\n\
         samverka_replica_up {}\n\
         # HELP samverka_replica_lag_seconds Seconds the replica's last replayed transaction is behind (0: caught up).\n\
         # TYPE samverka_replica_lag_seconds gauge\n\
         samverka_replica_lag_seconds {}\n\
         # HELP samverka_replica_lag_bytes Bytes of WAL the primary has written that the replica has not replayed.\n\
         # TYPE samverka_replica_lag_bytes gauge\n\
         samverka_replica_lag_bytes {}\n\
         # HELP samverka_replica_receiving Whether the replica's WAL receiver streams from the primary (NaN: not visible to this role).\n\
         # TYPE samverka_replica_receiving gauge\n\
         samverka_replica_receiving {receiving}\n",
        reads.answered_by_primary.get(),
        reads.answered_by_replica.get(),
        reads.answered_again.get(),
        u8::from(health.up),
        known(health.status.lag_seconds.or(Some(0.0))),
        known(health.lag_bytes),
    )
}

/// Prometheus text exposition of the counters load tests need (statements per request), the
/// heavy-job queue, and read routing.
async fn metrics(State(InstanceState { db, reads }): State<InstanceState>) -> impl axum::response::IntoResponse {
    let (waiting, running, stopped) = crate::jobs::counts();
    let body = format!(
        "# HELP samverka_sql_statements_total SQL statements sent to the database.\n\
         # TYPE samverka_sql_statements_total counter\n\
         samverka_sql_statements_total {}\n\
         # HELP samverka_graphql_requests_total GraphQL operations executed.\n\
         # TYPE samverka_graphql_requests_total counter\n\
         samverka_graphql_requests_total {}\n\
         # HELP samverka_heavy_jobs_waiting Network builds and analyses waiting for a slot.\n\
         # TYPE samverka_heavy_jobs_waiting gauge\n\
         samverka_heavy_jobs_waiting {}\n\
         # HELP samverka_heavy_jobs_running Network builds and analyses running.\n\
         # TYPE samverka_heavy_jobs_running gauge\n\
         samverka_heavy_jobs_running {}\n\
         # HELP samverka_heavy_jobs_stopped_total Heavy jobs stopped because their request went away.\n\
         # TYPE samverka_heavy_jobs_stopped_total counter\n\
         samverka_heavy_jobs_stopped_total {}\n",
        db.statements.get(),
        db.operations.get(),
        waiting,
        running,
        stopped
    );
    let body = match &reads {
        Some(reads) => body + &read_routing_metrics(reads),
        None => body,
    };
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// CORS from an explicit allow-list; with none configured no CORS headers are sent, so browsers
/// keep other sites' pages out.
fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let origins = origins
        .iter()
        .filter(|origin| !origin.trim().is_empty())
        .map(|origin| {
            HeaderValue::from_str(origin.trim()).map_err(|_| anyhow::anyhow!("`{origin}` is not a valid CORS origin"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(600)))
}

/// How long `/readyz` waits for a database's answer: balancers check every second or two.
const READY_PING: Duration = Duration::from_secs(1);

/// Ready while this instance can answer something: the primary answers, or queries have a
/// replica that does. With the primary down every instance is in the same state, so taking
/// them all out of the balancer would only trade coded `UNAVAILABLE` answers for the balancer's
/// bare 503 and drop the reads the replica can still serve. The body says which database answers.
async fn readyz(State(InstanceState { db, reads }): State<InstanceState>) -> impl IntoResponse {
    let primary = tokio::time::timeout(READY_PING, db.ping()).await.unwrap_or(false);
    let replica = reads.as_ref().map(|reads| reads.health().up);
    let state = |up: bool| if up { "up" } else { "down" };
    let mut body = serde_json::json!({ "primary": state(primary) });
    if let Some(replica) = replica {
        body["replica"] = state(replica).into();
    }
    if primary || replica == Some(true) {
        body["status"] = "ready".into();
        (StatusCode::OK, Json(body))
    } else {
        body["status"] = "database unreachable".into();
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}

/// Ctrl-C, or SIGTERM (what systemd, Kubernetes and `kill` send): either lets requests in
/// flight finish before the server stops.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted: finishing requests in flight"),
        () = terminate => tracing::info!("SIGTERM: finishing requests in flight"),
    }
}
