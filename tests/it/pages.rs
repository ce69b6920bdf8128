//! The pages and their assets: every file a page refers to under `/assets/` is served from the
//! binary with its type, gzip when asked, an ETag that revalidates, and nothing else is.

use std::path::Path;

use crate::support::TestApp;

/// The `/assets/…` paths a page's HTML refers to (`src="…"`, `href="…"`) or fetches.
fn asset_paths(html: &str) -> Vec<String> {
    let mut paths: Vec<String> = html
        .split(['"', '\'', '`'])
        .filter(|part| part.starts_with("/assets/") && !part.contains(['$', '{', ' ']))
        // A whole file name, not a prefix the script completes.
        .filter(|part| part.rsplit('/').next().is_some_and(|name| name.contains('.')))
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn pages_and_their_assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut referenced = Vec::new();
    for (route, file, marker) in [
        ("/", "graphiql.html", "/assets/graphiql.min.js"),
        ("/dashboard", "dashboard.html", "/assets/d3.min.js"),
        ("/network", "network.html", "/assets/cytoscape.min.js"),
    ] {
        let response = app.client.get(format!("{}{route}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{route}");
        let html = response.text().await.unwrap();
        assert_eq!(html, std::fs::read_to_string(web.join(file)).unwrap(), "{route} serves web/{file}");
        assert!(html.contains(marker), "{route} loads {marker}");
        assert!(
            !html.contains("://cdn") && !html.contains("unpkg.com") && !html.contains("jsdelivr"),
            "{route} loads from a CDN"
        );
        referenced.extend(asset_paths(&html));
    }
    assert!(referenced.len() >= 6, "pages refer to their assets: {referenced:?}");

    for path in &referenced {
        let on_disk = match path.strip_prefix("/assets/maps/") {
            Some(name) => web.join("maps").join(name),
            None => web.join("vendor").join(path.trim_start_matches("/assets/")),
        };
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let expected = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "application/json"
        };
        assert_eq!(content_type, expected, "{path}");
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.as_ref(), std::fs::read(&on_disk).unwrap(), "{path} is {}", on_disk.display());

        let again = app.client.get(format!("{}{path}", app.base)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path} revalidates by its ETag");
        let gzipped =
            app.client.get(format!("{}{path}", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{path}");
        let compressed = gzipped.bytes().await.unwrap();
        assert!(compressed.len() < body.len(), "{path}: gzip {} of {} bytes", compressed.len(), body.len());
    }

    // The map shapes of both Norwegian structures and Sweden's, as the dashboard asks for them.
    for name in ["no-fylker-2024", "no-kommuner-2024", "no-fylker-2020", "no-kommuner-2020", "se-lan", "se-kommuner"] {
        let response = app.client.get(format!("{}/assets/maps/{name}.json", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let topology: serde_json::Value = response.json().await.unwrap();
        assert_eq!(topology["type"], "Topology", "{name}");
        assert!(topology["objects"]["regions"]["geometries"].as_array().is_some_and(|g| !g.is_empty()), "{name}");
    }

    // Only the vendored files and shapes: no licence texts, checksums, build scripts or paths out.
    for path in [
        "/assets/SHA256SUMS",
        "/assets/maps/build.mjs",
        "/assets/maps/README.md",
        "/assets/..%2FCargo.toml",
        "/assets/nothing.js",
    ] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{path}: {body}");
    }
}
