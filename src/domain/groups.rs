//! Choosing among an aggregate's groups: keep those whose measures pass conditions (HAVING),
//! order them by any measure, keep the first N. The caller says what each measure's value is
//! *for this caller*: a count withheld by disclosure control is unknown (`None`), so a
//! condition on it is false and an order puts it last in key order, whatever the hidden
//! value; nothing about it leaks through which groups remain or where they stand.

use crate::domain::filter::Comparison;

/// A condition on one measure (by the caller's index).
#[derive(Clone, Debug, PartialEq)]
pub struct Having {
    pub measure: usize,
    pub comparison: Comparison<f64>,
}

/// One key of the groups' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupOrder {
    pub measure: usize,
    pub descending: bool,
}

fn passes(value: Option<f64>, comparison: &Comparison<f64>) -> bool {
    let Some(v) = value else { return false };
    match *comparison {
        Comparison::Eq(x) => v == x,
        Comparison::Gt(x) => v > x,
        Comparison::Gte(x) => v >= x,
        Comparison::Lt(x) => v < x,
        Comparison::Lte(x) => v <= x,
        Comparison::Between(low, high) => low <= v && v <= high,
    }
}

/// The groups (in key order) that pass every condition, ordered by `order` (ties and unknown
/// values keep key order, unknown values last), at most `top` of them.
pub fn choose<G>(
    groups: Vec<G>,
    value: impl Fn(&G, usize) -> Option<f64>,
    having: &[Having],
    order: &[GroupOrder],
    top: Option<usize>,
) -> Vec<G> {
    let mut kept: Vec<G> =
        groups.into_iter().filter(|g| having.iter().all(|h| passes(value(g, h.measure), &h.comparison))).collect();
    if !order.is_empty() {
        // A stable sort: equal (and unknown) values stay in key order.
        kept.sort_by(|a, b| {
            for key in order {
                let ordering = match (value(a, key.measure), value(b, key.measure)) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => {
                        let ordering = x.total_cmp(&y);
                        if key.descending { ordering.reverse() } else { ordering }
                    }
                };
                if ordering != std::cmp::Ordering::Equal {
                    return ordering;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    if let Some(top) = top {
        kept.truncate(top);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key, visible count): `None` is a withheld count.
    fn groups() -> Vec<(&'static str, Option<f64>)> {
        vec![("a", Some(12.0)), ("b", None), ("c", Some(7.0)), ("d", None), ("e", Some(12.0))]
    }

    fn keys(groups: &[(&'static str, Option<f64>)]) -> Vec<&'static str> {
        groups.iter().map(|g| g.0).collect()
    }

    #[test]
    fn withheld_values_never_pass_and_sort_last_in_key_order() {
        let value = |g: &(&str, Option<f64>), _| g.1;
        // Whatever the condition, a withheld group is not kept: keeping it would tell.
        for comparison in [Comparison::Lt(5.0), Comparison::Gte(0.0), Comparison::Between(1.0, 4.0)] {
            let kept = choose(groups(), value, &[Having { measure: 0, comparison }], &[], None);
            assert!(kept.iter().all(|g| g.1.is_some()));
        }
        let ascending = choose(groups(), value, &[], &[GroupOrder { measure: 0, descending: false }], None);
        assert_eq!(keys(&ascending), ["c", "a", "e", "b", "d"]);
        let descending = choose(groups(), value, &[], &[GroupOrder { measure: 0, descending: true }], Some(3));
        assert_eq!(keys(&descending), ["a", "e", "c"]);
    }
}
