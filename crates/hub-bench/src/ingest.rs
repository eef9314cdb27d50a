//! Post ingest: replies posted over HTTP to a real hub, against a raw sqlx baseline writing
//! the same post row and its event in one transaction (and, optionally, the hub's storage
//! layer called directly, without HTTP).

use crate::api::Api;
use crate::backend::{self, Databases, Kind, RawPool};
use crate::load::{self, Op, Phase};
use crate::probe::{self, Cost, Probe};
use crate::stats::Summary;
use crate::text::{self, Body};
use anyhow::Context;
use hub_domain::{Aspect, AuthorRef, Post, PostKind, PostStatus, StakeholderGroup};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Deepest parent a reply is given (replies nest up to `MAX_PARENT_DEPTH + 1`).
const MAX_PARENT_DEPTH: i64 = 9;
/// Regions the threads are spread over.
const REGIONS: &[&str] = &[
    "africa",
    "arab-region",
    "asia-pacific",
    "europe",
    "latin-america-caribbean",
];

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// `POST /threads/{id}/posts` over HTTP.
    Api,
    /// `hub_store::Store::create_post` in-process (no HTTP, no rendering, no auth).
    Store,
    /// Native sqlx: INSERT post + INSERT event + COMMIT.
    Raw,
}

impl Tier {
    /// Name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Api => "api",
            Tier::Store => "store",
            Tier::Raw => "raw",
        }
    }
}

/// How the raw SQLite baseline queues its writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RawLock {
    /// An in-process mutex, then `BEGIN IMMEDIATE` (as the hub does).
    Mutex,
    /// `BEGIN IMMEDIATE` alone: SQLite's busy handler makes writers wait.
    Busy,
}

/// Settings of an ingest run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL maintenance URL.
    pub postgres_url: String,
    /// Measured seconds per phase.
    pub seconds: f64,
    /// Unmeasured seconds before each phase.
    pub warmup: f64,
    /// Writer counts.
    pub writers: Vec<usize>,
    /// Threads posted to.
    pub threads: usize,
    /// Tiers.
    pub tiers: Vec<Tier>,
    /// Most operations per phase.
    pub max_ops: u64,
    /// Raw SQLite writer queueing.
    pub raw_lock: RawLock,
}

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Tier.
    pub tier: Tier,
    /// Concurrent writers.
    pub writers: usize,
    /// Figures.
    #[serde(flatten)]
    pub summary: Summary,
    /// CPU, WAL and transactions per post.
    pub cost: Cost,
    /// First error seen, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// The results of one backend.
#[derive(Debug, Clone, Serialize)]
pub struct BackendResult {
    /// Backend.
    pub backend: Kind,
    /// Server version.
    pub version: String,
    /// Phases.
    pub rows: Vec<Row>,
    /// Posts in the hub's database at the end.
    pub hub_posts: i64,
    /// Events in the hub's database at the end (and how many still unsequenced).
    pub hub_events: (i64, i64),
    /// PostgreSQL: rows written per table and tier, from `pg_stat_user_tables`.
    pub pg_table_writes: Vec<TableWrites>,
}

/// Row writes to one table during a tier (all its phases and its setup), PostgreSQL.
#[derive(Debug, Clone, Serialize)]
pub struct TableWrites {
    /// Tier.
    pub tier: Tier,
    /// Table.
    pub table: String,
    /// Posts in the database at the end.
    pub posts: i64,
    /// Rows inserted.
    pub inserted: i64,
    /// Rows updated.
    pub updated: i64,
    /// Of which heap-only (no index entries written).
    pub hot_updated: i64,
    /// Rows deleted.
    pub deleted: i64,
}

