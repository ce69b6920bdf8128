//! The shipped reference map through the API: Statistics Norway's KLASS 131 municipalities and
//! fylker, the Swedish SCB codes with the compiled change table, NUTS, code translation between
//! days, and organisations found by their checked identities. The demo registry is loaded on top,
//! so the last test checks that it still hangs on the map's entities.

use std::collections::BTreeSet;

use samverka::auth::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, nodes, strings};

/// A change row as one line, `KIND day from [code] → to [code]`, so a missing row is reported
/// with the whole list it was looked for in. Codes are left out where the row has none.
fn change_lines(changes: &Value) -> Vec<String> {
    let side = |entity: &Value, code: &Value| match code.as_str() {
        Some(code) => format!("{} {code}", entity["slug"].as_str().unwrap_or("-")),
        None => entity["slug"].as_str().unwrap_or("-").to_owned(),
    };
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} → {}",
                c["kind"].as_str().unwrap(),
                c["day"].as_str().unwrap(),
                side(&c["from"], &c["fromCode"]),
                side(&c["to"], &c["toCode"])
            )
        })
        .collect()
}

fn assert_has(lines: &[String], expected: &str) {
    assert!(lines.iter().any(|line| line == expected), "no `{expected}` among {lines:#?}");
}

fn of_kind(lines: &[String], kind: &str) -> usize {
    lines.iter().filter(|line| line.starts_with(&format!("{kind} "))).count()
}

/// The string values of a JSON array of strings, in order.
fn texts(array: &Value) -> Vec<String> {
    array.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// The message and extensions of the first error of a response that must have failed.
fn first_error(body: &Value) -> (&str, &Value) {
    let error = &body["errors"][0];
    let message = error["message"].as_str().unwrap_or_else(|| panic!("expected an error, got {body:#}"));
    (message, &error["extensions"])
}

const TRANSLATE: &str = r"query($codes: [String!]!, $from: Date!, $to: Date!, $scheme: CodeScheme!) {
    translateMunicipalityCodes(codes: $codes, from: $from, to: $to, scheme: $scheme) {
        code found municipality { slug } codes matches { code municipality { slug } }
    }
}";

/// The translations of `codes` (one per code, in the order asked), failing on any error.
async fn translate(app: &TestApp, codes: &[&str], from: &str, to: &str, scheme: &str) -> Vec<Value> {
    let body = app.post(TRANSLATE, json!({ "codes": codes, "from": from, "to": to, "scheme": scheme })).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    let translations = body["data"]["translateMunicipalityCodes"].as_array().unwrap().clone();
    assert_eq!(translations.len(), codes.len(), "one translation per code: {body:#}");
    translations
}

/// The kommunenummer of every Norwegian municipality that existed on `day`, each asked on that day.
async fn norwegian_codes_on(app: &TestApp, day: &str) -> (i64, Vec<String>) {
    let data = app
        .data(&format!(
            r#"{{ municipalities(filter: {{country: "NO", asOf: "{day}"}}, first: 500) {{
                 totalCount edges {{ node {{ slug code(scheme: KOMMUNENUMMER, asOf: "{day}") }} }}
               }} }}"#
        ))
        .await;
    let total = data["municipalities"]["totalCount"].as_i64().unwrap();
    let codes = nodes(&data["municipalities"])
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap_or_else(|| panic!("{} has no code on {day}", m["slug"])).to_owned())
        .collect();
    (total, codes)
}

