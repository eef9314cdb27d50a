//! The run's report: how it was measured, then one table per question (cost of a post,
//! memory per connection, each step, request latency, the summary against the bare server).

use super::load::{ms, Step};
use super::{serve, Args, Kind, MemProbe, Phase, Servers, LEAN_READ_BUFFER};
use std::fmt::Write as _;
use std::time::Duration;

fn f0(x: f64) -> String {
    format!("{x:.0}")
}

fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn opt1(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// The passing step with the highest rate.
fn best_pass(p: &Phase, limit: f64) -> Option<&Step> {
    p.steps
        .iter()
        .filter(|s| s.passes(limit))
        .max_by_key(|s| s.rate)
}

/// The step with the most deliveries/s among those without loss or drop (latency aside).
fn peak(p: &Phase) -> Option<&Step> {
    p.steps
        .iter()
        .filter(|s| s.missing == 0 && s.dropped == 0)
        .max_by(|a, b| a.deliveries_per_s.total_cmp(&b.deliveries_per_s))
}

/// "x %" of `a` over `b`.
fn pct(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.0} %", 100.0 * a / b),
        _ => "–".into(),
    }
}

pub(super) fn render(
    args: &Args,
    fd_limit: u64,
    started: chrono::DateTime<chrono::Utc>,
    took: Duration,
    phases: &[Phase],
    probes: &[MemProbe],
) -> anyhow::Result<String> {
    let limit = args.p99_limit_ms;
    let mut o = String::new();
    render_method(&mut o, args, fd_limit, started, took, phases)?;
    render_costs(&mut o, phases, probes)?;
    render_steps(&mut o, phases, limit)?;
    render_request_latency(&mut o, phases)?;
    render_summary(&mut o, args, phases, limit)?;
    render_point(&mut o, phases)?;
    Ok(o)
}

