//! The graph's spine — regions, their municipalities, the organisations seated there and the
//! projects those take part in — read as one statement that builds the response's JSON in the
//! database, the way PostGraphile compiles a selection.
//!
//! Field by field the levels mean what the resolvers and their batched loaders mean (the tests
//! compare both answers): regions by name then id (the database's collation, as
//! `lists::regions_select`); a region's municipalities are the distinct members on a day;
//! organisations are those seated in the municipality; projects are those the organisation is a
//! partner of in any role; nested lists by name in byte order, then id, as the resolvers sort.
//! Every value a client chose (response keys, days, limits) is a bound parameter; the SQL text
//! comes from the fixed fragments below.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};

use super::sql::Sql;

/// A plain column of the four tables, copied into the answer as the resolvers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Slug,
    Name,
    ShortName,
    Verified,
    Version,
}

/// One field of an object of the spine, under its response key.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// A constant string (`__typename`).
    Constant(String),
    Column(Column),
    /// A region's member municipalities on the day.
    MunicipalityCount(NaiveDate),
    /// Organisations seated in a municipality.
    OrganisationCount,
    /// Distinct projects an organisation is a partner of.
    ProjectCount,
    /// A region's first `limit` member municipalities on the day.
    Municipalities {
        on: NaiveDate,
        limit: u64,
        fields: Fields,
    },
    /// A municipality's first `limit` seated organisations.
    Organisations {
        limit: u64,
        fields: Fields,
    },
    /// An organisation's first `limit` projects.
    Projects {
        limit: u64,
        fields: Fields,
    },
}

/// An object's fields in the order asked, each under its response key.
pub type Fields = Vec<(String, Field)>;

/// A page of regions (the `regions` connection without filter, order or cursor).
#[derive(Clone, Debug, PartialEq)]
pub struct RegionsPage {
    pub limit: u64,
    pub fields: Vec<(String, PageField)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PageField {
    Constant(String),
    /// Every region.
    TotalCount,
    Nodes(Fields),
}

/// The JSON text of the page (the value of the `regions` field).
pub async fn regions_page<C: ConnectionTrait>(conn: &C, page: &RegionsPage) -> Result<String, DbErr> {
    let mut sql = Sql::new(conn.get_database_backend());
    let postgres = sql.backend() == DatabaseBackend::Postgres;
    sql.push(if postgres { "SELECT CAST(json_build_object(" } else { "SELECT json_object(" });
    for (index, (key, field)) in page.fields.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(key.as_str()).push(", ");
        match field {
            PageField::Constant(text) => {
                sql.bind(text.as_str());
            }
            PageField::TotalCount => {
                sql.push("(SELECT count(*) FROM regions)");
            }
            PageField::Nodes(fields) => {
                list(&mut sql, "r", fields, "r.name, r.id", page.limit, |sql| {
                    sql.push(&format!("SELECT {} FROM regions r ORDER BY r.name, r.id", columns("r", fields)));
                });
            }
        }
    }
    sql.push(if postgres { ") AS TEXT) AS data" } else { ") AS data" });
    let row = conn
        .query_one_raw(sql.statement())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the graph statement returned no row".into()))?;
    row.try_get::<String>("", "data")
}

