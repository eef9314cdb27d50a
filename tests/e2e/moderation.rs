//! Moderation end to end, on SQLite and on PostgreSQL: the authorisation matrix, the flag →
//! queue → decision → appeal → restore flow with live updates, pre-moderation, suspensions,
//! the append-only audit log, and rate limits.
#![forbid(unsafe_code)]

use figment::providers::Serialized;
use hub_tests::redis::RedisServer;
use hub_tests::ws::WsClient;
use hub_tests::{both_backends, Db, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    authorisation_matrix_of_moderation_and_admin_routes,
    flag_hide_appeal_restore_with_live_updates_and_audit,
    premoderation_holds_posts_for_the_region_moderators,
    suspended_users_cannot_post_flag_or_endorse,
    the_audit_log_is_append_only,
    rate_limits_hold_exactly_at_the_boundary,
    thread_pages_are_cached_only_while_nothing_on_them_changes,
    suspended_moderators_lose_their_powers_and_lift_only_in_their_scope,
    suspended_authors_cannot_edit_their_posts,
    a_removed_post_leaves_the_queue_and_cannot_be_appealed,
    moderators_edits_of_others_posts_are_audited,
    editing_an_opening_post_keeps_its_title_searchable,
    bulk_decisions_change_nothing_unless_every_post_can_be_decided,
    an_edit_waits_for_review_where_a_new_post_would,
    a_suspended_admin_cannot_change_roles_and_changes_are_logged,
    a_suspended_user_cannot_post_by_retrying_a_key,
    a_thread_counts_only_its_published_posts_endorsements,
    withheld_posts_and_threads_take_no_replies_from_others,
    a_post_a_moderator_kept_is_not_hidden_by_flags_again,
);

const WAIT: Duration = Duration::from_secs(10);

async fn moderator(app: &TestApp, name: &str, region: &str) -> TestUser {
    let u = app.register(name).await;
    app.grant_moderator(u.id, region).await;
    u
}

async fn with_role(app: &TestApp, name: &str, role: hub_domain::RoleKind) -> TestUser {
    let u = app.register(name).await;
    app.server
        .store
        .grant_role(u.id, &hub_domain::Role { role, region: None })
        .await
        .expect("grant");
    u
}

async fn authorisation_matrix_of_moderation_and_admin_routes(db: Db) {
    let app = TestApp::spawn(db).await;
    let author = app.register("Author").await;
    let flagger = app.register("Flagger").await;
    let target = app.register("Target").await;
    let stakeholder = app.register("Stakeholder").await;
    let mod_europe = moderator(&app, "Mod Europe", "europe").await;
    let mod_africa = moderator(&app, "Mod Africa", "africa").await;
    let secretariat = with_role(&app, "Secretariat", hub_domain::RoleKind::Secretariat).await;
    let admin = with_role(&app, "Admin", hub_domain::RoleKind::Admin).await;
    let roles: Vec<(&str, Option<&TestUser>)> = vec![
        ("anonymous", None),
        ("stakeholder", Some(&stakeholder)),
        ("moderator of europe", Some(&mod_europe)),
        ("moderator of africa", Some(&mod_africa)),
        ("secretariat", Some(&secretariat)),
        ("admin", Some(&admin)),
    ];
    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    // Expected status per route (rows) and role (columns, in the order above).
    let expected: Vec<(&str, [u16; 6])> = vec![
        ("GET queue", [401, 403, 200, 403, 403, 403]),
        ("GET log", [401, 403, 200, 403, 403, 403]),
        ("POST assign", [401, 403, 204, 403, 403, 403]),
        ("POST note", [401, 403, 201, 403, 403, 403]),
        ("POST thread decision", [401, 403, 200, 403, 403, 403]),
        ("POST post decision", [401, 403, 200, 403, 403, 403]),
        ("POST bulk decision", [401, 403, 200, 403, 403, 403]),
        ("POST suspension", [401, 403, 201, 403, 403, 201]),
        ("DELETE suspension", [401, 403, 204, 403, 403, 204]),
        ("POST role", [401, 403, 403, 403, 403, 200]),
        ("DELETE role", [401, 403, 403, 403, 403, 200]),
    ];
    let mut mismatches = Vec::new();
    for (col, (role_name, user)) in roles.iter().enumerate() {
        // Fresh objects for each role: a thread in Europe and a flagged post in it.
        let (t, _) = app
            .thread(
                &author,
                "europe",
                &format!("Matrix {role_name}"),
                &format!("opening for {role_name}"),
            )
            .await;
        let p = app
            .reply(&author, t, None, &format!("flag me ({role_name})"))
            .await["id"]
            .as_i64()
            .unwrap_or_default();
        let (s, _) = flag(&app, &flagger, p, "off_topic").await;
        assert_eq!(s, 201);
        let token = user.map(|u| u.token.as_str());
        let calls: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/moderation/queue?region=europe".into(), None),
            (Method::GET, "/moderation/log?region=europe".into(), None),
            (Method::POST, format!("/moderation/posts/{p}/assign"), None),
            (
                Method::POST,
                format!("/moderation/posts/{p}/notes"),
                Some(json!({"note": "looks fine"})),
            ),
            (
                Method::POST,
                format!("/moderation/threads/{t}/decision"),
                Some(json!({"action": "pin", "reason": "useful"})),
            ),
            (
                Method::POST,
                format!("/moderation/posts/{p}/decision"),
                Some(json!({"action": "approve", "reason": "within the rules"})),
            ),
            (
                Method::POST,
                "/moderation/decisions".into(),
                Some(json!({"post_ids": [p], "action": "approve", "reason": "bulk"})),
            ),
            (
                Method::POST,
                format!("/moderation/users/{}/suspension", author.id),
                Some(json!({"until": until, "reason": "matrix"})),
            ),
            (
                Method::DELETE,
                format!("/moderation/users/{}/suspension", author.id),
                None,
            ),
            (
                Method::POST,
                format!("/admin/users/{}/roles", target.id),
                Some(json!({"role": "secretariat"})),
            ),
            (
                Method::DELETE,
                format!("/admin/users/{}/roles", target.id),
                Some(json!({"role": "secretariat"})),
            ),
        ];
        for (row, (m, path, body)) in calls.into_iter().enumerate() {
            let (s, v) = app.send(m, &path, token, body).await;
            let (name, want) = expected[row];
            if s != want[col] {
                mismatches.push(format!(
                    "{name} as {role_name}: got {s}, expected {} ({v})",
                    want[col]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    app.finish().await;
}

async fn flag_hide_appeal_restore_with_live_updates_and_audit(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("moderation.flag_threshold", 2))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let cai = app.register("Cai").await;
    let dan = app.register("Dan").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, _) = app
        .thread(&ana, "europe", "Labour inspections", "opening")
        .await;
    let post = app
        .reply(&ana, t, None, "Contact me at +00 555 0100 for details")
        .await;
    let pid = post["id"].as_i64().unwrap_or_default();

    let bearer = |u: &TestUser| format!("Bearer {}", u.token);
    let mut mod_ws = WsClient::connect(&app.ws_url(""), &[("authorization", &bearer(&mo))])
        .await
        .expect("ws");
    mod_ws.subscribe(&["moderation:europe"], None).await;
    let mut ana_ws = WsClient::connect(&app.ws_url(""), &[("authorization", &bearer(&ana))])
        .await
        .expect("ws");
    ana_ws.subscribe(&[&format!("user:{}", ana.id)], None).await;

    // Two flags cross the threshold: the post disappears for others.
    let (s, v) = app
        .post(
            &format!("/posts/{pid}/flags"),
            &ben.token,
            json!({"reason": "personal_data", "note": "phone number"}),
        )
        .await;
    assert_eq!((s, v["hidden"].as_bool()), (201, Some(false)), "{v}");
    let (s, _) = flag(&app, &ben, pid, "spam").await;
    assert_eq!(s, 409, "one open flag per user per post");
    let (s, _) = flag(&app, &ana, pid, "spam").await;
    assert_eq!(s, 409, "authors do not flag their own posts");
    let (s, v) = flag(&app, &cai, pid, "abuse").await;
    assert_eq!((s, v["hidden"].as_bool()), (201, Some(true)), "{v}");
    let (_, seen_by_dan) = app.get(&format!("/posts/{pid}"), Some(&dan.token)).await;
    assert_eq!(
        (
            seen_by_dan["status"].as_str(),
            seen_by_dan["body"].is_null()
        ),
        (Some("hidden"), true)
    );
    let (_, seen_by_ana) = app.get(&format!("/posts/{pid}"), Some(&ana.token)).await;
    assert!(
        seen_by_ana["body"].is_string() && seen_by_ana["status_reason"].is_string(),
        "the author still sees it, with why"
    );

    // The moderator saw both flags arrive live, and the post leads the queue.
    let flags: Vec<Value> = mod_ws.events(10, Duration::from_secs(3)).await;
    assert_eq!(
        flags.iter().filter(|e| e["type"] == "flag.created").count(),
        2,
        "{flags:?}"
    );
    let other = app.reply(&ana, t, None, "a milder post").await["id"]
        .as_i64()
        .unwrap_or_default();
    flag(&app, &dan, other, "off_topic").await;
    let q = app
        .call(Method::GET, "/moderation/queue?region=europe")
        .by(&mo)
        .expect(200)
        .await;
    let order: Vec<i64> = q["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["post"]["id"].as_i64())
        .collect();
    assert_eq!(order, vec![pid, other], "personal data first");
    assert_eq!(q["items"][0]["personal_data_flags"], 1);
    assert_eq!(q["items"][0]["open_flags"], 2);

    // "I take this", a note, then a decision with a reason the author sees live.
    app.call(Method::POST, format!("/moderation/posts/{pid}/assign"))
        .by(&mo)
        .expect(204)
        .await;
    app.call(Method::POST, format!("/moderation/posts/{pid}/notes"))
        .by(&mo)
        .json(json!({"note": "phone number visible"}))
        .expect(201)
        .await;
    let (s, d) = decide(
        &app,
        &mo,
        pid,
        "hide",
        "Personal data: please remove the phone number",
    )
    .await;
    assert_eq!(s, 200, "{d}");
    let told = ana_ws.events(1, WAIT).await;
    assert_eq!(
        told.first().map(|e| e["type"].clone()),
        Some(json!("decision.made"))
    );
    assert_eq!(
        told[0]["data"]["reason"],
        "Personal data: please remove the phone number"
    );

    // The author appeals once; it lands back in the queue.
    // Only the author appeals
    app.call(Method::POST, format!("/posts/{pid}/appeal"))
        .by(&ben)
        .json(json!({"note": "not mine"}))
        .expect(403)
        .await;
    app.call(Method::POST, format!("/posts/{pid}/appeal"))
        .by(&ana)
        .json(json!({"note": "I removed the number; it was my office line"}))
        .expect(201)
        .await;
    // Once per decision
    app.call(Method::POST, format!("/posts/{pid}/appeal"))
        .by(&ana)
        .json(json!({"note": "again"}))
        .expect(409)
        .await;
    let (_, q) = app
        .get("/moderation/queue?region=europe", Some(&mo.token))
        .await;
    let item = q["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["post"]["id"].as_i64() == Some(pid))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        item["appeal"],
        "I removed the number; it was my office line"
    );
    let appealed = mod_ws.events(10, Duration::from_secs(2)).await;
    assert!(
        appealed
            .iter()
            .any(|e| e["type"] == "queue.updated" && e["data"]["change"] == "appealed"),
        "{appealed:?}"
    );

    // Restored: visible again to everyone.
    let (s, _) = decide(&app, &mo, pid, "restore", "Appeal accepted").await;
    assert_eq!(s, 200);
    let (_, seen_by_dan) = app.get(&format!("/posts/{pid}"), Some(&dan.token)).await;
    assert_eq!(
        (
            seen_by_dan["status"].as_str(),
            seen_by_dan["body"].is_string()
        ),
        (Some("published"), true)
    );

    // The audit log holds every step, with the state before and after.
    let (_, log) = app
        .get("/moderation/log?region=europe&limit=200", Some(&mo.token))
        .await;
    let mut steps: Vec<(String, Value, Value)> = log["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["object_id"].as_i64() == Some(pid) || e["action"] == "appeal")
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_string(),
                e["before"]["status"].clone(),
                e["after"]["status"].clone(),
            )
        })
        .collect();
    steps.reverse();
    let actions: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "flag",
            "flag",
            "auto_hide",
            "assign",
            "note",
            "hide",
            "appeal",
            "restore"
        ]
    );
    let auto_hide = &steps[2];
    assert_eq!(
        (auto_hide.1.as_str(), auto_hide.2.as_str()),
        (Some("published"), Some("hidden"))
    );
    let restore = &steps[7];
    assert_eq!(
        (restore.1.as_str(), restore.2.as_str()),
        (Some("hidden"), Some("published"))
    );
    app.finish().await;
}

