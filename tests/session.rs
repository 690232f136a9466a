//! Session behaviour: malformed and hostile replies, limits, timeouts, STLS, pipelining, SASL,
//! masking, progress, and refusal of command injection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

// The same tests run on wasm32 under Node (wasm-bindgen-test-runner).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::Harness;
use popwire::auth::Mechanism;
use popwire::client::{Reply, SessionState};
use popwire::codec::{CommandError, ProtocolError, ResponseCode};
use popwire::{ClientConfig, Event, Pop3Error};

fn logged_in() -> Harness {
    let mut h = Harness::greeted("+OK ready <1.2@host>\n");
    h.client.user("alice").unwrap();
    h.server("+OK\n");
    h.client.pass("pop3").unwrap();
    h.server("+OK logged in\n");
    assert_eq!(h.client.state(), SessionState::Transaction);
    h.take_sent();
    h
}

#[test]
fn typed_arguments_cannot_smuggle_a_second_command() {
    let mut h = Harness::greeted("+OK\n");
    let err = h.client.user("a\r\nDELE 1").unwrap_err();
    assert_eq!(err.kind(), "input");
    assert!(matches!(
        err,
        Pop3Error::Input(CommandError::ControlCharacter { .. })
    ));
    let err = h.client.send_raw("USER a\r\nDELE 1").unwrap_err();
    assert!(matches!(
        err,
        Pop3Error::Input(CommandError::ControlCharacter { .. })
    ));
    assert_eq!(h.take_sent(), "", "nothing may be sent");
    assert_eq!(
        h.client.check("USER a\nDELE 1").unwrap_err().explain().key,
        "input.control"
    );
}

#[test]
fn typed_commands_in_the_wrong_state_are_refused_raw_ones_are_sent() {
    let mut h = Harness::greeted("+OK\n");
    let err = h.client.retr(1).unwrap_err();
    assert_eq!(err.kind(), "state");
    let err = h.client.pass("x").unwrap_err();
    assert!(
        err.to_string()
            .contains("PASS must follow a successful USER"),
        "{err}"
    );
    assert_eq!(h.take_sent(), "");
    // The student's raw RETR goes out so they can see the server's -ERR.
    let raw = h.client.send_raw("RETR 1").unwrap();
    assert_eq!(h.take_sent(), "RETR 1\r\n");
    h.server("-ERR not logged in\n");
    assert!(matches!(h.ok(raw), Reply::Raw(r) if !r.ok && r.text == "not logged in"));
    assert_eq!(h.transcript().last().unwrap().explain.key, "reply.RETR.err");
}

#[test]
fn allowed_commands_follow_the_session() {
    let mut h = Harness::greeted("+OK\n");
    let names = |h: &Harness| {
        h.client
            .allowed_commands()
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
    };
    assert!(!names(&h).contains(&"PASS") && names(&h).contains(&"USER"));
    h.client.user("a").unwrap();
    h.server("+OK\n");
    assert!(names(&h).contains(&"PASS"));
    h.client.pass("b").unwrap();
    h.server("+OK\n");
    assert_eq!(
        names(&h),
        ["STAT", "LIST", "UIDL", "TOP", "RETR", "DELE", "RSET", "NOOP", "CAPA", "LANG", "QUIT"]
    );
}

#[test]
fn malformed_status_line_is_a_protocol_error_and_the_session_goes_on() {
    let mut h = logged_in();
    let stat = h.client.stat().unwrap();
    h.server("HELLO THERE\n");
    assert!(matches!(
        h.err(stat),
        Pop3Error::Protocol(ProtocolError::BadStatus { .. })
    ));
    let noop = h.client.command(popwire::codec::Command::Noop).unwrap();
    h.server("+OK\n");
    h.ok(noop);
}

