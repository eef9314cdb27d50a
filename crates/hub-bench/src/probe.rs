//! What a phase cost besides time: CPU of this process (the hub and the load generator) and
//! of the PostgreSQL server processes, and, on PostgreSQL, WAL bytes and write transactions
//! (cluster-wide counters: meaningful when nothing else writes to the cluster meanwhile).

use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::Connection;

/// Linux reports process CPU in clock ticks of 1/100 s (USER_HZ) on every common platform.
const TICK_MS: f64 = 10.0;

/// Counters at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    at: Option<std::time::Instant>,
    busy_ticks: u64,
    self_ticks: u64,
    postgres_ticks: u64,
    wal_bytes: Option<i64>,
    next_xid: Option<i64>,
}

/// Costs per operation of a phase.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Cost {
    /// CPU milliseconds of this process (hub + load generator) per operation.
    pub cpu_bench_ms: f64,
    /// CPU milliseconds of all `postgres` processes per operation.
    pub cpu_postgres_ms: f64,
    /// WAL bytes per operation (PostgreSQL).
    pub wal_bytes: Option<f64>,
    /// Transaction ids taken per operation (write transactions, PostgreSQL).
    pub write_xacts: Option<f64>,
    /// Cores kept busy by other processes during the phase (other builds, tests...): a
    /// phase with much of this was measured on a shared machine.
    pub other_cores: f64,
}

/// Reads the counters; holds a maintenance connection on PostgreSQL.
pub struct Probe {
    pg: Option<PgConnection>,
}

/// utime + stime of a `/proc/<pid>/stat` line.
fn stat_ticks(stat: &str) -> Option<u64> {
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the full line, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy ticks of all CPUs (everything but idle and iowait), from `/proc/stat`.
fn busy_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    v.iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, x)| *x)
        .sum()
}

fn self_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_ticks(&s))
        .unwrap_or(0)
}

fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            if comm.trim() != "postgres" {
                return None;
            }
            stat_ticks(&std::fs::read_to_string(e.path().join("stat")).ok()?)
        })
        .sum()
}

impl Probe {
    /// A probe; with a PostgreSQL maintenance URL, also WAL and transaction counters.
    pub async fn new(postgres_url: Option<&str>) -> anyhow::Result<Self> {
        let pg = match postgres_url {
            Some(url) => Some(PgConnection::connect(url).await?),
            None => None,
        };
        Ok(Self { pg })
    }

    /// The counters now.
    pub async fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        let (wal_bytes, next_xid) = match &mut self.pg {
            Some(c) => {
                let row: (i64, i64) = sqlx::query_as(
                    "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, \
                     pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
                )
                .fetch_one(&mut *c)
                .await?;
                (Some(row.0), Some(row.1))
            }
            None => (None, None),
        };
        Ok(Snapshot {
            at: Some(std::time::Instant::now()),
            busy_ticks: busy_ticks(),
            self_ticks: self_ticks(),
            postgres_ticks: postgres_ticks(),
            wal_bytes,
            next_xid,
        })
    }

    /// Closes the connection.
    pub async fn close(self) {
        if let Some(c) = self.pg {
            let _ = c.close().await;
        }
    }
}

/// Costs per operation between two snapshots.
pub fn cost(before: Snapshot, after: Snapshot, ops: u64) -> Cost {
    let n = ops.max(1) as f64;
    let per = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => Some((b - a) as f64 / n),
        _ => None,
    };
    let own = after.self_ticks.saturating_sub(before.self_ticks)
        + after.postgres_ticks.saturating_sub(before.postgres_ticks);
    let other_ticks = after
        .busy_ticks
        .saturating_sub(before.busy_ticks)
        .saturating_sub(own);
    let secs = match (before.at, after.at) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    Cost {
        other_cores: if secs > 0.0 {
            other_ticks as f64 * TICK_MS / 1000.0 / secs
        } else {
            0.0
        },
        cpu_bench_ms: after.self_ticks.saturating_sub(before.self_ticks) as f64 * TICK_MS / n,
        cpu_postgres_ms: after.postgres_ticks.saturating_sub(before.postgres_ticks) as f64
            * TICK_MS
            / n,
        wal_bytes: per(before.wal_bytes, after.wal_bytes),
        write_xacts: per(before.next_xid, after.next_xid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_read_after_the_command_name() {
        let line = "1234 (tokio (worker) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 8 0";
        assert_eq!(stat_ticks(line), Some(300));
    }
}
