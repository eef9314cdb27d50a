//! The API suite, over real HTTP, on SQLite and on PostgreSQL.
#![forbid(unsafe_code)]

use hub_tests::{assert_problem, both_backends, Db, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    accounts_sessions_and_logout,
    a_reply_is_answered_for_its_session_before_its_body,
    threads_in_every_region_and_deep_replies_in_tree_order,
    edits_keep_revisions_and_only_author_or_moderator_edits,
    endorsement_counts_once_per_user,
    idempotency_key_replays_without_creating,
    hostile_markup_leaves_no_executable_html,
    bad_input_is_refused_with_problem_json_and_changes_nothing,
    arbitrary_bodies_never_make_the_server_fail,
    hostile_text_is_refused_before_the_database,
    search_finds_english_chinese_and_arabic,
    thread_lists_filter_sort_and_paginate,
    removed_posts_are_tombstones,
    regions_objectives_and_operations,
    a_thread_stands_on_its_opening_post,
    per_address_limits_count_clients_behind_trusted_proxies_only,
);

/// A reply's text is checked and rendered while its session is looked up; the answers keep
/// their order all the same: 401 for a request without a valid session whatever its body,
/// then the header's and the body's 4xx, and a body of any allowed size is written.
async fn a_reply_is_answered_for_its_session_before_its_body(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Order", "opening").await;
    let path = format!("/threads/{t}/posts");
    let posts = app.count("posts").await;
    let raw = |token: Option<&str>, body: &str, key: Option<&str>| {
        let mut req = app
            .http
            .post(app.api(&path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        async move {
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            let v: Value = res.json().await.unwrap_or(Value::Null);
            (status, v)
        }
    };
    let good = json!({"body": "a reply", "kind": "comment"}).to_string();
    let bad_objective =
        json!({"body": "a reply", "kind": "comment", "objectives": [0]}).to_string();
    let long = json!({"body": format!("**long** {}", "word ".repeat(2_000)), "kind": "comment"})
        .to_string();
    for (token, body, what) in [
        (None, good.as_str(), "no token"),
        (Some("hub_forged"), good.as_str(), "forged token"),
        (
            Some("hub_forged"),
            bad_objective.as_str(),
            "forged token, bad objective",
        ),
        (
            Some("hub_forged"),
            "{not json",
            "forged token, malformed JSON",
        ),
        (Some("hub_forged"), long.as_str(), "forged token, long body"),
    ] {
        let (s, v) = raw(token, body, None).await;
        assert_problem(s, &v, 401, what);
    }
    let (s, v) = raw(Some("hub_forged"), &good, Some("bad key with spaces")).await;
    assert_problem(s, &v, 401, "forged token, bad key");
    // Signed in: the header, then the body.
    let (s, v) = raw(Some(&ana.token), "{not json", Some("a key with spaces")).await;
    assert_eq!(s, 422, "{v}");
    assert!(v.to_string().contains("Idempotency-Key"), "{v}");
    let (s, v) = raw(Some(&ana.token), "{not json", None).await;
    assert_problem(s, &v, 400, "malformed JSON");
    let (s, v) = raw(Some(&ana.token), &bad_objective, None).await;
    assert_problem(s, &v, 422, "objective 0");
    assert_eq!(v["errors"][0]["field"], "objectives[0]", "{v}");
    assert_eq!(
        app.count("posts").await,
        posts,
        "nothing refused was written"
    );
    // A body over the size rendered early is rendered after the session, as well.
    let (s, v) = raw(Some(&ana.token), &long, None).await;
    assert_eq!(s, 201, "{v}");
    assert!(
        v["body_html"]
            .as_str()
            .is_some_and(|h| h.contains("<strong>long</strong>")),
        "{v}"
    );
    let (s, v) = raw(Some(&ana.token), &good, None).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(app.count("posts").await, posts + 2);
    app.finish().await;
}

async fn accounts_sessions_and_logout(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana Lima").await;
    let me = app.call(Method::GET, "/me").by(&ana).expect(200).await;
    assert_eq!(me["id"].as_i64(), Some(ana.id));
    assert_eq!(me["roles"], json!([{"role": "stakeholder"}]));

    // A second account with the same e-mail (any case) is refused.
    let (s, v) = app
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({
            "email": ana.email.to_uppercase(), "password": "another long passphrase",
            "display_name": "Ana again", "stakeholder_group": "academia"})),
        )
        .await;
    assert_problem(s, &v, 422, "duplicate e-mail");
    assert_eq!(v["errors"][0]["field"], "email");

    // Wrong password and unknown e-mail: the same 401, word for word.
    let (s1, wrong) = app
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": ana.email, "password": "not the passphrase"})),
        )
        .await;
    let (s2, unknown) = app
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": "nobody@example.org", "password": "not the passphrase"})),
        )
        .await;
    assert_problem(s1, &wrong, 401, "wrong password");
    assert_eq!((s1, &wrong), (s2, &unknown));

    let login = app
        .call(Method::POST, "/auth/login")
        .json(json!({"email": ana.email, "password": "a long enough passphrase"}))
        .expect(200)
        .await;
    let token = login["token"].as_str().unwrap_or_default().to_string();
    assert!(login["expires_at"].is_string());
    assert_ne!(token, ana.token, "each sign-in gets its own token");

    // Tokens are stored hashed: the database never holds the token itself.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(app.server.store.pool())
        .await
        .unwrap_or_default();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h != &token && h != &ana.token));

    app.call(Method::POST, "/auth/logout")
        .token(&token)
        .expect(204)
        .await;
    let (s, v) = app.get("/me", Some(&token)).await;
    assert_problem(s, &v, 401, "token after logout");
    // Replaying the revoked token on a write is refused too, and the other session lives on.
    app.call(Method::POST, "/regions/europe/threads")
        .token(&token)
        .json(json!({"title": "Replayed", "body": "x", "kind": "comment"}))
        .expect(401)
        .await;
    app.call(Method::GET, "/me").by(&ana).expect(200).await;
    let (s, v) = app.get("/me", Some("hub_forged")).await;
    assert_problem(s, &v, 401, "forged token");
    let (s, v) = app.get("/me", None).await;
    assert_problem(s, &v, 401, "no token");

    // Weak passwords and bad fields are listed together.
    let (s, v) = app
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({
            "email": "not-an-email", "password": "short", "display_name": "X",
            "stakeholder_group": "civil_society", "country": "XX"})),
        )
        .await;
    assert_problem(s, &v, 422, "bad registration");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["email", "password", "country"]);
    app.finish().await;
}

