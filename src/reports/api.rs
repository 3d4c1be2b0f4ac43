//! Report endpoints of the JSON API, the public tracking answer and the officers' live
//! stream of new reports.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{
    Places, ReportAccess, ReportForm, ReportView, access, audit_reporter_views, can_handle,
    can_list, parse_report, similar,
};
use super::{Category, Status};
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::limit::client_ip;
use crate::live::follow;
use crate::store::reports::{NewReport, Report, ReportChange, ReportFilter};
use crate::territory::service::{groups_of, ward_by_code};

#[derive(Serialize, ToSchema)]
pub struct CaptchaAnswer {
    /// Send back as `captcha_token`.
    token: String,
    /// An SVG picture of a small sum; its result goes in `captcha_answer`.
    svg: String,
}

/// A captcha for an anonymous report.
#[utoipa::path(get, path = "/api/v1/captcha", tag = "reports", responses((status = 200, body = CaptchaAnswer)))]
pub async fn captcha(State(state): State<AppState>) -> Json<CaptchaAnswer> {
    let c = state.captcha.challenge();
    Json(CaptchaAnswer {
        token: c.token,
        svg: c.svg,
    })
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    pub tracking_code: String,
    pub status: String,
    /// The public page that shows the report's progress.
    pub url: String,
}

/// Check and store a report from any channel: the page, the JSON API, Open311.
pub async fn file_report(
    state: &AppState,
    caller: &Caller,
    peer: SocketAddr,
    headers: &HeaderMap,
    form: &ReportForm,
    source: &str,
    client_key: Option<String>,
) -> Result<Arc<Report>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &form.ward)
        .await
        .map_err(|_| {
            AppError::field(
                "ward",
                crate::domain::Invalid("Không có phường với mã này."),
            )
        })?;
    let places = Places::of(state.store.as_ref(), &ward, form).await?;
    let mut report = parse_report(form, &ward, places, caller.user(), source)?;
    if caller.user().is_none() && source != "open311" {
        // Anyone may report without an account: a captcha and a limit per address.
        state
            .captcha
            .verify(&form.captcha_token, &form.captcha_answer)
            .map_err(|e| AppError::field("captcha_answer", e))?;
        let ip = client_ip(peer.ip(), headers, state.config.trust_proxy);
        state.report_limit.check(ip).map_err(|retry_after| AppError::TooManyRequests {
            retry_after,
            message: "Địa chỉ này đã gửi nhiều phản ánh trong một giờ; vui lòng thử lại sau hoặc gọi 113.",
        })?;
    }
    // A retry key is the caller's own: an account, or the address of an anonymous caller.
    let who = match caller.user() {
        Some(u) => format!("u{}", u.id),
        None => format!(
            "a{}",
            client_ip(peer.ip(), headers, state.config.trust_proxy)
        ),
    };
    report.client_key = client_key.map(|k| {
        let k: String = k.chars().take(100).collect();
        crate::http::ctx::hash_token(&format!("{}:{who}:{k}", ward.id))
    });
    submit(state, report).await
}

/// Store through the group-commit intake (which tells the live listeners).
pub async fn submit(state: &AppState, report: NewReport) -> Result<Arc<Report>, AppError> {
    Ok(state.intake.submit(report).await?)
}

