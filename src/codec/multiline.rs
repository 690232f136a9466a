//! Multi-line bodies (RFC 1939 §3): byte-stuffing removed while streaming, terminator found at any
//! chunk split, a size cap enforced; and the reverse, stuffing, for the server side.

use memchr::memchr;

/// Streams one multi-line body: feed it whatever bytes arrived, it appends the unstuffed body to
/// your buffer (or, with [`decode_in_place`](Self::decode_in_place), leaves it at the front of
/// the receive buffer) and says when the terminating `.CRLF` was consumed.
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
        self.decode_into(&mut Append { input, out })
    }

    /// Decodes from the front of `buf` within `buf` itself (the receive buffer): the body
    /// octets are moved to its front, `buf[..body]`, and no other buffer is written. Gives the
    /// same body, counts and end as [`decode`](Self::decode) at any split; as there, the octets
    /// from `consumed` on (at most an undecided `.` or `.\r`) must be offered again, at the
    /// front of the next call's buffer, while `buf[body..consumed]` is left over.
    pub fn decode_in_place(&mut self, buf: &mut [u8]) -> InPlaceProgress {
        let mut sink = InPlace { buf, body: 0 };
        let progress = self.decode_into(&mut sink);
        InPlaceProgress {
            consumed: progress.consumed,
            body: sink.body,
            finished: progress.finished,
        }
    }

    /// The decoder proper, over the input that `sink` holds and keeps body runs of.
    #[inline]
    fn decode_into(&mut self, sink: &mut impl Sink) -> BodyProgress {
        if self.finished {
            return BodyProgress {
                consumed: 0,
                finished: true,
            };
        }
        // Start of the run of octets not yet kept as body.
        let mut run = 0;
        // Where to look for the next LF.
        let mut search = 0;
        if self.at_line_start {
            match self.line_start(sink.input(), 0) {
                LineStart::Plain => {}
                LineStart::Stuffed => {
                    run = 1;
                    search = 1;
                }
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
        // The hot loop: only an LF that is followed by a dot (a line start that needs a look)
        // needs any work, and bare LFs are counted. `Marks` finds both a vectorised block at a
        // time, hands out the LF-dots in order and counts the bare LFs a block at a time; the
        // runs between dotted lines are kept whole.
        //
        // In place, keeping a run moves octets only to before the line start being looked at
        // (right after the last LF handed out), and the scan reads nothing before it but, when
        // the next block starts right at that line start, the octet before the block, which
        // then does not matter (the block's first octet is the dot).
        let mut marks = Marks::new(search, self.prev_cr);
        while let Some(lf) = marks.next(sink.input()) {
            let start = lf + 1;
            match self.line_start(sink.input(), start) {
                LineStart::Plain => {}
                LineStart::Stuffed => {
                    self.keep(sink, run, start);
                    run = start + 1;
                }
                LineStart::Undecided => {
                    self.bare_lf += marks.bare_lfs_before(start);
                    self.keep(sink, run, start);
                    self.at_line_start = true;
                    self.prev_cr = false;
                    self.wire += start as u64;
                    return BodyProgress {
                        consumed: start,
                        finished: false,
                    };
                }
                LineStart::Terminator(end) => {
                    self.bare_lf += marks.bare_lfs_before(start);
                    self.keep(sink, run, start);
                    return self.finish(end);
                }
            }
        }
        self.bare_lf += marks.bare_lfs_before(usize::MAX);
        let len = sink.input().len();
        if let Some(&last) = sink.input().last() {
            self.prev_cr = last == b'\r';
            self.at_line_start = last == b'\n';
        }
        self.keep(sink, run, len);
        self.wire += len as u64;
        BodyProgress {
            consumed: len,
            finished: false,
        }
    }

    /// Looks at a line that starts at `start`: a stuffed or stray dot is dropped (RFC 1939 §3:
    /// the first octet of a line that begins with the termination octet is stripped), `.CRLF`
    /// (or `.LF`, a bare LF counted) ends the body, and `.` or `.CR` at the end of the input
    /// cannot be decided yet.
    #[inline]
    fn line_start(&mut self, input: &[u8], start: usize) -> LineStart {
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
                LineStart::Terminator(start + 2)
            }
            (Some(b'\r'), Some(b'\n')) => LineStart::Terminator(start + 3),
            _ => LineStart::Stuffed,
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

    /// Keeps the input octets `from..to` as body, counted against the cap; past the cap they
    /// are counted and dropped.
    #[inline]
    fn keep(&mut self, sink: &mut impl Sink, from: usize, to: usize) {
        let len = to.saturating_sub(from);
        if len == 0 {
            return;
        }
        self.decoded += len as u64;
        if self.decoded > self.max_body {
            self.over_limit = true;
        }
        if !self.over_limit {
            sink.keep(from, to);
        }
    }
}

/// What [`BodyDecoder::decode_into`] reads and where the body runs it keeps go.
trait Sink {
    /// The input being decoded.
    fn input(&self) -> &[u8];
    /// Keeps `input()[from..to]` as body (`from < to`, both within the input).
    fn keep(&mut self, from: usize, to: usize);
}

/// [`BodyDecoder::decode`]: body runs appended to a separate buffer.
struct Append<'a> {
    input: &'a [u8],
    out: &'a mut Vec<u8>,
}

