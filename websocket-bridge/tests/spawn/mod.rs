//! The built binary as a child process: started in a folder of its own (no checkout around
//! it), its log in a file, its addresses from `--ready-file`; killed when dropped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub,
    missing_docs
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a child may take to start.
pub const START: Duration = Duration::from_secs(20);

/// A running `popwire-bridge`.
pub struct Bridge {
    pub child: Child,
    pub http: SocketAddr,
    pub pop3: Option<SocketAddr>,
    pub log: PathBuf,
}

impl Bridge {
    /// `popwire-bridge ARGS --listen 127.0.0.1:0 --ready-file DIR/NAME.ready`, run in `dir`
    /// with its stderr in `DIR/NAME.log` (RUST_LOG=info).
    pub fn start(dir: &Path, name: &str, args: &[&str]) -> Bridge {
        let ready = dir.join(format!("{name}.ready"));
        let log = dir.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&ready);
        let mut child = Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
            .current_dir(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--ready-file")
            .arg(&ready)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                if !text.is_empty() {
                    break text;
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "{name} exited early ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < START, "{name}: no ready file");
            std::thread::sleep(Duration::from_millis(25));
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let http = json["http"].as_str().unwrap().parse().unwrap();
        let pop3 = json["pop3"].as_str().map(|a| a.parse().unwrap());
        Bridge {
            child,
            http,
            pop3,
            log,
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its log once it holds `needle`, or as it is after 20 s: the bridge logs without
    /// blocking (a writer thread), so a line may land a little after the ready file.
    pub fn log_with(&self, needle: &str) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let log = self.log();
            if log.contains(needle) || std::time::Instant::now() >= until {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Kills it with SIGKILL (no goodbye, as a crash) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The checkout's `www/`.
pub fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
}
