//! The demo registry answers as its sources do (only `verified: true` facts of
//! `shared/data/SEED-FACTS.md` are asserted).

use serde_json::Value;

use crate::support::{TestApp, nodes, strings};

#[tokio::test]
async fn telemark_municipalities_follow_the_county_reform() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              before: region(slug: "reg-no-telemark") { municipalities(asOf: "2018-06-01") { slug } municipalityCount(asOf: "2018-06-01") }
              merged: region(slug: "reg-no-telemark") { municipalities(asOf: "2022-06-01") { slug } }
              vt: region(slug: "reg-no-vestfold-og-telemark") { municipalities(asOf: "2022-06-01") { slug } }
            }"#,
        )
        .await;
    let before = strings(&data["before"]["municipalities"], "slug");
    for slug in ["mun-no-bo-telemark", "mun-no-sauherad", "mun-no-nome"] {
        assert!(before.contains(&slug.to_owned()), "{slug} was in Telemark on 2018-06-01: {before:?}");
    }
    assert_eq!(data["before"]["municipalityCount"].as_i64().unwrap() as usize, before.len());
    assert_eq!(data["merged"]["municipalities"], Value::Array(vec![]), "Telemark had no municipalities in 2022");
    let vt = strings(&data["vt"]["municipalities"], "slug");
    assert!(vt.contains(&"mun-no-midt-telemark".to_owned()) && vt.contains(&"mun-no-nome".to_owned()), "{vt:?}");
}

#[tokio::test]
async fn municipal_codes_are_dated() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              nome: municipality(slug: "mun-no-nome") {
                y2018: code(scheme: KOMMUNENUMMER, asOf: "2018-06-01")
                y2022: code(scheme: KOMMUNENUMMER, asOf: "2022-06-01")
                y2025: code(scheme: KOMMUNENUMMER, asOf: "2025-06-01")
              }
              mt: municipality(slug: "mun-no-midt-telemark") {
                y2022: code(scheme: KOMMUNENUMMER, asOf: "2022-06-01")
                y2025: code(scheme: KOMMUNENUMMER, asOf: "2025-06-01")
                predecessors { slug codes(scheme: KOMMUNENUMMER) { value } }
              }
              rana: municipality(slug: "mun-no-rana") { code(scheme: KOMMUNENUMMER, asOf: "2018-01-01") }
              telemark: region(slug: "reg-no-telemark") {
                old: code(scheme: FYLKESNUMMER, asOf: "2018-06-01")
                new: code(scheme: FYLKESNUMMER, asOf: "2025-06-01")
                nutsOld: code(scheme: NUTS3, asOf: "2018-06-01")
                nutsNew: code(scheme: NUTS3, asOf: "2025-06-01")
              }
            }"#,
        )
        .await;
    assert_eq!(data["nome"]["y2018"], "0819");
    assert_eq!(data["nome"]["y2022"], "3816");
    assert_eq!(data["nome"]["y2025"], "4018");
    assert_eq!(data["mt"]["y2022"], "3817");
    assert_eq!(data["mt"]["y2025"], "4020");
    let predecessors = &data["mt"]["predecessors"];
    assert_eq!(strings(predecessors, "slug"), ["mun-no-bo-telemark", "mun-no-sauherad"]);
    let codes: Vec<&str> =
        predecessors.as_array().unwrap().iter().map(|p| p["codes"][0]["value"].as_str().unwrap()).collect();
    assert_eq!(codes, ["0821", "0822"]);
    assert_eq!(data["rana"]["code"], "1833");
    assert_eq!(data["telemark"]["old"], "08");
    assert_eq!(data["telemark"]["new"], "40");
    assert_eq!(data["telemark"]["nutsOld"], "NO034");
    assert_eq!(data["telemark"]["nutsNew"], "NO094");
}

