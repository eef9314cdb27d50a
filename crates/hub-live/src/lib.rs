//! Live updates: the event log, pushed to subscribers as it grows.
//!
//! The database's event log is the truth; push is a fast path over it. One *tailer* task per
//! process reads the log in `seq` order whenever it may have grown (a local commit, a Redis
//! notification from another process, or a short poll as a safety net) and hands each event to
//! the subscribers of its channels. Redis carries notifications only ("the log grew"), never
//! events, so a Redis outage delays delivery by at most the poll interval and loses nothing.
//!
//! Each subscriber has a bounded queue drained by its own writer; the tailer never waits on a
//! subscriber: a full queue marks it too slow, and it is dropped (the client resumes with
//! `since`). Each event is serialised once per channel and visibility variant, and the bytes are
//! shared by every connection that receives them.
//!
//! Exactly-once resume: a subscription is registered before its replay is read, under the same
//! lock the tailer holds while it distributes a batch and advances its cursor. So every event is
//! either distributed to the new subscription (seq above the cursor it read) or already
//! committed and below that cursor, where the replay finds it; per-channel `last seq` drops the
//! overlap.
#![forbid(unsafe_code)]

mod channel;
mod redis_bus;

pub use channel::{Channel, ChannelError};

use axum::extract::ws::Utf8Bytes;
use hub_domain::Viewer;
use hub_store::{EventFilter, EventRecord, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Settings of the fan-out.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Frames a subscriber may have queued before it is too slow.
    pub queue_capacity: usize,
    /// How often the tailer reads the log when nothing told it to (Redis healthy or unused).
    pub poll_interval: Duration,
    /// How often while Redis is configured but unreachable.
    pub degraded_poll_interval: Duration,
    /// `redis://...` to share notifications across processes.
    pub redis_url: Option<String>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            poll_interval: Duration::from_millis(1000),
            degraded_poll_interval: Duration::from_millis(100),
            redis_url: None,
        }
    }
}

/// One message for one subscriber: an event on a channel, already serialised.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The event's position in the log.
    pub seq: i64,
    /// The channel it is delivered on.
    pub channel: Arc<str>,
    /// The event type.
    pub kind: Arc<str>,
    /// `{"op":"event",...}`, shared by every receiver (WebSocket frame and SSE `data`).
    pub text: Utf8Bytes,
}

struct Conn {
    viewer: Viewer,
    tx: mpsc::Sender<Frame>,
    slow: AtomicBool,
    slow_notify: Notify,
}

type Registry = HashMap<Arc<str>, HashMap<u64, Arc<Conn>>>;

struct Inner {
    store: Store,
    config: LiveConfig,
    registry: RwLock<Registry>,
    /// Highest seq handed to subscribers (read under the registry lock).
    delivered: AtomicI64,
    next_id: AtomicU64,
    poke: Notify,
    redis_healthy: AtomicBool,
    connections: AtomicI64,
}

/// The fan-out of one process.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("delivered", &self.inner.delivered.load(Ordering::SeqCst))
            .finish()
    }
}

/// Why a subscription stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its queue filled: it fell behind.
    TooSlow,
    /// The fan-out stopped.
    Closed,
}

impl Live {
    /// Starts the fan-out: the tailer from the current head of the log, and, with a Redis URL,
    /// the notification bus.
    pub async fn start(store: Store, config: LiveConfig) -> Result<Self, hub_store::StoreError> {
        let head = store.head_seq().await?;
        let live = Live {
            inner: Arc::new(Inner {
                store,
                config,
                registry: RwLock::new(HashMap::new()),
                delivered: AtomicI64::new(head),
                next_id: AtomicU64::new(1),
                poke: Notify::new(),
                redis_healthy: AtomicBool::new(false),
                connections: AtomicI64::new(0),
            }),
        };
        let publisher = match live.inner.config.redis_url.clone() {
            Some(url) => Some(redis_bus::start(url, live.clone())?),
            None => None,
        };
        let tailer = live.clone();
        tokio::spawn(async move { tailer.run_tailer().await });
        let watcher = live.clone();
        tokio::spawn(async move { watcher.watch_local_commits(publisher).await });
        Ok(live)
    }

    /// The highest seq delivered so far.
    pub fn head(&self) -> i64 {
        self.inner.delivered.load(Ordering::SeqCst)
    }

