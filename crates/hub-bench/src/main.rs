//! `hub-bench`: load benchmarks of the hub, printed as a Markdown report.
//!
//! - `hub-bench ingest`: replies posted over HTTP to an in-process hub, W writers at a time,
//!   against a raw sqlx baseline (INSERT post + INSERT event + COMMIT) on the same schema.
//! - `hub-bench read`: one thread of N posts in a random tree, read whole in tree order.
//!
//! Every database is made fresh for the run (a temporary SQLite file, or a PostgreSQL database
//! created and dropped through the maintenance URL) and removed at the end.
#![forbid(unsafe_code)]

mod api;
mod backend;
mod ingest;
mod load;
mod probe;
mod read;
mod stats;
mod text;

use anyhow::{bail, Context};
use backend::Kind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use stats::{ms, rate};
use std::fmt::Write as _;

#[derive(Parser)]
#[command(
    name = "hub-bench",
    about = "Load benchmarks of the hub (Markdown report on stdout)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Posts/s and latency of replies over HTTP, against a raw sqlx baseline.
    Ingest(IngestArgs),
    /// Whole-thread reads in tree order over HTTP.
    Read(ReadArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

impl BackendArg {
    fn kinds(self) -> Vec<Kind> {
        match self {
            BackendArg::Sqlite => vec![Kind::Sqlite],
            BackendArg::Postgres => vec![Kind::Postgres],
            BackendArg::Both => vec![Kind::Sqlite, Kind::Postgres],
        }
    }
}

#[derive(Args, Debug)]
struct Common {
    /// Which database(s).
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendArg,
    /// PostgreSQL maintenance connection: bench databases are created and dropped through it.
    #[arg(
        long,
        env = "HUB_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Unmeasured warm-up seconds before each phase.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Most operations per phase (a bound besides the time).
    #[arg(long, default_value_t = 1_000_000)]
    max_ops: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Diagnosis: log every SQL statement sqlx runs, with its elapsed time, as JSON lines to
    /// this file (slows everything down; not for figures).
    #[arg(long)]
    sql_log: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct IngestArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent writer counts, one phase each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    writers: Vec<usize>,
    /// Threads the replies are spread over.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// What to measure: api (HTTP), store (hub_store in-process), raw (native sqlx).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "api,raw")]
    tiers: Vec<ingest::Tier>,
    /// How the raw SQLite baseline queues writers: an in-process mutex (as the hub) or
    /// SQLite's busy handler alone.
    #[arg(long, value_enum, default_value = "mutex")]
    raw_sqlite_lock: ingest::RawLock,
}

#[derive(Args, Debug)]
struct ReadArgs {
    #[command(flatten)]
    common: Common,
    /// Posts in the thread (the opening post included).
    #[arg(long, default_value_t = 500)]
    posts: usize,
    /// Page size of each request (the API's maximum for a thread's posts is 500).
    #[arg(long, default_value_t = 200)]
    limit: u32,
    /// Which texts each post carries (`?body=`): both (the API's default), html or markdown.
    #[arg(long, value_enum, default_value = "both")]
    body: api::BodyParam,
    /// The hub's page cache (`cache.thread_pages_mib`): 64, the default, serves the unchanged
    /// thread's pages from memory after one check of its version; 0 reads every page from the
    /// database.
    #[arg(long, default_value_t = 64)]
    page_cache_mib: u64,
    /// Concurrent reader counts, one phase each.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    concurrency: Vec<usize>,
    /// Where to read from: api (HTTP), store (hub_store in-process), raw (native sqlx, the
    /// same SQL).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "api,store,raw"
    )]
    tiers: Vec<ingest::Tier>,
}

