//! Live updates: the event log, pushed to subscribers as it grows.
//!
//! The database's event log is the truth; push is a fast path over it. One *tailer* task per
//! process reads the log in `seq` order whenever it may have grown (a local commit, a Redis
//! notification from another process, or a short poll as a safety net) and hands each event to
//! the subscribers of its channels. Redis carries notifications only ("the log grew"), never
//! events, so a Redis outage delays delivery by at most the poll interval and loses nothing.
//!
//! Each channel with subscribers has one bounded broadcast ring. The tailer serialises an
//! event once per channel (and once more, redacted, when others than the author and the
//! moderators may see only a tombstone), and puts one shared [`Entry`](channel::Entry) in the
//! channel's ring: its work per event does not grow with the number of subscribers, and it
//! never waits on one. Each subscriber reads the rings of its channels at its own pace and
//! picks the variant its viewer may see; one that falls `queue_capacity` entries behind on a
//! channel is too slow and is dropped (the client resumes with `since`).
//!
//! Exactly-once resume: a subscription joins its channels' rings before its replay is read,
//! under the same lock the tailer holds while it distributes a batch and advances its cursor.
//! So every event is either in the ring for the new subscription (seq above the cursor it
//! read) or already committed and at most the head the replay reads to; live entries up to that
//! head are skipped once.
//!
//! Order across channels: entries reach each ring in `seq` order, and a subscriber of several
//! channels merges them: an entry seen on one ring was put there after every entry of a lower
//! seq was put in its own ring, so after draining every ring once more, all entries up to the
//! highest seq seen before are at hand and go out in order.
#![forbid(unsafe_code)]

mod channel;
mod redis_bus;

pub use channel::{Channel, ChannelError};

use axum::extract::ws::Utf8Bytes;
use channel::Entry;
use hub_domain::Viewer;
use hub_store::{EventFilter, EventRecord, Store};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Settings of the fan-out.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Entries a subscriber may fall behind on a channel before it is too slow (rounded up to
    /// a power of two).
    pub queue_capacity: usize,
    /// How often the tailer reads the log when nothing told it to (Redis healthy or unused).
    pub poll_interval: Duration,
    /// How often while Redis is configured but unreachable.
    pub degraded_poll_interval: Duration,
    /// `redis://...` to share notifications across processes.
    pub redis_url: Option<String>,
    /// Longest wait for Redis (connecting, subscribing, publishing, a health check's PING):
    /// past it Redis counts as down and the log is polled every `degraded_poll_interval`.
    pub redis_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            poll_interval: Duration::from_millis(1000),
            degraded_poll_interval: Duration::from_millis(100),
            redis_url: None,
            redis_timeout: Duration::from_millis(250),
        }
    }
}

/// The process's fan-out runtime (see [`Live::spawn`]), built on first use and kept for the
/// life of the process (shared by every hub a test process starts). `None` if it cannot be
/// built (the fan-out then runs on the caller's runtime).
fn fanout_runtime() -> Option<&'static tokio::runtime::Handle> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("hub-live")
                .enable_all()
                .build()
                .map_err(|e| tracing::warn!(error = %e, "no runtime for the fan-out; sharing"))
                .ok()
        })
        .as_ref()
        .map(tokio::runtime::Runtime::handle)
}

/// The shortest time between two reads of the log by the tailer (see `run_tailer`): at most
/// this much latency added, only while events come faster than this.
const COALESCE: Duration = Duration::from_millis(10);

/// Most events the tailer reads from the log at once.
const TAIL_BATCH: i64 = 1000;

/// The largest ring a channel gets, whatever the configuration says.
const MAX_QUEUE_CAPACITY: usize = 1 << 16;

/// One message for one subscriber: an event on a channel, already serialised, in the variant
/// its viewer may see. Cheap to clone (the bytes are shared).
#[derive(Debug, Clone)]
pub struct Frame {
    entry: Arc<Entry>,
    redacted: bool,
}

impl Frame {
    /// The event's position in the log.
    pub fn seq(&self) -> i64 {
        self.entry.seq
    }

    /// The channel it is delivered on.
    pub fn channel(&self) -> &str {
        &self.entry.channel
    }

    /// The event type.
    pub fn kind(&self) -> &str {
        &self.entry.kind
    }

