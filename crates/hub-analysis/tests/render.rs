//! The HTML, Markdown and CSV renderings of a hand-built document with hostile and
//! multilingual content.

use hub_analysis::model::*;
use hub_analysis::render::{self, RenderOptions};
use scraper::{Html, Selector};
use std::collections::BTreeMap;

const BASE: &str = "https://hub.example.org";
const XSS: &str = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(1))";
const CHINESE: &str = "移民工人需要获得医疗服务和体面的住房，地方政府应当与民间社会合作。";
const ARABIC: &str =
    "يحتاج العمال المهاجرون إلى الحصول على الخدمات الصحية والسكن اللائق في المدن التي يعملون فيها";
const FORMULA_ORG: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

fn en() -> RenderOptions<'static> {
    RenderOptions {
        lang: "en",
        base_url: BASE,
    }
}

#[expect(clippy::too_many_arguments)]
fn quote(
    id: i64,
    kind: &str,
    excerpt: &str,
    lang: &str,
    dir: &str,
    group: &str,
    country: Option<&str>,
    org: Option<&str>,
    endorsements: i64,
) -> Quote {
    Quote {
        post_id: id,
        thread_id: 100 + id % 5,
        link: format!("/api/v1/posts/{id}"),
        kind: kind.into(),
        excerpt: excerpt.into(),
        language: lang.into(),
        dir: dir.into(),
        stakeholder_group: group.into(),
        country: country.map(Into::into),
        organisation: org.map(Into::into),
        endorsements,
    }
}

fn term(t: &str, score: f64, posts: i64) -> KeyTerm {
    KeyTerm {
        term: t.into(),
        score,
        posts,
    }
}