#[tokio::test]
async fn municipality_and_lan_counts_follow_the_classifications() {
    let app = TestApp::spawn().await;
    // KLASS lists 450 items in 1971, 423 in 2019, 357 in 2020–2023 and 358 in 2024, each with the
    // pseudo-municipality 9999 "Uoppgitt", which is not a municipality. Sweden has had 290
    // municipalities since Knivsta split from Uppsala on 2003-01-01.
    let expected = [
        ("NO", "1971-01-01", 449),
        ("NO", "2019-12-31", 422),
        ("NO", "2020-01-01", 356),
        ("NO", "2023-12-31", 356),
        ("NO", "2024-01-01", 357),
        ("SE", "2002-12-31", 289),
        ("SE", "2003-01-01", 290),
        ("SE", "2024-06-01", 290),
    ];
    for (country, day, count) in expected {
        let data = app
            .data(&format!(r#"{{ municipalities(filter: {{country: "{country}", asOf: "{day}"}}) {{ totalCount }} }}"#))
            .await;
        assert_eq!(data["municipalities"]["totalCount"], count, "{country} municipalities on {day}");
    }
    let data = app.data(r#"{ regions(filter: {kindIn: [LAN], existsOn: "2024-06-01"}) { totalCount } }"#).await;
    assert_eq!(data["regions"]["totalCount"], 21);
    // Fylker by their own numbers: Telemark (08 until 2019, 40 from 2024) did not exist in 2022.
    for (day, count) in [("2019-06-01", 18), ("2022-06-01", 11), ("2024-06-01", 15)] {
        let data = app
            .data(&format!(r#"{{ regions(filter: {{kindIn: [FYLKE], existsOn: "{day}"}}) {{ totalCount }} }}"#))
            .await;
        assert_eq!(data["regions"]["totalCount"], count, "fylker on {day}");
    }
    let nuts = app
        .data(r#"{ regions(filter: {kindIn: [NUTS3], country: "NO", existsOn: "2022-06-01"}) { totalCount } }"#)
        .await;
    assert_eq!(nuts["regions"]["totalCount"], 12, "NUTS 2021 level 3 in Norway (Jan Mayen included)");
}

#[tokio::test]
async fn midt_telemark_is_a_merger_of_bo_and_sauherad() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ municipality(slug: "mun-no-midt-telemark") {
                 predecessors { slug }
                 changes { kind day from { slug } fromCode to { slug } toCode }
               } }"#,
        )
        .await;
    let midt_telemark = &data["municipality"];
    assert_eq!(strings(&midt_telemark["predecessors"], "slug"), ["mun-no-bo-telemark", "mun-no-sauherad"]);
    let lines = change_lines(&midt_telemark["changes"]);
    assert_has(&lines, "MERGER 2020-01-01 mun-no-bo-telemark 0821 → mun-no-midt-telemark 3817");
    assert_has(&lines, "MERGER 2020-01-01 mun-no-sauherad 0822 → mun-no-midt-telemark 3817");
    assert_eq!(of_kind(&lines, "MERGER"), 2, "two municipalities merged: {lines:#?}");
    // Vestfold og Telemark split in 2024: the same municipality, a new number.
    assert_has(&lines, "COUNTY_CHANGE 2024-01-01 mun-no-midt-telemark 3817 → mun-no-midt-telemark 4020");
}

#[tokio::test]
async fn alesund_split_off_haram_in_2024() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              alesund: municipality(slug: "mun-no-alesund") {
                successors { slug }
                y2022: code(scheme: KOMMUNENUMMER, asOf: "2022-06-01")
                y2025: code(scheme: KOMMUNENUMMER, asOf: "2025-01-01")
              }
              haram: municipality(slug: "mun-no-haram-2024") {
                changes { kind day from { slug } fromCode to { slug } toCode }
              }
            }"#,
        )
        .await;
    let successors = strings(&data["alesund"]["successors"], "slug");
    assert!(successors.contains(&"mun-no-haram-2024".to_owned()), "{successors:?}");
    // The old Haram (1534, merged into Ålesund in 2020) keeps `mun-no-haram`; the new one is
    // another municipality.
    let lines = change_lines(&data["haram"]["changes"]);
    assert_has(&lines, "SPLIT 2024-01-01 mun-no-alesund 1507 → mun-no-haram-2024 1580");
    // Ålesund is the part that goes on, under a new number.
    assert_eq!(data["alesund"]["y2022"], "1507");
    assert_eq!(data["alesund"]["y2025"], "1508");
}

#[tokio::test]
async fn baerum_keeps_its_identity_through_two_county_changes() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ municipality(slug: "mun-no-baerum") {
                 y2019: code(scheme: KOMMUNENUMMER, asOf: "2019-06-01")
                 y2022: code(scheme: KOMMUNENUMMER, asOf: "2022-06-01")
                 y2025: code(scheme: KOMMUNENUMMER, asOf: "2025-06-01")
                 changes { kind day from { slug } fromCode to { slug } toCode }
               } }"#,
        )
        .await;
    let baerum = &data["municipality"];
    assert_eq!(baerum["y2019"], "0219", "Akershus");
    assert_eq!(baerum["y2022"], "3024", "Viken");
    assert_eq!(baerum["y2025"], "3201", "Akershus again");
    // One place, three numbers: both renumberings are county changes of the same municipality.
    let lines = change_lines(&baerum["changes"]);
    assert_has(&lines, "COUNTY_CHANGE 2020-01-01 mun-no-baerum 0219 → mun-no-baerum 3024");
    assert_has(&lines, "COUNTY_CHANGE 2024-01-01 mun-no-baerum 3024 → mun-no-baerum 3201");
    assert_eq!(of_kind(&lines, "COUNTY_CHANGE"), 2, "{lines:#?}");
}

