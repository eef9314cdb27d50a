//! Thread reads: one thread of N posts in a random tree, read whole in tree order over HTTP
//! (pages of 200 following `next_cursor`), checked for order, then measured.

use crate::api::{Api, BodyParam, PostLite};
use crate::backend::{self, Databases, Kind, RawPool};
use crate::ingest::Tier;
use crate::load::{self, Op};
use crate::probe::{self, Cost, Probe};
use crate::stats::{self, Summary};
use crate::text::{self, Body};
use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Deepest a reply may be placed.
const MAX_DEPTH: i64 = 10;
/// Writers building the thread.
const BUILDERS: usize = 4;

/// Settings of a read run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL maintenance URL.
    pub postgres_url: String,
    /// Posts in the thread, the opening post included.
    pub posts: usize,
    /// Page size.
    pub limit: u32,
    /// Measured seconds per phase.
    pub seconds: f64,
    /// Unmeasured seconds before each phase.
    pub warmup: f64,
    /// Concurrent readers.
    pub concurrency: Vec<usize>,
    /// Most full reads per phase.
    pub max_ops: u64,
    /// Where to read from: HTTP, the store in-process, a native pool.
    pub tiers: Vec<Tier>,
    /// Which texts each post carries (API and store tiers; the raw tier reads both).
    pub body: BodyParam,
    /// MiB of the hub's thread page cache (0: off).
    pub page_cache_mib: u64,
}

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Where the pages were read from.
    pub tier: Tier,
    /// Concurrent readers.
    pub concurrency: usize,
    /// Whole-thread reads.
    pub reads: Summary,
    /// Single page requests.
    pub pages: Summary,
    /// CPU (and, on PostgreSQL, WAL and transactions) per whole read.
    pub cost: Cost,
}

/// The results of one backend.
#[derive(Debug, Clone, Serialize)]
pub struct BackendResult {
    /// Backend.
    pub backend: Kind,
    /// Server version.
    pub version: String,
    /// Posts in the thread.
    pub posts: usize,
    /// Pages per whole read.
    pub pages_per_read: usize,
    /// Deepest post.
    pub max_depth: i64,
    /// Seconds it took to post the thread over the API.
    pub build_seconds: f64,
    /// Bytes of the first page's JSON.
    pub first_page_bytes: usize,
    /// Phases.
    pub rows: Vec<Row>,
}

/// Runs the read bench on one backend, in a fresh database removed afterwards.
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
    let url = dbs.fresh("read").await?;
    let mut config = backend::hub_config(&url)?;
    config.cache.thread_pages_mib = s.page_cache_mib;
    let server = hub::server::start(&config, false)
        .await
        .context("cannot start the hub")?;
    let version = {
        let vurl = dbs.fresh("version").await?;
        let pool = RawPool::open(&vurl, 1).await?;
        let v = pool.version().await;
        pool.close().await;
        v?
    };
    let api = Api::new(server.addr)?;
    let r = measure(s, &api, &server.store, &url, probe).await;
    drop(api);
    let stop = tokio::time::timeout(Duration::from_secs(30), server.shutdown()).await;
    let (posts, pages_per_read, max_depth, build_seconds, first_page_bytes, rows) = r?;
    match stop {
        Ok(r) => r.context("hub shutdown")?,
        Err(_) => eprintln!("warning: the hub did not stop within 30 s"),
    }
    Ok(BackendResult {
        backend: kind,
        version,
        posts,
        pages_per_read,
        max_depth,
        build_seconds,
        first_page_bytes,
        rows,
    })
}

/// What was created: id -> (parent, depth).
type Created = BTreeMap<i64, (Option<i64>, i64)>;

