//! Building a document from a snapshot.
//!
//! The counted posts are streamed once into compact rows and running counts; texts are then
//! read in batches and segmented on a separate thread (key terms), then the other regions'
//! background sample, then the few texts that are quoted. Memory stays proportional to the
//! number of posts (about 60 bytes each) plus the vocabulary, never to the text.

use crate::model::{self, *};
use crate::text::{self, Analyzer, Corpus, Interner, TermCounts};
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use hub_domain::objectives::objective;
use hub_domain::{Aspect, PostKind, StakeholderGroup};
use hub_store::activity::Pacer;
use hub_store::analysis::{Snapshot, SnapshotPost, SnapshotText};
use hub_store::StoreError;
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::io::Write;
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

const NONE: u32 = u32::MAX;

/// One counted post, compactly.
#[derive(Debug, Clone, Copy)]
struct Row {
    id: i64,
    thread_id: i64,
    created_at: i64,
    endorsements: i64,
    objectives: u32,
    aspects: u8,
    kind: u8,
    group: u8,
    country: u32,
    language: u32,
    organisation: u32,
}

fn kind_code(k: PostKind) -> u8 {
    match k {
        PostKind::Comment => 0,
        PostKind::Recommendation => 1,
        PostKind::Report => 2,
    }
}

fn kind_str(k: u8) -> &'static str {
    match k {
        1 => "recommendation",
        2 => "report",
        _ => "comment",
    }
}

fn aspect_bit(a: Aspect) -> u8 {
    match a {
        Aspect::Priority => 1,
        Aspect::Progress => 2,
        Aspect::Gap => 4,
        Aspect::Practice => 8,
        Aspect::Collaboration => 16,
    }
}

const ASPECTS: [Aspect; 5] = [
    Aspect::Progress,
    Aspect::Gap,
    Aspect::Practice,
    Aspect::Collaboration,
    Aspect::Priority,
];

fn group_code(g: StakeholderGroup) -> u8 {
    StakeholderGroup::ALL
        .iter()
        .position(|x| *x == g)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(0)
}

fn group_str(g: u8) -> &'static str {
    StakeholderGroup::ALL
        .get(g as usize)
        .map_or("other", |g| g.as_str())
}

fn objective_ids(mask: u32) -> Vec<i64> {
    (1..=23).filter(|o| mask & (1 << o) != 0).collect()
}

/// Right-to-left scripts, by primary language subtag.
fn dir_of(lang: &str) -> &'static str {
    match lang {
        "ar" | "he" | "fa" | "ur" | "ps" | "yi" | "dv" | "ku" => "rtl",
        _ => "ltr",
    }
}

fn rfc3339(micros: i64) -> String {
    hub_store::from_micros(micros)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
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

/// Keeps the `k` best `(score, id)` (highest score, then lowest id).
#[derive(Debug)]
struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<(i64, Reverse<i64>)>>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::new(),
        }
    }
    fn push(&mut self, score: i64, id: i64) {
        self.heap.push(Reverse((score, Reverse(id))));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }
    fn ids(&self) -> Vec<i64> {
        let mut v: Vec<(i64, i64)> = self
            .heap
            .iter()
            .map(|Reverse((s, Reverse(id)))| (*s, *id))
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v.into_iter().map(|(_, id)| id).collect()
    }
}

#[derive(Debug, Default)]
struct Tally {
    posts: i64,
    authors: HashSet<i64>,
}

#[derive(Debug, Default)]
struct ObjectiveTally {
    posts: i64,
    endorsements: i64,
    recommendations: i64,
    authors: HashSet<i64>,
    groups: BTreeSet<u8>,
    countries: BTreeSet<u32>,
}

#[derive(Debug, Default)]
struct WeekTally {
    posts: i64,
    by_kind: [i64; 3],
    authors: HashSet<i64>,
}

/// Running counts of pass one.
struct Counts {
    rows: Vec<Row>,
    /// Countries, languages and organisations, interned so each row stays small.
    strings: Interner,
    threads: HashSet<i64>,
    authors: HashSet<i64>,
    organisations: HashSet<String>,
    endorsements: i64,
    by_kind: [i64; 3],
    groups: BTreeMap<u8, Tally>,
    countries: HashMap<u32, Tally>,
    languages: HashMap<u32, Tally>,
    weeks: BTreeMap<(i32, u32), WeekTally>,
    objectives: Vec<ObjectiveTally>,
    clusters: [(i64, i64); 4],
    aspects: Vec<(i64, [i64; 24], TopK)>,
    objective_quotes: Vec<TopK>,
    emerging: (i64, TopK),
    recommendations: Vec<usize>,
}

