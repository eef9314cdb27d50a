//! What the binary's test files share: where the Pol.is exports are, and reading a thread.
//! Each test file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The Pol.is exports (CC BY 4.0) the tests import: `HUB_TEST_POLIS_DIR` when set, else the
/// repository's `data/polis`.
pub fn polis_dir() -> PathBuf {
    match std::env::var_os("HUB_TEST_POLIS_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/polis"),
    }
}

/// Checks that the Pol.is exports are there. They are part of the repository, so a missing
/// folder is a failure, not a reason to skip.
pub fn require_polis() {
    let dir = polis_dir();
    assert!(
        dir.join("brexit-consensus/comments.csv").is_file(),
        "no Pol.is data at {} (the repository's data/polis, or HUB_TEST_POLIS_DIR when set)",
        dir.display()
    );
}

/// Every post of a thread, in tree order, page by page.
pub async fn all_posts(store: &hub_store::Store, thread_id: i64) -> Vec<hub_domain::Post> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .thread_posts(thread_id, cursor.as_deref(), 200)
            .await
            .expect("posts");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}