/// Posts the thread: the opening post and `n - 1` replies in a random tree.
async fn build(api: &Api, n: usize, bodies: &Arc<Vec<Body>>) -> anyhow::Result<(i64, Created)> {
    let mut tokens = Vec::new();
    for i in 0..BUILDERS {
        tokens.push(api.register(i).await?.0);
    }
    let (thread_id, opening) = api
        .create_thread(&tokens[0], "africa", text::TITLES[0], &bodies[0])
        .await?;
    let known: Arc<Mutex<Vec<(i64, i64)>>> = Arc::new(Mutex::new(vec![(opening.id, 0)]));
    let created: Arc<Mutex<Created>> = Arc::new(Mutex::new(BTreeMap::new()));
    if let Ok(mut c) = created.lock() {
        c.insert(opening.id, (None, opening.depth));
    }
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(n.saturating_sub(1)));
    let serial = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let mut tasks = Vec::new();
    for (w, token) in tokens.into_iter().enumerate() {
        let (api, known, created, remaining, bodies, serial) = (
            api.clone(),
            known.clone(),
            created.clone(),
            remaining.clone(),
            bodies.clone(),
            serial.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + w as u64);
            loop {
                let took = remaining.fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |x| x.checked_sub(1),
                );
                if took.is_err() {
                    break;
                }
                let parent = {
                    let k = known.lock().map_err(|_| anyhow::anyhow!("poisoned lock"))?;
                    pick_parent(&k, &mut rng)
                };
                let b = &bodies[rng.gen_range(0..bodies.len())];
                let p = api
                    .create_post(
                        &token,
                        thread_id,
                        parent,
                        b,
                        serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    )
                    .await?;
                if let Ok(mut k) = known.lock() {
                    k.push((p.id, p.depth));
                }
                if let Ok(mut c) = created.lock() {
                    c.insert(p.id, (p.parent_id, p.depth));
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let created = created
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned lock"))?
        .clone();
    Ok((thread_id, created))
}

/// A parent: a tenth top-level, else under one of the latest posts (deep chains) or any
/// post (wide trees), never below `MAX_DEPTH`.
fn pick_parent(known: &[(i64, i64)], rng: &mut StdRng) -> Option<i64> {
    if rng.gen_bool(0.1) {
        return None;
    }
    for _ in 0..4 {
        let i = if rng.gen_bool(0.5) {
            known.len() - 1 - rng.gen_range(0..known.len().min(8))
        } else {
            rng.gen_range(0..known.len())
        };
        let (id, depth) = known[i];
        if depth < MAX_DEPTH {
            return Some(id);
        }
    }
    None
}

/// The tree order the contract promises: depth-first, siblings oldest (lowest id) first.
fn expected_order(created: &Created) -> Vec<i64> {
    let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for (&id, &(parent, _)) in created {
        children.entry(parent).or_default().push(id);
    }
    for v in children.values_mut() {
        v.sort_unstable();
    }
    let mut out = Vec::with_capacity(created.len());
    let mut stack: Vec<i64> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(id) = stack.pop() {
        out.push(id);
        if let Some(kids) = children.get(&Some(id)) {
            stack.extend(kids.iter().rev());
        }
    }
    out
}

/// Reads the whole thread; returns the posts and the number of pages.
async fn read_all(
    api: &Api,
    thread_id: i64,
    limit: u32,
    body: BodyParam,
) -> anyhow::Result<(Vec<PostLite>, usize)> {
    let mut posts = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = api
            .thread_posts(thread_id, limit, cursor.as_deref(), body)
            .await?;
        pages += 1;
        posts.extend(page.items);
        match page.next_cursor {
            Some(c) if pages < 1000 => cursor = Some(c),
            Some(_) => bail!("more than 1000 pages: the cursor does not advance"),
            None => break,
        }
    }
    Ok((posts, pages))
}

/// Checks a whole read against what was created: every post once, each parent before its
/// replies, depths consistent, and exactly the depth-first order.
fn verify(posts: &[PostLite], created: &Created, expected: &[i64]) -> anyhow::Result<()> {
    if posts.len() != created.len() {
        bail!(
            "the thread read returned {} posts, {} were created",
            posts.len(),
            created.len()
        );
    }
    let mut seen: HashMap<i64, i64> = HashMap::new();
    for (i, p) in posts.iter().enumerate() {
        let Some(&(parent, depth)) = created.get(&p.id) else {
            bail!("post {} at position {i} was not created by the bench", p.id);
        };
        if p.parent_id != parent || p.depth != depth {
            bail!(
                "post {}: parent {:?} depth {}, created with parent {:?} depth {}",
                p.id,
                p.parent_id,
                p.depth,
                parent,
                depth
            );
        }
        match p.parent_id {
            Some(pid) => match seen.get(&pid) {
                Some(&pd) if pd + 1 == p.depth => {}
                Some(&pd) => bail!(
                    "post {} has depth {} under post {pid} of depth {pd}",
                    p.id,
                    p.depth
                ),
                None => bail!(
                    "post {} at position {i} comes before its parent {pid}",
                    p.id
                ),
            },
            None if p.depth != 0 => bail!("top-level post {} has depth {}", p.id, p.depth),
            None => {}
        }
        if seen.insert(p.id, p.depth).is_some() {
            bail!("post {} appears twice", p.id);
        }
    }
    let got: Vec<i64> = posts.iter().map(|p| p.id).collect();
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        bail!(
            "tree order differs from depth-first, oldest-sibling-first at position {at}: got {:?}, expected {:?}",
            &got[at..(at + 5).min(got.len())],
            &expected[at..(at + 5).min(expected.len())]
        );
    }
    let ids: HashSet<i64> = got.iter().copied().collect();
    if ids.len() != created.len() {
        bail!("duplicate posts in the read");
    }
    Ok(())
}

