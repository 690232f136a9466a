//! The transport seam: what carries the engine's bytes to a POP3 server and back.
//!
//! A session ([`super::session`]) knows nothing of WebSockets. It talks to one
//! `Box<dyn` [`Transport]`>` and hears from it through a [`Sink`]:
//!
//! ```text
//!   Pop3Client (client.rs, the JS surface)
//!        │ commands, callbacks, promises
//!   Session (session.rs: engine + promises + timer + RETR mirror)
//!        │ send / start_tls / close            ▲ TransportEvent via Sink
//!        ▼                                     │
//!   Transport: BridgeTransport (bridge.rs: WebSocket ⇄ popwire-bridge)
//!           or WorkerTransport (worker.rs: MessageChannel ⇄ the in-browser server's Worker)
//! ```
//!
//! # Adding a transport
//!
//! 1. Parse its options in [`Target::from_options`] (a new variant of [`Target`]; e.g.
//!    [`Target::InBrowser`]: `{ target: "in-browser" }` with no `bridge`, for the teaching
//!    server in a Web Worker reached through a `MessageChannel`) and open it in [`Target::open`]. Opening may fail
//!    (the promise of `connect()` rejects with that error); it must not deliver events yet.
//! 2. Implement [`Transport`]: `start(sink)` installs its JS handlers (created once, each
//!    holding a clone of the sink, which holds only a `Weak` to the session), `send` hands bytes
//!    to the server, `start_tls` upgrades after the server's `+OK` to `STLS`, `close` ends the
//!    link. Its `Drop` unsets every handler it installed before the closures are dropped.
//! 3. Report what happens as [`TransportEvent`]s, in order, with [`Sink::deliver`]:
//!    [`Note`](TransportEvent::Note)s for the transcript, [`Received`](TransportEvent::Received)
//!    bytes, [`Tls`](TransportEvent::Tls) once TLS is up, [`Wire`](TransportEvent::Wire) samples
//!    of what crossed below TLS (only a transport that does TLS, after
//!    [`Transport::watch_wire`]; the default does nothing), [`Refused`](TransportEvent::Refused)
//!    or [`Ended`](TransportEvent::Ended) when the far side gives up, and exactly one
//!    [`Closed`](TransportEvent::Closed) when the link is gone (nothing is delivered after it).
//!
//! Nothing in `client.rs` or `session.rs` changes for a new transport.
//!
//! # Rules a transport keeps
//!
//! - **Deliver from the event loop only.** [`Sink::deliver`] is called from the transport's own
//!   JS handlers (a message, a close), never from inside `send`, `start_tls` or `close`: the
//!   session calls those while it is driving the engine, and a delivery re-enters the session.
//!   (The session calls them with no `RefCell` borrow held, so a mistake here re-orders events
//!   rather than panicking, but the order is part of the transcript.)
//! - **No JS callback of the page runs inside a transport.** Promises and `onTranscript` & co.
//!   are the session's; a transport only delivers events.
//! - **Bytes are opaque.** A transport never reads or changes POP3 bytes; STLS is a clean cut
//!   because the session tells it when (`start_tls`), not because it watches the stream.

mod bridge;
mod worker;

use std::rc::Rc;

use wasm_bindgen::JsValue;

use super::convert::{self, get};
use crate::bridge_protocol::{Refusal, TlsInfo, WireSample};
use crate::explain::Note;

pub(crate) use bridge::BridgeTransport;
pub(crate) use worker::{in_browser_server, WorkerTransport};

/// Something that carries the engine's bytes to a POP3 server and reports what happens to the
/// link through the [`Sink`] given to [`Transport::start`].
pub(crate) trait Transport {
    /// Installs the transport's handlers; from now on it reports through `sink`. Called once,
    /// right after the session is built, before anything is sent.
    fn start(&self, sink: Sink);
    /// Hands bytes to the server, in order. Bytes sent while the link is not open are dropped
    /// (the engine learns of the close from a [`TransportEvent::Closed`]).
    fn send(&self, bytes: &[u8]);
    /// Upgrades to TLS: every byte sent so far has gone out first. Answered later by a
    /// [`TransportEvent::Tls`], or by a [`TransportEvent::Refused`] and the close.
    fn start_tls(&self);
    /// Asks to be told what crosses the wire below TLS ([`TransportEvent::Wire`]). A transport
    /// that does no TLS has nothing to tell: the default does nothing.
    fn watch_wire(&self) {}
    /// Closes the link (no effect when it is already closing). A [`TransportEvent::Closed`]
    /// follows from the event loop.
    fn close(&self);
}

