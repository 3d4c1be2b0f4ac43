//! Forces endpoints of the JSON API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::service::{
    ForceForm, PersonForm, PersonView, TeamForm, TeamRow, parse_force, parse_person, parse_team,
    today,
};
use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::PersonKind;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::store::forces::{PartnerForce, PeopleFilter, Person, Team};
use crate::store::territory::Unit;
use crate::territory::service::{groups_of, require_edit, staffing_rule, ward_by_code};

/// The ward's teams with their members, as the caller may see them.
#[utoipa::path(get, path = "/api/v1/wards/{code}/teams", tag = "forces", params(("code" = String, Path)),
    responses((status = 200, body = Vec<TeamRow>)))]
pub async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Vec<TeamRow>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let rule = staffing_rule(state.store.as_ref(), &ward).await?;
    let internal = policy::can_see_internal(caller.user(), ward.id);
    let view = super::service::forces_view(
        state.store.as_ref(),
        caller.user(),
        &ward,
        &groups,
        rule,
        internal,
    )
    .await?;
    Ok(Json(view.teams))
}

/// Establish a security team for one or more residential groups.
#[utoipa::path(post, path = "/api/v1/wards/{code}/teams", tag = "forces", params(("code" = String, Path)),
    request_body = TeamForm, responses((status = 201, body = Object), (status = 403), (status = 409), (status = 422)))]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<TeamForm>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let input = parse_team(&form, &ward, &groups)?;
    let team = state.store.create_team(caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(team)).into_response())
}

pub async fn team_and_ward(state: &AppState, id: i64) -> Result<(Team, Unit), AppError> {
    let team = state.store.team(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(team.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((team, ward))
}

/// One team with its members.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "forces", params(("id" = i64, Path)),
    responses((status = 200, body = TeamRow), (status = 404)))]
pub async fn get_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TeamRow>, AppError> {
    Ok(Json(super::pages::team_row(&state, &caller, id).await?))
}

/// Replace a team's fields and the groups it covers.
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "forces", params(("id" = i64, Path)),
    request_body = TeamForm, responses((status = 200, body = Object), (status = 403), (status = 422)))]
pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<TeamForm>,
) -> Result<Json<Team>, AppError> {
    let (_, ward) = team_and_ward(&state, id).await?;
    require_edit(&caller, ward.id)?;
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let input = parse_team(&form, &ward, &groups)?;
    Ok(Json(
        state.store.update_team(caller.actor(), id, input).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ArchiveBody {
    #[serde(default = "yes")]
    archived: bool,
}

fn yes() -> bool {
    true
}

/// Dissolve (archive) or restore a team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/archive", tag = "forces", params(("id" = i64, Path)),
    request_body = ArchiveBody, responses((status = 204), (status = 403)))]
pub async fn archive_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ArchiveBody>,
) -> Result<StatusCode, AppError> {
    let (_, ward) = team_and_ward(&state, id).await?;
    require_edit(&caller, ward.id)?;
    state
        .store
        .set_team_archived(caller.actor(), id, body.archived)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct PeopleQuery {
    /// team_member, volunteer or officer
    kind: String,
    /// Team id
    team: Option<i64>,
    /// Search text (diacritics ignored)
    q: String,
}

/// The people of a ward's forces, each shown as far as the caller may see.
#[utoipa::path(get, path = "/api/v1/wards/{code}/people", tag = "forces", params(("code" = String, Path), PeopleQuery),
    responses((status = 200, body = Vec<PersonView>)))]
pub async fn list_people(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<PeopleQuery>,
) -> Result<Json<Vec<PersonView>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    let kind = if q.kind.is_empty() {
        None
    } else {
        Some(PersonKind::parse(&q.kind).map_err(|e| AppError::field("kind", e))?)
    };
    let internal = policy::can_see_internal(caller.user(), ward.id);
    if kind == Some(PersonKind::Officer) && !internal {
        return Err(if caller.user().is_some() {
            AppError::Forbidden
        } else {
            AppError::Unauthorized
        });
    }
    let filter = PeopleFilter {
        kind,
        team_id: q.team,
        terms: crate::territory::api::search_terms(&q.q),
        ..Default::default()
    };
    let people = state.store.people(ward.id, &filter).await?;
    let tg = state.store.team_groups(ward.id).await?;
    let groups = group_names(&state, ward.id).await?;
    Ok(Json(
        people
            .iter()
            .filter(|p| internal || p.kind() != PersonKind::Officer)
            .map(|p| PersonView::new(p, caller.user(), &tg, &groups))
            .collect(),
    ))
}