#[test]
fn garbage_and_non_utf8_bytes_never_panic() {
    let mut h = logged_in();
    let stat = h.client.stat().unwrap();
    h.feed(b"\xff\xfe\x00\x01garbage\r\n");
    assert_eq!(h.err(stat).kind(), "protocol");
    let stat = h.client.stat().unwrap();
    h.feed(b"+OK 1 2 caf\xe9\r\n");
    assert!(matches!(h.ok(stat), Reply::Stat(s) if s.count == 1 && s.size == 2));
    let stat = h.client.stat().unwrap();
    h.server("+OK lots of mail\n");
    assert!(matches!(
        h.err(stat),
        Pop3Error::Protocol(ProtocolError::BadNumber { .. })
    ));
}

#[test]
fn sys_temp_code_reaches_the_caller() {
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    h.server("-ERR [SYS/TEMP] disk trouble, try later\n");
    let err = h.err(retr);
    assert_eq!(err.code(), Some(&ResponseCode::SysTemp));
    assert_eq!(err.explain().key, "code.SYS/TEMP");
    assert_eq!(h.transcript().last().unwrap().explain.key, "code.SYS/TEMP");
}

#[test]
fn overlong_status_line_is_a_limit_error_then_resync() {
    let mut h = logged_in();
    let stat = h.client.stat().unwrap();
    let long = format!("+OK {}\r\n", "x".repeat(600));
    h.feed(&long.as_bytes()[..300]);
    h.feed(&long.as_bytes()[300..]);
    assert!(matches!(h.err(stat), Pop3Error::Limit(_)));
    assert!(h.keys().contains(&"warn.line-too-long"));
    let stat = h.client.stat().unwrap();
    h.server("+OK 3 30\n");
    assert!(matches!(h.ok(stat), Reply::Stat(s) if s.count == 3));
}

#[test]
fn status_line_of_exactly_512_octets_is_accepted() {
    let mut h = logged_in();
    let noop = h.client.command(popwire::codec::Command::Noop).unwrap();
    let line = format!("+OK {}\r\n", "y".repeat(512 - 6));
    assert_eq!(line.len(), 512);
    h.feed(line.as_bytes());
    h.ok(noop);
}

#[test]
fn empty_multiline_reply_completes_at_once() {
    let mut h = logged_in();
    let list = h.client.list(None).unwrap();
    h.feed(b"+OK 0 messages\r\n.\r\n");
    assert_eq!(h.ok(list), &Reply::List(vec![]));
    let uidl = h.client.uidl(None).unwrap();
    h.feed(b"+OK\r\n.\r\n");
    assert_eq!(h.ok(uidl), &Reply::Uidl(vec![]));
}

#[test]
fn bare_lf_is_tolerated_and_reported() {
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    h.feed(b"+OK\nline one\nline two\r\n.\n");
    assert_eq!(
        h.ok(retr),
        &Reply::Message(b"line one\nline two\r\n".to_vec())
    );
    let warnings: Vec<_> = h
        .transcript()
        .into_iter()
        .filter(|t| t.explain.key == "warn.bare-lf")
        .collect();
    assert_eq!(
        warnings.len(),
        2,
        "one for the status line, one for the body"
    );
    assert!(warnings[1].text.contains('2'));
}

#[test]
fn oversize_body_is_a_limit_error_and_the_next_reply_still_matches() {
    let mut h = Harness::with_config(ClientConfig {
        max_body: 10,
        ..ClientConfig::default()
    });
    h.server("+OK\n");
    h.client.send_raw("PASS x").unwrap();
    h.server("+OK\n");
    let retr = h.client.retr(1).unwrap();
    h.server("+OK\n0123456789abcdef\n.\n");
    assert!(matches!(h.err(retr), Pop3Error::Limit(_)));
    let stat = h.client.stat().unwrap();
    h.server("+OK 1 16\n");
    assert!(matches!(h.ok(stat), Reply::Stat(_)));
}

