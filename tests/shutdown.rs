//! The server binary stops cleanly on SIGTERM (what systemd, Kubernetes and `kill` send), as on
//! Ctrl-C: it finishes what is in flight and exits with 0 instead of being killed by the signal.
//! Its own test binary: it starts the real executable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_samverka"))
        .args(["serve", "--listen", "127.0.0.1:0", "--sqlite-path"])
        .arg(dir.path().join("demo.db"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("SAMVERKA_JWT_SECRET", "shutdown-test-secret-0123456789abcdef")
        .env_remove("DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Serving once it logs its port (after migrating and loading the demo).
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let serving = log.by_ref().map_while(Result::ok).find(|line| line.contains("serving GraphQL"));
    assert!(serving.is_some(), "the server never said it was serving");
    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    let exit = server.wait().unwrap();
    assert!(exit.success(), "exit after SIGTERM: {exit:?}; log: {rest:?}");
    assert!(rest.iter().any(|line| line.contains("SIGTERM")), "{rest:?}");
}
