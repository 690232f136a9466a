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

use popwire::wasm::{check_command, explain_keys, parse_message, Pop3Client};

wasm_bindgen_test_configure!(run_in_browser);

const SAMPLES: [&[u8]; 8] = [
    include_bytes!("../src/server/samples/01-welcome.eml"),
    include_bytes!("../src/server/samples/02-dot-stuffing.eml"),
    include_bytes!("../src/server/samples/03-attachment.eml"),
    include_bytes!("../src/server/samples/04-html-with-script.eml"),
    include_bytes!("../src/server/samples/05-arabic.eml"),
    include_bytes!("../src/server/samples/06-persian.eml"),
    include_bytes!("../src/server/samples/07-large.eml"),
    include_bytes!("../src/server/samples/08-long-headers.eml"),
];

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
        assert_eq!(bytes.as_slice(), *sample, "sample {}", i + 1);
        let size = get(&list.get(i as u32), "size").as_f64().unwrap() as usize;
        assert_eq!(size, sample.len(), "LIST size of sample {}", i + 1);
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
    let large = list.length(); // the ~1 MB sample is the 7th of 8
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

#[wasm_bindgen_test]
fn free_functions() {
    let ok = check_command("RETR 1", "AUTHORIZATION");
    assert_eq!(get(&ok, "ok").as_bool(), Some(true));
    assert_eq!(get(&ok, "allowed").as_bool(), Some(false));
    let bad = check_command("USER a\r\nDELE 1", "AUTHORIZATION");
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
