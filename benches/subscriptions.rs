//! Subscription fan-out benchmark (issue 6): N subscribers spread over two server instances on
//! one PostgreSQL, mutations at a fixed rate through the first instance; prints delivered /
//! expected, duplicates, commit-to-delivery latency p50/p99 and each instance's RSS.
//!
//! `cargo bench --bench subscriptions -- [--subscribers 1000] [--rate 50] [--seconds 60]
//!  [--database-url postgres://postgres@127.0.0.1:5432]`
//!
//! Quicker when a release server exists: `cargo build --release`, then
//! `SAMVERKA_BIN=$CARGO_TARGET_DIR/release/samverka cargo bench --profile dev --bench subscriptions`
//! (the client then reuses the test build's dependencies).
//!
//! Latency is measured from the change event's `time` (taken inside the writing transaction,
//! just before its commit) to the moment a subscriber reads the message: commit, NOTIFY, the
//! instance's read of the outbox, fan-out and the socket. Client and servers share one clock.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use samverka::auth::{Authenticator, KeySource, Role};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const SECRET: &str = "samverka-bench-secret-0123456789abcdef";
const DATABASE: &str = "samverka_bench_ws";

struct Options {
    subscribers: usize,
    rate: u32,
    seconds: u64,
    admin_url: String,
}

fn options() -> Options {
    let mut options = Options {
        subscribers: 1000,
        rate: 50,
        seconds: 60,
        admin_url: std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--subscribers" => options.subscribers = value().parse().expect("--subscribers N"),
            "--rate" => options.rate = value().parse().expect("--rate N (mutations per second)"),
            "--seconds" => options.seconds = value().parse().expect("--seconds N"),
            "--database-url" => options.admin_url = value(),
            "--bench" => {}
            "--help" | "-h" => {
                println!(
                    "cargo bench --bench subscriptions -- [--subscribers N] [--rate N] [--seconds N] [--database-url URL]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other} (try --help)"),
        }
    }
    options
}

/// A server process; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    }
}

async fn start_server(url: &str, port: u16, demo: bool) -> Server {
    // SAMVERKA_BIN: a release server built separately, so this client can be built in any profile.
    let binary = std::env::var("SAMVERKA_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_samverka").to_owned());
    let mut command = Command::new(binary);
    command
        .env("DATABASE_URL", url)
        .env("SAMVERKA_JWT_SECRET", SECRET)
        .env("SAMVERKA_RATE_LIMIT", "0")
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--ws-max-subscriptions", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if !demo {
        command.arg("--no-demo");
    }
    let child = command.spawn().expect("start the server");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server on port {port} did not become ready");
}

