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

/// The limiter.
pub struct RateLimiter {
    memory: Mutex<HashMap<String, (u64, u32)>>,
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
            memory: Mutex::new(HashMap::new()),
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
            None => self.memory_count(&full_key, window),
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

    fn memory_count(&self, key: &str, window: u64) -> u64 {
        let mut m = match self.memory.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if m.len() > 100_000 {
            m.retain(|_, (w, _)| *w >= window);
        }
        let e = m.entry(key.to_string()).or_insert((window, 0));
        e.1 = e.1.saturating_add(1);
        u64::from(e.1)
    }
}
