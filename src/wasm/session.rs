//! The session behind a `Pop3Client`: the engine, its transport, its timer, the promises and
//! callbacks of the page, and the loop that moves bytes and events between them.
//!
//! # Ownership (no closure leaks)
//!
//! A session is one `Rc<Session>`, held by the page's `Pop3Client` handles (and by itself while
//! `connect()` is pending, when JS holds no handle yet). The closures that JS calls (the
//! transport's handlers, the timer's) are created once per session, hold only a `Weak` to it
//! (the transport's through its [`Sink`]), and are owned by the transport and the timer, which
//! the session owns: when the last handle goes, the session drops, the transport and the timer
//! unset their handlers, and then the closures drop. Nothing is leaked with `forget`.
//!
//! # Borrows (callbacks may call back in)
//!
//! The mutable part of the session is one `RefCell<State>`. No JavaScript runs while it is
//! borrowed: the page's callbacks, promise resolutions and the transport's `start_tls` /
//! `close` are collected as [`Effect`]s while it is borrowed and run, in order, after the
//! borrow is released (bytes are handed to the transport after it too). So a callback may call
//! any method of the client, and a transport may be driven from anywhere.
//!
//! # Batches (`retrMany`)
//!
//! A batch is the engine's [`Batch`] plus its `onMessage` and its promise. Each message's
//! `Event::Completed` is routed by [`Batch::position`] before any other completion: its octets
//! go to `onMessage` once (a throw fails that message only) and nothing of it stays in the
//! session. The promise resolves once the engine says every message was taken
//! ([`Client::batch_remaining`] is 0) and no `onMessage` of the batch is still running.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::JsValue;

use super::convert::{self, BridgeError};
use super::mirror::{Call, Mirrors};
use super::timer::{now_ms, Timer};
use super::transport::{Sink, Transport, TransportEvent};
use crate::bridge_protocol::TlsInfo;
use crate::client::{Batch, BatchOptions, SessionState};
use crate::explain::Note;
use crate::{Client, ClientConfig, CommandHandle, Event, Pop3Error};

type Resolvers = (Function, Function);

/// Most transcript entries kept for an `onTranscript` registered late.
const EARLY_TRANSCRIPT_CAP: usize = 256;

/// When a command's promise settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// With the reply, once the command completes.
    Reply,
    /// STLS: with the TLS info, once the transport reports TLS after the `+OK`.
    Stls,
    /// QUIT: with the reply, once the link has closed as well.
    Quit,
}

/// A command's promise, waiting.
struct Pending {
    settle: Settle,
    resolvers: Resolvers,
}

/// The page's callbacks.
#[derive(Default)]
struct Callbacks {
    transcript: Option<Function>,
    state: Option<Function>,
    progress: Option<Function>,
    wire: Option<Function>,
}

/// A `retrMany` in progress.
struct BatchJob {
    batch: Batch,
    ids: Vec<u32>,
    on_message: Function,
    resolvers: Resolvers,
    /// Messages handed to `onMessage` that it took without throwing, and their octets.
    retrieved: u32,
    bytes: f64,
    /// `[{ id, error }]`: the messages that failed (the server's `-ERR`, the session ending, a
    /// throw of `onMessage`).
    failed: Array,
    /// `onMessage` calls of this batch running now (one may call the client back).
    delivering: usize,
}

/// What the session does once its borrow is released, in order.
enum Effect {
    /// Calls a JS function (a callback of the page, a promise's resolve or reject).
    Call(Call),
    /// Hands a batch message to its `onMessage`; a throw fails that message only.
    Deliver {
        batch: Batch,
        id: u32,
        on_message: Function,
        message: JsValue,
        size: usize,
    },
    /// Resolves the batch's promise if every message was taken and no `onMessage` runs.
    FinishBatch(Batch),
    /// Asks the transport to start TLS.
    StartTls,
    /// Asks the transport to close the link.
    Close,
}

