//! What an eavesdropper on the TCP connection between the bridge and the server sees once TLS
//! has begun, for the page's "on the wire" view (the `wire` control message,
//! `docs/bridge-protocol.md`). The page sees only plaintext (the bridge does TLS); this tells it
//! what crossed below TLS.
//!
//! [`Tapped`] sits between the TLS stream and the TCP socket, so everything it records is what
//! went over the network: the handshake's records (public by design) and then encrypted
//! records. It never sees plaintext or key material. Per session and direction it keeps the
//! octet count, the number of TLS records begun, the first [`WIRE_SAMPLE`] octets and the
//! first [`WIRE_SAMPLE`] octets of the latest record that began: a fixed amount of memory,
//! whatever the session carries.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use popwire::bridge_protocol::{WireDirection, WireSample, WIRE_SAMPLE};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The length of a TLS record header: type, version (2), length (2).
const HEADER: usize = 5;

/// One direction of the recording.
#[derive(Debug, Default)]
struct Side {
    octets: u64,
    records: u64,
    first: Vec<u8>,
    latest: Vec<u8>,
    /// The header of the record being read, while it is incomplete.
    header: [u8; HEADER],
    header_len: usize,
    /// Octets of the current record's body still to come.
    body_left: usize,
}

impl Side {
    /// Records octets that crossed, following the record boundaries (a record header gives
    /// the length of the body after it).
    fn record(&mut self, mut bytes: &[u8]) {
        self.octets = self.octets.saturating_add(bytes.len() as u64);
        let room = WIRE_SAMPLE.saturating_sub(self.first.len());
        self.first.extend(bytes.iter().take(room));
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len());
                let (body, rest) = bytes.split_at(n);
                self.capture(body);
                self.body_left -= n;
                bytes = rest;
                continue;
            }
            if self.header_len == 0 {
                // A new record begins here.
                self.records = self.records.saturating_add(1);
                self.latest.clear();
            }
            let n = (HEADER - self.header_len).min(bytes.len());
            let (head, rest) = bytes.split_at(n);
            for &b in head {
                if let Some(slot) = self.header.get_mut(self.header_len) {
                    *slot = b;
                }
                self.header_len += 1;
            }
            self.capture(head);
            bytes = rest;
            if self.header_len == HEADER {
                let [_, _, _, high, low] = self.header;
                self.body_left = usize::from(u16::from_be_bytes([high, low]));
                self.header_len = 0;
            }
        }
    }

    /// Keeps the start of the latest record.
    fn capture(&mut self, bytes: &[u8]) {
        let room = WIRE_SAMPLE.saturating_sub(self.latest.len());
        self.latest.extend(bytes.iter().take(room));
    }

    fn direction(&self) -> WireDirection {
        WireDirection::new(self.octets, self.records, &self.first, &self.latest)
    }
}

#[derive(Debug, Default)]
struct Sides {
    up: Side,
    down: Side,
}

/// One session's recording and who asked for it. Shared by the session's two directions and
/// its [`Tapped`] socket (one per session: installed when the TLS handshake begins).
#[derive(Debug, Default)]
pub(crate) struct Wire {
    sides: Mutex<Sides>,
    /// TLS has begun: a [`Tapped`] socket records.
    began: AtomicBool,
    /// The page sent `{"op":"wire"}`.
    watched: AtomicBool,
    /// Octets up when the last `wire` message was sent (a new one is due once the page has
    /// sent more).
    sent_up: AtomicU64,
    /// Wakes the server-to-page direction to send a `wire` message now.
    asked: Notify,
}

impl Wire {
    fn sides(&self) -> std::sync::MutexGuard<'_, Sides> {
        // A panic while holding the lock cannot leave the counts unsafe to read.
        self.sides.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wraps the socket the TLS handshake is about to run over.
    pub(crate) fn tap<S>(self: &Arc<Self>, inner: S) -> Tapped<S> {
        self.began.store(true, Ordering::Relaxed);
        Tapped {
            inner,
            wire: Arc::clone(self),
        }
    }

    /// The page asked (`{"op":"wire"}`): from now on it is told, starting at once.
    pub(crate) fn watch(&self) {
        self.watched.store(true, Ordering::Relaxed);
        self.asked.notify_one();
    }

