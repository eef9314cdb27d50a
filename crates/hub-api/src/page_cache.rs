//! Serialised pages of threads, kept while their thread's page version holds.
//!
//! A thread's page version (`threads.page_version`, kept by triggers: migration 0007) moves in
//! the same transaction as anything a page of the thread shows. A request reads the version
//! first, then (on a miss) the page, so a page is always at least as new as the version it is
//! filed under; it is served only while that version is still the thread's, so never stale.
//! Every process checks the version in the database on every request: several hubs on one
//! PostgreSQL stay right without telling each other anything.
//!
//! A page is the same for every viewer except where it holds posts that are not published:
//! those are shown to their authors and the region's moderators. So an entry is the page as
//! anyone else sees it, with who those are; they are answered from the database.

use axum::body::Bytes;
use hub_domain::{visibility, Viewer};
use hub_store::Bodies;

/// Which page of which thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// Thread id.
    pub thread: i64,
    /// Page size.
    pub limit: i64,
    /// Which texts.
    pub bodies: Bodies,
    /// The cursor as sent (empty: the first page).
    pub cursor: Box<str>,
}

impl PageKey {
    /// The key of a page request.
    pub fn new(thread: i64, limit: i64, bodies: Bodies, cursor: Option<&str>) -> Self {
        Self {
            thread,
            limit,
            bodies,
            cursor: cursor.unwrap_or("").into(),
        }
    }
}

/// A page as anyone but `withheld_from` sees it, under its thread's version.
#[derive(Debug, Clone)]
pub struct CachedPage {
    /// The thread's page version it was read at (or after).
    pub version: i64,
    /// When the thread was created (microseconds): with its id, it names the thread across
    /// databases (a database made anew numbers threads and versions from the start again).
    pub thread_created: i64,
    /// The JSON answer.
    pub body: Bytes,
    /// Author and region of each post on the page that is not published: its author and that
    /// region's moderators see more than this entry holds.
    pub withheld_from: Box<[(i64, Box<str>)]>,
}

impl CachedPage {
    /// Who sees more of a page than everyone does, from the author and region of each post on
    /// it that is not published (the region's moderators see it too).
    pub fn withheld_from(unpublished: &[(i64, String)]) -> Box<[(i64, Box<str>)]> {
        let mut who: Vec<(i64, Box<str>)> = unpublished
            .iter()
            .map(|(author, region)| (*author, region.as_str().into()))
            .collect();
        who.sort_unstable();
        who.dedup();
        who.into()
    }

    /// Whether `viewer` sees exactly this page: nothing withheld on it is theirs to see
    /// ([`visibility::sees_withheld`]).
    pub fn serves(&self, viewer: &Viewer) -> bool {
        self.withheld_from
            .iter()
            .all(|(author, region)| !visibility::sees_withheld(viewer, Some(*author), Some(region)))
    }

    /// The entity tag of this page: its thread and version (the URL names the page).
    pub fn etag(&self, thread: i64) -> String {
        format!("\"t{thread}.{}v{}\"", self.thread_created, self.version)
    }
}

/// Weighs an entry by its bytes.
#[derive(Debug, Clone, Copy)]
struct BySize;

impl quick_cache::Weighter<PageKey, CachedPage> for BySize {
    fn weight(&self, key: &PageKey, page: &CachedPage) -> u64 {
        (page.body.len() + key.cursor.len() + 128) as u64
    }
}

/// The cache: bounded by the bytes of the pages it holds.
pub struct PageCache {
    pages: Option<quick_cache::sync::Cache<PageKey, CachedPage, BySize>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("enabled", &self.pages.is_some())
            .finish()
    }
}

impl PageCache {
    /// A cache of at most `mib` MiB of pages; 0 turns it off.
    pub fn new(mib: u64) -> Self {
        let bytes = mib.saturating_mul(1024 * 1024);
        Self {
            // About 64 KiB a page (a page of 50 posts with both texts).
            pages: (bytes > 0).then(|| {
                quick_cache::sync::Cache::with_weighter(
                    usize::try_from(bytes / 65_536).unwrap_or(1024).max(16),
                    bytes,
                    BySize,
                )
            }),
        }
    }

    /// Whether pages are kept at all.
    pub fn enabled(&self) -> bool {
        self.pages.is_some()
    }

    /// The page filed under `key` if it is of `version`.
    pub fn get(&self, key: &PageKey, version: i64) -> Option<CachedPage> {
        let page = self.pages.as_ref()?.get(key)?;
        (page.version == version).then_some(page)
    }

    /// Files a page, unless a newer version of it is there already.
    pub fn put(&self, key: PageKey, page: CachedPage) {
        let Some(pages) = &self.pages else { return };
        if pages.get(&key).is_some_and(|p| p.version > page.version) {
            return;
        }
        pages.insert(key, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{Role, RoleKind};

    fn page(version: i64, withheld_from: &[(i64, &str)]) -> CachedPage {
        CachedPage {
            version,
            thread_created: 1,
            body: Bytes::from_static(b"{}"),
            withheld_from: withheld_from
                .iter()
                .map(|(a, r)| (*a, (*r).into()))
                .collect(),
        }
    }

    fn viewer(id: Option<i64>, moderates: Option<&str>) -> Viewer {
        Viewer {
            user_id: id,
            roles: moderates
                .map(|r| Role {
                    role: RoleKind::Moderator,
                    region: Some(r.into()),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn a_page_with_unpublished_posts_is_not_served_to_their_authors_or_moderators() {
        let p = page(1, &[(7, "europe")]);
        assert!(p.serves(&viewer(None, None)));
        assert!(p.serves(&viewer(Some(8), None)));
        assert!(p.serves(&viewer(Some(8), Some("africa"))));
        assert!(!p.serves(&viewer(Some(7), None)), "the author");
        assert!(!p.serves(&viewer(Some(9), Some("europe"))), "a moderator");
        let all = page(1, &[]);
        assert!(all.serves(&viewer(Some(9), Some("europe"))));
    }

    #[test]
    fn only_the_current_version_is_served_and_older_never_replaces_newer() {
        let cache = PageCache::new(1);
        let key = PageKey::new(1, 50, Bodies::Both, None);
        cache.put(key.clone(), page(3, &[]));
        assert!(cache.get(&key, 3).is_some());
        assert!(cache.get(&key, 4).is_none(), "a newer thread");
        cache.put(key.clone(), page(2, &[]));
        assert!(
            cache.get(&key, 3).is_some(),
            "an older page does not replace it"
        );
        cache.put(key.clone(), page(5, &[]));
        assert!(cache.get(&key, 5).is_some());
        let other = PageKey::new(1, 50, Bodies::Html, None);
        assert!(cache.get(&other, 5).is_none(), "another representation");
        assert!(!PageCache::new(0).enabled());
        assert!(PageCache::new(0).get(&key, 5).is_none());
    }
}
