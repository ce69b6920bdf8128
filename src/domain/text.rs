//! Text normalisation shared by writers and filters: the folded form that name search matches.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The form of a name that `nameContains`, `contains`, `startsWith` and `search` match against,
/// the same on both backends because it is computed here, not by a database collation:
///
/// - Unicode lower case, then accents stripped (NFD without combining marks): "Malmö" and
///   "Tromsø" become "malmo" and "tromso", "Gáivuotna" "gaivuotna";
/// - the Nordic letters that do not decompose spelt as their base letter: ø → o, æ → a,
///   đ → d, ŋ → n, ŧ → t, þ → th, ð → d, ß → ss, œ → o;
/// - the usual transliterations folded onto the same letter, so that a name and its ASCII
///   spelling meet: "aa" → a (Aalesund, Ålesund), "ae" → a (Baerum, Bærum, Maelaren, Mälaren),
///   "oe" → o (Tromsoe, Tromsø), "ue" → u (Mueller, Müller);
/// - brackets, commas and slashes spaces, and every run of spaces one, with none at either end
///   ("Bø (Telemark)" is "bo telemark").
///
/// Folding digraphs over-matches a little ("poe" finds "Polen"); `search` ranks exact and prefix
/// matches first, so such hits come last.
pub fn search_form(text: &str) -> String {
    let mut letters = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        // Brackets and commas separate words like spaces: "Bø (Telemark)" is "bo telemark".
        if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | '/' | '"') {
            pending_space = !letters.is_empty();
            continue;
        }
        if pending_space {
            letters.push(' ');
            pending_space = false;
        }
        match c {
            'ø' | 'œ' => letters.push('o'),
            'æ' => letters.push('a'),
            'đ' | 'ð' => letters.push('d'),
            'ŋ' => letters.push('n'),
            'ŧ' => letters.push('t'),
            'þ' => letters.push_str("th"),
            'ß' => letters.push_str("ss"),
            other => letters.push(other),
        }
    }
    collapse_digraphs(&letters)
}

/// "aa", "ae" → a; "oe" → o; "ue" → u (left to right, so "aaa" is "aa").
fn collapse_digraphs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let second = match c {
            'a' => ['a', 'e'].contains(chars.peek().unwrap_or(&' ')),
            'o' | 'u' => chars.peek() == Some(&'e'),
            _ => false,
        };
        if second {
            chars.next();
        }
    }
    out
}

/// Little words a search may hold that names often spell otherwise ("Bø i Telemark" is
/// registered as "Bø (Telemark)"), folded.
const LINKING_WORDS: [&str; 5] = ["i", "pa", "og", "och", "and"];

/// The words of a search, folded, without linking words (unless nothing else is left):
/// `search` matches rows holding every one of them.
pub fn search_words(text: &str) -> Vec<String> {
    let words: Vec<String> =
        search_form(text).split(' ').filter(|w| w.chars().any(char::is_alphanumeric)).map(str::to_owned).collect();
    let content: Vec<String> = words.iter().filter(|w| !LINKING_WORDS.contains(&w.as_str())).cloned().collect();
    if content.is_empty() { words } else { content }
}

/// The phrase a search ranks names by: its words, folded, one space apart.
pub fn search_phrase(text: &str) -> String {
    search_words(text).join(" ")
}

/// How well a folded name matches a folded search (lower is better): the same rank the SQL
/// `CASE` of `db::queries::filter` computes, so cursors can carry it.
pub fn search_rank(name: &str, query: &str) -> i32 {
    if name == query {
        0
    } else if name.starts_with(query) {
        1
    } else if name.contains(&format!(" {query}")) || name.contains(&format!("-{query}")) {
        2
    } else {
        3
    }
}

/// The character LIKE patterns escape with.
pub const LIKE_ESCAPE: char = '\\';

/// `text` with LIKE's own wildcards (`%`, `_`) and the escape character escaped: what a client
/// types is data, never pattern syntax (`nameContains: "%"` matches names holding a percent
/// sign, not every name).
pub fn like_literal(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern
}

/// A LIKE pattern matching `text` anywhere.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", like_literal(text))
}

/// A LIKE pattern matching values that start with `text`.
pub fn prefix_pattern(text: &str) -> String {
    format!("{}%", like_literal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_data() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(prefix_pattern("tromso"), "tromso%");
    }

    #[test]
    fn nordic_names_meet_their_ascii_spellings() {
        for (name, typed) in [
            ("Tromsø", "tromso"),
            ("Tromsø", "TROMSOE"),
            ("Malmö", "malmo"),
            ("Malmö", "malmoe"),
            ("Bø i Telemark", "bo i telemark"),
            ("Bø i Telemark", "  Bø  i\tTelemark "),
            ("Bø (Telemark)", "bo telemark"),
            ("Bærum", "baerum"),
            ("Bærum", "barum"),
            ("Mälaren", "maelaren"),
            ("Ålesund", "aalesund"),
            ("Ålesund", "alesund"),
            ("Gáivuotna – Kåfjord – Kaivuono", "kafjord"),
            ("Deatnu – Tana", "deatnu"),
            ("Unjárga – Nesseby", "unjarga"),
            ("Müller", "mueller"),
            ("Straße", "strasse"),
        ] {
            assert!(
                search_form(name).contains(&search_form(typed)),
                "{typed:?} should find {name:?} ({:?} in {:?})",
                search_form(typed),
                search_form(name)
            );
        }
        assert_eq!(search_form("Bø i Telemark"), "bo i telemark");
        assert_eq!(search_form("Tromsø"), "tromso");
        assert_ne!(search_form("Bodø"), search_form("Tromsø"));
    }

    #[test]
    fn ranks_exact_then_prefix_then_word_then_inside() {
        assert_eq!(search_rank("tromso", "tromso"), 0);
        assert_eq!(search_rank("tromso kommune", "tromso"), 1);
        assert_eq!(search_rank("uit norges arktiske universitet tromso", "tromso"), 2);
        assert_eq!(search_rank("nordtromso", "tromso"), 3);
        assert_eq!(search_words(" Bø  Telemark"), vec!["bo", "telemark"]);
        assert_eq!(search_phrase("Bø i Telemark"), search_form("Bø (Telemark)"));
        assert_eq!(search_words("i"), vec!["i"]);
    }
}
