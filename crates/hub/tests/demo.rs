//! `hub demo` and the Pol.is import against a real store: SQLite in a fresh temporary folder,
//! and PostgreSQL in a fresh database when `HUB_TEST_POSTGRES_URL` names a server (otherwise
//! the PostgreSQL variants say they were skipped).

use hub::demo::{self, DemoOptions, DemoReport};
use hub::polis;
use hub_domain::{search, PostStatus, ThreadSort, REGION_SLUGS};
use hub_store::{Store, ThreadQuery};
use sqlx::Connection;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database, removed by [`TestDb::cleanup`].
struct TestDb {
    store: Store,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

fn postgres_url() -> Option<String> {
    std::env::var("HUB_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn say(msg: &str) {
    // Past the harness's capture, so that a skipped backend is visible in `cargo test` output.
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// The server URL with another database name.
fn with_db_name(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A new folder under the system's temporary folder, named uniquely for this process and call.
fn unique_temp_dir(prefix: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

impl TestDb {
    async fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => {
                let dir = unique_temp_dir("hub-demo-test");
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("hub.db").display());
                let store = Store::connect(&url, &Default::default())
                    .await
                    .expect("connect");
                store.migrate().await.expect("migrate");
                TestDb {
                    store,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Kind::Postgres => {
                let admin = postgres_url().expect("HUB_TEST_POSTGRES_URL");
                let name = format!("hub_t_{:016x}", rand::random::<u64>());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("reach PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let _ = conn.close().await;
                let store = Store::connect(&with_db_name(&admin, &name), &Default::default())
                    .await
                    .expect("connect");
                store.migrate().await.expect("migrate");
                TestDb {
                    store,
                    dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    async fn cleanup(self) {
        self.store.close().await;
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// Runs `checks` on fresh databases, dropping them whether the checks pass or panic.
async fn with_dbs<F, Fut>(kind: Kind, count: usize, checks: F)
where
    F: FnOnce(Vec<Store>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if kind == Kind::Postgres && postgres_url().is_none() {
        say("NOTE: HUB_TEST_POSTGRES_URL is not set: the PostgreSQL variant was SKIPPED.");
        return;
    }
    let mut dbs = Vec::new();
    for _ in 0..count {
        dbs.push(TestDb::new(kind).await);
    }
    let stores = dbs.iter().map(|d| d.store.clone()).collect();
    let outcome = tokio::spawn(checks(stores)).await;
    for db in dbs {
        db.cleanup().await;
    }
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("checks did not finish: {e}");
    }
}

fn query(region: &str, q: Option<&str>, objective: Option<i64>) -> ThreadQuery {
    ThreadQuery {
        region: region.to_string(),
        objective,
        kind: None,
        q: q.map(str::to_string),
        sort: ThreadSort::New,
        cursor: None,
        limit: 200,
        viewer_id: None,
        moderator: false,
    }
}

/// Threads, published posts and participants per region, in region order.
async fn counts(store: &Store) -> Vec<(String, hub_domain::RegionCounts)> {
    let mut c = store.region_counts().await.expect("counts");
    c.sort_by(|a, b| a.0.cmp(&b.0));
    c
}

// ---------------------------------------------------------------------------------------------
// The generated corpus.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sqlite() {
    with_dbs(Kind::Sqlite, 2, demo_checks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_postgres() {
    with_dbs(Kind::Postgres, 2, demo_checks).await;
}

/// Counts that must not depend on ids or timing.
fn fingerprint(r: &DemoReport) -> (usize, usize, usize, usize, BTreeMap<String, usize>) {
    (
        r.users,
        r.threads,
        r.posts,
        r.endorsements,
        r.languages.clone(),
    )
}

async fn demo_checks(stores: Vec<Store>) {
    let (store, other) = (&stores[0], &stores[1]);
    let opts = DemoOptions {
        polis_dir: None,
        seed: 42,
        threads_per_region: 4,
    };
    let started = Instant::now();
    let first = demo::run(store, &opts).await.expect("demo");
    say(&format!(
        "demo ({}) in {:?}:\n{first}",
        store.backend().name(),
        started.elapsed()
    ));
    assert!(!first.already_loaded);
    assert_eq!(first.threads, 20);
    assert!(first.users > 20 && first.posts > first.threads && first.endorsements > 0);

    // Every region has its threads, with the region's languages, nested replies and
    // endorsements that add up.
    let mut languages: BTreeMap<String, usize> = BTreeMap::new();
    let mut detected: HashSet<String> = HashSet::new();
    let mut deepest = 0;
    let mut endorsements = 0;
    let mut posts = 0;
    let mut titles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for region in REGION_SLUGS {
        let page = store
            .list_threads(&query(region, None, None))
            .await
            .expect("list");
        assert_eq!(page.items.len(), 4, "{region}");
        for t in &page.items {
            assert!(!t.objectives.is_empty(), "{}", t.title);
            assert!(t.objectives.iter().all(|o| (1..=23).contains(o)));
            let ps = all_posts(store, t.id).await;
            assert_eq!(
                t.post_count,
                ps.len() as i64,
                "every demo post is published"
            );
            posts += ps.len();
            for p in &ps {
                assert_eq!(p.status, PostStatus::Published);
                assert_ne!(p.body.as_deref().unwrap_or(""), "");
                let l = p.language.clone().unwrap_or_default();
                if p.language_detected {
                    detected.insert(l.clone());
                }
                *languages.entry(l).or_insert(0) += 1;
                deepest = deepest.max(p.depth);
                endorsements += p.endorsements;
            }
            assert_eq!(
                t.endorsements,
                ps.iter().map(|p| p.endorsements).sum::<i64>(),
                "thread endorsements are the sum of its posts'"
            );
            // Dated over the eight weeks before the day of the run (a day of slack either
            // side, for a run across midnight), replies after what they answer.
            let now = chrono::Utc::now();
            let earliest = now - chrono::Duration::days(8 * 7 + 1);
            let at: BTreeMap<i64, _> = ps.iter().map(|p| (p.id, p.created_at)).collect();
            for p in &ps {
                assert!(
                    p.created_at > earliest && p.created_at < now,
                    "post {} dated {}",
                    p.id,
                    p.created_at
                );
                if let Some(parent) = p.parent_id.and_then(|id| at.get(&id)) {
                    assert!(p.created_at > *parent, "post {} before its parent", p.id);
                }
            }
            assert_eq!(Some(t.created_at), at.values().min().copied());
            assert_eq!(Some(t.last_activity_at), at.values().max().copied());
            titles
                .entry(region.to_string())
                .or_default()
                .push(t.title.clone());
        }
        // The objective filter finds the threads tagged with it.
        let tagged = page.items[0].objectives[0];
        let filtered = store
            .list_threads(&query(region, None, Some(tagged)))
            .await
            .expect("filter");
        assert!(filtered.items.iter().any(|t| t.id == page.items[0].id));
    }
    assert_eq!(posts, first.posts);
    assert_eq!(endorsements, first.endorsements as i64);
    assert_eq!(languages, first.languages);
    for l in ["en", "fr", "es", "ar", "zh", "ru", "pt"] {
        assert!(languages.contains_key(l), "no post in {l}: {languages:?}");
    }
    assert!(detected.contains("ar"), "Arabic detected: {detected:?}");
    assert!(detected.contains("zh"), "Chinese detected: {detected:?}");
    assert!(
        deepest >= 3,
        "replies nest several levels deep (deepest {deepest})"
    );

    // Search finds every thread by its title, in every script, and nothing by a word the
    // corpus does not use.
    let mut scripts = HashSet::new();
    for region in REGION_SLUGS {
        let page = store
            .list_threads(&query(region, None, None))
            .await
            .expect("list");
        for t in &page.items {
            let found = store
                .list_threads(&query(region, Some(&t.title), None))
                .await
                .expect("search");
            assert!(
                found.items.iter().any(|x| x.id == t.id),
                "{region}: {}",
                t.title
            );
            if let Some(id) = t.opening_post_id {
                let opening = store.post(id).await.expect("opening post");
                scripts.insert(opening.language.unwrap_or_default());
            }
        }
        let none = store
            .list_threads(&query(region, Some("Klimaticket"), None))
            .await
            .expect("search");
        assert!(none.items.is_empty(), "{region}");
    }
    assert!(
        scripts.contains("ar") && scripts.contains("zh") && scripts.contains("ru"),
        "{scripts:?}"
    );

    // A second run finds the corpus and writes nothing.
    let counts_before = counts(store).await;
    let second = demo::run(store, &opts).await.expect("second demo");
    assert!(second.already_loaded, "{second}");
    assert_eq!((second.users, second.threads, second.posts), (0, 0, 0));
    assert_eq!(counts(store).await, counts_before);

    // The same seed on another database gives the same corpus.
    let again = demo::run(other, &opts)
        .await
        .expect("demo on a second database");
    assert_eq!(fingerprint(&again), fingerprint(&first));
    for region in REGION_SLUGS {
        let page = other
            .list_threads(&query(region, None, None))
            .await
            .expect("list");
        let mut a: Vec<String> = page.items.iter().map(|t| t.title.clone()).collect();
        let mut b = titles.get(region).cloned().unwrap_or_default();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{region}");
    }
}

// ---------------------------------------------------------------------------------------------
// The Pol.is import.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polis_sqlite() {
    with_dbs(Kind::Sqlite, 1, polis_checks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polis_postgres() {
    with_dbs(Kind::Postgres, 1, polis_checks).await;
}

mod common;
use common::{all_posts, polis_dir};

/// What the test reads from a `comments.csv` by itself, to compare with the import.
#[derive(Debug, Default)]
struct Expected {
    rows: usize,
    published: usize,
    pending: usize,
    hidden: usize,
    endorsements: i64,
    /// (moderated, body)
    comments: Vec<(i64, String)>,
    /// The comments' `timestamp`s (epoch ms), sorted.
    times: Vec<i64>,
}

fn read_expected(dir: &Path) -> Expected {
    let mut reader = csv::Reader::from_path(dir.join("comments.csv")).expect("comments.csv");
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (m, a, b) = (col("moderated"), col("agrees"), col("comment-body"));
    let ts = col("timestamp");
    let mut e = Expected::default();
    for record in reader.records() {
        let record = record.expect("record");
        let moderated: i64 = record[m].parse().expect("moderated");
        let agrees: i64 = record[a].parse().expect("agrees");
        e.rows += 1;
        match moderated {
            1 => {
                e.published += 1;
                // ceil(sqrt(agrees)), at most the voter pool.
                let mut r = 0i64;
                while r * r < agrees {
                    r += 1;
                }
                e.endorsements += r.min(polis::VOTER_POOL as i64);
            }
            -1 => e.hidden += 1,
            _ => e.pending += 1,
        }
        e.comments.push((moderated, record[b].to_string()));
        e.times.push(record[ts].parse().expect("timestamp"));
    }
    e.times.sort_unstable();
    e
}

/// Whether a published post (or the opening post) of the thread holds all the query's terms,
/// as the store's search decides it.
fn searchable(texts: &[String], q: &str) -> bool {
    let terms = search::query_terms(q);
    texts.iter().any(|t| {
        let index: HashSet<String> = search::index_text(t)
            .split(' ')
            .map(str::to_string)
            .collect();
        terms.iter().all(|term| index.contains(term))
    })
}

async fn polis_checks(stores: Vec<Store>) {
    common::require_polis();
    let store = &stores[0];
    let dir = polis_dir();
    assert!(
        dir.join("brexit-consensus/comments.csv").is_file(),
        "the Pol.is data should be at {} (the repository's data/polis)",
        dir.display()
    );
    let started = Instant::now();
    let report = demo::run(
        store,
        &DemoOptions {
            polis_dir: Some(dir.clone()),
            seed: 1,
            threads_per_region: 0,
        },
    )
    .await
    .expect("demo with Pol.is import");
    let took = started.elapsed();
    say(&format!(
        "Pol.is import ({}) in {took:?}:\n{report}",
        store.backend().name()
    ));
    let polis = report.polis.expect("Pol.is report");
    assert_eq!(polis.conversations.len(), 3);

    let mut threads = BTreeMap::new();
    for (folder, rows, region, lang) in [
        (
            "austria-climate.5tzfrp5eaa.2022-07-07",
            2138,
            "europe",
            "de",
        ),
        ("brexit-consensus", 50, "europe", "en"),
        ("vtaiwan.uberx", 197, "asia-pacific", "zh-Hant"),
    ] {
        let folder_dir = dir.join(folder);
        let expected = read_expected(&folder_dir);
        assert_eq!(expected.rows, rows, "{folder} comment rows");
        let c = polis
            .conversations
            .iter()
            .find(|c| c.folder == folder)
            .expect(folder);
        assert_eq!((c.comments, c.posts_created), (rows, rows), "{folder}");
        assert_eq!(
            (c.published, c.pending, c.hidden),
            (expected.published, expected.pending, expected.hidden),
            "{folder} moderation mapping"
        );
        assert_eq!(c.region, region);
        assert_eq!(c.endorsements as i64, expected.endorsements, "{folder}");
        assert_eq!(c.endorsements_added, c.endorsements, "{folder}");

        // What the store holds, independently of the report.
        let thread = store.thread(c.thread_id).await.expect("thread");
        assert_eq!(thread.region, region);
        assert!(
            thread.objectives.is_empty(),
            "Pol.is comments tag no objective"
        );
        let posts = all_posts(store, c.thread_id).await;
        let opening = posts
            .iter()
            .find(|p| Some(p.id) == thread.opening_post_id)
            .expect("opening post");
        let attribution =
            std::fs::read_to_string(folder_dir.join("ATTRIBUTION.txt")).expect("ATTRIBUTION.txt");
        let body = opening.body.clone().unwrap_or_default();
        assert!(
            body.contains(attribution.trim_end()),
            "{folder}: the attribution statement is kept verbatim in:\n{body}"
        );
        assert!(body.contains("CC BY 4.0") && body.contains("Computational Democracy"));
        let replies: Vec<_> = posts.iter().filter(|p| p.id != opening.id).collect();
        assert_eq!(replies.len(), rows, "{folder}");
        let count = |s: PostStatus| replies.iter().filter(|p| p.status == s).count();
        assert_eq!(
            count(PostStatus::Hidden),
            expected.hidden,
            "{folder} hidden"
        );
        assert_eq!(
            count(PostStatus::Pending),
            expected.pending,
            "{folder} pending"
        );
        assert_eq!(count(PostStatus::Published), expected.published);
        assert_eq!(
            thread.post_count,
            expected.published as i64 + 1,
            "{folder}: only published posts count"
        );
        assert_eq!(
            replies.iter().map(|p| p.endorsements).sum::<i64>(),
            expected.endorsements
        );
        assert!(replies.iter().all(|p| p.objectives.is_empty()));
        // Each comment is dated by its own timestamp, the opening post by the first, and the
        // thread spans them.
        let mut times: Vec<i64> = replies
            .iter()
            .map(|p| p.created_at.timestamp_millis())
            .collect();
        times.sort_unstable();
        assert_eq!(times, expected.times, "{folder}: comment times");
        assert_eq!(
            Some(opening.created_at.timestamp_millis()),
            expected.times.first().copied()
        );
        assert_eq!(thread.created_at, opening.created_at);
        assert_eq!(
            Some(thread.last_activity_at.timestamp_millis()),
            expected.times.last().copied()
        );
        let in_lang = replies
            .iter()
            .filter(|p| p.language.as_deref() == Some(lang))
            .count();
        assert!(
            in_lang * 10 >= rows * 9,
            "{folder}: {in_lang} of {rows} in {lang}"
        );
        // Bodies are the comments as written, embedded newlines and quotes included.
        let bodies: HashSet<&str> = replies.iter().filter_map(|p| p.body.as_deref()).collect();
        for (_, b) in &expected.comments {
            assert!(
                bodies.contains(b.trim()),
                "{folder}: comment not kept verbatim: {b:?}"
            );
        }
        let mut searchable_texts: Vec<String> = vec![format!("{} {body}", thread.title)];
        searchable_texts.extend(
            replies
                .iter()
                .filter(|p| p.status == PostStatus::Published)
                .filter_map(|p| p.body.clone()),
        );
        threads.insert(folder, (c.thread_id, expected, searchable_texts));
    }
    let austria_lang_en = all_posts(store, threads["austria-climate.5tzfrp5eaa.2022-07-07"].0)
        .await
        .iter()
        .filter(|p| p.language.as_deref() == Some("en") && p.language_detected)
        .count();
    assert!(
        austria_lang_en >= 1,
        "the English comment in the Austrian set is detected"
    );

    // Search: found by a word of an accepted comment; not by a word of no comment; not by a
    // word that only rejected (hidden) comments contain.
    let cases = [
        ("vtaiwan.uberx", "asia-pacific", "計程車", "匯款", "上班族"),
        (
            "austria-climate.5tzfrp5eaa.2022-07-07",
            "europe",
            "Klimaticket",
            "Rücküberweisungen",
            "Kennzeichenpflicht",
        ),
    ];
    for (folder, region, present, absent, hidden_only) in cases {
        let (thread_id, expected, texts) = &threads[folder];
        assert!(
            expected
                .comments
                .iter()
                .any(|(m, b)| *m == 1 && b.contains(present)),
            "{present} is in an accepted comment"
        );
        assert!(
            !expected.comments.iter().any(|(_, b)| b.contains(absent))
                && !searchable(texts, absent),
            "{absent} is in no comment"
        );
        assert!(
            expected
                .comments
                .iter()
                .any(|(m, b)| *m == -1 && b.contains(hidden_only))
                && !searchable(texts, hidden_only),
            "{hidden_only} is only in rejected comments"
        );
        let ids = |page: hub_store::Page<hub_domain::Thread>| -> Vec<i64> {
            page.items.iter().map(|t| t.id).collect()
        };
        let found = ids(store
            .list_threads(&query(region, Some(present), None))
            .await
            .expect("q"));
        assert_eq!(found, vec![*thread_id], "{present} finds {folder} only");
        let found = ids(store
            .list_threads(&query(region, Some(absent), None))
            .await
            .expect("q"));
        assert!(found.is_empty(), "{absent} finds nothing");
        let found = ids(store
            .list_threads(&query(region, Some(hidden_only), None))
            .await
            .expect("q"));
        assert!(
            !found.contains(thread_id),
            "{hidden_only}: hidden comments are not searchable"
        );
    }

    // A second import writes nothing.
    let counts_before = counts(store).await;
    let started = Instant::now();
    let again = polis::import_dir(store, &dir).await.expect("second import");
    say(&format!(
        "second Pol.is import ({}) in {:?}",
        store.backend().name(),
        started.elapsed()
    ));
    for c in &again.conversations {
        assert!(c.already_imported(), "{c:?}");
    }
    assert_eq!(again.voters_created, 0);
    assert_eq!(counts(store).await, counts_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polis_resume_sqlite() {
    with_dbs(Kind::Sqlite, 1, resume_checks).await;
}

/// An import cut short (here: a copy of the conversation with only its first 20 comments) is
/// completed by the next run, without duplicating what is there.
async fn resume_checks(stores: Vec<Store>) {
    common::require_polis();
    let store = &stores[0];
    let src = polis_dir().join("brexit-consensus");
    let tmp = unique_temp_dir("hub-polis-resume");
    let partial = tmp.join("partial/brexit-consensus");
    let full = tmp.join("full/brexit-consensus");
    for d in [&partial, &full] {
        std::fs::create_dir_all(d).expect("temp dir");
        for f in ["summary.csv", "ATTRIBUTION.txt", "comments.csv"] {
            std::fs::copy(src.join(f), d.join(f)).expect("copy");
        }
    }
    let mut reader = csv::Reader::from_path(src.join("comments.csv")).expect("comments.csv");
    let mut writer = csv::Writer::from_path(partial.join("comments.csv")).expect("write");
    writer
        .write_record(reader.headers().expect("headers"))
        .expect("header");
    for record in reader.records().take(20) {
        writer
            .write_record(&record.expect("record"))
            .expect("record");
    }
    writer.flush().expect("flush");
    drop(writer);

    let first = polis::import_dir(store, &tmp.join("partial"))
        .await
        .expect("partial import");
    let c1 = &first.conversations[0];
    assert!(c1.thread_created);
    assert_eq!(c1.posts_created, 20);
    let second = polis::import_dir(store, &tmp.join("full"))
        .await
        .expect("full import");
    let c2 = &second.conversations[0];
    assert!(
        !c2.thread_created,
        "the thread of the first run is found again"
    );
    assert_eq!(c2.thread_id, c1.thread_id);
    assert_eq!(c2.posts_created, 30);
    assert_eq!(c2.endorsements_added, c2.endorsements - c1.endorsements);
    let expected = read_expected(&src);
    let posts = all_posts(store, c1.thread_id).await;
    assert_eq!(posts.len(), 51);
    assert_eq!(
        posts.iter().map(|p| p.endorsements).sum::<i64>(),
        expected.endorsements
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
