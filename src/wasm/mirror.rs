//! Message bodies on their way to JavaScript while they stream: the RETR mirror and
//! `retrStream`.
//!
//! - **Mirror.** A RETR/TOP of known size (LIST's) is copied into a JS `Uint8Array` as it
//!   arrives, so that the end of a large RETR does not block the page with one big copy out of
//!   wasm memory; the promise resolves with that array.
//! - **Stream.** A `retrStream(id, onChunk)` hands each new piece of the body to its callback as
//!   it arrives, taken from the engine ([`Client::take_body`]): neither the engine nor the JS
//!   side keeps the message.
//! - **Batch.** A `retrMany` message becomes the `Uint8Array` its `onMessage` gets (from its
//!   mirror when it had one), and the engine's copy is dropped.
//!
//! Neither calls JavaScript: the chunks are returned to the session, which calls the callbacks
//! once its borrow is released.

use std::collections::HashMap;

use js_sys::{Function, Uint8Array};
use wasm_bindgen::JsValue;

use super::convert;
use crate::client::{Progress, Reply};
use crate::{Client, CommandHandle, Pop3Error};

/// Largest message mirrored into a JS array while it streams (larger ones are copied at the end).
const MIRROR_MAX: u64 = 1 << 30;

/// A JS callback and its argument, to be called with no borrow held.
pub(crate) type Call = (Function, JsValue);

/// The bodies being mirrored or streamed in one session.
#[derive(Default)]
pub(crate) struct Mirrors {
    mirror: Option<Mirror>,
    /// `retrStream` commands by handle (queued or streaming).
    streams: HashMap<CommandHandle, Stream>,
}

/// A RETR/TOP body copied into a JS array as it arrives.
struct Mirror {
    handle: CommandHandle,
    array: Uint8Array,
    copied: usize,
}

/// A `retrStream` in progress: its callback and how many octets it was handed so far.
struct Stream {
    on_chunk: Function,
    sent: usize,
}

impl Stream {
    /// `piece` (octets the engine handed over) as a chunk for the callback (`None` when empty).
    fn chunk(&mut self, piece: &[u8]) -> Option<Call> {
        if piece.is_empty() {
            return None;
        }
        self.sent = self.sent.saturating_add(piece.len());
        Some((self.on_chunk.clone(), Uint8Array::from(piece).into()))
    }
}

impl Mirrors {
    /// Streams the body of the RETR `handle` (queued with [`Client::retr_stream`]) to
    /// `on_chunk` instead of mirroring it.
    pub(crate) fn stream(&mut self, handle: CommandHandle, on_chunk: Function) {
        self.streams.insert(handle, Stream { on_chunk, sent: 0 });
    }

    /// A body grew: for a `retrStream`, what arrived since the last chunk, taken from the engine
    /// (which then holds none of it), as the next chunk for its callback; for any other body of
    /// a known size, the new bytes copied into its mirror.
    pub(crate) fn progress(&mut self, client: &mut Client, progress: &Progress) -> Option<Call> {
        if let Some(stream) = self.streams.get_mut(&progress.handle) {
            // `None` once the body is complete (its rest is in the Completed) or over the cap.
            let piece = client.take_body(progress.handle)?;
            return stream.chunk(&piece);
        }
        self.mirror_progress(client, progress);
        None
    }

    /// A command completed: its JS value (a mirrored message from its array, a streamed one as
    /// `{ size }` with the last chunk for its callback — what was not taken yet — any other
    /// reply converted), or the error.
    pub(crate) fn complete(
        &mut self,
        handle: CommandHandle,
        result: Result<Reply, Pop3Error>,
    ) -> (Result<JsValue, Pop3Error>, Option<Call>) {
        let mirror = self.mirror.take().filter(|m| m.handle == handle);
        let stream = self.streams.remove(&handle);
        let mut chunk = None;
        let value = result.map(|reply| match (reply, mirror, stream) {
            (Reply::Message(rest), _, Some(mut s)) => {
                chunk = s.chunk(&rest);
                convert::streamed(s.sent)
            }
            (Reply::Message(body), Some(m), None) => finish_mirror(m, body),
            (reply, _, _) => convert::reply(reply),
        });
        (value, chunk)
    }

    /// A `retrMany` message completed: its octets as a JS array (its mirror's, when LIST's size
    /// was right; else copied once), the engine's copy dropped; or the message's own error.
    pub(crate) fn complete_bytes(
        &mut self,
        handle: CommandHandle,
        result: Result<Reply, Pop3Error>,
    ) -> Result<Uint8Array, Pop3Error> {
        let mirror = self.mirror.take().filter(|m| m.handle == handle);
        result.map(|reply| match (reply, mirror) {
            (Reply::Message(body), Some(m)) => mirrored_bytes(m, &body),
            (Reply::Message(body), None) => Uint8Array::from(body.as_slice()),
            // A typed RETR always completes with a message.
            (_, _) => Uint8Array::new_with_length(0),
        })
    }

    /// Copies what arrived of a streaming body with a known size (LIST's) into its JS mirror.
    fn mirror_progress(&mut self, client: &Client, progress: &Progress) {
        let Some(expected) = progress.expected.filter(|&n| n <= MIRROR_MAX) else {
            return;
        };
        if self
            .mirror
            .as_ref()
            .is_none_or(|m| m.handle != progress.handle)
        {
            self.mirror = Some(Mirror {
                handle: progress.handle,
                array: Uint8Array::new_with_length(expected as u32),
                copied: 0,
            });
        }
        let (Some(m), Some((handle, body))) = (self.mirror.as_mut(), client.streaming_body())
        else {
            return;
        };
        let end = body.len().min(m.array.length() as usize);
        if handle != m.handle || end <= m.copied {
            return;
        }
        if let Some(new) = body.get(m.copied..end) {
            m.array.subarray(m.copied as u32, end as u32).copy_from(new);
            m.copied = end;
        }
    }
}

/// The RETR/TOP result from its mirror (only the last chunk left to copy), or from the body
/// itself when the size LIST gave was not the size that came.
fn finish_mirror(m: Mirror, body: Vec<u8>) -> JsValue {
    convert::message_from(mirrored_bytes(m, &body))
}

/// The message's octets in a JS array: its mirror with the last chunk copied in, or a fresh
/// copy of `body` when the size LIST gave was not the size that came.
fn mirrored_bytes(mut m: Mirror, body: &[u8]) -> Uint8Array {
    if body.len() != m.array.length() as usize || m.copied > body.len() {
        return Uint8Array::from(body);
    }
    if let Some(rest) = body.get(m.copied..).filter(|rest| !rest.is_empty()) {
        m.array
            .subarray(m.copied as u32, body.len() as u32)
            .copy_from(rest);
        m.copied = body.len();
    }
    m.array
}
