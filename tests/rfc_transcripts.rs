//! RFC example exchanges replayed as `C:`/`S:` transcripts, raw and typed, whole and split at
//! every possible chunk boundary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

// The same tests run on wasm32 under Node (wasm-bindgen-test-runner).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{crlf, Harness};
use popwire::auth::Mechanism;
use popwire::client::{RawReply, Reply, SessionState};
use popwire::codec::{check_line, Capability, ListEntry, Stat, UidlEntry};
use popwire::{Client, ClientConfig, Event};

/// RFC 1939 §10, the example POP3 session (message bodies filled in).
const RFC1939_SESSION: &str = "\
S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>
C: APOP mrose c4c9334bac560ecc979e58001b3e22fb
S: +OK mrose's maildrop has 2 messages (320 octets)
C: STAT
S: +OK 2 320
C: LIST
S: +OK 2 messages (320 octets)
S: 1 120
S: 2 200
S: .
C: RETR 1
S: +OK 120 octets
S: Subject: one
S: 
S: ..a line that starts with a dot
S: .
C: DELE 1
S: +OK message 1 deleted
C: RETR 2
S: +OK 200 octets
S: Subject: two
S: 
S: body
S: .
C: DELE 2
S: +OK message 2 deleted
C: QUIT
S: +OK dewey POP3 server signing off (maildrop empty)
";

/// RFC 1939 §5–§7: the per-command examples, including the -ERR ones.
const RFC1939_COMMANDS: &str = "\
S: +OK POP3 server ready
C: USER frated
S: -ERR sorry, no mailbox for frated here
C: USER mrose
S: +OK mrose is a real hoopy frood
C: PASS secret
S: -ERR maildrop already locked
C: USER mrose
S: +OK mrose is a real hoopy frood
C: PASS secret
S: +OK mrose's maildrop has 2 messages (320 octets)
C: LIST 2
S: +OK 2 200
C: LIST 3
S: -ERR no such message, only 2 messages in maildrop
C: DELE 1
S: +OK message 1 deleted
C: DELE 2
S: -ERR message 2 already deleted
C: RSET
S: +OK maildrop has 2 messages (320 octets)
C: NOOP
S: +OK
C: TOP 1 10
S: +OK
S: Subject: one
S: 
S: first line
S: .
C: TOP 100 3
S: -ERR no such message
C: UIDL
S: +OK
S: 1 whqtswO00WBw418f9t5JxYwZ
S: 2 QhdPYR:00WBw1Ph7x7
S: .
C: UIDL 2
S: +OK 2 QhdPYR:00WBw1Ph7x7
C: UIDL 3
S: -ERR no such message, only 2 messages in maildrop
C: QUIT
S: +OK dewey POP3 server signing off
";

/// RFC 2449 §5, the CAPA example, and §8 response codes.
const RFC2449_CAPA: &str = "\
S: +OK POP3 server ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: USER
S: SASL CRAM-MD5 KERBEROS_V4
S: RESP-CODES
S: LOGIN-DELAY 900
S: PIPELINING
S: EXPIRE 60
S: UIDL
S: IMPLEMENTATION Shlemazle-Plotz-v302
S: .
C: USER mrose
S: +OK
C: PASS tanstaaf
S: -ERR [IN-USE] Do you have another POP session running?
C: QUIT
S: +OK
";

/// RFC 5034 §6 style AUTH PLAIN without initial response, then RFC 2195 CRAM-MD5.
const RFC5034_AUTH: &str = "\
S: +OK POP3 server ready <1896.697170952@postoffice.reston.mci.net>
C: AUTH PLAIN
S: +
C: dGVzdAB0ZXN0AHRlc3Q=
S: -ERR [AUTH] authentication failed
C: AUTH CRAM-MD5
S: + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
S: +OK CRAM authentication successful
C: QUIT
S: +OK
";

enum Step {
    Client(String),
    Server(String),
}

fn parse(script: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for line in script.lines() {
        if let Some(c) = line.strip_prefix("C: ") {
            steps.push(Step::Client(c.to_owned()));
        } else if let Some(s) = line.strip_prefix("S: ") {
            match steps.last_mut() {
                Some(Step::Server(text)) => {
                    text.push_str(s);
                    text.push('\n');
                }
                _ => steps.push(Step::Server(format!("{s}\n"))),
            }
        } else {
            panic!("bad script line {line:?}");
        }
    }
    steps
}

