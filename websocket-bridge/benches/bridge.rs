//! The bridge against direct TCP and Debian's `websockify` 0.10, in one run (issue 3,
//! "Benchmark"):
//!
//! 1. a temporary Maildir with one ~60 MiB message (text lines of at most 78 characters, about
//!    5% of them beginning with `.`, CRLF) is served by the real `popwire-bridge --demo --maildir`;
//!    `websockify` bridges the same demo POP3 port;
//! 2. `RETR 1` of that message through three paths, each driven by the same sans-IO
//!    [`popwire::Client`]: (a) direct TCP to the demo POP3 port, (b) the bridge (WebSocket,
//!    `/bridge?target=demo`), (c) websockify (WebSocket, subprotocol `binary`); one warm-up, then
//!    interleaved timed runs; medians;
//! 3. NOOP round trips on each path (interleaved blocks), p50 and p99;
//! 4. the bridge's memory with 1,000 idle sessions to a POP3 server in *other* processes (two
//!    `popwire-bridge --demo` processes: the demo server takes at most 512 connections), and
//!    websockify's with fewer (it forks a process per session).
//!
//! Run with `cargo bench -p popwire-bridge --bench bridge`. Figures only, never pass/fail on
//! time. MB/s are 10^6 octets of the message (as stored, CRLF) per second, timed from sending
//! `RETR` to the client's `Completed` event ("end to end", which includes the demo server's time
//! to its first octet) and from the reply's first octet ("streaming"). CPU time per RETR session
//! (from /proc, clock ticks) separates the demo server's, the bridge's, websockify's and the
//! client's work. Every process started here is stopped at the end, also on error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use popwire::client::Reply;
use popwire::codec::Command as Pop3Command;
use popwire::{Client, ClientConfig, CommandHandle, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Size of the message to build (it ends at the first line end past this): under the Maildir
/// store's 64 MiB cap on what RETR serves (`demo/maildir.rs`, DEFAULT_MAX_MESSAGE_SIZE).
const MESSAGE_TARGET: usize = 60 * 1024 * 1024;
/// Timed RETR runs per path (after one warm-up each), interleaved a b c a b c …
const RETR_RUNS: usize = 9;
/// NOOP round trips per path, after the warm-up ones.
const NOOPS: usize = 2_000;
const NOOP_WARMUP: usize = 200;
/// NOOPs are sent in blocks of this many per path, the paths taking turns.
const NOOP_BLOCK: usize = 100;
/// Idle bridge sessions for the memory figure.
const BRIDGE_SESSIONS: usize = 1_000;
/// Idle websockify sessions (a process each; it fails past ~507).
const WEBSOCKIFY_SESSIONS: usize = 200;
/// The demo server's own connection cap (not configurable): idle sessions are spread over two
/// external demo servers, at most this many each.
const DEMO_CONNECTION_CAP: usize = 512;
const _: () = assert!(BRIDGE_SESSIONS <= 2 * (DEMO_CONNECTION_CAP - 12));
/// Direct TCP reads.
const TCP_READ: usize = 64 * 1024;
/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(60);
const BIN: &str = env!("CARGO_BIN_EXE_popwire-bridge");

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    // Children are stopped when `bench` returns, whatever it returns.
    let result = runtime.block_on(bench());
    println!(
        "\ntotal {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        load()
    );
    if let Err(e) = result {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}

// ----- Processes ------------------------------------------------------------------------------

/// The processes started here; each is stopped (SIGTERM, then SIGKILL) on drop, together with
/// any process it forked (websockify's per-session children), found by parent id.
struct Procs(Vec<(String, Child)>);

impl Procs {
    fn spawn(&mut self, name: &str, cmd: &mut Command, log: &Path) -> Result<u32> {
        let log = fs::File::create(log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let pid = child.id();
        self.0.push((name.to_owned(), child));
        Ok(pid)
    }

    /// Fails if a started process has exited.
    fn check(&mut self) -> Result<()> {
        for (name, child) in &mut self.0 {
            if let Some(status) = child.try_wait()? {
                bail!("{name} exited early: {status}");
            }
        }
        Ok(())
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, child) in self.0.iter_mut().rev() {
            let pid = child.id();
            for kid in children_of(pid) {
                signal("KILL", kid);
            }
            signal("TERM", pid);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            for kid in children_of(pid) {
                signal("KILL", kid);
            }
        }
    }
}

fn signal(sig: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// `bash -c 'ulimit -n 8192; exec BIN ARGS…'`: the bridges hold two sockets per session.
fn bridge_command(args: &[String]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(BIN)
        .args(args)
        .env("RUST_LOG", "warn");
    cmd
}

/// Waits for `--ready-file`'s JSON.
async fn ready(procs: &mut Procs, path: &Path, log: &Path) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            return Ok(serde_json::from_str(&text)?);
        }
        if let Err(e) = procs.check() {
            bail!("{e}; log:\n{}", tail(log));
        }
        if Instant::now() > deadline {
            bail!("no ready file after 30 s; log:\n{}", tail(log));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn addr(ready: &serde_json::Value, key: &str) -> Result<SocketAddr> {
    ready[key]
        .as_str()
        .ok_or_else(|| anyhow!("no {key} in {ready}"))?
        .parse()
        .context("an address")
}

fn tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A port that was free a moment ago.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

// ----- /proc ----------------------------------------------------------------------------------

/// `(name, value)` lines of a /proc file, values in kB.
fn proc_kb(path: &str, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// (RSS, PSS) in KiB; PSS is `None` if smaps_rollup is not readable.
fn memory(pid: u32) -> (u64, Option<u64>) {
    let rss = proc_kb(&format!("/proc/{pid}/status"), "VmRSS").unwrap_or(0);
    let pss = proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss");
    (rss, pss)
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            let stat = fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // pid (comm) state ppid …: comm may hold spaces and parentheses.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after.split_whitespace().nth(1) == Some(pid.to_string().as_str())
        })
        .collect()
}

/// CPU time (user + system, reaped children included) of a process so far, in ms.
fn cpu_ms(pid: u32, tick_ms: f64) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    // After the command: state ppid … utime(11) stime(12) cutime(13) cstime(14).
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 * tick_ms
}

