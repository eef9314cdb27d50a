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

use crate::write::{author_of, date_thread, get_or_create_user};
use anyhow::{bail, Context, Result};
use hub_domain::{lang, markup, search, validate, AuthorRef, PostKind, PostStatus};
use hub_domain::{StakeholderGroup, ThreadSort, REGION_SLUGS};
use hub_store::{Created, NewPost, NewThread, NewUser, Store, ThreadQuery};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

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

/// How deep below the given folder conversations are looked for.
const MAX_DEPTH: usize = 3;

/// The attribution statement the upstream README asks for, used when a folder has no
/// `ATTRIBUTION.txt` of its own.
const DEFAULT_ATTRIBUTION: &str =
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is\n\
sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy\n\
Project. Licence: https://creativecommons.org/licenses/by/4.0/";

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

/// One row of `comments.csv`, read by header name: older exports have a `datetime` column,
/// newer ones drop it and add others (`is-meta`, `is-seed`, ...), which are ignored.
#[derive(Debug, Clone, Deserialize)]
struct CommentRow {
    /// Epoch milliseconds (the `datetime` column is a display string in the exporting
    /// server's zone and is not used).
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(rename = "comment-id")]
    comment_id: i64,
    #[serde(rename = "author-id")]
    author_id: i64,
    #[serde(default)]
    agrees: Option<i64>,
    #[serde(default)]
    moderated: Option<i64>,
    #[serde(rename = "comment-body")]
    body: String,
}

/// A conversation read from its folder.
#[derive(Debug)]
struct Conversation {
    folder: String,
    /// The folder name made safe for an e-mail local part.
    key: String,
    title: String,
    description: String,
    url: Option<String>,
    attribution: String,
    language: Option<String>,
    region: &'static str,
    comments: Vec<CommentRow>,
}

