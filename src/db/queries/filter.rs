//! Compiles the analysts' filters (`domain::filter::Filter`) to SQL conditions. Each list has a
//! [`Table`]: the fields a filter may test (a column, a folded name, a value reached through a
//! link such as a country code or a dated municipality code) and the relations it may follow.
//! Values are always bound parameters; table and column names come only from these tables,
//! never from a request.
//!
//! Every test is two-valued (`x IS NOT NULL AND x > ?`), so `not` and `every` mean what they say
//! on unknown values. Relations are correlated `EXISTS` subqueries: `some` is `EXISTS (… AND
//! f)`, `none` `NOT EXISTS (… AND f)`, `every` `NOT EXISTS (… AND NOT f)`.

use chrono::NaiveDate;
use sea_orm::DatabaseBackend;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement, SimpleExpr};

use super::{col, valid_on};
use crate::domain::filter::{Comparison, Filter, FilterError, Quantifier, Test, TextTest};
use crate::domain::text::{LIKE_ESCAPE, contains_pattern, prefix_pattern, search_form, search_phrase, search_words};

/// The searchable rows of one list.
#[derive(Debug)]
pub struct Table {
    /// The SQL table.
    pub name: &'static str,
    pub fields: &'static [Field],
    pub relations: &'static [Relation],
    /// Personal data (students, placements): filtering on it needs the analyst role.
    pub personal: bool,
}

#[derive(Debug)]
pub struct Field {
    /// The name in the API (`budgetEur`).
    pub name: &'static str,
    pub value: Value,
    /// Whether an index serves the test; unindexed tests cost more.
    pub indexed: bool,
}

/// Where a field's value comes from.
#[derive(Debug)]
pub enum Value {
    /// A column of the row: text compared exactly (case-sensitive), numbers, dates, enums, flags.
    Column(&'static str),
    /// A name: `eq`/`in` compare the name itself; `startsWith`, `contains` and `search` compare
    /// the folded `search_name` (case, accents and Nordic spellings folded).
    Name,
    /// A column of the rows `link` leads to (a country's code, a municipality's codes): the test
    /// holds when one of them passes; `isNull: true` when there is none.
    Linked { link: Link, column: &'static str },
    /// Projects only: acting partners in more than one country.
    CrossBorder,
}

/// A relation a filter can follow to rows of `target`.
#[derive(Debug)]
pub struct Relation {
    pub name: &'static str,
    pub target: fn() -> &'static Table,
    pub link: Link,
    /// A derived row per row that says which values of one enum field its related rows carry:
    /// a quantifier over a filter of that field alone reads it instead of the related rows.
    pub summary: Option<Summary>,
}

/// `table.column` (the row of `table` whose `key` is the row's id; none when there are no
/// related rows) holds a bit per value of the related rows' `field` (`bits`: each stored
/// value's bit, and the bit of any other value).
#[derive(Debug)]
pub struct Summary {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
    pub field: &'static str,
    pub bits: fn() -> ValueBits,
}

/// Each stored value's bit, and the bit of any value not listed.
pub type ValueBits = (Vec<(String, i32)>, i32);

impl Summary {
    /// For a filter that tests `field` alone: each stored value's bit with whether the filter
    /// passes it, the other values' bit last.
    fn passing_bits(&self, filter: &Filter) -> Option<Vec<(i32, bool)>> {
        let (bits, other_bit) = (self.bits)();
        // NUL is no stored value (text tests refuse it): it stands for any value not listed.
        let mut values: Vec<&str> = bits.iter().map(|(value, _)| value.as_str()).collect();
        values.push("\0");
        let passes = filter.passes_for(self.field, &values)?;
        Some(bits.iter().map(|(_, bit)| *bit).chain([other_bit]).zip(passes).collect())
    }
}

/// How a row reaches related rows.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    /// The row's `column` holds the id of a row of `table`.
    ToOne { table: &'static str, column: &'static str },
    /// Rows of `table` whose `column` holds the row's id; `dated` names their validity columns
    /// when the link holds on some days only.
    ToMany { table: &'static str, column: &'static str, dated: Option<(&'static str, &'static str)> },
    /// Through `via` (valid from/to: `dated`): `via.from` = the row's `key`, `via.to` = `table.id`.
    Through {
        key: &'static str,
        via: &'static str,
        from: &'static str,
        to: &'static str,
        dated: Option<(&'static str, &'static str)>,
        table: &'static str,
    },
    /// The row's `columns` each hold the id of a row of `table` (a collaboration's two sides).
    EitherOf { table: &'static str, columns: [&'static str; 2] },
}

