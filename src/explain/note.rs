//! What popwire says in its own words, as a key and its values: an info entry of the
//! transcript ("no reply within 30000 ms"), why a typed line is refused, why a command failed.
//!
//! A page says a [`Note`] in its language from `ui.<key>` of `www/i18n/<lang>.json`, with
//! `{name}` placeholders filled from the params (numbers in the language's digits, text params
//! as protocol text, nested notes said in turn); it never reads the English. [`Note::english`]
//! is the same text in English, from [`NOTES`]: what [`TranscriptEntry::text`](super::TranscriptEntry)
//! and the error messages hold. `tests/i18n.rs` keeps `en.json` equal to [`NOTES`] and checks
//! that every key is in every language with the same placeholders.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

/// A sentence of popwire's as a key and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The `ui` key, e.g. `note.reply-timeout`: one of [`NOTES`].
    pub key: &'static str,
    /// The values of its `{name}` placeholders, in the template's order.
    pub params: Vec<(&'static str, Param)>,
}

/// The value of a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A number (a count, a size, milliseconds): written in the page language's digits, and
    /// choosing a plural form.
    Number(u64),
    /// Protocol text or a name (a command, a line as sent, a target, a cipher): shown as is,
    /// left to right.
    Text(String),
    /// A sentence of its own (the reason inside "the connection closed: …").
    Note(Box<Note>),
}

/// The English of a note key: one template, or two when a count chooses between "1 octet" and
/// "2 octets". `en.json` holds the same (a plural object `{"$count", "one", "other"}` for two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteText {
    /// The key.
    pub key: &'static str,
    /// The placeholder whose number chooses the form, if the text has two.
    pub count: Option<&'static str>,
    /// The form for exactly 1, if the text has two.
    pub one: Option<&'static str>,
    /// The text (the form for every other number).
    pub other: &'static str,
}

const fn text(key: &'static str, other: &'static str) -> NoteText {
    NoteText {
        key,
        count: None,
        one: None,
        other,
    }
}

const fn counted(
    key: &'static str,
    count: &'static str,
    one: &'static str,
    other: &'static str,
) -> NoteText {
    NoteText {
        key,
        count: Some(count),
        one: Some(one),
        other,
    }
}

