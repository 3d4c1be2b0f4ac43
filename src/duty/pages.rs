//! Duty pages: the ward's month roster (build, change by hand, print), a duty's page
//! (people, check-ins, the patrol log), one's own duties with check-in and open places
//! to claim, the checkpoint scan page and the printable checkpoint codes.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Duration, Utc};
use serde::Deserialize;

use super::api::{
    self, AssignForm, CheckinForm, LogForm, MyDuties, OnDuty, Refusal, ShiftView, WardQuery,
};
use super::service::{
    self, BuildOutcome, ConflictView, Month, TemplateForm, can_see_roster, to_local,
};
use super::{DutyKind, ForceChoice};
use crate::accounts::policy;
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::form::FieldView;
use crate::http::pages::{Page, form_page, render};
use crate::store::duty::{LogEntry, Place, Stop, Template as DutyTemplate};
use crate::store::territory::Unit;
use crate::territory::service::ward_by_code;

#[derive(Template)]
#[template(path = "duty.html")]
struct RosterPage {
    page: Page,
    ward: Unit,
    month: Month,
    team: Option<i64>,
    teams: Vec<(i64, String)>,
    days: Vec<(String, Vec<ShiftView>)>,
    templates: Vec<DutyTemplate>,
    places: Vec<Place>,
    can_plan: bool,
    can_build: bool,
    outcome: Option<BuildOutcome>,
    late: usize,
    missed: usize,
}

impl RosterPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
    fn team_q(&self) -> String {
        self.team.map(|t| format!("&team={t}")).unwrap_or_default()
    }
    fn kind_label(&self, kind: &str) -> &'static str {
        DutyKind::parse(kind).map(|k| k.label()).unwrap_or("")
    }
}

#[derive(Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    team: Option<i64>,
}

async fn roster_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    code: &str,
    q: &MonthQuery,
    outcome: Option<BuildOutcome>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), code).await?;
    let month = Month::parse(&q.month).map_err(|e| AppError::field("month", e))?;
    let (_, views) = api::roster_of(state, caller, &ward, month, q.team).await?;
    let user = caller.user();
    let can_plan = policy::can_edit_registry(user, ward.id);
    let team_groups = state.store.team_groups(ward.id).await?;
    let own = user.and_then(|u| policy::own_team(u, &team_groups));
    let can_build = can_plan
        || (user.is_some_and(|u| u.role() == crate::domain::Role::TeamLeader) && own.is_some());
    let mut days: Vec<(String, Vec<ShiftView>)> = Vec::new();
    for v in views {
        let key = format!("{} {}", v.weekday, v.date);
        match days.last_mut() {
            Some((k, list)) if *k == key => list.push(v),
            _ => days.push((key, vec![v])),
        }
    }
    let late = days
        .iter()
        .flat_map(|(_, l)| l)
        .flat_map(|v| &v.people)
        .filter(|p| p.late)
        .count();
    let missed = days
        .iter()
        .flat_map(|(_, l)| l)
        .flat_map(|v| &v.people)
        .filter(|p| p.missed)
        .count();
    let teams = state
        .store
        .teams(ward.id, false)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut res = render(&RosterPage {
        page: Page::new(caller, uri),
        templates: state.store.templates(ward.id).await?,
        places: state.store.places(ward.id).await?,
        can_plan,
        ward,
        month,
        team: q.team.or(if can_plan { None } else { own }),
        teams,
        days,
        can_build,
        late,
        missed,
        outcome: outcome.clone(),
    })?;
    if outcome.is_some_and(|o| !o.saved) {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn get_roster(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    roster_page(&state, &caller, &uri, &code, &q, None).await
}

#[derive(Deserialize)]
struct BuildPost {
    csrf: String,
    month: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    accept_open: String,
}

async fn post_build(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(f): Form<BuildPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let team = f.team.trim().parse::<i64>().ok();
    let outcome = api::build(
        &state,
        &caller,
        &api::BuildForm {
            ward: code.clone(),
            month: f.month.clone(),
            team,
            accept_open: !f.accept_open.is_empty(),
        },
    )
    .await?;
    let q = MonthQuery {
        month: f.month,
        team,
    };
    roster_page(&state, &caller, &uri, &code, &q, Some(outcome)).await
}

#[derive(Template)]
#[template(path = "duty_shift.html")]
struct ShiftPage {
    page: Page,
    ward: Unit,
    shift: ShiftView,
    logs: Vec<(LogEntry, String)>,
    may_change: bool,
    on_it: bool,
    /// (person id, name) who could be put on the duty.
    candidates: Vec<(i64, String)>,
    conflicts: Vec<ConflictView>,
    assign: Option<(i64, String)>,
    categories: Vec<(&'static str, &'static str)>,
    message: Option<String>,
}

impl ShiftPage {
    fn status(&self, p: &OnDuty) -> &'static str {
        if p.missed {
            "Vắng"
        } else if p.late {
            "Đến muộn"
        } else if p.checked_out.is_some() {
            "Đã về"
        } else if p.checked_in.is_some() {
            "Đã đến"
        } else {
            "Chưa điểm danh"
        }
    }
    fn time(&self, t: &Option<chrono::DateTime<Utc>>) -> String {
        t.map(|t| to_local(t).format("%H:%M").to_string())
            .unwrap_or_default()
    }
}

