//! Test helpers: a bridge on port 0, a WebSocket POP3 client, a tiny HTTP client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub,
    missing_docs
)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use popwire_bridge::config::{DemoConfig, Limits};
use popwire_bridge::{Bridge, Config, Ready};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// The sample messages (`popwire::server::SAMPLES`) as RETR sends them and LIST counts them:
/// each one's sent form (the file's octets, except that a last line without CRLF gains one).
pub static SAMPLES: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
    popwire::server::SAMPLES
        .iter()
        .map(|(_, b)| popwire::server::to_sent_form(b))
        .collect()
});

/// A running bridge.
pub struct Harness {
    pub ready: Ready,
    pub www: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Harness {
    pub fn http(&self) -> SocketAddr {
        self.ready.http
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("ws://{}{}", self.ready.http, path_and_query)
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(WAIT, task)
            .await
            .expect("serve returns")?
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The configuration tests start from: the demo server on port 0, short timeouts.
pub fn demo_config() -> Config {
    Config {
        demo: Some(DemoConfig {
            pop3: "127.0.0.1:0".parse().unwrap(),
            pop3s: "127.0.0.1:0".parse().unwrap(),
            failed_login_delay: Duration::from_millis(10),
            ..DemoConfig::default()
        }),
        limits: Limits {
            connect_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(3),
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// Starts a bridge with `config` on 127.0.0.1:0 (the `www` folder is a fresh empty temp dir
/// unless the config names one).
pub async fn start(mut config: Config) -> Harness {
    let www = tempfile::tempdir().unwrap();
    if config.www.is_none() {
        config.www = Some(www.path().to_owned());
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bridge = Bridge::bind(listener, config).await.unwrap();
    let ready = *bridge.ready();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(bridge.serve(async {
        let _ = stopped.await;
    }));
    Harness {
        ready,
        www,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A WebSocket to the bridge with a POP3 reader on top.
pub struct Ws<S> {
    pub ws: WebSocketStream<S>,
    buf: Vec<u8>,
}

/// Opens `url` (optionally with an Origin) over plain TCP.
pub async fn open(url: &str, origin: Option<&str>) -> Result<Ws<TcpStream>, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    let host = request.uri().authority().unwrap().as_str().to_owned();
    let tcp = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(request, tcp))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(Ws::new(ws))
}

impl<S: AsyncRead + AsyncWrite + Unpin> Ws<S> {
    pub fn new(ws: WebSocketStream<S>) -> Ws<S> {
        Ws {
            ws,
            buf: Vec::new(),
        }
    }

    /// The next message, whatever it is (`None` at the end).
    pub async fn next(&mut self) -> Option<Message> {
        match tokio::time::timeout(WAIT, self.ws.next()).await {
            Ok(Some(Ok(m))) => Some(m),
            Ok(Some(Err(_))) | Ok(None) => None,
            Err(_) => panic!("no message within {WAIT:?}"),
        }
    }

    /// The next control message (binary data before it is kept for the POP3 reader).
    pub async fn control(&mut self) -> serde_json::Value {
        loop {
            match self.next().await {
                Some(Message::Text(t)) => return serde_json::from_str(t.as_str()).unwrap(),
                Some(Message::Binary(b)) => self.buf.extend_from_slice(&b),
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a control message, got {other:?}"),
            }
        }
    }

    /// The close frame's code (after any text/binary messages, which are dropped).
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.next().await {
                Some(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Some(_) => {}
                None => return None,
            }
        }
    }

    /// Expects a refusal: `error` with `code`, then a close with 1008. Returns the message.
    pub async fn expect_refusal(&mut self, code: &str) -> String {
        let error = self.control().await;
        assert_eq!(error["op"], "error", "{error}");
        assert_eq!(error["code"], code, "{error}");
        let message = error["message"].as_str().unwrap().to_owned();
        assert!(!message.is_empty());
        assert_eq!(self.close_code().await, Some(u16::from(CloseCode::Policy)));
        message
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Reads binary frames until `buf` holds a CRLF-terminated line; text frames are a failure.
    pub async fn line(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return String::from_utf8_lossy(&line[..pos]).into_owned();
            }
            self.fill().await;
        }
    }

    async fn fill(&mut self) {
        match self.next().await {
            Some(Message::Binary(b)) => self.buf.extend_from_slice(&b),
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("expected POP3 bytes, got {other:?}"),
        }
    }

    /// Bytes received so far and not consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Reads one binary frame into the buffer.
    pub async fn read_some(&mut self) {
        self.fill().await;
    }

    /// A multi-line body after its status line, dot-unstuffed, CRLF kept.
    pub async fn body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let content = &line[..pos];
                if content == b"." {
                    return out;
                }
                let content = content.strip_prefix(b".").unwrap_or(content);
                out.extend_from_slice(content);
                out.extend_from_slice(b"\r\n");
                continue;
            }
            self.fill().await;
        }
    }

    /// Sends a command line and returns the status line.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send_bytes(format!("{line}\r\n").as_bytes()).await;
        self.line().await
    }

    /// A command whose `+OK` starts a multi-line body.
    pub async fn multi(&mut self, line: &str) -> Vec<u8> {
        let status = self.cmd(line).await;
        assert!(status.starts_with("+OK"), "{line}: {status}");
        self.body().await
    }

    /// USER/PASS with password `pop3`.
    pub async fn login(&mut self, user: &str) -> String {
        let reply = self.cmd(&format!("USER {user}")).await;
        assert!(reply.starts_with("+OK"), "{reply}");
        self.cmd("PASS pop3").await
    }

    /// STAT → (count, size).
    pub async fn stat(&mut self) -> (usize, u64) {
        let reply = self.cmd("STAT").await;
        let mut parts = reply.split(' ');
        assert_eq!(parts.next(), Some("+OK"), "{reply}");
        let count = parts.next().unwrap().parse().unwrap();
        let size = parts.next().unwrap().parse().unwrap();
        (count, size)
    }
}

/// Opens a session to `target`, expects `connected` and the greeting.
pub async fn session(h: &Harness, target: &str) -> Ws<TcpStream> {
    let mut ws = open(&h.url(&format!("/bridge?target={target}")), None)
        .await
        .unwrap();
    let connected = ws.control().await;
    assert_eq!(connected["op"], "connected", "{connected}");
    assert_eq!(connected["target"], target);
    if !connected["tls"].is_null() {
        let tls = ws.control().await;
        assert_eq!(tls["op"], "tls", "{tls}");
    }
    let greeting = ws.line().await;
    assert!(greeting.starts_with("+OK"), "{greeting}");
    ws
}

/// Logs in, retrying while the maildrop is still locked by a session that just went away.
pub async fn session_logged_in(h: &Harness, target: &str, user: &str) -> Ws<TcpStream> {
    for _ in 0..100 {
        let mut ws = session(h, target).await;
        let reply = ws.login(user).await;
        if reply.starts_with("+OK") {
            return ws;
        }
        assert!(reply.contains("[IN-USE]"), "{reply}");
        let _ = ws.cmd("QUIT").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{user}'s maildrop stayed locked");
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends one request (`Connection: close`) over any stream and reads the whole response.
pub async fn http_on<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("response within the wait");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header section");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        loop {
            let pos = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..pos]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
            rest = &rest[pos + 2 + size + 2..];
        }
        body = out;
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// One plain-HTTP request to the bridge.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let tcp = TcpStream::connect(addr).await.unwrap();
    http_on(tcp, method, path, headers, body).await
}