pub async fn group_names(
    state: &AppState,
    ward_id: i64,
) -> Result<super::service::GroupNames, AppError> {
    Ok(super::service::names_of(
        &groups_of(state.store.as_ref(), ward_id).await?,
    ))
}

/// Parse a person form with everything of the ward it refers to.
pub async fn parse_person_in(
    state: &AppState,
    ward: &Unit,
    form: &PersonForm,
) -> Result<crate::store::forces::PersonInput, AppError> {
    let groups = groups_of(state.store.as_ref(), ward.id).await?;
    let teams = state.store.teams(ward.id, false).await?;
    let forces = state.store.forces(ward.id).await?;
    parse_person(form, ward, &groups, &teams, &forces, today())
}

/// Add a person to the ward's forces (officers of the ward).
#[utoipa::path(post, path = "/api/v1/wards/{code}/people", tag = "forces", params(("code" = String, Path)),
    request_body = PersonForm, responses((status = 201, body = PersonView), (status = 403), (status = 409), (status = 422)))]
pub async fn create_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<PersonForm>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let input = parse_person_in(&state, &ward, &form).await?;
    let person = state.store.create_person(caller.actor(), input).await?;
    let tg = state.store.team_groups(ward.id).await?;
    let view = PersonView::new(
        &person,
        caller.user(),
        &tg,
        &group_names(&state, ward.id).await?,
    );
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A person, and the caller's view of them; viewing personal data is audited.
pub async fn person_for(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Person, PersonView), AppError> {
    let person = state.store.person(id).await?.ok_or(AppError::NotFound)?;
    let internal = policy::can_see_internal(caller.user(), person.ward_id);
    if person.kind() == PersonKind::Officer && !internal {
        return Err(AppError::NotFound);
    }
    let tg = state.store.team_groups(person.ward_id).await?;
    let view = PersonView::new(
        &person,
        caller.user(),
        &tg,
        &group_names(state, person.ward_id).await?,
    );
    if view.citizen_id.is_some() && caller.user().is_some_and(|u| u.person_id != Some(id)) {
        state
            .store
            .record_view(
                caller.actor(),
                person.ward_id,
                "person",
                id,
                "citizen_id, birth_date",
            )
            .await?;
    }
    Ok((person, view))
}

/// One person of the forces.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "forces", params(("id" = i64, Path)),
    responses((status = 200, body = PersonView), (status = 404)))]
pub async fn get_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PersonView>, AppError> {
    Ok(Json(person_for(&state, &caller, id).await?.1))
}

/// Replace a person's fields (officers; a team leader for their own team's members).
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "forces", params(("id" = i64, Path)),
    request_body = PersonForm, responses((status = 200, body = PersonView), (status = 403), (status = 422)))]