async fn shift_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    id: i64,
    conflicts: Vec<ConflictView>,
    assign: Option<(i64, String)>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let user = caller.require()?;
    let shift = state.store.shift(id).await?.ok_or(AppError::NotFound)?;
    if user.ward_id != Some(shift.ward_id) && !policy::is_admin(Some(user)) {
        return Err(AppError::NotFound);
    }
    let ward = state
        .store
        .unit(shift.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let month = Month::parse(&shift.month).map_err(|_| AppError::NotFound)?;
    let data = service::month_data(state.store.as_ref(), ward.id, month).await?;
    let places = state.store.places(ward.id).await?;
    let (from, to) = month.bounds();
    let checkins = state.store.checkins(ward.id, from, to).await?;
    let view = api::shift_views(&data, &places, &checkins, caller.lang, Utc::now())
        .into_iter()
        .find(|v| v.id == id)
        .ok_or(AppError::NotFound)?;
    let template = data
        .templates
        .iter()
        .find(|t| t.id == shift.template_id)
        .ok_or(AppError::NotFound)?;
    let team_groups = state.store.team_groups(ward.id).await?;
    let may_change = service::can_roster(Some(user), ward.id, template, &team_groups);
    let on_it = user
        .person_id
        .is_some_and(|p| view.people.iter().any(|x| x.person_id == p));
    if !may_change && !on_it && !can_see_roster(Some(user), ward.id) {
        return Err(AppError::Forbidden);
    }
    let pool = service::eligible(template, &data.people);
    let candidates = data
        .people
        .iter()
        .filter(|p| pool.contains(&p.id) && !view.people.iter().any(|x| x.person_id == p.id))
        .map(|p| (p.id, p.full_name.clone()))
        .collect();
    let logs = state
        .store
        .logs(id)
        .await?
        .into_iter()
        .map(|l| {
            let who = l.person_id.map(|p| data.person_name(p)).unwrap_or_default();
            (l, who)
        })
        .collect();
    let mut res = render(&ShiftPage {
        page: Page::new(caller, uri),
        ward,
        shift: view,
        logs,
        may_change,
        on_it,
        candidates,
        conflicts: conflicts.clone(),
        assign,
        categories: crate::reports::Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        message,
    })?;
    if !conflicts.is_empty() {
        *res.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(res)
}

async fn get_shift(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    shift_page(&state, &caller, &uri, id, Vec::new(), None, None).await
}

#[derive(Deserialize)]
struct AssignPost {
    csrf: String,
    person: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    accept_conflicts: String,
}

async fn post_assign(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<AssignPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let person = f
        .person
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("Chọn một người để xếp vào ca."))?;
    let form = AssignForm {
        person,
        note: f.note.clone(),
        accept_conflicts: !f.accept_conflicts.is_empty(),
    };
    match api::assign(&state, &caller, id, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/duty/shifts/{id}")).into_response()),
        Err(Refusal::Conflicts(c)) => {
            shift_page(&state, &caller, &uri, id, c, Some((person, f.note)), None).await
        }
        Err(Refusal::Error(AppError::Validation(_))) => {
            shift_page(
                &state,
                &caller,
                &uri,
                id,
                Vec::new(),
                Some((person, f.note)),
                Some(
                    caller
                        .t("Xếp người dù vi phạm quy định thì cần ghi lý do.")
                        .to_string(),
                ),
            )
            .await
        }
        Err(Refusal::Error(e)) => Err(e),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
    #[serde(default)]
    back: String,
}

async fn post_remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let shift = api::unassign(&state, &caller, id).await?;
    Ok(Redirect::to(&format!("/duty/shifts/{}", shift.id)).into_response())
}

