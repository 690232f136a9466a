//! Data to JavaScript: replies, errors, events. The one place where engine types become JS values.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use crate::bridge_protocol::{BridgeControl, Refusal, TlsInfo, WireDirection, WireSample};
use crate::client::{CheckedLine, Reply};
use crate::explain::{Explain, Note};
use crate::Pop3Error;

/// The serializer every value goes through: `None` becomes `null`, bytes a `Uint8Array`.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}

/// Sets `key` on a JS object; setting a property on a fresh plain object cannot fail.
pub(crate) fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

/// Reads `key` of a JS value, `undefined` when absent.
pub(crate) fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A refusal of the transport (the bridge's `error` control message): JS kind `bridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BridgeError {
    /// Why, as a code the page can switch on (the error's `code`).
    pub(crate) code: Refusal,
    /// A sentence for a person.
    pub(crate) message: String,
}

/// The one error-mapping function: an `Error` named `Pop3Error` with `kind`, `code`,
/// `serverText` and `explain` ([`Pop3Error::info`]). A connection closed by a bridge refusal is
/// reported as kind `bridge`.
pub(crate) fn pop3_error(err: &Pop3Error, bridge: Option<&BridgeError>) -> JsValue {
    match (err, bridge) {
        (Pop3Error::Closed { .. }, Some(b)) => bridge_error(b),
        _ => {
            let info = err.info();
            let code = info
                .code
                .as_deref()
                .map(JsValue::from_str)
                .unwrap_or(JsValue::NULL);
            let error = make_error(
                &info.message,
                info.kind,
                code,
                Some(info.explain),
                &info.note,
            );
            let server_text = info
                .server_text
                .as_deref()
                .map(JsValue::from_str)
                .unwrap_or(JsValue::NULL);
            set(error.unchecked_ref(), "serverText", server_text);
            error
        }
    }
}

/// A `Pop3Error` of kind `bridge`.
pub(crate) fn bridge_error(b: &BridgeError) -> JsValue {
    let explain = crate::explain::lookup("info.bridge");
    make_error(
        &format!("the bridge refused: {} ({})", b.message, b.code),
        "bridge",
        JsValue::from_str(b.code.as_str()),
        explain,
        &crate::note!(
            "note.bridge-refused",
            code = b.code.as_str(),
            message = b.message.as_str()
        ),
    )
}

/// A `Pop3Error` of kind `network` (the bridge could not be reached or the link dropped).
pub(crate) fn network_error(note: impl Into<Note>) -> JsValue {
    let note = note.into();
    make_error(
        &note.english(),
        "network",
        JsValue::NULL,
        crate::explain::lookup("error.network"),
        &note,
    )
}

/// A `Pop3Error` of kind `input` for a bad argument given to the API.
pub(crate) fn input_error(message: &str) -> JsValue {
    make_error(
        message,
        "input",
        JsValue::NULL,
        crate::explain::lookup("input.missing-argument"),
        &Note::said(message),
    )
}

/// An `Error` named `Pop3Error` (`serverText` is `null` unless [`pop3_error`] sets it), with
/// `note`: `message` as a key and its values, for the page to say in its language.
fn make_error(
    message: &str,
    kind: &str,
    code: JsValue,
    explain: Option<Explain>,
    note: &Note,
) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("Pop3Error");
    set(&error, "kind", kind);
    set(&error, "code", code);
    set(
        &error,
        "explain",
        explain.map(|e| to_js(&e)).unwrap_or(JsValue::NULL),
    );
    set(&error, "serverText", JsValue::NULL);
    set(&error, "note", to_js(note));
    error.into()
}

/// A reply as the JS API promises it.
pub(crate) fn reply(reply: Reply) -> JsValue {
    match reply {
        Reply::Status(status) => {
            let out = Object::new();
            set(&out, "ok", status.is_ok());
            set(&out, "text", status.text.as_str());
            set(
                &out,
                "code",
                status
                    .code
                    .map(|c| JsValue::from_str(c.as_str()))
                    .unwrap_or(JsValue::NULL),
            );
            out.into()
        }
        Reply::Stat(stat) => to_js(&stat),
        Reply::List(list) => to_js(&list),
        Reply::ListOne(entry) => to_js(&entry),
        Reply::Uidl(list) => to_js(&list),
        Reply::UidlOne(entry) => to_js(&entry),
        Reply::Capabilities(caps) => to_js(&caps),
        Reply::Languages(langs) => to_js(&langs),
        Reply::Message(bytes) => message(&bytes),
        Reply::Raw(raw) => to_js(&raw),
    }
}

#[wasm_bindgen(inline_js = "
export function messageData(bytes) {
  let text;
  return {
    bytes,
    get text() { return text ??= new TextDecoder().decode(bytes); },
  };
}")]
extern "C" {
    /// `{ bytes, text }` where `text` is decoded (UTF-8, lossy) on first use: a 50 MB RETR does
    /// not pay for a string nobody reads.
    #[wasm_bindgen(js_name = messageData)]
    fn message_data(bytes: Uint8Array) -> JsValue;
}

/// `{ bytes: Uint8Array, text }` for RETR and TOP.
pub(crate) fn message(bytes: &[u8]) -> JsValue {
    message_from(Uint8Array::from(bytes))
}

/// `{ bytes, text }` around a JS array that already holds the message.
pub(crate) fn message_from(bytes: Uint8Array) -> JsValue {
    message_data(bytes)
}

/// `{ size }`: what `retrStream` resolves with once the whole message was handed over.
pub(crate) fn streamed(size: usize) -> JsValue {
    let out = Object::new();
    set(&out, "size", size as f64);
    out.into()
}

/// The `tls` getter's and `stls()`'s value: `{ op: "tls", version, cipher, verified, peer }`
/// (the `op` is the bridge message's, kept since the API has always had it).
pub(crate) fn tls(info: &TlsInfo) -> JsValue {
    to_js(&BridgeControl::Tls(info.clone()))
}

/// A wire sample as the JS `WireSample`: the bridge's message (without its `op`), each
/// direction with the record headers its samples begin with (`firstRecord`, `latestRecord`:
/// `{ type, version, length }` or `null`), read by [`crate::bridge_protocol::TlsRecordHeader`].
pub(crate) fn wire(sample: &WireSample) -> JsValue {
    let side = |d: &WireDirection| {
        let out = to_js(d);
        if let Some(object) = out.dyn_ref::<Object>() {
            set(object, "firstRecord", to_js(&d.first_record()));
            set(object, "latestRecord", to_js(&d.latest_record()));
        }
        out
    };
    let out = Object::new();
    set(&out, "up", side(&sample.up));
    set(&out, "down", side(&sample.down));
    out.into()
}

/// A list of strings as a JS array.
pub(crate) fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

/// What `check()` and `checkCommand()` say of a line: `{ ok: true, saslResponse, command,
/// keyword, allowed, multiline, masked, explain }` (a [`CheckedLine`]), or `{ ok: false, reason,
/// kind, explain }` with the error `send()` would reject with.
pub(crate) fn check_result(result: Result<CheckedLine, Pop3Error>) -> JsValue {
    match result {
        Ok(checked) => {
            let out = to_js(&checked);
            if let Some(object) = out.dyn_ref::<Object>() {
                set(object, "ok", true);
            }
            out
        }
        Err(err) => {
            let out = Object::new();
            set(&out, "ok", false);
            set(&out, "reason", err.to_string().as_str());
            set(&out, "note", to_js(&err.note()));
            set(&out, "kind", err.kind());
            set(&out, "explain", to_js(&err.explain()));
            out.into()
        }
    }
}