async fn threads_in_every_region_and_deep_replies_in_tree_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    for region in [
        "africa",
        "arab-region",
        "asia-pacific",
        "europe",
        "latin-america-caribbean",
    ] {
        let (t, _) = app
            .thread(
                &ana,
                region,
                &format!("Decent work in {region}"),
                "Opening **post**",
            )
            .await;
        let v = app
            .call(Method::GET, format!("/threads/{t}"))
            .expect(200)
            .await;
        assert_eq!(v["region"], region);
        let (s, list) = app.get(&format!("/regions/{region}/threads"), None).await;
        assert_eq!(s, 200);
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{region}");
    }

    // A chain nine replies deep, with siblings at several depths.
    let (t, root) = app
        .thread(
            &ana,
            "europe",
            "Skills recognition",
            "Let us talk about skills.",
        )
        .await;
    let mut parent = root;
    let mut chain = vec![root];
    for depth in 1..=9 {
        let who = if depth % 2 == 0 { &ana } else { &ben };
        let p = app
            .reply(who, t, Some(parent), &format!("depth {depth}"))
            .await;
        assert_eq!(p["depth"].as_i64(), Some(depth));
        assert_eq!(p["parent_id"].as_i64(), Some(parent));
        parent = p["id"].as_i64().unwrap_or_default();
        chain.push(parent);
    }
    let sibling_of_2 = app
        .reply(&ben, t, Some(chain[1]), "second child of depth 1")
        .await;
    let top_level = app.reply(&ben, t, None, "a top-level reply").await;
    let late_child = app
        .reply(&ana, t, Some(chain[3]), "late child of depth 3")
        .await;

    let posts = app.all_posts(t, None).await;
    let ids: Vec<i64> = posts.iter().filter_map(|p| p["id"].as_i64()).collect();
    // Depth-first, siblings oldest first: the chain down to depth 3, its late child after the
    // whole subtree under depth 4, the sibling after the whole chain below depth 1, then the
    // top-level reply.
    let mut expected = chain[..4].to_vec();
    expected.extend_from_slice(&chain[4..]);
    let pos = expected.len();
    expected.insert(pos, late_child["id"].as_i64().unwrap_or_default());
    expected.push(sibling_of_2["id"].as_i64().unwrap_or_default());
    expected.push(top_level["id"].as_i64().unwrap_or_default());
    assert_eq!(ids, expected);
    // Every post's parent comes before it, and depth = parent's depth + 1.
    for (i, p) in posts.iter().enumerate() {
        match p["parent_id"].as_i64() {
            None => assert_eq!(
                (i, p["depth"].as_i64()),
                (0, Some(0)),
                "only the opening post is a root: {p}"
            ),
            Some(parent) => {
                let j = posts
                    .iter()
                    .position(|q| q["id"].as_i64() == Some(parent))
                    .unwrap_or(usize::MAX);
                assert!(j < i, "parent after child: {p}");
                assert_eq!(
                    p["depth"].as_i64(),
                    posts[j]["depth"].as_i64().map(|d| d + 1)
                );
            }
        }
    }
    // A reply to the thread answers its opening post: one tree per thread.
    assert_eq!(top_level["parent_id"].as_i64(), Some(root));
    assert_eq!(top_level["depth"], 1);

    // Paging through with a small limit gives the same order.
    let mut paged = Vec::new();
    let mut path = format!("/threads/{t}/posts?limit=4");
    for _ in 0..10 {
        let (_, v) = app.get(&path, None).await;
        paged.extend(
            v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_i64()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => path = format!("/threads/{t}/posts?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, ids);

    // One page holds up to 500 posts; by default each carries its Markdown and its HTML,
    // `body=html` or `body=markdown` only that one (the other is null).
    let whole = app
        .call(Method::GET, format!("/threads/{t}/posts?limit=500"))
        .expect(200)
        .await;
    assert_eq!(whole["next_cursor"], Value::Null);
    let items = whole["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        items
            .iter()
            .filter_map(|p| p["id"].as_i64())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(items[0]["body"], "Let us talk about skills.");
    assert!(items[0]["body_html"]
        .as_str()
        .is_some_and(|h| h.contains("Let us talk about skills.")));
    let v = app
        .call(
            Method::GET,
            format!("/threads/{t}/posts?limit=500&body=html"),
        )
        .expect(200)
        .await;
    let html = v["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(html.len(), items.len());
    for (light, full) in html.iter().zip(&items) {
        assert_eq!(light["body"], Value::Null);
        assert_eq!(light["body_html"], full["body_html"]);
        assert_eq!(light["id"], full["id"]);
        assert_eq!(light["depth"], full["depth"]);
    }
    let v = app
        .call(
            Method::GET,
            format!("/threads/{t}/posts?body=markdown&limit=2"),
        )
        .expect(200)
        .await;
    assert_eq!(v["items"][0]["body"], items[0]["body"]);
    assert_eq!(v["items"][0]["body_html"], Value::Null);
    for bad in ["limit=501", "limit=0", "body=pdf"] {
        app.call(Method::GET, format!("/threads/{t}/posts?{bad}"))
            .expect(422)
            .await;
    }

    let th = app
        .call(Method::GET, format!("/threads/{t}"))
        .expect(200)
        .await;
    assert_eq!(th["post_count"].as_i64(), Some(13));
    app.finish().await;
}

async fn edits_keep_revisions_and_only_author_or_moderator_edits(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let (_, post) = app
        .thread(&ana, "africa", "Remittance costs", "Fees are *too high*.")
        .await;
    let v = app
        .call(Method::PATCH, format!("/posts/{post}"))
        .by(&ana)
        .json(json!({"body": "Fees are **far** too high.", "objectives": [20]}))
        .expect(200)
        .await;
    assert_eq!(v["revision"], 2);
    assert!(v["edited_at"].is_string());
    assert!(v["body_html"]
        .as_str()
        .unwrap_or_default()
        .contains("<strong>far</strong>"));
    app.call(Method::PATCH, format!("/posts/{post}"))
        .by(&ana)
        .json(json!({"kind": "recommendation"}))
        .expect(200)
        .await;

    let revs = app
        .call(Method::GET, format!("/posts/{post}/revisions"))
        .expect(200)
        .await;
    let revs = revs.as_array().cloned().unwrap_or_default();
    assert_eq!(revs.len(), 3);
    assert_eq!(revs[0]["body"], "Fees are *too high*.");
    assert_eq!(revs[0]["objectives"], json!([6, 16]));
    assert_eq!(revs[1]["body"], "Fees are **far** too high.");
    assert_eq!(revs[1]["objectives"], json!([20]));
    assert_eq!(revs[2]["kind"], "recommendation");
    assert_eq!(
        revs.iter()
            .map(|r| r["revision"].as_i64().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    // Another stakeholder may not edit or remove it; nothing changes.
    let (s, v) = app
        .send(
            Method::PATCH,
            &format!("/posts/{post}"),
            Some(&ben.token),
            Some(json!({"body": "vandalised"})),
        )
        .await;
    assert_problem(s, &v, 403, "edit by another user");
    let (s, v) = app
        .send(
            Method::DELETE,
            &format!("/posts/{post}"),
            Some(&ben.token),
            None,
        )
        .await;
    assert_problem(s, &v, 403, "delete by another user");
    let (_, now) = app.get(&format!("/posts/{post}"), None).await;
    assert_eq!(now["body"], "Fees are **far** too high.");

    // A moderator of the region may correct it; one of another region may not.
    let store = &app.server.store;
    let role = |r: &str| hub_domain::Role {
        role: hub_domain::RoleKind::Moderator,
        region: Some(r.into()),
    };
    store
        .grant_role(ben.id, &role("europe"))
        .await
        .expect("grant");
    // A moderator of Europe has no power in Africa
    app.call(Method::PATCH, format!("/posts/{post}"))
        .by(&ben)
        .json(json!({"aspects": ["gap"]}))
        .expect(403)
        .await;
    store
        .grant_role(ben.id, &role("africa"))
        .await
        .expect("grant");
    let v = app
        .call(Method::PATCH, format!("/posts/{post}"))
        .by(&ben)
        .json(json!({"aspects": ["gap", "gap"]}))
        .expect(200)
        .await;
    assert_eq!(v["aspects"], json!(["gap"]));
    let (_, revs) = app.get(&format!("/posts/{post}/revisions"), None).await;
    assert_eq!(
        revs.as_array()
            .and_then(|r| r.last())
            .map(|r| r["editor_id"].clone()),
        Some(json!(ben.id))
    );
    app.finish().await;
}

async fn endorsement_counts_once_per_user(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let cai = app.register("Cai").await;
    let (t, post) = app
        .thread(
            &ana,
            "asia-pacific",
            "Portable social protection",
            "Recommend portability.",
        )
        .await;
    let path = format!("/posts/{post}/endorsement");
    let (s, v) = app.send(Method::PUT, &path, Some(&ben.token), None).await;
    assert_eq!(
        (s, v["endorsements"].as_i64(), v["changed"].as_bool()),
        (200, Some(1), Some(true))
    );
    let (s, v) = app.send(Method::PUT, &path, Some(&ben.token), None).await;
    assert_eq!(
        (s, v["endorsements"].as_i64(), v["changed"].as_bool()),
        (200, Some(1), Some(false))
    );
    let (_, v) = app.send(Method::PUT, &path, Some(&cai.token), None).await;
    assert_eq!(v["endorsements"], 2);
    assert_eq!(app.count("endorsements").await, 2);
    let (s, v) = app.send(Method::PUT, &path, Some(&ana.token), None).await;
    assert_problem(s, &v, 409, "self-endorsement");
    let (s, v) = app.send(Method::PUT, &path, None, None).await;
    assert_problem(s, &v, 401, "anonymous endorsement");
    let (_, v) = app
        .send(Method::DELETE, &path, Some(&cai.token), None)
        .await;
    assert_eq!(
        (v["endorsements"].as_i64(), v["changed"].as_bool()),
        (Some(1), Some(true))
    );
    let (_, v) = app
        .send(Method::DELETE, &path, Some(&cai.token), None)
        .await;
    assert_eq!(
        (v["endorsements"].as_i64(), v["changed"].as_bool()),
        (Some(1), Some(false))
    );
    let (_, p) = app.get(&format!("/posts/{post}"), None).await;
    assert_eq!(p["endorsements"], 1);
    let (_, th) = app.get(&format!("/threads/{t}"), None).await;
    assert_eq!(th["endorsements"], 1);
    let (s, v) = app
        .send(
            Method::PUT,
            "/posts/999999/endorsement",
            Some(&ben.token),
            None,
        )
        .await;
    assert_problem(s, &v, 404, "unknown post");
    app.finish().await;
}

async fn idempotency_key_replays_without_creating(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let body =
        json!({"title": "Retry me", "body": "Only once.", "kind": "report", "objectives": [1]});
    let send = |token: &str, key: &str, body: &Value| {
        app.http
            .post(app.api("/regions/europe/threads"))
            .bearer_auth(token.to_string())
            .header("Idempotency-Key", key.to_string())
            .json(body)
            .send()
    };
    let first = send(&ana.token, "k-1", &body).await.expect("send");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap_or_default();
    let again = send(&ana.token, "k-1", &body).await.expect("send");
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let again: Value = again.json().await.unwrap_or_default();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["opening_post"]["id"], again["opening_post"]["id"]);
    assert_eq!(app.count("threads").await, 1);
    assert_eq!(app.count("posts").await, 1);
    let events = app.count("events").await;

    // The same key with another body is a client bug: refused, nothing created.
    let other = json!({"title": "Something else", "body": "Different.", "kind": "report"});
    let res = send(&ana.token, "k-1", &other).await.expect("send");
    assert_eq!(res.status(), 409);
    // Keys are per user: Ben's k-1 is his own.
    assert_eq!(
        send(&ben.token, "k-1", &body).await.expect("send").status(),
        201
    );
    assert_eq!(app.count("threads").await, 2);

    // Concurrent retries of one reply create one post.
    let t = first["id"].as_i64().unwrap_or_default();
    let reply = json!({"body": "concurrent retry", "kind": "comment"});
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            app.http
                .post(app.api(&format!("/threads/{t}/posts")))
                .bearer_auth(&ana.token)
                .header("Idempotency-Key", "reply-1")
                .json(&reply)
                .send()
        })
        .collect();
    let results = futures_join_all(tasks).await;
    let mut ids = std::collections::BTreeSet::new();
    for r in results {
        let r = r.expect("send");
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap_or_default();
        ids.insert(v["id"].as_i64().unwrap_or_default());
    }
    assert_eq!(ids.len(), 1, "all retries answer the same post");
    assert_eq!(app.count("posts").await, 3);
    assert_eq!(app.count("events").await, events + 2 + 1);
    app.finish().await;
}

/// Runs futures concurrently (no extra dependency for one helper).
async fn futures_join_all<F: std::future::Future + Send + 'static>(fs: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Every tag in `html` with its attributes; literal `<` in text is escaped by the renderer, so
/// each `<` followed by a letter or `/` starts a real tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let inside = rest[..end].trim_start_matches('/');
        let mut parts = inside.splitn(2, |c: char| c.is_whitespace());
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut a = parts.next().unwrap_or("");
        while let Some(eq) = a.find('=') {
            let key = a[..eq].trim().to_ascii_lowercase();
            let v = a[eq + 1..].trim_start();
            let (val, next) = if let Some(stripped) = v.strip_prefix('"') {
                let close = stripped.find('"').unwrap_or(stripped.len());
                (
                    &stripped[..close],
                    &stripped[(close + 1).min(stripped.len())..],
                )
            } else {
                let close = v.find(char::is_whitespace).unwrap_or(v.len());
                (&v[..close], &v[close..])
            };
            attrs.push((key, val.replace("&amp;", "&")));
            a = next;
        }
        out.push((name, attrs));
        rest = &rest[end.min(rest.len())..];
    }
    out
}

async fn hostile_markup_leaves_no_executable_html(db: Db) {
    let app = TestApp::spawn(db).await;
    let eve = app.register("Eve").await;
    let (t, _) = app
        .thread(&eve, "europe", "Payloads", "Ordinary text.")
        .await;
    let corpus = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg onload=alert(1)><circle r=5></svg>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<style>@import 'http://evil.example/x.css';</style>",
        "<details open ontoggle=alert(1)>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<form action=\"https://evil.example\"><input name=x></form>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "![x](javascript:alert(1))",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<https://example.org/\" onmouseover=\"alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<base href=\"https://evil.example/\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "`<script>` in code is fine, and so is <b>bold?</b>",
        "[ok](https://example.org/a?b=c)",
    ];
    let allowed = [
        "p",
        "a",
        "code",
        "pre",
        "em",
        "strong",
        "del",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ];
    for payload in corpus {
        let p = app.reply(&eve, t, None, payload).await;
        let html = p["body_html"].as_str().unwrap_or_default();
        for (name, attrs) in tags(html) {
            assert!(
                allowed.contains(&name.as_str()),
                "tag <{name}> from {payload:?}: {html}"
            );
            for (k, v) in attrs {
                assert!(
                    !k.starts_with("on") && k != "style" && k != "src",
                    "attribute {k} from {payload:?}: {html}"
                );
                if k == "href" {
                    let v = v.to_ascii_lowercase();
                    assert!(
                        v.starts_with("http://")
                            || v.starts_with("https://")
                            || v.starts_with("mailto:"),
                        "href {v} from {payload:?}"
                    );
                }
            }
        }
        if html.contains("<a ") {
            assert!(
                html.contains("rel=\"nofollow noopener noreferrer\""),
                "{html}"
            );
        }
        // The author's Markdown is kept as written, for editing.
        assert_eq!(p["body"], payload.trim());
    }
    app.finish().await;
}

