//! Building a document from a snapshot, as a pipeline of phases (see [`build`]):
//!
//! 1. posts (`build/counts.rs`): the counted posts are streamed once into compact rows and
//!    running counts, then the database's grouped counts;
//! 2. ranking (`build/synthesis.rs`): the objectives ranked, so the prominent ones are known;
//! 3. texts (`build/texts.rs`): the region's texts read in batches and segmented on text
//!    workers (key terms), then the other regions' background sample;
//! 4. quotes (`build/synthesis.rs`): the recommendations ranked by consensus, the few texts
//!    that may be quoted read, and the snapshot closed;
//! 5. sections (`build/synthesis.rs`): quotes picked, near-duplicates merged, sections made;
//! 6. document, changes and rendering (`build/output.rs`): the document put together,
//!    compared with the previous version, and written as gzip'd JSON with its content hash.
//!
//! Memory stays proportional to the number of posts (about 60 bytes each) plus the
//! vocabulary, never to the text.

mod counts;
mod output;
mod synthesis;
mod texts;

use crate::model::*;
use crate::text::Analyzer;
use chrono::{NaiveDate, TimeZone, Utc};
use hub_store::analysis::Snapshot;
use hub_store::StoreError;
use std::sync::Arc;

/// Tunables of the synthesis (recorded in the document's methodology).
#[derive(Debug, Clone)]
pub struct Params {
    /// Objectives analysed in depth.
    pub prominent: usize,
    /// Key terms per section.
    pub key_terms: usize,
    /// Quotes per section.
    pub quotes: usize,
    /// Recommendations listed.
    pub recommendations: usize,
    /// Near-duplicate threshold.
    pub near_duplicate: f64,
    /// Posts of the other regions sampled for TF-IDF.
    pub background: i64,
    /// Licence line.
    pub licence: String,
    /// Post ids per statement of the grouped counts (see [`Snapshot::set_count_range`]).
    pub count_range: i64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            prominent: 5,
            key_terms: 10,
            quotes: 3,
            recommendations: 15,
            near_duplicate: 0.6,
            background: 20_000,
            licence: "Contributions are published by their authors under CC BY 4.0; \
                      figures and this synthesis under CC BY 4.0."
                .into(),
            count_range: hub_store::analysis::COUNT_RANGE,
        }
    }
}

/// What the document is about (from the configuration and the job).
#[derive(Debug, Clone)]
pub struct Subject {
    /// The region.
    pub region: RegionInfo,
    /// Its review.
    pub review: Option<ReviewInfo>,
    /// Cutoff (microseconds).
    pub cutoff_at: i64,
    /// Version to give the document.
    pub version: i64,
    /// Sources to credit.
    pub sources: Vec<String>,
}

/// The previous version, as far as the changes need it: read from its summary (see
/// [`summary_gz`]) or, for documents stored without one, from the document itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Its version.
    pub version: i64,
    /// Its cutoff.
    pub cutoff: String,
    /// Its totals.
    pub totals: Totals,
    /// Its objectives (id and rank).
    pub objectives: Vec<PreviousObjective>,
    /// The post ids quoted by its first [`TOP_RECOMMENDATIONS`] recommendations.
    pub top_recommendations: Vec<i64>,
    /// Its contributions' ids, ascending.
    pub contributions: Vec<i64>,
}

/// How many of the recommendations the changes compare (the new ones among the top ones).
pub const TOP_RECOMMENDATIONS: usize = 10;

/// An objective's rank then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviousObjective {
    /// Id.
    pub id: i64,
    /// Rank.
    pub rank: i64,
}

/// What [`Previous`] reads of a whole document.
#[derive(serde::Deserialize)]
struct DocumentAsPrevious {
    version: i64,
    cutoff: String,
    totals: Totals,
    objectives: Vec<PreviousObjective>,
    recommendations: Vec<RecommendationAsPrevious>,
    contributions: Vec<IdOnly>,
}

#[derive(serde::Deserialize)]
struct RecommendationAsPrevious {
    quote: QuoteAsPrevious,
}

#[derive(serde::Deserialize)]
struct QuoteAsPrevious {
    post_id: i64,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: i64,
}

