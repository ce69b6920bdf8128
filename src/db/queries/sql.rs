//! Hand-written analytical SQL with bound parameters. The analytical statements (metrics,
//! aggregates) are CTEs with window functions and dynamic GROUP BY that read better as SQL than as
//! builder calls; this writer keeps them portable: `?` placeholders on SQLite, `$n` on
//! PostgreSQL, and the few functions that differ.

use std::fmt::Write;

use chrono::NaiveDate;
use sea_orm::{DatabaseBackend, Statement, Value};

use crate::domain::metrics::Period;

#[derive(Debug)]
pub struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Self {
        Self { backend, text: String::with_capacity(1024), values: Vec::new() }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Appends SQL text (never user input: that goes through [`Sql::bind`]).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let _ = write!(self.text, "${}", self.values.len());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(?, ?, …)` for a list of ids (`(NULL)` when empty, which matches nothing).
    pub fn bind_ids(&mut self, ids: &[i32]) -> &mut Self {
        self.text.push('(');
        if ids.is_empty() {
            self.text.push_str("NULL");
        }
        for (index, id) in ids.iter().enumerate() {
            if index > 0 {
                self.text.push_str(", ");
            }
            self.bind(*id);
        }
        self.text.push(')');
        self
    }

    /// ` AND <period of from/to columns overlaps [from, to]>`; open bounds add nothing.
    pub fn and_overlaps(
        &mut self,
        from_column: &str,
        to_column: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> &mut Self {
        if let Some(to) = to {
            self.push(&format!(" AND ({from_column} IS NULL OR {from_column} <= ")).bind(to).push(")");
        }
        if let Some(from) = from {
            self.push(&format!(" AND ({to_column} IS NULL OR {to_column} >= ")).bind(from).push(")");
        }
        self
    }

    /// ` AND <period overlaps [from, to]>` as list filters mean it: also, when a bound is given,
    /// the row has at least one date (a row of unknown dates is in no period).
    pub fn and_dated_overlap(&mut self, from_column: &str, to_column: &str, period: Period) -> &mut Self {
        if period.from.is_some() || period.to.is_some() {
            self.and_overlaps(from_column, to_column, period.from, period.to);
            self.push(&format!(" AND ({from_column} IS NOT NULL OR {to_column} IS NOT NULL)"));
        }
        self
    }

    /// ` AND <from/to columns contain day>`.
    pub fn and_valid_on(&mut self, from_column: &str, to_column: &str, day: NaiveDate) -> &mut Self {
        self.and_overlaps(from_column, to_column, Some(day), Some(day))
    }

    /// The calendar year of a date column, as an integer.
    pub fn year_of(&self, column: &str) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"),
            _ => format!("CAST(strftime('%Y', {column}) AS INTEGER)"),
        }
    }

    /// The first day of a date column's month, as a date (NULL stays NULL).
    pub fn month_of(&self, column: &str) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("CAST(date_trunc('month', CAST({column} AS TIMESTAMP)) AS DATE)"),
            _ => format!("date({column}, 'start of month')"),
        }
    }

    pub fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// One goal's attainment from goal `g` and its latest value `l` (see `domain::metrics::GoalStats`):
/// result ÷ target, or target ÷ result for "at most" targets; NULL without a positive target or a
/// result.
pub const ATTAINMENT: &str = "CASE WHEN g.target_value > 0 AND l.value IS NOT NULL THEN \
     CASE WHEN g.target_comparator IN ('<=', '<') THEN CASE WHEN l.value > 0 THEN g.target_value / l.value END \
     ELSE l.value / g.target_value END END";

/// `SUM(expression)` as a 64-bit integer on both backends (PostgreSQL sums BIGINT to NUMERIC).
pub fn sum_int(expression: &str) -> String {
    format!("CAST(SUM({expression}) AS BIGINT)")
}

impl Sql {
    /// Appends a sea-query SELECT (a list filter reused as `IN (…)`), renumbering its
    /// PostgreSQL placeholders to follow the ones already bound.
    pub fn embed(&mut self, select: &sea_orm::sea_query::SelectStatement) -> &mut Self {
        let statement = self.backend.build(select);
        let offset = self.values.len();
        if self.backend == DatabaseBackend::Postgres {
            // sea-query binds every value, so `$` only ever starts a placeholder here.
            let mut chars = statement.sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '$' {
                    self.text.push(c);
                    continue;
                }
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(n) => {
                        let _ = write!(self.text, "${}", n + offset);
                    }
                    Err(_) => self.text.push('$'),
                }
            }
        } else {
            self.text.push_str(&statement.sql);
        }
        if let Some(values) = statement.values {
            self.values.extend(values.0);
        }
        self
    }
}
