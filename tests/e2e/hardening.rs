//! What an outside test of the running hub found, each fixed and kept fixed: memory per
//! sign-in, slow and idle clients, a hung Redis, database errors, replays after a crash,
//! authority across regions, tickets after logout, small protocol holes, and limits that fit
//! an in-person consultation.

use figment::providers::Serialized;
use hub_tests::redis::RedisServer;
use hub_tests::ws::WsClient;
use hub_tests::{assert_problem, both_backends, Db, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

both_backends!(
    a_frozen_redis_holds_no_write_and_live_delivery_goes_on,
    a_lost_database_answers_503_with_retry_after,
    a_moderator_restricts_posting_in_their_region_only,
    tickets_and_live_connections_end_with_their_session_or_powers,
    flags_of_new_accounts_queue_a_post_but_do_not_hide_it,
    per_address_ceilings_grow_with_the_accounts_seen_there,
);

async fn with_role(app: &TestApp, name: &str, role: hub_domain::RoleKind) -> TestUser {
    let u = app.register(name).await;
    app.server
        .store
        .grant_role(u.id, &hub_domain::Role { role, region: None })
        .await
        .expect("grant");
    u
}

fn until_in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// A TCP connection to the hub from a chosen loopback address (every 127.x.y.z is this
/// machine), so that tests can be several clients.
async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    socket.connect(to).await.expect("connect")
}

