//! Translating municipality codes between two days: "which municipalities on day B correspond
//! to code X on day A". The walk goes over municipalities (not codes), through the reforms
//! between the two days, forwards or backwards: a merger leads to the merged municipality, a
//! split to every part, a transfer of area to both the giver and the receiver; a renumbering
//! keeps the municipality and so its new code.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

/// A municipality's code over an inclusive period (`None`: open).
#[derive(Clone, Debug, PartialEq)]
pub struct DatedCode {
    pub municipality: i32,
    pub value: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// When a municipality existed (inclusive; `None`: open).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Existence {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One predecessor → successor pair of a reform, by municipality.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Succession {
    pub day: NaiveDate,
    pub from: i32,
    pub to: i32,
}

/// Everything a translation needs, loaded once per request.
#[derive(Debug, Default)]
pub struct CodeHistory {
    codes: HashMap<String, Vec<DatedCode>>,
    codes_of: HashMap<i32, Vec<DatedCode>>,
    existence: HashMap<i32, Existence>,
    /// Successions by day, of municipalities that differ.
    by_day: BTreeMap<NaiveDate, Vec<Succession>>,
}

/// The answer for one code.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    /// The municipality that carried the code on the first day (`None`: no such code then).
    pub source: Option<i32>,
    /// The corresponding municipalities on the second day, with their code then (if known),
    /// ordered by code.
    pub matches: Vec<(i32, Option<String>)>,
}

fn holds(from: Option<NaiveDate>, to: Option<NaiveDate>, day: NaiveDate) -> bool {
    from.is_none_or(|f| f <= day) && to.is_none_or(|t| day <= t)
}

impl CodeHistory {
    pub fn new(codes: Vec<DatedCode>, existence: HashMap<i32, Existence>, successions: Vec<Succession>) -> Self {
        let mut history = Self { existence, ..Self::default() };
        for code in codes {
            history.codes_of.entry(code.municipality).or_default().push(code.clone());
            history.codes.entry(code.value.clone()).or_default().push(code);
        }
        for succession in successions.into_iter().filter(|s| s.from != s.to) {
            history.by_day.entry(succession.day).or_default().push(succession);
        }
        history
    }

    fn exists(&self, municipality: i32, day: NaiveDate) -> bool {
        self.existence.get(&municipality).is_none_or(|e| holds(e.from, e.to, day))
    }

    /// The municipality that carried `code` on `day`.
    pub fn municipality_with(&self, code: &str, day: NaiveDate) -> Option<i32> {
        self.codes.get(code)?.iter().find(|c| holds(c.from, c.to, day)).map(|c| c.municipality)
    }

    /// The code `municipality` carried on `day`.
    pub fn code_of(&self, municipality: i32, day: NaiveDate) -> Option<String> {
        self.codes_of.get(&municipality)?.iter().find(|c| holds(c.from, c.to, day)).map(|c| c.value.clone())
    }

    /// Which municipalities on `to` correspond to `code` on `from` (either may be the later day).
    pub fn translate(&self, code: &str, from: NaiveDate, to: NaiveDate) -> Translation {
        let Some(source) = self.municipality_with(code, from) else {
            return Translation { source: None, matches: Vec::new() };
        };
        let mut current: BTreeSet<i32> = BTreeSet::from([source]);
        if to > from {
            for (day, successions) in self.by_day.range(from.succ_opt().unwrap_or(from)..=to) {
                let mut next = current.clone();
                for s in successions.iter().filter(|s| current.contains(&s.from)) {
                    next.insert(s.to);
                }
                next.retain(|m| self.exists(*m, *day));
                current = next;
            }
        } else if to < from {
            for (day, successions) in self.by_day.range(to.succ_opt().unwrap_or(to)..=from).rev() {
                let mut previous = current.clone();
                for s in successions.iter().filter(|s| current.contains(&s.to)) {
                    previous.insert(s.from);
                }
                let day_before = day.pred_opt().unwrap_or(*day);
                previous.retain(|m| self.exists(*m, day_before));
                current = previous;
            }
        }
        let mut matches: Vec<(i32, Option<String>)> =
            current.into_iter().filter(|m| self.exists(*m, to)).map(|m| (m, self.code_of(m, to))).collect();
        matches.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Translation { source: Some(source), matches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn code(municipality: i32, value: &str, from: Option<&str>, to: Option<&str>) -> DatedCode {
        DatedCode { municipality, value: value.into(), from: from.map(d), to: to.map(d) }
    }

    /// 1: Bø 0821 and 2: Sauherad 0822 merge into 3: Midt-Telemark 3817 (2020), 4020 (2024);
    /// 5: Ålesund 1504 → 1507 → 1508 and splits off 6: Haram 1580 in 2024.
    fn history() -> CodeHistory {
        let codes = vec![
            code(1, "0821", None, Some("2019-12-31")),
            code(2, "0822", None, Some("2019-12-31")),
            code(3, "3817", Some("2020-01-01"), Some("2023-12-31")),
            code(3, "4020", Some("2024-01-01"), None),
            code(5, "1504", None, Some("2019-12-31")),
            code(5, "1507", Some("2020-01-01"), Some("2023-12-31")),
            code(5, "1508", Some("2024-01-01"), None),
            code(6, "1580", Some("2024-01-01"), None),
        ];
        let existence = HashMap::from([
            (1, Existence { from: None, to: Some(d("2019-12-31")) }),
            (2, Existence { from: None, to: Some(d("2019-12-31")) }),
            (3, Existence { from: Some(d("2020-01-01")), to: None }),
            (5, Existence { from: None, to: None }),
            (6, Existence { from: Some(d("2024-01-01")), to: None }),
        ]);
        let successions = vec![
            Succession { day: d("2020-01-01"), from: 1, to: 3 },
            Succession { day: d("2020-01-01"), from: 2, to: 3 },
            Succession { day: d("2024-01-01"), from: 5, to: 6 },
            Succession { day: d("2020-01-01"), from: 5, to: 5 },
        ];
        CodeHistory::new(codes, existence, successions)
    }

    #[test]
    fn forward_through_a_merger_and_a_renumbering() {
        let t = history().translate("0821", d("2019-06-01"), d("2025-01-01"));
        assert_eq!(t, Translation { source: Some(1), matches: vec![(3, Some("4020".into()))] });
    }

    #[test]
    fn backward_through_a_merger_gives_every_predecessor() {
        let t = history().translate("4020", d("2025-01-01"), d("2019-06-01"));
        assert_eq!(t.matches, vec![(1, Some("0821".into())), (2, Some("0822".into()))]);
    }

    #[test]
    fn a_split_leads_to_every_part_and_back() {
        let forward = history().translate("1507", d("2022-01-01"), d("2024-06-01"));
        assert_eq!(forward.matches, vec![(5, Some("1508".into())), (6, Some("1580".into()))]);
        let back = history().translate("1580", d("2024-06-01"), d("2022-01-01"));
        assert_eq!(back.matches, vec![(5, Some("1507".into()))]);
    }

    #[test]
    fn same_day_and_unknown_codes() {
        let h = history();
        assert_eq!(h.translate("1504", d("2010-01-01"), d("2010-01-01")).matches, vec![(5, Some("1504".into()))]);
        assert_eq!(
            h.translate("9999", d("2010-01-01"), d("2024-01-01")),
            Translation { source: None, matches: vec![] }
        );
        assert_eq!(h.translate("4020", d("2019-01-01"), d("2024-01-01")).source, None, "4020 did not exist in 2019");
    }
}
