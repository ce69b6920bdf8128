//! The registry's write rules, as plain functions over plain values. The database layer loads
//! what a rule needs (the other memberships of a municipality, the project budget…) inside the
//! write transaction and calls these before writing; the GraphQL layer only maps the result to
//! an error code. Each violation names the field and the rule, so clients can point at the input.

use chrono::NaiveDate;
use entity::enums::CodeScheme;

use super::dates::periods_overlap;

/// A rule an input broke. `field` is the input field's GraphQL name (`validTo`, `value`…).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Violation {
    pub field: String,
    pub rule: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), rule, message: message.into() }
    }
}

pub type Checked = Result<(), Violation>;

/// Rule `period_order`: a period ends on or after the day it starts.
pub fn period(field: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Checked {
    match (from, to) {
        (Some(from), Some(to)) if to < from => {
            Err(Violation::new(field, "period_order", format!("the period ends ({to}) before it starts ({from})")))
        }
        _ => Ok(()),
    }
}

/// Rule `required`: text that must say something.
pub fn required(field: &str, text: &str) -> Checked {
    if text.trim().is_empty() { Err(Violation::new(field, "required", "must not be empty")) } else { Ok(()) }
}

/// The longest text a field may hold, in characters: a name, a note, a goal's text (the
/// longest real goal texts are a few hundred characters).
pub const MAX_TEXT: usize = 10_000;

/// Rule `text_length`: every text is at most [`MAX_TEXT`] characters and holds no NUL.
pub fn texts(fields: &[(&str, Option<&str>)]) -> Checked {
    for (field, text) in fields {
        let Some(text) = text else { continue };
        if text.len() > MAX_TEXT && text.chars().count() > MAX_TEXT {
            return Err(Violation::new(
                *field,
                "text_length",
                format!("is {} characters long; at most {MAX_TEXT} are stored", text.chars().count()),
            ));
        }
        if text.contains('\0') {
            return Err(Violation::new(*field, "text_length", "may not contain NUL characters"));
        }
    }
    Ok(())
}

/// Rule `slug_format`: 1–120 ASCII letters, digits, `-` or `_`, starting with a letter or digit.
/// (The demo's own slugs use capitals in NUTS codes, e.g. `nuts-SE33`, so capitals are allowed.)
pub fn slug(field: &str, slug: &str) -> Checked {
    let well_formed = (1..=120).contains(&slug.len())
        && slug.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if well_formed {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "slug_format",
            format!(
                "`{}` is not a slug (1–120 ASCII letters, digits, `-` or `_`, starting with a letter or digit)",
                // A hostile slug is not echoed whole.
                slug.chars().take(130).collect::<String>()
            ),
        ))
    }
}

/// The largest amount the registry stores (ten thousand billion in any currency): above it a
/// number is a typo or an attack, and sums of such numbers lose cents.
pub const MAX_AMOUNT: f64 = 1e13;

/// Rule `non_negative`: amounts and counts are finite, not negative and at most [`MAX_AMOUNT`].
pub fn non_negative(field: &str, value: Option<f64>) -> Checked {
    match value {
        Some(value) if !value.is_finite() || value < 0.0 => {
            Err(Violation::new(field, "non_negative", format!("{value} is not a non-negative number")))
        }
        Some(value) if value > MAX_AMOUNT => Err(Violation::new(
            field,
            "amount_range",
            format!("{value} is more than {MAX_AMOUNT:e}, the largest amount the registry stores"),
        )),
        _ => Ok(()),
    }
}

/// Rule `code_format`: the official shape of each code scheme.
pub fn code(field: &str, scheme: CodeScheme, value: &str) -> Checked {
    let digits = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_digit());
    // NUTS: a two-letter country code, then one alphanumeric character per level.
    let nuts = |level: usize| {
        value.len() == 2 + level
            && value.bytes().take(2).all(|b| b.is_ascii_uppercase())
            && value.bytes().skip(2).all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    let (ok, expected) = match scheme {
        CodeScheme::Kommunenummer => (digits(4), "4 digits (Norwegian kommunenummer, e.g. 4020)"),
        CodeScheme::Kommunkod => (digits(4), "4 digits (Swedish kommunkod, e.g. 2580)"),
        CodeScheme::Fylkesnummer => (digits(2), "2 digits (Norwegian fylkesnummer, e.g. 40)"),
        CodeScheme::Lanskod => (digits(2), "2 digits (Swedish länskod, e.g. 25)"),
        CodeScheme::Nuts0 => (nuts(0), "NUTS level 0: the country code (e.g. SE)"),
        CodeScheme::Nuts1 => (nuts(1), "NUTS level 1: country code + 1 character (e.g. SE3)"),
        CodeScheme::Nuts2 => (nuts(2), "NUTS level 2: country code + 2 characters (e.g. SE33)"),
        CodeScheme::Nuts3 => (nuts(3), "NUTS level 3: country code + 3 characters (e.g. SE332)"),
        CodeScheme::Iso3166_2 => {
            let ok = value.split_once('-').is_some_and(|(country, sub)| {
                country.len() == 2
                    && country.bytes().all(|b| b.is_ascii_uppercase())
                    && (1..=3).contains(&sub.len())
                    && sub.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            });
            (ok, "ISO 3166-2: country code, `-`, 1–3 characters (e.g. NO-40, SE-BD)")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "code_format",
            format!("`{value}` is not a valid {} code: {expected}", scheme.as_str()),
        ))
    }
}

