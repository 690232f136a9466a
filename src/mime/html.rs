//! `inertHtml`: a message's HTML made inert for the page's sandboxed frame (feature `mail`).
//!
//! The page never parses a message's markup itself: a document it parsed (even with
//! `DOMParser`, which runs nothing) would inherit the page's Content Security Policy, and the
//! browser checks hostile handlers against it while parsing. Here the HTML is parsed by
//! html5ever and cleaned by [ammonia] with an allow-list policy:
//!
//! - only formatting elements stay (ammonia's default list); scripts, styles sheets, frames,
//!   objects, forms and their controls, `<base>`, `<link>` and `<meta>` are removed;
//! - only `lang`, `title`, `dir` and `style` attributes stay on every element, and a few
//!   layout attributes on tables and images; every `on…` handler is removed;
//! - the only URL that survives is an image's `data:image/…` source; links lose their
//!   target (the frame could follow it); a `cid:` picture (one of the message's own parts,
//!   RFC 2392) is not resolved either: it is counted apart, as [`Removed::inline`];
//! - `style` attributes keep only properties that cannot load anything (no `url()`).
//!
//! A second, tokenizer-only pass counts what was removed, so the student can be told. The
//! result is a whole document for `<iframe sandbox="" srcdoc=…>` whose first element is a
//! strict CSP meta ([`FRAME_CSP`]): even a mistake here could neither run nor load anything.

use std::cell::RefCell;
use std::collections::HashSet;

use html5ever::buffer_queue::BufferQueue;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use serde::Serialize;

/// The policy of the frame that shows a message's HTML: nothing loads but inline styles and
/// `data:` images.
pub const FRAME_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// CSS properties a `style` attribute keeps: none of them takes a URL.
const SAFE_STYLE_PROPERTIES: &[&str] = &[
    "background-color",
    "border",
    "border-bottom",
    "border-collapse",
    "border-color",
    "border-left",
    "border-radius",
    "border-right",
    "border-spacing",
    "border-style",
    "border-top",
    "border-width",
    "color",
    "direction",
    "display",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-variant",
    "font-weight",
    "height",
    "letter-spacing",
    "line-height",
    "list-style-type",
    "margin",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "margin-top",
    "max-width",
    "min-width",
    "padding",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "padding-top",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "unicode-bidi",
    "vertical-align",
    "white-space",
    "width",
    "word-spacing",
];

/// Elements whose content is dropped with them (not shown as text).
const DROPPED_WITH_CONTENT: &[&str] = &["script", "style", "title", "template", "noscript"];

/// Elements that would load something or open a browsing context.
const REMOTE_ELEMENTS: &[&str] = &[
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "portal", "audio",
    "video", "source", "track",
];

/// Attributes that hold a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "src",
    "href",
    "action",
    "formaction",
    "background",
    "poster",
    "srcset",
    "data",
    "xlink:href",
    "ping",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "manifest",
    "codebase",
    "usemap",
    "imagesrcset",
];

/// What was removed from a message's HTML, by kind (what the page lists for the student).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// `<script>` elements and `javascript:` / `vbscript:` URLs.
    pub scripts: u32,
    /// `on…` event handler attributes.
    pub handlers: u32,
    /// References that would load something: remote images, frames, objects, style sheets
    /// links, CSS `url()`s.
    pub remote: u32,
    /// `<style>` sheets (their rules are not applied).
    pub styles: u32,
    /// Forms (nothing can be submitted).
    pub forms: u32,
    /// Link targets (the text stays, the link does not go anywhere).
    pub links: u32,
    /// References to the message's own parts (`cid:` and `mid:` URLs, RFC 2392), such as the
    /// picture of a `multipart/related` message: not resolved (the frame loads nothing); the
    /// part itself is in the parts tree.
    pub inline: u32,
}

/// A message's HTML, inert: a whole document for a sandboxed `srcdoc` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InertHtml {
    /// The document: doctype, the [`FRAME_CSP`] meta first in `<head>`, the cleaned body.
    pub doc: String,
    /// What was removed, by kind.
    pub removed: Removed,
}

