//! The teaching server's sample messages: each one parses and teaches what it claims to, and
//! (with the `server` feature) the teaching server serves each byte for byte, LIST's size being
//! exactly what RETR sends.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use popwire::codec::{stuff_body, BodyDecoder};
use popwire::mime::{parse_message, Mailbox, ParsedMessage};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/samples");

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{DIR}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every sample's file name, in the order a maildrop lists them (file-name order).
fn all() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

/// A sample as RETR sends it: a CRLF-only file whose last line has no line end gains a CRLF
/// (`popwire::server::to_sent_form`, checked to agree below).
fn sent(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The octets after the header's empty line.
fn body(bytes: &[u8]) -> &[u8] {
    let at = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header and a body");
    &bytes[at + 4..]
}

fn parsed(name: &str) -> ParsedMessage {
    parse_message(&sample(name))
}

fn is_arabic_letter(c: char) -> bool {
    ('\u{0600}'..='\u{06FF}').contains(&c)
}

#[test]
fn every_sample_is_crlf_only_and_survives_stuffing() {
    for name in &all() {
        let bytes = sample(name);
        assert!(
            !bytes.replace_crlf().contains(&b'\n'),
            "{name} has a bare LF"
        );
        assert!(
            !bytes.replace_crlf().contains(&b'\r'),
            "{name} has a lone CR"
        );
        let mut wire = Vec::new();
        stuff_body(&bytes, &mut wire);
        assert!(wire.ends_with(b"\r\n.\r\n"), "{name}: CRLF before the dot");
        let mut out = Vec::new();
        let progress = BodyDecoder::new(u64::MAX).decode(&wire, &mut out);
        assert!(progress.finished, "{name}");
        assert_eq!(out, sent(&bytes), "{name}");
        assert!(
            parse_message(&bytes).subject.is_some(),
            "{name} has a subject"
        );
    }
}

#[test]
fn samples_teach_what_they_say() {
    assert!(
        sample("02-dot-stuffing.eml")
            .windows(3)
            .any(|w| w == b"\n.\r"),
        "a line that is only a dot"
    );
    let attachment = parsed("03-attachment.eml");
    assert!(attachment
        .parts
        .iter()
        .any(|p| p.filename.as_deref() == Some("popwire-logo.png")));
    let html = parsed("04-html-with-script.eml");
    assert!(html.html.unwrap().contains("<script>"));
    let arabic = parsed("05-arabic.eml");
    assert!(arabic.subject.unwrap().contains("بروتوكول مكتب البريد"));
    let persian = parsed("06-persian.eml");
    assert!(persian.subject.unwrap().contains("پروتکل"));
    assert!(persian.text.unwrap().contains("UIDL"));
    let large = sample("07-large.eml");
    assert!((1_000_000..1_100_000).contains(&large.len()));
    let long = sample("08-long-headers.eml");
    assert!(
        long.split(|&b| b == b'\n').any(|line| line.len() > 512),
        "a header line longer than a status line"
    );
}

/// 09: one body line over RFC 5322's 998 octets, a ruler whose marks are where they say.
#[test]
fn a_body_line_longer_than_998_octets() {
    let bytes = sample("09-long-line.eml");
    let lines: Vec<&[u8]> = body(&bytes).split(|&b| b == b'\n').collect();
    let long: Vec<&[u8]> = lines
        .iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| l.len() > 998)
        .collect();
    assert_eq!(long.len(), 1, "one over-long line");
    let line = long[0];
    assert_eq!(line.len(), 1500);
    assert_eq!(
        lines.iter().position(|l| l.len() > 998),
        Some(4),
        "TOP 9 5 reaches it"
    );
    for n in [100, 500, 900, 1100, 1500] {
        let mark = format!("[{n}]");
        assert!(
            line[..n].ends_with(mark.as_bytes()),
            "{mark} ends at octet {n}"
        );
    }
    assert!(line[..998].ends_with(b"[998: RFC 5322's limit]"));
    let text = parse_message(&bytes).text.unwrap();
    assert!(
        text.lines().any(|l| l.len() == 1500),
        "the parser keeps it whole"
    );
}

