//! Warning pages: a ward's warnings (public ones for everyone), the officers' compose
//! form, and each warning with its publications and CAP messages.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::api::{cancel, publish, update, visible_warnings};
use super::cap::{Category, Certainty, Severity, Urgency};
use super::service::{WarningForm, reaches};
use crate::accounts::policy;
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::pages::{Page, render};
use crate::store::territory::{Site, Unit};
use crate::store::warnings::{Snapshot, Warning, WarningEvent};
use crate::territory::service::{groups_of, ward_by_code};

pub fn severity_label(s: &str) -> &'static str {
    Severity::parse(s).map(Severity::label).unwrap_or("")
}

pub fn category_label(s: &str) -> &'static str {
    Category::parse(s).map(Category::label).unwrap_or("")
}

type Choices = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "warnings.html")]
struct WarningsPage {
    page: Page,
    ward: Unit,
    active: Vec<Warning>,
    past: Vec<Warning>,
    can_publish: bool,
    form: WarningForm,
    errors: Vec<(String, String)>,
    groups: Vec<Unit>,
    sites: Vec<Site>,
    categories: Choices,
    severities: Choices,
    urgencies: Choices,
    certainties: Choices,
}

impl WarningsPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn choices<T: Copy>(
    all: &[T],
    cap: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Choices {
    all.iter().map(|v| (cap(*v), label(*v))).collect()
}

async fn view(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    ward: Unit,
    form: WarningForm,
    errors: Vec<(String, String)>,
) -> Result<WarningsPage, AppError> {
    let all = visible_warnings(state, caller, &ward, false).await?;
    let now = chrono::Utc::now();
    let (active, past): (Vec<Warning>, Vec<Warning>) = all
        .into_iter()
        .map(|(w, _)| w)
        .partition(|w| w.cancelled_at.is_none() && w.expires_at.is_none_or(|e| e > now));
    let can_publish = policy::can_edit_registry(caller.user(), ward.id);
    let (groups, sites) = if can_publish {
        (
            groups_of(state.store.as_ref(), ward.id).await?,
            state.store.sites(ward.id, &Default::default()).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(WarningsPage {
        page: Page::new(caller, uri),
        ward,
        active,
        past,
        can_publish,
        form,
        errors,
        groups,
        sites,
        categories: choices(Category::ALL, Category::as_cap, Category::label),
        severities: choices(Severity::ALL, Severity::as_cap, Severity::label),
        urgencies: choices(Urgency::ALL, Urgency::as_cap, Urgency::label),
        certainties: choices(Certainty::ALL, Certainty::as_cap, Certainty::label),
    })
}

async fn warnings_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let form = WarningForm {
        ward: ward.code.clone(),
        category: "Safety".into(),
        severity: "Moderate".into(),
        urgency: "Expected".into(),
        certainty: "Likely".into(),
        public: "true".into(),
        ..Default::default()
    };
    render(&view(&state, &caller, &uri, ward, form, Vec::new()).await?)
}

/// A form that may repeat a field (several residential groups): repeated values are
/// joined with commas, which the warning parser reads as a list.
fn read_form(body: &[u8]) -> Result<WarningForm, AppError> {
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        let joined = match map.get(k.as_ref()).and_then(|x| x.as_str()) {
            Some(prev) if !prev.is_empty() => format!("{prev},{v}"),
            _ => v.into_owned(),
        };
        map.insert(k.into_owned(), serde_json::Value::String(joined));
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|_| AppError::BadRequest("Dữ liệu gửi lên không đúng định dạng."))
}

async fn warnings_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let mut form = read_form(&body)?;
    caller.check_csrf(&form.csrf)?;
    form.ward = code;
    // An unticked checkbox sends nothing: on the page, that means "not public".
    if form.public.is_empty() {
        form.public = "false".into();
    }
    match publish(&state, &caller, &form).await {
        Ok((w, _)) => Ok(Redirect::to(&format!("/warnings/{}", w.id)).into_response()),
        Err(AppError::Validation(errs)) => {
            let ward = ward_by_code(state.store.as_ref(), &form.ward).await?;
            let errors = errs
                .iter()
                .map(|e| (e.field.clone(), caller.t(e.message).to_string()))
                .collect();
            let mut res = render(&view(&state, &caller, &uri, ward, form, errors).await?)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "warning.html")]
struct WarningPage {
    page: Page,
    ward: Unit,
    w: Warning,
    events: Vec<WarningEvent>,
    groups: Vec<String>,
    can_publish: bool,
}

async fn warning_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let w = state.store.warning(id).await?.ok_or(AppError::NotFound)?;
    let group_ids = state.store.warning_groups(id).await?;
    let snap = Snapshot {
        warning: w,
        group_ids,
    };
    if !reaches(&snap, caller.user()) {
        return Err(if caller.user().is_some() {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    let ward = state
        .store
        .unit(snap.warning.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let all_groups = groups_of(state.store.as_ref(), ward.id).await?;
    let groups = snap
        .group_ids
        .iter()
        .filter_map(|g| {
            all_groups
                .iter()
                .find(|x| x.id == *g)
                .map(|x| x.name.clone())
        })
        .collect();
    render(&WarningPage {
        page: Page::new(&caller, &uri),
        can_publish: policy::can_edit_registry(caller.user(), ward.id),
        events: state.store.warning_events_of(id).await?,
        w: snap.warning,
        ward,
        groups,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
}

async fn cancel_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    cancel(&state, &caller, id).await?;
    Ok(Redirect::to(&format!("/warnings/{id}")).into_response())
}

async fn update_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let mut form = read_form(&body)?;
    caller.check_csrf(&form.csrf)?;
    let w = state.store.warning(id).await?.ok_or(AppError::NotFound)?;
    form.ward = state
        .store
        .unit(w.ward_id)
        .await?
        .map(|u| u.code)
        .unwrap_or_default();
    // The update form changes the words; who the warning goes to stays as it was.
    let groups = groups_of(state.store.as_ref(), w.ward_id).await?;
    let codes: Vec<String> = state
        .store
        .warning_groups(id)
        .await?
        .iter()
        .filter_map(|g| groups.iter().find(|x| x.id == *g).map(|x| x.code.clone()))
        .collect();
    form.groups = codes.join(",");
    form.site = w.site_id.map(|s| s.to_string()).unwrap_or_default();
    form.lat = w.lat.map(|v| v.to_string()).unwrap_or_default();
    form.lon = w.lon.map(|v| v.to_string()).unwrap_or_default();
    form.radius_m = w.radius_m.map(|v| v.to_string()).unwrap_or_default();
    form.expires = w.expires_at.map(|e| e.to_rfc3339()).unwrap_or_default();
    update(&state, &caller, id, &form).await?;
    Ok(Redirect::to(&format!("/warnings/{id}")).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/wards/{code}/warnings",
            get(warnings_page).post(warnings_submit),
        )
        .route("/warnings/{id}", get(warning_page))
        .route("/warnings/{id}/cancel", post(cancel_submit))
        .route("/warnings/{id}/update", post(update_submit))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Cảnh báo", "Warnings"),
    ("Đang có hiệu lực", "In force"),
    ("Đã hết hiệu lực hoặc đã huỷ", "Expired or cancelled"),
    ("Không có cảnh báo nào.", "No warnings."),
    ("Phát cảnh báo", "Broadcast a warning"),
    ("Tiêu đề", "Title"),
    ("Nội dung", "Message"),
    ("Hướng dẫn người dân", "What people should do"),
    ("Lĩnh vực", "Category"),
    ("Mức độ nghiêm trọng", "Severity"),
    ("Mức độ khẩn cấp", "Urgency"),
    ("Mức độ chắc chắn", "Certainty"),
    ("Gửi tới", "Send to"),
    (
        "Cả phường (để trống các ô dưới)",
        "The whole ward (leave the fields below empty)",
    ),
    ("Các tổ dân phố", "Residential groups"),
    ("Người quanh một địa bàn", "People around a site"),
    (
        "Hoặc quanh một điểm: vĩ độ, kinh độ, bán kính (m)",
        "Or around a point: latitude, longitude, radius (m)",
    ),
    ("Bán kính (m)", "Radius (m)"),
    ("Hết hiệu lực lúc", "Expires at"),
    (
        "Để trống: sau 24 giờ. Dạng dd/mm/yyyy HH:MM",
        "Empty: in 24 hours. Format dd/mm/yyyy HH:MM",
    ),
    (
        "Công khai (ai cũng xem được)",
        "Public (anyone may read it)",
    ),
    ("Phát", "Broadcast"),
    ("Huỷ cảnh báo", "Cancel the warning"),
    ("Cập nhật nội dung", "Update the message"),
    ("Các lần phát", "Publications"),
    ("Bản tin CAP", "CAP message"),
    ("Nguồn tin CAP của phường", "The ward's CAP feed"),
    ("Đã huỷ", "Cancelled"),
    ("Đã xem", "Dismiss"),
    ("Chỉ người trong phường", "Ward only"),
];
