//! Territory endpoints of the JSON API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::overview::{Overview, overview};
use super::service::{
    SiteForm, UnitForm, groups_of, parse_site, parse_unit, public_site, public_unit, require_edit,
    ward_by_code,
};
use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::SiteKind;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::store::AuditEntry;
use crate::store::territory::{Site, SiteFilter, Unit};

#[derive(Serialize, ToSchema)]
pub struct WardItem {
    code: String,
    name: String,
    kind: String,
    /// Number of residential groups (tổ dân phố) and villages.
    groups: i64,
    households: Option<i64>,
    residents: Option<i64>,
}

/// The wards of this deployment (public).
#[utoipa::path(get, path = "/api/v1/wards", tag = "territory", responses((status = 200, body = Vec<WardItem>)))]
pub async fn list_wards(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<WardItem>>, AppError> {
    let wards = state.store.wards().await?;
    Ok(Json(
        wards
            .into_iter()
            .map(|w| WardItem {
                code: w.code,
                name: w.name,
                kind: w.kind,
                groups: w.groups,
                households: w.households,
                residents: w.residents,
            })
            .collect(),
    ))
}

/// A ward's overview: figures, groups, teams, partner forces, sites.
#[utoipa::path(get, path = "/api/v1/wards/{code}", tag = "territory", params(("code" = String, Path)),
    responses((status = 200, body = Overview), (status = 404)))]
pub async fn ward_overview(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Overview>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    Ok(Json(overview(state.store.as_ref(), &caller, ward).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct UnitsQuery {
    /// Only the units below this ward (by code).
    ward: Option<String>,
}

/// Administrative units as a flat list (each with its parent); public fields only unless
/// the caller belongs to the unit's ward.
#[utoipa::path(get, path = "/api/v1/units", tag = "territory", params(UnitsQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_units(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UnitsQuery>,
) -> Result<Json<Vec<Unit>>, AppError> {
    let units = match q.ward {
        Some(code) => {
            let ward = ward_by_code(state.store.as_ref(), &code).await?;
            state.store.units_of_ward(ward.id).await?
        }
        None => state.store.all_units().await?,
    };
    Ok(Json(
        units
            .into_iter()
            .filter(|u| u.archived_at.is_none() || policy::is_admin(caller.user()))
            .map(|u| {
                let internal = u
                    .ward_id
                    .is_some_and(|w| policy::can_see_internal(caller.user(), w));
                public_unit(u, internal)
            })
            .collect(),
    ))
}

async fn parent_of(state: &AppState, code: &str) -> Result<Option<Unit>, AppError> {
    if code.trim().is_empty() {
        return Ok(None);
    }
    match state
        .store
        .unit_by_code(&code.trim().to_lowercase())
        .await?
    {
        Some(u) => Ok(Some(u)),
        None => Err(AppError::field(
            "parent",
            crate::domain::Invalid("Không có đơn vị cha với mã này."),
        )),
    }
}

/// Create a unit: a province or ward (administrators) or a residential group (the ward's officers).
#[utoipa::path(post, path = "/api/v1/units", tag = "territory", request_body = UnitForm,
    responses((status = 201, body = Object), (status = 403), (status = 409), (status = 422)))]
pub async fn create_unit(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<UnitForm>,
) -> Result<Response, AppError> {
    caller.require()?;
    let parent = parent_of(&state, &form.parent).await?;
    let input = parse_unit(&form, parent.as_ref())?;
    let ward_scope = if input.kind.is_ward() {
        None
    } else {
        parent.as_ref().and_then(|p| p.ward_id)
    };
    if !policy::can_create_unit(caller.user(), ward_scope) {
        return Err(AppError::Forbidden);
    }
    let unit = state.store.create_unit(caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(unit)).into_response())
}

async fn unit_by_code(state: &AppState, code: &str) -> Result<Unit, AppError> {
    state
        .store
        .unit_by_code(&code.to_lowercase())
        .await?
        .ok_or(AppError::NotFound)
}

/// One unit by its code.
#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "territory", params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn get_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Unit>, AppError> {
    let unit = unit_by_code(&state, &code).await?;
    let internal = unit
        .ward_id
        .is_some_and(|w| policy::can_see_internal(caller.user(), w));
    Ok(Json(public_unit(unit, internal)))
}

