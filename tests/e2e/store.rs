//! The storage suite: the `Store` API straight, on SQLite and on PostgreSQL.
#![forbid(unsafe_code)]

use hub_domain::{AuthorRef, PostKind, PostStatus, Role, RoleKind, StakeholderGroup};
use hub_store::{Created, NewPost, NewThread, NewUser, PostChecks, Store, StoreError};
use hub_tests::{both_backends, Db, TestDb};
use std::collections::BTreeSet;

both_backends!(
    migrations_are_idempotent_and_accounts_unique,
    roles_and_sessions,
    replies_nest_to_the_depth_limit,
    concurrent_writers_leave_a_gapless_log_in_commit_order,
    double_submissions_are_refused_in_the_write,
    posts_written_together_each_get_their_own_answer,
    a_burst_of_the_same_post_is_written_once,
    search_finds_every_post_written_before_it_and_no_removed_one,
    public_pages_are_the_posts_redacted_for_everyone,
    an_edit_racing_a_removal_never_brings_the_text_back,
    an_import_writes_into_a_thread_withheld_from_its_authors,
);

async fn user(store: &Store, name: &str) -> hub_domain::User {
    store
        .create_user(&NewUser {
            email: format!("{name}@example.org"),
            password_hash: "$argon2id$not-used-here".into(),
            display_name: name.into(),
            organisation: Some("Org".into()),
            stakeholder_group: StakeholderGroup::MigrantOrg,
            country: Some("SN".into()),
            language: Some("fr".into()),
            attribution: true,
        })
        .await
        .expect("create user")
}

fn author(u: &hub_domain::User) -> AuthorRef {
    AuthorRef {
        id: u.id,
        display_name: u.display_name.clone(),
        organisation: u.organisation.clone(),
        stakeholder_group: u.stakeholder_group,
        country: u.country.clone(),
    }
}

fn post(a: &AuthorRef, parent: Option<i64>, body: &str) -> NewPost {
    NewPost {
        author: a.clone(),
        parent_id: parent,
        kind: PostKind::Comment,
        body: body.into(),
        body_html: format!("<p>{body}</p>"),
        search_terms: hub_domain::search::index_text(body),
        language: Some("en".into()),
        language_detected: false,
        objectives: vec![7],
        aspects: vec![],
        status: PostStatus::Published,
    }
}

async fn thread(store: &Store, a: &AuthorRef) -> (i64, i64) {
    match store
        .create_thread(
            &NewThread {
                region: "africa".into(),
                title: "A thread".into(),
                opening: post(a, None, "opening"),
            },
            None,
        )
        .await
        .expect("create thread")
    {
        Created::New((t, p)) => (t.id, p.id),
        Created::Replayed(_) => panic!("no key was given"),
    }
}

