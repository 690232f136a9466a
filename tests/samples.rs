//! The teaching server's sample messages: each one parses and teaches what it claims to.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use popwire::codec::{stuff_body, BodyDecoder};
use popwire::mime::parse_message;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/src/server/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const ALL: [&str; 8] = [
    "01-welcome.eml",
    "02-dot-stuffing.eml",
    "03-attachment.eml",
    "04-html-with-script.eml",
    "05-arabic.eml",
    "06-persian.eml",
    "07-large.eml",
    "08-long-headers.eml",
];

#[test]
fn every_sample_is_crlf_only_and_survives_stuffing() {
    for name in ALL {
        let bytes = sample(name);
        assert!(
            !bytes.replace_crlf().contains(&b'\n'),
            "{name} has a bare LF"
        );
        let mut wire = Vec::new();
        stuff_body(&bytes, &mut wire);
        let mut out = Vec::new();
        let progress = BodyDecoder::new(u64::MAX).decode(&wire, &mut out);
        assert!(progress.finished, "{name}");
        assert_eq!(out, bytes, "{name}");
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
    let attachment = parse_message(&sample("03-attachment.eml"));
    assert!(attachment
        .parts
        .iter()
        .any(|p| p.filename.as_deref() == Some("popwire-logo.png")));
    let html = parse_message(&sample("04-html-with-script.eml"));
    assert!(html.html.unwrap().contains("<script>"));
    let arabic = parse_message(&sample("05-arabic.eml"));
    assert!(arabic.subject.unwrap().contains("بروتوكول مكتب البريد"));
    let persian = parse_message(&sample("06-persian.eml"));
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