/// Why a filter cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("{0}")]
    Invalid(#[from] FilterError),
    /// The filter reaches personal data the caller may not read.
    #[error("{0}")]
    Forbidden(String),
}

/// What a compilation may do.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub backend: DatabaseBackend,
    /// Whether the caller may read students and placements.
    pub personal_data: bool,
}

/// The condition `filter` puts on the rows of `table` (referred to by its own name).
pub fn condition(table: &'static Table, filter: &Filter, scope: Scope) -> Result<Condition, CompileError> {
    filter.check()?;
    if table.personal && !scope.personal_data {
        return Err(forbidden(table));
    }
    let mut compiler = Compiler { scope, aliases: 0 };
    compiler.compile(table, table.name, filter, None)
}

/// What a filter adds to a request's cost: one per indexed test, five per unindexed one, and
/// three per relation followed (an `EXISTS` per candidate row), nested ones included; one for
/// a quantifier its relation's summary answers (a primary-key lookup).
pub fn cost(table: &'static Table, filter: &Filter) -> usize {
    match filter {
        Filter::All(parts) | Filter::Any(parts) => parts.iter().map(|part| cost(table, part)).sum(),
        Filter::Not(inner) | Filter::OnDay { filter: inner, .. } => cost(table, inner),
        Filter::Field { field, .. } => match table.fields.iter().find(|f| f.name == *field) {
            Some(Field { indexed: true, value: Value::Column(_) | Value::Name, .. }) => 1,
            Some(Field { indexed: true, .. }) => 3,
            _ => 5,
        },
        Filter::Related { relation, filter, .. } => match table.relations.iter().find(|r| r.name == *relation) {
            // One summary row, found by its primary key.
            Some(Relation { summary: Some(summary), .. }) if summary.passing_bits(filter).is_some() => 1,
            related => 3 + related.map_or(0, |r| cost((r.target)(), filter)),
        },
    }
}

fn forbidden(table: &Table) -> CompileError {
    CompileError::Forbidden(format!(
        "filtering on {} needs the Analyst role or higher: personal data cannot be probed by filters",
        table.name.replace('_', " ")
    ))
}

struct Compiler {
    scope: Scope,
    aliases: usize,
}