    /// `{"op":"event",...}`, shared by every receiver (WebSocket frame and SSE `data`).
    pub fn text(&self) -> &Utf8Bytes {
        self.entry.text(self.redacted)
    }

    /// The same bytes, owned (a reference count, no copy).
    pub fn to_text(&self) -> Utf8Bytes {
        self.text().clone()
    }
}

/// The channels with subscribers, each with its ring.
type Registry = HashMap<Channel, broadcast::Sender<Arc<Entry>>>;

struct Inner {
    store: Store,
    config: LiveConfig,
    registry: RwLock<Registry>,
    /// Highest seq handed to subscribers (read under the registry lock).
    delivered: AtomicI64,
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
    /// It fell too far behind on a channel.
    TooSlow,
    /// The fan-out stopped.
    Closed,
}

impl Live {
    /// Starts the fan-out: the tailer from the current head of the log, and, with a Redis URL,
    /// the notification bus.
    pub async fn start(store: Store, config: LiveConfig) -> Result<Self, hub_store::StoreError> {
        // Told of commits from before the head is read: one between the two reaches the
        // tailer at once rather than at the first poll.
        let changes = store.log_changes();
        let head = store.head_seq().await?;
        let live = Live {
            inner: Arc::new(Inner {
                store,
                config,
                registry: RwLock::new(HashMap::new()),
                delivered: AtomicI64::new(head),
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
        live.spawn(async move { tailer.run_tailer(changes).await });
        if let Some(publisher) = publisher {
            let watcher = live.clone();
            live.spawn(async move { watcher.publish_local_commits(publisher).await });
        }
        Ok(live)
    }

    /// Runs a task of the fan-out (a connection's, the tailer) on the fan-out's own runtime,
    /// or on the current one if that runtime could not be built.
    ///
    /// Why a runtime of its own: every event wakes every subscriber's task, and on a shared
    /// runtime a request's every await (a write transaction has several, some under SQLite's
    /// writer lock) would queue behind thousands of them, so posting slows to a crawl as the
    /// fan-out grows. On two runtimes the OS shares the cores between their threads instead,
    /// and a request waits for a thread, not for the whole fan-out. I/O objects work across
    /// runtimes (their readiness comes from the runtime that created them).
    pub fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match fanout_runtime() {
            Some(rt) => {
                rt.spawn(task);
            }
            None => {
                tokio::spawn(task);
            }
        }
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
        self.inner.connections.fetch_add(1, Ordering::SeqCst);
        Subscription {
            viewer,
            live: self.clone(),
            feeds: Vec::new(),
            held: Vec::new(),
            ready: VecDeque::new(),
            too_slow: false,
            sent: 0,
        }
    }

    fn registry_write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        match self.inner.registry.write() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        }
    }