#[test]
fn bad_uidl_and_list_lines_are_skipped_and_reported() {
    let mut h = logged_in();
    let uidl = h.client.uidl(None).unwrap();
    h.server(&format!("+OK\n1 {}\n.\n", "a".repeat(71)));
    assert_eq!(h.ok(uidl), &Reply::Uidl(vec![]));
    let list = h.client.list(None).unwrap();
    h.server("+OK\n1 many\n.\n");
    assert_eq!(h.ok(list), &Reply::List(vec![]));
    let warnings: Vec<_> = h
        .transcript()
        .into_iter()
        .filter(|t| t.explain.key == "warn.bad-listing")
        .map(|t| t.text.clone())
        .collect();
    assert_eq!(warnings.len(), 2);
    assert!(warnings[0].contains("unique-id"), "{}", warnings[0]);
    assert!(warnings[1].contains("size in octets"), "{}", warnings[1]);
}

#[test]
fn continuation_outside_auth_is_a_protocol_error() {
    let mut h = logged_in();
    let stat = h.client.stat().unwrap();
    h.server("+ aGVsbG8=\n");
    assert!(matches!(
        h.err(stat),
        Pop3Error::Protocol(ProtocolError::UnexpectedContinuation)
    ));
}

#[test]
fn unsolicited_bytes_are_shown_not_fatal() {
    let mut h = logged_in();
    h.server("-ERR autologout soon\n");
    assert!(h.keys().contains(&"warn.unsolicited"));
    assert_eq!(h.client.state(), SessionState::Transaction);
}

