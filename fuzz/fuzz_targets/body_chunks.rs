//! `BodyDecoder` must not depend on how the wire is split into chunks, and `stuff_body` must
//! round-trip through it.
//!
//! Input layout: byte 0 = flags (bit 0..=1 select a small body cap, bit 2 = run the stuffing
//! round trip on the payload instead of only the decoder checks), byte 1 = number of cuts `n`
//! (mod 16), then `n` little-endian u16 cut positions (taken mod the payload length + 1); the
//! rest is the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use popwire::codec::{stuff_body, BodyDecoder};

/// What one decode run produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    out: Vec<u8>,
    consumed: usize,
    finished: bool,
    decoded_len: u64,
    wire_len: u64,
    bare_lf: u64,
    over_limit: bool,
}

fn one_shot(wire: &[u8], max_body: u64) -> Outcome {
    let mut d = BodyDecoder::new(max_body);
    let mut out = Vec::new();
    let p = d.decode(wire, &mut out);
    assert!(p.consumed <= wire.len());
    if !p.finished {
        // At most the two octets of an undecided line start (`.` or `.\r`) stay unconsumed.
        let left = &wire[p.consumed..];
        assert!(left.len() <= 2, "left {} octets unconsumed", left.len());
        assert!(left.is_empty() || left[0] == b'.', "left {left:?}");
    }
    // Decoding again after the end consumes nothing.
    if p.finished {
        let again = d.decode(&wire[p.consumed..], &mut out);
        assert_eq!(again.consumed, 0);
        assert!(again.finished);
    }
    assert_eq!(d.is_finished(), p.finished);
    assert_eq!(d.wire_len(), p.consumed as u64);
    Outcome {
        out,
        consumed: p.consumed,
        finished: p.finished,
        decoded_len: d.decoded_len(),
        wire_len: d.wire_len(),
        bare_lf: d.bare_lf_count(),
        over_limit: d.is_over_limit(),
    }
}

/// Feeds `wire` split at `cuts` (sorted), keeping unconsumed octets at the front of a buffer
/// like a real caller does.
fn chunked(wire: &[u8], cuts: &[usize], max_body: u64) -> Outcome {
    let mut d = BodyDecoder::new(max_body);
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut consumed = 0;
    let mut finished = false;
    for &end in cuts.iter().chain(std::iter::once(&wire.len())) {
        pending.extend_from_slice(&wire[fed..end]);
        fed = end;
        let p = d.decode(&pending, &mut out);
        assert!(p.consumed <= pending.len());
        consumed += p.consumed;
        pending.drain(..p.consumed);
        if p.finished {
            finished = true;
            break;
        }
        assert!(pending.len() <= 2, "kept {} octets", pending.len());
    }
    Outcome {
        out,
        consumed,
        finished,
        decoded_len: d.decoded_len(),
        wire_len: d.wire_len(),
        bare_lf: d.bare_lf_count(),
        over_limit: d.is_over_limit(),
    }
}

/// What `stuff_body` then decoding must give back: `x` with bare LFs turned into CRLF and a
/// final CRLF added when `x` does not end with a line end.
fn normalised(x: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(x.len() + 8);
    for (i, &b) in x.iter().enumerate() {
        if b == b'\n' && (i == 0 || x[i - 1] != b'\r') {
            v.push(b'\r');
        }
        v.push(b);
    }
    if !v.is_empty() && !v.ends_with(b"\n") {
        v.extend_from_slice(b"\r\n");
    }
    v
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let flags = data[0];
    let ncuts = (data[1] % 16) as usize;
    let mut rest = &data[2..];
    let mut raw_cuts = Vec::with_capacity(ncuts);
    for _ in 0..ncuts {
        if rest.len() < 2 {
            break;
        }
        raw_cuts.push(u16::from_le_bytes([rest[0], rest[1]]) as usize);
        rest = &rest[2..];
    }
    let payload = rest;
    let cap: u64 = match flags & 3 {
        0 => u64::MAX,
        1 => 0,
        2 => 7,
        _ => 64,
    };
    let cuts_for = |len: usize| {
        let mut cuts: Vec<usize> = raw_cuts.iter().map(|c| c % (len + 1)).collect();
        cuts.sort_unstable();
        cuts
    };

    // 1. The payload as a wire body: one go versus chunks.
    let cuts = cuts_for(payload.len());
    let whole = one_shot(payload, u64::MAX);
    let split = chunked(payload, &cuts, u64::MAX);
    assert_eq!(whole, split, "chunking changed the result (cuts {cuts:?})");
    assert_eq!(whole.decoded_len, whole.out.len() as u64);
    assert!(!whole.over_limit);

    if cap != u64::MAX {
        // With a cap the output may be cut short differently, but never past the cap, never
        // differently from the uncapped output, and everything else must agree.
        let capped_whole = one_shot(payload, cap);
        let capped_split = chunked(payload, &cuts, cap);
        for c in [&capped_whole, &capped_split] {
            assert!(c.out.len() as u64 <= cap);
            assert!(whole.out.starts_with(&c.out));
            assert_eq!(c.consumed, whole.consumed);
            assert_eq!(c.finished, whole.finished);
            assert_eq!(c.decoded_len, whole.decoded_len);
            assert_eq!(c.wire_len, whole.wire_len);
            assert_eq!(c.bare_lf, whole.bare_lf);
            assert_eq!(c.over_limit, whole.decoded_len > cap);
            if !c.over_limit {
                assert_eq!(c.out, whole.out);
            }
        }
    }

    // 2. Stuffing round trip: stuff_body(x) decodes back to x with CRLF line ends.
    if flags & 4 != 0 || payload.len() < 4096 {
        let mut wire = Vec::new();
        stuff_body(payload, &mut wire);
        assert!(wire.ends_with(b".\r\n"));
        let expected = normalised(payload);
        let whole = one_shot(&wire, u64::MAX);
        assert!(whole.finished, "stuffed body not finished");
        assert_eq!(whole.consumed, wire.len(), "terminator found early");
        assert_eq!(whole.bare_lf, 0);
        assert_eq!(whole.out, expected, "round trip changed the body");
        let cuts = cuts_for(wire.len());
        let split = chunked(&wire, &cuts, u64::MAX);
        assert_eq!(
            whole, split,
            "chunking changed the round trip (cuts {cuts:?})"
        );
    }
});
