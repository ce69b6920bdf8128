//! The HTTP edge: GraphQL-over-HTTP status codes and media types, coded errors, limits, guards,
//! health endpoints.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn errors_carry_codes() {
    let app = TestApp::spawn().await;
    assert_eq!(app.error_code(r#"{ region(slug: "reg-atlantis") { name } }"#).await, "NOT_FOUND");
    assert_eq!(
        app.error_code(r#"{ municipality(slug: "mun-no-nome") { code(scheme: KOMMUNENUMMER, asOf: "2018-13-40") } }"#)
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ projects(filter: { period: { from: "2020-01-01", to: "2019-01-01" } }) { totalCount } }"#)
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ municipality(slug: "mun-no-nome") { code(scheme: POSTCODE) } }"#).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(app.error_code(r#"{ noSuchField }"#).await, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(app.error_code(r#"{ regions { "#).await, "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn student_data_is_forbidden_to_the_public() {
    let app = TestApp::spawn().await;
    for query in [
        r#"{ students { totalCount } }"#,
        r#"{ student(slug: "anyone") { slug } }"#,
        r#"{ placements(filter: { hostOrganisation: "org-umu" }) { totalCount } }"#,
        r#"{ organisation(slug: "org-umu") { students { slug } } }"#,
        r#"{ organisation(slug: "org-umu") { hidden: hostedPlacements { slug } } }"#,
        r#"{ project(slug: "proj-kkig") { placements { slug } } }"#,
    ] {
        assert_eq!(app.error_code(query).await, "FORBIDDEN", "{query}");
    }
}

#[tokio::test]
async fn graphql_over_http_status_codes_and_media_types() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);

    let get = app.client.get(&url).query(&[("query", "{ countries { totalCount } }")]).send().await.unwrap();
    assert_eq!(get.status(), 200);
    let body: serde_json::Value = get.json().await.unwrap();
    // Norway, Sweden and the 63 other countries EU projects most often involve (the map's list).
    assert_eq!(body["data"]["countries"]["totalCount"], 65);

    let unparsable =
        app.client.post(&url).header("content-type", "application/json").body("{ nope").send().await.unwrap();
    assert_eq!(unparsable.status(), 400, "a body that is not JSON is a 400");

    let accept = "application/graphql-response+json";
    let ok = app
        .client
        .post(&url)
        .header("accept", accept)
        .json(&json!({ "query": "{ countries { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], accept);

    let invalid = app
        .client
        .post(&url)
        .header("accept", accept)
        .json(&json!({ "query": "{ noSuchField }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400, "with graphql-response+json a request that cannot run is a 400");
    let legacy = app.client.post(&url).json(&json!({ "query": "{ noSuchField }" })).send().await.unwrap();
    assert_eq!(legacy.status(), 200, "with application/json it stays 200");
    assert_eq!(legacy.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn depth_limit_refuses_deep_queries_but_not_introspection() {
    let app = TestApp::spawn().await;
    // 20 levels of project → partners → organisation → projects…
    let hops = 6;
    let deep = format!(
        "{{ projects {{ edges {{ node {{ {} slug {} }} }} }} }}",
        "partners { organisation { projects { ".repeat(hops),
        "} } } ".repeat(hops)
    );
    assert_eq!(app.error_code(&deep).await, "QUERY_TOO_EXPENSIVE");
    let introspection = include_str!("introspection.graphql");
    let data = app.data(introspection).await;
    assert!(data["__schema"]["types"].as_array().unwrap().len() > 20);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let graphiql = app.client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.text().await.unwrap().to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn sources_and_provenance_are_exposed() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ municipality(slug: "mun-no-nome") { codes { value verified source { key kind } } memberships { verified source { key } region { slug } } }
                 source(key: "github:lauriejh/regtools") { kind locator description } }"#,
        )
        .await;
    let codes = data["municipality"]["codes"].as_array().unwrap();
    assert!(codes.iter().all(|c| c["source"]["key"].is_string()), "every code names its source: {codes:?}");
    assert_eq!(data["source"]["kind"], "public repository");
}

#[tokio::test]
async fn expensive_queries_are_refused_before_any_sql_with_the_estimate_and_the_limit() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let before = app.statements.get();
    // Aliases of big pages: refused by the document caps at once.
    let aliases: String = (0..2000).map(|i| format!("r{i}: regions(first: 500) {{ nodes {{ slug }} }} ")).collect();
    let body = app.post(&format!("{{ {aliases} }}"), serde_json::json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_EXPENSIVE", "{}", body["errors"][0]);
    // A page of 500 with a few fields is fine, and an editor may spend more than the public.
    let big = "{ organisations(first: 500) { nodes { slug name kind country { code } municipality { slug name } } } }";
    let body = app.post(big, serde_json::json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    // The cost, when asked for.
    let asked: serde_json::Value = app
        .client
        .post(&url)
        .json(&serde_json::json!({ "query": "{ regions(first: 10) { nodes { slug name } } }", "extensions": { "cost": true } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // 1 for the list, and 10 × (nodes, slug, name).
    assert_eq!(asked["extensions"]["cost"]["estimated"], 31, "{asked}");
    assert_eq!(asked["extensions"]["cost"]["limit"], 50_000, "{asked}");
    // What was really resolved: regions, nodes, 10 list items and their 2 fields each.
    assert_eq!(asked["extensions"]["cost"]["actual"], 32, "{asked}");
    // Variables of too many values are refused before they are read.
    let codes: Vec<String> = (0..20_000).map(|_| "0301".to_owned()).collect();
    let body = app
        .post(
            r#"query($c: [String!]!) { translateMunicipalityCodes(codes: $c, from: "2019-06-01", to: "2024-06-01") { code } }"#,
            serde_json::json!({ "c": codes }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["measure"], "variables", "{}", body["errors"][0]);
    // Too many root fields.
    let roots: String = (0..60).map(|i| format!("c{i}: countries(first: 1) {{ totalCount }} ")).collect();
    let body = app.post(&format!("{{ {roots} }}"), serde_json::json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["measure"], "rootFields", "{body}");
    assert!(app.statements.get() > before);
}

/// `extensions.cost` of `query` as `role`, asked for with the header.
async fn cost_of(app: &TestApp, role: samverka::auth::Role, query: &str) -> serde_json::Value {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.token(role))
        .header(samverka::http::graphql::COST_HEADER, "true")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    body["extensions"]["cost"].clone()
}

#[tokio::test]
async fn analyses_cost_by_algorithm_and_by_the_size_of_the_network_they_would_run_on() {
    use samverka::auth::Role;
    let app = TestApp::spawn_synthetic().await;
    let estimate = |cost: &serde_json::Value| cost["estimated"].as_u64().unwrap();
    let exact = cost_of(&app, Role::Analyst, "{ network { betweenness(top: 1) { score } } }").await;
    let sampled = cost_of(&app, Role::Analyst, "{ network { betweenness(top: 1, samples: 10) { score } } }").await;
    let pagerank = cost_of(&app, Role::Analyst, "{ network { pagerank(top: 1) { score } } }").await;
    let degree = cost_of(&app, Role::Analyst, "{ network { degree(top: 1) { score } } }").await;
    let regions = cost_of(&app, Role::Analyst, "{ network(level: REGION) { betweenness(top: 1) { score } } }").await;
    // The networks alone: building them selects the same organisation ties at any level.
    let organisations_built = cost_of(&app, Role::Analyst, "{ network { nodeCount } }").await;
    let regions_built = cost_of(&app, Role::Analyst, "{ network(level: REGION) { nodeCount } }").await;
    assert_eq!(estimate(&organisations_built), estimate(&regions_built));
    println!("exact {exact} sampled {sampled} pagerank {pagerank} degree {degree} regions {regions}");
    assert!(estimate(&exact) > estimate(&pagerank) && estimate(&pagerank) > estimate(&degree), "by algorithm");
    assert!(
        estimate(&exact) - estimate(&organisations_built) > 10 * (estimate(&regions) - estimate(&regions_built)),
        "by the size of the network"
    );
    assert!(estimate(&sampled) < estimate(&exact), "sampling costs less");
    // The estimate is an upper bound; `actual` counts on the network really built.
    let actual = exact["actual"].as_u64().unwrap();
    assert!(actual > 0 && actual <= estimate(&exact), "{exact}");
    assert_eq!(exact["limit"], 1_000_000);

    // Aliased exact analyses each cost in full: enough of them are refused for the public,
    // with the estimate and the limit, before any SQL runs.
    let each = estimate(&cost_of(&app, Role::Public, "{ network { betweenness(seed: 1) { score } } }").await);
    let count = 50_000 / each + 1;
    assert!(count <= 40, "the synthetic network is too small for this test: {each} per analysis");
    let analyses: String =
        (0..count).map(|i| format!("a{i}: network {{ betweenness(seed: {i}) {{ score }} }} ")).collect();
    let before = app.statements.get();
    let body = app.post(&format!("{{ {analyses} }}"), serde_json::json!({})).await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "QUERY_TOO_EXPENSIVE", "{body}");
    assert_eq!(error["extensions"]["limit"], 50_000);
    assert!(error["extensions"]["estimated"].as_u64().unwrap() >= count * each, "{body}");
    assert_eq!(app.statements.get(), before, "refused before any SQL ran");
    // A variable level is read too: the region network is cheap enough.
    let body = app
        .post(
            "query($level: NetworkLevel!) { network(level: $level) { betweenness(top: 1) { score } } }",
            serde_json::json!({ "level": "REGION" }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    // An analyst may spend more than the public.
    let body = app.post_role(Role::Analyst, &format!("{{ {analyses} }}"), serde_json::json!({})).await;
    assert!(body.get("errors").is_none(), "{}", &body.to_string()[..200.min(body.to_string().len())]);
}

#[tokio::test]
async fn numbers_are_bounded_the_same_way_everywhere() {
    let app = TestApp::spawn().await;
    let editor = samverka::auth::Role::Editor;
    let body = app
        .post_role(
            editor,
            r#"mutation { createProject(input: { slug: "proj-huge", name: "Huge", budgetTotal: 1e20, budgetCurrency: "EUR" }) { slug } }"#,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["rule"], "amount_range", "{body}");
    for (query, argument) in [
        (r#"{ network { ego(center: "org-ltu", radius: 11) { nodeCount } } }"#, "radius"),
        (r#"{ network(minWeight: 1000000) { nodeCount } }"#, "minWeight"),
        (r#"{ network { betweenness(samples: 1) { score } } }"#, "samples"),
        (r#"{ regions(first: 501) { totalCount } }"#, "first"),
    ] {
        let body = app.post(query, serde_json::json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["argument"], argument, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], argument, "one name for what is at fault: {body}");
    }
}
