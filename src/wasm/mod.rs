//! The JavaScript API (wasm32 only): one thin `wasm_bindgen` layer over the engine.
//!
//! `Pop3Client` drives [`crate::Client`] over a transport (a browser WebSocket to
//! popwire-bridge, or a `MessageChannel` to the in-browser teaching server's Web Worker); the
//! free functions expose the engine's validation, MIME parsing and explanation keys. Data crosses with serde-wasm-bindgen; every failure goes through one
//! mapping function to a `Pop3Error`.
//!
//! | module | job |
//! | --- | --- |
//! | `client` | the JS surface of `Pop3Client`: methods, promises, callbacks, `connect()`'s options |
//! | `session` | one session: engine, pending promises, callbacks, the driving loop; runs JS only with no borrow held |
//! | `transport` | the seam to the server: the `Transport` trait, its events, the `Sink` (how to add one: its docs) |
//! | `transport::bridge` | the WebSocket to popwire-bridge: binary frames, the `bridge_protocol` control messages, the close |
//! | `transport::worker` | the `MessageChannel` to the in-browser server (a simulated server in a Web Worker); `inBrowserServer()` |
//! | `timer` | the global scope's clock and the one re-armable timer of a session |
//! | `mirror` | bodies streaming to JS: the RETR mirror (a `Uint8Array` of LIST's size) and `retrStream` |
//! | `convert` | the one place engine values and errors become JS values |
//!
//! The imports go one way: `client` → `session` → `transport`. The session resolves
//! `connect()` with the handle `client` gives it (it does not know `Pop3Client`), and a
//! transport hears nothing of the session but its `Sink`, a function.

mod client;
mod convert;
mod mirror;
mod session;
mod timer;
mod transport;

use js_sys::Object;
use wasm_bindgen::prelude::*;

pub use client::Pop3Client;

use crate::auth::{encode_base64, AuthError, Mechanism, SaslClient};
use crate::bridge_protocol::Refusal;
use crate::client::{CheckedLine, SessionState};
use crate::codec::check_line;
use crate::Pop3Error;
use convert::{set, to_js};

/// What `send()` checks, without a session: `{ ok: true, command, keyword, allowed,
/// multiline, masked, saslResponse, explain }` or `{ ok: false, reason, kind, explain }`.
/// `allowed` says whether RFC 1939's table allows the command in `state` (a raw command is sent
/// either way). `utf8` is the session's UTF-8 mode (RFC 6856: non-ASCII only after `UTF8`);
/// absent, non-ASCII is accepted as before. It knows nothing of a session's SASL exchange, queue
/// or capabilities: with a session, `client.check(line)` is exactly what `send()` will do.
#[wasm_bindgen(js_name = checkCommand, unchecked_return_type = "CheckResult")]
pub fn check_command(
    line: &str,
    #[wasm_bindgen(unchecked_param_type = "SessionState")] state: &str,
    utf8: Option<bool>,
) -> JsValue {
    let state = SessionState::parse(state).unwrap_or(SessionState::Authorization);
    let result = check_line(line, utf8.unwrap_or(true))
        .map_err(Pop3Error::from)
        .map(|checked| {
            let keyword = checked.command.keyword();
            let bytes = checked.encode();
            CheckedLine {
                sasl_response: false,
                command: checked.command.name(),
                keyword,
                allowed: keyword.is_some_and(|k| state.allows(k)),
                multiline: checked.command.expects_multiline(),
                masked: checked.command.secret_range(&bytes).is_some(),
                explain: crate::explain::command_key(keyword),
            }
        });
    convert::check_result(result)
}

/// Every command the engine knows, with its arguments (which are secret), the states where RFC
/// 1939's table allows it, its multi-line rule, its `cmd.` explanation and whether it is a
/// pipelining barrier ([`crate::codec::commands`]).
#[wasm_bindgen(unchecked_return_type = "CommandMeta[]")]
pub fn commands() -> JsValue {
    to_js(&crate::codec::commands())
}

