//! Reading: framing what the server sends into greetings, status lines, SASL challenges and bodies.

use super::interpret::raw_body_parsed;
use super::request::{Request, RequestKind};
use super::transcript::Entry;
use super::{Client, Event, Greeting, Pop3Error, RawParsed, RawReply, Reply, SessionState};
use crate::auth;
use crate::codec::{
    find_apop_timestamp, BodyDecoder, Command, Continuation, Keyword, LimitError, LineItem,
    ProtocolError, Status, StatusLine, MAX_RESPONSE_LINE, MAX_SASL_CHALLENGE_LINE,
};
use crate::explain::{body_key, reply_key, SaslChallenge, BATCH_BODY_KEEP, BODY_KEEP};

/// A multi-line body being read for the request at the head of the in-flight queue.
#[derive(Debug)]
pub(super) struct BodyRead {
    pub(super) decoder: BodyDecoder,
    pub(super) status: StatusLine,
    pub(super) body: Vec<u8>,
    pub(super) wire_kept: Vec<u8>,
    /// Most wire octets `wire_kept` takes for the transcript: [`BODY_KEEP`], or
    /// [`BATCH_BODY_KEEP`] for a message of a batch (handed to its caller whole).
    pub(super) keep: usize,
    pub(super) reported: u64,
    pub(super) expected: Option<u64>,
    /// The status line was over-long: the body is read only to stay in step, then the command
    /// fails with this error.
    pub(super) failure: Option<Pop3Error>,
}

