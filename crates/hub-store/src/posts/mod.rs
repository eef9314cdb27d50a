//! Posts: the tree under a thread, revisions, endorsements.
//!
//! Tree order comes from a materialised path: each post's `path` is its parent's path plus its
//! own id, zero-padded to a fixed width, so ordering by `path` (byte order) lists a thread
//! depth-first with siblings oldest first, in one index range scan, at any depth.
//!
//! The module is split by what is done: `write` adds posts (`checks` places them, `batch`
//! writes concurrent ones in one transaction), `read` reads pages of a thread, `edit` edits and
//! removes, `endorse` endorses. The types they share, and the public ones, are here.

pub(crate) mod batch;
mod checks;
mod edit;
mod endorse;
mod read;
mod write;

pub(crate) use checks::{new_post_record, Checked, Placement};

use crate::{Backend, NewEvent, Page};
use hub_domain::{Aspect, AuthorRef, Post, PostKind, PostStatus};

/// A post to add, validated and rendered.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// The author (as shown with the post).
    pub author: AuthorRef,
    /// Parent post; `None` for a reply to the thread (its opening post becomes the parent).
    pub parent_id: Option<i64>,
    /// Kind.
    pub kind: PostKind,
    /// Markdown.
    pub body: String,
    /// Sanitised HTML of `body`.
    pub body_html: String,
    /// Folded search terms of the text (`hub_domain::search::index_text`).
    pub search_terms: String,
    /// Language tag.
    pub language: Option<String>,
    /// Whether the language was detected.
    pub language_detected: bool,
    /// Objectives, validated.
    pub objectives: Vec<i64>,
    /// Aspects.
    pub aspects: Vec<Aspect>,
    /// Initial status (`published`, or `pending` under pre-moderation).
    pub status: PostStatus,
}

/// An edit of a post by its author or a moderator.
#[derive(Debug, Clone)]
pub struct PostEdit {
    /// Who edits.
    pub editor_id: i64,
    /// New Markdown, its HTML and search terms, if the body changes.
    pub body: Option<(String, String, String)>,
    /// New kind.
    pub kind: Option<PostKind>,
    /// New objectives.
    pub objectives: Option<Vec<i64>>,
    /// New aspects.
    pub aspects: Option<Vec<Aspect>>,
    /// New language (and whether detected).
    pub language: Option<(Option<String>, bool)>,
    /// The new text waits for pre-moderation: a published post goes back to pending, onto
    /// its region's queue, until a moderator approves it again.
    pub review: bool,
}

/// The hash duplicate detection finds a post's text by: the first 8 bytes of the SHA-256 of
/// the text without its leading and trailing whitespace, so " twice\n" repeats "twice" in
/// whichever order they come. Duplicates are found by this hash alone (a false match needs a
/// 64-bit collision between one author's posts of the same thread within the window).
pub(crate) fn body_hash(body: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(body.trim().as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Width of one path segment: ids up to 10^12 - 1 keep their byte order.
pub(crate) const PATH_SEGMENT: usize = 12;

/// Which texts of each post a thread read carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bodies {
    /// The Markdown and its HTML (the default).
    #[default]
    Both,
    /// The Markdown only (`body_html` is null).
    Markdown,
    /// The HTML only (`body` is null).
    Html,
}

/// A thread's opening post, as far as deciding who may see the thread.
#[derive(Debug, Clone)]
pub struct OpeningPost {
    /// Its status: a pending one hides the thread from others than its author and the
    /// region's moderators.
    pub status: PostStatus,
    /// Its author.
    pub author_id: i64,
    /// Its region.
    pub region: String,
}

/// A page of a thread's posts.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    /// The posts.
    pub page: Page<Post>,
    /// The thread's opening post (none for a thread without one).
    pub opening: Option<OpeningPost>,
}

/// Posts as a JSON array, into a buffer sized for them.
pub fn posts_json(posts: &[Post]) -> serde_json::Result<Vec<u8>> {
    // The texts, a little for escapes, and the other fields.
    let size = posts
        .iter()
        .map(|p| {
            let text = p.body.as_ref().map_or(0, String::len)
                + p.body_html.as_ref().map_or(0, String::len);
            text + text / 16 + 512
        })
        .sum::<usize>();
    let mut buf = Vec::with_capacity(size + 2);
    serde_json::to_writer(&mut buf, posts)?;
    Ok(buf)
}

/// A page of a thread as everyone sees it who is not withheld from (see
/// [`Store::public_thread_page`]).
#[derive(Debug, Clone)]
pub struct PublicThreadPage {
    /// The posts as a JSON array (UTF-8), each as `serde_json` writes a [`Post`] redacted
    /// for an anonymous reader (pending posts left out, hidden and removed ones without texts
    /// or reason).
    pub items: Vec<u8>,
    /// Opaque cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The author and region of each post on the page that is not published: that author
    /// and the region's moderators see more of the page than `items`.
    pub withheld_from: Vec<(i64, String)>,
    /// The thread's opening post (none for a thread without one).
    pub opening: Option<OpeningPost>,
}

/// Checks made in the write transaction of a new post, besides the thread's and the parent's.
#[derive(Debug, Clone, Default)]
pub struct PostChecks {
    /// Refuse the post (a conflict) when its author posted the same text (trimmed) in the
    /// same thread within this many microseconds: a double submission.
    pub duplicate_window_micros: Option<i64>,
    /// The regions whose moderator the author is: there they may reply to posts withheld
    /// from others (pending, hidden or removed), and in threads whose opening post is.
    pub moderated_regions: Vec<String>,
    /// An import's write: in any thread and to any parent, withheld or not, as a moderator of
    /// every region (a conversation imported again after a moderator hid its opening post
    /// still gets its new comments).
    pub unrestricted: bool,
}

/// The audience of events about a post with this status.
pub(crate) fn audience(status: PostStatus) -> &'static str {
    if status == PostStatus::Published {
        "public"
    } else {
        "restricted"
    }
}

pub(crate) fn post_event(kind: &'static str, post: &Post) -> NewEvent {
    NewEvent {
        kind,
        region: Some(post.region.clone()),
        thread_id: Some(post.thread_id),
        post_id: Some(post.id),
        user_id: Some(post.author.id),
        audience: audience(post.status),
        payload: serde_json::to_string(post).unwrap_or_default(),
    }
}

/// The statements of posts, by name, as `backend` is sent them (see [`crate::statements`]).
pub(crate) fn statements(backend: Backend) -> Vec<(String, String)> {
    let mut out = checks::statements(backend);
    out.extend(write::statements(backend));
    out.extend(read::statements(backend));
    out.extend(batch::statements(backend));
    out.extend(crate::listed(edit::STATEMENTS));
    out.extend(crate::listed(endorse::STATEMENTS));
    out.extend(crate::listed(write::STATEMENTS));
    out.extend(crate::listed(match backend {
        Backend::Sqlite => edit::SQLITE_STATEMENTS,
        Backend::Postgres => edit::POSTGRES_STATEMENTS,
    }));
    out.extend(crate::listed(match backend {
        Backend::Sqlite => write::SQLITE_STATEMENTS,
        Backend::Postgres => write::POSTGRES_STATEMENTS,
    }));
    out.extend(edit::built_statements(backend));
    out.extend(read::formatted_statements());
    out
}
