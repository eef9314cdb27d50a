//! Rate limits per user and per address, in fixed windows, exact at the boundary: the Nth
//! request of a window passes, the N+1th gets 429 with `Retry-After` (the window's end).
//!
//! With Redis configured the counters live there (one atomic INCR+PEXPIRE script per check),
//! so several hub processes share one budget and their sum never exceeds the limit. Without
//! Redis, or while it is unreachable or slow (no answer within `redis_timeout_ms`), counters
//! are kept in memory (one process's budget), and Redis is tried again a second later.

use crate::error::ApiError;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Accounts seen per address and window, with the window's end.
    seen: HashMap<String, (u64, HashSet<i64>)>,
    /// The size past which ended windows are swept out. It grows with what a sweep leaves, so
    /// a map full of live counters is not scanned again at every check.
    sweep_at: usize,
}

/// The size of the in-memory map that sets off the first sweep.
const SWEEP_AT: usize = 100_000;

/// Redis, for counters shared across processes, behind a short timeout and a breaker: after
/// a failure or a timeout Redis is left alone for [`REDIS_COOL_OFF`], and counting goes on in
/// memory meanwhile, so a slow or frozen Redis never holds a request for more than one timeout.
struct RedisLink {
    client: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Connecting, one at a time (others count in memory meanwhile).
    connecting: tokio::sync::Mutex<()>,
    /// Until when (ms since the epoch) Redis is not asked.
    down_until: AtomicU64,
    /// Longest wait for a connection or an answer.
    timeout: Duration,
}

/// The most accounts an address counts for (a large venue); beyond it, per-account limits
/// alone apply.
pub const MAX_ACCOUNTS_SEEN: u64 = 250;

/// How long Redis is left alone after it failed or did not answer in time.
const REDIS_COOL_OFF: Duration = Duration::from_secs(1);

/// The limiter.
pub struct RateLimiter {
    memory: Mutex<Memory>,
    redis: Option<RedisLink>,
}

const SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
    return n";

/// Adds an account to an address's set (a HyperLogLog) for the window and counts the set.
const SEEN_SCRIPT: &str = "redis.call('PFADD', KEYS[1], ARGV[1]) \
    redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
    return redis.call('PFCOUNT', KEYS[1])";

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(0)
}

