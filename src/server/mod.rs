//! The teaching POP3 server: a sans-IO state machine for one server-side connection (cargo
//! feature `server`). The bridge gives it sockets and a [`Mailstore`]; it gives back bytes.
//!
//! # The driving loop
//!
//! ```text
//! let mut session = ServerSession::new(config, now_ms, nonce);   // the greeting is queued
//! loop {
//!     // One reply per call: the next buffered command is answered only once the previous
//!     // reply was taken, so a client pipelining many RETRs never makes the server hold more
//!     // than one reply. Call it again only after writing what it returned: that next call
//!     // (with the time the write finished) tells the session the bytes went out.
//!     while let Some(bytes) = session.poll_transmit(now_ms, &store) { socket.write(bytes) }
//!     while let Some(event) = session.poll_event() { StartTls → upgrade, then tls_established();
//!                                                    Close → close the socket }
//!     wait for input (only while session.wants_input()) or session.poll_timeout();
//!     session.feed(now_ms, &bytes)  |  session.handle_timeout(now_ms, &store)
//!     on EOF: session.handle_close(&store)          // releases the lock, deletes nothing
//! }
//! ```
//!
//! It implements RFC 1939 in full (USER, PASS, APOP, STAT, LIST, RETR, DELE, NOOP, RSET, TOP,
//! UIDL, QUIT), CAPA and response codes (RFC 2449, 3206), SASL PLAIN / LOGIN / CRAM-MD5
//! (RFC 5034), STLS (RFC 2595) and UTF8 (RFC 6856). Deletions happen only in the UPDATE state
//! after QUIT; a dropped connection or an autologout deletes nothing.
//!
//! # Rules worth knowing
//!
//! - **Autologout** (RFC 1939 §3): the timer counts from the last byte received *or sent* (a
//!   long RETR is activity, and so is the moment it finished going out). When it fires the
//!   session closes without a response ([`ServerEvent::Close`] with reason `"autologout"`).
//! - **PASS only right after USER** (RFC 1939 §7): any other line in between — CAPA, UTF8, an
//!   unknown or over-long line — forgets the user name, and PASS then gets `-ERR`.
//! - **STLS is a clean cut** (RFC 2595 §4): the user name of an earlier USER and UTF8 mode are
//!   forgotten; pipelined plaintext behind STLS is discarded.
//! - **A fresh CRAM-MD5 challenge each time** (RFC 2195 §2): the session's `nonce` (from the
//!   caller, unique per connection) plus a per-session attempt counter:
//!   `<nonce.attempt@hostname>`, never the APOP timestamp `<nonce@hostname>`.
//! - **One framer, no resets**: lines are framed with the largest cap (a SASL response's) and
//!   each phase checks its own cap on the framed line, so the rest of an over-long line is
//!   skipped to its end whatever the phase switches to meanwhile.

mod memory;
mod samples;
mod store;

use std::collections::VecDeque;
use std::sync::Arc;

pub use memory::{
    md5_hash, to_sent_form, DeliverError, Delivered, MaildropSnapshot, MemoryConfig, MemoryStore,
    UidHash,
};
pub use samples::SAMPLES;
pub use store::{Mailstore, MailstoreError, MessageInfo};

use crate::auth::{self, Mechanism, Proof, SaslServer, ServerStep};
use crate::codec::{
    encode_list_line, encode_listing, encode_stat, encode_uidl_line, stuff_body, stuff_lines,
    Command, LineFramer, LineItem, ListEntry, ResponseCode, SessionState, Stat, Status, StatusLine,
    UidlEntry, MAX_COMMAND_LINE, MAX_SASL_RESPONSE_LINE,
};

/// Most unanswered input a session buffers before [`ServerSession::wants_input`] says stop.
pub const INPUT_CAP: usize = 64 * 1024;

/// How much of a message one `poll_transmit` stuffs and returns while a RETR or TOP streams.
pub const BODY_CHUNK: usize = 256 * 1024;

/// A message being sent a chunk at a time: `data[pos..end]` is still to go.
#[derive(Debug)]
struct Outgoing {
    data: Arc<[u8]>,
    pos: usize,
    end: usize,
}

