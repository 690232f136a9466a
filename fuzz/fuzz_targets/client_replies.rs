//! The client session fed arbitrary server bytes, split at arbitrary points, while a script of
//! commands runs: it must never panic and its event stream must stay consistent.
//!
//! Input layout:
//! - byte 0, flags: bits 0..=1 greeting sent first (0 none, 1 `+OK POP3 ready`, 2 an APOP
//!   greeting, 3 `+OK` with `PIPELINING`-friendly text); bit 2 pipelining on; bit 3 a 64-octet
//!   body cap; bit 4 a 5 ms reply timeout; bit 5 close the connection at the end instead of
//!   timing out; bit 6 log in (`USER`/`PASS` answered `+OK`) before the script.
//! - byte 1: script length `n` (mod 32), then `n` op bytes (see `run_op`).
//! - next byte: chunk count `k` (mod 32), then `k` chunk lengths (one byte each).
//! - the rest: server bytes, fed in those chunks (what is left over goes in a last chunk).
//!
//! Round `i` runs op `i`, then feeds chunk `i`, then calls `handle_timeout` with a later time;
//! events and transmits are drained after every call.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use popwire::auth::Mechanism;
use popwire::client::{ClientConfig, Event, SessionState};
use popwire::codec::Command;
use popwire::{Client, CommandHandle};

struct Harness {
    client: Client,
    now: u64,
    next_seq: u64,
    last_at_ms: u64,
    issued: HashSet<CommandHandle>,
    completed: HashSet<CommandHandle>,
    closed_seen: bool,
    start_tls_seen: usize,
}

impl Harness {
    fn drain(&mut self) {
        // Calling `tls_established` while draining events may release queued commands, so loop
        // until both queues are empty.
        loop {
            let mut progressed = false;
            while let Some(bytes) = self.client.poll_transmit(self.now) {
                progressed = true;
                assert!(!bytes.is_empty(), "empty transmit");
                assert!(bytes.ends_with(b"\r\n"), "transmit without CRLF: {bytes:?}");
                assert!(!self.closed_seen, "transmit after Closed: {bytes:?}");
            }
            while let Some(event) = self.client.poll_event() {
                progressed = true;
                self.check_event(event);
            }
            if self.closed_seen {
                assert_eq!(self.client.state(), SessionState::Closed);
            }
            if !progressed {
                break;
            }
        }
    }

    fn check_event(&mut self, event: Event) {
        match event {
            Event::Transcript(entry) => {
                assert_eq!(
                    entry.seq, self.next_seq,
                    "transcript seq skipped or repeated"
                );
                self.next_seq += 1;
                assert!(entry.at_ms >= self.last_at_ms, "transcript time went back");
                self.last_at_ms = entry.at_ms;
            }
            Event::Completed { handle, .. } => {
                assert!(self.issued.contains(&handle), "{handle:?} was never issued");
                assert!(self.completed.insert(handle), "{handle:?} completed twice");
            }
            Event::Progress(p) => {
                assert!(
                    self.issued.contains(&p.handle),
                    "progress for unknown handle"
                );
                assert!(
                    !self.completed.contains(&p.handle),
                    "progress after completion of {:?}",
                    p.handle
                );
            }
            Event::StartTls => {
                assert!(!self.closed_seen, "StartTls after Closed");
                self.start_tls_seen += 1;
                self.client.tls_established(self.now, "TLS 1.3 (fuzz)");
                assert!(self.client.is_tls());
            }
            Event::Closed => {
                assert!(!self.closed_seen, "Closed twice");
                self.closed_seen = true;
                assert_eq!(self.client.state(), SessionState::Closed);
            }
            Event::StateChanged(s) => {
                assert!(!self.closed_seen, "state change to {s:?} after Closed");
            }
            _ => {}
        }
    }

    fn issue(&mut self, result: Result<CommandHandle, popwire::Pop3Error>) {
        if let Ok(h) = result {
            assert!(!self.closed_seen, "command accepted after Closed");
            assert!(self.issued.insert(h), "{h:?} issued twice");
        }
    }

