//! Subscriptions over a real WebSocket against the real server: both protocols, the feed across
//! two instances on one database, resume with `after`, commits that race, and the guards.

use std::time::Duration;

use samverka::auth::Role;
use samverka::cli::ServeArgs;
use samverka::db::events::{self, Change, Operation};
use samverka::db::write;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::ws_client::{Event, Protocol, WsClient};

const CHANGES: &str = r#"subscription($filter: RegistryChangeFilter, $after: String) {
    registryChanged(filter: $filter, after: $after) { cursor entity slug operation version time } }"#;

/// Creates organisation `slug` (seated in Rana, Nordland) through `app` as an editor.
async fn create_organisation(app: &TestApp, slug: &str) {
    let body = app
        .post_role(
            Role::Editor,
            &format!(
                r#"mutation {{ createOrganisation(input: {{slug: "{slug}", name: "{slug} AS", kind: COMPANY,
                   country: "NO", municipality: "mun-no-rana"}}) {{ slug }} }}"#
            ),
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
}

fn organisations_only() -> Value {
    json!({ "filter": { "entities": ["organisations"] } })
}

#[tokio::test]
async fn a_committed_change_reaches_subscribers_in_both_protocols() {
    let app = TestApp::spawn().await;
    for protocol in Protocol::BOTH {
        let mut client = WsClient::connect(&app.base, protocol, None).await;
        // Subscriptions start asynchronously: from the last cursor, nothing committed after
        // subscribing can fall before their start.
        let mut variables = organisations_only();
        variables["after"] = json!(app.last_cursor().await);
        client.subscribe("1", CHANGES, variables).await;
        let slug = format!("org-live-{protocol:?}").to_lowercase();
        create_organisation(&app, &slug).await;
        let change = client.data("1").await;
        let change = &change["registryChanged"];
        assert_eq!(change["entity"], "organisations");
        assert_eq!(change["slug"], slug.as_str());
        assert_eq!(change["operation"], "create");
        assert_eq!(change["version"], 1);
        assert!(change["cursor"].as_str().unwrap().parse::<i64>().unwrap() > 0);
        client.close().await;
    }
}