/// Sends one HTTP/1.1 request on a raw connection; returns the status line and the body.
async fn raw_get(tcp: &mut TcpStream, path: &str) -> (String, String) {
    let req = format!("GET {path} HTTP/1.1\r\nhost: hub\r\nconnection: keep-alive\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.expect("write");
    read_response(tcp).await
}

/// Reads one response (headers and a content-length body).
async fn read_response(tcp: &mut TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                let status = head.lines().next().unwrap_or("").to_string();
                return (format!("{status}\n{head}"), body);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => {
                return (String::from_utf8_lossy(&buf).to_string(), String::new())
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Whether the server closes the connection within `within` (reads return end of file or an
/// error), reading and dropping whatever it sends.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Fix 1: Sign-ins beyond what the hashing workers and their queue hold are answered 503 with
/// `Retry-After` at once (they used to all hash at once, each with its own 19 MiB or more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_past_the_hashing_queue_are_answered_503() {
    let app = TestApp::spawn_with(Db::Sqlite, |f| {
        f.merge(Serialized::default("auth.argon2_memory_kib", 16 * 1024))
            .merge(Serialized::default("auth.argon2_iterations", 4))
            .merge(Serialized::default("auth.hash_workers", 1))
            .merge(Serialized::default("auth.hash_queue", 2))
    })
    .await;
    let attempts: Vec<_> = (0..16)
        .map(|i| {
            let http = app.http.clone();
            let url = app.api("/auth/login");
            tokio::spawn(async move {
                let res = http
                    .post(url)
                    .json(&json!({"email": format!("nobody{i}@example.org"), "password": "a long enough passphrase"}))
                    .send()
                    .await
                    .expect("login");
                let retry = res.headers().get("retry-after").is_some();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or_default();
                (status, retry, body)
            })
        })
        .collect();
    let (mut refused, mut wrong) = (0, 0);
    for a in attempts {
        let (status, retry, body) = a.await.expect("task");
        match status {
            401 => wrong += 1,
            503 => {
                assert!(retry, "a 503 says when to come back");
                assert_problem(status, &body, 503, "an overloaded sign-in");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(refused >= 8, "{refused} refused, {wrong} answered");
    assert!(wrong >= 1, "some were served");
    app.finish().await;
}

/// Fix 2: A client sending its headers a byte at a time, and one that sends nothing, are closed
/// after `http.header_read_timeout_secs`; one address gets at most
/// `http.max_connections_per_ip` connections while others are served; past
/// `http.max_connections`, health checks are still answered from the reserve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_too_many_clients_are_bounded() {
    let app = TestApp::spawn_with(Db::Sqlite, |f| {
        f.merge(Serialized::default("http.header_read_timeout_secs", 1))
            .merge(Serialized::default("http.max_connections_per_ip", 4))
            .merge(Serialized::default("http.max_connections", 8))
            .merge(Serialized::default("http.reserve_connections", 2))
    })
    .await;
    let addr = app.server.addr;
    let ip = |last: u8| IpAddr::from([127, 0, 0, last]);

    // A byte a second: closed after the header timeout (it used to stay open for ever).
    let mut slow = connect_from(ip(11), addr).await;
    let trickle = async {
        for b in b"GET /healthz HTTP/1.1\r\nhost: hub\r\n" {
            if slow.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), trickle).await;
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "a slow client is closed"
    );
    // Nothing sent at all: closed too.
    let mut idle = connect_from(ip(12), addr).await;
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    // Idle between requests of a keep-alive connection: closed too.
    let mut kept = connect_from(ip(13), addr).await;
    let (status, _) = raw_get(&mut kept, "/healthz").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(closed_within(&mut kept, Duration::from_secs(5)).await);

    // Four connections from one address; the fifth is answered 503 at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from(ip(21), addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = connect_from(ip(21), addr).await;
    let (status, body) = read_response(&mut fifth).await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    assert!(
        status.to_ascii_lowercase().contains("retry-after"),
        "{status}"
    );
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(body["status"], 503, "{body}");
    // Another address is served meanwhile, and so are the held connections.
    let mut other = connect_from(ip(22), addr).await;
    let (status, _) = raw_get(&mut other, "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let (status, _) = raw_get(&mut held[0], "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    drop(other);
    drop(fifth);

    // Up to the cap of eight: four more, each from its own address.
    for i in 0..4 {
        held.push(connect_from(ip(30 + i), addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Past it, the reserve answers health checks, and nothing else.
    let mut health = connect_from(ip(40), addr).await;
    let (status, _) = raw_get(&mut health, "/readyz").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut api = connect_from(ip(41), addr).await;
    let (status, _) = raw_get(&mut api, "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    assert!(
        status.to_ascii_lowercase().contains("retry-after"),
        "{status}"
    );
    // An existing connection is served as usual.
    let (status, _) = raw_get(&mut held[5], "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    drop(held);
    app.finish().await;
}

/// Fix 2: an open WebSocket holds its connection slot (hyper's connection ends at the
/// upgrade; the stream goes on): past the cap, only health checks are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_websockets_count_toward_the_connection_cap() {
    let app = TestApp::spawn_with(Db::Sqlite, |f| {
        f.merge(Serialized::default("http.max_connections", 3))
            .merge(Serialized::default("http.reserve_connections", 2))
    })
    .await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(WsClient::connect(&app.ws_url(""), &[]).await.expect("ws"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut api = connect_from(IpAddr::from([127, 0, 0, 51]), app.server.addr).await;
    let (status, _) = raw_get(&mut api, "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    let mut health = connect_from(IpAddr::from([127, 0, 0, 52]), app.server.addr).await;
    let (status, _) = raw_get(&mut health, "/healthz").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    // Closed, they give their slots back.
    for s in sockets {
        s.close().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut api = connect_from(IpAddr::from([127, 0, 0, 53]), app.server.addr).await;
    let (status, _) = raw_get(&mut api, "/api/v1/objectives").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    app.finish().await;
}

/// Fix 3: With Redis frozen, registrations, sign-ins and replies are answered (they used to hang
/// until the 30 s timeout), `/readyz` says Redis is down but the hub ready, and live events
/// still arrive, from polling the log. When Redis is back, `/readyz` says so.
async fn a_frozen_redis_holds_no_write_and_live_delivery_goes_on(db: Db) {
    let Some(redis) = RedisServer::start("the frozen-Redis test") else {
        return;
    };
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("redis_url", redis.url.clone()))
            .merge(Serialized::default("redis_timeout_ms", 200))
    })
    .await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Frozen", "opening").await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[]).await.expect("ws");
    ws.subscribe(&[&format!("thread:{t}")], None).await;
    let ready = |app: &TestApp| {
        let http = app.http.clone();
        let url = format!("{}/readyz", app.base);
        async move {
            let res = http.get(url).send().await.expect("readyz");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or_default(),
            )
        }
    };
    let (s, v) = ready(&app).await;
    assert_eq!((s, v["redis"].as_str()), (200, Some("ok")), "{v}");

    redis.freeze();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut slowest = Duration::ZERO;
    for i in 0..8 {
        let started = Instant::now();
        let res = client
            .post(app.api(&format!("/threads/{t}/posts")))
            .bearer_auth(&ana.token)
            .json(&json!({"body": format!("reply {i} while Redis is frozen"), "kind": "comment"}))
            .send()
            .await
            .expect("a reply is answered while Redis is frozen");
        assert_eq!(res.status(), 201);
        slowest = slowest.max(started.elapsed());
    }
    let res = client
        .post(app.api("/auth/login"))
        .json(&json!({"email": ana.email, "password": "a long enough passphrase"}))
        .send()
        .await
        .expect("a sign-in is answered while Redis is frozen");
    assert_eq!(res.status(), 200);
    let (s, v) = ready(&app).await;
    assert_eq!(s, 200, "Redis is not the database: {v}");
    assert_eq!(v["redis"], "down", "{v}");
    assert_eq!(v["database"], "ok", "{v}");
    let events = ws.events(8, Duration::from_secs(10)).await;
    assert_eq!(events.len(), 8, "live events arrive by polling the log");
    eprintln!("slowest reply with Redis frozen: {slowest:?}");

    redis.thaw();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = ready(&app).await;
        if v["redis"] == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "Redis back: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.reply(&ana, t, None, "after the thaw").await;
    assert_eq!(ws.events(1, Duration::from_secs(10)).await.len(), 1);
    ws.close().await;
    app.finish().await;
}

/// A TCP relay between the hub and its database that the test can cut: every connection
/// through it is dropped and new ones are refused until it is restored.
struct Relay {
    addr: SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(to: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("relay");
        let addr = listener.local_addr().expect("relay address");
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if *cut_rx.borrow() {
                    continue; // dropped: refused
                }
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(to).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }
}

/// Fix 4: A database that goes away answers 503 problem+json with `Retry-After`, not 500, and
/// writes nothing; when it is back, the retry with the same key writes once. (PostgreSQL: the
/// hub's connections go through a relay that the test cuts; SQLite: another connection holds
/// the write lock past the busy timeout.)
async fn a_lost_database_answers_503_with_retry_after(db: Db) {
    let relay = match db {
        Db::Postgres => {
            let server = hub_tests::postgres_url().expect("postgres url");
            let url = url::Url::parse(&server).expect("url");
            let to = format!(
                "{}:{}",
                url.host_str().unwrap_or("127.0.0.1"),
                url.port().unwrap_or(5432)
            );
            let to = tokio::net::lookup_host(to)
                .await
                .ok()
                .and_then(|mut a| a.next())
                .expect("database address");
            Some(Relay::start(to).await)
        }
        Db::Sqlite => None,
    };
    let relay_port = relay.as_ref().map(|r| r.addr.port());
    let app = TestApp::spawn_with(db, |f| {
        let f = f.merge(Serialized::default("database.acquire_timeout_secs", 2));
        match relay_port {
            Some(port) => {
                let direct: String = f.extract_inner("database_url").expect("database_url");
                let mut via = url::Url::parse(&direct).expect("url");
                let _ = via.set_host(Some("127.0.0.1"));
                let _ = via.set_port(Some(port));
                f.merge(Serialized::default("database_url", via.to_string()))
            }
            None => f,
        }
    })
    .await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Lost", "opening").await;
    let posts = app.count("posts").await;
    let lock = match &relay {
        Some(r) => {
            let _ = r.cut.send(true);
            None
        }
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(app.db_url())
                .await
                .expect("sqlite");
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .expect("lock");
            Some(conn)
        }
    };
    let keyed = || {
        app.http
            .post(app.api(&format!("/threads/{t}/posts")))
            .bearer_auth(&ana.token)
            .header("idempotency-key", "lost-1")
            .json(&json!({"body": "while the database is away", "kind": "comment"}))
    };
    let res = keyed().send().await.expect("answered");
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap_or_default();
    assert_problem(503, &body, 503, "a lost database");
    // Back: the retry with the same key writes once.
    drop(lock);
    if let Some(r) = &relay {
        let _ = r.cut.send(false);
    }
    // As a client does: again after Retry-After until it is written (the pool reconnects).
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let res = keyed().send().await.expect("answered");
        statuses.push(res.status().as_u16());
        if res.status() != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(statuses.last(), Some(&201), "{statuses:?}");
    let res = keyed().send().await.expect("answered");
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("posts").await, posts + 1);
    app.finish().await;
}

/// Fix 5: (PostgreSQL) A keyed post whose process died between its commit and its event's
/// numbering: the retry is answered only once the event is numbered, as the first answer is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_post_is_answered_once_its_event_is_numbered() {
    if hub_tests::postgres_url().is_none() {
        hub_tests::note_postgres_skipped();
        return;
    }
    use sqlx::Connection;
    let app = TestApp::spawn(Db::Postgres).await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Replay", "opening").await;
    let keyed = |app: &TestApp| {
        app.http
            .post(app.api(&format!("/threads/{t}/posts")))
            .bearer_auth(&ana.token)
            .header("idempotency-key", "crash-1")
            .json(&json!({"body": "keyed before the crash", "kind": "comment"}))
    };
    let first = keyed(&app).send().await.expect("first");
    assert_eq!(first.status(), 201);
    let post: Value = first.json().await.unwrap_or_default();
    let id = post["id"].as_i64().unwrap_or_default();
    // The state a crash leaves: the post committed, its event not numbered yet, and (here)
    // every numbering held up by a lock the test holds.
    let mut conn = sqlx::PgConnection::connect(app.db_url()).await.expect("pg");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(0x4743_4d48_5542_i64)
        .execute(&mut conn)
        .await
        .expect("numbering lock");
    sqlx::query("UPDATE events SET seq = NULL WHERE post_id = $1")
        .bind(id)
        .execute(&mut conn)
        .await
        .expect("unnumber");
    let retry = tokio::spawn(keyed(&app).send());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !retry.is_finished(),
        "the replay was answered before its event was numbered"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(0x4743_4d48_5542_i64)
        .execute(&mut conn)
        .await
        .expect("unlock");
    let res = retry.await.expect("task").expect("retry");
    assert_eq!(res.status(), 201);
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM events WHERE post_id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("seq");
    assert!(seq.is_some(), "numbered when answered");
    app.finish().await;
}

/// Fix 6: A region's moderator restricts posting in that region only, and never suspends staff;
/// only admins suspend everywhere, which suspends a staff account's powers (a secretariat
/// account builds no document); `hub user unsuspend` lifts every suspension.
async fn a_moderator_restricts_posting_in_their_region_only(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo_eu = app.register("Mo Europe").await;
    app.grant_moderator(mo_eu.id, "europe").await;
    let mo_af = app.register("Mo Africa").await;
    app.grant_moderator(mo_af.id, "africa").await;
    let admin = with_role(&app, "Admin", hub_domain::RoleKind::Admin).await;
    let sec = with_role(&app, "Secretariat", hub_domain::RoleKind::Secretariat).await;
    // Africa's moderator once posted in Europe: still not Europe's to suspend.
    let (te, _) = app
        .thread(&mo_af, "europe", "Posted in Europe", "hello")
        .await;
    let (ta, _) = app.thread(&ana, "africa", "Ana in Africa", "hello").await;
    let ana_in_europe = app.reply(&ana, te, None, "Ana in Europe").await["id"]
        .as_i64()
        .unwrap_or_default();
    let suspend = |by: &TestUser, user: i64, region: Option<&str>| {
        let mut body = json!({"until": until_in_days(3), "reason": "test"});
        if let Some(r) = region {
            body["region"] = json!(r);
        }
        let token = by.token.clone();
        let path = format!("/moderation/users/{user}/suspension");
        let app = &app;
        async move { app.post(&path, &token, body).await }
    };
    for target in [mo_af.id, admin.id, sec.id] {
        let (s, v) = suspend(&mo_eu, target, None).await;
        assert_problem(s, &v, 403, "a moderator suspending staff");
    }
    let (s, v) = suspend(&mo_eu, ana.id, Some("africa")).await;
    assert_problem(s, &v, 403, "a moderator suspending in another region");
    // Europe's suspension keeps Ana from posting in Europe, not in Africa.
    let (s, v) = suspend(&mo_eu, ana.id, None).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["region"], "europe", "{v}");
    let (s, v) = app
        .post(
            &format!("/threads/{te}/posts"),
            &ana.token,
            json!({"body": "again in Europe", "kind": "comment"}),
        )
        .await;
    assert_problem(s, &v, 403, "posting where suspended");
    let (s, v) = app
        .post(
            &format!("/threads/{ta}/posts"),
            &ana.token,
            json!({"body": "still in Africa", "kind": "comment"}),
        )
        .await;
    assert_eq!(s, 201, "posting elsewhere: {v}");
    // An admin's suspension everywhere takes the secretariat's powers while it lasts.
    app.call(Method::POST, "/regions/europe/analyses")
        .by(&sec)
        .expect(202)
        .await;
    let (s, v) = suspend(&admin, sec.id, None).await;
    assert_eq!(s, 201, "{v}");
    assert!(v["region"].is_null(), "{v}");
    let (s, v) = app
        .send(
            Method::POST,
            "/regions/europe/analyses",
            Some(&sec.token),
            None,
        )
        .await;
    assert_problem(s, &v, 403, "a suspended secretariat account building");
    let (s, v) = app.get("/regions/europe/analyses", Some(&sec.token)).await;
    assert_problem(s, &v, 403, "a suspended secretariat account reading");
    // A staff account's suspension is not a moderator's to lift, even in their region.
    let (s, v) = suspend(&admin, mo_af.id, Some("europe")).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .send(
            Method::DELETE,
            &format!("/moderation/users/{}/suspension", mo_af.id),
            Some(&mo_eu.token),
            None,
        )
        .await;
    assert_problem(
        s,
        &v,
        403,
        "a moderator lifting a staff account's suspension",
    );
    // A moderator suspended everywhere removes nothing (removal is a moderator's power).
    let (s, v) = suspend(&admin, mo_eu.id, None).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .send(
            Method::DELETE,
            &format!("/posts/{ana_in_europe}"),
            Some(&mo_eu.token),
            None,
        )
        .await;
    assert_problem(s, &v, 403, "a suspended moderator removing a post");
    // The operator's way back.
    let sec_email = sec.email.clone();
    hub::users::unsuspend(&app.server.store, &sec_email)
        .await
        .expect("unsuspend");
    let (s, v) = app.get("/regions/europe/analyses", Some(&sec.token)).await;
    assert_eq!(s, 200, "{v}");
    assert!(hub::users::unsuspend(&app.server.store, &sec_email)
        .await
        .is_err());
    app.finish().await;
}

/// Fix 7: A ticket minted before a logout opens nothing after it (WebSocket and SSE), and a
/// moderator's live stream of their queue ends within a heartbeat of their suspension.
async fn tickets_and_live_connections_end_with_their_session_or_powers(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("live.heartbeat_secs", 1))
    })
    .await;
    let ana = app.register("Ana").await;
    let ticket = |u: &TestUser| {
        let token = u.token.clone();
        let app = &app;
        async move {
            let v = app
                .call(Method::POST, "/ws/ticket")
                .token(&token)
                .expect(201)
                .await;
            v["ticket"].as_str().unwrap_or_default().to_string()
        }
    };
    let for_ws = ticket(&ana).await;
    let for_sse = ticket(&ana).await;
    let (s, _) = app
        .send(Method::POST, "/auth/logout", Some(&ana.token), None)
        .await;
    assert_eq!(s, 204);
    let ws = WsClient::connect(&app.ws_url(&format!("?ticket={for_ws}")), &[]).await;
    assert!(
        ws.is_err(),
        "a ticket of an ended session opens no WebSocket"
    );
    let res = app
        .http
        .get(app.api(&format!(
            "/events?channels=user:{}&ticket={for_sse}",
            ana.id
        )))
        .send()
        .await
        .expect("sse");
    assert_eq!(res.status(), 401, "nor an event stream");

    // A moderator's stream of their queue ends once an admin suspends them everywhere.
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let admin = with_role(&app, "Admin", hub_domain::RoleKind::Admin).await;
    let res = app
        .http
        .get(app.api("/events?channels=moderation:europe"))
        .bearer_auth(&mo.token)
        .send()
        .await
        .expect("sse");
    assert_eq!(res.status(), 200);
    app.call(
        Method::POST,
        format!("/moderation/users/{}/suspension", mo.id),
    )
    .by(&admin)
    .json(json!({"until": until_in_days(1), "reason": "test"}))
    .expect(201)
    .await;
    let read = tokio::time::timeout(Duration::from_secs(10), res.text()).await;
    let text = read
        .expect("the stream ends within a few heartbeats")
        .unwrap_or_default();
    assert!(text.contains("\"forbidden\""), "{text}");
    app.finish().await;
}

/// Fix 8: Small holes: JSON with trailing junk, a missing `nosniff`, a flood or an oversize
/// WebSocket message dropped without a close frame, and an owner locked out by someone
/// guessing their password from another address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_holes_are_closed() {
    let app = TestApp::spawn_with(Db::Sqlite, |f| {
        f.merge(Serialized::default("auth.login_attempts_per_minute", 5))
            .merge(Serialized::default(
                "auth.login_attempts_per_email_per_minute",
                50,
            ))
            .merge(Serialized::default("live.max_message_bytes", 1024))
            .merge(Serialized::default("live.messages_per_second", 5))
    })
    .await;
    let ana = app.register("Ana").await;
    // Trailing junk after the JSON value.
    let res = app
        .http
        .post(app.api("/auth/login"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"email\":\"{}\",\"password\":\"a long enough passphrase\"}} xyz",
            ana.email
        ))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 400);
    // nosniff on every answer: a page, an error, the API.
    for path in ["/healthz", "/api/v1/objectives", "/nowhere"] {
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        assert_eq!(
            res.headers()
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path}"
        );
    }
    // Someone guessing from one address is stopped there; the owner, elsewhere, signs in.
    let guess = |from: IpAddr, password: &'static str| {
        let email = ana.email.clone();
        let url = app.api("/auth/login");
        async move {
            reqwest::Client::builder()
                .local_address(from)
                .build()
                .expect("client")
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    };
    let attacker = IpAddr::from([127, 0, 0, 66]);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(guess(attacker, "not the passphrase at all").await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(
        guess(IpAddr::from([127, 0, 0, 67]), "a long enough passphrase").await,
        200,
        "the owner signs in from elsewhere"
    );
    // A message over the limit: a close frame 1009 (the connection used to be dropped).
    let mut ws = WsClient::connect(&app.ws_url(""), &[]).await.expect("ws");
    ws.send_text("x".repeat(2000)).await.expect("send");
    assert_eq!(close_code(&mut ws, 5).await, Some(1009));
    // A flood: a close frame 1008.
    let mut ws = WsClient::connect(&app.ws_url(""), &[]).await.expect("ws");
    for _ in 0..200 {
        if ws.send_text("{\"op\":\"ping\"}".into()).await.is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut ws, 400).await, Some(1008));
    app.finish().await;
}

