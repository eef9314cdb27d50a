//! The plan: everything the corpus holds, decided up front from the seed alone, by drawing
//! from the data files (see [`super::data`]).

use super::data::{City, Corpus, CountrySpec, LangText, RegionSpec, Topic, TopicText};
use hub_domain::{Aspect, PostKind, StakeholderGroup};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// Deepest reply generated (the opening post is depth 0).
const MAX_REPLY_DEPTH: usize = 6;

/// The corpus is spread over this many weeks before the day of the run, so that the
/// week-by-week figures of analysis documents have something to show.
const SPREAD_WEEKS: i64 = 8;

/// Added to the seed for the generator of post times, which is separate from the one of the
/// corpus so that the texts and trees of a seed did not change when posts got times.
const TIME_SEED: u64 = 0x7469_6d65;

/// How common each kind is among opening posts and among replies.
const OPENING_KINDS: &[(PostKind, u32)] = &[
    (PostKind::Comment, 45),
    (PostKind::Recommendation, 35),
    (PostKind::Report, 20),
];
const REPLY_KINDS: &[(PostKind, u32)] = &[
    (PostKind::Comment, 70),
    (PostKind::Recommendation, 22),
    (PostKind::Report, 8),
];

/// Everything to write, in order.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) personas: Vec<Persona>,
    pub(crate) threads: Vec<ThreadPlan>,
}

#[derive(Debug, Clone)]
pub(crate) struct Persona {
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) organisation: Option<String>,
    pub(crate) group: StakeholderGroup,
    pub(crate) country: &'static str,
    pub(crate) language: &'static str,
    pub(crate) attribution: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ThreadPlan {
    pub(crate) region: &'static str,
    /// Position in the region, for idempotency keys.
    pub(crate) index: usize,
    pub(crate) title: String,
    pub(crate) opening: PostPlan,
    pub(crate) replies: Vec<PostPlan>,
    /// When each post was written, in microseconds before the start of the day of the run:
    /// the opening post first, then the replies, each later than the one before.
    pub(crate) ago: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parent {
    Opening,
    Reply(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct PostPlan {
    pub(crate) author: usize,
    pub(crate) parent: Parent,
    pub(crate) kind: PostKind,
    pub(crate) body: String,
    pub(crate) language: &'static str,
    pub(crate) objectives: Vec<i64>,
    pub(crate) aspects: Vec<Aspect>,
    /// Personas who endorse it (never its author).
    pub(crate) endorsers: Vec<usize>,
}

fn users_per_region(threads_per_region: usize) -> usize {
    (8 + threads_per_region / 2).min(40)
}

/// Picks from a non-empty list (the data files are checked when read; a unit test checks the
/// tables here).
fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// A phrase from a non-empty list.
fn phrase<'a>(rng: &mut StdRng, items: &'a [String]) -> &'a str {
    pick(rng, items).as_str()
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if x < w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1]
}

/// A kind, a group...: the first of a weighted pair.
fn weighted_pair<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    weighted(rng, items, |(_, w)| *w).0
}

/// A language of the region: in order while `i` is within the list (every language gets a
/// speaker and a thread before the weights apply), then by weight.
fn region_language(rng: &mut StdRng, region: &'static RegionSpec, i: usize) -> &'static str {
    match region.languages.get(i) {
        Some(l) => &l.tag,
        None => &weighted(rng, &region.languages, |l| l.weight).tag,
    }
}

/// Fills `{city}`, `{n}`, `{pct}`, `{days}` and `{year}` in a phrase.
fn fill(template: &str, city: &str, rng: &mut StdRng) -> String {
    let mut s = template.replace("{city}", city);
    if s.contains("{n}") {
        s = s.replace("{n}", &rng.gen_range(20..=900).to_string());
    }
    if s.contains("{pct}") {
        s = s.replace("{pct}", &rng.gen_range(12..=78).to_string());
    }
    if s.contains("{days}") {
        s = s.replace("{days}", &rng.gen_range(45..=420).to_string());
    }
    if s.contains("{year}") {
        s = s.replace("{year}", &rng.gen_range(2019..=2022).to_string());
    }
    s
}

/// ASCII letters of a Latin-script name, for e-mail addresses.
fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let mapped = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => "e",
            'í' | 'ì' | 'î' | 'ï' | 'Í' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' => "o",
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' => "u",
            'ç' | 'Ç' => "c",
            'ñ' | 'Ñ' => "n",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(mapped);
    }
    out
}