impl Common {
    fn prepare(&self) -> anyhow::Result<()> {
        if let Some(path) = &self.sql_log {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            tracing_subscriber::fmt()
                .json()
                .with_writer(std::sync::Mutex::new(file))
                .with_env_filter(tracing_subscriber::EnvFilter::new("sqlx::query=debug"))
                .try_init()
                .map_err(|e| anyhow::anyhow!("cannot log SQL: {e}"))?;
        }
        if !(self.seconds > 0.0 && self.seconds <= 600.0) {
            bail!("--seconds must be more than 0 and at most 600");
        }
        if !(0.0..=60.0).contains(&self.warmup) {
            bail!("--warmup must be 0 to 60");
        }
        if self.max_ops == 0 {
            bail!("--max-ops must be at least 1");
        }
        Ok(())
    }
}

/// The machine and build the figures come from.
#[derive(Debug, Serialize)]
struct Environment {
    date: String,
    cores: usize,
    cpu: String,
    memory: String,
    kernel: String,
    build: &'static str,
    hub_version: &'static str,
    git: String,
    backends: Vec<(String, String)>,
}

fn first_line_with(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn git_revision() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev} (with uncommitted changes)")
            } else {
                rev
            }
        }
        None => "unknown".into(),
    }
}

fn environment(backends: Vec<(String, String)>) -> Environment {
    Environment {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu: first_line_with("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        memory: first_line_with("/proc/meminfo", "MemTotal").unwrap_or_else(|| "unknown".into()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        build: if cfg!(debug_assertions) {
            "debug (figures are not representative: use --release)"
        } else {
            "release"
        },
        hub_version: env!("CARGO_PKG_VERSION"),
        git: git_revision(),
        backends,
    }
}

/// The command line as typed, quoted for a POSIX shell where needed.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:,=@".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn header(out: &mut String, title: &str, env: &Environment) -> std::fmt::Result {
    writeln!(out, "# {title}\n")?;
    writeln!(out, "```\n{}\n```\n", command_line())?;
    writeln!(out, "| environment | |\n|---|---|")?;
    writeln!(out, "| date | {} |", env.date)?;
    writeln!(out, "| cores | {} |", env.cores)?;
    writeln!(out, "| CPU | {} |", env.cpu)?;
    writeln!(out, "| memory | {} |", env.memory)?;
    writeln!(out, "| kernel | {} |", env.kernel)?;
    writeln!(out, "| build | {} |", env.build)?;
    writeln!(out, "| hub | {} (git {}) |", env.hub_version, env.git)?;
    for (b, v) in &env.backends {
        writeln!(out, "| {b} | {v} |")?;
    }
    writeln!(out)
}

#[derive(Serialize)]
struct JsonReport<'a, T: Serialize> {
    command: String,
    environment: &'a Environment,
    settings: serde_json::Value,
    results: &'a [T],
}

