//! The batch API (`retr_many`), USER with PASS under PIPELINING, and streamed bodies
//! (`retr_stream` / `take_body`), against an in-memory POP3 server that checks the pipelining.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{HashSet, VecDeque};

use popwire::client::{new_since, Batch, BatchOptions, Reply};
use popwire::codec::{stuff_body, UidlEntry};
use popwire::{Client, ClientConfig, CommandHandle, Event, Pop3Error, SessionState};

/// A scripted POP3 server in memory: answers what it was sent, in order, and records how many
/// commands were ever waiting for an answer at once.
struct Server {
    bodies: Vec<Vec<u8>>,
    pipelining: bool,
    /// Message numbers whose RETR is answered `-ERR`.
    refuse: HashSet<u32>,
    input: Vec<u8>,
    unanswered: VecDeque<String>,
    most_unanswered: usize,
    /// Every RETR received, in order.
    retrs: Vec<u32>,
    /// Commands received per transmit from the client.
    batches: Vec<Vec<String>>,
}

impl Server {
    fn new(bodies: Vec<Vec<u8>>, pipelining: bool) -> Server {
        Server {
            bodies,
            pipelining,
            refuse: HashSet::new(),
            input: Vec::new(),
            unanswered: VecDeque::new(),
            most_unanswered: 0,
            retrs: Vec::new(),
            batches: Vec::new(),
        }
    }

    /// Bytes from the client: split into command lines, queued unanswered.
    fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        let mut got = Vec::new();
        while let Some(lf) = self.input.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.input.drain(..=lf).collect();
            let line = String::from_utf8(line).unwrap().trim_end().to_owned();
            if let Some(n) = line.strip_prefix("RETR ") {
                self.retrs.push(n.parse().unwrap());
            }
            got.push(line.clone());
            self.unanswered.push_back(line);
        }
        self.most_unanswered = self.most_unanswered.max(self.unanswered.len());
        if !got.is_empty() {
            self.batches.push(got);
        }
    }

    /// Answers every command waiting, in order.
    fn answer_all(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(line) = self.unanswered.pop_front() {
            self.answer(&line, &mut out);
        }
        out
    }

    fn answer(&self, line: &str, out: &mut Vec<u8>) {
        let (verb, arg) = line.split_once(' ').unwrap_or((line, ""));
        match verb {
            "CAPA" => {
                out.extend_from_slice(b"+OK\r\nUSER\r\nUIDL\r\n");
                if self.pipelining {
                    out.extend_from_slice(b"PIPELINING\r\n");
                }
                out.extend_from_slice(b".\r\n");
            }
            "USER" | "PASS" | "QUIT" | "NOOP" => out.extend_from_slice(b"+OK\r\n"),
            "LIST" => {
                out.extend_from_slice(b"+OK\r\n");
                for (i, body) in self.bodies.iter().enumerate() {
                    out.extend_from_slice(format!("{} {}\r\n", i + 1, body.len()).as_bytes());
                }
                out.extend_from_slice(b".\r\n");
            }
            "UIDL" => {
                out.extend_from_slice(b"+OK\r\n");
                for i in 1..=self.bodies.len() {
                    out.extend_from_slice(format!("{i} uid-{i}\r\n").as_bytes());
                }
                out.extend_from_slice(b".\r\n");
            }
            "RETR" => {
                let n: u32 = arg.parse().unwrap();
                match self.bodies.get(n as usize - 1) {
                    Some(body) if !self.refuse.contains(&n) => {
                        out.extend_from_slice(b"+OK message follows\r\n");
                        stuff_body(body, out);
                    }
                    _ => out.extend_from_slice(b"-ERR no such message\r\n"),
                }
            }
            _ => out.extend_from_slice(b"-ERR unknown\r\n"),
        }
    }
}

/// A maildrop of `n` messages of varied sizes (about 200 to 6,000 octets), lines starting with
/// dots among them, each message's text naming its number.
fn maildrop(n: usize) -> Vec<Vec<u8>> {
    let mut seed = 0x9e37_79b9_u32;
    (1..=n)
        .map(|i| {
            let mut body = format!("Subject: message {i}\r\n\r\n").into_bytes();
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let lines = 3 + (seed >> 24) as usize % 100;
            for l in 0..lines {
                if l % 7 == 3 {
                    body.extend_from_slice(b".a line that starts with a dot\r\n");
                } else {
                    body.extend_from_slice(format!("line {l} of message {i}\r\n").as_bytes());
                }
            }
            body
        })
        .collect()
}