impl Compiler {
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("f{}", self.aliases)
    }

    fn compile(
        &mut self,
        table: &'static Table,
        alias: &str,
        filter: &Filter,
        day: Option<NaiveDate>,
    ) -> Result<Condition, CompileError> {
        Ok(match filter {
            // An empty `and` holds for every row, an empty `or` for none (sea-query would drop an
            // empty condition, making `or: []` hold for all).
            Filter::All(parts) if parts.is_empty() => Condition::all().add(Expr::cust("1 = 1")),
            Filter::Any(parts) if parts.is_empty() => Condition::all().add(Expr::cust("1 = 0")),
            Filter::All(parts) | Filter::Any(parts) => {
                let mut combined = if matches!(filter, Filter::All(_)) { Condition::all() } else { Condition::any() };
                for part in parts {
                    combined = combined.add(self.compile(table, alias, part, day)?);
                }
                combined
            }
            Filter::Not(inner) => self.compile(table, alias, inner, day)?.not(),
            Filter::OnDay { day, filter } => self.compile(table, alias, filter, Some(*day))?,
            Filter::Field { field, test } => {
                let field = table.fields.iter().find(|f| f.name == *field).ok_or_else(|| {
                    FilterError::new(format!("`{field}` cannot be filtered on in {}", table.name.replace('_', " ")))
                })?;
                self.field(table, alias, field, test, day)?
            }
            Filter::Related { relation, quantifier, filter } => {
                let relation = table.relations.iter().find(|r| r.name == *relation).ok_or_else(|| {
                    FilterError::new(format!("{} have no relation `{relation}`", table.name.replace('_', " ")))
                })?;
                let target = (relation.target)();
                if target.personal && !self.scope.personal_data {
                    return Err(forbidden(target));
                }
                if let Some(summarised) = self.summarised(relation, alias, *quantifier, filter) {
                    return Ok(summarised);
                }
                let inner = self.alias();
                let (mut rows, link) = linked_rows(relation.link, alias, &inner, day);
                let test = self.compile(target, &inner, filter, day)?;
                let exists = |rows: &mut SelectStatement, test: Condition| {
                    rows.cond_where(link.clone().add(test));
                    Expr::exists(rows.to_owned())
                };
                Condition::all().add(match quantifier {
                    Quantifier::Some => exists(&mut rows, test),
                    Quantifier::None => exists(&mut rows, test).not(),
                    Quantifier::Every => exists(&mut rows, test.not()).not(),
                })
            }
        })
    }

    /// A quantifier over a filter of the summarised field alone, from the summary: `some` is
    /// "a passing value's bit is set", `none` its negation, `every` "no failing value's bit is
    /// set" (true when there are no related rows, as `every` is).
    fn summarised(
        &mut self,
        relation: &Relation,
        alias: &str,
        quantifier: Quantifier,
        filter: &Filter,
    ) -> Option<Condition> {
        let summary = relation.summary.as_ref()?;
        let bits = summary.passing_bits(filter)?;
        let all_bits = bits.iter().fold(0, |all, (bit, _)| all | bit);
        let passing = bits.iter().filter(|(_, passes)| *passes).fold(0, |mask, (bit, _)| mask | bit);
        let (mask, wanted) = match quantifier {
            Quantifier::Some => (passing, true),
            Quantifier::None => (passing, false),
            Quantifier::Every => (all_bits & !passing, false),
        };
        if mask == 0 {
            return Some(Condition::all().add(Expr::cust(if wanted { "1 = 0" } else { "1 = 1" })));
        }
        let inner = self.alias();
        let rows = Query::select()
            .expr(Expr::val(1))
            .from_as(Alias::new(summary.table), Alias::new(&inner))
            .and_where(col(&inner, summary.key).equals((Alias::new(alias), Alias::new("id"))))
            .and_where(col(&inner, summary.column).bit_and(mask).ne(0))
            .to_owned();
        let exists = Expr::exists(rows);
        Some(Condition::all().add(if wanted { exists } else { exists.not() }))
    }

    fn field(
        &mut self,
        table: &'static Table,
        alias: &str,
        field: &'static Field,
        test: &Test,
        day: Option<NaiveDate>,
    ) -> Result<Condition, CompileError> {
        match &field.value {
            Value::Column(column) => Ok(value_test(self.scope.backend, col(alias, column), test, field.name)?),
            Value::Name => Ok(name_test(self.scope.backend, table.name, alias, test, field.name)?),
            Value::Linked { link, column } => {
                let inner = self.alias();
                let (mut rows, correlation) = linked_rows(*link, alias, &inner, day);
                let (wanted, test) = match test {
                    Test::IsNull(is_null) => (!is_null, Condition::all().add(col(&inner, column).is_not_null())),
                    test => (true, value_test(self.scope.backend, col(&inner, column), test, field.name)?),
                };
                rows.cond_where(correlation.add(test));
                let exists = Expr::exists(rows);
                Ok(Condition::all().add(if wanted { exists } else { exists.not() }))
            }
            Value::CrossBorder => match test {
                Test::Is(flag) => {
                    let cross_border = col(alias, "id").in_subquery(cross_border_projects());
                    Ok(Condition::all().add(if *flag { cross_border } else { cross_border.not() }))
                }
                _ => Err(wrong_test(field.name).into()),
            },
        }
    }
}

