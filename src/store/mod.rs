//! The store: one interface over the database, with an embedded SQLite implementation
//! (the default) and a PostgreSQL one. Capabilities only see the traits here.
//!
//! Each capability's store trait lives in its own file together with one portable
//! implementation written as a macro; `sqlite.rs` and `postgres.rs` instantiate it for
//! their pool type and add what differs between the engines (connection, backup).

pub mod accounts;
pub mod cache;
pub mod duty;
pub mod forces;
pub mod postgres;
pub mod reports;
pub mod sqlite;
pub mod territory;
pub mod warnings;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use accounts::AccountStore;
pub use duty::DutyStore;
pub use forces::ForcesStore;
pub use reports::ReportStore;
pub use territory::TerritoryStore;
pub use warnings::WarningStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; names it as `table_column[_column]_key`.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A referenced row does not exist (or a row is still referenced).
    #[error("reference refused")]
    Reference,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The name PostgreSQL would give the unique constraint an SQLite message names
/// ("UNIQUE constraint failed: people.team_id, people.team_role" → `people_team_id_team_role_key`).
pub(crate) fn sqlite_unique_name(message: &str) -> String {
    let cols = message.rsplit(": ").next().unwrap_or_default();
    let mut parts = cols.split(", ").filter_map(|c| c.split_once('.'));
    let mut name = String::new();
    if let Some((table, col)) = parts.next() {
        name = format!("{table}_{col}");
        for (_, col) in parts {
            name.push('_');
            name.push_str(col);
        }
        name.push_str("_key");
    }
    name
}

impl StoreError {
    /// Turn constraint violations into `Conflict`/`Reference`, whatever the engine.
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = err {
            return StoreError::NotFound;
        }
        if let Some(db) = err.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    let name = db
                        .constraint()
                        .map(str::to_string)
                        .unwrap_or_else(|| sqlite_unique_name(db.message()));
                    return StoreError::Conflict(name);
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::Reference,
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

/// Who made a change, for the audit log; `None` is the command line or the system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ward_id: Option<i64>,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub action: String,
    pub detail: String,
}