fn write_json<T: Serialize>(
    path: &std::path::Path,
    env: &Environment,
    settings: serde_json::Value,
    results: &[T],
) -> anyhow::Result<()> {
    let report = JsonReport {
        command: command_line(),
        environment: env,
        settings,
        results,
    };
    let text = serde_json::to_string_pretty(&report)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn ingest_report(
    a: &IngestArgs,
    env: &Environment,
    results: &[ingest::BackendResult],
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    header(&mut out, "hub-bench ingest", env)?;
    writeln!(
        out,
        "Each phase: W concurrent writers, closed loop, {} s measured after {} s warm-up; replies \
         spread over {} threads (a quarter top-level, the rest under a random post, depth ≤ 10); \
         bodies of 300-800 characters of Markdown in en/fr/es/ar/zh/ru/pt, half with a declared \
         language, 1-3 objectives, kind 70% comment / 20% recommendation / 10% report, each \
         made unique by a reference line (the hub refuses the same text from an author within \
         10 minutes). Hub config: defaults, argon2 at 8 KiB / 1 pass, rate limits raised out of \
         reach (all writers share one client address). The hub \
         runs in the same process as the load (they share the {} cores). `api` = `POST \
         /api/v1/threads/{{id}}/posts` over HTTP/1.1 keep-alive (reqwest); `store` = \
         `hub_store::Store::create_post` called in-process; `raw` = native sqlx pool (16 \
         connections, as the hub) doing INSERT post + INSERT event + COMMIT{}.\n",
        a.common.seconds,
        a.common.warmup,
        a.threads,
        env.cores,
        if a.raw_sqlite_lock == ingest::RawLock::Mutex {
            " (SQLite: an in-process mutex, then BEGIN IMMEDIATE, as the hub)"
        } else {
            " (SQLite: BEGIN IMMEDIATE and the busy handler, no in-process mutex)"
        }
    )?;
    ingest_throughput(&mut out, a, results)?;
    ingest_latency_and_cost(&mut out, results)?;
    ingest_failures_and_tables(&mut out, results)?;
    Ok(out)
}

/// API, store and raw posts per second side by side, with their ratios.
fn ingest_throughput(
    out: &mut String,
    a: &IngestArgs,
    results: &[ingest::BackendResult],
) -> std::fmt::Result {
    writeln!(out, "## Throughput: API against raw sqlx\n")?;
    let has_store = a.tiers.contains(&ingest::Tier::Store);
    if has_store {
        writeln!(out, "| backend | writers | API posts/s | store posts/s | raw posts/s | API/raw | store/raw | API/store |")?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    } else {
        writeln!(
            out,
            "| backend | writers | API posts/s | raw posts/s | API/raw |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|")?;
    }
    let ratio = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) if y > 0.0 => format!("{:.2}", x / y),
        _ => "-".into(),
    };
    let cell = |x: Option<f64>| x.map(rate).unwrap_or_else(|| "-".into());
    for r in results {
        for &w in &a.writers {
            let get = |t: ingest::Tier| {
                r.rows
                    .iter()
                    .find(|row| row.tier == t && row.writers == w)
                    .map(|row| row.summary.per_sec)
            };
            let (api, store, raw) = (
                get(ingest::Tier::Api),
                get(ingest::Tier::Store),
                get(ingest::Tier::Raw),
            );
            if has_store {
                writeln!(
                    out,
                    "| {} | {w} | {} | {} | {} | {} | {} | {} |",
                    r.backend.name(),
                    cell(api),
                    cell(store),
                    cell(raw),
                    ratio(api, raw),
                    ratio(store, raw),
                    ratio(api, store)
                )?;
            } else {
                writeln!(
                    out,
                    "| {} | {w} | {} | {} | {} |",
                    r.backend.name(),
                    cell(api),
                    cell(raw),
                    ratio(api, raw)
                )?;
            }
        }
    }
    Ok(())
}

/// Latency and CPU, WAL and transactions per post, per phase.
fn ingest_latency_and_cost(
    out: &mut String,
    results: &[ingest::BackendResult],
) -> std::fmt::Result {
    writeln!(out, "\n## Latency per post\n")?;
    writeln!(out, "| backend | tier | writers | posts | posts/s | p50 ms | p99 ms | max ms | mean ms | errors |")?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for r in results {
        for row in &r.rows {
            let s = &row.summary;
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.backend.name(),
                row.tier.name(),
                row.writers,
                s.ops,
                rate(s.per_sec),
                ms(s.p50_ms),
                ms(s.p99_ms),
                ms(s.max_ms),
                ms(s.mean_ms),
                s.errors
            )?;
        }
    }
    writeln!(out, "\n## Cost per post\n")?;
    writeln!(
        out,
        "CPU of this process (hub + load generator + sqlx) and of all `postgres` processes, from \
         /proc; on PostgreSQL, WAL bytes and transaction ids taken per post (cluster-wide \
         counters: valid when nothing else writes to the cluster during the run); *other \
         load* = cores kept busy by other processes during the phase (from /proc/stat): well \
         above 0 means the figures were taken on a shared, busy machine.\n"
    )?;
    writeln!(out, "| backend | tier | writers | CPU bench ms/post | CPU postgres ms/post | WAL bytes/post | write xacts/post | other load (cores) |")?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
    let opt = |v: Option<f64>, digits: usize| {
        v.map(|x| format!("{x:.digits$}"))
            .unwrap_or_else(|| "-".into())
    };
    for r in results {
        for row in &r.rows {
            let c = &row.cost;
            writeln!(
                out,
                "| {} | {} | {} | {:.2} | {} | {} | {} | {:.2} |",
                r.backend.name(),
                row.tier.name(),
                row.writers,
                c.cpu_bench_ms,
                if r.backend == Kind::Postgres {
                    format!("{:.2}", c.cpu_postgres_ms)
                } else {
                    "-".into()
                },
                opt(c.wal_bytes, 0),
                opt(c.write_xacts, 2),
                c.other_cores
            )?;
        }
    }
    Ok(())
}