/// How an over-long reply line began, which says whether a multi-line body follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LongLine {
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
    pub(super) fn of(start: &[u8]) -> LongLine {
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

impl Client {
    /// Processes complete lines and body octets from the front of `input`; returns how many
    /// octets were consumed (the rest is an incomplete line or an undecided line start).
    pub(super) fn process(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while pos < input.len() && self.state != SessionState::Closed && !self.awaiting_tls {
            // A body starts after its status line; if that line was over-long, after its end.
            let in_body = !self.framer.is_resynchronising();
            if let Some(read) = self.body.as_mut().filter(|_| in_body) {
                let rest = input.get(pos..).unwrap_or_default();
                let progress = read.decoder.decode(rest, &mut read.body);
                if read.failure.is_some() {
                    // The body of an over-long status line: read only to stay in step.
                    read.body.clear();
                }
                let keep = read
                    .keep
                    .saturating_sub(read.wire_kept.len())
                    .min(progress.consumed);
                read.wire_kept
                    .extend_from_slice(rest.get(..keep).unwrap_or_default());
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
                let rest = input.get(pos..).unwrap_or_default();
                let Some((item, used)) = self.framer.next_line(rest) else {
                    break;
                };
                let line = match item {
                    LineItem::Line { line, raw, bare_lf } => {
                        Ok((line.to_vec(), raw.to_vec(), bare_lf))
                    }
                    // The framer saw at least `cap` octets of the line: its start is here.
                    LineItem::TooLong { .. } => Err(LongLine::of(rest)),
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
                            self.say(
                                crate::explain!("warn.stls-discarded"),
                                crate::note!("note.stls-discarded-after", octets = dropped),
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
    pub(super) fn head_in_sasl(&self) -> bool {
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
    pub(super) fn line_too_long(&mut self, start: LongLine) {
        let limit = self.framer.max_len();
        let err = Pop3Error::Limit(LimitError::LineTooLong { limit });
        let multiline = self
            .in_flight
            .front()
            .and_then(Request::command)
            .is_some_and(Command::expects_multiline);
        let skip_body = multiline && start == LongLine::Ok;
        let cancel = start == LongLine::Continuation && self.head_in_sasl();
        let note = if skip_body {
            crate::note!("note.line-too-long-body", limit = limit)
        } else {
            crate::note!("note.line-too-long", limit = limit)
        };
        self.say(crate::explain!("warn.line-too-long"), note);
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
            self.head_client_entry(b"*\r\n", None, crate::explain!("sasl.cancel"));
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
                keep: BODY_KEEP,
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

    pub(super) fn handle_line(&mut self, line: &[u8], raw: Vec<u8>, bare_lf: bool) {
        if bare_lf {
            self.say(
                crate::explain!("warn.bare-lf"),
                crate::note!("note.bare-lf-line"),
            );
        }
        if self.greeting.is_none() {
            self.handle_greeting(line, raw);
            return;
        }
        let Some(head) = self.in_flight.front() else {
            let n = raw.len();
            self.server_entry(raw, crate::explain!("warn.unsolicited"));
            self.say(
                crate::explain!("warn.unsolicited"),
                crate::note!("note.unsolicited", octets = n),
            );
            return;
        };
        if self.head_in_sasl() {
            if let Some(cont) = Continuation::parse(line) {
                let decoded = auth::decode_base64(&cont.encoded).ok();
                let challenge = decoded.as_ref().map(|bytes| SaslChallenge {
                    text: String::from_utf8_lossy(bytes).into_owned(),
                    bytes: bytes.clone(),
                });
                self.server_entry_with(raw, crate::explain!("sasl.challenge"), challenge);
                self.handle_challenge(&cont, decoded);
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
                    crate::explain!("sasl.challenge")
                } else {
                    crate::explain!("error.protocol")
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
            Some(code) if !status.is_ok() => code.explain(),
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
        let stream = head.stream;
        // A batch's message goes to its caller whole: its transcript entry shows the start.
        let keep = if self.in_batch(head.handle) {
            BATCH_BODY_KEEP
        } else {
            BODY_KEEP
        };
        self.server_entry(raw, explain);
        if multiline {
            // LIST told us the size: allocate once instead of growing through 64 MiB (unless
            // the caller takes the body as it arrives).
            let capacity = match expected {
                Some(size) if !stream => size.min(self.config.max_body).min(1 << 30) as usize,
                _ => 0,
            };
            self.body = Some(BodyRead {
                decoder: BodyDecoder::new(self.config.max_body),
                status,
                body: Vec::with_capacity(capacity),
                wire_kept: Vec::new(),
                keep,
                reported: 0,
                expected,
                failure: None,
            });
        } else if let Some(req) = self.in_flight.pop_front() {
            self.finish_single(req, status);
        }
    }

    pub(super) fn handle_greeting(&mut self, line: &[u8], raw: Vec<u8>) {
        match StatusLine::parse(line) {
            Ok(status) if status.is_ok() => {
                let apop_timestamp = find_apop_timestamp(&status.text);
                let explain = if apop_timestamp.is_some() {
                    crate::explain!("greeting.apop")
                } else {
                    crate::explain!("greeting.ok")
                };
                self.server_entry(raw, explain);
                let greeting = Greeting {
                    text: status.text,
                    apop_timestamp,
                };
                self.greeting = Some(greeting.clone());
                self.events.push_back(Event::Greeting(greeting));
                self.announce_state();
            }
            Ok(status) => {
                self.server_entry(raw, crate::explain!("greeting.err"));
                let err = Pop3Error::Server {
                    text: status.text,
                    code: status.code,
                };
                self.shut_down(err);
            }
            Err(err) => {
                self.server_entry(raw, crate::explain!("error.protocol"));
                self.shut_down(err.into());
            }
        }
    }

    /// A `+` challenge to the head request, `decoded` if it is base64: the engine answers a typed
    /// AUTH itself; a hand-typed one completes with the challenge and awaits the next raw line.
    pub(super) fn handle_challenge(&mut self, cont: &Continuation, decoded: Option<Vec<u8>>) {
        let Some(head) = self.in_flight.front_mut() else {
            return;
        };
        match &mut head.kind {
            RequestKind::Typed {
                sasl: Some(sasl), ..
            } => {
                let answer = match decoded {
                    Some(challenge) => sasl.respond(&challenge).map_err(|e| match e {
                        auth::AuthError::UnexpectedChallenge => {
                            ProtocolError::UnexpectedContinuation
                        }
                        _ => ProtocolError::BadChallenge,
                    }),
                    None => Err(ProtocolError::BadChallenge),
                };
                let (line, explain, masked) = match answer {
                    // An empty response is an empty line: `=` is only for an empty *initial*
                    // response on the AUTH line (RFC 5034 §4).
                    Ok(raw) => (
                        auth::encode_base64(&raw),
                        crate::explain!("sasl.response"),
                        true,
                    ),
                    Err(err) => {
                        // Cancel the exchange (RFC 5034 §4); the -ERR that follows reports `err`.
                        head.failure = Some(err.into());
                        ("*".to_owned(), crate::explain!("sasl.cancel"), false)
                    }
                };
                let mut bytes = line.into_bytes();
                bytes.extend_from_slice(b"\r\n");
                let secret = masked.then(|| 0..bytes.len() - 2);
                self.head_client_entry(&bytes, secret, explain);
                self.outbuf.extend_from_slice(&bytes);
            }
            RequestKind::Typed { sasl: None, .. } => {
                // A typed AUTH built by hand has no credentials to answer with: cancel it.
                head.failure = Some(ProtocolError::UnexpectedContinuation.into());
                self.head_client_entry(b"*\r\n", None, crate::explain!("sasl.cancel"));
                self.outbuf.extend_from_slice(b"*\r\n");
            }
            RequestKind::Raw { .. } | RequestKind::RawSaslResponse => {
                // A person drives this exchange: hand them the challenge, await their next line.
                let challenge = decoded.clone();
                let text = match decoded {
                    Some(raw) => match String::from_utf8(raw) {
                        Ok(text) if !text.chars().any(char::is_control) => text,
                        _ => String::from_utf8_lossy(&cont.encoded).into_owned(),
                    },
                    None => String::from_utf8_lossy(&cont.encoded).into_owned(),
                };
                self.raw_sasl = true;
                if let Some(req) = self.in_flight.pop_front() {
                    let reply = RawReply {
                        ok: true,
                        continuation: true,
                        text,
                        code: None,
                        body: Vec::new(),
                        parsed: challenge.map(RawParsed::Challenge),
                    };
                    self.complete(req.handle, Ok(Reply::Raw(reply)));
                }
            }
        }
    }

    pub(super) fn finish_body(&mut self) {
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
        let total = read.decoder.wire_len();
        self.push(
            Entry::body(read.wire_kept, total, body_key(req.keyword())).answering(&req, None),
        );
        let bare = read.decoder.bare_lf_count();
        if bare > 0 {
            self.say(
                crate::explain!("warn.bare-lf"),
                crate::note!("note.bare-lf-body", lines = bare),
            );
        }
        if let Some(err) = read.failure {
            self.complete(req.handle, Err(err));
            self.after_reply_removed();
            return;
        }
        if read.decoder.is_over_limit() {
            let limit = self.config.max_body;
            self.say(
                crate::explain!("error.limit"),
                crate::note!("note.body-too-large", limit = limit),
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
                    parsed: raw_body_parsed(command, &body),
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
}
