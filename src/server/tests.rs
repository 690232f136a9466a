//! The teaching server against popwire's own client, in memory: every flow end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::*;
use crate::client::{Reply, SessionState};
use crate::codec::Keyword;
use crate::{Client, ClientConfig, CommandHandle, Event, Pop3Error};

/// A maildrop: (unique-id, message) in order.
type Maildrop = Vec<(String, Arc<[u8]>)>;

/// A maildrop per user; password "pop3" for everyone.
#[derive(Default)]
struct MemStore {
    drops: Mutex<HashMap<String, Maildrop>>,
    locked: Mutex<HashSet<String>>,
}

impl MemStore {
    fn with(user: &str, messages: &[&[u8]]) -> MemStore {
        let store = MemStore::default();
        let msgs = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("uid-{i}"), Arc::from(*m)))
            .collect();
        store.drops.lock().unwrap().insert(user.into(), msgs);
        store
    }
    fn count(&self, user: &str) -> usize {
        self.drops.lock().unwrap().get(user).map_or(0, Vec::len)
    }
}

impl Mailstore for MemStore {
    fn secret(&self, _user: &str) -> Option<String> {
        Some("pop3".into())
    }
    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        if !self.locked.lock().unwrap().insert(user.into()) {
            return Err(MailstoreError::InUse);
        }
        let drops = self.drops.lock().unwrap();
        Ok(drops
            .get(user)
            .map(|msgs| {
                msgs.iter()
                    .map(|(uid, b)| MessageInfo {
                        uid: uid.clone(),
                        size: b.len() as u64,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        let drops = self.drops.lock().unwrap();
        drops
            .get(user)
            .and_then(|m| m.iter().find(|(u, _)| u == uid))
            .map(|(_, b)| b.clone())
            .ok_or_else(|| MailstoreError::Failed("gone".into()))
    }
    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError> {
        if let Some(msgs) = self.drops.lock().unwrap().get_mut(user) {
            msgs.retain(|(uid, _)| !deleted.contains(uid));
        }
        self.release(user);
        Ok(())
    }
    fn release(&self, user: &str) {
        self.locked.lock().unwrap().remove(user);
    }
}

/// A client and a server wired back to back.
struct Wire<'a> {
    client: Client,
    server: ServerSession,
    store: &'a MemStore,
    now: u64,
    events: Vec<Event>,
    server_events: Vec<ServerEvent>,
}

impl<'a> Wire<'a> {
    fn new(store: &'a MemStore, config: ServerConfig) -> Wire<'a> {
        let mut w = Wire {
            client: Client::new(ClientConfig::default(), 0),
            server: ServerSession::new(config, 0, "1896.697170952"),
            store,
            now: 0,
            events: Vec::new(),
            server_events: Vec::new(),
        };
        w.run();
        w
    }

    /// Moves bytes both ways until nothing moves, handling TLS upgrades as no-ops.
    fn run(&mut self) {
        loop {
            let mut moved = false;
            if let Some(bytes) = self.server.poll_transmit(self.now, self.store) {
                self.now += 1;
                self.client.feed(self.now, &bytes);
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                if e == ServerEvent::StartTls {
                    self.server.tls_established();
                }
                self.server_events.push(e);
            }
            while let Some(e) = self.client.poll_event() {
                if e == Event::StartTls {
                    self.client.tls_established(self.now, "test TLS");
                    moved = true;
                }
                self.events.push(e);
            }
            if let Some(bytes) = self.client.poll_transmit(self.now) {
                self.server.feed(self.now, &bytes);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    fn result(&self, h: CommandHandle) -> Result<Reply, Pop3Error> {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::Completed { handle, result } if *handle == h => Some(result.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{h:?} did not complete"))
    }

    fn login(&mut self) {
        let h = self.client.user("alice").unwrap();
        self.run();
        self.result(h).unwrap();
        let h = self.client.pass("pop3").unwrap();
        self.run();
        self.result(h).unwrap();
        assert_eq!(self.client.state(), SessionState::Transaction);
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.server.handle_timeout(self.now, self.store);
        self.run();
    }
}

const DOTS: &[u8] = b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nend\r\n";
const PLAIN: &[u8] = b"Subject: hello\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";

#[test]
fn a_whole_session_user_pass_stat_list_uidl_top_retr_dele_quit() {
    let store = MemStore::with("alice", &[PLAIN, DOTS]);
    let mut w = Wire::new(&store, ServerConfig::default());
    assert!(
        w.client.greeting().unwrap().apop_timestamp.as_deref()
            == Some("<1896.697170952@popwire.test>")
    );
    w.login();
    let stat = w.client.stat().unwrap();
    let list = w.client.list(None).unwrap();
    let uidl = w.client.uidl(None).unwrap();
    let top = w.client.top(1, 2).unwrap();
    let retr = w.client.retr(2).unwrap();
    w.run();
    let total = (PLAIN.len() + DOTS.len()) as u64;
    assert!(matches!(w.result(stat).unwrap(), Reply::Stat(s) if s.count == 2 && s.size == total));
    assert!(
        matches!(w.result(list).unwrap(), Reply::List(l) if l.len() == 2 && l[1].size == DOTS.len() as u64)
    );
    assert!(matches!(w.result(uidl).unwrap(), Reply::Uidl(u) if u[0].uid == "uid-0"));
    assert_eq!(
        w.result(top).unwrap(),
        Reply::Message(b"Subject: hello\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\n".to_vec())
    );
    assert_eq!(
        w.result(retr).unwrap(),
        Reply::Message(DOTS.to_vec()),
        "stuffed and unstuffed"
    );
    let dele = w.client.dele(1).unwrap();
    w.run();
    w.result(dele).unwrap();
    // Marked, not gone: STAT hides it, the store still has it.
    let stat = w.client.stat().unwrap();
    w.run();
    assert!(matches!(w.result(stat).unwrap(), Reply::Stat(s) if s.count == 1));
    assert_eq!(store.count("alice"), 2);
    let quit = w.client.quit().unwrap();
    w.run();
    w.result(quit).unwrap();
    assert_eq!(store.count("alice"), 1, "deleted in UPDATE");
    assert!(w.server.is_closed());
    assert!(store.locked.lock().unwrap().is_empty());
}

#[test]
fn rset_unmarks_and_a_dropped_connection_deletes_nothing() {
    let store = MemStore::with("alice", &[PLAIN, DOTS]);
    let mut w = Wire::new(&store, ServerConfig::default());
    w.login();
    w.client.dele(1).unwrap();
    let rset = w.client.command(Command::Rset).unwrap();
    w.run();
    assert!(matches!(w.result(rset).unwrap(), Reply::Status(s) if s.text.contains("2 messages")));
    w.client.dele(2).unwrap();
    w.run();
    w.server.handle_close(&store);
    assert_eq!(store.count("alice"), 2);
    assert!(store.locked.lock().unwrap().is_empty(), "lock released");
}

#[test]
fn second_session_gets_in_use_and_the_lock_is_exclusive() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut first = Wire::new(&store, ServerConfig::default());
    first.login();
    let mut second = Wire::new(&store, ServerConfig::default());
    second.client.user("alice").unwrap();
    let pass = second.client.pass("pop3");
    assert!(pass.is_err(), "typed PASS waits for USER's reply");
    second.run();
    let pass = second.client.pass("pop3").unwrap();
    second.run();
    let err = second.result(pass).unwrap_err();
    assert_eq!(err.code().map(|c| c.as_str()), Some("IN-USE"));
}

#[test]
fn wrong_password_is_delayed_and_coded_auth() {
    let store = MemStore::with("alice", &[]);
    let mut w = Wire::new(
        &store,
        ServerConfig {
            failed_login_delay_ms: 500,
            ..ServerConfig::default()
        },
    );
    w.client.user("alice").unwrap();
    w.run();
    let pass = w.client.pass("wrong").unwrap();
    w.run();
    assert!(w
        .events
        .iter()
        .all(|e| !matches!(e, Event::Completed { handle, .. } if *handle == pass)));
    assert!(w.server.poll_timeout().unwrap() <= w.now + 500);
    w.advance(499);
    assert!(w
        .events
        .iter()
        .all(|e| !matches!(e, Event::Completed { handle, .. } if *handle == pass)));
    w.advance(1);
    let err = w.result(pass).unwrap_err();
    assert_eq!(err.code().map(|c| c.as_str()), Some("AUTH"));
}

#[test]
fn apop_and_every_sasl_mechanism_log_in() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut w = Wire::new(&store, ServerConfig::default());
    let h = w.client.apop("alice", "pop3").unwrap();
    w.run();
    w.result(h).unwrap();
    w.server.handle_close(&store);

    for mech in [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5] {
        let mut w = Wire::new(&store, ServerConfig::default());
        let h = w.client.auth(mech, "alice", "pop3").unwrap();
        w.run();
        assert!(w.result(h).is_ok(), "{mech}");
        assert_eq!(w.client.state(), SessionState::Transaction);
        w.server.handle_close(&store);

        let mut w = Wire::new(
            &store,
            ServerConfig {
                failed_login_delay_ms: 0,
                ..ServerConfig::default()
            },
        );
        let h = w.client.auth(mech, "alice", "nope").unwrap();
        w.run();
        w.advance(0);
        assert_eq!(
            w.result(h).unwrap_err().code().map(|c| c.as_str()),
            Some("AUTH"),
            "{mech}"
        );
    }
}

#[test]
fn stls_is_offered_once_then_capa_changes() {
    let store = MemStore::with("alice", &[]);
    let mut w = Wire::new(
        &store,
        ServerConfig {
            stls_available: true,
            ..ServerConfig::default()
        },
    );
    let capa = w.client.capa().unwrap();
    w.run();
    let Reply::Capabilities(caps) = w.result(capa).unwrap() else {
        panic!()
    };
    assert!(caps.iter().any(|c| c.name == "STLS"));
    assert!(caps
        .iter()
        .any(|c| c.name == "SASL" && c.args == ["PLAIN", "LOGIN", "CRAM-MD5"]));
    let stls = w.client.stls().unwrap();
    w.run();
    w.result(stls).unwrap();
    assert!(w.server_events.contains(&ServerEvent::StartTls));
    let capa = w.client.capa().unwrap();
    w.run();
    let Reply::Capabilities(caps) = w.result(capa).unwrap() else {
        panic!()
    };
    assert!(!caps.iter().any(|c| c.name == "STLS"));
}

#[test]
fn plaintext_pipelined_behind_stls_is_never_executed() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut server = ServerSession::new(
        ServerConfig {
            stls_available: true,
            ..ServerConfig::default()
        },
        0,
        "n",
    );
    server.poll_transmit(9, &store);
    server.feed(1, b"STLS\r\nUSER alice\r\nPASS pop3\r\n");
    let out = String::from_utf8(server.poll_transmit(9, &store).unwrap()).unwrap();
    assert_eq!(out, "+OK begin TLS negotiation now\r\n");
    server.tls_established();
    server.feed(2, b"NOOP\r\n");
    let out = String::from_utf8(server.poll_transmit(9, &store).unwrap()).unwrap();
    assert!(
        out.starts_with("-ERR NOOP is not valid in the AUTHORIZATION state"),
        "{out}"
    );
}

#[test]
fn autologout_closes_without_update() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut w = Wire::new(
        &store,
        ServerConfig {
            autologout_ms: 1000,
            ..ServerConfig::default()
        },
    );
    w.login();
    w.client.dele(1).unwrap();
    w.run();
    let deadline = w.server.poll_timeout().unwrap();
    w.advance(deadline - w.now - 1);
    assert!(!w.server.is_closed());
    w.advance(1);
    assert!(w.server.is_closed());
    assert!(w.server_events.contains(&ServerEvent::Close {
        reason: "autologout"
    }));
    assert_eq!(store.count("alice"), 1, "nothing deleted");
    assert!(store.locked.lock().unwrap().is_empty());
}

#[test]
fn errors_for_bad_commands_wrong_state_and_missing_messages() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut server = ServerSession::new(ServerConfig::default(), 0, "n");
    server.poll_transmit(9, &store);
    let mut say = |line: &[u8]| {
        server.feed(1, line);
        String::from_utf8(server.poll_transmit(9, &store).unwrap_or_default()).unwrap()
    };
    assert!(say(b"STAT\r\n").starts_with("-ERR STAT is not valid in the AUTHORIZATION state"));
    assert!(say(b"PASS x\r\n").starts_with("-ERR send USER first"));
    assert!(say(b"HELLO\r\n").starts_with("-ERR"));
    assert!(say(b"RETR 0\r\n").starts_with("-ERR"));
    let long = [b"USER ".as_slice(), &[b'a'; 300], b"\r\n"].concat();
    assert!(say(&long).starts_with("-ERR line too long"));
    assert!(say(b"USER alice\r\n").starts_with("+OK"));
    assert!(say(b"PASS pop3\r\n").starts_with("+OK"));
    assert_eq!(
        say(b"RETR 9\r\n"),
        "-ERR no such message, only 1 messages in maildrop\r\n"
    );
    assert!(say(b"DELE 1\r\n").starts_with("+OK"));
    assert_eq!(say(b"DELE 1\r\n"), "-ERR message 1 already deleted\r\n");
    assert_eq!(
        say(b"RETR 1\r\n"),
        "-ERR message 1 is marked as deleted\r\n"
    );
    assert!(say(b"USER bob\r\n").starts_with("-ERR USER is not valid in the TRANSACTION state"));
    assert_eq!(say(b"LIST\r\n"), "+OK 0 messages (0 octets)\r\n.\r\n");
}

#[test]
fn pipelined_commands_are_answered_one_reply_per_transmit() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut server = ServerSession::new(ServerConfig::default(), 0, "n");
    server.poll_transmit(9, &store);
    server.feed(
        1,
        b"USER alice\r\nPASS pop3\r\nSTAT\r\nRETR 1\r\nRETR 1\r\nUIDL 1\r\nQUIT\r\n",
    );
    let mut replies = Vec::new();
    while let Some(bytes) = server.poll_transmit(2, &store) {
        replies.push(String::from_utf8(bytes).unwrap());
    }
    assert_eq!(
        replies.len(),
        7,
        "one reply per poll: nothing is built ahead of the writer"
    );
    assert_eq!(replies[2], format!("+OK 1 {}\r\n", PLAIN.len()));
    assert!(replies[3].starts_with("+OK") && replies[3].ends_with("\r\n.\r\n"));
    assert_eq!(replies[5], "+OK 1 uid-0\r\n");
    assert!(server.is_closed());
}

#[test]
fn input_is_capped_until_answered() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut server = ServerSession::new(ServerConfig::default(), 0, "n");
    assert!(server.wants_input());
    server.feed(1, &b"NOOP\r\n".repeat(INPUT_CAP / 6 + 1));
    assert!(!server.wants_input(), "the transport stops reading");
    while server.poll_transmit(2, &store).is_some() {}
    assert!(server.wants_input());
}

#[test]
fn a_large_retr_streams_in_chunks_and_the_next_command_waits_for_it() {
    let line = b"a line of a large message, long enough to matter\r\n";
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    while big.len() < 3 * BODY_CHUNK {
        big.extend_from_slice(line);
        big.extend_from_slice(b".dot\r\n");
    }
    let store = MemStore::with("alice", &[&big]);
    let mut server = ServerSession::new(ServerConfig::default(), 0, "n");
    server.poll_transmit(0, &store);
    server.feed(1, b"USER alice\r\nPASS pop3\r\nRETR 1\r\nNOOP\r\n");
    server.poll_transmit(1, &store);
    server.poll_transmit(1, &store);
    let mut wire = Vec::new();
    let mut chunks = 0;
    while let Some(bytes) = server.poll_transmit(1, &store) {
        assert!(
            bytes.len() <= BODY_CHUNK + line.len() + 64,
            "a chunk, not the whole reply"
        );
        wire.extend_from_slice(&bytes);
        chunks += 1;
        if wire.ends_with(b"+OK still here\r\n") {
            break;
        }
    }
    assert!(chunks >= 3, "{chunks} chunks");
    let status_end = wire.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut body = Vec::new();
    let progress = crate::codec::BodyDecoder::new(u64::MAX).decode(&wire[status_end..], &mut body);
    assert!(progress.finished);
    assert_eq!(body, big);
    assert_eq!(
        &wire[status_end + progress.consumed..],
        b"+OK still here\r\n"
    );
}

/// A bare server fed raw lines, for the tests that look at the exact wire.
struct Raw<'a> {
    server: ServerSession,
    store: &'a MemStore,
    now: u64,
}

