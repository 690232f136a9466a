//! The JavaScript API in headless Chromium, against a real popwire-bridge and its demo server.
//!
//! `make test` (scripts/test-browser.sh) starts the bridge on port 0 with `--demo`, a `silent`
//! target and `--allow-origin http://127.0.0.1:*`, and builds these tests with
//! `POPWIRE_TEST_BRIDGE=ws://127.0.0.1:PORT/bridge`. The tests call the exported JS class the way
//! a page does (methods looked up on the object, promises awaited), use fresh user names and
//! read STAT rather than assume counts.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use popwire::wasm::{
    apop_digest, bridge_refusals, check_command, commands, demo_targets, explain_keys,
    parse_capabilities, parse_message, sasl_response, Pop3Client,
};

wasm_bindgen_test_configure!(run_in_browser);

/// The bytes of the sample messages every demo maildrop starts with, in order: the engine's one
/// list (`popwire::server::SAMPLES`; the tests build with the `server` feature for it).
const SAMPLES: [&[u8]; popwire::server::SAMPLES.len()] = {
    let mut out: [&[u8]; popwire::server::SAMPLES.len()] = [&[]; popwire::server::SAMPLES.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = popwire::server::SAMPLES[i].1;
        i += 1;
    }
    out
};

fn bridge() -> &'static str {
    match option_env!("POPWIRE_TEST_BRIDGE") {
        Some(url) => url,
        None => panic!(
            "build with POPWIRE_TEST_BRIDGE=ws://HOST:PORT/bridge (make test starts a bridge)"
        ),
    }
}

/// A user name no other test (or earlier run against the same bridge) has used.
fn fresh_user(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap()
}

fn options(target: &str, timeout_ms: f64) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"bridge".into(), &bridge().into()).unwrap();
    Reflect::set(&o, &"target".into(), &target.into()).unwrap();
    Reflect::set(&o, &"timeoutMs".into(), &timeout_ms.into()).unwrap();
    o.into()
}

async fn connect(target: &str) -> JsValue {
    JsFuture::from(Pop3Client::connect(options(target, 20_000.0)))
        .await
        .expect("connect")
}

/// Calls `client.method(...args)` as JavaScript would; returns the promise's outcome.
async fn call(client: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(client, method).dyn_into().unwrap();
    let result = f.apply(client, &args.iter().collect::<Array>()).unwrap();
    match result.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

async fn ok(client: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    call(client, method, args)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e:?}"))
}

async fn err(client: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    match call(client, method, args).await {
        Ok(v) => panic!("{method} should fail, got {v:?}"),
        Err(e) => e,
    }
}

fn kind(error: &JsValue) -> (String, Option<String>) {
    assert_eq!(
        get(error, "name").as_string().as_deref(),
        Some("Pop3Error"),
        "{error:?}"
    );
    (
        get(error, "kind").as_string().unwrap(),
        get(error, "code").as_string(),
    )
}

fn state(client: &JsValue) -> String {
    get(client, "state").as_string().unwrap()
}

async fn login(client: &JsValue, user: &str) {
    ok(client, "user", &[user.into()]).await;
    ok(client, "pass", &["pop3".into()]).await;
    assert_eq!(state(client), "TRANSACTION");
}

/// The tags of `client.capa()`.
async fn capability_names(client: &JsValue) -> Vec<String> {
    let caps = ok(client, "capa", &[]).await;
    Array::from(&caps)
        .iter()
        .map(|c| get(&c, "name").as_string().unwrap())
        .collect()
}

async fn stat_count(client: &JsValue) -> u32 {
    get(&ok(client, "stat", &[]).await, "count")
        .as_f64()
        .unwrap() as u32
}

type Recorded = Rc<RefCell<Vec<JsValue>>>;

/// Collects the transcript through `onTranscript`, as a page would.
fn record_transcript(client: &JsValue) -> (Recorded, Closure<dyn FnMut(JsValue)>) {
    let entries = Rc::new(RefCell::new(Vec::new()));
    let sink = entries.clone();
    let callback = Closure::wrap(
        Box::new(move |entry: JsValue| sink.borrow_mut().push(entry)) as Box<dyn FnMut(JsValue)>,
    );
    let f: Function = get(client, "onTranscript").dyn_into().unwrap();
    f.call1(client, callback.as_ref()).unwrap();
    (entries, callback)
}

#[wasm_bindgen_test]
async fn a_whole_session_every_sample_byte_for_byte_and_deletion_on_quit() {
    let user = fresh_user("whole");
    let c = connect("demo").await;
    assert!(get(&get(&c, "greeting"), "apopTimestamp")
        .as_string()
        .unwrap()
        .starts_with('<'));
    assert_eq!(state(&c), "AUTHORIZATION");
    let names = capability_names(&c).await;
    assert!(
        names.contains(&"SASL".to_owned()) && names.contains(&"UIDL".to_owned()),
        "{names:?}"
    );
    login(&c, &user).await;
    let count = stat_count(&c).await;
    assert_eq!(
        count as usize,
        SAMPLES.len(),
        "a fresh maildrop holds the samples"
    );
    let list = Array::from(&ok(&c, "list", &[]).await);
    let uidl = Array::from(&ok(&c, "uidl", &[]).await);
    assert_eq!(list.length(), count);
    assert_eq!(uidl.length(), count);
    let one = ok(&c, "list", &[2.into()]).await;
    assert_eq!(
        get(&one, "size").as_f64().unwrap() as usize,
        SAMPLES[1].len()
    );
    for (i, sample) in SAMPLES.iter().enumerate() {
        let id = JsValue::from(i as u32 + 1);
        let message = ok(&c, "retr", std::slice::from_ref(&id)).await;
        let bytes = get(&message, "bytes")
            .dyn_into::<Uint8Array>()
            .unwrap()
            .to_vec();
        // As sent: a last line without CRLF (10-no-final-crlf.eml) gains one.
        let sent = popwire::server::to_sent_form(sample);
        assert_eq!(bytes, sent, "sample {}", i + 1);
        let size = get(&list.get(i as u32), "size").as_f64().unwrap() as usize;
        assert_eq!(size, sent.len(), "LIST size of sample {}", i + 1);
    }
    let top = ok(&c, "top", &[1.into(), 0.into()]).await;
    let text = get(&top, "text").as_string().unwrap();
    assert!(text.contains("Subject:") && text.len() < SAMPLES[0].len());
    ok(&c, "dele", &[1.into()]).await;
    assert_eq!(stat_count(&c).await, count - 1);
    ok(&c, "rset", &[]).await;
    assert_eq!(stat_count(&c).await, count);
    ok(&c, "dele", &[1.into()]).await;
    ok(&c, "noop", &[]).await;
    let bye = ok(&c, "quit", &[]).await;
    assert_eq!(get(&bye, "ok").as_bool(), Some(true));
    assert_eq!(state(&c), "CLOSED");

    let again = connect("demo").await;
    login(&again, &user).await;
    assert_eq!(
        stat_count(&again).await,
        count - 1,
        "the deletion happened in UPDATE"
    );
    let uidl_again = Array::from(&ok(&again, "uidl", &[]).await);
    assert_eq!(
        get(&uidl_again.get(0), "uid").as_string(),
        get(&uidl.get(1), "uid").as_string(),
        "unique-ids survive across sessions"
    );
    ok(&again, "quit", &[]).await;
}

#[wasm_bindgen_test]
async fn apop_and_every_sasl_mechanism_log_in() {
    let c = connect("demo").await;
    ok(&c, "apop", &[fresh_user("apop").into(), "pop3".into()]).await;
    assert_eq!(state(&c), "TRANSACTION");
    ok(&c, "quit", &[]).await;
    for mechanism in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        let c = connect("demo").await;
        ok(
            &c,
            "auth",
            &[mechanism.into(), fresh_user("sasl").into(), "pop3".into()],
        )
        .await;
        assert_eq!(state(&c), "TRANSACTION", "{mechanism}");
        assert!(stat_count(&c).await > 0);
        ok(&c, "quit", &[]).await;
    }
}

/// `apopDigest` (the APOP lesson computes with it by hand): RFC 1939 §7's example, and exactly
/// the digest `client.apop()` sent in its APOP line, which the transcript shows unmasked (a
/// one-time digest is made to be sent in the clear; the secret never is).
#[wasm_bindgen_test]
async fn apop_digest_is_rfc_1939s_and_what_apop_sends() {
    assert_eq!(
        apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
        "c4c9334bac560ecc979e58001b3e22fb"
    );
    let c = connect("demo").await;
    let (entries, _keep) = record_transcript(&c);
    let stamp = get(&get(&c, "greeting"), "apopTimestamp")
        .as_string()
        .unwrap();
    let user = fresh_user("apop-digest");
    ok(&c, "apop", &[user.as_str().into(), "pop3".into()]).await;
    assert_eq!(state(&c), "TRANSACTION");
    let digest = apop_digest(&stamp, "pop3");
    assert_eq!(digest.len(), 32);
    assert_ne!(
        digest,
        apop_digest(&stamp, "pop4"),
        "another secret, another digest"
    );
    let sent = client_lines(&entries.borrow(), "APOP ");
    assert_eq!(
        sent.iter()
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>(),
        [format!("APOP {user} {digest}")],
        "the APOP line carries the digest apopDigest computes"
    );
    ok(&c, "quit", &[]).await;
}

#[wasm_bindgen_test]
async fn stls_through_the_bridge_and_the_implicit_tls_target() {
    let c = connect("demo").await;
    assert!(get(&c, "tls").is_null());
    let tls = ok(&c, "stls", &[]).await;
    assert_eq!(get(&tls, "verified").as_bool(), Some(true), "{tls:?}");
    assert!(get(&tls, "version").as_string().unwrap().starts_with("TLS"));
    assert!(get(&get(&tls, "peer"), "sha256").as_string().unwrap().len() >= 64);
    assert!(!get(&c, "tls").is_null());
    let names = capability_names(&c).await;
    assert!(
        !names.contains(&"STLS".to_owned()),
        "no STLS once TLS is on"
    );
    let again = err(&c, "stls", &[]).await;
    assert_eq!(kind(&again).0, "state");
    login(&c, &fresh_user("stls")).await;
    ok(&c, "quit", &[]).await;

    let c = connect("demo-tls").await;
    assert_eq!(get(&get(&c, "tls"), "verified").as_bool(), Some(true));
    login(&c, &fresh_user("implicit")).await;
    ok(&c, "quit", &[]).await;
}

