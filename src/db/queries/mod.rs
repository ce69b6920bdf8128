//! Read queries: list selections with filters and ordering (`lists`), and the batched lookups
//! behind the GraphQL DataLoaders (`batch`). Functions take plain filter structs, never GraphQL
//! inputs.

pub mod aggregate;
pub mod batch;
pub mod filter;
pub mod geography;
pub mod graph;
pub mod keyset;
pub mod lists;
pub mod metrics;
pub mod network;
pub mod sql;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Select,
};

/// A window of rows: skip `offset`, take `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// Rows of `select` within `window`.
/// The row whose `column` equals `key` (a slug, code or other unique key), if any.
pub async fn one_by<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    column: E::Column,
    key: &str,
) -> Result<Option<E::Model>, DbErr> {
    E::find().filter(column.eq(key)).one(conn).await
}

/// The rows whose `column` is one of `keys`.
pub async fn all_in<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    column: E::Column,
    keys: &[String],
) -> Result<Vec<E::Model>, DbErr> {
    E::find().filter(column.is_in(keys.iter().map(String::as_str))).all(conn).await
}

/// The ids a list selection would return, as a subquery for aggregates over the same filter.
pub fn ids_of<E: EntityTrait>(select: Select<E>, id: E::Column) -> SelectStatement {
    let mut ids = select.select_only().column(id).into_query();
    // An `IN (…)` list has no order; a list filter's ORDER BY would only make the database sort
    // (seen in the plan of the placements aggregate on `large`). Callers never page it.
    ids.clear_order_by();
    ids
}

pub async fn fetch_window<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    select: Select<E>,
    window: Window,
) -> Result<Vec<E::Model>, DbErr> {
    select.offset(window.offset).limit(window.limit).all(conn).await
}

/// How many rows `select` matches.
pub async fn count<E, C>(conn: &C, select: Select<E>) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    select.count(conn).await
}

/// A column `table.column`, for conditions that span joins and subqueries.
pub fn col(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// The period [`from_column`, `to_column`] of `table` contains `day`; NULL bounds are open.
pub fn valid_on(table: &str, from_column: &str, to_column: &str, day: NaiveDate) -> Condition {
    overlaps(table, from_column, to_column, Some(day), Some(day))
}

/// The period [`from_column`, `to_column`] of `table` overlaps [from, to] (either bound open).
pub fn overlaps(
    table: &str,
    from_column: &str,
    to_column: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Condition {
    let mut condition = Condition::all();
    if let Some(to) = to {
        condition =
            condition.add(Condition::any().add(col(table, from_column).is_null()).add(col(table, from_column).lte(to)));
    }
    if let Some(from) = from {
        condition =
            condition.add(Condition::any().add(col(table, to_column).is_null()).add(col(table, to_column).gte(from)));
    }
    condition
}

/// `SELECT id FROM table WHERE key_column = key`, for filters by slug or code.
pub fn ids_where(table: &str, key_column: &str, key: &str) -> SelectStatement {
    Query::select()
        .column((Alias::new(table), Alias::new("id")))
        .from(Alias::new(table))
        .and_where(col(table, key_column).eq(key))
        .to_owned()
}
