//! Text normalisation shared by writers and filters.

/// The form of a name that `nameContains` filters match against: Unicode lower case, so that
/// "ø", "Å" and "Ö" compare case-insensitively on SQLite too (its LIKE folds ASCII only).
pub fn search_form(text: &str) -> String {
    text.to_lowercase()
}

/// The character LIKE patterns escape with.
pub const LIKE_ESCAPE: char = '\\';

/// A LIKE pattern matching `text` anywhere, with LIKE's own wildcards (`%`, `_`) and the escape
/// character escaped: what a client types is data, never pattern syntax (`nameContains: "%"`
/// matches names holding a percent sign, not every name).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_data() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern("tromsø"), "%tromsø%");
    }
}