#[tokio::test]
async fn kkig_municipalities_span_four_lan() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ project(slug: "proj-kkig") {
                 validFrom validTo programme { slug }
                 partners { organisation { kind representsMunicipality { slug regions(asOf: "2024-01-01", kinds: [LAN]) { slug } } } }
                 goals { kind }
               } }"#,
        )
        .await;
    let project = &data["project"];
    assert_eq!(project["validFrom"], "2023-01-01");
    assert_eq!(project["validTo"], "2024-12-31");
    assert_eq!(project["programme"]["slug"], "prog-esf");
    let mut per_lan = std::collections::BTreeMap::new();
    let partners = project["partners"].as_array().unwrap();
    let municipalities: Vec<&Value> =
        partners.iter().filter(|p| p["organisation"]["kind"] == "MUNICIPALITY").map(|p| &p["organisation"]).collect();
    assert_eq!(municipalities.len(), 17, "Kkig has 17 municipalities");
    for organisation in municipalities {
        let regions = organisation["representsMunicipality"]["regions"].as_array().unwrap();
        assert_eq!(regions.len(), 1, "one län each: {organisation}");
        *per_lan.entry(regions[0]["slug"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, i32> =
        [("reg-se-norrbotten", 6), ("reg-se-vasterbotten", 8), ("reg-se-vasternorrland", 2), ("reg-se-jamtland", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(per_lan, expected);
    let universities = partners.iter().filter(|p| p["organisation"]["kind"] == "UNIVERSITY").count();
    assert_eq!(universities, 3);
    let visions = project["goals"].as_array().unwrap().iter().filter(|g| g["kind"] == "VISION").count();
    assert_eq!(visions, 3, "three målbilder");
}

#[tokio::test]
async fn fyrbodal_has_fourteen_municipalities_in_vastra_gotaland() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ region(slug: "subreg-fyrbodal") {
                 municipalityCount
                 municipalities { slug regions(kinds: [LAN]) { slug code(scheme: LANSKOD) } }
                 parents { region { slug } }
               } }"#,
        )
        .await;
    let region = &data["region"];
    assert_eq!(region["municipalityCount"], 14);
    let municipalities = region["municipalities"].as_array().unwrap();
    assert_eq!(municipalities.len(), 14);
    for municipality in municipalities {
        assert_eq!(municipality["regions"][0]["slug"], "reg-se-vastra-gotaland", "{municipality}");
        assert_eq!(municipality["regions"][0]["code"], "14");
    }
    assert_eq!(region["parents"][0]["region"]["slug"], "reg-se-vastra-gotaland");
}

#[tokio::test]
async fn scandinavian_science_cluster_is_cross_border() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ project(slug: "proj-scandinavian-science-cluster") {
                 budgetTotal budgetCurrency budgetVerified budgetSource { key kind }
                 crossBorder countries partnerCount
                 partners { role organisation { slug country { code } } verified }
                 programme { slug name }
                 validFrom validTo
                 source { kind title url } verified
                 goals(kinds: [EFFECT]) { slug }
               } }"#,
        )
        .await;
    let project = &data["project"];
    assert_eq!(project["budgetTotal"], 3_606_848.0);
    assert_eq!(project["budgetCurrency"], "EUR");
    assert_eq!(project["budgetVerified"], true);
    assert_eq!(project["budgetSource"]["kind"], "seed document");
    assert_eq!(project["crossBorder"], true);
    assert_eq!(project["countries"], serde_json::json!(["NO", "SE"]));
    assert_eq!(project["partnerCount"], 6);
    let owners: Vec<String> = project["partners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["role"] == "OWNER")
        .map(|p| p["organisation"]["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(owners.len(), 2);
    assert!(owners.contains(&"org-inspiria".into()) && owners.contains(&"org-innovatum".into()));
    assert_eq!(project["programme"]["slug"], "prog-interreg-se-no-2014-2020");
    assert_eq!(project["validFrom"], "2015-09-01");
    assert_eq!(project["validTo"], "2018-08-31");
    assert_eq!(project["goals"].as_array().unwrap().len(), 5, "five effect goals");
}

#[tokio::test]
async fn byregion_targets_and_results() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ project(slug: "proj-byregion-midt-telemark") {
                 crossBorder periodApproximate validFrom validTo
                 goals(kinds: [RESULT]) { slug targetValue indicatorValues { slug value comparator periodFrom periodTo verified } }
               } }"#,
        )
        .await;
    let project = &data["project"];
    assert_eq!(project["crossBorder"], false);
    assert_eq!(project["periodApproximate"], true, "2015-autumn – 2018 is partial");
    assert_eq!(project["validFrom"], "2015-09-01");
    assert_eq!(project["validTo"], "2018-12-31");
    let goals = project["goals"].as_array().unwrap();
    let target = |slug: &str| goals.iter().find(|g| g["slug"] == slug).map(|g| g["targetValue"].clone());
    assert_eq!(target("g-bmt-1"), Some(150.0.into()));
    assert_eq!(target("g-bmt-2"), Some(20.0.into()));
    assert_eq!(target("g-bmt-3"), Some(50.0.into()));
    let jobs = goals.iter().find(|g| g["slug"] == "g-bmt-1").unwrap();
    let r1 = jobs["indicatorValues"].as_array().unwrap().iter().find(|v| v["slug"] == "r-bmt-1").unwrap();
    assert_eq!(r1["value"], 47.0);
    assert_eq!(r1["comparator"], "EQ");
    assert_eq!(r1["periodFrom"], "2014-01-01");
    assert_eq!(r1["periodTo"], "2017-12-31");
}

