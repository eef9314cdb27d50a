//! The analysis document: every figure and quote of one region's synthesis, as data.
//!
//! This is the canonical form. It is serialised to JSON once per build (the bytes are what
//! is kept and what `document.json` serves) and the HTML, Markdown and CSV downloads are
//! rendered from it, with labels in the language asked for. Codes (`kind`, `stakeholder_group`,
//! `aspect`, objective ids, ISO country codes, language tags) stay codes here; renderers turn
//! them into labels.
//!
//! Determinism: every list has a total order (ties broken by id or code), maps are
//! `BTreeMap`s and scores are rounded, so the same snapshot gives byte-identical JSON.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Identifies this layout of the JSON document.
pub const SCHEMA: &str = "gcm-hub/analysis/v1";

/// One region's analysis document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AnalysisDocument)]
pub struct Document {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Region slug (`europe`, `asia-pacific`, ...).
    pub region: String,
    /// The regional space: name, commission, working languages.
    pub space: RegionInfo,
    /// The review this document prepares, when the calendar knows it.
    pub review: Option<ReviewInfo>,
    /// What was read: posts created at or before this time (RFC 3339, UTC, to the second)...
    pub cutoff: String,
    /// ... as the database stood at this event `seq` (the last one the snapshot saw).
    pub cutoff_seq: i64,
    /// 1 for the region's first document, then 2, 3, ...
    pub version: i64,
    /// SHA-256 (hex) of this document with `version`, `changes`, `cutoff_seq` and this field
    /// emptied: equal for two builds of the same posts and cutoff.
    pub content_sha256: String,
    /// What changed since the previous version (absent for version 1).
    pub changes: Option<Changes>,
    /// Licence of the data quoted and counted.
    pub licence: String,
    /// Sources of imported contributions and their attribution (for example Pol.is exports).
    pub sources: Vec<String>,
    /// Headline counts.
    pub totals: Totals,
    /// Posts by kind.
    pub by_kind: ByKind,
    /// Posts and authors by stakeholder group (code), largest first.
    pub stakeholder_groups: Vec<Breakdown>,
    /// Posts and authors by country (ISO 3166-1 alpha-2; `unknown` when not given), largest first.
    pub countries: Vec<Breakdown>,
    /// Posts and authors by language tag (`und` when unknown), largest first.
    pub languages: Vec<Breakdown>,
    /// Posts per ISO week (Monday start, UTC), oldest first, with no missing week between the
    /// first and last: the weeks of the last 26 up to the cutoff that have posts or follow one.
    pub weekly: Vec<Week>,
    /// Posts created before the first week of `weekly` (older contributions, e.g. imported).
    pub weekly_earlier: i64,
    /// Posts created before the cutoff that moderation kept out of the document (counts only).
    pub excluded: Excluded,
    /// All 23 objectives, ranked (most contributions first; ties by endorsements, then id).
    pub objectives: Vec<ObjectiveStat>,
    /// The four IMRF round-table clusters with their objectives' totals.
    pub clusters: Vec<ClusterStat>,
    /// Progress, implementation gaps, good practices and collaboration mechanisms (and priorities).
    pub aspects: Vec<AspectSection>,
    /// Recommendations ranked by group-informed consensus, near-duplicates merged.
    pub recommendations: Vec<Recommendation>,
    /// Contributions tagged with no objective.
    pub emerging: Emerging,
    /// How the figures were made.
    pub methodology: Methodology,
    /// Every contribution counted (the annex; one CSV row each), by id.
    pub contributions: Vec<Contribution>,
}

/// The regional space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegionInfo {
    /// `africa`, `arab-region`, `asia-pacific`, `europe`, `latin-america-caribbean`.
    pub slug: String,
    /// Display name (English).
    pub name: String,
    /// The regional commission that holds the review.
    pub commission: Option<String>,
    /// Working languages of the space.
    pub languages: Vec<String>,
}

/// The review a document prepares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewInfo {
    /// The cycle's name in the calendar.
    pub cycle: String,
    /// The date as the calendar knows it (`2027-03-11`, `2027-03`, `week of 2027-11-03`, ...).
    pub date: String,
    /// Earliest possible day of the review.
    pub earliest: Option<String>,
    /// Where it is held.
    pub place: Option<String>,
    /// Whether the date is still tentative.
    pub tentative: bool,
}