impl<'a> Raw<'a> {
    fn new(store: &'a MemStore, config: ServerConfig) -> Raw<'a> {
        let mut raw = Raw {
            server: ServerSession::new(config, 0, "1896.697170952"),
            store,
            now: 0,
        };
        let greeting = raw.drain();
        assert!(greeting.starts_with("+OK"), "{greeting}");
        raw
    }

    /// Everything the server sends now, every reply it can build.
    fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(bytes) = self.server.poll_transmit(self.now, self.store) {
            out.extend_from_slice(&bytes);
        }
        String::from_utf8(out).unwrap()
    }

    fn say(&mut self, bytes: &[u8]) -> String {
        self.server.feed(self.now, bytes);
        self.drain()
    }

    fn login(&mut self) {
        assert!(self.say(b"USER alice\r\n").starts_with("+OK"));
        assert!(self.say(b"PASS pop3\r\n").starts_with("+OK"));
    }
}

#[test]
fn capa_lists_user_sasl_and_utf8_user_in_both_states() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut raw = Raw::new(&store, ServerConfig::default());
    let check = |capa: &str, state: &str| {
        let lines: Vec<&str> = capa.split("\r\n").collect();
        // RFC 2449 §6.5, §6.6 and RFC 6856 §2: announced in both states, no difference.
        for cap in ["USER", "SASL PLAIN LOGIN CRAM-MD5", "UTF8 USER"] {
            assert!(lines.contains(&cap), "{cap} missing in {state}: {capa}");
        }
        assert!(!lines.contains(&"UTF8"), "bare UTF8 in {state}: {capa}");
    };
    check(&raw.say(b"CAPA\r\n"), "AUTHORIZATION");
    raw.login();
    check(&raw.say(b"CAPA\r\n"), "TRANSACTION");
}

