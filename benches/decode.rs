//! Throughput of multi-line body decoding, each figure beside its baseline, all over the same
//! ≥ 64 MiB byte-stuffed body fed in 16 KiB chunks: a `memcpy` of the same octets into a
//! preallocated buffer (the ceiling of a decoder that writes its output) and into a fresh one
//! (what handing over a new buffer per message costs: its pages are faulted in), [`BodyDecoder`]
//! alone, and the whole [`Client`] path for a `RETR` with LIST's size known, without it, and
//! streamed (`retr_stream` / `take_body`, no message-sized buffer). A memchr LF count is printed
//! for reference: it writes nothing, so it is no ceiling. Decoding in the receive buffer
//! ([`BodyDecoder::decode_in_place`], each chunk's body handed on from there) is printed beside
//! its own ceiling, the same receive loop handing on each chunk undecoded.
//!
//! Run with `cargo bench --bench decode`. Each figure is the median of several timed runs after
//! a warm-up; MB/s are 10^6 octets of wire body (the byte-stuffed body with its `.CRLF`) per
//! second. No external benchmark harness: a plain `fn main`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use popwire::codec::{stuff_body, BodyDecoder};
use popwire::{Client, ClientConfig, Event};

/// Size of the decoded body to build (the wire body is a little larger).
const BODY_TARGET: usize = 64 * 1024 * 1024;
/// Size of one read from the "socket".
const CHUNK: usize = 16 * 1024;
/// Timed runs per measurement (after one warm-up run).
const RUNS: usize = 7;

#[path = "common/mail.rs"]
mod mail;

/// The header block that starts each message of the body.
const HEADERS: &[&str] = &[
    "Received: from mx.example.org (mx.example.org [192.0.2.25]) by pop.example.net",
    "Message-ID: <20240611123456.4f2a9c@mail.example.org>",
    "Date: Tue, 11 Jun 2024 12:34:56 +0200",
    "From: Alice Example <alice@example.org>",
    "To: Bob Example <bob@example.net>",
    "Subject: Re: quarterly report and the meeting schedule for next week",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=\"=_boundary_4f2a9c\"",
];

/// Builds a maildrop-like body of at least `target` octets, CRLF line ends, and counts its lines
/// and how many begin with a dot.
fn build_body(target: usize) -> (Vec<u8>, usize, usize) {
    let mut rng = mail::Rng(mail::SEED);
    let mut body = Vec::with_capacity(target + 4096);
    let stats = mail::append_text(&mut rng, &mut body, target, HEADERS);
    (body, stats.lines, stats.dotted)
}

/// Median of `RUNS` timed runs of `f` after one warm-up run.
fn median_time(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[RUNS / 2]
}

fn mb_per_s(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64()
}

/// (a) The ceiling: count LFs in every chunk with memchr.
fn scan_lf(wire: &[u8]) -> usize {
    wire.chunks(CHUNK)
        .map(|chunk| memchr::memchr_iter(b'\n', black_box(chunk)).count())
        .sum()
}

/// (m) The decoder's real ceiling: the same wire octets copied, a chunk at a time, into a
/// preallocated buffer (what any decoder that writes its output must at least do).
fn copy_body(wire: &[u8], out: &mut Vec<u8>) {
    for chunk in wire.chunks(CHUNK) {
        out.extend_from_slice(black_box(chunk));
    }
}

/// (b) `BodyDecoder` driven like the client drives it: each chunk is appended to a buffer that
/// keeps the unconsumed octets, decoded from there, and the consumed octets drained.
fn decode_body(wire: &[u8], out: &mut Vec<u8>) -> bool {
    let mut decoder = BodyDecoder::new(u64::MAX);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 2);
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(black_box(chunk));
        let progress = decoder.decode(&buf, out);
        buf.drain(..progress.consumed);
        if progress.finished {
            return true;
        }
    }
    false
}

/// (r) The ceiling of (i): the receive loop alone. Each chunk is appended to the receive
/// buffer and handed on from there undecoded (here: its length summed).
fn receive_only(wire: &[u8]) -> usize {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 2);
    let mut total = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(black_box(chunk));
        total += black_box(&buf[..]).len();
        buf.clear();
    }
    total
}

/// (i) `BodyDecoder::decode_in_place` in that receive loop: each chunk is appended to the
/// buffer that keeps the unconsumed octets, decoded within it, its body (the front of the
/// buffer) handed to `sink`, and the consumed octets drained. Returns whether the end was found.
fn decode_body_in_place(wire: &[u8], mut sink: impl FnMut(&[u8])) -> bool {
    let mut decoder = BodyDecoder::new(u64::MAX);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 2);
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(black_box(chunk));
        let progress = decoder.decode_in_place(&mut buf);
        sink(buf.get(..progress.body).unwrap_or_default());
        buf.drain(..progress.consumed);
        if progress.finished {
            return true;
        }
    }
    false
}

