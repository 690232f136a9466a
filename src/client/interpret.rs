//! Reply interpretation: what a status line or a body means for its command and the session.

use super::event::body_lines;
use super::request::Request;
use super::{Client, Event, Pop3Error, RawParsed, RawReply, Reply, SessionState};
use crate::codec::{
    parse_capa_line, parse_list_line, parse_stat, parse_uidl_line, Capability, Command, Keyword,
    ProtocolError, StatusLine,
};

impl Client {
    /// The typed reply of a multi-line body. LIST, UIDL and CAPA keep their well-formed lines
    /// and report each malformed one as `warn.bad-listing` (the first [`BAD_LINES_REPORTED`]
    /// one by one, then how many more), so one bad line does not lose the rest.
    pub(super) fn typed_body_reply(&mut self, command: &Command, body: Vec<u8>) -> Reply {
        match command {
            Command::Retr(_) | Command::Top { .. } => Reply::Message(body),
            Command::List(None) => Reply::List(self.parse_listing(&body, parse_list_line)),
            Command::Uidl(None) => Reply::Uidl(self.parse_listing(&body, parse_uidl_line)),
            Command::Capa => Reply::Capabilities(self.parse_listing(&body, parse_capa_line)),
            Command::Lang(None) => Reply::Languages(languages(&body)),
            // No body follows these (`expects_multiline` is false), so none is read for them;
            // listed so that a new command must say what its body is.
            Command::User(_)
            | Command::Pass(_)
            | Command::Apop { .. }
            | Command::Auth { .. }
            | Command::Stls
            | Command::Utf8
            | Command::Lang(Some(_))
            | Command::Stat
            | Command::List(Some(_))
            | Command::Uidl(Some(_))
            | Command::Dele(_)
            | Command::Rset
            | Command::Noop
            | Command::Quit
            | Command::Unknown { .. } => Reply::Message(body),
        }
    }

    pub(super) fn parse_listing<T>(
        &mut self,
        body: &[u8],
        parse: fn(&[u8]) -> Result<T, ProtocolError>,
    ) -> Vec<T> {
        let mut entries = Vec::new();
        let mut bad = 0usize;
        for (number, line) in body_lines(body).enumerate() {
            match parse(line) {
                Ok(entry) => entries.push(entry),
                Err(err) => {
                    bad += 1;
                    if bad <= BAD_LINES_REPORTED {
                        let note = crate::note!(
                            "note.bad-listing-line",
                            number = number + 1,
                            error = err.note()
                        );
                        self.say(crate::explain!("warn.bad-listing"), note.shortened(200));
                    }
                }
            }
        }
        if bad > BAD_LINES_REPORTED {
            let more = bad - BAD_LINES_REPORTED;
            self.say(
                crate::explain!("warn.bad-listing"),
                crate::note!("note.bad-listing-more", more = more, bad = bad),
            );
        }
        entries
    }

    pub(super) fn finish_single(&mut self, req: Request, status: StatusLine) {
        let ok = status.is_ok();
        if let Some(command) = req.command() {
            self.apply_side_effects(command, &status, None);
        } else if ok {
            // The last line of a hand-typed SASL exchange: +OK means logged in.
            self.logged_in();
        }
        let result = if req.is_raw() {
            let parsed = req
                .command()
                .filter(|_| ok)
                .and_then(|command| raw_single_parsed(command, &status));
            Ok(Reply::Raw(RawReply {
                ok,
                continuation: false,
                text: status.text,
                code: status.code,
                body: Vec::new(),
                parsed,
            }))
        } else if let Some(err) = req.failure {
            Err(err)
        } else if !ok {
            Err(Pop3Error::Server {
                text: status.text,
                code: status.code,
            })
        } else {
            match req.command() {
                Some(command) => single_reply(command, status),
                None => Ok(Reply::Status(status)),
            }
        };
        if let Ok(Reply::ListOne(entry)) = &result {
            self.sizes.insert(entry.id, entry.size);
        }
        self.complete(req.handle, result);
        self.after_reply_removed();
    }