/// The session's mutable part.
struct State {
    client: Client,
    origin_ms: f64,
    pending: HashMap<CommandHandle, Pending>,
    callbacks: Callbacks,
    /// Entries made before `onTranscript` was called (the transport's notes, implicit TLS, the
    /// greeting: `connect()` resolves only after them); handed over on registration.
    early_transcript: Vec<JsValue>,
    greeting: JsValue,
    tls: JsValue,
    /// The latest wire sample (`WireSample`), `null` before one came.
    wire: JsValue,
    connect: Option<Resolvers>,
    /// Keeps the session alive while `connect()` is pending (JS holds no handle yet).
    keepalive: Option<Rc<Session>>,
    stls_waiting: Option<Resolvers>,
    quit_waiting: Vec<(Resolvers, JsValue)>,
    /// Why the transport refused or ended the session, if it said.
    refusal: Option<BridgeError>,
    mirrors: Mirrors,
    /// The `retrMany` batches not yet resolved.
    batches: Vec<BatchJob>,
    /// The transport reported [`TransportEvent::Closed`].
    link_closed: bool,
}

impl State {
    /// The engine's clock: ms since the session started.
    fn now(&self) -> u64 {
        (now_ms() - self.origin_ms).max(0.0) as u64
    }

    /// Why the session closed, as the API reports it: the transport's refusal, else the
    /// engine's error (a timeout, a `-ERR` greeting, a TLS deadline), else `fallback`.
    fn close_error(&self, fallback: Note) -> JsValue {
        match (&self.refusal, self.client.closed_by()) {
            (Some(refusal), _) => convert::bridge_error(refusal),
            (None, Some(err)) => convert::pop3_error(err, None),
            (None, None) => convert::network_error(fallback),
        }
    }
}

/// What `connect()` resolves with: the JS handle of a session (the JS surface's `Pop3Client`,
/// which this module does not know).
pub(crate) type Handle = fn(Rc<Session>) -> JsValue;

/// One POP3 session: see the module documentation.
pub(crate) struct Session {
    state: RefCell<State>,
    transport: Box<dyn Transport>,
    timer: Timer,
    handle: Handle,
}

impl Session {
    /// Starts a session over `transport` (opened, not started); the promise resolves with
    /// `handle(session)` (a `Pop3Client`) once the greeting has arrived, or rejects with why the
    /// session closed.
    pub(crate) fn connect(
        config: ClientConfig,
        transport: Box<dyn Transport>,
        handle: Handle,
    ) -> Promise {
        let session = Rc::new_cyclic(|weak: &Weak<Session>| {
            let weak = weak.clone();
            Session {
                state: RefCell::new(State {
                    client: Client::new(config, 0),
                    origin_ms: now_ms(),
                    pending: HashMap::new(),
                    callbacks: Callbacks::default(),
                    early_transcript: Vec::new(),
                    greeting: JsValue::NULL,
                    tls: JsValue::NULL,
                    wire: JsValue::NULL,
                    connect: None,
                    keepalive: None,
                    stls_waiting: None,
                    quit_waiting: Vec::new(),
                    refusal: None,
                    mirrors: Mirrors::default(),
                    batches: Vec::new(),
                    link_closed: false,
                }),
                transport,
                handle,
                timer: Timer::new(move || {
                    if let Some(session) = weak.upgrade() {
                        session.on_timer();
                    }
                }),
            }
        });
        let weak = Rc::downgrade(&session);
        session.transport.start(Sink::new(move |event| {
            if let Some(session) = weak.upgrade() {
                session.on_transport_event(event);
            }
        }));
        let promise = Promise::new(&mut |resolve, reject| {
            session.state.borrow_mut().connect = Some((resolve, reject));
        });
        session.state.borrow_mut().keepalive = Some(session.clone());
        session.drive();
        promise
    }

    // ----- What the JS surface asks ------------------------------------------------------------

    /// Reads the engine.
    pub(crate) fn with_client<R>(&self, read: impl FnOnce(&Client) -> R) -> R {
        read(&self.state.borrow().client)
    }

