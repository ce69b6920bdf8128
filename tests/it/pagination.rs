//! Cursor pagination: first/after, last/before, pageInfo, totalCount, limits.

use crate::support::{TestApp, nodes, strings};

#[tokio::test]
async fn pages_walk_forward_and_backward() {
    let app = TestApp::spawn().await;
    let all = app
        .data(r#"{ municipalities(first: 500, filter: { country: "SE" }, orderBy: { field: SLUG }) { totalCount edges { node { slug } } } }"#)
        .await;
    let every = strings(&nodes(&all["municipalities"]), "slug");
    // Sweden's 290 kommuner and 1229 Bara (merged into Svedala in 1977).
    assert_eq!(all["municipalities"]["totalCount"], 291);
    assert_eq!(every.len(), 291);
    let n = every.len();

    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let body = app
            .post(
                r#"query($after: String) { municipalities(first: 10, after: $after, filter: { country: "SE" }, orderBy: { field: SLUG }) {
                     pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { slug } } } }"#,
                serde_json::json!({ "after": after }),
            )
            .await;
        let page = &body["data"]["municipalities"];
        seen.extend(nodes(page).as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_owned()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, every, "forward paging returns every row once, in order");

    let last = app.data(r#"{ municipalities(last: 3, filter: { country: "SE" }, orderBy: { field: SLUG }) { pageInfo { hasPreviousPage startCursor } edges { node { slug } } } }"#).await;
    assert_eq!(strings(&nodes(&last["municipalities"]), "slug"), every[n - 3..].to_vec());
    assert_eq!(last["municipalities"]["pageInfo"]["hasPreviousPage"], true);
    let cursor = last["municipalities"]["pageInfo"]["startCursor"].as_str().unwrap().to_owned();
    let body = app
        .post(
            r#"query($before: String) { municipalities(last: 2, before: $before, filter: { country: "SE" }, orderBy: { field: SLUG }) { edges { node { slug } } } }"#,
            serde_json::json!({ "before": cursor }),
        )
        .await;
    assert_eq!(strings(&nodes(&body["data"]["municipalities"]), "slug"), every[n - 5..n - 3].to_vec());

    let desc = app
        .data(r#"{ municipalities(first: 1, filter: { country: "SE" }, orderBy: { field: SLUG, direction: DESC }) { edges { node { slug } } } }"#)
        .await;
    assert_eq!(nodes(&desc["municipalities"])[0]["slug"], every[n - 1].as_str());
}

#[tokio::test]
async fn default_page_is_fifty_and_more_than_five_hundred_is_refused() {
    let app = TestApp::spawn().await;
    let data = app.data(r#"{ municipalities { edges { cursor } pageInfo { hasNextPage } } }"#).await;
    assert_eq!(data["municipalities"]["edges"].as_array().unwrap().len(), 50);
    assert_eq!(data["municipalities"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(app.error_code(r#"{ municipalities(first: 501) { totalCount } }"#).await, "BAD_USER_INPUT");
    assert_eq!(app.error_code(r#"{ municipalities(first: -1) { totalCount } }"#).await, "BAD_USER_INPUT");
    assert_eq!(app.error_code(r#"{ municipalities(after: "garbage") { totalCount } }"#).await, "BAD_USER_INPUT");
    assert_eq!(
        app.error_code(r#"{ region(slug: "reg-no-nordland") { municipalities(first: 9999) { slug } } }"#).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(app.error_code(r#"{ projects(orderBy: { field: BUDGET }) { totalCount } goals(orderBy: { field: BUDGET }) { totalCount } }"#).await, "BAD_USER_INPUT");
}

#[tokio::test]
async fn wildcards_in_text_filters_are_data_and_first_with_last_is_refused() {
    let app = TestApp::spawn().await;
    // LIKE's wildcards match themselves, not everything.
    let data = app
        .data(r#"{ all: organisations { totalCount } pct: organisations(filter: { nameContains: "%" }) { totalCount } under: organisations(filter: { nameContains: "_" }) { totalCount } goals(filter: { textContains: "%" }) { totalCount } sources(filter: { keyContains: "_%" }) { totalCount } }"#)
        .await;
    assert!(data["all"]["totalCount"].as_u64().unwrap() > 10, "{data}");
    for list in ["pct", "under", "goals", "sources"] {
        assert_eq!(data[list]["totalCount"], serde_json::json!(0), "{list}: {data}");
    }
    let body = app.post("{ regions(first: 2, last: 1) { totalCount } }", serde_json::json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], serde_json::json!("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["argument"], serde_json::json!("last"), "{body}");
}
