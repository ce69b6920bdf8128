//! Heavy jobs against a real server: analyses whose request timed out stop (counted in
//! `/metrics`). A test binary of its own: the heavy-job queue and its counters are
//! process-wide, so analyses of tests running in parallel in `it` would hold its slots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use samverka::auth::Role;
use samverka::cli::ServeArgs;
use serde_json::json;

use crate::support::TestApp;

/// `samverka_heavy_jobs_stopped_total` from `/metrics`.
async fn stopped_jobs(app: &TestApp) -> u64 {
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("samverka_heavy_jobs_stopped_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no stopped-jobs counter in {metrics}"))
}

#[tokio::test]
async fn analyses_whose_request_timed_out_stop() {
    // Far shorter than the analyses below take (the network is built before, outside the clock).
    let args = ServeArgs { request_timeout_secs: 1, ..ServeArgs::default() };
    let app = TestApp::spawn_synthetic_with(args).await;
    // Built once and cached, so the request below spends its second on analyses.
    let built = app.post_role(Role::Admin, "{ network { nodeCount } }", json!({})).await;
    assert!(built.get("errors").is_none(), "{built}");
    let before = stopped_jobs(&app).await;
    // Fifteen distinct exact analyses queue two at a time: far more than a second of work.
    let analyses: String =
        (0..15).map(|i| format!("a{i}: network {{ betweenness(seed: {i}) {{ score }} }} ")).collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.token(Role::Admin))
        .json(&json!({ "query": format!("{{ {analyses} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 408);
    // The running analyses see their stop and end early (counted when they do); queued ones
    // never start.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while stopped_jobs(&app).await == before {
        assert!(tokio::time::Instant::now() < deadline, "no analysis stopped after the timeout");
        tokio::task::yield_now().await;
    }
}
