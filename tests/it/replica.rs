//! Queries on a read database (`--read-database-url`), with read-your-writes: which database
//! answers, the write's WAL position, waiting for it, and the fallback to the primary. The
//! suite's PostgreSQL has no standby, so the read URL is the same database under another
//! session name; a position it has not written yet stands for a replica that lags.

use samverka::auth::{Authenticator, KeySource, Role};
use samverka::cli::ServeArgs;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use crate::support::{TEST_SECRET, TestApp, TestDb};

const QUERY: &str = r#"{"query": "{ regions(first: 2) { nodes { slug } } }"}"#;

async fn post(app: &TestApp, body: &str, headers: &[(&str, &str)], token: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn queries_read_on_the_replica_and_see_their_own_writes() {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        // SQLite has no replicas: the setting is refused at start, with the reason.
        let test_db = TestDb::new().await;
        let args = ServeArgs { read_database_url: Some(test_db.db.url.to_string()), ..ServeArgs::default() };
        let auth = Authenticator::new(&KeySource::Secret(TEST_SECRET.to_vec()), "samverka").unwrap();
        let error = samverka::server::App::build(test_db.db.clone(), &args, auth).await.err().expect("refused");
        assert!(error.to_string().contains("PostgreSQL"), "{error}");
        return;
    }
    let app = TestApp::spawn_with_url(|url| ServeArgs {
        read_database_url: Some(format!(
            "{url}{}application_name=samverka-read-test",
            if url.contains('?') { '&' } else { '?' }
        )),
        read_your_writes_wait_ms: 100,
        ..ServeArgs::default()
    })
    .await;

    // A query is answered by the replica, on the read URL's sessions.
    let response = post(&app, QUERY, &[], None).await;
    assert_eq!(header(&response, "x-samverka-database").as_deref(), Some("replica"));
    assert!(header(&response, "x-samverka-lsn").is_none(), "only writes carry a position");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["regions"]["nodes"].as_array().unwrap().len(), 2, "{body}");
    let sessions = app
        .db
        .conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'samverka-read-test' AND query ILIKE '%regions%'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(sessions.try_get::<i64>("", "n").unwrap() >= 1, "the query ran on the read URL's session");

    // A write is answered by the primary and says where its commit stands.
    let mutation =
        json!({ "query": r#"mutation { createOrganisation(input: {slug: "org-ryw", name: "Ryw AS", kind: COMPANY,
        country: "NO", municipality: "mun-no-rana"}) { slug } }"# })
        .to_string();
    let response = post(&app, &mutation, &[], Some(app.token(Role::Editor))).await;
    assert_eq!(header(&response, "x-samverka-database").as_deref(), Some("primary"));
    let lsn = header(&response, "x-samverka-lsn").expect("a write's position");
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");

    // Presenting it: the replica has it, so the replica answers, and the write is there.
    let read_own = json!({ "query": r#"{ organisation(slug: "org-ryw") { name } }"# }).to_string();
    let response = post(&app, &read_own, &[("x-samverka-after-lsn", &lsn)], None).await;
    assert_eq!(header(&response, "x-samverka-database").as_deref(), Some("replica"));
    assert_eq!(response.json::<Value>().await.unwrap()["data"]["organisation"]["name"], "Ryw AS");

    // A position the replica has not reached within the wait: the primary answers.
    let response = post(&app, QUERY, &[("x-samverka-after-lsn", "FFFFFFFF/0")], None).await;
    assert_eq!(header(&response, "x-samverka-database").as_deref(), Some("primary"));
    assert!(response.json::<Value>().await.unwrap().get("errors").is_none());

    // Not a position: refused, not ignored.
    let response = post(&app, QUERY, &[("x-samverka-after-lsn", "0'; SELECT 1 --")], None).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Who answered, and the replica's lag, in /metrics.
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    let value = |line: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix(line)).and_then(|v| v.trim().parse().ok()).unwrap_or(-1.0)
    };
    assert_eq!(value(r#"samverka_graphql_answered_total{database="replica"}"#), 2.0, "{metrics}");
    assert_eq!(value(r#"samverka_graphql_answered_total{database="primary"}"#), 2.0, "{metrics}");
    assert_eq!(value("samverka_replica_lag_seconds"), 0.0, "not a standby: no lag");
}
