//! What the engine tells the page so the page need not re-derive it: round trips in the
//! transcript, decoded SASL challenges, `check_raw`, parsed raw replies, command metadata.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::Harness;
use popwire::auth::Mechanism;
use popwire::Direction;

fn logged_in_pipelining() -> Harness {
    let mut h = Harness::greeted("+OK ready\n");
    h.client.user("a").unwrap();
    h.server("+OK\n");
    h.client.pass("b").unwrap();
    h.server("+OK\n");
    h.client.capa().unwrap();
    h.server("+OK\nPIPELINING\n.\n");
    h
}

#[test]
fn every_reply_line_names_the_command_it_answers_and_its_round_trip() {
    let mut h = logged_in_pipelining();
    let skip = h.transcript().len();
    let stat = h.client.stat().unwrap();
    let list = h.client.list(None).unwrap();
    h.pump(); // both go out at t
    let sent_at = h.now;
    h.now += 40;
    h.client
        .feed(h.now, b"+OK 2 10\r\n+OK\r\n1 5\r\n2 5\r\n.\r\n");
    h.pump();
    let entries: Vec<_> = h.transcript().into_iter().skip(skip).collect();
    let stat_line = entries
        .iter()
        .find(|e| e.dir == Direction::Client && e.text == "STAT")
        .unwrap();
    let list_line = entries
        .iter()
        .find(|e| e.dir == Direction::Client && e.text == "LIST")
        .unwrap();
    assert_eq!(stat_line.request, Some(stat.0));
    assert_eq!(list_line.request, Some(list.0));
    assert_eq!(stat_line.answers, None);
    let replies: Vec<_> = entries
        .iter()
        .filter(|e| e.dir == Direction::Server)
        .collect();
    assert_eq!(replies.len(), 3, "STAT status, LIST status, LIST body");
    assert_eq!(replies[0].explain.key, "reply.STAT.ok");
    assert_eq!(
        (replies[0].request, replies[0].answers),
        (Some(stat.0), Some(stat_line.seq))
    );
    assert_eq!(replies[0].rtt_ms, Some(h.now - sent_at));
    assert_eq!(replies[1].explain.key, "reply.LIST.ok");
    assert_eq!(
        (replies[1].request, replies[1].answers),
        (Some(list.0), Some(list_line.seq))
    );
    assert_eq!(replies[1].rtt_ms, Some(40));
    assert_eq!(replies[2].explain.key, "body.LIST");
    assert_eq!(
        (replies[2].request, replies[2].answers, replies[2].rtt_ms),
        (Some(list.0), Some(list_line.seq), None)
    );
    let greeting = &h.transcript()[0];
    assert_eq!((greeting.request, greeting.answers), (None, None));
}

#[test]
fn sasl_challenges_come_decoded_and_answer_the_last_response() {
    let mut h = Harness::greeted("+OK ready\n");
    let auth = h
        .client
        .auth(Mechanism::Login, "tim", "tanstaaftanstaaf")
        .unwrap();
    h.server("+ VXNlcm5hbWU6\n"); // "Username:"
    h.server("+ UGFzc3dvcmQ6\n"); // "Password:"
    h.server("+OK\n");
    let t = h.transcript();
    let challenges: Vec<_> = t
        .iter()
        .filter(|e| e.explain.key == "sasl.challenge")
        .collect();
    assert_eq!(challenges.len(), 2);
    let first = challenges[0].challenge.as_ref().unwrap();
    assert_eq!(first.bytes, b"Username:");
    assert_eq!(first.text, "Username:");
    assert_eq!(challenges[1].challenge.as_ref().unwrap().text, "Password:");
    let responses: Vec<_> = t
        .iter()
        .filter(|e| e.explain.key == "sasl.response")
        .collect();
    assert_eq!(responses.len(), 2);
    let auth_line = t.iter().find(|e| e.explain.key == "cmd.AUTH").unwrap();
    assert_eq!(challenges[0].answers, Some(auth_line.seq));
    assert_eq!(challenges[1].answers, Some(responses[0].seq));
    assert_eq!(responses[0].request, Some(auth.0));
    let ok = t.iter().find(|e| e.explain.key == "reply.AUTH.ok").unwrap();
    assert_eq!(
        (ok.request, ok.answers),
        (Some(auth.0), Some(responses[1].seq))
    );
}

