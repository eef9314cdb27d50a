//! Storage for the hub.
//!
//! One query layer over sqlx's `Any` driver serves both SQLite (the embedded default: one file,
//! nothing installed) and PostgreSQL (to scale out): the schemas in `migrations/{sqlite,postgres}`
//! are kept representation-compatible (integers, text, times as microseconds since the epoch)
//! so nearly every statement is shared, and the few that differ (full-text search, how the
//! event log is sequenced) branch on [`Backend`]. Both backends run the same test suite.
#![forbid(unsafe_code)]

pub mod activity;
pub mod analysis;
mod audit;
mod error;
mod events;
mod idempotency;
mod moderation;
mod posts;
mod rows;
mod threads;
mod users;
mod visible;

pub use error::StoreError;
pub use events::{EventFilter, EventRecord, NewEvent};
pub use moderation::FlagOutcome;
pub use posts::{
    posts_json, Bodies, NewPost, OpeningPost, PostChecks, PostEdit, PublicThreadPage, ThreadPage,
};
pub use threads::{NewThread, ThreadQuery};
pub use users::{NewUser, Session};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

// The statements sent from this module, by name: a test prepares each on its backends.
const STATEMENTS: &[(&str, &str)] = &[("PING", PING)];
/// Sent on SQLite only (the full-text indexer).
const SQLITE_STATEMENTS: &[(&str, &str)] = &[
    ("SEARCH_PENDING_ANY", SEARCH_PENDING_ANY),
    ("SEARCH_PENDING_CUT", SEARCH_PENDING_CUT),
    ("SEARCH_PENDING_INDEX", SEARCH_PENDING_INDEX),
    ("SEARCH_PENDING_DELETE", SEARCH_PENDING_DELETE),
];

const SEARCH_PENDING_ANY: &str = "SELECT CAST(EXISTS (SELECT 1 FROM search_pending) AS INTEGER)";
const SEARCH_PENDING_CUT: &str = "SELECT MAX(post_id) FROM (SELECT post_id FROM search_pending \
                 ORDER BY post_id LIMIT $1)";
const SEARCH_PENDING_INDEX: &str = "INSERT INTO post_search (rowid, terms) \
                 SELECT post_id, terms FROM search_pending WHERE post_id <= $1 ORDER BY post_id";
const SEARCH_PENDING_DELETE: &str = "DELETE FROM search_pending WHERE post_id <= $1";
const PING: &str = "SELECT 1";

/// Result of storage calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file: one process, one writer at a time.
    Sqlite,
    /// PostgreSQL: several hub processes may share it.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database URL must start with sqlite: or postgres:, got {:?}",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    /// Name used in logs, metrics and test output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// How long to wait for a connection (and, on SQLite, for the write lock).
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A page of results with the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Opaque cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// An `Idempotency-Key` presented with a creating request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Who sent it: keys are per user.
    pub user_id: i64,
    /// The key as sent.
    pub key: String,
    /// A hash of the request (method, path, body): the same key with another request is a
    /// client bug, answered with a conflict rather than the wrong resource.
    pub fingerprint: String,
}

/// What a creating call did.
#[derive(Debug, Clone)]
pub enum Created<T> {
    /// Created now.
    New(T),
    /// The idempotency key was seen before: this is the id created then.
    Replayed(i64),
}

/// The store: a connection pool and what the backend needs around it.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run: on SQLite a pool of one connection, on PostgreSQL the
    /// pool itself.
    writer: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; queueing writers here, in order, beats polling its busy
    /// handler. `BEGIN IMMEDIATE` still guards against other processes (the CLI).
    write_lock: Option<Arc<Mutex<()>>>,
    /// Wakes the PostgreSQL event relay after a commit.
    relay: Arc<Notify>,
    /// Relay runs started and completed (PostgreSQL): a writer waits for a run that started
    /// after its commit, so once a write is acknowledged its events are numbered.
    relay_runs: Arc<events::RelayRuns>,
    /// Ticks whenever new events may be readable (a commit on SQLite, a relay batch on
    /// PostgreSQL): the live fan-out reads the log when it changes.
    log_tick: Arc<tokio::sync::watch::Sender<u64>>,
    /// A native pool for the hottest read (a thread's page of posts): the `Any` driver
    /// converts every row and its column list into its own representation, which showed in
    /// the profile of large pages.
    reads: NativePool,
    /// The committer that writes concurrent new posts in one transaction (`posts/batch.rs`).
    batcher: Option<posts::batch::Batcher>,
    /// Whether the search indexer runs (SQLite; started once the schema is migrated).
    search_indexer: Arc<std::sync::atomic::AtomicBool>,
    /// Writes (and, in the hub, requests) in flight, which an analysis build gives way to.
    activity: Arc<activity::Activity>,
}

