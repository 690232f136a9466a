//! `Pop3Client`: the engine's [`Client`] driven over a browser WebSocket to popwire-bridge.
//!
//! All state lives in one `Rc<Shared>`. The WebSocket and timer closures hold only a `Weak`
//! to it, are created once, and are dropped with it (their handlers unset first), so nothing is
//! leaked with `forget` and no closure is dropped while it runs. JavaScript callbacks and promise
//! resolutions are always called with no `RefCell` borrow held, so a callback may call back in.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::convert::{self, get, BridgeError};
use crate::auth::{AuthError, Mechanism};
use crate::client::{Progress, Reply, SessionState};
use crate::{Client, ClientConfig, CommandHandle, Event, Pop3Error};

type Resolvers = (Function, Function);

/// Largest message mirrored into a JS array while it streams (larger ones are copied at the end).
const MIRROR_MAX: u64 = 1 << 30;

/// The largest `maxBodyBytes` connect() accepts: 1 GiB. A body is held in wasm memory (32-bit,
/// 4 GiB at most) while it arrives, and one of unknown size may need twice its size as it grows.
const MAX_BODY_BYTES_LIMIT: u64 = 1 << 30;

/// A `retrStream` in progress: what was handed to its callback so far.
struct Stream {
    on_chunk: Function,
    sent: usize,
}

impl Stream {
    /// The body's bytes from `sent` on, as a chunk for the callback (`None` when nothing is new).
    fn next_chunk(&mut self, body: &[u8]) -> Option<(Function, JsValue)> {
        let new = body.get(self.sent..).filter(|new| !new.is_empty())?;
        self.sent = body.len();
        Some((self.on_chunk.clone(), Uint8Array::from(new).into()))
    }
}

/// A RETR/TOP body copied into a JS array as it arrives, so that the end of a large RETR does
/// not block the page with one big copy out of wasm memory.
struct Mirror {
    handle: CommandHandle,
    array: Uint8Array,
    copied: usize,
}

/// Most transcript entries kept for an `onTranscript` registered late.
const EARLY_TRANSCRIPT_CAP: usize = 256;

/// What a pending promise resolves with once its command completes.
enum Pending {
    /// Resolve with the reply.
    Reply(Resolvers),
    /// STLS: resolve with the bridge's `tls` info once TLS is up.
    Stls(Resolvers),
    /// QUIT: resolve once the connection has closed.
    Quit(Resolvers),
}

struct Inner {
    client: Client,
    ws: WebSocket,
    origin_ms: f64,
    pending: HashMap<CommandHandle, Pending>,
    on_transcript: Option<Function>,
    /// Entries made before `onTranscript` was called (the bridge's `connected`, implicit TLS,
    /// the greeting: `connect()` resolves only after them); handed over on registration.
    early_transcript: Vec<JsValue>,
    on_state: Option<Function>,
    on_progress: Option<Function>,
    greeting: JsValue,
    tls: JsValue,
    connect: Option<Resolvers>,
    /// Keeps the session alive while `connect()` is pending (JS holds no handle yet).
    keepalive: Option<Rc<Shared>>,
    stls_waiting: Option<Resolvers>,
    quit_waiting: Vec<(Resolvers, JsValue)>,
    bridge_error: Option<BridgeError>,
    mirror: Option<Mirror>,
    /// `retrStream` commands by handle (queued or streaming).
    streams: HashMap<CommandHandle, Stream>,
    ws_closed: bool,
    /// The armed timer and the engine deadline (ms) it fires at.
    timer_id: Option<(i32, u64)>,
    handlers: Option<Handlers>,
}

/// The closures the WebSocket and the timer call. Owned here; dropped after being unset.
struct Handlers {
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_close: Closure<dyn FnMut(CloseEvent)>,
    on_timer: Closure<dyn FnMut()>,
}

struct Shared {
    inner: RefCell<Inner>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if let Some((id, _)) = self.timer_id.take() {
            clear_timeout(id);
        }
        if !self.ws_closed {
            let _ = self.ws.close();
        }
    }
}

impl Inner {
    fn now(&self) -> u64 {
        (now_ms() - self.origin_ms).max(0.0) as u64
    }
}

