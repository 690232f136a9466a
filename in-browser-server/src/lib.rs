//! # popwire-teaching-server-wasm — the teaching POP3 server inside the page
//!
//! The engine's sans-IO [`popwire::server::ServerSession`] and in-memory store
//! ([`popwire::server::MemoryStore`], seeded with the samples) as one **simulated** server for a
//! Web Worker (`www/server-worker.js`): connections that behave like TCP streams, a virtual
//! clock the page can move, fault modes, and a view of the server's side. [`host::Host`] is
//! the logic (native and tested natively); on wasm32, `ServerHost` exports it to JavaScript.
//! The worker's message protocol is in `docs/in-browser-server.md`.

pub mod host;
mod samples;

#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(target_arch = "wasm32")]
pub use js::ServerHost;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
