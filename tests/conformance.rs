//! The client's RFC conformance (issue 8, section 2): SASL empty responses and long challenges,
//! APOP timestamps, hand-typed SASL exchanges, over-long status lines of multi-line replies,
//! hierarchical response codes, state that must not survive, lenient listings, the memory of raw
//! replies, and the TLS handshake timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

// The same tests run on wasm32 under Node (wasm-bindgen-test-runner).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{crlf, Harness};
use popwire::auth::Mechanism;
use popwire::client::{Reply, SessionState};
use popwire::codec::{
    CommandError, Keyword, LimitError, ListEntry, ProtocolError, ResponseCode, UidlEntry,
};
use popwire::{ClientConfig, CommandHandle, Event, Pop3Error};

fn logged_in_with(config: ClientConfig) -> Harness {
    let mut h = Harness::with_config(config);
    h.server("+OK ready <1.2@host>\n");
    h.client.user("alice").unwrap();
    h.server("+OK\n");
    h.client.pass("pop3").unwrap();
    h.server("+OK logged in\n");
    assert_eq!(h.client.state(), SessionState::Transaction);
    h.take_sent();
    h
}

fn logged_in() -> Harness {
    logged_in_with(ClientConfig::default())
}

// ----- 1. An empty SASL response to a challenge is an empty line ----------------------------------

#[test]
fn empty_sasl_response_to_a_challenge_is_an_empty_line() {
    // AUTH LOGIN with an empty password (RFC 5034 §4: `=` is only for an initial response).
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::Login, "tim", "").unwrap();
    assert_eq!(h.take_sent(), "AUTH LOGIN\r\n");
    h.server("+ VXNlcm5hbWU6\n");
    assert_eq!(h.take_sent(), "dGlt\r\n");
    h.server("+ UGFzc3dvcmQ6\n");
    assert_eq!(
        h.take_sent(),
        "\r\n",
        "an empty response is CRLF alone, not '='"
    );
    h.server("+OK\n");
    h.ok(auth);
    assert_eq!(h.client.state(), SessionState::Transaction);
}

#[test]
fn hand_typed_empty_sasl_response_is_an_empty_line_and_equals_is_refused() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.send_raw("AUTH LOGIN").unwrap();
    h.server("+ VXNlcm5hbWU6\n");
    assert!(matches!(h.ok(auth), Reply::Raw(r) if r.continuation));
    assert_eq!(
        h.client.send_raw("=").unwrap_err(),
        Pop3Error::Input(CommandError::BadBase64),
        "'=' is an empty *initial* response only"
    );
    let empty = h.client.send_raw("").unwrap();
    assert_eq!(h.take_sent(), "AUTH LOGIN\r\n\r\n");
    h.server("-ERR [AUTH] no\n");
    assert!(matches!(h.ok(empty), Reply::Raw(r) if !r.ok));
    let entry = h
        .transcript()
        .into_iter()
        .find(|t| t.explain.key == "sasl.response")
        .unwrap();
    assert_eq!(entry.bytes, b"\r\n");
}

// ----- 2. The APOP timestamp is the msg-id-shaped <…> ----------------------------------------------

#[test]
fn apop_timestamp_is_found_after_other_bracketed_text() {
    let mut h = Harness::greeted("+OK <v5.1 beta> POP3 ready <1896.697170952@dbc.mtview.ca.us>\n");
    assert_eq!(
        h.client.greeting().unwrap().apop_timestamp.as_deref(),
        Some("<1896.697170952@dbc.mtview.ca.us>")
    );
    assert_eq!(h.keys()[0], "greeting.apop");
    h.client.apop("mrose", "tanstaaf").unwrap();
    // RFC 1939 §7's example digest.
    assert_eq!(
        h.take_sent(),
        "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"
    );
}

// ----- 3. A hand-typed SASL exchange holds the queue -------------------------------------------------