/// `--feed-database-url` (for a database URL through a transaction-mode pooler, which passes
/// no `LISTEN`): the feed listens and reads there, and changes still arrive. On PostgreSQL the
/// feed's URL carries an `application_name`, and the `LISTEN` is seen on that session.
#[tokio::test]
async fn the_feed_listens_on_its_own_url_when_given_one() {
    let app = TestApp::spawn_with_url(|url| {
        let feed = if url.starts_with("postgres") {
            format!("{url}{}application_name=samverka-feed-test", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_owned()
        };
        ServeArgs { feed_database_url: Some(feed), ..ServeArgs::default() }
    })
    .await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    let mut variables = organisations_only();
    variables["after"] = json!(app.last_cursor().await);
    client.subscribe("1", CHANGES, variables).await;
    create_organisation(&app, "org-feed-url").await;
    assert_eq!(client.data("1").await["registryChanged"]["slug"], "org-feed-url");
    if app.db.backend() == sea_orm::DatabaseBackend::Postgres {
        let row = app
            .db
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'samverka-feed-test' AND query ILIKE 'LISTEN%'",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1, "the feed's LISTEN runs on the feed URL's session");
    }
    client.close().await;
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_a_subscriber_of_another() {
    let a = TestApp::spawn().await;
    // On PostgreSQL the NOTIFY must carry it (the poll is made too slow to); SQLite has no
    // notifications across processes, so there the poll is what a second process relies on.
    let postgres = a.db.backend() == sea_orm::DatabaseBackend::Postgres;
    let poll_ms = if postgres { 600_000 } else { 200 };
    let b = a.spawn_instance(ServeArgs { feed_poll_ms: poll_ms, ..ServeArgs::default() }).await;
    let mut on_b = WsClient::connect(&b.base, Protocol::TransportWs, None).await;
    let mut variables = organisations_only();
    variables["after"] = json!(a.last_cursor().await);
    on_b.subscribe("b", CHANGES, variables).await;
    for i in 0..3 {
        create_organisation(&a, &format!("org-from-a-{i}")).await;
    }
    for i in 0..3 {
        let change = on_b.data("b").await;
        assert_eq!(change["registryChanged"]["slug"], format!("org-from-a-{i}"));
    }
    on_b.close().await;
    drop(b);
}

#[tokio::test]
async fn resuming_after_a_disconnect_replays_exactly_the_missed_changes_in_order() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    let mut variables = organisations_only();
    variables["after"] = json!(app.last_cursor().await);
    client.subscribe("1", CHANGES, variables).await;
    create_organisation(&app, "org-before").await;
    let seen = client.data("1").await;
    let cursor = seen["registryChanged"]["cursor"].as_str().unwrap().to_owned();
    client.close().await;

    // While nobody listens: 100 organisations, and noise the filter must drop.
    for i in 0..100 {
        create_organisation(&app, &format!("org-missed-{i:03}")).await;
        if i % 25 == 0 {
            let body = app
                .post_role(
                    Role::Editor,
                    &format!(r#"mutation {{ createSource(input: {{key: "src-noise-{i}", kind: "report", title: "Noise"}}) {{ key }} }}"#),
                    json!({}),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body:#}");
        }
    }

    let mut client = WsClient::connect(&app.base, Protocol::LegacyWs, None).await;
    let mut variables = organisations_only();
    variables["after"] = json!(cursor);
    client.subscribe("2", CHANGES, variables).await;
    let mut cursors = Vec::new();
    for i in 0..100 {
        let change = client.data("2").await;
        assert_eq!(change["registryChanged"]["slug"], format!("org-missed-{i:03}"), "change {i}");
        cursors.push(change["registryChanged"]["cursor"].as_str().unwrap().parse::<i64>().unwrap());
    }
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "in commit order");
    // Then live, with nothing repeated at the seam.
    create_organisation(&app, "org-after").await;
    let change = client.data("2").await;
    assert_eq!(change["registryChanged"]["slug"], "org-after");
    // Nothing more: a duplicate or a stray event would come before the next change.
    create_organisation(&app, "org-sentinel").await;
    assert_eq!(client.data("2").await["registryChanged"]["slug"], "org-sentinel", "no duplicate, no stray event");
}

#[tokio::test]
async fn a_transaction_that_commits_late_is_not_skipped() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    let after = app.last_cursor().await;
    client.subscribe("1", CHANGES, json!({ "filter": { "entities": ["test_rows"] }, "after": after })).await;

    let change = |id: i32| Change {
        entity: "test_rows",
        entity_id: id,
        slug: Some(format!("row-{id}")),
        operation: Operation::Create,
        version: 1,
        data: None,
        previous: None,
    };
    // T1 draws its sequence number first and keeps its transaction open.
    let (_turn, first) = write::begin(&app.db).await.unwrap();
    let first_event = events::record(&first, "test", change(1)).await.unwrap();
    // T2 starts later and wants to commit first: it must wait for T1, since a reader that saw
    // T2's (higher) number first could never go back for T1's. It writes through its own pool,
    // as another instance would (this process's writers already queue before the database).
    let other_instance = samverka::db::Db::connect(&app.db.url, 2).await.unwrap();
    let (started, has_started) = tokio::sync::oneshot::channel();
    let second = tokio::spawn(async move {
        started.send(()).ok();
        let (_turn, tx) = write::begin(&other_instance).await.unwrap();
        let event = events::record(&tx, "test", change(2)).await.unwrap();
        tx.commit().await.unwrap();
        event
    });
    has_started.await.unwrap();
    if app.db.backend() == sea_orm::DatabaseBackend::Postgres {
        // Wait for the event itself: the second writer's backend blocked on the writers' lock.
        let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity \
                       WHERE datname = current_database() AND wait_event_type = 'Lock'";
        let mut polls = 0;
        loop {
            let statement = sea_orm::Statement::from_string(app.db.backend(), waiting);
            let row = app.db.conn.query_one_raw(statement).await.unwrap().unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                break;
            }
            polls += 1;
            assert!(polls < 100_000, "the second writer never blocked on the lock");
        }
    }
    // (On SQLite the wait is inside SQLite's BEGIN IMMEDIATE, which shows no state to poll; the
    // second writer has started and cannot finish while the first holds the write lock.)
    assert!(!second.is_finished(), "the later transaction waits while the earlier one is open");
    first.commit().await.unwrap();
    app.db.commits.committed();
    let second_event = second.await.unwrap();
    app.db.commits.committed();
    assert!(first_event.seq < second_event.seq);

    let a = client.data("1").await;
    let b = client.data("1").await;
    assert_eq!(a["registryChanged"]["slug"], "row-1");
    assert_eq!(b["registryChanged"]["slug"], "row-2");
}

