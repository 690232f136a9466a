//! The module as the worker uses it, compiled to wasm32 and run under Node
//! (`wasm-bindgen-test-runner`; `make test-wasm-engine`): a whole canonical session through
//! `ServerHost` with the engine's `Client` on the other side, and the JS-facing controls.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use popwire::client::{Event, Reply};
use popwire::{Client, ClientConfig, CommandHandle, Pop3Error, SessionState};
use popwire_teaching_server_wasm::ServerHost;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

/// How many messages a new maildrop holds: the samples.
const SAMPLES: usize = popwire::server::SAMPLES.len();

/// The client on one connection of the host, bytes moved until nothing moves.
struct Wire {
    client: Client,
    conn: u32,
    events: Vec<Event>,
}

impl Wire {
    fn new(host: &mut ServerHost) -> Wire {
        let mut w = Wire {
            client: Client::new(ClientConfig::default(), host.now() as u64),
            conn: host.connect(),
            events: Vec::new(),
        };
        w.run(host);
        w
    }

    fn run(&mut self, host: &mut ServerHost) {
        loop {
            let mut moved = false;
            let now = host.now() as u64;
            while let Some(bytes) = host.transmit(self.conn) {
                self.client.feed(now, &bytes);
                moved = true;
            }
            if host.closed(self.conn).is_some() && self.client.state() != SessionState::Closed {
                self.client.handle_close(now, "the server closed");
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            while let Some(bytes) = self.client.poll_transmit(now) {
                host.feed(self.conn, &bytes).unwrap();
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    fn result(&self, h: CommandHandle) -> Result<Reply, Pop3Error> {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::Completed { handle, result } if *handle == h => Some(result.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{h:?} did not complete"))
    }

    /// Sends a command and returns its result.
    fn ask(
        &mut self,
        host: &mut ServerHost,
        send: impl FnOnce(&mut Client) -> Result<CommandHandle, Pop3Error>,
    ) -> Result<Reply, Pop3Error> {
        let h = send(&mut self.client).unwrap();
        self.run(host);
        self.result(h)
    }
}

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

#[wasm_bindgen_test]
fn a_canonical_session_through_the_server_host() {
    let mut host = ServerHost::new(42);
    let mut w = Wire::new(&mut host);
    let greeting = w.client.greeting().unwrap();
    assert!(greeting.text.contains("popwire teaching POP3 server ready"));
    let Reply::Capabilities(capa) = w.ask(&mut host, |c| c.capa()).unwrap() else {
        panic!("CAPA")
    };
    assert!(!capa.is_empty());
    w.ask(&mut host, |c| c.user("alice")).unwrap();
    w.ask(&mut host, |c| c.pass("pop3")).unwrap();
    assert_eq!(w.client.state(), SessionState::Transaction);
    let Reply::Stat(stat) = w.ask(&mut host, |c| c.stat()).unwrap() else {
        panic!("STAT")
    };
    assert_eq!(stat.count as usize, SAMPLES);
    let Reply::List(list) = w.ask(&mut host, |c| c.list(None)).unwrap() else {
        panic!("LIST")
    };
    assert_eq!(list.len(), SAMPLES);
    assert_eq!(list[6].size, 1_029_004, "the generated large sample's size");
    let Reply::Message(first) = w.ask(&mut host, |c| c.retr(1)).unwrap() else {
        panic!("RETR")
    };
    assert_eq!(first.len() as u64, list[0].size);
    assert!(first.starts_with(b"From: "));
    w.ask(&mut host, |c| c.dele(1)).unwrap();

    // The server's side while the session holds the lock: message 1 marked.
    let view = host.view("alice").unwrap();
    assert_eq!(get(&view, "lockedBy").as_f64(), Some(f64::from(w.conn)));
    let messages = js_sys::Array::from(&get(&view, "messages"));
    assert_eq!(messages.length() as usize, SAMPLES);
    assert_eq!(get(&messages.get(0), "marked").as_bool(), Some(true));
    assert_eq!(get(&messages.get(1), "marked").as_bool(), Some(false));

    w.ask(&mut host, |c| c.quit()).unwrap();
    assert_eq!(host.closed(w.conn).as_deref(), Some("quit"));
    let view = host.view("alice").unwrap();
    assert!(get(&view, "lockedBy").is_null());
    assert_eq!(
        js_sys::Array::from(&get(&view, "messages")).length() as usize,
        SAMPLES - 1
    );
    assert_eq!(
        js_sys::Array::from(&get(&view, "lastUpdate")).length(),
        1,
        "UPDATE removed message 1"
    );
    host.close(w.conn);
}

#[wasm_bindgen_test]
fn controls_from_js_values() {
    let mut host = ServerHost::new(1);
    // Faults as the worker passes them: a plain object, camelCase, missing fields off.
    let faults = js_sys::JSON::parse(r#"{"bareLf": true, "latencyMs": 150}"#).unwrap();
    host.set_faults(JsValue::from_str("next"), faults).unwrap();
    let conn = host.connect();
    let greeting = host.transmit(conn).unwrap();
    assert!(greeting.ends_with(b">\n"));
    let now = host.faults(conn).unwrap();
    assert_eq!(get(&now, "latencyMs").as_f64(), Some(150.0));
    assert!(get(&now, "bandwidth").is_null());
    let bad = js_sys::JSON::parse(r#"{"bareLF": true}"#).unwrap();
    assert!(host.set_faults(JsValue::from_str("all"), bad).is_err());
    assert!(host
        .set_faults(JsValue::from_str("nobody"), JsValue::NULL)
        .is_err());

    // The virtual clock: fractions add up; ten minutes idle logs the connection out.
    host.advance(0.5);
    host.advance(0.5);
    assert_eq!(host.now(), 1.0);
    let deadline = host.poll_timeout().unwrap();
    host.advance(deadline - host.now());
    assert_eq!(host.closed(conn).as_deref(), Some("autologout"));

    let delivered = host.deliver("bob", b"Subject: hi\n\nthere").unwrap();
    assert_eq!(get(&delivered, "id").as_f64(), Some((SAMPLES + 1) as f64));
    host.reset("bob").unwrap();
    let view = host.view("bob").unwrap();
    assert_eq!(
        js_sys::Array::from(&get(&view, "messages")).length() as usize,
        SAMPLES
    );
}