type Measured = (usize, usize, i64, f64, usize, Vec<Row>);

const RAW_THREAD: &str =
    "SELECT t.id, t.region, t.title, t.kind, t.objectives, t.opening_post_id, \
     t.pinned, t.locked, t.post_count, t.endorsements, t.created_at, t.last_activity_at, \
     u.id AS u_id, u.display_name AS u_display_name, u.organisation AS u_organisation, \
     u.stakeholder_group AS u_stakeholder_group, u.country AS u_country \
     FROM threads t JOIN users u ON u.id = t.author_id WHERE t.id = $1";
const RAW_PAGE: &str = "SELECT p.id, p.thread_id, p.region, p.parent_id, p.depth, p.path, p.kind, \
     p.body, p.body_html, p.language, p.language_detected, p.objectives, p.aspects, p.status, \
     p.status_reason, p.endorsements, p.revision, p.created_at, p.edited_at, \
     u.id AS u_id, u.display_name AS u_display_name, u.organisation AS u_organisation, \
     u.stakeholder_group AS u_stakeholder_group, u.country AS u_country \
     FROM posts p JOIN users u ON u.id = p.author_id \
     WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3";

/// Decodes a post row with a native driver into the domain type, as the store does.
macro_rules! decode_post {
    ($r:expr) => {{
        let r = $r;
        let kind: String = r.try_get("kind")?;
        let status: String = r.try_get("status")?;
        let group: String = r.try_get("u_stakeholder_group")?;
        let objectives: String = r.try_get("objectives")?;
        let aspects: String = r.try_get("aspects")?;
        hub_domain::Post {
            id: r.try_get("id")?,
            thread_id: r.try_get("thread_id")?,
            region: r.try_get("region")?,
            parent_id: r.try_get("parent_id")?,
            depth: r.try_get("depth")?,
            author: hub_domain::AuthorRef {
                id: r.try_get("u_id")?,
                display_name: r.try_get("u_display_name")?,
                organisation: r.try_get("u_organisation")?,
                stakeholder_group: hub_domain::StakeholderGroup::parse(&group)
                    .context("stakeholder_group")?,
                country: r.try_get("u_country")?,
            },
            kind: hub_domain::PostKind::parse(&kind).context("kind")?,
            body: Some(r.try_get("body")?),
            body_html: Some(r.try_get("body_html")?),
            language: r.try_get("language")?,
            language_detected: r.try_get::<i64, _>("language_detected")? != 0,
            objectives: serde_json::from_str(&objectives)?,
            aspects: serde_json::from_str(&aspects)?,
            status: hub_domain::PostStatus::parse(&status).context("status")?,
            status_reason: r.try_get("status_reason")?,
            endorsements: r.try_get("endorsements")?,
            revision: r.try_get("revision")?,
            created_at: hub_store::from_micros(r.try_get("created_at")?),
            edited_at: r
                .try_get::<Option<i64>, _>("edited_at")?
                .map(hub_store::from_micros),
        }
    }};
}

/// Reads the thread row (as the handler checks the thread exists) and decodes its columns.
macro_rules! check_thread {
    ($row:expr) => {{
        let r = $row.context("thread not found")?;
        let _: (i64, String, String, String, String) = (
            r.try_get("id")?,
            r.try_get("region")?,
            r.try_get("title")?,
            r.try_get("kind")?,
            r.try_get("objectives")?,
        );
        let _: (Option<i64>, i64, i64, i64, i64, i64, i64) = (
            r.try_get("opening_post_id")?,
            r.try_get("pinned")?,
            r.try_get("locked")?,
            r.try_get("post_count")?,
            r.try_get("endorsements")?,
            r.try_get("created_at")?,
            r.try_get("last_activity_at")?,
        );
        let _: (i64, String, Option<String>, String, Option<String>) = (
            r.try_get("u_id")?,
            r.try_get("u_display_name")?,
            r.try_get("u_organisation")?,
            r.try_get("u_stakeholder_group")?,
            r.try_get("u_country")?,
        );
    }};
}