fn wrong_test(field: &str) -> FilterError {
    FilterError::new(format!("`{field}` does not take this kind of test"))
}

/// `SELECT 1 FROM <linked rows> AS inner` and the condition tying them to `outer` (with the
/// dated link valid on `day`, when one is given).
fn linked_rows(link: Link, outer: &str, inner: &str, day: Option<NaiveDate>) -> (SelectStatement, Condition) {
    let mut rows = Query::select();
    rows.expr(Expr::val(1));
    let dated = |condition: Condition, table: &str, dated: Option<(&str, &str)>| match (dated, day) {
        (Some((from, to)), Some(day)) => condition.add(valid_on(table, from, to, day)),
        _ => condition,
    };
    let correlation = match link {
        Link::ToOne { table, column } => {
            rows.from_as(Alias::new(table), Alias::new(inner));
            Condition::all().add(col(inner, "id").equals((Alias::new(outer), Alias::new(column))))
        }
        Link::ToMany { table, column, dated: validity } => {
            rows.from_as(Alias::new(table), Alias::new(inner));
            dated(
                Condition::all().add(col(inner, column).equals((Alias::new(outer), Alias::new("id")))),
                inner,
                validity,
            )
        }
        Link::Through { key, via, from, to, dated: validity, table } => {
            let via_alias = format!("{inner}_via");
            rows.from_as(Alias::new(via), Alias::new(&via_alias)).join_as(
                sea_orm::JoinType::InnerJoin,
                Alias::new(table),
                Alias::new(inner),
                col(inner, "id").equals((Alias::new(&via_alias), Alias::new(to))),
            );
            dated(
                Condition::all().add(col(&via_alias, from).equals((Alias::new(outer), Alias::new(key)))),
                &via_alias,
                validity,
            )
        }
        Link::EitherOf { table, columns: [a, b] } => {
            rows.from_as(Alias::new(table), Alias::new(inner));
            Condition::any()
                .add(col(inner, "id").equals((Alias::new(outer), Alias::new(a))))
                .add(col(inner, "id").equals((Alias::new(outer), Alias::new(b))))
        }
    };
    (rows, correlation)
}

/// Projects whose acting (non-funder) partners are seated in more than one country, from the
/// derived facts the write path keeps true (`db::facts`; the same definition as
/// `Project.crossBorder`), so the test is a key lookup, not a grouping of every partnership.
fn cross_border_projects() -> SelectStatement {
    Query::select()
        .column((Alias::new("cb_facts"), Alias::new("project_id")))
        .from_as(Alias::new("project_facts"), Alias::new("cb_facts"))
        .and_where(col("cb_facts", "cross_border").eq(1))
        .to_owned()
}

