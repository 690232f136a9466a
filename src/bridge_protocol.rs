//! The bridge's WebSocket protocol as types: what popwire-bridge and the page's wasm layer say
//! to each other in text frames. No IO; it compiles for wasm32 too, so that both sides use the
//! same definitions (the bridge with `serde_json`, the wasm layer with `serde-wasm-bindgen`).
//!
//! Binary frames carry the POP3 bytes both ways and are not described here. Text frames carry
//! one JSON object each, tagged by `op`:
//!
//! | direction | `op` | type |
//! | --- | --- | --- |
//! | page → bridge | `starttls` | [`ClientControl::StartTls`] |
//! | bridge → page | `connected`, `tls`, `error`, `closed` | [`BridgeControl`] |
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
}

impl ClientControl {
    /// Every `op` the page may send (for the bridge's refusal message).
    pub const OPS: [&'static str; 1] = ["starttls"];
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
/** A control message from the page to the bridge (a text frame). */
export type ClientControl = { op: "starttls" };
/** A control message from the bridge to the page (a text frame). */
export type BridgeControl =
  | { op: "connected"; target: string; tls: BridgeTlsInfo | null }
  | ({ op: "tls" } & BridgeTlsInfo)
  | { op: "error"; code: BridgeRefusal; message: string }
  | { op: "closed"; reason: string };
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
    fn the_page_sends_starttls_only() {
        assert_eq!(
            serde_json::to_string(&ClientControl::StartTls).unwrap(),
            r#"{"op":"starttls"}"#
        );
        let parse = |text: &str| serde_json::from_str::<ClientControl>(text).ok();
        assert_eq!(parse(r#"{"op":"starttls"}"#), Some(ClientControl::StartTls));
        assert_eq!(
            parse(r#"{"op":"starttls","extra":1}"#),
            Some(ClientControl::StartTls),
            "other fields are ignored"
        );
        for bad in [
            r#"{"op":"connect","host":"evil"}"#,
            r#"{"op":"STARTTLS"}"#,
            r#"{"starttls":true}"#,
            r#""starttls""#,
            "STLS",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(ClientControl::OPS, ["starttls"]);
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
        ];
        for m in &messages {
            match m {
                BridgeControl::Connected { .. }
                | BridgeControl::Tls(_)
                | BridgeControl::Error { .. }
                | BridgeControl::Closed { .. } => {}
            }
        }
        match ClientControl::StartTls {
            ClientControl::StartTls => {}
        }
        let mut out: Vec<Value> = messages
            .iter()
            .map(|m| serde_json::to_value(m).unwrap())
            .collect();
        out.push(serde_json::to_value(ClientControl::StartTls).unwrap());
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
        assert_eq!(messages.len(), 5);
        for message in messages {
            let op = message["op"].as_str().unwrap().to_owned();
            assert!(TYPESCRIPT.contains(&format!("op: \"{op}\"")), "{op}");
        }
        for field in [
            "subject", "issuer", "notAfter", "sha256", "version", "cipher",
        ] {
            assert!(TYPESCRIPT.contains(&format!("{field}: string")), "{field}");
        }
    }
}
