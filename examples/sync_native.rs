//! The native runner of the latency benchmark (benches/latency/): one full maildrop sync with
//! the popwire engine over a blocking `std::net::TcpStream`, timed, as one JSON line.
//!
//! ```text
//! cargo run --release --example sync_native -- HOST:PORT USER PASS MODE [WINDOW]
//! ```
//!
//! A sync is: connect, greeting, CAPA, USER, PASS, UIDL, RETR of every message, QUIT. Each body
//! is counted and dropped as soon as its reply completes. MODE says how the RETRs go out:
//!
//! - `await`: one at a time, each queued when the previous one completed;
//! - `all`: all at once (the engine pipelines them when CAPA lists PIPELINING);
//! - `window`: at most WINDOW (default 16) in flight, the next queued as one completes;
//! - `batch`: the engine's batch API (`retr_many`, WINDOW messages at most, 0 for the default
//!   of 1,000, and its default byte budget of 32 MiB by LIST's sizes); PASS goes out with USER
//!   and LIST with UIDL, each pair in one round trip, as PIPELINING allows.
//!
//! It prints `{"client":"native","mode":…,"messages":…,"bytes":…,"totalMs":…,"loginMs":…,
//! "uidlMs":…,"retrMs":…,"idleRssKb":…,"peakRssKb":…}`: `totalMs` from before connect to the
//! QUIT reply, `retrMs` from the first RETR queued to the last one completed, `idleRssKb` the
//! resident set after login (before UIDL), `peakRssKb` the high-water mark at the end (both
//! from /proc/self/status; 0 where it cannot be read). A benchmark tool, not part of the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use popwire::client::{BatchOptions, Reply};
use popwire::{Client, ClientConfig, CommandHandle, Event};

/// One connection and its engine.
struct Session {
    tcp: TcpStream,
    client: Client,
    start: Instant,
    buf: Vec<u8>,
    closed: bool,
}

impl Session {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Hands every event to `on_event` (which may queue more commands) and writes what the
    /// engine has queued, until `on_event` returns `true`; reads from the socket in between.
    fn drive(
        &mut self,
        mut on_event: impl FnMut(&mut Client, Event) -> Result<bool, String>,
    ) -> Result<(), String> {
        loop {
            let mut done = false;
            while let Some(event) = self.client.poll_event() {
                if let Event::Completed {
                    result: Err(e),
                    handle,
                } = &event
                {
                    return Err(format!("command {handle:?} failed: {e}"));
                }
                if on_event(&mut self.client, event)? {
                    done = true;
                }
            }
            // Whatever is queued (before the call or by the handler) goes out before waiting.
            let now = self.now();
            while let Some(bytes) = self.client.poll_transmit(now) {
                self.tcp
                    .write_all(&bytes)
                    .map_err(|e| format!("write: {e}"))?;
            }
            if done {
                return Ok(());
            }
            if self.closed {
                return Err("the server closed the connection".into());
            }
            let n = self
                .tcp
                .read(&mut self.buf)
                .map_err(|e| format!("read: {e}"))?;
            let now = self.now();
            if n == 0 {
                // The engine fails what is open; the next turn reports it or gives up.
                self.client
                    .handle_close(now, "the server closed the connection");
                self.closed = true;
            } else {
                self.client.feed(now, &self.buf[..n]);
            }
        }
    }

    /// Runs until `handle` completes and returns its reply.
    fn wait(&mut self, handle: CommandHandle) -> Result<Reply, String> {
        let mut reply = None;
        self.drive(|_, event| match event {
            Event::Completed { handle: h, result } if h == handle => {
                reply = Some(result.map_err(|e| e.to_string())?);
                Ok(true)
            }
            _ => Ok(false),
        })?;
        reply.ok_or_else(|| "no reply".into())
    }
}

/// A line of /proc/self/status in KiB (`VmRSS`, `VmHWM`), 0 where it cannot be read.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_owned))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What the RETR phase received.
#[derive(Default)]
struct Counted {
    messages: u64,
    bytes: u64,
}

/// Counts a completed RETR's body (and drops it); `false` if `event` is not a RETR's reply.
fn count(counted: &mut Counted, event: &Event) -> bool {
    if let Event::Completed {
        result: Ok(Reply::Message(body)),
        ..
    } = event
    {
        counted.messages += 1;
        counted.bytes += body.len() as u64;
        true
    } else {
        false
    }
}

/// RETR of every id, at most `window` in flight (1: await each; `ids.len()`: all at once).
fn retr_windowed(s: &mut Session, ids: &[u32], window: usize) -> Result<Counted, String> {
    let mut counted = Counted::default();
    if ids.is_empty() {
        return Ok(counted);
    }
    let mut next = ids.iter();
    let mut in_flight: VecDeque<CommandHandle> = VecDeque::new();
    // The engine keeps at most ClientConfig::max_queued commands waiting.
    let window = window.clamp(1, 1000);
    for &id in next.by_ref().take(window) {
        in_flight.push_back(s.client.retr(id).map_err(|e| e.to_string())?);
    }
    let mut err = None;
    s.drive(|client, event| {
        if count(&mut counted, &event) {
            in_flight.pop_front();
            if let Some(&id) = next.next() {
                match client.retr(id) {
                    Ok(h) => in_flight.push_back(h),
                    Err(e) => {
                        err = Some(e.to_string());
                        return Ok(true);
                    }
                }
            }
        }
        Ok(in_flight.is_empty())
    })?;
    match err {
        Some(e) => Err(e),
        None => Ok(counted),
    }
}

