//! Duty endpoints: templates and places (officers, team leaders for their team), roster
//! builds and hand changes with every conflict answered, claims, check-ins (GPS or a
//! posted QR code, offline retries counted once), patrol logs, and the roster's outputs:
//! iCalendar feeds, the printable PDF and the monthly XLSX summary.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{
    self, BuildOutcome, ConflictView, Month, MonthData, TemplateForm, can_roster, can_see_roster,
    describe, month_data, to_local,
};
use super::{DutyKind, PlaceKind, ical, print, roster};
use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::{Invalid, LatLon, Role};
use crate::http::ctx::{Caller, hash_token};
use crate::http::error::AppError;
use crate::store::duty::{
    Assignment, Checkin, NewCheckin, Place, PlaceInput, Shift, Stop, StopInput, Template,
};
use crate::store::territory::Unit;
use crate::territory::service::ward_by_code;

/// A problem-details answer that carries the list of what is wrong.
fn problem(status: StatusCode, title: &str, detail: &str, extra: serde_json::Value) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn ward_of(state: &AppState, code: &str) -> Result<Unit, AppError> {
    ward_by_code(state.store.as_ref(), code)
        .await
        .map_err(|_| AppError::field("ward", Invalid("Không có phường với mã này.")))
}

/// The ward's teams and partner forces, for checking a template's force.
async fn forces_of(state: &AppState, ward_id: i64) -> Result<(Vec<i64>, Vec<i64>), AppError> {
    let teams = state.store.teams(ward_id, false).await?;
    let forces = state.store.forces(ward_id).await?;
    Ok((
        teams.iter().map(|t| t.id).collect(),
        forces.iter().map(|f| f.id).collect(),
    ))
}

/// Check and save a template; a team leader may only keep their own team's duties.
pub async fn save_template(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
    form: &TemplateForm,
) -> Result<Template, AppError> {
    let ward = ward_of(state, &form.ward).await?;
    let user = caller.require()?;
    let places = state.store.places(ward.id).await?;
    let (teams, forces) = forces_of(state, ward.id).await?;
    let team_groups = state.store.team_groups(ward.id).await?;
    let (input, _) = service::parse_template(form, ward.id, &places, &teams, &forces)?;
    let probe = Template {
        id: 0,
        ward_id: ward.id,
        kind: input.kind.clone(),
        title: String::new(),
        place_id: None,
        force_kind: input.force_kind.clone(),
        team_id: input.team_id,
        force_id: input.force_id,
        needed: 0,
        start_time: String::new(),
        end_time: String::new(),
        starts_on: input.starts_on,
        ends_on: None,
        rule: String::new(),
        lunar_days: String::new(),
        lunar_months: String::new(),
        except_dates: String::new(),
        skip_tet: false,
        extra_dates: String::new(),
        notes: String::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        archived_at: None,
    };
    if !can_roster(Some(user), ward.id, &probe, &team_groups) {
        return Err(AppError::Forbidden);
    }
    if let Some(id) = id {
        let old = state.store.template(id).await?.ok_or(AppError::NotFound)?;
        if old.ward_id != ward.id || !can_roster(Some(user), ward.id, &old, &team_groups) {
            return Err(AppError::Forbidden);
        }
    }
    Ok(state
        .store
        .save_template(caller.actor(), id, &input)
        .await?)
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Create a recurring duty (officers; team leaders for their own team).
#[utoipa::path(post, path = "/api/v1/duty/templates", tag = "duty", request_body = TemplateForm,
    responses((status = 201, body = Created), (status = 403), (status = 422)))]
pub async fn post_template(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<TemplateForm>,
) -> Result<Response, AppError> {
    let t = save_template(&state, &caller, None, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: t.id })).into_response())
}

#[utoipa::path(put, path = "/api/v1/duty/templates/{id}", tag = "duty", request_body = TemplateForm,
    params(("id" = i64, Path)), responses((status = 200, body = Created), (status = 403), (status = 422)))]
pub async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<TemplateForm>,
) -> Result<Json<Created>, AppError> {
    let t = save_template(&state, &caller, Some(id), &form).await?;
    Ok(Json(Created { id: t.id }))
}

pub async fn archive_template(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Template, AppError> {
    let t = state.store.template(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    let team_groups = state.store.team_groups(t.ward_id).await?;
    if !can_roster(caller.user(), t.ward_id, &t, &team_groups) {
        return Err(AppError::Forbidden);
    }
    state.store.archive_template(caller.actor(), id).await?;
    Ok(t)
}

#[utoipa::path(delete, path = "/api/v1/duty/templates/{id}", tag = "duty",
    params(("id" = i64, Path)), responses((status = 204), (status = 403)))]
pub async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    archive_template(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct WardQuery {
    pub ward: String,
    /// mm/yyyy or yyyy-mm; this month when absent
    #[serde(default)]
    pub month: String,
    /// A security team's id: only its duties
    #[serde(default)]
    pub team: Option<i64>,
}

/// The ward's recurring duties (anyone of the ward's forces).
#[utoipa::path(get, path = "/api/v1/duty/templates", tag = "duty", params(WardQuery),
    responses((status = 200, body = [Template])))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Json<Vec<Template>>, AppError> {
    let ward = ward_of(&state, &q.ward).await?;
    let user = caller.require()?;
    if user.ward_id != Some(ward.id) && !policy::is_admin(Some(user)) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(state.store.templates(ward.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceForm {
    pub ward: String,
    /// route, checkpoint or traffic_post
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub site: Option<i64>,
    #[serde(default)]
    pub notes: String,
    /// In order; a route has two or more
    pub stops: Vec<StopForm>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StopForm {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

pub async fn create_place(
    state: &AppState,
    caller: &Caller,
    form: &PlaceForm,
) -> Result<Place, AppError> {
    let ward = ward_of(state, &form.ward).await?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let mut c = crate::http::form::Checker::default();
    let kind = c.check("kind", PlaceKind::parse(&form.kind));
    let name = crate::text::clean(&form.name);
    if name.is_empty() || crate::text::graphemes_over(&name, 200) {
        c.fail("name", "Tên điểm trực cần từ 1 đến 200 ký tự.");
    }
    if form.stops.is_empty() || form.stops.len() > 50 {
        c.fail("stops", "Cần từ 1 đến 50 điểm dừng.");
    }
    if kind == Some(PlaceKind::Route) && form.stops.len() < 2 {
        c.fail(
            "stops",
            "Tuyến tuần tra cần ít nhất hai điểm dừng theo thứ tự.",
        );
    }
    let mut stops = Vec::new();
    for s in &form.stops {
        if let Some(p) = c.check("stops", LatLon::new(s.lat, s.lon)) {
            let n = crate::text::clean(&s.name);
            stops.push(StopInput {
                name: if n.is_empty() { name.clone() } else { n },
                lat: p.lat,
                lon: p.lon,
            });
        }
    }
    if let Some(site) = form.site {
        let ok = state
            .store
            .site(site)
            .await?
            .is_some_and(|s| s.ward_id == ward.id);
        if !ok {
            c.fail("site", "Không có địa bàn này trong phường.");
        }
    }
    let kind = c.finish(kind)?;
    let input = PlaceInput {
        ward_id: ward.id,
        kind: kind.as_str().into(),
        name,
        site_id: form.site,
        notes: crate::text::clean_multiline(&form.notes),
        stops,
    };
    Ok(state
        .store
        .create_place(caller.actor(), &input, &service::new_qr_key())
        .await?)
}

/// Add a patrol route, checkpoint or traffic post (officers).
#[utoipa::path(post, path = "/api/v1/duty/places", tag = "duty", request_body = PlaceForm,
    responses((status = 201, body = Created), (status = 403), (status = 422)))]
pub async fn post_place(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<PlaceForm>,
) -> Result<Response, AppError> {
    let p = create_place(&state, &caller, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: p.id })).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PlaceView {
    #[serde(flatten)]
    pub place: Place,
    pub stops: Vec<Stop>,
}

#[utoipa::path(get, path = "/api/v1/duty/places", tag = "duty", params(WardQuery),
    responses((status = 200, body = [PlaceView])))]
