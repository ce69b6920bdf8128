//! A region's *epochs*: the maximal spans of days over which its member municipalities stay the
//! same. Between two reforms a region is one fixed set of municipalities, so anything summed per
//! municipality set (the metric rollups) is summed once per epoch, and a region asked on a day is
//! the epoch that holds the day.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// A municipality's membership of a region over an inclusive span (`None`: open).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Membership {
    pub region: i32,
    pub municipality: i32,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One epoch of a region: inclusive span (`None`: open) and its members, sorted and distinct.
#[derive(Clone, Debug, PartialEq)]
pub struct Epoch {
    pub region: i32,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub members: Vec<i32>,
}

/// Does a membership hold on `day` (`None`: the open beginning of time)?
fn holds(membership: &Membership, day: Option<NaiveDate>) -> bool {
    let started = match (membership.from, day) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(from), Some(day)) => from <= day,
    };
    started && membership.to.is_none_or(|to| day.is_none_or(|day| day <= to))
}

/// The epochs of every region with members, by region then date. Spans without members are left
/// out; adjacent spans with the same members are one epoch.
pub fn epochs(memberships: &[Membership]) -> Vec<Epoch> {
    let mut by_region: BTreeMap<i32, Vec<&Membership>> = BTreeMap::new();
    for membership in memberships {
        by_region.entry(membership.region).or_default().push(membership);
    }
    let mut result = Vec::new();
    for (region, rows) in by_region {
        // An epoch starts at the beginning of time, at a membership's first day, or the day
        // after its last (`None` sorts first).
        let mut starts: Vec<Option<NaiveDate>> = vec![None];
        for row in &rows {
            if row.from.is_some() {
                starts.push(row.from);
            }
            if let Some(next) = row.to.and_then(|to| to.succ_opt()) {
                starts.push(Some(next));
            }
        }
        starts.sort();
        starts.dedup();
        let mut region_epochs: Vec<Epoch> = Vec::new();
        for (index, start) in starts.iter().enumerate() {
            let to = starts.get(index + 1).and_then(|next| next.and_then(|day| day.pred_opt()));
            let mut members: Vec<i32> =
                rows.iter().filter(|row| holds(row, *start)).map(|row| row.municipality).collect();
            members.sort_unstable();
            members.dedup();
            if members.is_empty() {
                continue;
            }
            match region_epochs.last_mut() {
                Some(last) if last.members == members && last.to.and_then(|day| day.succ_opt()) == *start => {
                    last.to = to;
                }
                _ => region_epochs.push(Epoch { region, from: *start, to, members }),
            }
        }
        result.extend(region_epochs);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<NaiveDate> {
        Some(text.parse().expect("a test date"))
    }

    fn member(municipality: i32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Membership {
        Membership { region: 1, municipality, from, to }
    }

    #[test]
    fn a_reform_splits_a_region_into_epochs() {
        // Municipality 1 always; 2 until 2019; 3 from 2020 (a merger into another county and a
        // transfer in); 4 only 2020–2023 and back in from 2024 after a gap (a reversed reform).
        let epochs = epochs(&[
            member(1, None, None),
            member(2, None, day("2019-12-31")),
            member(3, day("2020-01-01"), None),
            member(4, day("2020-01-01"), day("2023-12-31")),
        ]);
        let spans: Vec<_> = epochs.iter().map(|e| (e.from, e.to, e.members.clone())).collect();
        assert_eq!(
            spans,
            vec![
                (None, day("2019-12-31"), vec![1, 2]),
                (day("2020-01-01"), day("2023-12-31"), vec![1, 3, 4]),
                (day("2024-01-01"), None, vec![1, 3]),
            ]
        );
    }

    #[test]
    fn gaps_are_left_out_and_equal_neighbours_merged() {
        let epochs = epochs(&[
            member(5, day("2010-01-01"), day("2010-12-31")),
            member(5, day("2011-01-01"), day("2012-12-31")),
            member(6, day("2015-01-01"), None),
        ]);
        let spans: Vec<_> = epochs.iter().map(|e| (e.from, e.to, e.members.clone())).collect();
        assert_eq!(spans, vec![(day("2010-01-01"), day("2012-12-31"), vec![5]), (day("2015-01-01"), None, vec![6])]);
    }
}
