//! Live updates: new warnings and reports reach every open page at once. One node
//! broadcasts in process; with PostgreSQL every node LISTENs, a publisher NOTIFYs, and
//! each node reads what is new from the database, so nothing is lost across nodes or
//! across a dropped connection (a periodic catch-up closes any gap).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::store::Store;
use crate::store::reports::Report;
use crate::store::warnings::WarningEvent;

#[derive(Debug, Clone)]
pub enum LiveEvent {
    Warning(Arc<WarningEvent>),
    Report(Arc<Report>),
}

pub struct Live {
    tx: broadcast::Sender<LiveEvent>,
    store: Arc<dyn Store>,
    /// Nodes share a database and learn of news by notification.
    shared: bool,
    last_report: AtomicI64,
    last_warning: AtomicI64,
    catch_up_lock: tokio::sync::Mutex<()>,
}

/// How many events a slow listener may fall behind before it resyncs from the database.
const CAPACITY: usize = 4096;

impl Live {
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<Arc<Self>> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (last_report, last_warning) = store.live_marks().await?;
        let notifications = store.listen().await?;
        let live = Arc::new(Self {
            tx,
            store,
            shared: notifications.is_some(),
            last_report: AtomicI64::new(last_report),
            last_warning: AtomicI64::new(last_warning),
            catch_up_lock: tokio::sync::Mutex::new(()),
        });
        if let Some(mut stream) = notifications {
            let weak = Arc::downgrade(&live);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                loop {
                    tokio::select! {
                        n = stream.next() => {
                            if n.is_none() { break; }
                            // Errors mean the connection dropped: sqlx reconnects, and
                            // the catch-up below reads whatever was missed meanwhile.
                        }
                        _ = tick.tick() => {}
                    }
                    let Some(live) = weak.upgrade() else { break };
                    live.catch_up().await;
                }
            });
        }
        Ok(live)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Number of open live connections on this node.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    pub async fn warning_published(&self, event: WarningEvent) {
        if self.shared {
            if let Err(e) = self.store.notify("w").await {
                tracing::warn!(error = %e, "NOTIFY failed; peers catch up on their next tick");
            }
            self.catch_up().await;
        } else {
            self.last_warning.fetch_max(event.id, Ordering::SeqCst);
            let _ = self.tx.send(LiveEvent::Warning(Arc::new(event)));
        }
    }

    /// Reports one intake commit stored, in their order: one notification and one
    /// catch-up for the whole batch, however many reports it holds.
    pub async fn reports_stored(&self, reports: &[Report]) {
        if reports.is_empty() {
            return;
        }
        if self.shared {
            if let Err(e) = self.store.notify("r").await {
                tracing::warn!(error = %e, "NOTIFY failed; peers catch up on their next tick");
            }
            self.catch_up().await;
        } else {
            for report in reports {
                self.last_report.fetch_max(report.id, Ordering::SeqCst);
                let _ = self.tx.send(LiveEvent::Report(Arc::new(report.clone())));
            }
        }
    }

    /// Broadcast, in order, everything stored since the last broadcast.
    async fn catch_up(&self) {
        let _one_at_a_time = self.catch_up_lock.lock().await;
        let after = self.last_warning.load(Ordering::SeqCst);
        match self.store.warning_events_after(None, after, 1000).await {
            Ok(events) => {
                for e in events {
                    self.last_warning.fetch_max(e.id, Ordering::SeqCst);
                    let _ = self.tx.send(LiveEvent::Warning(Arc::new(e)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live catch-up of warnings failed"),
        }
        let after = self.last_report.load(Ordering::SeqCst);
        match self.store.reports_after(after, 1000).await {
            Ok(reports) => {
                for r in reports {
                    self.last_report.fetch_max(r.id, Ordering::SeqCst);
                    let _ = self.tx.send(LiveEvent::Report(Arc::new(r)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live catch-up of reports failed"),
        }
    }
}
