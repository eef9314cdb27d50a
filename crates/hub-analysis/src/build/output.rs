//! The last phases: the document put together, what changed since the previous version,
//! and the rendering: the JSON, its content hash and its compression.

use super::counts::{breakdown, group_str, rfc3339, weeks, Counted, Counts, NONE};
use super::synthesis::Sections;
use super::{reason_code, summary_gz, BuildError, Built, Params, Previous, PreviousObjective};
use super::{Subject, TOP_RECOMMENDATIONS};
use crate::model::{self, *};
use crate::text;
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use hub_store::activity::Pacer;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;

fn len(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The posts kept out by moderation: counts by status and by reason code.
fn excluded(rows: &[(String, Option<String>, i64)]) -> Excluded {
    let mut excluded = Excluded::default();
    let mut reasons: BTreeMap<&str, i64> = BTreeMap::new();
    for (status, reason, n) in rows {
        excluded.total += n;
        match status.as_str() {
            "pending" => excluded.pending += n,
            "hidden" => excluded.hidden += n,
            "removed" => excluded.removed += n,
            _ => {}
        }
        if status != "pending" {
            *reasons
                .entry(reason_code(status, reason.as_deref()))
                .or_default() += n;
        }
    }
    let mut reasons: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|(reason, posts)| ReasonCount {
            reason: reason.into(),
            posts,
        })
        .collect();
    reasons.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.reason.cmp(&b.reason)));
    excluded.reasons = reasons;
    excluded
}

/// The headline counts.
fn totals(c: &Counts) -> Totals {
    Totals {
        posts: len(c.rows.len()),
        threads: len(c.threads.len()),
        authors: len(c.authors.len()),
        organisations: len(c.organisations.len()),
        countries: len(c.countries.keys().filter(|k| **k != NONE).count()),
        stakeholder_groups: len(c.groups.len()),
        languages: len(c
            .languages
            .keys()
            .filter(|k| c.strings.name(**k) != "und")
            .count()),
        endorsements: c.endorsements,
    }
}

/// The document without its contributions (written from the rows by [`render`]), its
/// version, its changes and its hash.
pub(super) fn document(
    subject: &Subject,
    params: &Params,
    counted: &Counted,
    sections: Sections,
    background: i64,
    cutoff_seq: i64,
) -> Document {
    let c = &counted.c;
    let (weekly, weekly_earlier) = weeks(&c.weeks, subject.cutoff_at);
    let mut stemmed: Vec<String> = text::STEMMED.iter().map(|(l, _)| l.to_string()).collect();
    stemmed.push("zh (jieba segmentation)".into());
    Document {
        schema: model::SCHEMA.into(),
        region: subject.region.slug.clone(),
        space: subject.region.clone(),
        review: subject.review.clone(),
        cutoff: rfc3339(subject.cutoff_at),
        cutoff_seq,
        version: 0,
        content_sha256: String::new(),
        changes: None,
        licence: params.licence.clone(),
        sources: subject.sources.clone(),
        totals: totals(c),
        by_kind: ByKind {
            comment: c.by_kind[0],
            recommendation: c.by_kind[1],
            report: c.by_kind[2],
        },
        stakeholder_groups: breakdown(
            c.groups
                .iter()
                .map(|(g, t)| (group_str(*g).to_string(), t.posts, len(t.authors.len()))),
        ),
        countries: breakdown(c.countries.iter().map(|(k, t)| {
            let key = if *k == NONE {
                "unknown".to_string()
            } else {
                c.strings.name(*k).to_string()
            };
            (key, t.posts, len(t.authors.len()))
        })),
        languages: breakdown(c.languages.iter().map(|(k, t)| {
            (
                c.strings.name(*k).to_string(),
                t.posts,
                len(t.authors.len()),
            )
        })),
        weekly,
        weekly_earlier,
        excluded: excluded(&counted.excluded),
        objectives: sections.objectives,
        clusters: sections.clusters,
        aspects: sections.aspects,
        recommendations: sections.recommendations,
        emerging: sections.emerging,
        methodology: Methodology {
            prominent_objectives: len(params.prominent),
            key_terms: len(params.key_terms),
            quotes: len(params.quotes),
            recommendations: len(params.recommendations),
            near_duplicate_jaccard: params.near_duplicate,
            background_posts: background,
            stemmed_languages: stemmed,
        },
        contributions: Vec::new(),
    }
}

/// This version as the next one will see it, what changed since the previous one, and the
/// summary stored for the next.
pub(super) struct Changed {
    pub(super) changes: Option<Changes>,
    pub(super) summary_gz: Vec<u8>,
}

/// Compares the document (as version `version`) with the previous version.
pub(super) fn changes_since(
    doc: &Document,
    version: i64,
    c: &Counts,
    previous: Option<&Previous>,
) -> Result<Changed, BuildError> {
    let mut ids: Vec<i64> = c.rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let now = Previous {
        version,
        cutoff: doc.cutoff.clone(),
        totals: doc.totals.clone(),
        objectives: doc
            .objectives
            .iter()
            .map(|o| PreviousObjective {
                id: o.id,
                rank: o.rank,
            })
            .collect(),
        top_recommendations: doc
            .recommendations
            .iter()
            .take(TOP_RECOMMENDATIONS)
            .map(|r| r.quote.post_id)
            .collect(),
        contributions: ids,
    };
    Ok(Changed {
        changes: previous.map(|p| changes(p, &now)),
        summary_gz: summary_gz(&now)?,
    })
}

