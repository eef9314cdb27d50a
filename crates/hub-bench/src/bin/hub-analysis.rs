//! Building one region's analysis document from 100,000 and 1,000,000 posts.
//!
//! For each size and backend: a fresh database is filled by a multilingual generator (the
//! region gets `n` published posts over eight weeks, plus hidden, pending and removed ones;
//! the other four regions share a tenth of `n` as the TF-IDF background; endorsements from
//! every stakeholder group), then, in the same run:
//! - the baseline: a raw ordered export of the region's posts through sqlx (every column the
//!   build reads, streamed, nothing kept);
//! - the build: `hub analysis build`'s path (queue, claim, snapshot, synthesis, gzip'd JSON,
//!   stored in one transaction), timed, with the process's peak resident memory over the
//!   build (VmHWM, reset before);
//! - posting latency: a writer posts through the store at a fixed rate before the build
//!   (alone) and during it; p50/p99 of both.
//!
//! `cargo run --release -p hub-bench --bin hub-analysis -- [--posts 100000,1000000]
//! [--backend sqlite|postgres|both] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
//! [--keep true] [--database URL] [--rate 20]`: `--keep true` keeps the seeded database and
//! prints its address; `--database` runs on such a database instead of seeding one (one size
//! and backend; for diagnosis: each run adds its probe posts and a document); `--rate` is the
//! measured writer's posts per second (more samples for a steadier p99).
#![forbid(unsafe_code)]

#[path = "../text.rs"]
#[allow(dead_code)]
mod text;

#[path = "../backend.rs"]
#[allow(dead_code)]
mod backend;

use anyhow::{bail, Context, Result};
use futures::TryStreamExt;
use hdrhistogram::Histogram;
use hub_domain::calendar::RegionsFile;
use hub_domain::{AuthorRef, PostKind, StakeholderGroup};
use hub_store::analysis::Origin;
use hub_store::{Backend, NewPost, Store};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    sizes: Vec<i64>,
    backends: Vec<Backend>,
    pg: String,
    /// A database seeded by an earlier run with `--keep` (diagnosis: skips the seeding).
    database: Option<String>,
    /// Keep the seeded database and print its address.
    keep: bool,
    /// Posts per second of the writer whose latency is measured, alone and during the build.
    rate: u32,
}

fn args() -> Result<Args> {
    let mut a = Args {
        sizes: vec![100_000, 1_000_000],
        backends: vec![Backend::Sqlite, Backend::Postgres],
        pg: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        database: None,
        keep: false,
        rate: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--posts" => {
                a.sizes = v
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<i64>())
                    .collect::<Result<_, _>>()
                    .context("--posts takes numbers, comma-separated")?
            }
            "--postgres-url" => a.pg = v,
            "--database" => a.database = Some(v),
            "--keep" => a.keep = v == "true",
            "--rate" => a.rate = v.parse().context("--rate takes posts per second")?,
            "--backend" => {
                a.backends = match v.as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "postgres" => vec![Backend::Postgres],
                    "both" => vec![Backend::Sqlite, Backend::Postgres],
                    _ => bail!("--backend sqlite|postgres|both"),
                }
            }
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

const REGION: &str = "asia-pacific";
const OTHERS: [&str; 4] = ["africa", "arab-region", "europe", "latin-america-caribbean"];
const USERS: i64 = 5_000;
const COUNTRIES: [&str; 12] = [
    "TH", "PH", "ID", "VN", "CN", "IN", "BD", "NP", "AU", "FJ", "LK", "MY",
];

/// Users of every stakeholder group and country, and `n / 50` threads (every tenth in
/// another region); returns the number of threads.
async fn seed_users_and_threads(store: &Store, n: i64, start: i64, now: i64) -> Result<i64> {
    let pool = store.pool();
    let groups = StakeholderGroup::ALL;
    let mut tx = pool.begin().await?;
    for chunk in (1..=USERS).collect::<Vec<_>>().chunks(500) {
        let mut q = String::from(
            "INSERT INTO users (email, password_hash, display_name, organisation, stakeholder_group, country, attribution, created_at) VALUES ",
        );
        for (i, u) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(',');
            }
            let g = groups[(*u as usize) % groups.len()].as_str();
            let c = COUNTRIES[(*u as usize) % COUNTRIES.len()];
            q.push_str(&format!(
                "('u{u}@example.org', 'x', 'User {u}', 'Organisation {}', '{g}', '{c}', {}, {now})",
                u % 700,
                u % 2
            ));
        }
        sqlx::query(&q).execute(&mut *tx).await?;
    }
    let threads = (n / 50).max(5);
    let mut q = String::new();
    for t in 1..=threads {
        let region = if t % 10 == 0 {
            OTHERS[(t as usize / 10) % 4]
        } else {
            REGION
        };
        if q.is_empty() {
            q.push_str("INSERT INTO threads (region, title, author_id, kind, objectives, created_at, last_activity_at) VALUES ");
        } else {
            q.push(',');
        }
        q.push_str(&format!(
            "('{region}', 'Thread {t}', {}, 'comment', '[]', {start}, {now})",
            1 + t % USERS
        ));
        if t % 500 == 0 || t == threads {
            sqlx::query(&q).execute(&mut *tx).await?;
            q.clear();
        }
    }
    tx.commit().await?;
    Ok(threads)
}