/// One clock tick (`getconf CLK_TCK`, usually 100 per second) in ms.
fn clock_tick_ms() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|&hz| hz > 0.0)
        .map_or(10.0, |hz| 1000.0 / hz)
}

/// The load average, and how many Chromium processes are running (other engineers' tests).
fn load() -> String {
    let avg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    let chromium = fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    fs::read_to_string(e.path().join("comm"))
                        .is_ok_and(|c| c.trim_end().starts_with("chrom"))
                })
                .count()
        })
        .unwrap_or(0);
    format!(
        "load average {} (2 cores), {chromium} chromium processes",
        avg.join(" ")
    )
}

/// The soft limit on open files of this process.
fn nofile_limit() -> Option<usize> {
    let text = fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

// ----- The message ----------------------------------------------------------------------------

#[path = "../../benches/common/mail.rs"]
mod mail;

/// Forwarded messages quoted inside the big one.
const QUOTED_HEADERS: &[&str] = &[
    "---------- Forwarded message ----------",
    "From: Alice Example <alice@example.org>",
    "Date: Tue, 11 Jun 2024 12:34:56 +0200",
    "Subject: Re: quarterly report and the meeting schedule for next week",
    "To: Bob Example <bob@example.net>",
];

/// One message of at least `target` octets: headers, then a text body of quoted forwards,
/// paragraphs, short lines and base64-looking blocks; lines of at most 78 characters, about 5%
/// beginning with a dot; CRLF. Returns it and the share of lines beginning with a dot.
fn build_message(target: usize) -> (Vec<u8>, f64) {
    let mut rng = mail::Rng(mail::SEED);
    let mut msg = Vec::with_capacity(target + 4096);
    for header in [
        "Return-Path: <alice@example.org>",
        "Received: from mx.example.org (mx.example.org [192.0.2.25]) by pop.example.net",
        "Message-ID: <20240611123456.4f2a9c@mail.example.org>",
        "Date: Tue, 11 Jun 2024 12:34:56 +0200",
        "From: Alice Example <alice@example.org>",
        "To: Bob Example <bob@example.net>",
        "Subject: The whole archive, 60 MiB of it",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ] {
        msg.extend_from_slice(header.as_bytes());
        msg.extend_from_slice(b"\r\n");
    }
    let stats = mail::append_text(&mut rng, &mut msg, target, QUOTED_HEADERS);
    (msg, 100.0 * stats.dotted as f64 / stats.lines as f64)
}

// ----- Transports -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Direct,
    Bridge,
    Websockify,
}

