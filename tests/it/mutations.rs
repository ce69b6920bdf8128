//! Editors' writes through HTTP: every validation rule is refused with its code and writes
//! nothing, concurrent updates cannot lose one another, imports are all-or-nothing, and every
//! committed change leaves exactly its event row.

use samverka::auth::Role;
use samverka::server::DEMO_REGISTRY;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::TestApp;

const TABLES: &[&str] = &[
    "sources",
    "countries",
    "regions",
    "region_codes",
    "region_parents",
    "municipalities",
    "municipality_codes",
    "region_memberships",
    "organisations",
    "students",
    "student_placements",
    "programmes",
    "projects",
    "project_budget_lines",
    "project_partners",
    "collaborations",
    "goals",
    "indicator_values",
    "events",
];

/// Row counts and the full text of every table: equal fingerprints mean nothing was written.
async fn fingerprint(app: &TestApp) -> (Vec<(String, usize)>, u64) {
    use std::hash::{Hash, Hasher};
    let mut counts = Vec::new();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for table in TABLES {
        let key = if *table == "events" { "seq" } else { "id" };
        let statement = Statement::from_string(app.db.backend(), format!("SELECT * FROM {table} ORDER BY {key}"));
        let rows = app.db.conn.query_all_raw(statement).await.unwrap();
        counts.push(((*table).to_owned(), rows.len()));
        for row in rows {
            format!("{row:?}").hash(&mut hasher);
        }
    }
    (counts, hasher.finish())
}

async fn editor(app: &TestApp, query: &str, variables: Value) -> Value {
    app.post_role(Role::Editor, query, variables).await
}

/// (what, mutation, expected code, expected `extensions.field`, expected `extensions.rule`)
type RuleCase = (&'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>);

fn code_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("expected an error: {body:#}"))
}

#[tokio::test]
async fn every_rule_is_refused_with_its_code_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let cases: &[RuleCase] = &[
        (
            "period from after to",
            r#"mutation { createProject(input: {slug: "p-x", name: "X", validFrom: "2020-01-02", validTo: "2020-01-01"}) { slug } }"#,
            "BAD_USER_INPUT",
            Some("validTo"),
            Some("period_order"),
        ),
        (
            "kommunenummer not 4 digits",
            r#"mutation { addMunicipalityCode(municipality: "mun-no-rana", input: {scheme: KOMMUNENUMMER, value: "183", validFrom: "2030-01-01"}) { value } }"#,
            "BAD_USER_INPUT",
            Some("value"),
            Some("code_format"),
        ),
        (
            "länskod not 2 digits",
            r#"mutation { addRegionCode(region: "reg-se-norrbotten", input: {scheme: LANSKOD, value: "2A"}) { value } }"#,
            "BAD_USER_INPUT",
            Some("value"),
            Some("code_format"),
        ),
        (
            "NUTS 2 code of the wrong level",
            r#"mutation { addRegionCode(region: "nuts-SE33", input: {scheme: NUTS2, value: "SE3"}) { value } }"#,
            "BAD_USER_INPUT",
            Some("value"),
            Some("code_format"),
        ),
        (
            "membership overlapping another fylke",
            r#"mutation { addMembership(input: {municipality: "mun-no-rana", region: "reg-no-telemark", validFrom: "2024-01-01"}) { validFrom } }"#,
            "BAD_USER_INPUT",
            Some("validFrom"),
            Some("membership_overlap"),
        ),
        (
            "two kommunenummer valid on one day",
            r#"mutation { addMunicipalityCode(municipality: "mun-no-porsgrunn", input: {scheme: KOMMUNENUMMER, value: "4099", validFrom: "2025-01-01"}) { value } }"#,
            "BAD_USER_INPUT",
            Some("validFrom"),
            Some("code_overlap"),
        ),
        (
            "partner share above the project budget",
            r#"mutation { addProjectPartner(input: {project: "proj-scandinavian-science-cluster", organisation: "org-hiof", role: FUNDER, budgetShare: 99999999}) { role } }"#,
            "BAD_USER_INPUT",
            Some("budgetShare"),
            Some("budget_share"),
        ),
        (
            "comparator outside the closed set",
            r#"mutation { addIndicatorValue(input: {slug: "iv-x", project: "proj-kkig", text: "t", value: 3, comparator: ABOUT}) { slug } }"#,
            "BAD_USER_INPUT",
            None,
            None,
        ),
        (
            "slug already taken",
            r#"mutation { createOrganisation(input: {slug: "org-usn", name: "Again", kind: UNIVERSITY}) { slug } }"#,
            "CONFLICT",
            Some("slug"),
            Some("slug_unique"),
        ),
        (
            "unknown programme",
            r#"mutation { createProject(input: {slug: "p-y", name: "Y", programme: "no-such-programme"}) { slug } }"#,
            "NOT_FOUND",
            Some("programme"),
            None,
        ),
        (
            "stale version",
            r#"mutation { updateOrganisation(slug: "org-usn", expectedVersion: 41, input: {slug: "org-usn", name: "USN", kind: UNIVERSITY}) { slug } }"#,
            "CONFLICT",
            Some("expectedVersion"),
            Some("stale_version"),
        ),
        (
            "organisation still referenced",
            r#"mutation { deleteOrganisation(slug: "org-ltu", expectedVersion: 1) { slug } }"#,
            "CONFLICT",
            None,
            Some("still_referenced"),
        ),
    ];
    let before = fingerprint(&app).await;
    for (what, mutation, code, field, rule) in cases {
        let body = editor(&app, mutation, json!({})).await;
        assert_eq!(code_of(&body), *code, "{what}: {body:#}");
        let extensions = &body["errors"][0]["extensions"];
        if let Some(field) = field {
            assert_eq!(extensions["field"], *field, "{what}: {body:#}");
        }
        if let Some(rule) = rule {
            assert_eq!(extensions["rule"], *rule, "{what}: {body:#}");
        }
        assert!(body["data"].is_null() || body["data"].as_object().is_some_and(|d| d.values().all(Value::is_null)));
        assert_eq!(fingerprint(&app).await, before, "{what}: a refused write changed the database");
        println!("refused  {what:<40} {code:<16} {}", extensions["rule"]);
    }
}