/// What changed since the previous version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Changes {
    /// The previous version's number.
    pub previous_version: i64,
    /// The previous version's cutoff.
    pub previous_cutoff: String,
    /// Contributions counted now and not then.
    pub added: i64,
    /// Contributions counted then and not now (hidden, removed or moved since).
    pub withdrawn: i64,
    /// Change of each headline count (now minus then).
    pub totals: Totals,
    /// Objectives whose rank changed: `{id, previous_rank, rank}`, by current rank.
    pub objectives_moved: Vec<RankMove>,
    /// Recommendations in the top 10 now that were not in the previous top 10 (post ids).
    pub new_top_recommendations: Vec<i64>,
}

/// A change of rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankMove {
    /// Objective id.
    pub id: i64,
    /// Rank in the previous version.
    pub previous_rank: i64,
    /// Rank now.
    pub rank: i64,
}

/// Headline counts. Distinct counts are over the contributions counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    /// Published posts counted.
    pub posts: i64,
    /// Threads with at least one post counted.
    pub threads: i64,
    /// Distinct authors.
    pub authors: i64,
    /// Distinct organisations named by authors (case- and space-insensitive), named or not in the text.
    pub organisations: i64,
    /// Distinct countries given by authors.
    pub countries: i64,
    /// Distinct stakeholder groups of authors.
    pub stakeholder_groups: i64,
    /// Distinct languages of posts (`und` not counted).
    pub languages: i64,
    /// Endorsements of counted posts made at or before the cutoff.
    pub endorsements: i64,
}

/// Posts by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ByKind {
    /// Comments.
    pub comment: i64,
    /// Recommendations.
    pub recommendation: i64,
    /// Reports.
    pub report: i64,
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Breakdown {
    /// The code (stakeholder group, country, language).
    pub key: String,
    /// Posts.
    pub posts: i64,
    /// Distinct authors.
    pub authors: i64,
}

/// One ISO week of participation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Week {
    /// ISO week, `2027-W05`.
    pub week: String,
    /// Its Monday.
    pub starts: String,
    /// Posts that week.
    pub posts: i64,
    /// By kind.
    pub by_kind: ByKind,
    /// Distinct authors that week.
    pub authors: i64,
}

/// Posts moderation kept out, counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Excluded {
    /// All excluded posts.
    pub total: i64,
    /// Awaiting pre-moderation.
    pub pending: i64,
    /// Hidden by a moderator or by flags.
    pub hidden: i64,
    /// Removed by their author or a moderator.
    pub removed: i64,
    /// Hidden and removed posts by reason code (`spam`, `off_topic`, `personal_data`, ...,
    /// `author` for removals by the author, `other` for free text), largest first.
    pub reasons: Vec<ReasonCount>,
}

/// A reason and how many posts it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReasonCount {
    /// Reason code.
    pub reason: String,
    /// Posts.
    pub posts: i64,
}

/// One objective's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObjectiveStat {
    /// 1 to 23.
    pub id: i64,
    /// 1 for the objective with the most contributions.
    pub rank: i64,
    /// IMRF round-table cluster, 1 to 4.
    pub cluster: i64,
    /// Contributions tagged with it.
    pub posts: i64,
    /// Endorsements of those contributions.
    pub endorsements: i64,
    /// Of which recommendations.
    pub recommendations: i64,
    /// Distinct authors.
    pub authors: i64,
    /// Stakeholder groups of its authors (codes, sorted).
    pub stakeholder_groups: Vec<String>,
    /// Countries of its authors (codes, sorted).
    pub countries: Vec<String>,
    /// Whether it is one of the prominent objectives analysed in depth.
    pub prominent: bool,
    /// Distinctive terms (prominent objectives only).
    pub key_terms: Vec<KeyTerm>,
    /// Representative contributions (prominent objectives only).
    pub quotes: Vec<Quote>,
}

/// A distinctive term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyTerm {
    /// The term as most often written (not the stem).
    pub term: String,
    /// TF-IDF score, rounded to 4 decimals.
    pub score: f64,
    /// Contributions that use it.
    pub posts: i64,
}

