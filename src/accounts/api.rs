//! The account endpoints of the JSON API: sessions (bearer tokens) and passwords.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service;
use crate::app::AppState;
use crate::http::ctx::{Caller, SESSION_COOKIE};
use crate::http::error::AppError;

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionAnswer {
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    user: Me,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    username: String,
    display_name: String,
    role: String,
    ward: Option<String>,
    group: Option<String>,
    /// The person of the forces the account serves as (duty, check-in)
    person_id: Option<i64>,
}

async fn me_of(state: &AppState, user: &crate::store::accounts::User) -> Result<Me, AppError> {
    let code = |id: Option<i64>| async move {
        match id {
            Some(id) => state.store.unit(id).await.map(|u| u.map(|u| u.code)),
            None => Ok(None),
        }
    };
    Ok(Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role.clone(),
        ward: code(user.ward_id).await?,
        group: code(user.group_id).await?,
        person_id: user.person_id,
    })
}

pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Log in: answers a bearer token for API clients and sets the session cookie for browsers.
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody, tag = "accounts",
    responses((status = 200, body = SessionAnswer), (status = 422, description = "wrong username or password"),
              (status = 429, description = "locked after repeated failures")))]
pub async fn create_session(
    State(state): State<AppState>,
    Json(body): Json<LoginBody>,
) -> Result<Response, AppError> {
    let hours = state.config.session_hours;
    let done = service::login(state.store.as_ref(), &body.username, &body.password, hours).await?;
    let answer = SessionAnswer {
        token: done.token.clone(),
        expires_at: done.session.expires_at,
        user: me_of(&state, &done.session.user).await?,
    };
    let cookie = session_cookie(&state, &done.token, hours * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Json(answer)).into_response())
}

/// Log out: the session ends on the server.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204)))]
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    if let Some(s) = &caller.session {
        state.store.delete_session(s.session_id).await?;
    }
    let cookie = session_cookie(&state, "", 0);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, AppError> {
    let user = caller.require()?;
    Ok(Json(me_of(&state, user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    current: String,
    new: String,
}

/// Change one's own password; other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordBody, tag = "accounts",
    responses((status = 204), (status = 422)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, AppError> {
    let session = caller.session.as_ref().ok_or(AppError::Unauthorized)?;
    service::change_password(
        state.store.as_ref(),
        session,
        &body.current,
        &body.new,
        &body.new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/session",
            post(create_session).delete(delete_session),
        )
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
}
