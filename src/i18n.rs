//! Translation: Vietnamese is the source language and the key; each module lists the
//! English of its own strings in a `TEXTS` table, gathered here.

use std::collections::HashMap;
use std::sync::OnceLock;

/// (Vietnamese, English) pairs.
pub type Texts = &'static [(&'static str, &'static str)];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

fn tables() -> &'static [Texts] {
    &[
        crate::domain::TEXTS,
        crate::http::error::TEXTS,
        crate::http::ctx::TEXTS,
        crate::http::pages::TEXTS,
        crate::http::pages::FORM_TEXTS,
        crate::http::openapi::TEXTS,
        crate::accounts::TEXTS,
        crate::accounts::pages::TEXTS,
        crate::territory::TEXTS,
        crate::territory::service::TEXTS,
        crate::territory::api::TEXTS,
        crate::forces::TEXTS,
        crate::forces::service::TEXTS,
        crate::duty::TEXTS,
        crate::duty::api::TEXTS,
        crate::duty::pages::TEXTS,
        crate::sheets::TEXTS,
        crate::sheets::web::WEB_TEXTS,
        crate::demo::TEXTS,
        crate::reports::TEXTS,
        crate::reports::captcha::TEXTS,
        crate::reports::photos::TEXTS,
        crate::reports::service::TEXTS,
        crate::reports::api::TEXTS,
        crate::reports::pages::TEXTS,
        crate::warnings::cap::TEXTS,
        crate::warnings::service::TEXTS,
        crate::warnings::api::TEXTS,
        crate::warnings::pages::TEXTS,
        crate::warnings::subscribe::TEXTS,
        crate::channels::TEXTS,
        crate::open311::TEXTS,
    ]
}

fn english() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| tables().iter().flat_map(|t| t.iter().copied()).collect())
}

/// The text in `lang`; falls back to the Vietnamese when no translation exists.
pub fn tr(lang: Lang, vi: &str) -> &str {
    match lang {
        Lang::Vi => vi,
        Lang::En => english().get(vi).copied().unwrap_or(vi),
    }
}

/// Whether an English text exists for `vi` (used by the test that checks coverage).
pub fn has_english(vi: &str) -> bool {
    english().contains_key(vi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The string literal that follows each `marker` in `text` (first argument only).
    fn literals_after<'a>(text: &'a str, marker: &str, skip_args: usize) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let mut cursor = rest;
            let mut found = None;
            for n in 0..=skip_args {
                let Some(start) = cursor.find('"') else { break };
                let after = &cursor[start + 1..];
                let Some(end) = after.find('"') else { break };
                if n == skip_args {
                    found = Some(&after[..end]);
                }
                cursor = &after[end + 1..];
            }
            if let Some(s) = found.filter(|s| !s.is_empty() && !s.is_ascii()) {
                out.push(s);
            }
        }
        out
    }

    fn files(dir: &str, ext: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack =
            vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/")).join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == ext) {
                    out.push((
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn every_visible_vietnamese_string_has_english() {
        let mut missing = Vec::new();
        for (path, text) in files("templates", "html") {
            for s in literals_after(&text, "page.t(", 0) {
                if !has_english(s) {
                    missing.push(format!("{path}: {s}"));
                }
            }
        }
        // Labels, hints and messages written in Rust.
        let markers: [(&str, usize); 8] = [
            ("Invalid(", 0),
            ("FieldView::new(", 1),
            (".hint(", 0),
            (".fail(", 1),
            ("BadRequest(", 0),
            ("Conflict(", 0),
            ("TooLarge(", 0),
            ("message: \"", 0),
        ];
        for (path, text) in files("src", "rs") {
            let body = text.split("\npub const TEXTS").next().unwrap_or(&text);
            for (marker, skip) in markers {
                for s in literals_after(body, marker, skip) {
                    if !has_english(s) {
                        missing.push(format!("{path}: {s}"));
                    }
                }
            }
        }
        for kind in crate::domain::SiteKind::ALL {
            if !has_english(kind.label()) {
                missing.push(kind.label().to_string());
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "no English for:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn one_english_text_per_vietnamese_key() {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let mut clashes = Vec::new();
        for (vi, en) in tables().iter().flat_map(|t| t.iter().copied()) {
            if let Some(prev) = seen.insert(vi, en).filter(|prev| *prev != en) {
                clashes.push(format!("{vi}: {prev} / {en}"));
            }
        }
        assert!(clashes.is_empty(), "{}", clashes.join("\n"));
    }

    #[test]
    fn falls_back_to_vietnamese() {
        assert_eq!(tr(Lang::En, "Tổ dân phố"), "Residential group");
        assert_eq!(tr(Lang::Vi, "Tổ dân phố"), "Tổ dân phố");
        assert_eq!(tr(Lang::En, "chưa dịch"), "chưa dịch");
    }
}
