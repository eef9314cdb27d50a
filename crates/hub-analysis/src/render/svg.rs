//! Small hand-written SVG bar charts, inlined in the HTML page. Each chart is an image to
//! assistive technology (`role="img"`, `aria-label`, `<title>`, `<desc>`) whose data the page
//! also gives as a table; each bar carries its own `<title>` so a pointer shows the figure.
//! Coordinates are printed with one decimal, so the same data give the same bytes.

use super::html::Esc;
use super::labels::{fmt_int, Labels};
use crate::model::{Breakdown, Document};
use std::fmt::Write;

/// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
const CLUSTER_COLOURS: [&str; 4] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
/// Comment, recommendation, report.
const KIND_COLOURS: [&str; 3] = ["#56B4E9", "#0072B2", "#E69F00"];
/// Single-series bars.
const BAR_COLOUR: &str = "#0072B2";
const WIDTH: f64 = 760.0;
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif";

/// A cluster's colour (grey for an id outside 1..=4).
pub(crate) fn cluster_colour(id: i64) -> &'static str {
    usize::try_from(id - 1)
        .ok()
        .and_then(|i| CLUSTER_COLOURS.get(i))
        .copied()
        .unwrap_or("#6b7280")
}

/// A post kind's colour, in the order comment, recommendation, report.
pub(crate) fn kind_colour(i: usize) -> &'static str {
    KIND_COLOURS.get(i).copied().unwrap_or("#6b7280")
}

struct Bar {
    label: String,
    value: i64,
    colour: &'static str,
}

/// Cuts `s` to `max` characters, with an ellipsis when it was longer.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Opens an `<svg>` element with its accessible name and description.
fn open(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH:.0} {height:.0}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-label=\"{t}\" aria-describedby=\"{id}-desc\" \
         font-family=\"{FONT}\" font-size=\"12\"><title>{t}</title><desc id=\"{id}-desc\">{d}</desc>",
        t = Esc(title),
        d = Esc(desc),
    );
}

