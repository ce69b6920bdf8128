//! Reads on a streaming replica: where the primary's WAL stands after a write, whether the
//! replica has replayed up to a position, and how far behind it is (PostgreSQL only).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use crate::domain::lsn::Lsn;

/// The primary's current WAL position: taken after a write has committed, it is at or past the
/// commit, so a replica that has replayed it shows the write. `None` on SQLite.
pub async fn current_lsn<C: ConnectionTrait>(conn: &C) -> Result<Option<Lsn>, DbErr> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let statement = Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_current_wal_lsn()::text AS lsn");
    let Some(row) = conn.query_one_raw(statement).await? else { return Ok(None) };
    let text: String = row.try_get("", "lsn")?;
    Ok(text.parse().ok())
}

/// Whether the database behind `conn` shows everything up to `lsn`: a standby that has
/// replayed that far, or a server that is not a standby and has written that far itself.
pub async fn has_replayed<C: ConnectionTrait>(conn: &C, lsn: Lsn) -> Result<bool, DbErr> {
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT COALESCE(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END \
         >= $1::pg_lsn, false) AS reached",
        [lsn.to_string().into()],
    );
    let Some(row) = conn.query_one_raw(statement).await? else { return Ok(false) };
    row.try_get("", "reached")
}

/// Seconds since the last transaction the standby replayed committed on the primary (0 when
/// it has replayed everything it received and the primary is idle; `None` when not a standby).
pub async fn lag_seconds<C: ConnectionTrait>(conn: &C) -> Result<Option<f64>, DbErr> {
    let statement = Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL \
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
         ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag",
    );
    let Some(row) = conn.query_one_raw(statement).await? else { return Ok(None) };
    row.try_get("", "lag")
}

/// What a replica says of itself at one moment (`db::replica::status`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReplicaStatus {
    /// Seconds behind, as [`lag_seconds`] (`None`: not a standby).
    pub lag_seconds: Option<f64>,
    /// How far it has replayed (a server that is not a standby: how far it has written).
    pub replayed: Option<Lsn>,
    /// Whether its WAL receiver streams from the primary now (`None`: not visible to this role,
    /// which needs `pg_read_all_stats`, or not a standby).
    pub receiving: Option<bool>,
}

/// How far the replica behind `conn` is: seconds since its last replayed commit, the position
/// it has replayed (compared with the primary's for the lag in bytes), and whether it is
/// streaming. Time alone misleads: an idle primary makes any replica look current, and a
/// replica that stopped receiving looks current too.
pub async fn status<C: ConnectionTrait>(conn: &C) -> Result<ReplicaStatus, DbErr> {
    let lag_seconds = lag_seconds(conn).await?;
    let statement = Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text          AS replayed,          (SELECT status = 'streaming' FROM pg_stat_wal_receiver WHERE status IS NOT NULL LIMIT 1) AS receiving",
    );
    let Some(row) = conn.query_one_raw(statement).await? else { return Ok(ReplicaStatus::default()) };
    let replayed: Option<String> = row.try_get("", "replayed")?;
    Ok(ReplicaStatus {
        lag_seconds,
        replayed: replayed.and_then(|text| text.parse().ok()),
        receiving: row.try_get("", "receiving")?,
    })
}
