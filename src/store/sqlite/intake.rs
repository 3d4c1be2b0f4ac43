//! SQLite report intake on a plain, synchronous connection of its own.
//!
//! The intake writer (`src/reports/intake.rs`) stores one batch at a time from a thread of
//! its own. Through sqlx, every statement of a commit was a round trip to the
//! connection's worker thread, and on a busy machine each wake-up of that thread waited
//! for a free core: measured, a commit of a handful of reports took 1.3 ms even with the
//! disk sync turned off, far more than SQLite's own work. Here the statements run on the
//! caller's thread, one prepared statement per row, and the commit blocks that thread (the
//! intake writer's, which has nothing else to do) for as long as the disk takes.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, ffi, params};

use crate::store::StoreError;
use crate::store::reports::{NewReport, Report, fresh_of, whole_micros};

/// What intake writes of a new report (its history's first step is read from this row:
/// `ReportStore::report_events`).
const INSERT: &str = "INSERT INTO reports (ward_id, tracking_code, category, description, \
     search_folded, occurred_at, lat, lon, place_unknown, group_id, site_id, address, status, \
     priority, anonymous, reporter_name, reporter_phone, reporter_email, reporter_user_id, \
     source, service_code, api_key_id, client_key, created_at, updated_at, tracking_no) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'new', ?13, ?14, ?15, ?16, ?17, \
     ?18, ?19, ?20, ?21, ?22, ?23, ?23, ?24)";

const BY_CLIENT_KEY: &str = "SELECT id FROM reports WHERE client_key = ?1";

pub(super) struct IntakeConn {
    conn: Connection,
}

/// When the checkpointer copies the write-ahead log into the database: after this many
/// reports, or this long after the last copy if any report came since. A copy writes and
/// syncs the database file, so the WAL syncs of intake that meet it wait longer: copying
/// every 4,096 reports instead of every 512 cut the slowest tenth of those syncs from
/// 1.0 ms to 0.7 ms and the checkpoints' total time by three quarters (intake benchmark,
/// 3 rounds, side by side, alternating), for 3–9 % more reports a second. The price is in
/// the slowest hundredth of requests: each copy is larger (11 ms median against 4 ms),
/// and a sync that meets one waits longer (request p99 25–36 ms against 11–13 ms on a
/// table of half a million reports and more).
const CHECKPOINT_REPORTS: usize = 4096;
const CHECKPOINT_AFTER: Duration = Duration::from_secs(2);
/// SQLite's automatic checkpoint stays as a bound on the log (pages, 4 KiB each) should
/// the checkpointer fall behind.
const AUTO_CHECKPOINT_PAGES: u32 = 10_000;

/// A batch as stored: the new rows, and the ids of the reports that client keys of the
/// batch had stored in earlier commits (a retried submission answers those).
pub(super) struct Stored {
    pub fresh: Vec<Report>,
    pub earlier: Vec<i64>,
}

impl IntakeConn {
    /// Open the database file the pool uses (already in WAL mode), with the pool's settings
    /// but one: a commit does not wait for the disk (synchronous=NORMAL). Whoever commits
    /// here syncs the WAL file afterwards (`sync_wal`) before telling anyone.
    pub fn open(path: &str) -> rusqlite::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "temp_store", "memory")?;
        conn.pragma_update(None, "wal_autocheckpoint", AUTO_CHECKPOINT_PAGES)?;
        Ok(Self { conn })
    }

    /// Store a batch in one transaction; nothing of it is kept if any row is refused.
    pub fn insert(&mut self, batch: &[NewReport]) -> rusqlite::Result<Stored> {
        // Times as sqlx writes them, so that every reader decodes them alike.
        let at = whole_micros(Utc::now());
        let text = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        let at_text = text(at);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut earlier = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        {
            let mut find = tx.prepare_cached(BY_CLIENT_KEY)?;
            for key in batch.iter().filter_map(|r| r.client_key.as_deref()) {
                if seen.contains(key) {
                    continue;
                }
                if let Some(id) = find.query_row([key], |row| row.get(0)).optional()? {
                    earlier.push(id);
                    seen.insert(key);
                }
            }
        }
        let mut fresh = Vec::with_capacity(batch.len());
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            for r in fresh_of(batch, |k| seen.contains(k)) {
                insert.execute(params![
                    r.ward_id,
                    r.tracking_code,
                    r.category,
                    r.description,
                    r.search_folded,
                    r.occurred_at.map(|t| text(whole_micros(t))),
                    r.lat,
                    r.lon,
                    r.place_unknown,
                    r.group_id,
                    r.site_id,
                    r.address,
                    r.priority,
                    r.anonymous,
                    r.reporter_name,
                    r.reporter_phone,
                    r.reporter_email,
                    r.reporter_user_id,
                    r.source,
                    r.service_code,
                    r.api_key_id,
                    r.client_key,
                    at_text,
                    r.tracking_no,
                ])?;
                // The report's own id: a trigger's insert does not change it once the
                // trigger has ended.
                fresh.push(r.stored(tx.last_insert_rowid(), r.search_folded.clone(), at));
            }
        }
        tx.commit()?;
        Ok(Stored { fresh, earlier })
    }
}

