//! The CSV rendering: the annex as data, one row per contribution.
//!
//! The header row is the same machine-readable English codes whatever the label language
//! (`id,thread_id,link,kind,objectives,aspects,stakeholder_group,country,organisation,language,created_at,endorsements`),
//! and so are the values (`recommendation`, `civil_society`, objective numbers), so a script
//! can read the five regions' files in any language. Lists are joined with `;`.
//!
//! Escaping: quoting is the csv crate's. Text cells that a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'` (the OWASP
//! advice), so an organisation named `=HYPERLINK(...)` stays text.

use super::{post_url, RenderOptions};
use crate::model::Document;

/// The header row, in column order.
pub const HEADER: [&str; 12] = [
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
    "endorsements",
];

/// A text cell a spreadsheet will not evaluate.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub(super) fn render(doc: &Document, opts: &RenderOptions<'_>) -> Result<Vec<u8>, ::csv::Error> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(128 + doc.contributions.len() * 160));
    w.write_record(HEADER)?;
    for c in &doc.contributions {
        let objectives: Vec<String> = c.objectives.iter().map(i64::to_string).collect();
        // A link that is not a plain path is not made absolute (see `post_url`); it is still
        // written, as data, so the row is complete.
        let link = post_url(opts.base_url, &c.link).unwrap_or_else(|| c.link.clone());
        w.write_record([
            c.id.to_string(),
            c.thread_id.to_string(),
            cell(&link),
            cell(&c.kind),
            cell(&objectives.join(";")),
            cell(&c.aspects.join(";")),
            cell(&c.stakeholder_group),
            cell(c.country.as_deref().unwrap_or("")),
            cell(c.organisation.as_deref().unwrap_or("")),
            cell(&c.language),
            cell(&c.created_at),
            c.endorsements.to_string(),
        ])?;
    }
    w.into_inner()
        .map_err(|e| ::csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(cell("Red Cross"), "Red Cross");
        assert_eq!(cell(""), "");
    }
}