    /// The greeting as JS (`null` before it came).
    pub(crate) fn greeting(&self) -> JsValue {
        self.state.borrow().greeting.clone()
    }

    /// The TLS info as JS (`null` on a plain link).
    pub(crate) fn tls(&self) -> JsValue {
        self.state.borrow().tls.clone()
    }

    /// The latest wire sample as JS (`null` before one came).
    pub(crate) fn wire(&self) -> JsValue {
        self.state.borrow().wire.clone()
    }

    /// Registers `onWire` and asks the transport to tell what crosses the wire.
    pub(crate) fn set_on_wire(&self, callback: Function) {
        self.state.borrow_mut().callbacks.wire = Some(callback);
        self.transport.watch_wire();
    }

    /// Registers `onTranscript`, first handing it the entries made before.
    pub(crate) fn set_on_transcript(&self, callback: Function) {
        let early = {
            let mut state = self.state.borrow_mut();
            state.callbacks.transcript = Some(callback.clone());
            std::mem::take(&mut state.early_transcript)
        };
        for entry in early {
            let _ = callback.call1(&JsValue::NULL, &entry);
        }
    }

    /// Registers `onStateChange`.
    pub(crate) fn set_on_state(&self, callback: Function) {
        self.state.borrow_mut().callbacks.state = Some(callback);
    }

    /// Registers `onProgress`.
    pub(crate) fn set_on_progress(&self, callback: Function) {
        self.state.borrow_mut().callbacks.progress = Some(callback);
    }

    /// Queues a command; its promise settles as `settle` says, or rejects at once if the engine
    /// refuses it (nothing is sent then).
    pub(crate) fn queue(
        self: &Rc<Self>,
        settle: Settle,
        command: impl FnOnce(&mut Client) -> Result<CommandHandle, Pop3Error>,
    ) -> Promise {
        self.queue_with(settle, |state| command(&mut state.client))
    }

    /// `RETR id` whose body goes to `on_chunk` as it arrives (taken from the engine, which
    /// keeps none of it).
    pub(crate) fn queue_retr_stream(self: &Rc<Self>, id: u32, on_chunk: Function) -> Promise {
        self.queue_with(Settle::Reply, |state| {
            let handle = state.client.retr_stream(id)?;
            state.mirrors.stream(handle, on_chunk);
            Ok(handle)
        })
    }