/// Cleans a message's HTML for display (see the module docs for the policy).
pub fn inert_html(html: &str) -> InertHtml {
    let scan = scan(html);
    let mut builder = ammonia::Builder::default();
    builder
        .add_generic_attributes(["dir", "style"])
        .rm_tag_attributes("a", ["href", "hreflang"])
        .rm_tag_attributes("area", ["href"])
        .link_rel(None)
        .url_schemes(HashSet::from(["data"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .add_clean_content_tags(
            DROPPED_WITH_CONTENT
                .iter()
                .filter(|t| !matches!(**t, "script" | "style")),
        )
        .filter_style_properties(SAFE_STYLE_PROPERTIES.iter().copied().collect())
        .attribute_filter(|element, attribute, value| {
            let keep = match attribute {
                "src" => element == "img" && is_data_image(value),
                "cite" | "longdesc" | "usemap" => false,
                _ => true,
            };
            keep.then(|| value.into())
        });
    let body = builder.clean(html).to_string();

    let mut html_attrs = String::new();
    if let Some(lang) = &scan.lang {
        html_attrs.push_str(&format!(" lang=\"{lang}\""));
    }
    if let Some(dir) = scan.dir {
        html_attrs.push_str(&format!(" dir=\"{dir}\""));
    }
    let doc = format!(
        "<!doctype html>\n<html{html_attrs}><head>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{FRAME_CSP}\">\
         <meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
         </head><body>{body}</body></html>"
    );
    InertHtml {
        doc,
        removed: scan.removed,
    }
}

/// Whether a URL is an inline image (`data:image/…`), the one kind the frame's CSP allows.
fn is_data_image(value: &str) -> bool {
    let v: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .take(11)
        .collect();
    v.eq_ignore_ascii_case("data:image/")
}

/// What a token pass over the original HTML found.
#[derive(Debug, Default)]
struct Scan {
    removed: Removed,
    /// `dir` of the `<html>` or `<body>` element, if it is `ltr`, `rtl` or `auto`.
    dir: Option<&'static str>,
    /// `lang` of the `<html>` or `<body>` element, if it is a plausible language tag.
    lang: Option<String>,
}

/// Counts what the cleaning removes, and reads the document's direction and language.
fn scan(html: &str) -> Scan {
    let sink = Counter::default();
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(sink, Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.scan.take()
}

/// The token sink of [`scan`].
#[derive(Default)]
struct Counter {
    scan: RefCell<Scan>,
    /// Inside a `<style>` element: its text so far, looked at for `url()` at its end.
    style: RefCell<Option<String>>,
}

impl Counter {
    fn start_tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        let mut scan = self.scan.borrow_mut();
        let removed = &mut scan.removed;
        match name {
            "script" => removed.scripts += 1,
            "style" => removed.styles += 1,
            "form" => removed.forms += 1,
            n if REMOTE_ELEMENTS.contains(&n) => removed.remote += 1,
            _ => {}
        }
        for attr in &tag.attrs {
            let attr_name = &*attr.name.local;
            let raw = &*attr.value;
            let value: String = raw
                .trim()
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                .collect::<String>()
                .to_ascii_lowercase();
            if attr_name.starts_with("on") {
                removed.handlers += 1;
            } else if attr_name == "style" {
                if css_loads(raw) {
                    removed.remote += 1;
                }
            } else if URL_ATTRIBUTES.contains(&attr_name) {
                if value.starts_with("javascript:") || value.starts_with("vbscript:") {
                    removed.scripts += 1;
                } else if value.is_empty()
                    || (attr_name == "href" && value.starts_with('#'))
                    || (attr_name == "src" && name == "img" && is_data_image(raw))
                    || matches!(attr_name, "action" | "formaction")
                {
                    // harmless, allowed, or counted with its form
                } else if attr_name == "href" && name == "a" {
                    removed.links += 1;
                } else if value.starts_with("cid:") || value.starts_with("mid:") {
                    removed.inline += 1;
                } else if !REMOTE_ELEMENTS.contains(&name) {
                    removed.remote += 1;
                }
            }
        }
        if matches!(name, "html" | "body") {
            for attr in &tag.attrs {
                match &*attr.name.local {
                    "dir" if scan.dir.is_none() => {
                        scan.dir = match attr.value.trim().to_ascii_lowercase().as_str() {
                            "rtl" => Some("rtl"),
                            "ltr" => Some("ltr"),
                            "auto" => Some("auto"),
                            _ => None,
                        };
                    }
                    "lang" if scan.lang.is_none() => {
                        let lang = attr.value.trim();
                        if (1..=35).contains(&lang.len())
                            && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        {
                            scan.lang = Some(lang.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        }
        // The tokenizer alone does not know which elements hold raw text: tell it, as the
        // tree builder would, so markup inside a script or a style is not counted.
        match name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" => {
                *self.style.borrow_mut() = Some(String::new());
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "xmp" | "iframe" | "noembed" | "noframes" => TokenSinkResult::RawData(RawKind::Rawtext),
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

impl TokenSink for Counter {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => self.start_tag(&tag),
            Token::TagToken(_) | Token::EOFToken => {
                if let Some(css) = self.style.borrow_mut().take() {
                    if css_loads(&css) {
                        self.scan.borrow_mut().removed.remote += 1;
                    }
                }
                TokenSinkResult::Continue
            }
            Token::CharacterTokens(text) => {
                if let Some(css) = self.style.borrow_mut().as_mut() {
                    css.push_str(&text);
                }
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Whether CSS text would load something: an `@import`, or a `url()` that is not an inline
/// image.
fn css_loads(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") {
        return true;
    }
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("url(") {
        let after = rest[at + 4..].trim_start_matches([' ', '\t', '\n', '\r', '"', '\'']);
        if !after.starts_with("data:image/") {
            return true;
        }
        rest = &rest[at + 4..];
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A start tag's name and its attributes.
    type StartTag = (String, Vec<(String, String)>);

    /// Every start tag and attribute of a cleaned document, read back with html5ever.
    fn tags_of(doc: &str) -> Vec<StartTag> {
        #[derive(Default)]
        struct Collect(RefCell<Vec<StartTag>>);
        impl TokenSink for Collect {
            type Handle = ();
            fn process_token(&self, token: Token, _: u64) -> TokenSinkResult<()> {
                if let Token::TagToken(tag) = token {
                    if tag.kind == TagKind::StartTag {
                        let attrs = tag
                            .attrs
                            .iter()
                            .map(|a| (a.name.local.to_string(), a.value.to_string()))
                            .collect();
                        self.0.borrow_mut().push((tag.name.to_string(), attrs));
                    }
                }
                TokenSinkResult::Continue
            }
        }
        let input = BufferQueue::default();
        input.push_back(StrTendril::from_slice(doc));
        let tokenizer = Tokenizer::new(Collect::default(), Default::default());
        let _ = tokenizer.feed(&input);
        tokenizer.end();
        tokenizer.sink.0.take()
    }

    /// The invariant: nothing in the output can run or load.
    fn assert_inert(doc: &str) {
        for (name, attrs) in tags_of(doc) {
            assert!(
                !matches!(
                    name.as_str(),
                    "script"
                        | "style"
                        | "iframe"
                        | "frame"
                        | "object"
                        | "embed"
                        | "link"
                        | "base"
                        | "form"
                        | "svg"
                        | "math"
                        | "input"
                        | "button"
                ),
                "element <{name}> left in {doc}"
            );
            if name == "meta" {
                continue;
            }
            for (attr, value) in attrs {
                assert!(!attr.starts_with("on"), "handler {attr} left in {doc}");
                assert!(
                    !matches!(attr.as_str(), "href" | "action" | "formaction" | "srcset"),
                    "URL attribute {attr} left in {doc}"
                );
                if attr == "src" {
                    assert!(value.starts_with("data:image/"), "src {value} left");
                }
                if attr == "style" {
                    assert!(
                        !value.to_ascii_lowercase().contains("url"),
                        "url() left: {value}"
                    );
                }
            }
        }
        let head = doc.find("<head>").unwrap();
        assert!(
            doc[head..].starts_with(&format!(
                "<head><meta http-equiv=\"Content-Security-Policy\" content=\"{FRAME_CSP}\">"
            )),
            "the CSP comes first: {doc}"
        );
    }

    const HOSTILE: &str = r#"<html><head>
<meta http-equiv="refresh" content="0;url=https://tracker.example/refresh">
<base href="https://tracker.example/">
<link rel="stylesheet" href="https://tracker.example/style.css">
<style>@import url(https://tracker.example/import.css); body { background: url(https://tracker.example/bg.png) }</style>
<title>the title</title>
</head><body>
<script>parent.__popwirePwned = 'script'; alert('pwned')</script>
<img src="https://tracker.example/pixel.gif" onerror="parent.__popwirePwned='onerror'" alt="">
<img src="x" onerror="alert(2)">
<svg onload="parent.__popwirePwned='svg'"><circle r="5"/></svg>
<iframe src="javascript:parent.__popwirePwned='iframe'"></iframe>
<object data="https://tracker.example/x.swf"></object>
<a id="js" href="javascript:parent.__popwirePwned='link'">click me</a>
<a href="https://tracker.example/landing">a link</a>
<form action="https://tracker.example/collect"><input name="p"><button id="go" onclick="x()">send</button></form>
<p style="background-image: url('https://tracker.example/p.png'); color: red">styled</p>
<p>Plain <b>bold</b> text.</p>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">
</body></html>"#;

    #[test]
    fn hostile_html_is_inert_and_counted() {
        let out = inert_html(HOSTILE);
        assert_inert(&out.doc);
        assert!(!out.doc.contains("tracker.example"), "{}", out.doc);
        assert!(!out.doc.contains("pwned"), "{}", out.doc);
        assert!(
            !out.doc.contains("the title"),
            "the head's title is not body text"
        );
        assert!(
            out.doc.contains("<b>bold</b>"),
            "formatting stays: {}",
            out.doc
        );
        assert!(
            out.doc.contains("color:red"),
            "a safe style property stays: {}",
            out.doc
        );
        assert!(out
            .doc
            .contains("src=\"data:image/png;base64,iVBORw0KGgo=\""));
        assert!(
            out.doc.contains("click me") && out.doc.contains("a link"),
            "link text stays"
        );
        assert_eq!(
            out.removed,
            Removed {
                scripts: 3,  // the <script>, the iframe's and a link's javascript: URLs
                handlers: 4, // two onerror, onload, onclick
                remote: 8,   // base, link, the @import sheet, two img src, iframe, object, url()
                styles: 1,
                forms: 1,
                links: 1,
                inline: 0,
            }
        );
    }

    /// A `cid:` picture (multipart/related) is not resolved: the source goes, the picture's
    /// other attributes stay, and it is counted as the message's own part, not as remote.
    #[test]
    fn cid_pictures_are_not_resolved_and_counted_apart() {
        let out = inert_html(
            r#"<p><img src="cid:logo@x.test" alt="logo" width="16"><img src=" CID:b@x.test"><a href="cid:c@x.test">c</a></p>"#,
        );
        assert_inert(&out.doc);
        assert!(
            !out.doc.to_ascii_lowercase().contains("cid:"),
            "{}",
            out.doc
        );
        assert!(out.doc.contains(r#"alt="logo""#), "{}", out.doc);
        assert_eq!(
            out.removed,
            Removed {
                inline: 2,
                links: 1,
                ..Removed::default()
            }
        );
    }

    #[test]
    fn mutation_xss_classics_stay_inert() {
        for html in [
            r#"<svg><style><img src=x onerror=alert(1)></style></svg>"#,
            r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>"#,
            r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"#,
            r#"<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"#,
            r#"<a href="&#106;avascript:alert(1)">x</a><a href="java&#x09;script:alert(1)">y</a>"#,
            r#"<img src="data:text/html,<script>alert(1)</script>">"#,
            r#"<p style="width: expression(alert(1)); background: u\rl(https://t.example/)">x</p>"#,
            r#"<template><img src=x onerror=alert(1)></template><textarea><img src=x onerror=1></textarea>"#,
            "<scr<script>ipt>alert(1)</script>",
            "<!--<img src=x onerror=alert(1)>-->",
            "<plaintext><img src=x onerror=alert(1)>",
        ] {
            let out = inert_html(html);
            assert_inert(&out.doc);
        }
    }

    #[test]
    fn direction_and_language_of_the_mail_are_kept() {
        let out = inert_html(r#"<html dir="RTL" lang="ar"><body><p>مرحبا</p></body></html>"#);
        assert!(out
            .doc
            .starts_with("<!doctype html>\n<html lang=\"ar\" dir=\"rtl\"><head>"));
        assert!(out.doc.contains("<p>مرحبا</p>"));
        let hostile = inert_html(r#"<html dir="rtl&quot; onload=&quot;x" lang="a&quot;b">x"#);
        assert!(
            hostile.doc.starts_with("<!doctype html>\n<html><head>"),
            "{}",
            hostile.doc
        );
        let inner = inert_html(r#"<p dir="rtl" lang="fa">سلام</p>"#);
        assert!(
            inner.doc.contains(r#"<p dir="rtl" lang="fa">سلام</p>"#),
            "{}",
            inner.doc
        );
    }

    #[test]
    fn plain_html_reports_nothing_removed() {
        let out = inert_html(
            "<p>Hello <i>there</i></p><table><tr><td align=\"left\">1</td></tr></table>",
        );
        assert_eq!(out.removed, Removed::default());
        assert!(out.doc.contains("<td align=\"left\">1</td>"), "{}", out.doc);
    }

    #[test]
    fn markup_inside_scripts_and_styles_is_not_counted() {
        let out = inert_html("<script>document.write('<img src=x onerror=1>')</script>");
        assert_eq!(
            out.removed,
            Removed {
                scripts: 1,
                ..Removed::default()
            }
        );
        let out = inert_html("<style>p { color: red }</style><p>x</p>");
        assert_eq!(
            out.removed,
            Removed {
                styles: 1,
                ..Removed::default()
            }
        );
    }
}
