//! The snapshot's first pass: the counted posts, streamed once into compact rows and running
//! counts (about 60 bytes a post), and the counts the database groups (posts kept out, the
//! endorsements of recommendations by group).

use super::{excerpt, BuildError};
use crate::model::{Breakdown, ByKind, Contribution, Quote, Week};
use crate::text::{self, Interner};
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use chrono::{Datelike, NaiveDate};
use hub_domain::objectives::objective;
use hub_domain::{Aspect, PostKind, StakeholderGroup};
use hub_store::analysis::{Snapshot, SnapshotPost, SnapshotText};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Candidates kept per section for the quotes (the best by endorsements, then id).
const QUOTE_POOL: usize = 20;

/// What the first pass gives the rest of the build.
pub(super) struct Counted {
    /// The counted posts and their running counts.
    pub(super) c: Counts,
    /// Posts kept out by moderation: (status, moderator's reason, posts).
    pub(super) excluded: Vec<(String, Option<String>, i64)>,
    /// Endorsements of recommendations by group: (post, stakeholder group, endorsements).
    pub(super) recommendation_groups: Vec<(i64, String, i64)>,
}

/// Phase one, the snapshot's posts: streams the counted posts (through cursors on
/// PostgreSQL, pausing for the process's work between rows) into [`Counts`], then runs the
/// grouped counts by ranges of post ids.
pub(super) async fn read(snap: &mut Snapshot) -> Result<Counted, BuildError> {
    let mut c = Counts::new(QUOTE_POOL);
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
    let excluded = snap.excluded().await?;
    let recommendation_groups = snap.recommendation_endorsements().await?;
    Ok(Counted {
        c,
        excluded,
        recommendation_groups,
    })
}

pub(super) const NONE: u32 = u32::MAX;

/// One counted post, compactly.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) thread_id: i64,
    pub(super) created_at: i64,
    pub(super) endorsements: i64,
    pub(super) objectives: u32,
    pub(super) aspects: u8,
    pub(super) kind: u8,
    pub(super) group: u8,
    pub(super) country: u32,
    pub(super) language: u32,
    pub(super) organisation: u32,
}

fn kind_code(k: PostKind) -> u8 {
    match k {
        PostKind::Comment => 0,
        PostKind::Recommendation => 1,
        PostKind::Report => 2,
    }
}

pub(super) fn kind_str(k: u8) -> &'static str {
    match k {
        1 => "recommendation",
        2 => "report",
        _ => "comment",
    }
}

pub(super) fn aspect_bit(a: Aspect) -> u8 {
    match a {
        Aspect::Priority => 1,
        Aspect::Progress => 2,
        Aspect::Gap => 4,
        Aspect::Practice => 8,
        Aspect::Collaboration => 16,
    }
}

pub(super) const ASPECTS: [Aspect; 5] = [
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

pub(super) fn group_str(g: u8) -> &'static str {
    StakeholderGroup::ALL
        .get(g as usize)
        .map_or("other", |g| g.as_str())
}

pub(super) fn objective_ids(mask: u32) -> Vec<i64> {
    (1..=23).filter(|o| mask & (1 << o) != 0).collect()
}

/// Right-to-left scripts, by primary language subtag.
pub(super) fn dir_of(lang: &str) -> &'static str {
    match lang {
        "ar" | "he" | "fa" | "ur" | "ps" | "yi" | "dv" | "ku" => "rtl",
        _ => "ltr",
    }
}

pub(super) fn rfc3339(micros: i64) -> String {
    hub_store::from_micros(micros)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[derive(Debug)]
pub(super) struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<(i64, Reverse<i64>)>>,
}

impl TopK {
    pub(super) fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::new(),
        }
    }
    pub(super) fn push(&mut self, score: i64, id: i64) {
        self.heap.push(Reverse((score, Reverse(id))));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }
    pub(super) fn ids(&self) -> Vec<i64> {
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
pub(super) struct Tally {
    pub(super) posts: i64,
    pub(super) authors: HashSet<i64>,
}

#[derive(Debug, Default)]
pub(super) struct ObjectiveTally {
    pub(super) posts: i64,
    pub(super) endorsements: i64,
    pub(super) recommendations: i64,
    pub(super) authors: HashSet<i64>,
    pub(super) groups: BTreeSet<u8>,
    pub(super) countries: BTreeSet<u32>,
}

#[derive(Debug, Default)]
pub(super) struct WeekTally {
    pub(super) posts: i64,
    pub(super) by_kind: [i64; 3],
    pub(super) authors: HashSet<i64>,
}

/// Running counts of pass one.
pub(super) struct Counts {
    pub(super) rows: Vec<Row>,
    /// Countries, languages and organisations, interned so each row stays small.
    pub(super) strings: Interner,
    pub(super) threads: HashSet<i64>,
    pub(super) authors: HashSet<i64>,
    pub(super) organisations: HashSet<String>,
    pub(super) endorsements: i64,
    pub(super) by_kind: [i64; 3],
    pub(super) groups: BTreeMap<u8, Tally>,
    pub(super) countries: HashMap<u32, Tally>,
    pub(super) languages: HashMap<u32, Tally>,
    pub(super) weeks: BTreeMap<(i32, u32), WeekTally>,
    pub(super) objectives: Vec<ObjectiveTally>,
    pub(super) clusters: [(i64, i64); 4],
    pub(super) aspects: Vec<(i64, [i64; 24], TopK)>,
    pub(super) objective_quotes: Vec<TopK>,
    pub(super) emerging: (i64, TopK),
    pub(super) recommendations: Vec<usize>,
}

impl Counts {
    pub(super) fn new(quote_pool: usize) -> Self {
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

    pub(super) fn push(&mut self, p: SnapshotPost) {
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

    pub(super) fn row(&self, id: i64) -> Option<&Row> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .and_then(|i| self.rows.get(i))
    }

    pub(super) fn opt(&self, i: u32) -> Option<String> {
        (i != NONE).then(|| self.strings.name(i).to_string())
    }

    pub(super) fn quote(&self, id: i64, texts: &HashMap<i64, SnapshotText>) -> Option<Quote> {
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

    pub(super) fn contribution(&self, r: &Row) -> Contribution {
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
pub(super) const ASPECTS_ORDERED: [Aspect; 5] = [
    Aspect::Priority,
    Aspect::Progress,
    Aspect::Gap,
    Aspect::Practice,
    Aspect::Collaboration,
];

pub(super) fn breakdown(m: impl IntoIterator<Item = (String, i64, i64)>) -> Vec<Breakdown> {
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

/// How many weeks before the cutoff the week-by-week series covers at most.
const WEEKS_SHOWN: u64 = 26;

/// The weekly series (the last [`WEEKS_SHOWN`] weeks up to the cutoff's, from the first with
/// posts) and the posts of earlier weeks.
pub(super) fn weeks(m: &BTreeMap<(i32, u32), WeekTally>, cutoff_at: i64) -> (Vec<Week>, i64) {
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

#[cfg(test)]
mod tests {
    use super::super::day_start_micros;
    use super::*;

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
    fn top_k_keeps_the_best_by_score_then_id() {
        let mut t = TopK::new(2);
        for (s, id) in [(1, 10), (5, 11), (5, 9), (3, 12)] {
            t.push(s, id);
        }
        assert_eq!(t.ids(), vec![9, 11]);
    }
}