#[test]
fn utf8_user_is_what_the_server_does_utf8_names_after_utf8() {
    let store = MemStore::with("ålice", &[PLAIN]);
    let mut raw = Raw::new(&store, ServerConfig::default());
    assert!(raw.say("USER ålice\r\n".as_bytes()).starts_with("-ERR"));
    assert!(raw.say(b"UTF8\r\n").starts_with("+OK"));
    assert!(raw.say("USER ålice\r\n".as_bytes()).starts_with("+OK"));
    assert!(raw.say("PASS pöp3\r\n".as_bytes()).is_empty(), "held -ERR");
    raw.now += 1000;
    raw.server.handle_timeout(raw.now, &store);
    assert!(raw.drain().starts_with("-ERR [AUTH]"));
    assert!(raw.say("USER ålice\r\n".as_bytes()).starts_with("+OK"));
    assert!(raw.say(b"PASS pop3\r\n").starts_with("+OK"));
}

#[test]
fn autologout_sends_nothing_and_closes() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut raw = Raw::new(
        &store,
        ServerConfig {
            autologout_ms: 1000,
            ..ServerConfig::default()
        },
    );
    raw.login();
    assert!(raw.say(b"DELE 1\r\n").starts_with("+OK"));
    raw.server.poll_event();
    raw.now = raw.server.poll_timeout().unwrap();
    raw.server.handle_timeout(raw.now, &store);
    assert!(raw.server.is_closed());
    // RFC 1939 §3: "the session is closed without ... and the server does not send a response".
    assert_eq!(raw.drain(), "", "no response to an autologout");
    assert_eq!(
        raw.server.poll_event(),
        Some(ServerEvent::Close {
            reason: "autologout"
        })
    );
    assert_eq!(store.count("alice"), 1, "nothing deleted");
    assert!(store.locked.lock().unwrap().is_empty());
}