/// Fills the database: users, threads, posts (multi-row inserts in large transactions) and
/// endorsements.
async fn seed(store: &Store, n: i64) -> Result<()> {
    let pool = store.pool();
    let mut rng = StdRng::seed_from_u64(2026);
    let bodies = text::pool(4_000, &mut rng);
    let now = hub_store::now_micros();
    let eight_weeks = 56 * 86_400 * 1_000_000i64;
    let start = now - eight_weeks;
    let threads = seed_users_and_threads(store, n, start, now).await?;

    // Posts: the region's n published, plus 2% hidden/pending/removed; the others n/10.
    let total = n + n / 50 + n / 10;
    let mut tx = pool.begin().await?;
    let mut q = String::new();
    // Posts get ids 1, 2, ... in this order (a fresh database), so objectives can name them.
    let mut po = String::new();
    let mut in_batch = 0;
    for i in 1..=total {
        let b = &bodies[(i as usize * 7919) % bodies.len()];
        let (thread, region, status) = if i <= n + n / 50 {
            let mut t = 1 + (i % threads);
            if t % 10 == 0 {
                t += 1;
            }
            let t = t.min(threads);
            let status = if i > n {
                ["hidden", "pending", "removed"][(i % 3) as usize]
            } else {
                "published"
            };
            (t, REGION, status)
        } else {
            let t = 10 * (1 + i % (threads / 10).max(1));
            (t.min(threads), OTHERS[((t / 10) % 4) as usize], "published")
        };
        let created = start + (i * 7_777_777) % eight_weeks;
        let author = 1 + (i * 31) % USERS;
        let body = b.markdown.replace('\'', "''");
        let lang = b
            .language
            .as_deref()
            .map_or("NULL".to_string(), |l| format!("'{l}'"));
        let objectives = format!(
            "[{}]",
            if i % 9 == 0 {
                String::new()
            } else {
                b.objectives
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            }
        );
        let aspects = format!(
            "[{}]",
            b.aspects
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let reason = match status {
            "hidden" => "'spam link'",
            "removed" => "NULL",
            _ => "NULL",
        };
        if q.is_empty() {
            q.push_str("INSERT INTO posts (thread_id, region, author_id, depth, path, kind, body, body_html, language, objectives, aspects, status, status_reason, endorsements, created_at) VALUES ");
        } else {
            q.push(',');
        }
        q.push_str(&format!(
            "({thread}, '{region}', {author}, 0, '{i:012}/', '{}', '{body}', '', {lang}, '{objectives}', '{aspects}', '{status}', {reason}, {}, {created})",
            b.kind,
            i % 5
        ));
        if i % 9 != 0 {
            for o in &b.objectives {
                if !po.is_empty() {
                    po.push(',');
                }
                po.push_str(&format!("({o}, {i})"));
            }
        }
        in_batch += 1;
        if in_batch == 400 || i == total {
            sqlx::query(&q).execute(&mut *tx).await?;
            q.clear();
            if !po.is_empty() {
                sqlx::query(&format!(
                    "INSERT INTO post_objectives (objective, post_id) VALUES {po}"
                ))
                .execute(&mut *tx)
                .await?;
                po.clear();
            }
            in_batch = 0;
        }
        if i % 100_000 == 0 {
            tx.commit().await?;
            tx = pool.begin().await?;
        }
    }
    tx.commit().await?;
    // Endorsements: post i gets i % 5 of them, from users of varied groups.
    let endorse = match store.backend() {
        Backend::Sqlite => {
            "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 4) \
            INSERT INTO endorsements (post_id, user_id, created_at) \
            SELECT p.id, 1 + ((p.id * 13 + k.x * 1009) % 5000), p.created_at + k.x * 1000000 \
            FROM posts p JOIN k ON k.x <= p.endorsements"
        }
        Backend::Postgres => {
            "INSERT INTO endorsements (post_id, user_id, created_at) \
            SELECT p.id, 1 + ((p.id * 13 + k.x * 1009) % 5000), p.created_at + k.x * 1000000 \
            FROM posts p JOIN generate_series(1, 4) AS k(x) ON k.x <= p.endorsements"
        }
    };
    sqlx::query(endorse).execute(pool).await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(())
}

/// A memory figure of this process's `/proc/self/status` (`VmHWM`: peak resident since the
/// last reset; `VmRSS`: resident now), in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The raw baseline: every column the build reads, streamed in id order, nothing kept. Read
/// the fastest way each backend has (SQLite in rowid order, PostgreSQL along its primary key),
/// as the build reads.
async fn raw_export(store: &Store) -> Result<(Duration, i64)> {
    let t = Instant::now();
    let mut tx = store.pool().begin().await?;
    let scan = match store.backend() {
        Backend::Sqlite => "posts p NOT INDEXED",
        Backend::Postgres => {
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut *tx)
                .await?;
            "posts p"
        }
    };
    let sql = format!(
        "SELECT p.id, p.thread_id, p.kind, p.language, p.objectives, p.aspects, p.created_at, \
         p.body, u.stakeholder_group, u.country, u.organisation FROM {scan} \
         JOIN users u ON u.id = p.author_id \
         WHERE p.region = $1 AND p.status = 'published' ORDER BY p.id"
    );
    let mut n = 0;
    {
        let mut rows = sqlx::query(&sql).bind(REGION).fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            use sqlx::Row;
            let body: String = r.try_get("body")?;
            n += i64::from(!body.is_empty());
        }
    }
    tx.rollback().await?;
    Ok((t.elapsed(), n))
}

