//! The funders' importers (`forskningsradet-eu`, `cordis`, `ror`, `csv` + mapping) on messy
//! fixtures written in the published formats (BOM, CRLF, quoted semicolons, empty amounts,
//! codes of a superseded map): rows land on the right municipalities for their dates, a second
//! import writes nothing, a bad row is named and stops the import unless skipped, a dry run
//! writes nothing, and `importFile` does the same over GraphQL for editors only.

use base64::Engine;
use samverka::auth::Role;
use samverka::domain::import::formats::{Format, InputFile, ReadOptions};
use samverka::ingest::{ImportFailure, ImportReport, ImportRequest, Silent};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::TestApp;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn file(path: &str) -> InputFile {
    let full = format!("{FIXTURES}/{path}");
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    InputFile { name: path.rsplit('/').next().unwrap().to_owned(), bytes }
}

fn request(format: Format, files: Vec<InputFile>) -> ImportRequest {
    ImportRequest {
        format,
        files,
        read: ReadOptions::default(),
        resolve: Default::default(),
        dry_run: false,
        skip_invalid: false,
    }
}

async fn import(app: &TestApp, request: ImportRequest) -> Result<ImportReport, ImportFailure> {
    samverka::ingest::import_files(&app.db, "test", request, &mut Silent).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app.db.conn.query_one_raw(Statement::from_string(app.db.backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The municipality slug of the organisation with `org_number`.
async fn seat(app: &TestApp, org_number: &str) -> Value {
    let data = app
        .data(&format!(
            r#"{{ organisation(orgNumber: "{org_number}") {{ slug municipality {{ slug }} sourceLocator }} }}"#
        ))
        .await;
    data["organisation"]["municipality"]["slug"].clone()
}

#[tokio::test]
async fn forskningsradet_rows_land_on_their_municipalities_and_a_second_import_writes_nothing() {
    let app = TestApp::spawn().await;
    let events_before = count(&app, "SELECT COUNT(*) FROM events").await;
    let report = import(&app, request(Format::ForskningsradetEu, vec![file("forskningsradet-eu.csv")])).await.unwrap();
    assert_eq!(report.rows, 14);
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(report.summary.tables["projects"].inserted, 8, "{report:#?}");
    assert_eq!(report.summary.tables["project_partners"].inserted, 14);
    // 2022 codes, read on a day they were valid: several were renumbered in 2024.
    let day = report.codes_on["NO"];
    assert!(
        day.format("%Y").to_string().parse::<i32>().unwrap() >= 2020
            && day < chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        "{day}"
    );
    for (org_number, municipality) in [
        ("970422528", "mun-no-tromso"), // 5401 (2020-2023), 5501 since 2024
        ("998433290", "mun-no-vadso"),  // 5405 (2020-2023), 5607 since 2024
        ("982463718", "mun-no-baerum"), // 3024 (2020-2023), 3201 since 2024
        ("971035854", "mun-no-oslo"),   // written `301`: a spreadsheet dropped the zero
        ("974767880", "mun-no-trondheim"),
        ("959432538", "mun-no-lillestrom"), // 3030 (2020-2023), 3205 since 2024
    ] {
        assert_eq!(seat(&app, org_number).await, json!(municipality), "org {org_number}");
    }
    // Provenance: the file and row, unverified (a secondary source).
    let data = app.data(r#"{ organisation(orgNumber: "970422528") { verified sourceLocator source { key } } }"#).await;
    assert_eq!(data["organisation"]["verified"], json!(false));
    assert_eq!(data["organisation"]["source"]["key"], json!("forskningsradet-eu:forskningsradet-eu.csv"));
    assert!(data["organisation"]["sourceLocator"].as_str().unwrap().starts_with("forskningsradet-eu.csv row "));
    // The quoted semicolons and doubled quotes of one title survive.
    let titles = app.data("{ projects(first: 500) { nodes { name } } }").await;
    assert!(titles.to_string().contains(r#"Fish; chips and \"ships\""#), "{titles}");

    let events_after = count(&app, "SELECT COUNT(*) FROM events").await;
    let written = report.summary.total();
    assert_eq!(
        (events_after - events_before) as u64,
        written.inserted + written.updated + written.deleted,
        "every written row has its change event"
    );
    let again = import(&app, request(Format::ForskningsradetEu, vec![file("forskningsradet-eu.csv")])).await.unwrap();
    assert!(again.summary.changed_nothing(), "{:?}", again.summary);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, events_after);
    assert_eq!(again.matching.matched.values().sum::<u64>(), 11, "{:?}", again.matching);
}

#[tokio::test]
async fn a_bad_row_is_named_and_nothing_is_written_unless_skipped() {
    let app = TestApp::spawn().await;
    let organisations = count(&app, "SELECT COUNT(*) FROM organisations").await;
    let partners = count(&app, "SELECT COUNT(*) FROM project_partners").await;
    let failure = import(&app, request(Format::ForskningsradetEu, vec![file("forskningsradet-eu-invalid.csv")]))
        .await
        .expect_err("four bad rows");
    let ImportFailure::Invalid(report) = failure else { panic!("expected invalid rows, got {failure:?}") };
    let found: Vec<(Option<u64>, Option<String>, String)> =
        report.invalid.iter().map(|e| (e.row, e.column.clone(), e.rule.clone())).collect();
    assert_eq!(
        found,
        vec![
            (Some(3), Some("Adresse kommunenummer".into()), "unknown_code".into()),
            (Some(4), Some("Organisasjonsnummer".into()), "org_number_check_digit".into()),
            (Some(5), Some("Kontrakt startdato".into()), "date".into()),
            (Some(6), Some("Innvilget beløp organisasjon EUR".into()), "negative".into()),
        ],
        "{:#?}",
        report.invalid
    );
    assert!(report.invalid.iter().all(|e| e.file == "forskningsradet-eu-invalid.csv"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, organisations);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM project_partners").await, partners);

    let mut skipping = request(Format::ForskningsradetEu, vec![file("forskningsradet-eu-invalid.csv")]);
    skipping.skip_invalid = true;
    let report = import(&app, skipping).await.unwrap();
    assert_eq!(report.invalid.len(), 4);
    assert_eq!(report.summary.tables["project_partners"].inserted, 2, "the two good rows");
}

#[tokio::test]
async fn cordis_imports_projects_with_a_nordic_participant_and_all_their_partners() {
    let app = TestApp::spawn().await;
    let dry = {
        let mut dry = request(Format::Cordis, vec![file("cordis/project.csv"), file("cordis/organization.csv")]);
        dry.dry_run = true;
        import(&app, dry).await.unwrap()
    };
    assert_eq!(dry.summary.tables["projects"].inserted, 4, "{dry:#?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM projects WHERE slug LIKE 'eu-%'").await,
        0,
        "a dry run writes nothing"
    );

    let report =
        import(&app, request(Format::Cordis, vec![file("cordis/project.csv"), file("cordis/organization.csv")]))
            .await
            .unwrap();
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(report.summary, dry.summary, "the dry run counted exactly what the import wrote");
    assert_eq!(report.summary.tables["projects"].inserted, 4);
    assert_eq!(report.summary.tables["project_partners"].inserted, 14);
    assert_eq!(report.skipped.values().sum::<u64>(), 4, "the DE+FR project and its participants");
    for (org_number, municipality) in [
        ("974767880", "mun-no-trondheim"),
        ("971035854", "mun-no-oslo"),      // NO011: a NUTS 2016 code
        ("923609016", "mun-no-stavanger"), // NO043: a NUTS 2016 code
        ("970422528", "mun-no-tromso"),
    ] {
        assert_eq!(seat(&app, org_number).await, json!(municipality), "org {org_number}");
    }
    // Luleå, written LULEA, Luleå and LULEA in three projects: one organisation, in Luleå.
    let lulea = app
        .data(r#"{ organisations(first: 50, filter: { nameContains: "Lule" }) { nodes { slug municipality { slug } partnerships { project { slug } } } } }"#)
        .await;
    let nodes = lulea["organisations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 1, "{lulea}");
    assert_eq!(nodes[0]["municipality"]["slug"], json!("mun-se-lulea"));
    // The demo's Luleå tekniska universitet, matched by name within Luleå, now in three EU projects.
    let eu = nodes[0]["partnerships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["project"]["slug"].as_str().unwrap().starts_with("eu-"))
        .count();
    assert_eq!(eu, 3, "{lulea}");
    // Third-country partners stay visible, with their country rows.
    let data = app.data(r#"{ countries(first: 200) { nodes { code } } }"#).await;
    assert!(data.to_string().contains("\"DE\""), "{data}");
    let again =
        import(&app, request(Format::Cordis, vec![file("cordis/organization.csv"), file("cordis/project.csv")]))
            .await
            .unwrap();
    assert!(again.summary.changed_nothing(), "{:?}", again.summary);
}

#[tokio::test]
async fn ror_records_of_norway_and_sweden_are_identities_and_name_matches_are_candidates() {
    let app = TestApp::spawn().await;
    let report = import(&app, request(Format::Ror, vec![file("ror/ror-sample.json")])).await.unwrap();
    let by_ror = |report: &ImportReport| {
        report.matching.matched.get(&samverka::domain::import::intake::MatchedBy::Ror).copied().unwrap_or(0)
    };
    assert_eq!(report.rows, 9);
    assert_eq!(report.skipped.get("ROR record of another country"), Some(&1), "{report:#?}");
    let written = report.summary.tables["organisations"].inserted;
    assert_eq!(written + report.matching.candidates + report.matching.matched.values().sum::<u64>(), 8);
    // What was created carries its ROR id and is verified (ROR is the register of identities).
    let data = app.data(r#"{ organisations(first: 500) { nodes { ror verified sourceLocator } } }"#).await;
    let from_ror: Vec<&Value> =
        data["organisations"]["nodes"].as_array().unwrap().iter().filter(|o| !o["ror"].is_null()).collect();
    assert!(from_ror.len() as u64 >= written, "{data}");
    assert!(from_ror.iter().all(|o| o["verified"] == json!(true) || o["sourceLocator"].is_null()));
    // SINTEF Ocean is part of SINTEF (the child's `parent` and the parent's `child` are one
    // link); NTNU and SINTEF are related (both records say so: one link, seen from both sides).
    let links = app
        .data(
            r#"{
            ocean: organisation(ror: "https://ror.org/004wre089") { partOf { ror } }
            sintef: organisation(ror: "https://ror.org/01f677e56") { parts { ror } relatedOrganisations { ror } }
            ntnu: organisation(ror: "https://ror.org/05xg72x27") { relatedOrganisations { ror } }
        }"#,
        )
        .await;
    assert_eq!(links["ocean"]["partOf"], json!([{ "ror": "https://ror.org/01f677e56" }]), "{links}");
    assert_eq!(links["sintef"]["parts"], json!([{ "ror": "https://ror.org/004wre089" }]), "{links}");
    assert_eq!(links["sintef"]["relatedOrganisations"], json!([{ "ror": "https://ror.org/05xg72x27" }]), "{links}");
    assert_eq!(links["ntnu"]["relatedOrganisations"], json!([{ "ror": "https://ror.org/01f677e56" }]), "{links}");
    assert_eq!(report.summary.tables["organisation_links"].inserted, 2, "{report:#?}");
    let again = import(&app, request(Format::Ror, vec![file("ror/ror-sample.json")])).await.unwrap();
    assert!(again.summary.changed_nothing(), "{:?}", again.summary);
    assert_eq!(by_ror(&again), by_ror(&report) + written, "what the first import created, the second finds by ROR id");
}

#[tokio::test]
async fn a_csv_with_a_mapping_places_swedish_and_norwegian_partners() {
    let app = TestApp::spawn().await;
    let mut csv = request(Format::Csv, vec![file("csv/interreg-aurora-operations.csv")]);
    csv.read.mapping = Some(file("csv/interreg-aurora-operations.toml"));
    let report = import(&app, csv.clone()).await.unwrap();
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(report.summary.tables["projects"].inserted, 3);
    assert_eq!(report.summary.tables["project_partners"].inserted, 9);
    let projects =
        app.data(r#"{ projects(first: 10, filter: { programme: "interreg-aurora" }) { totalCount } }"#).await;
    assert_eq!(projects["projects"]["totalCount"], json!(3), "{projects}");
    let partners = app
        .data(r#"{ projects(first: 20, filter: { programme: "interreg-aurora" }) { nodes { partners { organisation { country { code } municipality { slug } } } } } }"#)
        .await;
    let text = partners.to_string();
    for slug in ["mun-se-lulea", "mun-se-umea", "mun-se-kiruna", "mun-no-tromso", "mun-no-bodo"] {
        assert!(text.contains(slug), "{slug} missing in {text}");
    }
    assert!(import(&app, csv).await.unwrap().summary.changed_nothing());
}

#[tokio::test]
async fn a_windows_1252_file_reads_like_its_utf8_original() {
    let app = TestApp::spawn().await;
    let original = file("forskningsradet-eu.csv");
    let text = String::from_utf8(original.bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap().to_vec()).unwrap();
    let (latin, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    let report = import(
        &app,
        request(Format::ForskningsradetEu, vec![InputFile { name: "export.csv".into(), bytes: latin.into_owned() }]),
    )
    .await
    .unwrap();
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(seat(&app, "970422528").await, json!("mun-no-tromso"));
    let data = app.data(r#"{ organisation(orgNumber: "970422528") { name } }"#).await;
    assert!(data["organisation"]["name"].as_str().unwrap().contains("TROMSØ"), "{data}");
}

fn base64_file(path: &str) -> Value {
    let input = file(path);
    json!({ "name": input.name, "contentBase64": base64::engine::general_purpose::STANDARD.encode(&input.bytes) })
}

const IMPORT_FILE: &str = r#"mutation($format: ImportFormat!, $files: [ImportFileInput!]!, $dry: Boolean = false, $skip: Boolean = false) {
  importFile(format: $format, files: $files, dryRun: $dry, skipInvalid: $skip) {
    rows dryRun committed inserted updated unchanged
    matching { matchedByOrgNumber matchedByName created ambiguous examples { kind name slug locator } }
    invalid { file row column rule message }
    codesOn { country day }
  }
}"#;

#[tokio::test]
async fn import_file_over_graphql_for_editors() {
    let app = TestApp::spawn().await;
    let variables =
        json!({ "format": "FORSKNINGSRADET_EU", "files": [base64_file("forskningsradet-eu.csv")], "dry": true });
    for role in [Role::Public, Role::Analyst] {
        let body = app.post_role(role, IMPORT_FILE, variables.clone()).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], json!("FORBIDDEN"), "{role:?}: {body}");
    }
    let dry = app.post_role(Role::Editor, IMPORT_FILE, variables.clone()).await;
    let report = &dry["data"]["importFile"];
    assert_eq!(report["dryRun"], json!(true), "{dry:#}");
    assert_eq!(report["committed"], json!(false));
    let matching = &report["matching"];
    let organisations = ["created", "matchedByOrgNumber", "matchedByName"].map(|k| matching[k].as_u64().unwrap());
    assert_eq!(organisations.iter().sum::<u64>(), 11, "{matching}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM projects WHERE slug LIKE 'eu-%'").await, 0);

    let mut real = variables.clone();
    real["dry"] = json!(false);
    let body = app.post_role(Role::Editor, IMPORT_FILE, real.clone()).await;
    assert_eq!(body["data"]["importFile"]["inserted"], dry["data"]["importFile"]["inserted"], "{body:#}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM projects WHERE slug LIKE 'eu-%'").await, 8);
    let again = app.post_role(Role::Editor, IMPORT_FILE, real).await;
    assert_eq!(again["data"]["importFile"]["inserted"], json!(0), "{again:#}");
    assert_eq!(again["data"]["importFile"]["updated"], json!(0));

    // Invalid rows: BAD_USER_INPUT listing file, row and column; nothing written.
    let bad = json!({ "format": "FORSKNINGSRADET_EU", "files": [base64_file("forskningsradet-eu-invalid.csv")] });
    let body = app.post_role(Role::Editor, IMPORT_FILE, bad).await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], json!("BAD_USER_INPUT"), "{body:#}");
    assert_eq!(error["extensions"]["invalidCount"], json!(4));
    assert_eq!(error["extensions"]["invalidRows"][1]["column"], json!("Organisasjonsnummer"));
    assert_eq!(error["extensions"]["invalidRows"][1]["row"], json!(4));
    // Not base64, and a file that is not the format: clear refusals, never a 500.
    let garbage = json!({ "format": "CORDIS", "files": [{ "name": "x.csv", "contentBase64": "%%%" }] });
    let body = app.post_role(Role::Editor, IMPORT_FILE, garbage).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("BAD_USER_INPUT"), "{body:#}");
    let wrong = json!({ "format": "CORDIS", "files": [base64_file("forskningsradet-eu.csv")] });
    let body = app.post_role(Role::Editor, IMPORT_FILE, wrong).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("BAD_USER_INPUT"), "{body:#}");
}

#[tokio::test]
async fn import_registry_runs_the_rules_mutations_run() {
    let app = TestApp::spawn().await;
    let mut registry: Value = serde_json::from_slice(samverka::server::DEMO_REGISTRY).unwrap();
    // An organisation whose id is no slug: `createOrganisation` refuses it (rule `slug_format`),
    // and so does the import, before anything is written.
    registry["organisations"].as_array_mut().unwrap().push(json!({
        "id": "Not a slug!", "name": "Slugless AS", "type": "company", "country": "NO"
    }));
    let organisations = count(&app, "SELECT COUNT(*) FROM organisations").await;
    let body = app
        .post_role(
            Role::Editor,
            "mutation($r: JSON!) { importRegistry(registry: $r) { inserted updated } }",
            json!({ "r": registry }),
        )
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], json!("BAD_USER_INPUT"), "{body:#}");
    assert_eq!(error["extensions"]["rule"], json!("slug_format"), "{body:#}");
    assert_eq!(error["extensions"]["field"], json!("slug"), "{body:#}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, organisations);
}

#[tokio::test]
async fn a_newer_file_updates_what_changed_and_nothing_else() {
    let app = TestApp::spawn().await;
    let original = file("forskningsradet-eu.csv");
    import(&app, request(Format::ForskningsradetEu, vec![original.clone()])).await.unwrap();
    // The newer edition: one amount changed, one participant gone, one row added at the top
    // (every other row moves down one line, which is not a change).
    let text = String::from_utf8(original.bytes.clone()).unwrap();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    let uio = lines.iter().position(|l| l.contains("971035854")).unwrap();
    let amount_of = |line: &str| line.rsplit(';').next().unwrap().to_owned();
    let old_amount = amount_of(&lines[uio]);
    lines[uio] = format!("{}{}", lines[uio].strip_suffix(&old_amount).unwrap(), "123456.78");
    let dropped = lines.iter().rposition(|l| l.contains("982463718")).unwrap(); // Telenor's row
    lines.remove(dropped);
    let mut added = lines[uio].replace("971035854", "974767880").replace("UNIVERSITETET I OSLO", "NTNU");
    added = added.replacen(&added.split(';').nth(10).unwrap().to_owned(), "101999999", 1);
    lines.insert(1, added);
    let newer = InputFile { name: original.name.clone(), bytes: lines.join("\r\n").into_bytes() };
    let report = import(&app, request(Format::ForskningsradetEu, vec![newer])).await.unwrap();
    let partners = report.summary.tables["project_partners"];
    assert_eq!((partners.inserted, partners.updated, partners.deleted), (1, 1, 1), "{report:#?}");
    assert_eq!(report.summary.tables["projects"].inserted, 1);
    assert_eq!(report.summary.tables["projects"].updated, 0, "rows that only moved are not rewritten");
    assert_eq!(report.summary.tables["organisations"].updated, 0);
}

#[tokio::test]
async fn two_organisations_of_one_name_in_one_municipality_are_an_ambiguity_not_a_guess() {
    let app = TestApp::spawn().await;
    for slug in ["org-dobbel-a", "org-dobbel-b"] {
        let body = app
            .post_role(
                Role::Editor,
                r#"mutation($slug: String!) { createOrganisation(input: { slug: $slug, name: "Dobbel AS", kind: COMPANY, country: "NO", municipality: "mun-no-trondheim" }) { slug } }"#,
                json!({ "slug": slug }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    let mapping = r#"
        name = "test list"
        source = "test-list"
        [project]
        id = "id"
        slug_prefix = "test"
        name = "title"
        [partner]
        name = "partner"
        country_value = "NO"
        municipality_code = "kommune"
    "#;
    let csv = "id,title,partner,kommune\n1,Ett prosjekt,Dobbel,5001\n1,Ett prosjekt,Annen AS,5001\n";
    let mut listing = request(Format::Csv, vec![InputFile { name: "list.csv".into(), bytes: csv.as_bytes().to_vec() }]);
    listing.read.mapping = Some(InputFile { name: "list.toml".into(), bytes: mapping.as_bytes().to_vec() });
    let failure = import(&app, listing.clone()).await.expect_err("an ambiguous row");
    let ImportFailure::Invalid(report) = failure else { panic!("{failure:?}") };
    assert_eq!(report.invalid.len(), 1, "{:#?}", report.invalid);
    assert_eq!((report.invalid[0].row, report.invalid[0].rule.as_str()), (Some(2), "ambiguous_match"));
    assert!(report.invalid[0].message.contains("org-dobbel-a") && report.invalid[0].message.contains("org-dobbel-b"));
    assert_eq!(report.matching.ambiguous_examples[0].candidates, vec!["org-dobbel-a", "org-dobbel-b"]);
    listing.skip_invalid = true;
    let report = import(&app, listing).await.unwrap();
    assert_eq!(report.summary.tables["project_partners"].inserted, 1, "the other partner");
}

#[tokio::test]
async fn a_ror_record_matched_by_org_number_gives_the_organisation_its_ror_id() {
    let app = TestApp::spawn().await;
    import(&app, request(Format::ForskningsradetEu, vec![file("forskningsradet-eu.csv")])).await.unwrap();
    let record = json!([{
        "id": "https://ror.org/00wge5k78",
        "names": [{ "value": "UiT The Arctic University of Norway", "types": ["ror_display", "label"], "lang": "en" }],
        "types": ["education"],
        "status": "active",
        "external_ids": [{ "type": "other", "all": ["NO 970 422 528 MVA"], "preferred": null }],
        "locations": [{ "geonames_id": 3133880, "geonames_details": { "country_code": "NO", "name": "Tromsø" } }],
        "relationships": []
    }]);
    let dump = InputFile { name: "ror-uit.json".into(), bytes: serde_json::to_vec(&record).unwrap() };
    let report = import(&app, request(Format::Ror, vec![dump.clone()])).await.unwrap();
    assert_eq!(report.matching.identified, 1, "{report:#?}");
    assert_eq!(report.summary.tables["organisations"].updated, 1);
    let data = app.data(r#"{ organisation(orgNumber: "970422528") { ror name } }"#).await;
    assert_eq!(data["organisation"]["ror"], json!("https://ror.org/00wge5k78"), "{data}");
    assert!(data["organisation"]["name"].as_str().unwrap().starts_with("UNIVERSITETET I TROMSØ"), "its name stays");
    let again = import(&app, request(Format::Ror, vec![dump])).await.unwrap();
    assert!(again.summary.changed_nothing(), "{:?}", again.summary);
}

#[tokio::test]
async fn svalbard_and_unknown_nuts_codes_leave_a_row_unplaced_not_refused() {
    let app = TestApp::spawn().await;
    let original = String::from_utf8(file("forskningsradet-eu.csv").bytes).unwrap();
    // UiT's rows moved to Longyearbyen (2111: Svalbard is in no municipality).
    let svalbard = original.replace(";5401;", ";2111;");
    assert_ne!(svalbard, original, "the fixture has UiT in 5401");
    let report = import(
        &app,
        request(
            Format::ForskningsradetEu,
            vec![InputFile { name: "svalbard.csv".into(), bytes: svalbard.into_bytes() }],
        ),
    )
    .await
    .unwrap();
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(seat(&app, "970422528").await, Value::Null);
    assert!(report.matching.unplaced_examples.iter().any(|e| e.name.contains("TROMSØ")), "{:#?}", report.matching);
}

#[tokio::test]
async fn a_budget_cut_below_a_share_another_source_stated_is_refused() {
    let app = TestApp::spawn().await;
    import(&app, request(Format::ForskningsradetEu, vec![file("forskningsradet-eu.csv")])).await.unwrap();
    // CORDIS says grant 869335 cost 1 000 EUR in all; the Research Council's file gave one of
    // its Norwegian partners more than that. `updateProject` refuses such a budget; so does this.
    let project = "\"id\";\"acronym\";\"title\";\"startDate\";\"endDate\";\"totalCost\";\"ecMaxContribution\";\"frameworkProgramme\"\n\
                   \"869335\";\"ARCTICLIM\";\"Arctic climate\";\"2020-06-01\";\"2024-05-31\";\"1000\";\"1000\";\"H2020\"\n";
    let organisation = "\"projectID\";\"organisationID\";\"vatNumber\";\"name\";\"city\";\"country\";\"nutsCode\";\"role\";\"ecContribution\"\n\
                        \"869335\";\"1\";\"NO923609016MVA\";\"EQUINOR ASA\";\"STAVANGER\";\"NO\";\"NO0A1\";\"participant\";\"10\"\n";
    let before = count(&app, "SELECT COUNT(*) FROM events").await;
    let failure = import(
        &app,
        request(
            Format::Cordis,
            vec![
                InputFile { name: "project.csv".into(), bytes: project.as_bytes().to_vec() },
                InputFile { name: "organization.csv".into(), bytes: organisation.as_bytes().to_vec() },
            ],
        ),
    )
    .await
    .expect_err("a budget below a partner's share");
    let ImportFailure::Write(samverka::db::write::WriteError::Invalid(violation)) = failure else {
        panic!("{failure:?}")
    };
    assert_eq!(violation.rule, "budget_share", "{violation:?}");
    assert!(violation.message.contains("eu-869335"), "{violation:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, before, "nothing was written");
}