/// 10: the file's last line has no CRLF; the sent form gains exactly one.
#[test]
fn the_last_line_without_crlf() {
    let bytes = sample("10-no-final-crlf.eml");
    assert!(!bytes.ends_with(b"\n") && bytes.ends_with(b"no CRLF follows it."));
    assert_eq!(sent(&bytes).len(), bytes.len() + 2);
    assert!(sent(&bytes).ends_with(b"follows it.\r\n"));
}

/// 11: raw UTF-8 in the header (RFC 6532), no encoded word anywhere in it.
#[test]
fn raw_utf8_headers() {
    let bytes = sample("11-utf8-headers.eml");
    let head = &bytes[..bytes.len() - body(&bytes).len()];
    assert!(!head.is_ascii(), "8-bit octets in the header");
    assert!(
        !head.windows(2).any(|w| w == b"=?"),
        "no RFC 2047 encoded word"
    );
    assert!(std::str::from_utf8(head).is_ok());
    let m = parse_message(&bytes);
    assert_eq!(
        m.subject.as_deref(),
        Some("سرآیندهای UTF-8 خام و دستور UTF8 در پروتکل POP3")
    );
    assert_eq!(
        m.from_mailboxes,
        [Mailbox {
            name: Some("آموزش POP3".into()),
            address: Some("lessons-fa@popwire.test".into()),
        }]
    );
    assert!(m.text.unwrap().contains("RFC 6856"));
}

/// 12 and 13: the same windows-1256 octets, decoded to Arabic under their right label and to
/// mojibake under `iso-8859-1`.
#[test]
fn windows_1256_labelled_right_and_wrong() {
    let right = sample("12-windows-1256.eml");
    let wrong = sample("13-windows-1256-mislabelled.eml");
    assert_eq!(body(&right), body(&wrong), "the same body octets");
    // مرحبًا in windows-1256: one octet a letter (and the tanween), not UTF-8.
    assert!(body(&right).starts_with(b"\xe3\xd1\xcd\xc8\xf0\xc7!"));
    assert!(std::str::from_utf8(body(&right)).is_err());

    let good = parse_message(&right);
    let text = good.text.unwrap();
    assert!(text.starts_with("مرحبًا!"), "{text}");
    assert!(text.contains("مع التحية، معلّم مكتب البريد"));
    assert_eq!(
        good.subject.as_deref(),
        Some("ترميز قديم: رسالة بترميز windows-1256 بتسمية صحيحة"),
        "an RFC 2047 word in windows-1256"
    );
    assert_eq!(
        good.from_mailboxes[0].name.as_deref(),
        Some("معلّم مكتب البريد")
    );

    let bad = parse_message(&wrong);
    let mojibake = bad.text.unwrap();
    assert!(mojibake.starts_with("ãÑÍÈðÇ!"), "{mojibake}");
    assert!(
        !mojibake.chars().any(is_arabic_letter),
        "not one Arabic letter: {mojibake}"
    );
    assert!(
        mojibake.contains("windows-1256"),
        "ASCII survives any label"
    );
    assert!(bad.subject.unwrap().starts_with("تسمية خاطئة"));
}

/// 14: an RFC 2231 file name, percent-encoded UTF-8, decoded to Persian (with its ZWNJ).
#[test]
fn an_rfc_2231_persian_file_name() {
    let bytes = sample("14-rfc2231-filename.eml");
    assert!(String::from_utf8_lossy(&bytes)
        .contains("filename*=UTF-8''%D8%AA%D9%85%D8%B1%DB%8C%D9%86%E2%80%8C"));
    let m = parse_message(&bytes);
    let part = m
        .parts
        .iter()
        .find(|p| p.filename.is_some())
        .expect("the attachment");
    assert_eq!(part.filename.as_deref(), Some("تمرین\u{200c}های POP3.txt"));
    assert_eq!(part.path, "1.2");
    assert!(m.text.unwrap().contains("RFC 2231"));
}

