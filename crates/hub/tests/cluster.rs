//! Several `hub serve` processes on one PostgreSQL database and one Redis, with faults: Redis
//! stopped and restarted mid-stream, a hub process killed and restarted. Every test starts its
//! own `redis-server` on a free port (the machine's shared one is never touched) and bounds
//! every loop in count and time. Runs when `HUB_TEST_POSTGRES_URL` is set.
#![forbid(unsafe_code)]

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn pg_url() -> Option<String> {
    let url = std::env::var("HUB_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "NOTE: HUB_TEST_POSTGRES_URL is not set: the PostgreSQL suite was SKIPPED (cluster tests).");
    }
    url
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A database of its own on the test server, dropped at the end.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin: &str) -> Self {
        let name = format!("hub_t_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::PgConnection::connect(admin).await.expect("postgres");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Self {
            admin: admin.into(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn drop_it(&self) {
        if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c)
            .await;
        }
    }
}

/// A `redis-server` of the test's own.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (install Redis to run the cluster tests)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `hub serve` process.
struct Hub {
    port: u16,
    child: Option<Child>,
    db: String,
    redis: String,
}

impl Hub {
    async fn start(db: &str, redis: &str, port: u16) -> Self {
        let mut h = Self {
            port,
            child: None,
            db: db.into(),
            redis: redis.into(),
        };
        h.spawn().await;
        h
    }

    async fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_hub"))
            .arg("serve")
            .env("HUB_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("HUB_DATABASE_URL", &self.db)
            .env("HUB_REDIS_URL", &self.redis)
            .env("HUB_LOG_LEVEL", "warn")
            .env("HUB_AUTH__ARGON2_MEMORY_KIB", "64")
            .env("HUB_AUTH__ARGON2_ITERATIONS", "1")
            .env("HUB_AUTH__LOGIN_ATTEMPTS_PER_MINUTE", "1000")
            .env("HUB_LIMITS__POSTS_PER_USER_PER_MINUTE", "100000")
            .env("HUB_LIMITS__POSTS_PER_NEW_USER_PER_MINUTE", "100000")
            .env("HUB_LIMITS__POSTS_PER_IP_PER_MINUTE", "100000")
            // Long enough that fast delivery across processes can only come through Redis.
            .env("HUB_LIVE__POLL_INTERVAL_MS", "20000")
            .stdout(Stdio::null())
            .spawn()
            .expect("hub binary");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{}/healthz", self.port))
                .send()
                .await
            {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("hub on port {} did not start", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/v1{path}", self.port)
    }

    fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}/api/v1/ws", self.port)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn register(http: &reqwest::Client, hub: &Hub) -> String {
    let r: Value = http
        .post(hub.api("/auth/register"))
        .json(&json!({"email": format!("{}@example.org", uuid::Uuid::new_v4().simple()), "password": "a long enough passphrase",
                      "display_name": "Writer", "stakeholder_group": "academia"}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    r["token"].as_str().expect("token").to_string()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Subscribes to a channel on `hub`, resuming after `since`; returns the socket and the events
/// replayed.
async fn subscribe(hub: &Hub, channel: &str, since: Option<i64>) -> (Ws, Vec<Value>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(hub.ws())
        .await
        .expect("ws connect");
    let mut msg = json!({"op": "subscribe", "channels": [channel]});
    if let Some(s) = since {
        msg["since"] = json!(s);
    }
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .expect("send");
    let mut replay = Vec::new();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("ack in time");
        let Some(Ok(Message::Text(t))) = m else {
            continue;
        };
        let v: Value = serde_json::from_str(t.as_str()).expect("json");
        match v["op"].as_str() {
            Some("event") => replay.push(v),
            Some("subscribed") => return (ws, replay),
            _ => {}
        }
    }
}

/// Reads events until `until` says stop or `wait` passes; `None` if the socket closed.
async fn read_events(
    ws: &mut Ws,
    out: &mut Vec<Value>,
    wait: Duration,
    until: impl Fn(&[Value]) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while !until(out) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                if v["op"] == "event" {
                    out.push(v);
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) | Ok(None) => return false,
            Err(_) => break,
        }
    }
    true
}

fn post_ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .filter(|e| e["type"] == "post.created")
        .filter_map(|e| e["data"]["id"].as_i64())
        .collect()
}

/// Every acknowledged post was delivered, once, in seq order. A post whose 201 was lost when
/// its instance died may be delivered too (it was committed): it must then exist in the thread.
async fn assert_exactly_once_in_order(
    events: &[Value],
    created: &BTreeSet<i64>,
    http: &reqwest::Client,
    hub: &Hub,
    thread: i64,
) {
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq strictly increasing: {seqs:?}"
    );
    let ids = post_ids(events);
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no post delivered twice");
    let missing: Vec<&i64> = created.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );
    let v: Value = http
        .get(hub.api(&format!("/threads/{thread}/posts?limit=200")))
        .send()
        .await
        .expect("posts")
        .json()
        .await
        .expect("json");
    let stored: BTreeSet<i64> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_i64())
        .collect();
    assert_eq!(unique, stored, "delivered = committed");
}

fn has_all(events: &[Value], created: &BTreeSet<i64>) -> bool {
    let got: BTreeSet<i64> = post_ids(events).into_iter().collect();
    created.is_subset(&got)
}

/// Opens a thread; returns its id and its opening post's id.
async fn create_thread(http: &reqwest::Client, hub: &Hub, token: &str) -> (i64, i64) {
    let v: Value = http
        .post(hub.api("/regions/europe/threads"))
        .bearer_auth(token)
        .json(&json!({"title": "Across instances", "body": "opening", "kind": "comment"}))
        .send()
        .await
        .expect("thread")
        .json()
        .await
        .expect("json");
    (
        v["id"].as_i64().expect("thread id"),
        v["opening_post"]["id"].as_i64().expect("post id"),
    )
}