/// A test on a value: known, and passing. Text is compared exactly (case-sensitive on both
/// backends: `substr`/`instr`, never SQLite's ASCII-folding LIKE).
fn value_test(backend: DatabaseBackend, value: Expr, test: &Test, field: &str) -> Result<Condition, FilterError> {
    let known = || Condition::all().add(value.clone().is_not_null());
    Ok(match test {
        Test::IsNull(true) => Condition::all().add(value.is_null()),
        Test::IsNull(false) => known(),
        Test::Is(flag) => known().add(value.eq(*flag)),
        Test::OneOf(values) => known().add(value.is_in(values.iter().cloned())),
        Test::Number(comparison) => known().add(compare(value, comparison)),
        Test::Date(comparison) => known().add(compare(value, comparison)),
        Test::Text(TextTest::Eq(text)) => known().add(value.eq(text.as_str())),
        Test::Text(TextTest::In(texts)) => known().add(value.is_in(texts.iter().cloned())),
        Test::Text(TextTest::StartsWith(text)) => {
            let prefix = Func::cust(Alias::new("substr")).arg(value.clone()).arg(1).arg(text.chars().count() as i32);
            known().add(Expr::from(prefix).eq(text.as_str()))
        }
        Test::Text(TextTest::Contains(text)) => {
            let position = match backend {
                DatabaseBackend::Postgres => Func::cust(Alias::new("strpos")).arg(value.clone()).arg(text.as_str()),
                _ => Func::cust(Alias::new("instr")).arg(value.clone()).arg(text.as_str()),
            };
            known().add(Expr::from(position).gt(0))
        }
        Test::Text(TextTest::Search(_)) => {
            return Err(FilterError::new(format!("`{field}`: `search` is for names; use `contains`")));
        }
    })
}

fn compare<T>(value: Expr, comparison: &Comparison<T>) -> SimpleExpr
where
    T: Into<sea_orm::Value> + Clone,
{
    match comparison.clone() {
        Comparison::Eq(v) => value.eq(v),
        Comparison::Gt(v) => value.gt(v),
        Comparison::Gte(v) => value.gte(v),
        Comparison::Lt(v) => value.lt(v),
        Comparison::Lte(v) => value.lte(v),
        Comparison::Between(low, high) => value.between(low, high),
    }
}

/// A test on a name. `eq`/`in` compare `name`; the rest compare `search_name` with the folded
/// text. On SQLite a `contains` of three or more characters also asks the FTS5 trigram table
/// (the index); the LIKE beside it keeps the hits exactly those PostgreSQL's LIKE finds.
fn name_test(
    backend: DatabaseBackend,
    table: &str,
    alias: &str,
    test: &Test,
    field: &str,
) -> Result<Condition, FilterError> {
    let folded = || col(alias, "search_name");
    let contains = |word: &str| {
        let like = folded().like(LikeExpr::new(contains_pattern(word)).escape(LIKE_ESCAPE));
        let mut condition = Condition::all().add(like);
        if backend == DatabaseBackend::Sqlite && word.chars().count() >= 3 {
            condition = condition.add(col(alias, "id").in_subquery(fts_rows(table, word)));
        }
        condition
    };
    Ok(match test {
        Test::Text(TextTest::Eq(_) | TextTest::In(_)) | Test::IsNull(_) => {
            value_test(backend, col(alias, "name"), test, field)?
        }
        Test::Text(TextTest::StartsWith(text)) => {
            Condition::all().add(folded().like(LikeExpr::new(prefix_pattern(&search_form(text))).escape(LIKE_ESCAPE)))
        }
        Test::Text(TextTest::Contains(text)) => contains(&search_form(text)),
        Test::Text(TextTest::Search(text)) => {
            search_words(text).iter().fold(Condition::all(), |all, word| all.add(contains(word)))
        }
        _ => return Err(wrong_test(field)),
    })
}

/// `SELECT rowid FROM <table>_search WHERE <table>_search MATCH '"word"'`: the FTS5 trigram
/// phrase query for a substring (the word is one bound value, its quotes doubled).
fn fts_rows(table: &str, word: &str) -> SelectStatement {
    let fts = format!("{table}_search");
    let phrase = format!("\"{}\"", word.replace('"', "\"\""));
    Query::select()
        .column(Alias::new("rowid"))
        .from(Alias::new(&fts))
        .and_where(Expr::col(Alias::new(&fts)).binary(sea_orm::sea_query::BinOper::Custom("MATCH"), phrase))
        .to_owned()
}

