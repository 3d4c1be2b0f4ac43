//! Login, logout and the account page.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::api::session_cookie;
use super::service;
use crate::app::AppState;
use crate::http::ctx::{Caller, PRELOGIN_COOKIE, constant_time_eq, cookie, random_token};
use crate::http::error::AppError;
use crate::http::pages::{Page, render, safe_next};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    /// The login form's own token (double-submitted with the pre-login cookie), distinct
    /// from a session's: one may open the login page while logged in.
    login_csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let page = Page::new(&caller, &uri);
    let mut login_csrf = cookie(&headers, PRELOGIN_COOKIE)
        .unwrap_or_default()
        .to_string();
    let mut set_cookie = None;
    if login_csrf.is_empty() {
        login_csrf = random_token();
        set_cookie = Some(format!(
            "{PRELOGIN_COOKIE}={login_csrf}; Path=/; HttpOnly; SameSite=Strict"
        ));
    }
    let next = safe_next(q.next.as_deref());
    let mut res = render(&LoginPage {
        page,
        login_csrf,
        next,
        username: String::new(),
        error: None,
    })?;
    if let Some(c) = set_cookie.and_then(|c| c.parse().ok()) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(res)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let expected = cookie(&headers, PRELOGIN_COOKIE).unwrap_or_default();
    let session_token = caller
        .session
        .as_ref()
        .map(|s| s.csrf_token.as_str())
        .unwrap_or_default();
    let matches = |t: &str| !t.is_empty() && constant_time_eq(t.as_bytes(), form.csrf.as_bytes());
    // The form carries the pre-login token; a logged-in page's token is as good a proof.
    if !(matches(expected) || matches(session_token)) {
        return Err(AppError::BadRequest(
            "Phiên làm việc của biểu mẫu đã hết hạn; vui lòng tải lại trang và gửi lại.",
        ));
    }
    let next = safe_next(form.next.as_deref());
    let hours = state.config.session_hours;
    match service::login(state.store.as_ref(), &form.username, &form.password, hours).await {
        Ok(done) => {
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = session_cookie(&state, &done.token, hours * 3600).parse() {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(err @ (AppError::Validation(_) | AppError::TooManyRequests { .. })) => {
            let (status, message) = match &err {
                AppError::Validation(f) => (StatusCode::UNPROCESSABLE_ENTITY, f[0].message),
                AppError::TooManyRequests { message, .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, *message)
                }
                _ => unreachable!(),
            };
            let page = Page::new(&caller, &uri);
            let error = Some(page.t(message).to_string());
            let body = LoginPage {
                page,
                login_csrf: expected.to_string(),
                next,
                username: form.username,
                error,
            };
            let mut res = render(&body)?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    if let Some(s) = &caller.session {
        state.store.delete_session(s.session_id).await?;
    }
    let mut res = Redirect::to("/").into_response();
    if let Ok(v) = session_cookie(&state, "", 0).parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    display_name: String,
    role: &'static str,
    ward: String,
    errors: Vec<String>,
    done: bool,
}

async fn account_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, AppError> {
    account_view(&state, &caller, &uri, Vec::new(), false, StatusCode::OK).await
}

async fn account_view(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    errors: Vec<String>,
    done: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let user = caller.require()?;
    let ward = match user.ward_id {
        Some(id) => state
            .store
            .unit(id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let page = Page::new(caller, uri);
    let view = AccountPage {
        display_name: user.display_name.clone(),
        role: user.role().label(),
        ward,
        errors,
        done,
        page,
    };
    let mut res = render(&view)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

async fn password_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let session = caller.session.as_ref().ok_or(AppError::Unauthorized)?;
    match service::change_password(
        state.store.as_ref(),
        session,
        &form.current,
        &form.new,
        &form.repeat,
    )
    .await
    {
        Ok(()) => account_view(&state, &caller, &uri, Vec::new(), true, StatusCode::OK).await,
        Err(AppError::Validation(fields)) => {
            let errors = fields
                .iter()
                .map(|f| caller.t(f.message).to_string())
                .collect();
            account_view(
                &state,
                &caller,
                &uri,
                errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/password", post(password_submit))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Tên đăng nhập", "Username"),
    ("Mật khẩu", "Password"),
    ("Đổi mật khẩu", "Change password"),
    ("Mật khẩu hiện tại", "Current password"),
    ("Mật khẩu mới", "New password"),
    ("Nhập lại mật khẩu mới", "Repeat the new password"),
    (
        "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
        "Password changed. Your other sessions have ended.",
    ),
    ("Vai trò", "Role"),
    ("Phường", "Ward"),
    ("Họ tên", "Name"),
];