/// Posts `n` replies at about `per_sec`, returning the ids of those acknowledged (201).
async fn post_many(
    http: &reqwest::Client,
    hub: &Hub,
    token: &str,
    thread: i64,
    n: usize,
    per_sec: u64,
    tag: &str,
) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for i in 0..n {
        let r = http
            .post(hub.api(&format!("/threads/{thread}/posts")))
            .bearer_auth(token)
            .json(&json!({"body": format!("{tag} {i}"), "kind": "comment"}))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(r) = r {
            if r.status() == 201 {
                let v: Value = r.json().await.unwrap_or_default();
                if let Some(id) = v["id"].as_i64() {
                    ids.insert(id);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1000 / per_sec.max(1))).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_through_one_instance_reaches_a_subscriber_on_another() {
    let Some(admin) = pg_url() else { return };
    let db = Database::create(&admin).await;
    let redis = Redis::start(free_port());
    let a = Hub::start(&db.url, &redis.url(), free_port()).await;
    let b = Hub::start(&db.url, &redis.url(), free_port()).await;
    let http = reqwest::Client::new();
    let token = register(&http, &a).await;
    let (mut ws, _) = subscribe(&b, "region:europe", None).await;
    let started = Instant::now();
    let (thread, _) = create_thread(&http, &a, &token).await;
    let mut got = Vec::new();
    read_events(&mut ws, &mut got, Duration::from_secs(5), |e| e.len() >= 2).await;
    let took = started.elapsed();
    assert_eq!(
        got.len(),
        2,
        "thread.created and post.created reach instance B"
    );
    assert_eq!(got[0]["data"]["id"].as_i64(), Some(thread));
    // The poll interval is 20 s: arriving this fast means Redis carried the notification.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    drop((a, b, redis));
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_stream_delays_but_loses_nothing() {
    let Some(admin) = pg_url() else { return };
    let db = Database::create(&admin).await;
    let redis_port = free_port();
    let mut redis = Redis::start(redis_port);
    let a = Hub::start(&db.url, &redis.url(), free_port()).await;
    let b = Hub::start(&db.url, &redis.url(), free_port()).await;
    let http = reqwest::Client::new();
    let token = register(&http, &a).await;
    let (thread, opening) = create_thread(&http, &a, &token).await;
    // From the start of the log: B may not have heard of the thread yet.
    let (mut ws, mut got) = subscribe(&b, &format!("thread:{thread}"), Some(0)).await;

    let mut created = post_many(&http, &a, &token, thread, 15, 30, "before").await;
    redis.stop();
    created.extend(post_many(&http, &a, &token, thread, 15, 30, "during outage").await);
    let mut redis = Redis::start(redis_port);
    created.extend(post_many(&http, &a, &token, thread, 15, 30, "after").await);
    assert_eq!(
        created.len(),
        45,
        "every post was acknowledged: Redis is not on the write path"
    );
    created.insert(opening);
    read_events(&mut ws, &mut got, Duration::from_secs(20), |e| {
        has_all(e, &created)
    })
    .await;
    assert_exactly_once_in_order(&got, &created, &http, &a, thread).await;
    redis.stop();
    drop((a, b));
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_instances_restart_and_resuming_subscribers_miss_nothing() {
    let Some(admin) = pg_url() else { return };
    let db = Database::create(&admin).await;
    let redis = Redis::start(free_port());
    let mut a = Hub::start(&db.url, &redis.url(), free_port()).await;
    let mut b = Hub::start(&db.url, &redis.url(), free_port()).await;
    let http = reqwest::Client::new();
    let token = register(&http, &a).await;
    let (thread, opening) = create_thread(&http, &a, &token).await;
    let channel = format!("thread:{thread}");
    let (mut ws, mut got) = subscribe(&b, &channel, Some(0)).await;
    let mut created = post_many(&http, &a, &token, thread, 10, 40, "first").await;
    created.insert(opening);
    read_events(&mut ws, &mut got, Duration::from_secs(10), |e| {
        post_ids(e).len() >= 11
    })
    .await;

    // The subscriber's instance dies; posts go on through A; B comes back; the client resumes.
    b.kill();
    created.extend(post_many(&http, &a, &token, thread, 10, 40, "while B is down").await);
    b.spawn().await;
    let since = got.last().and_then(|e| e["seq"].as_i64());
    let (mut ws, replay) = subscribe(&b, &channel, since).await;
    got.extend(replay);

    // The writer's instance dies mid-stream: acknowledged posts must still arrive.
    let writer = {
        let http = http.clone();
        let token = token.clone();
        let api = a.api(&format!("/threads/{thread}/posts"));
        tokio::spawn(async move {
            let mut ids = BTreeSet::new();
            for i in 0..40 {
                let r = http
                    .post(&api)
                    .bearer_auth(&token)
                    .json(&json!({"body": format!("racing the kill {i}"), "kind": "comment"}))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_i64() {
                            ids.insert(id);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            ids
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    a.kill();
    created.extend(writer.await.expect("writer"));
    a.spawn().await;
    created.extend(post_many(&http, &a, &token, thread, 5, 40, "after restart").await);
    read_events(&mut ws, &mut got, Duration::from_secs(20), |e| {
        has_all(e, &created)
    })
    .await;
    // Anything committed but unacknowledged is in by now too: the log is read in order.
    read_events(&mut ws, &mut got, Duration::from_millis(500), |_| false).await;
    assert_exactly_once_in_order(&got, &created, &http, &a, thread).await;
    drop((a, b, redis));
    db.drop_it().await;
}
