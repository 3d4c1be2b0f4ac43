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
        crate::sheets::TEXTS,
        crate::demo::TEXTS,
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
