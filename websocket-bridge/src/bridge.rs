//! `GET /bridge?target=NAME`: one WebSocket session carried to one configured target.
//!
//! Binary frames carry the TCP bytes both ways; text frames carry JSON control messages
//! ([`popwire::bridge_protocol`], written down in `docs/bridge-protocol.md`). Every refusal
//! happens *after* the upgrade, so that the page can read why: an `error` message, then a close
//! with 1008. A page that sends `{"op":"wire"}` is also told what crossed the TCP connection
//! to the server below TLS (`wire` messages, recorded by [`crate::wire`]).
//!
//! Backpressure: each direction reads one chunk, then waits until the other side has taken it
//! before reading more (TCP reads go into one adaptive buffer of at most 64 KiB; a WebSocket
//! message is written to the server in full before the next is read), so neither a slow
//! browser nor a slow server makes the bridge buffer without bound.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use popwire::bridge_protocol::{close, BridgeControl, ClientControl, Refusal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::limits::{client_ip, Permit};
use crate::state::{AppState, ResolvedTarget};
use crate::tls::{tls_info, MaybeTls};
use crate::wire::{Tapped, Wire};

type WsTx = SplitSink<WebSocket, Message>;
type WsRx = SplitStream<WebSocket>;
/// The connection to the server; under TLS, the socket is tapped for the page's wire view.
type Upstream = MaybeTls<tokio_rustls::client::TlsStream<Tapped<TcpStream>>>;

/// How long goodbyes (the last messages and the close handshake) may take.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(3);
/// The TCP read buffer grows from this …
const MIN_READ: usize = 4 * 1024;
/// … up to this, while reads fill it (large frames: a browser pays per WebSocket message).
const MAX_READ: usize = 512 * 1024;
/// The WebSocket read buffer (uploads are POP3 commands: small).
const WS_READ_BUFFER: usize = 8 * 1024;

/// The WebSocket endpoint.
pub(crate) async fn handler(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let max = state.limits.max_frame;
    let ws = ws
        .max_frame_size(max)
        .max_message_size(max)
        .read_buffer_size(WS_READ_BUFFER);
    let client = client_ip(peer, &headers, &state.trust_proxies);

    let origin = headers.get(header::ORIGIN).map(|v| v.as_bytes());
    if !state.origins.allows(origin) {
        let shown = origin
            .map(|o| {
                String::from_utf8_lossy(o)
                    .chars()
                    .take(100)
                    .collect::<String>()
            })
            .unwrap_or_default();
        tracing::info!(%client, origin = %shown, "bridge session refused: origin");
        let message = format!(
            "this page's origin ({shown}) may not use this bridge; \
             start the bridge with --allow-origin {shown} to allow it"
        );
        return ws.on_upgrade(move |socket| refuse(socket, Refusal::Origin, message));
    }

    let target = match resolve_target(&state, query.as_deref()) {
        Ok(target) => Arc::clone(target),
        Err(message) => {
            tracing::info!(%client, "bridge session refused: unknown target");
            return ws.on_upgrade(move |socket| refuse(socket, Refusal::UnknownTarget, message));
        }
    };

    let permit = match state.sessions.try_acquire(client) {
        Ok(permit) => permit,
        Err(cap) => {
            tracing::info!(%client, target_name = %target.target.name, max = cap.max(),
                "bridge session refused: busy; raise {} to allow more", cap.flag());
            let message = cap.to_string();
            return ws.on_upgrade(move |socket| refuse(socket, Refusal::Busy, message));
        }
    };
    let tracker = state.tracker.clone();
    ws.on_upgrade(move |socket| {
        tracker.track_future(session(socket, state, target, permit, client, peer))
    })
}

/// The one `target` parameter, percent-decoded, naming a configured target exactly.
///
/// Anything else is refused: no parameter, another parameter (`host`, `port`, …), the parameter
/// twice, a malformed escape, or a name that is not configured (`127.0.0.1:110`, `[::1]:110`).
fn resolve_target<'a>(
    state: &'a AppState,
    query: Option<&str>,
) -> Result<&'a Arc<ResolvedTarget>, String> {
    let known = || {
        let names: Vec<&str> = state
            .targets
            .iter()
            .map(|t| t.target.name.as_str())
            .collect();
        if names.is_empty() {
            "this bridge has no targets configured".to_owned()
        } else {
            format!("the targets are: {}", names.join(", "))
        }
    };
    let query = query.unwrap_or_default();
    let mut name: Option<String> = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        if key.as_deref() != Some("target") {
            return Err(format!(
                "the bridge takes exactly one parameter, ?target=NAME, naming a configured \
                 target; {}",
                known()
            ));
        }
        if name.is_some() {
            return Err(format!(
                "name exactly one target (the request has more than one); {}",
                known()
            ));
        }
        let Some(value) = percent_decode(value) else {
            return Err(format!("the target name is malformed; {}", known()));
        };
        name = Some(value);
    }
    let Some(name) = name else {
        return Err(format!("no target named: add ?target=NAME; {}", known()));
    };
    state
        .targets
        .iter()
        .find(|t| t.target.name == name)
        .ok_or_else(|| {
            let shown: String = name.chars().take(64).collect();
            format!(
                "unknown target {shown:?}: the bridge only connects to its configured \
                 targets by name, never to a host or port; {}",
                known()
            )
        })
}

