//! What every page shares: the page context the layout reads, number and date formats,
//! the home page, the language switch and the error page.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::ctx::{Caller, LANG_COOKIE};
use super::error::AppError;
use crate::app::AppState;
use crate::i18n::{Lang, tr};
use crate::store::territory::WardSummary;

/// The layout's view of the request: language, who is logged in, the form token.
pub struct Page {
    pub lang: Lang,
    pub username: Option<String>,
    pub role_label: &'static str,
    pub csrf: String,
    /// Path and query of this page, for the language switch and "back to".
    pub here: String,
    /// The ward a page is about (from its path), for the live warning banner.
    pub ward_code: String,
}

impl Page {
    pub fn new(caller: &Caller, uri: &Uri) -> Self {
        let user = caller.user();
        Page {
            lang: caller.lang,
            username: user.map(|u| u.username.clone()),
            role_label: user.map(|u| u.role().label()).unwrap_or(""),
            csrf: caller
                .session
                .as_ref()
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            here: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            ward_code: uri
                .path()
                .strip_prefix("/wards/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_string(),
        }
    }

    pub fn t<'a>(&self, vi: &'a str) -> &'a str {
        tr(self.lang, vi)
    }

    pub fn asset(&self, file: &str) -> String {
        format!("/static/{}/{file}", super::assets::ASSET_VERSION)
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        }
    }

    pub fn other_lang_name(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "English",
            Lang::En => "Tiếng Việt",
        }
    }

    pub fn lang_href(&self) -> String {
        format!(
            "/lang/{}?next={}",
            self.other_lang(),
            super::error::url_encode(&self.here)
        )
    }

    /// 29.628 in Vietnamese, 29,628 in English.
    pub fn int(&self, n: impl Count) -> String {
        group_thousands(n.count(), if self.lang == Lang::Vi { '.' } else { ',' })
    }

    pub fn opt_int(&self, n: &Option<i64>) -> String {
        n.map(|n| self.int(n)).unwrap_or_else(|| "—".into())
    }

    /// 67,48 in Vietnamese, 67.48 in English.
    pub fn dec(&self, x: &Option<f64>) -> String {
        match x {
            Some(x) => {
                let s = format!("{x:.2}");
                let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
                if self.lang == Lang::Vi {
                    s.replace('.', ",")
                } else {
                    s
                }
            }
            None => "—".into(),
        }
    }

    pub fn date(&self, d: &Option<NaiveDate>) -> String {
        crate::domain::format_date(*d)
    }

    /// dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh.
    pub fn datetime(&self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    }
}

/// Whole numbers as templates hand them over, by value or by reference.
pub trait Count {
    fn count(&self) -> i64;
}

impl Count for i64 {
    fn count(&self) -> i64 {
        *self
    }
}

impl Count for usize {
    fn count(&self) -> i64 {
        *self as i64
    }
}

impl<T: Count> Count for &T {
    fn count(&self) -> i64 {
        (**self).count()
    }
}

pub fn group_thousands(n: i64, sep: char) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Render a template, or fail as an internal error.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    let html = t
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub page: Page,
    pub status: u16,
    pub title: String,
    pub detail: String,
    pub fields: Vec<String>,
}

impl ErrorPage {
    pub fn new(lang: Lang, status: u16, title: &str, detail: &str, fields: Vec<String>) -> Self {
        let page = Page {
            lang,
            username: None,
            role_label: "",
            csrf: String::new(),
            here: "/".into(),
            ward_code: String::new(),
        };
        Self {
            page,
            status,
            title: title.into(),
            detail: detail.into(),
            fields,
        }
    }

    pub fn render_html(&self) -> String {
        self.render().unwrap_or_else(|_| self.detail.clone())
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    wards: Vec<WardSummary>,
}

async fn home(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, AppError> {
    let wards = state.store.wards().await?;
    render(&HomePage {
        page: Page::new(&caller, &uri),
        wards,
    })
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only same-site paths are followed, never another host.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

async fn switch_lang(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    let c = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    if let Ok(v) = c.parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{code}", get(switch_lang))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Công tác bảo vệ an ninh, trật tự ở cơ sở",
        "Grassroots security and order work",
    ),
    ("Các phường", "Wards"),
    ("Số tổ dân phố", "Residential groups"),
    ("Hộ", "Households"),
    ("Nhân khẩu", "Residents"),
    ("Đăng nhập", "Log in"),
    ("Đăng xuất", "Log out"),
    ("Tài khoản", "Account"),
    ("Tìm kiếm", "Search"),
    ("Tìm", "Search"),
    ("Tài liệu API", "API documentation"),
    ("Quay về trang chủ", "Back to the home page"),
    ("Trang chủ", "Home"),
    (
        "Chưa có phường nào. Quản trị viên thêm phường bằng lệnh wardwatch demo hoặc trang Đơn vị hành chính.",
        "No wards yet. An administrator adds them with `wardwatch demo` or on the administrative units page.",
    ),
    ("Đơn vị hành chính", "Administrative units"),
    (
        "Phần mềm tự vận hành cho công tác bảo vệ an ninh trật tự của phường.",
        "Self-hosted software for a ward's security and order work.",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_and_safe_redirects() {
        assert_eq!(super::group_thousands(29628, '.'), "29.628");
        assert_eq!(super::group_thousands(8480, ','), "8,480");
        assert_eq!(super::group_thousands(398, '.'), "398");
        assert_eq!(super::safe_next(Some("//evil.example")), "/");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/");
        assert_eq!(
            super::safe_next(Some("/wards/lach-tray")),
            "/wards/lach-tray"
        );
    }
}

/// Any create/edit form, laid out from its fields.
#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub page: Page,
    pub title: &'static str,
    pub subject: String,
    pub back: String,
    pub action: String,
    pub fields: Vec<super::form::FieldView>,
    pub has_errors: bool,
    pub message: Option<&'static str>,
}

impl FormPage {
    /// Render with 422 when the form came back with errors.
    pub fn respond(self) -> Result<Response, AppError> {
        let bad = self.has_errors || self.message.is_some();
        let mut res = render(&self)?;
        if bad {
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(res)
    }
}

/// A create/edit form, fresh or returned with the errors of its last submission.
pub fn form_page(
    caller: &Caller,
    uri: &Uri,
    title: &'static str,
    subject: String,
    back: String,
    fields: Vec<super::form::FieldView>,
    errors: Option<AppError>,
) -> Result<Response, AppError> {
    let (fields, has_errors, message) = match errors {
        None => (fields, false, None),
        Some(AppError::Validation(errs)) => (super::form::with_errors(fields, &errs), true, None),
        Some(AppError::Conflict(m)) | Some(AppError::BadRequest(m)) => (fields, false, Some(m)),
        Some(other) => return Err(other),
    };
    FormPage {
        page: Page::new(caller, uri),
        title,
        subject,
        back,
        action: uri.path().to_string(),
        fields,
        has_errors,
        message,
    }
    .respond()
}

pub const FORM_TEXTS: crate::i18n::Texts = &[
    ("Quay lại", "Back"),
    ("Lưu", "Save"),
    (
        "Biểu mẫu còn lỗi; xem các trường được đánh dấu.",
        "The form has errors; see the marked fields.",
    ),
];