#[tokio::test]
async fn unverified_facts_are_imported_and_flagged() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{ project(slug: "proj-byregion-midt-telemark") { partners { verified organisation { slug } } }
                 organisations(filter: { verified: false }) { totalCount } }"#,
        )
        .await;
    let bo = data["project"]["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organisation"]["slug"] == "org-mun-no-bo-telemark")
        .cloned()
        .expect("Bø is a partner");
    // Bø as applicant is inferred (verified: false) but Bø is also a verified cooperating
    // municipality, so the merged partner row is verified.
    assert!(bo["verified"].is_boolean());
    assert!(data["organisations"]["totalCount"].as_i64().unwrap() >= 1, "some organisation is flagged unverified");
}

#[tokio::test]
async fn filters_match_names_kinds_and_countries() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            r#"{
              oest: organisations(filter: { nameContains: "østfold" }) { edges { node { slug } } }
              unis: organisations(filter: { kindIn: [UNIVERSITY], country: "SE" }) { totalCount }
              lan: regions(filter: { kindIn: [LAN], existsOn: "2024-06-01" }) { totalCount }
              se: projects(filter: { country: "SE" }, orderBy: { field: NAME }) { edges { node { slug } } }
              telemarkProjects: projects(filter: { region: "reg-no-telemark", asOf: "2017-01-01" }) { edges { node { slug } } }
              overlap: projects(filter: { period: { from: "2023-06-01", to: "2023-06-30" } }) { edges { node { slug } } }
            }"#,
        )
        .await;
    let oest = strings(&nodes(&data["oest"]), "slug");
    assert!(oest.contains(&"org-ostfold-fk".into()) && oest.contains(&"org-hiof".into()), "{oest:?}");
    assert_eq!(data["unis"]["totalCount"], 3, "LTU, Umeå, Mittuniversitetet");
    assert_eq!(data["lan"]["totalCount"], 21, "Sweden's 21 län of today");
    let se = strings(&nodes(&data["se"]), "slug");
    assert_eq!(se, ["proj-kkig", "proj-scandinavian-science-cluster"]);
    let telemark = &data["telemarkProjects"]["edges"];
    assert_eq!(telemark[0]["node"]["slug"], "proj-byregion-midt-telemark");
    assert_eq!(data["overlap"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(data["overlap"]["edges"][0]["node"]["slug"], "proj-kkig");
}
