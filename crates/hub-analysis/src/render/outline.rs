//! The outline both renderings walk, built once from the document: the parts in order, with
//! their ids and titles, and every table of figures (caption, columns, rows of typed cells).
//! The HTML and Markdown writers only give each piece its markup, so the two formats cannot
//! drift apart in what they show or in what order.

use super::html::signed;
use super::labels::{fmt_int, fmt_share, Labels};
use super::svg;
use crate::model::{Breakdown, Changes, Document, ObjectiveStat};

/// The document's parts after its cover and table of contents, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Changes,
    Participation,
    Moderation,
    Priorities,
    InDepth,
    Aspects,
    Recommendations,
    Emerging,
    Methodology,
    Annex,
}

impl Part {
    /// The part's anchor in the HTML page.
    pub(super) fn id(self) -> &'static str {
        match self {
            Part::Changes => "changes",
            Part::Participation => "participation",
            Part::Moderation => "moderation",
            Part::Priorities => "priorities",
            Part::InDepth => "in-depth",
            Part::Aspects => "aspects",
            Part::Recommendations => "recommendations",
            Part::Emerging => "emerging",
            Part::Methodology => "methodology",
            Part::Annex => "annex",
        }
    }

    /// The part's title.
    pub(super) fn title(self, l: &'static Labels) -> &'static str {
        match self {
            Part::Changes => l.changes,
            Part::Participation => l.participation,
            Part::Moderation => l.moderation,
            Part::Priorities => l.priorities,
            Part::InDepth => l.in_depth,
            Part::Aspects => l.aspects,
            Part::Recommendations => l.recommendations,
            Part::Emerging => l.emerging,
            Part::Methodology => l.methodology,
            Part::Annex => l.annex,
        }
    }
}

/// The parts the document has: what changed only from its second version on.
pub(super) fn parts(doc: &Document) -> Vec<Part> {
    let mut parts = Vec::with_capacity(10);
    if doc.changes.is_some() {
        parts.push(Part::Changes);
    }
    parts.extend([
        Part::Participation,
        Part::Moderation,
        Part::Priorities,
        Part::InDepth,
        Part::Aspects,
        Part::Recommendations,
        Part::Emerging,
        Part::Methodology,
        Part::Annex,
    ]);
    parts
}

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Col {
    Text,
    Num,
    /// A count that HTML follows with the names counted (so the column is text there) and
    /// Markdown shows alone (so it is numeric there).
    Count,
}

/// One cell of a table.
#[derive(Debug, Clone)]
pub(super) enum Cell {
    /// The row's header.
    Head(String),
    /// A row header that may run right to left (a country, a language): isolated in HTML.
    HeadIsolated(String),
    /// A row header after a colour swatch (HTML only).
    HeadSwatch(&'static str, String),
    /// A figure given as text, escaped like text.
    Value(String),
    /// A formatted number, written as it is.
    Num(String),
    /// Text.
    Text(String),
    /// Nothing.
    Empty,
    /// A change of rank: up when positive.
    Change(i64),
    /// An objective's title (the row header), linked to its section when it is prominent.
    Objective {
        id: i64,
        title: String,
        prominent: bool,
    },
    /// A count of names: HTML shows both, Markdown the count.
    Names(usize, String),
}

/// A table of figures.
#[derive(Debug, Clone)]
pub(super) struct Table<'a> {
    /// HTML's `class` attribute.
    pub(super) class: &'static str,
    /// The caption (HTML); Markdown's heading above the table when `heading`.
    pub(super) caption: String,
    pub(super) heading: bool,
    /// Markdown leaves the table (and its heading) out when it has no rows.
    pub(super) optional: bool,
    pub(super) columns: Vec<(&'a str, Col)>,
    pub(super) rows: Vec<Vec<Cell>>,
}

impl<'a> Table<'a> {
    fn new(caption: impl Into<String>, columns: Vec<(&'a str, Col)>) -> Self {
        Self {
            class: "",
            caption: caption.into(),
            heading: false,
            optional: false,
            columns,
            rows: Vec::new(),
        }
    }

    /// With the caption as a heading in Markdown.
    fn headed(mut self) -> Self {
        self.heading = true;
        self
    }

    /// A two-column table of labelled figures.
    fn counts(caption: impl Into<String>, l: &'a Labels, rows: &[(&str, String)]) -> Self {
        let mut t = Table::new(caption, vec![(l.figure, Col::Text), (l.value, Col::Num)]);
        t.rows = rows
            .iter()
            .map(|(label, v)| vec![Cell::Head(label.to_string()), Cell::Value(v.clone())])
            .collect();
        t
    }
}

/// What changed since the previous version: its version, cutoff, contributions added and
/// withdrawn.
pub(super) fn change_counts<'a>(c: &Changes, l: &'a Labels) -> Table<'a> {
    Table::counts(
        l.changes,
        l,
        &[
            (l.previous_version, c.previous_version.to_string()),
            (l.previous_cutoff, l.instant(&c.previous_cutoff)),
            (l.added, fmt_int(c.added)),
            (l.withdrawn, fmt_int(c.withdrawn)),
        ],
    )
}

