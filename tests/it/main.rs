//! The one integration-test binary: every test starts the real server on port 0 over a fresh
//! database (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` says so) and talks HTTP.

mod support;

mod api_errors;
mod ground_truth;
mod import;
mod n_plus_one;
mod pagination;
mod schema;
