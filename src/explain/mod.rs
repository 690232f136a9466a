//! Transcript entries and explanations: every entry names a stable key (`cmd.STAT`,
//! `reply.STAT.ok`, `code.IN-USE`, `warn.bare-lf`, …) and the RFC section it comes from. The
//! page maps keys to texts in `www/i18n/<lang>.json`; [`all_keys`] lists every key the engine can
//! emit, so a test can check that each language has them all.

use serde::Serialize;

use crate::codec::Keyword;

mod note;
pub use note::{all_note_keys, find_note, placeholders, Note, NoteText, Param, NOTES};

/// An explanation reference: a stable key and the RFC section it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Explain {
    /// Stable key, e.g. `reply.STAT.ok`.
    pub key: &'static str,
    /// The RFC and section, e.g. `RFC 1939 §5`.
    pub rfc: &'static str,
}

/// Who an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Bytes the client sent.
    Client,
    /// Bytes the server sent.
    Server,
    /// An event worth seeing: a state change, TLS, a warning, a bridge message.
    Info,
}

/// One line of the transcript: a line on the wire, a multi-line body, or an event worth seeing.
///
/// Lines of a round trip name their request: a command line (and a SASL response) has
/// `request` set to its command's handle; every server line answering it has the same `request`,
/// `answers` set to the `seq` of the client line it answers, and a status line or SASL challenge
/// has `rtt_ms`, the time since that client line went out. A reader pairs commands and replies
/// by these fields, never by order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TranscriptEntry {
    /// Position in the transcript, from 0.
    pub seq: u64,
    /// Client, server or info.
    pub dir: Direction,
    /// Readable text: the line without CRLF (secrets replaced by `•`), or a body with `\n` line ends.
    pub text: String,
    /// The exact octets on the wire (at most [`BODY_KEEP`] of a body); empty for info entries.
    /// Serialised as bytes (a `Uint8Array` in JavaScript).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// The caller's clock, in milliseconds, when the entry was made.
    pub at_ms: u64,
    /// `text` hides a secret that `bytes` holds.
    pub masked: bool,
    /// `bytes` and `text` hold only the first [`BODY_KEEP`] octets of the body.
    pub truncated: bool,
    /// How many octets crossed the wire for this entry.
    pub total_bytes: u64,
    /// What the entry means.
    pub explain: Explain,
    /// The handle number ([`crate::CommandHandle`]) of the request this line belongs to: the
    /// command a client line sends, or the command a server line answers. `None` for the
    /// greeting, info entries and lines that arrive with no command waiting.
    pub request: Option<u64>,
    /// For a server line: the `seq` of the client line it answers (the command, or the last SASL
    /// response of its exchange).
    pub answers: Option<u64>,
    /// For a status line or SASL challenge: milliseconds from the client line it answers going
    /// out to this line arriving (both on the caller's clock).
    pub rtt_ms: Option<u64>,
    /// For a SASL `+` challenge whose text is valid base64: the decoded challenge.
    pub challenge: Option<SaslChallenge>,
    /// For a multi-line body: where in `bytes` the stuffed dots and the terminator are.
    pub wire_marks: Option<crate::codec::WireMarks>,
    /// For an info entry in popwire's own words: `text` as a key and its values, for a page to
    /// say in its language ([`Note`]); `None` for a state's name and every wire line.
    pub note: Option<Note>,
}

/// A SASL challenge (RFC 5034 §4) as decoded from its `+` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaslChallenge {
    /// The decoded octets (a `Uint8Array` in JavaScript).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// The octets as text, lossily decoded (e.g. a CRAM-MD5 timestamp).
    pub text: String,
}

/// How much of a multi-line body a transcript entry keeps.
pub const BODY_KEEP: usize = 64 * 1024;

/// How much of a batch's message ([`crate::Client::retr_many`]) its transcript entry keeps:
/// the message itself goes to the caller whole, so the transcript shows its start, and a sync
/// of a thousand messages does not copy and decode each one a second time for display.
pub const BATCH_BODY_KEEP: usize = 2 * 1024;

/// The mask that replaces a secret in transcript text (fixed length: it does not leak the secret's).
pub const MASK: &str = "••••••";