pub async fn list_places(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Json<Vec<PlaceView>>, AppError> {
    let ward = ward_of(&state, &q.ward).await?;
    let user = caller.require()?;
    if user.ward_id != Some(ward.id) && !policy::is_admin(Some(user)) {
        return Err(AppError::Forbidden);
    }
    let stops = state.store.stops(ward.id).await?;
    Ok(Json(
        state
            .store
            .places(ward.id)
            .await?
            .into_iter()
            .map(|p| PlaceView {
                stops: stops
                    .iter()
                    .filter(|s| s.place_id == p.id)
                    .cloned()
                    .collect(),
                place: p,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RulesForm {
    pub ward: String,
    pub max_nights: i64,
    pub rest_hours: i64,
    pub late_minutes: i64,
}

/// Set the ward's roster rules (officers).
#[utoipa::path(put, path = "/api/v1/duty/rules", tag = "duty", request_body = RulesForm,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn put_rules(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<RulesForm>,
) -> Result<StatusCode, AppError> {
    let ward = ward_of(&state, &form.ward).await?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let mut c = crate::http::form::Checker::default();
    if !(0..=31).contains(&form.max_nights) {
        c.fail(
            "max_nights",
            "Số ca đêm tối đa trong tháng là một số từ 0 đến 31.",
        );
    }
    if !(0..=48).contains(&form.rest_hours) {
        c.fail(
            "rest_hours",
            "Số giờ nghỉ sau ca đêm là một số từ 0 đến 48.",
        );
    }
    if !(0..=240).contains(&form.late_minutes) {
        c.fail(
            "late_minutes",
            "Số phút tính là muộn là một số từ 0 đến 240.",
        );
    }
    c.finish(Some(()))?;
    state
        .store
        .set_duty_rules(
            caller.actor(),
            crate::store::duty::DutyRules {
                ward_id: ward.id,
                max_nights: form.max_nights,
                rest_hours: form.rest_hours,
                late_minutes: form.late_minutes,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The person a user serves as, and whether the caller may change that person's duty
/// settings (themselves, their team's leader, the ward's officers).
async fn person_in_reach(
    state: &AppState,
    caller: &Caller,
    person_id: i64,
) -> Result<crate::store::forces::Person, AppError> {
    let user = caller.require()?;
    let p = state
        .store
        .person(person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let team_groups = state.store.team_groups(p.ward_id).await?;
    if user.person_id == Some(p.id) || policy::can_edit_person(Some(user), &p, &team_groups) {
        Ok(p)
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AvailabilityForm {
    pub person: i64,
    /// Seven characters, Monday first, "1" for a day they serve: "1111100"
    pub weekdays: String,
    pub nights: bool,
}

#[utoipa::path(put, path = "/api/v1/duty/availability", tag = "duty", request_body = AvailabilityForm,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn put_availability(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<AvailabilityForm>,
) -> Result<StatusCode, AppError> {
    person_in_reach(&state, &caller, form.person).await?;
    if form.weekdays.len() != 7 || !form.weekdays.chars().all(|c| c == '0' || c == '1') {
        return Err(AppError::field(
            "weekdays",
            Invalid("Ngày trong tuần là 7 chữ số 0 hoặc 1, bắt đầu từ thứ Hai, ví dụ 1111100."),
        ));
    }
    state
        .store
        .set_availability(
            caller.actor(),
            &crate::store::duty::Availability {
                person_id: form.person,
                weekdays: form.weekdays.clone(),
                nights: form.nights,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LeaveForm {
    pub person: i64,
    /// dd/mm/yyyy
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/duty/leave", tag = "duty", request_body = LeaveForm,
    responses((status = 201, body = Created), (status = 403), (status = 422)))]
pub async fn post_leave(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<LeaveForm>,
) -> Result<Response, AppError> {
    person_in_reach(&state, &caller, form.person).await?;
    let mut c = crate::http::form::Checker::default();
    let from = c
        .check("from", crate::domain::parse_date(&form.from))
        .flatten();
    let to = c.check("to", crate::domain::parse_date(&form.to)).flatten();
    match (from, to) {
        (Some(a), Some(b)) if b < a => c.fail("to", "Ngày kết thúc phải sau ngày bắt đầu."),
        (Some(_), Some(_)) => {}
        _ => c.fail("from", "Cần ngày bắt đầu và ngày kết thúc nghỉ."),
    }
    let (from, to) = c.finish(from.zip(to))?;
    let l = state
        .store
        .add_leave(
            caller.actor(),
            form.person,
            from,
            to,
            &crate::text::clean(&form.reason),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: l.id })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BuildForm {
    pub ward: String,
    /// mm/yyyy
    pub month: String,
    /// Only this team's duties (a team leader's build)
    #[serde(default)]
    pub team: Option<i64>,
    /// Save even though some places stay open
    #[serde(default)]
    pub accept_open: bool,
}

pub async fn build(
    state: &AppState,
    caller: &Caller,
    form: &BuildForm,
) -> Result<BuildOutcome, AppError> {
    let ward = ward_of(state, &form.ward).await?;
    let user = caller.require()?;
    let month = Month::parse(&form.month).map_err(|e| AppError::field("month", e))?;
    let team_groups = state.store.team_groups(ward.id).await?;
    let team = if policy::can_edit_registry(Some(user), ward.id) {
        form.team
    } else if user.role() == Role::TeamLeader && user.ward_id == Some(ward.id) {
        let own = policy::own_team(user, &team_groups).ok_or(AppError::Forbidden)?;
        if form.team.is_some_and(|t| t != own) {
            return Err(AppError::Forbidden);
        }
        Some(own)
    } else {
        return Err(AppError::Forbidden);
    };
    service::build_month(
        state.store.as_ref(),
        caller.actor(),
        ward.id,
        month,
        team,
        form.accept_open,
        caller.lang,
    )
    .await
}

/// Build a month's roster from the recurring duties, availability and leave. When some
/// places cannot be filled the answer is 422 with every shortfall and why, and nothing
/// is saved — unless `accept_open` is set, which keeps them open for people to claim.
#[utoipa::path(post, path = "/api/v1/duty/roster/build", tag = "duty", request_body = BuildForm,
    responses((status = 200, body = BuildOutcome), (status = 422, body = BuildOutcome), (status = 403)))]
pub async fn post_build(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<BuildForm>,
) -> Result<Response, AppError> {
    let outcome = build(&state, &caller, &form).await?;
    if outcome.saved {
        return Ok(Json(outcome).into_response());
    }
    Ok(problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        caller.t("Không xếp đủ người cho mọi ca trực"),
        caller.t("Chưa lưu gì. Xem từng ca còn thiếu người và lý do; sửa lịch, nghỉ phép hoặc số người cần, hoặc gửi lại với accept_open để lưu và để trống các chỗ còn thiếu."),
        serde_json::json!({ "outcome": outcome }),
    ))
}

/// One person on a shift, with how their duty went.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnDuty {
    pub assignment_id: i64,
    pub person_id: i64,
    pub name: String,
    pub source: String,
    /// Rules knowingly broken when this was set by hand
    pub conflicts: String,
    pub checked_in: Option<DateTime<Utc>>,
    pub checked_out: Option<DateTime<Utc>>,
    pub distance_m: Option<f64>,
    pub late: bool,
    pub missed: bool,
    /// Checkpoints scanned (patrols)
    pub stops_scanned: usize,
    /// The reminder before the duty: '' before it is due, "sent: sms", "failed: …"
    pub reminder: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: i64,
    pub template_id: i64,
    pub title: String,
    pub kind: String,
    pub kind_label: String,
    pub place: String,
    pub place_id: Option<i64>,
    pub force_kind: String,
    pub team_id: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// dd/mm/yyyy
    pub date: String,
    pub weekday: String,
    /// "05:30–11:00"
    pub time: String,
    pub night: bool,
    pub needed: i64,
    pub open: i64,
    pub people: Vec<OnDuty>,
}

const WEEKDAYS: [&str; 7] = [
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
];

pub fn weekday_label(d: NaiveDate) -> &'static str {
    WEEKDAYS[super::recurrence::weekday_index(d)]
}

/// The month's shifts as people read them.
pub fn shift_views(
    data: &MonthData,
    places: &[Place],
    checkins: &[Checkin],
    lang: crate::i18n::Lang,
    now: DateTime<Utc>,
) -> Vec<ShiftView> {
    let (from, to) = data.month.bounds();
    let late = Duration::minutes(data.rules.late_minutes);
    let mut by_assignment: HashMap<i64, Vec<&Checkin>> = HashMap::new();
    for c in checkins {
        by_assignment.entry(c.assignment_id).or_default().push(c);
    }
    data.shifts
        .iter()
        .filter(|s| s.starts_at >= from && s.starts_at < to)
        .filter_map(|s| {
            let t = data.templates.iter().find(|t| t.id == s.template_id)?;
            let people: Vec<OnDuty> = data
                .assignments
                .iter()
                .filter(|a| a.shift_id == s.id)
                .map(|a| {
                    on_duty(
                        data,
                        a,
                        s,
                        by_assignment.get(&a.id).map(Vec::as_slice).unwrap_or(&[]),
                        late,
                        now,
                    )
                })
                .collect();
            Some(view_of(s, t, places, people, lang))
        })
        .collect()
}

fn on_duty(
    data: &MonthData,
    a: &Assignment,
    s: &Shift,
    checks: &[&Checkin],
    late: Duration,
    now: DateTime<Utc>,
) -> OnDuty {
    let first_in = checks
        .iter()
        .filter(|c| c.kind == "in")
        .min_by_key(|c| c.at);
    let checked_in = first_in.map(|c| c.at);
    OnDuty {
        assignment_id: a.id,
        person_id: a.person_id,
        name: data.person_name(a.person_id),
        source: a.source.clone(),
        conflicts: a.conflicts.clone(),
        checked_in,
        checked_out: checks
            .iter()
            .filter(|c| c.kind == "out")
            .map(|c| c.at)
            .max(),
        distance_m: first_in.and_then(|c| c.distance_m),
        late: checked_in.is_some_and(|t| t > s.starts_at + late),
        missed: checked_in.is_none() && now > s.ends_at,
        stops_scanned: checks.iter().filter(|c| c.kind == "stop").count(),
        reminder: a.reminder.clone(),
    }
}

fn view_of(
    s: &Shift,
    t: &Template,
    places: &[Place],
    people: Vec<OnDuty>,
    lang: crate::i18n::Lang,
) -> ShiftView {
    let (start, end) = (to_local(s.starts_at), to_local(s.ends_at));
    ShiftView {
        id: s.id,
        template_id: t.id,
        title: t.title.clone(),
        kind: t.kind.clone(),
        kind_label: DutyKind::parse(&t.kind)
            .map(|k| crate::i18n::tr(lang, k.label()).to_string())
            .unwrap_or_default(),
        place: t
            .place_id
            .and_then(|id| places.iter().find(|p| p.id == id))
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        place_id: t.place_id,
        force_kind: t.force_kind.clone(),
        team_id: t.team_id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        date: start.format("%d/%m/%Y").to_string(),
        weekday: crate::i18n::tr(lang, weekday_label(start.date())).to_string(),
        time: format!("{}–{}", start.format("%H:%M"), end.format("%H:%M")),
        night: roster::is_night(start, end),
        needed: s.needed,
        open: (s.needed - people.len() as i64).max(0),
        people,
    }
}

/// The roster of a ward's month, for those who may see all of it.
pub async fn roster_of(
    state: &AppState,
    caller: &Caller,
    ward: &Unit,
    month: Month,
    team: Option<i64>,
) -> Result<(MonthData, Vec<ShiftView>), AppError> {
    caller.require()?;
    if !can_see_roster(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let data = month_data(state.store.as_ref(), ward.id, month).await?;
    let places = state.store.places(ward.id).await?;
    let (from, to) = month.bounds();
    let checkins = state.store.checkins(ward.id, from, to).await?;
    let mut views = shift_views(&data, &places, &checkins, caller.lang, Utc::now());
    if let Some(team) = team {
        views.retain(|v| v.team_id == Some(team));
    }
    Ok((data, views))
}

#[utoipa::path(get, path = "/api/v1/duty/roster", tag = "duty", params(WardQuery),
    responses((status = 200, body = [ShiftView]), (status = 403)))]
pub async fn get_roster(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Json<Vec<ShiftView>>, AppError> {
    let ward = ward_of(&state, &q.ward).await?;
    let month = Month::parse(&q.month).map_err(|e| AppError::field("month", e))?;
    Ok(Json(
        roster_of(&state, &caller, &ward, month, q.team).await?.1,
    ))
}

/// The shift, its month's data, and whether the caller may change its people.
async fn shift_context(
    state: &AppState,
    caller: &Caller,
    shift_id: i64,
) -> Result<(Shift, MonthData, bool), AppError> {
    let user = caller.require()?;
    let shift = state
        .store
        .shift(shift_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if user.ward_id != Some(shift.ward_id) && !policy::is_admin(Some(user)) {
        return Err(AppError::NotFound);
    }
    let month = Month::parse(&shift.month).map_err(|_| AppError::NotFound)?;
    let data = month_data(state.store.as_ref(), shift.ward_id, month).await?;
    let template = state
        .store
        .template(shift.template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let team_groups = state.store.team_groups(shift.ward_id).await?;
    let may = can_roster(caller.user(), shift.ward_id, &template, &team_groups);
    Ok((shift, data, may))
}

/// What a refused hand change answers: every broken rule, and how to insist.
pub enum Refusal {
    Conflicts(Vec<ConflictView>),
    Error(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Error(e)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::Error(e.into())
    }
}

impl Refusal {
    pub fn respond(self, caller: &Caller) -> Response {
        match self {
            Refusal::Error(e) => e.into_response(),
            Refusal::Conflicts(c) => problem(
                StatusCode::CONFLICT,
                caller.t("Thay đổi vi phạm quy định xếp lịch"),
                caller.t("Không lưu. Xem từng vi phạm; nếu vẫn cần làm vậy, gửi lại với accept_conflicts và ghi chú lý do."),
                serde_json::json!({ "conflicts": c }),
            ),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AssignForm {
    pub person: i64,
    pub note: String,
    /// Save even though rules are broken (the conflicts are kept and shown)
    pub accept_conflicts: bool,
}

pub async fn assign(
    state: &AppState,
    caller: &Caller,
    shift_id: i64,
    form: &AssignForm,
) -> Result<Assignment, Refusal> {
    let (shift, data, may) = shift_context(state, caller, shift_id).await?;
    if !may {
        return Err(AppError::Forbidden.into());
    }
    if !data.people.iter().any(|p| p.id == form.person) {
        return Err(AppError::field(
            "person",
            Invalid("Không có người này trong lực lượng của phường."),
        )
        .into());
    }
    let conflicts = data.conflicts(form.person, &shift, &[]);
    if conflicts.contains(&roster::Conflict::AlreadyOn) {
        return Err(AppError::Conflict("Người này đã có tên trong ca trực.").into());
    }
    if !conflicts.is_empty() && !form.accept_conflicts {
        return Err(Refusal::Conflicts(describe(&conflicts, caller.lang)));
    }
    let note = crate::text::clean(&form.note);
    if !conflicts.is_empty() && note.is_empty() {
        return Err(AppError::field(
            "note",
            Invalid("Xếp người dù vi phạm quy định thì cần ghi lý do."),
        )
        .into());
    }
    let text = describe(&conflicts, crate::i18n::Lang::Vi)
        .into_iter()
        .map(|c| c.message)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(state
        .store
        .assign(
            caller.actor(),
            shift.id,
            form.person,
            "manual",
            &text,
            &note,
        )
        .await?)
}

/// Put a person on a shift by hand (officers; team leaders for their team's duties).
/// A rule broken answers 409 with the list, unless `accept_conflicts` and a note.
#[utoipa::path(post, path = "/api/v1/duty/shifts/{id}/assign", tag = "duty", request_body = AssignForm,
    params(("id" = i64, Path)), responses((status = 201, body = Created), (status = 409), (status = 403)))]
pub async fn post_assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<AssignForm>,
) -> Response {
    match assign(&state, &caller, id, &form).await {
        Ok(a) => (StatusCode::CREATED, Json(Created { id: a.id })).into_response(),
        Err(r) => r.respond(&caller),
    }
}

pub async fn unassign(state: &AppState, caller: &Caller, id: i64) -> Result<Shift, AppError> {
    let a = state
        .store
        .assignment(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (shift, _, may) = shift_context(state, caller, a.shift_id).await?;
    if !may {
        return Err(AppError::Forbidden);
    }
    state.store.unassign(caller.actor(), id).await?;
    Ok(shift)
}

#[utoipa::path(delete, path = "/api/v1/duty/assignments/{id}", tag = "duty",
    params(("id" = i64, Path)), responses((status = 204), (status = 409), (status = 403)))]
pub async fn delete_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    unassign(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SwapForm {
    pub a: i64,
    pub b: i64,
    pub note: String,
    pub accept_conflicts: bool,
}

/// Exchange the people of two assignments of the same month.
pub async fn swap(state: &AppState, caller: &Caller, form: &SwapForm) -> Result<(), Refusal> {
    let a = state
        .store
        .assignment(form.a)
        .await?
        .ok_or(AppError::NotFound)?;
    let b = state
        .store
        .assignment(form.b)
        .await?
        .ok_or(AppError::NotFound)?;
    let (sa, data, may_a) = shift_context(state, caller, a.shift_id).await?;
    let (sb, data_b, may_b) = shift_context(state, caller, b.shift_id).await?;
    if !may_a || !may_b {
        return Err(AppError::Forbidden.into());
    }
    if sa.ward_id != sb.ward_id {
        return Err(
            AppError::BadRequest("Chỉ đổi ca giữa hai ca trực của cùng một phường.").into(),
        );
    }
    // Each person takes the other's duty and gives their own away.
    let ca = data.conflicts(b.person_id, &sa, &[a.id, b.id]);
    let cb = data_b.conflicts(a.person_id, &sb, &[a.id, b.id]);
    let mut all = ca.clone();
    all.extend(cb.iter().copied());
    if !all.is_empty() && !form.accept_conflicts {
        return Err(Refusal::Conflicts(describe(&all, caller.lang)));
    }
    let words = |c: &[roster::Conflict]| {
        describe(c, crate::i18n::Lang::Vi)
            .into_iter()
            .map(|c| c.message)
            .collect::<Vec<_>>()
            .join("; ")
    };
    state
        .store
        .swap(caller.actor(), a.id, b.id, (&words(&ca), &words(&cb)))
        .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/duty/swap", tag = "duty", request_body = SwapForm,
    responses((status = 204), (status = 409), (status = 403)))]
pub async fn post_swap(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<SwapForm>,
) -> Response {
    match swap(&state, &caller, &form).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r.respond(&caller),
    }
}

/// Take an open place on a shift oneself (a member of the force that serves it).
pub async fn claim(
    state: &AppState,
    caller: &Caller,
    shift_id: i64,
) -> Result<Assignment, Refusal> {
    let user = caller.require()?;
    let person = user.person_id.ok_or(AppError::BadRequest(
        "Tài khoản chưa gắn với một người trong lực lượng; nhờ cán bộ Công an phường gắn.",
    ))?;
    let (shift, data, _) = shift_context(state, caller, shift_id).await?;
    let on = data
        .assignments
        .iter()
        .filter(|a| a.shift_id == shift.id)
        .count() as i64;
    if on >= shift.needed {
        return Err(AppError::Conflict("Ca trực này đã đủ người.").into());
    }
    if shift.ends_at < Utc::now() {
        return Err(AppError::Conflict("Ca trực này đã kết thúc.").into());
    }
    let conflicts = data.conflicts(person, &shift, &[]);
    if !conflicts.is_empty() {
        return Err(Refusal::Conflicts(describe(&conflicts, caller.lang)));
    }
    Ok(state
        .store
        .assign(caller.actor(), shift.id, person, "claim", "", "")
        .await?)
}

#[utoipa::path(post, path = "/api/v1/duty/shifts/{id}/claim", tag = "duty",
    params(("id" = i64, Path)), responses((status = 201, body = Created), (status = 409)))]
pub async fn post_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    match claim(&state, &caller, id).await {
        Ok(a) => (StatusCode::CREATED, Json(Created { id: a.id })).into_response(),
        Err(r) => r.respond(&caller),
    }
}

/// A person's own duties and the open places they could take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyDuties {
    pub person_id: i64,
    pub upcoming: Vec<MyShift>,
    pub open: Vec<ShiftView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyShift {
    #[serde(flatten)]
    pub shift: ShiftView,
    pub assignment_id: i64,
    /// Whether check-in is open now
    pub can_check_in: bool,
    pub checked_in: bool,
    pub checked_out: bool,
}

/// How early before its start a duty may be checked into.
const CHECKIN_EARLY: i64 = 60;

pub async fn my_duties(state: &AppState, caller: &Caller) -> Result<MyDuties, AppError> {
    let user = caller.require()?;
    let person = user.person_id.ok_or(AppError::BadRequest(
        "Tài khoản chưa gắn với một người trong lực lượng; nhờ cán bộ Công an phường gắn.",
    ))?;
    let ward_id = user.ward_id.ok_or(AppError::Forbidden)?;
    let now = Utc::now();
    let this = Month::parse("").expect("this month");
    let places = state.store.places(ward_id).await?;
    let mut upcoming = Vec::new();
    let mut open = Vec::new();
    for month in [this, this.next()] {
        let data = month_data(state.store.as_ref(), ward_id, month).await?;
        let (from, to) = month.bounds();
        let checkins = state.store.checkins(ward_id, from, to).await?;
        for v in shift_views(&data, &places, &checkins, caller.lang, now) {
            if v.ends_at < now - Duration::hours(12) {
                continue;
            }
            if let Some(me) = v.people.iter().find(|p| p.person_id == person).cloned() {
                upcoming.push(MyShift {
                    can_check_in: now >= v.starts_at - Duration::minutes(CHECKIN_EARLY)
                        && now <= v.ends_at,
                    assignment_id: me.assignment_id,
                    checked_in: me.checked_in.is_some(),
                    checked_out: me.checked_out.is_some(),
                    shift: v,
                });
            } else if v.open > 0 && v.ends_at > now {
                let s = data.shifts.iter().find(|s| s.id == v.id).expect("listed");
                if data.conflicts(person, s, &[]).is_empty() {
                    open.push(v);
                }
            }
        }
    }
    Ok(MyDuties {
        person_id: person,
        upcoming,
        open,
    })
}

#[utoipa::path(get, path = "/api/v1/duty/mine", tag = "duty",
    responses((status = 200, body = MyDuties), (status = 401)))]
pub async fn get_mine(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MyDuties>, AppError> {
    Ok(Json(my_duties(&state, &caller).await?))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CheckinForm {
    /// The caller's assignment (GPS check-in/out)
    pub assignment: Option<i64>,
    /// "in" or "out"; a QR scan is always a checkpoint scan
    pub kind: String,
    /// The code scanned at a checkpoint, instead of `assignment`
    pub code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy: Option<f64>,
    /// When it happened (RFC 3339), for a check-in kept on the phone while offline
    pub at: Option<DateTime<Utc>>,
    /// The phone's own id for this check-in: a resend counts once
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinAnswer {
    pub id: i64,
    pub assignment_id: i64,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub distance_m: Option<f64>,
    pub late: bool,
    /// Name of the checkpoint scanned
    pub stop: Option<String>,
}

/// How long a check-in may wait on a phone without network.
const OFFLINE_HOURS: i64 = 72;

pub async fn check_in(
    state: &AppState,
    caller: &Caller,
    form: &CheckinForm,
) -> Result<CheckinAnswer, AppError> {
    let user = caller.require()?;
    let person = user.person_id.ok_or(AppError::BadRequest(
        "Tài khoản chưa gắn với một người trong lực lượng; nhờ cán bộ Công an phường gắn.",
    ))?;
    let now = Utc::now();
    let at = form.at.unwrap_or(now);
    if at > now + Duration::minutes(5) || at < now - Duration::hours(OFFLINE_HOURS) {
        return Err(AppError::field(
            "at",
            Invalid("Thời điểm điểm danh phải trong vòng 72 giờ qua, không ở tương lai."),
        ));
    }
    let position = match (form.lat, form.lon) {
        (Some(lat), Some(lon)) => {
            Some(LatLon::new(lat, lon).map_err(|e| AppError::field("lat", e))?)
        }
        (None, None) => None,
        _ => return Err(AppError::field("lat", Invalid("Cần cả vĩ độ và kinh độ."))),
    };
    if let Some(c) = &form.client_id
        && (c.is_empty() || c.len() > 100)
    {
        return Err(AppError::field(
            "client_id",
            Invalid("Mã điểm danh của máy dài từ 1 đến 100 ký tự."),
        ));
    }
    let accuracy = form.accuracy.filter(|a| a.is_finite() && *a >= 0.0);
    // A QR scan names its stop; the duty is the caller's shift at that place now.
    let (assignment, kind, stop) = if let Some(code) = &form.code {
        let stop_id = service::code_stop(code)
            .ok_or(AppError::field("code", Invalid("Mã QR không hợp lệ.")))?;
        let stop = state
            .store
            .stop(stop_id)
            .await?
            .ok_or(AppError::field("code", Invalid("Mã QR không hợp lệ.")))?;
        let place = state
            .store
            .place(stop.place_id)
            .await?
            .ok_or(AppError::NotFound)?;
        service::check_code(code, &place, &stop, to_local(at).date())
            .map_err(|e| AppError::field("code", e))?;
        let a = current_assignment(state, place.ward_id, person, Some(place.id), at)
            .await?
            .ok_or(AppError::Conflict(
                "Bạn không có ca trực nào tại điểm này vào lúc này.",
            ))?;
        (a, "stop".to_string(), Some(stop))
    } else {
        let id = form.assignment.ok_or(AppError::field(
            "assignment",
            Invalid("Cần ca trực để điểm danh."),
        ))?;
        let a = state
            .store
            .assignment(id)
            .await?
            .ok_or(AppError::NotFound)?;
        if a.person_id != person {
            return Err(AppError::Forbidden);
        }
        let kind = match form.kind.as_str() {
            "in" | "out" => form.kind.clone(),
            _ => {
                return Err(AppError::field(
                    "kind",
                    Invalid("Loại điểm danh là in (đến) hoặc out (về)."),
                ));
            }
        };
        (a, kind, None)
    };
    let shift = state
        .store
        .shift(assignment.shift_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if at < shift.starts_at - Duration::minutes(CHECKIN_EARLY)
        || at > shift.ends_at + Duration::hours(6)
    {
        return Err(AppError::Conflict(
            "Chỉ điểm danh được từ 60 phút trước giờ bắt đầu đến 6 giờ sau giờ kết thúc ca.",
        ));
    }
    let template = state
        .store
        .template(shift.template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let stops: Vec<Stop> = match (&stop, template.place_id) {
        (Some(s), _) => vec![s.clone()],
        (None, Some(place)) => state
            .store
            .stops(shift.ward_id)
            .await?
            .into_iter()
            .filter(|s| s.place_id == place)
            .collect(),
        _ => Vec::new(),
    };
    let distance = service::distance_to(&stops, position.map(|p| (p.lat, p.lon)));
    // A checkpoint counts once per duty: a second scan answers the first.
    if let Some(s) = &stop {
        let (from, to) = (shift.starts_at, shift.starts_at + Duration::seconds(1));
        let earlier = state
            .store
            .checkins(shift.ward_id, from, to)
            .await?
            .into_iter()
            .find(|c| c.assignment_id == assignment.id && c.stop_id == Some(s.id));
        if let Some(c) = earlier {
            return Ok(answer(
                &c,
                &shift,
                &state.store.duty_rules(shift.ward_id).await?,
                Some(s.name.clone()),
            ));
        }
    }
    let stored = state
        .store
        .add_checkin(&NewCheckin {
            assignment_id: assignment.id,
            kind,
            stop_id: stop.as_ref().map(|s| s.id),
            at,
            lat: position.map(|p| p.lat),
            lon: position.map(|p| p.lon),
            accuracy_m: accuracy,
            distance_m: distance.map(|d| d.round()),
            method: if stop.is_some() {
                "qr"
            } else if position.is_some() {
                "gps"
            } else {
                "none"
            }
            .into(),
            client_id: form.client_id.as_ref().map(|c| format!("{person}:{c}")),
        })
        .await?;
    if stored.assignment_id != assignment.id {
        return Err(AppError::Conflict(
            "Mã điểm danh của máy đã được dùng cho một ca khác.",
        ));
    }
    let rules = state.store.duty_rules(shift.ward_id).await?;
    Ok(answer(&stored, &shift, &rules, stop.map(|s| s.name)))
}

fn answer(
    c: &Checkin,
    shift: &Shift,
    rules: &crate::store::duty::DutyRules,
    stop: Option<String>,
) -> CheckinAnswer {
    CheckinAnswer {
        id: c.id,
        assignment_id: c.assignment_id,
        kind: c.kind.clone(),
        at: c.at,
        distance_m: c.distance_m,
        late: c.kind == "in" && c.at > shift.starts_at + Duration::minutes(rules.late_minutes),
        stop,
    }
}

/// The caller's duty in progress at `at` (at `place`, when given).
async fn current_assignment(
    state: &AppState,
    ward_id: i64,
    person: i64,
    place: Option<i64>,
    at: DateTime<Utc>,
) -> Result<Option<Assignment>, AppError> {
    let window = (at - Duration::hours(20), at + Duration::hours(2));
    let shifts = state.store.shifts(ward_id, window.0, window.1).await?;
    let assignments = state.store.assignments(ward_id, window.0, window.1).await?;
    for s in shifts
        .iter()
        .filter(|s| at >= s.starts_at - Duration::minutes(CHECKIN_EARLY) && at <= s.ends_at)
    {
        let t = state.store.template(s.template_id).await?;
        if place.is_some() && t.and_then(|t| t.place_id) != place {
            continue;
        }
        if let Some(a) = assignments
            .iter()
            .find(|a| a.shift_id == s.id && a.person_id == person)
        {
            return Ok(Some(a.clone()));
        }
    }
    Ok(None)
}

/// Check in or out of one's duty (GPS position and time), or scan a checkpoint's code.
/// Kept offline on the phone, it is sent later with `at` and `client_id`.
#[utoipa::path(post, path = "/api/v1/duty/checkins", tag = "duty", request_body = CheckinForm,
    responses((status = 201, body = CheckinAnswer), (status = 409), (status = 422)))]
pub async fn post_checkin(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(form): Json<CheckinForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(
        headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )?;
    let a = check_in(&state, &caller, &form).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct LogForm {
    pub body: String,
    /// A note for the next shift (handover)
    pub handover: bool,
    /// File it as a community report too, in this category (crime, fire, …)
    pub report_category: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogAnswer {
    pub id: i64,
    pub report_id: Option<i64>,
    pub tracking_code: Option<String>,
}

/// Write in the duty diary; a finding can become a community report in the same step.
pub async fn add_log(
    state: &AppState,
    caller: &Caller,
    shift_id: i64,
    form: &LogForm,
) -> Result<LogAnswer, AppError> {
    let user = caller.require()?;
    let (shift, data, may) = shift_context(state, caller, shift_id).await?;
    let on_it = user.person_id.is_some_and(|p| {
        data.assignments
            .iter()
            .any(|a| a.shift_id == shift.id && a.person_id == p)
    });
    if !on_it && !may {
        return Err(AppError::Forbidden);
    }
    let body = crate::domain::free_text(&form.body).map_err(|e| AppError::field("body", e))?;
    if crate::text::graphemes_under(&body, 3) {
        return Err(AppError::field(
            "body",
            Invalid("Hãy ghi điều đã thấy, ít nhất 3 ký tự."),
        ));
    }
    let mut report = None;
    if !form.report_category.trim().is_empty() {
        let ward = state
            .store
            .unit(shift.ward_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let template = state
            .store
            .template(shift.template_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let stop = match template.place_id {
            Some(p) => state
                .store
                .stops(ward.id)
                .await?
                .into_iter()
                .find(|s| s.place_id == p),
            None => None,
        };
        let form = crate::reports::service::ReportForm {
            ward: ward.code.clone(),
            category: form.report_category.clone(),
            description: body.clone(),
            lat: stop.as_ref().map(|s| s.lat.to_string()).unwrap_or_default(),
            lon: stop.as_ref().map(|s| s.lon.to_string()).unwrap_or_default(),
            place_unknown: if stop.is_none() {
                "1".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let places =
            crate::reports::service::Places::of(state.store.as_ref(), &ward, &form).await?;
        let new =
            crate::reports::service::parse_report(&form, &ward, places, Some(user), "patrol")?;
        report = Some(crate::reports::api::submit(state, new).await?);
    }
    let log = state
        .store
        .add_log(
            shift.id,
            user.person_id,
            Some(user.id),
            &body,
            form.handover,
        )
        .await?;
    if let Some(r) = &report {
        state.store.link_log_report(log.id, r.id).await?;
    }
    Ok(LogAnswer {
        id: log.id,
        report_id: report.as_ref().map(|r| r.id),
        tracking_code: report.map(|r| r.tracking_code.clone()),
    })
}

#[utoipa::path(post, path = "/api/v1/duty/shifts/{id}/logs", tag = "duty", request_body = LogForm,
    params(("id" = i64, Path)), responses((status = 201, body = LogAnswer), (status = 403)))]
pub async fn post_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<LogForm>,
) -> Result<Response, AppError> {
    let a = add_log(&state, &caller, id, &form).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

fn ics(body: String, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, max-age=300".to_string()),
        ],
        body,
    )
        .into_response()
}

/// How far back and ahead a calendar feed reaches, in months.
const FEED_BACK: u32 = 1;
const FEED_AHEAD: u32 = 3;

fn feed_months() -> Vec<Month> {
    let mut m = Month::parse("").expect("this month");
    for _ in 0..FEED_BACK {
        m = m.prev();
    }
    (0..=FEED_BACK + FEED_AHEAD)
        .map(|_| {
            let here = m;
            m = m.next();
            here
        })
        .collect()
}

fn event_of(v: &ShiftView, uid: String, ward: &Unit, people: bool, base: &str) -> ical::Event {
    ical::Event {
        uid,
        dtstamp: Utc::now(),
        start: to_local(v.starts_at),
        end: to_local(v.ends_at),
        summary: format!("{} — {}", v.kind_label, v.title),
        description: Some(if people {
            v.people
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            String::new()
        })
        .filter(|d| !d.is_empty()),
        location: Some(if v.place.is_empty() {
            ward.name.clone()
        } else {
            format!("{}, {}", v.place, ward.name)
        }),
        geo: None,
        categories: vec![v.kind_label.clone()],
        rrule: None,
        exdates: Vec::new(),
        rdates: Vec::new(),
        status: Some(ical::Status::Confirmed),
        sequence: 0,
        url: Some(format!("{base}/duty/shifts/{}", v.id)),
        // Names go in the description: a published feed has no organizer to invite them.
        attendees: Vec::new(),
    }
}

/// The ward's whole roster as iCalendar (officers, ward leaders, team leaders): every
/// shift of last month to three months ahead, one event each.
#[utoipa::path(get, path = "/api/v1/duty/calendar.ics", tag = "duty", params(WardQuery),
    responses((status = 200, content_type = "text/calendar"), (status = 403)))]
pub async fn ward_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Response, AppError> {
    let ward = ward_of(&state, &q.ward).await?;
    let base = state.config.base_url();
    let mut events = Vec::new();
    for month in feed_months() {
        let (_, views) = roster_of(&state, &caller, &ward, month, q.team).await?;
        events.extend(
            views
                .iter()
                .map(|v| event_of(v, format!("shift-{}@wardwatch", v.id), &ward, true, &base)),
        );
    }
    let cal = ical::Calendar {
        name: format!("{} — {}", caller.t("Lịch trực"), ward.name),
        description: None,
        events,
    };
    Ok(ics(
        ical::render(&cal),
        &format!("lich-truc-{}.ics", ward.code),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct FeedAnswer {
    /// The secret address to subscribe to; keep it private
    pub url: String,
}

/// A new secret address for one's own duty calendar; any earlier one stops working.
pub async fn new_feed(state: &AppState, caller: &Caller) -> Result<String, AppError> {
    let user = caller.require()?;
    let person = user.person_id.ok_or(AppError::BadRequest(
        "Tài khoản chưa gắn với một người trong lực lượng; nhờ cán bộ Công an phường gắn.",
    ))?;
    let token = {
        use rand::Rng;
        let bytes: [u8; 24] = rand::rng().random();
        hex::encode(bytes)
    };
    state
        .store
        .create_feed(caller.actor(), person, &hash_token(&token))
        .await?;
    Ok(format!(
        "{}/duty/feeds/{token}.ics",
        state.config.base_url()
    ))
}

#[utoipa::path(post, path = "/api/v1/duty/feed", tag = "duty", responses((status = 201, body = FeedAnswer)))]
pub async fn post_feed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let url = new_feed(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(FeedAnswer { url })).into_response())
}

#[utoipa::path(delete, path = "/api/v1/duty/feed", tag = "duty", responses((status = 204)))]
pub async fn delete_feed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, AppError> {
    let user = caller.require()?;
    let person = user.person_id.ok_or(AppError::NotFound)?;
    state.store.revoke_feeds(caller.actor(), person).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's own duties at their secret address (no login: the address is the key).
pub async fn person_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    if token.len() != 48 {
        return Err(AppError::NotFound);
    }
    let person_id = state
        .store
        .feed_person(&hash_token(token))
        .await?
        .ok_or(AppError::NotFound)?;
    let person = state
        .store
        .person(person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(person.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let places = state.store.places(ward.id).await?;
    let base = state.config.base_url();
    let mut events = Vec::new();
    for month in feed_months() {
        let data = month_data(state.store.as_ref(), ward.id, month).await?;
        let (from, to) = month.bounds();
        let checkins = state.store.checkins(ward.id, from, to).await?;
        for v in shift_views(&data, &places, &checkins, crate::i18n::Lang::Vi, Utc::now()) {
            if let Some(me) = v.people.iter().find(|p| p.person_id == person_id) {
                // Who else is on it: teammates know each other's names.
                events.push(event_of(
                    &v,
                    format!("duty-{}@wardwatch", me.assignment_id),
                    &ward,
                    true,
                    &base,
                ));
            }
        }
    }
    let cal = ical::Calendar {
        name: format!("Lịch trực — {}", person.full_name),
        description: None,
        events,
    };
    Ok(ics(ical::render(&cal), "lich-truc.ics"))
}

/// The printable roster of a month (one team's, or the ward's), for the notice board.
pub async fn roster_pdf(
    state: &AppState,
    caller: &Caller,
    q: &WardQuery,
) -> Result<Response, AppError> {
    let ward = ward_of(state, &q.ward).await?;
    let month = Month::parse(&q.month).map_err(|e| AppError::field("month", e))?;
    let (_, views) = roster_of(state, caller, &ward, month, q.team).await?;
    let team = match q.team {
        Some(id) => state
            .store
            .team(id)
            .await?
            .filter(|t| t.ward_id == ward.id)
            .map(|t| t.name),
        None => None,
    };
    let t = |s| caller.t(s).to_string();
    let sheet = print::RosterSheet {
        title: format!(
            "{} {}{}",
            t("Lịch trực tháng"),
            month.label(),
            team.map(|n| format!(" — {n}")).unwrap_or_default()
        ),
        subtitle: ward.name.clone(),
        columns: [
            t("Ngày"),
            t("Giờ"),
            t("Ca trực"),
            t("Địa điểm"),
            t("Người trực"),
        ],
        rows: views
            .iter()
            .map(|v| print::RosterRow {
                date: format!("{} {}", v.weekday, v.date),
                time: v.time.clone(),
                duty: v.title.clone(),
                place: v.place.clone(),
                people: v.people.iter().map(|p| p.name.clone()).collect(),
            })
            .collect(),
        footer: format!(
            "{} {}",
            t("In ngày"),
            to_local(Utc::now()).format("%d/%m/%Y %H:%M")
        ),
    };
    let bytes = tokio::task::spawn_blocking(move || print::roster_pdf(&sheet))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"lich-truc-{}-{}.pdf\"",
                    ward.code,
                    month.key()
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/duty/roster.pdf", tag = "duty", params(WardQuery),
    responses((status = 200, content_type = "application/pdf"), (status = 403)))]
pub async fn get_roster_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Response, AppError> {
    roster_pdf(&state, &caller, &q).await
}

/// Duties done, night duties, hours and missed duties per person in a month, for the
/// allowance claim (officers and ward leaders; a team leader gets their team).
pub async fn summary_xlsx(
    state: &AppState,
    caller: &Caller,
    q: &WardQuery,
) -> Result<Response, AppError> {
    let ward = ward_of(state, &q.ward).await?;
    let month = Month::parse(&q.month).map_err(|e| AppError::field("month", e))?;
    let (data, views) = roster_of(state, caller, &ward, month, q.team).await?;
    let teams: HashMap<i64, String> = state
        .store
        .teams(ward.id, true)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let forces: HashMap<i64, String> = state
        .store
        .forces(ward.id)
        .await?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let now = Utc::now();
    let mut rows: HashMap<i64, print::SummaryRow> = HashMap::new();
    for v in &views {
        for p in &v.people {
            let row = rows.entry(p.person_id).or_insert_with(|| {
                let person = data.people.iter().find(|x| x.id == p.person_id);
                print::SummaryRow {
                    name: p.name.clone(),
                    team: person
                        .and_then(|x| {
                            x.team_id
                                .and_then(|t| teams.get(&t))
                                .or(x.force_id.and_then(|f| forces.get(&f)))
                        })
                        .cloned()
                        .unwrap_or_else(|| caller.t("Công an phường").to_string()),
                    duties: 0,
                    nights: 0,
                    hours: 0.0,
                    missed: 0,
                }
            });
            // Done: checked in; a duty not yet over is neither done nor missed.
            if p.checked_in.is_some() {
                row.duties += 1;
                row.nights += v.night as u32;
                row.hours += roster::hours(to_local(v.starts_at), to_local(v.ends_at));
            } else if v.ends_at < now {
                row.missed += 1;
            }
        }
    }
    let mut rows: Vec<print::SummaryRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        (a.team.as_str(), crate::text::fold(&a.name))
            .cmp(&(b.team.as_str(), crate::text::fold(&b.name)))
    });
    let t = |s| caller.t(s).to_string();
    let sheet = print::SummarySheet {
        title: format!(
            "{} {} — {}",
            t("Tổng hợp ca trực tháng"),
            month.label(),
            ward.name
        ),
        columns: vec![
            t("Họ và tên"),
            t("Tổ, lực lượng"),
            t("Số ca đã trực"),
            t("Số ca đêm"),
            t("Số giờ"),
            t("Số ca vắng"),
        ],
        rows,
    };
    let bytes = tokio::task::spawn_blocking(move || print::summary_xlsx(&sheet))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"tong-hop-truc-{}-{}.xlsx\"",
                    ward.code,
                    month.key()
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/duty/summary.xlsx", tag = "duty", params(WardQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403)))]
pub async fn get_summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WardQuery>,
) -> Result<Response, AppError> {
    summary_xlsx(&state, &caller, &q).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/duty/templates",
            get(list_templates).post(post_template),
        )
        .route(
            "/api/v1/duty/templates/{id}",
            put(put_template).delete(delete_template),
        )
        .route("/api/v1/duty/places", get(list_places).post(post_place))
        .route("/api/v1/duty/rules", put(put_rules))
        .route("/api/v1/duty/availability", put(put_availability))
        .route("/api/v1/duty/leave", post(post_leave))
        .route("/api/v1/duty/roster/build", post(post_build))
        .route("/api/v1/duty/roster", get(get_roster))
        .route("/api/v1/duty/roster.pdf", get(get_roster_pdf))
        .route("/api/v1/duty/summary.xlsx", get(get_summary))
        .route("/api/v1/duty/shifts/{id}/assign", post(post_assign))
        .route("/api/v1/duty/shifts/{id}/claim", post(post_claim))
        .route("/api/v1/duty/shifts/{id}/logs", post(post_log))
        .route("/api/v1/duty/assignments/{id}", delete(delete_assignment))
        .route("/api/v1/duty/swap", post(post_swap))
        .route("/api/v1/duty/mine", get(get_mine))
        .route("/api/v1/duty/checkins", post(post_checkin))
        .route("/api/v1/duty/calendar.ics", get(ward_calendar))
        .route("/api/v1/duty/feed", post(post_feed).delete(delete_feed))
        .route("/duty/feeds/{file}", get(person_feed))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Không có phường với mã này.", "No ward has this code."),
    (
        "Tên điểm trực cần từ 1 đến 200 ký tự.",
        "A duty place's name needs 1 to 200 characters.",
    ),
    (
        "Cần từ 1 đến 50 điểm dừng.",
        "Between 1 and 50 stops are needed.",
    ),
    (
        "Tuyến tuần tra cần ít nhất hai điểm dừng theo thứ tự.",
        "A patrol route needs at least two stops, in order.",
    ),
    (
        "Không có địa bàn này trong phường.",
        "The ward has no such site.",
    ),
    (
        "Số ca đêm tối đa trong tháng là một số từ 0 đến 31.",
        "The month's maximum of night duties is a number from 0 to 31.",
    ),
    (
        "Số giờ nghỉ sau ca đêm là một số từ 0 đến 48.",
        "Rest hours after a night duty are a number from 0 to 48.",
    ),
    (
        "Số phút tính là muộn là một số từ 0 đến 240.",
        "Minutes until a check-in is late are a number from 0 to 240.",
    ),
    (
        "Ngày trong tuần là 7 chữ số 0 hoặc 1, bắt đầu từ thứ Hai, ví dụ 1111100.",
        "Weekdays are 7 digits 0 or 1, Monday first, e.g. 1111100.",
    ),
    (
        "Cần ngày bắt đầu và ngày kết thúc nghỉ.",
        "The first and last day of leave are needed.",
    ),
    (
        "Không xếp đủ người cho mọi ca trực",
        "Not every duty could be staffed",
    ),
    (
        "Chưa lưu gì. Xem từng ca còn thiếu người và lý do; sửa lịch, nghỉ phép hoặc số người cần, hoặc gửi lại với accept_open để lưu và để trống các chỗ còn thiếu.",
        "Nothing was saved. See each duty short of people and why; change the schedule, leave or people needed, or send again with accept_open to save and leave those places open.",
    ),
    (
        "Thay đổi vi phạm quy định xếp lịch",
        "The change breaks roster rules",
    ),
    (
        "Không lưu. Xem từng vi phạm; nếu vẫn cần làm vậy, gửi lại với accept_conflicts và ghi chú lý do.",
        "Not saved. See each rule broken; if it must be so, send again with accept_conflicts and a note saying why.",
    ),
    (
        "Không có người này trong lực lượng của phường.",
        "This person is not in the ward's forces.",
    ),
    (
        "Người này đã có tên trong ca trực.",
        "This person is already on the duty.",
    ),
    (
        "Xếp người dù vi phạm quy định thì cần ghi lý do.",
        "Putting someone on a duty against the rules needs a note saying why.",
    ),
    (
        "Chỉ đổi ca giữa hai ca trực của cùng một phường.",
        "Duties can only be swapped within one ward.",
    ),
    (
        "Tài khoản chưa gắn với một người trong lực lượng; nhờ cán bộ Công an phường gắn.",
        "This account is not linked to a person of the forces; ask a ward police officer to link it.",
    ),
    (
        "Ca trực này đã đủ người.",
        "This duty already has everyone it needs.",
    ),
    ("Ca trực này đã kết thúc.", "This duty is over."),
    (
        "Thời điểm điểm danh phải trong vòng 72 giờ qua, không ở tương lai.",
        "A check-in's time must be within the last 72 hours, not in the future.",
    ),
    (
        "Cần cả vĩ độ và kinh độ.",
        "Both latitude and longitude are needed.",
    ),
    (
        "Mã điểm danh của máy dài từ 1 đến 100 ký tự.",
        "The phone's check-in id has 1 to 100 characters.",
    ),
    (
        "Bạn không có ca trực nào tại điểm này vào lúc này.",
        "You have no duty at this place right now.",
    ),
    ("Cần ca trực để điểm danh.", "A duty is needed to check in."),
    (
        "Loại điểm danh là in (đến) hoặc out (về).",
        "A check-in is in (arrival) or out (leaving).",
    ),
    (
        "Chỉ điểm danh được từ 60 phút trước giờ bắt đầu đến 6 giờ sau giờ kết thúc ca.",
        "Check-in is open from 60 minutes before a duty starts to 6 hours after it ends.",
    ),
    (
        "Mã điểm danh của máy đã được dùng cho một ca khác.",
        "The phone's check-in id was already used for another duty.",
    ),
    (
        "Hãy ghi điều đã thấy, ít nhất 3 ký tự.",
        "Write what was seen, at least 3 characters.",
    ),
    ("Lịch trực", "Duty roster"),
    ("Lịch trực tháng", "Duty roster for"),
    ("Ngày", "Date"),
    ("Giờ", "Time"),
    ("Ca trực", "Duty"),
    ("Địa điểm", "Place"),
    ("Người trực", "On duty"),
    ("In ngày", "Printed on"),
    ("Tổng hợp ca trực tháng", "Duty summary for"),
    ("Tổ, lực lượng", "Team, force"),
    ("Số ca đã trực", "Duties done"),
    ("Số ca đêm", "Night duties"),
    ("Số giờ", "Hours"),
    ("Số ca vắng", "Duties missed"),
    ("Công an phường", "Ward police"),
    ("Thứ Hai", "Monday"),
    ("Thứ Ba", "Tuesday"),
    ("Thứ Tư", "Wednesday"),
    ("Thứ Năm", "Thursday"),
    ("Thứ Sáu", "Friday"),
    ("Thứ Bảy", "Saturday"),
    ("Chủ nhật", "Sunday"),
];