async fn migrations_are_idempotent_and_accounts_unique(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    store.migrate().await.expect("second migrate is a no-op");
    let a = user(&store, "awa").await;
    assert_eq!(
        a.roles,
        vec![Role {
            role: RoleKind::Stakeholder,
            region: None
        }]
    );
    let again = store
        .create_user(&NewUser {
            email: "awa@example.org".into(),
            password_hash: "x".into(),
            display_name: "Other".into(),
            organisation: None,
            stakeholder_group: StakeholderGroup::Other,
            country: None,
            language: None,
            attribution: false,
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let (found, hash) = store
        .user_by_email("awa@example.org")
        .await
        .expect("query")
        .expect("found");
    assert_eq!((found.id, hash.as_str()), (a.id, "$argon2id$not-used-here"));
    assert!(store
        .user_by_email("nobody@example.org")
        .await
        .expect("query")
        .is_none());
    assert!(matches!(
        store.user(a.id + 1000).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
    tdb.cleanup().await;
}

async fn roles_and_sessions(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = user(&store, "bo").await;
    let europe = Role {
        role: RoleKind::Moderator,
        region: Some("europe".into()),
    };
    store.grant_role(a.id, &europe).await.expect("grant");
    store
        .grant_role(a.id, &europe)
        .await
        .expect("granting twice is harmless");
    let u = store.user(a.id).await.expect("user");
    assert_eq!(u.roles.iter().filter(|r| **r == europe).count(), 1);
    assert!(store.revoke_role(a.id, &europe).await.expect("revoke"));
    assert!(!store
        .revoke_role(a.id, &europe)
        .await
        .expect("revoke again"));
    assert!(matches!(
        store.grant_role(a.id + 99, &europe).await,
        Err(StoreError::NotFound(_))
    ));

    let future = hub_store::now_micros() + 3_600_000_000;
    store
        .create_session("live", a.id, future)
        .await
        .expect("session");
    store
        .create_session("stale", a.id, hub_store::now_micros() - 1)
        .await
        .expect("session");
    assert_eq!(
        store.session_user("live").await.expect("q").map(|u| u.id),
        Some(a.id)
    );
    assert!(
        store.session_user("stale").await.expect("q").is_none(),
        "expired sessions do not authenticate"
    );
    assert!(store.delete_session("live").await.expect("delete"));
    assert!(store.session_user("live").await.expect("q").is_none());
    store.close().await;
    tdb.cleanup().await;
}

async fn replies_nest_to_the_depth_limit(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "cy").await);
    let (t, root) = thread(&store, &a).await;
    let mut parent = root;
    for depth in 1..=hub_domain::validate::DEPTH_MAX {
        match store
            .create_post(t, &post(&a, Some(parent), "deeper"), None)
            .await
            .expect("reply")
        {
            Created::New(p) => {
                assert_eq!(p.depth, depth);
                parent = p.id;
            }
            Created::Replayed(_) => panic!("no key"),
        }
    }
    let too_deep = store
        .create_post(t, &post(&a, Some(parent), "too deep"), None)
        .await;
    assert!(
        matches!(
            too_deep,
            Err(StoreError::Invalid {
                field: "parent_id",
                ..
            })
        ),
        "{too_deep:?}"
    );
    let page = store.thread_posts(t, None, 200).await.expect("posts");
    let depths: Vec<i64> = page.items.iter().map(|p| p.depth).collect();
    assert_eq!(
        depths,
        (0..=hub_domain::validate::DEPTH_MAX).collect::<Vec<_>>()
    );
    store.close().await;
    tdb.cleanup().await;
}

/// 32 writers post concurrently while a follower tails the log the way a subscriber resumes
/// (`events_after(last seen)`). The follower must see every event exactly once, in `seq` order,
/// with no seq ever appearing after a higher one was already delivered: seq order is commit
/// order. On PostgreSQL this exercises the relay, which numbers events only after commit.
async fn concurrent_writers_leave_a_gapless_log_in_commit_order(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "dee").await);
    let (t, root) = thread(&store, &a).await;
    const WRITERS: usize = 32;
    const EACH: usize = 15;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = {
        let store = store.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut last = 0;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                let batch = store.events_after(last, 500).await.expect("tail");
                for e in &batch {
                    assert!(e.seq > last, "seq {} after {last}", e.seq);
                    last = e.seq;
                    seen.push(e.seq);
                }
                if (done && batch.is_empty()) || std::time::Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            seen
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let a = a.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    store
                        .create_post(
                            t,
                            &post(&a, Some(root), &format!("writer {w} post {i}")),
                            None,
                        )
                        .await
                        .expect("post");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    // Let the relay number the last commits, then let the follower drain.
    let head = store.sequence_events().await.expect("relay");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = follower.await.expect("follower");
    let total = 2 + WRITERS * EACH; // thread.created + opening post.created + the replies
    assert_eq!(seen.len(), total, "every event delivered");
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), total, "no event delivered twice");
    assert_eq!(*seen.last().unwrap_or(&0), head);
    // The numbers themselves are dense: 1..=total.
    assert_eq!(
        seen,
        (1..=i64::try_from(total).unwrap_or(0)).collect::<Vec<_>>()
    );
    store.close().await;
    tdb.cleanup().await;
}