/// Registers `onWire` as a page would; its samples land in the returned list.
fn record_wire(client: &JsValue) -> (Recorded, Closure<dyn FnMut(JsValue)>) {
    let samples = Rc::new(RefCell::new(Vec::new()));
    let sink = samples.clone();
    let callback = Closure::wrap(
        Box::new(move |sample: JsValue| sink.borrow_mut().push(sample)) as Box<dyn FnMut(JsValue)>,
    );
    let f: Function = get(client, "onWire").dyn_into().unwrap();
    f.call1(client, callback.as_ref()).unwrap();
    (samples, callback)
}

/// `text` as the bridge's lower-case hex.
fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Every sample seen holds ciphertext only: none of `plain` in its first or latest octets; and
/// its record headers are read (`type` is one the engine names).
fn no_plaintext(samples: &[JsValue], plain: &[&str]) {
    for sample in samples {
        for side in ["up", "down"] {
            let d = get(sample, side);
            for field in ["first", "latest"] {
                let hex = get(&d, field).as_string().unwrap();
                assert!(hex.len() <= 256, "{side}.{field}: {hex}");
                for p in plain {
                    assert!(!hex.contains(&hex_of(p)), "{p} readable in {side}.{field}");
                }
            }
        }
    }
}

/// `onWire`: nothing in the clear; after STLS and on demo-tls the bridge's samples of what
/// crossed below TLS, with the record headers the wasm layer reads: the handshake's first
/// records (22), then application data (23) for each command and reply; never the user name
/// or the password; `wire` holds the latest.
#[wasm_bindgen_test]
async fn on_wire_tells_the_tls_records_and_never_the_password() {
    let c = connect("demo").await;
    let (samples, _keep) = record_wire(&c);
    assert!(get(&c, "wire").is_null());
    assert!(capability_names(&c).await.contains(&"STLS".to_owned()));
    assert!(samples.borrow().is_empty(), "nothing is told in the clear");
    ok(&c, "stls", &[]).await;
    capability_names(&c).await;
    let user = fresh_user("wire");
    login(&c, &user).await;
    assert!(
        samples.borrow().len() >= 3,
        "after TLS, then before each reply"
    );
    let last = get(&c, "wire");
    let record = |side: &str, which: &str| {
        get(&get(&get(&last, side), which), "type")
            .as_string()
            .unwrap()
    };
    for side in ["up", "down"] {
        assert_eq!(record(side, "firstRecord"), "handshake", "{side}");
        assert_eq!(record(side, "latestRecord"), "application-data", "{side}");
        let latest = get(&get(&last, side), "latest").as_string().unwrap();
        assert!(latest.starts_with("170303"), "{side}: {latest}");
        assert!(get(&get(&last, side), "octets").as_f64().unwrap() > 100.0);
    }
    no_plaintext(&samples.borrow(), &[&user, "pop3", "PASS"]);
    ok(&c, "quit", &[]).await;

    let c = connect("demo-tls").await;
    let (samples, _keep) = record_wire(&c);
    login(&c, &fresh_user("wire-implicit")).await;
    let first = samples.borrow().first().cloned().expect("told at once");
    let handshake = get(&get(&get(&first, "down"), "firstRecord"), "version");
    assert_eq!(handshake.as_string().as_deref(), Some("0303"));
    no_plaintext(&samples.borrow(), &["pop3", "PASS"]);
    ok(&c, "quit", &[]).await;
}

#[wasm_bindgen(inline_js = r#"
let saved = null;
export function spyOnWebSockets(onCall) {
  saved = { send: WebSocket.prototype.send, close: WebSocket.prototype.close };
  WebSocket.prototype.send = function (data) {
    onCall(typeof data === "string" ? data : "bytes");
    return saved.send.call(this, data);
  };
  WebSocket.prototype.close = function (...args) {
    onCall("close");
    return saved.close.apply(this, args);
  };
}
export function restoreWebSockets() {
  if (saved) {
    WebSocket.prototype.send = saved.send;
    WebSocket.prototype.close = saved.close;
    saved = null;
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = spyOnWebSockets)]
    fn spy_on_websockets(on_call: &Function);
    #[wasm_bindgen(js_name = restoreWebSockets)]
    fn restore_websockets();
}

/// Puts `WebSocket.prototype` back even when the test fails.
struct RestoreWebSockets;

impl Drop for RestoreWebSockets {
    fn drop(&mut self) {
        restore_websockets();
    }
}