/// Decodes `%XX` escapes and `+` (as a space), like `URLSearchParams`. `None` on a malformed
/// escape or invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// An `error` message, then close with 1008; waits briefly for the page's close reply.
async fn refuse(mut socket: WebSocket, code: Refusal, message: String) {
    let goodbye = async {
        let error = BridgeControl::Error { code, message };
        socket.send(control_frame(&error)).await?;
        socket
            .send(Message::Close(Some(CloseFrame {
                code: close::REFUSED,
                reason: code.as_str().into(),
            })))
            .await?;
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, goodbye).await;
}

/// Byte counts and the last activity of one session.
struct Stats {
    started: Instant,
    up: AtomicU64,
    down: AtomicU64,
    /// Milliseconds since `started` of the last byte either way.
    last: AtomicU64,
}

impl Stats {
    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }
}

/// How a session ended.
#[derive(Debug)]
enum End {
    /// The page closed the WebSocket.
    ClientClosed,
    /// The WebSocket broke.
    ClientGone,
    /// The server closed the connection.
    ServerClosed,
    /// The connection to the server failed after it was made.
    ServerFailed(String),
    /// An `error` to send, then 1008.
    Refuse(Refusal, String),
    /// The bridge is shutting down.
    Shutdown,
}

impl End {
    fn log_reason(&self) -> String {
        match self {
            End::ClientClosed => "client closed".into(),
            End::ClientGone => "client connection lost".into(),
            End::ServerClosed => "server closed".into(),
            End::ServerFailed(e) => format!("server connection failed: {e}"),
            End::Refuse(code, _) => code.as_str().into(),
            End::Shutdown => "bridge shutdown".into(),
        }
    }
}

async fn session(
    socket: WebSocket,
    state: Arc<AppState>,
    target: Arc<ResolvedTarget>,
    permit: Permit,
    client: IpAddr,
    peer: SocketAddr,
) {
    let stats = Stats {
        started: Instant::now(),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
        last: AtomicU64::new(0),
    };
    let (mut tx, mut rx) = socket.split();
    let end = run(&mut tx, &mut rx, &state, &target, &stats).await;
    if let Ok(ws) = tx.reunite(rx) {
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, goodbye(ws, &end)).await;
    }
    drop(permit);
    tracing::info!(
        target_name = %target.target.name,
        %client,
        %peer,
        bytes_up = stats.up.load(Ordering::Relaxed),
        bytes_down = stats.down.load(Ordering::Relaxed),
        duration_ms = stats.started.elapsed().as_millis() as u64,
        reason = %end.log_reason(),
        "bridge session ended"
    );
}

