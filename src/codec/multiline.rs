//! Multi-line bodies (RFC 1939 §3): byte-stuffing removed while streaming, terminator found at any
//! chunk split, a size cap enforced; and the reverse, stuffing, for the server side.

use memchr::memchr;

/// Streams one multi-line body: feed it whatever bytes arrived, it appends the unstuffed body to
/// your buffer and says when the terminating `.CRLF` was consumed.
///
/// It keeps at most the two octets of an undecided line start (`.` or `.\r`) unconsumed: the
/// caller keeps them at the front of its buffer and feeds them again with the next chunk. Lines
/// have no length limit (real mail has long lines); the body as a whole is capped. Past the cap
/// the decoder keeps scanning for the terminator, dropping octets, so the session stays in sync.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    max_body: u64,
    at_line_start: bool,
    prev_cr: bool,
    decoded: u64,
    wire: u64,
    bare_lf: u64,
    over_limit: bool,
    finished: bool,
}

/// What the first octets of a line say.
enum LineStart {
    /// An ordinary line.
    Plain,
    /// A leading dot was removed.
    Stuffed,
    /// `.` or `.CR` at the end of the input: wait for more.
    Undecided,
    /// The terminator; the body ends at this offset (terminator included).
    Terminator(usize),
}

/// What one call to [`BodyDecoder::decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyProgress {
    /// Octets of the input consumed; the rest must be offered again with more data.
    pub consumed: usize,
    /// The terminating `.CRLF` was consumed: the body is complete.
    pub finished: bool,
}

impl BodyDecoder {
    /// A decoder for one body, capped at `max_body` decoded octets.
    pub fn new(max_body: u64) -> BodyDecoder {
        BodyDecoder {
            max_body,
            at_line_start: true,
            prev_cr: false,
            decoded: 0,
            wire: 0,
            bare_lf: 0,
            over_limit: false,
            finished: false,
        }
    }

    /// Decoded (unstuffed) octets so far, including any dropped past the cap.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Octets consumed from the wire so far, terminator included.
    pub fn wire_len(&self) -> u64 {
        self.wire
    }

    /// How many lines ended in a bare LF (an RFC 1939 violation, tolerated).
    pub fn bare_lf_count(&self) -> u64 {
        self.bare_lf
    }

    /// The body grew past the cap; what was appended is incomplete.
    pub fn is_over_limit(&self) -> bool {
        self.over_limit
    }

