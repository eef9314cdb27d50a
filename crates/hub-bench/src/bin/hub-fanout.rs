//! `hub-fanout`: live-update fan-out of the hub (`GET /api/v1/ws`) under load, against a bare
//! axum + `tokio::sync::broadcast` WebSocket server, printed as a Markdown report.
//!
//! ```text
//! cargo run --release -p hub-bench --bin hub-fanout -- [--subscribers 1000,5000] [--seconds 10]
//! ```
//!
//! Design: each server under test runs in a child process of this binary (`--serve hub` /
//! `--serve bare`), so its CPU time (`/proc/<pid>/stat`) and memory (`VmRSS`) are its own;
//! the clients (N WebSocket subscribers per server and one HTTP writer each) run in this
//! process. For each subscriber count, fresh servers, side by side: a calibration step
//! without subscribers (CPU per POST); N idle subscribers each (memory per connection); then
//! rising post rates, each for `--seconds` on one server then the other, measuring
//! deliveries/s, loss, and 201 → receipt latency at the subscribers. A failing rate ≥ 50/s,
//! or a second failure in a row, stops that server's climb.
#![forbid(unsafe_code)]

#[path = "hub-fanout/load.rs"]
mod load;
#[path = "hub-fanout/procfs.rs"]
mod procfs;
#[path = "hub-fanout/report.rs"]
mod report;
#[path = "hub-fanout/serve.rs"]
mod serve;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use load::{ms, Poster, Shared, Step, StepCtx, Subscribers, Target};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Hub,
    Bare,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Hub => "hub",
            Kind::Bare => "bare",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Servers {
    Hub,
    Bare,
    Both,
}

#[derive(Debug, Parser)]
#[command(
    name = "hub-fanout",
    about = "Live-update fan-out of the hub against a bare axum + broadcast server (Markdown report on stdout)"
)]
struct Args {
    /// Subscriber counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    subscribers: Vec<usize>,
    /// Seconds of posting per rate.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Post rates (posts/s), comma-separated, climbed in order. Steps of at most a quarter
    /// above 200/s, and past what the bare server sustains at 1,000 subscribers on two cores
    /// (about 600/s): with a coarse ladder (…, 200, 400) the ratio of the highest passing
    /// rates can only be 0.5 or 1, and a ladder that stops below the bare server's limit
    /// flatters the hub.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,25,50,100,200,300,400,500,600,800"
    )]
    rates: Vec<u32>,
    /// Which servers to measure.
    #[arg(long, value_enum, default_value = "both")]
    servers: Servers,
    /// Most POSTs outstanding at once (the writer is open-loop up to this).
    #[arg(long, default_value_t = 64)]
    max_inflight: usize,
    /// A step passes with p99 (201 → receipt) under this many ms (and no loss).
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// Keep climbing after failing steps (by default the climb stops at the first failing
    /// rate ≥ 50/s or the second failure in a row).
    #[arg(long)]
    no_stop: bool,
    /// Before each subscriber count, wait up to this many seconds for the machine to be quiet
    /// (other processes under 20 % of a core over 2 s); 0: do not wait.
    #[arg(long, default_value_t = 0)]
    quiet_wait: u64,
    /// Internal: serve (in a child process) instead of driving.
    #[arg(long, value_enum, hide = true)]
    serve: Option<Kind>,
    /// Internal: the bare server's WebSocket read buffer in bytes (default: tungstenite's).
    #[arg(long, hide = true)]
    read_buffer: Option<usize>,
}

/// The read buffer of the lean bare server of the memory probe.
const LEAN_READ_BUFFER: usize = 4096;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(kind) = args.serve {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("building the runtime")?;
        return rt.block_on(async move {
            match kind {
                Kind::Hub => serve::serve_hub().await,
                Kind::Bare => serve::serve_bare(args.read_buffer).await,
            }
        });
    }
    if args.subscribers.is_empty() || args.rates.is_empty() || args.seconds == 0 {
        bail!("--subscribers, --rates and --seconds must not be empty or zero");
    }
    // Both servers' clients come from 127.0.0.1: 2 × N ephemeral ports (28,000 by default).
    if args.rates.contains(&0)
        || args.seconds > 600
        || args.subscribers.iter().any(|n| !(1..=10_000).contains(n))
    {
        bail!("rates must be > 0, --seconds ≤ 600, --subscribers 1 to 10000 each");
    }
    // This process holds a client socket per subscriber of both servers, each server one per
    // subscriber; plus a few hundred of their own.
    let most = args.subscribers.iter().copied().max().unwrap_or(0) as u64;
    let fd_limit = procfs::ensure_fd_limit(2 * most + 1024)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the runtime")?;
    let report = rt.block_on(drive(&args, fd_limit))?;
    print!("{report}");
    Ok(())
}

