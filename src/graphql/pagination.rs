//! Relay-style cursor pagination over keyset windows (`db::queries::keyset`). A cursor is
//! opaque: base64url of the row's sort-key values, its id and the order's label, so a page
//! after it is "the next rows in this order", whatever was written meanwhile, and page 1 000
//! costs what page 1 does. `first` defaults to 50 and may not exceed 500.
//!
//! Offset cursors (`o:<n>`, before keyset paging) are refused with `BAD_USER_INPUT`: their
//! position cannot be turned into a row.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Object, OutputType, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, EntityTrait, Select};
use serde::{Deserialize, Serialize};

use super::direct::Direct;
use super::error::{OrInternal, bad_input};
use crate::db::queries::keyset::{self, Position, Window};
use crate::db::queries::lists::Ordering;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
/// The longest cursor accepted (a cursor holds at most four keys of at most a few hundred
/// characters each).
const MAX_CURSOR_CHARS: usize = 4_096;

/// A row's place in one order of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyCursor {
    /// The order's label (`name`, `budget_eur desc,name`…).
    #[serde(rename = "o")]
    pub order: String,
    #[serde(rename = "k")]
    pub keys: Vec<keyset::KeyValue>,
    #[serde(rename = "i")]
    pub id: i32,
}

impl CursorType for KeyCursor {
    type Error = String;

    fn decode_cursor(text: &str) -> std::result::Result<Self, Self::Error> {
        const FOREIGN: &str = "not a cursor from this API";
        if text.len() > MAX_CURSOR_CHARS {
            return Err(FOREIGN.to_owned());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| FOREIGN.to_owned())?;
        if bytes.starts_with(b"o:") {
            return Err("an offset cursor from before keyset paging: ask for the first page again".to_owned());
        }
        serde_json::from_slice(&bytes).map_err(|_| FOREIGN.to_owned())
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
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

/// The position a cursor argument holds in `order`.
fn position(argument: &str, value: Option<&String>, order: &Ordering) -> Result<Option<Position>> {
    let Some(text) = value else { return Ok(None) };
    let cursor =
        KeyCursor::decode_cursor(text).map_err(|reason| bad_input(argument, format!("`{argument}`: {reason}")))?;
    if cursor.order != order.label {
        return Err(bad_input(
            argument,
            format!(
                "`{argument}` is a cursor of the order `{}`, not of this request's `{}`",
                cursor.order, order.label
            ),
        ));
    }
    Ok(Some(Position { keys: cursor.keys, id: cursor.id }))
}

/// Lazily counted total: only queried when the client asks for `totalCount`.
pub struct TotalCount {
    count: futures::lock::Mutex<Option<BoxFuture<'static, Result<u64>>>>,
}

#[Object]
impl TotalCount {
    /// How many rows match the filter, over all pages.
    async fn total_count(&self) -> Result<u64> {
        let future = self.count.lock().await.take();
        match future {
            Some(future) => future.await,
            None => Err(super::error::internal(&"totalCount resolved twice")),
        }
    }
}

/// A page of nodes; each node is resolved directly (see [`Direct`]): pages nest, and at four
/// levels of ten they hold thousands of objects.
pub type Page<T> = Connection<KeyCursor, Direct<T>, TotalCount>;

/// One page of `select` in `order`: the window the arguments ask for, read by keyset
/// (`first`/`after` forward, `last`/`before` from the end). `count_wanted`: the selection
/// holds `totalCount`.
pub async fn page<E, T>(
    conn: &DatabaseConnection,
    select: Select<E>,
    id: E::Column,
    order: Ordering,
    args: PageArgs,
    count_wanted: bool,
    wrap: impl Fn(E::Model) -> T,
) -> Result<Page<T>>
where
    E: EntityTrait,
    E::Model: Sync,
    T: OutputType + async_graphql::ContainerType,
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
    let after = position("after", args.after.as_ref(), &order)?;
    let before = position("before", args.before.as_ref(), &order)?;
    let from_end = last.is_some();
    let has_after = after.is_some();
    let window = Window { after, before: before.clone(), limit: last.or(first).unwrap_or(DEFAULT_PAGE_SIZE), from_end };
    let count_conn = conn.clone();
    let count_select = select.clone();
    let count = async move { crate::db::queries::count(&count_conn, count_select).await.or_internal() };
    let rows = async {
        if window.limit == 0 {
            return Ok(Ok(keyset::Page { rows: Vec::new(), more: false }));
        }
        keyset::page(conn, select, id, &order.keys, &window).await.or_internal()
    };
    // When the client asks for `totalCount`, the count runs beside the page (on a second
    // connection) instead of after it: a filtered count costs about what the page does.
    let (page, count): (_, BoxFuture<'static, Result<u64>>) = if count_wanted {
        let (page, total) = futures::join!(rows, count);
        (page, Box::pin(async move { total }))
    } else {
        (rows.await, Box::pin(count))
    };
    let page = page?.map_err(|foreign| bad_input(if has_after { "after" } else { "before" }, foreign.to_string()))?;
    let (has_previous, has_next) = if from_end { (page.more, before.is_some()) } else { (has_after, page.more) };
    let total = TotalCount { count: futures::lock::Mutex::new(Some(count)) };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(page.rows.into_iter().map(|(row, position)| {
        let cursor = KeyCursor { order: order.label.clone(), keys: position.keys, id: position.id };
        Edge::new(cursor, Direct(wrap(row)))
    }));
    Ok(connection)
}