impl Sink for Append<'_> {
    #[inline]
    fn input(&self) -> &[u8] {
        self.input
    }

    #[inline]
    fn keep(&mut self, from: usize, to: usize) {
        self.out.extend_from_slice(span(self.input, from, to));
    }
}

/// [`BodyDecoder::decode_in_place`]: body runs moved to the front of the buffer, `buf[..body]`.
/// Runs come in order and decoding only drops octets, so a run never lands after where it was.
struct InPlace<'a> {
    buf: &'a mut [u8],
    body: usize,
}

impl Sink for InPlace<'_> {
    #[inline]
    fn input(&self) -> &[u8] {
        self.buf
    }

    #[inline]
    fn keep(&mut self, from: usize, to: usize) {
        if self.body == from {
            // Nothing dropped yet: the run is already where it belongs.
            self.body = to;
        } else if self.body < from && from < to && to <= self.buf.len() {
            self.buf.copy_within(from..to, self.body);
            self.body += to - from;
        }
    }
}

/// What one call to [`BodyDecoder::decode_in_place`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InPlaceProgress {
    /// Octets of the buffer consumed; the rest must be offered again with more data.
    pub consumed: usize,
    /// Body octets this call decoded, now at the front of the buffer (never more than
    /// `consumed`).
    pub body: usize,
    /// The terminating `.CRLF` was consumed: the body is complete.
    pub finished: bool,
}

/// Octets per block of [`Marks`]' vectorised scan: one bit each in a `u64` mask.
const BLOCK: usize = 64;
const _: () = assert!(BLOCK == u64::BITS as usize);

/// Whether `bytes[i]` is an LF followed by a dot: a line start that needs a look.
#[inline]
fn is_lf_dot(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&b'\n') && bytes.get(i + 1) == Some(&b'.')
}

/// Whether `bytes[i]` is an LF not preceded by CR (the octet before `bytes[0]` is a CR if
/// `prev_cr`).
#[inline]
fn is_bare_lf(bytes: &[u8], i: usize, prev_cr: bool) -> bool {
    let after_cr = match i.checked_sub(1) {
        Some(before) => bytes.get(before) == Some(&b'\r'),
        None => prev_cr,
    };
    bytes.get(i) == Some(&b'\n') && !after_cr
}

/// The LF-dots of an input from some offset on, handed out in order, and its bare LFs,
/// counted. Whole blocks are tested with branch-free compares of the block against its
/// neighbours one octet either side (a shape that vectorises); a block that holds either gets
/// a bit mask of each, so an LF-dot costs a few instructions and bare LFs a popcount, and only
/// the short tail is looked at octet by octet.
struct Marks {
    /// The offset that bit 0 of the masks stands for.
    base: usize,
    /// The LF-dots of the block at `base` not yet handed out, one bit per octet.
    dots: u64,
    /// The bare LFs of the block at `base`.
    bare: u64,
    /// The bare LFs before `base`.
    bare_before: u64,
    /// Where the next block starts.
    next: usize,
    /// Whether the octet before the input's first is a CR.
    prev_cr: bool,
}