#[test]
fn commands_queued_behind_a_hand_typed_auth_wait_for_the_exchange() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.send_raw("AUTH PLAIN").unwrap();
    let capa = h.client.capa().unwrap();
    let raw_capa = h.client.send_raw("CAPA").unwrap();
    assert_eq!(h.take_sent(), "AUTH PLAIN\r\n");
    h.server("+ \n");
    assert!(matches!(h.ok(auth), Reply::Raw(r) if r.continuation));
    assert_eq!(
        h.take_sent(),
        "",
        "CAPA must not go out as the SASL response"
    );
    assert!(h.client.expects_sasl_response());
    // Typed calls are refused while the response is awaited; the queued ones wait.
    assert_eq!(h.client.stat().unwrap_err().kind(), "state");
    let response = h.client.send_raw("AGFsaWNlAHBvcDM=").unwrap();
    assert_eq!(h.take_sent(), "AGFsaWNlAHBvcDM=\r\n");
    assert!(h.result(capa).is_none());
    h.server("+OK welcome\n");
    assert!(matches!(h.ok(response), Reply::Raw(r) if r.ok));
    assert_eq!(h.client.state(), SessionState::Transaction);
    assert_eq!(h.take_sent(), "CAPA\r\n");
    h.server("+OK\nUSER\n.\n");
    assert!(matches!(h.ok(capa), Reply::Capabilities(c) if c.len() == 1));
    assert_eq!(h.take_sent(), "CAPA\r\n");
    h.server("+OK\nUSER\n.\n");
    assert!(matches!(h.ok(raw_capa), Reply::Raw(r) if r.ok && r.line_count() == 1));
}

#[test]
fn a_second_challenge_keeps_holding_the_queue() {
    let mut h = Harness::greeted("+OK\n");
    h.client.send_raw("AUTH LOGIN").unwrap();
    let capa = h.client.capa().unwrap();
    h.server("+ VXNlcm5hbWU6\n");
    h.client.send_raw("dGlt").unwrap();
    assert_eq!(h.take_sent(), "AUTH LOGIN\r\ndGlt\r\n");
    h.server("+ UGFzc3dvcmQ6\n");
    assert_eq!(h.take_sent(), "", "still in the exchange");
    h.client.send_raw("*").unwrap();
    assert_eq!(h.take_sent(), "*\r\n");
    h.server("-ERR cancelled\n");
    assert_eq!(h.take_sent(), "CAPA\r\n");
    h.server("+OK\n.\n");
    h.ok(capa);
}

// ----- 4. Over-long status lines and long SASL challenges -------------------------------------------

/// The replies a well-behaved server gives to the other commands of a run.
const OTHERS: [(&str, &str); 3] = [
    ("STAT", "+OK 2 320\r\n"),
    ("NOOP", "+OK noop done\r\n"),
    ("LIST 1", "+OK 1 120\r\n"),
];

/// Multi-line commands whose status line will be over-long.
const LONG: [&str; 4] = ["RETR 1", "LIST", "UIDL", "TOP 1 0"];

/// A body whose lines look like the replies the next commands wait for.
const DECOY_BODY: &str = "+OK 9 9\r\n-ERR fake\r\n+OK\r\n+OK 7 777\r\n..\r\n.\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Every command queued before any reply arrives.
    Upfront,
    /// Each command queued once the one before it completed (a person clicking in turn).
    InTurn,
    /// The first queued up front, the rest once the first reply chunk has arrived.
    AfterFirstChunk,
}

fn queue(h: &mut Harness, line: &str) -> CommandHandle {
    match line {
        "STAT" => h.client.stat().unwrap(),
        "NOOP" => h.client.command(popwire::codec::Command::Noop).unwrap(),
        "LIST 1" => h.client.list(Some(1)).unwrap(),
        "RETR 1" => h.client.retr(1).unwrap(),
        "LIST" => h.client.list(None).unwrap(),
        "UIDL" => h.client.uidl(None).unwrap(),
        "TOP 1 0" => h.client.top(1, 0).unwrap(),
        other => panic!("{other}"),
    }
}

