//! User-authored Markdown → safe HTML, and Markdown → plain text.
//!
//! Every post on the hub is written by a member of the public and read by
//! everybody else, so rendered Markdown is the single biggest XSS surface of
//! the service. The pipeline is deliberately belt-and-braces:
//!
//! 1. **comrak** parses CommonMark + a small set of GFM extensions. Raw HTML in
//!    the source is *never* passed through: it is escaped and shown as the
//!    literal text the author typed (`render.escape = true`). comrak's own
//!    dangerous-URL filter (`render.unsafe_ = false`) is also left on.
//! 2. The resulting HTML is **always** run through one allow-list
//!    [`ammonia::Builder`], built once. It is the real security boundary: even
//!    if a future comrak release (or an option flipped by mistake) emitted
//!    something unexpected, only the tags, attributes and URL schemes listed in
//!    [`sanitizer`] can reach a browser.
//!
//! # Images
//!
//! Images are **not** rendered as `<img>`. `![alt](https://…)` becomes an
//! ordinary (nofollow) link whose text is the alt text. Reason: an `<img>`
//! pointing at an arbitrary host makes every reader's browser contact that
//! host, leaking readers' IP addresses and reading times to whoever wrote the
//! post (tracking pixels). Many readers of a migration forum are migrants or
//! people working with them, so that leak is a real risk, and we have no image
//! proxy. The sanitizer also forbids `img`, so the policy holds even if the
//! Markdown step changed. If an image proxy or first-party upload store is
//! added later, allow `img` there, with `src` limited to that origin.
//!
//! # Links
//!
//! Only absolute `http:`, `https:` and `mailto:` URLs survive. Relative URLs
//! (including bare `#fragment`s) are dropped, which leaves the link text
//! without an `href`. Every `<a>` gets `rel="nofollow noopener noreferrer"`:
//! `nofollow` keeps spammers from gaining search rank, and `noopener
//! noreferrer` keeps the target page from getting hold of our window or
//! learning which thread linked to it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use comrak::arena_tree::{Node, NodeEdge};
use comrak::nodes::{Ast, AstNode, NodeValue};
use comrak::{format_html, parse_document, Arena, Options};

/// `rel` value forced onto every `<a>` element by the sanitizer.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// Render user Markdown to HTML that is safe to embed in a page.
///
/// The output is always produced by [`sanitize_html`], so it is stable: feeding
/// it through the sanitizer again gives back the same string. That matters
/// because stored HTML may be re-sanitized later, and output that changes each
/// time it is cleaned is how mutation XSS starts.
///
/// Allowed output: headings, paragraphs, line breaks, horizontal rules,
/// lists, block quotes, inline and block code (with a `language-*` class),
/// tables (with `align` on cells), `em`/`strong`/`del`, and links. See the
/// [module docs](self) for how images and links are handled.
pub fn render_markdown(src: &str) -> String {
    let options = comrak_options();
    let arena = Arena::new();
    let root = parse_document(&arena, src, &options);
    images_to_links(&arena, root);

    let mut html = Vec::with_capacity(src.len() * 2);
    if format_html(root, &options, &mut html).is_err() {
        // Writing into a `Vec<u8>` cannot fail; returning nothing is still a
        // safe fallback if a future version ever reports an error.
        return String::new();
    }
    sanitize_html(&String::from_utf8_lossy(&html))
}

