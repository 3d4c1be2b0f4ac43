//! Duty records: places and their stops, recurring duties (templates), availability and
//! leave, the shifts of a month with who is on them, check-ins, patrol logs and the
//! secret calendar feeds.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Actor, StoreResult};

#[derive(Debug, Clone, Copy, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct DutyRules {
    pub ward_id: i64,
    pub max_nights: i64,
    pub rest_hours: i64,
    /// Minutes after the start after which a check-in counts as late.
    pub late_minutes: i64,
}

impl DutyRules {
    pub fn defaults(ward_id: i64) -> Self {
        DutyRules {
            ward_id,
            max_nights: 10,
            rest_hours: 12,
            late_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Place {
    pub id: i64,
    pub ward_id: i64,
    pub kind: String,
    pub name: String,
    pub site_id: Option<i64>,
    pub notes: String,
    #[serde(skip)]
    pub qr_key: String,
    pub qr_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Stop {
    pub id: i64,
    pub place_id: i64,
    pub seq: i64,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlaceInput {
    pub ward_id: i64,
    pub kind: String,
    pub name: String,
    pub site_id: Option<i64>,
    pub notes: String,
    /// In order; a route has two or more, a checkpoint or a post one.
    pub stops: Vec<StopInput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StopInput {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub id: i64,
    pub ward_id: i64,
    pub kind: String,
    pub title: String,
    pub place_id: Option<i64>,
    pub force_kind: String,
    pub team_id: Option<i64>,
    pub force_id: Option<i64>,
    pub needed: i64,
    pub start_time: String,
    pub end_time: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub rule: String,
    pub lunar_days: String,
    pub lunar_months: String,
    pub except_dates: String,
    pub skip_tet: bool,
    pub extra_dates: String,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A checked template, ready to be written.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateInput {
    pub ward_id: i64,
    pub kind: String,
    pub title: String,
    pub place_id: Option<i64>,
    pub force_kind: String,
    pub team_id: Option<i64>,
    pub force_id: Option<i64>,
    pub needed: i64,
    pub start_time: String,
    pub end_time: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub rule: String,
    pub lunar_days: String,
    pub lunar_months: String,
    pub except_dates: String,
    pub skip_tet: bool,
    pub extra_dates: String,
    pub notes: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Availability {
    pub person_id: i64,
    /// Seven characters, Monday first: '1' serves that day, '0' does not.
    pub weekdays: String,
    pub nights: bool,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Leave {
    pub id: i64,
    pub person_id: i64,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Shift {
    pub id: i64,
    pub ward_id: i64,
    pub template_id: i64,
    pub month: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub needed: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub shift_id: i64,
    pub person_id: i64,
    pub source: String,
    pub conflicts: String,
    pub note: String,
    /// How the reminder before the duty went ('' before it is due).
    pub reminder: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Checkin {
    pub id: i64,
    pub assignment_id: i64,
    pub kind: String,
    pub stop_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub distance_m: Option<f64>,
    pub method: String,
    pub client_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub assignment_id: i64,
    pub kind: String,
    pub stop_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub distance_m: Option<f64>,
    pub method: String,
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub shift_id: i64,
    pub person_id: Option<i64>,
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub body: String,
    pub handover: bool,
    pub report_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A reminder to send before a duty.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueReminder {
    pub assignment_id: i64,
    pub phone: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub place: Option<String>,
}

/// One shift of a roster build: an existing one (`id`) or one to create, and the people
/// the build adds to it.
#[derive(Debug, Clone)]
pub struct RosterShift {
    pub id: Option<i64>,
    pub template_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub needed: i64,
    pub add: Vec<i64>,
}

#[async_trait]
pub trait DutyStore: Send + Sync {
    async fn duty_rules(&self, ward_id: i64) -> StoreResult<DutyRules>;
    async fn set_duty_rules(&self, actor: Actor, rules: DutyRules) -> StoreResult<()>;

    async fn create_place(
        &self,
        actor: Actor,
        input: &PlaceInput,
        qr_key: &str,
    ) -> StoreResult<Place>;
    /// Void every printed code of a place: a new key and version.
    async fn renew_place_key(&self, actor: Actor, id: i64, qr_key: &str) -> StoreResult<Place>;
    async fn place(&self, id: i64) -> StoreResult<Option<Place>>;
    async fn places(&self, ward_id: i64) -> StoreResult<Vec<Place>>;
    /// The stops of every place of a ward, in order.
    async fn stops(&self, ward_id: i64) -> StoreResult<Vec<Stop>>;
    async fn stop(&self, id: i64) -> StoreResult<Option<Stop>>;

    async fn save_template(
        &self,
        actor: Actor,
        id: Option<i64>,
        input: &TemplateInput,
    ) -> StoreResult<Template>;
    async fn archive_template(&self, actor: Actor, id: i64) -> StoreResult<()>;
    async fn template(&self, id: i64) -> StoreResult<Option<Template>>;
    /// The ward's templates that are not archived.
    async fn templates(&self, ward_id: i64) -> StoreResult<Vec<Template>>;

    async fn availability(&self, ward_id: i64) -> StoreResult<Vec<Availability>>;
    async fn set_availability(&self, actor: Actor, a: &Availability) -> StoreResult<()>;
    /// Leave of the ward's people that touches `from..=to`.
    async fn leave(&self, ward_id: i64, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Leave>>;
    async fn add_leave(
        &self,
        actor: Actor,
        person_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        reason: &str,
    ) -> StoreResult<Leave>;

    /// Shifts of a ward starting in `from..to`, in order.
    async fn shifts(
        &self,
        ward_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Shift>>;
    async fn shift(&self, id: i64) -> StoreResult<Option<Shift>>;
    /// Assignments of the ward's shifts starting in `from..to`.
    async fn assignments(
        &self,
        ward_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Assignment>>;
    async fn assignment(&self, id: i64) -> StoreResult<Option<Assignment>>;
    /// Write a build in one transaction: create the new shifts, add the people, remove
    /// the shifts in `remove` (no longer scheduled, nobody checked in) with their people.
    async fn save_roster(
        &self,
        actor: Actor,
        ward_id: i64,
        month: &str,
        shifts: &[RosterShift],
        remove: &[i64],
    ) -> StoreResult<usize>;
    #[allow(clippy::too_many_arguments)]
    async fn assign(
        &self,
        actor: Actor,
        shift_id: i64,
        person_id: i64,
        source: &str,
        conflicts: &str,
        note: &str,
    ) -> StoreResult<Assignment>;
    /// Refused (`Conflict`) once the person has checked in.
    async fn unassign(&self, actor: Actor, assignment_id: i64) -> StoreResult<()>;
    /// Exchange the people of two assignments.
    async fn swap(&self, actor: Actor, a: i64, b: i64, conflicts: (&str, &str)) -> StoreResult<()>;

    /// Store a check-in; a retry with the same `client_id` answers the first one.
    async fn add_checkin(&self, c: &NewCheckin) -> StoreResult<Checkin>;
    /// Check-ins of the ward's shifts starting in `from..to`.
    async fn checkins(
        &self,
        ward_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Checkin>>;

    async fn add_log(
        &self,
        shift_id: i64,
        person_id: Option<i64>,
        user_id: Option<i64>,
        body: &str,
        handover: bool,
    ) -> StoreResult<LogEntry>;
    async fn link_log_report(&self, log_id: i64, report_id: i64) -> StoreResult<()>;
    async fn logs(&self, shift_id: i64) -> StoreResult<Vec<LogEntry>>;

    /// A new secret feed for a person; earlier ones are revoked.
    async fn create_feed(&self, actor: Actor, person_id: i64, token_hash: &str) -> StoreResult<()>;
    async fn revoke_feeds(&self, actor: Actor, person_id: i64) -> StoreResult<()>;
    async fn feed_person(&self, token_hash: &str) -> StoreResult<Option<i64>>;

    /// Assignments whose duty starts in `from..to` and whose reminder nobody took yet.
    async fn due_reminders(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<DueReminder>>;
    /// Take on an assignment's reminder; false when another node already did.
    async fn claim_reminder(&self, assignment_id: i64) -> StoreResult<bool>;
    async fn record_reminder(&self, assignment_id: i64, outcome: &str) -> StoreResult<()>;
}

macro_rules! impl_duty_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::duty::DutyStore for $store {
            async fn duty_rules(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<$crate::store::duty::DutyRules> {
                let found: Option<$crate::store::duty::DutyRules> = sqlx::query_as(
                    "SELECT ward_id, max_nights, rest_hours, late_minutes FROM duty_rules \
                     WHERE ward_id = $1",
                )
                .bind(ward_id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(found.unwrap_or_else(|| $crate::store::duty::DutyRules::defaults(ward_id)))
            }

            async fn set_duty_rules(
                &self,
                actor: $crate::store::Actor,
                rules: $crate::store::duty::DutyRules,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    sqlx::query(
                        "INSERT INTO duty_rules (ward_id, max_nights, rest_hours, late_minutes, \
                         updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ward_id) DO UPDATE \
                         SET max_nights = $2, rest_hours = $3, late_minutes = $4, updated_at = $5",
                    )
                    .bind(rules.ward_id)
                    .bind(rules.max_nights)
                    .bind(rules.rest_hours)
                    .bind(rules.late_minutes)
                    .bind(chrono::Utc::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(rules.ward_id), "duty_rules",
                        Some(rules.ward_id), "update",
                        serde_json::to_string(&rules).unwrap_or_default()).await?;
                })
            }

            async fn create_place(
                &self,
                actor: $crate::store::Actor,
                input: &$crate::store::duty::PlaceInput,
                qr_key: &str,
            ) -> $crate::store::StoreResult<$crate::store::duty::Place> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let now = chrono::Utc::now();
                    let place: $crate::store::duty::Place = sqlx::query_as(
                        "INSERT INTO duty_places (ward_id, kind, name, site_id, notes, qr_key, \
                         qr_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, \
                         $7, $7) RETURNING *",
                    )
                    .bind(input.ward_id)
                    .bind(&input.kind)
                    .bind(&input.name)
                    .bind(input.site_id)
                    .bind(&input.notes)
                    .bind(qr_key)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    for (i, s) in input.stops.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO duty_stops (place_id, seq, name, lat, lon) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(place.id)
                        .bind(i as i64 + 1)
                        .bind(&s.name)
                        .bind(s.lat)
                        .bind(s.lon)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    }
                    Self::audit_tx(&mut tx, actor, Some(input.ward_id), "duty_place",
                        Some(place.id), "create",
                        serde_json::to_string(input).unwrap_or_default()).await?;
                    place
                })
            }

            async fn renew_place_key(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                qr_key: &str,
            ) -> $crate::store::StoreResult<$crate::store::duty::Place> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let place: $crate::store::duty::Place = sqlx::query_as(
                        "UPDATE duty_places SET qr_key = $1, qr_version = qr_version + 1, \
                         updated_at = $2 WHERE id = $3 RETURNING *",
                    )
                    .bind(qr_key)
                    .bind(chrono::Utc::now())
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                    Self::audit_tx(&mut tx, actor, Some(place.ward_id), "duty_place",
                        Some(id), "renew_codes", format!("version {}", place.qr_version)).await?;
                    place
                })
            }

            async fn place(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::duty::Place>> {
                sqlx::query_as("SELECT * FROM duty_places WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn places(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Place>> {
                sqlx::query_as(
                    "SELECT * FROM duty_places WHERE ward_id = $1 AND archived_at IS NULL \
                     ORDER BY name, id",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn stops(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Stop>> {
                sqlx::query_as(
                    "SELECT s.* FROM duty_stops s JOIN duty_places p ON p.id = s.place_id \
                     WHERE p.ward_id = $1 ORDER BY s.place_id, s.seq",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn stop(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::duty::Stop>> {
                sqlx::query_as("SELECT * FROM duty_stops WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn save_template(
                &self,
                actor: $crate::store::Actor,
                id: Option<i64>,
                t: &$crate::store::duty::TemplateInput,
            ) -> $crate::store::StoreResult<$crate::store::duty::Template> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let sql = match id {
                        None => "INSERT INTO duty_templates (ward_id, kind, title, place_id, \
                                 force_kind, team_id, force_id, needed, start_time, end_time, \
                                 starts_on, ends_on, rule, lunar_days, lunar_months, except_dates, \
                                 skip_tet, extra_dates, notes, created_at, updated_at) VALUES ($1, \
                                 $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                                 $17, $18, $19, $20, $20) RETURNING *",
                        Some(_) => "UPDATE duty_templates SET kind = $2, title = $3, place_id = $4, \
                                    force_kind = $5, team_id = $6, force_id = $7, needed = $8, \
                                    start_time = $9, end_time = $10, starts_on = $11, ends_on = $12, \
                                    rule = $13, lunar_days = $14, lunar_months = $15, \
                                    except_dates = $16, skip_tet = $17, extra_dates = $18, \
                                    notes = $19, updated_at = $20 WHERE id = $21 AND ward_id = $1 \
                                    AND archived_at IS NULL RETURNING *",
                    };
                    let q = sqlx::query_as::<_, $crate::store::duty::Template>(sql)
                        .bind(t.ward_id)
                        .bind(&t.kind)
                        .bind(&t.title)
                        .bind(t.place_id)
                        .bind(&t.force_kind)
                        .bind(t.team_id)
                        .bind(t.force_id)
                        .bind(t.needed)
                        .bind(&t.start_time)
                        .bind(&t.end_time)
                        .bind(t.starts_on)
                        .bind(t.ends_on)
                        .bind(&t.rule)
                        .bind(&t.lunar_days)
                        .bind(&t.lunar_months)
                        .bind(&t.except_dates)
                        .bind(t.skip_tet)
                        .bind(&t.extra_dates)
                        .bind(&t.notes)
                        .bind(chrono::Utc::now());
                    let q = match id {
                        Some(id) => q.bind(id),
                        None => q,
                    };
                    let saved = q
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?
                        .ok_or(StoreError::NotFound)?;
                    Self::audit_tx(&mut tx, actor, Some(t.ward_id), "duty_template",
                        Some(saved.id), if id.is_some() { "update" } else { "create" },
                        serde_json::to_string(t).unwrap_or_default()).await?;
                    saved
                })
            }

            async fn archive_template(
                &self,
                actor: $crate::store::Actor,
                id: i64,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let ward: Option<i64> = sqlx::query_scalar(
                        "UPDATE duty_templates SET archived_at = $1, updated_at = $1 \
                         WHERE id = $2 AND archived_at IS NULL RETURNING ward_id",
                    )
                    .bind(chrono::Utc::now())
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    let ward = ward.ok_or(StoreError::NotFound)?;
                    Self::audit_tx(&mut tx, actor, Some(ward), "duty_template", Some(id),
                        "archive", String::new()).await?;
                })
            }

            async fn template(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::duty::Template>> {
                sqlx::query_as("SELECT * FROM duty_templates WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn templates(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Template>> {
                sqlx::query_as(
                    "SELECT * FROM duty_templates WHERE ward_id = $1 AND archived_at IS NULL \
                     ORDER BY start_time, title, id",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn availability(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Availability>> {
                sqlx::query_as(
                    "SELECT a.person_id, a.weekdays, a.nights FROM duty_availability a \
                     JOIN people p ON p.id = a.person_id WHERE p.ward_id = $1",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn set_availability(
                &self,
                actor: $crate::store::Actor,
                a: &$crate::store::duty::Availability,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let ward: Option<i64> =
                        sqlx::query_scalar("SELECT ward_id FROM people WHERE id = $1")
                            .bind(a.person_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                    let ward = ward.ok_or(StoreError::NotFound)?;
                    sqlx::query(
                        "INSERT INTO duty_availability (person_id, weekdays, nights, updated_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE \
                         SET weekdays = $2, nights = $3, updated_at = $4",
                    )
                    .bind(a.person_id)
                    .bind(&a.weekdays)
                    .bind(a.nights)
                    .bind(chrono::Utc::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(ward), "duty_availability",
                        Some(a.person_id), "update",
                        serde_json::to_string(a).unwrap_or_default()).await?;
                })
            }

            async fn leave(
                &self,
                ward_id: i64,
                from: chrono::NaiveDate,
                to: chrono::NaiveDate,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Leave>> {
                sqlx::query_as(
                    "SELECT l.* FROM duty_leave l JOIN people p ON p.id = l.person_id \
                     WHERE p.ward_id = $1 AND l.from_date <= $3 AND l.to_date >= $2 \
                     ORDER BY l.from_date, l.id",
                )
                .bind(ward_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn add_leave(
                &self,
                actor: $crate::store::Actor,
                person_id: i64,
                from: chrono::NaiveDate,
                to: chrono::NaiveDate,
                reason: &str,
            ) -> $crate::store::StoreResult<$crate::store::duty::Leave> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let ward: Option<i64> =
                        sqlx::query_scalar("SELECT ward_id FROM people WHERE id = $1")
                            .bind(person_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                    let ward = ward.ok_or(StoreError::NotFound)?;
                    let leave: $crate::store::duty::Leave = sqlx::query_as(
                        "INSERT INTO duty_leave (person_id, from_date, to_date, reason, created_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING *",
                    )
                    .bind(person_id)
                    .bind(from)
                    .bind(to)
                    .bind(reason)
                    .bind(chrono::Utc::now())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(ward), "duty_leave", Some(leave.id),
                        "create", format!("{person_id}: {from}..{to}")).await?;
                    leave
                })
            }

            async fn shifts(
                &self,
                ward_id: i64,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Shift>> {
                sqlx::query_as(
                    "SELECT * FROM duty_shifts WHERE ward_id = $1 AND starts_at >= $2 \
                     AND starts_at < $3 ORDER BY starts_at, id",
                )
                .bind(ward_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn shift(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::duty::Shift>> {
                sqlx::query_as("SELECT * FROM duty_shifts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn assignments(
                &self,
                ward_id: i64,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Assignment>> {
                sqlx::query_as(
                    "SELECT a.* FROM duty_assignments a JOIN duty_shifts s ON s.id = a.shift_id \
                     WHERE s.ward_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 \
                     ORDER BY a.shift_id, a.id",
                )
                .bind(ward_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn assignment(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::duty::Assignment>> {
                sqlx::query_as("SELECT * FROM duty_assignments WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn save_roster(
                &self,
                actor: $crate::store::Actor,
                ward_id: i64,
                month: &str,
                shifts: &[$crate::store::duty::RosterShift],
                remove: &[i64],
            ) -> $crate::store::StoreResult<usize> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let now = chrono::Utc::now();
                    for id in remove {
                        let checked: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM duty_checkins c JOIN duty_assignments a \
                             ON a.id = c.assignment_id WHERE a.shift_id = $1",
                        )
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                        if checked > 0 {
                            return Err(StoreError::Conflict("duty_checkins_shift_key".into()));
                        }
                        for sql in [
                            "DELETE FROM duty_assignments WHERE shift_id = $1",
                            "DELETE FROM duty_shifts WHERE id = $1 AND NOT EXISTS \
                             (SELECT 1 FROM duty_logs WHERE shift_id = $1)",
                        ] {
                            sqlx::query(sql)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .map_err(StoreError::from_sqlx)?;
                        }
                    }
                    let mut added = 0;
                    for s in shifts {
                        let id = match s.id {
                            Some(id) => id,
                            None => sqlx::query_scalar(
                                "INSERT INTO duty_shifts (ward_id, template_id, month, starts_at, \
                                 ends_at, needed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                                 RETURNING id",
                            )
                            .bind(ward_id)
                            .bind(s.template_id)
                            .bind(month)
                            .bind(s.starts_at)
                            .bind(s.ends_at)
                            .bind(s.needed)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?,
                        };
                        for person in &s.add {
                            sqlx::query(
                                "INSERT INTO duty_assignments (shift_id, person_id, source, \
                                 created_by, created_at) VALUES ($1, $2, 'auto', $3, $4)",
                            )
                            .bind(id)
                            .bind(person)
                            .bind(actor.user_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                            added += 1;
                        }
                    }
                    Self::audit_tx(&mut tx, actor, Some(ward_id), "duty_roster", None, "build",
                        format!("{month}: {added} assignments, {} shifts removed", remove.len()))
                        .await?;
                    added
                })
            }

            async fn assign(
                &self,
                actor: $crate::store::Actor,
                shift_id: i64,
                person_id: i64,
                source: &str,
                conflicts: &str,
                note: &str,
            ) -> $crate::store::StoreResult<$crate::store::duty::Assignment> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let ward: Option<i64> =
                        sqlx::query_scalar("SELECT ward_id FROM duty_shifts WHERE id = $1")
                            .bind(shift_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                    let ward = ward.ok_or(StoreError::NotFound)?;
                    let a: $crate::store::duty::Assignment = sqlx::query_as(
                        "INSERT INTO duty_assignments (shift_id, person_id, source, conflicts, \
                         note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         RETURNING *",
                    )
                    .bind(shift_id)
                    .bind(person_id)
                    .bind(source)
                    .bind(conflicts)
                    .bind(note)
                    .bind(actor.user_id)
                    .bind(chrono::Utc::now())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(ward), "duty_assignment", Some(a.id),
                        source, format!("shift {shift_id}, person {person_id}; {conflicts}; {note}"))
                        .await?;
                    a
                })
            }

            async fn unassign(
                &self,
                actor: $crate::store::Actor,
                assignment_id: i64,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let checked: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM duty_checkins WHERE assignment_id = $1",
                    )
                    .bind(assignment_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    if checked > 0 {
                        return Err(StoreError::Conflict("duty_checkins_assignment_key".into()));
                    }
                    let ward: Option<i64> = sqlx::query_scalar(
                        "SELECT s.ward_id FROM duty_assignments a JOIN duty_shifts s \
                         ON s.id = a.shift_id WHERE a.id = $1",
                    )
                    .bind(assignment_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    let ward = ward.ok_or(StoreError::NotFound)?;
                    sqlx::query("DELETE FROM duty_assignments WHERE id = $1")
                        .bind(assignment_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(ward), "duty_assignment",
                        Some(assignment_id), "remove", String::new()).await?;
                })
            }

            async fn swap(
                &self,
                actor: $crate::store::Actor,
                a: i64,
                b: i64,
                conflicts: (&str, &str),
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let mut rows = Vec::new();
                    for id in [a, b] {
                        let row: Option<(i64, i64, i64)> = sqlx::query_as(
                            "SELECT a.person_id, a.shift_id, s.ward_id FROM duty_assignments a \
                             JOIN duty_shifts s ON s.id = a.shift_id WHERE a.id = $1",
                        )
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                        rows.push(row.ok_or(StoreError::NotFound)?);
                    }
                    let (pa, pb) = (rows[0].0, rows[1].0);
                    for (id, person, c) in [(a, pb, conflicts.0), (b, pa, conflicts.1)] {
                        sqlx::query(
                            "UPDATE duty_assignments SET person_id = $1, source = 'swap', \
                             conflicts = $2 WHERE id = $3",
                        )
                        .bind(person)
                        .bind(c)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    }
                    Self::audit_tx(&mut tx, actor, Some(rows[0].2), "duty_assignment", Some(a),
                        "swap", format!("with assignment {b}: person {pa} <-> {pb}")).await?;
                })
            }

            async fn add_checkin(
                &self,
                c: &$crate::store::duty::NewCheckin,
            ) -> $crate::store::StoreResult<$crate::store::duty::Checkin> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let stored: Option<$crate::store::duty::Checkin> = sqlx::query_as(
                        "INSERT INTO duty_checkins (assignment_id, kind, stop_id, at, received_at, \
                         lat, lon, accuracy_m, distance_m, method, client_id) VALUES ($1, $2, $3, \
                         $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (client_id) DO NOTHING \
                         RETURNING *",
                    )
                    .bind(c.assignment_id)
                    .bind(&c.kind)
                    .bind(c.stop_id)
                    .bind(c.at)
                    .bind(chrono::Utc::now())
                    .bind(c.lat)
                    .bind(c.lon)
                    .bind(c.accuracy_m)
                    .bind(c.distance_m)
                    .bind(&c.method)
                    .bind(&c.client_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    match stored {
                        Some(s) => s,
                        None => sqlx::query_as(
                            "SELECT * FROM duty_checkins WHERE client_id = $1",
                        )
                        .bind(&c.client_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?,
                    }
                })
            }

            async fn checkins(
                &self,
                ward_id: i64,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::Checkin>> {
                sqlx::query_as(
                    "SELECT c.* FROM duty_checkins c JOIN duty_assignments a \
                     ON a.id = c.assignment_id JOIN duty_shifts s ON s.id = a.shift_id \
                     WHERE s.ward_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 \
                     ORDER BY c.at, c.id",
                )
                .bind(ward_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn add_log(
                &self,
                shift_id: i64,
                person_id: Option<i64>,
                user_id: Option<i64>,
                body: &str,
                handover: bool,
            ) -> $crate::store::StoreResult<$crate::store::duty::LogEntry> {
                let now = chrono::Utc::now();
                sqlx::query_as(
                    "INSERT INTO duty_logs (shift_id, person_id, user_id, at, body, handover, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $4) RETURNING *",
                )
                .bind(shift_id)
                .bind(person_id)
                .bind(user_id)
                .bind(now)
                .bind(body)
                .bind(handover)
                .fetch_one(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn link_log_report(
                &self,
                log_id: i64,
                report_id: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE duty_logs SET report_id = $1 WHERE id = $2")
                    .bind(report_id)
                    .bind(log_id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn logs(
                &self,
                shift_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::LogEntry>> {
                sqlx::query_as("SELECT * FROM duty_logs WHERE shift_id = $1 ORDER BY at, id")
                    .bind(shift_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn create_feed(
                &self,
                actor: $crate::store::Actor,
                person_id: i64,
                token_hash: &str,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let now = chrono::Utc::now();
                    sqlx::query(
                        "UPDATE duty_feeds SET revoked_at = $1 WHERE person_id = $2 \
                         AND revoked_at IS NULL",
                    )
                    .bind(now)
                    .bind(person_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    sqlx::query(
                        "INSERT INTO duty_feeds (person_id, token_hash, created_at) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(person_id)
                    .bind(token_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, None, "duty_feed", Some(person_id), "create",
                        String::new()).await?;
                })
            }

            async fn revoke_feeds(
                &self,
                actor: $crate::store::Actor,
                person_id: i64,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    sqlx::query(
                        "UPDATE duty_feeds SET revoked_at = $1 WHERE person_id = $2 \
                         AND revoked_at IS NULL",
                    )
                    .bind(chrono::Utc::now())
                    .bind(person_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, None, "duty_feed", Some(person_id), "revoke",
                        String::new()).await?;
                })
            }

            async fn due_reminders(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::duty::DueReminder>> {
                sqlx::query_as(
                    "SELECT a.id AS assignment_id, p.phone, t.title, s.starts_at, pl.name AS place \
                     FROM duty_assignments a JOIN duty_shifts s ON s.id = a.shift_id \
                     JOIN duty_templates t ON t.id = s.template_id JOIN people p ON p.id = a.person_id \
                     LEFT JOIN duty_places pl ON pl.id = t.place_id \
                     WHERE a.reminded_at IS NULL AND s.starts_at >= $1 AND s.starts_at < $2 \
                     ORDER BY s.starts_at, a.id LIMIT $3",
                )
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn claim_reminder(&self, assignment_id: i64) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE duty_assignments SET reminded_at = $1, reminder = 'sending' \
                     WHERE id = $2 AND reminded_at IS NULL",
                )
                .bind(chrono::Utc::now())
                .bind(assignment_id)
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_reminder(
                &self,
                assignment_id: i64,
                outcome: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE duty_assignments SET reminder = $1 WHERE id = $2")
                    .bind(outcome)
                    .bind(assignment_id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn feed_person(&self, token_hash: &str) -> $crate::store::StoreResult<Option<i64>> {
                sqlx::query_scalar(
                    "SELECT person_id FROM duty_feeds WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_duty_store;
