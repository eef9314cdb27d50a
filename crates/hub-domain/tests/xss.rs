//! XSS test of `markup::render_markdown`, using a corpus of hostile inputs.
//!
//! Every corpus entry is rendered, and the output is checked by an
//! *independent* HTML tokenizer written below. It deliberately does not use
//! ammonia or html5ever, so a bug in the sanitizer cannot hide itself. The
//! tokenizer follows the HTML tokenization rules closely enough to find every
//! start tag and attribute a browser would see in well-formed serializer
//! output, and it errs on the side of reporting a problem.

use hub_domain::markup::{render_markdown, sanitize_html, LINK_REL};

// ---------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------

/// Hostile inputs, mostly from the OWASP XSS filter evasion cheat sheet and
/// published mutation-XSS payloads, written as raw HTML, Markdown links,
/// autolinks, reference links and images.
const CORPUS: &[&str] = &[
    // --- plain script injection
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=\"https://evil.example/x.js\"></script>",
    "<<script>alert(1);//<</script>",
    "<script\n>alert(1)</script\n>",
    "text before <script>alert(1)</script> text after",
    // --- event handlers
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=\"alert(1)\">",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=`x` onerror=`alert(1)`>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<p title=\"x\" onclick='alert(1)'>click</p>",
    "<a onmouseover=alert(1)>xxs link</a>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    // --- javascript:/vbscript:/data: in raw HTML
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"jav\tascript:alert(1)\">x</a>",
    "<a href=\" &#14; javascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<img src=\"javascript:alert(1)\">",
    "<img src=\"jav&#x0A;ascript:alert(1)\">",
    // --- javascript:/vbscript:/data: in Markdown
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#x3A;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1) )",
    "[x](java\\script:alert(1))",
    "[x](javascript:alert(1) \"title\")",
    "[x](https://ok.example \"\\\" onmouseover=alert(1) x=\\\"\")",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "[x][evil]\n\n[evil]: <JAVASCRIPT:alert(1)> \"t\"",
    "[evil]\n\n[evil]: vbscript:msgbox(1)",
    "<javascript:alert(1)>",
    "<JaVaScRiPt:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "javascript:alert(1) as bare text www.example.org/\"onmouseover=alert(1)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x\" onerror=\"alert(1)](https://example.org/i.png)",
    "![x](https://example.org/i.png\" onerror=\"alert(1))",
    "[![img](javascript:alert(1))](javascript:alert(2))",
    // --- svg / math / mutation XSS
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><!--</style><img title=\"--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;\">",
    "<math><mi><mglyph><svg><mtext><textarea><path id=\"</textarea><img onerror=alert(1) src=1>\">",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "<xmp><p title=\"</xmp><img src=x onerror=alert(1)>\">",
    "<textarea><p title=\"</textarea><img src=x onerror=alert(1)>\">",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<![CDATA[<script>alert(1)</script>]]>",
    // --- embedding / navigation / document-level
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<embed src=\"https://evil.example/x.swf\">",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<style>body{background:url(\"javascript:alert(1)\")}</style>",
    "<div style=\"background-image: url(javascript:alert(1))\">x</div>",
    "<p style=\"width: expression(alert(1));\">x</p>",
    // --- parser confusion
    "<img src=\"x",
    "<a href=\"javascript:alert(1)",
    "<img src=x onerror=alert(1)//",
    "<<img src=x onerror=alert(1)>>",
    "<a href=\"https://ok.example\" title='\"><script>alert(1)</script>'>x</a>",
    "<a \"\" href=\"javascript:alert(1)\">x</a>",
    "<img src=x\0 onerror=alert(1)>",
    "<scr\0ipt>alert(1)</scr\0ipt>",
    "[x](java\0script:alert(1))",
    "<a href=\"java\0script:alert(1)\">x</a>",
    "\u{0}<script>alert(1)</script>",
    "<a href=\"&#x2028;javascript:alert(1)\">x</a>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "```\"><script>alert(1)</script>\nbody\n```",
    "`</code><img src=x onerror=alert(1)>`",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
    "* [x](javascript:alert(1))\n  <svg onload=alert(1)>",
    "**<img src=x onerror=alert(1)>**",
    "~~<a href=javascript:alert(1)>x</a>~~",
    "<a href=https://ok.example rel=opener target=_blank>x</a>",
    "[ok](https://ok.example) <a href=https://ok.example>also ok</a>",
];

// ---------------------------------------------------------------------------
// Independent checker
// ---------------------------------------------------------------------------

/// Elements that must never appear in rendered user content.
const FORBIDDEN_TAGS: &[&str] = &[
    "script",
    "svg",
    "math",
    "iframe",
    "frame",
    "frameset",
    "style",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "base",
    "meta",
    "link",
    "noscript",
    "template",
    "xmp",
    "noembed",
    "noframes",
    "plaintext",
    "title",
    "body",
    "html",
    "head",
];

/// Attributes that must never appear, whatever the element.
const FORBIDDEN_ATTRS: &[&str] = &["style", "srcdoc", "formaction", "xlink:href", "id"];

/// Attributes whose value the browser reads as a URL.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "cite",
    "longdesc",
    "dynsrc",
    "lowsrc",
    "xlink:href",
    "srcset",
];

const DANGEROUS_SCHEMES: &[&str] = &["javascript:", "vbscript:", "data:"];

#[derive(Debug)]
struct StartTag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// Tokenize `html` into start tags, following the WHATWG tokenizer states
/// for data, tag open, tag name, attribute name/value, comment and bogus
/// comment. Text and end tags are skipped (end tags cannot run code). It
/// returns an error when the input stops halfway through a tag, because a
/// browser could join that piece with whatever follows on the page.
fn start_tags(html: &str) -> Result<Vec<StartTag>, String> {
    let b: Vec<char> = html.chars().collect();
    let mut i = 0;
    let mut tags = Vec::new();
    while i < b.len() {
        if b[i] != '<' {
            i += 1;
            continue;
        }
        // `<!--` comment: skip to `-->`.
        if b[i..].starts_with(&['<', '!', '-', '-']) {
            match find(&b, i + 4, "-->") {
                Some(end) => {
                    i = end + 3;
                    continue;
                }
                None => return Err("unterminated comment".into()),
            }
        }
        // `<!…>`, `<?…>`: bogus comment up to the next `>`.
        if matches!(b.get(i + 1), Some('!') | Some('?')) {
            match find(&b, i + 1, ">") {
                Some(end) => {
                    i = end + 1;
                    continue;
                }
                None => return Err("unterminated bogus comment".into()),
            }
        }
        let (is_end, name_start) = if b.get(i + 1) == Some(&'/') {
            (true, i + 2)
        } else {
            (false, i + 1)
        };
        // A tag name must start with an ASCII letter; otherwise `<` is text.
        if !b.get(name_start).is_some_and(|c| c.is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut j = name_start;
        while j < b.len() && !is_html_space(b[j]) && b[j] != '/' && b[j] != '>' {
            j += 1;
        }
        let name: String = b[name_start..j]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase();
        let mut attrs = Vec::new();
        // Attributes.
        loop {
            while j < b.len() && (is_html_space(b[j]) || b[j] == '/') {
                j += 1;
            }
            if j >= b.len() {
                return Err(format!("unterminated tag <{name}"));
            }
            if b[j] == '>' {
                j += 1;
                break;
            }
            // Attribute name: the first character may be `=`.
            let an_start = j;
            j += 1;
            while j < b.len() && !is_html_space(b[j]) && !matches!(b[j], '/' | '>' | '=') {
                j += 1;
            }
            let aname: String = b[an_start..j]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            let mut k = j;
            while k < b.len() && is_html_space(b[k]) {
                k += 1;
            }
            let mut value = String::new();
            if k < b.len() && b[k] == '=' {
                k += 1;
                while k < b.len() && is_html_space(b[k]) {
                    k += 1;
                }
                match b.get(k) {
                    Some(&q @ ('"' | '\'')) => {
                        let close = find(&b, k + 1, &q.to_string())
                            .ok_or_else(|| format!("unterminated attribute value in <{name}"))?;
                        value = b[k + 1..close].iter().collect();
                        k = close + 1;
                    }
                    Some(_) => {
                        let vs = k;
                        while k < b.len() && !is_html_space(b[k]) && b[k] != '>' {
                            k += 1;
                        }
                        value = b[vs..k].iter().collect();
                    }
                    None => return Err(format!("unterminated tag <{name}")),
                }
                j = k;
            }
            attrs.push((aname, decode_entities(&value)));
        }
        i = j;
        if !is_end {
            tags.push(StartTag { name, attrs });
        }
    }
    Ok(tags)
}

fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0C}' | '\r')
}

