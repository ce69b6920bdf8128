//! Analysts' metrics and aggregates on the `small` synthetic registry, checked against SQL (and
//! Rust grouping) written here independently of the server's statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use samverka::auth::Role;
use samverka::cli::ServeArgs;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::TestApp;

const AS_OF: &str = "2021-06-01";
const FROM: &str = "2018-01-01";
const TO: &str = "2020-12-31";

async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    app.db.conn.query_all_raw(Statement::from_string(app.db.backend(), sql.to_owned())).await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    rows(app, sql).await[0].try_get_by_index::<i64>(0).unwrap()
}

async fn region_id(app: &TestApp, slug: &str) -> i32 {
    rows(app, &format!("SELECT id FROM regions WHERE slug = '{slug}'")).await[0].try_get_by_index(0).unwrap()
}

/// A node whose metrics are checked: a region (on a day) or a municipality, by id.
#[derive(Clone, Copy, Debug)]
pub enum Node {
    Region(i32),
    Municipality(i32),
}

/// Organisations seated in the node (a region's on `as_of`).
fn seated(node: Node, organisation: &str, as_of: &str) -> String {
    match node {
        Node::Region(id) => format!(
            "EXISTS (SELECT 1 FROM region_memberships m WHERE m.municipality_id = {organisation}.municipality_id \
             AND m.region_id = {id} AND (m.valid_from IS NULL OR m.valid_from <= '{as_of}') \
             AND (m.valid_to IS NULL OR m.valid_to >= '{as_of}'))"
        ),
        Node::Municipality(id) => format!("{organisation}.municipality_id = {id}"),
    }
}

/// Rows of span `from`–`to` (columns) overlapping the inclusive period `first`–`last` (open: `None`).
fn overlapping_in(from: &str, to: &str, first: Option<&str>, last: Option<&str>) -> String {
    let mut condition = "1 = 1".to_owned();
    if let Some(last) = last {
        condition += &format!(" AND ({from} IS NULL OR {from} <= '{last}')");
    }
    if let Some(first) = first {
        condition += &format!(" AND ({to} IS NULL OR {to} >= '{first}')");
    }
    condition
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or_else(|| panic!("not an integer: {value}"))
}

#[tokio::test]
async fn region_metrics_match_independent_sql() {
    let app = TestApp::spawn_synthetic().await;
    // A stable län, and a fylke that existed only 2020–2023 (asked for on a day it existed).
    check_region_metrics(&app, &["reg-se-ostergotland", "reg-no-viken", "reg-no-nordland"]).await;
}

/// Periods that do not start or end on a month's edge (partial months are read from the facts,
/// whole ones from the monthly rollups), open periods, and a region on a day of another map.
#[tokio::test]
async fn metrics_over_partial_months_and_open_periods_match_independent_sql() {
    let app = TestApp::spawn_synthetic().await;
    let periods = [
        (Some("2018-03-17"), Some("2020-11-05")),
        (Some("2019-02-28"), Some("2019-03-01")),
        (Some("2021-07-15"), None),
        (None, Some("2016-05-31")),
    ];
    let mut projects = 0;
    for period in periods {
        for (slug, as_of) in
            [("reg-no-viken", "2021-06-01"), ("reg-no-nordland", "2019-06-01"), ("reg-se-norrbotten", "2024-06-01")]
        {
            let id = region_id(&app, slug).await;
            projects += check_metrics(&app, slug, Node::Region(id), period, as_of).await;
        }
    }
    assert!(projects > 0, "the periods must hold projects to measure");
}

/// Metrics of every municipality of one fylke for one year (the analysts' question in the bench),
/// each against independent SQL.
#[tokio::test]
async fn municipality_metrics_match_independent_sql() {
    let app = TestApp::spawn_synthetic().await;
    let municipalities = rows(
        &app,
        "SELECT m.slug, m.id FROM municipalities m JOIN region_memberships rm ON rm.municipality_id = m.id \
         JOIN regions r ON r.id = rm.region_id WHERE r.slug = 'reg-no-nordland' AND rm.valid_to IS NULL \
         AND EXISTS (SELECT 1 FROM organisations o JOIN project_partners pp ON pp.organisation_id = o.id \
         JOIN projects p ON p.id = pp.project_id WHERE o.municipality_id = m.id AND pp.role <> 'funder' \
         AND p.valid_from <= '2023-12-31' AND (p.valid_to IS NULL OR p.valid_to >= '2023-01-01')) ORDER BY m.slug LIMIT 4",
    )
    .await;
    assert!(municipalities.len() >= 2, "Nordland needs active municipalities to check");
    for row in municipalities {
        let slug: String = row.try_get_by_index(0).unwrap();
        let id: i32 = row.try_get_by_index(1).unwrap();
        let mut projects = 0;
        for period in [(Some("2023-01-01"), Some("2023-12-31")), (Some("2022-06-10"), Some("2023-04-20"))] {
            projects += check_metrics(&app, &slug, Node::Municipality(id), period, "2024-06-01").await;
        }
        assert!(projects > 0, "{slug} was chosen for its projects in 2023");
    }
}

/// Each region's metrics for FROM–TO on AS_OF, against SQL written here over the registry's
/// own tables (never the derived facts the server reads).
pub async fn check_region_metrics(app: &TestApp, slugs: &[&str]) {
    for &slug in slugs {
        let id = region_id(app, slug).await;
        let projects = check_metrics(app, slug, Node::Region(id), (Some(FROM), Some(TO)), AS_OF).await;
        assert!(projects > 0, "{slug} must have projects to measure");
    }
}

