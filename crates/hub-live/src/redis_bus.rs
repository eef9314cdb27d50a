//! Notifications across processes through Redis pub/sub: "the log grew". The payload is never
//! trusted for content: a receiver pokes its tailer, which reads the database.
//!
//! Redis may fail loudly (a closed connection) or silently (a frozen server that accepts
//! connections and never answers). Every call to it is bounded by `redis_timeout`, and a
//! health check PINGs it every second on a connection of its own: when Redis is late, the
//! subscription is dropped and made again, and meanwhile the tailer polls the log every
//! `degraded_poll_interval`, so delivery goes on, only slower, and nothing waits on Redis.

use crate::Live;
use futures::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const CHANNEL: &str = "hub:events";

/// How often the health check PINGs Redis.
const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// Publishes notifications, coalescing bursts into one message in flight.
#[derive(Clone)]
pub(crate) struct Publisher {
    wake: Arc<Notify>,
}

impl Publisher {
    pub(crate) fn notify(&self) {
        self.wake.notify_one();
    }
}

/// Marks Redis healthy or not for the tailer (which polls faster while it is not), saying so
/// once per change in the logs and in the `redis_up{use="live"}` gauge.
fn set_healthy(live: &Live, healthy: bool, why: &str) {
    let was = live.inner.redis_healthy.swap(healthy, Ordering::SeqCst);
    metrics::gauge!("redis_up", "use" => "live").set(if healthy { 1.0 } else { 0.0 });
    if was && !healthy {
        tracing::warn!(
            error = why,
            "Redis is unreachable or slow: live updates come from polling the event log until it is back"
        );
        metrics::counter!("redis_fallback_total", "use" => "live").increment(1);
        live.poke();
    } else if !was && healthy {
        tracing::info!("Redis subscription up: live updates are pushed across processes");
    }
}

async fn connection(
    client: &redis::Client,
    timeout: Duration,
) -> Option<redis::aio::MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout);
    tokio::time::timeout(
        timeout,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .ok()?
    .ok()
}

pub(crate) fn start(url: String, live: Live) -> Result<Publisher, hub_store::StoreError> {
    let client = redis::Client::open(url.as_str())
        .map_err(|e| hub_store::StoreError::Config(format!("redis_url: {e}")))?;
    let timeout = live.inner.config.redis_timeout;
    let wake = Arc::new(Notify::new());
    let publisher = Publisher { wake: wake.clone() };
    // The health check tells the subscriber to start over when Redis stops answering.
    let restart = Arc::new(Notify::new());

    let health_client = client.clone();
    let health_live = live.clone();
    let health_restart = restart.clone();
    tokio::spawn(async move {
        let mut conn = None;
        let mut failing = false;
        loop {
            tokio::time::sleep(HEALTH_EVERY).await;
            if conn.is_none() {
                conn = connection(&health_client, timeout).await;
            }
            let answered = match conn.as_mut() {
                Some(c) => matches!(
                    tokio::time::timeout(timeout, redis::cmd("PING").query_async::<String>(c))
                        .await,
                    Ok(Ok(_))
                ),
                None => false,
            };
            if !answered {
                conn = None;
                if !failing {
                    // The subscription is on another connection that may look alive: drop it.
                    health_restart.notify_waiters();
                }
                set_healthy(&health_live, false, "no answer to PING in time");
            }
            failing = !answered;
        }
    });

    let sub_client = client.clone();
    let sub_live = live.clone();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            let subscribed = tokio::time::timeout(timeout, async {
                let mut pubsub = sub_client.get_async_pubsub().await?;
                pubsub.subscribe(CHANNEL).await?;
                Ok::<_, redis::RedisError>(pubsub)
            })
            .await;
            match subscribed {
                Ok(Ok(mut pubsub)) => {
                    set_healthy(&sub_live, true, "");
                    backoff = Duration::from_millis(100);
                    // Anything published while we were away is in the log: read it.
                    sub_live.poke();
                    let mut messages = pubsub.on_message();
                    loop {
                        tokio::select! {
                            m = messages.next() => match m {
                                Some(_) => sub_live.poke(),
                                None => break,
                            },
                            _ = restart.notified() => break,
                        }
                    }
                    set_healthy(&sub_live, false, "the subscription ended");
                }
                Ok(Err(e)) => set_healthy(&sub_live, false, &e.to_string()),
                Err(_) => set_healthy(&sub_live, false, "no subscription in time"),
            }
            sub_live.poke();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });

    tokio::spawn(async move {
        let mut conn = None;
        loop {
            wake.notified().await;
            if conn.is_none() {
                conn = connection(&client, timeout).await;
            }
            if let Some(c) = conn.as_mut() {
                let mut cmd = redis::cmd("PUBLISH");
                cmd.arg(CHANNEL).arg(live.head());
                let publish = cmd.query_async::<i64>(c);
                if !matches!(tokio::time::timeout(timeout, publish).await, Ok(Ok(_))) {
                    // Other processes poll the log while Redis is down: nothing is lost.
                    conn = None;
                }
            }
        }
    });
    Ok(publisher)
}
