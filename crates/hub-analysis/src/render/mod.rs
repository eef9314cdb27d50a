//! Renderings of a [`Document`]: HTML, Markdown and CSV (JSON is the document's own bytes).

use crate::model::Document;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Label language: `en`, `fr` or `es` (anything else renders English).
    pub lang: &'a str,
    /// The hub's public address (`https://hub.example.org`), prefixed to post links.
    pub base_url: &'a str,
}

/// A self-contained HTML page.
pub fn html(doc: &Document, opts: &RenderOptions<'_>) -> String {
    let _ = (doc, opts);
    String::new()
}

/// A Markdown document.
pub fn markdown(doc: &Document, opts: &RenderOptions<'_>) -> String {
    let _ = (doc, opts);
    String::new()
}

/// CSV, one row per contribution.
pub fn csv(doc: &Document, opts: &RenderOptions<'_>) -> Result<Vec<u8>, csv::Error> {
    let _ = (doc, opts);
    Ok(Vec::new())
}