/// One run: three commands, the one at `long_at` answered by an over-long `+OK` and a decoy
/// body. A simulated server answers a command only once it has received it, in chunks of
/// `chunk` octets. Returns the harness and the handles in command order.
fn long_status_run(
    pipelining: bool,
    long: &str,
    long_at: usize,
    chunk: usize,
    timing: Timing,
) -> (Harness, Vec<CommandHandle>) {
    let mut h = logged_in_with(ClientConfig {
        pipelining,
        ..ClientConfig::default()
    });
    if pipelining {
        let capa = h.client.capa().unwrap();
        h.server("+OK\nPIPELINING\n.\n");
        h.ok(capa);
        h.take_sent();
    }
    let mut others = OTHERS.iter();
    let mut commands = Vec::new();
    let mut replies = Vec::new();
    for i in 0..3 {
        if i == long_at {
            commands.push(long);
            let mut reply = format!("+OK {}\r\n", "x".repeat(600)).into_bytes();
            reply.extend_from_slice(DECOY_BODY.as_bytes());
            replies.push(reply);
        } else {
            let (command, reply) = others.next().unwrap();
            commands.push(command);
            replies.push(reply.as_bytes().to_vec());
        }
    }
    let mut handles = Vec::new();
    let upfront = match timing {
        Timing::Upfront => 3,
        Timing::InTurn | Timing::AfterFirstChunk => 1,
    };
    while handles.len() < upfront {
        let line = commands[handles.len()];
        handles.push(queue(&mut h, line));
    }
    let wire: Vec<u8> = replies.concat();
    let ends: Vec<usize> = replies
        .iter()
        .scan(0, |end, r| {
            *end += r.len();
            Some(*end)
        })
        .collect();
    let mut fed = 0;
    let mut received = 0; // commands the server has read
    let mut chunks = 0;
    for _ in 0..100_000 {
        received += h.take_sent().matches("\r\n").count();
        if handles.len() < 3 {
            let due = match timing {
                Timing::Upfront => false,
                Timing::InTurn => h.result(*handles.last().unwrap()).is_some(),
                Timing::AfterFirstChunk => chunks > 0,
            };
            if due {
                let line = commands[handles.len()];
                handles.push(queue(&mut h, line));
                continue;
            }
        }
        // The server answers only what it has read.
        let available = match received.min(3) {
            0 => 0,
            n => ends[n - 1],
        };
        if fed < available {
            let end = (fed + chunk).min(available);
            h.feed(&wire[fed..end]);
            fed = end;
            chunks += 1;
            continue;
        }
        break; // done, or stuck: the caller's asserts say which
    }
    (h, handles)
}