fn find(b: &[char], from: usize, needle: &str) -> Option<usize> {
    let n: Vec<char> = needle.chars().collect();
    (from..b.len()).find(|&p| b[p..].starts_with(&n))
}

/// Decode character references the way a browser would in an attribute
/// value: decimal and hex, with or without `;`, plus the named references
/// that matter for URL smuggling. Unknown names are left as they are.
fn decode_entities(s: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("colon", ':'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("sol", '/'),
        ("lpar", '('),
        ("rpar", ')'),
        ("nbsp", '\u{a0}'),
        ("num", '#'),
        ("period", '.'),
        ("comma", ','),
        ("semi", ';'),
        ("equals", '='),
    ];
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] != '&' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        if c.get(i + 1) == Some(&'#') {
            let (radix, start) = match c.get(i + 2) {
                Some('x') | Some('X') => (16, i + 3),
                _ => (10, i + 2),
            };
            let mut j = start;
            while j < c.len() && c[j].is_digit(radix) {
                j += 1;
            }
            if j > start {
                let digits: String = c[start..j].iter().collect();
                let ch = u32::from_str_radix(&digits, radix)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                out.push(ch);
                i = if c.get(j) == Some(&';') { j + 1 } else { j };
                continue;
            }
        } else {
            let mut j = i + 1;
            while j < c.len() && c[j].is_ascii_alphanumeric() {
                j += 1;
            }
            let name: String = c[i + 1..j].iter().collect::<String>().to_ascii_lowercase();
            if let Some(&(_, ch)) = NAMED.iter().find(|(n, _)| *n == name) {
                out.push(ch);
                i = if c.get(j) == Some(&';') { j + 1 } else { j };
                continue;
            }
        }
        out.push('&');
        i += 1;
    }
    out
}

