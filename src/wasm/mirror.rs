//! Message bodies on their way to JavaScript while they stream: the RETR mirror and
//! `retrStream`.
//!
//! - **Mirror.** A RETR/TOP of known size (LIST's) is copied into a JS `Uint8Array` as it
//!   arrives, so that the end of a large RETR does not block the page with one big copy out of
//!   wasm memory; the promise resolves with that array.
//! - **Stream.** A `retrStream(id, onChunk)` hands each new piece of the body to its callback as
//!   it arrives; nothing is kept on the JS side.
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

/// A `retrStream` in progress: its callback and how much of the body it was handed so far.
struct Stream {
    on_chunk: Function,
    sent: usize,
}

impl Stream {
    /// The body's bytes from `sent` on, as a chunk for the callback (`None` when nothing is new).
    fn next_chunk(&mut self, body: &[u8]) -> Option<Call> {
        let new = body.get(self.sent..).filter(|new| !new.is_empty())?;
        self.sent = body.len();
        Some((self.on_chunk.clone(), Uint8Array::from(new).into()))
    }
}

impl Mirrors {
    /// Streams the body of the RETR `handle` to `on_chunk` instead of mirroring it.
    pub(crate) fn stream(&mut self, handle: CommandHandle, on_chunk: Function) {
        self.streams.insert(handle, Stream { on_chunk, sent: 0 });
    }

    /// A body grew: the next chunk for its `retrStream` callback, or (for any other body of a
    /// known size) the new bytes copied into its mirror.
    pub(crate) fn progress(&mut self, client: &Client, progress: &Progress) -> Option<Call> {
        if self.streams.contains_key(&progress.handle) {
            let (streaming, body) = client.streaming_body()?;
            if streaming != progress.handle {
                return None;
            }
            return self.streams.get_mut(&streaming)?.next_chunk(body);
        }
        self.mirror_progress(client, progress);
        None
    }

    /// A command completed: its JS value (a mirrored message from its array, a streamed one as
    /// `{ size }` with the last chunk for its callback, any other reply converted), or the error.
    pub(crate) fn complete(
        &mut self,
        handle: CommandHandle,
        result: Result<Reply, Pop3Error>,
    ) -> (Result<JsValue, Pop3Error>, Option<Call>) {
        let mirror = self.mirror.take().filter(|m| m.handle == handle);
        let stream = self.streams.remove(&handle);
        let mut chunk = None;
        let value = result.map(|reply| match (reply, mirror, stream) {
            (Reply::Message(body), _, Some(mut s)) => {
                chunk = s.next_chunk(&body);
                convert::streamed(body.len())
            }
            (Reply::Message(body), Some(m), None) => finish_mirror(m, body),
            (reply, _, _) => convert::reply(reply),
        });
        (value, chunk)
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
fn finish_mirror(mut m: Mirror, body: Vec<u8>) -> JsValue {
    if body.len() != m.array.length() as usize || m.copied > body.len() {
        return convert::message(&body);
    }
    if let Some(rest) = body.get(m.copied..).filter(|rest| !rest.is_empty()) {
        m.array
            .subarray(m.copied as u32, body.len() as u32)
            .copy_from(rest);
        m.copied = body.len();
    }
    convert::message_from(m.array)
}
