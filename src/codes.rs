//! The one closed set of error codes clients see, in GraphQL `extensions.code` and in the JSON
//! bodies the HTTP edge answers with, each with the HTTP status it is sent with when the
//! refusal happens before GraphQL runs (inside a GraphQL response the status is 200).

use axum::http::StatusCode;

/// Every code a client can get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// An argument or input field broke a rule (`extensions.argument` or `field` says which).
    BadUserInput,
    NotFound,
    Conflict,
    Forbidden,
    /// No valid token (also a subscription whose token expired).
    Unauthenticated,
    /// More subscriptions on one WebSocket than the server allows.
    TooManySubscriptions,
    /// A write did not get its turn in time; nothing was written and retrying is safe.
    Busy,
    /// The database could not be reached (restarting, failing over, or a pooler in between
    /// restarting): retry after a moment. A write cut off at its commit may have landed; a
    /// retry with `expectedVersion` tells.
    Unavailable,
    /// The request would cost more than the role may spend, or the document is too big or too
    /// deep (`extensions.estimated`, `limit`, `measure`).
    QueryTooExpensive,
    /// The document is not GraphQL.
    GraphqlParseFailed,
    /// The document does not fit the schema.
    GraphqlValidationFailed,
    /// Too many requests from this client.
    RateLimited,
    PayloadTooLarge,
    /// The request ran out of time and was stopped.
    Timeout,
    /// More operations in one batch than the server allows.
    BatchTooLarge,
    MethodNotAllowed,
    UnsupportedMediaType,
    /// The HTTP request is not a GraphQL request at all (a body that is not JSON).
    BadRequest,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::Forbidden => "FORBIDDEN",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            Self::Busy => "BUSY",
            Self::Unavailable => "UNAVAILABLE",
            Self::QueryTooExpensive => "QUERY_TOO_EXPENSIVE",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::RateLimited => "RATE_LIMITED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::Timeout => "TIMEOUT",
            Self::BatchTooLarge => "BATCH_TOO_LARGE",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::BadRequest => "BAD_REQUEST",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status of a refusal with this code answered outside a GraphQL response.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadUserInput
            | Self::GraphqlParseFailed
            | Self::GraphqlValidationFailed
            | Self::QueryTooExpensive
            | Self::BatchTooLarge
            | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::TooManySubscriptions | Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
