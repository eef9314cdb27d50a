use thiserror::Error;

/// What can go wrong in storage, in the terms callers act on.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The change conflicts with what is stored (a taken e-mail, a reused idempotency key).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The change is not allowed in the current state (a locked thread).
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The store is misconfigured.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the failure is the database's state, not the request's: a lost or refused
    /// connection, a pool with no connection free in time, a serialization failure or deadlock
    /// (PostgreSQL), a busy or locked database (SQLite). Nothing was written by the statement
    /// that failed, or, for a lost COMMIT, the client cannot know: a retry with the same
    /// `Idempotency-Key` is safe either way.
    pub fn is_transient(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => d.code().is_some_and(|c| transient_code(&c)),
            _ => false,
        }
    }

    /// Whether this is a unique-constraint violation, on either backend.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                e.is_unique_violation()
                    || e.code().as_deref() == Some("23505")
                    || e.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}

/// SQLSTATE classes and codes (PostgreSQL) and result codes (SQLite) that say "try again".
fn transient_code(code: &str) -> bool {
    // PostgreSQL: connection exceptions (08...), serialization failure, deadlock, the server
    // shutting down or starting, too many connections.
    // PostgreSQL's codes are five characters; SQLite's are numbers of at most four digits.
    if code.len() == 5 {
        return code.starts_with("08")
            || matches!(
                code,
                "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "53300"
            );
    }
    // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::transient_code;

    #[test]
    fn transient_codes_are_the_ones_to_retry() {
        for c in [
            "08006", "08001", "40001", "40P01", "57P01", "53300", "57014", "5", "517", "6", "262",
        ] {
            assert!(transient_code(c), "{c}");
        }
        for c in [
            "23505", "22P02", "42601", "22021", "42501", "22022", "19", "2067", "1",
        ] {
            assert!(!transient_code(c), "{c}");
        }
    }
}