impl Counts {
    fn new(quote_pool: usize) -> Self {
        Self {
            rows: Vec::new(),
            strings: Interner::default(),
            threads: HashSet::new(),
            authors: HashSet::new(),
            organisations: HashSet::new(),
            endorsements: 0,
            by_kind: [0; 3],
            groups: BTreeMap::new(),
            countries: HashMap::new(),
            languages: HashMap::new(),
            weeks: BTreeMap::new(),
            objectives: (0..24).map(|_| ObjectiveTally::default()).collect(),
            clusters: [(0, 0); 4],
            aspects: ASPECTS
                .iter()
                .map(|_| (0, [0; 24], TopK::new(quote_pool)))
                .collect(),
            objective_quotes: (0..24).map(|_| TopK::new(quote_pool)).collect(),
            emerging: (0, TopK::new(quote_pool)),
            recommendations: Vec::new(),
        }
    }

    fn push(&mut self, p: SnapshotPost) {
        let country = match &p.country {
            Some(c) if !c.is_empty() => self.strings.id(c),
            _ => NONE,
        };
        let language = self.strings.id(p
            .language
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or("und"));
        let organisation = match &p.organisation {
            Some(o) if p.attribution && !o.trim().is_empty() => self.strings.id(o.trim()),
            _ => NONE,
        };
        if let Some(o) = &p.organisation {
            let norm = o
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if !norm.is_empty() {
                self.organisations.insert(norm);
            }
        }
        let mut objectives = 0u32;
        for &o in &p.objectives {
            if (1..=23).contains(&o) {
                objectives |= 1 << o;
            }
        }
        let aspects = p.aspects.iter().fold(0u8, |m, a| m | aspect_bit(*a));
        let kind = kind_code(p.kind);
        let group = group_code(p.stakeholder_group);
        let row = Row {
            id: p.id,
            thread_id: p.thread_id,
            created_at: p.created_at,
            endorsements: p.endorsements,
            objectives,
            aspects,
            kind,
            group,
            country,
            language,
            organisation,
        };
        self.threads.insert(p.thread_id);
        self.authors.insert(p.author_id);
        self.endorsements += p.endorsements;
        self.by_kind[kind as usize] += 1;
        let g = self.groups.entry(group).or_default();
        g.posts += 1;
        g.authors.insert(p.author_id);
        let c = self.countries.entry(country).or_default();
        c.posts += 1;
        c.authors.insert(p.author_id);
        let l = self.languages.entry(language).or_default();
        l.posts += 1;
        l.authors.insert(p.author_id);
        let day = hub_store::from_micros(p.created_at).date_naive();
        let iso = day.iso_week();
        let w = self.weeks.entry((iso.year(), iso.week())).or_default();
        w.posts += 1;
        w.by_kind[kind as usize] += 1;
        w.authors.insert(p.author_id);
        let mut clusters = [false; 4];
        for o in objective_ids(objectives) {
            let Ok(i) = usize::try_from(o) else { continue };
            let t = &mut self.objectives[i];
            t.posts += 1;
            t.endorsements += p.endorsements;
            t.recommendations += i64::from(kind == 1);
            t.authors.insert(p.author_id);
            t.groups.insert(group);
            if country != NONE {
                t.countries.insert(country);
            }
            self.objective_quotes[i].push(p.endorsements, p.id);
            if let Some(ob) = objective(o) {
                clusters[usize::from(ob.cluster.saturating_sub(1)).min(3)] = true;
            }
        }
        for (i, hit) in clusters.iter().enumerate() {
            if *hit {
                self.clusters[i].0 += 1;
                self.clusters[i].1 += p.endorsements;
            }
        }
        for (i, a) in ASPECTS.iter().enumerate() {
            if aspects & aspect_bit(*a) != 0 {
                let entry = &mut self.aspects[i];
                entry.0 += 1;
                for o in objective_ids(objectives) {
                    if let Ok(o) = usize::try_from(o) {
                        entry.1[o] += 1;
                    }
                }
                entry.2.push(p.endorsements, p.id);
            }
        }
        if objectives == 0 {
            self.emerging.0 += 1;
            self.emerging.1.push(p.endorsements, p.id);
        }
        if kind == 1 {
            self.recommendations.push(self.rows.len());
        }
        self.rows.push(row);
    }

