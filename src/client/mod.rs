//! The client session: a sans-IO state machine for one POP3 connection.
//!
//! # The driving loop
//!
//! [`Client`] never touches a socket or a clock. Whoever owns the connection (a tokio task, a
//! browser WebSocket, a test) drives it like this:
//!
//! ```text
//! let mut client = Client::new(ClientConfig::default(), now_ms);
//! loop {
//!     // 1. queue work:      client.stat(), client.retr(1), client.send_raw("LIST 2"), …
//!     // 2. write:           while let Some(bytes) = client.poll_transmit(now_ms) { socket.write(bytes) }
//!     // 3. wait for input or for client.poll_timeout() (an absolute time in ms)
//!     // 4. read:            client.feed(now_ms, &bytes)      or on timer: client.handle_timeout(now_ms)
//!     //                     or on EOF: client.handle_close(now_ms, "reason")
//!     // 5. react:           while let Some(event) = client.poll_event() { … }
//!     //                     on Event::StartTls: start TLS, then client.tls_established(now_ms, "…")
//! }
//! ```
//!
//! `poll_timeout` is the deadline of whatever is awaited: the greeting, the next octet of a reply
//! ([`ClientConfig::reply_timeout_ms`]) or, after `+OK` to STLS, the transport's TLS handshake
//! ([`ClientConfig::tls_timeout_ms`]); it is `None` when the session is idle or closed.
//!
//! Commands return a [`CommandHandle`]; the matching [`Event::Completed`] carries the reply. Each
//! line on the wire also yields an [`Event::Transcript`] entry with its explanation key.
//! Commands are sent one at a time, or pipelined when the server advertised `PIPELINING` in CAPA
//! (RFC 2449 §6.6); replies are matched in order. With PIPELINING known, [`Client::pass`] may
//! follow a [`Client::user`] still unanswered, and both go out in one write.
//!
//! A maildrop sync is `UIDL` and `LIST` (queued together: one round trip with PIPELINING),
//! [`new_since`] for the unique-ids not seen yet, then [`Client::retr_many`], which queues the
//! RETRs itself within a [`BatchOptions`] window on each `poll_transmit`. Each message completes
//! as an [`Event::Completed`] under a handle of the [`Batch`]; taking it with `poll_event` frees
//! its place in the window, so a caller that stops taking events stops the batch, and the engine
//! never holds more than the window ([`Client::held_body_bytes`]). To stream one large body
//! instead of keeping it, [`Client::retr_stream`], then [`Client::take_body`] on each of its
//! [`Event::Progress`] events. While a hand-typed AUTH waits for the
//! student's SASL response, nothing queued goes out before it. Nothing the server sends can make
//! the session panic: malformed replies become [`Pop3Error::Protocol`], oversize ones
//! [`Pop3Error::Limit`]; an over-long status line of a multi-line reply fails its command and its
//! body is read to the terminator and dropped, so it is never taken for a later reply.

mod api;
mod batch;
mod error;
mod event;
mod interpret;
mod raw;
mod read;
mod request;
mod send;

mod transcript;

use std::collections::{HashMap, VecDeque};

pub use crate::codec::SessionState;
pub use batch::{new_since, Batch, BatchOptions};
pub use error::{ErrorInfo, Pop3Error};
pub use event::{CommandHandle, Event, Greeting, Progress, RawParsed, RawReply, Reply};
pub use raw::CheckedLine;

use crate::codec::{Capability, Keyword, LineFramer, DEFAULT_MAX_BODY, MAX_RESPONSE_LINE};
use crate::explain;
use batch::BatchState;
use read::BodyRead;
use request::Request;

