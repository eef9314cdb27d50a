//! The agreement test: who sees what is decided once, in `hub_domain::visibility`; this asks
//! every read path (a post by id, a thread, a thread's page twice over the page cache, the
//! thread list, search, and the replay of the live log) what each viewer sees of every post
//! status in every thread state, and compares with what the rule says. Every disagreement is
//! collected, and the test fails with the whole list.
#![forbid(unsafe_code)]

use hub_domain::visibility::{self, PostFacts, Sight};
use hub_domain::{PostStatus, Role, RoleKind};
use hub_tests::ws::WsClient;
use hub_tests::{both_backends, Db, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

both_backends!(every_read_path_agrees_with_the_visibility_rule);

const REGION: &str = "europe";

/// Posts in each thread: its opening post and a reply of each status.
const POSTS: usize = 1 + PostStatus::ALL.len();

/// One who reads: a test user (none for anonymous) and the same as the rule sees them.
struct Reader {
    name: &'static str,
    user: Option<TestUser>,
    viewer: hub_domain::Viewer,
}

impl Reader {
    fn token(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.token.as_str())
    }
}

/// A post of the scenario, with the status it was brought to.
#[derive(Debug, Clone)]
struct Case {
    id: i64,
    thread: i64,
    author_id: i64,
    status: PostStatus,
    is_opening: bool,
    /// A word only this post holds (search finds its thread by it).
    word: String,
}

impl Case {
    fn facts(&self) -> PostFacts<'static> {
        PostFacts {
            status: self.status,
            author_id: self.author_id,
            region: REGION,
        }
    }
}

/// A thread of the scenario: its opening post's status and whether it is locked.
#[derive(Debug, Clone)]
struct ThreadCase {
    id: i64,
    opening: Case,
    locked: bool,
    posts: Vec<Case>,
}

impl ThreadCase {
    fn label(&self) -> String {
        format!(
            "thread {} (opening post {}{})",
            self.id,
            self.opening.status,
            if self.locked { ", locked" } else { "" }
        )
    }
}

