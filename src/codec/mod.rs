//! The POP3 codec: line framing, status lines, multi-line bodies, commands and structured replies.
//!
//! Everything here works for both directions: the client decodes replies and encodes commands,
//! the teaching server decodes commands and encodes replies (including byte-stuffed bodies).
//! Framing comes first and is capped (a status line is at most [`MAX_RESPONSE_LINE`] octets, a
//! command at most [`MAX_COMMAND_LINE`]); only then is a line parsed.

mod command;
mod error;
mod line;
mod meta;
mod multiline;
mod reply;
mod state;
mod status;

pub use command::{check_line, check_sasl_response, Command, CommandLine, Keyword};
pub use error::{CommandError, LimitError, ProtocolError};
pub use line::{LineFramer, LineItem};
pub use meta::{commands, Argument, ArgumentKind, CommandMeta, Effect, Multiline, Reading};
pub use multiline::{
    stuff_body, stuff_lines, wire_marks, BodyDecoder, BodyProgress, InPlaceProgress, WireMarks,
};
pub use reply::{
    encode_capa_line, encode_list_line, encode_listing, encode_stat, encode_uidl_line,
    find_apop_timestamp, parse_capa_line, parse_list_line, parse_stat, parse_uidl_line, Capability,
    ListEntry, Stat, UidlEntry,
};
pub use state::SessionState;
pub use status::{Continuation, ResponseCode, Status, StatusLine};

/// Longest status line or greeting, CRLF included (RFC 2449 §4).
pub const MAX_RESPONSE_LINE: usize = 512;
/// Longest SASL `+` challenge line accepted, CRLF included. RFC 5034 §4 exempts continuation
/// lines from the 512-octet limit and sets none; popwire accepts 16 KiB (room for GSSAPI or SCRAM
/// tokens) so that a hostile server still cannot make a line cost unbounded memory.
pub const MAX_SASL_CHALLENGE_LINE: usize = 16 * 1024;
/// Longest command line, CRLF included (RFC 2449 §4).
pub const MAX_COMMAND_LINE: usize = 255;
/// Longest SASL response line a client sends after a `+` challenge (RFC 5034 sets no limit; we do).
pub const MAX_SASL_RESPONSE_LINE: usize = 16 * 1024;
/// Default cap on one multi-line body, in decoded octets.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;
