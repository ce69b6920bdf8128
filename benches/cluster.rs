//! Faults and a soak against a running `deploy/local-cluster` (issue 20): writes at a fixed rate
//! and hundreds of subscribers through the balancer while an instance is killed, the primary
//! restarted, the replica stopped or PgBouncer restarted; then a long mixed load. Prints what
//! was committed, delivered, refused and lost, and exits non-zero when anything was lost.
//!
//! ```text
//! deploy/local-cluster start --fresh --bin $CARGO_TARGET_DIR/release/samverka
//! cargo bench --bench cluster -- faults [--subscribers 300] [--rate 50] [--only kill-instance,…]
//! cargo bench --bench cluster -- soak [--minutes 10] [--concurrency 32] [--rate 10] [--subscribers 300]
//! ```
//!
//! What counts:
//! - committed: the organisations this run created that the primary holds afterwards (read
//!   with psql, not from the responses);
//! - every write answered OK must be committed; a write answered with an error may or may not
//!   be (an instance killed mid-commit), but then it must be delivered like any other;
//! - every subscriber must receive each committed change exactly once, across reconnects
//!   through the balancer that resume with `after` (the last cursor it saw);
//! - refusals are counted by code; `INTERNAL` is a failure, and so is a read that fails twice
//!   in a row (each read is retried once, as a client would).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use samverka::auth::{Authenticator, KeySource, Role};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const SCENARIOS: &[&str] = &["kill-instance", "restart-primary", "stop-replica", "restart-pgbouncer"];

struct Options {
    mode: String,
    subscribers: usize,
    rate: u32,
    only: Vec<String>,
    minutes: u64,
    concurrency: usize,
    dir: Option<String>,
    phase_seconds: u64,
}

fn options() -> Options {
    let mut options = Options {
        mode: String::new(),
        subscribers: 300,
        rate: 0,
        only: SCENARIOS.iter().map(|s| (*s).to_owned()).collect(),
        minutes: 10,
        concurrency: 32,
        dir: None,
        phase_seconds: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&format!("{arg} needs a value")));
        match arg.as_str() {
            "faults" | "soak" => options.mode = arg.clone(),
            "--subscribers" => options.subscribers = value().parse().unwrap_or_else(|_| usage("--subscribers N")),
            "--rate" => options.rate = value().parse().unwrap_or_else(|_| usage("--rate N (writes per second)")),
            "--only" => {
                options.only = value().split(',').map(str::to_owned).collect();
                if let Some(bad) = options.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    usage(&format!("unknown scenario {bad}"));
                }
            }
            "--minutes" => options.minutes = value().parse().unwrap_or_else(|_| usage("--minutes N")),
            "--concurrency" => options.concurrency = value().parse().unwrap_or_else(|_| usage("--concurrency N")),
            "--phase-seconds" => options.phase_seconds = value().parse().unwrap_or_else(|_| usage("--phase-seconds N")),
            "--dir" => options.dir = Some(value()),
            "--bench" => {}
            "--help" | "-h" => {
                println!("{}", HELP);
                std::process::exit(0);
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if options.mode.is_empty() {
        usage("say `faults` or `soak`");
    }
    if options.rate == 0 {
        options.rate = if options.mode == "soak" { 10 } else { 50 };
    }
    options
}

const HELP: &str =
    "cargo bench --bench cluster -- faults|soak [options]   (a cluster from deploy/local-cluster must run)

faults   for each scenario: load (writes at --rate through the balancer, --subscribers WebSocket
         subscribers spread over the instances by the balancer, 4 readers), --phase-seconds of
         load, the fault, --phase-seconds, the repair, --phase-seconds, then a drain; counts what
         was committed, delivered, refused and lost
           kill-instance      kill -9 instance s2, later start it again
           restart-primary    fast-stop the primary, 5 s down, start it
           stop-replica       fast-stop the replica, later start it
           restart-pgbouncer  stop PgBouncer, 5 s down, start it
soak     --minutes of --concurrency readers (the bench's queries), writes at --rate and the
         subscribers; each instance's RSS and the open connections every 30 s

Options:
  --subscribers N      (default 300)
  --rate N             writes per second (default 50 for faults, 10 for soak)
  --only a,b           faults: these scenarios only
  --phase-seconds N    faults: length of each phase (default 10)
  --minutes N          soak: length (default 10)
  --concurrency N      soak: readers (default 32)
  --dir DIR            the cluster's directory (default: deploy/local-cluster's)
