//! `hub demo`: a realistic multilingual corpus in all five spaces (being written).

use hub_store::Store;
use std::path::PathBuf;

/// Options of the demo corpus.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Pol.is exports to import too.
    pub polis_dir: Option<PathBuf>,
    /// Generator seed.
    pub seed: u64,
    /// Threads per region.
    pub threads_per_region: usize,
}

/// What the demo loaded.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    /// Accounts created.
    pub users: usize,
    /// Threads created.
    pub threads: usize,
    /// Posts created.
    pub posts: usize,
}

impl std::fmt::Display for DemoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "demo corpus: {} users, {} threads, {} posts",
            self.users, self.threads, self.posts
        )
    }
}

/// Loads the demo corpus.
pub async fn run(_store: &Store, _opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    anyhow::bail!("the demo corpus is not written yet")
}