/// RETR of every id through the engine's batch API: `retr_many` paces the RETRs itself (a
/// window of `window` messages, 0 for the default, and the default byte budget by LIST's
/// sizes); each message is counted and dropped as its event is taken, which frees its place.
fn retr_batch(s: &mut Session, ids: &[u32], window: usize) -> Result<Counted, String> {
    let mut options = BatchOptions::default();
    if window > 0 {
        options.max_messages = window;
    }
    let batch = s
        .client
        .retr_many(ids, options)
        .map_err(|e| e.to_string())?;
    let mut counted = Counted::default();
    if batch.is_empty() {
        return Ok(counted);
    }
    s.drive(|client, event| {
        if let Event::Completed { handle, .. } = &event {
            if batch.position(*handle).is_some() {
                count(&mut counted, &event);
            }
        }
        Ok(client.batch_remaining(&batch) == 0)
    })?;
    Ok(counted)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, user, pass, mode, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: sync_native HOST:PORT USER PASS await|all|window|batch [WINDOW]".into(),
        );
    };
    let window: usize = match rest.first() {
        Some(w) => w.parse().map_err(|_| format!("bad window {w:?}"))?,
        None => 16,
    };
    if !["await", "all", "window", "batch"].contains(&mode.as_str()) {
        return Err(format!("unknown mode {mode:?}"));
    }

    let start = Instant::now();
    let tcp = TcpStream::connect(addr.as_str()).map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let mut s = Session {
        tcp,
        client: Client::new(ClientConfig::default(), 0),
        start,
        buf: vec![0; 64 * 1024],
        closed: false,
    };
    s.drive(|_, event| Ok(matches!(event, Event::Greeting(_))))?;
    let h = s.client.capa().map_err(|e| e.to_string())?;
    s.wait(h)?;
    let h = s.client.user(user).map_err(|e| e.to_string())?;
    if mode != "batch" || !s.client.is_pipelining() {
        s.wait(h)?;
    }
    // batch: with PIPELINING, PASS goes out with USER (the engine allows it after CAPA).
    let h = s.client.pass(pass).map_err(|e| e.to_string())?;
    s.wait(h)?;
    let login_ms = start.elapsed().as_secs_f64() * 1e3;
    let idle_rss = status_kb("VmRSS");

    let t_uidl = Instant::now();
    let h = s.client.uidl(None).map_err(|e| e.to_string())?;
    let listing = if mode == "batch" {
        // batch: LIST goes out with UIDL (one round trip with PIPELINING), so the batch's byte
        // budget knows each message's size.
        let list = s.client.list(None).map_err(|e| e.to_string())?;
        let (mut uidl, mut listed) = (None, false);
        s.drive(|_, event| {
            if let Event::Completed { handle, result } = event {
                match result {
                    Ok(Reply::Uidl(entries)) if handle == h => uidl = Some(entries),
                    Ok(_) if handle == list => listed = true,
                    _ => {}
                }
            }
            Ok(uidl.is_some() && listed)
        })?;
        uidl.unwrap_or_default()
    } else {
        let Reply::Uidl(listing) = s.wait(h)? else {
            return Err("UIDL gave no listing".into());
        };
        listing
    };
    let uidl_ms = t_uidl.elapsed().as_secs_f64() * 1e3;
    // A real client would skip the unique-ids it already has; the benchmark has none.
    let ids: Vec<u32> = listing.iter().map(|e| e.id).collect();

    let t_retr = Instant::now();
    let counted = match mode.as_str() {
        "await" => retr_windowed(&mut s, &ids, 1)?,
        "all" => retr_windowed(&mut s, &ids, ids.len())?,
        "window" => retr_windowed(&mut s, &ids, window)?,
        _ => retr_batch(&mut s, &ids, window)?,
    };
    let retr_ms = t_retr.elapsed().as_secs_f64() * 1e3;
    if counted.messages != ids.len() as u64 {
        return Err(format!(
            "{} of {} messages retrieved",
            counted.messages,
            ids.len()
        ));
    }

    let h = s.client.quit().map_err(|e| e.to_string())?;
    s.wait(h)?;
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    let peak_rss = status_kb("VmHWM");
    let window_field = if mode == "window" || mode == "batch" {
        format!(",\"window\":{window}")
    } else {
        String::new()
    };
    println!(
        "{{\"client\":\"native\",\"mode\":\"{mode}\"{window_field},\"messages\":{},\"bytes\":{},\"totalMs\":{total_ms:.1},\"loginMs\":{login_ms:.1},\"uidlMs\":{uidl_ms:.1},\"retrMs\":{retr_ms:.1},\"idleRssKb\":{idle_rss},\"peakRssKb\":{peak_rss}}}",
        counted.messages, counted.bytes
    );
    Ok(())
}
