//! Golden analysis documents built from real Pol.is data (CC BY 4.0, The Computational
//! Democracy Project): brexit-consensus (europe) and vtaiwan.uberx (asia-pacific) are imported
//! into a fresh SQLite database, each region's document is built with `hub analysis build`'s
//! own code and a fixed cutoff, and its JSON must equal, byte for byte, the committed file
//! under `tests/golden/`.
//!
//! Nothing in these documents depends on when or where they are built: ids come from a fresh
//! database and a fixed import order, every post and endorsement is dated from the Pol.is
//! timestamps, and the cutoff is a fixed day after the data. A difference is therefore a
//! change of the import, the synthesis or the JSON layout, to be reviewed.
//!
//! To accept an intended change, regenerate the files and review their diff:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p hub --test analysis_golden
//! git diff crates/hub/tests/golden/
//! ```

use chrono::NaiveDate;
use figment::providers::{Format, Toml};
use figment::Figment;
use hub::config::{Config, DEFAULT_TOML};
use hub::polis;
use hub_analysis::Document;
use hub_domain::PostStatus;
use hub_store::Store;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The cutoff: the end of this day (UTC), after both conversations (the last brexit comment
/// is of 2017-07-18, the last vtaiwan one of 2017-01-29).
const UNTIL: (i32, u32, u32) = (2017, 12, 31);

/// The regions built, their conversation and golden file.
const CASES: [(&str, &str, &str); 2] = [
    ("europe", "brexit-consensus", "analysis-europe-brexit.json"),
    (
        "asia-pacific",
        "vtaiwan.uberx",
        "analysis-asia-pacific-vtaiwan.json",
    ),
];

/// The four files `hub analysis build --out` writes.
const FORMATS: [&str; 4] = [
    "document.json",
    "document.html",
    "document.md",
    "document.csv",
];

mod common;
use common::{all_posts, polis_dir};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The embedded default configuration only: no file, no `HUB_*` variable can change the
/// documents.
fn config() -> Config {
    Config::from_figment(Figment::from(Toml::string(DEFAULT_TOML))).expect("default config")
}

/// The documents of one fresh database: region → file name → bytes. The store is returned
/// open for further checks; `_dir` must outlive it.
struct Built {
    store: Store,
    files: BTreeMap<&'static str, BTreeMap<&'static str, Vec<u8>>>,
    _dir: tempfile::TempDir,
}

/// Imports the two conversations, one folder at a time in name order (so ids are those of
/// `hub demo --polis` on a database without the generated corpus and without the Austrian
/// set), then builds both regions as `hub analysis build --until 2017-12-31 --out DIR` does.
async fn import_and_build() -> Built {
    let dir = tempfile::Builder::new()
        .prefix("hub-analysis-golden")
        .tempdir()
        .expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = Store::connect(&url, &Default::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let data = polis_dir();
    assert!(
        data.join("brexit-consensus/comments.csv").is_file(),
        "the Pol.is data should be at {} (the repository's data/polis)",
        data.display()
    );
    for (_, folder, _) in CASES {
        polis::import_dir(&store, &data.join(folder))
            .await
            .unwrap_or_else(|e| panic!("import {folder}: {e:#}"));
    }
    let config = config();
    let until = NaiveDate::from_ymd_opt(UNTIL.0, UNTIL.1, UNTIL.2);
    let mut files = BTreeMap::new();
    for (region, _, _) in CASES {
        let out = dir.path().join(region);
        hub::analysis::build_now(&store, &config, region, until, Some(&out), "en")
            .await
            .unwrap_or_else(|e| panic!("build {region}: {e:#}"));
        let mut by_name = BTreeMap::new();
        for name in FORMATS {
            let bytes = std::fs::read(out.join(name)).expect(name);
            by_name.insert(name, bytes);
        }
        files.insert(region, by_name);
    }
    Built {
        store,
        files,
        _dir: dir,
    }
}

/// One Pol.is comment as the sanity checks need it.
struct Comment {
    moderated: i64,
    body: String,
}

fn read_comments(folder: &str) -> Vec<Comment> {
    let path = polis_dir().join(folder).join("comments.csv");
    let mut reader = csv::Reader::from_path(&path).expect("comments.csv");
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (m, b) = (col("moderated"), col("comment-body"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            Comment {
                moderated: r[m].parse().expect("moderated"),
                body: r[b].to_string(),
            }
        })
        .collect()
}

/// Whitespace collapsed to single spaces: how excerpts are compared with bodies.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_cjk(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c))
}

fn quotes(doc: &Document) -> Vec<&hub_analysis::model::Quote> {
    let mut out: Vec<&hub_analysis::model::Quote> = Vec::new();
    for o in &doc.objectives {
        out.extend(&o.quotes);
    }
    for a in &doc.aspects {
        out.extend(&a.quotes);
    }
    out.extend(doc.recommendations.iter().map(|r| &r.quote));
    out.extend(&doc.emerging.quotes);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_documents_from_polis() {
    common::require_polis();
    let first = import_and_build().await;
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");

    // 1. Each document's JSON is the committed one, byte for byte.
    for (region, _, golden) in CASES {
        let json = &first.files[region]["document.json"];
        let path = golden_dir().join(golden);
        if update {
            std::fs::create_dir_all(golden_dir()).expect("golden dir");
            std::fs::write(&path, json).expect("write golden");
            eprintln!("UPDATE_GOLDEN=1: wrote {}", path.display());
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            )
        });
        if *json != want {
            let got = String::from_utf8_lossy(json);
            let want = String::from_utf8_lossy(&want);
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
            panic!(
                "{region}: the document differs from {} (first difference at line {}):\n  got:  {:?}\n  want: {:?}\n\
                 If the change is intended, run UPDATE_GOLDEN=1 cargo test -p hub --test analysis_golden and review the diff.",
                path.display(),
                line + 1,
                got.lines().nth(line).unwrap_or(""),
                want.lines().nth(line).unwrap_or(""),
            );
        }
    }

    // 2. The same data in another fresh database gives the same bytes, in every format.
    let second = import_and_build().await;
    for (region, _, _) in CASES {
        for name in FORMATS {
            assert!(
                first.files[region][name] == second.files[region][name],
                "{region}/{name}: two builds from the same data differ"
            );
        }
    }
    second.store.close().await;

    // 3. What the documents must say, and must not.
    for (region, folder, _) in CASES {
        let files = &first.files[region];
        let doc: Document = serde_json::from_slice(&files["document.json"]).expect("document");
        let texts: Vec<String> = FORMATS
            .iter()
            .map(|n| String::from_utf8(files[n].clone()).expect("UTF-8"))
            .collect();
        let comments = read_comments(folder);
        let published: Vec<String> = comments
            .iter()
            .filter(|c| c.moderated == 1)
            .map(|c| squash(&c.body))
            .collect();

        assert_eq!(doc.region, region);
        assert_eq!(doc.cutoff, "2017-12-31T23:59:59Z");
        assert_eq!(doc.version, 1);
        assert!(doc.changes.is_none());
        // The published comments and the opening post, nothing else.
        assert_eq!(doc.totals.posts, published.len() as i64 + 1, "{region}");
        assert_eq!(doc.contributions.len(), published.len() + 1, "{region}");
        assert_eq!(doc.totals.threads, 1);

        // Times come from the data: every contribution was written in 2015-2017, and the
        // weeks span the conversation, not the day of the test.
        for c in &doc.contributions {
            assert!(
                ("2015".."2018").contains(&c.created_at.as_str()),
                "{region}: post {} dated {}",
                c.id,
                c.created_at
            );
        }
        // The weekly series covers the half year before the cutoff; older weeks are summed.
        for w in &doc.weekly {
            assert!(
                w.starts.as_str() >= "2017-06" && w.starts.as_str() < "2018",
                "{region}: {}",
                w.starts
            );
        }
        assert_eq!(
            doc.weekly.iter().map(|w| w.posts).sum::<i64>() + doc.weekly_earlier,
            doc.totals.posts
        );

        // Imports never name organisations (attribution = false, no organisation).
        assert_eq!(doc.totals.organisations, 0);
        assert!(doc.contributions.iter().all(|c| c.organisation.is_none()));
        assert!(quotes(&doc).iter().all(|q| q.organisation.is_none()));

        // Every quote is a published comment (or the opening post), as written.
        let opening_marker = "Imported from Pol.is open data";
        for q in quotes(&doc) {
            let excerpt = squash(q.excerpt.trim_end_matches('…'));
            let excerpt = excerpt.trim();
            assert!(
                published.iter().any(|b| b.contains(excerpt)) || q.excerpt.contains(opening_marker),
                "{region}: quote of post {} is no published comment: {:?}",
                q.post_id,
                q.excerpt
            );
        }

        // No comment the conversation's moderators rejected (-1) or never reviewed (0)
        // appears, in any format: neither its text nor its post id.
        let posts = all_posts(&first.store, doc.contributions[0].thread_id).await;
        let withheld: HashSet<i64> = posts
            .iter()
            .filter(|p| p.status != PostStatus::Published)
            .map(|p| p.id)
            .collect();
        let expected_withheld = comments.iter().filter(|c| c.moderated != 1).count();
        assert_eq!(withheld.len(), expected_withheld, "{region}");
        assert!(doc.contributions.iter().all(|c| !withheld.contains(&c.id)));
        assert!(quotes(&doc).iter().all(|q| !withheld.contains(&q.post_id)));
        assert_eq!(doc.excluded.total, expected_withheld as i64, "{region}");
        let mut fragments = 0;
        for c in comments.iter().filter(|c| c.moderated != 1) {
            // A distinctive run of the text: its first 12 characters, when no published
            // comment shares them (a few rejected comments repeat accepted ones).
            let body = squash(&c.body);
            let fragment: String = body.chars().take(12).collect();
            if fragment.chars().count() < 12 || published.iter().any(|b| b.contains(&fragment)) {
                continue;
            }
            fragments += 1;
            for (name, text) in FORMATS.iter().zip(&texts) {
                assert!(
                    !squash(text).contains(&fragment),
                    "{region}/{name} shows a withheld comment: {fragment:?}"
                );
            }
        }
        if expected_withheld > 0 {
            assert!(
                fragments > 50,
                "{region}: only {fragments} withheld comments checked"
            );
        }

        if region == "asia-pacific" {
            // Traditional Chinese quotes, verbatim, marked as such, in every rendering.
            let chinese: Vec<_> = quotes(&doc)
                .into_iter()
                .filter(|q| has_cjk(&q.excerpt))
                .collect();
            assert!(chinese.len() >= 3, "{} Chinese quotes", chinese.len());
            assert!(
                chinese.iter().all(|q| texts[2].contains(&q.excerpt)),
                "the Markdown quotes them verbatim"
            );
            for q in &chinese {
                // The posts are tagged zh-Hant; the document keeps the primary subtag only.
                assert!(
                    q.language.starts_with("zh"),
                    "post {}: {}",
                    q.post_id,
                    q.language
                );
            }
            let html = &texts[1];
            assert!(
                squash(html).contains(&squash(&html_escape(&chinese[0].excerpt))),
                "the HTML quotes {:?} verbatim",
                chinese[0].excerpt
            );
            assert!(html.contains("lang=\"zh"));
        }
    }
    first.store.close().await;
}

/// The HTML text escapes the renderer applies.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