/// Clean an HTML fragment with the hub's single sanitizer policy.
///
/// [`render_markdown`] uses this as its last step. It is public so stored HTML
/// can be re-checked (for example after a policy change) and so tests can
/// prove that rendered output does not change when cleaned again.
pub fn sanitize_html(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

/// Text content of a Markdown document, without any markup.
///
/// Used for search indexing and for excerpts. We walk comrak's syntax tree
/// and collect only text: literal text, inline code, code blocks, and the alt
/// text of images. Raw HTML in the source (`HtmlBlock`/`HtmlInline`) is
/// dropped entirely, so `<script>…</script>` in a post adds nothing to the
/// index. URLs are left out because they are not prose. Block boundaries and
/// line breaks become spaces. Runs of whitespace are collapsed, and the result
/// is trimmed.
///
/// Walking the tree avoids the render → strip tags → decode entities round
/// trip, and any mistakes in decoding entities along the way.
///
/// The result is **plain text, not HTML**. No markup is produced, but
/// characters the author wrote as text (for example `a < b`, or an escaped
/// `\<b>`) are kept as they are. Anyone putting this into HTML must escape
/// it, as with any other text.
pub fn plain_text(src: &str) -> String {
    let options = comrak_options();
    let arena = Arena::new();
    let root = parse_document(&arena, src, &options);

    let mut raw = String::with_capacity(src.len());
    for edge in root.traverse() {
        match edge {
            NodeEdge::Start(node) => match &node.data.borrow().value {
                NodeValue::Text(text) => raw.push_str(text),
                NodeValue::Code(code) => raw.push_str(&code.literal),
                NodeValue::CodeBlock(block) => {
                    raw.push(' ');
                    raw.push_str(&block.literal);
                    raw.push(' ');
                }
                NodeValue::SoftBreak | NodeValue::LineBreak => raw.push(' '),
                // Raw HTML is not text content; it is escaped in the
                // rendered HTML and left out of search and excerpts.
                NodeValue::HtmlBlock(_) | NodeValue::HtmlInline(_) => {}
                _ => {}
            },
            NodeEdge::End(node) => {
                if node.data.borrow().value.block() {
                    raw.push(' ');
                }
            }
        }
    }
    collapse_whitespace(&raw)
}

/// comrak settings. They are built for each call because `Options` is not
/// `Sync` (it may hold a link callback), and building them costs almost
/// nothing.
fn comrak_options() -> Options<'static> {
    let mut o = Options::default();
    // GFM extensions that suit a discussion forum.
    o.extension.table = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    // Task lists would render `<input>`, which the sanitizer removes anyway;
    // they make no sense in forum posts.
    o.extension.tasklist = false;
    // The rest stays off: footnotes and header ids would create `id`s and
    // in-page links (we deny relative URLs), and front matter, math,
    // wikilinks and similar are not features of this forum.
    o.extension.footnotes = false;
    o.extension.header_ids = None;
    o.extension.front_matter_delimiter = None;
    // `tagfilter` only matters when raw HTML is passed through. It is not,
    // but turning it on costs nothing if someone flips `unsafe_` later.
    o.extension.tagfilter = true;

    // Never pass raw HTML through. `escape` shows it as the literal text the
    // author typed (rather than silently dropping it). `unsafe_ = false` also
    // keeps comrak's own check against `javascript:`/`vbscript:`/`data:` link
    // URLs.
    o.render.unsafe_ = false;
    o.render.escape = true;
    o.render.sourcepos = false;
    o.render.full_info_string = false;
    o.render.github_pre_lang = false;
    o
}

/// Turn every `Image` node into a `Link` with the same URL and title, so
/// `![alt](url)` renders as `<a href="url">alt</a>` (see the module docs for
/// why). An image with no alt text gets its URL as the link text, so the
/// link is still visible.
fn images_to_links<'a>(arena: &'a Arena<AstNode<'a>>, root: &'a AstNode<'a>) {
    let images: Vec<&'a AstNode<'a>> = root
        .descendants()
        .filter(|n| matches!(n.data.borrow().value, NodeValue::Image(_)))
        .collect();
    for node in images {
        let (link, start) = {
            let ast = node.data.borrow();
            match &ast.value {
                NodeValue::Image(link) => (link.clone(), ast.sourcepos.start),
                _ => continue,
            }
        };
        if node.first_child().is_none() && !link.url.is_empty() {
            let text = Ast::new(NodeValue::Text(link.url.clone()), start);
            node.append(arena.alloc(Node::new(RefCell::new(text))));
        }
        node.data.borrow_mut().value = NodeValue::Link(link);
    }
}

/// Collapse runs of whitespace (including newlines) into one space, and trim.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The one sanitizer used for all user content, built on first use.
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(build_sanitizer);
    &SANITIZER
}

