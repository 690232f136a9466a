//! `Pop3Client`: the JavaScript surface of a POP3 session: its methods, their promises and the
//! page's callbacks. Nothing else lives here: the session (engine, promises, timer, RETR mirror)
//! is [`super::session`], the link to the server is a [`super::transport`] (today the WebSocket
//! to popwire-bridge). `connect()` reads the options, opens the transport they name and hands
//! both to a new session; every other method is one call into the session.

use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

use super::convert::{self, get};
use super::session::{Session, Settle};
use super::transport::Target;
use crate::auth::{AuthError, Mechanism};
use crate::client::BatchOptions;
use crate::{Client, ClientConfig, CommandHandle, Pop3Error};

/// The largest `maxBodyBytes` connect() accepts: 1 GiB. A body is held in wasm memory (32-bit,
/// 4 GiB at most) while it arrives, and one of unknown size may need twice its size as it grows.
const MAX_BODY_BYTES_LIMIT: u64 = 1 << 30;

/// A POP3 session through popwire-bridge. Create it with `Pop3Client.connect(options)`.
#[wasm_bindgen]
pub struct Pop3Client {
    session: Rc<Session>,
}

#[wasm_bindgen]
impl Pop3Client {
    /// Opens the transport the options name (`{ bridge, target }`: a WebSocket to
    /// `bridge?target=NAME`) and resolves once the server's greeting has arrived.
    /// `maxBodyBytes` (default 64 MiB, at most 1 GiB) caps every multi-line reply: a larger
    /// one rejects with kind `limit`. A value that is not a whole number in range rejects with
    /// kind `input` and nothing is opened.
    #[wasm_bindgen(unchecked_return_type = "Promise<Pop3Client>")]
    pub fn connect(
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: JsValue,
    ) -> Promise {
        let target = match Target::from_options(&options) {
            Ok(target) => target,
            Err(error) => return Promise::reject(&error),
        };
        let timeout = get(&options, "timeoutMs")
            .as_f64()
            .filter(|t| *t > 0.0)
            .unwrap_or(30_000.0);
        let max_body = match max_body_option(&get(&options, "maxBodyBytes")) {
            Ok(max_body) => max_body,
            Err(error) => return Promise::reject(&error),
        };
        let transport = match target.open() {
            Ok(transport) => transport,
            Err(error) => return Promise::reject(&error),
        };
        let config = ClientConfig {
            reply_timeout_ms: timeout as u64,
            max_body,
            ..ClientConfig::default()
        };
        Session::connect(config, transport, |session| {
            Pop3Client::from_session(session).into()
        })
    }

    /// Calls `callback(entry)` for every transcript entry: first, at once, those made before
    /// this call (the opening of the session, which `connect()` waits for), then each new one.
    #[wasm_bindgen(js_name = onTranscript)]
    pub fn on_transcript(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(entry: TranscriptEntry) => void")]
        callback: Function,
    ) {
        self.session.set_on_transcript(callback);
    }