impl Conversation {
    /// The string that identifies this conversation's thread in its opening post.
    fn marker(&self) -> String {
        format!(
            "Pol.is conversation {}",
            self.url.as_deref().unwrap_or(&self.folder)
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

/// Folders at or below `dir` (at most [`MAX_DEPTH`] levels) that contain `comments.csv`,
/// sorted so that the import order, and therefore ids, are the same on every run.
fn find_conversations(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        if d.join("comments.csv").is_file() {
            found.push(d.clone());
        }
        if depth >= MAX_DEPTH {
            continue;
        }
        let entries =
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot list {}", d.display()))?;
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if !hidden && e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn read_conversation(dir: &Path) -> Result<Conversation> {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "polis".to_string());
    let summary = read_summary(&dir.join("summary.csv"))?;
    let mut comments = read_comments(&dir.join("comments.csv"))?;
    // Rows are not sorted by comment-id in the exports; posting in time order keeps the
    // thread's tree order (by post id) chronological.
    comments.sort_by_key(|c| (c.timestamp.unwrap_or(i64::MAX), c.comment_id));
    let topic = summary.get("topic").map(String::as_str).unwrap_or("");
    let title = clean_title(topic).unwrap_or_else(|| format!("Pol.is conversation {folder}"));
    let description = summary
        .get("conversation-description")
        .cloned()
        .unwrap_or_default();
    let attribution_path = dir.join("ATTRIBUTION.txt");
    let attribution = if attribution_path.is_file() {
        std::fs::read_to_string(&attribution_path)
            .with_context(|| format!("cannot read {}", attribution_path.display()))?
            .trim_end()
            .to_string()
    } else {
        DEFAULT_ATTRIBUTION.to_string()
    };
    let language = match declared_language(&folder) {
        Some(l) => Some(l.to_string()),
        None => detect_conversation_language(&description, &comments),
    };
    Ok(Conversation {
        key: email_key(&folder),
        region: region_for(&folder),
        url: summary.get("url").filter(|u| !u.trim().is_empty()).cloned(),
        folder,
        title,
        description,
        attribution,
        language,
        comments,
    })
}

/// `summary.csv`: `key,value` rows without a header; values may be quoted and span lines.
fn read_summary(path: &Path) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    if !path.is_file() {
        return Ok(out);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: bad CSV", path.display()))?;
        if let (Some(k), Some(v)) = (record.get(0), record.get(1)) {
            out.insert(k.trim().to_string(), v.to_string());
        }
    }
    Ok(out)
}

fn read_comments(path: &Path) -> Result<Vec<CommentRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .clone();
    for required in ["comment-id", "author-id", "comment-body"] {
        if !headers.iter().any(|h| h == required) {
            bail!(
                "{}: no {required:?} column (columns: {})",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(",")
            );
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.deserialize::<CommentRow>().enumerate() {
        // i + 2: the header is line 1 (a record may span lines, so this counts records).
        rows.push(record.with_context(|| format!("{}: record {}", path.display(), i + 2))?);
    }
    Ok(rows)
}

/// The topic as a valid title: one line, at most 200 characters; `None` when nothing usable.
fn clean_title(topic: &str) -> Option<String> {
    let one_line: String = topic
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(validate::TITLE_MAX_CHARS)
        .collect();
    validate::title(&one_line).ok()
}

/// A comment body as a valid post body. The text is kept as written whenever it is valid;
/// otherwise control characters are dropped and overlong text is cut, and the caller counts it.
fn clean_body(body: &str) -> (String, bool) {
    if let Ok(b) = validate::body(body) {
        return (b, false);
    }
    let cleaned: String = body
        .chars()
        .filter(|c| {
            !((c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        })
        .take(validate::BODY_MAX_CHARS)
        .collect();
    match validate::body(&cleaned) {
        Ok(b) => (b, true),
        Err(_) => ("*(empty Pol.is comment)*".to_string(), true),
    }
}

/// The languages of the bundled conversations, as their publishers describe them.
fn declared_language(folder: &str) -> Option<&'static str> {
    let f = folder.to_ascii_lowercase();
    if f.starts_with("brexit") {
        Some("en")
    } else if f.starts_with("vtaiwan") {
        Some("zh-Hant")
    } else if f.starts_with("austria-climate") {
        Some("de")
    } else {
        None
    }
}

/// Detects an unknown conversation's language from its description and first comments.
fn detect_conversation_language(description: &str, comments: &[CommentRow]) -> Option<String> {
    let mut sample = markup::plain_text(description);
    for c in comments.iter().take(50) {
        sample.push(' ');
        sample.push_str(&c.body);
    }
    lang::detect(&sample)
}

/// The region of a conversation: fixed for the bundled ones, otherwise chosen from the folder
/// name by a stable hash (FNV-1a; std's hasher may change between Rust releases), so the same
/// folder always lands in the same region.
pub fn region_for(folder: &str) -> &'static str {
    let f = folder.to_ascii_lowercase();
    if f.starts_with("brexit") || f.starts_with("austria-climate") {
        return "europe";
    }
    if f.starts_with("vtaiwan") {
        return "asia-pacific";
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in f.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let i = usize::try_from(h % REGION_SLUGS.len() as u64).unwrap_or(0);
    REGION_SLUGS[i]
}

/// The folder name as it appears in synthetic e-mail addresses: lower-case ASCII letters,
/// digits, dots and hyphens.
fn email_key(folder: &str) -> String {
    let mut key: String = folder
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    while key.contains("..") {
        key = key.replace("..", ".");
    }
    let key = key.trim_matches('.').to_string();
    if key.is_empty() {
        "conversation".to_string()
    } else {
        key
    }
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
                let (user, created) = get_or_create_user(
                    store,
                    &NewUser {
                        email: format!("polis-voter-{n}@example.org"),
                        password_hash: NO_SIGN_IN.to_string(),
                        display_name: format!("Pol.is voter {n}"),
                        organisation: None,
                        stakeholder_group: StakeholderGroup::Other,
                        country: None,
                        language: None,
                        attribution: false,
                    },
                )
                .await?;
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

async fn import_conversation(
    store: &Store,
    conv: &Conversation,
    voters: &mut Voters,
) -> Result<ConversationReport> {
    let mut r = ConversationReport {
        folder: conv.folder.clone(),
        title: conv.title.clone(),
        region: conv.region.to_string(),
        language: conv.language.clone(),
        comments: conv.comments.len(),
        ..Default::default()
    };
    let millis = |c: &CommentRow| c.timestamp.map(normalise_epoch_millis);
    r.first_comment_at = conv
        .comments
        .iter()
        .filter_map(millis)
        .min()
        .and_then(chrono::DateTime::from_timestamp_millis);
    r.last_comment_at = conv
        .comments
        .iter()
        .filter_map(millis)
        .max()
        .and_then(chrono::DateTime::from_timestamp_millis);
    let mut authors: Vec<i64> = conv.comments.iter().map(|c| c.author_id).collect();
    authors.sort_unstable();
    authors.dedup();
    r.authors = authors.len();

    let (thread_id, opening_id) = match find_thread(store, conv).await? {
        Some(ids) => ids,
        None => {
            let (importer, created) = get_or_create_user(
                store,
                &NewUser {
                    email: IMPORTER_EMAIL.to_string(),
                    password_hash: NO_SIGN_IN.to_string(),
                    display_name: "Pol.is open data (import)".to_string(),
                    organisation: None,
                    stakeholder_group: StakeholderGroup::Other,
                    country: None,
                    language: None,
                    attribution: false,
                },
            )
            .await?;
            r.accounts_created += usize::from(created);
            let body = opening_body(conv, &r);
            let thread = NewThread {
                region: conv.region.to_string(),
                title: conv.title.clone(),
                opening: new_post(author_of(&importer), body, conv.language.clone(), false)?,
            };
            match store.create_thread(&thread, None).await? {
                Created::New((t, p)) => {
                    r.thread_created = true;
                    (t.id, p.id)
                }
                Created::Replayed(id) => {
                    let t = store.thread(id).await?;
                    (t.id, t.opening_post_id.unwrap_or_default())
                }
            }
        }
    };
    r.thread_id = thread_id;

    // Posts from an earlier run, by (author name, body): a re-run skips them.
    let mut existing: HashMap<(String, String), Vec<Existing>> = HashMap::new();
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

    let mut author_refs: HashMap<i64, AuthorRef> = HashMap::new();
    // (post id, comment id, endorsements wanted)
    let mut to_endorse: Vec<(i64, i64, usize)> = Vec::new();
    // (post id, microseconds): the opening post at the first comment, each reply at its own.
    let mut times: Vec<(i64, i64)> = Vec::new();
    if let Some(first) = r.first_comment_at {
        times.push((opening_id, first.timestamp_micros()));
    }
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
                let author = match author_refs.get(&c.author_id) {
                    Some(a) => a.clone(),
                    None => {
                        let (user, created) = get_or_create_user(
                            store,
                            &NewUser {
                                email: format!(
                                    "polis-{}-author-{}@example.org",
                                    conv.key, c.author_id
                                ),
                                password_hash: NO_SIGN_IN.to_string(),
                                display_name: display_name.clone(),
                                organisation: None,
                                stakeholder_group: StakeholderGroup::Other,
                                country: None,
                                language: conv.language.clone(),
                                attribution: false,
                            },
                        )
                        .await?;
                        r.accounts_created += usize::from(created);
                        let a = author_of(&user);
                        author_refs.insert(c.author_id, a.clone());
                        a
                    }
                };
                let plain = markup::plain_text(&body);
                let (language, detected) = comment_language(&plain, conv.language.as_deref());
                let mut post = new_post(author, body, language, detected)?;
                post.status = status;
                let checks = hub_store::PostChecks {
                    unrestricted: true,
                    ..Default::default()
                };
                let created = match store
                    .create_post_checked(thread_id, &post, None, &checks)
                    .await?
                {
                    Created::New(p) => p.id,
                    Created::Replayed(id) => id,
                };
                r.posts_created += 1;
                (created, status, 0)
            }
        };
        latest = millis(c).and_then(|ms| ms.checked_mul(1000)).or(latest);
        if let Some(at) = latest {
            times.push((post_id, at));
        }
        // A comment a moderator has since published here gets its endorsements too; one
        // hidden here since is left alone (the store refuses to endorse it anyway).
        if now_status == PostStatus::Published && wanted > has {
            to_endorse.push((post_id, c.comment_id, wanted));
        }
    }

    // The voters are looked up even when nothing is left to endorse, so that endorsements
    // written by an interrupted run are dated too.
    let pool = if r.published > 0 {
        voters.ensure(store).await?.to_vec()
    } else {
        Vec::new()
    };
    if !to_endorse.is_empty() {
        r.endorsements_added = endorse_all(store, &pool, &to_endorse).await?;
    }
    // Last, so that a run interrupted before it is completed by the next one.
    date_thread(store, thread_id, &times, &pool)
        .await
        .with_context(|| format!("cannot date the posts of thread {thread_id}"))?;
    Ok(r)
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
    fn bundled_conversations_have_fixed_regions_and_others_a_stable_one() {
        assert_eq!(region_for("brexit-consensus"), "europe");
        assert_eq!(region_for("vtaiwan.uberx"), "asia-pacific");
        assert_eq!(
            region_for("austria-climate.5tzfrp5eaa.2022-07-07"),
            "europe"
        );
        let r = region_for("bg2050-volunteers");
        assert!(REGION_SLUGS.contains(&r));
        assert_eq!(r, region_for("bg2050-volunteers"));
    }

    #[test]
    fn moderation_values_map_to_statuses() {
        assert_eq!(status_for(Some(1)), PostStatus::Published);
        assert_eq!(status_for(Some(-1)), PostStatus::Hidden);
        assert_eq!(status_for(Some(0)), PostStatus::Pending);
        assert_eq!(status_for(None), PostStatus::Pending);
    }

    #[test]
    fn email_keys_are_safe() {
        assert_eq!(email_key("vtaiwan.uberx"), "vtaiwan.uberx");
        assert_eq!(email_key("A b..c/"), "a.b.c");
        assert_eq!(email_key("..."), "conversation");
    }

    #[test]
    fn csv_is_read_by_header_name_with_or_without_datetime() {
        let dir = std::env::temp_dir().join(format!("hub-polis-unit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let old = dir.join("old.csv");
        let new = dir.join("new.csv");
        let _ = std::fs::write(
            &old,
            "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n\
             1500282615559,Mon Jul 17 16:10:15 WIB 2017,36,0,38,7,1,\"two\nlines, \"\"quoted\"\"\"\n",
        );
        let _ = std::fs::write(
            &new,
            "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,comment-body\n\
             1700000000000,3,9,,0,-1,0,1,plain\n",
        );
        let a = read_comments(&old).unwrap_or_default();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].body, "two\nlines, \"quoted\"");
        assert_eq!(a[0].agrees, Some(38));
        let b = read_comments(&new).unwrap_or_default();
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].comment_id, b[0].author_id, b[0].agrees), (3, 9, None));
        assert_eq!(b[0].moderated, Some(-1));
        let _ = std::fs::remove_dir_all(&dir);
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