#[test]
fn sending_a_long_retr_restarts_the_autologout_timer() {
    let line = b"a line of a large message, long enough to matter\r\n";
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    while big.len() < 3 * BODY_CHUNK {
        big.extend_from_slice(line);
    }
    let store = MemStore::with("alice", &[&big]);
    let mut server = ServerSession::new(
        ServerConfig {
            autologout_ms: 1000,
            ..ServerConfig::default()
        },
        0,
        "n",
    );
    server.poll_transmit(0, &store);
    server.feed(0, b"USER alice\r\nPASS pop3\r\nRETR 1\r\n");
    server.poll_transmit(0, &store);
    server.poll_transmit(0, &store);
    // A slow client: every chunk takes 900 ms to write, far longer than the input was ago.
    let mut now = 0;
    let mut chunks = 0;
    loop {
        now += 900;
        server.handle_timeout(now, &store);
        assert!(!server.is_closed(), "autologout while sending, at {now} ms");
        if server.poll_transmit(now, &store).is_none() {
            break;
        }
        chunks += 1;
    }
    assert!(chunks >= 3, "{chunks} chunks");
    // The last chunk was written at `now`: the client gets the full timer to react.
    assert_eq!(server.poll_timeout(), Some(now + 1000));
    server.handle_timeout(now + 999, &store);
    assert!(!server.is_closed(), "autologout right after a long RETR");
    server.handle_timeout(now + 1000, &store);
    assert!(server.is_closed());
}