#[test]
fn the_body_after_an_overlong_status_line_never_completes_another_command() {
    let mut runs = 0;
    for pipelining in [false, true] {
        for long in LONG {
            for long_at in 0..3 {
                for chunk in [1, 7, 64, 511, 512, 513, 600, 10_000] {
                    for timing in [Timing::Upfront, Timing::InTurn, Timing::AfterFirstChunk] {
                        let case = format!("{long} at {long_at}, chunk {chunk}, {timing:?}, pipelining {pipelining}");
                        let (h, handles) =
                            long_status_run(pipelining, long, long_at, chunk, timing);
                        assert_eq!(handles.len(), 3, "{case}");
                        let mut others = OTHERS.iter();
                        for (i, handle) in handles.iter().enumerate() {
                            if i == long_at {
                                assert_eq!(
                                    h.result(*handle),
                                    Some(&Err(Pop3Error::Limit(LimitError::LineTooLong {
                                        limit: 512
                                    }))),
                                    "{case}"
                                );
                                continue;
                            }
                            let (command, _) = others.next().unwrap();
                            let result = h.result(*handle);
                            let right = match *command {
                                "STAT" => {
                                    matches!(result, Some(Ok(Reply::Stat(s))) if s.count == 2 && s.size == 320)
                                }
                                "NOOP" => {
                                    matches!(result, Some(Ok(Reply::Status(s))) if s.text == "noop done")
                                }
                                _ => {
                                    matches!(result, Some(Ok(Reply::ListOne(e))) if e.id == 1 && e.size == 120)
                                }
                            };
                            assert!(right, "{case}: {command} got {result:?}");
                        }
                        assert_eq!(h.client.state(), SessionState::Transaction, "{case}");
                        assert!(
                            !h.keys().contains(&"warn.unsolicited"),
                            "{case}: the body was read as replies"
                        );
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 2 * 4 * 3 * 8 * 3);
}

#[test]
fn an_overlong_err_fails_only_its_command_and_garbage_closes_the_session() {
    // -ERR: no body follows, the next reply is the next command's.
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    let stat = h.client.stat().unwrap();
    h.feed(format!("-ERR {}\r\n", "e".repeat(600)).as_bytes());
    assert!(matches!(h.err(retr), Pop3Error::Limit(_)));
    h.server("+OK 2 320\n");
    assert!(matches!(h.ok(stat), Reply::Stat(s) if s.count == 2));

    // Neither +OK nor -ERR on a multi-line command: whether a body follows is unknowable.
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    let stat = h.client.stat().unwrap();
    h.feed(format!("{}\r\n+OK 9 9\r\n", "?".repeat(600)).as_bytes());
    assert!(matches!(h.err(retr), Pop3Error::Limit(_)));
    assert!(matches!(h.err(stat), Pop3Error::Limit(_)));
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn long_sasl_challenges_are_accepted_long_status_lines_are_not() {
    // RFC 5034 §4: `+` lines are exempt from the 512-octet limit.
    let challenge = popwire::auth::encode_base64(format!("<{}@host>", "9".repeat(3000)).as_bytes());
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::CramMd5, "tim", "secret").unwrap();
    assert_eq!(h.take_sent(), "AUTH CRAM-MD5\r\n");
    h.server(&format!("+ {challenge}\n"));
    let response = h.take_sent();
    assert!(response.len() > 10 && response != "*\r\n", "{response}");
    h.server("+OK\n");
    h.ok(auth);

    // Hand-typed: the challenge reaches the student.
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.send_raw("AUTH CRAM-MD5").unwrap();
    h.server(&format!("+ {challenge}\n"));
    assert!(matches!(h.ok(auth), Reply::Raw(r) if r.continuation && r.text.len() > 3000));

    // A status line in the exchange still has the 512-octet cap.
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::CramMd5, "tim", "secret").unwrap();
    h.server(&format!("-ERR {}\n", "n".repeat(600)));
    assert_eq!(
        h.err(auth),
        &Pop3Error::Limit(LimitError::LineTooLong { limit: 512 })
    );

    // Beyond the SASL cap the exchange is cancelled; its -ERR ends the AUTH.
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::CramMd5, "tim", "secret").unwrap();
    h.take_sent();
    let huge = "A".repeat(popwire::codec::MAX_SASL_CHALLENGE_LINE);
    h.server(&format!("+ {huge}\n"));
    assert_eq!(h.take_sent(), "*\r\n");
    h.server("-ERR cancelled\n");
    assert!(matches!(h.err(auth), Pop3Error::Limit(_)));
    assert_eq!(h.client.state(), SessionState::Authorization);
}

// ----- 5. A hand-typed SASL response names the control character it holds -------------------------

#[test]
fn sasl_response_control_characters_are_named() {
    let mut h = Harness::greeted("+OK\n");
    h.client.send_raw("AUTH PLAIN").unwrap();
    h.server("+ \n");
    for (line, name) in [
        ("dG\tlt", "TAB"),
        ("\0", "NUL"),
        ("a\rb", "CR"),
        ("a\nb", "LF"),
    ] {
        let err = h.client.check(line).unwrap_err();
        assert!(
            matches!(&err, Pop3Error::Input(CommandError::ControlCharacter { name: n, .. }) if n == name),
            "{line:?}: {err:?}"
        );
        assert_eq!(h.client.send_raw(line).unwrap_err(), err);
    }
    assert_eq!(h.take_sent(), "AUTH PLAIN\r\n", "nothing refused was sent");
}

// ----- 6. Hierarchical response codes ---------------------------------------------------------------

#[test]
fn hierarchical_codes_are_explained_by_their_known_parent() {
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    h.server("-ERR [SYS/TEMP/QUOTA] over quota\n");
    let err = h.err(retr);
    let code = err.code().unwrap();
    assert_eq!(code.as_str(), "SYS/TEMP/QUOTA");
    assert_eq!(code.meaning(), &ResponseCode::SysTemp);
    assert_eq!(err.explain().key, "code.SYS/TEMP");
    assert_eq!(h.transcript().last().unwrap().explain.key, "code.SYS/TEMP");
    assert!(err.to_string().contains("[SYS/TEMP/QUOTA]"), "{err}");
}

// ----- 7. State that must not survive ---------------------------------------------------------------

#[test]
fn pass_must_follow_user_immediately() {
    let mut h = Harness::greeted("+OK\n");
    h.client.user("alice").unwrap();
    h.server("+OK\n");
    assert!(h.client.allowed_commands().contains(&Keyword::Pass));
    let capa = h.client.capa().unwrap();
    h.server("+OK\nUSER\n.\n");
    h.ok(capa);
    assert!(!h.client.allowed_commands().contains(&Keyword::Pass));
    let err = h.client.pass("pop3").unwrap_err();
    assert_eq!(err.kind(), "state");

    // UTF8 between USER and PASS, pipelined: USER's +OK arrives with UTF8 already sent.
    let mut h = Harness::greeted("+OK\n");
    let capa = h.client.capa().unwrap();
    h.server("+OK\nPIPELINING\nUTF8\n.\n");
    h.ok(capa);
    h.take_sent();
    h.client.user("alice").unwrap();
    h.client.command(popwire::codec::Command::Utf8).unwrap();
    assert_eq!(h.take_sent(), "USER alice\r\n");
    h.server("+OK\n");
    assert_eq!(h.take_sent(), "UTF8\r\n");
    h.server("+OK\n");
    assert_eq!(h.client.pass("pop3").unwrap_err().kind(), "state");
    // A hand-typed PASS still goes out, so the server's -ERR can be seen.
    h.client.send_raw("PASS pop3").unwrap();
    assert_eq!(h.take_sent(), "PASS pop3\r\n");
}

#[test]
fn stls_forgets_utf8_and_user() {
    let mut h = Harness::greeted("+OK\n");
    let utf8 = h.client.command(popwire::codec::Command::Utf8).unwrap();
    h.server("+OK\n");
    h.ok(utf8);
    assert!(h.client.is_utf8());
    h.client.user("alice").unwrap();
    h.server("+OK\n");
    h.client.stls().unwrap();
    h.server("+OK begin TLS\n");
    h.client.tls_established(h.now, "TLSv1.3");
    assert!(
        !h.client.is_utf8(),
        "RFC 2595 §4: UTF8 must be re-established"
    );
    assert!(!h.client.allowed_commands().contains(&Keyword::Pass));
    assert_eq!(h.client.pass("pop3").unwrap_err().kind(), "state");
    assert_eq!(
        h.client.user("علی").unwrap_err(),
        Pop3Error::Input(CommandError::NonAscii)
    );
    assert!(h.client.allowed_commands().contains(&Keyword::Utf8));
}

// ----- 8. Lenient listings, checked single listings -------------------------------------------------

#[test]
fn one_bad_listing_line_keeps_the_others_and_is_reported() {
    let mut h = logged_in();
    let list = h.client.list(None).unwrap();
    h.server("+OK\n1 100\n2 many\n3 300\n.\n");
    assert_eq!(
        h.ok(list),
        &Reply::List(vec![
            ListEntry { id: 1, size: 100 },
            ListEntry { id: 3, size: 300 }
        ])
    );
    let warnings: Vec<_> = h
        .transcript()
        .into_iter()
        .filter(|t| t.explain.key == "warn.bad-listing")
        .map(|t| t.text.clone())
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("line 2") && warnings[0].contains("many"),
        "{warnings:?}"
    );

    let uidl = h.client.uidl(None).unwrap();
    h.server(&format!("+OK\n1 abc\n2 {}\n3 def\n.\n", "z".repeat(71)));
    assert_eq!(
        h.ok(uidl),
        &Reply::Uidl(vec![
            UidlEntry {
                id: 1,
                uid: "abc".into()
            },
            UidlEntry {
                id: 3,
                uid: "def".into()
            }
        ])
    );
}

#[test]
fn many_bad_listing_lines_are_reported_in_bounded_entries() {
    let mut h = logged_in();
    let list = h.client.list(None).unwrap();
    let mut wire = String::from("+OK\n");
    for i in 0..1000 {
        wire.push_str(&format!("{i} x\n"));
    }
    wire.push_str("7 70\n.\n");
    let before = h.transcript().len();
    h.server(&wire);
    assert_eq!(
        h.ok(list),
        &Reply::List(vec![ListEntry { id: 7, size: 70 }])
    );
    let warnings: Vec<_> = h.transcript()[before..]
        .iter()
        .filter(|t| t.explain.key == "warn.bad-listing")
        .map(|t| t.text.clone())
        .collect();
    assert_eq!(warnings.len(), 6, "five one by one, then a count");
    assert!(warnings[5].contains("995 more"), "{}", warnings[5]);
}

#[test]
fn list_n_and_uidl_n_must_answer_about_message_n() {
    let mut h = logged_in();
    let list = h.client.list(Some(2)).unwrap();
    h.server("+OK 3 300\n");
    assert_eq!(
        h.err(list),
        &Pop3Error::Protocol(ProtocolError::WrongMessageNumber { asked: 2, got: 3 })
    );
    let uidl = h.client.uidl(Some(2)).unwrap();
    h.server("+OK 1 abc\n");
    assert_eq!(
        h.err(uidl),
        &Pop3Error::Protocol(ProtocolError::WrongMessageNumber { asked: 2, got: 1 })
    );
    assert_eq!(h.err(uidl).explain().key, "error.protocol");
    let list = h.client.list(Some(2)).unwrap();
    h.server("+OK 2 200\n");
    assert!(matches!(h.ok(list), Reply::ListOne(e) if e.id == 2 && e.size == 200));
}

// ----- 9. Raw replies cost their octets, not a String per line --------------------------------------

#[test]
fn raw_reply_memory_is_bounded_by_the_body_not_the_line_count() {
    // 1 Mi empty lines: 2 MiB on the wire. One String per line held 24 MiB of String headers
    // alone (32 Mi lines in a 64 MiB body: 768 MiB); one buffer holds the 2 MiB.
    const LINES: usize = 1 << 20;
    let mut h = logged_in();
    let raw = h.client.send_raw("LIST").unwrap();
    let mut wire = b"+OK\r\n".to_vec();
    wire.extend_from_slice(&b"\r\n".repeat(LINES));
    wire.extend_from_slice(b".\r\n");
    h.feed(&wire);
    let Reply::Raw(reply) = h.ok(raw) else {
        panic!()
    };
    assert_eq!(reply.line_count(), LINES);
    assert_eq!(reply.body.len(), 2 * LINES);
    let held = std::mem::size_of_val(reply) + reply.body.capacity() + reply.text.capacity();
    assert!(
        held <= 2 * LINES + 2 * LINES / 4 + 1024,
        "{held} octets held for {} on the wire",
        wire.len()
    );
}

#[test]
fn raw_replies_still_serialise_their_lines() {
    let mut h = logged_in();
    let raw = h.client.send_raw("LIST").unwrap();
    h.server("+OK 2 messages\n1 120\n2 200\n.\n");
    let Reply::Raw(reply) = h.ok(raw) else {
        panic!()
    };
    let json = serde_json::to_value(reply).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "ok": true, "continuation": false, "text": "2 messages", "code": null,
            "lines": ["1 120", "2 200"],
            "parsed": { "kind": "list", "value": [{ "id": 1, "size": 120 }, { "id": 2, "size": 200 }] }
        })
    );
}