/// Decides the whole corpus.
pub(crate) fn plan(corpus: &'static Corpus, seed: u64, threads_per_region: usize) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut time_rng = StdRng::seed_from_u64(seed.wrapping_add(TIME_SEED));
    let mut personas: Vec<Persona> = Vec::new();
    let mut emails: HashSet<String> = HashSet::new();
    let mut cities: Vec<&'static City> = Vec::new();
    let mut threads = Vec::new();
    for region in &corpus.regions {
        let first = personas.len();
        for i in 0..users_per_region(threads_per_region) {
            let language = region_language(&mut rng, region, i);
            let (persona, city) = make_persona(&mut rng, corpus, region, language, &mut emails);
            personas.push(persona);
            cities.push(city);
        }
        let members: Vec<usize> = (first..personas.len()).collect();
        let mut topic_use: Vec<(Topic, usize)> = Topic::ALL.iter().map(|t| (*t, 0)).collect();
        for index in 0..threads_per_region {
            let language = region_language(&mut rng, region, index);
            let speakers: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&p| personas[p].language == language)
                .collect();
            let author = if speakers.is_empty() {
                *pick(&mut rng, &members)
            } else {
                *pick(&mut rng, &speakers)
            };
            let texts = corpus.texts(personas[author].language);
            let topic = least_discussed(&mut rng, &mut topic_use, texts);
            let ctx = ThreadContext {
                corpus,
                topic,
                fallback: &texts.topics[0],
                members: &members,
                personas: &personas,
                cities: &cities,
            };
            let mut thread = make_thread(&mut rng, region, index, author, &ctx);
            thread.ago = post_times(&mut time_rng, thread.replies.len());
            threads.push(thread);
        }
    }
    Plan { personas, threads }
}

/// The least discussed topic of the region that the author's language covers (counted as
/// taken).
fn least_discussed(rng: &mut StdRng, topic_use: &mut [(Topic, usize)], texts: &LangText) -> Topic {
    let least = topic_use
        .iter()
        .filter(|(t, _)| texts.topic(*t).is_some())
        .map(|(_, n)| *n)
        .min()
        .unwrap_or(0);
    let candidates: Vec<Topic> = topic_use
        .iter()
        .filter(|(t, n)| *n == least && texts.topic(*t).is_some())
        .map(|(t, _)| *t)
        .collect();
    let topic = if candidates.is_empty() {
        Topic::DecentWork
    } else {
        *pick(rng, &candidates)
    };
    if let Some(entry) = topic_use.iter_mut().find(|(t, _)| *t == topic) {
        entry.1 += 1;
    }
    topic
}

