//! POP3 authentication: APOP (RFC 1939 §7) and the SASL mechanisms used with `AUTH`
//! (RFC 5034): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195).
//!
//! Everything here is pure computation: no IO, no clock, no randomness. Nonces and
//! timestamps (the APOP banner timestamp, the CRAM-MD5 challenge) are passed in by the caller.
//! SASL state machines work on raw, already-decoded bytes; [`encode_base64`] and
//! [`decode_base64`] convert to and from the base64 text carried on the wire.

mod apop;
mod sasl;

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

pub use apop::{apop_digest, verify_apop};
pub use sasl::{
    cram_md5_digest, parse_plain, PlainCredentials, Proof, SaslClient, SaslServer, ServerStep,
};

/// Errors raised while authenticating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The named SASL mechanism is not one popwire speaks.
    #[error("unknown SASL mechanism {0}")]
    UnknownMechanism(String),
    /// A challenge or response is not valid (standard, padded) base64.
    #[error("SASL challenge or response is not valid base64")]
    InvalidBase64,
    /// A user name or secret cannot be used with the chosen mechanism; the text says why.
    #[error("invalid credential: {0}")]
    InvalidCredential(&'static str),
    /// The server sent a challenge after the exchange should have finished.
    #[error("server sent a challenge after the SASL exchange should have finished")]
    UnexpectedChallenge,
    /// A client response the server cannot parse (or a step out of order); the text says why.
    #[error("malformed SASL response: {0}")]
    Malformed(&'static str),
}

/// SASL mechanisms popwire speaks (RFC 4616 PLAIN, draft-murchison-sasl-login LOGIN,
/// RFC 2195 CRAM-MD5).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): `authzid NUL authcid NUL passwd` in one message.
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login): user name and password in two responses.
    Login,
    /// `CRAM-MD5` (RFC 2195): HMAC-MD5 of a server challenge keyed with the shared secret.
    CramMd5,
}

impl Mechanism {
    /// Every mechanism, in the order popwire prefers to list them.
    pub const ALL: [Mechanism; 3] = [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5];

    /// The IANA mechanism name: `"PLAIN"`, `"LOGIN"` or `"CRAM-MD5"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }

    /// Looks a mechanism up by name, ignoring ASCII case.
    pub fn parse(name: &str) -> Option<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the client sends the first message (an initial response on the `AUTH` line).
    /// `PLAIN`: yes; `LOGIN` and `CRAM-MD5`: no, the server speaks first.
    pub fn has_initial_response(self) -> bool {
        matches!(self, Mechanism::Plain)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mechanism {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mechanism::parse(s).ok_or_else(|| AuthError::UnknownMechanism(s.to_owned()))
    }
}

/// Encodes bytes as base64 (standard alphabet, padded), as carried in SASL lines.
pub fn encode_base64(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Strictly decodes base64 (standard alphabet, canonical padding). Surrounding whitespace is
/// not tolerated; empty input decodes to an empty vector.
pub fn decode_base64(text: &[u8]) -> Result<Vec<u8>, AuthError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| AuthError::InvalidBase64)
}

/// Compares two byte strings in time that depends only on their lengths, not their contents.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                *DIGITS.get(usize::from(nibble)).unwrap_or(&b'0'),
            ));
        }
    }
    out
}

/// Decodes exactly 32 hex digits (either case) into an MD5-sized digest.
pub(crate) fn parse_hex_md5(text: &str) -> Option<[u8; 16]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *slot = (nibble(*high)? << 4) | nibble(*low)?;
    }
    Some(out)
}

