//! Report pages: the form a resident fills on a cheap phone, the tracking page, the
//! officers' live inbox and a report's page with its triage actions.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::api::{
    ChangeBody, ListQuery, Tracking, change, file_report, list_for, merge, suggestions, tracking,
    visible,
};
use super::service::{ReportAccess, ReportForm, audit_reporter_views, can_handle};
use super::{Category, Status, photos};
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::pages::{Page, render};
use crate::store::reports::{Photo, Report, ReportEvent};
use crate::store::territory::{Site, Unit};
use crate::territory::service::{groups_of, ward_by_code};

pub fn category_label(c: &str) -> &'static str {
    Category::parse(c).map(Category::label).unwrap_or("")
}

pub fn status_label(s: &str) -> &'static str {
    Status::parse(s).map(Status::label).unwrap_or("")
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportPage {
    page: Page,
    wards: Vec<(String, String)>,
    ward: Option<Unit>,
    groups: Vec<Unit>,
    sites: Vec<Site>,
    categories: Vec<(&'static str, &'static str)>,
    form: ReportForm,
    captcha_token: String,
    captcha_svg: String,
    errors: Vec<(String, String)>,
    logged_in: bool,
}

impl ReportPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    fn checked(&self, v: &str) -> bool {
        matches!(v, "true" | "on" | "1")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WardQuery {
    ward: String,
}

async fn form_view(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    form: ReportForm,
    errors: Vec<(String, String)>,
) -> Result<ReportPage, AppError> {
    let ward = match form.ward.as_str() {
        "" => None,
        code => ward_by_code(state.store.as_ref(), code).await.ok(),
    };
    let (groups, sites) = match &ward {
        Some(w) => (
            groups_of(state.store.as_ref(), w.id).await?,
            state.store.sites(w.id, &Default::default()).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let wards = state
        .store
        .wards()
        .await?
        .into_iter()
        .map(|w| (w.code, w.name))
        .collect();
    let c = state.captcha.challenge();
    Ok(ReportPage {
        page: Page::new(caller, uri),
        wards,
        ward,
        groups,
        sites,
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        form,
        captcha_token: c.token,
        captcha_svg: c.svg,
        errors,
        logged_in: caller.user().is_some(),
    })
}

async fn report_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(q): Query<WardQuery>,
) -> Result<Response, AppError> {
    let ward = if q.ward.is_empty() {
        caller
            .user()
            .and_then(|u| u.ward_id)
            .map(|_| String::new())
            .unwrap_or_default()
    } else {
        q.ward
    };
    let mut form = ReportForm {
        ward,
        ..Default::default()
    };
    if form.ward.is_empty()
        && let Some(id) = caller.user().and_then(|u| u.ward_id)
        && let Some(w) = state.store.unit(id).await?
    {
        form.ward = w.code;
    }
    render(&form_view(&state, &caller, &uri, form, Vec::new()).await?)
}

/// The form posts multipart (it carries photos); text fields become a `ReportForm`.
async fn report_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut fields = serde_json::Map::new();
    let mut pictures = Vec::new();
    let mut photo_error = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| {
        AppError::TooLarge("Ảnh hoặc nội dung gửi lên quá lớn (tối đa 5 ảnh, mỗi ảnh 5 MiB).")
    })? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "photos" {
            let bytes = field.bytes().await.map_err(|_| {
                AppError::TooLarge(
                    "Ảnh hoặc nội dung gửi lên quá lớn (tối đa 5 ảnh, mỗi ảnh 5 MiB).",
                )
            })?;
            if bytes.is_empty() {
                continue;
            }
            if pictures.len() >= photos::MAX_PHOTOS {
                photo_error = Some("Gửi tối đa 5 ảnh.");
                continue;
            }
            match photos::clean(&bytes) {
                Ok(p) => pictures.push(p),
                Err(e) => photo_error = Some(e.0),
            }
        } else if fields.len() < 40 {
            let text = field.text().await.unwrap_or_default();
            fields.insert(
                name,
                serde_json::Value::String(text.chars().take(10_000).collect()),
            );
        }
    }
    let form: ReportForm =
        serde_json::from_value(serde_json::Value::Object(fields)).unwrap_or_default();
    if caller.session.is_some() {
        caller.check_csrf(&form.csrf)?;
    }
    let result = match photo_error {
        Some(m) => Err(AppError::field("photos", crate::domain::Invalid(m))),
        None => file_report(&state, &caller, peer, &headers, &form, "web", None).await,
    };
    match result {
        Ok(report) => {
            for p in &pictures {
                let (file_name, sha) = photos::store(&state.config.data_dir, p)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("storing a photo: {e}")))?;
                let meta = Photo {
                    id: 0,
                    report_id: report.id,
                    file_name,
                    content_type: p.content_type.to_string(),
                    bytes: p.bytes.len() as i64,
                    sha256: sha,
                    created_at: chrono::Utc::now(),
                };
                state.store.add_photo(report.id, &meta).await?;
            }
            Ok(Redirect::to(&format!("/track/{}?new=1", report.tracking_code)).into_response())
        }
        Err(AppError::Validation(errs)) => {
            let errors = errs
                .iter()
                .map(|e| (e.field.clone(), caller.t(e.message).to_string()))
                .collect();
            let mut res = render(&form_view(&state, &caller, &uri, form, errors).await?)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    page: Page,
    code: String,
    t: Option<Tracking>,
    photos: Vec<Photo>,
    new: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TrackQuery {
    code: String,
    new: String,
}

async fn track_lookup(
    caller: Caller,
    uri: Uri,
    Query(q): Query<TrackQuery>,
) -> Result<Response, AppError> {
    if !q.code.trim().is_empty() {
        let code: String = q
            .code
            .trim()
            .to_uppercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        return Ok(Redirect::to(&format!("/track/{code}")).into_response());
    }
    render(&TrackPage {
        page: Page::new(&caller, &uri),
        code: String::new(),
        t: None,
        photos: Vec::new(),
        new: false,
    })
}

async fn track_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<TrackQuery>,
) -> Result<Response, AppError> {
    let (report, t) = tracking(&state, &code).await?;
    let photos = state
        .store
        .photos(report.id)
        .await?
        .into_iter()
        .filter(|p| p.report_id == report.id)
        .collect();
    render(&TrackPage {
        page: Page::new(&caller, &uri),
        code: t.tracking_code.clone(),
        t: Some(t),
        photos,
        new: q.new == "1",
    })
}

