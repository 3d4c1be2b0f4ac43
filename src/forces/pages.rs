//! Forces pages: the ward's teams, partner forces and police; each team, force and person.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::api::{
    check_leader_limits, editable_person, group_names, keep_hidden_fields, parse_person_in,
    person_for, team_and_ward,
};
use super::service::{
    ForceForm, ForceRow, ForcesView, PersonForm, PersonView, TeamForm, TeamRow, forces_view,
    parse_force, parse_team,
};
use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::{ForceKind, PersonKind, TeamRole};
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::form::FieldView;
use crate::http::pages::{Page, form_page, render};
use crate::store::AuditEntry;
use crate::store::territory::Unit;
use crate::territory::service::{groups_of, require_edit, staffing_rule, ward_by_code};

async fn view_of(state: &AppState, caller: &Caller, ward: &Unit) -> Result<ForcesView, AppError> {
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let rule = staffing_rule(state.store.as_ref(), ward).await?;
    let internal = policy::can_see_internal(caller.user(), ward.id);
    forces_view(
        state.store.as_ref(),
        caller.user(),
        ward,
        &groups,
        rule,
        internal,
    )
    .await
}

pub async fn team_row(state: &AppState, caller: &Caller, id: i64) -> Result<TeamRow, AppError> {
    let (team, ward) = team_and_ward(state, id).await?;
    let view = view_of(state, caller, &ward).await?;
    // Archived teams are not in the overview; show their members from the store.
    match view.teams.into_iter().find(|t| t.id == team.id) {
        Some(t) => Ok(t),
        None if policy::can_see_internal(caller.user(), ward.id) => Ok(TeamRow {
            id: team.id,
            name: team.name,
            decision_no: team.decision_no,
            decision_date: team.decision_date,
            founded_on: team.founded_on,
            notes: team.notes,
            groups: Vec::new(),
            group_codes: Vec::new(),
            residents: 0,
            members: Vec::new(),
            required: None,
            understaffed: false,
            has_leader: false,
            archived: true,
        }),
        None => Err(AppError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "forces.html")]
struct ForcesPage {
    page: Page,
    ward: Unit,
    v: ForcesView,
    can_edit: bool,
}

impl ForcesPage {
    fn ward_code(&self) -> &str {
        &self.ward.code
    }
}

async fn forces_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let v = view_of(&state, &caller, &ward).await?;
    render(&ForcesPage {
        page: Page::new(&caller, &uri),
        can_edit: policy::can_edit_registry(caller.user(), ward.id),
        ward,
        v,
    })
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    page: Page,
    ward: Unit,
    t: TeamRow,
    can_edit: bool,
    history: Vec<AuditEntry>,
}

async fn team_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, ward) = team_and_ward(&state, id).await?;
    let t = team_row(&state, &caller, id).await?;
    let history = if policy::can_see_history(caller.user(), ward.id) {
        state
            .store
            .audit_trail(Some(ward.id), Some(("team", id)), 50)
            .await?
    } else {
        Vec::new()
    };
    render(&TeamPage {
        page: Page::new(&caller, &uri),
        can_edit: policy::can_edit_registry(caller.user(), ward.id),
        ward,
        t,
        history,
    })
}

fn team_fields(form: &TeamForm, groups: &[Unit]) -> Vec<FieldView> {
    let codes: Vec<&str> = groups.iter().map(|g| g.code.as_str()).collect();
    let _ = codes;
    vec![
        FieldView::new("name", "Tên tổ", "text", &form.name)
            .required()
            .hint("Ví dụ: Tổ bảo vệ ANTT TDP số 1."),
        FieldView::new("groups", "Tổ dân phố phụ trách (mã)", "text", &form.groups)
            .required()
            .hint("Mã các tổ dân phố, cách nhau bởi dấu phẩy; xem trang Các tổ dân phố."),
        FieldView::new(
            "decision_no",
            "Số quyết định thành lập",
            "text",
            &form.decision_no,
        ),
        FieldView::new(
            "decision_date",
            "Ngày quyết định",
            "date",
            &form.decision_date,
        ),
        FieldView::new("founded_on", "Ngày ra mắt", "date", &form.founded_on),
        FieldView::new("notes", "Ghi chú", "textarea", &form.notes),
    ]
}

/// HTML date inputs send yyyy-mm-dd; show stored dates the same way in them.
fn iso(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

async fn new_team_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let fields = team_fields(&TeamForm::default(), &groups);
    form_page(
        &caller,
        &uri,
        "Thành lập tổ bảo vệ ANTT",
        ward.name,
        format!("/wards/{}/forces", ward.code),
        fields,
        None,
    )
}