#[test]
fn a_challenge_that_is_not_base64_has_no_decoded_form() {
    let mut h = Harness::greeted("+OK ready\n");
    h.client.send_raw("AUTH PLAIN").unwrap();
    h.server("+ not*base64\n");
    let t = h.transcript();
    let challenge = t
        .iter()
        .find(|e| e.explain.key == "sasl.challenge")
        .unwrap();
    assert_eq!(challenge.challenge, None);
    assert!(h.client.expects_sasl_response());
}

/// The sessions `check_raw` is compared with `send_raw` in.
fn scenario(name: &str) -> Harness {
    match name {
        "before greeting" => Harness::new(),
        "authorization" => Harness::greeted("+OK ready\n"),
        "after USER" => {
            let mut h = Harness::greeted("+OK ready\n");
            h.client.user("a").unwrap();
            h.server("+OK\n");
            h
        }
        "transaction" => logged_in_pipelining(),
        "utf8" => {
            let mut h = Harness::greeted("+OK ready\n");
            h.client.send_raw("UTF8").unwrap();
            h.server("+OK\n");
            h
        }
        "sasl" => {
            let mut h = Harness::greeted("+OK ready\n");
            h.client.send_raw("AUTH PLAIN").unwrap();
            h.server("+ \n");
            h
        }
        "queue full" => {
            let mut h = Harness::with_config(popwire::ClientConfig {
                max_queued: 1,
                ..Default::default()
            });
            h.client.send_raw("NOOP").unwrap();
            h
        }
        "closed" => {
            let mut h = Harness::greeted("+OK ready\n");
            h.client.handle_close(1, "gone");
            h
        }
        other => panic!("no scenario {other}"),
    }
}

#[test]
fn check_raw_says_exactly_what_send_raw_does() {
    let lines = [
        "STAT",
        "stat",
        "LIST",
        "LIST 1",
        "RETR 1",
        "USER alice",
        "PASS hunter 2",
        "AUTH PLAIN AGEAYg==",
        "AUTH PLAIN",
        "APOP a c4c9334bac560ecc979e58001b3e22fb",
        "USER علی",
        "XTND foo",
        "HELLO",
        "RETR 0",
        "",
        "*",
        "AGEAYg==",
        "USER a\r\nDELE 1",
    ];
    let scenarios = [
        "before greeting",
        "authorization",
        "after USER",
        "transaction",
        "utf8",
        "sasl",
        "queue full",
        "closed",
    ];
    for name in scenarios {
        for line in lines {
            let checked = scenario(name).client.check_raw(line);
            let mut h = scenario(name);
            let skip = h.transcript().len();
            let sent = h.client.send_raw(line);
            match (&checked, &sent) {
                (Err(a), Err(b)) => assert_eq!(a, b, "{name}: {line:?}"),
                (Ok(checked), Ok(_)) => {
                    h.pump();
                    if let Some(entry) = h.transcript().get(skip) {
                        assert_eq!(entry.masked, checked.masked, "{name}: {line:?}");
                        assert_eq!(entry.explain, checked.explain, "{name}: {line:?}");
                    }
                }
                _ => panic!("{name}: {line:?}: check_raw {checked:?} but send_raw {sent:?}"),
            }
        }
    }
}

#[test]
fn check_raw_knows_the_state_the_utf8_mode_and_the_sasl_exchange() {
    let auth = scenario("authorization");
    let stat = auth.client.check_raw("STAT").unwrap();
    assert!(!stat.allowed && !stat.multiline && !stat.masked);
    assert_eq!(stat.command, "STAT");
    let pass = auth.client.check_raw("PASS x").unwrap();
    assert!(!pass.allowed, "PASS only right after USER");
    assert!(pass.masked);
    assert!(
        scenario("after USER")
            .client
            .check_raw("PASS x")
            .unwrap()
            .allowed
    );
    let list = scenario("transaction").client.check_raw("LIST").unwrap();
    assert!(list.allowed && list.multiline);
    assert!(
        !scenario("transaction")
            .client
            .check_raw("LIST 1")
            .unwrap()
            .multiline
    );
    assert!(auth.client.check_raw("USER علی").is_err());
    assert!(scenario("utf8").client.check_raw("USER علی").is_ok());
    let sasl = scenario("sasl");
    assert!(sasl.client.awaiting_sasl_response());
    let response = sasl.client.check_raw("AGEAYg==").unwrap();
    assert!(response.sasl_response && response.masked);
    assert_eq!(response.explain.key, "sasl.response");
    assert_eq!(
        sasl.client.check_raw("*").unwrap().explain.key,
        "sasl.cancel"
    );
    assert!(sasl.client.check_raw("LIST 1").is_err(), "not base64");
    assert!(scenario("closed").client.check_raw("STAT").is_err());
    assert!(scenario("queue full").client.check_raw("STAT").is_err());
}

