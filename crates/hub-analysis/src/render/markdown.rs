//! The Markdown rendering: the HTML page's outline in GitHub-flavoured Markdown, for pasting
//! into a wiki, an e-mail or a pull request.
//!
//! Escaping: document text goes through [`md`], which backslash-escapes every character that
//! could open markup (emphasis, code, links, images, raw HTML, entities, tables, strike-through,
//! maths; `<`, `>`, `[`, `]` and `&` as character references) and the markers that only count at the start of a line (headings, lists, quotes),
//! defuses GFM's autolinks (`https\://`, `www\.`, `@` followed by a word joiner),
//! and folds line breaks into spaces so a quote cannot start a block of its own. A quote like
//! `[x](javascript:alert(1))` or `<script>` is therefore shown, never interpreted.

use super::html::{short_time, signed};
use super::labels::{fmt_int, fmt_ratio, labels, Labels};
use super::outline::{self, By, Cell, Col, Part, Table};
use super::{post_url, RenderOptions};
use crate::model::{Document, KeyTerm, Quote};
use std::fmt::Write;

macro_rules! w {
    ($p:expr, $($arg:tt)*) => {{
        let _ = write!($p.out, $($arg)*);
    }};
}

/// Escapes document text for Markdown inline content (paragraphs, list items, table cells).
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut at_start = true;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c.is_whitespace() {
            ' '
        } else if c.is_control() {
            '\u{fffd}'
        } else {
            c
        };
        if at_start && c == ' ' {
            // Leading spaces could make an indented code block.
            continue;
        }
        match c {
            // As entities, so that not even a naive search finds `<script` or `](javascript:`;
            // CommonMark never reads a character reference as markup.
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '|' | '~' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            // GFM turns `http://…`, `www.…` and `x@y.z` in plain text into links. An escaped
            // `:` before `/` stops the first, an escaped `.` inside a word the second; an escape does not
            // stop the e-mail rule, so an invisible word joiner after `@` does.
            ':' if chars.peek() == Some(&'/') => out.push_str("\\:"),
            '.' if chars.peek().is_some_and(|n| {
                n.is_alphabetic()
                    || (n.is_ascii_digit() && !out.ends_with(|p: char| p.is_ascii_digit()))
            }) =>
            {
                out.push_str("\\.")
            }
            '@' if chars.peek().is_some_and(|n| n.is_alphanumeric()) => out.push_str("@\u{2060}"),
            '#' | '+' | '-' | '=' | '!' if at_start => {
                out.push('\\');
                out.push(c);
            }
            '0'..='9' if at_start => {
                // `1.` or `1)` at the start of a line opens an ordered list.
                out.push(c);
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    out.push(d);
                    chars.next();
                }
                if let Some(p) = chars.peek().copied().filter(|p| *p == '.' || *p == ')') {
                    out.push('\\');
                    out.push(p);
                    chars.next();
                }
            }
            _ => out.push(c),
        }
        at_start = false;
    }
    out.truncate(out.trim_end().len());
    out
}

struct Doc<'a> {
    out: String,
    doc: &'a Document,
    l: &'static Labels,
    base_url: &'a str,
}

pub(super) fn render(doc: &Document, opts: &RenderOptions<'_>) -> String {
    let mut d = Doc {
        out: String::with_capacity(32 * 1024 + doc.contributions.len() * 200),
        doc,
        l: labels(opts.lang),
        base_url: opts.base_url,
    };
    d.cover();
    d.toc();
    for part in outline::parts(doc) {
        match part {
            Part::Changes => d.changes(),
            Part::Participation => d.participation(),
            Part::Moderation => d.moderation(),
            Part::Priorities => d.priorities(),
            Part::InDepth => d.in_depth(),
            Part::Aspects => d.aspects(),
            Part::Recommendations => d.recommendations(),
            Part::Emerging => d.emerging(),
            Part::Methodology => d.methodology(),
            Part::Annex => d.annex(),
        }
    }
    d.out
}

/// GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens.
fn slug(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().collect::<String>())
            } else if c == ' ' {
                Some("-".to_string())
            } else {
                None
            }
        })
        .collect()
}

