//! One error type for every handler. A handler returns `AppError`; the `render_errors`
//! middleware, which knows the request's language and whether it came to the API or to a
//! page, turns it into RFC 9457 problem details or a Vietnamese (or English) error page.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::domain::Invalid;
use crate::i18n::tr;
use crate::store::StoreError;

/// A field that failed its check, with the Vietnamese message (a translation key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not logged in")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    TooLarge(&'static str),
    #[error("too many requests")]
    TooManyRequests {
        retry_after: u64,
        message: &'static str,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn field(field: &str, invalid: Invalid) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.to_string(),
            message: invalid.0,
        }])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// (title, detail), Vietnamese; translated when rendered.
    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            AppError::Unauthorized => ("Cần đăng nhập", "Vui lòng đăng nhập để tiếp tục."),
            AppError::Forbidden => (
                "Không có quyền",
                "Tài khoản của bạn không có quyền xem hoặc thay đổi nội dung này.",
            ),
            AppError::NotFound => (
                "Không tìm thấy",
                "Không tìm thấy trang hoặc bản ghi yêu cầu.",
            ),
            AppError::BadRequest(m) => ("Yêu cầu không hợp lệ", m),
            AppError::Validation(_) => (
                "Dữ liệu chưa hợp lệ",
                "Một số trường chưa hợp lệ; xem chi tiết từng trường.",
            ),
            AppError::Conflict(m) => ("Trùng dữ liệu", m),
            AppError::TooLarge(m) => ("Dữ liệu quá lớn", m),
            AppError::TooManyRequests { message, .. } => ("Quá nhiều yêu cầu", message),
            AppError::Internal(_) => (
                "Lỗi hệ thống",
                "Đã có lỗi trong hệ thống; vui lòng thử lại sau. Lỗi đã được ghi lại.",
            ),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(name) => AppError::Conflict(conflict_message(&name)),
            StoreError::Reference => AppError::BadRequest(
                "Bản ghi được tham chiếu (tổ dân phố, tổ bảo vệ, đơn vị cha…) không tồn tại hoặc không thuộc phường này.",
            ),
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// A message for each unique constraint, named as the store names them.
pub fn conflict_message(constraint: &str) -> &'static str {
    match constraint {
        "units_code_key" => "Mã đơn vị này đã được dùng.",
        "sites_ward_id_name_key" => "Phường đã có một địa bàn cùng tên.",
        "teams_ward_id_name_key" => "Phường đã có một tổ bảo vệ cùng tên.",
        "team_groups_group_id_key" => "Tổ dân phố này đã có tổ bảo vệ ANTT phụ trách.",
        "partner_forces_ward_id_name_key" => "Phường đã có một lực lượng phối hợp cùng tên.",
        "people_citizen_id_key" => "Số CCCD này đã có trong danh sách lực lượng.",
        "people_team_id_team_role_key" => {
            "Tổ đã có tổ trưởng hoặc tổ phó; mỗi tổ chỉ có một người cho mỗi chức danh này."
        }
        "users_username_key" => "Tên đăng nhập này đã được dùng.",
        _ => "Bản ghi trùng với một bản ghi đã có.",
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut res = self.status().into_response();
        if let AppError::TooManyRequests { retry_after, .. } = &self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        res.extensions_mut().insert(Arc::new(self));
        res
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemField<'a>>,
}

#[derive(Serialize)]
struct ProblemField<'a> {
    field: &'a str,
    message: &'a str,
}

/// Renders `AppError`s (and bare 404/405/413 from the router) for the caller.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let lang = super::ctx::request_lang(req.headers(), req.uri());
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let api = path.starts_with("/api/") || path.starts_with("/open311/");
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let err = match res.extensions().get::<Arc<AppError>>().cloned() {
        Some(err) => err,
        None if answered(&res) => return res,
        None => {
            // Errors raised by the router and extractors carry no AppError: give them one,
            // keeping the extractor's own explanation for API callers.
            let generic = match status {
                StatusCode::NOT_FOUND => AppError::NotFound,
                StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::TooLarge("Dữ liệu gửi lên vượt quá giới hạn cho phép.")
                }
                StatusCode::METHOD_NOT_ALLOWED => {
                    AppError::BadRequest("Phương thức HTTP này không được hỗ trợ ở đây.")
                }
                s if s.is_client_error() => {
                    let (parts, body) = res.into_parts();
                    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
                    let text = String::from_utf8_lossy(&text).trim().to_string();
                    return rejection(parts.status, lang, api, &text);
                }
                _ => return res,
            };
            Arc::new(generic)
        }
    };
    let (title, detail) = err.texts();
    let (title, detail) = (tr(lang, title), tr(lang, detail));
    let mut out = if api {
        let fields = match err.as_ref() {
            AppError::Validation(f) => f
                .iter()
                .map(|f| ProblemField {
                    field: &f.field,
                    message: tr(lang, f.message),
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            errors: fields,
        };
        let mut r = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    } else if matches!(err.as_ref(), AppError::Unauthorized) {
        let back = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        Redirect::to(&format!("/login?next={}", url_encode(&back))).into_response()
    } else {
        let fields: Vec<String> = match err.as_ref() {
            AppError::Validation(f) => f
                .iter()
                .map(|f| format!("{}: {}", f.field, tr(lang, f.message)))
                .collect(),
            _ => Vec::new(),
        };
        let page = super::pages::ErrorPage::new(lang, status.as_u16(), title, detail, fields);
        (status, Html(page.render_html())).into_response()
    };
    for (name, value) in res.headers() {
        if name == header::RETRY_AFTER {
            out.headers_mut().insert(name, value.clone());
        }
    }
    out
}

/// A handler that built its own error body (JSON, a page) is left alone; axum's own
/// rejections come as plain text or empty.
fn answered(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| !ct.starts_with("text/plain"))
}

