//! Closed-loop load: N workers each run one operation after another until a deadline or an
//! operation budget, whichever comes first, recording each operation's latency.

use crate::stats::{self, Summary};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One operation: the worker index and its random source in, a future out (the closure makes
/// its random choices before returning, so the future need not hold the generator).
pub type Op = Arc<dyn Fn(usize, &mut StdRng) -> OpFuture + Send + Sync>;

/// The boxed future of one operation.
pub type OpFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Makes an [`Op`] of a closure (its signature is inferred from the bound).
pub fn op<F>(f: F) -> Op
where
    F: Fn(usize, &mut StdRng) -> OpFuture + Send + Sync + 'static,
{
    Arc::new(f)
}

/// Longest a single operation may take before it counts as failed.
const OP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a phase measured.
pub struct Phase {
    /// Latencies of the successful operations.
    pub hist: Histogram<u64>,
    /// Failed operations.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// From the start to the last worker's end.
    pub elapsed: Duration,
}

impl Phase {
    /// The phase's summary.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.hist, self.errors, self.elapsed)
    }
}

/// Runs `op` on `workers` concurrent tasks for `duration`, at most `max_ops` operations in
/// all. The phase stops early, with the error, when more than `max_ops_errors` fail.
pub async fn run(
    workers: usize,
    duration: Duration,
    max_ops: u64,
    seed: u64,
    op: Op,
) -> anyhow::Result<Phase> {
    let started = Instant::now();
    let deadline = started + duration;
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let op = op.clone();
        let issued = issued.clone();
        let errors = errors.clone();
        let first_error = first_error.clone();
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(w as u64));
        tasks.push(tokio::spawn(async move {
            let mut hist = stats::histogram()?;
            loop {
                if Instant::now() >= deadline || issued.fetch_add(1, Ordering::Relaxed) >= max_ops {
                    break;
                }
                // Give up when nearly everything fails: the figures would mean nothing.
                let failed = errors.load(Ordering::Relaxed);
                if failed > 100 && failed * 2 > issued.load(Ordering::Relaxed) {
                    break;
                }
                let fut = op(w, &mut rng);
                let t0 = Instant::now();
                match tokio::time::timeout(OP_TIMEOUT, fut).await {
                    Ok(Ok(())) => stats::record(&mut hist, t0.elapsed()),
                    Ok(Err(e)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut f) = first_error.lock() {
                            f.get_or_insert_with(|| format!("{e:#}"));
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut f) = first_error.lock() {
                            f.get_or_insert_with(|| format!("timed out after {OP_TIMEOUT:?}"));
                        }
                    }
                }
            }
            anyhow::Ok(hist)
        }));
    }
    let mut hist = stats::histogram()?;
    for t in tasks {
        let h = t.await??;
        stats::merge(&mut hist, &h)?;
    }
    let elapsed = started.elapsed();
    let first_error = first_error.lock().ok().and_then(|f| f.clone());
    Ok(Phase {
        hist,
        errors: errors.load(Ordering::Relaxed),
        first_error,
        elapsed,
    })
}
