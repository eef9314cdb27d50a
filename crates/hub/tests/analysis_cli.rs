//! The secretariat's path, through the real binary: `hub demo --polis data/polis`
//! then `hub analysis build --region asia-pacific --out DIR`, on a fresh SQLite database.
//! The document must be one an officer can open and present: four files, HTML that parses,
//! charts as accessible inline SVG, no script, the Traditional Chinese of the vTaiwan
//! consultation quoted as written and marked as Chinese, and a CSV annex with one row per
//! contribution counted.

use hub_analysis::Document;
use scraper::{Html, Selector};
use std::process::Command;

mod common;
use common::polis_dir;

/// Runs `hub <args>` on the database `db`; panics with its output unless it succeeds.
fn hub(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(args)
        .env("HUB_DATABASE_URL", db)
        .env("HUB_LOG_LEVEL", "warn")
        .env_remove("HUB_CONFIG")
        .output()
        .expect("run the hub binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "hub {} failed ({}):\n{stdout}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

fn has_cjk(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c))
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn demo_then_asia_pacific_document() {
    common::require_polis();
    let tmp = tempfile::Builder::new()
        .prefix("hub-analysis-cli")
        .tempdir()
        .expect("temp dir");
    let db = format!("sqlite://{}", tmp.path().join("hub.db").display());
    let data = polis_dir();
    assert!(
        data.join("vtaiwan.uberx/comments.csv").is_file(),
        "the Pol.is data should be at {} (the repository's data/polis)",
        data.display()
    );
    let data = data.to_string_lossy().into_owned();
    // Two generated threads per region keep the debug build quick; the Pol.is sets are whole.
    let report = hub(&db, &["demo", "--polis", &data, "--threads", "2"]);
    assert!(report.contains("vtaiwan.uberx -> asia-pacific"), "{report}");

    let out = tmp.path().join("asia-pacific");
    let out_arg = out.to_string_lossy().into_owned();
    let meta = hub(
        &db,
        &[
            "analysis",
            "build",
            "--region",
            "asia-pacific",
            "--out",
            &out_arg,
        ],
    );
    assert!(meta.contains("\"status\": \"ready\""), "{meta}");

    // The four files.
    for name in [
        "document.html",
        "document.md",
        "document.json",
        "document.csv",
    ] {
        let path = out.join(name);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(len > 0, "{name} is empty");
    }
    let json = std::fs::read(out.join("document.json")).expect("json");
    let doc: Document = serde_json::from_slice(&json).expect("document");
    assert_eq!(doc.region, "asia-pacific");
    let html_text = std::fs::read_to_string(out.join("document.html")).expect("html");

    // It parses as HTML without a single error, and declares its language.
    let html = Html::parse_document(&html_text);
    assert!(
        html.errors.is_empty(),
        "HTML parse errors: {:?}",
        html.errors
    );
    assert!(html.select(&sel("html[lang]")).next().is_some());
    assert!(html
        .select(&sel("meta[charset]"))
        .any(|m| m.value().attr("charset") == Some("utf-8")));

    // Charts are inline SVG images with a text alternative; nothing is run.
    let charts: Vec<_> = html.select(&sel("svg[role=\"img\"]")).collect();
    assert!(charts.len() >= 3, "{} charts", charts.len());
    for svg in &charts {
        assert!(
            svg.value().attr("aria-label").is_some()
                || svg.value().attr("aria-labelledby").is_some()
                || svg.select(&sel("title")).next().is_some(),
            "a chart without a text alternative"
        );
    }
    assert_eq!(html.select(&sel("script")).count(), 0, "no <script>");
    assert!(!html_text.to_ascii_lowercase().contains("<script"));

    // Chinese quotes of the vTaiwan consultation, verbatim, in an element marked Chinese.
    let quotes: Vec<&hub_analysis::model::Quote> = doc
        .objectives
        .iter()
        .flat_map(|o| &o.quotes)
        .chain(doc.aspects.iter().flat_map(|a| &a.quotes))
        .chain(doc.recommendations.iter().map(|r| &r.quote))
        .chain(&doc.emerging.quotes)
        .collect();
    let vtaiwan = std::fs::read_to_string(polis_dir().join("vtaiwan.uberx/comments.csv"))
        .expect("vtaiwan comments");
    let vtaiwan = squash(&vtaiwan);
    let chinese: Vec<_> = quotes
        .iter()
        .filter(|q| has_cjk(&q.excerpt) && vtaiwan.contains(&squash(&q.excerpt)))
        .collect();
    assert!(
        !chinese.is_empty(),
        "no vTaiwan comment among the {} quotes",
        quotes.len()
    );
    let marked: Vec<String> = html
        .select(&sel("[lang^=\"zh\"]"))
        .map(|e| squash(&e.text().collect::<String>()))
        .collect();
    for q in &chinese {
        let excerpt = squash(&q.excerpt);
        assert!(
            marked.iter().any(|t| t.contains(&excerpt)),
            "quote of post {} not shown verbatim under lang=\"zh...\": {excerpt:?}",
            q.post_id
        );
    }

    // The CSV annex: one row per contribution of the JSON, in the same order.
    let mut csv = csv::Reader::from_path(out.join("document.csv")).expect("csv");
    let headers = csv.headers().expect("headers").clone();
    assert_eq!(headers.get(0), Some("id"));
    let ids: Vec<i64> = csv
        .records()
        .map(|r| r.expect("row")[0].parse().expect("id"))
        .collect();
    let want: Vec<i64> = doc.contributions.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), doc.totals.posts as usize);
    assert_eq!(ids, want);
}