/// Settings of the teaching server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Host name in the greeting's APOP timestamp.
    pub hostname: String,
    /// Offer STLS (the plain port with a certificate available).
    pub stls_available: bool,
    /// The connection is already encrypted (implicit TLS, port 995).
    pub tls_active: bool,
    /// Close an idle session after this long (RFC 1939 §3: at least 10 minutes).
    pub autologout_ms: u64,
    /// Hold the `-ERR` to a failed login this long (slows down password guessing).
    pub failed_login_delay_ms: u64,
    /// Text of the IMPLEMENTATION capability.
    pub implementation: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "popwire.test".into(),
            stls_available: false,
            tls_active: false,
            autologout_ms: 10 * 60 * 1000,
            failed_login_delay_ms: 1000,
            implementation: "popwire-teaching-server".into(),
        }
    }
}

/// What the server session asks of its transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `+OK` to STLS went out: start the TLS handshake, then call
    /// [`ServerSession::tls_established`]. Input before that is discarded.
    StartTls,
    /// Close the connection after writing what [`ServerSession::poll_transmit`] returned.
    Close {
        /// Why: "quit", "autologout", "protocol".
        reason: &'static str,
    },
    /// A user logged in and holds the maildrop's lock (for the bridge's log).
    LoggedIn {
        /// The user name.
        user: String,
    },
}

#[derive(Debug, Clone)]
struct Message {
    info: MessageInfo,
    deleted: bool,
}

#[derive(Debug)]
enum Phase {
    /// Before login; `user` is set after a successful USER.
    Authorization { user: Option<String> },
    /// In a SASL exchange.
    Sasl { sasl: SaslServer },
    /// Logged in with the maildrop locked.
    Transaction {
        user: String,
        messages: Vec<Message>,
    },
    /// Closed (after QUIT, autologout or a dropped connection).
    Closed,
}

/// One server-side POP3 connection. See the [module documentation](self) for the driving loop.
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    phase: Phase,
    timestamp: String,
    /// The caller's nonce: the APOP timestamp and every CRAM-MD5 challenge are built from it.
    nonce: String,
    /// AUTH attempts so far: each CRAM-MD5 challenge carries the next number.
    sasl_attempts: u64,
    /// Frames every line at the largest cap ([`MAX_SASL_RESPONSE_LINE`]); never replaced, so
    /// skipping the rest of an over-long line survives any phase change.
    framer: LineFramer,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    events: VecDeque<ServerEvent>,
    /// When a byte last went in or out: the autologout timer counts from here.
    last_activity_ms: u64,
    /// `poll_transmit` returned bytes; the next call means they were written.
    handed_out: bool,
    /// A delayed reply (a failed login) and when it may go out; input waits until then.
    held: Option<(u64, Vec<u8>)>,
    awaiting_tls: bool,
    tls: bool,
    utf8: bool,
    /// A RETR or TOP reply still streaming; no other command is answered until it is done.
    sending: Option<Outgoing>,
}

impl ServerSession {
    /// A session for a connection accepted at `now_ms`; the greeting is queued at once.
    ///
    /// `nonce` must be unique per connection (e.g. process id, a counter and the time, as the
    /// bridge does): the APOP timestamp is `<nonce@hostname>` and the n-th CRAM-MD5 challenge of
    /// the session `<nonce.n@hostname>`, so no challenge repeats, within a session or across
    /// sessions. It should not contain `@`, `<`, `>` or spaces.
    pub fn new(config: ServerConfig, now_ms: u64, nonce: &str) -> ServerSession {
        let timestamp = format!("<{nonce}@{}>", config.hostname);
        let tls = config.tls_active;
        let mut session = ServerSession {
            config,
            phase: Phase::Authorization { user: None },
            timestamp,
            nonce: nonce.to_owned(),
            sasl_attempts: 0,
            framer: LineFramer::new(MAX_SASL_RESPONSE_LINE),
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            events: VecDeque::new(),
            last_activity_ms: now_ms,
            handed_out: false,
            held: None,
            awaiting_tls: false,
            tls,
            utf8: false,
            sending: None,
        };
        let greeting = format!("popwire teaching POP3 server ready {}", session.timestamp);
        session.ok(&greeting);
        session
    }

