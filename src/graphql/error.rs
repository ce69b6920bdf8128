//! The errors clients see. Every GraphQL error carries `extensions.code` from a closed set
//!; internal causes (SQL, file paths) are logged once here and never sent.

use std::any::Any;

use async_graphql::{Error, ErrorExtensions};
use sea_orm::{ConnAcquireErr, DbErr};

use super::loaders::LoadError;
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
pub fn internal<E: std::fmt::Display + 'static>(cause: &E) -> Error {
    if is_pool_timeout(cause) {
        tracing::warn!(error.cause = %cause, "request refused: the database pool stayed busy");
        return coded(Code::Busy, "the server is busy with other analyses; try again shortly");
    }
    tracing::error!(error.cause = %cause, "internal error while resolving a request");
    coded(Code::Internal, "internal error; it has been logged")
}

/// Whether a failure is sqlx's pool timeout, as SeaORM passes it on: a `DbErr`, or the
/// DataLoader's shared `Arc<DbErr>`.
fn is_pool_timeout(cause: &dyn Any) -> bool {
    let db = cause.downcast_ref::<DbErr>().or_else(|| cause.downcast_ref::<LoadError>().map(|shared| &**shared));
    matches!(db, Some(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)))
}

/// Maps database and loader errors to `INTERNAL` (cause logged) at the resolver boundary.
pub trait OrInternal<T> {
    fn or_internal(self) -> async_graphql::Result<T>;
}

impl<T, E: std::fmt::Display + 'static> OrInternal<T> for Result<T, E> {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn code(error: &Error) -> String {
        error.extensions.as_ref().and_then(|e| e.get("code")).map(|code| code.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_pool_timeout_is_busy_by_its_type_not_by_its_text() {
        let timeout = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert_eq!(code(&internal(&timeout)), "\"BUSY\"");
        assert_eq!(code(&internal(&Arc::new(timeout))), "\"BUSY\"");
        // The same words in another error are not a timeout.
        assert_eq!(code(&internal(&DbErr::Custom("Connection pool timed out".into()))), "\"INTERNAL\"");
        assert_eq!(code(&internal(&DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))), "\"INTERNAL\"");
    }
}
