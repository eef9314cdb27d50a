//! The load: N WebSocket subscribers that timestamp every event they receive, one writer that
//! posts at a fixed rate and timestamps every 201, and the arithmetic of one step.

use crate::procfs;
use anyhow::{bail, Context};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// What every subscriber sends first.
const SUBSCRIBE: &str = "{\"op\":\"subscribe\",\"channels\":[\"region:europe\"]}";

/// Handshakes (connect + subscribe + ack) in flight at once.
const CONNECT_CONCURRENCY: usize = 128;

/// Read buffer of the clients' WebSockets. tungstenite's default (128 KiB) is zero-filled on
/// every read, which would make the clients, not the servers, the bottleneck.
const CLIENT_READ_BUFFER: usize = 16 * 1024;

/// Microseconds since `base`, saturating (a run lasts minutes, far below u32::MAX µs).
pub fn micros_since(base: Instant) -> u32 {
    u32::try_from(base.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// The post id in an event frame (`{"op":"event",...,"data":{"id":N,...`), without parsing
/// the JSON: both servers put the post's id first in `data`.
pub fn event_post_id(t: &str) -> Option<u32> {
    if !t.starts_with("{\"op\":\"event\"") {
        return None;
    }
    const KEY: &str = "\"data\":{\"id\":";
    let i = t.find(KEY)? + KEY.len();
    let rest = &t[i..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// One subscriber's state, shared between its task and the driver.
#[derive(Default)]
pub struct SubState {
    /// (post id, receipt µs since base) of every event received since the last take.
    records: Mutex<Vec<(u32, u32)>>,
    /// Events received (all time).
    count: AtomicU64,
    /// Bytes of event frames received (all time).
    bytes: AtomicU64,
    /// Subscribed and not closed.
    alive: AtomicBool,
    /// Why the last connection ended.
    end: Mutex<Option<String>>,
}

/// What all subscribers share.
pub struct Shared {
    /// The clock of the run.
    pub base: Instant,
}

impl Shared {
    pub fn new(base: Instant) -> Arc<Self> {
        Arc::new(Self { base })
    }
}

/// N subscribers of `region:europe`.
pub struct Subscribers {
    url: String,
    shared: Arc<Shared>,
    gate: Arc<Semaphore>,
    subs: Vec<Arc<SubState>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Subscribers {
    /// Opens `n` subscribers to `url` and waits (at most 180 s) until each has its ack or
    /// failed.
    pub async fn open(url: String, n: usize, shared: Arc<Shared>) -> anyhow::Result<Self> {
        let mut me = Self {
            url,
            shared,
            gate: Arc::new(Semaphore::new(CONNECT_CONCURRENCY)),
            subs: Vec::with_capacity(n),
            tasks: Vec::with_capacity(n),
        };
        for _ in 0..n {
            let st = Arc::new(SubState::default());
            me.tasks.push(me.spawn(st.clone()));
            me.subs.push(st);
        }
        me.settle(Duration::from_secs(180)).await?;
        Ok(me)
    }

    fn spawn(&self, st: Arc<SubState>) -> JoinHandle<()> {
        tokio::spawn(subscriber(
            self.url.clone(),
            st,
            self.shared.clone(),
            self.gate.clone(),
        ))
    }

    /// Waits (at most `limit`) until every connection is subscribed or has ended.
    async fn settle(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let alive = self.alive();
            let ended = self.tasks.iter().filter(|t| t.is_finished()).count();
            if alive + ended >= self.subs.len() || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let alive = self.alive();
        if alive < self.subs.len() {
            let why = self
                .subs
                .iter()
                .find_map(|s| s.end.lock().ok().and_then(|e| e.clone()))
                .unwrap_or_else(|| "still connecting".to_string());
            eprintln!(
                "hub-fanout: {alive} of {} subscribers connected (e.g.: {why})",
                self.subs.len()
            );
        }
        if alive == 0 && !self.subs.is_empty() {
            bail!("no subscriber could connect to {}", self.url);
        }
        Ok(())
    }

    /// Subscribers currently subscribed.
    pub fn alive(&self) -> usize {
        self.subs
            .iter()
            .filter(|s| s.alive.load(Ordering::SeqCst))
            .count()
    }

    /// Which subscribers are alive, in order.
    pub fn alive_mask(&self) -> Vec<bool> {
        self.subs
            .iter()
            .map(|s| s.alive.load(Ordering::SeqCst))
            .collect()
    }

    /// Events received by all subscribers, all time (for the drain wait).
    pub fn received(&self) -> u64 {
        self.subs
            .iter()
            .map(|s| s.count.load(Ordering::Relaxed))
            .sum()
    }

    /// Bytes of event frames received by all subscribers, all time.
    pub fn bytes(&self) -> u64 {
        self.subs
            .iter()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum()
    }

    /// Takes every subscriber's records.
    pub fn take_records(&self) -> Vec<Vec<(u32, u32)>> {
        self.subs
            .iter()
            .map(|s| match s.records.lock() {
                Ok(mut g) => std::mem::take(&mut *g),
                Err(p) => std::mem::take(&mut *p.into_inner()),
            })
            .collect()
    }

    /// Reconnects the subscribers that were dropped; returns how many were.
    pub async fn reopen_dropped(&mut self) -> anyhow::Result<usize> {
        let mut n = 0;
        for i in 0..self.subs.len() {
            if self.tasks[i].is_finished() {
                self.tasks[i] = self.spawn(self.subs[i].clone());
                n += 1;
            }
        }
        if n > 0 {
            self.settle(Duration::from_secs(60)).await?;
        }
        Ok(n)
    }

    /// Why the most common disconnections happened (reason → count), for the report.
    pub fn end_reasons(&self) -> Vec<(String, usize)> {
        let mut m: HashMap<String, usize> = HashMap::new();
        for s in &self.subs {
            if let Ok(e) = s.end.lock() {
                if let Some(e) = e.as_ref() {
                    *m.entry(e.chars().take(120).collect()).or_default() += 1;
                }
            }
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.1));
        v
    }

    /// Closes every connection.
    pub async fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn subscriber(url: String, me: Arc<SubState>, shared: Arc<Shared>, gate: Arc<Semaphore>) {
    let r = subscriber_inner(&url, &me, &shared, gate).await;
    me.alive.store(false, Ordering::SeqCst);
    let why = match r {
        Ok(why) => why,
        Err(e) => format!("{e:#}"),
    };
    if let Ok(mut end) = me.end.lock() {
        *end = Some(why);
    }
}

async fn subscriber_inner(
    url: &str,
    me: &SubState,
    shared: &Shared,
    gate: Arc<Semaphore>,
) -> anyhow::Result<String> {
    let permit = gate.acquire_owned().await.context("connect gate closed")?;
    let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER);
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async_with_config(url, Some(config), true),
    )
    .await
    .context("WebSocket connect timed out")?
    .context("WebSocket connect")?;
    ws.send(Message::Text(SUBSCRIBE.into()))
        .await
        .context("sending subscribe")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no subscribed ack within 30 s")?
            .context("closed before the ack")?
            .context("reading the ack")?;
        // The hub builds these with `json!`, whose keys come out sorted: match anywhere.
        if let Message::Text(t) = m {
            if t.as_str().contains("\"op\":\"subscribed\"") {
                break;
            }
            if t.as_str().contains("\"op\":\"error\"") {
                bail!("subscribe refused: {}", t.as_str());
            }
        }
    }
    drop(permit);
    me.alive.store(true, Ordering::SeqCst);
    // Bounded by the connection: the driver aborts this task at the end of the phase.
    while let Some(m) = ws.next().await {
        match m.context("reading")? {
            Message::Text(t) => {
                let now = micros_since(shared.base);
                let s = t.as_str();
                if let Some(id) = event_post_id(s) {
                    match me.records.lock() {
                        Ok(mut g) => g.push((id, now)),
                        Err(p) => p.into_inner().push((id, now)),
                    }
                    me.count.fetch_add(1, Ordering::Relaxed);
                    me.bytes.fetch_add(s.len() as u64, Ordering::Relaxed);
                } else if s.contains("\"op\":\"error\"") {
                    return Ok(format!(
                        "server error frame: {}",
                        s.chars().take(100).collect::<String>()
                    ));
                }
            }
            Message::Close(f) => {
                return Ok(format!(
                    "closed by the server: {}",
                    f.map(|f| format!("{} {}", u16::from(f.code), f.reason.as_str()))
                        .unwrap_or_default()
                ))
            }
            _ => {}
        }
    }
    Ok("stream ended".to_string())
}

/// Where posts go.
pub enum Target {
    /// `POST /api/v1/threads/{thread}/posts` with a bearer token.
    Hub {
        base: String,
        token: String,
        thread: i64,
    },
    /// `POST /publish` of the bare server.
    Bare { url: String, padding: usize },
}

/// The hub's post body: ~250 characters of Markdown, so that the `post.created` frame (the
/// post JSON with `body`, `body_html`, author and metadata) is about 1 KB.
const HUB_BODY: &str = "Our network documented **regular pathways** for seasonal workers \
and access to basic services for migrants in transit. We ask the consultation to consider \
portable social protection and alternatives to detention for children and families.";

#[derive(Deserialize)]
struct IdOnly {
    id: i64,
}

#[derive(Deserialize)]
struct Session {
    token: String,
}

/// Posts one at a time or many at once, timing each 201.
pub struct Poster {
    client: reqwest::Client,
    target: Target,
    base: Instant,
    /// Cheap GETs timed during steps (name, URL): how long a request waits to be served.
    probes: Vec<(&'static str, String)>,
}

/// One post that came back 201: id, µs of send, µs of the 201.
#[derive(Debug, Clone, Copy)]
pub struct Posted {
    pub id: u32,
    pub sent: u32,
    pub ok: u32,
}

impl Poster {
    pub fn new(target: Target, base: Instant, pool: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(pool)
            .pool_idle_timeout(Duration::from_secs(120))
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        let probes = match &target {
            Target::Bare { url, .. } => vec![("healthz", url.replace("/publish", "/healthz"))],
            Target::Hub { .. } => Vec::new(),
        };
        Ok(Self {
            client,
            target,
            base,
            probes,
        })
    }

    /// The hub: registers the writer and opens the thread posts go to.
    pub async fn hub(addr: SocketAddr, base: Instant, pool: usize) -> anyhow::Result<Self> {
        let api = format!("http://{addr}/api/v1");
        let mut me = Self::new(
            Target::Bare {
                url: String::new(),
                padding: 0,
            },
            base,
            pool,
        )?;
        let res = me
            .client
            .post(format!("{api}/auth/register"))
            .json(&serde_json::json!({
                "email": "fanout-writer@example.org",
                "password": "correct horse battery staple",
                "display_name": "Fan-out writer",
                "organisation": "Migrant Rights Network",
                "stakeholder_group": "civil_society",
                "country": "KE",
                "language": "en",
            }))
            .send()
            .await
            .context("register")?;
        let status = res.status();
        let text = res.text().await.context("register: body")?;
        if status != 201 {
            bail!("register: HTTP {status}: {text}");
        }
        let token = serde_json::from_str::<Session>(&text)
            .context("register: response")?
            .token;
        let res = me
            .client
            .post(format!("{api}/regions/europe/threads"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "title": "Fan-out benchmark thread",
                "body": HUB_BODY,
                "kind": "comment",
                "objectives": [5, 7],
                "language": "en",
            }))
            .send()
            .await
            .context("create thread")?;
        let status = res.status();
        let text = res.text().await.context("create thread: body")?;
        if status != 201 {
            bail!("create thread: HTTP {status}: {text}");
        }
        let thread = serde_json::from_str::<IdOnly>(&text)
            .context("create thread: response")?
            .id;
        me.target = Target::Hub {
            base: api,
            token,
            thread,
        };
        // No database (one trip through the scheduler), and one database round trip.
        me.probes = vec![
            ("healthz", format!("http://{addr}/healthz")),
            ("readyz", format!("http://{addr}/readyz")),
        ];
        Ok(me)
    }

    /// Posts number `i`; returns its id and timings.
    pub async fn post_one(&self, i: u64) -> anyhow::Result<Posted> {
        let req = match &self.target {
            Target::Hub {
                base,
                token,
                thread,
            } => self
                .client
                .post(format!("{base}/threads/{thread}/posts"))
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "body": format!("Post {i}. {HUB_BODY}"),
                    "kind": "comment",
                    "language": "en",
                })),
            Target::Bare { url, padding } => {
                let mut pad = format!("Post {i}. ");
                while pad.len() < *padding {
                    pad.push_str("migration ");
                }
                pad.truncate((*padding).max(1));
                self.client
                    .post(url.as_str())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(format!("{{\"body\":\"{pad}\"}}"))
            }
        };
        let sent = micros_since(self.base);
        let res = req.send().await.context("POST")?;
        let ok = micros_since(self.base);
        let status = res.status();
        let bytes = res.bytes().await.context("POST: body")?;
        if status != 201 {
            bail!(
                "POST: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            );
        }
        let id = serde_json::from_slice::<IdOnly>(&bytes)
            .context("POST: response")?
            .id;
        Ok(Posted {
            id: u32::try_from(id).context("post id beyond u32")?,
            sent,
            ok,
        })
    }
}

