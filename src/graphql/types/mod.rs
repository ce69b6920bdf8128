//! GraphQL object types. Each wraps an entity `Model` (never derives GraphQL on it) and resolves
//! relations through the request's DataLoader.

pub mod actors;
pub mod common;
pub mod geography;
pub mod history;
pub mod metrics;
pub mod work;

use crate::graphql::error::bad_input;
use crate::graphql::pagination::MAX_PAGE_SIZE;

/// Validates the `first` argument of a nested list (default 50, at most 500).
pub fn nested_limit(first: i32) -> async_graphql::Result<usize> {
    if first < 0 || first as u64 > MAX_PAGE_SIZE {
        return Err(bad_input("first", format!("`first` must be between 0 and {MAX_PAGE_SIZE}, not {first}")));
    }
    Ok(first as usize)
}
