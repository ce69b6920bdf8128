//! ISO 4217 currency codes, and amounts converted to euros at the ECB euro reference rate of a day.
//!
//! The rate table is the ECB's daily reference rates as a `date,currency,rate` CSV (units of the
//! currency per euro, ECB business days only), which the caller embeds and hands over as text.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// The active ISO 4217 alphabetic codes: List One as amended through 2025 (XCG replacing ANG, ZWG
/// replacing ZWL, XAD added), less the codes withdrawn since (BGN with Bulgaria's euro, 2026).
/// Withdrawn codes such as HRK, BGN, ANG, ZWL, SLL or VEF are not active and are refused.
/// Kept sorted: lookups are by binary search (a test checks the order).
const ACTIVE_ISO_4217: [&str; 179] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND",
    "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY",
    "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
    "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR",
    "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS",
    "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
    "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAD", "XAF", "XAG", "XAU",
    "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER",
    "ZAR", "ZMW", "ZWG",
];

/// Is `code` an active ISO 4217 alphabetic code of money (3 uppercase letters, e.g. "NOK"; not
/// `XXX`, `XAU` or the other codes of things that are not money)? Exact: "nok" is refused,
/// callers normalise.
pub fn is_iso4217(code: &str) -> bool {
    code.len() == 3 && ACTIVE_ISO_4217.binary_search(&code).is_ok() && !NOT_MONEY.contains(&code)
}

/// ISO 4217 codes that are not money a budget can be in: precious metals, bond-market and
/// settlement units, the code reserved for testing and `XXX`, "no currency".
const NOT_MONEY: [&str; 13] =
    ["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"];

/// An amount converted to euros, with the rate used and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conversion {
    /// The amount in EUR: the amount divided by `rate`.
    pub eur: f64,
    /// Units of the currency per EUR that was used (1.0 for EUR).
    pub rate: f64,
    /// The ECB business day whose rate was used (= the requested date for EUR).
    pub rate_date: NaiveDate,
    /// The date the caller asked for.
    pub requested: NaiveDate,
    pub basis: RateBasis,
}

/// Which rate a conversion used, relative to the requested day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateBasis {
    /// A rate published on the requested day (or EUR).
    Exact,
    /// The last rate published before the requested day (weekend, holiday, a gap in the series).
    PreviousDay,
    /// The requested day is after the table's last day: the currency's last rate is used.
    AfterTable,
    /// The requested day is before the currency's first rate: the first rate is used.
    BeforeTable,
}

/// Why an amount could not be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    /// Not an active ISO 4217 code.
    #[error("{0:?} is not an active ISO 4217 currency code")]
    UnknownCurrency(String),
    /// An ISO 4217 code the table has no rates for (e.g. CHF).
    #[error("there are no ECB euro reference rates for {0}")]
    NoRates(String),
}

