//! Notifications across processes through Redis pub/sub: "the log grew". The payload is never
//! trusted for content: a receiver pokes its tailer, which reads the database.

use crate::Live;
use futures::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const CHANNEL: &str = "hub:events";

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

pub(crate) fn start(url: String, live: Live) -> Result<Publisher, hub_store::StoreError> {
    let client = redis::Client::open(url.as_str())
        .map_err(|e| hub_store::StoreError::Config(format!("redis_url: {e}")))?;
    let wake = Arc::new(Notify::new());
    let publisher = Publisher { wake: wake.clone() };

    let sub_client = client.clone();
    let sub_live = live.clone();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            match sub_client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                    Ok(()) => {
                        sub_live.inner.redis_healthy.store(true, Ordering::SeqCst);
                        backoff = Duration::from_millis(100);
                        // Anything published while we were away is in the log: read it.
                        sub_live.poke();
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            sub_live.poke();
                        }
                        tracing::warn!(
                            "redis subscription ended; polling the log until it is back"
                        );
                    }
                    Err(e) => tracing::warn!(error = %e, "redis subscribe failed"),
                },
                Err(e) => tracing::debug!(error = %e, "redis unreachable"),
            }
            sub_live.inner.redis_healthy.store(false, Ordering::SeqCst);
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
                conn = client.get_multiplexed_async_connection().await.ok();
            }
            if let Some(c) = conn.as_mut() {
                let sent: Result<i64, _> = redis::cmd("PUBLISH")
                    .arg(CHANNEL)
                    .arg(live.head())
                    .query_async(c)
                    .await;
                if sent.is_err() {
                    conn = None;
                }
            }
        }
    });
    Ok(publisher)
}