/// 15: multipart/related: the HTML's `cid:` picture is a part with that Content-ID.
#[test]
fn a_cid_picture_in_multipart_related() {
    let m = parsed("15-related-cid.eml");
    let types: Vec<(&str, &str)> = m
        .parts
        .iter()
        .map(|p| (p.path.as_str(), p.content_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("1", "multipart/alternative"),
            ("1.1", "text/plain"),
            ("1.2", "multipart/related"),
            ("1.2.1", "text/html"),
            ("1.2.2", "image/png"),
        ]
    );
    assert_eq!(
        m.parts[4].content_id.as_deref(),
        Some("logo.15@popwire.test")
    );
    assert!(m
        .html
        .unwrap()
        .contains(r#"<img src="cid:logo.15@popwire.test""#));
}

/// 15, made inert: the `cid:` source is not resolved (nothing can load), and the student is
/// told it was a reference to the message's own part, not a remote one.
#[cfg(feature = "mail")]
#[test]
fn the_cid_picture_is_never_fetched() {
    use popwire::mime::html::{inert_html, Removed, FRAME_CSP};
    let out = inert_html(&parsed("15-related-cid.eml").html.unwrap());
    assert_eq!(
        out.removed,
        Removed {
            inline: 1,
            ..Removed::default()
        }
    );
    assert!(out.doc.contains(FRAME_CSP));
    // Markup in the text is escaped (`&lt;img`): every `<img` is a real element.
    let imgs: Vec<&str> = out
        .doc
        .match_indices("<img")
        .map(|(at, _)| &out.doc[at..at + out.doc[at..].find('>').unwrap()])
        .collect();
    assert_eq!(
        imgs,
        [r#"<img alt="the popwire logo" width="16" height="16""#]
    );
    assert!(!out.doc.contains("<script"));
}

/// 16: a forwarded message: a message/rfc822 part, its Subject and its own parts in the tree.
#[test]
fn a_forwarded_message() {
    let m = parsed("16-forwarded.eml");
    assert_eq!(m.subject.as_deref(), Some("Fwd: Lab 3 moves to Thursday"));
    assert!(m.text.unwrap().starts_with("Hi! You were not on the list"));
    let tree: Vec<(&str, &str, Option<&str>)> = m
        .parts
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.content_type.as_str(),
                p.subject.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        tree,
        [
            ("1", "multipart/mixed", None),
            ("1.1", "text/plain", None),
            ("1.2", "message/rfc822", Some("Lab 3 moves to Thursday")),
            ("1.2.1", "text/plain", None),
        ]
    );
    assert!(m.parts[3].size > 0);
}

/// 17: a header and nothing after its empty line.
#[test]
fn an_empty_body() {
    let bytes = sample("17-empty-body.eml");
    assert!(bytes.ends_with(b"\r\n\r\n") && body(&bytes).is_empty());
    let m = parse_message(&bytes);
    assert_eq!(m.text.as_deref(), Some(""));
    assert_eq!(m.parts.len(), 1);
    assert_eq!(m.parts[0].size, 0);
    assert!(m
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("Comments") && h.value.contains("the body is empty")));
}

/// 18 and 19: one Message-ID, two different copies.
#[test]
fn two_copies_with_one_message_id() {
    let id = |name: &str| {
        parsed(name)
            .headers
            .into_iter()
            .find(|h| h.name.eq_ignore_ascii_case("Message-ID"))
            .unwrap()
            .value
    };
    assert!(id("18-same-message-id.eml")
        .contains("omid-uidl-question.20261118T091000@lab.popwire.test"));
    assert_eq!(
        id("18-same-message-id.eml"),
        id("19-same-message-id-list.eml")
    );
    assert_ne!(
        sample("18-same-message-id.eml"),
        sample("19-same-message-id-list.eml")
    );
    let list = parsed("19-same-message-id-list.eml");
    assert!(list.subject.unwrap().starts_with("[pop3-class] "));
    assert!(list
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("List-Id")));
}

/// 20: the display name claims the bank (even its address); the address is elsewhere.
#[test]
fn a_spoofed_display_name() {
    let m = parsed("20-spoofed-display-name.eml");
    assert_eq!(
        m.from_mailboxes,
        [Mailbox {
            name: Some("popwire Bank Security <security@bank.popwire.test>".into()),
            address: Some("alert@secure-login-verify.example".into()),
        }]
    );
    let address = m.from_mailboxes[0].address.as_deref().unwrap();
    assert!(!address.ends_with("bank.popwire.test"));
}