/// Settings of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// How long to wait for the greeting or for the next octet of a reply, in ms.
    pub reply_timeout_ms: u64,
    /// Largest multi-line body accepted, in decoded octets.
    pub max_body: u64,
    /// Most commands that may wait unsent.
    pub max_queued: usize,
    /// Pipeline commands when the server advertises PIPELINING.
    pub pipelining: bool,
    /// How long to wait, after `+OK` to STLS, for the transport to report TLS
    /// ([`Client::tls_established`]), in ms; then the session closes with
    /// [`Pop3Error::TlsTimeout`].
    pub tls_timeout_ms: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            reply_timeout_ms: 30_000,
            max_body: DEFAULT_MAX_BODY,
            max_queued: 1024,
            pipelining: true,
            tls_timeout_ms: 30_000,
        }
    }
}
/// A POP3 client session. See the [module documentation](self) for the driving loop.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    state: SessionState,
    greeting: Option<Greeting>,
    framer: LineFramer,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    pending: VecDeque<Request>,
    in_flight: VecDeque<Request>,
    body: Option<BodyRead>,
    events: VecDeque<Event>,
    /// Octets of [`Reply::Message`] bodies in `events`, not yet taken.
    queued_message_bytes: usize,
    batches: VecDeque<BatchState>,
    capabilities: Option<Vec<Capability>>,
    sizes: HashMap<u32, u64>,
    next_handle: u64,
    seq: u64,
    timer_base_ms: u64,
    now_ms: u64,
    awaiting_pass: bool,
    awaiting_tls: bool,
    tls: bool,
    utf8: bool,
    raw_sasl: bool,
    closed_by: Option<Pop3Error>,
}

impl Client {
    /// A session for a connection just opened at `now_ms`; it waits for the greeting.
    pub fn new(config: ClientConfig, now_ms: u64) -> Client {
        Client {
            config,
            state: SessionState::Authorization,
            greeting: None,
            framer: LineFramer::new(MAX_RESPONSE_LINE),
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            pending: VecDeque::new(),
            in_flight: VecDeque::new(),
            body: None,
            events: VecDeque::new(),
            queued_message_bytes: 0,
            batches: VecDeque::new(),
            capabilities: None,
            sizes: HashMap::new(),
            next_handle: 0,
            seq: 0,
            timer_base_ms: now_ms,
            now_ms,
            awaiting_pass: false,
            awaiting_tls: false,
            tls: false,
            utf8: false,
            raw_sasl: false,
            closed_by: None,
        }
    }

    // ----- What the session knows -------------------------------------------------------------

    /// The session's state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The greeting, once it has arrived.
    pub fn greeting(&self) -> Option<&Greeting> {
        self.greeting.as_ref()
    }

    /// The capabilities from the last CAPA, `None` before CAPA or after STLS (RFC 2595 §4).
    pub fn capabilities(&self) -> Option<&[Capability]> {
        self.capabilities.as_deref()
    }

    /// Whether commands are being pipelined.
    pub fn is_pipelining(&self) -> bool {
        self.config.pipelining
            && self
                .capabilities
                .as_ref()
                .is_some_and(|caps| caps.iter().any(|c| c.name == "PIPELINING"))
    }

    /// Whether the transport reported TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Why the session closed (a timeout, a `-ERR` greeting, the connection dropping, QUIT),
    /// once it has.
    pub fn closed_by(&self) -> Option<&Pop3Error> {
        self.closed_by.as_ref()
    }

    /// The multi-line body being read right now, decoded so far (dot-stuffing removed; after a
    /// [`Client::take_body`], only what arrived since), with
    /// the handle of its command; `None` when no body is streaming or it outgrew the cap. A
    /// transport can mirror a large RETR as it arrives instead of copying it all at the end.
    pub fn streaming_body(&self) -> Option<(CommandHandle, &[u8])> {
        let read = self
            .body
            .as_ref()
            .filter(|read| !read.decoder.is_over_limit() && read.failure.is_none())?;
        let head = self.in_flight.front()?;
        Some((head.handle, &read.body))
    }

    /// Takes the octets of `handle`'s body decoded since the last take (or since it started),
    /// leaving the engine none of them: [`Client::retr_stream`]'s way to stream a body. `None`
    /// when `handle`'s body is not the one being read (not started, already completed: its
    /// [`Event::Completed`] then has the rest), or it outgrew the cap. After a take,
    /// [`Client::streaming_body`] shows only what arrived since.
    pub fn take_body(&mut self, handle: CommandHandle) -> Option<Vec<u8>> {
        if self.in_flight.front()?.handle != handle {
            return None;
        }
        let read = self
            .body
            .as_mut()
            .filter(|read| !read.decoder.is_over_limit() && read.failure.is_none())?;
        Some(std::mem::take(&mut read.body))
    }