/// With a duplicate window, the same text from the same author in the same thread is refused
/// (in the write's transaction); in another thread, from another author, or without the check
/// (a client's Idempotency-Key dedupes its own retries) it is a new post. The session lookup
/// carries the suspension in force.
async fn double_submissions_are_refused_in_the_write(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "ama").await);
    let b = author(&user(&store, "bea").await);
    let (t1, _) = thread(&store, &a).await;
    let (t2, _) = thread(&store, &a).await;
    let window = PostChecks {
        duplicate_window_micros: Some(600_000_000),
        ..Default::default()
    };
    let first = store
        .create_post_checked(t1, &post(&a, None, "same words"), None, &window)
        .await
        .expect("first");
    assert!(matches!(first, Created::New(_)));
    let again = store
        .create_post_checked(t1, &post(&a, None, "  same words \n"), None, &window)
        .await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(m)) if m.contains("same text")),
        "{again:?}"
    );
    for (t, who) in [(t2, &a), (t1, &b)] {
        assert!(matches!(
            store
                .create_post_checked(t, &post(who, None, "same words"), None, &window)
                .await,
            Ok(Created::New(_))
        ));
    }
    assert!(matches!(
        store
            .create_post(t1, &post(&a, None, "same words"), None)
            .await,
        Ok(Created::New(_))
    ));
    // An edited post is found by its new text.
    let Created::New(edited) = store
        .create_post_checked(t2, &post(&b, None, "first words"), None, &window)
        .await
        .expect("post")
    else {
        panic!("no key was given");
    };
    store
        .edit_post(
            edited.id,
            &hub_store::PostEdit {
                editor_id: b.id,
                body: Some((
                    "edited words".into(),
                    "<p>edited words</p>".into(),
                    "edited words".into(),
                )),
                kind: None,
                objectives: None,
                aspects: None,
                language: None,
                review: false,
            },
        )
        .await
        .expect("edit");
    assert!(matches!(
        store
            .create_post_checked(t2, &post(&b, None, "edited words"), None, &window)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_post_checked(t2, &post(&b, None, "first words"), None, &window)
            .await,
        Ok(Created::New(_))
    ));
    // A missing thread is still a 404, a parent elsewhere still refused.
    assert!(matches!(
        store
            .create_post_checked(t1 + 99, &post(&a, None, "x"), None, &window)
            .await,
        Err(StoreError::NotFound("thread"))
    ));
    let (_, root2) = thread(&store, &b).await;
    assert!(matches!(
        store
            .create_post_checked(t1, &post(&a, Some(root2), "y"), None, &window)
            .await,
        Err(StoreError::Invalid {
            field: "parent_id",
            ..
        })
    ));

    store
        .create_session("tok", a.id, hub_store::now_micros() + 3_600_000_000)
        .await
        .expect("session");
    let (u, suspension) = store
        .session("tok")
        .await
        .expect("session")
        .expect("live session");
    assert_eq!((u.id, suspension.is_none()), (a.id, true));
    for region in ["europe", "africa"] {
        let role = Role {
            role: RoleKind::Moderator,
            region: Some(region.into()),
        };
        store.grant_role(a.id, &role).await.expect("grant");
    }
    let until = hub_store::now_micros() + 7_200_000_000;
    store
        .suspend(a.id, until, "spam", b.id, None)
        .await
        .expect("suspend");
    let (u, suspension) = store
        .session("tok")
        .await
        .expect("session")
        .expect("live session");
    assert_eq!(u.roles, store.user(a.id).await.expect("user").roles);
    assert_eq!(u.roles.len(), 3, "{:?}", u.roles);
    let s = suspension.expect("suspended");
    assert_eq!(
        (s.user_id, s.until.timestamp_micros(), s.reason.as_str()),
        (a.id, until, "spam")
    );
    store.close().await;
    tdb.cleanup().await;
}