/// The relevance of each row to a `search` on its name, lower first (as
/// `domain::text::search_rank`): 0 the whole folded name, 1 its start, 2 a word's start, 3
/// elsewhere.
pub fn search_rank(alias: &str, phrase: &str) -> SimpleExpr {
    let folded = search_phrase(phrase);
    let like = |pattern: String| col(alias, "search_name").like(LikeExpr::new(pattern).escape(LIKE_ESCAPE));
    Expr::case(col(alias, "search_name").eq(folded.as_str()), 0)
        .case(like(prefix_pattern(&folded)), 1)
        .case(
            Condition::any()
                .add(like(format!("% {}", prefix_pattern(&folded))))
                .add(like(format!("%-{}", prefix_pattern(&folded)))),
            2,
        )
        .finally(3)
        .into()
}

/// A relation to the row a column of this row names.
const fn to_one(
    name: &'static str,
    target: fn() -> &'static Table,
    table: &'static str,
    column: &'static str,
) -> Relation {
    Relation { name, target, link: Link::ToOne { table, column }, summary: None }
}

/// A relation to the rows of `table` whose `column` names this row.
const fn to_many(
    name: &'static str,
    target: fn() -> &'static Table,
    table: &'static str,
    column: &'static str,
) -> Relation {
    Relation { name, target, link: Link::ToMany { table, column, dated: None }, summary: None }
}

macro_rules! fields {
    ($($name:literal => $value:expr, $indexed:expr;)*) => {
        &[$(Field { name: $name, value: $value, indexed: $indexed }),*]
    };
}

use Value::{Column, Linked, Name};

const COUNTRY: Value = Linked { link: Link::ToOne { table: "countries", column: "country_id" }, column: "code" };

