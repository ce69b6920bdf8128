//! Disclosure control for student data: counts of students shown to callers who may
//! not see student rows are suppressed below k, so no one can single out a student by slicing.

/// The smallest count shown to the public.
pub const K_ANONYMITY: i64 = 5;

/// The count a caller may see: all of it when `trusted` (analysts and up, who see the rows
/// anyway), else only counts of at least k. Zero is suppressed too: "none" is also a disclosure
/// when the slice is small.
pub fn disclosed_count(count: i64, trusted: bool) -> Option<i64> {
    (trusted || count >= K_ANONYMITY).then_some(count)
}

/// Which cells of a published table of student counts must be withheld from the public.
///
/// Primary suppression: every cell below k. Secondary (complementary) suppression: a withheld
/// cell could be recovered by subtracting its published neighbours from a margin the public can
/// also ask for (the same query without one of the dimensions, or the grand total). So along
/// every dimension, each line of cells that share all other keys may not hold exactly one
/// withheld cell: the smallest published cell of that line is withheld too. Repeated until
/// nothing changes, since each new withholding may expose another line. Two withheld cells in a
/// line reveal only their sum, which is at least k.
///
/// `cells` are (keys in dimension order, count); the result is a withhold flag per cell.
pub fn suppressed_cells(cells: &[(Vec<Option<String>>, i64)]) -> Vec<bool> {
    let mut withheld: Vec<bool> = cells.iter().map(|(_, count)| *count < K_ANONYMITY).collect();
    let dimensions = cells.first().map_or(0, |(keys, _)| keys.len());
    // Lines along each dimension (cells equal in every other key), worked out once: only the
    // flags change from one pass to the next.
    let lines: Vec<Vec<usize>> = (0..dimensions.max(1))
        .flat_map(|dimension| {
            // By the other keys, in their order (the order the passes go through them in).
            let mut lines: std::collections::BTreeMap<Vec<&Option<String>>, Vec<usize>> = Default::default();
            for (index, (keys, _)) in cells.iter().enumerate() {
                let rest = keys.iter().enumerate().filter(|(d, _)| *d != dimension).map(|(_, key)| key).collect();
                lines.entry(rest).or_default().push(index);
            }
            lines.into_values().collect::<Vec<_>>()
        })
        .collect();
    loop {
        let mut changed = false;
        for members in &lines {
            let hidden = members.iter().filter(|i| withheld[**i]).count();
            if hidden != 1 || members.len() < 2 {
                continue;
            }
            let smallest = members.iter().filter(|i| !withheld[**i]).min_by_key(|i| (cells[**i].1, **i));
            if let Some(&smallest) = smallest {
                withheld[smallest] = true;
                changed = true;
            }
        }
        if !changed {
            return withheld;
        }
    }
}

/// Whether a part of a published cell (say, its cross-border placements) must be withheld: when
/// it is below k, or when the rest of the cell (total − part) would be.
pub fn part_withheld(part: i64, total: i64) -> bool {
    part < K_ANONYMITY || (total - part > 0 && total - part < K_ANONYMITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(keys: &[&str], count: i64) -> (Vec<Option<String>>, i64) {
        (keys.iter().map(|k| Some((*k).to_owned())).collect(), count)
    }

    #[test]
    fn a_lone_small_cell_takes_its_smallest_neighbour_with_it() {
        // One dimension: the grand total is public, so 3 = total − 40 − 12 unless 12 goes too.
        let cells = [cell(&["NO"], 40), cell(&["SE"], 12), cell(&["DK"], 3)];
        assert_eq!(suppressed_cells(&cells), vec![false, true, true]);
    }

    #[test]
    fn complementary_suppression_runs_along_every_dimension_until_stable() {
        // region × year. (b, 2020) = 2 is small: its row and its column each need a second
        // withheld cell, and those in turn must not be alone in their lines.
        let cells =
            [cell(&["a", "2019"], 10), cell(&["a", "2020"], 20), cell(&["b", "2019"], 30), cell(&["b", "2020"], 2)];
        let withheld = suppressed_cells(&cells);
        assert_eq!(withheld, vec![true, true, true, true]);
        // No line holds exactly one withheld cell.
        for line in [[0, 1], [2, 3], [0, 2], [1, 3]] {
            assert_ne!(line.iter().filter(|i| withheld[**i]).count(), 1);
        }
    }

    #[test]
    fn nothing_small_means_nothing_withheld() {
        let cells = [cell(&["a"], 5), cell(&["b"], 9)];
        assert_eq!(suppressed_cells(&cells), vec![false, false]);
        assert!(part_withheld(4, 50));
        assert!(part_withheld(48, 50));
        assert!(!part_withheld(50, 50));
        assert!(!part_withheld(20, 50));
    }

    #[test]
    fn counts_below_k_are_hidden_from_the_public_only() {
        assert_eq!(disclosed_count(4, false), None);
        assert_eq!(disclosed_count(5, false), Some(5));
        assert_eq!(disclosed_count(4, true), Some(4));
        assert_eq!(disclosed_count(0, false), None);
    }
}
