//! `ServerHost`, the JavaScript face of [`Host`] (wasm32 only). Values cross with
//! serde-wasm-bindgen (JSON-compatible: plain objects, numbers); errors are `Error`s with the
//! reason as message.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::host::{Faults, Host, Target};

/// One simulated teaching POP3 server: see `docs/in-browser-server.md`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ServerHost {
    host: Host,
    /// The part of a millisecond `advance` was given beyond whole milliseconds.
    fraction: f64,
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

#[wasm_bindgen]
impl ServerHost {
    /// A server with fresh maildrops at virtual time 0; `seed` (random) makes its APOP
    /// timestamps and CRAM-MD5 challenges its own.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: u32) -> ServerHost {
        ServerHost {
            host: Host::new(seed),
            fraction: 0.0,
        }
    }

    /// A new connection; its greeting is ready for `transmit`. Returns its id.
    pub fn connect(&mut self) -> u32 {
        self.host.connect()
    }

    /// Bytes from the client of `conn`.
    pub fn feed(&mut self, conn: u32, bytes: &[u8]) -> Result<(), JsError> {
        self.host.feed(conn, bytes).map_err(JsError::from)
    }

    /// The next bytes for the client of `conn`, or `undefined`. Call again after sending them.
    pub fn transmit(&mut self, conn: u32) -> Option<Vec<u8>> {
        self.host.transmit(conn)
    }

    /// Why the server closed `conn` (`"quit"`, `"autologout"`, `"fault"`, `"input-limit"`)
    /// once everything it sent was taken; `undefined` while open.
    pub fn closed(&self, conn: u32) -> Option<String> {
        self.host.closed(conn).map(str::to_owned)
    }

    /// The client hung up (or the worker is done with a closed connection): releases the lock,
    /// deletes nothing, forgets the id.
    pub fn close(&mut self, conn: u32) {
        self.host.close(conn);
    }

    /// When the next session timer is due, in virtual ms; `undefined` if none.
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.host.poll_timeout().map(|t| t as f64)
    }

    /// Moves the virtual clock `ms` forward (fractions accumulate) and runs the timers due.
    pub fn advance(&mut self, ms: f64) {
        if !ms.is_finite() || ms <= 0.0 {
            return;
        }
        let total = self.fraction + ms;
        let whole = total.floor();
        self.fraction = total - whole;
        self.host.advance(whole as u64);
    }

    /// The virtual time in ms.
    pub fn now(&self) -> f64 {
        self.host.now() as f64
    }

    /// Delivers a message to `user`: `{ user, id, uid, size }`.
    pub fn deliver(&mut self, user: &str, message: &[u8]) -> Result<JsValue, JsError> {
        let delivered = self.host.deliver(user, message)?;
        to_js(&delivered)
    }

    /// Puts `user`'s maildrop back to the samples (refused while locked).
    pub fn reset(&mut self, user: &str) -> Result<(), JsError> {
        self.host.reset(user).map_err(JsError::from)
    }

    /// Sets fault modes: `target` is a connection id, `"next"` or `"all"`; `faults` an object
    /// of the fields in docs/in-browser-server.md (missing ones off).
    #[wasm_bindgen(js_name = setFaults)]
    pub fn set_faults(&mut self, target: JsValue, faults: JsValue) -> Result<(), JsError> {
        let target = match (target.as_f64(), target.as_string().as_deref()) {
            (Some(id), _) if id >= 0.0 && id <= f64::from(u32::MAX) && id.fract() == 0.0 => {
                Target::Conn(id as u32)
            }
            (_, Some("next")) => Target::Next,
            (_, Some("all")) => Target::All,
            _ => return Err(JsError::new("target: a connection id, \"next\" or \"all\"")),
        };
        if !faults.is_object() {
            return Err(JsError::new("faults: an object"));
        }
        // serde-wasm-bindgen reads only the fields it knows: a misspelt one would be ignored.
        for key in js_sys::Object::keys(&js_sys::Object::from(faults.clone())) {
            let key = key.as_string().unwrap_or_default();
            if !Faults::FIELDS.contains(&key.as_str()) {
                let known = Faults::FIELDS.join(", ");
                return Err(JsError::new(&format!(
                    "faults: unknown field {key:?} (known: {known})"
                )));
            }
        }
        let faults: Faults = serde_wasm_bindgen::from_value(faults)
            .map_err(|e| JsError::new(&format!("faults: {e}")))?;
        self.host.set_faults(target, faults).map_err(JsError::from)
    }

    /// The fault modes of `conn` now, or `undefined`.
    pub fn faults(&self, conn: u32) -> Result<JsValue, JsError> {
        match self.host.faults(conn) {
            Some(f) => to_js(f),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// The server's side of `user`'s maildrop.
    pub fn view(&self, user: &str) -> Result<JsValue, JsError> {
        to_js(&self.host.view(user))
    }

    /// Every connection: `[{ id, user, state, faults }]`.
    pub fn connections(&self) -> Result<JsValue, JsError> {
        to_js(&self.host.connections())
    }
}
