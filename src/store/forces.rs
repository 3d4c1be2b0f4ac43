//! Security teams, partner forces and the people who serve in them.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Actor, StoreResult};
use crate::domain::{CitizenId, ForceKind, Name, PersonKind, Phone, TeamRole};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Team {
    pub id: i64,
    pub ward_id: i64,
    pub name: String,
    pub decision_no: String,
    pub decision_date: Option<NaiveDate>,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamInput {
    pub ward_id: i64,
    pub name: Name,
    pub decision_no: String,
    pub decision_date: Option<NaiveDate>,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
    /// The residential groups the team covers.
    pub group_ids: Vec<i64>,
}

#[derive(Debug, Clone, Copy, sqlx::FromRow, Serialize)]
pub struct TeamGroup {
    pub team_id: i64,
    pub group_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct PartnerForce {
    pub id: i64,
    pub ward_id: i64,
    pub kind: String,
    pub name: String,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForceInput {
    pub ward_id: i64,
    pub kind: ForceKind,
    pub name: Name,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Person {
    pub id: i64,
    pub ward_id: i64,
    pub kind: String,
    pub team_id: Option<i64>,
    pub team_role: Option<String>,
    pub force_id: Option<i64>,
    pub full_name: String,
    #[serde(skip)]
    pub search_folded: String,
    pub phone: String,
    pub birth_date: Option<NaiveDate>,
    pub citizen_id: Option<String>,
    pub address: String,
    pub group_id: Option<i64>,
    pub rank_title: String,
    pub training: String,
    pub equipment: String,
    pub joined_on: Option<NaiveDate>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Person {
    pub fn kind(&self) -> PersonKind {
        PersonKind::parse(&self.kind).unwrap_or(PersonKind::Volunteer)
    }
    pub fn team_role(&self) -> Option<TeamRole> {
        self.team_role
            .as_deref()
            .and_then(|r| TeamRole::parse(r).ok())
    }
}

/// A person of the forces; where they serve is fixed by `kind` (team, force or police).
#[derive(Debug, Clone, Serialize)]
pub struct PersonInput {
    pub ward_id: i64,
    pub kind: PersonKind,
    pub team_id: Option<i64>,
    pub team_role: Option<TeamRole>,
    pub force_id: Option<i64>,
    pub full_name: Name,
    pub phone: Option<Phone>,
    pub birth_date: Option<NaiveDate>,
    pub citizen_id: Option<CitizenId>,
    pub address: String,
    pub group_id: Option<i64>,
    pub rank_title: String,
    pub training: String,
    pub equipment: String,
    pub joined_on: Option<NaiveDate>,
    pub notes: String,
}

#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    pub kind: Option<PersonKind>,
    pub team_id: Option<i64>,
    pub force_id: Option<i64>,
    pub terms: Vec<String>,
    pub include_archived: bool,
}

#[async_trait]
pub trait ForcesStore: Send + Sync {
    async fn create_team(&self, actor: Actor, input: TeamInput) -> StoreResult<Team>;
    async fn update_team(&self, actor: Actor, id: i64, input: TeamInput) -> StoreResult<Team>;
    async fn set_team_archived(&self, actor: Actor, id: i64, archived: bool) -> StoreResult<()>;
    async fn team(&self, id: i64) -> StoreResult<Option<Team>>;
    async fn teams(&self, ward_id: i64, include_archived: bool) -> StoreResult<Vec<Team>>;
    async fn team_groups(&self, ward_id: i64) -> StoreResult<Vec<TeamGroup>>;

    async fn create_force(&self, actor: Actor, input: ForceInput) -> StoreResult<PartnerForce>;
    async fn update_force(
        &self,
        actor: Actor,
        id: i64,
        input: ForceInput,
    ) -> StoreResult<PartnerForce>;
    async fn force(&self, id: i64) -> StoreResult<Option<PartnerForce>>;
    async fn forces(&self, ward_id: i64) -> StoreResult<Vec<PartnerForce>>;

    async fn create_person(&self, actor: Actor, input: PersonInput) -> StoreResult<Person>;
    async fn update_person(&self, actor: Actor, id: i64, input: PersonInput)
    -> StoreResult<Person>;
    async fn set_person_archived(&self, actor: Actor, id: i64, archived: bool) -> StoreResult<()>;
    async fn person(&self, id: i64) -> StoreResult<Option<Person>>;
    async fn people(&self, ward_id: i64, filter: &PeopleFilter) -> StoreResult<Vec<Person>>;
}

macro_rules! impl_forces_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn write_team_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                id: Option<i64>,
                input: &$crate::store::forces::TeamInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Team> {
                use $crate::store::StoreError;
                let q = match id {
                    None => sqlx::query_as::<_, $crate::store::forces::Team>(
                        "INSERT INTO teams (ward_id, name, decision_no, decision_date, founded_on, \
                         notes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                         RETURNING *",
                    ),
                    Some(_) => sqlx::query_as::<_, $crate::store::forces::Team>(
                        "UPDATE teams SET ward_id = $1, name = $2, decision_no = $3, \
                         decision_date = $4, founded_on = $5, notes = $6, updated_at = $7 \
                         WHERE id = $8 AND ward_id = $1 RETURNING *",
                    ),
                };
                let q = q
                    .bind(input.ward_id)
                    .bind(input.name.as_str())
                    .bind(&input.decision_no)
                    .bind(input.decision_date)
                    .bind(input.founded_on)
                    .bind(&input.notes)
                    .bind(chrono::Utc::now());
                let q = match id {
                    Some(id) => q.bind(id),
                    None => q,
                };
                let team = q
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                sqlx::query("DELETE FROM team_groups WHERE team_id = $1")
                    .bind(team.id)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                // A dissolved (archived) team no longer covers its groups.
                for group in &input.group_ids {
                    sqlx::query(
                        "DELETE FROM team_groups WHERE group_id = $1 AND team_id IN \
                         (SELECT id FROM teams WHERE archived_at IS NOT NULL)",
                    )
                    .bind(group)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                }
                for group in &input.group_ids {
                    // Only grassroots units of the same ward can be covered.
                    let ok: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM units WHERE id = $1 AND ward_id = $2 \
                         AND kind IN ('group', 'village')",
                    )
                    .bind(group)
                    .bind(input.ward_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    if ok.is_none() {
                        return Err(StoreError::Reference);
                    }
                    sqlx::query("INSERT INTO team_groups (team_id, group_id) VALUES ($1, $2)")
                        .bind(team.id)
                        .bind(group)
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                }
                let action = if id.is_some() { "update" } else { "create" };
                Self::audit_tx(
                    tx,
                    actor,
                    Some(team.ward_id),
                    "team",
                    Some(team.id),
                    action,
                    serde_json::to_string(input).unwrap_or_default(),
                )
                .await?;
                Ok(team)
            }

            async fn write_force_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                id: Option<i64>,
                input: &$crate::store::forces::ForceInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::PartnerForce> {
                use $crate::store::StoreError;
                let q = match id {
                    None => sqlx::query_as::<_, $crate::store::forces::PartnerForce>(
                        "INSERT INTO partner_forces (ward_id, kind, name, founded_on, notes, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *",
                    ),
                    Some(_) => sqlx::query_as::<_, $crate::store::forces::PartnerForce>(
                        "UPDATE partner_forces SET ward_id = $1, kind = $2, name = $3, \
                         founded_on = $4, notes = $5, updated_at = $6 WHERE id = $7 \
                         AND ward_id = $1 RETURNING *",
                    ),
                };
                let q = q
                    .bind(input.ward_id)
                    .bind(input.kind.as_str())
                    .bind(input.name.as_str())
                    .bind(input.founded_on)
                    .bind(&input.notes)
                    .bind(chrono::Utc::now());
                let q = match id {
                    Some(id) => q.bind(id),
                    None => q,
                };
                let force = q
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                let action = if id.is_some() { "update" } else { "create" };
                Self::audit_tx(
                    tx,
                    actor,
                    Some(force.ward_id),
                    "force",
                    Some(force.id),
                    action,
                    serde_json::to_string(input).unwrap_or_default(),
                )
                .await?;
                Ok(force)
            }

            async fn write_person_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                id: Option<i64>,
                input: &$crate::store::forces::PersonInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Person> {
                use $crate::store::StoreError;
                let folded = $crate::text::fold(&format!(
                    "{} {} {}",
                    input.full_name.as_str(),
                    input.phone.as_ref().map(|p| p.as_str()).unwrap_or_default(),
                    input.rank_title
                ));
                let q = match id {
                    None => sqlx::query_as::<_, $crate::store::forces::Person>(
                        "INSERT INTO people (ward_id, kind, team_id, team_role, force_id, \
                         full_name, search_folded, phone, birth_date, citizen_id, address, \
                         group_id, rank_title, training, equipment, joined_on, notes, created_at, \
                         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                         $13, $14, $15, $16, $17, $18, $18) RETURNING *",
                    ),
                    Some(_) => sqlx::query_as::<_, $crate::store::forces::Person>(
                        "UPDATE people SET ward_id = $1, kind = $2, team_id = $3, team_role = $4, \
                         force_id = $5, full_name = $6, search_folded = $7, phone = $8, \
                         birth_date = $9, citizen_id = $10, address = $11, group_id = $12, \
                         rank_title = $13, training = $14, equipment = $15, joined_on = $16, \
                         notes = $17, updated_at = $18 WHERE id = $19 AND ward_id = $1 \
                         RETURNING *",
                    ),
                };
                let q = q
                    .bind(input.ward_id)
                    .bind(input.kind.as_str())
                    .bind(input.team_id)
                    .bind(input.team_role.map(|r| r.as_str()))
                    .bind(input.force_id)
                    .bind(input.full_name.as_str())
                    .bind(folded)
                    .bind(input.phone.as_ref().map(|p| p.as_str()).unwrap_or_default())
                    .bind(input.birth_date)
                    .bind(input.citizen_id.as_ref().map(|c| c.as_str()))
                    .bind(&input.address)
                    .bind(input.group_id)
                    .bind(&input.rank_title)
                    .bind(&input.training)
                    .bind(&input.equipment)
                    .bind(input.joined_on)
                    .bind(&input.notes)
                    .bind(chrono::Utc::now());
                let q = match id {
                    Some(id) => q.bind(id),
                    None => q,
                };
                let person = q
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                // The citizen ID is personal data: the audit keeps that it changed, not its value.
                let mut detail = serde_json::to_value(input).unwrap_or_default();
                if let Some(obj) = detail.as_object_mut() {
                    for key in ["citizen_id", "birth_date", "phone"] {
                        if obj.get(key).is_some_and(|v| !v.is_null()) {
                            obj.insert(key.into(), serde_json::Value::String("***".into()));
                        }
                    }
                }
                let action = if id.is_some() { "update" } else { "create" };
                Self::audit_tx(
                    tx,
                    actor,
                    Some(person.ward_id),
                    "person",
                    Some(person.id),
                    action,
                    detail.to_string(),
                )
                .await?;
                Ok(person)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::forces::ForcesStore for $store {
            async fn create_team(
                &self,
                actor: $crate::store::Actor,
                input: $crate::store::forces::TeamInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Team> {
                $crate::store::in_tx!(self, tx => Self::write_team_tx(&mut tx, actor, None, &input).await?)
            }

            async fn update_team(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                input: $crate::store::forces::TeamInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Team> {
                $crate::store::in_tx!(self, tx => Self::write_team_tx(&mut tx, actor, Some(id), &input).await?)
            }

            async fn set_team_archived(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                archived: bool,
            ) -> $crate::store::StoreResult<()> {
                self.set_archived_tx(actor, "teams", id, archived).await
            }

            async fn team(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::forces::Team>> {
                sqlx::query_as("SELECT * FROM teams WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn teams(
                &self,
                ward_id: i64,
                include_archived: bool,
            ) -> $crate::store::StoreResult<Vec<$crate::store::forces::Team>> {
                sqlx::query_as(
                    "SELECT * FROM teams WHERE ward_id = $1 AND ($2 OR archived_at IS NULL) \
                     ORDER BY name",
                )
                .bind(ward_id)
                .bind(include_archived)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn team_groups(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::forces::TeamGroup>> {
                sqlx::query_as(
                    "SELECT tg.team_id, tg.group_id FROM team_groups tg \
                     JOIN teams t ON t.id = tg.team_id WHERE t.ward_id = $1",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn create_force(
                &self,
                actor: $crate::store::Actor,
                input: $crate::store::forces::ForceInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::PartnerForce> {
                $crate::store::in_tx!(self, tx => Self::write_force_tx(&mut tx, actor, None, &input).await?)
            }

            async fn update_force(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                input: $crate::store::forces::ForceInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::PartnerForce> {
                $crate::store::in_tx!(self, tx => Self::write_force_tx(&mut tx, actor, Some(id), &input).await?)
            }

            async fn force(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::forces::PartnerForce>> {
                sqlx::query_as("SELECT * FROM partner_forces WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn forces(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::forces::PartnerForce>> {
                sqlx::query_as(
                    "SELECT * FROM partner_forces WHERE ward_id = $1 AND archived_at IS NULL \
                     ORDER BY name",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn create_person(
                &self,
                actor: $crate::store::Actor,
                input: $crate::store::forces::PersonInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Person> {
                $crate::store::in_tx!(self, tx => Self::write_person_tx(&mut tx, actor, None, &input).await?)
            }

            async fn update_person(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                input: $crate::store::forces::PersonInput,
            ) -> $crate::store::StoreResult<$crate::store::forces::Person> {
                $crate::store::in_tx!(self, tx => Self::write_person_tx(&mut tx, actor, Some(id), &input).await?)
            }

            async fn set_person_archived(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                archived: bool,
            ) -> $crate::store::StoreResult<()> {
                self.set_archived_tx(actor, "people", id, archived).await
            }

            async fn person(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::forces::Person>> {
                sqlx::query_as("SELECT * FROM people WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn people(
                &self,
                ward_id: i64,
                filter: &$crate::store::forces::PeopleFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::store::forces::Person>> {
                let sql = format!(
                    "SELECT * FROM people WHERE ward_id = $1 AND ($2 IS NULL OR kind = $2) \
                     AND ($3 IS NULL OR team_id = $3) AND ($4 IS NULL OR force_id = $4) \
                     AND ($5 OR archived_at IS NULL){} ORDER BY team_id, \
                     CASE team_role WHEN 'leader' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, full_name",
                    $crate::store::territory::like_clauses("search_folded", &filter.terms, 6)
                );
                let mut q = sqlx::query_as(&sql)
                    .bind(ward_id)
                    .bind(filter.kind.map(|k| k.as_str()))
                    .bind(filter.team_id)
                    .bind(filter.force_id)
                    .bind(filter.include_archived);
                for t in &filter.terms {
                    q = q.bind($crate::text::like_pattern(t));
                }
                q.fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_forces_store;