/// Every note with its English.
pub const NOTES: &[NoteText] = &[
    // Words of a caller of the native API (handle_close, tls_established, note with a &str).
    text("note.said", "{text}"),
    // Info entries of the session.
    text("note.bad-listing-line", "line {number}: {error}"),
    counted(
        "note.bad-listing-more",
        "more",
        "{more} more malformed line skipped ({bad} in all)",
        "{more} more malformed lines skipped ({bad} in all)",
    ),
    text("note.quit-closed", "the server ended the session after QUIT"),
    text("note.utf8-on", "UTF-8 is on for this session"),
    text(
        "note.pipelining",
        "the server pipelines: commands go out without waiting",
    ),
    counted(
        "note.stls-discarded-after",
        "octets",
        "{octets} octet after +OK to STLS discarded",
        "{octets} octets after +OK to STLS discarded",
    ),
    counted(
        "note.stls-discarded-before",
        "octets",
        "{octets} octet before TLS discarded",
        "{octets} octets before TLS discarded",
    ),
    text(
        "note.line-too-long",
        "a reply line over {limit} octets was dropped",
    ),
    text(
        "note.line-too-long-body",
        "a reply line over {limit} octets was dropped; its multi-line body is skipped",
    ),
    text(
        "note.bare-lf-line",
        "the server ended a line with LF alone, not CRLF",
    ),
    counted(
        "note.bare-lf-body",
        "lines",
        "{lines} body line ended with LF alone, not CRLF",
        "{lines} body lines ended with LF alone, not CRLF",
    ),
    counted(
        "note.unsolicited",
        "octets",
        "{octets} octet arrived with no command waiting",
        "{octets} octets arrived with no command waiting",
    ),
    text(
        "note.body-too-large",
        "the reply was larger than {limit} octets and was dropped",
    ),
    text(
        "note.tls-timeout",
        "TLS was not up within {ms} ms of +OK to STLS",
    ),
    text("note.reply-timeout", "no reply within {ms} ms"),
    text(
        "note.capa-reset",
        "capabilities, UTF8 mode and USER forgotten: send CAPA again",
    ),
    // Why a command failed (Pop3Error).
    text("note.error.server", "the server answered {line}"),
    text(
        "note.error.state",
        "{command} is not valid in the {state} state",
    ),
    text(
        "note.error.state-hint",
        "{command} is not valid in the {state} state: {hint}",
    ),
    text(
        "note.hint.no-apop",
        "the greeting has no <timestamp>, so this server does not offer APOP",
    ),
    text(
        "note.hint.sasl-pending",
        "a SASL exchange is waiting for its response line",
    ),
    text("note.hint.pass-after-user", "PASS must follow a successful USER"),
    text("note.hint.tls-active", "TLS is already active"),
    text("note.hint.utf8-on", "UTF8 is already on"),
    text("note.session-closed", "the session is closed"),
    text(
        "note.closed-before-greeting",
        "the connection closed before the greeting",
    ),
    text("note.closed-during-stls", "the connection closed during STLS"),
    text(
        "note.error.credentials",
        "the user name or password cannot be used with this SASL mechanism",
    ),
    text(
        "note.error.timeout",
        "no reply from the server within {ms} ms",
    ),
    text(
        "note.error.tls-timeout",
        "the TLS handshake after STLS did not finish within {ms} ms",
    ),
    text("note.error.closed", "the connection closed: {reason}"),
    // Why a typed line is refused (CommandError).
    text("note.input.empty", "the command is empty"),
    text(
        "note.input.too-long",
        "the command is {len} octets with CRLF; the limit is {limit} (RFC 2449 §4)",
    ),
    text(
        "note.input.control",
        "the command contains a control character ({name}) at octet {position}; one line is one command",
    ),
    text(
        "note.input.keyword",
        "\"{keyword}\" is not a POP3 keyword: keywords are 3 or 4 letters (RFC 2449 §3)",
    ),
    text(
        "note.input.spacing",
        "separate the keyword and arguments with a single space (RFC 1939 §3)",
    ),
    text("note.input.missing-argument", "{command} needs {argument}"),
    text("note.input.too-many-arguments", "{command} takes {expected}"),
    text(
        "note.input.message-number",
        "\"{text}\" is not a message number: messages are numbered 1, 2, 3… (RFC 1939 §5)",
    ),
    text(
        "note.input.line-count",
        "\"{text}\" is not a line count: TOP takes a message number and a number of lines ≥ 0 (RFC 1939 §7)",
    ),
    text(
        "note.input.digest",
        "the APOP digest must be 32 hexadecimal digits, the MD5 of timestamp+secret (RFC 1939 §7)",
    ),
    text(
        "note.input.mechanism",
        "\"{text}\" is not a SASL mechanism name (RFC 4422 §3.1)",
    ),
    text(
        "note.input.base64",
        "a SASL response must be base64 or '*' to cancel; an empty response is '=' on the AUTH line, an empty line after a challenge (RFC 5034 §4)",
    ),
    text(
        "note.input.non-ascii",
        "non-ASCII characters need the UTF8 command first (RFC 6856 §2)",
    ),
    // What a command's arguments or a reply's numbers should have been (Wanted).
    text("note.wanted.password", "a password"),
    text("note.wanted.user-name", "a user name"),
    text("note.wanted.one-user-name", "one user name, without spaces"),
    text("note.wanted.user-and-digest", "a user name and a digest"),
    text("note.wanted.digest-after-user", "a digest after the user name"),
    text("note.wanted.mechanism", "a SASL mechanism name"),
    text(
        "note.wanted.mechanism-and-response",
        "a mechanism and at most one initial response",
    ),
    text("note.wanted.at-most-one-tag", "at most one language tag"),
    text(
        "note.wanted.at-most-one-message",
        "at most one message number",
    ),
    text("note.wanted.message-number", "a message number"),
    text("note.wanted.one-message", "one message number"),
    text(
        "note.wanted.message-and-lines",
        "a message number and a number of lines",
    ),
    text(
        "note.wanted.lines-after-message",
        "a number of lines after the message number",
    ),
    text("note.wanted.no-arguments", "no arguments"),
    text("note.wanted.message-count", "a message count"),
    text("note.wanted.maildrop-size", "a maildrop size in octets"),
    text("note.wanted.size", "a size in octets"),
    // A cap was exceeded (LimitError).
    text(
        "note.limit.line-too-long",
        "a reply line is longer than {limit} octets (RFC 2449 §4)",
    ),
    text(
        "note.limit.body-too-large",
        "the multi-line reply is larger than the {limit}-octet cap",
    ),
    text(
        "note.limit.too-many-queued",
        "more than {limit} commands are queued",
    ),
    // The server broke the protocol (ProtocolError).
    text(
        "note.protocol.bad-status",
        "the reply does not start with +OK or -ERR: {line}",
    ),
    text(
        "note.protocol.unexpected-continuation",
        "the server sent a SASL continuation (+) outside an AUTH exchange",
    ),
    text(
        "note.protocol.bad-challenge",
        "the server's SASL challenge is not valid base64",
    ),
    text("note.protocol.bad-number", "expected {what} in {line}"),
    text(
        "note.protocol.bad-unique-id",
        "the unique-id in {line} is not 1-70 printable characters (RFC 1939 §7)",
    ),
    text(
        "note.protocol.wrong-message-number",
        "asked about message {asked}, the reply is about message {got} (RFC 1939 §5)",
    ),
    text("note.protocol.bad-listing", "malformed {what} line: {line}"),
    // What the page's transports say (src/wasm).
    text("note.page-closed", "closed by the page"),
    text(
        "note.tls-verified",
        "{version} {cipher}, certificate verified, server {subject}",
    ),
    text(
        "note.tls-unverified",
        "{version} {cipher}, certificate NOT verified, server {subject}",
    ),
    text(
        "note.bridge-connected",
        "the bridge connected to target {target}",
    ),
    text(
        "note.bridge-refused",
        "the bridge refused the session ({code}): {message}",
    ),
    text("note.bridge-closed", "the server side closed: {reason}"),
    text(
        "note.ws-closed-code",
        "the WebSocket to the bridge closed (code {code})",
    ),
    text(
        "note.ws-closed-reason",
        "the WebSocket to the bridge closed: {reason}",
    ),
    text("note.ws-cannot-open", "cannot open a WebSocket to {bridge}"),
    text(
        "note.in-browser-open",
        "connected to a simulated POP3 server running in this browser: a Web Worker, no network, no TLS",
    ),
    text(
        "note.in-browser-open-conn",
        "connected to a simulated POP3 server running in this browser (connection {conn}): a Web Worker, no network, no TLS",
    ),
    text(
        "note.in-browser-worker-failed",
        "the in-browser server's worker failed: {why}",
    ),
    text(
        "note.in-browser-worker-unloaded",
        "the in-browser server's worker failed: its script or module could not be loaded",
    ),
    text(
        "note.in-browser-unreachable",
        "cannot reach the in-browser server: {why}",
    ),
    text(
        "note.in-browser-no-tls",
        "there is no TLS in the in-browser server: it is simulated inside this browser, with no network to protect (use a bridge target for STLS)",
    ),
    text(
        "note.in-browser-page-closed",
        "the page closed its connection to the in-browser server",
    ),
    text(
        "note.in-browser-closed",
        "the simulated server closed the connection ({code}): {reason}",
    ),
    text(
        "note.in-browser-quit",
        "the simulated server closed the connection after QUIT",
    ),
    text(
        "note.in-browser-autologout",
        "the simulated server logged the session out after 10 minutes without a command (autologout, RFC 1939 §3) and sent no response",
    ),
    text(
        "note.in-browser-fault",
        "the simulated server dropped the connection (a fault mode of the simulated server)",
    ),
    text(
        "note.in-browser-input-limit",
        "the simulated server closed the connection: more than 1 MiB of input was left unanswered",
    ),
    text(
        "note.in-browser-error",
        "the in-browser server could not make the connection: {error}",
    ),
    text(
        "note.in-browser-other",
        "the simulated server closed the connection ({code})",
    ),
];