fn psql(admin_url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([&format!("{admin_url}/postgres"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .expect("psql");
    assert!(status.success(), "psql failed: {sql}");
}

#[derive(Default)]
struct Tally {
    received: u64,
    duplicates: u64,
    latencies_ms: Vec<f64>,
}

/// One subscriber: connect, subscribe to organisation changes, count until told to stop.
async fn subscriber(
    base: String,
    tally: Arc<Mutex<Tally>>,
    ready: tokio::sync::mpsc::Sender<()>,
    done: Arc<AtomicBool>,
) {
    let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    socket.send(Message::text(json!({"type": "connection_init", "payload": {}}).to_string())).await.unwrap();
    socket
        .send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query":
                "subscription { registryChanged(filter: {entities: [\"organisations\"]}) { cursor time } }"}})
            .to_string(),
        ))
        .await
        .unwrap();
    let mut seen = HashSet::new();
    let mut local = Tally::default();
    let mut announced = false;
    while !done.load(Ordering::Relaxed) {
        let message = match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(message))) => message,
            Ok(_) => break,
        };
        let Message::Text(text) = message else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str() {
            Some("connection_ack") if !announced => {
                announced = true;
                let _ = ready.send(()).await;
            }
            Some("ping") => {
                let _ = socket.send(Message::text(r#"{"type":"pong"}"#)).await;
            }
            Some("next") => {
                let change = &value["payload"]["data"]["registryChanged"];
                let cursor = change["cursor"].as_str().unwrap_or_default().to_owned();
                let time = change["time"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                if let Some(time) = time {
                    let delay = chrono::Utc::now().signed_duration_since(time);
                    local.latencies_ms.push(delay.num_microseconds().unwrap_or(0) as f64 / 1000.0);
                }
                if seen.insert(cursor) {
                    local.received += 1;
                } else {
                    local.duplicates += 1;
                }
            }
            _ => {}
        }
    }
    let mut tally = tally.lock().await;
    tally.received += local.received;
    tally.duplicates += local.duplicates;
    tally.latencies_ms.extend(local.latencies_ms);
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let options = options();
    let url = format!("{}/{DATABASE}", options.admin_url);
    println!(
        "subscriptions bench: {} subscribers over 2 instances, {} mutations/s for {} s through instance A, database {url}",
        options.subscribers, options.rate, options.seconds
    );
    psql(&options.admin_url, &format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"));
    psql(&options.admin_url, &format!("CREATE DATABASE {DATABASE}"));
    let a = start_server(&url, 18181, true).await;
    let b = start_server(&url, 18182, false).await;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(options.subscribers);
    // Subscribers listen until every mutation has been answered and a drain time has passed.
    let done = Arc::new(AtomicBool::new(false));
    let connect_start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..options.subscribers {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        tasks.push(tokio::spawn(subscriber(base, tally.clone(), ready_tx.clone(), done.clone())));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..options.subscribers {
        ready_rx.recv().await.expect("a subscriber failed to connect");
    }
    // Subscriptions start right after the ack; give them a moment to be registered.
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("{} subscribers connected in {:.1} s", options.subscribers, connect_start.elapsed().as_secs_f64());

    let auth = Authenticator::new(&KeySource::Secret(SECRET.as_bytes().to_vec()), "samverka").unwrap();
    let token = auth.issue("bench-editor", Role::Editor, Duration::from_secs(3600)).unwrap();
    let client = reqwest::Client::new();
    let total = options.rate as u64 * options.seconds;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(options.rate)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    // Each mutation is sent on its tick without waiting for the one before, so the rate holds
    // even when a write takes longer than the interval.
    let mut sends = Vec::with_capacity(total as usize);
    for i in 0..total {
        interval.tick().await;
        let query = format!(
            r#"mutation {{ createOrganisation(input: {{slug: "org-bench-{i:06}", name: "Bench {i}", kind: COMPANY, country: "NO"}}) {{ slug }} }}"#
        );
        let request = client.post(format!("{}/graphql", a.base)).bearer_auth(&token).json(&json!({ "query": query }));
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = match request.send().await {
                Ok(r) if r.status().is_success() => {
                    let body: Value = r.json().await.unwrap_or_default();
                    if let Some(errors) = body.get("errors") {
                        eprintln!("mutation failed: {errors}");
                    }
                    body.get("errors").is_none()
                }
                Ok(r) => {
                    eprintln!("mutation failed: HTTP {}", r.status());
                    false
                }
                Err(error) => {
                    eprintln!("mutation failed: {error}");
                    false
                }
            };
            (ok, sent.elapsed().as_secs_f64() * 1000.0)
        }));
        if i % (u64::from(options.rate) * 10) == 0 && i > 0 {
            println!("  {i}/{total} mutations sent, {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    let mut failed = 0;
    let mut mutation_ms = Vec::with_capacity(sends.len());
    for send in sends {
        let (ok, ms) = send.await.unwrap_or((false, f64::NAN));
        if !ok {
            failed += 1;
        }
        mutation_ms.push(ms);
    }
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    mutation_ms.sort_by(f64::total_cmp);
    println!("{total} mutations answered ({failed} failed), {achieved:.1}/s overall; draining");
    println!(
        "mutation response time: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&mutation_ms, 50.0),
        percentile(&mutation_ms, 99.0),
        mutation_ms.last().copied().unwrap_or(f64::NAN)
    );
    let rss_a = a.rss_mb();
    let rss_b = b.rss_mb();
    tokio::time::sleep(Duration::from_secs(10)).await;
    done.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let tally = tally.lock().await;
    let expected = (total - failed) * options.subscribers as u64;
    let mut latencies = tally.latencies_ms.clone();
    latencies.sort_by(f64::total_cmp);
    println!();
    println!(
        "delivered/expected: {}/{} ({:.3} %)",
        tally.received,
        expected,
        100.0 * tally.received as f64 / expected as f64
    );
    println!("duplicates: {}", tally.duplicates);
    println!(
        "commit-to-delivery latency (from the event's write time): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!("RSS after the run: instance A {rss_a} MB, instance B {rss_b} MB");
}
