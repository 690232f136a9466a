//! Line framing with a hard cap: the first thing done to every reply or command.

use memchr::memchr;

/// Splits a byte stream into CRLF-terminated lines of at most `max_len` octets (line end included).
///
/// An over-long line is reported once as [`LineItem::TooLong`]; the framer then skips to the next
/// LF and carries on, so one bad line does not desynchronise the stream. A bare LF (no CR before
/// it) still ends a line and is flagged, because broken servers send them.
#[derive(Debug, Clone)]
pub struct LineFramer {
    max_len: usize,
    discarding: bool,
}

/// One step of [`LineFramer::next_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineItem<'a> {
    /// A whole line.
    Line {
        /// The line without its CRLF (or bare LF).
        line: &'a [u8],
        /// The line exactly as received, line end included.
        raw: &'a [u8],
        /// The line ended in LF without CR (an RFC 1939 violation, tolerated).
        bare_lf: bool,
    },
    /// A line exceeded the cap; its first octets are dropped and the framer skips to its end.
    TooLong {
        /// How many octets of the line were dropped by this step.
        dropped: usize,
    },
    /// The rest of an over-long line, dropped while resynchronising.
    Skipped {
        /// How many octets were dropped by this step.
        dropped: usize,
    },
}

impl LineFramer {
    /// A framer for lines of at most `max_len` octets, CRLF included.
    pub fn new(max_len: usize) -> LineFramer {
        LineFramer {
            max_len: max_len.max(2),
            discarding: false,
        }
    }

    /// The cap this framer enforces.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the cap for the lines that follow (e.g. a larger one for SASL challenges).
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.max(2);
    }

    /// Whether the framer is skipping the rest of an over-long line.
    pub fn is_resynchronising(&self) -> bool {
        self.discarding
    }

    /// Takes the next item from the front of `buf`, returning it and how many octets it consumed;
    /// `None` when `buf` holds no complete line yet (nothing is consumed then).
    pub fn next_line<'a>(&mut self, buf: &'a [u8]) -> Option<(LineItem<'a>, usize)> {
        if buf.is_empty() {
            return None;
        }
        if self.discarding {
            return Some(match memchr(b'\n', buf) {
                Some(lf) => {
                    self.discarding = false;
                    (LineItem::Skipped { dropped: lf + 1 }, lf + 1)
                }
                None => (LineItem::Skipped { dropped: buf.len() }, buf.len()),
            });
        }
        let (window, _) = buf.split_at(buf.len().min(self.max_len));
        match memchr(b'\n', window) {
            Some(lf) => {
                let (raw, _) = buf.split_at((lf + 1).min(buf.len()));
                let without_lf = raw.strip_suffix(b"\n").unwrap_or(raw);
                let line = without_lf.strip_suffix(b"\r");
                let bare_lf = line.is_none();
                let line = line.unwrap_or(without_lf);
                Some((LineItem::Line { line, raw, bare_lf }, lf + 1))
            }
            None if buf.len() >= self.max_len => {
                // No LF within the cap: the line is too long. Drop what we have and resync.
                match memchr(b'\n', buf) {
                    Some(lf) => Some((LineItem::TooLong { dropped: lf + 1 }, lf + 1)),
                    None => {
                        self.discarding = true;
                        Some((LineItem::TooLong { dropped: buf.len() }, buf.len()))
                    }
                }
            }
            None => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_crlf_lines_and_waits_for_more() {
        let mut f = LineFramer::new(512);
        assert_eq!(f.next_line(b"+OK hi"), None);
        let (item, n) = f.next_line(b"+OK hi\r\n-ERR").unwrap();
        assert_eq!(n, 8);
        assert_eq!(
            item,
            LineItem::Line {
                line: b"+OK hi",
                raw: b"+OK hi\r\n",
                bare_lf: false
            }
        );
    }

    #[test]
    fn flags_bare_lf() {
        let mut f = LineFramer::new(512);
        let (item, _) = f.next_line(b"+OK\n").unwrap();
        assert_eq!(
            item,
            LineItem::Line {
                line: b"+OK",
                raw: b"+OK\n",
                bare_lf: true
            }
        );
        let (item, _) = f.next_line(b"\n").unwrap();
        assert_eq!(
            item,
            LineItem::Line {
                line: b"",
                raw: b"\n",
                bare_lf: true
            }
        );
    }

    #[test]
    fn cap_counts_the_line_end() {
        let mut f = LineFramer::new(8);
        // 6 octets + CRLF = 8: allowed.
        assert!(matches!(
            f.next_line(b"123456\r\n").unwrap().0,
            LineItem::Line { .. }
        ));
        // 7 octets + CRLF = 9: too long.
        assert_eq!(
            f.next_line(b"1234567\r\nX").unwrap(),
            (LineItem::TooLong { dropped: 9 }, 9)
        );
    }

    #[test]
    fn resynchronises_after_an_overlong_line_split_across_chunks() {
        let mut f = LineFramer::new(8);
        assert_eq!(
            f.next_line(b"0123456789").unwrap(),
            (LineItem::TooLong { dropped: 10 }, 10)
        );
        assert!(f.is_resynchronising());
        assert_eq!(
            f.next_line(b"abc").unwrap(),
            (LineItem::Skipped { dropped: 3 }, 3)
        );
        assert_eq!(
            f.next_line(b"d\r\n+OK\r\n").unwrap(),
            (LineItem::Skipped { dropped: 3 }, 3)
        );
        assert!(!f.is_resynchronising());
        let (item, _) = f.next_line(b"+OK\r\n").unwrap();
        assert!(matches!(item, LineItem::Line { line: b"+OK", .. }));
    }
}