/// Moves what the client transmits to the server, and what the server answers back to the
/// client in `chunk`-octet reads. `poll` says whether events are taken after each read (a
/// caller keeping up) or only once the wire is quiet; `on_feed` runs after every read.
struct Link {
    client: Client,
    server: Server,
    now: u64,
    chunk: usize,
    events: Vec<Event>,
}

impl Link {
    fn new(server: Server) -> Link {
        let mut link = Link {
            client: Client::new(ClientConfig::default(), 0),
            server,
            now: 0,
            chunk: 1000,
            events: Vec::new(),
        };
        link.client.feed(0, b"+OK ready\r\n");
        link
    }

    fn transmit(&mut self) {
        while let Some(bytes) = self.client.poll_transmit(self.now) {
            self.server.receive(&bytes);
        }
    }

    fn take_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            self.events.push(event);
        }
    }

    /// Runs until neither side has anything left to say.
    fn run(&mut self, poll: bool, mut on_feed: impl FnMut(&mut Link)) {
        loop {
            self.transmit();
            let wire = self.server.answer_all();
            if wire.is_empty() {
                self.take_events();
                self.transmit();
                if self.server.unanswered.is_empty() {
                    return;
                }
                continue;
            }
            for piece in wire.chunks(self.chunk) {
                self.now += 1;
                self.client.feed(self.now, piece);
                on_feed(self);
                if poll {
                    self.take_events();
                }
            }
        }
    }

    /// Sends `f`'s command, runs to quiet, returns its reply.
    fn wait(&mut self, handle: CommandHandle) -> Reply {
        self.run(true, |_| {});
        result(&self.events, handle).clone().unwrap()
    }

    fn login(&mut self) {
        let h = self.client.capa().unwrap();
        self.wait(h);
        let user = self.client.user("alice").unwrap();
        if !self.client.is_pipelining() {
            self.wait(user);
        }
        let h = self.client.pass("pop3").unwrap();
        self.wait(h);
        assert_eq!(self.client.state(), SessionState::Transaction);
        let h = self.client.list(None).unwrap();
        self.wait(h);
    }
}

fn result(events: &[Event], handle: CommandHandle) -> &Result<Reply, Pop3Error> {
    let mut found = events.iter().filter_map(|e| match e {
        Event::Completed { handle: h, result } if *h == handle => Some(result),
        _ => None,
    });
    let first = found.next().expect("the command completed");
    assert!(found.next().is_none(), "completed once");
    first
}

/// The batch's messages in the order their events came, with the position of each.
fn batch_results(events: &[Event], batch: &Batch) -> Vec<(usize, Result<Vec<u8>, Pop3Error>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Completed { handle, result } => {
                let position = batch.position(*handle)?;
                Some((
                    position,
                    result.clone().map(|r| match r {
                        Reply::Message(m) => m,
                        other => panic!("not a message: {other:?}"),
                    }),
                ))
            }
            _ => None,
        })
        .collect()
}

/// Asserts that every message of `ids` arrived once, in order, with its body.
fn assert_all_in_order(link: &Link, batch: &Batch, ids: &[u32]) {
    let got = batch_results(&link.events, batch);
    assert_eq!(got.len(), ids.len(), "every message once");
    for (i, (position, body)) in got.iter().enumerate() {
        assert_eq!(*position, i, "in order");
        let id = ids[i];
        assert_eq!(
            body.as_ref().unwrap(),
            &link.server.bodies[id as usize - 1],
            "message {id}"
        );
    }
    assert_eq!(link.client.batch_remaining(batch), 0);
}

#[test]
fn a_pipelined_batch_never_exceeds_its_window_and_delivers_each_message_once_in_order() {
    let options = BatchOptions {
        max_messages: 16,
        max_bytes: 20_000,
    };
    for chunk in [1, 7, 1000, 1 << 20] {
        let mut link = Link::new(Server::new(maildrop(120), true));
        link.chunk = chunk;
        link.login();
        let sizes: Vec<u64> = link.server.bodies.iter().map(|b| b.len() as u64).collect();
        let ids: Vec<u32> = (1..=120).collect();
        let batch = link.client.retr_many(&ids, options).unwrap();
        let mut most_out = 0;
        let mut taken = 0;
        let mut looked = 0;
        link.run(true, |link| {
            // What the server was asked for and the caller has not taken yet: the window.
            taken += link.events[looked..]
                .iter()
                .filter(|e| matches!(e, Event::Completed { handle, .. } if batch.position(*handle).is_some()))
                .count();
            looked = link.events.len();
            let out: Vec<u32> = link.server.retrs[taken..].to_vec();
            let bytes: u64 = out.iter().map(|&id| sizes[id as usize - 1]).sum();
            assert!(out.len() <= 16, "{} RETRs out", out.len());
            assert!(
                bytes <= 20_000 || out.len() == 1,
                "{bytes} octets out in {} RETRs",
                out.len()
            );
            assert_eq!(link.client.batch_in_window(&batch), (out.len(), bytes));
            most_out = most_out.max(out.len());
        });
        assert!(
            most_out >= 8,
            "the batch pipelines (at most {most_out} out)"
        );
        assert_eq!(link.server.retrs, ids, "each RETR once, in order");
        assert_all_in_order(&link, &batch, &ids);
        assert_eq!(link.client.batch_in_window(&batch), (0, 0));
    }
}

