//! Batches of RETRs: a maildrop sync at the round-trip floor with memory bounded by a window.
//!
//! [`Client::retr_many`] takes the message numbers to fetch and queues their RETRs itself, a
//! window at a time: with PIPELINING (RFC 2449 §6.6) up to [`BatchOptions::max_messages`]
//! messages and [`BatchOptions::max_bytes`] octets (by LIST's sizes) are out at once; without it,
//! one. A message counts against the window from the moment its RETR is queued until its
//! [`Event::Completed`] has been taken with [`Client::poll_event`]: so what the engine holds
//! (the body being read and replies not yet taken) and what the server may have on the wire for
//! this client together never exceed the window, however large the maildrop.
//!
//! Each message completes as an ordinary [`Event::Completed`] with
//! [`Reply::Message`](super::Reply::Message) (or its own error: a `-ERR` fails that message
//! only), under a handle of the batch's range ([`Batch::position`] says which message it is).

use std::collections::HashSet;

use super::{Client, CommandHandle, Event, Pop3Error, Reply};
use crate::codec::{Command, Keyword, UidlEntry};

/// How a batch paces its RETRs ([`Client::retr_many`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Most messages out at once (queued, on the wire or answered but not yet taken with
    /// [`Client::poll_event`]); at least 1, at most [`super::ClientConfig::max_queued`].
    pub max_messages: usize,
    /// Most octets of those messages, by the sizes LIST reported; a message larger than this
    /// goes out alone. A message whose size LIST did not report counts as 0: ask `LIST` first
    /// (with PIPELINING it goes out with UIDL in the same round trip) for the budget to hold.
    pub max_bytes: u64,
}

impl BatchOptions {
    /// The default window's message cap.
    pub const DEFAULT_MAX_MESSAGES: usize = 1000;
    /// The default window's byte budget: 32 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 32 << 20;
}