/// A European document, version 2, with quotes in Chinese, Arabic and French, an XSS attempt
/// and an organisation that is a spreadsheet formula.
pub fn sample() -> Document {
    let groups = [
        "civil_society",
        "migrant_org",
        "academia",
        "local_authority",
        "trade_union",
        "un_entity",
        "member_state",
        "youth",
        "faith_based",
        "private_sector",
    ];
    let countries = ["DE", "FR", "TR", "KZ", "GE", "US", "IT", "ES", "unknown"];
    // Posts per objective, so the ranking is realistic; ranks follow (posts desc, id asc).
    let posts_by_obj: [i64; 23] = [
        31, 9, 14, 6, 38, 27, 44, 12, 5, 11, 8, 7, 19, 4, 41, 35, 22, 18, 13, 6, 10, 15, 29,
    ];
    let mut order: Vec<i64> = (1..=23).collect();
    order.sort_by_key(|id| (-posts_by_obj[(*id - 1) as usize], *id));
    let prominent = [7, 15, 5];

    let q_ar = quote(
        12,
        "comment",
        ARABIC,
        "ar",
        "rtl",
        "migrant_org",
        Some("TR"),
        Some("جمعية العمال المهاجرين"),
        14,
    );
    let q_zh = quote(
        13,
        "report",
        CHINESE,
        "zh",
        "ltr",
        "academia",
        Some("KZ"),
        None,
        9,
    );
    let q_xss = quote(
        14,
        "comment",
        XSS,
        "en",
        "ltr",
        "other",
        None,
        Some("<b>Org</b> & \"Partners\""),
        1,
    );
    let q_fr = quote(15, "recommendation", "Les municipalités doivent garantir l'accès aux soins pour toutes les personnes migrantes, quel que soit leur statut.", "fr", "ltr", "local_authority", Some("FR"), Some("Ville de Lyon"), 22);
    let q_en = quote(16, "recommendation", "Establish firewalls between health services and immigration enforcement so that migrants in an irregular situation can seek care without fear.", "en", "ltr", "civil_society", Some("DE"), Some("PICUM"), 31);
    let q_en2 = quote(17, "comment", "Regular pathways for care workers have cut irregular recruitment fees by half in our programme.", "en", "ltr", "trade_union", Some("IT"), None, 6);

    let objectives: Vec<ObjectiveStat> = order
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let p = posts_by_obj[(*id - 1) as usize];
            let is_prominent = prominent.contains(id);
            ObjectiveStat {
                id: *id,
                rank: i as i64 + 1,
                cluster: i64::from(
                    hub_domain::objectives::objective(*id)
                        .expect("objective")
                        .cluster,
                ),
                posts: p,
                endorsements: p * 3 + id,
                recommendations: p / 3,
                authors: p - p / 4,
                stakeholder_groups: groups
                    .iter()
                    .take((p as usize / 4).clamp(1, groups.len()))
                    .map(|s| s.to_string())
                    .collect(),
                countries: countries
                    .iter()
                    .take((p as usize / 6).clamp(1, countries.len()))
                    .map(|s| s.to_string())
                    .collect(),
                prominent: is_prominent,
                key_terms: if is_prominent {
                    vec![
                        term("firewall", 0.4312, 9),
                        term("health care", 0.3977, 12),
                        term("<i>status</i>", 0.2101, 4),
                        term("住房", 0.1888, 2),
                    ]
                } else {
                    vec![]
                },
                quotes: match id {
                    7 => vec![q_en.clone(), q_ar.clone(), q_xss.clone()],
                    15 => vec![q_fr.clone(), q_zh.clone()],
                    5 => vec![q_en2.clone()],
                    _ => vec![],
                },
            }
        })
        .collect();
    let clusters: Vec<ClusterStat> = (1..=4)
        .map(|c| ClusterStat {
            id: c,
            objectives: objectives
                .iter()
                .filter(|o| o.cluster == c)
                .map(|o| o.id)
                .collect(),
            posts: objectives
                .iter()
                .filter(|o| o.cluster == c)
                .map(|o| o.posts)
                .sum::<i64>()
                * 2
                / 3,
            endorsements: objectives
                .iter()
                .filter(|o| o.cluster == c)
                .map(|o| o.endorsements)
                .sum::<i64>()
                * 2
                / 3,
        })
        .collect();

    let mut contributions = Vec::new();
    for id in 1..=20i64 {
        let kind = ["comment", "recommendation", "report"][(id % 3) as usize];
        contributions.push(Contribution {
            id,
            thread_id: 100 + id % 5,
            link: format!("/api/v1/posts/{id}"),
            kind: kind.into(),
            objectives: if id % 7 == 0 {
                vec![]
            } else {
                vec![1 + id % 23, 1 + (id * 5) % 23]
            },
            aspects: match id % 4 {
                0 => vec!["gap".into()],
                1 => vec!["practice".into(), "progress".into()],
                2 => vec!["collaboration".into()],
                _ => vec![],
            },
            stakeholder_group: groups[(id as usize) % groups.len()].into(),
            country: if id % 6 == 0 {
                None
            } else {
                Some(countries[(id as usize) % 8].into())
            },
            organisation: match id {
                3 => Some(FORMULA_ORG.into()),
                12 => Some("جمعية العمال المهاجرين".into()),
                14 => Some("<b>Org</b> & \"Partners\"".into()),
                16 => Some("PICUM".into()),
                _ => None,
            },
            language: match id {
                12 => "ar".into(),
                13 => "zh".into(),
                15 => "fr".into(),
                _ => "en".into(),
            },
            created_at: format!("2027-01-{:02}T{:02}:15:00Z", 4 + id, 8 + id % 10),
            endorsements: id % 9,
        });
    }

    let weekly: Vec<Week> = (0..9i64)
        .map(|i| {
            let c = [4, 9, 13, 11, 18, 22, 16, 25, 30][i as usize];
            let r = [1, 3, 5, 4, 8, 9, 7, 12, 15][i as usize];
            let rep = [0, 1, 1, 2, 1, 3, 2, 2, 4][i as usize];
            Week {
                week: format!("2027-W{:02}", i + 1),
                starts: chrono::NaiveDate::from_isoywd_opt(
                    2027,
                    (i + 1) as u32,
                    chrono::Weekday::Mon,
                )
                .expect("date")
                .to_string(),
                posts: c + r + rep,
                by_kind: ByKind {
                    comment: c,
                    recommendation: r,
                    report: rep,
                },
                authors: (c + r + rep) * 2 / 3,
            }
        })
        .collect();
    let posts: i64 = weekly.iter().map(|w| w.posts).sum();

    let recs = vec![
        Recommendation {
            rank: 1,
            quote: q_en.clone(),
            objectives: vec![7, 15],
            endorsements: 31,
            endorsements_by_group: BTreeMap::from([
                ("civil_society".to_string(), 12),
                ("local_authority".to_string(), 9),
                ("un_entity".to_string(), 10),
            ]),
            groups: 4,
            consensus: 7.3421,
            merged: vec![18, 19],
        },
        Recommendation {
            rank: 2,
            quote: q_fr.clone(),
            objectives: vec![15],
            endorsements: 22,
            endorsements_by_group: BTreeMap::from([
                ("local_authority".to_string(), 15),
                ("migrant_org".to_string(), 7),
            ]),
            groups: 2,
            consensus: 4.8203,
            merged: vec![9999],
        },
        Recommendation {
            rank: 3,
            quote: quote(
                18,
                "recommendation",
                "[Sign here](javascript:alert(document.cookie)) and **vote** | for # this",
                "en",
                "ltr",
                "youth",
                Some("ES"),
                None,
                4,
            ),
            objectives: vec![],
            endorsements: 4,
            endorsements_by_group: BTreeMap::new(),
            groups: 1,
            consensus: 1.6094,
            merged: vec![],
        },
    ];

    Document {
        schema: SCHEMA.into(),
        region: "europe".into(),
        space: RegionInfo {
            slug: "europe".into(),
            name: "Europe (with North America, Caucasus, Central Asia)".into(),
            commission: Some("UNECE".into()),
            languages: vec!["en".into(), "fr".into(), "ru".into()],
        },
        review: Some(ReviewInfo {
            cycle: "Third regional review <2027>".into(),
            date: "2027-03-11".into(),
            earliest: Some("2027-03-11".into()),
            place: Some("Geneva".into()),
            tentative: true,
        }),
        cutoff: "2027-03-01T23:59:59Z".into(),
        cutoff_seq: 48211,
        version: 2,
        content_sha256: "9f2c0e1d4b7a3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a".into(),
        changes: Some(Changes {
            previous_version: 1,
            previous_cutoff: "2027-02-15T23:59:59Z".into(),
            added: 57,
            withdrawn: 3,
            totals: Totals { posts: 54, threads: 6, authors: 21, organisations: 9, countries: 2, stakeholder_groups: 1, languages: 0, endorsements: 140 },
            objectives_moved: vec![RankMove { id: 15, previous_rank: 4, rank: 2 }, RankMove { id: 5, previous_rank: 1, rank: 3 }],
            new_top_recommendations: vec![16, 4242],
        }),
        licence: "CC BY 4.0".into(),
        sources: vec!["Pol.is conversation 2027-01 (CC BY 4.0), UNECE".into()],
        totals: Totals { posts, threads: 24, authors: 118, organisations: 47, countries: 9, stakeholder_groups: 10, languages: 5, endorsements: 1234 },
        by_kind: ByKind {
            comment: weekly.iter().map(|w| w.by_kind.comment).sum(),
            recommendation: weekly.iter().map(|w| w.by_kind.recommendation).sum(),
            report: weekly.iter().map(|w| w.by_kind.report).sum(),
        },
        stakeholder_groups: groups.iter().enumerate().map(|(i, g)| Breakdown { key: g.to_string(), posts: 48 - 4 * i as i64, authors: 30 - 2 * i as i64 }).collect(),
        countries: countries.iter().enumerate().map(|(i, c)| Breakdown { key: c.to_string(), posts: 40 - 4 * i as i64, authors: 20 - 2 * i as i64 }).collect(),
        languages: vec![
            Breakdown { key: "en".into(), posts: 160, authors: 80 },
            Breakdown { key: "fr".into(), posts: 40, authors: 20 },
            Breakdown { key: "ru".into(), posts: 22, authors: 10 },
            Breakdown { key: "ar".into(), posts: 8, authors: 5 },
            Breakdown { key: "zh".into(), posts: 4, authors: 3 },
            Breakdown { key: "und".into(), posts: 1, authors: 1 },
        ],
        weekly,
        weekly_earlier: 0,
        excluded: Excluded {
            total: 17,
            pending: 4,
            hidden: 9,
            removed: 4,
            reasons: vec![
                ReasonCount { reason: "spam".into(), posts: 7 },
                ReasonCount { reason: "personal_data".into(), posts: 3 },
                ReasonCount { reason: "author".into(), posts: 2 },
                ReasonCount { reason: "off_topic".into(), posts: 1 },
            ],
        },
        objectives,
        clusters,
        aspects: vec![
            AspectSection { aspect: "progress".into(), posts: 21, objectives: vec![ObjectiveCount { id: 5, posts: 8 }, ObjectiveCount { id: 7, posts: 5 }], quotes: vec![q_en2.clone()] },
            AspectSection { aspect: "gap".into(), posts: 34, objectives: vec![ObjectiveCount { id: 15, posts: 12 }], quotes: vec![q_ar.clone(), q_zh.clone()] },
            AspectSection { aspect: "practice".into(), posts: 15, objectives: vec![], quotes: vec![q_fr.clone()] },
            AspectSection { aspect: "collaboration".into(), posts: 9, objectives: vec![ObjectiveCount { id: 23, posts: 6 }], quotes: vec![] },
        ],
        recommendations: recs,
        emerging: Emerging {
            posts: 12,
            key_terms: vec![term("climate displacement", 0.5123, 6), term("artificial intelligence", 0.3311, 3)],
            quotes: vec![quote(7, "comment", "Climate-related displacement in Central Asia is not covered well by any single objective. See www.example.org or write to info@example.org.", "en", "ltr", "academia", Some("KZ"), None, 3)],
        },
        methodology: Methodology {
            prominent_objectives: 3,
            key_terms: 8,
            quotes: 3,
            recommendations: 10,
            near_duplicate_jaccard: 0.6,
            background_posts: 1840,
            stemmed_languages: vec!["en".into(), "fr".into(), "es".into()],
        },
        contributions,
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

#[test]
fn html_is_well_formed_self_contained_and_safe() {
    let doc = sample();
    let page = render::html(&doc, &en());
    assert!(page.starts_with("<!doctype html>"));
    let html = Html::parse_document(&page);
    assert!(html.errors.is_empty(), "parse errors: {:?}", html.errors);

    assert_eq!(
        html.select(&sel("html"))
            .next()
            .and_then(|e| e.value().attr("lang")),
        Some("en")
    );
    assert_eq!(html.select(&sel("script")).count(), 0);
    // No external resource of any kind.
    assert_eq!(
        html.select(&sel(
            "link, img, iframe, object, embed, image, use, style[src]"
        ))
        .count(),
        0
    );
    for el in html.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            assert!(
                !name.to_ascii_lowercase().starts_with("on"),
                "event handler attribute {name} on <{}>",
                el.value().name()
            );
            if name == "href" || name == "cite" || name == "src" {
                let v = value.trim().to_ascii_lowercase();
                assert!(
                    !v.starts_with("javascript:") && !v.starts_with("data:"),
                    "{name}={value}"
                );
                assert!(
                    v.starts_with("https://hub.example.org/") || v.starts_with('#'),
                    "{name}={value}"
                );
            }
        }
    }
    // The XSS quote is there, as text.
    let body_text: String = html.root_element().text().collect();
    assert!(body_text.contains(XSS));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    // Links to posts: base URL + path, with the hub's rel.
    let link = html
        .select(&sel("a[href=\"https://hub.example.org/api/v1/posts/16\"]"))
        .next()
        .expect("link to post 16");
    assert_eq!(
        link.value().attr("rel"),
        Some("noopener noreferrer nofollow")
    );

    // Every quote carries its language; the Arabic one reads right to left.
    let quotes: Vec<_> = html.select(&sel("blockquote")).collect();
    assert!(!quotes.is_empty());
    assert!(quotes.iter().all(|q| q.value().attr("lang").is_some()));
    let arabic = quotes
        .iter()
        .find(|q| q.text().collect::<String>().contains(ARABIC))
        .expect("Arabic quote");
    assert_eq!(arabic.value().attr("dir"), Some("rtl"));
    assert_eq!(arabic.value().attr("lang"), Some("ar"));
    let chinese = quotes
        .iter()
        .find(|q| q.text().collect::<String>() == CHINESE)
        .expect("Chinese quote verbatim");
    assert_eq!(chinese.value().attr("lang"), Some("zh"));
    assert_ne!(chinese.value().attr("dir"), Some("rtl"));

    // The annex lists every contribution, by id, in a table with a caption and scoped headers.
    let annex = html
        .select(&sel("#annex table"))
        .next()
        .expect("annex table");
    assert!(annex.select(&sel("caption")).next().is_some());
    for c in &doc.contributions {
        let row = html
            .select(&sel(&format!("#annex tr#c-{}", c.id)))
            .next()
            .unwrap_or_else(|| panic!("annex row {}", c.id));
        let th = row
            .select(&sel("th[scope=row]"))
            .next()
            .expect("row header");
        assert_eq!(th.text().collect::<String>(), c.id.to_string());
    }
    assert_eq!(
        annex.select(&sel("tbody tr")).count(),
        doc.contributions.len()
    );
    assert!(html
        .select(&sel("thead th"))
        .all(|th| th.value().attr("scope") == Some("col")));
    assert!(html
        .select(&sel("table"))
        .all(|t| t.select(&sel("caption")).next().is_some()));

    // Three charts, each an accessible image with a title.
    let charts: Vec<_> = html.select(&sel("svg")).collect();
    assert_eq!(charts.len(), 3);
    for svg in &charts {
        assert_eq!(svg.value().attr("role"), Some("img"));
        assert!(svg
            .value()
            .attr("aria-label")
            .is_some_and(|l| !l.is_empty()));
        assert!(svg.select(&sel("title")).next().is_some());
    }
    // The objectives chart has one bar per objective, with the cluster colours.
    let objectives_chart = html
        .select(&sel("#chart-objectives"))
        .next()
        .expect("objectives chart");
    assert_eq!(
        objectives_chart
            .select(&sel("rect[height=\"15.0\"]"))
            .count(),
        23
    );

    // Table of contents points at sections that exist.
    for a in html.select(&sel("nav a")) {
        let target = a
            .value()
            .attr("href")
            .expect("href")
            .trim_start_matches('#');
        assert!(
            html.select(&sel(&format!("section#{target}")))
                .next()
                .is_some(),
            "{target}"
        );
    }
    // Print rules and no web fonts.
    assert!(
        page.contains("@page")
            && page.contains("@media print")
            && page.contains("break-before:page")
    );
    assert!(!page.contains("@import") && !page.contains("url("));
    // Organisations from the document are escaped, and the personal data the model holds
    // none of cannot appear; the formula organisation is text.
    assert!(body_text.contains("<b>Org</b> & \"Partners\""));
    assert!(body_text.contains(FORMULA_ORG));
    // What changed: rank moves and the previous version.
    let changes: String = html
        .select(&sel("#changes"))
        .next()
        .expect("changes")
        .text()
        .collect();
    assert!(changes.contains("Previous version") && changes.contains("▲"));
}

