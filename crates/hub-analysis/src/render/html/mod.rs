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

mod parts;

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
const CSS: &str = include_str!("style.css");

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