/// What a URL parser would see: all whitespace and control characters
/// removed (browsers drop tabs and newlines anywhere and trim C0 controls and
/// spaces), lowercased.
fn normalise_url(v: &str) -> String {
    v.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{FEFF}')
        })
        .collect::<String>()
        .to_lowercase()
}

/// Every reason `html` is unsafe as rendered user content. An empty list
/// means it passed.
fn violations(html: &str) -> Vec<String> {
    let mut v = Vec::new();
    let tags = match start_tags(html) {
        Ok(t) => t,
        Err(e) => return vec![format!("unparseable output: {e}")],
    };
    for t in &tags {
        if FORBIDDEN_TAGS.contains(&t.name.as_str()) {
            v.push(format!("forbidden element <{}>", t.name));
        }
        for (name, value) in &t.attrs {
            if name.starts_with("on") {
                v.push(format!("event handler {name} on <{}>", t.name));
            }
            if FORBIDDEN_ATTRS.contains(&name.as_str()) {
                v.push(format!("forbidden attribute {name} on <{}>", t.name));
            }
            if URL_ATTRS.contains(&name.as_str()) {
                let url = normalise_url(value);
                if DANGEROUS_SCHEMES.iter().any(|s| url.starts_with(s)) {
                    v.push(format!("dangerous URL {name}={value:?} on <{}>", t.name));
                }
            }
        }
        if t.name == "a" {
            let rels: Vec<&str> = t
                .attrs
                .iter()
                .filter(|(n, _)| n == "rel")
                .map(|(_, val)| val.as_str())
                .collect();
            if rels != [LINK_REL] {
                v.push(format!("<a> with rel {rels:?}"));
            }
            if t.attrs.iter().any(|(n, _)| n == "target") {
                v.push("<a target> (tab-nabbing)".into());
            }
        }
    }
    // Second net, independent of the tokenizer: each of these strings may
    // appear only inside a quoted attribute value (where it is inert text,
    // e.g. a link title). Serializer output escapes `<` in text, so anything
    // else means a real element, or output the tokenizer misread.
    let lower = html.to_lowercase();
    for needle in [
        "<script", "<svg", "<math", "<iframe", "<style", "<object", "<embed", "<form", "<base",
        "<meta",
    ] {
        if lower.contains(needle) && !in_attribute_only(&lower, needle) {
            v.push(format!("raw {needle} outside any attribute value"));
        }
    }
    v
}