/// A dated row already in the registry that a new one must not overlap.
#[derive(Clone, Debug)]
pub struct Dated {
    /// How to name it in the message (`the membership in Troms og Finnmark`…).
    pub label: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Rules `membership_overlap` and `code_overlap`: a new dated row must not share a day with any
/// of `existing` (the caller passes only the rows that compete: memberships in regions of the
/// same kind, codes of the same scheme).
pub fn no_overlap(
    field: &str,
    rule: &'static str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    existing: &[Dated],
) -> Checked {
    match existing.iter().find(|other| periods_overlap(from, to, other.from, other.to)) {
        Some(other) => Err(Violation::new(
            field,
            rule,
            format!(
                "overlaps {} ({} – {})",
                other.label,
                other.from.map_or("open".into(), |d| d.to_string()),
                other.to.map_or("open".into(), |d| d.to_string())
            ),
        )),
        None => Ok(()),
    }
}

/// Rule `budget_share`: what one partner brings cannot exceed the project's whole budget.
pub fn budget_share(field: &str, share: Option<f64>, project_budget: Option<f64>) -> Checked {
    non_negative(field, share)?;
    match (share, project_budget) {
        (Some(share), Some(budget)) if share > budget => Err(Violation::new(
            field,
            "budget_share",
            format!("a partner's share ({share}) cannot exceed the project budget ({budget})"),
        )),
        _ => Ok(()),
    }
}

/// Rule `budget_below_shares`: a project budget cannot be cut below its largest partner share.
pub fn budget_covers_shares(field: &str, budget: Option<f64>, largest_share: Option<f64>) -> Checked {
    non_negative(field, budget)?;
    match (budget, largest_share) {
        (Some(budget), Some(share)) if share > budget => Err(Violation::new(
            field,
            "budget_share",
            format!("the budget ({budget}) is below a partner's share ({share})"),
        )),
        _ => Ok(()),
    }
}

/// Rule `distinct_organisations`: a collaboration ties two different organisations.
pub fn distinct(field: &str, a: i32, b: i32) -> Checked {
    if a == b {
        Err(Violation::new(field, "distinct_organisations", "a collaboration needs two different organisations"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    #[test]
    fn codes_follow_their_scheme() {
        assert!(code("value", CodeScheme::Kommunenummer, "4020").is_ok());
        assert_eq!(code("value", CodeScheme::Kommunenummer, "402").map_err(|v| v.rule), Err("code_format"));
        assert!(code("value", CodeScheme::Lanskod, "25").is_ok());
        assert!(code("value", CodeScheme::Lanskod, "2A").is_err());
        assert!(code("value", CodeScheme::Nuts2, "SE33").is_ok());
        assert!(code("value", CodeScheme::Nuts2, "SE332").is_err());
        assert!(code("value", CodeScheme::Nuts3, "NO081").is_ok());
        assert!(code("value", CodeScheme::Iso3166_2, "SE-BD").is_ok());
        assert!(code("value", CodeScheme::Iso3166_2, "SEBD").is_err());
    }

    #[test]
    fn overlapping_periods_are_refused_adjacent_ones_are_not() {
        let existing = [Dated { label: "x".into(), from: day("2020-01-01"), to: day("2023-12-31") }];
        assert!(no_overlap("validFrom", "membership_overlap", day("2024-01-01"), None, &existing).is_ok());
        assert!(no_overlap("validFrom", "membership_overlap", day("2023-12-31"), None, &existing).is_err());
        assert!(no_overlap("validFrom", "membership_overlap", None, day("2019-12-31"), &existing).is_ok());
        assert!(period("validTo", day("2020-01-02"), day("2020-01-01")).is_err());
        assert!(budget_share("budgetShare", Some(10.0), Some(5.0)).is_err());
        assert!(budget_share("budgetShare", Some(5.0), Some(5.0)).is_ok());
    }
}