/// The title, the command and how the two servers were run and measured.
fn render_method(
    o: &mut String,
    args: &Args,
    fd_limit: u64,
    started: chrono::DateTime<chrono::Utc>,
    took: Duration,
    phases: &[Phase],
) -> std::fmt::Result {
    let limit = args.p99_limit_ms;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(o, "# Live fan-out: hub vs bare axum + broadcast\n")?;
    let mut flags = format!(
        "--subscribers {} --seconds {} --rates {}",
        args.subscribers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.seconds,
        args.rates
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    match args.servers {
        Servers::Hub => flags.push_str(" --servers hub"),
        Servers::Bare => flags.push_str(" --servers bare"),
        Servers::Both => {}
    }
    if args.max_inflight != 64 {
        write!(flags, " --max-inflight {}", args.max_inflight)?;
    }
    if args.p99_limit_ms != 100.0 {
        write!(flags, " --p99-limit-ms {}", args.p99_limit_ms)?;
    }
    if args.no_stop {
        flags.push_str(" --no-stop");
    }
    if args.quiet_wait > 0 {
        write!(flags, " --quiet-wait {}", args.quiet_wait)?;
    }
    writeln!(
        o,
        "Run {} UTC, {:.0} s, {cores} cores, `ulimit -n` {fd_limit}. Command: `cargo run --release -p hub-bench --bin hub-fanout -- {flags}`.\n",
        started.format("%Y-%m-%d %H:%M"),
        took.as_secs_f64(),
    )?;
    writeln!(o, "- **hub**: `hub::server::start` in a child process: SQLite temp file, `live.connections_per_ip` = {}, `live.queue_capacity` default (1024), argon2 64 KiB × 1, `log_level` warn, metrics recorder installed. Subscribers: anonymous, `region:europe`; writer: one account, `POST /api/v1/threads/{{id}}/posts` over keep-alive (≤ {} in flight, open loop).", serve::HUB_CONNECTIONS_PER_IP, args.max_inflight)?;
    writeln!(o, "- **bare**: axum 0.8 in a child process; `POST /publish` gives the body an id, formats the event frame once and `broadcast::send`s the shared `Utf8Bytes` (capacity {}); each socket task `recv`s and `send`s (feed + flush) every frame; a reader task per socket watches for the close.", serve::BARE_CAPACITY)?;
    writeln!(o, "- Both servers run side by side for each subscriber count (the idle one costs nothing); each rate runs on one then the other, alternating which goes first, so background load drifts hit both alike.")?;
    let hub_frame = phases
        .iter()
        .filter(|p| p.kind == Kind::Hub)
        .find_map(Phase::mean_frame_bytes);
    let bare_frame = phases
        .iter()
        .filter(|p| p.kind == Kind::Bare)
        .find_map(Phase::mean_frame_bytes);
    writeln!(
        o,
        "- Frames: hub `post.created` {} B on average, bare {} B (padded to match).",
        hub_frame.map_or("–".into(), f0),
        bare_frame.map_or("–".into(), f0)
    )?;
    writeln!(o, "- Clients (this process, tokio-tungstenite, 16 KiB read buffer) and server (its own process) share the {cores} cores. Server CPU = utime+stime of the server process (`/proc/<pid>/stat`, 10 ms ticks) over the step (posting + drain); client CPU likewise for this process; \"other procs\" = the machine's busy time (`/proc/stat`) minus both, i.e. whatever else ran (100 % = one core).")?;
    writeln!(o, "- Latency = receipt at the subscriber − the POST's 201 at the writer (same process, monotonic clock), per subscriber and post. The event may arrive before the 201 (the server fans out while the response is on its way): such receipts count as 0 ms and are reported in \"before 201\".")?;
    writeln!(o, "- A step **passes** with no lost delivery, no dropped subscriber, no POST error, ≥ 95 % of the target rate achieved, and p99 < {limit} ms. Climbing stops at the first failing rate ≥ 50/s or at the second failure in a row.\n")?;

    Ok(())
}

/// The cost of a POST alone and the memory per idle connection.
fn render_costs(o: &mut String, phases: &[Phase], probes: &[MemProbe]) -> std::fmt::Result {
    writeln!(o, "## Cost of a POST (no subscribers, 50 posts/s)\n")?;
    writeln!(
        o,
        "| server | subscribers (later) | posts | POST→201 p50 ms | p99 ms | server CPU ms/post |"
    )?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|")?;
    for p in phases {
        writeln!(
            o,
            "| {} | {} | {} | {:.2} | {:.2} | {:.3} |",
            p.kind.name(),
            p.subscribers,
            p.calib.posts_ok,
            ms(p.calib.post_latency.value_at_quantile(0.5)),
            ms(p.calib.post_latency.value_at_quantile(0.99)),
            p.post_cost_s() * 1e3
        )?;
    }

    writeln!(o, "\n## Memory per idle connection (server process)\n")?;
    writeln!(o, "| server | subscribers | connected | connect s | RSS before MiB | RSS idle MiB | KiB/connection | fds before → idle | RSS after load MiB |")?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for p in phases {
        let per = if p.connected > 0 {
            (p.rss_idle_kib as f64 - p.rss_before_kib as f64) / p.connected as f64
        } else {
            0.0
        };
        writeln!(
            o,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} → {} | {:.1} |",
            p.kind.name(),
            p.subscribers,
            p.connected,
            p.connect_s,
            p.rss_before_kib as f64 / 1024.0,
            p.rss_idle_kib as f64 / 1024.0,
            per,
            p.fds_before,
            p.fds_idle,
            p.rss_end_kib as f64 / 1024.0
        )?;
    }
    for p in probes {
        let per = if p.connected > 0 {
            (p.rss_idle_kib as f64 - p.rss_before_kib as f64) / p.connected as f64
        } else {
            0.0
        };
        writeln!(
            o,
            "| bare, `read_buffer_size({LEAN_READ_BUFFER})` | {} | {} | – | {:.1} | {:.1} | {:.1} | – | – |",
            p.subscribers,
            p.connected,
            p.rss_before_kib as f64 / 1024.0,
            p.rss_idle_kib as f64 / 1024.0,
            per
        )?;
    }
    writeln!(o, "\nThe hub and the plain bare server use axum's default WebSocket read buffer (tungstenite: 128 KiB, zero-filled up to its capacity by the first read, so resident); the last rows show the same bare server with a {LEAN_READ_BUFFER}-byte one.")?;

    Ok(())
}