impl Marks {
    /// The marks of an input from offset `from` on.
    fn new(from: usize, prev_cr: bool) -> Marks {
        Marks {
            base: from,
            dots: 0,
            bare: 0,
            bare_before: 0,
            next: from,
            prev_cr,
        }
    }

    /// The next LF-dot in `bytes` (the same input on every call).
    #[inline(always)]
    fn next(&mut self, bytes: &[u8]) -> Option<usize> {
        loop {
            if self.dots != 0 {
                let at = self.base + self.dots.trailing_zeros() as usize;
                self.dots &= self.dots - 1;
                return Some(at);
            }
            if self.bare != 0 {
                // (A branch: without a popcount instruction, counting is a dozen.)
                self.bare_before += u64::from(self.bare.count_ones());
                self.bare = 0;
            }
            let mut i = self.next;
            if i >= bytes.len() {
                return None;
            }
            if i == 0 {
                // The first octet, whose predecessor is not in `bytes`, alone.
                self.base = 0;
                self.dots = u64::from(is_lf_dot(bytes, 0));
                self.bare = u64::from(is_bare_lf(bytes, 0, self.prev_cr));
                self.next = 1;
                continue;
            }
            // The blocks with neither, the common case, skipped in a tight loop.
            loop {
                match block_window(bytes, i) {
                    Some(window) if !block_any(window, is_mark) => i += BLOCK,
                    Some(window) => {
                        (self.dots, self.bare) = block_marks(window);
                        self.next = i + BLOCK;
                        break;
                    }
                    None => {
                        // The tail: fewer than `BLOCK + 1` octets from `i` on.
                        (self.dots, self.bare) = (0, 0);
                        for at in i..bytes.len() {
                            let bit = 1u64.checked_shl((at - i) as u32).unwrap_or(0);
                            if is_lf_dot(bytes, at) {
                                self.dots |= bit;
                            }
                            if is_bare_lf(bytes, at, self.prev_cr) {
                                self.bare |= bit;
                            }
                        }
                        self.next = bytes.len();
                        break;
                    }
                }
            }
            self.base = i;
        }
    }

    /// The bare LFs before offset `end`, which is at most the end of the block of the last
    /// LF-dot handed out (`usize::MAX` once [`next`](Self::next) gave `None`: all of them).
    #[inline]
    fn bare_lfs_before(&self, end: usize) -> u64 {
        let below = match u32::try_from(end.saturating_sub(self.base)) {
            Ok(bits) if bits < u64::BITS => (1u64 << bits) - 1,
            _ => u64::MAX,
        };
        self.bare_before + u64::from((self.bare & below).count_ones())
    }
}

/// The block at `i` with one octet either side, `bytes[i - 1..i + BLOCK + 1]`, if it is there.
#[inline]
fn block_window(bytes: &[u8], i: usize) -> Option<&[u8; BLOCK + 2]> {
    tail(bytes, i.checked_sub(1)?).first_chunk::<{ BLOCK + 2 }>()
}

/// The block of `window` (its octets after the first) as three views: each octet with the one
/// before it and the one after it.
#[inline]
fn block_views(window: &[u8; BLOCK + 2]) -> Option<[&[u8; BLOCK]; 3]> {
    Some([
        window.first_chunk::<BLOCK>()?,
        tail(window, 1).first_chunk::<BLOCK>()?,
        tail(window, 2).first_chunk::<BLOCK>()?,
    ])
}

/// Whether `is(before, octet, after)` holds for any octet of the block of `window`: one OR over
/// the whole block.
#[inline(always)]
fn block_any(window: &[u8; BLOCK + 2], is: impl Fn(u8, u8, u8) -> bool) -> bool {
    let Some([prev, cur, next]) = block_views(window) else {
        return true;
    };
    prev.iter()
        .zip(cur)
        .zip(next)
        .fold(false, |acc, ((&p, &c), &n)| acc | is(p, c, n))
}