impl Via {
    const ALL: [Via; 3] = [Via::Direct, Via::Bridge, Via::Websockify];

    fn name(self) -> &'static str {
        match self {
            Via::Direct => "(a) direct TCP",
            Via::Bridge => "(b) popwire-bridge",
            Via::Websockify => "(c) websockify 0.10",
        }
    }
}

/// Where the three paths start.
#[derive(Debug, Clone, Copy)]
struct Endpoints {
    pop3: SocketAddr,
    bridge: SocketAddr,
    websockify: SocketAddr,
}

/// A connection carrying POP3 bytes: a TCP stream, or a WebSocket whose binary messages carry
/// them (text messages, the bridge's control messages, are skipped).
enum Conn {
    Tcp { stream: TcpStream, buf: Vec<u8> },
    Ws(Box<WebSocketStream<TcpStream>>),
}

impl Conn {
    async fn send(&mut self, bytes: Vec<u8>) -> Result<()> {
        match self {
            Conn::Tcp { stream, .. } => stream.write_all(&bytes).await?,
            Conn::Ws(ws) => ws.send(Message::Binary(bytes.into())).await?,
        }
        Ok(())
    }

    /// Feeds the next bytes that arrive to `client`; their count (0 for a control message).
    async fn feed(&mut self, client: &mut Client, now_ms: impl Fn() -> u64) -> Result<usize> {
        match self {
            Conn::Tcp { stream, buf } => {
                let n = stream.read(buf).await?;
                if n == 0 {
                    bail!("the server closed the connection");
                }
                client.feed(now_ms(), &buf[..n]);
                Ok(n)
            }
            Conn::Ws(ws) => match ws.next().await {
                Some(Ok(Message::Binary(data))) => {
                    client.feed(now_ms(), &data);
                    Ok(data.len())
                }
                Some(Ok(Message::Close(frame))) => bail!("WebSocket closed: {frame:?}"),
                Some(Ok(_)) => Ok(0),
                Some(Err(e)) => Err(e.into()),
                None => bail!("WebSocket ended"),
            },
        }
    }

    async fn close(self) {
        if let Conn::Ws(mut ws) = self {
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.as_mut().close(None)).await;
        }
    }
}

/// Opens a WebSocket over a TCP stream with TCP_NODELAY, optionally asking for a subprotocol.
async fn websocket(url: &str, subprotocol: Option<&str>) -> Result<WebSocketStream<TcpStream>> {
    let mut request = url.into_client_request()?;
    if let Some(protocol) = subprotocol {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse()?);
    }
    let host = request
        .uri()
        .authority()
        .ok_or_else(|| anyhow!("no host in {url}"))?
        .as_str()
        .to_owned();
    let tcp = TcpStream::connect(host).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await?;
    Ok(ws)
}

impl Endpoints {
    async fn connect(&self, via: Via) -> Result<Conn> {
        Ok(match via {
            Via::Direct => {
                let stream = TcpStream::connect(self.pop3).await?;
                stream.set_nodelay(true)?;
                Conn::Tcp {
                    stream,
                    buf: vec![0; TCP_READ],
                }
            }
            Via::Bridge => {
                let url = format!("ws://{}/bridge?target=demo", self.bridge);
                let mut ws = websocket(&url, None).await?;
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains(r#""op":"connected""#) => {}
                    other => bail!("expected the bridge's connected message, got {other:?}"),
                }
                Conn::Ws(Box::new(ws))
            }
            Via::Websockify => {
                let url = format!("ws://{}/", self.websockify);
                Conn::Ws(Box::new(websocket(&url, Some("binary")).await?))
            }
        })
    }