/// The parsed ECB table: per currency its rates sorted by day, looked up by binary search.
#[derive(Clone, Debug, Default)]
pub struct RateTable {
    series: BTreeMap<String, Vec<(NaiveDate, f64)>>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl RateTable {
    /// Parses the `date,currency,rate` CSV (header first; CRLF, blank lines and a trailing newline
    /// tolerated). Every currency must be an ISO 4217 code other than EUR, every rate a positive
    /// number, and a currency may have one rate a day. Errors name the line.
    pub fn parse(csv: &str) -> Result<RateTable, String> {
        let csv = csv.strip_prefix('\u{feff}').unwrap_or(csv);
        let mut lines = csv.lines().map(|line| line.trim_end_matches('\r'));
        if lines.next().map(str::trim) != Some("date,currency,rate") {
            return Err("line 1: expected the header date,currency,rate".to_owned());
        }
        let mut series: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
        for (index, line) in lines.enumerate() {
            let number = index + 2;
            if line.trim().is_empty() {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let (Some(date), Some(currency), Some(rate), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(format!("line {number}: expected three fields date,currency,rate"));
            };
            let date =
                parse_iso_date(date).ok_or_else(|| format!("line {number}: {date:?} is not a YYYY-MM-DD date"))?;
            if currency == "EUR" || !is_iso4217(currency) {
                return Err(format!("line {number}: {currency:?} is not an ISO 4217 code other than EUR"));
            }
            let rate = rate
                .parse::<f64>()
                .ok()
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                .ok_or_else(|| format!("line {number}: {rate:?} is not a positive rate"))?;
            // Looked up by &str first so that only a currency's first row allocates its key.
            let rates = match series.get_mut(currency) {
                Some(rates) => rates,
                None => series.entry(currency.to_owned()).or_default(),
            };
            if rates.last().is_some_and(|&(previous, _)| previous == date) {
                return Err(format!("line {number}: a second {currency} rate for {date}"));
            }
            rates.push((date, rate));
        }
        for (currency, rates) in &mut series {
            // The ECB file is in date order, so this normally costs one pass.
            if !rates.is_sorted_by_key(|&(date, _)| date) {
                rates.sort_by_key(|&(date, _)| date);
                if let Some(pair) = rates.windows(2).find(|pair| pair[0].0 == pair[1].0) {
                    return Err(format!("two {currency} rates for {}", pair[0].0));
                }
            }
        }
        let first = series.values().filter_map(|rates| rates.first()).map(|&(date, _)| date).min();
        let last = series.values().filter_map(|rates| rates.last()).map(|&(date, _)| date).max();
        Ok(RateTable { series, first, last })
    }

    /// Converts `amount` of `currency` (exact ISO 4217 code) to EUR at the rate of `date`: that
    /// day's rate, else the last one before it, else (before the currency's first rate) the first.
    /// EUR converts at 1.0. Inside a gap in a series (ISK has none from 2008-12-10 to 2018-01-31)
    /// the last rate before the gap is used, with basis PreviousDay and its `rate_date` showing how
    /// old it is; callers that care can look at the distance.
    pub fn convert(&self, amount: f64, currency: &str, date: NaiveDate) -> Result<Conversion, ConversionError> {
        if !is_iso4217(currency) {
            return Err(ConversionError::UnknownCurrency(currency.to_owned()));
        }
        if currency == "EUR" {
            return Ok(Conversion {
                eur: amount,
                rate: 1.0,
                rate_date: date,
                requested: date,
                basis: RateBasis::Exact,
            });
        }
        let rates = self.series.get(currency).map(Vec::as_slice).unwrap_or_default();
        let published = rates.partition_point(|&(day, _)| day <= date);
        let (rate_date, rate, basis) = match published.checked_sub(1).and_then(|index| rates.get(index)) {
            Some(&(day, rate)) if day == date => (day, rate, RateBasis::Exact),
            Some(&(day, rate)) if self.last.is_some_and(|last| date > last) => (day, rate, RateBasis::AfterTable),
            Some(&(day, rate)) => (day, rate, RateBasis::PreviousDay),
            None => match rates.first() {
                Some(&(day, rate)) => (day, rate, RateBasis::BeforeTable),
                None => return Err(ConversionError::NoRates(currency.to_owned())),
            },
        };
        Ok(Conversion { eur: amount / rate, rate, rate_date, requested: date, basis })
    }

    /// The last day with any rate.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.last
    }

    /// The first day with any rate.
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.first
    }

    /// The currencies with rates, alphabetically.
    pub fn currencies(&self) -> Vec<&str> {
        self.series.keys().map(String::as_str).collect()
    }
}

/// "YYYY-MM-DD" by hand: chrono's format parser is the slow part of a 40 000-row table.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0u32, |value, &b| b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0')))
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// The ECB table shipped in the binary (`data/reference/rates/`), parsed once (~5 ms).
pub fn ecb() -> &'static RateTable {
    static TABLE: std::sync::OnceLock<RateTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        // The file is checked by a test; an unreadable copy would leave budgets unconverted.
        RateTable::parse(include_str!("../../data/reference/rates/ecb-eur-reference-rates.csv")).unwrap_or_default()
    })
}

/// A budget in euros as the write path stores it: the amount, the rate used (units per euro)
/// and the ECB day whose rate it was. EUR needs no date; any other currency is converted at the
/// rate of `date` (the budget's own date: the project's start), and not at all without one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoredConversion {
    pub eur: f64,
    pub rate: f64,
    pub rate_date: Option<NaiveDate>,
}