/// Reads `pg_stat_user_tables` of the database at `url` (once the tier's connections have
/// closed, so their counters are flushed).
async fn pg_table_writes(url: &str, tier: Tier) -> anyhow::Result<Vec<TableWrites>> {
    use sqlx::Connection;
    // Backends flush their statistics as they exit, just after the pool closes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut c = sqlx::postgres::PgConnection::connect(url).await?;
    let posts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&mut c)
        .await?;
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT relname::text, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del \
         FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 \
         AND relname <> '_sqlx_migrations' ORDER BY relname",
    )
    .fetch_all(&mut c)
    .await?;
    c.close().await?;
    Ok(rows
        .into_iter()
        .map(
            |(table, inserted, updated, hot_updated, deleted)| TableWrites {
                tier,
                table,
                posts,
                inserted,
                updated,
                hot_updated,
                deleted,
            },
        )
        .collect())
}

/// A node of a thread's tree, for picking parents.
#[derive(Debug, Clone)]
struct Node {
    id: i64,
    depth: i64,
    path: String,
}

/// The threads written to and their posts so far.
struct Forest {
    threads: Vec<(i64, &'static str, Mutex<Vec<Node>>)>,
}

impl Forest {
    /// A thread (index) and a parent for the next reply: a quarter top-level, the rest under
    /// a random post not already at the depth limit.
    fn pick(&self, rng: &mut StdRng) -> (usize, Option<Node>) {
        let t = rng.gen_range(0..self.threads.len());
        if rng.gen_bool(0.25) {
            return (t, None);
        }
        let parent = self.threads[t].2.lock().ok().and_then(|nodes| {
            if nodes.is_empty() {
                return None;
            }
            let n = &nodes[rng.gen_range(0..nodes.len())];
            (n.depth <= MAX_PARENT_DEPTH).then(|| n.clone())
        });
        (t, parent)
    }