async fn bad_input_is_refused_with_problem_json_and_changes_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, root) = app
        .thread(
            &ana,
            "europe",
            "Alternatives to detention",
            "Community-based case management works.",
        )
        .await;
    let (other_t, other_post) = app
        .thread(&ana, "africa", "Another thread", "Elsewhere.")
        .await;
    let _ = other_t;
    let before = (
        app.count("threads").await,
        app.count("posts").await,
        app.count("events").await,
    );
    let raw = |path: &str, ct: &str, body: Vec<u8>| {
        app.http
            .post(app.api(path))
            .bearer_auth(&ana.token)
            .header("content-type", ct.to_string())
            .body(body)
            .send()
    };
    let threads = "/regions/europe/threads";
    let posts = format!("/threads/{t}/posts");
    let cases: Vec<(&str, String, &str, Vec<u8>, u16)> = vec![
        (
            "malformed JSON",
            threads.into(),
            "application/json",
            b"{\"title\": \"x\",".to_vec(),
            400,
        ),
        (
            "not JSON at all",
            threads.into(),
            "application/json",
            b"title=x".to_vec(),
            400,
        ),
        (
            "wrong content type",
            threads.into(),
            "text/plain",
            br#"{"title":"abc","body":"x","kind":"comment"}"#.to_vec(),
            415,
        ),
        (
            "unknown kind",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"opinion"}"#.to_vec(),
            422,
        ),
        (
            "objective 0",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","objectives":[0]}"#.to_vec(),
            422,
        ),
        (
            "objective 24",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","objectives":[24]}"#.to_vec(),
            422,
        ),
        (
            "objective as text",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","objectives":["one"]}"#.to_vec(),
            422,
        ),
        (
            "unknown aspect",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","aspects":["vibes"]}"#.to_vec(),
            422,
        ),
        (
            "unknown field",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","pinned":true}"#.to_vec(),
            422,
        ),
        (
            "missing body",
            threads.into(),
            "application/json",
            br#"{"title":"abc","kind":"comment"}"#.to_vec(),
            422,
        ),
        (
            "empty title",
            threads.into(),
            "application/json",
            br#"{"title":"  ","body":"x","kind":"comment"}"#.to_vec(),
            422,
        ),
        (
            "bad language",
            threads.into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment","language":"english!"}"#.to_vec(),
            422,
        ),
        (
            "unknown region",
            "/regions/atlantis/threads".into(),
            "application/json",
            br#"{"title":"abc","body":"x","kind":"comment"}"#.to_vec(),
            404,
        ),
        (
            "parent from another thread",
            posts.clone(),
            "application/json",
            format!(r#"{{"body":"x","kind":"comment","parent_id":{other_post}}}"#).into_bytes(),
            422,
        ),
        (
            "unknown parent",
            posts.clone(),
            "application/json",
            br#"{"body":"x","kind":"comment","parent_id":987654}"#.to_vec(),
            422,
        ),
        (
            "negative parent",
            posts.clone(),
            "application/json",
            br#"{"body":"x","kind":"comment","parent_id":-1}"#.to_vec(),
            422,
        ),
        (
            "oversize body",
            posts.clone(),
            "application/json",
            serde_json::to_vec(&json!({"body": "ж".repeat(20_001), "kind": "comment"}))
                .unwrap_or_default(),
            422,
        ),
        (
            "oversize request",
            posts.clone(),
            "application/json",
            serde_json::to_vec(&json!({"body": "x".repeat(300_000), "kind": "comment"}))
                .unwrap_or_default(),
            413,
        ),
        (
            "unknown thread",
            "/threads/99999999/posts".into(),
            "application/json",
            br#"{"body":"x","kind":"comment"}"#.to_vec(),
            404,
        ),
        (
            "non-numeric thread",
            "/threads/abc/posts".into(),
            "application/json",
            br#"{"body":"x","kind":"comment"}"#.to_vec(),
            404,
        ),
        (
            "deeply nested JSON",
            posts.clone(),
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            422,
        ),
        (
            "JSON null",
            posts.clone(),
            "application/json",
            b"null".to_vec(),
            422,
        ),
        (
            "invalid UTF-8",
            posts.clone(),
            "application/json",
            b"{\"body\":\"\xff\xfe\",\"kind\":\"comment\"}".to_vec(),
            400,
        ),
    ];
    for (what, path, ct, body, expected) in cases {
        let res = raw(&path, ct, body).await.expect("send");
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let v: Value = res.json().await.unwrap_or_default();
        assert_problem(status, &v, expected, what);
        assert_eq!(ctype, "application/problem+json", "{what}");
    }
    let (s, v) = app.get("/regions/europe/threads?objective=24", None).await;
    assert_problem(s, &v, 422, "list objective 24");
    let (s, v) = app.get("/regions/europe/threads?sort=random", None).await;
    assert_problem(s, &v, 422, "unknown sort");
    let (s, v) = app.get("/regions/europe/threads?limit=0", None).await;
    assert_problem(s, &v, 422, "limit 0");
    let (s, v) = app.get("/regions/europe/threads?limit=201", None).await;
    assert_problem(s, &v, 422, "limit 201");
    let (s, v) = app.get("/regions/europe/threads?cursor=forged", None).await;
    assert_problem(s, &v, 422, "forged cursor");
    let (s, v) = app
        .get(&format!("/threads/{t}/posts?cursor=%%%"), None)
        .await;
    assert!(s == 400 || s == 422, "{s} {v}");
    let (s, v) = app.get("/regions/atlantis", None).await;
    assert_problem(s, &v, 404, "unknown region");
    let (s, v) = app.get("/nowhere", None).await;
    assert_problem(s, &v, 404, "unknown route");
    let (s, v) = app.send(Method::DELETE, "/regions", None, None).await;
    assert_problem(s, &v, 405, "wrong method");
    let (s, v) = app
        .send(
            Method::PATCH,
            &format!("/posts/{root}"),
            Some(&ana.token),
            Some(json!({})),
        )
        .await;
    assert_problem(s, &v, 422, "empty edit");
    let after = (
        app.count("threads").await,
        app.count("posts").await,
        app.count("events").await,
    );
    assert_eq!(before, after, "refused requests changed nothing");
    app.finish().await;
}

