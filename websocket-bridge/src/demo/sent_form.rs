//! A message's form as RETR sends it (before byte-stuffing), the one rule both stores use:
//! every bare LF (an LF with no CR before it) becomes CRLF, existing CRLF and lone CRs are
//! kept, and a non-empty message whose last line has no LF gets a CRLF. The size LIST and STAT
//! announce is the size of this form, so it is exactly what RETR sends.

/// The offsets of the bare LFs in `bytes` (an LF at 0 counts as bare).
fn bare_lfs(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes).filter(move |&i| i == 0 || bytes.get(i - 1) != Some(&b'\r'))
}

/// Counts the size of the sent form of a message read in pieces (a file in chunks).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SentSize {
    size: u64,
    /// The last byte seen (0 before any).
    last: u8,
    empty: bool,
}

impl SentSize {
    /// Nothing counted yet.
    pub(crate) fn new() -> SentSize {
        SentSize {
            size: 0,
            last: 0,
            empty: true,
        }
    }

    /// Counts the next piece.
    pub(crate) fn add(&mut self, chunk: &[u8]) {
        let Some(&last) = chunk.last() else {
            return;
        };
        let mut bare = bare_lfs(chunk).count() as u64;
        // An LF at the piece's start was counted as bare; it is not after a CR.
        if chunk.first() == Some(&b'\n') && self.last == b'\r' {
            bare -= 1;
        }
        self.size += chunk.len() as u64 + bare;
        self.last = last;
        self.empty = false;
    }

    /// The size of the whole sent form.
    pub(crate) fn finish(self) -> u64 {
        if self.empty || self.last == b'\n' {
            self.size
        } else {
            self.size + 2
        }
    }
}

/// The size of `bytes` in their sent form.
#[cfg(test)]
pub(crate) fn sent_size(bytes: &[u8]) -> u64 {
    let mut size = SentSize::new();
    size.add(bytes);
    size.finish()
}

/// `bytes` in their sent form (the in-memory store uses the engine's
/// [`popwire::server::to_sent_form`], the same rule; a test checks they agree).
#[cfg(test)]
pub(crate) fn to_sent_form(bytes: &[u8]) -> Vec<u8> {
    let size = usize::try_from(sent_size(bytes)).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; size];
    let start = size - bytes.len();
    if let Some(tail) = buf.get_mut(start..) {
        tail.copy_from_slice(bytes);
    }
    // The size was computed by the same rule, so the conversion fills `buf` exactly.
    let converted = to_sent_form_in_place(&mut buf, start);
    debug_assert!(converted);
    buf
}

/// Converts the raw message in `buf[start..]` into its sent form, written from `buf[0]` on, in
/// one forward pass (no second buffer: the Maildir store reads a file straight into the buffer
/// the server streams from). True if it fills `buf` exactly; false (contents unspecified) if
/// the message needs more or less room than `buf` has.
pub(crate) fn to_sent_form_in_place(buf: &mut [u8], start: usize) -> bool {
    let end = buf.len();
    if start == 0 {
        // Nothing to add: true exactly when nothing needs adding.
        return bare_lfs(buf).next().is_none() && buf.last().is_none_or(|&b| b == b'\n');
    }
    if start > end {
        return false;
    }
    // Invariant: w <= r (output never overtakes unread input); `prev` is the raw byte before r.
    let (mut w, mut r, mut prev) = (0usize, start, 0u8);
    while r < end {
        let Some(rest) = buf.get(r..end) else {
            return false;
        };
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let lf = r + i;
                let before = if i > 0 {
                    buf.get(lf - 1).copied().unwrap_or(0)
                } else {
                    prev
                };
                if before == b'\r' {
                    buf.copy_within(r..=lf, w);
                    w += i + 1;
                } else {
                    // The CR takes one octet of the room between output and input.
                    if w >= r {
                        return false;
                    }
                    buf.copy_within(r..lf, w);
                    w += i;
                    if !put_crlf(buf, w) {
                        return false;
                    }
                    w += 2;
                }
                prev = b'\n';
                r = lf + 1;
            }
            None => {
                let n = end - r;
                buf.copy_within(r..end, w);
                w += n;
                return w + 2 == end && put_crlf(buf, w);
            }
        }
    }
    w == end
}

/// Writes CRLF at `buf[at..at + 2]`; false if it does not fit.
fn put_crlf(buf: &mut [u8], at: usize) -> bool {
    match buf.get_mut(at..at + 2) {
        Some(slot) => {
            slot.copy_from_slice(b"\r\n");
            true
        }
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The in-place conversion and the size agree with the engine's rule
    /// (`popwire::server::to_sent_form`, whose own tests hold the worked examples) on every
    /// string of up to seven octets over `a`, CR and LF, and leave a sent form as it is.
    #[test]
    fn the_sent_form_is_the_engines_on_every_short_string() {
        let alphabet = [b'a', b'\r', b'\n'];
        let mut checked = 0;
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let raw: Vec<u8> = (0..len)
                    .scan(n, |rest, _| {
                        let b = alphabet[*rest % 3];
                        *rest /= 3;
                        Some(b)
                    })
                    .collect();
                let sent = popwire::server::to_sent_form(&raw);
                assert_eq!(to_sent_form(&raw), sent, "{raw:?}");
                assert_eq!(sent_size(&raw), sent.len() as u64, "{raw:?}");
                assert_eq!(to_sent_form(&sent), sent, "already sent form: {raw:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, (0..=7).map(|l| 3usize.pow(l)).sum::<usize>());
    }

    /// Counting in pieces gives the size of the whole, wherever the pieces split (a CR at the
    /// end of one and its LF at the start of the next included).
    #[test]
    fn sizes_in_pieces_match_the_whole() {
        let raw = b"Subject: x\r\n\nline\r\nbare\nlast\r";
        for split in 0..=raw.len() {
            let (a, b) = raw.split_at(split);
            let mut size = SentSize::new();
            size.add(a);
            size.add(b);
            assert_eq!(size.finish(), sent_size(raw), "split at {split}");
        }
    }

    #[test]
    fn in_place_refuses_a_buffer_of_the_wrong_size() {
        let raw = b"a\nb";
        let right = sent_size(raw) as usize;
        for size in [right - 1, right + 1] {
            let mut buf = vec![0u8; size.max(raw.len())];
            let start = buf.len() - raw.len();
            buf[start..].copy_from_slice(raw);
            if buf.len() != right {
                assert!(!to_sent_form_in_place(&mut buf, start), "{size}");
            }
        }
        assert!(!to_sent_form_in_place(&mut [0u8; 2], 3));
    }
}