/// A pool of the backend's own driver, opened lazily.
#[derive(Clone)]
pub(crate) enum NativePool {
    /// SQLite.
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    Postgres(sqlx::PgPool),
}

impl NativePool {
    fn open(backend: Backend, url: &str, opts: &StoreOptions) -> Result<Self> {
        let bad = |e: sqlx::Error| StoreError::Config(format!("database URL: {e}"));
        let max = (opts.max_connections / 4).max(2);
        Ok(match backend {
            Backend::Sqlite => {
                let connect = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(bad)?
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("mmap_size", SQLITE_MMAP_SIZE);
                NativePool::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(opts.acquire_timeout)
                        .test_before_acquire(false)
                        .connect_lazy_with(connect),
                )
            }
            Backend::Postgres => {
                let connect = sqlx::postgres::PgConnectOptions::from_str(url).map_err(bad)?;
                NativePool::Postgres(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(opts.acquire_timeout)
                        .test_before_acquire(false)
                        .before_acquire(|conn, meta| Box::pin(fit(conn, meta, Backend::Postgres)))
                        .connect_lazy_with(connect),
                )
            }
        })
    }

    async fn close(&self) {
        match self {
            NativePool::Sqlite(p) => p.close().await,
            NativePool::Postgres(p) => p.close().await,
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite:path` or `postgres://...`). A SQLite file and its folder are
    /// created if missing, in WAL mode with `synchronous=FULL` (an acknowledged write survives
    /// a power cut) and foreign keys on.
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            url = prepare_sqlite_url(&url)?;
        }
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("database URL: {e}")))?;
        let pool_of = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(opts.acquire_timeout)
                .test_before_acquire(false)
                .before_acquire(move |conn, meta| Box::pin(fit(conn, meta, backend)))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(SQLITE_SETUP).await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = pool_of(opts.max_connections.max(1))
            .connect_with(connect.clone())
            .await?;
        // SQLite writes one at a time (the write lock), so one connection serves them all, and
        // its page cache stays valid from one write to the next (a write by another connection
        // would make it start cold).
        let writer = match backend {
            Backend::Sqlite => pool_of(1).connect_lazy_with(connect),
            Backend::Postgres => pool.clone(),
        };
        let reads = NativePool::open(backend, &url, opts)?;
        let log_tick = Arc::new(tokio::sync::watch::channel(0).0);
        let batcher = match backend {
            Backend::Postgres => Some(posts::batch::Batcher::start(&url, opts, log_tick.clone())?),
            Backend::Sqlite => None,
        };
        let mut store = Self {
            pool,
            writer,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            relay: Arc::new(Notify::new()),
            relay_runs: Arc::new(events::RelayRuns::default()),
            log_tick,
            reads,
            batcher,
            search_indexer: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            activity: Arc::default(),
        };
        if backend == Backend::Sqlite {
            // The committer's store writes its posts itself (it has no batcher).
            store.batcher = Some(posts::batch::Batcher::start_sqlite(store.clone()));
        }
        store.spawn_relay();
        Ok(store)
    }

    /// SQLite: moves new posts' search terms (`search_pending`, migration 0008) into the
    /// full-text index many at a time: at start (what a crash left), then a little after
    /// commits, so the posts of that time share one index write. Started by `migrate` (the
    /// table exists from then on); a store that is never migrated indexes at each search.
    fn spawn_search_indexer(&self) {
        let store = self.clone();
        let mut commits = self.log_tick.subscribe();
        tokio::spawn(async move {
            loop {
                if store.pool.is_closed() {
                    break;
                }
                if let Err(e) = store.index_pending_search().await {
                    if store.pool.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "search indexing failed; retrying");
                }
                let _ = tokio::time::timeout(SEARCH_INDEX_IDLE, commits.changed()).await;
                tokio::time::sleep(SEARCH_INDEX_DELAY).await;
            }
        });
    }

    /// SQLite: indexes every post whose search terms wait (none on PostgreSQL, whose posts
    /// carry their terms). Returns how many.
    pub async fn index_pending_search(&self) -> Result<u64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let waiting: i64 = sqlx::query_scalar(SEARCH_PENDING_ANY)
            .fetch_one(&self.pool)
            .await?;
        if waiting == 0 {
            return Ok(0);
        }
        let mut indexed = 0;
        loop {
            // Under the write lock: no post is added or changed meanwhile.
            let mut tx = self.begin_background_write().await?;
            let cut: Option<i64> = sqlx::query_scalar(SEARCH_PENDING_CUT)
                .bind(SEARCH_INDEX_BATCH)
                .fetch_one(&mut *tx.tx)
                .await?;
            let Some(cut) = cut else {
                return Ok(indexed);
            };
            let n = sqlx::query(SEARCH_PENDING_INDEX)
                .bind(cut)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected();
            sqlx::query(SEARCH_PENDING_DELETE)
                .bind(cut)
                .execute(&mut *tx.tx)
                .await?;
            self.commit(tx).await?;
            indexed += n;
            if n < SEARCH_INDEX_BATCH as u64 {
                return Ok(indexed);
            }
        }
    }

    /// A receiver that changes whenever new events may be readable from the log.
    pub fn log_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.log_tick.subscribe()
    }

    /// How many new posts the group commit could not write with their batch and wrote alone
    /// instead (a statement of the batch failed): zero unless something is wrong, as with a
    /// post by an unknown author.
    pub fn posts_written_alone(&self) -> u64 {
        self.batcher
            .as_ref()
            .map_or(0, posts::batch::Batcher::sent_back)
    }

    pub(crate) fn tick_log(&self) {
        tick(&self.log_tick);
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        if self.backend == Backend::Sqlite
            && !self
                .search_indexer
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.spawn_search_indexer();
        }
        Ok(())
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for benchmarks and tests that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query(PING).execute(&self.pool).await?;
        Ok(())
    }

    /// A connection of its own, outside the pool, for the analysis snapshot: set up as the
    /// pool's are, and on SQLite with a memory map.
    pub(crate) async fn own_connection(&self) -> Result<sqlx::AnyConnection> {
        use sqlx::ConnectOptions;
        let mut conn = self.pool.connect_options().connect().await?;
        if self.backend == Backend::Sqlite {
            conn.execute(SQLITE_SETUP).await?;
            conn.execute(format!("PRAGMA mmap_size = {SQLITE_MMAP_SIZE};").as_str())
                .await?;
        }
        Ok(conn)
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        if let Some(b) = &self.batcher {
            b.close().await;
        }
        // Leave nothing waiting for the search index (a crash would only delay it to the next
        // start).
        if let Err(e) = self.index_pending_search().await {
            tracing::warn!(error = %e, "search indexing at close failed; it resumes at the next start");
        }
        self.reads.close().await;
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Starts a write transaction: on SQLite, after taking the process's write lock, with
    /// `BEGIN IMMEDIATE` so the database lock is held from the start (no upgrade deadlock).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        self.begin_write_marked(Some(self.activity.enter())).await
    }

    /// [`Store::begin_write`] for background work (the search indexer, the analysis queue),
    /// which does not count as work in flight (see [`Store::activity`]).
    pub(crate) async fn begin_background_write(&self) -> Result<WriteTx> {
        self.begin_write_marked(None).await
    }

    async fn begin_write_marked(&self, busy: Option<activity::Busy>) -> Result<WriteTx> {
        let guard = self.write_turn().await;
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _guard: guard,
            busy,
            wrote_events: false,
            numbering: false,
            numbered_events: false,
        })
    }

    /// Work in flight in this process that background work gives way to: foreground write
    /// transactions and new posts are marked, and the hub marks its API requests too; the
    /// background's writes (search indexer, analysis queue, event relay) are not.
    pub fn activity(&self) -> &Arc<activity::Activity> {
        &self.activity
    }

    /// On SQLite, this process's turn to write (held until the write commits or rolls back);
    /// nothing to wait for on PostgreSQL.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// Commits a write transaction. On PostgreSQL, when it wrote events it did not number
    /// itself, it then waits (a bounded time) for the relay to number them, so an acknowledged
    /// write is in the log.
    pub(crate) async fn commit(&self, tx: WriteTx) -> Result<()> {
        let (unnumbered, numbered) = (tx.wrote_events, tx.numbered_events);
        // In flight until the write is acknowledged, the relay's numbering included.
        let _busy = tx.busy;
        tx.tx.commit().await?;
        if unnumbered && self.backend == Backend::Postgres {
            self.await_relay().await;
        } else if unnumbered || numbered {
            self.tick_log();
        }
        Ok(())
    }
}

