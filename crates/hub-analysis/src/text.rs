//! Words for key terms: segmentation, stop words and stemming per language, and TF-IDF.
//!
//! Latin, Cyrillic, Greek and Arabic text is split on Unicode word boundaries
//! (unicode-segmentation), lower-cased, stripped of the language's stop words (stop-words,
//! the stopwords-iso lists) and stemmed where Snowball has a stemmer (rust-stemmers). Chinese
//! is segmented with jieba-rs. A term is kept by its stem and shown as the form most often
//! written.

use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

/// Languages with a Snowball stemmer here, by ISO 639-1 code.
pub const STEMMED: [(&str, Algorithm); 14] = [
    ("ar", Algorithm::Arabic),
    ("da", Algorithm::Danish),
    ("de", Algorithm::German),
    ("en", Algorithm::English),
    ("es", Algorithm::Spanish),
    ("fr", Algorithm::French),
    ("hu", Algorithm::Hungarian),
    ("it", Algorithm::Italian),
    ("nl", Algorithm::Dutch),
    ("no", Algorithm::Norwegian),
    ("pt", Algorithm::Portuguese),
    ("ro", Algorithm::Romanian),
    ("ru", Algorithm::Russian),
    ("sv", Algorithm::Swedish),
];

/// Extra words that carry no meaning in this forum whatever the language (the forum's own
/// vocabulary would otherwise top every list).
const FORUM_WORDS: [&str; 8] = [
    "migrant",
    "migrants",
    "migration",
    "gcm",
    "objective",
    "objectives",
    "https",
    "www",
];

/// Chinese function words and fillers that jieba keeps as words but the stop-word list lacks.
const ZH_EXTRA: [&str; 40] = [
    "一点", "仍然", "情况", "之间", "是否", "关键", "需要", "可以", "我们", "他们", "这个", "那个",
    "因为", "所以", "但是", "如果", "已经", "没有", "还是", "以及", "进行", "问题", "方面", "目前",
    "一些", "非常", "同时", "通过", "应该", "能够", "其中", "认为", "这些", "那些", "什么", "怎么",
    "为了", "对于", "而且", "就是",
];

