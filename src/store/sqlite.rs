//! The embedded default: one SQLite file in the data directory, WAL, synchronous commits.

mod intake;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::PoisonError;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::cache::Caches;
use super::reports::{NewReport, Report, ReportStore, batch_answers};
use super::{
    Actor, AuditEntry, Backend, BatchError, Store, StoreError, StoreResult, Write,
    accounts::impl_account_store, duty::impl_duty_store, forces::impl_forces_store, impl_batch,
    impl_common, reports::impl_report_store, territory::impl_territory_store,
    warnings::impl_warning_store,
};

pub struct SqliteStore {
    pool: SqlitePool,
    path: String,
    caches: Caches,
    /// Report intake's own connection, always the same one: in WAL mode SQLite drops a
    /// connection's page cache whenever another connection wrote, so the intake writer on
    /// a connection of the shared pool read back the pages it was about to change at
    /// nearly every commit. A plain synchronous connection outside sqlx (see
    /// `sqlite/intake.rs`); opened on first use, and again after a failure.
    intake: std::sync::Mutex<Option<intake::IntakeConn>>,
    /// Copies intake's write-ahead log into the database off the writer's thread; started
    /// on the first intake commit, stopped by `close`.
    checkpointer: std::sync::Mutex<Option<intake::Checkpointer>>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the client hears of it, even on power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Statement journals and sort space in memory, not in temporary files.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        let path = options.get_filename().to_string_lossy().into_owned();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            path,
            caches: Caches::default(),
            intake: std::sync::Mutex::new(None),
            checkpointer: std::sync::Mutex::new(None),
        })
    }
}

impl SqliteStore {
    /// Every write transaction takes the write lock at its start (BEGIN IMMEDIATE): a
    /// transaction that reads first and writes later could otherwise fail with "database
    /// is locked" when another writer committed in between, whatever the busy timeout.
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Store a batch of new reports in one transaction (see `ReportStore::insert_reports`),
    /// durable on return.
    async fn store_report_batch(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        let stored = self.store_report_batch_unsynced(batch).await?;
        self.sync_reports().await?;
        Ok(stored)
    }

    /// Store a batch, committed but not yet synced to disk (`Store::insert_reports_unsynced`).
    ///
    /// Blocks the calling thread for the commit: the intake writer calls it from a thread
    /// of its own.
    async fn store_report_batch_unsynced(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        let stored = self.on_intake(|conn| conn.insert(batch))?;
        self.checkpointer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| intake::Checkpointer::start(self.path.clone()))
            .committed(stored.fresh.len());
        // A retried submission answers what its client key stored before.
        let mut by_key = HashMap::new();
        for id in stored.earlier {
            if let Some(report) = self.report(id).await?
                && let Some(key) = report.client_key.clone()
            {
                by_key.insert(key, report);
            }
        }
        batch_answers(batch, by_key, stored.fresh)
    }

    /// Run `f` on intake's own connection, opened on first use. After a failure that is
    /// not a refusal by the database, another is opened next time. Blocks the calling
    /// thread.
    fn on_intake<T>(
        &self,
        f: impl FnOnce(&mut intake::IntakeConn) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        let mut held = self.intake.lock().unwrap_or_else(PoisonError::into_inner);
        let conn = match held.as_mut() {
            Some(conn) => conn,
            None => held.insert(intake::IntakeConn::open(&self.path).map_err(intake::store_error)?),
        };
        let out = f(conn);
        if let Err(e) = &out
            && !intake::is_refusal(e)
        {
            *held = None;
        }
        out.map_err(intake::store_error)
    }

    /// SQLite has one writer at a time: ids already commit in order.
    async fn order_lock(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        _key: i64,
    ) -> StoreResult<()> {
        Ok(())
    }
}

impl_common!(SqliteStore, sqlx::Sqlite);
impl_account_store!(SqliteStore, sqlx::Sqlite);
impl_territory_store!(SqliteStore, sqlx::Sqlite);
impl_forces_store!(SqliteStore, sqlx::Sqlite);
impl_duty_store!(SqliteStore, sqlx::Sqlite);
impl_report_store!(SqliteStore, sqlx::Sqlite);
impl_warning_store!(SqliteStore, sqlx::Sqlite);
impl_batch!(SqliteStore);

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(e.to_string()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn backup(&self, dest: &Path) -> StoreResult<()> {
        if dest.exists() {
            return Err(StoreError::Other(format!(
                "{} already exists",
                dest.display()
            )));
        }
        // VACUUM INTO reads one snapshot, so writers can go on meanwhile.
        sqlx::query("VACUUM INTO $1")
            .bind(dest.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn restore(&self, src: &Path) -> StoreResult<()> {
        let mut head = [0u8; 16];
        use std::io::Read;
        std::fs::File::open(src)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_err(|e| StoreError::Other(format!("cannot read {}: {e}", src.display())))?;
        if &head != b"SQLite format 3\0" {
            return Err(StoreError::Other(format!(
                "{} is not a wardwatch SQLite backup",
                src.display()
            )));
        }
        // Copy every table from the backup inside one transaction on this database.
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        sqlx::query("ATTACH DATABASE $1 AS backup")
            .bind(src.to_string_lossy().into_owned())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_sqlx)?;
        let result = async {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM backup.sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY rowid",
            )
            .fetch_all(&mut *conn)
            .await?;
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            // In the order the tables were made.
            for t in &tables {
                // Table names come from the backup's own schema, quoted.
                let t = t.replace('"', "");
                sqlx::query(&format!("DELETE FROM main.\"{t}\""))
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(&format!(
                    "INSERT INTO main.\"{t}\" SELECT * FROM backup.\"{t}\""
                ))
                .execute(&mut *conn)
                .await?;
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        if result.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        }
        let _ = sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut *conn)
            .await;
        let _ = sqlx::query("DETACH DATABASE backup")
            .execute(&mut *conn)
            .await;
        self.caches.forget_all();
        result.map_err(StoreError::from_sqlx)?;
        tracing::info!(db = %self.path, "restored from {}", src.display());
        Ok(())
    }

    async fn audit_trail(
        &self,
        ward_id: Option<i64>,
        entity: Option<(&str, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.audit_trail_common(ward_id, entity, limit).await
    }

    async fn record_view(
        &self,
        actor: Actor,
        ward_id: i64,
        entity: &str,
        entity_id: i64,
        detail: &str,
    ) -> StoreResult<()> {
        self.record_view_common(actor, ward_id, entity, entity_id, detail)
            .await
    }

    async fn notify(&self, _payload: &str) -> StoreResult<()> {
        Ok(())
    }

    async fn listen(
        &self,
    ) -> StoreResult<Option<futures_util::stream::BoxStream<'static, StoreResult<String>>>> {
        Ok(None)
    }

    async fn apply(&self, actor: Actor, writes: &[Write]) -> Result<usize, BatchError> {
        self.apply_common(actor, writes).await
    }

    async fn insert_reports_unsynced(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        self.store_report_batch_unsynced(batch).await
    }

    fn intake_blocks_thread(&self) -> bool {
        true
    }

    async fn sync_reports(&self) -> StoreResult<()> {
        intake::sync_wal(&self.path)
            .map_err(|e| StoreError::Other(format!("syncing {} to disk: {e}", self.path)))
    }

    async fn close(&self) {
        self.checkpointer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.intake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.pool.close().await;
    }
}