    /// A session that has the greeting and is logged in as `user`. The maildrop lock of the
    /// previous session is released at its QUIT, but retry briefly on `[IN-USE]` anyway.
    async fn login(&self, via: Via, user: &str) -> Result<Session> {
        let mut last = None;
        for _ in 0..20 {
            let conn = self.connect(via).await?;
            let mut session = Session::new(conn);
            session.greeting().await?;
            let h = session.client.user(user)?;
            session.run(h).await?;
            let h = session.client.pass("pop3")?;
            match session.run(h).await {
                Ok(_) => return Ok(session),
                Err(e) => {
                    session.conn.close().await;
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("login failed")))
    }
}

/// A [`Client`] on a [`Conn`].
struct Session {
    conn: Conn,
    client: Client,
    epoch: Instant,
}

impl Session {
    fn new(conn: Conn) -> Session {
        let config = ClientConfig {
            max_body: 1 << 30,
            ..ClientConfig::default()
        };
        Session {
            conn,
            client: Client::new(config, 0),
            epoch: Instant::now(),
        }
    }

    fn clock(&self) -> impl Fn() -> u64 {
        let epoch = self.epoch;
        move || epoch.elapsed().as_millis() as u64
    }

    async fn greeting(&mut self) -> Result<()> {
        let clock = self.clock();
        tokio::time::timeout(WAIT, async {
            while self.client.greeting().is_none() {
                while let Some(event) = self.client.poll_event() {
                    if matches!(event, Event::Closed) {
                        bail!("closed before the greeting");
                    }
                }
                self.conn.feed(&mut self.client, &clock).await?;
            }
            Ok(())
        })
        .await
        .context("waiting for the greeting")?
    }

    /// Sends what the client has to send, then feeds it until `handle` completes. Returns the
    /// reply and when the first octets after the start arrived.
    async fn run_timed(&mut self, handle: CommandHandle) -> Result<(Reply, Option<Instant>)> {
        let clock = self.clock();
        let mut first = None;
        tokio::time::timeout(WAIT, async {
            loop {
                while let Some(bytes) = self.client.poll_transmit(clock()) {
                    self.conn.send(bytes).await?;
                }
                let mut closed = false;
                while let Some(event) = self.client.poll_event() {
                    match event {
                        Event::Completed { handle: h, result } if h == handle => {
                            return Ok((result?, first));
                        }
                        // QUIT's reply may come after it.
                        Event::Closed => closed = true,
                        _ => {}
                    }
                }
                if closed {
                    bail!("the session closed: {:?}", self.client.closed_by());
                }
                let n = self.conn.feed(&mut self.client, &clock).await?;
                if n > 0 && first.is_none() {
                    first = Some(Instant::now());
                }
            }
        })
        .await
        .context("waiting for a reply")?
    }

    async fn run(&mut self, handle: CommandHandle) -> Result<Reply> {
        Ok(self.run_timed(handle).await?.0)
    }

    async fn quit(mut self) -> Result<()> {
        let h = self.client.quit()?;
        self.run(h).await?;
        self.conn.close().await;
        Ok(())
    }
}

// ----- Statistics -----------------------------------------------------------------------------

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

// ----- The benchmark --------------------------------------------------------------------------

async fn bench() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Dropped before `dir`: processes stop before their files go.
    let mut procs = Procs(Vec::new());
    println!("popwire-bridge benchmark; {}", load());
    println!("binary: {BIN}");