#[test]
fn labels_follow_the_language() {
    let doc = sample();
    let headings = |lang: &str| -> Vec<String> {
        let page = render::html(
            &doc,
            &RenderOptions {
                lang,
                base_url: BASE,
            },
        );
        let html = Html::parse_document(&page);
        assert_eq!(
            html.select(&sel("html"))
                .next()
                .and_then(|e| e.value().attr("lang")),
            Some(if lang == "de" { "en" } else { lang })
        );
        html.select(&sel("h2"))
            .map(|h| h.text().collect())
            .collect()
    };
    let (en, fr, es) = (headings("en"), headings("fr"), headings("es"));
    assert!(en.contains(&"Thematic priorities".to_string()));
    assert!(fr.contains(&"Priorités thématiques".to_string()));
    assert!(es.contains(&"Prioridades temáticas".to_string()));
    assert_eq!(en.len(), fr.len());
    assert_ne!(en, fr);
    assert_ne!(fr, es);
    assert_eq!(headings("de"), en, "unknown languages render English");

    // Objective titles and group labels switch too; quotes do not.
    let fr_page = render::html(
        &doc,
        &RenderOptions {
            lang: "fr",
            base_url: BASE,
        },
    );
    assert!(fr_page.contains("Réduire la vulnérabilité"));
    assert!(fr_page.contains("Société civile / ONG"));
    assert!(fr_page.contains("11 mars 2027"));
    assert!(fr_page.contains(ARABIC));
    let md_es = render::markdown(
        &doc,
        &RenderOptions {
            lang: "es",
            base_url: BASE,
        },
    );
    assert!(md_es.contains("## Prioridades temáticas"));
    assert!(md_es.contains("Reducir vulnerabilidades"));
}