/// A legend row at the top of a chart.
fn legend(out: &mut String, y: f64, items: &[(String, &'static str)]) {
    let mut x = 0.0;
    for (label, colour) in items {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{ry:.1}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{colour}\"/>\
             <text x=\"{tx:.1}\" y=\"{y:.1}\" fill=\"#1f2937\">{l}</text>",
            ry = y - 10.0,
            tx = x + 16.0,
            l = Esc(label),
        );
        // A rough advance: system fonts average a little over 6 px per character at 12 px.
        x += 16.0 + 6.6 * label.chars().count() as f64 + 18.0;
    }
}

/// A horizontal bar chart, one bar per row, labels on the left, values at the bar's end.
fn hbars(
    id: &str,
    title: &str,
    desc: &str,
    bars: &[Bar],
    legend_items: &[(String, &'static str)],
) -> String {
    const LABEL_W: f64 = 290.0;
    const ROW: f64 = 22.0;
    const BAR_H: f64 = 15.0;
    let top = if legend_items.is_empty() { 6.0 } else { 34.0 };
    let height = top + ROW * bars.len() as f64 + 6.0;
    let bar_area = WIDTH - LABEL_W - 64.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;

    let mut out = String::with_capacity(400 + bars.len() * 400);
    open(&mut out, id, height, title, desc);
    if !legend_items.is_empty() {
        legend(&mut out, 16.0, legend_items);
    }
    let _ = write!(
        out,
        "<line x1=\"{LABEL_W:.1}\" y1=\"{top:.1}\" x2=\"{LABEL_W:.1}\" y2=\"{y2:.1}\" stroke=\"#9ca3af\"/>",
        y2 = height - 6.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = top + ROW * i as f64;
        let w =
            (bar.value.max(0) as f64 / max * bar_area).max(if bar.value > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            out,
            "<g><title>{full}: {v}</title>\
             <text x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#1f2937\">{short}</text>\
             <rect x=\"{LABEL_W:.1}\" y=\"{by:.1}\" width=\"{w:.1}\" height=\"{BAR_H:.1}\" fill=\"{c}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty:.1}\" fill=\"#374151\">{v}</text></g>",
            full = Esc(&bar.label),
            short = Esc(&truncate(&bar.label, 44)),
            v = fmt_int(bar.value),
            lx = LABEL_W - 6.0,
            ty = y + 15.0,
            by = y + (ROW - BAR_H) / 2.0,
            c = bar.colour,
            vx = LABEL_W + w + 5.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// The 23 objectives ranked by contributions, each bar in its cluster's colour.
pub(crate) fn objectives_chart(doc: &Document, l: &Labels) -> String {
    let bars: Vec<Bar> = doc
        .objectives
        .iter()
        .map(|o| Bar {
            label: l.objective_title(o.id),
            value: o.posts,
            colour: cluster_colour(o.cluster),
        })
        .collect();
    let legend_items: Vec<(String, &'static str)> = (1..=4)
        .map(|c| (l.cluster_name(c), cluster_colour(c)))
        .collect();
    let desc = format!("{} {}", l.priorities_intro, l.chart_data_below);
    hbars(
        "chart-objectives",
        l.objectives_chart,
        &desc,
        &bars,
        &legend_items,
    )
}

/// Posts by stakeholder group, largest first.
pub(crate) fn groups_chart(groups: &[Breakdown], l: &Labels) -> String {
    let bars: Vec<Bar> = groups
        .iter()
        .map(|g| Bar {
            label: l.group_label(&g.key).to_string(),
            value: g.posts,
            colour: BAR_COLOUR,
        })
        .collect();
    hbars("chart-groups", l.by_group, l.chart_data_below, &bars, &[])
}

/// A round step for a y axis reaching `max`, about four ticks.
fn nice_step(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (step as i64).max(1)
}

/// Posts per ISO week, stacked by kind.
pub(crate) fn weekly_chart(doc: &Document, l: &Labels) -> String {
    const LEFT: f64 = 46.0;
    const TOP: f64 = 34.0;
    const PLOT_H: f64 = 190.0;
    const BOTTOM: f64 = 34.0;
    let height = TOP + PLOT_H + BOTTOM;
    let weeks = &doc.weekly;
    let n = weeks.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - 10.0;
    let slot = plot_w / n;
    let bar_w = (slot * 0.72).min(42.0);
    let totals: Vec<i64> = weeks
        .iter()
        .map(|w| {
            w.posts
                .max(w.by_kind.comment + w.by_kind.recommendation + w.by_kind.report)
        })
        .collect();
    let max_v = totals.iter().copied().max().unwrap_or(0).max(1);
    let step = nice_step(max_v);
    let axis_max = ((max_v + step - 1) / step * step) as f64;
    let y_of = |v: f64| TOP + PLOT_H - v / axis_max * PLOT_H;

    let mut out = String::with_capacity(1000 + weeks.len() * 700);
    open(
        &mut out,
        "chart-weekly",
        height,
        l.weekly,
        l.chart_data_below,
    );
    let legend_items = [
        (l.kind_label("comment").to_string(), kind_colour(0)),
        (l.kind_label("recommendation").to_string(), kind_colour(1)),
        (l.kind_label("report").to_string(), kind_colour(2)),
    ];
    legend(&mut out, 16.0, &legend_items);
    let mut tick = 0;
    while tick as f64 <= axis_max {
        let y = y_of(tick as f64);
        let _ = write!(
            out,
            "<line x1=\"{LEFT:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#4b5563\">{v}</text>",
            x2 = WIDTH - 10.0,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            v = fmt_int(tick),
        );
        tick += step;
    }
    let label_every = ((weeks.len() as f64) / 12.0).ceil().max(1.0) as usize;
    for (i, (w, total)) in weeks.iter().zip(&totals).enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let _ = write!(
            out,
            "<g><title>{week} ({start}): {posts} · {cl} {c}, {rl} {r}, {pl} {p}</title>",
            week = Esc(&w.week),
            start = Esc(&l.date(&w.starts)),
            posts = fmt_int(*total),
            cl = Esc(l.kind_label("comment")),
            c = fmt_int(w.by_kind.comment),
            rl = Esc(l.kind_label("recommendation")),
            r = fmt_int(w.by_kind.recommendation),
            pl = Esc(l.kind_label("report")),
            p = fmt_int(w.by_kind.report),
        );
        let mut base = 0i64;
        let parts = [
            w.by_kind.comment,
            w.by_kind.recommendation,
            w.by_kind.report,
        ];
        let kinds_sum: i64 = parts.iter().sum();
        for (k, v) in parts.iter().enumerate() {
            if *v <= 0 {
                continue;
            }
            let y1 = y_of((base + v) as f64);
            let y0 = y_of(base as f64);
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{c}\"/>",
                h = y0 - y1,
                c = kind_colour(k),
            );
            base += v;
        }
        if *total > kinds_sum {
            // Posts whose kind the week does not break down (should not happen): grey.
            let y1 = y_of(*total as f64);
            let y0 = y_of(base as f64);
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"#9ca3af\"/>",
                h = y0 - y1,
            );
        }
        out.push_str("</g>");
        if i % label_every == 0 {
            let short = w.week.rsplit('-').next().unwrap_or(&w.week);
            let _ = write!(
                out,
                "<text x=\"{cx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" fill=\"#4b5563\">{s}</text>",
                cx = x + bar_w / 2.0,
                ty = TOP + PLOT_H + 16.0,
                s = Esc(short),
            );
        }
    }
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        let _ = write!(
            out,
            "<text x=\"{LEFT:.1}\" y=\"{ty:.1}\" fill=\"#6b7280\">{a} – {b}</text>",
            ty = TOP + PLOT_H + 31.0,
            a = Esc(&l.date(&first.starts)),
            b = Esc(&l.date(&last.starts)),
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"#6b7280\"/></svg>",
        y = TOP + PLOT_H,
        x2 = WIDTH - 10.0,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(40), 10);
        assert_eq!(nice_step(130), 50);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