/// A report's photo, for its reporter (by tracking code) or those who may see the report.
async fn track_photo(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (report, _) = tracking(&state, &code).await?;
    let photo = state
        .store
        .photo(id)
        .await?
        .filter(|p| p.report_id == report.id)
        .ok_or(AppError::NotFound)?;
    serve_photo(&state, &photo)
}

async fn report_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path((report_id, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (report, _) = visible(&state, &caller, report_id).await?;
    let photos = state.store.photos(report.id).await?;
    let photo = photos
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(AppError::NotFound)?;
    serve_photo(&state, &photo)
}

fn serve_photo(state: &AppState, photo: &Photo) -> Result<Response, AppError> {
    let path =
        photos::path_of(&state.config.data_dir, &photo.file_name).ok_or(AppError::NotFound)?;
    let bytes = std::fs::read(path).map_err(|_| AppError::NotFound)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, photo.content_type.clone()),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=86400".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    page: Page,
    ward: Unit,
    reports: Vec<Report>,
    q: ListQuery,
    groups: Vec<Unit>,
    categories: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    live: bool,
}

impl InboxPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
    fn group_name(&self, id: &Option<i64>) -> String {
        id.and_then(|id| self.groups.iter().find(|g| g.id == id))
            .map(|g| g.name.clone())
            .unwrap_or_default()
    }
}