/// One node's metrics for the inclusive period `first`–`last` (a region's on `as_of`), against
/// independent SQL over the registry's own tables.
pub async fn check_metrics(
    app: &TestApp,
    slug: &str,
    node: Node,
    (first, last): (Option<&str>, Option<&str>),
    as_of: &str,
) -> i64 {
    let field = match node {
        Node::Region(_) => "region",
        Node::Municipality(_) => "municipality",
    };
    let seat = |organisation: &str| seated(node, organisation, as_of);
    let overlapping = |from: &str, to: &str| overlapping_in(from, to, first, last);
    let body = app
        .post_role(
            Role::Analyst,
            &format!(
                r#"query($slug: String!, $from: Date, $to: Date, $asOf: Date) {{ node: {field}(slug: $slug) {{
                metrics(period: {{from: $from, to: $to}}, asOf: $asOf) {{
                  organisations activeProjects partnerships crossBorderProjects budgetTotalEur
                  goalAttainment {{ goalsWithTarget goalsMeasured }}
                  studentsEnrolled {{ value }} placementsIn {{ value }} placementsOut {{ value }}
                }} }} }}"#
            ),
            json!({ "slug": slug, "from": first, "to": last, "asOf": as_of }),
        )
        .await;
    let metrics = &body["data"]["node"]["metrics"];
    assert!(body.get("errors").is_none(), "{body:#}");

    let organisations = count(app, &format!("SELECT COUNT(*) FROM organisations o WHERE {}", seat("o"))).await;
    let active = format!(
        "SELECT p.id FROM projects p WHERE {} AND EXISTS (SELECT 1 FROM project_partners pp \
         JOIN organisations o ON o.id = pp.organisation_id WHERE pp.project_id = p.id AND pp.role <> 'funder' AND {})",
        overlapping("p.valid_from", "p.valid_to"),
        seat("o")
    );
    let projects = count(app, &format!("SELECT COUNT(*) FROM ({active}) a")).await;
    let cross_border = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM ({active}) a WHERE (SELECT COUNT(DISTINCT o.country_id) FROM project_partners pp \
             JOIN organisations o ON o.id = pp.organisation_id WHERE pp.project_id = a.id AND pp.role <> 'funder') > 1"
        ),
    )
    .await;
    let partnerships = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM project_partners pp JOIN organisations o ON o.id = pp.organisation_id \
             WHERE pp.role <> 'funder' AND {} AND pp.project_id IN ({active})",
            seat("o")
        ),
    )
    .await;
    // Each budget at the ECB rate of its project's own start, converted here from the raw
    // amount (not from the stored euro column the server sums).
    let mut budget = 0.0;
    for row in rows(
        app,
        &format!("SELECT budget_total, budget_currency, valid_from, valid_to FROM projects WHERE id IN ({active})"),
    )
    .await
    {
        let amount: Option<f64> = row.try_get_by_index(0).unwrap();
        let currency: Option<String> = row.try_get_by_index(1).unwrap();
        let from: Option<chrono::NaiveDate> = row.try_get_by_index(2).unwrap();
        let to: Option<chrono::NaiveDate> = row.try_get_by_index(3).unwrap();
        let (Some(amount), Some(currency)) = (amount, currency) else { continue };
        budget += match (currency.as_str(), from.or(to)) {
            ("EUR", _) => amount,
            (_, Some(day)) => samverka::domain::currency::ecb().convert(amount, &currency, day).map_or(0.0, |c| c.eur),
            (_, None) => 0.0,
        };
    }
    let students = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM students st JOIN organisations o ON o.id = st.enrolling_organisation_id WHERE {} AND {}",
            seat("o"),
            overlapping("st.enrolled_from", "st.enrolled_to")
        ),
    )
    .await;
    let placements_in = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM student_placements sp JOIN organisations o ON o.id = sp.host_organisation_id WHERE {} AND {}",
            seat("o"),
            overlapping("sp.valid_from", "sp.valid_to")
        ),
    )
    .await;
    let placements_out = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM student_placements sp JOIN students st ON st.id = sp.student_id \
             JOIN organisations home ON home.id = st.enrolling_organisation_id \
             JOIN organisations host ON host.id = sp.host_organisation_id WHERE {} AND NOT {} AND {}",
            seat("home"),
            seat("host"),
            overlapping("sp.valid_from", "sp.valid_to")
        ),
    )
    .await;
    println!(
        "{slug}: {organisations} organisations, {projects} active projects ({cross_border} cross-border), \
         {partnerships} partnerships, {budget:.0} EUR, {students} students, placements {placements_in} in / {placements_out} out"
    );
    let goals_with_target =
        count(app, &format!("SELECT COUNT(*) FROM goals g WHERE g.target_value > 0 AND g.project_id IN ({active})"))
            .await;
    assert!(organisations > 0, "{slug} must have organisations to measure");
    assert_eq!(int(&metrics["goalAttainment"]["goalsWithTarget"]), goals_with_target, "{slug} goals with a target");
    assert_eq!(int(&metrics["organisations"]), organisations, "{slug} organisations");
    assert_eq!(int(&metrics["activeProjects"]), projects, "{slug} active projects");
    assert_eq!(int(&metrics["crossBorderProjects"]), cross_border, "{slug} cross-border projects");
    assert_eq!(int(&metrics["partnerships"]), partnerships, "{slug} partnerships");
    let served = metrics["budgetTotalEur"].as_f64().unwrap();
    assert!((served - budget).abs() <= 1e-6 * budget.max(1.0), "{slug} budget {served} vs {budget}");
    assert_eq!(int(&metrics["studentsEnrolled"]["value"]), students, "{slug} students");
    assert_eq!(int(&metrics["placementsIn"]["value"]), placements_in, "{slug} placements in");
    assert_eq!(int(&metrics["placementsOut"]["value"]), placements_out, "{slug} placements out");
    projects
}

