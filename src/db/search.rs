//! Name search storage: refilling `search_name` with the Nordic fold after a migration emptied
//! it (see migration `m20261206_000015_nordic_search`).

use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, Statement};

use crate::domain::text::search_form;

/// Rows refolded per UPDATE round trip.
const BATCH: usize = 500;

/// True when some name still waits for its folded form.
pub async fn refill_pending<C: ConnectionTrait>(conn: &C) -> Result<bool, DbErr> {
    for table in migration::SEARCHED_TABLES {
        let statement = Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT 1 AS pending FROM {table} WHERE search_name = '' LIMIT 1"),
        );
        if conn.query_one_raw(statement).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Sets `search_name` of every row whose `search_name` is empty to the fold of its name.
/// Returns how many rows were refolded.
pub async fn refill<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    let mut refolded = 0;
    for table in migration::SEARCHED_TABLES {
        let rows = conn
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT id, name FROM {table} WHERE search_name = '' ORDER BY id"),
            ))
            .await?;
        let names: Vec<(i32, String)> = rows
            .iter()
            .map(|row| Ok((row.try_get::<i32>("", "id")?, row.try_get::<String>("", "name")?)))
            .collect::<Result<_, DbErr>>()?;
        for batch in names.chunks(BATCH) {
            // One UPDATE … SET search_name = CASE WHEN id = ? THEN ? … END per batch.
            let mut folded = CaseStatement::new();
            for (id, name) in batch {
                folded = folded.case(Expr::col(Alias::new("id")).eq(*id), search_form(name));
            }
            let update = Query::update()
                .table(Alias::new(table))
                .value(Alias::new("search_name"), folded)
                .and_where(Expr::col(Alias::new("id")).is_in(batch.iter().map(|(id, _)| *id)))
                .to_owned();
            conn.execute(&update).await?;
            refolded += batch.len() as u64;
        }
    }
    Ok(refolded)
}