async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(mut q): Query<ListQuery>,
) -> Result<Response, AppError> {
    q.ward = code;
    let reports = list_for(&state, &caller, &q).await?;
    let ward = ward_by_code(state.store.as_ref(), &q.ward).await?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    render(&InboxPage {
        page: Page::new(&caller, &uri),
        live: can_handle(caller.user(), ward.id),
        ward,
        reports,
        q,
        groups,
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportDetail {
    page: Page,
    r: Report,
    ward: Unit,
    full: bool,
    can_handle: bool,
    events: Vec<ReportEvent>,
    photos: Vec<Photo>,
    similar: Vec<(Report, f64)>,
    next_statuses: Vec<(&'static str, &'static str)>,
    teams: Vec<(i64, String)>,
    officers: Vec<String>,
    group: Option<String>,
}

async fn report_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (r, a) = visible(&state, &caller, id).await?;
    let full = a == ReportAccess::Full;
    if full {
        audit_reporter_views(state.store.as_ref(), caller.user(), &[&r]).await?;
    }
    let ward = state
        .store
        .unit(r.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let handle = can_handle(caller.user(), ward.id);
    let current = Status::parse(&r.status).unwrap_or(Status::New);
    let similar = if handle && current.is_open() {
        suggestions(&state, &r).await?
    } else {
        Vec::new()
    };
    let teams = state
        .store
        .teams(ward.id, false)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let officers = state
        .store
        .list_users(Some(ward.id))
        .await?
        .into_iter()
        .filter(|u| u.role() == crate::domain::Role::Officer)
        .map(|u| u.username)
        .collect();
    let group = match r.group_id {
        Some(g) => state.store.unit(g).await?.map(|u| u.name),
        None => None,
    };
    render(&ReportDetail {
        page: Page::new(&caller, &uri),
        events: state.store.report_events(r.id).await?,
        photos: state.store.photos(r.id).await?,
        next_statuses: Status::ALL
            .iter()
            .filter(|s| current.can_become(**s))
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        r,
        ward,
        full,
        can_handle: handle,
        similar,
        teams,
        officers,
        group,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeForm {
    csrf: String,
    status: String,
    assign_user: String,
    assign_team: String,
    answer: String,
    incident_id: String,
    note: String,
    public: String,
    merge_into: String,
}

async fn report_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&f.csrf)?;
    if !f.merge_into.trim().is_empty() {
        let into = f
            .merge_into
            .trim()
            .trim_start_matches('#')
            .parse()
            .map_err(|_| {
                AppError::field(
                    "merge_into",
                    crate::domain::Invalid("Ghi số của phản ánh cần gộp vào."),
                )
            })?;
        merge(&state, &caller, id, into, &f.note).await?;
        return Ok(Redirect::to(&format!("/reports/{into}")).into_response());
    }
    let body = ChangeBody {
        status: (!f.status.is_empty()).then_some(f.status),
        assign_user: (!f.assign_user.is_empty()).then_some(f.assign_user),
        assign_team: f.assign_team.parse().ok().filter(|t: &i64| *t > 0),
        answer: (!f.answer.trim().is_empty()).then_some(f.answer),
        incident_id: f.incident_id.trim().parse().ok(),
        note: f.note,
        public: f.public == "true" || f.public == "on",
    };
    change(&state, &caller, id, body).await?;
    Ok(Redirect::to(&format!("/reports/{id}")).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/report", get(report_form).post(report_submit))
        .route("/track", get(track_lookup))
        .route("/track/{code}", get(track_page))
        .route("/track/{code}/photos/{id}", get(track_photo))
        .route("/wards/{code}/inbox", get(inbox))
        .route("/reports/{id}", get(report_page))
        .route("/reports/{id}/photos/{photo}", get(report_photo))
        .route("/reports/{id}/actions", post(report_action))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Ảnh hoặc nội dung gửi lên quá lớn (tối đa 5 ảnh, mỗi ảnh 5 MiB).",
        "The photos or text are too large (at most 5 photos of 5 MiB each).",
    ),
    ("Gửi tối đa 5 ảnh.", "Send at most 5 photos."),
    (
        "Ghi số của phản ánh cần gộp vào.",
        "Write the number of the report to merge into.",
    ),
    ("Phản ánh, tố giác", "Report to the ward police"),
    ("Gửi phản ánh", "Send the report"),
    (
        "Trong trường hợp khẩn cấp, hãy gọi 113 (Công an) hoặc 114 (Cứu hoả).",
        "In an emergency call 113 (police) or 114 (fire).",
    ),
    ("Loại việc", "What is it about"),
    ("Chuyện gì đã xảy ra?", "What happened?"),
    ("Khi nào?", "When?"),
    (
        "Để trống nếu vừa xảy ra. Ví dụ: 19/10/2023 21:30",
        "Leave empty if it just happened. E.g. 19/10/2023 21:30",
    ),
    ("Ở đâu?", "Where?"),
    ("Dùng vị trí của tôi", "Use my position"),
    ("Tổ dân phố", "Residential group"),
    ("Địa bàn trong danh mục", "Site from the registry"),
    (
        "Địa chỉ, mô tả nơi xảy ra",
        "Address or description of the place",
    ),
    (
        "Tôi không nhớ chính xác nơi xảy ra",
        "I don't know the exact place",
    ),
    (
        "Ảnh (tối đa 5, JPEG hoặc PNG; vị trí trong ảnh sẽ được xoá)",
        "Photos (up to 5, JPEG or PNG; their location data is removed)",
    ),
    (
        "Gửi ẩn danh (không để lại tên, số điện thoại)",
        "Report anonymously (no name, no phone)",
    ),
    (
        "Phản ánh ẩn danh có thể khó xác minh; thông tin người báo chỉ cán bộ Công an phường được xem.",
        "Anonymous reports can be hard to check; only ward police officers can see who reported.",
    ),
    ("Họ tên", "Name"),
    (
        "Kiểm tra: kết quả của phép tính trong hình là bao nhiêu?",
        "Check: what is the result of the sum in the picture?",
    ),
    (
        "Đã có phản ánh gần đây ở gần vị trí này:",
        "Reports made recently near this place:",
    ),
    ("Chọn phường", "Choose the ward"),
    ("Tiếp tục", "Continue"),
    ("Theo dõi phản ánh", "Follow a report"),
    ("Mã theo dõi", "Tracking code"),
    ("Xem", "Show"),
    (
        "Đã gửi phản ánh. Hãy ghi lại mã theo dõi này:",
        "Report sent. Keep this tracking code:",
    ),
    ("Trạng thái", "Status"),
    ("Trả lời của Công an phường", "The ward police's answer"),
    ("Các bước xử lý", "Steps"),
    ("Gửi lúc", "Sent"),
    ("Đã gộp vào phản ánh", "Merged into report"),
    ("Hộp phản ánh", "Report inbox"),
    (
        "Phản ánh mới sẽ hiện ngay tại đây.",
        "New reports appear here as they arrive.",
    ),
    ("Có phản ánh mới", "New report"),
    ("Đang mở", "Open"),
    ("Mức ưu tiên", "Priority"),
    ("Khẩn", "Urgent"),
    ("Sớm", "Soon"),
    ("Thường", "Routine"),
    ("Người phản ánh", "Reporter"),
    ("Ẩn danh", "Anonymous"),
    (
        "Việc xem thông tin người phản ánh được ghi vào nhật ký.",
        "Viewing the reporter's identity is logged.",
    ),
    ("Xử lý", "Handle"),
    ("Chuyển trạng thái", "New status"),
    ("Giao cho cán bộ", "Assign to officer"),
    ("Giao cho tổ bảo vệ", "Assign to security team"),
    ("Trả lời người phản ánh", "Answer to the reporter"),
    ("Số vụ việc đã lập", "Register incident number"),
    (
        "Người phản ánh được xem ghi chú này",
        "The reporter may see this note",
    ),
    ("Cập nhật", "Update"),
    ("Có thể trùng với", "May duplicate"),
    ("Gộp vào phản ánh số", "Merge into report number"),
    ("Gộp", "Merge"),
    ("Lịch sử xử lý", "History"),
    ("Ảnh", "Photos"),
    ("Không có phản ánh nào.", "No reports."),
    ("Gửi phản ánh mới", "File a new report"),
    ("Tất cả trạng thái", "All statuses"),
    ("Đang mở (mặc định)", "Open (default)"),
    ("Mọi loại", "All kinds"),
    ("Mọi tổ", "All groups"),
];