/// The octets of the block of `window` for which `is(before, octet, after)` holds, bit `k` for
/// the block's octet `k`.
#[inline(always)]
fn block_mask(window: &[u8; BLOCK + 2], is: impl Fn(u8, u8, u8) -> bool) -> u64 {
    let Some([prev, cur, next]) = block_views(window) else {
        return 0;
    };
    let mut flags = [0u8; BLOCK];
    for (flag, ((&p, &c), &n)) in flags.iter_mut().zip(prev.iter().zip(cur).zip(next)) {
        *flag = u8::from(is(p, c, n));
    }
    bit_mask(&flags)
}

/// An LF followed by a dot or not preceded by CR: what `Marks` stops at.
#[inline(always)]
fn is_mark(p: u8, c: u8, n: u8) -> bool {
    (c == b'\n') & ((n == b'.') | (p != b'\r'))
}

/// An LF followed by a dot.
#[inline(always)]
fn is_dot(_: u8, c: u8, n: u8) -> bool {
    (c == b'\n') & (n == b'.')
}

/// An LF not preceded by CR.
#[inline(always)]
fn is_bare(p: u8, c: u8, _: u8) -> bool {
    (c == b'\n') & (p != b'\r')
}

/// The LF-dots and the bare LFs in the block of `window`, as bit masks. Each is built only if
/// the block has one of its kind (text with CRLF line ends has dots now and then, text with
/// LF line ends bare LFs in every block).
#[inline]
fn block_marks(window: &[u8; BLOCK + 2]) -> (u64, u64) {
    let mask = |is: fn(u8, u8, u8) -> bool| {
        if block_any(window, is) {
            block_mask(window, is)
        } else {
            0
        }
    };
    (mask(is_dot), mask(is_bare))
}

/// Sixty-four 0/1 octets as a bit mask, octet `k` to bit `k`: per eight octets, the multiply
/// gathers octet `j` into bit `56 + j`.
#[inline]
fn bit_mask(flags: &[u8; BLOCK]) -> u64 {
    flags
        .chunks_exact(8)
        .map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
        .enumerate()
        .fold(0, |mask, (k, word)| {
            mask | (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k)
        })
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

/// Where the dot-stuffing is in a multi-line body as it came over the wire (RFC 1939 §3): the
/// offsets of the dots a server added in front of lines that begin with `.`, and of the
/// terminating `.` line. For showing the wire bytes; the decoder does the unstuffing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMarks {
    /// Offsets in the wire bytes of each stuffed dot (the one [`BodyDecoder`] removes).
    pub stuffed_dots: Vec<u32>,
    /// Offset of the `.` of the terminating `.CRLF` line, if the bytes reach it.
    pub terminator: Option<u32>,
}