/// Splits text into terms.
pub struct Analyzer {
    stemmers: HashMap<&'static str, Stemmer>,
    stop: HashMap<&'static str, HashSet<String>>,
    forum: HashSet<&'static str>,
    jieba: std::sync::OnceLock<jieba_rs::Jieba>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").finish_non_exhaustive()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// The primary subtag of a language tag, lower-cased (`zh-Hant` → `zh`).
pub fn base_language(tag: Option<&str>) -> String {
    tag.map(|t| {
        t.split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    })
    .filter(|t| !t.is_empty())
    .unwrap_or_else(|| "und".into())
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

impl Analyzer {
    /// Loads stemmers and stop words (jieba's dictionary is loaded on first Chinese text).
    pub fn new() -> Self {
        let mut stemmers = HashMap::new();
        let mut stop = HashMap::new();
        for (lang, algo) in STEMMED {
            stemmers.insert(lang, Stemmer::create(algo));
        }
        for lang in [
            "ar", "da", "de", "en", "es", "fr", "hu", "it", "nl", "no", "pt", "ro", "ru", "sv",
            "zh",
        ] {
            let words: HashSet<String> = stop_words::get(lang)
                .iter()
                .map(|w| w.to_string().to_lowercase())
                .collect();
            stop.insert(lang, words);
        }
        if let Some(zh) = stop.get_mut("zh") {
            zh.extend(ZH_EXTRA.iter().map(|w| w.to_string()));
        }
        Self {
            stemmers,
            stop,
            forum: FORUM_WORDS.into_iter().collect(),
            jieba: std::sync::OnceLock::new(),
        }
    }

    fn is_stop(&self, lang: &str, word: &str) -> bool {
        self.forum.contains(word)
            || self.stop.get(lang).is_some_and(|s| s.contains(word))
            || (lang != "en" && self.stop.get("en").is_some_and(|s| s.contains(word)))
    }

    /// The terms of `text` (plain text) written in `lang`: `(stem, surface form)` pairs.
    pub fn terms(&self, text: &str, lang: &str, out: &mut Vec<(String, String)>) {
        out.clear();
        self.each_term(text, lang, |stem, form| {
            out.push((stem.to_string(), form.to_string()))
        });
    }

    /// The terms of `text` as interned ids `(stem, form)`, interning new ones into `vocab`.
    /// `cache` remembers what each word of a language came to, so a word met again costs one
    /// lookup instead of the stop-word check, the stemmer and two interning lookups (words
    /// repeat: most of a corpus is a few thousand of them). Use one cache with one `vocab`.
    pub fn term_ids(
        &self,
        text: &str,
        lang: &str,
        vocab: &mut Vocab,
        cache: &mut WordCache,
        out: &mut Vec<(u32, u32)>,
    ) {
        self.cached_ids(text, lang, cache, out, |stem, form| {
            Some((vocab.stem_id(stem), vocab.form_id(form)))
        });
    }

    /// The terms of `text` whose stems `vocab` knows, as `(stem id, u32::MAX)`: the
    /// background's terms, counted only against the region's stems. `cache` as for
    /// [`Analyzer::term_ids`], with this `vocab` only.
    pub fn known_term_ids(
        &self,
        text: &str,
        lang: &str,
        vocab: &Vocab,
        cache: &mut WordCache,
        out: &mut Vec<(u32, u32)>,
    ) {
        self.cached_ids(text, lang, cache, out, |stem, _| {
            vocab.known_stem(stem).map(|s| (s, u32::MAX))
        });
    }

    /// The ids `resolve(stem, form)` gives the terms of `text` (`None`: not counted), each
    /// word's answer remembered in `cache` (Chinese segments are not: jieba decides them in
    /// context).
    fn cached_ids(
        &self,
        text: &str,
        lang: &str,
        cache: &mut WordCache,
        out: &mut Vec<(u32, u32)>,
        mut resolve: impl FnMut(&str, &str) -> Option<(u32, u32)>,
    ) {
        out.clear();
        if is_cjk(lang, text) {
            self.each_term_cjk(text, |stem, form| out.extend(resolve(stem, form)));
            return;
        }
        let stemmer = self.stemmers.get(lang);
        let words = cache.of(lang);
        each_word(text, |lower| {
            if let Some(known) = words.get(lower) {
                out.extend(*known);
                return;
            }
            let ids = if self.is_stop(lang, lower) {
                None
            } else {
                let stem = stemmer.map_or(std::borrow::Cow::Borrowed(lower), |s| s.stem(lower));
                resolve(&stem, lower)
            };
            if words.len() < WordCache::MAX_WORDS {
                words.insert(lower.to_string(), ids);
            }
            out.extend(ids);
        });
    }

    /// Calls `f(stem, form)` for each term of `text`, allocating as little as it can.
    fn each_term(&self, text: &str, lang: &str, mut f: impl FnMut(&str, &str)) {
        if is_cjk(lang, text) {
            self.each_term_cjk(text, f);
            return;
        }
        let stemmer = self.stemmers.get(lang);
        each_word(text, |lower| {
            if self.is_stop(lang, lower) {
                return;
            }
            match stemmer {
                Some(s) => f(&s.stem(lower), lower),
                None => f(lower, lower),
            }
        });
    }

    fn each_term_cjk(&self, text: &str, mut f: impl FnMut(&str, &str)) {
        let jieba = self.jieba.get_or_init(jieba_rs::Jieba::new);
        let en = self.stemmers.get("en");
        for w in jieba.cut(text, false) {
            let w = w.trim();
            if w.is_empty() {
                continue;
            }
            if w.chars().any(is_han) {
                if w.chars().count() < 2 || self.is_stop("zh", w) {
                    continue;
                }
                f(w, w);
            } else {
                let lower = w.to_lowercase();
                if lower.chars().count() < 3
                    || !lower.chars().any(char::is_alphabetic)
                    || self.is_stop("en", &lower)
                {
                    continue;
                }
                match en {
                    Some(s) => f(&s.stem(&lower), &lower),
                    None => f(&lower, &lower),
                }
            }
        }
    }
}

/// Whether `text` goes through the Chinese segmenter.
fn is_cjk(lang: &str, text: &str) -> bool {
    lang == "zh" || lang == "ja" || text.chars().any(is_han)
}

/// Calls `f` with each word of `text` lower-cased, skipping words under three letters and
/// numbers.
fn each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut lower = String::new();
    for w in text.unicode_words() {
        lower.clear();
        for c in w.chars() {
            lower.extend(c.to_lowercase());
        }
        if lower.chars().count() < 3 || lower.chars().all(|c| c.is_numeric()) {
            continue;
        }
        f(&lower);
    }
}

/// What each lower-cased word of a language came to as a term: `(stem id, form id)` in one
/// [`Vocab`], or `None` (a stop word, or a stem that vocabulary does not know).
#[derive(Debug, Default)]
pub struct WordCache {
    by_lang: HashMap<String, HashMap<String, Option<(u32, u32)>>>,
}

impl WordCache {
    /// Words remembered per language at most (a bound on memory; later words are still
    /// counted, only not remembered).
    const MAX_WORDS: usize = 500_000;