/// Every key with its RFC section.
const TABLE: &[(&str, &str)] = &[
    // Commands.
    ("cmd.USER", "RFC 1939 §7"),
    ("cmd.PASS", "RFC 1939 §7"),
    ("cmd.APOP", "RFC 1939 §7"),
    ("cmd.AUTH", "RFC 5034 §4"),
    ("cmd.STLS", "RFC 2595 §4"),
    ("cmd.CAPA", "RFC 2449 §5"),
    ("cmd.UTF8", "RFC 6856 §2"),
    ("cmd.LANG", "RFC 6856 §3"),
    ("cmd.STAT", "RFC 1939 §5"),
    ("cmd.LIST", "RFC 1939 §5"),
    ("cmd.UIDL", "RFC 1939 §7"),
    ("cmd.TOP", "RFC 1939 §7"),
    ("cmd.RETR", "RFC 1939 §5"),
    ("cmd.DELE", "RFC 1939 §5"),
    ("cmd.RSET", "RFC 1939 §5"),
    ("cmd.NOOP", "RFC 1939 §5"),
    ("cmd.QUIT", "RFC 1939 §6"),
    ("cmd.unknown", "RFC 2449 §3"),
    // Replies to commands.
    ("reply.USER.ok", "RFC 1939 §7"),
    ("reply.USER.err", "RFC 1939 §7"),
    ("reply.PASS.ok", "RFC 1939 §7"),
    ("reply.PASS.err", "RFC 1939 §7"),
    ("reply.APOP.ok", "RFC 1939 §7"),
    ("reply.APOP.err", "RFC 1939 §7"),
    ("reply.AUTH.ok", "RFC 5034 §4"),
    ("reply.AUTH.err", "RFC 5034 §4"),
    ("reply.STLS.ok", "RFC 2595 §4"),
    ("reply.STLS.err", "RFC 2595 §4"),
    ("reply.CAPA.ok", "RFC 2449 §5"),
    ("reply.CAPA.err", "RFC 2449 §5"),
    ("reply.UTF8.ok", "RFC 6856 §2"),
    ("reply.UTF8.err", "RFC 6856 §2"),
    ("reply.LANG.ok", "RFC 6856 §3"),
    ("reply.LANG.err", "RFC 6856 §3"),
    ("reply.STAT.ok", "RFC 1939 §5"),
    ("reply.STAT.err", "RFC 1939 §5"),
    ("reply.LIST.ok", "RFC 1939 §5"),
    ("reply.LIST.err", "RFC 1939 §5"),
    ("reply.UIDL.ok", "RFC 1939 §7"),
    ("reply.UIDL.err", "RFC 1939 §7"),
    ("reply.TOP.ok", "RFC 1939 §7"),
    ("reply.TOP.err", "RFC 1939 §7"),
    ("reply.RETR.ok", "RFC 1939 §5"),
    ("reply.RETR.err", "RFC 1939 §5"),
    ("reply.DELE.ok", "RFC 1939 §5"),
    ("reply.DELE.err", "RFC 1939 §5"),
    ("reply.RSET.ok", "RFC 1939 §5"),
    ("reply.RSET.err", "RFC 1939 §5"),
    ("reply.NOOP.ok", "RFC 1939 §5"),
    ("reply.NOOP.err", "RFC 1939 §5"),
    ("reply.QUIT.ok", "RFC 1939 §6"),
    ("reply.QUIT.err", "RFC 1939 §6"),
    ("reply.unknown.ok", "RFC 2449 §3"),
    ("reply.unknown.err", "RFC 1939 §3"),
    // Multi-line bodies.
    ("body.CAPA", "RFC 2449 §5"),
    ("body.LANG", "RFC 6856 §3"),
    ("body.LIST", "RFC 1939 §5"),
    ("body.UIDL", "RFC 1939 §7"),
    ("body.TOP", "RFC 1939 §7"),
    ("body.RETR", "RFC 1939 §5"),
    // Greeting.
    ("greeting.ok", "RFC 1939 §4"),
    ("greeting.apop", "RFC 1939 §7"),
    ("greeting.err", "RFC 1939 §4"),
    // SASL exchange.
    ("sasl.challenge", "RFC 5034 §4"),
    ("sasl.response", "RFC 5034 §4"),
    ("sasl.cancel", "RFC 5034 §4"),
    // Session states.
    ("state.AUTHORIZATION", "RFC 1939 §4"),
    ("state.TRANSACTION", "RFC 1939 §5"),
    ("state.UPDATE", "RFC 1939 §6"),
    ("state.CLOSED", "RFC 1939 §6"),
    // Response codes.
    ("code.IN-USE", "RFC 2449 §8.1.2"),
    ("code.LOGIN-DELAY", "RFC 2449 §8.1.1"),
    ("code.SYS/TEMP", "RFC 3206 §4"),
    ("code.SYS/PERM", "RFC 3206 §4"),
    ("code.AUTH", "RFC 3206 §5"),
    ("code.UTF8", "RFC 6856 §2"),
    ("code.other", "RFC 2449 §8"),
    // Capabilities (CAPA tags).
    ("capa.TOP", "RFC 2449 §6.1"),
    ("capa.USER", "RFC 2449 §6.2"),
    ("capa.SASL", "RFC 5034 §3"),
    ("capa.RESP-CODES", "RFC 2449 §6.4"),
    ("capa.LOGIN-DELAY", "RFC 2449 §6.5"),
    ("capa.PIPELINING", "RFC 2449 §6.6"),
    ("capa.EXPIRE", "RFC 2449 §6.7"),
    ("capa.UIDL", "RFC 2449 §6.8"),
    ("capa.IMPLEMENTATION", "RFC 2449 §6.9"),
    ("capa.STLS", "RFC 2595 §4"),
    ("capa.AUTH-RESP-CODE", "RFC 3206 §6"),
    ("capa.UTF8", "RFC 6856 §2"),
    ("capa.LANG", "RFC 6856 §3"),
    ("capa.other", "RFC 2449 §5"),
    // Warnings: the server (or the network) broke a rule; the session carried on.
    ("warn.bare-lf", "RFC 1939 §3"),
    ("warn.line-too-long", "RFC 2449 §4"),
    ("warn.stls-discarded", "RFC 2595 §4"),
    ("warn.unsolicited", "RFC 1939 §3"),
    ("warn.bad-listing", "RFC 1939 §5"),
    // Events.
    ("info.tls", "RFC 2595 §4"),
    ("info.tls-implicit", "RFC 8314 §3.1"),
    ("info.capa-reset", "RFC 2595 §4"),
    ("info.pipelining", "RFC 2449 §6.6"),
    ("info.utf8", "RFC 6856 §2"),
    ("info.bridge", "RFC 1939 §3"),
    ("info.in-browser", "RFC 1939 §3"),
    ("info.closed", "RFC 1939 §6"),
    // Failures.
    ("error.state", "RFC 1939 §3"),
    ("error.protocol", "RFC 1939 §3"),
    ("error.limit", "RFC 2449 §4"),
    ("error.timeout", "RFC 1939 §3"),
    ("error.network", "RFC 1939 §3"),
    ("error.sasl", "RFC 5034 §4"),
    // Refusals of typed input (nothing was sent).
    ("input.empty", "RFC 1939 §3"),
    ("input.too-long", "RFC 2449 §4"),
    ("input.control", "RFC 1939 §3"),
    ("input.keyword", "RFC 2449 §3"),
    ("input.spacing", "RFC 1939 §3"),
    ("input.missing-argument", "RFC 1939 §3"),
    ("input.too-many-arguments", "RFC 1939 §3"),
    ("input.message-number", "RFC 1939 §5"),
    ("input.line-count", "RFC 1939 §7"),
    ("input.digest", "RFC 1939 §7"),
    ("input.mechanism", "RFC 4422 §3.1"),
    ("input.base64", "RFC 5034 §4"),
    ("input.non-ascii", "RFC 6856 §2"),
];