/// One row per step, and what went wrong in any.
fn render_steps(o: &mut String, phases: &[Phase], limit: f64) -> std::fmt::Result {
    writeln!(o, "\n## Steps\n")?;
    writeln!(o, "Deliveries/s = events received by all subscribers ÷ (last receipt − first POST). Lost = deliveries missing at subscribers connected at the step's start (subscribers with a loss). \"net\" takes out the calibrated CPU of the POSTs themselves.\n")?;
    writeln!(o, "| server | subs | target posts/s | achieved | POST→201 p50/p99 ms | deliveries | deliveries/s | lost (subs) | dropped | 201→receipt p50 ms | p99 ms | max ms | before 201 | server CPU % | server µs/delivery | net µs/delivery | client CPU % | client µs/delivery | other procs CPU % | pass |")?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|")?;
    for p in phases {
        for s in &p.steps {
            let early = if s.deliveries > 0 {
                100.0 * s.early as f64 / s.deliveries as f64
            } else {
                0.0
            };
            writeln!(
                o,
                "| {} | {} | {} | {:.1} | {:.1} / {:.1} | {} | {} | {} ({}) | {} | {:.1} | {:.1} | {:.1} | {:.1} % | {:.0} | {} | {} | {:.0} | {} | {:.0} | {} |",
                p.kind.name(),
                s.subscribers,
                s.rate,
                s.achieved_rate,
                ms(s.post_latency.value_at_quantile(0.5)),
                ms(s.post_latency.value_at_quantile(0.99)),
                thousands(s.deliveries as f64),
                thousands(s.deliveries_per_s),
                thousands(s.missing as f64),
                s.subs_with_loss,
                s.dropped,
                ms(s.e2e.value_at_quantile(0.5)),
                ms(s.e2e.value_at_quantile(0.99)),
                ms(s.e2e.max()),
                early,
                100.0 * s.server_cpu_s / s.wall_s.max(1e-9),
                opt1(s.server_us_per_delivery()),
                opt1(s.net_us_per_delivery(p.post_cost_s())),
                100.0 * s.client_cpu_s / s.wall_s.max(1e-9),
                opt1(s.client_us_per_delivery()),
                100.0 * s.other_cpu_s / s.wall_s.max(1e-9),
                if s.passes(limit) { "yes" } else { "**no**" }
            )?;
        }
    }
    let anomalies: Vec<String> = phases
        .iter()
        .flat_map(|p| {
            p.steps
                .iter()
                .filter(|s| s.duplicates > 0 || s.unmatched > 0 || s.first_error.is_some())
                .map(move |s| {
                    format!(
                        "- {} {} subs {}/s: {} duplicates, {} unmatched events{}",
                        p.kind.name(),
                        s.subscribers,
                        s.rate,
                        s.duplicates,
                        s.unmatched,
                        s.first_error
                            .as_deref()
                            .map(|e| format!(", first POST error: {e}"))
                            .unwrap_or_default()
                    )
                })
        })
        .collect();
    let reasons: Vec<String> = phases
        .iter()
        .flat_map(|p| {
            p.end_reasons
                .iter()
                .take(3)
                .map(move |(r, c)| format!("- {} {} subs: {c} × {r}", p.kind.name(), p.subscribers))
        })
        .collect();
    if !anomalies.is_empty() || !reasons.is_empty() {
        writeln!(o, "\nAnomalies and disconnections:\n")?;
        for l in anomalies.iter().chain(&reasons) {
            writeln!(o, "{l}")?;
        }
    }

    Ok(())
}

/// Probe requests' latency beside the POSTs.
fn render_request_latency(o: &mut String, phases: &[Phase]) -> std::fmt::Result {
    writeln!(o, "\n## Request latency during the steps\n")?;
    writeln!(o, "GETs every 50 ms while posting: `/healthz` (no database: one trip through the server's scheduler) and, on the hub, `/readyz` (one database round trip), beside the POSTs (auth lookup, rate limits, a write transaction: many trips). The gap shows how long each trip through a busy runtime waits.\n")?;
    writeln!(o, "| server | subs | target posts/s | healthz p50 / p99 ms | readyz p50 / p99 ms | POST→201 p50 / p99 ms |")?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|")?;
    for p in phases {
        for s in &p.steps {
            let probe = |name: &str| {
                s.probes
                    .iter()
                    .find(|(n, h)| *n == name && !h.is_empty())
                    .map_or("–".to_string(), |(_, h)| {
                        format!(
                            "{:.1} / {:.1}",
                            ms(h.value_at_quantile(0.5)),
                            ms(h.value_at_quantile(0.99))
                        )
                    })
            };
            writeln!(
                o,
                "| {} | {} | {} | {} | {} | {:.1} / {:.1} |",
                p.kind.name(),
                s.subscribers,
                s.rate,
                probe("healthz"),
                probe("readyz"),
                ms(s.post_latency.value_at_quantile(0.5)),
                ms(s.post_latency.value_at_quantile(0.99)),
            )?;
        }
    }

    Ok(())
}

