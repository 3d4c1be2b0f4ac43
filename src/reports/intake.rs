//! Durable intake with group commit: concurrent submissions queue here and a single
//! writer stores whatever has gathered in one transaction, so many reports share one
//! disk sync. A caller hears back only after the commit: an answered report is on disk.
//! The live listeners hear of a committed batch once, before its callers are answered.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::live::Live;
use crate::store::reports::{NewReport, Report};
use crate::store::{Store, StoreError};

/// How many waiting reports one commit may carry.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Report, StoreError>>;

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<(NewReport, Reply)>,
}

impl Intake {
    /// Start the writer; it stops when every `Intake` clone is dropped.
    ///
    /// The writer runs on a thread and runtime of its own, so that its round trips to the
    /// database do not queue behind the connections' tasks. (Measured: a small gain at
    /// most, within the noise of one run; what shortened commits was taking intake's
    /// connection out of the pool and storing a batch in one statement.)
    pub fn start(store: Arc<dyn Store>, live: Arc<Live>) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the intake writer's runtime starts");
        std::thread::Builder::new()
            .name("intake".into())
            .spawn(move || runtime.block_on(writer(store, live, rx)))
            .expect("the intake writer's thread starts");
        Self { tx }
    }

    /// Store one report; returns once it is committed.
    pub async fn submit(&self, report: NewReport) -> Result<Report, StoreError> {
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

async fn writer(
    store: Arc<dyn Store>,
    live: Arc<Live>,
    mut rx: mpsc::Receiver<(NewReport, Reply)>,
) {
    let mut reports: Vec<NewReport> = Vec::with_capacity(MAX_BATCH);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_BATCH);
    while let Some((first, reply)) = rx.recv().await {
        reports.push(first);
        replies.push(reply);
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
        let result = store.insert_reports(&reports).await;
        tracing::debug!(reports = reports.len(), took = ?started.elapsed(), "intake commit");
        match result {
            Ok(stored) => {
                live.reports_stored(&stored).await;
                for (reply, report) in replies.drain(..).zip(stored) {
                    let _ = reply.send(Ok(report));
                }
            }
            Err(_) if reports.len() > 1 => {
                // One bad report must not sink the others: store them one by one.
                for (report, reply) in reports.iter().zip(replies.drain(..)) {
                    let one = store
                        .insert_reports(std::slice::from_ref(report))
                        .await
                        .and_then(|mut v| v.pop().ok_or(StoreError::NotFound));
                    if let Ok(stored) = &one {
                        live.reports_stored(std::slice::from_ref(stored)).await;
                    }
                    let _ = reply.send(one);
                }
            }
            Err(e) => {
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(StoreError::Other(e.to_string())));
                }
            }
        }
        reports.clear();
    }
}