/// Where pages are read from: HTTP, the hub's store in-process, or a native pool.
#[derive(Clone)]
enum Source {
    Api(Api, BodyParam),
    Store(hub_store::Store, BodyParam),
    Raw(RawPool),
}

impl Source {
    /// One page: how many posts, and the cursor of the next page.
    async fn page(
        &self,
        thread_id: i64,
        limit: u32,
        cursor: Option<&str>,
    ) -> anyhow::Result<(usize, Option<String>)> {
        use sqlx::Row;
        match self {
            Source::Api(api, body) => {
                let p = api.thread_posts(thread_id, limit, cursor, *body).await?;
                Ok((p.items.len(), p.next_cursor))
            }
            Source::Store(store, body) => {
                // What the handler asks the store: the page with the thread's visibility.
                let p = store
                    .thread_page(thread_id, cursor, i64::from(limit), body.bodies())
                    .await?
                    .page;
                Ok((p.items.len(), p.next_cursor))
            }
            Source::Raw(pool) => {
                let after = cursor.unwrap_or("");
                let lim = i64::from(limit);
                let mut last = String::new();
                let mut items = Vec::new();
                let more = match pool {
                    RawPool::Sqlite(p) => {
                        check_thread!(
                            sqlx::query(RAW_THREAD)
                                .bind(thread_id)
                                .fetch_optional(p)
                                .await?
                        );
                        let rows = sqlx::query(RAW_PAGE)
                            .bind(thread_id)
                            .bind(after)
                            .bind(lim + 1)
                            .fetch_all(p)
                            .await?;
                        for r in rows.iter().take(limit as usize) {
                            last = r.try_get("path")?;
                            items.push(decode_post!(r));
                        }
                        rows.len() > limit as usize
                    }
                    RawPool::Postgres(p) => {
                        check_thread!(
                            sqlx::query(RAW_THREAD)
                                .bind(thread_id)
                                .fetch_optional(p)
                                .await?
                        );
                        let rows = sqlx::query(RAW_PAGE)
                            .bind(thread_id)
                            .bind(after)
                            .bind(lim + 1)
                            .fetch_all(p)
                            .await?;
                        for r in rows.iter().take(limit as usize) {
                            last = r.try_get("path")?;
                            items.push(decode_post!(r));
                        }
                        rows.len() > limit as usize
                    }
                };
                Ok((items.len(), more.then_some(last)))
            }
        }
    }
}

/// A whole read from `source` as one operation, each page's latency into `pages_hist`.
fn read_op(
    source: Source,
    thread_id: i64,
    limit: u32,
    pages_per_read: usize,
    n: usize,
    pages_hist: Arc<Mutex<Histogram<u64>>>,
) -> Op {
    load::op(move |_, _| {
        let (source, ph) = (source.clone(), pages_hist.clone());
        Box::pin(async move {
            let mut cursor: Option<String> = None;
            let mut count = 0;
            let mut pages = 0;
            loop {
                let t = Instant::now();
                let (items, next) = source.page(thread_id, limit, cursor.as_deref()).await?;
                let d = t.elapsed();
                if let Ok(mut h) = ph.lock() {
                    stats::record(&mut h, d);
                }
                pages += 1;
                count += items;
                match next {
                    Some(c) if pages < pages_per_read => cursor = Some(c),
                    Some(_) => bail!("more pages than the verified read had"),
                    None => break,
                }
            }
            if count != n {
                bail!("a read returned {count} posts, not {n}");
            }
            Ok(())
        })
    })
}

