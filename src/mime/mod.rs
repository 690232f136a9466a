//! `parseMessage`: a message's headers, text, HTML and MIME parts tree, on mail-parser.
//!
//! The result is data only. HTML is returned as a string for the page to show inside a
//! sandboxed frame with scripts off; nothing here interprets it.

#[cfg(feature = "mail")]
pub mod html;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// How deep the parts tree is walked (hostile messages can nest without end).
const MAX_DEPTH: usize = 32;

/// One header field, decoded for reading (RFC 2047 words decoded, folding removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderField {
    /// The field name as written.
    pub name: String,
    /// The decoded value.
    pub value: String,
}

/// One node of the MIME parts tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartInfo {
    /// Position in the tree: `1`, `1.2`, `1.2.1`, … (the root is `1`).
    pub path: String,
    /// `type/subtype`, lower case; `text/plain` when the part declares none.
    pub content_type: String,
    /// The attachment's file name, if it has one (RFC 2231 `filename*=` decoded).
    pub filename: Option<String>,
    /// The part's `Content-ID` without its angle brackets: what a `cid:` URL of the message's
    /// HTML names (RFC 2392), e.g. the picture of a `multipart/related` message.
    pub content_id: Option<String>,
    /// For an enclosed message (`message/rfc822`, e.g. a forwarded one): its Subject. Its
    /// parts follow it in the tree, one level deeper.
    pub subject: Option<String>,
    /// Decoded size of the part's body in octets (0 for a multipart container).
    pub size: u64,
}

/// One mailbox of an address field: the display name and the address, apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// The display name: free text the sender chose (a phishing message puts a bank here).
    pub name: Option<String>,
    /// The address itself (`local@domain`): where the message says it comes from.
    pub address: Option<String>,
}

/// A parsed message, for a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedMessage {
    /// The top-level header fields in order.
    pub headers: Vec<HeaderField>,
    /// The decoded Subject.
    pub subject: Option<String>,
    /// The From addresses, as `Name <addr>`.
    pub from: Option<String>,
    /// The From mailboxes, each display name and address apart (empty without a From).
    pub from_mailboxes: Vec<Mailbox>,
    /// The To addresses, as `Name <addr>, …`.
    pub to: Option<String>,
    /// The Date in RFC 3339 form.
    pub date: Option<String>,
    /// The first text body (converted from HTML if there is no text part).
    pub text: Option<String>,
    /// The first HTML body, if the message has one. Untrusted: show it sandboxed.
    pub html: Option<String>,
    /// The MIME parts tree, depth first.
    pub parts: Vec<PartInfo>,
}

/// Parses a message (CRLF or LF line ends). Never fails: bytes that are not a message give a
/// result whose `text` is the bytes, lossily decoded.
pub fn parse_message(bytes: &[u8]) -> ParsedMessage {
    let Some(message) = MessageParser::default().parse(bytes) else {
        return ParsedMessage {
            text: Some(String::from_utf8_lossy(bytes).into_owned()),
            ..Default::default()
        };
    };
    let raw = message.raw_message();
    let headers = message
        .headers()
        .iter()
        .map(|h| HeaderField {
            name: h.name.as_str().to_owned(),
            value: header_text(&h.value).unwrap_or_else(|| {
                let start = h.offset_start as usize;
                let end = h.offset_end as usize;
                unfold(raw.get(start..end).unwrap_or_default())
            }),
        })
        .collect();
    let html = message
        .html_part(0)
        .filter(|p| p.is_text_html())
        .and_then(|p| p.text_contents().map(str::to_owned));
    let mut parts = Vec::new();
    walk(&message, 0, "1".to_owned(), 0, &mut parts);
    ParsedMessage {
        headers,
        subject: message.subject().map(str::to_owned),
        from: message.from().map(addresses),
        from_mailboxes: message.from().map(mailboxes).unwrap_or_default(),
        to: message.to().map(addresses),
        date: message.date().map(|d| d.to_rfc3339()),
        text: message.body_text(0).map(|t| t.into_owned()),
        html,
        parts,
    }
}

fn walk(
    message: &mail_parser::Message<'_>,
    id: usize,
    path: String,
    depth: usize,
    out: &mut Vec<PartInfo>,
) {
    let Some(part) = message.parts.get(id) else {
        return;
    };
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        })
        .unwrap_or_else(|| "text/plain".to_owned())
        .to_ascii_lowercase();
    let enclosed = match &part.body {
        PartType::Message(inner) => Some(inner),
        _ => None,
    };
    out.push(PartInfo {
        path: path.clone(),
        content_type,
        filename: part.attachment_name().map(str::to_owned),
        content_id: part.content_id().map(str::to_owned),
        subject: enclosed.and_then(|m| m.subject()).map(str::to_owned),
        size: part.len() as u64,
    });
    if depth >= MAX_DEPTH {
        return;
    }
    match &part.body {
        PartType::Multipart(children) => {
            for (n, &child) in children.iter().enumerate() {
                let child = child as usize;
                if child > id {
                    walk(message, child, format!("{path}.{}", n + 1), depth + 1, out);
                }
            }
        }
        PartType::Message(inner) => walk(inner, 0, format!("{path}.1"), depth + 1, out),
        _ => {}
    }
}

fn header_text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(list) => Some(
            list.iter()
                .map(|t| t.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        HeaderValue::Address(a) => Some(addresses(a)),
        HeaderValue::DateTime(d) => Some(d.to_rfc3339()),
        _ => None,
    }
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (&a.name, &a.address) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (None, Some(addr)) => addr.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address
        .iter()
        .map(|a| Mailbox {
            name: a.name.as_ref().map(|n| n.to_string()),
            address: a.address.as_ref().map(|n| n.to_string()),
        })
        .collect()
}

/// A raw header value with folding removed (RFC 5322 §2.2.3).
fn unfold(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn simple_message() {
        let m = parse_message(b"Subject: hi\r\nFrom: Ann <ann@x.test>\r\nTo: b@x.test\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n");
        assert_eq!(m.subject.as_deref(), Some("hi"));
        assert_eq!(m.from.as_deref(), Some("Ann <ann@x.test>"));
        assert_eq!(m.to.as_deref(), Some("b@x.test"));
        assert_eq!(m.date.as_deref(), Some("2026-11-21T10:00:00Z"));
        assert_eq!(m.text.as_deref(), Some("hello\r\n"));
        assert_eq!(m.html, None);
        assert_eq!(m.headers.len(), 4);
        assert_eq!(m.parts.len(), 1);
        assert_eq!(m.parts[0].content_type, "text/plain");
    }

    #[test]
    fn multipart_tree_and_encoded_subject() {
        let raw = b"Subject: =?UTF-8?B?2KjYsdmI2KrZiNmD2YjZhA==?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi<script>x()</script></p>\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n";
        let m = parse_message(raw);
        assert_eq!(m.subject.as_deref(), Some("بروتوكول"));
        assert!(
            m.html.as_deref().unwrap().contains("<script>"),
            "returned as data, never run"
        );
        let paths: Vec<_> = m
            .parts
            .iter()
            .map(|p| (p.path.as_str(), p.content_type.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("1", "multipart/mixed"),
                ("1.1", "text/html"),
                ("1.2", "application/octet-stream")
            ]
        );
        assert_eq!(m.parts[2].filename.as_deref(), Some("a.bin"));
        assert_eq!(m.parts[2].size, 3);
    }

    #[test]
    fn garbage_never_panics() {
        for bytes in [
            &b""[..],
            b"\xff\xfe\x00",
            b"no headers at all",
            b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
        ] {
            let _ = parse_message(bytes);
        }
    }
}
