//! The bridge's WebSocket protocol as types: what popwire-bridge and the page's wasm layer say
//! to each other in text frames. No IO; it compiles for wasm32 too, so that both sides use the
//! same definitions (the bridge with `serde_json`, the wasm layer with `serde-wasm-bindgen`).
//!
//! Binary frames carry the POP3 bytes both ways and are not described here. Text frames carry
//! one JSON object each, tagged by `op`:
//!
//! | direction | `op` | type |
//! | --- | --- | --- |
//! | page → bridge | `starttls`, `wire` | [`ClientControl`] |
//! | bridge → page | `connected`, `tls`, `error`, `closed`, `wire` | [`BridgeControl`] |
//!
//! An `error` carries a [`Refusal`] code and is followed by a close with [`close::REFUSED`]
//! (reason: the code). Key order inside an object is not part of the protocol. The whole
//! protocol (URL, limits, the STLS flow, close codes) is written down in
//! `docs/bridge-protocol.md`; [`TYPESCRIPT`] is the same types for the page.

use serde::{Deserialize, Serialize};

/// A control message from the page to the bridge (a text frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClientControl {
    /// `{"op":"starttls"}`: after the server's `+OK` to `STLS`, the bridge starts TLS with the
    /// target (every byte sent before it has been forwarded) and answers with a `tls` message.
    /// Other fields are ignored.
    StartTls,
    /// `{"op":"wire"}`: the page asks to be told what crosses the wire between the bridge and
    /// the server once TLS has begun ([`BridgeControl::Wire`] messages, from now on for the rest
    /// of the session). Other fields are ignored.
    Wire,
}

impl ClientControl {
    /// Every `op` the page may send (for the bridge's refusal message).
    pub const OPS: [&'static str; 2] = ["starttls", "wire"];
}

/// A control message from the bridge to the page (a text frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum BridgeControl {
    /// The first message of every session that reached its target:
    /// `{"op":"connected","target":NAME,"tls":TlsInfo|null}` (`tls` is set for an
    /// implicit-TLS target, which is then followed by a `tls` message too).
    Connected {
        /// The target's configured name.
        target: String,
        /// The TLS facts for an implicit-TLS target, `null` for a plain one.
        tls: Option<TlsInfo>,
    },
    /// `{"op":"tls",version,cipher,verified,peer}`: TLS is up (implicit, or after `starttls`).
    Tls(TlsInfo),
    /// `{"op":"error","code":Refusal,"message":TEXT}`: the session is refused or ended by the
    /// bridge; a close with [`close::REFUSED`] follows.
    Error {
        /// Why, as a code the page can switch on.
        code: Refusal,
        /// A sentence for a person (English; it says what to do about it).
        message: String,
    },
    /// `{"op":"closed","reason":TEXT}`: the server side ended (it closed, the connection failed,
    /// or the bridge is shutting down); a close with [`close::NORMAL`] or
    /// [`close::GOING_AWAY`] follows.
    Closed {
        /// A sentence for a person.
        reason: String,
    },
    /// `{"op":"wire","up":WireDirection,"down":WireDirection}`: what crossed the TCP connection
    /// between the bridge and the server since the TLS handshake began (ciphertext: the TLS
    /// records). Sent only to a page that sent `{"op":"wire"}` and only once TLS has begun: at
    /// once, after the `tls` message of an STLS upgrade, and before the server's bytes of each
    /// reply (the first bytes from the server after the page sent some).
    Wire(WireSample),
}

/// Most octets a [`WireDirection`] sample holds of each thing it records.
pub const WIRE_SAMPLE: usize = 128;

/// What an eavesdropper between the bridge and the server saw since the TLS handshake began,
/// per direction. The bridge records it below TLS, so it is ciphertext (and the handshake's
/// public messages), never plaintext or key material; its size is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSample {
    /// Bridge → server (what the page sent, encrypted).
    pub up: WireDirection,
    /// Server → bridge.
    pub down: WireDirection,
}

/// One direction of a [`WireSample`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireDirection {
    /// Octets that crossed since the handshake began.
    pub octets: u64,
    /// TLS records that began since then (by their headers).
    pub records: u64,
    /// The first octets that crossed (at most [`WIRE_SAMPLE`]): the start of the handshake,
    /// lower-case hex.
    pub first: String,
    /// The start of the latest TLS record that began (at most [`WIRE_SAMPLE`] octets),
    /// lower-case hex.
    pub latest: String,
}

