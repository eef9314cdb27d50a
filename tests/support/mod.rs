//! Test support for the end-to-end suite: a real hub on a random port over a fresh database,
//! SQLite or PostgreSQL, and a real HTTP client.
//!
//! Every suite runs unchanged on both backends through [`both_backends!`]. PostgreSQL runs when
//! `HUB_TEST_POSTGRES_URL` names a server (each test gets a database of its own, dropped at the
//! end); without it the PostgreSQL variants say they were skipped.
#![forbid(unsafe_code)]

pub mod client;
pub mod redis;
pub mod ws;

use anyhow::{Context, Result};
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde_json::{json, Value};
use sqlx::Connection;
use std::io::Write;
use std::sync::Once;

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the server named by `HUB_TEST_POSTGRES_URL`.
    Postgres,
}

/// The PostgreSQL server for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("HUB_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Says once per test binary, past the test harness's output capture, that the PostgreSQL
/// suite was skipped.
pub fn note_postgres_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nNOTE: HUB_TEST_POSTGRES_URL is not set: the PostgreSQL suite was SKIPPED (only SQLite ran).\n"
        );
    });
}

/// Declares each listed `async fn name(db: Db)` as two tests, `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::postgres_url().is_none() {
                        $crate::note_postgres_skipped();
                        return;
                    }
                    super::$name($crate::Db::Postgres).await
                }
            )*
        }
    };
}

/// A fresh, empty database for one test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Which backend.
    pub kind: Db,
    drop_pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Makes the database (a temp SQLite file, or `CREATE DATABASE` on PostgreSQL).
    pub async fn new(kind: Db) -> Result<Self> {
        match kind {
            Db::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}/hub.db", dir.path().display());
                Ok(Self {
                    url,
                    kind,
                    drop_pg: None,
                    _dir: Some(dir),
                })
            }
            Db::Postgres => {
                let admin = postgres_url().context("HUB_TEST_POSTGRES_URL is not set")?;
                let name = format!("hub_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .with_context(|| format!("cannot reach PostgreSQL at {admin}"))?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let url = replace_db_name(&admin, &name);
                Ok(Self {
                    url,
                    kind,
                    drop_pg: Some((admin, name)),
                    _dir: None,
                })
            }
        }
    }

    /// Drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        if let Some((admin, name)) = &self.drop_pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Result<hub_store::Store> {
        let store = hub_store::Store::connect(&self.url, &Default::default()).await?;
        store.migrate().await?;
        Ok(store)
    }
}

/// The same server URL with another database name.
fn replace_db_name(url: &str, db: &str) -> String {
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

/// A running hub and an HTTP client for it.
pub struct TestApp {
    /// Base URL, `http://127.0.0.1:port`.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
    /// The server.
    pub server: hub::server::Server,
    db: TestDb,
}

/// A registered user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id.
    pub id: i64,
    /// Bearer token.
    pub token: String,
    /// E-mail.
    pub email: String,
}

/// The configuration tests run with: cheap password hashing, generous sign-in limits.
pub fn test_figment(db_url: &str) -> Figment {
    Figment::from(Toml::string(hub::config::DEFAULT_TOML))
        .merge(Serialized::default("listen", "127.0.0.1:0"))
        .merge(Serialized::default("database_url", db_url))
        .merge(Serialized::default("log_level", "warn"))
        .merge(Serialized::default("auth.argon2_memory_kib", 64))
        .merge(Serialized::default("auth.argon2_iterations", 1))
        .merge(Serialized::default("auth.login_attempts_per_minute", 1000))
        .merge(Serialized::default(
            "auth.login_attempts_per_email_per_minute",
            1000,
        ))
        .merge(Serialized::default(
            "limits.signups_per_ip_per_hour",
            100_000,
        ))
        .merge(Serialized::default(
            "limits.posts_per_user_per_minute",
            100_000,
        ))
        .merge(Serialized::default(
            "limits.posts_per_new_user_per_minute",
            100_000,
        ))
        .merge(Serialized::default(
            "limits.posts_per_ip_per_minute",
            100_000,
        ))
        .merge(Serialized::default(
            "limits.flags_per_user_per_minute",
            100_000,
        ))
        .merge(Serialized::default(
            "limits.flags_per_new_user_per_minute",
            100_000,
        ))
        // Test accounts are minutes old: none counts as new (whose flags would not hide a
        // post) unless a test says so.
        .merge(Serialized::default("limits.new_account_hours", 0))
}

impl TestApp {
    /// Starts a hub on a fresh database.
    pub async fn spawn(kind: Db) -> Self {
        Self::spawn_with(kind, |f| f).await
    }

