//! The analysts' filter language, Nordic search and keyset pages, on both backends: every
//! operator and several combinations against SQL written here independently of the compiler,
//! on the demo registry and the `small` synthetic one.

use std::collections::BTreeSet;

use samverka::auth::Role;
use samverka::cli::ServeArgs;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use crate::support::TestApp;

/// Every slug `list(where:)` returns, paging 200 at a time (as an analyst).
async fn slugs_where(app: &TestApp, list: &str, filter: Value) -> Vec<String> {
    let query = format!(
        "query($w: {}Where, $after: String) {{ {list}(where: $w, first: 200, after: $after) {{ \
         nodes {{ slug }} pageInfo {{ hasNextPage endCursor }} }} }}",
        where_type(list)
    );
    let mut slugs = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app.post_role(Role::Analyst, &query, json!({ "w": filter, "after": after })).await;
        assert!(body.get("errors").is_none(), "{list} where {filter}: {body:#}");
        let page = &body["data"][list];
        slugs.extend(page["nodes"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_owned()));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return slugs;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn where_type(list: &str) -> &'static str {
    match list {
        "projects" => "Project",
        "organisations" => "Organisation",
        "municipalities" => "Municipality",
        "regions" => "Region",
        "programmes" => "Programme",
        "goals" => "Goal",
        "indicatorValues" => "IndicatorValue",
        "collaborations" => "Collaboration",
        "students" => "Student",
        "placements" => "Placement",
        other => panic!("no list {other}"),
    }
}

/// The `slug` column of `sql`, in order.
async fn slugs_sql(app: &TestApp, sql: &str) -> Vec<String> {
    let rows = app.db.conn.query_all_raw(Statement::from_string(app.db.backend(), sql)).await.unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "slug").unwrap()).collect()
}

fn set(slugs: Vec<String>) -> BTreeSet<String> {
    let count = slugs.len();
    let set: BTreeSet<String> = slugs.into_iter().collect();
    assert_eq!(set.len(), count, "a row came twice");
    set
}

/// Checks each (filter, SQL) pair on `list`: same rows; and at least `min_nonempty` of the
/// cases are non-empty and not everything (so the comparison can fail).
async fn agree(app: &TestApp, list: &str, table: &str, cases: &[(Value, &str)]) {
    let all = set(slugs_sql(app, &format!("SELECT slug FROM {table}")).await);
    let mut telling = 0;
    for (filter, condition) in cases {
        let expected = set(slugs_sql(app, &format!("SELECT t.slug FROM {table} t WHERE {condition}")).await);
        let got = set(slugs_where(app, list, filter.clone()).await);
        assert_eq!(got, expected, "{list} where {filter} (SQL: {condition})");
        if !expected.is_empty() && expected.len() < all.len() {
            telling += 1;
        }
    }
    assert!(telling * 3 >= cases.len() * 2, "too few cases tell rows apart on {list}: {telling} of {}", cases.len());
}

const ACTING_IN: &str = "EXISTS (SELECT 1 FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
     JOIN region_memberships rm ON rm.municipality_id = o.municipality_id JOIN regions r ON r.id = rm.region_id \
     WHERE pp.project_id = t.id";

