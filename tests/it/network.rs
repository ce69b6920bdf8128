//! `network(…)` and `/export/network.*` against the real server: the demo registry's verified
//! Scandinavian Science Cluster partners, analyses on a synthetic network checked for internal
//! consistency (NetworkX checks the numbers: `bench/networkx-check`), the cache, and the guards.

use std::collections::{HashMap, HashSet};

use samverka::auth::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

const SSC: &str = "proj-scandinavian-science-cluster";

#[tokio::test]
async fn a_project_network_is_its_partners_tied_pairwise_and_rolls_up_to_countries() {
    let app = TestApp::spawn().await;
    let query = r#"query($project: String!, $level: NetworkLevel!) {
        network(filter: {project: $project}, level: $level) {
            nodeCount edgeCount
            nodes { key country organisations }
            edges { source { key } target { key } weight partnerships crossBorder }
            degree { node { key } score }
            betweenness { score }
            brokers { score }
            componentCount
        } }"#;
    let body = app.post(query, json!({ "project": SSC, "level": "ORGANISATION" })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let network = &body["data"]["network"];
    // Verified partners: Innovatum, Högskolan Väst, Fyrbodal (SE); Inspiria, HiØ, Østfold fk (NO).
    let keys: HashSet<&str> = network["nodes"].as_array().unwrap().iter().map(|n| n["key"].as_str().unwrap()).collect();
    let expected: HashSet<&str> =
        ["org-innovatum", "org-hv", "org-fyrbodal-kf", "org-inspiria", "org-hiof", "org-ostfold-fk"].into();
    assert_eq!(keys, expected);
    assert_eq!(network["edgeCount"], 15, "six partners, every pair tied once");
    let edges = network["edges"].as_array().unwrap();
    assert!(edges.iter().all(|e| e["weight"] == 1 && e["partnerships"] == 1));
    assert_eq!(edges.iter().filter(|e| e["crossBorder"] == true).count(), 9, "3 Norwegian × 3 Swedish");
    assert!(network["degree"].as_array().unwrap().iter().all(|d| d["score"] == 5.0));
    assert!(network["betweenness"].as_array().unwrap().iter().all(|b| b["score"] == 0.0), "a clique has no brokers");
    assert_eq!(network["componentCount"], 1);

    let body = app.post(query, json!({ "project": SSC, "level": "COUNTRY" })).await;
    let network = &body["data"]["network"];
    assert_eq!(network["nodeCount"], 2);
    let organisations: HashMap<&str, i64> = network["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["key"].as_str().unwrap(), n["organisations"].as_i64().unwrap()))
        .collect();
    assert_eq!(organisations, HashMap::from([("NO", 3), ("SE", 3)]));
    let edge = &network["edges"][0];
    assert_eq!((edge["weight"].as_i64(), edge["crossBorder"].as_bool()), (Some(9), Some(true)), "the 9 pairs add up");
}

/// Keys of a list of `{ key }` objects.
fn keys(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|n| n["key"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn analyses_of_a_synthetic_network_agree_with_each_other() {
    let app = TestApp::spawn_synthetic().await;
    let query = r#"{ network(edges: [PARTNERSHIP, COLLABORATION, PLACEMENT]) {
        nodeCount edgeCount
        edges { source { key } target { key } }
        degree(top: 1) { node { key } score }
        betweenness(top: 5) { node { key } score }
        components { size nodes { key } }
        bridges { source { key } target { key } }
        articulationPoints { key }
        communities(seed: 3) { modularity count communities { size } }
        pagerank { score }
        closeness(top: 3) { score }
        eigenvector(top: 3) { score }
        brokers(top: 3) { node { country } score }
    } }"#;
    let body = app.post_role(Role::Analyst, query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let network = &body["data"]["network"];
    let n = network["nodeCount"].as_u64().unwrap() as usize;
    assert!(n > 500, "a small synthetic network has hundreds of organisations, got {n}");
    let adjacency: HashSet<(String, String)> = network["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            let (a, b) =
                (e["source"]["key"].as_str().unwrap().to_owned(), e["target"]["key"].as_str().unwrap().to_owned());
            [(a.clone(), b.clone()), (b, a)]
        })
        .collect();
    let sizes: usize =
        network["components"].as_array().unwrap().iter().map(|c| c["size"].as_u64().unwrap() as usize).sum();
    assert_eq!(sizes, n, "components partition the nodes");
    let community_sizes: usize = network["communities"]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(community_sizes, n, "communities partition the nodes");
    assert!(network["communities"]["modularity"].as_f64().unwrap() > 0.1);
    let rank_sum: f64 = network["pagerank"].as_array().unwrap().iter().map(|p| p["score"].as_f64().unwrap()).sum();
    assert!((rank_sum - 1.0).abs() < 1e-6, "PageRank sums to 1, got {rank_sum}");
    let betweenness = network["betweenness"].as_array().unwrap();
    assert!(betweenness.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()), "sorted");
    assert!(betweenness[0]["score"].as_f64().unwrap() > 0.0);
    for bridge in network["bridges"].as_array().unwrap() {
        let pair = (
            bridge["source"]["key"].as_str().unwrap().to_owned(),
            bridge["target"]["key"].as_str().unwrap().to_owned(),
        );
        assert!(adjacency.contains(&pair), "a bridge is an edge");
    }

    // The hub's ego network of radius 1 is the hub and its neighbours; a shortest path walks edges.
    let hub = network["degree"][0]["node"]["key"].as_str().unwrap().to_owned();
    let degree = network["degree"][0]["score"].as_f64().unwrap() as u64;
    let largest = keys(&network["components"][0]["nodes"]);
    let far = largest.iter().rev().find(|key| **key != hub).unwrap().clone();
    let query = r#"query($hub: String!, $far: String!) { network(edges: [PARTNERSHIP, COLLABORATION, PLACEMENT]) {
        ego(center: $hub, radius: 1) { nodeCount degree(top: 1) { node { key } score } }
        shortestPath(from: $hub, to: $far) { key }
        exact: betweenness(top: 3) { node { key } score }
        sampled: betweenness(top: 3, samples: 1000000) { node { key } score }
    } }"#;
    let body = app.post_role(Role::Analyst, query, json!({ "hub": hub, "far": far })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "samples above the cap: {body:#}");
    let query = query.replace("samples: 1000000", &format!("samples: {n}"));
    let body = app.post_role(Role::Analyst, &query, json!({ "hub": hub, "far": far })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let network = &body["data"]["network"];
    assert_eq!(network["ego"]["nodeCount"].as_u64(), Some(degree + 1));
    assert_eq!(network["ego"]["degree"][0]["node"]["key"], hub.as_str(), "the centre is the ego network's hub");
    let path = keys(&network["shortestPath"]);
    assert_eq!((path.first(), path.last()), (Some(&hub), Some(&far)));
    assert!(path.windows(2).all(|w| adjacency.contains(&(w[0].clone(), w[1].clone()))), "each step is an edge");
    // Sampling every node is exact betweenness (sums taken in another order may differ in the
    // last bits).
    let (exact, sampled) = (network["exact"].as_array().unwrap(), network["sampled"].as_array().unwrap());
    assert_eq!(exact.len(), sampled.len());
    for (a, b) in exact.iter().zip(sampled) {
        assert_eq!(a["node"], b["node"], "{exact:?} {sampled:?}");
        assert!((a["score"].as_f64().unwrap() - b["score"].as_f64().unwrap()).abs() < 1e-12, "{exact:?} {sampled:?}");
    }
}