/// The last words of a session, then the close handshake.
async fn goodbye(mut ws: WebSocket, end: &End) {
    let closed = |reason: String| Some(BridgeControl::Closed { reason });
    let (text, close_with): (Option<BridgeControl>, Option<(u16, &str)>) = match end {
        End::ClientGone => return,
        End::ClientClosed => (None, None),
        End::ServerClosed => (
            closed("server closed the connection".into()),
            Some((close::NORMAL, "server closed the connection")),
        ),
        End::ServerFailed(e) => (
            closed(format!("the connection to the server failed: {e}")),
            Some((close::NORMAL, "server connection failed")),
        ),
        End::Refuse(code, message) => (
            Some(BridgeControl::Error {
                code: *code,
                message: message.clone(),
            }),
            Some((close::REFUSED, code.as_str())),
        ),
        End::Shutdown => (
            closed("the bridge is shutting down".into()),
            Some((close::GOING_AWAY, "bridge shutting down")),
        ),
    };
    if let Some(text) = text {
        if ws.send(control_frame(&text)).await.is_err() {
            return;
        }
    }
    match close_with {
        Some((code, reason)) => {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if ws.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
        }
        None => {
            // The page's close is answered (tungstenite queued the reply); flush it.
            let _ = SinkExt::close(&mut ws).await;
            return;
        }
    }
    // Wait for the page's close reply (briefly when shutting down: the process is leaving).
    let wait = if matches!(end, End::Shutdown) {
        Duration::from_secs(1)
    } else {
        GOODBYE_TIMEOUT
    };
    let drain = async {
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(wait, drain).await;
}

/// A control message as the text frame it is sent in.
fn control_frame(message: &BridgeControl) -> Message {
    // Serialising these types cannot fail (no maps with non-string keys, no custom code).
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

async fn send_control(tx: &mut WsTx, message: &BridgeControl) -> Result<(), End> {
    tx.send(control_frame(message))
        .await
        .map_err(|_| End::ClientGone)
}

/// Connects, then pumps until the session ends; upgrades to TLS on `starttls`.
async fn run(
    tx: &mut WsTx,
    rx: &mut WsRx,
    state: &AppState,
    target: &ResolvedTarget,
    stats: &Stats,
) -> End {
    let shutdown = &state.shutdown;
    let wire = Arc::new(Wire::default());
    let connect = connect(target, state.limits.connect_timeout, &wire);
    let mut upstream = tokio::select! {
        _ = shutdown.cancelled() => return End::Shutdown,
        result = connect => match result {
            Ok(upstream) => upstream,
            Err(end) => return end,
        },
    };
    let info = match &upstream {
        MaybeTls::Tls(tls) => Some(tls_info(tls.get_ref().1, target.verified)),
        MaybeTls::Plain(_) => None,
    };
    let connected = BridgeControl::Connected {
        target: target.target.name.clone(),
        tls: info.clone(),
    };
    if let Err(end) = send_control(tx, &connected).await {
        return end;
    }
    if let Some(info) = info {
        if let Err(end) = send_control(tx, &BridgeControl::Tls(info)).await {
            return end;
        }
    }
    stats.touch();
    loop {
        let phase = tokio::select! {
            biased;
            _ = shutdown.cancelled() => Phase::End(End::Shutdown),
            _ = idle(stats, state.limits.idle_timeout) => Phase::End(idle_end(state)),
            phase = pump(upstream, tx, rx, stats, state.limits.max_frame, &wire) => phase,
        };
        let plain = match phase {
            Phase::End(end) => return end,
            Phase::StartTls(MaybeTls::Plain(tcp)) => tcp,
            Phase::StartTls(MaybeTls::Tls(_)) => {
                return End::Refuse(
                    Refusal::TlsFailed,
                    "TLS is already active on this connection: starttls is for a plain one".into(),
                )
            }
        };
        let handshake = tokio::time::timeout(
            state.limits.connect_timeout,
            target
                .connector
                .connect(target.server_name.clone(), wire.tap(plain)),
        );
        upstream = tokio::select! {
            _ = shutdown.cancelled() => return End::Shutdown,
            result = handshake => match result {
                Ok(Ok(tls)) => MaybeTls::Tls(Box::new(tls)),
                Ok(Err(e)) => return End::Refuse(Refusal::TlsFailed, tls_failure(target, &e)),
                Err(_) => return End::Refuse(
                    Refusal::TlsFailed,
                    format!("the TLS handshake with {} timed out", target.target.name),
                ),
            },
        };
        if let MaybeTls::Tls(tls) = &upstream {
            let info = tls_info(tls.get_ref().1, target.verified);
            if let Err(end) = send_control(tx, &BridgeControl::Tls(info)).await {
                return end;
            }
        }
        // A page that watches the wire sees the handshake's records at once.
        if let Some(sample) = wire.now() {
            if let Err(end) = send_control(tx, &BridgeControl::Wire(sample)).await {
                return end;
            }
        }
        stats.touch();
    }
}

fn idle_end(state: &AppState) -> End {
    End::Refuse(
        Refusal::Idle,
        format!(
            "no bytes either way for {} seconds: the bridge closed the session",
            state.limits.idle_timeout.as_secs()
        ),
    )
}

fn tls_failure(target: &ResolvedTarget, e: &std::io::Error) -> String {
    format!("the TLS handshake with {} failed: {e}", target.target.name)
}

/// TCP (with the connect timeout), then TLS for an implicit-TLS target (over a socket tapped
/// into `wire`).
async fn connect(
    target: &ResolvedTarget,
    timeout: Duration,
    wire: &Arc<Wire>,
) -> Result<Upstream, End> {
    let name = &target.target.name;
    let addr = (target.target.host.as_str(), target.target.port);
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            return Err(End::Refuse(
                Refusal::ConnectFailed,
                format!("could not connect to the target {name}: {e}"),
            ))
        }
        Err(_) => {
            return Err(End::Refuse(
                Refusal::ConnectFailed,
                format!(
                    "could not connect to the target {name}: no answer within {} seconds",
                    timeout.as_secs()
                ),
            ))
        }
    };
    let _ = tcp.set_nodelay(true);
    if target.target.tls != crate::config::TlsMode::Implicit {
        return Ok(MaybeTls::Plain(tcp));
    }
    let handshake = target
        .connector
        .connect(target.server_name.clone(), wire.tap(tcp));
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(tls)) => Ok(MaybeTls::Tls(Box::new(tls))),
        Ok(Err(e)) => Err(End::Refuse(Refusal::TlsFailed, tls_failure(target, &e))),
        Err(_) => Err(End::Refuse(
            Refusal::TlsFailed,
            format!("the TLS handshake with {name} timed out"),
        )),
    }
}

