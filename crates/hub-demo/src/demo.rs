//! `hub demo`: a realistic, multilingual, generated corpus in all five regional spaces, so that
//! the forum, search, moderation and the analysis documents can be shown and tested without
//! real participants' data.
//!
//! Everything is drawn from one seeded generator (`StdRng::seed_from_u64`, ChaCha12 in rand
//! 0.8): the same seed and thread count give the same accounts, threads, texts, reply trees and
//! endorsements. The texts are composed from phrase banks written per language (English,
//! French, Spanish, Arabic, Chinese, Russian, Portuguese) and per topic, each topic tied to the
//! GCM objectives it is about (decent work 6, remittances 20, alternatives to detention 13,
//! missing migrants 8, climate displacement 2, skills recognition 18, consular protection 14,
//! data 1, with related objectives), so that the objective filters and the analysis have
//! something meaningful to group. People and organisations are invented; e-mail addresses are
//! `...+demo@example.org`.
//!
//! Posts are dated over the eight weeks before the day of the run (UTC), from a second
//! generator seeded from the same seed: replies after what they answer, endorsements at their
//! post's time. So a document built the same day from the same seed is the same, and its
//! week-by-week figures show a discussion rather than one spike on the day of loading.
//!
//! Running the demo again does not duplicate it: the last account written is
//! [`DEMO_COMPLETE_EMAIL`], and when it exists the run reports "already loaded". A run that
//! was interrupted is completed rather than duplicated: accounts are looked up before they are
//! created, and threads and posts are written with idempotency keys derived from the seed
//! (the store honours them for 24 hours).

use crate::polis::{self, PolisReport};
use anyhow::{bail, Context, Result};
use hub_domain::{
    lang, markup, search, Aspect, AuthorRef, PostKind, PostStatus, StakeholderGroup, User,
};
use hub_store::{Backend, Created, IdempotencyKey, NewPost, NewThread, NewUser, Store, StoreError};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// The password of every demo account. Public on purpose: the demo is for showing and
/// testing the hub, never for a database with real participants.
pub const DEMO_PASSWORD: &str = "gcm-hub-demo-2026";

/// The account written last: its presence means a demo corpus is completely loaded.
pub const DEMO_COMPLETE_EMAIL: &str = "demo.facilitator+demo@example.org";

/// argon2id cost of demo accounts: 1 MiB and one pass instead of the production setting, so
/// that a hundred accounts hash in a fraction of a second. Acceptable only because the
/// password is published anyway.
const DEMO_HASH_MEMORY_KIB: u32 = 1024;
const DEMO_HASH_ITERATIONS: u32 = 1;

/// Most threads per region accepted, to catch a mistyped `--threads`.
const MAX_THREADS_PER_REGION: usize = 1000;

/// Deepest reply generated (the opening post is depth 0).
const MAX_REPLY_DEPTH: usize = 6;

/// The corpus is spread over this many weeks before the day of the run, so that the
/// week-by-week figures of analysis documents have something to show.
const SPREAD_WEEKS: i64 = 8;

/// Added to the seed for the generator of post times, which is separate from the one of the
/// corpus so that the texts and trees of a seed did not change when posts got times.
const TIME_SEED: u64 = 0x7469_6d65;

/// Options of the demo corpus.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Pol.is exports to import too.
    pub polis_dir: Option<PathBuf>,
    /// Generator seed.
    pub seed: u64,
    /// Threads per region.
    pub threads_per_region: usize,
}

/// Threads and posts written in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTally {
    /// Region slug.
    pub region: String,
    /// Threads created.
    pub threads: usize,
    /// Posts created (opening posts and replies).
    pub posts: usize,
}

/// What the demo loaded.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    /// Accounts created.
    pub users: usize,
    /// Threads created.
    pub threads: usize,
    /// Posts created.
    pub posts: usize,
    /// Endorsements added.
    pub endorsements: usize,
    /// True when a complete demo corpus was found and nothing was generated.
    pub already_loaded: bool,
    /// Per region, in slug order.
    pub regions: Vec<RegionTally>,
    /// Posts created per language tag.
    pub languages: BTreeMap<String, usize>,
    /// Of those, posts whose language the detector found (the others were declared because
    /// detection failed or disagreed, as an author would correct it).
    pub languages_detected: BTreeMap<String, usize>,
    /// A demo account to sign in with (all share [`DEMO_PASSWORD`]).
    pub sample_account: Option<String>,
    /// The Pol.is import, when asked for.
    pub polis: Option<PolisReport>,
}

impl std::fmt::Display for DemoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.already_loaded {
            write!(
                f,
                "demo corpus already loaded ({DEMO_COMPLETE_EMAIL} exists): nothing generated"
            )?;
        } else {
            write!(
                f,
                "demo corpus: {} users, {} threads, {} posts, {} endorsements",
                self.users, self.threads, self.posts, self.endorsements
            )?;
            for r in self.regions.iter().filter(|r| r.threads > 0 || r.posts > 0) {
                write!(
                    f,
                    "\n  {}: {} threads, {} posts",
                    r.region, r.threads, r.posts
                )?;
            }
            if !self.languages.is_empty() {
                let langs: Vec<String> = self
                    .languages
                    .iter()
                    .map(|(l, n)| {
                        let d = self.languages_detected.get(l).copied().unwrap_or(0);
                        format!("{l} {n} ({d} detected)")
                    })
                    .collect();
                write!(f, "\n  languages: {}", langs.join(", "))?;
            }
        }
        let who = self
            .sample_account
            .as_deref()
            .unwrap_or(DEMO_COMPLETE_EMAIL);
        write!(
            f,
            "\n  sign in as {who} (or any ...+demo@example.org account) with the shared demo password \"{DEMO_PASSWORD}\""
        )?;
        if let Some(p) = &self.polis {
            write!(f, "\n{p}")?;
        }
        Ok(())
    }
}

/// Loads the demo corpus (unless one is loaded already) and, when asked, the Pol.is exports.
pub async fn run(store: &Store, opts: &DemoOptions) -> Result<DemoReport> {
    if opts.threads_per_region > MAX_THREADS_PER_REGION {
        bail!("--threads must be at most {MAX_THREADS_PER_REGION} per region");
    }
    let mut report = if store.user_by_email(DEMO_COMPLETE_EMAIL).await?.is_some() {
        DemoReport {
            already_loaded: true,
            ..DemoReport::default()
        }
    } else {
        let plan = plan(opts.seed, opts.threads_per_region);
        load(store, &plan, opts).await?
    };
    if let Some(dir) = &opts.polis_dir {
        report.polis = Some(polis::import_dir(store, dir).await?);
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the Pol.is import.

/// The author of a post, as the store wants it.
pub(crate) fn author_of(u: &User) -> AuthorRef {
    AuthorRef {
        id: u.id,
        display_name: u.display_name.clone(),
        organisation: u.organisation.clone(),
        stakeholder_group: u.stakeholder_group,
        country: u.country.clone(),
    }
}

/// The account with this e-mail, created when missing; `true` when created now.
pub(crate) async fn get_or_create_user(store: &Store, u: &NewUser) -> Result<(User, bool)> {
    if let Some((user, _)) = store.user_by_email(&u.email).await? {
        return Ok((user, false));
    }
    match store.create_user(u).await {
        Ok(user) => Ok((user, true)),
        // Created by someone else between the two calls.
        Err(StoreError::Conflict(_)) => match store.user_by_email(&u.email).await? {
            Some((user, _)) => Ok((user, false)),
            None => bail!("account {} conflicts but cannot be found", u.email),
        },
        Err(e) => Err(e).with_context(|| format!("cannot create account {}", u.email)),
    }
}

/// Gives generated or imported posts the time they were written rather than the time they
/// were loaded, so that documents built from them are reproducible and their week-by-week
/// figures mean something.
///
/// `posts` are `(post id, microseconds)` of posts of `thread_id`; endorsements of those posts
/// by `endorsers` (the synthetic accounts that made them) take their post's time, and the
/// thread's `created_at` and `last_activity_at` become its earliest and latest post's. One
/// transaction; rows already dated are not rewritten, so a second run writes nothing.
///
/// Raw SQL because the store stamps every write with the current time. This changes no
/// event: the log keeps when the rows were loaded.
pub(crate) async fn date_thread(
    store: &Store,
    thread_id: i64,
    posts: &[(i64, i64)],
    endorsers: &[i64],
) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    // SQLite: take the write lock at once (a deferred transaction that reads first may be
    // refused its upgrade while another connection writes).
    let mut tx = match store.backend() {
        Backend::Sqlite => store.pool().begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => store.pool().begin().await,
    }
    .context("cannot start a transaction")?;
    let endorsers = endorsers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    for &(post_id, at) in posts {
        sqlx::query(
            "UPDATE posts SET created_at = $1 WHERE id = $2 AND thread_id = $3 AND created_at <> $1",
        )
        .bind(at)
        .bind(post_id)
        .bind(thread_id)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("cannot date post {post_id}"))?;
        if !endorsers.is_empty() {
            // The ids are integers formatted here, not input: safe to inline.
            sqlx::query(&format!(
                "UPDATE endorsements SET created_at = $1 \
                 WHERE post_id = $2 AND user_id IN ({endorsers}) AND created_at <> $1"
            ))
            .bind(at)
            .bind(post_id)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot date the endorsements of post {post_id}"))?;
        }
    }
    sqlx::query(
        "UPDATE threads SET \
         created_at = (SELECT MIN(p.created_at) FROM posts p WHERE p.thread_id = $1), \
         last_activity_at = (SELECT MAX(p.created_at) FROM posts p WHERE p.thread_id = $1) \
         WHERE id = $1 AND (created_at <> (SELECT MIN(p.created_at) FROM posts p WHERE p.thread_id = $1) \
         OR last_activity_at <> (SELECT MAX(p.created_at) FROM posts p WHERE p.thread_id = $1))",
    )
    .bind(thread_id)
    .execute(&mut *tx)
    .await
    .with_context(|| format!("cannot date thread {thread_id}"))?;
    tx.commit()
        .await
        .with_context(|| format!("cannot date thread {thread_id}"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The plan: everything the corpus holds, decided up front from the seed alone.

/// Everything to write, in order.
#[derive(Debug, Clone)]
struct Plan {
    personas: Vec<Persona>,
    threads: Vec<ThreadPlan>,
}

#[derive(Debug, Clone)]
struct Persona {
    email: String,
    display_name: String,
    organisation: Option<String>,
    group: StakeholderGroup,
    country: &'static str,
    language: &'static str,
    attribution: bool,
}

#[derive(Debug, Clone)]
struct ThreadPlan {
    region: &'static str,
    /// Position in the region, for idempotency keys.
    index: usize,
    title: String,
    opening: PostPlan,
    replies: Vec<PostPlan>,
    /// When each post was written, in microseconds before the start of the day of the run:
    /// the opening post first, then the replies, each later than the one before.
    ago: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Opening,
    Reply(usize),
}

#[derive(Debug, Clone)]
struct PostPlan {
    author: usize,
    parent: Parent,
    kind: PostKind,
    body: String,
    language: &'static str,
    objectives: Vec<i64>,
    aspects: Vec<Aspect>,
    /// Personas who endorse it (never its author).
    endorsers: Vec<usize>,
}

fn users_per_region(threads_per_region: usize) -> usize {
    (8 + threads_per_region / 2).min(40)
}

/// Picks from a non-empty table (every table in this module is non-empty; a unit test checks).
fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// A phrase from a non-empty bank.
fn phrase(rng: &mut StdRng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len())]
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= *w;
    }
    &items[items.len() - 1].0
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
fn plan(seed: u64, threads_per_region: usize) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut time_rng = StdRng::seed_from_u64(seed.wrapping_add(TIME_SEED));
    let mut personas: Vec<Persona> = Vec::new();
    let mut emails: HashSet<String> = HashSet::new();
    let mut cities: Vec<&'static City> = Vec::new();
    let mut threads = Vec::new();
    for region in REGIONS {
        let first = personas.len();
        for i in 0..users_per_region(threads_per_region) {
            // Every language of the region gets a speaker before the weights apply.
            let language = match region.languages.get(i) {
                Some((l, _)) => *l,
                None => *weighted(&mut rng, region.languages),
            };
            let (persona, city) = make_persona(&mut rng, region, language, &mut emails);
            personas.push(persona);
            cities.push(city);
        }
        let members: Vec<usize> = (first..personas.len()).collect();
        let mut topic_use: Vec<(Topic, usize)> = Topic::ALL.iter().map(|t| (*t, 0)).collect();
        for index in 0..threads_per_region {
            let language = match region.languages.get(index) {
                Some((l, _)) => *l,
                None => *weighted(&mut rng, region.languages),
            };
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
            let texts = texts(personas[author].language);
            // The least discussed topic of the region that the author's language covers.
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
                *pick(&mut rng, &candidates)
            };
            if let Some(entry) = topic_use.iter_mut().find(|(t, _)| *t == topic) {
                entry.1 += 1;
            }
            let mut thread = make_thread(
                &mut rng, region, index, topic, author, &members, &personas, &cities,
            );
            thread.ago = post_times(&mut time_rng, thread.replies.len());
            threads.push(thread);
        }
    }
    Plan { personas, threads }
}

fn make_persona(
    rng: &mut StdRng,
    region: &'static RegionSpec,
    language: &'static str,
    emails: &mut HashSet<String>,
) -> (Persona, &'static City) {
    let countries: Vec<&'static CountrySpec> = region
        .countries
        .iter()
        .filter(|c| c.languages.contains(&language))
        .collect();
    let country: &'static CountrySpec = match countries.as_slice() {
        [] => &region.countries[0],
        list => list[rng.gen_range(0..list.len())],
    };
    let city: &'static City = pick(rng, country.cities);
    // Arabic and Chinese speakers of a country with another main culture (Chinese
    // Malaysians, say) are named in their own script.
    let culture = match language {
        "ar" => &ARAB,
        "zh" => &CHINESE,
        _ => country.culture,
    };
    let given = pick(rng, culture.given);
    let family = pick(rng, culture.family);
    let female_suffix = culture.gendered_family && given.female;
    let latin_family = if female_suffix {
        format!("{}a", family.latin)
    } else {
        family.latin.to_string()
    };
    let native_family = if female_suffix {
        format!("{}а", family.native())
    } else {
        family.native().to_string()
    };
    let native_script = matches!(language, "ar" | "zh" | "ru") && !given.native.is_empty();
    let display_name = match (culture.family_first, native_script) {
        (true, true) => format!("{native_family}{}", given.native()),
        (true, false) => format!("{latin_family} {}", given.latin),
        (false, true) => format!("{} {native_family}", given.native()),
        (false, false) => format!("{} {latin_family}", given.latin),
    };
    let (a, b) = if culture.family_first {
        (ascii_fold(&latin_family), ascii_fold(given.latin))
    } else {
        (ascii_fold(given.latin), ascii_fold(&latin_family))
    };
    let mut email = format!("{a}.{b}+demo@example.org");
    let mut n = 2;
    while !emails.insert(email.clone()) {
        email = format!("{a}.{b}{n}+demo@example.org");
        n += 1;
    }
    let group = *weighted(rng, GROUPS);
    let templates = organisation_templates(language, group);
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
            country: country.code,
            language,
            attribution,
        },
        city,
    )
}