/// Posts sent at the same moment (they share a group commit) each get the
/// answer they would get alone: the valid ones are written, numbered and counted; a duplicate
/// of another post of the same moment, a post to a locked or missing thread and one under a
/// parent elsewhere are refused and refuse no other; then a post by an author who does not
/// exist (the batch's statement fails, its posts are written one by one) fails alone.
async fn posts_written_together_each_get_their_own_answer(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "ama").await);
    let (t, root) = thread(&store, &a).await;
    let (locked, _) = thread(&store, &a).await;
    let (_, elsewhere) = thread(&store, &a).await;
    sqlx::query("UPDATE threads SET locked = 1 WHERE id = $1")
        .bind(locked)
        .execute(store.pool())
        .await
        .expect("lock");
    let head = store.sequence_events().await.expect("relay");
    let mut ghost = a.clone();
    ghost.id += 1000;
    // (thread, post, what it must get): each round sent together, then each post of it alone
    // (a post alone is written by other statements on SQLite: `BEGIN` with the checks, the
    // insert with `COMMIT`, rolled back on a refusal or an error), with other texts.
    let cases = |words: &str| -> Vec<Vec<(i64, NewPost, &'static str)>> {
        let w = |s: &str| format!("{s} {words}");
        vec![
            vec![
                (t, post(&a, None, &w("valid one")), "new"),
                (t, post(&a, Some(root), &w("twice")), "new-or-duplicate"),
                (
                    t,
                    post(&a, None, &format!(" {}\n", w("twice"))),
                    "new-or-duplicate",
                ),
                (locked, post(&a, None, &w("to a locked thread")), "locked"),
                (t + 1000, post(&a, None, &w("to no thread")), "no thread"),
                (
                    t,
                    post(&a, Some(elsewhere), &w("parent elsewhere")),
                    "bad parent",
                ),
                (t, post(&a, Some(root), &w("valid two")), "new"),
            ],
            vec![
                (t, post(&a, None, &w("valid three")), "new"),
                (t, post(&ghost, None, &w("by nobody")), "db error"),
                (t, post(&a, Some(root), &w("valid four")), "new"),
            ],
        ]
    };
    let together = cases("together");
    let alone: Vec<Vec<_>> = cases("alone")
        .into_iter()
        .flatten()
        .map(|c| vec![c])
        .collect();
    let rounds: Vec<Vec<(i64, NewPost, &str)>> = together.into_iter().chain(alone).collect();
    let window = PostChecks {
        duplicate_window_micros: Some(600_000_000),
        ..Default::default()
    };
    let mut created = Vec::new();
    let mut answered = std::collections::BTreeMap::new();
    let mut twice = 0;
    for cases in rounds {
        let tasks: Vec<_> = cases
            .iter()
            .map(|(thread_id, p, _)| {
                let (store, p, window, thread_id) =
                    (store.clone(), p.clone(), window.clone(), *thread_id);
                tokio::spawn(async move {
                    store
                        .create_post_checked(thread_id, &p, None, &window)
                        .await
                })
            })
            .collect();
        for ((_, _, want), task) in cases.iter().zip(tasks) {
            let got = task.await.expect("task");
            if let Ok(Created::New(p)) = &got {
                answered.insert(p.id, serde_json::to_string(p).expect("json"));
            }
            match (*want, &got) {
                ("new", Ok(Created::New(p))) => created.push(p.id),
                ("new-or-duplicate", Ok(Created::New(p))) => {
                    created.push(p.id);
                    twice += 1;
                }
                ("new-or-duplicate", Err(StoreError::Conflict(m))) if m.contains("same text") => {}
                ("locked", Err(StoreError::Conflict(m))) if m.contains("locked") => {}
                ("no thread", Err(StoreError::NotFound("thread"))) => {}
                (
                    "bad parent",
                    Err(StoreError::Invalid {
                        field: "parent_id", ..
                    }),
                ) => {}
                ("db error", Err(StoreError::Db(_))) => {}
                _ => panic!("{want}: got {got:?}"),
            }
        }
    }
    assert_eq!(twice, 2, "one of the same text is written, each time");
    assert_eq!(created.len(), 10);
    // Each written post is stored, counted once, and has one event, numbered after the head
    // with no gap.
    let after = store.sequence_events().await.expect("relay");
    let events = store.events_after(head, 100).await.expect("events");
    let mut numbered: Vec<i64> = events.iter().filter_map(|e| e.post_id).collect();
    numbered.sort_unstable();
    created.sort_unstable();
    assert_eq!(numbered, created);
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        ((head + 1)..=after).collect::<Vec<_>>()
    );
    // Each event carries the post as its writer was answered, to the byte (on PostgreSQL a
    // batch's statement fills in the id, region, parent and depth).
    for e in &events {
        let id = e.post_id.expect("a post's event");
        assert_eq!(Some(&e.payload), answered.get(&id), "event of post {id}");
    }
    for id in &created {
        assert_eq!(store.post(*id).await.expect("stored").thread_id, t);
    }
    let count: i64 = sqlx::query_scalar("SELECT post_count FROM threads WHERE id = $1")
        .bind(t)
        .fetch_one(store.pool())
        .await
        .expect("count");
    // The opening post and the ten replies. The post by nobody makes its batch's statement fail
    // in each of its two rounds, so it and the posts of its batch (at most the round's other
    // two) are sent back to be written alone, and no other post is.
    assert_eq!(count, 11);
    let sent_back = store.posts_written_alone();
    assert!((2..=4).contains(&sent_back), "{sent_back} sent back");
    store.close().await;
    tdb.cleanup().await;
}

/// The same post sent many times at once among other posts (a double-clicking client on a
/// busy hub) is written once: the others are refused as duplicates, whichever batch each
/// lands in (the same batch or a later one); the other posts are all written.
async fn a_burst_of_the_same_post_is_written_once(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "ama").await);
    let b = author(&user(&store, "bea").await);
    let (t, _) = thread(&store, &a).await;
    let window = PostChecks {
        duplicate_window_micros: Some(600_000_000),
        ..Default::default()
    };
    let rounds = 6;
    let per_round = 40;
    for round in 0..rounds {
        let mut tasks = Vec::new();
        for i in 0..per_round {
            for (who, body) in [
                (&a, format!("the same words, round {round}")),
                (&b, format!("other words {round}-{i}")),
            ] {
                let (store, p, window) = (store.clone(), post(who, None, &body), window.clone());
                tasks.push(tokio::spawn(async move {
                    store.create_post_checked(t, &p, None, &window).await
                }));
            }
            // Every other round is spread over several batches; the others come at once (on
            // PostgreSQL batches of up to 16 posts and larger ones are written by different
            // statements).
            if round % 2 == 1 && i % 8 == 7 {
                tokio::time::sleep(std::time::Duration::from_micros(300)).await;
            }
        }
        let (mut same, mut other) = (0, 0);
        for (n, task) in tasks.into_iter().enumerate() {
            match (n % 2, task.await.expect("task")) {
                (0, Ok(Created::New(_))) => same += 1,
                (0, Err(StoreError::Conflict(m))) if m.contains("same text") => {}
                (1, Ok(Created::New(_))) => other += 1,
                (_, got) => panic!("round {round}, post {n}: {got:?}"),
            }
        }
        assert_eq!((same, other), (1, per_round), "round {round}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM posts WHERE thread_id = $1")
        .bind(t)
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(count, 1 + rounds * (1 + per_round));
    // Each written with its batch: no batch's statement failed.
    assert_eq!(store.posts_written_alone(), 0);
    store.close().await;
    tdb.cleanup().await;
}