async fn premoderation_holds_posts_for_the_region_moderators(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default(
            "moderation.premoderation.europe",
            json!({"mode": "everything"}),
        ))
        .merge(Serialized::default(
            "moderation.premoderation.africa",
            json!({"mode": "new_accounts", "new_account_posts": 1}),
        ))
        .merge(Serialized::default(
            "moderation.premoderation.arab-region",
            json!({"mode": "links", "max_links": 1}),
        ))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = moderator(&app, "Mo", "europe").await;
    // Everything waits in Europe: the thread does not exist for others until approved.
    let (s, v) = app
        .post(
            "/regions/europe/threads",
            &ana.token,
            json!({"title": "Waiting", "body": "please review", "kind": "comment"}),
        )
        .await;
    assert_eq!(
        (s, v["opening_post"]["status"].as_str()),
        (201, Some("pending"))
    );
    let t = v["id"].as_i64().unwrap_or_default();
    let op = v["opening_post"]["id"].as_i64().unwrap_or_default();
    app.call(Method::GET, format!("/threads/{t}"))
        .by(&ben)
        .expect(404)
        .await;
    app.call(Method::GET, format!("/threads/{t}"))
        .by(&ana)
        .expect(200)
        .await;
    let (_, list) = app.get("/regions/europe/threads", None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    let (_, q) = app
        .get("/moderation/queue?region=europe", Some(&mo.token))
        .await;
    assert_eq!(q["items"][0]["post"]["id"].as_i64(), Some(op));
    let (s, _) = decide(&app, &mo, op, "approve", "fine").await;
    assert_eq!(s, 200);
    app.call(Method::GET, format!("/threads/{t}"))
        .by(&ben)
        .expect(200)
        .await;
    let (_, list) = app.get("/regions/europe/threads", None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (_, th) = app.get(&format!("/threads/{t}"), None).await;
    assert_eq!(th["post_count"], 1, "approval counts the post");
    // A moderator's own post does not wait.
    let (_, v) = app
        .post(
            "/regions/europe/threads",
            &mo.token,
            json!({"title": "Announcement", "body": "welcome", "kind": "comment"}),
        )
        .await;
    assert_eq!(v["opening_post"]["status"], "published");

    // Africa: the first post of a new account waits, the next do not once one is published.
    let (_, v) = app
        .post(
            "/regions/africa/threads",
            &ben.token,
            json!({"title": "First", "body": "my first post", "kind": "comment"}),
        )
        .await;
    assert_eq!(v["opening_post"]["status"], "pending");
    // Arab region: more than one link waits.
    let (_, v) = app
        .post(
            "/regions/arab-region/threads",
            &ana.token,
            json!({"title": "One link", "body": "see https://example.org", "kind": "comment"}),
        )
        .await;
    assert_eq!(v["opening_post"]["status"], "published");
    let (_, v) = app.post("/regions/arab-region/threads", &ana.token, json!({"title": "Two links", "body": "see https://a.example and https://b.example", "kind": "comment"})).await;
    assert_eq!(v["opening_post"]["status"], "pending");
    app.finish().await;
}

async fn suspended_users_cannot_post_flag_or_endorse(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, op) = app.thread(&ana, "europe", "Before", "opening").await;
    let until = chrono::Utc::now() + chrono::Duration::days(3);
    app.call(
        Method::POST,
        format!("/moderation/users/{}/suspension", ana.id),
    )
    .by(&mo)
    .json(json!({"until": until.to_rfc3339(), "reason": "repeated spam"}))
    .expect(201)
    .await;
    let (s, v) = app
        .post(
            &format!("/threads/{t}/posts"),
            &ana.token,
            json!({"body": "still here", "kind": "comment"}),
        )
        .await;
    assert_eq!(s, 403);
    let detail = v["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("repeated spam") && detail.contains(&until.format("%Y-%m-%d").to_string()),
        "{detail}"
    );
    let bens = app.reply(&ben, t, None, "ben's reply").await["id"]
        .as_i64()
        .unwrap_or_default();
    assert_eq!(flag(&app, &ana, bens, "spam").await.0, 403);
    app.call(Method::PUT, format!("/posts/{bens}/endorsement"))
        .by(&ana)
        .expect(403)
        .await;
    let _ = op;
    // In the past is refused; lifting restores the right to post.
    app.call(
        Method::POST,
        format!("/moderation/users/{}/suspension", ana.id),
    )
    .by(&mo)
    .json(json!({"until": "2020-01-01T00:00:00Z", "reason": "x"}))
    .expect(422)
    .await;
    app.call(
        Method::DELETE,
        format!("/moderation/users/{}/suspension", ana.id),
    )
    .by(&mo)
    .expect(204)
    .await;
    app.call(Method::POST, format!("/threads/{t}/posts"))
        .by(&ana)
        .json(json!({"body": "back again", "kind": "comment"}))
        .expect(201)
        .await;
    app.finish().await;
}

