//! The teaching server against popwire's own client, in memory: every flow end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::*;
use crate::client::{Reply, SessionState};
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
