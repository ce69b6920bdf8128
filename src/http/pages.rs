//! Pages for people, served by the binary with nothing fetched from another origin: GraphiQL at
//! `/`, the live map `/dashboard` and the partner network `/network`. Their front-end parts are
//! vendored from npm into `web/vendor` and the map shapes built into `web/maps` (both by
//! `web/vendor.sh`), and embedded at compile time, so running the server needs no Node.js.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;
use tower_http::compression::CompressionLayer;

use crate::codes::Code;
use crate::http::edge::{coded_response, request_id};

/// The pages and their assets, gzip-compressed for browsers that ask (the vendored scripts and
/// map shapes shrink to about a third).
pub fn router() -> Router {
    Router::new()
        .route("/", get(landing_page))
        .route("/dashboard", get(dashboard_page))
        .route("/network", get(network_page))
        .route("/assets/maps/{file}", get(map_asset))
        .route("/assets/{file}", get(vendor_asset))
        .layer(CompressionLayer::new().gzip(true))
}

/// Vendored scripts and styles (`web/vendor`), served under `/assets/`.
#[derive(Embed)]
#[folder = "web/vendor/"]
#[exclude = "SHA256SUMS"]
#[exclude = "*.LICENSE"]
struct Vendor;

/// TopoJSON map shapes (`web/maps`), served under `/assets/maps/`.
#[derive(Embed)]
#[folder = "web/maps/"]
#[include = "*.json"]
struct Maps;

async fn landing_page() -> Html<&'static str> {
    Html(include_str!("../../web/graphiql.html"))
}

async fn dashboard_page() -> Html<&'static str> {
    Html(include_str!("../../web/dashboard.html"))
}

async fn network_page() -> Html<&'static str> {
    Html(include_str!("../../web/network.html"))
}

async fn vendor_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    asset(Vendor::get(&file), &headers)
}

async fn map_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    asset(Maps::get(&file), &headers)
}

/// An embedded file with its type and an ETag from its hash, so a browser revalidates with a
/// 304 instead of downloading it again after the day's caching.
fn asset(file: Option<rust_embed::EmbeddedFile>, headers: &HeaderMap) -> Response {
    let Some(file) = file else {
        return coded_response(
            Code::NotFound,
            "no such asset; the pages are /, /dashboard and /network",
            &request_id(headers),
        );
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cached = headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()) == Some(etag.as_str());
    let etag = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let content_type = match file.metadata.mimetype() {
        // The TopoJSON shapes are JSON; scripts and styles declare UTF-8 so no sniffing is needed.
        "application/json" => "application/json",
        "text/javascript" | "application/javascript" => "text/javascript; charset=utf-8",
        "text/css" => "text/css; charset=utf-8",
        other => other,
    };
    let common = [
        (header::ETAG, etag),
        // Versioned with the binary; a day is short enough for an upgrade to show.
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
    ];
    if cached {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (common, [(header::CONTENT_TYPE, content_type)], file.data).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
