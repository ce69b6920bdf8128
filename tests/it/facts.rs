//! The derived analytical facts (`db::facts`) stay exactly what a full recomputation gives after
//! every kind of write — a moved organisation, an ended membership, a changed budget, a new and
//! a moved placement, a student changing school, a removed partner, a new result, an import —
//! each checked right after its transaction, on whichever backend the tests run on. The
//! metrics that read them are checked against independent SQL afterwards (`analytics`).

use base64::Engine;
use samverka::auth::Role;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::support::TestApp;

/// Every fact and rollup table, with its key and the rows that count, read as one text line per
/// row. A rollup kept by subtraction may hold rows whose sums went back to zero; a rebuild does
/// not write them, and they change no answer.
const ROLLUP_KEY: &str = "node_kind, node_id, epoch_from, edge, month";
const TABLES: &[(&str, &str, &str)] = &[
    ("project_facts", "project_id", "1 = 1"),
    ("partnership_facts", "partner_id", "1 = 1"),
    ("placement_facts", "placement_id", "1 = 1"),
    ("enrolment_facts", "student_id", "1 = 1"),
    ("organisation_facts", "organisation_id", "1 = 1"),
    ("metric_nodes", "node_kind, node_id, epoch_from, municipality_id", "1 = 1"),
    ("project_months", ROLLUP_KEY, "projects <> 0"),
    ("placement_months", ROLLUP_KEY, "placements_in <> 0 OR placements_out <> 0"),
    ("enrolment_months", ROLLUP_KEY, "enrolments <> 0"),
    ("partnership_cells", "region_id, start_year", "1 = 1"),
    ("placement_cells", "home_region_id, host_region_id, start_year", "1 = 1"),
];

/// A column as text; sums of floating-point values kept by adding and subtracting differ from a
/// fresh sum in the last bits, so they are compared to the cent.
fn as_text(backend: sea_orm::DatabaseBackend, column: &str) -> String {
    if !column.ends_with("_eur") && !column.ends_with("_sum") {
        return format!("COALESCE(CAST({column} AS TEXT), '-')");
    }
    match backend {
        sea_orm::DatabaseBackend::Postgres => {
            format!("COALESCE(CAST(ROUND(CAST({column} AS NUMERIC), 2) AS TEXT), '-')")
        }
        _ => format!("COALESCE(printf('%.2f', ROUND({column}, 2) + 0.0), '-')"),
    }
}

async fn columns<C: ConnectionTrait>(conn: &C, table: &str) -> Vec<String> {
    let sql = match conn.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => format!(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = '{table}' \
             AND table_schema = current_schema() ORDER BY ordinal_position"
        ),
        _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
    };
    let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "name").unwrap()).collect()
}

async fn snapshot<C: ConnectionTrait>(conn: &C) -> Vec<(String, Vec<String>)> {
    let mut tables = Vec::new();
    for (table, key, counted) in TABLES {
        let line = columns(conn, table)
            .await
            .iter()
            .map(|c| as_text(conn.get_database_backend(), c))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let sql = format!("SELECT {line} AS line FROM {table} WHERE {counted} ORDER BY {key}");
        let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
        tables.push((table.to_string(), rows.iter().map(|row| row.try_get::<String>("", "line").unwrap()).collect()));
    }
    tables
}

/// The facts as kept, against the facts recomputed from scratch (in a transaction rolled back).
async fn assert_facts_true(app: &TestApp, after: &str) {
    let kept = snapshot(&app.db.conn).await;
    let tx = app.db.conn.begin().await.unwrap();
    samverka::db::facts::rebuild(&tx).await.unwrap();
    let recomputed = snapshot(&tx).await;
    tx.rollback().await.unwrap();
    for ((table, kept), (_, recomputed)) in kept.iter().zip(&recomputed) {
        assert!(!recomputed.is_empty(), "{table} is empty: nothing would be tested");
        if kept != recomputed {
            let missing: Vec<_> = recomputed.iter().filter(|r| !kept.contains(r)).take(3).collect();
            let stale: Vec<_> = kept.iter().filter(|r| !recomputed.contains(r)).take(3).collect();
            panic!("after {after}: {table} is stale: missing {missing:?}, stale {stale:?}");
        }
    }
    println!("after {after}: facts true ({} rows)", kept.iter().map(|(_, rows)| rows.len()).sum::<usize>());
}

async fn one(app: &TestApp, sql: &str) -> sea_orm::QueryResult {
    app.db.conn.query_one_raw(Statement::from_string(app.db.backend(), sql.to_owned())).await.unwrap().unwrap()
}