#[tokio::test]
async fn viken_was_merged_and_split_and_telemark_follows_nuts() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              viken: region(slug: "reg-no-viken") { changes { kind day from { slug } fromCode to { slug } toCode } }
              telemark: region(slug: "reg-no-telemark") {
                nuts2016: code(scheme: NUTS3, asOf: "2016-06-01")
                nuts2025: code(scheme: NUTS3, asOf: "2025-06-01")
                parents(asOf: "2025-06-01") { region { slug } nutsVersion }
              }
            }"#,
        )
        .await;
    let lines = change_lines(&data["viken"]["changes"]);
    // Only the three fylker that became Viken whole are asserted: a municipality of another
    // fylke that moved into Viken (Jevnaker, Lunner, Svelvik) may add rows of its own.
    for (fylke, old, new) in
        [("reg-no-ostfold", "01", "31"), ("reg-no-akershus", "02", "32"), ("reg-no-buskerud", "06", "33")]
    {
        assert_has(&lines, &format!("MERGER 2020-01-01 {fylke} {old} → reg-no-viken 30"));
        assert_has(&lines, &format!("SPLIT 2024-01-01 reg-no-viken 30 → {fylke} {new}"));
    }
    let telemark = &data["telemark"];
    assert_eq!(telemark["nuts2016"], "NO034", "NUTS 2013/2016");
    assert_eq!(telemark["nuts2025"], "NO094", "NUTS 2024");
    let parents = telemark["parents"].as_array().unwrap();
    let nuts = parents.iter().find(|p| p["region"]["slug"] == "nuts-NO094");
    let nuts = nuts.unwrap_or_else(|| panic!("Telemark lies in nuts-NO094 in 2025: {parents:#?}"));
    assert_eq!(nuts["nutsVersion"], "2024");
}

#[tokio::test]
async fn unconfirmed_swedish_rows_are_unverified_and_invent_no_codes() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              simrishamn: municipality(slug: "mun-se-simrishamn") {
                codes { value }
                changes { day fromCode toCode verified }
              }
              kristianstad: municipality(slug: "mun-se-kristianstad") {
                y1990: code(scheme: KOMMUNKOD, asOf: "1990-06-01")
                y2000: code(scheme: KOMMUNKOD, asOf: "2000-01-01")
                changes { day fromCode toCode verified }
              }
            }"#,
        )
        .await;
    let simrishamn = &data["simrishamn"];
    // The change table does not know Simrishamn's 11xx code before Skåne län: none is guessed.
    assert_eq!(strings(&simrishamn["codes"], "value"), ["1291"]);
    let changes = simrishamn["changes"].as_array().unwrap();
    let recode = changes.iter().find(|c| c["day"] == "1997-01-01");
    let recode = recode.unwrap_or_else(|| panic!("Simrishamn's 1997 change: {changes:#?}"));
    assert_eq!(recode["fromCode"], Value::Null);
    assert_eq!(recode["toCode"], "1291");
    assert_eq!(recode["verified"], false, "the row is marked unconfirmed in its source");
    // Kristianstad's renumbering is the one the table confirms.
    let kristianstad = &data["kristianstad"];
    assert_eq!(kristianstad["y1990"], "1180");
    assert_eq!(kristianstad["y2000"], "1290");
    let changes = kristianstad["changes"].as_array().unwrap();
    let recode = changes.iter().find(|c| c["fromCode"] == "1180");
    let recode = recode.unwrap_or_else(|| panic!("Kristianstad's 1997 change: {changes:#?}"));
    assert_eq!(recode["toCode"], "1290");
    assert_eq!(recode["verified"], true);
}