    /// Calls `callback(state)` on every state change.
    #[wasm_bindgen(js_name = onStateChange)]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: SessionState) => void")] callback: Function,
    ) {
        self.session.set_on_state(callback);
    }

    /// Calls `callback(progress)` while a multi-line reply streams.
    #[wasm_bindgen(js_name = onProgress)]
    pub fn on_progress(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(progress: Progress) => void")] callback: Function,
    ) {
        self.session.set_on_progress(callback);
    }

    /// The greeting: `{ text, apopTimestamp }`.
    #[wasm_bindgen(getter, unchecked_return_type = "Greeting")]
    pub fn greeting(&self) -> JsValue {
        self.session.greeting()
    }

    /// The session state: `AUTHORIZATION`, `TRANSACTION`, `UPDATE` or `CLOSED`.
    #[wasm_bindgen(getter, unchecked_return_type = "SessionState")]
    pub fn state(&self) -> String {
        self.session
            .with_client(|client| client.state())
            .as_str()
            .to_owned()
    }

    /// The bridge's TLS information, or `null` on a plain connection.
    #[wasm_bindgen(getter, unchecked_return_type = "TlsInfo | null")]
    pub fn tls(&self) -> JsValue {
        self.session.tls()
    }

    /// What crossed the wire between the bridge and the server since TLS began, as the bridge
    /// last told it (after `onWire`), or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "WireSample | null")]
    pub fn wire(&self) -> JsValue {
        self.session.wire()
    }

    /// Calls `callback(sample)` with what crossed the TCP connection between the bridge and the
    /// server since TLS began (the TLS records: ciphertext), each time the bridge tells it: at
    /// once if TLS is up, after an STLS upgrade, and before each reply. Registering asks the
    /// bridge (`{"op":"wire"}`); the in-browser server has no TLS and never calls it.
    #[wasm_bindgen(js_name = onWire)]
    pub fn on_wire(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(sample: WireSample) => void")] callback: Function,
    ) {
        self.session.set_on_wire(callback);
    }

    /// The commands valid now, from the engine's RFC table narrowed by the session.
    #[wasm_bindgen(js_name = allowedCommands, unchecked_return_type = "string[]")]
    pub fn allowed_commands(&self) -> js_sys::Array {
        let allowed = self.session.with_client(Client::allowed_commands);
        convert::strings(allowed.iter().map(|k| k.as_str()))
    }

    /// Exactly what `send(line)` would do now, without sending: the engine's `check_raw` on this
    /// session (its state, its UTF-8 mode, a SASL response awaited, the queue). `{ ok: true,
    /// saslResponse, command, keyword, allowed, multiline, masked, explain }` or `{ ok: false,
    /// reason, kind, explain }` (the error `send()` would reject with). `masked`: the
    /// transcript will mask part of the line, so a page keeps it out of its input history.
    #[wasm_bindgen(unchecked_return_type = "CheckResult")]
    pub fn check(&self, line: &str) -> JsValue {
        convert::check_result(self.session.with_client(|client| client.check_raw(line)))
    }

    /// Whether the next `send(line)` is the SASL response to a `+` challenge (a hand-typed
    /// `AUTH` got one): it is then checked as base64, `*` (cancel) or an empty line, and masked.
    #[wasm_bindgen(getter, js_name = awaitingSaslResponse)]
    pub fn awaiting_sasl_response(&self) -> bool {
        self.session.with_client(Client::awaiting_sasl_response)
    }

    /// `CAPA` → `[{ name, args }]`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Capability[]>")]
    pub fn capa(&self) -> Promise {
        self.queue(Client::capa)
    }

    /// `USER name`.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn user(&self, name: &str) -> Promise {
        self.queue(|c| c.user(name))
    }

    /// `PASS secret` (masked in the transcript).
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn pass(&self, secret: &str) -> Promise {
        self.queue(|c| c.pass(secret))
    }

    /// `APOP name digest`, the digest computed from the greeting's timestamp.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn apop(&self, name: &str, secret: &str) -> Promise {
        self.queue(|c| c.apop(name, secret))
    }

    /// `AUTH` with `PLAIN`, `LOGIN` or `CRAM-MD5`; the engine answers the challenges.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn auth(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SaslMechanism")] mechanism: &str,
        name: &str,
        secret: &str,
    ) -> Promise {
        let Some(mechanism) = Mechanism::parse(mechanism) else {
            let err = Pop3Error::Credentials(AuthError::UnknownMechanism(mechanism.to_owned()));
            return Promise::reject(&convert::pop3_error(&err, None));
        };
        self.queue(|c| c.auth(mechanism, name, secret))
    }

    /// `STLS`, then the TLS upgrade through the bridge; resolves with the TLS info.
    #[wasm_bindgen(unchecked_return_type = "Promise<TlsInfo>")]
    pub fn stls(&self) -> Promise {
        self.session.queue(Settle::Stls, Client::stls)
    }

    /// `STAT` → `{ count, size }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Stat>")]
    pub fn stat(&self) -> Promise {
        self.queue(Client::stat)
    }

    /// `LIST` → `[{ id, size }]`, or `LIST id` → `{ id, size }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ListEntry[] | ListEntry>")]
    pub fn list(&self, id: Option<u32>) -> Promise {
        self.queue(|c| c.list(id))
    }

    /// `UIDL` → `[{ id, uid }]`, or `UIDL id` → `{ id, uid }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<UidlEntry[] | UidlEntry>")]
    pub fn uidl(&self, id: Option<u32>) -> Promise {
        self.queue(|c| c.uidl(id))
    }

    /// `RETR id` → `{ bytes, text }`, dot-stuffing removed, CRLF kept.
    #[wasm_bindgen(unchecked_return_type = "Promise<MessageData>")]
    pub fn retr(&self, id: u32) -> Promise {
        self.queue(|c| c.retr(id))
    }

    /// `RETR id`, the message handed to `onChunk(bytes)` piece by piece as it arrives (in
    /// order; together exactly what `retr` would give) → `{ size }`. Nothing of it is kept: the
    /// engine hands over each piece as it is decoded (`take_body`) and a page can write the
    /// pieces to a file or a `Blob` as they come. `maxBodyBytes` still caps the whole message.
    #[wasm_bindgen(js_name = retrStream, unchecked_return_type = "Promise<StreamedMessage>")]
    pub fn retr_stream(
        &self,
        id: u32,
        #[wasm_bindgen(unchecked_param_type = "(chunk: Uint8Array) => void")] on_chunk: Function,
    ) -> Promise {
        self.session.queue_retr_stream(id, on_chunk)
    }

    /// `RETR` of every message in `ids`, in order, paced by the engine: pipelined within a
    /// window when CAPA listed PIPELINING (`window` messages, default 1000, at most 1024, and
    /// `maxBytes` octets by LIST's sizes, default 32 MiB), one at a time otherwise. Each message
    /// goes to `onMessage({ id, index, bytes })` once, as it completes, and is released: nothing
    /// of it stays in the session, so memory is bounded by the window. A `-ERR`, the session
    /// ending or a throw of `onMessage` fails that message only. Resolves with `{ retrieved,
    /// bytes, failed: [{ id, error }] }` once every message was handed over or failed; rejects
    /// at once (nothing sent) with kind `state` outside TRANSACTION or `input` for bad
    /// arguments.
    #[wasm_bindgen(js_name = retrMany, unchecked_return_type = "Promise<RetrManyResult>")]
    pub fn retr_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number[]")] ids: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RetrManyOptions")] options: JsValue,
    ) -> Promise {
        match batch_arguments(&ids, &options) {
            Ok((ids, batch, on_message)) => self.session.retr_many(ids, batch, on_message),
            Err(error) => Promise::reject(&error),
        }
    }

    /// `TOP id lines` → `{ bytes, text }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<MessageData>")]
    pub fn top(&self, id: u32, lines: u32) -> Promise {
        self.queue(|c| c.top(id, lines))
    }

    /// `DELE id`.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn dele(&self, id: u32) -> Promise {
        self.queue(|c| c.dele(id))
    }

    /// `RSET`.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn rset(&self) -> Promise {
        self.queue(|c| c.command(crate::codec::Command::Rset))
    }

    /// `NOOP`.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn noop(&self) -> Promise {
        self.queue(|c| c.command(crate::codec::Command::Noop))
    }

    /// `QUIT`; resolves after the reply (from the UPDATE state) and the close.
    #[wasm_bindgen(unchecked_return_type = "Promise<StatusReply>")]
    pub fn quit(&self) -> Promise {
        self.session.queue(Settle::Quit, Client::quit)
    }

    /// A raw line as typed → `{ ok, text, code, lines, continuation }`. Malformed lines reject
    /// with kind `input` and nothing is sent; well-formed ones are sent whatever the state.
    #[wasm_bindgen(unchecked_return_type = "Promise<RawReply>")]
    pub fn send(&self, line: &str) -> Promise {
        self.queue(|c| c.send_raw(line))
    }

    /// Closes the connection now; open commands reject with kind `network`.
    pub fn close(&self) {
        self.session.close();
    }
}