#[test]
fn markdown_has_the_outline_and_shows_markup_as_text() {
    let doc = sample();
    let text = render::markdown(&doc, &en());
    assert!(text.starts_with("# Analysis of stakeholder contributions: Europe\n"));
    for h in [
        "## What changed since the previous version",
        "## Participation",
        "## Thematic priorities",
        "## Recommendations",
        "## Emerging issues",
        "## Methodology",
        "## Annex: contributions counted",
    ] {
        assert!(text.contains(&format!("\n{h}\n")), "{h}");
    }
    assert!(!text.contains("<script"));
    assert!(!text.contains("<img"));
    assert!(!text.contains("[x](javascript"));
    assert!(!text.contains("](javascript"));
    assert!(text.contains("&#91;x&#93;(javascript:alert(1))"));
    assert!(text.contains(CHINESE) && text.contains(ARABIC));
    assert!(text.contains("[Post 16](https://hub.example.org/api/v1/posts/16)"));

    // Rendered by a GFM implementation, the hostile quotes stay text: no script, no image,
    // and every link goes to the hub.
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    let rendered = comrak::markdown_to_html(&text, &options);
    let html = Html::parse_fragment(&rendered);
    assert_eq!(html.select(&sel("script, img")).count(), 0);
    for a in html.select(&sel("a")) {
        let href = a.value().attr("href").unwrap_or("");
        assert!(
            href.starts_with("https://hub.example.org/") || href.starts_with('#'),
            "{href}"
        );
    }
    let visible: String = html.root_element().text().collect();
    assert!(visible.contains(XSS), "the quote reads as written");
    assert!(visible
        .contains("[Sign here](javascript:alert(document.cookie)) and **vote** | for # this"));
    // The annex table has one row per contribution.
    let annex = html.select(&sel("table")).next_back().expect("annex table");
    assert_eq!(
        annex.select(&sel("tbody tr")).count(),
        doc.contributions.len()
    );
    // Markup in table cells does not split the table: the XSS organisation is one cell.
    assert!(html
        .select(&sel("td"))
        .any(|td| td.text().collect::<String>() == "<b>Org</b> & \"Partners\""));
}

