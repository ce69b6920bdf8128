//! The errors clients see. Every GraphQL error carries `extensions.code` from a closed set
//!; internal causes (SQL, file paths) are logged once here and never sent.

use async_graphql::{Error, ErrorExtensions};

use crate::db::write::WriteError;

pub use crate::codes::Code;

/// A client-facing error with a code and a message safe to show.
pub fn coded(code: Code, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, extensions| extensions.set("code", code.as_str()))
}

/// `BAD_USER_INPUT` for an argument. Every `BAD_USER_INPUT` names what is at fault in `field`
/// (an argument's name here, an input field's in write refusals); `argument` repeats it for
/// arguments, as clients have read it.
pub fn bad_input(argument: &str, message: impl Into<String>) -> Error {
    let message = message.into();
    Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", Code::BadUserInput.as_str());
        extensions.set("field", argument);
        extensions.set("argument", argument);
    })
}

pub fn not_found(what: &str, slug: &str) -> Error {
    not_found_by(what, "slug", slug)
}

/// No `what` has `key` as its `key_name` (slug, orgNumber, ror, code…); `extensions` carry
/// `keyName` and `key` (and `slug` for slugs, as clients have read it).
pub fn not_found_by(what: &str, key_name: &str, key: &str) -> Error {
    coded(Code::NotFound, format!("no {what} with {key_name} `{key}`")).extend_with(|_, extensions| {
        extensions.set("keyName", key_name);
        extensions.set("key", key);
        if key_name == "slug" {
            extensions.set("slug", key);
        }
    })
}

/// Logs the cause and returns a generic `INTERNAL` error; a database pool that stayed busy
/// past its wait is `BUSY` instead (retrying later is safe: nothing was done).
pub fn internal(cause: &dyn std::fmt::Display) -> Error {
    let text = cause.to_string();
    // sqlx's pool timeout reaches here as text through DbErr and the DataLoader's error type.
    if text.contains("Connection pool timed out") {
        tracing::warn!(error.cause = %text, "request refused: the database pool stayed busy");
        return coded(Code::Busy, "the server is busy with other analyses; try again shortly");
    }
    tracing::error!(error.cause = %text, "internal error while resolving a request");
    coded(Code::Internal, "internal error; it has been logged")
}

/// Maps database and loader errors to `INTERNAL` (cause logged) at the resolver boundary.
pub trait OrInternal<T> {
    fn or_internal(self) -> async_graphql::Result<T>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self) -> async_graphql::Result<T> {
        self.map_err(|cause| internal(&cause))
    }
}

/// Maps a refused write to its code, with the input field and rule in `extensions`.
pub fn write_error(error: WriteError) -> Error {
    match error {
        WriteError::Invalid(violation) => Error::new(violation.message).extend_with(|_, extensions| {
            extensions.set("code", Code::BadUserInput.as_str());
            extensions.set("field", violation.field.as_str());
            extensions.set("rule", violation.rule);
        }),
        WriteError::NotFound { field, what, key } => {
            Error::new(format!("no {what} `{key}`")).extend_with(|_, extensions| {
                extensions.set("code", Code::NotFound.as_str());
                extensions.set("field", field);
            })
        }
        WriteError::Conflict { field, rule, message } => Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", Code::Conflict.as_str());
            if let Some(field) = field {
                extensions.set("field", field);
            }
            extensions.set("rule", rule);
        }),
        WriteError::Busy(message) => coded(Code::Busy, message),
        WriteError::Db(cause) => internal(&cause),
    }
}

/// `.or_coded()` on a write's result: the GraphQL error for a refused write.
pub trait OrCoded<T> {
    fn or_coded(self) -> async_graphql::Result<T>;
}

impl<T> OrCoded<T> for Result<T, WriteError> {
    fn or_coded(self) -> async_graphql::Result<T> {
        self.map_err(write_error)
    }
}
