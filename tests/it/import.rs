//! The importer: one transaction, idempotent, and a malformed file changes nothing and says where
//! and why.

use samverka::server::DEMO_REGISTRY;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::TestDb;

const TABLES: &[&str] = &[
    "sources",
    "countries",
    "regions",
    "region_codes",
    "region_parents",
    "municipalities",
    "municipality_codes",
    "region_memberships",
    "municipality_names",
    "municipality_changes",
    "region_changes",
    "organisations",
    "organisation_names",
    "organisation_changes",
    "programmes",
    "projects",
    "project_budget_lines",
    "project_partners",
    "collaborations",
    "goals",
    "indicator_values",
];

/// Every row of every table, as text, in id order: equal dumps mean nothing changed.
async fn dump(db: &samverka::db::Db) -> Vec<String> {
    let mut rows = Vec::new();
    for table in TABLES {
        let statement = Statement::from_string(db.backend(), format!("SELECT * FROM {table} ORDER BY id"));
        for row in db.conn.query_all_raw(statement).await.unwrap() {
            rows.push(format!("{table}: {row:?}"));
        }
    }
    rows
}

async fn migrated() -> TestDb {
    let test_db = TestDb::new().await;
    test_db.db.migrate().await.unwrap();
    test_db
}

#[tokio::test]
async fn reimporting_changes_nothing() {
    let test_db = migrated().await;
    let first = samverka::load_registry(&test_db.db, DEMO_REGISTRY, "test").await.unwrap();
    // Its geography is the reference map's (loaded first); the demo adds its own facts to it.
    assert!(first.total().inserted > 250, "the demo registry has hundreds of facts: {first:?}");
    let before = dump(&test_db.db).await;
    let second = samverka::load_registry(&test_db.db, DEMO_REGISTRY, "test").await.unwrap();
    assert!(second.changed_nothing(), "second import wrote something: {second:?}");
    assert_eq!(second.total().unchanged, first.total().inserted);
    assert_eq!(dump(&test_db.db).await, before);
}

/// Applies `edit` to a copy of the demo file and returns the bytes.
fn broken(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(DEMO_REGISTRY).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[tokio::test]
async fn malformed_files_change_nothing_and_say_where() {
    let test_db = migrated().await;
    samverka::load_registry(&test_db.db, DEMO_REGISTRY, "test").await.unwrap();
    let before = dump(&test_db.db).await;
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"{ not json".to_vec(), "$", "not valid JSON"),
        (
            broken(|v| v["projects"][3]["budget"][0]["amount"] = json!("lots")),
            "$.projects[3].budget[0].amount",
            "expected a number",
        ),
        (
            broken(|v| v["municipalities"][0]["region_memberships"][0]["region"] = json!("reg-nowhere")),
            "$.municipalities[0].region_memberships[0].region",
            "unknown region `reg-nowhere`",
        ),
        (
            broken(|v| v["municipalities"][3]["codes"][0]["valid_from"] = json!("2020-13-01")),
            "$.municipalities[3].codes[0].valid_from",
            "not a date",
        ),
        (
            broken(|v| v["organisations"][0]["type"] = json!("spaceship")),
            "$.organisations[0].type",
            "unknown organisation type",
        ),
        (
            broken(|v| v["projects"][0]["results"][0]["goal"] = json!("g-missing")),
            "$.projects[0].results[0].goal",
            "unknown goal",
        ),
        (broken(|v| v["projects"][2]["period"]["to"] = json!("2020-01-01")), "$.projects[2].period", "ends"),
        (broken(|v| v["meta"]["schema_version"] = json!(2)), "$.meta.schema_version", "not supported"),
        (
            broken(|v| v["projects"][3]["budget"][0]["currency"] = json!("XEU")),
            "$.projects[3].budget[0].currency",
            "not an active ISO 4217",
        ),
        (
            broken(|v| {
                let hsn = v["organisations"].as_array().unwrap().iter().position(|o| o["id"] == "org-hsn").unwrap();
                v["organisations"][hsn]["org_number"]["value"] = json!("911 770 708");
            }),
            "$.organisations[0].org_number.value",
            "check digit",
        ),
        (
            broken(|v| {
                let region = v["regions"][0].clone();
                v["regions"].as_array_mut().unwrap().push(region);
            }),
            "$.regions",
            "appears twice",
        ),
    ];
    for (bytes, path, reason) in cases {
        let error =
            samverka::load_registry(&test_db.db, &bytes, "test").await.expect_err("a malformed file must be refused");
        let message = error.to_string();
        assert!(message.starts_with(&format!("{path}:")), "error should name {path}: {message}");
        assert!(message.contains(reason), "error should say `{reason}`: {message}");
        assert_eq!(dump(&test_db.db).await, before, "a refused file changed the database ({path})");
    }
}

#[tokio::test]
async fn a_failing_write_rolls_back_the_whole_import() {
    let test_db = migrated().await;
    samverka::db::reference::ensure_loaded(&test_db.db).await.unwrap();
    let map_only = dump(&test_db.db).await;
    // Parses fine but breaks a database rule half-way (two codes with the same scheme, value and
    // start on one region), so the transaction must roll back everything written before it.
    let bytes = broken(|v| {
        // Two identical ISO 3166-2 codes on one of the demo's own regions (Fyrbodal).
        let fyrbodal = v["regions"].as_array().unwrap().iter().position(|r| r["id"] == "subreg-fyrbodal").unwrap();
        let code = json!({"scheme": "iso3166_2", "value": "SE-O", "source": "001_a388b46dd2593584.txt"});
        v["regions"][fyrbodal]["codes"] = json!([code.clone(), code]);
    });
    assert!(samverka::load_registry(&test_db.db, &bytes, "test").await.is_err());
    assert_eq!(dump(&test_db.db).await, map_only, "nothing may remain of a failed import");
}

#[tokio::test]
async fn the_reference_map_loads_once_and_reloading_it_writes_nothing() {
    let test_db = migrated().await;
    let first =
        samverka::db::reference::ensure_loaded(&test_db.db).await.unwrap().expect("an empty database loads the map");
    assert!(first.total().inserted > 5_000, "municipalities, codes, names, memberships, reforms: {first:?}");
    assert_eq!(first.tables["municipalities"].inserted, 481 + 291, "481 Norwegian since 1971, 290 Swedish and Bara");
    // The same release is not loaded again: one read of the stored fingerprint.
    assert!(samverka::db::reference::ensure_loaded(&test_db.db).await.unwrap().is_none());
    // And importing the same map again (as a new release with equal rows would) changes nothing.
    let before = dump(&test_db.db).await;
    let map = samverka::domain::reference::builtin().unwrap();
    let again = samverka::db::import::import_records(&test_db.db, &map.records, "test").await.unwrap();
    assert!(again.changed_nothing(), "{again:?}");
    assert_eq!(dump(&test_db.db).await, before);
}