    /// Whether the server accepted `UTF8` (RFC 6856).
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// Whether the next raw line is a SASL response (the server sent a `+` challenge to a raw AUTH).
    pub fn expects_sasl_response(&self) -> bool {
        self.raw_sasl
    }

    /// The commands valid now: RFC 1939's table narrowed by what this session knows (PASS only
    /// right after a successful USER, STLS only once and before TLS, UTF8 only once).
    pub fn allowed_commands(&self) -> Vec<Keyword> {
        self.state
            .allowed_commands()
            .iter()
            .copied()
            .filter(|&k| self.narrowed_allows(k))
            .collect()
    }

    /// With PIPELINING known (RFC 2449 §6.6: only after CAPA listed it), PASS may go out with
    /// the USER before it: the last request queued is a USER still awaiting its reply.
    fn user_unanswered_last(&self) -> bool {
        let last = self.pending.back().or_else(|| self.in_flight.back());
        self.is_pipelining()
            && self.state == SessionState::Authorization
            && last.is_some_and(|req| !req.is_raw() && req.keyword() == Some(Keyword::User))
    }

    pub(super) fn narrowed_allows(&self, keyword: Keyword) -> bool {
        match keyword {
            Keyword::Pass => self.awaiting_pass || self.user_unanswered_last(),
            Keyword::Stls => !self.tls,
            Keyword::Utf8 => !self.utf8,
            _ => true,
        }
    }
}

impl Client {
    // ----- Driving ----------------------------------------------------------------------------

