//! Community reports: intake (in batches, so that concurrent submissions share one
//! durable commit), triage with a kept history, merges, photos, API keys and settings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Actor, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Report {
    pub id: i64,
    pub ward_id: i64,
    pub tracking_code: String,
    pub category: String,
    pub description: String,
    #[serde(skip)]
    pub search_folded: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub place_unknown: bool,
    pub group_id: Option<i64>,
    pub site_id: Option<i64>,
    pub address: String,
    pub status: String,
    pub priority: i64,
    pub merged_into: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub assigned_team_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub anonymous: bool,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub reporter_email: String,
    pub reporter_user_id: Option<i64>,
    pub source: String,
    pub service_code: Option<String>,
    pub api_key_id: Option<i64>,
    #[serde(skip)]
    pub client_key: Option<String>,
    pub public_answer: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A checked new report, ready to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub ward_id: i64,
    /// The number its code encrypts (`reports::tracking`), unique.
    pub tracking_no: i64,
    pub tracking_code: String,
    pub category: String,
    pub description: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub place_unknown: bool,
    pub group_id: Option<i64>,
    pub site_id: Option<i64>,
    pub address: String,
    pub priority: i64,
    pub anonymous: bool,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub reporter_email: String,
    pub reporter_user_id: Option<i64>,
    pub source: String,
    pub service_code: Option<String>,
    pub api_key_id: Option<i64>,
    pub client_key: Option<String>,
    /// What search matches, folded ([`NewReport::search_key`]); made on the caller's
    /// thread once the code is given (`Intake::submit`), so that the single writer that
    /// stores it has less to do.
    pub search_folded: String,
}

/// A time as both engines keep it: whole microseconds (sqlx hands PostgreSQL microseconds,
/// truncated). Intake stores its times so, and can answer what it wrote without reading it.
pub fn whole_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::DurationRound::duration_trunc(t, chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}

impl NewReport {
    /// The text search matches: tracking code, description and address, folded.
    pub fn search_key(&self) -> String {
        crate::text::fold(&format!(
            "{} {} {}",
            self.tracking_code, self.description, self.address
        ))
    }

    /// The report as its insert stores it, with the id the database gave it: the intake
    /// writer answers this instead of reading every column back. `at` must be whole
    /// microseconds; `occurred_at` is cut to them, as the insert stores it.
    pub fn stored(&self, id: i64, search_folded: String, at: DateTime<Utc>) -> Report {
        Report {
            id,
            ward_id: self.ward_id,
            tracking_code: self.tracking_code.clone(),
            category: self.category.clone(),
            description: self.description.clone(),
            search_folded,
            occurred_at: self.occurred_at.map(whole_micros),
            lat: self.lat,
            lon: self.lon,
            place_unknown: self.place_unknown,
            group_id: self.group_id,
            site_id: self.site_id,
            address: self.address.clone(),
            status: "new".to_string(),
            priority: self.priority,
            merged_into: None,
            assigned_user_id: None,
            assigned_team_id: None,
            incident_id: None,
            anonymous: self.anonymous,
            reporter_name: self.reporter_name.clone(),
            reporter_phone: self.reporter_phone.clone(),
            reporter_email: self.reporter_email.clone(),
            reporter_user_id: self.reporter_user_id,
            source: self.source.clone(),
            service_code: self.service_code.clone(),
            api_key_id: self.api_key_id,
            client_key: self.client_key.clone(),
            public_answer: String::new(),
            created_at: at,
            updated_at: at,
        }
    }
}

/// Which reports of a batch are to be stored: those without a client key, and the first
/// of each client key that was not stored before (`stored_before`).
pub(crate) fn fresh_of(
    batch: &[NewReport],
    stored_before: impl Fn(&str) -> bool,
) -> Vec<&NewReport> {
    let mut taken = std::collections::HashSet::new();
    batch
        .iter()
        .filter(|r| match r.client_key.as_deref() {
            Some(k) => !stored_before(k) && taken.insert(k),
            None => true,
        })
        .collect()
}

/// A batch's answers in its order: a report with a client key answers what that key
/// stored (earlier, or earlier in this batch); any other answers its own new row.
pub(crate) fn batch_answers(
    batch: &[NewReport],
    mut by_key: std::collections::HashMap<String, Report>,
    stored: Vec<Report>,
) -> super::StoreResult<Vec<Report>> {
    let mut by_code: std::collections::HashMap<String, Report> =
        std::collections::HashMap::with_capacity(stored.len());
    for report in stored {
        if let Some(k) = &report.client_key {
            by_key.insert(k.clone(), report.clone());
        }
        by_code.insert(report.tracking_code.clone(), report);
    }
    batch
        .iter()
        .map(|r| match r.client_key.as_deref() {
            Some(k) => by_key.get(k).cloned(),
            None => by_code.remove(&r.tracking_code),
        })
        .collect::<Option<Vec<Report>>>()
        .ok_or(super::StoreError::NotFound)
}