    /// What a reply changes in the session, whether the command was typed or raw.
    pub(super) fn apply_side_effects(
        &mut self,
        command: &Command,
        status: &StatusLine,
        body: Option<&[u8]>,
    ) {
        let ok = status.is_ok();
        match command {
            // PASS must come right after USER (RFC 1939 §7): not if anything was queued since.
            Command::User(_) => {
                self.awaiting_pass = ok
                    && self.in_flight.is_empty()
                    && self
                        .pending
                        .iter()
                        .all(|r| r.keyword() == Some(Keyword::Pass));
            }
            Command::Pass(_) | Command::Apop { .. } | Command::Auth { .. } => {
                self.awaiting_pass = false;
                if ok {
                    self.logged_in();
                }
            }
            Command::Quit => {
                self.say(
                    crate::explain!("info.closed"),
                    crate::note!("note.quit-closed"),
                );
                self.shut_down(Pop3Error::Closed {
                    reason: crate::note!("note.quit-closed"),
                });
            }
            Command::Stls if ok => {
                // RFC 2595 §4: what was learned before TLS is forgotten and re-established.
                self.awaiting_tls = true;
                self.capabilities = None;
                self.utf8 = false;
                self.awaiting_pass = false;
                self.timer_base_ms = self.now_ms;
                self.events.push_back(Event::StartTls);
            }
            Command::Utf8 if ok => {
                self.utf8 = true;
                self.say(crate::explain!("info.utf8"), crate::note!("note.utf8-on"));
            }
            Command::Capa if ok => {
                let caps: Vec<Capability> = body_lines(body.unwrap_or_default())
                    .filter_map(|l| parse_capa_line(l).ok())
                    .collect();
                self.capabilities = Some(caps);
                if self.is_pipelining() {
                    self.say(
                        crate::explain!("info.pipelining"),
                        crate::note!("note.pipelining"),
                    );
                }
            }
            Command::List(None) if ok => {
                for entry in
                    body_lines(body.unwrap_or_default()).filter_map(|l| parse_list_line(l).ok())
                {
                    self.sizes.insert(entry.id, entry.size);
                }
            }
            _ => {}
        }
    }

    pub(super) fn logged_in(&mut self) {
        if self.state == SessionState::Authorization {
            self.set_state(SessionState::Transaction);
        }
    }

    /// After a reply leaves the in-flight queue: queued commands may go out.
    pub(super) fn after_reply_removed(&mut self) {
        self.timer_base_ms = self.now_ms;
    }

    pub(super) fn report_progress(&mut self) {
        let Some(read) = self.body.as_mut().filter(|read| read.failure.is_none()) else {
            return;
        };
        let received = read.decoder.decoded_len();
        if received == read.reported {
            return;
        }
        read.reported = received;
        let expected = read.expected;
        let Some(head) = self.in_flight.front() else {
            return;
        };
        let progress = head.progress(received, expected);
        self.events.push_back(Event::Progress(progress));
    }
}

/// How many malformed lines of one LIST / UIDL / CAPA body are reported one by one.
pub(super) const BAD_LINES_REPORTED: usize = 5;

/// The typed reply of a single-line `+OK`: STAT, LIST n and UIDL n are parsed (and checked to
/// be about message n), anything else is its status line.
pub(super) fn single_reply(command: &Command, status: StatusLine) -> Result<Reply, Pop3Error> {
    let text = status.text.as_bytes();
    Ok(match command {
        Command::Stat => Reply::Stat(parse_stat(text)?),
        &Command::List(Some(asked)) => {
            let entry = parse_list_line(text)?;
            same_message(asked, entry.id)?;
            Reply::ListOne(entry)
        }
        &Command::Uidl(Some(asked)) => {
            let entry = parse_uidl_line(text)?;
            same_message(asked, entry.id)?;
            Reply::UidlOne(entry)
        }
        _ => Reply::Status(status),
    })
}

/// [`RawReply::parsed`] of a single-line `+OK`: what [`single_reply`] makes of it, if that is
/// more than the status line.
pub(super) fn raw_single_parsed(command: &Command, status: &StatusLine) -> Option<RawParsed> {
    match single_reply(command, status.clone()).ok()? {
        Reply::Stat(stat) => Some(RawParsed::Stat(stat)),
        Reply::ListOne(entry) => Some(RawParsed::ListOne(entry)),
        Reply::UidlOne(entry) => Some(RawParsed::UidlOne(entry)),
        _ => None,
    }
}