#[tokio::test]
async fn project_filters_agree_with_sql_on_the_small_registry() {
    let app = TestApp::spawn_synthetic().await;
    let cases = [
        (json!({ "budgetEur": { "gt": 1_000_000.0 } }), "t.budget_eur > 1000000"),
        (
            json!({ "budgetEur": { "gte": 500_000.0, "lt": 2_000_000.0 } }),
            "t.budget_eur >= 500000 AND t.budget_eur < 2000000",
        ),
        (json!({ "budgetEur": { "between": [200_000.0, 900_000.0] } }), "t.budget_eur BETWEEN 200000 AND 900000"),
        (json!({ "budgetEur": { "isNull": true } }), "t.budget_eur IS NULL"),
        (
            json!({ "not": { "budgetEur": { "gt": 1_000_000.0 } } }),
            "NOT (t.budget_eur IS NOT NULL AND t.budget_eur > 1000000)",
        ),
        (json!({ "validFrom": { "gt": "2018-12-31" } }), "t.valid_from > '2018-12-31'"),
        (json!({ "validFrom": { "lte": "2016-06-30" } }), "t.valid_from <= '2016-06-30'"),
        (json!({ "validTo": { "eq": "2022-12-31" } }), "t.valid_to = '2022-12-31'"),
        (
            json!({ "or": [{ "budgetEur": { "lt": 300_000.0 } }, { "validFrom": { "gte": "2021-01-01" } }] }),
            "(t.budget_eur < 300000 OR t.valid_from >= '2021-01-01')",
        ),
        (
            json!({ "and": [{ "budgetEur": { "gt": 1_000_000.0 } }, { "validFrom": { "gt": "2018-12-31" } }] }),
            "t.budget_eur > 1000000 AND t.valid_from > '2018-12-31'",
        ),
        (json!({ "slug": { "startsWith": "proj-1" } }), "t.slug LIKE 'proj-1%'"),
        (
            json!({ "slug": { "in": ["proj-1", "proj-2", "proj-3", "nope"] } }),
            "t.slug IN ('proj-1', 'proj-2', 'proj-3')",
        ),
        (
            json!({ "partners": { "some": { "organisation": { "country": { "eq": "se" } } } } }),
            "EXISTS (SELECT 1 FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
             JOIN countries c ON c.id = o.country_id WHERE pp.project_id = t.id AND c.code = 'SE')",
        ),
        (
            json!({ "partners": { "none": { "organisation": { "kind": { "eq": "UNIVERSITY" } } } } }),
            "NOT EXISTS (SELECT 1 FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
             WHERE pp.project_id = t.id AND o.kind = 'university')",
        ),
        (
            json!({ "partners": { "every": { "role": { "in": ["LEAD", "PARTNER"] } } } }),
            "NOT EXISTS (SELECT 1 FROM project_partners pp WHERE pp.project_id = t.id AND pp.role NOT IN ('lead', 'partner'))",
        ),
        (
            json!({ "crossBorder": true }),
            "t.id IN (SELECT pp.project_id FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
             WHERE pp.role <> 'funder' AND o.country_id IS NOT NULL GROUP BY pp.project_id HAVING COUNT(DISTINCT o.country_id) > 1)",
        ),
        (
            json!({ "programme": { "name": { "contains": "INTERREG" } } }),
            "EXISTS (SELECT 1 FROM programmes g WHERE g.id = t.programme_id AND LOWER(g.name) LIKE '%interreg%')",
        ),
        // The analysts' question: over 1 M EUR, started after 2018, an acting partner seated in
        // Nordland or Norrbotten on the day given.
        (
            json!({
                "asOf": "2024-06-01",
                "budgetEur": { "gt": 1_000_000.0 },
                "validFrom": { "gt": "2018-12-31" },
                "partners": { "some": { "role": { "in": ["LEAD", "OWNER", "PARTNER"] },
                    "organisation": { "regions": { "some": { "slug": { "in": ["reg-no-nordland", "reg-se-norrbotten"] } } } } } }
            }),
            "t.budget_eur > 1000000 AND t.valid_from > '2018-12-31' AND EXISTS (SELECT 1 FROM project_partners pp \
             JOIN organisations o ON o.id = pp.organisation_id JOIN region_memberships rm ON rm.municipality_id = o.municipality_id \
             JOIN regions r ON r.id = rm.region_id WHERE pp.project_id = t.id AND pp.role <> 'funder' \
             AND r.slug IN ('reg-no-nordland', 'reg-se-norrbotten') \
             AND (rm.valid_from IS NULL OR rm.valid_from <= '2024-06-01') AND (rm.valid_to IS NULL OR rm.valid_to >= '2024-06-01'))",
        ),
        (
            json!({ "partners": { "some": { "organisation": { "regions": { "some": { "kind": { "eq": "LAN" } } } } } } }),
            &format!("{ACTING_IN} AND r.kind = 'lan')"),
        ),
    ];
    agree(&app, "projects", "projects", &cases).await;
}