#[test]
fn greeting_err_and_garbage_greeting_close_the_session() {
    let mut h = Harness::new();
    let capa = h.client.capa().unwrap();
    h.server("-ERR [SYS/TEMP] too busy\n");
    assert_eq!(h.err(capa).code(), Some(&ResponseCode::SysTemp));
    assert_eq!(h.client.state(), SessionState::Closed);
    assert!(h.events.iter().any(|e| matches!(e, Event::Closed)));
    assert_eq!(h.keys()[0], "greeting.err");

    let mut h = Harness::new();
    h.feed(b"SSH-2.0-OpenSSH_9.2\r\n");
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn greeting_without_crlf_then_close_is_a_network_error() {
    let mut h = Harness::new();
    let capa = h.client.capa().unwrap();
    h.feed(b"+OK never finished");
    assert_eq!(h.client.greeting(), None);
    h.client.handle_close(99, "connection reset");
    h.pump();
    assert_eq!(h.err(capa).kind(), "network");
}

#[test]
fn timeouts_are_driven_by_the_callers_clock() {
    let mut h = Harness::with_config(ClientConfig {
        reply_timeout_ms: 1000,
        ..ClientConfig::default()
    });
    assert_eq!(
        h.client.poll_timeout(),
        Some(1000),
        "waiting for the greeting"
    );
    h.server("+OK\n");
    assert_eq!(h.client.poll_timeout(), None, "idle: nothing awaited");
    let capa = h.client.capa().unwrap();
    h.pump();
    let deadline = h.client.poll_timeout().unwrap();
    h.client.handle_timeout(deadline - 1);
    h.pump();
    assert!(h.result(capa).is_none());
    // Bytes arriving push the deadline out: a slow but moving reply does not time out.
    h.now = deadline - 1;
    h.feed(b"+OK\r\nTOP\r\n");
    assert!(h.client.poll_timeout().unwrap() > deadline);
    let later = h.client.poll_timeout().unwrap();
    h.client.handle_timeout(later);
    h.pump();
    assert!(matches!(h.err(capa), Pop3Error::Timeout { after_ms: 1000 }));
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn dropped_connection_mid_retr_fails_the_command_not_the_engine() {
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    let stat = h.client.stat().unwrap();
    h.feed(b"+OK 100 octets\r\nSubject: half\r\n\r\nhalf a bo");
    h.client.handle_close(h.now + 1, "connection reset by peer");
    h.pump();
    assert_eq!(h.err(retr).kind(), "network");
    assert_eq!(h.err(stat).kind(), "network");
    assert_eq!(h.client.state(), SessionState::Closed);
    assert!(h.client.stat().is_err());
}

#[test]
fn stls_discards_injected_bytes_and_forgets_capa() {
    let mut h = Harness::greeted("+OK\n");
    let capa = h.client.capa().unwrap();
    h.server("+OK\nSTLS\nUSER\n.\n");
    h.ok(capa);
    assert!(h.client.capabilities().is_some());
    h.take_sent();
    let stls = h.client.stls().unwrap();
    let user = h.client.user("alice").unwrap();
    assert_eq!(h.take_sent(), "STLS\r\n");
    // A man in the middle appends a reply to the +OK, hoping it is read after TLS.
    h.server("+OK begin TLS\n+OK injected\n");
    assert!(h.events.iter().any(|e| matches!(e, Event::StartTls)));
    h.ok(stls);
    assert!(h.keys().contains(&"warn.stls-discarded"));
    assert!(h.client.capabilities().is_none());
    assert_eq!(h.take_sent(), "", "nothing is sent before TLS is up");
    assert!(h.result(user).is_none());
    h.client
        .tls_established(h.now, "TLSv1.3 TLS_AES_128_GCM_SHA256");
    assert_eq!(h.take_sent(), "USER alice\r\n");
    h.server("+OK\n");
    assert!(
        matches!(h.ok(user), Reply::Status(_)),
        "the injected line was not taken as USER's reply"
    );
    let keys = h.keys();
    assert!(keys.contains(&"info.tls") && keys.contains(&"info.capa-reset"));
    assert_eq!(
        h.client.stls().unwrap_err().kind(),
        "state",
        "no second STLS"
    );
}

#[test]
fn pipelining_only_when_advertised_replies_in_order() {
    let mut h = logged_in();
    let a = h.client.list(Some(1)).unwrap();
    let b = h.client.list(Some(2)).unwrap();
    assert_eq!(
        h.take_sent(),
        "LIST 1\r\n",
        "no PIPELINING yet: one at a time"
    );
    h.server("+OK 1 10\n");
    assert_eq!(h.take_sent(), "LIST 2\r\n");
    h.server("+OK 2 20\n");
    assert!(matches!(h.ok(a), Reply::ListOne(e) if e.size == 10));
    assert!(matches!(h.ok(b), Reply::ListOne(e) if e.size == 20));

    let capa = h.client.capa().unwrap();
    h.server("+OK\nPIPELINING\n.\n");
    h.ok(capa);
    h.take_sent();
    let handles: Vec<_> = (1..=3).map(|i| h.client.uidl(Some(i)).unwrap()).collect();
    let quit = h.client.quit().unwrap();
    assert_eq!(
        h.take_sent(),
        "UIDL 1\r\nUIDL 2\r\nUIDL 3\r\n",
        "QUIT waits: it changes the state"
    );
    h.server("+OK 1 a\n+OK 2 b\n+OK 3 c\n");
    for (i, handle) in handles.iter().enumerate() {
        assert!(matches!(h.ok(*handle), Reply::UidlOne(u) if u.id == i as u32 + 1));
    }
    assert_eq!(h.take_sent(), "QUIT\r\n");
    assert_eq!(h.client.state(), SessionState::Update);
    h.server("+OK bye\n");
    h.ok(quit);
    assert_eq!(h.client.state(), SessionState::Closed);
}

#[test]
fn auth_plain_uses_an_initial_response_and_masks_it() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::Plain, "tim", "tanstaaf").unwrap();
    assert_eq!(h.take_sent(), "AUTH PLAIN AHRpbQB0YW5zdGFhZg==\r\n");
    h.server("+OK\n");
    h.ok(auth);
    let line = h
        .transcript()
        .into_iter()
        .find(|t| t.explain.key == "cmd.AUTH")
        .unwrap();
    assert_eq!(line.text, "AUTH PLAIN ••••••");
    assert!(line.masked);
}

#[test]
fn auth_plain_too_long_for_one_line_waits_for_the_challenge() {
    let mut h = Harness::greeted("+OK\n");
    let secret = "s".repeat(300);
    let auth = h.client.auth(Mechanism::Plain, "tim", &secret).unwrap();
    assert_eq!(h.take_sent(), "AUTH PLAIN\r\n");
    h.server("+ \n");
    let response = h.take_sent();
    assert!(response.len() > 255 && response.ends_with("\r\n"));
    h.server("+OK\n");
    h.ok(auth);
}

