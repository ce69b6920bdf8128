//! Pages for people: `/network` draws a partner network (Cytoscape.js, vendored from npm into
//! `web/vendor` and embedded at compile time, so the server needs no Node.js). The page takes
//! the query parameters of `/export/network.json` and fetches the network from there.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse};

const NETWORK_PAGE: &str = include_str!("../web/network.html");
const CYTOSCAPE: &str = include_str!("../web/vendor/cytoscape.min.js");

pub async fn network_page() -> Html<&'static str> {
    Html(NETWORK_PAGE)
}

pub async fn cytoscape_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            // Versioned with the binary; a day is short enough for an upgrade to show.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        CYTOSCAPE,
    )
}