    /// Whether Redis is configured and reachable (`None` when not configured).
    pub fn redis_healthy(&self) -> Option<bool> {
        self.inner
            .config
            .redis_url
            .as_ref()
            .map(|_| self.inner.redis_healthy.load(Ordering::SeqCst))
    }

    /// Open subscriptions.
    pub fn connections(&self) -> i64 {
        self.inner.connections.load(Ordering::SeqCst)
    }

    /// Asks the tailer to read the log now.
    pub fn poke(&self) {
        self.inner.poke.notify_one();
    }

    /// A new subscriber for `viewer`, with no channels yet.
    pub fn subscriber(&self, viewer: Viewer) -> Subscription {
        let (tx, rx) = mpsc::channel(self.inner.config.queue_capacity.max(1));
        self.inner.connections.fetch_add(1, Ordering::SeqCst);
        Subscription {
            id: self.inner.next_id.fetch_add(1, Ordering::SeqCst),
            conn: Arc::new(Conn {
                viewer,
                tx,
                slow: AtomicBool::new(false),
                slow_notify: Notify::new(),
            }),
            rx,
            live: self.clone(),
            last: HashMap::new(),
        }
    }

    /// Forwards local commits (and relay batches) to the tailer and, through Redis, to the
    /// other processes.
    async fn watch_local_commits(self, publisher: Option<redis_bus::Publisher>) {
        let mut changes = self.inner.store.log_changes();
        while changes.changed().await.is_ok() {
            self.poke();
            if let Some(p) = &publisher {
                p.notify();
            }
        }
    }

    async fn run_tailer(self) {
        loop {
            let interval = if self.redis_healthy() == Some(false) {
                self.inner.config.degraded_poll_interval
            } else {
                self.inner.config.poll_interval
            };
            let _ = tokio::time::timeout(interval, self.inner.poke.notified()).await;
            loop {
                if self.fast_forward_if_unwatched().await {
                    break;
                }
                let after = self.head();
                match self.inner.store.events_after(after, 1000).await {
                    Ok(batch) if batch.is_empty() => break,
                    Ok(batch) => self.distribute(&batch),
                    Err(e) => {
                        if self.inner.store.pool().is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "reading the event log failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                }
            }
        }
    }

    /// With nobody subscribed there is nothing to hand out: move the cursor to the head of
    /// the log without reading the events. Decided under the registry lock, so a subscription
    /// registered meanwhile makes the tailer read normally instead. True when it did.
    async fn fast_forward_if_unwatched(&self) -> bool {
        if !self.registry_is_empty() {
            return false;
        }
        let Ok(head) = self.inner.store.head_seq().await else {
            return false;
        };
        let registry = match self.inner.registry.read() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        if !registry.is_empty() {
            return false;
        }
        self.inner.delivered.fetch_max(head, Ordering::SeqCst);
        true
    }

    fn registry_is_empty(&self) -> bool {
        match self.inner.registry.read() {
            Ok(r) => r.is_empty(),
            Err(p) => p.into_inner().is_empty(),
        }
    }

    /// Hands a batch to subscribers, then advances the cursor, all under the registry lock
    /// (see the crate docs for why).
    fn distribute(&self, batch: &[EventRecord]) {
        let registry = match self.inner.registry.read() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        for event in batch {
            for channel in channel::channels_of(event) {
                let name = channel.to_string();
                let Some(subs) = registry.get(name.as_str()) else {
                    continue;
                };
                let mut frames = channel::Frames::new(event, &channel);
                for conn in subs.values() {
                    if conn.slow.load(Ordering::Relaxed) {
                        continue;
                    }
                    let Some(frame) = frames.for_viewer(&conn.viewer) else {
                        continue;
                    };
                    if conn.tx.try_send(frame).is_err() {
                        conn.slow.store(true, Ordering::SeqCst);
                        conn.slow_notify.notify_one();
                        metrics::counter!("live_subscribers_dropped_total").increment(1);
                    } else {
                        metrics::counter!("live_deliveries_total").increment(1);
                    }
                }
            }
            self.inner.delivered.store(event.seq, Ordering::SeqCst);
        }
    }
}

/// One subscriber: its channels, its queue, and where each channel stands.
pub struct Subscription {
    id: u64,
    conn: Arc<Conn>,
    rx: mpsc::Receiver<Frame>,
    live: Live,
    /// Per channel: the last seq delivered (or replayed).
    last: HashMap<Arc<str>, i64>,
}

/// Most events replayed in one subscribe; older gaps must be read through the API.
pub const MAX_REPLAY: usize = 10_000;

impl Subscription {
    /// The viewer.
    pub fn viewer(&self) -> &Viewer {
        &self.conn.viewer
    }

    /// Channels subscribed.
    pub fn channels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.last.keys().map(|c| c.to_string()).collect();
        v.sort();
        v
    }

    /// Subscribes to channels (already authorised with [`Channel::authorize`]). With `since`,
    /// returns every event after it on these channels that the viewer may see, in order; then
    /// live events follow through [`Subscription::next`], with no gap and no repeat. Returns
    /// the replay and the head it reaches.
    pub async fn subscribe(
        &mut self,
        channels: &[Channel],
        since: Option<i64>,
    ) -> Result<(Vec<Frame>, i64), hub_store::StoreError> {
        let names: Vec<Arc<str>> = channels
            .iter()
            .map(|c| Arc::<str>::from(c.to_string()))
            .collect();
        let head = {
            let mut reg = match self.live.inner.registry.write() {
                Ok(r) => r,
                Err(p) => p.into_inner(),
            };
            for n in &names {
                reg.entry(n.clone())
                    .or_default()
                    .insert(self.id, self.conn.clone());
            }
            self.live.inner.delivered.load(Ordering::SeqCst)
        };
        // Everything committed before this call belongs to the replay, even what the tailer has
        // not handed out yet: read the log's head too (after registering, so any event above
        // it reaches this subscription live; the overlap is dropped by `last`).
        let head = head.max(self.live.inner.store.head_seq().await?);
        let mut replay = Vec::new();
        if let Some(since) = since.filter(|s| *s < head) {
            let mut filter = EventFilter::default();
            for c in channels {
                c.add_to(&mut filter);
            }
            let mut after = since.max(0);
            'pages: while after < head {
                let batch = self
                    .live
                    .inner
                    .store
                    .events_for(after, &filter, 500)
                    .await?;
                if batch.is_empty() {
                    break;
                }
                for e in &batch {
                    if e.seq > head {
                        break 'pages;
                    }
                    after = e.seq;
                    for ch in channel::channels_of(e) {
                        let name = ch.to_string();
                        if names.iter().any(|n| **n == *name) {
                            if let Some(f) =
                                channel::Frames::new(e, &ch).for_viewer(&self.conn.viewer)
                            {
                                replay.push(f);
                            }
                        }
                    }
                    if replay.len() > MAX_REPLAY {
                        break 'pages;
                    }
                }
            }
        }
        for n in names {
            self.last.insert(n, head);
        }
        Ok((replay, head))
    }

