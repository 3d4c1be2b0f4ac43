//! The embedded default: one SQLite file in the data directory, WAL, synchronous commits.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use super::cache::Caches;
use super::reports::{NewReport, Report, answer_in_order, whole_micros};
use super::{
    Actor, AuditEntry, Backend, BatchError, Params, Store, StoreError, StoreResult, Write,
    accounts::impl_account_store, duty::impl_duty_store, forces::impl_forces_store, impl_batch,
    impl_common, reports::impl_report_store, row_chunks, rows_sql, territory::impl_territory_store,
    warnings::impl_warning_store,
};

pub struct SqliteStore {
    pool: SqlitePool,
    path: String,
    caches: Caches,
    /// Report intake's own connection, always the same one: in WAL mode SQLite drops a
    /// connection's page cache whenever another connection wrote, so the intake writer on
    /// a connection of the shared pool read back the pages it was about to change at
    /// nearly every commit. Held outside any pool: a pool tests a connection with a round
    /// trip to its thread each time it is handed back, which the single writer waits for.
    intake: tokio::sync::Mutex<Option<SqliteConnection>>,
    options: SqliteConnectOptions,
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
            .connect_with(options.clone())
            .await?;
        Ok(Self {
            pool,
            path,
            caches: Caches::default(),
            intake: tokio::sync::Mutex::new(None),
            options,
        })
    }
}

impl SqliteStore {
    const PARAMS: Params = Params::InOrder;

    /// Every write transaction takes the write lock at its start (BEGIN IMMEDIATE): a
    /// transaction that reads first and writes later could otherwise fail with "database
    /// is locked" when another writer committed in between, whatever the busy timeout.
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// How intake's transactions begin.
    const INTAKE_BEGIN: &'static str = "BEGIN IMMEDIATE";

    /// Report intake's own connection (opened on first use; again after a failure).
    async fn intake_conn(
        &self,
    ) -> Result<tokio::sync::MappedMutexGuard<'_, SqliteConnection>, sqlx::Error> {
        let mut held = self.intake.lock().await;
        if held.is_none() {
            *held = Some(SqliteConnection::connect_with(&self.options).await?);
        }
        Ok(tokio::sync::MutexGuard::map(held, |c| {
            c.as_mut().expect("opened just above")
        }))
    }

    /// Intake's connection failed: open another next time.
    async fn intake_failed(&self) {
        if let Some(conn) = self.intake.lock().await.take() {
            let _ = conn.close().await;
        }
    }

    /// New reports in a few multi-row statements (a handful of texts, each prepared once,
    /// serve batches of every size). Answers them in the batch's order.
    ///
    /// (One statement over `json_each` of the whole batch was tried: SQLite took twice as
    /// long per row to pick the fields out of the JSON as to bind them.)
    async fn insert_new_reports(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        fresh: &[&NewReport],
    ) -> StoreResult<Vec<Report>> {
        let at = whole_micros(chrono::Utc::now());
        let mut ids: Vec<(i64, String)> = Vec::with_capacity(fresh.len());
        let mut rest = fresh;
        for n in row_chunks(fresh.len()) {
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let sql = format!(
                "INSERT INTO reports (ward_id, tracking_code, category, description, \
                 search_folded, occurred_at, lat, lon, place_unknown, group_id, site_id, \
                 address, status, priority, anonymous, reporter_name, reporter_phone, \
                 reporter_email, reporter_user_id, source, service_code, api_key_id, \
                 client_key, created_at, updated_at) VALUES {} RETURNING id, tracking_code",
                rows_sql(
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    n,
                    Self::PARAMS,
                )
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
            for r in chunk {
                q = q
                    .bind(r.ward_id)
                    .bind(&r.tracking_code)
                    .bind(&r.category)
                    .bind(&r.description)
                    .bind(&r.search_folded)
                    .bind(r.occurred_at.map(whole_micros))
                    .bind(r.lat)
                    .bind(r.lon)
                    .bind(r.place_unknown)
                    .bind(r.group_id)
                    .bind(r.site_id)
                    .bind(&r.address)
                    .bind(r.priority)
                    .bind(r.anonymous)
                    .bind(&r.reporter_name)
                    .bind(&r.reporter_phone)
                    .bind(&r.reporter_email)
                    .bind(r.reporter_user_id)
                    .bind(&r.source)
                    .bind(&r.service_code)
                    .bind(r.api_key_id)
                    .bind(&r.client_key)
                    .bind(at)
                    .bind(at);
            }
            ids.extend(
                q.fetch_all(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?,
            );
        }
        answer_in_order(fresh, ids, at)
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
            // In the order the tables were made: a table a trigger writes to (the first step of
            // each report's history, migration 0004) was made after the table whose rows
            // fire it, so it is emptied and copied after the trigger wrote to it.
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

    async fn close(&self) {
        if let Some(conn) = self.intake.lock().await.take() {
            let _ = conn.close().await;
        }
        self.pool.close().await;
    }
}