    /// Bytes to write to the connection, if any. Commands leave the queue here (one at a time, or
    /// pipelined), and their transcript entries are stamped with `now_ms`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.now_ms = now_ms;
        self.refill_batches();
        self.flush_pending();
        if self.outbuf.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.outbuf))
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        self.release_batch_slot(&event);
        Some(event)
    }

    /// When [`Client::handle_timeout`] should be called next (absolute ms), if something is
    /// awaited: the greeting, a reply ([`ClientConfig::reply_timeout_ms`] after the last octet),
    /// or, after `+OK` to STLS, the TLS handshake ([`ClientConfig::tls_timeout_ms`]).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.state == SessionState::Closed {
            return None;
        }
        if self.awaiting_tls {
            return Some(
                self.timer_base_ms
                    .saturating_add(self.config.tls_timeout_ms),
            );
        }
        let waiting = self.greeting.is_none() || !self.in_flight.is_empty();
        waiting.then(|| {
            self.timer_base_ms
                .saturating_add(self.config.reply_timeout_ms)
        })
    }

    /// Tells the session the time; if what it awaits is overdue every open command fails with
    /// [`Pop3Error::Timeout`] (a reply or the greeting) or [`Pop3Error::TlsTimeout`] (the TLS
    /// handshake after STLS) and the session closes.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        if self
            .poll_timeout()
            .is_some_and(|deadline| now_ms >= deadline)
        {
            if self.awaiting_tls {
                let after_ms = self.config.tls_timeout_ms;
                self.say(
                    crate::explain!("error.timeout"),
                    crate::note!("note.tls-timeout", ms = after_ms),
                );
                self.shut_down(Pop3Error::TlsTimeout { after_ms });
            } else {
                let after_ms = self.config.reply_timeout_ms;
                self.say(
                    crate::explain!("error.timeout"),
                    crate::note!("note.reply-timeout", ms = after_ms),
                );
                self.shut_down(Pop3Error::Timeout { after_ms });
            }
        }
    }

    /// The transport closed (or lost) the connection. Open commands fail with
    /// [`Pop3Error::Closed`] — except after QUIT's reply, which is the normal end. `reason` is
    /// a sentence (a `&str` is kept as said) or a [`Note`](crate::explain::Note) a page can say
    /// in its language.
    pub fn handle_close(&mut self, now_ms: u64, reason: impl Into<crate::explain::Note>) {
        self.now_ms = now_ms;
        if self.state == SessionState::Closed {
            return;
        }
        let reason = reason.into();
        self.say(crate::explain!("info.closed"), reason.clone());
        self.shut_down(Pop3Error::Closed { reason });
    }

    /// The transport finished the TLS handshake after STLS; `description` (version, cipher,
    /// certificate) goes into the transcript. Sending resumes. What was learned before TLS
    /// (capabilities, UTF8 mode, a USER awaiting PASS) is forgotten: CAPA must be asked again.
    pub fn tls_established(&mut self, now_ms: u64, description: impl Into<crate::explain::Note>) {
        self.now_ms = now_ms;
        self.tls = true;
        self.timer_base_ms = now_ms;
        if self.awaiting_tls {
            self.awaiting_tls = false;
            self.say(crate::explain!("info.tls"), description.into());
            self.say(
                crate::explain!("info.capa-reset"),
                crate::note!("note.capa-reset"),
            );
        } else {
            // Implicit TLS (port 995): the connection was encrypted from its first octet.
            self.say(crate::explain!("info.tls-implicit"), description.into());
        }
    }

    /// Adds an info entry from the transport (e.g. `info.bridge` for a bridge message): a
    /// sentence (a `&str` is kept as said) or a [`Note`](crate::explain::Note). Unknown keys are
    /// recorded as `info.bridge`.
    pub fn note(&mut self, now_ms: u64, key: &str, text: impl Into<crate::explain::Note>) {
        self.now_ms = now_ms;
        let explain = explain::lookup(key).unwrap_or(crate::explain!("info.bridge"));
        self.say(explain, text.into());
    }

    /// Octets received from the server. Everything complete is processed at once; events queue up.
    pub fn feed(&mut self, now_ms: u64, bytes: &[u8]) {
        self.now_ms = now_ms;
        if bytes.is_empty() || self.state == SessionState::Closed {
            return;
        }
        if self.awaiting_tls {
            // Bytes after +OK to STLS but before TLS: never trust them (RFC 2595 §4 / CVE-2011-0411).
            // They do not push the handshake deadline out either.
            self.say(
                crate::explain!("warn.stls-discarded"),
                crate::note!("note.stls-discarded-before", octets = bytes.len()),
            );
            return;
        }
        self.timer_base_ms = now_ms;
        if self.inbuf.is_empty() {
            // The common case: decode straight from the caller's bytes, keep only the tail.
            let used = self.process(bytes);
            if self.state != SessionState::Closed {
                self.inbuf
                    .extend_from_slice(bytes.get(used..).unwrap_or_default());
            }
        } else {
            let mut buf = std::mem::take(&mut self.inbuf);
            buf.extend_from_slice(bytes);
            let used = self.process(&buf);
            if self.state != SessionState::Closed {
                buf.drain(..used);
                self.inbuf = buf;
            }
        }
        self.report_progress();
    }
}

impl Client {
    // ----- Ending -----------------------------------------------------------------------------

    pub(super) fn shut_down(&mut self, err: Pop3Error) {
        if self.state == SessionState::Closed {
            return;
        }
        for req in std::mem::take(&mut self.in_flight)
            .into_iter()
            .chain(std::mem::take(&mut self.pending))
        {
            self.complete(req.handle, Err(err.clone()));
        }
        self.fail_batches(&err);
        self.closed_by = Some(err);
        self.body = None;
        self.inbuf.clear();
        self.raw_sasl = false;
        self.awaiting_tls = false;
        self.set_state(SessionState::Closed);
        self.events.push_back(Event::Closed);
    }

    pub(super) fn complete(&mut self, handle: CommandHandle, result: Result<Reply, Pop3Error>) {
        if let Ok(Reply::Message(body)) = &result {
            self.queued_message_bytes = self.queued_message_bytes.saturating_add(body.len());
        }
        self.events.push_back(Event::Completed { handle, result });
    }

    pub(super) fn set_state(&mut self, state: SessionState) {
        if self.state != state {
            self.state = state;
            self.announce_state();
        }
    }

    pub(super) fn announce_state(&mut self) {
        let state = self.state;
        self.info(state.explain(), state.as_str().to_owned());
        self.events.push_back(Event::StateChanged(state));
    }
}
