//! PostgreSQL, for a city running many wards (and several `serve` nodes) on one database.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use super::cache::{Caches, FORGET};
use super::reports::{NewReport, Report, answer_in_order, batch_answers, fresh_of, whole_micros};
use super::{
    Actor, AuditEntry, Backend, BatchError, REPORT_ORDER_LOCK, Store, StoreError, StoreResult,
    Write, accounts::impl_account_store, duty::impl_duty_store, forces::impl_forces_store,
    impl_batch, impl_common, reports::impl_report_store, territory::impl_territory_store,
    warnings::impl_warning_store,
};

pub struct PgStore {
    pool: PgPool,
    url: String,
    /// Shared with the notification stream, which forgets on the other nodes' word.
    caches: Arc<Caches>,
    /// Report intake's own connection, held outside the pool: the pool checks a
    /// connection with a round trip each time it hands one out, which the single writer
    /// waited for at every batch. It commits without waiting for the disk
    /// (synchronous_commit off); `flush` then makes those commits durable. Each is opened
    /// on first use, and again after a failure.
    intake: tokio::sync::Mutex<Option<PgConnection>>,
    flush: tokio::sync::Mutex<Option<PgConnection>>,
    /// The connection notifications go out on, held for the same reason: intake tells the
    /// other nodes after every pass.
    notifier: tokio::sync::Mutex<Option<PgConnection>>,
    /// Whether `flush_reports` may write a logical-decoding message (else it updates a row).
    flush_by_message: AtomicBool,
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        Ok(Self {
            pool,
            url: url.to_string(),
            caches: Arc::default(),
            intake: tokio::sync::Mutex::new(None),
            flush: tokio::sync::Mutex::new(None),
            notifier: tokio::sync::Mutex::new(None),
            flush_by_message: AtomicBool::new(true),
        })
    }

    /// Run a PostgreSQL client tool (pg_dump, pg_restore) against this database.
    async fn run_tool(&self, tool: &str, args: &[&str]) -> StoreResult<()> {
        let out = tokio::process::Command::new(tool)
            .args(args)
            .arg(format!("--dbname={}", self.url))
            .output()
            .await
            .map_err(|e| {
                StoreError::Other(format!(
                    "cannot run {tool} ({e}); install the PostgreSQL client tools \
                     (Debian: apt-get install postgresql-client)"
                ))
            })?;
        if !out.status.success() {
            return Err(StoreError::Other(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

impl PgStore {
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Store a batch of new reports (see `ReportStore::insert_reports`), durable on return.
    async fn store_report_batch(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        let stored = self.store_report_batch_unsynced(batch).await?;
        self.flush_reports().await?;
        Ok(stored)
    }

    /// Store a batch on intake's own connection, committed but not yet on disk
    /// (`Store::insert_reports_unsynced`): the connection commits with synchronous_commit
    /// off, so the order lock is held while the rows are written but not while the disk
    /// syncs, and the writer goes on with the next batch meanwhile.
    async fn store_report_batch_unsynced(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        let mut held = self.intake.lock().await;
        let conn = self.held_connection(&mut held, "off").await?;
        let out = Self::report_batch_on(conn, batch).await;
        forget_if_broken(&mut held, &out);
        out
    }

    /// Make every commit made so far on any connection durable: one small commit that
    /// waits for the disk. PostgreSQL's log is written in order, so syncing it up to this
    /// commit's record syncs every commit before it; one sync serves all the batches
    /// committed meanwhile. The commit writes a transactional logical-decoding message
    /// (prefix `wardwatch.flush`, no content): one small record and the commit's, no row
    /// version, nothing for vacuum to clean. Where the role may not call
    /// `pg_logical_emit_message`, an update of `intake_flush` (migration 0005) serves.
    async fn flush_reports(&self) -> StoreResult<()> {
        const BY_MESSAGE: &str = "SELECT pg_logical_emit_message(true, 'wardwatch.flush', '')";
        const BY_UPDATE: &str = "UPDATE intake_flush SET n = n + 1 WHERE id = 1";
        let mut held = self.flush.lock().await;
        let conn = self.held_connection(&mut held, "on").await?;
        let by_message = self.flush_by_message.load(Ordering::Relaxed);
        let sync = async |conn: &mut PgConnection, sql: &'static str| {
            sqlx::query(sql)
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(StoreError::from_sqlx)
        };
        let mut out = sync(conn, if by_message { BY_MESSAGE } else { BY_UPDATE }).await;
        if by_message && out.as_ref().is_err_and(not_permitted) {
            tracing::info!("intake syncs by updating intake_flush: no logical messages here");
            self.flush_by_message.store(false, Ordering::Relaxed);
            out = sync(conn, BY_UPDATE).await;
        }
        forget_if_broken(&mut held, &out);
        out
    }

    /// The connection in `slot`, opened (with `synchronous_commit` as given) if there is
    /// none.
    async fn held_connection<'a>(
        &self,
        slot: &'a mut Option<PgConnection>,
        synchronous_commit: &str,
    ) -> StoreResult<&'a mut PgConnection> {
        if slot.is_none() {
            let options = self
                .pool
                .connect_options()
                .as_ref()
                .clone()
                .options([("synchronous_commit", synchronous_commit)]);
            let conn = PgConnection::connect_with(&options)
                .await
                .map_err(StoreError::from_sqlx)?;
            *slot = Some(conn);
        }
        Ok(slot.as_mut().expect("opened above"))
    }

    async fn report_batch_on(
        conn: &mut PgConnection,
        batch: &[NewReport],
    ) -> StoreResult<Vec<Report>> {
        let keys: Vec<&str> = batch
            .iter()
            .filter_map(|r| r.client_key.as_deref())
            .collect();
        if keys.is_empty() {
            // The usual batch: one statement, a transaction of its own.
            let all: Vec<&NewReport> = batch.iter().collect();
            let stored = Self::insert_new_reports(conn, &all).await?;
            return batch_answers(batch, HashMap::new(), stored);
        }
        let mut tx = sqlx::Connection::begin(conn)
            .await
            .map_err(StoreError::from_sqlx)?;
        // A retried submission answers what its client key stored in an earlier commit.
        let mut by_key: HashMap<String, Report> = HashMap::new();
        let seen: Vec<Report> = sqlx::query_as("SELECT * FROM reports WHERE client_key = ANY($1)")
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        for r in seen {
            if let Some(k) = r.client_key.clone() {
                by_key.insert(k, r);
            }
        }
        let fresh = fresh_of(batch, |k| by_key.contains_key(k));
        let stored = Self::insert_new_reports(&mut tx, &fresh).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        batch_answers(batch, by_key, stored)
    }

    /// New reports in one statement, however many: each column travels as one array
    /// (`UNNEST`), so a single prepared statement serves batches of every size in one round
    /// trip. The statement takes the order lock first (see `order_lock`): ids are given
    /// after sorting (volatile expressions are evaluated after ORDER BY), so after the
    /// lock. The references a report carries are checked once for the batch, under the
    /// lock (migration 0006). Answers them in the batch's order.
    async fn insert_new_reports(
        conn: &mut PgConnection,
        fresh: &[&NewReport],
    ) -> StoreResult<Vec<Report>> {
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let col = |f: &dyn for<'r> Fn(&'r NewReport) -> &'r str| {
            fresh.iter().map(|r| f(r)).collect::<Vec<&str>>()
        };
        let opt =
            |f: &dyn Fn(&NewReport) -> Option<i64>| fresh.iter().map(|r| f(r)).collect::<Vec<_>>();
        let at = whole_micros(chrono::Utc::now());
        let ids: Vec<(i64, String)> = sqlx::query_as(
            "WITH order_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($24)), \
             named AS MATERIALIZED (SELECT report_references_exist($1, $10, $11, $18, $21) \
             FROM order_lock) \
             INSERT INTO reports (ward_id, tracking_code, category, description, search_folded, \
             occurred_at, lat, lon, place_unknown, group_id, site_id, address, status, priority, \
             anonymous, reporter_name, reporter_phone, reporter_email, reporter_user_id, source, \
             service_code, api_key_id, client_key, created_at, updated_at, tracking_no) \
             SELECT u.ward, u.code, u.category, u.description, u.folded, u.occurred, u.lat, \
             u.lon, u.unknown, u.grp, u.site, u.address, 'new', u.priority, u.anonymous, \
             u.name, u.phone, u.email, u.usr, u.source, u.service, u.key_id, u.client_key, \
             $23, $23, u.no \
             FROM named, UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::timestamptz[], $7::float8[], $8::float8[], $9::bool[], $10::bigint[], \
             $11::bigint[], $12::text[], $13::bigint[], $14::bool[], $15::text[], $16::text[], \
             $17::text[], $18::bigint[], $19::text[], $20::text[], $21::bigint[], $22::text[], \
             $25::bigint[]) \
             WITH ORDINALITY AS u(ward, code, category, description, folded, occurred, lat, lon, \
             unknown, grp, site, address, priority, anonymous, name, phone, email, usr, source, \
             service, key_id, client_key, no, n) \
             ORDER BY u.n \
             RETURNING id, tracking_code",
        )
        .bind(fresh.iter().map(|r| r.ward_id).collect::<Vec<_>>())
        .bind(col(&|r| &r.tracking_code))
        .bind(col(&|r| &r.category))
        .bind(col(&|r| &r.description))
        .bind(col(&|r| &r.search_folded))
        .bind(
            fresh
                .iter()
                .map(|r| r.occurred_at.map(whole_micros))
                .collect::<Vec<_>>(),
        )
        .bind(fresh.iter().map(|r| r.lat).collect::<Vec<_>>())
        .bind(fresh.iter().map(|r| r.lon).collect::<Vec<_>>())
        .bind(fresh.iter().map(|r| r.place_unknown).collect::<Vec<_>>())
        .bind(opt(&|r| r.group_id))
        .bind(opt(&|r| r.site_id))
        .bind(col(&|r| &r.address))
        .bind(fresh.iter().map(|r| r.priority).collect::<Vec<_>>())
        .bind(fresh.iter().map(|r| r.anonymous).collect::<Vec<_>>())
        .bind(col(&|r| &r.reporter_name))
        .bind(col(&|r| &r.reporter_phone))
        .bind(col(&|r| &r.reporter_email))
        .bind(opt(&|r| r.reporter_user_id))
        .bind(col(&|r| &r.source))
        .bind(
            fresh
                .iter()
                .map(|r| r.service_code.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(opt(&|r| r.api_key_id))
        .bind(
            fresh
                .iter()
                .map(|r| r.client_key.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(at)
        .bind(REPORT_ORDER_LOCK)
        .bind(fresh.iter().map(|r| r.tracking_no).collect::<Vec<_>>())
        .fetch_all(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
        answer_in_order(fresh, ids, at)
    }

    /// Transactions that hand out ids live listeners follow (reports, warning events)
    /// take this lock, so that ids commit in the order they were given: a reader that
    /// has seen id N never misses a smaller id committed later.
    async fn order_lock(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        key: i64,
    ) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}

impl_common!(PgStore, sqlx::Postgres);
impl_account_store!(PgStore, sqlx::Postgres);
impl_territory_store!(PgStore, sqlx::Postgres);
impl_forces_store!(PgStore, sqlx::Postgres);
impl_duty_store!(PgStore, sqlx::Postgres);
impl_report_store!(PgStore, sqlx::Postgres);
impl_warning_store!(PgStore, sqlx::Postgres);
impl_batch!(PgStore);

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres")
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
        // pg_dump reads one snapshot, so the service keeps writing meanwhile.
        let file = format!("--file={}", dest.display());
        self.run_tool("pg_dump", &["--format=custom", "--no-owner", &file])
            .await
    }

    async fn restore(&self, src: &Path) -> StoreResult<()> {
        let mut head = [0u8; 5];
        use std::io::Read;
        std::fs::File::open(src)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_err(|e| StoreError::Other(format!("cannot read {}: {e}", src.display())))?;
        if &head != b"PGDMP" {
            return Err(StoreError::Other(format!(
                "{} is not a wardwatch PostgreSQL backup",
                src.display()
            )));
        }
        let path = src.to_string_lossy().into_owned();
        let restored = self
            .run_tool(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    &path,
                ],
            )
            .await;
        self.caches.forget_all();
        self.tell_peers_to_forget().await;
        restored
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

    async fn notify(&self, payload: &str) -> StoreResult<()> {
        let mut held = self.notifier.lock().await;
        // Nothing waits for the disk here: a notification only says where to read.
        let conn = self.held_connection(&mut held, "off").await?;
        let out = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(super::LIVE_CHANNEL)
            .bind(payload)
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(StoreError::from_sqlx);
        forget_if_broken(&mut held, &out);
        out
    }

    async fn listen(
        &self,
    ) -> StoreResult<Option<futures_util::stream::BoxStream<'static, StoreResult<String>>>> {
        use futures_util::StreamExt;
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        listener
            .listen(super::LIVE_CHANNEL)
            .await
            .map_err(StoreError::from_sqlx)?;
        // A word to forget cached rows is for the store, not for the listeners; after an
        // error words may have been missed: forget everything.
        let caches = self.caches.clone();
        let stream = listener.into_stream().filter_map(move |n| {
            let item = match n {
                Ok(n) if n.payload() == FORGET => {
                    caches.forget_all();
                    None
                }
                Ok(n) => Some(Ok(n.payload().to_string())),
                Err(e) => {
                    caches.forget_all();
                    Some(Err(StoreError::from_sqlx(e)))
                }
            };
            std::future::ready(item)
        });
        Ok(Some(stream.boxed()))
    }

    async fn apply(&self, actor: Actor, writes: &[Write]) -> Result<usize, BatchError> {
        self.apply_common(actor, writes).await
    }

    async fn insert_reports_unsynced(&self, batch: &[NewReport]) -> StoreResult<Vec<Report>> {
        self.store_report_batch_unsynced(batch).await
    }

    async fn sync_reports(&self) -> StoreResult<()> {
        self.flush_reports().await
    }

    async fn close(&self) {
        for slot in [&self.intake, &self.flush, &self.notifier] {
            if let Some(conn) = slot.lock().await.take() {
                let _ = conn.close().await;
            }
        }
        self.pool.close().await;
    }
}

/// The database refused a call as not allowed for this role, or does not have it:
/// insufficient_privilege (42501), undefined_function (42883).
fn not_permitted(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(e)
        if e.as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "42501" || c == "42883"))
}

/// After a failure that is not a refusal by the database but of the connection itself,
/// drop the connection: another is opened next time.
fn forget_if_broken<T>(slot: &mut Option<PgConnection>, out: &StoreResult<T>) {
    if matches!(out, Err(StoreError::Database(e)) if e.as_database_error().is_none()) {
        *slot = None;
    }
}