// ----- 10. The TLS handshake has a deadline ---------------------------------------------------------

#[test]
fn tls_handshake_after_stls_times_out() {
    let mut h = Harness::with_config(ClientConfig {
        tls_timeout_ms: 500,
        ..ClientConfig::default()
    });
    h.server("+OK\n");
    let stls = h.client.stls().unwrap();
    let user = h.client.user("alice").unwrap();
    h.server("+OK begin TLS\n");
    h.ok(stls);
    assert!(h.events.iter().any(|e| matches!(e, Event::StartTls)));
    let deadline = h.client.poll_timeout().expect("the handshake is awaited");
    assert_eq!(deadline, h.now + 500);
    // Bytes arriving before TLS are discarded and do not push the deadline out.
    h.feed(&crlf("+OK injected\n"));
    assert_eq!(h.client.poll_timeout(), Some(deadline));
    h.client.handle_timeout(deadline - 1);
    h.pump();
    assert!(h.result(user).is_none());
    h.client.handle_timeout(deadline);
    h.pump();
    assert_eq!(h.err(user), &Pop3Error::TlsTimeout { after_ms: 500 });
    assert_eq!(h.err(user).kind(), "timeout");
    assert_eq!(h.client.state(), SessionState::Closed);
    assert_eq!(
        h.client.closed_by(),
        Some(&Pop3Error::TlsTimeout { after_ms: 500 })
    );

    // In time: the reply timeout takes over again.
    let mut h = Harness::greeted("+OK\n");
    h.client.stls().unwrap();
    h.server("+OK\n");
    assert!(h.client.poll_timeout().is_some());
    h.client.tls_established(h.now + 10, "TLSv1.3");
    assert_eq!(h.client.poll_timeout(), None, "idle after TLS");
}
