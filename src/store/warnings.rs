//! Warnings the ward police broadcast, each publication kept as an event (the live
//! stream's ids, the CAP messages), the subscriptions of those who want them outside the
//! browser, and the delivery of each event to each of them.

use std::sync::OnceLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Warning {
    pub id: i64,
    pub ward_id: i64,
    pub category: String,
    pub severity: String,
    pub urgency: String,
    pub certainty: String,
    pub event: String,
    pub headline: String,
    pub body: String,
    pub instruction: String,
    /// ward, groups, site or circle
    pub audience: String,
    pub site_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_m: Option<i64>,
    pub public: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct WarningInput {
    pub ward_id: i64,
    pub category: String,
    pub severity: String,
    pub urgency: String,
    pub certainty: String,
    pub event: String,
    pub headline: String,
    pub body: String,
    pub instruction: String,
    pub audience: String,
    pub group_ids: Vec<i64>,
    pub site_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_m: Option<i64>,
    pub public: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A warning as it was published, with the groups it went to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub warning: Warning,
    pub group_ids: Vec<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct WarningEvent {
    pub id: i64,
    pub warning_id: i64,
    pub ward_id: i64,
    /// alert, update or cancel
    pub msg_type: String,
    pub at: DateTime<Utc>,
    pub snapshot: String,
    /// What is worked out from the event once for all the listeners it reaches.
    #[sqlx(skip)]
    #[serde(skip)]
    memo: EventMemo,
}

#[derive(Debug, Clone, Default)]
struct EventMemo {
    parsed: OnceLock<Option<Snapshot>>,
    rendered: OnceLock<Option<String>>,
}

impl WarningEvent {
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.parsed().cloned()
    }

    /// The snapshot, parsed on first use.
    pub fn parsed(&self) -> Option<&Snapshot> {
        self.memo
            .parsed
            .get_or_init(|| serde_json::from_str(&self.snapshot).ok())
            .as_ref()
    }

    /// The event rendered by `render` on first use (the live streams' JSON); later calls
    /// get that first rendering, so one publication is rendered once, not once per
    /// listener.
    pub fn rendered(
        &self,
        render: impl FnOnce(&Self, &Snapshot) -> Option<String>,
    ) -> Option<&str> {
        self.memo
            .rendered
            .get_or_init(|| self.parsed().and_then(|s| render(self, s)))
            .as_deref()
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Subscription {
    pub id: i64,
    pub ward_id: i64,
    pub group_id: Option<i64>,
    pub user_id: Option<i64>,
    pub channel: String,
    pub address: String,
    #[serde(skip)]
    pub p256dh: String,
    #[serde(skip)]
    pub auth: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub ward_id: i64,
    pub group_id: Option<i64>,
    pub user_id: Option<i64>,
    pub channel: String,
    pub address: String,
    pub p256dh: String,
    pub auth: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub subscription_id: Option<i64>,
    pub channel: String,
    pub recipient: String,
    /// pending, sent, failed
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: String,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait WarningStore: Send + Sync {
    /// Store a new warning (or a new version of one) and its publication event together;
    /// `msg_type` is alert, update or cancel.
    async fn publish_warning(
        &self,
        actor: Actor,
        id: Option<i64>,
        input: WarningInput,
        msg_type: &str,
    ) -> StoreResult<(Warning, WarningEvent)>;
    async fn cancel_warning(&self, actor: Actor, id: i64) -> StoreResult<(Warning, WarningEvent)>;
    async fn warning(&self, id: i64) -> StoreResult<Option<Warning>>;
    async fn warning_groups(&self, id: i64) -> StoreResult<Vec<i64>>;
    async fn warnings(
        &self,
        ward_id: Option<i64>,
        active_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Warning>>;
    /// Events after `after_id` (of one ward, or all), oldest first.
    async fn warning_events_after(
        &self,
        ward_id: Option<i64>,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<WarningEvent>>;
    async fn warning_event(&self, id: i64) -> StoreResult<Option<WarningEvent>>;
    async fn warning_events_of(&self, warning_id: i64) -> StoreResult<Vec<WarningEvent>>;
    async fn mark_warning_read(&self, warning_id: i64, user_id: i64) -> StoreResult<()>;
    async fn read_warnings(&self, user_id: i64) -> StoreResult<Vec<i64>>;

    async fn add_subscription(&self, s: NewSubscription) -> StoreResult<Subscription>;
    async fn revoke_subscription(&self, channel: &str, address: &str) -> StoreResult<bool>;
    async fn subscriptions(&self, ward_id: i64) -> StoreResult<Vec<Subscription>>;
    /// Queue one delivery per (subscription, channel, recipient) of an event.
    async fn enqueue_deliveries(
        &self,
        event_id: i64,
        items: &[(Option<i64>, String, String)],
    ) -> StoreResult<usize>;
    /// Pending deliveries whose time has come, and ones a crashed node left "sending".
    async fn due_deliveries(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Delivery>>;
    /// Take a delivery for this node; false when another node took it first.
    async fn claim_delivery(&self, id: i64) -> StoreResult<bool>;
    async fn subscription(&self, id: i64) -> StoreResult<Option<Subscription>>;
    async fn record_delivery(
        &self,
        id: i64,
        status: &str,
        attempts: i64,
        next_attempt_at: Option<DateTime<Utc>>,
        error: &str,
    ) -> StoreResult<()>;
    async fn deliveries_of(&self, event_id: i64) -> StoreResult<Vec<Delivery>>;
}

macro_rules! impl_warning_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn warning_event_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                warning: &$crate::store::warnings::Warning,
                group_ids: Vec<i64>,
                msg_type: &str,
            ) -> $crate::store::StoreResult<$crate::store::warnings::WarningEvent> {
                let snapshot = $crate::store::warnings::Snapshot { warning: warning.clone(), group_ids };
                sqlx::query_as(
                    "INSERT INTO warning_events (warning_id, ward_id, msg_type, at, snapshot) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING *",
                )
                .bind(warning.id)
                .bind(warning.ward_id)
                .bind(msg_type)
                .bind(chrono::Utc::now())
                .bind(serde_json::to_string(&snapshot).unwrap_or_default())
                .fetch_one(&mut **tx)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::warnings::WarningStore for $store {
            async fn publish_warning(
                &self,
                actor: $crate::store::Actor,
                id: Option<i64>,
                w: $crate::store::warnings::WarningInput,
                msg_type: &str,
            ) -> $crate::store::StoreResult<(
                $crate::store::warnings::Warning,
                $crate::store::warnings::WarningEvent,
            )> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    Self::order_lock(&mut tx, $crate::store::WARNING_ORDER_LOCK).await?;
                    let now = chrono::Utc::now();
                    let q = match id {
                        None => sqlx::query_as::<_, $crate::store::warnings::Warning>(
                            "INSERT INTO warnings (ward_id, category, severity, urgency, certainty, \
                             event, headline, body, instruction, audience, site_id, lat, lon, radius_m, \
                             public, expires_at, created_by, created_at, updated_at) VALUES ($1, $2, $3, \
                             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
                             RETURNING *",
                        ),
                        Some(_) => sqlx::query_as::<_, $crate::store::warnings::Warning>(
                            "UPDATE warnings SET ward_id = $1, category = $2, severity = $3, \
                             urgency = $4, certainty = $5, event = $6, headline = $7, body = $8, \
                             instruction = $9, audience = $10, site_id = $11, lat = $12, lon = $13, \
                             radius_m = $14, public = $15, expires_at = $16, created_by = \
                             COALESCE(created_by, $17), updated_at = $18 WHERE id = $19 AND ward_id = $1 \
                             AND cancelled_at IS NULL RETURNING *",
                        ),
                    };
                    let q = q
                        .bind(w.ward_id)
                        .bind(&w.category)
                        .bind(&w.severity)
                        .bind(&w.urgency)
                        .bind(&w.certainty)
                        .bind(&w.event)
                        .bind(&w.headline)
                        .bind(&w.body)
                        .bind(&w.instruction)
                        .bind(&w.audience)
                        .bind(w.site_id)
                        .bind(w.lat)
                        .bind(w.lon)
                        .bind(w.radius_m)
                        .bind(w.public)
                        .bind(w.expires_at)
                        .bind(actor.user_id)
                        .bind(now);
                    let q = match id {
                        Some(id) => q.bind(id),
                        None => q,
                    };
                    let warning = q
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?
                        .ok_or(StoreError::NotFound)?;
                    sqlx::query("DELETE FROM warning_groups WHERE warning_id = $1")
                        .bind(warning.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    for g in &w.group_ids {
                        sqlx::query("INSERT INTO warning_groups (warning_id, group_id) VALUES ($1, $2)")
                            .bind(warning.id)
                            .bind(g)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                    }
                    let event = Self::warning_event_tx(&mut tx, &warning, w.group_ids.clone(), msg_type).await?;
                    Self::audit_tx(&mut tx, actor, Some(warning.ward_id), "warning", Some(warning.id), msg_type, warning.headline.clone()).await?;
                    (warning, event)
                })
            }

            async fn cancel_warning(
                &self,
                actor: $crate::store::Actor,
                id: i64,
            ) -> $crate::store::StoreResult<(
                $crate::store::warnings::Warning,
                $crate::store::warnings::WarningEvent,
            )> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    Self::order_lock(&mut tx, $crate::store::WARNING_ORDER_LOCK).await?;
                    let warning: $crate::store::warnings::Warning = sqlx::query_as(
                        "UPDATE warnings SET cancelled_at = $1, updated_at = $1 WHERE id = $2 \
                         AND cancelled_at IS NULL RETURNING *",
                    )
                    .bind(chrono::Utc::now())
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                    let groups: Vec<i64> = sqlx::query_scalar("SELECT group_id FROM warning_groups WHERE warning_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    let event = Self::warning_event_tx(&mut tx, &warning, groups, "cancel").await?;
                    Self::audit_tx(&mut tx, actor, Some(warning.ward_id), "warning", Some(id), "cancel", String::new()).await?;
                    (warning, event)
                })
            }

            async fn warning(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::warnings::Warning>> {
                sqlx::query_as("SELECT * FROM warnings WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn warning_groups(&self, id: i64) -> $crate::store::StoreResult<Vec<i64>> {
                sqlx::query_scalar("SELECT group_id FROM warning_groups WHERE warning_id = $1 ORDER BY group_id")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn warnings(
                &self,
                ward_id: Option<i64>,
                active_only: bool,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::Warning>> {
                sqlx::query_as(
                    "SELECT * FROM warnings WHERE ($1 IS NULL OR ward_id = $1) AND (NOT $2 OR \
                     (cancelled_at IS NULL AND (expires_at IS NULL OR expires_at > $3))) \
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(ward_id)
                .bind(active_only)
                .bind(chrono::Utc::now())
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn warning_events_after(
                &self,
                ward_id: Option<i64>,
                after_id: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::WarningEvent>> {
                sqlx::query_as(
                    "SELECT * FROM warning_events WHERE ($1 IS NULL OR ward_id = $1) AND id > $2 \
                     ORDER BY id LIMIT $3",
                )
                .bind(ward_id)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn warning_event(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::warnings::WarningEvent>> {
                sqlx::query_as("SELECT * FROM warning_events WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn warning_events_of(
                &self,
                warning_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::WarningEvent>> {
                sqlx::query_as("SELECT * FROM warning_events WHERE warning_id = $1 ORDER BY id")
                    .bind(warning_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn mark_warning_read(&self, warning_id: i64, user_id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO warning_reads (warning_id, user_id, at) VALUES ($1, $2, $3) \
                     ON CONFLICT (warning_id, user_id) DO NOTHING",
                )
                .bind(warning_id)
                .bind(user_id)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn read_warnings(&self, user_id: i64) -> $crate::store::StoreResult<Vec<i64>> {
                sqlx::query_scalar("SELECT warning_id FROM warning_reads WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn add_subscription(
                &self,
                s: $crate::store::warnings::NewSubscription,
            ) -> $crate::store::StoreResult<$crate::store::warnings::Subscription> {
                sqlx::query_as(
                    "INSERT INTO subscriptions (ward_id, group_id, user_id, channel, address, p256dh, \
                     auth, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (channel, address) DO UPDATE SET ward_id = $1, group_id = $2, \
                     user_id = $3, p256dh = $6, auth = $7, revoked_at = NULL RETURNING *",
                )
                .bind(s.ward_id)
                .bind(s.group_id)
                .bind(s.user_id)
                .bind(&s.channel)
                .bind(&s.address)
                .bind(&s.p256dh)
                .bind(&s.auth)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn revoke_subscription(&self, channel: &str, address: &str) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE subscriptions SET revoked_at = $1 WHERE channel = $2 AND address = $3 \
                     AND revoked_at IS NULL",
                )
                .bind(chrono::Utc::now())
                .bind(channel)
                .bind(address)
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(done.rows_affected() > 0)
            }

            async fn subscriptions(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::Subscription>> {
                sqlx::query_as("SELECT * FROM subscriptions WHERE ward_id = $1 AND revoked_at IS NULL ORDER BY id")
                    .bind(ward_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn enqueue_deliveries(
                &self,
                event_id: i64,
                items: &[(Option<i64>, String, String)],
            ) -> $crate::store::StoreResult<usize> {
                use $crate::store::StoreError;
                $crate::store::in_tx!(self, tx => {
                    let now = chrono::Utc::now();
                    for (sub, channel, recipient) in items {
                        sqlx::query(
                            "INSERT INTO deliveries (event_id, subscription_id, channel, recipient, \
                             status, attempts, next_attempt_at, updated_at) VALUES ($1, $2, $3, $4, \
                             'pending', 0, $5, $5)",
                        )
                        .bind(event_id)
                        .bind(sub)
                        .bind(channel)
                        .bind(recipient)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    }
                    items.len()
                })
            }

            async fn due_deliveries(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::Delivery>> {
                sqlx::query_as(
                    "SELECT * FROM deliveries WHERE (status = 'pending' AND next_attempt_at <= $1) \
                     OR (status = 'sending' AND updated_at < $2) ORDER BY next_attempt_at, id LIMIT $3",
                )
                .bind(now)
                .bind(now - chrono::Duration::minutes(5))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn claim_delivery(&self, id: i64) -> $crate::store::StoreResult<bool> {
                let now = chrono::Utc::now();
                let done = sqlx::query(
                    "UPDATE deliveries SET status = 'sending', updated_at = $1 WHERE id = $2 \
                     AND (status = 'pending' OR (status = 'sending' AND updated_at < $3))",
                )
                .bind(now)
                .bind(id)
                .bind(now - chrono::Duration::minutes(5))
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(done.rows_affected() == 1)
            }

            async fn subscription(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::warnings::Subscription>> {
                sqlx::query_as("SELECT * FROM subscriptions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn record_delivery(
                &self,
                id: i64,
                status: &str,
                attempts: i64,
                next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
                error: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
                     last_error = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(status)
                .bind(attempts)
                .bind(next_attempt_at)
                .bind(error)
                .bind(chrono::Utc::now())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn deliveries_of(
                &self,
                event_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::warnings::Delivery>> {
                sqlx::query_as("SELECT * FROM deliveries WHERE event_id = $1 ORDER BY id")
                    .bind(event_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_warning_store;
