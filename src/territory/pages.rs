//! Territory pages: the ward overview, the sites and groups registries, the unit tree,
//! search and the change history.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::api::{SitesQuery, search_terms, site_filter};
use super::overview::{Overview, overview};
use super::service::{
    SiteForm, UnitForm, groups_of, parse_site, parse_unit, public_site, require_edit, ward_by_code,
};
use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::{SiteKind, UnitKind};
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::form::FieldView;
use crate::http::pages::{Page, form_page, render};
use crate::store::AuditEntry;
use crate::store::territory::{SearchHit, Site, Unit};

/// A marker for the map script.
#[derive(Serialize)]
struct Marker<'a> {
    id: i64,
    name: &'a str,
    kind: &'a str,
    lat: f64,
    lon: f64,
}

fn markers_json(sites: &[Site], page: &Page) -> String {
    let markers: Vec<Marker> = sites
        .iter()
        .filter_map(|s| {
            Some(Marker {
                id: s.id,
                name: &s.name,
                kind: page.t(s.kind().label()),
                lat: s.lat?,
                lon: s.lon?,
            })
        })
        .collect();
    // Inside a <script type="application/json">: "</" must not close the element.
    serde_json::to_string(&markers)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/")
}

#[derive(Template)]
#[template(path = "ward.html")]
struct WardPage {
    page: Page,
    o: Overview,
    markers: String,
    tile_url: String,
    center: (f64, f64),
}

impl WardPage {
    fn ward_code(&self) -> &str {
        &self.o.ward.code
    }
    fn site_kind(&self, s: &Site) -> &'static str {
        s.kind().label()
    }
}

async fn ward_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let center = (ward.lat.unwrap_or(20.8449), ward.lon.unwrap_or(106.6881));
    let o = overview(state.store.as_ref(), &caller, ward).await?;
    let page = Page::new(&caller, &uri);
    let markers = markers_json(&o.sites, &page);
    render(&WardPage {
        page,
        o,
        markers,
        tile_url: state.config.tile_url.clone(),
        center,
    })
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    page: Page,
    ward: Unit,
    sites: Vec<Site>,
    q: String,
    kind: String,
    archived: bool,
    kinds: Vec<(String, &'static str)>,
    can_edit: bool,
}

impl SitesPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
    fn kind_label(&self, s: &Site) -> &'static str {
        s.kind().label()
    }
}

async fn sites_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<SitesQuery>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let filter = site_filter(&state, &ward, &q).await?;
    let internal = policy::can_see_internal(caller.user(), ward.id);
    let sites = state
        .store
        .sites(ward.id, &filter)
        .await?
        .into_iter()
        .map(|s| public_site(s, internal))
        .collect();
    let kinds = SiteKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label()))
        .collect();
    render(&SitesPage {
        page: Page::new(&caller, &uri),
        can_edit: policy::can_edit_registry(caller.user(), ward.id),
        ward,
        sites,
        q: q.q,
        kind: q.kind,
        archived: q.archived,
        kinds,
    })
}

fn site_fields(form: &SiteForm, groups: &[Unit]) -> Vec<FieldView> {
    let mut group_opts = vec![(String::new(), "—".to_string())];
    group_opts.extend(groups.iter().map(|g| (g.code.clone(), g.name.clone())));
    let kind_opts = SiteKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    vec![
        FieldView::new("kind", "Loại địa bàn", "select", &form.kind)
            .required()
            .options(kind_opts),
        FieldView::new("name", "Tên", "text", &form.name).required(),
        FieldView::new("group", "Tổ dân phố", "select", &form.group).options(group_opts),
        FieldView::new("address", "Địa chỉ", "text", &form.address),
        FieldView::new("lat", "Vĩ độ", "number", &form.lat)
            .hint("Ví dụ 20.8555; để trống nếu chưa có."),
        FieldView::new("lon", "Kinh độ", "number", &form.lon).hint("Ví dụ 106.6930."),
        FieldView::new("floors", "Số tầng", "number", &form.floors),
        FieldView::new("apartments", "Số căn hộ", "number", &form.apartments),
        FieldView::new("residents", "Số nhân khẩu", "number", &form.residents),
        FieldView::new(
            "foreign_residents",
            "Người nước ngoài",
            "number",
            &form.foreign_residents,
        ),
        FieldView::new("rooms", "Số phòng", "number", &form.rooms),
        FieldView::new("lodgers", "Số người lưu trú", "number", &form.lodgers),
        FieldView::new("visitors", "Lượt khách", "number", &form.visitors),
        FieldView::new("length_m", "Chiều dài (m)", "number", &form.length_m),
        FieldView::new("schedule", "Lịch phiên", "text", &form.schedule)
            .hint("Ví dụ: mỗi sáng Chủ nhật."),
        FieldView::new(
            "in_use_since",
            "Năm đưa vào sử dụng",
            "number",
            &form.in_use_since,
        ),
        FieldView::new(
            "risk_notes",
            "Nguy cơ về an ninh, trật tự",
            "textarea",
            &form.risk_notes,
        ),
        FieldView::new("notes", "Ghi chú", "textarea", &form.notes),
    ]
}