#[test]
fn without_pipelining_a_batch_goes_one_at_a_time() {
    let mut link = Link::new(Server::new(maildrop(30), false));
    link.login();
    assert!(!link.client.is_pipelining());
    let ids: Vec<u32> = (1..=30).rev().collect();
    let batch = link
        .client
        .retr_many(&ids, BatchOptions::default())
        .unwrap();
    link.run(true, |_| {});
    assert_eq!(
        link.server.most_unanswered, 1,
        "never two commands unanswered"
    );
    assert_eq!(link.server.retrs, ids);
    assert_all_in_order(&link, &batch, &ids);
}

#[test]
fn an_err_in_the_middle_fails_that_message_only() {
    let mut server = Server::new(maildrop(20), true);
    server.refuse.insert(7);
    let mut link = Link::new(server);
    link.login();
    let ids: Vec<u32> = (1..=20).collect();
    let batch = link
        .client
        .retr_many(&ids, BatchOptions::default())
        .unwrap();
    link.run(true, |_| {});
    let got = batch_results(&link.events, &batch);
    assert_eq!(got.len(), 20);
    for (i, (position, body)) in got.iter().enumerate() {
        assert_eq!(*position, i);
        if ids[i] == 7 {
            assert!(
                matches!(body, Err(Pop3Error::Server { text, .. }) if text == "no such message"),
                "{body:?}"
            );
        } else {
            assert_eq!(body.as_ref().unwrap(), &link.server.bodies[i]);
        }
    }
}

#[test]
fn the_engine_holds_no_more_than_the_window_even_when_the_caller_does_not_take_messages() {
    let options = BatchOptions {
        max_messages: 50,
        max_bytes: 30_000,
    };
    let mut link = Link::new(Server::new(maildrop(200), true));
    link.chunk = 4096;
    link.login();
    let ids: Vec<u32> = (1..=200).collect();
    let largest = link.server.bodies.iter().map(Vec::len).max().unwrap();
    let batch = link.client.retr_many(&ids, options).unwrap();
    let mut most_held = 0;
    // Events are taken only when the wire is quiet: replies pile up in the engine.
    link.run(false, |link| {
        let held = link.client.held_body_bytes();
        assert!(held <= 30_000.max(largest), "{held} body octets held");
        most_held = most_held.max(held);
    });
    assert!(most_held > 15_000, "the window filled ({most_held})");
    assert_all_in_order(&link, &batch, &ids);
    assert_eq!(link.client.held_body_bytes(), 0);
}

#[test]
fn a_caller_that_keeps_up_holds_at_most_one_body() {
    let mut link = Link::new(Server::new(maildrop(100), true));
    link.chunk = 512;
    link.login();
    let largest = link.server.bodies.iter().map(Vec::len).max().unwrap();
    let ids: Vec<u32> = (1..=100).collect();
    let batch = link
        .client
        .retr_many(&ids, BatchOptions::default())
        .unwrap();
    link.run(true, |link| {
        let held = link.client.held_body_bytes();
        // One body being read, plus at most the messages that completed in this read.
        assert!(held <= largest + 512, "{held} body octets held");
    });
    assert_all_in_order(&link, &batch, &ids);
}

