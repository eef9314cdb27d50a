//! The event log: every change a client may see, appended in the transaction of the change.
//!
//! `seq` must be strictly increasing in commit order, so a client that saw `n` and resumes
//! from `n` misses nothing. On SQLite the single writer makes an autoincrement enough. On
//! PostgreSQL a sequence is not (values are taken before commit, commits land in any order),
//! so events are written unsequenced and a relay gives them their `seq` after they commit:
//! one relay transaction at a time (an advisory lock held to its commit) numbers every
//! committed unsequenced event after the current maximum. Batches therefore commit in `seq`
//! order, and within a batch numbers follow insertion order. A write that finds that lock free
//! may take it instead and number its own event (the next after the maximum) as it commits:
//! one transaction per write instead of two when writes are few; when they are many, the lock
//! is busy and the relay numbers them in batches. New posts, the bulk of writes, are numbered
//! by their group commit (`posts/batch.rs`), which waits for the lock in `hub_numbering_base()`.
//!
//! `relay` appends and numbers events; `read` reads the log back.

mod read;
mod relay;

use crate::Backend;
use serde::Serialize;
use std::time::Duration;

/// The statements of the event log, by name, as `backend` is sent them.
pub(crate) fn statements(backend: Backend) -> Vec<(String, String)> {
    let mut out = crate::listed(read::STATEMENTS);
    out.extend(crate::listed(relay::STATEMENTS));
    if backend == Backend::Postgres {
        out.extend(crate::listed(relay::POSTGRES_STATEMENTS));
    }
    out.extend(read::built_statements());
    out
}

/// The advisory lock that every numbering of events holds until its transaction commits
/// ("GCMHUB" in ASCII, as an integer): the relay's runs, and a write that numbers its own event
/// because it found the lock free (`posts/write.rs`). Numberings therefore commit one at a time, in
/// `seq` order, each reading the highest `seq` after taking the lock.
pub(crate) const NUMBERING_LOCK: i64 = 0x4743_4d48_5542;
/// Most events numbered in one relay transaction.
const RELAY_BATCH: i64 = 5_000;
/// How often the relay looks for events left unsequenced by an instance that died between
/// its commit and its relay run.
const RELAY_SWEEP: Duration = Duration::from_millis(500);

/// Counts of relay runs, so writers can wait for one that started after their commit.
#[derive(Debug)]
pub(crate) struct RelayRuns {
    started: std::sync::atomic::AtomicU64,
    completed: tokio::sync::watch::Sender<u64>,
    running: std::sync::atomic::AtomicBool,
}

impl Default for RelayRuns {
    fn default() -> Self {
        Self {
            started: std::sync::atomic::AtomicU64::new(0),
            completed: tokio::sync::watch::channel(0).0,
            running: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// The longest a writer waits for its events to be numbered before answering anyway (they
/// will be numbered by a later run; nothing is lost, only delayed).
const RELAY_WAIT: Duration = Duration::from_secs(5);

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `post.created`, `thread.updated`, ...
    pub kind: &'static str,
    /// Region of the thread or post.
    pub region: Option<String>,
    /// Thread concerned.
    pub thread_id: Option<i64>,
    /// Post concerned.
    pub post_id: Option<i64>,
    /// The user concerned (the author, or the user a `user:` event is for).
    pub user_id: Option<i64>,
    /// Who may receive it: `public`, `restricted` (the author and the region's moderators),
    /// `moderators` (the region's moderators) or `user` (`user_id` only).
    pub audience: &'static str,
    /// The JSON body clients receive as `data`.
    pub payload: String,
}

/// A sequenced event read back from the log.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Position in the log.
    pub seq: i64,
    /// Event type.
    pub kind: String,
    /// Region.
    pub region: Option<String>,
    /// Thread.
    pub thread_id: Option<i64>,
    /// Post.
    pub post_id: Option<i64>,
    /// User concerned.
    pub user_id: Option<i64>,
    /// Audience (see [`NewEvent::audience`]).
    pub audience: String,
    /// JSON payload.
    pub payload: String,
    /// When the change was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What a subscriber's replay reads: events of these regions, threads or users.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Region slugs (`region:` and `moderation:` channels).
    pub regions: Vec<String>,
    /// Thread ids.
    pub threads: Vec<i64>,
    /// User ids (`user:` channels).
    pub users: Vec<i64>,
}
