//! No N+1: the statements a request sends grow with query depth, never with page size.

use crate::support::TestApp;

const NESTED: &str = r#"query Nested($first: Int!) {
  regions(first: $first, filter: { kindIn: [SUB_REGION, INFORMAL_AREA, LANDSKAP] }) {
    totalCount
    edges { node {
      slug municipalityCount(asOf: "2024-06-01")
      municipalities(asOf: "2024-06-01", first: $first) {
        slug organisationCount
        organisations(first: $first) {
          slug projectCount
          projects(first: $first) { slug partnerCount crossBorder }
        }
      }
    } }
  }
}"#;

async fn statements_for(app: &TestApp, first: i64) -> (u64, usize) {
    let before = app.statements.get();
    let body = app.post(NESTED, serde_json::json!({ "first": first })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let regions = body["data"]["regions"]["edges"].as_array().unwrap().len();
    (app.statements.get() - before, regions)
}

#[tokio::test]
async fn nested_read_statement_count_does_not_grow_with_page_size() {
    let app = TestApp::spawn().await;
    let (small, small_regions) = statements_for(&app, 2).await;
    // 8 per level: 8⁴ projects at most, within the public's cost limit (50 per level would be
    // 6.25 million and is refused before it runs).
    let (large, large_regions) = statements_for(&app, 8).await;
    println!(
        "nested 4-level read: first=2 -> {small} statements ({small_regions} regions); first=8 -> {large} statements ({large_regions} regions)"
    );
    assert!(large_regions > small_regions, "the larger page must really hold more rows");
    assert_eq!(small, large, "statements must not grow with page size");
    assert!(large <= 20, "a 4-level read with counts should need a handful of statements, not {large}");
}