/// Replays step by step: each C: line is sent with `send_raw` and must go out byte for byte.
fn replay_raw(script: &str) -> Harness {
    let mut h = Harness::new();
    let mut handles = Vec::new();
    for step in parse(script) {
        match step {
            Step::Client(line) => {
                handles.push(h.client.send_raw(&line).unwrap());
                assert_eq!(h.take_sent(), format!("{line}\r\n"));
            }
            Step::Server(text) => h.server(&text),
        }
    }
    for handle in handles {
        assert!(
            matches!(h.result(handle), Some(Ok(Reply::Raw(_)))),
            "{handle:?}: {:?}",
            h.result(handle)
        );
    }
    h
}

/// Replays the script, each C: line sent with `send_raw` as its turn comes, each server reply
/// fed whole — except reply number `split.0`, fed in two chunks cut at `split.1`.
fn split_run(script: &str, split: Option<(usize, usize)>) -> (String, Vec<RawReply>) {
    let mut h = Harness::new();
    let mut handles = Vec::new();
    let mut reply_no = 0;
    for step in parse(script) {
        match step {
            Step::Client(line) => handles.push(h.client.send_raw(&line).unwrap()),
            Step::Server(text) => {
                let reply = crlf(&text);
                match split {
                    Some((which, cut)) if which == reply_no => {
                        h.feed(&reply[..cut]);
                        h.feed(&reply[cut..]);
                    }
                    _ => h.feed(&reply),
                }
                reply_no += 1;
            }
        }
    }
    let results = handles
        .iter()
        .map(|&handle| match h.result(handle) {
            Some(Ok(Reply::Raw(raw))) => raw.clone(),
            other => panic!("split {split:?}: {handle:?} -> {other:?}"),
        })
        .collect();
    (h.take_sent(), results)
}

/// The whole server stream one octet at a time, transmitting between octets.
fn octet_run(script: &str) -> Vec<RawReply> {
    let mut h = Harness::new();
    let mut handles = Vec::new();
    for step in parse(script) {
        match step {
            Step::Client(line) => handles.push(h.client.send_raw(&line).unwrap()),
            Step::Server(text) => {
                for b in crlf(&text) {
                    h.feed(&[b]);
                }
            }
        }
    }
    handles
        .iter()
        .map(|&handle| match h.result(handle) {
            Some(Ok(Reply::Raw(raw))) => raw.clone(),
            other => panic!("{handle:?} -> {other:?}"),
        })
        .collect()
}

fn client_lines(script: &str) -> String {
    parse(script)
        .into_iter()
        .filter_map(|s| match s {
            Step::Client(line) => Some(format!("{line}\r\n")),
            Step::Server(_) => None,
        })
        .collect()
}

#[test]
fn rfc1939_session_replays_raw() {
    let h = replay_raw(RFC1939_SESSION);
    assert_eq!(
        h.states(),
        vec![
            SessionState::Authorization,
            SessionState::Transaction,
            SessionState::Update,
            SessionState::Closed
        ]
    );
    let keys = h.keys();
    assert_eq!(keys[0], "greeting.apop");
    assert!(
        keys.contains(&"body.RETR")
            && keys.contains(&"reply.DELE.ok")
            && keys.contains(&"cmd.QUIT")
    );
}