async fn the_audit_log_is_append_only(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let (_, op) = app.thread(&ana, "europe", "Audit", "opening").await;
    flag(&app, &ben, op, "other").await;
    let pool = app.server.store.pool();
    let before = app.count("audit_log").await;
    assert!(before >= 1);
    assert!(
        sqlx::query("UPDATE audit_log SET reason = 'rewritten'")
            .execute(pool)
            .await
            .is_err(),
        "updates are refused"
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .is_err(),
        "deletes are refused"
    );
    assert_eq!(app.count("audit_log").await, before);
    app.finish().await;
}

/// Waits, if needed, so the next few seconds fall in one fixed one-minute window.
async fn away_from_a_window_edge() {
    let s = chrono::Utc::now().timestamp() % 60;
    if s > 50 {
        tokio::time::sleep(Duration::from_secs(u64::try_from(61 - s).unwrap_or(0))).await;
    }
}

async fn rate_limits_hold_exactly_at_the_boundary(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("limits.posts_per_user_per_minute", 5))
            .merge(Serialized::default(
                "limits.posts_per_new_user_per_minute",
                5,
            ))
            .merge(Serialized::default(
                "limits.flags_per_new_user_per_minute",
                2,
            ))
            .merge(Serialized::default("limits.flags_per_user_per_minute", 2))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    away_from_a_window_edge().await;
    let (t, _) = app.thread(&ana, "europe", "Limits", "opening").await; // 1
    for i in 2..=5 {
        app.call(Method::POST, format!("/threads/{t}/posts"))
            .by(&ana)
            .json(json!({"body": format!("post {i}"), "kind": "comment"}))
            .expect(201)
            .await;
    }
    let res = app
        .http
        .post(app.api(&format!("/threads/{t}/posts")))
        .bearer_auth(&ana.token)
        .json(&json!({"body": "post 6", "kind": "comment"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 429, "the 6th post in a minute");
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        app.count("posts").await,
        5,
        "the refused post was not written"
    );
    // Limits are per user: Ben posts freely.
    app.call(Method::POST, format!("/threads/{t}/posts"))
        .by(&ben)
        .json(json!({"body": "ben", "kind": "comment"}))
        .expect(201)
        .await;
    // Flags: 2, then 429.
    let (_, list) = app.get(&format!("/threads/{t}/posts?limit=10"), None).await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["author"]["id"].as_i64() == Some(ana.id))
        .filter_map(|p| p["id"].as_i64())
        .collect();
    app.call(Method::POST, format!("/posts/{}/flags", ids[0]))
        .by(&ben)
        .json(json!({"reason": "spam"}))
        .expect(201)
        .await;
    app.call(Method::POST, format!("/posts/{}/flags", ids[1]))
        .by(&ben)
        .json(json!({"reason": "spam"}))
        .expect(201)
        .await;
    app.call(Method::POST, format!("/posts/{}/flags", ids[2]))
        .by(&ben)
        .json(json!({"reason": "spam"}))
        .expect(429)
        .await;
    // A double submission without an Idempotency-Key is refused as a duplicate.
    app.call(Method::POST, format!("/threads/{t}/posts"))
        .by(&ben)
        .json(json!({"body": "ben", "kind": "comment"}))
        .expect(409)
        .await;
    app.finish().await;
}

/// Two hub processes sharing one Redis share one budget: their sum never exceeds the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_never_exceed_the_limit_together() {
    let Some(redis) = RedisServer::start("the shared rate-limit test") else {
        return;
    };
    let url = redis.url.clone();
    let tweak = |f: figment::Figment| {
        f.merge(Serialized::default("redis_url", url.clone()))
            .merge(Serialized::default("limits.signups_per_ip_per_hour", 7))
    };
    let a = TestApp::spawn_with(Db::Sqlite, tweak).await;
    let b = TestApp::spawn_with(Db::Sqlite, tweak).await;
    // Stay inside one hourly window.
    let minute = chrono::Utc::now().timestamp() % 3600 / 60;
    if minute == 59 {
        tokio::time::sleep(Duration::from_secs(61)).await;
    }
    let mut created = 0;
    let mut refused = 0;
    for i in 0..20 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (s, _) = app
            .send(
                Method::POST,
                "/auth/register",
                None,
                Some(json!({
                "email": format!("u{i}@example.org"), "password": "a long enough passphrase",
                "display_name": format!("U{i}"), "stakeholder_group": "other"})),
            )
            .await;
        match s {
            201 => created += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        (created, refused),
        (7, 13),
        "7 sign-ups per address per hour across both instances"
    );
    a.finish().await;
    b.finish().await;
    drop(redis);
}