Exit status: 0 when nothing was lost, 1 otherwise.";

fn usage(problem: &str) -> ! {
    eprintln!("{problem}\n\n{HELP}");
    std::process::exit(2);
}

/// The running cluster, as `deploy/local-cluster env` and its state directory describe it.
struct Cluster {
    script: PathBuf,
    dir: Option<String>,
    balancer: String,
    primary_url: String,
    replica_url: String,
    secret: String,
    state_dir: PathBuf,
    instances: usize,
}

impl Cluster {
    fn find(dir: Option<String>) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/local-cluster");
        let mut command = Command::new(&script);
        command.arg("env");
        if let Some(dir) = &dir {
            command.args(["--dir", dir]);
        }
        let output = command.output().expect("run deploy/local-cluster env");
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            eprintln!("no cluster runs: start one with deploy/local-cluster start");
            std::process::exit(2);
        }
        let vars: HashMap<String, String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let state_dir = PathBuf::from(
            dir.clone()
                .or_else(|| std::env::var("SAMVERKA_CLUSTER_DIR").ok())
                .unwrap_or_else(|| "/var/tmp/samverka-cluster".into()),
        );
        let saved = std::fs::read_to_string(state_dir.join("cluster.env")).expect("the cluster's cluster.env");
        let instances = saved
            .lines()
            .find_map(|line| line.strip_prefix("INSTANCES="))
            .and_then(|n| n.trim().parse().ok())
            .expect("INSTANCES in cluster.env");
        Self {
            script,
            dir,
            balancer: vars["SAMVERKA_CLUSTER_URL"].clone(),
            primary_url: vars["SAMVERKA_PRIMARY_URL"].clone(),
            replica_url: vars["SAMVERKA_REPLICA_URL"].clone(),
            secret: vars["SAMVERKA_JWT_SECRET"].clone(),
            state_dir,
            instances,
        }
    }

    fn token(&self, role: Role) -> String {
        let auth = Authenticator::new(&KeySource::Secret(self.secret.as_bytes().to_vec()), "samverka").unwrap();
        auth.issue(&format!("cluster-bench-{}", role.as_str()), role, Duration::from_secs(7200)).unwrap()
    }

    /// `deploy/local-cluster fault …`, waited for off the runtime's threads.
    async fn fault(&self, args: &[&str]) {
        let mut command = Command::new(&self.script);
        command.arg("fault").args(args);
        if let Some(dir) = &self.dir {
            command.args(["--dir", dir]);
        }
        let started = Instant::now();
        let status = tokio::task::spawn_blocking(move || command.status()).await.unwrap().expect("run the fault");
        assert!(status.success(), "deploy/local-cluster fault {args:?} failed");
        println!("    fault {} done in {:.1} s", args.join(" "), started.elapsed().as_secs_f64());
    }

    /// Resident memory of instance `i` (1-based), by its PID file; `None` when it does not run.
    fn rss_mb(&self, i: usize) -> Option<f64> {
        let pid = std::fs::read_to_string(self.state_dir.join(format!("run/s{i}.pid"))).ok()?;
        let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).ok()?;
        let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }

    /// One value from the primary, with psql.
    fn psql(&self, sql: &str) -> String {
        psql_at(&self.primary_url, sql).unwrap_or_else(|error| panic!("psql failed: {sql}: {error}"))
    }

    /// Sessions on the primary and on the replica (PostgreSQL's own count, PgBouncer's included;
    /// 0 for one that does not answer).
    fn connections(&self) -> (u64, u64) {
        let sessions = |url: &str| {
            psql_at(url, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                .ok()
                .and_then(|count| count.parse().ok())
                .unwrap_or(0)
        };
        (sessions(&self.primary_url), sessions(&self.replica_url))
    }
}

