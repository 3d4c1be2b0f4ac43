//! Vietnamese text handling: everything stored is NFC, everything searched is folded
//! to lowercase ASCII (diacritics removed, đ → d), and lengths are counted in graphemes.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::UnicodeSegmentation;

/// The text in NFC; most text arrives so (phones type precomposed letters), and a quick
/// check lets it through without rebuilding it.
fn nfc(input: &str) -> Cow<'_, str> {
    if is_nfc_quick(input.chars()) == IsNormalized::Yes {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(input.nfc().collect())
    }
}

/// NFC-normalise and trim; collapses runs of whitespace inside the text.
pub fn clean(input: &str) -> String {
    nfc(input).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// NFC-normalise a multi-line text, keeping its line breaks but trimming the ends.
pub fn clean_multiline(input: &str) -> String {
    nfc(input).replace("\r\n", "\n").trim().to_string()
}

/// Fold for search: lowercase ASCII without marks, đ → d, punctuation → space.
pub fn fold(input: &str) -> String {
    let ascii = deunicode::deunicode(input).to_lowercase();
    let mapped: String = ascii
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the text is longer than `max` graphemes (letters as a reader counts them: ộ is
/// one, whatever its encoding); counts no further than it needs.
pub fn graphemes_over(input: &str, max: usize) -> bool {
    // Every grapheme takes at least one byte.
    input.len() > max && input.graphemes(true).nth(max).is_some()
}

/// Whether the text is shorter than `min` graphemes; counts no further than it needs.
pub fn graphemes_under(input: &str, min: usize) -> bool {
    min > 0 && input.graphemes(true).nth(min - 1).is_none()
}

/// Turn a name into a code: "Dư Hàng Kênh" → "du-hang-kenh".
pub fn slug(input: &str) -> String {
    fold(input).replace(' ', "-")
}

/// Escape LIKE wildcards so a search term is matched literally (ESCAPE '\').
pub fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graphemes(input: &str) -> usize {
        input.graphemes(true).count()
    }

    #[test]
    fn lengths_are_checked_in_graphemes_at_the_bounds() {
        // "Kênh" written decomposed: 5 chars, 7 bytes, 4 graphemes.
        let kenh = "Ke\u{0302}nh";
        assert!(!graphemes_over(kenh, 4));
        assert!(graphemes_over(kenh, 3));
        assert!(!graphemes_under(kenh, 4));
        assert!(graphemes_under(kenh, 5));
        assert!(!graphemes_under("", 0));
        assert!(graphemes_under("", 1));
        let long = "ộ".repeat(4000);
        assert!(!graphemes_over(&long, 4000));
        assert!(graphemes_over(&format!("{long}a"), 4000));
    }

    #[test]
    fn cleaning_composes_what_is_not_nfc_and_keeps_what_is() {
        assert_eq!(clean("  Ke\u{0302}nh   Dư  "), "Kênh Dư");
        assert_eq!(clean("Kênh Dư"), "Kênh Dư");
        assert_eq!(clean_multiline(" Ke\u{0302}nh\r\nDư "), "Kênh\nDư");
    }

    #[test]
    fn folds_vietnamese_including_d_with_stroke() {
        assert_eq!(fold("Đồng Tâm, Dư Hàng Kênh"), "dong tam du hang kenh");
        assert_eq!(fold("Tổ bảo vệ ANTT"), "to bao ve antt");
        // decomposed input folds the same as precomposed
        assert_eq!(fold("Lạch Tray"), fold("La\u{0323}ch Tray"));
    }

    #[test]
    fn clean_gives_nfc_and_single_spaces() {
        let decomposed = "  Ke\u{0302}\u{0301}nh   A ";
        assert_eq!(clean(decomposed), "Kếnh A");
        assert_eq!(graphemes("Kế\u{0301}"), 2);
        assert_eq!(graphemes(&clean("Ke\u{0302}\u{0301}nh")), 4);
    }

    #[test]
    fn slugs_and_like_patterns() {
        assert_eq!(slug("Dư Hàng Kênh"), "du-hang-kenh");
        assert_eq!(like_pattern("50%_a"), "%50\\%\\_a%");
    }
}