/// A POP3 session through popwire-bridge. Create it with `Pop3Client.connect(options)`.
#[wasm_bindgen]
pub struct Pop3Client {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl Pop3Client {
    /// Opens `bridge?target=NAME` and resolves once the server's greeting has arrived.
    /// `maxBodyBytes` (default 64 MiB, at most 1 GiB) caps every multi-line reply: a larger
    /// one rejects with kind `limit`. A value that is not a whole number in range rejects with
    /// kind `input` and nothing is opened.
    #[wasm_bindgen(unchecked_return_type = "Promise<Pop3Client>")]
    pub fn connect(
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: JsValue,
    ) -> Promise {
        let bridge = get(&options, "bridge").as_string();
        let target = get(&options, "target").as_string();
        let timeout = get(&options, "timeoutMs")
            .as_f64()
            .filter(|t| *t > 0.0)
            .unwrap_or(30_000.0);
        let (Some(bridge), Some(target)) = (bridge, target) else {
            return Promise::reject(&convert::input_error(
                "connect() needs { bridge: URL, target: NAME }",
            ));
        };
        let max_body = match max_body_option(&get(&options, "maxBodyBytes")) {
            Ok(max_body) => max_body,
            Err(error) => return Promise::reject(&error),
        };
        let separator = if bridge.contains('?') { '&' } else { '?' };
        let target_param: String = js_sys::encode_uri_component(&target).into();
        let url = format!("{bridge}{separator}target={target_param}");
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(e) => {
                let text = e
                    .as_string()
                    .unwrap_or_else(|| format!("cannot open a WebSocket to {bridge}"));
                return Promise::reject(&convert::network_error(&text));
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let config = ClientConfig {
            reply_timeout_ms: timeout as u64,
            max_body,
            ..ClientConfig::default()
        };
        let shared = Rc::new(Shared {
            inner: RefCell::new(Inner {
                client: Client::new(config, 0),
                ws: ws.clone(),
                origin_ms: now_ms(),
                pending: HashMap::new(),
                on_transcript: None,
                early_transcript: Vec::new(),
                on_state: None,
                on_progress: None,
                greeting: JsValue::NULL,
                tls: JsValue::NULL,
                connect: None,
                keepalive: None,
                stls_waiting: None,
                quit_waiting: Vec::new(),
                bridge_error: None,
                mirror: None,
                streams: HashMap::new(),
                ws_closed: false,
                timer_id: None,
                handlers: None,
            }),
        });
        let handlers = make_handlers(Rc::downgrade(&shared));
        ws.set_onmessage(Some(handlers.on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(handlers.on_close.as_ref().unchecked_ref()));
        let promise = Promise::new(&mut |resolve, reject| {
            let mut inner = shared.inner.borrow_mut();
            inner.connect = Some((resolve, reject));
        });
        {
            let mut inner = shared.inner.borrow_mut();
            inner.handlers = Some(handlers);
            inner.keepalive = Some(shared.clone());
        }
        drive(&shared);
        promise
    }

    /// Calls `callback(entry)` for every transcript entry: first, at once, those made before
    /// this call (the opening of the session, which `connect()` waits for), then each new one.
    #[wasm_bindgen(js_name = onTranscript)]
    pub fn on_transcript(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(entry: TranscriptEntry) => void")]
        callback: Function,
    ) {
        let early = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.on_transcript = Some(callback.clone());
            std::mem::take(&mut inner.early_transcript)
        };
        for entry in early {
            let _ = callback.call1(&JsValue::NULL, &entry);
        }
    }

    /// Calls `callback(state)` on every state change.
    #[wasm_bindgen(js_name = onStateChange)]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: SessionState) => void")] callback: Function,
    ) {
        self.shared.inner.borrow_mut().on_state = Some(callback);
    }

    /// Calls `callback(progress)` while a multi-line reply streams.
    #[wasm_bindgen(js_name = onProgress)]
    pub fn on_progress(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(progress: Progress) => void")] callback: Function,
    ) {
        self.shared.inner.borrow_mut().on_progress = Some(callback);
    }

    /// The greeting: `{ text, apopTimestamp }`.
    #[wasm_bindgen(getter, unchecked_return_type = "Greeting")]
    pub fn greeting(&self) -> JsValue {
        self.shared.inner.borrow().greeting.clone()
    }

    /// The session state: `AUTHORIZATION`, `TRANSACTION`, `UPDATE` or `CLOSED`.
    #[wasm_bindgen(getter, unchecked_return_type = "SessionState")]
    pub fn state(&self) -> String {
        self.shared
            .inner
            .borrow()
            .client
            .state()
            .as_str()
            .to_owned()
    }

