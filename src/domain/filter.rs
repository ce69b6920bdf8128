//! The analysts' filter language as plain data: boolean trees (`and`/`or`/`not`) of field tests
//! and relation quantifiers (`some`/`none`/`every`), with the limits every filter must keep.
//! The GraphQL layer builds a [`Filter`] from a `…Where` input; `db::queries::filter` checks its
//! fields against a table and compiles it to parameterised SQL.
//!
//! Semantics are two-valued: a test on an unknown (NULL) value is false, so `not` of it is
//! true, and `every` means "no related row fails the test".

use chrono::NaiveDate;

/// The deepest a filter may nest (`and`, `or`, `not` and relations each add a level).
pub const MAX_DEPTH: usize = 6;
/// The most tests (field tests and relation quantifiers) one filter may hold.
pub const MAX_TESTS: usize = 40;
/// The most values one `in` may list.
pub const MAX_IN_VALUES: usize = 500;
/// The longest text one test may hold, in characters.
pub const MAX_TEXT: usize = 200;

/// A filter over the rows of one table.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Every part holds (an empty list holds for every row).
    All(Vec<Filter>),
    /// Some part holds (an empty list holds for no row).
    Any(Vec<Filter>),
    Not(Box<Filter>),
    /// A test on one field of the row, named as in the API (`name`, `budgetEur`).
    Field {
        field: &'static str,
        test: Test,
    },
    /// A test on the rows a relation leads to (`partners`, `programme`).
    Related {
        relation: &'static str,
        quantifier: Quantifier,
        filter: Box<Filter>,
    },
    /// `filter` with dated links (region memberships, codes) read on `day`.
    OnDay {
        day: NaiveDate,
        filter: Box<Filter>,
    },
}

/// How a relation's rows must pass: at least one, none, or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Some,
    None,
    Every,
}

