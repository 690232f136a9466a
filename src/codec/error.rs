//! Typed errors of the codec. Each names what was wrong and which rule it broke.

use thiserror::Error;

use crate::explain::{Explain, Note};

/// A reply from the server that breaks the protocol: the session reports it, never panics.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The line does not begin with `+OK` or `-ERR` (status indicators are upper case, RFC 1939 §3).
    #[error("the reply does not start with +OK or -ERR: {line:?}")]
    BadStatus {
        /// The offending line, lossily decoded.
        line: String,
    },
    /// A `+` continuation line arrived where no SASL exchange was under way.
    #[error("the server sent a SASL continuation (+) outside an AUTH exchange")]
    UnexpectedContinuation,
    /// A SASL challenge that is not valid base64 (RFC 5034 §4).
    #[error("the server's SASL challenge is not valid base64")]
    BadChallenge,
    /// A number in a reply is missing, not decimal or too large.
    #[error("expected {what} in {line:?}")]
    BadNumber {
        /// What was expected, e.g. "a message count" (`note.wanted.message-count`).
        what: Note,
        /// The offending line, lossily decoded.
        line: String,
    },
    /// A unique-id outside RFC 1939 §7's 1–70 octets of 0x21–0x7E.
    #[error("the unique-id in {line:?} is not 1-70 printable characters (RFC 1939 §7)")]
    BadUniqueId {
        /// The offending line, lossily decoded.
        line: String,
    },
    /// The `+OK` to `LIST n` or `UIDL n` is about another message than the one asked for.
    #[error("asked about message {asked}, the reply is about message {got} (RFC 1939 §5)")]
    WrongMessageNumber {
        /// The message number the command named.
        asked: u32,
        /// The message number the reply named.
        got: u32,
    },
    /// A multi-line reply line that cannot be parsed as what the command returns.
    #[error("malformed {what} line: {line:?}")]
    BadListing {
        /// What kind of listing, e.g. "LIST".
        what: &'static str,
        /// The offending line, lossily decoded.
        line: String,
    },
}

/// A size or count cap was exceeded. The session stays in sync where it can.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A status line, greeting or `+` line longer than the cap (RFC 2449 §4: 512 octets).
    #[error("a reply line is longer than {limit} octets (RFC 2449 §4)")]
    LineTooLong {
        /// The cap, CRLF included.
        limit: usize,
    },
    /// A multi-line body larger than the configured cap.
    #[error("the multi-line reply is larger than the {limit}-octet cap")]
    BodyTooLarge {
        /// The cap in decoded octets.
        limit: u64,
    },
    /// Too many commands queued without being sent.
    #[error("more than {limit} commands are queued")]
    TooManyQueued {
        /// The cap.
        limit: usize,
    },
}

impl ProtocolError {
    /// What the server did wrong in popwire's own words, as a key and its values.
    pub fn note(&self) -> Note {
        match self {
            ProtocolError::BadStatus { line } => {
                crate::note!("note.protocol.bad-status", line = line.as_str())
            }
            ProtocolError::UnexpectedContinuation => {
                crate::note!("note.protocol.unexpected-continuation")
            }
            ProtocolError::BadChallenge => crate::note!("note.protocol.bad-challenge"),
            ProtocolError::BadNumber { what, line } => crate::note!(
                "note.protocol.bad-number",
                what = what.clone(),
                line = line.as_str()
            ),
            ProtocolError::BadUniqueId { line } => {
                crate::note!("note.protocol.bad-unique-id", line = line.as_str())
            }
            ProtocolError::WrongMessageNumber { asked, got } => crate::note!(
                "note.protocol.wrong-message-number",
                asked = *asked,
                got = *got
            ),
            ProtocolError::BadListing { what, line } => crate::note!(
                "note.protocol.bad-listing",
                what = *what,
                line = line.as_str()
            ),
        }
    }
}

