//! Transcript building: one entry per line on the wire or event worth seeing.
//!
//! An [`Entry`] is built with what it says (direction, text, octets, explanation) and, for a
//! line of a round trip, which request it belongs to; [`Client::push`] stamps it with the next
//! `seq` and the time and queues it as [`Event::Transcript`].

use std::ops::Range;

use super::request::{Request, Sent};
use super::{Client, CommandHandle, Event};
use crate::codec::{wire_marks, WireMarks};
use crate::explain::{Direction, Explain, Note, SaslChallenge, TranscriptEntry, MASK};

/// A transcript entry under construction. Start with [`Entry::info`], [`Entry::server_line`],
/// [`Entry::client_line`] or [`Entry::body`]; name its request with [`Entry::sent_for`] or
/// [`Entry::answering`].
#[derive(Debug)]
pub(super) struct Entry {
    dir: Direction,
    text: String,
    bytes: Vec<u8>,
    masked: bool,
    truncated: bool,
    total_bytes: u64,
    explain: Explain,
    request: Option<u64>,
    answers: Option<u64>,
    rtt_ms: Option<u64>,
    challenge: Option<SaslChallenge>,
    wire_marks: Option<WireMarks>,
    note: Option<Note>,
}

impl Entry {
    fn new(dir: Direction, text: String, bytes: Vec<u8>, explain: Explain) -> Entry {
        Entry {
            dir,
            text,
            total_bytes: bytes.len() as u64,
            bytes,
            masked: false,
            truncated: false,
            explain,
            request: None,
            answers: None,
            rtt_ms: None,
            challenge: None,
            wire_marks: None,
            note: None,
        }
    }

    /// An event worth seeing: no octets.
    pub(super) fn info(text: String, explain: Explain) -> Entry {
        Entry::new(Direction::Info, text, Vec::new(), explain)
    }

    /// An event worth seeing in popwire's own words: the note's English as its text.
    pub(super) fn said(note: Note, explain: Explain) -> Entry {
        let mut entry = Entry::info(note.english(), explain);
        entry.note = Some(note);
        entry
    }

    /// A line the server sent, `raw` with its line end.
    pub(super) fn server_line(raw: Vec<u8>, explain: Explain) -> Entry {
        let text = String::from_utf8_lossy(strip_line_end(&raw)).into_owned();
        Entry::new(Direction::Server, text, raw, explain)
    }

    /// A line the client sent, `bytes` with CRLF; `secret` (octets of the line) is masked in the
    /// text.
    pub(super) fn client_line(
        bytes: &[u8],
        secret: Option<Range<usize>>,
        explain: Explain,
    ) -> Entry {
        let (text, masked) = masked_text(strip_line_end(bytes), secret);
        let mut entry = Entry::new(Direction::Client, text, bytes.to_vec(), explain);
        entry.masked = masked;
        entry
    }

    /// A multi-line body: the first octets on the wire (`kept`) of `total`.
    pub(super) fn body(kept: Vec<u8>, total: u64, explain: Explain) -> Entry {
        let text = String::from_utf8_lossy(&kept).replace("\r\n", "\n");
        let marks = wire_marks(&kept);
        let truncated = total > kept.len() as u64;
        let mut entry = Entry::new(Direction::Server, text, kept, explain);
        entry.wire_marks = Some(marks);
        entry.truncated = truncated;
        entry.total_bytes = total;
        entry
    }

    /// A client line sent for the request `handle`.
    pub(super) fn sent_for(mut self, handle: CommandHandle) -> Entry {
        self.request = Some(handle.0);
        self
    }

    /// A server line answering `req`; with `now_ms`, the round-trip time since its last client
    /// line went out is recorded too (status lines and challenges, not bodies).
    pub(super) fn answering(mut self, req: &Request, now_ms: Option<u64>) -> Entry {
        self.request = Some(req.handle.0);
        if let Some(sent) = req.sent {
            self.answers = Some(sent.seq);
            self.rtt_ms = now_ms.map(|now| now.saturating_sub(sent.at_ms));
        }
        self
    }

    /// The decoded SASL challenge of a `+` line.
    pub(super) fn with_challenge(mut self, challenge: Option<SaslChallenge>) -> Entry {
        self.challenge = challenge;
        self
    }
}