/// [`RawReply::parsed`] of a `+OK` body: listings read leniently (malformed lines left out),
/// RETR and TOP marked as a message.
pub(super) fn raw_body_parsed(command: &Command, body: &[u8]) -> Option<RawParsed> {
    fn lenient<T>(body: &[u8], parse: fn(&[u8]) -> Result<T, ProtocolError>) -> Vec<T> {
        body_lines(body).filter_map(|l| parse(l).ok()).collect()
    }
    match command {
        Command::Retr(_) | Command::Top { .. } => Some(RawParsed::Message),
        Command::List(None) => Some(RawParsed::List(lenient(body, parse_list_line))),
        Command::Uidl(None) => Some(RawParsed::Uidl(lenient(body, parse_uidl_line))),
        Command::Capa => Some(RawParsed::Capabilities(lenient(body, parse_capa_line))),
        Command::Lang(None) => Some(RawParsed::Languages(languages(body))),
        _ => None,
    }
}

/// A LANG body's lines as text.
fn languages(body: &[u8]) -> Vec<String> {
    body_lines(body)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// RFC 1939 §5/§7: the `+OK` to `LIST n` / `UIDL n` must be about message n.
pub(super) fn same_message(asked: u32, got: u32) -> Result<(), ProtocolError> {
    if asked == got {
        Ok(())
    } else {
        Err(ProtocolError::WrongMessageNumber { asked, got })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::{ListEntry, Stat, UidlEntry};

    fn ok(text: &str) -> StatusLine {
        StatusLine::parse(format!("+OK {text}").as_bytes()).unwrap()
    }

    #[test]
    fn single_line_replies_are_parsed_and_checked_against_the_message_asked() {
        assert_eq!(
            single_reply(&Command::Stat, ok("2 320")).unwrap(),
            Reply::Stat(Stat {
                count: 2,
                size: 320
            })
        );
        assert_eq!(
            single_reply(&Command::List(Some(2)), ok("2 200")).unwrap(),
            Reply::ListOne(ListEntry { id: 2, size: 200 })
        );
        assert_eq!(
            single_reply(&Command::Uidl(Some(2)), ok("3 abc")),
            Err(ProtocolError::WrongMessageNumber { asked: 2, got: 3 }.into())
        );
        assert!(matches!(
            single_reply(&Command::Stat, ok("two")),
            Err(Pop3Error::Protocol(_))
        ));
        assert_eq!(
            single_reply(&Command::Noop, ok("fine")).unwrap(),
            Reply::Status(ok("fine"))
        );
    }

    #[test]
    fn raw_replies_get_their_typed_reading() {
        assert_eq!(
            raw_single_parsed(&Command::Stat, &ok("1 5")),
            Some(RawParsed::Stat(Stat { count: 1, size: 5 }))
        );
        assert_eq!(
            raw_single_parsed(&Command::Uidl(Some(1)), &ok("1 u1")),
            Some(RawParsed::UidlOne(UidlEntry {
                id: 1,
                uid: "u1".into()
            }))
        );
        assert_eq!(raw_single_parsed(&Command::Stat, &ok("junk")), None);
        assert_eq!(raw_single_parsed(&Command::Noop, &ok("")), None);
        assert_eq!(
            raw_body_parsed(&Command::List(None), b"1 5\r\nbad\r\n2 7\r\n"),
            Some(RawParsed::List(vec![
                ListEntry { id: 1, size: 5 },
                ListEntry { id: 2, size: 7 }
            ])),
            "a malformed line is left out, the rest kept"
        );
        assert_eq!(
            raw_body_parsed(&Command::Retr(1), b"a\r\n"),
            Some(RawParsed::Message)
        );
        assert_eq!(
            raw_body_parsed(&Command::Lang(None), b"en English\r\n"),
            Some(RawParsed::Languages(vec!["en English".into()]))
        );
        let capa = raw_body_parsed(&Command::Capa, b"TOP\r\nSASL PLAIN\r\n");
        assert!(matches!(capa, Some(RawParsed::Capabilities(c)) if c.len() == 2));
    }
}
