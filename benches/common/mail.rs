//! The benchmarks' mail generator, shared by `benches/decode.rs` and
//! `websocket-bridge/benches/bridge.rs` (each includes this file with `#[path]`): deterministic
//! maildrop-like text, CRLF line ends, lines of at most 78 characters, about 5% of them
//! beginning with a dot (quoted text, ".sig", a lone "."), so dot-unstuffing has real work.

/// A small, fast, deterministic PRNG (xorshift64*), so the data is the same on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub(crate) fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The seed both benchmarks use.
pub(crate) const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "meeting",
    "schedule",
    "attached",
    "report",
    "quarterly",
    "please",
    "review",
    "thanks",
    "regards",
    "server",
    "mailbox",
    "message",
    "protocol",
    "delivery",
    "invoice",
    "project",
    "tomorrow",
    "update",
];

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A text line of 60–78 characters made of words.
fn text_line(rng: &mut Rng, line: &mut Vec<u8>) {
    let target = rng.range(60, 78);
    while line.len() < target {
        let word = WORDS[rng.range(0, WORDS.len() - 1)].as_bytes();
        if !line.is_empty() {
            line.push(b' ');
        }
        line.extend_from_slice(word);
    }
    line.truncate(target);
}

/// A short line (0–20 characters): empty lines, "Hi Bob,", "-- ", list items.
fn short_line(rng: &mut Rng, line: &mut Vec<u8>) {
    let len = rng.range(0, 20);
    text_line(rng, line);
    line.truncate(len);
}

/// A 76-character base64-looking line, as in an attachment.
fn base64_line(rng: &mut Rng, line: &mut Vec<u8>) {
    line.extend((0..76).map(|_| B64[(rng.next() >> 58) as usize]));
}

/// What [`append_text`] wrote.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TextStats {
    /// Lines written.
    pub(crate) lines: usize,
    /// Lines beginning with a dot.
    pub(crate) dotted: usize,
}

/// Appends blocks of text to `out` until it holds at least `target` octets: each block is
/// `headers`, an empty line, paragraphs and short lines, and sometimes a base64 attachment.
pub(crate) fn append_text(
    rng: &mut Rng,
    out: &mut Vec<u8>,
    target: usize,
    headers: &[&str],
) -> TextStats {
    let mut stats = TextStats::default();
    let mut line = Vec::with_capacity(128);
    while out.len() < target {
        let mut block: Vec<(u8, usize)> = vec![(b'h', headers.len()), (b'e', 1)];
        for _ in 0..rng.range(2, 8) {
            block.push((b't', rng.range(3, 14)));
            block.push((b's', rng.range(1, 3)));
        }
        if rng.percent(40) {
            block.push((b'b', rng.range(20, 200)));
            block.push((b'e', 1));
        }
        for (kind, count) in block {
            for i in 0..count {
                line.clear();
                match kind {
                    b'h' => {
                        line.extend_from_slice(headers.get(i).map_or(&b""[..], |h| h.as_bytes()))
                    }
                    b'e' => {}
                    b't' => text_line(rng, &mut line),
                    b's' => short_line(rng, &mut line),
                    _ => base64_line(rng, &mut line),
                }
                if rng.percent(5) {
                    line.insert(0, b'.');
                    line.truncate(78);
                }
                stats.dotted += usize::from(line.first() == Some(&b'.'));
                stats.lines += 1;
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    stats
}
