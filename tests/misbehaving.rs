//! popwire's `Client` against the misbehaving-server fixture (issue 8, section 4).
//!
//! Every scenario in `tests/fixtures/misbehaving/` that runs `native` has a test here of the
//! same name. The test starts the fixture for that one scenario, drives a `Client` over a real
//! std `TcpStream` (feed / poll_event / poll_transmit / poll_timeout / handle_timeout with a
//! real clock — the clock lives in the test, never in the engine), runs the scenario's client
//! actions, checks each typed outcome, then checks the fixture's expectations on the bytes the
//! client sent. The browser half is at the end of `tests/browser.rs`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod fixture;
#[path = "fixture/outcome.rs"]
mod outcome;

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use fixture::{Fixture, Scenario};
use outcome::{outcome_matches, Outcome};
use popwire::auth::Mechanism;
use popwire::client::Reply;
use popwire::codec::Command;
use popwire::{Client, ClientConfig, CommandHandle, Event, Pop3Error};
use serde_json::{json, Value};

/// The longest a single action may take before the test gives up (a hang is a failure).
const ACTION_CAP: Duration = Duration::from_secs(20);

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/misbehaving");

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*
        const NATIVE: &[&str] = &[$(stringify!($name)),*];
    };
}

scenarios!(
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
    stls_forgets_user_and_utf8,
    list_bad_line,
    many_empty_lines,
    stls_no_handshake,
);

#[test]
fn every_native_scenario_has_a_test() {
    let scenarios = Scenario::load_dir(Path::new(DIR)).unwrap();
    let mut files: Vec<&str> = scenarios
        .iter()
        .filter(|s| s.runs_on("native"))
        .map(|s| s.name.as_str())
        .collect();
    files.sort_unstable();
    let mut tests = NATIVE.to_vec();
    tests.sort_unstable();
    assert_eq!(
        files, tests,
        "scenario files vs tests in tests/misbehaving.rs"
    );
    for s in &scenarios {
        assert!(
            s.runs.iter().all(|r| r == "native" || r == "browser"),
            "{}: runs {:?}",
            s.name,
            s.runs
        );
    }
}

#[test]
fn a_wrong_byte_fails_the_fixtures_expectation() {
    // The fixture itself can fail: a client sending the wrong command is reported.
    let scenario = Scenario::parse(
        "self_check",
        r#"{"description": "x", "server": [
            {"send": "+OK\r\n"}, {"expect": "USER alice\r\n"}, {"send": "+OK\r\n"}]}"#,
    )
    .unwrap();
    let fixture = Fixture::start(std::slice::from_ref(&scenario)).unwrap();
    let mut tcp = TcpStream::connect(fixture.addrs["self_check"]).unwrap();
    let mut greeting = [0u8; 5];
    tcp.read_exact(&mut greeting).unwrap();
    tcp.write_all(b"USER mallory\r\n").unwrap();
    let report = fixture
        .finished_report("self_check", 0, Duration::from_secs(15))
        .expect("the fixture finishes");
    assert!(!report.completed);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert!(
        report.failures[0].contains("USER mallory"),
        "{:?}",
        report.failures
    );
}

