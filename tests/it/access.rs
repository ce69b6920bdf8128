//! Who may do what: tokens (valid, expired, forged, wrong issuer, RS256), the role × operation
//! matrix, student data unreachable for `public` by any path, k-anonymous student counts, the
//! rate limiter, and the HTTP edge (CSRF, GET mutations, body limit, batches, CORS, introspection).

use std::time::Duration;

use samverka::auth::{Authenticator, Claims, KeySource, Role};
use samverka::cli::ServeArgs;
use serde_json::{Value, json};

use crate::support::{TEST_SECRET, TestApp};

const ROLES: [Role; 4] = [Role::Public, Role::Analyst, Role::Editor, Role::Admin];

fn args() -> ServeArgs {
    ServeArgs { listen: "127.0.0.1:0".parse().unwrap(), ..ServeArgs::default() }
}

fn sign(claims: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn claims(role: Role, issuer: &str, expires_in: i64) -> Claims {
    let now = samverka::auth::now_secs();
    Claims { sub: "mallory".into(), role, iss: issuer.into(), iat: now, exp: now.saturating_add_signed(expires_in) }
}

/// Creates `n` synthetic students enrolled at `organisation`, living in `municipality`.
async fn add_students(app: &TestApp, prefix: &str, n: usize, organisation: &str, municipality: &str) {
    for i in 0..n {
        let body = app
            .post_role(
                Role::Editor,
                "mutation($input: StudentInput!) { createStudent(input: $input) { slug synthetic } }",
                json!({ "input": {
                    "slug": format!("{prefix}-{i}"),
                    "enrollingOrganisation": organisation,
                    "homeMunicipality": municipality,
                    "enrolledFrom": "2024-08-15",
                }}),
            )
            .await;
        assert_eq!(body["data"]["createStudent"]["synthetic"], true, "{body:#}");
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_never_downgraded() {
    let app = TestApp::spawn().await;
    let query = "{ countries { totalCount } }";
    let cases = [
        ("expired", sign(&claims(Role::Admin, "samverka", -30), TEST_SECRET)),
        ("forged (other secret)", sign(&claims(Role::Admin, "samverka", 600), b"not-the-secret-not-the-secret-!!")),
        ("wrong issuer", sign(&claims(Role::Admin, "someone-else", 600), TEST_SECRET)),
        ("not a JWT", "abc.def.ghi".to_owned()),
    ];
    for (what, token) in cases {
        let (status, body) = app.post_as(Some(&token), query, json!({})).await;
        assert_eq!(status, 401, "{what}: {body:#}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{what}");
        assert!(body.get("data").is_none(), "{what}: no data for a refused token");
    }
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    // A good token works, and no token is public.
    for token in [Some(app.token(Role::Analyst)), None] {
        let (status, body) = app.post_as(token.as_deref(), query, json!({})).await;
        assert_eq!(status, 200);
        assert!(body["data"]["countries"]["totalCount"].as_i64().unwrap() >= 2, "{body:#}");
    }
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_public_key() {
    let keys = KeySource::Rsa {
        public_pem: include_bytes!("../fixtures/jwt-test-public.pem").to_vec(),
        private_pem: Some(include_bytes!("../fixtures/jwt-test-private.pem").to_vec()),
    };
    let auth = Authenticator::new(&keys, "samverka").unwrap();
    let app = TestApp::spawn_with_auth(args(), auth).await;
    let query = r#"{ student(slug: "none") { slug } }"#;
    let (status, body) = app.post_as(Some(&app.token(Role::Analyst)), query, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "an analyst passes the guard: {body:#}");
    // An HS256 token is refused by an RS256 server, even one signed with a plausible secret.
    let (status, _) =
        app.post_as(Some(&sign(&claims(Role::Admin, "samverka", 600), TEST_SECRET)), query, json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_role_against_every_guarded_operation() {
    let app = TestApp::spawn().await;
    add_students(&app, "stu-matrix", 1, "org-usn", "mun-no-porsgrunn").await;
    app.post_role(
        Role::Editor,
        r#"mutation { addPlacement(input: {slug: "pl-matrix", student: "stu-matrix-0", host: "org-ltu", kind: INTERNSHIP, validFrom: "2025-01-10"}) { slug } }"#,
        json!({}),
    )
    .await;
    // (operation, query, the least role that may run it)
    let operations: Vec<(&str, String, Role)> = vec![
        ("read regions", "{ regions(first: 1) { totalCount } }".into(), Role::Public),
        ("student count (k-anonymous)", r#"{ organisation(slug: "org-usn") { studentCount { suppressed } } }"#.into(), Role::Public),
        ("student lookup", r#"{ student(slug: "stu-matrix-0") { slug } }"#.into(), Role::Analyst),
        ("students list", "{ students(first: 5) { totalCount } }".into(), Role::Analyst),
        ("organisation.students", r#"{ organisation(slug: "org-usn") { students { slug } } }"#.into(), Role::Analyst),
        ("organisation.hostedPlacements", r#"{ organisation(slug: "org-ltu") { hostedPlacements { slug } } }"#.into(), Role::Analyst),
        ("placement lookup", r#"{ placement(slug: "pl-matrix") { kind } }"#.into(), Role::Analyst),
        ("placements list", "{ placements(first: 5) { totalCount } }".into(), Role::Analyst),
        ("mutation: create organisation", r#"mutation { createOrganisation(input: {slug: "org-ROLE", name: "R", kind: COMPANY}) { slug } }"#.into(), Role::Editor),
        ("mutation: add student", r#"mutation { createStudent(input: {slug: "stu-ROLE", enrollingOrganisation: "org-usn", enrolledFrom: "2024-01-01"}) { slug } }"#.into(), Role::Editor),
        ("mutation: import registry", "mutation { importRegistry(registry: {}) { inserted } }".into(), Role::Editor),
        ("audit trail", "{ changeEvents(first: 1) { seq } }".into(), Role::Admin),
    ];
    println!("{:<34} {:>8} {:>8} {:>8} {:>8}", "operation", "public", "analyst", "editor", "admin");
    for (name, query, least) in &operations {
        let mut cells = Vec::new();
        for role in ROLES {
            let query = query.replace("ROLE", role.as_str());
            let body = app.post_role(role, &query, json!({})).await;
            let forbidden = body["errors"]
                .as_array()
                .is_some_and(|errors| errors.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN"));
            assert_eq!(forbidden, role < *least, "{name} as {}: {body:#}", role.as_str());
            if !forbidden && *name != "mutation: import registry" {
                assert!(body.get("errors").is_none(), "{name} as {}: {body:#}", role.as_str());
            }
            cells.push(if forbidden { "FORBIDDEN" } else { "ok" });
        }
        println!("{name:<34} {:>8} {:>8} {:>8} {:>8}", cells[0], cells[1], cells[2], cells[3]);
    }
}

#[tokio::test]
async fn public_cannot_read_a_student_by_any_path() {
    let app = TestApp::spawn().await;
    add_students(&app, "stu-secret", 5, "org-nord", "mun-no-rana").await;
    app.post_role(
        Role::Editor,
        r#"mutation { addPlacement(input: {slug: "pl-secret", student: "stu-secret-0", host: "org-ltu", kind: THESIS, validFrom: "2025-01-10"}) { slug } }"#,
        json!({}),
    )
    .await;
    let paths = [
        ("direct lookup", r#"{ student(slug: "stu-secret-0") { slug fieldOfStudy } }"#),
        ("aliased lookup", r#"{ s: student(slug: "stu-secret-0") { id: slug } }"#),
        ("list", "{ students(first: 50) { edges { node { slug } } } }"),
        (
            "list through a filter",
            r#"{ students(first: 50, filter: {enrollingOrganisation: "org-nord"}) { totalCount } }"#,
        ),
        ("nested under an organisation", r#"{ organisation(slug: "org-nord") { students { slug } } }"#),
        ("nested under an alias", r#"{ o: organisation(slug: "org-nord") { kids: students { slug } } }"#),
        ("placement to student", r#"{ placement(slug: "pl-secret") { student { slug } } }"#),
        ("hosted placements", r#"{ organisation(slug: "org-ltu") { hostedPlacements { student { slug } } } }"#),
        ("fragment", r#"{ organisation(slug: "org-nord") { ...S } } fragment S on Organisation { students { slug } }"#),
    ];
    for (what, query) in paths {
        let body = app.post_role(Role::Public, query, json!({})).await;
        let text = body.to_string();
        assert!(
            body["errors"]
                .as_array()
                .is_some_and(|errors| errors.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN"))
                || body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED",
            "{what}: {body:#}"
        );
        assert!(!text.contains("stu-secret"), "{what} leaked a student: {text}");
    }
    // Guarded, not hidden: the schema still lists the fields.
    let schema = app.data(r#"{ __type(name: "Organisation") { fields { name } } }"#).await;
    assert!(schema.to_string().contains("\"students\""));
}

#[tokio::test]
async fn student_counts_below_five_are_suppressed_for_the_public() {
    let app = TestApp::spawn().await;
    let query = r#"{ organisation(slug: "org-hiof") { studentCount { value suppressed } }
                     municipality(slug: "mun-no-bronnoy") { studentCount { value suppressed } }
                     region(slug: "subreg-helgeland") { studentCount { value suppressed } } }"#;
    add_students(&app, "stu-k", 4, "org-hiof", "mun-no-bronnoy").await;
    let public = app.post_role(Role::Public, query, json!({})).await;
    for field in ["organisation", "municipality", "region"] {
        assert_eq!(
            public["data"][field]["studentCount"],
            json!({ "value": null, "suppressed": true }),
            "{field} with 4"
        );
    }
    let analyst = app.post_role(Role::Analyst, query, json!({})).await;
    assert_eq!(analyst["data"]["organisation"]["studentCount"], json!({ "value": 4, "suppressed": false }));
    add_students(&app, "stu-k5", 1, "org-hiof", "mun-no-bronnoy").await;
    let public = app.post_role(Role::Public, query, json!({})).await;
    for field in ["organisation", "municipality", "region"] {
        assert_eq!(public["data"][field]["studentCount"], json!({ "value": 5, "suppressed": false }), "{field} with 5");
    }
}

#[tokio::test]
async fn the_rate_limiter_trips_and_recovers() {
    // The limiter reads a clock the test moves: refilling is checked without waiting.
    let clock = governor::clock::FakeRelativeClock::default();
    let app = TestApp::spawn_with(ServeArgs {
        rate_limit_per_second: 2,
        rate_limit_burst: 3,
        rate_limit_clock: Some(clock.clone()),
        ..args()
    })
    .await;
    let query = "{ countries { totalCount } }";
    for n in 0..3 {
        let (status, _) = app.post_as(None, query, json!({})).await;
        assert_eq!(status, 200, "request {n} is within the burst");
    }
    let response =
        app.client.post(format!("{}/graphql", app.base)).json(&json!({ "query": query })).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // A different client (a token subject) has its own budget.
    let (status, _) = app.post_as(Some(&app.token(Role::Analyst)), query, json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = app.post_as(None, query, json!({})).await;
    assert_eq!(status, 429, "no time has passed: still limited");
    clock.advance(Duration::from_millis(500));
    let (status, _) = app.post_as(None, query, json!({})).await;
    assert_eq!(status, 200, "the budget refills at two a second");
}

#[tokio::test]
async fn behind_a_trusted_balancer_clients_are_limited_by_their_forwarded_address() {
    let clock = governor::clock::FakeRelativeClock::default();
    let app = TestApp::spawn_with(ServeArgs {
        rate_limit_per_second: 1,
        rate_limit_burst: 2,
        rate_limit_clock: Some(clock),
        // The test client connects from 127.0.0.1: it plays the balancer.
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..args()
    })
    .await;
    let post = |forwarded: &'static str| {
        app.client
            .post(format!("{}/graphql", app.base))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "query": "{ countries { totalCount } }" }))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(post("203.0.113.1").await.unwrap().status(), 200);
    }
    assert_eq!(post("203.0.113.1").await.unwrap().status(), 429, "the first client spent its burst");
    // Another client behind the same balancer has its own budget; a client's own claim to the
    // left of what the balancer appended changes nothing.
    assert_eq!(post("203.0.113.2").await.unwrap().status(), 200);
    assert_eq!(post("203.0.113.9, 203.0.113.1").await.unwrap().status(), 429);
}

#[tokio::test]
async fn the_http_edge_refuses_what_it_should() {
    let app = TestApp::spawn_with(ServeArgs {
        body_limit: 4096,
        max_batch: 2,
        cors_origins: vec!["https://dashboard.example".into()],
        ..args()
    })
    .await;
    let url = format!("{}/graphql", app.base);
    // GET never runs a mutation.
    let response = app
        .client
        .get(&url)
        .query(&[("query", r#"mutation { deleteOrganisation(slug: "org-usn", expectedVersion: 1) { slug } }"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "METHOD_NOT_ALLOWED");
    // GET queries work.
    let response = app.client.get(&url).query(&[("query", "{ countries { totalCount } }")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // CSRF: a form or text/plain POST is refused before it runs.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let response = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(r#"{"query":"{ countries { totalCount } }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    // The body limit applies to what the GraphQL handler reads (with and without a length).
    let big = json!({ "query": format!("{{ countries {{ code }} }} #{}", "x".repeat(10_000)) });
    let response = app.client.post(&url).json(&big).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(serde_json::to_vec(&big).unwrap())]);
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "a chunked body is bounded too");
    // Batches: up to the cap they run, beyond it they are refused.
    let two = json!([{ "query": "{ countries { totalCount } }" }, { "query": "{ regions(first: 1) { totalCount } }" }]);
    let response = app.client.post(&url).json(&two).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    let three = json!([{ "query": "{ countries { totalCount } }" }, { "query": "{ countries { totalCount } }" }, { "query": "{ countries { totalCount } }" }]);
    let response = app.client.post(&url).json(&three).send().await.unwrap();
    assert_eq!(response.status(), 400);
    // CORS: only the configured origin is allowed.
    for (origin, allowed) in [("https://dashboard.example", true), ("https://evil.example", false)] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
            .await
            .unwrap();
        let header = response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref() == Some(origin), allowed, "{origin}: {header:?}");
    }
    // Every error carries the request id the response header (and the log line) carries.
    let response = app.client.post(&url).json(&json!({ "query": "{ nope }" })).send().await.unwrap();
    let request_id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], request_id.as_str());
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let app = TestApp::spawn_with(ServeArgs { disable_introspection: true, ..args() }).await;
    // async-graphql answers introspection fields with null when it is off: nothing is revealed.
    let body =
        app.post(r#"{ __schema { queryType { name } } __type(name: "Student") { fields { name } } }"#, json!({})).await;
    assert!(
        body["data"]["__schema"].is_null() && body["data"]["__type"].is_null(),
        "introspection must reveal nothing: {body:#}"
    );
    assert!(app.data("{ countries { totalCount } }").await["countries"]["totalCount"].is_number());
}
