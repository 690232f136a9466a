//! What a queued request is: its kind, its bytes, the secret part to mask, and when its latest
//! line went out. Shared by sending ([`super::send`]) and the transcript
//! ([`super::transcript`]), which both read it and neither owns it.

use std::ops::Range;

use super::{CommandHandle, Pop3Error, Progress};
use crate::auth::SaslClient;
use crate::codec::{Command, Keyword};

/// What a queued request is.
#[derive(Debug)]
pub(super) enum RequestKind {
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
pub(super) struct Request {
    pub(super) handle: CommandHandle,
    pub(super) kind: RequestKind,
    pub(super) bytes: Vec<u8>,
    pub(super) secret: Option<Range<usize>>,
    /// An error to report instead of the server's `-ERR` (a SASL exchange we cancelled).
    pub(super) failure: Option<Pop3Error>,
    /// When and as which transcript entry the request's latest line went out (its command, or
    /// the engine's last SASL response); `None` while it waits.
    pub(super) sent: Option<Sent>,
    /// The caller takes the body as it arrives ([`super::Client::take_body`]): it is not
    /// preallocated to LIST's size.
    pub(super) stream: bool,
}

impl Request {
    pub(super) fn command(&self) -> Option<&Command> {
        match &self.kind {
            RequestKind::Typed { command, .. } | RequestKind::Raw { command } => Some(command),
            RequestKind::RawSaslResponse => None,
        }
    }

    pub(super) fn keyword(&self) -> Option<Keyword> {
        self.command().and_then(Command::keyword)
    }

    /// Requests after which nothing may be pipelined: they change the state or the connection
    /// ([`crate::codec::CommandMeta::barrier`]; unknown commands and SASL responses too).
    pub(super) fn is_barrier(&self) -> bool {
        match &self.kind {
            RequestKind::RawSaslResponse => true,
            _ => self.keyword().is_none_or(|k| k.meta().barrier),
        }
    }

    /// A progress report for this request's streaming reply.
    pub(super) fn progress(&self, received: u64, expected: Option<u64>) -> Progress {
        let command = self.command();
        Progress {
            handle: self.handle,
            command: command.map(Command::name).unwrap_or_default(),
            id: command.and_then(Command::message_number),
            received,
            expected,
        }
    }

    pub(super) fn is_raw(&self) -> bool {
        !matches!(self.kind, RequestKind::Typed { .. })
    }
}

/// When and as which transcript entry a request's latest client line went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sent {
    /// The entry's `seq`.
    pub(super) seq: u64,
    /// The caller's clock when it went out.
    pub(super) at_ms: u64,
}
