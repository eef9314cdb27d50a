//! Moderation: flags, the queue, decisions, appeals, suspensions, and the audit log.
//!
//! Every change here writes its audit line in the same transaction, with the state before and
//! after, so the log cannot miss a change that happened. The log table is append-only in the
//! database itself (triggers refuse updates and deletes).
//!
//! Split by what is done: `flags` (flagging), `status` (a post's status and the queue's rows,
//! which posts' edits and removals use too), `queue` (the queue's pages, assignment, notes),
//! `decide` (decisions and appeals), `accounts` (suspensions, roles, the audit log's pages).

mod accounts;
mod decide;
mod flags;
mod queue;
mod status;

/// The statements of moderation, by name, as `backend` is sent them.
pub(crate) fn statements(backend: crate::Backend) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for list in [
        accounts::STATEMENTS,
        decide::STATEMENTS,
        flags::STATEMENTS,
        queue::STATEMENTS,
        status::STATEMENTS,
    ] {
        out.extend(crate::listed(list));
    }
    match backend {
        crate::Backend::Sqlite => out.extend(crate::listed(accounts::SQLITE_STATEMENTS)),
        crate::Backend::Postgres => {
            out.extend(crate::listed(accounts::POSTGRES_STATEMENTS));
            out.extend(crate::listed(decide::POSTGRES_STATEMENTS));
        }
    }
    out.extend(accounts::built_statements());
    out.extend(queue::built_statements());
    out
}

use crate::NewEvent;
use hub_domain::Post;
use serde_json::json;

/// What flagging did.
#[derive(Debug, Clone)]
pub struct FlagOutcome {
    /// The flag's id.
    pub flag_id: i64,
    /// Open flags on the post now.
    pub open_flags: i64,
    /// Whether this flag crossed the threshold and hid the post.
    pub auto_hidden: bool,
}

/// A post's status and reason, as an audit line records them.
pub(super) fn state_of(p: &Post) -> serde_json::Value {
    json!({"status": p.status, "status_reason": p.status_reason})
}

/// Events about moderated posts go to everyone (the fan-out redacts the content for those
/// who may not see it).
pub(super) fn public(mut e: NewEvent) -> NewEvent {
    e.audience = "public";
    e
}