#[test]
fn csv_has_one_row_per_contribution_and_no_formulas() {
    let doc = sample();
    let bytes = render::csv(
        &doc,
        &RenderOptions {
            lang: "fr",
            base_url: BASE,
        },
    )
    .expect("csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "thread_id",
            "link",
            "kind",
            "objectives",
            "aspects",
            "stakeholder_group",
            "country",
            "organisation",
            "language",
            "created_at",
            "endorsements"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), doc.contributions.len());
    for (row, c) in rows.iter().zip(&doc.contributions) {
        assert_eq!(row.len(), 12);
        assert_eq!(&row[0], c.id.to_string());
        assert_eq!(&row[1], c.thread_id.to_string());
        assert_eq!(&row[2], format!("{BASE}/api/v1/posts/{}", c.id));
        assert_eq!(&row[3], c.kind, "codes, not French labels");
        assert_eq!(
            &row[4],
            c.objectives
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(";")
        );
        assert_eq!(&row[5], c.aspects.join(";"));
        assert_eq!(&row[6], c.stakeholder_group);
        assert_eq!(&row[7], c.country.as_deref().unwrap_or(""));
        assert_eq!(&row[9], c.language);
        assert_eq!(&row[10], c.created_at);
        assert_eq!(&row[11], c.endorsements.to_string());
    }
    let formula = rows.iter().find(|r| &r[0] == "3").expect("row 3");
    assert_eq!(&formula[8], format!("'{FORMULA_ORG}"));
    let arabic = rows.iter().find(|r| &r[0] == "12").expect("row 12");
    assert_eq!(&arabic[8], "جمعية العمال المهاجرين");
    let markup = rows.iter().find(|r| &r[0] == "14").expect("row 14");
    assert_eq!(&markup[8], "<b>Org</b> & \"Partners\"");
}

