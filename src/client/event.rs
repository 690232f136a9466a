//! What the session reports: events, replies, the greeting and progress.

use std::borrow::Cow;

use serde::Serialize;

use super::error::Pop3Error;
use crate::codec::SessionState;
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
///
/// A multi-line body is kept as one byte buffer (its octets as decoded), not one `String` per
/// line, so its memory is bounded by the body cap however many lines it has; [`RawReply::lines`]
/// splits it on demand. It serialises as `{ ok, continuation, text, code, lines, parsed }`,
/// `lines` being the body's lines as strings (lossily decoded, without line ends) and `parsed`
/// `{ kind, value }` or `null` ([`RawParsed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReply {
    /// `+OK` (or a `+` continuation).
    pub ok: bool,
    /// The server sent a SASL `+` challenge: the next line sent is the SASL response.
    pub continuation: bool,
    /// The status text (for a continuation, the challenge decoded if it is text, else as sent).
    pub text: String,
    /// The response code, if any.
    pub code: Option<ResponseCode>,
    /// The multi-line body, unstuffed, line ends kept; empty for a single-line reply.
    pub body: Vec<u8>,
    /// The reply read as its command's typed reply, when the command is one popwire knows and
    /// the reply is `+OK` (or a `+` challenge) that parses: so a page never parses what was
    /// typed by hand. `None` for `-ERR`, unknown commands, and replies that do not parse.
    pub parsed: Option<RawParsed>,
}

/// The typed reading of a raw reply ([`RawReply::parsed`]). Listings are read leniently, as
/// for typed commands: a malformed line is left out (a typed LIST reports it in the transcript).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawParsed {
    /// STAT.
    Stat(Stat),
    /// LIST without argument.
    List(Vec<ListEntry>),
    /// LIST n, checked to be about message n.
    ListOne(ListEntry),
    /// UIDL without argument.
    Uidl(Vec<UidlEntry>),
    /// UIDL n, checked to be about message n.
    UidlOne(UidlEntry),
    /// CAPA.
    Capabilities(Vec<Capability>),
    /// LANG without argument: one line per language.
    Languages(Vec<String>),
    /// RETR or TOP: the message is [`RawReply::body`], octets exactly as decoded (serialised as
    /// `value`, a `Uint8Array`).
    Message,
    /// A SASL `+` challenge, base64-decoded (serialised as a `Uint8Array`).
    Challenge(Vec<u8>),
}

impl RawParsed {
    /// The name it serialises with as `kind`: `stat`, `list`, `listOne`, `uidl`, `uidlOne`,
    /// `capabilities`, `languages`, `message`, `challenge`.
    pub fn kind(&self) -> &'static str {
        match self {
            RawParsed::Stat(_) => "stat",
            RawParsed::List(_) => "list",
            RawParsed::ListOne(_) => "listOne",
            RawParsed::Uidl(_) => "uidl",
            RawParsed::UidlOne(_) => "uidlOne",
            RawParsed::Capabilities(_) => "capabilities",
            RawParsed::Languages(_) => "languages",
            RawParsed::Message => "message",
            RawParsed::Challenge(_) => "challenge",
        }
    }
}

/// `{ kind, value }` of a raw reply's parsed form; a message's value is the reply's body.
struct ParsedJs<'a>(&'a RawParsed, &'a [u8]);

impl Serialize for ParsedJs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("RawParsed", 2)?;
        s.serialize_field("kind", self.0.kind())?;
        match self.0 {
            RawParsed::Stat(v) => s.serialize_field("value", v)?,
            RawParsed::List(v) => s.serialize_field("value", v)?,
            RawParsed::ListOne(v) => s.serialize_field("value", v)?,
            RawParsed::Uidl(v) => s.serialize_field("value", v)?,
            RawParsed::UidlOne(v) => s.serialize_field("value", v)?,
            RawParsed::Capabilities(v) => s.serialize_field("value", v)?,
            RawParsed::Languages(v) => s.serialize_field("value", v)?,
            RawParsed::Message => s.serialize_field("value", serde_bytes::Bytes::new(self.1))?,
            RawParsed::Challenge(v) => s.serialize_field("value", serde_bytes::Bytes::new(v))?,
        }
        s.end()
    }
}

impl RawReply {
    /// The lines of the multi-line body, without line ends (CRLF or a bare LF), lossily decoded.
    pub fn lines(&self) -> impl Iterator<Item = Cow<'_, str>> {
        body_lines(&self.body).map(String::from_utf8_lossy)
    }

    /// How many lines the multi-line body has.
    pub fn line_count(&self) -> usize {
        body_lines(&self.body).count()
    }
}

impl Serialize for RawReply {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// The lines, streamed: no `Vec<String>` is built to serialise them.
        struct Lines<'a>(&'a RawReply);
        impl Serialize for Lines<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.lines())
            }
        }
        let mut s = serializer.serialize_struct("RawReply", 6)?;
        s.serialize_field("ok", &self.ok)?;
        s.serialize_field("continuation", &self.continuation)?;
        s.serialize_field("text", &self.text)?;
        s.serialize_field("code", &self.code)?;
        s.serialize_field("lines", &Lines(self))?;
        s.serialize_field(
            "parsed",
            &self.parsed.as_ref().map(|p| ParsedJs(p, &self.body)),
        )?;
        s.end()
    }
}

/// The lines of a decoded body, without their line ends (CRLF or a bare LF).
pub(crate) fn body_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    let empty = body.is_empty();
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(move |_| !empty)
}

/// A successful reply to a queued command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A single-line `+OK` (USER, PASS, APOP, AUTH, DELE, RSET, NOOP, QUIT, STLS, UTF8, LANG tag).
    Status(StatusLine),
    /// STAT.
    Stat(Stat),
    /// LIST without argument: the well-formed scan listings. A malformed line does not lose the
    /// others: it is skipped and reported in the transcript as `warn.bad-listing` (the first
    /// few one by one with the [`crate::codec::ProtocolError`] text, then how many more).
    List(Vec<ListEntry>),
    /// LIST n; a reply about another message than n is [`crate::codec::ProtocolError::WrongMessageNumber`].
    ListOne(ListEntry),
    /// UIDL without argument: the well-formed unique-id listings; malformed lines are skipped
    /// and reported as for [`Reply::List`].
    Uidl(Vec<UidlEntry>),
    /// UIDL n; checked to be about message n, as for [`Reply::ListOne`].
    UidlOne(UidlEntry),
    /// CAPA; malformed (empty) lines are skipped and reported as for [`Reply::List`].
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
