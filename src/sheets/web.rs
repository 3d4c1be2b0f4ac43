//! Import and export over HTTP: the page where an officer uploads the ward's sheets and
//! downloads them, and the same as JSON API endpoints.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Format, ImportError, ImportReport, Registry, RowError};
use crate::accounts::policy;
use crate::app::AppState;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::pages::{Page, render};
use crate::i18n::tr;
use crate::store::territory::Unit;
use crate::territory::service::{require_edit, ward_by_code};

/// A refused row as the API reports it.
#[derive(Serialize, ToSchema)]
pub struct RowProblem {
    line: usize,
    column: String,
    message: String,
    value: String,
}

fn problems(caller: &Caller, rows: &[RowError]) -> Vec<RowProblem> {
    rows.iter()
        .map(|r| RowProblem {
            line: r.line,
            column: r.column.clone(),
            message: caller.t(r.message).to_string(),
            value: r.value.clone(),
        })
        .collect()
}

fn unreadable(message: &'static str) -> AppError {
    AppError::BadRequest(message)
}

fn parse_registry(s: &str) -> Result<Registry, AppError> {
    Registry::parse(s).ok_or(AppError::BadRequest(
        "Danh mục phải là groups, sites hoặc people.",
    ))
}

async fn run_import(
    state: &AppState,
    caller: &Caller,
    ward: &Unit,
    registry: Registry,
    format: Format,
    bytes: &[u8],
) -> Result<Result<ImportReport, Vec<RowError>>, AppError> {
    let noop = |_: usize, _: usize| {};
    match super::import(
        state.store.as_ref(),
        caller.actor(),
        ward,
        registry,
        format,
        bytes,
        &noop,
    )
    .await
    {
        Ok(report) => Ok(Ok(report)),
        Err(ImportError::Rows(rows)) => Ok(Err(rows)),
        Err(ImportError::Unreadable(m)) => Err(unreadable(m)),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// csv or xlsx
    format: String,
}

/// Import a registry sheet (CSV or XLSX as the raw body): every row or none.
#[utoipa::path(post, path = "/api/v1/wards/{code}/import/{registry}", tag = "territory",
    params(("code" = String, Path), ("registry" = String, Path, description = "groups, sites or people"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Object, description = "created and updated counts"), (status = 422, description = "rows refused; nothing imported")))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, registry)): Path<(String, String)>,
    Query(q): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    // A raw body needs no JSON content type, so a browser session must prove intent.
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    caller.check_csrf(token)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let registry = parse_registry(&registry)?;
    let format = Format::from_name(&q.format)
        .ok_or(AppError::BadRequest("Định dạng phải là csv hoặc xlsx."))?;
    if body.len() > super::MAX_BYTES {
        return Err(AppError::TooLarge("Tệp lớn hơn 10 MiB."));
    }
    match run_import(&state, &caller, &ward, registry, format, &body).await? {
        Ok(report) => Ok(Json(report).into_response()),
        Err(rows) => {
            #[derive(Serialize)]
            struct Refused<'a> {
                #[serde(rename = "type")]
                kind: &'a str,
                title: &'a str,
                status: u16,
                detail: &'a str,
                rows: Vec<RowProblem>,
            }
            let body = Refused {
                kind: "about:blank",
                title: caller.t("Dữ liệu chưa hợp lệ"),
                status: 422,
                detail: caller
                    .t("Không nhập dòng nào; hãy sửa các dòng dưới đây rồi nhập lại cả tệp."),
                rows: problems(&caller, &rows),
            };
            let mut res = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            Ok(res)
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct ExportQuery {
    /// Include citizen ID numbers, dates of birth and phones (officers only).
    personal: bool,
}

async fn export_file(
    state: &AppState,
    caller: &Caller,
    code: &str,
    file: &str,
    personal: bool,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), code).await?;
    let (name, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let registry = Registry::parse(name).ok_or(AppError::NotFound)?;
    if ext == "geojson" && registry == Registry::Sites {
        return geojson_response(state, &ward).await;
    }
    let format = Format::from_name(ext).ok_or(AppError::NotFound)?;
    caller.require()?;
    // The registries are for the ward's own people; personal data for its officers.
    if !policy::can_see_internal(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    if personal && !policy::can_edit_registry(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let bytes = super::export(state.store.as_ref(), &ward, registry, format, personal).await?;
    if personal && registry == Registry::People {
        state
            .store
            .record_view(
                caller.actor(),
                ward.id,
                "person",
                0,
                "export with personal data",
            )
            .await?;
    }
    let disposition = format!(
        "attachment; filename=\"{}-{}.{}\"",
        ward.code,
        registry.as_str(),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

async fn geojson_response(state: &AppState, ward: &Unit) -> Result<Response, AppError> {
    let value = super::sites_geojson(state.store.as_ref(), ward).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(value),
    )
        .into_response())
}

/// Export a registry: `groups.csv`, `sites.xlsx`, `people.csv`, `sites.geojson`…
#[utoipa::path(get, path = "/api/v1/wards/{code}/export/{file}", tag = "territory",
    params(("code" = String, Path), ("file" = String, Path, description = "groups|sites|people . csv|xlsx, or sites.geojson"), ExportQuery),
    responses((status = 200, description = "the file"), (status = 403)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    export_file(&state, &caller, &code, &file, q.personal).await
}

/// The ward's sites as an RFC 7946 GeoJSON FeatureCollection (public).
#[utoipa::path(get, path = "/api/v1/wards/{code}/sites.geojson", tag = "territory", params(("code" = String, Path)),
    responses((status = 200, description = "application/geo+json FeatureCollection")))]