fn may_edit_unit(caller: &Caller, unit: &Unit) -> Result<(), AppError> {
    caller.require()?;
    let scope = if unit.kind().is_ward() || unit.ward_id.is_none() {
        None
    } else {
        unit.ward_id
    };
    let allowed = match scope {
        Some(w) => policy::can_edit_registry(caller.user(), w),
        // Officers keep their own ward's figures and notes too.
        None => {
            policy::is_admin(caller.user())
                || unit
                    .ward_id
                    .is_some_and(|w| policy::can_edit_registry(caller.user(), w))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Replace a unit's fields.
#[utoipa::path(put, path = "/api/v1/units/{code}", tag = "territory", params(("code" = String, Path)),
    request_body = UnitForm, responses((status = 200, body = Object), (status = 403), (status = 422)))]
pub async fn update_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<UnitForm>,
) -> Result<Json<Unit>, AppError> {
    let unit = unit_by_code(&state, &code).await?;
    may_edit_unit(&caller, &unit)?;
    let parent = match unit.parent_id {
        Some(p) => state.store.unit(p).await?,
        None => None,
    };
    let mut input = parse_unit(&form, parent.as_ref())?;
    if input.kind != unit.kind() && !policy::is_admin(caller.user()) {
        return Err(AppError::field(
            "kind",
            crate::domain::Invalid("Chỉ quản trị viên được đổi loại đơn vị."),
        ));
    }
    input.parent_id = unit.parent_id;
    Ok(Json(
        state
            .store
            .update_unit(caller.actor(), unit.id, input)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ArchiveBody {
    /// true to archive, false to bring back.
    #[serde(default = "yes")]
    archived: bool,
}

fn yes() -> bool {
    true
}

/// Archive (or restore) a unit; nothing is deleted.
#[utoipa::path(post, path = "/api/v1/units/{code}/archive", tag = "territory", params(("code" = String, Path)),
    request_body = ArchiveBody, responses((status = 204), (status = 403)))]
pub async fn archive_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<ArchiveBody>,
) -> Result<StatusCode, AppError> {
    let unit = unit_by_code(&state, &code).await?;
    may_edit_unit(&caller, &unit)?;
    if (unit.kind().is_ward() || unit.ward_id.is_none()) && !policy::is_admin(caller.user()) {
        return Err(AppError::Forbidden);
    }
    state
        .store
        .set_unit_archived(caller.actor(), unit.id, body.archived)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct SitesQuery {
    /// Search text; diacritics and case are ignored.
    pub q: String,
    /// Site kind (e.g. market, school).
    pub kind: String,
    /// Residential group code.
    pub group: String,
    /// Include archived sites.
    pub archived: bool,
}

pub async fn site_filter(
    state: &AppState,
    ward: &Unit,
    q: &SitesQuery,
) -> Result<SiteFilter, AppError> {
    let kind = if q.kind.is_empty() {
        None
    } else {
        Some(SiteKind::parse(&q.kind).map_err(|e| AppError::field("kind", e))?)
    };
    let group_id = if q.group.is_empty() {
        None
    } else {
        let groups = groups_of(state.store.as_ref(), ward.id).await?;
        Some(
            groups
                .iter()
                .find(|g| g.code == q.group.to_lowercase())
                .map(|g| g.id)
                .ok_or(AppError::NotFound)?,
        )
    };
    Ok(SiteFilter {
        terms: search_terms(&q.q),
        kind,
        group_id,
        include_archived: q.archived,
    })
}

/// Split a query into folded terms (at most 8, each at most 40 characters).
pub fn search_terms(q: &str) -> Vec<String> {
    crate::text::fold(q)
        .split(' ')
        .filter(|t| !t.is_empty())
        .take(8)
        .map(|t| t.chars().take(40).collect())
        .collect()
}

/// The sites of a ward, searchable without diacritics.
#[utoipa::path(get, path = "/api/v1/wards/{code}/sites", tag = "territory",
    params(("code" = String, Path), SitesQuery), responses((status = 200, body = Vec<Object>)))]
