//! Durable intake with group commit: concurrent submissions queue here and a single
//! writer stores whatever has gathered in one transaction, so many reports share one
//! commit. A caller hears back only once its report is on disk.
//!
//! Two stages, off the request threads: the writer commits batch after batch without
//! waiting for the disk where the engine allows it (`Store::insert_reports_unsynced`);
//! the syncer makes every batch committed so far durable with one sync
//! (`Store::sync_reports`), then answers the callers, in the order the batches were
//! committed, and hands the reports to a third thread that tells the live listeners. So
//! the disk syncs batch N while the writer stores batch N+1. Where the store blocks its
//! thread (SQLite) each stage has a thread of its own; otherwise (PostgreSQL) they share
//! one and overlap while they wait for the database. (On SQLite, the store copies
//! the write-ahead log into the database on a thread of its own: see
//! `store/sqlite/intake.rs`.)

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::tracking::{Tracking, TrackingCodes};
use crate::live::Live;
use crate::store::reports::{NewReport, Report};
use crate::store::{Store, StoreError};

/// How many waiting reports one commit may carry.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Arc<Report>, StoreError>>;

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<(NewReport, Reply)>,
    tracking: Arc<Tracking>,
}

impl Intake {
    /// Start the writer and the syncer; they stop when every `Intake` clone is dropped.
    pub fn start(store: Arc<dyn Store>, live: Arc<Live>, tracking: Tracking) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        let (committed_tx, committed_rx) = mpsc::unbounded_channel();
        let (stored_tx, stored_rx) = mpsc::unbounded_channel();
        let write = writer(store.clone(), rx, committed_tx);
        let sync = syncer(store.clone(), committed_rx, stored_tx);
        if store.intake_blocks_thread() {
            on_own_thread("intake", write);
            on_own_thread("intake-sync", sync);
        } else {
            // Both only wait for the database: on one thread they still overlap (the
            // writer stores a batch while the syncer's flush is out), and a batch passes
            // from one to the other without waking another thread (measured on
            // PostgreSQL, 2-round quick runs back to back: about 5 % more reports a
            // second).
            on_own_thread("intake", async move {
                tokio::join!(write, sync);
            });
        }
        on_own_thread("intake-live", teller(live, stored_rx));
        Self {
            tx,
            tracking: Arc::new(tracking),
        }
    }

    /// The deployment's tracking codes (to find a report by its code).
    pub fn codes(&self) -> &TrackingCodes {
        self.tracking.codes()
    }

    /// Store one report under the next tracking code (whatever code it carries); returns
    /// once it is committed and on disk. The stored report is shared with the live
    /// listeners (one copy for both).
    pub async fn submit(&self, mut report: NewReport) -> Result<Arc<Report>, StoreError> {
        let (no, code) = self.tracking.next().await?;
        report.tracking_no = no;
        report.tracking_code = code;
        // Here, on the caller's thread: the single writer has less to do.
        report.search_folded = report.search_key();
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((report, reply))
            .await
            .map_err(|_| StoreError::Other("the intake writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Other("the intake writer has stopped".into()))?
    }
}

/// Run `task` on a thread and runtime of its own, so that its round trips to the
/// database do not queue behind the connections' tasks, and so that a store may block
/// it (SQLite's intake commits and syncs on the calling thread).
fn on_own_thread(name: &str, task: impl std::future::Future<Output = ()> + Send + 'static) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the intake's runtime starts");
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || runtime.block_on(task))
        .expect("the intake's thread starts");
}

/// What the writer hands the syncer: a committed batch and its callers, the answer to
/// one caller whose report was refused, or the writer's leave to commit again (given
/// back once the syncer has answered what came before it).
enum Committed {
    Batch(Vec<Report>, Vec<Reply>),
    Refused(Reply, StoreError),
    Leave(OwnedSemaphorePermit),
}

/// How many batches may be committed but not yet answered: one being synced and one
/// being stored. The writer waits for the syncer beyond that, and meanwhile more reports
/// gather for its next commit (a commit of many reports costs the disk little more than
/// one of a few).
const IN_FLIGHT: usize = 2;

