//! Domain logic in plain Rust: no async-graphql, no SeaORM types. The GraphQL layer and the
//! database layer call into it; it never calls back.

pub mod currency;
pub mod dates;
pub mod edits;
pub mod epochs;
pub mod filter;
pub mod geography;
pub mod groups;
pub mod identity;
pub mod import;
pub mod lsn;
pub mod metrics;
pub mod network;
pub mod privacy;
pub mod reference;
pub mod text;
pub mod validation;