/// The base64-decoded challenge of a `+ ` line.
fn challenge(reply: &str) -> String {
    let encoded = reply
        .strip_prefix("+ ")
        .and_then(|r| r.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a challenge: {reply:?}"));
    String::from_utf8(auth::decode_base64(encoded.as_bytes()).unwrap()).unwrap()
}

#[test]
fn each_cram_md5_attempt_gets_a_fresh_challenge() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut raw = Raw::new(&store, ServerConfig::default());
    let timestamp = raw.server.timestamp().to_owned();
    let mut seen = vec![timestamp.clone()];
    for _ in 0..3 {
        let c = challenge(&raw.say(b"AUTH CRAM-MD5\r\n"));
        assert!(c.starts_with("<1896.697170952.") && c.ends_with("@popwire.test>"));
        assert!(!seen.contains(&c), "{c} repeats one of {seen:?}");
        seen.push(c);
        assert!(raw.say(b"*\r\n").starts_with("-ERR"));
    }
    // Another session with another nonce never meets these challenges either.
    let mut other = ServerSession::new(ServerConfig::default(), 0, "1896.697170953");
    other.poll_transmit(0, &store);
    other.feed(0, b"AUTH CRAM-MD5\r\n");
    let reply = String::from_utf8(other.poll_transmit(0, &store).unwrap()).unwrap();
    assert!(!seen.contains(&challenge(&reply)));
    // And the fresh challenge is the one the answer is checked against.
    let c = challenge(&raw.say(b"AUTH CRAM-MD5\r\n"));
    let answer = format!("alice {}", auth::cram_md5_digest("pop3", c.as_bytes()));
    let line = format!("{}\r\n", auth::encode_base64(answer.as_bytes()));
    assert!(raw.say(line.as_bytes()).starts_with("+OK"), "{c}");
}