#[async_trait]
pub trait Store:
    AccountStore
    + TerritoryStore
    + ForcesStore
    + DutyStore
    + ReportStore
    + WarningStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    /// Bring the schema up to date.
    async fn migrate(&self) -> StoreResult<()>;
    /// Is the database answering?
    async fn ping(&self) -> StoreResult<()>;
    /// Write a consistent copy to `dest` while the service keeps running.
    async fn backup(&self, dest: &Path) -> StoreResult<()>;
    /// Replace every record with those of a backup made by `backup`.
    async fn restore(&self, src: &Path) -> StoreResult<()>;
    /// The change history of one record, or of a whole ward when `entity` is `None`.
    async fn audit_trail(
        &self,
        ward_id: Option<i64>,
        entity: Option<(&str, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Note in the audit log that someone was shown personal data.
    async fn record_view(
        &self,
        actor: Actor,
        ward_id: i64,
        entity: &str,
        entity_id: i64,
        detail: &str,
    ) -> StoreResult<()>;
    /// Tell every node of the deployment that something was published (PostgreSQL
    /// NOTIFY); with SQLite there is one node and nothing to do.
    async fn notify(&self, payload: &str) -> StoreResult<()>;
    /// Other nodes' notifications, when the engine carries them (PostgreSQL LISTEN).
    async fn listen(
        &self,
    ) -> StoreResult<Option<futures_util::stream::BoxStream<'static, StoreResult<String>>>>;
    /// Apply every write or none of them.
    async fn apply(&self, actor: Actor, writes: &[Write]) -> Result<usize, BatchError>;
    async fn close(&self);

    /// Report intake's commit, without waiting for the disk where the engine allows it:
    /// the batch is committed (readers may see it) but survives a power cut only once
    /// `sync_reports` has returned. Report intake answers no caller before that. By
    /// default the commit is durable already, as `insert_reports`.
    async fn insert_reports_unsynced(
        &self,
        batch: &[reports::NewReport],
    ) -> StoreResult<Vec<reports::Report>> {
        self.insert_reports(batch).await
    }

    /// Whether `insert_reports_unsynced` and `sync_reports` block their thread while the
    /// database works (SQLite does). If not, intake's writer and syncer share one thread:
    /// handing a batch from one to the other then wakes no other thread.
    fn intake_blocks_thread(&self) -> bool {
        false
    }

    /// Make every batch `insert_reports_unsynced` stored so far durable. May block its
    /// thread while the disk works if `intake_blocks_thread` says so: intake then calls it
    /// from a thread of its own.
    async fn sync_reports(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Open the database a URL names: `sqlite:` paths or `postgres://`/`postgresql://`.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!(
            "DATABASE_URL must start with postgres:// (PostgreSQL) or sqlite: (embedded); got {:?}",
            url.split(':').next().unwrap_or_default()
        )
    }
}

/// Run `$body` (which uses the transaction `$tx`) and commit; any `?` inside rolls back.
/// `$begin` names the method that starts the transaction, `begin_tx` by default.
macro_rules! in_tx {
    ($self:ident, $tx:ident => $body:expr) => {
        $crate::store::in_tx!($self.begin_tx, $tx => $body)
    };
    ($self:ident . $begin:ident, $tx:ident => $body:expr) => {{
        let mut $tx = $self
            .$begin()
            .await
            .map_err($crate::store::StoreError::from_sqlx)?;
        let out = $body;
        $tx.commit()
            .await
            .map_err($crate::store::StoreError::from_sqlx)?;
        Ok(out)
    }};
}
pub(crate) use in_tx;

/// Advisory lock keys that keep live ids committing in order (PostgreSQL). Migration
/// 0006's delete guard (`reports_keep_parent`) takes the report lock by its number.
pub const REPORT_ORDER_LOCK: i64 = 7_271_001;
pub const WARNING_ORDER_LOCK: i64 = 7_271_002;

/// The channel nodes notify each other on.
pub const LIVE_CHANNEL: &str = "wardwatch_live";

/// Statements shared by every capability's portable implementation.
macro_rules! impl_common {
    ($store:ty, $db:ty) => {
        impl $store {
            /// After a committed write to rows the nodes cache: the other nodes forget
            /// theirs (this one has forgotten already).
            async fn tell_peers_to_forget(&self) {
                if let Err(e) = $crate::store::Store::notify(self, $crate::store::cache::FORGET).await {
                    tracing::warn!(error = %e, "NOTIFY failed; the other nodes' caches expire by age");
                }
            }

            /// Record a change in the same transaction as the change itself.
            #[allow(clippy::too_many_arguments)]
            async fn audit_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                ward_id: Option<i64>,
                entity: &str,
                entity_id: Option<i64>,
                action: &str,
                detail: String,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_log (at, user_id, ward_id, entity, entity_id, action, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(chrono::Utc::now())
                .bind(actor.user_id)
                .bind(ward_id)
                .bind(entity)
                .bind(entity_id)
                .bind(action)
                .bind(detail)
                .execute(&mut **tx)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn record_view_common(
                &self,
                actor: $crate::store::Actor,
                ward_id: i64,
                entity: &str,
                entity_id: i64,
                detail: &str,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_tx().await.map_err($crate::store::StoreError::from_sqlx)?;
                Self::audit_tx(&mut tx, actor, Some(ward_id), entity, Some(entity_id), "view", detail.to_string())
                    .await?;
                tx.commit().await.map_err($crate::store::StoreError::from_sqlx)
            }

            async fn audit_trail_common(
                &self,
                ward_id: Option<i64>,
                entity: Option<(&str, i64)>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::AuditEntry>> {
                let (entity, entity_id) = match entity {
                    Some((e, id)) => (Some(e), Some(id)),
                    None => (None, None),
                };
                sqlx::query_as(
                    "SELECT a.id, a.at, a.user_id, u.username, a.ward_id, a.entity, a.entity_id, \
                     a.action, a.detail FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
                     WHERE ($1 IS NULL OR a.ward_id = $1) AND ($2 IS NULL OR a.entity = $2) \
                     AND ($3 IS NULL OR a.entity_id = $3) ORDER BY a.id DESC LIMIT $4",
                )
                .bind(ward_id)
                .bind(entity)
                .bind(entity_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_common;

/// One write of an all-or-nothing batch (an import); `Some(id)` updates that record.
#[derive(Debug, Clone)]
pub enum Write {
    Unit(Option<i64>, territory::UnitInput),
    Site(Option<i64>, territory::SiteInput),
    Team(Option<i64>, forces::TeamInput),
    Force(Option<i64>, forces::ForceInput),
    Person(Option<i64>, forces::PersonInput),
}

/// Where in a batch a write failed, so an import can name the sheet's line.
#[derive(Debug)]
pub struct BatchError {
    pub index: usize,
    pub error: StoreError,
}

/// `apply` for both backends: every write in one transaction.
macro_rules! impl_batch {
    ($store:ty) => {
        impl $store {
            async fn apply_common(
                &self,
                actor: $crate::store::Actor,
                writes: &[$crate::store::Write],
            ) -> Result<usize, $crate::store::BatchError> {
                use $crate::store::{BatchError, StoreError, Write};
                let fail = |index, error| BatchError { index, error };
                let mut tx = self
                    .begin_tx()
                    .await
                    .map_err(|e| fail(0, StoreError::from_sqlx(e)))?;
                for (i, w) in writes.iter().enumerate() {
                    let r = match w {
                        Write::Unit(id, input) => Self::write_unit_tx(&mut tx, actor, *id, input)
                            .await
                            .map(drop),
                        Write::Site(id, input) => Self::write_site_tx(&mut tx, actor, *id, input)
                            .await
                            .map(drop),
                        Write::Team(id, input) => Self::write_team_tx(&mut tx, actor, *id, input)
                            .await
                            .map(drop),
                        Write::Force(id, input) => Self::write_force_tx(&mut tx, actor, *id, input)
                            .await
                            .map(drop),
                        Write::Person(id, input) => {
                            Self::write_person_tx(&mut tx, actor, *id, input)
                                .await
                                .map(drop)
                        }
                    };
                    r.map_err(|e| fail(i, e))?;
                }
                tx.commit()
                    .await
                    .map_err(|e| fail(writes.len(), StoreError::from_sqlx(e)))?;
                if writes.iter().any(|w| matches!(w, Write::Unit(..))) {
                    self.caches.units.forget_all();
                    self.tell_peers_to_forget().await;
                }
                Ok(writes.len())
            }
        }
    };
}
pub(crate) use impl_batch;