/// An extractor's refusal (bad JSON, wrong content type, bad query): the problem's detail
/// says what the extractor found, since only the caller's developer reads it.
fn rejection(status: StatusCode, lang: crate::i18n::Lang, api: bool, text: &str) -> Response {
    let title = tr(lang, "Yêu cầu không hợp lệ");
    let generic = tr(lang, "Dữ liệu gửi lên không đúng định dạng.");
    if api {
        let detail = if text.is_empty() {
            generic.to_string()
        } else {
            format!("{generic} {text}")
        };
        let body = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: &detail,
            errors: Vec::new(),
        };
        let mut r = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    } else {
        let page = super::pages::ErrorPage::new(lang, status.as_u16(), title, generic, Vec::new());
        (status, Html(page.render_html())).into_response()
    }
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Cần đăng nhập", "Login required"),
    (
        "Vui lòng đăng nhập để tiếp tục.",
        "Please log in to continue.",
    ),
    ("Không có quyền", "Not allowed"),
    (
        "Tài khoản của bạn không có quyền xem hoặc thay đổi nội dung này.",
        "Your account may not see or change this.",
    ),
    ("Không tìm thấy", "Not found"),
    (
        "Không tìm thấy trang hoặc bản ghi yêu cầu.",
        "The page or record was not found.",
    ),
    ("Yêu cầu không hợp lệ", "Bad request"),
    ("Dữ liệu chưa hợp lệ", "Invalid data"),
    (
        "Một số trường chưa hợp lệ; xem chi tiết từng trường.",
        "Some fields are invalid; see each field.",
    ),
    ("Trùng dữ liệu", "Conflict"),
    ("Dữ liệu quá lớn", "Too large"),
    ("Quá nhiều yêu cầu", "Too many requests"),
    ("Lỗi hệ thống", "System error"),
    (
        "Đã có lỗi trong hệ thống; vui lòng thử lại sau. Lỗi đã được ghi lại.",
        "Something went wrong; please try again later. The error has been logged.",
    ),
    (
        "Bản ghi được tham chiếu (tổ dân phố, tổ bảo vệ, đơn vị cha…) không tồn tại hoặc không thuộc phường này.",
        "A referenced record (residential group, team, parent unit…) does not exist or is not in this ward.",
    ),
    (
        "Mã đơn vị này đã được dùng.",
        "This unit code is already in use.",
    ),
    (
        "Phường đã có một địa bàn cùng tên.",
        "The ward already has a site with this name.",
    ),
    (
        "Phường đã có một tổ bảo vệ cùng tên.",
        "The ward already has a team with this name.",
    ),
    (
        "Tổ dân phố này đã có tổ bảo vệ ANTT phụ trách.",
        "This residential group already has a security team.",
    ),
    (
        "Phường đã có một lực lượng phối hợp cùng tên.",
        "The ward already has a partner force with this name.",
    ),
    (
        "Số CCCD này đã có trong danh sách lực lượng.",
        "This citizen ID number is already in the forces registry.",
    ),
    (
        "Tổ đã có tổ trưởng hoặc tổ phó; mỗi tổ chỉ có một người cho mỗi chức danh này.",
        "The team already has a leader or deputy; each team has one of each.",
    ),
    (
        "Tên đăng nhập này đã được dùng.",
        "This username is already taken.",
    ),
    (
        "Bản ghi trùng với một bản ghi đã có.",
        "The record duplicates an existing one.",
    ),
    (
        "Dữ liệu gửi lên vượt quá giới hạn cho phép.",
        "The data sent is larger than allowed.",
    ),
    (
        "Phương thức HTTP này không được hỗ trợ ở đây.",
        "This HTTP method is not supported here.",
    ),
    (
        "Dữ liệu gửi lên không đúng định dạng.",
        "The data sent is not in the expected format.",
    ),
];
