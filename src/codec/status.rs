//! Status lines (`+OK` / `-ERR`, RFC 1939 §3), response codes (RFC 2449 §8, RFC 3206) and SASL
//! continuations (`+ base64`, RFC 5034 §4).

use serde::Serialize;

use super::error::ProtocolError;
use crate::explain::Explain;

/// The status indicator of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// `+OK`
    Ok,
    /// `-ERR`
    Err,
}

/// An RFC 2449 §8 response code, e.g. the `IN-USE` of `-ERR [IN-USE] mailbox locked`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseCode {
    /// `[IN-USE]`: the maildrop is locked by another session (RFC 2449 §8.1.2).
    InUse,
    /// `[LOGIN-DELAY]`: logged in too recently (RFC 2449 §8.1.1).
    LoginDelay,
    /// `[SYS/TEMP]`: a temporary system problem; try later (RFC 3206 §4).
    SysTemp,
    /// `[SYS/PERM]`: a permanent system problem (RFC 3206 §4).
    SysPerm,
    /// `[AUTH]`: the credentials were wrong, not a system problem (RFC 3206 §5).
    Auth,
    /// `[UTF8]`: UTF-8 mode is required or active (RFC 6856 §2).
    Utf8,
    /// A known code with further levels popwire does not know, e.g. `SYS/TEMP/QUOTA`: it means
    /// what its nearest known ancestor means (RFC 2449 §8: a client ignores levels it does not
    /// know). `text` is the whole code as sent.
    Detailed {
        /// The nearest known ancestor, e.g. [`ResponseCode::SysTemp`] for `SYS/TEMP/QUOTA`.
        known: Box<ResponseCode>,
        /// The code as sent, every level included.
        text: String,
    },
    /// Any other code, kept as sent (e.g. `X-FOO`, or `SYS/FOO`: `SYS` alone is not a code).
    Other(String),
}

impl ResponseCode {
    /// Parses the text between the brackets. A code with levels beyond a known one (RFC 2449 §8)
    /// becomes [`ResponseCode::Detailed`] around the nearest known ancestor.
    pub fn from_text(text: &str) -> ResponseCode {
        if let Some(code) = ResponseCode::exact(text) {
            return code;
        }
        // The longest known ancestor: `A/B/C` tries `A/B`, then `A`.
        let mut prefix = text;
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if let Some(known) = ResponseCode::exact(parent) {
                return ResponseCode::Detailed {
                    known: Box::new(known),
                    text: text.to_owned(),
                };
            }
            prefix = parent;
        }
        ResponseCode::Other(text.to_owned())
    }

    /// The codes popwire knows, by their exact (case-insensitive) text.
    fn exact(text: &str) -> Option<ResponseCode> {
        Some(match text.to_ascii_uppercase().as_str() {
            "IN-USE" => ResponseCode::InUse,
            "LOGIN-DELAY" => ResponseCode::LoginDelay,
            "SYS/TEMP" => ResponseCode::SysTemp,
            "SYS/PERM" => ResponseCode::SysPerm,
            "AUTH" => ResponseCode::Auth,
            "UTF8" => ResponseCode::Utf8,
            _ => return None,
        })
    }

    /// The code as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ResponseCode::InUse => "IN-USE",
            ResponseCode::LoginDelay => "LOGIN-DELAY",
            ResponseCode::SysTemp => "SYS/TEMP",
            ResponseCode::SysPerm => "SYS/PERM",
            ResponseCode::Auth => "AUTH",
            ResponseCode::Utf8 => "UTF8",
            ResponseCode::Detailed { text, .. } | ResponseCode::Other(text) => text,
        }
    }

    /// What the code means to a client: the nearest known code (`SYS/TEMP` for
    /// `SYS/TEMP/QUOTA`), or the code itself.
    pub fn meaning(&self) -> &ResponseCode {
        match self {
            ResponseCode::Detailed { known, .. } => known.meaning(),
            other => other,
        }
    }

    /// The stable explanation key, `code.IN-USE` etc.; a detailed code has its known ancestor's
    /// key, unknown codes share `code.other`.
    pub fn explain_key(&self) -> &'static str {
        self.explain().key
    }

    /// What the code means ([`ResponseCode::explain_key`]), checked against the table at
    /// compile time.
    pub fn explain(&self) -> Explain {
        match self.meaning() {
            ResponseCode::InUse => crate::explain!("code.IN-USE"),
            ResponseCode::LoginDelay => crate::explain!("code.LOGIN-DELAY"),
            ResponseCode::SysTemp => crate::explain!("code.SYS/TEMP"),
            ResponseCode::SysPerm => crate::explain!("code.SYS/PERM"),
            ResponseCode::Auth => crate::explain!("code.AUTH"),
            ResponseCode::Utf8 => crate::explain!("code.UTF8"),
            ResponseCode::Detailed { .. } | ResponseCode::Other(_) => crate::explain!("code.other"),
        }
    }
}