/// The columns of `alias` the objects `fields` read: the id and name they are ordered by, and
/// the plain columns asked for (whole rows made PostgreSQL sort ~300-byte tuples).
fn columns(alias: &str, fields: &Fields) -> String {
    let mut names = vec!["id", "name"];
    for (_, field) in fields {
        let name = match field {
            Field::Column(Column::Slug) => "slug",
            Field::Column(Column::ShortName) => "short_name",
            Field::Column(Column::Verified) => "verified",
            Field::Column(Column::Version) => "version",
            _ => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.iter().map(|name| format!("{alias}.{name}")).collect::<Vec<_>>().join(", ")
}

/// `ORDER BY` text in byte order on both backends, as the resolvers sort nested lists.
fn by_bytes(sql: &Sql, column: &str) -> String {
    match sql.backend() {
        DatabaseBackend::Postgres => format!("{column} COLLATE \"C\""),
        _ => column.to_owned(),
    }
}

/// A JSON array of the objects `fields` of the rows `rows` writes (a SELECT of whole rows,
/// ordered by `order`), the first `limit` of them, each row under `alias`.
fn list(sql: &mut Sql, alias: &str, fields: &Fields, order: &str, limit: u64, rows: impl FnOnce(&mut Sql)) {
    let postgres = sql.backend() == DatabaseBackend::Postgres;
    // SQLite drops the JSON subtype of a subquery's value: json() makes it an array again.
    sql.push(if postgres { "(SELECT COALESCE(json_agg(" } else { "json((SELECT json_group_array(" });
    object(sql, alias, fields);
    sql.push(&format!(" ORDER BY {order}){} FROM (", if postgres { ", '[]'::json)" } else { "" }));
    rows(sql);
    sql.push(" LIMIT ").bind(limit as i64).push(&format!(") {alias})"));
    if !postgres {
        sql.push(")");
    }
}

/// A JSON object of `fields` of the row `alias`.
fn object(sql: &mut Sql, alias: &str, fields: &Fields) {
    let postgres = sql.backend() == DatabaseBackend::Postgres;
    sql.push(if postgres { "json_build_object(" } else { "json_object(" });
    for (index, (key, field)) in fields.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(key.as_str()).push(", ");
        value(sql, alias, field);
    }
    sql.push(")");
}

fn value(sql: &mut Sql, alias: &str, field: &Field) {
    let postgres = sql.backend() == DatabaseBackend::Postgres;
    match field {
        Field::Constant(text) => {
            sql.bind(text.as_str());
        }
        Field::Column(column) => {
            let text = match column {
                Column::Slug => format!("{alias}.slug"),
                Column::Name => format!("{alias}.name"),
                Column::ShortName => format!("{alias}.short_name"),
                Column::Version => format!("{alias}.version"),
                // SQLite keeps booleans as integers: true/false as JSON, not 1/0.
                Column::Verified if postgres => format!("{alias}.verified"),
                Column::Verified => format!("json(CASE WHEN {alias}.verified THEN 'true' ELSE 'false' END)"),
            };
            sql.push(&text);
        }
        Field::MunicipalityCount(day) => {
            sql.push(&format!(
                "(SELECT count(DISTINCT rm.municipality_id) FROM region_memberships rm WHERE rm.region_id = {alias}.id"
            ))
            .and_valid_on("rm.valid_from", "rm.valid_to", *day)
            .push(")");
        }
        Field::OrganisationCount => {
            sql.push(&format!("(SELECT count(*) FROM organisations oc WHERE oc.municipality_id = {alias}.id)"));
        }
        Field::ProjectCount => {
            sql.push(&format!(
                "(SELECT count(DISTINCT pc.project_id) FROM project_partners pc WHERE pc.organisation_id = {alias}.id)"
            ));
        }
        Field::Municipalities { on, limit, fields } => {
            let order = format!("{}, m.id", by_bytes(sql, "m.name"));
            let inner = format!("{}, mu.id", by_bytes(sql, "mu.name"));
            list(sql, "m", fields, &order, *limit, |sql| {
                sql.push(&format!(
                    "SELECT {} FROM municipalities mu WHERE mu.id IN (SELECT rm.municipality_id \
                     FROM region_memberships rm WHERE rm.region_id = {alias}.id",
                    columns("mu", fields)
                ))
                .and_valid_on("rm.valid_from", "rm.valid_to", *on)
                .push(&format!(") ORDER BY {inner}"));
            });
        }
        Field::Organisations { limit, fields } => {
            let order = format!("{}, o.id", by_bytes(sql, "o.name"));
            let inner = format!("{}, og.id", by_bytes(sql, "og.name"));
            list(sql, "o", fields, &order, *limit, |sql| {
                sql.push(&format!(
                    "SELECT {} FROM organisations og WHERE og.municipality_id = {alias}.id ORDER BY {inner}",
                    columns("og", fields)
                ));
            });
        }
        Field::Projects { limit, fields } => {
            let order = format!("{}, p.id", by_bytes(sql, "p.name"));
            let inner = format!("{}, pj.id", by_bytes(sql, "pj.name"));
            list(sql, "p", fields, &order, *limit, |sql| {
                sql.push(&format!(
                    "SELECT {} FROM projects pj WHERE pj.id IN (SELECT pp.project_id FROM project_partners pp \
                     WHERE pp.organisation_id = {alias}.id) ORDER BY {inner}",
                    columns("pj", fields)
                ));
            });
        }
    }
}
