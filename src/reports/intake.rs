//! Durable intake with group commit: concurrent submissions queue here and a single
//! writer stores whatever has gathered in one transaction, so many reports share one
//! disk sync. A caller hears back only after the commit: an answered report is on disk.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

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
    /// Start the writer task; it stops when every `Intake` clone is dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(store, rx));
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

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(NewReport, Reply)>) {
    let mut batch: Vec<(NewReport, Reply)> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let reports: Vec<NewReport> = batch.iter().map(|(r, _)| r.clone()).collect();
        match store.insert_reports(&reports).await {
            Ok(stored) => {
                for ((_, reply), report) in batch.drain(..).zip(stored) {
                    let _ = reply.send(Ok(report));
                }
            }
            Err(_) if batch.len() > 1 => {
                // One bad report must not sink the others: store them one by one.
                for (report, reply) in batch.drain(..) {
                    let one = store
                        .insert_reports(std::slice::from_ref(&report))
                        .await
                        .and_then(|mut v| v.pop().ok_or(StoreError::NotFound));
                    let _ = reply.send(one);
                }
            }
            Err(e) => {
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Other(e.to_string())));
                }
            }
        }
    }
}