    fn row(&self, id: i64) -> Option<&Row> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .and_then(|i| self.rows.get(i))
    }

    fn opt(&self, i: u32) -> Option<String> {
        (i != NONE).then(|| self.strings.name(i).to_string())
    }

    fn quote(&self, id: i64, texts: &HashMap<i64, SnapshotText>) -> Option<Quote> {
        let r = self.row(id)?;
        let t = texts.get(&id)?;
        let language = self.strings.name(r.language).to_string();
        Some(Quote {
            post_id: r.id,
            thread_id: r.thread_id,
            link: format!("/api/v1/posts/{}", r.id),
            kind: kind_str(r.kind).into(),
            excerpt: excerpt(&t.body),
            dir: dir_of(&text::base_language(Some(&language))).into(),
            language,
            stakeholder_group: group_str(r.group).into(),
            country: self.opt(r.country),
            organisation: self.opt(r.organisation),
            endorsements: r.endorsements,
        })
    }

    fn contribution(&self, r: &Row) -> Contribution {
        Contribution {
            id: r.id,
            thread_id: r.thread_id,
            link: format!("/api/v1/posts/{}", r.id),
            kind: kind_str(r.kind).into(),
            objectives: objective_ids(r.objectives),
            aspects: ASPECTS_ORDERED
                .iter()
                .filter(|a| r.aspects & aspect_bit(**a) != 0)
                .map(|a| a.as_str().to_string())
                .collect(),
            stakeholder_group: group_str(r.group).into(),
            country: self.opt(r.country),
            organisation: self.opt(r.organisation),
            language: self.strings.name(r.language).to_string(),
            created_at: rfc3339(r.created_at),
            endorsements: r.endorsements,
        }
    }
}

/// Aspects in their vocabulary order (as posts list them).
const ASPECTS_ORDERED: [Aspect; 5] = [
    Aspect::Priority,
    Aspect::Progress,
    Aspect::Gap,
    Aspect::Practice,
    Aspect::Collaboration,
];

fn breakdown(m: impl IntoIterator<Item = (String, i64, i64)>) -> Vec<Breakdown> {
    let mut v: Vec<Breakdown> = m
        .into_iter()
        .map(|(key, posts, authors)| Breakdown {
            key,
            posts,
            authors,
        })
        .collect();
    v.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.key.cmp(&b.key)));
    v
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

/// The term counts of the texts read so far: per prominent objective (index in the prominent
/// list) and, last, the posts with no objective (emerging issues); document frequencies over
/// every text; the stems and forms their ids stand for.
#[derive(Debug, Default)]
struct TextTotals {
    groups: Vec<TermCounts>,
    corpus: Corpus,
    vocab: text::Vocab,
    /// Background texts counted.
    background: i64,
}

impl TextTotals {
    /// Adds `other`'s counts: with `shared_ids`, counted against the same vocabulary (the
    /// background pass, whose workers share the region's); else against `other.vocab`.
    fn merge(&mut self, other: TextTotals, shared_ids: bool) {
        if shared_ids {
            self.corpus.absorb_same(&other.corpus);
            self.background += other.background;
            return;
        }
        let (stems, forms) = self.vocab.absorb(&other.vocab);
        if self.groups.len() < other.groups.len() {
            self.groups
                .resize(other.groups.len(), TermCounts::default());
        }
        for (mine, theirs) in self.groups.iter_mut().zip(&other.groups) {
            mine.absorb(theirs, &stems, &forms);
        }
        self.corpus.absorb(&other.corpus, &stems);
        self.background += other.background;
    }
}

/// Text workers: threads that segment and stem texts and sum their term counts, fed batches
/// through one queue (whichever thread is free takes the next batch). One per core (at most
/// four): a machine whose every core is busy, even with idle-priority work, answers its
/// requests later (measured on a 2-core virtual machine: a commit's p99 tripled with two
/// idle-priority spinners, see the README), but the workers give way to the process's work in
/// flight (they sleep while it runs; see [`Pacer`]), so they need not leave a core idle for
/// it, and the region's texts are counted a fifth faster than on one thread fewer. Each keeps
/// its own counts and vocabulary, merged at the end; nothing a document shows depends on the
/// ids or on which thread counted what.
struct TextWorkers {
    tx: tokio::sync::mpsc::Sender<Vec<SnapshotText>>,
    done: Vec<tokio::sync::oneshot::Receiver<TextTotals>>,
    /// The workers' ids are the same (the background pass).
    shared_ids: bool,
}

/// What the text workers count.
#[derive(Clone)]
enum TextPass {
    /// The region's texts: every stem is interned; per prominent objective and emerging.
    Region { prominent: Arc<Vec<i64>> },
    /// The background sample: only document frequencies of the region's stems.
    Background { vocab: Arc<text::Vocab> },
}

fn text_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

impl TextWorkers {
    fn start(analyzer: Arc<Analyzer>, pass: TextPass, threads: usize, pacer: &Pacer) -> Self {
        let shared_ids = matches!(pass, TextPass::Background { .. });
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<SnapshotText>>(2 * threads);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut done = Vec::with_capacity(threads);
        for i in 0..threads {
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let (analyzer, pass, rx) = (analyzer.clone(), pass.clone(), rx.clone());
            let mut pacer = pacer.fresh();
            let spawned = std::thread::Builder::new()
                .name(format!("analysis-text-{i}"))
                .spawn(move || {
                    idle_priority();
                    let _ = done_tx.send(count_texts(&analyzer, &pass, &rx, &mut pacer));
                });
            match spawned {
                Ok(_) => done.push(done_rx),
                Err(e) => tracing::error!(error = %e, "cannot start an analysis text thread"),
            }
        }
        Self {
            tx,
            done,
            shared_ids,
        }
    }