#[test]
fn auth_login_answers_two_challenges() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::Login, "tim", "tanstaaf").unwrap();
    assert_eq!(h.take_sent(), "AUTH LOGIN\r\n");
    h.server("+ VXNlcm5hbWU6\n");
    assert_eq!(h.take_sent(), "dGlt\r\n");
    h.server("+ UGFzc3dvcmQ6\n");
    assert_eq!(h.take_sent(), "dGFuc3RhYWY=\r\n");
    h.server("-ERR [AUTH] wrong\n");
    assert_eq!(h.err(auth).code(), Some(&ResponseCode::Auth));
    let masked = h
        .transcript()
        .into_iter()
        .filter(|t| t.explain.key == "sasl.response" && t.masked)
        .count();
    assert_eq!(masked, 2);
}

#[test]
fn garbage_challenge_is_cancelled_with_a_star() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.auth(Mechanism::CramMd5, "tim", "x").unwrap();
    h.take_sent();
    h.server("+ !!!not base64!!!\n");
    assert_eq!(h.take_sent(), "*\r\n");
    h.server("-ERR cancelled\n");
    assert!(matches!(
        h.err(auth),
        Pop3Error::Protocol(ProtocolError::BadChallenge)
    ));
}

#[test]
fn raw_sasl_lines_are_checked_as_base64() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h.client.send_raw("AUTH PLAIN").unwrap();
    h.server("+ \n");
    assert!(matches!(h.ok(auth), Reply::Raw(r) if r.continuation));
    assert!(h.client.expects_sasl_response());
    assert_eq!(
        h.client.send_raw("not base64!").unwrap_err().explain().key,
        "input.base64"
    );
    let cancel = h.client.send_raw("*").unwrap();
    assert_eq!(h.take_sent(), "AUTH PLAIN\r\n*\r\n");
    h.server("-ERR cancelled\n");
    assert!(matches!(h.ok(cancel), Reply::Raw(r) if !r.ok));
    assert!(!h.client.expects_sasl_response());
}

#[test]
fn apop_without_timestamp_is_refused_before_sending() {
    let mut h = Harness::greeted("+OK no timestamp here\n");
    let err = h.client.apop("mrose", "tanstaaf").unwrap_err();
    assert_eq!(err.kind(), "state");
    assert_eq!(h.take_sent(), "");
}

#[test]
fn quit_from_authorization_closes_without_update() {
    let mut h = Harness::greeted("+OK\n");
    let quit = h.client.quit().unwrap();
    h.server("+OK bye\n");
    h.ok(quit);
    assert_eq!(
        h.states(),
        vec![SessionState::Authorization, SessionState::Closed]
    );
}

#[test]
fn retr_streams_progress_against_the_list_size() {
    let mut h = logged_in();
    let list = h.client.list(None).unwrap();
    h.server("+OK\n1 20000\n.\n");
    h.ok(list);
    let retr = h.client.retr(1).unwrap();
    h.server("+OK\n");
    let line = format!("{}\r\n", "x".repeat(98));
    for _ in 0..200 {
        h.feed(line.as_bytes());
    }
    h.feed(b".\r\n");
    let progress: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(progress.len(), 200);
    assert!(progress
        .iter()
        .all(|p| p.expected == Some(20000) && p.command == "RETR" && p.id == Some(1)));
    assert_eq!(progress.last().unwrap().received, 20000);
    assert!(progress.windows(2).all(|w| w[0].received < w[1].received));
    let Reply::Message(bytes) = h.ok(retr) else {
        panic!()
    };
    assert_eq!(bytes.len(), 20000);
}