async fn measure(
    s: &Settings,
    api: &Api,
    store: &hub_store::Store,
    url: &str,
    probe: &mut Probe,
) -> anyhow::Result<Measured> {
    let mut rng = StdRng::seed_from_u64(43);
    let bodies = Arc::new(text::pool(128, &mut rng));
    let t0 = Instant::now();
    let (thread_id, created) = build(api, s.posts, &bodies).await?;
    let build_seconds = t0.elapsed().as_secs_f64();
    let max_depth = created.values().map(|&(_, d)| d).max().unwrap_or(0);
    let expected = expected_order(&created);
    let (posts, pages_per_read) = read_all(api, thread_id, s.limit, s.body).await?;
    verify(&posts, &created, &expected).context("the thread read is wrong; bench aborted")?;
    eprintln!(
        "  thread {thread_id}: {} posts, depth up to {max_depth}, {pages_per_read} pages per read, order verified",
        posts.len()
    );

    let first_page_bytes = api.page_bytes(thread_id, s.limit, s.body).await?;
    let page_hist: Arc<Mutex<Histogram<u64>>> = Arc::new(Mutex::new(stats::histogram()?));
    let n = created.len();
    let mut rows = Vec::new();
    let mut raw_pool = None;
    for &tier in &s.tiers {
        let source = match tier {
            Tier::Api => Source::Api(api.clone(), s.body),
            Tier::Store => Source::Store(store.clone(), s.body),
            Tier::Raw => {
                let pool = RawPool::open(url, 16).await?;
                raw_pool = Some(pool.clone());
                Source::Raw(pool)
            }
        };
        let op = read_op(
            source,
            thread_id,
            s.limit,
            pages_per_read,
            n,
            page_hist.clone(),
        );
        for (i, &c) in s.concurrency.iter().enumerate() {
            if s.warmup > 0.0 {
                load::run(
                    c,
                    Duration::from_secs_f64(s.warmup),
                    s.max_ops,
                    900 + i as u64,
                    op.clone(),
                )
                .await?;
            }
            if let Ok(mut h) = page_hist.lock() {
                h.reset();
            }
            let before = probe.snapshot().await?;
            let p = load::run(
                c,
                Duration::from_secs_f64(s.seconds),
                s.max_ops,
                i as u64,
                op.clone(),
            )
            .await?;
            let after = probe.snapshot().await?;
            if let Some(e) = &p.first_error {
                bail!("{} reads failed ({} errors): {e}", tier.name(), p.errors);
            }
            let pages = {
                let h = page_hist
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned lock"))?;
                Summary::of(&h, 0, p.elapsed)
            };
            let reads = p.summary();
            eprintln!(
                "  {:<5} C={c:<3} {:>7.1} reads/s (p50 {:.2} ms, p99 {:.2} ms)  {:>7.1} pages/s (p50 {:.2} ms, p99 {:.2} ms)",
                tier.name(), reads.per_sec, reads.p50_ms, reads.p99_ms, pages.per_sec, pages.p50_ms, pages.p99_ms
            );
            rows.push(Row {
                tier,
                concurrency: c,
                cost: probe::cost(before, after, reads.ops),
                reads,
                pages,
            });
        }
    }
    if let Some(pool) = raw_pool {
        pool.close().await;
    }
    // Still right after the load.
    let (posts, _) = read_all(api, thread_id, s.limit, s.body).await?;
    verify(&posts, &created, &expected).context("the thread read is wrong after the load")?;
    Ok((
        posts.len(),
        pages_per_read,
        max_depth,
        build_seconds,
        first_page_bytes,
        rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64, parent: Option<i64>, depth: i64) -> PostLite {
        PostLite {
            id,
            parent_id: parent,
            depth,
        }
    }

    #[test]
    fn depth_first_oldest_sibling_first() {
        let mut c = Created::new();
        c.insert(1, (None, 0));
        c.insert(2, (Some(1), 1));
        c.insert(3, (None, 0));
        c.insert(4, (Some(1), 1));
        c.insert(5, (Some(2), 2));
        assert_eq!(expected_order(&c), vec![1, 2, 5, 4, 3]);
        let good = vec![
            p(1, None, 0),
            p(2, Some(1), 1),
            p(5, Some(2), 2),
            p(4, Some(1), 1),
            p(3, None, 0),
        ];
        assert!(verify(&good, &c, &expected_order(&c)).is_ok());
        let mut bad = good.clone();
        bad.swap(1, 2);
        assert!(verify(&bad, &c, &expected_order(&c)).is_err());
        let mut bad = good.clone();
        bad.swap(2, 3);
        assert!(verify(&bad, &c, &expected_order(&c)).is_err());
        let mut bad = good;
        bad[2].depth = 3;
        assert!(verify(&bad, &c, &expected_order(&c)).is_err());
    }
}