/// A word of letters only, distinct for each `n` (search folds words; digits are left out so
/// that nothing splits it).
fn word(n: usize) -> String {
    let mut w = String::from("vizq");
    let mut n = n + 1;
    while n > 0 {
        w.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    w
}

/// How much of a post a JSON answer shows: the whole post carries its text (or, when removed,
/// the moderator's reason); a tombstone neither.
fn sight_of(post: &Value) -> Sight {
    let shown = |k: &str| !post[k].is_null();
    if shown("body") || shown("body_html") || shown("status_reason") {
        Sight::Full
    } else {
        Sight::Tombstone
    }
}

async fn decide(app: &TestApp, by: &TestUser, path: &str, action: &str) {
    let (s, v) = app
        .post(
            path,
            &by.token,
            json!({"action": action, "reason": "visibility case"}),
        )
        .await;
    assert_eq!(s, 200, "{action} {path}: {v}");
}

fn reply_id(v: &Value) -> i64 {
    v["id"].as_i64().expect("post id")
}

/// Opens a thread by `opener` with a reply by `replier` of each status, then brings the
/// opening post to `opening` and locks the thread if `locked`.
async fn build_thread(
    app: &TestApp,
    n: usize,
    (opener, replier, moderator): (&TestUser, &TestUser, &TestUser),
    opening: PostStatus,
    locked: bool,
) -> ThreadCase {
    let op_word = word(n * 10);
    let (t, op) = app
        .thread(
            opener,
            REGION,
            "Visibility case",
            &format!("Opening {op_word}"),
        )
        .await;
    let mut posts = Vec::new();
    for (i, &status) in PostStatus::ALL.iter().enumerate() {
        let w = word(n * 10 + 1 + i);
        // A link sends a post to pre-moderation in this region.
        let body = match status {
            PostStatus::Pending => format!("Reply {w} https://example.org"),
            _ => format!("Reply {w}"),
        };
        let id = reply_id(&app.reply(replier, t, Some(op), &body).await);
        match status {
            PostStatus::Hidden => {
                decide(
                    app,
                    moderator,
                    &format!("/moderation/posts/{id}/decision"),
                    "hide",
                )
                .await
            }
            PostStatus::Removed => {
                decide(
                    app,
                    moderator,
                    &format!("/moderation/posts/{id}/decision"),
                    "remove",
                )
                .await
            }
            PostStatus::Published | PostStatus::Pending => {}
        }
        posts.push(Case {
            id,
            thread: t,
            author_id: replier.id,
            status,
            is_opening: false,
            word: w,
        });
    }
    match opening {
        PostStatus::Published => {}
        PostStatus::Pending => {
            // An edit that would wait as a new post sends the opening post back to pending.
            let (s, v) = app
                .send(
                    Method::PATCH,
                    &format!("/posts/{op}"),
                    Some(&opener.token),
                    Some(json!({"body": format!("Opening {op_word} https://example.org")})),
                )
                .await;
            assert_eq!(s, 200, "{v}");
        }
        PostStatus::Hidden => {
            decide(
                app,
                moderator,
                &format!("/moderation/posts/{op}/decision"),
                "hide",
            )
            .await
        }
        PostStatus::Removed => {
            decide(
                app,
                moderator,
                &format!("/moderation/posts/{op}/decision"),
                "remove",
            )
            .await
        }
    }
    if locked {
        decide(
            app,
            moderator,
            &format!("/moderation/threads/{t}/decision"),
            "lock",
        )
        .await;
    }
    let opening = Case {
        id: op,
        thread: t,
        author_id: opener.id,
        status: opening,
        is_opening: true,
        word: op_word,
    };
    // The scenario is what it says: each post has the status it is filed under.
    for case in posts.iter().chain([&opening]) {
        let stored = app.server.store.post(case.id).await.expect("post");
        assert_eq!(stored.status, case.status, "post {}", case.id);
    }
    ThreadCase {
        id: t,
        opening,
        locked,
        posts,
    }
}

async fn reader(
    app: &TestApp,
    name: &'static str,
    role: Option<(RoleKind, Option<&str>)>,
) -> Reader {
    let user = app.register(name).await;
    let mut roles = Vec::new();
    if let Some((role, region)) = role {
        let role = Role {
            role,
            region: region.map(str::to_string),
        };
        app.server
            .store
            .grant_role(user.id, &role)
            .await
            .expect("grant");
        roles.push(role);
    }
    Reader {
        name,
        viewer: hub_domain::Viewer {
            user_id: Some(user.id),
            roles,
        },
        user: Some(user),
    }
}

/// One disagreement: where, who, what the rule says and what the path gave.
#[derive(Debug)]
struct Disagreement {
    path: &'static str,
    reader: &'static str,
    what: String,
    rule: String,
    got: String,
}

async fn every_read_path_agrees_with_the_visibility_rule(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(figment::providers::Serialized::default(
            "moderation.premoderation.europe",
            json!({"mode": "links", "max_links": 0}),
        ))
    })
    .await;
    let opener = reader(&app, "opener", None).await;
    let replier = reader(&app, "author", None).await;
    let moderator = reader(&app, "moderator", Some((RoleKind::Moderator, Some(REGION)))).await;
    let readers = vec![
        Reader {
            name: "anonymous",
            user: None,
            viewer: hub_domain::Viewer::anonymous(),
        },
        reader(&app, "stakeholder", None).await,
        reader(
            &app,
            "other moderator",
            Some((RoleKind::Moderator, Some("africa"))),
        )
        .await,
        reader(&app, "secretariat", Some((RoleKind::Secretariat, None))).await,
        reader(&app, "admin", Some((RoleKind::Admin, None))).await,
        opener,
        replier,
        moderator,
    ];
    let user = |name: &str| {
        readers
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.user.as_ref())
            .expect("reader")
    };
    let (op_user, reply_user, mod_user) = (user("opener"), user("author"), user("moderator"));
    let mut threads = Vec::new();
    for &opening in PostStatus::ALL {
        for locked in [false, true] {
            let n = threads.len();
            threads.push(
                build_thread(&app, n, (op_user, reply_user, mod_user), opening, locked).await,
            );
        }
    }

    let mut wrong = Vec::new();
    let mut compared = 0usize;
    let mut check = |path: &'static str, r: &Reader, what: String, rule: String, got: String| {
        compared += 1;
        if rule != got {
            wrong.push(Disagreement {
                path,
                reader: r.name,
                what,
                rule,
                got,
            });
        }
    };
    let post_label = |c: &Case| {
        format!(
            "{} post {} ({}) in thread {}",
            if c.is_opening { "opening" } else { "reply" },
            c.id,
            c.status,
            c.thread
        )
    };

    for t in &threads {
        let opening = t.opening.facts();
        for r in &readers {
            let withheld = visibility::thread_withheld(&r.viewer, Some(&opening));
            // The thread itself.
            let (s, _) = app.get(&format!("/threads/{}", t.id), r.token()).await;
            check(
                "GET /threads/{id}",
                r,
                t.label(),
                format!("{}", if withheld { 404 } else { 200 }),
                s.to_string(),
            );
            // Each post by id.
            for c in t.posts.iter().chain([&t.opening]) {
                let rule =
                    visibility::read_sight(&r.viewer, &c.facts(), Some(&opening), c.is_opening);
                let (s, v) = app.get(&format!("/posts/{}", c.id), r.token()).await;
                let got = match s {
                    404 => Sight::Nothing,
                    200 => sight_of(&v),
                    _ => {
                        check(
                            "GET /posts/{id}",
                            r,
                            post_label(c),
                            format!("{rule:?}"),
                            format!("{s}: {v}"),
                        );
                        continue;
                    }
                };
                check(
                    "GET /posts/{id}",
                    r,
                    post_label(c),
                    format!("{rule:?}"),
                    format!("{got:?}"),
                );
            }
        }
        // The thread's page, read by each in turn and then again in the other order: the
        // first readers fill the page cache, the others are answered from it.
        let order: Vec<&Reader> = readers.iter().chain(readers.iter().rev()).collect();
        for r in order {
            let (s, v) = app
                .get(&format!("/threads/{}/posts?limit=200", t.id), r.token())
                .await;
            let items: BTreeMap<i64, Sight> = match s {
                200 => v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some((p["id"].as_i64()?, sight_of(p))))
                    .collect(),
                _ => BTreeMap::new(),
            };
            let withheld = visibility::thread_withheld(&r.viewer, Some(&opening));
            check(
                "GET /threads/{id}/posts",
                r,
                t.label(),
                format!("{}", if withheld { 404 } else { 200 }),
                s.to_string(),
            );
            // A page not found shows nothing of any post.
            for c in t.posts.iter().chain([&t.opening]) {
                // On its thread's page the opening post stands or falls with the thread.
                let rule = visibility::read_sight(&r.viewer, &c.facts(), Some(&opening), false);
                let got = items.get(&c.id).copied().unwrap_or(Sight::Nothing);
                check(
                    "GET /threads/{id}/posts",
                    r,
                    post_label(c),
                    format!("{rule:?}"),
                    format!("{got:?}"),
                );
            }
        }
    }

    // The thread list and search, per reader.
    for r in &readers {
        let (s, v) = app
            .get(&format!("/regions/{REGION}/threads?limit=200"), r.token())
            .await;
        assert_eq!(s, 200, "{v}");
        let listed: BTreeSet<i64> = v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["id"].as_i64())
            .collect();
        for t in &threads {
            let rule = !visibility::thread_withheld(&r.viewer, Some(&t.opening.facts()));
            check(
                "GET /regions/{slug}/threads",
                r,
                t.label(),
                format!("listed: {rule}"),
                format!("listed: {}", listed.contains(&t.id)),
            );
            for c in t.posts.iter().chain([&t.opening]) {
                let rule =
                    visibility::found_by_search(&r.viewer, &c.facts(), Some(&t.opening.facts()));
                let (s, v) = app
                    .get(
                        &format!("/regions/{REGION}/threads?q={}", c.word),
                        r.token(),
                    )
                    .await;
                assert_eq!(s, 200, "{v}");
                let found = v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|i| i["id"].as_i64() == Some(t.id));
                check(
                    "GET /regions/{slug}/threads?q=",
                    r,
                    post_label(c),
                    format!("found: {rule}"),
                    format!("found: {found}"),
                );
            }
        }
    }

    // The replay of the log: every thread's channel from the start.
    let channels: Vec<String> = threads.iter().map(|t| format!("thread:{}", t.id)).collect();
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    for r in &readers {
        let auth = r.user.as_ref().map(|u| format!("Bearer {}", u.token));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let mut ws = WsClient::connect(&app.ws_url(""), &headers)
            .await
            .expect("connect");
        let (replay, _) = ws.subscribe(&channels, Some(0)).await;
        ws.close().await;
        // The most each event about a post showed, and whether a thread's title showed.
        let mut seen: BTreeMap<i64, Sight> = BTreeMap::new();
        let mut titled: BTreeSet<i64> = BTreeSet::new();
        for e in &replay {
            let kind = e["type"].as_str().unwrap_or("");
            let data = &e["data"];
            if kind.starts_with("post.") {
                if let Some(id) = data["id"].as_i64() {
                    let s = seen.entry(id).or_insert(Sight::Nothing);
                    *s = (*s).max(sight_of(data));
                }
            } else if kind.starts_with("thread.") && !data["title"].is_null() {
                if let Some(id) = data["id"].as_i64() {
                    titled.insert(id);
                }
            }
        }
        for t in &threads {
            let opening = t.opening.facts();
            let withheld = visibility::thread_withheld(&r.viewer, Some(&opening));
            check(
                "replay: thread title",
                r,
                t.label(),
                format!("title: {}", !withheld),
                format!("title: {}", titled.contains(&t.id)),
            );
            for c in t.posts.iter().chain([&t.opening]) {
                let facts = c.facts();
                let rule = visibility::event_sight(
                    &r.viewer,
                    Some(c.author_id),
                    Some(REGION),
                    visibility::withheld_now(&facts, Some(&opening)),
                    true,
                );
                let got = seen.get(&c.id).copied().unwrap_or(Sight::Nothing);
                // The rule is what the events of a post announced to everyone show; an event
                // logged for the author and moderators only shows others less (nothing).
                let (rule, agrees) = match rule {
                    Sight::Full => ("Full".to_string(), got == Sight::Full),
                    _ => (format!("at most {rule:?}"), got <= rule),
                };
                let got = if agrees {
                    rule.clone()
                } else {
                    format!("{got:?}")
                };
                check("replay", r, post_label(c), rule, got);
            }
        }
    }

    app.finish().await;
    // Each reader, for each thread: the thread, its posts by id, its page twice (the thread
    // and its posts), the list, a search per post, and the replay's title and posts.
    let per_thread = 1 + POSTS + 2 * (1 + POSTS) + 1 + POSTS + 1 + POSTS;
    assert_eq!(
        compared,
        readers.len() * threads.len() * per_thread,
        "every combination was compared"
    );
    assert!(
        wrong.is_empty(),
        "{} disagreements with hub_domain::visibility:\n{}",
        wrong.len(),
        wrong
            .iter()
            .map(|d| format!(
                "{}: {} reading {}: rule {}, got {}",
                d.path, d.reader, d.what, d.rule, d.got
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
