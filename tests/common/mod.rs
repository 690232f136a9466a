//! A small harness that drives a `Client` like a transport would, for the integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

use popwire::client::{Reply, SessionState};
use popwire::{Client, ClientConfig, CommandHandle, Event, Pop3Error, TranscriptEntry};

/// Drives a client: feeds server bytes, collects what it transmits and every event.
pub struct Harness {
    pub client: Client,
    pub now: u64,
    pub sent: Vec<u8>,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_config(ClientConfig::default())
    }

    pub fn with_config(config: ClientConfig) -> Harness {
        Harness {
            client: Client::new(config, 0),
            now: 0,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A harness whose greeting has arrived.
    pub fn greeted(greeting: &str) -> Harness {
        let mut h = Harness::new();
        h.server(greeting);
        h
    }

    /// Transmits what is queued, advances the clock by one ms, feeds `bytes`, then drains transmits and events.
    /// Whatever is queued is transmitted first, as a transport would before reading more.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.pump();
        self.now += 1;
        self.client.feed(self.now, bytes);
        self.pump();
    }

    /// Feeds text, each `\n` turned into CRLF.
    pub fn server(&mut self, text: &str) {
        let wire = crlf(text);
        self.feed(&wire);
    }

    pub fn pump(&mut self) {
        while let Some(bytes) = self.client.poll_transmit(self.now) {
            self.sent.extend_from_slice(&bytes);
        }
        while let Some(event) = self.client.poll_event() {
            self.events.push(event);
        }
    }

    /// Takes what the client sent since the last call.
    pub fn take_sent(&mut self) -> String {
        self.pump();
        String::from_utf8(std::mem::take(&mut self.sent)).unwrap()
    }

    /// The result of a handle, if it completed.
    pub fn result(&self, handle: CommandHandle) -> Option<&Result<Reply, Pop3Error>> {
        self.events.iter().find_map(|e| match e {
            Event::Completed { handle: h, result } if *h == handle => Some(result),
            _ => None,
        })
    }

    pub fn ok(&self, handle: CommandHandle) -> &Reply {
        match self.result(handle) {
            Some(Ok(reply)) => reply,
            other => panic!("{handle:?}: expected a reply, got {other:?}"),
        }
    }

    pub fn err(&self, handle: CommandHandle) -> &Pop3Error {
        match self.result(handle) {
            Some(Err(err)) => err,
            other => panic!("{handle:?}: expected an error, got {other:?}"),
        }
    }

    pub fn transcript(&self) -> Vec<&TranscriptEntry> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Transcript(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.transcript().iter().map(|t| t.explain.key).collect()
    }

    pub fn states(&self) -> Vec<SessionState> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::StateChanged(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    pub fn completions(&self) -> Vec<(CommandHandle, Result<Reply, Pop3Error>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Completed { handle, result } => Some((*handle, result.clone())),
                _ => None,
            })
            .collect()
    }
}

/// `\n` → CRLF.
pub fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}