/// Runs one scenario against the native client.
fn run(name: &str) {
    let path = Path::new(DIR).join(format!("{name}.json"));
    let scenario = Scenario::load(&path).unwrap();
    assert!(scenario.runs_on("native"), "{name} does not run native");
    let fixture = Fixture::start(std::slice::from_ref(&scenario)).unwrap();
    let mut config = ClientConfig::default();
    if let Some(ms) = scenario.timeout_ms {
        config.reply_timeout_ms = ms;
    }
    if let Some(ms) = scenario.tls_timeout_ms {
        config.tls_timeout_ms = ms;
    }
    let mut driver = Driver::connect(fixture.addrs[name], config);

    let greeted = driver.run_until(ACTION_CAP, |d| {
        d.client.greeting().is_some() || d.client.closed_by().is_some()
    });
    assert!(
        greeted,
        "{name}: no greeting and no close within {ACTION_CAP:?}"
    );
    let connect = match (driver.client.greeting(), driver.client.closed_by()) {
        (Some(g), _) => Ok(serde_json::to_value(g).unwrap()),
        (None, Some(err)) => Err(error_json(err)),
        (None, None) => unreachable!(),
    };
    let expected = scenario.connect.clone().unwrap_or(json!({"ok": {}}));
    if let Err(why) = outcome_matches(&expected, &connect) {
        panic!("{name}: connect: {why}\n  got {connect:?}");
    }

    let mut ids: HashMap<String, Slot> = HashMap::new();
    for (i, action) in scenario.client.iter().enumerate() {
        if !applies(action) {
            continue;
        }
        let here = format!("{name}: client action {i} {action}");
        if let Some(check) = action.get("check") {
            driver.check(check, &here);
            continue;
        }
        if let Some(id) = action.get("await").and_then(Value::as_str) {
            let slot = ids
                .remove(id)
                .unwrap_or_else(|| panic!("{here}: no pending id {id:?}"));
            let outcome = driver.settle(slot, &here);
            expect_outcome(action, &outcome, &here);
            continue;
        }
        let verb = action
            .get("do")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{here}: needs do, await or check"));
        let args = action
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let slot = driver.act(verb, &args, &here);
        let wait = action.get("wait").and_then(Value::as_bool).unwrap_or(true);
        if wait {
            let outcome = driver.settle(slot, &here);
            expect_outcome(action, &outcome, &here);
        } else {
            let id = action
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{here}: \"wait\": false needs an id"));
            ids.insert(id.to_owned(), slot);
        }
    }
    assert!(
        ids.is_empty(),
        "{name}: never awaited: {:?}",
        ids.keys().collect::<Vec<_>>()
    );

    // Hang up, then read what the fixture saw.
    driver.hang_up();
    let report = fixture
        .finished_report(name, 0, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{name}: the fixture did not finish its script"));
    assert!(
        report.failures.is_empty(),
        "{name}: the fixture's expectations failed: {:#?}",
        report.failures
    );
    assert!(
        report.completed || scenario.may_end_early,
        "{name}: the fixture stopped at step {} of {}: {:?}",
        report.steps_done,
        scenario.server.len(),
        report.ended_early
    );
    assert_eq!(fixture.connections(name), 1, "{name}: one connection");
}

/// Whether an action applies to the native runner (`"only": "browser"` skips it).
fn applies(action: &Value) -> bool {
    match action.get("only").and_then(Value::as_str) {
        Some(only) => only == "native",
        None => true,
    }
}

/// An issued action: waiting for a handle, or already settled (refused at once, or local).
enum Slot {
    Handle(CommandHandle),
    Done(Outcome),
}

struct Driver {
    client: Client,
    tcp: Option<TcpStream>,
    start: Instant,
    done: HashMap<CommandHandle, Result<Reply, Pop3Error>>,
    keys: Vec<&'static str>,
}