/// The change of every headline figure.
pub(super) fn change_totals<'a>(c: &Changes, l: &'a Labels) -> Table<'a> {
    let t = &c.totals;
    Table::counts(
        format!("{} — {}", l.headline, l.change),
        l,
        &[
            (l.posts, signed(t.posts)),
            (l.threads, signed(t.threads)),
            (l.authors, signed(t.authors)),
            (l.organisations, signed(t.organisations)),
            (l.countries, signed(t.countries)),
            (l.stakeholder_groups, signed(t.stakeholder_groups)),
            (l.languages, signed(t.languages)),
            (l.endorsements, signed(t.endorsements)),
        ],
    )
    .headed()
}

/// The objectives whose rank moved, if any did.
pub(super) fn objectives_moved<'a>(c: &Changes, l: &'a Labels) -> Option<Table<'a>> {
    if c.objectives_moved.is_empty() {
        return None;
    }
    let mut t = Table::new(
        l.objectives_moved,
        vec![
            (l.objective, Col::Text),
            (l.previous_rank, Col::Num),
            (l.rank, Col::Num),
            (l.change, Col::Num),
        ],
    )
    .headed();
    t.rows = c
        .objectives_moved
        .iter()
        .map(|m| {
            vec![
                Cell::Head(l.objective_title(m.id)),
                Cell::Num(m.previous_rank.to_string()),
                Cell::Num(m.rank.to_string()),
                Cell::Change(m.previous_rank - m.rank),
            ]
        })
        .collect();
    Some(t)
}

/// The headline figures.
pub(super) fn headline<'a>(doc: &Document, l: &'a Labels) -> Table<'a> {
    let t = &doc.totals;
    Table::counts(
        l.headline,
        l,
        &[
            (l.posts, fmt_int(t.posts)),
            (l.threads, fmt_int(t.threads)),
            (l.authors, fmt_int(t.authors)),
            (l.organisations, fmt_int(t.organisations)),
            (l.countries, fmt_int(t.countries)),
            (l.stakeholder_groups, fmt_int(t.stakeholder_groups)),
            (l.languages, fmt_int(t.languages)),
            (l.endorsements, fmt_int(t.endorsements)),
        ],
    )
    .headed()
}

/// Posts by kind, with their share.
pub(super) fn by_kind<'a>(doc: &Document, l: &'a Labels) -> Table<'a> {
    let k = &doc.by_kind;
    let all = k.comment + k.recommendation + k.report;
    let mut t = Table::new(
        l.by_kind,
        vec![
            (l.kind, Col::Text),
            (l.posts, Col::Num),
            (l.share, Col::Num),
        ],
    )
    .headed();
    t.rows = [
        ("comment", k.comment),
        ("recommendation", k.recommendation),
        ("report", k.report),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (code, n))| {
        vec![
            Cell::HeadSwatch(svg::kind_colour(i), l.kind_label(code).to_string()),
            Cell::Num(fmt_int(n)),
            Cell::Num(fmt_share(n, all)),
        ]
    })
    .collect();
    t
}

/// Posts week by week (after a row for the earlier weeks, when they had any).
pub(super) fn weekly<'a>(doc: &Document, l: &'a Labels) -> Table<'a> {
    let mut t = Table::new(
        l.weekly,
        vec![
            (l.week, Col::Text),
            (l.week_starting, Col::Text),
            (l.posts, Col::Num),
            (l.kind_label("comment"), Col::Num),
            (l.kind_label("recommendation"), Col::Num),
            (l.kind_label("report"), Col::Num),
            (l.authors, Col::Num),
        ],
    );
    if doc.weekly_earlier > 0 {
        let mut row = vec![
            Cell::Head(l.weekly_earlier.to_string()),
            Cell::Empty,
            Cell::Num(fmt_int(doc.weekly_earlier)),
        ];
        row.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]);
        t.rows.push(row);
    }
    for wk in &doc.weekly {
        t.rows.push(vec![
            Cell::Head(wk.week.clone()),
            Cell::Text(l.date(&wk.starts)),
            Cell::Num(fmt_int(wk.posts)),
            Cell::Num(fmt_int(wk.by_kind.comment)),
            Cell::Num(fmt_int(wk.by_kind.recommendation)),
            Cell::Num(fmt_int(wk.by_kind.report)),
            Cell::Num(fmt_int(wk.authors)),
        ]);
    }
    t
}