/// Settles the freshly loaded database as pgbench does before its runs: on PostgreSQL a
/// `VACUUM (FREEZE, ANALYZE)` (hint bits, visibility map, statistics) and a `CHECKPOINT`, so the
/// first full read of the bulk-loaded rows does not dirty every page (hint bits) for the
/// checkpointer to write out during the measured phases; on SQLite an `ANALYZE` and a WAL
/// checkpoint. A failure is reported, not fatal.
async fn settle(store: &Store) {
    let t = Instant::now();
    let steps: &[&str] = match store.backend() {
        Backend::Postgres => &["VACUUM (FREEZE, ANALYZE)", "CHECKPOINT"],
        Backend::Sqlite => &["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"],
    };
    for step in steps {
        if let Err(e) = sqlx::raw_sql(step).execute(store.pool()).await {
            eprintln!("  settle: {step} failed: {e}");
        }
    }
    eprintln!(
        "  settled (vacuum, checkpoint) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// Posts through the store at `rate` per second until `stop`, recording latency (µs).
async fn writer(
    store: Store,
    rate: u32,
    stop: Arc<AtomicBool>,
    thread_id: i64,
) -> Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    let every = Duration::from_secs(1) / rate.max(1);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = 0u64;
    // Diagnosis (HUB_BENCH_SLOWEST=1): the slowest posts, with when they started.
    let track_slowest = std::env::var_os("HUB_BENCH_SLOWEST").is_some();
    let started = Instant::now();
    let mut slowest: Vec<(u64, f64)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        i += 1;
        let body = format!("Latency probe {i}: access to basic services for migrant workers.");
        let post = NewPost {
            parent_id: None,
            author: AuthorRef {
                id: 1,
                display_name: "User 1".into(),
                organisation: None,
                stakeholder_group: StakeholderGroup::Other,
                country: None,
            },
            kind: PostKind::Comment,
            body_html: hub_domain::markup::render_markdown(&body),
            search_terms: hub_domain::search::index_text(&body),
            body,
            language: Some("en".into()),
            language_detected: false,
            objectives: vec![15],
            aspects: vec![],
            status: hub_domain::PostStatus::Published,
        };
        let t = Instant::now();
        store.create_post(thread_id, &post, None).await?;
        let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        h.record(us)?;
        if track_slowest {
            slowest.push((us, started.elapsed().as_secs_f64()));
            slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
            slowest.truncate(8);
        }
    }
    if track_slowest {
        let list: Vec<String> = slowest
            .iter()
            .map(|(us, at)| format!("{:.1} ms at {at:.1} s", *us as f64 / 1000.0))
            .collect();
        eprintln!("  slowest posts: {}", list.join(", "));
    }
    Ok(h)
}