#[tokio::test]
async fn organisation_and_geography_filters_agree_with_sql() {
    let app = TestApp::spawn().await;
    let organisations = [
        (
            json!({ "kind": { "in": ["UNIVERSITY", "UNIVERSITY_COLLEGE"] } }),
            "t.kind IN ('university', 'university_college')",
        ),
        (
            json!({ "kind": { "eq": "COMPANY" }, "country": { "eq": "NO" } }),
            "t.kind = 'company' AND t.country_id = (SELECT id FROM countries WHERE code = 'NO')",
        ),
        (json!({ "orgNumber": { "isNull": false } }), "t.org_number IS NOT NULL"),
        (json!({ "not": { "orgNumber": { "isNull": false } } }), "t.org_number IS NULL"),
        (json!({ "name": { "eq": "Universitetet i Sørøst-Norge" } }), "t.name = 'Universitetet i Sørøst-Norge'"),
        (json!({ "name": { "startsWith": "universitetet" } }), "LOWER(t.name) LIKE 'universitetet%'"),
        (
            json!({ "municipality": { "country": { "eq": "SE" } } }),
            "EXISTS (SELECT 1 FROM municipalities m JOIN countries c ON c.id = m.country_id WHERE m.id = t.municipality_id AND c.code = 'SE')",
        ),
        (
            json!({ "partnerships": { "some": { "role": { "eq": "LEAD" } } } }),
            "EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role = 'lead')",
        ),
        (
            json!({ "partnerships": { "none": {} } }),
            "NOT EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id)",
        ),
        // Role-only quantifiers read the organisation's role summary (`organisation_facts`);
        // the SQL here reads the partnerships themselves.
        (
            json!({ "partnerships": { "some": {}, "every": { "role": { "eq": "PARTNER" } } } }),
            "EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id) \
             AND NOT EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role <> 'partner')",
        ),
        (
            json!({ "partnerships": { "every": { "role": { "in": ["LEAD", "OWNER"] } } } }),
            "NOT EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role NOT IN ('lead', 'owner'))",
        ),
        (
            json!({ "partnerships": { "none": { "not": { "role": { "eq": "PARTNER" } } } } }),
            "NOT EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role <> 'partner')",
        ),
        (
            json!({ "partnerships": { "some": { "or": [{ "role": { "eq": "FUNDER" } }, { "role": { "eq": "OWNER" } }] } } }),
            "EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role IN ('funder', 'owner'))",
        ),
        (json!({ "partnerships": { "every": {} } }), "1 = 1"),
        (json!({ "partnerships": { "some": { "role": { "in": [] } } } }), "1 = 0"),
        (
            json!({ "partnerships": { "some": { "role": { "eq": "LEAD" }, "budgetShare": { "isNull": true } } } }),
            "EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = t.id AND pp.role = 'lead' \
             AND pp.budget_share IS NULL)",
        ),
    ];
    agree(&app, "organisations", "organisations", &organisations).await;

    let municipalities = [
        (
            json!({ "code": { "eq": "1508" }, "asOf": "2024-06-01" }),
            "EXISTS (SELECT 1 FROM municipality_codes mc WHERE mc.municipality_id = t.id AND mc.value = '1508' \
             AND (mc.valid_from IS NULL OR mc.valid_from <= '2024-06-01') AND (mc.valid_to IS NULL OR mc.valid_to >= '2024-06-01'))",
        ),
        (
            json!({ "code": { "startsWith": "18" }, "asOf": "2019-06-01" }),
            "EXISTS (SELECT 1 FROM municipality_codes mc WHERE mc.municipality_id = t.id AND mc.value LIKE '18%' \
             AND (mc.valid_from IS NULL OR mc.valid_from <= '2019-06-01') AND (mc.valid_to IS NULL OR mc.valid_to >= '2019-06-01'))",
        ),
        (
            json!({ "asOf": "2024-06-01", "regions": { "some": { "slug": { "eq": "reg-se-norrbotten" } } } }),
            "EXISTS (SELECT 1 FROM region_memberships rm JOIN regions r ON r.id = rm.region_id WHERE rm.municipality_id = t.id \
             AND r.slug = 'reg-se-norrbotten' AND (rm.valid_from IS NULL OR rm.valid_from <= '2024-06-01') \
             AND (rm.valid_to IS NULL OR rm.valid_to >= '2024-06-01'))",
        ),
        (
            json!({ "status": { "eq": "DISSOLVED" }, "dissolvedOn": { "gte": "2020-01-01" } }),
            "t.status = 'dissolved' AND t.dissolved_on >= '2020-01-01'",
        ),
        (
            json!({ "organisations": { "some": { "kind": { "eq": "UNIVERSITY" } } } }),
            "EXISTS (SELECT 1 FROM organisations o WHERE o.municipality_id = t.id AND o.kind = 'university')",
        ),
    ];
    agree(&app, "municipalities", "municipalities", &municipalities).await;
}