#[tokio::test]
async fn concurrent_updates_with_one_version_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let read = app.data(r#"{ project(slug: "proj-kkig") { version name } }"#).await;
    let version = read["project"]["version"].as_i64().unwrap();
    let token = app.token(Role::Editor);
    let writers = 8;
    let mut tasks = Vec::new();
    for n in 0..writers {
        let (client, base, token) = (app.client.clone(), app.base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let query = format!(
                r#"mutation {{ updateProject(slug: "proj-kkig", expectedVersion: {version}, input: {{slug: "proj-kkig", name: "Writer {n}"}}) {{ name version }} }}"#
            );
            let response = client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let body = task.await.unwrap();
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => winners.push(body["data"]["updateProject"]["name"].as_str().unwrap().to_owned()),
            Some("CONFLICT") => conflicts += 1,
            Some(other) => panic!("unexpected {other}: {body:#}"),
        }
    }
    println!(
        "lost-update test: {writers} concurrent writers on version {version}: {} won, {conflicts} got CONFLICT",
        winners.len()
    );
    assert_eq!(winners.len(), 1, "exactly one writer may win");
    assert_eq!(conflicts, writers - 1);
    let after = app.data(r#"{ project(slug: "proj-kkig") { version name } }"#).await;
    assert_eq!(after["project"]["version"].as_i64().unwrap(), version + 1);
    assert_eq!(after["project"]["name"], winners[0].as_str(), "the stored name is the winner's");
    let events = app
        .post_role(
            Role::Admin,
            r#"{ changeEvents(entity: "projects", first: 500) { operation slug version } }"#,
            json!({}),
        )
        .await;
    let updates: Vec<&Value> = events["data"]["changeEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["slug"] == "proj-kkig" && e["operation"] == "update")
        .collect();
    assert_eq!(updates.len(), 1, "one committed update, one event: {events:#}");
}

#[tokio::test]
async fn each_kind_of_change_writes_one_event_in_its_transaction() {
    let app = TestApp::spawn().await;
    let start = app.post_role(Role::Admin, "{ changeEvents(after: 0, first: 500) { seq } }", json!({})).await;
    let demo_events = start["data"]["changeEvents"].as_array().unwrap().len();
    assert!(demo_events >= 500, "loading the demo records its rows as created: {demo_events}");
    let last_seq = {
        let all = app
            .db
            .conn
            .query_one_raw(Statement::from_string(app.db.backend(), "SELECT MAX(seq) AS m FROM events"))
            .await;
        all.unwrap().unwrap().try_get::<i64>("", "m").unwrap()
    };
    let steps = [
        r#"mutation { createOrganisation(input: {slug: "org-new", name: "New AS", kind: COMPANY, country: "NO", municipality: "mun-no-rana"}) { version } }"#,
        r#"mutation { updateOrganisation(slug: "org-new", expectedVersion: 1, input: {slug: "org-new", name: "New AS (renamed)", kind: COMPANY, country: "NO"}) { version } }"#,
        r#"mutation { addProjectPartner(input: {project: "proj-kkig", organisation: "org-new", role: PARTNER}) { version } }"#,
        r#"mutation { removeProjectPartner(project: "proj-kkig", organisation: "org-new", role: PARTNER) { version } }"#,
        r#"mutation { deleteOrganisation(slug: "org-new", expectedVersion: 2) { slug } }"#,
        r#"mutation { createMunicipality(input: {slug: "mun-no-ny", name: "Ny kommune", country: "NO"}) { version } }"#,
        r#"mutation { addMembership(input: {municipality: "mun-no-ny", region: "reg-no-nordland", validFrom: "2024-01-01"}) { version } }"#,
        r#"mutation { dissolveMunicipality(slug: "mun-no-ny", expectedVersion: 1, input: {dissolvedOn: "2026-01-01", successor: "mun-no-rana"}) { status version } }"#,
    ];
    for step in steps {
        let body = editor(&app, step, json!({})).await;
        assert!(body.get("errors").is_none(), "{step}: {body:#}");
    }
    let body = app
        .post_role(
            Role::Admin,
            "query($after: Int!) { changeEvents(after: $after, first: 50) { seq entity slug operation version actor } }",
            json!({ "after": last_seq }),
        )
        .await;
    let events = body["data"]["changeEvents"].as_array().unwrap();
    let seen: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} v{} by {}",
                e["entity"].as_str().unwrap(),
                e["operation"].as_str().unwrap(),
                e["slug"].as_str().unwrap_or("-"),
                e["version"],
                e["actor"].as_str().unwrap()
            )
        })
        .collect();
    for line in &seen {
        println!("event: {line}");
    }
    let expected = [
        "organisations create org-new v1 by test-editor",
        "organisations update org-new v2 by test-editor",
        "project_partners create - v1 by test-editor",
        "project_partners delete - v1 by test-editor",
        "organisations delete org-new v2 by test-editor",
        "municipalities create mun-no-ny v1 by test-editor",
        "region_memberships create - v1 by test-editor",
        "region_memberships end - v2 by test-editor",
        "municipalities end mun-no-ny v2 by test-editor",
    ];
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn an_import_with_one_bad_row_leaves_the_database_as_it_was() {
    let app = TestApp::spawn().await;
    let mut registry: Value = serde_json::from_slice(DEMO_REGISTRY).unwrap();
    registry["organisations"][0]["name"] = json!("Renamed by the import");
    let before = fingerprint(&app).await;
    // A file the parser accepts but the write rules refuse, as `addRegionCode` would (rule
    // `code_overlap`): a region gets the same code twice (same scheme, value and start).
    let mut constraint_breaking = registry.clone();
    {
        let v = &mut constraint_breaking;
        // Two identical ISO 3166-2 codes on one of the demo's own regions (Fyrbodal).
        let fyrbodal = v["regions"].as_array().unwrap().iter().position(|r| r["id"] == "subreg-fyrbodal").unwrap();
        let code = json!({"scheme": "iso3166_2", "value": "SE-O", "source": "001_a388b46dd2593584.txt"});
        v["regions"][fyrbodal]["codes"] = json!([code.clone(), code]);
    }
    // And one the parser refuses: a membership in a region that does not exist.
    let mut unknown_reference = registry.clone();
    unknown_reference["municipalities"][3]["region_memberships"][0]["region"] = json!("reg-nowhere");
    for (what, file, code) in
        [("overlap", constraint_breaking, "BAD_USER_INPUT"), ("reference", unknown_reference, "BAD_USER_INPUT")]
    {
        let body = editor(
            &app,
            "mutation($r: JSON!) { importRegistry(registry: $r) { inserted updated } }",
            json!({ "r": file }),
        )
        .await;
        assert_eq!(code_of(&body), code, "{what}: {body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap().to_lowercase();
        assert!(
            !message.contains("constraint") && !message.contains("sqlite") && !message.contains("duplicate key"),
            "internal cause leaked: {message}"
        );
        assert_eq!(fingerprint(&app).await, before, "{what}: a refused import changed the database");
    }
    // The same file without the bad row goes through, and only the changed row is written.
    let body = editor(
        &app,
        "mutation($r: JSON!) { importRegistry(registry: $r) { inserted updated deleted } }",
        json!({ "r": registry }),
    )
    .await;
    // The organisation and its dated name.
    assert_eq!(body["data"]["importRegistry"], json!({ "inserted": 0, "updated": 2, "deleted": 0 }), "{body:#}");
}