impl RateLimiter {
    /// A limiter; `redis_url` shares the counters across processes, each call to Redis
    /// bounded by `redis_timeout`.
    pub fn new(redis_url: Option<&str>, redis_timeout: Duration) -> Self {
        Self {
            memory: Mutex::new(Memory {
                counters: HashMap::new(),
                seen: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
            redis: redis_url
                .and_then(|u| redis::Client::open(u).ok())
                .map(|client| RedisLink {
                    client,
                    conn: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                    down_until: AtomicU64::new(0),
                    timeout: redis_timeout,
                }),
        }
    }

    /// `ok`, `down` or `not_configured`: whether Redis answers a PING within the timeout.
    pub async fn redis_status(&self) -> &'static str {
        let Some(link) = &self.redis else {
            return "not_configured";
        };
        let Some(mut conn) = link.connection().await else {
            return "down";
        };
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(link.timeout, ping).await {
            Ok(Ok(_)) => {
                link.up();
                "ok"
            }
            Ok(Err(e)) => {
                link.failed(&e.to_string());
                "down"
            }
            Err(_) => {
                link.failed("no answer in time");
                "down"
            }
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
        let now_ms = now_ms();
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

    /// Notes that `account` (when given) acted from `ip` and says how many distinct accounts
    /// did in the current hour (at least 1, at most [`MAX_ACCOUNTS_SEEN`]): per-address
    /// ceilings grow with it, so two hundred people behind one venue's address are not refused
    /// as one.
    pub async fn accounts_seen(&self, ip: &str, account: Option<i64>) -> u64 {
        let window_ms = 3_600_000;
        let now_ms = now_ms();
        let window = now_ms / window_ms;
        let key = format!("seen:{ip}:{window}");
        let counted = match (self.redis.as_ref(), account) {
            (Some(link), Some(a)) => {
                link.eval(
                    redis::cmd("EVAL")
                        .arg(SEEN_SCRIPT)
                        .arg(1)
                        .arg(&key)
                        .arg(a)
                        .arg(window_ms),
                )
                .await
            }
            (Some(link), None) => link.eval(redis::cmd("PFCOUNT").arg(&key)).await,
            (None, _) => None,
        };
        let n = counted.unwrap_or_else(|| {
            let mut m = self.lock_memory();
            let ends = (window + 1).saturating_mul(window_ms);
            match account {
                Some(a) => {
                    let e = m.seen.entry(key).or_insert_with(|| (ends, HashSet::new()));
                    e.1.insert(a);
                    e.1.len() as u64
                }
                None => m.seen.get(&key).map_or(0, |e| e.1.len() as u64),
            }
        });
        n.clamp(1, MAX_ACCOUNTS_SEEN)
    }

    async fn redis_count(&self, key: &str, window_ms: u64) -> Option<u64> {
        let link = self.redis.as_ref()?;
        link.eval(
            redis::cmd("EVAL")
                .arg(SCRIPT)
                .arg(1)
                .arg(key)
                .arg(window_ms),
        )
        .await
    }

    fn lock_memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        match self.memory.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        }
    }

    /// Counts one action for `key`, whose window ends at `ends_ms`. Keys of every window length
    /// share the map, so ended windows are found by their end, not by their index.
    fn memory_count(&self, key: &str, ends_ms: u64, now_ms: u64) -> u64 {
        let mut guard = self.lock_memory();
        let m = &mut *guard;
        if m.counters.len() + m.seen.len() > m.sweep_at {
            m.counters.retain(|_, (ends, _)| *ends > now_ms);
            m.seen.retain(|_, (ends, _)| *ends > now_ms);
            m.sweep_at = SWEEP_AT.max((m.counters.len() + m.seen.len()).saturating_mul(2));
        }
        let e = m.counters.entry(key.to_string()).or_insert((ends_ms, 0));
        e.1 = e.1.saturating_add(1);
        u64::from(e.1)
    }
}

impl RedisLink {
    /// A connection, unless Redis is cooling off after a failure; connecting is bounded by
    /// the timeout, and only one request waits for it (the others count in memory).
    async fn connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        if now_ms() < self.down_until.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(c) = self.lock_conn().clone() {
            return Some(c);
        }
        let _turn = self.connecting.try_lock().ok()?;
        if let Some(c) = self.lock_conn().clone() {
            return Some(c);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout);
        let connect = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(c)) => {
                *self.lock_conn() = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed("no connection in time");
                None
            }
        }
    }

    /// Runs a script returning a count; `None` (count in memory) when Redis fails or is late.
    async fn eval(&self, cmd: &mut redis::Cmd) -> Option<u64> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<u64>(&mut conn)).await {
            Ok(Ok(n)) => {
                self.up();
                Some(n)
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed("no answer in time");
                None
            }
        }
    }

    fn lock_conn(&self) -> std::sync::MutexGuard<'_, Option<redis::aio::MultiplexedConnection>> {
        match self.conn.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        }
    }

    /// Redis answered: said once when it comes back.
    fn up(&self) {
        if self.down_until.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("Redis answers again: rate limits are shared across processes");
            metrics::gauge!("redis_up", "use" => "limits").set(1.0);
        }
    }

    /// Redis failed or was late: left alone for a while, the connection dropped.
    fn failed(&self, why: &str) {
        let until = now_ms() + u64::try_from(REDIS_COOL_OFF.as_millis()).unwrap_or(1000);
        if self.down_until.swap(until, Ordering::Relaxed) == 0 {
            tracing::warn!(error = why, "Redis is unreachable or slow: rate limits are counted in this process's memory until it is back");
        }
        metrics::gauge!("redis_up", "use" => "limits").set(0.0);
        metrics::counter!("redis_fallback_total", "use" => "limits").increment(1);
        *self.lock_conn() = None;
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
        let limiter = RateLimiter::new(None, Duration::from_millis(500));
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