/// Every explanation key the engine can emit, in a stable order.
pub fn all_keys() -> Vec<&'static str> {
    TABLE.iter().map(|(key, _)| *key).collect()
}

/// The explanation for a key, or `None` if the engine never emits it.
pub fn lookup(key: &str) -> Option<Explain> {
    TABLE
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(key, rfc)| Explain { key, rfc })
}

/// The explanation for a key built at run time (`cmd.{keyword}`, `state.{state}`). The tests
/// enumerate every keyword and state, and a debug build asserts the key exists, so a mistyped
/// key fails the tests; a release build degrades to the generic `error.protocol` rather than
/// panicking. Literal keys use [`explain!`](crate::explain!), checked at compile time.
pub(crate) fn known(key: &str) -> Explain {
    let found = lookup(key);
    debug_assert!(found.is_some(), "unknown explanation key {key:?}");
    found.unwrap_or(crate::explain!("error.protocol"))
}

/// The explanation of `key` if the table has it, usable in constants: what
/// [`explain!`](crate::explain!) checks at compile time.
pub const fn find(key: &str) -> Option<Explain> {
    let mut rest = TABLE;
    while let [(k, rfc), tail @ ..] = rest {
        if str_eq(k, key) {
            return Some(Explain { key: k, rfc });
        }
        rest = tail;
    }
    None
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, a_rest @ ..], [y, b_rest @ ..]) if *x == *y => {
                a = a_rest;
                b = b_rest;
            }
            _ => return false,
        }
    }
}