async fn new_site_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let fields = site_fields(&SiteForm::default(), &groups);
    form_page(
        &caller,
        &uri,
        "Thêm địa bàn",
        ward.name,
        format!("/wards/{}/sites", ward.code),
        fields,
        None,
    )
}

async fn new_site_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(form): Form<SiteForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let result = match parse_site(&form, &ward, &groups) {
        Ok(input) => state
            .store
            .create_site(caller.actor(), input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(site) => Ok(Redirect::to(&format!("/sites/{}", site.id)).into_response()),
        Err(e) => {
            let back = format!("/wards/{}/sites", ward.code);
            form_page(
                &caller,
                &uri,
                "Thêm địa bàn",
                ward.name,
                back,
                site_fields(&form, &groups),
                Some(e),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    page: Page,
    site: Site,
    ward: Unit,
    group: Option<Unit>,
    history: Vec<AuditEntry>,
    can_edit: bool,
}

impl SitePage {
    fn kind_label(&self) -> &'static str {
        self.site.kind().label()
    }
}

async fn site_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let site = state.store.site(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(site.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let group = match site.group_id {
        Some(g) => state.store.unit(g).await?,
        None => None,
    };
    let history = if policy::can_see_history(caller.user(), ward.id) {
        state
            .store
            .audit_trail(Some(ward.id), Some(("site", id)), 50)
            .await?
    } else {
        Vec::new()
    };
    let internal = policy::can_see_internal(caller.user(), ward.id);
    render(&SitePage {
        page: Page::new(&caller, &uri),
        can_edit: policy::can_edit_registry(caller.user(), ward.id),
        site: public_site(site, internal),
        ward,
        group,
        history,
    })
}

async fn edit_site_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let site = state.store.site(id).await?.ok_or(AppError::NotFound)?;
    require_edit(&caller, site.ward_id)?;
    let groups = groups_of(state.store.as_ref(), site.ward_id).await?;
    let group_code = groups
        .iter()
        .find(|g| Some(g.id) == site.group_id)
        .map(|g| g.code.clone())
        .unwrap_or_default();
    let fields = site_fields(&SiteForm::from_site(&site, group_code), &groups);
    form_page(
        &caller,
        &uri,
        "Sửa địa bàn",
        site.name,
        format!("/sites/{id}"),
        fields,
        None,
    )
}

async fn edit_site_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(form): Form<SiteForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let site = state.store.site(id).await?.ok_or(AppError::NotFound)?;
    require_edit(&caller, site.ward_id)?;
    let ward = state
        .store
        .unit(site.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let result = match parse_site(&form, &ward, &groups) {
        Ok(mut input) => {
            input.parent_site_id = site.parent_site_id;
            state
                .store
                .update_site(caller.actor(), id, input)
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
        Err(e) => form_page(
            &caller,
            &uri,
            "Sửa địa bàn",
            site.name,
            format!("/sites/{id}"),
            site_fields(&form, &groups),
            Some(e),
        ),
    }
}

#[derive(Deserialize)]
struct ArchiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    archived: String,
}

async fn archive_site_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<ArchiveForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let site = state.store.site(id).await?.ok_or(AppError::NotFound)?;
    require_edit(&caller, site.ward_id)?;
    state
        .store
        .set_site_archived(caller.actor(), id, form.archived != "false")
        .await?;
    Ok(Redirect::to(&format!("/sites/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    page: Page,
    o: Overview,
}

impl GroupsPage {
    fn ward_code(&self) -> &str {
        &self.o.ward.code
    }
}

async fn groups_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let o = overview(state.store.as_ref(), &caller, ward).await?;
    render(&GroupsPage {
        page: Page::new(&caller, &uri),
        o,
    })
}

fn unit_fields(form: &UnitForm, parents: Vec<(String, String)>, admin: bool) -> Vec<FieldView> {
    let kinds: Vec<(String, String)> = UnitKind::ALL
        .iter()
        .filter(|k| admin || k.is_grassroots() || **k == UnitKind::Quarter)
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    vec![
        FieldView::new("parent", "Đơn vị cha", "select", &form.parent).options(parents),
        FieldView::new("kind", "Loại đơn vị", "select", &form.kind)
            .required()
            .options(kinds),
        FieldView::new("code", "Mã", "text", &form.code)
            .required()
            .hint("Chữ không dấu, số, gạch ngang; ví dụ du-hang-kenh-tdp-23."),
        FieldView::new("name", "Tên", "text", &form.name).required(),
        FieldView::new("households", "Số hộ", "number", &form.households),
        FieldView::new("residents", "Số nhân khẩu", "number", &form.residents),
        FieldView::new("area_ha", "Diện tích (ha)", "number", &form.area_ha),
        FieldView::new(
            "founded_year",
            "Năm thành lập",
            "number",
            &form.founded_year,
        ),
        FieldView::new("lat", "Vĩ độ", "number", &form.lat),
        FieldView::new("lon", "Kinh độ", "number", &form.lon),
        FieldView::new(
            "staff_min_members",
            "Số thành viên tối thiểu mỗi tổ bảo vệ",
            "number",
            &form.staff_min_members,
        )
        .hint("Quy định của tỉnh; để trống để dùng quy định của đơn vị cấp trên."),
        FieldView::new(
            "staff_base_residents",
            "Số dân ứng với số thành viên tối thiểu",
            "number",
            &form.staff_base_residents,
        ),
        FieldView::new(
            "staff_step_residents",
            "Số dân tăng thêm cho mỗi thành viên",
            "number",
            &form.staff_step_residents,
        ),
        FieldView::new(
            "risk_notes",
            "Nguy cơ về an ninh, trật tự",
            "textarea",
            &form.risk_notes,
        ),
        FieldView::new("notes", "Ghi chú", "textarea", &form.notes),
    ]
}

async fn parent_options(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<(String, String)>, AppError> {
    let admin = policy::is_admin(caller.user());
    let mut opts = vec![(String::new(), "—".to_string())];
    for u in state.store.all_units().await? {
        let allowed = admin
            || u.ward_id
                .is_some_and(|w| policy::can_edit_registry(caller.user(), w));
        if allowed && u.archived_at.is_none() && !u.kind().is_grassroots() {
            opts.push((u.code.clone(), u.name.clone()));
        }
    }
    Ok(opts)
}

#[derive(Deserialize, Default)]
struct NewUnitQuery {
    #[serde(default)]
    parent: String,
}

async fn new_unit_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(q): Query<NewUnitQuery>,
) -> Result<Response, AppError> {
    caller.require()?;
    let parents = parent_options(&state, &caller).await?;
    if parents.len() <= 1 && !policy::is_admin(caller.user()) {
        return Err(AppError::Forbidden);
    }
    let form = UnitForm {
        parent: q.parent,
        kind: "group".into(),
        ..Default::default()
    };
    let fields = unit_fields(&form, parents, policy::is_admin(caller.user()));
    form_page(
        &caller,
        &uri,
        "Thêm đơn vị hành chính",
        String::new(),
        "/units".into(),
        fields,
        None,
    )
}

async fn new_unit_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(form): Form<UnitForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    caller.require()?;
    let parent = if form.parent.is_empty() {
        None
    } else {
        state.store.unit_by_code(&form.parent).await?
    };
    let result = match parse_unit(&form, parent.as_ref()) {
        Ok(input) => {
            let scope = if input.kind.is_ward() {
                None
            } else {
                parent.as_ref().and_then(|p| p.ward_id)
            };
            if !policy::can_create_unit(caller.user(), scope) {
                return Err(AppError::Forbidden);
            }
            state
                .store
                .create_unit(caller.actor(), input)
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Ok(Redirect::to(&unit_home(&u)).into_response()),
        Err(e) => {
            let parents = parent_options(&state, &caller).await?;
            let fields = unit_fields(&form, parents, policy::is_admin(caller.user()));
            form_page(
                &caller,
                &uri,
                "Thêm đơn vị hành chính",
                String::new(),
                "/units".into(),
                fields,
                Some(e),
            )
        }
    }
}

fn unit_home(u: &Unit) -> String {
    if u.kind().is_ward() {
        format!("/wards/{}", u.code)
    } else {
        "/units".into()
    }
}

async fn editable_unit(state: &AppState, caller: &Caller, code: &str) -> Result<Unit, AppError> {
    caller.require()?;
    let unit = state
        .store
        .unit_by_code(&code.to_lowercase())
        .await?
        .ok_or(AppError::NotFound)?;
    let allowed = policy::is_admin(caller.user())
        || unit
            .ward_id
            .is_some_and(|w| policy::can_edit_registry(caller.user(), w));
    if allowed {
        Ok(unit)
    } else {
        Err(AppError::Forbidden)
    }
}

async fn edit_unit_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let unit = editable_unit(&state, &caller, &code).await?;
    let parent_code = match unit.parent_id {
        Some(p) => state
            .store
            .unit(p)
            .await?
            .map(|u| u.code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let form = UnitForm::from_unit(&unit, parent_code.clone());
    let mut fields = unit_fields(
        &form,
        vec![(parent_code, "—".into())],
        policy::is_admin(caller.user()),
    );
    fields[0].input = "hidden";
    form_page(
        &caller,
        &uri,
        "Sửa đơn vị hành chính",
        unit.name.clone(),
        unit_home(&unit),
        fields,
        None,
    )
}

async fn edit_unit_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(form): Form<UnitForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let unit = editable_unit(&state, &caller, &code).await?;
    let parent = match unit.parent_id {
        Some(p) => state.store.unit(p).await?,
        None => None,
    };
    let admin = policy::is_admin(caller.user());
    let result = match parse_unit(&form, parent.as_ref()) {
        Ok(input) if input.kind != unit.kind() && !admin => Err(AppError::field(
            "kind",
            crate::domain::Invalid("Chỉ quản trị viên được đổi loại đơn vị."),
        )),
        Ok(input) => state
            .store
            .update_unit(caller.actor(), unit.id, input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Ok(Redirect::to(&unit_home(&u)).into_response()),
        Err(e) => {
            let parent_code = parent.map(|p| p.code).unwrap_or_default();
            let mut fields = unit_fields(&form, vec![(parent_code, "—".into())], admin);
            fields[0].input = "hidden";
            form_page(
                &caller,
                &uri,
                "Sửa đơn vị hành chính",
                unit.name.clone(),
                unit_home(&unit),
                fields,
                Some(e),
            )
        }
    }
}

async fn archive_unit_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Form(form): Form<ArchiveForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let unit = editable_unit(&state, &caller, &code).await?;
    if unit.kind().is_ward() && !policy::is_admin(caller.user()) {
        return Err(AppError::Forbidden);
    }
    state
        .store
        .set_unit_archived(caller.actor(), unit.id, form.archived != "false")
        .await?;
    Ok(Redirect::to("/units").into_response())
}

/// A unit with its depth in the tree, for an indented list.
struct TreeRow {
    unit: Unit,
    depth: usize,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    page: Page,
    rows: Vec<TreeRow>,
    can_add: bool,
}

impl UnitsPage {
    fn kind_label(&self, u: &Unit) -> &'static str {
        u.kind().label()
    }
}

async fn units_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, AppError> {
    let all = state.store.all_units().await?;
    let admin = policy::is_admin(caller.user());
    let mut rows = Vec::new();
    // Depth-first from the roots; a cycle cannot occur because parents are set on creation.
    let mut stack: Vec<(&Unit, usize)> = all
        .iter()
        .filter(|u| u.parent_id.is_none())
        .rev()
        .map(|u| (u, 0))
        .collect();
    while let Some((u, depth)) = stack.pop() {
        let can_edit = admin
            || u.ward_id
                .is_some_and(|w| policy::can_edit_registry(caller.user(), w));
        // Archived units stay visible to those who may bring them back.
        if u.archived_at.is_some() && !can_edit {
            continue;
        }
        rows.push(TreeRow {
            unit: u.clone(),
            depth,
            can_edit,
        });
        let children = all.iter().filter(|c| c.parent_id == Some(u.id)).rev();
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    let can_add = admin || caller.role() == Some(crate::domain::Role::Officer);
    render(&UnitsPage {
        page: Page::new(&caller, &uri),
        rows,
        can_add,
    })
}

/// Search units, sites and, for the ward's own people, the forces.
pub async fn run_search(
    state: &AppState,
    caller: &Caller,
    q: &str,
    ward: Option<&str>,
) -> Result<Vec<SearchHit>, AppError> {
    let terms = search_terms(q);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let ward_id = match ward {
        Some(code) if !code.is_empty() => Some(ward_by_code(state.store.as_ref(), code).await?.id),
        _ => None,
    };
    let user = caller.user();
    // People are searchable only inside one's own ward (or by administrators).
    let people_ward = ward_id.or(user.and_then(|u| u.ward_id));
    let people =
        people_ward.is_some_and(|w| policy::can_see_internal(user, w)) || policy::is_admin(user);
    let mut hits = state.store.search(ward_id, &terms, false, 100).await?;
    if people {
        let scope = if policy::is_admin(user) {
            ward_id
        } else {
            people_ward
        };
        let more = state.store.search(scope, &terms, true, 100).await?;
        hits.extend(more.into_iter().filter(|h| h.entity == "person"));
    }
    // Whole-phrase matches first, then wards and groups before sites and people.
    let phrase = terms.join(" ");
    let rank = |h: &SearchHit| {
        let whole = crate::text::fold(&h.title).contains(&phrase);
        let kind = match h.entity.as_str() {
            "unit" => 0,
            "site" => 1,
            _ => 2,
        };
        (!whole, kind)
    };
    hits.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.title.cmp(&b.title)));
    Ok(hits)
}

#[derive(Deserialize, Default)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

struct HitView {
    href: String,
    title: String,
    what: &'static str,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    page: Page,
    q: String,
    hits: Vec<HitView>,
}

async fn search_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(form): Query<SearchForm>,
) -> Result<Response, AppError> {
    let hits = run_search(&state, &caller, &form.q, None).await?;
    let units = state.store.all_units().await?;
    let hits = hits
        .into_iter()
        .map(|h| {
            let (href, what) = match h.entity.as_str() {
                "site" => (
                    format!("/sites/{}", h.id),
                    SiteKind::parse(&h.detail).map(|k| k.label()).unwrap_or(""),
                ),
                "person" => (format!("/people/{}", h.id), "Lực lượng"),
                _ => {
                    let unit = units.iter().find(|u| u.id == h.id);
                    let href = match unit {
                        Some(u) if u.kind().is_ward() => format!("/wards/{}", u.code),
                        Some(u) => match units.iter().find(|w| Some(w.id) == u.ward_id) {
                            Some(w) => format!("/wards/{}/groups", w.code),
                            None => "/units".into(),
                        },
                        None => "/units".into(),
                    };
                    (
                        href,
                        UnitKind::parse(&h.detail).map(|k| k.label()).unwrap_or(""),
                    )
                }
            };
            HitView {
                href,
                title: h.title,
                what,
            }
        })
        .collect();
    render(&SearchPage {
        page: Page::new(&caller, &uri),
        q: form.q,
        hits,
    })
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    page: Page,
    ward: Unit,
    entries: Vec<AuditEntry>,
}

impl HistoryPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
}

async fn history_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    caller.require()?;
    if !policy::can_see_history(caller.user(), ward.id) {
        return Err(AppError::Forbidden);
    }
    let entries = state.store.audit_trail(Some(ward.id), None, 300).await?;
    render(&HistoryPage {
        page: Page::new(&caller, &uri),
        ward,
        entries,
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wards/{code}", get(ward_page))
        .route("/wards/{code}/sites", get(sites_page))
        .route(
            "/wards/{code}/sites/new",
            get(new_site_form).post(new_site_submit),
        )
        .route("/wards/{code}/groups", get(groups_page))
        .route("/wards/{code}/history", get(history_page))
        .route("/sites/{id}", get(site_page))
        .route(
            "/sites/{id}/edit",
            get(edit_site_form).post(edit_site_submit),
        )
        .route("/sites/{id}/archive", post(archive_site_submit))
        .route("/units", get(units_page))
        .route("/units/new", get(new_unit_form).post(new_unit_submit))
        .route(
            "/units/{code}/edit",
            get(edit_unit_form).post(edit_unit_submit),
        )
        .route("/units/{code}/archive", post(archive_unit_submit))
        .route("/search", get(search_page))
}