impl LimitError {
    /// Which cap was exceeded in popwire's own words, as a key and its values.
    pub fn note(&self) -> Note {
        match self {
            LimitError::LineTooLong { limit } => {
                crate::note!("note.limit.line-too-long", limit = *limit)
            }
            LimitError::BodyTooLarge { limit } => {
                crate::note!("note.limit.body-too-large", limit = *limit)
            }
            LimitError::TooManyQueued { limit } => {
                crate::note!("note.limit.too-many-queued", limit = *limit)
            }
        }
    }
}

/// Why a command line cannot be sent. Nothing is sent when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is empty.
    #[error("the command is empty")]
    Empty,
    /// Longer than the limit, CRLF included (RFC 2449 §4: 255 octets).
    #[error("the command is {len} octets with CRLF; the limit is {limit} (RFC 2449 §4)")]
    TooLong {
        /// The line's length with CRLF.
        len: usize,
        /// The cap.
        limit: usize,
    },
    /// A CR, LF or other control character inside the line: a second command could be smuggled in.
    #[error("the command contains a control character ({name}) at octet {position}; one line is one command")]
    ControlCharacter {
        /// Byte offset in the line.
        position: usize,
        /// "CR", "LF", "NUL", "TAB" or the hex value.
        name: String,
    },
    /// The keyword is not 3 or 4 printable characters (RFC 2449 §3).
    #[error("{keyword:?} is not a POP3 keyword: keywords are 3 or 4 letters (RFC 2449 §3)")]
    BadKeyword {
        /// What was typed in the keyword's place.
        keyword: String,
    },
    /// Words separated by something other than a single space (RFC 1939 §3).
    #[error("separate the keyword and arguments with a single space (RFC 1939 §3)")]
    Spacing,
    /// A required argument is missing.
    #[error("{command} needs {argument}")]
    MissingArgument {
        /// The command keyword.
        command: &'static str,
        /// Which argument, e.g. "a message number" (`note.wanted.message-number`).
        argument: Note,
    },
    /// More arguments than the command takes.
    #[error("{command} takes {expected}")]
    TooManyArguments {
        /// The command keyword.
        command: &'static str,
        /// What it takes, e.g. "no arguments" (`note.wanted.no-arguments`).
        expected: Note,
    },
    /// A message number that is not a positive decimal number.
    #[error("{text:?} is not a message number: messages are numbered 1, 2, 3… (RFC 1939 §5)")]
    BadMessageNumber {
        /// What was typed.
        text: String,
    },
    /// TOP's line count is not a non-negative decimal number.
    #[error("{text:?} is not a line count: TOP takes a message number and a number of lines ≥ 0 (RFC 1939 §7)")]
    BadLineCount {
        /// What was typed.
        text: String,
    },
    /// APOP's digest is not 32 hexadecimal digits.
    #[error(
        "the APOP digest must be 32 hexadecimal digits, the MD5 of timestamp+secret (RFC 1939 §7)"
    )]
    BadDigest,
    /// A SASL mechanism name outside RFC 4422's syntax (1–20 of A–Z, 0–9, - and _).
    #[error("{text:?} is not a SASL mechanism name (RFC 4422 §3.1)")]
    BadMechanism {
        /// What was typed.
        text: String,
    },
    /// A SASL response that is not base64, `*`, or the empty response (`=` as an initial
    /// response, an empty line after a challenge).
    #[error("a SASL response must be base64 or '*' to cancel; an empty response is '=' on the AUTH line, an empty line after a challenge (RFC 5034 §4)")]
    BadBase64,
    /// Non-ASCII text before `UTF8` was accepted (RFC 6856 §2).
    #[error("non-ASCII characters need the UTF8 command first (RFC 6856 §2)")]
    NonAscii,
}

