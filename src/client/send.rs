//! Sending: the request queue, pipelining barriers, and what leaves on `poll_transmit`.

use std::ops::Range;

use super::request::{Request, RequestKind};
use super::transcript::Entry;
use super::{Client, CommandHandle, Pop3Error, SessionState};
use crate::codec::{Keyword, LimitError};
use crate::explain::command_key;

impl Client {
    pub(super) fn enqueue(
        &mut self,
        kind: RequestKind,
        bytes: Vec<u8>,
        secret: Option<Range<usize>>,
    ) -> Result<CommandHandle, Pop3Error> {
        self.enqueue_at(kind, bytes, secret, false)
    }

    /// Whether one more request may be queued now: not once closed, not past
    /// [`super::ClientConfig::max_queued`].
    pub(super) fn can_queue(&self) -> Result<(), Pop3Error> {
        if self.state == SessionState::Closed {
            return Err(Pop3Error::Closed {
                reason: crate::note!("note.session-closed"),
            });
        }
        if self.pending.len() >= self.config.max_queued {
            return Err(LimitError::TooManyQueued {
                limit: self.config.max_queued,
            }
            .into());
        }
        Ok(())
    }

    /// Queues a request at the back, or at the front (a SASL response overtakes what waits).
    pub(super) fn enqueue_at(
        &mut self,
        kind: RequestKind,
        bytes: Vec<u8>,
        secret: Option<Range<usize>>,
        front: bool,
    ) -> Result<CommandHandle, Pop3Error> {
        self.can_queue()?;
        let handle = CommandHandle(self.next_handle);
        self.next_handle += 1;
        let request = Request {
            handle,
            kind,
            bytes,
            secret,
            failure: None,
            sent: None,
            stream: false,
        };
        if request.keyword() != Some(Keyword::Pass) {
            // RFC 1939 §7: PASS only immediately after USER; anything else in between ends that.
            self.awaiting_pass = false;
        }
        if front {
            self.pending.push_front(request);
        } else {
            self.pending.push_back(request);
        }
        Ok(handle)
    }

    // ----- Sending ----------------------------------------------------------------------------

    pub(super) fn flush_pending(&mut self) {
        while let Some(next) = self.pending.front() {
            if self.greeting.is_none() || self.awaiting_tls || self.state == SessionState::Closed {
                return;
            }
            if self.raw_sasl && !matches!(next.kind, RequestKind::RawSaslResponse) {
                // A hand-typed AUTH got a challenge: the next line on the wire is the student's
                // SASL response, so nothing queued earlier may go out before it.
                return;
            }
            if let Some(last) = self.in_flight.back() {
                // PASS changes the state, but what it answers is the USER just before it: with
                // PIPELINING they may go out together (RFC 2449 §6.6).
                let pass_after_user = next.keyword() == Some(Keyword::Pass)
                    && !last.is_raw()
                    && last.keyword() == Some(Keyword::User);
                if !self.is_pipelining()
                    || last.is_barrier()
                    || (next.is_barrier() && !pass_after_user)
                {
                    return;
                }
            }
            let Some(req) = self.pending.pop_front() else {
                return;
            };
            if self.in_flight.is_empty() {
                self.timer_base_ms = self.now_ms;
            }
            let explain = match &req.kind {
                RequestKind::RawSaslResponse if req.secret.is_none() => {
                    crate::explain!("sasl.cancel")
                }
                RequestKind::RawSaslResponse => crate::explain!("sasl.response"),
                _ => command_key(req.keyword()),
            };
            let mut req = req;
            let line = Entry::client_line(&req.bytes, req.secret.clone(), explain);
            req.sent = Some(self.push(line.sent_for(req.handle)));
            self.outbuf.extend_from_slice(&req.bytes);
            if req.keyword() == Some(Keyword::Quit) && self.state == SessionState::Transaction {
                // RFC 1939 §6: QUIT from TRANSACTION enters UPDATE; the reply comes from there.
                self.set_state(SessionState::Update);
            }
            self.in_flight.push_back(req);
        }
    }
}
