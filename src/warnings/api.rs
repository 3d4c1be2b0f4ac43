//! Warning endpoints: publish, update, cancel (officers); the live stream (Server-Sent
//! Events, resumable with Last-Event-ID); and the CAP 1.2 feed.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::cap;
use super::service::{
    LiveWarning, WarningForm, cap_identifier, cap_message, parse_warning, reaches,
};
use crate::accounts::policy;
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::live::follow;
use crate::store::territory::Unit;
use crate::store::warnings::{Warning, WarningEvent};
use crate::territory::service::{groups_of, ward_by_code};

#[derive(Serialize, ToSchema)]
pub struct Published {
    pub id: i64,
    pub event_id: i64,
}

async fn parse_for(
    state: &AppState,
    ward: &Unit,
    form: &WarningForm,
) -> Result<crate::store::warnings::WarningInput, AppError> {
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let sites: Vec<i64> = state
        .store
        .sites(ward.id, &Default::default())
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    parse_warning(form, ward, &groups, &sites)
}

/// Tell the open pages and queue the outside deliveries of a publication. The warning is
/// stored already; a failure to queue is logged, not returned.
async fn announce(state: &AppState, e: &WarningEvent) {
    state.live.warning_published(e.clone()).await;
    match super::delivery::enqueue(state.store.as_ref(), &state.channels, e).await {
        Ok(n) if n > 0 => state.deliveries.notify_one(),
        Ok(_) => {}
        Err(err) => tracing::error!(event = e.id, error = %err, "queueing deliveries failed"),
    }
}

/// Publish a warning to a ward, some residential groups, the people around a site or a
/// point; it goes live at once and into the CAP feed.
pub async fn publish(
    state: &AppState,
    caller: &Caller,
    form: &WarningForm,
) -> Result<(Warning, WarningEvent), AppError> {
    let ward = ward_by_code(state.store.as_ref(), &form.ward)
        .await
        .map_err(|_| {
            AppError::field(
                "ward",
                crate::domain::Invalid("Không có phường với mã này."),
            )
        })?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let input = parse_for(state, &ward, form).await?;
    let (w, e) = state
        .store
        .publish_warning(caller.actor(), None, input, "alert")
        .await?;
    announce(state, &e).await;
    Ok((w, e))
}

/// Publish a warning (officers of the ward).
#[utoipa::path(post, path = "/api/v1/warnings", tag = "warnings", request_body = WarningForm,
    responses((status = 201, body = Published), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<WarningForm>,
) -> Result<Response, AppError> {
    let (w, e) = publish(&state, &caller, &form).await?;
    Ok((
        StatusCode::CREATED,
        Json(Published {
            id: w.id,
            event_id: e.id,
        }),
    )
        .into_response())
}

async fn editable(state: &AppState, caller: &Caller, id: i64) -> Result<(Warning, Unit), AppError> {
    let w = state.store.warning(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(w.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    if w.cancelled_at.is_some() {
        return Err(AppError::Conflict("Cảnh báo đã được huỷ."));
    }
    Ok((w, ward))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    form: &WarningForm,
) -> Result<WarningEvent, AppError> {
    let (_, ward) = editable(state, caller, id).await?;
    let input = parse_for(state, &ward, form).await?;
    let (_, e) = state
        .store
        .publish_warning(caller.actor(), Some(id), input, "update")
        .await?;
    announce(state, &e).await;
    Ok(e)
}

pub async fn cancel(state: &AppState, caller: &Caller, id: i64) -> Result<WarningEvent, AppError> {
    editable(state, caller, id).await?;
    let (_, e) = state.store.cancel_warning(caller.actor(), id).await?;
    announce(state, &e).await;
    Ok(e)
}

/// Replace a warning's content (a CAP Update referring to the earlier messages).
#[utoipa::path(put, path = "/api/v1/warnings/{id}", tag = "warnings", params(("id" = i64, Path)),
    request_body = WarningForm, responses((status = 200, body = Published), (status = 409)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<WarningForm>,
) -> Result<Json<Published>, AppError> {
    let e = update(&state, &caller, id, &form).await?;
    Ok(Json(Published { id, event_id: e.id }))
}

/// Cancel a warning (a CAP Cancel).
#[utoipa::path(post, path = "/api/v1/warnings/{id}/cancel", tag = "warnings", params(("id" = i64, Path)),
    responses((status = 200, body = Published), (status = 409)))]