/// How long the search indexer lets commits gather before indexing their posts.
const SEARCH_INDEX_DELAY: Duration = Duration::from_millis(250);
/// How long it waits for a commit before looking anyway.
const SEARCH_INDEX_IDLE: Duration = Duration::from_secs(5);
/// Most posts indexed in one transaction.
const SEARCH_INDEX_BATCH: i64 = 2000;

/// Tells the log's readers that it may have grown.
pub(crate) fn tick(log_tick: &tokio::sync::watch::Sender<u64>) {
    log_tick.send_modify(|n| *n = n.wrapping_add(1));
}

/// Every SQLite connection's setup: WAL with `synchronous=FULL` (an acknowledged write
/// survives a power cut), foreign keys and a busy timeout.
///
/// No memory map on the writer and the general pool (small reads: sessions, checks): after
/// another connection's commit, a mapped connection unmaps the whole file at its next
/// transaction (every core takes a TLB flush) and faults the pages back in; in the ingest
/// profile that was a tenth of the database thread's time.
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// The memory map of the connections that read much at once: the native pool of thread pages
/// (a 500-post page read twice as fast mapped) and the analysis snapshot's own connection.
const SQLITE_MMAP_SIZE: &str = "268435456";

/// Idle time after which a pooled PostgreSQL connection is pinged before it is handed out: a
/// connection in steady use is not (a ping is a round trip per request), one that sat idle,
/// perhaps across a server restart, is.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Whether a pooled connection is fit to hand out: SQLite's cannot go stale; PostgreSQL's are
/// pinged when they sat idle for [`PING_AFTER_IDLE`].
pub(crate) async fn fit<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
    backend: Backend,
) -> Result<bool, sqlx::Error> {
    if backend == Backend::Postgres && meta.idle_for >= PING_AFTER_IDLE {
        conn.ping().await?;
    }
    Ok(true)
}