/// Which breakdown of the participation.
#[derive(Debug, Clone, Copy)]
pub(super) enum By {
    Group,
    Country,
    Language,
}

/// Posts and authors by stakeholder group, country or language, with their share.
pub(super) fn breakdown<'a>(doc: &Document, l: &'a Labels, by: By) -> Table<'a> {
    let (caption, key, rows): (&str, &str, &[Breakdown]) = match by {
        By::Group => (l.by_group, l.group, &doc.stakeholder_groups),
        By::Country => (l.by_country, l.country, &doc.countries),
        By::Language => (l.by_language, l.language, &doc.languages),
    };
    let label = |k: &str| -> String {
        match by {
            By::Group => l.group_label(k).to_string(),
            By::Country => l.country_label(k).to_string(),
            By::Language => {
                let name = l.language_label(k);
                if name == k {
                    k.to_string()
                } else {
                    format!("{name} ({k})")
                }
            }
        }
    };
    let mut t = Table::new(
        caption,
        vec![
            (key, Col::Text),
            (l.posts, Col::Num),
            (l.share, Col::Num),
            (l.authors, Col::Num),
        ],
    );
    let total = doc.totals.posts;
    t.rows = rows
        .iter()
        .map(|r| {
            vec![
                Cell::HeadIsolated(label(&r.key)),
                Cell::Num(fmt_int(r.posts)),
                Cell::Num(fmt_share(r.posts, total)),
                Cell::Num(fmt_int(r.authors)),
            ]
        })
        .collect();
    t
}

/// The posts kept out by moderation, by status.
pub(super) fn excluded<'a>(doc: &Document, l: &'a Labels) -> Table<'a> {
    let e = &doc.excluded;
    Table::counts(
        l.excluded_total,
        l,
        &[
            (l.excluded_total, fmt_int(e.total)),
            (l.pending, fmt_int(e.pending)),
            (l.hidden, fmt_int(e.hidden)),
            (l.removed, fmt_int(e.removed)),
        ],
    )
}

/// The posts hidden or removed, by reason.
pub(super) fn reasons<'a>(doc: &Document, l: &'a Labels) -> Table<'a> {
    let mut t = Table::new(
        l.by_reason,
        vec![(l.reason, Col::Text), (l.posts, Col::Num)],
    )
    .headed();
    t.optional = true;
    t.rows = doc
        .excluded
        .reasons
        .iter()
        .map(|r| {
            vec![
                Cell::Head(l.reason_label(&r.reason).to_string()),
                Cell::Num(fmt_int(r.posts)),
            ]
        })
        .collect();
    t
}

/// The clusters the priorities show: every one the document names, and any an objective
/// names that the list lacks, so that no objective can fall out of the tables.
pub(super) fn cluster_ids(doc: &Document) -> Vec<i64> {
    let mut ids: Vec<i64> = doc
        .clusters
        .iter()
        .map(|c| c.id)
        .chain(doc.objectives.iter().map(|o| o.cluster))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A cluster's objectives in rank order.
pub(super) fn cluster_objectives<'a>(doc: &Document, l: &'a Labels, id: i64) -> Table<'a> {
    let mut t = Table::new(
        format!("{} — {}", l.cluster_name(id), l.objectives),
        vec![
            (l.rank, Col::Num),
            (l.objective, Col::Text),
            (l.posts, Col::Num),
            (l.endorsements, Col::Num),
            (l.of_which_recommendations, Col::Num),
            (l.authors, Col::Num),
            (l.stakeholder_groups, Col::Count),
            (l.countries, Col::Count),
        ],
    );
    t.class = "prio";
    t.rows = doc
        .objectives
        .iter()
        .filter(|o| o.cluster == id)
        .map(|o| objective_row(o, l))
        .collect();
    t
}

fn objective_row(o: &ObjectiveStat, l: &Labels) -> Vec<Cell> {
    let groups: Vec<&str> = o
        .stakeholder_groups
        .iter()
        .map(|g| l.group_label(g))
        .collect();
    vec![
        Cell::Num(o.rank.to_string()),
        Cell::Objective {
            id: o.id,
            title: l.objective_title(o.id),
            prominent: o.prominent,
        },
        Cell::Num(fmt_int(o.posts)),
        Cell::Num(fmt_int(o.endorsements)),
        Cell::Num(fmt_int(o.recommendations)),
        Cell::Num(fmt_int(o.authors)),
        Cell::Names(o.stakeholder_groups.len(), groups.join(", ")),
        Cell::Names(o.countries.len(), o.countries.join(", ")),
    ]
}