/// The base64 response a SASL `mechanism` (`PLAIN`, `LOGIN`, `CRAM-MD5`) gives to the
/// `step`-th challenge of an exchange (from 0; `challenge` its decoded octets, as a transcript
/// entry's `challenge.bytes`), from the engine's SASL client: PLAIN `\0user\0secret`, LOGIN the
/// user name then the secret, CRAM-MD5 `user digest`. For a person typing the exchange by hand;
/// throws a `Pop3Error` of kind `input` for an unknown mechanism, bad credentials or a step the
/// mechanism does not have.
#[wasm_bindgen(js_name = saslResponse)]
pub fn sasl_response(
    #[wasm_bindgen(unchecked_param_type = "SaslMechanism")] mechanism: &str,
    user: &str,
    secret: &str,
    step: u32,
    challenge: Option<Vec<u8>>,
) -> Result<String, JsValue> {
    let fail = |err: AuthError| convert::pop3_error(&Pop3Error::Credentials(err), None);
    let mechanism = Mechanism::parse(mechanism)
        .ok_or_else(|| fail(AuthError::UnknownMechanism(mechanism.to_owned())))?;
    let mut sasl = SaslClient::new(mechanism, user, secret).map_err(fail)?;
    for _ in 0..step {
        sasl.respond(&[]).map_err(fail)?;
    }
    let response = sasl
        .respond(challenge.as_deref().unwrap_or_default())
        .map_err(fail)?;
    Ok(encode_base64(&response))
}

/// APOP's digest (RFC 1939 §7): the lower-case hex MD5 of `timestamp` (the greeting's
/// `apopTimestamp`, angle brackets included) followed by `secret`, from the engine's md-5 —
/// exactly what `client.apop(name, secret)` sends after the name. For a person computing it by
/// hand; any strings are accepted (a timestamp from another greeting gives another digest).
#[wasm_bindgen(js_name = apopDigest)]
pub fn apop_digest(timestamp: &str, secret: &str) -> String {
    crate::auth::apop_digest(timestamp, secret)
}

/// A CAPA body (a transcript entry's `text`, one capability a line) read by the engine's CAPA
/// parser: `[{ name, args }]`, lines that do not parse left out (as a typed `capa()` does).
#[wasm_bindgen(js_name = parseCapabilities, unchecked_return_type = "Capability[]")]
pub fn parse_capabilities(body: &str) -> JsValue {
    let capabilities: Vec<_> = body
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty() && *line != ".")
        .filter_map(|line| crate::codec::parse_capa_line(line.as_bytes()).ok())
        .collect();
    to_js(&capabilities)
}

/// Every refusal code of the bridge (a `Pop3Error` of kind `bridge` carries one as `code`), from
/// [`crate::bridge_protocol::Refusal::ALL`].
#[wasm_bindgen(js_name = bridgeRefusals, unchecked_return_type = "BridgeRefusal[]")]
pub fn bridge_refusals() -> js_sys::Array {
    convert::strings(Refusal::ALL.into_iter().map(Refusal::as_str))
}

/// The targets a bridge started with `--demo` offers (`[{ name, tls, starttls }]`), from
/// [`crate::bridge_protocol::DEMO_TARGETS`]: for a page whose bridge does not list its targets.
#[wasm_bindgen(js_name = demoTargets, unchecked_return_type = "DemoTarget[]")]
pub fn demo_targets() -> js_sys::Array {
    let [plain, tls] = crate::bridge_protocol::DEMO_TARGETS;
    [(plain, "none", true), (tls, "implicit", false)]
        .into_iter()
        .map(|(name, tls, starttls)| {
            let out = Object::new();
            set(&out, "name", name);
            set(&out, "tls", tls);
            set(&out, "starttls", starttls);
            JsValue::from(out)
        })
        .collect()
}