async fn new_team_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let result = match parse_team(&form, &ward, &groups) {
        Ok(input) => state
            .store
            .create_team(caller.actor(), input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/teams/{}", t.id)).into_response()),
        Err(e) => {
            let back = format!("/wards/{}/forces", ward.code);
            form_page(
                &caller,
                &uri,
                "Thành lập tổ bảo vệ ANTT",
                ward.name,
                back,
                team_fields(&form, &groups),
                Some(e),
            )
        }
    }
}

async fn edit_team_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (team, ward) = team_and_ward(&state, id).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let tg = state.store.team_groups(ward.id).await?;
    let codes: Vec<String> = tg
        .iter()
        .filter(|x| x.team_id == id)
        .filter_map(|x| {
            groups
                .iter()
                .find(|g| g.id == x.group_id)
                .map(|g| g.code.clone())
        })
        .collect();
    let form = TeamForm {
        name: team.name.clone(),
        decision_no: team.decision_no,
        decision_date: iso(team.decision_date),
        founded_on: iso(team.founded_on),
        groups: codes.join(", "),
        notes: team.notes,
        csrf: String::new(),
    };
    form_page(
        &caller,
        &uri,
        "Sửa tổ bảo vệ ANTT",
        team.name,
        format!("/teams/{id}"),
        team_fields(&form, &groups),
        None,
    )
}

