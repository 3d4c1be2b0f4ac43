//! Live updates: new warnings and reports reach every open page at once. One node
//! broadcasts in process; with PostgreSQL every node LISTENs, a publisher NOTIFYs, and
//! each node reads what is new from the database, so nothing is lost across nodes or
//! across a dropped connection (a periodic catch-up closes any gap). A notification
//! names what is new ("r" reports, "w" warnings) and the node that stored it; a node
//! reads back only that kind, and nothing for its own (it broadcast those already). Warnings and
//! reports travel on channels of their own, so that a flood of reports neither wakes the
//! residents' pages nor pushes a warning out of a slow listener's queue; a listener that
//! fell behind anyway reads what it missed back from the database ([`follow`]).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

use crate::store::Store;
use crate::store::reports::Report;
use crate::store::warnings::WarningEvent;

pub struct Live {
    warnings: broadcast::Sender<Arc<WarningEvent>>,
    reports: broadcast::Sender<Arc<Report>>,
    store: Arc<dyn Store>,
    /// Nodes share a database and learn of news by notification.
    shared: bool,
    last_report: AtomicI64,
    last_warning: AtomicI64,
    catch_up_lock: tokio::sync::Mutex<()>,
    /// This node's name in its notifications, so that it knows its own.
    node: String,
}

/// How many events a slow listener may fall behind before it resyncs from the database.
const CAPACITY: usize = 1024;