fn make_persona(
    rng: &mut StdRng,
    corpus: &'static Corpus,
    region: &'static RegionSpec,
    language: &'static str,
    emails: &mut HashSet<String>,
) -> (Persona, &'static City) {
    let countries: Vec<&'static CountrySpec> = region
        .countries
        .iter()
        .filter(|c| c.languages.iter().any(|l| l == language))
        .collect();
    let country: &'static CountrySpec = match countries.as_slice() {
        [] => &region.countries[0],
        list => list[rng.gen_range(0..list.len())],
    };
    let city: &'static City = pick(rng, &country.cities);
    let culture = corpus.names(country, language);
    let given = pick(rng, &culture.given);
    let family = pick(rng, &culture.family);
    let female_suffix = culture.gendered_family && given.female;
    let latin_family = if female_suffix {
        format!("{}a", family.latin)
    } else {
        family.latin.clone()
    };
    let native_family = if female_suffix {
        format!("{}а", family.native())
    } else {
        family.native().to_string()
    };
    let native_script = matches!(language, "ar" | "zh" | "ru") && given.has_native();
    let display_name = match (culture.family_first, native_script) {
        (true, true) => format!("{native_family}{}", given.native()),
        (true, false) => format!("{latin_family} {}", given.latin),
        (false, true) => format!("{} {native_family}", given.native()),
        (false, false) => format!("{} {latin_family}", given.latin),
    };
    let (a, b) = if culture.family_first {
        (ascii_fold(&latin_family), ascii_fold(&given.latin))
    } else {
        (ascii_fold(&given.latin), ascii_fold(&latin_family))
    };
    let mut email = format!("{a}.{b}+demo@example.org");
    let mut n = 2;
    while !emails.insert(email.clone()) {
        email = format!("{a}.{b}{n}+demo@example.org");
        n += 1;
    }
    let group = weighted(rng, &corpus.groups, |g| g.weight).group;
    // Only a language with phrases of its own names organisations.
    let templates = corpus
        .texts
        .iter()
        .find(|t| t.tag == language)
        .map_or(&[][..], |t| t.organisations(group));
    let organisation = if templates.is_empty() {
        None
    } else {
        Some(fill(phrase(rng, templates), city.name_in(language), rng))
    };
    let attribution = organisation.is_some() && rng.gen_bool(0.4);
    (
        Persona {
            email,
            display_name,
            organisation,
            group,
            country: &country.code,
            language,
            attribution,
        },
        city,
    )
}

/// What the posts of one thread are drawn from.
struct ThreadContext<'a> {
    corpus: &'static Corpus,
    topic: Topic,
    /// The phrases used when a writer's language lacks the topic: the first topic of the
    /// opening post's language, or the opening post's topic for replies.
    fallback: &'static TopicText,
    /// The region's personas (positions in `personas`).
    members: &'a [usize],
    personas: &'a [Persona],
    /// Each persona's city.
    cities: &'a [&'static City],
}

impl ThreadContext<'_> {
    /// One post by `author`, drawn in this order: kind, title (of an opening post), body,
    /// objectives, aspects, endorsers. The title is `Some` for an opening post.
    fn post(
        &self,
        rng: &mut StdRng,
        author: usize,
        parent: Parent,
        opening: bool,
    ) -> (Option<String>, PostPlan) {
        let language = self.personas[author].language;
        let t = self.corpus.texts(language);
        let tt = t.topic(self.topic).unwrap_or(self.fallback);
        let city = self.cities[author].name_in(language);
        let kind = weighted_pair(rng, if opening { OPENING_KINDS } else { REPLY_KINDS });
        let title = opening.then(|| fill(phrase(rng, &tt.titles), city, rng));
        let phrases = Phrases { t, tt, city };
        let body = if opening {
            opening_body(rng, phrases, kind)
        } else {
            reply_body(rng, phrases, kind)
        };
        let post = PostPlan {
            author,
            parent,
            kind,
            body,
            language,
            objectives: objectives_for(rng, self.topic, kind, opening),
            aspects: aspects_for(rng, kind),
            endorsers: endorsers(rng, kind, author, self.members),
        };
        (title, post)
    }

    /// Who replies next: someone other than the previous writer whose language has the topic
    /// (repliers write in their own language), else the thread's author.
    fn replier(&self, rng: &mut StdRng, author: usize, previous: usize) -> usize {
        let others: Vec<usize> = self
            .members
            .iter()
            .copied()
            .filter(|&p| {
                self.corpus
                    .texts(self.personas[p].language)
                    .topic(self.topic)
                    .is_some()
            })
            .filter(|&p| p != previous)
            .collect();
        if others.is_empty() {
            author
        } else {
            *pick(rng, &others)
        }
    }
}