#[test]
fn the_tail_of_an_over_long_sasl_line_is_never_a_command_at_any_split() {
    let store = MemStore::with("alice", &[PLAIN]);
    // The long line ends in something that would be a command if it were parsed.
    let mut long = vec![b'A'; MAX_SASL_RESPONSE_LINE + 300];
    long.extend_from_slice(b"QUIT\r\n");
    let len = long.len();
    for split in [
        1,
        MAX_COMMAND_LINE,
        MAX_SASL_RESPONSE_LINE - 1,
        MAX_SASL_RESPONSE_LINE,
        MAX_SASL_RESPONSE_LINE + 1,
        MAX_SASL_RESPONSE_LINE + 300,
        len - 2,
        len - 1,
    ] {
        let mut raw = Raw::new(&store, ServerConfig::default());
        assert_eq!(raw.say(b"AUTH PLAIN\r\n"), "+ \r\n");
        let mut out = raw.say(&long[..split]);
        out += &raw.say(&long[split..]);
        out += &raw.say(b"NOOP\r\n");
        let replies: Vec<&str> = out.split_terminator("\r\n").collect();
        assert_eq!(replies.len(), 2, "split at {split}: {replies:?}");
        assert!(replies[0].starts_with("-ERR line too long"), "{split}");
        assert!(
            replies[1].starts_with("-ERR NOOP is not valid in the AUTHORIZATION state"),
            "split at {split}: the next line is a command again: {replies:?}"
        );
        assert!(!raw.server.is_closed());
    }
}

