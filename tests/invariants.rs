//! ARCHITECTURE.md's "no IO and no clock in the engine", enforced: the engine's sources outside
//! `src/wasm/` (the one layer that owns a browser's sockets and timers) name no socket, file,
//! thread, process or clock API. Test modules (`#[cfg(test)]` / `#[cfg(all(test, …))]`, which
//! stand at the end of a file) may use files: the scan stops at them.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

/// What the engine must never call: IO, threads, processes, the clock (`Instant::now` panics
/// on wasm32), and async runtimes.
const FORBIDDEN: &[&str] = &[
    "std::net",
    "std::fs",
    "std::thread",
    "std::process",
    "std::time",
    "Instant",
    "SystemTime",
    "tokio",
    "std::io::stdin",
    "std::env",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "wasm") {
                continue;
            }
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `code` that name a forbidden API, before its test module, comments skipped.
fn offending_lines(code: &str) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") || trimmed.starts_with("#[cfg(all(test") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code_part = trimmed.split("//").next().unwrap_or("");
        if FORBIDDEN.iter().any(|f| code_part.contains(f)) {
            hits.push((n + 1, line.to_owned()));
        }
    }
    hits
}

#[test]
fn the_engine_touches_no_socket_file_thread_or_clock() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found only {} sources", files.len());
    let mut hits = Vec::new();
    for file in files {
        let code = fs::read_to_string(&file).unwrap();
        for (n, line) in offending_lines(&code) {
            hits.push(format!("{}:{n}: {}", file.display(), line.trim()));
        }
    }
    assert!(
        hits.is_empty(),
        "IO or a clock in the engine:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_scan_finds_what_it_forbids() {
    let code = "use std::time::Instant;\nfn f() { let _ = Instant::now(); }\n// std::fs in a comment\n#[cfg(test)]\nmod tests { use std::fs; }\n";
    let hits = offending_lines(code);
    assert_eq!(hits.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 2]);
}