pub async fn post_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Published>, AppError> {
    let e = cancel(&state, &caller, id).await?;
    Ok(Json(Published { id, event_id: e.id }))
}

#[derive(Deserialize, IntoParams)]
pub struct WardQuery {
    /// Ward code.
    pub ward: String,
}

/// The ward's warnings this caller may see (active first).
pub async fn visible_warnings(
    state: &AppState,
    caller: &Caller,
    ward: &Unit,
    active_only: bool,
) -> Result<Vec<(Warning, Vec<i64>)>, AppError> {
    let mut out = Vec::new();
    for w in state
        .store
        .warnings(Some(ward.id), active_only, 200)
        .await?
    {
        let groups = state.store.warning_groups(w.id).await?;
        let snap = crate::store::warnings::Snapshot {
            warning: w,
            group_ids: groups,
        };
        if reaches(&snap, caller.user()) {
            out.push((snap.warning, snap.group_ids));
        }
    }
    Ok(out)
}

/// A ward's active warnings as the caller may see them.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "warnings", params(WardQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Json<Vec<Warning>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &q.ward).await?;
    Ok(Json(
        visible_warnings(&state, &caller, &ward, true)
            .await?
            .into_iter()
            .map(|(w, _)| w)
            .collect(),
    ))
}

/// Mark a warning read, so its banner stops showing for this account.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/read", tag = "warnings", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let user = caller.require()?;
    state.store.warning(id).await?.ok_or(AppError::NotFound)?;
    state.store.mark_warning_read(id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Live warnings of one ward as Server-Sent Events (`event: warning`, `id` = publication
/// id). Reconnecting with `Last-Event-ID` first replays what was missed. Anonymous
/// listeners get the ward's public warnings; the ward's people also what is for their
/// residential group. A connection whose first request this is is usually served by
/// [`crate::http::lean`], with the same [`warning_feed`], outside this handler.
#[utoipa::path(get, path = "/api/v1/warnings/stream", tag = "warnings", params(WardQuery),
    responses((status = 200, description = "text/event-stream")))]