/// A client that has the greeting and is logged in (USER/PASS answered `+OK`).
fn logged_in_client() -> Option<Client> {
    let config = ClientConfig {
        max_body: 1 << 30,
        ..Default::default()
    };
    let mut client = Client::new(config, 0);
    client.feed(0, b"+OK POP3 ready\r\n");
    client.user("bench").ok()?;
    client.poll_transmit(0)?;
    client.feed(1, b"+OK\r\n");
    client.pass("secret").ok()?;
    client.poll_transmit(1)?;
    client.feed(2, b"+OK logged in\r\n");
    while client.poll_event().is_some() {}
    Some(client)
}

/// (c) The whole client path: `RETR 1`, then `+OK` and the body fed in chunks, events drained
/// after every feed, until the command completes. Returns the message's length. With
/// `list_size`, a `LIST 1` reply gives the size first (as a page does), so the client can
/// allocate the message once.
fn client_retr(stream: &[u8], list_size: Option<usize>) -> Option<usize> {
    let mut client = logged_in_client()?;
    if let Some(size) = list_size {
        client.list(Some(1)).ok()?;
        client.poll_transmit(3)?;
        client.feed(3, format!("+OK 1 {size}\r\n").as_bytes());
        while client.poll_event().is_some() {}
    }
    let handle = client.retr(1).ok()?;
    client.poll_transmit(3)?;
    for chunk in stream.chunks(CHUNK) {
        client.feed(4, black_box(chunk));
        while let Some(event) = client.poll_event() {
            if let Event::Completed { handle: h, result } = event {
                if h == handle {
                    return match result {
                        Ok(popwire::client::Reply::Message(m)) => Some(black_box(m).len()),
                        _ => None,
                    };
                }
            }
        }
    }
    None
}

/// (s) The client streaming the body (`retr_stream`): each read's decoded octets are taken with
/// `take_body` and handed to `sink` (here: counted), so no message-sized buffer is ever built.
fn client_retr_streamed(stream: &[u8]) -> Option<usize> {
    let mut client = logged_in_client()?;
    let handle = client.retr_stream(1).ok()?;
    client.poll_transmit(3)?;
    let mut total = 0;
    for chunk in stream.chunks(CHUNK) {
        client.feed(4, black_box(chunk));
        if let Some(piece) = client.take_body(handle) {
            total += black_box(piece).len();
        }
        while let Some(event) = client.poll_event() {
            if let Event::Completed { handle: h, result } = event {
                if h == handle {
                    return match result {
                        Ok(popwire::client::Reply::Message(rest)) => Some(total + rest.len()),
                        _ => None,
                    };
                }
            }
        }
    }
    None
}