    // ----- 1. Setup ---------------------------------------------------------------------------
    let t = Instant::now();
    let (message, dotted) = build_message(MESSAGE_TARGET);
    let mail = dir.path().join("mail");
    for user in ["bench", "noop-a", "noop-b", "noop-c"] {
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(mail.join(user).join(sub))?;
        }
    }
    fs::write(mail.join("bench/new/1718102096.M1P1.bench-60MiB"), &message)?;
    for user in ["noop-a", "noop-b", "noop-c"] {
        fs::write(
            mail.join(user).join("new/1718102097.M2P1.small"),
            b"From: a@example.org\r\nSubject: small\r\n\r\nA small one.\r\n.signature\r\n",
        )?;
    }
    let www = dir.path().join("www");
    fs::create_dir_all(&www)?;
    println!(
        "message: {} octets ({:.1} MiB), {:.1}% of lines begin with '.', built and written in \
         {:.1} s",
        message.len(),
        message.len() as f64 / (1 << 20) as f64,
        dotted,
        t.elapsed().as_secs_f64()
    );

    let s = |x: &str| x.to_owned();
    let ready1 = dir.path().join("ready-main.json");
    let log1 = dir.path().join("bridge-main.log");
    let main_pid = procs.spawn(
        "popwire-bridge (main)",
        &mut bridge_command(&[
            s("--demo"),
            s("--maildir"),
            mail.display().to_string(),
            s("--listen"),
            s("127.0.0.1:0"),
            s("--demo-pop3"),
            s("127.0.0.1:0"),
            s("--demo-pop3s"),
            s("127.0.0.1:0"),
            s("--ready-file"),
            ready1.display().to_string(),
            s("--www"),
            www.display().to_string(),
            s("--max-sessions"),
            s("2000"),
            s("--max-sessions-per-ip"),
            s("2000"),
        ]),
        &log1,
    )?;
    let r = ready(&mut procs, &ready1, &log1).await?;
    let (bridge_http, pop3) = (addr(&r, "http")?, addr(&r, "pop3")?);

    let ws_port = free_port()?;
    let ws_log = dir.path().join("websockify.log");
    let websockify_pid = procs.spawn(
        "websockify",
        Command::new("websockify").args([format!("127.0.0.1:{ws_port}"), pop3.to_string()]),
        &ws_log,
    )?;
    let websockify: SocketAddr = format!("127.0.0.1:{ws_port}").parse()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(websockify).await.is_err() {
        if let Err(e) = procs.check() {
            bail!("{e}; log:\n{}", tail(&ws_log));
        }
        if Instant::now() > deadline {
            bail!("websockify does not listen; log:\n{}", tail(&ws_log));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let version = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "websockify"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    println!(
        "bridge pid {main_pid}: http {bridge_http}, demo POP3 {pop3} (Maildir); websockify \
         {version} pid {websockify_pid} on {websockify} → {pop3}"
    );
    let ep = Endpoints {
        pop3,
        bridge: bridge_http,
        websockify,
    };

    // ----- 2. RETR ----------------------------------------------------------------------------
    println!(
        "\n== RETR of the {:.1} MiB message: warm-up, then {RETR_RUNS} interleaved runs per path ==",
        message.len() as f64 / (1 << 20) as f64
    );
    // Per path: MB/s end to end, MB/s from the first octet, ms to the first octet, and CPU ms
    // per session (login to QUIT) of the bridge process (demo server + bridge), of websockify
    // (parent + children) and of this process (the client).
    let mut mbps: [Vec<f64>; 3] = Default::default();
    let mut stream: [Vec<f64>; 3] = Default::default();
    let mut ttfb: [Vec<f64>; 3] = Default::default();
    let mut cpu: [[Vec<f64>; 3]; 3] = Default::default();
    let tick_ms = clock_tick_ms();
    let self_pid = std::process::id();
    let sample = || {
        [
            cpu_ms(main_pid, tick_ms),
            cpu_ms(websockify_pid, tick_ms)
                + children_of(websockify_pid)
                    .into_iter()
                    .map(|kid| cpu_ms(kid, tick_ms))
                    .sum::<f64>(),
            cpu_ms(self_pid, tick_ms),
        ]
    };
    for round in 0..=RETR_RUNS {
        for (i, via) in Via::ALL.into_iter().enumerate() {
            let before = sample();
            let (elapsed, first) = retr(&ep, via, &message, round == 0)
                .await
                .with_context(|| format!("RETR via {}", via.name()))?;
            // websockify's session process exits and is reaped.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let after = sample();
            if round == 0 {
                continue;
            }
            let mb = message.len() as f64 / 1e6;
            mbps[i].push(mb / elapsed.as_secs_f64());
            stream[i].push(mb / (elapsed - first).as_secs_f64());
            ttfb[i].push(first.as_secs_f64() * 1e3);
            for (k, series) in cpu[i].iter_mut().enumerate() {
                series.push(after[k] - before[k]);
            }
        }
        if round == 0 {
            println!(
                "warm-up done: each path delivered the message intact; {}",
                load()
            );
        }
    }
    println!(
        "MB/s end to end: from sending RETR to the client's Completed (includes the demo \
         server's time to the first octet)"
    );
    let mut end_to_end = [0.0; 3];
    let mut streaming = [0.0; 3];
    for (i, via) in Via::ALL.into_iter().enumerate() {
        end_to_end[i] = median(&mbps[i]);
        streaming[i] = median(&stream[i]);
        let runs: Vec<String> = mbps[i].iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "{:<22} median {:6.1} MB/s   (runs: {})",
            via.name(),
            end_to_end[i],
            runs.join(" ")
        );
    }
    println!("MB/s streaming: from the reply's first octet to Completed");
    for (i, via) in Via::ALL.into_iter().enumerate() {
        let runs: Vec<String> = stream[i].iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "{:<22} median {:6.1} MB/s   (first octet after {:.0} ms median; runs: {})",
            via.name(),
            streaming[i],
            median(&ttfb[i]),
            runs.join(" ")
        );
    }
    for (label, [direct, bridged, websockified]) in
        [("end to end", end_to_end), ("streaming ", streaming)]
    {
        println!(
            "{label}: bridge / websockify = {:.2}× (goal ≥ 2×: {}); bridge / direct = {:.2}× \
             (goal ≥ 0.5×: {}); websockify / direct = {:.2}×",
            bridged / websockified,
            verdict(bridged / websockified >= 2.0),
            bridged / direct,
            verdict(bridged / direct >= 0.5),
            websockified / direct,
        );
    }
    println!(
        "CPU ms per RETR session (login to QUIT; median; clock tick {tick_ms:.0} ms): bridge \
         process (demo server + bridge) / websockify processes / client (this process)"
    );
    let mut cpu_median = [[0.0; 3]; 3];
    for (i, via) in Via::ALL.into_iter().enumerate() {
        for k in 0..3 {
            cpu_median[i][k] = median(&cpu[i][k]);
        }
        println!(
            "{:<22} {:6.0} / {:6.0} / {:6.0}",
            via.name(),
            cpu_median[i][0],
            cpu_median[i][1],
            cpu_median[i][2]
        );
    }
    println!(
        "forwarding the message costs the bridge ≈ {:.0} CPU ms ((b) − (a) in the bridge process), \
         websockify ≈ {:.0} CPU ms; the WebSocket client ≈ {:.0} CPU ms more than the TCP one",
        cpu_median[1][0] - cpu_median[0][0],
        cpu_median[2][1] - cpu_median[0][1],
        cpu_median[1][2] - cpu_median[0][2],
    );
    if let Some(hwm) = proc_kb(&format!("/proc/{main_pid}/status"), "VmHWM") {
        println!(
            "peak RSS of the bridge process (demo server inside): {}",
            kib(hwm)
        );
    }
    println!("{}", load());

    // ----- 3. NOOP round trips ----------------------------------------------------------------
    println!(
        "\n== NOOP round trips: {NOOP_WARMUP} warm-up, then {NOOPS} per path, sequential, in \
         blocks of {NOOP_BLOCK} taking turns =="
    );
    let mut sessions = Vec::new();
    for (via, user) in Via::ALL.into_iter().zip(["noop-a", "noop-b", "noop-c"]) {
        sessions.push(ep.login(via, user).await?);
    }
    let mut rtt: [Vec<f64>; 3] = Default::default();
    let mut done = 0;
    while done < NOOP_WARMUP + NOOPS {
        for (i, session) in sessions.iter_mut().enumerate() {
            for k in 0..NOOP_BLOCK {
                let h = session.client.command(Pop3Command::Noop)?;
                let t = Instant::now();
                session.run(h).await?;
                if done + k >= NOOP_WARMUP {
                    rtt[i].push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        done += NOOP_BLOCK;
    }
    for session in sessions {
        session.quit().await?;
    }
    let mut p50 = [0.0; 3];
    for (i, via) in Via::ALL.into_iter().enumerate() {
        rtt[i].sort_by(f64::total_cmp);
        p50[i] = percentile(&rtt[i], 50.0);
        println!(
            "{:<22} p50 {:.3} ms   p99 {:.3} ms   (min {:.3}, max {:.3}; n = {})",
            via.name(),
            p50[i],
            percentile(&rtt[i], 99.0),
            rtt[i][0],
            rtt[i][rtt[i].len() - 1],
            rtt[i].len()
        );
    }
    println!(
        "bridge adds {:.3} ms at p50 over direct TCP (goal ≤ 0.2 ms: {}); websockify adds {:.3} ms",
        p50[1] - p50[0],
        verdict(p50[1] - p50[0] <= 0.2),
        p50[2] - p50[0]
    );
    println!("{}", load());

    // ----- 4. Memory --------------------------------------------------------------------------
    memory_bench(&mut procs, dir.path(), &ep, websockify_pid).await?;
    procs.check()?;
    Ok(())
}

/// One RETR on a fresh logged-in session; (time to `Completed`, time to the first octet).
async fn retr(
    ep: &Endpoints,
    via: Via,
    message: &[u8],
    verify: bool,
) -> Result<(Duration, Duration)> {
    let mut session = ep.login(via, "bench").await?;
    // The size first, as the page does, so the client allocates the message once.
    let h = session.client.list(Some(1))?;
    session.run(h).await?;
    let h = session.client.retr(1)?;
    let start = Instant::now();
    let (reply, first) = session.run_timed(h).await?;
    let elapsed = start.elapsed();
    let Reply::Message(got) = reply else {
        bail!("RETR gave {reply:?}");
    };
    if got.len() != message.len() || (verify && got != message) {
        bail!(
            "RETR gave {} octets, not the {} stored",
            got.len(),
            message.len()
        );
    }
    drop(got);
    session.quit().await?;
    Ok((elapsed, first.map_or(elapsed, |f| f - start)))
}

/// Opens an idle session (greeting received) through a WebSocket bridge.
async fn idle_session(url: &str, subprotocol: Option<&str>) -> Result<WebSocketStream<TcpStream>> {
    let mut ws = websocket(url, subprotocol).await?;
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b.starts_with(b"+OK") => return Ok(()),
                Some(Ok(Message::Text(t))) if !t.as_str().contains(r#""op":"connected""#) => {
                    bail!("refused: {}", t.as_str())
                }
                Some(Ok(_)) => {}
                other => bail!("no greeting: {other:?}"),
            }
        }
    })
    .await
    .context("waiting for an idle session's greeting")??;
    Ok(ws)
}