    /// Leaves channels.
    pub fn unsubscribe(&mut self, channels: &[Channel]) {
        let mut reg = match self.live.inner.registry.write() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        for c in channels {
            let name = c.to_string();
            if let Some(subs) = reg.get_mut(name.as_str()) {
                subs.remove(&self.id);
                if subs.is_empty() {
                    reg.remove(name.as_str());
                }
            }
            self.last.remove(name.as_str());
        }
    }

    /// The next live frame, skipping any the replay already gave; `Err` when the subscriber
    /// fell behind or the fan-out closed.
    pub async fn next(&mut self) -> Result<Frame, Ended> {
        loop {
            if self.conn.slow.load(Ordering::SeqCst) {
                return Err(Ended::TooSlow);
            }
            let frame = tokio::select! {
                f = self.rx.recv() => f.ok_or(Ended::Closed)?,
                _ = self.conn.slow_notify.notified() => return Err(Ended::TooSlow),
            };
            if self.accept(&frame) {
                return Ok(frame);
            }
        }
    }

    /// A frame already queued, without waiting (to coalesce writes).
    pub fn try_next(&mut self) -> Option<Frame> {
        while let Ok(frame) = self.rx.try_recv() {
            if self.accept(&frame) {
                return Some(frame);
            }
        }
        None
    }

    fn accept(&mut self, frame: &Frame) -> bool {
        match self.last.get_mut(&frame.channel) {
            Some(last) if frame.seq > *last => {
                *last = frame.seq;
                true
            }
            _ => false,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut reg = match self.live.inner.registry.write() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        for name in self.last.keys() {
            if let Some(subs) = reg.get_mut(name) {
                subs.remove(&self.id);
                if subs.is_empty() {
                    reg.remove(name);
                }
            }
        }
        self.live.inner.connections.fetch_sub(1, Ordering::SeqCst);
    }
}