    /// The bridge's TLS information, or `null` on a plain connection.
    #[wasm_bindgen(getter, unchecked_return_type = "TlsInfo | null")]
    pub fn tls(&self) -> JsValue {
        self.shared.inner.borrow().tls.clone()
    }

    /// The commands valid now, from the engine's RFC table narrowed by the session.
    #[wasm_bindgen(js_name = allowedCommands, unchecked_return_type = "string[]")]
    pub fn allowed_commands(&self) -> js_sys::Array {
        let allowed = self.shared.inner.borrow().client.allowed_commands();
        convert::strings(allowed.iter().map(|k| k.as_str()))
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
        self.queue_as(Client::stls, Pending::Stls)
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
    /// order; together exactly what `retr` would give) → `{ size }`. Nothing of it is kept on
    /// the JS side: a page can write the pieces to a file or a `Blob` as they come. The engine
    /// still assembles the body (up to `maxBodyBytes`) in wasm memory until the end.
    #[wasm_bindgen(js_name = retrStream, unchecked_return_type = "Promise<StreamedMessage>")]
    pub fn retr_stream(
        &self,
        id: u32,
        #[wasm_bindgen(unchecked_param_type = "(chunk: Uint8Array) => void")] on_chunk: Function,
    ) -> Promise {
        self.queue_with(
            |inner| {
                let handle = inner.client.retr(id)?;
                inner.streams.insert(handle, Stream { on_chunk, sent: 0 });
                Ok(handle)
            },
            Pending::Reply,
        )
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
        self.queue_as(Client::quit, Pending::Quit)
    }

    /// A raw line as typed → `{ ok, text, code, lines, continuation }`. Malformed lines reject
    /// with kind `input` and nothing is sent; well-formed ones are sent whatever the state.
    #[wasm_bindgen(unchecked_return_type = "Promise<RawReply>")]
    pub fn send(&self, line: &str) -> Promise {
        self.queue(|c| c.send_raw(line))
    }

    /// Closes the connection now; open commands reject with kind `network`.
    pub fn close(&self) {
        {
            let mut inner = self.shared.inner.borrow_mut();
            let now = inner.now();
            inner.client.handle_close(now, "closed by the page");
            if !inner.ws_closed {
                let _ = inner.ws.close();
            }
        }
        drive(&self.shared);
    }
}

impl Pop3Client {
    fn queue(&self, f: impl FnOnce(&mut Client) -> Result<CommandHandle, Pop3Error>) -> Promise {
        self.queue_as(f, Pending::Reply)
    }

    fn queue_as(
        &self,
        f: impl FnOnce(&mut Client) -> Result<CommandHandle, Pop3Error>,
        wrap: fn(Resolvers) -> Pending,
    ) -> Promise {
        self.queue_with(|inner| f(&mut inner.client), wrap)
    }

