//! The demo server's RFC behaviour seen through the bridge: autologout and CAPA.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use common::*;

#[tokio::test]
async fn the_demo_autologout_closes_without_a_response_and_deletes_nothing() {
    let mut config = demo_config();
    if let Some(demo) = config.demo.as_mut() {
        demo.autologout = Duration::from_millis(700);
    }
    let h = start(config).await;
    let mut ws = session_logged_in(&h, "demo", "sleepy").await;
    let (count, _) = ws.stat().await;
    assert!(ws.cmd("DELE 1").await.starts_with("+OK"));
    // Silence: the server logs out on its own and closes the connection.
    let closed = ws.control().await;
    assert_eq!(closed["op"], "closed", "{closed}");
    assert_eq!(closed["reason"], "server closed the connection");
    // RFC 1939 §3: no response, just the close.
    assert_eq!(ws.buffered(), 0, "the server said something before closing");
    let mut again = session_logged_in(&h, "demo", "sleepy").await;
    assert_eq!(again.stat().await.0, count, "nothing deleted");
}

#[tokio::test]
async fn the_demo_capa_is_the_same_after_login() {
    let h = start(demo_config()).await;
    let mut ws = session(&h, "demo").await;
    let before = String::from_utf8(ws.multi("CAPA").await).unwrap();
    assert!(ws.login("capable").await.starts_with("+OK"));
    let after = String::from_utf8(ws.multi("CAPA").await).unwrap();
    for cap in ["USER", "SASL PLAIN LOGIN CRAM-MD5", "UTF8 USER"] {
        assert!(before.lines().any(|l| l == cap), "{cap}: {before}");
        assert!(
            after.lines().any(|l| l == cap),
            "{cap} after login: {after}"
        );
    }
}