impl Serialize for ResponseCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `+OK` / `-ERR` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusLine {
    /// `+OK` or `-ERR`.
    pub status: Status,
    /// The response code in brackets right after the indicator, if any.
    pub code: Option<ResponseCode>,
    /// The human-readable text after the indicator (and code), lossily decoded.
    pub text: String,
}

impl StatusLine {
    /// Whether this is `+OK`.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// Parses a status line given without its CRLF.
    pub fn parse(line: &[u8]) -> Result<StatusLine, ProtocolError> {
        let (status, rest) = if let Some(rest) = line.strip_prefix(b"+OK") {
            (Status::Ok, rest)
        } else if let Some(rest) = line.strip_prefix(b"-ERR") {
            (Status::Err, rest)
        } else {
            return Err(ProtocolError::BadStatus { line: lossy(line) });
        };
        let rest = match rest.first() {
            None => rest,
            Some(b' ') => rest.get(1..).unwrap_or_default(),
            Some(_) => return Err(ProtocolError::BadStatus { line: lossy(line) }),
        };
        let (code, text) = split_code(rest);
        Ok(StatusLine {
            status,
            code,
            text: lossy(text),
        })
    }

    /// Encodes a status line with CRLF (the server's direction). `text` must hold no CR or LF;
    /// any it holds are replaced by spaces so that one reply stays one line.
    pub fn encode(status: Status, code: Option<&ResponseCode>, text: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(match status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = code {
            out.extend_from_slice(b" [");
            out.extend_from_slice(code.as_str().as_bytes());
            out.push(b']');
        }
        if !text.is_empty() {
            out.push(b' ');
            out.extend(
                text.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Splits an optional `[resp-code]` off the front of a status text (RFC 2449 §8 grammar:
/// levels of `schar` separated by `/`). A bracket that is not a well-formed code stays text.
fn split_code(rest: &[u8]) -> (Option<ResponseCode>, &[u8]) {
    let Some(inner_start) = rest.strip_prefix(b"[") else {
        return (None, rest);
    };
    let Some(close) = memchr::memchr(b']', inner_start) else {
        return (None, rest);
    };
    let (inner, after) = inner_start.split_at(close.min(inner_start.len()));
    let well_formed = !inner.is_empty()
        && inner
            .split(|&b| b == b'/')
            .all(|level| !level.is_empty() && level.iter().all(|&b| is_schar(b)));
    if !well_formed {
        return (None, rest);
    }
    let after = after.strip_prefix(b"]").unwrap_or(after);
    let after = after.strip_prefix(b" ").unwrap_or(after);
    // `inner` is ASCII by construction.
    (
        Some(ResponseCode::from_text(&String::from_utf8_lossy(inner))),
        after,
    )
}

/// RFC 2449 §9 `schar`: %x21-2E / %x30-5C / %x5E-7F (no space, `/` or `]`).
fn is_schar(b: u8) -> bool {
    matches!(b, 0x21..=0x2E | 0x30..=0x5C | 0x5E..=0x7F)
}

/// A SASL server challenge line: `+ base64` or a lone `+` (RFC 5034 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The base64 text after `+ ` (still encoded; may be empty).
    pub encoded: Vec<u8>,
}

impl Continuation {
    /// Recognises a continuation line; `None` if the line is not one (e.g. it is `+OK`).
    pub fn parse(line: &[u8]) -> Option<Continuation> {
        match line {
            [b'+'] => Some(Continuation {
                encoded: Vec::new(),
            }),
            [b'+', b' ', rest @ ..] => Some(Continuation {
                encoded: rest.to_vec(),
            }),
            _ => None,
        }
    }
}

/// Lossy UTF-8 decoding of wire text.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_ok_and_err_with_and_without_text() {
        let ok = StatusLine::parse(b"+OK").unwrap();
        assert!(ok.is_ok() && ok.text.is_empty() && ok.code.is_none());
        let err = StatusLine::parse(b"-ERR no such message").unwrap();
        assert_eq!(err.status, Status::Err);
        assert_eq!(err.text, "no such message");
    }

    #[test]
    fn parses_response_codes() {
        let l = StatusLine::parse(b"-ERR [SYS/TEMP] try again").unwrap();
        assert_eq!(l.code, Some(ResponseCode::SysTemp));
        assert_eq!(l.text, "try again");
        let l = StatusLine::parse(b"-ERR [IN-USE] locked").unwrap();
        assert_eq!(l.code, Some(ResponseCode::InUse));
        let l = StatusLine::parse(b"-ERR [AUTH]").unwrap();
        assert_eq!((l.code, l.text.as_str()), (Some(ResponseCode::Auth), ""));
        let l = StatusLine::parse(b"-ERR [X-FOO/BAR] odd").unwrap();
        assert_eq!(l.code, Some(ResponseCode::Other("X-FOO/BAR".into())));
        assert_eq!(l.code.as_ref().unwrap().explain_key(), "code.other");
    }

    #[test]
    fn hierarchical_codes_keep_their_parents_meaning() {
        // RFC 2449 §8: levels a client does not know are ignored; the code means its parent.
        let l = StatusLine::parse(b"-ERR [SYS/TEMP/QUOTA] over quota, try later").unwrap();
        let code = l.code.unwrap();
        assert_eq!(code.as_str(), "SYS/TEMP/QUOTA", "the full text is kept");
        assert_eq!(code.meaning(), &ResponseCode::SysTemp);
        assert_eq!(code.explain_key(), "code.SYS/TEMP");
        assert_eq!(l.text, "over quota, try later");
        let deep = ResponseCode::from_text("auth/expired/x-y");
        assert_eq!(deep.meaning(), &ResponseCode::Auth);
        assert_eq!(deep.as_str(), "auth/expired/x-y");
        assert_eq!(
            ResponseCode::from_text("IN-USE/OTHER-HOST").explain_key(),
            "code.IN-USE"
        );
        // SYS alone is no code: SYS/FOO has no known ancestor.
        assert_eq!(
            ResponseCode::from_text("SYS/FOO"),
            ResponseCode::Other("SYS/FOO".into())
        );
        assert_eq!(
            ResponseCode::from_text("SYS/FOO").explain_key(),
            "code.other"
        );
        let mut out = Vec::new();
        StatusLine::encode(Status::Err, Some(&deep), "x", &mut out);
        assert_eq!(out, b"-ERR [auth/expired/x-y] x\r\n");
    }

    #[test]
    fn malformed_codes_stay_text() {
        for line in [
            &b"-ERR [unclosed"[..],
            b"-ERR [] empty",
            b"-ERR [A B] sp",
            b"-ERR [A//B] x",
        ] {
            let l = StatusLine::parse(line).unwrap();
            assert_eq!(l.code, None, "{:?}", String::from_utf8_lossy(line));
            assert!(l.text.starts_with('['));
        }
    }

    #[test]
    fn rejects_other_indicators() {
        for line in [&b"+ok"[..], b"OK", b"+OKAY", b"-ERROR x", b"", b"\xff\xfe"] {
            assert!(matches!(
                StatusLine::parse(line),
                Err(ProtocolError::BadStatus { .. })
            ));
        }
    }

    #[test]
    fn non_utf8_text_is_kept_lossily() {
        let l = StatusLine::parse(b"+OK caf\xe9").unwrap();
        assert_eq!(l.text, "caf\u{fffd}");
    }

    #[test]
    fn continuation_lines() {
        assert_eq!(Continuation::parse(b"+ YWJj").unwrap().encoded, b"YWJj");
        assert_eq!(Continuation::parse(b"+").unwrap().encoded, b"");
        assert_eq!(Continuation::parse(b"+ ").unwrap().encoded, b"");
        assert!(Continuation::parse(b"+OK").is_none());
    }

    #[test]
    fn encodes_one_line_whatever_the_text() {
        let mut out = Vec::new();
        StatusLine::encode(Status::Err, Some(&ResponseCode::InUse), "a\r\nb", &mut out);
        assert_eq!(out, b"-ERR [IN-USE] a  b\r\n");
    }
}