/// True if every occurrence of `needle` in the (already lowercased) `lower`
/// lies inside a quoted attribute value. Used only by the second-net check.
fn in_attribute_only(lower: &str, needle: &str) -> bool {
    let b: Vec<char> = lower.chars().collect();
    let n: Vec<char> = needle.chars().collect();
    let mut in_tag = false;
    let mut quote: Option<char> = None;
    for p in 0..b.len() {
        let c = b[p];
        if b[p..].starts_with(&n) && quote.is_none() {
            return false;
        }
        match (in_tag, quote) {
            (_, Some(q)) if c == q => quote = None,
            (_, Some(_)) => {}
            (true, None) if c == '"' || c == '\'' => quote = Some(c),
            (true, None) if c == '>' => in_tag = false,
            (false, None) if c == '<' => in_tag = true,
            _ => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn corpus_is_large_enough() {
    assert!(
        CORPUS.len() >= 40,
        "corpus has only {} entries",
        CORPUS.len()
    );
}

#[test]
fn checker_flags_known_bad_html() {
    let bad = [
        "<a href=\"javascript:alert(1)\">x</a>",
        "<img onerror=x>",
        "<a href=\"javascript:alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"&#106avascript:alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"java&Tab;script:alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\" \u{1}JaVaScRiPt&colon;alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=vbscript:x rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href='data:text/html,x' rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"https://ok.example\">missing rel</a>",
        "<a href=\"https://ok.example\" rel=\"noopener\">wrong rel</a>",
        "<p><IMG SRC=x OnError=alert(1)></p>",
        "<img/onerror=alert(1)>",
        "<img src=x\nonerror=alert(1)>",
        "<p style=\"color:red\">x</p>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<svg/onload=alert(1)>",
        "<math>",
        "<iframe srcdoc=x></iframe>",
        "<style>x</style>",
        "<object data=x>",
        "<embed src=x>",
        "<form action=x>",
        "<base href=x>",
        "<meta http-equiv=refresh>",
        "<img src=\"x",
        "<p title=\"a\"><script>alert(1)</script>",
    ];
    for html in bad {
        assert!(
            !violations(html).is_empty(),
            "checker failed to flag {html:?}"
        );
    }
}

#[test]
fn checker_accepts_safe_html() {
    let good = [
        "<p>hello</p>\n",
        "<p><a href=\"https://ok.example\" rel=\"nofollow noopener noreferrer\">x</a></p>",
        "<p><a href=\"https://ok.example/?q=javascript:x\" rel=\"nofollow noopener noreferrer\">x</a></p>",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; a &lt; b</p>",
        "<p><a title=\"<script>\" rel=\"nofollow noopener noreferrer\">x</a></p>",
        "<pre><code class=\"language-html\">&lt;svg onload=x&gt;</code></pre>",
    ];
    for html in good {
        assert_eq!(
            violations(html),
            Vec::<String>::new(),
            "false positive on {html:?}"
        );
    }
}

#[test]
fn rendered_corpus_contains_no_executable_markup() {
    let mut failures = Vec::new();
    for (n, input) in CORPUS.iter().enumerate() {
        let out = render_markdown(input);
        let v = violations(&out);
        if !v.is_empty() {
            failures.push(format!("#{n} {input:?}\n  -> {out:?}\n  {v:?}"));
        }
        // Image policy: never emitted, see markup.rs.
        if out.to_lowercase().contains("<img") {
            failures.push(format!("#{n} {input:?}\n  -> {out:?}\n  contains <img"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sanitizer_alone_handles_raw_corpus() {
    // `sanitize_html` is public; it must be safe on raw HTML too, not only
    // on comrak's (already escaped) output.
    let mut failures = Vec::new();
    for (n, input) in CORPUS.iter().enumerate() {
        let out = sanitize_html(input);
        let v = violations(&out);
        if !v.is_empty() {
            failures.push(format!("#{n} {input:?}\n  -> {out:?}\n  {v:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendered_output_is_stable_under_resanitizing() {
    let mut failures = Vec::new();
    for (n, input) in CORPUS.iter().enumerate() {
        let once = render_markdown(input);
        let twice = sanitize_html(&once);
        if once != twice {
            failures.push(format!(
                "#{n} {input:?}\n  once:  {once:?}\n  twice: {twice:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_link_text_stays_but_link_target_goes() {
    let out = render_markdown("[click me](javascript:alert(1))");
    assert!(out.contains("click me"), "{out}");
    assert!(!out.to_lowercase().contains("javascript"), "{out}");
}

#[test]
fn checker_flags_unsanitized_rendering_of_corpus() {
    // Render the corpus the *unsafe* way (raw HTML passed through, no
    // sanitizer) and make sure the checker objects to most of it. This shows
    // the checker catches real payloads, not only the hand-written
    // examples above.
    let mut options = comrak::Options::default();
    options.render.unsafe_ = true;
    options.extension.autolink = true;
    let flagged = CORPUS
        .iter()
        .filter(|input| !violations(&comrak::markdown_to_html(input, &options)).is_empty())
        .count();
    assert!(
        flagged >= CORPUS.len() * 2 / 3,
        "checker flagged only {flagged} of {} unsanitized renderings",
        CORPUS.len()
    );
}