    fn run_op(&mut self, op: u8) {
        let c = &mut self.client;
        let r = match op % 48 {
            0 => c.user("u"),
            1 => c.pass("p"),
            2 => c.stat(),
            3 => c.list(None),
            4 => c.list(Some(1)),
            5 => c.uidl(None),
            6 => c.uidl(Some(2)),
            7 => c.retr(1),
            8 => c.top(1, 0),
            9 => c.top(2, 10),
            10 => c.capa(),
            11 => c.stls(),
            12 => c.auth(Mechanism::Plain, "u", "p"),
            13 => c.auth(Mechanism::Login, "u", "p"),
            14 => c.auth(Mechanism::CramMd5, "u", "p"),
            15 => c.quit(),
            16 => c.dele(1),
            17 => c.apop("u", "p"),
            18 => c.command(Command::Utf8),
            19 => c.command(Command::Lang(None)),
            20 => c.command(Command::Noop),
            21 => c.command(Command::Rset),
            22 => c.send_raw("AUTH PLAIN"),
            23 => c.send_raw("AUTH LOGIN"),
            24 => c.send_raw("AUTH CRAM-MD5"),
            25 => c.send_raw("AUTH PLAIN AHUAcA=="),
            26 => c.send_raw("dGVzdA=="),
            27 => c.send_raw("="),
            28 => c.send_raw("*"),
            29 => c.send_raw("CAPA"),
            30 => c.send_raw("RETR 1"),
            31 => c.send_raw("LIST"),
            32 => c.send_raw("UIDL"),
            33 => c.send_raw("TOP 1 5"),
            34 => c.send_raw("STLS"),
            35 => c.send_raw("UTF8"),
            36 => c.send_raw("LANG"),
            37 => c.send_raw("NOOP"),
            38 => c.send_raw("XYZZ a b"),
            39 => c.send_raw("user u"),
            40 => c.send_raw("PASS p w"),
            41 => c.send_raw("QUIT"),
            42 => c.send_raw("LIST 1"),
            43 => {
                c.handle_close(self.now, "connection reset (fuzz)");
                self.drain();
                return;
            }
            44 => {
                // A long pause: any awaited reply is now overdue.
                self.now += 60_000;
                c.handle_timeout(self.now);
                self.drain();
                return;
            }
            45 => {
                c.note(self.now, "info.bridge", "bridge note (fuzz)");
                self.drain();
                return;
            }
            46 => c.send_raw("UIDL 2"),
            _ => c.send_raw("DELE 1"),
        };
        if self.closed_seen {
            assert!(r.is_err(), "command accepted after Closed");
        }
        self.issue(r);
        self.drain();
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.client.feed(self.now, bytes);
        self.drain();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let mut take = |n: usize| -> &[u8] {
        let n = n.min(data.len());
        let (head, tail) = data.split_at(n);
        data = tail;
        head
    };
    let flags = take(1).first().copied().unwrap_or(0);
    let nops = take(1).first().copied().unwrap_or(0) as usize % 32;
    let ops = take(nops).to_vec();
    let nchunks = take(1).first().copied().unwrap_or(0) as usize % 32;
    let sizes = take(nchunks).to_vec();
    let mut server = data;
    let mut chunks: Vec<&[u8]> = Vec::with_capacity(sizes.len() + 1);
    for &s in &sizes {
        let n = (s as usize).min(server.len());
        chunks.push(&server[..n]);
        server = &server[n..];
    }
    chunks.push(server);

    let config = ClientConfig {
        pipelining: flags & 4 != 0,
        max_body: if flags & 8 != 0 { 64 } else { 1 << 20 },
        reply_timeout_ms: if flags & 16 != 0 { 5 } else { 30_000 },
        ..ClientConfig::default()
    };
    let mut h = Harness {
        client: Client::new(config, 1_000),
        now: 1_000,
        next_seq: 0,
        last_at_ms: 0,
        issued: HashSet::new(),
        completed: HashSet::new(),
        closed_seen: false,
        start_tls_seen: 0,
    };
    h.drain();

    let greeting: &[u8] = match flags & 3 {
        1 => b"+OK POP3 server ready\r\n",
        2 => b"+OK POP3 ready <1896.697170952@dbc.mycorp.com>\r\n",
        3 => b"+OK [CAPA] ready\r\n",
        _ => b"",
    };
    if !greeting.is_empty() {
        h.feed(greeting);
        if flags & 64 != 0 {
            h.run_op(0); // USER u
            h.feed(b"+OK\r\n");
            h.run_op(1); // PASS p
            h.feed(b"+OK logged in\r\n");
        }
    }

    let rounds = ops.len().max(chunks.len());
    for i in 0..rounds {
        if let Some(&op) = ops.get(i) {
            h.run_op(op);
        }
        if let Some(chunk) = chunks.get(i) {
            h.feed(chunk);
        }
        h.now += 1 + (i as u64 % 3);
        h.client.handle_timeout(h.now);
        h.drain();
    }

    // The end: the connection closes or the timer runs out; every command must then be answered.
    if flags & 32 != 0 {
        h.client.handle_close(h.now, "eof (fuzz)");
    } else {
        h.now += 120_000;
        h.client.handle_timeout(h.now);
        if h.client.state() != SessionState::Closed {
            // Nothing awaited (e.g. between TLS and the next command): close explicitly.
            h.client.handle_close(h.now, "eof (fuzz)");
        }
    }
    h.drain();
    assert!(h.closed_seen, "no Closed event at the end");
    assert_eq!(h.client.state(), SessionState::Closed);
    for handle in &h.issued {
        assert!(h.completed.contains(handle), "{handle:?} never completed");
    }
});
