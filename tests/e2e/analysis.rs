//! Analysis documents end to end, on SQLite and on PostgreSQL: every figure against an
//! independent SQL count, rebuilds of one snapshot byte-identical, nothing hidden or
//! unattributed in any format, one document when two instances schedule the same run, a
//! killed build retried without leaving anything half-made, and the API's rules.
#![forbid(unsafe_code)]

use chrono::{Datelike, Utc};
use figment::providers::Serialized;
use figment::Figment;
use hub_analysis::{build, Analyses, Settings};
use hub_domain::calendar::{
    CalendarEvent, EventKind, FuzzyDate, RegionCalendar, RegionDef, ReviewCycle,
};
use hub_store::analysis::{NewAnalysis, Origin};
use hub_store::Store;
use hub_tests::ws::WsClient;
use hub_tests::{assert_problem, both_backends, test_figment, Db, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    every_figure_matches_an_independent_sql_count,
    rebuilding_the_same_snapshot_is_byte_identical,
    hidden_posts_and_unattributed_organisations_appear_in_no_format,
    two_instances_scheduling_the_same_run_make_one_document,
    a_killed_build_leaves_nothing_and_is_retried_after_its_lease,
    a_large_document_is_stored_in_parts_and_read_back_whole,
    the_api_enforces_roles_formats_and_input_and_announces_ready_documents,
    a_retried_build_request_with_the_same_idempotency_key_makes_one_job,
    the_next_version_says_what_changed_and_an_empty_period_still_renders,
    a_build_gives_way_to_requests_and_writes_in_flight,
);

/// Bound of every wait for a build.
const WAIT: Duration = Duration::from_secs(30);

/// Text of a post that a moderator hides: it must never reach a document.
const HIDDEN_MARKER: &str = "Hiddenmarkerzq";
/// Text of a post its author removes.
const REMOVED_MARKER: &str = "Removedmarkerzq";
/// Text of a post awaiting pre-moderation.
const PENDING_MARKER: &str = "Pendingmarkerzq";
/// Text of a visible, well-endorsed recommendation: it must be quoted (positive control).
const VISIBLE_MARKER: &str = "Visiblemarkerzq";
/// The organisation of an author who allowed attribution (positive control).
const ATTRIBUTED_ORG: &str = "Attributed Alliance";
/// An attributed organisation whose name is markup.
const HOSTILE_ORG: &str = "Syndicat <img src=x onerror=alert(2)>";
/// The organisation of an author who did not.
const SECRET_ORG: &str = "Secret Collective Zqx";

// ---------------------------------------------------------------------------------------
// Helpers

/// Starts a hub without the analysis worker (the tests build with their own `Analyses`),
/// with link pre-moderation in Europe so a post can wait.
async fn spawn_quiet(db: Db) -> TestApp {
    TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("analysis.worker", false))
            .merge(Serialized::default(
                "moderation.premoderation.europe",
                json!({"mode": "links", "max_links": 1}),
            ))
    })
    .await
}

fn config_of(app: &TestApp, tweak: impl FnOnce(Figment) -> Figment) -> hub::Config {
    hub::Config::from_figment(tweak(test_figment(app.db_url()))).expect("configuration")
}

/// An analysis service as the hub's would be, over its own connections to the hub's database.
async fn analyses(app: &TestApp, settings: impl FnOnce(&mut Settings)) -> Analyses {
    let config = config_of(app, |f| f);
    let store = Store::connect(app.db_url(), &Default::default())
        .await
        .expect("second store");
    let mut s = config.analysis_settings();
    settings(&mut s);
    Analyses::new(store, Arc::new(config.regions().expect("regions")), s)
}

fn europe(app: &TestApp) -> RegionDef {
    config_of(app, |f| f)
        .regions()
        .expect("regions")
        .into_iter()
        .find(|r| r.slug == "europe")
        .expect("europe")
}

async fn member(
    app: &TestApp,
    name: &str,
    group: &str,
    country: Option<&str>,
    organisation: Option<&str>,
    attribution: bool,
) -> TestUser {
    let email = format!(
        "{}-{}@example.org",
        name.to_lowercase(),
        uuid::Uuid::new_v4().simple()
    );
    let v = app
        .call(reqwest::Method::POST, "/auth/register")
        .json(json!({
            "email": email, "password": "a long enough passphrase", "display_name": name,
            "stakeholder_group": group, "country": country, "organisation": organisation,
            "attribution": attribution,
        }))
        .expect(201)
        .await;
    TestUser {
        id: v["user"]["id"].as_i64().expect("id"),
        token: v["token"].as_str().expect("token").into(),
        email,
    }
}

async fn with_role(
    app: &TestApp,
    name: &str,
    role: hub_domain::RoleKind,
    region: Option<&str>,
) -> TestUser {
    let u = app.register(name).await;
    app.server
        .store
        .grant_role(
            u.id,
            &hub_domain::Role {
                role,
                region: region.map(Into::into),
            },
        )
        .await
        .expect("grant");
    u
}

/// What a post is made of.
struct P<'a> {
    kind: &'a str,
    body: &'a str,
    objectives: &'a [i64],
    aspects: &'a [&'a str],
    language: &'a str,
}

/// Opens a thread; returns (thread id, post id, status).
async fn open(
    app: &TestApp,
    u: &TestUser,
    region: &str,
    title: &str,
    p: P<'_>,
) -> (i64, i64, String) {
    let v = app
        .call(Method::POST, format!("/regions/{region}/threads"))
        .by(u)
        .json(
            json!({"title": title, "body": p.body, "kind": p.kind, "objectives": p.objectives,
                   "aspects": p.aspects, "language": p.language}),
        )
        .expect(201)
        .await;
    (
        v["id"].as_i64().expect("thread"),
        v["opening_post"]["id"].as_i64().expect("post"),
        v["opening_post"]["status"]
            .as_str()
            .unwrap_or_default()
            .into(),
    )
}

/// Replies; returns (post id, status).
async fn answer(app: &TestApp, u: &TestUser, thread: i64, p: P<'_>) -> (i64, String) {
    let v = app
        .call(Method::POST, format!("/threads/{thread}/posts"))
        .by(u)
        .json(
            json!({"body": p.body, "kind": p.kind, "objectives": p.objectives,
                   "aspects": p.aspects, "language": p.language}),
        )
        .expect(201)
        .await;
    (
        v["id"].as_i64().expect("post"),
        v["status"].as_str().unwrap_or_default().into(),
    )
}

async fn endorse(app: &TestApp, u: &TestUser, post: i64) {
    let (s, v) = app
        .send(
            reqwest::Method::PUT,
            &format!("/posts/{post}/endorsement"),
            Some(&u.token),
            None,
        )
        .await;
    assert!(s == 200 || s == 201, "endorse {post}: {s} {v}");
}

/// The users and posts of a varied corpus.
struct Corpus {
    secretariat: TestUser,
    moderator: TestUser,
    amina: TestUser,
    yuki: TestUser,
    hidden: i64,
    visible: i64,
    late_target: i64,
}