#[tokio::test]
async fn codes_translate_forwards_and_backwards_across_reforms() {
    let app = TestApp::spawn().await;
    let forward = translate(&app, &["0821", "0219", "1504", "0000"], "2019-06-01", "2024-06-01", "KOMMUNENUMMER").await;
    // Bø merged into Midt-Telemark (3817), renumbered 4020 in 2024.
    assert_eq!(forward[0]["code"], "0821");
    assert_eq!(forward[0]["found"], true);
    assert_eq!(forward[0]["municipality"]["slug"], "mun-no-bo-telemark");
    assert_eq!(texts(&forward[0]["codes"]), ["4020"]);
    assert_eq!(forward[0]["matches"][0]["municipality"]["slug"], "mun-no-midt-telemark");
    // Bærum: two county changes, one municipality.
    assert_eq!(forward[1]["municipality"]["slug"], "mun-no-baerum");
    assert_eq!(texts(&forward[1]["codes"]), ["3201"]);
    // Ålesund 1504 became 1507 in the 2020 merger, which split into Ålesund 1508 and Haram 1580.
    assert_eq!(forward[2]["municipality"]["slug"], "mun-no-alesund");
    assert_eq!(texts(&forward[2]["codes"]), ["1508", "1580"]);
    assert_eq!(strings(&forward[2]["matches"], "code"), ["1508", "1580"]);
    let parts: Vec<&str> =
        forward[2]["matches"].as_array().unwrap().iter().map(|m| m["municipality"]["slug"].as_str().unwrap()).collect();
    assert_eq!(parts, ["mun-no-alesund", "mun-no-haram-2024"], "matches are ordered by code");
    // A code nobody carried.
    assert_eq!(forward[3]["found"], false);
    assert_eq!(forward[3]["municipality"], Value::Null);
    assert_eq!(forward[3]["codes"], json!([]));
    assert_eq!(forward[3]["matches"], json!([]));

    // Backwards, a merger leads to every predecessor and a split to the one it came from.
    let back = translate(&app, &["4020"], "2024-06-01", "2019-06-01", "KOMMUNENUMMER").await;
    assert_eq!(back[0]["municipality"]["slug"], "mun-no-midt-telemark");
    assert_eq!(texts(&back[0]["codes"]), ["0821", "0822"]);
    let back = translate(&app, &["1580"], "2024-06-01", "2022-06-01", "KOMMUNENUMMER").await;
    assert_eq!(back[0]["municipality"]["slug"], "mun-no-haram-2024");
    assert_eq!(texts(&back[0]["codes"]), ["1507"]);

    // Swedish codes through the same walk: Kristianstad's renumbering when Skåne län was formed.
    let swedish = translate(&app, &["1180"], "1990-06-01", "2024-06-01", "KOMMUNKOD").await;
    assert_eq!(swedish[0]["municipality"]["slug"], "mun-se-kristianstad");
    assert_eq!(texts(&swedish[0]["codes"]), ["1290"]);
}

#[tokio::test]
async fn a_whole_column_of_2019_codes_translates_to_2024() {
    let app = TestApp::spawn().await;
    let (total_2019, codes_2019) = norwegian_codes_on(&app, "2019-12-31").await;
    assert_eq!(total_2019, 422);
    assert_eq!(codes_2019.len(), 422, "one page holds them all");
    assert_eq!(codes_2019.iter().collect::<BTreeSet<_>>().len(), 422, "no code is used twice on one day");
    let (total_2024, codes_2024) = norwegian_codes_on(&app, "2024-06-01").await;
    assert_eq!(total_2024, 357);
    let valid_2024: BTreeSet<String> = codes_2024.into_iter().collect();
    assert_eq!(valid_2024.len(), 357);

    let asked: Vec<&str> = codes_2019.iter().map(String::as_str).collect();
    let translations = translate(&app, &asked, "2019-12-31", "2024-06-01", "KOMMUNENUMMER").await;
    let mut reached = BTreeSet::new();
    for (code, translation) in asked.iter().zip(&translations) {
        assert_eq!(translation["code"], *code, "answers come in the order asked");
        assert_eq!(translation["found"], true, "{code} was valid on 2019-12-31: {translation:#}");
        let targets = texts(&translation["codes"]);
        assert!(!targets.is_empty(), "{code} leads nowhere in 2024: {translation:#}");
        reached.extend(targets);
    }
    let unknown: Vec<&String> = reached.difference(&valid_2024).collect();
    assert!(unknown.is_empty(), "codes not valid on 2024-06-01: {unknown:?}");
    // Nearly every 2024 municipality descends from one of 2019 (Haram 2024 through Ålesund).
    assert!(reached.len() >= 350, "only {} of the 357 codes of 2024 reached", reached.len());
    println!("2019 → 2024: {} codes reached {} of {} municipalities", asked.len(), reached.len(), valid_2024.len());
}