/// The code of the close frame that follows at most `texts` text messages, if one does.
async fn close_code(ws: &mut WsClient, texts: usize) -> Option<u16> {
    for _ in 0..=texts {
        match ws.next_raw(Duration::from_secs(5)).await {
            Some(Ok(Message::Text(_))) => continue,
            Some(Ok(Message::Close(Some(f)))) => return Some(u16::from(f.code)),
            _ => return None,
        }
    }
    None
}

/// Fix 10: Flags of accounts younger than `limits.new_account_hours` queue a post for review but
/// do not hide it; established accounts' flags do.
async fn flags_of_new_accounts_queue_a_post_but_do_not_hide_it(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("moderation.flag_threshold", 2))
            .merge(Serialized::default("limits.new_account_hours", 24))
    })
    .await;
    let ana = app.register("Ana").await;
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let (_, post) = app
        .thread(&ana, "europe", "Flagged", "a fine opening")
        .await;
    let flag = |u: &TestUser| {
        let token = u.token.clone();
        let app = &app;
        async move {
            app.post(
                &format!("/posts/{post}/flags"),
                &token,
                json!({"reason": "spam"}),
            )
            .await
        }
    };
    let new1 = app.register("New One").await;
    let new2 = app.register("New Two").await;
    let new3 = app.register("New Three").await;
    for u in [&new1, &new2, &new3] {
        let (s, v) = flag(u).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            v["hidden"], false,
            "a new account's flag hides nothing: {v}"
        );
    }
    let (_, p) = app.get(&format!("/posts/{post}"), None).await;
    assert_eq!(p["status"], "published");
    let q = app
        .call(Method::GET, "/moderation/queue?region=europe")
        .by(&mo)
        .expect(200)
        .await;
    assert!(
        q["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["post"]["id"].as_i64() == Some(post)),
        "queued for review: {q}"
    );
    // Two established accounts (made two days ago) hide it.
    let old1 = app.register("Old One").await;
    let old2 = app.register("Old Two").await;
    let two_days_ago = hub_store::now_micros() - 2 * 24 * 3600 * 1_000_000;
    for u in [&old1, &old2] {
        sqlx::query("UPDATE users SET created_at = $1 WHERE id = $2")
            .bind(two_days_ago)
            .bind(u.id)
            .execute(app.server.store.pool())
            .await
            .expect("age the account");
    }
    let (s, v) = flag(&old1).await;
    assert_eq!((s, v["hidden"].as_bool()), (201, Some(false)), "{v}");
    let (s, v) = flag(&old2).await;
    assert_eq!((s, v["hidden"].as_bool()), (201, Some(true)), "{v}");
    app.finish().await;
}