/// `{ headers, subject, from, fromMailboxes, to, date, text, html, parts }` of a message's
/// bytes (feature `mail`: the mail module, `popwire_mail.js`, only — mail-parser would add
/// ~70 KB gzipped to the page's module).
#[cfg(feature = "mail")]
#[wasm_bindgen(js_name = parseMessage, unchecked_return_type = "ParsedMessage")]
pub fn parse_message(bytes: &[u8]) -> JsValue {
    to_js(&crate::mime::parse_message(bytes))
}

/// `{ doc, removed }`: a message's HTML made inert for a sandboxed `srcdoc` frame (feature
/// `mail`: the parse worker's module only). See [`crate::mime::html`].
#[cfg(feature = "mail")]
#[wasm_bindgen(js_name = inertHtml, unchecked_return_type = "InertHtml")]
pub fn inert_html(html: &str) -> JsValue {
    to_js(&crate::mime::html::inert_html(html))
}

/// The message numbers of a UIDL listing (`[{ id, uid }]`, as `uidl()` gives) whose unique-id
/// is not in `seen` (any iterable of strings: an array, a `Set`), in listing order: what a sync
/// fetches with `retrMany` ([`crate::client::new_since`]). Entries that are not `{ id, uid }`
/// are left out; throws a `Pop3Error` of kind `input` if `listing` is not an array or `seen`
/// not iterable.
#[wasm_bindgen(js_name = newSince, unchecked_return_type = "number[]")]
pub fn new_since(
    #[wasm_bindgen(unchecked_param_type = "UidlEntry[]")] listing: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Iterable<string>")] seen: JsValue,
) -> Result<js_sys::Array, JsValue> {
    let fail = |what: &str| convert::input_error(&format!("newSince: {what}"));
    if !js_sys::Array::is_array(&listing) {
        return Err(fail("the listing must be an array of { id, uid }"));
    }
    let entries: Vec<crate::codec::UidlEntry> = js_sys::Array::from(&listing)
        .iter()
        .filter_map(|entry| {
            let id = convert::get(&entry, "id").as_f64()?;
            let uid = convert::get(&entry, "uid").as_string()?;
            (id.fract() == 0.0 && id >= 1.0 && id <= f64::from(u32::MAX))
                .then_some(crate::codec::UidlEntry { id: id as u32, uid })
        })
        .collect();
    let iter = js_sys::try_iter(&seen)
        .ok()
        .flatten()
        .ok_or_else(|| fail("seen must be an iterable of unique-ids (an array or a Set)"))?;
    let seen: std::collections::HashSet<String> =
        iter.filter_map(|uid| uid.ok()?.as_string()).collect();
    Ok(crate::client::new_since(&entries, &seen)
        .into_iter()
        .map(JsValue::from)
        .collect())
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

/// The in-browser teaching server's `Worker` (a simulated POP3 server running in this browser):
/// the one `connect({ target: "in-browser" })` uses, started on the first call from `workerUrl`
/// (default `server-worker.js`, relative to the document's base URL) and shared afterwards.
/// Post its controls (`advance`, `deliver`, `faults`, `view`, …; docs/in-browser-server.md) to
/// it. Throws a `Pop3Error` of kind `network` when the browser refuses to start the worker.
#[wasm_bindgen(js_name = inBrowserServer, unchecked_return_type = "Worker")]
pub fn in_browser_server(
    #[wasm_bindgen(js_name = workerUrl)] worker_url: Option<String>,
) -> Result<JsValue, JsValue> {
    transport::in_browser_server(worker_url.as_deref())
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
/** Options of Pop3Client.connect(): a bridge target, or the in-browser server.
 * `maxBodyBytes` caps every multi-line reply (default 67108864 = 64 MiB; a whole number from 1
 * to 1073741824 = 1 GiB, else connect() rejects with kind "input"); a larger reply rejects with
 * kind "limit". */
export type ConnectOptions = BridgeConnectOptions | InBrowserConnectOptions;
/** A target of popwire-bridge: a WebSocket to `bridge?target=NAME`. */
export interface BridgeConnectOptions { bridge: string; target: string; timeoutMs?: number; maxBodyBytes?: number }
/** The in-browser teaching server, a simulated POP3 server in a Web Worker (no network, no
 * TLS): `server`, a Worker running server-worker.js, or else the shared one of
 * inBrowserServer(workerUrl). */
export interface InBrowserConnectOptions {
  target?: "in-browser"; bridge?: undefined; server?: Worker; workerUrl?: string;
  timeoutMs?: number; maxBodyBytes?: number;
}
/** An explanation reference. */
export interface Explain { key: string; rfc: string }
/** What popwire says in its own words, as a key (`ui.<key>` of www/i18n/<lang>.json) and the
 * values of its {placeholders}: a number, text (protocol text or a name, shown as is) or a
 * nested note. The English is the entry's `text` or the error's `message`. */
export interface Note { key: string; params: Record<string, number | string | Note> }
/** One transcript entry. `request`: the handle of the command a line belongs to (null for the
 * greeting, info entries and unsolicited lines); `answers`: for a server line, the `seq` of the
 * client line it answers; `rttMs`: for a status line or SASL challenge, ms since that client
 * line went out; `challenge`: a SASL "+" challenge, base64-decoded. */
export interface TranscriptEntry {
  seq: number; dir: "client" | "server" | "info"; text: string; bytes: Uint8Array; atMs: number;
  masked: boolean; truncated: boolean; totalBytes: number; explain: Explain;
  request: number | null; answers: number | null; rttMs: number | null;
  challenge: { bytes: Uint8Array; text: string } | null;
  /** A multi-line body: offsets in `bytes` of the stuffed dots and of the terminating ".". */
  wireMarks: { stuffedDots: number[]; terminator: number | null } | null;
  /** An info entry in popwire's own words: `text` as a note (null for a state's name and lines). */
  note: Note | null;
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
/** A TLS record's header (RFC 8446 §5.1): its content type, version field (hex) and body length. */
export interface TlsRecordHeader {
  type: "change-cipher-spec" | "alert" | "handshake" | "application-data" | "unknown";
  version: string; length: number;
}
/** One direction of a WireSample: the bridge's counts and samples (hex), with the record
 * headers its samples begin with. */
export interface WireDirection extends BridgeWireDirection {
  firstRecord: TlsRecordHeader | null; latestRecord: TlsRecordHeader | null;
}
/** What crossed the TCP connection between the bridge and the server since TLS began (onWire):
 * `up` bridge → server, `down` server → bridge. Ciphertext, never plaintext or keys. */
export interface WireSample { up: WireDirection; down: WireDirection }
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
/** A message of retrMany(), handed to onMessage once: `index` is its position in the ids given. */
export interface BatchMessage { id: number; index: number; bytes: Uint8Array }
/** Options of retrMany(). `window`: most messages out at once (default 1000, at most 1024);
 * `maxBytes`: most octets out at once by LIST's sizes (default 33554432 = 32 MiB; a larger
 * message goes alone). Without PIPELINING in CAPA the RETRs go one at a time. onMessage may
 * call the client; a throw fails that message only (it is listed in `failed`). */
export interface RetrManyOptions { onMessage: (message: BatchMessage) => void; window?: number; maxBytes?: number }
/** What retrMany() resolves with: messages onMessage took, their octets, and the failures
 * (the server's -ERR, the session ending: a Pop3Error; a throw of onMessage: what it threw). */
export interface RetrManyResult { retrieved: number; bytes: number; failed: { id: number; error: Pop3Error | unknown }[] }
/** A raw reply read as its command's typed reply (null for -ERR, unknown commands and replies
 * that do not parse). `message`'s value is the body's octets exactly (RETR, TOP). */
export type RawParsed =
  | { kind: "stat"; value: Stat }
  | { kind: "list"; value: ListEntry[] }
  | { kind: "listOne"; value: ListEntry }
  | { kind: "uidl"; value: UidlEntry[] }
  | { kind: "uidlOne"; value: UidlEntry }
  | { kind: "capabilities"; value: Capability[] }
  | { kind: "languages"; value: string[] }
  | { kind: "message"; value: Uint8Array }
  | { kind: "challenge"; value: Uint8Array };
/** The reply to a raw command. */
export interface RawReply {
  ok: boolean; continuation: boolean; text: string; code: string | null; lines: string[];
  parsed: RawParsed | null;
}
/** What client.check() and checkCommand() say of a line: what send() would send, or the error
 * it would reject with (`kind`, `reason`). `masked`: the transcript masks part of the line (keep
 * it out of an input history); `saslResponse`: the line answers a SASL challenge. */
export type CheckResult =
  | { ok: true; saslResponse: boolean; command: string; keyword: string | null; allowed: boolean;
      multiline: boolean; masked: boolean; explain: Explain }
  | { ok: false; reason: string; note: Note; kind: Pop3Error["kind"]; explain: Explain | null };
/** What an argument's value is: the one field a page fills it from. */
export type ArgumentKind =
  | "user-name" | "password" | "digest" | "mechanism" | "initial-response" | "language"
  | "message" | "lines";
/** One argument of a command (commands()). */
export interface CommandArgument {
  name: string; required: boolean; secret: boolean; restOfLine: boolean; kind: ArgumentKind;
}
/** What a command's +OK tells about the maildrop: which typed value (or raw `parsed`) it carries. */
export type Reading =
  | "none" | "capabilities" | "stat" | "sizes" | "unique-ids" | "message" | "head" | "languages";
/** What a command's +OK changes in the maildrop. */
export type Effect = "none" | "mark-deleted" | "unmark-all" | "update";
/** What the engine knows about a command (commands()). `args` are the wire's; `call` the typed
 * method's (client.apop(name, secret), client.auth(mechanism, user, secret)); `followedBy` the
 * command that completes it (USER → PASS). */
export interface CommandMeta {
  keyword: string; name: string; args: CommandArgument[]; states: SessionState[];
  multiline: "never" | "always" | "without-argument"; summary: Explain; barrier: boolean;
  call: CommandArgument[]; followedBy: string | null; reading: Reading; effect: Effect;
}
/** A target a bridge started with --demo offers (demoTargets()). */
export interface DemoTarget { name: string; tls: "none" | "implicit"; starttls: boolean }
/** parseMessage()'s result. */
export interface ParsedMessage {
  headers: { name: string; value: string }[]; subject: string | null; from: string | null; to: string | null;
  /** From's mailboxes, the display name (free text) and the address apart. */
  fromMailboxes: { name: string | null; address: string | null }[];
  date: string | null; text: string | null; html: string | null;
  /** `contentId`: what a `cid:` URL names; `subject`: an enclosed message's (message/rfc822). */
  parts: { path: string; contentType: string; filename: string | null; contentId: string | null; subject: string | null; size: number }[];
}
/** inertHtml()'s result (the parse worker's module, popwire_mail.js). */
export interface InertHtml {
  doc: string;
  removed: { scripts: number; handlers: number; remote: number; styles: number; forms: number; links: number; inline: number };
}
/** Every rejection of the API. */
export interface Pop3Error extends Error {
  name: "Pop3Error";
  kind: "server" | "state" | "input" | "limit" | "protocol" | "network" | "timeout" | "bridge";
  code: string | null;
  /** A server -ERR's own text after its response code; null for every other kind. */
  serverText: string | null;
  explain: Explain | null;
  /** `message` as a note, for the page to say in its language. */
  note: Note;
}
"#;
