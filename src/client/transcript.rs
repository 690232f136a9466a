//! Transcript building: one entry per line on the wire or event worth seeing.

use std::ops::Range;

use super::{Client, Event};
use crate::explain::{self, Direction, Explain, TranscriptEntry, MASK};

impl Client {
    // ----- Transcript -------------------------------------------------------------------------

    pub(super) fn info(&mut self, key: &str, text: String) {
        self.push_entry(
            Direction::Info,
            text,
            Vec::new(),
            false,
            false,
            0,
            explain::known(key),
        );
    }

    pub(super) fn server_entry(&mut self, raw: Vec<u8>, explain: Explain) {
        let text = String::from_utf8_lossy(strip_line_end(&raw)).into_owned();
        let total = raw.len() as u64;
        self.push_entry(Direction::Server, text, raw, false, false, total, explain);
    }

    pub(super) fn client_entry(
        &mut self,
        bytes: &[u8],
        secret: Option<Range<usize>>,
        explain: Explain,
    ) {
        let line = strip_line_end(bytes);
        let (text, masked) = match secret {
            Some(range) if range.end <= line.len() && range.start <= range.end => {
                let mut text = String::from_utf8_lossy(&line[..range.start]).into_owned();
                text.push_str(MASK);
                text.push_str(&String::from_utf8_lossy(&line[range.end..]));
                (text, true)
            }
            _ => (String::from_utf8_lossy(line).into_owned(), false),
        };
        let total = bytes.len() as u64;
        self.push_entry(
            Direction::Client,
            text,
            bytes.to_vec(),
            masked,
            false,
            total,
            explain,
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_entry(
        &mut self,
        dir: Direction,
        text: String,
        bytes: Vec<u8>,
        masked: bool,
        truncated: bool,
        total_bytes: u64,
        explain: Explain,
    ) {
        let entry = TranscriptEntry {
            seq: self.seq,
            dir,
            text,
            bytes,
            at_ms: self.now_ms,
            masked,
            truncated,
            total_bytes,
            explain,
        };
        self.seq += 1;
        self.events.push_back(Event::Transcript(entry));
    }
}

pub(super) fn strip_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}