    async fn finish(self) -> Result<TextTotals, BuildError> {
        drop(self.tx);
        let mut totals: Option<TextTotals> = None;
        for d in self.done {
            let part = d
                .await
                .map_err(|_| BuildError::Worker("a text thread stopped".into()))?;
            match totals.as_mut() {
                None => totals = Some(part),
                Some(t) => t.merge(part, self.shared_ids),
            }
        }
        totals.ok_or_else(|| BuildError::Worker("no text thread could start".into()))
    }
}

/// One text worker's loop: takes batches until the queue is closed and empty.
fn count_texts(
    analyzer: &Analyzer,
    pass: &TextPass,
    rx: &std::sync::Mutex<tokio::sync::mpsc::Receiver<Vec<SnapshotText>>>,
    pacer: &mut Pacer,
) -> TextTotals {
    let mut totals = TextTotals::default();
    if let TextPass::Region { prominent } = pass {
        totals.groups = vec![TermCounts::default(); prominent.len() + 1];
    }
    let mut terms = Vec::new();
    let mut distinct: Vec<u32> = Vec::new();
    let mut words = text::WordCache::default();
    loop {
        // The lock is held only while waiting for the next batch, never while counting.
        let batch = match rx.lock() {
            Ok(mut rx) => rx.blocking_recv(),
            Err(_) => None,
        };
        let Some(batch) = batch else { break };
        for t in batch {
            pacer.pause();
            let lang = text::base_language(t.language.as_deref());
            let plain = text::words_of_markdown(&t.body);
            match pass {
                TextPass::Region { .. } => {
                    analyzer.term_ids(&plain, &lang, &mut totals.vocab, &mut words, &mut terms);
                }
                TextPass::Background { vocab } => {
                    analyzer.known_term_ids(&plain, &lang, vocab, &mut words, &mut terms);
                }
            }
            distinct.clear();
            distinct.extend(terms.iter().map(|t| t.0));
            distinct.sort_unstable();
            distinct.dedup();
            match pass {
                TextPass::Region { prominent } => {
                    for (i, o) in prominent.iter().enumerate() {
                        if t.objectives.contains(o) {
                            totals.groups[i].add(&terms, &distinct);
                        }
                    }
                    if t.objectives.is_empty() {
                        if let Some(g) = totals.groups.last_mut() {
                            g.add(&terms, &distinct);
                        }
                    }
                }
                TextPass::Background { .. } => totals.background += 1,
            }
            totals.corpus.add(&distinct);
        }
    }
    totals
}

const BATCH: usize = 1_000;