fn main() {
    let t0 = Instant::now();
    let (body, lines, dotted) = build_body(BODY_TARGET);
    let mut wire = Vec::new();
    stuff_body(&body, &mut wire);
    let mut stream = b"+OK message follows\r\n".to_vec();
    stream.extend_from_slice(&wire);
    println!(
        "maildrop: {} lines, {:.1}% begin with '.', body {:.1} MiB, wire {:.1} MiB ({} octets), \
         {} KiB chunks; built in {:.2} s",
        lines,
        100.0 * dotted as f64 / lines as f64,
        body.len() as f64 / (1 << 20) as f64,
        wire.len() as f64 / (1 << 20) as f64,
        wire.len(),
        CHUNK / 1024,
        t0.elapsed().as_secs_f64()
    );

    // Correctness first (outside the timings): every path gives back the body.
    let mut out = Vec::with_capacity(wire.len());
    let finished = decode_body(&wire, &mut out);
    let client_len = client_retr(&stream, None);
    let listed_len = client_retr(&stream, Some(body.len()));
    let streamed_len = client_retr_streamed(&stream);
    let mut in_place = Vec::with_capacity(wire.len());
    let in_place_finished = decode_body_in_place(&wire, |piece| in_place.extend_from_slice(piece));
    if !finished
        || !in_place_finished
        || in_place != body
        || out != body
        || client_len != Some(body.len())
        || listed_len != client_len
        || streamed_len != client_len
    {
        eprintln!(
            "decode mismatch: finished={finished} decoded={} client={client_len:?} body={}",
            out.len(),
            body.len()
        );
        std::process::exit(1);
    }

    let n = wire.len();
    let t_scan = median_time(|| {
        black_box(scan_lf(black_box(&wire)));
    });
    // The ceiling: the same octets copied into a buffer allocated (and faulted in) once.
    let mut copy = Vec::with_capacity(wire.len());
    let t_copy = median_time(|| {
        copy.clear();
        copy_body(black_box(&wire), &mut copy);
        black_box(&copy);
    });
    // The same copy into a fresh buffer of the right size each run: what any path that hands
    // over a new Vec per message pays (the kernel faults its pages in as they are written).
    let t_copy_fresh = median_time(|| {
        let mut fresh = Vec::with_capacity(wire.len());
        copy_body(black_box(&wire), &mut fresh);
        black_box(&fresh);
    });
    // Output preallocated (capacity of the whole wire body), cleared before each run.
    let t_decode = median_time(|| {
        out.clear();
        black_box(decode_body(black_box(&wire), &mut out));
        black_box(&out);
    });
    // Output not preallocated: a fresh Vec grows as the body arrives.
    let t_decode_grow = median_time(|| {
        let mut fresh = Vec::new();
        black_box(decode_body(black_box(&wire), &mut fresh));
        black_box(&fresh);
    });
    let t_receive = median_time(|| {
        black_box(receive_only(black_box(&wire)));
    });
    let t_in_place = median_time(|| {
        let mut total = 0;
        black_box(decode_body_in_place(black_box(&wire), |piece| {
            total += black_box(piece).len();
        }));
        black_box(total);
    });
    let t_client_listed = median_time(|| {
        black_box(client_retr(black_box(&stream), Some(body.len())));
    });
    let t_client = median_time(|| {
        black_box(client_retr(black_box(&stream), None));
    });

    let t_streamed = median_time(|| {
        black_box(client_retr_streamed(black_box(&stream)));
    });

    let mb = |t| mb_per_s(n, t);
    let (a, m, m2) = (mb(t_scan), mb(t_copy), mb(t_copy_fresh));
    let (b, b2) = (mb(t_decode), mb(t_decode_grow));
    let (c, c2, c3) = (mb(t_client), mb(t_client_listed), mb(t_streamed));
    let (r, i) = (mb(t_receive), mb(t_in_place));
    println!("median of {RUNS} runs after a warm-up, MB/s = 10^6 wire-body octets per second");
    println!("row                                              MB/s   against its baseline");
    println!("(a)  memchr LF scan (no output)              {a:9.0}");
    println!("(m)  memcpy into a preallocated buffer       {m:9.0}   the ceiling of (b)");
    println!(
        "(m') memcpy into a fresh buffer per run       {m2:9.0}   (m')/(m) = {:.2}: page faults",
        m2 / m
    );
    println!(
        "(b)  BodyDecoder, output preallocated         {b:9.0}   (b)/(m)  = {:.2}  (goal >= 0.5)",
        b / m
    );
    println!(
        "(b') BodyDecoder, fresh output Vec grows      {b2:9.0}   (b')/(m') = {:.2}",
        b2 / m2
    );
    println!("(r)  receive loop, chunks handed on undecoded {r:9.0}   the ceiling of (i)");
    println!(
        "(i)  BodyDecoder in place, in receive buffer  {i:9.0}   (i)/(r)  = {:.2}, (i)/(b) = {:.2}",
        i / r,
        i / b
    );
    println!(
        "(c') Client LIST 1 then RETR (size known)     {c2:9.0}   (c')/(m') = {:.2}",
        c2 / m2
    );
    println!(
        "(c)  Client RETR, size unknown                {c:9.0}   (c)/(c')  = {:.2}  (goal >= 0.97)",
        c / c2
    );
    println!(
        "(s)  Client RETR streamed (take_body)         {c3:9.0}   (s)/(c')  = {:.2}, (s)/(m) = {:.2}",
        c3 / c2,
        c3 / m
    );
    println!("total {:.1} s", t0.elapsed().as_secs_f64());
    summarise(&[
        (
            "3",
            "decoder, output preallocated (b)",
            b,
            "memcpy (m)",
            m,
            ">= 0.5",
        ),
        ("3", "decoder in place (i)", i, "receive loop (r)", r, ""),
        (
            "2",
            "native client RETR, size unknown (c)",
            c,
            "LIST first (c')",
            c2,
            ">= 0.97",
        ),
    ]);
}

/// Appends this run's figures to `make bench`'s summary (`POPWIRE_BENCH_SUMMARY`, one JSON
/// object per line: benches/summary.py prints them side by side), when it is set.
fn summarise(rows: &[(&str, &str, f64, &str, f64, &str)]) {
    let Some(path) = std::env::var_os("POPWIRE_BENCH_SUMMARY") else {
        return;
    };
    let mut out = String::new();
    for (section, figure, value, baseline, base, goal) in rows {
        out.push_str(&format!(
            "{{\"section\":\"{section}\",\"figure\":\"{figure}\",\"value\":{value:.0},\"unit\":\"MB/s\",\"baseline\":\"{baseline}\",\"baselineValue\":{base:.0},\"ratio\":{:.3},\"goal\":\"{goal}\"}}\n",
            value / base
        ));
    }
    use std::io::Write;
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(out.as_bytes()));
    if let Err(e) = written {
        eprintln!("could not append to {}: {e}", path.to_string_lossy());
    }
}