    fn of(&mut self, lang: &str) -> &mut HashMap<String, Option<(u32, u32)>> {
        self.by_lang.entry(lang.to_string()).or_default()
    }
}

/// Markdown made fit for counting words, cheaply: addresses (`https://...`, `www....`, link
/// targets) are dropped; the rest of the markup is punctuation that word segmentation skips.
pub fn words_of_markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for chunk in md.split_whitespace() {
        let chunk = match chunk.find("](") {
            Some(i) => &chunk[..i],
            None => chunk,
        };
        if chunk.contains("://") || chunk.starts_with("www.") {
            continue;
        }
        out.push_str(chunk);
        out.push(' ');
    }
    out
}

/// Strings numbered in the order first met, so a count keyed by them allocates nothing after
/// a string's first use.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    /// The id of `s`, numbering it if new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
    /// The id of `s`, if it was numbered.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
    /// The string of an id (empty for an unknown one).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
    /// Numbers every string of `other`; returns what each of its ids is here.
    pub fn absorb(&mut self, other: &Interner) -> Vec<u32> {
        other.names.iter().map(|s| self.id(s)).collect()
    }
}

/// Interned stems and written forms.
#[derive(Debug, Default, Clone)]
pub struct Vocab {
    stems: Interner,
    forms: Interner,
}

impl Vocab {
    fn stem_id(&mut self, s: &str) -> u32 {
        self.stems.id(s)
    }
    fn form_id(&mut self, s: &str) -> u32 {
        self.forms.id(s)
    }
    fn known_stem(&self, s: &str) -> Option<u32> {
        self.stems.get(s)
    }
    /// Interns every stem and form of `other`; returns what each of its stem ids and form ids
    /// is here.
    pub fn absorb(&mut self, other: &Vocab) -> (Vec<u32>, Vec<u32>) {
        (
            self.stems.absorb(&other.stems),
            self.forms.absorb(&other.forms),
        )
    }
    /// The stem of an id.
    pub fn stem(&self, id: u32) -> &str {
        self.stems.name(id)
    }
    /// The form of an id.
    pub fn form(&self, id: u32) -> &str {
        self.forms.name(id)
    }
}

/// Term counts of a set of posts, by stem id.
#[derive(Debug, Default, Clone)]
pub struct TermCounts {
    /// Occurrences by stem.
    pub tf: HashMap<u32, u64>,
    /// Posts using the stem.
    pub df: HashMap<u32, u64>,
    /// Occurrences by (stem, written form).
    pub forms: HashMap<(u32, u32), u64>,
    /// Terms in all.
    pub total: u64,
    /// Posts.
    pub posts: u64,
}

impl TermCounts {
    /// Adds one post's terms; `distinct` is the post's distinct stems (sorted, deduplicated).
    pub fn add(&mut self, terms: &[(u32, u32)], distinct: &[u32]) {
        self.posts += 1;
        for &(stem, form) in terms {
            *self.tf.entry(stem).or_default() += 1;
            *self.forms.entry((stem, form)).or_default() += 1;
            self.total += 1;
        }
        for &stem in distinct {
            *self.df.entry(stem).or_default() += 1;
        }
    }