#[test]
fn body_transcript_entry_keeps_64_kib_and_the_total() {
    let mut h = logged_in();
    let retr = h.client.retr(1).unwrap();
    let line = format!("{}\r\n", "z".repeat(1022));
    let mut wire = b"+OK\r\n".to_vec();
    for _ in 0..100 {
        wire.extend_from_slice(line.as_bytes());
    }
    wire.extend_from_slice(b".\r\n");
    h.feed(&wire);
    let Reply::Message(bytes) = h.ok(retr) else {
        panic!()
    };
    assert_eq!(bytes.len(), 102_400);
    let body = h
        .transcript()
        .into_iter()
        .find(|t| t.explain.key == "body.RETR")
        .unwrap();
    assert!(body.truncated);
    assert_eq!(body.bytes.len(), 64 * 1024);
    assert_eq!(body.total_bytes, 102_403);
}

#[test]
fn transcript_is_complete_ordered_and_timestamped() {
    let mut h = Harness::new();
    h.now = 100;
    h.server("+OK ready\n");
    h.client.user("alice").unwrap();
    h.server("+OK\n");
    h.client.pass("pop3").unwrap();
    h.server("+OK\n");
    let t = h.transcript();
    let seqs: Vec<u64> = t.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..t.len() as u64).collect::<Vec<_>>());
    assert!(t.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert_eq!(
        h.keys(),
        [
            "greeting.ok",
            "state.AUTHORIZATION",
            "cmd.USER",
            "reply.USER.ok",
            "cmd.PASS",
            "reply.PASS.ok",
            "state.TRANSACTION"
        ]
    );
    let json = serde_json::to_value(t[4]).unwrap();
    assert_eq!(json["text"], "PASS ••••••");
    assert_eq!(json["masked"], true);
    assert_eq!(json["dir"], "client");
    assert_eq!(json["explain"]["key"], "cmd.PASS");
    assert_eq!(json["explain"]["rfc"], "RFC 1939 §7");
    assert!(json.get("atMs").is_some() && json.get("totalBytes").is_some());
}

#[test]
fn utf8_mode_allows_non_ascii_user_names() {
    let mut h = Harness::greeted("+OK\n");
    assert_eq!(
        h.client.user("علی").unwrap_err().explain().key,
        "input.non-ascii"
    );
    let utf8 = h.client.command(popwire::codec::Command::Utf8).unwrap();
    h.server("+OK UTF8 enabled\n");
    h.ok(utf8);
    assert!(h.client.is_utf8());
    h.client.user("علی").unwrap();
    assert_eq!(h.take_sent(), "UTF8\r\nUSER علی\r\n");
}

#[test]
fn queue_is_capped() {
    let mut h = Harness::with_config(ClientConfig {
        max_queued: 3,
        ..ClientConfig::default()
    });
    for _ in 0..3 {
        h.client.capa().unwrap();
    }
    assert_eq!(h.client.capa().unwrap_err().kind(), "limit");
}

#[test]
fn typed_auth_without_credentials_cancels_a_challenge() {
    let mut h = Harness::greeted("+OK\n");
    let auth = h
        .client
        .command(popwire::codec::Command::Auth {
            mechanism: "LOGIN".into(),
            initial_response: None,
        })
        .unwrap();
    assert_eq!(h.take_sent(), "AUTH LOGIN\r\n");
    h.server("+ VXNlcm5hbWU6\n");
    assert_eq!(h.take_sent(), "*\r\n");
    h.server("-ERR cancelled\n");
    assert_eq!(h.err(auth).kind(), "protocol");
}

#[test]
fn the_streaming_body_is_visible_while_it_arrives() {
    let mut h = logged_in();
    assert!(h.client.streaming_body().is_none());
    let retr = h.client.retr(1).unwrap();
    h.feed(b"+OK\r\nfirst line\r\n..second");
    let (handle, so_far) = h.client.streaming_body().unwrap();
    assert_eq!(handle, retr);
    assert_eq!(so_far, b"first line\r\n.second");
    h.feed(b"\r\n.\r\n");
    assert!(h.client.streaming_body().is_none());
    assert_eq!(
        h.ok(retr),
        &Reply::Message(b"first line\r\n.second\r\n".to_vec())
    );
}