/// One page read over HTTP: status, ETag, JSON.
async fn page_read(
    app: &TestApp,
    thread: i64,
    token: Option<&str>,
    etag: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = app.http.get(app.api(&format!("/threads/{thread}/posts")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(e) = etag {
        req = req.header("If-None-Match", e);
    }
    let res = req.send().await.expect("page request");
    let status = res.status().as_u16();
    let tag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = res.text().await.unwrap_or_default();
    (
        status,
        tag,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Thread pages answered from the cache so far, by every server of this test process (the
/// metrics recorder is process-wide).
async fn cache_hits(app: &TestApp) -> f64 {
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("hub_thread_page_cache_total") && l.contains("result=\"hit\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Checks that a page's tag moved, and keeps the new one.
fn moved(tag: &mut String, new: Option<String>, what: &str) {
    let new = new.unwrap_or_else(|| panic!("{what}: no ETag"));
    assert_ne!(&new, tag, "{what}: the tag moves");
    *tag = new;
}

/// The post with this id in a page, or Null.
fn item(page: &Value, id: i64) -> Value {
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

/// The page cache never serves a page older than the thread, nor one viewer's page to another:
/// every kind of change (a reply, an edit, an endorsement, a decision, a write made outside the
/// API, an author's profile) shows at the next read, and pending or hidden posts reach only
/// A moderator's decision on a post, made by `by`.
async fn decide(
    app: &TestApp,
    by: &TestUser,
    post: i64,
    action: &str,
    reason: &str,
) -> (u16, Value) {
    app.post(
        &format!("/moderation/posts/{post}/decision"),
        &by.token,
        json!({"action": action, "reason": reason}),
    )
    .await
}

/// A flag on a post, raised by `by`.
async fn flag(app: &TestApp, by: &TestUser, post: i64, reason: &str) -> (u16, Value) {
    app.post(
        &format!("/posts/{post}/flags"),
        &by.token,
        json!({"reason": reason}),
    )
    .await
}

/// their authors and the region's moderators.
async fn thread_pages_are_cached_only_while_nothing_on_them_changes(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default(
            "moderation.premoderation.europe",
            json!({"mode": "links", "max_links": 0}),
        ))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let cai = app.register("Cai").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, op) = app
        .thread(&ana, "europe", "Labour pathways", "Seasonal work schemes.")
        .await;
    let reply = app
        .reply(&ben, t, Some(op), "Portable pensions matter.")
        .await;
    let rid = reply["id"].as_i64().expect("reply id");

    // Read twice: the same page, with a tag; the tag answers 304 with no body.
    let (s, tag, first) = page_read(&app, t, None, None).await;
    assert_eq!(s, 200);
    let tag = tag.expect("an anonymous page carries an ETag");
    let hits = cache_hits(&app).await;
    let (s, again, second) = page_read(&app, t, Some(&cai.token), None).await;
    assert_eq!((s, again.as_deref()), (200, Some(tag.as_str())));
    assert_eq!(first, second, "another reader gets the same page");
    assert!(
        cache_hits(&app).await > hits,
        "the unchanged page is answered from the cache"
    );
    let (s, _, body) = page_read(&app, t, None, Some(&tag)).await;
    assert_eq!((s, body), (304, Value::Null));

    // Each change shows at the next read, and the old tag no longer matches.
    let mut tag = tag;
    let r2 = app
        .reply(&cai, t, Some(rid), "And recognition of skills.")
        .await;
    let r2 = r2["id"].as_i64().expect("id");
    let (s, new, page) = page_read(&app, t, None, Some(&tag)).await;
    assert_eq!(s, 200, "a reply");
    assert_eq!(item(&page, r2)["depth"], 2, "a reply");
    moved(&mut tag, new, "a reply");

    app.call(Method::PATCH, format!("/posts/{rid}"))
        .by(&ben)
        .json(json!({"body": "Portable pensions matter most."}))
        .expect(200)
        .await;
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert_eq!(item(&page, rid)["body"], "Portable pensions matter most.");
    moved(&mut tag, new, "an edit");

    app.call(Method::PUT, format!("/posts/{rid}/endorsement"))
        .by(&cai)
        .expect(200)
        .await;
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert_eq!(item(&page, rid)["endorsements"], 1);
    moved(&mut tag, new, "an endorsement");

    // Hidden: a tombstone for others, the whole post for its author and the moderator, whoever
    // reads first.
    let (s, d) = decide(&app, &mo, rid, "hide", "Off topic for this thread").await;
    assert_eq!(s, 200, "{d}");
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert!(item(&page, rid)["body"].is_null(), "hidden: {page}");
    moved(&mut tag, new, "a decision");
    for (who, token) in [("the author", &ben.token), ("the moderator", &mo.token)] {
        let (s, etag, page) = page_read(&app, t, Some(token), Some(&tag)).await;
        assert_eq!(s, 200, "{who} is not told 304 for the public page");
        assert!(etag.is_none(), "{who}'s page is their own");
        assert_eq!(
            item(&page, rid)["body"],
            "Portable pensions matter most.",
            "{who}"
        );
    }
    let own = app
        .http
        .get(app.api(&format!("/threads/{t}/posts")))
        .bearer_auth(&mo.token)
        .send()
        .await
        .expect("page request");
    assert_eq!(
        own.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("private, no-store"),
        "a page with a hidden post's text is kept by nobody"
    );
    let (_, _, page) = page_read(&app, t, Some(&cai.token), None).await;
    assert!(item(&page, rid)["body"].is_null(), "still hidden for Cai");
    let (s, _) = decide(&app, &mo, rid, "restore", "Reconsidered").await;
    assert_eq!(s, 200);
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert_eq!(item(&page, rid)["body"], "Portable pensions matter most.");
    moved(&mut tag, new, "a restore");

    // A pending post (a link in a pre-moderated region): its author sees it, others do not.
    let (s, pending) = app
        .post(
            &format!("/threads/{t}/posts"),
            &cai.token,
            json!({"body": "See https://example.org/skills", "kind": "comment", "parent_id": op}),
        )
        .await;
    assert_eq!((s, pending["status"].as_str()), (201, Some("pending")));
    let pid = pending["id"].as_i64().expect("id");
    let (_, _, page) = page_read(&app, t, None, None).await;
    assert!(item(&page, pid).is_null(), "pending: not for others");
    let (_, _, page) = page_read(&app, t, Some(&cai.token), None).await;
    assert_eq!(item(&page, pid)["status"], "pending", "its author sees it");
    let (_, _, page) = page_read(&app, t, Some(&mo.token), None).await;
    assert_eq!(
        item(&page, pid)["status"],
        "pending",
        "the moderator sees it"
    );
    let (_, _, page) = page_read(&app, t, Some(&ben.token), None).await;
    assert!(item(&page, pid).is_null(), "pending: not for Ben");

    // Changes that do not come through this process's API (another instance, an operator's
    // UPDATE) show too: the triggers keep the version in the database.
    let pool = app.server.store.pool();
    sqlx::query("UPDATE posts SET body = 'Changed elsewhere.' WHERE id = $1")
        .bind(op)
        .execute(pool)
        .await
        .expect("update post");
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert_eq!(item(&page, op)["body"], "Changed elsewhere.");
    moved(&mut tag, new, "a write outside the API");
    sqlx::query("UPDATE users SET display_name = 'Benedikt' WHERE id = $1")
        .bind(ben.id)
        .execute(pool)
        .await
        .expect("update user");
    let (_, new, page) = page_read(&app, t, None, None).await;
    assert_eq!(item(&page, rid)["author"]["display_name"], "Benedikt");
    moved(&mut tag, new, "an author's profile");
    app.finish().await;
}

async fn suspend_as(app: &TestApp, by: &TestUser, user: i64, reason: &str) -> (u16, Value) {
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    app.post(
        &format!("/moderation/users/{user}/suspension"),
        &by.token,
        json!({"until": until, "reason": reason}),
    )
    .await
}

async fn lift_as(app: &TestApp, by: &TestUser, user: i64) -> (u16, Value) {
    app.send(
        Method::DELETE,
        &format!("/moderation/users/{user}/suspension"),
        Some(&by.token),
        None,
    )
    .await
}

/// Whether the user has a suspension in force now, in any region or everywhere.
async fn is_suspended(app: &TestApp, user: i64) -> bool {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2",
    )
    .bind(user)
    .bind(hub_store::now_micros())
    .fetch_one(app.server.store.pool())
    .await
    .expect("suspensions")
        > 0
}

/// The region's audit log (first page) as a moderator of it reads it.
async fn audit_entries(app: &TestApp, mo: &TestUser, region: &str) -> Vec<Value> {
    let v = app
        .call(
            Method::GET,
            format!("/moderation/log?region={region}&limit=200"),
        )
        .by(mo)
        .expect(200)
        .await;
    v["items"].as_array().cloned().unwrap_or_default()
}

async fn queued_ids(app: &TestApp, mo: &TestUser, region: &str) -> Vec<i64> {
    let v = app
        .call(
            Method::GET,
            format!("/moderation/queue?region={region}&limit=200"),
        )
        .by(mo)
        .expect(200)
        .await;
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["post"]["id"].as_i64())
        .collect()
}

async fn suspended_moderators_lose_their_powers_and_lift_only_in_their_scope(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo_eu = moderator(&app, "Mo Europe", "europe").await;
    let mo_af = moderator(&app, "Mo Africa", "africa").await;
    let admin = with_role(&app, "Admin", hub_domain::RoleKind::Admin).await;
    // Ana posts in both regions; Europe's moderator suspends her.
    let (te, _) = app.thread(&ana, "europe", "Scope Europe", "opening").await;
    app.thread(&ana, "africa", "Scope Africa", "opening").await;
    let bens = app.reply(&ben, te, None, "ben's reply").await["id"]
        .as_i64()
        .unwrap_or_default();
    let (s, v) = suspend_as(&app, &mo_eu, ana.id, "imposed in europe").await;
    assert_eq!(s, 201, "{v}");
    // Africa's moderator may not lift a suspension imposed in Europe.
    let (s, v) = lift_as(&app, &mo_af, ana.id).await;
    hub_tests::assert_problem(s, &v, 403, "lift of another region's suspension");
    assert!(is_suspended(&app, ana.id).await);
    // Europe's moderator may, and the log of Europe says so.
    let (s, v) = lift_as(&app, &mo_eu, ana.id).await;
    assert_eq!(s, 204, "{v}");
    assert!(!is_suspended(&app, ana.id).await);
    assert!(audit_entries(&app, &mo_eu, "europe")
        .await
        .iter()
        .any(|e| e["action"] == "lift_suspension"
            && e["object_id"].as_i64() == Some(ana.id)
            && e["actor_id"].as_i64() == Some(mo_eu.id)));
    assert!(!audit_entries(&app, &mo_af, "africa")
        .await
        .iter()
        .any(|e| e["action"] == "lift_suspension"));
    // A suspension an admin imposed is not a regional moderator's to lift; an admin's.
    let (s, v) = suspend_as(&app, &admin, ana.id, "imposed by an admin").await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = lift_as(&app, &mo_eu, ana.id).await;
    hub_tests::assert_problem(s, &v, 403, "lift of an admin's suspension");
    assert!(is_suspended(&app, ana.id).await);
    let (s, v) = lift_as(&app, &admin, ana.id).await;
    assert_eq!(s, 204, "{v}");
    assert!(!is_suspended(&app, ana.id).await);

    // A suspended moderator has no moderation powers, and cannot lift their own suspension.
    app.reply(&mo_eu, te, None, "the moderator's own post")
        .await;
    let (s, v) = suspend_as(&app, &admin, mo_eu.id, "moderator suspended").await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = lift_as(&app, &mo_eu, mo_eu.id).await;
    hub_tests::assert_problem(s, &v, 403, "lifting one's own suspension");
    assert!(is_suspended(&app, mo_eu.id).await);
    let (s, v) = app
        .get("/moderation/queue?region=europe", Some(&mo_eu.token))
        .await;
    hub_tests::assert_problem(s, &v, 403, "queue of a suspended moderator");
    let (s, v) = decide(&app, &mo_eu, bens, "hide", "while suspended").await;
    hub_tests::assert_problem(s, &v, 403, "decision of a suspended moderator");
    let post = app
        .call(Method::GET, format!("/posts/{bens}"))
        .expect(200)
        .await;
    assert_eq!(post["status"], "published");
    let (s, v) = suspend_as(&app, &mo_eu, ana.id, "while suspended").await;
    hub_tests::assert_problem(s, &v, 403, "suspension by a suspended moderator");
    assert!(!is_suspended(&app, ana.id).await);
    let (s, v) = lift_as(&app, &admin, mo_eu.id).await;
    assert_eq!(s, 204, "{v}");
    app.call(Method::GET, "/moderation/queue?region=europe")
        .by(&mo_eu)
        .expect(200)
        .await;
    app.finish().await;
}

async fn suspended_authors_cannot_edit_their_posts(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (_, op) = app
        .thread(&ana, "europe", "Edits", "the original text")
        .await;
    let (s, v) = suspend_as(&app, &mo, ana.id, "cooling off").await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .send(
            Method::PATCH,
            &format!("/posts/{op}"),
            Some(&ana.token),
            Some(json!({"body": "rewritten while suspended"})),
        )
        .await;
    hub_tests::assert_problem(s, &v, 403, "edit by a suspended author");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("cooling off"),
        "{v}"
    );
    let (_, post) = app.get(&format!("/posts/{op}"), None).await;
    assert_eq!(post["body"], "the original text");
    assert_eq!(post["revision"].as_i64(), Some(1));
    app.finish().await;
}

async fn a_removed_post_leaves_the_queue_and_cannot_be_appealed(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, _) = app.thread(&ana, "europe", "Queue", "opening").await;
    let p = app.reply(&ana, t, None, "flag this").await["id"]
        .as_i64()
        .unwrap_or_default();
    let (s, _) = flag(&app, &ben, p, "spam").await;
    assert_eq!(s, 201);
    assert!(queued_ids(&app, &mo, "europe").await.contains(&p));
    app.call(Method::DELETE, format!("/posts/{p}"))
        .by(&ana)
        .expect(204)
        .await;
    assert!(!queued_ids(&app, &mo, "europe").await.contains(&p));
    // A hidden post its author then removed: the hide cannot be appealed any more.
    let q = app.reply(&ana, t, None, "hide this").await["id"]
        .as_i64()
        .unwrap_or_default();
    let (s, v) = decide(&app, &mo, q, "hide", "off topic").await;
    assert_eq!(s, 200, "{v}");
    app.call(Method::DELETE, format!("/posts/{q}"))
        .by(&ana)
        .expect(204)
        .await;
    let (s, v) = app
        .post(
            &format!("/posts/{q}/appeal"),
            &ana.token,
            json!({"note": "please"}),
        )
        .await;
    hub_tests::assert_problem(s, &v, 409, "appeal of a removed post");
    // Hidden, appealed (so back on the queue), then removed by its author: off the queue.
    let r = app.reply(&ana, t, None, "appeal this").await["id"]
        .as_i64()
        .unwrap_or_default();
    let (s, v) = decide(&app, &mo, r, "hide", "off topic").await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .post(
            &format!("/posts/{r}/appeal"),
            &ana.token,
            json!({"note": "it was on topic"}),
        )
        .await;
    assert!((200..300).contains(&s), "{v}");
    assert!(
        queued_ids(&app, &mo, "europe").await.contains(&r),
        "appealed"
    );
    app.call(Method::DELETE, format!("/posts/{r}"))
        .by(&ana)
        .expect(204)
        .await;
    assert!(
        !queued_ids(&app, &mo, "europe").await.contains(&r),
        "removed"
    );
    app.finish().await;
}

async fn moderators_edits_of_others_posts_are_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, _) = app.thread(&ana, "europe", "Audited edits", "opening").await;
    let p = app.reply(&ana, t, None, "a reply").await["id"]
        .as_i64()
        .unwrap_or_default();
    let edits = |entries: Vec<Value>| {
        entries
            .into_iter()
            .filter(|e| e["action"] == "edit" && e["object_id"].as_i64() == Some(p))
            .collect::<Vec<_>>()
    };
    // The author's own edit is not a moderation act.
    app.call(Method::PATCH, format!("/posts/{p}"))
        .by(&ana)
        .json(json!({"body": "a reply, corrected"}))
        .expect(200)
        .await;
    assert!(edits(audit_entries(&app, &mo, "europe").await).is_empty());
    app.call(Method::PATCH, format!("/posts/{p}"))
        .by(&mo)
        .json(json!({"body": "a reply, moderated"}))
        .expect(200)
        .await;
    let found = edits(audit_entries(&app, &mo, "europe").await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["actor_id"].as_i64(), Some(mo.id));
    assert_eq!(found[0]["object_type"], "post");
    assert_eq!(found[0]["before"]["revision"].as_i64(), Some(2));
    assert_eq!(found[0]["after"]["revision"].as_i64(), Some(3));
    app.finish().await;
}