impl Client {
    /// Stamps `entry` with the next `seq` and the time and queues it; returns when and as which
    /// entry it went out.
    pub(super) fn push(&mut self, entry: Entry) -> Sent {
        let sent = Sent {
            seq: self.seq,
            at_ms: self.now_ms,
        };
        let entry = TranscriptEntry {
            seq: sent.seq,
            dir: entry.dir,
            text: entry.text,
            bytes: entry.bytes,
            at_ms: sent.at_ms,
            masked: entry.masked,
            truncated: entry.truncated,
            total_bytes: entry.total_bytes,
            explain: entry.explain,
            request: entry.request,
            answers: entry.answers,
            rtt_ms: entry.rtt_ms,
            challenge: entry.challenge,
            wire_marks: entry.wire_marks,
            note: entry.note,
        };
        self.seq += 1;
        self.events.push_back(Event::Transcript(entry));
        sent
    }

    /// An info entry (a state's name: protocol text, the same in every language).
    pub(super) fn info(&mut self, explain: Explain, text: String) {
        self.push(Entry::info(text, explain));
    }

    /// An info entry in popwire's own words ([`Note`]: a page says it in its language).
    pub(super) fn say(&mut self, explain: Explain, note: Note) {
        self.push(Entry::said(note, explain));
    }

    /// A server line that belongs to the request at the head of the in-flight queue, if any,
    /// with its round-trip time.
    pub(super) fn server_entry(&mut self, raw: Vec<u8>, explain: Explain) {
        self.server_entry_with(raw, explain, None);
    }

    /// [`Client::server_entry`] with a decoded SASL challenge.
    pub(super) fn server_entry_with(
        &mut self,
        raw: Vec<u8>,
        explain: Explain,
        challenge: Option<SaslChallenge>,
    ) {
        let mut entry = Entry::server_line(raw, explain).with_challenge(challenge);
        if let Some(head) = self.in_flight.front().filter(|_| self.greeting.is_some()) {
            entry = entry.answering(head, Some(self.now_ms));
        }
        self.push(entry);
    }

    /// A client line the engine writes itself for the request at the head of the in-flight
    /// queue (a SASL response or cancel): the head's replies now answer this line.
    pub(super) fn head_client_entry(
        &mut self,
        bytes: &[u8],
        secret: Option<Range<usize>>,
        explain: Explain,
    ) {
        let mut entry = Entry::client_line(bytes, secret, explain);
        if let Some(head) = self.in_flight.front() {
            entry = entry.sent_for(head.handle);
        }
        let sent = self.push(entry);
        if let Some(head) = self.in_flight.front_mut() {
            head.sent = Some(sent);
        }
    }
}

/// The line as text, `secret` (an octet range of it) replaced by [`MASK`]; whether it was masked.
/// A range outside the line masks nothing.
fn masked_text(line: &[u8], secret: Option<Range<usize>>) -> (String, bool) {
    let parts = secret.and_then(|range| {
        let (before, rest) = line.split_at_checked(range.start)?;
        let after = rest.get(range.end.checked_sub(range.start)?..)?;
        Some((before, after))
    });
    match parts {
        Some((before, after)) => {
            let mut text = String::from_utf8_lossy(before).into_owned();
            text.push_str(MASK);
            text.push_str(&String::from_utf8_lossy(after));
            (text, true)
        }
        None => (String::from_utf8_lossy(line).into_owned(), false),
    }
}

/// The line without its CRLF (or bare LF).
pub(super) fn strip_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_replaces_only_the_secret_and_never_panics() {
        assert_eq!(
            masked_text(b"PASS hunter 2", Some(5..13)),
            (format!("PASS {MASK}"), true)
        );
        assert_eq!(
            masked_text(b"AUTH PLAIN AGEAYg== x", Some(11..19)),
            (format!("AUTH PLAIN {MASK} x"), true)
        );
        assert_eq!(masked_text(b"STAT", None), ("STAT".to_owned(), false));
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 9..5;
        for bad in [5..99, reversed, 99..100] {
            assert_eq!(
                masked_text(b"PASS x", Some(bad.clone())),
                ("PASS x".to_owned(), false),
                "{bad:?}"
            );
        }
        assert_eq!(masked_text(b"", Some(0..0)), (MASK.to_owned(), true));
    }

    #[test]
    fn a_body_entry_says_when_it_was_cut() {
        let whole = Entry::body(b"1 2\r\n".to_vec(), 5, crate::explain!("body.LIST"));
        assert!(!whole.truncated);
        assert_eq!(whole.text, "1 2\n");
        let cut = Entry::body(b"1 2\r\n".to_vec(), 80_000, crate::explain!("body.LIST"));
        assert!(cut.truncated);
        assert_eq!(cut.total_bytes, 80_000);
    }

    #[test]
    fn line_ends_are_stripped_once() {
        assert_eq!(strip_line_end(b"+OK\r\n"), b"+OK");
        assert_eq!(strip_line_end(b"+OK\n"), b"+OK");
        assert_eq!(strip_line_end(b"+OK\r\n\r\n"), b"+OK\r\n");
    }
}