    /// Resolves when the page asked for a `wire` message to be sent at once.
    pub(crate) async fn asked(&self) {
        self.asked.notified().await;
    }

    /// The sample to send now, if the page watches and TLS has begun.
    pub(crate) fn now(&self) -> Option<WireSample> {
        if !self.watched.load(Ordering::Relaxed) || !self.began.load(Ordering::Relaxed) {
            return None;
        }
        let sides = self.sides();
        self.sent_up.store(sides.up.octets, Ordering::Relaxed);
        Some(WireSample {
            up: sides.up.direction(),
            down: sides.down.direction(),
        })
    }

    /// The sample to send before the server's next bytes: when the page has sent something
    /// since the last one (so a reply begins), else `None`.
    pub(crate) fn due(&self) -> Option<WireSample> {
        let up = self.sides().up.octets;
        if up == self.sent_up.load(Ordering::Relaxed) {
            return None;
        }
        self.now()
    }
}

/// A socket whose traffic is recorded into a [`Wire`] (what TLS writes and reads, i.e. the
/// records on the network).
#[derive(Debug)]
pub(crate) struct Tapped<S> {
    inner: S,
    wire: Arc<Wire>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if let Some(read) = buf.filled().get(before..) {
                this.wire.sides().down.record(read);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.wire
                .sides()
                .up
                .record(buf.get(..n).unwrap_or_default());
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            let mut sides = this.wire.sides();
            let mut left = n;
            for buf in bufs {
                if left == 0 {
                    break;
                }
                let taken = buf.len().min(left);
                sides.up.record(buf.get(..taken).unwrap_or_default());
                left -= taken;
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A record: type, version 03 03, length, body.
    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn records_are_followed_across_any_split() {
        let mut stream = record(22, &[1; 300]);
        stream.extend(record(20, &[1]));
        stream.extend(record(23, &[0xee; 40]));
        stream.extend(record(23, &[0xdd; 3]));
        for cut in 1..stream.len() {
            let mut side = Side::default();
            for piece in stream.chunks(cut) {
                side.record(piece);
            }
            assert_eq!(side.octets, stream.len() as u64, "cut {cut}");
            assert_eq!(side.records, 4, "cut {cut}");
            assert_eq!(side.first, stream[..WIRE_SAMPLE], "cut {cut}");
            assert_eq!(side.latest, record(23, &[0xdd; 3]), "cut {cut}");
        }
    }

    #[test]
    fn the_latest_record_is_kept_to_its_start_only() {
        let mut side = Side::default();
        side.record(&record(23, &[7; 4000]));
        assert_eq!(side.latest.len(), WIRE_SAMPLE);
        assert_eq!(side.latest[..5], [23, 3, 3, 0x0f, 0xa0]);
        assert_eq!(side.first.len(), WIRE_SAMPLE);
        let d = side.direction();
        assert_eq!(d.latest_record().unwrap().length, 4000);
    }

    #[test]
    fn garbage_never_panics_and_stays_bounded() {
        let mut side = Side::default();
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..(x % 700))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            side.record(&bytes);
            assert!(side.first.len() <= WIRE_SAMPLE && side.latest.len() <= WIRE_SAMPLE);
        }
        side.record(&[]);
    }

    #[test]
    fn a_wire_message_is_due_only_when_watched_after_tls_began_and_the_page_sent_more() {
        let wire = Arc::new(Wire::default());
        assert_eq!(wire.now(), None, "not watched");
        wire.watch();
        assert_eq!(wire.now(), None, "TLS has not begun");
        let _tap = wire.tap(());
        wire.sides().up.record(&record(22, &[1; 10]));
        wire.sides().down.record(&record(22, &[2; 10]));
        let sample = wire.now().unwrap();
        assert_eq!(sample.up.octets, 15);
        assert_eq!(sample.down.first_record().unwrap().kind, "handshake");
        assert_eq!(wire.due(), None, "nothing sent since");
        wire.sides().down.record(&record(23, &[3; 10]));
        assert_eq!(wire.due(), None, "the server alone sent more");
        wire.sides().up.record(&record(23, &[4; 10]));
        let due = wire.due().unwrap();
        assert_eq!(due.up.latest_record().unwrap().kind, "application-data");
        assert_eq!(due.up.records, 2);
        assert_eq!(wire.due(), None);
    }
}