pub async fn list_sites(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<SitesQuery>,
) -> Result<Json<Vec<Site>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let filter = site_filter(&state, &ward, &q).await?;
    let internal = policy::can_see_internal(caller.user(), ward.id);
    let sites = state.store.sites(ward.id, &filter).await?;
    Ok(Json(
        sites
            .into_iter()
            .map(|s| public_site(s, internal))
            .collect(),
    ))
}

/// Add a site to a ward's registry.
#[utoipa::path(post, path = "/api/v1/wards/{code}/sites", tag = "territory", params(("code" = String, Path)),
    request_body = SiteForm, responses((status = 201, body = Object), (status = 403), (status = 409), (status = 422)))]
pub async fn create_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<SiteForm>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let input = parse_site(&form, &ward, &groups)?;
    let site = state.store.create_site(caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(site)).into_response())
}

async fn site_by_id(state: &AppState, id: i64) -> Result<Site, AppError> {
    state.store.site(id).await?.ok_or(AppError::NotFound)
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "territory", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn get_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Site>, AppError> {
    let site = site_by_id(&state, id).await?;
    let internal = policy::can_see_internal(caller.user(), site.ward_id);
    Ok(Json(public_site(site, internal)))
}

/// Replace a site's fields.
#[utoipa::path(put, path = "/api/v1/sites/{id}", tag = "territory", params(("id" = i64, Path)),
    request_body = SiteForm, responses((status = 200, body = Object), (status = 403), (status = 422)))]
pub async fn update_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<SiteForm>,
) -> Result<Json<Site>, AppError> {
    let site = site_by_id(&state, id).await?;
    require_edit(&caller, site.ward_id)?;
    let ward = state
        .store
        .unit(site.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let mut input = parse_site(&form, &ward, &groups)?;
    input.parent_site_id = site.parent_site_id;
    Ok(Json(
        state.store.update_site(caller.actor(), id, input).await?,
    ))
}

/// Archive (or restore) a site.
#[utoipa::path(post, path = "/api/v1/sites/{id}/archive", tag = "territory", params(("id" = i64, Path)),
    request_body = ArchiveBody, responses((status = 204), (status = 403)))]
pub async fn archive_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ArchiveBody>,
) -> Result<StatusCode, AppError> {
    let site = site_by_id(&state, id).await?;
    require_edit(&caller, site.ward_id)?;
    state
        .store
        .set_site_archived(caller.actor(), id, body.archived)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// What to look for; "du hang kenh" finds "Dư Hàng Kênh".
    q: String,
    /// Limit to one ward (code).
    ward: Option<String>,
}

/// Search units, sites and (for the ward's own people) the forces, ignoring diacritics.
#[utoipa::path(get, path = "/api/v1/search", tag = "territory", params(SearchQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<crate::store::territory::SearchHit>>, AppError> {
    Ok(Json(
        super::pages::run_search(&state, &caller, &q.q, q.ward.as_deref()).await?,
    ))
}

/// The change history of a ward's registries (officers, leadership).
#[utoipa::path(get, path = "/api/v1/wards/{code}/history", tag = "territory", params(("code" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 403)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    caller.require()?;
    if !policy::can_see_history(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(
        state.store.audit_trail(Some(ward.id), None, 500).await?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/wards", get(list_wards))
        .route("/api/v1/wards/{code}", get(ward_overview))
        .route("/api/v1/units", get(list_units).post(create_unit))
        .route("/api/v1/units/{code}", get(get_unit).put(update_unit))
        .route("/api/v1/units/{code}/archive", post(archive_unit))
        .route(
            "/api/v1/wards/{code}/sites",
            get(list_sites).post(create_site),
        )
        .route("/api/v1/sites/{id}", get(get_site).put(update_site))
        .route("/api/v1/sites/{id}/archive", post(archive_site))
        .route("/api/v1/search", get(search))
        .route("/api/v1/wards/{code}/history", get(history))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Không có đơn vị cha với mã này.",
        "No parent unit has this code.",
    ),
    (
        "Chỉ quản trị viên được đổi loại đơn vị.",
        "Only an administrator may change a unit's kind.",
    ),
];