#[tokio::test]
async fn partnerships_by_region_and_year_match_independent_grouping() {
    let app = TestApp::spawn_synthetic().await;
    // Groups without a region on every map: a project without partners, and a partner seated
    // nowhere (a foreign organisation without a municipality) in a project that has others.
    let project: String =
        rows(&app, "SELECT slug FROM projects ORDER BY id LIMIT 1").await[0].try_get_by_index(0).unwrap();
    for (query, variables) in [
        (
            "mutation($p: ProjectInput!) { createProject(input: $p) { slug } }",
            json!({ "p": { "slug": "test-no-partners", "name": "No partners yet", "validFrom": "2019-03-01" } }),
        ),
        (
            "mutation($o: OrganisationInput!) { createOrganisation(input: $o) { slug } }",
            json!({ "o": { "slug": "test-seated-nowhere", "name": "Seated nowhere", "kind": "COMPANY", "country": "DK" } }),
        ),
        (
            "mutation($p: PartnerInput!) { addProjectPartner(input: $p) { role } }",
            json!({ "p": { "organisation": "test-seated-nowhere", "project": project, "role": "PARTNER" } }),
        ),
    ] {
        let body = app.post_role(Role::Editor, query, variables).await;
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    // On a day of the synthetic registry's past map (grouped from the facts), and on today's
    // (read from the partnership cells, `db::cells`).
    let today = chrono::Utc::now().date_naive().to_string();
    for as_of in [AS_OF, today.as_str()] {
        check_partnerships_by_region_and_year(&app, as_of).await;
    }
}

/// The region × year groups on `as_of` (those without a region, "(none)", included), against
/// the same grouping done in Rust over plain joined rows.
async fn check_partnerships_by_region_and_year(app: &TestApp, as_of: &str) {
    let body = app
        .post(
            r#"query($asOf: Date) { partnershipAggregate(groupBy: [REGION, YEAR], geography: {asOf: $asOf}) {
                rows { keys { region { slug } year } count projects organisations } } }"#,
            json!({ "asOf": as_of }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let mut served: BTreeMap<(String, i64), (i64, i64, i64)> = BTreeMap::new();
    for row in body["data"]["partnershipAggregate"]["rows"].as_array().unwrap() {
        let slug = row["keys"]["region"]["slug"].as_str().unwrap_or("(none)");
        let key = (slug.to_owned(), row["keys"]["year"].as_i64().unwrap_or(0));
        let counts = (int(&row["count"]), int(&row["projects"]), int(&row["organisations"]));
        assert!(served.insert(key.clone(), counts).is_none(), "{key:?} twice on {as_of}");
    }
    // Every acting partner row with the fylke or län of its seat on the day (if any), and every
    // project without one.
    let sql = format!(
        "SELECT r.slug, p.valid_from, pp.project_id, pp.organisation_id FROM project_partners pp \
         JOIN projects p ON p.id = pp.project_id JOIN organisations o ON o.id = pp.organisation_id \
         LEFT JOIN (region_memberships m JOIN regions r ON r.id = m.region_id AND r.kind IN ('fylke', 'lan')) \
         ON m.municipality_id = o.municipality_id \
         AND (m.valid_from IS NULL OR m.valid_from <= '{as_of}') AND (m.valid_to IS NULL OR m.valid_to >= '{as_of}') \
         WHERE pp.role <> 'funder' \
         UNION ALL SELECT NULL, p.valid_from, p.id, NULL FROM projects p WHERE NOT EXISTS \
         (SELECT 1 FROM project_partners pp WHERE pp.project_id = p.id AND pp.role <> 'funder')"
    );
    let mut groups: HashMap<(String, i64), Tally> = HashMap::new();
    for row in rows(app, &sql).await {
        let slug: Option<String> = row.try_get_by_index(0).unwrap();
        let start: Option<NaiveDate> = row.try_get_by_index(1).unwrap();
        let key = (slug.unwrap_or_else(|| "(none)".to_owned()), start.map_or(0, |day| i64::from(day.year())));
        let group = groups.entry(key).or_default();
        let organisation: Option<i32> = row.try_get_by_index(3).unwrap();
        group.0 += i64::from(organisation.is_some());
        group.1.insert(row.try_get_by_index(2).unwrap());
        group.2.extend(organisation);
    }
    let expected: BTreeMap<(String, i64), (i64, i64, i64)> = groups
        .into_iter()
        .map(|(key, (rows, projects, organisations))| (key, (rows, projects.len() as i64, organisations.len() as i64)))
        .collect();
    let without_region = expected.keys().filter(|(slug, _)| slug == "(none)").count();
    println!(
        "partnerships by region × year on {as_of}: {} groups ({without_region} without a region), {} partnerships",
        expected.len(),
        expected.values().map(|v| v.0).sum::<i64>()
    );
    assert!(expected.len() > 100 && without_region > 0);
    assert_eq!(served, expected, "on {as_of}");
}

/// Rows, distinct projects and distinct organisations of one group.
type Tally = (i64, BTreeSet<i32>, BTreeSet<i32>);

/// Partnerships per region slug under one geography.
async fn partnerships_by_region(app: &TestApp, geography: Value) -> BTreeMap<String, i64> {
    let body = app
        .post(
            r#"query($geography: GeographyInput) { partnershipAggregate(groupBy: [REGION], geography: $geography) {
                rows { keys { region { slug } } count } } }"#,
            json!({ "geography": geography }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["partnershipAggregate"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["keys"]["region"]["slug"].as_str().unwrap_or("(none)").to_owned(), int(&row["count"])))
        .collect()
}

/// Acting partner rows (or the project alone, without any) of projects dated in `FROM`–`TO`,
/// with the project's programme slug, cross-border flag and budget, for grouping in Rust.
const PROJECTS_IN_PERIOD: &str = "SELECT p.id, pg.slug, p.budget_eur, pp.organisation_id, \
     (SELECT COUNT(DISTINCT o2.country_id) FROM project_partners pp2 JOIN organisations o2 ON o2.id = pp2.organisation_id \
      WHERE pp2.project_id = p.id AND pp2.role <> 'funder') > 1 AS cross_border \
     FROM projects p LEFT JOIN programmes pg ON pg.id = p.programme_id \
     LEFT JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder' \
     LEFT JOIN organisations o ON o.id = pp.organisation_id";

/// Rows, distinct projects, distinct organisations and the budgets (each project once) of a group.
#[derive(Default)]
struct ProgrammeTally {
    rows: i64,
    projects: BTreeSet<i32>,
    organisations: BTreeSet<i32>,
    budgets: BTreeMap<i32, f64>,
}