/// A varied corpus in Europe through the real API: six stakeholder groups, five countries
/// and none, organisations with and without attribution (and one named twice in different
/// case), comments, recommendations and reports, objectives and aspects, English, French,
/// Spanish, Chinese and Arabic, endorsements from several groups, a hidden, two removed and a
/// pending post, and posts in Africa.
async fn corpus(app: &TestApp) -> Corpus {
    let amina = member(
        app,
        "Amina",
        "migrant_org",
        Some("KE"),
        Some(ATTRIBUTED_ORG),
        true,
    )
    .await;
    let li = member(app, "Li", "academia", Some("CN"), Some(SECRET_ORG), false).await;
    let omar = member(
        app,
        "Omar",
        "civil_society",
        Some("EG"),
        Some("attributed alliance"),
        true,
    )
    .await;
    let sofia = member(app, "Sofia", "faith_based", Some("MX"), None, false).await;
    let pierre = member(
        app,
        "Pierre",
        "trade_union",
        Some("FR"),
        Some(HOSTILE_ORG),
        true,
    )
    .await;
    let yuki = member(app, "Yuki", "youth", Some("JP"), None, false).await;
    let dia = member(app, "Dia", "diaspora_org", None, None, false).await;
    let kofi = member(
        app,
        "Kofi",
        "civil_society",
        Some("GH"),
        Some("Accra Forum"),
        true,
    )
    .await;
    let moderator = with_role(app, "Mod", hub_domain::RoleKind::Moderator, Some("europe")).await;
    let secretariat = with_role(app, "Sec", hub_domain::RoleKind::Secretariat, None).await;

    let (t1, c1, _) = open(
        app,
        &amina,
        "europe",
        "Decent work",
        P {
            kind: "comment",
            body: "Labour inspection rarely reaches migrant domestic workers in private homes.",
            objectives: &[6, 16],
            aspects: &["gap"],
            language: "en",
        },
    )
    .await;
    let (t2, visible, _) = open(app, &amina, "europe", "Firewalls", P {
        kind: "recommendation",
        body: &format!("Establish firewalls between labour inspection and immigration enforcement so that workers can report abuse safely. {VISIBLE_MARKER} <script>alert(1)</script>"),
        objectives: &[6],
        aspects: &["priority", "practice"],
        language: "en",
    })
    .await;
    answer(
        app,
        &li,
        t2,
        P {
            kind: "comment",
            body: "移民工人的权利保护需要加强，尤其是家政工人和季节性农业工人。",
            objectives: &[6],
            aspects: &["gap"],
            language: "zh",
        },
    )
    .await;
    let (t3, r3, _) = open(
        app,
        &omar,
        "europe",
        "Services",
        P {
            kind: "recommendation",
            body: "يجب ضمان حصول جميع المهاجرين على الخدمات الأساسية بغض النظر عن وضعهم القانوني.",
            objectives: &[15, 16],
            aspects: &["collaboration"],
            language: "ar",
        },
    )
    .await;
    let (_, r4, _) = open(app, &pierre, "europe", "Accords", P {
        kind: "report",
        body: "Rapport sur les accords bilatéraux de main-d'œuvre et la reconnaissance des compétences des travailleurs migrants.",
        objectives: &[6, 23],
        aspects: &["progress"],
        language: "fr",
    })
    .await;
    let (r5, _) = answer(app, &sofia, t3, P {
        kind: "recommendation",
        body: "Crear vías regulares de migración laboral con protección de derechos para las trabajadoras del hogar.",
        objectives: &[5, 7],
        aspects: &["practice"],
        language: "es",
    })
    .await;
    answer(
        app,
        &sofia,
        t1,
        P {
            kind: "comment",
            body:
                "Climate displacement is a growing concern in our parish and nobody counts it yet.",
            objectives: &[],
            aspects: &[],
            language: "en",
        },
    )
    .await;
    let (_, r6, _) = open(app, &li, "europe", "Interpreters", P {
        kind: "recommendation",
        body: "Fund community interpreters in hospitals, courts and schools so that migrants can use public services.",
        objectives: &[15, 16],
        aspects: &["gap", "collaboration"],
        language: "en",
    })
    .await;
    // Hidden after gathering endorsements.
    let (hidden, _) = answer(
        app,
        &amina,
        t2,
        P {
            kind: "recommendation",
            body: &format!("{HIDDEN_MARKER} should never be read by anyone outside moderation."),
            objectives: &[6],
            aspects: &["priority"],
            language: "en",
        },
    )
    .await;
    // Removed by its author, and by a moderator.
    let (removed, _) = answer(
        app,
        &pierre,
        t1,
        P {
            kind: "comment",
            body: &format!("{REMOVED_MARKER} I changed my mind about this."),
            objectives: &[6],
            aspects: &[],
            language: "en",
        },
    )
    .await;
    let (removed_by_mod, _) = answer(
        app,
        &omar,
        t3,
        P {
            kind: "comment",
            body: "Call me on my private number for details.",
            objectives: &[15],
            aspects: &[],
            language: "en",
        },
    )
    .await;
    // Waits for a moderator: two links.
    let (_, pending) = answer(
        app,
        &sofia,
        t1,
        P {
            kind: "comment",
            body: &format!("{PENDING_MARKER} see https://a.example.org and https://b.example.org"),
            objectives: &[6],
            aspects: &[],
            language: "en",
        },
    )
    .await;
    assert_eq!(pending, "pending");
    // Africa.
    let (ta, ra, _) = open(
        app,
        &kofi,
        "africa",
        "Corridors",
        P {
            kind: "recommendation",
            body:
                "Labour migration corridors need portable social protection and recognised skills.",
            objectives: &[6, 18],
            aspects: &["gap"],
            language: "en",
        },
    )
    .await;
    answer(
        app,
        &kofi,
        ta,
        P {
            kind: "comment",
            body: "Remittance costs remain too high along the main corridors.",
            objectives: &[20],
            aspects: &[],
            language: "en",
        },
    )
    .await;

    for u in [&yuki, &dia, &omar, &li] {
        endorse(app, u, visible).await;
    }
    for u in [&amina, &yuki] {
        endorse(app, u, r3).await;
    }
    endorse(app, &sofia, r4).await;
    for u in [&amina, &pierre, &yuki] {
        endorse(app, u, r6).await;
    }
    endorse(app, &li, c1).await;
    endorse(app, &pierre, r5).await;
    for u in [&yuki, &dia] {
        endorse(app, u, hidden).await;
    }
    endorse(app, &yuki, ra).await;

    app.call(Method::POST, format!("/moderation/posts/{hidden}/decision"))
        .by(&moderator)
        .json(json!({"action": "hide", "reason": "spam link"}))
        .expect(200)
        .await;
    let (s, v) = app
        .send(
            reqwest::Method::DELETE,
            &format!("/posts/{removed}"),
            Some(&pierre.token),
            None,
        )
        .await;
    assert!(s == 200 || s == 204, "delete: {s} {v}");
    app.call(
        Method::POST,
        format!("/moderation/posts/{removed_by_mod}/decision"),
    )
    .by(&moderator)
    .json(json!({"action": "remove", "reason": "personal data: a phone number"}))
    .expect(200)
    .await;
    Corpus {
        secretariat,
        moderator,
        amina,
        yuki,
        hidden,
        visible,
        late_target: r5,
    }
}

/// Asks for a build through the API; returns the job.
async fn request_build(app: &TestApp, token: &str, body: Value) -> Value {
    let v = app
        .call(Method::POST, "/regions/europe/analyses")
        .token(token)
        .json(body)
        .expect(202)
        .await;
    v
}

