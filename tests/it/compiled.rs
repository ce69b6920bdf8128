//! The graph's spine in one statement (`graphql::compiled`): the answer the database builds is
//! byte for byte the answer the resolvers give (values, field order, aliases, `__typename`,
//! empty lists, membership on a day, the request's actual cost), from one statement; selections
//! it does not cover, guarded fields among them, still go through the resolvers.

use serde_json::{Value, json};

use crate::support::TestApp;

/// Every field the compiled form covers, with aliases, a repeated field under two keys and an
/// empty list. `FILTER` becomes `filter: {}` (all regions, as without it) to ask the same
/// through the resolvers.
const SPINE: &str = r#"query Spine($first: Int!, $day: Date) {
  regions(first: $first FILTER) {
    __typename
    count: totalCount
    nodes {
      kind: __typename
      verified slug label: name shortName version
      municipalityCount(asOf: $day)
      today: municipalityCount
      municipalities(asOf: $day, first: 6) {
        name slug verified version __typename
        organisationCount
        organisations(first: 4) {
          projectCount name slug shortName verified version
          projects(first: 3) { slug name shortName verified version __typename }
          none: projects(first: 0) { slug }
        }
      }
    }
  }
}"#;

async fn raw(app: &TestApp, query: &str, variables: Value) -> String {
    let body = json!({ "query": query, "variables": variables, "extensions": { "cost": true } });
    let response = app.client.post(format!("{}/graphql", app.base)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_spine_in_one_statement_answers_as_the_resolvers_do() {
    let app = TestApp::spawn_synthetic().await;
    let compiled_query = SPINE.replace("FILTER", "");
    let resolved_query = SPINE.replace("FILTER", ", filter: {}");
    for variables in [
        json!({ "first": 12, "day": null }),
        json!({ "first": 12, "day": "2010-06-01" }),
        json!({ "first": 0, "day": null }),
    ] {
        let before = app.statements.get();
        let compiled = raw(&app, &compiled_query, variables.clone()).await;
        let compiled_statements = app.statements.get() - before;
        let before = app.statements.get();
        let resolved = raw(&app, &resolved_query, variables.clone()).await;
        let resolved_statements = app.statements.get() - before;
        assert!(!compiled.contains("\"errors\""), "{compiled}");
        assert_eq!(compiled, resolved, "the compiled answer differs from the resolvers' ({variables})");
        assert_eq!(compiled_statements, 1, "the compiled read is one statement ({variables})");
        println!("spine {variables}: compiled 1 statement, resolvers {resolved_statements}");
    }
    // The comparison means something: the first page holds projects, and the day changes a count.
    let today: Value = serde_json::from_str(&raw(&app, &compiled_query, json!({ "first": 12 })).await).unwrap();
    let regions = today["data"]["regions"]["nodes"].as_array().unwrap();
    let projects = regions
        .iter()
        .flat_map(|r| r["municipalities"].as_array().unwrap())
        .flat_map(|m| m["organisations"].as_array().unwrap())
        .map(|o| o["projects"].as_array().unwrap().len())
        .sum::<usize>();
    assert!(projects > 10, "the compared page should hold projects, not {projects}");
    assert!(today["extensions"]["cost"]["actual"].as_u64().unwrap() > 100, "{}", today["extensions"]);
}

#[tokio::test]
async fn selections_beyond_the_spine_go_through_the_resolvers_and_their_guards() {
    let app = TestApp::spawn_synthetic().await;
    // Students are guarded: the public is refused, whatever the shape around them.
    let body = app
        .post(
            "{ regions(first: 3) { nodes { slug municipalities(first: 3) { organisations(first: 3) { slug students(first: 2) { slug } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body:#}");
    // An out-of-range `first` in a nested list is refused as before.
    let code = app.error_code("{ regions(first: 1) { nodes { municipalities(first: 501) { slug } } } }").await;
    assert_eq!(code, "BAD_USER_INPUT");
    // A field outside the spine (an enum) and a dated name: answered by the resolvers, same values.
    let body = app
        .post(
            "{ regions(first: 2) { nodes { slug kind municipalities(first: 2) { slug name(asOf: \"2010-01-01\") } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(body["data"]["regions"]["nodes"][0]["kind"].is_string(), "{body:#}");
}
