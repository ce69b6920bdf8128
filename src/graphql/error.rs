//! The errors clients see. Every GraphQL error carries `extensions.code` from a closed set
//!; internal causes (SQL, file paths) are logged once here and never sent.

use std::any::Any;

use async_graphql::{Error, ErrorExtensions};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

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

/// Logs the cause and returns a generic `INTERNAL` error, unless the cause is the database
/// being out of reach for a while: a pool that stayed busy past its wait is `BUSY`, a database
/// that could not be reached (restarting, failing over, a pooler restarting) is `UNAVAILABLE`.
/// Both say "retry shortly" and neither is the server's fault.
pub fn internal<E: std::fmt::Display + 'static>(cause: &E) -> Error {
    match transient(cause) {
        Some(Code::Busy) => {
            tracing::warn!(error.cause = %cause, "request refused: the database pool stayed busy");
            coded(Code::Busy, "the server is busy with other analyses; try again shortly")
        }
        Some(_) => {
            tracing::warn!(error.cause = %cause, "request refused: the database could not be reached");
            coded(Code::Unavailable, "the database cannot be reached at the moment; try again shortly")
        }
        None => {
            tracing::error!(error.cause = %cause, "internal error while resolving a request");
            coded(Code::Internal, "internal error; it has been logged")
        }
    }
}

/// `BUSY` or `UNAVAILABLE` when `cause` is a database that is out of reach for a while, by
/// the error's type (never its text): a `DbErr`, the DataLoader's shared `Arc<DbErr>`, or one
/// inside an `anyhow::Error`.
pub fn transient(cause: &dyn Any) -> Option<Code> {
    let db = cause.downcast_ref::<DbErr>().or_else(|| cause.downcast_ref::<LoadError>().map(|shared| &**shared));
    if let Some(db) = db {
        return transient_db(db);
    }
    let chained = cause.downcast_ref::<anyhow::Error>()?;
    chained.chain().find_map(|link| link.downcast_ref::<DbErr>()).and_then(transient_db)
}

fn transient_db(error: &DbErr) -> Option<Code> {
    match error {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => Some(Code::Busy),
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => Some(Code::Unavailable),
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => transient_sqlx(cause),
        // A connection that could not be made, for a reason sqlx did not type.
        DbErr::Conn(_) => Some(Code::Unavailable),
        _ => None,
    }
}

/// SQLSTATEs of a database going away or not taking connections: class 08 (connection
/// exceptions, also PgBouncer's own errors), 57P01–57P03 (shut down by an administrator, crash,
/// cannot connect now), 53300 (too many connections) and 25006 (a write reached a standby, as
/// after a failover before the URLs follow).
fn transient_sqlx(error: &sea_orm::sqlx::Error) -> Option<Code> {
    use sea_orm::sqlx::Error;
    match error {
        Error::PoolTimedOut => Some(Code::Busy),
        Error::Io(_) | Error::Tls(_) | Error::Protocol(_) | Error::PoolClosed | Error::WorkerCrashed => {
            Some(Code::Unavailable)
        }
        Error::Database(database) => {
            let code = database.code()?;
            let code = code.as_ref();
            (code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "25006"))
                .then_some(Code::Unavailable)
        }
        _ => None,
    }
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
    }

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_a_broken_statement_is_internal() {
        use sea_orm::sqlx;
        let refused = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(code(&internal(&DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))), "\"UNAVAILABLE\"");
        assert_eq!(code(&internal(&DbErr::Conn(RuntimeErr::SqlxError(Arc::new(refused()))))), "\"UNAVAILABLE\"");
        assert_eq!(code(&internal(&DbErr::Exec(RuntimeErr::SqlxError(Arc::new(refused()))))), "\"UNAVAILABLE\"");
        assert_eq!(
            code(&internal(&Arc::new(DbErr::Query(RuntimeErr::SqlxError(Arc::new(refused())))))),
            "\"UNAVAILABLE\""
        );
        let wrapped = anyhow::Error::new(DbErr::Conn(RuntimeErr::Internal("gone".into()))).context("reading the feed");
        assert_eq!(code(&internal(&wrapped)), "\"UNAVAILABLE\"");
        // A statement the database refused for what it says is a defect, not an outage.
        let syntax = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound)));
        assert_eq!(code(&internal(&syntax)), "\"INTERNAL\"");
        assert_eq!(code(&internal(&DbErr::Custom("connection refused".into()))), "\"INTERNAL\"");
    }
}