/// The threads of Africa whose posts match `q`.
async fn found(store: &Store, q: &str) -> Vec<i64> {
    store
        .list_threads(&hub_store::ThreadQuery {
            region: "africa".into(),
            objective: None,
            kind: None,
            q: Some(q.into()),
            sort: hub_domain::ThreadSort::Activity,
            cursor: None,
            limit: 50,
            viewer_id: None,
            moderator: false,
        })
        .await
        .expect("search")
        .items
        .into_iter()
        .map(|t| t.id)
        .collect()
}

/// On SQLite new posts reach the full-text index a little after their commit, many at a time
/// (`search_pending`); a search still finds every post written before it, a removed post's
/// words are never found, and terms left waiting by a crash are indexed at the next start.
async fn search_finds_every_post_written_before_it_and_no_removed_one(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "amani").await);
    let (t, op) = thread(&store, &a).await;
    let mut last = op;
    for i in 0..40 {
        let body = format!("Seasonal workers need portable pensions, note {i}");
        match store
            .create_post(t, &post(&a, Some(last), &body), None)
            .await
        {
            Ok(Created::New(p)) => last = p.id,
            other => panic!("reply {i}: {other:?}"),
        }
    }
    // Written and searched at once: found.
    assert_eq!(found(&store, "pensions").await, vec![t]);
    let quokka = match store
        .create_post(t, &post(&a, Some(op), "The quokka clause"), None)
        .await
    {
        Ok(Created::New(p)) => p.id,
        other => panic!("{other:?}"),
    };
    assert_eq!(found(&store, "quokka").await, vec![t], "found at once");

    // Removed, whether or not it was indexed yet: never found again.
    let gone = match store
        .create_post(t, &post(&a, Some(op), "A narwhal remark to withdraw"), None)
        .await
    {
        Ok(Created::New(p)) => p.id,
        other => panic!("{other:?}"),
    };
    store.remove_post(gone, a.id, None).await.expect("remove");
    assert!(found(&store, "narwhal").await.is_empty(), "removed");
    store.close().await;

    if db == Db::Sqlite {
        // As if the process had died between a commit and the indexing of its post.
        let pool = sqlx::SqlitePool::connect(&tdb.url).await.expect("connect");
        sqlx::query("DELETE FROM post_search WHERE rowid = $1")
            .bind(quokka)
            .execute(&pool)
            .await
            .expect("unindex");
        sqlx::query("INSERT INTO search_pending (post_id, terms) VALUES ($1, 'quokka clause')")
            .bind(quokka)
            .execute(&pool)
            .await
            .expect("pending");
        pool.close().await;
        let store = tdb.store().await.expect("store again");
        // The indexer started with the store catches up by itself, before any search.
        let mut waiting = 1;
        for _ in 0..100 {
            waiting = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM search_pending")
                .fetch_one(store.pool())
                .await
                .expect("count");
            if waiting == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(waiting, 0, "indexed at start");
        let indexed = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM post_search WHERE post_search MATCH 'quokka'",
        )
        .fetch_one(store.pool())
        .await
        .expect("match");
        assert_eq!(indexed, 1);
        assert_eq!(found(&store, "quokka").await, vec![t]);
        store.close().await;
    }
    tdb.cleanup().await;
}