#[tokio::test]
async fn translation_takes_at_most_two_thousand_codes() {
    let app = TestApp::spawn().await;
    let query = r#"query($codes: [String!]!) {
        translateMunicipalityCodes(codes: $codes, from: "2019-06-01", to: "2024-06-01") { found }
    }"#;
    let body = app.post(query, json!({ "codes": vec!["0219"; 2_000] })).await;
    assert!(body.get("errors").is_none(), "2 000 codes are allowed: {}", body["errors"]);
    assert_eq!(body["data"]["translateMunicipalityCodes"].as_array().unwrap().len(), 2_000);
    let body = app.post(query, json!({ "codes": vec!["0219"; 2_001] })).await;
    let (_, extensions) = first_error(&body);
    assert_eq!(extensions["code"], "BAD_USER_INPUT", "{body:#}");
}

#[tokio::test]
async fn organisation_identities_are_checked_on_write_and_found_on_read() {
    let app = TestApp::spawn().await;
    let create = "mutation($input: OrganisationInput!) { createOrganisation(input: $input) { slug orgNumber ror } }";
    // (slug, country, orgNumber, ror, refused field, rule)
    let refused = [
        ("org-bad-mod11", "NO", Some("911 770 708"), None, "orgNumber", "org_number_check_digit"),
        ("org-personnummer", "SE", Some("811218-9876"), None, "orgNumber", "personal_identity_number"),
        ("org-bad-ror", "SE", None, Some("https://ror.org/05kb8h458"), "ror", "ror_check_digit"),
    ];
    for (slug, country, org_number, ror, field, rule) in refused {
        let input = json!({
            "slug": slug,
            "name": "Refused",
            "kind": "COMPANY",
            "country": country,
            "orgNumber": org_number,
            "ror": ror
        });
        let body = app.post_role(Role::Editor, create, json!({ "input": input })).await;
        let (message, extensions) = first_error(&body);
        assert_eq!(extensions["code"], "BAD_USER_INPUT", "{slug}: {body:#}");
        assert_eq!(extensions["field"], field, "{slug}: {body:#}");
        assert_eq!(extensions["rule"], rule, "{slug}: {body:#}");
        // A personal identity number is personal data: the refusal must not repeat it.
        assert!(!message.contains("811218"), "{slug}: the message repeats the number: {message}");
        assert_eq!(
            app.error_code(&format!(r#"{{ organisation(slug: "{slug}") {{ slug }} }}"#)).await,
            "NOT_FOUND",
            "{slug}: a refused write stored nothing"
        );
    }
    // A valid Swedish organisationsnummer (Luhn) is stored in the NNNNNN-NNNN form and found
    // by any usual spelling.
    let input = json!({
        "slug": "org-real-map-se",
        "name": "Aktiebolaget Test",
        "kind": "COMPANY",
        "country": "SE",
        "orgNumber": "556036-0793"
    });
    let body = app.post_role(Role::Editor, create, json!({ "input": input })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["createOrganisation"]["orgNumber"], "556036-0793");
    let data = app.data(r#"{ organisation(orgNumber: "5560360793") { slug orgNumber } }"#).await;
    assert_eq!(data["organisation"]["slug"], "org-real-map-se");
    assert_eq!(data["organisation"]["orgNumber"], "556036-0793");

    // The demo's identities, each written the way people write it.
    let data = app
        .data(
            r#"{
              hsn: organisation(orgNumber: "911 770 709") { slug orgNumber }
              umu: organisation(ror: "05kb8h459") { slug ror }
              umuUrl: organisation(ror: "https://ror.org/05kb8h459") { slug }
              fyrbodal: organisation(orgNumber: "222000-1776") { slug orgNumber }
            }"#,
        )
        .await;
    assert_eq!(data["hsn"]["slug"], "org-hsn");
    assert_eq!(data["hsn"]["orgNumber"], "911770709");
    assert_eq!(data["umu"]["slug"], "org-umu");
    assert_eq!(data["umu"]["ror"], "https://ror.org/05kb8h459");
    assert_eq!(data["umuUrl"]["slug"], "org-umu");
    assert_eq!(data["fyrbodal"]["slug"], "org-fyrbodal-kf");
    assert_eq!(data["fyrbodal"]["orgNumber"], "222000-1776", "printed as 14-222000-1776 in its source");

    // A malformed key is the caller's error, not a miss.
    let body = app.post(r#"{ organisation(orgNumber: "911770708") { slug } }"#, json!({})).await;
    let (_, extensions) = first_error(&body);
    assert_eq!(extensions["code"], "BAD_USER_INPUT", "{body:#}");
    assert_eq!(extensions["rule"], "org_number_check_digit", "{body:#}");
    // Exactly one key.
    assert_eq!(
        app.error_code(r#"{ organisation(slug: "org-hsn", ror: "05kb8h459") { slug } }"#).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(app.error_code(r#"{ organisation { slug } }"#).await, "BAD_USER_INPUT");
}

#[tokio::test]
async fn hsn_came_from_hit_and_became_usn() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ organisation(slug: "org-hsn") {
                 predecessors { slug }
                 successors { slug }
                 changes { kind day from { slug } to { slug } }
                 name(asOf: "2017-01-01")
               } }"#,
        )
        .await;
    let hsn = &data["organisation"];
    assert_eq!(strings(&hsn["predecessors"], "slug"), ["org-hit"]);
    assert_eq!(strings(&hsn["successors"], "slug"), ["org-usn"]);
    let lines = change_lines(&hsn["changes"]);
    assert_has(&lines, "MERGER 2016-01-01 org-hit → org-hsn");
    // Becoming a university was a rename of the same institution.
    assert_has(&lines, "NAME_CHANGE 2018-05-04 org-hsn → org-usn");
    assert_eq!(hsn["name"], "Høgskolen i Sørøst-Norge");
}

#[tokio::test]
async fn the_demo_hangs_on_the_map() {
    let app = TestApp::spawn().await;
    // Nome is the map's municipality; the demo adds only what the map does not say, such as its
    // membership of the Midt-Telemark sub-region.
    let data = app
        .data(
            r#"{ municipality(slug: "mun-no-nome") {
                 code(scheme: KOMMUNENUMMER, asOf: "2018-06-01")
                 regions(asOf: "2018-06-01", kinds: [SUB_REGION]) { slug }
               } }"#,
        )
        .await;
    assert_eq!(data["municipality"]["code"], "0819");
    assert_eq!(strings(&data["municipality"]["regions"], "slug"), ["subreg-midt-telemark"]);
}