/// Resolves when the session has seen no byte either way for `limit`.
async fn idle(stats: &Stats, limit: Duration) {
    loop {
        let last = stats.last.load(Ordering::Relaxed);
        let deadline = stats.started + Duration::from_millis(last) + limit;
        tokio::time::sleep_until(deadline.into()).await;
        if stats.last.load(Ordering::Relaxed) == last {
            return;
        }
    }
}

enum Phase {
    /// The page asked for STLS; every byte before it has been forwarded.
    StartTls(Upstream),
    End(End),
}

#[derive(Debug)]
enum Up {
    Stopped,
    StartTls,
    ClientClosed,
    ClientGone,
    TooLarge,
    Protocol(String),
    ServerWriteFailed(String),
}

#[derive(Debug)]
enum Down {
    Stopped,
    ServerClosed,
    ServerFailed(String),
    ClientGone,
}

impl Down {
    fn into_end(self) -> End {
        match self {
            Down::Stopped | Down::ClientGone => End::ClientGone,
            Down::ServerClosed => End::ServerClosed,
            Down::ServerFailed(e) => End::ServerFailed(e),
        }
    }
}

/// Both directions at once until one ends (the other then stops at its next safe point: a
/// read, never in the middle of handing bytes on).
async fn pump(
    upstream: Upstream,
    tx: &mut WsTx,
    rx: &mut WsRx,
    stats: &Stats,
    max_frame: usize,
    wire: &Wire,
) -> Phase {
    let (mut sr, mut sw) = tokio::io::split(upstream);
    let stop = CancellationToken::new();
    let up = async {
        let end = upward(rx, &mut sw, &stop, stats, max_frame, wire).await;
        stop.cancel();
        end
    };
    let down = async {
        let end = downward(tx, &mut sr, &stop, stats, wire).await;
        stop.cancel();
        end
    };
    let (up, down) = tokio::join!(up, down);
    match (up, down) {
        (Up::StartTls, Down::Stopped) => Phase::StartTls(sr.unsplit(sw)),
        (Up::Stopped | Up::StartTls | Up::ServerWriteFailed(_), down)
            if !matches!(down, Down::Stopped) =>
        {
            Phase::End(down.into_end())
        }
        (Up::ServerWriteFailed(e), _) => Phase::End(End::ServerFailed(e)),
        (Up::Stopped | Up::StartTls, _) => Phase::End(End::ClientGone),
        (Up::ClientClosed, _) => Phase::End(End::ClientClosed),
        (Up::ClientGone, _) => Phase::End(End::ClientGone),
        (Up::TooLarge, _) => Phase::End(End::Refuse(
            Refusal::TooLarge,
            format!(
                "a frame from the page was over the bridge's limit of {max_frame} bytes \
                 (a POP3 command is at most 255)"
            ),
        )),
        (Up::Protocol(message), _) => Phase::End(End::Refuse(Refusal::Protocol, message)),
    }
}