/// 01 states the fresh maildrop's STAT, its own size and what every other sample teaches.
#[test]
fn the_welcome_message_counts_the_samples() {
    let names = all();
    let sizes: Vec<usize> = names.iter().map(|n| sent(&sample(n)).len()).collect();
    let (count, total, own) = (names.len(), sizes.iter().sum::<usize>(), sizes[0]);
    let welcome = String::from_utf8(sample("01-welcome.eml")).unwrap();
    for line in [
        format!("ready: {count} messages ({total} octets)"),
        format!("S: +OK {count} {total}\r\n"),
        format!("S: +OK {count} messages ({total} octets)\r\n"),
        format!("S: 1 {own}\r\n"),
        format!("S: 2 {}\r\n", sizes[1]),
        format!("S: +OK {own} octets\r\n"),
        format!("(1 deleted, {} left)", count - 1),
    ] {
        assert!(welcome.contains(&line), "01-welcome.eml says {line:?}");
    }
    let list = &welcome[welcome
        .find("What the other sample messages teach")
        .unwrap()..];
    for n in 2..=count {
        assert!(
            list.contains(&format!("\n{n:>3}  ")) || list.contains(&format!("(with {n})")),
            "the welcome message lists sample {n}"
        );
    }
}

/// The teaching server with the real store: every sample comes back from RETR byte for byte
/// in its sent form, LIST's size is what RETR sends, TOP and UIDL do what the samples say.
#[cfg(feature = "server")]
mod served {
    use super::*;
    use popwire::client::Reply;
    use popwire::server::{
        to_sent_form, MemoryConfig, MemoryStore, ServerConfig, ServerSession, SAMPLES,
    };
    use popwire::{Client, ClientConfig, CommandHandle, Event};

    /// The engine's client and the teaching server back to back.
    struct Wire {
        client: Client,
        server: ServerSession,
        store: MemoryStore,
        now: u64,
        events: Vec<Event>,
    }

    impl Wire {
        fn logged_in() -> Wire {
            let mut w = Wire {
                client: Client::new(ClientConfig::default(), 0),
                server: ServerSession::new(ServerConfig::default(), 0, "1.2"),
                store: MemoryStore::new(MemoryConfig::default()),
                now: 0,
                events: Vec::new(),
            };
            w.run();
            let user = w.client.user("student").unwrap();
            w.ask(user);
            let pass = w.client.pass("pop3").unwrap();
            w.ask(pass);
            w
        }

        fn run(&mut self) {
            loop {
                let mut moved = false;
                while let Some(bytes) = self.server.poll_transmit(self.now, &self.store) {
                    self.now += 1;
                    self.client.feed(self.now, &bytes);
                    moved = true;
                }
                while let Some(e) = self.client.poll_event() {
                    self.events.push(e);
                }
                if let Some(bytes) = self.client.poll_transmit(self.now) {
                    self.server.feed(self.now, &bytes);
                    moved = true;
                }
                if !moved {
                    break;
                }
            }
        }