/// Finds the stuffed dots and the terminator in `wire`, the first octets of a body on the wire
/// (possibly cut short: a `.` line cut before its line end is neither).
pub fn wire_marks(wire: &[u8]) -> WireMarks {
    let mut marks = WireMarks::default();
    let mut start = 0usize;
    loop {
        let line_end = memchr(b'\n', tail(wire, start)).map(|lf| start + lf);
        if wire.get(start) == Some(&b'.') {
            let line = match line_end {
                Some(lf) => span(wire, start, lf),
                None => tail(wire, start),
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let offset = u32::try_from(start).unwrap_or(u32::MAX);
            if line == b"." {
                if line_end.is_some() {
                    marks.terminator = Some(offset);
                    break;
                }
            } else {
                marks.stuffed_dots.push(offset);
            }
        }
        match line_end {
            Some(lf) => start = lf + 1,
            None => break,
        }
    }
    marks
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

    #[test]
    fn wire_marks_find_the_stuffed_dots_and_the_terminator() {
        let wire = b"..hidden\r\nplain\r\n...\r\nmid.dot\r\n.\r\n";
        let marks = wire_marks(wire);
        assert_eq!(marks.stuffed_dots, vec![0, 17]);
        assert_eq!(marks.terminator, Some(31));
        assert_eq!(wire[31], b'.');
        // What the decoder removes is exactly what the marks say.
        let mut out = Vec::new();
        BodyDecoder::new(1024).decode(wire, &mut out);
        assert_eq!(out, b".hidden\r\nplain\r\n..\r\nmid.dot\r\n");
        // Bare LF line ends, and bytes cut short: a "." not yet followed by its line end is
        // neither a stuffed dot nor the terminator.
        assert_eq!(wire_marks(b"a\n..b\n.").stuffed_dots, vec![2]);
        assert_eq!(wire_marks(b"a\n..b\n.").terminator, None);
        assert_eq!(wire_marks(b".\n").terminator, Some(0));
        assert_eq!(wire_marks(b"").stuffed_dots, Vec::<u32>::new());
    }

    #[test]
    fn wire_marks_agree_with_stuffing_at_random() {
        // Every line that stuff_lines gave a dot is marked, and nothing else.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..500 {
            let mut body = Vec::new();
            let mut dotted = 0;
            for _ in 0..(seed % 20) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if seed % 3 == 0 {
                    body.push(b'.');
                    dotted += 1;
                }
                body.extend(std::iter::repeat_n(b'x', (seed % 5) as usize));
                body.extend_from_slice(b"\r\n");
            }
            let mut wire = Vec::new();
            stuff_body(&body, &mut wire);
            let marks = wire_marks(&wire);
            assert_eq!(
                marks.stuffed_dots.len(),
                dotted,
                "{:?}",
                String::from_utf8_lossy(&wire)
            );
            for at in &marks.stuffed_dots {
                assert_eq!(wire.get(*at as usize..*at as usize + 2), Some(&b".."[..]));
            }
            assert_eq!(marks.terminator, Some(wire.len() as u32 - 3));
        }
    }

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

    /// RFC 1939 §3 read line by line, the slow obvious way: (body, consumed, bare LFs).
    fn reference(wire: &[u8]) -> (Vec<u8>, usize, u64) {
        let (mut out, mut pos, mut bare) = (Vec::new(), 0, 0);
        while pos < wire.len() {
            let end = wire[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(wire.len(), |i| pos + i + 1);
            let line = &wire[pos..end];
            if line.ends_with(b"\n") && !line.ends_with(b"\r\n") {
                bare += 1;
            }
            if line == b".\r\n" || line == b".\n" {
                return (out, end, bare);
            }
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
            pos = end;
        }
        (out, usize::MAX, bare)
    }

    #[test]
    fn agrees_with_a_line_by_line_reading_at_random_splits() {
        let mut next = rng(0x2545_f491);
        for _ in 0..20_000 {
            let len = next() as usize % 40;
            let mut wire: Vec<u8> = (0..len)
                .map(|_| b"ab.\r\n\n."[next() as usize % 7])
                .collect();
            wire.extend_from_slice(b"\r\n.\r\nNEXT");
            let cuts = (0..next() % 4)
                .map(|_| next() as usize % wire.len())
                .collect();
            agrees_with_reference(&wire, cuts);
        }
    }

    /// Decodes `wire` cut at `cuts` and checks body, octets consumed, bare LFs and lengths
    /// against the line-by-line reading.
    fn agrees_with_reference(wire: &[u8], mut cuts: Vec<usize>) {
        let (body, consumed, bare) = reference(wire);
        cuts.sort_unstable();
        let (out, used, d) = decode_in_chunks(wire, &cuts);
        assert_eq!(out, body, "{wire:?} cut at {cuts:?}");
        assert_eq!(used, consumed, "{wire:?} cut at {cuts:?}");
        assert_eq!(d.bare_lf_count(), bare, "{wire:?} cut at {cuts:?}");
        assert_eq!(d.decoded_len(), body.len() as u64);
        assert_eq!(d.wire_len(), consumed as u64);
    }

    /// A xorshift32 generator for the randomised tests.
    fn rng(mut seed: u32) -> impl FnMut() -> u32 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        }
    }

    #[test]
    fn marks_agree_with_an_octet_by_octet_search() {
        // Buffers of a few blocks, mostly CRLF text with a few dots, lone CRs and bare LFs, so
        // marks fall at every offset of a block and next to its edges, and many blocks have
        // none.
        let mut next = rng(0x9e37_79b9);
        for _ in 0..400 {
            let (mut bytes, len) = (Vec::new(), next() as usize % (4 * BLOCK + 10));
            while bytes.len() < len {
                bytes.extend_from_slice(match next() % 40 {
                    0 => b".",
                    1 => b"\n",
                    2 => b"\r",
                    3..=8 => b"\r\n",
                    _ => b"x",
                });
            }
            for prev_cr in [false, true] {
                let bare = |i: usize| {
                    bytes[i] == b'\n'
                        && if i == 0 {
                            !prev_cr
                        } else {
                            bytes[i - 1] != b'\r'
                        }
                };
                // bare_until[i]: bare LFs before offset i.
                let mut bare_until = vec![0u64];
                for i in 0..bytes.len() {
                    bare_until.push(bare_until[i] + u64::from(bare(i)));
                }
                for from in 0..=bytes.len() + 1 {
                    let counted = |end: usize| {
                        bare_until[end.min(bytes.len())] - bare_until[from.min(bytes.len())]
                    };
                    let dots = (from..bytes.len())
                        .filter(|&i| bytes[i] == b'\n' && bytes.get(i + 1) == Some(&b'.'));
                    let mut marks = Marks::new(from, prev_cr);
                    let case = format!("{bytes:?} from {from} prev_cr {prev_cr}");
                    for dot in dots {
                        assert_eq!(marks.next(&bytes), Some(dot), "{case}");
                        assert_eq!(marks.bare_lfs_before(dot + 1), counted(dot + 1), "{case}");
                    }
                    assert_eq!(marks.next(&bytes), None, "{case}");
                    assert_eq!(marks.next(&bytes), None, "{case}");
                    assert_eq!(
                        marks.bare_lfs_before(usize::MAX),
                        counted(bytes.len()),
                        "{case}"
                    );
                }
            }
        }
    }

    #[test]
    fn agrees_with_a_line_by_line_reading_on_long_bodies() {
        // Bodies of many blocks, with dotted lines, bare LFs and lone CRs at every alignment,
        // cut anywhere (inside a block, at its edges, between an LF and its dot).
        let mut next = rng(0x0bad_cafe);
        for _ in 0..3_000 {
            let mut wire = Vec::new();
            for _ in 0..next() % 12 {
                if next() % 4 == 0 {
                    wire.push(b'.');
                }
                let len = next() as usize % 90;
                wire.extend((0..len).map(|_| b"abc.\r"[next() as usize % 5]));
                wire.extend_from_slice(if next() % 5 == 0 { b"\n" } else { b"\r\n" });
            }
            wire.extend_from_slice(if next() % 3 == 0 { b".\n" } else { b".\r\n" });
            wire.extend_from_slice(b"+OK next");
            let cuts = (0..next() % 5)
                .map(|_| next() as usize % wire.len())
                .collect();
            agrees_with_reference(&wire, cuts);
        }
    }

    /// Everything a decode over `wire` in chunks gives: (body, wire octets consumed, finished,
    /// decoded length, wire length, bare LFs, over the cap).
    type Outcome = (Vec<u8>, usize, bool, u64, u64, u64, bool);

    /// Feeds `wire` split at `cuts` like a caller that keeps the unconsumed octets at the front
    /// of its receive buffer, with the copying decoder or decoding in that buffer.
    fn chunked(wire: &[u8], cuts: &[usize], max_body: u64, in_place: bool) -> Outcome {
        let mut d = BodyDecoder::new(max_body);
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let (mut fed, mut consumed, mut finished) = (0, 0, false);
        for &end in cuts.iter().chain([wire.len()].iter()) {
            buf.extend_from_slice(&wire[fed..end]);
            fed = end;
            let (used, done) = if in_place {
                let p = d.decode_in_place(&mut buf);
                assert!(p.body <= p.consumed && p.consumed <= buf.len());
                out.extend_from_slice(&buf[..p.body]);
                (p.consumed, p.finished)
            } else {
                let p = d.decode(&buf, &mut out);
                (p.consumed, p.finished)
            };
            consumed += used;
            buf.drain(..used);
            if done {
                finished = true;
                break;
            }
        }
        let counts = (d.decoded_len(), d.wire_len(), d.bare_lf_count());
        (
            out,
            consumed,
            finished,
            counts.0,
            counts.1,
            counts.2,
            d.is_over_limit(),
        )
    }

    #[test]
    fn in_place_gives_what_the_copying_decoder_gives_at_every_split() {
        let mut next = rng(0x5eed_1234);
        let mut wires: Vec<Vec<u8>> = [
            &b"a\r\n..b\r\n.\r\n"[..],
            b"..\r\n...\r\nplain\r\n..x\r\n.\r\n+OK",
            b".\rx\r\n.\r\n",
            b"a\nb\r\n..c\n.\n",
            b"no terminator\r\n..yet\r\n.",
            b".\r\n",
        ]
        .iter()
        .map(|w| w.to_vec())
        .collect();
        for _ in 0..30 {
            // Long enough for the block scan, with dotted lines and bare LFs.
            let mut wire = Vec::new();
            for _ in 0..next() % 8 {
                if next() % 3 == 0 {
                    wire.push(b'.');
                }
                let len = next() as usize % 80;
                wire.extend((0..len).map(|_| b"ab.\r"[next() as usize % 4]));
                wire.extend_from_slice(if next() % 4 == 0 { b"\n" } else { b"\r\n" });
            }
            wire.extend_from_slice(b".\r\nNEXT");
            wires.push(wire);
        }
        for wire in &wires {
            for max_body in [u64::MAX, 0, 5, 40] {
                for cut in 0..=wire.len() {
                    let cuts = [cut];
                    let copied = chunked(wire, &cuts, max_body, false);
                    let in_place = chunked(wire, &cuts, max_body, true);
                    assert_eq!(in_place, copied, "{wire:?} cut at {cut}, cap {max_body}");
                }
                for _ in 0..20 {
                    let mut cuts: Vec<usize> = (0..1 + next() % 6)
                        .map(|_| next() as usize % (wire.len() + 1))
                        .collect();
                    cuts.sort_unstable();
                    let copied = chunked(wire, &cuts, max_body, false);
                    let in_place = chunked(wire, &cuts, max_body, true);
                    assert_eq!(in_place, copied, "{wire:?} cut at {cuts:?}, cap {max_body}");
                }
            }
        }
        // And the copying decoder is the line-by-line reading.
        let wire = &wires[1];
        let (body, consumed, _) = reference(wire);
        let (out, used, finished, ..) = chunked(wire, &[], u64::MAX, true);
        assert_eq!((out, used, finished), (body, consumed, true));
    }

    #[test]
    fn in_place_leaves_the_undecided_octets_and_stops_after_the_end() {
        let mut d = BodyDecoder::new(u64::MAX);
        let mut buf = b"a\r\n..b\r\n.".to_vec();
        let p = d.decode_in_place(&mut buf);
        assert_eq!((p.consumed, p.body, p.finished), (8, 7, false));
        assert_eq!(&buf[..p.body], b"a\r\n.b\r\n");
        assert_eq!(&buf[p.consumed..], b".");
        let mut buf = b".\r\n+OK".to_vec();
        let p = d.decode_in_place(&mut buf);
        assert_eq!((p.consumed, p.body, p.finished), (3, 0, true));
        assert_eq!(&buf[p.consumed..], b"+OK");
        let p = d.decode_in_place(&mut buf[3..]);
        assert_eq!((p.consumed, p.body, p.finished), (0, 0, true));
        assert_eq!(d.wire_len(), 11);
    }

    #[test]
    fn bare_lfs_are_counted_exactly_in_long_bodies() {
        // Past 255 rounds of 32 octets, with bare LFs at every alignment and across reads.
        let mut wire = Vec::new();
        let mut bare = 0;
        for i in 0..40_000u32 {
            if i % 3 == 0 {
                wire.extend_from_slice(&b"abcdefg"[..(i % 7) as usize]);
                wire.push(b'\n');
                bare += 1;
            } else {
                wire.extend_from_slice(b"line\r\n");
            }
        }
        wire.extend_from_slice(b".\r\n");
        for cuts in [vec![], vec![1000, 8161, 8192, 100_001]] {
            let (_, used, d) = decode_in_chunks(&wire, &cuts);
            assert_eq!(used, wire.len());
            assert_eq!(d.bare_lf_count(), bare, "cuts {cuts:?}");
        }
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
