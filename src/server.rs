//! The HTTP server: routes, middleware (tracing, timeout, body limit), and startup (migrate,
//! load the demo registry into an empty database). `App::build` binds first so tests can use
//! port 0 and read the real port.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::cli::ServeArgs;
use crate::db::Db;
use crate::graphql::http::{GraphqlState, graphql_handler};
use crate::graphql::{Limits, build_schema};

/// The demo registry shipped inside the binary, so it runs without the source tree.
pub const DEMO_REGISTRY: &[u8] = include_bytes!("../data/seed-facts.json");

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    router: Router,
}

impl App {
    /// Prepares the database (migrations; demo data when empty and wanted) and binds the listener.
    pub async fn build(db: Db, args: &ServeArgs) -> anyhow::Result<Self> {
        db.migrate().await?;
        if !args.no_demo && db.is_empty().await? {
            let summary = crate::load_registry(&db, DEMO_REGISTRY).await?;
            tracing::info!(rows.inserted = summary.total().inserted, "loaded the demo registry into an empty database");
        }
        let listener = TcpListener::bind(args.listen).await?;
        Ok(Self { listener, router: router(db, args) })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until ctrl-c (or the future is dropped).
    pub async fn run(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown_signal()).await
    }
}

pub fn router(db: Db, args: &ServeArgs) -> Router {
    let limits = Limits { max_depth: args.max_depth, max_complexity: args.max_complexity };
    let state = GraphqlState { schema: build_schema(Some(db.clone()), limits), db: db.clone() };
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql_handler).post(graphql_handler))
        .with_state(state)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(db))
        // The body limit is a layer, so it also bounds what the GraphQL extractor reads.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(args.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(args.request_timeout_secs),
        ))
        .layer(TraceLayer::new_for_http())
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").title("Samverka registry").finish())
}

async fn readyz(State(db): State<Db>) -> impl IntoResponse {
    if db.ping().await {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ready" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unreachable" })))
    }
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