/// Builds the document of `subject` from `snap`, writing its gzip'd JSON.
pub async fn build(
    mut snap: Snapshot,
    subject: &Subject,
    previous: Option<&Previous>,
    params: &Params,
    analyzer: Arc<Analyzer>,
) -> Result<Built, BuildError> {
    let quote_pool = 20;
    snap.set_count_range(params.count_range);
    let mut c = Counts::new(quote_pool);
    snap.posts(|p| {
        c.push(p);
        Ok(())
    })
    .await?;
    tracing::debug!(
        posts = c.rows.len(),
        gave_way_ms = snap.paused().as_millis(),
        "analysis: posts read"
    );
    let excluded_rows = snap.excluded().await?;
    let rec_groups = snap.recommendation_endorsements().await?;

    // Objectives ranked: contributions, then endorsements, then id.
    let mut ranked: Vec<i64> = (1..=23).collect();
    ranked.sort_by(|a, b| {
        let (ta, tb) = (&c.objectives[*a as usize], &c.objectives[*b as usize]);
        tb.posts
            .cmp(&ta.posts)
            .then(tb.endorsements.cmp(&ta.endorsements))
            .then(a.cmp(b))
    });
    let prominent: Vec<i64> = ranked
        .iter()
        .copied()
        .filter(|o| c.objectives[*o as usize].posts > 0)
        .take(params.prominent)
        .collect();

    // Key terms: the region's texts, then the background sample, on the text workers.
    let workers = TextWorkers::start(
        analyzer.clone(),
        TextPass::Region {
            prominent: Arc::new(prominent.clone()),
        },
        text_threads(),
        &snap.pacer(),
    );
    snap.texts(
        BATCH,
        Some(&prominent),
        |t| t.objectives.is_empty() || t.objectives.iter().any(|o| prominent.contains(o)),
        &workers.tx,
    )
    .await?;
    let mut totals_text = workers.finish().await?;
    tracing::debug!("analysis: region texts read");
    // The background counts only the region's stems, so it starts once they are all known.
    let vocab = Arc::new(std::mem::take(&mut totals_text.vocab));
    let workers = TextWorkers::start(
        analyzer.clone(),
        TextPass::Background {
            vocab: vocab.clone(),
        },
        text_threads(),
        &snap.pacer(),
    );
    let (_, step) = snap.background_step(params.background).await?;
    snap.background(step, BATCH, &workers.tx).await?;
    let background = workers.finish().await?;
    totals_text.vocab = Arc::try_unwrap(vocab).unwrap_or_else(|shared| (*shared).clone());
    totals_text.corpus.absorb_same(&background.corpus);
    totals_text.background = background.background;
    tracing::debug!("analysis: background read, texts analysed");

    // Recommendations: consensus over endorsers' groups (the author's group counts one).
    let mut by_post: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for (post, group, n) in rec_groups {
        by_post.entry(post).or_default().insert(group, n);
    }
    let consensus_of = |groups: &BTreeMap<String, i64>, author_group: &str| -> (i64, f64) {
        let mut support = groups.clone();
        *support.entry(author_group.to_string()).or_default() += 0;
        let breadth = support
            .iter()
            .filter(|(g, n)| **n > 0 || g.as_str() == author_group)
            .count();
        let score: f64 = support
            .iter()
            .map(|(g, n)| {
                let n = *n + i64::from(g.as_str() == author_group);
                (1.0 + n as f64).ln()
            })
            .sum();
        (i64::try_from(breadth).unwrap_or(0), text::round4(score))
    };
    let mut recs: Vec<(f64, i64, i64)> = c
        .recommendations
        .iter()
        .filter_map(|&i| c.rows.get(i))
        .map(|r| {
            let empty = BTreeMap::new();
            let g = by_post.get(&r.id).unwrap_or(&empty);
            let (_, score) = consensus_of(g, group_str(r.group));
            (score, r.endorsements, r.id)
        })
        .collect();
    recs.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let rec_pool: Vec<i64> = recs.iter().take(200).map(|r| r.2).collect();

    // The texts to quote.
    let mut wanted: BTreeSet<i64> = rec_pool.iter().copied().collect();
    for o in &prominent {
        wanted.extend(c.objective_quotes[*o as usize].ids());
    }
    for a in &c.aspects {
        wanted.extend(a.2.ids());
    }
    wanted.extend(c.emerging.1.ids());
    let wanted: Vec<i64> = wanted.into_iter().collect();
    let texts: HashMap<i64, SnapshotText> = snap
        .texts_of(&wanted)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let cutoff_seq = snap.head_seq();
    let mut pacer = snap.pacer();
    let gave_way = snap.paused();
    snap.finish().await?;
    tracing::debug!(
        reading_gave_way_ms = gave_way.as_millis(),
        "analysis: snapshot closed"
    );

    // The rest is CPU work on what was read (quotes, key terms, the JSON and its compression),
    // on the build's own thread (see `job.rs`), like everything above.
    (|| -> Result<Built, BuildError> {
        let mut terms_of: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for (id, t) in &texts {
            pacer.pause();
            let mut v = Vec::new();
            let lang = text::base_language(t.language.as_deref());
            analyzer.terms(&hub_domain::markup::plain_text(&t.body), &lang, &mut v);
            terms_of.insert(*id, v);
        }

        // Picks quotes from candidates: key-term coverage plus support, one per stakeholder group
        // while other groups remain.
        let pick = |candidates: &[i64], keys: &[text::Scored]| -> Vec<Quote> {
            let key_weight: HashMap<&str, f64> =
                keys.iter().map(|k| (k.stem.as_str(), k.score)).collect();
            let mut scored: Vec<(f64, i64)> = candidates
                .iter()
                .filter(|id| texts.contains_key(id))
                .map(|id| {
                    let coverage: f64 = terms_of
                        .get(id)
                        .map(|t| {
                            let stems: HashSet<&str> = t.iter().map(|(s, _)| s.as_str()).collect();
                            stems.iter().filter_map(|s| key_weight.get(s)).sum()
                        })
                        .unwrap_or(0.0);
                    let support = c.row(*id).map_or(0, |r| r.endorsements);
                    (
                        text::round4(coverage + 5.0 * (1.0 + support as f64).ln()),
                        *id,
                    )
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut out: Vec<Quote> = Vec::new();
            let mut groups = HashSet::new();
            for pass in 0..2 {
                for (_, id) in &scored {
                    if out.len() >= params.quotes {
                        break;
                    }
                    if out.iter().any(|q| q.post_id == *id) {
                        continue;
                    }
                    let g = c.row(*id).map_or(0, |r| r.group);
                    if pass == 0 && !groups.insert(g) {
                        continue;
                    }
                    if let Some(q) = c.quote(*id, &texts) {
                        out.push(q);
                    }
                }
            }
            out
        };
        let key = |t: &text::Scored| KeyTerm {
            term: t.term.clone(),
            score: t.score,
            posts: i64::try_from(t.posts).unwrap_or(i64::MAX),
        };

        let objectives: Vec<ObjectiveStat> = ranked
            .iter()
            .enumerate()
            .map(|(rank, &o)| {
                let t = &c.objectives[o as usize];
                let prominent_at = prominent.iter().position(|p| *p == o);
                let (key_terms, quotes) = match prominent_at {
                    Some(i) => {
                        let keys = totals_text
                            .groups
                            .get(i)
                            .map(|g| {
                                text::key_terms(
                                    g,
                                    &totals_text.corpus,
                                    &totals_text.vocab,
                                    params.key_terms,
                                )
                            })
                            .unwrap_or_default();
                        let quotes = pick(&c.objective_quotes[o as usize].ids(), &keys);
                        (keys.iter().map(key).collect(), quotes)
                    }
                    None => (Vec::new(), Vec::new()),
                };
                ObjectiveStat {
                    id: o,
                    rank: i64::try_from(rank).unwrap_or(0) + 1,
                    cluster: objective(o).map_or(0, |ob| i64::from(ob.cluster)),
                    posts: t.posts,
                    endorsements: t.endorsements,
                    recommendations: t.recommendations,
                    authors: i64::try_from(t.authors.len()).unwrap_or(0),
                    stakeholder_groups: {
                        let mut v: Vec<String> =
                            t.groups.iter().map(|g| group_str(*g).to_string()).collect();
                        v.sort();
                        v
                    },
                    countries: {
                        let mut v: Vec<String> = t
                            .countries
                            .iter()
                            .map(|x| c.strings.name(*x).to_string())
                            .collect();
                        v.sort();
                        v
                    },
                    prominent: prominent_at.is_some(),
                    key_terms,
                    quotes,
                }
            })
            .collect();

        let clusters: Vec<ClusterStat> = (1..=4)
            .map(|k: i64| ClusterStat {
                id: k,
                objectives: ranked
                    .iter()
                    .copied()
                    .filter(|o| objective(*o).is_some_and(|ob| i64::from(ob.cluster) == k))
                    .collect(),
                posts: c.clusters[(k - 1) as usize].0,
                endorsements: c.clusters[(k - 1) as usize].1,
            })
            .collect();

        let aspects: Vec<AspectSection> = ASPECTS
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let (posts, per_objective, top) = &c.aspects[i];
                let mut objs: Vec<ObjectiveCount> = (1..=23)
                    .filter(|o| per_objective[*o as usize] > 0)
                    .map(|o| ObjectiveCount {
                        id: o,
                        posts: per_objective[o as usize],
                    })
                    .collect();
                objs.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.id.cmp(&b.id)));
                objs.truncate(5);
                AspectSection {
                    aspect: a.as_str().into(),
                    posts: *posts,
                    objectives: objs,
                    quotes: pick(&top.ids(), &[]),
                }
            })
            .collect();

        // Near-duplicates merge into the better-ranked recommendation.
        let mut kept: Vec<(i64, Vec<i64>, HashSet<String>)> = Vec::new();
        for id in &rec_pool {
            let sh = terms_of
                .get(id)
                .map(|t| text::shingles(t))
                .unwrap_or_default();
            match kept
                .iter_mut()
                .find(|(_, _, s)| text::jaccard(s, &sh) >= params.near_duplicate)
            {
                Some(k) => k.1.push(*id),
                None => kept.push((*id, Vec::new(), sh)),
            }
        }
        let mut recommendations: Vec<Recommendation> = kept
            .into_iter()
            .filter_map(|(id, merged, _)| {
                let r = c.row(id)?;
                let mut groups: BTreeMap<String, i64> = BTreeMap::new();
                let mut endorsements = r.endorsements;
                for g in by_post.get(&id).into_iter().flatten() {
                    *groups.entry(g.0.clone()).or_default() += g.1;
                }
                for m in &merged {
                    endorsements += c.row(*m).map_or(0, |x| x.endorsements);
                    for g in by_post.get(m).into_iter().flatten() {
                        *groups.entry(g.0.clone()).or_default() += g.1;
                    }
                }
                let (breadth, consensus) = consensus_of(&groups, group_str(r.group));
                let mut merged = merged;
                merged.sort_unstable();
                Some(Recommendation {
                    rank: 0,
                    quote: c.quote(id, &texts)?,
                    objectives: objective_ids(r.objectives),
                    endorsements,
                    endorsements_by_group: groups,
                    groups: breadth,
                    consensus,
                    merged,
                })
            })
            .collect();
        recommendations.sort_by(|a, b| {
            b.consensus
                .total_cmp(&a.consensus)
                .then(b.endorsements.cmp(&a.endorsements))
                .then(a.quote.post_id.cmp(&b.quote.post_id))
        });
        recommendations.truncate(params.recommendations);
        for (i, r) in recommendations.iter_mut().enumerate() {
            r.rank = i64::try_from(i).unwrap_or(0) + 1;
        }

        let emerging_keys = totals_text
            .groups
            .last()
            .map(|g| text::key_terms(g, &totals_text.corpus, &totals_text.vocab, params.key_terms))
            .unwrap_or_default();
        let emerging = Emerging {
            posts: c.emerging.0,
            key_terms: emerging_keys.iter().map(key).collect(),
            quotes: pick(&c.emerging.1.ids(), &emerging_keys),
        };

        let mut excluded = Excluded::default();
        let mut reasons: BTreeMap<&str, i64> = BTreeMap::new();
        for (status, reason, n) in &excluded_rows {
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

        let (weekly, weekly_earlier) = weeks(&c.weeks, subject.cutoff_at);
        let len = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let totals = Totals {
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
        };
        let mut stemmed: Vec<String> = text::STEMMED.iter().map(|(l, _)| l.to_string()).collect();
        stemmed.push("zh (jieba segmentation)".into());

        let mut doc = Document {
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
            totals: totals.clone(),
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
            excluded,
            objectives,
            clusters,
            aspects,
            recommendations,
            emerging,
            methodology: Methodology {
                prominent_objectives: len(params.prominent),
                key_terms: len(params.key_terms),
                quotes: len(params.quotes),
                recommendations: len(params.recommendations),
                near_duplicate_jaccard: params.near_duplicate,
                background_posts: totals_text.background,
                stemmed_languages: stemmed,
            },
            contributions: Vec::new(),
        };

        // One pass over the contributions, the largest part by far: their JSON goes to the content
        // hash (after the document's head with version, changes, the event head and the hash
        // itself empty) and, compressed, to the second gzip member of the output; the first member,
        // the real head, is written once the hash is known. Readers use a multi-member decoder.
        doc.cutoff_seq = 0;
        let blank_head = json_head(&doc)?;
        doc.cutoff_seq = cutoff_seq;
        doc.version = subject.version;
        let mut ids: Vec<i64> = c.rows.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        // This version as the next one will see it: its changes and its stored summary.
        let now = Previous {
            version: doc.version,
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
        doc.changes = previous.map(|p| changes(p, &now));
        let summary_gz = summary_gz(&now)?;
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
            write_contributions(&mut tee, &c, &mut pacer)?;
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
            summary_gz,
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            content_sha256: doc.content_sha256,
            posts: totals.posts,
            cutoff_seq,
        })
    })()
}

