//! The HTML rendering: one self-contained page a secretariat officer can open, present and
//! print. Inline CSS and inline SVG only: no script, font, image or stylesheet is fetched,
//! so the file works offline and a hostile quote has nothing to load.
//!
//! Escaping: every string that comes from the document goes through [`Esc`] (text and
//! attribute values alike), language tags and directions are whitelisted before they reach
//! an attribute, and post links are built by [`super::post_url`], which only accepts paths.

use super::labels::{fmt_int, fmt_ratio, labels, Labels};
use super::outline::{self, By, Cell, Col, Part, Table};
use super::{direction, lang_tag, post_url, svg, RenderOptions};
use crate::model::{Contribution, Document, KeyTerm, Quote};
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// HTML-escapes text for element content and quoted attribute values alike. C0 control
/// characters other than tab and newlines, which HTML and SVG forbid, become U+FFFD.
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| {
            matches!(c, '&' | '<' | '>' | '"' | '\'')
                || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        }) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{fffd}",
            })?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// `rel` of every link to a post: the page is often forwarded, and posts are user content.
const REL: &str = "noopener noreferrer nofollow";

/// Writes to the page; writing to a `String` cannot fail.
macro_rules! w {
    ($p:expr, $($arg:tt)*) => {{
        let _ = write!($p.out, $($arg)*);
    }};
}

struct Page<'a> {
    out: String,
    doc: &'a Document,
    l: &'static Labels,
    base_url: &'a str,
    /// Contributions by post id, to link merged recommendations to their annex rows.
    contributions: BTreeMap<i64, &'a Contribution>,
}

pub(super) fn render(doc: &Document, opts: &RenderOptions<'_>) -> String {
    let mut p = Page {
        out: String::with_capacity(64 * 1024 + doc.contributions.len() * 400),
        doc,
        l: labels(opts.lang),
        base_url: opts.base_url,
        contributions: doc.contributions.iter().map(|c| (c.id, c)).collect(),
    };
    p.head();
    p.cover();
    p.toc();
    p.out.push_str("<main>\n");
    for part in outline::parts(doc) {
        match part {
            Part::Changes => p.changes(),
            Part::Participation => p.participation(),
            Part::Moderation => p.moderation(),
            Part::Priorities => p.priorities(),
            Part::InDepth => p.in_depth(),
            Part::Aspects => p.aspects(),
            Part::Recommendations => p.recommendations(),
            Part::Emerging => p.emerging(),
            Part::Methodology => p.methodology(),
            Part::Annex => p.annex(),
        }
    }
    p.out.push_str("</main>\n");
    w!(
        p,
        "<footer><p>{} · {} {} · <code>{}</code></p></footer>\n</body>\n</html>\n",
        Esc(p.l.publisher),
        Esc(p.l.version),
        p.doc.version,
        Esc(&p.doc.content_sha256)
    );
    p.out
}