#[tokio::test]
async fn partnerships_by_programme_and_cross_border_over_a_period_match_independent_grouping() {
    let app = TestApp::spawn_synthetic().await;
    let programme =
        rows(&app, "SELECT slug FROM programmes ORDER BY id LIMIT 1").await[0].try_get_by_index::<String>(0).unwrap();
    // A project without partners: a group's project but none of its partnerships or organisations.
    let created = app
        .post_role(
            Role::Editor,
            "mutation($p: ProjectInput!) { createProject(input: $p) { slug } }",
            json!({ "p": { "slug": "test-no-partners", "name": "No partners yet", "programme": programme,
                           "validFrom": "2019-03-01", "validTo": "2019-09-30" } }),
        )
        .await;
    assert!(created.get("errors").is_none(), "{created:#}");
    // The bench's question (the period alone), and the period with a programme: the period is
    // read on the fact rows and the rest of the filter as a subquery, both must agree with SQL.
    for filter in [
        json!({ "period": { "from": FROM, "to": TO } }),
        json!({ "period": { "from": FROM, "to": TO }, "programme": programme }),
    ] {
        let body = app
            .post(
                r#"query($filter: ProjectFilter) { partnershipAggregate(groupBy: [PROGRAMME, CROSS_BORDER], filter: $filter,
                    geography: {asOf: "2024-06-01"}) {
                    rows { keys { programme { slug } crossBorder } count projects organisations budgetEur { sum projects } } } }"#,
                json!({ "filter": filter }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        let mut served = BTreeMap::new();
        for row in body["data"]["partnershipAggregate"]["rows"].as_array().unwrap() {
            let key = (
                row["keys"]["programme"]["slug"].as_str().map(str::to_owned),
                row["keys"]["crossBorder"].as_bool().unwrap(),
            );
            let sum = (row["budgetEur"]["sum"].as_f64().unwrap_or(0.0) * 100.0).round() as i64;
            served.insert(
                key,
                (
                    int(&row["count"]),
                    int(&row["projects"]),
                    int(&row["organisations"]),
                    sum,
                    int(&row["budgetEur"]["projects"]),
                ),
            );
        }
        let mut condition = format!(
            "(p.valid_from IS NOT NULL OR p.valid_to IS NOT NULL) AND {}",
            overlapping_in("p.valid_from", "p.valid_to", Some(FROM), Some(TO))
        );
        if filter.get("programme").is_some() {
            condition += &format!(" AND pg.slug = '{programme}'");
        }
        let mut groups: BTreeMap<(Option<String>, bool), ProgrammeTally> = BTreeMap::new();
        for row in rows(&app, &format!("{PROJECTS_IN_PERIOD} WHERE {condition}")).await {
            let project: i32 = row.try_get_by_index(0).unwrap();
            let cross_border = row.try_get_by_index::<bool>(4).unwrap();
            let group = groups.entry((row.try_get_by_index(1).unwrap(), cross_border)).or_default();
            group.projects.insert(project);
            if let Some(organisation) = row.try_get_by_index::<Option<i32>>(3).unwrap() {
                group.rows += 1;
                group.organisations.insert(organisation);
            }
            if let Some(budget) = row.try_get_by_index::<Option<f64>>(2).unwrap() {
                group.budgets.insert(project, budget);
            }
        }
        let expected: BTreeMap<_, _> = groups
            .into_iter()
            .map(|(key, tally)| {
                let sum = (tally.budgets.values().sum::<f64>() * 100.0).round() as i64;
                let counts = (tally.rows, tally.projects.len() as i64, tally.organisations.len() as i64);
                (key, (counts.0, counts.1, counts.2, sum, tally.budgets.len() as i64))
            })
            .collect();
        // Asked without budgets, the counts come from another statement shape: partner rows,
        // then the projects without any, no join.
        let counts_only = app
            .post(
                r#"query($filter: ProjectFilter) { partnershipAggregate(groupBy: [PROGRAMME, CROSS_BORDER], filter: $filter) {
                    rows { keys { programme { slug } crossBorder } count projects organisations } } }"#,
                json!({ "filter": filter }),
            )
            .await;
        assert!(counts_only.get("errors").is_none(), "{counts_only:#}");
        let counts: BTreeMap<_, _> = counts_only["data"]["partnershipAggregate"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let key = (
                    row["keys"]["programme"]["slug"].as_str().map(str::to_owned),
                    row["keys"]["crossBorder"].as_bool().unwrap(),
                );
                (key, (int(&row["count"]), int(&row["projects"]), int(&row["organisations"])))
            })
            .collect();
        let expected_counts: BTreeMap<_, _> = expected.iter().map(|(key, v)| (key.clone(), (v.0, v.1, v.2))).collect();
        assert_eq!(counts, expected_counts, "{filter}, counts only");
        println!("partnerships by programme × cross-border, {filter}: {} groups", expected.len());
        // Every programme and both sides of the border; one programme may all cross it.
        let least = if filter.get("programme").is_some() { 1 } else { 4 };
        assert!(expected.len() >= least, "{filter}: {expected:?}");
        assert_eq!(served, expected, "{filter}");
    }
}

/// Home region slug, host region slug and start year.
type PlacementCell = (Option<String>, Option<String>, i64);

