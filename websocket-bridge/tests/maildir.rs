//! The Maildir store through the teaching server: sizes are what RETR sends, and a RETR reads
//! the file once into the buffer the server streams from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use popwire::server::{Mailstore, ServerConfig, ServerSession};
use popwire_bridge::demo::maildir::MaildirStore;

fn maildir(root: &Path, user: &str) -> std::path::PathBuf {
    let dir = root.join(user);
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

/// Runs `input` through a fresh session and returns everything it sent.
fn session(store: &dyn Mailstore, input: &[u8]) -> Vec<u8> {
    let mut session = ServerSession::new(ServerConfig::default(), 0, "t");
    session.feed(0, input);
    let mut out = Vec::new();
    while let Some(bytes) = session.poll_transmit(0, store) {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Reads replies off the wire in order.
struct Replies<'a>(&'a [u8]);

impl Replies<'_> {
    /// The next status line, without CRLF; it must be `+OK`.
    fn ok(&mut self) -> String {
        let end = self.0.windows(2).position(|w| w == b"\r\n").unwrap();
        let line = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = &self.0[end + 2..];
        assert!(line.starts_with("+OK"), "{line}");
        line
    }

    /// The next multi-line reply's body, dot-unstuffed.
    fn body(&mut self) -> Vec<u8> {
        self.ok();
        let mut body = Vec::new();
        loop {
            let end = self.0.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            let line = &self.0[..end];
            self.0 = &self.0[end..];
            if line == b".\r\n" {
                return body;
            }
            body.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
    }
}

#[test]
fn list_and_stat_sizes_are_what_retr_sends() {
    let root = tempfile::tempdir().unwrap();
    let dir = maildir(root.path(), "u");
    let files: [&[u8]; 10] = [
        b"Subject: lf\n\nbody\n",
        b"Subject: lf, no final LF\n\nbody",
        b"Subject: crlf\r\n\r\nbody\r\n",
        b"Subject: crlf, no final line end\r\n\r\nbody",
        b"Subject: mixed\n\r\n.dot\nx\ry\r",
        b"Subject: dots\n\n.\n..\n.x",
        b"Subject: only CR at the end\r",
        b"no header, one line",
        b"\n",
        b"",
    ];
    for (i, content) in files.iter().enumerate() {
        let path = dir.join("cur").join(format!("{i:02}.host:2,"));
        fs::write(&path, content).unwrap();
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + i as u64);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }
    let store = MaildirStore::open(root.path(), HashMap::new(), "pw".into()).unwrap();
    let mut input = b"USER u\r\nPASS pw\r\nSTAT\r\nLIST\r\n".to_vec();
    for n in 1..=files.len() {
        input.extend_from_slice(format!("RETR {n}\r\nLIST {n}\r\n").as_bytes());
    }
    input.extend_from_slice(b"QUIT\r\n");
    let wire = session(&store, &input);
    let text = String::from_utf8_lossy(&wire).into_owned();
    assert!(!text.contains("-ERR"), "{text}");

    let mut replies = Replies(&wire);
    replies.ok(); // greeting
    replies.ok(); // USER
    replies.ok(); // PASS
    let stat = replies.ok();
    let total: u64 = stat.split(' ').nth(2).unwrap().parse().unwrap();
    let list = String::from_utf8(replies.body()).unwrap();
    let sizes: Vec<u64> = list
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(sizes.len(), files.len());
    assert_eq!(sizes.iter().sum::<u64>(), total, "STAT is the sum of LIST");
    let mut sent_total = 0u64;
    for (i, size) in sizes.iter().enumerate() {
        let body = replies.body();
        assert_eq!(
            body.len() as u64,
            *size,
            "message {}: {:?}",
            i + 1,
            String::from_utf8_lossy(&body)
        );
        assert!(body.is_empty() || body.ends_with(b"\r\n"));
        sent_total += body.len() as u64;
        assert_eq!(replies.ok(), format!("+OK {} {size}", i + 1));
    }
    assert_eq!(sent_total, total);
    replies.ok(); // QUIT
    assert!(replies.0.is_empty());
}

/// Runs the binary with `args` until it writes its ready file or exits; then kills it and
/// returns whether it got ready, and its standard error.
fn run_bridge(args: &[&str], work: &Path) -> (bool, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let ready = work.join("ready.json");
    let _ = fs::remove_file(&ready);
    let www = work.join("www");
    fs::create_dir_all(&www).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
        .args([
            "--demo",
            "--demo-pop3",
            "127.0.0.1:0",
            "--demo-pop3s",
            "127.0.0.1:0",
        ])
        .args(args)
        .arg("--www")
        .arg(&www)
        .arg("--ready-file")
        .arg(&ready)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let got_ready = loop {
        if ready.exists() {
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (got_ready, stderr)
}

#[test]
fn maildir_without_a_password_file_is_refused_off_loopback_and_warned_about_on_it() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    maildir(root.path(), "u");
    let dir = root.path().to_str().unwrap();

    let (ready, stderr) = run_bridge(&["--listen", "0.0.0.0:0", "--maildir", dir], work.path());
    assert!(!ready, "{stderr}");
    assert!(stderr.contains("add --demo-password-file FILE"), "{stderr}");
    assert!(
        stderr.contains("0.0.0.0:0 is not a loopback address"),
        "{stderr}"
    );

    let (ready, stderr) = run_bridge(&["--listen", "127.0.0.1:0", "--maildir", dir], work.path());
    assert!(ready, "{stderr}");
    assert!(
        stderr.contains("WARNING") && stderr.contains("EVERY account under it logs in"),
        "{stderr}"
    );
    assert!(stderr.contains("--demo-password-file"), "{stderr}");

    let passwords = work.path().join("passwords");
    fs::write(&passwords, "u:s3cret\n").unwrap();
    let (ready, stderr) = run_bridge(
        &[
            "--listen",
            "127.0.0.1:0",
            "--maildir",
            dir,
            "--demo-password-file",
            passwords.to_str().unwrap(),
        ],
        work.path(),
    );
    assert!(ready, "{stderr}");
    assert!(!stderr.contains("WARNING"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