pub static REGIONS: Table = Table {
    name: "regions",
    fields: fields! {
        "slug" => Column("slug"), true;
        "name" => Name, true;
        "shortName" => Column("short_name"), false;
        "kind" => Column("kind"), false;
        "status" => Column("status"), false;
        "country" => COUNTRY, true;
        "code" => Linked { link: Link::ToMany { table: "region_codes", column: "region_id", dated: Some(("valid_from", "valid_to")) }, column: "value" }, true;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[Relation {
        name: "municipalities",
        summary: None,
        target: || &MUNICIPALITIES,
        link: Link::Through {
            key: "id",
            via: "region_memberships",
            from: "region_id",
            to: "municipality_id",
            dated: Some(("valid_from", "valid_to")),
            table: "municipalities",
        },
    }],
    personal: false,
};

pub static MUNICIPALITIES: Table = Table {
    name: "municipalities",
    fields: fields! {
        "slug" => Column("slug"), true;
        "name" => Name, true;
        "status" => Column("status"), false;
        "country" => COUNTRY, true;
        "code" => Linked { link: Link::ToMany { table: "municipality_codes", column: "municipality_id", dated: Some(("valid_from", "valid_to")) }, column: "value" }, true;
        "establishedOn" => Column("established_on"), false;
        "dissolvedOn" => Column("dissolved_on"), false;
        "adminCentre" => Column("admin_centre"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        Relation {
            name: "regions",
            summary: None,
            target: || &REGIONS,
            link: Link::Through {
                key: "id",
                via: "region_memberships",
                from: "municipality_id",
                to: "region_id",
                dated: Some(("valid_from", "valid_to")),
                table: "regions",
            },
        },
        to_many("organisations", || &ORGANISATIONS, "organisations", "municipality_id"),
        to_many("students", || &STUDENTS, "students", "home_municipality_id"),
    ],
    personal: false,
};

pub static ORGANISATIONS: Table = Table {
    name: "organisations",
    fields: fields! {
        "slug" => Column("slug"), true;
        "name" => Name, true;
        "shortName" => Column("short_name"), false;
        "kind" => Column("kind"), false;
        "country" => COUNTRY, true;
        "orgNumber" => Column("org_number"), true;
        "ror" => Column("ror"), true;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("municipality", || &MUNICIPALITIES, "municipalities", "municipality_id"),
        Relation {
            name: "regions",
            summary: None,
            target: || &REGIONS,
            link: Link::Through {
                key: "municipality_id",
                via: "region_memberships",
                from: "municipality_id",
                to: "region_id",
                dated: Some(("valid_from", "valid_to")),
                table: "regions",
            },
        },
        Relation {
            summary: Some(Summary {
                table: "organisation_facts",
                key: "organisation_id",
                column: "partner_roles",
                field: "role",
                bits: crate::db::facts::partner_role_bits,
            }),
            ..to_many("partnerships", || &PARTNERS, "project_partners", "organisation_id")
        },
        to_many("students", || &STUDENTS, "students", "enrolling_organisation_id"),
        to_many("placements", || &PLACEMENTS, "student_placements", "host_organisation_id"),
    ],
    personal: false,
};

pub static PROGRAMMES: Table = Table {
    name: "programmes",
    fields: fields! {
        "slug" => Column("slug"), true;
        "name" => Name, true;
        "fullName" => Column("full_name"), false;
        "country" => COUNTRY, true;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_many("projects", || &PROJECTS, "projects", "programme_id"),
        to_one("owner", || &ORGANISATIONS, "organisations", "owner_organisation_id"),
        to_one("funder", || &ORGANISATIONS, "organisations", "funder_organisation_id"),
    ],
    personal: false,
};

pub static PROJECTS: Table = Table {
    name: "projects",
    fields: fields! {
        "slug" => Column("slug"), true;
        "name" => Name, true;
        "shortName" => Column("short_name"), false;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "periodApproximate" => Column("period_approximate"), false;
        "budgetTotal" => Column("budget_total"), false;
        "budgetCurrency" => Column("budget_currency"), false;
        "budgetEur" => Column("budget_eur"), false;
        "crossBorder" => Value::CrossBorder, false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("programme", || &PROGRAMMES, "programmes", "programme_id"),
        to_many("partners", || &PARTNERS, "project_partners", "project_id"),
        to_many("goals", || &GOALS, "goals", "project_id"),
        to_many("indicatorValues", || &INDICATOR_VALUES, "indicator_values", "project_id"),
        to_many("collaborations", || &COLLABORATIONS, "collaborations", "project_id"),
        to_many("placements", || &PLACEMENTS, "student_placements", "project_id"),
    ],
    personal: false,
};

pub static PARTNERS: Table = Table {
    name: "project_partners",
    fields: fields! {
        "role" => Column("role"), false;
        "roleLabel" => Column("role_label"), false;
        "budgetShare" => Column("budget_share"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("project", || &PROJECTS, "projects", "project_id"),
        to_one("organisation", || &ORGANISATIONS, "organisations", "organisation_id"),
    ],
    personal: false,
};

pub static GOALS: Table = Table {
    name: "goals",
    fields: fields! {
        "slug" => Column("slug"), true;
        "text" => Column("text"), false;
        "kind" => Column("kind"), false;
        "targetValue" => Column("target_value"), false;
        "targetUnit" => Column("target_unit"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("project", || &PROJECTS, "projects", "project_id"),
        to_many("indicatorValues", || &INDICATOR_VALUES, "indicator_values", "goal_id"),
    ],
    personal: false,
};

pub static INDICATOR_VALUES: Table = Table {
    name: "indicator_values",
    fields: fields! {
        "slug" => Column("slug"), true;
        "text" => Column("text"), false;
        "value" => Column("value"), false;
        "unit" => Column("unit"), false;
        "approximate" => Column("approximate"), false;
        "periodFrom" => Column("period_from"), false;
        "periodTo" => Column("period_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("project", || &PROJECTS, "projects", "project_id"),
        to_one("goal", || &GOALS, "goals", "goal_id"),
    ],
    personal: false,
};

pub static COLLABORATIONS: Table = Table {
    name: "collaborations",
    fields: fields! {
        "slug" => Column("slug"), true;
        "kind" => Column("kind"), false;
        "description" => Column("description"), false;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        Relation {
            name: "organisations",
            summary: None,
            target: || &ORGANISATIONS,
            link: Link::EitherOf { table: "organisations", columns: ["organisation_a_id", "organisation_b_id"] },
        },
        to_one("project", || &PROJECTS, "projects", "project_id"),
    ],
    personal: false,
};

pub static STUDENTS: Table = Table {
    name: "students",
    fields: fields! {
        "slug" => Column("slug"), true;
        "fieldOfStudy" => Column("field_of_study"), false;
        "enrolledFrom" => Column("enrolled_from"), false;
        "enrolledTo" => Column("enrolled_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("homeMunicipality", || &MUNICIPALITIES, "municipalities", "home_municipality_id"),
        to_one("enrollingOrganisation", || &ORGANISATIONS, "organisations", "enrolling_organisation_id"),
        to_many("placements", || &PLACEMENTS, "student_placements", "student_id"),
    ],
    personal: true,
};

pub static PLACEMENTS: Table = Table {
    name: "student_placements",
    fields: fields! {
        "slug" => Column("slug"), true;
        "kind" => Column("kind"), false;
        "validFrom" => Column("valid_from"), false;
        "validTo" => Column("valid_to"), false;
        "verified" => Column("verified"), false;
    },
    relations: &[
        to_one("student", || &STUDENTS, "students", "student_id"),
        to_one("host", || &ORGANISATIONS, "organisations", "host_organisation_id"),
        to_one("project", || &PROJECTS, "projects", "project_id"),
    ],
    personal: true,
};

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::*;

    fn sql(table: &'static Table, filter: &Filter) -> String {
        let scope = Scope { backend: DatabaseBackend::Postgres, personal_data: false };
        let condition = condition(table, filter, scope).expect("the filter compiles");
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(table.name))
            .cond_where(condition)
            .to_string(PostgresQueryBuilder)
    }

    fn partnerships(quantifier: Quantifier, filter: Filter) -> Filter {
        Filter::Related { relation: "partnerships", quantifier, filter: Box::new(filter) }
    }

    fn role(values: &[&str]) -> Filter {
        Filter::Field { field: "role", test: Test::OneOf(values.iter().map(|v| (*v).to_owned()).collect()) }
    }

    #[test]
    fn role_only_quantifiers_read_the_role_summary() {
        // lead 1, owner 2, partner 4, funder 8, any other role 16.
        let only_partner = sql(&ORGANISATIONS, &partnerships(Quantifier::Every, role(&["partner"])));
        assert!(only_partner.contains("NOT EXISTS"), "{only_partner}");
        assert!(only_partner.contains(r#""partner_roles" & 27"#), "{only_partner}");
        assert!(!only_partner.contains("project_partners"), "{only_partner}");
        let some_lead = sql(&ORGANISATIONS, &partnerships(Quantifier::Some, role(&["lead", "funder"])));
        assert!(some_lead.contains(r#""partner_roles" & 9"#), "{some_lead}");
        // A test of another partnership field needs the partnerships themselves.
        let budget = Filter::Field { field: "budgetShare", test: Test::IsNull(true) };
        let mixed_filter = partnerships(Quantifier::Some, Filter::All(vec![role(&["lead"]), budget]));
        let mixed = sql(&ORGANISATIONS, &mixed_filter);
        assert!(mixed.contains("project_partners") && !mixed.contains("organisation_facts"), "{mixed}");
        // The summary's lookup costs what an indexed test does; the rows' EXISTS costs more.
        assert_eq!(cost(&ORGANISATIONS, &partnerships(Quantifier::Every, role(&["partner"]))), 1);
        assert!(cost(&ORGANISATIONS, &mixed_filter) > 3);
    }
}
