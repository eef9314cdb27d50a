//! The ranking and the sections: objectives ranked (before the texts, which need the
//! prominent ones), recommendations ranked by consensus, the quoted texts read (the
//! snapshot's last read), and the sections made of the counts, the key terms and the quotes.

use super::counts::{group_str, objective_ids, Counts, ASPECTS};
use super::texts::TextTotals;
use super::{BuildError, Params};
use crate::model::*;
use crate::text::{self, Analyzer};
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use hub_domain::objectives::objective;
use hub_store::activity::Pacer;
use hub_store::analysis::{Snapshot, SnapshotText};
use std::collections::{BTreeMap, BTreeSet};

/// Recommendations whose texts are read and compared for near-duplicates.
const RECOMMENDATION_POOL: usize = 200;

/// The objectives in order.
pub(super) struct Ranking {
    /// All 23: contributions, then endorsements, then id.
    pub(super) ranked: Vec<i64>,
    /// The first [`Params::prominent`] with contributions, analysed in depth.
    pub(super) prominent: Vec<i64>,
}

/// Ranks the objectives: contributions, then endorsements, then id.
pub(super) fn rank_objectives(c: &Counts, params: &Params) -> Ranking {
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
    Ranking { ranked, prominent }
}

/// The recommendations' support, ranked.
pub(super) struct Consensus {
    /// Endorsements by stakeholder group, per recommendation.
    pub(super) by_post: HashMap<i64, BTreeMap<String, i64>>,
    /// The best-ranked recommendations' ids, best first: those quoted and compared.
    pub(super) pool: Vec<i64>,
}

/// Group-informed consensus: the groups that support a recommendation (the author's counts
/// one) and the sum over groups of ln(1 + endorsements).
fn consensus(groups: &BTreeMap<String, i64>, author_group: &str) -> (i64, f64) {
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
}

/// Ranks the recommendations by consensus over their endorsers' groups, then endorsements,
/// then id, and keeps the pool of the best.
pub(super) fn rank_recommendations(c: &Counts, by_group: Vec<(i64, String, i64)>) -> Consensus {
    let mut by_post: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for (post, group, n) in by_group {
        by_post.entry(post).or_default().insert(group, n);
    }
    let mut recs: Vec<(f64, i64, i64)> = c
        .recommendations
        .iter()
        .filter_map(|&i| c.rows.get(i))
        .map(|r| {
            let empty = BTreeMap::new();
            let g = by_post.get(&r.id).unwrap_or(&empty);
            let (_, score) = consensus(g, group_str(r.group));
            (score, r.endorsements, r.id)
        })
        .collect();
    recs.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let pool = recs.iter().take(RECOMMENDATION_POOL).map(|r| r.2).collect();
    Consensus { by_post, pool }
}

/// What the snapshot's last read gives.
pub(super) struct Quoted {
    /// The texts that may be quoted, by post id.
    pub(super) texts: HashMap<i64, SnapshotText>,
    /// The event head the snapshot saw.
    pub(super) cutoff_seq: i64,
    /// Paces the CPU work that follows, as the reads were.
    pub(super) pacer: Pacer,
}

/// Reads the texts that may be quoted (the candidates of every section and the recommendation
/// pool), then closes the snapshot.
pub(super) async fn read_quotes(
    mut snap: Snapshot,
    c: &Counts,
    ranking: &Ranking,
    consensus: &Consensus,
) -> Result<Quoted, BuildError> {
    let mut wanted: BTreeSet<i64> = consensus.pool.iter().copied().collect();
    for o in &ranking.prominent {
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
    let pacer = snap.pacer();
    let gave_way = snap.paused();
    snap.finish().await?;
    tracing::debug!(
        reading_gave_way_ms = gave_way.as_millis(),
        "analysis: snapshot closed"
    );
    Ok(Quoted {
        texts,
        cutoff_seq,
        pacer,
    })
}

/// Picks quotes among the texts read: their terms, the posts' rows, how many to pick.
pub(super) struct Quoter<'a> {
    texts: &'a HashMap<i64, SnapshotText>,
    terms_of: HashMap<i64, Vec<(String, String)>>,
    c: &'a Counts,
    quotes: usize,
}

impl<'a> Quoter<'a> {
    /// Finds the terms (stem, form) of every text read, pausing between texts.
    pub(super) fn new(
        texts: &'a HashMap<i64, SnapshotText>,
        c: &'a Counts,
        analyzer: &Analyzer,
        params: &Params,
        pacer: &mut Pacer,
    ) -> Self {
        let mut terms_of: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for (id, t) in texts {
            pacer.pause();
            let mut v = Vec::new();
            let lang = text::base_language(t.language.as_deref());
            analyzer.terms(&hub_domain::markup::plain_text(&t.body), &lang, &mut v);
            terms_of.insert(*id, v);
        }
        Self {
            texts,
            terms_of,
            c,
            quotes: params.quotes,
        }
    }