/// Budgets convert to euros at the ECB rate of the project's own start, and say which day's
/// rate they used when it is not the start itself.
#[tokio::test]
async fn budgets_convert_at_the_rate_of_their_own_date() {
    let app = TestApp::spawn().await;
    let create = "mutation($input: ProjectInput!) { createProject(input: $input) {
        budgetEur budgetEurRate budgetRateDate budgetRateNote } }";
    let project = |slug: &str, currency: &str, from: &str| json!({ "slug": slug, "name": slug, "budgetTotal": 1_000_000.0, "budgetCurrency": currency, "validFrom": from });
    // 2015-01-02, a Friday: the ECB's NOK rate that day was 9.042 per euro.
    let body =
        app.post_role(Role::Editor, create, json!({ "input": project("p-nok-2015", "NOK", "2015-01-02") })).await;
    let budget = &body["data"]["createProject"];
    assert_eq!(budget["budgetEurRate"], 9.042, "{body:#}");
    assert_eq!(budget["budgetRateDate"], "2015-01-02");
    assert!((budget["budgetEur"].as_f64().unwrap() - 1_000_000.0 / 9.042).abs() < 1e-6);
    assert_eq!(budget["budgetRateNote"], Value::Null);
    // A Saturday takes Friday's rate, and says so.
    let body = app.post_role(Role::Editor, create, json!({ "input": project("p-nok-sat", "NOK", "2015-01-03") })).await;
    let budget = &body["data"]["createProject"];
    assert_eq!(budget["budgetRateDate"], "2015-01-02", "{body:#}");
    assert!(budget["budgetRateNote"].as_str().unwrap().contains("2015-01-02"));
    // Past the shipped table: its last rate, and a note that says so.
    let body =
        app.post_role(Role::Editor, create, json!({ "input": project("p-sek-2030", "SEK", "2030-06-01") })).await;
    let budget = &body["data"]["createProject"];
    assert_eq!(budget["budgetRateDate"], "2026-10-30", "{body:#}");
    assert!(budget["budgetRateNote"].as_str().unwrap().contains("after the last day"));
    // The same amount in 2023 converts at another rate: the year matters.
    let body =
        app.post_role(Role::Editor, create, json!({ "input": project("p-nok-2023", "NOK", "2023-06-01") })).await;
    let rate_2023 = body["data"]["createProject"]["budgetEurRate"].as_f64().unwrap();
    assert!(rate_2023 > 11.0, "NOK weakened from 9.04 (2015) to over 11 per euro (2023): {rate_2023}");
    // Not ISO 4217: refused before anything is written.
    let body = app.post_role(Role::Editor, create, json!({ "input": project("p-xyz", "XYZ", "2015-01-02") })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body:#}");
    assert_eq!(app.error_code(r#"{ project(slug: "p-xyz") { slug } }"#).await, "NOT_FOUND");
    // A well-formed organisation number nobody has is NOT_FOUND, named as what was asked for.
    let body = app.post(r#"{ organisation(orgNumber: "974 760 673") { slug } }"#, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body:#}");
    assert_eq!(body["errors"][0]["message"], "no organisation with orgNumber `974760673`");
    // Aggregates sum the converted budgets row by row.
    let sum = app
        .data(r#"{ projectAggregate(filter: { period: { from: "2015-01-01", to: "2015-01-31" } }) { rows { budgetEur { sum } } } }"#)
        .await;
    let sum = sum["projectAggregate"]["rows"][0]["budgetEur"]["sum"].as_f64().unwrap();
    assert!((sum - 2.0 * 1_000_000.0 / 9.042).abs() < 1e-3, "the two January 2015 projects: {sum}");
}

/// An analyst holding a code of some day finds what carried it then.
#[tokio::test]
async fn municipalities_and_regions_are_found_by_the_code_of_a_day() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              alesund2019: municipality(code: "1504", asOf: "2019-06-01") { slug code(scheme: KOMMUNENUMMER, asOf: "2025-01-01") }
              oslo: municipality(code: "0301") { slug }
              heby2000: municipality(code: "1917", scheme: KOMMUNKOD, asOf: "2000-06-01") { slug }
              heby2010: municipality(code: "0331", scheme: KOMMUNKOD, asOf: "2010-06-01") { slug }
              vt: region(code: "38", scheme: FYLKESNUMMER, asOf: "2021-06-01") { slug }
              malmohus: region(code: "12", scheme: LANSKOD, asOf: "1990-06-01") { slug }
              skane: region(code: "12", scheme: LANSKOD, asOf: "2000-06-01") { slug }
              nuts: region(code: "NO034", scheme: NUTS3, asOf: "2016-06-01") { slug kind }
            }"#,
        )
        .await;
    assert_eq!(data["alesund2019"]["slug"], "mun-no-alesund");
    assert_eq!(data["alesund2019"]["code"], "1508");
    assert_eq!(data["oslo"]["slug"], "mun-no-oslo");
    assert_eq!(data["heby2000"]["slug"], "mun-se-heby");
    assert_eq!(data["heby2010"]["slug"], "mun-se-heby");
    assert_eq!(data["vt"]["slug"], "reg-no-vestfold-og-telemark");
    assert_eq!(data["malmohus"]["slug"], "reg-se-malmohus");
    assert_eq!(data["skane"]["slug"], "reg-se-skane");
    assert_eq!(data["nuts"], json!({ "slug": "nuts-NO034", "kind": "NUTS3" }));
    assert_eq!(app.error_code(r#"{ municipality(code: "1504", asOf: "2024-06-01") { slug } }"#).await, "NOT_FOUND");
    assert_eq!(
        app.error_code(r#"{ municipality(slug: "mun-no-oslo", code: "0301") { slug } }"#).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(app.error_code(r#"{ region(code: "38") { slug } }"#).await, "BAD_USER_INPUT");
}
