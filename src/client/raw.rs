//! Lines typed by hand: raw commands and SASL responses, checked exactly as they will be sent.
//!
//! [`Client::check_raw`] and [`Client::send_raw`] share one preparation step, so what the check
//! approves is what `send_raw` queues, and what it refuses `send_raw` refuses with the same error.

use std::ops::Range;

use serde::Serialize;

use super::request::RequestKind;
use super::{Client, CommandHandle, Pop3Error};
use crate::codec::{check_line, check_sasl_response, Keyword};
use crate::explain::{command_key, Explain};

/// What [`Client::send_raw`] would do with a line: it would queue it, and this is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CheckedLine {
    /// The line is the SASL response to a `+` challenge (or `*`, cancelling the exchange), not a
    /// command.
    pub sasl_response: bool,
    /// The command's keyword as text, upper case (`""` for a SASL response).
    pub command: String,
    /// The keyword, `None` for a command popwire does not know (sent as typed) or a SASL
    /// response.
    pub keyword: Option<Keyword>,
    /// Whether the session allows it now ([`Client::allowed_commands`]); a raw command is sent
    /// either way, so the server's `-ERR` can be seen. Always `true` for a SASL response.
    pub allowed: bool,
    /// Whether a `+OK` to it is followed by a multi-line body.
    pub multiline: bool,
    /// Whether the transcript will mask part of it (a PASS argument, an AUTH initial response, a
    /// SASL response): a page should keep such a line out of its input history.
    pub masked: bool,
    /// What the line means: `cmd.RETR`, `cmd.unknown`, `sasl.response` or `sasl.cancel`.
    pub explain: Explain,
}

/// A raw line ready to queue.
struct Prepared {
    kind: RequestKind,
    bytes: Vec<u8>,
    secret: Option<Range<usize>>,
    /// A SASL response goes ahead of what waits.
    front: bool,
}

impl Client {
    /// Checks a line's syntax as [`Client::send_raw`] would (as a SASL response while one is
    /// awaited, else as a command in this session's UTF-8 mode), without sending it. See
    /// [`Client::check_raw`] for the whole answer, queue and session included.
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

    /// Exactly what [`Client::send_raw`] would do with `line` now, without sending it: the same
    /// error it would refuse with (malformed, not valid base64 while a SASL response is awaited,
    /// non-ASCII before UTF8, the session closed, the queue full), or what the line is.
    pub fn check_raw(&self, line: &str) -> Result<CheckedLine, Pop3Error> {
        let prepared = self.prepare_raw(line)?;
        self.can_queue()?;
        let keyword = match &prepared.kind {
            RequestKind::Raw { command } => command.keyword(),
            _ => None,
        };
        Ok(match &prepared.kind {
            RequestKind::Raw { command } => CheckedLine {
                sasl_response: false,
                command: command.name(),
                keyword,
                allowed: keyword.is_some_and(|k| self.allowed_commands().contains(&k)),
                multiline: command.expects_multiline(),
                masked: prepared.secret.is_some(),
                explain: command_key(keyword),
            },
            _ => CheckedLine {
                sasl_response: true,
                command: String::new(),
                keyword: None,
                allowed: true,
                multiline: false,
                masked: prepared.secret.is_some(),
                explain: if prepared.secret.is_some() {
                    crate::explain!("sasl.response")
                } else {
                    crate::explain!("sasl.cancel")
                },
            },
        })
    }

    /// Whether the next raw line is the SASL response to a `+` challenge (a hand-typed AUTH got
    /// one): [`Client::send_raw`] then checks it as base64, `*` or an empty line, and typed
    /// commands are refused until it is sent. The same as [`Client::expects_sasl_response`].
    pub fn awaiting_sasl_response(&self) -> bool {
        self.raw_sasl
    }

    // ----- Raw commands -----------------------------------------------------------------------

    /// Sends a line as a person typed it. Malformed lines are refused with [`Pop3Error::Input`]
    /// and nothing is sent; a well-formed command that is invalid in this state **is** sent, so
    /// that the server's `-ERR` can be seen. The reply, `-ERR` included, comes as
    /// [`super::Reply::Raw`]. [`Client::check_raw`] says beforehand what this will do.
    ///
    /// After a `+` challenge to a hand-typed AUTH the next line is the SASL response (base64,
    /// `*` to cancel, or an empty line for an empty response, RFC 5034 §4). It goes out before
    /// anything queued earlier: commands queued behind the AUTH wait until the exchange ends
    /// (`+OK` or `-ERR`), and typed commands are refused while the response is awaited.
    pub fn send_raw(&mut self, line: &str) -> Result<CommandHandle, Pop3Error> {
        let prepared = self.prepare_raw(line)?;
        let sasl = prepared.front;
        let handle = self.enqueue_at(
            prepared.kind,
            prepared.bytes,
            prepared.secret,
            prepared.front,
        )?;
        if sasl {
            self.raw_sasl = false;
        }
        Ok(handle)
    }

    /// The request a raw line becomes, or why it cannot be one.
    fn prepare_raw(&self, line: &str) -> Result<Prepared, Pop3Error> {
        if self.raw_sasl {
            let text = check_sasl_response(line)?;
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n");
            let secret = (text != "*").then_some(0..text.len());
            return Ok(Prepared {
                kind: RequestKind::RawSaslResponse,
                bytes,
                secret,
                front: true,
            });
        }
        let checked = check_line(line, self.utf8)?;
        let bytes = checked.encode();
        let secret = checked.command.secret_range(&bytes);
        Ok(Prepared {
            kind: RequestKind::Raw {
                command: checked.command,
            },
            bytes,
            secret,
            front: false,
        })
    }
}