/// File a community report. Without a login it needs `captcha_token` and
/// `captcha_answer` (GET /api/v1/captcha). An `Idempotency-Key` header makes a retry
/// answer the first submission instead of filing twice.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = ReportForm,
    responses((status = 201, body = Created), (status = 422), (status = 429)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(form): Json<ReportForm>,
) -> Result<Response, AppError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let r = file_report(&state, &caller, peer, &headers, &form, "api", key).await?;
    let body = Created {
        id: r.id,
        url: format!("{}/track/{}", state.config.base_url(), r.tracking_code),
        tracking_code: r.tracking_code.clone(),
        status: r.status.clone(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct ListQuery {
    /// Ward code.
    pub ward: String,
    /// Comma-separated statuses; default: the open ones.
    pub status: String,
    pub category: String,
    /// Residential group code.
    pub group: String,
    /// Search text (diacritics ignored).
    pub q: String,
}

pub async fn list_for(
    state: &AppState,
    caller: &Caller,
    q: &ListQuery,
) -> Result<Vec<Report>, AppError> {
    let user = caller.require()?;
    let ward = if q.ward.is_empty() {
        let own = user.ward_id.ok_or(AppError::field(
            "ward",
            crate::domain::Invalid("Không có phường với mã này."),
        ))?;
        state.store.unit(own).await?.ok_or(AppError::NotFound)?
    } else {
        ward_by_code(state.store.as_ref(), &q.ward).await?
    };
    // Officers, leaders and team leaders list the ward (or their group); everyone else
    // lists the reports they filed themselves.
    let own_only = !can_list(Some(user), ward.id);
    let statuses: Vec<String> = if q.status.is_empty() && own_only {
        Vec::new()
    } else if q.status.is_empty() {
        Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str().to_string())
            .collect()
    } else if q.status == "all" {
        Vec::new()
    } else {
        q.status
            .split(',')
            .map(|s| Status::parse(s).map(|s| s.as_str().to_string()))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::field("status", e))?
    };
    let category = if q.category.is_empty() {
        None
    } else {
        Some(
            Category::parse(&q.category)
                .map_err(|e| AppError::field("category", e))?
                .as_str()
                .to_string(),
        )
    };
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let mut group_id = if q.group.is_empty() {
        None
    } else {
        Some(
            groups
                .iter()
                .find(|g| g.code == q.group)
                .map(|g| g.id)
                .ok_or(AppError::NotFound)?,
        )
    };
    // A team leader sees their own residential group only.
    if user.role() == crate::domain::Role::TeamLeader {
        if group_id.is_some() && group_id != user.group_id {
            return Err(AppError::Forbidden);
        }
        group_id = Some(user.group_id.ok_or(AppError::Forbidden)?);
    }
    let filter = ReportFilter {
        statuses,
        category,
        group_id,
        since: None,
        reporter_user_id: own_only.then_some(user.id),
        terms: crate::territory::api::search_terms(&q.q),
        limit: 500,
    };
    Ok(state.store.reports(ward.id, &filter).await?)
}

/// A ward's reports: officers see who reported (each view is audited); leadership and team
/// leaders (their group) see the reports without the reporter; anyone else logged in sees
/// the reports they filed.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ListQuery),
    responses((status = 200, body = Vec<ReportView>), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ReportView>>, AppError> {
    let reports = list_for(&state, &caller, &q).await?;
    let user = caller.user();
    let full: Vec<&Report> = reports
        .iter()
        .filter(|r| access(user, r) == ReportAccess::Full)
        .collect();
    audit_reporter_views(state.store.as_ref(), user, &full).await?;
    Ok(Json(
        reports
            .iter()
            .map(|r| ReportView::new(r, access(user, r) == ReportAccess::Full))
            .collect(),
    ))
}

pub async fn visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Report, ReportAccess), AppError> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    match access(caller.user(), &r) {
        ReportAccess::None => Err(AppError::Forbidden),
        a => Ok((r, a)),
    }
}