    fn registry_read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        match self.inner.registry.read() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        }
    }

    /// Tells the other processes, through Redis, of local commits (and relay batches).
    async fn publish_local_commits(self, publisher: redis_bus::Publisher) {
        let mut changes = self.inner.store.log_changes();
        while changes.changed().await.is_ok() {
            publisher.notify();
        }
    }

    /// Reads the log whenever it may have grown: a local commit (`changes`), a poke (Redis),
    /// or the poll interval. The tailer waits on the store's commits itself rather than being
    /// forwarded each one: commits while it reads or coalesces wake no task and no thread
    /// (at 800 posts/s of one writer, a wake-up of this runtime per post showed in the profile).
    async fn run_tailer(self, mut changes: tokio::sync::watch::Receiver<u64>) {
        let mut last_read: Option<tokio::time::Instant> = None;
        loop {
            let interval = if self.redis_healthy() == Some(false) {
                self.inner.config.degraded_poll_interval
            } else {
                self.inner.config.poll_interval
            };
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        // The store is gone: poll (a closed pool ends the loop below).
                        tokio::time::sleep(interval).await;
                    }
                }
                () = self.inner.poke.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
            // While the log grows fast, read it at most once per COALESCE: the events of that
            // time go out together, and each subscriber is woken, and writes to its socket,
            // once for all of them rather than once per event. An event arriving after a
            // quiet spell goes out at once.
            if let Some(at) = last_read.filter(|at| at.elapsed() < COALESCE) {
                tokio::time::sleep_until(at + COALESCE).await;
            }
            // Every commit until now is in what is read next.
            changes.borrow_and_update();
            loop {
                if self.fast_forward_if_unwatched().await {
                    // Coalesced as reads are: a read of the head per commit was a query per
                    // post (or per batch) while nobody watched.
                    last_read = Some(tokio::time::Instant::now());
                    break;
                }
                let after = self.head();
                match self.inner.store.events_after(after, TAIL_BATCH).await {
                    // A short batch reached the head of the log as it was when read: stop
                    // there rather than read again only to find nothing. A commit after that
                    // read poked the tailer, and `Notify` keeps that poke for the next wait,
                    // which therefore returns at once.
                    Ok(batch) if batch.len() < TAIL_BATCH as usize => {
                        if !batch.is_empty() {
                            self.distribute(&batch);
                        }
                        last_read = Some(tokio::time::Instant::now());
                        break;
                    }
                    Ok(batch) => self.distribute(&batch),
                    Err(e) => {
                        if self.inner.store.pool().is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "reading the event log failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        // The commits that woke this read were taken: read again at once.
                        self.poke();
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
        if !self.registry_read().is_empty() {
            return false;
        }
        let Ok(head) = self.inner.store.head_seq().await else {
            return false;
        };
        let registry = self.registry_read();
        if !registry.is_empty() {
            return false;
        }
        self.inner.delivered.fetch_max(head, Ordering::SeqCst);
        true
    }

    /// Puts each event of a batch in the rings of its channels, then advances the cursor, all
    /// under the registry lock (see the crate docs for why). Work per event and channel, not
    /// per subscriber.
    fn distribute(&self, batch: &[EventRecord]) {
        let registry = self.registry_read();
        let mut handed = 0u64;
        for event in batch {
            for channel in channel::channels_of(event) {
                let Some(ring) = registry.get(&channel) else {
                    continue;
                };
                // Err: nobody reads this ring any more (it goes when its last reader does).
                if let Ok(readers) = ring.send(Arc::new(Entry::new(event, &channel))) {
                    handed += readers as u64;
                }
            }
            self.inner.delivered.store(event.seq, Ordering::SeqCst);
        }
        // Entries times the readers of their rings (a reader may still skip one it may not see).
        metrics::counter!("live_deliveries_total").increment(handed);
    }
}

/// One channel of a subscription: its ring, and the head its replay reached (entries up to it
/// came, or had to come, through the replay).
struct Feed {
    channel: Channel,
    rx: broadcast::Receiver<Arc<Entry>>,
    skip_to: i64,
}

/// One subscriber: its channels and where it stands in their rings.
pub struct Subscription {
    viewer: Viewer,
    live: Live,
    feeds: Vec<Feed>,
    /// With several channels: entries read from the rings, not yet known to be next in order
    /// (with the index of their feed).
    held: Vec<(Arc<Entry>, usize)>,
    /// Frames in order, ready to go out.
    ready: VecDeque<Frame>,
    /// A ring overran this subscriber.
    too_slow: bool,
    /// The highest seq handed out by `next` and `try_next` (every lower one of its channels
    /// was handed out before it).
    sent: i64,
}

/// Events read from the log at once by a replay (see [`Replay::next_page`]).
const REPLAY_PAGE: i64 = 500;

/// Most frames one merge round of a several-channel subscription makes ready.
const MERGE_BATCH: usize = 256;

impl Subscription {
    /// The viewer.
    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    /// Changes who the subscriber is (their roles changed while connected): channels they may
    /// no longer read are left (and returned), frames ready to go are checked again, and what
    /// comes next is seen as this viewer may see it.
    pub fn set_viewer(&mut self, viewer: Viewer) -> Vec<Channel> {
        let lost: Vec<Channel> = self
            .feeds
            .iter()
            .map(|f| f.channel.clone())
            .filter(|c| !c.readable_by(&viewer))
            .collect();
        self.unsubscribe(&lost);
        self.ready = std::mem::take(&mut self.ready)
            .into_iter()
            .filter_map(|f| {
                let redacted = f.entry.access(&viewer)?;
                Some(Frame {
                    entry: f.entry,
                    redacted,
                })
            })
            .collect();
        self.viewer = viewer;
        lost
    }

    /// Channels subscribed.
    pub fn channels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.feeds.iter().map(|f| f.channel.to_string()).collect();
        v.sort();
        v
    }

    /// Subscribes to channels (already authorised with [`Channel::authorize`]) and returns
    /// what the client missed: with `since`, a [`Replay`] of every event after it on these
    /// channels that the viewer may see, up to the head it gives; without, an empty one at the
    /// head. Send the replay's pages, then the head, then live events from
    /// [`Subscription::next`]: together they hold each event once, with no gap, whatever the
    /// replay's length.
    ///
    /// Without `since`, channels already subscribed keep their place. With it, the replay
    /// also holds the events of the other channels subscribed before that were not handed out
    /// yet, so what the connection sends stays in seq order.
    pub async fn subscribe(
        &mut self,
        channels: &[Channel],
        since: Option<i64>,
    ) -> Result<Replay, hub_store::StoreError> {
        let head = {
            let mut reg = self.live.registry_write();
            for c in channels {
                if self.feeds.iter().any(|f| f.channel == *c) {
                    continue;
                }
                let capacity = self
                    .live
                    .inner
                    .config
                    .queue_capacity
                    .clamp(1, MAX_QUEUE_CAPACITY);
                let rx = reg
                    .entry(c.clone())
                    .or_insert_with(|| broadcast::channel(capacity).0)
                    .subscribe();
                self.feeds.push(Feed {
                    channel: c.clone(),
                    rx,
                    skip_to: i64::MAX,
                });
            }
            self.live.inner.delivered.load(Ordering::SeqCst)
        };
        // Everything committed before this call belongs to the replay, even what the tailer has
        // not handed out yet: read the log's head too (after joining the rings, so any event
        // above it reaches this subscription live; live entries up to it are skipped).
        let head = match self.live.inner.store.head_seq().await {
            Ok(h) => head.max(h),
            Err(e) => {
                // Not subscribed after all: leave the rings just joined.
                self.leave(|f| f.skip_to == i64::MAX);
                return Err(e);
            }
        };
        // The channels whose place is set now, each with the seq its replay starts after:
        // - those named, with `since`: from there;
        // - new ones without `since`: from the head (nothing to replay);
        // - with `since`, every other channel too, from what was handed out on it: its events
        //   up to the head not yet sent go out with the replay, merged in seq order, rather
        //   than after it (a client resuming from the last seq it saw would miss them).
        let sent = self.sent;
        let restarted: Vec<(Channel, i64)> = self
            .feeds
            .iter()
            .filter_map(|f| {
                let start = if channels.contains(&f.channel) {
                    match since {
                        Some(s) => s.max(0),
                        None if f.skip_to == i64::MAX => head,
                        None => return None,
                    }
                } else if since.is_some() {
                    f.skip_to.max(sent)
                } else {
                    return None;
                };
                Some((f.channel.clone(), start))
            })
            .collect();
        let is_restarted = |c: &Channel| restarted.iter().any(|(r, _)| r == c);
        for f in &mut self.feeds {
            if is_restarted(&f.channel) {
                f.skip_to = head;
            }
        }
        // Frames already read on restarted channels are superseded by the replay and the head.
        let names: Vec<String> = restarted.iter().map(|(c, _)| c.to_string()).collect();
        self.ready
            .retain(|fr| fr.seq() > head || !names.iter().any(|n| n == fr.channel()));
        let feeds = &self.feeds;
        self.held.retain(|(e, i)| {
            e.seq > head || !feeds.get(*i).is_some_and(|f| is_restarted(&f.channel))
        });
        let mut filter = EventFilter::default();
        for (c, _) in &restarted {
            c.add_to(&mut filter);
        }
        Ok(Replay {
            store: self.live.inner.store.clone(),
            viewer: self.viewer.clone(),
            after: restarted
                .iter()
                .map(|(_, s)| *s)
                .min()
                .unwrap_or(head)
                .min(head),
            channels: restarted,
            filter,
            head,
        })
    }

    /// Leaves channels.
    pub fn unsubscribe(&mut self, channels: &[Channel]) {
        self.leave(|f| channels.contains(&f.channel));
    }

    /// Leaves the feeds `which` selects, and forgets what was read from them.
    fn leave(&mut self, which: impl Fn(&Feed) -> bool) {
        let mut reg = self.live.registry_write();
        let mut kept = Vec::with_capacity(self.feeds.len());
        let mut index = Vec::with_capacity(self.feeds.len());
        let mut gone = Vec::new();
        for f in self.feeds.drain(..) {
            if which(&f) {
                index.push(None);
                gone.push(f.channel.to_string());
                let channel = f.channel.clone();
                drop(f);
                if reg.get(&channel).is_some_and(|r| r.receiver_count() == 0) {
                    reg.remove(&channel);
                }
            } else {
                index.push(Some(kept.len()));
                kept.push(f);
            }
        }
        drop(reg);
        self.feeds = kept;
        self.ready
            .retain(|fr| !gone.iter().any(|g| g == fr.channel()));
        self.held = std::mem::take(&mut self.held)
            .into_iter()
            .filter_map(|(e, i)| Some((e, index.get(i).copied().flatten()?)))
            .collect();
        // One channel left: nothing more to merge, and its path in `gather` reads the ring
        // only. What is held comes after everything ready and before what the ring still
        // holds, so it goes out now, in order.
        if self.feeds.len() <= 1 && !self.held.is_empty() {
            let mut held = std::mem::take(&mut self.held);
            held.sort_by_key(|(e, i)| (e.seq, *i));
            for (entry, _) in held {
                if let Some(redacted) = entry.access(&self.viewer) {
                    self.ready.push_back(Frame { entry, redacted });
                }
            }
        }
    }

    /// A ring overran this subscriber: it ends with [`Ended::TooSlow`] once the frames read
    /// before are out.
    fn fell_behind(&mut self) {
        if !self.too_slow {
            self.too_slow = true;
            metrics::counter!("live_subscribers_dropped_total").increment(1);
        }
    }

    /// Whether a live entry goes to this subscriber, and as which frame.
    fn admit(viewer: &Viewer, skip_to: i64, entry: Arc<Entry>) -> Option<Frame> {
        if entry.seq <= skip_to {
            return None;
        }
        let redacted = entry.access(viewer)?;
        Some(Frame { entry, redacted })
    }

    /// Reads what the rings hold without waiting. With one channel, frames go straight to
    /// `ready`; with several, through the merge (see the crate docs). Returns whether anything
    /// was read.
    fn gather(&mut self) -> bool {
        if self.too_slow {
            return false;
        }
        if let [feed] = self.feeds.as_mut_slice() {
            let mut any = false;
            while self.ready.len() < MERGE_BATCH {
                match feed.rx.try_recv() {
                    Ok(entry) => {
                        any = true;
                        if let Some(f) = Self::admit(&self.viewer, feed.skip_to, entry) {
                            self.ready.push_back(f);
                        }
                    }
                    Err(broadcast::error::TryRecvError::Lagged(_)) => {
                        self.fell_behind();
                        return any;
                    }
                    Err(_) => break,
                }
            }
            return any;
        }
        let mut any = false;
        loop {
            // Everything put in a ring before the entries already held were is read by the
            // drain below: up to their highest seq, the order is known.
            let bound = self.held.iter().map(|(e, _)| e.seq).max();
            let mut drained = 0usize;
            for (i, feed) in self.feeds.iter_mut().enumerate() {
                loop {
                    match feed.rx.try_recv() {
                        Ok(entry) => {
                            drained += 1;
                            if entry.seq > feed.skip_to {
                                self.held.push((entry, i));
                            }
                        }
                        Err(broadcast::error::TryRecvError::Lagged(_)) => {
                            self.fell_behind();
                            return true;
                        }
                        Err(_) => break,
                    }
                }
            }
            any |= drained > 0;
            if let Some(bound) = bound {
                self.held.sort_by_key(|(e, i)| (e.seq, *i));
                let n = self.held.partition_point(|(e, _)| e.seq <= bound);
                for (entry, _) in self.held.drain(..n) {
                    if let Some(redacted) = entry.access(&self.viewer) {
                        self.ready.push_back(Frame { entry, redacted });
                    }
                }
            }
            if self.held.is_empty() || self.ready.len() >= MERGE_BATCH {
                return any;
            }
        }
    }

    /// The next live frame; `Err` when the subscriber fell behind or the fan-out closed.
    /// Cancel-safe: what was read before a cancellation stays for the next call.
    pub async fn next(&mut self) -> Result<Frame, Ended> {
        loop {
            if let Some(f) = self.ready.pop_front() {
                self.sent = self.sent.max(f.seq());
                return Ok(f);
            }
            if self.too_slow {
                return Err(Ended::TooSlow);
            }
            // Also when the gather read nothing new but made held entries ready: an entry that
            // reached one ring only is held by the wait below and made ready here; waiting
            // again would leave it until some later event woke this subscriber.
            if self.gather() || !self.held.is_empty() || !self.ready.is_empty() {
                continue;
            }
            // Nothing at hand: wait for any ring to grow.
            let received = match self.feeds.as_mut_slice() {
                [] => std::future::pending().await,
                [feed] => feed.rx.recv().await.map(|e| (e, 0)),
                feeds => {
                    let waits = feeds
                        .iter_mut()
                        .map(|f| Box::pin(f.rx.recv()))
                        .collect::<Vec<_>>();
                    let (r, i, _) = futures::future::select_all(waits).await;
                    r.map(|e| (e, i))
                }
            };
            match received {
                Ok((entry, i)) => {
                    let Some(feed) = self.feeds.get(i) else {
                        continue;
                    };
                    if self.feeds.len() == 1 {
                        if let Some(f) = Self::admit(&self.viewer, feed.skip_to, entry) {
                            self.ready.push_back(f);
                        }
                    } else if entry.seq > feed.skip_to {
                        self.held.push((entry, i));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.fell_behind(),
                Err(broadcast::error::RecvError::Closed) => return Err(Ended::Closed),
            }
        }
    }

    /// A frame ready now, without waiting (to coalesce writes). `None` also when the
    /// subscriber fell behind: [`Subscription::next`] then says so.
    pub fn try_next(&mut self) -> Option<Frame> {
        if self.ready.is_empty() {
            self.gather();
        }
        let f = self.ready.pop_front()?;
        self.sent = self.sent.max(f.seq());
        Some(f)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.leave(|_| true);
        self.live.inner.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a subscriber missed, read from the log a page at a time (so a long absence costs no
/// more memory than a short one), each event as the viewer may see it now.
pub struct Replay {
    store: Store,
    viewer: Viewer,
    /// The channels replayed, each with the seq its replay starts after.
    channels: Vec<(Channel, i64)>,
    filter: EventFilter,
    /// The last seq read.
    after: i64,
    head: i64,
}

impl Replay {
    /// The head the replay reaches: live events follow it.
    pub fn head(&self) -> i64 {
        self.head
    }

    /// The next page of the replay, in order; empty when it is done.
    ///
    /// A post hidden, removed or sent back to moderation since an event about it was logged,
    /// or whose thread's opening post was, is now withheld from those who may not see it: its
    /// events come as tombstones (or not at all), as they would if they were logged today.
    pub async fn next_page(&mut self) -> Result<Vec<Frame>, hub_store::StoreError> {
        let mut out = Vec::new();
        while out.is_empty() && self.after < self.head {
            let mut batch = self
                .store
                .events_for(self.after, &self.filter, REPLAY_PAGE)
                .await?;
            // A short page read the log to its end (every event up to the head had committed
            // when the head was read); a full one goes on after its last event.
            let full = batch.len() == REPLAY_PAGE as usize;
            self.after = match batch.last() {
                Some(last) if full && last.seq < self.head => last.seq,
                _ => self.head,
            };
            batch.retain(|e| e.seq <= self.head);
            let posts: Vec<i64> = batch
                .iter()
                .filter(|e| e.audience == "public")
                .filter_map(|e| e.post_id)
                .collect();
            let withheld = if posts.is_empty() {
                std::collections::HashSet::new()
            } else {
                self.store.withheld_posts(&posts).await?
            };
            for e in &batch {
                let now_withheld = e.post_id.is_some_and(|p| withheld.contains(&p));
                for ch in channel::channels_of(e) {
                    if !self.channels.iter().any(|(c, s)| *c == ch && e.seq > *s) {
                        continue;
                    }
                    let entry = Arc::new(Entry::replayed(e, &ch, now_withheld));
                    if let Some(redacted) = entry.access(&self.viewer) {
                        out.push(Frame { entry, redacted });
                    }
                }
            }
        }
        Ok(out)
    }
}