/// Whether `digest_hex` (32 hex digits, either case) spells `expected`, compared in constant time.
pub(crate) fn verify_hex_md5(expected: &[u8; 16], digest_hex: &str) -> bool {
    match parse_hex_md5(digest_hex) {
        Some(given) => ct_eq(expected, &given),
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    #[test]
    fn mechanism_names_round_trip() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::parse(m.as_str()), Some(m));
            assert_eq!(m.to_string(), m.as_str());
            assert_eq!(m.as_str().parse::<Mechanism>(), Ok(m));
        }
        assert_eq!(Mechanism::parse("cram-md5"), Some(Mechanism::CramMd5));
        assert_eq!(Mechanism::parse("pLaIn"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::parse("login"), Some(Mechanism::Login));
        assert_eq!(Mechanism::parse("GSSAPI"), None);
        assert_eq!(Mechanism::parse(""), None);
        assert_eq!(Mechanism::parse("PLAIN "), None);
        assert_eq!(
            "XOAUTH2".parse::<Mechanism>(),
            Err(AuthError::UnknownMechanism("XOAUTH2".into()))
        );
    }

    #[test]
    fn initial_response_flags() {
        assert!(Mechanism::Plain.has_initial_response());
        assert!(!Mechanism::Login.has_initial_response());
        assert!(!Mechanism::CramMd5.has_initial_response());
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            AuthError::UnknownMechanism("X".into()).to_string(),
            "unknown SASL mechanism X"
        );
        assert!(AuthError::InvalidCredential("user name contains NUL")
            .to_string()
            .contains("user name contains NUL"));
    }

    #[test]
    fn mechanism_serializes() {
        assert_eq!(
            serde_json::to_string(&Mechanism::CramMd5).unwrap(),
            "\"CramMd5\""
        );
    }

    #[test]
    fn base64_basics() {
        assert_eq!(encode_base64(b""), "");
        assert_eq!(encode_base64(b"\0tim\0tanstaaf"), "AHRpbQB0YW5zdGFhZg==");
        assert_eq!(decode_base64(b"").unwrap(), b"");
        assert_eq!(
            decode_base64(b"AHRpbQB0YW5zdGFhZg==").unwrap(),
            b"\0tim\0tanstaaf"
        );
    }

    #[test]
    fn base64_rejects_garbage() {
        for bad in [
            &b"*"[..],
            b"not base64!",
            b"AHRpbQB0YW5zdGFhZg",    // missing padding
            b"AHRpbQB0YW5zdGFhZg=",   // short padding
            b" AHRpbQB0YW5zdGFhZg==", // leading space
            b"AHRpbQB0YW5zdGFhZg==\r\n",
            b"AHRp bQB0YW5zdGFhZg==",
            b"QQ==QQ==",
            b"QR==", // non-canonical trailing bits
            b"A",
            b"\xff\xfe",
            b"-_-_", // URL-safe alphabet
        ] {
            assert_eq!(decode_base64(bad), Err(AuthError::InvalidBase64), "{bad:?}");
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let d = parse_hex_md5("c4c9334bac560ecc979e58001b3e22FB").unwrap();
        assert_eq!(to_hex(&d), "c4c9334bac560ecc979e58001b3e22fb");
        assert_eq!(parse_hex_md5("c4c9334bac560ecc979e58001b3e22f"), None);
        assert_eq!(parse_hex_md5("c4c9334bac560ecc979e58001b3e22fg"), None);
        assert_eq!(parse_hex_md5("+4c9334bac560ecc979e58001b3e22fb"), None);
        assert_eq!(parse_hex_md5("é4c9334bac560ecc979e58001b3e22f"), None);
    }

    #[test]
    fn ct_eq_basics() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn base64_round_trip(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode_base64(&raw);
            prop_assert_eq!(decode_base64(text.as_bytes()).unwrap(), raw);
        }

        #[test]
        fn decode_never_panics(text in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_base64(&text);
        }

        #[test]
        fn hex_round_trip(raw in any::<[u8; 16]>()) {
            let hex = to_hex(&raw);
            prop_assert_eq!(parse_hex_md5(&hex), Some(raw));
            prop_assert_eq!(parse_hex_md5(&hex.to_ascii_uppercase()), Some(raw));
            prop_assert!(verify_hex_md5(&raw, &hex));
        }

        #[test]
        fn mechanism_parse_never_panics(name in "\\PC{0,12}") {
            if let Some(m) = Mechanism::parse(&name) {
                prop_assert!(m.as_str().eq_ignore_ascii_case(&name));
            }
        }
    }
}
