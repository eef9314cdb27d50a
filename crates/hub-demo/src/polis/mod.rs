//! Pol.is import: real, public conversations (CC BY 4.0, The Computational Democracy Project)
//! loaded as hub threads, so that the forum, search, moderation queue and analysis are exercised
//! with real volumes, real scripts (Traditional Chinese, German umlauts, embedded newlines) and
//! real moderation decisions rather than only with generated text.
//!
//! # Mapping
//!
//! | Pol.is | hub |
//! |---|---|
//! | a folder with `comments.csv` (a conversation) | one thread, in a region fixed per conversation (see [`region_for`]) |
//! | `summary.csv` `topic` | the thread title |
//! | `summary.csv` `conversation-description` + `ATTRIBUTION.txt` | the opening post: the description, a note of what the import changed, and the attribution statement verbatim (CC BY 4.0 asks for both) |
//! | a comment | a top-level reply of kind `comment`, body unchanged, no objectives (Pol.is topics are not GCM objectives) |
//! | `author-id` | a synthetic account `polis-<conversation>-author-<id>@example.org`, "Pol.is participant <id>", group `other`, no password |
//! | `moderated` 1 / -1 / 0 | `published` / `hidden` (rejected by the conversation's moderators) / `pending` (never reviewed: it lands in the region's moderation queue) |
//! | `agrees` | ⌈√agrees⌉ endorsements (at most [`VOTER_POOL`]) by a pool of synthetic voters `polis-voter-<n>@example.org` shared by all conversations; only published comments can be endorsed |
//! | `disagrees`, passes, `votes.csv` | not imported: the hub has no down-vote |
//! | `timestamp` (epoch ms) | the reply's `created_at` (and the order in which comments are posted); the opening post is dated at the first comment, and the date range is stated in it |
//!
//! Endorsements are dated at their comment's time: the agree votes came after it, but how
//! long after is not worth reading `votes.csv` for (the Austrian export has none). With every
//! row dated from the data, not from the day of the import, a document built from an import
//! with a cutoff after the conversation is the same whenever and wherever it is built.
//!
//! Why ⌈√agrees⌉ rather than one endorsement per agree: the store writes one endorsement per
//! transaction (about 2 ms on SQLite, which syncs every commit), and the three bundled
//! conversations hold about 175,000 agree votes on published comments, so one-to-one would take
//! minutes. The square root keeps the order of comments by support (what the analysis ranks
//! by) while bringing the total to about 12,000.
//!
//! # Idempotency
//!
//! The import converges rather than appends: a conversation's thread is recognised by its title
//! and the marker `Pol.is conversation <url>` in its opening post, comments already posted are
//! recognised by author and body, and endorsements are set-like in the store. Running the
//! import again after a complete run writes nothing; after an interrupted run it completes what
//! is missing.

mod read;

pub use read::region_for;

use crate::write::{author_of, date_thread, get_or_create_user};
use anyhow::{bail, Context, Result};
use hub_domain::{lang, markup, search, validate, AuthorRef, PostKind, PostStatus};
use hub_domain::{StakeholderGroup, ThreadSort};
use hub_store::{Created, NewPost, NewThread, NewUser, Store, ThreadQuery};
use read::{clean_body, find_conversations, read_conversation, CommentRow, Conversation};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Size of the pool of synthetic voters, and so the most endorsements one comment can get.
pub const VOTER_POOL: usize = 40;

/// The account that opens the imported threads.
pub const IMPORTER_EMAIL: &str = "polis-import@example.org";

/// The password hash of synthetic accounts: not a PHC string, so no password ever verifies
/// against it and nobody can sign in as an imported participant.
const NO_SIGN_IN: &str = "!disabled: synthetic Pol.is account, no sign-in";

/// How many endorsements are written at once. On PostgreSQL concurrent transactions share
/// commit flushes; on SQLite the store queues writers anyway, so this costs nothing there.
const ENDORSE_CONCURRENCY: usize = 8;

/// What the import did, per conversation.
#[derive(Debug, Clone, Default)]
pub struct PolisReport {
    /// One entry per conversation folder, in folder-name order.
    pub conversations: Vec<ConversationReport>,
    /// Synthetic voter accounts created by this run.
    pub voters_created: usize,
}