/// The [`Explain`] of a literal key, checked against the table **at compile time**: a mistyped
/// or removed key does not build.
///
/// ```
/// assert_eq!(popwire::explain!("warn.bare-lf").rfc, "RFC 1939 §3");
/// ```
#[macro_export]
macro_rules! explain {
    ($key:literal) => {
        const {
            match $crate::explain::find($key) {
                Some(explain) => explain,
                None => panic!(concat!("unknown explanation key ", $key)),
            }
        }
    };
}

/// The key for a command keyword, `cmd.unknown` for `None`.
pub fn command_key(keyword: Option<Keyword>) -> Explain {
    known(&match keyword {
        Some(k) => format!("cmd.{}", k.as_str()),
        None => "cmd.unknown".to_owned(),
    })
}

/// The key for a status reply to a command.
pub fn reply_key(keyword: Option<Keyword>, ok: bool) -> Explain {
    let name = keyword.map_or("unknown", Keyword::as_str);
    known(&format!("reply.{name}.{}", if ok { "ok" } else { "err" }))
}

/// The key for a multi-line body of a command.
pub fn body_key(keyword: Option<Keyword>) -> Explain {
    known(&format!(
        "body.{}",
        keyword.map_or("unknown", Keyword::as_str)
    ))
}

/// The key for a CAPA tag, `capa.other` for tags popwire does not know.
pub fn capability_key(name: &str) -> Explain {
    lookup(&format!("capa.{}", name.to_ascii_uppercase())).unwrap_or(crate::explain!("capa.other"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compile_time_lookup_finds_exactly_the_table() {
        for (key, rfc) in TABLE {
            assert_eq!(find(key), Some(Explain { key, rfc }));
        }
        assert_eq!(find("cmd.STA"), None);
        assert_eq!(find("cmd.STATS"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn keys_are_unique_and_have_rfc_sections() {
        let keys = all_keys();
        let unique: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        for (key, rfc) in TABLE {
            assert!(rfc.starts_with("RFC ") && rfc.contains('§'), "{key}: {rfc}");
        }
    }

    #[test]
    fn every_keyword_has_command_reply_and_where_multiline_body_keys() {
        for k in Keyword::ALL {
            assert!(lookup(&format!("cmd.{k}")).is_some(), "cmd.{k}");
            assert!(lookup(&format!("reply.{k}.ok")).is_some(), "reply.{k}.ok");
            assert!(lookup(&format!("reply.{k}.err")).is_some(), "reply.{k}.err");
        }
        // Every keyword whose reply can be multi-line (from its metadata, not a hand list).
        for k in Keyword::ALL {
            if k.meta().multiline != crate::codec::Multiline::Never {
                assert_eq!(body_key(Some(k)).key, format!("body.{k}"));
            }
        }
        for state in [
            crate::SessionState::Authorization,
            crate::SessionState::Transaction,
            crate::SessionState::Update,
            crate::SessionState::Closed,
        ] {
            assert_eq!(state.explain().key, format!("state.{state}"));
        }
        assert_eq!(reply_key(None, false).key, "reply.unknown.err");
        assert_eq!(capability_key("x-weird").key, "capa.other");
        assert_eq!(capability_key("sasl").key, "capa.SASL");
    }
}
