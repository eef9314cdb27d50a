//! Rate limits per user and per address, in fixed windows, exact at the boundary: the Nth
//! request of a window passes, the N+1th gets 429 with `Retry-After` (the window's end).
//!
//! With Redis configured the counters live there (one atomic INCR+PEXPIRE script per check),
//! so several hub processes share one budget and their sum never exceeds the limit. Without
//! Redis, or while it is unreachable, counters are kept in memory (one process's budget).

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One limit: `max` actions per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Actions allowed per window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl Limit {
    /// `max` per minute.
    pub const fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
        }
    }

    /// `max` per hour.
    pub const fn per_hour(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(3600),
        }
    }
}

/// Counters held in memory: each key (which names its window) with the time its window ends,
/// in ms since the epoch, and its count.
#[derive(Default)]
struct Memory {
    counters: HashMap<String, (u64, u32)>,
    /// The size past which ended windows are swept out. It grows with what a sweep leaves, so
    /// a map full of live counters is not scanned again at every check.
    sweep_at: usize,
}

/// The size of the in-memory map that sets off the first sweep.
const SWEEP_AT: usize = 100_000;

/// The limiter.
pub struct RateLimiter {
    memory: Mutex<Memory>,
    redis: Option<redis::Client>,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

const SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
    return n";

impl RateLimiter {
    /// A limiter; `redis_url` shares the counters across processes.
    pub fn new(redis_url: Option<&str>) -> Self {
        Self {
            memory: Mutex::new(Memory {
                counters: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
            redis: redis_url.and_then(|u| redis::Client::open(u).ok()),
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// Counts one action for `key` under `limit`, or refuses it with a 429.
    pub async fn check(
        &self,
        name: &str,
        key: &str,
        limit: Limit,
        what: &str,
    ) -> Result<(), ApiError> {
        let window_ms = u64::try_from(limit.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let now_ms = u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0);
        let window = now_ms / window_ms;
        let retry_after = ((window + 1) * window_ms - now_ms).div_ceil(1000);
        let full_key = format!("rl:{name}:{key}:{window}");
        let count = match self.redis_count(&full_key, window_ms).await {
            Some(n) => n,
            None => self.memory_count(&full_key, (window + 1).saturating_mul(window_ms), now_ms),
        };
        if count > u64::from(limit.max) {
            metrics::counter!("rate_limited_total", "limit" => name.to_string()).increment(1);
            Err(ApiError::too_many_requests(
                retry_after,
                format!("too many {what}; try again in {retry_after} s"),
            ))
        } else {
            Ok(())
        }
    }

    async fn redis_count(&self, key: &str, window_ms: u64) -> Option<u64> {
        let client = self.redis.as_ref()?;
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = client.get_multiplexed_async_connection().await.ok();
        }
        let conn = guard.as_mut()?;
        let r: Result<u64, _> = redis::cmd("EVAL")
            .arg(SCRIPT)
            .arg(1)
            .arg(key)
            .arg(window_ms)
            .query_async(conn)
            .await;
        match r {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit counters unreachable in Redis; counting in memory");
                *guard = None;
                None
            }
        }
    }

    /// Counts one action for `key`, whose window ends at `ends_ms`. Keys of every window length
    /// share the map, so ended windows are found by their end, not by their index.
    fn memory_count(&self, key: &str, ends_ms: u64, now_ms: u64) -> u64 {
        let mut guard = match self.memory.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let m = &mut *guard;
        if m.counters.len() > m.sweep_at {
            m.counters.retain(|_, (ends, _)| *ends > now_ms);
            m.sweep_at = SWEEP_AT.max(m.counters.len().saturating_mul(2));
        }
        let e = m.counters.entry(key.to_string()).or_insert((ends_ms, 0));
        e.1 = e.1.saturating_add(1);
        u64::from(e.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sweep of the in-memory counters, set off by many per-minute keys, keeps the counters
    /// of longer windows that have not ended (it used to compare window indexes of different
    /// lengths and wipe every per-hour counter).
    #[tokio::test]
    async fn a_sweep_keeps_counters_of_longer_windows() {
        let limiter = RateLimiter::new(None);
        // A counter whose window has ended: the sweep drops it.
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
        limiter.memory_count("ended", now_ms - 1, now_ms);
        let hourly = Limit::per_hour(1);
        assert!(limiter
            .check("signup_ip", "192.0.2.1", hourly, "registrations")
            .await
            .is_ok());
        for i in 0..100_010 {
            let _ = limiter
                .check(
                    "login_email",
                    &format!("user{i}@x.org"),
                    Limit::per_minute(5),
                    "sign-ins",
                )
                .await;
        }
        assert!(
            limiter
                .check("signup_ip", "192.0.2.1", hourly, "registrations")
                .await
                .is_err(),
            "the per-hour counter survived the sweep"
        );
        let memory = match limiter.memory.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        assert!(memory.sweep_at > SWEEP_AT, "a sweep ran");
        assert!(
            !memory.counters.contains_key("ended"),
            "and dropped the ended window"
        );
    }
}