async fn editing_an_opening_post_keeps_its_title_searchable(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, op) = app
        .thread(&ana, "europe", "Remittance corridors", "Fees are too high.")
        .await;
    let find = |q: &'static str| {
        let app = &app;
        async move {
            let v = app
                .call(Method::GET, format!("/regions/europe/threads?q={q}"))
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
    assert_eq!(find("corridors").await, vec![t]);
    for (who, body) in [
        (&ana, "Consular protection abroad."),
        (&mo, "Moderated text."),
    ] {
        app.call(Method::PATCH, format!("/posts/{op}"))
            .by(who)
            .json(json!({"body": body}))
            .expect(200)
            .await;
        assert_eq!(find("corridors").await, vec![t], "title after an edit");
    }
    assert_eq!(find("moderated").await, vec![t]);
    assert_eq!(find("fees").await, Vec::<i64>::new());
    app.finish().await;
}

async fn bulk_decisions_change_nothing_unless_every_post_can_be_decided(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let (t, _) = app.thread(&ana, "europe", "Bulk", "opening").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.reply(&ana, t, None, &format!("bulk {i}")).await["id"]
                .as_i64()
                .unwrap_or_default(),
        );
    }
    let (a, b, gone) = (ids[0], ids[1], ids[2]);
    let (s, v) = decide(&app, &mo, gone, "remove", "gone").await;
    assert_eq!(s, 200, "{v}");
    let decisions = app.count("decisions").await;
    let audit = app.count("audit_log").await;
    let (s, v) = app
        .post(
            "/moderation/decisions",
            &mo.token,
            json!({"post_ids": [a, b, gone], "action": "hide", "reason": "bulk"}),
        )
        .await;
    hub_tests::assert_problem(s, &v, 409, "bulk with a removed post");
    for id in [a, b] {
        let (_, p) = app.get(&format!("/posts/{id}"), None).await;
        assert_eq!(p["status"], "published", "post {id} was changed: {p}");
    }
    assert_eq!(app.count("decisions").await, decisions);
    assert_eq!(app.count("audit_log").await, audit);
    // The same post twice is one decision.
    let (s, v) = app
        .post(
            "/moderation/decisions",
            &mo.token,
            json!({"post_ids": [a, a], "action": "remove", "reason": "twice"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(app.count("decisions").await, decisions + 1);
    app.finish().await;
}

/// Pre-moderation holds edits as it holds new posts: an approved post whose author rewrites it
/// (in a region where every post waits, or to more links than allowed) goes back to the queue
/// and out of sight until approved again; an edit that would not wait, and a moderator's
/// edit, leave it published.
async fn an_edit_waits_for_review_where_a_new_post_would(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default(
            "moderation.premoderation.europe",
            json!({"mode": "everything"}),
        ))
        .merge(Serialized::default(
            "moderation.premoderation.africa",
            json!({"mode": "links", "max_links": 1}),
        ))
    })
    .await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let af = moderator(&app, "Af", "africa").await;
    let (t, _) = app
        .thread(&mo, "europe", "Reviewed edits", "opening by a moderator")
        .await;
    let (s, p) = app
        .post(
            &format!("/threads/{t}/posts"),
            &ana.token,
            json!({"body": "A fair point", "kind": "comment"}),
        )
        .await;
    assert_eq!((s, p["status"].as_str()), (201, Some("pending")), "{p}");
    let pid = p["id"].as_i64().unwrap_or_default();
    let decide = |token: String, action: &'static str| {
        let app = &app;
        async move {
            app.call(Method::POST, format!("/moderation/posts/{pid}/decision"))
                .token(&token)
                .json(json!({"action": action, "reason": "read it"}))
                .expect(200)
                .await;
        }
    };
    decide(mo.token.clone(), "approve").await;
    let queued = |token: String| {
        let app = &app;
        async move {
            let q = app
                .call(Method::GET, "/moderation/queue?region=europe")
                .token(&token)
                .expect(200)
                .await;
            q["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i["post"]["id"] == pid))
        }
    };
    assert!(!queued(mo.token.clone()).await, "approved: off the queue");
    app.call(Method::GET, format!("/posts/{pid}"))
        .expect(200)
        .await;

    let patch = |token: String, body: &'static str| {
        let app = &app;
        async move {
            app.send(
                Method::PATCH,
                &format!("/posts/{pid}"),
                Some(&token),
                Some(json!({ "body": body })),
            )
            .await
        }
    };
    // The author rewrites it: back to pending, on the queue, gone for others.
    let (s, v) = patch(ana.token.clone(), "Now something else entirely").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("pending")), "{v}");
    assert!(queued(mo.token.clone()).await, "the edit is on the queue");
    app.call(Method::GET, format!("/posts/{pid}"))
        .expect(404)
        .await;
    let (s, mine) = app.get(&format!("/posts/{pid}"), Some(&ana.token)).await;
    assert_eq!(
        (s, mine["body"].as_str()),
        (200, Some("Now something else entirely"))
    );
    decide(mo.token.clone(), "approve").await;
    app.call(Method::GET, format!("/posts/{pid}"))
        .expect(200)
        .await;
    // A moderator's edit does not wait.
    let (s, v) = patch(mo.token.clone(), "Tidied by the moderator").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("published")), "{v}");

    // Where only posts with links wait: an edit adding links waits, one without does not.
    let (ta, _) = app.thread(&ana, "africa", "Links", "no links here").await;
    let (s, p) = app
        .post(
            &format!("/threads/{ta}/posts"),
            &ana.token,
            json!({"body": "plain words", "kind": "comment"}),
        )
        .await;
    assert_eq!((s, p["status"].as_str()), (201, Some("published")), "{p}");
    let aid = p["id"].as_i64().unwrap_or_default();
    let (s, v) = app
        .send(
            Method::PATCH,
            &format!("/posts/{aid}"),
            Some(&ana.token),
            Some(json!({"body": "still plain words"})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("published")), "{v}");
    let (s, v) = app
        .send(
            Method::PATCH,
            &format!("/posts/{aid}"),
            Some(&ana.token),
            Some(json!({"body": "see https://a.example and https://b.example"})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("pending")), "{v}");
    let (s, q) = app
        .get("/moderation/queue?region=africa", Some(&af.token))
        .await;
    assert_eq!(s, 200);
    assert!(
        q["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|i| i["post"]["id"] == aid)),
        "{q}"
    );
    app.finish().await;
}

