//! What the binary's test files share: where the Pol.is exports are, and reading a thread.
//! Each test file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Once;

/// The Pol.is exports (CC BY 4.0) the tests import: `HUB_TEST_POLIS_DIR` when set, else
/// `shared/data/polis` beside the clone (where CI puts the shared data).
pub fn polis_dir() -> PathBuf {
    match std::env::var_os("HUB_TEST_POLIS_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/polis"),
    }
}

/// Whether the Pol.is exports are there. When they are not (a clone without the shared data
/// beside it), says once, past the output capture, that the tests needing them were skipped.
pub fn polis_available() -> bool {
    let found = polis_dir().join("brexit-consensus/comments.csv").is_file();
    if !found {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTE: no Pol.is data at {} (set HUB_TEST_POLIS_DIR): the tests that import it were SKIPPED.\n",
                polis_dir().display()
            );
        });
    }
    found
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
