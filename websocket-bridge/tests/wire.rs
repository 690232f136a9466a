//! The `wire` control message: what crossed the TCP connection between the bridge and the
//! server once TLS began, for a page that asked with `{"op":"wire"}`. After STLS and on an
//! implicit-TLS target the samples begin with TLS records (22: handshake; then 23: application
//! data), the plaintext (the user name, the password) appears in none of them, and a page
//! that did not ask is told nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A POP3 reader that keeps every `wire` message it meets between the server's bytes.
struct Reader {
    ws: Ws<TcpStream>,
    buf: Vec<u8>,
    wires: Vec<Value>,
}

impl Reader {
    fn new(ws: Ws<TcpStream>) -> Reader {
        Reader {
            ws,
            buf: Vec::new(),
            wires: Vec::new(),
        }
    }

    async fn next(&mut self) {
        match self.ws.next().await {
            Some(Message::Binary(b)) => self.buf.extend_from_slice(&b),
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                assert_eq!(
                    v["op"], "wire",
                    "only wire messages come between replies: {v}"
                );
                self.wires.push(v);
            }
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The next `wire` message (POP3 bytes before it are kept).
    async fn wire(&mut self) -> Value {
        let seen = self.wires.len();
        while self.wires.len() == seen {
            self.next().await;
        }
        self.wires.last().unwrap().clone()
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return String::from_utf8_lossy(&line[..pos]).into_owned();
            }
            self.next().await;
        }
    }

    /// Sends a command; returns its status line and the `wire` message that came before it.
    async fn cmd(&mut self, line: &str) -> (String, Value) {
        let seen = self.wires.len();
        self.ws.send_bytes(format!("{line}\r\n").as_bytes()).await;
        let status = self.line().await;
        assert!(
            self.wires.len() > seen,
            "{line}: a wire message precedes the reply"
        );
        (status, self.wires.last().unwrap().clone())
    }

    /// A multi-line body's lines, to the terminating dot.
    async fn body(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            if line == "." {
                return lines;
            }
            lines.push(line);
        }
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    assert_eq!(hex.len() % 2, 0, "{hex}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Every sample of a `wire` message, decoded, with its bounds checked.
fn samples(wire: &Value) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for side in ["up", "down"] {
        for field in ["first", "latest"] {
            let bytes = unhex(wire[side][field].as_str().unwrap());
            assert!(
                bytes.len() <= popwire::bridge_protocol::WIRE_SAMPLE,
                "{side}.{field}"
            );
            out.push(bytes);
        }
    }
    out
}

fn starts(wire: &Value, side: &str, field: &str) -> Vec<u8> {
    unhex(wire[side][field].as_str().unwrap())
        .into_iter()
        .take(3)
        .collect()
}

/// No sample of any `wire` message holds `plain`.
fn nowhere(wires: &[Value], plain: &[u8]) {
    for wire in wires {
        for sample in samples(wire) {
            assert!(
                !sample.windows(plain.len()).any(|w| w == plain),
                "{:?} is readable on the wire: {wire}",
                String::from_utf8_lossy(plain)
            );
        }
    }
}

/// The first octets each way are the handshake's first records: 16 03 0x.
fn handshake_first(wire: &Value) {
    for side in ["up", "down"] {
        let head = starts(wire, side, "first");
        assert_eq!(head[..2], [0x16, 0x03], "{side}: {wire}");
        assert!(wire[side]["records"].as_u64().unwrap() >= 1, "{wire}");
        assert!(wire[side]["octets"].as_u64().unwrap() >= 40, "{wire}");
    }
}

/// After the handshake the latest record each way is application data: 17 03 03.
fn application_data_latest(wire: &Value) {
    for side in ["up", "down"] {
        assert_eq!(
            starts(wire, side, "latest"),
            [0x17, 0x03, 0x03],
            "{side}: {wire}"
        );
    }
}

/// The latest record up is exactly `plain` sealed with TLS 1.3 AEAD: the content type octet
/// and a 16-octet tag added, nothing else (RFC 8446 §5.2).
fn sealed_length(wire: &Value, plain: &str) {
    let latest = unhex(wire["up"]["latest"].as_str().unwrap());
    let length = u16::from_be_bytes([latest[3], latest[4]]) as usize;
    assert_eq!(length, plain.len() + 1 + 16, "{plain:?}: {wire}");
}

