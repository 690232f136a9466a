//! The typed API: one method per command, checked against the state table before queuing.

use super::request::RequestKind;
use super::{Client, CommandHandle, Pop3Error, SessionState};
use crate::auth::{self, Mechanism, SaslClient};
use crate::codec::{check_line, Command, Keyword, MAX_COMMAND_LINE};

impl Client {
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
                hint: Some(crate::note!("note.hint.no-apop")),
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

    /// `RETR n` for a caller that takes the body as it arrives: on each [`Event::Progress`](super::Event::Progress) of
    /// this handle, [`Client::take_body`] hands over the octets decoded since the last take, so
    /// the engine never holds the whole message (nor preallocates LIST's size for it). The
    /// [`Event::Completed`](super::Event::Completed)'s [`Reply::Message`](super::Reply::Message) holds what was not
    /// taken: taken chunks and that rest, in order, are the message.
    pub fn retr_stream(&mut self, id: u32) -> Result<CommandHandle, Pop3Error> {
        let handle = self.retr(id)?;
        if let Some(req) = self.pending.iter_mut().find(|r| r.handle == handle) {
            req.stream = true;
        }
        Ok(handle)
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

    /// `STLS`: on `+OK` the session emits [`Event::StartTls`](super::Event::StartTls) and
    /// waits for [`Client::tls_established`].
    pub fn stls(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Stls)
    }

    /// `QUIT`.
    pub fn quit(&mut self) -> Result<CommandHandle, Pop3Error> {
        self.command(Command::Quit)
    }

    pub(super) fn typed(
        &mut self,
        command: Command,
        sasl: Option<SaslClient>,
    ) -> Result<CommandHandle, Pop3Error> {
        let keyword = command.keyword();
        if let Some(k) = keyword {
            if !self.state.allows(k) || !self.narrowed_allows(k) {
                let hint = match k {
                    Keyword::Pass if self.state == SessionState::Authorization => {
                        Some(crate::note!("note.hint.pass-after-user"))
                    }
                    Keyword::Stls if self.tls => Some(crate::note!("note.hint.tls-active")),
                    Keyword::Utf8 if self.utf8 => Some(crate::note!("note.hint.utf8-on")),
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
                hint: Some(crate::note!("note.hint.sasl-pending")),
            });
        }
        // Re-check the encoded line: arguments cannot smuggle CR/LF or break the length limit.
        let bytes = command.encode();
        let line =
            String::from_utf8_lossy(bytes.strip_suffix(b"\r\n").unwrap_or(&bytes)).into_owned();
        check_line(&line, self.utf8)?;
        let secret = command.secret_range(&bytes);
        self.enqueue(RequestKind::Typed { command, sasl }, bytes, secret)
    }
}