/// A document's summary as stored: [`Previous`] with the contributions' ids as the gaps
/// between them (mostly 1: a million ids in a few kilobytes once compressed).
#[derive(serde::Serialize, serde::Deserialize)]
struct Summary {
    version: i64,
    cutoff: String,
    totals: Totals,
    objectives: Vec<PreviousObjective>,
    top_recommendations: Vec<i64>,
    contribution_gaps: Vec<i64>,
}

/// A built document: its JSON (gzip'd) and what the job records.
#[derive(Debug, Clone)]
pub struct Built {
    /// The gzip-compressed JSON.
    pub json_gz: Vec<u8>,
    /// What the next version compares itself with (see [`summary_gz`]).
    pub summary_gz: Vec<u8>,
    /// Uncompressed size.
    pub size_bytes: i64,
    /// Content hash.
    pub content_sha256: String,
    /// Contributions counted.
    pub posts: i64,
    /// Event head of the snapshot.
    pub cutoff_seq: i64,
}

/// Errors of a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the document failed.
    #[error("writing the document: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising failed.
    #[error("serialising the document: {0}")]
    Json(#[from] serde_json::Error),
    /// The text worker stopped.
    #[error("the text worker stopped: {0}")]
    Worker(String),
}

/// Builds the document of `subject` from `snap`, writing its gzip'd JSON.
pub async fn build(
    mut snap: Snapshot,
    subject: &Subject,
    previous: Option<&Previous>,
    params: &Params,
    analyzer: Arc<Analyzer>,
) -> Result<Built, BuildError> {
    snap.set_count_range(params.count_range);
    let mut counted = counts::read(&mut snap).await?;
    let ranking = synthesis::rank_objectives(&counted.c, params);
    let terms = texts::count(&mut snap, &ranking.prominent, params, &analyzer).await?;
    let by_group = std::mem::take(&mut counted.recommendation_groups);
    let consensus = synthesis::rank_recommendations(&counted.c, by_group);
    let synthesis::Quoted {
        texts,
        cutoff_seq,
        mut pacer,
    } = synthesis::read_quotes(snap, &counted.c, &ranking, &consensus).await?;

    // The rest is CPU work on what was read (quotes, key terms, the JSON and its compression),
    // on the build's own thread (see `job.rs`), paced like the reads.
    let quoter = synthesis::Quoter::new(&texts, &counted.c, &analyzer, params, &mut pacer);
    let sections = synthesis::sections(&quoter, &ranking, &consensus, &terms, params);
    let doc = output::document(
        subject,
        params,
        &counted,
        sections,
        terms.background,
        cutoff_seq,
    );
    let changed = output::changes_since(&doc, subject.version, &counted.c, previous)?;
    output::render(doc, subject.version, changed, &counted.c, &mut pacer)
}

/// Plain-text excerpt of at most 320 characters, cut at a word when it can be.
pub fn excerpt(markdown: &str) -> String {
    // A heading ends its sentence, so it does not run into the paragraph after it.
    let marked: String = markdown
        .lines()
        .map(|line| {
            let t = line.trim_end();
            let heading = t.trim_start().starts_with('#');
            let ends = t.ends_with(['.', '!', '?', ':', ';', '。', '！', '？', '：', '…']);
            if heading && !ends && !t.trim_start_matches(['#', ' ']).is_empty() {
                format!("{t}.\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let plain = hub_domain::markup::plain_text(&marked);
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 320;
    if plain.chars().count() <= MAX {
        return plain;
    }
    let cut: String = plain.chars().take(MAX - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > MAX / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{at_word}…")
}

/// Sorts moderators' free-text reasons into codes (the text itself never leaves the database:
/// it may quote what was hidden).
pub fn reason_code(status: &str, reason: Option<&str>) -> &'static str {
    let Some(r) = reason.map(str::to_lowercase) else {
        return if status == "removed" {
            "author"
        } else {
            "unspecified"
        };
    };
    if r.starts_with("hidden automatically") {
        "flags"
    } else if r.contains("personal") || r.contains("privacy") || r.contains("phone") {
        "personal_data"
    } else if r.contains("spam") || r.contains("advert") {
        "spam"
    } else if r.contains("abus")
        || r.contains("hate")
        || r.contains("insult")
        || r.contains("harass")
    {
        "abuse"
    } else if r.contains("off topic") || r.contains("off-topic") || r.contains("off_topic") {
        "off_topic"
    } else if r.contains("duplicate") {
        "duplicate"
    } else {
        "other"
    }
}

/// Puts the calling thread at idle priority (Linux `SCHED_IDLE`): it then runs only on CPU
/// time nothing else wants, so a build never delays posting. Threads it starts afterwards
/// inherit the policy. Elsewhere, or if refused, the thread keeps its priority.
pub(crate) fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadSchedulePolicy,
        };
        if let Err(e) = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        ) {
            tracing::debug!(error = ?e, "an analysis thread keeps its priority");
        }
    }
}

