//! The misbehaving-server fixture as a process, for the browser tests (scripts/test-browser.sh).
//!
//! ```text
//! cargo run --example misbehaving_fixture -- --scenarios tests/fixtures/misbehaving \
//!     --ready-file /tmp/fixture.json [--runs browser]
//! ```
//!
//! Listens on one 127.0.0.1 port per scenario (those that run on `--runs`, default all), then
//! writes `{"report": "http://127.0.0.1:PORT/", "scenarios": {"NAME": PORT, ...}}` to the ready
//! file. `GET /` on the report address answers every connection's report as JSON
//! (`{"NAME": [{"failures": [...], "completed": bool, "finished": bool, ...}]}`), with
//! `Access-Control-Allow-Origin: *` so a test page can read it. It is a test tool, not part of
//! the bridge's binary. See tests/fixtures/misbehaving/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/fixture/mod.rs"]
mod fixture;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::time::Duration;

    let mut scenarios_dir = PathBuf::from("tests/fixtures/misbehaving");
    let mut ready_file: Option<PathBuf> = None;
    let mut runs: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--scenarios" => scenarios_dir = value()?.into(),
            "--ready-file" => ready_file = Some(value()?.into()),
            "--runs" => runs = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let scenarios: Vec<_> = fixture::Scenario::load_dir(&scenarios_dir)?
        .into_iter()
        .filter(|s| match runs.as_deref() {
            Some(r) => s.runs_on(r),
            None => true,
        })
        .collect();
    let fx = fixture::Fixture::start(&scenarios).map_err(|e| e.to_string())?;
    let report = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let report_addr = report.local_addr().map_err(|e| e.to_string())?;
    let ports: serde_json::Map<String, serde_json::Value> = fx
        .addrs
        .iter()
        .map(|(name, addr)| (name.clone(), addr.port().into()))
        .collect();
    let ready = serde_json::json!({
        "report": format!("http://{report_addr}/"),
        "scenarios": ports,
    });
    match &ready_file {
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, ready.to_string()).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, path).map_err(|e| e.to_string())?;
        }
        None => println!("{ready}"),
    }
    for stream in report.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        // Read the request head (whatever it asks, the answer is every report).
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let body = serde_json::to_string(&*fx.reports.lock().unwrap()).unwrap_or_default();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes());
    }
    Ok(())
}

/// The fixture needs sockets and threads: nothing to run on wasm32.
#[cfg(target_arch = "wasm32")]
fn main() {}
