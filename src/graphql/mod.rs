//! The GraphQL API: schema assembly and limits (here), the root query, object types, loaders,
//! access guards, pagination and error codes (submodules).

pub mod access;
pub mod analytics;
pub mod compiled;
pub mod cost;
pub mod direct;
pub mod error;
pub mod field_order;
pub mod filters;
pub mod import_file;
pub mod loaders;
pub mod mutation;
pub mod network;
pub mod pagination;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{SDLExportOptions, Schema};

use crate::db::Db;

pub type RegistrySchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Query limits. Defaults let GraphiQL's introspection query through while refusing
/// pathological nesting.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_depth: 16, max_complexity: 2_000_000, introspection: true }
    }
}

/// The schema with its limits and the database handle (per-request data is added by the handler).
pub fn build_schema(db: Option<Db>, limits: Limits) -> RegistrySchema {
    let mut builder = Schema::build(query::Query::default(), mutation::Mutation, subscription::Subscription)
        // No per-field tracing extension: a span per resolved field cost more than the SQL on
        // large nested reads; requests are traced by the HTTP layer.
        // Complexity is limited per role by the cost extension (a schema-wide limit would answer
        // without a code, before the role is known).
        .extension(cost::Cost(cost::CostLimits::default().capped(limits.max_complexity), limits.max_depth))
        // Response fields in the order the query asked for them (async-graphql writes them as
        // they complete).
        .extension(field_order::FieldOrder);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(db) = db {
        builder = builder.data(db);
    }
    builder.finish()
}

/// The SDL that `samverka export-schema` writes to `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None, Limits::default())
        .sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_arguments().sorted_enum_items())
}
