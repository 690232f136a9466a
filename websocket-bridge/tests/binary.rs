//! The built binary: `--ready-file` with every port 0, then SIGTERM shuts it down cleanly; its
//! logging never stalls it, even when nobody reads its stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

#[tokio::test]
async fn ready_file_reports_the_bound_addresses_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .args(["--demo-pop3", "127.0.0.1:0", "--demo-pop3s", "127.0.0.1:0"])
        .arg("--www")
        .arg(&www)
        .arg("--ready-file")
        .arg(&ready)
        .args(["--allow-origin", "http://127.0.0.1:*"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();

    let started = Instant::now();
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            break text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the bridge exited early: {status}");
        }
        assert!(started.elapsed() < common::WAIT, "no ready file");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let http: SocketAddr = json["http"].as_str().unwrap().parse().unwrap();
    let pop3: SocketAddr = json["pop3"].as_str().unwrap().parse().unwrap();
    let pop3s: SocketAddr = json["pop3s"].as_str().unwrap().parse().unwrap();
    assert_ne!(http.port(), 0);
    assert_ne!(pop3.port(), 0);
    assert_ne!(pop3s.port(), 0);
    assert!(http.ip().is_loopback());

    let health = common::http(http, "GET", "/healthz", &[], b"").await.json();
    assert_eq!(health["demo"], true);
    assert_eq!(health["encrypted"], false);
    let mut tcp = tokio::net::TcpStream::connect(pop3).await.unwrap();
    let mut greeting = [0u8; 64];
    let n = tcp.read(&mut greeting).await.unwrap();
    assert!(greeting[..n].starts_with(b"+OK "));

    // A session through the binary, with an Origin of the --allow-origin wildcard.
    let mut ws = common::open(
        &format!("ws://{http}/bridge?target=demo"),
        Some("http://127.0.0.1:4321"),
    )
    .await
    .unwrap();
    assert_eq!(ws.control().await["op"], "connected");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > common::WAIT {
            let _ = child.kill();
            panic!("the bridge did not stop on SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(status.success(), "{status}");
    assert_eq!(ws.control().await["op"], "closed");
}

#[test]
fn bad_flags_fail_with_a_message() {
    for args in [
        &["--target", "nope"][..],
        &["--idle-timeout-secs", "60"],
        &["--maildir", "/tmp"],
        &["--tls-cert", "x.pem"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

/// A child process that is killed if the test ends (or fails) while it still runs.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The binary with the demo server on port 0 and `--allow-origin http://127.0.0.1:*`, once its
/// ready file is there: the child and its http address.
async fn spawn_bridge(
    dir: &std::path::Path,
    args: &[&str],
    rust_log: &str,
    stderr: Stdio,
) -> (Running, SocketAddr) {
    let ready = dir.join("ready.json");
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
            .args(["--listen", "127.0.0.1:0", "--demo"])
            .args(["--demo-pop3", "127.0.0.1:0", "--demo-pop3s", "127.0.0.1:0"])
            .arg("--www")
            .arg(&www)
            .arg("--ready-file")
            .arg(&ready)
            .args(["--allow-origin", "http://127.0.0.1:*"])
            .args(args)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            break text;
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the bridge exited early: {status}");
        }
        assert!(started.elapsed() < common::WAIT, "no ready file");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    (child, json["http"].as_str().unwrap().parse().unwrap())
}

/// Sends SIGTERM and waits at most `within` for the process to end.
async fn sigterm_and_wait(Running(child): &mut Running, within: Duration) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > within {
            panic!("the bridge did not stop within {within:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `count` whole POP3 sessions through the bridge (login, RETR of every sample, QUIT), eight at
/// a time; panics unless all of them finish within `within`. `within` tells a stall (never)
/// from slowness: a debug build logging at trace on a loaded two-core machine takes its time.
async fn whole_sessions(http: SocketAddr, count: usize, within: Duration) {
    const AT_ONCE: usize = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..AT_ONCE {
        tasks.spawn(async move {
            for n in (worker..count).step_by(AT_ONCE) {
                let mut ws = common::open(
                    &format!("ws://{http}/bridge?target=demo"),
                    Some("http://127.0.0.1:4321"),
                )
                .await
                .unwrap();
                assert_eq!(ws.control().await["op"], "connected");
                assert!(ws.line().await.starts_with("+OK"));
                let reply = ws.login(&format!("load{n}")).await;
                assert!(reply.starts_with("+OK"), "{reply}");
                for (i, sample) in common::SAMPLES.iter().enumerate() {
                    let body = ws.multi(&format!("RETR {}", i + 1)).await;
                    assert!(body == *sample, "RETR {} differs", i + 1);
                }
                assert!(ws.cmd("QUIT").await.starts_with("+OK"));
                assert_eq!(ws.control().await["op"], "closed");
            }
        });
    }
    let all = async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    };
    if tokio::time::timeout(within, all).await.is_err() {
        panic!("the sessions did not finish within {within:?}: is the bridge stalled?");
    }
}

/// How long the flood's sessions may take before the bridge counts as stalled.
const STALLED: Duration = Duration::from_secs(120);

/// Log lines that flood the pipe: every crate's trace output (hyper, tungstenite, mio, …).
const FLOOD: &str = "trace";

/// A supervisor that pipes the bridge's stderr and never reads it: the pipe fills up, yet the
/// sessions complete and SIGTERM still stops the bridge promptly.
#[tokio::test]
async fn an_unread_stderr_pipe_stalls_neither_sessions_nor_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, http) = spawn_bridge(dir.path(), &[], FLOOD, Stdio::piped()).await;
    let mut stderr = child.0.stderr.take().unwrap();

    whole_sessions(http, 40, STALLED).await;
    // Still serving new sessions after the flood.
    whole_sessions(http, 1, common::WAIT).await;

    let status = sigterm_and_wait(&mut child, Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
    // The pipe really was full (a blocking writer would have stopped at this point).
    let mut written = Vec::new();
    stderr.read_to_end(&mut written).unwrap();
    assert!(
        written.len() >= 60 * 1024,
        "only {} bytes of logs: the flood did not fill the pipe",
        written.len()
    );
}

/// The lines dropped while stderr was blocked are counted and reported once it drains.
#[tokio::test]
async fn log_lines_dropped_while_stderr_is_blocked_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, http) = spawn_bridge(dir.path(), &[], FLOOD, Stdio::piped()).await;
    let mut stderr = child.0.stderr.take().unwrap();

    whole_sessions(http, 40, STALLED).await;
    // The supervisor wakes up and reads again.
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).unwrap();
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = sigterm_and_wait(&mut child, Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
    let text = reader.join().unwrap();
    let report = text
        .lines()
        .find(|l| l.contains("log lines were dropped in all"))
        .unwrap_or_else(|| panic!("no report of dropped lines in {} bytes", text.len()));
    let count: usize = report
        .split("dropped=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {report:?}"));
    assert!(count > 0, "{report}");
}

/// A session over `--max-sessions-per-ip` is refused, and the log line names the flag, so the
/// instructor knows what to change.
#[tokio::test]
async fn the_per_ip_refusal_is_logged_with_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, http) = spawn_bridge(
        dir.path(),
        &["--max-sessions-per-ip", "1"],
        "info",
        Stdio::piped(),
    )
    .await;
    let stderr = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let url = format!("ws://{http}/bridge?target=demo");
    let mut first = common::open(&url, Some("http://127.0.0.1:4321"))
        .await
        .unwrap();
    assert_eq!(first.control().await["op"], "connected");
    let mut second = common::open(&url, Some("http://127.0.0.1:4321"))
        .await
        .unwrap();
    let message = second.expect_refusal("busy").await;
    assert!(message.contains("--max-sessions-per-ip"), "{message}");

    let status = sigterm_and_wait(&mut child, common::WAIT).await;
    assert!(status.success(), "{status}");
    let text = reader.join().unwrap();
    let refusal = text
        .lines()
        .find(|l| l.contains("bridge session refused: busy"))
        .unwrap_or_else(|| panic!("no refusal logged: {text}"));
    assert!(refusal.contains("--max-sessions-per-ip"), "{refusal}");
}