/// The public page as JSON (`public_thread_page`: on SQLite written by the database) is, field
/// for field and in tree order, the page read as posts and redacted for an anonymous reader,
/// with the same cursor and the same readers withheld from, for every kind of text and state: all
/// three choices of texts, pages cut by a cursor, pending, hidden and removed posts, a reason on
/// a published post, missing language, organisation and country, and instants with none, 3 or
/// 6 fractional digits.
async fn public_pages_are_the_posts_redacted_for_everyone(db: Db) {
    use hub_store::Bodies;
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "amani").await);
    let b = user(&store, "bo").await;
    let pool = store.pool();
    sqlx::query("UPDATE users SET organisation = NULL, country = NULL WHERE id = $1")
        .bind(b.id)
        .execute(pool)
        .await
        .expect("profile");
    let b = author(&store.user(b.id).await.expect("user"));
    let (t, op) = thread(&store, &a).await;
    let texts = [
        "Plain \"quoted\" and back\\slashed, a tab\there and a\u{1}control",
        "العمال المهاجرون يحتاجون إلى معاشات قابلة للنقل",
        "流动工人需要可携带的养老金 🌏 <script>alert(1)</script>",
        "Line one\nline two\r\n&amp; </p> \u{2028} \u{7f}",
        "Saisonarbeit: Rentenansprüche übertragen",
        "short",
    ];
    let mut ids = vec![op];
    let mut parent = op;
    // 24 posts in a deep tree, then more, at most two deep, pending posts among them: pages
    // of 500, 101 and 7.
    // A pending post takes replies from its author only (others cannot see it).
    let mut pending_by = std::collections::HashMap::new();
    for (i, text) in texts.iter().cycle().take(24 + 217).enumerate() {
        let mut who = if i % 3 == 0 { &b } else { &a };
        if i >= 24 {
            parent = if i % 2 == 0 {
                op
            } else {
                *ids.last().unwrap_or(&op)
            };
        }
        // Now and then a late reply to the opening post: tree order is not id order.
        let to = if i % 5 == 4 { op } else { parent };
        if let Some(&author) = pending_by.get(&to) {
            who = author;
        }
        let mut p = post(who, Some(to), text);
        p.objectives = vec![(i as i64 % 22) + 1, 23];
        p.aspects = if i % 2 == 0 {
            vec![hub_domain::Aspect::Practice, hub_domain::Aspect::Gap]
        } else {
            vec![]
        };
        p.language = (i % 4 != 0).then(|| "fr".to_string());
        p.language_detected = i % 5 == 0;
        p.status = if i % 7 == 3 {
            PostStatus::Pending
        } else {
            PostStatus::Published
        };
        p.kind = [
            PostKind::Comment,
            PostKind::Recommendation,
            PostKind::Report,
        ][i % 3];
        let id = match store.create_post(t, &p, None).await {
            Ok(Created::New(p)) => p.id,
            other => panic!("post {i}: {other:?}"),
        };
        if p.status == PostStatus::Pending {
            pending_by.insert(id, who);
        }
        if i % 4 == 1 && i % 5 != 4 {
            parent = id;
        }
        ids.push(id);
    }
    store
        .decide_post(ids[5], a.id, hub_domain::PostAction::Hide, "Off topic")
        .await
        .expect("hide");
    store
        .remove_post(ids[9], a.id, Some("Spam"))
        .await
        .expect("remove");
    store
        .edit_post(
            ids[2],
            &hub_store::PostEdit {
                editor_id: a.id,
                body: Some((
                    "Edited <b>".into(),
                    "<p>Edited &lt;b&gt;</p>".into(),
                    "edited".into(),
                )),
                kind: None,
                objectives: None,
                aspects: None,
                language: None,
                review: false,
            },
        )
        .await
        .expect("edit");
    // A reason on a published post, and instants on the second, the millisecond, the
    // microsecond.
    sqlx::query("UPDATE posts SET status_reason = 'Restored after review' WHERE id = $1")
        .bind(ids[6])
        .execute(pool)
        .await
        .expect("reason");
    for (id, at) in [
        (ids[1], 1_767_225_600_000_000_i64),
        (ids[3], 1_767_225_600_120_000),
        (ids[7], 1_767_225_601_000_001),
        (ids[8], 1_767_225_602_123_456),
    ] {
        sqlx::query("UPDATE posts SET created_at = $1, edited_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .expect("instant");
    }

    let anyone = hub_domain::Viewer::default();
    for bodies in [Bodies::Both, Bodies::Markdown, Bodies::Html] {
        for limit in [500, 101, 7] {
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let full = store
                    .thread_page(t, cursor.as_deref(), limit, bodies)
                    .await
                    .expect("page");
                let public = store
                    .public_thread_page(t, cursor.as_deref(), limit, bodies)
                    .await
                    .expect("public page");
                let expected: Vec<hub_domain::Post> = full
                    .page
                    .items
                    .iter()
                    .cloned()
                    .filter_map(|p| p.redacted_for(&anyone))
                    .collect();
                let got: serde_json::Value =
                    serde_json::from_slice(&public.items).expect("the page is JSON");
                assert_eq!(
                    got,
                    serde_json::to_value(&expected).expect("json"),
                    "{bodies:?}, limit {limit}, page {pages}"
                );
                assert_eq!(public.next_cursor, full.page.next_cursor);
                let mut unpublished: Vec<(i64, String)> = full
                    .page
                    .items
                    .iter()
                    .filter(|p| p.status != PostStatus::Published)
                    .map(|p| (p.author.id, p.region.clone()))
                    .collect();
                let mut withheld = public.withheld_from.clone();
                unpublished.sort();
                withheld.sort();
                assert_eq!(withheld, unpublished, "who sees more");
                pages += 1;
                cursor = public.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            // The opening post and the 241 replies.
            assert_eq!(pages, (242 + limit - 1) / limit);
        }
    }
    // The instants as chrono writes them (checked against the expectation above too).
    let public = store
        .public_thread_page(t, None, 500, Bodies::Both)
        .await
        .expect("public page");
    let page: serde_json::Value = serde_json::from_slice(&public.items).expect("json");
    let at = |id: i64| {
        page.as_array()
            .and_then(|items| items.iter().find(|p| p["id"] == id))
            .map(|p| p["created_at"].clone())
    };
    assert_eq!(
        at(ids[1]),
        Some("2026-01-01T00:00:00Z".into()),
        "whole seconds"
    );
    assert_eq!(
        at(ids[3]),
        Some("2026-01-01T00:00:00.120Z".into()),
        "milliseconds"
    );
    assert_eq!(
        at(ids[7]),
        Some("2026-01-01T00:00:01.000001Z".into()),
        "microseconds"
    );
    assert_eq!(at(ids[8]), Some("2026-01-01T00:00:02.123456Z".into()));
    assert_eq!(at(ids[4]), None, "pending: not on the public page");
    // Redaction, checked apart from `Post::redacted_for` (which the comparison above uses).
    let post = |id: i64| {
        page.as_array()
            .and_then(|items| items.iter().find(|p| p["id"] == id))
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    };
    for (id, status) in [(ids[5], "hidden"), (ids[9], "removed")] {
        let p = post(id);
        assert_eq!(p["status"], status, "{p}");
        assert!(
            p["body"].is_null() && p["body_html"].is_null(),
            "{status}: {p}"
        );
        assert!(
            p.get("status_reason").is_none(),
            "{status}: no reason for others"
        );
    }
    assert_eq!(post(ids[6])["status_reason"], "Restored after review");
    assert!(
        post(ids[1]).get("status_reason").is_none(),
        "no null reason"
    );
    let missing = store
        .public_thread_page(t + 1000, None, 500, Bodies::Both)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    store.close().await;
}