    /// Picks quotes from candidates: key-term coverage plus support, one per stakeholder group
    /// while other groups remain.
    fn pick(&self, candidates: &[i64], keys: &[text::Scored]) -> Vec<Quote> {
        let (texts, c) = (self.texts, self.c);
        let key_weight: HashMap<&str, f64> =
            keys.iter().map(|k| (k.stem.as_str(), k.score)).collect();
        let mut scored: Vec<(f64, i64)> = candidates
            .iter()
            .filter(|id| texts.contains_key(id))
            .map(|id| {
                let coverage: f64 = self
                    .terms_of
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
                if out.len() >= self.quotes {
                    break;
                }
                if out.iter().any(|q| q.post_id == *id) {
                    continue;
                }
                let g = c.row(*id).map_or(0, |r| r.group);
                if pass == 0 && !groups.insert(g) {
                    continue;
                }
                if let Some(q) = c.quote(*id, texts) {
                    out.push(q);
                }
            }
        }
        out
    }
}

fn key_term(t: &text::Scored) -> KeyTerm {
    KeyTerm {
        term: t.term.clone(),
        score: t.score,
        posts: i64::try_from(t.posts).unwrap_or(i64::MAX),
    }
}

/// The key terms of one group of the texts (a prominent objective's, or the emerging issues').
fn key_terms(terms: &TextTotals, group: Option<&text::TermCounts>, n: usize) -> Vec<text::Scored> {
    group
        .map(|g| text::key_terms(g, &terms.corpus, &terms.vocab, n))
        .unwrap_or_default()
}

/// The sections made of what was counted, the key terms and the quotes.
pub(super) struct Sections {
    pub(super) objectives: Vec<ObjectiveStat>,
    pub(super) clusters: Vec<ClusterStat>,
    pub(super) aspects: Vec<AspectSection>,
    pub(super) recommendations: Vec<Recommendation>,
    pub(super) emerging: Emerging,
}

/// Makes the sections (CPU work only: the snapshot is closed).
pub(super) fn sections(
    q: &Quoter<'_>,
    ranking: &Ranking,
    consensus: &Consensus,
    terms: &TextTotals,
    params: &Params,
) -> Sections {
    let emerging_keys = key_terms(terms, terms.groups.last(), params.key_terms);
    Sections {
        objectives: objectives(q, ranking, terms, params),
        clusters: clusters(q.c, &ranking.ranked),
        aspects: aspects(q),
        recommendations: recommendations(q, consensus, params),
        emerging: Emerging {
            posts: q.c.emerging.0,
            key_terms: emerging_keys.iter().map(key_term).collect(),
            quotes: q.pick(&q.c.emerging.1.ids(), &emerging_keys),
        },
    }
}

/// The 23 objectives in rank order, the prominent ones with key terms and quotes.
fn objectives(
    q: &Quoter<'_>,
    ranking: &Ranking,
    terms: &TextTotals,
    params: &Params,
) -> Vec<ObjectiveStat> {
    let c = q.c;
    ranking
        .ranked
        .iter()
        .enumerate()
        .map(|(rank, &o)| {
            let t = &c.objectives[o as usize];
            let prominent_at = ranking.prominent.iter().position(|p| *p == o);
            let (key_terms, quotes) = match prominent_at {
                Some(i) => {
                    let keys = key_terms(terms, terms.groups.get(i), params.key_terms);
                    let quotes = q.pick(&c.objective_quotes[o as usize].ids(), &keys);
                    (keys.iter().map(key_term).collect(), quotes)
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
        .collect()
}

/// The four round-table clusters, their objectives in rank order.
fn clusters(c: &Counts, ranked: &[i64]) -> Vec<ClusterStat> {
    (1..=4)
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
        .collect()
}

/// Progress, gaps, practices, collaboration and priorities: counts, the objectives most
/// tagged, quotes.
fn aspects(q: &Quoter<'_>) -> Vec<AspectSection> {
    ASPECTS
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (posts, per_objective, top) = &q.c.aspects[i];
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
                quotes: q.pick(&top.ids(), &[]),
            }
        })
        .collect()
}

/// The recommendations listed: near-duplicates merged into the better-ranked one, their
/// support added, ranked again by consensus.
fn recommendations(
    q: &Quoter<'_>,
    consensus_of: &Consensus,
    params: &Params,
) -> Vec<Recommendation> {
    let (c, by_post) = (q.c, &consensus_of.by_post);
    let mut kept: Vec<(i64, Vec<i64>, HashSet<String>)> = Vec::new();
    for id in &consensus_of.pool {
        let sh = q
            .terms_of
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
            let (breadth, consensus) = consensus(&groups, group_str(r.group));
            let mut merged = merged;
            merged.sort_unstable();
            Some(Recommendation {
                rank: 0,
                quote: c.quote(id, q.texts)?,
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
    recommendations
}