#[test]
fn a_batch_cut_short_by_the_connection_fails_each_remaining_message_once() {
    let mut link = Link::new(Server::new(maildrop(40), true));
    link.login();
    let ids: Vec<u32> = (1..=40).collect();
    let options = BatchOptions {
        max_messages: 4,
        ..BatchOptions::default()
    };
    let batch = link.client.retr_many(&ids, options).unwrap();
    link.transmit();
    let wire = link.server.answer_all();
    // Two messages and a half arrive, then the connection drops.
    let cut = wire.len() * 5 / 8;
    link.client.feed(1, &wire[..cut]);
    link.client.handle_close(2, "reset");
    link.take_events();
    let got = batch_results(&link.events, &batch);
    assert_eq!(got.len(), 40, "every message settles once");
    let positions: Vec<usize> = got.iter().map(|(p, _)| *p).collect();
    let mut sorted = positions.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 40);
    assert!(got[0].1.is_ok() && got[1].1.is_ok());
    assert!(got[39].1.as_ref().is_err_and(|e| e.kind() == "network"));
    assert!(link.client.retr_many(&ids, options).is_err());
}

#[test]
fn a_batch_outside_transaction_is_refused_and_an_empty_one_is_done() {
    let mut link = Link::new(Server::new(maildrop(2), true));
    let err = link
        .client
        .retr_many(&[1], BatchOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), "state");
    link.login();
    let batch = link.client.retr_many(&[], BatchOptions::default()).unwrap();
    assert!(batch.is_empty());
    assert_eq!(link.client.batch_remaining(&batch), 0);
    assert_eq!(link.client.poll_transmit(9), None);
}

#[test]
fn new_since_lists_the_unseen_unique_ids_in_order() {
    let listing: Vec<UidlEntry> = (1..=5)
        .map(|id| UidlEntry {
            id,
            uid: format!("u{id}"),
        })
        .collect();
    let seen: HashSet<String> = ["u2", "u4", "gone"].iter().map(|s| s.to_string()).collect();
    assert_eq!(new_since(&listing, &seen), vec![1, 3, 5]);
}

#[test]
fn user_and_pass_go_out_together_once_pipelining_is_known() {
    let mut link = Link::new(Server::new(maildrop(1), true));
    let h = link.client.capa().unwrap();
    link.wait(h);
    link.client.user("alice").unwrap();
    let pass = link.client.pass("pop3").unwrap();
    link.transmit();
    assert_eq!(
        link.server.batches.last().unwrap(),
        &vec!["USER alice".to_owned(), "PASS pop3".to_owned()],
        "one write"
    );
    link.wait(pass);
    assert_eq!(link.client.state(), SessionState::Transaction);
}

#[test]
fn pass_waits_for_user_before_capa_or_without_pipelining() {
    for capa in [false, true] {
        let mut link = Link::new(Server::new(maildrop(1), false));
        if capa {
            let h = link.client.capa().unwrap();
            link.wait(h);
        }
        link.client.user("alice").unwrap();
        let err = link.client.pass("pop3").unwrap_err();
        assert_eq!(err.kind(), "state", "capa {capa}");
        link.run(true, |_| {});
        let pass = link.client.pass("pop3").unwrap();
        link.wait(pass);
        assert_eq!(link.client.state(), SessionState::Transaction);
        assert_eq!(link.server.most_unanswered, 1);
    }
}

#[test]
fn pass_does_not_join_a_user_that_was_already_answered_or_followed() {
    let mut link = Link::new(Server::new(maildrop(1), true));
    let h = link.client.capa().unwrap();
    link.wait(h);
    link.client.user("alice").unwrap();
    link.client.capa().unwrap();
    assert_eq!(link.client.pass("pop3").unwrap_err().kind(), "state");
}

/// A streamed RETR, its wire split at `cuts`; the body is taken after every read.
fn stream_in_pieces(wire: &[u8], cuts: &[usize]) -> (Vec<u8>, usize) {
    let mut client = Client::new(ClientConfig::default(), 0);
    client.feed(0, b"+OK\r\n");
    client.user("a").unwrap();
    client.poll_transmit(0);
    client.feed(0, b"+OK\r\n");
    client.pass("b").unwrap();
    client.poll_transmit(0);
    client.feed(0, b"+OK\r\n");
    // LIST gives the size: a streamed body is still not preallocated to it.
    client.list(Some(1)).unwrap();
    client.poll_transmit(0);
    client.feed(0, b"+OK 1 100000000\r\n");
    while client.poll_event().is_some() {}
    let handle = client.retr_stream(1).unwrap();
    client.poll_transmit(0);
    let mut got = Vec::new();
    let mut most_held = 0;
    let mut bounds = cuts.to_vec();
    bounds.push(wire.len());
    let mut from = 0;
    let mut done = false;
    for to in bounds {
        client.feed(1, &wire[from..to]);
        from = to;
        most_held = most_held.max(client.held_body_bytes());
        if let Some((h, _)) = client.streaming_body() {
            assert_eq!(h, handle);
        }
        if let Some(chunk) = client.take_body(handle) {
            got.extend_from_slice(&chunk);
        }
        if let Some((_, rest)) = client.streaming_body() {
            assert!(rest.is_empty(), "a take leaves the engine nothing");
        }
        while let Some(event) = client.poll_event() {
            if let Event::Completed { handle: h, result } = event {
                assert_eq!(h, handle);
                match result.unwrap() {
                    Reply::Message(rest) => got.extend_from_slice(&rest),
                    other => panic!("{other:?}"),
                }
                done = true;
            }
        }
    }
    assert!(done, "completed");
    (got, most_held)
}