impl Doc<'_> {
    /// Ends the current block with exactly one blank line.
    fn blank_line(&mut self) {
        while !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn h2(&mut self, title: &str) {
        self.blank_line();
        w!(self, "## {}\n\n", md(title));
    }

    fn h3(&mut self, title: &str) {
        self.blank_line();
        w!(self, "### {}\n\n", md(title));
    }

    fn h4(&mut self, title: &str) {
        self.blank_line();
        w!(self, "#### {}\n\n", md(title));
    }

    /// A table header; `num[i]` right-aligns column `i`. Header labels are escaped too.
    fn table(&mut self, headers: &[&str], num: &[bool]) {
        self.out.push('|');
        for h in headers {
            w!(self, " {} |", md(h));
        }
        self.out.push_str("\n|");
        for i in 0..headers.len() {
            self.out.push_str(if num.get(i).copied().unwrap_or(false) {
                "---:|"
            } else {
                "---|"
            });
        }
        self.out.push('\n');
    }

    /// A table row of cells already escaped.
    fn row(&mut self, cells: &[String]) {
        self.out.push('|');
        for c in cells {
            w!(self, " {c} |");
        }
        self.out.push('\n');
    }

    /// A table of the outline, whole (after its caption as a heading when it has one).
    fn figures(&mut self, t: &Table<'_>) {
        if t.optional && t.rows.is_empty() {
            return;
        }
        if t.heading {
            self.h3(&t.caption);
        }
        let headers: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
        let num: Vec<bool> = t.columns.iter().map(|c| c.1 != Col::Text).collect();
        self.table(&headers, &num);
        for row in &t.rows {
            self.out.push('|');
            for cell in row {
                match cell {
                    Cell::Head(s)
                    | Cell::HeadIsolated(s)
                    | Cell::HeadSwatch(_, s)
                    | Cell::Value(s)
                    | Cell::Text(s) => w!(self, " {} |", md(s)),
                    Cell::Num(s) => w!(self, " {s} |"),
                    Cell::Empty => self.out.push_str("  |"),
                    Cell::Change(delta) => w!(self, " {} |", md(&signed(*delta))),
                    Cell::Objective {
                        title, prominent, ..
                    } => {
                        if *prominent {
                            w!(self, " **{}** |", md(title));
                        } else {
                            w!(self, " {} |", md(title));
                        }
                    }
                    Cell::Names(n, _) => w!(self, " {n} |"),
                }
            }
            self.out.push('\n');
        }
    }

    fn cover(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        let region = l.region_label(&doc.space.slug, &doc.space.name);
        w!(
            self,
            "# {}{colon}{}\n\n*{}*\n\n",
            md(l.title),
            md(region),
            md(l.publisher)
        );
        self.table(&["", ""], &[]);
        if let Some(c) = &doc.space.commission {
            self.row(&[md(l.commission), md(c)]);
        }
        let review = match &doc.review {
            Some(r) => {
                let mut s = l.date(&r.date);
                if r.tentative {
                    s.push_str(&format!(" ({})", l.tentative));
                }
                if let Some(p) = &r.place {
                    s.push_str(" · ");
                    s.push_str(p);
                }
                s.push_str(&format!(" — {}{colon}{}", l.cycle, r.cycle));
                s
            }
            None => l.no_review.to_string(),
        };
        self.row(&[md(l.review), md(&review)]);
        self.row(&[
            md(l.cutoff),
            md(&format!(
                "{} ({} {})",
                l.instant(&doc.cutoff),
                l.cutoff_event,
                doc.cutoff_seq
            )),
        ]);
        self.row(&[md(l.version), doc.version.to_string()]);
        self.row(&[md(l.licence), md(&doc.licence)]);
        if !doc.space.languages.is_empty() {
            let langs: Vec<&str> = doc
                .space
                .languages
                .iter()
                .map(|t| l.language_label(t))
                .collect();
            self.row(&[md(l.working_languages), md(&langs.join(", "))]);
        }
        if !doc.sources.is_empty() {
            self.row(&[md(l.sources), md(&doc.sources.join("; "))]);
        }
        self.row(&[md(l.fingerprint), md(&doc.content_sha256)]);
    }

    fn toc(&mut self) {
        let l = self.l;
        self.h2(l.contents);
        for (i, part) in outline::parts(self.doc).into_iter().enumerate() {
            let t = part.title(l);
            w!(self, "{}. [{}](#{})\n", i + 1, md(t), slug(t));
        }
    }

    fn changes(&mut self) {
        let Some(c) = &self.doc.changes else { return };
        let l = self.l;
        self.h2(l.changes);
        self.figures(&outline::change_counts(c, l));
        self.figures(&outline::change_totals(c, l));
        if let Some(t) = outline::objectives_moved(c, l) {
            self.figures(&t);
        }
        self.h3(l.new_top_recommendations);
        if c.new_top_recommendations.is_empty() {
            w!(self, "{}\n", md(l.none));
        } else {
            let ids: Vec<String> = c
                .new_top_recommendations
                .iter()
                .map(|id| format!("{} {id}", l.post))
                .collect();
            w!(self, "{}\n", md(&ids.join(", ")));
        }
    }

    fn participation(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.h2(l.participation);
        self.figures(&outline::headline(doc, l));
        self.figures(&outline::by_kind(doc, l));
        self.h3(l.weekly);
        self.figures(&outline::weekly(doc, l));
        self.h3(l.by_group);
        self.figures(&outline::breakdown(doc, l, By::Group));
        self.h3(l.by_country);
        self.figures(&outline::breakdown(doc, l, By::Country));
        self.h3(l.by_language);
        self.figures(&outline::breakdown(doc, l, By::Language));
    }

    fn moderation(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.h2(l.moderation);
        w!(self, "{}\n\n", md(l.excluded_intro));
        self.figures(&outline::excluded(doc, l));
        self.figures(&outline::reasons(doc, l));
    }

    fn priorities(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.h2(l.priorities);
        w!(self, "{}\n", md(l.priorities_intro));
        for id in outline::cluster_ids(doc) {
            self.h3(&l.cluster_name(id));
            if let Some(c) = doc.clusters.iter().find(|c| c.id == id) {
                w!(
                    self,
                    "{} {} · {} {}\n\n",
                    fmt_int(c.posts),
                    md(&l.posts.to_lowercase()),
                    fmt_int(c.endorsements),
                    md(&l.endorsements.to_lowercase())
                );
            }
            self.figures(&outline::cluster_objectives(doc, l, id));
        }
    }

    fn in_depth(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.h2(l.in_depth);
        for o in doc.objectives.iter().filter(|o| o.prominent) {
            self.h3(&format!("{} {}", l.objective, l.objective_title(o.id)));
            if let Some(full) = l.objective_full(o.id) {
                w!(self, "*{}*\n\n", md(full));
            }
            let groups: Vec<&str> = o
                .stakeholder_groups
                .iter()
                .map(|g| l.group_label(g))
                .collect();
            w!(
                self,
                "{} {} · {} {} · {} {} · {} {}\n\n- {}{colon}{}\n- {}{colon}{}\n",
                md(l.rank),
                o.rank,
                fmt_int(o.posts),
                md(&l.posts.to_lowercase()),
                fmt_int(o.endorsements),
                md(&l.endorsements.to_lowercase()),
                fmt_int(o.authors),
                md(&l.authors.to_lowercase()),
                md(l.stakeholder_groups),
                md(&groups.join(", ")),
                md(l.countries),
                md(&o.countries.join(", "))
            );
            self.terms(&o.key_terms);
            self.h4(l.representative);
            self.quotes(&o.quotes);
        }
    }

    fn terms(&mut self, terms: &[KeyTerm]) {
        let l = self.l;
        self.h4(l.key_terms);
        if terms.is_empty() {
            w!(self, "{}\n", md(l.no_terms));
            return;
        }
        let parts: Vec<String> = terms
            .iter()
            .map(|t| format!("{} ({})", md(&t.term), fmt_int(t.posts)))
            .collect();
        w!(self, "{}\n", parts.join(" · "));
    }

    fn quotes(&mut self, quotes: &[Quote]) {
        if quotes.is_empty() {
            w!(self, "{}\n", md(self.l.no_quotes));
        }
        for q in quotes {
            self.quote(q);
        }
    }

    fn quote(&mut self, q: &Quote) {
        let colon = self.l.colon;
        let l = self.l;
        w!(
            self,
            "> {}\n>\n> — {} · {}",
            md(&q.excerpt),
            md(l.kind_label(&q.kind)),
            md(l.group_label(&q.stakeholder_group))
        );
        if let Some(c) = &q.country {
            w!(self, " · {}", md(l.country_label(c)));
        }
        if let Some(o) = &q.organisation {
            w!(self, " · {}", md(o));
        }
        w!(
            self,
            " · {}{colon}{}",
            md(l.endorsements),
            fmt_int(q.endorsements)
        );
        match post_url(self.base_url, &q.link) {
            Some(u) => w!(self, " · [{} {}]({u})\n\n", md(l.post), q.post_id),
            None => w!(self, " · {} {}\n\n", md(l.post), q.post_id),
        }
    }

    fn aspects(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.h2(l.aspects);
        for a in &doc.aspects {
            self.h3(l.aspect_label(&a.aspect));
            w!(
                self,
                "{} {}\n\n",
                fmt_int(a.posts),
                md(&l.posts.to_lowercase())
            );
            if !a.objectives.is_empty() {
                let parts: Vec<String> = a
                    .objectives
                    .iter()
                    .map(|o| format!("{} ({})", md(&l.objective_title(o.id)), fmt_int(o.posts)))
                    .collect();
                w!(
                    self,
                    "{}{colon}{}\n\n",
                    md(l.top_objectives),
                    parts.join(" · ")
                );
            }
            self.quotes(&a.quotes);
        }
    }

    fn recommendations(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.h2(l.recommendations);
        w!(self, "{}\n\n", md(l.recommendations_intro));
        if doc.recommendations.is_empty() {
            w!(self, "{}\n", md(l.none));
        }
        for r in &doc.recommendations {
            w!(
                self,
                "**{} {}** · {}{colon}{} · {}{colon}{} · {}{colon}{}\n\n",
                md(l.rank),
                r.rank,
                md(l.endorsements),
                fmt_int(r.endorsements),
                md(l.supporting_groups),
                fmt_int(r.groups),
                md(l.consensus),
                fmt_ratio(r.consensus)
            );
            self.quote(&r.quote);
            if !r.objectives.is_empty() {
                let o: Vec<String> = r
                    .objectives
                    .iter()
                    .map(|o| md(&l.objective_title(*o)))
                    .collect();
                w!(self, "- {}{colon}{}\n", md(l.objectives), o.join(" · "));
            }
            if !r.endorsements_by_group.is_empty() {
                let g: Vec<String> = r
                    .endorsements_by_group
                    .iter()
                    .map(|(g, n)| format!("{} {}", md(l.group_label(g)), fmt_int(*n)))
                    .collect();
                w!(
                    self,
                    "- {}{colon}{}\n",
                    md(l.endorsements_by_group),
                    g.join(" · ")
                );
            }
            if !r.merged.is_empty() {
                let m: Vec<String> = r
                    .merged
                    .iter()
                    .map(|id| format!("{} {id}", md(l.post)))
                    .collect();
                w!(self, "- {}{colon}{}\n", md(l.merged), m.join(", "));
            }
            self.out.push('\n');
        }
    }

    fn emerging(&mut self) {
        let (e, l) = (&self.doc.emerging, self.l);
        self.h2(l.emerging);
        w!(
            self,
            "{}\n\n{} {}\n",
            md(l.emerging_intro),
            fmt_int(e.posts),
            md(&l.posts.to_lowercase())
        );
        self.terms(&e.key_terms);
        self.h4(l.representative);
        self.quotes(&e.quotes);
    }

    fn methodology(&mut self) {
        let colon = self.l.colon;
        let (doc, l) = (self.doc, self.l);
        self.h2(l.methodology);
        for p in l.methodology_text(&doc.methodology) {
            w!(self, "{}\n\n", md(&p));
        }
        if !doc.sources.is_empty() {
            self.h3(l.sources);
            for s in &doc.sources {
                w!(self, "- {}\n", md(s));
            }
            self.out.push('\n');
        }
        w!(
            self,
            "{} {}{colon}{}.\n",
            md(l.generated_note),
            md(l.licence),
            md(&doc.licence)
        );
    }

    fn annex(&mut self) {
        let (doc, l) = (self.doc, self.l);
        self.h2(l.annex);
        w!(self, "{}\n\n", md(l.annex_intro));
        self.table(
            &[
                l.post,
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
                true, true, false, false, false, false, false, false, false, false, true,
            ],
        );
        for c in &doc.contributions {
            let id = match post_url(self.base_url, &c.link) {
                Some(u) => format!("[{}]({u})", c.id),
                None => c.id.to_string(),
            };
            let objectives: Vec<String> = c.objectives.iter().map(i64::to_string).collect();
            let aspects: Vec<&str> = c.aspects.iter().map(|a| l.aspect_label(a)).collect();
            self.row(&[
                id,
                c.thread_id.to_string(),
                md(l.kind_label(&c.kind)),
                md(&objectives.join(", ")),
                md(&aspects.join(", ")),
                md(l.group_label(&c.stakeholder_group)),
                md(c.country.as_deref().map_or("", |k| l.country_label(k))),
                md(c.organisation.as_deref().unwrap_or("")),
                md(&c.language),
                md(&short_time(&c.created_at)),
                fmt_int(c.endorsements),
            ]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            md("[x](javascript:alert(1))"),
            "&#91;x&#93;(javascript:alert(1))"
        );
        assert_eq!(md("https://x.org/a"), "https\\://x\\.org/a");
        assert_eq!(md("CC BY 4.0, v.2"), "CC BY 4.0, v\\.2");
        assert_eq!(
            md("see www.x.org, a@b.c. Done."),
            "see www\\.x\\.org, a@\u{2060}b\\.c. Done."
        );
        assert_eq!(
            md("<script>a|b</script>"),
            "&lt;script&gt;a\\|b&lt;/script&gt;"
        );
        assert_eq!(md("# title\n- item"), "\\# title - item");
        assert_eq!(md("  12. point"), "12\\. point");
        assert_eq!(
            md("*a* _b_ `c` ~d~ $e$ &amp;"),
            "\\*a\\* \\_b\\_ \\`c\\` \\~d\\~ \\$e\\$ &amp;amp;"
        );
        assert_eq!(md("移民 مهاجر"), "移民 مهاجر");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            slug("Annex: contributions counted"),
            "annex-contributions-counted"
        );
        assert_eq!(slug("Priorités thématiques"), "priorités-thématiques");
    }
}