/// The stored reports of a batch, in the batch's order, from the (id, tracking code)
/// pairs its insert returned (in whatever order the database returned them).
pub(crate) fn answer_in_order(
    fresh: &[&NewReport],
    ids: Vec<(i64, String)>,
    at: DateTime<Utc>,
) -> super::StoreResult<Vec<Report>> {
    let mut by_code: std::collections::HashMap<String, i64> =
        ids.into_iter().map(|(id, code)| (code, id)).collect();
    fresh
        .iter()
        .map(|r| {
            let id = by_code.remove(&r.tracking_code).ok_or_else(|| {
                super::StoreError::Other(format!("report {} was not stored", r.tracking_code))
            })?;
            Ok(r.stored(id, r.search_folded.clone(), at))
        })
        .collect()
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ReportEvent {
    pub id: i64,
    pub report_id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
    pub public: bool,
}

/// A change an officer makes: any of status, assignment, answer, with a note.
#[derive(Debug, Clone, Default)]
pub struct ReportChange {
    pub status: Option<String>,
    pub assigned_user_id: Option<Option<i64>>,
    pub assigned_team_id: Option<Option<i64>>,
    pub public_answer: Option<String>,
    pub incident_id: Option<Option<i64>>,
    pub note: String,
    /// Whether the reporter sees this step (and its note).
    pub public: bool,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub statuses: Vec<String>,
    pub category: Option<String>,
    pub group_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    /// Only the reports this account filed.
    pub reporter_user_id: Option<i64>,
    pub terms: Vec<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Photo {
    pub id: i64,
    pub report_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub ward_id: i64,
    pub name: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Store a batch of reports in one transaction (one durable commit for all). A report
    /// whose client key was seen before answers the stored one instead of a new one.
    async fn insert_reports(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>>;
    async fn report(&self, id: i64) -> StoreResult<Option<Report>>;
    /// The report a tracking code names: the one numbered `number` (the code decrypted,
    /// `reports::tracking`) whose code it is, else one stored before numbered codes.
    async fn report_by_tracking(
        &self,
        code: &str,
        number: Option<i64>,
    ) -> StoreResult<Option<Report>>;
    /// Take `count` tracking numbers from the deployment's counter; answers the first.
    async fn reserve_tracking_numbers(&self, count: i64) -> StoreResult<i64>;
    /// The codes of reports stored before numbered codes (they have no number).
    async fn legacy_tracking_codes(&self) -> StoreResult<Vec<String>>;
    async fn reports(&self, ward_id: i64, filter: &ReportFilter) -> StoreResult<Vec<Report>>;
    async fn report_events(&self, report_id: i64) -> StoreResult<Vec<ReportEvent>>;
    /// Reports of every ward created after `after_id`, oldest first (live catch-up).
    async fn reports_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<Report>>;
    /// The newest report id and warning event id, where live updates start.
    async fn live_marks(&self) -> StoreResult<(i64, i64)>;
    /// Apply a change and keep it in the report's history, in one transaction.
    async fn change_report(
        &self,
        actor: Actor,
        id: i64,
        change: ReportChange,
    ) -> StoreResult<Report>;
    /// Merge `from` into `into`: `from` keeps its reporter and photos and points at `into`.
    async fn merge_report(
        &self,
        actor: Actor,
        from: i64,
        into: i64,
        note: &str,
    ) -> StoreResult<Report>;
    async fn add_photo(&self, report_id: i64, photo: &Photo) -> StoreResult<Photo>;
    /// Photos of a report and of every report merged into it.
    async fn photos(&self, report_id: i64) -> StoreResult<Vec<Photo>>;
    async fn photo(&self, id: i64) -> StoreResult<Option<Photo>>;

    async fn create_api_key(
        &self,
        actor: Actor,
        ward_id: i64,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<ApiKey>;
    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;

    /// A deployment-wide setting; `default` is stored (and answered) when there is none,
    /// so that concurrent first readers agree.
    async fn setting_or_init(&self, key: &str, default: &str) -> StoreResult<String>;
}

macro_rules! impl_report_store {
    ($store:ty, $db:ty) => {
        impl $store {
            #[allow(clippy::too_many_arguments)]
            async fn report_event_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                report_id: i64,
                user_id: Option<i64>,
                kind: &str,
                from_status: Option<&str>,
                to_status: Option<&str>,
                note: &str,
                public: bool,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO report_events (report_id, at, user_id, kind, from_status, \
                     to_status, note, public) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(report_id)
                .bind(chrono::Utc::now())
                .bind(user_id)
                .bind(kind)
                .bind(from_status)
                .bind(to_status)
                .bind(note)
                .bind(public)
                .execute(&mut **tx)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::reports::ReportStore for $store {
            async fn insert_reports(
                &self,
                batch: &[$crate::store::reports::NewReport],
            ) -> $crate::store::StoreResult<Vec<$crate::store::reports::Report>> {
                self.store_report_batch(batch).await
            }

            async fn report(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::reports::Report>> {
                sqlx::query_as("SELECT * FROM reports WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn report_by_tracking(
                &self,
                code: &str,
                number: Option<i64>,
            ) -> $crate::store::StoreResult<Option<$crate::store::reports::Report>> {
                use $crate::store::StoreError;
                if let Some(no) = number {
                    let found: Option<$crate::store::reports::Report> = sqlx::query_as(
                        "SELECT * FROM reports WHERE tracking_no = $1 AND tracking_code = $2",
                    )
                    .bind(no)
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    if found.is_some() {
                        return Ok(found);
                    }
                }
                sqlx::query_as(
                    "SELECT * FROM reports WHERE tracking_no IS NULL AND tracking_code = $1",
                )
                .bind(code)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)
            }

            async fn reserve_tracking_numbers(
                &self,
                count: i64,
            ) -> $crate::store::StoreResult<i64> {
                // One row of the settings, moved on atomically: every node of a
                // deployment takes its blocks from it.
                let end: String = sqlx::query_scalar(
                    "INSERT INTO settings (key, value) VALUES ('tracking_next', $1) \
                     ON CONFLICT (key) DO UPDATE \
                     SET value = CAST(CAST(settings.value AS BIGINT) + $2 AS TEXT) \
                     RETURNING value",
                )
                .bind((1 + count).to_string())
                .bind(count)
                .fetch_one(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                end.parse::<i64>().map(|end| end - count).map_err(|_| {
                    $crate::store::StoreError::Other(format!(
                        "the setting tracking_next is not a number: {end:?}"
                    ))
                })
            }

            async fn legacy_tracking_codes(&self) -> $crate::store::StoreResult<Vec<String>> {
                sqlx::query_scalar("SELECT tracking_code FROM reports WHERE tracking_no IS NULL")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn reports(
                &self,
                ward_id: i64,
                filter: &$crate::store::reports::ReportFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::store::reports::Report>> {
                let statuses = if filter.statuses.is_empty() {
                    String::new()
                } else {
                    let list: Vec<String> = (0..filter.statuses.len()).map(|i| format!("${}", 7 + i)).collect();
                    format!(" AND status IN ({})", list.join(", "))
                };
                let terms = $crate::store::territory::like_clauses(
                    "search_folded",
                    &filter.terms,
                    7 + filter.statuses.len(),
                );
                let sql = format!(
                    "SELECT * FROM reports WHERE ward_id = $1 AND ($2 IS NULL OR category = $2) \
                     AND ($3 IS NULL OR group_id = $3) AND ($4 IS NULL OR created_at >= $4) AND ($6 IS NULL OR reporter_user_id = $6){statuses}{terms} \
                     ORDER BY priority, created_at DESC LIMIT $5"
                );
                let mut q = sqlx::query_as(&sql)
                    .bind(ward_id)
                    .bind(filter.category.as_deref())
                    .bind(filter.group_id)
                    .bind(filter.since)
                    .bind(if filter.limit > 0 { filter.limit } else { 500 })
                    .bind(filter.reporter_user_id);
                for s in &filter.statuses {
                    q = q.bind(s.as_str());
                }
                for t in &filter.terms {
                    q = q.bind($crate::text::like_pattern(t));
                }
                q.fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)
            }

            async fn reports_after(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::reports::Report>> {
                sqlx::query_as("SELECT * FROM reports WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn live_marks(&self) -> $crate::store::StoreResult<(i64, i64)> {
                let r: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM reports")
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                let w: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM warning_events")
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok((r, w))
            }

            async fn report_events(
                &self,
                report_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::reports::ReportEvent>> {
                // Every history starts with the report's "created" step, made from the
                // report's own row (migration 0005); reports stored before that have it
                // stored.
                sqlx::query_as(
                    "SELECT CAST(0 AS BIGINT) AS id, r.id AS report_id, r.created_at AS at, \
                     r.reporter_user_id AS user_id, 'created' AS kind, \
                     CAST(NULL AS TEXT) AS from_status, 'new' AS to_status, '' AS note, \
                     TRUE AS public \
                     FROM reports r WHERE r.id = $1 AND NOT EXISTS (SELECT 1 FROM \
                     report_events e WHERE e.report_id = r.id AND e.kind = 'created') \
                     UNION ALL \
                     SELECT id, report_id, at, user_id, kind, from_status, to_status, note, \
                     public FROM report_events WHERE report_id = $1 \
                     ORDER BY id",
                )
                .bind(report_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn change_report(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                change: $crate::store::reports::ReportChange,
            ) -> $crate::store::StoreResult<$crate::store::reports::Report> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let before: $crate::store::reports::Report =
                        sqlx::query_as("SELECT * FROM reports WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?
                            .ok_or(StoreError::NotFound)?;
                    let status = change.status.clone().unwrap_or_else(|| before.status.clone());
                    let user = change.assigned_user_id.unwrap_or(before.assigned_user_id);
                    let team = change.assigned_team_id.unwrap_or(before.assigned_team_id);
                    let answer = change.public_answer.clone().unwrap_or_else(|| before.public_answer.clone());
                    let incident = change.incident_id.unwrap_or(before.incident_id);
                    let after: $crate::store::reports::Report = sqlx::query_as(
                        "UPDATE reports SET status = $1, assigned_user_id = $2, assigned_team_id = $3, \
                         public_answer = $4, incident_id = $5, updated_at = $6 WHERE id = $7 RETURNING *",
                    )
                    .bind(&status)
                    .bind(user)
                    .bind(team)
                    .bind(&answer)
                    .bind(incident)
                    .bind(chrono::Utc::now())
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    let (from, to) = if status != before.status {
                        (Some(before.status.as_str()), Some(status.as_str()))
                    } else {
                        (None, None)
                    };
                    Self::report_event_tx(&mut tx, id, actor.user_id, change.kind, from, to, &change.note, change.public).await?;
                    after
                })
            }

            async fn merge_report(
                &self,
                actor: $crate::store::Actor,
                from: i64,
                into: i64,
                note: &str,
            ) -> $crate::store::StoreResult<$crate::store::reports::Report> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let before: $crate::store::reports::Report =
                        sqlx::query_as("SELECT * FROM reports WHERE id = $1")
                            .bind(from)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?
                            .ok_or(StoreError::NotFound)?;
                    // Reports already merged into `from` follow it to `into`.
                    sqlx::query("UPDATE reports SET merged_into = $1 WHERE merged_into = $2")
                        .bind(into)
                        .bind(from)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    let after: $crate::store::reports::Report = sqlx::query_as(
                        "UPDATE reports SET status = 'merged', merged_into = $1, updated_at = $2 \
                         WHERE id = $3 RETURNING *",
                    )
                    .bind(into)
                    .bind(chrono::Utc::now())
                    .bind(from)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::report_event_tx(&mut tx, from, actor.user_id, "merged", Some(&before.status), Some("merged"), note, true).await?;
                    Self::report_event_tx(&mut tx, into, actor.user_id, "absorbed", None, None, &format!("#{from}"), false).await?;
                    after
                })
            }

            async fn add_photo(
                &self,
                report_id: i64,
                photo: &$crate::store::reports::Photo,
            ) -> $crate::store::StoreResult<$crate::store::reports::Photo> {
                sqlx::query_as(
                    "INSERT INTO report_photos (report_id, file_name, content_type, bytes, sha256, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                )
                .bind(report_id)
                .bind(&photo.file_name)
                .bind(&photo.content_type)
                .bind(photo.bytes)
                .bind(&photo.sha256)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn photos(
                &self,
                report_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::reports::Photo>> {
                sqlx::query_as(
                    "SELECT p.* FROM report_photos p JOIN reports r ON r.id = p.report_id \
                     WHERE r.id = $1 OR r.merged_into = $1 ORDER BY p.id",
                )
                .bind(report_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn photo(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::reports::Photo>> {
                sqlx::query_as("SELECT * FROM report_photos WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn create_api_key(
                &self,
                actor: $crate::store::Actor,
                ward_id: i64,
                name: &str,
                key_hash: &str,
            ) -> $crate::store::StoreResult<$crate::store::reports::ApiKey> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let key: $crate::store::reports::ApiKey = sqlx::query_as(
                        "INSERT INTO api_keys (ward_id, name, key_hash, created_at) \
                         VALUES ($1, $2, $3, $4) RETURNING *",
                    )
                    .bind(ward_id)
                    .bind(name)
                    .bind(key_hash)
                    .bind(chrono::Utc::now())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    Self::audit_tx(&mut tx, actor, Some(ward_id), "api_key", Some(key.id), "create", name.to_string()).await?;
                    key
                })
            }

            async fn api_key_by_hash(
                &self,
                key_hash: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::reports::ApiKey>> {
                self.caches
                    .api_keys
                    .get_or_read(key_hash, |_| true, || {
                        sqlx::query_as("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                            .bind(key_hash)
                            .fetch_optional(&self.pool)
                    })
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn setting_or_init(
                &self,
                key: &str,
                default: &str,
            ) -> $crate::store::StoreResult<String> {
                use $crate::store::StoreError;
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(default)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_report_store;