impl PolisReport {
    /// Posts created by this run, over all conversations.
    pub fn posts_created(&self) -> usize {
        self.conversations
            .iter()
            .map(|c| c.posts_created + usize::from(c.thread_created))
            .sum()
    }

    /// Accounts created by this run (authors, importer, voters).
    pub fn users_created(&self) -> usize {
        self.voters_created
            + self
                .conversations
                .iter()
                .map(|c| c.accounts_created)
                .sum::<usize>()
    }
}

/// What the import did with one conversation.
#[derive(Debug, Clone, Default)]
pub struct ConversationReport {
    /// The folder's name.
    pub folder: String,
    /// The thread title (the Pol.is topic).
    pub title: String,
    /// Region slug of the thread.
    pub region: String,
    /// The conversation's language (BCP 47), declared or detected.
    pub language: Option<String>,
    /// The thread.
    pub thread_id: i64,
    /// Whether this run opened the thread (false: it was there from an earlier run).
    pub thread_created: bool,
    /// Rows in `comments.csv`.
    pub comments: usize,
    /// Comments mapped to `published` (moderated = 1).
    pub published: usize,
    /// Comments mapped to `pending` (moderated = 0, or an unknown value).
    pub pending: usize,
    /// Comments mapped to `hidden` (moderated = -1).
    pub hidden: usize,
    /// Comments whose text had to be cleaned to be a valid post (control characters, length).
    pub cleaned: usize,
    /// Reply posts created by this run.
    pub posts_created: usize,
    /// Distinct Pol.is authors.
    pub authors: usize,
    /// Accounts created by this run for this conversation (authors and the importer).
    pub accounts_created: usize,
    /// Endorsements the mapping gives the published comments.
    pub endorsements: usize,
    /// Endorsements written by this run.
    pub endorsements_added: usize,
    /// Time of the earliest and latest comment.
    pub first_comment_at: Option<chrono::DateTime<chrono::Utc>>,
    /// See `first_comment_at`.
    pub last_comment_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ConversationReport {
    /// Whether the run found everything in place and wrote nothing.
    pub fn already_imported(&self) -> bool {
        !self.thread_created
            && self.posts_created == 0
            && self.endorsements_added == 0
            && self.accounts_created == 0
    }
}

impl fmt::Display for PolisReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Pol.is import (CC BY 4.0, The Computational Democracy Project; attribution kept in each opening post):"
        )?;
        for c in &self.conversations {
            let state = if c.already_imported() {
                " (already imported, nothing written)"
            } else {
                ""
            };
            writeln!(
                f,
                "  {} -> {} thread {} {:?} [{}]{state}: {} comments ({} published, {} pending, {} hidden), \
                 {} posts and {} accounts created, {} of {} endorsements added",
                c.folder,
                c.region,
                c.thread_id,
                c.title,
                c.language.as_deref().unwrap_or("und"),
                c.comments,
                c.published,
                c.pending,
                c.hidden,
                c.posts_created + usize::from(c.thread_created),
                c.accounts_created,
                c.endorsements_added,
                c.endorsements,
            )?;
        }
        write!(
            f,
            "  {} synthetic voter accounts created (pool of {VOTER_POOL}; endorsements = ceil(sqrt(agrees)))",
            self.voters_created
        )
    }
}

/// Imports every Pol.is conversation found in `dir` (the folder itself or its subfolders,
/// any folder holding a `comments.csv`), in folder-name order.
pub async fn import_dir(store: &Store, dir: &Path) -> Result<PolisReport> {
    let folders = find_conversations(dir)?;
    if folders.is_empty() {
        bail!(
            "no Pol.is export (a folder with comments.csv) under {}",
            dir.display()
        );
    }
    let mut report = PolisReport::default();
    let mut voters = Voters::default();
    for folder in folders {
        let conv = read_conversation(&folder)
            .with_context(|| format!("cannot read the Pol.is export in {}", folder.display()))?;
        let r = import_conversation(store, &conv, &mut voters)
            .await
            .with_context(|| format!("cannot import Pol.is conversation {}", conv.folder))?;
        report.conversations.push(r);
    }
    report.voters_created = voters.created;
    Ok(report)
}