/// Removal erases a post's text and its revisions (personal data must go). An edit at the
/// same moment must not write the text back: each pair below races an edit against a removal
/// of the same post, and whichever order they take, nothing of either version is left.
async fn an_edit_racing_a_removal_never_brings_the_text_back(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "amani").await);
    let (t, op) = thread(&store, &a).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        match store
            .create_post(
                t,
                &post(&a, Some(op), &format!("my number is 0700 {i:03}")),
                None,
            )
            .await
        {
            Ok(Created::New(p)) => ids.push(p.id),
            other => panic!("post {i}: {other:?}"),
        }
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let (s1, s2, author_id) = (store.clone(), store.clone(), a.id);
        let edit = tokio::spawn(async move {
            let body = format!("my new number is 0711 {i:03}");
            s1.edit_post(
                id,
                &hub_store::PostEdit {
                    editor_id: author_id,
                    body: Some((body.clone(), format!("<p>{body}</p>"), body)),
                    kind: None,
                    objectives: None,
                    aspects: None,
                    language: None,
                    review: false,
                },
            )
            .await
        });
        let remove =
            tokio::spawn(async move { s2.remove_post(id, author_id, Some("personal data")).await });
        tasks.push((id, edit, remove));
    }
    // Which went first, for the messages: edits that found the post removed were refused.
    let (mut edited, mut refused) = (0, 0);
    for (id, edit, remove) in tasks {
        match edit.await.expect("edit task") {
            Ok(_) => edited += 1,
            Err(StoreError::Conflict(_)) => refused += 1,
            Err(e) => panic!("edit of {id}: {e:?}"),
        }
        remove.await.expect("remove task").expect("remove");
    }
    let order = format!("{edited} edits before their removal, {refused} after");
    for id in ids {
        let p = store.post(id).await.expect("post");
        assert_eq!(p.status, PostStatus::Removed, "{id}");
        let (body, html): (String, String) =
            sqlx::query_as("SELECT body, body_html FROM posts WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .expect("row");
        assert_eq!(
            (body.as_str(), html.as_str()),
            ("", ""),
            "post {id} keeps no text ({order})"
        );
        let revisions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM post_revisions WHERE post_id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .expect("count");
        assert_eq!(revisions, 0, "post {id} keeps no revision ({order})");
    }
    store.close().await;
    tdb.cleanup().await;
}