    /// The terminator has been consumed.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Decodes from the front of `input`, appending body octets to `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> BodyProgress {
        if self.finished {
            return BodyProgress {
                consumed: 0,
                finished: true,
            };
        }
        let len = input.len();
        // Start of the run of octets not yet copied to `out`.
        let mut run = 0;
        // Where to look for the next LF.
        let mut scan = 0;
        if self.at_line_start {
            match self.line_start(input, 0, &mut run, out) {
                LineStart::Plain => {}
                LineStart::Stuffed => scan = 1,
                LineStart::Undecided => {
                    return BodyProgress {
                        consumed: 0,
                        finished: false,
                    }
                }
                LineStart::Terminator(end) => return self.finish(end),
            }
            self.at_line_start = false;
        }
        // The hot loop: memchr_iter finds the LFs (several per SIMD block); only the octet
        // after each one needs a look, since only a line's first octet can be a dot.
        for lf in memchr::memchr_iter(b'\n', tail(input, scan)).map(|i| i + scan) {
            let cr_before = match lf.checked_sub(1) {
                Some(before) => input.get(before) == Some(&b'\r'),
                None => self.prev_cr,
            };
            if !cr_before {
                self.bare_lf += 1;
            }
            let start = lf + 1;
            if start == len {
                self.at_line_start = true;
                break;
            }
            if input.get(start) == Some(&b'.') {
                match self.line_start(input, start, &mut run, out) {
                    LineStart::Plain | LineStart::Stuffed => {}
                    LineStart::Undecided => {
                        self.emit(span(input, run, start), out);
                        self.at_line_start = true;
                        self.prev_cr = false;
                        self.wire += start as u64;
                        return BodyProgress {
                            consumed: start,
                            finished: false,
                        };
                    }
                    LineStart::Terminator(end) => return self.finish(end),
                }
            }
        }
        self.emit(tail(input, run), out);
        if let Some(&last) = input.last() {
            self.prev_cr = last == b'\r';
        }
        self.wire += len as u64;
        BodyProgress {
            consumed: len,
            finished: false,
        }
    }

    /// Looks at a line that starts at `start`: a stuffed or stray dot is dropped (RFC 1939 §3:
    /// the first octet of a line that begins with the termination octet is stripped), `.CRLF`
    /// (or `.LF`) ends the body, and `.` or `.CR` at the end of the input cannot be decided yet.
    #[inline]
    fn line_start(
        &mut self,
        input: &[u8],
        start: usize,
        run: &mut usize,
        out: &mut Vec<u8>,
    ) -> LineStart {
        if input.get(start) != Some(&b'.') {
            return if start < input.len() {
                LineStart::Plain
            } else {
                LineStart::Undecided
            };
        }
        match (input.get(start + 1), input.get(start + 2)) {
            (None, _) | (Some(b'\r'), None) => LineStart::Undecided,
            (Some(b'\n'), _) => {
                self.bare_lf += 1;
                self.emit(span(input, *run, start), out);
                LineStart::Terminator(start + 2)
            }
            (Some(b'\r'), Some(b'\n')) => {
                self.emit(span(input, *run, start), out);
                LineStart::Terminator(start + 3)
            }
            _ => {
                self.emit(span(input, *run, start), out);
                *run = start + 1;
                LineStart::Stuffed
            }
        }
    }

    fn finish(&mut self, end: usize) -> BodyProgress {
        self.finished = true;
        self.wire += end as u64;
        BodyProgress {
            consumed: end,
            finished: true,
        }
    }

    #[inline]
    fn emit(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.decoded += bytes.len() as u64;
        if self.decoded > self.max_body {
            self.over_limit = true;
        }
        if !self.over_limit {
            out.extend_from_slice(bytes);
        }
    }
}

/// `bytes` from `from` on (empty past the end): slicing that cannot panic.
#[inline]
fn tail(bytes: &[u8], from: usize) -> &[u8] {
    bytes.get(from..).unwrap_or_default()
}

/// `bytes[from..to]`, empty if that is not a range of `bytes`.
#[inline]
fn span(bytes: &[u8], from: usize, to: usize) -> &[u8] {
    bytes.get(from..to).unwrap_or_default()
}

/// Appends `body` to `out` as a multi-line body on the wire: lines that begin with `.` get one
/// more, bare LFs become CRLF, a missing final CRLF is added, and `.CRLF` ends it (RFC 1939 §3).
pub fn stuff_body(body: &[u8], out: &mut Vec<u8>) {
    out.reserve(body.len() + body.len() / 64 + 5);
    stuff_lines(body, usize::MAX, out);
    out.extend_from_slice(b".\r\n");
}

