//! Dates as the sources give them. Some are partial ("2018", "2015-autumn", 2014); we keep the
//! text and store the widest range it can mean, marked approximate, so period filters stay
//! honest.

use chrono::NaiveDate;

/// A date range read from a (possibly partial) source date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateSpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// True when the source gave less than a full day.
    pub approximate: bool,
}

/// Parses `YYYY-MM-DD`, `YYYY-MM`, `YYYY`, or `YYYY-<season>` (spring, summer, autumn, winter,
/// in English or Norwegian/Swedish).
pub fn parse_partial_date(text: &str) -> Result<DateSpan, String> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(DateSpan { first: day, last: day, approximate: false });
    }
    let (year_text, rest) = match text.split_once('-') {
        Some((year, rest)) => (year, Some(rest)),
        None => (text, None),
    };
    let year: i32 = year_text
        .parse()
        .ok()
        .filter(|year| (1000..=9999).contains(year))
        .ok_or_else(|| format!("`{text}` is not a date (expected YYYY-MM-DD, YYYY-MM, YYYY or YYYY-season)"))?;
    let (first_month, last_month) = match rest {
        None => (1, 12),
        Some(rest) => match rest.to_lowercase().as_str() {
            "spring" | "vår" | "våren" => (3, 5),
            "summer" | "sommer" | "sommar" | "sommeren" => (6, 8),
            "autumn" | "fall" | "høst" | "høsten" | "höst" | "hösten" => (9, 11),
            // Winter straddles the new year; the year given is the one it starts in.
            "winter" | "vinter" | "vinteren" => (12, 14),
            month => {
                let month: u32 = month
                    .parse()
                    .ok()
                    .filter(|month| (1..=12).contains(month))
                    .ok_or_else(|| format!("`{text}` has an unknown month or season `{rest}`"))?;
                (month, month)
            }
        },
    };
    let first = month_start(year, first_month).ok_or_else(|| format!("`{text}` is out of range"))?;
    let last = month_end(year, last_month).ok_or_else(|| format!("`{text}` is out of range"))?;
    Ok(DateSpan { first, last, approximate: true })
}

/// A whole year as a span, for sources that give a bare year number.
pub fn year_span(year: i64) -> Result<DateSpan, String> {
    parse_partial_date(&year.to_string())
}

/// Month numbers above 12 roll into the next year (used for winter).
fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    let (year, month) = (year + ((month - 1) / 12) as i32, (month - 1) % 12 + 1);
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn month_end(year: i32, month: u32) -> Option<NaiveDate> {
    month_start(year, month + 1).and_then(|next| next.pred_opt())
}

/// True when the closed ranges [a_from, a_to] and [b_from, b_to] share a day; `None` is open.
pub fn periods_overlap(
    a_from: Option<NaiveDate>,
    a_to: Option<NaiveDate>,
    b_from: Option<NaiveDate>,
    b_to: Option<NaiveDate>,
) -> bool {
    let starts_before_b_ends = match (a_from, b_to) {
        (Some(a), Some(b)) => a <= b,
        _ => true,
    };
    let ends_after_b_starts = match (a_to, b_from) {
        (Some(a), Some(b)) => a >= b,
        _ => true,
    };
    starts_before_b_ends && ends_after_b_starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| panic!("bad test date {text}"))
    }

    #[test]
    fn partial_dates_take_their_widest_range() {
        let cases = [
            ("2018-05-03", "2018-05-03", "2018-05-03", false),
            ("2018", "2018-01-01", "2018-12-31", true),
            ("2015-autumn", "2015-09-01", "2015-11-30", true),
            ("2014-spring", "2014-03-01", "2014-05-31", true),
            ("2015-summer", "2015-06-01", "2015-08-31", true),
            ("2016-02", "2016-02-01", "2016-02-29", true),
            ("2019-winter", "2019-12-01", "2020-02-29", true),
        ];
        for (text, first, last, approximate) in cases {
            let span = parse_partial_date(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert_eq!(span, DateSpan { first: d(first), last: d(last), approximate }, "{text}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        for text in ["", "soon", "2015-13", "20150", "2015-autumnish"] {
            assert!(parse_partial_date(text).is_err(), "{text} should not parse");
        }
    }

    #[test]
    fn overlap_treats_none_as_open() {
        assert!(periods_overlap(None, Some(d("2019-12-31")), Some(d("2018-06-01")), Some(d("2018-06-01"))));
        assert!(!periods_overlap(None, Some(d("2019-12-31")), Some(d("2022-06-01")), Some(d("2022-06-01"))));
        assert!(periods_overlap(Some(d("2024-01-01")), None, Some(d("2025-01-01")), None));
    }
}