fn kib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn pss_or_na(pss: Option<u64>) -> String {
    pss.map_or_else(|| "n/a".into(), kib)
}

async fn memory_bench(
    procs: &mut Procs,
    dir: &Path,
    ep: &Endpoints,
    websockify_pid: u32,
) -> Result<()> {
    let limit = nofile_limit().unwrap_or(1024);
    let sessions = BRIDGE_SESSIONS.min(limit.saturating_sub(200));
    println!(
        "\n== Memory: {sessions} idle bridge sessions (this process may open {limit} files) =="
    );
    if sessions < BRIDGE_SESSIONS {
        println!("(fewer than {BRIDGE_SESSIONS}: raise `ulimit -n` for more)");
    }

    // Two external demo servers (each takes at most 512 connections) and a bridge without
    // --demo that reaches them as targets ext1 and ext2: only the bridge's own cost is measured.
    let mut targets = Vec::new();
    for n in 1..=2 {
        let ready_path = dir.join(format!("ready-ext{n}.json"));
        let log = dir.join(format!("ext{n}.log"));
        procs.spawn(
            &format!("popwire-bridge --demo (ext{n})"),
            &mut bridge_command(&[
                "--demo".into(),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--demo-pop3".into(),
                "127.0.0.1:0".into(),
                "--demo-pop3s".into(),
                "127.0.0.1:0".into(),
                "--ready-file".into(),
                ready_path.display().to_string(),
                "--www".into(),
                dir.join("www").display().to_string(),
            ]),
            &log,
        )?;
        let r = ready(procs, &ready_path, &log).await?;
        targets.push(format!("--target=ext{n}={}", addr(&r, "pop3")?));
    }
    let ready_path = dir.join("ready-measured.json");
    let log = dir.join("measured.log");
    let mut args = targets.clone();
    args.extend([
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--ready-file".into(),
        ready_path.display().to_string(),
        "--www".into(),
        dir.join("www").display().to_string(),
        "--max-sessions".into(),
        "2000".into(),
        "--max-sessions-per-ip".into(),
        "2000".into(),
    ]);
    let pid = procs.spawn(
        "popwire-bridge (measured)",
        &mut bridge_command(&args),
        &log,
    )?;
    let r = ready(procs, &ready_path, &log).await?;
    let http = addr(&r, "http")?;
    println!(
        "measured bridge pid {pid} on {http}, {} (no demo server inside)",
        targets.join(" ")
    );

    // One session opened and closed first, so that start-up allocations are in the baseline.
    drop(idle_session(&format!("ws://{http}/bridge?target=ext1"), None).await?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, pss0) = memory(pid);
    let t = Instant::now();
    let mut open = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let target = if i % 2 == 0 { "ext1" } else { "ext2" };
        let url = format!("ws://{http}/bridge?target={target}");
        open.push(
            idle_session(&url, None)
                .await
                .with_context(|| format!("idle bridge session {i}"))?,
        );
    }
    let opened = t.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss1, pss1) = memory(pid);
    drop(open);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss2, pss2) = memory(pid);
    let per = |a: u64, b: u64| (b as f64 - a as f64) / sessions as f64;
    println!(
        "bridge RSS {} → {} with {sessions} sessions (opened in {:.1} s) → {} after closing them",
        kib(rss0),
        kib(rss1),
        opened.as_secs_f64(),
        kib(rss2)
    );
    println!(
        "bridge PSS {} → {} → {}",
        pss_or_na(pss0),
        pss_or_na(pss1),
        pss_or_na(pss2)
    );
    let rss_per = per(rss0, rss1);
    print!("bridge: {rss_per:.1} KiB RSS per idle session");
    if let (Some(a), Some(b)) = (pss0, pss1) {
        print!(", {:.1} KiB PSS", per(a, b));
    }
    println!(" (goal ≤ 40 KiB: {})", verdict(rss_per <= 40.0));

    // websockify: a forked process per session; PSS summed over it and its children.
    let sum = || {
        let mut pids = vec![websockify_pid];
        pids.extend(children_of(websockify_pid));
        let (mut rss, mut pss, mut pss_ok) = (0, 0, true);
        for p in &pids {
            let (r, s) = memory(*p);
            rss += r;
            pss += s.unwrap_or(0);
            pss_ok &= s.is_some();
        }
        (pids.len() - 1, rss, pss_ok.then_some(pss))
    };
    let n = WEBSOCKIFY_SESSIONS.min(limit.saturating_sub(200));
    let (kids0, wrss0, wpss0) = sum();
    let t = Instant::now();
    let mut open = Vec::with_capacity(n);
    let mut failed = None;
    for i in 0..n {
        match idle_session(&format!("ws://{}/", ep.websockify), Some("binary")).await {
            Ok(ws) => open.push(ws),
            Err(e) => {
                failed = Some(format!("session {i} failed: {e:#}"));
                break;
            }
        }
    }
    let opened = t.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (kids1, wrss1, wpss1) = sum();
    let got = open.len();
    drop(open);
    let per_ws = |a: u64, b: u64| (b as f64 - a as f64) / got.max(1) as f64;
    println!(
        "websockify with {got} idle sessions (opened in {:.1} s; {kids0} → {kids1} child \
         processes): RSS sum {} → {}, PSS sum {} → {}",
        opened.as_secs_f64(),
        kib(wrss0),
        kib(wrss1),
        pss_or_na(wpss0),
        pss_or_na(wpss1)
    );
    print!(
        "websockify: {:.0} KiB RSS per idle session",
        per_ws(wrss0, wrss1)
    );
    if let (Some(a), Some(b)) = (wpss0, wpss1) {
        print!(", {:.0} KiB PSS", per_ws(a, b));
    }
    println!(
        " ({} sessions only: it forks a process per session and fails past ~507)",
        got
    );
    if let Some(failed) = failed {
        println!("websockify: {failed}");
    }
    println!("{}", load());
    Ok(())
}
