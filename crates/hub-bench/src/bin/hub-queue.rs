//! The moderation queue under load: 100,000 flagged posts across the five regions, then the
//! region's first queue page (and the next pages) read repeatedly through the store, as
//! `GET /moderation/queue` does. Reports p50/p99/max per page on SQLite and PostgreSQL.
//!
//! `cargo run --release -p hub-bench --bin hub-queue -- [--posts 100000] [--reads 500]
//! [--backend sqlite|postgres|both] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]`
#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use hub_store::{Backend, Store};
use sqlx::Connection;
use std::time::Instant;

struct Args {
    posts: i64,
    reads: usize,
    backends: Vec<Backend>,
    pg: String,
}

fn args() -> Result<Args> {
    let mut a = Args {
        posts: 100_000,
        reads: 500,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        pg: "postgres://postgres@127.0.0.1:5432/postgres".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--posts" => a.posts = v.parse()?,
            "--reads" => a.reads = v.parse()?,
            "--postgres-url" => a.pg = v,
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

const REGIONS: [&str; 5] = [
    "africa",
    "arab-region",
    "asia-pacific",
    "europe",
    "latin-america-caribbean",
];

/// Seeds users, one thread per region, `n` flagged posts spread over the regions with varied
/// urgency and age, and a flag row for each (as `flag_post` would leave them).
async fn seed(store: &Store, n: i64) -> Result<()> {
    let pool = store.pool();
    let now = hub_store::now_micros();
    sqlx::query("INSERT INTO users (email, password_hash, display_name, stakeholder_group, created_at) VALUES ('a@example.org', 'x', 'Author', 'other', $1), ('f@example.org', 'x', 'Flagger', 'other', $1)")
        .bind(now)
        .execute(pool)
        .await?;
    for r in REGIONS {
        sqlx::query("INSERT INTO threads (region, title, author_id, kind, objectives, created_at, last_activity_at) VALUES ($1, 'Queue bench', 1, 'comment', '[]', $2, $2)")
            .bind(r)
            .bind(now)
            .execute(pool)
            .await?;
    }
    // Region i+1 has thread i+1; urgency: every 47th post has a personal-data flag.
    let posts = match store.backend() {
        Backend::Sqlite => "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $1) \
            INSERT INTO posts (thread_id, region, author_id, depth, path, kind, body, body_html, objectives, aspects, status, created_at, \
                               open_flags, flag_weight, personal_data_flags, urgency, queued_at) \
            SELECT (x % 5) + 1, CASE x % 5 WHEN 0 THEN 'africa' WHEN 1 THEN 'arab-region' WHEN 2 THEN 'asia-pacific' WHEN 3 THEN 'europe' ELSE 'latin-america-caribbean' END, \
                   1, 1, printf('%012d/', x), 'comment', 'Flagged post number ' || x, '<p>Flagged post</p>', '[7]', '[]', \
                   CASE WHEN x % 7 = 0 THEN 'hidden' ELSE 'published' END, $2 - x * 1000000, \
                   1 + x % 4, 1 + x % 9, CASE WHEN x % 47 = 0 THEN 1 ELSE 0 END, \
                   (CASE WHEN x % 47 = 0 THEN 1000000 ELSE 0 END) + 1 + x % 9, $2 - x * 1000000 FROM g",
        Backend::Postgres => "INSERT INTO posts (thread_id, region, author_id, depth, path, kind, body, body_html, objectives, aspects, status, created_at, \
                               open_flags, flag_weight, personal_data_flags, urgency, queued_at) \
            SELECT (x % 5) + 1, (ARRAY['africa','arab-region','asia-pacific','europe','latin-america-caribbean'])[(x % 5) + 1], \
                   1, 1, lpad(x::text, 12, '0') || '/', 'comment', 'Flagged post number ' || x, '<p>Flagged post</p>', '[7]', '[]', \
                   CASE WHEN x % 7 = 0 THEN 'hidden' ELSE 'published' END, $2 - x * 1000000, \
                   1 + x % 4, 1 + x % 9, CASE WHEN x % 47 = 0 THEN 1 ELSE 0 END, \
                   (CASE WHEN x % 47 = 0 THEN 1000000 ELSE 0 END) + 1 + x % 9, $2 - x * 1000000 FROM generate_series(1, $1) AS g(x)",
    };
    sqlx::query(posts).bind(n).bind(now).execute(pool).await?;
    sqlx::query("INSERT INTO flags (post_id, user_id, reason, created_at) SELECT id, 2, CASE WHEN personal_data_flags > 0 THEN 'personal_data' ELSE 'spam' END, queued_at FROM posts")
        .execute(pool)
        .await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(())
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

async fn run(backend: Backend, a: &Args) -> Result<String> {
    let (url, drop_pg, _dir) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("hub-queue-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            (
                format!("sqlite://{}/hub.db", dir.display()),
                None,
                Some(dir),
            )
        }
        Backend::Postgres => {
            let name = format!("hub_bench_queue_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&a.pg)
                .await
                .context("PostgreSQL")?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .await?;
            let base = a.pg.rsplit_once('/').map_or(a.pg.as_str(), |(b, _)| b);
            (format!("{base}/{name}"), Some(name), None)
        }
    };
    let store = Store::connect(&url, &Default::default()).await?;
    store.migrate().await?;
    let t = Instant::now();
    seed(&store, a.posts).await?;
    let seeded = t.elapsed();
    let mut first = Histogram::<u64>::new(3)?;
    let mut deep = Histogram::<u64>::new(3)?;
    for i in 0..a.reads {
        let region = REGIONS[i % REGIONS.len()];
        let t = Instant::now();
        let page = store.queue(region, None, 50).await?;
        first.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        if page.items.len() != 50 || page.items[0].personal_data_flags == 0 {
            bail!("the queue is not ordered as expected");
        }
        // The fifth page, following cursors (a moderator working through the queue).
        let mut cursor = page.next_cursor;
        for _ in 0..4 {
            let t = Instant::now();
            let p = store.queue(region, cursor.as_deref(), 50).await?;
            deep.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
            cursor = p.next_cursor;
        }
    }
    store.close().await;
    if let Some(name) = drop_pg {
        let mut c = sqlx::PgConnection::connect(&a.pg).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)
            .await?;
    }
    if let Some(dir) = _dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(format!(
        "| {} | {} | {:.1} s | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        backend.name(),
        a.posts,
        seeded.as_secs_f64(),
        ms(&first, 0.5),
        ms(&first, 0.99),
        ms(&first, 1.0),
        ms(&deep, 0.5),
        ms(&deep, 0.99),
    ))
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    println!("Moderation queue: {} flagged posts over 5 regions, {} reads of each region's first page (50 items) and 4 more pages each.\n", a.posts, a.reads);
    println!("| backend | flagged posts | seed | first page p50 ms | p99 ms | max ms | later pages p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|---|");
    for b in &a.backends {
        println!("{}", run(*b, &a).await?);
    }
    Ok(())
}