/// What a transport reports, in the order it happened.
#[derive(Debug)]
pub(crate) enum TransportEvent {
    /// A line for the transcript (`info` direction), explained by `key` (e.g. `info.bridge`).
    Note {
        /// The explanation key; unknown keys fall back to `info.bridge`.
        key: &'static str,
        /// What it says: a note the page says in its language (its English is the entry's text).
        text: Note,
    },
    /// Bytes from the server.
    Received(Vec<u8>),
    /// TLS is up with the server: at the start (implicit TLS) or after `start_tls`.
    Tls(TlsInfo),
    /// What crossed the connection to the server since TLS began (ciphertext), after
    /// [`Transport::watch_wire`].
    Wire(WireSample),
    /// The transport refused or ended the session for a reason the page can switch on (JS kind
    /// `bridge`, with the code); a [`TransportEvent::Closed`] follows.
    Refused {
        /// Why.
        code: Refusal,
        /// A sentence for a person.
        message: String,
    },
    /// The server side ended (it closed, or the link to it failed); a
    /// [`TransportEvent::Closed`] follows.
    Ended {
        /// A sentence for a person, as a note.
        reason: Note,
    },
    /// The link is closed; nothing more comes.
    Closed {
        /// A sentence for a person, e.g. with the WebSocket's close code, as a note.
        reason: Note,
    },
}

/// Where a transport delivers its events: a function of the session that holds it only weakly,
/// so that a transport's closures never keep a session alive (a dropped session drops its
/// transport). The transport knows nothing else of the session.
#[derive(Clone)]
pub(crate) struct Sink(Rc<dyn Fn(TransportEvent)>);

impl Sink {
    /// A sink that hands each event to `deliver` (the session's, which does nothing once the
    /// session is gone).
    pub(crate) fn new(deliver: impl Fn(TransportEvent) + 'static) -> Sink {
        Sink(Rc::new(deliver))
    }

    /// Hands one event to the session. Call it from the event loop only (a JS handler), never
    /// from inside a [`Transport`] method.
    pub(crate) fn deliver(&self, event: TransportEvent) {
        (self.0)(event);
    }
}

/// The target name that means the in-browser server when no `bridge` is given.
pub(crate) const IN_BROWSER: &str = "in-browser";

/// Where `connect()` goes: which transport, with its options. Parsed before anything opens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// `{ bridge: URL, target: NAME }`: a WebSocket to popwire-bridge, which connects to the
    /// target it has configured under `NAME`.
    Bridge {
        /// The bridge's WebSocket URL (`ws://HOST/bridge`).
        bridge: String,
        /// The target's name.
        target: String,
    },
    /// `{ target: "in-browser" }` (no `bridge`) or `{ server: worker }`: the simulated teaching
    /// server in a Web Worker, through a `MessageChannel`.
    InBrowser {
        /// The `server` given (a `Worker` running `server-worker.js`), else `None`: the page's
        /// shared one, started on first use from `worker_url`.
        server: Option<JsValue>,
        /// `workerUrl`: where the shared worker's script is (default `server-worker.js`,
        /// relative to the document).
        worker_url: Option<String>,
    },
}

impl Target {
    /// Reads the transport options of `connect(options)`, or an `input` error saying what is
    /// missing. Opens nothing.
    pub(crate) fn from_options(options: &JsValue) -> Result<Target, JsValue> {
        let bridge = get(options, "bridge").as_string();
        let target = get(options, "target").as_string();
        let server = Some(get(options, "server")).filter(|s| !s.is_undefined() && !s.is_null());
        let worker_url = get(options, "workerUrl").as_string();
        match (bridge, target, server) {
            (Some(_), _, Some(_)) => Err(convert::input_error(
                "connect() takes either { bridge, target } or { server }, not both",
            )),
            (None, None, server @ Some(_)) => Ok(Target::InBrowser { server, worker_url }),
            (None, Some(target), server) if target == IN_BROWSER => {
                Ok(Target::InBrowser { server, worker_url })
            }
            (Some(bridge), Some(target), None) => Ok(Target::Bridge { bridge, target }),
            _ => Err(convert::input_error(
                "connect() needs { bridge: URL, target: NAME } or { target: \"in-browser\" }",
            )),
        }
    }

    /// Opens the transport (no events are delivered before [`Transport::start`]), or a
    /// `network` error.
    pub(crate) fn open(self) -> Result<Box<dyn Transport>, JsValue> {
        match self {
            Target::Bridge { bridge, target } => {
                Ok(Box::new(BridgeTransport::open(&bridge, &target)?))
            }
            Target::InBrowser { server, worker_url } => {
                let server = match server {
                    Some(server) => server,
                    None => in_browser_server(worker_url.as_deref())?,
                };
                Ok(Box::new(WorkerTransport::open(server)?))
            }
        }
    }
}
