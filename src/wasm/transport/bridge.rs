//! The first transport: a browser WebSocket to popwire-bridge.
//!
//! Binary frames carry the POP3 bytes both ways; text frames carry the control messages of
//! [`crate::bridge_protocol`] (the same serde types the bridge sends and reads). This is the
//! only module of the wasm layer that knows the bridge's protocol.

use std::cell::RefCell;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::{Sink, Transport, TransportEvent};
use crate::bridge_protocol::{BridgeControl, ClientControl};
use crate::wasm::convert;

/// The explanation key of every note this transport writes into the transcript.
const NOTE_KEY: &str = "info.bridge";

/// A WebSocket to `bridge?target=NAME`.
pub(crate) struct BridgeTransport {
    ws: WebSocket,
    /// The closures the WebSocket calls, created once by `start`; unset before they drop.
    handlers: RefCell<Option<Handlers>>,
}

struct Handlers {
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl BridgeTransport {
    /// Opens `bridge?target=NAME` (`&target=` when the URL has a query already), or a
    /// `network` error when the browser refuses the URL.
    pub(crate) fn open(bridge: &str, target: &str) -> Result<BridgeTransport, JsValue> {
        let separator = if bridge.contains('?') { '&' } else { '?' };
        let target_param: String = js_sys::encode_uri_component(target).into();
        let url = format!("{bridge}{separator}target={target_param}");
        let ws = WebSocket::new(&url).map_err(|_| {
            convert::network_error(crate::note!("note.ws-cannot-open", bridge = bridge))
        })?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        Ok(BridgeTransport {
            ws,
            handlers: RefCell::new(None),
        })
    }
}

impl Transport for BridgeTransport {
    fn start(&self, sink: Sink) {
        let messages = sink.clone();
        let on_message = Closure::wrap(Box::new(move |event: MessageEvent| {
            for event in read_frame(&event) {
                messages.deliver(event);
            }
        }) as Box<dyn FnMut(MessageEvent)>);
        let on_close = Closure::wrap(Box::new(move |event: CloseEvent| {
            let reason = if event.reason().is_empty() {
                crate::note!("note.ws-closed-code", code = event.code())
            } else {
                crate::note!("note.ws-closed-reason", reason = event.reason())
            };
            sink.deliver(TransportEvent::Closed { reason });
        }) as Box<dyn FnMut(CloseEvent)>);
        let handlers = Handlers {
            on_message,
            on_close,
        };
        let ws = &self.ws;
        ws.set_onmessage(Some(handlers.on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(handlers.on_close.as_ref().unchecked_ref()));
        *self.handlers.borrow_mut() = Some(handlers);
    }

    fn send(&self, bytes: &[u8]) {
        if self.ws.ready_state() == WebSocket::OPEN {
            let _ = self.ws.send_with_u8_array(bytes);
        }
    }

    fn start_tls(&self) {
        if let Some(text) = control_text(&ClientControl::StartTls) {
            let _ = self.ws.send_with_str(&text);
        }
    }

    fn watch_wire(&self) {
        if self.ws.ready_state() == WebSocket::OPEN {
            if let Some(text) = control_text(&ClientControl::Wire) {
                let _ = self.ws.send_with_str(&text);
            }
        }
    }

    fn close(&self) {
        if self.ws.ready_state() != WebSocket::CLOSED {
            let _ = self.ws.close();
        }
    }
}

impl Drop for BridgeTransport {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.close();
        // `handlers` drops after this: no WebSocket refers to the closures any more.
    }
}

/// `{"op":"starttls"}` and the like: a control message as the text of a frame.
fn control_text(message: &ClientControl) -> Option<String> {
    js_sys::JSON::stringify(&convert::to_js(message))
        .ok()
        .and_then(|text| text.as_string())
}

/// What one frame from the bridge means: bytes, or the events of a control message (nothing for
/// a text frame that is not one).
fn read_frame(event: &MessageEvent) -> Vec<TransportEvent> {
    let data = event.data();
    if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        return vec![TransportEvent::Received(Uint8Array::new(buffer).to_vec())];
    }
    let Some(text) = data.as_string() else {
        return Vec::new();
    };
    let Some(control) = js_sys::JSON::parse(&text)
        .ok()
        .and_then(|value| serde_wasm_bindgen::from_value::<BridgeControl>(value).ok())
    else {
        return Vec::new();
    };
    control_events(control)
}

/// The events of one control message of the bridge. (A message this build does not know fails
/// to deserialize in [`read_frame`] and is ignored; a variant added to [`BridgeControl`] does not
/// compile here until it is handled.)
fn control_events(control: BridgeControl) -> Vec<TransportEvent> {
    let note = |text: crate::explain::Note| TransportEvent::Note {
        key: NOTE_KEY,
        text,
    };
    match control {
        BridgeControl::Connected { target, tls } => {
            let mut events = vec![note(crate::note!(
                "note.bridge-connected",
                target = target.as_str()
            ))];
            // Implicit TLS: up before the first byte (a `tls` message follows as well).
            events.extend(tls.map(TransportEvent::Tls));
            events
        }
        BridgeControl::Tls(info) => vec![TransportEvent::Tls(info)],
        BridgeControl::Wire(sample) => vec![TransportEvent::Wire(sample)],
        BridgeControl::Error { code, message } => vec![
            note(crate::note!(
                "note.bridge-refused",
                code = code.as_str(),
                message = message.as_str()
            )),
            TransportEvent::Refused { code, message },
        ],
        BridgeControl::Closed { reason } => vec![
            note(crate::note!("note.bridge-closed", reason = reason.as_str())),
            TransportEvent::Ended {
                reason: crate::note!("note.bridge-closed", reason = reason),
            },
        ],
    }
}
