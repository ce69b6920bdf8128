//! Disclosure control for student data (DESIGN §5): counts of students shown to callers who may
//! not see student rows are suppressed below k, so no one can single out a student by slicing.

/// The smallest count shown to the public.
pub const K_ANONYMITY: i64 = 5;

/// The count a caller may see: all of it when `trusted` (analysts and up, who see the rows
/// anyway), else only counts of at least k. Zero is suppressed too: "none" is also a disclosure
/// when the slice is small.
pub fn disclosed_count(count: i64, trusted: bool) -> Option<i64> {
    (trusted || count >= K_ANONYMITY).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_k_are_hidden_from_the_public_only() {
        assert_eq!(disclosed_count(4, false), None);
        assert_eq!(disclosed_count(5, false), Some(5));
        assert_eq!(disclosed_count(4, true), Some(4));
        assert_eq!(disclosed_count(0, false), None);
    }
}