/// First errors, PostgreSQL row writes by table, and what the hub database held after.
fn ingest_failures_and_tables(
    out: &mut String,
    results: &[ingest::BackendResult],
) -> std::fmt::Result {
    let errors: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.rows.iter().filter_map(move |row| {
                row.first_error
                    .as_ref()
                    .map(|e| format!("- {} W={}: {e}", r.backend.name(), row.writers))
            })
        })
        .collect();
    if !errors.is_empty() {
        writeln!(out, "\n### First error of each failing phase\n")?;
        for e in errors {
            writeln!(out, "{e}")?;
        }
    }
    let writes: Vec<_> = results.iter().flat_map(|r| &r.pg_table_writes).collect();
    if !writes.is_empty() {
        writeln!(out, "\n## PostgreSQL row writes per post, by table\n")?;
        writeln!(
            out,
            "From `pg_stat_user_tables` of each tier's database after the tier (setup included), \
             divided by the posts in it. An update that is not HOT writes a new row version and \
             a new entry in every index of the table.\n"
        )?;
        writeln!(
            out,
            "| tier | table | inserts/post | updates/post | of which HOT | deletes/post |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|")?;
        for w in writes {
            let per = |x: i64| x as f64 / w.posts.max(1) as f64;
            writeln!(
                out,
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                w.tier.name(),
                w.table,
                per(w.inserted),
                per(w.updated),
                per(w.hot_updated),
                per(w.deleted)
            )?;
        }
    }
    let with_counts: Vec<_> = results.iter().filter(|r| r.hub_posts > 0).collect();
    if !with_counts.is_empty() {
        writeln!(out, "\n## Hub database after the API phases\n")?;
        writeln!(
            out,
            "| backend | posts | events | events without seq at shutdown |"
        )?;
        writeln!(out, "|---|---:|---:|---:|")?;
        for r in with_counts {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.backend.name(),
                r.hub_posts,
                r.hub_events.0,
                r.hub_events.1
            )?;
        }
    }
    Ok(())
}