/// A quoted contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    /// Post id.
    pub post_id: i64,
    /// Thread id.
    pub thread_id: i64,
    /// Path of the post in the API (`/api/v1/posts/{id}`); renderers prefix the hub's address.
    pub link: String,
    /// `comment`, `recommendation`, `report`.
    pub kind: String,
    /// Plain-text excerpt, at most 320 characters.
    pub excerpt: String,
    /// Language tag of the post (`und` when unknown).
    pub language: String,
    /// `rtl` for right-to-left scripts (Arabic, Hebrew, Persian, Urdu), else `ltr`.
    pub dir: String,
    /// Author's stakeholder group (code).
    pub stakeholder_group: String,
    /// Author's country, if given.
    pub country: Option<String>,
    /// Author's organisation, only when the author allowed it to be named.
    pub organisation: Option<String>,
    /// Endorsements at the cutoff.
    pub endorsements: i64,
}

/// One cluster's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterStat {
    /// 1 to 4.
    pub id: i64,
    /// Its objectives, by rank.
    pub objectives: Vec<i64>,
    /// Contributions tagged with any of its objectives (each counted once).
    pub posts: i64,
    /// Endorsements of those contributions.
    pub endorsements: i64,
}

/// Contributions reporting on one aspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AspectSection {
    /// `priority`, `progress`, `gap`, `practice`, `collaboration`.
    pub aspect: String,
    /// Contributions.
    pub posts: i64,
    /// Objectives most often tagged with it: `(objective, posts)`, top 5.
    pub objectives: Vec<ObjectiveCount>,
    /// Quotes, most endorsed first.
    pub quotes: Vec<Quote>,
}

/// An objective and a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectiveCount {
    /// Objective id.
    pub id: i64,
    /// Posts.
    pub posts: i64,
}

/// A ranked recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    /// 1 for the highest.
    pub rank: i64,
    /// The quoted recommendation.
    pub quote: Quote,
    /// Its objectives.
    pub objectives: Vec<i64>,
    /// Endorsements, including those of the near-duplicates merged into it.
    pub endorsements: i64,
    /// Endorsements by the endorsers' stakeholder group (code → count).
    pub endorsements_by_group: BTreeMap<String, i64>,
    /// Distinct stakeholder groups that endorsed it (the author's group counts once as support).
    pub groups: i64,
    /// Group-informed consensus: the sum over groups of ln(1 + endorsements from that group),
    /// the author's group counting one; rounded to 4 decimals.
    pub consensus: f64,
    /// Near-duplicate recommendations merged into this one (post ids).
    pub merged: Vec<i64>,
}

/// Contributions tagged with no objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Emerging {
    /// How many.
    pub posts: i64,
    /// Distinctive terms.
    pub key_terms: Vec<KeyTerm>,
    /// Quotes.
    pub quotes: Vec<Quote>,
}

/// How the document was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Methodology {
    /// How many objectives are analysed in depth.
    pub prominent_objectives: i64,
    /// Key terms per section.
    pub key_terms: i64,
    /// Quotes per section.
    pub quotes: i64,
    /// Recommendations listed.
    pub recommendations: i64,
    /// Near-duplicate threshold (Jaccard similarity of word shingles).
    pub near_duplicate_jaccard: f64,
    /// Posts from the other regions read as the background corpus of TF-IDF.
    pub background_posts: i64,
    /// Languages whose words were stemmed.
    pub stemmed_languages: Vec<String>,
}

/// One contribution counted (the annex; one CSV row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contribution {
    /// Post id.
    pub id: i64,
    /// Thread id.
    pub thread_id: i64,
    /// API path of the post.
    pub link: String,
    /// `comment`, `recommendation`, `report`.
    pub kind: String,
    /// Objective ids.
    pub objectives: Vec<i64>,
    /// Aspect codes.
    pub aspects: Vec<String>,
    /// Author's stakeholder group (code).
    pub stakeholder_group: String,
    /// Author's country, if given.
    pub country: Option<String>,
    /// Author's organisation, only when the author allowed it to be named.
    pub organisation: Option<String>,
    /// Language tag (`und` when unknown).
    pub language: String,
    /// RFC 3339, UTC, to the second.
    pub created_at: String,
    /// Endorsements at the cutoff.
    pub endorsements: i64,
}