#[test]
fn rfc1939_session_replays_typed_with_computed_apop_digest() {
    let mut h = Harness::new();
    let steps = parse(RFC1939_SESSION);
    let mut handles = Vec::new();
    for step in steps {
        match step {
            Step::Client(line) => {
                let handle = if line.starts_with("APOP") {
                    h.client.apop("mrose", "tanstaaf").unwrap()
                } else {
                    h.client
                        .command(check_line(&line, false).unwrap().command)
                        .unwrap()
                };
                handles.push(handle);
                assert_eq!(h.take_sent(), format!("{line}\r\n"));
            }
            Step::Server(text) => h.server(&text),
        }
    }
    assert_eq!(
        h.ok(handles[1]),
        &Reply::Stat(Stat {
            count: 2,
            size: 320
        })
    );
    assert_eq!(
        h.ok(handles[2]),
        &Reply::List(vec![
            ListEntry { id: 1, size: 120 },
            ListEntry { id: 2, size: 200 }
        ])
    );
    assert_eq!(
        h.ok(handles[3]),
        &Reply::Message(b"Subject: one\r\n\r\n.a line that starts with a dot\r\n".to_vec())
    );
    assert_eq!(
        h.ok(handles[5]),
        &Reply::Message(b"Subject: two\r\n\r\nbody\r\n".to_vec())
    );
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn rfc1939_command_examples_raw_and_typed_errors() {
    let h = replay_raw(RFC1939_COMMANDS);
    let transcript = h.transcript();
    // -ERR replies are replies for raw commands; the transcript still explains them as errors.
    assert!(transcript.iter().any(|t| t.explain.key == "reply.USER.err"));
    assert!(transcript.iter().any(|t| t.explain.key == "reply.LIST.err"));
    // PASS is masked in text, exact in bytes.
    let pass = transcript
        .iter()
        .find(|t| t.explain.key == "cmd.PASS")
        .unwrap();
    assert!(pass.masked && pass.text == "PASS ••••••" && pass.bytes == b"PASS secret\r\n");

    // The same exchange with typed commands: -ERR becomes a Server error, UIDL/LIST parse.
    let mut h = Harness::greeted("+OK POP3 server ready\n");
    let user = h.client.user("frated").unwrap();
    h.server("-ERR sorry, no mailbox for frated here\n");
    assert_eq!(h.err(user).kind(), "server");
    let user = h.client.user("mrose").unwrap();
    h.server("+OK mrose is a real hoopy frood\n");
    assert!(matches!(h.ok(user), Reply::Status(s) if s.text == "mrose is a real hoopy frood"));
    let pass = h.client.pass("secret").unwrap();
    h.server("+OK mrose's maildrop has 2 messages (320 octets)\n");
    h.ok(pass);
    let list2 = h.client.list(Some(2)).unwrap();
    h.server("+OK 2 200\n");
    assert_eq!(h.ok(list2), &Reply::ListOne(ListEntry { id: 2, size: 200 }));
    let uidl = h.client.uidl(None).unwrap();
    h.server("+OK\n1 whqtswO00WBw418f9t5JxYwZ\n2 QhdPYR:00WBw1Ph7x7\n.\n");
    assert_eq!(
        h.ok(uidl),
        &Reply::Uidl(vec![
            UidlEntry {
                id: 1,
                uid: "whqtswO00WBw418f9t5JxYwZ".into()
            },
            UidlEntry {
                id: 2,
                uid: "QhdPYR:00WBw1Ph7x7".into()
            },
        ])
    );
    let dele = h.client.dele(2).unwrap();
    h.server("-ERR message 2 already deleted\n");
    assert_eq!(
        h.err(dele).to_string(),
        "the server answered -ERR: message 2 already deleted"
    );
}

#[test]
fn rfc2449_capa_and_response_codes() {
    let mut h = Harness::greeted("+OK POP3 server ready\n");
    let capa = h.client.capa().unwrap();
    let body: String = RFC2449_CAPA
        .lines()
        .skip(2)
        .take(11)
        .map(|l| format!("{}\n", l.strip_prefix("S: ").unwrap()))
        .collect();
    h.server(&body);
    let Reply::Capabilities(caps) = h.ok(capa) else {
        panic!()
    };
    assert_eq!(caps.len(), 9);
    assert_eq!(
        caps[2],
        Capability {
            name: "SASL".into(),
            args: vec!["CRAM-MD5".into(), "KERBEROS_V4".into()]
        }
    );
    assert_eq!(caps[8].args, vec!["Shlemazle-Plotz-v302"]);
    assert!(h.client.is_pipelining());
    assert!(h.keys().contains(&"info.pipelining"));

    let user = h.client.user("mrose").unwrap();
    h.server("+OK\n");
    h.ok(user);
    let pass = h.client.pass("tanstaaf").unwrap();
    h.server("-ERR [IN-USE] Do you have another POP session running?\n");
    let err = h.err(pass);
    assert_eq!(
        (err.kind(), err.code().map(|c| c.as_str())),
        ("server", Some("IN-USE"))
    );
    assert_eq!(h.transcript().last().unwrap().explain.key, "code.IN-USE");
    assert_eq!(h.client.state(), SessionState::Authorization);

    let h = replay_raw(RFC2449_CAPA);
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn rfc5034_auth_by_hand_and_by_the_engine() {
    // By hand: the challenge comes back as a continuation; the next line is the SASL response.
    let h = replay_raw(RFC5034_AUTH);
    let responses: Vec<_> = h
        .transcript()
        .into_iter()
        .filter(|t| t.explain.key == "sasl.response")
        .collect();
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|t| t.masked && t.text == "••••••"));
    assert_eq!(h.client.state(), SessionState::Closed);

    // By the engine: CRAM-MD5 must produce RFC 2195's response exactly.
    let mut h = Harness::greeted("+OK POP3 server ready\n");
    let auth = h
        .client
        .auth(Mechanism::CramMd5, "tim", "tanstaaftanstaaf")
        .unwrap();
    assert_eq!(h.take_sent(), "AUTH CRAM-MD5\r\n");
    h.server("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\n");
    assert_eq!(
        h.take_sent(),
        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
    );
    h.server("+OK CRAM authentication successful\n");
    h.ok(auth);
    assert_eq!(h.client.state(), SessionState::Transaction);
}