    /// `retrMany`: the engine's batch of RETRs for `ids`, each message handed to `on_message`
    /// as `{ id, index, bytes }`; the promise resolves with `{ retrieved, bytes, failed }` once
    /// every message was handed over or failed, or rejects at once if the engine refuses the
    /// batch (nothing is sent then).
    pub(crate) fn retr_many(
        self: &Rc<Self>,
        ids: Vec<u32>,
        options: BatchOptions,
        on_message: Function,
    ) -> Promise {
        let queued = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            state
                .client
                .retr_many(&ids, options)
                .map_err(|e| convert::pop3_error(&e, state.refusal.as_ref()))
        };
        let batch = match queued {
            Ok(batch) => batch,
            Err(error) => return Promise::reject(&error),
        };
        let promise = Promise::new(&mut |resolve, reject| {
            self.state.borrow_mut().batches.push(BatchJob {
                batch,
                ids: ids.clone(),
                on_message: on_message.clone(),
                resolvers: (resolve, reject),
                retrieved: 0,
                bytes: 0.0,
                failed: Array::new(),
                delivering: 0,
            });
        });
        self.drive();
        // An empty batch (or one whose messages all failed at once) is done already.
        self.finish_batch(batch);
        promise
    }

    fn queue_with(
        self: &Rc<Self>,
        settle: Settle,
        command: impl FnOnce(&mut State) -> Result<CommandHandle, Pop3Error>,
    ) -> Promise {
        let queued = {
            let mut state = self.state.borrow_mut();
            command(&mut state).map_err(|e| convert::pop3_error(&e, state.refusal.as_ref()))
        };
        match queued {
            Err(error) => Promise::reject(&error),
            Ok(handle) => {
                let promise = Promise::new(&mut |resolve, reject| {
                    let pending = Pending {
                        settle,
                        resolvers: (resolve, reject),
                    };
                    self.state.borrow_mut().pending.insert(handle, pending);
                });
                self.drive();
                promise
            }
        }
    }

    /// `close()`: ends the session now; open commands reject with kind `network`.
    pub(crate) fn close(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            let now = state.now();
            state
                .client
                .handle_close(now, crate::note!("note.page-closed"));
        }
        self.transport.close();
        self.drive();
    }

    // ----- What the transport and the timer report ----------------------------------------------

    /// One event of the transport (through its [`Sink`]).
    pub(crate) fn on_transport_event(self: &Rc<Self>, event: TransportEvent) {
        let mut effects = Vec::new();
        let mut quit_waiting = Vec::new();
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let now = state.now();
            match event {
                TransportEvent::Note { key, text } => state.client.note(now, key, text),
                TransportEvent::Received(bytes) => state.client.feed(now, &bytes),
                TransportEvent::Tls(info) => {
                    state.tls = convert::tls(&info);
                    if !state.client.is_tls() {
                        state.client.tls_established(now, describe_tls(&info));
                    }
                    if let Some((resolve, _)) = state.stls_waiting.take() {
                        effects.push(Effect::Call((resolve, state.tls.clone())));
                    }
                }
                TransportEvent::Wire(sample) => {
                    state.wire = convert::wire(&sample);
                    if let Some(f) = state.callbacks.wire.clone() {
                        effects.push(Effect::Call((f, state.wire.clone())));
                    }
                }
                TransportEvent::Refused { code, message } => {
                    let refusal = BridgeError { code, message };
                    if let Some((_, reject)) = state.stls_waiting.take() {
                        effects.push(Effect::Call((reject, convert::bridge_error(&refusal))));
                    }
                    state.client.handle_close(
                        now,
                        crate::note!(
                            "note.bridge-refused",
                            code = refusal.code.as_str(),
                            message = refusal.message.as_str()
                        ),
                    );
                    state.refusal = Some(refusal);
                }
                TransportEvent::Ended { reason } => state.client.handle_close(now, reason),
                TransportEvent::Closed { reason } => {
                    state.link_closed = true;
                    state.client.handle_close(now, reason);
                    quit_waiting = std::mem::take(&mut state.quit_waiting);
                }
            }
        }
        self.run(effects);
        self.drive();
        // QUIT resolves once the link is closed too, after the engine's own close events.
        for ((resolve, _), value) in quit_waiting {
            let _ = resolve.call1(&JsValue::NULL, &value);
        }
    }

    fn on_timer(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            let now = state.now();
            state.client.handle_timeout(now);
        }
        self.drive();
    }

    // ----- The driving loop ---------------------------------------------------------------------

    /// Moves bytes to the transport and events to JavaScript until the engine is quiet, then
    /// re-arms the timer.
    fn drive(self: &Rc<Self>) {
        loop {
            let (bytes, event) = {
                let mut state = self.state.borrow_mut();
                let now = state.now();
                let bytes = state.client.poll_transmit(now);
                (bytes, state.client.poll_event())
            };
            if let Some(bytes) = bytes {
                self.transport.send(&bytes);
            }
            let Some(event) = event else { break };
            self.dispatch(event);
        }
        let (deadline, now) = {
            let state = self.state.borrow();
            let deadline = match state.client.state() {
                SessionState::Closed => None,
                _ => state.client.poll_timeout(),
            };
            (deadline, state.now())
        };
        self.timer.arm(deadline, now);
    }

    /// One engine event: settles promises, calls the page's callbacks, feeds the mirrors.
    fn dispatch(self: &Rc<Self>, event: Event) {
        let mut effects = Vec::new();
        let mut release: Option<Rc<Session>> = None;
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            match event {
                Event::Transcript(entry) => match state.callbacks.transcript.clone() {
                    Some(f) => effects.push(Effect::Call((f, convert::to_js(&entry)))),
                    // Kept for the first onTranscript (bounded: only the opening is expected).
                    None if state.early_transcript.len() < EARLY_TRANSCRIPT_CAP => {
                        state.early_transcript.push(convert::to_js(&entry));
                    }
                    None => {}
                },
                Event::StateChanged(session_state) => {
                    if let Some(f) = state.callbacks.state.clone() {
                        let value = JsValue::from_str(session_state.as_str());
                        effects.push(Effect::Call((f, value)));
                    }
                }
                Event::Progress(progress) => {
                    // A `retrStream` chunk goes before the progress report.
                    if let Some(chunk) = state.mirrors.progress(&mut state.client, &progress) {
                        effects.push(Effect::Call(chunk));
                    }
                    if let Some(f) = state.callbacks.progress.clone() {
                        effects.push(Effect::Call((f, convert::to_js(&progress))));
                    }
                }
                Event::Greeting(greeting) => {
                    state.greeting = convert::to_js(&greeting);
                    if let Some((resolve, _)) = state.connect.take() {
                        let client = (self.handle)(self.clone());
                        effects.push(Effect::Call((resolve, client)));
                        release = state.keepalive.take();
                    }
                }
                Event::Completed { handle, result }
                    if state
                        .batches
                        .iter()
                        .any(|job| job.batch.position(handle).is_some()) =>
                {
                    effects.extend(state.batch_completed(handle, result));
                }
                Event::Completed { handle, result } => {
                    let pending = state.pending.remove(&handle);
                    // The last `retrStream` chunk goes before the promise's resolution.
                    let (value, chunk) = state.mirrors.complete(handle, result);
                    effects.extend(chunk.map(Effect::Call));
                    let value = value.map_err(|e| convert::pop3_error(&e, state.refusal.as_ref()));
                    let settle = match (pending, value) {
                        (None, _) => None,
                        (Some(p), Err(error)) => Some((p.resolvers.1, error)),
                        (Some(p), Ok(value)) => match p.settle {
                            Settle::Reply => Some((p.resolvers.0, value)),
                            // Resolved by the transport's `Tls` once the upgrade is done.
                            Settle::Stls => {
                                state.stls_waiting = Some(p.resolvers);
                                None
                            }
                            Settle::Quit if state.link_closed => Some((p.resolvers.0, value)),
                            Settle::Quit => {
                                state.quit_waiting.push((p.resolvers, value));
                                None
                            }
                        },
                    };
                    effects.extend(settle.map(Effect::Call));
                }
                Event::StartTls => effects.push(Effect::StartTls),
                Event::Closed => {
                    effects.push(Effect::Close);
                    if let Some((_, reject)) = state.connect.take() {
                        // Say why: a refusal, a greeting timeout, a -ERR greeting, a drop.
                        let error = state.close_error(crate::note!("note.closed-before-greeting"));
                        effects.push(Effect::Call((reject, error)));
                        release = state.keepalive.take();
                    }
                    if let Some((_, reject)) = state.stls_waiting.take() {
                        // Say why: a refusal (tls-failed), the engine's TLS deadline, a drop.
                        // (Rejected after the borrow like every other callback; before the
                        // split this one was called with the borrow held.)
                        let error = state.close_error(crate::note!("note.closed-during-stls"));
                        effects.push(Effect::Call((reject, error)));
                    }
                }
            }
        }
        self.run(effects);
        drop(release);
    }

    /// Runs what `dispatch` or a transport event collected, with no borrow held.
    fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Call((f, value)) => {
                    let _ = f.call1(&JsValue::NULL, &value);
                }
                Effect::StartTls => self.transport.start_tls(),
                Effect::Close => self.transport.close(),
                Effect::Deliver {
                    batch,
                    id,
                    on_message,
                    message,
                    size,
                } => {
                    self.with_batch(batch, |job| job.delivering += 1);
                    let outcome = on_message.call1(&JsValue::NULL, &message);
                    drop(message);
                    self.with_batch(batch, |job| {
                        job.delivering = job.delivering.saturating_sub(1);
                        match outcome {
                            Ok(_) => {
                                job.retrieved += 1;
                                job.bytes += size as f64;
                            }
                            Err(thrown) => {
                                job.failed.push(&failure(id, &thrown));
                            }
                        }
                    });
                    self.finish_batch(batch);
                }
                Effect::FinishBatch(batch) => self.finish_batch(batch),
            }
        }
    }

    /// Runs `update` on the batch's job, if it is still waiting.
    fn with_batch(&self, batch: Batch, update: impl FnOnce(&mut BatchJob)) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        if let Some(job) = state.batches.iter_mut().find(|job| job.batch == batch) {
            update(job);
        }
    }

    /// Resolves the batch's promise with `{ retrieved, bytes, failed }` if the engine has handed
    /// over every message and no `onMessage` of it is running.
    fn finish_batch(&self, batch: Batch) {
        let job = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let done = state.client.batch_remaining(&batch) == 0;
            let Some(index) = state
                .batches
                .iter()
                .position(|job| job.batch == batch && job.delivering == 0 && done)
            else {
                return;
            };
            state.batches.remove(index)
        };
        let out = Object::new();
        convert::set(&out, "retrieved", job.retrieved);
        convert::set(&out, "bytes", job.bytes);
        convert::set(&out, "failed", job.failed);
        let _ = job.resolvers.0.call1(&JsValue::NULL, &out.into());
    }
}

