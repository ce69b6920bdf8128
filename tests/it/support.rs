//! Test harness: a real server on 127.0.0.1:0 over a fresh database — SQLite in a temp dir, or,
//! when `TEST_DATABASE_URL` is a PostgreSQL URL, a new PostgreSQL database that is dropped
//! afterwards. An unreachable PostgreSQL fails the test; it never falls back to SQLite.

use std::sync::atomic::{AtomicU32, Ordering};

use samverka::auth::{Authenticator, KeySource, Role};
use samverka::cli::ServeArgs;
use samverka::db::{Db, StatementCounter};
use samverka::server::App;
use serde_json::{Value, json};

static DATABASE_SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test.
pub struct TestDb {
    pub db: Db,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) {
            Some(admin_url) => {
                let name = format!(
                    "samverka_test_{}_{}",
                    std::process::id(),
                    DATABASE_SEQUENCE.fetch_add(1, Ordering::Relaxed)
                );
                let admin = Db::connect(&admin_url, 1)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is unreachable: {e}"));
                samverka::db::execute(&admin.conn, &format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
                samverka::db::execute(&admin.conn, &format!("CREATE DATABASE {name}")).await.unwrap();
                let url = replace_database(&admin_url, &name);
                let db = Db::connect(&url, 5).await.unwrap();
                Self { db, admin: Some((admin_url, name)), _dir: None }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = samverka::db::sqlite_url(&dir.path().join("test.db"));
                let db = Db::connect(&url, 5).await.unwrap();
                Self { db, admin: None, _dir: Some(dir) }
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.admin.take() {
            // Drop runs inside the test's (blocked) runtime, so clean up on a thread with a runtime
            // of its own. The pool's connections belong to the test runtime and cannot be closed
            // from here; `WITH (FORCE)` ends them.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async move {
                    if let Ok(admin) = Db::connect(&admin_url, 1).await {
                        let _ =
                            samverka::db::execute(&admin.conn, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// A running server with the demo registry loaded.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub statements: StatementCounter,
    /// The server's database, for checking what a request wrote.
    pub db: Db,
    /// Signs tokens the server accepts (HS256 with the test secret).
    pub auth: Authenticator,
    /// Kept so the database outlives the server; dropped (and on PostgreSQL removed) last.
    /// `None` for a second instance on another app's database.
    _test_db: Option<TestDb>,
}

/// The HS256 secret of test servers.
pub const TEST_SECRET: &[u8] = b"samverka-test-secret-0123456789abcdef";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(ServeArgs { listen: "127.0.0.1:0".parse().unwrap(), ..ServeArgs::default() }).await
    }

    pub async fn spawn_with(args: ServeArgs) -> Self {
        let auth = Authenticator::new(&KeySource::Secret(TEST_SECRET.to_vec()), "samverka").unwrap();
        Self::spawn_with_auth(args, auth).await
    }

    pub async fn spawn_with_auth(args: ServeArgs, auth: Authenticator) -> Self {
        Self::spawn_on(TestDb::new().await, args, auth).await
    }

    /// A server over the `small` synthetic registry (seed 42) instead of the demo.
    pub async fn spawn_synthetic() -> Self {
        Self::spawn_synthetic_with(ServeArgs::default()).await
    }

    /// The same, with `args` (its listen address and `no_demo` are set here).
    pub async fn spawn_synthetic_with(args: ServeArgs) -> Self {
        let test_db = TestDb::new().await;
        test_db.db.migrate().await.unwrap();
        samverka::db::seed::seed_synthetic(&test_db.db, samverka::db::seed::synthetic::Scale::Small, 42, false)
            .await
            .unwrap();
        let args = ServeArgs { listen: "127.0.0.1:0".parse().unwrap(), no_demo: true, ..args };
        let auth = Authenticator::new(&KeySource::Secret(TEST_SECRET.to_vec()), "samverka").unwrap();
        Self::spawn_on(test_db, args, auth).await
    }

    /// A server over the demo whose `args` are made knowing the database URL (for settings that
    /// name the database again, such as the feed's URL).
    pub async fn spawn_with_url(args: impl FnOnce(&str) -> ServeArgs) -> Self {
        let test_db = TestDb::new().await;
        let args = args(&test_db.db.url);
        let auth = Authenticator::new(&KeySource::Secret(TEST_SECRET.to_vec()), "samverka").unwrap();
        Self::spawn_on(test_db, args, auth).await
    }

    async fn spawn_on(test_db: TestDb, args: ServeArgs, auth: Authenticator) -> Self {
        let app = App::build(test_db.db.clone(), &args, auth.clone()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        Self {
            base,
            client: reqwest::Client::new(),
            statements: test_db.db.statements.clone(),
            db: test_db.db.clone(),
            auth,
            _test_db: Some(test_db),
        }
    }

    /// Another server instance on this app's database, with its own connections, cache and
    /// change feed, as a second process behind a balancer would have. Drop it first.
    pub async fn spawn_instance(&self, args: ServeArgs) -> TestApp {
        let db = Db::connect(&self.db.url, 5).await.unwrap();
        let args = ServeArgs { listen: "127.0.0.1:0".parse().unwrap(), no_demo: true, ..args };
        let app = App::build(db.clone(), &args, self.auth.clone()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        TestApp {
            base,
            client: reqwest::Client::new(),
            statements: db.statements.clone(),
            db,
            auth: self.auth.clone(),
            _test_db: None,
        }
    }

    /// A valid token for `role` (subject `test-<role>`).
    pub fn token(&self, role: Role) -> String {
        self.auth.issue(&format!("test-{}", role.as_str()), role, std::time::Duration::from_secs(600)).unwrap()
    }

    /// POSTs a query with an optional bearer token; returns status and JSON body.
    pub async fn post_as(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request =
            self.client.post(format!("{}/graphql", self.base)).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Runs a query as `role` and returns the whole body (asserting HTTP 200).
    pub async fn post_role(&self, role: Role, query: &str, variables: Value) -> Value {
        let token = (role != Role::Public).then(|| self.token(role));
        let (status, body) = self.post_as(token.as_deref(), query, variables).await;
        assert_eq!(status, 200, "status for {query}: {body}");
        body
    }

    /// POSTs a query and returns the whole JSON response (data and errors).
    pub async fn post(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "POST /graphql status");
        response.json().await.unwrap()
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str) -> Value {
        let body = self.post(query, json!({})).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The cursor of the last committed change: a subscription started `after` it sees every
    /// later change, however long the server takes to register it (no waiting).
    pub async fn last_cursor(&self) -> String {
        use sea_orm::{ConnectionTrait, Statement};
        let statement = Statement::from_string(self.db.backend(), "SELECT COALESCE(MAX(seq), 0) AS seq FROM events");
        let row = self.db.conn.query_one_raw(statement).await.unwrap().unwrap();
        row.try_get::<i64>("", "seq").unwrap().to_string()
    }

    /// Runs a query that must fail and returns the `extensions.code` of its first error.
    pub async fn error_code(&self, query: &str) -> String {
        let body = self.post(query, json!({})).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected a coded error, got {body:#}"))
            .to_owned()
    }
}

/// Sorted strings of a JSON array of objects at `key`.
pub fn strings(array: &Value, key: &str) -> Vec<String> {
    let mut values: Vec<String> =
        array.as_array().unwrap().iter().map(|item| item[key].as_str().unwrap().to_owned()).collect();
    values.sort();
    values
}

/// The nodes of a connection, as a JSON array.
pub fn nodes(connection: &Value) -> Value {
    Value::Array(connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"].clone()).collect())
}
