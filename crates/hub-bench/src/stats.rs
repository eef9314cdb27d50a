//! Latency histograms (microseconds) and their summaries.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

/// Highest latency recorded: 10 minutes, in microseconds (longer saturates).
const MAX_US: u64 = 600_000_000;

/// A new latency histogram, 3 significant figures.
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_US, 3)
        .map_err(|e| anyhow::anyhow!("cannot make a histogram: {e}"))
}

/// Records one latency.
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros())
        .unwrap_or(MAX_US)
        .clamp(1, MAX_US);
    h.saturating_record(us);
}

/// Adds `other` into `into`.
pub fn merge(into: &mut Histogram<u64>, other: &Histogram<u64>) -> anyhow::Result<()> {
    into.add(other)
        .map_err(|e| anyhow::anyhow!("cannot merge histograms: {e}"))
}

/// Throughput and latency of one measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Operations completed successfully.
    pub ops: u64,
    /// Failed operations.
    pub errors: u64,
    /// Wall time of the phase, seconds.
    pub seconds: f64,
    /// Successful operations per second.
    pub per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Highest, milliseconds.
    pub max_ms: f64,
    /// Mean, milliseconds.
    pub mean_ms: f64,
}

impl Summary {
    /// Summarises a histogram of successful operations over `elapsed`.
    pub fn of(h: &Histogram<u64>, errors: u64, elapsed: Duration) -> Self {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let ms = |us: u64| us as f64 / 1000.0;
        let empty = h.is_empty();
        Self {
            ops: h.len(),
            errors,
            seconds: secs,
            per_sec: h.len() as f64 / secs,
            p50_ms: if empty {
                0.0
            } else {
                ms(h.value_at_quantile(0.50))
            },
            p99_ms: if empty {
                0.0
            } else {
                ms(h.value_at_quantile(0.99))
            },
            max_ms: if empty { 0.0 } else { ms(h.max()) },
            mean_ms: if empty { 0.0 } else { h.mean() / 1000.0 },
        }
    }
}

/// Formats a number of milliseconds for a table.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Formats a rate for a table.
pub fn rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