/// The language of one comment: the conversation's own tag (more precise than detection:
/// `zh-Hant` rather than `zh`) unless the comment is clearly in another language, as a few
/// are (an English comment in the Austrian conversation).
fn comment_language(plain: &str, conversation: Option<&str>) -> (Option<String>, bool) {
    let detected = lang::detect(plain);
    match (conversation, detected) {
        (Some(c), Some(d)) if primary(c) != primary(&d) => (Some(d), true),
        (Some(c), _) => (Some(c.to_string()), false),
        (None, d) => {
            let found = d.is_some();
            (d, found)
        }
    }
}

fn primary(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// ⌈√agrees⌉, at most [`VOTER_POOL`]: see the module docs.
pub fn endorsements_for(agrees: i64) -> usize {
    if agrees <= 0 {
        return 0;
    }
    let a = u64::try_from(agrees).unwrap_or(0);
    let mut r = (a as f64).sqrt() as u64;
    while r * r < a {
        r += 1;
    }
    while r > 0 && (r - 1) * (r - 1) >= a {
        r -= 1;
    }
    usize::try_from(r).unwrap_or(VOTER_POOL).min(VOTER_POOL)
}

/// The hub status of a Pol.is moderation value.
fn status_for(moderated: Option<i64>) -> PostStatus {
    match moderated {
        Some(1) => PostStatus::Published,
        Some(-1) => PostStatus::Hidden,
        // 0 = never reviewed; anything else is unknown, and a moderator should look at it.
        _ => PostStatus::Pending,
    }
}

/// The pool of synthetic voters, made on first use and shared by all conversations.
#[derive(Default)]
struct Voters {
    ids: Vec<i64>,
    created: usize,
}

impl Voters {
    async fn ensure(&mut self, store: &Store) -> Result<&[i64]> {
        if self.ids.is_empty() {
            for n in 1..=VOTER_POOL {
                let voter = synthetic_account(
                    format!("polis-voter-{n}@example.org"),
                    format!("Pol.is voter {n}"),
                    None,
                );
                let (user, created) = get_or_create_user(store, &voter).await?;
                self.ids.push(user.id);
                self.created += usize::from(created);
            }
        }
        Ok(&self.ids)
    }
}

/// A post already in the thread, found when the import runs again.
struct Existing {
    id: i64,
    status: PostStatus,
    endorsements: i64,
}

/// Posts of a thread by (author name, body), the opening post left out.
type ExistingPosts = HashMap<(String, String), Vec<Existing>>;

/// What posting the comments leaves to do.
#[derive(Default)]
struct Posted {
    /// (post id, comment id, endorsements wanted).
    to_endorse: Vec<(i64, i64, usize)>,
    /// (post id, microseconds): the opening post at the first comment, each reply at its own.
    times: Vec<(i64, i64)>,
}

/// Imports one conversation: its thread, its comments, their endorsements and dates, each
/// step skipping what an earlier run wrote.
async fn import_conversation(
    store: &Store,
    conv: &Conversation,
    voters: &mut Voters,
) -> Result<ConversationReport> {
    let mut r = new_report(conv);
    let (thread_id, opening_id) = open_thread(store, conv, &mut r).await?;
    r.thread_id = thread_id;
    let mut existing = existing_posts(store, thread_id, opening_id).await?;
    let mut posted = Posted::default();
    if let Some(first) = r.first_comment_at {
        posted.times.push((opening_id, first.timestamp_micros()));
    }
    post_comments(store, conv, thread_id, &mut existing, &mut r, &mut posted).await?;
    // The voters are looked up even when nothing is left to endorse, so that endorsements
    // written by an interrupted run are dated too.
    let pool = if r.published > 0 {
        voters.ensure(store).await?.to_vec()
    } else {
        Vec::new()
    };
    if !posted.to_endorse.is_empty() {
        r.endorsements_added = endorse_all(store, &pool, &posted.to_endorse).await?;
    }
    // Last, so that a run interrupted before it is completed by the next one.
    date_thread(store, thread_id, &posted.times, &pool)
        .await
        .with_context(|| format!("cannot date the posts of thread {thread_id}"))?;
    Ok(r)
}

/// A comment's time in epoch milliseconds, if it has one.
fn millis(c: &CommentRow) -> Option<i64> {
    c.timestamp.map(normalise_epoch_millis)
}

/// The report's facts that come from the export alone: counts, authors, time span.
fn new_report(conv: &Conversation) -> ConversationReport {
    let mut authors: Vec<i64> = conv.comments.iter().map(|c| c.author_id).collect();
    authors.sort_unstable();
    authors.dedup();
    ConversationReport {
        folder: conv.folder.clone(),
        title: conv.title.clone(),
        region: conv.region.to_string(),
        language: conv.language.clone(),
        comments: conv.comments.len(),
        authors: authors.len(),
        first_comment_at: conv
            .comments
            .iter()
            .filter_map(millis)
            .min()
            .and_then(chrono::DateTime::from_timestamp_millis),
        last_comment_at: conv
            .comments
            .iter()
            .filter_map(millis)
            .max()
            .and_then(chrono::DateTime::from_timestamp_millis),
        ..Default::default()
    }
}

/// A synthetic account: no password, group `other`.
fn synthetic_account(email: String, display_name: String, language: Option<String>) -> NewUser {
    NewUser {
        email,
        password_hash: NO_SIGN_IN.to_string(),
        display_name,
        organisation: None,
        stakeholder_group: StakeholderGroup::Other,
        country: None,
        language,
        attribution: false,
    }
}

/// The conversation's thread and opening post: the one an earlier run opened, or a new one
/// opened by the importer account.
async fn open_thread(
    store: &Store,
    conv: &Conversation,
    r: &mut ConversationReport,
) -> Result<(i64, i64)> {
    if let Some(ids) = find_thread(store, conv).await? {
        return Ok(ids);
    }
    let importer = synthetic_account(
        IMPORTER_EMAIL.to_string(),
        "Pol.is open data (import)".to_string(),
        None,
    );
    let (importer, created) = get_or_create_user(store, &importer).await?;
    r.accounts_created += usize::from(created);
    let body = opening_body(conv, r);
    let thread = NewThread {
        region: conv.region.to_string(),
        title: conv.title.clone(),
        opening: new_post(author_of(&importer), body, conv.language.clone(), false)?,
    };
    Ok(match store.create_thread(&thread, None).await? {
        Created::New((t, p)) => {
            r.thread_created = true;
            (t.id, p.id)
        }
        Created::Replayed(id) => {
            let t = store.thread(id).await?;
            (t.id, t.opening_post_id.unwrap_or_default())
        }
    })
}

/// Posts from an earlier run, by (author name, body): a re-run skips them.
async fn existing_posts(store: &Store, thread_id: i64, opening_id: i64) -> Result<ExistingPosts> {
    let mut existing = ExistingPosts::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .thread_posts(thread_id, cursor.as_deref(), 200)
            .await?;
        for p in page.items {
            if p.id == opening_id {
                continue;
            }
            let key = (
                p.author.display_name.clone(),
                p.body.clone().unwrap_or_default(),
            );
            existing.entry(key).or_default().push(Existing {
                id: p.id,
                status: p.status,
                endorsements: p.endorsements,
            });
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(existing)
}

/// Posts every comment not posted yet, in order, counting them in the report, and notes the
/// endorsements and times still to write.
async fn post_comments(
    store: &Store,
    conv: &Conversation,
    thread_id: i64,
    existing: &mut ExistingPosts,
    r: &mut ConversationReport,
    posted: &mut Posted,
) -> Result<()> {
    let mut authors = Authors::default();
    // A comment without a timestamp (sorted last) takes the latest time seen before it.
    let mut latest: Option<i64> = None;
    for c in &conv.comments {
        let status = status_for(c.moderated);
        match status {
            PostStatus::Published => r.published += 1,
            PostStatus::Hidden => r.hidden += 1,
            _ => r.pending += 1,
        }
        let (body, cleaned) = clean_body(&c.body);
        r.cleaned += usize::from(cleaned);
        let display_name = format!("Pol.is participant {}", c.author_id);
        let wanted = if status == PostStatus::Published {
            endorsements_for(c.agrees.unwrap_or(0))
        } else {
            0
        };
        r.endorsements += wanted;
        let found = existing
            .get_mut(&(display_name.clone(), body.clone()))
            .and_then(Vec::pop);
        let (post_id, now_status, has) = match found {
            Some(e) => (e.id, e.status, usize::try_from(e.endorsements).unwrap_or(0)),
            None => {
                let author = authors
                    .get(store, conv, c.author_id, display_name, r)
                    .await?;
                let id = post_comment(store, conv, thread_id, author, body, status).await?;
                r.posts_created += 1;
                (id, status, 0)
            }
        };
        latest = millis(c).and_then(|ms| ms.checked_mul(1000)).or(latest);
        if let Some(at) = latest {
            posted.times.push((post_id, at));
        }
        // A comment a moderator has since published here gets its endorsements too; one
        // hidden here since is left alone (the store refuses to endorse it anyway).
        if now_status == PostStatus::Published && wanted > has {
            posted.to_endorse.push((post_id, c.comment_id, wanted));
        }
    }
    Ok(())
}

/// The accounts of a conversation's Pol.is authors, made on first use.
#[derive(Default)]
struct Authors {
    by_id: HashMap<i64, AuthorRef>,
}

impl Authors {
    async fn get(
        &mut self,
        store: &Store,
        conv: &Conversation,
        author_id: i64,
        display_name: String,
        r: &mut ConversationReport,
    ) -> Result<AuthorRef> {
        if let Some(a) = self.by_id.get(&author_id) {
            return Ok(a.clone());
        }
        let account = synthetic_account(
            format!("polis-{}-author-{author_id}@example.org", conv.key),
            display_name,
            conv.language.clone(),
        );
        let (user, created) = get_or_create_user(store, &account).await?;
        r.accounts_created += usize::from(created);
        let a = author_of(&user);
        self.by_id.insert(author_id, a.clone());
        Ok(a)
    }
}

/// One comment as a top-level reply with its moderation status; the id of the post.
async fn post_comment(
    store: &Store,
    conv: &Conversation,
    thread_id: i64,
    author: AuthorRef,
    body: String,
    status: PostStatus,
) -> Result<i64> {
    let plain = markup::plain_text(&body);
    let (language, detected) = comment_language(&plain, conv.language.as_deref());
    let mut post = new_post(author, body, language, detected)?;
    post.status = status;
    let checks = hub_store::PostChecks {
        unrestricted: true,
        ..Default::default()
    };
    Ok(
        match store
            .create_post_checked(thread_id, &post, None, &checks)
            .await?
        {
            Created::New(p) => p.id,
            Created::Replayed(id) => id,
        },
    )
}

/// Epoch milliseconds; some exports write seconds, which are recognised by their size
/// (10^11 ms is 1973, 10^11 s is far in the future).
fn normalise_epoch_millis(t: i64) -> i64 {
    if t.abs() < 100_000_000_000 {
        t.saturating_mul(1000)
    } else {
        t
    }
}

/// Writes the endorsements, [`ENDORSE_CONCURRENCY`] at a time. Each comment's endorsers are
/// consecutive voters from an offset derived from its comment id, so the choice is the same
/// on every run (a re-run after an interruption rewrites the same pairs, which the store
/// ignores) and the load spreads over the pool.
async fn endorse_all(store: &Store, pool: &[i64], items: &[(i64, i64, usize)]) -> Result<usize> {
    if pool.is_empty() {
        return Ok(0);
    }
    let mut jobs: Vec<(i64, i64)> = Vec::new();
    for &(post_id, comment_id, wanted) in items {
        let offset = usize::try_from(comment_id.rem_euclid(pool.len() as i64)).unwrap_or(0);
        for j in 0..wanted.min(pool.len()) {
            jobs.push((post_id, pool[(offset + j) % pool.len()]));
        }
    }
    let mut added = 0usize;
    let mut set = tokio::task::JoinSet::new();
    for (post_id, voter) in jobs {
        if set.len() >= ENDORSE_CONCURRENCY {
            if let Some(res) = set.join_next().await {
                added += usize::from(res.context("an endorsement task failed")??);
            }
        }
        let store = store.clone();
        set.spawn(async move {
            store
                .endorse(post_id, voter)
                .await
                .map(|(_, changed)| changed)
                .with_context(|| format!("cannot endorse post {post_id} as user {voter}"))
        });
    }
    while let Some(res) = set.join_next().await {
        added += usize::from(res.context("an endorsement task failed")??);
    }
    Ok(added)
}

/// The thread of this conversation from an earlier run, if any: same title in the same
/// region, and the conversation's marker in the opening post.
async fn find_thread(store: &Store, conv: &Conversation) -> Result<Option<(i64, i64)>> {
    let marker = conv.marker();
    let mut cursor = None;
    loop {
        let page = store
            .list_threads(&ThreadQuery {
                region: conv.region.to_string(),
                objective: None,
                kind: None,
                q: None,
                sort: ThreadSort::New,
                cursor,
                limit: 200,
                // The importer sees every thread, pending or not.
                viewer_id: None,
                moderator: true,
            })
            .await?;
        for t in page.items.iter().filter(|t| t.title == conv.title) {
            if let Some(opening) = t.opening_post_id {
                let post = store.post(opening).await?;
                if post.body.as_deref().is_some_and(|b| b.contains(&marker)) {
                    return Ok(Some((t.id, opening)));
                }
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(None),
        }
    }
}

/// The opening post: the conversation's own description, what the import changed (CC BY 4.0
/// requires saying so), and the attribution statement exactly as the data set gives it.
fn opening_body(conv: &Conversation, r: &ConversationReport) -> String {
    let mut body = String::new();
    let description = conv.description.trim();
    if !description.is_empty() {
        // Room is left for the note and the attribution, which must be kept whole.
        let room =
            validate::BODY_MAX_CHARS.saturating_sub(conv.attribution.chars().count() + 2_000);
        body.extend(description.chars().take(room));
        body.push_str("\n\n---\n\n");
    }
    let span = match (r.first_comment_at, r.last_comment_at) {
        (Some(a), Some(b)) => format!(
            ", written between {} and {} (UTC),",
            a.format("%Y-%m-%d"),
            b.format("%Y-%m-%d")
        ),
        _ => String::new(),
    };
    body.push_str(&format!(
        "*Imported from Pol.is open data*: {marker}. Its {n} comments{span} follow as replies, \
         unchanged, under the pseudonyms \"Pol.is participant N\". They are test data for this \
         hub, not statements about migration or the Global Compact for Migration.\n\n\
         Changes made on import: comments the conversation's moderators rejected are hidden; \
         comments they never reviewed await moderation; a comment's agree votes appear as \
         ceil(sqrt(agrees)) endorsements (at most {VOTER_POOL}) by synthetic voter accounts; \
         disagree and pass votes are not imported.\n\n",
        marker = conv.marker(),
        n = conv.comments.len(),
    ));
    body.push_str(&conv.attribution);
    body.push('\n');
    body
}

/// A published post of kind `comment`, rendered and indexed as the API does it.
fn new_post(
    author: AuthorRef,
    body: String,
    language: Option<String>,
    detected: bool,
) -> Result<NewPost> {
    let body = validate::body(&body).map_err(|e| anyhow::anyhow!("post body {}", e.message))?;
    let plain = markup::plain_text(&body);
    Ok(NewPost {
        author,
        parent_id: None,
        kind: PostKind::Comment,
        body_html: markup::render_markdown(&body),
        search_terms: search::index_text(&plain),
        body,
        language,
        language_detected: detected,
        objectives: Vec::new(),
        aspects: Vec::new(),
        status: PostStatus::Published,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endorsements_are_the_rounded_up_square_root() {
        let cases = [
            (0, 0),
            (-3, 0),
            (1, 1),
            (2, 2),
            (4, 2),
            (5, 3),
            (9, 3),
            (10, 4),
            (1127, 34),
        ];
        for (agrees, want) in cases {
            assert_eq!(endorsements_for(agrees), want, "{agrees}");
        }
        assert_eq!(endorsements_for(1_000_000), VOTER_POOL);
    }

    #[test]
    fn moderation_values_map_to_statuses() {
        assert_eq!(status_for(Some(1)), PostStatus::Published);
        assert_eq!(status_for(Some(-1)), PostStatus::Hidden);
        assert_eq!(status_for(Some(0)), PostStatus::Pending);
        assert_eq!(status_for(None), PostStatus::Pending);
    }

    #[test]
    fn comment_language_prefers_the_conversation_tag() {
        assert_eq!(
            comment_language("Uber的出現因服務內容明確、平台簡潔", Some("zh-Hant")),
            (Some("zh-Hant".to_string()), false)
        );
        let (l, detected) = comment_language(
            "The cost of rail tickets should be significantly reduced. If it was cheaper to travel by train more people would do it.",
            Some("de"),
        );
        assert_eq!((l.as_deref(), detected), (Some("en"), true));
    }
}
