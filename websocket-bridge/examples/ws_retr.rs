//! A native POP3 client over popwire-bridge's WebSocket: logs in, times `RETR` of one message,
//! and prints one JSON line. The browser benchmark (`benches/browser-retr.sh`) runs it beside
//! headless Chromium against the same bridge.
//!
//! `cargo run --release -p popwire-bridge --example ws_retr -- ws://HOST:PORT/bridge?target=demo USER PASS MSG [RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use popwire::client::Reply;
use popwire::{Client, ClientConfig, CommandHandle, Event};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends what the client has queued, then feeds frames until `handle` completes.
async fn run_until(
    ws: &mut Ws,
    client: &mut Client,
    start: Instant,
    handle: Option<CommandHandle>,
) -> Option<Reply> {
    loop {
        let now = start.elapsed().as_millis() as u64;
        while let Some(bytes) = client.poll_transmit(now) {
            ws.send(Message::binary(bytes)).await.expect("send");
        }
        while let Some(event) = client.poll_event() {
            match event {
                Event::Greeting(_) if handle.is_none() => return None,
                Event::Completed { handle: h, result } if Some(h) == handle => {
                    return Some(result.expect("command failed"));
                }
                _ => {}
            }
        }
        match ws
            .next()
            .await
            .expect("the bridge closed")
            .expect("websocket")
        {
            Message::Binary(bytes) => client.feed(start.elapsed().as_millis() as u64, &bytes),
            Message::Close(_) => panic!("the bridge closed"),
            _ => {}
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, user, pass, msg, rest @ ..] = args.as_slice() else {
        panic!("usage: ws_retr URL USER PASS MSG [RUNS]");
    };
    let msg: u32 = msg.parse().expect("message number");
    let runs: usize = rest.first().map_or(5, |r| r.parse().expect("runs"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    let start = Instant::now();
    let config = ClientConfig {
        max_body: 1 << 30,
        ..ClientConfig::default()
    };
    let mut client = Client::new(config, 0);
    run_until(&mut ws, &mut client, start, None).await;
    let h = client.user(user).unwrap();
    run_until(&mut ws, &mut client, start, Some(h)).await;
    let h = client.pass(pass).unwrap();
    run_until(&mut ws, &mut client, start, Some(h)).await;
    let h = client.list(Some(msg)).unwrap();
    run_until(&mut ws, &mut client, start, Some(h)).await;
    let mut rates = Vec::new();
    let mut size = 0;
    for run in 0..=runs {
        let h = client.retr(msg).unwrap();
        let t = Instant::now();
        let Some(Reply::Message(bytes)) = run_until(&mut ws, &mut client, start, Some(h)).await
        else {
            panic!("RETR gave no message");
        };
        let secs = t.elapsed().as_secs_f64();
        size = bytes.len();
        if run > 0 {
            rates.push(size as f64 / secs / 1e6); // run 0 warms up
        }
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "{{\"client\":\"native\",\"size\":{size},\"runs\":{runs},\"medianMBps\":{median:.1}}}"
    );
}