/// A server child process.
struct Child {
    child: tokio::process::Child,
    pid: u32,
    addr: std::net::SocketAddr,
}

impl Child {
    async fn spawn(kind: Kind, read_buffer: Option<usize>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this binary")?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.arg("--serve").arg(kind.name());
        if let Some(n) = read_buffer {
            cmd.arg("--read-buffer").arg(n.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("spawning the server process")?;
        let pid = child.id().context("server process has no pid")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .context("the server did not start within 120 s")?
            .context("reading the server's stdout")?
            .context("the server exited before listening")?;
        let addr = line
            .strip_prefix("LISTENING ")
            .with_context(|| format!("unexpected server output {line:?}"))?
            .parse()
            .with_context(|| format!("bad address in {line:?}"))?;
        Ok(Self { child, pid, addr })
    }

    /// Closes its stdin (it shuts down), waits up to 20 s, then kills it.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            eprintln!("hub-fanout: server {} did not stop; killing it", self.pid);
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        }
    }
}

/// One server at one subscriber count.
struct Phase {
    kind: Kind,
    subscribers: usize,
    calib: Step,
    connected: usize,
    connect_s: f64,
    rss_before_kib: u64,
    rss_idle_kib: u64,
    rss_end_kib: u64,
    fds_before: usize,
    fds_idle: usize,
    steps: Vec<Step>,
    end_reasons: Vec<(String, usize)>,
    bare_padding: Option<usize>,
}

impl Phase {
    /// Server CPU seconds per POST without subscribers.
    fn post_cost_s(&self) -> f64 {
        if self.calib.posts_ok == 0 {
            0.0
        } else {
            self.calib.server_cpu_s / self.calib.posts_ok as f64
        }
    }

    fn mean_frame_bytes(&self) -> Option<f64> {
        let (mut b, mut n) = (0.0, 0u64);
        for s in &self.steps {
            b += s.mean_frame_bytes * s.deliveries as f64;
            n += s.deliveries;
        }
        (n > 0).then(|| b / n as f64)
    }
}

/// Waits (at most `limit`) until other processes use under 20 % of a core over 2 s.
async fn wait_quiet(limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    let me = std::process::id();
    loop {
        let (b0, c0) = (procfs::machine_busy_seconds()?, procfs::cpu_seconds(me)?);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (b1, c1) = (procfs::machine_busy_seconds()?, procfs::cpu_seconds(me)?);
        let other = ((b1 - b0) - (c1 - c0)) / 2.0;
        if other < 0.2 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            eprintln!(
                "hub-fanout:   machine still busy ({:.0} % of a core used by other processes); going on",
                other * 100.0
            );
            return Ok(());
        }
    }
}

/// Padding of the bare server's post body that makes its frame `target` bytes long.
fn bare_padding(target: usize) -> usize {
    let overhead = "{\"op\":\"event\",\"seq\":1000,\"channel\":\"region:europe\",\"type\":\"post.created\",\"data\":{\"id\":1000,\"body\":\"\"}}".len();
    target.saturating_sub(overhead).max(16)
}

/// One server under test while its phase runs.
struct UnderTest {
    kind: Kind,
    server: Child,
    poster: Arc<Poster>,
    padding: Option<usize>,
    calib: Option<Step>,
    subs: Option<Subscribers>,
    connected: usize,
    connect_s: f64,
    rss_before_kib: u64,
    rss_idle_kib: u64,
    fds_before: usize,
    fds_idle: usize,
    steps: Vec<Step>,
    climbing: bool,
}