/// Times the poster's probe GETs every 50 ms for `seconds`; latency histograms in µs.
async fn probe_loop(
    poster: Arc<Poster>,
    seconds: u64,
) -> anyhow::Result<Vec<(&'static str, Histogram<u64>)>> {
    let mut out = Vec::new();
    for (name, _) in &poster.probes {
        out.push((*name, histogram()?));
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    for _ in 0..seconds * 20 {
        ticker.tick().await;
        if tokio::time::Instant::now() > deadline {
            break;
        }
        for (i, (_, url)) in poster.probes.iter().enumerate() {
            let t = Instant::now();
            let ok = match poster.client.get(url.as_str()).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            if ok {
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                out[i].1.record(us)?;
            }
        }
    }
    Ok(out)
}

/// The posts of one step.
pub struct PostRun {
    pub target: u64,
    pub posted: Vec<Posted>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Posts not sent because `max_inflight` were outstanding until the step's deadline.
    pub not_sent: u64,
}

/// Posts at `rate`/s for `seconds` (open loop: one every 1/rate s, at most `max_inflight`
/// outstanding), numbering from `first`.
pub async fn post_at_rate(
    poster: Arc<Poster>,
    rate: u32,
    seconds: u64,
    max_inflight: usize,
    first: u64,
) -> PostRun {
    let total = u64::from(rate) * seconds;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let gate = Arc::new(Semaphore::new(max_inflight.max(1)));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds + 2);
    let mut set = JoinSet::new();
    let mut sent = 0u64;
    for i in 0..total {
        ticker.tick().await;
        if tokio::time::Instant::now() > deadline {
            break;
        }
        let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, gate.clone().acquire_owned()).await
        else {
            break;
        };
        let p = poster.clone();
        set.spawn(async move {
            let r = p.post_one(first + i).await;
            drop(permit);
            r
        });
        sent += 1;
    }
    let mut run = PostRun {
        target: total,
        posted: Vec::with_capacity(usize::try_from(total).unwrap_or(0)),
        errors: 0,
        first_error: None,
        not_sent: total - sent,
    };
    let collect = async {
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(p)) => run.posted.push(p),
                Ok(Err(e)) => {
                    run.errors += 1;
                    run.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
                Err(e) => {
                    run.errors += 1;
                    run.first_error.get_or_insert_with(|| format!("task: {e}"));
                }
            }
        }
    };
    // Requests time out after 30 s; this bounds the wait for stragglers.
    let _ = tokio::time::timeout(Duration::from_secs(40), collect).await;
    set.abort_all();
    run
}