/// Stuffs whole lines from the front of `body` into `out`, as [`stuff_body`] does but without
/// the terminator, until about `budget` octets were written or `body` ends; returns how many
/// octets of `body` it consumed (whole lines, or all of it). A server streams a large message
/// with it a chunk at a time instead of building the whole reply.
pub fn stuff_lines(body: &[u8], budget: usize, out: &mut Vec<u8>) -> usize {
    let start_len = out.len();
    let mut rest = body;
    while !rest.is_empty() && out.len() - start_len < budget {
        if rest.first() == Some(&b'.') {
            out.push(b'.');
        }
        match memchr(b'\n', rest) {
            Some(lf) => {
                let (line, after) = rest.split_at(lf.min(rest.len()));
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                out.extend_from_slice(line);
                out.extend_from_slice(b"\r\n");
                rest = tail(after, 1);
            }
            None => {
                out.extend_from_slice(rest);
                out.extend_from_slice(b"\r\n");
                rest = &[];
            }
        }
    }
    body.len() - rest.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Feeds `wire` to a fresh decoder in the given chunk sizes (a caller keeping unconsumed bytes).
    fn decode_in_chunks(wire: &[u8], cuts: &[usize]) -> (Vec<u8>, usize, BodyDecoder) {
        let mut d = BodyDecoder::new(u64::MAX);
        let mut out = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut bounds: Vec<usize> = cuts.to_vec();
        bounds.push(wire.len());
        for end in bounds {
            pending.extend_from_slice(&wire[fed..end]);
            fed = end;
            let p = d.decode(&pending, &mut out);
            pending.drain(..p.consumed);
            if p.finished {
                return (out, wire.len() - pending.len() - (wire.len() - fed), d);
            }
        }
        (out, usize::MAX, d)
    }

    #[test]
    fn unstuffs_and_stops_at_terminator() {
        let wire = b"line 1\r\n..dot line\r\n.\r\nEXTRA";
        let (out, consumed, d) = decode_in_chunks(wire, &[]);
        assert_eq!(out, b"line 1\r\n.dot line\r\n");
        assert_eq!(consumed, wire.len() - 5);
        assert_eq!(d.bare_lf_count(), 0);
    }

    #[test]
    fn empty_body_is_just_the_terminator() {
        let (out, consumed, _) = decode_in_chunks(b".\r\n", &[]);
        assert!(out.is_empty());
        assert_eq!(consumed, 3);
    }

    #[test]
    fn terminator_split_at_every_point() {
        let wire = b"a\r\n..b\r\n.\r\n";
        for cut in 0..=wire.len() {
            let (out, consumed, _) = decode_in_chunks(wire, &[cut]);
            assert_eq!(out, b"a\r\n.b\r\n", "cut at {cut}");
            assert_eq!(consumed, wire.len(), "cut at {cut}");
        }
    }

    #[test]
    fn dot_cr_without_lf_is_a_stuffed_line_not_an_end() {
        let (out, _, _) = decode_in_chunks(b".\rx\r\n.\r\n", &[1, 2]);
        assert_eq!(out, b"\rx\r\n");
    }

    #[test]
    fn bare_lf_is_tolerated_and_counted() {
        let (out, consumed, d) = decode_in_chunks(b"a\nb\r\n..c\n.\n", &[]);
        assert_eq!(out, b"a\nb\r\n.c\n");
        assert_eq!(consumed, 11);
        assert_eq!(d.bare_lf_count(), 3);
    }

    #[test]
    fn cr_lf_split_across_chunks_is_not_a_bare_lf() {
        let (_, _, d) = decode_in_chunks(b"abc\r\n.\r\n", &[4]);
        assert_eq!(d.bare_lf_count(), 0);
    }

    #[test]
    fn cap_drops_but_still_finds_the_end() {
        let mut d = BodyDecoder::new(4);
        let mut out = Vec::new();
        let p = d.decode(b"123456\r\n.\r\n+OK\r\n", &mut out);
        assert!(p.finished);
        assert_eq!(p.consumed, 11);
        assert!(d.is_over_limit());
        assert!(out.len() <= 4);
    }

    #[test]
    fn stuffing_round_trips() {
        let body = b".\r\n..\r\nplain\r\n.x";
        let mut wire = Vec::new();
        stuff_body(body, &mut wire);
        assert_eq!(wire, b"..\r\n...\r\nplain\r\n..x\r\n.\r\n");
        let (out, _, _) = decode_in_chunks(&wire, &[]);
        assert_eq!(out, b".\r\n..\r\nplain\r\n.x\r\n");
    }

    #[test]
    fn stuffing_in_chunks_equals_stuffing_at_once() {
        let body = b"a\r\n.b\nccc\r\n..\r\nlast";
        let mut whole = Vec::new();
        stuff_body(body, &mut whole);
        for budget in 1..12 {
            let mut chunked = Vec::new();
            let mut pos = 0;
            while pos < body.len() {
                let used = stuff_lines(&body[pos..], budget, &mut chunked);
                assert!(used > 0);
                pos += used;
            }
            chunked.extend_from_slice(b".\r\n");
            assert_eq!(chunked, whole, "budget {budget}");
        }
    }

    #[test]
    fn stuffing_normalises_bare_lf() {
        let mut wire = Vec::new();
        stuff_body(b"a\n.b\n", &mut wire);
        assert_eq!(wire, b"a\r\n..b\r\n.\r\n");
        let mut wire = Vec::new();
        stuff_body(b"", &mut wire);
        assert_eq!(wire, b".\r\n");
    }
}