#[tokio::test]
async fn after_stls_the_wire_carries_tls_records_and_never_the_password() {
    let h = start(demo_config()).await;
    let mut r = Reader::new(session(&h, "demo").await);
    // Asked while plain: nothing is sent (the page has the plaintext bytes itself).
    r.ws.send_text(r#"{"op":"wire"}"#).await;
    r.ws.send_bytes(b"CAPA\r\n").await;
    assert!(r.line().await.starts_with("+OK"));
    let capa = r.body().await;
    assert!(capa.iter().any(|l| l == "STLS"), "{capa:?}");
    assert!(r.wires.is_empty(), "no wire message in the clear");

    r.ws.send_bytes(b"STLS\r\n").await;
    assert!(r.line().await.starts_with("+OK"));
    r.ws.send_text(r#"{"op":"starttls"}"#).await;
    let tls = r.ws.control().await;
    assert_eq!(tls["op"], "tls", "{tls}");
    // At once after the `tls` message: the handshake as it crossed.
    let wire = r.ws.control().await;
    assert_eq!(wire["op"], "wire", "{wire}");
    r.wires.push(wire.clone());
    handshake_first(&wire);

    let (status, wire) = r.cmd("CAPA").await;
    assert!(status.starts_with("+OK"));
    let capa = r.body().await;
    assert!(!capa.iter().any(|l| l == "STLS"), "{capa:?}");
    application_data_latest(&wire);
    if tls["version"] == "TLSv1.3" {
        sealed_length(&wire, "CAPA\r\n");
    }

    let (status, _) = r.cmd("USER wire-stls").await;
    assert!(status.starts_with("+OK"), "{status}");
    let (status, wire) = r.cmd("PASS pop3").await;
    assert!(status.starts_with("+OK"), "{status}");
    application_data_latest(&wire);
    if tls["version"] == "TLSv1.3" {
        sealed_length(&wire, "PASS pop3\r\n");
    }
    let counted = wire["up"]["octets"].as_u64().unwrap();
    assert!(
        counted > ("CAPA\r\nUSER wire-stls\r\nPASS pop3\r\n".len() as u64),
        "{wire}"
    );
    nowhere(&r.wires, b"wire-stls");
    nowhere(&r.wires, b"PASS");
    nowhere(&r.wires, b"pop3");
}

#[tokio::test]
async fn implicit_tls_is_records_from_the_first_octet() {
    let h = start(demo_config()).await;
    let ws = open(&h.url("/bridge?target=demo-tls"), None).await.unwrap();
    let mut r = Reader::new(ws);
    let connected = r.ws.control().await;
    assert_eq!(connected["op"], "connected");
    assert_eq!(r.ws.control().await["op"], "tls");
    r.ws.send_text(r#"{"op":"wire"}"#).await;
    // Told at once: the handshake, and the greeting's record behind it.
    let wire = r.wire().await;
    handshake_first(&wire);
    assert!(r.line().await.starts_with("+OK"), "the greeting");

    let (status, wire) = r.cmd("USER wire-implicit").await;
    assert!(status.starts_with("+OK"), "{status}");
    application_data_latest(&wire);
    let (status, wire) = r.cmd("PASS pop3").await;
    assert!(status.starts_with("+OK"), "{status}");
    application_data_latest(&wire);
    let (status, wire) = r.cmd("STAT").await;
    assert!(status.starts_with("+OK"), "{status}");
    application_data_latest(&wire);
    // The counts only grow, and every message carries the handshake's first octets unchanged.
    let first = r.wires.first().unwrap().clone();
    for w in &r.wires {
        assert_eq!(w["up"]["first"], first["up"]["first"]);
        assert_eq!(w["down"]["first"], first["down"]["first"]);
        assert!(w["up"]["octets"].as_u64() >= first["up"]["octets"].as_u64());
    }
    nowhere(&r.wires, b"wire-implicit");
    nowhere(&r.wires, b"PASS");
    nowhere(&r.wires, b"pop3");
}

#[tokio::test]
async fn a_page_that_does_not_ask_is_told_nothing() {
    let h = start(demo_config()).await;
    // `session` and `line` fail on any text frame between the server's bytes.
    let mut ws = session(&h, "demo-tls").await;
    assert!(ws.login("wire-unasked").await.starts_with("+OK"));
    assert_eq!(ws.stat().await.0, SAMPLES.len());
    let body = ws.multi("RETR 1").await;
    assert!(body == SAMPLES[0]);
}
