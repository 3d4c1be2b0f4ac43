//! The API's OpenAPI 3 description, and a page that shows it without any script.

use askama::Template;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;

use super::ctx::Caller;
use super::error::AppError;
use super::pages::{Page, render};
use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "wardwatch API", description = "JSON API of wardwatch. Errors are RFC 9457 problem details (application/problem+json). Authenticate with POST /api/v1/session, then send `Authorization: Bearer TOKEN`."),
    paths(
        crate::accounts::api::create_session,
        crate::accounts::api::delete_session,
        crate::accounts::api::me,
        crate::accounts::api::change_password,
        crate::territory::api::list_wards,
        crate::territory::api::ward_overview,
        crate::territory::api::list_units,
        crate::territory::api::create_unit,
        crate::territory::api::get_unit,
        crate::territory::api::update_unit,
        crate::territory::api::archive_unit,
        crate::territory::api::list_sites,
        crate::territory::api::create_site,
        crate::territory::api::get_site,
        crate::territory::api::update_site,
        crate::territory::api::archive_site,
        crate::territory::api::search,
        crate::territory::api::history,
        crate::sheets::web::import,
        crate::sheets::web::export,
        crate::sheets::web::sites_geojson,
        crate::forces::api::list_teams,
        crate::forces::api::create_team,
        crate::forces::api::get_team,
        crate::forces::api::update_team,
        crate::forces::api::archive_team,
        crate::forces::api::list_people,
        crate::forces::api::create_person,
        crate::forces::api::get_person,
        crate::forces::api::update_person,
        crate::forces::api::archive_person,
        crate::forces::api::list_forces,
        crate::forces::api::create_force,
        crate::forces::api::update_force,
    ),
    tags(
        (name = "accounts", description = "Sessions and passwords"),
        (name = "territory", description = "Administrative units, residential groups and sites"),
        (name = "forces", description = "Security teams, partner forces, ward police"),
    )
)]
pub struct ApiDoc;

async fn spec() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

struct Endpoint {
    method: &'static str,
    path: String,
    summary: String,
    tag: String,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    page: Page,
    endpoints: Vec<Endpoint>,
}

async fn docs(caller: Caller, uri: Uri) -> Result<Response, AppError> {
    let api = ApiDoc::openapi();
    let mut endpoints = Vec::new();
    for (path, item) in &api.paths.paths {
        let ops: [(&'static str, &Option<Operation>); 5] = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                endpoints.push(Endpoint {
                    method,
                    path: path.clone(),
                    summary: op
                        .summary
                        .clone()
                        .or_else(|| op.description.clone())
                        .unwrap_or_default(),
                    tag: op
                        .tags
                        .as_ref()
                        .and_then(|t| t.first().cloned())
                        .unwrap_or_default(),
                });
            }
        }
    }
    endpoints.sort_by(|a, b| (&a.tag, &a.path).cmp(&(&b.tag, &b.path)));
    render(&DocsPage {
        page: Page::new(&caller, &uri),
        endpoints,
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(spec))
        .route("/api/docs", get(docs))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Mô tả đầy đủ theo chuẩn OpenAPI 3:",
        "The full OpenAPI 3 description:",
    ),
    (
        "Lỗi trả về theo RFC 9457 (application/problem+json). Đăng nhập bằng POST /api/v1/session rồi gửi tiêu đề Authorization: Bearer TOKEN.",
        "Errors are RFC 9457 problem details (application/problem+json). Log in with POST /api/v1/session, then send the header Authorization: Bearer TOKEN.",
    ),
];