/// Build the allow-list. It is modelled on crates.io's README sanitizer, but
/// tighter, because the input is anonymous forum posts rather than package
/// READMEs.
///
/// * Only the elements comrak makes for the features we turn on. There is no
///   `img` (see the module docs), and nothing that runs code, loads other
///   content, or changes how other HTML is parsed (`script`, `style`, `svg`,
///   `math`, `iframe`, `object`, `embed`, `form`, `input`, `base`, `meta`,
///   `link`, `template`, …).
/// * Elements whose *content* is dangerous or meaningless as text (`script`,
///   `style`, the raw-text elements, and the foreign-content roots
///   `svg`/`math`, which lie behind most mutation-XSS tricks) are dropped
///   together with their content, not just unwrapped.
/// * No generic attributes at all: no `style`, no `id`, no `class` (except a
///   checked `language-*` class on `<code>`), no `on*` handlers, no `data-*`.
///   Since no `id` is ever allowed, `id_prefix` is not needed.
/// * URL schemes limited to `http`, `https` and `mailto`. Relative URLs are
///   denied, so `<a href="">` (comrak's output for a URL it refused) and
///   scheme-less tricks lose their `href`.
/// * `rel="nofollow noopener noreferrer"` is forced onto every `<a>`.
/// * HTML comments are stripped.
fn build_sanitizer() -> ammonia::Builder<'static> {
    let tags: HashSet<&'static str> = [
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "br",
        "hr",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "del",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
    .into_iter()
    .collect();

    let clean_content_tags: HashSet<&'static str> = [
        "script",
        "style",
        "svg",
        "math",
        "iframe",
        "noscript",
        "noembed",
        "noframes",
        "template",
        "textarea",
        "title",
        "xmp",
        "plaintext",
        "object",
        "embed",
        "applet",
    ]
    .into_iter()
    .collect();

    let tag_attributes: HashMap<&'static str, HashSet<&'static str>> = [
        ("a", ["href", "title"].into_iter().collect()),
        ("ol", ["start"].into_iter().collect()),
        ("code", ["class"].into_iter().collect()),
    ]
    .into_iter()
    .collect();

    let align: HashMap<&'static str, HashSet<&'static str>> = [(
        "align",
        ["left", "center", "right"]
            .into_iter()
            .collect::<HashSet<_>>(),
    )]
    .into_iter()
    .collect();
    let tag_attribute_values: HashMap<&'static str, HashMap<&'static str, HashSet<&'static str>>> =
        [("th", align.clone()), ("td", align)].into_iter().collect();

    let mut b = ammonia::Builder::empty();
    b.tags(tags)
        .clean_content_tags(clean_content_tags)
        .tag_attributes(tag_attributes)
        .tag_attribute_values(tag_attribute_values)
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    b
}

/// Extra per-attribute checks that ammonia's allow-lists cannot express.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        // comrak writes `class="language-<info string>"`. The info string is
        // whatever the author typed after the fence, so keep only short,
        // plain language names.
        ("code", "class") => is_language_class(value).then_some(Cow::Borrowed(value)),
        // `ol start` must be a number.
        ("ol", "start") => {
            (!value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit()))
                .then_some(Cow::Borrowed(value))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