    /// Starts a hub with configuration changes.
    pub async fn spawn_with(kind: Db, tweak: impl FnOnce(Figment) -> Figment) -> Self {
        let db = TestDb::new(kind).await.expect("test database");
        let config =
            hub::Config::from_figment(tweak(test_figment(&db.url))).expect("test configuration");
        let server = hub::server::start(&config, false)
            .await
            .expect("hub starts");
        Self {
            base: format!("http://{}", server.addr),
            http: reqwest::Client::new(),
            server,
            db,
        }
    }

    /// Starts a hub where every post in `region` waits for its moderators (pre-moderation
    /// `everything`).
    pub async fn spawn_premoderated(kind: Db, region: &str) -> Self {
        let key = format!("moderation.premoderation.{region}");
        Self::spawn_with(kind, |f| {
            f.merge(Serialized::default(&key, json!({"mode": "everything"})))
        })
        .await
    }

    /// Makes a user a moderator of `region`.
    pub async fn grant_moderator(&self, user_id: i64, region: &str) {
        self.server
            .store
            .grant_role(
                user_id,
                &hub_domain::Role {
                    role: hub_domain::RoleKind::Moderator,
                    region: Some(region.into()),
                },
            )
            .await
            .expect("grant the moderator role");
    }

    /// Stops the hub and drops its database.
    pub async fn finish(self) {
        let _ = self.server.shutdown().await;
        self.db.cleanup().await;
    }

    /// The URL of the hub's database (to open other connections to it, as another instance
    /// would).
    pub fn db_url(&self) -> &str {
        &self.db.url
    }

    /// The WebSocket URL, with an optional query.
    pub fn ws_url(&self, query: &str) -> String {
        format!("{}/api/v1/ws{query}", self.base.replace("http://", "ws://"))
    }

    /// `base` + `/api/v1` + `path`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Registers a stakeholder and returns its token.
    pub async fn register(&self, name: &str) -> TestUser {
        let email = format!(
            "{}-{}@example.org",
            name.to_lowercase().replace(' ', "."),
            uuid::Uuid::new_v4().simple()
        );
        let res = self
            .http
            .post(self.api("/auth/register"))
            .json(&json!({
                "email": email, "password": "a long enough passphrase", "display_name": name,
                "stakeholder_group": "civil_society", "country": "KE", "organisation": "Test Org"
            }))
            .send()
            .await
            .expect("register request");
        assert_eq!(res.status(), 201, "register {name}");
        let body: Value = res.json().await.expect("register body");
        TestUser {
            id: body["user"]["id"].as_i64().expect("user id"),
            token: body["token"].as_str().expect("token").to_string(),
            email,
        }
    }

    /// Sends a JSON request with an optional token; returns status and JSON body (Null when
    /// the body is not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut call = self.call(method, path);
        if let Some(t) = token {
            call = call.token(t);
        }
        if let Some(b) = body {
            call = call.json(b);
        }
        call.send().await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Opens a thread; returns (thread id, opening post id).
    pub async fn thread(
        &self,
        user: &TestUser,
        region: &str,
        title: &str,
        body: &str,
    ) -> (i64, i64) {
        let t = client::a_thread()
            .in_region(region)
            .titled(title)
            .saying(body)
            .by(user)
            .create(self)
            .await;
        (t.id, t.opening_post)
    }

    /// Replies in a thread; returns the post.
    pub async fn reply(
        &self,
        user: &TestUser,
        thread: i64,
        parent: Option<i64>,
        body: &str,
    ) -> Value {
        let mut reply = client::a_reply().in_thread(thread).saying(body).by(user);
        if let Some(p) = parent {
            reply = reply.to(p);
        }
        reply.create(self).await
    }

    /// All posts of a thread, following cursors.
    pub async fn all_posts(&self, thread: i64, token: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let path = match &cursor {
                Some(c) => format!("/threads/{thread}/posts?limit=200&cursor={c}"),
                None => format!("/threads/{thread}/posts?limit=200"),
            };
            let (s, v) = self.get(&path, token).await;
            assert_eq!(s, 200, "{v}");
            out.extend(v["items"].as_array().cloned().unwrap_or_default());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        out
    }

    /// Counts rows of a table straight from the database (to prove a refused request wrote
    /// nothing).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
            .fetch_one(self.server.store.pool())
            .await
            .expect("count")
    }
}

/// Asserts an answer is a problem+json document with this status.
pub fn assert_problem(status: u16, body: &Value, expected: u16, what: &str) {
    assert_eq!(status, expected, "{what}: {body}");
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(expected)),
        "{what}: {body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{what}: {body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{what}: {body}"
    );
}