pub async fn sites_geojson(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    geojson_response(&state, &ward).await
}

struct RowLine {
    line: usize,
    column: String,
    message: String,
    value: String,
}

#[derive(Template)]
#[template(path = "exchange.html")]
struct ExchangePage {
    page: Page,
    ward: Unit,
    can_import: bool,
    can_personal: bool,
    registries: Vec<(&'static str, &'static str)>,
    done: Option<ImportReport>,
    rows: Vec<RowLine>,
    message: Option<&'static str>,
}

impl ExchangePage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
}

fn exchange_view(caller: &Caller, uri: &Uri, ward: Unit) -> ExchangePage {
    ExchangePage {
        page: Page::new(caller, uri),
        can_import: policy::can_edit_registry(caller.user(), ward.id),
        can_personal: policy::can_edit_registry(caller.user(), ward.id),
        registries: Registry::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        ward,
        done: None,
        rows: Vec::new(),
        message: None,
    }
}

async fn exchange_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    caller.require()?;
    if !policy::can_see_internal(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    render(&exchange_view(&caller, &uri, ward))
}

#[derive(Deserialize)]
struct CsrfQuery {
    #[serde(default)]
    csrf: String,
}

/// The upload form posts multipart with the CSRF token in the query string.
async fn exchange_upload(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<CsrfQuery>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    caller.check_csrf(&q.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let mut registry = None;
    let mut file: Option<(String, Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("Không đọc được tệp tải lên; hãy thử lại."))?
    {
        match field.name() {
            Some("registry") => {
                let text = field.text().await.unwrap_or_default();
                registry = Some(parse_registry(&text)?);
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::TooLarge("Tệp lớn hơn 10 MiB."))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let mut view = exchange_view(&caller, &uri, ward.clone());
    let (Some(registry), Some((name, bytes))) = (registry, file) else {
        view.message = Some("Hãy chọn danh mục và tệp CSV hoặc XLSX.");
        return respond(view, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let Some(format) = Format::from_path(std::path::Path::new(&name)) else {
        view.message = Some("Tệp phải có đuôi .csv hoặc .xlsx.");
        return respond(view, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if bytes.len() > super::MAX_BYTES {
        view.message = Some("Tệp lớn hơn 10 MiB.");
        return respond(view, StatusCode::PAYLOAD_TOO_LARGE);
    }
    match run_import(&state, &caller, &ward, registry, format, &bytes).await {
        Ok(Ok(report)) => {
            view.done = Some(report);
            respond(view, StatusCode::OK)
        }
        Ok(Err(rows)) => {
            view.rows = rows
                .iter()
                .map(|r| RowLine {
                    line: r.line,
                    column: r.column.clone(),
                    message: tr(caller.lang, r.message).to_string(),
                    value: r.value.clone(),
                })
                .collect();
            respond(view, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::BadRequest(m)) | Err(AppError::Conflict(m)) => {
            view.message = Some(m);
            respond(view, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

fn respond(view: ExchangePage, status: StatusCode) -> Result<Response, AppError> {
    let mut res = render(&view)?;
    *res.status_mut() = status;
    Ok(res)
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    export_file(&state, &caller, &code, &file, q.personal).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/wards/{code}/import/{registry}", post(import))
        .route("/api/v1/wards/{code}/export/{file}", get(export))
        .route("/api/v1/wards/{code}/sites.geojson", get(sites_geojson))
        .route(
            "/wards/{code}/exchange",
            get(exchange_page).post(exchange_upload),
        )
        .route("/wards/{code}/export/{file}", get(download))
}

pub const WEB_TEXTS: crate::i18n::Texts = &[
    (
        "Danh mục phải là groups, sites hoặc people.",
        "The registry must be groups, sites or people.",
    ),
    (
        "Định dạng phải là csv hoặc xlsx.",
        "The format must be csv or xlsx.",
    ),
    ("Tệp lớn hơn 10 MiB.", "The file is larger than 10 MiB."),
    (
        "Không nhập dòng nào; hãy sửa các dòng dưới đây rồi nhập lại cả tệp.",
        "Nothing was imported; fix the rows below and import the whole file again.",
    ),
    (
        "Không đọc được tệp tải lên; hãy thử lại.",
        "The upload could not be read; try again.",
    ),
    (
        "Hãy chọn danh mục và tệp CSV hoặc XLSX.",
        "Choose a registry and a CSV or XLSX file.",
    ),
    (
        "Tệp phải có đuôi .csv hoặc .xlsx.",
        "The file must end in .csv or .xlsx.",
    ),
    ("Xuất dữ liệu", "Export"),
    ("Nhập dữ liệu", "Import"),
    ("Danh mục", "Registry"),
    ("Tệp", "File"),
    ("Nhập", "Import"),
    ("kèm thông tin cá nhân", "with personal data"),
    (
        "Nhập theo nguyên tắc tất cả hoặc không: nếu có dòng lỗi, không dòng nào được ghi.",
        "Imports are all or nothing: if any row is wrong, no row is written.",
    ),
    ("Đã nhập xong", "Import finished"),
    ("mới", "new"),
    ("cập nhật", "updated"),
    ("Dòng", "Line"),
    ("Cột", "Column"),
    ("Lỗi", "Problem"),
    ("Giá trị", "Value"),
    ("Bản đồ địa bàn (GeoJSON)", "Sites map (GeoJSON)"),
    (
        "Tệp xuất ra có cùng cột với tệp nhập, có thể sửa rồi nhập lại.",
        "Exports have the import's columns: edit them and import them back.",
    ),
];