/// One report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 403), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ReportView>, AppError> {
    let (r, a) = visible(&state, &caller, id).await?;
    if a == ReportAccess::Full {
        audit_reporter_views(state.store.as_ref(), caller.user(), &[&r]).await?;
    }
    Ok(Json(ReportView::new(&r, a == ReportAccess::Full)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ChangeBody {
    /// The new status (acknowledged, assigned, in_progress, resolved, rejected).
    pub status: Option<String>,
    /// Officer account to assign (username); "" to clear.
    pub assign_user: Option<String>,
    /// Security team id to assign; 0 to clear.
    pub assign_team: Option<i64>,
    /// The answer the reporter sees.
    pub answer: Option<String>,
    /// The register incident this report became.
    pub incident_id: Option<i64>,
    pub note: String,
    /// Show this step's note to the reporter.
    pub public: bool,
}

/// Apply an officer's step to a report.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: ChangeBody,
) -> Result<Report, AppError> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !can_handle(caller.user(), r.ward_id) {
        return Err(AppError::Forbidden);
    }
    let current = Status::parse(&r.status)
        .map_err(|_| AppError::Conflict("Phản ánh ở trạng thái không xác định."))?;
    let mut change = ReportChange {
        kind: "status",
        note: crate::domain::free_text(&body.note).map_err(|e| AppError::field("note", e))?,
        public: body.public,
        ..Default::default()
    };
    if let Some(s) = &body.status {
        let next = Status::parse(s).map_err(|e| AppError::field("status", e))?;
        if !current.can_become(next) {
            return Err(AppError::Conflict(
                "Không chuyển được sang trạng thái này từ trạng thái hiện tại (phản ánh đã đóng có thể mở lại).",
            ));
        }
        change.status = Some(next.as_str().to_string());
    }
    if let Some(u) = &body.assign_user {
        change.kind = "assign";
        change.assigned_user_id = Some(if u.is_empty() {
            None
        } else {
            let user = state.store.user_by_username(u).await?.filter(|x| {
                x.ward_id == Some(r.ward_id) && x.role() == crate::domain::Role::Officer
            });
            Some(
                user.ok_or(AppError::field(
                    "assign_user",
                    crate::domain::Invalid("Không có cán bộ này trong phường."),
                ))?
                .id,
            )
        });
    }
    if let Some(t) = body.assign_team {
        change.kind = "assign";
        change.assigned_team_id = Some(if t == 0 {
            None
        } else {
            let team = state
                .store
                .team(t)
                .await?
                .filter(|x| x.ward_id == r.ward_id && x.archived_at.is_none());
            Some(
                team.ok_or(AppError::field(
                    "assign_team",
                    crate::domain::Invalid("Không có tổ bảo vệ này trong phường."),
                ))?
                .id,
            )
        });
        // Giving a report to someone moves it on, unless the officer says otherwise.
        if change.status.is_none() && matches!(current, Status::New | Status::Acknowledged) {
            change.status = Some(Status::Assigned.as_str().to_string());
        }
    }
    if let Some(a) = &body.answer {
        change.public_answer =
            Some(crate::domain::free_text(a).map_err(|e| AppError::field("answer", e))?);
        change.public = true;
    }
    if let Some(i) = body.incident_id {
        change.incident_id = Some((i > 0).then_some(i));
    }
    Ok(state
        .store
        .change_report(caller.actor(), id, change)
        .await?)
}

/// Triage a report: status, assignment, answer to the reporter, a note (kept in history).
#[utoipa::path(post, path = "/api/v1/reports/{id}/changes", tag = "reports", params(("id" = i64, Path)),
    request_body = ChangeBody, responses((status = 200, body = ReportView), (status = 403), (status = 409)))]
pub async fn post_change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ChangeBody>,
) -> Result<Json<ReportView>, AppError> {
    let r = change(&state, &caller, id, body).await?;
    Ok(Json(ReportView::new(&r, true)))
}

#[derive(Deserialize, ToSchema)]
pub struct MergeBody {
    /// The report this one duplicates.
    pub into: i64,
    #[serde(default)]
    pub note: String,
}

pub async fn merge(
    state: &AppState,
    caller: &Caller,
    id: i64,
    into: i64,
    note: &str,
) -> Result<Report, AppError> {
    let from = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    let target = state.store.report(into).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !can_handle(caller.user(), from.ward_id) || target.ward_id != from.ward_id {
        return Err(AppError::Forbidden);
    }
    if id == into || target.merged_into.is_some() || target.status == Status::Merged.as_str() {
        return Err(AppError::Conflict(
            "Chỉ gộp được vào một phản ánh khác chưa bị gộp.",
        ));
    }
    if from.status == Status::Merged.as_str() {
        return Err(AppError::Conflict("Phản ánh này đã được gộp."));
    }
    let note = crate::domain::free_text(note).map_err(|e| AppError::field("note", e))?;
    Ok(state
        .store
        .merge_report(caller.actor(), id, into, &note)
        .await?)
}

/// Merge a duplicate into another report; it keeps its reporter and photos.
#[utoipa::path(post, path = "/api/v1/reports/{id}/merge", tag = "reports", params(("id" = i64, Path)),
    request_body = MergeBody, responses((status = 200, body = ReportView), (status = 409)))]