/// Reads per second of each tier side by side, with their ratios to the raw tier.
fn read_tiers_table(
    out: &mut String,
    a: &ReadArgs,
    results: &[read::BackendResult],
) -> std::fmt::Result {
    let tiers: Vec<ingest::Tier> = a.tiers.clone();
    writeln!(out, "## Whole-thread reads/s by tier\n")?;
    let mut head = String::from("| backend | readers |");
    let mut rule = String::from("|---|---:|");
    for t in &tiers {
        head.push_str(&format!(" {} reads/s |", t.name()));
        rule.push_str("---:|");
    }
    for t in tiers.iter().filter(|t| **t != ingest::Tier::Raw) {
        if tiers.contains(&ingest::Tier::Raw) {
            head.push_str(&format!(" {}/raw |", t.name()));
            rule.push_str("---:|");
        }
    }
    writeln!(out, "{head}\n{rule}")?;
    for r in results {
        for &c in &a.concurrency {
            let get = |t: ingest::Tier| {
                r.rows
                    .iter()
                    .find(|row| row.tier == t && row.concurrency == c)
                    .map(|row| row.reads.per_sec)
            };
            let mut line = format!("| {} | {c} |", r.backend.name());
            for &t in &tiers {
                line.push_str(&format!(
                    " {} |",
                    get(t).map(rate).unwrap_or_else(|| "-".into())
                ));
            }
            let raw = get(ingest::Tier::Raw);
            for &t in tiers.iter().filter(|t| **t != ingest::Tier::Raw) {
                if raw.is_some() {
                    let v = match (get(t), raw) {
                        (Some(x), Some(y)) if y > 0.0 => format!("{:.2}", x / y),
                        _ => "-".into(),
                    };
                    line.push_str(&format!(" {v} |"));
                }
            }
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn read_report(
    a: &ReadArgs,
    env: &Environment,
    results: &[read::BackendResult],
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    header(&mut out, "hub-bench read", env)?;
    writeln!(
        out,
        "One thread of {} posts posted over the API in a random tree (a tenth top-level, the \
         rest under a recent or a random post, depth ≤ 10); one *thread read* = `GET \
         /api/v1/threads/{{id}}/posts?limit={}{}` following `next_cursor` to the end, anonymous. \
         The order of a read (every post once, each parent before its replies, depth = parent's \
         + 1, depth-first with siblings oldest first) is verified before and after the load, \
         and every read during the load returns all posts. C concurrent readers, closed loop, {} \
         s measured after {} s warm-up; the hub runs in the same process as the readers. The \
         hub's page cache: {}.\n",
        a.posts,
        a.limit,
        a.body
            .query()
            .map(|b| format!("&body={b}"))
            .unwrap_or_default(),
        a.common.seconds,
        a.common.warmup,
        if a.page_cache_mib == 0 {
            "off (`--page-cache-mib 0`): every page is read from the database".to_string()
        } else {
            format!(
                "{} MiB: the thread does not change during the load, so each `api` request \
                 checks the thread's page version in the database and answers from memory",
                a.page_cache_mib
            )
        }
    )?;
    writeln!(
        out,
        "| backend | posts | pages/read | max depth | first page (KiB of JSON) | posting the thread (s) |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for r in results {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} | {:.1} |",
            r.backend.name(),
            r.posts,
            r.pages_per_read,
            r.max_depth,
            r.first_page_bytes as f64 / 1024.0,
            r.build_seconds
        )?;
    }
    writeln!(
        out,
        "\nTiers: `api` = over HTTP (the hub in this process, reqwest keep-alive, JSON parsed); \
         `store` = the handler's storage calls in-process (`Store::thread` + \
         `Store::thread_posts`, sqlx Any driver); `raw` = the same two SQL statements on a native \
         sqlx pool of 16 connections, rows decoded into the same domain type.\n"
    )?;
    if a.tiers.len() > 1 {
        read_tiers_table(&mut out, a, results)?;
    }
    writeln!(out, "## Whole-thread reads\n")?;
    writeln!(
        out,
        "| backend | tier | readers | reads | reads/s | p50 ms | p99 ms | max ms | CPU bench ms/read | CPU postgres ms/read | other load (cores) |"
    )?;
    writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for r in results {
        for row in &r.rows {
            let s = &row.reads;
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {:.2} |",
                r.backend.name(),
                row.tier.name(),
                row.concurrency,
                s.ops,
                rate(s.per_sec),
                ms(s.p50_ms),
                ms(s.p99_ms),
                ms(s.max_ms),
                row.cost.cpu_bench_ms,
                if r.backend == Kind::Postgres {
                    format!("{:.2}", row.cost.cpu_postgres_ms)
                } else {
                    "-".into()
                },
                row.cost.other_cores
            )?;
        }
    }
    writeln!(out, "\n## Page requests (limit={})\n", a.limit)?;
    writeln!(
        out,
        "| backend | tier | readers | requests | requests/s | p50 ms | p99 ms | max ms |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
    for r in results {
        for row in &r.rows {
            let s = &row.pages;
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.backend.name(),
                row.tier.name(),
                row.concurrency,
                s.ops,
                rate(s.per_sec),
                ms(s.p50_ms),
                ms(s.p99_ms),
                ms(s.max_ms)
            )?;
        }
    }
    Ok(out)
}

async fn ingest_cmd(a: IngestArgs) -> anyhow::Result<()> {
    a.common.prepare()?;
    if a.writers.is_empty() || a.writers.iter().any(|&w| w == 0 || w > 256) {
        bail!("--writers must list counts from 1 to 256");
    }
    if !(1..=100).contains(&a.threads) {
        bail!("--threads must be 1 to 100");
    }
    if a.tiers.is_empty() {
        bail!("--tiers must name at least one of api, store, raw");
    }
    let settings = ingest::Settings {
        postgres_url: a.common.postgres_url.clone(),
        seconds: a.common.seconds,
        warmup: a.common.warmup,
        writers: a.writers.clone(),
        threads: a.threads,
        tiers: a.tiers.clone(),
        max_ops: a.common.max_ops,
        raw_lock: a.raw_sqlite_lock,
    };
    let mut results = Vec::new();
    for kind in a.common.backend.kinds() {
        results.push(
            ingest::run_backend(kind, &settings)
                .await
                .with_context(|| format!("ingest on {}", kind.name()))?,
        );
    }
    let env = environment(
        results
            .iter()
            .map(|r| (r.backend.name().to_string(), r.version.clone()))
            .collect(),
    );
    print!("{}", ingest_report(&a, &env, &results)?);
    if let Some(path) = &a.common.json {
        let settings = serde_json::json!({
            "seconds": a.common.seconds, "warmup": a.common.warmup, "writers": a.writers,
            "threads": a.threads, "tiers": a.tiers, "raw_sqlite_lock": a.raw_sqlite_lock,
            "max_ops": a.common.max_ops,
        });
        write_json(path, &env, settings, &results)?;
    }
    Ok(())
}

async fn read_cmd(a: ReadArgs) -> anyhow::Result<()> {
    a.common.prepare()?;
    if !(1..=20_000).contains(&a.posts) {
        bail!("--posts must be 1 to 20000");
    }
    if !(1..=500).contains(&a.limit) {
        bail!("--limit must be 1 to 500");
    }
    if a.concurrency.is_empty() || a.concurrency.iter().any(|&c| c == 0 || c > 256) {
        bail!("--concurrency must list counts from 1 to 256");
    }
    if a.tiers.is_empty() {
        bail!("--tiers must name at least one of api, store, raw");
    }
    let settings = read::Settings {
        postgres_url: a.common.postgres_url.clone(),
        posts: a.posts,
        limit: a.limit,
        seconds: a.common.seconds,
        warmup: a.common.warmup,
        concurrency: a.concurrency.clone(),
        max_ops: a.common.max_ops,
        tiers: a.tiers.clone(),
        body: a.body,
        page_cache_mib: a.page_cache_mib,
    };
    let mut results = Vec::new();
    for kind in a.common.backend.kinds() {
        eprintln!("{}: read", kind.name());
        results.push(
            read::run_backend(kind, &settings)
                .await
                .with_context(|| format!("read on {}", kind.name()))?,
        );
    }
    let env = environment(
        results
            .iter()
            .map(|r| (r.backend.name().to_string(), r.version.clone()))
            .collect(),
    );
    print!("{}", read_report(&a, &env, &results)?);
    if let Some(path) = &a.common.json {
        let settings = serde_json::json!({
            "seconds": a.common.seconds, "warmup": a.common.warmup, "posts": a.posts,
            "limit": a.limit, "concurrency": a.concurrency, "max_ops": a.common.max_ops,
            "tiers": a.tiers, "body": a.body,
        });
        write_json(path, &env, settings, &results)?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Ingest(a) => ingest_cmd(a).await,
        Cmd::Read(a) => read_cmd(a).await,
    }
}
