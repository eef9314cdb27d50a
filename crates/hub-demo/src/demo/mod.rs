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
//! The phrases, names, regions, countries and cities are data, not code: the TOML files in
//! `crates/hub-demo/data/` (one per language under `lang/`, written to be edited by a
//! translator), embedded in the binary and read by [`data`]; [`plan`] is the one generator
//! that draws the corpus from them, and this module writes it.
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

mod data;
mod plan;

use crate::polis::{self, PolisReport};
use crate::write::{author_of, date_thread, get_or_create_user};
use anyhow::{bail, Context, Result};
use hub_domain::{lang, markup, search, AuthorRef, PostStatus, StakeholderGroup};
use hub_store::{Created, IdempotencyKey, NewPost, NewThread, NewUser, Store};
use plan::{Parent, Persona, Plan, PostPlan};
use std::collections::BTreeMap;
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
        let corpus = data::corpus()?;
        let plan = plan::plan(corpus, opts.seed, opts.threads_per_region);
        load(store, corpus, &plan, opts).await?
    };
    if let Some(dir) = &opts.polis_dir {
        report.polis = Some(polis::import_dir(store, dir).await?);
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Writing the plan.

async fn load(
    store: &Store,
    corpus: &data::Corpus,
    plan: &Plan,
    opts: &DemoOptions,
) -> Result<DemoReport> {
    let mut report = DemoReport {
        regions: corpus
            .regions
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