impl Live {
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<Arc<Self>> {
        let (warnings, _) = broadcast::channel(CAPACITY);
        let (reports, _) = broadcast::channel(CAPACITY);
        let (last_report, last_warning) = store.live_marks().await?;
        let notifications = store.listen().await?;
        let live = Arc::new(Self {
            warnings,
            reports,
            store,
            shared: notifications.is_some(),
            last_report: AtomicI64::new(last_report),
            last_warning: AtomicI64::new(last_warning),
            catch_up_lock: tokio::sync::Mutex::new(()),
            node: format!("{:016x}", rand::random::<u64>()),
        });
        if let Some(mut stream) = notifications {
            let weak = Arc::downgrade(&live);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                loop {
                    // Errors mean the connection dropped: sqlx reconnects, and a whole
                    // catch-up reads whatever was missed meanwhile; so does the tick.
                    let word = tokio::select! {
                        n = stream.next() => match n {
                            None => break,
                            Some(Ok(payload)) => Some(payload),
                            Some(Err(_)) => None,
                        },
                        _ = tick.tick() => None,
                    };
                    let Some(live) = weak.upgrade() else { break };
                    match word.as_deref().map(|w| news(w, &live.node)) {
                        Some(News::Own) => {}
                        Some(News::Reports) => live.catch_up_reports().await,
                        Some(News::Warnings) => live.catch_up_warnings().await,
                        Some(News::Unknown) | None => live.catch_up().await,
                    }
                }
            });
        }
        Ok(live)
    }

    /// Warnings published from now on (on any node).
    pub fn warnings(&self) -> broadcast::Receiver<Arc<WarningEvent>> {
        self.warnings.subscribe()
    }

    /// Reports stored from now on (on any node).
    pub fn reports(&self) -> broadcast::Receiver<Arc<Report>> {
        self.reports.subscribe()
    }

    /// The newest warning event this node broadcast.
    pub fn last_warning(&self) -> i64 {
        self.last_warning.load(Ordering::SeqCst)
    }

    /// The newest report this node broadcast.
    pub fn last_report(&self) -> i64 {
        self.last_report.load(Ordering::SeqCst)
    }

    /// Number of open live connections on this node.
    pub fn listeners(&self) -> usize {
        self.warnings.receiver_count() + self.reports.receiver_count()
    }

    pub async fn warning_published(&self, event: WarningEvent) {
        if self.shared {
            if let Err(e) = self.store.notify(&format!("w {}", self.node)).await {
                tracing::warn!(error = %e, "NOTIFY failed; peers catch up on their next tick");
            }
            self.catch_up().await;
        } else {
            self.last_warning.fetch_max(event.id, Ordering::SeqCst);
            let _ = self.warnings.send(Arc::new(event));
        }
    }

    /// Reports one intake commit stored, in their order: one notification and one
    /// catch-up for the whole batch, however many reports it holds.
    pub async fn reports_stored(&self, reports: Vec<Arc<Report>>) {
        if reports.is_empty() {
            return;
        }
        if self.shared {
            if let Err(e) = self.store.notify(&format!("r {}", self.node)).await {
                tracing::warn!(error = %e, "NOTIFY failed; peers catch up on their next tick");
            }
            if !self.follows_on(reports).await {
                self.catch_up().await;
            }
        } else {
            for report in reports {
                self.last_report.fetch_max(report.id, Ordering::SeqCst);
                let _ = self.reports.send(report);
            }
        }
    }

    /// A batch this node stored whose ids follow straight on the last report it broadcast
    /// is broadcast as it is, without reading it back: reports commit in the order of
    /// their ids (the store's order lock), so nothing can be missing in between. Answers
    /// whether it did.
    async fn follows_on(&self, reports: Vec<Arc<Report>>) -> bool {
        let _one_at_a_time = self.catch_up_lock.lock().await;
        let last = self.last_report.load(Ordering::SeqCst);
        let in_a_row = reports
            .iter()
            .enumerate()
            .all(|(i, r)| r.id == last + 1 + i as i64);
        if !in_a_row {
            return false;
        }
        for r in reports {
            self.last_report.fetch_max(r.id, Ordering::SeqCst);
            let _ = self.reports.send(r);
        }
        true
    }

    /// Broadcast, in order, everything stored since the last broadcast.
    async fn catch_up(&self) {
        self.catch_up_warnings().await;
        self.catch_up_reports().await;
    }

    async fn catch_up_warnings(&self) {
        let _one_at_a_time = self.catch_up_lock.lock().await;
        let after = self.last_warning.load(Ordering::SeqCst);
        match self.store.warning_events_after(None, after, 1000).await {
            Ok(events) => {
                for e in events {
                    self.last_warning.fetch_max(e.id, Ordering::SeqCst);
                    let _ = self.warnings.send(Arc::new(e));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live catch-up of warnings failed"),
        }
    }

    async fn catch_up_reports(&self) {
        let _one_at_a_time = self.catch_up_lock.lock().await;
        let after = self.last_report.load(Ordering::SeqCst);
        match self.store.reports_after(after, 1000).await {
            Ok(reports) => {
                for r in reports {
                    self.last_report.fetch_max(r.id, Ordering::SeqCst);
                    let _ = self.reports.send(Arc::new(r));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live catch-up of reports failed"),
        }
    }
}

/// What a notification from the database says is new.
#[derive(Debug, PartialEq)]
enum News {
    /// This node stored it, and broadcast it then.
    Own,
    Reports,
    Warnings,
    /// A word this version does not know (another version's node): read back everything.
    Unknown,
}

/// What a notification (`"r NODE"`, `"w NODE"`) says is new, to the node named `own`.
fn news(payload: &str, own: &str) -> News {
    let (kind, node) = payload.split_once(' ').unwrap_or((payload, ""));
    if node == own {
        return News::Own;
    }
    match kind {
        "r" => News::Reports,
        "w" => News::Warnings,
        _ => News::Unknown,
    }
}

/// Something live updates carry: it has an id, and ids grow in the order of commits.
pub trait Numbered {
    fn number(&self) -> i64;
}

impl Numbered for WarningEvent {
    fn number(&self) -> i64 {
        self.id
    }
}

impl Numbered for Report {
    fn number(&self) -> i64 {
        self.id
    }
}

/// Follow a live channel for one listener, from after id `seen`: each event once and in
/// order. `floor` is where reading back starts at the latest: a new listener (nothing
/// seen) gets what the channel brings from its subscription on, but no history. When the listener fell so far behind that the channel dropped events for it,
/// `reread(after)` reads up to `page` events after `after` from the database (oldest
/// first), page after page until it is level again, and the listener goes on from there.
pub fn follow<T, R, Fut>(
    rx: broadcast::Receiver<Arc<T>>,
    seen: i64,
    floor: i64,
    page: usize,
    reread: R,
) -> impl Stream<Item = Arc<T>> + Send + 'static
where
    T: Numbered + Send + Sync + 'static,
    R: Fn(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Vec<T>> + Send,
{
    struct State<T, R> {
        rx: broadcast::Receiver<Arc<T>>,
        seen: i64,
        missed: VecDeque<Arc<T>>,
        /// The last read back was a full page: there may be more in the database.
        behind: bool,
        reread: R,
    }
    let state = State {
        rx,
        seen,
        missed: VecDeque::new(),
        behind: false,
        reread,
    };
    stream::unfold(state, move |mut s| async move {
        loop {
            if let Some(e) = s.missed.pop_front() {
                s.seen = s.seen.max(e.number());
                return Some((e, s));
            }
            if s.behind {
                let again = (s.reread)(s.seen.max(floor)).await;
                s.behind = again.len() >= page;
                let after = s.seen.max(floor);
                s.missed.extend(
                    again
                        .into_iter()
                        .filter(|e| e.number() > after)
                        .map(Arc::new),
                );
                continue;
            }
            match s.rx.recv().await {
                Ok(e) if e.number() > s.seen => {
                    s.seen = e.number();
                    return Some((e, s));
                }
                Ok(_) => {}
                // What the channel dropped is in the database: read it back. The channel
                // goes on from its oldest kept event, skipped when already seen.
                Err(broadcast::error::RecvError::Lagged(_)) => s.behind = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_says_what_to_read_back() {
        let own = "00000000000000aa";
        assert_eq!(news("r 00000000000000aa", own), News::Own);
        assert_eq!(news("w 00000000000000aa", own), News::Own);
        assert_eq!(news("r 00000000000000bb", own), News::Reports);
        assert_eq!(news("w 00000000000000bb", own), News::Warnings);
        // Words of a node that does not name itself, or of another kind: read everything.
        assert_eq!(news("r", own), News::Reports);
        assert_eq!(news("x 00000000000000bb", own), News::Unknown);
        assert_eq!(news("", own), News::Unknown);
    }

    #[derive(Debug)]
    struct Item(i64);

    impl Numbered for Item {
        fn number(&self) -> i64 {
            self.0
        }
    }

    /// The "database": every item ever sent, and how often it was read back.
    fn stored(upto: i64) -> Vec<i64> {
        (1..=upto).collect()
    }

    #[tokio::test]
    async fn a_listener_that_fell_behind_reads_back_what_it_missed_in_order() {
        let (tx, rx) = broadcast::channel::<Arc<Item>>(4);
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = reads.clone();
        let reread = move |after: i64| {
            counted.fetch_add(1, Ordering::SeqCst);
            // Pages of 3, as a database answers with a limit.
            let page: Vec<Item> = stored(20)
                .into_iter()
                .filter(|n| *n > after)
                .take(3)
                .map(Item)
                .collect();
            async move { page }
        };
        let stream = follow(rx, 0, 0, 3, reread);
        // 20 items into a channel that keeps 4: the listener lags far behind.
        for n in 1..=20 {
            tx.send(Arc::new(Item(n))).unwrap();
        }
        drop(tx);
        let got: Vec<i64> = stream.map(|i| i.0).collect().await;
        assert_eq!(got, stored(20), "each item once, in order");
        assert!(reads.load(Ordering::SeqCst) >= 6, "read back page by page");
    }

    #[tokio::test]
    async fn a_new_listener_gets_no_history_and_skips_what_it_has_seen() {
        let (tx, rx) = broadcast::channel::<Arc<Item>>(2);
        // Seen up to 10 (a Last-Event-ID); the database has 1..=15.
        let reread = |after: i64| {
            let page: Vec<Item> = stored(15)
                .into_iter()
                .filter(|n| *n > after)
                .map(Item)
                .collect();
            async move { page }
        };
        let stream = follow(rx, 10, 10, 100, reread);
        for n in [9, 10, 11, 12, 13, 14, 15] {
            tx.send(Arc::new(Item(n))).unwrap();
        }
        drop(tx);
        let got: Vec<i64> = stream.map(|i| i.0).collect().await;
        assert_eq!(got, vec![11, 12, 13, 14, 15]);

        // A new listener (floor = the newest id) that lags reads nothing older.
        let (tx, rx) = broadcast::channel::<Arc<Item>>(2);
        let stream = follow(rx, 0, 12, 100, reread);
        for n in 13..=15 {
            tx.send(Arc::new(Item(n))).unwrap();
        }
        drop(tx);
        let got: Vec<i64> = stream.map(|i| i.0).collect().await;
        assert_eq!(got, vec![13, 14, 15]);
    }
}