/// The five-octet header that begins every TLS record (RFC 8446 §5.1, RFC 5246 §6.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRecordHeader {
    /// The content type: `change-cipher-spec` (20), `alert` (21), `handshake` (22),
    /// `application-data` (23), else `unknown`. TLS 1.3 sends everything after its
    /// ServerHello as `application-data`, the true type encrypted inside.
    #[serde(rename = "type")]
    pub kind: String,
    /// The version field, hex (`0303`: TLS 1.2's number, which TLS 1.3 keeps in its records;
    /// `0301` in a first ClientHello).
    pub version: String,
    /// The length of the record's body in octets.
    pub length: u16,
}

impl TlsRecordHeader {
    /// The header at the start of `hex` (a [`WireDirection`]'s `first` or `latest`), if five
    /// octets are there.
    pub fn parse(hex: &str) -> Option<TlsRecordHeader> {
        let octet = |i: usize| {
            hex.get(i * 2..i * 2 + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        let [kind, major, minor, high, low] = [0, 1, 2, 3, 4].map(octet);
        let (kind, major, minor, high, low) = (kind?, major?, minor?, high?, low?);
        let kind = match kind {
            20 => "change-cipher-spec",
            21 => "alert",
            22 => "handshake",
            23 => "application-data",
            _ => "unknown",
        };
        Some(TlsRecordHeader {
            kind: kind.to_owned(),
            version: format!("{major:02x}{minor:02x}"),
            length: u16::from_be_bytes([high, low]),
        })
    }
}

impl WireDirection {
    /// A direction from what was recorded: each sample cut to [`WIRE_SAMPLE`] octets and
    /// written as lower-case hex.
    pub fn new(octets: u64, records: u64, first: &[u8], latest: &[u8]) -> WireDirection {
        WireDirection {
            octets,
            records,
            first: hex(first),
            latest: hex(latest),
        }
    }

    /// The record header that begins `first` (the handshake's first record).
    pub fn first_record(&self) -> Option<TlsRecordHeader> {
        TlsRecordHeader::parse(&self.first)
    }

    /// The record header that begins `latest`.
    pub fn latest_record(&self) -> Option<TlsRecordHeader> {
        TlsRecordHeader::parse(&self.latest)
    }
}

/// At most [`WIRE_SAMPLE`] octets as lower-case hex.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(WIRE_SAMPLE * 2);
    for b in bytes.iter().take(WIRE_SAMPLE) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The facts of an established TLS connection with the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// Whether the certificate was verified (false only for `insecure` targets).
    pub verified: bool,
    /// The server's certificate (`null` if it sent none).
    pub peer: Option<PeerInfo>,
}

/// The server certificate's facts a student can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Expiry, RFC 3339 (UTC).
    #[serde(rename = "notAfter")]
    pub not_after: String,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256: String,
}

/// Why the bridge refused or ended a session: the `code` of an `error` message and the reason
/// of the 1008 close that follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// No configured target by that name, or a malformed `?target=` query (before connecting).
    UnknownTarget,
    /// The page's `Origin` is not allowed (before connecting).
    Origin,
    /// A session cap (all clients, or one client address) is reached (before connecting).
    Busy,
    /// A frame or message from the page over the bridge's size cap.
    TooLarge,
    /// No bytes either way for the idle timeout.
    Idle,
    /// The target could not be reached (or did not answer within the connect timeout).
    ConnectFailed,
    /// The TLS handshake (implicit or after `starttls`) failed or timed out, or `starttls` came
    /// on a connection that already has TLS.
    TlsFailed,
    /// A text frame that is not a control message the bridge understands.
    Protocol,
}

impl Refusal {
    /// Every code, in the order the documentation lists them.
    pub const ALL: [Refusal; 8] = [
        Refusal::UnknownTarget,
        Refusal::Origin,
        Refusal::Busy,
        Refusal::TooLarge,
        Refusal::Idle,
        Refusal::ConnectFailed,
        Refusal::TlsFailed,
        Refusal::Protocol,
    ];

