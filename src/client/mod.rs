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
//! (RFC 2449 §6.6); replies are matched in order. While a hand-typed AUTH waits for the
//! student's SASL response, nothing queued goes out before it. Nothing the server sends can make
//! the session panic: malformed replies become [`Pop3Error::Protocol`], oversize ones
//! [`Pop3Error::Limit`]; an over-long status line of a multi-line reply fails its command and its
//! body is read to the terminator and dropped, so it is never taken for a later reply.

mod error;
mod event;
mod state;

use std::collections::{HashMap, VecDeque};
use std::ops::Range;

pub use error::Pop3Error;
use event::body_lines;
pub use event::{CommandHandle, Event, Greeting, Progress, RawReply, Reply};
pub use state::SessionState;

use crate::auth::{self, Mechanism, SaslClient};
use crate::codec::{
    check_line, check_sasl_response, find_apop_timestamp, parse_capa_line, parse_list_line,
    parse_stat, parse_uidl_line, BodyDecoder, Capability, Command, Continuation, Keyword,
    LimitError, LineFramer, LineItem, ProtocolError, Status, StatusLine, DEFAULT_MAX_BODY,
    MAX_COMMAND_LINE, MAX_RESPONSE_LINE, MAX_SASL_CHALLENGE_LINE,
};
use crate::explain::{
    self, body_key, command_key, reply_key, Direction, Explain, TranscriptEntry, BODY_KEEP, MASK,
};

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

/// What a queued request is.
#[derive(Debug)]
enum RequestKind {
    /// A command from a typed method: `-ERR` is an error.
    Typed {
        command: Command,
        sasl: Option<SaslClient>,
    },
    /// A command typed by hand: `-ERR` is a reply like any other.
    Raw { command: Command },
    /// A SASL response line typed by hand after a `+` challenge.
    RawSaslResponse,
}

#[derive(Debug)]
struct Request {
    handle: CommandHandle,
    kind: RequestKind,
    bytes: Vec<u8>,
    secret: Option<Range<usize>>,
    /// An error to report instead of the server's `-ERR` (a SASL exchange we cancelled).
    failure: Option<Pop3Error>,
}

impl Request {
    fn command(&self) -> Option<&Command> {
        match &self.kind {
            RequestKind::Typed { command, .. } | RequestKind::Raw { command } => Some(command),
            RequestKind::RawSaslResponse => None,
        }
    }

    fn keyword(&self) -> Option<Keyword> {
        self.command().and_then(Command::keyword)
    }

    /// Requests after which nothing may be pipelined: they change the state or the connection.
    fn is_barrier(&self) -> bool {
        match &self.kind {
            RequestKind::RawSaslResponse => true,
            _ => matches!(
                self.keyword(),
                Some(
                    Keyword::Pass
                        | Keyword::Apop
                        | Keyword::Auth
                        | Keyword::Stls
                        | Keyword::Quit
                        | Keyword::Utf8
                ) | None
            ),
        }
    }

    /// A progress report for this request's streaming reply.
    fn progress(&self, received: u64, expected: Option<u64>) -> Progress {
        let command = self.command();
        Progress {
            handle: self.handle,
            command: command.map(Command::name).unwrap_or_default(),
            id: command.and_then(Command::message_number),
            received,
            expected,
        }
    }

    fn is_raw(&self) -> bool {
        !matches!(self.kind, RequestKind::Typed { .. })
    }
}

/// A multi-line body being read for the request at the head of the in-flight queue.
#[derive(Debug)]
struct BodyRead {
    decoder: BodyDecoder,
    status: StatusLine,
    body: Vec<u8>,
    wire_kept: Vec<u8>,
    reported: u64,
    expected: Option<u64>,
    /// The status line was over-long: the body is read only to stay in step, then the command
    /// fails with this error.
    failure: Option<Pop3Error>,
}

/// How an over-long reply line began, which says whether a multi-line body follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LongLine {
    /// `+OK `: a multi-line command's body follows.
    Ok,
    /// `-ERR `: nothing follows.
    Err,
    /// `+ `: a SASL challenge.
    Continuation,
    /// Anything else.
    Unknown,
}

impl LongLine {
    fn of(start: &[u8]) -> LongLine {
        if start.starts_with(b"+OK ") {
            LongLine::Ok
        } else if start.starts_with(b"-ERR ") {
            LongLine::Err
        } else if start.starts_with(b"+ ") {
            LongLine::Continuation
        } else {
            LongLine::Unknown
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

    /// The multi-line body being read right now, decoded so far (dot-stuffing removed), with
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

    fn narrowed_allows(&self, keyword: Keyword) -> bool {
        match keyword {
            Keyword::Pass => self.awaiting_pass,
            Keyword::Stls => !self.tls,
            Keyword::Utf8 => !self.utf8,
            _ => true,
        }
    }

    /// Checks a line as [`Client::send_raw`] would, without sending it.
    pub fn check(&self, line: &str) -> Result<(), Pop3Error> {
        if self.raw_sasl {
            check_sasl_response(line)
                .map(|_| ())
                .map_err(Pop3Error::from)
        } else {
            check_line(line, self.utf8)
                .map(|_| ())
                .map_err(Pop3Error::from)
        }
    }

    // ----- Typed commands ---------------------------------------------------------------------

    /// Queues a typed command: refused with [`Pop3Error::State`] if the RFC does not allow it now,
    /// and with [`Pop3Error::Input`] if an argument is malformed (e.g. holds CR or LF).
    pub fn command(&mut self, command: Command) -> Result<CommandHandle, Pop3Error> {
        self.typed(command, None)
    }

    /// `USER name`.
    pub fn user(&mut self, name: &str) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::User(name.to_owned()))
    }