#[test]
fn every_reply_survives_every_two_chunk_split() {
    for script in [
        RFC1939_SESSION,
        RFC1939_COMMANDS,
        RFC2449_CAPA,
        RFC5034_AUTH,
    ] {
        let (sent, whole) = split_run(script, None);
        assert_eq!(sent, client_lines(script));
        let replies: Vec<usize> = parse(script)
            .iter()
            .filter_map(|s| match s {
                Step::Server(t) => Some(crlf(t).len()),
                Step::Client(_) => None,
            })
            .collect();
        for (which, len) in replies.into_iter().enumerate() {
            for cut in 0..=len {
                let (sent_split, split) = split_run(script, Some((which, cut)));
                assert_eq!(sent_split, sent, "reply {which} cut {cut}");
                assert_eq!(split, whole, "reply {which} cut {cut}");
            }
        }
        assert_eq!(octet_run(script), whole);
    }
}

/// Multi-line vectors: status line + body, fed to a typed command at every 2- and 3-chunk split.
#[test]
fn multiline_vectors_at_every_three_chunk_split() {
    let vectors: [(&str, Reply); 4] = [
        ("+OK\r\n.\r\n", Reply::List(vec![])),
        (
            "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n",
            Reply::List(vec![
                ListEntry { id: 1, size: 120 },
                ListEntry { id: 2, size: 200 },
            ]),
        ),
        (
            "+OK\r\n..\r\n...\r\n.x\r\n\r\n.\r\n",
            Reply::Message(b".\r\n..\r\nx\r\n\r\n".to_vec()),
        ),
        (
            "+OK\r\nTOP\r\nUSER\r\n.\r\n",
            Reply::Capabilities(vec![
                Capability {
                    name: "TOP".into(),
                    args: vec![],
                },
                Capability {
                    name: "USER".into(),
                    args: vec![],
                },
            ]),
        ),
    ];
    for (i, (wire, expected)) in vectors.iter().enumerate() {
        let wire = wire.as_bytes();
        for a in 0..=wire.len() {
            for b in a..=wire.len() {
                let mut h = Harness::greeted("+OK\n");
                if i == 2 {
                    h.client.send_raw("PASS x").unwrap(); // reach TRANSACTION for RETR
                    h.server("+OK\n");
                }
                let handle = match i {
                    0 | 1 => h.client.send_raw("LIST").unwrap(),
                    2 => h.client.retr(1).unwrap(),
                    _ => h.client.capa().unwrap(),
                };
                let next = h.client.send_raw("NOOP").unwrap();
                h.feed(&wire[..a]);
                h.feed(&wire[a..b]);
                h.feed(&wire[b..]);
                h.feed(b"+OK\r\n"); // the NOOP after it must still match
                match (h.ok(handle), expected) {
                    (Reply::Raw(raw), Reply::List(entries)) => {
                        assert_eq!(raw.line_count(), entries.len(), "vector {i} cuts {a},{b}")
                    }
                    (got, want) => assert_eq!(got, want, "vector {i} cuts {a},{b}"),
                }
                assert!(
                    matches!(h.ok(next), Reply::Raw(r) if r.ok),
                    "vector {i} cuts {a},{b}"
                );
            }
        }
    }
}

#[test]
fn a_client_without_events_drained_keeps_them_in_order() {
    // Nothing is drained until the end: a greeting, a command and its reply, a state change.
    let mut c = Client::new(ClientConfig::default(), 0);
    c.feed(5, b"+OK hi\r\n");
    let user = c.user("a").unwrap();
    let sent = c.poll_transmit(6).unwrap();
    assert_eq!(sent, b"USER a\r\n");
    c.feed(7, b"+OK\r\n");
    let pass = c.pass("b").unwrap();
    assert_eq!(c.poll_transmit(8).unwrap(), b"PASS b\r\n");
    c.feed(9, b"+OK in\r\n");
    let events: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    let summary: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Transcript(t) => format!("{} {} @{}", t.seq, t.explain.key, t.at_ms),
            Event::Greeting(g) => format!("greeting {}", g.text),
            Event::StateChanged(s) => format!("state {s}"),
            Event::Completed { handle, result } => {
                format!("completed {} {}", handle.0, result.is_ok())
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "0 greeting.ok @5",
            "greeting hi",
            "1 state.AUTHORIZATION @5",
            "state AUTHORIZATION",
            "2 cmd.USER @6",
            "3 reply.USER.ok @7",
            format!("completed {} true", user.0).as_str(),
            "4 cmd.PASS @8",
            "5 reply.PASS.ok @9",
            "6 state.TRANSACTION @9",
            "state TRANSACTION",
            format!("completed {} true", pass.0).as_str(),
        ]
    );
}