struct Outcome {
    backend: &'static str,
    posts: i64,
    seed_s: f64,
    raw_s: f64,
    build_s: f64,
    peak_mib: Option<f64>,
    base_rss_mib: Option<f64>,
    json_mib: f64,
    idle_p50: f64,
    idle_p99: f64,
    busy_p50: f64,
    busy_p99: f64,
}

async fn run(backend: Backend, n: i64, a: &Args) -> Result<Outcome> {
    let kind = match backend {
        Backend::Sqlite => backend::Kind::Sqlite,
        Backend::Postgres => backend::Kind::Postgres,
    };
    let mut dbs = backend::Databases::new(kind, &a.pg)?;
    let url = match &a.database {
        Some(url) => url.clone(),
        None => dbs.fresh(&format!("analysis_{n}")).await?,
    };
    let store = Store::connect(&url, &Default::default()).await?;
    store.migrate().await?;
    let t = Instant::now();
    if a.database.is_none() {
        seed(&store, n).await?;
        eprintln!("  seeded {n} posts in {:.1} s", t.elapsed().as_secs_f64());
    }
    let seed_s = t.elapsed().as_secs_f64();

    settle(&store).await;
    let (raw, exported) = raw_export(&store).await?;
    eprintln!(
        "  raw export: {exported} rows in {:.2} s",
        raw.as_secs_f64()
    );

    let regions: RegionsFile =
        toml::from_str(hub::config::REGIONS_TOML).context("embedded regions")?;
    let analyses = hub_analysis::Analyses::new(
        store.clone(),
        Arc::new(regions.regions),
        hub_analysis::Settings::default(),
    );

    // Posting latency alone, then during the build.
    let rate = a.rate;
    let stop = Arc::new(AtomicBool::new(false));
    let idle = tokio::spawn(writer(store.clone(), rate, stop.clone(), 1));
    tokio::time::sleep(Duration::from_secs(20)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle.await??;

    let job = analyses
        .request(REGION, Origin::Cli, None, None)
        .await
        .context("queue the build")?;
    let base_rss = status_mib("VmRSS");
    let reset = reset_peak_rss();
    let stop = Arc::new(AtomicBool::new(false));
    let busy = tokio::spawn(writer(store.clone(), rate, stop.clone(), 1));
    let t = Instant::now();
    let done = analyses
        .run_once()
        .await?
        .context("the job was not claimed")?;
    let build = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let busy = busy.await??;
    let peak = if reset { status_mib("VmHWM") } else { None };
    if done.id != job.id || done.status != "ready" {
        bail!("the build did not finish: {:?}", done.status);
    }
    eprintln!(
        "  build: {} posts in {:.2} s, peak RSS {:?} MiB",
        done.posts.unwrap_or(0),
        build.as_secs_f64(),
        peak
    );
    let json_mib = done.size_bytes.unwrap_or(0) as f64 / 1_048_576.0;
    store.close().await;
    if a.keep || a.database.is_some() {
        eprintln!("  kept {url} (drop it when done)");
    } else {
        dbs.cleanup().await?;
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(Outcome {
        backend: backend.name(),
        posts: n,
        seed_s,
        raw_s: raw.as_secs_f64(),
        build_s: build.as_secs_f64(),
        peak_mib: peak,
        base_rss_mib: base_rss,
        json_mib,
        idle_p50: ms(&idle, 0.5),
        idle_p99: ms(&idle, 0.99),
        busy_p50: ms(&busy, 0.5),
        busy_p99: ms(&busy, 0.99),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    // Quiet unless RUST_LOG asks (e.g. RUST_LOG=hub_analysis=debug shows the build's phases).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let a = args()?;
    let mut out = Vec::new();
    for &n in &a.sizes {
        for &b in &a.backends {
            eprintln!("{} posts on {}", n, b.name());
            out.push(run(b, n, &a).await?);
        }
    }
    println!("| backend | posts | build (s) | raw export (s) | build / raw | peak RSS during build (MiB) | RSS before (MiB) | JSON (MiB) | posting p50 / p99 alone (ms) | during build (ms) | seed (s) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for o in out {
        let f = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.0}"));
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.1} | {} | {} | {:.1} | {:.2} / {:.2} | {:.2} / {:.2} | {:.0} |",
            o.backend,
            o.posts,
            o.build_s,
            o.raw_s,
            o.build_s / o.raw_s.max(1e-9),
            f(o.peak_mib),
            f(o.base_rss_mib),
            o.json_mib,
            o.idle_p50,
            o.idle_p99,
            o.busy_p50,
            o.busy_p99,
            o.seed_s
        );
    }
    Ok(())
}
