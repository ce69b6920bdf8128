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

/// A TCP forwarder to PostgreSQL that a test can cut, as a database going away looks to the
/// server: open connections break, and new ones are accepted and closed at once (as a pooler
/// in front of a stopped server answers).
struct Cuttable {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cuttable {
    async fn to(target: &str) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (target, accept_open, accept_connections) = (target.to_owned(), open.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_connections.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, open, connections }
    }

    /// `url` with its host and port replaced by this forwarder's.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority.rsplit_once('@').map(|(user, _)| format!("{user}@")).unwrap_or_default();
        format!("{scheme}://{user}127.0.0.1:{}/{path}", self.port)
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        self.connections.lock().unwrap().drain(..).for_each(|task| task.abort());
    }

    fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// PostgreSQL's `host:port` in a URL.
fn host_port(url: &str) -> String {
    let authority = url.split_once("://").unwrap().1.split('/').next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") }
}

/// Polls `/readyz` until its body says `database` is `state` (never a fixed wait).
async fn until_ready_says(client: &reqwest::Client, base: &str, database: &str, state: &str) -> (u16, Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let response = client.get(format!("{base}/readyz")).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if body[database] == state {
            return (status, body);
        }
        assert!(std::time::Instant::now() < deadline, "/readyz never said {database} {state}: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_replica_that_goes_away_is_routed_around_and_a_primary_that_goes_away_is_unavailable_not_internal() {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        return; // SQLite has no replicas (the setting is refused, tested above).
    }
    let app = TestApp::spawn().await;
    let direct = app.db.url.to_string();
    let primary = Cuttable::to(&host_port(&direct)).await;
    let replica = Cuttable::to(&host_port(&direct)).await;
    // An instance whose primary and replica both pass a forwarder; LISTEN goes direct.
    let args = ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        no_demo: true,
        read_database_url: Some(replica.url(&direct)),
        feed_database_url: Some(direct.clone()),
        ..ServeArgs::default()
    };
    let db = samverka::db::Db::connect(&primary.url(&direct), 5).await.unwrap();
    let instance = samverka::server::App::build(db, &args, app.auth.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", instance.port());
    tokio::spawn(instance.run());
    let client = reqwest::Client::new();
    let query = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = client.post(format!("{base}/graphql")).header("content-type", "application/json").body(QUERY);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let answered = |response: &reqwest::Response| header(response, "x-samverka-database");

    let response = query(&[]).await.unwrap();
    assert_eq!(answered(&response).as_deref(), Some("replica"));

    // The replica goes away: queries are answered by the primary, without an error, also the
    // first one, which may have been sent to the replica before the probe noticed.
    replica.cut();
    for _ in 0..3 {
        let response = query(&[]).await.unwrap();
        assert_eq!(answered(&response).as_deref(), Some("primary"));
        let body: Value = response.json().await.unwrap();
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["regions"]["nodes"].as_array().unwrap().len(), 2, "{body}");
    }
    let (status, body) = until_ready_says(&client, &base, "replica", "down").await;
    assert_eq!((status, &body["primary"]), (200, &json!("up")), "{body}");
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("samverka_replica_up 0\n"), "{metrics}");
    assert!(metrics.contains("samverka_replica_lag_bytes NaN\n"), "no stale lag while it is down: {metrics}");

    // It comes back: the probe finds it, and queries go to it again.
    replica.restore();
    until_ready_says(&client, &base, "replica", "up").await;
    assert_eq!(answered(&query(&[]).await.unwrap()).as_deref(), Some("replica"));
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("samverka_replica_up 1\n"), "{metrics}");
    assert!(metrics.contains("samverka_replica_lag_bytes 0\n"), "not a standby, so level with the primary: {metrics}");

    // The primary goes away: the instance stays ready (the replica answers queries), and a
    // write is refused with a retryable code, never INTERNAL.
    primary.cut();
    let (status, body) = until_ready_says(&client, &base, "primary", "down").await;
    assert_eq!((status, &body["replica"]), (200, &json!("up")), "{body}");
    assert_eq!(answered(&query(&[]).await.unwrap()).as_deref(), Some("replica"));
    let write = json!({ "query": r#"mutation { createOrganisation(input: {slug: "org-outage", name: "Outage AS",
        kind: COMPANY, country: "NO"}) { slug } }"# })
    .to_string();
    let token = app.token(Role::Editor);
    let send_write = || {
        client
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .bearer_auth(&token)
            .body(write.clone())
            .send()
    };
    let body: Value = send_write().await.unwrap().json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{body}");

    // Back: the same write goes through (the pool reconnects by itself).
    primary.restore();
    until_ready_says(&client, &base, "primary", "up").await;
    let body: Value = send_write().await.unwrap().json().await.unwrap();
    assert_eq!(body["data"]["createOrganisation"]["slug"], "org-outage", "{body}");
}
