//! The host natively: the virtual clock, several connections on one maildrop, deliver / reset /
//! view, and each fault mode (the wasm build is tested under Node in `tests/node.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use popwire::client::{Event, Reply};
use popwire::{Client, ClientConfig, Pop3Error, SessionState};

use crate::host::{Faults, Host, HostError, Target, LONG_LINE};

/// How many messages a new maildrop holds: the samples.
const SAMPLES: usize = popwire::server::SAMPLES.len();

/// Everything the host sends `conn` now, concatenated.
fn drain(host: &mut Host, conn: u32) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = host.transmit(conn) {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Sends `line` (CRLF added) and returns everything the server answers now.
fn say(host: &mut Host, conn: u32, line: &str) -> String {
    host.feed(conn, format!("{line}\r\n").as_bytes()).unwrap();
    String::from_utf8_lossy(&drain(host, conn)).into_owned()
}

/// A connection logged in as `user` (greeting taken).
fn login(host: &mut Host, user: &str) -> u32 {
    let conn = host.connect();
    assert!(String::from_utf8(drain(host, conn))
        .unwrap()
        .starts_with("+OK"));
    assert!(say(host, conn, &format!("USER {user}")).starts_with("+OK"));
    assert!(say(host, conn, "PASS pop3").starts_with("+OK"));
    conn
}

/// The engine's client on one connection of the host.
struct Wire {
    client: Client,
    conn: u32,
    events: Vec<Event>,
}

impl Wire {
    fn new(host: &mut Host) -> Wire {
        let mut w = Wire {
            client: Client::new(ClientConfig::default(), host.now()),
            conn: host.connect(),
            events: Vec::new(),
        };
        w.run(host);
        w
    }

    fn run(&mut self, host: &mut Host) {
        loop {
            let mut moved = false;
            while let Some(bytes) = host.transmit(self.conn) {
                self.client.feed(host.now(), &bytes);
                moved = true;
            }
            if host.closed(self.conn).is_some() {
                self.client.handle_close(host.now(), "the server closed");
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            while let Some(bytes) = self.client.poll_transmit(host.now()) {
                host.feed(self.conn, &bytes).unwrap();
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    fn result(&self, h: popwire::CommandHandle) -> Result<Reply, Pop3Error> {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::Completed { handle, result } if *handle == h => Some(result.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{h:?} did not complete"))
    }
}

#[test]
fn a_pipelined_canonical_session_with_the_engines_client() {
    let mut host = Host::new(7);
    let mut w = Wire::new(&mut host);
    let greeting = w.client.greeting().unwrap();
    assert!(greeting
        .apop_timestamp
        .as_deref()
        .unwrap()
        .ends_with("@in-browser.popwire.test>"));
    let capa = w.client.capa().unwrap();
    w.run(&mut host);
    w.result(capa).unwrap();
    w.client.user("alice").unwrap();
    w.run(&mut host);
    w.client.pass("pop3").unwrap();
    w.run(&mut host);
    assert_eq!(w.client.state(), SessionState::Transaction);
    // Pipelined: the host feeds one line at a time, the replies come back in order.
    let stat = w.client.stat().unwrap();
    let list = w.client.list(None).unwrap();
    let retr = w.client.retr(7).unwrap();
    let dele = w.client.dele(1).unwrap();
    w.run(&mut host);
    assert!(matches!(w.result(stat).unwrap(), Reply::Stat(s) if s.count as usize == SAMPLES));
    assert!(matches!(w.result(list).unwrap(), Reply::List(l) if l.len() == SAMPLES));
    let Reply::Message(large) = w.result(retr).unwrap() else {
        panic!("RETR")
    };
    assert_eq!(
        large,
        popwire::server::SAMPLES[6].1,
        "the generated 1 MB sample"
    );
    w.result(dele).unwrap();
    assert!(host.view("alice").messages[0].marked);
    let quit = w.client.quit().unwrap();
    w.run(&mut host);
    w.result(quit).unwrap();
    assert_eq!(host.closed(w.conn), Some("quit"));
    let view = host.view("alice");
    assert_eq!(view.locked_by, None);
    assert_eq!(view.messages.len(), SAMPLES - 1);
    assert_eq!(view.last_update.len(), 1);
    assert_eq!(view.updates, 1);
}

/// RFC 1939 §3: after `advance(10 min)` the idle session is closed without a response, the
/// lock is released and the marked message is not deleted.
#[test]
fn autologout_after_advancing_ten_minutes_closes_without_a_response() {
    let mut host = Host::new(1);
    let conn = login(&mut host, "alice");
    assert!(say(&mut host, conn, "DELE 1").starts_with("+OK"));
    let deadline = host.poll_timeout().unwrap();
    assert_eq!(deadline, host.now() + 10 * 60 * 1000);
    host.advance(10 * 60 * 1000 - 1);
    assert_eq!(host.closed(conn), None);
    host.advance(1);
    assert_eq!(host.transmit(conn), None, "no response");
    assert_eq!(host.closed(conn), Some("autologout"));
    assert_eq!(host.poll_timeout(), None);
    let view = host.view("alice");
    assert_eq!(view.locked_by, None);
    assert_eq!(view.messages.len(), SAMPLES, "nothing deleted");
    assert_eq!(view.updates, 0);
    host.close(conn);
    assert!(host.connections().is_empty());
}

/// The failed-login delay runs on the virtual clock too.
#[test]
fn a_failed_login_is_held_until_the_clock_moves() {
    let mut host = Host::new(1);
    let conn = host.connect();
    drain(&mut host, conn);
    say(&mut host, conn, "USER alice");
    assert_eq!(say(&mut host, conn, "PASS wrong"), "");
    host.advance(999);
    assert_eq!(drain(&mut host, conn), b"");
    host.advance(1);
    assert!(String::from_utf8(drain(&mut host, conn))
        .unwrap()
        .starts_with("-ERR [AUTH]"));
}

#[test]
fn a_second_connection_on_the_maildrop_gets_in_use() {
    let mut host = Host::new(1);
    let first = login(&mut host, "alice");
    let second = host.connect();
    drain(&mut host, second);
    say(&mut host, second, "USER alice");
    assert!(say(&mut host, second, "PASS pop3").starts_with("-ERR [IN-USE]"));
    assert_eq!(host.view("alice").locked_by, Some(first));
    host.close(first);
    assert_eq!(host.view("alice").locked_by, None);
    say(&mut host, second, "USER alice");
    assert!(say(&mut host, second, "PASS pop3").starts_with("+OK"));
    assert_eq!(host.view("alice").locked_by, Some(second));
}

#[test]
fn deliver_reset_and_view() {
    let mut host = Host::new(1);
    assert!(!host.view("bob").exists);
    let d = host.deliver("bob", b"Subject: new\n\nhello").unwrap();
    assert_eq!(d.id, SAMPLES + 1);
    let view = host.view("bob");
    assert!(view.exists);
    assert_eq!(view.messages.len(), SAMPLES + 1);
    assert_eq!(view.messages[SAMPLES].uid, d.uid);
    assert_eq!(view.messages[SAMPLES].size, d.size as u64);
    let conn = login(&mut host, "bob");
    assert!(say(&mut host, conn, "STAT").starts_with(&format!("+OK {} ", SAMPLES + 1)));
    assert_eq!(
        host.reset("bob"),
        Err(HostError::Locked {
            user: "bob".into(),
            conn
        })
    );
    assert!(say(&mut host, conn, "DELE 2").starts_with("+OK"));
    let view = host.view("bob");
    assert!(view.messages[1].marked && !view.messages[0].marked);
    let gone = view.messages[1].uid.clone();
    assert!(say(&mut host, conn, "QUIT").starts_with("+OK"));
    let view = host.view("bob");
    assert_eq!(view.last_update.len(), 1);
    assert_eq!(view.last_update[0].uid, gone);
    assert_eq!(view.messages.len(), SAMPLES);
    host.close(conn);
    host.reset("bob").unwrap();
    let view = host.view("bob");
    assert_eq!(view.messages.len(), SAMPLES);
    assert_eq!(view.messages[1].uid, gone, "the samples are back");
    assert!(view.last_update.is_empty());
}

#[test]
fn bare_lf_turns_every_crlf_into_lf() {
    let mut host = Host::new(1);
    host.set_faults(
        Target::Next,
        Faults {
            bare_lf: true,
            ..Faults::default()
        },
    )
    .unwrap();
    let conn = host.connect();
    let greeting = drain(&mut host, conn);
    assert!(greeting.ends_with(b">\n") && !greeting.contains(&b'\r'));
    say(&mut host, conn, "USER alice");
    say(&mut host, conn, "PASS pop3");
    let retr = say(&mut host, conn, "RETR 7");
    assert!(retr.len() > 1_000_000 && !retr.contains('\r') && retr.ends_with("\n.\n"));
    // Only the next connection had it.
    let other = host.connect();
    assert!(drain(&mut host, other).ends_with(b"\r\n"));
}

/// A CR at the end of one chunk is held until the next shows an LF (a chunk boundary inside
/// CRLF still gives one LF).
#[test]
fn bare_lf_across_chunk_boundaries() {
    let mut host = Host::new(1);
    host.set_faults(
        Target::All,
        Faults {
            bare_lf: true,
            ..Faults::default()
        },
    )
    .unwrap();
    let conn = host.connect();
    drain(&mut host, conn);
    assert_eq!(host.bare_lf_for_test(conn, b"a\r"), b"a");
    assert_eq!(host.bare_lf_for_test(conn, b"\nb\r"), b"\nb");
    assert_eq!(host.bare_lf_for_test(conn, b"c"), b"\rc");
}

#[test]
fn long_line_pads_the_next_reply_once() {
    let mut host = Host::new(1);
    let conn = host.connect();
    drain(&mut host, conn);
    host.set_faults(
        Target::Conn(conn),
        Faults {
            long_line: true,
            ..Faults::default()
        },
    )
    .unwrap();
    let reply = say(&mut host, conn, "CAPA");
    let first = reply.split_inclusive("\r\n").next().unwrap();
    assert_eq!(first.len(), LONG_LINE);
    assert!(first.starts_with("+OK capability list follows (simulated fault"));
    assert!(reply.ends_with("\r\n.\r\n"), "the body is untouched");
    assert!(!host.faults(conn).unwrap().long_line, "fired once");
    assert!(say(&mut host, conn, "NOOP").len() < 100);
    // The client's own cap refuses it.
    let mut host = Host::new(1);
    host.set_faults(
        Target::Next,
        Faults {
            long_line: true,
            ..Faults::default()
        },
    )
    .unwrap();
    let w = Wire::new(&mut host);
    assert!(w.client.greeting().is_none());
    assert!(
        w.events.iter().any(|e| matches!(e, Event::Closed)),
        "{:?}",
        w.events
    );
}

#[test]
fn err_greeting_then_close() {
    let mut host = Host::new(1);
    host.set_faults(
        Target::Next,
        Faults {
            err_greeting: true,
            ..Faults::default()
        },
    )
    .unwrap();
    let conn = host.connect();
    assert_eq!(host.closed(conn), None, "not before the -ERR is taken");
    let bytes = drain(&mut host, conn);
    assert!(bytes.starts_with(b"-ERR ") && bytes.ends_with(b"\r\n"));
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
    assert_eq!(host.closed(conn), Some("fault"));
    host.feed(conn, b"USER alice\r\n").unwrap();
    assert_eq!(host.transmit(conn), None);
}

#[test]
fn sys_temp_answers_the_next_command_in_order() {
    let mut host = Host::new(1);
    let conn = login(&mut host, "alice");
    host.set_faults(
        Target::Conn(conn),
        Faults {
            sys_temp: true,
            ..Faults::default()
        },
    )
    .unwrap();
    // Pipelined: the fault takes STAT; NOOP gets its own reply after it.
    host.feed(conn, b"STAT\r\nNOOP\r\n").unwrap();
    let replies = String::from_utf8(drain(&mut host, conn)).unwrap();
    let lines: Vec<&str> = replies.split_inclusive("\r\n").collect();
    assert_eq!(lines.len(), 2, "{replies}");
    assert!(lines[0].starts_with("-ERR [SYS/TEMP] "));
    assert!(lines[1].starts_with("+OK still here"));
    assert!(
        say(&mut host, conn, "STAT").starts_with(&format!("+OK {SAMPLES} ")),
        "once"
    );
}

#[test]
fn drop_in_the_middle_of_retr() {
    let mut host = Host::new(1);
    let conn = login(&mut host, "alice");
    host.set_faults(
        Target::Conn(conn),
        Faults {
            drop_retr_after: Some(300_000),
            ..Faults::default()
        },
    )
    .unwrap();
    // A reply shorter than the cut (and a command that is not RETR) leaves it armed.
    assert!(say(&mut host, conn, "RETR 1").ends_with("\r\n.\r\n"));
    assert!(say(&mut host, conn, "DELE 1").starts_with("+OK"));
    let cut = say(&mut host, conn, "RETR 7");
    assert_eq!(cut.len(), 300_000);
    assert!(cut.starts_with("+OK 1029004 octets\r\n"));
    assert_eq!(host.closed(conn), Some("fault"));
    let view = host.view("alice");
    assert_eq!(view.locked_by, None, "the lock is released");
    assert_eq!(view.messages.len(), SAMPLES, "nothing deleted");
}

/// The slow link is only kept (the worker applies it); it comes with the connection.
#[test]
fn slow_link_settings_follow_all_later_connections() {
    let mut host = Host::new(1);
    let slow = Faults {
        latency_ms: 200,
        bandwidth: Some(14_400),
        ..Faults::default()
    };
    host.set_faults(Target::All, slow.clone()).unwrap();
    let a = host.connect();
    let b = host.connect();
    assert_eq!(host.faults(a), Some(&slow));
    assert_eq!(host.faults(b), Some(&slow));
    assert_eq!(
        host.set_faults(Target::Conn(99), Faults::default()),
        Err(HostError::NoConnection(99))
    );
}

/// Too much unanswered input drops the connection instead of growing without end.
#[test]
fn input_beyond_the_limit_drops_the_connection() {
    let mut host = Host::new(1);
    let conn = login(&mut host, "alice");
    let junk = vec![b'a'; crate::host::INPUT_LIMIT + 1];
    host.feed(conn, &junk).unwrap();
    assert_eq!(host.transmit(conn), None);
    assert_eq!(host.closed(conn), Some("input-limit"));
    assert_eq!(host.view("alice").locked_by, None);
}

/// Two hosts (two page loads) greet with different APOP timestamps.
#[test]
fn the_seed_makes_the_nonces_differ() {
    let mut a = Host::new(1);
    let mut b = Host::new(2);
    let (ca, cb) = (a.connect(), b.connect());
    assert_ne!(drain(&mut a, ca), drain(&mut b, cb));
}

/// `Faults::FIELDS` (what the JS layer accepts) is exactly what serde reads and writes.
#[test]
fn the_js_field_names_are_the_serde_names() {
    let all = Faults {
        drop_retr_after: Some(1),
        bandwidth: Some(1),
        ..Faults::default()
    };
    let json = serde_json::to_value(&all).unwrap();
    let mut names: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut fields = Faults::FIELDS.to_vec();
    names.sort_unstable();
    fields.sort_unstable();
    assert_eq!(names, fields);
}
