//! Results of analytical statements (metrics, group-by aggregates) kept across requests and
//! keyed by the registry's data version ([`super::events::data_version`]), so a dashboard polling
//! the same question is answered from memory until a change commits, on any instance.
//!
//! An entry is stored under the version read *before* its statements ran, so it holds data at
//! least that new: a request never gets an answer older than the version it read. Entries of
//! older versions are never asked for again and age out of the bounded cache.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

type Entry = Arc<dyn Any + Send + Sync>;

/// A cache of analytical results bounded in bytes: each entry is weighed by the bytes its value
/// holds, as its caller estimates them. Cloning shares it.
#[derive(Clone)]
pub struct AnalyticsCache {
    entries: Option<Cache<(i64, String), (Entry, u32)>>,
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
        Self { entries }
    }

    /// False when caching is off (then no data version need be read).
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The value stored for `key` at `version`, if any.
    pub fn get<T: Clone + Send + Sync + 'static>(&self, version: i64, key: &str) -> Option<T> {
        let (entry, _) = self.entries.as_ref()?.get(&(version, key.to_owned()))?;
        entry.downcast_ref::<T>().cloned()
    }

    /// Stores `value` for `key` at `version`, weighing `bytes` (plus the key's).
    pub fn insert<T: Send + Sync + 'static>(&self, version: i64, key: String, value: T, bytes: usize) {
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
