//! Response fields come back in the order the query asked for them, byte for byte the same on
//! every repetition, for single requests and batches, whatever order the resolvers finish in.

use crate::support::TestApp;

/// Immediate fields (`slug`, `name`) around loader-backed ones (`municipalityCount`,
/// `municipalities`), an alias and a fragment: the order a concurrent resolver would break.
const QUERY: &str = "query { regions(first: 5) { nodes { slug municipalityCount ...Codes \
     municipalities(first: 3) { name slug } label: name status } } } \
     fragment Codes on Region { kind version }";

async fn raw(app: &TestApp, body: serde_json::Value) -> String {
    let response = app.client.post(format!("{}/graphql", app.base)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn positions(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter().map(|key| text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {text}"))).collect()
}

#[tokio::test]
async fn fields_follow_the_query_and_repeat_byte_for_byte() {
    let app = TestApp::spawn().await;
    let first = raw(&app, serde_json::json!({ "query": QUERY })).await;
    assert!(!first.contains("\"errors\""), "{first}");
    let node = &first[first.find("\"nodes\":[{").unwrap()..];
    let order = positions(node, &["slug", "municipalityCount", "kind", "version", "municipalities", "label", "status"]);
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "fields out of the query's order: {node}");
    let municipality = &node[node.find("\"municipalities\":[{").unwrap()..];
    let inner = positions(municipality, &["name", "slug"]);
    assert!(inner[0] < inner[1], "{municipality}");
    for _ in 0..10 {
        assert_eq!(raw(&app, serde_json::json!({ "query": QUERY })).await, first, "a repeated answer differs");
    }
    // In a batch, each answer in its own query's order.
    let batch = raw(
        &app,
        serde_json::json!([{ "query": QUERY }, { "query": "{ regions(first: 1) { nodes { name slug } } }" }]),
    )
    .await;
    assert!(batch.starts_with(&format!("[{first},")), "{batch}");
    let second = &batch[first.len() + 2..];
    let order = positions(second, &["name", "slug"]);
    assert!(order[0] < order[1], "{second}");
}

/// A subscription's messages keep the query's order too (a project's partners resolve through
/// a loader, after its own fields).
#[tokio::test]
async fn subscription_messages_follow_the_query() {
    use crate::ws_client::{Protocol, WsClient};
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    client
        .subscribe(
            "p",
            r#"subscription { projectChanged(slug: "proj-scandinavian-science-cluster") {
               partners { role organisation { name } } slug name } }"#,
            serde_json::json!({}),
        )
        .await;
    let message = client.receive().await.expect("a first message");
    assert_eq!(message["type"], "next", "{message}");
    let text = &client.last_text;
    // The project's own slug and name come after its partners (whose organisations have names too).
    let order: Vec<usize> = ["\"partners\":", "\"slug\":\"proj-", "\"name\":\"Scandinavian Science Cluster\""]
        .iter()
        .map(|needle| text.find(needle).unwrap_or_else(|| panic!("{needle} in {text}")))
        .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "fields out of the query's order: {text}");
}