/// How many weeks before the cutoff the week-by-week series covers at most.
const WEEKS_SHOWN: u64 = 26;

/// The weekly series (the last [`WEEKS_SHOWN`] weeks up to the cutoff's, from the first with
/// posts) and the posts of earlier weeks.
fn weeks(m: &BTreeMap<(i32, u32), WeekTally>, cutoff_at: i64) -> (Vec<Week>, i64) {
    let monday = |(y, w): (i32, u32)| NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon);
    let cutoff_day = hub_store::from_micros(cutoff_at).date_naive();
    let cutoff_week = cutoff_day.iso_week();
    let window_start = monday((cutoff_week.year(), cutoff_week.week()))
        .and_then(|d| d.checked_sub_days(chrono::Days::new(7 * (WEEKS_SHOWN - 1))));
    let earlier: i64 = m
        .iter()
        .filter(|(k, _)| match (monday(**k), window_start) {
            (Some(d), Some(s)) => d < s,
            _ => false,
        })
        .map(|(_, t)| t.posts)
        .sum();
    let shown: Vec<&(i32, u32)> = m
        .keys()
        .filter(|k| match (monday(**k), window_start) {
            (Some(d), Some(s)) => d >= s,
            _ => true,
        })
        .collect();
    let (Some(first), Some(last)) = (shown.first(), shown.last()) else {
        return (Vec::new(), earlier);
    };
    let (Some(mut day), Some(end)) = (monday(**first), monday(**last)) else {
        return (Vec::new(), earlier);
    };
    let mut out = Vec::new();
    while day <= end {
        let iso = day.iso_week();
        let t = m.get(&(iso.year(), iso.week()));
        out.push(Week {
            week: format!("{}-W{:02}", iso.year(), iso.week()),
            starts: day.to_string(),
            posts: t.map_or(0, |t| t.posts),
            by_kind: ByKind {
                comment: t.map_or(0, |t| t.by_kind[0]),
                recommendation: t.map_or(0, |t| t.by_kind[1]),
                report: t.map_or(0, |t| t.by_kind[2]),
            },
            authors: t.map_or(0, |t| i64::try_from(t.authors.len()).unwrap_or(0)),
        });
        match day.checked_add_days(chrono::Days::new(7)) {
            Some(d) => day = d,
            None => break,
        }
    }
    (out, earlier)
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
    fn weeks_cover_the_last_half_year_and_count_the_rest() {
        let mut m = BTreeMap::new();
        for (y, w, n) in [(2016, 5, 3), (2026, 40, 2), (2026, 47, 1)] {
            m.insert(
                (y, w),
                WeekTally {
                    posts: n,
                    ..WeekTally::default()
                },
            );
        }
        let cutoff = day_start_micros(NaiveDate::from_ymd_opt(2026, 11, 26).expect("date"));
        let (weeks, earlier) = weeks(&m, cutoff);
        assert_eq!(earlier, 3);
        assert_eq!(weeks.first().map(|w| w.week.as_str()), Some("2026-W40"));
        assert_eq!(weeks.last().map(|w| w.week.as_str()), Some("2026-W47"));
        assert_eq!(weeks.len(), 8);
        assert_eq!(weeks.iter().map(|w| w.posts).sum::<i64>(), 3);
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

    /// Runs both passes of term counting over the same texts with `threads` workers; returns,
    /// by stem, the document frequency over the region and background, and the tf and df of
    /// each group.
    /// Document frequency by stem, and each group's (tf, df) by stem.
    type Counted = (BTreeMap<String, u64>, Vec<BTreeMap<String, (u64, u64)>>);

    fn count_with(threads: usize) -> Counted {
        let analyzer = Arc::new(Analyzer::new());
        let text = |id: i64, body: &str, objectives: Vec<i64>| SnapshotText {
            id,
            body: body.to_string(),
            language: Some("en".into()),
            objectives,
        };
        let region: Vec<Vec<SnapshotText>> = (0..12)
            .map(|b| {
                (0..5)
                    .map(|i| {
                        let id = b * 10 + i;
                        let body = match id % 4 {
                            0 => "Migrant workers need decent work and fair recruitment.",
                            1 => "Health care and justice for workers on the move.",
                            2 => "Remittance fees fell; families receive more.",
                            _ => "Fair recruitment without fees, decent work for all workers.",
                        };
                        text(id, body, if id % 3 == 0 { vec![] } else { vec![6] })
                    })
                    .collect()
            })
            .collect();
        let background: Vec<Vec<SnapshotText>> = (0..9)
            .map(|b| {
                (0..4)
                    .map(|i| {
                        text(
                            1000 + b * 10 + i,
                            "Workers and families; remittance costs.",
                            vec![],
                        )
                    })
                    .collect()
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let w = TextWorkers::start(
                analyzer.clone(),
                TextPass::Region {
                    prominent: Arc::new(vec![6]),
                },
                threads,
                &Arc::new(hub_store::activity::Activity::default()).pacer(),
            );
            for b in region {
                w.tx.send(b).await.expect("send");
            }
            let mut totals = w.finish().await.expect("region");
            let vocab = Arc::new(std::mem::take(&mut totals.vocab));
            let w = TextWorkers::start(
                analyzer.clone(),
                TextPass::Background {
                    vocab: vocab.clone(),
                },
                threads,
                &Arc::new(hub_store::activity::Activity::default()).pacer(),
            );
            for b in background {
                w.tx.send(b).await.expect("send");
            }
            let bg = w.finish().await.expect("background");
            assert_eq!(bg.background, 36);
            totals.corpus.absorb_same(&bg.corpus);
            let df = (0..totals.corpus.df.len())
                .map(|i| (vocab.stem(i as u32).to_string(), totals.corpus.df[i]))
                .collect();
            let groups = totals
                .groups
                .iter()
                .map(|g| {
                    g.tf.iter()
                        .map(|(s, tf)| {
                            let df = g.df.get(s).copied().unwrap_or(0);
                            (vocab.stem(*s).to_string(), (*tf, df))
                        })
                        .collect()
                })
                .collect();
            (df, groups)
        })
    }

    #[test]
    fn several_text_workers_count_as_one_does_in_both_passes() {
        let one = count_with(1);
        let three = count_with(3);
        assert_eq!(one, three);
        // The background was counted: "remittance" is in 18 region texts and 36 background ones.
        assert_eq!(one.0.get("remitt"), Some(&54), "{:?}", one.0);
        assert_eq!(one.1.len(), 2, "the objective's group and emerging");
    }

    #[test]
    fn top_k_keeps_the_best_by_score_then_id() {
        let mut t = TopK::new(2);
        for (s, id) in [(1, 10), (5, 11), (5, 9), (3, 12)] {
            t.push(s, id);
        }
        assert_eq!(t.ids(), vec![9, 11]);
    }
}