/// One value from the database at `url`, with psql.
fn psql_at(url: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args([url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Subscribers

#[derive(Default)]
struct Received {
    /// Slugs of the organisations created, in arrival order (duplicates kept).
    slugs: Vec<String>,
    cursors: HashSet<String>,
    duplicates: u64,
    reconnects: u64,
    latencies_ms: Vec<f64>,
}

/// One subscriber: subscribes through the balancer to organisation changes, and on any loss of
/// its socket connects again (through the balancer, so maybe to another instance) and resumes
/// with `after` = the last cursor it saw.
async fn subscriber(
    balancer: String,
    received: Arc<Mutex<Received>>,
    marker_seen: tokio::sync::mpsc::Sender<()>,
    done: Arc<AtomicBool>,
) {
    let url = format!("{}/graphql/ws", balancer.replacen("http://", "ws://", 1));
    let mut last_cursor: Option<String> = None;
    let mut announced = false;
    let mut backoff = Duration::from_millis(50);
    let mut first = true;
    while !done.load(Ordering::Relaxed) {
        if !first {
            received.lock().await.reconnects += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
        first = false;
        let mut request = url.clone().into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let Ok(Ok((mut socket, _))) =
            tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(request)).await
        else {
            continue;
        };
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription ($after: String) { registryChanged(after: $after, filter: {entities: [\"organisations\"]}) { cursor slug time } }",
            "variables": {"after": last_cursor},
        }});
        if socket.send(Message::text(json!({"type": "connection_init", "payload": {}}).to_string())).await.is_err()
            || socket.send(Message::text(subscribe.to_string())).await.is_err()
        {
            continue;
        }
        loop {
            if done.load(Ordering::Relaxed) {
                return;
            }
            let message = match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(message))) => message,
                Ok(_) => break,
            };
            let Message::Text(text) = message else {
                if matches!(message, Message::Close(_)) {
                    break;
                }
                continue;
            };
            let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
            match value["type"].as_str() {
                Some("ping") => {
                    let _ = socket.send(Message::text(r#"{"type":"pong"}"#)).await;
                }
                Some("next") => {
                    backoff = Duration::from_millis(50);
                    let change = &value["payload"]["data"]["registryChanged"];
                    let Some(cursor) = change["cursor"].as_str() else { continue };
                    let slug = change["slug"].as_str().unwrap_or_default().to_owned();
                    last_cursor = Some(cursor.to_owned());
                    let mut received = received.lock().await;
                    if let Some(time) =
                        change["time"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    {
                        let delay = chrono::Utc::now().signed_duration_since(time);
                        received.latencies_ms.push(delay.num_microseconds().unwrap_or(0) as f64 / 1000.0);
                    }
                    if !received.cursors.insert(cursor.to_owned()) {
                        received.duplicates += 1;
                    }
                    if slug.ends_with("-marker") && !announced {
                        announced = true;
                        let _ = marker_seen.send(()).await;
                    }
                    received.slugs.push(slug);
                }
                // The subscription ended (an instance shutting down, an error): subscribe again.
                Some("error" | "complete") => break,
                _ => {}
            }
        }
    }
}

struct Subscribers {
    received: Vec<Arc<Mutex<Received>>>,
    done: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts `n` subscribers and waits until each has received the run's marker write (so each
/// holds a cursor to resume from before the measured writes begin).
async fn subscribe_all(cluster: &Cluster, writer: &Writer, n: usize) -> Subscribers {
    let done = Arc::new(AtomicBool::new(false));
    let (marker_tx, mut marker_rx) = tokio::sync::mpsc::channel(n.max(1));
    let started = Instant::now();
    let mut received = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let slot = Arc::new(Mutex::new(Received::default()));
        received.push(slot.clone());
        tasks.push(tokio::spawn(subscriber(cluster.balancer.clone(), slot, marker_tx.clone(), done.clone())));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Subscriptions are registered just after their `subscribe`; a marker written after every
    // socket is up could still race one. So write markers until every subscriber has seen one.
    let mut seen = 0;
    let mut markers = 0;
    while seen < n {
        writer.write_marker(markers).await;
        markers += 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while seen < n {
            match tokio::time::timeout_at(deadline, marker_rx.recv()).await {
                Ok(Some(())) => seen += 1,
                _ => break,
            }
        }
        assert!(markers < 30, "only {seen}/{n} subscribers received a marker");
    }
    println!("  {n} subscribers connected and current in {:.1} s", started.elapsed().as_secs_f64());
    Subscribers { received, done, tasks }
}

// ---------------------------------------------------------------------------------------------
// Writes

#[derive(Default)]
struct WriteOutcomes {
    ok: Vec<String>,
    /// Refusals by code (`transport` when no GraphQL answer came back).
    refused: BTreeMap<String, Vec<String>>,
    response_ms: Vec<f64>,
}

#[derive(Clone)]
struct Writer {
    client: reqwest::Client,
    balancer: String,
    token: String,
    run: String,
    outcomes: Arc<Mutex<WriteOutcomes>>,
}

impl Writer {
    fn slug(&self, i: u64) -> String {
        format!("org-cl-{}-{i:06}", self.run)
    }

    async fn create(&self, slug: &str) -> Result<(), String> {
        let query = format!(
            r#"mutation {{ createOrganisation(input: {{slug: "{slug}", name: "Cluster bench {slug}", kind: COMPANY, country: "NO"}}) {{ slug }} }}"#
        );
        let sent = self
            .client
            .post(format!("{}/graphql", self.balancer))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30))
            .json(&json!({ "query": query }))
            .send()
            .await;
        let body: Value = match sent {
            Ok(response) => {
                let status = response.status();
                match response.json().await {
                    Ok(body) => body,
                    Err(_) => {
                        println!("    write {slug}: HTTP {status} without a GraphQL body (the balancer's)");
                        return Err("transport".into());
                    }
                }
            }
            Err(error) => {
                println!("    write {slug}: no answer: {error}");
                return Err("transport".into());
            }
        };
        match body.get("errors") {
            None => Ok(()),
            Some(errors) => Err(errors[0]["extensions"]["code"].as_str().unwrap_or("no code").to_owned()),
        }
    }

    async fn write_marker(&self, n: u64) {
        let slug = format!("org-cl-{}-m{n:02}-marker", self.run);
        // Markers are retried: they only set the subscribers' starting point.
        let mut last = String::new();
        for _ in 0..50 {
            match self.create(&slug).await {
                Ok(()) => return,
                Err(code) => last = code,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("could not write the marker {slug}: {last}");
    }

    /// Writes at `rate` per second until `stop`, each on its tick without waiting for the one
    /// before (a slow write does not slow the rate).
    async fn run(self, rate: u32, stop: Arc<AtomicBool>) {
        let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut sends = Vec::new();
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            interval.tick().await;
            let writer = self.clone();
            let slug = self.slug(i);
            i += 1;
            sends.push(tokio::spawn(async move {
                let sent = Instant::now();
                let outcome = writer.create(&slug).await;
                let mut outcomes = writer.outcomes.lock().await;
                outcomes.response_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                match outcome {
                    Ok(()) => outcomes.ok.push(slug),
                    Err(code) => outcomes.refused.entry(code).or_default().push(slug),
                }
            }));
        }
        for send in sends {
            let _ = send.await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

#[derive(Default)]
struct ReadOutcomes {
    ok: AtomicU64,
    /// First attempts that failed (then retried once).
    failed_once: AtomicU64,
    /// Reads that failed again on their retry.
    failed_twice: AtomicU64,
    refusals: std::sync::Mutex<BTreeMap<String, u64>>,
    by_database: std::sync::Mutex<BTreeMap<String, u64>>,
}

/// Readers: each sends the queries in turn, retrying a failed read once.
async fn reader(
    client: reqwest::Client,
    balancer: String,
    token: String,
    bodies: Arc<Vec<Value>>,
    offset: usize,
    outcomes: Arc<ReadOutcomes>,
    stop: Arc<AtomicBool>,
) {
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        let body = &bodies[i % bodies.len()];
        i += 1;
        let mut attempt = 0;
        loop {
            let sent = client
                .post(format!("{balancer}/graphql"))
                .bearer_auth(&token)
                .timeout(Duration::from_secs(60))
                .json(body)
                .send()
                .await;
            let outcome = match sent {
                Ok(response) => {
                    let database = response
                        .headers()
                        .get("x-samverka-database")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    let status = response.status();
                    match response.json::<Value>().await {
                        Ok(value) if status.is_success() && value.get("errors").is_none() => {
                            *outcomes.by_database.lock().unwrap().entry(database).or_default() += 1;
                            Ok(())
                        }
                        Ok(value) => Err(value["errors"][0]["extensions"]["code"]
                            .as_str()
                            .map_or_else(|| format!("HTTP {status}"), str::to_owned)),
                        Err(_) => Err(format!("HTTP {status}")),
                    }
                }
                Err(_) => Err("transport".to_owned()),
            };
            match outcome {
                Ok(()) => {
                    outcomes.ok.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(code) => {
                    *outcomes.refusals.lock().unwrap().entry(code).or_default() += 1;
                    if attempt == 0 {
                        outcomes.failed_once.fetch_add(1, Ordering::Relaxed);
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    outcomes.failed_twice.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

/// The bench's queries that need no values filled in, as request bodies.
fn query_bodies() -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/queries");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    names
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "graphql"))
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            (!text.contains("__")).then(|| json!({ "query": text }))
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

// ---------------------------------------------------------------------------------------------
// Accounting

/// Compares what was committed with what each subscriber received; prints it; true when
/// nothing was lost or repeated.
async fn account(cluster: &Cluster, writer: &Writer, subscribers: &Subscribers, drain: Duration) -> bool {
    let pattern = format!("org-cl-{}-%", writer.run);
    let committed: HashSet<String> = cluster
        .psql(&format!("SELECT slug FROM organisations WHERE slug LIKE '{pattern}' AND slug NOT LIKE '%-marker'"))
        .lines()
        .map(str::to_owned)
        .collect();
    // Wait for the subscribers to catch up (they may be resuming), up to `drain`.
    let deadline = Instant::now() + drain;
    loop {
        let mut behind = 0;
        for slot in &subscribers.received {
            let received = slot.lock().await;
            let got: HashSet<&String> = received.slugs.iter().filter(|s| committed.contains(*s)).collect();
            if got.len() < committed.len() {
                behind += 1;
            }
        }
        if behind == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    subscribers.done.store(true, Ordering::Relaxed);
    let outcomes = writer.outcomes.lock().await;
    let acknowledged_lost: Vec<&String> = outcomes.ok.iter().filter(|slug| !committed.contains(*slug)).collect();
    let refused_total: usize = outcomes.refused.values().map(Vec::len).sum();
    let refused_committed: usize = outcomes.refused.values().flatten().filter(|slug| committed.contains(*slug)).count();
    let mut delivered = 0u64;
    let mut missing = 0u64;
    let mut duplicates = 0u64;
    let mut strangers = 0u64;
    let mut reconnects = 0u64;
    let mut latencies = Vec::new();
    for slot in &subscribers.received {
        let received = slot.lock().await;
        let mut seen = HashSet::new();
        for slug in received.slugs.iter().filter(|s| !s.ends_with("-marker")) {
            if !committed.contains(slug) {
                strangers += 1;
            } else if seen.insert(slug) {
                delivered += 1;
            } else {
                duplicates += 1;
            }
        }
        missing += (committed.len() - seen.len()) as u64;
        duplicates += received.duplicates;
        reconnects += received.reconnects;
        latencies.extend_from_slice(&received.latencies_ms);
    }
    latencies.sort_by(f64::total_cmp);
    let mut response_ms = outcomes.response_ms.clone();
    response_ms.sort_by(f64::total_cmp);
    let expected = committed.len() as u64 * subscribers.received.len() as u64;
    println!(
        "  writes: {} sent, {} answered OK, {} refused {:?}; committed {} ({} of them refused to their client)",
        outcomes.ok.len() + refused_total,
        outcomes.ok.len(),
        refused_total,
        outcomes.refused.iter().map(|(code, slugs)| (code.as_str(), slugs.len())).collect::<BTreeMap<_, _>>(),
        committed.len(),
        refused_committed,
    );
    println!(
        "  write response: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&response_ms, 50.0),
        percentile(&response_ms, 99.0),
        response_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  delivered/expected {delivered}/{expected} (committed × {} subscribers); missing {missing}, duplicates {duplicates}, unknown {strangers}; {reconnects} reconnects",
        subscribers.received.len()
    );
    println!(
        "  commit-to-delivery: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    let internal = outcomes.refused.get("INTERNAL").map_or(0, Vec::len);
    let mut fine = true;
    for (failed, what) in [
        (
            !acknowledged_lost.is_empty(),
            format!("{} writes answered OK are not in the database", acknowledged_lost.len()),
        ),
        (missing > 0, format!("{missing} deliveries missing")),
        (duplicates > 0, format!("{duplicates} deliveries repeated")),
        (internal > 0, format!("{internal} writes refused as INTERNAL")),
    ] {
        if failed {
            println!("  LOST: {what}");
            fine = false;
        }
    }
    fine
}

fn report_reads(reads: &ReadOutcomes) -> bool {
    let refusals = reads.refusals.lock().unwrap().clone();
    let by_database = reads.by_database.lock().unwrap().clone();
    let twice = reads.failed_twice.load(Ordering::Relaxed);
    println!(
        "  reads: {} OK (answered by {by_database:?}), {} failed once then retried, {twice} failed twice; refusals {refusals:?}",
        reads.ok.load(Ordering::Relaxed),
        reads.failed_once.load(Ordering::Relaxed),
    );
    let internal = refusals.get("INTERNAL").copied().unwrap_or(0);
    if twice > 0 || internal > 0 {
        println!("  LOST: {twice} reads failed twice, {internal} refused as INTERNAL");
        return false;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A client that lets idle connections go before HAProxy does (`timeout http-keep-alive 30s`):
/// otherwise a request sent on a connection HAProxy is closing fails in transit, a client-side
/// race the soak once counted as a refused write.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(64).pool_idle_timeout(Duration::from_secs(20)).build().unwrap()
}

fn writer_for(cluster: &Cluster, run: String) -> Writer {
    Writer {
        client: http_client(),
        balancer: cluster.balancer.clone(),
        token: cluster.token(Role::Editor),
        run,
        outcomes: Arc::default(),
    }
}

fn start_readers(
    cluster: &Cluster,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> (Arc<ReadOutcomes>, Vec<tokio::task::JoinHandle<()>>) {
    let bodies = Arc::new(query_bodies());
    let outcomes = Arc::new(ReadOutcomes::default());
    let client = http_client();
    let token = cluster.token(Role::Analyst);
    let tasks = (0..n)
        .map(|i| {
            tokio::spawn(reader(
                client.clone(),
                cluster.balancer.clone(),
                token.clone(),
                bodies.clone(),
                i,
                outcomes.clone(),
                stop.clone(),
            ))
        })
        .collect();
    (outcomes, tasks)
}

async fn fault_scenario(cluster: &Cluster, options: &Options, scenario: &str, run: String) -> bool {
    println!("\n== {scenario}: {} writes/s, {} subscribers, 4 readers ==", options.rate, options.subscribers);
    let writer = writer_for(cluster, run);
    let subscribers = subscribe_all(cluster, &writer, options.subscribers).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, readers) = start_readers(cluster, 4, &stop);
    let writing = tokio::spawn(writer.clone().run(options.rate, stop.clone()));
    let phase = Duration::from_secs(options.phase_seconds);
    tokio::time::sleep(phase).await;
    match scenario {
        "kill-instance" => {
            cluster.fault(&["kill-instance", "2"]).await;
            tokio::time::sleep(phase).await;
            cluster.fault(&["start-instance", "2"]).await;
        }
        "restart-primary" => cluster.fault(&["restart-primary", "--down", "5"]).await,
        "stop-replica" => {
            cluster.fault(&["stop-replica"]).await;
            tokio::time::sleep(phase).await;
            cluster.fault(&["start-replica"]).await;
        }
        "restart-pgbouncer" => cluster.fault(&["restart-pgbouncer", "--down", "5"]).await,
        _ => unreachable!("checked in options()"),
    }
    tokio::time::sleep(phase).await;
    stop.store(true, Ordering::Relaxed);
    let _ = writing.await;
    for task in readers {
        let _ = task.await;
    }
    let delivered = account(cluster, &writer, &subscribers, Duration::from_secs(60)).await;
    let read = report_reads(&reads);
    for task in subscribers.tasks {
        let _ = task.await;
    }
    delivered && read
}

/// One reading of the soak: each instance's RSS (MB) and the sessions on (primary, replica).
struct Sample {
    minute: f64,
    rss: Vec<Option<f64>>,
    sessions: (u64, u64),
}

async fn soak(cluster: &Cluster, options: &Options, run: String) -> bool {
    println!(
        "\n== soak: {} min, {} readers, {} writes/s, {} subscribers, {} instances ==",
        options.minutes, options.concurrency, options.rate, options.subscribers, cluster.instances
    );
    let writer = writer_for(cluster, run);
    let subscribers = subscribe_all(cluster, &writer, options.subscribers).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, readers) = start_readers(cluster, options.concurrency, &stop);
    let writing = tokio::spawn(writer.clone().run(options.rate, stop.clone()));
    let started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut every = tokio::time::interval(Duration::from_secs(30));
    println!(
        "  minute  reads_ok  {}  sessions(primary, replica)",
        (1..=cluster.instances).map(|i| format!("rss_s{i}_MB")).collect::<Vec<_>>().join("  ")
    );
    while started.elapsed() < Duration::from_secs(options.minutes * 60) {
        every.tick().await;
        let minute = started.elapsed().as_secs_f64() / 60.0;
        let rss: Vec<_> = (1..=cluster.instances).map(|i| cluster.rss_mb(i)).collect();
        let connections = cluster.connections();
        println!(
            "  {minute:6.1}  {:8}  {}  {connections:?}",
            reads.ok.load(Ordering::Relaxed),
            rss.iter().map(|r| r.map_or("-".into(), |mb| format!("{mb:11.1}"))).collect::<Vec<_>>().join("  ")
        );
        samples.push(Sample { minute, rss, sessions: connections });
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writing.await;
    for task in readers {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut fine = account(cluster, &writer, &subscribers, Duration::from_secs(60)).await;
    fine &= report_reads(&reads);
    println!("  read throughput: {:.0}/s", reads.ok.load(Ordering::Relaxed) as f64 / elapsed);
    // RSS after warm-up: from the sample nearest minute 2 to the last.
    let warm = samples.iter().min_by(|a, b| (a.minute - 2.0).abs().total_cmp(&(b.minute - 2.0).abs()));
    if let (Some(warm), Some(last)) = (warm, samples.last()) {
        for i in 0..cluster.instances {
            if let (Some(from), Some(to)) = (warm.rss[i], last.rss[i]) {
                let growth = 100.0 * (to - from) / from;
                println!(
                    "  s{}: RSS {from:.1} MB at minute {:.1} → {to:.1} MB at minute {:.1} ({growth:+.1} %)",
                    i + 1,
                    warm.minute,
                    last.minute
                );
                if growth >= 10.0 {
                    println!("  GROWTH: s{} grew {growth:.1} % after warm-up", i + 1);
                    fine = false;
                }
            }
        }
        println!(
            "  sessions: {:?} at minute {:.1} → {:?} at minute {:.1}",
            warm.sessions, warm.minute, last.sessions, last.minute
        );
        if last.sessions.0 > warm.sessions.0 + 2 || last.sessions.1 > warm.sessions.1 + 2 {
            println!("  GROWTH: open sessions grew");
            fine = false;
        }
    }
    for task in subscribers.tasks {
        let _ = task.await;
    }
    fine
}

#[tokio::main]
async fn main() {
    let options = options();
    let cluster = Cluster::find(options.dir.clone());
    let stamp = chrono::Utc::now().format("%H%M%S").to_string();
    println!(
        "cluster bench ({}) through {} with {} instances; {} cores",
        options.mode,
        cluster.balancer,
        cluster.instances,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let fine = if options.mode == "faults" {
        let mut results = Vec::new();
        for (n, scenario) in options.only.iter().enumerate() {
            let run = format!("{stamp}-f{n}");
            results.push((scenario.clone(), fault_scenario(&cluster, &options, scenario, run).await));
        }
        println!();
        for (scenario, ok) in &results {
            println!("{scenario:20} {}", if *ok { "nothing lost" } else { "LOST OR FAILED" });
        }
        results.iter().all(|(_, ok)| *ok)
    } else {
        soak(&cluster, &options, format!("{stamp}-soak")).await
    };
    std::process::exit(if fine { 0 } else { 1 });
}
