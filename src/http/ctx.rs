//! Who is calling and in which language: the session (cookie or bearer token), the
//! language switch, and the CSRF token that every page form carries.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use sha2::{Digest, Sha256};

use super::error::AppError;
use crate::app::AppState;
use crate::domain::Role;
use crate::i18n::{Lang, tr};
use crate::store::accounts::{SessionUser, User};

pub const SESSION_COOKIE: &str = "ww_session";
pub const LANG_COOKIE: &str = "ww_lang";
/// Double-submit token for forms shown before login (the login form itself).
pub const PRELOGIN_COOKIE: &str = "ww_csrf";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `?lang=` wins, then the cookie, then the browser's Accept-Language for the API;
/// Vietnamese by default.
pub fn request_lang(headers: &HeaderMap, uri: &Uri) -> Lang {
    let from_query = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    from_query
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| {
            let api = uri.path().starts_with("/api/");
            let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
            (api && accept.trim_start().starts_with("en")).then_some(Lang::En)
        })
        .unwrap_or_default()
}

pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The caller of a request: maybe a logged-in user, always a language.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session: Option<SessionUser>,
    /// The session came from the cookie (a browser), so writes need the CSRF token.
    pub via_cookie: bool,
    pub lang: Lang,
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }
    pub fn role(&self) -> Option<Role> {
        self.user().map(User::role)
    }
    pub fn require(&self) -> Result<&User, AppError> {
        self.user().ok_or(AppError::Unauthorized)
    }
    pub fn actor(&self) -> crate::store::Actor {
        crate::store::Actor {
            user_id: self.user().map(|u| u.id),
        }
    }
    pub fn t<'a>(&self, vi: &'a str) -> &'a str {
        tr(self.lang, vi)
    }
    /// Page forms post the session's CSRF token; bearer-token API calls need none.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        match &self.session {
            Some(s) if self.via_cookie => {
                if constant_time_eq(s.csrf_token.as_bytes(), sent.as_bytes()) {
                    Ok(())
                } else {
                    Err(AppError::BadRequest(
                        "Phiên làm việc của biểu mẫu đã hết hạn; vui lòng tải lại trang và gửi lại.",
                    ))
                }
            }
            _ => Ok(()),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let lang = request_lang(&parts.headers, &parts.uri);
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // "Bearer TOKEN"; a bare "Bearer" (its space trimmed in transit) is an empty token.
                let (scheme, token) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let (token, via_cookie) = match bearer {
            Some(t) => (Some(t), false),
            None => (cookie(&parts.headers, SESSION_COOKIE), true),
        };
        if bearer.is_some_and(|t| t.is_empty() || t.len() > 128) {
            return Err(AppError::Unauthorized);
        }
        let session = match token {
            Some(t) if !t.is_empty() && t.len() <= 128 => {
                let found = state.store.session_by_token(&hash_token(t)).await?;
                if found.is_none() && bearer.is_some() {
                    // A stale bearer token is an error, not an anonymous call.
                    return Err(AppError::Unauthorized);
                }
                found
            }
            _ => None,
        };
        let caller = Caller {
            session,
            via_cookie,
            lang,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

pub const TEXTS: crate::i18n::Texts = &[(
    "Phiên làm việc của biểu mẫu đã hết hạn; vui lòng tải lại trang và gửi lại.",
    "The form's session has expired; reload the page and send it again.",
)];
