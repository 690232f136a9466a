//! One teaching-server connection: a tokio task that gives a [`ServerSession`] its socket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use popwire::server::{Mailstore, ServerConfig, ServerEvent, ServerSession};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::tls::MaybeTls;

/// What every connection of one demo server shares.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Mailstore + Send + Sync>,
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) plain: ServerConfig,
    pub(crate) implicit: ServerConfig,
    pub(crate) shutdown: CancellationToken,
    /// The clock sessions are given (`now_ms` counts from here).
    pub(crate) epoch: Instant,
    /// How long one write to a client may stall before the connection is dropped.
    pub(crate) write_timeout: Duration,
    /// How long a TLS handshake may take.
    pub(crate) handshake_timeout: Duration,
}

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// A nonce for the APOP timestamp: process id, a process-wide counter, and the start time.
fn nonce(epoch_secs: u64) -> String {
    let n = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    format!("{}.{n}.{epoch_secs}", std::process::id())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

type Conn = MaybeTls<TlsStream<TcpStream>>;

/// Serves one accepted connection until QUIT, autologout, EOF, an error, or shutdown.
pub(crate) async fn serve(tcp: TcpStream, implicit_tls: bool, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().ok();
    let conn = if implicit_tls {
        match handshake(tcp, &shared).await {
            Some(tls) => tls,
            None => return,
        }
    } else {
        MaybeTls::Plain(tcp)
    };
    let config = if implicit_tls {
        shared.implicit.clone()
    } else {
        shared.plain.clone()
    };
    let now = || shared.epoch.elapsed().as_millis() as u64;
    let created = now();
    let mut session = ServerSession::new(config, created, &nonce(unix_secs()));
    let store: &(dyn Mailstore + Send + Sync) = &*shared.store;
    let reason = drive(conn, &mut session, store, &shared, now).await;
    // Whatever happened, the lock goes and nothing is deleted (a no-op after QUIT).
    session.handle_close(store);
    tracing::debug!(?peer, reason, "demo connection closed");
}

async fn handshake(tcp: TcpStream, shared: &Shared) -> Option<Conn> {
    let accept = shared.acceptor.accept(tcp);
    tokio::select! {
        _ = shared.shutdown.cancelled() => None,
        result = tokio::time::timeout(shared.handshake_timeout, accept) => match result {
            Ok(Ok(tls)) => Some(MaybeTls::Tls(Box::new(tls))),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "demo TLS handshake failed");
                None
            }
            Err(_) => None,
        },
    }
}

/// Drives the session. The session answers one buffered command per `poll_transmit`, and each
/// reply is written before the next is built, so a client pipelining many RETRs never makes the
/// server hold more than one reply; input is read only while the session `wants_input()`. The
/// call after a write, with `now()` taken then, tells the session the bytes went out: its
/// autologout timer counts output too. An autologout closes without a response.
async fn drive(
    mut conn: Conn,
    session: &mut ServerSession,
    store: &(dyn Mailstore + Send + Sync),
    shared: &Shared,
    now: impl Fn() -> u64,
) -> &'static str {
    let mut buf = vec![0u8; 16 * 1024];
    // The client half-closed: what it sent is still answered, then the connection ends.
    let mut eof = false;
    loop {
        while let Some(bytes) = session.poll_transmit(now(), store) {
            match tokio::time::timeout(shared.write_timeout, conn.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                _ => return "write failed",
            }
        }
        if !matches!(
            tokio::time::timeout(shared.write_timeout, conn.flush()).await,
            Ok(Ok(()))
        ) {
            return "write failed";
        }
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::StartTls => {
                    let MaybeTls::Plain(tcp) = conn else {
                        return "STLS on an encrypted connection";
                    };
                    conn = match handshake(tcp, shared).await {
                        Some(tls) => tls,
                        None => return "STLS handshake failed",
                    };
                    session.tls_established();
                }
                ServerEvent::Close { reason } => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), conn.shutdown()).await;
                    return reason;
                }
                ServerEvent::LoggedIn { user } => {
                    tracing::debug!(user_len = user.len(), "demo login");
                }
                _ => {}
            }
        }
        if session.is_closed() {
            return "closed";
        }
        if eof && !session.has_unanswered() {
            // Everything the client sent before closing has been answered.
            return "client closed";
        }
        let deadline = session.poll_timeout().map(|at| {
            let wait = at.saturating_sub(now());
            tokio::time::Instant::now() + Duration::from_millis(wait)
        });
        tokio::select! {
            _ = shared.shutdown.cancelled() => return "shutdown",
            read = conn.read(&mut buf), if !eof && session.wants_input() => match read {
                Ok(0) => eof = true,
                Ok(n) => session.feed(now(), buf.get(..n).unwrap_or_default()),
                Err(_) => return "read failed",
            },
            _ = sleep_until(deadline) => session.handle_timeout(now(), store),
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