    /// The APOP timestamp of the greeting, brackets included.
    pub fn timestamp(&self) -> &str {
        &self.timestamp
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// In TRANSACTION, the logged-in user and each message of the locked maildrop with its
    /// deletion mark (true: marked by DELE, removed at QUIT); `None` in any other state. For a
    /// simulated server's view of its side.
    pub fn maildrop(&self) -> Option<(&str, Vec<(&MessageInfo, bool)>)> {
        match &self.phase {
            Phase::Transaction { user, messages } => Some((
                user.as_str(),
                messages.iter().map(|m| (&m.info, m.deleted)).collect(),
            )),
            _ => None,
        }
    }

    /// The next bytes to write, if any: what is queued, else the reply to the next buffered
    /// command (one command per call). Nothing while a failed-login reply is held back or while
    /// TLS is being set up.
    ///
    /// Sending is activity for the autologout timer: returning bytes restarts it, and so does
    /// the next call after bytes were returned (the caller writes them before asking again, so
    /// `now_ms` is then when the write finished).
    pub fn poll_transmit(&mut self, now_ms: u64, store: &dyn Mailstore) -> Option<Vec<u8>> {
        if std::mem::take(&mut self.handed_out) {
            self.touch(now_ms);
        }
        if self.outbuf.is_empty() && self.sending.is_none() {
            self.process_one(now_ms, store);
        }
        self.fill_body();
        if self.outbuf.is_empty() {
            return None;
        }
        self.touch(now_ms);
        self.handed_out = true;
        Some(std::mem::take(&mut self.outbuf))
    }

    /// Restarts the autologout timer at `now_ms` (never moves it back).
    fn touch(&mut self, now_ms: u64) {
        self.last_activity_ms = self.last_activity_ms.max(now_ms);
    }

    /// Stuffs the next chunk of a streaming message into the output.
    fn fill_body(&mut self) {
        let Some(out) = self.sending.as_mut() else {
            return;
        };
        if self.outbuf.len() >= BODY_CHUNK {
            return;
        }
        let budget = BODY_CHUNK - self.outbuf.len();
        let rest = out.data.get(out.pos..out.end).unwrap_or_default();
        out.pos += stuff_lines(rest, budget, &mut self.outbuf);
        if out.pos >= out.end {
            self.outbuf.extend_from_slice(b".\r\n");
            self.sending = None;
        }
    }

    /// Whether a command is still to be answered (buffered, or a failed-login reply held back):
    /// after the client half-closes, the transport waits for these before closing.
    pub fn has_unanswered(&self) -> bool {
        !self.is_closed()
            && (self.held.is_some()
                || self.sending.is_some()
                || memchr::memchr(b'\n', &self.inbuf).is_some())
    }

    /// Whether the transport should read more input: false once [`INPUT_CAP`] octets of
    /// unanswered commands are buffered (TCP then pushes back on the client).
    pub fn wants_input(&self) -> bool {
        !self.is_closed() && self.inbuf.len() < INPUT_CAP
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`ServerSession::handle_timeout`] should run next (absolute ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.is_closed() {
            return None;
        }
        let idle = self
            .last_activity_ms
            .saturating_add(self.config.autologout_ms);
        Some(match &self.held {
            Some((release, _)) => idle.min(*release),
            None => idle,
        })
    }

    /// Releases a delayed reply when its time has come, and logs out an idle session.
    pub fn handle_timeout(&mut self, now_ms: u64, store: &dyn Mailstore) {
        if self.is_closed() {
            return;
        }
        if let Some((release, _)) = &self.held {
            if now_ms >= *release {
                if let Some((_, bytes)) = self.held.take() {
                    self.outbuf.extend_from_slice(&bytes);
                }
                self.touch(now_ms);
                return;
            }
        }
        if now_ms
            >= self
                .last_activity_ms
                .saturating_add(self.config.autologout_ms)
        {
            // RFC 1939 §3: an autologout closes the connection without a response and without
            // entering UPDATE: nothing is deleted. Nothing half-built goes out either.
            self.outbuf.clear();
            self.sending = None;
            self.held = None;
            self.close(store, "autologout");
        }
    }

    /// The TLS handshake after STLS finished; the session carries on encrypted.
    pub fn tls_established(&mut self) {
        self.awaiting_tls = false;
        self.tls = true;
    }

    /// The connection closed or broke: the lock is released and nothing is deleted.
    pub fn handle_close(&mut self, store: &dyn Mailstore) {
        if let Phase::Transaction { user, .. } = &self.phase {
            store.release(user);
        }
        self.phase = Phase::Closed;
    }

    /// Bytes from the client. They are buffered; [`ServerSession::poll_transmit`] answers the
    /// commands one at a time (pipelining is fine).
    pub fn feed(&mut self, now_ms: u64, bytes: &[u8]) {
        if self.is_closed() || self.awaiting_tls {
            // Plaintext after STLS, before TLS, is never executed (RFC 2595 §4).
            return;
        }
        self.touch(now_ms);
        self.inbuf.extend_from_slice(bytes);
    }

    /// Answers the next complete command line in the buffer, if any and if nothing is held.
    fn process_one(&mut self, now_ms: u64, store: &dyn Mailstore) {
        let mut pos = 0;
        while self.held.is_none() && !self.awaiting_tls && !self.is_closed() {
            let rest = self.inbuf.get(pos..).unwrap_or_default();
            let Some((item, used)) = self.framer.next_line(rest) else {
                break;
            };
            pos += used;
            // The framer's cap is the largest (a SASL response's); a command has its own.
            let limit = match self.phase {
                Phase::Sasl { .. } => MAX_SASL_RESPONSE_LINE,
                _ => MAX_COMMAND_LINE,
            };
            match item {
                LineItem::Line { line, raw, .. } if raw.len() <= limit => {
                    let line = line.to_vec();
                    self.handle_line(now_ms, &line, store);
                    break;
                }
                LineItem::Line { .. } | LineItem::TooLong { .. } => {
                    // The framer skips whatever is left of the line to its LF, and it is never
                    // replaced, so the rest is not taken for a command whatever the phase now.
                    self.forget_user();
                    self.err(
                        None,
                        &format!("line too long: the limit is {limit} octets with CRLF"),
                    );
                    self.end_sasl();
                    break;
                }
                LineItem::Skipped { .. } => {}
            }
        }
        if self.awaiting_tls {
            // Anything pipelined behind STLS is discarded (injection defence).
            self.inbuf.clear();
        } else {
            self.inbuf.drain(..pos.min(self.inbuf.len()));
        }
    }

    fn handle_line(&mut self, now_ms: u64, line: &[u8], store: &dyn Mailstore) {
        if matches!(self.phase, Phase::Sasl { .. }) {
            self.sasl_response(now_ms, line, store);
            return;
        }
        // RFC 1939 §7: PASS "may only be given ... immediately after a successful USER command":
        // whatever this line is, the user name of an earlier USER is used by it or forgotten.
        let user = self.forget_user();
        let command = match Command::parse(line, self.utf8) {
            Ok(command) => command,
            Err(e) => return self.err(None, &e.to_string()),
        };
        // RFC 1939's table, the one the client asks too: a command not valid here is refused.
        let (state, hint) = match self.phase {
            Phase::Authorization { .. } => (Some(SessionState::Authorization), ": log in first"),
            Phase::Transaction { .. } => (Some(SessionState::Transaction), ""),
            Phase::Sasl { .. } | Phase::Closed => (None, ""),
        };
        if let (Some(state), Some(keyword)) = (state, command.keyword()) {
            if !state.allows(keyword) {
                let text = format!("{keyword} is not valid in the {state} state{hint}");
                return self.err(None, &text);
            }
        }
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Authorization { .. } => self.authorization(now_ms, command, user, store),
            Phase::Transaction { user, messages } => {
                self.transaction(command, user, messages, store)
            }
            other => self.phase = other,
        }
    }