#[tokio::test]
async fn placements_by_home_and_host_region_over_a_period_match_independent_grouping() {
    let app = TestApp::spawn_synthetic().await;
    // Groups with no region on a side: placements hosted by an organisation seated nowhere, one
    // of them starting before the period and running into it.
    let student: String =
        rows(&app, "SELECT slug FROM students ORDER BY id LIMIT 1").await[0].try_get_by_index(0).unwrap();
    let writes = [
        (
            "mutation($o: OrganisationInput!) { createOrganisation(input: $o) { slug } }",
            json!({ "o": { "slug": "test-host-nowhere", "name": "Hosted nowhere", "kind": "COMPANY", "country": "DK" } }),
        ),
        (
            "mutation($i: PlacementInput!) { addPlacement(input: $i) { slug } }",
            json!({ "i": { "slug": "test-abroad-1", "student": student, "host": "test-host-nowhere",
                           "kind": "INTERNSHIP", "validFrom": "2017-11-01", "validTo": "2018-02-28" } }),
        ),
        (
            "mutation($i: PlacementInput!) { addPlacement(input: $i) { slug } }",
            json!({ "i": { "slug": "test-abroad-2", "student": student, "host": "test-host-nowhere",
                           "kind": "INTERNSHIP", "validFrom": "2019-04-01", "validTo": "2019-06-30" } }),
        ),
    ];
    for (query, variables) in writes {
        let body = app.post_role(Role::Admin, query, variables).await;
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    // On a past map (grouped from the facts) and on today's (the placement cells, `db::cells`,
    // and the facts around them): the bench's question (whole years), a period of partial
    // years, all placements, and a period with placement kinds (always from the facts).
    let today = chrono::Utc::now().date_naive().to_string();
    for as_of in [AS_OF, today.as_str()] {
        for filter in [
            json!({ "period": { "from": FROM, "to": TO } }),
            json!({ "period": { "from": "2018-03-15", "to": "2020-06-30" } }),
            json!({}),
            json!({ "period": { "from": FROM, "to": TO }, "kindIn": ["THESIS", "VFU"] }),
        ] {
            check_placements_by_home_and_host_region(&app, as_of, &filter).await;
        }
    }
}

/// The home region × host region × year groups of the placements `filter` selects, regions on
/// `as_of`, against the same grouping done in Rust over plain joined rows.
async fn check_placements_by_home_and_host_region(app: &TestApp, as_of: &str, filter: &Value) {
    let membership = |alias: &str, organisation: &str| {
        format!(
            "LEFT JOIN region_memberships {alias} ON {alias}.municipality_id = {organisation}.municipality_id \
             AND (({alias}.valid_from IS NULL OR {alias}.valid_from <= '{as_of}') AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= '{as_of}')) \
             AND {alias}.region_id IN (SELECT id FROM regions WHERE kind IN ('fylke', 'lan')) \
             LEFT JOIN regions r_{alias} ON r_{alias}.id = {alias}.region_id"
        )
    };
    let body = app
        .post_role(
            Role::Analyst,
            r#"query($filter: PlacementFilter, $asOf: Date) { placementAggregate(groupBy: [HOME_REGION, HOST_REGION, YEAR],
                filter: $filter, geography: {asOf: $asOf}) {
                withheldGroups rows { keys { homeRegion { slug } hostRegion { slug } year }
                placements { value } students { value } crossBorder { value } } } }"#,
            json!({ "filter": filter, "asOf": as_of }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(int(&body["data"]["placementAggregate"]["withheldGroups"]), 0);
    let mut served = BTreeMap::new();
    for row in body["data"]["placementAggregate"]["rows"].as_array().unwrap() {
        let keys = &row["keys"];
        let slug = |side: &str| keys[side]["slug"].as_str().map(str::to_owned);
        let key = (slug("homeRegion"), slug("hostRegion"), int(&keys["year"]));
        let counts =
            (int(&row["placements"]["value"]), int(&row["students"]["value"]), int(&row["crossBorder"]["value"]));
        assert!(served.insert(key.clone(), counts).is_none(), "{key:?} twice");
    }
    let period = &filter["period"];
    let mut condition = overlapping_in("sp.valid_from", "sp.valid_to", period["from"].as_str(), period["to"].as_str());
    if filter.get("kindIn").is_some() {
        condition += " AND sp.kind IN ('thesis', 'vfu')";
    }
    let sql = format!(
        "SELECT r_mh.slug, r_mo.slug, sp.valid_from, sp.student_id, home.country_id <> host.country_id \
         FROM student_placements sp JOIN students s ON s.id = sp.student_id \
         JOIN organisations home ON home.id = s.enrolling_organisation_id \
         JOIN organisations host ON host.id = sp.host_organisation_id {} {} WHERE {condition}",
        membership("mh", "home"),
        membership("mo", "host"),
    );
    let mut groups: BTreeMap<PlacementCell, (i64, BTreeSet<i32>, i64)> = BTreeMap::new();
    for row in rows(app, &sql).await {
        let start: NaiveDate = row.try_get_by_index(2).unwrap();
        let key = (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap(), i64::from(start.year()));
        let group = groups.entry(key).or_default();
        group.0 += 1;
        group.1.insert(row.try_get_by_index(3).unwrap());
        group.2 += i64::from(row.try_get_by_index::<bool>(4).unwrap());
    }
    let expected: BTreeMap<_, _> = groups
        .into_iter()
        .map(|(key, (placements, students, cross))| (key, (placements, students.len() as i64, cross)))
        .collect();
    let without_host = expected.keys().filter(|(_, host, _)| host.is_none()).count();
    println!(
        "placements by home × host region × year on {as_of}, {filter}: {} groups ({without_host} without a host region)",
        expected.len()
    );
    assert!(expected.len() > 10);
    if filter.get("kindIn").is_none() {
        assert!(without_host > 0, "the placements hosted nowhere are in the period");
    }
    assert_eq!(served, expected, "on {as_of}, {filter}");
}

/// How recent a result is: dated before undated, then by the end (or start) of its period, then by id.
type ResultRank = (bool, Option<NaiveDate>, i32);

#[tokio::test]
async fn budgets_by_partner_region_count_each_project_once_per_region() {
    let app = TestApp::spawn_synthetic().await;
    let body = app
        .post(
            r#"query($asOf: Date) { projectAggregate(groupBy: [REGION], geography: {asOf: $asOf}) {
                rows { keys { region { slug } } count budgetEur { sum min max projects } } } }"#,
            json!({ "asOf": AS_OF }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let mut served = BTreeMap::new();
    for row in body["data"]["projectAggregate"]["rows"].as_array().unwrap() {
        let Some(slug) = row["keys"]["region"]["slug"].as_str() else { continue };
        let budget = &row["budgetEur"];
        let cents = |value: &Value| value.as_f64().map(|v| (v * 100.0).round() as i64);
        served.insert(
            slug.to_owned(),
            (
                int(&row["count"]),
                cents(&budget["sum"]),
                cents(&budget["min"]),
                cents(&budget["max"]),
                int(&budget["projects"]),
            ),
        );
    }
    // Each project once per region any of its acting partners is seated in on the day.
    let sql = format!(
        "SELECT DISTINCT r.slug, p.id, p.budget_eur FROM project_partners pp JOIN projects p ON p.id = pp.project_id \
         JOIN organisations o ON o.id = pp.organisation_id JOIN region_memberships m ON m.municipality_id = o.municipality_id \
         AND (m.valid_from IS NULL OR m.valid_from <= '{AS_OF}') AND (m.valid_to IS NULL OR m.valid_to >= '{AS_OF}') \
         JOIN regions r ON r.id = m.region_id AND r.kind IN ('fylke', 'lan') WHERE pp.role <> 'funder'"
    );
    let mut budgets: BTreeMap<String, (i64, Vec<f64>)> = BTreeMap::new();
    for row in rows(&app, &sql).await {
        let region = budgets.entry(row.try_get_by_index(0).unwrap()).or_default();
        region.0 += 1;
        region.1.extend(row.try_get_by_index::<Option<f64>>(2).unwrap());
    }
    let cents = |value: f64| (value * 100.0).round() as i64;
    let expected: BTreeMap<_, _> = budgets
        .into_iter()
        .map(|(slug, (projects, values))| {
            let sum = (!values.is_empty()).then(|| cents(values.iter().sum()));
            let min = values.iter().copied().reduce(f64::min).map(cents);
            let max = values.iter().copied().reduce(f64::max).map(cents);
            (slug, (projects, sum, min, max, values.len() as i64))
        })
        .collect();
    assert!(expected.len() > 10 && expected.values().any(|v| v.4 > 1));
    assert_eq!(served, expected);
}

#[tokio::test]
async fn goal_attainment_per_programme_matches_independent_computation() {
    let app = TestApp::spawn_synthetic().await;
    // An undated result beside the dated results of a goal with a target: the dated ones stay
    // the goal's latest, on both backends (SQL puts NULLs at different ends of a DESC sort).
    let goal = &rows(
        &app,
        "SELECT g.slug, p.slug FROM goals g JOIN projects p ON p.id = g.project_id WHERE g.target_value > 0 \
         AND p.programme_id IS NOT NULL AND EXISTS (SELECT 1 FROM indicator_values iv WHERE iv.goal_id = g.id \
         AND iv.value IS NOT NULL AND iv.period_from IS NOT NULL) ORDER BY g.id LIMIT 1",
    )
    .await[0];
    let added = app
        .post_role(
            Role::Editor,
            "mutation($i: IndicatorValueInput!) { addIndicatorValue(input: $i) { slug } }",
            json!({ "i": {
                "slug": "test-undated-result", "project": goal.try_get_by_index::<String>(1).unwrap(),
                "goal": goal.try_get_by_index::<String>(0).unwrap(), "text": "undated", "value": 1.0e6
            } }),
        )
        .await;
    assert!(added.get("errors").is_none(), "{added:#}");
    let body = app
        .post(
            "{ programmes(first: 100) { nodes { slug metrics { goalAttainment { average goalsWithTarget goalsWithoutTarget goalsMeasured } } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    // Each goal's latest result in Rust: the latest end (or start) of period, undated last, then
    // the highest id.
    let mut latest: HashMap<i32, (ResultRank, f64)> = HashMap::new();
    let values = "SELECT goal_id, id, COALESCE(period_to, period_from), value FROM indicator_values \
                  WHERE goal_id IS NOT NULL AND value IS NOT NULL";
    for row in rows(&app, values).await {
        let rank = (
            row.try_get_by_index::<Option<NaiveDate>>(2).unwrap().is_some(),
            row.try_get_by_index::<Option<NaiveDate>>(2).unwrap(),
            row.try_get_by_index::<i32>(1).unwrap(),
        );
        let value: f64 = row.try_get_by_index(3).unwrap();
        let entry = latest.entry(row.try_get_by_index(0).unwrap()).or_insert((rank, value));
        if rank > entry.0 {
            *entry = (rank, value);
        }
    }
    let goals = "SELECT pg.slug, g.id, g.target_value, g.target_comparator FROM goals g \
                 JOIN projects p ON p.id = g.project_id JOIN programmes pg ON pg.id = p.programme_id";
    // Per programme: goals with a target, without, measured, and the attainments.
    let mut expected: BTreeMap<String, (i64, i64, i64, Vec<f64>)> = BTreeMap::new();
    for row in rows(&app, goals).await {
        let tally = expected.entry(row.try_get_by_index(0).unwrap()).or_default();
        let target = row.try_get_by_index::<Option<f64>>(2).unwrap().filter(|t| *t > 0.0);
        let Some(target) = target else {
            tally.1 += 1;
            continue;
        };
        tally.0 += 1;
        let Some((_, value)) = latest.get(&row.try_get_by_index::<i32>(1).unwrap()) else { continue };
        tally.2 += 1;
        let at_most = matches!(row.try_get_by_index::<Option<String>>(3).unwrap().as_deref(), Some("<=" | "<"));
        match (at_most, *value > 0.0) {
            (true, true) => tally.3.push(target / value),
            (true, false) => {}
            (false, _) => tally.3.push(value / target),
        }
    }
    let mut served = BTreeMap::new();
    for node in body["data"]["programmes"]["nodes"].as_array().unwrap() {
        let stats = &node["metrics"]["goalAttainment"];
        let counts = (int(&stats["goalsWithTarget"]), int(&stats["goalsWithoutTarget"]), int(&stats["goalsMeasured"]));
        served.insert(node["slug"].as_str().unwrap().to_owned(), (counts, stats["average"].as_f64()));
    }
    for (slug, (with_target, without_target, measured, attainments)) in &expected {
        let (counts, average) = served.get(slug).unwrap_or_else(|| panic!("{slug} not served"));
        assert_eq!(*counts, (*with_target, *without_target, *measured), "{slug}");
        let mean = (!attainments.is_empty()).then(|| attainments.iter().sum::<f64>() / attainments.len() as f64);
        match (average, mean) {
            (Some(served), Some(mean)) => {
                assert!((served - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{slug}: {served} vs {mean}")
            }
            (served, mean) => assert_eq!(*served, mean, "{slug}"),
        }
    }
    println!("goal attainment of {} programmes checked", expected.len());
    assert!(expected.values().filter(|tally| tally.2 > 0).count() > 1);
}

#[tokio::test]
async fn region_grouping_is_stable_across_the_telemark_style_reform() {
    let app = TestApp::spawn_synthetic().await;
    // Østfold, Akershus and Buskerud merged into Viken in 2020 and were split again in 2024.
    let merged = partnerships_by_region(&app, json!({ "asOf": "2022-06-01" })).await;
    let split = partnerships_by_region(&app, json!({ "asOf": "2025-06-01" })).await;
    let at_start = partnerships_by_region(&app, json!({ "asOf": "2025-06-01", "atRowDate": true })).await;
    assert!(merged.contains_key("reg-no-viken") && !merged.contains_key("reg-no-buskerud"), "{merged:?}");
    assert!(split.contains_key("reg-no-buskerud") && !split.contains_key("reg-no-viken"), "{split:?}");
    // Nothing is lost or counted twice when the map changes: the merged county holds exactly
    // what its three successors hold, and every map sums to the same total.
    let successors: i64 = ["reg-no-ostfold", "reg-no-akershus", "reg-no-buskerud"].iter().map(|s| split[*s]).sum();
    assert_eq!(merged["reg-no-viken"], successors);
    let total = |map: &BTreeMap<String, i64>| map.values().sum::<i64>();
    assert_eq!(total(&merged), total(&split));
    assert_eq!(total(&merged), total(&at_start));
    // On each row's own date, projects that began before 2020 sit in the old fylker.
    assert!(at_start.contains_key("reg-no-ostfold") && at_start.contains_key("reg-no-viken"), "{at_start:?}");
    println!(
        "Viken (2022 map) = {} = Østfold + Akershus + Buskerud (2025 map); all maps total {}",
        merged["reg-no-viken"],
        total(&merged)
    );
}

#[tokio::test]
async fn public_placement_cells_are_k_anonymous_with_complementary_suppression() {
    let app = TestApp::spawn_synthetic().await;
    check_suppression(
        &app,
        "REGION, YEAR, CROSS_BORDER",
        "keys { region { slug } year crossBorder }",
        &[&["region", "slug"], &["year"], &["crossBorder"]],
    )
    .await;
    // The public's mobility question: home region × host region × year.
    check_suppression(
        &app,
        "HOME_REGION, HOST_REGION, YEAR",
        "keys { homeRegion { slug } hostRegion { slug } year }",
        &[&["homeRegion", "slug"], &["hostRegion", "slug"], &["year"]],
    )
    .await;
}

async fn check_suppression(app: &TestApp, group_by: &str, keys: &str, paths: &[&[&str]]) {
    let query = format!(
        "{{ placementAggregate(groupBy: [{group_by}]) {{ withheldGroups \
         rows {{ {keys} students {{ value suppressed }} placements {{ value suppressed }} }} }} }}"
    );
    let analyst = app.post_role(Role::Analyst, &query, json!({})).await;
    let public = app.post(&query, json!({})).await;
    assert!(public.get("errors").is_none(), "{public:#}");
    let full = analyst["data"]["placementAggregate"]["rows"].as_array().unwrap();
    let shown = public["data"]["placementAggregate"]["rows"].as_array().unwrap();
    assert_eq!(full.len(), shown.len());
    assert_eq!(int(&analyst["data"]["placementAggregate"]["withheldGroups"]), 0);
    assert!(full.iter().all(|row| !row["students"]["suppressed"].as_bool().unwrap()));
    let key = |row: &Value| -> Vec<String> {
        paths.iter().map(|path| path.iter().fold(&row["keys"], |value, step| &value[*step]).to_string()).collect()
    };
    let mut small = 0;
    let mut complementary = 0;
    for (full_row, shown_row) in full.iter().zip(shown) {
        assert_eq!(key(full_row), key(shown_row));
        let students = int(&full_row["students"]["value"]);
        let hidden = shown_row["students"]["suppressed"].as_bool().unwrap();
        assert_eq!(hidden, shown_row["students"]["value"].is_null());
        assert_eq!(hidden, shown_row["placements"]["suppressed"].as_bool().unwrap());
        if students < 5 {
            small += 1;
            assert!(hidden, "a cell of {students} students must be withheld: {shown_row}");
        } else if hidden {
            complementary += 1;
        }
    }
    // No line of cells (all keys but one equal) holds exactly one withheld cell, so none can be
    // recovered by subtracting the others from a published margin.
    for dimension in 0..paths.len() {
        let mut lines: HashMap<Vec<String>, Vec<bool>> = HashMap::new();
        for row in shown {
            let mut rest = key(row);
            rest.remove(dimension);
            lines.entry(rest).or_default().push(row["students"]["suppressed"].as_bool().unwrap());
        }
        for (line, cells) in lines {
            let withheld = cells.iter().filter(|h| **h).count();
            assert!(withheld != 1 || cells.len() == 1, "line {line:?} along dimension {dimension} exposes one cell");
        }
    }
    let withheld = int(&public["data"]["placementAggregate"]["withheldGroups"]);
    println!(
        "[{group_by}] {} groups: {small} below k, {complementary} withheld as complements, {withheld} withheld in all",
        full.len()
    );
    assert!(small > 0 && complementary > 0, "the data must exercise both rules");
    assert_eq!(withheld, small + complementary);
}

const METRICS_PAGE: &str = r#"query($first: Int!) { regions(first: $first) { nodes { slug
    metrics(period: {from: "2018-01-01", to: "2020-12-31"}, asOf: "2021-06-01") {
      organisations organisationsByKind { kind count } activeProjects partnerships crossBorderProjects crossBorderShare
      budgetTotalEur goalAttainment { average goalsWithTarget goalsWithoutTarget goalsMeasured }
      studentsEnrolled { value } placementsIn { value } placementsOut { value } crossBorderPlacements { value }
    } } } }"#;

#[tokio::test]
async fn region_metrics_statements_do_not_grow_with_page_size() {
    // Without the cross-request cache: this counts the statements that compute the metrics.
    let app = TestApp::spawn_synthetic_with(ServeArgs { analytics_cache_mb: 0, ..ServeArgs::default() }).await;
    let mut measured = Vec::new();
    for first in [5, 50] {
        // The fewest of five runs: a DataLoader batch that a busy machine splits in two is
        // timing, not growth with the page.
        let mut fewest = (0, u64::MAX);
        for _ in 0..5 {
            let before = app.statements.get();
            let body = app.post(METRICS_PAGE, json!({ "first": first })).await;
            assert!(body.get("errors").is_none(), "{body:#}");
            let regions = body["data"]["regions"]["nodes"].as_array().unwrap().len();
            fewest = (regions, fewest.1.min(app.statements.get() - before));
        }
        measured.push(fewest);
    }
    println!("regions(first: N) {{ metrics }}: {measured:?} (regions, statements)");
    assert!(measured[1].0 > measured[0].0 * 5, "the larger page must hold more regions");
    assert_eq!(measured[0].1, measured[1].1, "statements must not grow with the page");
    assert!(measured[1].1 <= 8, "one statement per metric group, not {}", measured[1].1);
}

/// Statements one request sends.
async fn statements_of(app: &TestApp, query: &str, variables: Value) -> (Value, u64) {
    let before = app.statements.get();
    let body = app.post(query, variables).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    (body, app.statements.get() - before)
}

#[tokio::test]
async fn analytics_are_answered_from_the_cache_until_a_change_commits() {
    let app = TestApp::spawn_synthetic().await;
    let (first, computed) = statements_of(&app, METRICS_PAGE, json!({ "first": 50 })).await;
    let (again, page_cached) = statements_of(&app, METRICS_PAGE, json!({ "first": 50 })).await;
    println!("metrics of 50 regions: {computed} statements computed, {page_cached} cached");
    assert_eq!(again, first, "the cached answer is the computed one");
    // The four metric groups (organisations, projects with their goals, enrolments, placements)
    // come from memory; only the page itself and the data version are read.
    assert_eq!(page_cached, 2, "computed with {computed}");
    assert!(computed >= page_cached + 4);

    let aggregate = "{ partnershipAggregate(groupBy: [COUNTRY, YEAR]) { rows { keys { year country } count } } }";
    let (groups, computed) = statements_of(&app, aggregate, json!({})).await;
    let (again, cached) = statements_of(&app, aggregate, json!({})).await;
    assert_eq!(again, groups);
    assert_eq!((computed, cached), (2, 1), "the aggregate statement is skipped; the data version is read");

    // A committed change is a new data version: the next answer is recomputed and shows it.
    let region = r#"{ region(slug: "reg-se-ostergotland") { municipalities(asOf: "2021-06-01", first: 1) { slug }
        metrics(period: {from: "2018-01-01", to: "2020-12-31"}, asOf: "2021-06-01") { organisations } } }"#;
    let before = app.data(region).await;
    let seat = before["region"]["municipalities"][0]["slug"].as_str().unwrap().to_owned();
    let created = app
        .post_role(
            Role::Editor,
            &format!(
                r#"mutation {{ createOrganisation(input: {{slug: "org-cache-test", name: "Cache test AS", kind: COMPANY,
                   country: "SE", municipality: "{seat}"}}) {{ slug }} }}"#
            ),
            json!({}),
        )
        .await;
    assert!(created.get("errors").is_none(), "{created:#}");
    let after = app.data(region).await;
    let count = |body: &Value| body["region"]["metrics"]["organisations"].as_i64().unwrap();
    assert_eq!(count(&after), count(&before) + 1, "the new organisation is counted at once");
    let (_, recomputed) = statements_of(&app, METRICS_PAGE, json!({ "first": 50 })).await;
    assert!(recomputed >= page_cached + 4, "after a change the page is computed again");
}