async fn edit_team_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let (team, ward) = team_and_ward(&state, id).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let result = match parse_team(&form, &ward, &groups) {
        Ok(input) => state
            .store
            .update_team(caller.actor(), id, input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/teams/{id}")).into_response()),
        Err(e) => form_page(
            &caller,
            &uri,
            "Sửa tổ bảo vệ ANTT",
            team.name,
            format!("/teams/{id}"),
            team_fields(&form, &groups),
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

async fn archive_team_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<ArchiveForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let (_, ward) = team_and_ward(&state, id).await?;
    require_edit(&caller, ward.id)?;
    state
        .store
        .set_team_archived(caller.actor(), id, form.archived != "false")
        .await?;
    Ok(Redirect::to(&format!("/wards/{}/forces", ward.code)).into_response())
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    page: Page,
    ward: Unit,
    p: PersonView,
    team: Option<(i64, String)>,
    force: Option<(i64, String)>,
    archived: bool,
    can_archive: bool,
    history: Vec<AuditEntry>,
}

impl PersonPage {
    fn kind_label(&self) -> &'static str {
        PersonKind::parse(&self.p.kind)
            .map(|k| k.label())
            .unwrap_or("")
    }
}

async fn person_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (person, p) = person_for(&state, &caller, id).await?;
    let ward = state
        .store
        .unit(person.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let team = match person.team_id {
        Some(t) => state.store.team(t).await?.map(|t| (t.id, t.name)),
        None => None,
    };
    let force = match person.force_id {
        Some(f) => state.store.force(f).await?.map(|f| (f.id, f.name)),
        None => None,
    };
    let history = if policy::can_see_history(caller.user(), ward.id) {
        state
            .store
            .audit_trail(Some(ward.id), Some(("person", id)), 50)
            .await?
    } else {
        Vec::new()
    };
    render(&PersonPage {
        page: Page::new(&caller, &uri),
        can_archive: policy::can_edit_registry(caller.user(), ward.id),
        archived: person.archived_at.is_some(),
        ward,
        p,
        team,
        force,
        history,
    })
}

async fn person_fields(
    state: &AppState,
    ward: &Unit,
    form: &PersonForm,
) -> Result<Vec<FieldView>, AppError> {
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let teams = state.store.teams(ward.id, false).await?;
    let forces = state.store.forces(ward.id).await?;
    let none = || (String::new(), "—".to_string());
    let mut team_opts = vec![none()];
    team_opts.extend(teams.iter().map(|t| (t.id.to_string(), t.name.clone())));
    let mut force_opts = vec![none()];
    force_opts.extend(forces.iter().map(|f| (f.id.to_string(), f.name.clone())));
    let mut group_opts = vec![none()];
    group_opts.extend(groups.iter().map(|g| (g.code.clone(), g.name.clone())));
    let kinds = PersonKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let roles = TeamRole::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect();
    // Date inputs want yyyy-mm-dd; forms carry dd/mm/yyyy, so convert what parses.
    let as_iso = |s: &str| {
        crate::domain::parse_date(s)
            .ok()
            .flatten()
            .map(|d| iso(Some(d)))
            .unwrap_or_else(|| s.to_string())
    };
    Ok(vec![
        FieldView::new("kind", "Lực lượng", "select", &form.kind)
            .required()
            .options(kinds),
        FieldView::new("full_name", "Họ và tên", "text", &form.full_name).required(),
        FieldView::new("team", "Tổ bảo vệ ANTT", "select", &form.team).options(team_opts),
        FieldView::new("team_role", "Chức danh", "select", &form.team_role).options(roles),
        FieldView::new("force", "Lực lượng phối hợp", "select", &form.force).options(force_opts),
        FieldView::new("phone", "Số điện thoại", "text", &form.phone),
        FieldView::new("birth_date", "Ngày sinh", "date", as_iso(&form.birth_date)),
        FieldView::new("citizen_id", "Số CCCD", "text", &form.citizen_id)
            .hint("12 chữ số; chỉ cán bộ Công an phường xem được."),
        FieldView::new("address", "Địa chỉ", "text", &form.address),
        FieldView::new("group", "Tổ dân phố nơi cư trú", "select", &form.group).options(group_opts),
        FieldView::new("rank_title", "Cấp bậc, chức vụ", "text", &form.rank_title),
        FieldView::new("training", "Tập huấn", "textarea", &form.training),
        FieldView::new(
            "equipment",
            "Trang bị được cấp",
            "textarea",
            &form.equipment,
        ),
        FieldView::new(
            "joined_on",
            "Ngày tham gia",
            "date",
            as_iso(&form.joined_on),
        ),
        FieldView::new("notes", "Ghi chú", "textarea", &form.notes),
    ])
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPersonQuery {
    team: String,
    force: String,
    kind: String,
}

async fn new_person_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<NewPersonQuery>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let kind = if !q.kind.is_empty() {
        q.kind
    } else if !q.force.is_empty() {
        "volunteer".into()
    } else {
        "team_member".into()
    };
    let form = PersonForm {
        kind,
        team: q.team,
        force: q.force,
        team_role: "member".into(),
        ..Default::default()
    };
    let fields = person_fields(&state, &ward, &form).await?;
    form_page(
        &caller,
        &uri,
        "Thêm người vào lực lượng",
        ward.name,
        format!("/wards/{}/forces", ward.code),
        fields,
        None,
    )
}

async fn new_person_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let result = match parse_person_in(&state, &ward, &form).await {
        Ok(input) => state
            .store
            .create_person(caller.actor(), input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/people/{}", p.id)).into_response()),
        Err(e) => {
            let fields = person_fields(&state, &ward, &form).await?;
            let back = format!("/wards/{}/forces", ward.code);
            form_page(
                &caller,
                &uri,
                "Thêm người vào lực lượng",
                ward.name,
                back,
                fields,
                Some(e),
            )
        }
    }
}

async fn edit_person_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let person = editable_person(&state, &caller, id).await?;
    let ward = state
        .store
        .unit(person.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let groups = group_names(&state, ward.id).await?;
    let _ = groups;
    let group_code = match person.group_id {
        Some(g) => state
            .store
            .unit(g)
            .await?
            .map(|u| u.code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut form = PersonForm::from_person(&person, group_code);
    // Only officers see (and so edit) citizen IDs; a team leader's form keeps the stored one.
    if !policy::can_edit_registry(caller.user(), ward.id) {
        form.citizen_id.clear();
    }
    let mut fields = person_fields(&state, &ward, &form).await?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        fields.retain(|f| {
            !matches!(
                f.name,
                "citizen_id" | "birth_date" | "kind" | "team" | "team_role" | "force"
            )
        });
    }
    form_page(
        &caller,
        &uri,
        "Sửa hồ sơ",
        person.full_name,
        format!("/people/{id}"),
        fields,
        None,
    )
}

async fn edit_person_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(mut form): Form<PersonForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let person = editable_person(&state, &caller, id).await?;
    let ward = state
        .store
        .unit(person.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let officer = policy::can_edit_registry(caller.user(), ward.id);
    if !officer {
        keep_hidden_fields(&mut form, &person);
    }
    let result = match parse_person_in(&state, &ward, &form).await {
        Ok(input) => match check_leader_limits(&caller, &person, &input) {
            Ok(()) => state
                .store
                .update_person(caller.actor(), id, input)
                .await
                .map_err(AppError::from),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(e) => {
            let mut fields = person_fields(&state, &ward, &form).await?;
            if !officer {
                fields.retain(|f| {
                    !matches!(
                        f.name,
                        "citizen_id" | "birth_date" | "kind" | "team" | "team_role" | "force"
                    )
                });
            }
            form_page(
                &caller,
                &uri,
                "Sửa hồ sơ",
                person.full_name,
                format!("/people/{id}"),
                fields,
                Some(e),
            )
        }
    }
}

async fn archive_person_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<ArchiveForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let person = state.store.person(id).await?.ok_or(AppError::NotFound)?;
    require_edit(&caller, person.ward_id)?;
    state
        .store
        .set_person_archived(caller.actor(), id, form.archived != "false")
        .await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "force.html")]
struct ForcePage {
    page: Page,
    ward: Unit,
    f: ForceRow,
    can_edit: bool,
}

impl ForcePage {
    fn kind_label(&self) -> &'static str {
        ForceKind::parse(&self.f.kind)
            .map(|k| k.label())
            .unwrap_or("")
    }
}

