//! Rows that nearly every request reads and few write — sessions with their user, API
//! keys, units — kept in memory by the store, so that filing a report costs no read.
//!
//! Every write through the store forgets what it may have changed, after its commit, and a
//! read that raced such a write is not kept (the generation it started under has passed).
//! On PostgreSQL the write also notifies the other nodes, which forget everything they
//! hold. What is written from outside — another process restoring a backup, a hand-made
//! UPDATE, a notification lost while the listening connection reconnects — is covered by
//! the age limit: an entry is trusted for `MAX_AGE` at most, then read again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::accounts::SessionUser;
use super::reports::ApiKey;
use super::territory::Unit;

/// The longest a cached row is trusted without being read again.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries per cache; when full, the expired ones go, and if that is not enough, all.
const MAX_ENTRIES: usize = 10_000;

/// The notification payload that tells the other nodes to forget what they cached.
pub const FORGET: &str = "forget";

pub struct Cached<V> {
    inner: Mutex<Inner<V>>,
}

struct Inner<V> {
    entries: HashMap<String, (Instant, V)>,
    /// Moves on at every forgetting, so that a read begun before it is not kept.
    generation: u64,
}

impl<V: Clone> Default for Cached<V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                generation: 0,
            }),
        }
    }
}

impl<V: Clone> Cached<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        // A panic elsewhere cannot leave the map half-changed: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value of `key` if it is young enough and `valid` accepts it, else what
    /// `read` finds (a found row is kept; an absent one is not).
    pub async fn get_or_read<E, Fut>(
        &self,
        key: &str,
        valid: impl Fn(&V) -> bool,
        read: impl FnOnce() -> Fut,
    ) -> Result<Option<V>, E>
    where
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        let generation = {
            let inner = self.lock();
            if let Some((at, v)) = inner.entries.get(key)
                && at.elapsed() < MAX_AGE
                && valid(v)
            {
                return Ok(Some(v.clone()));
            }
            inner.generation
        };
        let found = read().await?;
        if let Some(v) = &found {
            self.keep(generation, key, v.clone());
        }
        Ok(found)
    }

    fn keep(&self, generation: u64, key: &str, value: V) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, (at, _)| at.elapsed() < MAX_AGE);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner
            .entries
            .insert(key.to_string(), (Instant::now(), value));
    }

    /// Forget the entries `stale` picks.
    pub fn forget_where(&self, stale: impl Fn(&V) -> bool) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|_, (_, v)| !stale(v));
    }

    pub fn forget_all(&self) {
        self.forget_where(|_| true);
    }
}

/// The store's caches.
#[derive(Default)]
pub struct Caches {
    /// By token hash.
    pub sessions: Cached<SessionUser>,
    /// By key hash; only keys not revoked.
    pub api_keys: Cached<ApiKey>,
    /// By `id:N` and by `code:C`.
    pub units: Cached<Unit>,
}

impl Caches {
    pub fn forget_all(&self) {
        self.sessions.forget_all();
        self.api_keys.forget_all();
        self.units.forget_all();
    }

    /// A user's row changed, or some of their sessions ended.
    pub fn forget_user(&self, user_id: i64) {
        self.sessions.forget_where(|s| s.user.id == user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(n: &std::sync::atomic::AtomicU32, v: Option<u32>) -> Result<Option<u32>, ()> {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(v)
    }

    #[tokio::test]
    async fn keeps_found_rows_and_forgets_on_writes() {
        let reads = std::sync::atomic::AtomicU32::new(0);
        let c: Cached<u32> = Cached::default();
        let all = |_: &u32| true;
        assert_eq!(
            c.get_or_read("a", all, || read(&reads, Some(1))).await,
            Ok(Some(1))
        );
        assert_eq!(
            c.get_or_read("a", all, || read(&reads, Some(2))).await,
            Ok(Some(1))
        );
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Absent rows are read every time.
        assert_eq!(
            c.get_or_read("b", all, || read(&reads, None)).await,
            Ok(None)
        );
        assert_eq!(
            c.get_or_read("b", all, || read(&reads, Some(3))).await,
            Ok(Some(3))
        );
        // An entry the caller finds invalid is read again.
        assert_eq!(
            c.get_or_read("a", |v| *v > 1, || read(&reads, Some(4)))
                .await,
            Ok(Some(4))
        );
        c.forget_where(|v| *v == 4);
        assert_eq!(
            c.get_or_read("a", all, || read(&reads, Some(5))).await,
            Ok(Some(5))
        );
        assert_eq!(
            c.get_or_read("b", all, || read(&reads, Some(6))).await,
            Ok(Some(3))
        );
    }

    #[tokio::test]
    async fn a_read_that_raced_a_write_is_not_kept() {
        let c: Cached<u32> = Cached::default();
        let all = |_: &u32| true;
        let found = c
            .get_or_read("a", all, || async {
                // A write commits and forgets while this read is under way.
                c.forget_all();
                Ok::<_, ()>(Some(1))
            })
            .await;
        assert_eq!(found, Ok(Some(1)));
        assert_eq!(
            c.get_or_read("a", all, || async { Ok::<_, ()>(Some(2)) })
                .await,
            Ok(Some(2))
        );
    }
}
