//! What the session reports: events, replies, the greeting and progress.

use serde::Serialize;

use super::error::Pop3Error;
use super::state::SessionState;
use crate::codec::{Capability, ListEntry, ResponseCode, Stat, StatusLine, UidlEntry};
use crate::explain::TranscriptEntry;

/// Identifies a queued command; it comes back in [`Event::Completed`] and [`Event::Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CommandHandle(pub u64);

/// The server's greeting (RFC 1939 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Greeting {
    /// The greeting's text after `+OK`.
    pub text: String,
    /// The APOP timestamp `<…>` if the server offers APOP (RFC 1939 §7).
    pub apop_timestamp: Option<String>,
}

/// How far a multi-line reply has streamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The command being answered.
    pub handle: CommandHandle,
    /// Its keyword, e.g. `RETR`.
    pub command: String,
    /// The message number, for RETR and TOP.
    pub id: Option<u32>,
    /// Body octets received so far (unstuffed).
    pub received: u64,
    /// The size LIST reported for this message, if known (RETR only).
    pub expected: Option<u64>,
}

/// The reply to a raw command sent with [`crate::Client::send_raw`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawReply {
    /// `+OK` (or a `+` continuation).
    pub ok: bool,
    /// The server sent a SASL `+` challenge: the next line sent is the SASL response.
    pub continuation: bool,
    /// The status text (for a continuation, the challenge decoded if it is text, else as sent).
    pub text: String,
    /// The response code, if any.
    pub code: Option<ResponseCode>,
    /// The lines of a multi-line body, unstuffed, without line ends.
    pub lines: Vec<String>,
}

/// A successful reply to a queued command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A single-line `+OK` (USER, PASS, APOP, AUTH, DELE, RSET, NOOP, QUIT, STLS, UTF8, LANG tag).
    Status(StatusLine),
    /// STAT.
    Stat(Stat),
    /// LIST without argument.
    List(Vec<ListEntry>),
    /// LIST n.
    ListOne(ListEntry),
    /// UIDL without argument.
    Uidl(Vec<UidlEntry>),
    /// UIDL n.
    UidlOne(UidlEntry),
    /// CAPA.
    Capabilities(Vec<Capability>),
    /// LANG without argument: one line per language.
    Languages(Vec<String>),
    /// RETR or TOP: the message octets, dot-stuffing removed, CRLF kept.
    Message(Vec<u8>),
    /// A raw command's reply, `-ERR` included.
    Raw(RawReply),
}

/// Something the session reports. Drain them with [`crate::Client::poll_event`] after every call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The greeting arrived: commands can flow.
    Greeting(Greeting),
    /// A new transcript entry.
    Transcript(TranscriptEntry),
    /// The session moved to another state.
    StateChanged(SessionState),
    /// A multi-line reply is streaming.
    Progress(Progress),
    /// A command finished.
    Completed {
        /// Which command.
        handle: CommandHandle,
        /// Its reply or why it failed.
        result: Result<Reply, Pop3Error>,
    },
    /// The server accepted STLS: the transport must start TLS now, then call
    /// [`crate::Client::tls_established`]. Nothing is sent until then.
    StartTls,
    /// The session is over: the transport should close the connection.
    Closed,
}
