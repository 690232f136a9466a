//! Reply interpretation: what a status line or a body means for its command and the session.

use super::event::body_lines;
use super::send::Request;
use super::{Client, Event, Pop3Error, RawReply, Reply, SessionState};
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
            _ => Reply::Languages(
                body_lines(&body)
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect(),
            ),
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
                        let mut text = format!("line {}: {err}", number + 1);
                        truncate_text(&mut text, 200);
                        self.info(crate::explain!("warn.bad-listing"), text);
                    }
                }
            }
        }
        if bad > BAD_LINES_REPORTED {
            let more = bad - BAD_LINES_REPORTED;
            self.info(
                crate::explain!("warn.bad-listing"),
                format!("{more} more malformed lines skipped ({bad} in all)"),
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
            Ok(Reply::Raw(RawReply {
                ok,
                continuation: false,
                text: status.text,
                code: status.code,
                body: Vec::new(),
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
                Some(Command::Stat) => parse_stat(status.text.as_bytes())
                    .map(Reply::Stat)
                    .map_err(Into::into),
                Some(&Command::List(Some(asked))) => parse_list_line(status.text.as_bytes())
                    .and_then(|entry| same_message(asked, entry.id).map(|()| entry))
                    .map(Reply::ListOne)
                    .map_err(Into::into),
                Some(&Command::Uidl(Some(asked))) => parse_uidl_line(status.text.as_bytes())
                    .and_then(|entry| same_message(asked, entry.id).map(|()| entry))
                    .map(Reply::UidlOne)
                    .map_err(Into::into),
                _ => Ok(Reply::Status(status)),
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
                self.info(
                    crate::explain!("info.closed"),
                    "the server ended the session after QUIT".to_owned(),
                );
                self.shut_down(Pop3Error::Closed {
                    reason: "the session ended with QUIT".into(),
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
                self.info(
                    crate::explain!("info.utf8"),
                    "UTF-8 is on for this session".to_owned(),
                );
            }
            Command::Capa if ok => {
                let caps: Vec<Capability> = body_lines(body.unwrap_or_default())
                    .filter_map(|l| parse_capa_line(l).ok())
                    .collect();
                self.capabilities = Some(caps);
                if self.is_pipelining() {
                    self.info(
                        crate::explain!("info.pipelining"),
                        "the server pipelines: commands go out without waiting".to_owned(),
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

/// Cuts `text` to at most `max` octets (on a character boundary), marking the cut with `…`.
pub(super) fn truncate_text(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// RFC 1939 §5/§7: the `+OK` to `LIST n` / `UIDL n` must be about message n.
pub(super) fn same_message(asked: u32, got: u32) -> Result<(), ProtocolError> {
    if asked == got {
        Ok(())
    } else {
        Err(ProtocolError::WrongMessageNumber { asked, got })
    }
}