    /// The code as it is on the wire (`unknown-target`, `too-large`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownTarget => "unknown-target",
            Refusal::Origin => "origin",
            Refusal::Busy => "busy",
            Refusal::TooLarge => "too-large",
            Refusal::Idle => "idle",
            Refusal::ConnectFailed => "connect-failed",
            Refusal::TlsFailed => "tls-failed",
            Refusal::Protocol => "protocol",
        }
    }

    /// The code named by `text`, if it is one.
    pub fn parse(text: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The WebSocket close codes the bridge sends.
pub mod close {
    /// The server side closed or failed (after a `closed` message), or the page closed first.
    pub const NORMAL: u16 = 1000;
    /// The bridge is shutting down (after a `closed` message).
    pub const GOING_AWAY: u16 = 1001;
    /// A refusal (after an `error` message); the close reason is the [`super::Refusal`] code.
    pub const REFUSED: u16 = 1008;
}

/// The endpoint's path; the one query parameter is `target=NAME`.
pub const PATH: &str = "/bridge";

/// The targets a bridge started with `--demo` adds: its teaching server in plain text (it
/// offers STLS), then with implicit TLS. The bridge names them from here, and the page offers
/// them (the JS `demoTargets()`) when its bridge does not list its targets.
pub const DEMO_TARGETS: [&str; 2] = ["demo", "demo-tls"];

/// The same types in TypeScript, for the page's `.d.ts` (the wasm layer includes this text in
/// its `typescript_custom_section`). Kept in step with the Rust types by this module's tests.
pub const TYPESCRIPT: &str = r#"
/** A refusal code of the bridge: the `code` of an `error` message and the reason of its 1008 close. */
export type BridgeRefusal =
  | "unknown-target" | "origin" | "busy" | "too-large" | "idle"
  | "connect-failed" | "tls-failed" | "protocol";
/** The server certificate's facts, as the bridge reports them. */
export interface BridgePeerInfo { subject: string; issuer: string; notAfter: string; sha256: string }
/** An established TLS connection between the bridge and the target. */
export interface BridgeTlsInfo { version: string; cipher: string; verified: boolean; peer: BridgePeerInfo | null }
/** One direction of what crossed the wire since TLS began: octet and record counts, the first octets and the start of the latest record (lower-case hex). */
export interface BridgeWireDirection { octets: number; records: number; first: string; latest: string }
/** What crossed the TCP connection between the bridge and the server since the TLS handshake began (ciphertext). */
export interface BridgeWireSample { up: BridgeWireDirection; down: BridgeWireDirection }
/** A control message from the page to the bridge (a text frame). */
export type ClientControl = { op: "starttls" } | { op: "wire" };
/** A control message from the bridge to the page (a text frame). */
export type BridgeControl =
  | { op: "connected"; target: string; tls: BridgeTlsInfo | null }
  | ({ op: "tls" } & BridgeTlsInfo)
  | { op: "error"; code: BridgeRefusal; message: string }
  | { op: "closed"; reason: string }
  | ({ op: "wire" } & BridgeWireSample);
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn tls_info() -> TlsInfo {
        TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            verified: true,
            peer: Some(PeerInfo {
                subject: "CN=popwire.demo".into(),
                issuer: "CN=popwire.demo".into(),
                not_after: "2030-01-01T00:00:00Z".into(),
                sha256: "ab12".into(),
            }),
        }
    }

    fn wire_sample() -> WireSample {
        WireSample {
            up: WireDirection::new(1234, 7, &[0x16, 3, 1, 0, 0xf8], &[0x17, 3, 3, 0, 0x17]),
            down: WireDirection::new(5678, 9, &[0x16, 3, 3, 0, 0x7a], &[0x17, 3, 3, 0]),
        }
    }

    /// The exact text each message is sent as (the bridge's `serde_json::to_string`).
    #[test]
    fn the_bridge_messages_are_these_golden_strings() {
        let cases = [
            (
                BridgeControl::Connected {
                    target: "demo".into(),
                    tls: None,
                },
                r#"{"op":"connected","target":"demo","tls":null}"#,
            ),
            (
                BridgeControl::Connected {
                    target: "demo-tls".into(),
                    tls: Some(tls_info()),
                },
                r#"{"op":"connected","target":"demo-tls","tls":{"version":"TLSv1.3","cipher":"TLS13_AES_256_GCM_SHA384","verified":true,"peer":{"subject":"CN=popwire.demo","issuer":"CN=popwire.demo","notAfter":"2030-01-01T00:00:00Z","sha256":"ab12"}}}"#,
            ),
            (
                BridgeControl::Tls(TlsInfo {
                    peer: None,
                    verified: false,
                    ..tls_info()
                }),
                r#"{"op":"tls","version":"TLSv1.3","cipher":"TLS13_AES_256_GCM_SHA384","verified":false,"peer":null}"#,
            ),
            (
                BridgeControl::Error {
                    code: Refusal::UnknownTarget,
                    message: "no such target".into(),
                },
                r#"{"op":"error","code":"unknown-target","message":"no such target"}"#,
            ),
            (
                BridgeControl::Closed {
                    reason: "server closed the connection".into(),
                },
                r#"{"op":"closed","reason":"server closed the connection"}"#,
            ),
            (
                BridgeControl::Wire(wire_sample()),
                r#"{"op":"wire","up":{"octets":1234,"records":7,"first":"16030100f8","latest":"1703030017"},"down":{"octets":5678,"records":9,"first":"160303007a","latest":"17030300"}}"#,
            ),
        ];
        for (message, golden) in cases {
            assert_eq!(serde_json::to_string(&message).unwrap(), golden);
            let back: BridgeControl = serde_json::from_str(golden).unwrap();
            assert_eq!(back, message, "{golden}");
        }
    }

    /// The typed messages are the same JSON objects the bridge built by hand before they were
    /// typed (its `json!` literals, kept here as the record of the wire format).
    #[test]
    fn the_typed_messages_equal_the_former_literals() {
        let info = tls_info();
        let peer = info.peer.clone().unwrap();
        let peer_json = json!({
            "subject": peer.subject, "issuer": peer.issuer,
            "notAfter": peer.not_after, "sha256": peer.sha256,
        });
        let info_json = json!({
            "version": info.version, "cipher": info.cipher,
            "verified": info.verified, "peer": peer_json,
        });
        let cases: [(BridgeControl, Value); 5] = [
            (
                BridgeControl::Connected {
                    target: "school".into(),
                    tls: None,
                },
                json!({"op": "connected", "target": "school", "tls": null}),
            ),
            (
                BridgeControl::Connected {
                    target: "school".into(),
                    tls: Some(info.clone()),
                },
                json!({"op": "connected", "target": "school", "tls": info_json}),
            ),
            (
                BridgeControl::Tls(info.clone()),
                json!({
                    "op": "tls", "version": info.version, "cipher": info.cipher,
                    "verified": info.verified, "peer": peer_json,
                }),
            ),
            (
                BridgeControl::Error {
                    code: Refusal::Busy,
                    message: "too many".into(),
                },
                json!({"op": "error", "code": "busy", "message": "too many"}),
            ),
            (
                BridgeControl::Closed {
                    reason: "the bridge is shutting down".into(),
                },
                json!({"op": "closed", "reason": "the bridge is shutting down"}),
            ),
        ];
        for (message, literal) in cases {
            assert_eq!(serde_json::to_value(&message).unwrap(), literal);
        }
    }

    #[test]
    fn the_page_sends_starttls_and_wire_only() {
        assert_eq!(
            serde_json::to_string(&ClientControl::StartTls).unwrap(),
            r#"{"op":"starttls"}"#
        );
        assert_eq!(
            serde_json::to_string(&ClientControl::Wire).unwrap(),
            r#"{"op":"wire"}"#
        );
        let parse = |text: &str| serde_json::from_str::<ClientControl>(text).ok();
        assert_eq!(parse(r#"{"op":"starttls"}"#), Some(ClientControl::StartTls));
        assert_eq!(parse(r#"{"op":"wire"}"#), Some(ClientControl::Wire));
        assert_eq!(
            parse(r#"{"op":"starttls","extra":1}"#),
            Some(ClientControl::StartTls),
            "other fields are ignored"
        );
        assert_eq!(
            parse(r#"{"op":"wire","keys":true}"#),
            Some(ClientControl::Wire)
        );
        for bad in [
            r#"{"op":"connect","host":"evil"}"#,
            r#"{"op":"STARTTLS"}"#,
            r#"{"op":"WIRE"}"#,
            r#"{"starttls":true}"#,
            r#""starttls""#,
            "STLS",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(ClientControl::OPS, ["starttls", "wire"]);
    }

    #[test]
    fn wire_samples_are_cut_hex_and_their_record_headers_read() {
        let long = [0xabu8; WIRE_SAMPLE + 10];
        let d = WireDirection::new(1, 1, &long, &[]);
        assert_eq!(d.first.len(), WIRE_SAMPLE * 2, "cut to WIRE_SAMPLE octets");
        assert!(d.first.bytes().all(|b| b == b'a' || b == b'b'));
        assert_eq!(d.latest, "");
        assert_eq!(d.latest_record(), None);

        let sample = wire_sample();
        let header = sample.up.first_record().unwrap();
        assert_eq!(header.kind, "handshake");
        assert_eq!(header.version, "0301");
        assert_eq!(header.length, 0xf8);
        let header = sample.up.latest_record().unwrap();
        assert_eq!(header.kind, "application-data");
        assert_eq!(header.version, "0303");
        assert_eq!(header.length, 0x17);
        assert_eq!(
            sample.down.latest_record(),
            None,
            "four octets are not a header"
        );
        for (hex, kind) in [
            ("1403030001", "change-cipher-spec"),
            ("1503030002", "alert"),
            ("2b4f4b2050", "unknown"),
        ] {
            assert_eq!(TlsRecordHeader::parse(hex).unwrap().kind, kind, "{hex}");
        }
        for bad in ["", "16", "zz03030001", "16030300é", "1603030"] {
            assert_eq!(TlsRecordHeader::parse(bad), None, "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&sample.up.first_record().unwrap()).unwrap(),
            r#"{"type":"handshake","version":"0301","length":248}"#
        );
    }

    #[test]
    fn refusal_codes_have_one_string_form() {
        let wire = [
            "unknown-target",
            "origin",
            "busy",
            "too-large",
            "idle",
            "connect-failed",
            "tls-failed",
            "protocol",
        ];
        assert_eq!(Refusal::ALL.map(Refusal::as_str), wire);
        for code in Refusal::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<Refusal>(&json).unwrap(), code);
            assert_eq!(Refusal::parse(code.as_str()), Some(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert_eq!(Refusal::parse("Busy"), None);
        assert!(serde_json::from_str::<Refusal>("\"nope\"").is_err());
    }

    /// One message of each kind. The match does not compile when a variant is added, so a new
    /// message cannot be left out of the checks below.
    fn one_of_each() -> Vec<Value> {
        let messages = [
            BridgeControl::Connected {
                target: String::new(),
                tls: None,
            },
            BridgeControl::Tls(tls_info()),
            BridgeControl::Error {
                code: Refusal::Busy,
                message: String::new(),
            },
            BridgeControl::Closed {
                reason: String::new(),
            },
            BridgeControl::Wire(wire_sample()),
        ];
        for m in &messages {
            match m {
                BridgeControl::Connected { .. }
                | BridgeControl::Tls(_)
                | BridgeControl::Error { .. }
                | BridgeControl::Closed { .. }
                | BridgeControl::Wire(_) => {}
            }
        }
        let client = [ClientControl::StartTls, ClientControl::Wire];
        for c in client {
            match c {
                ClientControl::StartTls | ClientControl::Wire => {}
            }
        }
        let mut out: Vec<Value> = messages
            .iter()
            .map(|m| serde_json::to_value(m).unwrap())
            .collect();
        out.extend(client.map(|c| serde_json::to_value(c).unwrap()));
        out
    }

    /// `Refusal::ALL` holds every variant (the match does not compile when one is added).
    #[test]
    fn every_refusal_is_in_all() {
        for code in Refusal::ALL {
            let index = match code {
                Refusal::UnknownTarget => 0,
                Refusal::Origin => 1,
                Refusal::Busy => 2,
                Refusal::TooLarge => 3,
                Refusal::Idle => 4,
                Refusal::ConnectFailed => 5,
                Refusal::TlsFailed => 6,
                Refusal::Protocol => 7,
            };
            assert_eq!(Refusal::ALL.get(index), Some(&code));
        }
    }

    /// A code or an `op` added in Rust and forgotten in the TypeScript fails here.
    #[test]
    fn the_typescript_names_every_code_and_op() {
        for code in Refusal::ALL {
            assert!(
                TYPESCRIPT.contains(&format!("\"{}\"", code.as_str())),
                "{code}"
            );
        }
        let messages = one_of_each();
        assert_eq!(messages.len(), 7);
        for message in messages {
            let op = message["op"].as_str().unwrap().to_owned();
            assert!(TYPESCRIPT.contains(&format!("op: \"{op}\"")), "{op}");
        }
        for field in [
            "subject", "issuer", "notAfter", "sha256", "version", "cipher", "first", "latest",
        ] {
            assert!(TYPESCRIPT.contains(&format!("{field}: string")), "{field}");
        }
        for field in ["octets", "records"] {
            assert!(TYPESCRIPT.contains(&format!("{field}: number")), "{field}");
        }
    }
}