#[tokio::test]
async fn metrics_changed_sends_current_metrics_then_coalesced_updates() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    let query =
        r#"subscription { metricsChanged(regionSlug: "reg-no-nordland") { cursor metrics { organisations } } }"#;
    client.subscribe("m", query, json!({})).await;
    let first = client.data("m").await;
    let start = first["metricsChanged"]["metrics"]["organisations"].as_i64().unwrap();

    // A change elsewhere (a source) does not touch Nordland: no message for it.
    let body = app
        .post_role(
            Role::Editor,
            r#"mutation { createSource(input: {key: "src-elsewhere", kind: "report", title: "E"}) { key } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    // A change in Nordland: its update is the next message (an update for the unrelated change
    // would come first, with the old figure).
    create_organisation(&app, "org-nordland-first").await;
    let organisations =
        |update: &serde_json::Value| update["metricsChanged"]["metrics"]["organisations"].as_i64().unwrap();
    assert_eq!(organisations(&client.data("m").await), start + 1, "an unrelated change sends nothing");

    // Five quick changes in Nordland: updates are debounced, and the last one is current.
    for i in 0..5 {
        create_organisation(&app, &format!("org-nordland-{i}")).await;
    }
    let mut updates = 0;
    while organisations(&client.data("m").await) != start + 6 {
        updates += 1;
    }
    updates += 1;
    // An update may already include changes whose events arrive after it; the update those
    // events trigger then repeats the same figures. Nothing stale follows the current ones: up to
    // the next change's update (the sentinel), every message has the current figure.
    create_organisation(&app, "org-nordland-sentinel").await;
    loop {
        let figure = organisations(&client.data("m").await);
        if figure == start + 7 {
            break;
        }
        assert_eq!(figure, start + 6, "nothing stale after the current figures");
        updates += 1;
    }
    println!("metricsChanged: {updates} update(s) for 5 changes");
    assert!(updates <= 6, "coalesced: at most one per change and one more");
}

#[tokio::test]
async fn project_changed_sends_the_project_with_its_goals_after_a_change() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.base, Protocol::LegacyWs, None).await;
    let query = r#"subscription { projectChanged(slug: "proj-kkig") { slug version goals { slug } partners { organisation { slug } } } }"#;
    client.subscribe("p", query, json!({})).await;
    let first = client.data("p").await;
    let goals = first["projectChanged"]["goals"].as_array().unwrap().len();
    assert!(!first["projectChanged"]["partners"].as_array().unwrap().is_empty());
    let body = app
        .post_role(
            Role::Editor,
            r#"mutation { createGoal(input: {slug: "goal-live", project: "proj-kkig", kind: RESULT, kindLabel: "Resultatmål",
                text: "Live goal"}) { slug } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let after = client.data("p").await;
    assert_eq!(after["projectChanged"]["goals"].as_array().unwrap().len(), goals + 1);

    // A burst of changes is coalesced like metrics: the last message is current.
    for i in 0..5 {
        let body = app
            .post_role(
                Role::Editor,
                &format!(
                    r#"mutation {{ createGoal(input: {{slug: "goal-burst-{i}", project: "proj-kkig", kind: RESULT,
                       kindLabel: "Resultatmål", text: "Burst {i}"}}) {{ slug }} }}"#
                ),
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    // One more goal is the sentinel: read until it shows. The figures never go back, and the
    // six changes send at most six messages.
    let body = app
        .post_role(
            Role::Editor,
            r#"mutation { createGoal(input: {slug: "goal-sentinel", project: "proj-kkig", kind: RESULT,
                kindLabel: "Resultatmål", text: "Sentinel"}) { slug } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let mut seen = Vec::new();
    loop {
        let count = client.data("p").await["projectChanged"]["goals"].as_array().unwrap().len();
        assert!(seen.last().is_none_or(|last| *last <= count), "figures went back: {seen:?} then {count}");
        seen.push(count);
        if count == goals + 7 {
            break;
        }
    }
    println!("projectChanged: {} message(s) for 6 changes: {seen:?}", seen.len());
    assert!(seen.len() <= 6, "coalesced: {seen:?}");
}

#[tokio::test]
async fn a_row_that_moves_away_reaches_subscribers_of_where_it_was() {
    let app = TestApp::spawn().await;
    create_organisation(&app, "org-moving").await;
    let mut client = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    client
        .subscribe(
            "m",
            r#"subscription { metricsChanged(regionSlug: "reg-no-nordland") { cursor metrics { organisations } } }"#,
            json!({}),
        )
        .await;
    let first = client.data("m").await;
    let start = first["metricsChanged"]["metrics"]["organisations"].as_i64().unwrap();
    // From the metrics' cursor, so the change below cannot slip in before this one starts.
    let mut changes = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    let filter = json!({ "filter": { "regionSlug": "reg-no-nordland" }, "after": first["metricsChanged"]["cursor"] });
    changes.subscribe("r", CHANGES, filter).await;

    // From Rana (Nordland) to Porsgrunn (Telemark): after the change nothing links the row to
    // Nordland, only the row as it was does.
    let body = app
        .post_role(
            Role::Editor,
            r#"mutation { updateOrganisation(slug: "org-moving", expectedVersion: 1, input: {slug: "org-moving", name: "org-moving AS",
               kind: COMPANY, country: "NO", municipality: "mun-no-porsgrunn"}) { version } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let change = changes.data("r").await;
    assert_eq!(change["registryChanged"]["slug"], "org-moving");
    assert_eq!(change["registryChanged"]["operation"], "update");
    let update = client.data("m").await;
    assert_eq!(update["metricsChanged"]["metrics"]["organisations"], start - 1, "{update}");
}