#[tokio::test]
async fn compare_is_a_region_by_period_matrix_and_checks_its_arguments() {
    let app = TestApp::spawn_synthetic().await;
    let body = app
        .post(
            r#"{ compare(regions: ["reg-se-ostergotland", "reg-no-nordland"], asOf: "2021-06-01",
                 periods: [{from: "2015-01-01", to: "2017-12-31"}, {from: "2018-01-01", to: "2020-12-31"}]) {
                 region { slug } cells { period { from to } metrics { activeProjects } } } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let rows = body["data"]["compare"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["region"]["slug"], "reg-no-nordland");
    assert_eq!(rows[0]["cells"][1]["period"]["from"], "2018-01-01");
    // Each cell equals the region's own metrics for that period.
    let single = app
        .post(
            r#"{ region(slug: "reg-no-nordland") { metrics(period: {from: "2018-01-01", to: "2020-12-31"}, asOf: "2021-06-01") { activeProjects } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(rows[1]["cells"][1]["metrics"]["activeProjects"], single["data"]["region"]["metrics"]["activeProjects"]);
    assert_eq!(
        app.error_code(r#"{ compare(regions: ["nowhere"], periods: [{}]) { region { slug } } }"#).await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.error_code(r#"{ compare(regions: ["reg-se-ostergotland"], periods: [{from: "2020-01-01", to: "2019-01-01"}]) { region { slug } } }"#)
            .await,
        "BAD_USER_INPUT"
    );
}
