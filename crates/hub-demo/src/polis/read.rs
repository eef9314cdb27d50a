//! Reading a Pol.is export: finding the conversation folders, reading `summary.csv` and
//! `comments.csv` by header name, and turning what they hold into a valid title, valid post
//! bodies, a language, a region and a key for synthetic e-mail addresses.

use anyhow::{bail, Context, Result};
use hub_domain::{lang, markup, validate, REGION_SLUGS};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How deep below the given folder conversations are looked for.
const MAX_DEPTH: usize = 3;

/// The attribution statement the upstream README asks for, used when a folder has no
/// `ATTRIBUTION.txt` of its own.
const DEFAULT_ATTRIBUTION: &str =
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is\n\
sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy\n\
Project. Licence: https://creativecommons.org/licenses/by/4.0/";

/// One row of `comments.csv`, read by header name: older exports have a `datetime` column,
/// newer ones drop it and add others (`is-meta`, `is-seed`, ...), which are ignored.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct CommentRow {
    /// Epoch milliseconds (the `datetime` column is a display string in the exporting
    /// server's zone and is not used).
    #[serde(default)]
    pub(super) timestamp: Option<i64>,
    #[serde(rename = "comment-id")]
    pub(super) comment_id: i64,
    #[serde(rename = "author-id")]
    pub(super) author_id: i64,
    #[serde(default)]
    pub(super) agrees: Option<i64>,
    #[serde(default)]
    pub(super) moderated: Option<i64>,
    #[serde(rename = "comment-body")]
    pub(super) body: String,
}

/// A conversation read from its folder.
#[derive(Debug)]
pub(super) struct Conversation {
    pub(super) folder: String,
    /// The folder name made safe for an e-mail local part.
    pub(super) key: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) url: Option<String>,
    pub(super) attribution: String,
    pub(super) language: Option<String>,
    pub(super) region: &'static str,
    pub(super) comments: Vec<CommentRow>,
}

impl Conversation {
    /// The string that identifies this conversation's thread in its opening post.
    pub(super) fn marker(&self) -> String {
        format!(
            "Pol.is conversation {}",
            self.url.as_deref().unwrap_or(&self.folder)
        )
    }
}

/// Folders at or below `dir` (at most [`MAX_DEPTH`] levels) that contain `comments.csv`,
/// sorted so that the import order, and therefore ids, are the same on every run.
pub(super) fn find_conversations(dir: &Path) -> Result<Vec<PathBuf>> {
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

pub(super) fn read_conversation(dir: &Path) -> Result<Conversation> {
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
pub(super) fn clean_body(body: &str) -> (String, bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