#[tokio::test]
async fn a_network_is_built_once_per_data_version() {
    let app = TestApp::spawn().await;
    let query = r#"{ network(level: REGION) { nodeCount betweenness(top: 3) { score } communities { count } } }"#;
    let statements = |app: &TestApp| app.statements.get();
    let before = statements(&app);
    let first = app.data(query).await;
    let computed = statements(&app) - before;
    let before = statements(&app);
    let second = app.data(query).await;
    let cached = statements(&app) - before;
    assert_eq!(first, second);
    println!("network: {computed} statements computed, {cached} cached");
    assert!(computed >= 5, "the first request selects the network ({computed} statements)");
    assert!(cached <= 2, "the second is answered from the cache ({cached} statements)");

    // A change commits: the next request builds the network again.
    let body = app
        .post_role(
            Role::Editor,
            r#"mutation { createSource(input: {key: "src-network-test", kind: "report", title: "T"}) { key } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let before = statements(&app);
    app.data(query).await;
    assert!(statements(&app) - before >= 5, "a new data version is computed afresh");
}

#[tokio::test]
async fn guards_and_downloads() {
    let app = TestApp::spawn().await;
    let code = |query: &'static str| {
        let app = &app;
        async move { app.error_code(query).await }
    };
    assert_eq!(code("{ network(edges: [PLACEMENT]) { nodeCount } }").await, "FORBIDDEN");
    assert_eq!(code(r#"{ network(filter: {programme: "prog-nope"}) { nodeCount } }"#).await, "NOT_FOUND");
    assert_eq!(code("{ network(minWeight: 0) { nodeCount } }").await, "BAD_USER_INPUT");
    assert_eq!(code("{ network(edges: []) { nodeCount } }").await, "BAD_USER_INPUT");
    assert_eq!(code(r#"{ network { shortestPath(from: "org-nope", to: "org-hv") { key } } }"#).await, "BAD_USER_INPUT");
    assert_eq!(
        code(r#"{ network(period: {from: "2024-01-01", to: "2020-01-01"}) { nodeCount } }"#).await,
        "BAD_USER_INPUT"
    );

    let get = |path: String| {
        let app = &app;
        async move {
            let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
            (status, content_type, response.text().await.unwrap())
        }
    };
    let filter = format!("project={SSC}");
    let graphql = app
        .data(&format!(r#"{{ network(filter: {{project: "{SSC}"}}) {{ graphml: export(format: GRAPHML) }} }}"#))
        .await;
    for (file, content_type, marker, count) in [
        ("network.graphml", "application/graphml+xml; charset=utf-8", "<node ", 6),
        ("network.gexf", "application/gexf+xml; charset=utf-8", "<node ", 6),
        ("network.nodes.csv", "text/csv; charset=utf-8", "\n", 7),
        ("network.edges.csv", "text/csv; charset=utf-8", "\n", 16),
        ("network.json", "application/json", "\"betweenness\"", 6),
    ] {
        let (status, got_type, body) = get(format!("/export/{file}?{filter}")).await;
        assert_eq!((status, got_type.as_str()), (200, content_type), "{file}: {body}");
        assert_eq!(body.matches(marker).count(), count, "{file}: {body}");
        if file == "network.graphml" {
            assert_eq!(body, graphql["network"]["graphml"], "GraphQL and HTTP export the same file");
        }
    }
    let (status, _, body) = get("/export/network.xlsx".into()).await;
    assert_eq!(status, 404);
    assert!(body.contains("NOT_FOUND"));
    let (status, _, body) = get("/export/network.graphml?level=galaxy".into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("BAD_USER_INPUT"), "{body}");
    let (status, _, body) = get("/export/network.graphml?edges=PLACEMENT".into()).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = get("/export/network.graphml?colour=red".into()).await;
    assert_eq!(status, 400, "unknown parameters are refused: {body}");
}
