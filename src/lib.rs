//! # popwire — a sans-IO POP3 engine
//!
//! popwire speaks POP3 (RFC 1939) with its extensions — CAPA and response codes (RFC 2449,
//! RFC 3206), SASL `AUTH` (RFC 5034), APOP, `STLS` (RFC 2595) and `UTF8` (RFC 6856) — without
//! doing any IO and without reading a clock. Bytes go in with [`client::Client::feed`]; events
//! and bytes come out with [`client::Client::poll_event`] and [`client::Client::poll_transmit`];
//! time is passed in as milliseconds. The same engine runs natively and in WebAssembly.
//!
//! The crate is layered like imap-codec: [`codec`] frames lines and parses replies and commands
//! (both directions, so the teaching server shares it), [`client`] is the session state machine,
//! [`auth`] holds APOP and the SASL mechanisms, and [`explain`](mod@explain) names every
//! transcript entry with a stable key and its RFC section so that a page can explain it in any
//! language.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod auth;
pub mod bridge_protocol;
pub mod client;
pub mod codec;
pub mod explain;
pub mod mime;
#[cfg(feature = "server")]
pub mod server;
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod wasm;

pub use client::{Client, ClientConfig, CommandHandle, Event, Pop3Error, SessionState};
pub use explain::{Direction, Explain, TranscriptEntry};

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