/// Works the queue with `a` until job `id` is ready (bounded).
async fn build_with(a: &Analyses, app: &TestApp, id: i64) -> hub_store::analysis::AnalysisJob {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let job = app.server.store.analysis(id).await.expect("job");
        if job.status == "ready" || job.status == "failed" {
            assert_eq!(job.status, "ready", "{job:?}");
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not built in time: {job:?}"
        );
        if a.run_once().await.expect("run_once").is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Downloads one format; returns (status, content type, body).
async fn download(app: &TestApp, token: &str, id: i64, file: &str) -> (u16, String, String) {
    let res = app
        .http
        .get(app.api(&format!("/analyses/{id}/{file}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("download");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, res.text().await.unwrap_or_default())
}

/// Queues a build of Europe up to now, straight in the store.
async fn enqueue_europe(store: &Store, run_key: &str) -> hub_store::analysis::AnalysisJob {
    store
        .enqueue_analysis(&NewAnalysis {
            region: "europe".into(),
            run_key: run_key.into(),
            origin: Origin::Manual,
            cycle: None,
            cutoff_at: hub_store::now_micros(),
            requested_by: None,
        })
        .await
        .expect("enqueue")
        .0
}

/// Claims the next build for `worker`, under a lease of a minute.
async fn claim_for_a_minute(
    store: &Store,
    worker: &str,
) -> Option<hub_store::analysis::AnalysisJob> {
    store
        .claim_analysis(worker, hub_store::now_micros() + 60_000_000)
        .await
        .expect("claim")
}

/// A job's stored document parts: how many per claim.
async fn parts_of_claims(app: &TestApp, id: i64) -> BTreeMap<i64, i64> {
    sqlx::query(
        "SELECT claim, CAST(COUNT(*) AS BIGINT) AS n FROM analysis_document_parts \
         WHERE analysis_id = $1 GROUP BY claim",
    )
    .bind(id)
    .fetch_all(app.server.store.pool())
    .await
    .expect("parts")
    .iter()
    .map(|r| (r.get::<i64, _>("claim"), r.get::<i64, _>("n")))
    .collect()
}

async fn document_json(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, _, body) = download(app, token, id, "document.json").await;
    assert_eq!(s, 200, "{body}");
    serde_json::from_str(&body).expect("document JSON")
}

async fn cutoff_of(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("SELECT cutoff_at FROM analyses WHERE id = $1")
        .bind(id)
        .fetch_one(app.server.store.pool())
        .await
        .expect("cutoff")
}

/// `SELECT <what> , COUNT` over the counted posts of Europe: key → count.
async fn grouped(app: &TestApp, sql: &str, cutoff: i64) -> BTreeMap<String, i64> {
    let rows = sqlx::query(sql)
        .bind("europe")
        .bind(cutoff)
        .fetch_all(app.server.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|r| {
            let k: String = r.try_get(0).expect("key");
            let n: i64 = r.try_get(1).expect("count");
            (k, n)
        })
        .collect()
}

async fn scalar(app: &TestApp, sql: &str, cutoff: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind("europe")
        .bind(cutoff)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Published posts of the region created by the cutoff.
const COUNTED: &str = "p.region = $1 AND p.status = 'published' AND p.created_at <= $2";

fn as_map(list: &Value, key: &str, value: &str) -> BTreeMap<String, i64> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|x| {
            let k = match &x[key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k, x[value].as_i64().expect("number"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Figures

async fn every_figure_matches_an_independent_sql_count(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    // The grouped counts run by ranges of post ids: here of 3, so the corpus spans many.
    let a = analyses(&app, |s| s.params.count_range = 3).await;
    let job = request_build(&app, &c.secretariat.token, json!({})).await;
    let id = job["id"].as_i64().expect("id");
    // After the cutoff: a post and an endorsement the document must not count.
    let (t, _, _) = open(
        &app,
        &c.amina,
        "europe",
        "Too late",
        P {
            kind: "recommendation",
            body: "Written after the cutoff.",
            objectives: &[6],
            aspects: &["gap"],
            language: "en",
        },
    )
    .await;
    assert!(t > 0);
    endorse(&app, &c.yuki, c.late_target).await;
    let built = build_with(&a, &app, id).await;
    let cutoff = cutoff_of(&app, id).await;
    let doc = document_json(&app, &c.moderator.token, id).await;
    let q = |sql: &str| sql.replace("{COUNTED}", COUNTED);

    // Totals.
    let t = &doc["totals"];
    let n = |v: &Value| v.as_i64().expect("number");
    assert_eq!(
        n(&t["posts"]),
        scalar(
            &app,
            &q("SELECT COUNT(*) FROM posts p WHERE {COUNTED}"),
            cutoff
        )
        .await
    );
    assert_eq!(
        n(&t["posts"]),
        8,
        "the corpus has eight counted posts in Europe"
    );
    assert_eq!(built.posts, Some(n(&t["posts"])));
    assert_eq!(
        n(&t["threads"]),
        scalar(
            &app,
            &q("SELECT COUNT(DISTINCT p.thread_id) FROM posts p WHERE {COUNTED}"),
            cutoff
        )
        .await
    );
    assert_eq!(
        n(&t["authors"]),
        scalar(
            &app,
            &q("SELECT COUNT(DISTINCT p.author_id) FROM posts p WHERE {COUNTED}"),
            cutoff
        )
        .await
    );
    assert_eq!(
        n(&t["countries"]),
        scalar(&app, &q("SELECT COUNT(DISTINCT u.country) FROM posts p JOIN users u ON u.id = p.author_id WHERE {COUNTED} AND u.country IS NOT NULL AND u.country <> ''"), cutoff).await
    );
    assert_eq!(
        n(&t["stakeholder_groups"]),
        scalar(&app, &q("SELECT COUNT(DISTINCT u.stakeholder_group) FROM posts p JOIN users u ON u.id = p.author_id WHERE {COUNTED}"), cutoff).await
    );
    assert_eq!(
        n(&t["organisations"]),
        scalar(&app, &q("SELECT COUNT(DISTINCT LOWER(u.organisation)) FROM posts p JOIN users u ON u.id = p.author_id WHERE {COUNTED} AND u.organisation IS NOT NULL AND u.organisation <> ''"), cutoff).await
    );
    assert_eq!(
        n(&t["languages"]),
        scalar(&app, &q("SELECT COUNT(DISTINCT p.language) FROM posts p WHERE {COUNTED} AND p.language IS NOT NULL AND p.language <> 'und'"), cutoff).await
    );
    assert_eq!(n(&t["languages"]), 5, "en, fr, es, zh, ar");
    let endorsements = scalar(&app, &q("SELECT COUNT(*) FROM endorsements e JOIN posts p ON p.id = e.post_id WHERE {COUNTED} AND e.created_at <= $2"), cutoff).await;
    assert_eq!(n(&t["endorsements"]), endorsements);
    assert_eq!(
        endorsements, 12,
        "the hidden post's, Africa's and the late endorsement are not counted"
    );

    // By kind, group, country, language.
    let by_kind = grouped(
        &app,
        &q("SELECT p.kind, COUNT(*) FROM posts p WHERE {COUNTED} GROUP BY p.kind"),
        cutoff,
    )
    .await;
    for kind in ["comment", "recommendation", "report"] {
        assert_eq!(
            doc["by_kind"][kind].as_i64(),
            Some(by_kind.get(kind).copied().unwrap_or(0)),
            "{kind}"
        );
    }
    assert_eq!(
        as_map(&doc["stakeholder_groups"], "key", "posts"),
        grouped(&app, &q("SELECT u.stakeholder_group, COUNT(*) FROM posts p JOIN users u ON u.id = p.author_id WHERE {COUNTED} GROUP BY u.stakeholder_group"), cutoff).await
    );
    assert_eq!(
        as_map(&doc["countries"], "key", "posts"),
        grouped(&app, &q("SELECT COALESCE(NULLIF(u.country, ''), 'unknown'), COUNT(*) FROM posts p JOIN users u ON u.id = p.author_id WHERE {COUNTED} GROUP BY COALESCE(NULLIF(u.country, ''), 'unknown')"), cutoff).await
    );
    assert_eq!(
        as_map(&doc["languages"], "key", "posts"),
        grouped(&app, &q("SELECT COALESCE(p.language, 'und'), COUNT(*) FROM posts p WHERE {COUNTED} GROUP BY COALESCE(p.language, 'und')"), cutoff).await
    );

    // Objectives: posts and endorsements of each of the 23.
    let posts_by_objective = grouped(&app, &q("SELECT CAST(po.objective AS TEXT), COUNT(*) FROM post_objectives po JOIN posts p ON p.id = po.post_id WHERE {COUNTED} GROUP BY po.objective"), cutoff).await;
    let endorsements_by_objective = grouped(&app, &q("SELECT CAST(po.objective AS TEXT), COUNT(*) FROM post_objectives po JOIN posts p ON p.id = po.post_id JOIN endorsements e ON e.post_id = p.id WHERE {COUNTED} AND e.created_at <= $2 GROUP BY po.objective"), cutoff).await;
    let objectives = doc["objectives"].as_array().expect("objectives");
    assert_eq!(objectives.len(), 23);
    for o in objectives {
        let key = o["id"].to_string();
        assert_eq!(
            o["posts"].as_i64(),
            Some(posts_by_objective.get(&key).copied().unwrap_or(0)),
            "objective {key} posts"
        );
        assert_eq!(
            o["endorsements"].as_i64(),
            Some(endorsements_by_objective.get(&key).copied().unwrap_or(0)),
            "objective {key} endorsements"
        );
    }
    let ranks: Vec<i64> = objectives
        .iter()
        .filter_map(|o| o["rank"].as_i64())
        .collect();
    assert_eq!(ranks, (1..=23).collect::<Vec<_>>());
    assert_eq!(objectives[0]["id"], 6, "objective 6 leads the corpus");
    assert_eq!(doc["emerging"]["posts"], 1);

    // Excluded by status.
    let excluded = grouped(&app, "SELECT status, COUNT(*) FROM posts WHERE region = $1 AND created_at <= $2 AND status <> 'published' GROUP BY status", cutoff).await;
    assert_eq!(excluded.get("hidden"), Some(&1));
    assert_eq!(excluded.get("removed"), Some(&2));
    assert_eq!(excluded.get("pending"), Some(&1));
    for status in ["hidden", "removed", "pending"] {
        assert_eq!(
            doc["excluded"][status].as_i64(),
            excluded.get(status).copied(),
            "{status}"
        );
    }
    assert_eq!(
        doc["excluded"]["total"].as_i64(),
        Some(excluded.values().sum::<i64>())
    );
    let reasons = as_map(&doc["excluded"]["reasons"], "reason", "posts");
    assert_eq!(
        reasons,
        BTreeMap::from([
            ("author".into(), 1),
            ("personal_data".into(), 1),
            ("spam".into(), 1)
        ])
    );

    // Weekly: each ISO week's posts, from the SQL list of creation times.
    let created: Vec<i64> = sqlx::query_scalar(&q(
        "SELECT p.created_at FROM posts p WHERE {COUNTED} ORDER BY p.id",
    ))
    .bind("europe")
    .bind(cutoff)
    .fetch_all(app.server.store.pool())
    .await
    .expect("created");
    let mut per_week: BTreeMap<String, i64> = BTreeMap::new();
    for at in &created {
        let w = hub_store::from_micros(*at).date_naive().iso_week();
        *per_week
            .entry(format!("{}-W{:02}", w.year(), w.week()))
            .or_default() += 1;
    }
    let weekly = as_map(&doc["weekly"], "week", "posts");
    assert_eq!(weekly.values().sum::<i64>(), n(&t["posts"]));
    assert_eq!(
        weekly
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect::<BTreeMap<_, _>>(),
        per_week
    );
    let kinds_weekly: i64 = doc["weekly"]
        .as_array()
        .expect("weekly")
        .iter()
        .map(|w| {
            n(&w["by_kind"]["comment"])
                + n(&w["by_kind"]["recommendation"])
                + n(&w["by_kind"]["report"])
        })
        .sum();
    assert_eq!(kinds_weekly, n(&t["posts"]));

    // The annex: every counted post, by id, with its endorsements at the cutoff.
    let ids: Vec<i64> =
        sqlx::query_scalar(&q("SELECT p.id FROM posts p WHERE {COUNTED} ORDER BY p.id"))
            .bind("europe")
            .bind(cutoff)
            .fetch_all(app.server.store.pool())
            .await
            .expect("ids");
    let contributions = doc["contributions"].as_array().expect("contributions");
    assert_eq!(
        contributions
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .collect::<Vec<_>>(),
        ids
    );
    let late = contributions
        .iter()
        .find(|x| x["id"].as_i64() == Some(c.late_target))
        .expect("late target counted");
    assert_eq!(
        late["endorsements"], 1,
        "the endorsement after the cutoff is not counted"
    );
    assert!(!ids.contains(&c.hidden));
    let rec_endorsed: i64 = doc["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| n(&r["endorsements"]))
        .sum();
    let rec_sql = scalar(&app, &q("SELECT COUNT(*) FROM endorsements e JOIN posts p ON p.id = e.post_id WHERE {COUNTED} AND p.kind = 'recommendation' AND e.created_at <= $2"), cutoff).await;
    assert_eq!(
        rec_endorsed, rec_sql,
        "recommendations carry every counted endorsement once"
    );
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 2. Determinism

async fn rebuilding_the_same_snapshot_is_byte_identical(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    // Everything happened three days ago, so `until` = yesterday reads all of it.
    let three_days = 3 * 86_400_000_000_i64;
    for table in ["posts", "endorsements"] {
        sqlx::query(&format!("UPDATE {table} SET created_at = created_at - $1"))
            .bind(three_days)
            .execute(app.server.store.pool())
            .await
            .expect("backdate");
    }
    let yesterday = Utc::now().date_naive().pred_opt().expect("yesterday");
    let a = analyses(&app, |_| {}).await;
    let region = europe(&app);

    // The builder twice on the same job.
    let job = a
        .request("europe", Origin::Manual, None, Some(yesterday))
        .await
        .expect("request");
    let (first, v1) = a.build_document(&region, &job).await.expect("build 1");
    let (second, v2) = a.build_document(&region, &job).await.expect("build 2");
    assert_eq!((v1, v2), (1, 1));
    let first_json = hub_analysis::build::gunzip(&first.json_gz).expect("gunzip");
    let second_json = hub_analysis::build::gunzip(&second.json_gz).expect("gunzip");
    assert!(
        first_json == second_json,
        "two builds of one snapshot differ"
    );
    assert_eq!(first.content_sha256, second.content_sha256);
    assert_eq!(
        first.size_bytes,
        i64::try_from(first_json.len()).expect("size")
    );
    let built = build_with(&a, &app, job.id).await;
    assert_eq!(
        built.content_sha256.as_deref(),
        Some(first.content_sha256.as_str())
    );
    let stored = document_json(&app, &c.secretariat.token, job.id).await;
    assert_eq!(
        stored,
        serde_json::from_slice::<Value>(&first_json).expect("json")
    );

    // Through the API: two documents with the same `until`.
    let until = json!({"until": yesterday.to_string()});
    let one = request_build(&app, &c.secretariat.token, until.clone()).await["id"]
        .as_i64()
        .expect("id");
    let one_job = build_with(&a, &app, one).await;
    let two = request_build(&app, &c.secretariat.token, until).await["id"]
        .as_i64()
        .expect("id");
    let two_job = build_with(&a, &app, two).await;
    assert_eq!((one_job.version, two_job.version), (Some(2), Some(3)));
    assert_eq!(
        one_job.content_sha256, two_job.content_sha256,
        "same snapshot, same content hash"
    );
    assert_eq!(
        one_job.content_sha256.as_deref(),
        Some(first.content_sha256.as_str())
    );
    let mut d1 = document_json(&app, &c.secretariat.token, one).await;
    let mut d2 = document_json(&app, &c.secretariat.token, two).await;
    assert_eq!(d2["changes"]["previous_version"], 2);
    assert_eq!(d2["changes"]["added"], 0);
    assert_eq!(d2["changes"]["withdrawn"], 0);
    assert!(d2["changes"]["objectives_moved"]
        .as_array()
        .is_some_and(Vec::is_empty));
    assert!(d1["contributions"].as_array().is_some_and(|c| c.len() == 8));
    for d in [&mut d1, &mut d2] {
        let o = d.as_object_mut().expect("object");
        o.remove("version");
        o.remove("changes");
    }
    assert_eq!(d1, d2, "equal apart from version and changes");
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 3. Confidentiality

async fn hidden_posts_and_unattributed_organisations_appear_in_no_format(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    let a = analyses(&app, |_| {}).await;
    let id = request_build(&app, &c.secretariat.token, json!({})).await["id"]
        .as_i64()
        .expect("id");
    build_with(&a, &app, id).await;
    let doc = document_json(&app, &c.secretariat.token, id).await;
    let quoted: Vec<i64> = doc["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .filter_map(|r| r["quote"]["post_id"].as_i64())
        .collect();
    assert!(
        quoted.contains(&c.visible),
        "the visible recommendation is quoted: {quoted:?}"
    );
    for file in [
        "document.html",
        "document.md",
        "document.json",
        "document.csv",
    ] {
        for lang in ["en", "fr", "es"] {
            let (s, ct, body) =
                download(&app, &c.moderator.token, id, &format!("{file}?lang={lang}")).await;
            assert_eq!(s, 200, "{file} {lang}: {body}");
            assert!(!ct.is_empty());
            for secret in [
                HIDDEN_MARKER,
                REMOVED_MARKER,
                PENDING_MARKER,
                SECRET_ORG,
                "spam link",
                "phone number",
            ] {
                assert!(
                    !body.to_lowercase().contains(&secret.to_lowercase()),
                    "{file}?lang={lang} leaks {secret:?}"
                );
            }
            assert!(
                body.contains(ATTRIBUTED_ORG),
                "{file}?lang={lang} names the attributed organisation"
            );
            if file == "document.html" {
                let lower = body.to_lowercase();
                assert!(
                    !lower.contains("<script") && !lower.contains("<img src=x"),
                    "{file}?lang={lang} lets user markup through"
                );
            }
            if file != "document.csv" {
                assert!(
                    body.contains(VISIBLE_MARKER),
                    "{file}?lang={lang} quotes the visible post"
                );
            }
        }
    }
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 4. Two instances, one document

async fn two_instances_scheduling_the_same_run_make_one_document(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    let today = Utc::now().date_naive();
    let review = today.checked_add_days(chrono::Days::new(7)).expect("date");
    let due = today.checked_sub_days(chrono::Days::new(7)).expect("date");
    let mut region = europe(&app);
    region.calendar = RegionCalendar {
        cycles: vec![ReviewCycle {
            name: "test-cycle".into(),
            events: vec![CalendarEvent::new(
                EventKind::Review,
                FuzzyDate::day(review).expect("day"),
            )],
        }],
    };
    let regions = Arc::new(vec![region]);
    let settings = Settings {
        lead_days: 14,
        ..Settings::default()
    };
    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = Store::connect(app.db_url(), &Default::default())
            .await
            .expect("store");
        instances.push(Analyses::new(store, regions.clone(), settings.clone()));
    }
    let (one, two) = (&instances[0], &instances[1]);
    let (s1, s2) = tokio::join!(one.schedule(today), two.schedule(today));
    let new = s1.expect("schedule 1") + s2.expect("schedule 2");
    assert_eq!(new, 1, "one instance enqueues the run, the other finds it");
    let (r1, r2) = tokio::join!(one.run_once(), two.run_once());
    let built: Vec<_> = [r1.expect("run 1"), r2.expect("run 2")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(built.len(), 1, "exactly one instance built: {built:?}");
    // Scheduling again (as every poll does) adds nothing, and nothing is left to build.
    let (s1, s2) = tokio::join!(one.schedule(today), two.schedule(today));
    assert_eq!(s1.expect("schedule") + s2.expect("schedule"), 0);
    let (r1, r2) = tokio::join!(one.run_once(), two.run_once());
    assert!(r1.expect("run").is_none() && r2.expect("run").is_none());

    let run_key = format!("europe:test-cycle:due:{due}");
    let rows = sqlx::query("SELECT id, status, version, origin FROM analyses WHERE run_key = $1")
        .bind(&run_key)
        .fetch_all(app.server.store.pool())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "one job for {run_key}");
    let id: i64 = rows[0].try_get("id").expect("id");
    assert_eq!(
        rows[0].try_get::<String, _>("status").ok().as_deref(),
        Some("ready")
    );
    assert_eq!(
        rows[0].try_get::<Option<i64>, _>("version").ok().flatten(),
        Some(1)
    );
    assert_eq!(app.count("analyses").await, 1);
    assert_eq!(app.count("analysis_documents").await, 1);
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'analysis.ready'")
            .fetch_one(app.server.store.pool())
            .await
            .expect("events");
    assert_eq!(events, 1);
    let doc = document_json(&app, &c.secretariat.token, id).await;
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["review"]["cycle"], "test-cycle");
    assert_eq!(doc["cutoff"], format!("{due}T00:00:00Z"));
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 5. A killed build

async fn a_killed_build_leaves_nothing_and_is_retried_after_its_lease(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    let lease = Duration::from_secs(2);
    let doomed = analyses(&app, |s| s.lease = lease).await;
    let rescuer = analyses(&app, |s| s.lease = lease).await;
    let id = request_build(&app, &c.secretariat.token, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let url = app.db_url().to_string();

    // Hold the database so the build's final write blocks, then kill the build.
    match db {
        Db::Postgres => {
            let mut holder = sqlx::PgConnection::connect(&url).await.expect("holder");
            sqlx::query("BEGIN")
                .execute(&mut holder)
                .await
                .expect("begin");
            // SHARE: reads go on (the claim reads it), writes wait (the document's row).
            sqlx::query("LOCK TABLE analysis_documents IN SHARE MODE")
                .execute(&mut holder)
                .await
                .expect("lock");
            let worker = doomed.clone();
            let mut task =
                tokio::spawn(async move { worker.run_once().await.map(|j| j.map(|j| j.status)) });
            // Wait until the build waits on the lock: its job row is written, its document not.
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock'",
                )
                .fetch_one(&mut holder)
                .await
                .expect("pg_stat_activity");
                if waiting > 0 {
                    break;
                }
                assert!(
                    !task.is_finished(),
                    "the build finished past a locked table"
                );
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the build never reached its final write"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(tokio::time::timeout(Duration::from_millis(500), &mut task)
                .await
                .is_err());
            task.abort();
            let _ = task.await;
            sqlx::query("ROLLBACK")
                .execute(&mut holder)
                .await
                .expect("release");
            holder.close().await.expect("close");
        }
        Db::Sqlite => {
            // SQLite has one write lock for the whole file, so it is taken as soon as the
            // claim has committed (polled every millisecond; the build itself takes about
            // 150 ms here, most of it loading the segmenter) and the status is checked under
            // it: the test says so plainly if the build ever wins that race.
            let mut holder = sqlx::SqliteConnection::connect(&url).await.expect("holder");
            let worker = doomed.clone();
            let mut task =
                tokio::spawn(async move { worker.run_once().await.map(|j| j.map(|j| j.status)) });
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let status: String =
                    sqlx::query_scalar("SELECT status FROM analyses WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut holder)
                        .await
                        .expect("status");
                if status != "queued" {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the build never started"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut holder)
                .await
                .expect("hold");
            let status: String = sqlx::query_scalar("SELECT status FROM analyses WHERE id = $1")
                .bind(id)
                .fetch_one(&mut holder)
                .await
                .expect("status");
            assert_eq!(
                status, "building",
                "the build finished before the database was held"
            );
            // It cannot finish while the database is held (its busy timeout is longer).
            assert!(tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err());
            task.abort();
            let _ = task.await;
            sqlx::query("ROLLBACK")
                .execute(&mut holder)
                .await
                .expect("release");
            holder.close().await.expect("close");
        }
    }
    let job = app.server.store.analysis(id).await.expect("job");
    assert_eq!(job.status, "building", "{job:?}");
    assert_eq!(job.attempts, 1);
    let doomed_parts = parts_of_claims(&app, id).await;
    if db == Db::Postgres {
        // Killed in its final write: its document's parts are stored, in no document.
        assert_eq!(
            doomed_parts.keys().copied().collect::<Vec<_>>(),
            vec![job.started_at.expect("claimed")],
            "the killed claim's parts"
        );
    }
    assert_eq!(job.version, None);
    assert_eq!(job.worker.as_deref(), Some(doomed.worker_id()));
    assert_eq!(
        app.count("analysis_documents").await,
        0,
        "nothing half-made"
    );
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'analysis.ready'")
            .fetch_one(app.server.store.pool())
            .await
            .expect("events");
    assert_eq!(events, 0);

    // Another worker takes it over once the lease has expired.
    let done = build_with(&rescuer, &app, id).await;
    assert_eq!(done.status, "ready");
    assert_eq!(done.version, Some(1));
    assert_eq!(done.attempts, 2);
    assert_eq!(done.worker.as_deref(), Some(rescuer.worker_id()));
    assert_eq!(app.count("analysis_documents").await, 1);
    assert_eq!(
        parts_of_claims(&app, id)
            .await
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![done.started_at.expect("claimed")],
        "only the parts of the claim that completed are kept"
    );
    let doc = document_json(&app, &c.secretariat.token, id).await;
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["totals"]["posts"], 8);
    app.finish().await;
}

/// A document of several parts comes back byte for byte; a completion that lost its claim
/// keeps none of its parts.
async fn a_large_document_is_stored_in_parts_and_read_back_whole(db: Db) {
    use hub_store::analysis::{Completion, FinishedDocument, DOCUMENT_PART};
    let app = spawn_quiet(db).await;
    let store = &app.server.store;
    // Bytes that no shorter rule reproduces, two and a half parts of them.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..DOCUMENT_PART * 5 / 2)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    let finished = |claim: i64| FinishedDocument {
        claim,
        version: 1,
        cutoff_seq: 0,
        content_sha256: "0".repeat(64),
        posts: 0,
        size_bytes: i64::try_from(bytes.len()).expect("size"),
        json_gz: bytes.clone(),
        summary_gz: Vec::new(),
        event_payload: "{}".into(),
    };

    let job = enqueue_europe(store, "test:parts").await;
    let claim_it = || async {
        let claimed = claim_for_a_minute(store, "worker-a").await.expect("a job");
        assert_eq!(claimed.id, job.id);
        claimed.started_at.expect("claimed")
    };
    let stray = |id: i64, claim: i64, part: i64| {
        sqlx::query(
            "INSERT INTO analysis_document_parts (analysis_id, claim, part, bytes) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(claim)
        .bind(part)
        .bind(&b"stray"[..])
        .execute(store.pool())
    };

    // A part under the claim that the claim did not write: the document is not made of it.
    let claim = claim_it().await;
    stray(job.id, claim, 7).await.expect("stray part");
    let refused = store
        .complete_analysis(job.id, "worker-a", &finished(claim))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(app.count("analysis_documents").await, 0);
    // The sweep at a claim leaves the parts of a claim still building.
    assert!(claim_for_a_minute(store, "worker-b").await.is_none());
    assert_eq!(
        parts_of_claims(&app, job.id).await,
        BTreeMap::from([(claim, 4)])
    );
    store
        .fail_analysis(job.id, "worker-a", "parts do not add up")
        .await
        .expect("fail");
    assert!(
        parts_of_claims(&app, job.id).await.is_empty(),
        "a failed attempt's parts are deleted"
    );

    let claim = claim_it().await;
    // Another worker's completion of the job, or one of an earlier claim, stores nothing.
    for (worker, at) in [("worker-b", claim), ("worker-a", claim - 1)] {
        assert_eq!(
            store
                .complete_analysis(job.id, worker, &finished(at))
                .await
                .expect("complete"),
            Completion::LeaseLost
        );
        assert!(
            parts_of_claims(&app, job.id).await.is_empty(),
            "{worker} {at}"
        );
    }
    assert_eq!(app.count("analysis_documents").await, 0);
    assert_eq!(
        store
            .complete_analysis(job.id, "worker-a", &finished(claim))
            .await
            .expect("complete"),
        Completion::Ready
    );
    assert_eq!(
        parts_of_claims(&app, job.id).await,
        BTreeMap::from([(claim, 3)])
    );
    let back = store.document_gz(job.id).await.expect("document");
    assert!(
        back == bytes,
        "read back {} bytes of {}",
        back.len(),
        bytes.len()
    );

    // A build whose version another took meanwhile: queued again, its parts deleted.
    let other = enqueue_europe(store, "test:parts-again").await;
    let again = claim_for_a_minute(store, "worker-a").await.expect("a job");
    assert_eq!(again.id, other.id);
    let again_claim = again.started_at.expect("claimed");
    assert_eq!(
        store
            .complete_analysis(other.id, "worker-a", &finished(again_claim))
            .await
            .expect("complete"),
        Completion::VersionTaken,
        "version 1 is taken"
    );
    assert!(parts_of_claims(&app, other.id).await.is_empty());
    assert_eq!(
        store.analysis(other.id).await.expect("job").status,
        "queued"
    );

    // Parts of a claim that never completed (a build killed after writing some) go at the
    // next claim; the ready document's stay.
    stray(other.id, again_claim, 0).await.expect("stray part");
    let third = claim_for_a_minute(store, "worker-a").await.expect("a job");
    assert_eq!(third.id, other.id);
    assert!(parts_of_claims(&app, other.id).await.is_empty());
    assert_eq!(
        parts_of_claims(&app, job.id).await,
        BTreeMap::from([(claim, 3)])
    );
    assert!(store.document_gz(job.id).await.expect("document") == bytes);
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 6. The API

async fn the_api_enforces_roles_formats_and_input_and_announces_ready_documents(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("analysis.worker", true))
            .merge(Serialized::default("analysis.poll_seconds", 1))
    })
    .await;
    let author = app.register("Author").await;
    app.thread(
        &author,
        "europe",
        "Something to analyse",
        "Protect migrant workers.",
    )
    .await;
    let stakeholder = app.register("Stakeholder").await;
    let mod_europe = with_role(
        &app,
        "Mod Europe",
        hub_domain::RoleKind::Moderator,
        Some("europe"),
    )
    .await;
    let mod_africa = with_role(
        &app,
        "Mod Africa",
        hub_domain::RoleKind::Moderator,
        Some("africa"),
    )
    .await;
    let sec = with_role(&app, "Sec", hub_domain::RoleKind::Secretariat, None).await;
    let jobs_before = app.count("analyses").await;

    // Every refusal of a build writes no job.
    let refusals: Vec<(&str, Option<&str>, Option<&str>, u16)> = vec![
        ("/regions/europe/analyses", None, Some("{}"), 401),
        (
            "/regions/europe/analyses",
            Some(&stakeholder.token),
            Some("{}"),
            403,
        ),
        (
            "/regions/europe/analyses",
            Some(&mod_europe.token),
            Some("{}"),
            403,
        ),
        (
            "/regions/europe/analyses",
            Some(&mod_africa.token),
            Some("{}"),
            403,
        ),
        (
            "/regions/atlantis/analyses",
            Some(&sec.token),
            Some("{}"),
            404,
        ),
        (
            "/regions/europe/analyses",
            Some(&sec.token),
            Some("{\"until\": "),
            400,
        ),
        (
            "/regions/europe/analyses",
            Some(&sec.token),
            Some("until=2026-01-01"),
            400,
        ),
        (
            "/regions/europe/analyses",
            Some(&sec.token),
            Some("{\"until\": \"2026-13-45\"}"),
            422,
        ),
        (
            "/regions/europe/analyses",
            Some(&sec.token),
            Some("{\"since\": \"2026-01-01\"}"),
            422,
        ),
        (
            "/regions/europe/analyses",
            Some(&sec.token),
            Some("{\"until\": 20260101}"),
            422,
        ),
    ];
    let tomorrow = (Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let future = format!("{{\"until\": \"{tomorrow}\"}}");
    let mut all = refusals;
    all.push((
        "/regions/europe/analyses",
        Some(&sec.token),
        Some(future.as_str()),
        422,
    ));
    for (path, token, body, expected) in &all {
        let mut req = app
            .http
            .post(app.api(path))
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert_problem(status, &v, *expected, &format!("POST {path} {body:?}"));
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        assert_eq!(
            app.count("analyses").await,
            jobs_before,
            "POST {path} {body:?} wrote a job"
        );
    }

    // The secretariat builds: 202 with Location; analysis.ready follows on region:europe.
    let mut ws = WsClient::connect(&app.ws_url(""), &[]).await.expect("ws");
    ws.subscribe(&["region:europe"], None).await;
    let res = app
        .http
        .post(app.api("/regions/europe/analyses"))
        .bearer_auth(&sec.token)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 202);
    let location = res
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let job: Value = res.json().await.expect("job");
    let id = job["id"].as_i64().expect("id");
    assert_eq!(location, format!("/api/v1/analyses/{id}"));
    assert!(
        job["status"] == "queued" || job["status"] == "building" || job["status"] == "ready",
        "{job}"
    );
    assert_eq!(app.count("analyses").await, jobs_before + 1);
    let deadline = tokio::time::Instant::now() + WAIT;
    let ready = loop {
        let (s, v) = app
            .get(&format!("/analyses/{id}"), Some(&mod_europe.token))
            .await;
        assert_eq!(s, 200, "{v}");
        if v["status"] == "ready" {
            break v;
        }
        assert_ne!(v["status"], "failed", "{v}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready in time: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["version"], 1);
    assert_eq!(
        ready["documents"]["csv"],
        format!("/api/v1/analyses/{id}/document.csv")
    );
    let event = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let v = ws
            .next_json(left)
            .await
            .expect("analysis.ready before the deadline");
        if v["op"] == "event" && v["type"] == "analysis.ready" {
            break v;
        }
    };
    assert_eq!(event["channel"], "region:europe");
    assert_eq!(event["data"]["id"].as_i64(), Some(id));
    assert_eq!(event["data"]["version"], 1);
    ws.close().await;

    // Reading: the secretariat and Europe's moderator; nobody else.
    for path in [
        "/regions/europe/analyses".to_string(),
        format!("/analyses/{id}"),
        format!("/analyses/{id}/document.json"),
    ] {
        assert_eq!(app.get(&path, None).await.0, 401, "{path}");
        let (s, v) = app.get(&path, Some(&stakeholder.token)).await;
        assert_problem(s, &v, 403, &format!("stakeholder {path}"));
        let (s, v) = app.get(&path, Some(&mod_africa.token)).await;
        assert_problem(s, &v, 403, &format!("moderator of africa {path}"));
        assert_eq!(
            app.get(&path, Some(&mod_europe.token)).await.0,
            200,
            "{path}"
        );
        assert_eq!(app.get(&path, Some(&sec.token)).await.0, 200, "{path}");
    }
    let (_, list) = app
        .get("/regions/europe/analyses", Some(&mod_europe.token))
        .await;
    assert_eq!(list["items"][0]["id"].as_i64(), Some(id));
    app.call(Method::GET, "/regions/africa/analyses")
        .by(&mod_africa)
        .expect(200)
        .await;
    let (s, v) = app
        .get("/regions/atlantis/analyses", Some(&sec.token))
        .await;
    assert_problem(s, &v, 404, "unknown region");
    for file in ["document.pdf", "document", "document.json.gz"] {
        let (s, v) = app
            .get(&format!("/analyses/{id}/{file}"), Some(&sec.token))
            .await;
        assert_problem(s, &v, 404, file);
    }
    let (s, v) = app
        .get(
            &format!("/analyses/{id}/document.html?lang=de"),
            Some(&sec.token),
        )
        .await;
    assert_problem(s, &v, 422, "lang=de");
    assert_eq!(v["errors"][0]["field"], "lang");
    let (s, v) = app.get("/analyses/999999", Some(&sec.token)).await;
    assert_problem(s, &v, 404, "unknown analysis");
    for (file, ct) in [
        ("document.html", "text/html"),
        ("document.md", "text/markdown"),
        ("document.json", "application/json"),
        ("document.csv", "text/csv"),
    ] {
        let (s, got, _) = download(&app, &mod_europe.token, id, &format!("{file}?lang=fr")).await;
        assert_eq!(s, 200, "{file}");
        assert!(got.starts_with(ct), "{file}: {got}");
    }

    // A document that is not ready yet (its cutoff is still to come, so no worker takes it).
    let (waiting, _) = app
        .server
        .store
        .enqueue_analysis(&NewAnalysis {
            region: "europe".into(),
            run_key: "test:not-ready".into(),
            origin: Origin::Manual,
            cycle: None,
            cutoff_at: hub_store::now_micros() + 86_400_000_000,
            requested_by: None,
        })
        .await
        .expect("enqueue");
    let (s, v) = app
        .get(
            &format!("/analyses/{}/document.md", waiting.id),
            Some(&sec.token),
        )
        .await;
    assert_problem(s, &v, 409, "not ready");
    let (s, v) = app
        .get(
            &format!("/analyses/{}", waiting.id),
            Some(&mod_europe.token),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("queued")), "{v}");
    assert!(v["documents"].is_null());
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 7. Retries (the contract: a creating POST honours Idempotency-Key)

async fn a_retried_build_request_with_the_same_idempotency_key_makes_one_job(db: Db) {
    let app = spawn_quiet(db).await;
    let sec = with_role(&app, "Sec", hub_domain::RoleKind::Secretariat, None).await;
    let other = with_role(&app, "Other Sec", hub_domain::RoleKind::Secretariat, None).await;
    let post = |token: &str, key: &str, body: &str| {
        app.http
            .post(app.api("/regions/europe/analyses"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let first = post(&sec.token, "build-1", "{}").await.expect("post");
    assert_eq!(first.status().as_u16(), 202);
    let first: Value = first.json().await.expect("job");
    let again = post(&sec.token, "build-1", "{}").await.expect("post");
    assert_eq!(again.status().as_u16(), 202);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again: Value = again.json().await.expect("job");
    assert_eq!(again["id"], first["id"], "the retry returns the first job");
    assert_eq!(app.count("analyses").await, 1, "and makes no other");
    // The same key with another request is refused and writes nothing.
    let res = post(&sec.token, "build-1", "{\"until\": \"2026-01-01\"}")
        .await
        .expect("post");
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert_problem(status, &v, 409, "same key, other request");
    assert_eq!(app.count("analyses").await, 1);
    // Keys are per user; another key is another build.
    let res = post(&other.token, "build-1", "{}").await.expect("post");
    assert_eq!(res.status().as_u16(), 202);
    let res = post(&sec.token, "build-2", "{}").await.expect("post");
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(app.count("analyses").await, 3);
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// 8. Versions

async fn the_next_version_says_what_changed_and_an_empty_period_still_renders(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    let a = analyses(&app, |_| {}).await;
    let one = request_build(&app, &c.secretariat.token, json!({})).await["id"]
        .as_i64()
        .expect("id");
    build_with(&a, &app, one).await;
    let v1 = document_json(&app, &c.secretariat.token, one).await;
    assert!(v1["changes"].is_null());
    // What the next version compares with: the summary stored beside the document says what
    // the document says. Then it is dropped, as for a document stored before summaries, so
    // version 2 reads version 1 whole, and version 3 reads version 2's summary.
    let store = &app.server.store;
    let whole = store.document_gz(one).await.expect("document");
    let summary: Vec<u8> =
        sqlx::query_scalar("SELECT summary_gz FROM analysis_documents WHERE analysis_id = $1")
            .bind(one)
            .fetch_one(store.pool())
            .await
            .expect("summary");
    let from_summary = build::previous_of_summary(&summary).expect("summary reads");
    assert_eq!(
        from_summary,
        build::previous_of(&whole).expect("document reads")
    );
    assert_eq!(from_summary.contributions.len(), 8);
    assert_eq!(from_summary.version, 1);
    sqlx::query("UPDATE analysis_documents SET summary_gz = NULL WHERE analysis_id = $1")
        .bind(one)
        .execute(store.pool())
        .await
        .expect("drop the summary");
    // Between the versions: the best-supported recommendation is hidden, a post is added.
    let (s, v) = app
        .post(
            &format!("/moderation/posts/{}/decision", c.visible),
            &c.moderator.token,
            json!({"action": "hide", "reason": "off topic"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, added, _) = open(
        &app,
        &c.amina,
        "europe",
        "Later",
        P {
            kind: "comment",
            body: "Skills recognition takes years for nurses trained abroad.",
            objectives: &[18],
            aspects: &["gap"],
            language: "en",
        },
    )
    .await;
    let two = request_build(&app, &c.secretariat.token, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let job = build_with(&a, &app, two).await;
    assert_eq!(job.version, Some(2));
    let v2 = document_json(&app, &c.secretariat.token, two).await;
    let ch = &v2["changes"];
    assert_eq!(ch["previous_version"], 1);
    assert_eq!(ch["previous_cutoff"], v1["cutoff"]);
    assert_eq!(ch["added"], 1);
    assert_eq!(ch["withdrawn"], 1);
    assert_eq!(ch["totals"]["posts"], 0);
    assert_eq!(
        ch["totals"]["endorsements"], -4,
        "the hidden post's four endorsements"
    );
    let ids: Vec<i64> = v2["contributions"]
        .as_array()
        .expect("contributions")
        .iter()
        .filter_map(|x| x["id"].as_i64())
        .collect();
    assert!(ids.contains(&added) && !ids.contains(&c.visible));
    assert_eq!(v2["excluded"]["hidden"], 2);
    for file in [
        "document.html",
        "document.md",
        "document.json",
        "document.csv",
    ] {
        let (s, _, body) = download(&app, &c.secretariat.token, two, file).await;
        assert_eq!(s, 200, "{file}");
        assert!(
            !body.contains(VISIBLE_MARKER),
            "{file} quotes a post hidden since v1"
        );
    }

    // A period before any post: an empty document, in every format.
    let empty = request_build(&app, &c.secretariat.token, json!({"until": "2020-01-01"})).await
        ["id"]
        .as_i64()
        .expect("id");
    let job = build_with(&a, &app, empty).await;
    assert_eq!((job.version, job.posts), (Some(3), Some(0)));
    let v3 = document_json(&app, &c.secretariat.token, empty).await;
    assert_eq!(v3["totals"]["posts"], 0);
    assert!(v3["contributions"].as_array().is_some_and(Vec::is_empty));
    assert!(v3["weekly"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(v3["changes"]["withdrawn"], 8);
    for file in ["document.html", "document.md", "document.csv"] {
        for lang in ["en", "fr", "es"] {
            let (s, _, _) = download(
                &app,
                &c.moderator.token,
                empty,
                &format!("{file}?lang={lang}"),
            )
            .await;
            assert_eq!(s, 200, "{file} {lang}");
        }
    }
    app.finish().await;
}

/// While a request or a write is in flight in the process, a build's reading gives way to it
/// (it sleeps, so its core is free) and still goes on, to the same document; a request marks
/// itself in flight from its headers until its response.
async fn a_build_gives_way_to_requests_and_writes_in_flight(db: Db) {
    let app = spawn_quiet(db).await;
    let c = corpus(&app).await;
    let store = &app.server.store;
    let activity = store.activity().clone();

    // Reads Europe's posts in a snapshot: how many, and how long the reading paused.
    let read_posts = || async {
        let mut snap = store.snapshot("europe", i64::MAX).await.expect("snapshot");
        let mut n = 0;
        snap.posts(|_| {
            n += 1;
            Ok(())
        })
        .await
        .expect("posts");
        let paused = snap.paused();
        snap.finish().await.expect("finish");
        (n, paused)
    };

    // Nothing in flight: reading the snapshot never pauses.
    let (quiet, paused) = read_posts().await;
    assert!(quiet > 5, "the corpus has posts in Europe: {quiet}");
    assert_eq!(paused, Duration::ZERO);

    // A write in flight: the same rows, read with pauses.
    let busy = activity.enter();
    let (paced, paused) = read_posts().await;
    assert_eq!(paced, quiet);
    assert!(paused >= Duration::from_millis(5), "{paused:?}");

    // A whole build under a steady load ends, with the document of a quiet build.
    let a = analyses(&app, |_| {}).await;
    let region = europe(&app);
    let job = a
        .request("europe", Origin::Manual, None, None)
        .await
        .expect("request");
    let (loaded, _) = tokio::time::timeout(WAIT, a.build_document(&region, &job))
        .await
        .expect("the build ends under load")
        .expect("build");
    drop(busy);
    assert!(!activity.busy());
    let (calm, _) = a.build_document(&region, &job).await.expect("build");
    assert_eq!(loaded.content_sha256, calm.content_sha256);

    // An HTTP request is in flight from its headers: one whose body never comes.
    use tokio::io::AsyncWriteExt;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(
        format!(
            "POST /api/v1/threads/1/posts HTTP/1.1\r\nhost: {addr}\r\n\
             authorization: Bearer {}\r\ncontent-type: application/json\r\n\
             content-length: 100\r\n\r\n{{\"body\":",
            c.secretariat.token
        )
        .as_bytes(),
    )
    .await
    .expect("send");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !activity.busy() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(activity.busy(), "the request is in flight");
    drop(slow);
    while activity.busy() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!activity.busy(), "and no longer once its client has gone");
    app.finish().await;
}