impl Default for BatchOptions {
    /// 32 MiB or 1,000 messages, whichever is reached first. The budget must cover the
    /// bandwidth-delay product for the batch to run at the round-trip floor: 32 MiB is 50 ms ×
    /// 670 MB/s or 100 ms × 335 MB/s (benches/latency/README.md measures it). It costs memory
    /// only when the caller does not take each message as it completes: unanswered RETRs are
    /// in the network, and the engine holds one body being read.
    fn default() -> Self {
        BatchOptions {
            max_messages: Self::DEFAULT_MAX_MESSAGES,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// A batch queued with [`Client::retr_many`]: the contiguous range of command handles its
/// messages complete under, in the order of the ids given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Batch {
    first: u64,
    len: usize,
}

impl Batch {
    /// How many messages the batch fetches.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch fetches nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The handle message `index` (a position in the ids given) completes under.
    pub fn handle(&self, index: usize) -> Option<CommandHandle> {
        (index < self.len).then(|| CommandHandle(self.first + index as u64))
    }

    /// Which message of the batch (a position in the ids given) `handle` is, if it is one.
    pub fn position(&self, handle: CommandHandle) -> Option<usize> {
        let index = usize::try_from(handle.0.checked_sub(self.first)?).ok()?;
        (index < self.len).then_some(index)
    }
}

/// The engine's side of a batch: what is still to queue and what is out.
#[derive(Debug)]
pub(super) struct BatchState {
    pub(super) batch: Batch,
    ids: Vec<u32>,
    options: BatchOptions,
    /// The next position to queue.
    next: usize,
    /// Messages queued and not yet taken with `poll_event`, and their octets by LIST.
    out_count: usize,
    out_bytes: u64,
    /// Messages taken with `poll_event`.
    taken: usize,
    /// The size each message out was counted with, by position (0 when not out).
    counted: Vec<u64>,
}

/// The message numbers of `listing` whose unique-id is not in `seen`, in listing order: what a
/// sync fetches with [`Client::retr_many`].
pub fn new_since(listing: &[UidlEntry], seen: &HashSet<String>) -> Vec<u32> {
    listing
        .iter()
        .filter(|entry| !seen.contains(&entry.uid))
        .map(|entry| entry.id)
        .collect()
}

impl Client {
    /// Queues `RETR` of every message in `ids`, in order, paced by `options` ([`BatchOptions`];
    /// the sync is described on [`crate::client`]): pipelined within the window when the server advertised
    /// PIPELINING, one at a time otherwise. Each message completes as [`Event::Completed`] under
    /// [`Batch::handle`]`(i)` for `ids[i]`; take each with [`Client::poll_event`] to free its
    /// place in the window. Refused with [`Pop3Error::State`] outside TRANSACTION.
    pub fn retr_many(&mut self, ids: &[u32], options: BatchOptions) -> Result<Batch, Pop3Error> {
        self.can_queue()?;
        if !self.state.allows(Keyword::Retr) || self.raw_sasl {
            return Err(Pop3Error::State {
                command: "RETR".into(),
                state: self.state,
                hint: None,
            });
        }
        let batch = Batch {
            first: self.next_handle,
            len: ids.len(),
        };
        self.next_handle += ids.len() as u64;
        if ids.is_empty() {
            return Ok(batch);
        }
        let options = BatchOptions {
            max_messages: options.max_messages.clamp(1, self.config.max_queued.max(1)),
            ..options
        };
        self.batches.push_back(BatchState {
            batch,
            ids: ids.to_vec(),
            options,
            next: 0,
            out_count: 0,
            out_bytes: 0,
            taken: 0,
            counted: vec![0; ids.len()],
        });
        self.refill_batches();
        Ok(batch)
    }

    /// Whether `handle` is a message of a batch still running.
    pub(super) fn in_batch(&self, handle: CommandHandle) -> bool {
        self.batches
            .iter()
            .any(|b| b.batch.position(handle).is_some())
    }

    /// Messages of `batch` not yet taken with [`Client::poll_event`]; 0 once all were (or for
    /// a batch this session does not know).
    pub fn batch_remaining(&self, batch: &Batch) -> usize {
        self.batches
            .iter()
            .find(|b| b.batch == *batch)
            .map_or(0, |b| b.batch.len - b.taken)
    }

    /// Messages of `batch` out now (queued, on the wire, or completed and not yet taken), and
    /// their octets by LIST's sizes: what the window bounds.
    pub fn batch_in_window(&self, batch: &Batch) -> (usize, u64) {
        self.batches
            .iter()
            .find(|b| b.batch == *batch)
            .map_or((0, 0), |b| (b.out_count, b.out_bytes))
    }

    /// Body octets the engine holds: the multi-line body being read and the messages of
    /// completed replies not yet taken with [`Client::poll_event`].
    pub fn held_body_bytes(&self) -> usize {
        let reading = self.body.as_ref().map_or(0, |read| read.body.len());
        reading.saturating_add(self.queued_message_bytes)
    }

    /// Queues the next RETRs of each batch, as far as its window allows.
    pub(super) fn refill_batches(&mut self) {
        if self.raw_sasl {
            // A hand-typed SASL exchange owns the next line on the wire.
            return;
        }
        let pipelining = self.is_pipelining();
        let mut index = 0;
        while let Some(state) = self.batches.get(index) {
            let max_messages = if pipelining {
                state.options.max_messages
            } else {
                1
            };
            let Some(&id) = state.ids.get(state.next) else {
                index += 1;
                continue;
            };
            let size = self.sizes.get(&id).copied().unwrap_or(0);
            let fits = state.out_count == 0
                || (state.out_count < max_messages
                    && state.out_bytes.saturating_add(size) <= state.options.max_bytes);
            if !fits || self.pending.len() >= self.config.max_queued {
                index += 1;
                continue;
            }
            let position = state.next;
            let Some(handle) = state.batch.handle(position) else {
                index += 1;
                continue;
            };
            let queued = self.typed_with_handle(Command::Retr(id), handle);
            let Some(state) = self.batches.get_mut(index) else {
                return;
            };
            state.next += 1;
            state.out_count += 1;
            state.out_bytes = state.out_bytes.saturating_add(size);
            if let Some(slot) = state.counted.get_mut(position) {
                *slot = size;
            }
            if let Err(err) = queued {
                // The session moved on (QUIT, a closed connection): this message fails alone.
                self.complete(handle, Err(err));
            }
        }
    }

    /// A completed reply is being handed over: if it is a batch message, its place in the
    /// window is free again (and the batch is forgotten once all of it was taken).
    pub(super) fn release_batch_slot(&mut self, event: &Event) {
        let Event::Completed { handle, result } = event else {
            return;
        };
        if let Ok(Reply::Message(body)) = result {
            self.queued_message_bytes = self.queued_message_bytes.saturating_sub(body.len());
        }
        let Some(index) = self
            .batches
            .iter()
            .position(|b| b.batch.position(*handle).is_some())
        else {
            return;
        };
        let Some(state) = self.batches.get_mut(index) else {
            return;
        };
        let size = state
            .batch
            .position(*handle)
            .and_then(|p| state.counted.get_mut(p))
            .map_or(0, std::mem::take);
        state.out_count = state.out_count.saturating_sub(1);
        state.out_bytes = state.out_bytes.saturating_sub(size);
        state.taken += 1;
        if state.taken >= state.batch.len {
            self.batches.remove(index);
        }
    }

    /// The session ended: every message of every batch not yet queued fails with `err`.
    pub(super) fn fail_batches(&mut self, err: &Pop3Error) {
        let mut failed = Vec::new();
        for state in &mut self.batches {
            while state.next < state.batch.len {
                if let Some(handle) = state.batch.handle(state.next) {
                    failed.push(handle);
                }
                state.next += 1;
                state.out_count += 1;
            }
        }
        for handle in failed {
            self.complete(handle, Err(err.clone()));
        }
    }

    /// Queues a typed command under a handle reserved for it (a batch's).
    fn typed_with_handle(
        &mut self,
        command: Command,
        handle: CommandHandle,
    ) -> Result<CommandHandle, Pop3Error> {
        let saved = self.next_handle;
        self.next_handle = handle.0;
        // `typed` takes the next handle: lend it the reserved one, then put the counter back.
        let result = self.typed(command, None);
        self.next_handle = saved;
        result
    }
}