async fn post_log(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<LogPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let form = LogForm {
        body: f.body,
        handover: !f.handover.is_empty(),
        report_category: f.report_category,
    };
    match api::add_log(&state, &caller, id, &form).await {
        Ok(a) => {
            let msg = match a.tracking_code {
                Some(code) => format!(
                    "{} {code}",
                    caller.t("Đã ghi nhật ký và gửi phản ánh, mã theo dõi")
                ),
                None => caller.t("Đã ghi nhật ký ca trực.").to_string(),
            };
            shift_page(&state, &caller, &uri, id, Vec::new(), None, Some(msg)).await
        }
        Err(AppError::Validation(errs)) => {
            let msg = errs
                .iter()
                .map(|e| caller.t(e.message))
                .collect::<Vec<_>>()
                .join(" ");
            let mut res =
                shift_page(&state, &caller, &uri, id, Vec::new(), None, Some(msg)).await?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct LogPost {
    csrf: String,
    body: String,
    #[serde(default)]
    handover: String,
    #[serde(default)]
    report_category: String,
}

#[derive(Template)]
#[template(path = "duty_me.html")]
struct MinePage {
    page: Page,
    mine: MyDuties,
    feed_url: Option<String>,
    message: Option<String>,
    failed: bool,
}

impl MinePage {
    fn day(&self, v: &ShiftView) -> String {
        format!("{} {}", v.weekday, v.date)
    }
    fn others(&self, v: &ShiftView) -> String {
        v.people
            .iter()
            .filter(|p| p.person_id != self.mine.person_id)
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn mine_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    feed_url: Option<String>,
    message: Option<String>,
    failed: bool,
) -> Result<Response, AppError> {
    let mine = api::my_duties(state, caller).await?;
    let mut res = render(&MinePage {
        page: Page::new(caller, uri),
        mine,
        feed_url,
        message,
        failed,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(res)
}

async fn get_mine(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, AppError> {
    if caller.user().is_none() {
        return Ok(Redirect::to("/login?next=/duty/me").into_response());
    }
    mine_page(&state, &caller, &uri, None, None, false).await
}

#[derive(Deserialize)]
struct CheckinPost {
    csrf: String,
    assignment: i64,
    kind: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    accuracy: String,
    #[serde(default)]
    client_id: String,
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

async fn post_checkin(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<CheckinPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let form = CheckinForm {
        assignment: Some(f.assignment),
        kind: f.kind.clone(),
        code: None,
        lat: number(&f.lat),
        lon: number(&f.lon),
        accuracy: number(&f.accuracy),
        at: None,
        client_id: Some(f.client_id.trim().to_string()).filter(|c| !c.is_empty()),
    };
    let (msg, failed) = match api::check_in(&state, &caller, &form).await {
        Ok(a) => (checkin_message(&caller, &a), false),
        Err(AppError::Conflict(m)) | Err(AppError::BadRequest(m)) => {
            (caller.t(m).to_string(), true)
        }
        Err(AppError::Validation(errs)) => (
            errs.iter()
                .map(|e| caller.t(e.message))
                .collect::<Vec<_>>()
                .join(" "),
            true,
        ),
        Err(e) => return Err(e),
    };
    mine_page(&state, &caller, &uri, None, Some(msg), failed).await
}

fn checkin_message(caller: &Caller, a: &api::CheckinAnswer) -> String {
    let what = match (a.kind.as_str(), &a.stop) {
        (_, Some(stop)) => format!("{} {stop}", caller.t("Đã ghi nhận tại điểm")),
        ("out", _) => caller.t("Đã điểm danh về.").to_string(),
        _ => caller.t("Đã điểm danh đến.").to_string(),
    };
    let at = to_local(a.at).format("%H:%M %d/%m/%Y");
    let distance = a
        .distance_m
        .map(|d| format!(" · {} {} m", caller.t("cách điểm trực"), d.round()))
        .unwrap_or_default();
    let late = if a.late {
        format!(" · {}", caller.t("đến muộn"))
    } else {
        String::new()
    };
    format!("{what} {at}{distance}{late}")
}

async fn post_claim(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let (msg, failed) = match api::claim(&state, &caller, id).await {
        Ok(_) => (caller.t("Đã nhận ca trực.").to_string(), false),
        Err(Refusal::Conflicts(c)) => (
            format!(
                "{} {}",
                caller.t("Không nhận được ca này:"),
                c.iter()
                    .map(|c| c.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            true,
        ),
        Err(Refusal::Error(AppError::Conflict(m))) => (caller.t(m).to_string(), true),
        Err(Refusal::Error(e)) => return Err(e),
    };
    let _ = f.back;
    mine_page(&state, &caller, &uri, None, Some(msg), failed).await
}

#[derive(Deserialize)]
struct FeedPost {
    csrf: String,
    #[serde(default)]
    revoke: String,
}

async fn post_feed(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<FeedPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    if f.revoke.is_empty() {
        let url = api::new_feed(&state, &caller).await?;
        mine_page(&state, &caller, &uri, Some(url), None, false).await
    } else {
        let user = caller.require()?;
        let person = user.person_id.ok_or(AppError::NotFound)?;
        state.store.revoke_feeds(caller.actor(), person).await?;
        let msg = caller
            .t("Đã thu hồi địa chỉ lịch; lịch trên điện thoại sẽ không cập nhật nữa.")
            .to_string();
        mine_page(&state, &caller, &uri, None, Some(msg), false).await
    }
}

#[derive(Template)]
#[template(path = "duty_scan.html")]
struct ScanPage {
    page: Page,
    code: String,
    stop: Option<Stop>,
    message: Option<String>,
    failed: bool,
}

async fn scan_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    code: &str,
    message: Option<String>,
    failed: bool,
) -> Result<Response, AppError> {
    let stop = match service::code_stop(code) {
        Some(id) => state.store.stop(id).await?,
        None => None,
    };
    let mut res = render(&ScanPage {
        page: Page::new(caller, uri),
        code: code.to_string(),
        stop,
        message,
        failed,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(res)
}

async fn get_scan(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    if caller.user().is_none() {
        return Ok(Redirect::to(&format!("/login?next=/duty/scan/{code}")).into_response());
    }
    scan_page(&state, &caller, &uri, &code, None, false).await
}

#[derive(Deserialize)]
struct ScanPost {
    csrf: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    accuracy: String,
}

async fn post_scan(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(f): Form<ScanPost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let form = CheckinForm {
        code: Some(code.clone()),
        lat: number(&f.lat),
        lon: number(&f.lon),
        accuracy: number(&f.accuracy),
        ..Default::default()
    };
    let (msg, failed) = match api::check_in(&state, &caller, &form).await {
        Ok(a) => (checkin_message(&caller, &a), false),
        Err(AppError::Conflict(m)) | Err(AppError::BadRequest(m)) => {
            (caller.t(m).to_string(), true)
        }
        Err(AppError::Validation(errs)) => (
            errs.iter()
                .map(|e| caller.t(e.message))
                .collect::<Vec<_>>()
                .join(" "),
            true,
        ),
        Err(e) => return Err(e),
    };
    scan_page(&state, &caller, &uri, &code, Some(msg), failed).await
}

#[derive(Template)]
#[template(path = "duty_codes.html")]
struct CodesPage {
    page: Page,
    ward: Unit,
    place: Place,
    /// (stop, code, QR as SVG)
    codes: Vec<(Stop, String, String)>,
    valid_until: String,
}

/// How long a printed checkpoint code stays valid.
const CODE_MONTHS: i64 = 3;

async fn get_codes(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let place = state.store.place(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !can_see_roster(caller.user(), place.ward_id) {
        return Err(AppError::Forbidden);
    }
    let ward = state
        .store
        .unit(place.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let stops: Vec<Stop> = state
        .store
        .stops(ward.id)
        .await?
        .into_iter()
        .filter(|s| s.place_id == place.id)
        .collect();
    let today = service::today();
    let until = (today + Duration::days(31 * CODE_MONTHS))
        .with_day(1)
        .map(|d| d - Duration::days(1))
        .unwrap_or(today);
    let base = state.config.base_url();
    let codes = stops
        .into_iter()
        .map(|s| {
            let code = service::stop_code(&place, &s, until);
            let svg = qr_svg(&format!("{base}/duty/scan/{code}"));
            (s, code, svg)
        })
        .collect();
    render(&CodesPage {
        page: Page::new(&caller, &uri),
        ward,
        place,
        codes,
        valid_until: until.format("%d/%m/%Y").to_string(),
    })
}

fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
        Err(_) => String::new(),
    }
}

async fn post_renew_codes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let place = state.store.place(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), place.ward_id) {
        return Err(AppError::Forbidden);
    }
    state
        .store
        .renew_place_key(caller.actor(), id, &service::new_qr_key())
        .await?;
    Ok(Redirect::to(&format!("/duty/places/{id}/codes")).into_response())
}

fn template_fields(
    form: &TemplateForm,
    places: &[Place],
    teams: &[(i64, String)],
    forces: &[(i64, String)],
) -> Vec<FieldView> {
    let mut force_options = vec![("police".to_string(), "Công an phường".to_string())];
    force_options.extend(
        teams
            .iter()
            .map(|(id, n)| (ForceChoice::Team(*id).to_string(), n.clone())),
    );
    force_options.extend(
        forces
            .iter()
            .map(|(id, n)| (ForceChoice::Partner(*id).to_string(), n.clone())),
    );
    let mut place_options = vec![(String::new(), "—".to_string())];
    place_options.extend(places.iter().map(|p| (p.id.to_string(), p.name.clone())));
    vec![
        FieldView::new("ward", "", "hidden", form.ward.clone()),
        FieldView::new("kind", "Loại ca trực", "select", form.kind.clone())
            .required()
            .options(DutyKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label().to_string())).collect()),
        FieldView::new("title", "Tên ca trực", "text", form.title.clone()).required(),
        FieldView::new("place", "Điểm trực", "select", form.place.clone()).options(place_options),
        FieldView::new("force", "Lực lượng đảm nhiệm", "select", form.force.clone())
            .required()
            .options(force_options),
        FieldView::new("needed", "Số người cần", "number", form.needed.clone()).required(),
        FieldView::new("start_time", "Giờ bắt đầu", "time", form.start_time.clone()).required(),
        FieldView::new("end_time", "Giờ kết thúc", "time", form.end_time.clone())
            .required()
            .hint("Trước giờ bắt đầu nghĩa là kết thúc vào sáng hôm sau."),
        FieldView::new("starts_on", "Từ ngày", "text", form.starts_on.clone())
            .required()
            .hint("dd/mm/yyyy"),
        FieldView::new("ends_on", "Đến ngày", "text", form.ends_on.clone()).hint("dd/mm/yyyy; để trống nếu không có hạn"),
        FieldView::new("rule", "Quy tắc lặp (RFC 5545)", "text", form.rule.clone())
            .hint("Ví dụ: FREQ=WEEKLY;BYDAY=SU (Chủ nhật hằng tuần); FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR (ngày đi học); FREQ=DAILY (hằng ngày)."),
        FieldView::new("lunar_days", "Hoặc các ngày âm lịch", "text", form.lunar_days.clone())
            .hint("Ví dụ: 1,15 hoặc 1,6,11,16,21,26 (theo âm lịch Việt Nam, UTC+7)."),
        FieldView::new("lunar_months", "Chỉ trong các tháng âm lịch", "text", form.lunar_months.clone()),
        FieldView::new("except_dates", "Ngày nghỉ, ngoại lệ", "textarea", form.except_dates.clone())
            .hint("Ví dụ: 01/06/2027-31/08/2027, 02/09/2027"),
        FieldView::new("skip_tet", "Nghỉ Tết (30 tháng Chạp đến mùng 3)", "select", if form.skip_tet { "true" } else { "" })
            .options(vec![(String::new(), "Không".into()), ("true".into(), "Có".into())]),
        FieldView::new("extra_dates", "Ngày trực thêm", "text", form.extra_dates.clone()).hint("dd/mm/yyyy, cách nhau bằng dấu phẩy"),
        FieldView::new("notes", "Ghi chú", "textarea", form.notes.clone()),
    ]
}

#[derive(Deserialize)]
struct TemplatePost {
    csrf: String,
    #[serde(flatten)]
    form: TemplateFormStrings,
}

/// The page form: every field a string (a select sends "" or "true").
#[derive(Deserialize, Default)]
#[serde(default)]
struct TemplateFormStrings {
    ward: String,
    kind: String,
    title: String,
    place: String,
    force: String,
    needed: String,
    start_time: String,
    end_time: String,
    starts_on: String,
    ends_on: String,
    rule: String,
    lunar_days: String,
    lunar_months: String,
    except_dates: String,
    skip_tet: String,
    extra_dates: String,
    notes: String,
}

impl From<TemplateFormStrings> for TemplateForm {
    fn from(f: TemplateFormStrings) -> Self {
        TemplateForm {
            ward: f.ward,
            kind: f.kind,
            title: f.title,
            place: f.place,
            force: f.force,
            needed: f.needed,
            start_time: f.start_time,
            end_time: f.end_time,
            starts_on: f.starts_on,
            ends_on: f.ends_on,
            rule: f.rule,
            lunar_days: f.lunar_days,
            lunar_months: f.lunar_months,
            except_dates: f.except_dates,
            skip_tet: f.skip_tet == "true",
            extra_dates: f.extra_dates,
            notes: f.notes,
        }
    }
}

async fn options_of(
    state: &AppState,
    ward: &Unit,
) -> Result<(Vec<Place>, Vec<(i64, String)>, Vec<(i64, String)>), AppError> {
    Ok((
        state.store.places(ward.id).await?,
        state
            .store
            .teams(ward.id, false)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
        state
            .store
            .forces(ward.id)
            .await?
            .into_iter()
            .map(|f| (f.id, f.name))
            .collect(),
    ))
}

async fn template_form_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    ward: &Unit,
    title: &'static str,
    form: &TemplateForm,
    errors: Option<AppError>,
) -> Result<Response, AppError> {
    let (places, teams, forces) = options_of(state, ward).await?;
    form_page(
        caller,
        uri,
        title,
        ward.name.clone(),
        format!("/wards/{}/duty", ward.code),
        template_fields(form, &places, &teams, &forces),
        errors,
    )
}

async fn get_new_template(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    caller.require()?;
    if !can_see_roster(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let form = TemplateForm {
        ward: ward.code.clone(),
        needed: "2".into(),
        starts_on: service::today().format("%d/%m/%Y").to_string(),
        force: "police".into(),
        ..Default::default()
    };
    template_form_page(
        &state,
        &caller,
        &uri,
        &ward,
        "Thêm ca trực định kỳ",
        &form,
        None,
    )
    .await
}

async fn post_new_template(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(f): Form<TemplatePost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let mut form: TemplateForm = f.form.into();
    form.ward = ward.code.clone();
    match api::save_template(&state, &caller, None, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/wards/{}/duty", ward.code)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::BadRequest(_))) => {
            template_form_page(
                &state,
                &caller,
                &uri,
                &ward,
                "Thêm ca trực định kỳ",
                &form,
                Some(e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn get_edit_template(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let t = state.store.template(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(t.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    caller.require()?;
    let team_groups = state.store.team_groups(ward.id).await?;
    if !service::can_roster(caller.user(), ward.id, &t, &team_groups) {
        return Err(AppError::Forbidden);
    }
    let form = service::template_form(&t, &ward.code);
    template_form_page(
        &state,
        &caller,
        &uri,
        &ward,
        "Sửa ca trực định kỳ",
        &form,
        None,
    )
    .await
}

async fn post_edit_template(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<TemplatePost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let t = state.store.template(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(t.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut form: TemplateForm = f.form.into();
    form.ward = ward.code.clone();
    match api::save_template(&state, &caller, Some(id), &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/wards/{}/duty", ward.code)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::BadRequest(_))) => {
            template_form_page(
                &state,
                &caller,
                &uri,
                &ward,
                "Sửa ca trực định kỳ",
                &form,
                Some(e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn post_archive_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let t = api::archive_template(&state, &caller, id).await?;
    let ward = state
        .store
        .unit(t.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/wards/{}/duty", ward.code)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PlacePost {
    csrf: String,
    kind: String,
    name: String,
    site: String,
    stops: String,
    notes: String,
}

fn place_fields(f: &PlacePost, sites: &[crate::store::territory::Site]) -> Vec<FieldView> {
    let mut site_options = vec![(String::new(), "—".to_string())];
    site_options.extend(sites.iter().map(|s| (s.id.to_string(), s.name.clone())));
    vec![
        FieldView::new("kind", "Loại điểm trực", "select", f.kind.clone())
            .required()
            .options(
                super::PlaceKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_string(), k.label().to_string()))
                    .collect(),
            ),
        FieldView::new("name", "Tên điểm trực", "text", f.name.clone()).required(),
        FieldView::new("site", "Lấy từ địa bàn", "select", f.site.clone())
            .options(site_options)
            .hint("Để trống các điểm dừng thì dùng vị trí của địa bàn này."),
        FieldView::new(
            "stops",
            "Các điểm dừng, theo thứ tự",
            "textarea",
            f.stops.clone(),
        )
        .hint("Mỗi dòng một điểm: tên; vĩ độ; kinh độ. Ví dụ: Cổng chợ Hàng; 20.8408; 106.6712"),
        FieldView::new("notes", "Ghi chú", "textarea", f.notes.clone()),
    ]
}

/// "name; lat; lon" per line.
fn parse_stops(text: &str) -> Result<Vec<api::StopForm>, AppError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split(';').map(str::trim).collect();
        let number = |s: &str| s.replace(',', ".").parse::<f64>().ok();
        match parts.as_slice() {
            [name, lat, lon] => match (number(lat), number(lon)) {
                (Some(lat), Some(lon)) => out.push(api::StopForm {
                    name: (*name).to_string(),
                    lat,
                    lon,
                }),
                _ => {
                    return Err(AppError::field(
                        "stops",
                        crate::domain::Invalid("Mỗi điểm dừng viết: tên; vĩ độ; kinh độ."),
                    ));
                }
            },
            _ => {
                return Err(AppError::field(
                    "stops",
                    crate::domain::Invalid("Mỗi điểm dừng viết: tên; vĩ độ; kinh độ."),
                ));
            }
        }
    }
    Ok(out)
}

async fn place_form(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    ward: &Unit,
    f: &PlacePost,
    errors: Option<AppError>,
) -> Result<Response, AppError> {
    let sites = state.store.sites(ward.id, &Default::default()).await?;
    form_page(
        caller,
        uri,
        "Thêm điểm trực",
        ward.name.clone(),
        format!("/wards/{}/duty", ward.code),
        place_fields(f, &sites),
        errors,
    )
}

async fn get_new_place(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let f = PlacePost {
        kind: "checkpoint".into(),
        ..Default::default()
    };
    place_form(&state, &caller, &uri, &ward, &f, None).await
}

async fn post_new_place(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(f): Form<PlacePost>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let site = f.site.trim().parse::<i64>().ok();
    let result = async {
        let mut stops = parse_stops(&f.stops)?;
        if stops.is_empty()
            && let Some(site) = site
            && let Some(s) = state
                .store
                .site(site)
                .await?
                .filter(|s| s.ward_id == ward.id)
            && let (Some(lat), Some(lon)) = (s.lat, s.lon)
        {
            stops.push(api::StopForm {
                name: s.name.clone(),
                lat,
                lon,
            });
        }
        let form = api::PlaceForm {
            ward: ward.code.clone(),
            kind: f.kind.clone(),
            name: f.name.clone(),
            site,
            notes: f.notes.clone(),
            stops,
        };
        api::create_place(&state, &caller, &form).await
    }
    .await;
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/duty/places/{}/codes", p.id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::BadRequest(_))) => {
            place_form(&state, &caller, &uri, &ward, &f, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

async fn get_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    api::roster_pdf(
        &state,
        &caller,
        &WardQuery {
            ward: code,
            month: q.month,
            team: q.team,
        },
    )
    .await
}

async fn get_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    api::summary_xlsx(
        &state,
        &caller,
        &WardQuery {
            ward: code,
            month: q.month,
            team: q.team,
        },
    )
    .await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wards/{code}/duty", get(get_roster))
        .route("/wards/{code}/duty/build", post(post_build))
        .route("/wards/{code}/duty/roster.pdf", get(get_pdf))
        .route("/wards/{code}/duty/summary.xlsx", get(get_xlsx))
        .route(
            "/wards/{code}/duty/templates/new",
            get(get_new_template).post(post_new_template),
        )
        .route(
            "/duty/templates/{id}/edit",
            get(get_edit_template).post(post_edit_template),
        )
        .route("/duty/templates/{id}/archive", post(post_archive_template))
        .route(
            "/wards/{code}/duty/places/new",
            get(get_new_place).post(post_new_place),
        )
        .route("/duty/shifts/{id}", get(get_shift))
        .route("/duty/shifts/{id}/assign", post(post_assign))
        .route("/duty/shifts/{id}/log", post(post_log))
        .route("/duty/shifts/{id}/claim", post(post_claim))
        .route("/duty/assignments/{id}/remove", post(post_remove))
        .route("/duty/me", get(get_mine))
        .route("/duty/me/checkin", post(post_checkin))
        .route("/duty/me/feed", post(post_feed))
        .route("/duty/scan/{code}", get(get_scan).post(post_scan))
        .route("/duty/places/{id}/codes", get(get_codes))
        .route("/duty/places/{id}/renew", post(post_renew_codes))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Lịch trực", "Duty roster"),
    ("Ca trực của tôi", "My duties"),
    ("Vắng", "Missed"),
    ("Đến muộn", "Late"),
    ("Đã về", "Left"),
    ("Đã đến", "Arrived"),
    ("Chưa điểm danh", "Not checked in"),
    ("Nhắc lịch", "Reminder"),
    (
        "Chọn một người để xếp vào ca.",
        "Choose a person to put on the duty.",
    ),
    (
        "Đã ghi nhật ký và gửi phản ánh, mã theo dõi",
        "Logged, and filed as a community report with tracking code",
    ),
    ("Đã ghi nhật ký ca trực.", "Added to the duty log."),
    ("Đã ghi nhận tại điểm", "Recorded at checkpoint"),
    ("Đã điểm danh về.", "Checked out."),
    ("Đã điểm danh đến.", "Checked in."),
    ("cách điểm trực", "from the duty place:"),
    ("đến muộn", "late"),
    ("Đã nhận ca trực.", "Duty taken."),
    ("Không nhận được ca này:", "This duty cannot be taken:"),
    (
        "Đã thu hồi địa chỉ lịch; lịch trên điện thoại sẽ không cập nhật nữa.",
        "The calendar address is revoked; the phone's calendar will no longer update.",
    ),
    ("Loại ca trực", "Kind of duty"),
    ("Tên ca trực", "Duty name"),
    ("Điểm trực", "Duty place"),
    ("Lực lượng đảm nhiệm", "Who serves"),
    ("Số người cần", "People needed"),
    ("Giờ bắt đầu", "Start time"),
    ("Giờ kết thúc", "End time"),
    (
        "Trước giờ bắt đầu nghĩa là kết thúc vào sáng hôm sau.",
        "Earlier than the start means it ends the next morning.",
    ),
    ("Từ ngày", "From"),
    ("Đến ngày", "Until"),
    (
        "dd/mm/yyyy; để trống nếu không có hạn",
        "dd/mm/yyyy; empty for no end",
    ),
    ("Quy tắc lặp (RFC 5545)", "Recurrence rule (RFC 5545)"),
    (
        "Ví dụ: FREQ=WEEKLY;BYDAY=SU (Chủ nhật hằng tuần); FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR (ngày đi học); FREQ=DAILY (hằng ngày).",
        "E.g. FREQ=WEEKLY;BYDAY=SU (every Sunday); FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR (school days); FREQ=DAILY (every day).",
    ),
    ("Hoặc các ngày âm lịch", "Or lunar days"),
    (
        "Ví dụ: 1,15 hoặc 1,6,11,16,21,26 (theo âm lịch Việt Nam, UTC+7).",
        "E.g. 1,15 or 1,6,11,16,21,26 (Vietnamese lunar calendar, UTC+7).",
    ),
    ("Chỉ trong các tháng âm lịch", "Only in lunar months"),
    ("Ngày nghỉ, ngoại lệ", "Days off, exceptions"),
    (
        "Ví dụ: 01/06/2027-31/08/2027, 02/09/2027",
        "E.g. 01/06/2027-31/08/2027, 02/09/2027",
    ),
    (
        "Nghỉ Tết (30 tháng Chạp đến mùng 3)",
        "Off for Tết (New Year's Eve to the 3rd day)",
    ),
    ("Không", "No"),
    ("Có", "Yes"),
    ("Ngày trực thêm", "Extra days"),
    (
        "dd/mm/yyyy, cách nhau bằng dấu phẩy",
        "dd/mm/yyyy, separated by commas",
    ),
    ("Ghi chú", "Notes"),
    ("Thêm ca trực định kỳ", "Add a recurring duty"),
    ("Sửa ca trực định kỳ", "Edit a recurring duty"),
    // Templates.
    ("Tháng trước", "Previous month"),
    ("Tháng sau", "Next month"),
    ("Xếp lịch tự động", "Build the roster"),
    ("Cả phường", "Whole ward"),
    ("Lưu cả khi còn chỗ trống", "Save even with open places"),
    (
        "Đã xếp lịch: thêm {} lượt trực.",
        "Roster built: {} places filled.",
    ),
    (
        "Chưa lưu: còn ca thiếu người.",
        "Not saved: some duties are short of people.",
    ),
    ("Còn thiếu", "Missing"),
    ("Lý do", "Why"),
    ("In lịch (PDF)", "Print (PDF)"),
    ("Tổng hợp tháng (XLSX)", "Monthly summary (XLSX)"),
    ("Lịch cho điện thoại (iCal)", "Phone calendar (iCal)"),
    ("Đến muộn trong tháng", "Late this month"),
    ("Vắng trong tháng", "Missed this month"),
    (
        "Chưa có ca trực nào trong tháng này.",
        "No duties this month yet.",
    ),
    ("Ca trực định kỳ", "Recurring duties"),
    ("Sửa", "Edit"),
    ("Lưu trữ", "Archive"),
    ("Mã QR các điểm", "Checkpoint QR codes"),
    ("Còn trống", "Open"),
    ("chỗ", "places"),
    ("Ca đêm", "Night duty"),
    ("Người trực", "On duty"),
    ("Trạng thái", "Status"),
    ("Đến lúc", "In at"),
    ("Về lúc", "Out at"),
    ("Khoảng cách", "Distance"),
    ("Điểm đã quét", "Checkpoints scanned"),
    ("Vi phạm quy định", "Rules broken"),
    ("Bỏ khỏi ca", "Remove"),
    ("Xếp thêm người", "Add a person"),
    (
        "Lý do (bắt buộc nếu vi phạm quy định)",
        "Why (required when rules are broken)",
    ),
    ("Vẫn xếp dù vi phạm quy định", "Put them on anyway"),
    ("Xếp vào ca", "Put on duty"),
    ("Không xếp được vì:", "Cannot be put on the duty because:"),
    ("Nhật ký ca trực", "Duty log"),
    ("Bàn giao ca", "Handover"),
    ("Ghi điều đã thấy", "What was seen"),
    (
        "Ghi chú bàn giao cho ca sau",
        "A handover note for the next shift",
    ),
    ("Gửi thành phản ánh", "File as a community report"),
    ("Không gửi", "Do not file"),
    ("Ghi nhật ký", "Add to log"),
    ("Xem phản ánh", "See report"),
    ("Ca sắp tới", "Coming duties"),
    ("Không có ca trực nào sắp tới.", "No coming duties."),
    ("Cùng trực", "With"),
    ("Điểm danh đến", "Check in"),
    ("Điểm danh về", "Check out"),
    (
        "Vị trí của máy được gửi kèm khi điểm danh, nếu bạn cho phép.",
        "The phone's position is sent with a check-in if you allow it.",
    ),
    ("Ca còn trống bạn có thể nhận", "Open duties you can take"),
    ("Nhận ca", "Take this duty"),
    ("Lịch trên điện thoại", "Calendar on your phone"),
    (
        "Thêm địa chỉ bí mật này vào ứng dụng lịch của điện thoại (đăng ký lịch qua URL). Ai có địa chỉ này đều xem được lịch trực của bạn; nếu lộ, hãy thu hồi.",
        "Add this secret address to your phone's calendar app (subscribe by URL). Anyone with it can see your duties; revoke it if it leaks.",
    ),
    ("Tạo địa chỉ lịch mới", "Create a new calendar address"),
    ("Thu hồi địa chỉ lịch", "Revoke the calendar address"),
    (
        "Điểm danh khi mất mạng được lưu trên máy và tự gửi khi có mạng lại.",
        "Check-ins made without network are kept on the phone and sent when it returns.",
    ),
    ("Điểm danh tại điểm chốt", "Check in at a checkpoint"),
    (
        "Mã này không thuộc điểm nào.",
        "This code belongs to no checkpoint.",
    ),
    ("Ghi nhận tại điểm này", "Record me at this checkpoint"),
    ("Mã dùng đến hết ngày", "Codes valid until"),
    (
        "In trang này và dán mỗi mã tại điểm của nó. Mã hết hạn vào ngày trên; tạo mã mới sẽ vô hiệu mọi mã đã in.",
        "Print this page and post each code at its checkpoint. Codes expire on the date above; making new codes voids every printed one.",
    ),
    (
        "Tạo mã mới (vô hiệu mã cũ)",
        "Make new codes (voids the old ones)",
    ),
    ("Điểm", "Stop"),
    ("Loại điểm trực", "Kind of duty place"),
    ("Tên điểm trực", "Duty place name"),
    ("Lấy từ địa bàn", "From the sites registry"),
    (
        "Để trống các điểm dừng thì dùng vị trí của địa bàn này.",
        "With no stops given, the site's position is used.",
    ),
    ("Các điểm dừng, theo thứ tự", "Stops, in order"),
    (
        "Mỗi dòng một điểm: tên; vĩ độ; kinh độ. Ví dụ: Cổng chợ Hàng; 20.8408; 106.6712",
        "One stop a line: name; latitude; longitude. E.g. Cổng chợ Hàng; 20.8408; 106.6712",
    ),
    (
        "Mỗi điểm dừng viết: tên; vĩ độ; kinh độ.",
        "Write each stop as: name; latitude; longitude.",
    ),
    ("Thêm điểm trực", "Add a duty place"),
    ("Điểm trực của phường", "The ward's duty places"),
];