#[allow(clippy::too_many_arguments)]
fn make_thread(
    rng: &mut StdRng,
    region: &'static RegionSpec,
    index: usize,
    topic: Topic,
    author: usize,
    members: &[usize],
    personas: &[Persona],
    cities: &[&'static City],
) -> ThreadPlan {
    let language = personas[author].language;
    let t = texts(language);
    let tt = t.topic(topic).unwrap_or(&t.topics[0]);
    let city = cities[author].name_in(language);
    let kind = *weighted(
        rng,
        &[
            (PostKind::Comment, 45),
            (PostKind::Recommendation, 35),
            (PostKind::Report, 20),
        ],
    );
    let title = fill(phrase(rng, &tt.titles), city, rng);
    let body = opening_body(rng, t, tt, kind, city);
    let opening = PostPlan {
        author,
        parent: Parent::Opening,
        kind,
        body,
        language,
        objectives: objectives_for(rng, topic, kind, true),
        aspects: aspects_for(rng, kind),
        endorsers: endorsers(rng, kind, author, members),
    };
    let mut replies: Vec<PostPlan> = Vec::new();
    let mut depths: Vec<usize> = Vec::new();
    let count = rng.gen_range(2..=7);
    for j in 0..count {
        // Repliers write in their own language; the few topics a language lacks go to
        // someone whose language has them.
        let able: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&p| texts(personas[p].language).topic(topic).is_some())
            .collect();
        let previous = replies.last().map_or(author, |r| r.author);
        let others: Vec<usize> = able.iter().copied().filter(|&p| p != previous).collect();
        let who = if others.is_empty() {
            author
        } else {
            *pick(rng, &others)
        };
        let r: f64 = rng.gen();
        let parent = if j == 0 || r < 0.35 {
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
        };
        depths.push(match parent {
            Parent::Opening => 1,
            Parent::Reply(k) => depths[k] + 1,
        });
        let rlang = personas[who].language;
        let rt = texts(rlang);
        let rtt = rt.topic(topic).unwrap_or(tt);
        let rcity = cities[who].name_in(rlang);
        let rkind = *weighted(
            rng,
            &[
                (PostKind::Comment, 70),
                (PostKind::Recommendation, 22),
                (PostKind::Report, 8),
            ],
        );
        let body = reply_body(rng, rt, rtt, rkind, rcity);
        replies.push(PostPlan {
            author: who,
            parent,
            kind: rkind,
            body,
            language: rlang,
            objectives: objectives_for(rng, topic, rkind, false),
            aspects: aspects_for(rng, rkind),
            endorsers: endorsers(rng, rkind, who, members),
        });
    }
    ThreadPlan {
        region: region.slug,
        index,
        title,
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

fn opening_body(
    rng: &mut StdRng,
    t: &LangText,
    tt: &TopicText,
    kind: PostKind,
    city: &str,
) -> String {
    let sep = t.sep;
    let opening = fill(phrase(rng, &tt.openings), city, rng);
    let mut details = [tt.details[0], tt.details[1]];
    details.shuffle(rng);
    let d0 = fill(details[0], city, rng);
    match kind {
        PostKind::Comment => {
            let q = phrase(rng, &t.questions);
            format!("{opening}{sep}{d0}\n\n{q}\n")
        }
        PostKind::Recommendation => {
            let mut asks = [tt.asks[0], tt.asks[1]];
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

fn reply_body(
    rng: &mut StdRng,
    t: &LangText,
    tt: &TopicText,
    kind: PostKind,
    city: &str,
) -> String {
    let sep = t.sep;
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

// ---------------------------------------------------------------------------------------------
// Writing the plan.

async fn load(store: &Store, plan: &Plan, opts: &DemoOptions) -> Result<DemoReport> {
    let mut report = DemoReport {
        regions: REGIONS
            .iter()
            .map(|r| RegionTally {
                region: r.slug.to_string(),
                ..RegionTally::default()
            })
            .collect(),
        sample_account: plan.personas.first().map(|p| p.email.clone()),
        ..DemoReport::default()
    };
    let mut authors: Vec<AuthorRef> = Vec::with_capacity(plan.personas.len());
    for p in &plan.personas {
        let (user, created) = get_or_create_user(store, &demo_user(p)?).await?;
        report.users += usize::from(created);
        authors.push(author_of(&user));
    }
    let key_base = format!("hub-demo:{}:{}", opts.seed, opts.threads_per_region);
    let persona_ids: Vec<i64> = authors.iter().map(|a| a.id).collect();
    // Posts are dated before the start of today (UTC): never in the future, and the same
    // all day long, whatever the time of the run.
    let day_start = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or_else(hub_store::now_micros, |d| d.and_utc().timestamp_micros());
    for t in &plan.threads {
        let tally = report
            .regions
            .iter()
            .position(|r| r.region == t.region)
            .unwrap_or(0);
        let author = &authors[t.opening.author];
        let key = idempotency_key(author, format!("{key_base}:{}:{}", t.region, t.index));
        let thread = NewThread {
            region: t.region.to_string(),
            title: t.title.clone(),
            opening: new_post(author, &t.opening, None),
        };
        let (thread_id, opening_id) = match store.create_thread(&thread, Some(&key)).await? {
            Created::New((th, p)) => {
                report.threads += 1;
                report.posts += 1;
                report.regions[tally].threads += 1;
                report.regions[tally].posts += 1;
                count_language(&mut report, &p);
                (th.id, p.id)
            }
            Created::Replayed(id) => {
                let th = store.thread(id).await?;
                (id, th.opening_post_id.unwrap_or_default())
            }
        };
        report.endorsements += endorse(store, opening_id, &t.opening, &authors).await?;
        let at = |i: usize| day_start - t.ago.get(i).copied().unwrap_or(0);
        let mut times: Vec<(i64, i64)> = vec![(opening_id, at(0))];
        let mut reply_ids: Vec<i64> = Vec::with_capacity(t.replies.len());
        for (j, r) in t.replies.iter().enumerate() {
            let parent = match r.parent {
                Parent::Opening => opening_id,
                Parent::Reply(k) => reply_ids.get(k).copied().unwrap_or(opening_id),
            };
            let author = &authors[r.author];
            let key = idempotency_key(author, format!("{key_base}:{}:{}:{j}", t.region, t.index));
            let post = new_post(author, r, Some(parent));
            let id = match store.create_post(thread_id, &post, Some(&key)).await? {
                Created::New(p) => {
                    report.posts += 1;
                    report.regions[tally].posts += 1;
                    count_language(&mut report, &p);
                    p.id
                }
                Created::Replayed(id) => id,
            };
            reply_ids.push(id);
            times.push((id, at(j + 1)));
            report.endorsements += endorse(store, id, r, &authors).await?;
        }
        date_thread(store, thread_id, &times, &persona_ids)
            .await
            .with_context(|| format!("cannot date the posts of thread {thread_id}"))?;
    }
    // Written last: its presence says the corpus is complete.
    let facilitator = Persona {
        email: DEMO_COMPLETE_EMAIL.to_string(),
        display_name: "Demo facilitator".to_string(),
        organisation: Some("GCM regional hub demo".to_string()),
        group: StakeholderGroup::Other,
        country: "CH",
        language: "en",
        attribution: false,
    };
    let (_, created) = get_or_create_user(store, &demo_user(&facilitator)?).await?;
    report.users += usize::from(created);
    Ok(report)
}

fn demo_user(p: &Persona) -> Result<NewUser> {
    let password_hash =
        hub_api::auth::hash_password(DEMO_PASSWORD, DEMO_HASH_MEMORY_KIB, DEMO_HASH_ITERATIONS)
            .map_err(|_| anyhow::anyhow!("cannot hash the demo password"))?;
    Ok(NewUser {
        email: p.email.clone(),
        password_hash,
        display_name: p.display_name.clone(),
        organisation: p.organisation.clone(),
        stakeholder_group: p.group,
        country: Some(p.country.to_string()),
        language: Some(p.language.to_string()),
        attribution: p.attribution,
    })
}

fn idempotency_key(author: &AuthorRef, key: String) -> IdempotencyKey {
    IdempotencyKey {
        user_id: author.id,
        fingerprint: key.clone(),
        key,
    }
}

fn count_language(report: &mut DemoReport, p: &hub_domain::Post) {
    let l = p.language.clone().unwrap_or_else(|| "und".to_string());
    if p.language_detected {
        *report.languages_detected.entry(l.clone()).or_insert(0) += 1;
    }
    *report.languages.entry(l).or_insert(0) += 1;
}

/// A post rendered and indexed as the API does it. The language is detected from the text as
/// for an author who declares none; when the detector fails or guesses another language, the
/// language the text was written in is declared, as an author would correct it.
fn new_post(author: &AuthorRef, p: &PostPlan, parent: Option<i64>) -> NewPost {
    let plain = markup::plain_text(&p.body);
    let (language, detected) = match lang::detect(&plain) {
        Some(d) if d == p.language => (d, true),
        _ => (p.language.to_string(), false),
    };
    NewPost {
        author: author.clone(),
        parent_id: parent,
        kind: p.kind,
        body: p.body.clone(),
        body_html: markup::render_markdown(&p.body),
        search_terms: search::index_text(&plain),
        language: Some(language),
        language_detected: detected,
        objectives: p.objectives.clone(),
        aspects: p.aspects.clone(),
        status: PostStatus::Published,
    }
}

async fn endorse(
    store: &Store,
    post_id: i64,
    p: &PostPlan,
    authors: &[AuthorRef],
) -> Result<usize> {
    let mut added = 0;
    for &e in &p.endorsers {
        let (_, changed) = store
            .endorse(post_id, authors[e].id)
            .await
            .with_context(|| format!("cannot endorse post {post_id}"))?;
        added += usize::from(changed);
    }
    Ok(added)
}

// ---------------------------------------------------------------------------------------------
// Regions, countries, names and organisations.

struct RegionSpec {
    slug: &'static str,
    /// Languages written in the space, with their weights.
    languages: &'static [(&'static str, u32)],
    countries: &'static [CountrySpec],
}

struct CountrySpec {
    /// ISO 3166-1 alpha-2.
    code: &'static str,
    /// Languages its participants write in (within the region's).
    languages: &'static [&'static str],
    /// Names of its participants when they write in a Latin-script language.
    culture: &'static NameBank,
    cities: &'static [City],
}

struct City {
    name: &'static str,
    /// The name in other languages, where it differs.
    local: &'static [(&'static str, &'static str)],
}

impl City {
    fn name_in(&self, language: &str) -> &'static str {
        self.local
            .iter()
            .find(|(l, _)| *l == language)
            .map_or(self.name, |(_, n)| *n)
    }
}

const fn city(name: &'static str) -> City {
    City { name, local: &[] }
}

struct NameBank {
    given: &'static [Name],
    family: &'static [Name],
    /// Family name first (Chinese).
    family_first: bool,
    /// Family names take a feminine ending (Russian `-ov` / `-ova`).
    gendered_family: bool,
}

struct Name {
    latin: &'static str,
    /// The name in its own script; empty when it is the Latin one.
    native: &'static str,
    female: bool,
}

impl Name {
    fn native(&self) -> &'static str {
        if self.native.is_empty() {
            self.latin
        } else {
            self.native
        }
    }
}

const fn n(latin: &'static str) -> Name {
    Name {
        latin,
        native: "",
        female: false,
    }
}

const fn m(latin: &'static str, native: &'static str) -> Name {
    Name {
        latin,
        native,
        female: false,
    }
}

const fn f(latin: &'static str, native: &'static str) -> Name {
    Name {
        latin,
        native,
        female: true,
    }
}

const fn bank(given: &'static [Name], family: &'static [Name]) -> NameBank {
    NameBank {
        given,
        family,
        family_first: false,
        gendered_family: false,
    }
}

static SAHEL: NameBank = bank(
    &[
        n("Amina"),
        n("Moussa"),
        n("Fatou"),
        n("Ibrahima"),
        n("Awa"),
        n("Cheikh"),
        n("Aïssata"),
        n("Oumar"),
        n("Mariam"),
        n("Seydou"),
    ],
    &[
        n("Diallo"),
        n("Traoré"),
        n("Ndiaye"),
        n("Koné"),
        n("Camara"),
        n("Sow"),
        n("Ouédraogo"),
        n("Diop"),
        n("Keïta"),
        n("Coulibaly"),
    ],
);
static ANGLOPHONE_WEST_AFRICA: NameBank = bank(
    &[
        n("Kofi"),
        n("Adjoa"),
        n("Chinedu"),
        n("Ngozi"),
        n("Kwame"),
        n("Abena"),
        n("Emeka"),
        n("Funmilayo"),
    ],
    &[
        n("Mensah"),
        n("Okafor"),
        n("Adebayo"),
        n("Asante"),
        n("Eze"),
        n("Boateng"),
        n("Owusu"),
        n("Nwosu"),
    ],
);
static CENTRAL_AFRICA: NameBank = bank(
    &[
        n("Brigitte"),
        n("Jean-Paul"),
        n("Estelle"),
        n("Serge"),
        n("Mireille"),
        n("Patrice"),
        n("Carine"),
        n("Alain"),
    ],
    &[
        n("Mbarga"),
        n("Fotso"),
        n("Nkoulou"),
        n("Tchamba"),
        n("Ngono"),
        n("Kamga"),
        n("Essomba"),
        n("Biya Ndzana"),
    ],
);
static EAST_AFRICA: NameBank = bank(
    &[
        n("Wanjiru"),
        n("Otieno"),
        n("Achieng"),
        n("Kato"),
        n("Nakato"),
        n("Zawadi"),
        n("Baraka"),
        n("Amani"),
    ],
    &[
        n("Mwangi"),
        n("Kamau"),
        n("Odhiambo"),
        n("Mugisha"),
        n("Wekesa"),
        n("Ochieng"),
        n("Kiprop"),
        n("Ssempala"),
    ],
);
static ETHIOPIA: NameBank = bank(
    &[
        n("Tesfaye"),
        n("Mekdes"),
        n("Selam"),
        n("Dawit"),
        n("Hiwot"),
        n("Yonas"),
    ],
    &[
        n("Bekele"),
        n("Haile"),
        n("Abebe"),
        n("Tadesse"),
        n("Girma"),
        n("Alemu"),
    ],
);
static SOUTHERN_AFRICA: NameBank = bank(
    &[
        n("Lerato"),
        n("Thabo"),
        n("Nomvula"),
        n("Sipho"),
        n("Thandiwe"),
        n("Bongani"),
    ],
    &[
        n("Dlamini"),
        n("Nkosi"),
        n("Mokoena"),
        n("Ndlovu"),
        n("Khumalo"),
        n("Mahlangu"),
    ],
);
static LUSOPHONE_AFRICA: NameBank = bank(
    &[
        n("Ana"),
        n("João"),
        n("Celeste"),
        n("Armando"),
        n("Graça"),
        n("Nelson"),
        n("Fátima"),
        n("Domingos"),
    ],
    &[
        n("Machava"),
        n("Cossa"),
        n("dos Santos"),
        n("Tembe"),
        n("Fernandes"),
        n("Lopes"),
        n("Mondlane"),
        n("Semedo"),
    ],
);
static ARAB: NameBank = bank(
    &[
        f("Layla", "ليلى"),
        m("Omar", "عمر"),
        f("Nour", "نور"),
        m("Youssef", "يوسف"),
        f("Rania", "رانيا"),
        m("Karim", "كريم"),
        f("Huda", "هدى"),
        m("Samir", "سمير"),
        f("Mariam", "مريم"),
        m("Ahmed", "أحمد"),
        f("Salma", "سلمى"),
        m("Khaled", "خالد"),
    ],
    &[
        m("Haddad", "حداد"),
        m("Mansour", "منصور"),
        m("Khoury", "خوري"),
        m("Saleh", "صالح"),
        m("Benali", "بن علي"),
        m("El Amrani", "العمراني"),
        m("Abdallah", "عبد الله"),
        m("Nasser", "ناصر"),
        m("Farouk", "فاروق"),
        m("Bakri", "البكري"),
        m("Hamdan", "حمدان"),
        m("Tahir", "طاهر"),
    ],
);
static CHINESE: NameBank = NameBank {
    given: &[
        f("Fang", "芳"),
        m("Wei", "伟"),
        f("Min", "敏"),
        f("Jing", "静"),
        m("Lei", "磊"),
        f("Xiuying", "秀英"),
        m("Jun", "军"),
        f("Lina", "丽娜"),
        m("Hao", "浩"),
        f("Mei", "梅"),
    ],
    family: &[
        m("Wang", "王"),
        m("Li", "李"),
        m("Zhang", "张"),
        m("Chen", "陈"),
        m("Liu", "刘"),
        m("Lin", "林"),
        m("Huang", "黄"),
        m("Zhou", "周"),
        m("Wu", "吴"),
        m("Xu", "徐"),
    ],
    family_first: true,
    gendered_family: false,
};
static CENTRAL_ASIA: NameBank = NameBank {
    given: &[
        f("Aigerim", "Айгерим"),
        m("Nurlan", "Нурлан"),
        f("Gulnara", "Гульнара"),
        m("Farrukh", "Фаррух"),
        f("Dilnoza", "Дильноза"),
        m("Timur", "Тимур"),
        m("Rustam", "Рустам"),
        f("Zarina", "Зарина"),
    ],
    family: &[
        m("Abdullaev", "Абдуллаев"),
        m("Kasymov", "Касымов"),
        m("Nazarov", "Назаров"),
        m("Sultanov", "Султанов"),
        m("Rakhimov", "Рахимов"),
        m("Yusupov", "Юсупов"),
        m("Tursunov", "Турсунов"),
        m("Usmonov", "Усмонов"),
    ],
    family_first: false,
    gendered_family: true,
};
static SLAVIC: NameBank = NameBank {
    given: &[
        f("Olga", "Ольга"),
        m("Dmitry", "Дмитрий"),
        f("Anna", "Анна"),
        m("Sergey", "Сергей"),
        f("Elena", "Елена"),
        m("Alexey", "Алексей"),
    ],
    family: &[
        m("Ivanov", "Иванов"),
        m("Petrov", "Петров"),
        m("Smirnov", "Смирнов"),
        m("Kuznetsov", "Кузнецов"),
        m("Popov", "Попов"),
        m("Sokolov", "Соколов"),
    ],
    family_first: false,
    gendered_family: true,
};
static ARMENIA: NameBank = bank(
    &[
        f("Anahit", "Анаит"),
        m("Armen", "Армен"),
        f("Lilit", "Лилит"),
        m("Davit", "Давид"),
        f("Narine", "Нарине"),
        m("Hayk", "Айк"),
    ],
    &[
        m("Petrosyan", "Петросян"),
        m("Hakobyan", "Акопян"),
        m("Sargsyan", "Саргсян"),
        m("Grigoryan", "Григорян"),
        m("Harutyunyan", "Арутюнян"),
        m("Vardanyan", "Варданян"),
    ],
);
static NEPAL: NameBank = bank(
    &[
        n("Sunita"),
        n("Ramesh"),
        n("Sita"),
        n("Bikash"),
        n("Anita"),
        n("Prakash"),
    ],
    &[
        n("Thapa"),
        n("Gurung"),
        n("Shrestha"),
        n("Tamang"),
        n("Rai"),
        n("Magar"),
    ],
);
static BANGLADESH_PAKISTAN: NameBank = bank(
    &[
        n("Farida"),
        n("Nasreen"),
        n("Imran"),
        n("Kamal"),
        n("Rashida"),
        n("Tariq"),
    ],
    &[
        n("Rahman"),
        n("Hossain"),
        n("Khan"),
        n("Iqbal"),
        n("Ahmed"),
        n("Chowdhury"),
    ],
);
static INDIA: NameBank = bank(
    &[
        n("Anjali"),
        n("Rahul"),
        n("Sanjay"),
        n("Priya"),
        n("Arjun"),
        n("Lakshmi"),
    ],
    &[
        n("Sharma"),
        n("Nair"),
        n("Menon"),
        n("Singh"),
        n("Patel"),
        n("Iyer"),
    ],
);
static SRI_LANKA: NameBank = bank(
    &[
        n("Dilani"),
        n("Nuwan"),
        n("Chamari"),
        n("Kasun"),
        n("Ishara"),
        n("Ruwan"),
    ],
    &[
        n("Perera"),
        n("Fernando"),
        n("Jayasinghe"),
        n("Wickramasinghe"),
        n("Bandara"),
        n("de Silva"),
    ],
);
static PHILIPPINES: NameBank = bank(
    &[
        n("Maria"),
        n("Jose"),
        n("Liza"),
        n("Ramon"),
        n("Grace"),
        n("Joel"),
    ],
    &[
        n("Santos"),
        n("Reyes"),
        n("Cruz"),
        n("Bautista"),
        n("Dela Cruz"),
        n("Mendoza"),
    ],
);
static MALAY_INDONESIAN: NameBank = bank(
    &[
        n("Siti"),
        n("Budi"),
        n("Nurul"),
        n("Dewi"),
        n("Hafiz"),
        n("Ayu"),
        n("Rizal"),
        n("Farah"),
    ],
    &[
        n("Wijaya"),
        n("Santoso"),
        n("Hashim"),
        n("Ismail"),
        n("Prasetyo"),
        n("Rahman"),
        n("Abdullah"),
        n("Hidayat"),
    ],
);
static THAILAND: NameBank = bank(
    &[
        n("Somchai"),
        n("Anan"),
        n("Malee"),
        n("Kanya"),
        n("Niran"),
        n("Pim"),
    ],
    &[
        n("Suksawat"),
        n("Chaiyaporn"),
        n("Srisuk"),
        n("Wongsa"),
        n("Rattana"),
        n("Boonmee"),
    ],
);
static FIJI: NameBank = bank(
    &[
        n("Mere"),
        n("Josefa"),
        n("Losana"),
        n("Seru"),
        n("Litia"),
        n("Viliame"),
    ],
    &[
        n("Naivalu"),
        n("Koroi"),
        n("Tuivaga"),
        n("Waqa"),
        n("Ravuvu"),
        n("Delai"),
    ],
);
static AUSTRALIA: NameBank = bank(
    &[
        n("Emily"),
        n("Jack"),
        n("Olivia"),
        n("Liam"),
        n("Chloe"),
        n("Mitchell"),
    ],
    &[
        n("Wilson"),
        n("Brown"),
        n("Nguyen"),
        n("Taylor"),
        n("Murphy"),
        n("Kaur"),
    ],
);
static GERMANY: NameBank = bank(
    &[
        n("Anna"),
        n("Lukas"),
        n("Jonas"),
        n("Lea"),
        n("Felix"),
        n("Miriam"),
    ],
    &[
        n("Schneider"),
        n("Bauer"),
        n("Fischer"),
        n("Wagner"),
        n("Becker"),
        n("Demir"),
    ],
);
static ITALY: NameBank = bank(
    &[
        n("Sofia"),
        n("Marco"),
        n("Giulia"),
        n("Luca"),
        n("Chiara"),
        n("Davide"),
    ],
    &[
        n("Rossi"),
        n("Conti"),
        n("Moretti"),
        n("Esposito"),
        n("Romano"),
        n("Ricci"),
    ],
);
static NETHERLANDS: NameBank = bank(
    &[
        n("Anouk"),
        n("Daan"),
        n("Sanne"),
        n("Bram"),
        n("Femke"),
        n("Joris"),
    ],
    &[
        n("Jansen"),
        n("de Vries"),
        n("Bakker"),
        n("Visser"),
        n("Smit"),
        n("Mulder"),
    ],
);
static SWEDEN: NameBank = bank(
    &[
        n("Erik"),
        n("Astrid"),
        n("Johan"),
        n("Elin"),
        n("Karin"),
        n("Anders"),
    ],
    &[
        n("Lindqvist"),
        n("Johansson"),
        n("Andersson"),
        n("Nilsson"),
        n("Berg"),
        n("Lund"),
    ],
);
static BRITAIN: NameBank = bank(
    &[
        n("Sarah"),
        n("James"),
        n("Emma"),
        n("Oliver"),
        n("Priya"),
        n("Daniel"),
    ],
    &[
        n("Evans"),
        n("Walsh"),
        n("Patel"),
        n("Hughes"),
        n("Clarke"),
        n("Okafor"),
    ],
);
static NORTH_AMERICA: NameBank = bank(
    &[
        n("Sarah"),
        n("Daniel"),
        n("Maya"),
        n("James"),
        n("Priya"),
        n("Carlos"),
        n("Aisha"),
        n("Ethan"),
    ],
    &[
        n("Johnson"),
        n("Nguyen"),
        n("Tremblay"),
        n("Garcia"),
        n("Okoro"),
        n("Miller"),
        n("Chen"),
        n("Roy"),
    ],
);
static FRANCOPHONE_EUROPE: NameBank = bank(
    &[
        n("Camille"),
        n("Julien"),
        n("Claire"),
        n("Mehdi"),
        n("Sophie"),
        n("Nicolas"),
        n("Inès"),
        n("Thomas"),
    ],
    &[
        n("Martin"),
        n("Dubois"),
        n("Lefèvre"),
        n("Bernard"),
        n("Morel"),
        n("Girard"),
        n("Fontaine"),
        n("Mercier"),
    ],
);
static HISPANIC: NameBank = bank(
    &[
        n("María"),
        n("José"),
        n("Lucía"),
        n("Carlos"),
        n("Gabriela"),
        n("Andrés"),
        n("Valentina"),
        n("Luis"),
        n("Carmen"),
        n("Diego"),
        n("Rosa"),
        n("Javier"),
    ],
    &[
        n("García"),
        n("Hernández"),
        n("Rodríguez"),
        n("López"),
        n("Martínez"),
        n("Pérez"),
        n("Gómez"),
        n("Flores"),
        n("Morales"),
        n("Ramírez"),
        n("Castillo"),
        n("Vargas"),
    ],
);
static BRAZILIAN: NameBank = bank(
    &[
        n("Ana"),
        n("João"),
        n("Mariana"),
        n("Pedro"),
        n("Juliana"),
        n("Rafael"),
        n("Fernanda"),
        n("Lucas"),
    ],
    &[
        n("Silva"),
        n("Souza"),
        n("Oliveira"),
        n("Pereira"),
        n("Costa"),
        n("Almeida"),
        n("Ferreira"),
        n("Rocha"),
    ],
);
static CARIBBEAN: NameBank = bank(
    &[
        n("Keisha"),
        n("Andre"),
        n("Shanice"),
        n("Marlon"),
        n("Tamara"),
        n("Devon"),
    ],
    &[
        n("Campbell"),
        n("Brown"),
        n("Williams"),
        n("Thompson"),
        n("Baptiste"),
        n("Joseph"),
    ],
);

static REGIONS: &[RegionSpec] = &[
    RegionSpec {
        slug: "africa",
        languages: &[("en", 3), ("fr", 3), ("pt", 1)],
        countries: &[
            CountrySpec {
                code: "KE",
                languages: &["en"],
                culture: &EAST_AFRICA,
                cities: &[city("Nairobi"), city("Mombasa")],
            },
            CountrySpec {
                code: "NG",
                languages: &["en"],
                culture: &ANGLOPHONE_WEST_AFRICA,
                cities: &[city("Lagos"), city("Kano")],
            },
            CountrySpec {
                code: "GH",
                languages: &["en"],
                culture: &ANGLOPHONE_WEST_AFRICA,
                cities: &[city("Accra"), city("Kumasi")],
            },
            CountrySpec {
                code: "ET",
                languages: &["en"],
                culture: &ETHIOPIA,
                cities: &[city("Addis Ababa")],
            },
            CountrySpec {
                code: "ZA",
                languages: &["en"],
                culture: &SOUTHERN_AFRICA,
                cities: &[city("Johannesburg"), city("Durban")],
            },
            CountrySpec {
                code: "UG",
                languages: &["en"],
                culture: &EAST_AFRICA,
                cities: &[city("Kampala")],
            },
            CountrySpec {
                code: "SN",
                languages: &["fr"],
                culture: &SAHEL,
                cities: &[city("Dakar"), city("Saint-Louis")],
            },
            CountrySpec {
                code: "ML",
                languages: &["fr"],
                culture: &SAHEL,
                cities: &[city("Bamako"), city("Kayes")],
            },
            CountrySpec {
                code: "CI",
                languages: &["fr"],
                culture: &SAHEL,
                cities: &[city("Abidjan")],
            },
            CountrySpec {
                code: "NE",
                languages: &["fr"],
                culture: &SAHEL,
                cities: &[city("Niamey"), city("Agadez")],
            },
            CountrySpec {
                code: "CM",
                languages: &["fr", "en"],
                culture: &CENTRAL_AFRICA,
                cities: &[city("Douala"), city("Yaoundé")],
            },
            CountrySpec {
                code: "MZ",
                languages: &["pt"],
                culture: &LUSOPHONE_AFRICA,
                cities: &[city("Maputo"), city("Beira")],
            },
            CountrySpec {
                code: "AO",
                languages: &["pt"],
                culture: &LUSOPHONE_AFRICA,
                cities: &[city("Luanda")],
            },
            CountrySpec {
                code: "CV",
                languages: &["pt"],
                culture: &LUSOPHONE_AFRICA,
                cities: &[city("Praia")],
            },
        ],
    },
    RegionSpec {
        slug: "arab-region",
        languages: &[("ar", 4), ("en", 2), ("fr", 1)],
        countries: &[
            CountrySpec {
                code: "EG",
                languages: &["ar", "en"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Cairo",
                        local: &[("ar", "القاهرة"), ("fr", "Le Caire")],
                    },
                    City {
                        name: "Alexandria",
                        local: &[("ar", "الإسكندرية"), ("fr", "Alexandrie")],
                    },
                ],
            },
            CountrySpec {
                code: "JO",
                languages: &["ar", "en"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Amman",
                        local: &[("ar", "عمّان")],
                    },
                    City {
                        name: "Irbid",
                        local: &[("ar", "إربد")],
                    },
                ],
            },
            CountrySpec {
                code: "LB",
                languages: &["ar", "fr", "en"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Beirut",
                        local: &[("ar", "بيروت"), ("fr", "Beyrouth")],
                    },
                    City {
                        name: "Tripoli",
                        local: &[("ar", "طرابلس")],
                    },
                ],
            },
            CountrySpec {
                code: "MA",
                languages: &["ar", "fr"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Casablanca",
                        local: &[("ar", "الدار البيضاء")],
                    },
                    City {
                        name: "Rabat",
                        local: &[("ar", "الرباط")],
                    },
                    City {
                        name: "Oujda",
                        local: &[("ar", "وجدة")],
                    },
                ],
            },
            CountrySpec {
                code: "TN",
                languages: &["ar", "fr"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Tunis",
                        local: &[("ar", "تونس")],
                    },
                    City {
                        name: "Sfax",
                        local: &[("ar", "صفاقس")],
                    },
                ],
            },
            CountrySpec {
                code: "IQ",
                languages: &["ar"],
                culture: &ARAB,
                cities: &[
                    City {
                        name: "Erbil",
                        local: &[("ar", "أربيل")],
                    },
                    City {
                        name: "Basra",
                        local: &[("ar", "البصرة")],
                    },
                ],
            },
            CountrySpec {
                code: "SD",
                languages: &["ar", "en"],
                culture: &ARAB,
                cities: &[City {
                    name: "Khartoum",
                    local: &[("ar", "الخرطوم")],
                }],
            },
            CountrySpec {
                code: "AE",
                languages: &["ar", "en"],
                culture: &ARAB,
                cities: &[City {
                    name: "Dubai",
                    local: &[("ar", "دبي"), ("fr", "Dubaï")],
                }],
            },
            CountrySpec {
                code: "QA",
                languages: &["ar", "en"],
                culture: &ARAB,
                cities: &[City {
                    name: "Doha",
                    local: &[("ar", "الدوحة")],
                }],
            },
            CountrySpec {
                code: "YE",
                languages: &["ar"],
                culture: &ARAB,
                cities: &[City {
                    name: "Aden",
                    local: &[("ar", "عدن")],
                }],
            },
        ],
    },
    RegionSpec {
        slug: "asia-pacific",
        languages: &[("en", 4), ("zh", 3)],
        countries: &[
            CountrySpec {
                code: "PH",
                languages: &["en"],
                culture: &PHILIPPINES,
                cities: &[city("Manila"), city("Cebu")],
            },
            CountrySpec {
                code: "BD",
                languages: &["en"],
                culture: &BANGLADESH_PAKISTAN,
                cities: &[city("Dhaka"), city("Sylhet")],
            },
            CountrySpec {
                code: "NP",
                languages: &["en"],
                culture: &NEPAL,
                cities: &[city("Kathmandu")],
            },
            CountrySpec {
                code: "LK",
                languages: &["en"],
                culture: &SRI_LANKA,
                cities: &[city("Colombo")],
            },
            CountrySpec {
                code: "IN",
                languages: &["en"],
                culture: &INDIA,
                cities: &[city("Kochi"), city("Delhi")],
            },
            CountrySpec {
                code: "PK",
                languages: &["en"],
                culture: &BANGLADESH_PAKISTAN,
                cities: &[city("Lahore")],
            },
            CountrySpec {
                code: "ID",
                languages: &["en"],
                culture: &MALAY_INDONESIAN,
                cities: &[city("Jakarta")],
            },
            CountrySpec {
                code: "TH",
                languages: &["en"],
                culture: &THAILAND,
                cities: &[city("Bangkok")],
            },
            CountrySpec {
                code: "FJ",
                languages: &["en"],
                culture: &FIJI,
                cities: &[city("Suva")],
            },
            CountrySpec {
                code: "AU",
                languages: &["en"],
                culture: &AUSTRALIA,
                cities: &[city("Sydney")],
            },
            CountrySpec {
                code: "CN",
                languages: &["zh"],
                culture: &CHINESE,
                cities: &[
                    City {
                        name: "Guangzhou",
                        local: &[("zh", "广州")],
                    },
                    City {
                        name: "Kunming",
                        local: &[("zh", "昆明")],
                    },
                ],
            },
            CountrySpec {
                code: "SG",
                languages: &["zh", "en"],
                culture: &MALAY_INDONESIAN,
                cities: &[City {
                    name: "Singapore",
                    local: &[("zh", "新加坡")],
                }],
            },
            CountrySpec {
                code: "MY",
                languages: &["zh", "en"],
                culture: &MALAY_INDONESIAN,
                cities: &[
                    City {
                        name: "Kuala Lumpur",
                        local: &[("zh", "吉隆坡")],
                    },
                    City {
                        name: "Penang",
                        local: &[("zh", "槟城")],
                    },
                ],
            },
        ],
    },
    RegionSpec {
        slug: "europe",
        languages: &[("en", 4), ("fr", 2), ("ru", 2)],
        countries: &[
            CountrySpec {
                code: "DE",
                languages: &["en"],
                culture: &GERMANY,
                cities: &[city("Berlin"), city("Hamburg")],
            },
            CountrySpec {
                code: "IT",
                languages: &["en"],
                culture: &ITALY,
                cities: &[city("Milan"), city("Palermo")],
            },
            CountrySpec {
                code: "NL",
                languages: &["en"],
                culture: &NETHERLANDS,
                cities: &[city("Rotterdam"), city("Amsterdam")],
            },
            CountrySpec {
                code: "SE",
                languages: &["en"],
                culture: &SWEDEN,
                cities: &[city("Malmö")],
            },
            CountrySpec {
                code: "GB",
                languages: &["en"],
                culture: &BRITAIN,
                cities: &[city("London"), city("Manchester")],
            },
            CountrySpec {
                code: "US",
                languages: &["en"],
                culture: &NORTH_AMERICA,
                cities: &[city("Chicago"), city("El Paso")],
            },
            CountrySpec {
                code: "CA",
                languages: &["en", "fr"],
                culture: &NORTH_AMERICA,
                cities: &[
                    city("Toronto"),
                    City {
                        name: "Montreal",
                        local: &[("fr", "Montréal")],
                    },
                ],
            },
            CountrySpec {
                code: "FR",
                languages: &["fr"],
                culture: &FRANCOPHONE_EUROPE,
                cities: &[city("Paris"), city("Marseille")],
            },
            CountrySpec {
                code: "BE",
                languages: &["fr"],
                culture: &FRANCOPHONE_EUROPE,
                cities: &[
                    City {
                        name: "Brussels",
                        local: &[("fr", "Bruxelles")],
                    },
                    city("Liège"),
                ],
            },
            CountrySpec {
                code: "CH",
                languages: &["fr"],
                culture: &FRANCOPHONE_EUROPE,
                cities: &[City {
                    name: "Geneva",
                    local: &[("fr", "Genève")],
                }],
            },
            CountrySpec {
                code: "KZ",
                languages: &["ru"],
                culture: &CENTRAL_ASIA,
                cities: &[
                    City {
                        name: "Almaty",
                        local: &[("ru", "Алматы")],
                    },
                    City {
                        name: "Astana",
                        local: &[("ru", "Астана")],
                    },
                ],
            },
            CountrySpec {
                code: "KG",
                languages: &["ru"],
                culture: &CENTRAL_ASIA,
                cities: &[
                    City {
                        name: "Bishkek",
                        local: &[("ru", "Бишкек")],
                    },
                    City {
                        name: "Osh",
                        local: &[("ru", "Ош")],
                    },
                ],
            },
            CountrySpec {
                code: "TJ",
                languages: &["ru"],
                culture: &CENTRAL_ASIA,
                cities: &[City {
                    name: "Dushanbe",
                    local: &[("ru", "Душанбе")],
                }],
            },
            CountrySpec {
                code: "UZ",
                languages: &["ru"],
                culture: &CENTRAL_ASIA,
                cities: &[
                    City {
                        name: "Tashkent",
                        local: &[("ru", "Ташкент")],
                    },
                    City {
                        name: "Samarkand",
                        local: &[("ru", "Самарканд")],
                    },
                ],
            },
            CountrySpec {
                code: "RU",
                languages: &["ru"],
                culture: &SLAVIC,
                cities: &[
                    City {
                        name: "Moscow",
                        local: &[("ru", "Москва")],
                    },
                    City {
                        name: "Yekaterinburg",
                        local: &[("ru", "Екатеринбург")],
                    },
                ],
            },
            CountrySpec {
                code: "AM",
                languages: &["ru"],
                culture: &ARMENIA,
                cities: &[City {
                    name: "Yerevan",
                    local: &[("ru", "Ереван")],
                }],
            },
        ],
    },
    RegionSpec {
        slug: "latin-america-caribbean",
        languages: &[("es", 5), ("pt", 2), ("en", 1)],
        countries: &[
            CountrySpec {
                code: "MX",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Tijuana"), city("Tapachula")],
            },
            CountrySpec {
                code: "GT",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Quetzaltenango")],
            },
            CountrySpec {
                code: "HN",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("San Pedro Sula"), city("Tegucigalpa")],
            },
            CountrySpec {
                code: "SV",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("San Salvador")],
            },
            CountrySpec {
                code: "CO",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Bogotá"), city("Cúcuta")],
            },
            CountrySpec {
                code: "VE",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Caracas")],
            },
            CountrySpec {
                code: "EC",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Quito"), city("Guayaquil")],
            },
            CountrySpec {
                code: "PE",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Lima")],
            },
            CountrySpec {
                code: "CL",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Santiago"), city("Antofagasta")],
            },
            CountrySpec {
                code: "AR",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Buenos Aires")],
            },
            CountrySpec {
                code: "CR",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("San José")],
            },
            CountrySpec {
                code: "DO",
                languages: &["es"],
                culture: &HISPANIC,
                cities: &[city("Santo Domingo")],
            },
            CountrySpec {
                code: "BR",
                languages: &["pt"],
                culture: &BRAZILIAN,
                cities: &[city("São Paulo"), city("Boa Vista"), city("Manaus")],
            },
            CountrySpec {
                code: "JM",
                languages: &["en"],
                culture: &CARIBBEAN,
                cities: &[city("Kingston")],
            },
            CountrySpec {
                code: "TT",
                languages: &["en"],
                culture: &CARIBBEAN,
                cities: &[city("Port of Spain")],
            },
        ],
    },
];