#[test]
fn the_tail_of_an_over_long_command_line_is_skipped_too() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut long = b"USER ".to_vec();
    long.extend_from_slice(&vec![b'a'; MAX_SASL_RESPONSE_LINE + 10]);
    long.extend_from_slice(b"\r\n");
    for split in [
        10,
        MAX_COMMAND_LINE + 1,
        MAX_SASL_RESPONSE_LINE + 1,
        long.len() - 1,
    ] {
        let mut raw = Raw::new(&store, ServerConfig::default());
        let mut out = raw.say(&long[..split]);
        out += &raw.say(&long[split..]);
        out += &raw.say(b"NOOP\r\n");
        let replies: Vec<&str> = out.split_terminator("\r\n").collect();
        assert_eq!(replies.len(), 2, "split at {split}: {replies:?}");
        assert!(replies[0].starts_with("-ERR line too long: the limit is 255"));
        assert!(replies[1].starts_with("-ERR NOOP is not valid"));
    }
}

#[test]
fn pass_is_valid_only_right_after_user() {
    let store = MemStore::with("alice", &[PLAIN]);
    let long = [b"NOOP ".as_slice(), &[b'x'; 300], b"\r\n"].concat();
    let between: [&[u8]; 8] = [
        b"CAPA\r\n",
        b"UTF8\r\n",
        b"NOOP\r\n",
        b"STAT\r\n",
        b"HELLO\r\n",
        b"AUTH BOGUS\r\n",
        b"STLS\r\n",
        &long,
    ];
    for line in between {
        let mut raw = Raw::new(&store, ServerConfig::default());
        assert!(raw.say(b"USER alice\r\n").starts_with("+OK"));
        raw.say(line);
        let reply = raw.say(b"PASS pop3\r\n");
        assert!(
            reply.starts_with("-ERR send USER first"),
            "PASS after USER, {}: {reply}",
            String::from_utf8_lossy(&line[..line.len().min(20)])
        );
    }
    // Right after USER it works; a repeated USER replaces the name.
    let mut raw = Raw::new(&store, ServerConfig::default());
    assert!(raw.say(b"USER bob\r\n").starts_with("+OK"));
    raw.login();
}

#[test]
fn stls_forgets_the_user_and_utf8_mode() {
    let store = MemStore::with("alice", &[PLAIN]);
    let mut raw = Raw::new(
        &store,
        ServerConfig {
            stls_available: true,
            ..ServerConfig::default()
        },
    );
    assert!(raw.say(b"UTF8\r\n").starts_with("+OK"));
    assert!(raw.say(b"USER alice\r\n").starts_with("+OK"));
    assert_eq!(raw.say(b"STLS\r\n"), "+OK begin TLS negotiation now\r\n");
    raw.server.tls_established();
    // RFC 2595 §4: nothing the client said before TLS carries over.
    assert!(raw
        .say(b"PASS pop3\r\n")
        .starts_with("-ERR send USER first"));
    let reply = raw.say("USER ålice\r\n".as_bytes());
    assert!(
        reply.starts_with("-ERR"),
        "UTF8 mode survived STLS: {reply}"
    );
    assert!(
        raw.say(b"UTF8\r\n").starts_with("+OK"),
        "UTF8 may be given again"
    );
    raw.login();
}