    fn queue_with(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<CommandHandle, Pop3Error>,
        wrap: fn(Resolvers) -> Pending,
    ) -> Promise {
        let queued = {
            let mut inner = self.shared.inner.borrow_mut();
            let bridge = inner.bridge_error.clone();
            f(&mut inner).map_err(|e| convert::pop3_error(&e, bridge.as_ref()))
        };
        match queued {
            Err(error) => Promise::reject(&error),
            Ok(handle) => {
                let promise = Promise::new(&mut |resolve, reject| {
                    self.shared
                        .inner
                        .borrow_mut()
                        .pending
                        .insert(handle, wrap((resolve, reject)));
                });
                drive(&self.shared);
                promise
            }
        }
    }
}

fn make_handlers(weak: Weak<Shared>) -> Handlers {
    let w = weak.clone();
    let on_message = Closure::wrap(Box::new(move |event: MessageEvent| {
        if let Some(shared) = w.upgrade() {
            on_ws_message(&shared, event);
        }
    }) as Box<dyn FnMut(MessageEvent)>);
    let w = weak.clone();
    let on_close = Closure::wrap(Box::new(move |event: CloseEvent| {
        if let Some(shared) = w.upgrade() {
            on_ws_close(&shared, event);
        }
    }) as Box<dyn FnMut(CloseEvent)>);
    let on_timer = Closure::wrap(Box::new(move || {
        if let Some(shared) = weak.upgrade() {
            {
                let mut inner = shared.inner.borrow_mut();
                inner.timer_id = None;
                let now = inner.now();
                inner.client.handle_timeout(now);
            }
            drive(&shared);
        }
    }) as Box<dyn FnMut()>);
    Handlers {
        on_message,
        on_close,
        on_timer,
    }
}

fn on_ws_message(shared: &Rc<Shared>, event: MessageEvent) {
    let data = event.data();
    if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
        let bytes = Uint8Array::new(buffer).to_vec();
        let mut inner = shared.inner.borrow_mut();
        let now = inner.now();
        inner.client.feed(now, &bytes);
    } else if let Some(text) = data.as_string() {
        on_control(shared, &text);
    }
    drive(shared);
}

/// A JSON control message from the bridge.
fn on_control(shared: &Rc<Shared>, text: &str) {
    let Ok(message) = js_sys::JSON::parse(text) else {
        return;
    };
    let op = get(&message, "op").as_string().unwrap_or_default();
    let mut settle: Option<(Function, JsValue)> = None;
    {
        let mut inner = shared.inner.borrow_mut();
        let now = inner.now();
        match op.as_str() {
            "connected" => {
                let target = get(&message, "target").as_string().unwrap_or_default();
                inner.client.note(
                    now,
                    "info.bridge",
                    &format!("the bridge connected to target {target}"),
                );
                let tls = get(&message, "tls");
                if tls.is_object() {
                    inner.tls = tls.clone();
                    inner.client.tls_established(now, &describe_tls(&tls));
                }
            }
            "tls" => {
                inner.tls = message.clone();
                if !inner.client.is_tls() {
                    inner.client.tls_established(now, &describe_tls(&message));
                }
                if let Some((resolve, _)) = inner.stls_waiting.take() {
                    settle = Some((resolve, message.clone()));
                }
            }
            "error" => {
                let code = get(&message, "code")
                    .as_string()
                    .unwrap_or_else(|| "error".into());
                let text = get(&message, "message").as_string().unwrap_or_default();
                inner
                    .client
                    .note(now, "info.bridge", &format!("bridge error {code}: {text}"));
                let error = BridgeError {
                    code,
                    message: text,
                };
                if let Some((_, reject)) = inner.stls_waiting.take() {
                    settle = Some((reject, convert::bridge_error(&error)));
                }
                inner.bridge_error = Some(error.clone());
                inner.client.handle_close(now, &error.message);
            }
            "closed" => {
                let reason = get(&message, "reason").as_string().unwrap_or_default();
                inner.client.note(
                    now,
                    "info.bridge",
                    &format!("the server side closed: {reason}"),
                );
                inner.client.handle_close(now, &reason);
            }
            _ => {}
        }
    }
    if let Some((f, value)) = settle {
        let _ = f.call1(&JsValue::NULL, &value);
    }
}

fn on_ws_close(shared: &Rc<Shared>, event: CloseEvent) {
    let waiting = {
        let mut inner = shared.inner.borrow_mut();
        inner.ws_closed = true;
        let now = inner.now();
        let reason = if event.reason().is_empty() {
            format!("the WebSocket to the bridge closed (code {})", event.code())
        } else {
            format!("the WebSocket to the bridge closed: {}", event.reason())
        };
        inner.client.handle_close(now, &reason);
        std::mem::take(&mut inner.quit_waiting)
    };
    drive(shared);
    for ((resolve, _), value) in waiting {
        let _ = resolve.call1(&JsValue::NULL, &value);
    }
}

/// Moves bytes out and events to JavaScript until the engine is quiet, then re-arms the timer.
fn drive(shared: &Rc<Shared>) {
    loop {
        let event = {
            let mut inner = shared.inner.borrow_mut();
            let now = inner.now();
            if let Some(bytes) = inner.client.poll_transmit(now) {
                if inner.ws.ready_state() == WebSocket::OPEN {
                    let _ = inner.ws.send_with_u8_array(&bytes);
                }
            }
            inner.client.poll_event()
        };
        let Some(event) = event else { break };
        dispatch(shared, event);
    }
    arm_timer(shared);
}

fn dispatch(shared: &Rc<Shared>, event: Event) {
    // A `retrStream` chunk, handed over before `call` (progress or the promise's resolution).
    let mut chunk: Option<(Function, JsValue)> = None;
    let mut call: Option<(Function, JsValue)> = None;
    let mut release: Option<Rc<Shared>> = None;
    {
        let mut inner = shared.inner.borrow_mut();
        match event {
            Event::Transcript(entry) => match inner.on_transcript.clone() {
                Some(f) => call = Some((f, convert::to_js(&entry))),
                // Kept for the first onTranscript (bounded: only the opening is expected here).
                None if inner.early_transcript.len() < EARLY_TRANSCRIPT_CAP => {
                    let entry = convert::to_js(&entry);
                    inner.early_transcript.push(entry);
                }
                None => {}
            },
            Event::StateChanged(state) => {
                call = inner
                    .on_state
                    .clone()
                    .map(|f| (f, JsValue::from_str(state.as_str())));
            }
            Event::Progress(progress) => {
                if inner.streams.contains_key(&progress.handle) {
                    chunk = stream_progress(&mut inner, progress.handle);
                } else {
                    mirror_progress(&mut inner, &progress);
                }
                call = inner
                    .on_progress
                    .clone()
                    .map(|f| (f, convert::to_js(&progress)));
            }
            Event::Greeting(greeting) => {
                inner.greeting = convert::to_js(&greeting);
                if let Some((resolve, _)) = inner.connect.take() {
                    let handle = Pop3Client {
                        shared: shared.clone(),
                    };
                    call = Some((resolve, handle.into()));
                    release = inner.keepalive.take();
                }
            }
            Event::Completed { handle, result } => {
                let bridge = inner.bridge_error.clone();
                let pending = inner.pending.remove(&handle);
                let mirror = inner.mirror.take().filter(|m| m.handle == handle);
                let stream = inner.streams.remove(&handle);
                let value = result
                    .map(|reply| match (reply, mirror, stream) {
                        (Reply::Message(body), _, Some(mut s)) => {
                            chunk = s.next_chunk(&body);
                            convert::streamed(body.len())
                        }
                        (Reply::Message(body), Some(m), None) => finish_mirror(m, body),
                        (reply, _, _) => convert::reply(reply),
                    })
                    .map_err(|e| convert::pop3_error(&e, bridge.as_ref()));
                call = match (pending, value) {
                    (Some(Pending::Reply((resolve, _))), Ok(v)) => Some((resolve, v)),
                    (Some(Pending::Stls(resolvers)), Ok(_)) => {
                        // Resolved by the bridge's `tls` message once the upgrade is done.
                        inner.stls_waiting = Some(resolvers);
                        None
                    }
                    (Some(Pending::Quit(resolvers)), Ok(v)) => {
                        if inner.ws_closed {
                            Some((resolvers.0, v))
                        } else {
                            inner.quit_waiting.push((resolvers, v));
                            None
                        }
                    }
                    (
                        Some(
                            Pending::Reply((_, reject))
                            | Pending::Stls((_, reject))
                            | Pending::Quit((_, reject)),
                        ),
                        Err(e),
                    ) => Some((reject, e)),
                    (None, _) => None,
                };
            }
            Event::StartTls => {
                let _ = inner.ws.send_with_str(r#"{"op":"starttls"}"#);
            }
            Event::Closed => {
                if !inner.ws_closed {
                    let _ = inner.ws.close();
                }
                if let Some((_, reject)) = inner.connect.take() {
                    // Say why: a bridge refusal, a greeting timeout, a -ERR greeting, a drop.
                    let error = match (&inner.bridge_error, inner.client.closed_by()) {
                        (Some(b), _) => convert::bridge_error(b),
                        (None, Some(err)) => convert::pop3_error(err, None),
                        (None, None) => {
                            convert::network_error("the connection closed before the greeting")
                        }
                    };
                    call = Some((reject, error));
                    release = inner.keepalive.take();
                }
                if let Some((_, reject)) = inner.stls_waiting.take() {
                    // Say why: a bridge refusal (tls-failed), the engine's TLS deadline, a drop.
                    let error = match (&inner.bridge_error, inner.client.closed_by()) {
                        (Some(b), _) => convert::bridge_error(b),
                        (None, Some(err)) => convert::pop3_error(err, None),
                        (None, None) => convert::network_error("the connection closed during STLS"),
                    };
                    let _ = reject.call1(&JsValue::NULL, &error);
                }
            }
        }
    }
    for (f, value) in [chunk, call].into_iter().flatten() {
        let _ = f.call1(&JsValue::NULL, &value);
    }
    drop(release);
}

/// The next piece of a `retrStream` body that is streaming now, for its callback.
fn stream_progress(inner: &mut Inner, handle: CommandHandle) -> Option<(Function, JsValue)> {
    let Inner {
        client, streams, ..
    } = inner;
    let (streaming, body) = client.streaming_body()?;
    if streaming != handle {
        return None;
    }
    streams.get_mut(&handle)?.next_chunk(body)
}

/// Copies what arrived of a streaming body with a known size (LIST's) into its JS mirror.
fn mirror_progress(inner: &mut Inner, progress: &Progress) {
    let Some(expected) = progress.expected.filter(|&n| n <= MIRROR_MAX) else {
        return;
    };
    if inner
        .mirror
        .as_ref()
        .is_none_or(|m| m.handle != progress.handle)
    {
        let array = Uint8Array::new_with_length(expected as u32);
        inner.mirror = Some(Mirror {
            handle: progress.handle,
            array,
            copied: 0,
        });
    }
    let Inner { client, mirror, .. } = inner;
    let (Some(m), Some((handle, body))) = (mirror.as_mut(), client.streaming_body()) else {
        return;
    };
    let end = body.len().min(m.array.length() as usize);
    if handle == m.handle && end > m.copied {
        m.array
            .subarray(m.copied as u32, end as u32)
            .copy_from(&body[m.copied..end]);
        m.copied = end;
    }
}

/// The RETR/TOP result from its mirror (only the last chunk left to copy), or from the body
/// itself when the size LIST gave was not the size that came.
fn finish_mirror(mut m: Mirror, body: Vec<u8>) -> JsValue {
    if body.len() != m.array.length() as usize || m.copied > body.len() {
        return convert::message(&body);
    }
    if m.copied < body.len() {
        m.array
            .subarray(m.copied as u32, body.len() as u32)
            .copy_from(&body[m.copied..]);
        m.copied = body.len();
    }
    convert::message_from(m.array)
}

/// Re-arms the one timer for the engine's next deadline (reply timeout, greeting timeout).
fn arm_timer(shared: &Rc<Shared>) {
    let mut inner = shared.inner.borrow_mut();
    let deadline = match inner.client.state() {
        SessionState::Closed => None,
        _ => inner.client.poll_timeout(),
    };
    match (inner.timer_id, deadline) {
        // Every octet that arrives pushes the deadline out; a timer that fires early just
        // re-arms, so a streaming RETR costs one timer per timeout period, not one per frame.
        (Some((_, armed)), Some(deadline)) if armed <= deadline => return,
        (Some((id, _)), _) => {
            clear_timeout(id);
            inner.timer_id = None;
        }
        (None, _) => {}
    }
    let Some(deadline) = deadline else { return };
    let delay = deadline.saturating_sub(inner.now()).min(i32::MAX as u64) as i32;
    let id = inner
        .handlers
        .as_ref()
        .and_then(|h| set_timeout(h.on_timer.as_ref().unchecked_ref(), delay));
    inner.timer_id = id.map(|id| (id, deadline));
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

/// JavaScript's `typeof value`.
fn typeof_name(value: &JsValue) -> String {
    value.js_typeof().as_string().unwrap_or_default()
}

fn describe_tls(info: &JsValue) -> String {
    let version = get(info, "version").as_string().unwrap_or_default();
    let cipher = get(info, "cipher").as_string().unwrap_or_default();
    let verified = get(info, "verified").as_bool().unwrap_or(false);
    let peer = get(info, "peer");
    let subject = get(&peer, "subject").as_string().unwrap_or_default();
    let check = if verified {
        "certificate verified"
    } else {
        "certificate NOT verified"
    };
    format!("{version} {cipher}, {check}, server {subject}")
}

// ----- The global scope (window or worker) -------------------------------------------------------

fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = get(&global, "performance");
    match performance.dyn_ref::<web_sys::Performance>() {
        Some(p) => p.now(),
        None => js_sys::Date::now(),
    }
}

thread_local! {
    /// `setTimeout` and `clearTimeout` of the global scope (window or worker), looked up once.
    static TIMERS: Option<(Function, Function)> = {
        let global = js_sys::global();
        let set = get(&global, "setTimeout").dyn_into::<Function>().ok();
        let clear = get(&global, "clearTimeout").dyn_into::<Function>().ok();
        set.zip(clear)
    };
}

fn set_timeout(callback: &Function, delay: i32) -> Option<i32> {
    TIMERS.with(|timers| {
        let (set, _) = timers.as_ref()?;
        let id = set
            .call2(&JsValue::UNDEFINED, callback, &JsValue::from(delay))
            .ok()?;
        id.as_f64().map(|id| id as i32)
    })
}

fn clear_timeout(id: i32) {
    TIMERS.with(|timers| {
        if let Some((_, clear)) = timers {
            let _ = clear.call1(&JsValue::UNDEFINED, &JsValue::from(id));
        }
    });
}