#[tokio::test]
async fn nordic_names_are_found_by_their_ascii_spellings() {
    let app = TestApp::spawn().await;
    let names = |list: &'static str, search: &'static str| {
        let app = &app;
        async move {
            let query =
                format!("{{ {list}(where: {{name: {{search: \"{search}\"}}}}, first: 5) {{ nodes {{ name }} }} }}");
            let data = app.data(&query).await;
            data[list]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for (list, search, first) in [
        ("municipalities", "tromso", "Tromsø"),
        ("municipalities", "TROMSOE", "Tromsø"),
        ("municipalities", "malmo", "Malmö"),
        ("municipalities", "bo i telemark", "Bø (Telemark)"),
        ("municipalities", "aalesund", "Ålesund"),
        ("municipalities", "barum", "Bærum"),
        ("municipalities", "Ostersund", "Östersund"),
    ] {
        let found = names(list, search).await;
        assert_eq!(found.first().map(String::as_str), Some(first), "{search:?} on {list}: {found:?}");
    }
    // Relevance: the exact name first, then names that start with the search.
    let found = names("municipalities", "bo").await;
    assert_eq!(found.first().map(String::as_str), Some("Bø"), "{found:?}");
    // The shorthand folds the same way.
    let data = app.data(r#"{ municipalities(filter: {nameContains: "tromso"}) { nodes { name } } }"#).await;
    assert_eq!(crate::support::strings(&data["municipalities"]["nodes"], "name"), vec!["Tromsø"]);
    // Short searches (under the trigram index's three letters) match too.
    assert!(names("municipalities", "bø").await.contains(&"Bø".to_owned()));
}

#[tokio::test]
async fn filters_on_personal_data_need_the_analyst_role_and_bad_filters_are_refused() {
    let app = TestApp::spawn().await;
    for query in [
        r#"{ organisations(where: {students: {some: {}}}) { totalCount } }"#,
        r#"{ projects(where: {placements: {none: {kind: {eq: THESIS}}}}) { totalCount } }"#,
        r#"{ municipalities(where: {or: [{name: {eq: "x"}}, {students: {some: {fieldOfStudy: {contains: "a"}}}}]}) { totalCount } }"#,
    ] {
        assert_eq!(app.error_code(query).await, "FORBIDDEN", "{query}");
        let body = app.post_role(Role::Analyst, query, json!({})).await;
        assert!(body.get("errors").is_none(), "analysts may: {body:#}");
    }
    let deep = (0..7).fold(r#"{name: {eq: "x"}}"#.to_owned(), |inner, _| format!("{{not: {inner}}}"));
    let offset_cursor = base64_url("o:10");
    for (query, argument) in [
        (format!("{{ projects(where: {deep}) {{ totalCount }} }}"), "where"),
        (r#"{ projects(where: {budgetEur: {between: [1, 2, 3]}}) { totalCount } }"#.to_owned(), "where"),
        (r#"{ projects(where: {budgetEur: {between: [5, 1]}}) { totalCount } }"#.to_owned(), "where"),
        (r#"{ projects(where: {slug: {search: "kkig"}}) { totalCount } }"#.to_owned(), "where"),
        (r#"{ projects(where: {name: {search: " - "}}) { totalCount } }"#.to_owned(), "where"),
        (format!("{{ projects(after: \"{offset_cursor}\") {{ totalCount }} }}"), "after"),
        (r#"{ projects(orderBy: {field: RELEVANCE}) { totalCount } }"#.to_owned(), "orderBy"),
        (r#"{ regions(orderBy: {field: BUDGET}) { totalCount } }"#.to_owned(), "orderBy"),
    ] {
        let body = app.post(&query, json!({})).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{query}: {body:#}");
        assert_eq!(error["extensions"]["argument"], argument, "{query}: {body:#}");
    }
    // A cursor of one order is refused by another.
    let data = app.data(r#"{ projects(first: 1) { pageInfo { endCursor } } }"#).await;
    let cursor = data["projects"]["pageInfo"]["endCursor"].as_str().unwrap();
    let query = format!("{{ projects(after: \"{cursor}\", orderBy: {{field: SLUG}}) {{ totalCount }} }}");
    assert_eq!(app.error_code(&query).await, "BAD_USER_INPUT");
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn keyset_pages_neither_skip_nor_repeat_while_another_client_inserts() {
    let app = TestApp::spawn().await;
    let before: Vec<String> = slugs_sql(&app, "SELECT slug FROM organisations").await;
    let query = "query($after: String) { organisations(first: 7, after: $after) { \
                 nodes { slug name } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut inserted_after = Vec::new();
    let mut after = Value::Null;
    let mut round = 0;
    loop {
        let body = app.post(query, json!({ "after": after })).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        let page = &body["data"]["organisations"];
        let nodes = page["nodes"].as_array().unwrap();
        seen.extend(nodes.iter().map(|n| n["slug"].as_str().unwrap().to_owned()));
        // Another client inserts a row before this page (it must not shift the next page)
        // and one after it (the walk must meet it once).
        round += 1;
        // "!" sorts before every name, "ÿ" (U+00FF) after every Nordic one, in byte order.
        for (prefix, later) in [("!", false), ("ÿ", true)] {
            let slug = format!("org-insert-{round}-{later}");
            let body = app
                .post_role(
                    Role::Editor,
                    "mutation($o: OrganisationInput!) { createOrganisation(input: $o) { slug } }",
                    json!({ "o": { "slug": slug, "name": format!("{prefix} inserted {round}"), "kind": "COMPANY" } }),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body:#}");
            if later {
                inserted_after.push(slug);
            }
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let seen_set = set(seen.clone());
    let expected: BTreeSet<String> =
        before.into_iter().chain(inserted_after[..inserted_after.len() - 1].iter().cloned()).collect();
    assert_eq!(seen_set, expected, "every row there at the start, and every row inserted ahead, exactly once");
    assert!(round > 5, "the walk took several pages ({round})");
}

#[tokio::test]
async fn lists_sort_by_several_fields_and_by_metrics_on_both_backends() {
    // Small pages make many requests: no rate limit here.
    let app = TestApp::spawn_synthetic_with(ServeArgs { rate_limit_per_second: 0, ..ServeArgs::default() }).await;
    // Text orders compare bytes on both backends.
    let (name, slug) = match app.db.backend() {
        DatabaseBackend::Postgres => ("t.name COLLATE \"C\"", "t.slug COLLATE \"C\""),
        _ => ("t.name", "t.slug"),
    };
    let walk = |list: &'static str, order: Value| {
        let app = &app;
        async move {
            let query = format!(
                "query($o: [SortOrder!], $after: String) {{ {list}(orderBy: $o, first: 9, after: $after) {{ \
                 nodes {{ slug }} pageInfo {{ hasNextPage endCursor }} }} }}"
            );
            let (mut slugs, mut after) = (Vec::new(), Value::Null);
            loop {
                let body = app.post_role(Role::Analyst, &query, json!({ "o": order, "after": after })).await;
                assert!(body.get("errors").is_none(), "{body:#}");
                let page = &body["data"][list];
                slugs.extend(page["nodes"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_owned()));
                if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return slugs;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let by_budget =
        walk("projects", json!([{ "field": "BUDGET_EUR", "direction": "DESC" }, { "field": "NAME" }])).await;
    let expected = slugs_sql(
        &app,
        &format!("SELECT t.slug FROM projects t ORDER BY CASE WHEN t.budget_eur IS NULL THEN 1 ELSE 0 END, t.budget_eur DESC, {name}, t.id"),
    )
    .await;
    assert_eq!(by_budget, expected);

    let by_partnerships = walk("organisations", json!([{ "field": "PARTNERSHIPS", "direction": "DESC" }])).await;
    let expected = slugs_sql(
        &app,
        "SELECT t.slug FROM organisations t ORDER BY (SELECT COUNT(*) FROM project_partners pp WHERE pp.organisation_id = t.id) DESC, t.id",
    )
    .await;
    assert_eq!(by_partnerships, expected);

    let by_end =
        walk("projects", json!([{ "field": "END", "direction": "ASC" }, { "field": "SLUG", "direction": "DESC" }]))
            .await;
    let expected = slugs_sql(
        &app,
        &format!("SELECT t.slug FROM projects t ORDER BY CASE WHEN t.valid_to IS NULL THEN 1 ELSE 0 END, t.valid_to, {slug} DESC, t.id"),
    )
    .await;
    assert_eq!(by_end, expected);
}

/// The rows of an aggregate as (keys JSON, row JSON).
fn rows(body: &Value, field: &str) -> Vec<Value> {
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"][field]["rows"].as_array().unwrap().clone()
}

#[tokio::test]
async fn aggregates_keep_order_and_cut_groups_by_their_measures() {
    let app = TestApp::spawn_synthetic().await;
    let query = "query($having: [ProjectGroupHaving!], $order: [ProjectGroupOrder!], $top: Int) { \
                 projectAggregate(groupBy: [REGION, YEAR], having: $having, orderBy: $order, top: $top) { \
                 rows { keys { region { slug } year } count budgetEur { sum } } } }";
    let all = rows(&app.post_role(Role::Analyst, query, json!({})).await, "projectAggregate");
    let chosen = rows(
        &app.post_role(
            Role::Analyst,
            query,
            json!({ "having": [{ "measure": "COUNT", "gte": 3 }], "order": [{ "measure": "BUDGET_EUR_SUM" }], "top": 5 }),
        )
        .await,
        "projectAggregate",
    );
    // The same choice made here from every group: count ≥ 3, largest budget first (unknown
    // last, ties in key order), five of them.
    let mut expected: Vec<Value> = all.iter().filter(|r| r["count"].as_i64().unwrap() >= 3).cloned().collect();
    expected.sort_by(|a, b| {
        let (x, y) = (a["budgetEur"]["sum"].as_f64(), b["budgetEur"]["sum"].as_f64());
        match (x, y) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    expected.truncate(5);
    assert!(all.len() > expected.len() && expected.len() == 5, "{} groups", all.len());
    assert_eq!(chosen, expected);

    let bad =
        app.post_role(Role::Analyst, query, json!({ "having": [{ "measure": "COUNT", "between": [5, 1] }] })).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad:#}");
}

#[tokio::test]
async fn having_and_ordering_on_withheld_counts_reveal_nothing() {
    let app = TestApp::spawn_synthetic().await;
    let query = "query($having: [PlacementGroupHaving!], $order: [PlacementGroupOrder!]) { \
                 placementAggregate(groupBy: [HOST_REGION, YEAR], having: $having, orderBy: $order) { \
                 withheldGroups rows { keys { hostRegion { slug } year } students { value suppressed } } } }";
    let public = |variables: Value| {
        let app = &app;
        async move { rows(&app.post_role(Role::Public, query, variables).await, "placementAggregate") }
    };
    let everything = public(json!({})).await;
    let withheld: Vec<&Value> = everything.iter().filter(|r| r["students"]["suppressed"] == true).collect();
    let shown: Vec<Value> = everything.iter().filter(|r| r["students"]["suppressed"] == false).cloned().collect();
    assert!(!withheld.is_empty() && !shown.is_empty(), "the registry must have both kinds of group");

    // Any condition keeps exactly the shown groups that pass it: a withheld group never passes,
    // whatever its true count.
    assert_eq!(public(json!({ "having": [{ "measure": "STUDENTS", "gte": 0 }] })).await, shown);
    assert_eq!(public(json!({ "having": [{ "measure": "STUDENTS", "lt": 5 }] })).await, Vec::<Value>::new());
    // Ordered by the count, withheld groups come last, in key order.
    let ordered = public(json!({ "order": [{ "measure": "STUDENTS", "direction": "ASC" }] })).await;
    let tail: Vec<&Value> = ordered[shown.len()..].iter().collect();
    assert_eq!(tail, withheld);
    let counts: Vec<i64> = ordered[..shown.len()].iter().map(|r| r["students"]["value"].as_i64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");

    // Analysts see true counts, so the same condition does find small groups.
    let small = rows(
        &app.post_role(Role::Analyst, query, json!({ "having": [{ "measure": "STUDENTS", "lt": 5 }] })).await,
        "placementAggregate",
    );
    assert!(!small.is_empty());
    assert!(small.iter().all(|r| r["students"]["value"].as_i64().unwrap() < 5));
}

#[tokio::test]
async fn regions_sort_by_a_metric_of_a_period_across_pages() {
    let app = TestApp::spawn_synthetic_with(ServeArgs { rate_limit_per_second: 0, ..ServeArgs::default() }).await;
    let order = json!([{ "field": "CROSS_BORDER_PROJECTS", "direction": "DESC",
        "period": { "from": "2016-01-01", "to": "2021-12-31" }, "asOf": "2024-01-01" }]);
    let query = "query($o: [SortOrder!], $after: String, $first: Int) { \
                 regions(where: {kind: {in: [FYLKE, LAN]}, asOf: \"2024-01-01\"}, orderBy: $o, first: $first, after: $after) { \
                 nodes { slug metrics(period: {from: \"2016-01-01\", to: \"2021-12-31\"}, asOf: \"2024-01-01\") { crossBorderProjects } } \
                 pageInfo { hasNextPage endCursor } } }";
    let walk = |first: i64| {
        let (app, order) = (&app, order.clone());
        async move {
            let (mut rows, mut after) = (Vec::new(), Value::Null);
            loop {
                let body =
                    app.post_role(Role::Analyst, query, json!({ "o": order, "after": after, "first": first })).await;
                assert!(body.get("errors").is_none(), "{body:#}");
                let page = &body["data"]["regions"];
                for node in page["nodes"].as_array().unwrap() {
                    let value = node["metrics"]["crossBorderProjects"].as_i64().unwrap();
                    rows.push((node["slug"].as_str().unwrap().to_owned(), value));
                }
                if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return rows;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let paged = walk(4).await;
    let whole = walk(500).await;
    assert_eq!(paged, whole, "pages of 4 walk the same order as one page");
    let values: Vec<i64> = paged.iter().map(|r| r.1).collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "largest first, as the metric says: {values:?}");
    assert!(values.first() > values.last(), "the metric tells regions apart: {values:?}");
    set(paged.into_iter().map(|r| r.0).collect());
}