    fn add(&self, t: usize, node: Node) {
        if let Ok(mut nodes) = self.threads[t].2.lock() {
            nodes.push(node);
        }
    }
}

fn phase_row(tier: Tier, writers: usize, p: &Phase, cost: Cost) -> Row {
    Row {
        tier,
        writers,
        summary: p.summary(),
        cost,
        first_error: p.first_error.clone(),
    }
}

/// Runs warm-up then the measured phase, for each writer count.
async fn phases(
    s: &Settings,
    tier: Tier,
    op: Op,
    seed: u64,
    rows: &mut Vec<Row>,
    probe: &mut Probe,
) -> anyhow::Result<()> {
    for (i, &w) in s.writers.iter().enumerate() {
        if s.warmup > 0.0 {
            load::run(
                w,
                Duration::from_secs_f64(s.warmup),
                s.max_ops,
                seed ^ 0xdead_0000 ^ i as u64,
                op.clone(),
            )
            .await?;
        }
        let before = probe.snapshot().await?;
        let p = load::run(
            w,
            Duration::from_secs_f64(s.seconds),
            s.max_ops,
            seed ^ i as u64,
            op.clone(),
        )
        .await?;
        let after = probe.snapshot().await?;
        let row = phase_row(tier, w, &p, probe::cost(before, after, p.hist.len()));
        eprintln!(
            "  {:<5} W={:<3} {:>8.1} posts/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
            tier.name(),
            w,
            row.summary.per_sec,
            row.summary.p50_ms,
            row.summary.p99_ms,
            row.summary.errors
        );
        rows.push(row);
    }
    Ok(())
}

/// Runs every tier on one backend, in fresh databases that are removed afterwards.
pub async fn run_backend(kind: Kind, s: &Settings) -> anyhow::Result<BackendResult> {
    let mut dbs = Databases::new(kind, &s.postgres_url)?;
    let mut probe = Probe::new((kind == Kind::Postgres).then_some(s.postgres_url.as_str())).await?;
    let r = run_in(kind, s, &mut dbs, &mut probe).await;
    probe.close().await;
    let c = dbs.cleanup().await;
    let r = r?;
    c?;
    Ok(r)
}

async fn run_in(
    kind: Kind,
    s: &Settings,
    dbs: &mut Databases,
    probe: &mut Probe,
) -> anyhow::Result<BackendResult> {
    let mut rng = StdRng::seed_from_u64(42);
    let bodies: Arc<Vec<Body>> = Arc::new(text::pool(256, &mut rng));
    let max_w = s.writers.iter().copied().max().unwrap_or(1).max(1);
    let mut rows = Vec::new();
    let mut version = String::new();
    let mut hub_posts = 0;
    let mut hub_events = (0, 0);
    let mut pg_writes = Vec::new();
    for &tier in &s.tiers {
        eprintln!("{}: {} tier", kind.name(), tier.name());
        match tier {
            Tier::Api => {
                let url = dbs.fresh("api").await?;
                let config = backend::hub_config(&url)?;
                let server = hub::server::start(&config, false)
                    .await
                    .context("cannot start the hub")?;
                let r = api_tier(s, server.addr, &bodies, max_w, &mut rows, probe).await;
                // What the hub stored, read before it stops.
                let counts = store_counts(&server.store).await;
                let stop = tokio::time::timeout(Duration::from_secs(30), server.shutdown()).await;
                r?;
                (hub_posts, hub_events) = counts?;
                match stop {
                    Ok(r) => r.context("hub shutdown")?,
                    Err(_) => eprintln!("warning: the hub did not stop within 30 s"),
                }
                if kind == Kind::Postgres {
                    pg_writes.extend(pg_table_writes(&url, tier).await?);
                }
            }
            Tier::Store => {
                let url = dbs.fresh("store").await?;
                store_tier(s, &url, &bodies, max_w, &mut rows, probe).await?;
                if kind == Kind::Postgres {
                    pg_writes.extend(pg_table_writes(&url, tier).await?);
                }
            }
            Tier::Raw => {
                let url = dbs.fresh("raw").await?;
                let pool = RawPool::open(&url, 16).await?;
                version = pool.version().await?;
                let r = raw_tier(s, &pool, &bodies, max_w, &mut rows, probe).await;
                pool.close().await;
                r?;
                if kind == Kind::Postgres {
                    pg_writes.extend(pg_table_writes(&url, tier).await?);
                }
            }
        }
    }
    if version.is_empty() {
        let url = dbs.fresh("version").await?;
        let pool = RawPool::open(&url, 1).await?;
        version = pool.version().await?;
        pool.close().await;
    }
    Ok(BackendResult {
        backend: kind,
        version,
        rows,
        hub_posts,
        hub_events,
        pg_table_writes: pg_writes,
    })
}

async fn store_counts(store: &hub_store::Store) -> anyhow::Result<(i64, (i64, i64))> {
    let posts: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM posts")
        .fetch_one(store.pool())
        .await?;
    let events: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM events")
        .fetch_one(store.pool())
        .await?;
    let unsequenced: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM events WHERE seq IS NULL")
            .fetch_one(store.pool())
            .await?;
    Ok((posts, (events, unsequenced)))
}

async fn api_tier(
    s: &Settings,
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Body>>,
    max_w: usize,
    rows: &mut Vec<Row>,
    probe: &mut Probe,
) -> anyhow::Result<()> {
    let api = Api::new(addr)?;
    let mut tokens = Vec::with_capacity(max_w);
    for i in 0..max_w {
        tokens.push(api.register(i).await?.0);
    }
    let mut threads = Vec::new();
    for i in 0..s.threads.max(1) {
        let region = REGIONS[i % REGIONS.len()];
        let title = text::TITLES[i % text::TITLES.len()];
        let (id, opening) = api
            .create_thread(&tokens[0], region, title, &bodies[i % bodies.len()])
            .await?;
        let node = Node {
            id: opening.id,
            depth: opening.depth,
            path: String::new(),
        };
        threads.push((id, region, Mutex::new(vec![node])));
    }
    let forest = Arc::new(Forest { threads });
    let tokens = Arc::new(tokens);
    let bodies = bodies.clone();
    let serial = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let op: Op = load::op(move |w, rng| {
        let (t, parent) = forest.pick(rng);
        let b = rng.gen_range(0..bodies.len());
        let n = serial.fetch_add(1, Ordering::Relaxed);
        let (api, forest, tokens, bodies) =
            (api.clone(), forest.clone(), tokens.clone(), bodies.clone());
        Box::pin(async move {
            let thread_id = forest.threads[t].0;
            let p = api
                .create_post(
                    &tokens[w % tokens.len()],
                    thread_id,
                    parent.map(|n| n.id),
                    &bodies[b],
                    n,
                )
                .await?;
            forest.add(
                t,
                Node {
                    id: p.id,
                    depth: p.depth,
                    path: String::new(),
                },
            );
            Ok(())
        })
    });
    phases(s, Tier::Api, op, 7, rows, probe).await
}

fn new_post(b: &Body, author: AuthorRef, parent: Option<i64>) -> hub_store::NewPost {
    hub_store::NewPost {
        author,
        parent_id: parent,
        kind: PostKind::parse(b.kind).unwrap_or(PostKind::Comment),
        body: b.markdown.clone(),
        body_html: b.html.clone(),
        search_terms: b.terms.clone(),
        language: b.language.clone(),
        language_detected: b.language_detected,
        objectives: b.objectives.clone(),
        aspects: b.aspects.iter().filter_map(|a| Aspect::parse(a)).collect(),
        status: PostStatus::Published,
    }
}

fn author(id: i64, i: usize) -> AuthorRef {
    AuthorRef {
        id,
        display_name: format!("Bench writer {i}"),
        organisation: Some(format!("Migrant Rights Network {}", i % 7)),
        stakeholder_group: StakeholderGroup::CivilSociety,
        country: Some("KE".into()),
    }
}

async fn store_tier(
    s: &Settings,
    url: &str,
    bodies: &Arc<Vec<Body>>,
    max_w: usize,
    rows: &mut Vec<Row>,
    probe: &mut Probe,
) -> anyhow::Result<()> {
    let store = hub_store::Store::connect(url, &hub_store::StoreOptions::default()).await?;
    store.migrate().await?;
    // The store starts its own event relay on PostgreSQL.
    let r = async {
        let mut authors = Vec::with_capacity(max_w);
        for i in 0..max_w {
            let u = store
                .create_user(&hub_store::NewUser {
                    email: format!("bench-writer-{i}@example.org"),
                    password_hash: "x".into(),
                    display_name: format!("Bench writer {i}"),
                    organisation: Some(format!("Migrant Rights Network {}", i % 7)),
                    stakeholder_group: StakeholderGroup::CivilSociety,
                    country: Some("KE".into()),
                    language: Some("en".into()),
                    attribution: false,
                })
                .await?;
            authors.push(author(u.id, i));
        }
        let mut threads = Vec::new();
        for i in 0..s.threads.max(1) {
            let region = REGIONS[i % REGIONS.len()];
            let created = store
                .create_thread(
                    &hub_store::NewThread {
                        region: region.into(),
                        title: text::TITLES[i % text::TITLES.len()].into(),
                        opening: new_post(&bodies[i % bodies.len()], authors[0].clone(), None),
                    },
                    None,
                )
                .await?;
            let hub_store::Created::New((thread, post)) = created else {
                anyhow::bail!("thread not created");
            };
            threads.push((
                thread.id,
                region,
                Mutex::new(vec![Node {
                    id: post.id,
                    depth: post.depth,
                    path: String::new(),
                }]),
            ));
        }
        let forest = Arc::new(Forest { threads });
        let authors = Arc::new(authors);
        let bodies = bodies.clone();
        let st = store.clone();
        let op: Op = load::op(move |w, rng| {
            let (t, parent) = forest.pick(rng);
            let b = rng.gen_range(0..bodies.len());
            let np = new_post(
                &bodies[b],
                authors[w % authors.len()].clone(),
                parent.map(|n| n.id),
            );
            let (store, forest) = (st.clone(), forest.clone());
            Box::pin(async move {
                let created = store.create_post(forest.threads[t].0, &np, None).await?;
                if let hub_store::Created::New(p) = created {
                    forest.add(
                        t,
                        Node {
                            id: p.id,
                            depth: p.depth,
                            path: String::new(),
                        },
                    );
                }
                Ok(())
            })
        });
        phases(s, Tier::Store, op, 11, rows, probe).await
    }
    .await;
    store.close().await;
    r
}

const RAW_POST_SQLITE: &str =
    "INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, kind, body, \
     body_html, language, language_detected, objectives, aspects, status, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
const RAW_POST_PG: &str = "INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, kind, body, \
     body_html, language, language_detected, objectives, aspects, status, created_at, search_terms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, string_to_array($17, ' '))";
const RAW_EVENT: &str = "INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Everything one raw insert binds.
struct RawPost {
    id: i64,
    thread_id: i64,
    parent_id: Option<i64>,
    region: &'static str,
    author_id: i64,
    depth: i64,
    path: String,
    body: usize,
    objectives: String,
    aspects: String,
    payload: String,
    now: i64,
}

/// Binds the post columns shared by both dialects, in order.
macro_rules! bind_post {
    ($q:expr, $p:expr, $b:expr) => {
        $q.bind($p.id)
            .bind($p.thread_id)
            .bind($p.parent_id)
            .bind($p.region)
            .bind($p.author_id)
            .bind($p.depth)
            .bind(&$p.path)
            .bind($b.kind)
            .bind(&$b.markdown)
            .bind(&$b.html)
            .bind(&$b.language)
            .bind(i64::from($b.language_detected))
            .bind(&$p.objectives)
            .bind(&$p.aspects)
            .bind("published")
            .bind($p.now)
    };
}

/// Binds the event columns.
macro_rules! bind_event {
    ($q:expr, $p:expr) => {
        $q.bind("post.created")
            .bind($p.region)
            .bind($p.thread_id)
            .bind($p.id)
            .bind($p.author_id)
            .bind("public")
            .bind(&$p.payload)
            .bind($p.now)
    };
}

async fn raw_insert(
    pool: &RawPool,
    lock: Option<&tokio::sync::Mutex<()>>,
    p: &RawPost,
    b: &Body,
) -> anyhow::Result<()> {
    match pool {
        RawPool::Sqlite(pool) => {
            let _guard = match lock {
                Some(l) => Some(l.lock().await),
                None => None,
            };
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            bind_post!(sqlx::query(RAW_POST_SQLITE), p, b)
                .execute(&mut *tx)
                .await?;
            bind_event!(sqlx::query(RAW_EVENT), p)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        RawPool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            bind_post!(sqlx::query(RAW_POST_PG), p, b)
                .bind(&b.terms)
                .execute(&mut *tx)
                .await?;
            bind_event!(sqlx::query(RAW_EVENT), p)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn raw_seed(pool: &RawPool, max_w: usize, threads: usize) -> anyhow::Result<Vec<i64>> {
    let now = hub_store::now_micros();
    let mut thread_ids = Vec::new();
    match pool {
        RawPool::Sqlite(p) => {
            for i in 1..=max_w as i64 {
                sqlx::query("INSERT INTO users (id, email, password_hash, display_name, organisation, stakeholder_group, country, created_at) VALUES ($1, $2, 'x', $3, 'Migrant Rights Network', 'civil_society', 'KE', $4)")
                    .bind(i).bind(format!("bench-writer-{i}@example.org")).bind(format!("Bench writer {i}")).bind(now)
                    .execute(p).await?;
            }
            for i in 0..threads {
                let id: i64 = sqlx::query_scalar("INSERT INTO threads (region, title, author_id, kind, objectives, created_at, last_activity_at) VALUES ($1, $2, 1, 'comment', '[1]', $3, $3) RETURNING id")
                    .bind(REGIONS[i % REGIONS.len()]).bind(text::TITLES[i % text::TITLES.len()]).bind(now)
                    .fetch_one(p).await?;
                thread_ids.push(id);
            }
        }
        RawPool::Postgres(p) => {
            for i in 1..=max_w as i64 {
                sqlx::query("INSERT INTO users (id, email, password_hash, display_name, organisation, stakeholder_group, country, created_at) VALUES ($1, $2, 'x', $3, 'Migrant Rights Network', 'civil_society', 'KE', $4)")
                    .bind(i).bind(format!("bench-writer-{i}@example.org")).bind(format!("Bench writer {i}")).bind(now)
                    .execute(p).await?;
            }
            for i in 0..threads {
                let id: i64 = sqlx::query_scalar("INSERT INTO threads (region, title, author_id, kind, objectives, created_at, last_activity_at) VALUES ($1, $2, 1, 'comment', '[1]', $3, $3) RETURNING id")
                    .bind(REGIONS[i % REGIONS.len()]).bind(text::TITLES[i % text::TITLES.len()]).bind(now)
                    .fetch_one(p).await?;
                thread_ids.push(id);
            }
        }
    }
    Ok(thread_ids)
}

async fn raw_tier(
    s: &Settings,
    pool: &RawPool,
    bodies: &Arc<Vec<Body>>,
    max_w: usize,
    rows: &mut Vec<Row>,
    probe: &mut Probe,
) -> anyhow::Result<()> {
    let thread_ids = raw_seed(pool, max_w, s.threads.max(1)).await?;
    let forest = Arc::new(Forest {
        threads: thread_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, REGIONS[i % REGIONS.len()], Mutex::new(Vec::new())))
            .collect(),
    });
    let pool = Arc::new(pool.clone());
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    let use_lock = s.raw_lock == RawLock::Mutex;
    let next_id = Arc::new(AtomicI64::new(1));
    let bodies = bodies.clone();
    let op: Op = load::op(move |w, rng| {
        let (t, parent) = forest.pick(rng);
        let b = rng.gen_range(0..bodies.len());
        let (pool, lock, forest, bodies) =
            (pool.clone(), lock.clone(), forest.clone(), bodies.clone());
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            let body = &bodies[b];
            let (thread_id, region, _) = &forest.threads[t];
            let (depth, parent_path) = match &parent {
                Some(n) => (n.depth + 1, n.path.as_str()),
                None => (0, ""),
            };
            let path = format!("{parent_path}{id:012}/");
            let author_id = (w % max_w) as i64 + 1;
            let now = hub_store::now_micros();
            let np = new_post(body, author(author_id, w), parent.as_ref().map(|n| n.id));
            // The event payload is the post as the API serialises it, as the hub writes it.
            let post = Post {
                id,
                thread_id: *thread_id,
                region: region.to_string(),
                parent_id: np.parent_id,
                depth,
                author: np.author,
                kind: np.kind,
                body: Some(np.body),
                body_html: Some(np.body_html),
                language: np.language,
                language_detected: np.language_detected,
                objectives: np.objectives,
                aspects: np.aspects,
                status: PostStatus::Published,
                status_reason: None,
                endorsements: 0,
                revision: 1,
                created_at: hub_store::from_micros(now),
                edited_at: None,
            };
            let rp = RawPost {
                id,
                thread_id: *thread_id,
                parent_id: post.parent_id,
                region,
                author_id,
                depth,
                path,
                body: b,
                objectives: serde_json::to_string(&post.objectives)?,
                aspects: serde_json::to_string(&post.aspects)?,
                payload: serde_json::to_string(&post)?,
                now,
            };
            raw_insert(&pool, use_lock.then_some(&*lock), &rp, &bodies[rp.body]).await?;
            forest.add(
                t,
                Node {
                    id,
                    depth,
                    path: rp.path,
                },
            );
            Ok(())
        })
    });
    phases(s, Tier::Raw, op, 13, rows, probe).await
}