/// The page's style. System font stacks that include CJK and Arabic faces on every major
/// platform; print rules for A4 with page numbers, sections on new pages and links written out.
const CSS: &str = r#"
:root{--ink:#1f2937;--muted:#4b5563;--line:#d1d5db;--soft:#f3f4f6;--accent:#005b96;--un:#009edb;
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","Noto Sans Arabic","Geeza Pro","Segoe UI Historic",Tahoma,sans-serif;
--cjk:"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;
--arabic:"Noto Naskh Arabic","Noto Sans Arabic","Geeza Pro","Arabic Typesetting","Segoe UI",Tahoma,"DejaVu Sans",sans-serif}
*{box-sizing:border-box}
html{font-family:var(--sans);color:var(--ink);background:#fff;line-height:1.5;-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:62rem;padding:0 1.5rem 3rem;font-size:1rem}
:lang(zh){font-family:var(--cjk)}
:lang(ar),:lang(fa),:lang(ur){font-family:var(--arabic)}
h1,h2,h3,h4{line-height:1.25;color:#0b2a4a}
h2{font-size:1.6rem;margin:3rem 0 1rem;padding-bottom:.35rem;border-bottom:3px solid var(--un)}
h3{font-size:1.2rem;margin:2rem 0 .6rem}
h4{font-size:1rem;margin:1.3rem 0 .4rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.muted{color:var(--muted)}
.small{font-size:.85rem}
.cover{margin:0 -1.5rem;padding:2.5rem 2rem 2rem;background:linear-gradient(135deg,#00376b,#005b96 60%,#009edb);color:#fff}
.cover h1{color:#fff;font-size:2.2rem;margin:.4rem 0 .2rem}
.cover .region{display:block;font-size:1.5rem;font-weight:600;margin-top:.4rem}
.cover .eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:.8rem;margin:0;opacity:.9}
.cover .commission{margin:.2rem 0 1.5rem;opacity:.95}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.8rem 1.5rem;margin:0}
.facts div{border-top:1px solid rgba(255,255,255,.45);padding-top:.4rem}
.facts dt{font-size:.78rem;text-transform:uppercase;letter-spacing:.05em;opacity:.85}
.facts dd{margin:.1rem 0 0;font-weight:600}
.facts code{font-weight:400;font-size:.75rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.6rem;margin:1.6rem 0 0;padding:0;list-style:none}
.kpis li{background:rgba(255,255,255,.12);border-radius:.4rem;padding:.6rem .8rem}
.kpis strong{display:block;font-size:1.7rem;line-height:1.1}
.kpis span{font-size:.8rem;opacity:.9}
nav.toc{margin:2rem 0;padding:1rem 1.5rem;background:var(--soft);border-radius:.4rem}
nav.toc h2{border:0;margin:0 0 .5rem;font-size:1.2rem;padding:0}
nav.toc ol{margin:0;padding-left:1.4rem;columns:2 18rem}
nav.toc li{margin:.15rem 0;break-inside:avoid}
nav.toc ul.sub{list-style:none;padding-left:.8rem;margin:.1rem 0 .3rem;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.4rem;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--ink);background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
tbody th{font-weight:600}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:0 2rem}
figure{margin:1rem 0}
figure.chart-box{border:1px solid var(--line);border-radius:.4rem;padding:1rem}
figure.chart-box figcaption{font-weight:600;margin-bottom:.5rem}
svg.chart{display:block;max-width:100%;height:auto}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.35em;vertical-align:-.05em}
.cluster-head{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
.tags{list-style:none;margin:.3rem 0;padding:0;display:flex;flex-wrap:wrap;gap:.35rem}
.tags li{background:#e0f2fe;color:#073b5c;border-radius:1rem;padding:.1rem .65rem;font-size:.88rem}
.tags li span{color:var(--muted);font-size:.8rem;margin-left:.3rem}
.quote{margin:.8rem 0 1.1rem;padding:.7rem 1rem;border-inline-start:4px solid var(--un);background:#f8fafc;border-radius:0 .3rem .3rem 0;break-inside:avoid}
.quote blockquote{margin:0;font-size:1.02rem}
.quote blockquote p{margin:0;white-space:pre-line}
.quote blockquote[dir=rtl]{text-align:right;font-size:1.12rem;line-height:1.8}
.quote figcaption{margin-top:.45rem;font-size:.82rem;color:var(--muted)}
.stats{color:var(--muted);margin:.2rem 0 .8rem}
.objective{border-top:1px solid var(--line);margin-top:2rem}
.objective .full{font-style:italic;color:var(--muted);margin:.2rem 0}
ol.recs{list-style:none;padding:0;counter-reset:none}
ol.recs>li{border:1px solid var(--line);border-radius:.4rem;padding:.8rem 1rem;margin:0 0 1rem;break-inside:avoid}
.rank{display:inline-block;min-width:2rem;padding:.1rem .5rem;border-radius:1rem;background:var(--accent);color:#fff;font-weight:700;text-align:center}
.metrics{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;margin:.1rem 0 .3rem;font-size:.9rem}
.metrics b{font-variant-numeric:tabular-nums}
.up{color:#047857}.down{color:#b91c1c}
.annex{font-size:.8rem}
.annex td,.annex th{padding:.2rem .35rem}
.annex td.org{overflow-wrap:anywhere;min-width:8rem}
.annex td.time{white-space:nowrap}
.annex td.link{white-space:nowrap;font-size:.9em}
.wide{overflow-x:auto}
table.prio tbody th{min-width:11rem}
table.prio td.list{font-size:.8rem;color:var(--muted)}
table.prio td.list b{color:var(--ink);font-size:.92rem}
footer{margin-top:3rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem}
@page{size:A4;margin:16mm 14mm 18mm}
@page{@bottom-right{content:counter(page) " / " counter(pages);font-size:9pt;color:#4b5563}}
@media print{
html{font-size:10pt}
body{max-width:none;padding:0}
.cover{margin:0;-webkit-print-color-adjust:exact;print-color-adjust:exact}
nav.toc{background:none;border:1px solid var(--line)}
.cluster{break-inside:avoid}
main>section{break-before:page}
h2,h3,h4{break-after:avoid}
table,figure{break-inside:auto}
tr,figure.chart-box,.quote,ol.recs>li{break-inside:avoid}
thead{display:table-header-group}
.swatch,.tags li,.rank,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.quote figcaption a[href^="http"]::after{content:" <" attr(href) ">";word-break:break-all}
a{color:inherit}
.annex{font-size:7.5pt}
.wide{overflow:visible}
}
"#;

impl Page<'_> {
    fn head(&mut self) {
        let region = self
            .l
            .region_label(&self.doc.space.slug, &self.doc.space.name);
        w!(
            self,
            "<!doctype html>\n<html lang=\"{}\" dir=\"ltr\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"generator\" content=\"gcm-hub {}\">\n\
             <title>{} — {} (v{})</title>\n<style>{}</style>\n</head>\n<body>\n",
            self.l.lang,
            Esc(&self.doc.schema),
            Esc(self.l.title),
            Esc(region),
            self.doc.version,
            CSS
        );
    }

    fn cover(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        let region = l.region_label(&doc.space.slug, &doc.space.name);
        w!(
            self,
            "<header class=\"cover\" id=\"cover\">\n<p class=\"eyebrow\">{}</p>\n<h1>{}<span class=\"region\">{}</span></h1>\n",
            Esc(l.publisher),
            Esc(l.title),
            Esc(region)
        );
        if let Some(c) = &doc.space.commission {
            w!(
                self,
                "<p class=\"commission\">{}{colon}{}</p>\n",
                Esc(l.commission),
                Esc(c)
            );
        } else {
            self.out.push_str("<p class=\"commission\"></p>\n");
        }
        self.out.push_str("<dl class=\"facts\">\n");
        match &doc.review {
            Some(r) => {
                w!(
                    self,
                    "<div><dt>{}</dt><dd>{}",
                    Esc(l.review),
                    Esc(&l.date(&r.date))
                );
                if r.tentative {
                    w!(self, " ({})", Esc(l.tentative));
                }
                if let Some(place) = &r.place {
                    w!(self, " · <bdi>{}</bdi>", Esc(place));
                }
                w!(
                    self,
                    "<br><span class=\"small\">{}{colon}<bdi>{}</bdi></span></dd></div>\n",
                    Esc(l.cycle),
                    Esc(&r.cycle)
                );
            }
            None => w!(
                self,
                "<div><dt>{}</dt><dd>{}</dd></div>\n",
                Esc(l.review),
                Esc(l.no_review)
            ),
        }
        w!(
            self,
            "<div><dt>{}</dt><dd>{}<br><span class=\"small\">{} {}</span></dd></div>\n",
            Esc(l.cutoff),
            Esc(&l.instant(&doc.cutoff)),
            Esc(l.cutoff_event),
            doc.cutoff_seq
        );
        w!(
            self,
            "<div><dt>{}</dt><dd>{}</dd></div>\n",
            Esc(l.version),
            doc.version
        );
        w!(
            self,
            "<div><dt>{}</dt><dd>{}</dd></div>\n",
            Esc(l.licence),
            Esc(&doc.licence)
        );
        if !doc.space.languages.is_empty() {
            let langs: Vec<&str> = doc
                .space
                .languages
                .iter()
                .map(|t| l.language_label(t))
                .collect();
            w!(
                self,
                "<div><dt>{}</dt><dd>{}</dd></div>\n",
                Esc(l.working_languages),
                Esc(&langs.join(", "))
            );
        }
        if !doc.sources.is_empty() {
            w!(self, "<div><dt>{}</dt><dd>", Esc(l.sources));
            for (i, s) in doc.sources.iter().enumerate() {
                if i > 0 {
                    self.out.push_str("<br>");
                }
                w!(self, "<bdi>{}</bdi>", Esc(s));
            }
            self.out.push_str("</dd></div>\n");
        }
        w!(
            self,
            "<div><dt>{}</dt><dd><code>{}</code></dd></div>\n</dl>\n",
            Esc(l.fingerprint),
            Esc(&doc.content_sha256)
        );
        let t = &doc.totals;
        self.out.push_str("<ul class=\"kpis\">\n");
        for (n, label) in [
            (t.posts, l.posts),
            (t.authors, l.authors),
            (t.organisations, l.organisations),
            (t.countries, l.countries),
            (t.stakeholder_groups, l.stakeholder_groups),
            (t.endorsements, l.endorsements),
        ] {
            w!(
                self,
                "<li><strong>{}</strong><span>{}</span></li>\n",
                fmt_int(n),
                Esc(label)
            );
        }
        self.out.push_str("</ul>\n</header>\n");
    }

    fn toc(&mut self) {
        let l = self.l;
        w!(self, "<nav class=\"toc\" aria-labelledby=\"toc-title\">\n<h2 id=\"toc-title\">{}</h2>\n<ol>\n", Esc(l.contents));
        for part in outline::parts(self.doc) {
            w!(
                self,
                "<li><a href=\"#{}\">{}</a>",
                part.id(),
                Esc(part.title(l))
            );
            if part == Part::InDepth {
                let prominent: Vec<i64> = self
                    .doc
                    .objectives
                    .iter()
                    .filter(|o| o.prominent)
                    .map(|o| o.id)
                    .collect();
                if !prominent.is_empty() {
                    self.out.push_str("<ul class=\"sub\">");
                    for o in prominent {
                        w!(
                            self,
                            "<li><a href=\"#objective-{o}\">{}</a></li>",
                            Esc(&l.objective_title(o))
                        );
                    }
                    self.out.push_str("</ul>");
                }
            }
            self.out.push_str("</li>\n");
        }
        self.out.push_str("</ol>\n</nav>\n");
    }

    fn section(&mut self, part: Part) {
        w!(
            self,
            "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">{}</h2>\n",
            Esc(part.title(self.l)),
            id = part.id()
        );
    }

    /// Opens a table with its caption and column headers; `num[i]` right-aligns column `i`.
    fn table(&mut self, class: &str, caption: &str, headers: &[&str], num: &[bool]) {
        w!(
            self,
            "<table class=\"{class}\">\n<caption>{}</caption>\n<thead><tr>",
            Esc(caption)
        );
        for (i, h) in headers.iter().enumerate() {
            let c = if num.get(i).copied().unwrap_or(false) {
                " class=\"num\""
            } else {
                ""
            };
            w!(self, "<th scope=\"col\"{c}>{}</th>", Esc(h));
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
    }

    fn end_table(&mut self) {
        self.out.push_str("</tbody>\n</table>\n");
    }

    /// A table of the outline, whole.
    fn figures(&mut self, t: &Table<'_>) {
        let headers: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
        let num: Vec<bool> = t.columns.iter().map(|c| c.1 == Col::Num).collect();
        self.table(t.class, &t.caption, &headers, &num);
        for row in &t.rows {
            self.out.push_str("<tr>");
            for cell in row {
                self.cell(cell);
            }
            self.out.push_str("</tr>\n");
        }
        self.end_table();
    }

    fn cell(&mut self, cell: &Cell) {
        match cell {
            Cell::Head(s) => w!(self, "<th scope=\"row\">{}</th>", Esc(s)),
            Cell::HeadIsolated(s) => w!(self, "<th scope=\"row\"><bdi>{}</bdi></th>", Esc(s)),
            Cell::HeadSwatch(colour, s) => w!(
                self,
                "<th scope=\"row\"><span class=\"swatch\" style=\"background:{colour}\" aria-hidden=\"true\"></span>{}</th>",
                Esc(s)
            ),
            Cell::Value(s) => w!(self, "<td class=\"num\">{}</td>", Esc(s)),
            Cell::Num(s) => w!(self, "<td class=\"num\">{s}</td>"),
            Cell::Text(s) => w!(self, "<td>{}</td>", Esc(s)),
            Cell::Empty => self.out.push_str("<td></td>"),
            Cell::Change(delta) => {
                let (class, arrow) = match delta.cmp(&0) {
                    std::cmp::Ordering::Greater => ("up", "▲"),
                    std::cmp::Ordering::Less => ("down", "▼"),
                    std::cmp::Ordering::Equal => ("", ""),
                };
                w!(
                    self,
                    "<td class=\"num {class}\">{arrow} {}</td>",
                    Esc(&signed(*delta))
                );
            }
            Cell::Objective {
                id,
                title,
                prominent,
            } => {
                self.out.push_str("<th scope=\"row\">");
                if *prominent {
                    w!(
                        self,
                        "<a href=\"#objective-{id}\">{}</a> <span class=\"small muted\">({})</span>",
                        Esc(title),
                        Esc(self.l.in_depth_marker)
                    );
                } else {
                    w!(self, "{}", Esc(title));
                }
                self.out.push_str("</th>");
            }
            Cell::Names(n, names) => {
                w!(self, "<td class=\"list\"><b>{n}</b> {}</td>", Esc(names));
            }
        }
    }

    fn changes(&mut self) {
        let Some(c) = &self.doc.changes else { return };
        let l = self.l;
        self.section(Part::Changes);
        self.out.push_str("<div class=\"cols\">\n<div>\n");
        self.figures(&outline::change_counts(c, l));
        self.out.push_str("</div>\n<div>\n");
        self.figures(&outline::change_totals(c, l));
        self.out.push_str("</div>\n</div>\n");
        if let Some(t) = outline::objectives_moved(c, l) {
            self.figures(&t);
        }
        w!(self, "<h3>{}</h3>\n", Esc(l.new_top_recommendations));
        if c.new_top_recommendations.is_empty() {
            w!(self, "<p>{}</p>\n", Esc(l.none));
        } else {
            self.out.push_str("<ul class=\"tags\">\n");
            for id in &c.new_top_recommendations {
                let anchor = match self
                    .doc
                    .recommendations
                    .iter()
                    .find(|r| r.quote.post_id == *id)
                {
                    Some(r) => format!("rec-{}", r.rank),
                    None => format!("c-{id}"),
                };
                w!(
                    self,
                    "<li><a href=\"#{anchor}\">{} {id}</a></li>\n",
                    Esc(l.post)
                );
            }
            self.out.push_str("</ul>\n");
        }
        self.out.push_str("</section>\n");
    }

    fn participation(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Participation);
        self.out.push_str("<div class=\"cols\">\n<div>\n");
        self.figures(&outline::headline(doc, l));
        self.out.push_str("</div>\n<div>\n");
        self.figures(&outline::by_kind(doc, l));
        self.out.push_str("</div>\n</div>\n");

        w!(self, "<h3>{}</h3>\n", Esc(l.weekly));
        if !doc.weekly.is_empty() {
            self.out.push_str("<figure class=\"chart-box\">\n");
            self.out.push_str(&svg::weekly_chart(doc, l));
            self.out.push_str("\n</figure>\n");
        }
        self.figures(&outline::weekly(doc, l));

        w!(self, "<h3>{}</h3>\n", Esc(l.by_group));
        if !doc.stakeholder_groups.is_empty() {
            self.out.push_str("<figure class=\"chart-box\">\n");
            self.out
                .push_str(&svg::groups_chart(&doc.stakeholder_groups, l));
            self.out.push_str("\n</figure>\n");
        }
        self.figures(&outline::breakdown(doc, l, By::Group));
        self.out.push_str("<div class=\"cols\">\n<div>\n");
        w!(self, "<h3>{}</h3>\n", Esc(l.by_country));
        self.figures(&outline::breakdown(doc, l, By::Country));
        self.out.push_str("</div>\n<div>\n");
        w!(self, "<h3>{}</h3>\n", Esc(l.by_language));
        self.figures(&outline::breakdown(doc, l, By::Language));
        self.out.push_str("</div>\n</div>\n</section>\n");
    }

    fn moderation(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Moderation);
        w!(
            self,
            "<p>{}</p>\n<div class=\"cols\">\n<div>\n",
            Esc(l.excluded_intro)
        );
        self.figures(&outline::excluded(doc, l));
        self.out.push_str("</div>\n<div>\n");
        self.figures(&outline::reasons(doc, l));
        self.out.push_str("</div>\n</div>\n</section>\n");
    }

    fn priorities(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Priorities);
        w!(self, "<p>{}</p>\n", Esc(l.priorities_intro));
        if !doc.objectives.is_empty() {
            w!(
                self,
                "<figure class=\"chart-box\">\n<figcaption>{}</figcaption>\n",
                Esc(l.objectives_chart)
            );
            self.out.push_str(&svg::objectives_chart(doc, l));
            self.out.push_str("\n</figure>\n");
        }
        for id in outline::cluster_ids(doc) {
            w!(
                self,
                "<div class=\"cluster\">\n<div class=\"cluster-head\"><h3 id=\"cluster-{id}\"><span class=\"swatch\" style=\"background:{}\" aria-hidden=\"true\"></span>{}</h3>",
                svg::cluster_colour(id),
                Esc(&l.cluster_name(id))
            );
            if let Some(c) = doc.clusters.iter().find(|c| c.id == id) {
                w!(
                    self,
                    "<p class=\"stats\">{} {} · {} {}</p>",
                    fmt_int(c.posts),
                    Esc(&l.posts.to_lowercase()),
                    fmt_int(c.endorsements),
                    Esc(&l.endorsements.to_lowercase())
                );
            }
            self.out.push_str("</div>\n");
            self.figures(&outline::cluster_objectives(doc, l, id));
            self.out.push_str("</div>\n");
        }
        self.out.push_str("</section>\n");
    }

    fn in_depth(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::InDepth);
        for o in doc.objectives.iter().filter(|o| o.prominent) {
            w!(
                self,
                "<section class=\"objective\" id=\"objective-{}\" aria-labelledby=\"objective-{}-h\">\n<h3 id=\"objective-{}-h\"><span class=\"swatch\" style=\"background:{}\" aria-hidden=\"true\"></span>{} {}</h3>\n",
                o.id,
                o.id,
                o.id,
                svg::cluster_colour(o.cluster),
                Esc(l.objective),
                Esc(&l.objective_title(o.id))
            );
            if let Some(full) = l.objective_full(o.id) {
                w!(self, "<p class=\"full\" lang=\"en\">{}</p>\n", Esc(full));
            }
            w!(
                self,
                "<p class=\"stats\">{} {} · {} {} · {} {} · {} {} · {} {} · {} {}</p>\n",
                Esc(l.rank),
                o.rank,
                fmt_int(o.posts),
                Esc(&l.posts.to_lowercase()),
                fmt_int(o.endorsements),
                Esc(&l.endorsements.to_lowercase()),
                fmt_int(o.authors),
                Esc(&l.authors.to_lowercase()),
                o.stakeholder_groups.len(),
                Esc(&l.stakeholder_groups.to_lowercase()),
                o.countries.len(),
                Esc(&l.countries.to_lowercase())
            );
            self.terms(&o.key_terms);
            w!(self, "<h4>{}</h4>\n", Esc(l.representative));
            self.quotes(&o.quotes);
            self.out.push_str("</section>\n");
        }
        self.out.push_str("</section>\n");
    }

    fn terms(&mut self, terms: &[KeyTerm]) {
        let l = self.l;
        w!(self, "<h4>{}</h4>\n", Esc(l.key_terms));
        if terms.is_empty() {
            w!(self, "<p class=\"muted\">{}</p>\n", Esc(l.no_terms));
            return;
        }
        w!(
            self,
            "<ul class=\"tags\" aria-label=\"{}\">\n",
            Esc(l.key_terms)
        );
        for t in terms {
            w!(
                self,
                "<li title=\"{} {}\"><bdi>{}</bdi><span>{}</span></li>\n",
                Esc(l.score),
                fmt_ratio(t.score),
                Esc(&t.term),
                fmt_int(t.posts)
            );
        }
        self.out.push_str("</ul>\n");
    }

    fn quotes(&mut self, quotes: &[Quote]) {
        if quotes.is_empty() {
            w!(self, "<p class=\"muted\">{}</p>\n", Esc(self.l.no_quotes));
        }
        for q in quotes {
            self.quote(q);
        }
    }

    fn quote(&mut self, q: &Quote) {
        let colon = self.l.colon;
        let l = self.l;
        let url = post_url(self.base_url, &q.link);
        w!(
            self,
            "<figure class=\"quote\">\n<blockquote lang=\"{}\" dir=\"{}\"",
            Esc(lang_tag(&q.language)),
            direction(&q.dir)
        );
        if let Some(u) = &url {
            w!(self, " cite=\"{}\"", Esc(u));
        }
        w!(
            self,
            "><p>{}</p></blockquote>\n<figcaption>{} · {}",
            Esc(&q.excerpt),
            Esc(l.kind_label(&q.kind)),
            Esc(l.group_label(&q.stakeholder_group))
        );
        if let Some(c) = &q.country {
            w!(self, " · {}", Esc(l.country_label(c)));
        }
        if let Some(o) = &q.organisation {
            w!(self, " · <bdi>{}</bdi>", Esc(o));
        }
        w!(
            self,
            " · {}{colon}{}",
            Esc(l.endorsements),
            fmt_int(q.endorsements)
        );
        match &url {
            Some(u) => w!(
                self,
                " · <a href=\"{}\" rel=\"{REL}\" aria-label=\"{} {}, {}\">{} {}</a>",
                Esc(u),
                Esc(l.post),
                q.post_id,
                Esc(l.open_post),
                Esc(l.post),
                q.post_id
            ),
            None => w!(self, " · {} {}", Esc(l.post), q.post_id),
        }
        self.out.push_str("</figcaption>\n</figure>\n");
    }

    fn aspects(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Aspects);
        for a in &doc.aspects {
            w!(
                self,
                "<h3 id=\"aspect-{}\">{}</h3>\n<p class=\"stats\">{} {}</p>\n",
                Esc(&a.aspect),
                Esc(l.aspect_label(&a.aspect)),
                fmt_int(a.posts),
                Esc(&l.posts.to_lowercase())
            );
            if !a.objectives.is_empty() {
                w!(
                    self,
                    "<h4>{}</h4>\n<ul class=\"tags\">\n",
                    Esc(l.top_objectives)
                );
                for o in &a.objectives {
                    w!(
                        self,
                        "<li>{}<span>{}</span></li>\n",
                        Esc(&l.objective_title(o.id)),
                        fmt_int(o.posts)
                    );
                }
                self.out.push_str("</ul>\n");
            }
            w!(self, "<h4>{}</h4>\n", Esc(l.representative));
            self.quotes(&a.quotes);
        }
        self.out.push_str("</section>\n");
    }

    fn recommendations(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Recommendations);
        w!(self, "<p>{}</p>\n", Esc(l.recommendations_intro));
        if doc.recommendations.is_empty() {
            w!(self, "<p class=\"muted\">{}</p>\n", Esc(l.none));
        } else {
            self.out.push_str("<ol class=\"recs\">\n");
            for r in &doc.recommendations {
                w!(
                    self,
                    "<li id=\"rec-{}\">\n<div class=\"metrics\"><span class=\"rank\" aria-label=\"{} {}\">{}</span>\
                     <span>{}{colon}<b>{}</b></span><span>{}{colon}<b>{}</b></span><span>{}{colon}<b>{}</b></span></div>\n",
                    r.rank,
                    Esc(l.rank),
                    r.rank,
                    r.rank,
                    Esc(l.endorsements),
                    fmt_int(r.endorsements),
                    Esc(l.supporting_groups),
                    fmt_int(r.groups),
                    Esc(l.consensus),
                    fmt_ratio(r.consensus)
                );
                self.quote(&r.quote);
                if !r.objectives.is_empty() {
                    w!(
                        self,
                        "<ul class=\"tags\" aria-label=\"{}\">",
                        Esc(l.objectives)
                    );
                    for o in &r.objectives {
                        w!(self, "<li>{}</li>", Esc(&l.objective_title(*o)));
                    }
                    self.out.push_str("</ul>\n");
                }
                if !r.endorsements_by_group.is_empty() {
                    let parts: Vec<String> = r
                        .endorsements_by_group
                        .iter()
                        .map(|(g, n)| format!("{} {}", l.group_label(g), fmt_int(*n)))
                        .collect();
                    w!(
                        self,
                        "<p class=\"small\">{}{colon}{}</p>\n",
                        Esc(l.endorsements_by_group),
                        Esc(&parts.join(" · "))
                    );
                }
                if !r.merged.is_empty() {
                    w!(self, "<p class=\"small\">{}{colon}", Esc(l.merged));
                    for (i, id) in r.merged.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        if self.contributions.contains_key(id) {
                            w!(self, "<a href=\"#c-{id}\">{} {id}</a>", Esc(l.post));
                        } else {
                            w!(self, "{} {id}", Esc(l.post));
                        }
                    }
                    self.out.push_str("</p>\n");
                }
                self.out.push_str("</li>\n");
            }
            self.out.push_str("</ol>\n");
        }
        self.out.push_str("</section>\n");
    }

    fn emerging(&mut self) {
        let (e, l) = (&self.doc.emerging, self.l);
        self.section(Part::Emerging);
        w!(
            self,
            "<p>{}</p>\n<p class=\"stats\">{} {}</p>\n",
            Esc(l.emerging_intro),
            fmt_int(e.posts),
            Esc(&l.posts.to_lowercase())
        );
        self.terms(&e.key_terms);
        w!(self, "<h4>{}</h4>\n", Esc(l.representative));
        self.quotes(&e.quotes);
        self.out.push_str("</section>\n");
    }

    fn methodology(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Methodology);
        for para in l.methodology_text(&doc.methodology) {
            w!(self, "<p>{}</p>\n", Esc(&para));
        }
        if !doc.sources.is_empty() {
            w!(self, "<h3>{}</h3>\n<ul>\n", Esc(l.sources));
            for s in &doc.sources {
                w!(self, "<li><bdi>{}</bdi></li>\n", Esc(s));
            }
            self.out.push_str("</ul>\n");
        }
        w!(
            self,
            "<p class=\"small muted\">{} {}{colon}{}{} <code>{}</code></p>\n</section>\n",
            Esc(l.generated_note),
            Esc(l.licence),
            Esc(doc.licence.trim_end_matches('.')),
            ".",
            Esc(&doc.schema)
        );
    }

    fn annex(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.section(Part::Annex);
        w!(self, "<p>{}", Esc(l.annex_intro));
        if let Some(base) = post_url(self.base_url, "/").filter(|b| b.starts_with("http")) {
            w!(
                self,
                " {} <code>{}</code>.",
                Esc(l.links_relative),
                Esc(base.trim_end_matches('/'))
            );
        }
        self.out.push_str("</p>\n<div class=\"wide\">\n");
        self.table(
            "annex",
            l.annex,
            &[
                l.post,
                l.link,
                l.thread,
                l.kind,
                l.objectives,
                l.aspect,
                l.group,
                l.country,
                l.organisation,
                l.language,
                l.created,
                l.endorsements,
            ],
            &[
                true, false, true, false, false, false, false, false, false, false, false, true,
            ],
        );
        for c in &doc.contributions {
            w!(
                self,
                "<tr id=\"c-{}\"><th scope=\"row\" class=\"num\">{}</th><td class=\"link\">",
                c.id,
                c.id
            );
            match post_url(self.base_url, &c.link) {
                Some(u) => w!(
                    self,
                    "<a href=\"{}\" rel=\"{REL}\">{}</a>",
                    Esc(&u),
                    Esc(&c.link)
                ),
                None => w!(self, "{}", Esc(&c.link)),
            }
            let objectives: Vec<String> = c.objectives.iter().map(i64::to_string).collect();
            let aspects: Vec<&str> = c.aspects.iter().map(|a| l.aspect_label(a)).collect();
            w!(
                self,
                "</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"org\">",
                c.thread_id,
                Esc(l.kind_label(&c.kind)),
                Esc(&objectives.join(", ")),
                Esc(&aspects.join(", ")),
                Esc(l.group_label(&c.stakeholder_group)),
                Esc(c.country.as_deref().map_or("", |k| l.country_label(k)))
            );
            if let Some(o) = &c.organisation {
                w!(self, "<bdi>{}</bdi>", Esc(o));
            }
            w!(
                self,
                "</td><td>{}</td><td class=\"time\">{}</td><td class=\"num\">{}</td></tr>\n",
                Esc(&c.language),
                Esc(&short_time(&c.created_at)),
                fmt_int(c.endorsements)
            );
        }
        self.end_table();
        self.out.push_str("</div>\n</section>\n");
    }
}

/// `+3`, `−2`, `0`.
pub(crate) fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{}", fmt_int(n))
    } else {
        fmt_int(n)
    }
}

/// `2027-02-10T09:30:00Z` as `2027-02-10 09:30`; other strings as they are.
pub(crate) fn short_time(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            Esc("<a href=\"x\" onclick='y'>&\u{0}</a>").to_string(),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;\u{fffd}&lt;/a&gt;"
        );
        assert_eq!(Esc("移民 مهاجر\n").to_string(), "移民 مهاجر\n");
    }
}