async fn text(app: &TestApp, sql: &str) -> String {
    one(app, sql).await.try_get_by_index::<String>(0).unwrap()
}

async fn write(app: &TestApp, query: &str, variables: Value) -> Value {
    let body = app.post_role(Role::Admin, query, variables).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

#[tokio::test]
async fn derived_facts_stay_true_after_every_kind_of_write() {
    let app = TestApp::spawn_synthetic().await;
    assert_facts_true(&app, "the seed").await;

    // An organisation that hosts placements, enrols students and is a partner moves across the
    // border (new municipality and country: seats, countries and cross-border flags change).
    let mover = text(
        &app,
        "SELECT o.slug FROM organisations o WHERE o.country_id = (SELECT id FROM countries WHERE code = 'NO') \
         AND EXISTS (SELECT 1 FROM student_placements sp WHERE sp.host_organisation_id = o.id) \
         AND EXISTS (SELECT 1 FROM students st WHERE st.enrolling_organisation_id = o.id) \
         AND EXISTS (SELECT 1 FROM project_partners pp WHERE pp.organisation_id = o.id) ORDER BY o.id LIMIT 1",
    )
    .await;
    let organisation = app
        .post_role(
            Role::Admin,
            "query($s: String!) { organisation(slug: $s) { version name kind } }",
            json!({ "s": mover }),
        )
        .await["data"]["organisation"]
        .clone();
    write(
        &app,
        "mutation($s: String!, $v: Int!, $i: OrganisationInput!) { updateOrganisation(slug: $s, expectedVersion: $v, input: $i) { version } }",
        json!({ "s": mover, "v": organisation["version"], "i": {
            "slug": mover, "name": organisation["name"], "kind": organisation["kind"],
            "country": "SE", "municipality": "mun-se-lulea"
        } }),
    )
    .await;
    assert_facts_true(&app, "a moved organisation").await;

    // An ended membership (the facts hold seats, not memberships: nothing may go stale).
    let membership = one(
        &app,
        "SELECT m.slug AS municipality, r.slug AS region, rm.version, rm.valid_from FROM region_memberships rm \
         JOIN municipalities m ON m.id = rm.municipality_id JOIN regions r ON r.id = rm.region_id \
         WHERE rm.valid_to IS NULL AND r.slug = 'reg-no-nordland' ORDER BY m.slug LIMIT 1",
    )
    .await;
    write(
        &app,
        "mutation($m: String!, $r: String!, $v: Int!, $f: Date, $t: Date!) { endMembership(municipality: $m, region: $r, expectedVersion: $v, validFrom: $f, validTo: $t) { version } }",
        json!({
            "m": membership.try_get::<String>("", "municipality").unwrap(),
            "r": membership.try_get::<String>("", "region").unwrap(),
            "v": membership.try_get::<i32>("", "version").unwrap(),
            "f": membership.try_get::<Option<chrono::NaiveDate>>("", "valid_from").unwrap(),
            "t": "2025-12-31",
        }),
    )
    .await;
    assert_facts_true(&app, "an ended membership").await;

    // A changed budget (in another currency) and period.
    let project = text(
        &app,
        "SELECT p.slug FROM projects p WHERE EXISTS (SELECT 1 FROM goals g WHERE g.project_id = p.id AND g.target_value > 0) \
         AND EXISTS (SELECT 1 FROM student_placements sp WHERE sp.project_id = p.id) ORDER BY p.id LIMIT 1",
    )
    .await;
    let current = app
        .post_role(
            Role::Admin,
            "query($s: String!) { project(slug: $s) { version name programme { slug } } }",
            json!({ "s": project }),
        )
        .await["data"]["project"]
        .clone();
    write(
        &app,
        "mutation($s: String!, $v: Int!, $i: ProjectInput!) { updateProject(slug: $s, expectedVersion: $v, input: $i) { version } }",
        json!({ "s": project, "v": current["version"], "i": {
            "slug": project, "name": current["name"], "programme": current["programme"]["slug"],
            "validFrom": "2016-03-01", "validTo": "2019-02-28", "budgetTotal": 12_345_678.0, "budgetCurrency": "SEK"
        } }),
    )
    .await;
    assert_facts_true(&app, "a changed budget and period").await;

    // A new placement of a student at the moved organisation, within that project.
    let student = text(&app, "SELECT slug FROM students ORDER BY id LIMIT 1").await;
    write(
        &app,
        "mutation($i: PlacementInput!) { addPlacement(input: $i) { slug } }",
        json!({ "i": { "slug": "test-new-placement", "student": student, "host": mover, "project": project,
                       "kind": "INTERNSHIP", "validFrom": "2018-05-01", "validTo": "2018-08-31" } }),
    )
    .await;
    assert_facts_true(&app, "a new placement").await;

    // The student changes school (every one of their placements changes its home side).
    let enrolled = app
        .post_role(
            Role::Admin,
            "query($s: String!) { student(slug: $s) { version enrolledFrom enrolledTo } }",
            json!({ "s": student }),
        )
        .await["data"]["student"]
        .clone();
    let school = text(
        &app,
        "SELECT o.slug FROM organisations o JOIN countries c ON c.id = o.country_id WHERE c.code = 'SE' \
         AND EXISTS (SELECT 1 FROM students st WHERE st.enrolling_organisation_id = o.id) ORDER BY o.id LIMIT 1",
    )
    .await;
    write(
        &app,
        "mutation($s: String!, $v: Int!, $i: StudentInput!) { updateStudent(slug: $s, expectedVersion: $v, input: $i) { version } }",
        json!({ "s": student, "v": enrolled["version"], "i": {
            "slug": student, "enrollingOrganisation": school, "enrolledFrom": enrolled["enrolledFrom"],
            "enrolledTo": enrolled["enrolledTo"]
        } }),
    )
    .await;
    assert_facts_true(&app, "a student changing school").await;

    // A removed partner (the project's partner count and cross-border flag).
    let partner = one(
        &app,
        "SELECT o.slug AS organisation, p.slug AS project, pp.role FROM project_partners pp \
         JOIN organisations o ON o.id = pp.organisation_id JOIN projects p ON p.id = pp.project_id \
         WHERE (SELECT COUNT(*) FROM project_partners other WHERE other.project_id = pp.project_id) > 2 ORDER BY pp.id LIMIT 1",
    )
    .await;
    write(
        &app,
        "mutation($o: String!, $p: String!, $r: PartnerRole!) { removeProjectPartner(organisation: $o, project: $p, role: $r) { role } }",
        json!({
            "o": partner.try_get::<String>("", "organisation").unwrap(),
            "p": partner.try_get::<String>("", "project").unwrap(),
            "r": partner.try_get::<String>("", "role").unwrap().to_uppercase(),
        }),
    )
    .await;
    assert_facts_true(&app, "a removed partner").await;

    // A new result against a goal with a target (the project's attainment).
    let goal = one(
        &app,
        "SELECT g.slug AS goal, p.slug AS project FROM goals g JOIN projects p ON p.id = g.project_id \
         WHERE g.target_value > 0 ORDER BY g.id LIMIT 1",
    )
    .await;
    write(
        &app,
        "mutation($i: IndicatorValueInput!) { addIndicatorValue(input: $i) { slug } }",
        json!({ "i": {
            "slug": "test-new-result", "project": goal.try_get::<String>("", "project").unwrap(),
            "goal": goal.try_get::<String>("", "goal").unwrap(), "text": "measured by the test",
            "value": 3.0, "periodFrom": "2030-01-01", "periodTo": "2030-12-31"
        } }),
    )
    .await;
    assert_facts_true(&app, "a new result").await;

    // An import of a funder's published file: new organisations, projects and partnerships.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import/forskningsradet-eu.csv");
    let bytes = std::fs::read(path).unwrap();
    let body = app
        .post_role(
            Role::Editor,
            "mutation($f: [ImportFileInput!]!) { importFile(format: FORSKNINGSRADET_EU, files: $f) { committed inserted } }",
            json!({ "f": [{ "name": "forskningsradet-eu.csv",
                            "contentBase64": base64::engine::general_purpose::STANDARD.encode(&bytes) }] }),
        )
        .await;
    assert_eq!(body["data"]["importFile"]["committed"], json!(true), "{body:#}");
    assert_facts_true(&app, "an import").await;

    // A removed placement.
    let version = one(&app, "SELECT version FROM student_placements WHERE slug = 'test-new-placement'").await;
    write(
        &app,
        "mutation($v: Int!) { removePlacement(slug: \"test-new-placement\", expectedVersion: $v) { slug } }",
        json!({ "v": version.try_get::<i32>("", "version").unwrap() }),
    )
    .await;
    assert_facts_true(&app, "a removed placement").await;

    // And the metrics that read the facts still agree with SQL written without them.
    crate::analytics::check_region_metrics(&app, &["reg-no-nordland", "reg-se-norrbotten"]).await;
}