/// Starts a server, its writer, and warms both up. For the hub, also measures the size of
/// its `post.created` frames with one subscriber (the bare server's are padded to match).
async fn start_server(
    args: &Args,
    kind: Kind,
    base: Instant,
    frame_target: &mut Option<f64>,
    next_post: &mut u64,
) -> anyhow::Result<UnderTest> {
    let server = Child::spawn(kind, None).await?;
    let pool = args.max_inflight;
    let (poster, padding) = match kind {
        Kind::Hub => (Poster::hub(server.addr, base, pool).await?, None),
        Kind::Bare => {
            let padding = bare_padding(frame_target.map_or(1024, |f| f.round() as usize));
            let target = Target::Bare {
                url: format!("http://{}/publish", server.addr),
                padding,
            };
            (Poster::new(target, base, pool)?, Some(padding))
        }
    };
    let poster = Arc::new(poster);
    // Warm-up: code paths, connection pool, caches.
    for _ in 0..20 {
        poster.post_one(*next_post).await.context("warm-up post")?;
        *next_post += 1;
    }
    if kind == Kind::Hub && frame_target.is_none() {
        let probe = Subscribers::open(ws_url(kind, &server), 1, Shared::new(base)).await?;
        for _ in 0..5 {
            poster.post_one(*next_post).await.context("probe post")?;
            *next_post += 1;
        }
        for _ in 0..200 {
            if probe.received() >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if probe.received() > 0 {
            *frame_target = Some(probe.bytes() as f64 / probe.received() as f64);
        }
        probe.close().await;
    }
    Ok(UnderTest {
        kind,
        server,
        poster,
        padding,
        calib: None,
        subs: None,
        connected: 0,
        connect_s: 0.0,
        rss_before_kib: 0,
        rss_idle_kib: 0,
        fds_before: 0,
        fds_idle: 0,
        steps: Vec::new(),
        climbing: true,
    })
}

fn ws_url(kind: Kind, server: &Child) -> String {
    match kind {
        Kind::Hub => format!("ws://{}/api/v1/ws", server.addr),
        Kind::Bare => format!("ws://{}/ws", server.addr),
    }
}

/// All servers at `n` subscribers, side by side: both run for the whole phase (the idle one
/// costs nothing), and each rate is measured on one then the other (alternating which goes
/// first), so that a change in the machine's background load hits both alike.
async fn run_pair(
    args: &Args,
    kinds: &[Kind],
    n: usize,
    base: Instant,
    frame_target: &mut Option<f64>,
    next_post: &mut u64,
) -> anyhow::Result<Vec<Phase>> {
    eprintln!("hub-fanout: {n} subscribers: starting {kinds:?}");
    if args.quiet_wait > 0 {
        wait_quiet(Duration::from_secs(args.quiet_wait)).await?;
    }
    let mut live = Vec::new();
    for &kind in kinds {
        live.push(start_server(args, kind, base, frame_target, next_post).await?);
    }
    let calib_secs = args.seconds.clamp(1, 3);
    for l in &mut live {
        let mut ctx = StepCtx {
            poster: l.poster.clone(),
            server_pid: l.server.pid,
            base,
            max_inflight: args.max_inflight,
            subs: None,
        };
        let calib = load::run_step(&mut ctx, 50, calib_secs, *next_post).await?;
        *next_post += calib.posts_target;
        l.calib = Some(calib);
    }
    for l in &mut live {
        tokio::time::sleep(Duration::from_millis(500)).await;
        l.rss_before_kib = procfs::rss_kib(l.server.pid)?;
        l.fds_before = procfs::open_fds(l.server.pid)?;
        let t = Instant::now();
        let subs = Subscribers::open(ws_url(l.kind, &l.server), n, Shared::new(base)).await?;
        l.connect_s = t.elapsed().as_secs_f64();
        l.connected = subs.alive();
        l.subs = Some(subs);
        tokio::time::sleep(Duration::from_secs(1)).await;
        l.rss_idle_kib = procfs::rss_kib(l.server.pid)?;
        l.fds_idle = procfs::open_fds(l.server.pid)?;
        eprintln!(
            "hub-fanout:   {}: {}/{n} subscribed in {:.1} s; server RSS {} → {} MiB",
            l.kind.name(),
            l.connected,
            l.connect_s,
            l.rss_before_kib / 1024,
            l.rss_idle_kib / 1024
        );
    }

    for (r, &rate) in args.rates.iter().enumerate() {
        let mut order: Vec<usize> = (0..live.len()).collect();
        if r % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let l = &mut live[i];
            if !l.climbing {
                continue;
            }
            let step = {
                let mut ctx = StepCtx {
                    poster: l.poster.clone(),
                    server_pid: l.server.pid,
                    base,
                    max_inflight: args.max_inflight,
                    subs: l.subs.as_mut(),
                };
                load::run_step(&mut ctx, rate, args.seconds, *next_post).await?
            };
            *next_post += step.posts_target;
            let pass = step.passes(args.p99_limit_ms);
            eprintln!(
                "hub-fanout:   {:>4} {rate:>4}/s: {:.0} posts/s, {:.0} deliveries/s, missing {}, dropped {}, p99 {:.1} ms, server {:.0}% CPU, others {:.0}%{}",
                l.kind.name(),
                step.achieved_rate,
                step.deliveries_per_s,
                step.missing,
                step.dropped,
                ms(step.e2e.value_at_quantile(0.99)),
                100.0 * step.server_cpu_s / step.wall_s.max(1e-9),
                100.0 * step.other_cpu_s / step.wall_s.max(1e-9),
                if pass { "" } else { "  FAIL" }
            );
            if let Some(e) = &step.first_error {
                eprintln!("hub-fanout:     first POST error: {e}");
            }
            l.steps.push(step);
            let failures_in_a_row = l
                .steps
                .iter()
                .rev()
                .take_while(|s| !s.passes(args.p99_limit_ms))
                .count();
            if !args.no_stop && !pass && (rate >= 50 || failures_in_a_row >= 2) {
                l.climbing = false;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if live.iter().all(|l| !l.climbing) {
            break;
        }
    }

    let mut phases = Vec::new();
    for l in live {
        let rss_end_kib = procfs::rss_kib(l.server.pid)?;
        let (end_reasons, calib) = (
            l.subs
                .as_ref()
                .map(Subscribers::end_reasons)
                .unwrap_or_default(),
            l.calib.context("no calibration step")?,
        );
        if let Some(subs) = l.subs {
            subs.close().await;
        }
        l.server.stop().await;
        phases.push(Phase {
            kind: l.kind,
            subscribers: n,
            calib,
            connected: l.connected,
            connect_s: l.connect_s,
            rss_before_kib: l.rss_before_kib,
            rss_idle_kib: l.rss_idle_kib,
            rss_end_kib,
            fds_before: l.fds_before,
            fds_idle: l.fds_idle,
            steps: l.steps,
            end_reasons,
            bare_padding: l.padding,
        });
    }
    Ok(phases)
}

/// Idle-connection memory of a bare server with a small read buffer.
struct MemProbe {
    subscribers: usize,
    connected: usize,
    rss_before_kib: u64,
    rss_idle_kib: u64,
}

/// Opens `n` idle subscribers to a bare server whose WebSockets read through a
/// [`LEAN_READ_BUFFER`]-byte buffer, and reads its RSS before and after.
async fn memory_probe(n: usize, base: Instant) -> anyhow::Result<MemProbe> {
    eprintln!("hub-fanout: bare ({LEAN_READ_BUFFER} B read buffer) with {n} idle subscribers");
    let server = Child::spawn(Kind::Bare, Some(LEAN_READ_BUFFER)).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = procfs::rss_kib(server.pid)?;
    let subs = Subscribers::open(format!("ws://{}/ws", server.addr), n, Shared::new(base)).await?;
    let connected = subs.alive();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = procfs::rss_kib(server.pid)?;
    subs.close().await;
    server.stop().await;
    Ok(MemProbe {
        subscribers: n,
        connected,
        rss_before_kib,
        rss_idle_kib,
    })
}

async fn drive(args: &Args, fd_limit: u64) -> anyhow::Result<String> {
    let base = Instant::now();
    let started = chrono::Utc::now();
    let kinds: Vec<Kind> = match args.servers {
        Servers::Hub => vec![Kind::Hub],
        Servers::Bare => vec![Kind::Bare],
        Servers::Both => vec![Kind::Hub, Kind::Bare],
    };
    let mut phases = Vec::new();
    let mut probes = Vec::new();
    let mut frame_target: Option<f64> = None;
    let mut next_post = 0u64;
    for &n in &args.subscribers {
        phases.extend(run_pair(args, &kinds, n, base, &mut frame_target, &mut next_post).await?);
        if kinds.contains(&Kind::Bare) {
            probes.push(memory_probe(n, base).await?);
        }
    }
    report::render(args, fd_limit, started, base.elapsed(), &phases, &probes)
}