/// Writes the document. One pass over the contributions, the largest part by far: their JSON
/// goes to the content hash (after the document's head with version, changes, the event head
/// and the hash itself empty) and, compressed, to the second gzip member of the output; the
/// first member, the real head, is written once the hash is known. Readers use a multi-member
/// decoder.
pub(super) fn render(
    mut doc: Document,
    version: i64,
    changed: Changed,
    c: &Counts,
    pacer: &mut Pacer,
) -> Result<Built, BuildError> {
    let cutoff_seq = doc.cutoff_seq;
    doc.cutoff_seq = 0;
    let blank_head = json_head(&doc)?;
    doc.cutoff_seq = cutoff_seq;
    doc.version = version;
    doc.changes = changed.changes;
    let mut hasher = Sha256::new();
    hasher.update(&blank_head);
    let mut tail = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tail_size = 0usize;
    {
        let mut tee = std::io::BufWriter::with_capacity(
            1 << 16,
            Tee {
                hasher: &mut hasher,
                out: &mut tail,
                n: &mut tail_size,
            },
        );
        write_contributions(&mut tee, c, pacer)?;
        tee.flush()?;
    }
    let tail = tail.finish()?;
    doc.content_sha256 = hex::encode(hasher.finalize());
    let head = json_head(&doc)?;
    let mut first = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    first.write_all(&head)?;
    let mut json_gz = first.finish()?;
    json_gz.extend_from_slice(&tail);
    let size = head.len() + tail_size;
    tracing::debug!(json = size, gzip = json_gz.len(), "analysis: document made");
    Ok(Built {
        json_gz,
        summary_gz: changed.summary_gz,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        content_sha256: doc.content_sha256,
        posts: doc.totals.posts,
        cutoff_seq,
    })
}

/// What changed from version `p` to `now`.
fn changes(p: &Previous, now: &Previous) -> Changes {
    let (added, withdrawn) = differences(&now.contributions, &p.contributions);
    let d = |a: i64, b: i64| a - b;
    let (t, q) = (&now.totals, &p.totals);
    let prev_rank: HashMap<i64, i64> = p.objectives.iter().map(|o| (o.id, o.rank)).collect();
    let objectives_moved = now
        .objectives
        .iter()
        .filter_map(|o| {
            let pr = *prev_rank.get(&o.id)?;
            (pr != o.rank).then_some(RankMove {
                id: o.id,
                previous_rank: pr,
                rank: o.rank,
            })
        })
        .collect();
    let prev_top: HashSet<i64> = p.top_recommendations.iter().copied().collect();
    Changes {
        previous_version: p.version,
        previous_cutoff: p.cutoff.clone(),
        added: i64::try_from(added).unwrap_or(0),
        withdrawn: i64::try_from(withdrawn).unwrap_or(0),
        totals: Totals {
            posts: d(t.posts, q.posts),
            threads: d(t.threads, q.threads),
            authors: d(t.authors, q.authors),
            organisations: d(t.organisations, q.organisations),
            countries: d(t.countries, q.countries),
            stakeholder_groups: d(t.stakeholder_groups, q.stakeholder_groups),
            languages: d(t.languages, q.languages),
            endorsements: d(t.endorsements, q.endorsements),
        },
        objectives_moved,
        new_top_recommendations: now
            .top_recommendations
            .iter()
            .copied()
            .filter(|id| !prev_top.contains(id))
            .collect(),
    }
}

/// How many ids of `now` are not in `before`, and how many of `before` are not in `now` (both
/// ascending, without repeats).
fn differences(now: &[i64], before: &[i64]) -> (usize, usize) {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < now.len() && j < before.len() {
        match now[i].cmp(&before[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (now.len() - common, before.len() - common)
}

/// The document's JSON up to its contributions: `{..., "contributions":[`. With
/// [`write_contributions`] after it, the same bytes as serialising the whole [`Document`]
/// (contributions is its last field), without holding a million contributions as structs.
fn json_head(doc: &Document) -> Result<Vec<u8>, BuildError> {
    let mut head = serde_json::to_vec(doc)?;
    const TAIL: &[u8] = b"[]}";
    if !head.ends_with(b"\"contributions\":[]}") {
        return Err(BuildError::Worker(
            "the document does not end with its contributions".into(),
        ));
    }
    head.truncate(head.len() - TAIL.len());
    head.push(b'[');
    Ok(head)
}

/// The contributions' JSON from the compact rows, and the document's closing `]}`.
fn write_contributions<W: Write>(
    w: &mut W,
    c: &Counts,
    pacer: &mut Pacer,
) -> Result<(), BuildError> {
    for (i, r) in c.rows.iter().enumerate() {
        pacer.pause();
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, &c.contribution(r))?;
    }
    w.write_all(b"]}")?;
    Ok(())
}

/// Writes to a hash and a compressor at once, counting the bytes.
struct Tee<'a, W: Write> {
    hasher: &'a mut Sha256,
    out: &'a mut W,
    n: &'a mut usize,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write_all(buf)?;
        self.hasher.update(buf);
        *self.n += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