/// Stakeholder groups of the demo accounts and how common they are. Groups that would put
/// invented words in the mouth of real institutions (member states, UN entities, national
/// human rights institutions, Red Cross and Red Crescent societies) are left out.
static GROUPS: &[(StakeholderGroup, u32)] = &[
    (StakeholderGroup::MigrantOrg, 3),
    (StakeholderGroup::DiasporaOrg, 2),
    (StakeholderGroup::CivilSociety, 4),
    (StakeholderGroup::FaithBased, 1),
    (StakeholderGroup::TradeUnion, 2),
    (StakeholderGroup::PrivateSector, 1),
    (StakeholderGroup::Academia, 2),
    (StakeholderGroup::LocalAuthority, 1),
    (StakeholderGroup::Youth, 1),
    (StakeholderGroup::Media, 1),
    (StakeholderGroup::Philanthropy, 1),
    (StakeholderGroup::Parliamentarian, 1),
    (StakeholderGroup::Other, 1),
];

/// Invented organisation names by language and group (`{city}` is the persona's city);
/// empty for individuals (parliamentarians, others).
fn organisation_templates(language: &str, group: StakeholderGroup) -> &'static [&'static str] {
    use StakeholderGroup as G;
    match (language, group) {
        ("en", G::MigrantOrg) => &[
            "{city} Migrant Workers' Association",
            "United Migrant Voices {city}",
        ],
        ("en", G::DiasporaOrg) => &["Diaspora Development Forum", "{city} Diaspora Alliance"],
        ("en", G::CivilSociety) => &[
            "Migrant Rights Network {city}",
            "Centre for Migration and Dignity",
        ],
        ("en", G::FaithBased) => &["Interfaith Migrant Care {city}", "Shelter of Hope Mission"],
        ("en", G::TradeUnion) => &[
            "General Workers' Union, {city} branch",
            "Domestic Workers' Union of {city}",
        ],
        ("en", G::PrivateSector) => &[
            "Fair Hire Recruitment Ltd",
            "{city} Employers' Forum on Fair Recruitment",
        ],
        ("en", G::Academia) => &[
            "Migration Research Centre, {city}",
            "Institute for Mobility Studies",
        ],
        ("en", G::LocalAuthority) => &["Municipal Office for Migrant Inclusion, {city}"],
        ("en", G::Youth) => &["Young Migrants Collective {city}"],
        ("en", G::Media) => &["{city} Community Radio, migration desk"],
        ("en", G::Philanthropy) => &["Horizons Mobility Foundation"],
        ("fr", G::MigrantOrg) => &[
            "Association des travailleurs migrants de {city}",
            "Voix des migrants – {city}",
        ],
        ("fr", G::DiasporaOrg) => &["Forum de la diaspora pour le développement"],
        ("fr", G::CivilSociety) => &[
            "Réseau pour les droits des migrants – {city}",
            "Centre Migration et Dignité",
        ],
        ("fr", G::FaithBased) => &["Accueil fraternel des migrants de {city}"],
        ("fr", G::TradeUnion) => &["Syndicat des travailleurs domestiques de {city}"],
        ("fr", G::PrivateSector) => &["Recrutement Équitable SARL"],
        ("fr", G::Academia) => &["Laboratoire d'études migratoires de {city}"],
        ("fr", G::LocalAuthority) => &["Service municipal d'inclusion des migrants, {city}"],
        ("fr", G::Youth) => &["Collectif des jeunes migrants de {city}"],
        ("fr", G::Media) => &["Radio communautaire de {city}, rubrique migrations"],
        ("fr", G::Philanthropy) => &["Fondation Horizons Mobilité"],
        ("es", G::MigrantOrg) => &[
            "Asociación de Trabajadores Migrantes de {city}",
            "Voces Migrantes {city}",
        ],
        ("es", G::DiasporaOrg) => &["Red de la Diáspora para el Desarrollo"],
        ("es", G::CivilSociety) => &[
            "Red de Apoyo al Migrante de {city}",
            "Centro Migración y Dignidad",
        ],
        ("es", G::FaithBased) => &["Casa del Migrante de {city}"],
        ("es", G::TradeUnion) => &["Sindicato de Trabajadoras del Hogar de {city}"],
        ("es", G::PrivateSector) => &["Contratación Justa S.A."],
        ("es", G::Academia) => &["Observatorio de Migraciones de {city}"],
        ("es", G::LocalAuthority) => &["Oficina Municipal de Atención al Migrante de {city}"],
        ("es", G::Youth) => &["Colectivo de Jóvenes Migrantes de {city}"],
        ("es", G::Media) => &["Radio Comunitaria de {city}, sección migraciones"],
        ("es", G::Philanthropy) => &["Fundación Horizontes de Movilidad"],
        ("ar", G::MigrantOrg) => &["رابطة العمال المهاجرين في {city}"],
        ("ar", G::DiasporaOrg) => &["منتدى المغتربين من أجل التنمية"],
        ("ar", G::CivilSociety) => &["شبكة حقوق المهاجرين في {city}", "مركز الهجرة والكرامة"],
        ("ar", G::FaithBased) => &["جمعية الرعاية الإنسانية للمهاجرين في {city}"],
        ("ar", G::TradeUnion) => &["نقابة العاملين في الخدمة المنزلية في {city}"],
        ("ar", G::PrivateSector) => &["شركة التوظيف العادل"],
        ("ar", G::Academia) => &["مركز دراسات الهجرة في {city}"],
        ("ar", G::LocalAuthority) => &["مكتب إدماج المهاجرين في بلدية {city}"],
        ("ar", G::Youth) => &["تجمع الشباب المهاجرين في {city}"],
        ("ar", G::Media) => &["إذاعة {city} المجتمعية، قسم الهجرة"],
        ("ar", G::Philanthropy) => &["مؤسسة آفاق للتنقل"],
        ("zh", G::MigrantOrg) => &["{city}移民工人互助会"],
        ("zh", G::DiasporaOrg) => &["侨胞发展论坛"],
        ("zh", G::CivilSociety) => &["{city}移民权益网络", "移民与尊严中心"],
        ("zh", G::FaithBased) => &["{city}移民关怀之家"],
        ("zh", G::TradeUnion) => &["{city}家政工人工会"],
        ("zh", G::PrivateSector) => &["公平招聘有限公司"],
        ("zh", G::Academia) => &["{city}移民研究中心"],
        ("zh", G::LocalAuthority) => &["{city}新移民服务办公室"],
        ("zh", G::Youth) => &["{city}青年移民社"],
        ("zh", G::Media) => &["{city}社区电台移民栏目"],
        ("zh", G::Philanthropy) => &["远景流动基金会"],
        ("ru", G::MigrantOrg) => &["Ассоциация трудовых мигрантов, г. {city}"],
        ("ru", G::DiasporaOrg) => &["Форум диаспоры за развитие"],
        ("ru", G::CivilSociety) => &[
            "Сеть защиты прав мигрантов, г. {city}",
            "Центр «Миграция и достоинство»",
        ],
        ("ru", G::FaithBased) => &["Благотворительная миссия помощи мигрантам, г. {city}"],
        ("ru", G::TradeUnion) => &["Профсоюз работников сферы услуг, г. {city}"],
        ("ru", G::PrivateSector) => &["ООО «Честный наём»"],
        ("ru", G::Academia) => &["Центр миграционных исследований, г. {city}"],
        ("ru", G::LocalAuthority) => &["Отдел по адаптации мигрантов, администрация г. {city}"],
        ("ru", G::Youth) => &["Молодёжное объединение мигрантов, г. {city}"],
        ("ru", G::Media) => &["Общественное радио г. {city}, рубрика о миграции"],
        ("ru", G::Philanthropy) => &["Фонд «Горизонты мобильности»"],
        ("pt", G::MigrantOrg) => &["Associação de Trabalhadores Migrantes de {city}"],
        ("pt", G::DiasporaOrg) => &["Fórum da Diáspora para o Desenvolvimento"],
        ("pt", G::CivilSociety) => &[
            "Rede de Apoio ao Migrante de {city}",
            "Centro Migração e Dignidade",
        ],
        ("pt", G::FaithBased) => &["Casa de Acolhimento ao Migrante de {city}"],
        ("pt", G::TradeUnion) => &["Sindicato das Trabalhadoras Domésticas de {city}"],
        ("pt", G::PrivateSector) => &["Recrutamento Justo Lda."],
        ("pt", G::Academia) => &["Observatório das Migrações de {city}"],
        ("pt", G::LocalAuthority) => &["Gabinete Municipal de Apoio ao Migrante de {city}"],
        ("pt", G::Youth) => &["Coletivo de Jovens Migrantes de {city}"],
        ("pt", G::Media) => &["Rádio Comunitária de {city}, editoria de migrações"],
        ("pt", G::Philanthropy) => &["Fundação Horizontes de Mobilidade"],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Topics and phrase banks.

/// What a thread is about; each topic is tied to GCM objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    DecentWork,
    Remittances,
    Detention,
    MissingMigrants,
    Climate,
    Skills,
    Consular,
    Data,
}

impl Topic {
    const ALL: [Topic; 8] = [
        Topic::DecentWork,
        Topic::Remittances,
        Topic::Detention,
        Topic::MissingMigrants,
        Topic::Climate,
        Topic::Skills,
        Topic::Consular,
        Topic::Data,
    ];

    /// The objective the topic is about.
    fn core(self) -> i64 {
        match self {
            Topic::DecentWork => 6,
            Topic::Remittances => 20,
            Topic::Detention => 13,
            Topic::MissingMigrants => 8,
            Topic::Climate => 2,
            Topic::Skills => 18,
            Topic::Consular => 14,
            Topic::Data => 1,
        }
    }

    /// Objectives posts on the topic often touch as well.
    fn related(self) -> &'static [i64] {
        match self {
            Topic::DecentWork => &[10, 22],
            Topic::Remittances => &[19, 15],
            Topic::Detention => &[7, 12],
            Topic::MissingMigrants => &[23, 9],
            Topic::Climate => &[5, 23],
            Topic::Skills => &[5, 6],
            Topic::Consular => &[4, 21],
            Topic::Data => &[17, 3],
        }
    }
}

