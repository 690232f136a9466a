//! The second transport: the in-browser teaching server, a simulated POP3 server in a Web
//! Worker (`www/server-worker.js`, protocol in `docs/in-browser-server.md`).
//!
//! `open` asks the worker for a connection with a fresh `MessageChannel`: one port goes to the
//! worker, this transport keeps the other, and the pair then carries the connection like a TCP
//! stream (`{ data: Uint8Array }` both ways, `{ op: "close" }` both ways; the worker first says
//! `{ op: "open", conn }`). There is no network and no TLS: the simulated server does not offer
//! STLS, and a `start_tls` (which only a `+OK` to STLS would cause) is refused.
//!
//! The worker is either the one given as `connect({ server })` or the page's shared one, started
//! on first use by [`in_browser_server`] (so a page that never uses it never loads its module).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent};

use super::{Sink, Transport, TransportEvent};
use crate::bridge_protocol::Refusal;
use crate::explain::Note;
use crate::wasm::convert::{self, get, set};

/// The explanation key of every note this transport writes into the transcript.
const NOTE_KEY: &str = "info.in-browser";

/// The worker script the shared server starts from when `workerUrl` is not given, resolved
/// against the document's base URL (the page's `www/`).
pub(crate) const DEFAULT_WORKER_URL: &str = "server-worker.js";

#[wasm_bindgen]
extern "C" {
    /// `MessageChannel`.
    #[wasm_bindgen(js_name = MessageChannel)]
    type Channel;
    #[wasm_bindgen(constructor, js_class = MessageChannel, catch)]
    fn new() -> Result<Channel, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn port1(this: &Channel) -> Port;
    #[wasm_bindgen(method, getter)]
    fn port2(this: &Channel) -> Port;

    /// A `MessagePort`.
    type Port;
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    fn post(this: &Port, message: &JsValue, transfer: &Array) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &Port, handler: Option<&Function>);
    #[wasm_bindgen(method)]
    fn close(this: &Port);

    /// What serves connections: a `Worker` (or a `MessagePort` to one): anything with
    /// `postMessage` and `addEventListener`.
    type Endpoint;
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    fn post(this: &Endpoint, message: &JsValue, transfer: &Array) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add_listener(this: &Endpoint, kind: &str, handler: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    fn remove_listener(this: &Endpoint, kind: &str, handler: &Function) -> Result<(), JsValue>;

    /// `Worker`.
    #[wasm_bindgen(js_name = Worker)]
    type WorkerHandle;
    #[wasm_bindgen(constructor, js_class = Worker, catch)]
    fn new(url: &str, options: &JsValue) -> Result<WorkerHandle, JsValue>;

    /// `URL`.
    #[wasm_bindgen(js_name = URL)]
    type Url;
    #[wasm_bindgen(constructor, js_class = URL, catch)]
    fn new(url: &str, base: &str) -> Result<Url, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn href(this: &Url) -> String;
}