/// A reply's parent: the opening post, the reply before, or an earlier reply, within
/// [`MAX_REPLY_DEPTH`]. `depths` are those of the replies so far.
fn reply_parent(rng: &mut StdRng, depths: &[usize]) -> Parent {
    let j = depths.len();
    let r: f64 = rng.gen();
    if j == 0 || r < 0.35 {
        Parent::Opening
    } else if r < 0.75 && depths[j - 1] < MAX_REPLY_DEPTH {
        Parent::Reply(j - 1)
    } else {
        let open: Vec<usize> = (0..j).filter(|&k| depths[k] < MAX_REPLY_DEPTH).collect();
        if open.is_empty() {
            Parent::Opening
        } else {
            Parent::Reply(*pick(rng, &open))
        }
    }
}

fn make_thread(
    rng: &mut StdRng,
    region: &'static RegionSpec,
    index: usize,
    author: usize,
    ctx: &ThreadContext<'_>,
) -> ThreadPlan {
    let (title, opening) = ctx.post(rng, author, Parent::Opening, true);
    let opening_language = ctx.corpus.texts(opening.language);
    let replies_ctx = ThreadContext {
        fallback: opening_language.topic(ctx.topic).unwrap_or(ctx.fallback),
        ..*ctx
    };
    let mut replies: Vec<PostPlan> = Vec::new();
    let mut depths: Vec<usize> = Vec::new();
    let count: usize = rng.gen_range(2..=7);
    for _ in 0..count {
        let previous = replies.last().map_or(author, |r| r.author);
        let who = replies_ctx.replier(rng, author, previous);
        let parent = reply_parent(rng, &depths);
        depths.push(match parent {
            Parent::Opening => 1,
            Parent::Reply(k) => depths[k] + 1,
        });
        replies.push(replies_ctx.post(rng, who, parent, false).1);
    }
    ThreadPlan {
        region: &region.slug,
        index,
        title: title.unwrap_or_default(),
        opening,
        replies,
        ago: Vec::new(),
    }
}

/// Times of a thread's posts, in microseconds before the start of the day of the run: the
/// thread opens within the last [`SPREAD_WEEKS`] weeks (at least two hours before the day),
/// and its replies follow within ten days, in order, and all before the day.
fn post_times(rng: &mut StdRng, replies: usize) -> Vec<i64> {
    const MINUTE: i64 = 60_000_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let opened = rng.gen_range(2 * HOUR..SPREAD_WEEKS * 7 * DAY);
    // Replies between one minute after the opening and one minute before the day.
    let window = (opened - 2 * MINUTE).min(10 * DAY);
    let mut after: Vec<i64> = (0..replies)
        .map(|_| rng.gen_range(MINUTE..=MINUTE + window))
        .collect();
    after.sort_unstable();
    std::iter::once(opened)
        .chain(after.into_iter().map(|a| opened - a))
        .collect()
}

/// What a post is written from: its writer's language's phrases, its topic's phrases in that
/// language, and the writer's city as named in it.
#[derive(Clone, Copy)]
struct Phrases<'a> {
    t: &'a LangText,
    tt: &'a TopicText,
    city: &'a str,
}

fn opening_body(rng: &mut StdRng, phrases: Phrases<'_>, kind: PostKind) -> String {
    let Phrases { t, tt, city } = phrases;
    let sep = &t.sep;
    let opening = fill(phrase(rng, &tt.openings), city, rng);
    let mut details = tt.details.each_ref();
    details.shuffle(rng);
    let d0 = fill(details[0], city, rng);
    match kind {
        PostKind::Comment => {
            let q = phrase(rng, &t.questions);
            format!("{opening}{sep}{d0}\n\n{q}\n")
        }
        PostKind::Recommendation => {
            let mut asks = tt.asks.each_ref();
            asks.shuffle(rng);
            format!(
                "{opening}{sep}{d0}\n\n### {}\n\n1. {}\n2. {}\n",
                t.recommendations, asks[0], asks[1]
            )
        }
        PostKind::Report => {
            let intro = fill(phrase(rng, &t.report_intros), city, rng);
            let d1 = fill(details[1], city, rng);
            let ask = phrase(rng, &tt.asks);
            format!(
                "{intro}{sep}{opening}\n\n### {}\n\n- {d0}\n- {d1}\n\n### {}\n\n- {ask}\n",
                t.findings, t.recommendations
            )
        }
    }
}