pub async fn update_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(mut form): Json<PersonForm>,
) -> Result<Json<PersonView>, AppError> {
    let person = editable_person(&state, &caller, id).await?;
    let ward = state
        .store
        .unit(person.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !policy::can_edit_registry(caller.user(), ward.id) {
        keep_hidden_fields(&mut form, &person);
    }
    let input = parse_person_in(&state, &ward, &form).await?;
    check_leader_limits(&caller, &person, &input)?;
    let updated = state.store.update_person(caller.actor(), id, input).await?;
    let tg = state.store.team_groups(ward.id).await?;
    Ok(Json(PersonView::new(
        &updated,
        caller.user(),
        &tg,
        &group_names(&state, ward.id).await?,
    )))
}

pub async fn editable_person(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Person, AppError> {
    caller.require()?;
    let person = state.store.person(id).await?.ok_or(AppError::NotFound)?;
    let tg = state.store.team_groups(person.ward_id).await?;
    if policy::can_edit_person(caller.user(), &person, &tg) {
        Ok(person)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A team leader is never shown a member's citizen ID or date of birth, nor may move them:
/// what their form leaves empty of these keeps its stored value (an explicit change is
/// then refused by `check_leader_limits`).
pub fn keep_hidden_fields(form: &mut PersonForm, person: &Person) {
    let stored = PersonForm::from_person(person, String::new());
    let fill = |field: &mut String, stored: String| {
        if field.trim().is_empty() {
            *field = stored;
        }
    };
    fill(&mut form.kind, stored.kind);
    fill(&mut form.team, stored.team);
    fill(&mut form.team_role, stored.team_role);
    fill(&mut form.force, stored.force);
    fill(&mut form.citizen_id, stored.citizen_id);
    fill(&mut form.birth_date, stored.birth_date);
}

/// A team leader keeps profiles but may not move people between teams or change roles.
pub fn check_leader_limits(
    caller: &Caller,
    before: &Person,
    after: &crate::store::forces::PersonInput,
) -> Result<(), AppError> {
    if policy::can_edit_registry(caller.user(), before.ward_id) {
        return Ok(());
    }
    let same = after.team_id == before.team_id
        && after.kind == before.kind()
        && after.team_role == before.team_role()
        && after.citizen_id.as_ref().map(|c| c.as_str()) == before.citizen_id.as_deref();
    if same {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "Tổ trưởng chỉ cập nhật hồ sơ; đổi tổ, chức danh hoặc số CCCD do cán bộ Công an phường thực hiện.",
        ))
    }
}

/// Archive (or restore) a person: they leave the force, their record stays.
#[utoipa::path(post, path = "/api/v1/people/{id}/archive", tag = "forces", params(("id" = i64, Path)),
    request_body = ArchiveBody, responses((status = 204), (status = 403)))]
pub async fn archive_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ArchiveBody>,
) -> Result<StatusCode, AppError> {
    let person = state.store.person(id).await?.ok_or(AppError::NotFound)?;
    require_edit(&caller, person.ward_id)?;
    state
        .store
        .set_person_archived(caller.actor(), id, body.archived)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ward's partner forces (veterans' association, militia, youth union…).
#[utoipa::path(get, path = "/api/v1/wards/{code}/forces", tag = "forces", params(("code" = String, Path)),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_forces(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Vec<PartnerForce>>, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    Ok(Json(state.store.forces(ward.id).await?))
}

/// Register a partner force.
#[utoipa::path(post, path = "/api/v1/wards/{code}/forces", tag = "forces", params(("code" = String, Path)),
    request_body = ForceForm, responses((status = 201, body = Object), (status = 403), (status = 409), (status = 422)))]
pub async fn create_force(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<ForceForm>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &code).await?;
    require_edit(&caller, ward.id)?;
    let input = parse_force(&form, &ward)?;
    let force = state.store.create_force(caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(force)).into_response())
}

/// Replace a partner force's fields.
#[utoipa::path(put, path = "/api/v1/forces/{id}", tag = "forces", params(("id" = i64, Path)),
    request_body = ForceForm, responses((status = 200, body = Object), (status = 403), (status = 422)))]
pub async fn update_force(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<ForceForm>,
) -> Result<Json<PartnerForce>, AppError> {
    let force = state.store.force(id).await?.ok_or(AppError::NotFound)?;
    let ward = state
        .store
        .unit(force.ward_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_edit(&caller, ward.id)?;
    let input = parse_force(&form, &ward)?;
    Ok(Json(
        state.store.update_force(caller.actor(), id, input).await?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/wards/{code}/teams",
            get(list_teams).post(create_team),
        )
        .route("/api/v1/teams/{id}", get(get_team).put(update_team))
        .route("/api/v1/teams/{id}/archive", post(archive_team))
        .route(
            "/api/v1/wards/{code}/people",
            get(list_people).post(create_person),
        )
        .route("/api/v1/people/{id}", get(get_person).put(update_person))
        .route("/api/v1/people/{id}/archive", post(archive_person))
        .route(
            "/api/v1/wards/{code}/forces",
            get(list_forces).post(create_force),
        )
}