#[test]
fn raw_replies_carry_their_typed_reading() {
    use popwire::client::{RawParsed, Reply};
    use popwire::codec::{ListEntry, Stat};
    let mut h = logged_in_pipelining();
    let stat = h.client.send_raw("stat").unwrap();
    h.server("+OK 2 10\n");
    let list = h.client.send_raw("LIST").unwrap();
    h.server("+OK\n1 5\n2 5\n.\n");
    let retr = h.client.send_raw("RETR 1").unwrap();
    // A line that is only a dot after unstuffing, and bytes that are not UTF-8.
    h.feed(b"+OK\r\n..\r\n\xff\xfe\r\n.\r\n");
    let err = h.client.send_raw("DELE 9").unwrap();
    h.server("-ERR no such message\n");
    let raw = |handle| match h.ok(handle) {
        Reply::Raw(raw) => raw.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        raw(stat).parsed,
        Some(RawParsed::Stat(Stat { count: 2, size: 10 }))
    );
    assert_eq!(
        raw(list).parsed,
        Some(RawParsed::List(vec![
            ListEntry { id: 1, size: 5 },
            ListEntry { id: 2, size: 5 }
        ]))
    );
    let message = raw(retr);
    assert_eq!(message.parsed, Some(RawParsed::Message));
    assert_eq!(message.body, b".\r\n\xff\xfe\r\n", "the octets exactly");
    assert_eq!(raw(err).parsed, None);
    let json = serde_json::to_value(&message).unwrap();
    assert_eq!(json["parsed"]["kind"], "message");
    assert_eq!(
        json["parsed"]["value"],
        serde_json::json!([46, 13, 10, 255, 254, 13, 10])
    );
    let json = serde_json::to_value(raw(stat)).unwrap();
    assert_eq!(json["parsed"]["value"]["count"], 2);
    assert_eq!(
        serde_json::to_value(raw(err)).unwrap()["parsed"],
        serde_json::Value::Null
    );
}

#[test]
fn a_raw_challenge_comes_decoded_in_the_reply() {
    use popwire::client::{RawParsed, Reply};
    let mut h = Harness::greeted("+OK ready\n");
    let auth = h.client.send_raw("AUTH CRAM-MD5").unwrap();
    h.server("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\n");
    match h.ok(auth) {
        Reply::Raw(raw) => {
            assert!(raw.continuation);
            assert_eq!(
                raw.parsed,
                Some(RawParsed::Challenge(
                    b"<1896.697170952@postoffice.example.net>".to_vec()
                ))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_server_error_gives_its_text_and_code_as_fields() {
    let mut h = Harness::greeted("+OK ready\n");
    let user = h.client.user("a").unwrap();
    h.server("-ERR [SYS/TEMP/QUOTA] try later\n");
    let err = h.err(user);
    assert_eq!(err.server_text(), Some("try later"));
    let info = err.info();
    assert_eq!(info.kind, "server");
    assert_eq!(info.code.as_deref(), Some("SYS/TEMP/QUOTA"));
    assert_eq!(info.server_text.as_deref(), Some("try later"));
    assert_eq!(info.explain.key, "code.SYS/TEMP");
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["serverText"], "try later");
    assert_eq!(json["explain"]["key"], "code.SYS/TEMP");
    let refused = h.client.stat().unwrap_err().info();
    assert_eq!((refused.kind, refused.server_text), ("state", None));
}

#[test]
fn a_body_entry_says_where_its_stuffed_dots_and_terminator_are() {
    let mut h = logged_in_pipelining();
    let skip = h.transcript().len();
    h.client.retr(1).unwrap();
    h.pump();
    h.client
        .feed(h.now, b"+OK 20 octets\r\n..dot\r\nplain\r\n...\r\n.\r\n");
    h.pump();
    let body = h
        .transcript()
        .into_iter()
        .skip(skip)
        .find(|e| e.explain.key == "body.RETR")
        .unwrap();
    let marks = body.wire_marks.clone().unwrap();
    assert_eq!(marks.stuffed_dots, vec![0, 14]);
    assert_eq!(marks.terminator, Some(19));
    for at in &marks.stuffed_dots {
        assert_eq!(&body.bytes[*at as usize..*at as usize + 2], b"..");
    }
    assert_eq!(&body.bytes[19..], b".\r\n");
    let json = serde_json::to_value(body).unwrap();
    assert_eq!(json["wireMarks"]["stuffedDots"], serde_json::json!([0, 14]));
}