pub fn budget_to_eur(amount: f64, currency: &str, date: Option<NaiveDate>) -> Option<StoredConversion> {
    if currency == "EUR" {
        return Some(StoredConversion { eur: amount, rate: 1.0, rate_date: None });
    }
    let conversion = ecb().convert(amount, currency, date?).ok()?;
    Some(StoredConversion { eur: conversion.eur, rate: conversion.rate, rate_date: Some(conversion.rate_date) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        parse_iso_date(text).expect("a test date")
    }

    /// Real ECB rates around the edges the tests need, in the file's layout.
    const SAMPLE: &str = "date,currency,rate
1999-01-04,NOK,8.855
1999-01-04,SEK,9.4696
1999-01-04,ISK,81.48
2008-12-09,NOK,9.15
2008-12-09,ISK,290
2014-12-31,NOK,9.042
2015-01-02,NOK,9.042
2015-01-02,SEK,9.4702
2015-01-05,NOK,9.1075
2018-02-01,ISK,125.01
2026-10-30,NOK,10.312
2026-10-30,ISK,136
";

    fn sample() -> RateTable {
        RateTable::parse(SAMPLE).expect("the sample parses")
    }

    #[test]
    fn iso4217_codes() {
        assert!(ACTIVE_ISO_4217.windows(2).all(|pair| pair[0] < pair[1]), "sorted and unique");
        assert!(ACTIVE_ISO_4217.iter().all(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())));
        for code in ["NOK", "SEK", "DKK", "ISK", "EUR", "USD", "GBP", "CHF", "XCG", "ZWG", "XOF"] {
            assert!(is_iso4217(code), "{code}");
        }
        // Lowercase is refused: callers normalise. Withdrawn codes are not active.
        for code in [
            "nok", "Nok", "XYZ", "", "NOKK", "NO", "HRK", "DEM", "ANG", "ZWL", "SLL", "BGN", " NOK", "XXX", "XAU",
            "XTS",
        ] {
            assert!(!is_iso4217(code), "{code}");
        }
    }

    #[test]
    fn nok_on_a_business_day_is_exact() {
        let conversion = sample().convert(1_000_000.0, "NOK", day("2015-01-02")).expect("converts");
        assert_eq!(conversion.rate, 9.042);
        assert_eq!(conversion.eur, 1_000_000.0 / 9.042);
        assert!((conversion.eur - 110_595.0).abs() < 1.0);
        assert_eq!(conversion.rate_date, day("2015-01-02"));
        assert_eq!(conversion.requested, day("2015-01-02"));
        assert_eq!(conversion.basis, RateBasis::Exact);
    }

    #[test]
    fn saturday_uses_fridays_rate() {
        let conversion = sample().convert(100.0, "NOK", day("2015-01-03")).expect("converts");
        assert_eq!(conversion.basis, RateBasis::PreviousDay);
        assert_eq!(conversion.rate_date, day("2015-01-02"));
        assert_eq!(conversion.requested, day("2015-01-03"));
        assert_eq!(conversion.rate, 9.042);
    }

    #[test]
    fn after_the_table_uses_the_last_rate() {
        let conversion = sample().convert(100.0, "NOK", day("2027-03-01")).expect("converts");
        assert_eq!(conversion.basis, RateBasis::AfterTable);
        assert_eq!(conversion.rate_date, day("2026-10-30"));
        assert_eq!(conversion.rate, 10.312);
        // The table's last day itself is exact.
        assert_eq!(sample().convert(1.0, "NOK", day("2026-10-30")).map(|c| c.basis), Ok(RateBasis::Exact));
    }

    #[test]
    fn before_the_table_uses_the_first_rate() {
        let conversion = sample().convert(100.0, "SEK", day("1998-06-30")).expect("converts");
        assert_eq!(conversion.basis, RateBasis::BeforeTable);
        assert_eq!(conversion.rate_date, day("1999-01-04"));
        assert_eq!(conversion.rate, 9.4696);
    }

    #[test]
    fn eur_is_identity() {
        let conversion = sample().convert(1234.5, "EUR", day("1990-05-17")).expect("converts");
        assert_eq!(
            conversion,
            Conversion {
                eur: 1234.5,
                rate: 1.0,
                rate_date: day("1990-05-17"),
                requested: day("1990-05-17"),
                basis: RateBasis::Exact
            }
        );
        // Even with an empty table.
        let empty = RateTable::parse("date,currency,rate\n").expect("parses");
        assert_eq!(empty.convert(5.0, "EUR", day("2020-01-01")).map(|c| c.eur), Ok(5.0));
    }

    #[test]
    fn unknown_and_unrated_currencies() {
        let table = sample();
        assert_eq!(
            table.convert(1.0, "XYZ", day("2015-01-02")),
            Err(ConversionError::UnknownCurrency("XYZ".to_owned()))
        );
        assert_eq!(
            table.convert(1.0, "nok", day("2015-01-02")),
            Err(ConversionError::UnknownCurrency("nok".to_owned()))
        );
        assert_eq!(table.convert(1.0, "CHF", day("2015-01-02")), Err(ConversionError::NoRates("CHF".to_owned())));
        assert_eq!(
            ConversionError::NoRates("CHF".to_owned()).to_string(),
            "there are no ECB euro reference rates for CHF"
        );
    }

    #[test]
    fn isk_gap_uses_the_last_rate_before_it() {
        let table = sample();
        let inside = table.convert(290.0, "ISK", day("2012-06-15")).expect("converts");
        assert_eq!(inside.basis, RateBasis::PreviousDay);
        assert_eq!(inside.rate_date, day("2008-12-09"));
        assert_eq!(inside.eur, 1.0);
        let after = table.convert(125.01, "ISK", day("2018-02-01")).expect("converts");
        assert_eq!((after.basis, after.eur), (RateBasis::Exact, 1.0));
    }

    #[test]
    fn table_bounds_and_currencies() {
        let table = sample();
        assert_eq!(table.first_day(), Some(day("1999-01-04")));
        assert_eq!(table.last_day(), Some(day("2026-10-30")));
        assert_eq!(table.currencies(), ["ISK", "NOK", "SEK"]);
        let empty = RateTable::parse("date,currency,rate").expect("parses");
        assert_eq!((empty.first_day(), empty.last_day()), (None, None));
        assert!(empty.currencies().is_empty());
    }

    #[test]
    fn parse_tolerates_crlf_and_unsorted_rows() {
        let crlf = SAMPLE.replace('\n', "\r\n");
        let table = RateTable::parse(&crlf).expect("CRLF parses");
        assert_eq!(table.convert(1.0, "NOK", day("2015-01-02")).map(|c| c.rate), Ok(9.042));
        let unsorted = "date,currency,rate\n2015-01-05,NOK,9.1075\n2015-01-02,NOK,9.042\n\n";
        let table = RateTable::parse(unsorted).expect("parses");
        assert_eq!(table.convert(1.0, "NOK", day("2015-01-03")).map(|c| c.rate), Ok(9.042));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let cases = [
            ("", "line 1"),
            ("currency,date,rate\n", "line 1"),
            ("date,currency,rate\n2015-01-02,NOK\n", "line 2"),
            ("date,currency,rate\n2015-01-02,NOK,9.042\n2015-01-32,NOK,9\n", "line 3"),
            ("date,currency,rate\n2015-01-02,NOK,9.042,x\n", "line 2"),
            ("date,currency,rate\n2015-01-02,XYZ,1\n", "line 2"),
            ("date,currency,rate\n2015-01-02,EUR,1\n", "line 2"),
            ("date,currency,rate\n\n2015-01-02,NOK,-1\n", "line 3"),
            ("date,currency,rate\n2015-01-02,NOK,NaN\n", "line 2"),
            ("date,currency,rate\n2015-01-02,NOK,9\n2015-01-02,NOK,9\n", "line 3"),
        ];
        for (csv, line) in cases {
            let error = RateTable::parse(csv).expect_err(csv);
            assert!(error.starts_with(line), "{csv:?}: {error}");
        }
        let unsorted_duplicate = "date,currency,rate\n2015-01-05,NOK,9\n2015-01-02,NOK,9\n2015-01-05,NOK,9\n";
        assert!(RateTable::parse(unsorted_duplicate).is_err());
    }

    #[test]
    fn the_real_ecb_table() {
        let table = RateTable::parse(include_str!("../../data/reference/rates/ecb-eur-reference-rates.csv"))
            .expect("the ECB table parses");
        assert_eq!(table.first_day(), Some(day("1999-01-04")));
        assert_eq!(table.last_day(), Some(day("2026-10-30")));
        assert_eq!(table.currencies(), ["DKK", "GBP", "ISK", "NOK", "SEK", "USD"]);
        let nok = table.convert(1_000_000.0, "NOK", day("2015-01-02")).expect("converts");
        assert_eq!((nok.rate, nok.basis), (9.042, RateBasis::Exact));
        assert_eq!(nok.eur, 1_000_000.0 / 9.042);
        let saturday = table.convert(1.0, "SEK", day("2015-01-03")).expect("converts");
        assert_eq!(
            (saturday.rate_date, saturday.rate, saturday.basis),
            (day("2015-01-02"), 9.4702, RateBasis::PreviousDay)
        );
        let gap = table.convert(1.0, "ISK", day("2013-07-01")).expect("converts");
        assert_eq!((gap.rate_date, gap.rate, gap.basis), (day("2008-12-09"), 290.0, RateBasis::PreviousDay));
        let later = table.convert(1.0, "ISK", day("2030-01-01")).expect("converts");
        assert_eq!((later.rate_date, later.rate, later.basis), (day("2026-10-30"), 136.0, RateBasis::AfterTable));
        assert_eq!(table.convert(1.0, "DKK", day("1998-12-31")).map(|c| c.basis), Ok(RateBasis::BeforeTable));
    }
}