/// Phrases about one topic in one language. `{city}`, `{n}`, `{pct}`, `{days}` and `{year}` are filled
/// in; the sentences are complete so that any combination reads well.
struct TopicText {
    topic: Topic,
    titles: [&'static str; 2],
    /// First sentence of an opening post: the situation.
    openings: [&'static str; 2],
    /// Evidence or practice.
    details: [&'static str; 2],
    /// Recommendations (imperative, one sentence each).
    asks: [&'static str; 2],
    /// Sentences a reply builds on.
    replies: [&'static str; 2],
}

/// Phrases of one language, for every topic it covers.
struct LangText {
    tag: &'static str,
    /// Between sentences: a space, or nothing in Chinese.
    sep: &'static str,
    openers: [&'static str; 4],
    closers: [&'static str; 3],
    questions: [&'static str; 2],
    report_intros: [&'static str; 2],
    recommendations: &'static str,
    findings: &'static str,
    topics: &'static [TopicText],
}

impl LangText {
    fn topic(&self, t: Topic) -> Option<&TopicText> {
        self.topics.iter().find(|x| x.topic == t)
    }
}

fn texts(language: &str) -> &'static LangText {
    TEXTS
        .iter()
        .find(|t| t.tag == language)
        .unwrap_or(&TEXTS[0])
}

static TEXTS: [LangText; 7] = [EN, FR, ES, AR, ZH, RU, PT];

const EN: LangText = LangText {
    tag: "en",
    sep: " ",
    openers: ["Thank you for raising this.", "I agree with this point.", "In our experience, the situation is similar.", "I would add one point."],
    closers: ["We would be glad to share our material with the secretariat.", "This should be reflected in the regional review.", "Happy to discuss this further."],
    questions: ["What are other organisations seeing in their countries?", "Which practices have worked elsewhere in the region?"],
    report_intros: ["Our organisation prepared this short report for the regional review.", "This report summarises what we observed in {city} between {year} and 2024."],
    recommendations: "Recommendations",
    findings: "Findings",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["Fair recruitment: ending recruitment fees for migrant workers", "Decent work for migrant domestic workers in {city}"],
            openings: ["Many migrant workers we support in {city} paid recruitment fees equal to several months of wages before they even left home.", "Migrant domestic and construction workers in {city} still face confiscated passports, unpaid overtime and contracts changed on arrival."],
            details: ["Last year our helpline received {n} complaints about wage theft, and {pct}% of the callers had no written contract in a language they understand.", "Where labour inspectors visited workplaces together with trade unions, unpaid wages were recovered in most cases within three months."],
            asks: ["Enforce the employer-pays principle so that no worker pays recruitment fees or related costs.", "Give migrant workers access to labour courts and complaint mechanisms regardless of their migration status."],
            replies: ["We see the same pattern: workers who complain about unpaid wages are the first to lose their residence permit.", "Bilateral labour agreements should include standard contracts that cannot be changed after arrival."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["Bringing the cost of remittances below 3 per cent", "Digital remittances and financial inclusion in {city}"],
            openings: ["Families in {city} depend on money sent from abroad, yet sending 200 dollars still costs more than the 3 per cent target of the Sustainable Development Goals.", "Mobile money has made remittances faster, but many migrants still cannot open an account without a local identity document."],
            details: ["In a survey of {n} households we found that remittances paid for school fees and health care in {pct}% of cases.", "Transfers through informal channels remain common because the regulated services are expensive and far from where people live."],
            asks: ["Allow migrants to open bank and mobile money accounts with consular identity cards or passports.", "Publish remittance prices in a comparable form so that senders can choose the cheapest safe channel."],
            replies: ["Diaspora investment schemes work best when they are designed together with diaspora associations.", "We should also look at the fees charged on the receiving side, which are often hidden in the exchange rate."],
        },
        TopicText {
            topic: Topic::Detention,
            titles: ["Alternatives to immigration detention: what works", "Ending the detention of migrant children"],
            openings: ["Immigration detention is still used as a first response in {city}, even for families with young children.", "Community-based case management has shown that people stay engaged with migration procedures without being detained."],
            details: ["In our pilot, {pct}% of the {n} people supported by case workers complied with all reporting requirements.", "Detention costs several times more per person and per day than community-based alternatives."],
            asks: ["Prohibit the detention of children and keep families together in community-based arrangements.", "Set a maximum length of detention in law and guarantee regular judicial review."],
            replies: ["Case management only works if people also have access to housing and legal advice.", "Our experience confirms this: trust in the case worker was the deciding factor."],
        },
        TopicText {
            topic: Topic::MissingMigrants,
            titles: ["Missing migrants: supporting the families who search", "Search and rescue and the identification of the dead"],
            openings: ["Families in {city} often wait years without knowing whether a relative who left is alive or dead.", "Every year people die on migration routes, and many of them are never identified."],
            details: ["We are currently accompanying {n} families who are searching for a missing relative, most of them without any official support.", "Forensic teams told us that DNA samples from families are rarely shared across borders, so identification is slow."],
            asks: ["Create a single contact point in each country where families can report a missing migrant and receive information.", "Share ante-mortem and post-mortem data across borders under strict data protection rules."],
            replies: ["Families also need psychosocial support and legal recognition of their situation, for example for inheritance.", "Rescue at sea must never be criminalised; saving lives is a legal duty."],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["Climate change, disasters and displacement", "Planned relocation and migration as adaptation"],
            openings: ["Droughts and floods around {city} have pushed many families to move, first within the country and then abroad.", "Rising seas and salinisation are making coastal livelihoods impossible for a growing number of communities."],
            details: ["In {year} alone, {n} households in our area lost their harvest to drought.", "People who move because of slow-onset disasters rarely qualify for any protection status."],
            asks: ["Open regular pathways, such as humanitarian visas and labour mobility schemes, for people affected by disasters and climate change.", "Include human mobility in national adaptation plans and plan relocation together with the communities concerned."],
            replies: ["Regional free movement agreements can be a practical tool for people displaced by disasters.", "Adaptation funding should also reach the communities that host people who have moved."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["Recognition of migrants' skills and qualifications", "Skills partnerships between countries of origin and destination"],
            openings: ["Nurses, engineers and teachers who arrive in {city} often work in jobs far below their qualifications because their diplomas are not recognised.", "Global skills partnerships can train people for jobs at home and abroad at the same time."],
            details: ["Recognition of a single diploma takes on average {days} days and costs more than many newcomers earn in a month.", "In our programme, {pct}% of participants found work in their field after a short bridging course."],
            asks: ["Create fast and affordable procedures to recognise foreign qualifications, including skills learned on the job.", "Negotiate mutual recognition agreements within regional economic communities."],
            replies: ["Language courses linked to the profession make a real difference, not general courses only.", "Employers should be involved from the beginning, otherwise the certificates are not trusted."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["Consular protection for nationals abroad", "Mobile consulates and access to identity documents"],
            openings: ["Many of our members in {city} live hours away from the nearest consulate and cannot afford to travel to renew their passport.", "When migrant workers are arrested or fall ill, consular staff are often the only help they can reach."],
            details: ["Mobile consular visits issued {n} passports and identity documents in one month last year.", "Consular staff told us that they lack interpreters, lawyers and funds to assist nationals in detention."],
            asks: ["Fund mobile consular services and allow identity documents to be renewed online.", "Inform every detained foreign national without delay of the right to contact their consulate."],
            replies: ["Consulates could also work with diaspora associations, which know where people live and what they need.", "Documents are the key to everything else: work, school, health care and bank accounts."],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["Better migration data without putting people at risk", "Evidence against misinformation about migrants"],
            openings: ["Policies in {city} are often made without reliable data on how many migrants live there and what they need.", "Public debate about migration is shaped by rumours and misinformation rather than evidence."],
            details: ["Only {pct}% of the surveys we reviewed disaggregated their results by sex, age and migration status.", "A local fact-checking project answered {n} questions from journalists about migration last year."],
            asks: ["Disaggregate official statistics by migration status and guarantee a firewall between data collection and immigration enforcement.", "Support journalists and local authorities with accurate, accessible data about migration."],
            replies: ["Migrant organisations should be involved in deciding which data are collected and how they are used.", "Open data must never allow individual migrants to be identified."],
        },
    ],
};

const FR: LangText = LangText {
    tag: "fr",
    sep: " ",
    openers: ["Merci d'avoir soulevé cette question.", "Je partage cette analyse.", "Dans notre expérience, la situation est comparable.", "J'ajouterais un point."],
    closers: ["Nous pouvons partager nos documents avec le secrétariat.", "Cela devrait figurer dans l'examen régional.", "Volontiers pour en discuter davantage."],
    questions: ["Qu'observent les autres organisations dans leur pays ?", "Quelles pratiques ont fonctionné ailleurs dans la région ?"],
    report_intros: ["Notre organisation a préparé ce court rapport pour l'examen régional.", "Ce rapport résume ce que nous avons observé à {city} entre {year} et 2024."],
    recommendations: "Recommandations",
    findings: "Constats",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["Recrutement équitable : en finir avec les frais de recrutement", "Travail décent pour les travailleuses domestiques migrantes à {city}"],
            openings: ["Beaucoup de travailleurs migrants que nous accompagnons à {city} ont payé des frais de recrutement équivalant à plusieurs mois de salaire avant même leur départ.", "Les travailleurs migrants du bâtiment et du travail domestique à {city} subissent encore la confiscation de leur passeport, des heures supplémentaires non payées et des contrats modifiés à leur arrivée."],
            details: ["L'an dernier, notre ligne d'écoute a reçu {n} plaintes pour salaires impayés, et {pct} % des personnes n'avaient aucun contrat écrit dans une langue qu'elles comprennent.", "Lorsque les inspecteurs du travail ont visité les lieux de travail avec les syndicats, les salaires impayés ont été récupérés dans la plupart des cas en moins de trois mois."],
            asks: ["Appliquer le principe de l'employeur payeur afin qu'aucun travailleur ne paie de frais de recrutement.", "Garantir aux travailleurs migrants l'accès aux tribunaux du travail et aux mécanismes de plainte, quel que soit leur statut migratoire."],
            replies: ["Nous constatons la même chose : les travailleurs qui se plaignent de salaires impayés sont les premiers à perdre leur titre de séjour.", "Les accords bilatéraux de main-d'œuvre devraient prévoir des contrats types qui ne peuvent pas être modifiés après l'arrivée."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["Réduire le coût des envois de fonds sous les 3 %", "Transferts numériques et inclusion financière à {city}"],
            openings: ["Les familles de {city} dépendent de l'argent envoyé depuis l'étranger, mais envoyer 200 dollars coûte encore plus que l'objectif de 3 % fixé par les objectifs de développement durable.", "L'argent mobile a rendu les transferts plus rapides, mais beaucoup de migrants ne peuvent toujours pas ouvrir de compte sans pièce d'identité locale."],
            details: ["Dans une enquête auprès de {n} ménages, nous avons constaté que les envois de fonds financent la scolarité et les soins de santé dans {pct} % des cas.", "Les circuits informels restent courants parce que les services agréés sont chers et éloignés des lieux de vie."],
            asks: ["Permettre aux migrants d'ouvrir un compte bancaire ou d'argent mobile avec une carte consulaire ou un passeport.", "Publier les prix des transferts sous une forme comparable pour que chacun puisse choisir le canal sûr le moins cher."],
            replies: ["Les programmes d'investissement de la diaspora fonctionnent mieux lorsqu'ils sont conçus avec les associations de la diaspora.", "Il faut aussi regarder les frais prélevés à la réception, souvent cachés dans le taux de change."],
        },
        TopicText {
            topic: Topic::Detention,
            titles: ["Alternatives à la rétention administrative : ce qui fonctionne", "Mettre fin à la rétention des enfants migrants"],
            openings: ["La rétention administrative reste une réponse de premier recours à {city}, même pour des familles avec de jeunes enfants.", "L'accompagnement individuel dans la communauté montre que les personnes restent en contact avec les autorités sans être enfermées."],
            details: ["Dans notre projet pilote, {pct} % des {n} personnes suivies par un travailleur social ont respecté toutes leurs obligations de présentation.", "La rétention coûte plusieurs fois plus cher par personne et par jour que les alternatives dans la communauté."],
            asks: ["Interdire la rétention des enfants et maintenir les familles ensemble dans des solutions de proximité.", "Fixer dans la loi une durée maximale de rétention et garantir un contrôle judiciaire régulier."],
            replies: ["L'accompagnement ne fonctionne que si les personnes ont aussi accès à un logement et à un conseil juridique.", "Notre expérience le confirme : la confiance envers le travailleur social a été décisive."],
        },
        TopicText {
            topic: Topic::MissingMigrants,
            titles: ["Migrants disparus : soutenir les familles qui cherchent", "Sauvetage en mer et identification des défunts"],
            openings: ["À {city}, des familles attendent parfois des années sans savoir si un proche parti est vivant ou mort.", "Chaque année, des personnes meurent sur les routes migratoires, et beaucoup ne sont jamais identifiées."],
            details: ["Nous accompagnons actuellement {n} familles qui recherchent un proche disparu, la plupart sans aucun soutien officiel.", "Les équipes médico-légales nous ont indiqué que les échantillons ADN des familles sont rarement partagés entre pays."],
            asks: ["Créer dans chaque pays un point de contact unique où les familles peuvent signaler un migrant disparu et recevoir des informations.", "Partager les données ante mortem et post mortem entre pays, dans le strict respect de la protection des données."],
            replies: ["Les familles ont aussi besoin d'un soutien psychosocial et d'une reconnaissance juridique de leur situation.", "Le sauvetage en mer ne doit jamais être criminalisé : sauver des vies est une obligation légale."],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["Changements climatiques, catastrophes et déplacements", "La migration comme stratégie d'adaptation"],
            openings: ["Les sécheresses et les inondations autour de {city} ont poussé de nombreuses familles à partir, d'abord à l'intérieur du pays, puis à l'étranger.", "La montée des eaux et la salinisation des terres rendent impossibles les moyens de subsistance de nombreuses communautés côtières."],
            details: ["Rien qu'en {year}, {n} ménages de notre région ont perdu leur récolte à cause de la sécheresse.", "Les personnes qui partent à cause de catastrophes à évolution lente n'ont presque jamais droit à un statut de protection."],
            asks: ["Ouvrir des voies régulières, comme des visas humanitaires et des programmes de mobilité de main-d'œuvre, pour les personnes touchées par les catastrophes et les changements climatiques.", "Intégrer la mobilité humaine dans les plans nationaux d'adaptation et planifier les relocalisations avec les communautés concernées."],
            replies: ["Les accords régionaux de libre circulation peuvent être un outil concret pour les personnes déplacées par les catastrophes.", "Les financements pour l'adaptation devraient aussi bénéficier aux communautés qui accueillent les personnes déplacées."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["Reconnaissance des compétences et des diplômes des migrants", "Partenariats pour les compétences entre pays d'origine et de destination"],
            openings: ["Des infirmières, des ingénieurs et des enseignants arrivés à {city} travaillent souvent bien en dessous de leurs qualifications parce que leurs diplômes ne sont pas reconnus.", "Les partenariats mondiaux pour les compétences peuvent former des personnes à la fois pour le pays d'origine et pour l'étranger."],
            details: ["La reconnaissance d'un seul diplôme prend en moyenne {days} jours et coûte plus que ce que beaucoup de nouveaux arrivants gagnent en un mois.", "Dans notre programme, {pct} % des participants ont trouvé un emploi dans leur domaine après une courte formation passerelle."],
            asks: ["Mettre en place des procédures rapides et abordables de reconnaissance des qualifications étrangères, y compris des compétences acquises en situation de travail.", "Négocier des accords de reconnaissance mutuelle au sein des communautés économiques régionales."],
            replies: ["Les cours de langue liés au métier font une vraie différence, pas seulement les cours généraux.", "Les employeurs doivent être associés dès le départ, sinon les certificats ne sont pas crédibles."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["Protection consulaire des ressortissants à l'étranger", "Consulats mobiles et accès aux documents d'identité"],
            openings: ["Beaucoup de nos membres à {city} vivent à plusieurs heures du consulat le plus proche et n'ont pas les moyens de se déplacer pour renouveler leur passeport.", "Lorsqu'un travailleur migrant est arrêté ou tombe malade, le personnel consulaire est souvent la seule aide qu'il peut joindre."],
            details: ["Les tournées consulaires mobiles ont délivré {n} passeports et documents d'identité en un seul mois l'an dernier.", "Le personnel consulaire nous a dit manquer d'interprètes, d'avocats et de fonds pour assister les ressortissants détenus."],
            asks: ["Financer des services consulaires mobiles et permettre le renouvellement des documents d'identité en ligne.", "Informer sans délai tout étranger détenu de son droit de contacter son consulat."],
            replies: ["Les consulats pourraient travailler avec les associations de la diaspora, qui savent où vivent les gens et ce dont ils ont besoin.", "Les papiers sont la clé de tout le reste : le travail, l'école, la santé et le compte bancaire."],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["De meilleures données migratoires sans mettre les personnes en danger", "Des faits contre la désinformation sur les migrants"],
            openings: ["À {city}, les politiques sont souvent décidées sans données fiables sur le nombre de migrants et leurs besoins.", "Le débat public sur la migration est façonné par des rumeurs et de la désinformation plutôt que par des faits."],
            details: ["Seulement {pct} % des enquêtes que nous avons examinées ventilaient leurs résultats par sexe, âge et statut migratoire.", "Un projet local de vérification des faits a répondu l'an dernier à {n} questions de journalistes sur la migration."],
            asks: ["Ventiler les statistiques officielles par statut migratoire et garantir un pare-feu entre la collecte des données et le contrôle de l'immigration.", "Aider les journalistes et les autorités locales avec des données exactes et accessibles sur la migration."],
            replies: ["Les organisations de migrants devraient participer au choix des données collectées et de leur utilisation.", "Les données ouvertes ne doivent jamais permettre d'identifier une personne migrante."],
        },
    ],
};

const ES: LangText = LangText {
    tag: "es",
    sep: " ",
    openers: ["Gracias por plantear este tema.", "Coincido con este planteamiento.", "En nuestra experiencia, la situación es parecida.", "Quisiera añadir un punto."],
    closers: ["Con gusto compartimos nuestros materiales con la secretaría.", "Esto debería reflejarse en el examen regional.", "Podemos seguir conversando sobre esto."],
    questions: ["¿Qué observan otras organizaciones en sus países?", "¿Qué prácticas han funcionado en otros lugares de la región?"],
    report_intros: ["Nuestra organización preparó este breve informe para el examen regional.", "Este informe resume lo que observamos en {city} entre {year} y 2024."],
    recommendations: "Recomendaciones",
    findings: "Hallazgos",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["Contratación equitativa: acabar con las comisiones de reclutamiento", "Trabajo decente para las trabajadoras del hogar migrantes en {city}"],
            openings: ["Muchas de las personas trabajadoras migrantes que acompañamos en {city} pagaron comisiones de reclutamiento equivalentes a varios meses de salario antes de salir de su país.", "Los trabajadores migrantes de la construcción y del trabajo del hogar en {city} siguen sufriendo la retención de sus pasaportes, horas extra no pagadas y contratos cambiados a su llegada."],
            details: ["El año pasado nuestra línea de ayuda recibió {n} denuncias por salarios impagos, y el {pct} % de las personas no tenía un contrato escrito en un idioma que entendiera.", "Cuando la inspección del trabajo visitó los centros de trabajo junto con los sindicatos, los salarios adeudados se recuperaron en la mayoría de los casos en menos de tres meses."],
            asks: ["Aplicar el principio de que el empleador paga, para que ningún trabajador pague comisiones de contratación.", "Garantizar a las personas trabajadoras migrantes el acceso a la justicia laboral y a mecanismos de queja, sea cual sea su situación migratoria."],
            replies: ["Vemos lo mismo: quienes denuncian salarios impagos son los primeros en perder su permiso de residencia.", "Los acuerdos laborales bilaterales deberían incluir contratos tipo que no puedan modificarse después de la llegada."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["Reducir el costo de las remesas por debajo del 3 %", "Remesas digitales e inclusión financiera en {city}"],
            openings: ["Las familias de {city} dependen del dinero que llega del exterior, pero enviar 200 dólares todavía cuesta más que la meta del 3 % de los Objetivos de Desarrollo Sostenible.", "El dinero móvil ha hecho las remesas más rápidas, pero muchas personas migrantes todavía no pueden abrir una cuenta sin un documento de identidad local."],
            details: ["En una encuesta a {n} hogares encontramos que las remesas pagaban la escuela y la atención médica en el {pct} % de los casos.", "Los canales informales siguen siendo comunes porque los servicios regulados son caros y quedan lejos de donde vive la gente."],
            asks: ["Permitir que las personas migrantes abran cuentas bancarias y de dinero móvil con la matrícula consular o el pasaporte.", "Publicar los precios de las remesas de forma comparable para que cada persona pueda elegir el canal seguro más barato."],
            replies: ["Los programas de inversión de la diáspora funcionan mejor cuando se diseñan junto con las asociaciones de la diáspora.", "También hay que mirar las comisiones que se cobran al recibir el dinero, muchas veces ocultas en el tipo de cambio."],
        },
        TopicText {
            topic: Topic::Detention,
            titles: ["Alternativas a la detención migratoria: lo que funciona", "Poner fin a la detención de niñas y niños migrantes"],
            openings: ["La detención migratoria sigue siendo la primera respuesta en {city}, incluso para familias con niños pequeños.", "La gestión de casos en la comunidad demuestra que las personas siguen sus procedimientos migratorios sin necesidad de ser detenidas."],
            details: ["En nuestro proyecto piloto, el {pct} % de las {n} personas acompañadas por trabajadoras sociales cumplió con todas sus obligaciones de presentación.", "La detención cuesta varias veces más por persona y por día que las alternativas en la comunidad."],
            asks: ["Prohibir la detención de niñas, niños y adolescentes y mantener unidas a las familias en alternativas comunitarias.", "Establecer en la ley un plazo máximo de detención y garantizar la revisión judicial periódica."],
            replies: ["La gestión de casos solo funciona si las personas también tienen acceso a vivienda y asesoría legal.", "Nuestra experiencia lo confirma: la confianza con la trabajadora social fue decisiva."],
        },
        TopicText {
            topic: Topic::MissingMigrants,
            titles: ["Personas migrantes desaparecidas: apoyar a las familias que buscan", "Búsqueda, rescate e identificación de personas fallecidas"],
            openings: ["En {city} hay familias que esperan años sin saber si un ser querido que migró está vivo o muerto.", "Cada año mueren personas en las rutas migratorias, y muchas nunca son identificadas."],
            details: ["Actualmente acompañamos a {n} familias que buscan a un familiar desaparecido, la mayoría sin ningún apoyo oficial.", "Los equipos forenses nos dijeron que las muestras de ADN de las familias rara vez se comparten entre países."],
            asks: ["Crear en cada país un punto de contacto único donde las familias puedan denunciar la desaparición de una persona migrante y recibir información.", "Compartir datos ante mortem y post mortem entre países con estrictas garantías de protección de datos."],
            replies: ["Las familias también necesitan apoyo psicosocial y un reconocimiento legal de su situación, por ejemplo para heredar.", "El rescate nunca debe ser criminalizado: salvar vidas es una obligación legal."],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["Cambio climático, desastres y desplazamiento", "La migración como estrategia de adaptación"],
            openings: ["Las sequías y las inundaciones alrededor de {city} han obligado a muchas familias a desplazarse, primero dentro del país y luego al extranjero.", "La subida del nivel del mar y la salinización hacen imposibles los medios de vida de cada vez más comunidades costeras."],
            details: ["Solo en {year}, {n} hogares de nuestra zona perdieron su cosecha por la sequía.", "Las personas que se desplazan por desastres de evolución lenta casi nunca acceden a un estatus de protección."],
            asks: ["Abrir vías regulares, como visas humanitarias y programas de movilidad laboral, para las personas afectadas por desastres y por el cambio climático.", "Incluir la movilidad humana en los planes nacionales de adaptación y planificar las reubicaciones junto con las comunidades afectadas."],
            replies: ["Los acuerdos regionales de libre circulación pueden ser una herramienta práctica para las personas desplazadas por desastres.", "El financiamiento para la adaptación también debería llegar a las comunidades que acogen a las personas desplazadas."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["Reconocimiento de las competencias y títulos de las personas migrantes", "Alianzas de competencias entre países de origen y de destino"],
            openings: ["Enfermeras, ingenieros y docentes que llegan a {city} trabajan a menudo muy por debajo de su formación porque sus títulos no son reconocidos.", "Las alianzas mundiales de competencias pueden formar a personas para trabajar tanto en su país como en el extranjero."],
            details: ["Homologar un solo título toma en promedio {days} días y cuesta más de lo que muchas personas recién llegadas ganan en un mes.", "En nuestro programa, el {pct} % de las personas participantes encontró trabajo en su área tras un curso puente corto."],
            asks: ["Crear procedimientos rápidos y asequibles para reconocer títulos extranjeros, incluidas las competencias adquiridas en el trabajo.", "Negociar acuerdos de reconocimiento mutuo dentro de los mecanismos de integración regional."],
            replies: ["Los cursos de idioma vinculados a la profesión marcan una diferencia real, no solo los cursos generales.", "Hay que involucrar a los empleadores desde el principio; si no, no confían en los certificados."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["Protección consular para las personas nacionales en el exterior", "Consulados móviles y acceso a documentos de identidad"],
            openings: ["Muchas de nuestras personas socias en {city} viven a horas del consulado más cercano y no pueden pagar el viaje para renovar su pasaporte.", "Cuando una persona trabajadora migrante es detenida o se enferma, el personal consular suele ser la única ayuda a su alcance."],
            details: ["Las jornadas consulares móviles emitieron {n} pasaportes y documentos de identidad en un solo mes el año pasado.", "El personal consular nos dijo que le faltan intérpretes, abogados y fondos para asistir a las personas detenidas."],
            asks: ["Financiar servicios consulares móviles y permitir la renovación de documentos de identidad en línea.", "Informar sin demora a toda persona extranjera detenida de su derecho a comunicarse con su consulado."],
            replies: ["Los consulados podrían trabajar con las asociaciones de la diáspora, que saben dónde vive la gente y qué necesita.", "Los documentos son la llave de todo lo demás: trabajo, escuela, salud y cuenta bancaria."],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["Mejores datos migratorios sin poner en riesgo a las personas", "Evidencia contra la desinformación sobre la migración"],
            openings: ["En {city} las políticas se deciden a menudo sin datos confiables sobre cuántas personas migrantes viven allí y qué necesitan.", "El debate público sobre la migración se basa más en rumores y desinformación que en evidencia."],
            details: ["Solo el {pct} % de las encuestas que revisamos desagregaba sus resultados por sexo, edad y situación migratoria.", "Un proyecto local de verificación respondió el año pasado {n} consultas de periodistas sobre migración."],
            asks: ["Desagregar las estadísticas oficiales por situación migratoria y garantizar un cortafuegos entre la recolección de datos y el control migratorio.", "Apoyar a periodistas y gobiernos locales con datos precisos y accesibles sobre la migración."],
            replies: ["Las organizaciones de personas migrantes deberían participar en decidir qué datos se recogen y cómo se usan.", "Los datos abiertos nunca deben permitir identificar a una persona migrante."],
        },
    ],
};

const AR: LangText = LangText {
    tag: "ar",
    sep: " ",
    openers: ["شكراً على طرح هذا الموضوع.", "أتفق مع هذه النقطة.", "تجربتنا مشابهة إلى حد كبير.", "أود أن أضيف نقطة."],
    closers: ["يسعدنا مشاركة موادنا مع الأمانة.", "ينبغي أن ينعكس هذا في الاستعراض الإقليمي.", "يسعدنا مواصلة النقاش حول هذا الموضوع."],
    questions: ["ما الذي تلاحظه المنظمات الأخرى في بلدانها؟", "ما الممارسات التي نجحت في أماكن أخرى من المنطقة؟"],
    report_intros: ["أعدت منظمتنا هذا التقرير الموجز من أجل الاستعراض الإقليمي.", "يلخص هذا التقرير ما لاحظناه في {city} بين عامي {year} و2024."],
    recommendations: "التوصيات",
    findings: "النتائج",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["التوظيف العادل: إنهاء رسوم الاستقدام المفروضة على العمال المهاجرين", "العمل اللائق للعاملات المنزليات المهاجرات في {city}"],
            openings: ["دفع كثير من العمال المهاجرين الذين ندعمهم في {city} رسوم توظيف تعادل أجر عدة أشهر قبل أن يغادروا بلدانهم.", "ما زال العمال المهاجرون في قطاعي البناء والعمل المنزلي في {city} يعانون من مصادرة جوازات سفرهم وساعات العمل الإضافية غير المدفوعة وتغيير العقود عند الوصول."],
            details: ["تلقى خطنا الساخن في العام الماضي {n} شكوى تتعلق بالأجور غير المدفوعة، ولم يكن لدى {pct}% من المتصلين عقد مكتوب بلغة يفهمونها.", "عندما زار مفتشو العمل أماكن العمل بالتعاون مع النقابات، استُردت الأجور المتأخرة في معظم الحالات خلال ثلاثة أشهر."],
            asks: ["تطبيق مبدأ أن صاحب العمل هو من يدفع، بحيث لا يدفع أي عامل رسوم توظيف أو تكاليف مرتبطة بها.", "ضمان وصول العمال المهاجرين إلى المحاكم العمالية وآليات الشكاوى بغض النظر عن وضعهم القانوني."],
            replies: ["نلاحظ النمط نفسه: العمال الذين يشتكون من عدم دفع أجورهم هم أول من يفقد تصريح الإقامة.", "ينبغي أن تتضمن اتفاقيات العمل الثنائية عقوداً موحدة لا يمكن تغييرها بعد الوصول."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["خفض تكلفة التحويلات المالية إلى أقل من 3 في المائة", "التحويلات الرقمية والشمول المالي في {city}"],
            openings: ["تعتمد الأسر في {city} على الأموال المرسلة من الخارج، ومع ذلك ما زال إرسال 200 دولار يكلف أكثر من هدف 3 في المائة الوارد في أهداف التنمية المستدامة.", "جعلت خدمات الدفع عبر الهاتف المحمول التحويلات أسرع، لكن كثيراً من المهاجرين لا يستطيعون فتح حساب دون وثيقة هوية محلية."],
            details: ["وجدنا في مسح شمل {n} أسرة أن التحويلات غطت رسوم المدارس والرعاية الصحية في {pct}% من الحالات.", "ما زالت القنوات غير الرسمية شائعة لأن الخدمات المرخصة مكلفة وبعيدة عن أماكن سكن الناس."],
            asks: ["السماح للمهاجرين بفتح حسابات مصرفية وحسابات أموال عبر الهاتف المحمول باستخدام البطاقة القنصلية أو جواز السفر.", "نشر أسعار التحويلات بشكل قابل للمقارنة حتى يتمكن المرسلون من اختيار القناة الآمنة الأقل تكلفة."],
            replies: ["تنجح برامج استثمار المغتربين بشكل أفضل عندما تُصمم بالشراكة مع جمعيات المغتربين.", "يجب أيضاً النظر في الرسوم التي تُفرض عند الاستلام، والتي تكون غالباً مخفية في سعر الصرف."],
        },
        TopicText {
            topic: Topic::Detention,
            titles: ["بدائل احتجاز المهاجرين: ما الذي ينجح؟", "إنهاء احتجاز الأطفال المهاجرين"],
            openings: ["ما زال الاحتجاز يُستخدم كاستجابة أولى في {city}، حتى بالنسبة للأسر التي لديها أطفال صغار.", "أثبتت إدارة الحالات على مستوى المجتمع أن الأشخاص يواصلون التعامل مع إجراءات الهجرة دون الحاجة إلى احتجازهم."],
            details: ["في مشروعنا التجريبي، التزم {pct}% من الأشخاص الذين تابعهم الأخصائيون الاجتماعيون وعددهم {n} بجميع متطلبات المراجعة.", "تكلفة الاحتجاز للشخص الواحد في اليوم تفوق تكلفة البدائل المجتمعية بعدة أضعاف."],
            asks: ["حظر احتجاز الأطفال والحفاظ على وحدة الأسر من خلال ترتيبات مجتمعية.", "تحديد مدة قصوى للاحتجاز في القانون وضمان المراجعة القضائية المنتظمة."],
            replies: ["لا تنجح إدارة الحالات إلا إذا حصل الأشخاص أيضاً على السكن والمشورة القانونية.", "تؤكد تجربتنا ذلك: كانت الثقة بالأخصائي الاجتماعي هي العامل الحاسم."],
        },
        TopicText {
            topic: Topic::MissingMigrants,
            titles: ["المهاجرون المفقودون: دعم الأسر التي تبحث عن ذويها", "البحث والإنقاذ والتعرف على هويات المتوفين"],
            openings: ["تنتظر أسر في {city} سنوات دون أن تعرف ما إذا كان قريبها الذي هاجر حياً أم ميتاً.", "يموت أشخاص كل عام على طرق الهجرة، ولا يتم التعرف على هويات كثير منهم أبداً."],
            details: ["نرافق حالياً {n} أسرة تبحث عن قريب مفقود، ومعظمها دون أي دعم رسمي.", "أخبرتنا فرق الطب الشرعي أن عينات الحمض النووي من الأسر نادراً ما تُتبادل بين الدول."],
            asks: ["إنشاء جهة اتصال موحدة في كل بلد تستطيع الأسر من خلالها الإبلاغ عن مهاجر مفقود والحصول على المعلومات.", "تبادل البيانات السابقة واللاحقة للوفاة بين الدول مع احترام صارم لقواعد حماية البيانات."],
            replies: ["تحتاج الأسر أيضاً إلى دعم نفسي واجتماعي وإلى اعتراف قانوني بوضعها، مثلاً في مسائل الميراث.", "يجب ألا يُجرَّم الإنقاذ في البحر أبداً، فإنقاذ الأرواح واجب قانوني."],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["تغير المناخ والكوارث والنزوح", "الهجرة كاستراتيجية للتكيف مع تغير المناخ"],
            openings: ["دفعت موجات الجفاف والفيضانات حول {city} كثيراً من الأسر إلى الرحيل، أولاً داخل البلد ثم إلى الخارج.", "يجعل ارتفاع منسوب البحر وتملح التربة سبل العيش في المناطق الساحلية مستحيلة لعدد متزايد من المجتمعات."],
            details: ["في عام {year} وحده، فقدت {n} أسرة في منطقتنا محصولها بسبب الجفاف.", "نادراً ما يحصل الأشخاص الذين يتنقلون بسبب الكوارث بطيئة الحدوث على أي وضع حماية."],
            asks: ["فتح مسارات نظامية، مثل التأشيرات الإنسانية وبرامج تنقل اليد العاملة، للأشخاص المتضررين من الكوارث وتغير المناخ.", "إدراج التنقل البشري في خطط التكيف الوطنية والتخطيط لإعادة التوطين بالتشاور مع المجتمعات المعنية."],
            replies: ["يمكن أن تكون اتفاقيات حرية التنقل الإقليمية أداة عملية للأشخاص الذين شردتهم الكوارث.", "ينبغي أن يصل تمويل التكيف أيضاً إلى المجتمعات التي تستضيف النازحين."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["الاعتراف بمهارات المهاجرين ومؤهلاتهم", "شراكات المهارات بين بلدان المنشأ وبلدان المقصد"],
            openings: ["كثيراً ما يعمل الممرضون والمهندسون والمعلمون الذين يصلون إلى {city} في وظائف أدنى بكثير من مؤهلاتهم لأن شهاداتهم غير معترف بها.", "يمكن لشراكات المهارات العالمية أن تدرب الأشخاص للعمل في بلدانهم وفي الخارج في الوقت نفسه."],
            details: ["يستغرق الاعتراف بشهادة واحدة {days} يوماً في المتوسط، ويكلف أكثر مما يكسبه كثير من الوافدين الجدد في شهر.", "في برنامجنا، وجد {pct}% من المشاركين عملاً في مجال تخصصهم بعد دورة تأهيلية قصيرة."],
            asks: ["وضع إجراءات سريعة وميسورة التكلفة للاعتراف بالمؤهلات الأجنبية، بما في ذلك المهارات المكتسبة أثناء العمل.", "التفاوض على اتفاقيات للاعتراف المتبادل في إطار التجمعات الاقتصادية الإقليمية."],
            replies: ["تُحدث دورات اللغة المرتبطة بالمهنة فرقاً حقيقياً، وليس الدورات العامة فقط.", "يجب إشراك أصحاب العمل منذ البداية، وإلا فلن يثقوا بالشهادات."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["الحماية القنصلية للمواطنين في الخارج", "القنصليات المتنقلة والحصول على وثائق الهوية"],
            openings: ["يعيش كثير من أعضائنا في {city} على بعد ساعات من أقرب قنصلية، ولا يستطيعون تحمل تكلفة السفر لتجديد جوازات سفرهم.", "عندما يُعتقل عامل مهاجر أو يمرض، غالباً ما يكون الموظفون القنصليون المساعدة الوحيدة التي يمكنه الوصول إليها."],
            details: ["أصدرت الزيارات القنصلية المتنقلة {n} جواز سفر ووثيقة هوية في شهر واحد العام الماضي.", "أخبرنا الموظفون القنصليون بأنهم يفتقرون إلى المترجمين والمحامين والأموال اللازمة لمساعدة المواطنين المحتجزين."],
            asks: ["تمويل الخدمات القنصلية المتنقلة وإتاحة تجديد وثائق الهوية عبر الإنترنت.", "إبلاغ كل أجنبي محتجز دون تأخير بحقه في الاتصال بقنصليته."],
            replies: ["يمكن للقنصليات أن تعمل مع جمعيات المغتربين التي تعرف أين يعيش الناس وما يحتاجون إليه.", "الوثائق هي المفتاح لكل شيء آخر: العمل والمدرسة والرعاية الصحية والحساب المصرفي."],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["بيانات أفضل عن الهجرة دون تعريض الناس للخطر", "الأدلة في مواجهة المعلومات المضللة عن المهاجرين"],
            openings: ["كثيراً ما تُتخذ السياسات في {city} دون بيانات موثوقة عن عدد المهاجرين المقيمين فيها واحتياجاتهم.", "يتشكل النقاش العام حول الهجرة من خلال الشائعات والمعلومات المضللة بدلاً من الأدلة."],
            details: ["لم تصنف سوى {pct}% من الاستطلاعات التي راجعناها نتائجها حسب الجنس والعمر ووضع الهجرة.", "أجاب مشروع محلي لتدقيق المعلومات العام الماضي عن {n} سؤالاً من الصحفيين حول الهجرة."],
            asks: ["تصنيف الإحصاءات الرسمية حسب وضع الهجرة، وضمان الفصل التام بين جمع البيانات وإنفاذ قوانين الهجرة.", "دعم الصحفيين والسلطات المحلية ببيانات دقيقة ومتاحة عن الهجرة."],
            replies: ["ينبغي إشراك منظمات المهاجرين في تحديد البيانات التي تُجمع وكيفية استخدامها.", "يجب ألا تسمح البيانات المفتوحة أبداً بالتعرف على هوية أي مهاجر."],
        },
    ],
};

const ZH: LangText = LangText {
    tag: "zh",
    sep: "",
    openers: ["感谢提出这个问题。", "我同意这个观点。", "根据我们的经验，情况也差不多。", "我想补充一点。"],
    closers: ["我们愿意与秘书处分享相关材料。", "这一点应当体现在区域审议中。", "欢迎进一步讨论。"],
    questions: ["其他组织在各自国家看到了哪些情况？", "本地区其他地方有哪些行之有效的做法？"],
    report_intros: ["我们机构为区域审议准备了这份简要报告。", "本报告总结了我们在{year}年至2024年间在{city}观察到的情况。"],
    recommendations: "建议",
    findings: "主要发现",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["公平招聘：取消向移民工人收取的招聘费", "{city}移民家政工人的体面劳动"],
            openings: ["我们在{city}帮助的许多移民工人，在出国前就支付了相当于几个月工资的招聘费。", "{city}建筑业和家政行业的移民工人仍然面临护照被扣、加班无薪以及到达后合同被更改等问题。"],
            details: ["去年我们的求助热线收到了{n}宗欠薪投诉，其中{pct}%的来电者没有用自己看得懂的语言签订的书面合同。", "劳动监察员与工会一起走访工作场所后，大多数被拖欠的工资在三个月内得到追回。"],
            asks: ["落实“雇主付费”原则，确保任何工人都不需要支付招聘费或相关费用。", "无论移民身份如何，都应保障移民工人能够诉诸劳动法庭和投诉机制。"],
            replies: ["我们也看到同样的情况：投诉欠薪的工人往往最先失去居留许可。", "双边劳务协议应当包含到达后不得更改的标准合同。"],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["将汇款成本降至3%以下", "{city}的数字汇款与普惠金融"],
            openings: ["{city}的许多家庭依靠海外亲人寄回的钱生活，但汇出200美元的费用仍然高于可持续发展目标提出的3%。", "移动支付让汇款变得更快，但许多移民因为没有当地身份证件仍然无法开设账户。"],
            details: ["我们对{n}个家庭的调查发现，在{pct}%的情况下，汇款被用于支付学费和医疗费用。", "由于正规服务费用高、网点远，非正规汇款渠道仍然很普遍。"],
            asks: ["允许移民凭领事身份证或护照开设银行账户和移动支付账户。", "以可比较的方式公布汇款价格，让汇款人能够选择最便宜、最安全的渠道。"],
            replies: ["侨民投资计划只有与侨民组织共同设计，效果才会更好。", "我们还应关注收款方收取的费用，这些费用常常隐藏在汇率之中。"],
        },
        TopicText {
            topic: Topic::Detention,
            titles: ["移民拘留的替代措施：哪些做法有效", "停止拘留移民儿童"],
            openings: ["在{city}，移民拘留仍然被当作首选手段，甚至用于带着年幼子女的家庭。", "社区个案管理的经验表明，人们无需被拘留也会继续配合移民程序。"],
            details: ["在我们的试点项目中，由社工跟进的{n}人中有{pct}%遵守了全部报到要求。", "按每人每天计算，拘留的成本是社区替代措施的好几倍。"],
            asks: ["禁止拘留儿童，并通过社区安置让家庭保持团聚。", "在法律中规定拘留的最长期限，并保障定期的司法审查。"],
            replies: ["只有当人们同时获得住房和法律咨询时，个案管理才能发挥作用。", "我们的经验也证明了这一点：与社工之间的信任是关键。"],
        },
        TopicText {
            topic: Topic::MissingMigrants,
            titles: ["失踪移民：支持正在寻亲的家庭", "搜救行动与遇难者身份识别"],
            openings: ["{city}的一些家庭多年来一直不知道离家的亲人是生是死。", "每年都有人死在迁徙路上，其中许多人的身份始终无法确认。"],
            details: ["我们目前正在陪伴{n}个寻找失踪亲人的家庭，其中大多数没有得到任何官方支持。", "法医团队告诉我们，家属提供的DNA样本很少在国家之间共享。"],
            asks: ["在每个国家设立统一的联络点，让家属可以报告失踪移民并获得信息。", "在严格保护数据的前提下，在国家之间共享生前和死后的识别数据。"],
            replies: ["家属还需要心理社会支持，以及对其处境的法律承认，例如在继承问题上。", "海上救援绝不能被定罪，挽救生命是法律义务。"],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["气候变化、灾害与流离失所", "把迁移作为适应气候变化的一种方式"],
            openings: ["{city}周边的干旱和洪水迫使许多家庭先在国内迁移，后来又前往国外。", "海平面上升和土地盐碱化使越来越多沿海社区无法维持生计。"],
            details: ["仅在{year}年，我们地区就有{n}户家庭因干旱颗粒无收。", "因缓发性灾害而迁移的人几乎无法获得任何保护身份。"],
            asks: ["为受灾害和气候变化影响的人开放人道主义签证和劳务流动计划等正规渠道。", "将人口流动纳入国家适应计划，并与相关社区共同规划搬迁安置。"],
            replies: ["区域自由流动协议可以成为帮助受灾流离失所者的实用工具。", "适应资金也应惠及接收迁移人口的社区。"],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["承认移民的技能和学历", "原籍国与目的国之间的技能伙伴关系"],
            openings: ["来到{city}的护士、工程师和教师，常常因为学历不被承认而从事远低于其专业水平的工作。", "全球技能伙伴关系可以同时为本国和海外的就业培养人才。"],
            details: ["认证一份学历平均需要{days}天，费用超过许多新移民一个月的收入。", "在我们的项目中，{pct}%的学员在完成短期衔接课程后找到了本专业的工作。"],
            asks: ["建立快速且费用合理的外国学历认证程序，包括认可在工作中习得的技能。", "在区域经济共同体内商签学历和技能互认协议。"],
            replies: ["与职业相结合的语言课程非常有用，仅靠普通语言课是不够的。", "应当从一开始就让雇主参与，否则他们不会信任这些证书。"],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["为海外公民提供领事保护", "流动领事服务与身份证件办理"],
            openings: ["我们在{city}的许多成员住在离最近的领事馆几个小时路程的地方，负担不起去更换护照的路费。", "移民工人被捕或生病时，领事人员往往是他们唯一能求助的人。"],
            details: ["去年流动领事服务在一个月内就办理了{n}本护照和身份证件。", "领事人员告诉我们，他们缺少翻译、律师和经费来帮助被拘留的同胞。"],
            asks: ["为流动领事服务提供资金，并允许在网上更换身份证件。", "及时告知每一位被拘留的外国人有权联系本国领事馆。"],
            replies: ["领事馆可以与侨民组织合作，因为侨民组织了解大家住在哪里、需要什么。", "证件是其他一切的关键：工作、上学、看病和开设银行账户都离不开它。"],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["在不危及个人安全的前提下改进移民数据", "用事实回应有关移民的虚假信息"],
            openings: ["{city}的政策往往是在缺乏可靠数据的情况下制定的，人们并不清楚当地有多少移民以及他们需要什么。", "关于移民的公共讨论更多受到谣言和虚假信息的影响，而不是事实。"],
            details: ["在我们审阅的调查中，只有{pct}%按性别、年龄和移民身份对结果进行了分类。", "去年，一个地方事实核查项目回答了记者提出的{n}个有关移民的问题。"],
            asks: ["官方统计应按移民身份分类，并确保数据收集与移民执法之间设有防火墙。", "为记者和地方政府提供准确、易于获取的移民数据。"],
            replies: ["移民组织应当参与决定收集哪些数据以及如何使用这些数据。", "开放数据绝不能让任何移民个人被识别出来。"],
        },
    ],
};

/// Russian covers the topics most discussed by Central Asian and Caucasus organisations in the
/// UNECE space. Numbers are phrased so that no noun has to agree with them.
const RU: LangText = LangText {
    tag: "ru",
    sep: " ",
    openers: ["Спасибо, что подняли эту тему.", "Полностью поддерживаю эту мысль.", "По нашему опыту, ситуация похожая.", "Хотелось бы добавить одно замечание."],
    closers: ["Мы готовы поделиться нашими материалами с секретариатом.", "Это должно найти отражение в региональном обзоре.", "Готовы обсудить это подробнее."],
    questions: ["Что видят другие организации в своих странах?", "Какие практики оказались успешными в других странах региона?"],
    report_intros: ["Наша организация подготовила этот краткий доклад для регионального обзора.", "В докладе обобщено то, что мы наблюдали в городе {city} с {year} по 2024 год."],
    recommendations: "Рекомендации",
    findings: "Выводы",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["Справедливый наём: отменить плату за трудоустройство для трудовых мигрантов", "Достойный труд для трудовых мигрантов в городе {city}"],
            openings: ["Многие трудовые мигранты, которым мы помогаем в городе {city}, ещё до отъезда заплатили посредникам сумму, равную зарплате за несколько месяцев.", "Трудовые мигранты на стройках и в сфере домашнего труда в городе {city} по-прежнему сталкиваются с изъятием паспортов, неоплаченной сверхурочной работой и изменением договоров по прибытии."],
            details: ["В прошлом году число обращений на нашу горячую линию по поводу невыплаты заработной платы достигло {n}, и у {pct}% обратившихся не было письменного договора на понятном им языке.", "Когда трудовые инспекторы посещали рабочие места вместе с профсоюзами, задолженность по зарплате в большинстве случаев удавалось взыскать в течение трёх месяцев."],
            asks: ["Закрепить принцип «платит работодатель», чтобы ни один работник не оплачивал услуги по найму.", "Обеспечить трудовым мигрантам доступ к судам и механизмам подачи жалоб независимо от их миграционного статуса."],
            replies: ["Мы видим то же самое: тех, кто жалуется на невыплату зарплаты, первыми лишают разрешения на пребывание.", "Двусторонние соглашения о трудовой миграции должны включать типовые договоры, которые нельзя менять после прибытия."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["Снизить стоимость денежных переводов до уровня ниже 3 %", "Цифровые переводы и финансовая доступность в городе {city}"],
            openings: ["Семьи в городе {city} живут на деньги, которые присылают родственники из-за рубежа, но перевод 200 долларов по-прежнему стоит дороже целевых 3 %, заложенных в Целях устойчивого развития.", "Мобильные платежи ускорили переводы, однако многие мигранты всё ещё не могут открыть счёт без местного удостоверения личности."],
            details: ["Опрос домохозяйств в нашем районе (размер выборки: {n}) показал, что в {pct}% случаев переводы тратились на учёбу детей и лечение.", "Неформальные каналы по-прежнему популярны, потому что официальные услуги дороги и находятся далеко от мест проживания людей."],
            asks: ["Разрешить мигрантам открывать банковские счета и электронные кошельки по паспорту или консульской карте.", "Публиковать тарифы на переводы в сопоставимом виде, чтобы отправители могли выбрать самый дешёвый и надёжный способ."],
            replies: ["Программы инвестиций диаспоры работают лучше, когда их разрабатывают вместе с объединениями диаспоры.", "Нужно учитывать и комиссии на стороне получателя, которые часто скрыты в обменном курсе."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["Признание навыков и квалификаций мигрантов", "Партнёрства в области навыков между странами происхождения и назначения"],
            openings: ["Медсёстры, инженеры и учителя, приезжающие в город {city}, часто работают намного ниже своей квалификации, потому что их дипломы не признаются.", "Глобальные партнёрства в области навыков позволяют готовить специалистов одновременно для родной страны и для работы за рубежом."],
            details: ["Признание одного диплома занимает несколько месяцев и стоит больше, чем многие новоприбывшие зарабатывают за месяц.", "В нашей программе {pct}% участников нашли работу по специальности после короткого переходного курса."],
            asks: ["Создать быстрые и доступные процедуры признания иностранных квалификаций, включая навыки, полученные на рабочем месте.", "Заключить соглашения о взаимном признании квалификаций в рамках региональных экономических объединений."],
            replies: ["Языковые курсы, привязанные к профессии, дают реальный результат, в отличие от общих курсов.", "Работодателей нужно привлекать с самого начала, иначе они не будут доверять сертификатам."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["Консульская защита граждан за рубежом", "Выездные консульские службы и доступ к документам"],
            openings: ["Многие наши участники в городе {city} живут в нескольких часах езды от ближайшего консульства и не могут позволить себе поездку, чтобы продлить паспорт.", "Когда трудового мигранта задерживают или он заболевает, сотрудники консульства часто оказываются единственными, к кому он может обратиться."],
            details: ["Число паспортов и удостоверений личности, оформленных выездными консульскими бригадами за один месяц прошлого года, составило {n}.", "Сотрудники консульства рассказали нам, что им не хватает переводчиков, юристов и средств для помощи задержанным соотечественникам."],
            asks: ["Финансировать выездные консульские службы и разрешить продление документов онлайн.", "Незамедлительно сообщать каждому задержанному иностранцу о его праве связаться с консульством."],
            replies: ["Консульства могли бы работать с объединениями диаспоры, которые знают, где живут люди и что им нужно.", "Документы — ключ ко всему остальному: к работе, учёбе, медицинской помощи и банковскому счёту."],
        },
        TopicText {
            topic: Topic::Data,
            titles: ["Более качественные данные о миграции без риска для людей", "Факты против дезинформации о мигрантах"],
            openings: ["В городе {city} решения часто принимаются без надёжных данных о том, сколько мигрантов там живёт и что им нужно.", "Общественная дискуссия о миграции строится на слухах и дезинформации, а не на фактах."],
            details: ["Лишь {pct}% изученных нами обследований содержали данные в разбивке по полу, возрасту и миграционному статусу.", "Число вопросов журналистов о миграции, на которые за прошлый год ответил местный проект по проверке фактов, составило {n}."],
            asks: ["Разбивать официальную статистику по миграционному статусу и гарантировать, что собранные данные не передаются органам миграционного контроля.", "Поддерживать журналистов и местные власти точными и доступными данными о миграции."],
            replies: ["Организации мигрантов должны участвовать в решении о том, какие данные собираются и как они используются.", "Открытые данные никогда не должны позволять установить личность конкретного мигранта."],
        },
    ],
};

/// Portuguese covers the topics most raised from Lusophone Africa and Brazil, in wording
/// common to both variants.
const PT: LangText = LangText {
    tag: "pt",
    sep: " ",
    openers: ["Agradeço por levantar este tema.", "Concordo com este ponto.", "Na nossa experiência, a situação é parecida.", "Gostaria de acrescentar um ponto."],
    closers: ["Estamos à disposição para enviar os nossos materiais ao secretariado.", "Isto deveria constar da revisão regional.", "Podemos continuar esta conversa."],
    questions: ["O que observam outras organizações nos seus países?", "Que práticas funcionaram em outros lugares da região?"],
    report_intros: ["A nossa organização preparou este breve relatório para a revisão regional.", "Este relatório resume o que observamos em {city} entre {year} e 2024."],
    recommendations: "Recomendações",
    findings: "Constatações",
    topics: &[
        TopicText {
            topic: Topic::DecentWork,
            titles: ["Recrutamento justo: acabar com as taxas de recrutamento", "Trabalho digno para trabalhadoras domésticas migrantes em {city}"],
            openings: ["Muitos trabalhadores migrantes que apoiamos em {city} pagaram taxas de recrutamento equivalentes a vários meses de salário antes mesmo de sair de casa.", "Trabalhadores migrantes da construção civil e do trabalho doméstico em {city} ainda enfrentam a retenção de passaportes, horas extras não pagas e contratos alterados à chegada."],
            details: ["No ano passado, a nossa linha de apoio recebeu {n} queixas por salários em atraso, e {pct}% das pessoas não tinham contrato escrito em uma língua que compreendessem.", "Quando os inspetores do trabalho visitaram os locais de trabalho com os sindicatos, os salários em atraso foram recuperados na maioria dos casos em menos de três meses."],
            asks: ["Aplicar o princípio de que quem paga é o empregador, para que nenhum trabalhador pague taxas de recrutamento.", "Garantir aos trabalhadores migrantes acesso aos tribunais do trabalho e a mecanismos de queixa, independentemente da sua situação migratória."],
            replies: ["Vemos o mesmo padrão: quem se queixa de salários em atraso é o primeiro a perder a autorização de residência.", "Os acordos bilaterais de trabalho deveriam incluir contratos-modelo que não possam ser alterados depois da chegada."],
        },
        TopicText {
            topic: Topic::Remittances,
            titles: ["Reduzir o custo das remessas para menos de 3%", "Remessas digitais e inclusão financeira em {city}"],
            openings: ["As famílias de {city} dependem do dinheiro enviado do exterior, mas enviar 200 dólares ainda custa mais do que a meta de 3% dos Objetivos de Desenvolvimento Sustentável.", "O dinheiro móvel tornou as remessas mais rápidas, mas muitos migrantes ainda não conseguem abrir uma conta sem um documento de identidade local."],
            details: ["Em uma pesquisa com {n} famílias, constatamos que as remessas pagavam a escola e os cuidados de saúde em {pct}% dos casos.", "Os canais informais continuam comuns porque os serviços regulados são caros e ficam longe de onde as pessoas vivem."],
            asks: ["Permitir que os migrantes abram contas bancárias e de dinheiro móvel com o cartão consular ou o passaporte.", "Publicar os preços das remessas de forma comparável, para que cada pessoa possa escolher o canal seguro mais barato."],
            replies: ["Os programas de investimento da diáspora funcionam melhor quando são desenhados com as associações da diáspora.", "Também é preciso olhar para as taxas cobradas no recebimento, muitas vezes escondidas na taxa de câmbio."],
        },
        TopicText {
            topic: Topic::Climate,
            titles: ["Mudanças climáticas, desastres e deslocamento", "A migração como estratégia de adaptação"],
            openings: ["As secas e as enchentes na região de {city} levaram muitas famílias a se deslocar, primeiro dentro do país e depois para o exterior.", "A subida do nível do mar e a salinização tornam impossível o sustento de um número crescente de comunidades costeiras."],
            details: ["Só em {year}, {n} famílias da nossa região perderam a colheita por causa da seca.", "Quem se desloca por causa de desastres de evolução lenta quase nunca tem acesso a qualquer forma de proteção."],
            asks: ["Abrir vias regulares, como vistos humanitários e programas de mobilidade laboral, para as pessoas afetadas por desastres e pelas mudanças climáticas.", "Incluir a mobilidade humana nos planos nacionais de adaptação e planejar os reassentamentos com as comunidades envolvidas."],
            replies: ["Os acordos regionais de livre circulação podem ser uma ferramenta prática para as pessoas deslocadas por desastres.", "O financiamento para a adaptação também deve chegar às comunidades que acolhem as pessoas deslocadas."],
        },
        TopicText {
            topic: Topic::Skills,
            titles: ["Reconhecimento das competências e diplomas dos migrantes", "Parcerias de competências entre países de origem e de destino"],
            openings: ["Enfermeiras, engenheiros e professores que chegam a {city} muitas vezes trabalham muito abaixo da sua formação porque os seus diplomas não são reconhecidos.", "As parcerias globais de competências podem formar pessoas para trabalhar no próprio país e no exterior ao mesmo tempo."],
            details: ["O reconhecimento de um único diploma leva em média {days} dias e custa mais do que muitos recém-chegados ganham em um mês.", "No nosso programa, {pct}% dos participantes encontraram trabalho na sua área depois de um curso de transição curto."],
            asks: ["Criar procedimentos rápidos e acessíveis para reconhecer qualificações estrangeiras, incluindo as competências adquiridas no trabalho.", "Negociar acordos de reconhecimento mútuo no âmbito dos blocos regionais de integração."],
            replies: ["Os cursos de língua ligados à profissão fazem uma diferença real, não apenas os cursos gerais.", "Os empregadores devem participar desde o início; caso contrário, não confiam nos certificados."],
        },
        TopicText {
            topic: Topic::Consular,
            titles: ["Proteção consular para os cidadãos no exterior", "Consulados itinerantes e acesso a documentos de identidade"],
            openings: ["Muitos dos nossos membros em {city} vivem a horas do consulado mais próximo e não têm dinheiro para viajar e renovar o passaporte.", "Quando um trabalhador migrante é detido ou adoece, os funcionários consulares são muitas vezes a única ajuda a que ele consegue recorrer."],
            details: ["As missões consulares itinerantes emitiram {n} passaportes e documentos de identidade em um único mês no ano passado.", "Os funcionários consulares nos contaram que faltam intérpretes, advogados e recursos para apoiar os cidadãos detidos."],
            asks: ["Financiar serviços consulares itinerantes e permitir a renovação de documentos de identidade pela internet.", "Informar sem demora todo estrangeiro detido sobre o seu direito de se comunicar com o seu consulado."],
            replies: ["Os consulados poderiam trabalhar com as associações da diáspora, que sabem onde as pessoas vivem e do que precisam.", "Os documentos são a chave para todo o resto: trabalho, escola, saúde e conta bancária."],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let a = plan(7, 5);
        let b = plan(7, 5);
        assert_eq!(a.personas.len(), b.personas.len());
        assert_eq!(a.threads.len(), 25);
        for (x, y) in a.threads.iter().zip(&b.threads) {
            assert_eq!(x.title, y.title);
            assert_eq!(x.opening.body, y.opening.body);
            assert_eq!(x.replies.len(), y.replies.len());
        }
        let c = plan(8, 5);
        assert!(a
            .threads
            .iter()
            .zip(&c.threads)
            .any(|(x, y)| x.opening.body != y.opening.body));
    }

    #[test]
    fn every_region_language_has_speakers_threads_and_texts() {
        let p = plan(2026, 3);
        for region in REGIONS {
            for (l, _) in region.languages {
                assert!(TEXTS.iter().any(|t| t.tag == *l), "{l}");
                let in_region = |x: &&Persona| region.countries.iter().any(|c| c.code == x.country);
                assert!(
                    p.personas
                        .iter()
                        .filter(in_region)
                        .any(|x| x.language == *l),
                    "{} {l}",
                    region.slug
                );
                assert!(
                    p.threads
                        .iter()
                        .any(|t| t.region == region.slug && t.opening.language == *l),
                    "{} {l}",
                    region.slug
                );
                assert!(
                    region.countries.iter().any(|c| c.languages.contains(l)),
                    "{} {l}",
                    region.slug
                );
            }
            for c in region.countries {
                assert!(!c.cities.is_empty());
                assert!(hub_domain::validate::country(c.code).is_ok(), "{}", c.code);
            }
        }
    }

    #[test]
    fn texts_are_complete_and_valid() {
        for t in &TEXTS {
            assert!(!t.topics.is_empty(), "{}", t.tag);
            for tt in t.topics {
                for title in tt.titles {
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
                assert!(texts(tag).topic(topic).is_some(), "{tag} {topic:?}");
            }
        }
    }

    #[test]
    fn plans_respect_the_store_rules() {
        let p = plan(1, 12);
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
        let p = plan(3, 8);
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
