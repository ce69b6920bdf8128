//! Text normalisation shared by writers and filters.

/// The form of a name that `nameContains` filters match against: Unicode lower case, so that
/// "ø", "Å" and "Ö" compare case-insensitively on SQLite too (its LIKE folds ASCII only).
pub fn search_form(text: &str) -> String {
    text.to_lowercase()
}