/// Copies the write-ahead log into the database (a checkpoint) on a thread and connection
/// of its own, so that neither the intake writer nor anyone waiting for it waits for the
/// copy. SQLite's automatic checkpoint ran inside a commit (every 1,000 pages of log,
/// about 35 commits under load) and held that batch and every report queued behind it
/// for 2–16 ms; run after the commit on the writer's thread, the copies (5 ms each, one
/// per 512 reports) still took a third of the writer's busy time. A passive checkpoint
/// never blocks the writer: it copies what was committed when it began, while new commits
/// go on appending to the log. SQLite syncs the log before it copies and the database
/// after, so durability does not depend on when it runs.
pub(super) struct Checkpointer {
    due: SyncSender<()>,
    /// Reports committed since the last copy began.
    pending: Arc<AtomicUsize>,
}

impl Checkpointer {
    /// Start the checkpointer of the database at `path`; it stops when this is dropped.
    pub fn start(path: String) -> Self {
        let (due, wake) = mpsc::sync_channel(1);
        let pending = Arc::new(AtomicUsize::new(0));
        let counted = pending.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&path, &wake, &counted))
            .expect("the checkpointer's thread starts");
        Self { due, pending }
    }

    /// `n` more reports are committed: wake the checkpointer once enough have gathered.
    /// Never blocks.
    pub fn committed(&self, n: usize) {
        let before = self.pending.fetch_add(n, Ordering::Relaxed);
        if before < CHECKPOINT_REPORTS && before + n >= CHECKPOINT_REPORTS {
            // Already woken, or stopped: either way nothing to do.
            let _ = self.due.try_send(());
        }
    }
}

fn checkpoint_loop(path: &str, wake: &mpsc::Receiver<()>, pending: &AtomicUsize) {
    let mut conn: Option<Connection> = None;
    loop {
        if let Err(RecvTimeoutError::Disconnected) = wake.recv_timeout(CHECKPOINT_AFTER) {
            return;
        }
        let reports = pending.swap(0, Ordering::Relaxed);
        if reports == 0 {
            continue;
        }
        let started = Instant::now();
        let copied = match conn.as_ref() {
            Some(c) => Ok(c),
            None => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map(|c| &*conn.insert(c)),
        }
        .and_then(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())));
        match copied {
            Ok(()) => {
                tracing::debug!(reports, took = ?started.elapsed(), "intake checkpoint");
            }
            Err(e) => {
                // What was not copied stays in the log for the next time (and SQLite's
                // automatic checkpoint bounds the log meanwhile).
                tracing::warn!(error = %e, "intake: checkpoint failed");
                pending.fetch_add(reports, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Make every commit made so far on `path` durable, as a commit with synchronous=FULL
/// would have: sync the WAL file, where a commit's pages are. In WAL mode with
/// synchronous=NORMAL, SQLite itself syncs the WAL before it copies pages out of it
/// (checkpoint) and the database file after; when no WAL file is left (the last
/// connection closed, which checkpoints it all), the database file is synced instead.
/// The file is opened each time, so a WAL file made anew is the one synced.
pub(super) fn sync_wal(path: &str) -> std::io::Result<()> {
    match std::fs::File::open(format!("{path}-wal")) {
        Ok(wal) => wal.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(path)?.sync_all(),
        Err(e) => Err(e),
    }
}

/// Whether the database refused the batch (a constraint) rather than failed: after a
/// refusal the connection is still good.
pub(super) fn is_refusal(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// The store's errors, as `StoreError::from_sqlx` makes them for SQLite.
pub(super) fn store_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, message) = &e {
        match f.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(crate::store::sqlite_unique_name(
                    message.as_deref().unwrap_or_default(),
                ));
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::Reference,
            _ => {}
        }
    }
    StoreError::Other(format!("SQLite intake: {e}"))
}
