//! The built binary: `--ready-file` with every port 0, then SIGTERM shuts it down cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
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