/// Measured figures of one step.
pub struct Step {
    pub rate: u32,
    pub subscribers: usize,
    pub posts_target: u64,
    pub posts_ok: u64,
    pub post_errors: u64,
    pub first_error: Option<String>,
    /// Posts that got 201 per second of the posting window.
    pub achieved_rate: f64,
    /// POST → 201, µs.
    pub post_latency: Histogram<u64>,
    /// Probe GETs during the posting (name, µs).
    pub probes: Vec<(&'static str, Histogram<u64>)>,
    pub deliveries: u64,
    pub deliveries_per_s: f64,
    /// Deliveries missing at subscribers alive at the start.
    pub missing: u64,
    pub subs_with_loss: usize,
    /// Subscribers disconnected during the step.
    pub dropped: usize,
    pub duplicates: u64,
    /// Events received that no 201 of this step named (late from a failed POST, or earlier).
    pub unmatched: u64,
    /// 201 → receipt, µs, clamped at 0.
    pub e2e: Histogram<u64>,
    /// Receipts that came before their POST's 201.
    pub early: u64,
    pub server_cpu_s: f64,
    pub client_cpu_s: f64,
    /// CPU seconds other processes of the machine used during the step.
    pub other_cpu_s: f64,
    /// Wall time from the first POST to the end of the drain.
    pub wall_s: f64,
    pub mean_frame_bytes: f64,
}

impl Step {
    /// No loss, no drop, no POST error, the rate sustained (≥ 95 %), p99 under the limit.
    pub fn passes(&self, p99_limit_ms: f64) -> bool {
        self.missing == 0
            && self.dropped == 0
            && self.post_errors == 0
            && self.achieved_rate >= 0.95 * f64::from(self.rate)
            && (self.subscribers == 0 || ms(self.e2e.value_at_quantile(0.99)) < p99_limit_ms)
    }