fn reply_body(rng: &mut StdRng, phrases: Phrases<'_>, kind: PostKind) -> String {
    let Phrases { t, tt, city } = phrases;
    let sep = &t.sep;
    let opener = phrase(rng, &t.openers);
    let reply = phrase(rng, &tt.replies);
    match kind {
        PostKind::Comment => {
            let mut s = format!("{opener}{sep}{reply}");
            if rng.gen_bool(0.5) {
                s.push_str(sep);
                s.push_str(&fill(phrase(rng, &tt.details), city, rng));
            }
            if rng.gen_bool(0.3) {
                s.push_str("\n\n");
                s.push_str(phrase(rng, &t.closers));
            }
            s.push('\n');
            s
        }
        PostKind::Recommendation => {
            let ask = phrase(rng, &tt.asks);
            format!(
                "{opener}{sep}{reply}\n\n**{}**\n\n- {ask}\n",
                t.recommendations
            )
        }
        PostKind::Report => {
            let intro = fill(phrase(rng, &t.report_intros), city, rng);
            let detail = fill(phrase(rng, &tt.details), city, rng);
            format!("{intro}{sep}{detail}\n\n{reply}\n")
        }
    }
}

/// The topic's objective, plus related ones on substantive posts; plain replies often tag
/// nothing, as people do.
fn objectives_for(rng: &mut StdRng, topic: Topic, kind: PostKind, opening: bool) -> Vec<i64> {
    if kind == PostKind::Comment && !opening && rng.gen_bool(0.5) {
        return Vec::new();
    }
    let mut v = vec![topic.core()];
    for o in topic.related() {
        if rng.gen_bool(if opening { 0.5 } else { 0.25 }) {
            v.push(*o);
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn aspects_for(rng: &mut StdRng, kind: PostKind) -> Vec<Aspect> {
    let mut v = match kind {
        PostKind::Recommendation => vec![Aspect::Priority],
        PostKind::Report => vec![*pick(rng, &[Aspect::Progress, Aspect::Practice])],
        PostKind::Comment => vec![*pick(
            rng,
            &[Aspect::Gap, Aspect::Practice, Aspect::Collaboration],
        )],
    };
    if rng.gen_bool(0.3) {
        v.push(*pick(rng, Aspect::ALL));
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn endorsers(rng: &mut StdRng, kind: PostKind, author: usize, members: &[usize]) -> Vec<usize> {
    let most = match kind {
        PostKind::Recommendation => 7,
        PostKind::Report => 4,
        PostKind::Comment => 2,
    };
    let mut others: Vec<usize> = members.iter().copied().filter(|&p| p != author).collect();
    others.shuffle(rng);
    let n = rng.gen_range(0..=most).min(others.len());
    others.truncate(n);
    others
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{lang, markup};

    fn corpus() -> &'static Corpus {
        super::super::data::corpus().expect("the data files")
    }

    #[test]
    fn weighted_tables_are_not_empty() {
        assert!(!OPENING_KINDS.is_empty() && !REPLY_KINDS.is_empty());
    }

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let a = plan(corpus(), 7, 5);
        let b = plan(corpus(), 7, 5);
        assert_eq!(a.personas.len(), b.personas.len());
        assert_eq!(a.threads.len(), 25);
        for (x, y) in a.threads.iter().zip(&b.threads) {
            assert_eq!(x.title, y.title);
            assert_eq!(x.opening.body, y.opening.body);
            assert_eq!(x.replies.len(), y.replies.len());
        }
        let c = plan(corpus(), 8, 5);
        assert!(a
            .threads
            .iter()
            .zip(&c.threads)
            .any(|(x, y)| x.opening.body != y.opening.body));
    }

    #[test]
    fn every_region_language_has_speakers_threads_and_texts() {
        let p = plan(corpus(), 2026, 3);
        for region in &corpus().regions {
            for l in region.languages.iter().map(|l| l.tag.as_str()) {
                assert!(corpus().texts.iter().any(|t| t.tag == l), "{l}");
                let in_region = |x: &&Persona| region.countries.iter().any(|c| c.code == x.country);
                assert!(
                    p.personas.iter().filter(in_region).any(|x| x.language == l),
                    "{} {l}",
                    region.slug
                );
                assert!(
                    p.threads
                        .iter()
                        .any(|t| t.region == region.slug && t.opening.language == l),
                    "{} {l}",
                    region.slug
                );
                assert!(
                    region
                        .countries
                        .iter()
                        .any(|c| c.languages.iter().any(|x| x == l)),
                    "{} {l}",
                    region.slug
                );
            }
            for c in &region.countries {
                assert!(!c.cities.is_empty());
                assert!(hub_domain::validate::country(&c.code).is_ok(), "{}", c.code);
            }
        }
    }

    #[test]
    fn texts_are_complete_and_valid() {
        for t in &corpus().texts {
            assert!(!t.topics.is_empty(), "{}", t.tag);
            for tt in &t.topics {
                for title in &tt.titles {
                    assert!(
                        hub_domain::validate::title(&title.replace("{city}", "Dakar")).is_ok(),
                        "{title}"
                    );
                }
            }
        }
        // English, French, Spanish, Arabic and Chinese cover every topic.
        for tag in ["en", "fr", "es", "ar", "zh"] {
            for topic in Topic::ALL {
                assert!(
                    corpus().texts(tag).topic(topic).is_some(),
                    "{tag} {topic:?}"
                );
            }
        }
    }

    #[test]
    fn plans_respect_the_store_rules() {
        let p = plan(corpus(), 1, 12);
        let emails: HashSet<&str> = p.personas.iter().map(|x| x.email.as_str()).collect();
        assert_eq!(emails.len(), p.personas.len(), "e-mails are unique");
        for x in &p.personas {
            assert!(hub_domain::validate::email(&x.email).is_ok(), "{}", x.email);
            assert!(hub_domain::validate::display_name(&x.display_name).is_ok());
            assert!(hub_domain::validate::organisation(x.organisation.as_deref()).is_ok());
            assert!(x.email.ends_with("+demo@example.org"));
        }
        for t in &p.threads {
            assert!(hub_domain::validate::title(&t.title).is_ok());
            for post in std::iter::once(&t.opening).chain(&t.replies) {
                assert!(
                    !post.endorsers.contains(&post.author),
                    "no self-endorsement"
                );
                assert!(hub_domain::validate::objective_ids(&post.objectives).is_ok());
                assert!(hub_domain::validate::body(&post.body).is_ok());
                assert!(
                    !post.body.contains('{'),
                    "unfilled placeholder: {}",
                    post.body
                );
            }
        }
    }

    #[test]
    fn generated_texts_are_detected_as_written() {
        let p = plan(corpus(), 3, 8);
        let mut agree = 0;
        let mut total = 0;
        for t in &p.threads {
            let plain = markup::plain_text(&t.opening.body);
            total += 1;
            if lang::detect(&plain).as_deref() == Some(t.opening.language) {
                agree += 1;
            }
        }
        assert!(
            agree * 10 >= total * 9,
            "{agree} of {total} opening posts detected as written"
        );
    }
}
