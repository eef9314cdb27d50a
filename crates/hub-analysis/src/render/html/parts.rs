//! The document's parts, in the order the outline gives them: what changed, participation,
//! moderation, priorities, objectives in depth, aspects, recommendations, emerging issues,
//! methodology and the annex.

use super::*;

impl Page<'_> {
    pub(super) fn changes(&mut self) {
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

    pub(super) fn participation(&mut self) {
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

    pub(super) fn moderation(&mut self) {
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

    pub(super) fn priorities(&mut self) {
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

    pub(super) fn in_depth(&mut self) {
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

    pub(super) fn aspects(&mut self) {
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

    pub(super) fn recommendations(&mut self) {
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

    pub(super) fn emerging(&mut self) {
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

    pub(super) fn methodology(&mut self) {
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

    pub(super) fn annex(&mut self) {
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