    /// Server CPU µs per delivery.
    pub fn server_us_per_delivery(&self) -> Option<f64> {
        (self.deliveries > 0).then(|| self.server_cpu_s * 1e6 / self.deliveries as f64)
    }

    /// Server CPU µs per delivery after taking out `post_cost_s` per POST.
    pub fn net_us_per_delivery(&self, post_cost_s: f64) -> Option<f64> {
        (self.deliveries > 0).then(|| {
            (self.server_cpu_s - post_cost_s * self.posts_ok as f64).max(0.0) * 1e6
                / self.deliveries as f64
        })
    }

    /// Client CPU µs per delivery.
    pub fn client_us_per_delivery(&self) -> Option<f64> {
        (self.deliveries > 0).then(|| self.client_cpu_s * 1e6 / self.deliveries as f64)
    }
}

/// µs → ms.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::<u64>::new(3).context("histogram")
}

/// Everything one step needs.
pub struct StepCtx<'a> {
    pub poster: Arc<Poster>,
    pub server_pid: u32,
    pub base: Instant,
    pub max_inflight: usize,
    pub subs: Option<&'a mut Subscribers>,
}

/// Waits until the subscribers have received `expected` frames since `recv0`, 3 s pass
/// without progress, or 10 s in all.
async fn drain(s: &Subscribers, recv0: u64, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = s.received();
    let mut last_change = Instant::now();
    while Instant::now() < deadline {
        let got = s.received();
        if got - recv0 >= expected {
            break;
        }
        if got != last {
            last = got;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs one step: posts at `rate` for `seconds`, waits for delivery to finish (≤ 10 s,
/// or 3 s without progress), and measures.
pub async fn run_step(
    ctx: &mut StepCtx<'_>,
    rate: u32,
    seconds: u64,
    first_post: u64,
) -> anyhow::Result<Step> {
    let mut reopened = 0;
    if let Some(subs) = ctx.subs.as_deref_mut() {
        reopened = subs.reopen_dropped().await?;
        // Whatever arrived between steps is not this step's.
        let _ = subs.take_records();
    }
    if reopened > 0 {
        eprintln!("hub-fanout:   reconnected {reopened} dropped subscribers");
    }
    let subs = ctx.subs.as_deref();
    let alive0 = subs.map(Subscribers::alive_mask).unwrap_or_default();
    let n_alive = alive0.iter().filter(|a| **a).count();
    let (recv0, bytes0) = subs.map_or((0, 0), |s| (s.received(), s.bytes()));
    let me = std::process::id();
    let (scpu0, ccpu0, busy0) = (
        procfs::cpu_seconds(ctx.server_pid)?,
        procfs::cpu_seconds(me)?,
        procfs::machine_busy_seconds()?,
    );
    let t0 = micros_since(ctx.base);
    let start = Instant::now();

    let (run, probes) = tokio::join!(
        post_at_rate(
            ctx.poster.clone(),
            rate,
            seconds,
            ctx.max_inflight,
            first_post,
        ),
        probe_loop(ctx.poster.clone(), seconds)
    );
    let probes = probes?;

    if let Some(s) = subs {
        drain(s, recv0, run.posted.len() as u64 * n_alive as u64).await;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let (scpu1, ccpu1, busy1) = (
        procfs::cpu_seconds(ctx.server_pid)?,
        procfs::cpu_seconds(me)?,
        procfs::machine_busy_seconds()?,
    );

    let mut post_latency = histogram()?;
    let mut index: HashMap<u32, (usize, u32)> = HashMap::with_capacity(run.posted.len());
    let mut last_ok = t0;
    for (k, p) in run.posted.iter().enumerate() {
        index.insert(p.id, (k, p.ok));
        post_latency.record(u64::from(p.ok.saturating_sub(p.sent)))?;
        last_ok = last_ok.max(p.ok);
    }
    let posts_ok = run.posted.len() as u64;
    let post_window_s = f64::from(last_ok.saturating_sub(t0)) / 1e6;
    let achieved_rate = if post_window_s > 0.0 {
        // The first post goes at t0 and the last at ~t0 + (n-1)/rate: count intervals.
        posts_ok.saturating_sub(1) as f64 / post_window_s
    } else {
        0.0
    };

    let mut step = Step {
        rate,
        subscribers: n_alive,
        posts_target: run.target,
        posts_ok,
        post_errors: run.errors + run.not_sent,
        first_error: run.first_error.or_else(|| {
            (run.not_sent > 0).then(|| format!("{} posts not sent in time", run.not_sent))
        }),
        achieved_rate,
        post_latency,
        probes,
        deliveries: 0,
        deliveries_per_s: 0.0,
        missing: 0,
        subs_with_loss: 0,
        dropped: 0,
        duplicates: 0,
        unmatched: 0,
        e2e: histogram()?,
        early: 0,
        server_cpu_s: scpu1 - scpu0,
        client_cpu_s: ccpu1 - ccpu0,
        other_cpu_s: ((busy1 - busy0) - (scpu1 - scpu0) - (ccpu1 - ccpu0)).max(0.0),
        wall_s,
        mean_frame_bytes: 0.0,
    };
    let Some(s) = subs else {
        return Ok(step);
    };
    let alive1 = s.alive_mask();
    step.dropped = alive0
        .iter()
        .zip(&alive1)
        .filter(|(a, b)| **a && !**b)
        .count();
    let records = s.take_records();
    let mut seen = vec![usize::MAX; run.posted.len()];
    let mut last_recv = t0;
    for (sub_i, recs) in records.iter().enumerate() {
        let mut got = 0u64;
        for &(id, at) in recs {
            let Some(&(k, ok)) = index.get(&id) else {
                step.unmatched += 1;
                continue;
            };
            if seen[k] == sub_i {
                step.duplicates += 1;
                continue;
            }
            seen[k] = sub_i;
            got += 1;
            if at < ok {
                step.early += 1;
            }
            step.e2e.record(u64::from(at.saturating_sub(ok)))?;
            last_recv = last_recv.max(at);
        }
        step.deliveries += got;
        if alive0.get(sub_i).copied().unwrap_or(false) && got < posts_ok {
            step.missing += posts_ok - got;
            step.subs_with_loss += 1;
        }
    }
    // Not shorter than the posting time: an unsaturated step delivers rate × subscribers.
    let window = (f64::from(last_recv.saturating_sub(t0)) / 1e6).max(seconds as f64);
    if window > 0.0 {
        step.deliveries_per_s = step.deliveries as f64 / window;
    }
    let frames = s.received() - recv0;
    if frames > 0 {
        step.mean_frame_bytes = (s.bytes() - bytes0) as f64 / frames as f64;
    }
    Ok(step)
}