impl Pop3Client {
    /// The JS handle of `session` (one per `connect()`, handed over with the greeting).
    fn from_session(session: Rc<Session>) -> Pop3Client {
        Pop3Client { session }
    }

    fn queue(
        &self,
        command: impl FnOnce(&mut Client) -> Result<CommandHandle, Pop3Error>,
    ) -> Promise {
        self.session.queue(Settle::Reply, command)
    }
}

/// `maxBodyBytes` of connect(): absent (`undefined` or `null`) is the engine's default; else a
/// whole number from 1 to [`MAX_BODY_BYTES_LIMIT`], or an `input` error saying what came.
fn max_body_option(value: &JsValue) -> Result<u64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(ClientConfig::default().max_body);
    }
    let limit = MAX_BODY_BYTES_LIMIT;
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= limit as f64 => Ok(n as u64),
        number => {
            let got = match (number, value.as_string()) {
                (Some(n), _) => format!("{n}"),
                (None, Some(text)) => format!("the string {text:?}"),
                (None, None) => format!("a value of type {}", typeof_name(value)),
            };
            Err(convert::input_error(&format!(
                "maxBodyBytes must be a whole number of octets from 1 to {limit} (1 GiB); \
                 got {got}"
            )))
        }
    }
}

/// `retrMany(ids, { onMessage, window, maxBytes })`'s arguments, checked: message numbers
/// (whole numbers from 1), the callback, the window (absent: the engine's default).
fn batch_arguments(
    ids: &JsValue,
    options: &JsValue,
) -> Result<(Vec<u32>, BatchOptions, Function), JsValue> {
    let fail = |what: &str| Err(convert::input_error(&format!("retrMany: {what}")));
    if !Array::is_array(ids) {
        return fail("ids must be an array of message numbers");
    }
    let mut numbers = Vec::new();
    for value in Array::from(ids).iter() {
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= f64::from(u32::MAX) => {
                numbers.push(n as u32);
            }
            _ => return fail("every id must be a message number (a whole number from 1)"),
        }
    }
    let Ok(on_message) = get(options, "onMessage").dyn_into::<Function>() else {
        return fail("options.onMessage must be a function");
    };
    let mut batch = BatchOptions::default();
    match whole_option(&get(options, "window")) {
        Ok(Some(n)) => batch.max_messages = usize::try_from(n).unwrap_or(usize::MAX),
        Ok(None) => {}
        Err(()) => return fail("options.window must be a whole number of messages from 1"),
    }
    match whole_option(&get(options, "maxBytes")) {
        Ok(Some(n)) => batch.max_bytes = n,
        Ok(None) => {}
        Err(()) => return fail("options.maxBytes must be a whole number of octets from 1"),
    }
    Ok((numbers, batch, on_message))
}

/// An optional whole number from 1: `undefined` / `null` is `None`; anything else is refused.
fn whole_option(value: &JsValue) -> Result<Option<u64>, ()> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= 2f64.powi(53) => Ok(Some(n as u64)),
        _ => Err(()),
    }
}

/// JavaScript's `typeof value`.
fn typeof_name(value: &JsValue) -> String {
    value.js_typeof().as_string().unwrap_or_default()
}