/// Role changes are an admin's power, so a suspended admin has none of them either; every
/// change an admin makes is in the region's audit log.
async fn a_suspended_admin_cannot_change_roles_and_changes_are_logged(db: Db) {
    let app = TestApp::spawn(db).await;
    let root = with_role(&app, "Root", hub_domain::RoleKind::Admin).await;
    let other = with_role(&app, "Other", hub_domain::RoleKind::Admin).await;
    let ana = app.register("Ana").await;
    let grant = |by: String, region: &'static str| {
        let app = &app;
        let target = ana.id;
        async move {
            app.send(
                Method::POST,
                &format!("/admin/users/{target}/roles"),
                Some(&by),
                Some(json!({"role": "moderator", "region": region})),
            )
            .await
        }
    };
    let (s, v) = grant(root.token.clone(), "europe").await;
    assert_eq!(s, 200, "{v}");
    let log = app
        .call(Method::GET, "/moderation/log?region=europe")
        .by(&ana)
        .expect(200)
        .await;
    assert!(
        log["items"].as_array().is_some_and(|a| a
            .iter()
            .any(|l| l["action"] == "grant_role" && l["object_id"] == ana.id)),
        "{log}"
    );
    let until = chrono::Utc::now() + chrono::Duration::days(3);
    app.call(
        Method::POST,
        format!("/moderation/users/{}/suspension", root.id),
    )
    .by(&other)
    .json(json!({"until": until, "reason": "compromised account"}))
    .expect(201)
    .await;
    let (s, v) = grant(root.token.clone(), "africa").await;
    assert_eq!(s, 403, "{v}");
    let me = app.call(Method::GET, "/me").by(&ana).expect(200).await;
    assert!(
        !me["roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["region"] == "africa")),
        "{me}"
    );
    app.call(Method::DELETE, format!("/admin/users/{}/roles", ana.id))
        .by(&root)
        .json(json!({"role": "moderator", "region": "europe"}))
        .expect(403)
        .await;
    // What was refused changed nothing; what an admin in good standing revokes is logged.
    let reader = moderator(&app, "Mo", "europe").await;
    let log_actions = || {
        let app = &app;
        let token = reader.token.clone();
        async move {
            let log = app
                .call(Method::GET, "/moderation/log?region=europe")
                .token(&token)
                .expect(200)
                .await;
            log["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["object_id"] == ana.id)
                .filter_map(|l| l["action"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(log_actions().await, vec!["grant_role"]);
    let (_, me) = app.get("/me", Some(&ana.token)).await;
    assert!(
        me["roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["region"] == "europe")),
        "the refused revoke left the role: {me}"
    );
    let (s, v) = app
        .send(
            Method::DELETE,
            &format!("/admin/users/{}/roles", ana.id),
            Some(&other.token),
            Some(json!({"role": "moderator", "region": "europe"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut actions = log_actions().await;
    actions.sort();
    assert_eq!(actions, vec!["grant_role", "revoke_role"]);
    app.finish().await;
}

/// A retried `Idempotency-Key` skips the rate limits, not the suspension: a suspended account's
/// retry is refused (403, where it used to get the first answer again), for a thread and for a
/// reply. (Why: a key stops counting as used 24 h after its first use, and a retry read as a
/// replay just before could write anew just after; that moment itself is not staged here.)
async fn a_suspended_user_cannot_post_by_retrying_a_key(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let send = |path: String, key: &'static str, body: Value| {
        let req = app
            .http
            .post(app.api(&path))
            .bearer_auth(ana.token.clone())
            .header("Idempotency-Key", key)
            .json(&body);
        async move { req.send().await.expect("send").status().as_u16() }
    };
    let thread = json!({"title": "Keyed", "body": "first words", "kind": "comment"});
    assert_eq!(
        send("/regions/europe/threads".into(), "t-1", thread.clone()).await,
        201
    );
    let list = app
        .call(Method::GET, "/regions/europe/threads")
        .expect(200)
        .await;
    let t = list["items"][0]["id"].as_i64().unwrap_or_default();
    let reply = json!({"body": "a keyed reply", "kind": "comment"});
    assert_eq!(
        send(format!("/threads/{t}/posts"), "r-1", reply.clone()).await,
        201
    );
    let until = chrono::Utc::now() + chrono::Duration::days(3);
    let (s, v) = app
        .send(
            Method::POST,
            &format!("/moderation/users/{}/suspension", ana.id),
            Some(&mo.token),
            Some(json!({"until": until, "reason": "spam"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        send("/regions/europe/threads".into(), "t-1", thread).await,
        403
    );
    assert_eq!(send(format!("/threads/{t}/posts"), "r-1", reply).await, 403);
    assert_eq!(
        app.count("posts").await,
        2,
        "nothing written by the refused retries"
    );
    app.finish().await;
}

/// A thread's endorsements (its `top` rank) are those of its published posts: hiding a post
/// takes its endorsements off the thread, restoring puts them back, removing takes them off
/// for good, and one withdrawn while it is hidden is not taken off the thread twice.
async fn a_thread_counts_only_its_published_posts_endorsements(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = moderator(&app, "Mo", "europe").await;
    let fans = [
        app.register("F1").await,
        app.register("F2").await,
        app.register("F3").await,
    ];
    let (t, op) = app.thread(&ana, "europe", "Ranked", "the opening").await;
    let reply = app.reply(&ben, t, None, "a popular reply").await;
    let rid = reply["id"].as_i64().unwrap_or_default();
    let endorse = |post: i64, token: String| {
        let app = &app;
        async move {
            app.call(Method::PUT, format!("/posts/{post}/endorsement"))
                .token(&token)
                .expect(200)
                .await;
        }
    };
    endorse(op, fans[0].token.clone()).await;
    endorse(rid, fans[0].token.clone()).await;
    endorse(rid, fans[1].token.clone()).await;
    let thread_endorsements = || {
        let app = &app;
        async move { app.get(&format!("/threads/{t}"), None).await.1["endorsements"].as_i64() }
    };
    assert_eq!(thread_endorsements().await, Some(3));
    let decide = |action: &'static str| {
        let app = &app;
        let token = mo.token.clone();
        async move {
            app.call(Method::POST, format!("/moderation/posts/{rid}/decision"))
                .token(&token)
                .json(json!({"action": action, "reason": "checking counts"}))
                .expect(200)
                .await;
        }
    };
    decide("hide").await;
    assert_eq!(
        thread_endorsements().await,
        Some(1),
        "hidden: its 2 are off"
    );
    // A hidden post cannot be endorsed
    app.call(Method::PUT, format!("/posts/{rid}/endorsement"))
        .token(&fans[2].token)
        .expect(409)
        .await;
    // Withdrawn while hidden: off the post, and the thread (which did not count it) unchanged.
    let (s, v) = app
        .send(
            Method::DELETE,
            &format!("/posts/{rid}/endorsement"),
            Some(&fans[1].token),
            None,
        )
        .await;
    assert_eq!((s, v["endorsements"].as_i64()), (200, Some(1)), "{v}");
    assert_eq!(thread_endorsements().await, Some(1));
    decide("restore").await;
    assert_eq!(
        thread_endorsements().await,
        Some(2),
        "restored: its one left is back"
    );
    decide("remove").await;
    assert_eq!(thread_endorsements().await, Some(1), "removed");
    app.finish().await;
}

async fn try_reply(
    app: &TestApp,
    who: &TestUser,
    thread: i64,
    parent: Option<i64>,
    body: &str,
) -> (u16, Value) {
    app.post(
        &format!("/threads/{thread}/posts"),
        &who.token,
        json!({"body": body, "kind": "comment", "parent_id": parent}),
    )
    .await
}

/// What is withheld from someone is not there for them to reply to: a thread whose opening
/// post is pending or hidden (404, as reading it gives), a pending or hidden parent (422 on
/// `parent_id`, as a post of another thread gets). The withheld post's author and the region's
/// moderators may reply; nothing is written for the others. (On PostgreSQL a stakeholder's
/// published reply goes through the batch statement, a moderator's and a pending one alone.)
async fn withheld_posts_and_threads_take_no_replies_from_others(db: Db) {
    let app = TestApp::spawn_premoderated(db, "europe").await;
    let ana = app.register("Ana").await;
    let bob = app.register("Bob").await;
    let mo = moderator(&app, "Mo", "africa").await;
    app.grant_moderator(mo.id, "europe").await;
    let hide = |post: i64| {
        let (app, mo) = (&app, &mo);
        async move {
            let (s, v) = decide(app, mo, post, "hide", "Off topic for this thread").await;
            assert_eq!(s, 200, "hide {post}: {v}");
        }
    };

    // A public thread; one reply hidden.
    let (t, op) = app.thread(&ana, "africa", "Public", "opening").await;
    let open = app.reply(&bob, t, None, "an open reply").await["id"]
        .as_i64()
        .unwrap_or_default();
    let hidden = app.reply(&ana, t, None, "to be hidden").await["id"]
        .as_i64()
        .unwrap_or_default();
    hide(hidden).await;
    let posts = app.count("posts").await;
    let (s, v) = try_reply(&app, &bob, t, Some(hidden), "to the hidden reply").await;
    assert_eq!(s, 422, "a reply to a hidden post: {v}");
    assert_eq!(v["errors"][0]["field"], "parent_id", "{v}");
    assert_eq!(app.count("posts").await, posts, "nothing written");
    let (s, v) = try_reply(&app, &ana, t, Some(hidden), "to my hidden reply").await;
    assert_eq!(s, 201, "its author may: {v}");
    let (s, v) = try_reply(&app, &mo, t, Some(hidden), "a moderator's note").await;
    assert_eq!(s, 201, "the region's moderator may: {v}");
    let (s, v) = try_reply(&app, &bob, t, Some(open), "to the open reply").await;
    assert_eq!(s, 201, "a published parent takes replies: {v}");

    // The opening post hidden: the thread takes replies from its author and moderators only.
    hide(op).await;
    let posts = app.count("posts").await;
    for (parent, body) in [(None, "to the thread"), (Some(open), "to my open reply")] {
        let (s, v) = try_reply(&app, &bob, t, parent, body).await;
        assert_eq!(s, 404, "a reply in a withheld thread ({body}): {v}");
    }
    assert_eq!(app.count("posts").await, posts, "nothing written");
    let (s, mine) = try_reply(&app, &ana, t, None, "my thread still").await;
    assert_eq!(s, 201, "{mine}");
    let (s, moderating) = try_reply(&app, &mo, t, Some(open), "moderating").await;
    assert_eq!(s, 201, "{moderating}");
    // Those replies are published, but their thread is withheld: their events go to the
    // region's moderators and their authors only, and nobody else reads a post of it.
    for reply in [&mine, &moderating] {
        let audience: Option<String> = sqlx::query_scalar(
            "SELECT audience FROM events WHERE post_id = $1 AND type = 'post.created'",
        )
        .bind(reply["id"].as_i64())
        .fetch_optional(app.server.store.pool())
        .await
        .unwrap_or_default();
        assert_eq!(audience.as_deref(), Some("restricted"), "{reply}");
    }
    for id in [open, mine["id"].as_i64().unwrap_or_default()] {
        app.call(Method::GET, format!("/posts/{id}"))
            .expect(404)
            .await;
        app.call(Method::GET, format!("/posts/{id}"))
            .by(&ana)
            .expect(200)
            .await;
        app.call(Method::GET, format!("/posts/{id}"))
            .by(&mo)
            .expect(200)
            .await;
    }

    // A thread waiting in pre-moderation, and a pending reply in a public thread of the
    // same region.
    let pending = app
        .call(Method::POST, "/regions/europe/threads")
        .by(&ana)
        .json(json!({"title": "Waiting", "body": "awaiting review", "kind": "comment"}))
        .expect(201)
        .await;
    let w = pending["id"].as_i64().unwrap_or_default();
    let (s, v) = try_reply(&app, &bob, w, None, "into the waiting thread").await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = try_reply(&app, &ana, w, None, "into my waiting thread").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "pending");
    let (s, v) = try_reply(&app, &mo, w, None, "reviewing").await;
    assert_eq!(s, 201, "{v}");
    let (e, _) = app
        .thread(&mo, "europe", "Open in Europe", "published")
        .await;
    let (s, waiting) = try_reply(&app, &ana, e, None, "a pending reply").await;
    assert_eq!(
        (s, waiting["status"].as_str()),
        (201, Some("pending")),
        "{waiting}"
    );
    let w_reply = waiting["id"].as_i64().unwrap_or_default();
    let (s, v) = try_reply(&app, &bob, e, Some(w_reply), "to a pending reply").await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["errors"][0]["field"], "parent_id", "{v}");
    let (s, v) = try_reply(&app, &mo, e, Some(w_reply), "to review").await;
    assert_eq!(s, 201, "{v}");
    app.finish().await;
}

/// Flags close when a moderator decides, and anyone may flag again: the accounts that had a
/// post hidden must not be able to hide it again at once each time a moderator restores it.
/// Their new flags queue it for review, it stays up; an edit after the decision counts as a
/// new post, which flags hide as before.
async fn a_post_a_moderator_kept_is_not_hidden_by_flags_again(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("moderation.flag_threshold", 2))
            .merge(Serialized::default(
                "moderation.premoderation.europe",
                json!({"mode": "everything"}),
            ))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let cai = app.register("Cai").await;
    let dan = app.register("Dan").await;
    let mo = moderator(&app, "Mo", "africa").await;
    app.grant_moderator(mo.id, "europe").await;
    let (t, _) = app.thread(&ana, "africa", "Kept", "opening").await;
    let pid = app.reply(&ana, t, None, "a post some dislike").await["id"]
        .as_i64()
        .unwrap_or_default();
    let flag_spam = |who: &TestUser| {
        let (app, who) = (&app, who.clone());
        async move {
            let (s, v) = flag(app, &who, pid, "spam").await;
            assert_eq!(s, 201, "{v}");
            v["hidden"].as_bool()
        }
    };
    let status = |who: &TestUser| {
        let app = &app;
        let token = who.token.clone();
        async move {
            let (_, v) = app.get(&format!("/posts/{pid}"), Some(&token)).await;
            v["status"].as_str().map(str::to_string)
        }
    };
    assert_eq!(flag_spam(&ben).await, Some(false));
    assert_eq!(flag_spam(&cai).await, Some(true), "two flags hide it");
    let (s, v) = decide(&app, &mo, pid, "restore", "Within the rules").await;
    assert_eq!(s, 200, "{v}");
    assert!(!queued_ids(&app, &mo, "africa").await.contains(&pid));

    // The same accounts flag again: queued for review, still up.
    assert_eq!(flag_spam(&ben).await, Some(false));
    assert_eq!(
        flag_spam(&cai).await,
        Some(false),
        "kept by a moderator: not hidden"
    );
    assert_eq!(status(&dan).await.as_deref(), Some("published"));
    assert!(queued_ids(&app, &mo, "africa").await.contains(&pid));

    // Rewritten after the decision: a new post as far as flags go.
    app.call(Method::PATCH, format!("/posts/{pid}"))
        .by(&ana)
        .json(json!({"body": "rewritten after review"}))
        .expect(200)
        .await;
    assert_eq!(
        flag_spam(&dan).await,
        Some(true),
        "flags hide an edit no one reviewed"
    );
    assert_eq!(status(&ben).await.as_deref(), Some("hidden"));

    // Approved out of pre-moderation, before anyone could flag it: flags hide it as any post.
    let (e, _) = app.thread(&mo, "europe", "Reviewed", "opening").await;
    let (s, v) = app
        .post(
            &format!("/threads/{e}/posts"),
            &ana.token,
            json!({"body": "waits for review", "kind": "comment"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (201, Some("pending")), "{v}");
    let reviewed = v["id"].as_i64().unwrap_or_default();
    let (s, v) = decide(&app, &mo, reviewed, "approve", "Within the rules").await;
    assert_eq!(s, 200, "{v}");
    for (who, hidden) in [(&ben, false), (&cai, true)] {
        let (s, v) = flag(&app, who, reviewed, "personal_data").await;
        assert_eq!((s, v["hidden"].as_bool()), (201, Some(hidden)), "{v}");
    }
    app.finish().await;
}