/// The transport's WebSocket calls (bytes, the `starttls` message, the close) and the page's
/// callbacks run with no borrow of the session held: JavaScript they run (here a spy on
/// `WebSocket.prototype`, as a page's instrumentation would be, and `onStateChange`) may call
/// the client back. Before the wasm layer was split,
/// each of these ran inside the session's `borrow_mut` and the spy's read of `state` panicked.
#[wasm_bindgen_test]
async fn javascript_run_by_the_transport_may_call_the_client_back() {
    let c = connect("demo").await;
    let seen: Rc<RefCell<Vec<(String, String, u32)>>> = Rc::default();
    let client = c.clone();
    let sink = seen.clone();
    let on_call = Closure::wrap(Box::new(move |what: String| {
        // What a callback may do: read the state, ask which commands are allowed.
        let state = get(&client, "state").as_string().unwrap_or_default();
        let allowed: Function = get(&client, "allowedCommands").dyn_into().unwrap();
        let allowed = Array::from(&allowed.call0(&client).unwrap()).length();
        sink.borrow_mut().push((what, state, allowed));
    }) as Box<dyn FnMut(String)>);
    spy_on_websockets(on_call.as_ref().unchecked_ref());
    let _restore = RestoreWebSockets;
    // The page's callbacks may call back in as well.
    let client = c.clone();
    let sink = seen.clone();
    let on_state = Closure::wrap(Box::new(move |state: String| {
        let allowed: Function = get(&client, "allowedCommands").dyn_into().unwrap();
        let allowed = Array::from(&allowed.call0(&client).unwrap()).length();
        let now = get(&client, "state").as_string().unwrap_or_default();
        sink.borrow_mut()
            .push((format!("state {state}"), now, allowed));
    }) as Box<dyn FnMut(String)>);
    call(&c, "onStateChange", &[on_state.as_ref().clone()])
        .await
        .unwrap();

    ok(&c, "capa", &[]).await; // bytes, from the driving loop
    ok(&c, "stls", &[]).await; // the starttls control message, from an engine event
    call(&c, "close", &[]).await.unwrap(); // the close, from the page
    restore_websockets();

    let seen = seen.borrow();
    let ours = |what: &str| {
        seen.iter()
            .filter(|(w, state, _)| w == what && state == "AUTHORIZATION")
            .count()
    };
    assert!(ours("bytes") >= 2, "CAPA and STLS went out: {seen:?}");
    assert_eq!(ours(r#"{"op":"starttls"}"#), 1, "{seen:?}");
    assert!(
        seen.iter()
            .any(|(w, state, _)| w == "close" && state == "CLOSED"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(w, state, _)| w == "state CLOSED" && state == "CLOSED"),
        "onStateChange read the client: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, state, _)| !state.is_empty()),
        "every call read the state: {seen:?}"
    );
    assert_eq!(state(&c), "CLOSED");
}

#[wasm_bindgen_test]
async fn every_error_kind() {
    // server: wrong password, with the AUTH response code.
    let c = connect("demo").await;
    ok(&c, "user", &[fresh_user("wrong").into()]).await;
    let e = err(&c, "pass", &["not-the-password".into()]).await;
    assert_eq!(kind(&e), ("server".into(), Some("AUTH".into())));
    // state: RETR before login, nothing sent.
    let e = err(&c, "retr", &[1.into()]).await;
    assert_eq!(kind(&e).0, "state");
    // input: an injection attempt typed by hand.
    let e = err(&c, "send", &["USER a\r\nDELE 1".into()]).await;
    assert_eq!(kind(&e).0, "input");
    // A well-formed command in the wrong state is sent and answered.
    let raw = ok(&c, "send", &["STAT".into()]).await;
    assert_eq!(get(&raw, "ok").as_bool(), Some(false));
    call(&c, "close", &[]).await.unwrap();

    // bridge: an unknown target.
    let e = JsFuture::from(Pop3Client::connect(options("no-such-target", 5_000.0)))
        .await
        .unwrap_err();
    assert_eq!(kind(&e), ("bridge".into(), Some("unknown-target".into())));

    // network: no bridge there.
    let o = options("demo", 5_000.0);
    Reflect::set(&o, &"bridge".into(), &"ws://127.0.0.1:9/bridge".into()).unwrap();
    let e = JsFuture::from(Pop3Client::connect(o)).await.unwrap_err();
    assert_eq!(kind(&e).0, "network");

    // timeout: a server that accepts and never speaks.
    let e = JsFuture::from(Pop3Client::connect(options("silent", 1_500.0)))
        .await
        .unwrap_err();
    assert_eq!(kind(&e).0, "timeout");

    // IN-USE: a second session on a locked maildrop.
    let user = fresh_user("locked");
    let first = connect("demo").await;
    login(&first, &user).await;
    let second = connect("demo").await;
    ok(&second, "user", &[user.clone().into()]).await;
    let e = err(&second, "pass", &["pop3".into()]).await;
    assert_eq!(kind(&e), ("server".into(), Some("IN-USE".into())));
    ok(&first, "quit", &[]).await;
    call(&second, "close", &[]).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_transcript_is_complete_ordered_masked_and_explained() {
    let c = connect("demo").await;
    let (entries, _keep) = record_transcript(&c);
    login(&c, &fresh_user("transcript")).await;
    ok(&c, "stat", &[]).await;
    ok(&c, "quit", &[]).await;
    let entries = entries.borrow();
    assert_eq!(
        get(&entries[0], "seq").as_f64(),
        Some(0.0),
        "the opening entries are handed over"
    );
    let seqs: Vec<u32> = entries
        .iter()
        .map(|e| get(e, "seq").as_f64().unwrap() as u32)
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let keys: Vec<String> = entries
        .iter()
        .map(|e| get(&get(e, "explain"), "key").as_string().unwrap())
        .collect();
    for key in [
        "info.bridge",
        "greeting.apop",
        "cmd.USER",
        "reply.USER.ok",
        "cmd.PASS",
        "reply.PASS.ok",
        "state.TRANSACTION",
        "cmd.STAT",
        "reply.STAT.ok",
        "cmd.QUIT",
        "state.UPDATE",
        "reply.QUIT.ok",
        "state.CLOSED",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }
    let pass = entries
        .iter()
        .find(|e| get(&get(e, "explain"), "key").as_string().as_deref() == Some("cmd.PASS"))
        .unwrap();
    assert_eq!(get(pass, "masked").as_bool(), Some(true));
    assert_eq!(
        get(pass, "text").as_string().as_deref(),
        Some("PASS ••••••")
    );
    let bytes = get(pass, "bytes")
        .dyn_into::<Uint8Array>()
        .unwrap()
        .to_vec();
    assert_eq!(
        bytes, b"PASS pop3\r\n",
        "bytes stay exact so the page can reveal them"
    );
    let times: Vec<f64> = entries
        .iter()
        .map(|e| get(e, "atMs").as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[wasm_bindgen_test]
async fn progress_reports_against_the_list_size() {
    let c = connect("demo").await;
    login(&c, &fresh_user("progress")).await;
    let list = Array::from(&ok(&c, "list", &[]).await);
    let large = list.length(); // the ~1 MB sample is the 7th
    assert!(large >= 7);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let callback = Closure::wrap(
        Box::new(move |p: JsValue| sink.borrow_mut().push(p)) as Box<dyn FnMut(JsValue)>
    );
    let f: Function = get(&c, "onProgress").dyn_into().unwrap();
    f.call1(&c, callback.as_ref()).unwrap();
    ok(&c, "retr", &[7.into()]).await;
    let last = seen
        .borrow()
        .last()
        .cloned()
        .expect("progress events while RETR streams");
    assert_eq!(get(&last, "command").as_string().as_deref(), Some("RETR"));
    assert_eq!(
        get(&last, "expected").as_f64(),
        get(&list.get(6), "size").as_f64()
    );
    assert_eq!(
        get(&last, "received").as_f64(),
        get(&list.get(6), "size").as_f64()
    );
    ok(&c, "quit", &[]).await;
}

/// `connect()` with `maxBodyBytes` set to `cap`.
async fn connect_with_cap(cap: JsValue) -> Result<JsValue, JsValue> {
    let o = options("demo", 20_000.0);
    Reflect::set(&o, &"maxBodyBytes".into(), &cap).unwrap();
    JsFuture::from(Pop3Client::connect(o)).await
}

#[wasm_bindgen_test]
async fn max_body_bytes_caps_retr_and_retr_stream_hands_over_every_octet() {
    // Nonsense caps are refused with kind `input`, before anything is opened.
    let over = JsValue::from((1u64 << 30) as f64 + 1.0);
    for bad in [
        JsValue::from(0),
        JsValue::from(-5),
        JsValue::from(1.5),
        JsValue::from(f64::NAN),
        JsValue::from(f64::INFINITY),
        over,
        JsValue::from("1000000"),
        JsValue::TRUE,
    ] {
        let error = connect_with_cap(bad.clone())
            .await
            .map(|_| ())
            .expect_err("a nonsense maxBodyBytes must be refused");
        assert_eq!(kind(&error).0, "input", "{bad:?}: {error:?}");
        let message = get(&error, "message").as_string().unwrap();
        assert!(message.contains("maxBodyBytes"), "{message}");
    }

    // The ~1 MB sample against a cap one octet too small: RETR and retrStream fail with
    // `limit`, and the session stays in step (a small message still arrives whole).
    let large = SAMPLES[6];
    let small = connect_with_cap(JsValue::from(large.len() as f64 - 1.0))
        .await
        .unwrap();
    login(&small, &fresh_user("cap-small")).await;
    let error = err(&small, "retr", &[7.into()]).await;
    assert_eq!(kind(&error).0, "limit", "{error:?}");
    let ignore = Closure::wrap(Box::new(|_: JsValue| {}) as Box<dyn FnMut(JsValue)>);
    let error = err(&small, "retrStream", &[7.into(), ignore.as_ref().clone()]).await;
    assert_eq!(kind(&error).0, "limit", "{error:?}");
    let first = ok(&small, "retr", &[1.into()]).await;
    let bytes = get(&first, "bytes").dyn_into::<Uint8Array>().unwrap();
    assert_eq!(bytes.to_vec().as_slice(), SAMPLES[0]);
    ok(&small, "quit", &[]).await;

    // Exactly large enough: RETR gives the message, retrStream hands it over in pieces.
    let exact = connect_with_cap(JsValue::from(large.len() as f64))
        .await
        .unwrap();
    login(&exact, &fresh_user("cap-exact")).await;
    let message = ok(&exact, "retr", &[7.into()]).await;
    let bytes = get(&message, "bytes").dyn_into::<Uint8Array>().unwrap();
    assert_eq!(bytes.to_vec().as_slice(), large);
    let chunks = Rc::new(RefCell::new(Vec::<Vec<u8>>::new()));
    let sink = chunks.clone();
    let on_chunk = Closure::wrap(Box::new(move |chunk: JsValue| {
        let chunk = chunk.dyn_into::<Uint8Array>().unwrap();
        sink.borrow_mut().push(chunk.to_vec());
    }) as Box<dyn FnMut(JsValue)>);
    let streamed = ok(&exact, "retrStream", &[7.into(), on_chunk.as_ref().clone()]).await;
    assert_eq!(
        get(&streamed, "size").as_f64(),
        Some(large.len() as f64),
        "{streamed:?}"
    );
    assert!(get(&streamed, "bytes").is_undefined(), "nothing kept");
    let chunks = chunks.take();
    let pieces = chunks.len();
    assert!(pieces > 1, "in pieces as it arrived: {pieces}");
    assert!(chunks.iter().all(|c| !c.is_empty()));
    assert_eq!(chunks.concat().as_slice(), large);
    ok(&exact, "quit", &[]).await;
}

// ----- The batch API: retrMany, newSince (issue 12 §1) ---------------------------------------

/// Calls `client.retrMany(ids, { onMessage, window })`; `None` leaves `window` out.
async fn retr_many(
    client: &JsValue,
    ids: &[u32],
    on_message: &JsValue,
    window: Option<u32>,
) -> Result<JsValue, JsValue> {
    let o = Object::new();
    Reflect::set(&o, &"onMessage".into(), on_message).unwrap();
    if let Some(w) = window {
        Reflect::set(&o, &"window".into(), &w.into()).unwrap();
    }
    let ids: Array = ids.iter().map(|&id| JsValue::from(id)).collect();
    call(client, "retrMany", &[ids.into(), o.into()]).await
}

type Deliveries = Rc<RefCell<Vec<(u32, u32, Vec<u8>)>>>;
type OnMessage = Closure<dyn FnMut(JsValue) -> Result<(), JsValue>>;

/// An `onMessage` that records `(id, index, bytes)` and throws for the ids in `throw_for`.
fn recording_on_message(throw_for: &'static [u32]) -> (Deliveries, OnMessage) {
    let got: Deliveries = Rc::new(RefCell::new(Vec::new()));
    let sink = got.clone();
    let f = Closure::wrap(Box::new(move |m: JsValue| {
        let id = get(&m, "id").as_f64().unwrap() as u32;
        let index = get(&m, "index").as_f64().unwrap() as u32;
        let bytes = get(&m, "bytes").dyn_into::<Uint8Array>().unwrap().to_vec();
        sink.borrow_mut().push((id, index, bytes));
        if throw_for.contains(&id) {
            return Err(JsValue::from_str(&format!("the page could not store {id}")));
        }
        Ok(())
    }) as Box<dyn FnMut(JsValue) -> Result<(), JsValue>>);
    (got, f)
}

/// The client lines of the transcript whose text starts with `prefix`, as (seq, text).
fn client_lines(entries: &[JsValue], prefix: &str) -> Vec<(f64, String)> {
    entries
        .iter()
        .filter(|e| get(e, "dir").as_string().as_deref() == Some("client"))
        .filter_map(|e| {
            let text = get(e, "text").as_string()?;
            text.starts_with(prefix)
                .then(|| (get(e, "seq").as_f64().unwrap(), text))
        })
        .collect()
}

#[wasm_bindgen_test]
async fn retr_many_delivers_every_message_once_in_order_with_its_bytes() {
    let c = connect("demo").await;
    assert!(capability_names(&c).await.iter().any(|n| n == "PIPELINING"));
    let (entries, _keep) = record_transcript(&c);
    login(&c, &fresh_user("batch")).await;
    let count = stat_count(&c).await;
    assert_eq!(count as usize, SAMPLES.len());
    // LIST with UIDL (one round trip with PIPELINING): the byte budget knows the sizes.
    let list = call(&c, "list", &[]);
    let uidl = ok(&c, "uidl", &[]).await;
    list.await.unwrap();

    // newSince: the unique-ids not seen yet, in listing order (an array or a Set).
    let uids: Vec<String> = Array::from(&uidl)
        .iter()
        .map(|e| get(&e, "uid").as_string().unwrap())
        .collect();
    let seen: Array = [&uids[0], &uids[2]]
        .iter()
        .map(|u| JsValue::from_str(u))
        .collect();
    let fresh = popwire::wasm::new_since(uidl.clone(), seen.clone().into()).unwrap();
    let fresh: Vec<u32> = fresh.iter().map(|v| v.as_f64().unwrap() as u32).collect();
    let unseen: Vec<u32> = (1..=count).filter(|&n| n != 1 && n != 3).collect();
    assert_eq!(fresh, unseen);
    let set = js_sys::Set::new(&seen);
    let from_set = popwire::wasm::new_since(uidl.clone(), set.into()).unwrap();
    assert_eq!(from_set.length(), count - 2);
    let none = popwire::wasm::new_since(uidl.clone(), Array::new().into()).unwrap();
    assert_eq!(none.length(), count);
    assert!(popwire::wasm::new_since(JsValue::from(3), Array::new().into()).is_err());
    assert!(popwire::wasm::new_since(uidl.clone(), JsValue::from(3)).is_err());

    // The whole maildrop in one batch, the default window.
    let ids: Vec<u32> = (1..=count).collect();
    let (got, on_message) = recording_on_message(&[]);
    let result = retr_many(&c, &ids, on_message.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(
        get(&result, "retrieved").as_f64(),
        Some(count as f64),
        "{result:?}"
    );
    assert_eq!(
        Array::from(&get(&result, "failed")).length(),
        0,
        "{result:?}"
    );
    let total: usize = SAMPLES
        .iter()
        .map(|s| popwire::server::to_sent_form(s).len())
        .sum();
    assert_eq!(get(&result, "bytes").as_f64(), Some(total as f64));
    let got = got.take();
    let order: Vec<(u32, u32)> = got.iter().map(|(id, index, _)| (*id, *index)).collect();
    let expected: Vec<(u32, u32)> = ids.iter().map(|&id| (id, id - 1)).collect();
    assert_eq!(order, expected, "each message once, in order");
    for (i, (_, _, bytes)) in got.iter().enumerate() {
        assert_eq!(
            *bytes,
            popwire::server::to_sent_form(SAMPLES[i]),
            "message {}",
            i + 1
        );
    }

    // Pipelined: every RETR went out before the first message's reply came back.
    {
        let entries = entries.borrow();
        let retrs = client_lines(&entries, "RETR ");
        assert_eq!(retrs.len(), ids.len());
        let first_reply = entries
            .iter()
            .find(|e| get(e, "answers").as_f64() == Some(retrs[0].0))
            .map(|e| get(e, "seq").as_f64().unwrap())
            .expect("the reply to the first RETR");
        assert!(
            retrs.iter().all(|(seq, _)| *seq < first_reply),
            "all RETRs before the first reply: {retrs:?}, reply {first_reply}"
        );
    }

    // An empty batch resolves at once; the session goes on.
    let empty = retr_many(&c, &[], on_message.as_ref(), None).await.unwrap();
    assert_eq!(get(&empty, "retrieved").as_f64(), Some(0.0));
    assert_eq!(stat_count(&c).await, count);
    ok(&c, "quit", &[]).await;
}

#[wasm_bindgen_test]
async fn retr_many_keeps_to_its_window() {
    let c = connect("demo").await;
    capability_names(&c).await;
    login(&c, &fresh_user("batch-window")).await;
    let count = stat_count(&c).await;
    let ids: Vec<u32> = (1..=count).collect();
    // One log of RETRs sent (the transcript) and messages handed over (onMessage), in the order
    // the session ran them.
    let log = Rc::new(RefCell::new(Vec::<i32>::new()));
    let sink = log.clone();
    let on_entry = Closure::wrap(Box::new(move |e: JsValue| {
        let client = get(&e, "dir").as_string().as_deref() == Some("client");
        if client
            && get(&e, "text")
                .as_string()
                .is_some_and(|t| t.starts_with("RETR "))
        {
            sink.borrow_mut().push(1);
        }
    }) as Box<dyn FnMut(JsValue)>);
    let f: Function = get(&c, "onTranscript").dyn_into().unwrap();
    f.call1(&c, on_entry.as_ref()).unwrap();
    let sink = log.clone();
    let on_message = Closure::wrap(
        Box::new(move |_: JsValue| sink.borrow_mut().push(-1)) as Box<dyn FnMut(JsValue)>
    );
    for window in [1u32, 3] {
        log.borrow_mut().clear();
        let result = retr_many(&c, &ids, on_message.as_ref(), Some(window))
            .await
            .unwrap();
        assert_eq!(get(&result, "retrieved").as_f64(), Some(count as f64));
        let mut out = 0;
        let mut most = 0;
        for step in log.borrow().iter() {
            out += step;
            most = most.max(out);
            assert!(out >= 0);
        }
        assert_eq!(out, 0, "every RETR answered and handed over");
        assert_eq!(most, window as i32, "window {window}: {:?}", log.borrow());
    }

    // Refused at once, nothing sent: bad arguments (kind input) …
    let before = log.borrow().len();
    let bad: [(JsValue, JsValue); 5] = [
        (JsValue::from(1), on_message.as_ref().clone()),
        (
            Array::of1(&JsValue::from(0)).into(),
            on_message.as_ref().clone(),
        ),
        (
            Array::of1(&JsValue::from(1.5)).into(),
            on_message.as_ref().clone(),
        ),
        (
            Array::of1(&JsValue::from(1)).into(),
            JsValue::from("not a function"),
        ),
        (
            Array::of1(&JsValue::from("1")).into(),
            on_message.as_ref().clone(),
        ),
    ];
    for (ids, callback) in bad {
        let o = Object::new();
        Reflect::set(&o, &"onMessage".into(), &callback).unwrap();
        let error = call(&c, "retrMany", &[ids.clone(), o.into()])
            .await
            .unwrap_err();
        assert_eq!(kind(&error).0, "input", "{ids:?}: {error:?}");
    }
    for window in [
        JsValue::from(0),
        JsValue::from(-1),
        JsValue::from(2.5),
        JsValue::from("8"),
    ] {
        let o = Object::new();
        Reflect::set(&o, &"onMessage".into(), on_message.as_ref()).unwrap();
        Reflect::set(&o, &"window".into(), &window).unwrap();
        let ids: JsValue = Array::of1(&JsValue::from(1)).into();
        let error = call(&c, "retrMany", &[ids, o.into()]).await.unwrap_err();
        assert_eq!(kind(&error).0, "input", "window {window:?}: {error:?}");
    }
    assert_eq!(log.borrow().len(), before, "nothing was sent");
    ok(&c, "quit", &[]).await;

    // … and outside TRANSACTION (kind state).
    let c = connect("demo").await;
    let error = retr_many(&c, &[1], on_message.as_ref(), None)
        .await
        .unwrap_err();
    assert_eq!(kind(&error).0, "state", "{error:?}");
    ok(&c, "quit", &[]).await;
}

#[wasm_bindgen_test]
async fn retr_many_fails_only_the_message_that_fails() {
    // A -ERR (no message 99) and an onMessage that throws (for message 2) fail those messages
    // alone; the others arrive, and the session is still in step.
    let c = connect("demo").await;
    capability_names(&c).await;
    login(&c, &fresh_user("batch-fail")).await;
    let (got, on_message) = recording_on_message(&[2]);
    let result = retr_many(&c, &[1, 99, 2, 3], on_message.as_ref(), Some(2))
        .await
        .unwrap();
    assert_eq!(get(&result, "retrieved").as_f64(), Some(2.0), "{result:?}");
    let size = (SAMPLES[0].len() + SAMPLES[2].len()) as f64;
    assert_eq!(get(&result, "bytes").as_f64(), Some(size));
    let failed = Array::from(&get(&result, "failed"));
    assert_eq!(failed.length(), 2, "{result:?}");
    let server = failed.get(0);
    assert_eq!(get(&server, "id").as_f64(), Some(99.0));
    assert_eq!(kind(&get(&server, "error")).0, "server");
    let thrown = failed.get(1);
    assert_eq!(get(&thrown, "id").as_f64(), Some(2.0));
    assert_eq!(
        get(&thrown, "error").as_string().as_deref(),
        Some("the page could not store 2"),
        "what onMessage threw"
    );
    let ids: Vec<u32> = got.borrow().iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3], "handed over once each, the -ERR not at all");
    assert_eq!(got.borrow()[2].2.as_slice(), SAMPLES[2]);
    let message = ok(&c, "retr", &[4.into()]).await;
    let bytes = get(&message, "bytes").dyn_into::<Uint8Array>().unwrap();
    assert_eq!(bytes.to_vec().as_slice(), SAMPLES[3]);

    // The session ending mid-batch fails what is left, each with kind network.
    let ids: Vec<u32> = (1..=8).collect();
    let closer = Closure::wrap(Box::new({
        let c = c.clone();
        move |_: JsValue| {
            let f: Function = get(&c, "close").dyn_into().unwrap();
            f.call0(&c).unwrap();
        }
    }) as Box<dyn FnMut(JsValue)>);
    let result = retr_many(&c, &ids, closer.as_ref(), Some(1)).await.unwrap();
    assert_eq!(get(&result, "retrieved").as_f64(), Some(1.0), "{result:?}");
    let failed = Array::from(&get(&result, "failed"));
    assert_eq!(failed.length(), 7, "{result:?}");
    for f in failed.iter() {
        assert_eq!(kind(&get(&f, "error")).0, "network", "{f:?}");
    }
}

/// Waits for the misbehaving fixture's report on `name` and checks that its script ran to the
/// end with every expectation on the client's bytes met.
async fn fixture_script_held(name: &str) {
    let mut connections = Vec::new();
    for _ in 0..200 {
        connections = misbehaving::report(name).await;
        if connections.first().and_then(|c| c["finished"].as_bool()) == Some(true) {
            break;
        }
        misbehaving::sleep_ms(100).await;
    }
    assert_eq!(connections.len(), 1, "{name}: {connections:?}");
    assert_eq!(connections[0]["failures"], serde_json::json!([]), "{name}");
    assert_eq!(
        connections[0]["completed"],
        serde_json::json!(true),
        "{name}"
    );
}

#[wasm_bindgen_test]
async fn retr_many_goes_one_at_a_time_without_pipelining() {
    // tests/fixtures/misbehaving/batch_without_pipelining.json: CAPA lists no PIPELINING.
    let c = connect("fx-batch_without_pipelining").await;
    let (entries, _keep) = record_transcript(&c);
    assert!(!capability_names(&c).await.iter().any(|n| n == "PIPELINING"));
    ok(&c, "user", &["alice".into()]).await;
    ok(&c, "pass", &["pop3".into()]).await;
    let (got, on_message) = recording_on_message(&[]);
    let result = retr_many(&c, &[1, 2, 3], on_message.as_ref(), Some(8))
        .await
        .unwrap();
    assert_eq!(get(&result, "retrieved").as_f64(), Some(2.0), "{result:?}");
    let failed = Array::from(&get(&result, "failed"));
    assert_eq!(failed.length(), 1);
    assert_eq!(get(&failed.get(0), "id").as_f64(), Some(2.0));
    let got = got.take();
    assert_eq!(got[0].2.as_slice(), b"Subject: one\r\n\r\nfirst\r\n");
    assert_eq!(got[1].2.as_slice(), b"Subject: three\r\n\r\n.third\r\n");
    // Each RETR left only after the reply to the one before had come (its status line).
    {
        let entries = entries.borrow();
        let retrs = client_lines(&entries, "RETR ");
        assert_eq!(retrs.len(), 3);
        for pair in retrs.windows(2) {
            let reply = entries
                .iter()
                .find(|e| get(e, "answers").as_f64() == Some(pair[0].0))
                .map(|e| get(e, "seq").as_f64().unwrap())
                .expect("a reply to each RETR");
            assert!(
                reply < pair[1].0,
                "{} went out before {}'s reply",
                pair[1].1,
                pair[0].1
            );
        }
    }
    ok(&c, "quit", &[]).await;
    fixture_script_held("batch_without_pipelining").await;
}

#[wasm_bindgen_test]
async fn retr_stream_leaves_the_engine_none_of_the_body() {
    // tests/fixtures/misbehaving/stream_large_unlisted.json: a 25.6 MB message, no LIST, so
    // nothing is preallocated. Were the engine to keep the body while it streams, wasm memory
    // (which never shrinks) would grow by at least the message.
    const SIZE: usize = 64 * 400_000;
    let c = connect("fx-stream_large_unlisted").await;
    ok(&c, "user", &["alice".into()]).await;
    ok(&c, "pass", &["pop3".into()]).await;
    let memory = || {
        let buffer = get(&wasm_bindgen::memory(), "buffer");
        get(&buffer, "byteLength").as_f64().unwrap()
    };
    let before = memory();
    let received = Rc::new(RefCell::new((0usize, 0usize, true)));
    let sink = received.clone();
    let line = b"popwire streams this body a piece at a time, 64 octets a line.\r\n";
    let on_chunk = Closure::wrap(Box::new(move |chunk: JsValue| {
        let chunk = chunk.dyn_into::<Uint8Array>().unwrap().to_vec();
        let mut r = sink.borrow_mut();
        // Every piece continues the lines where the last one stopped.
        let offset = r.0 % line.len();
        let same = chunk
            .iter()
            .enumerate()
            .all(|(i, b)| *b == line[(offset + i) % line.len()]);
        r.0 += chunk.len();
        r.1 += 1;
        r.2 &= same;
    }) as Box<dyn FnMut(JsValue)>);
    let streamed = ok(&c, "retrStream", &[1.into(), on_chunk.as_ref().clone()]).await;
    assert_eq!(get(&streamed, "size").as_f64(), Some(SIZE as f64));
    let (octets, pieces, same) = *received.borrow();
    assert_eq!(octets, SIZE);
    assert!(same, "the pieces are the message, in order");
    assert!(pieces > 10, "in pieces as it arrived: {pieces}");
    let grown = memory() - before;
    assert!(
        grown < (SIZE / 4) as f64,
        "wasm memory grew by {grown} octets for a {SIZE}-octet streamed message"
    );
    ok(&c, "quit", &[]).await;
    fixture_script_held("stream_large_unlisted").await;
}

#[wasm_bindgen_test]
fn free_functions() {
    let ok = check_command("RETR 1", "AUTHORIZATION", None);
    assert_eq!(get(&ok, "ok").as_bool(), Some(true));
    assert_eq!(get(&ok, "allowed").as_bool(), Some(false));
    let bad = check_command("USER a\r\nDELE 1", "AUTHORIZATION", None);
    assert_eq!(get(&bad, "ok").as_bool(), Some(false));
    assert_eq!(
        get(&get(&bad, "explain"), "key").as_string().as_deref(),
        Some("input.control")
    );
    let keys = explain_keys();
    assert!(keys.includes(&"cmd.STAT".into(), 0) && keys.length() > 100);
    let parsed = parse_message(SAMPLES[4]);
    assert!(get(&parsed, "subject")
        .as_string()
        .unwrap()
        .contains("بروتوكول"));
    let html = parse_message(SAMPLES[3]);
    assert!(get(&html, "html").as_string().unwrap().contains("<script>"));
}

/// A command's typed call (`call` in commands()) is its JS method's parameters: the page fills
/// them by `kind` and calls `client[name.toLowerCase()]` (www/session.js `run`); a command with
/// no method is sent as its line, so its call is its wire arguments.
#[wasm_bindgen_test]
async fn every_typed_method_takes_the_arguments_of_its_call() {
    let c = connect("demo").await;
    let mut typed = 0;
    for meta in Array::from(&commands()).iter() {
        let name = get(&meta, "name").as_string().unwrap();
        let call = Array::from(&get(&meta, "call"));
        match get(&c, &name.to_lowercase()).dyn_into::<Function>() {
            Ok(method) => {
                typed += 1;
                assert_eq!(method.length(), call.length(), "{name}");
            }
            Err(_) => assert_eq!(
                call.length(),
                Array::from(&get(&meta, "args")).length(),
                "{name} is sent as its line"
            ),
        }
    }
    assert!(typed >= 14, "only {typed} typed methods");
    ok(&c, "quit", &[]).await;
}

/// What the page asks the engine instead of copying it (issue 9 §1): the command table, the
/// check in a session's UTF-8 mode, SASL answers, the bridge's refusal codes, the demo targets.
#[wasm_bindgen_test]
fn the_engine_answers_what_the_page_used_to_copy() {
    let table = Array::from(&commands());
    let names: Vec<String> = table
        .iter()
        .map(|c| get(&c, "name").as_string().unwrap())
        .collect();
    assert_eq!(names.len(), popwire::codec::Keyword::ALL.len());
    let meta = |name: &str| {
        table
            .iter()
            .find(|c| get(c, "name").as_string().as_deref() == Some(name))
            .unwrap()
    };
    let pass_args = Array::from(&get(&meta("PASS"), "args"));
    assert_eq!(get(&pass_args.get(0), "secret").as_bool(), Some(true));
    assert_eq!(get(&pass_args.get(0), "required").as_bool(), Some(true));
    assert_eq!(Array::from(&get(&meta("STAT"), "args")).length(), 0);
    assert_eq!(
        get(&meta("LIST"), "multiline").as_string().as_deref(),
        Some("without-argument")
    );
    assert_eq!(
        Array::from(&get(&meta("RETR"), "states"))
            .get(0)
            .as_string()
            .as_deref(),
        Some("TRANSACTION")
    );
    assert_eq!(
        get(&get(&meta("TOP"), "summary"), "key")
            .as_string()
            .as_deref(),
        Some("cmd.TOP")
    );

    // Before UTF8 a non-ASCII line is refused, as send() would.
    let before = check_command("USER \u{e9}", "AUTHORIZATION", Some(false));
    assert_eq!(get(&before, "ok").as_bool(), Some(false));
    assert_eq!(get(&before, "kind").as_string().as_deref(), Some("input"));
    let after = check_command("USER \u{e9}", "AUTHORIZATION", Some(true));
    assert_eq!(get(&after, "ok").as_bool(), Some(true));
    let masked = check_command("AUTH PLAIN AGEAYg==", "AUTHORIZATION", Some(false));
    assert_eq!(get(&masked, "masked").as_bool(), Some(true));
    assert_eq!(get(&masked, "keyword").as_string().as_deref(), Some("AUTH"));

    assert_eq!(
        sasl_response("PLAIN", "a", "b", 0, None).unwrap(),
        "AGEAYg=="
    );
    assert_eq!(sasl_response("LOGIN", "a", "b", 0, None).unwrap(), "YQ==");
    assert_eq!(sasl_response("LOGIN", "a", "b", 1, None).unwrap(), "Yg==");
    let cram = sasl_response(
        "CRAM-MD5",
        "tim",
        "tanstaaftanstaaf",
        0,
        Some(b"<1896.697170952@postoffice.reston.mci.net>".to_vec()),
    )
    .unwrap();
    // RFC 2195's example: "tim b913a602c7eda7a495b4e6e7334d3890".
    assert_eq!(cram, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    let (k, _) = kind(&sasl_response("LOGIN", "a", "b", 2, None).unwrap_err());
    assert_eq!(k, "input");
    let (k, _) = kind(&sasl_response("PLAIN", "a", "", 0, None).unwrap_err());
    assert_eq!(k, "input");

    let refusals: Vec<String> = bridge_refusals()
        .iter()
        .map(|r| r.as_string().unwrap())
        .collect();
    assert_eq!(refusals.len(), popwire::bridge_protocol::Refusal::ALL.len());
    assert!(
        refusals.contains(&"protocol".to_owned())
            && refusals.contains(&"unknown-target".to_owned())
    );
    let demo: Vec<(String, String)> = demo_targets()
        .iter()
        .map(|t| {
            (
                get(&t, "name").as_string().unwrap(),
                get(&t, "tls").as_string().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        demo,
        [
            ("demo".to_owned(), "none".to_owned()),
            ("demo-tls".to_owned(), "implicit".to_owned())
        ]
    );

    let caps = Array::from(&parse_capabilities("USER\nSASL PLAIN LOGIN\n"));
    assert_eq!(caps.length(), 2);
    assert_eq!(
        get(&caps.get(1), "name").as_string().as_deref(),
        Some("SASL")
    );
    assert_eq!(Array::from(&get(&caps.get(1), "args")).length(), 2);
}

/// A session's own check (state, UTF-8 mode, SASL exchange), what the engine parsed of raw
/// replies, which line a reply answers, and a server error's own text (issue 9 §1).
#[wasm_bindgen_test]
async fn a_session_checks_parses_and_pairs_what_is_typed_by_hand() {
    let c = connect("demo").await;
    let (entries, _keep) = record_transcript(&c);
    let check = |line: &str| {
        let f: Function = get(&c, "check").dyn_into().unwrap();
        f.call1(&c, &line.into()).unwrap()
    };
    let awaiting = || get(&c, "awaitingSaslResponse").as_bool().unwrap();
    let refused = check("USER \u{e9}");
    assert_eq!(
        get(&refused, "ok").as_bool(),
        Some(false),
        "non-ASCII before UTF8"
    );
    let retr = check("RETR 1");
    assert_eq!(get(&retr, "ok").as_bool(), Some(true));
    assert_eq!(get(&retr, "allowed").as_bool(), Some(false));
    assert_eq!(get(&retr, "multiline").as_bool(), Some(true));
    assert_eq!(get(&check("PASS x y"), "masked").as_bool(), Some(true));
    assert_eq!(
        get(&check("AUTH PLAIN AGEAYg=="), "masked").as_bool(),
        Some(true)
    );
    assert_eq!(get(&check("AUTH PLAIN"), "masked").as_bool(), Some(false));

    // A hand-typed AUTH PLAIN: the challenge, then the answer the engine computes.
    let user = fresh_user("check");
    assert!(!awaiting());
    let reply = ok(&c, "send", &["AUTH PLAIN".into()]).await;
    assert_eq!(get(&reply, "continuation").as_bool(), Some(true));
    assert_eq!(
        get(&get(&reply, "parsed"), "kind").as_string().as_deref(),
        Some("challenge")
    );
    assert!(awaiting());
    let sasl = check("AGEAYg==");
    assert_eq!(get(&sasl, "saslResponse").as_bool(), Some(true));
    assert_eq!(get(&sasl, "masked").as_bool(), Some(true));
    assert_eq!(get(&check("not base64!"), "ok").as_bool(), Some(false));
    let answer = sasl_response("PLAIN", &user, "pop3", 0, None).unwrap();
    let reply = ok(&c, "send", &[answer.into()]).await;
    assert_eq!(get(&reply, "ok").as_bool(), Some(true));
    assert!(!awaiting());
    assert_eq!(state(&c), "TRANSACTION");
    let challenge = entries
        .borrow()
        .iter()
        .find(|e| {
            get(e, "explain").is_object()
                && get(&get(e, "explain"), "key").as_string().as_deref() == Some("sasl.challenge")
        })
        .cloned()
        .expect("a sasl.challenge entry");
    assert!(
        get(&challenge, "challenge").is_object(),
        "the decoded challenge"
    );

    // Raw replies carry what the engine parsed.
    let stat = ok(&c, "send", &["STAT".into()]).await;
    let parsed = get(&stat, "parsed");
    assert_eq!(get(&parsed, "kind").as_string().as_deref(), Some("stat"));
    let count = get(&get(&parsed, "value"), "count").as_f64().unwrap() as u32;
    assert_eq!(count, SAMPLES.len() as u32);
    let list = get(&ok(&c, "send", &["LIST".into()]).await, "parsed");
    assert_eq!(get(&list, "kind").as_string().as_deref(), Some("list"));
    assert_eq!(Array::from(&get(&list, "value")).length(), count);
    let uidl = get(&ok(&c, "send", &["UIDL 2".into()]).await, "parsed");
    assert_eq!(get(&uidl, "kind").as_string().as_deref(), Some("uidlOne"));
    let message = get(&ok(&c, "send", &["RETR 2".into()]).await, "parsed");
    assert_eq!(
        get(&message, "kind").as_string().as_deref(),
        Some("message")
    );
    let bytes = Uint8Array::new(&get(&message, "value")).to_vec();
    assert_eq!(bytes, SAMPLES[1], "the exact octets, dot-stuffing removed");

    // The reply to RETR 2 answers its client line, with a round trip.
    let recorded = entries.borrow().clone();
    let sent = recorded
        .iter()
        .find(|e| {
            get(e, "dir").as_string().as_deref() == Some("client")
                && get(e, "text").as_string().as_deref() == Some("RETR 2")
        })
        .expect("the RETR 2 line");
    let seq = get(sent, "seq").as_f64().unwrap();
    let answer = recorded
        .iter()
        .find(|e| get(e, "answers").as_f64() == Some(seq) && get(e, "rttMs").as_f64().is_some())
        .expect("the status line answering RETR 2");
    assert!(get(answer, "text").as_string().unwrap().starts_with("+OK"));
    assert_eq!(
        get(answer, "request").as_f64(),
        get(sent, "request").as_f64()
    );
    ok(&c, "quit", &[]).await;

    // A server error's own text, without parsing the English message.
    let c = connect("demo").await;
    ok(&c, "user", &[fresh_user("wrong").into()]).await;
    let error = err(&c, "pass", &["wrong".into()]).await;
    assert_eq!(kind(&error), ("server".to_owned(), Some("AUTH".to_owned())));
    assert_eq!(
        get(&error, "serverText").as_string().as_deref(),
        Some("invalid user name or password")
    );
    ok(&c, "quit", &[]).await;
}

// ----- The misbehaving-server fixture (issue 8 §4) ------------------------------------------
//
// The scenarios of tests/fixtures/misbehaving/ that run `browser`, through the JS API and the
// bridge. scripts/test-browser.sh runs the fixture (`cargo run --example misbehaving_fixture`),
// gives the bridge a target `fx-NAME` per scenario and builds these tests with
// POPWIRE_TEST_FIXTURE=http://127.0.0.1:PORT/ (the fixture's report: what bytes it saw). The
// native runner, tests/misbehaving.rs, interprets the same files the same way.

fn fixture_report_url() -> &'static str {
    match option_env!("POPWIRE_TEST_FIXTURE") {
        Some(url) => url,
        None => panic!(
            "build with POPWIRE_TEST_FIXTURE=http://HOST:PORT/ (scripts/test-browser.sh starts the fixture)"
        ),
    }
}

macro_rules! fixture_scenarios {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                run_fixture(
                    stringify!($name),
                    include_str!(concat!("fixtures/misbehaving/", stringify!($name), ".json")),
                )
                .await;
            }
        )*
    };
}

#[path = "fixture/outcome.rs"]
mod outcome;

mod misbehaving {
    use super::outcome::outcome_matches;
    use super::*;
    use serde_json::{json, Value};

    fixture_scenarios!(
        bare_lf,
        overlong_line,
        err_greeting,
        one_byte_splits,
        unsolicited_bytes,
        drop_mid_retr,
        endless_multiline,
        slow_drip,
        sasl_login_empty_password,
        apop_msgid_timestamp,
        raw_auth_then_capa,
        overlong_multiline_status,
        overlong_multiline_status_pipelined,
        sasl_long_challenge,
        hierarchical_code,
        pass_only_after_user,
        list_bad_line,
        stls_no_handshake,
    );

    #[wasm_bindgen_test]
    async fn fixture_self_check() {
        // The fixture expects USER bob; we send USER alice: its report must say so.
        let c = connect("fx-fixture_self_check").await;
        let sent = call(&c, "user", &["alice".into()]).await;
        assert!(
            sent.is_err(),
            "the fixture drops the connection on a mismatch"
        );
        let mut connections = Vec::new();
        for _ in 0..100 {
            connections = report("fixture_self_check").await;
            if connections.first().and_then(|c| c["finished"].as_bool()) == Some(true) {
                break;
            }
            sleep_ms(100).await;
        }
        assert_eq!(connections.len(), 1, "{connections:?}");
        let failures = connections[0]["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{failures:?}");
        let failure = failures[0].as_str().unwrap();
        assert!(
            failure.contains("USER bob") && failure.contains("USER alice"),
            "{failure}"
        );
        assert_eq!(connections[0]["completed"], json!(false));
    }

    /// A JS value as JSON (a `Uint8Array` becomes its length, as the native runner's messages).
    fn to_json(value: &JsValue) -> Value {
        let replacer =
            Function::new_with_args("k, x", "return x instanceof Uint8Array ? x.length : x;");
        let text = js_sys::JSON::stringify_with_replacer(value, &replacer)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".into());
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A rejected promise's `Pop3Error` as JSON: `kind`, `code`, `explain` (its key), `message`.
    fn error_json(error: &JsValue) -> Value {
        json!({
            "kind": get(error, "kind").as_string(),
            "code": get(error, "code").as_string(),
            "explain": get(&get(error, "explain"), "key").as_string(),
            "message": get(error, "message").as_string(),
        })
    }

    fn outcome(result: Result<JsValue, JsValue>) -> Result<Value, Value> {
        result.map(|v| to_json(&v)).map_err(|e| error_json(&e))
    }

    pub(super) async fn sleep_ms(ms: u32) {
        let sleep = Function::new_with_args("ms", "return new Promise(r => setTimeout(r, ms));");
        let promise: Promise = sleep.call1(&JsValue::NULL, &ms.into()).unwrap().into();
        JsFuture::from(promise).await.unwrap();
    }

    /// The fixture's report for `name`: one entry per connection.
    pub(super) async fn report(name: &str) -> Vec<Value> {
        let fetch = Function::new_with_args(
            "url",
            "return fetch(url, {cache: 'no-store'}).then(r => r.text());",
        );
        let promise: Promise = fetch
            .call1(&JsValue::NULL, &fixture_report_url().into())
            .unwrap()
            .into();
        let text = JsFuture::from(promise).await.unwrap().as_string().unwrap();
        let all: Value = serde_json::from_str(&text).unwrap();
        all.get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether an action runs here (`"only": "native"` skips it).
    fn applies(action: &Value) -> bool {
        match action.get("only").and_then(Value::as_str) {
            Some(only) => only == "browser",
            None => true,
        }
    }

    /// Calls a JS method without awaiting: its promise (or value) as a future of the outcome.
    fn issue(client: &JsValue, verb: &str, args: &[Value], here: &str) -> JsFuture {
        let method = match verb {
            "user" | "pass" | "apop" | "auth" | "capa" | "stls" | "stat" | "list" | "uidl"
            | "retr" | "top" | "dele" | "noop" | "rset" | "quit" | "send" => verb,
            other => {
                panic!("{here}: {other} cannot run in the browser (mark it \"only\": \"native\")")
            }
        };
        let js_args: Array = args
            .iter()
            .map(|a| match a {
                Value::String(s) => JsValue::from_str(s),
                Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap()),
                other => panic!("{here}: argument {other}"),
            })
            .collect();
        let f: Function = get(client, method).dyn_into().unwrap();
        let result = f.apply(client, &js_args).unwrap();
        let promise = match result.dyn_into::<Promise>() {
            Ok(p) => p,
            Err(value) => Promise::resolve(&value),
        };
        JsFuture::from(promise)
    }

    fn expect_outcome(action: &Value, got: &Result<Value, Value>, here: &str) {
        let Some(expected) = action.get("expect") else {
            assert!(got.is_ok(), "{here}: expected success, got {got:?}");
            return;
        };
        if let Err(why) = outcome_matches(expected, got) {
            panic!("{here}: {why}\n  got {got:?}");
        }
    }

    async fn run_fixture(name: &str, text: &str) {
        let scenario: Value = serde_json::from_str(text).unwrap();
        let runs = scenario.get("runs").and_then(Value::as_array);
        assert!(
            runs.is_none_or(|r| r.iter().any(|x| x == "browser")),
            "{name} does not run in the browser"
        );
        let timeout = scenario
            .get("timeout_ms")
            .and_then(Value::as_f64)
            .unwrap_or(20_000.0);
        let target = format!("fx-{name}");
        let connected = JsFuture::from(Pop3Client::connect(options(&target, timeout))).await;
        let connect = match &connected {
            Ok(c) => Ok(to_json(&get(c, "greeting"))),
            Err(e) => Err(error_json(e)),
        };
        let expected = scenario
            .get("connect")
            .cloned()
            .unwrap_or(json!({"ok": {}}));
        if let Err(why) = outcome_matches(&expected, &connect) {
            panic!("{name}: connect: {why}\n  got {connect:?}");
        }
        let actions: Vec<Value> = scenario
            .get("client")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(applies)
            .collect();
        if let Ok(client) = &connected {
            let (entries, _keep) = record_transcript(client);
            let mut pending: std::collections::HashMap<String, JsFuture> = Default::default();
            for (i, action) in actions.iter().enumerate() {
                let here = format!("{name}: client action {i} {action}");
                if let Some(check) = action.get("check") {
                    check_client(client, &entries.borrow(), check, &here);
                    continue;
                }
                if let Some(id) = action.get("await").and_then(Value::as_str) {
                    let future = pending
                        .remove(id)
                        .unwrap_or_else(|| panic!("{here}: no pending id {id:?}"));
                    let got = outcome(future.await);
                    expect_outcome(action, &got, &here);
                    continue;
                }
                let verb = action.get("do").and_then(Value::as_str).unwrap();
                let args = action
                    .get("args")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if verb == "sleep" {
                    sleep_ms(args[0].as_u64().unwrap() as u32).await;
                    continue;
                }
                if verb == "close" {
                    call(client, "close", &[]).await.unwrap();
                    continue;
                }
                let future = issue(client, verb, &args, &here);
                if action.get("wait").and_then(Value::as_bool).unwrap_or(true) {
                    let got = outcome(future.await);
                    expect_outcome(action, &got, &here);
                } else {
                    let id = action.get("id").and_then(Value::as_str).unwrap();
                    pending.insert(id.to_owned(), future);
                }
            }
            assert!(pending.is_empty(), "{name}: never awaited");
            call(client, "close", &[]).await.unwrap();
        } else {
            assert!(
                actions
                    .iter()
                    .all(|a| a.get("check").is_none() && a.get("do").is_none()),
                "{name}: connect failed, so no client action can run"
            );
        }

        // What the fixture saw: wait until the connection is over, then check it.
        let may_end_early = scenario
            .get("may_end_early")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut connections = Vec::new();
        for _ in 0..200 {
            connections = report(name).await;
            let finished = connections
                .iter()
                .all(|c| c.get("finished").and_then(Value::as_bool) == Some(true));
            if !connections.is_empty() && finished {
                break;
            }
            sleep_ms(100).await;
        }
        assert_eq!(
            connections.len(),
            1,
            "{name}: one connection: {connections:?}"
        );
        let conn = &connections[0];
        assert_eq!(
            conn["finished"],
            json!(true),
            "{name}: the fixture never finished: {conn}"
        );
        assert_eq!(
            conn["failures"],
            json!([]),
            "{name}: the fixture's expectations failed"
        );
        assert!(
            conn["completed"] == json!(true) || may_end_early,
            "{name}: the fixture stopped early: {conn}"
        );
    }

    fn check_client(client: &JsValue, entries: &[JsValue], check: &Value, here: &str) {
        let keys: Vec<String> = entries
            .iter()
            .filter_map(|e| get(&get(e, "explain"), "key").as_string())
            .collect();
        let allowed: Vec<String> = Array::from(&call_sync(client, "allowedCommands"))
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        let Value::Object(items) = check else {
            panic!("{here}: check must be an object");
        };
        for (key, want) in items {
            let list = || -> Vec<&str> {
                want.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            };
            match key.as_str() {
                "state" => assert_eq!(Some(state(client)), want.as_str().map(str::to_owned), "{here}"),
                "transcript_has" => {
                    for k in list() {
                        assert!(keys.iter().any(|x| x == k), "{here}: {k} not in {keys:?}");
                    }
                }
                "transcript_lacks" => {
                    for k in list() {
                        assert!(!keys.iter().any(|x| x == k), "{here}: {k} in {keys:?}");
                    }
                }
                "allowed_has" => {
                    for k in list() {
                        assert!(allowed.iter().any(|x| x == k), "{here}: {k} not in {allowed:?}");
                    }
                }
                "allowed_lacks" => {
                    for k in list() {
                        assert!(!allowed.iter().any(|x| x == k), "{here}: {k} in {allowed:?}");
                    }
                }
                other => panic!("{here}: {other} cannot be checked in the browser (mark it \"only\": \"native\")"),
            }
        }
    }

    fn call_sync(client: &JsValue, method: &str) -> JsValue {
        let f: Function = get(client, method).dyn_into().unwrap();
        f.call0(client).unwrap()
    }
}

// ----- The in-browser server --------------------------------------------------------------------
//
// `connect({ target: "in-browser", server })` through the real worker, www/server-worker.js,
// which the test runner serves from the crate root (wasm-bindgen-test-runner serves `.` beside
// its own files: /www/server-worker.js and the module it imports, /www/pkg/popwire_server.js,
// built by scripts/build-pkg.sh). The runner replaces `Worker` with a wrapper (a blob that
// `await import()`s the script, to forward its console), and a message posted to that wrapper
// before the import has finished is lost; so the tests start the worker from a blob holding a
// static `import` of the script (the runner shims a blob's text in place, and a static import
// has loaded before the worker takes its first message). (The page's own path, `inBrowserServer()` and
// `{ target: "in-browser" }` alone, runs in tests/e2e/in-browser.test.mjs.) The checklist of
// docs/in-browser-server.md ("what the browser-level test must check"), item by item.

mod in_browser {
    use super::*;
    use popwire::wasm::in_browser_server;

    /// Where the test runner serves the worker (same origin, as a Worker needs).
    const WORKER_URL: &str = "/www/server-worker.js";

    thread_local! {
        static SERVER: JsValue = Function::new_with_args(
            "url",
            "const script = 'import ' + JSON.stringify(new URL(url, location.href).href) + ';';
             const blob = new Blob([script], { type: 'text/javascript' });
             return new Worker(URL.createObjectURL(blob), { type: 'module' });",
        )
        .call1(&JsValue::NULL, &WORKER_URL.into())
        .expect("the worker starts");
    }

    /// The one worker of these tests (every connection and control goes to it).
    fn server() -> JsValue {
        SERVER.with(JsValue::clone)
    }

    fn in_browser_options(extra: &[(&str, JsValue)]) -> JsValue {
        let o = Object::new();
        Reflect::set(&o, &"target".into(), &"in-browser".into()).unwrap();
        Reflect::set(&o, &"server".into(), &server()).unwrap();
        Reflect::set(&o, &"timeoutMs".into(), &20_000.0.into()).unwrap();
        for (k, v) in extra {
            Reflect::set(&o, &(*k).into(), v).unwrap();
        }
        o.into()
    }

    async fn connect_in_browser() -> JsValue {
        JsFuture::from(Pop3Client::connect(in_browser_options(&[])))
            .await
            .expect("connect to the in-browser server")
    }

    /// One control request to the worker, `{ id, op, ...args }`, resolved with its `result`.
    async fn control(op: &str, args: &[(&str, JsValue)]) -> Result<JsValue, JsValue> {
        let request = Object::new();
        Reflect::set(&request, &"op".into(), &op.into()).unwrap();
        for (k, v) in args {
            Reflect::set(&request, &(*k).into(), v).unwrap();
        }
        let ask = Function::new_with_args(
            "w, msg",
            "return new Promise((resolve, reject) => {
               const id = 'test-' + Math.random();
               const on = (e) => {
                 if (!e.data || e.data.id !== id) return;
                 w.removeEventListener('message', on);
                 if (e.data.ok) resolve(e.data.result); else reject(new Error(e.data.error));
               };
               w.addEventListener('message', on);
               w.postMessage({ ...msg, id });
             });",
        );
        let promise: Promise = ask
            .call2(&JsValue::NULL, &server(), &request)
            .unwrap()
            .into();
        JsFuture::from(promise).await
    }

    async fn faults_next(faults: &[(&str, JsValue)]) {
        let f = Object::new();
        for (k, v) in faults {
            Reflect::set(&f, &(*k).into(), v).unwrap();
        }
        control("faults", &[("target", "next".into()), ("faults", f.into())])
            .await
            .expect("faults");
    }

    async fn sleep_ms(ms: u32) {
        let sleep = Function::new_with_args("ms", "return new Promise(r => setTimeout(r, ms));");
        let promise: Promise = sleep.call1(&JsValue::NULL, &ms.into()).unwrap().into();
        JsFuture::from(promise).await.unwrap();
    }

    fn keys(entries: &Recorded) -> Vec<String> {
        entries
            .borrow()
            .iter()
            .map(|e| get(&get(e, "explain"), "key").as_string().unwrap())
            .collect()
    }

    /// `(dir, explanation key)` of every client and server entry, and the client lines' text.
    fn shape(entries: &Recorded) -> (Vec<(String, String)>, Vec<String>) {
        let entries = entries.borrow();
        let wire: Vec<&JsValue> = entries
            .iter()
            .filter(|e| get(e, "dir").as_string().as_deref() != Some("info"))
            .collect();
        (
            wire.iter()
                .map(|e| {
                    (
                        get(e, "dir").as_string().unwrap(),
                        get(&get(e, "explain"), "key").as_string().unwrap(),
                    )
                })
                .collect(),
            wire.iter()
                .filter(|e| get(e, "dir").as_string().as_deref() == Some("client"))
                .map(|e| get(e, "text").as_string().unwrap())
                .collect(),
        )
    }

    /// The canonical session: greeting, CAPA, USER/PASS, STAT, LIST, RETR 1, DELE 1, QUIT.
    async fn canonical(c: &JsValue, user: &str) -> Vec<u8> {
        let names = capability_names(c).await;
        assert!(names.contains(&"UIDL".to_owned()), "{names:?}");
        login(c, user).await;
        assert_eq!(stat_count(c).await as usize, SAMPLES.len());
        assert_eq!(
            Array::from(&ok(c, "list", &[]).await).length() as usize,
            SAMPLES.len()
        );
        let message = ok(c, "retr", &[1.into()]).await;
        let bytes = get(&message, "bytes")
            .dyn_into::<Uint8Array>()
            .unwrap()
            .to_vec();
        ok(c, "dele", &[1.into()]).await;
        let bye = ok(c, "quit", &[]).await;
        assert_eq!(get(&bye, "ok").as_bool(), Some(true));
        assert_eq!(state(c), "CLOSED");
        bytes
    }

    #[wasm_bindgen_test]
    async fn the_canonical_session_on_the_in_browser_server_matches_the_bridge() {
        let user = fresh_user("inb");
        let c = connect_in_browser().await;
        let (entries, _keep) = record_transcript(&c);
        assert!(get(&get(&c, "greeting"), "apopTimestamp")
            .as_string()
            .unwrap()
            .ends_with("@in-browser.popwire.test>"));
        assert!(get(&c, "tls").is_null(), "no TLS in the browser");
        let retr = canonical(&c, &user).await;
        assert_eq!(retr.as_slice(), SAMPLES[0], "RETR 1 byte for byte");

        // The opening info entry says what the server is.
        let first = entries.borrow()[0].clone();
        assert_eq!(get(&first, "dir").as_string().as_deref(), Some("info"));
        assert_eq!(
            get(&get(&first, "explain"), "key").as_string().as_deref(),
            Some("info.in-browser")
        );
        let text = get(&first, "text").as_string().unwrap();
        assert!(
            text.contains("simulated POP3 server running in this browser"),
            "{text}"
        );

        // The same session over the bridge: the same lines sent, the same kinds of entries.
        let b = connect("demo").await;
        let (bridge_entries, _keep_b) = record_transcript(&b);
        let bridge_retr = canonical(&b, &user).await;
        assert_eq!(bridge_retr, retr);
        assert_eq!(shape(&entries), shape(&bridge_entries));

        // UPDATE removed message 1 on the in-browser server too.
        let again = connect_in_browser().await;
        login(&again, &user).await;
        assert_eq!(stat_count(&again).await as usize, SAMPLES.len() - 1);
        ok(&again, "quit", &[]).await;
    }

    #[wasm_bindgen_test]
    async fn two_clients_on_one_maildrop_see_in_use() {
        let user = fresh_user("inuse");
        let first = connect_in_browser().await;
        login(&first, &user).await;
        let second = connect_in_browser().await;
        ok(&second, "user", &[user.as_str().into()]).await;
        let e = err(&second, "pass", &["pop3".into()]).await;
        assert_eq!(kind(&e), ("server".to_owned(), Some("IN-USE".to_owned())));
        ok(&first, "quit", &[]).await;
        ok(&second, "quit", &[]).await;
    }

    #[wasm_bindgen_test]
    async fn advancing_ten_minutes_logs_an_idle_session_out_without_a_reply() {
        let c = connect_in_browser().await;
        let (entries, _keep) = record_transcript(&c);
        login(&c, &fresh_user("idle")).await;
        let before = entries.borrow().len();
        control("advance", &[("ms", 600_000.0.into())])
            .await
            .unwrap();
        for _ in 0..100 {
            if state(&c) == "CLOSED" {
                break;
            }
            sleep_ms(20).await;
        }
        assert_eq!(state(&c), "CLOSED", "the autologout closed the session");
        let after = entries.borrow()[before..].to_vec();
        assert!(
            after
                .iter()
                .all(|e| get(e, "dir").as_string().as_deref() != Some("server")),
            "no response before the close"
        );
        assert!(
            after.iter().any(|e| get(e, "text")
                .as_string()
                .unwrap()
                .contains("closed the connection (autologout)")),
            "the transcript says why"
        );
        let e = err(&c, "stat", &[]).await;
        assert_eq!(kind(&e).0, "state");
    }

    #[wasm_bindgen_test]
    async fn a_slow_link_streams_retr_and_keeps_pipelined_commands_in_flight() {
        faults_next(&[("latencyMs", 150.into()), ("bandwidth", 4_000_000.into())]).await;
        let c = connect_in_browser().await;
        assert!(capability_names(&c)
            .await
            .contains(&"PIPELINING".to_owned()));
        login(&c, &fresh_user("slow")).await;
        // Three commands at once: pipelined, they take about one round trip (300 ms), not three.
        let started = js_sys::Date::now();
        let promises: Vec<JsValue> = ["stat", "noop", "stat"]
            .iter()
            .map(|m| {
                let f: Function = get(&c, m).dyn_into().unwrap();
                f.call0(&c).unwrap()
            })
            .collect();
        for p in promises {
            JsFuture::from(Promise::from(p)).await.unwrap();
        }
        let elapsed = js_sys::Date::now() - started;
        assert!(
            (300.0..750.0).contains(&elapsed),
            "pipelined in {elapsed} ms"
        );
        // The 1 MB sample at 4 MB/s arrives over a quarter of a second, in many pieces.
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let on_progress = Closure::wrap(Box::new(move |p: JsValue| {
            sink.borrow_mut()
                .push(get(&p, "received").as_f64().unwrap());
        }) as Box<dyn FnMut(JsValue)>);
        let f: Function = get(&c, "onProgress").dyn_into().unwrap();
        f.call1(&c, on_progress.as_ref()).unwrap();
        let message = ok(&c, "retr", &[7.into()]).await;
        let bytes = get(&message, "bytes").dyn_into::<Uint8Array>().unwrap();
        assert_eq!(bytes.length() as usize, SAMPLES[6].len());
        let seen = seen.borrow().clone();
        assert!(seen.len() >= 5, "progress came in {} steps", seen.len());
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        ok(&c, "quit", &[]).await;
    }

    #[wasm_bindgen_test]
    async fn each_fault_mode_gives_its_explained_error() {
        // An -ERR greeting: connect() rejects with the server's line.
        faults_next(&[("errGreeting", true.into())]).await;
        let e = JsFuture::from(Pop3Client::connect(in_browser_options(&[])))
            .await
            .expect_err("an -ERR greeting");
        assert_eq!(kind(&e).0, "server", "{e:?}");

        // Bare LF: the session carries on, the transcript warns.
        faults_next(&[("bareLf", true.into())]).await;
        let c = connect_in_browser().await;
        let (entries, _keep) = record_transcript(&c);
        login(&c, &fresh_user("lf")).await;
        assert!(
            keys(&entries).contains(&"warn.bare-lf".to_owned()),
            "{:?}",
            keys(&entries)
        );
        ok(&c, "quit", &[]).await;

        // [SYS/TEMP] on the next command.
        faults_next(&[("sysTemp", true.into())]).await;
        let c = connect_in_browser().await;
        let e = err(&c, "user", &["someone".into()]).await;
        assert_eq!(kind(&e), ("server".to_owned(), Some("SYS/TEMP".to_owned())));
        assert_eq!(
            get(&get(&e, "explain"), "key").as_string().as_deref(),
            Some("code.SYS/TEMP")
        );
        ok(&c, "quit", &[]).await;

        // An over-long line (the next reply, here the greeting): over the 512-octet cap of
        // RFC 2449 §4.
        faults_next(&[("longLine", true.into())]).await;
        let e = JsFuture::from(Pop3Client::connect(in_browser_options(&[])))
            .await
            .expect_err("an over-long greeting");
        assert_eq!(kind(&e).0, "limit", "{e:?}");
        assert!(
            get(&e, "message").as_string().unwrap().contains("512"),
            "{e:?}"
        );

        // A drop in the middle of RETR: a network error, nothing deleted.
        let user = fresh_user("drop");
        faults_next(&[("dropRetrAfter", 2000.into())]).await;
        let c = connect_in_browser().await;
        login(&c, &user).await;
        ok(&c, "dele", &[2.into()]).await;
        let e = err(&c, "retr", &[1.into()]).await;
        assert_eq!(kind(&e).0, "network", "{e:?}");
        assert!(
            get(&e, "message").as_string().unwrap().contains("fault"),
            "{e:?}"
        );
        assert_eq!(state(&c), "CLOSED");
        let view = control("view", &[("user", user.as_str().into())])
            .await
            .unwrap();
        assert!(get(&view, "lockedBy").is_null(), "the lock is released");
        assert_eq!(
            Array::from(&get(&view, "messages")).length() as usize,
            SAMPLES.len()
        );
    }

    #[wasm_bindgen_test]
    async fn the_server_side_view_shows_the_lock_the_marks_and_what_update_removed() {
        let user = fresh_user("view");
        let c = connect_in_browser().await;
        login(&c, &user).await;
        ok(&c, "dele", &[3.into()]).await;
        let view = control("view", &[("user", user.as_str().into())])
            .await
            .unwrap();
        assert!(get(&view, "lockedBy").as_f64().is_some(), "{view:?}");
        let marked: Vec<u32> = Array::from(&get(&view, "messages"))
            .iter()
            .filter(|m| get(m, "marked").as_bool() == Some(true))
            .map(|m| get(&m, "n").as_f64().unwrap() as u32)
            .collect();
        assert_eq!(marked, vec![3]);
        ok(&c, "quit", &[]).await;
        let view = control("view", &[("user", user.as_str().into())])
            .await
            .unwrap();
        assert!(get(&view, "lockedBy").is_null());
        let removed = Array::from(&get(&view, "lastUpdate"));
        assert_eq!(removed.length(), 1);
        assert_eq!(
            get(&removed.get(0), "size").as_f64().unwrap() as usize,
            SAMPLES[2].len()
        );

        // Deliver, then reset: the maildrop back to the samples.
        let delivered = control(
            "deliver",
            &[
                ("user", user.as_str().into()),
                ("text", "Subject: hello\r\n\r\nnew mail\r\n".into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(get(&delivered, "id").as_f64(), Some(SAMPLES.len() as f64));
        control("reset", &[("user", user.as_str().into())])
            .await
            .unwrap();
        let view = control("view", &[("user", user.as_str().into())])
            .await
            .unwrap();
        assert_eq!(
            Array::from(&get(&view, "messages")).length() as usize,
            SAMPLES.len()
        );
    }

    #[wasm_bindgen_test]
    async fn the_options_choose_the_transport_and_a_bad_server_is_refused() {
        // A `server` that is not a worker: kind input, nothing opened.
        let o = in_browser_options(&[("server", Object::new().into())]);
        let e = JsFuture::from(Pop3Client::connect(o)).await.unwrap_err();
        assert_eq!(kind(&e).0, "input");
        // `server` and `bridge` together: refused.
        let o = in_browser_options(&[("server", server()), ("bridge", bridge().into())]);
        let e = JsFuture::from(Pop3Client::connect(o)).await.unwrap_err();
        assert_eq!(kind(&e).0, "input");
        // inBrowserServer(): one shared worker per script URL.
        let shared = in_browser_server(Some(WORKER_URL.to_owned())).unwrap();
        assert!(Object::is(
            &shared,
            &in_browser_server(Some(WORKER_URL.to_owned())).unwrap()
        ));
        assert!(!Object::is(&shared, &in_browser_server(None).unwrap()));
        // STLS: the simulated server does not offer it and refuses it with its reason.
        let c = connect_in_browser().await;
        assert!(!capability_names(&c).await.contains(&"STLS".to_owned()));
        let e = err(&c, "stls", &[]).await;
        assert_eq!(kind(&e).0, "server", "{e:?}");
        ok(&c, "quit", &[]).await;
    }
}