pub async fn stream_warnings(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<WardQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let feed = warning_feed(&state, &caller, &q.ward, last_event_id(&headers)).await?;
    let events = feed.filter_map(|e| {
        let out = live_json(&e).map(|data| {
            Ok(Event::default()
                .id(e.id.to_string())
                .event("warning")
                .data(data))
        });
        async move { out }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The id a reconnecting event stream last received.
pub fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A publication as live listeners receive it (`data:` of an SSE `warning` event),
/// rendered once however many listeners it reaches.
pub fn live_json(e: &WarningEvent) -> Option<&str> {
    e.rendered(|e, snap| serde_json::to_string(&LiveWarning::new(e, snap)).ok())
}

/// One ward's live warnings for one caller, oldest first: after `last` (a Last-Event-ID)
/// what was missed since, then each publication from now on that the caller may see.
pub async fn warning_feed(
    state: &AppState,
    caller: &Caller,
    ward_code: &str,
    last: Option<i64>,
) -> Result<BoxStream<'static, Arc<WarningEvent>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), ward_code).await?;
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = state.live.warnings();
    let backlog = match last {
        Some(after) => {
            state
                .store
                .warning_events_after(Some(ward.id), after, 1000)
                .await?
        }
        None => Vec::new(),
    };
    let user = caller.user().cloned();
    let ward_id = ward.id;
    let seen = backlog.last().map(|e| e.id).or(last).unwrap_or(0);
    let store = state.store.clone();
    let reread = move |after| {
        let store = store.clone();
        async move {
            store
                .warning_events_after(Some(ward_id), after, 500)
                .await
                .unwrap_or_default()
        }
    };
    // Without a Last-Event-ID a listener wants what comes from now on, not the history.
    let floor = if last.is_some() {
        seen
    } else {
        state.live.last_warning()
    };
    let live = follow(rx, seen, floor, 500, reread);
    let feed = stream::iter(backlog.into_iter().map(Arc::new))
        .chain(live)
        .filter(move |e| {
            let shown =
                e.ward_id == ward_id && e.parsed().is_some_and(|snap| reaches(snap, user.as_ref()));
            std::future::ready(shown)
        });
    Ok(feed.boxed())
}

async fn cap_of(state: &AppState, event: &WarningEvent) -> Result<cap::CapMessage, AppError> {
    let ward = state
        .store
        .unit(event.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let snap = event.snapshot().ok_or(AppError::NotFound)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let names: Vec<String> = snap
        .group_ids
        .iter()
        .filter_map(|g| groups.iter().find(|x| x.id == *g).map(|x| x.name.clone()))
        .collect();
    let site = match snap.warning.site_id {
        Some(s) => state.store.site(s).await?,
        None => None,
    };
    let earlier = state.store.warning_events_of(snap.warning.id).await?;
    cap_message(
        event,
        &earlier,
        &ward,
        &names,
        site.as_ref().map(|s| (s.name.as_str(), s.lat, s.lon)),
        &state.config.base_url(),
    )
    .ok_or(AppError::NotFound)
}

/// One publication as a CAP 1.2 message (public warnings only).
pub async fn cap_alert(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let id: i64 = file
        .strip_suffix(".xml")
        .and_then(|s| s.parse().ok())
        .ok_or(AppError::NotFound)?;
    let event = state
        .store
        .warning_event(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !event.snapshot().is_some_and(|s| s.warning.public) {
        return Err(AppError::NotFound);
    }
    let msg = cap_of(&state, &event).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")],
        cap::render(&msg),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FeedQuery {
    ward: String,
}

/// The index of public CAP messages (Atom), newest first; `?ward=CODE` for one ward.
pub async fn cap_feed(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let ward = if q.ward.is_empty() {
        None
    } else {
        Some(ward_by_code(state.store.as_ref(), &q.ward).await?)
    };
    let base = state.config.base_url();
    let mut events = state
        .store
        .warning_events_after(ward.as_ref().map(|w| w.id), 0, 100_000)
        .await?;
    events.retain(|e| e.snapshot().is_some_and(|s| s.warning.public));
    events.reverse();
    events.truncate(200);
    let mut codes = std::collections::HashMap::new();
    let mut entries = Vec::new();
    for e in &events {
        let code = match codes.get(&e.ward_id) {
            Some(c) => c,
            None => {
                let c = state
                    .store
                    .unit(e.ward_id)
                    .await?
                    .map(|u| u.code)
                    .unwrap_or_default();
                codes.entry(e.ward_id).or_insert(c)
            }
        };
        let snap = e.snapshot().ok_or(AppError::NotFound)?;
        entries.push(cap::FeedEntry {
            id: cap_identifier(code, e.id),
            title: snap.warning.headline.clone(),
            updated: e.at,
            link: format!("{base}/cap/alerts/{}.xml", e.id),
            summary: snap.warning.body.chars().take(300).collect(),
            msg_type: match e.msg_type.as_str() {
                "update" => cap::MsgType::Update,
                "cancel" => cap::MsgType::Cancel,
                _ => cap::MsgType::Alert,
            },
        });
    }
    let updated = events
        .first()
        .map(|e| e.at)
        .unwrap_or_else(chrono::Utc::now);
    let title = match &ward {
        Some(w) => format!("Cảnh báo của {}", w.name),
        None => "Cảnh báo an ninh, trật tự".to_string(),
    };
    let self_url = match &ward {
        Some(w) => format!("{base}/cap/alerts.xml?ward={}", w.code),
        None => format!("{base}/cap/alerts.xml"),
    };
    let xml = cap::render_feed(&title, &self_url, updated, &entries);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warnings", get(list).post(create))
        .route("/api/v1/warnings/stream", get(stream_warnings))
        .route("/api/v1/warnings/{id}", axum::routing::put(put))
        .route("/api/v1/warnings/{id}/cancel", post(post_cancel))
        .route("/api/v1/warnings/{id}/read", post(read))
        .route("/cap/alerts.xml", get(cap_feed))
        .route("/cap/alerts/{file}", get(cap_alert))
}

pub const TEXTS: crate::i18n::Texts = &[("Cảnh báo đã được huỷ.", "The warning was cancelled.")];