#[test]
fn a_streamed_body_is_handed_over_in_pieces_at_every_split() {
    let body = b"a\r\n.\r\n..b\r\n\r\n.c\r\nlast line\r\n".to_vec();
    let mut wire = b"+OK\r\n".to_vec();
    stuff_body(&body, &mut wire);
    for cut in 0..=wire.len() {
        let (got, _) = stream_in_pieces(&wire, &[cut]);
        assert_eq!(got, body, "cut at {cut}");
    }
    for a in 0..wire.len() {
        for b in a..=wire.len() {
            let (got, _) = stream_in_pieces(&wire, &[a, b]);
            assert_eq!(got, body, "cuts at {a} and {b}");
        }
    }
    // Every octet its own read.
    let cuts: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(stream_in_pieces(&wire, &cuts).0, body);
}

#[test]
fn a_streamed_body_is_not_kept_by_the_engine() {
    let body: Vec<u8> = maildrop(400).concat();
    let mut wire = b"+OK\r\n".to_vec();
    stuff_body(&body, &mut wire);
    let cuts: Vec<usize> = (1..wire.len() / 4096 + 1).map(|i| i * 4096).collect();
    let (got, most_held) = stream_in_pieces(&wire, &cuts);
    assert_eq!(got, body);
    assert!(body.len() > 100_000);
    assert!(most_held <= 4096, "{most_held} octets held at once");
}

#[test]
fn take_body_is_none_for_a_body_not_being_read() {
    let mut link = Link::new(Server::new(maildrop(2), true));
    link.login();
    let h = link.client.retr(1).unwrap();
    assert_eq!(link.client.take_body(h), None, "not started");
    link.wait(h);
    assert_eq!(link.client.take_body(h), None, "completed");
    assert!(matches!(result(&link.events, h), Ok(Reply::Message(m)) if !m.is_empty()));
}

/// The transcript's body entries (`body.RETR`), in order: (kept octets, truncated, total).
fn retr_bodies(events: &[Event]) -> Vec<(usize, bool, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Transcript(t) if t.explain.key == "body.RETR" => {
                Some((t.bytes.len(), t.truncated, t.total_bytes))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_batch_message_shows_only_its_start_in_the_transcript_and_goes_whole_to_the_caller() {
    use popwire::explain::{BATCH_BODY_KEEP, BODY_KEEP};
    let mut link = Link::new(Server::new(maildrop(40), true));
    link.login();
    // A RETR of its own keeps its whole body (under BODY_KEEP) for the transcript.
    let largest = (1..=40u32)
        .max_by_key(|&id| link.server.bodies[id as usize - 1].len())
        .unwrap();
    assert!(link.server.bodies[largest as usize - 1].len() > BATCH_BODY_KEEP);
    let h = link.client.retr(largest).unwrap();
    link.wait(h);
    let (kept, truncated, total) = *retr_bodies(&link.events).last().unwrap();
    assert_eq!(kept as u64, total, "a single RETR's entry keeps it all");
    assert!(!truncated && kept <= BODY_KEEP);

    let before = retr_bodies(&link.events).len();
    let ids: Vec<u32> = (1..=40).collect();
    let batch = link
        .client
        .retr_many(&ids, BatchOptions::default())
        .unwrap();
    link.run(true, |_| {});
    assert_all_in_order(&link, &batch, &ids);
    let entries = &retr_bodies(&link.events)[before..];
    assert_eq!(entries.len(), 40);
    let mut cut = 0;
    for &(kept, truncated, total) in entries {
        assert_eq!(kept as u64, total.min(BATCH_BODY_KEEP as u64));
        assert_eq!(truncated, total > BATCH_BODY_KEEP as u64);
        cut += usize::from(truncated);
    }
    assert!(cut > 0, "some messages are longer than the batch's preview");
}