/// A raw line for `meta` with its required arguments filled by their kind (message 1, 2 lines).
fn line_for(meta: &crate::codec::CommandMeta) -> String {
    use crate::codec::ArgumentKind;
    let mut line = meta.name.to_owned();
    for arg in meta.args.iter().filter(|a| a.required) {
        line.push(' ');
        line.push_str(match arg.kind {
            ArgumentKind::Message => "1",
            ArgumentKind::Lines => "2",
            ArgumentKind::UserName => "alice",
            ArgumentKind::Password => "pop3",
            _ => "x",
        });
    }
    line
}

/// The metadata the page reads its maildrop by (`reading`, `effect`) is what the engine and the
/// teaching server do: every command valid in TRANSACTION, sent as its line, answers with the
/// parsed reading its metadata names and changes the server's maildrop as its effect says.
#[test]
fn every_commands_reading_and_effect_are_what_the_session_does() {
    use crate::client::RawParsed;
    use crate::codec::{Effect, Reading};
    let store = MemStore::with("alice", &[PLAIN, DOTS]);
    let mut w = Wire::new(&store, ServerConfig::default());
    w.login();
    let marked = |w: &Wire| -> usize {
        w.server
            .maildrop()
            .map(|(_, m)| m.iter().filter(|(_, deleted)| *deleted).count())
            .unwrap_or(0)
    };
    let capa = w.client.capa().unwrap();
    w.run();
    let Ok(Reply::Capabilities(capabilities)) = w.result(capa) else {
        panic!("CAPA")
    };
    let offered: Vec<&str> = capabilities.iter().map(|c| c.name.as_str()).collect();
    let mut checked = 0;
    let mut metas = crate::codec::commands();
    // QUIT last: it ends the session.
    metas.sort_by_key(|m| m.effect == Effect::Update);
    for meta in metas {
        if !meta.states.contains(&SessionState::Transaction) || meta.keyword == Keyword::Stls {
            continue;
        }
        if meta.effect == Effect::UnmarkAll {
            let h = w.client.dele(2).unwrap();
            w.run();
            w.result(h).unwrap();
        }
        let before = (marked(&w), store.count("alice"));
        let line = line_for(&meta);
        let h = w.client.send_raw(&line).unwrap();
        w.run();
        let Ok(Reply::Raw(raw)) = w.result(h) else {
            panic!("{line}: not a raw reply")
        };
        if !raw.ok {
            // Only an extension the teaching server does not offer may be refused.
            assert!(!offered.contains(&meta.name), "{line}: {}", raw.text);
            continue;
        }
        let read = match &raw.parsed {
            None => Reading::None,
            Some(RawParsed::Stat(_)) => Reading::Stat,
            Some(RawParsed::List(_) | RawParsed::ListOne(_)) => Reading::Sizes,
            Some(RawParsed::Uidl(_) | RawParsed::UidlOne(_)) => Reading::UniqueIds,
            Some(RawParsed::Capabilities(_)) => Reading::Capabilities,
            Some(RawParsed::Languages(_)) => Reading::Languages,
            // RETR 1 is the whole message; TOP 1 2 its headers and two lines.
            Some(RawParsed::Message) if raw.body == PLAIN => Reading::Message,
            Some(RawParsed::Message) => Reading::Head,
            Some(other) => panic!("{line}: {other:?}"),
        };
        assert_eq!(read, meta.reading, "{line}: {:?}", raw.parsed);
        let after = (marked(&w), store.count("alice"));
        let expected = match meta.effect {
            Effect::None => before,
            Effect::MarkDeleted => (before.0 + 1, before.1),
            Effect::UnmarkAll => (0, before.1),
            Effect::Update => (0, before.1 - before.0),
        };
        assert_eq!(after, expected, "{line}: (marked, in the store)");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} commands checked");
}