/// A write transaction, holding the SQLite write lock while it lives.
pub(crate) struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Marks the write in flight (see [`Store::activity`]), unless it is background work.
    busy: Option<activity::Busy>,
    /// Events were appended that the relay numbers after the commit (PostgreSQL; on SQLite
    /// every event is numbered as it is inserted).
    pub(crate) wrote_events: bool,
    /// PostgreSQL: the transaction holds the event log's numbering lock until it ends, so it
    /// may number its own events (see `events/`).
    pub(crate) numbering: bool,
    /// Events were appended already numbered.
    pub(crate) numbered_events: bool,
}

/// Makes sure a SQLite URL creates its file (`mode=rwc`) and that the file's folder exists.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The statements the store sends, by name, in `backend`'s dialect: those whose text is
/// assembled per dialect (by `concat!` in macros, or once at start), the literals each module
/// names, and one representative instance of each statement built per call (IN lists,
/// optional filters). A test prepares each on a freshly migrated database of each backend.
#[doc(hidden)]
pub fn statements(backend: Backend) -> Vec<(String, String)> {
    let mut out = posts::statements(backend);
    out.extend(users::statements(backend));
    out.extend(listed(audit::STATEMENTS));
    out.extend(listed(idempotency::STATEMENTS));
    out.extend(events::statements(backend));
    out.extend(moderation::statements(backend));
    out.extend(listed(threads::STATEMENTS));
    out.extend(threads::built_statements(backend));
    out.extend(analysis::statements(backend));
    out.extend(listed(STATEMENTS));
    if backend == Backend::Sqlite {
        out.extend(listed(SQLITE_STATEMENTS));
    }
    out
}

/// A module's list of named statements, owned.
pub(crate) fn listed(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, sql)| (name.to_string(), sql.to_string()))
        .collect()
}

/// Now, in microseconds since the epoch: the stored representation of times.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A stored time as a UTC timestamp.
pub fn from_micros(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}
