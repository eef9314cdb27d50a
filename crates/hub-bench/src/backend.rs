//! Fresh databases for a run (a temporary folder of SQLite files, or PostgreSQL databases
//! created and dropped through a maintenance connection) and an in-process hub on them.

use anyhow::{bail, Context};
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use rand::Rng;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The database behind a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl Kind {
    /// Name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

/// The fresh databases of one backend, removed by [`Databases::cleanup`].
pub struct Databases {
    kind: Kind,
    tag: String,
    dir: Option<PathBuf>,
    admin_url: String,
    created: Vec<String>,
}

impl Databases {
    /// Prepares a place for fresh databases of `kind`.
    pub fn new(kind: Kind, admin_url: &str) -> anyhow::Result<Self> {
        let tag = format!("{:08x}", rand::thread_rng().gen::<u32>());
        let dir = match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(format!("hub-bench-{tag}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Some(dir)
            }
            Kind::Postgres => None,
        };
        Ok(Self {
            kind,
            tag,
            dir,
            admin_url: admin_url.to_string(),
            created: Vec::new(),
        })
    }

    /// A new, empty database; returns its URL.
    pub async fn fresh(&mut self, label: &str) -> anyhow::Result<String> {
        match self.kind {
            Kind::Sqlite => {
                let Some(dir) = &self.dir else {
                    bail!("no temporary folder");
                };
                let path = dir.join(format!("{label}.db"));
                Ok(format!("sqlite://{}", path.display()))
            }
            Kind::Postgres => {
                let name = format!("hub_bench_{}_{label}", self.tag);
                if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    bail!("bad database name {name:?}");
                }
                let mut admin = PgConnection::connect(&self.admin_url)
                    .await
                    .with_context(|| format!("cannot connect to {}", self.admin_url))?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .with_context(|| format!("cannot create database {name}"))?;
                admin.close().await?;
                self.created.push(name.clone());
                let mut url = url::Url::parse(&self.admin_url).context("bad --postgres-url")?;
                url.set_path(&format!("/{name}"));
                Ok(url.to_string())
            }
        }
    }

    /// Drops every database made (PostgreSQL) or removes the folder (SQLite).
    pub async fn cleanup(self) -> anyhow::Result<()> {
        if let Some(dir) = &self.dir {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        if !self.created.is_empty() {
            let mut admin = PgConnection::connect(&self.admin_url)
                .await
                .with_context(|| format!("cannot connect to {}", self.admin_url))?;
            for name in &self.created {
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .with_context(|| format!("cannot drop database {name}"))?;
            }
            admin.close().await?;
        }
        Ok(())
    }
}

/// A rate limit no bench reaches.
const UNLIMITED: u32 = 1_000_000_000;

/// The hub's configuration for a bench: embedded defaults, a free port, `database_url`,
/// cheap password hashing (registration is setup, not what is measured), quiet logs, and rate
/// limits out of the way (one client address posts for every writer; the limiter still runs).
pub fn hub_config(database_url: &str) -> anyhow::Result<hub::Config> {
    let fig = Figment::from(Toml::string(hub::config::DEFAULT_TOML))
        .merge(Serialized::default("listen", "127.0.0.1:0"))
        .merge(Serialized::default("database_url", database_url))
        .merge(Serialized::default("log_level", "warn"))
        // Every client comes from 127.0.0.1.
        .merge(Serialized::default("http.max_connections_per_ip", 100_000))
        .merge(Serialized::default("auth.argon2_memory_kib", 8))
        .merge(Serialized::default("auth.argon2_iterations", 1))
        .merge(Serialized::default(
            "limits.signups_per_ip_per_hour",
            UNLIMITED,
        ))
        .merge(Serialized::default(
            "limits.posts_per_user_per_minute",
            UNLIMITED,
        ))
        .merge(Serialized::default(
            "limits.posts_per_new_user_per_minute",
            UNLIMITED,
        ))
        .merge(Serialized::default(
            "limits.posts_per_ip_per_minute",
            UNLIMITED,
        ));
    hub::Config::from_figment(fig)
}

/// A native pool on a database already migrated, set up as the hub sets up its own
/// connections (SQLite: WAL, `synchronous=FULL`, foreign keys, busy timeout).
#[derive(Clone)]
pub enum RawPool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

impl RawPool {
    /// Creates the schema with the hub's own migrations, then opens a native pool.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let store = hub_store::Store::connect(url, &hub_store::StoreOptions::default())
            .await
            .context("cannot open the baseline database")?;
        store
            .migrate()
            .await
            .context("cannot migrate the baseline database")?;
        store.close().await;
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(RawPool::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(RawPool::Postgres(pool))
        }
    }

    /// The server's version string.
    pub async fn version(&self) -> anyhow::Result<String> {
        Ok(match self {
            RawPool::Sqlite(p) => {
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(p)
                    .await?;
                format!("SQLite {v}")
            }
            RawPool::Postgres(p) => {
                let v: (String, String, String, String) = sqlx::query_as(
                    "SELECT current_setting('server_version'), current_setting('fsync'), \
                     current_setting('synchronous_commit'), current_setting('shared_buffers')",
                )
                .fetch_one(p)
                .await?;
                format!(
                    "PostgreSQL {} (fsync={}, synchronous_commit={}, shared_buffers={})",
                    v.0, v.1, v.2, v.3
                )
            }
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            RawPool::Sqlite(p) => p.close().await,
            RawPool::Postgres(p) => p.close().await,
        }
    }
}
