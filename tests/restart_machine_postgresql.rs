//! PostgreSQL restarted under a live subscription. It restarts the machine's own cluster
//! (`pg_ctlcluster … main restart`), so it is opt-in: it runs only when
//! `SAMVERKA_TEST_RESTART_MACHINE_POSTGRESQL=1` (as `.ci/run` sets it for its PostgreSQL run)
//! and `TEST_DATABASE_URL` is a PostgreSQL URL, and says so otherwise. A test binary of its own:
//! cargo runs test binaries one after another, so the restart cannot break the tests running in
//! parallel in `it`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;
#[allow(dead_code)]
#[path = "it/ws_client.rs"]
mod ws_client;

use std::process::Command;

use samverka::auth::Role;
use serde_json::json;
use support::TestApp;
use ws_client::{Protocol, WsClient};

const CHANGES: &str = r#"subscription($after: String) {
    registryChanged(filter: {entities: ["organisations"]}, after: $after) { cursor slug } }"#;

fn pg_isready() -> bool {
    Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", "5432", "-q"]).status().is_ok_and(|s| s.success())
}

/// Restarts the local cluster (`pg_ctlcluster … restart`, which returns once it accepts connections).
fn restart_postgresql() {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL cluster under /etc/postgresql")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .max()
        .expect("a PostgreSQL version directory");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "restart"])
        .status()
        .expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart failed");
    // pg_ctlcluster waits until the server accepts connections before it returns.
    assert!(pg_isready(), "PostgreSQL is not accepting connections after its restart");
}

/// Creates an organisation, retrying while the server's pool finds its old connections dead.
async fn create_organisation(app: &TestApp, slug: &str) {
    let query = format!(
        r#"mutation {{ createOrganisation(input: {{slug: "{slug}", name: "{slug}", kind: COMPANY, country: "NO"}}) {{ slug }} }}"#
    );
    for attempt in 0..40 {
        let body = app.post_role(Role::Editor, &query, json!({})).await;
        // CONFLICT: an earlier attempt committed but its answer was lost with the connection.
        if body.get("errors").is_none() || body["errors"][0]["extensions"]["code"] == "CONFLICT" {
            return;
        }
        // Each failed attempt makes the pool drop a connection the restart killed; the next
        // attempt gets a fresh one, so retrying at once is enough.
        println!("attempt {attempt} to create {slug}: {}", body["errors"][0]["message"]);
    }
    panic!("could not create {slug} after the restart");
}

#[tokio::test]
async fn a_subscription_sees_every_change_after_postgresql_restarts() {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        println!("PostgreSQL only: TEST_DATABASE_URL is not a PostgreSQL URL, so there is no server to restart");
        return;
    }
    if std::env::var("SAMVERKA_TEST_RESTART_MACHINE_POSTGRESQL").as_deref() != Ok("1") {
        println!(
            "opt-in: set SAMVERKA_TEST_RESTART_MACHINE_POSTGRESQL=1 to let this test restart the machine's PostgreSQL cluster"
        );
        return;
    }
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    // From the last cursor: no change can fall before the subscription's start.
    client.subscribe("1", CHANGES, json!({ "after": app.last_cursor().await })).await;
    create_organisation(&app, "org-before-restart").await;
    assert_eq!(client.data("1").await["registryChanged"]["slug"], "org-before-restart");

    restart_postgresql();
    // The same server process and the same socket: the pool and the LISTEN connection reconnect
    // on their own, and the feed reads whatever committed meanwhile from the outbox.
    for i in 0..5 {
        create_organisation(&app, &format!("org-after-restart-{i}")).await;
    }
    for i in 0..5 {
        let change = client.data("1").await;
        assert_eq!(change["registryChanged"]["slug"], format!("org-after-restart-{i}"));
    }
}