/// The best rates, and the hub as a share of the bare server.
fn render_summary(o: &mut String, args: &Args, phases: &[Phase], limit: f64) -> std::fmt::Result {
    writeln!(o, "\n## Summary\n")?;
    writeln!(o, "| server | subscribers | highest passing rate posts/s | deliveries/s there | p99 ms there | peak deliveries/s without loss (any latency) | at rate | p99 ms there | server µs/delivery there |")?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for p in phases {
        let b = best_pass(p, limit);
        let k = peak(p);
        writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.kind.name(),
            p.subscribers,
            b.map_or("none".into(), |s| s.rate.to_string()),
            b.map_or("–".into(), |s| thousands(s.deliveries_per_s)),
            b.map_or("–".into(), |s| format!(
                "{:.1}",
                ms(s.e2e.value_at_quantile(0.99))
            )),
            k.map_or("–".into(), |s| thousands(s.deliveries_per_s)),
            k.map_or("–".into(), |s| s.rate.to_string()),
            k.map_or("–".into(), |s| format!(
                "{:.1}",
                ms(s.e2e.value_at_quantile(0.99))
            )),
            k.map_or("–".into(), |s| opt1(s.server_us_per_delivery())),
        )?;
    }

    writeln!(o, "\n### Hub as a share of the bare server\n")?;
    writeln!(o, "| subscribers | hub deliveries/s at its highest passing rate | bare, same | ratio (goal ≥ 70 %) | hub peak deliveries/s without loss | bare, same | ratio | server µs/delivery hub / bare at the highest rate both ran |")?;
    writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for &n in &args.subscribers {
        let find = |k: Kind| phases.iter().find(|p| p.kind == k && p.subscribers == n);
        let (Some(h), Some(b)) = (find(Kind::Hub), find(Kind::Bare)) else {
            continue;
        };
        let (hs, bs) = (
            best_pass(h, limit).map(|s| s.deliveries_per_s),
            best_pass(b, limit).map(|s| s.deliveries_per_s),
        );
        let (hp, bp) = (
            peak(h).map(|s| s.deliveries_per_s),
            peak(b).map(|s| s.deliveries_per_s),
        );
        let common = h
            .steps
            .iter()
            .filter_map(|x| Some((x, b.steps.iter().find(|y| y.rate == x.rate)?)))
            .max_by_key(|(x, _)| x.rate);
        let cpu = common.map_or_else(
            || "–".to_string(),
            |(x, y)| {
                format!(
                    "{} / {} µs ({}/s)",
                    opt1(x.server_us_per_delivery()),
                    opt1(y.server_us_per_delivery()),
                    x.rate
                )
            },
        );
        let show = |v: Option<f64>| v.map_or("none".to_string(), thousands);
        writeln!(
            o,
            "| {n} | {} | {} | {} | {} | {} | {} | {cpu} |",
            show(hs),
            show(bs),
            pct(hs, bs),
            show(hp),
            show(bp),
            pct(hp, bp),
        )?;
    }
    writeln!(o, "\nPer rate (deliveries/s, hub ÷ bare):\n")?;
    writeln!(o, "| subscribers | rate | hub deliveries/s | bare deliveries/s | ratio | hub p99 ms | bare p99 ms |")?;
    writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|")?;
    for &n in &args.subscribers {
        let find = |k: Kind| phases.iter().find(|p| p.kind == k && p.subscribers == n);
        let (Some(h), Some(b)) = (find(Kind::Hub), find(Kind::Bare)) else {
            continue;
        };
        for hs in &h.steps {
            let Some(bs) = b.steps.iter().find(|s| s.rate == hs.rate) else {
                continue;
            };
            writeln!(
                o,
                "| {n} | {} | {} | {} | {} | {:.1} | {:.1} |",
                hs.rate,
                thousands(hs.deliveries_per_s),
                thousands(bs.deliveries_per_s),
                pct(Some(hs.deliveries_per_s), Some(bs.deliveries_per_s)),
                ms(hs.e2e.value_at_quantile(0.99)),
                ms(bs.e2e.value_at_quantile(0.99)),
            )?;
        }
    }
    Ok(())
}

/// The 50 posts/s × 1,000 subscribers point the goal names.
fn render_point(o: &mut String, phases: &[Phase]) -> std::fmt::Result {
    let point = phases
        .iter()
        .find(|p| p.kind == Kind::Hub && p.subscribers == 1000)
        .and_then(|p| p.steps.iter().find(|s| s.rate == 50));
    writeln!(o, "\n### The 50 posts/s × 1,000 subscribers point (hub)\n")?;
    match point {
        Some(s) => writeln!(
            o,
            "POST 201 → receipt: p50 {:.1} ms, p99 **{:.1} ms**, max {:.1} ms over {} deliveries; lost {}; {:.1} % of receipts came before the 201. Goal p99 < 50 ms: **{}**.",
            ms(s.e2e.value_at_quantile(0.5)),
            ms(s.e2e.value_at_quantile(0.99)),
            ms(s.e2e.max()),
            thousands(s.deliveries as f64),
            s.missing,
            if s.deliveries > 0 { 100.0 * s.early as f64 / s.deliveries as f64 } else { 0.0 },
            if ms(s.e2e.value_at_quantile(0.99)) < 50.0 && s.missing == 0 { "met" } else { "not met" }
        )?,
        None => writeln!(o, "Not measured in this run (needs --subscribers with 1000 and --rates with 50).")?,
    }
    if let Some(p) = phases.iter().find_map(|p| p.bare_padding) {
        writeln!(o, "\n(Bare post body padded to {p} characters.)")?;
    }
    Ok(())
}