/// Page → server.
async fn upward<W: AsyncWrite>(
    rx: &mut WsRx,
    server: &mut WriteHalf<W>,
    stop: &CancellationToken,
    stats: &Stats,
    max_frame: usize,
    wire: &Wire,
) -> Up {
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => return Up::Stopped,
            next = rx.next() => next,
        };
        let data = match next {
            None => return Up::ClientClosed,
            Some(Err(e)) => {
                return if is_too_large(e) {
                    Up::TooLarge
                } else {
                    Up::ClientGone
                }
            }
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Text(text))) => match control(text.as_str()) {
                Ok(ClientControl::StartTls) => return Up::StartTls,
                Ok(ClientControl::Wire) => {
                    wire.watch();
                    continue;
                }
                Ok(other) => {
                    return Up::Protocol(format!(
                        "this bridge does not carry out {other:?} on this connection"
                    ))
                }
                Err(message) => return Up::Protocol(message),
            },
            Some(Ok(Message::Close(_))) => return Up::ClientClosed,
            Some(Ok(_)) => continue, // ping, pong
        };
        if data.len() > max_frame {
            return Up::TooLarge;
        }
        if data.is_empty() {
            continue;
        }
        let written = async {
            server.write_all(&data).await?;
            server.flush().await
        };
        if let Err(e) = written.await {
            return Up::ServerWriteFailed(e.to_string());
        }
        stats.up.fetch_add(data.len() as u64, Ordering::Relaxed);
        stats.touch();
    }
}

/// Whether a WebSocket read error is a frame or message over the cap.
fn is_too_large(e: axum::Error) -> bool {
    match e.into_inner().downcast::<tungstenite::Error>() {
        Ok(e) => matches!(*e, tungstenite::Error::Capacity(_)),
        Err(_) => false,
    }
}

/// The control messages a page may send: `{"op":"starttls"}`, `{"op":"wire"}`
/// ([`ClientControl`]).
fn control(text: &str) -> Result<ClientControl, String> {
    if let Ok(control) = serde_json::from_str::<ClientControl>(text) {
        return Ok(control);
    }
    /// Any object with a string `op`, to name an op the bridge does not know.
    #[derive(serde::Deserialize)]
    struct AnyOp {
        op: String,
    }
    match serde_json::from_str::<AnyOp>(text) {
        Ok(c) => {
            let op: String = c.op.chars().take(32).collect();
            Err(format!(
                "unknown control message {op:?}: the page may only send {}",
                ClientControl::OPS
                    .map(|op| format!("{{\"op\":\"{op}\"}}"))
                    .join(", ")
            ))
        }
        Err(_) => Err(
            "a text frame must be a JSON control message; POP3 bytes go in binary frames".into(),
        ),
    }
}

/// Server → page.
async fn downward<R: AsyncRead + Unpin>(
    tx: &mut WsTx,
    server: &mut ReadHalf<R>,
    stop: &CancellationToken,
    stats: &Stats,
    wire: &Wire,
) -> Down {
    let mut buf = vec![0u8; MIN_READ];
    loop {
        let read = tokio::select! {
            biased;
            _ = stop.cancelled() => return Down::Stopped,
            _ = wire.asked() => {
                // The page began watching the wire: what crossed so far, if TLS has begun.
                if let Some(sample) = wire.now() {
                    if send_control(tx, &BridgeControl::Wire(sample)).await.is_err() {
                        return Down::ClientGone;
                    }
                }
                continue;
            }
            read = server.read(&mut buf) => read,
        };
        let n = match read {
            Ok(0) => return Down::ServerClosed,
            Ok(n) => n.min(buf.len()),
            // A TLS server that closes without close_notify: still just a close.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Down::ServerClosed,
            Err(e) => return Down::ServerFailed(e.to_string()),
        };
        let data = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
        // Grow while reads fill the buffer (a RETR streaming), shrink back when idle.
        if n == buf.len() && buf.len() < MAX_READ {
            buf = vec![0u8; buf.len() * 2];
        } else if n < MIN_READ && buf.len() > MIN_READ {
            buf = vec![0u8; MIN_READ];
        }
        stats.down.fetch_add(n as u64, Ordering::Relaxed);
        stats.touch();
        // A reply begins: what it looked like on the wire goes first, to a page that watches.
        if let Some(sample) = wire.due() {
            if send_control(tx, &BridgeControl::Wire(sample))
                .await
                .is_err()
            {
                return Down::ClientGone;
            }
        }
        if tx.send(Message::Binary(data)).await.is_err() {
            return Down::ClientGone;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%64emo").as_deref(), Some("demo"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%3A").as_deref(), Some(":"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%6"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None, "not UTF-8");
        assert_eq!(percent_decode("").as_deref(), Some(""));
    }

    #[test]
    fn control_messages() {
        assert!(control(r#"{"op":"starttls"}"#).is_ok());
        assert_eq!(control(r#"{"op":"wire"}"#), Ok(ClientControl::Wire));
        assert!(control(r#"{"op":"starttls","extra":1}"#).is_ok());
        assert!(control(r#"{"op":"connect","host":"evil"}"#).is_err());
        assert!(control("STLS").is_err());
        assert!(control("").is_err());
    }
}