impl Driver {
    fn connect(addr: std::net::SocketAddr, config: ClientConfig) -> Driver {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_nodelay(true).unwrap();
        let start = Instant::now();
        Driver {
            client: Client::new(config, 0),
            tcp: Some(tcp),
            start,
            done: HashMap::new(),
            keys: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Writes what the client transmits and collects its events.
    fn pump(&mut self) {
        let now = self.now();
        while let Some(bytes) = self.client.poll_transmit(now) {
            let failed = match self.tcp.as_mut() {
                Some(tcp) => tcp.write_all(&bytes).is_err(),
                None => true,
            };
            if failed {
                self.lost("writing failed: the server closed the connection");
            }
        }
        while let Some(event) = self.client.poll_event() {
            match event {
                Event::Completed { handle, result } => {
                    self.done.insert(handle, result);
                }
                Event::Transcript(entry) => self.keys.push(entry.explain.key),
                Event::Closed => {
                    if let Some(tcp) = self.tcp.take() {
                        let _ = tcp.shutdown(Shutdown::Both);
                    }
                }
                _ => {}
            }
        }
    }

    fn lost(&mut self, reason: &str) {
        if let Some(tcp) = self.tcp.take() {
            let _ = tcp.shutdown(Shutdown::Both);
        }
        let now = self.now();
        self.client.handle_close(now, reason);
    }

    /// Drives the session until `done` holds (true) or `cap` passes (false).
    fn run_until(&mut self, cap: Duration, done: impl Fn(&Driver) -> bool) -> bool {
        let until = Instant::now() + cap;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            let now = self.now();
            if let Some(deadline) = self.client.poll_timeout() {
                if now >= deadline {
                    self.client.handle_timeout(now);
                    continue;
                }
            }
            let wait_ms = self
                .client
                .poll_timeout()
                .map_or(20, |d| d.saturating_sub(now).clamp(1, 20));
            let Some(tcp) = self.tcp.as_mut() else {
                std::thread::sleep(Duration::from_millis(wait_ms));
                continue;
            };
            tcp.set_read_timeout(Some(Duration::from_millis(wait_ms)))
                .unwrap();
            match tcp.read(&mut buf) {
                Ok(0) => self.lost("the server closed the connection"),
                Ok(n) => {
                    let now = self.now();
                    self.client.feed(now, &buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => self.lost(&format!("reading failed: {e}")),
            }
        }
    }

    /// Issues one action.
    fn act(&mut self, verb: &str, args: &[Value], here: &str) -> Slot {
        let s = |i: usize| -> String {
            args.get(i)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{here}: argument {i} must be a string"))
                .to_owned()
        };
        let n = |i: usize| -> u32 {
            args.get(i)
                .and_then(Value::as_u64)
                .unwrap_or_else(|| panic!("{here}: argument {i} must be a number"))
                as u32
        };
        let opt = |i: usize| args.get(i).and_then(Value::as_u64).map(|v| v as u32);
        let now = self.now();
        let c = &mut self.client;
        let queued = match verb {
            "user" => c.user(&s(0)),
            "pass" => c.pass(&s(0)),
            "apop" => c.apop(&s(0), &s(1)),
            "auth" => {
                let mechanism =
                    Mechanism::parse(&s(0)).unwrap_or_else(|| panic!("{here}: unknown mechanism"));
                c.auth(mechanism, &s(1), &s(2))
            }
            "capa" => c.capa(),
            "stls" => c.stls(),
            "utf8" => c.command(Command::Utf8),
            "stat" => c.stat(),
            "list" => c.list(opt(0)),
            "uidl" => c.uidl(opt(0)),
            "retr" => c.retr(n(0)),
            "top" => c.top(n(0), n(1)),
            "dele" => c.dele(n(0)),
            "noop" => c.command(Command::Noop),
            "rset" => c.command(Command::Rset),
            "quit" => c.quit(),
            "send" => c.send_raw(&s(0)),
            "sleep" => {
                let ms = u64::from(n(0));
                self.run_until(Duration::from_millis(ms), |_| false);
                return Slot::Done(Ok(Value::Null));
            }
            "tls_established" => {
                // The test's transport pretends the handshake happened (the fixture has no TLS):
                // what the engine does next is what is under test.
                c.tls_established(now, "TLS (pretended by the test transport)");
                return Slot::Done(Ok(Value::Null));
            }
            "close" => {
                self.lost("closed by the test");
                self.pump();
                return Slot::Done(Ok(Value::Null));
            }
            other => panic!("{here}: unknown action {other:?}"),
        };
        match queued {
            Ok(handle) => Slot::Handle(handle),
            Err(err) => Slot::Done(Err(error_json(&err))),
        }
    }

    /// Waits for an action's outcome.
    fn settle(&mut self, slot: Slot, here: &str) -> Outcome {
        match slot {
            Slot::Done(outcome) => outcome,
            Slot::Handle(handle) => {
                let settled = self.run_until(ACTION_CAP, |d| d.done.contains_key(&handle));
                assert!(settled, "{here}: no outcome within {ACTION_CAP:?}");
                match self.done.remove(&handle) {
                    Some(Ok(reply)) => Ok(reply_json(reply)),
                    Some(Err(err)) => Err(error_json(&err)),
                    None => unreachable!(),
                }
            }
        }
    }

    /// A `check` action: the session's state and what the transcript said.
    fn check(&mut self, check: &Value, here: &str) {
        self.pump();
        let Value::Object(items) = check else {
            panic!("{here}: check must be an object");
        };
        let allowed: Vec<&str> = self
            .client
            .allowed_commands()
            .iter()
            .map(|k| k.as_str())
            .collect();
        for (key, want) in items {
            let strings = || -> Vec<&str> {
                want.as_array()
                    .unwrap_or_else(|| panic!("{here}: {key} takes a list"))
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            };
            match key.as_str() {
                "state" => assert_eq!(
                    Some(self.client.state().as_str()),
                    want.as_str(),
                    "{here}: state"
                ),
                "closed_by" => assert_eq!(
                    self.client.closed_by().map(Pop3Error::kind),
                    want.as_str(),
                    "{here}: closed_by {:?}",
                    self.client.closed_by()
                ),
                "utf8" => assert_eq!(Some(self.client.is_utf8()), want.as_bool(), "{here}: utf8"),
                "transcript_has" => {
                    for k in strings() {
                        assert!(self.keys.contains(&k), "{here}: {k} not in {:?}", self.keys);
                    }
                }
                "transcript_lacks" => {
                    for k in strings() {
                        assert!(!self.keys.contains(&k), "{here}: {k} in {:?}", self.keys);
                    }
                }
                "allowed_has" => {
                    for k in strings() {
                        assert!(allowed.contains(&k), "{here}: {k} not in {allowed:?}");
                    }
                }
                "allowed_lacks" => {
                    for k in strings() {
                        assert!(!allowed.contains(&k), "{here}: {k} in {allowed:?}");
                    }
                }
                other => panic!("{here}: unknown check {other:?}"),
            }
        }
    }

    fn hang_up(&mut self) {
        if let Some(tcp) = self.tcp.take() {
            let _ = tcp.shutdown(Shutdown::Both);
        }
    }
}

/// A reply as JSON in the JS API's shape (messages: `{text, bytes: length}`).
fn reply_json(reply: Reply) -> Value {
    match reply {
        Reply::Status(s) => json!({
            "ok": s.is_ok(),
            "text": s.text,
            "code": s.code.as_ref().map(|c| c.as_str().to_owned()),
        }),
        Reply::Stat(v) => serde_json::to_value(v).unwrap(),
        Reply::List(v) => serde_json::to_value(v).unwrap(),
        Reply::ListOne(v) => serde_json::to_value(v).unwrap(),
        Reply::Uidl(v) => serde_json::to_value(v).unwrap(),
        Reply::UidlOne(v) => serde_json::to_value(v).unwrap(),
        Reply::Capabilities(v) => serde_json::to_value(v).unwrap(),
        Reply::Languages(v) => serde_json::to_value(v).unwrap(),
        Reply::Raw(v) => serde_json::to_value(v).unwrap(),
        Reply::Message(bytes) => json!({
            "text": String::from_utf8_lossy(&bytes),
            "bytes": bytes.len(),
        }),
        other => json!({ "unknown": format!("{other:?}") }),
    }
}

/// An error as JSON: the JS `Pop3Error`'s `kind`, `code`, `explain.key` and `message`.
fn error_json(err: &Pop3Error) -> Value {
    json!({
        "kind": err.kind(),
        "code": err.code().map(|c| c.as_str().to_owned()),
        "explain": err.explain().key,
        "message": err.to_string(),
    })
}

/// Checks an action's outcome against its `expect` (without one: any success).
fn expect_outcome(action: &Value, outcome: &Outcome, here: &str) {
    let Some(expected) = action.get("expect") else {
        assert!(outcome.is_ok(), "{here}: expected success, got {outcome:?}");
        return;
    };
    if let Err(why) = outcome_matches(expected, outcome) {
        panic!("{here}: {why}\n  got {outcome:?}");
    }
}
