//! Relay-style cursor pagination over offset windows. Cursors are opaque (base64 of the row's
//! offset in the ordered, filtered list). `first` defaults to 50 and may not exceed 500.
//!
//! Offsets keep cursors valid for any ordering with one code path; the cost is that rows inserted
//! before a cursor shift later pages. Keyset cursors are the upgrade if that starts to matter.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Object, OutputType, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;

use super::direct::Direct;
use super::error::{OrInternal, bad_input};
use crate::db::queries::Window;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
/// The largest offset a cursor may carry.
pub const MAX_CURSOR_OFFSET: u64 = 1_000_000_000;

/// An opaque position in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCursor(pub u64);

impl CursorType for OffsetCursor {
    type Error = String;

    fn decode_cursor(text: &str) -> std::result::Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| "not a cursor from this API".to_owned())?;
        let text = String::from_utf8(bytes).map_err(|_| "not a cursor from this API".to_owned())?;
        text.strip_prefix("o:")
            .and_then(|n| n.parse().ok())
            // No list is that long; a bigger offset is forged (and would overflow SQL's bigint).
            .filter(|offset| *offset <= MAX_CURSOR_OFFSET)
            .map(OffsetCursor)
            .ok_or_else(|| "not a cursor from this API".to_owned())
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("o:{}", self.0))
    }
}

/// The paging arguments of a list field.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub after: Option<String>,
    pub before: Option<String>,
    pub first: Option<i32>,
    pub last: Option<i32>,
}

fn size(argument: &str, value: Option<i32>) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(bad_input(argument, format!("`{argument}` must not be negative"))),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(bad_input(
            argument,
            format!("`{argument}` is {n}; at most {MAX_PAGE_SIZE} rows can be asked for at once"),
        )),
        Some(n) => Ok(Some(n as u64)),
    }
}

fn cursor(argument: &str, value: Option<&String>) -> Result<Option<u64>> {
    value
        .map(|text| {
            OffsetCursor::decode_cursor(text)
                .map(|c| c.0)
                .map_err(|reason| bad_input(argument, format!("`{argument}`: {reason}")))
        })
        .transpose()
}

/// Lazily counted total: only queried when the client asks for `totalCount`.
pub struct TotalCount {
    count: futures::lock::Mutex<Option<BoxFuture<'static, Result<u64>>>>,
    known: Option<u64>,
}

#[Object]
impl TotalCount {
    /// How many rows match the filter, over all pages.
    async fn total_count(&self) -> Result<u64> {
        if let Some(total) = self.known {
            return Ok(total);
        }
        let future = self.count.lock().await.take();
        match future {
            Some(future) => future.await,
            None => Err(super::error::internal(&"totalCount resolved twice")),
        }
    }
}

/// A page of nodes; each node is resolved directly (see [`Direct`]): pages nest, and at four
/// levels of ten they hold thousands of objects.
pub type Page<T> = Connection<OffsetCursor, Direct<T>, TotalCount>;

/// Builds one page: `count` is awaited only when needed (for `last` without `before`, or when
/// the client selects `totalCount`); `fetch` gets the window to read.
pub async fn page<T, M, CountFut, FetchFut>(
    args: PageArgs,
    count: impl FnOnce() -> CountFut,
    fetch: impl FnOnce(Window) -> FetchFut,
    wrap: impl Fn(M) -> T,
) -> Result<Page<T>>
where
    T: OutputType + async_graphql::ContainerType,
    CountFut: std::future::Future<Output = std::result::Result<u64, sea_orm::DbErr>> + Send + 'static,
    FetchFut: std::future::Future<Output = std::result::Result<Vec<M>, sea_orm::DbErr>>,
{
    let first = size("first", args.first)?;
    let last = size("last", args.last)?;
    if first.is_some() && last.is_some() {
        // The Relay spec discourages both; their combination has no one obvious meaning.
        return Err(bad_input(
            "last",
            "give `first` (paging forward, with `after`) or `last` (backward, with `before`), not both",
        ));
    }
    let after = cursor("after", args.after.as_ref())?;
    let before = cursor("before", args.before.as_ref())?;
    let start = after.map_or(0, |a| a + 1);
    let count_future = count();
    let (mut known_total, mut pending_count) = (None, Some(count_future));
    let mut end = match before {
        Some(before) => before,
        None if last.is_some() => {
            let total = match pending_count.take() {
                Some(count_future) => count_future.await.or_internal()?,
                None => 0,
            };
            known_total = Some(total);
            total
        }
        None => u64::MAX,
    };
    end = end.max(start);
    let mut window_start = start;
    match (first, last) {
        (Some(first), _) => end = end.min(start.saturating_add(first)),
        (None, None) => end = end.min(start.saturating_add(DEFAULT_PAGE_SIZE)),
        (None, Some(_)) => {}
    }
    if let Some(last) = last {
        window_start = window_start.max(end.saturating_sub(last));
    }
    let limit = end - window_start;
    let rows =
        if limit == 0 { Vec::new() } else { fetch(Window { offset: window_start, limit }).await.or_internal()? };
    let fetched = rows.len() as u64;
    let has_previous = window_start > 0;
    let has_next = match known_total {
        Some(total) => window_start + fetched < total,
        None => fetched == limit && before.is_none_or(|b| window_start + fetched < b),
    };
    let total = TotalCount {
        count: futures::lock::Mutex::new(
            pending_count
                .map(|f| -> BoxFuture<'static, Result<u64>> { Box::pin(async move { f.await.or_internal() }) }),
        ),
        known: known_total,
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| Edge::new(OffsetCursor(window_start + i as u64), Direct(wrap(row)))),
    );
    Ok(connection)
}