thread_local! {
    /// The shared in-browser servers started so far, by absolute script URL.
    static SERVERS: RefCell<Vec<(String, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// The shared in-browser server's `Worker` for `url` (default [`DEFAULT_WORKER_URL`], relative
/// to the document's base URL), started (as a module worker) on the first call for that URL.
/// `connect({ target: "in-browser" })` uses the same one, so its controls reach its connections.
pub(crate) fn in_browser_server(url: Option<&str>) -> Result<JsValue, JsValue> {
    let href = resolve(url.unwrap_or(DEFAULT_WORKER_URL))?;
    if let Some(found) = SERVERS.with(|s| {
        s.borrow()
            .iter()
            .find(|(u, _)| *u == href)
            .map(|(_, w)| w.clone())
    }) {
        return Ok(found);
    }
    let options = Object::new();
    set(&options, "type", "module");
    set(&options, "name", "popwire in-browser server (simulated)");
    let worker: JsValue = WorkerHandle::new(&href, &options)
        .map_err(|e| {
            let why = e.as_string().unwrap_or_else(|| error_message(&e));
            convert::network_error(crate::note!("note.in-browser-unreachable", why = why))
        })?
        .into();
    SERVERS.with(|s| s.borrow_mut().push((href, worker.clone())));
    Ok(worker)
}

/// `url` made absolute against the document's base URL (or the worker's location).
fn resolve(url: &str) -> Result<String, JsValue> {
    let global = js_sys::global();
    let base = get(&get(&global, "document"), "baseURI")
        .as_string()
        .or_else(|| get(&get(&global, "location"), "href").as_string())
        .unwrap_or_default();
    Url::new(url, &base)
        .map(|u| u.href())
        .map_err(|_| convert::input_error(&format!("workerUrl {url:?} is not a URL")))
}

fn error_message(e: &JsValue) -> String {
    get(e, "message")
        .as_string()
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// Where the link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Bytes flow.
    Open,
    /// The page closed it or it failed; a `Closed` is scheduled.
    Closing,
    /// `Closed` was delivered.
    Closed,
}

/// What the handlers share with the transport.
struct Shared {
    link: Cell<Link>,
    /// The opening note is in the transcript.
    noted: Cell<bool>,
}

/// One connection to the in-browser server over a `MessageChannel`.
pub(crate) struct WorkerTransport {
    server: Endpoint,
    port: Port,
    shared: Rc<Shared>,
    sink: RefCell<Option<Sink>>,
    /// The closures the port and the worker call, created once by `start`; unset before drop.
    handlers: RefCell<Option<Handlers>>,
}

struct Handlers {
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_error: Closure<dyn FnMut(Event)>,
}

impl WorkerTransport {
    /// Asks `server` (a `Worker`, or a `MessagePort` to one) for a connection, or a `network`
    /// error when it cannot be asked.
    pub(crate) fn open(server: JsValue) -> Result<WorkerTransport, JsValue> {
        let not_a_server =
            || convert::input_error("connect(): server must be a Worker running server-worker.js");
        if !get(&server, "postMessage").is_function()
            || !get(&server, "addEventListener").is_function()
        {
            return Err(not_a_server());
        }
        let server: Endpoint = server.unchecked_into();
        let channel = Channel::new().map_err(|e| {
            convert::network_error(crate::note!(
                "note.in-browser-unreachable",
                why = error_message(&e)
            ))
        })?;
        let (port, theirs) = (channel.port1(), channel.port2());
        let request = Object::new();
        set(&request, "id", "popwire:connect");
        set(&request, "op", "connect");
        set(&request, "port", &theirs);
        server.post(&request, &Array::of1(&theirs)).map_err(|e| {
            convert::network_error(crate::note!(
                "note.in-browser-unreachable",
                why = error_message(&e)
            ))
        })?;
        Ok(WorkerTransport {
            server,
            port,
            shared: Rc::new(Shared {
                link: Cell::new(Link::Open),
                noted: Cell::new(false),
            }),
            sink: RefCell::new(None),
            handlers: RefCell::new(None),
        })
    }

    /// Delivers `events` then `Closed` from a microtask (after the caller's stack unwinds), once.
    fn close_later(&self, events: Vec<TransportEvent>, reason: Note) {
        if self.shared.link.get() != Link::Open {
            return;
        }
        self.shared.link.set(Link::Closing);
        let Some(sink) = self.sink.borrow().clone() else {
            return;
        };
        let shared = self.shared.clone();
        let later = Closure::once_into_js(move || {
            for event in events {
                sink.deliver(event);
            }
            if shared.link.get() != Link::Closed {
                shared.link.set(Link::Closed);
                sink.deliver(TransportEvent::Closed { reason });
            }
        });
        if let Ok(queue) = get(&js_sys::global(), "queueMicrotask").dyn_into::<Function>() {
            let _ = queue.call1(&JsValue::UNDEFINED, &later);
        }
    }
}

impl Transport for WorkerTransport {
    fn start(&self, sink: Sink) {
        *self.sink.borrow_mut() = Some(sink.clone());
        let messages = sink.clone();
        let shared = self.shared.clone();
        let port: Port = self.port.clone().unchecked_into();
        let on_message = Closure::wrap(Box::new(move |event: MessageEvent| {
            if shared.link.get() == Link::Closed {
                return;
            }
            let events = read_message(&event.data(), &shared);
            for event in events {
                let closed = matches!(event, TransportEvent::Closed { .. });
                if closed {
                    shared.link.set(Link::Closed);
                    port.set_onmessage(None);
                    port.close();
                }
                messages.deliver(event);
                if closed {
                    return;
                }
            }
        }) as Box<dyn FnMut(MessageEvent)>);
        let shared = self.shared.clone();
        let on_error = Closure::wrap(Box::new(move |event: Event| {
            if shared.link.get() == Link::Closed {
                return;
            }
            shared.link.set(Link::Closed);
            let reason = match get(&event, "message").as_string().filter(|m| !m.is_empty()) {
                Some(why) => crate::note!("note.in-browser-worker-failed", why = why),
                None => crate::note!("note.in-browser-worker-unloaded"),
            };
            sink.deliver(note(reason.clone()));
            sink.deliver(TransportEvent::Ended {
                reason: reason.clone(),
            });
            sink.deliver(TransportEvent::Closed { reason });
        }) as Box<dyn FnMut(Event)>);
        let handlers = Handlers {
            on_message,
            on_error,
        };
        self.port
            .set_onmessage(Some(handlers.on_message.as_ref().unchecked_ref()));
        let _ = self
            .server
            .add_listener("error", handlers.on_error.as_ref().unchecked_ref());
        *self.handlers.borrow_mut() = Some(handlers);
    }

    fn send(&self, bytes: &[u8]) {
        if self.shared.link.get() != Link::Open {
            return;
        }
        let data = Uint8Array::from(bytes);
        let message = Object::new();
        set(&message, "data", &data);
        let _ = self.port.post(&message, &Array::of1(&data.buffer()));
    }

    fn start_tls(&self) {
        // Only a +OK to STLS leads here, and the simulated server never offers it: there is no
        // TLS inside the browser's worker. Refuse clearly rather than pretend.
        let message = crate::note!("note.in-browser-no-tls");
        self.hang_up();
        self.close_later(
            vec![
                note(message.clone()),
                TransportEvent::Refused {
                    code: Refusal::TlsFailed,
                    message: message.english(),
                },
            ],
            message,
        );
    }

    fn close(&self) {
        self.hang_up();
        self.close_later(Vec::new(), crate::note!("note.in-browser-page-closed"));
    }
}

impl WorkerTransport {
    /// Tells the server the client hung up and closes our port (nothing arrives after).
    fn hang_up(&self) {
        if self.shared.link.get() == Link::Open {
            let message = Object::new();
            set(&message, "op", "close");
            let _ = self.port.post(&message, &Array::new());
        }
        self.port.set_onmessage(None);
        self.port.close();
    }
}

impl Drop for WorkerTransport {
    fn drop(&mut self) {
        self.hang_up();
        self.shared.link.set(Link::Closed);
        if let Some(handlers) = self.handlers.borrow().as_ref() {
            let _ = self
                .server
                .remove_listener("error", handlers.on_error.as_ref().unchecked_ref());
        }
        // `handlers` drops after this: neither the port nor the worker refers to the closures.
    }
}

fn note(text: Note) -> TransportEvent {
    TransportEvent::Note {
        key: NOTE_KEY,
        text,
    }
}

/// The opening note, once: what the transcript says before the greeting.
fn opening(shared: &Shared, conn: Option<u32>) -> Option<TransportEvent> {
    if shared.noted.replace(true) {
        return None;
    }
    Some(note(match conn {
        Some(conn) => crate::note!("note.in-browser-open-conn", conn = conn),
        None => crate::note!("note.in-browser-open"),
    }))
}

/// What one message on the port means.
fn read_message(data: &JsValue, shared: &Shared) -> Vec<TransportEvent> {
    let mut events = Vec::new();
    if let Some(bytes) = get(data, "data").dyn_ref::<Uint8Array>() {
        events.extend(opening(shared, None));
        events.push(TransportEvent::Received(bytes.to_vec()));
        return events;
    }
    match get(data, "op").as_string().as_deref() {
        Some("open") => {
            let conn = get(data, "conn")
                .as_f64()
                .filter(|c| c.fract() == 0.0 && *c >= 0.0 && *c <= f64::from(u32::MAX))
                .map(|c| c as u32);
            events.extend(opening(shared, conn));
        }
        Some("close") => {
            events.extend(opening(shared, None));
            let code = get(data, "reason")
                .as_string()
                .unwrap_or_else(|| "closed".to_owned());
            let error = get(data, "error").as_string();
            let sentence = close_sentence(&code, error.as_deref());
            events.push(note(crate::note!(
                "note.in-browser-closed",
                code = code.as_str(),
                reason = sentence.clone()
            )));
            events.push(TransportEvent::Ended {
                reason: sentence.clone(),
            });
            events.push(TransportEvent::Closed { reason: sentence });
        }
        _ => {}
    }
    events
}

/// Why the simulated server closed, for a person (`code` is the worker's `reason`).
fn close_sentence(code: &str, error: Option<&str>) -> Note {
    match code {
        "quit" => crate::note!("note.in-browser-quit"),
        "autologout" => crate::note!("note.in-browser-autologout"),
        "fault" => crate::note!("note.in-browser-fault"),
        "input-limit" => crate::note!("note.in-browser-input-limit"),
        "error" => crate::note!(
            "note.in-browser-error",
            error = error.unwrap_or("unknown error")
        ),
        other => crate::note!("note.in-browser-other", code = other),
    }
}