impl CommandError {
    /// One value of every variant, for tests that must see them all (e.g. "no two refusals
    /// share an explanation key"). The `match` below has no `_` arm: a new variant does not
    /// compile until it is added there, next to this list.
    #[doc(hidden)]
    pub fn examples() -> Vec<CommandError> {
        let all = vec![
            CommandError::Empty,
            CommandError::TooLong {
                len: 300,
                limit: 255,
            },
            CommandError::ControlCharacter {
                position: 4,
                name: "CR".into(),
            },
            CommandError::BadKeyword {
                keyword: "STATUS".into(),
            },
            CommandError::Spacing,
            CommandError::MissingArgument {
                command: "RETR",
                argument: crate::note!("note.wanted.message-number"),
            },
            CommandError::TooManyArguments {
                command: "STAT",
                expected: crate::note!("note.wanted.no-arguments"),
            },
            CommandError::BadMessageNumber { text: "0".into() },
            CommandError::BadLineCount { text: "-1".into() },
            CommandError::BadDigest,
            CommandError::BadMechanism {
                text: "PL AIN".into(),
            },
            CommandError::BadBase64,
            CommandError::NonAscii,
        ];
        for error in &all {
            match error {
                CommandError::Empty
                | CommandError::TooLong { .. }
                | CommandError::ControlCharacter { .. }
                | CommandError::BadKeyword { .. }
                | CommandError::Spacing
                | CommandError::MissingArgument { .. }
                | CommandError::TooManyArguments { .. }
                | CommandError::BadMessageNumber { .. }
                | CommandError::BadLineCount { .. }
                | CommandError::BadDigest
                | CommandError::BadMechanism { .. }
                | CommandError::BadBase64
                | CommandError::NonAscii => {}
            }
        }
        all
    }

    /// The stable explanation key of this refusal (see [`crate::explain`](mod@crate::explain)).
    pub fn explain_key(&self) -> &'static str {
        self.explain().key
    }

    /// Why the line is refused in popwire's own words, as a key and its values (what a page
    /// shows in its language; [`Display`](std::fmt::Display) is the English).
    pub fn note(&self) -> Note {
        match self {
            CommandError::Empty => crate::note!("note.input.empty"),
            CommandError::TooLong { len, limit } => {
                crate::note!("note.input.too-long", len = *len, limit = *limit)
            }
            CommandError::ControlCharacter { position, name } => crate::note!(
                "note.input.control",
                name = name.as_str(),
                position = *position
            ),
            CommandError::BadKeyword { keyword } => {
                crate::note!("note.input.keyword", keyword = keyword.as_str())
            }
            CommandError::Spacing => crate::note!("note.input.spacing"),
            CommandError::MissingArgument { command, argument } => crate::note!(
                "note.input.missing-argument",
                command = *command,
                argument = argument.clone()
            ),
            CommandError::TooManyArguments { command, expected } => crate::note!(
                "note.input.too-many-arguments",
                command = *command,
                expected = expected.clone()
            ),
            CommandError::BadMessageNumber { text } => {
                crate::note!("note.input.message-number", text = text.as_str())
            }
            CommandError::BadLineCount { text } => {
                crate::note!("note.input.line-count", text = text.as_str())
            }
            CommandError::BadDigest => crate::note!("note.input.digest"),
            CommandError::BadMechanism { text } => {
                crate::note!("note.input.mechanism", text = text.as_str())
            }
            CommandError::BadBase64 => crate::note!("note.input.base64"),
            CommandError::NonAscii => crate::note!("note.input.non-ascii"),
        }
    }

    /// What this refusal means, its key checked against the table at compile time.
    pub fn explain(&self) -> Explain {
        match self {
            CommandError::Empty => crate::explain!("input.empty"),
            CommandError::TooLong { .. } => crate::explain!("input.too-long"),
            CommandError::ControlCharacter { .. } => crate::explain!("input.control"),
            CommandError::BadKeyword { .. } => crate::explain!("input.keyword"),
            CommandError::Spacing => crate::explain!("input.spacing"),
            CommandError::MissingArgument { .. } => crate::explain!("input.missing-argument"),
            CommandError::TooManyArguments { .. } => crate::explain!("input.too-many-arguments"),
            CommandError::BadMessageNumber { .. } => crate::explain!("input.message-number"),
            CommandError::BadLineCount { .. } => crate::explain!("input.line-count"),
            CommandError::BadDigest => crate::explain!("input.digest"),
            CommandError::BadMechanism { .. } => crate::explain!("input.mechanism"),
            CommandError::BadBase64 => crate::explain!("input.base64"),
            CommandError::NonAscii => crate::explain!("input.non-ascii"),
        }
    }
}