fn is_language_class(value: &str) -> bool {
    value.strip_prefix("language-").is_some_and(|lang| {
        !lang.is_empty()
            && lang.len() <= 32
            && lang
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'#' | b'.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_gets_rel_nofollow() {
        let html = render_markdown("see [the compact](https://www.un.org/gcm)");
        assert_eq!(
            html,
            "<p>see <a href=\"https://www.un.org/gcm\" rel=\"nofollow noopener noreferrer\">the compact</a></p>\n"
        );
    }

    #[test]
    fn bare_url_is_autolinked_with_rel() {
        let html = render_markdown("visit www.migrationnetwork.un.org today");
        assert!(
            html.contains("<a href=\"http://www.migrationnetwork.un.org\" rel=\"nofollow noopener noreferrer\">"),
            "{html}"
        );
    }

    #[test]
    fn mailto_link_is_kept() {
        let html = render_markdown("[write to us](mailto:hub@example.org)");
        assert!(html.contains("href=\"mailto:hub@example.org\""), "{html}");
    }

    #[test]
    fn relative_link_loses_href_but_keeps_text() {
        let html = render_markdown("[elsewhere](/admin/delete)");
        assert!(!html.contains("href"), "{html}");
        assert!(html.contains(">elsewhere</a>"), "{html}");
    }

    #[test]
    fn table_renders() {
        let md = "| Region | Reviews |\n|:-------|--------:|\n| Africa | 3 |\n";
        let html = render_markdown(md);
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<th align=\"left\">Region</th>"), "{html}");
        assert!(html.contains("<td align=\"right\">3</td>"), "{html}");
    }

    #[test]
    fn code_is_escaped() {
        let html =
            render_markdown("inline `<b>x</b>` and\n\n```html\n<script>alert(1)</script>\n```\n");
        assert!(html.contains("<code>&lt;b&gt;x&lt;/b&gt;</code>"), "{html}");
        assert!(
            html.contains("<pre><code class=\"language-html\">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn weird_code_language_class_is_dropped() {
        let html = render_markdown("```x\"onclick=alert(1)\nbody\n```\n");
        assert!(html.contains("<pre><code>body\n</code></pre>"), "{html}");
    }

    #[test]
    fn common_formatting_survives() {
        let html = render_markdown(
            "# Title\n\n*em* **strong** ~~gone~~\n\n> quote\n\n1. one\n2. two\n\n- a\n- b\n\n---\n\nline  \nbreak\n",
        );
        for needle in [
            "<h1>Title</h1>",
            "<em>em</em>",
            "<strong>strong</strong>",
            "<del>gone</del>",
            "<blockquote>",
            "<ol>",
            "<ul>",
            "<li>a</li>",
            "<hr>",
            "<br>",
        ] {
            assert!(html.contains(needle), "missing {needle} in {html}");
        }
    }

    #[test]
    fn ordered_list_start_is_kept() {
        let html = render_markdown("3. three\n4. four\n");
        assert!(html.contains("<ol start=\"3\">"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render_markdown("hello <b onclick=\"x()\">world</b>");
        assert_eq!(
            html,
            "<p>hello &lt;b onclick=\"x()\"&gt;world&lt;/b&gt;</p>\n"
        );
    }

    #[test]
    fn images_become_links() {
        let html = render_markdown("![a chart](https://example.org/c.png \"Chart\")");
        assert!(!html.contains("<img"), "{html}");
        assert_eq!(
            html,
            "<p><a href=\"https://example.org/c.png\" title=\"Chart\" rel=\"nofollow noopener noreferrer\">a chart</a></p>\n"
        );
        let html = render_markdown("![](https://example.org/c.png)");
        assert!(html.contains(">https://example.org/c.png</a>"), "{html}");
    }

    #[test]
    fn output_is_stable_under_resanitizing() {
        let html = render_markdown(
            "# T\n\n| a |\n|---|\n| [x](https://e.org) |\n\n`c` ![i](http://e.org/i)",
        );
        assert_eq!(sanitize_html(&html), html);
    }

    #[test]
    fn plain_text_strips_markup() {
        let text = plain_text(
            "# Heading\n\nSome *emphasis* and a [link](https://example.org).\n\n<script>alert(1)</script>\n\n`code` ![alt text](https://e.org/i.png)\n\n| a | b |\n|---|---|\n| c | d |\n",
        );
        assert_eq!(
            text,
            "Heading Some emphasis and a link. code alt text a b c d"
        );
        assert!(!text.contains('<'));
    }

    #[test]
    fn plain_text_decodes_entities_and_drops_inline_html() {
        let text = plain_text("caf&eacute; &amp; <span onclick=x>bar</span>");
        assert_eq!(text, "café & bar");
    }

    #[test]
    fn plain_text_of_empty_is_empty() {
        assert_eq!(plain_text(""), "");
        assert_eq!(plain_text("   \n\n  "), "");
    }
}