    /// Adds `other`'s counts, mapping its stem and form ids through `stems` and `forms` (from
    /// [`Vocab::absorb`]).
    pub fn absorb(&mut self, other: &TermCounts, stems: &[u32], forms: &[u32]) {
        let stem = |s: u32| stems.get(s as usize).copied().unwrap_or(u32::MAX);
        let form = |f: u32| forms.get(f as usize).copied().unwrap_or(u32::MAX);
        for (&s, &n) in &other.tf {
            *self.tf.entry(stem(s)).or_default() += n;
        }
        for (&s, &n) in &other.df {
            *self.df.entry(stem(s)).or_default() += n;
        }
        for (&(s, f), &n) in &other.forms {
            *self.forms.entry((stem(s), form(f))).or_default() += n;
        }
        self.total += other.total;
        self.posts += other.posts;
    }

    /// The most written form of a stem (ties: the alphabetically first).
    pub fn form(&self, stem: u32, vocab: &Vocab) -> String {
        self.forms
            .iter()
            .filter(|((s, _), _)| *s == stem)
            .max_by(|a, b| {
                a.1.cmp(b.1)
                    .then_with(|| vocab.form(b.0 .1).cmp(vocab.form(a.0 .1)))
            })
            .map(|((_, f), _)| vocab.form(*f).to_string())
            .unwrap_or_else(|| vocab.stem(stem).to_string())
    }
}

/// Document frequencies over the whole corpus the scores are relative to.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    /// Posts using each stem, by stem id.
    pub df: Vec<u64>,
    /// Posts in all.
    pub posts: u64,
}

impl Corpus {
    /// Counts one post's distinct stems.
    pub fn add(&mut self, distinct: &[u32]) {
        self.posts += 1;
        for &s in distinct {
            self.add_n(s, 1);
        }
    }

    /// Adds `other`'s counts, mapping its stem ids through `stems` (from [`Vocab::absorb`]).
    pub fn absorb(&mut self, other: &Corpus, stems: &[u32]) {
        for (i, &n) in other.df.iter().enumerate() {
            if n == 0 {
                continue;
            }
            if let Some(&s) = stems.get(i) {
                self.add_n(s, n);
            }
        }
        self.posts += other.posts;
    }

    /// Adds `other`'s counts, whose ids are this corpus's own.
    pub fn absorb_same(&mut self, other: &Corpus) {
        for (i, &n) in other.df.iter().enumerate() {
            if n > 0 {
                self.add_n(u32::try_from(i).unwrap_or(u32::MAX), n);
            }
        }
        self.posts += other.posts;
    }

    fn add_n(&mut self, stem: u32, n: u64) {
        let i = stem as usize;
        if self.df.len() <= i {
            self.df.resize(i + 1, 0);
        }
        self.df[i] += n;
    }
}

/// A scored term.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Stem.
    pub stem: String,
    /// Shown form.
    pub term: String,
    /// TF-IDF.
    pub score: f64,
    /// Posts of the group using it.
    pub posts: u64,
}

/// Rounds to 4 decimals, so scores serialise the same way on every build.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The `n` most distinctive terms of `group` against `corpus`: term frequency in the group
/// (share of its terms) times `ln((1 + N) / (1 + df)) + 1`. A term must appear in two posts of
/// the group when the group has ten posts or more. Ties by stem.
pub fn key_terms(group: &TermCounts, corpus: &Corpus, vocab: &Vocab, n: usize) -> Vec<Scored> {
    if group.total == 0 {
        return Vec::new();
    }
    let min_df = if group.posts >= 10 { 2 } else { 1 };
    let mut scored: Vec<(f64, u64, u32)> = group
        .tf
        .iter()
        .filter(|(stem, _)| group.df.get(*stem).copied().unwrap_or(0) >= min_df)
        .map(|(&stem, &tf)| {
            let df = corpus.df.get(stem as usize).copied().unwrap_or(0) as f64;
            let idf = ((1.0 + corpus.posts as f64) / (1.0 + df)).ln() + 1.0;
            let score = round4(tf as f64 / group.total as f64 * idf * 100.0);
            (score, group.df.get(&stem).copied().unwrap_or(0), stem)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| vocab.stem(a.2).cmp(vocab.stem(b.2)))
    });
    scored.truncate(n);
    scored
        .into_iter()
        .map(|(score, posts, stem)| Scored {
            stem: vocab.stem(stem).to_string(),
            term: group.form(stem, vocab),
            score,
            posts,
        })
        .collect()
}

