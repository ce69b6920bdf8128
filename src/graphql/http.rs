//! The `/graphql` endpoint (GraphQL-over-HTTP): GET and POST, per-request loaders, error codes
//! on every error, and `application/graphql-response+json` when the client asks for it.

use async_graphql::ServerError;
use async_graphql_axum::GraphQLRequest;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::RegistrySchema;
use super::access::Role;
use super::loaders::request_loader;
use crate::db::Db;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[derive(Clone)]
pub struct GraphqlState {
    pub schema: RegistrySchema,
    pub db: Db,
}

pub async fn graphql_handler(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let request = request.into_inner().data(request_loader(state.db.conn.clone())).data(Role::Public);
    let mut response = state.schema.execute(request).await;
    let request_failed = response.data == async_graphql::Value::Null && !response.errors.is_empty();
    response.errors.iter_mut().for_each(add_code);
    let wants_graphql_response = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error.cause = %error, "could not serialise a GraphQL response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // With the newer media type, a request that could not run at all is a 400 (spec §7.1.2);
    // with plain JSON every well-formed request is a 200.
    let (status, content_type) = if wants_graphql_response {
        (if request_failed { StatusCode::BAD_REQUEST } else { StatusCode::OK }, GRAPHQL_RESPONSE_JSON)
    } else {
        (StatusCode::OK, "application/json")
    };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

/// Errors raised before execution (parse, validation, limits, bad argument values) come from
/// async-graphql without a code; give them one.
fn add_code(error: &mut ServerError) {
    let has_code = error.extensions.as_ref().is_some_and(|extensions| extensions.get("code").is_some());
    if has_code {
        return;
    }
    let message = error.message.to_lowercase();
    let code = if message.contains("too complex") || message.contains("too deep") {
        "QUERY_TOO_COMPLEX"
    } else if message.contains("invalid value") || message.contains("failed to parse") {
        // An argument or variable of the wrong shape: a date that is not a date, an unknown enum value.
        "BAD_USER_INPUT"
    } else if message.contains("expected") {
        "GRAPHQL_PARSE_FAILED"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    };
    error.extensions.get_or_insert_with(Default::default).set("code", code);
}