        fn ask(&mut self, h: CommandHandle) -> Reply {
            self.run();
            self.events
                .iter()
                .find_map(|e| match e {
                    Event::Completed { handle, result } if *handle == h => {
                        Some(result.clone().unwrap())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{h:?} did not complete"))
        }

        fn message(&mut self, h: CommandHandle) -> Vec<u8> {
            match self.ask(h) {
                Reply::Message(bytes) => bytes,
                other => panic!("{other:?}"),
            }
        }

        /// `line` sent as typed; the server's raw answer, stuffing and terminator included.
        fn raw(&mut self, line: &str) -> Vec<u8> {
            self.server.feed(self.now, format!("{line}\r\n").as_bytes());
            let mut out = Vec::new();
            while let Some(bytes) = self.server.poll_transmit(self.now, &self.store) {
                out.extend_from_slice(&bytes);
            }
            out
        }
    }

    #[test]
    fn our_sent_form_is_the_servers() {
        for name in all() {
            let bytes = sample(&name);
            assert_eq!(to_sent_form(&bytes), sent(&bytes), "{name}");
        }
        let listed: Vec<&str> = SAMPLES.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed, all());
    }

    #[test]
    fn every_sample_is_retrieved_byte_for_byte_with_lists_size() {
        let mut w = Wire::logged_in();
        let list = w.client.list(None).unwrap();
        let Reply::List(list) = w.ask(list) else {
            panic!("LIST")
        };
        assert_eq!(list.len(), SAMPLES.len());
        let stat = w.client.stat().unwrap();
        let Reply::Stat(stat) = w.ask(stat) else {
            panic!("STAT")
        };
        let mut total = 0;
        for (entry, (name, bytes)) in list.iter().zip(SAMPLES.iter()) {
            let retr = w.client.retr(entry.id).unwrap();
            let got = w.message(retr);
            assert_eq!(got, sent(bytes), "RETR {} ({name})", entry.id);
            assert_eq!(entry.size, got.len() as u64, "LIST {} ({name})", entry.id);
            total += entry.size;
        }
        assert_eq!(stat.size, total);
    }

    /// 09 and 10 on the wire: the long line goes whole (as a client sees it, through TOP too);
    /// the last line without CRLF gets one before the terminator, counted by LIST.
    #[test]
    fn the_long_line_and_the_missing_crlf_on_the_wire() {
        let mut w = Wire::logged_in();
        let long = sample("09-long-line.eml");
        let top = w.client.top(9, 5).unwrap();
        let head = w.message(top);
        assert!(
            long.starts_with(&head),
            "TOP 9 5 is a prefix of the message"
        );
        assert!(
            head.split(|&b| b == b'\n').any(|l| l.len() == 1501),
            "the 1500-octet line and its CR, whole"
        );

        let file = sample("10-no-final-crlf.eml");
        let list = String::from_utf8(w.raw("LIST 10")).unwrap();
        assert_eq!(list, format!("+OK 10 {}\r\n", file.len() + 2));
        let wire = w.raw("RETR 10");
        let status_end = wire.windows(2).position(|p| p == b"\r\n").unwrap() + 2;
        assert_eq!(
            &wire[..status_end],
            format!("+OK {} octets\r\n", file.len() + 2).as_bytes()
        );
        assert!(wire.ends_with(b"no CRLF follows it.\r\n.\r\n"), "{wire:?}");
        let mut out = Vec::new();
        let progress = BodyDecoder::new(u64::MAX).decode(&wire[status_end..], &mut out);
        assert!(progress.finished);
        assert_eq!(out.len(), file.len() + 2, "LIST's size is what RETR sends");
    }

    /// 17: TOP 17 5 and RETR 17 send the same octets, and the reply still ends with its dot.
    #[test]
    fn the_empty_body_on_the_wire() {
        let mut w = Wire::logged_in();
        let top = w.client.top(17, 5).unwrap();
        let head = w.message(top);
        let retr = w.client.retr(17).unwrap();
        let whole = w.message(retr);
        assert_eq!(head, whole);
        assert_eq!(whole, sample("17-empty-body.eml"));
        assert!(w.raw("RETR 17").ends_with(b"\r\n\r\n.\r\n"));
    }

    /// 18 and 19: the same Message-ID, two copies, two unique-ids (the store numbers each
    /// message of a maildrop, `<n>-<hash>`, so even identical copies would differ).
    #[test]
    fn the_same_message_id_gets_two_unique_ids() {
        let mut w = Wire::logged_in();
        let uidl = w.client.uidl(None).unwrap();
        let Reply::Uidl(uids) = w.ask(uidl) else {
            panic!("UIDL")
        };
        assert_eq!(uids.len(), SAMPLES.len());
        let (a, b) = (&uids[17], &uids[18]);
        assert_eq!((a.id, b.id), (18, 19));
        assert_ne!(a.uid, b.uid);
        assert!(a.uid.starts_with("18-") && b.uid.starts_with("19-"));
        let unique: std::collections::HashSet<&str> = uids.iter().map(|u| u.uid.as_str()).collect();
        assert_eq!(unique.len(), uids.len());
    }
}

trait ReplaceCrlf {
    fn replace_crlf(&self) -> Vec<u8>;
}

impl ReplaceCrlf for Vec<u8> {
    fn replace_crlf(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        let mut i = 0;
        while i < self.len() {
            if self[i] == b'\r' && self.get(i + 1) == Some(&b'\n') {
                i += 2;
            } else {
                out.push(self[i]);
                i += 1;
            }
        }
        out
    }
}