impl State {
    /// A batch message completed: its octets for `onMessage` (the engine's copy dropped), or
    /// its error recorded; then the batch's end, if this was its last message.
    fn batch_completed(
        &mut self,
        handle: CommandHandle,
        result: Result<crate::client::Reply, Pop3Error>,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let bytes = self.mirrors.complete_bytes(handle, result);
        let refusal = self.refusal.as_ref();
        let Some(job) = self
            .batches
            .iter()
            .find(|job| job.batch.position(handle).is_some())
        else {
            return effects;
        };
        let index = job.batch.position(handle).unwrap_or_default();
        let id = job.ids.get(index).copied().unwrap_or_default();
        match bytes {
            Ok(bytes) => effects.push(Effect::Deliver {
                batch: job.batch,
                id,
                on_message: job.on_message.clone(),
                size: bytes.length() as usize,
                message: batch_message(id, index, bytes),
            }),
            Err(err) => {
                job.failed
                    .push(&failure(id, &convert::pop3_error(&err, refusal)));
            }
        }
        if self.client.batch_remaining(&job.batch) == 0 {
            effects.push(Effect::FinishBatch(job.batch));
        }
        effects
    }
}

/// What `onMessage` gets: `{ id, index, bytes }`.
fn batch_message(id: u32, index: usize, bytes: Uint8Array) -> JsValue {
    let out = Object::new();
    convert::set(&out, "id", id);
    convert::set(&out, "index", index as u32);
    convert::set(&out, "bytes", bytes);
    out.into()
}

/// One entry of a batch's `failed`: `{ id, error }`.
fn failure(id: u32, error: &JsValue) -> JsValue {
    let out = Object::new();
    convert::set(&out, "id", id);
    convert::set(&out, "error", error.clone());
    out.into()
}

/// The transcript's line for an established TLS connection.
fn describe_tls(info: &TlsInfo) -> Note {
    let subject = info.peer.as_ref().map_or("", |peer| peer.subject.as_str());
    let (version, cipher) = (info.version.as_str(), info.cipher.as_str());
    if info.verified {
        crate::note!(
            "note.tls-verified",
            version = version,
            cipher = cipher,
            subject = subject
        )
    } else {
        crate::note!(
            "note.tls-unverified",
            version = version,
            cipher = cipher,
            subject = subject
        )
    }
}