/// A test on one value.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Text(TextTest),
    Number(Comparison<f64>),
    Date(Comparison<NaiveDate>),
    /// An enum or flag equal to one of these (stored) values.
    OneOf(Vec<String>),
    /// A yes/no field is this value.
    Is(bool),
    /// The value is (true) or is not (false) unknown.
    IsNull(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TextTest {
    Eq(String),
    In(Vec<String>),
    StartsWith(String),
    Contains(String),
    /// Every word occurs in the (folded) name; rows rank by how well the whole phrase matches.
    Search(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Comparison<T> {
    Eq(T),
    Gt(T),
    Gte(T),
    Lt(T),
    Lte(T),
    /// Inclusive on both ends.
    Between(T, T),
}

/// Why a filter was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    pub message: String,
}

impl FilterError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// How big a filter is: its deepest nesting and its number of tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub depth: usize,
    pub tests: usize,
}

impl Filter {
    /// `All` of `parts`, flattened when there is only one.
    pub fn all(mut parts: Vec<Filter>) -> Filter {
        if parts.len() == 1 { parts.remove(0) } else { Filter::All(parts) }
    }

    /// The filter's depth and test count; a filter past the limits, or a test with too many or
    /// too long values, or a reversed `between`, is refused.
    pub fn check(&self) -> Result<Shape, FilterError> {
        let mut shape = Shape::default();
        self.walk(1, &mut shape)?;
        Ok(shape)
    }

    fn walk(&self, depth: usize, shape: &mut Shape) -> Result<(), FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError::new(format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        shape.depth = shape.depth.max(depth);
        match self {
            Filter::All(parts) | Filter::Any(parts) => {
                // A one-part `and` adds no level of its own: `{and: [{…}]}` is `{…}`.
                let inner = if parts.len() > 1 { depth + 1 } else { depth };
                parts.iter().try_for_each(|part| part.walk(inner, shape))
            }
            Filter::Not(inner) => inner.walk(depth + 1, shape),
            Filter::OnDay { filter, .. } => filter.walk(depth, shape),
            Filter::Related { filter, .. } => {
                shape.tests += 1;
                filter.walk(depth + 1, shape)
            }
            Filter::Field { field, test } => {
                shape.tests += 1;
                test.check(field)
            }
        }?;
        if shape.tests > MAX_TESTS {
            return Err(FilterError::new(format!("the filter holds more than {MAX_TESTS} tests")));
        }
        Ok(())
    }

    /// The phrase of a `search` that applies to every row (one not under `or`, `not` or a
    /// relation): lists with no explicit order rank by it.
    pub fn ranking_search(&self) -> Option<(&'static str, &str)> {
        match self {
            Filter::Field { field, test: Test::Text(TextTest::Search(phrase)) } => Some((field, phrase)),
            Filter::All(parts) => parts.iter().find_map(Filter::ranking_search),
            Filter::OnDay { filter, .. } => filter.ranking_search(),
            _ => None,
        }
    }
}

impl Filter {
    /// For a filter that tests nothing but the enum or text field `field` (with `eq`, `in` or
    /// `isNull`, under any `and`/`or`/`not`), whether it holds for each of `values` (a value
    /// is stored and known); `None` when it tests anything else. A finite set of values makes
    /// such a filter a set of them, so a relation quantifier over it can read a per-row
    /// summary of which values the related rows carry instead of the rows themselves.
    pub fn passes_for(&self, field: &str, values: &[&str]) -> Option<Vec<bool>> {
        values.iter().map(|value| self.holds_for(field, value)).collect()
    }

    fn holds_for(&self, field: &str, value: &str) -> Option<bool> {
        match self {
            Filter::All(parts) => parts.iter().try_fold(true, |all, part| Some(part.holds_for(field, value)? && all)),
            Filter::Any(parts) => parts.iter().try_fold(false, |any, part| Some(part.holds_for(field, value)? || any)),
            Filter::Not(inner) => inner.holds_for(field, value).map(|holds| !holds),
            Filter::OnDay { filter, .. } => filter.holds_for(field, value),
            Filter::Field { field: tested, test } if *tested == field => match test {
                Test::OneOf(values) | Test::Text(TextTest::In(values)) => Some(values.iter().any(|v| v == value)),
                Test::Text(TextTest::Eq(v)) => Some(v == value),
                Test::IsNull(is_null) => Some(!is_null),
                _ => None,
            },
            Filter::Field { .. } | Filter::Related { .. } => None,
        }
    }
}

impl Test {
    fn check(&self, field: &str) -> Result<(), FilterError> {
        let text = |value: &str| {
            if value.chars().count() > MAX_TEXT {
                Err(FilterError::new(format!("`{field}`: a text test holds at most {MAX_TEXT} characters")))
            } else if value.contains('\0') {
                Err(FilterError::new(format!("`{field}`: text may not contain NUL characters")))
            } else {
                Ok(())
            }
        };
        let many = |count: usize| {
            if count > MAX_IN_VALUES {
                Err(FilterError::new(format!("`{field}`: `in` lists at most {MAX_IN_VALUES} values ({count} given)")))
            } else {
                Ok(())
            }
        };
        match self {
            Test::Text(TextTest::Eq(v) | TextTest::StartsWith(v) | TextTest::Contains(v)) => text(v),
            Test::Text(TextTest::Search(v)) => {
                text(v)?;
                if !crate::domain::text::search_form(v).chars().any(char::is_alphanumeric) {
                    return Err(FilterError::new(format!("`{field}`: `search` needs at least one letter or digit")));
                }
                Ok(())
            }
            Test::Text(TextTest::In(values)) => {
                many(values.len())?;
                values.iter().try_for_each(|v| text(v))
            }
            Test::OneOf(values) => many(values.len()),
            Test::Number(Comparison::Between(low, high)) if low > high || low.is_nan() || high.is_nan() => {
                Err(FilterError::new(format!("`{field}`: `between` needs its low end first")))
            }
            Test::Date(Comparison::Between(low, high)) if low > high => {
                Err(FilterError::new(format!("`{field}`: `between` needs its earlier day first")))
            }
            Test::Number(comparison) if comparison.values().iter().any(|v| !v.is_finite()) => {
                Err(FilterError::new(format!("`{field}`: numbers must be finite")))
            }
            Test::Number(_) | Test::Date(_) | Test::Is(_) | Test::IsNull(_) => Ok(()),
        }
    }
}

impl<T: Copy> Comparison<T> {
    fn values(&self) -> Vec<T> {
        match *self {
            Comparison::Eq(v) | Comparison::Gt(v) | Comparison::Gte(v) | Comparison::Lt(v) | Comparison::Lte(v) => {
                vec![v]
            }
            Comparison::Between(low, high) => vec![low, high],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_is(value: &str) -> Filter {
        Filter::Field { field: "name", test: Test::Text(TextTest::Eq(value.into())) }
    }

    #[test]
    fn depth_and_size_are_capped() {
        let mut filter = name_is("a");
        for _ in 0..MAX_DEPTH - 1 {
            filter = Filter::Not(Box::new(filter));
        }
        assert_eq!(filter.check().map(|s| s.depth), Ok(MAX_DEPTH));
        assert!(Filter::Not(Box::new(filter)).check().is_err());

        let wide = Filter::Any((0..=MAX_TESTS).map(|i| name_is(&i.to_string())).collect());
        assert!(wide.check().is_err_and(|e| e.message.contains("tests")));
        // A one-part `and` is no level.
        assert_eq!(Filter::All(vec![name_is("a")]).check().map(|s| s.depth), Ok(1));
    }

    #[test]
    fn bad_values_are_refused() {
        let between = Filter::Field { field: "budgetEur", test: Test::Number(Comparison::Between(2.0, 1.0)) };
        assert!(between.check().is_err());
        let nan = Filter::Field { field: "budgetEur", test: Test::Number(Comparison::Gt(f64::NAN)) };
        assert!(nan.check().is_err());
        let blank = Filter::Field { field: "name", test: Test::Text(TextTest::Search(" – ".into())) };
        assert!(blank.check().is_err());
        let long = name_is(&"x".repeat(MAX_TEXT + 1));
        assert!(long.check().is_err());
    }

    #[test]
    fn a_filter_on_one_enum_field_is_the_set_of_values_it_passes() {
        let role = |values: &[&str]| Filter::Field {
            field: "role",
            test: Test::OneOf(values.iter().map(|v| (*v).to_owned()).collect()),
        };
        let values = ["lead", "owner", "partner", "funder"];
        assert_eq!(Filter::All(vec![]).passes_for("role", &values), Some(vec![true; 4]));
        assert_eq!(role(&["partner"]).passes_for("role", &values), Some(vec![false, false, true, false]));
        let not_lead_or_funder = Filter::Not(Box::new(Filter::Any(vec![role(&["lead"]), role(&["funder"])])));
        assert_eq!(not_lead_or_funder.passes_for("role", &values), Some(vec![false, true, true, false]));
        let both = Filter::All(vec![role(&["lead", "owner"]), role(&["owner", "partner"])]);
        assert_eq!(both.passes_for("role", &values), Some(vec![false, true, false, false]));
        // A test of another field, or of the field in another way, is no set of values.
        assert_eq!(Filter::All(vec![role(&["lead"]), name_is("x")]).passes_for("role", &values), None);
        let starts = Filter::Field { field: "role", test: Test::Text(TextTest::StartsWith("l".into())) };
        assert_eq!(starts.passes_for("role", &values), None);
    }

    #[test]
    fn only_a_search_that_holds_for_every_row_ranks() {
        let search = Filter::Field { field: "name", test: Test::Text(TextTest::Search("tromso".into())) };
        assert_eq!(Filter::All(vec![name_is("x"), search.clone()]).ranking_search(), Some(("name", "tromso")));
        assert_eq!(Filter::Any(vec![name_is("x"), search.clone()]).ranking_search(), None);
        assert_eq!(Filter::Not(Box::new(search)).ranking_search(), None);
    }
}
