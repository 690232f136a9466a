//! Property tests: random bodies survive stuff → unstuff at any chunking; random server bytes
//! never panic the session and keep the transcript well-formed.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::Harness;
use popwire::client::Reply;
use popwire::codec::{stuff_body, BodyDecoder};
use popwire::Event;
use proptest::prelude::*;

/// Lines biased towards the awkward cases: only dots, leading dots, empty, CR inside.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(b"...".to_vec()),
        Just(Vec::new()),
        Just(b".\r".to_vec()),
        "[.a-z \\r]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..40),
    ]
}

fn body() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(line(), 0..30)
}

/// The body with CRLF line ends, as a decoder must return it.
fn with_crlf(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn decode_chunked(wire: &[u8], cuts: &[usize]) -> (Vec<u8>, usize) {
    let mut decoder = BodyDecoder::new(u64::MAX);
    let mut out = Vec::new();
    let mut pending = Vec::new();
    let mut fed = 0;
    let mut consumed_total = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(wire.len());
    for end in bounds {
        pending.extend_from_slice(&wire[fed..end]);
        fed = end;
        let p = decoder.decode(&pending, &mut out);
        consumed_total += p.consumed;
        pending.drain(..p.consumed);
        if p.finished {
            return (out, consumed_total);
        }
    }
    panic!("terminator not found");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn stuffed_bodies_unstuff_to_themselves_at_any_chunking(
        lines in body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        trailer in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let expected = with_crlf(&lines);
        let mut wire = Vec::new();
        stuff_body(&expected, &mut wire);
        let body_len = wire.len();
        wire.extend_from_slice(&trailer); // bytes after the terminator are not the body's
        let (out, consumed) = decode_chunked(&wire, &cuts);
        prop_assert_eq!(out, expected);
        prop_assert_eq!(consumed, body_len);
    }

    #[test]
    fn retr_through_the_client_at_any_chunking(
        lines in body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let expected = with_crlf(&lines);
        let mut wire = b"+OK message follows\r\n".to_vec();
        stuff_body(&expected, &mut wire);
        let mut h = Harness::greeted("+OK\n");
        h.client.send_raw("PASS x").unwrap();
        h.server("+OK\n");
        let retr = h.client.retr(1).unwrap();
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        bounds.sort_unstable();
        bounds.push(wire.len());
        let mut start = 0;
        for end in bounds {
            h.feed(&wire[start..end]);
            start = end;
        }
        prop_assert_eq!(h.ok(retr), &Reply::Message(expected));
    }

    #[test]
    fn random_server_bytes_never_panic_and_keep_the_transcript_ordered(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..12),
        greet in any::<bool>(),
    ) {
        let mut h = Harness::new();
        if greet {
            h.server("+OK <1.2@x>\n");
        }
        let handles = [h.client.capa(), h.client.send_raw("RETR 1"), h.client.send_raw("AUTH PLAIN")];
        for chunk in &chunks {
            h.feed(chunk);
        }
        h.client.handle_close(h.now + 1, "end of test");
        h.pump();
        let seqs: Vec<u64> = h.transcript().iter().map(|t| t.seq).collect();
        prop_assert_eq!(seqs, (0..h.transcript().len() as u64).collect::<Vec<_>>());
        // Every queued command completes exactly once.
        for handle in handles.into_iter().flatten() {
            let n = h.events.iter().filter(|e| matches!(e, Event::Completed { handle: x, .. } if *x == handle)).count();
            prop_assert_eq!(n, 1);
        }
    }
}

proptest! {
    /// The server's encoders and the client's parsers agree on every value the RFC allows.
    #[test]
    fn stat_list_uidl_capa_encoders_round_trip(
        count in any::<u32>(),
        size in any::<u64>(),
        id in 1..=u32::MAX,
        uid in "[\\x21-\\x7e]{1,70}",
        entries in proptest::collection::vec((1..=u32::MAX, any::<u64>()), 0..20),
        tag in "[A-Za-z][A-Za-z0-9-]{0,15}",
        args in proptest::collection::vec("[\\x21-\\x7e]{1,10}", 0..4),
    ) {
        use popwire::codec::*;
        let stat = Stat { count, size };
        prop_assert_eq!(parse_stat(encode_stat(&stat).as_bytes()).unwrap(), stat);
        let entry = ListEntry { id, size };
        prop_assert_eq!(parse_list_line(encode_list_line(&entry).as_bytes()).unwrap(), entry);
        let u = UidlEntry { id, uid };
        prop_assert_eq!(parse_uidl_line(encode_uidl_line(&u).as_bytes()).unwrap(), u);
        let list: Vec<ListEntry> = entries.iter().map(|&(id, size)| ListEntry { id, size }).collect();
        let body = encode_listing(&list, encode_list_line);
        let back: Vec<ListEntry> = body
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| parse_list_line(l.strip_suffix(b"\r").unwrap()).unwrap())
            .collect();
        prop_assert_eq!(back, list);
        let capa = Capability { name: tag.to_ascii_uppercase(), args };
        prop_assert_eq!(parse_capa_line(encode_capa_line(&capa).as_bytes()).unwrap(), capa);
    }
}