#[tokio::test]
async fn guards_on_subscriptions() {
    let args = ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        ws_init_timeout_secs: 1,
        ws_keepalive_secs: 1,
        ws_max_subscriptions: 2,
        ..ServeArgs::default()
    };
    let app = TestApp::spawn_with(args).await;

    // No connection_init in time: closed with 4408, in both protocols.
    for protocol in Protocol::BOTH {
        let mut silent = WsClient::open(&app.base, protocol).await;
        assert_eq!(silent.close_code().await, Some(4408), "{protocol:?}");
    }

    // A bad token in connection_init is refused with graphql-transport-ws's Forbidden.
    let mut bad = WsClient::open(&app.base, Protocol::TransportWs).await;
    bad.send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } })).await;
    assert_eq!(bad.close_code().await, Some(4403));

    // Keep-alives arrive while connected (ping, or ka in the legacy protocol), and nothing else.
    for protocol in Protocol::BOTH {
        let mut client = WsClient::connect(&app.base, protocol, None).await;
        client.next_keepalive().await;
        client.close().await;
    }

    // Student changes are for analysts and up.
    let mut public = WsClient::connect(&app.base, Protocol::TransportWs, None).await;
    public.subscribe("s", CHANGES, json!({ "filter": { "entities": ["students"] } })).await;
    assert_eq!(public.error_code("s").await, "FORBIDDEN");
    assert!(matches!(public.event("s").await, Event::Complete));
    let analyst_token = app.token(Role::Analyst);
    let mut analyst = WsClient::connect(&app.base, Protocol::TransportWs, Some(&analyst_token)).await;
    analyst.subscribe("s", CHANGES, json!({ "filter": { "entities": ["students"] } })).await;

    // At most two subscriptions per socket; a stopped one frees its slot. A change to an
    // organisation is the sentinel: had "s" been refused, its error would come before the
    // change reaches "t" (and "s", filtered to students, never sees it).
    analyst.subscribe("t", CHANGES, json!({ "after": app.last_cursor().await })).await;
    create_organisation(&app, "org-guard-sentinel-1").await;
    assert_eq!(analyst.data("t").await["registryChanged"]["slug"], "org-guard-sentinel-1", "both accepted");
    analyst.subscribe("u", CHANGES, json!({})).await;
    assert_eq!(analyst.error_code("u").await, "TOO_MANY_SUBSCRIPTIONS");
    assert!(matches!(analyst.event("u").await, Event::Complete));
    analyst.stop("t").await;
    assert!(matches!(analyst.event("t").await, Event::Complete));
    analyst.subscribe("v", CHANGES, json!({ "after": app.last_cursor().await })).await;
    create_organisation(&app, "org-guard-sentinel-2").await;
    assert_eq!(analyst.data("v").await["registryChanged"]["slug"], "org-guard-sentinel-2", "the freed slot is usable");

    // Unknown cursors and regions are the caller's mistake.
    public.subscribe("c", CHANGES, json!({ "after": "yesterday" })).await;
    assert_eq!(public.error_code("c").await, "BAD_USER_INPUT");
    assert!(matches!(public.event("c").await, Event::Complete));
    public.subscribe("r", CHANGES, json!({ "filter": { "regionSlug": "reg-nowhere" } })).await;
    assert_eq!(public.error_code("r").await, "NOT_FOUND");

    // A token that expires ends the subscriptions it opened.
    let short = app.auth.issue("test-short", Role::Analyst, Duration::from_secs(2)).unwrap();
    let mut expiring = WsClient::connect(&app.base, Protocol::LegacyWs, Some(&short)).await;
    expiring.subscribe("e", CHANGES, json!({})).await;
    assert_eq!(expiring.error_code("e").await, "UNAUTHENTICATED");
    assert!(matches!(expiring.event("e").await, Event::Complete));
    // Nor does the socket run anything else for the expired token (a query or a mutation).
    expiring.subscribe("q", "{ regions(first: 1) { nodes { slug } } }", json!({})).await;
    assert_eq!(expiring.error_code("q").await, "UNAUTHENTICATED");
}
