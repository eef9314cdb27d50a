//! Renderings of a [`Document`]: HTML, Markdown and CSV (JSON is the document's own bytes).
//!
//! Every rendering follows the same outline so that the five regions' documents compare:
//! cover, what changed, participation, moderation, thematic priorities, prominent objectives,
//! aspects, recommendations, emerging issues, methodology, annex. Everything that comes from
//! the document is user text or could be, and is escaped for the format it lands in; the
//! renderings are pure functions of the document and the options, so the same document gives
//! the same bytes.

use crate::model::Document;

mod csv;
mod html;
pub mod labels;
mod markdown;
mod outline;
mod svg;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Label language: `en`, `fr` or `es` (anything else renders English).
    pub lang: &'a str,
    /// The hub's public address (`https://hub.example.org`), prefixed to post links.
    pub base_url: &'a str,
}

/// A self-contained HTML page: inline CSS and SVG only, no script, no external resource.
pub fn html(doc: &Document, opts: &RenderOptions<'_>) -> String {
    html::render(doc, opts)
}

/// A Markdown document (GitHub-flavoured tables).
pub fn markdown(doc: &Document, opts: &RenderOptions<'_>) -> String {
    markdown::render(doc, opts)
}

/// CSV, one row per contribution. The header is made of English machine-readable codes
/// whatever `opts.lang`, so that scripts reading the five regions' files in any language
/// find the same columns.
pub fn csv(doc: &Document, opts: &RenderOptions<'_>) -> Result<Vec<u8>, ::csv::Error> {
    csv::render(doc, opts)
}

/// The absolute address of a post from the document's API path. `None` when `link` is not a
/// plain path (`/...`, not `//host`): the document is data and a `javascript:` or foreign
/// address must never become a link. A `base_url` that is not `http(s)://` is ignored and the
/// path is left relative. Characters that could end a URL early in HTML or Markdown, spaces
/// and non-ASCII are percent-encoded.
pub(crate) fn post_url(base_url: &str, link: &str) -> Option<String> {
    if !link.starts_with('/') || link.starts_with("//") || link.contains('\\') {
        return None;
    }
    let base = base_url.trim().trim_end_matches('/');
    let base = if base.starts_with("https://") || base.starts_with("http://") {
        base
    } else {
        ""
    };
    let mut out = String::with_capacity(base.len() + link.len());
    for c in base.chars().chain(link.chars()) {
        if c.is_ascii_alphanumeric() || "-._~/:?&=#%+,;!$@".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// Whether a language tag may be written into a `lang` attribute as it is; others become `und`.
pub(crate) fn lang_tag(tag: &str) -> &str {
    if tag == "und" || hub_domain::lang::is_valid_tag(tag) {
        tag
    } else {
        "und"
    }
}

/// `rtl` or `ltr` from the document's `dir`; `auto` for anything else.
pub(crate) fn direction(dir: &str) -> &'static str {
    match dir {
        "rtl" => "rtl",
        "ltr" => "ltr",
        _ => "auto",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_links_are_paths_under_the_hub() {
        assert_eq!(
            post_url("https://hub.example.org/", "/api/v1/posts/7").as_deref(),
            Some("https://hub.example.org/api/v1/posts/7")
        );
        assert_eq!(post_url("https://h", "javascript:alert(1)"), None);
        assert_eq!(post_url("https://h", "//evil.example/x"), None);
        assert_eq!(
            post_url("javascript:", "/api/v1/posts/7").as_deref(),
            Some("/api/v1/posts/7")
        );
        assert_eq!(
            post_url("https://h", "/p/a b\"<)é").as_deref(),
            Some("https://h/p/a%20b%22%3C%29%C3%A9")
        );
    }

    #[test]
    fn lang_and_dir_are_whitelisted() {
        assert_eq!(lang_tag("zh-Hant-TW"), "zh-Hant-TW");
        assert_eq!(lang_tag("\" onmouseover=\"x"), "und");
        assert_eq!(direction("rtl"), "rtl");
        assert_eq!(direction("rtl\" onclick"), "auto");
    }
}