/// Base64 (URL-safe, no padding) of bytes, as the store encodes cursors.
fn cursor_of(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Text PostgreSQL refuses (a NUL) or that a single-line field has no use for, in every field,
/// parameter and cursor a client controls: each is a 4xx problem+json, none a 500 (PostgreSQL
/// answered SQLSTATE 22021 to a NUL and the server failed), and nothing is written.
async fn hostile_text_is_refused_before_the_database(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let (t, root) = app
        .thread(&ana, "europe", "Alternatives to detention", "It works.")
        .await;
    let tables = [
        "users",
        "sessions",
        "threads",
        "posts",
        "post_revisions",
        "events",
        "flags",
        "appeals",
        "moderation_notes",
        "decisions",
        "suspensions",
        "idempotency_keys",
        "audit_log",
    ];
    let counts = || async {
        let mut v = Vec::new();
        for table in tables {
            v.push((table, app.count(table).await));
        }
        v
    };
    let before = counts().await;
    let nul = "a\u{0}b";
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let register = |field: &str, value: &str| {
        let mut b = json!({"email": "new@example.org", "password": "a long enough passphrase",
            "display_name": "New", "stakeholder_group": "academia", "organisation": "Org"});
        b[field] = json!(value);
        b
    };
    let (a, m) = (Some(ana.token.as_str()), Some(mo.token.as_str()));
    let b = Some(ben.token.as_str());
    let threads = "/regions/europe/threads".to_string();
    let posts = format!("/threads/{t}/posts");
    // (what, method, path, token, body, the field the problem names)
    #[allow(clippy::type_complexity)]
    let cases: Vec<(
        &str,
        Method,
        String,
        Option<&str>,
        Option<Value>,
        Option<&str>,
    )> = vec![
        (
            "thread page cursor of a NUL",
            Method::GET,
            format!("{posts}?cursor=AA"),
            None,
            None,
            Some("cursor"),
        ),
        (
            "thread page cursor not a path",
            Method::GET,
            format!("{posts}?cursor={}", cursor_of(b"abc")),
            None,
            None,
            Some("cursor"),
        ),
        (
            "thread page cursor with a NUL in a path",
            Method::GET,
            format!("{posts}?cursor={}", cursor_of(b"000000000001/\0")),
            None,
            None,
            Some("cursor"),
        ),
        (
            "thread list cursor with a NUL",
            Method::GET,
            format!("{threads}?cursor={}", cursor_of(b"0\x1f\x001\x1f2")),
            None,
            None,
            Some("cursor"),
        ),
        (
            "moderation queue cursor with a NUL",
            Method::GET,
            format!(
                "/moderation/queue?region=europe&cursor={}",
                cursor_of(b"0\x1f1\x1f\0")
            ),
            m,
            None,
            Some("cursor"),
        ),
        (
            "search with a NUL",
            Method::GET,
            format!("{threads}?q=a%00b"),
            None,
            None,
            Some("q"),
        ),
        (
            "search of a NUL alone",
            Method::GET,
            format!("{threads}?q=%00"),
            None,
            None,
            Some("q"),
        ),
        (
            "search with a control character",
            Method::GET,
            format!("{threads}?q=a%01b"),
            None,
            None,
            Some("q"),
        ),
        (
            "moderation log region with a NUL",
            Method::GET,
            "/moderation/log?region=europe%00".into(),
            m,
            None,
            Some("region"),
        ),
        (
            "live ticket with a NUL",
            Method::GET,
            "/events?ticket=a%00b&channels=region:europe".into(),
            None,
            None,
            Some("ticket"),
        ),
        (
            "register e-mail with a NUL",
            Method::POST,
            "/auth/register".into(),
            None,
            Some(register("email", "n\u{0}ew@example.org")),
            Some("email"),
        ),
        (
            "register password with a NUL",
            Method::POST,
            "/auth/register".into(),
            None,
            Some(register("password", "a long enough\u{0}passphrase")),
            Some("password"),
        ),
        (
            "display name with a NUL",
            Method::POST,
            "/auth/register".into(),
            None,
            Some(register("display_name", nul)),
            Some("display_name"),
        ),
        (
            "organisation with a NUL",
            Method::POST,
            "/auth/register".into(),
            None,
            Some(register("organisation", nul)),
            Some("organisation"),
        ),
        (
            "country with a NUL",
            Method::POST,
            "/auth/register".into(),
            None,
            Some(register("country", "K\u{0}")),
            Some("country"),
        ),
        (
            "thread title with a NUL",
            Method::POST,
            threads.clone(),
            a,
            Some(json!({"title": "A title\u{0}", "body": "x", "kind": "comment"})),
            Some("title"),
        ),
        (
            "thread body with a NUL",
            Method::POST,
            threads.clone(),
            a,
            Some(json!({"title": "A title", "body": nul, "kind": "comment"})),
            Some("body"),
        ),
        (
            "thread language with a NUL",
            Method::POST,
            threads.clone(),
            a,
            Some(
                json!({"title": "A title", "body": "x", "kind": "comment", "language": "en\u{0}"}),
            ),
            Some("language"),
        ),
        (
            "post body with a NUL",
            Method::POST,
            posts.clone(),
            a,
            Some(json!({"body": "line\n\tand a NUL \u{0}", "kind": "comment"})),
            Some("body"),
        ),
        (
            "edited body with a NUL",
            Method::PATCH,
            format!("/posts/{root}"),
            a,
            Some(json!({"body": nul})),
            Some("body"),
        ),
        (
            "flag note with a NUL",
            Method::POST,
            format!("/posts/{root}/flags"),
            b,
            Some(json!({"reason": "spam", "note": nul})),
            Some("note"),
        ),
        (
            "appeal note with a NUL",
            Method::POST,
            format!("/posts/{root}/appeal"),
            a,
            Some(json!({"note": nul})),
            Some("note"),
        ),
        (
            "moderation note with a NUL",
            Method::POST,
            format!("/moderation/posts/{root}/notes"),
            m,
            Some(json!({"note": nul})),
            Some("note"),
        ),
        (
            "decision reason with a NUL",
            Method::POST,
            format!("/moderation/posts/{root}/decision"),
            m,
            Some(json!({"action": "hide", "reason": nul})),
            Some("reason"),
        ),
        (
            "bulk reason with a NUL",
            Method::POST,
            "/moderation/decisions".into(),
            m,
            Some(json!({"post_ids": [root], "action": "hide", "reason": nul})),
            Some("reason"),
        ),
        (
            "thread reason with a NUL",
            Method::POST,
            format!("/moderation/threads/{t}/decision"),
            m,
            Some(json!({"action": "pin", "reason": nul})),
            Some("reason"),
        ),
        (
            "move to a region with a NUL",
            Method::POST,
            format!("/moderation/threads/{t}/decision"),
            m,
            Some(json!({"action": "move", "reason": "elsewhere", "region": "africa\u{0}"})),
            Some("region"),
        ),
        (
            "suspension reason with a NUL",
            Method::POST,
            format!("/moderation/users/{}/suspension", ben.id),
            m,
            Some(json!({"until": until, "reason": nul})),
            Some("reason"),
        ),
    ];
    let mut failed = Vec::new();
    for (what, method, path, token, body, field) in cases {
        let mut req = app.http.request(method, app.api(&path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("send");
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let v: Value = res.json().await.unwrap_or_default();
        let ok = (400..500).contains(&status)
            && v["status"].as_u64() == Some(u64::from(status))
            && ctype == "application/problem+json"
            && field.is_none_or(|f| status == 422 && v["errors"][0]["field"] == f);
        if !ok {
            failed.push(format!("{what}: {status} {ctype} {v}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));

    // Sign-in with an address registration would refuse: the 401 of a wrong password.
    let (_, wrong) = app
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": ana.email, "password": "not the passphrase"})),
        )
        .await;
    for email in ["\u{0}@x.org", "ana\u{0}@example.org", "a\u{1}@x.org"] {
        let (s, v) = app
            .send(
                Method::POST,
                "/auth/login",
                None,
                Some(json!({"email": email, "password": "a long enough passphrase"})),
            )
            .await;
        assert_problem(s, &v, 401, "sign-in with a NUL in the e-mail");
        assert_eq!(v, wrong, "{email:?}");
    }
    let (s, v) = app
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": ana.email, "password": "a long enough\u{0}passphrase"})),
        )
        .await;
    assert_problem(s, &v, 401, "sign-in with a NUL in the password");

    // An Idempotency-Key of other than visible ASCII.
    let res = app
        .http
        .post(app.api(&posts))
        .bearer_auth(&ana.token)
        .header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes(b"key\xff").expect("header"),
        )
        .json(&json!({"body": "x", "kind": "comment"}))
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap_or_default();
    assert_problem(status, &v, 422, "Idempotency-Key not ASCII");

    assert_eq!(before, counts().await, "refused requests stored nothing");

    // Multi-line bodies keep their newlines and tabs.
    let p = app
        .reply(&ana, t, Some(root), "First line\n\n\tindented\r\nlast")
        .await;
    assert!(
        p["body"]
            .as_str()
            .is_some_and(|b| b.contains("\n\tindented")),
        "{p}"
    );
    app.finish().await;
}

/// Deterministic pseudo-random JSON of every shape (no extra dependency): the same seed gives
/// the same corpus, so a failure reproduces.
fn xorshift(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

fn random_json(rng: &mut u64, depth: u32) -> Value {
    let pick = xorshift(rng) % if depth > 3 { 6 } else { 8 };
    let strings = [
        "comment",
        "recommendation",
        "europe",
        "",
        "ж",
        "𝕏",
        "\u{0}",
        "<script>",
        "9999999999999999999999",
    ];
    match pick {
        0 => Value::Null,
        1 => Value::Bool(xorshift(rng).is_multiple_of(2)),
        2 => json!((xorshift(rng) % 50) as i64 - 10),
        3 => json!(f64::from((xorshift(rng) % 1000) as u32) / 7.0),
        4 => json!(i64::MAX),
        5 => json!(strings[(xorshift(rng) % strings.len() as u64) as usize]),
        6 => Value::Array(
            (0..xorshift(rng) % 4)
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "title",
                "body",
                "kind",
                "objectives",
                "aspects",
                "language",
                "parent_id",
                "email",
                "password",
                "x",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..(xorshift(rng) % 6) {
                let k = keys[(xorshift(rng) % keys.len() as u64) as usize];
                m.insert(k.to_string(), random_json(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

async fn arbitrary_bodies_never_make_the_server_fail(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, root) = app.thread(&ana, "europe", "Fuzz target", "Seed.").await;
    let routes: Vec<(Method, String)> = vec![
        (Method::POST, "/regions/europe/threads".into()),
        (Method::POST, format!("/threads/{t}/posts")),
        (Method::PATCH, format!("/posts/{root}")),
        (Method::POST, "/auth/register".into()),
        (Method::POST, "/auth/login".into()),
    ];
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..300 {
        let body = random_json(&mut rng, 0);
        let (m, path) = &routes[i % routes.len()];
        let (s, v) = app
            .send(m.clone(), path, Some(&ana.token), Some(body.clone()))
            .await;
        assert!(s < 500, "{m} {path} with {body} answered {s}: {v}");
        *seen.entry(s).or_insert(0) += 1;
    }
    // The corpus exercises refusals, not just one status.
    assert!(seen.keys().filter(|s| **s >= 400).count() >= 2, "{seen:?}");
    app.finish().await;
}

async fn search_finds_english_chinese_and_arabic(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (en, _) = app
        .thread(
            &ana,
            "asia-pacific",
            "Remittance corridors",
            "Digital remittances cut fees for migrant families.",
        )
        .await;
    let (zh, _) = app
        .thread(
            &ana,
            "asia-pacific",
            "移民工人",
            "移民工人需要获得医疗服务和体面的住房。",
        )
        .await;
    let (ar, _) = app
        .thread(
            &ana,
            "asia-pacific",
            "العمال المهاجرون",
            "يحتاج العمال المهاجرون إلى الحصول على الخدمات الصحية.",
        )
        .await;
    let (other, _) = app
        .thread(
            &ana,
            "europe",
            "Remittances in Europe",
            "Remittances matter here too.",
        )
        .await;
    let find = |q: &str| {
        let q = q.to_string();
        let app = &app;
        async move {
            let v = app
                .call(
                    Method::GET,
                    format!("/regions/asia-pacific/threads?q={}", urlencode(&q)),
                )
                .expect(200)
                .await;
            v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["id"].as_i64())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("remittances").await, vec![en]);
    assert_eq!(
        find("REMITTANCE corridors").await,
        vec![en],
        "title words are searchable"
    );
    assert_eq!(find("医疗服务").await, vec![zh]);
    assert_eq!(find("住房").await, vec![zh]);
    assert_eq!(find("المهاجرون").await, vec![ar]);
    assert_eq!(find("الصحية").await, vec![ar]);
    assert!(find("detention").await.is_empty());
    assert!(find("教育").await.is_empty());
    // A query of punctuation only does not filter.
    assert_eq!(find("!!").await.len(), 3);
    let _ = other;
    // Edits are re-indexed.
    let (_, th) = app.get(&format!("/threads/{en}"), None).await;
    let opening = th["opening_post_id"].as_i64().unwrap_or_default();
    app.call(Method::PATCH, format!("/posts/{opening}"))
        .by(&ana)
        .json(json!({"body": "Consular protection abroad."}))
        .expect(200)
        .await;
    assert_eq!(find("consular").await, vec![en]);
    assert_eq!(find("fees").await, Vec::<i64>::new());
    app.finish().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn thread_lists_filter_sort_and_paginate(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let kind = if i % 2 == 0 {
            "recommendation"
        } else {
            "report"
        };
        let v = app.call(Method::POST, "/regions/latin-america-caribbean/threads").by(&ana).json(json!({
                "title": format!("Thread {i}"), "body": format!("Body {i}"), "kind": kind, "objectives": [i + 1]})).expect(201).await;
        ids.push((
            v["id"].as_i64().unwrap_or_default(),
            v["opening_post"]["id"].as_i64().unwrap_or_default(),
        ));
    }
    // Activity: a reply lifts an old thread to the top.
    app.reply(&ben, ids[0].0, None, "bump").await;
    let (_, v) = app
        .get("/regions/latin-america-caribbean/threads", None)
        .await;
    let order: Vec<i64> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    assert_eq!(order[0], ids[0].0);
    assert_eq!(order.len(), 7);
    // New: newest first.
    let (_, v) = app
        .get("/regions/latin-america-caribbean/threads?sort=new", None)
        .await;
    let order: Vec<i64> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    let mut newest: Vec<i64> = ids.iter().map(|x| x.0).collect();
    newest.reverse();
    assert_eq!(order, newest);
    // Top: most endorsed first.
    app.send(
        Method::PUT,
        &format!("/posts/{}/endorsement", ids[3].1),
        Some(&ben.token),
        None,
    )
    .await;
    let (_, v) = app
        .get(
            "/regions/latin-america-caribbean/threads?sort=top&limit=1",
            None,
        )
        .await;
    assert_eq!(v["items"][0]["id"].as_i64(), Some(ids[3].0));
    // Filters.
    let (_, v) = app
        .get("/regions/latin-america-caribbean/threads?objective=3", None)
        .await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["items"][0]["id"].as_i64(), Some(ids[2].0));
    let (_, v) = app
        .get("/regions/latin-america-caribbean/threads?kind=report", None)
        .await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(3));
    let (_, v) = app.get("/regions/europe/threads", None).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    // Pages of 3 cover every thread once, in each order.
    for sort in ["activity", "new", "top"] {
        let mut seen = Vec::new();
        let mut path = format!("/regions/latin-america-caribbean/threads?sort={sort}&limit=3");
        for _ in 0..10 {
            let v = app.call(Method::GET, &path).expect(200).await;
            seen.extend(
                v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["id"].as_i64()),
            );
            match v["next_cursor"].as_str() {
                Some(c) => {
                    path = format!(
                        "/regions/latin-america-caribbean/threads?sort={sort}&limit=3&cursor={c}"
                    )
                }
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!((seen.len(), sorted.len()), (7, 7), "{sort}: {seen:?}");
    }
    app.finish().await;
}

async fn removed_posts_are_tombstones(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let (t, root) = app
        .thread(&ana, "arab-region", "Consular support", "Opening")
        .await;
    let mine = app
        .reply(&ben, t, Some(root), "My personal details: +00 555 0100")
        .await;
    let mine_id = mine["id"].as_i64().unwrap_or_default();
    let child = app.reply(&ana, t, Some(mine_id), "A reply to it").await;
    app.call(Method::DELETE, format!("/posts/{mine_id}"))
        .by(&ben)
        .expect(204)
        .await;
    let posts = app.all_posts(t, None).await;
    let tomb = posts
        .iter()
        .find(|p| p["id"].as_i64() == Some(mine_id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(tomb["status"], "removed");
    assert_eq!(tomb["body"], Value::Null);
    assert_eq!(tomb["body_html"], Value::Null);
    assert!(
        posts.iter().any(|p| p["id"] == child["id"]),
        "replies keep their place"
    );
    // Content is erased from storage, not just hidden.
    let stored: String = sqlx::query_scalar("SELECT body FROM posts WHERE id = $1")
        .bind(mine_id)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap_or_default();
    assert_eq!(stored, "");
    let (_, revs) = app.get(&format!("/posts/{mine_id}/revisions"), None).await;
    assert_eq!(revs, json!([]));
    app.call(Method::PATCH, format!("/posts/{mine_id}"))
        .by(&ben)
        .json(json!({"body": "back"}))
        .expect(409)
        .await;
    let (_, th) = app.get(&format!("/threads/{t}"), None).await;
    assert_eq!(th["post_count"], 2);
    app.finish().await;
}

async fn regions_objectives_and_operations(db: Db) {
    let app = TestApp::spawn(db).await;
    let v = app.call(Method::GET, "/regions").expect(200).await;
    let slugs: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["slug"].as_str())
        .collect();
    assert_eq!(
        slugs,
        vec![
            "africa",
            "arab-region",
            "asia-pacific",
            "europe",
            "latin-america-caribbean"
        ]
    );
    for r in v.as_array().into_iter().flatten() {
        assert!(
            r["calendar"]["cycles"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{r}"
        );
        assert!(r["languages"].as_array().is_some_and(|l| !l.is_empty()));
        assert!(r["counts"]["threads"].is_i64());
    }
    let (s, europe) = app.get("/regions/europe", None).await;
    assert_eq!(s, 200);
    assert_eq!(europe["slug"], "europe");

    let res = app
        .http
        .get(app.api("/objectives"))
        .header("accept-language", "fr-CH, fr;q=0.9, en;q=0.5")
        .send()
        .await
        .expect("send");
    let v: Value = res.json().await.unwrap_or_default();
    assert_eq!(v.as_array().map(Vec::len), Some(23));
    assert_eq!(v[22]["title"], "Coopération internationale");
    assert_eq!(v[0]["cluster"], 4);
    let (_, v) = app.get("/objectives", None).await;
    assert_eq!(v[4]["title"], "Regular pathways");

    let health: Value = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(health["status"], "ok");
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(ready.status(), 200);
    assert!(
        ready.headers().contains_key("x-request-id"),
        "request ids are propagated"
    );
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .unwrap_or_default();
    assert!(metrics.contains("http_requests_total"), "{metrics}");

    let doc: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "GCM regional discussion hub");
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/regions", "get"),
        ("/api/v1/regions/{slug}", "get"),
        ("/api/v1/objectives", "get"),
        ("/api/v1/regions/{slug}/threads", "get"),
        ("/api/v1/regions/{slug}/threads", "post"),
        ("/api/v1/threads/{id}", "get"),
        ("/api/v1/threads/{id}/posts", "get"),
        ("/api/v1/threads/{id}/posts", "post"),
        ("/api/v1/posts/{id}", "get"),
        ("/api/v1/posts/{id}", "patch"),
        ("/api/v1/posts/{id}", "delete"),
        ("/api/v1/posts/{id}/revisions", "get"),
        ("/api/v1/posts/{id}/endorsement", "put"),
        ("/api/v1/posts/{id}/endorsement", "delete"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/api/v1/ws", "get"),
        ("/api/v1/ws/ticket", "post"),
        ("/api/v1/events", "get"),
        ("/api/v1/posts/{id}/flags", "post"),
        ("/api/v1/posts/{id}/appeal", "post"),
        ("/api/v1/moderation/queue", "get"),
        ("/api/v1/moderation/posts/{id}/decision", "post"),
        ("/api/v1/moderation/threads/{id}/decision", "post"),
        ("/api/v1/moderation/users/{id}/suspension", "post"),
        ("/api/v1/moderation/users/{id}/suspension", "delete"),
        ("/api/v1/moderation/log", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "OpenAPI lacks {method} {path}"
        );
    }
    app.finish().await;
}

/// A thread whose opening post is not published (rejected in pre-moderation, hidden) does not
/// exist for others than its author and the region's moderators: not its title in the list,
/// not the thread, not its page; restoring the post brings it back.
async fn a_thread_stands_on_its_opening_post(db: Db) {
    let app = TestApp::spawn_premoderated(db, "europe").await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let title = "Call Jane Doe on +44 7700 900123";
    let v = app
        .call(Method::POST, "/regions/europe/threads")
        .by(&ana)
        .json(json!({"title": title, "body": "Held for review", "kind": "comment"}))
        .expect(201)
        .await;
    let t = v["id"].as_i64().unwrap_or_default();
    let op = v["opening_post"]["id"].as_i64().unwrap_or_default();
    assert_eq!(v["opening_post"]["status"], "pending", "{v}");

    // Who sees the thread: (viewer, expected) for the thread, its page and the list.
    let check = |when: &'static str, others_see: bool| {
        let app = &app;
        let (ana, ben, mo) = (ana.token.clone(), ben.token.clone(), mo.token.clone());
        async move {
            for (who, token, sees) in [
                ("anonymous", None, others_see),
                ("another user", Some(ben.as_str()), others_see),
                ("the author", Some(ana.as_str()), true),
                ("the moderator", Some(mo.as_str()), true),
            ] {
                let (s, _) = app.get(&format!("/threads/{t}"), token).await;
                assert_eq!(s == 200, sees, "{when}: {who} reads the thread ({s})");
                let (s, _) = app.get(&format!("/threads/{t}/posts"), token).await;
                assert_eq!(s == 200, sees, "{when}: {who} reads its page ({s})");
                let list = app
                    .call(Method::GET, "/regions/europe/threads")
                    .token_opt(token)
                    .expect(200)
                    .await;
                let listed = list["items"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|th| th["id"] == t));
                assert_eq!(listed, sees, "{when}: {who} finds it listed: {list}");
            }
        }
    };
    check("pending", false).await;
    let decide = |action: &'static str| {
        let app = &app;
        let mo = mo.token.clone();
        async move {
            let (s, d) = app
                .post(
                    &format!("/moderation/posts/{op}/decision"),
                    &mo,
                    json!({"action": action, "reason": "personal data in the title"}),
                )
                .await;
            assert_eq!(s, 200, "{action}: {d}");
        }
    };
    // Rejected: it stays out of sight (its title was never public).
    decide("hide").await;
    check("rejected", false).await;
    decide("restore").await;
    check("restored", true).await;
    decide("hide").await;
    check("hidden again", false).await;
    app.finish().await;
}

/// Behind a load balancer named in `trusted_proxies`, per-address limits count each client
/// (the address the proxy forwards); without it, `X-Forwarded-For` is anyone's to write and
/// changes nothing.
async fn per_address_limits_count_clients_behind_trusted_proxies_only(db: Db) {
    use figment::providers::Serialized;
    // Stay inside one hourly window of the signup limit.
    if chrono::Utc::now().timestamp() % 3600 / 60 == 59 {
        tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    }
    let signup = |app: &TestApp, i: usize, forwarded: &'static str| {
        let req = app
            .http
            .post(app.api("/auth/register"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({
                "email": format!("u{i}-{}@example.org", uuid::Uuid::new_v4().simple()),
                "password": "a long enough passphrase",
                "display_name": format!("U{i}"), "stakeholder_group": "other"
            }));
        async move { req.send().await.expect("register").status().as_u16() }
    };
    let behind = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("limits.signups_per_ip_per_hour", 2))
            .merge(Serialized::default("trusted_proxies", vec!["127.0.0.1"]))
    })
    .await;
    let mut got = Vec::new();
    for (i, who) in [
        "198.51.100.1",
        "198.51.100.1",
        "198.51.100.1",
        "198.51.100.2",
    ]
    .into_iter()
    .enumerate()
    {
        got.push(signup(&behind, i, who).await);
    }
    assert_eq!(got, vec![201, 201, 429, 201], "each client its own budget");
    // A client cannot pick its address: only what the proxy appended counts.
    let spoofed = signup(&behind, 9, "203.0.113.5, 198.51.100.1").await;
    assert_eq!(spoofed, 429);
    behind.finish().await;

    let direct = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("limits.signups_per_ip_per_hour", 2))
    })
    .await;
    let mut got = Vec::new();
    for (i, who) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .into_iter()
        .enumerate()
    {
        got.push(signup(&direct, i, who).await);
    }
    assert_eq!(got, vec![201, 201, 429], "no trusted proxy: one address");
    direct.finish().await;
}