/// Word shingles (pairs of consecutive stems; single stems for very short texts) for
/// near-duplicate detection.
pub fn shingles(terms: &[(String, String)]) -> HashSet<String> {
    if terms.len() < 3 {
        return terms.iter().map(|(s, _)| s.clone()).collect();
    }
    terms
        .windows(2)
        .map(|w| format!("{} {}", w[0].0, w[1].0))
        .collect()
}

/// Jaccard similarity of two sets.
pub fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count() as f64;
    let union = (a.len() + b.len()) as f64 - inter;
    if union == 0.0 {
        0.0
    } else {
        inter / union
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_drops_stop_words() {
        let a = Analyzer::new();
        let mut out = Vec::new();
        a.terms(
            "The workers and the working conditions of migrant workers",
            "en",
            &mut out,
        );
        let stems: Vec<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
        assert!(!stems.contains(&"the"));
        assert!(!stems.contains(&"migrant"));
        assert_eq!(stems.iter().filter(|s| **s == "worker").count(), 2);
        assert!(stems.contains(&"condit"));
    }

    /// Counts `texts` into one vocabulary, group and corpus, as one text worker does.
    fn count(a: &Analyzer, texts: &[&str], v: &mut Vocab, g: &mut TermCounts, c: &mut Corpus) {
        let mut terms = Vec::new();
        for t in texts {
            a.term_ids(t, "en", v, &mut WordCache::default(), &mut terms);
            let mut distinct: Vec<u32> = terms.iter().map(|t| t.0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            g.add(&terms, &distinct);
            c.add(&distinct);
        }
    }

    #[test]
    fn counts_merged_from_two_workers_score_as_counted_by_one() {
        let a = Analyzer::new();
        let texts = [
            "Migrant workers need access to health care and decent work.",
            "Decent work and fair recruitment for migrant domestic workers.",
            "Health care for children on the move; birth registration.",
            "Fair recruitment: no fees charged to workers, ever.",
            "Access to justice and health care for workers in irregular situations.",
            "Remittances cost too much; cheaper transfers help families.",
        ];
        let (mut v1, mut g1, mut c1) = (Vocab::default(), TermCounts::default(), Corpus::default());
        count(&a, &texts, &mut v1, &mut g1, &mut c1);
        // Split unevenly across two "workers" whose ids differ, then merged.
        let (mut va, mut ga, mut ca) = (Vocab::default(), TermCounts::default(), Corpus::default());
        let (mut vb, mut gb, mut cb) = (Vocab::default(), TermCounts::default(), Corpus::default());
        count(&a, &texts[4..], &mut va, &mut ga, &mut ca);
        count(&a, &texts[..4], &mut vb, &mut gb, &mut cb);
        let (stems, forms) = va.absorb(&vb);
        ga.absorb(&gb, &stems, &forms);
        ca.absorb(&cb, &stems);
        assert_eq!(
            (ga.posts, ga.total, ca.posts),
            (g1.posts, g1.total, c1.posts)
        );
        let one = key_terms(&g1, &c1, &v1, 10);
        let merged = key_terms(&ga, &ca, &va, 10);
        assert!(one.len() >= 5, "{one:?}");
        assert_eq!(one, merged);
        // Document frequencies agree stem by stem, whatever the ids.
        for (i, stem) in v1.stems.names.iter().enumerate() {
            let j = va
                .known_stem(stem)
                .expect("merged vocabulary has every stem") as usize;
            assert_eq!(c1.df[i], ca.df[j], "{stem}");
        }
    }

    #[test]
    fn remembered_words_give_the_terms_the_analyzer_gives() {
        let a = Analyzer::new();
        let texts = [
            (
                "en",
                "The workers and the working conditions of migrant workers",
            ),
            (
                "en",
                "Workers, workers: the conditions! 2024 and 12 of them",
            ),
            (
                "fr",
                "Les travailleurs migrants et les conditions de travail des travailleurs",
            ),
            ("fr", "conditions des travailleuses; les travailleurs"),
            ("zh", "外籍劳工需要获得医疗服务和法律援助 workers"),
        ];
        let (mut vocab, mut cache, mut ids) = (Vocab::default(), WordCache::default(), Vec::new());
        let mut strings = Vec::new();
        // Twice over, so the second pass answers from the cache.
        for (lang, t) in texts.iter().chain(texts.iter()) {
            a.terms(t, lang, &mut strings);
            a.term_ids(t, lang, &mut vocab, &mut cache, &mut ids);
            let back: Vec<(String, String)> = ids
                .iter()
                .map(|&(s, f)| (vocab.stem(s).to_string(), vocab.form(f).to_string()))
                .collect();
            assert_eq!(back, strings, "{t}");
        }
        // The background's lookups: only known stems, the same ids.
        let mut bg_cache = WordCache::default();
        a.known_term_ids(
            "workers and employers",
            "en",
            &vocab,
            &mut bg_cache,
            &mut ids,
        );
        assert_eq!(ids.len(), 1);
        assert_eq!(vocab.stem(ids[0].0), "worker");
        a.known_term_ids(
            "workers and employers",
            "en",
            &vocab,
            &mut bg_cache,
            &mut ids,
        );
        assert_eq!(ids.len(), 1, "the same from the cache");
    }

    #[test]
    fn segments_chinese() {
        let a = Analyzer::new();
        let mut out = Vec::new();
        a.terms("外籍劳工需要获得医疗服务和法律援助", "zh", &mut out);
        let words: Vec<&str> = out.iter().map(|(_, w)| w.as_str()).collect();
        assert!(words.contains(&"医疗"), "{words:?}");
        assert!(words.iter().all(|w| w.chars().count() >= 2));
    }

    #[test]
    fn key_terms_prefer_distinctive_words() {
        let a = Analyzer::new();
        let mut cache = WordCache::default();
        let mut vocab = Vocab::default();
        let mut group = TermCounts::default();
        let mut corpus = Corpus::default();
        let mut out = Vec::new();
        let distinct = |out: &Vec<(u32, u32)>| {
            let mut d: Vec<u32> = out.iter().map(|t| t.0).collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        for text in [
            "remittance costs are too high for families",
            "lower remittance fees through digital transfers",
            "families depend on remittance transfers",
        ] {
            a.term_ids(text, "en", &mut vocab, &mut cache, &mut out);
            let d = distinct(&out);
            group.add(&out, &d);
            corpus.add(&d);
        }
        for text in [
            "families need housing",
            "families and schools",
            "families first",
        ] {
            a.term_ids(text, "en", &mut vocab, &mut cache, &mut out);
            corpus.add(&distinct(&out));
        }
        let top = key_terms(&group, &corpus, &vocab, 3);
        assert_eq!(top[0].term, "remittance");
        let fam = top.iter().position(|t| t.term == "families");
        assert!(fam.is_none() || fam > Some(0));
    }

    #[test]
    fn markdown_addresses_are_not_words() {
        assert_eq!(
            words_of_markdown("See the [joint report](https://example.org/r) and www.x.org now"),
            "See the [joint report and now "
        );
    }

    #[test]
    fn near_duplicates_are_similar() {
        let a = Analyzer::new();
        let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
        a.terms(
            "Create regular pathways for domestic workers from Asia",
            "en",
            &mut x,
        );
        a.terms(
            "Create regular pathways for domestic workers from Asia!",
            "en",
            &mut y,
        );
        a.terms("Fund language classes in every municipality", "en", &mut z);
        assert!(jaccard(&shingles(&x), &shingles(&y)) > 0.9);
        assert!(jaccard(&shingles(&x), &shingles(&z)) < 0.1);
    }
}