#[test]
fn renderings_are_deterministic() {
    let doc = sample();
    for lang in ["en", "fr", "es"] {
        let o = RenderOptions {
            lang,
            base_url: BASE,
        };
        assert_eq!(render::html(&doc, &o), render::html(&doc.clone(), &o));
        assert_eq!(
            render::markdown(&doc, &o),
            render::markdown(&doc.clone(), &o)
        );
        assert_eq!(
            render::csv(&doc, &o).expect("csv"),
            render::csv(&doc.clone(), &o).expect("csv")
        );
    }
}

#[test]
fn hostile_links_and_attributes_never_reach_the_page() {
    let mut doc = sample();
    doc.objectives[0].quotes[0].link = "javascript:alert(1)".into();
    doc.objectives[0].quotes[0].language = "en\" onmouseover=\"alert(1)".into();
    doc.objectives[0].quotes[0].dir = "rtl\" onclick=\"x".into();
    doc.contributions[0].link = "//evil.example/x".into();
    // Codes the labels do not know are printed as they are: escaped, in tables and in SVG.
    doc.stakeholder_groups[0].key = "</text><script>alert(1)</script>".into();
    doc.weekly[0].week = "2027-<b>W01</b>".into();
    doc.objectives[0].key_terms[0].term = "\"><svg onload=alert(1)>".into();
    let page = render::html(&doc, &en());
    let html = Html::parse_document(&page);
    assert!(html.errors.is_empty(), "{:?}", html.errors);
    for el in html.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            assert!(!name.starts_with("on"), "{name}");
            assert!(
                !value.contains("javascript:") && !value.contains("evil.example"),
                "{name}={value}"
            );
        }
    }
    assert_eq!(html.select(&sel("script")).count(), 0);
    assert_eq!(html.select(&sel("svg")).count(), 3, "no injected <svg>");
    let groups_chart: String = html
        .select(&sel("#chart-groups"))
        .next()
        .expect("groups chart")
        .text()
        .collect();
    assert!(groups_chart.contains("</text><script>alert(1)</script>"));
    let weekly_chart: String = html
        .select(&sel("#chart-weekly"))
        .next()
        .expect("weekly chart")
        .text()
        .collect();
    assert!(weekly_chart.contains("2027-<b>W01</b>"));
    let md = render::markdown(&doc, &en());
    assert!(!md.contains("](javascript:") && !md.contains("](//evil"));
    assert!(!md.contains("<script") && !md.contains("<svg") && !md.contains("<b>"));
}

#[test]
fn a_first_version_without_review_or_changes_renders() {
    let mut doc = sample();
    doc.version = 1;
    doc.changes = None;
    doc.review = None;
    doc.weekly.clear();
    doc.recommendations.clear();
    let page = render::html(&doc, &en());
    let html = Html::parse_document(&page);
    assert!(html.errors.is_empty(), "{:?}", html.errors);
    assert!(html.select(&sel("#changes")).next().is_none());
    assert!(!html
        .select(&sel("nav a"))
        .any(|a| a.value().attr("href") == Some("#changes")));
    assert!(page.contains("not yet scheduled"));
    assert!(!render::markdown(&doc, &en()).contains("What changed"));
}
