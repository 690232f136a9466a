//! The teaching server's session must survive anything a client sends: arbitrary bytes in
//! arbitrary chunks, with time passing, STLS upgrades and drops. It must never panic, never
//! answer after it closed, always end a reply with CRLF, and release every lock it took.
//!
//! Input layout: byte 0 = flags (bit 0 = log in first, bit 1 = UTF8 first), then chunks, each a
//! length byte (0 = advance the clock by 700 ms instead) followed by that many octets.
#![no_main]

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use popwire::server::{Mailstore, MailstoreError, MessageInfo, ServerConfig, ServerEvent, ServerSession};

const MESSAGES: [&[u8]; 3] = [
    b"Subject: one\r\n\r\nhello\r\n",
    b"Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n",
    b"Subject: empty\r\n\r\n",
];

/// One user's maildrop, with the lock bookkeeping checked at the end.
#[derive(Default)]
struct Store {
    locked: RefCell<HashSet<String>>,
    locks_taken: RefCell<u32>,
    releases: RefCell<u32>,
}

impl Mailstore for Store {
    fn secret(&self, user: &str) -> Option<String> {
        (!user.is_empty()).then(|| "pop3".to_owned())
    }
    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        if !self.locked.borrow_mut().insert(user.to_owned()) {
            return Err(MailstoreError::InUse);
        }
        *self.locks_taken.borrow_mut() += 1;
        Ok(MESSAGES
            .iter()
            .enumerate()
            .map(|(i, m)| MessageInfo { uid: format!("u{i}"), size: m.len() as u64 })
            .collect())
    }
    fn read(&self, _user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        let i: usize = uid.trim_start_matches('u').parse().map_err(|_| MailstoreError::Failed("uid".into()))?;
        MESSAGES.get(i).map(|m| Arc::from(*m)).ok_or_else(|| MailstoreError::Failed("uid".into()))
    }
    fn commit(&self, user: &str, _deleted: &[String]) -> Result<(), MailstoreError> {
        self.release(user);
        Ok(())
    }
    fn release(&self, user: &str) {
        if self.locked.borrow_mut().remove(user) {
            *self.releases.borrow_mut() += 1;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let store = Store::default();
    let config = ServerConfig { stls_available: true, failed_login_delay_ms: 500, autologout_ms: 5_000, ..ServerConfig::default() };
    let mut session = ServerSession::new(config, 0, "fuzz");
    let mut now = 0u64;
    let mut prelude = Vec::new();
    if flags & 2 != 0 {
        prelude.extend_from_slice(b"UTF8\r\n");
    }
    if flags & 1 != 0 {
        prelude.extend_from_slice(b"USER fuzz\r\nPASS pop3\r\n");
    }
    session.feed(now, &prelude);
    let mut closed = false;
    let mut pump = |session: &mut ServerSession, now: u64, closed: &mut bool| {
        let mut guard = 0;
        while let Some(bytes) = session.poll_transmit(now, &store) {
            assert!(!*closed, "bytes after Close");
            assert!(bytes.ends_with(b"\r\n"), "a reply that does not end in CRLF");
            guard += 1;
            assert!(guard < 10_000, "poll_transmit never runs dry");
        }
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::StartTls => session.tls_established(),
                ServerEvent::Close { .. } => *closed = true,
                _ => {}
            }
        }
    };
    pump(&mut session, now, &mut closed);
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0 {
            now += 700;
            session.handle_timeout(now, &store);
            rest = tail;
        } else {
            let take = (len as usize).min(tail.len());
            session.feed(now, &tail[..take]);
            rest = &tail[take..];
        }
        pump(&mut session, now, &mut closed);
        if session.is_closed() {
            break;
        }
    }
    session.handle_close(&store);
    assert!(store.locked.borrow().is_empty(), "a lock outlived the session");
    assert_eq!(*store.locks_taken.borrow(), *store.releases.borrow());
});
