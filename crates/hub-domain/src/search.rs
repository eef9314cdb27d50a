//! Full-text search terms, made the same way for SQLite FTS5 and PostgreSQL `tsvector`, so the
//! two backends find the same posts for the same query.
//!
//! Words are folded (NFKD, combining marks dropped, lower-cased) so that `migración` matches
//! `migracion` and Arabic with or without short vowels (harakat) matches. Scripts written
//! without spaces (Han, kana, Hangul, Thai) have no word boundaries to split on, so runs of
//! them are indexed as overlapping character bigrams plus single characters, as Lucene's CJK
//! analyser does: a query of any length then matches by its own bigrams (or its character,
//! for a one-character query), with no dictionary to maintain.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The longest token kept; longer runs (base64 blobs, URLs) are noise in an index.
const MAX_TOKEN_CHARS: usize = 40;

/// Whether `c` belongs to a script written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x0E00..=0x0E7F    // Thai
        | 0x20000..=0x2FFFF  // CJK Extensions B-F
    )
}

fn fold(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c) && *c != '\u{0640}') // tatweel is decoration
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits `text` into folded search tokens. `for_query` decides how runs of unspaced script
/// become tokens: the index keeps single characters and bigrams, a query uses its bigrams (or
/// the single character when the run is one character long), so every query token exists in
/// the index of any text containing the query.
fn tokens(text: &str, for_query: bool) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.unicode_words() {
        let folded = fold(word);
        let mut run: Vec<char> = Vec::new();
        let mut plain = String::new();
        let flush_plain = |plain: &mut String, out: &mut Vec<String>| {
            if !plain.is_empty() && plain.chars().count() <= MAX_TOKEN_CHARS {
                out.push(std::mem::take(plain));
            }
            plain.clear();
        };
        let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
            if run.is_empty() {
                return;
            }
            if !for_query || run.len() == 1 {
                out.extend(run.iter().map(|c| c.to_string()));
            }
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
            run.clear();
        };
        for c in folded.chars() {
            if is_unspaced_script(c) {
                flush_plain(&mut plain, &mut out);
                run.push(c);
            } else if c.is_alphanumeric() {
                flush_run(&mut run, &mut out);
                plain.push(c);
            } else {
                flush_plain(&mut plain, &mut out);
                flush_run(&mut run, &mut out);
            }
        }
        flush_plain(&mut plain, &mut out);
        flush_run(&mut run, &mut out);
    }
    out
}

/// The text to store in the full-text index for `text`: folded tokens joined by spaces.
pub fn index_text(text: &str) -> String {
    tokens(text, false).join(" ")
}

/// The tokens a query must all match (deduplicated, in order); empty when the query has no
/// searchable character, in which case the caller should not filter at all.
pub fn query_terms(q: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    tokens(q, true)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .take(32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(text: &str, q: &str) -> bool {
        let index: std::collections::HashSet<String> =
            index_text(text).split(' ').map(str::to_string).collect();
        let terms = query_terms(q);
        !terms.is_empty() && terms.iter().all(|t| index.contains(t))
    }

    #[test]
    fn latin_words_are_folded() {
        assert!(finds("La migración laboral en América Latina", "MIGRACION"));
        assert!(finds("Ausländische Fachkräfte", "fachkrafte"));
        assert!(!finds("Migration data", "remittances"));
    }

    #[test]
    fn chinese_is_found_by_any_substring() {
        let text = "Uber的出現因服務內容明確、平台簡潔";
        assert!(finds(text, "服務"));
        assert!(finds(text, "平台簡潔"));
        assert!(finds(text, "出"));
        assert!(finds(text, "uber"));
        assert!(!finds(text, "計程車"));
    }

    #[test]
    fn arabic_is_found_with_or_without_harakat() {
        let text = "يحتاج العمال المهاجرون إلى الخدمات الصحية";
        assert!(finds(text, "المهاجرون"));
        assert!(finds(text, "المُهاجِرون"));
        assert!(!finds(text, "التعليم"));
    }

    #[test]
    fn a_query_of_punctuation_has_no_terms() {
        assert!(query_terms("  ?!-- ").is_empty());
        assert!(query_terms("\"quoted\" OR NEAR(x)")
            .iter()
            .all(|t| t.chars().all(char::is_alphanumeric)));
    }
}