/// A thread whose opening post is hidden takes no reply from others, but an import's write
/// (`PostChecks::unrestricted`, the Pol.is import run again) still lands.
async fn an_import_writes_into_a_thread_withheld_from_its_authors(db: Db) {
    let tdb = TestDb::new(db).await.expect("db");
    let store = tdb.store().await.expect("store");
    let a = author(&user(&store, "opener").await);
    let b = author(&user(&store, "commenter").await);
    let (t, op) = thread(&store, &a).await;
    store
        .decide_post(op, a.id, hub_domain::PostAction::Hide, "Off topic")
        .await
        .expect("hide the opening post");
    match store.create_post(t, &post(&b, None, "a reply"), None).await {
        Err(hub_store::StoreError::NotFound("thread")) => {}
        other => panic!("a reply into a withheld thread: {other:?}"),
    }
    let import = PostChecks {
        unrestricted: true,
        ..Default::default()
    };
    for parent in [None, Some(op)] {
        match store
            .create_post_checked(
                t,
                &post(&b, parent, &format!("imported {parent:?}")),
                None,
                &import,
            )
            .await
        {
            Ok(Created::New(p)) => assert_eq!(p.thread_id, t),
            other => panic!("an import's write: {other:?}"),
        }
    }
    tdb.cleanup().await;
}

/// The two migration trees describe one schema: the same tables with the same columns, and
/// the same named indexes, but for what each dialect has of its own (listed here, each with
/// why). A migration added to one tree and not the other, or with another column, fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_migrated_schemas_agree() {
    use sqlx::Row;
    if hub_tests::postgres_url().is_none() {
        hub_tests::note_postgres_skipped();
        return;
    }
    // SQLite: full-text search through FTS5 (its shadow tables) and a queue of posts not
    // indexed yet; its autoincrement bookkeeping.
    const SQLITE_ONLY_TABLES: [&str; 8] = [
        "post_search",
        "post_search_config",
        "post_search_content",
        "post_search_data",
        "post_search_docsize",
        "post_search_idx",
        "search_pending",
        "sqlite_sequence",
    ];
    // PostgreSQL: events are numbered after they commit (`id` orders them until then, and
    // `events_unsequenced` finds them); search is a tsvector column with its GIN index.
    const PG_ONLY_COLUMNS: [(&str, &str); 2] = [("events", "id"), ("posts", "search_terms")];
    const PG_ONLY_INDEXES: [&str; 2] = ["events_unsequenced", "posts_search"];

    let lite = TestDb::new(Db::Sqlite).await.expect("sqlite");
    let pg = TestDb::new(Db::Postgres).await.expect("postgres");
    let (ls, ps) = (
        lite.store().await.expect("sqlite migrated"),
        pg.store().await.expect("postgres migrated"),
    );
    type Schema = BTreeSet<(String, String)>;
    let rows = |store: &Store, sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query(sql)
                .fetch_all(&pool)
                .await
                .expect("schema query")
                .iter()
                .map(|r| {
                    (
                        r.try_get::<String, _>(0).unwrap_or_default(),
                        r.try_get::<String, _>(1).unwrap_or_default(),
                    )
                })
                .collect::<Schema>()
        }
    };
    let lite_columns = rows(
        &ls,
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table'",
    )
    .await;
    let pg_columns = rows(
        &ps,
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .await;
    let lite_columns: Schema = lite_columns
        .into_iter()
        .filter(|(t, _)| !SQLITE_ONLY_TABLES.contains(&t.as_str()))
        .collect();
    let pg_columns: Schema = pg_columns
        .into_iter()
        .filter(|(t, c)| !PG_ONLY_COLUMNS.contains(&(t.as_str(), c.as_str())))
        .collect();
    assert!(lite_columns.len() > 100, "{} columns", lite_columns.len());
    assert_eq!(
        lite_columns
            .symmetric_difference(&pg_columns)
            .collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "columns of one dialect only"
    );
    // Named indexes (PostgreSQL's implicit ones for keys and unique constraints aside).
    let lite_indexes = rows(
        &ls,
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' \
         AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .await;
    let pg_indexes = rows(
        &ps,
        "SELECT CAST(i.tablename AS TEXT), CAST(i.indexname AS TEXT) FROM pg_indexes i \
         WHERE i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
         WHERE c.conname = i.indexname)",
    )
    .await;
    let pg_indexes: Schema = pg_indexes
        .into_iter()
        .filter(|(_, i)| !PG_ONLY_INDEXES.contains(&i.as_str()))
        .collect();
    assert!(lite_indexes.len() > 10, "{} indexes", lite_indexes.len());
    assert_eq!(
        lite_indexes
            .symmetric_difference(&pg_indexes)
            .collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "indexes of one dialect only"
    );
    ls.close().await;
    ps.close().await;
    lite.cleanup().await;
    pg.cleanup().await;
}
