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

/// Page nodes, nested lists and aggregate rows resolve their fields directly
/// (`graphql::direct`); an inline fragment sends the same selection through async-graphql's own
/// resolution. Both answer the same bytes: values, order, `__typename`, aliases, the request's
/// actual cost, and a refused field's error with its path.
#[tokio::test]
async fn objects_resolved_directly_answer_as_async_graphql_does() {
    let app = TestApp::spawn().await;
    let node = "__typename label: name slug municipalityCount municipalities(first: 2) { slug name }";
    let row = "keys { region { slug name } year } count budgetEur { sum projects }";
    let organisation = "slug students(first: 1) { slug }";
    let query = |wrap: &dyn Fn(&str, &str) -> String| {
        format!(
            "{{ regions(first: 5) {{ nodes {{ {} }} }} projectAggregate(groupBy: [REGION, YEAR]) {{ rows {{ {} }} }} \
             organisations(first: 2) {{ nodes {{ {} }} }} }}",
            wrap("Region", node),
            wrap("ProjectGroup", row),
            wrap("Organisation", organisation)
        )
    };
    let direct = query(&|_, fields| fields.to_owned());
    let through_fragments = query(&|on, fields| format!("... on {on} {{ {fields} }}"));
    let asked = |query: String| serde_json::json!({ "query": query, "extensions": { "cost": true } });
    let direct = raw(&app, asked(direct)).await;
    let through_fragments = raw(&app, asked(through_fragments)).await;
    // Data and cost byte for byte; the errors differ only in where the document says them.
    let before_errors = |text: &str| text[..text.find(",\"errors\":").unwrap_or(text.len())].to_owned();
    assert_eq!(before_errors(&direct), before_errors(&through_fragments));
    let errors = |text: &str| {
        let mut body: serde_json::Value = serde_json::from_str(text).unwrap();
        for error in body["errors"].as_array_mut().into_iter().flatten() {
            error.as_object_mut().unwrap().remove("locations");
            error["extensions"].as_object_mut().unwrap().remove("requestId");
        }
        body["errors"].take()
    };
    assert_eq!(errors(&direct), errors(&through_fragments));
    let body: serde_json::Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(body["data"]["regions"]["nodes"][0]["__typename"], "Region", "{body}");
    assert!(body["data"]["projectAggregate"]["rows"].as_array().is_some_and(|rows| !rows.is_empty()), "{body}");
    // The public may not list students: one FORBIDDEN per organisation, at its own path.
    let errors = body["errors"].as_array().expect("the refused students");
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!(errors[0]["path"], serde_json::json!(["organisations", "nodes", 0, "students"]), "{body}");
    assert!(body["extensions"]["cost"]["actual"].as_u64().is_some_and(|actual| actual > 20), "{body}");
}
