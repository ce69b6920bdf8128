//! The one integration-test binary: every test starts the real server on port 0 over a fresh
//! database (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` says so) and talks HTTP.

// Tests may panic on unexpected failures (that is how they fail) and print their measurements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

mod access;
mod analytics;
mod api_errors;
mod compiled;
mod facts;
mod field_order;
mod filters;
mod ground_truth;
mod import;
mod importers;
mod mutations;
mod n_plus_one;
mod network;
mod pages;
mod pagination;
mod real_map;
mod replica;
mod schema;
mod subscriptions;
mod ws_client;