/// Fix 10: Two hundred people at a venue share one address: the per-address ceilings count each
/// account seen there, and the venue's network can be trusted for sign-ups.
async fn per_address_ceilings_grow_with_the_accounts_seen_there(db: Db) {
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("limits.posts_per_ip_per_minute", 3))
            .merge(Serialized::default("limits.signups_per_ip_per_hour", 2))
            .merge(Serialized::default(
                "limits.trusted_networks",
                vec!["127.0.0.0/28"],
            ))
    })
    .await;
    // From the trusted network (127.0.0.1), more sign-ups than the per-address limit.
    let people: Vec<TestUser> = {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(app.register(&format!("Participant {i}")).await);
        }
        v
    };
    let (t, _) = app.thread(&people[0], "europe", "Venue", "opening").await;
    // Four accounts from one address post two each: eight posts, over the base ceiling of
    // three, and within three per account seen.
    for p in &people {
        for i in 0..2 {
            app.call(Method::POST, format!("/threads/{t}/posts"))
                .by(p)
                .json(json!({"body": format!("{} says {i}", p.id), "kind": "comment"}))
                .expect(201)
                .await;
        }
    }
    // From outside the trusted network, the per-address sign-up limit holds.
    let outside = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 99]))
        .build()
        .expect("client");
    let mut statuses = Vec::new();
    for i in 0..3 {
        let res = outside
            .post(app.api("/auth/register"))
            .json(&json!({
                "email": format!("outside{i}-{}@example.org", uuid::Uuid::new_v4().simple()),
                "password": "a long enough passphrase", "display_name": "Outside",
                "stakeholder_group": "civil_society"
            }))
            .send()
            .await
            .expect("register");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 429]);
    app.finish().await;
}