async fn force_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let force = state.store.force(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(force.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let v = view_of(&state, &caller, &ward).await?;
    let f = v
        .partner_forces
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(AppError::NotFound)?;
    render(&ForcePage {
        page: Page::new(&caller, &uri),
        can_edit: policy::can_edit_registry(caller.user(), ward.id),
        ward,
        f,
    })
}

fn force_fields(form: &ForceForm) -> Vec<FieldView> {
    let kinds = ForceKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    vec![
        FieldView::new("kind", "Loại lực lượng", "select", &form.kind)
            .required()
            .options(kinds),
        FieldView::new("name", "Tên", "text", &form.name).required(),
        FieldView::new("founded_on", "Ngày ra mắt", "date", &form.founded_on),
        FieldView::new("notes", "Ghi chú", "textarea", &form.notes),
    ]
}

async fn new_force_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let form = ForceForm {
        kind: "veterans".into(),
        ..Default::default()
    };
    form_page(
        &caller,
        &uri,
        "Thêm lực lượng phối hợp",
        ward.name,
        format!("/wards/{}/forces", ward.code),
        force_fields(&form),
        None,
    )
}

async fn new_force_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(code): Path<String>,
    Form(form): Form<ForceForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let result = match parse_force(&form, &ward) {
        Ok(input) => state
            .store
            .create_force(caller.actor(), input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(f) => Ok(Redirect::to(&format!("/forces/{}", f.id)).into_response()),
        Err(e) => {
            let back = format!("/wards/{}/forces", ward.code);
            form_page(
                &caller,
                &uri,
                "Thêm lực lượng phối hợp",
                ward.name,
                back,
                force_fields(&form),
                Some(e),
            )
        }
    }
}

async fn editable_force(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(crate::store::forces::PartnerForce, Unit), AppError> {
    let force = state.store.force(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(force.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_edit(caller, ward.id)?;
    Ok((force, ward))
}

async fn edit_force_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (force, _) = editable_force(&state, &caller, id).await?;
    let form = ForceForm {
        kind: force.kind.clone(),
        name: force.name.clone(),
        founded_on: iso(force.founded_on),
        notes: force.notes.clone(),
        csrf: String::new(),
    };
    let back = format!("/forces/{id}");
    form_page(
        &caller,
        &uri,
        "Sửa lực lượng phối hợp",
        force.name,
        back,
        force_fields(&form),
        None,
    )
}

async fn edit_force_submit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<i64>,
    Form(form): Form<ForceForm>,
) -> Result<Response, AppError> {
    caller.check_csrf(&form.csrf)?;
    let (force, ward) = editable_force(&state, &caller, id).await?;
    let result = match parse_force(&form, &ward) {
        Ok(input) => state
            .store
            .update_force(caller.actor(), id, input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/forces/{id}")).into_response()),
        Err(e) => {
            let back = format!("/forces/{id}");
            form_page(
                &caller,
                &uri,
                "Sửa lực lượng phối hợp",
                force.name,
                back,
                force_fields(&form),
                Some(e),
            )
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wards/{code}/forces", get(forces_page))
        .route(
            "/wards/{code}/forces/new",
            get(new_force_form).post(new_force_submit),
        )
        .route(
            "/wards/{code}/teams/new",
            get(new_team_form).post(new_team_submit),
        )
        .route(
            "/wards/{code}/people/new",
            get(new_person_form).post(new_person_submit),
        )
        .route(
            "/forces/{id}/edit",
            get(edit_force_form).post(edit_force_submit),
        )
        .route("/teams/{id}", get(team_page))
        .route(
            "/teams/{id}/edit",
            get(edit_team_form).post(edit_team_submit),
        )
        .route("/teams/{id}/archive", post(archive_team_submit))
        .route("/people/{id}", get(person_page))
        .route(
            "/people/{id}/edit",
            get(edit_person_form).post(edit_person_submit),
        )
        .route("/people/{id}/archive", post(archive_person_submit))
        .route("/forces/{id}", get(force_page))
}