/// Decompresses a stored document.
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads a stored document's parts the next version's changes need.
pub fn previous_of(json_gz: &[u8]) -> Result<Previous, BuildError> {
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(json_gz));
    let d: DocumentAsPrevious = serde_json::from_reader(reader)?;
    let mut contributions: Vec<i64> = d.contributions.iter().map(|c| c.id).collect();
    contributions.sort_unstable();
    contributions.dedup();
    Ok(Previous {
        version: d.version,
        cutoff: d.cutoff,
        totals: d.totals,
        objectives: d.objectives,
        top_recommendations: d
            .recommendations
            .iter()
            .take(TOP_RECOMMENDATIONS)
            .map(|r| r.quote.post_id)
            .collect(),
        contributions,
    })
}

/// A document's summary, gzip'd: what the next version compares itself with, stored beside
/// the document ([`previous_of_summary`] reads it back), so the next build need not parse a
/// document of a million contributions to say what changed.
pub fn summary_gz(p: &Previous) -> Result<Vec<u8>, BuildError> {
    let mut last = 0;
    let summary = Summary {
        version: p.version,
        cutoff: p.cutoff.clone(),
        totals: p.totals.clone(),
        objectives: p.objectives.clone(),
        top_recommendations: p.top_recommendations.clone(),
        contribution_gaps: p
            .contributions
            .iter()
            .map(|id| {
                let gap = id.wrapping_sub(last);
                last = *id;
                gap
            })
            .collect(),
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut gz, &summary)?;
    Ok(gz.finish()?)
}

/// The previous version from its summary (see [`summary_gz`]).
pub fn previous_of_summary(summary_gz: &[u8]) -> Result<Previous, BuildError> {
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(summary_gz));
    let s: Summary = serde_json::from_reader(reader)?;
    let mut last = 0i64;
    Ok(Previous {
        version: s.version,
        cutoff: s.cutoff,
        totals: s.totals,
        objectives: s.objectives,
        top_recommendations: s.top_recommendations,
        contributions: s
            .contribution_gaps
            .iter()
            .map(|gap| {
                last = last.wrapping_add(*gap);
                last
            })
            .collect(),
    })
}

/// Midnight UTC of a day, in microseconds.
pub fn day_start_micros(d: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_plain_and_bounded() {
        let long = "word ".repeat(200);
        let e = excerpt(&long);
        assert!(e.chars().count() <= 320);
        assert!(e.ends_with('…'));
        assert_eq!(
            excerpt("**Bold** and [a link](https://x.org)"),
            "Bold and a link"
        );
    }

    #[test]
    fn a_heading_ends_its_sentence_in_an_excerpt() {
        assert_eq!(
            excerpt("## Recommendations\n\nInclude migrants."),
            "Recommendations. Include migrants."
        );
        assert_eq!(excerpt("# Done?\nYes."), "Done? Yes.");
    }

    #[test]
    fn reasons_become_codes() {
        assert_eq!(reason_code("removed", None), "author");
        assert_eq!(
            reason_code("hidden", Some("hidden automatically after 3 flags")),
            "flags"
        );
        assert_eq!(
            reason_code("hidden", Some("Contains a phone number")),
            "personal_data"
        );
        assert_eq!(reason_code("hidden", Some("SPAM link")), "spam");
        assert_eq!(reason_code("hidden", Some("see note")), "other");
    }
}