pub async fn post_merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MergeBody>,
) -> Result<Json<ReportView>, AppError> {
    let r = merge(&state, &caller, id, body.into, &body.note).await?;
    Ok(Json(ReportView::new(&r, true)))
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    pub report: ReportView,
    pub likeness: f64,
}

pub async fn suggestions(state: &AppState, r: &Report) -> Result<Vec<(Report, f64)>, AppError> {
    let filter = ReportFilter {
        since: Some(r.created_at - chrono::Duration::hours(12)),
        limit: 300,
        ..Default::default()
    };
    let candidates = state.store.reports(r.ward_id, &filter).await?;
    Ok(similar(r, &candidates)
        .into_iter()
        .map(|(c, s)| (c.clone(), s))
        .collect())
}

/// Likely duplicates of a report (close in place, time and wording), for an officer to
/// confirm.
#[utoipa::path(get, path = "/api/v1/reports/{id}/similar", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Suggestion>)))]
pub async fn get_similar(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Suggestion>>, AppError> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !can_handle(caller.user(), r.ward_id) {
        return Err(AppError::Forbidden);
    }
    let out = suggestions(&state, &r).await?;
    Ok(Json(
        out.into_iter()
            .map(|(c, s)| Suggestion {
                report: ReportView::new(&c, false),
                likeness: (s * 100.0).round() / 100.0,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct NearbyQuery {
    ward: String,
    lat: f64,
    lon: f64,
}

#[derive(Serialize, ToSchema)]
pub struct Nearby {
    pub tracking_code: String,
    pub category: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Metres from the given position, rounded to 50 m.
    pub distance_m: i64,
}

/// Reports made near a place in the last 6 hours ("is this the same fire?"): kind, time
/// and rough distance only, never what was written or by whom.
#[utoipa::path(get, path = "/api/v1/reports/nearby", tag = "reports", params(NearbyQuery),
    responses((status = 200, body = Vec<Nearby>)))]
pub async fn nearby(
    State(state): State<AppState>,
    Query(q): Query<NearbyQuery>,
) -> Result<Json<Vec<Nearby>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &q.ward).await?;
    crate::domain::LatLon::new(q.lat, q.lon).map_err(|e| AppError::field("lat", e))?;
    let filter = ReportFilter {
        since: Some(chrono::Utc::now() - chrono::Duration::hours(6)),
        limit: 300,
        ..Default::default()
    };
    let mut out: Vec<Nearby> = state
        .store
        .reports(ward.id, &filter)
        .await?
        .into_iter()
        .filter(|r| r.status != Status::Merged.as_str())
        .filter_map(|r| {
            let d = super::service::distance_m((q.lat, q.lon), (r.lat?, r.lon?));
            (d <= 500.0).then(|| Nearby {
                tracking_code: r.tracking_code,
                category: r.category,
                status: r.status,
                created_at: r.created_at,
                distance_m: ((d / 50.0).round() * 50.0) as i64,
            })
        })
        .collect();
    out.sort_by_key(|n| n.distance_m);
    out.truncate(10);
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct TrackStep {
    pub at: chrono::DateTime<chrono::Utc>,
    pub status: Option<String>,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct Tracking {
    pub tracking_code: String,
    pub category: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub answer: String,
    pub steps: Vec<TrackStep>,
    /// When merged: the tracking code of the report it joined.
    pub merged_into: Option<String>,
}

pub async fn tracking(state: &AppState, code: &str) -> Result<(Report, Tracking), AppError> {
    let (code, number) = state.intake.codes().read(code).ok_or(AppError::NotFound)?;
    let r = state
        .store
        .report_by_tracking(&code, Some(number as i64))
        .await?
        .ok_or(AppError::NotFound)?;
    let steps = state
        .store
        .report_events(r.id)
        .await?
        .into_iter()
        .filter(|e| e.public)
        .map(|e| TrackStep {
            at: e.at,
            status: e.to_status,
            note: e.note,
        })
        .collect();
    let merged_into = match r.merged_into {
        Some(id) => state.store.report(id).await?.map(|m| m.tracking_code),
        None => None,
    };
    let t = Tracking {
        tracking_code: r.tracking_code.clone(),
        category: r.category.clone(),
        status: r.status.clone(),
        created_at: r.created_at,
        answer: r.public_answer.clone(),
        steps,
        merged_into,
    };
    Ok((r, t))
}

/// A report's progress as its reporter sees it, by tracking code (no login).
#[utoipa::path(get, path = "/api/v1/track/{code}", tag = "reports", params(("code" = String, Path)),
    responses((status = 200, body = Tracking), (status = 404)))]
pub async fn track(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Tracking>, AppError> {
    Ok(Json(tracking(&state, &code).await?.1))
}

#[derive(Deserialize, IntoParams)]
pub struct StreamQuery {
    ward: String,
}

/// New reports of a ward as Server-Sent Events, for the officers' inbox (resumes from
/// `Last-Event-ID`, a report id).
#[utoipa::path(get, path = "/api/v1/reports/stream", tag = "reports", params(StreamQuery),
    responses((status = 200, description = "text/event-stream")))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &q.ward).await?;
    caller.require()?;
    if !can_handle(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let rx = state.live.reports();
    let last: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MAX);
    let backlog = if last == i64::MAX {
        Vec::new()
    } else {
        state
            .store
            .reports_after(last, 500)
            .await?
            .into_iter()
            .filter(|r| r.ward_id == ward.id)
            .collect()
    };
    let ward_id = ward.id;
    let event = |r: &Report| {
        Event::default()
            .id(r.id.to_string())
            .event("report")
            .data(serde_json::json!({"id": r.id, "priority": r.priority, "category": r.category, "status": r.status}).to_string())
    };
    let seen = backlog.last().map(|r| r.id).unwrap_or(0);
    let backlog = stream::iter(backlog.iter().map(event).map(Ok).collect::<Vec<_>>());
    // Without a Last-Event-ID a listener wants what comes from now on, not the history.
    let floor = if last == i64::MAX {
        state.live.last_report()
    } else {
        seen.max(last)
    };
    let store = state.store.clone();
    let reread = move |after| {
        let store = store.clone();
        async move { store.reports_after(after, 500).await.unwrap_or_default() }
    };
    let live = follow(rx, seen, floor, 500, reread).filter_map(move |r| {
        let out = (r.ward_id == ward_id).then(|| Ok(event(&r)));
        async move { out }
    });
    Ok(Sse::new(backlog.chain(live)).keep_alive(KeepAlive::default()))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/captcha", get(captcha))
        .route("/api/v1/reports", get(list).post(create))
        .route("/api/v1/reports/nearby", get(nearby))
        .route("/api/v1/reports/stream", get(stream))
        .route("/api/v1/reports/{id}", get(get_one))
        .route("/api/v1/reports/{id}/changes", post(post_change))
        .route("/api/v1/reports/{id}/merge", post(post_merge))
        .route("/api/v1/reports/{id}/similar", get(get_similar))
        .route("/api/v1/track/{code}", get(track))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Không có phường với mã này.", "No ward has this code."),
    (
        "Địa chỉ này đã gửi nhiều phản ánh trong một giờ; vui lòng thử lại sau hoặc gọi 113.",
        "Many reports came from this address within an hour; try later or call 113.",
    ),
    (
        "Phản ánh ở trạng thái không xác định.",
        "The report is in an unknown state.",
    ),
    (
        "Không chuyển được sang trạng thái này từ trạng thái hiện tại (phản ánh đã đóng có thể mở lại).",
        "The report cannot move to this status from its current one (a closed report can be reopened).",
    ),
    (
        "Không có cán bộ này trong phường.",
        "No such officer in the ward.",
    ),
    (
        "Không có tổ bảo vệ này trong phường.",
        "No such security team in the ward.",
    ),
    (
        "Chỉ gộp được vào một phản ánh khác chưa bị gộp.",
        "A report can only be merged into another, unmerged one.",
    ),
    (
        "Phản ánh này đã được gộp.",
        "This report is already merged.",
    ),
];