async fn writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<(NewReport, Reply)>,
    committed: mpsc::UnboundedSender<Committed>,
) {
    let leaves = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut reports: Vec<NewReport> = Vec::with_capacity(MAX_BATCH);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_BATCH);
    while let Some((first, reply)) = rx.recv().await {
        reports.push(first);
        replies.push(reply);
        let Ok(leave) = leaves.clone().acquire_owned().await else {
            return;
        };
        while reports.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((next, reply)) => {
                    reports.push(next);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let result = store.insert_reports_unsynced(&reports).await;
        tracing::debug!(reports = reports.len(), took = ?started.elapsed(), "intake commit");
        let mut handed = Vec::new();
        match result {
            Ok(stored) => handed.push(Committed::Batch(stored, std::mem::take(&mut replies))),
            Err(_) if reports.len() > 1 => {
                // One bad report must not sink the others: store them one by one.
                for (report, reply) in reports.iter().zip(replies.drain(..)) {
                    let one = store
                        .insert_reports_unsynced(std::slice::from_ref(report))
                        .await;
                    handed.push(match one {
                        Ok(stored) => Committed::Batch(stored, vec![reply]),
                        Err(e) => Committed::Refused(reply, e),
                    });
                }
            }
            Err(e) => {
                // A batch of one: its caller hears why.
                if let Some(reply) = replies.pop() {
                    handed.push(Committed::Refused(reply, e));
                }
            }
        }
        handed.push(Committed::Leave(leave));
        for c in handed {
            if committed.send(c).is_err() {
                return;
            }
        }
        reports.clear();
    }
}

async fn syncer(
    store: Arc<dyn Store>,
    mut committed: mpsc::UnboundedReceiver<Committed>,
    stored_tx: mpsc::UnboundedSender<Vec<Arc<Report>>>,
) {
    let mut done = Vec::new();
    while committed.recv_many(&mut done, usize::MAX).await > 0 {
        // One sync for everything committed until now.
        let mut stored: Vec<Arc<Report>> = Vec::new();
        let mut waiting: Vec<Reply> = Vec::new();
        // Given back to the writer once this pass has answered.
        let mut leaves = Vec::new();
        for c in done.drain(..) {
            match c {
                Committed::Batch(reports, replies) => {
                    stored.extend(reports.into_iter().map(Arc::new));
                    waiting.extend(replies);
                }
                Committed::Refused(reply, e) => {
                    let _ = reply.send(Err(e));
                }
                Committed::Leave(leave) => leaves.push(leave),
            }
        }
        if stored.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let synced = store.sync_reports().await;
        tracing::debug!(reports = stored.len(), took = ?started.elapsed(), "intake sync");
        match synced {
            Ok(()) => {
                // The callers first: their reports are durable. Telling the live
                // listeners (on PostgreSQL, a round trip to the database) holds up
                // neither them, nor the writer, nor the next sync.
                for (reply, report) in waiting.into_iter().zip(&stored) {
                    let _ = reply.send(Ok(Arc::clone(report)));
                }
                drop(leaves);
                if stored_tx.send(stored).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "intake: committed reports may not be on disk");
                for reply in waiting {
                    let _ = reply.send(Err(StoreError::Other(e.to_string())));
                }
            }
        }
    }
}

/// The least time between two words to the live listeners. Under a flood of reports
/// (on PostgreSQL a notification, a transaction of its own, and a wake-up of every node's
/// listening connection, for each word) a word then tells of several commits; a listener
/// hears of a report at most this much later.
const TELL_EVERY: std::time::Duration = std::time::Duration::from_millis(5);

/// Tell the live listeners of the stored reports, in the order they were stored: one word
/// (on PostgreSQL, one notification) for whatever gathered while the last was told.
async fn teller(live: Arc<Live>, mut stored: mpsc::UnboundedReceiver<Vec<Arc<Report>>>) {
    let mut batches = Vec::new();
    while stored.recv_many(&mut batches, usize::MAX).await > 0 {
        let started = tokio::time::Instant::now();
        let reports: Vec<Arc<Report>> = batches.drain(..).flatten().collect();
        live.reports_stored(reports).await;
        tokio::time::sleep_until(started + TELL_EVERY).await;
    }
}