/// Every note key, in a stable order.
pub fn all_note_keys() -> Vec<&'static str> {
    NOTES.iter().map(|n| n.key).collect()
}

/// The [`NoteText`] of `key`, usable in constants: what [`note!`](crate::note!) checks at
/// compile time.
pub const fn find_note(key: &str) -> Option<&'static NoteText> {
    let mut rest = NOTES;
    while let [first, tail @ ..] = rest {
        if super::str_eq(first.key, key) {
            return Some(first);
        }
        rest = tail;
    }
    None
}

/// A [`Note`] of a literal key, checked against [`NOTES`] **at compile time**, with its
/// params: `note!("note.reply-timeout", ms = after_ms)`. A value is a number, text or a note.
#[macro_export]
macro_rules! note {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::explain::Note::new(
            const {
                match $crate::explain::find_note($key) {
                    Some(text) => text.key,
                    None => panic!(concat!("unknown note key ", $key)),
                }
            },
            vec![$((stringify!($name), $crate::explain::Param::from($value))),*],
        )
    };
}

impl Note {
    /// A note of `key` (one of [`NOTES`]; prefer [`note!`](crate::note!), checked at compile
    /// time). A debug build checks that the params are the template's placeholders.
    pub fn new(key: &'static str, params: Vec<(&'static str, Param)>) -> Note {
        let note = Note { key, params };
        debug_assert!(
            note.text().is_some_and(|t| {
                let mut wanted = placeholders(t.other);
                wanted.extend(t.one.map(placeholders).unwrap_or_default());
                wanted.sort_unstable();
                wanted.dedup();
                let mut given: Vec<&str> = note.params.iter().map(|(n, _)| *n).collect();
                given.sort_unstable();
                given == wanted
            }),
            "note {key:?}: params {:?} are not its placeholders",
            note.params
        );
        note
    }

    /// A caller's own words, as given (`note.said`): what the native API takes as `&str`.
    pub fn said(text: impl Into<String>) -> Note {
        Note::new("note.said", vec![("text", Param::Text(text.into()))])
    }

    fn text(&self) -> Option<&'static NoteText> {
        find_note(self.key)
    }

    /// The note with every text param (at any depth) cut to at most `max` octets, `…` added
    /// where it was cut: for lines a peer sent, which may be long.
    pub fn shortened(mut self, max: usize) -> Note {
        for (_, value) in &mut self.params {
            match value {
                Param::Text(text) if text.len() > max => {
                    let mut end = max;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                    text.push('…');
                }
                Param::Note(note) => **note = note.as_ref().clone().shortened(max),
                _ => {}
            }
        }
        self
    }

    /// The value of the placeholder `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The note in English (as `en.json` says it).
    pub fn english(&self) -> String {
        let Some(text) = self.text() else {
            return self.key.to_owned();
        };
        let template = match (text.count.and_then(|c| self.param(c)), text.one) {
            (Some(Param::Number(1)), Some(one)) => one,
            _ => text.other,
        };
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            out.push_str(before);
            match after.find('}') {
                Some(close) => {
                    let name = after.get(1..close).unwrap_or_default();
                    match self.param(name) {
                        Some(Param::Number(n)) => out.push_str(&n.to_string()),
                        Some(Param::Text(t)) => out.push_str(t),
                        Some(Param::Note(n)) => out.push_str(&n.english()),
                        None => out.push_str(after.get(..=close).unwrap_or_default()),
                    }
                    rest = after.get(close + 1..).unwrap_or_default();
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The `{name}` placeholders of a template.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else { break };
        let name = after.get(..close).unwrap_or_default();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(name);
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl From<&str> for Note {
    fn from(text: &str) -> Note {
        Note::said(text)
    }
}

impl From<String> for Note {
    fn from(text: String) -> Note {
        Note::said(text)
    }
}

impl From<u64> for Param {
    fn from(n: u64) -> Param {
        Param::Number(n)
    }
}

impl From<u32> for Param {
    fn from(n: u32) -> Param {
        Param::Number(u64::from(n))
    }
}

impl From<u16> for Param {
    fn from(n: u16) -> Param {
        Param::Number(u64::from(n))
    }
}

impl From<usize> for Param {
    fn from(n: usize) -> Param {
        Param::Number(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

impl From<String> for Param {
    fn from(text: String) -> Param {
        Param::Text(text)
    }
}

impl From<&str> for Param {
    fn from(text: &str) -> Param {
        Param::Text(text.to_owned())
    }
}

impl From<&String> for Param {
    fn from(text: &String) -> Param {
        Param::Text(text.clone())
    }
}

impl From<Note> for Param {
    fn from(note: Note) -> Param {
        Param::Note(Box::new(note))
    }
}

/// `{ key, params: { name: value } }`: a number, a string or a nested note per param.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a [(&'static str, Param)]);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
        let mut s = serializer.serialize_struct("Note", 2)?;
        s.serialize_field("key", self.key)?;
        s.serialize_field("params", &Params(&self.params))?;
        s.end()
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Number(n) => serializer.serialize_u64(*n),
            Param::Text(t) => serializer.serialize_str(t),
            Param::Note(n) => n.serialize(serializer),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_notes_and_counts_are_placeholders() {
        let keys = all_note_keys();
        let unique: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        for text in NOTES {
            assert!(text.key.starts_with("note."), "{}", text.key);
            assert_eq!(find_note(text.key), Some(text));
            if let Some(count) = text.count {
                assert!(placeholders(text.other).contains(&count), "{}", text.key);
                assert!(text.one.is_some(), "{}", text.key);
            }
        }
        assert_eq!(find_note("note.nope"), None);
    }

    #[test]
    fn english_fills_params_and_chooses_the_form_for_one() {
        let one = crate::note!("note.unsolicited", octets = 1_u64);
        assert_eq!(one.english(), "1 octet arrived with no command waiting");
        let two = crate::note!("note.unsolicited", octets = 2_u64);
        assert_eq!(two.english(), "2 octets arrived with no command waiting");
        let closed = crate::note!(
            "note.error.closed",
            reason = crate::note!("note.page-closed")
        );
        assert_eq!(
            closed.english(),
            "the connection closed: closed by the page"
        );
        assert_eq!(Note::from("hello").english(), "hello");
        assert_eq!(closed.to_string(), closed.english());
    }

    #[test]
    fn a_note_serialises_as_key_and_params() {
        let note = crate::note!(
            "note.bad-listing-line",
            number = 3_u64,
            error = crate::note!("note.protocol.bad-unique-id", line = "1 x y")
        );
        assert_eq!(
            serde_json::to_value(&note).unwrap(),
            serde_json::json!({
                "key": "note.bad-listing-line",
                "params": {
                    "number": 3,
                    "error": { "key": "note.protocol.bad-unique-id", "params": { "line": "1 x y" } }
                }
            })
        );
    }
}
