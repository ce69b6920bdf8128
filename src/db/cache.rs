//! Results of analytical statements (metrics, group-by aggregates) kept across requests and
//! keyed by the registry's data version ([`super::events::data_version`]), so a dashboard polling
//! the same question is answered from memory until a change commits, on any instance.
//!
//! An entry is stored under the version read *before* its statements ran, so it holds data at
//! least that new: a request never gets an answer older than the version it read. When a newer
//! version is first seen, every entry stored before is dropped: they would never be asked for
//! again, and left to age out they filled the whole budget under a steady trickle of writes (the
//! cluster soak: +40 MB per instance in 8 minutes at 10 writes/s).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use moka::sync::Cache;

type Entry = Arc<dyn Any + Send + Sync>;

/// A cache of analytical results bounded in bytes: each entry is weighed by the bytes its value
/// holds, as its caller estimates them. Cloning shares it.
#[derive(Clone)]
pub struct AnalyticsCache {
    entries: Option<Cache<(i64, String), (Entry, u32)>>,
    /// The newest data version seen.
    newest: Arc<AtomicI64>,
}

impl std::fmt::Debug for AnalyticsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsCache").field("entries", &self.entries.as_ref().map(Cache::entry_count)).finish()
    }
}

impl Default for AnalyticsCache {
    fn default() -> Self {
        Self::new(DEFAULT_MB)
    }
}

/// The default budget, in megabytes.
pub const DEFAULT_MB: u64 = 64;

/// What one metrics value or aggregate group weighs in the cache: its fields, keys and the
/// entry's bookkeeping.
pub const ROW_BYTES: usize = 256;

impl AnalyticsCache {
    /// A cache holding up to `megabytes` of results; 0 turns caching off.
    pub fn new(megabytes: u64) -> Self {
        let entries = (megabytes > 0).then(|| {
            Cache::builder()
                .max_capacity(megabytes.saturating_mul(1 << 20))
                .weigher(|_key, (_, weight): &(Entry, u32)| *weight)
                // A data version nobody asks for any more should not wait for eviction pressure.
                .time_to_idle(Duration::from_secs(600))
                .build()
        });
        Self { entries, newest: Arc::new(AtomicI64::new(i64::MIN)) }
    }

    /// Drops every entry stored so far when `version` is newer than any seen: those entries
    /// belong to older versions. (An entry a slower request stores for an older version later
    /// stays until the next change, or the budget, drops it.)
    fn observe(&self, version: i64) {
        let Some(entries) = &self.entries else { return };
        if self.newest.fetch_max(version, Ordering::AcqRel) < version {
            entries.invalidate_all();
        }
    }

    /// False when caching is off (then no data version need be read).
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The value stored for `key` at `version`, if any.
    pub fn get<T: Clone + Send + Sync + 'static>(&self, version: i64, key: &str) -> Option<T> {
        self.observe(version);
        let (entry, _) = self.entries.as_ref()?.get(&(version, key.to_owned()))?;
        entry.downcast_ref::<T>().cloned()
    }

    /// Stores `value` for `key` at `version`, weighing `bytes` (plus the key's).
    pub fn insert<T: Send + Sync + 'static>(&self, version: i64, key: String, value: T, bytes: usize) {
        self.observe(version);
        if let Some(entries) = &self.entries {
            let weight = u32::try_from(bytes.saturating_add(key.len()).max(1)).unwrap_or(u32::MAX);
            entries.insert((version, key), (Arc::new(value), weight));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_found_only_at_its_version_and_type() {
        let cache = AnalyticsCache::new(1);
        cache.insert(3, "k".to_owned(), vec![1_i64, 2], 16);
        assert_eq!(cache.get::<Vec<i64>>(3, "k"), Some(vec![1, 2]));
        assert_eq!(cache.get::<Vec<i64>>(4, "k"), None, "a newer version misses");
        assert_eq!(cache.get::<String>(3, "k"), None, "another type misses");
        let off = AnalyticsCache::new(0);
        off.insert(3, "k".to_owned(), 1_i64, 8);
        assert_eq!(off.get::<i64>(3, "k"), None);
    }

    #[test]
    fn a_newer_version_drops_what_older_ones_stored() {
        let cache = AnalyticsCache::new(1);
        cache.insert(3, "a".to_owned(), 1_i64, 8);
        cache.insert(3, "b".to_owned(), 2_i64, 8);
        assert_eq!(cache.get::<i64>(3, "a"), Some(1));
        // A request that read version 4 asks: everything of version 3 goes.
        assert_eq!(cache.get::<i64>(4, "a"), None);
        let entries = cache.entries.as_ref().expect("cache on");
        entries.run_pending_tasks();
        assert_eq!(entries.entry_count(), 0);
        assert_eq!(cache.get::<i64>(3, "b"), None);
        // A late request of version 3 may still store and find its own result; version 4's stay.
        cache.insert(4, "a".to_owned(), 5_i64, 8);
        cache.insert(3, "late".to_owned(), 6_i64, 8);
        assert_eq!(cache.get::<i64>(4, "a"), Some(5));
        assert_eq!(cache.get::<i64>(3, "late"), Some(6));
    }

    #[test]
    fn the_budget_is_in_bytes() {
        let cache = AnalyticsCache::new(1);
        // Two values of 600 kB do not fit in 1 MB together.
        cache.insert(1, "a".to_owned(), 1_i64, 600_000);
        cache.insert(1, "b".to_owned(), 2_i64, 600_000);
        cache.entries.as_ref().expect("cache on").run_pending_tasks();
        let kept = ["a", "b"].iter().filter(|key| cache.get::<i64>(1, key).is_some()).count();
        assert_eq!(kept, 1);
    }
}
