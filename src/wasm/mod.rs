//! The JavaScript API (wasm32 only): one thin `wasm_bindgen` layer over the engine.
//!
//! `Pop3Client` drives [`crate::Client`] over a transport (today a browser WebSocket to
//! popwire-bridge); the free functions expose the engine's validation, MIME parsing and
//! explanation keys. Data crosses with serde-wasm-bindgen; every failure goes through one
//! mapping function to a `Pop3Error`.
//!
//! | module | job |
//! | --- | --- |
//! | `client` | the JS surface of `Pop3Client`: methods, promises, callbacks, `connect()`'s options |
//! | `session` | one session: engine, pending promises, callbacks, the driving loop; runs JS only with no borrow held |
//! | `transport` | the seam to the server: the `Transport` trait, its events, the `Sink` (how to add one: its docs) |
//! | `transport::bridge` | the WebSocket to popwire-bridge: binary frames, the `bridge_protocol` control messages, the close |
//! | `timer` | the global scope's clock and the one re-armable timer of a session |
//! | `mirror` | bodies streaming to JS: the RETR mirror (a `Uint8Array` of LIST's size) and `retrStream` |
//! | `convert` | the one place engine values and errors become JS values |

mod client;
mod convert;
mod mirror;
mod session;
mod timer;
mod transport;

use js_sys::Object;
use wasm_bindgen::prelude::*;

pub use client::Pop3Client;

use crate::client::SessionState;
use crate::codec::check_line;
use convert::{set, to_js};

/// What `send()` checks, without sending: `{ ok: true, command, allowed, multiline }` or
/// `{ ok: false, reason, explain: { key, rfc } }`. `allowed` says whether RFC 1939's table
/// allows the command in `state` (a raw command is sent either way).
#[wasm_bindgen(js_name = checkCommand, unchecked_return_type = "CheckResult")]
pub fn check_command(
    line: &str,
    #[wasm_bindgen(unchecked_param_type = "SessionState")] state: &str,
) -> JsValue {
    let out = Object::new();
    match check_line(line, true) {
        Ok(checked) => {
            let state = SessionState::parse(state).unwrap_or(SessionState::Authorization);
            let keyword = checked.command.keyword();
            set(&out, "ok", true);
            set(&out, "command", checked.command.name().as_str());
            set(&out, "allowed", keyword.is_some_and(|k| state.allows(k)));
            set(&out, "multiline", checked.command.expects_multiline());
        }
        Err(err) => {
            set(&out, "ok", false);
            set(&out, "reason", err.to_string().as_str());
            let explain = crate::explain::lookup(err.explain_key());
            set(
                &out,
                "explain",
                explain.map(|e| to_js(&e)).unwrap_or(JsValue::NULL),
            );
        }
    }
    out.into()
}

/// `{ headers, subject, from, to, date, text, html, parts }` of a message's bytes.
#[wasm_bindgen(js_name = parseMessage, unchecked_return_type = "ParsedMessage")]
pub fn parse_message(bytes: &[u8]) -> JsValue {
    to_js(&crate::mime::parse_message(bytes))
}

/// `{ doc, removed }`: a message's HTML made inert for a sandboxed `srcdoc` frame (feature
/// `html`: the parse worker's module only). See [`crate::mime::html`].
#[cfg(feature = "html")]
#[wasm_bindgen(js_name = inertHtml, unchecked_return_type = "InertHtml")]
pub fn inert_html(html: &str) -> JsValue {
    to_js(&crate::mime::html::inert_html(html))
}

/// Every explanation key the engine can emit.
#[wasm_bindgen(js_name = explainKeys, unchecked_return_type = "string[]")]
pub fn explain_keys() -> js_sys::Array {
    convert::strings(crate::explain::all_keys())
}

/// The RFC section of an explanation key, or `null`.
#[wasm_bindgen(js_name = explainRfc)]
pub fn explain_rfc(key: &str) -> Option<String> {
    crate::explain::lookup(key).map(|e| e.rfc.to_owned())
}

/// The bridge's control messages in TypeScript (`BridgeControl`, `BridgeRefusal`, …), from
/// [`crate::bridge_protocol`]: the codes a `Pop3Error` of kind `bridge` carries.
#[wasm_bindgen(typescript_custom_section)]
const BRIDGE_TYPES: &'static str = crate::bridge_protocol::TYPESCRIPT;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A session state. */
export type SessionState = "AUTHORIZATION" | "TRANSACTION" | "UPDATE" | "CLOSED";
/** SASL mechanisms the engine drives. */
export type SaslMechanism = "PLAIN" | "LOGIN" | "CRAM-MD5";
/** Options of Pop3Client.connect(). `maxBodyBytes` caps every multi-line reply (default
 * 67108864 = 64 MiB; a whole number from 1 to 1073741824 = 1 GiB, else connect() rejects with
 * kind "input"); a larger reply rejects with kind "limit". */
export interface ConnectOptions { bridge: string; target: string; timeoutMs?: number; maxBodyBytes?: number }
/** An explanation reference. */
export interface Explain { key: string; rfc: string }
/** One transcript entry. */
export interface TranscriptEntry {
  seq: number; dir: "client" | "server" | "info"; text: string; bytes: Uint8Array; atMs: number;
  masked: boolean; truncated: boolean; totalBytes: number; explain: Explain;
}
/** The server's greeting. */
export interface Greeting { text: string; apopTimestamp: string | null }
/** Progress of a streaming multi-line reply. */
export interface Progress { handle: number; command: string; id: number | null; received: number; expected: number | null }
/** The bridge's TLS information. */
export interface TlsInfo {
  op?: "tls"; version: string; cipher: string; verified: boolean;
  peer: { subject: string; issuer: string; notAfter: string; sha256: string };
}
/** A single-line reply. */
export interface StatusReply { ok: boolean; text: string; code: string | null }
export interface Stat { count: number; size: number }
export interface ListEntry { id: number; size: number }
export interface UidlEntry { id: number; uid: string }
export interface Capability { name: string; args: string[] }
/** RETR / TOP: the message, dot-stuffing removed, CRLF kept. */
export interface MessageData { bytes: Uint8Array; text: string }
/** retrStream(): the message went to the callback in pieces; this is its size in octets. */
export interface StreamedMessage { size: number }
/** The reply to a raw command. */
export interface RawReply { ok: boolean; continuation: boolean; text: string; code: string | null; lines: string[] }
/** What checkCommand() says. */
export type CheckResult =
  | { ok: true; command: string; allowed: boolean; multiline: boolean }
  | { ok: false; reason: string; explain: Explain | null };
/** parseMessage()'s result. */
export interface ParsedMessage {
  headers: { name: string; value: string }[]; subject: string | null; from: string | null; to: string | null;
  date: string | null; text: string | null; html: string | null;
  parts: { path: string; contentType: string; filename: string | null; size: number }[];
}
/** inertHtml()'s result (the parse worker's module, popwire_mail.js). */
export interface InertHtml {
  doc: string;
  removed: { scripts: number; handlers: number; remote: number; styles: number; forms: number; links: number };
}
/** Every rejection of the API. */
export interface Pop3Error extends Error {
  name: "Pop3Error";
  kind: "server" | "state" | "input" | "limit" | "protocol" | "network" | "timeout" | "bridge";
  code: string | null;
  explain: Explain | null;
}
"#;