    /// Takes the user name of a USER waiting for its PASS, if any.
    fn forget_user(&mut self) -> Option<String> {
        match &mut self.phase {
            Phase::Authorization { user } => user.take(),
            _ => None,
        }
    }

    // ----- AUTHORIZATION ----------------------------------------------------------------------

    fn authorization(
        &mut self,
        now_ms: u64,
        command: Command,
        user: Option<String>,
        store: &dyn Mailstore,
    ) {
        self.phase = Phase::Authorization { user: None };
        match command {
            Command::Capa => self.capa(true),
            Command::User(name) => {
                // Same answer whether or not the user exists: nothing to learn by probing.
                self.ok(&format!("{name} may log in now: send PASS"));
                self.phase = Phase::Authorization { user: Some(name) };
            }
            Command::Pass(secret) => match user {
                Some(name) => self.login(now_ms, &name, &Proof::Password(secret), store),
                None => self.err(None, "send USER first, then PASS"),
            },
            Command::Apop { name, digest } => {
                let ok = store
                    .secret(&name)
                    .is_some_and(|secret| auth::verify_apop(&self.timestamp, &secret, &digest));
                self.finish_login(now_ms, &name, ok, store);
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth_start(now_ms, &mechanism, initial_response.as_deref(), store),
            Command::Stls => {
                if self.tls {
                    self.err(None, "TLS is already active");
                } else if !self.config.stls_available {
                    self.err(None, "STLS is not available on this port");
                } else {
                    self.ok("begin TLS negotiation now");
                    // RFC 2595 §4: nothing learnt from the client before TLS is kept. The user of
                    // an earlier USER is already forgotten (this line is not PASS); UTF8 mode too.
                    self.utf8 = false;
                    self.awaiting_tls = true;
                    self.events.push_back(ServerEvent::StartTls);
                }
            }
            Command::Utf8 => {
                self.utf8 = true;
                self.ok("UTF8 enabled: user names and passwords may be UTF-8");
            }
            Command::Quit => {
                self.ok("popwire teaching server signing off");
                self.close(store, "quit");
            }
            other => {
                let text = format!(
                    "{} is not valid in the AUTHORIZATION state: log in first",
                    other.name()
                );
                self.err(None, &text);
            }
        }
    }

    fn login(&mut self, now_ms: u64, name: &str, proof: &Proof, store: &dyn Mailstore) {
        let ok = store
            .secret(name)
            .is_some_and(|secret| proof.verify(&secret));
        self.finish_login(now_ms, name, ok, store);
    }

    fn finish_login(&mut self, now_ms: u64, name: &str, ok: bool, store: &dyn Mailstore) {
        if !ok {
            let mut reply = Vec::new();
            StatusLine::encode(
                Status::Err,
                Some(&ResponseCode::Auth),
                "invalid user name or password",
                &mut reply,
            );
            self.held = Some((
                now_ms.saturating_add(self.config.failed_login_delay_ms),
                reply,
            ));
            return;
        }
        match store.lock(name) {
            Ok(infos) => {
                let count = infos.len();
                let size: u64 = infos.iter().map(|m| m.size).sum();
                self.ok(&format!(
                    "{name}'s maildrop is locked and ready: {count} messages ({size} octets)"
                ));
                let messages = infos
                    .into_iter()
                    .map(|info| Message {
                        info,
                        deleted: false,
                    })
                    .collect();
                self.phase = Phase::Transaction {
                    user: name.to_owned(),
                    messages,
                };
                self.events.push_back(ServerEvent::LoggedIn {
                    user: name.to_owned(),
                });
            }
            Err(MailstoreError::InUse) => self.err(
                Some(ResponseCode::InUse),
                "the maildrop is locked by another session",
            ),
            Err(MailstoreError::Unavailable(text)) => self.err(Some(ResponseCode::SysTemp), &text),
            Err(MailstoreError::Failed(text)) => self.err(Some(ResponseCode::SysPerm), &text),
        }
    }

    fn auth_start(
        &mut self,
        now_ms: u64,
        mechanism: &str,
        initial: Option<&str>,
        store: &dyn Mailstore,
    ) {
        let Some(mechanism) = Mechanism::parse(mechanism) else {
            return self.err(
                None,
                "unsupported SASL mechanism: PLAIN, LOGIN and CRAM-MD5 are offered",
            );
        };
        let initial = match initial {
            None => None,
            Some("=") => Some(Vec::new()),
            Some(text) => match auth::decode_base64(text.as_bytes()) {
                Ok(raw) => Some(raw),
                Err(_) => return self.err(None, "the initial response is not base64"),
            },
        };
        // RFC 2195 §2: a fresh challenge for every attempt, never the APOP timestamp.
        self.sasl_attempts += 1;
        let challenge = format!(
            "<{}.{}@{}>",
            self.nonce, self.sasl_attempts, self.config.hostname
        );
        let mut sasl = SaslServer::new(mechanism, challenge.into_bytes());
        let step = sasl.start(initial.as_deref());
        self.sasl_step(now_ms, sasl, step, store);
    }

    fn sasl_response(&mut self, now_ms: u64, line: &[u8], store: &dyn Mailstore) {
        let Phase::Sasl { mut sasl } =
            std::mem::replace(&mut self.phase, Phase::Authorization { user: None })
        else {
            return;
        };
        self.end_sasl();
        if line == b"*" {
            return self.err(None, "authentication cancelled");
        }
        let step = match auth::decode_base64(line) {
            Ok(raw) => sasl.step(&raw),
            Err(_) => return self.err(None, "the SASL response is not base64"),
        };
        self.sasl_step(now_ms, sasl, step, store);
    }

    fn sasl_step(
        &mut self,
        now_ms: u64,
        sasl: SaslServer,
        step: Result<ServerStep, auth::AuthError>,
        store: &dyn Mailstore,
    ) {
        match step {
            Ok(ServerStep::Challenge(challenge)) => {
                self.outbuf.extend_from_slice(b"+ ");
                self.outbuf
                    .extend_from_slice(auth::encode_base64(&challenge).as_bytes());
                self.outbuf.extend_from_slice(b"\r\n");
                self.phase = Phase::Sasl { sasl };
            }
            Ok(ServerStep::Verify { user, proof }) => self.login(now_ms, &user, &proof, store),
            Err(e) => {
                let text = format!("authentication failed: {e}");
                let mut reply = Vec::new();
                StatusLine::encode(Status::Err, Some(&ResponseCode::Auth), &text, &mut reply);
                self.held = Some((
                    now_ms.saturating_add(self.config.failed_login_delay_ms),
                    reply,
                ));
            }
        }
    }

    /// Leaves a SASL exchange (if in one) for AUTHORIZATION. The framer stays as it is.
    fn end_sasl(&mut self) {
        if matches!(self.phase, Phase::Sasl { .. }) {
            self.phase = Phase::Authorization { user: None };
        }
    }

    // ----- TRANSACTION ------------------------------------------------------------------------

    /// One command in the TRANSACTION state: each command has its handler; QUIT ends the
    /// session, every other command leaves it in TRANSACTION with the (maybe marked) messages.
    fn transaction(
        &mut self,
        command: Command,
        user: String,
        mut messages: Vec<Message>,
        store: &dyn Mailstore,
    ) {
        let quit = matches!(command, Command::Quit);
        match command {
            Command::Capa => self.capa(false),
            Command::Stat => self.stat(&messages),
            Command::List(n) => self.list(n, &messages),
            Command::Uidl(n) => self.uidl(n, &messages),
            Command::Retr(n) => self.retr(n, None, &user, &messages, store),
            Command::Top { msg, lines } => self.retr(msg, Some(lines), &user, &messages, store),
            Command::Dele(n) => self.dele(n, &mut messages),
            Command::Noop => self.ok("still here"),
            Command::Rset => self.rset(&mut messages),
            Command::Quit => self.quit(&user, &messages, store),
            other => {
                let text = format!("{} is not valid in the TRANSACTION state", other.name());
                self.err(None, &text);
            }
        }
        if quit {
            self.phase = Phase::Closed;
            self.events.push_back(ServerEvent::Close { reason: "quit" });
        } else {
            self.phase = Phase::Transaction { user, messages };
        }
    }

    /// `STAT`: the messages not marked as deleted and their total size.
    fn stat(&mut self, messages: &[Message]) {
        self.ok(&encode_stat(&totals(messages)));
    }

    /// `LIST` (a scan listing of every message not marked) or `LIST n`.
    fn list(&mut self, n: Option<u32>, messages: &[Message]) {
        let Some(n) = n else {
            let Stat { count, size } = totals(messages);
            let entries: Vec<ListEntry> = live(messages)
                .map(|(id, m)| ListEntry {
                    id,
                    size: m.info.size,
                })
                .collect();
            let body = encode_listing(&entries, encode_list_line);
            return self.multiline(&format!("{count} messages ({size} octets)"), &body);
        };
        match message(messages, n) {
            Some(m) => {
                let entry = ListEntry {
                    id: n,
                    size: m.info.size,
                };
                self.ok(&encode_list_line(&entry));
            }
            None => self.no_such_message(n, messages),
        }
    }

    /// `UIDL` (a unique-id listing of every message not marked) or `UIDL n`.
    fn uidl(&mut self, n: Option<u32>, messages: &[Message]) {
        let Some(n) = n else {
            let entries: Vec<UidlEntry> = live(messages)
                .map(|(id, m)| UidlEntry {
                    id,
                    uid: m.info.uid.clone(),
                })
                .collect();
            let body = encode_listing(&entries, encode_uidl_line);
            return self.multiline("unique-id listing follows", &body);
        };
        match message(messages, n) {
            Some(m) => {
                let entry = UidlEntry {
                    id: n,
                    uid: m.info.uid.clone(),
                };
                self.ok(&encode_uidl_line(&entry));
            }
            None => self.no_such_message(n, messages),
        }
    }

    /// `RETR n` (`lines` is `None`) or `TOP n lines`: the `+OK` now, the message a chunk per
    /// `poll_transmit` after it, stuffed as it goes.
    fn retr(
        &mut self,
        n: u32,
        lines: Option<u32>,
        user: &str,
        messages: &[Message],
        store: &dyn Mailstore,
    ) {
        let Some((uid, size)) = message(messages, n).map(|m| (m.info.uid.clone(), m.info.size))
        else {
            return self.no_such_message(n, messages);
        };
        match store.read(user, &uid) {
            Ok(data) => {
                let (end, text) = match lines {
                    Some(l) => (
                        top_end(&data, l),
                        format!("headers and the first {l} body lines follow"),
                    ),
                    None => (data.len(), format!("{size} octets")),
                };
                self.ok(&text);
                self.sending = Some(Outgoing { data, pos: 0, end });
            }
            Err(e) => self.store_error(e),
        }
    }

    /// `DELE n`: marks the message; it is removed only at QUIT.
    fn dele(&mut self, n: u32, messages: &mut [Message]) {
        match messages.get_mut((n as usize).wrapping_sub(1)) {
            Some(m) if !m.deleted => {
                m.deleted = true;
                self.ok(&format!(
                    "message {n} marked for deletion (it goes at QUIT)"
                ));
            }
            Some(_) => self.err(None, &format!("message {n} already deleted")),
            None => self.no_such_message(n, messages),
        }
    }

    /// `RSET`: every deletion mark is taken back.
    fn rset(&mut self, messages: &mut [Message]) {
        messages.iter_mut().for_each(|m| m.deleted = false);
        let Stat { count, size } = totals(messages);
        self.ok(&format!(
            "maildrop has {count} messages ({size} octets): no deletion marks"
        ));
    }

    /// `QUIT` from TRANSACTION: RFC 1939 §6's UPDATE state. Deletions happen now, and only now.
    fn quit(&mut self, user: &str, messages: &[Message], store: &dyn Mailstore) {
        let deleted: Vec<String> = messages
            .iter()
            .filter(|m| m.deleted)
            .map(|m| m.info.uid.clone())
            .collect();
        match store.commit(user, &deleted) {
            Ok(()) => {
                let left = messages.len() - deleted.len();
                self.ok(&format!(
                    "popwire teaching server signing off ({} deleted, {left} left)",
                    deleted.len()
                ));
            }
            Err(_) => self.err(
                Some(ResponseCode::SysTemp),
                "some deleted messages not removed",
            ),
        }
    }

    fn no_such_message(&mut self, n: u32, messages: &[Message]) {
        match messages.get((n as usize).wrapping_sub(1)) {
            Some(m) if m.deleted => self.err(None, &format!("message {n} is marked as deleted")),
            _ => self.err(
                None,
                &format!(
                    "no such message, only {} messages in maildrop",
                    messages.len()
                ),
            ),
        }
    }

    fn store_error(&mut self, e: MailstoreError) {
        match e {
            MailstoreError::InUse => self.err(Some(ResponseCode::InUse), "the maildrop is busy"),
            MailstoreError::Unavailable(text) => self.err(Some(ResponseCode::SysTemp), &text),
            MailstoreError::Failed(text) => self.err(Some(ResponseCode::SysPerm), &text),
        }
    }

    // ----- Replies ----------------------------------------------------------------------------

    /// The capability list. USER, SASL and UTF8 are "both / no" in RFC 2449 §6 and RFC 6856 §2
    /// (announced in both states, no difference), so they are listed in TRANSACTION too. `UTF8
    /// USER` (RFC 6856 §2): after UTF8, USER and PASS take UTF-8 names and passwords (compared
    /// as they are; no SASLprep).
    fn capa(&mut self, authorization: bool) {
        let mut body = String::new();
        body.push_str("TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
        body.push_str("UTF8 USER\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\n");
        body.push_str("USER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n");
        if authorization && self.config.stls_available && !self.tls {
            body.push_str("STLS\r\n");
        }
        body.push_str(&format!(
            "IMPLEMENTATION {}\r\n",
            self.config.implementation
        ));
        self.multiline("capability list follows", body.as_bytes());
    }

    fn ok(&mut self, text: &str) {
        StatusLine::encode(Status::Ok, None, text, &mut self.outbuf);
    }

    fn err(&mut self, code: Option<ResponseCode>, text: &str) {
        StatusLine::encode(Status::Err, code.as_ref(), text, &mut self.outbuf);
    }

    fn multiline(&mut self, text: &str, body: &[u8]) {
        self.ok(text);
        stuff_body(body, &mut self.outbuf);
    }

    fn close(&mut self, store: &dyn Mailstore, reason: &'static str) {
        self.handle_close(store);
        self.events.push_back(ServerEvent::Close { reason });
    }
}

/// The messages not marked as deleted, with their message numbers (from 1).
fn live(messages: &[Message]) -> impl Iterator<Item = (u32, &Message)> {
    (1..=u32::MAX).zip(messages).filter(|(_, m)| !m.deleted)
}

/// What STAT says: the messages not marked as deleted and their total size.
fn totals(messages: &[Message]) -> Stat {
    live(messages).fold(Stat { count: 0, size: 0 }, |t, (_, m)| Stat {
        count: t.count + 1,
        size: t.size + m.info.size,
    })
}

fn message(messages: &[Message], n: u32) -> Option<&Message> {
    messages
        .get((n as usize).wrapping_sub(1))
        .filter(|m| !m.deleted)
}

/// Where TOP stops: after the headers, the blank line and the first `lines` lines of the body
/// (RFC 1939 §7).
fn top_end(message: &[u8], lines: u32) -> usize {
    let body_start = memchr::memmem::find(message, b"\r\n\r\n").map_or(message.len(), |i| i + 4);
    let mut end = body_start;
    for _ in 0..lines {
        if end >= message.len() {
            break;
        }
        end = match memchr::memchr(b'\n', message.get(end..).unwrap_or_default()) {
            Some(i) => end + i + 1,
            None => message.len(),
        };
    }
    end
}

#[cfg(test)]
mod tests;