    /// `PASS secret` (masked in the transcript).
    pub fn pass(&mut self, secret: &str) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Pass(secret.to_owned()))
    }

    /// `APOP name digest`, the digest computed from the greeting's timestamp (RFC 1939 §7).
    pub fn apop(&mut self, name: &str, secret: &str) -> Result<CommandHandle, Pop3Error> {
        let Some(stamp) = self
            .greeting
            .as_ref()
            .and_then(|g| g.apop_timestamp.clone())
        else {
            return Err(Pop3Error::State {
                command: "APOP".into(),
                state: self.state,
                hint: Some("the greeting has no <timestamp>, so this server does not offer APOP"),
            });
        };
        let digest = auth::apop_digest(&stamp, secret);
        self.command(Command::Apop {
            name: name.to_owned(),
            digest,
        })
    }

    /// `AUTH mechanism` with the whole SASL exchange driven by the engine (RFC 5034). The initial
    /// response is sent on the AUTH line when the mechanism has one and the line stays within
    /// 255 octets; `=` stands for an empty one.
    pub fn auth(
        &mut self,
        mechanism: Mechanism,
        user: &str,
        secret: &str,
    ) -> Result<CommandHandle, Pop3Error> {
        let mut sasl = SaslClient::new(mechanism, user, secret).map_err(Pop3Error::Credentials)?;
        let mut initial_response = None;
        if mechanism.has_initial_response() {
            if let Some(raw) = sasl.initial_response() {
                let encoded = if raw.is_empty() {
                    "=".to_owned()
                } else {
                    auth::encode_base64(&raw)
                };
                // "AUTH " + mechanism + " " + response + CRLF must fit in 255 octets.
                if 5 + mechanism.as_str().len() + 1 + encoded.len() + 2 <= MAX_COMMAND_LINE {
                    initial_response = Some(encoded);
                } else {
                    // Too long: rebuild the client so the blob goes out after the empty challenge.
                    sasl =
                        SaslClient::new(mechanism, user, secret).map_err(Pop3Error::Credentials)?;
                }
            }
        }
        let command = Command::Auth {
            mechanism: mechanism.as_str().to_owned(),
            initial_response,
        };
        self.typed(command, Some(sasl))
    }

    /// `STAT`.
    pub fn stat(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Stat)
    }

    /// `LIST` or `LIST n`.
    pub fn list(&mut self, id: Option<u32>) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::List(id))
    }

    /// `UIDL` or `UIDL n`.
    pub fn uidl(&mut self, id: Option<u32>) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Uidl(id))
    }

    /// `RETR n`.
    pub fn retr(&mut self, id: u32) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Retr(id))
    }

    /// `TOP n lines`.
    pub fn top(&mut self, id: u32, lines: u32) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Top { msg: id, lines })
    }

    /// `DELE n`.
    pub fn dele(&mut self, id: u32) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Dele(id))
    }

    /// `CAPA`.
    pub fn capa(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Capa)
    }

    /// `STLS`: on `+OK` the session emits [`Event::StartTls`] and waits for
    /// [`Client::tls_established`].
    pub fn stls(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Stls)
    }

    /// `QUIT`.
    pub fn quit(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Quit)
    }

    fn typed(
        &mut self,
        command: Command,
        sasl: Option<SaslClient>,
    ) -> Result<CommandHandle, Pop3Error> {
        let keyword = command.keyword();
        if let Some(k) = keyword {
            if !self.state.allows(k) || !self.narrowed_allows(k) {
                let hint = match k {
                    Keyword::Pass if self.state == SessionState::Authorization => {
                        Some("PASS must follow a successful USER")
                    }
                    Keyword::Stls if self.tls => Some("TLS is already active"),
                    Keyword::Utf8 if self.utf8 => Some("UTF8 is already on"),
                    _ => None,
                };
                return Err(Pop3Error::State {
                    command: k.as_str().into(),
                    state: self.state,
                    hint,
                });
            }
        }
        if self.raw_sasl {
            return Err(Pop3Error::State {
                command: command.name(),
                state: self.state,
                hint: Some("a SASL exchange is waiting for its response line"),
            });
        }
        // Re-check the encoded line: arguments cannot smuggle CR/LF or break the length limit.
        let bytes = command.encode();
        let line = String::from_utf8_lossy(&bytes[..bytes.len() - 2]).into_owned();
        check_line(&line, self.utf8)?;
        let secret = command.secret_range(&bytes);
        self.enqueue(RequestKind::Typed { command, sasl }, bytes, secret)
    }

    // ----- Raw commands -----------------------------------------------------------------------

    /// Sends a line as a person typed it. Malformed lines are refused with [`Pop3Error::Input`]
    /// and nothing is sent; a well-formed command that is invalid in this state **is** sent, so
    /// that the server's `-ERR` can be seen. The reply, `-ERR` included, comes as
    /// [`Reply::Raw`].
    ///
    /// After a `+` challenge to a hand-typed AUTH the next line is the SASL response (base64,
    /// `*` to cancel, or an empty line for an empty response, RFC 5034 §4). It goes out before
    /// anything queued earlier: commands queued behind the AUTH wait until the exchange ends
    /// (`+OK` or `-ERR`), and typed commands are refused while the response is awaited.
    pub fn send_raw(&mut self, line: &str) -> Result<CommandHandle, Pop3Error> {
        if self.raw_sasl {
            let text = check_sasl_response(line)?;
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n");
            let secret = (text != "*").then_some(0..text.len());
            let handle = self.enqueue_at(RequestKind::RawSaslResponse, bytes, secret, true)?;
            self.raw_sasl = false;
            return Ok(handle);
        }
        let checked = check_line(line, self.utf8)?;
        let bytes = checked.encode();
        let secret = checked.command.secret_range(&bytes);
        self.enqueue(
            RequestKind::Raw {
                command: checked.command,
            },
            bytes,
            secret,
        )
    }

    fn enqueue(
        &mut self,
        kind: RequestKind,
        bytes: Vec<u8>,
        secret: Option<Range<usize>>,
    ) -> Result<CommandHandle, Pop3Error> {
        self.enqueue_at(kind, bytes, secret, false)
    }

    /// Queues a request at the back, or at the front (a SASL response overtakes what waits).
    fn enqueue_at(
        &mut self,
        kind: RequestKind,
        bytes: Vec<u8>,
        secret: Option<Range<usize>>,
        front: bool,
    ) -> Result<CommandHandle, Pop3Error> {
        if self.state == SessionState::Closed {
            return Err(Pop3Error::Closed {
                reason: "the session is closed".into(),
            });
        }
        if self.pending.len() >= self.config.max_queued {
            return Err(LimitError::TooManyQueued {
                limit: self.config.max_queued,
            }
            .into());
        }
        let handle = CommandHandle(self.next_handle);
        self.next_handle += 1;
        let request = Request {
            handle,
            kind,
            bytes,
            secret,
            failure: None,
        };
        if request.keyword() != Some(Keyword::Pass) {
            // RFC 1939 §7: PASS only immediately after USER; anything else in between ends that.
            self.awaiting_pass = false;
        }
        if front {
            self.pending.push_front(request);
        } else {
            self.pending.push_back(request);
        }
        Ok(handle)
    }

    // ----- Driving ----------------------------------------------------------------------------

    /// Bytes to write to the connection, if any. Commands leave the queue here (one at a time, or
    /// pipelined), and their transcript entries are stamped with `now_ms`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.now_ms = now_ms;
        self.flush_pending();
        if self.outbuf.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.outbuf))
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
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
                self.info(
                    "error.timeout",
                    format!("TLS was not up within {after_ms} ms of +OK to STLS"),
                );
                self.shut_down(Pop3Error::TlsTimeout { after_ms });
            } else {
                let after_ms = self.config.reply_timeout_ms;
                self.info("error.timeout", format!("no reply within {after_ms} ms"));
                self.shut_down(Pop3Error::Timeout { after_ms });
            }
        }
    }

    /// The transport closed (or lost) the connection. Open commands fail with
    /// [`Pop3Error::Closed`] — except after QUIT's reply, which is the normal end.
    pub fn handle_close(&mut self, now_ms: u64, reason: &str) {
        self.now_ms = now_ms;
        if self.state == SessionState::Closed {
            return;
        }
        self.info("info.closed", reason.to_owned());
        self.shut_down(Pop3Error::Closed {
            reason: reason.to_owned(),
        });
    }

    /// The transport finished the TLS handshake after STLS; `description` (version, cipher,
    /// certificate) goes into the transcript. Sending resumes. What was learned before TLS
    /// (capabilities, UTF8 mode, a USER awaiting PASS) is forgotten: CAPA must be asked again.
    pub fn tls_established(&mut self, now_ms: u64, description: &str) {
        self.now_ms = now_ms;
        self.tls = true;
        self.timer_base_ms = now_ms;
        if self.awaiting_tls {
            self.awaiting_tls = false;
            self.info("info.tls", description.to_owned());
            self.info(
                "info.capa-reset",
                "capabilities, UTF8 mode and USER forgotten: send CAPA again".to_owned(),
            );
        } else {
            // Implicit TLS (port 995): the connection was encrypted from its first octet.
            self.info("info.tls-implicit", description.to_owned());
        }
    }

    /// Adds an info entry from the transport (e.g. `info.bridge` for a bridge message).
    /// Unknown keys are recorded as `info.bridge`.
    pub fn note(&mut self, now_ms: u64, key: &str, text: &str) {
        self.now_ms = now_ms;
        let explain = explain::lookup(key).unwrap_or_else(|| explain::known("info.bridge"));
        self.push_entry(
            Direction::Info,
            text.to_owned(),
            Vec::new(),
            false,
            false,
            0,
            explain,
        );
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
            self.info(
                "warn.stls-discarded",
                format!("{} octets before TLS discarded", bytes.len()),
            );
            return;
        }
        self.timer_base_ms = now_ms;
        if self.inbuf.is_empty() {
            // The common case: decode straight from the caller's bytes, keep only the tail.
            let used = self.process(bytes);
            if self.state != SessionState::Closed {
                self.inbuf.extend_from_slice(&bytes[used..]);
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

    /// Processes complete lines and body octets from the front of `input`; returns how many
    /// octets were consumed (the rest is an incomplete line or an undecided line start).
    fn process(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while pos < input.len() && self.state != SessionState::Closed && !self.awaiting_tls {
            // A body starts after its status line; if that line was over-long, after its end.
            let in_body = !self.framer.is_resynchronising();
            if let Some(read) = self.body.as_mut().filter(|_| in_body) {
                let rest = &input[pos..];
                let progress = read.decoder.decode(rest, &mut read.body);
                if read.failure.is_some() {
                    // The body of an over-long status line: read only to stay in step.
                    read.body.clear();
                }
                let keep = BODY_KEEP
                    .saturating_sub(read.wire_kept.len())
                    .min(progress.consumed);
                read.wire_kept.extend_from_slice(&rest[..keep]);
                pos += progress.consumed;
                if progress.finished {
                    self.finish_body();
                } else {
                    break;
                }
            } else {
                let cap = if self.head_in_sasl() {
                    MAX_SASL_CHALLENGE_LINE
                } else {
                    MAX_RESPONSE_LINE
                };
                self.framer.set_max_len(cap);
                let Some((item, used)) = self.framer.next_line(&input[pos..]) else {
                    break;
                };
                let line = match item {
                    LineItem::Line { line, raw, bare_lf } => {
                        Ok((line.to_vec(), raw.to_vec(), bare_lf))
                    }
                    // The framer saw at least `cap` octets of the line: its start is here.
                    LineItem::TooLong { .. } => Err(LongLine::of(&input[pos..])),
                    LineItem::Skipped { .. } => {
                        pos += used;
                        continue;
                    }
                };
                pos += used;
                match line {
                    Ok((line, raw, bare_lf)) => {
                        self.handle_line(&line, raw, bare_lf);
                        if self.awaiting_tls && pos < input.len() {
                            let dropped = input.len() - pos;
                            pos = input.len();
                            self.info(
                                "warn.stls-discarded",
                                format!("{dropped} octets after +OK to STLS discarded"),
                            );
                        }
                    }
                    Err(start) => self.line_too_long(start),
                }
            }
        }
        pos.min(input.len())
    }

    // ----- Reading replies --------------------------------------------------------------------

    /// Whether the request awaiting a reply is in a SASL exchange, where `+` lines may come.
    fn head_in_sasl(&self) -> bool {
        self.in_flight.front().is_some_and(|head| {
            matches!(
                head.kind,
                RequestKind::Typed {
                    command: Command::Auth { .. },
                    ..
                } | RequestKind::Raw {
                    command: Command::Auth { .. }
                } | RequestKind::RawSaslResponse
            )
        })
    }

    /// A reply line over the cap was dropped. The command awaiting it fails, and the session
    /// stays in step: a multi-line reply's body (after an over-long `+OK`) is read to its
    /// terminator and dropped, never taken as the replies of the commands after it; when the
    /// line's start does not say whether a body follows, the session closes.
    fn line_too_long(&mut self, start: LongLine) {
        let limit = self.framer.max_len();
        let err = Pop3Error::Limit(LimitError::LineTooLong { limit });
        let multiline = self
            .in_flight
            .front()
            .and_then(Request::command)
            .is_some_and(Command::expects_multiline);
        let skip_body = multiline && start == LongLine::Ok;
        let cancel = start == LongLine::Continuation && self.head_in_sasl();
        let text = if skip_body {
            format!("a reply line over {limit} octets was dropped; its multi-line body is skipped")
        } else {
            format!("a reply line over {limit} octets was dropped")
        };
        self.info("warn.line-too-long", text);
        if self.greeting.is_none() || self.in_flight.is_empty() {
            if self.greeting.is_none() {
                self.shut_down(err);
            }
            return;
        }
        if cancel {
            // An over-long challenge: cancel the exchange (RFC 5034 §4); its -ERR ends the AUTH.
            if let Some(head) = self.in_flight.front_mut() {
                head.failure = Some(err);
            }
            self.client_entry(b"*\r\n", None, explain::known("sasl.cancel"));
            self.outbuf.extend_from_slice(b"*\r\n");
        } else if skip_body {
            self.body = Some(BodyRead {
                decoder: BodyDecoder::new(self.config.max_body),
                status: StatusLine {
                    status: Status::Ok,
                    code: None,
                    text: String::new(),
                },
                body: Vec::new(),
                wire_kept: Vec::new(),
                reported: 0,
                expected: None,
                failure: Some(err),
            });
        } else if multiline && start != LongLine::Err {
            // Neither +OK nor -ERR: whether a body follows is unknowable, so is every later reply.
            self.shut_down(err);
        } else if let Some(req) = self.in_flight.pop_front() {
            self.complete(req.handle, Err(err));
            self.after_reply_removed();
        }
    }

    fn handle_line(&mut self, line: &[u8], raw: Vec<u8>, bare_lf: bool) {
        if bare_lf {
            self.info(
                "warn.bare-lf",
                "the server ended a line with LF alone, not CRLF".to_owned(),
            );
        }
        if self.greeting.is_none() {
            self.handle_greeting(line, raw);
            return;
        }
        let Some(head) = self.in_flight.front() else {
            let n = raw.len();
            self.server_entry(raw, explain::known("warn.unsolicited"));
            self.info(
                "warn.unsolicited",
                format!("{n} octets arrived with no command waiting"),
            );
            return;
        };
        if self.head_in_sasl() {
            if let Some(cont) = Continuation::parse(line) {
                self.server_entry(raw, explain::known("sasl.challenge"));
                self.handle_challenge(cont);
                return;
            }
            if raw.len() > MAX_RESPONSE_LINE {
                // Only `+` lines may be longer than 512 octets (RFC 5034 §4), not status lines.
                self.framer.set_max_len(MAX_RESPONSE_LINE);
                self.line_too_long(LongLine::of(line));
                return;
            }
        }
        let keyword = head.keyword();
        let status = match StatusLine::parse(line) {
            Ok(status) => status,
            Err(err) => {
                let explain = if Continuation::parse(line).is_some() {
                    explain::known("sasl.challenge")
                } else {
                    explain::known("error.protocol")
                };
                self.server_entry(raw, explain);
                let err = if Continuation::parse(line).is_some() {
                    ProtocolError::UnexpectedContinuation
                } else {
                    err
                };
                if let Some(req) = self.in_flight.pop_front() {
                    self.complete(req.handle, Err(err.into()));
                    self.after_reply_removed();
                }
                return;
            }
        };
        let explain = match &status.code {
            // A -ERR's code says more than the command's generic failure text (RFC 3206).
            Some(code) if !status.is_ok() => explain::known(code.explain_key()),
            _ if matches!(head.kind, RequestKind::RawSaslResponse) => {
                reply_key(Some(Keyword::Auth), status.is_ok())
            }
            _ => reply_key(keyword, status.is_ok()),
        };
        let multiline = status.is_ok() && head.command().is_some_and(Command::expects_multiline);
        let expected = match head.command() {
            Some(Command::Retr(n)) => self.sizes.get(n).copied(),
            _ => None,
        };
        self.server_entry(raw, explain);
        if multiline {
            // LIST told us the size: allocate once instead of growing through 64 MiB.
            let capacity = expected.unwrap_or(0).min(self.config.max_body).min(1 << 30) as usize;
            self.body = Some(BodyRead {
                decoder: BodyDecoder::new(self.config.max_body),
                status,
                body: Vec::with_capacity(capacity),
                wire_kept: Vec::new(),
                reported: 0,
                expected,
                failure: None,
            });
        } else if let Some(req) = self.in_flight.pop_front() {
            self.finish_single(req, status);
        }
    }

    fn handle_greeting(&mut self, line: &[u8], raw: Vec<u8>) {
        match StatusLine::parse(line) {
            Ok(status) if status.is_ok() => {
                let apop_timestamp = find_apop_timestamp(&status.text);
                let key = if apop_timestamp.is_some() {
                    "greeting.apop"
                } else {
                    "greeting.ok"
                };
                self.server_entry(raw, explain::known(key));
                let greeting = Greeting {
                    text: status.text,
                    apop_timestamp,
                };
                self.greeting = Some(greeting.clone());
                self.events.push_back(Event::Greeting(greeting));
                self.announce_state();
            }
            Ok(status) => {
                self.server_entry(raw, explain::known("greeting.err"));
                let err = Pop3Error::Server {
                    text: status.text,
                    code: status.code,
                };
                self.shut_down(err);
            }
            Err(err) => {
                self.server_entry(raw, explain::known("error.protocol"));
                self.shut_down(err.into());
            }
        }
    }

    fn handle_challenge(&mut self, cont: Continuation) {
        let Some(head) = self.in_flight.front_mut() else {
            return;
        };
        let decoded = auth::decode_base64(&cont.encoded);
        match &mut head.kind {
            RequestKind::Typed {
                sasl: Some(sasl), ..
            } => {
                let answer = match decoded {
                    Ok(challenge) => sasl.respond(&challenge).map_err(|e| match e {
                        auth::AuthError::UnexpectedChallenge => {
                            ProtocolError::UnexpectedContinuation
                        }
                        _ => ProtocolError::BadChallenge,
                    }),
                    Err(_) => Err(ProtocolError::BadChallenge),
                };
                let (line, explain, masked) = match answer {
                    // An empty response is an empty line: `=` is only for an empty *initial*
                    // response on the AUTH line (RFC 5034 §4).
                    Ok(raw) => (auth::encode_base64(&raw), "sasl.response", true),
                    Err(err) => {
                        // Cancel the exchange (RFC 5034 §4); the -ERR that follows reports `err`.
                        head.failure = Some(err.into());
                        ("*".to_owned(), "sasl.cancel", false)
                    }
                };
                let mut bytes = line.into_bytes();
                bytes.extend_from_slice(b"\r\n");
                let secret = masked.then(|| 0..bytes.len() - 2);
                self.client_entry(&bytes, secret, explain::known(explain));
                self.outbuf.extend_from_slice(&bytes);
            }
            RequestKind::Typed { sasl: None, .. } => {
                // A typed AUTH built by hand has no credentials to answer with: cancel it.
                head.failure = Some(ProtocolError::UnexpectedContinuation.into());
                self.client_entry(b"*\r\n", None, explain::known("sasl.cancel"));
                self.outbuf.extend_from_slice(b"*\r\n");
            }
            RequestKind::Raw { .. } | RequestKind::RawSaslResponse => {
                // A person drives this exchange: hand them the challenge, await their next line.
                let text = match decoded {
                    Ok(raw) => match String::from_utf8(raw) {
                        Ok(text) if !text.chars().any(char::is_control) => text,
                        _ => String::from_utf8_lossy(&cont.encoded).into_owned(),
                    },
                    Err(_) => String::from_utf8_lossy(&cont.encoded).into_owned(),
                };
                self.raw_sasl = true;
                if let Some(req) = self.in_flight.pop_front() {
                    let reply = RawReply {
                        ok: true,
                        continuation: true,
                        text,
                        code: None,
                        body: Vec::new(),
                    };
                    self.complete(req.handle, Ok(Reply::Raw(reply)));
                }
            }
        }
    }

    fn finish_body(&mut self) {
        let Some(read) = self.body.take() else { return };
        let Some(req) = self.in_flight.pop_front() else {
            return;
        };
        let received = read.decoder.decoded_len();
        if read.reported > 0 && received != read.reported {
            // A streamed body's last chunk: report it too, so a progress bar reaches its end.
            let progress = req.progress(received, read.expected);
            self.events.push_back(Event::Progress(progress));
        }
        let keyword = req.keyword();
        let total = read.decoder.wire_len();
        let truncated = total > BODY_KEEP as u64;
        let text = String::from_utf8_lossy(&read.wire_kept).replace("\r\n", "\n");
        self.push_entry(
            Direction::Server,
            text,
            read.wire_kept,
            false,
            truncated,
            total,
            body_key(keyword),
        );
        let bare = read.decoder.bare_lf_count();
        if bare > 0 {
            self.info(
                "warn.bare-lf",
                format!("{bare} body lines ended with LF alone, not CRLF"),
            );
        }
        if let Some(err) = read.failure {
            self.complete(req.handle, Err(err));
            self.after_reply_removed();
            return;
        }
        if read.decoder.is_over_limit() {
            let limit = self.config.max_body;
            self.info(
                "error.limit",
                format!("the reply was larger than {limit} octets and was dropped"),
            );
            self.complete(req.handle, Err(LimitError::BodyTooLarge { limit }.into()));
            self.after_reply_removed();
            return;
        }
        let status = read.status;
        let mut body = read.body;
        if body.capacity() > body.len() + body.len() / 4 + 64 {
            // Kept in a reply: give back what doubling the buffer left over.
            body.shrink_to_fit();
        }
        let result = match &req.kind {
            RequestKind::Raw { command } => {
                self.apply_side_effects(command, &status, Some(&body));
                Ok(Reply::Raw(RawReply {
                    ok: true,
                    continuation: false,
                    text: status.text,
                    code: status.code,
                    body,
                }))
            }
            RequestKind::Typed { command, .. } => {
                self.apply_side_effects(command, &status, Some(&body));
                Ok(self.typed_body_reply(command, body))
            }
            RequestKind::RawSaslResponse => Ok(Reply::Message(body)),
        };
        self.complete(req.handle, result);
        self.after_reply_removed();
    }

    /// The typed reply of a multi-line body. LIST, UIDL and CAPA keep their well-formed lines
    /// and report each malformed one as `warn.bad-listing` (the first [`BAD_LINES_REPORTED`]
    /// one by one, then how many more), so one bad line does not lose the rest.
    fn typed_body_reply(&mut self, command: &Command, body: Vec<u8>) -> Reply {
        match command {
            Command::Retr(_) | Command::Top { .. } => Reply::Message(body),
            Command::List(None) => Reply::List(self.parse_listing(&body, parse_list_line)),
            Command::Uidl(None) => Reply::Uidl(self.parse_listing(&body, parse_uidl_line)),
            Command::Capa => Reply::Capabilities(self.parse_listing(&body, parse_capa_line)),
            _ => Reply::Languages(
                body_lines(&body)
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect(),
            ),
        }
    }

    fn parse_listing<T>(
        &mut self,
        body: &[u8],
        parse: fn(&[u8]) -> Result<T, ProtocolError>,
    ) -> Vec<T> {
        let mut entries = Vec::new();
        let mut bad = 0usize;
        for (number, line) in body_lines(body).enumerate() {
            match parse(line) {
                Ok(entry) => entries.push(entry),
                Err(err) => {
                    bad += 1;
                    if bad <= BAD_LINES_REPORTED {
                        let mut text = format!("line {}: {err}", number + 1);
                        truncate_text(&mut text, 200);
                        self.info("warn.bad-listing", text);
                    }
                }
            }
        }
        if bad > BAD_LINES_REPORTED {
            let more = bad - BAD_LINES_REPORTED;
            self.info(
                "warn.bad-listing",
                format!("{more} more malformed lines skipped ({bad} in all)"),
            );
        }
        entries
    }

    fn finish_single(&mut self, req: Request, status: StatusLine) {
        let ok = status.is_ok();
        if let Some(command) = req.command() {
            self.apply_side_effects(command, &status, None);
        } else if ok {
            // The last line of a hand-typed SASL exchange: +OK means logged in.
            self.logged_in();
        }
        let result = if req.is_raw() {
            Ok(Reply::Raw(RawReply {
                ok,
                continuation: false,
                text: status.text,
                code: status.code,
                body: Vec::new(),
            }))
        } else if let Some(err) = req.failure {
            Err(err)
        } else if !ok {
            Err(Pop3Error::Server {
                text: status.text,
                code: status.code,
            })
        } else {
            match req.command() {
                Some(Command::Stat) => parse_stat(status.text.as_bytes())
                    .map(Reply::Stat)
                    .map_err(Into::into),
                Some(&Command::List(Some(asked))) => parse_list_line(status.text.as_bytes())
                    .and_then(|entry| same_message(asked, entry.id).map(|()| entry))
                    .map(Reply::ListOne)
                    .map_err(Into::into),
                Some(&Command::Uidl(Some(asked))) => parse_uidl_line(status.text.as_bytes())
                    .and_then(|entry| same_message(asked, entry.id).map(|()| entry))
                    .map(Reply::UidlOne)
                    .map_err(Into::into),
                _ => Ok(Reply::Status(status)),
            }
        };
        if let Ok(Reply::ListOne(entry)) = &result {
            self.sizes.insert(entry.id, entry.size);
        }
        self.complete(req.handle, result);
        self.after_reply_removed();
    }

    /// What a reply changes in the session, whether the command was typed or raw.
    fn apply_side_effects(&mut self, command: &Command, status: &StatusLine, body: Option<&[u8]>) {
        let ok = status.is_ok();
        match command {
            // PASS must come right after USER (RFC 1939 §7): not if anything was queued since.
            Command::User(_) => {
                self.awaiting_pass = ok
                    && self.in_flight.is_empty()
                    && self
                        .pending
                        .iter()
                        .all(|r| r.keyword() == Some(Keyword::Pass));
            }
            Command::Pass(_) | Command::Apop { .. } | Command::Auth { .. } => {
                self.awaiting_pass = false;
                if ok {
                    self.logged_in();
                }
            }
            Command::Quit => {
                self.info(
                    "info.closed",
                    "the server ended the session after QUIT".to_owned(),
                );
                self.shut_down(Pop3Error::Closed {
                    reason: "the session ended with QUIT".into(),
                });
            }
            Command::Stls if ok => {
                // RFC 2595 §4: what was learned before TLS is forgotten and re-established.
                self.awaiting_tls = true;
                self.capabilities = None;
                self.utf8 = false;
                self.awaiting_pass = false;
                self.timer_base_ms = self.now_ms;
                self.events.push_back(Event::StartTls);
            }
            Command::Utf8 if ok => {
                self.utf8 = true;
                self.info("info.utf8", "UTF-8 is on for this session".to_owned());
            }
            Command::Capa if ok => {
                let caps: Vec<Capability> = body_lines(body.unwrap_or_default())
                    .filter_map(|l| parse_capa_line(l).ok())
                    .collect();
                self.capabilities = Some(caps);
                if self.is_pipelining() {
                    self.info(
                        "info.pipelining",
                        "the server pipelines: commands go out without waiting".to_owned(),
                    );
                }
            }
            Command::List(None) if ok => {
                for entry in
                    body_lines(body.unwrap_or_default()).filter_map(|l| parse_list_line(l).ok())
                {
                    self.sizes.insert(entry.id, entry.size);
                }
            }
            _ => {}
        }
    }

    fn logged_in(&mut self) {
        if self.state == SessionState::Authorization {
            self.set_state(SessionState::Transaction);
        }
    }

    /// After a reply leaves the in-flight queue: queued commands may go out.
    fn after_reply_removed(&mut self) {
        self.timer_base_ms = self.now_ms;
    }

    fn report_progress(&mut self) {
        let Some(read) = self.body.as_mut().filter(|read| read.failure.is_none()) else {
            return;
        };
        let received = read.decoder.decoded_len();
        if received == read.reported {
            return;
        }
        read.reported = received;
        let expected = read.expected;
        let Some(head) = self.in_flight.front() else {
            return;
        };
        let progress = head.progress(received, expected);
        self.events.push_back(Event::Progress(progress));
    }

    // ----- Sending ----------------------------------------------------------------------------

    fn flush_pending(&mut self) {
        while let Some(next) = self.pending.front() {
            if self.greeting.is_none() || self.awaiting_tls || self.state == SessionState::Closed {
                return;
            }
            if self.raw_sasl && !matches!(next.kind, RequestKind::RawSaslResponse) {
                // A hand-typed AUTH got a challenge: the next line on the wire is the student's
                // SASL response, so nothing queued earlier may go out before it.
                return;
            }
            if let Some(last) = self.in_flight.back() {
                if !self.is_pipelining() || last.is_barrier() || next.is_barrier() {
                    return;
                }
            }
            let Some(req) = self.pending.pop_front() else {
                return;
            };
            if self.in_flight.is_empty() {
                self.timer_base_ms = self.now_ms;
            }
            let explain = match &req.kind {
                RequestKind::RawSaslResponse if req.secret.is_none() => {
                    explain::known("sasl.cancel")
                }
                RequestKind::RawSaslResponse => explain::known("sasl.response"),
                _ => command_key(req.keyword()),
            };
            self.client_entry(&req.bytes, req.secret.clone(), explain);
            self.outbuf.extend_from_slice(&req.bytes);
            if req.keyword() == Some(Keyword::Quit) && self.state == SessionState::Transaction {
                // RFC 1939 §6: QUIT from TRANSACTION enters UPDATE; the reply comes from there.
                self.set_state(SessionState::Update);
            }
            self.in_flight.push_back(req);
        }
    }

    // ----- Ending -----------------------------------------------------------------------------

    fn shut_down(&mut self, err: Pop3Error) {
        if self.state == SessionState::Closed {
            return;
        }
        for req in std::mem::take(&mut self.in_flight)
            .into_iter()
            .chain(std::mem::take(&mut self.pending))
        {
            self.complete(req.handle, Err(err.clone()));
        }
        self.closed_by = Some(err);
        self.body = None;
        self.inbuf.clear();
        self.raw_sasl = false;
        self.awaiting_tls = false;
        self.set_state(SessionState::Closed);
        self.events.push_back(Event::Closed);
    }

    fn complete(&mut self, handle: CommandHandle, result: Result<Reply, Pop3Error>) {
        self.events.push_back(Event::Completed { handle, result });
    }

    fn set_state(&mut self, state: SessionState) {
        if self.state != state {
            self.state = state;
            self.announce_state();
        }
    }

    fn announce_state(&mut self) {
        let state = self.state;
        self.info(
            explain::known(&format!("state.{}", state.as_str())).key,
            state.as_str().to_owned(),
        );
        self.events.push_back(Event::StateChanged(state));
    }

    // ----- Transcript -------------------------------------------------------------------------

    fn info(&mut self, key: &str, text: String) {
        self.push_entry(
            Direction::Info,
            text,
            Vec::new(),
            false,
            false,
            0,
            explain::known(key),
        );
    }

    fn server_entry(&mut self, raw: Vec<u8>, explain: Explain) {
        let text = String::from_utf8_lossy(strip_line_end(&raw)).into_owned();
        let total = raw.len() as u64;
        self.push_entry(Direction::Server, text, raw, false, false, total, explain);
    }

    fn client_entry(&mut self, bytes: &[u8], secret: Option<Range<usize>>, explain: Explain) {
        let line = strip_line_end(bytes);
        let (text, masked) = match secret {
            Some(range) if range.end <= line.len() && range.start <= range.end => {
                let mut text = String::from_utf8_lossy(&line[..range.start]).into_owned();
                text.push_str(MASK);
                text.push_str(&String::from_utf8_lossy(&line[range.end..]));
                (text, true)
            }
            _ => (String::from_utf8_lossy(line).into_owned(), false),
        };
        let total = bytes.len() as u64;
        self.push_entry(
            Direction::Client,
            text,
            bytes.to_vec(),
            masked,
            false,
            total,
            explain,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push_entry(
        &mut self,
        dir: Direction,
        text: String,
        bytes: Vec<u8>,
        masked: bool,
        truncated: bool,
        total_bytes: u64,
        explain: Explain,
    ) {
        let entry = TranscriptEntry {
            seq: self.seq,
            dir,
            text,
            bytes,
            at_ms: self.now_ms,
            masked,
            truncated,
            total_bytes,
            explain,
        };
        self.seq += 1;
        self.events.push_back(Event::Transcript(entry));
    }
}

/// How many malformed lines of one LIST / UIDL / CAPA body are reported one by one.
const BAD_LINES_REPORTED: usize = 5;

/// Cuts `text` to at most `max` octets (on a character boundary), marking the cut with `…`.
fn truncate_text(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

fn strip_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// RFC 1939 §5/§7: the `+OK` to `LIST n` / `UIDL n` must be about message n.
fn same_message(asked: u32, got: u32) -> Result<(), ProtocolError> {
    if asked == got {
        Ok(())
    } else {
        Err(ProtocolError::WrongMessageNumber { asked, got })
    }
}
