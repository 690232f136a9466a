//! The Maildir lock is a kernel lock that dies with its process: two bridges sharing one Maildir
//! never serve one maildrop at once, and `kill -9` around QUIT neither locks anyone out nor
//! loses or duplicates a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use popwire::server::{Mailstore, MailstoreError};
use popwire_bridge::demo::maildir::MaildirStore;

const USER: &str = "u";

fn make_maildir(root: &Path) -> PathBuf {
    let dir = root.join(USER);
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

/// Delivers message number `seq` the way an MTA does: written in tmp/, renamed into new/.
fn deliver(dir: &Path, seq: u64) {
    let name = format!("{seq}.P1Q1.host");
    let tmp = dir.join("tmp").join(&name);
    fs::write(
        &tmp,
        format!("X-Seq: {seq}\nSubject: message {seq}\n\nbody of {seq}\n"),
    )
    .unwrap();
    fs::rename(&tmp, dir.join("new").join(&name)).unwrap();
}

/// The messages on disk (cur/ and new/): unique part of the file name → sequence number.
/// Panics if one sequence number is there twice (a duplicated message).
fn on_disk(dir: &Path) -> BTreeMap<String, u64> {
    let mut found = BTreeMap::new();
    let mut seqs = BTreeSet::new();
    for sub in ["cur", "new"] {
        for entry in fs::read_dir(dir.join(sub)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            if name.starts_with('.') {
                continue;
            }
            let text = fs::read_to_string(entry.path()).unwrap();
            let seq: u64 = text
                .strip_prefix("X-Seq: ")
                .and_then(|t| t.split('\n').next())
                .unwrap_or_else(|| panic!("{name}: not one of ours: {text:?}"))
                .parse()
                .unwrap();
            assert!(seqs.insert(seq), "message {seq} is on disk twice");
            let unique = name.split(':').next().unwrap().to_owned();
            assert!(found.insert(unique, seq).is_none(), "{name} twice");
        }
    }
    found
}

/// A `popwire-bridge --demo --maildir` child process.
struct Bridge {
    child: Child,
    pop3: SocketAddr,
}

impl Bridge {
    fn start(root: &Path, work: &Path) -> Bridge {
        let ready = work.join("ready.json");
        let _ = fs::remove_file(&ready);
        let www = work.join("www");
        fs::create_dir_all(&www).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_popwire-bridge"))
            .args(["--listen", "127.0.0.1:0", "--demo"])
            .args(["--demo-pop3", "127.0.0.1:0", "--demo-pop3s", "127.0.0.1:0"])
            .arg("--maildir")
            .arg(root)
            .arg("--www")
            .arg(&www)
            .arg("--ready-file")
            .arg(&ready)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(pop3) = fs::read_to_string(&ready)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|json| json["pop3"].as_str()?.parse().ok())
            {
                return Bridge { child, pop3 };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the bridge exited early: {status}");
            }
            assert!(started.elapsed() < common::WAIT, "no ready file");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// SIGKILL, and wait until the process is gone.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking POP3 connection.
struct Pop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Pop3 {
    fn connect(addr: SocketAddr) -> Pop3 {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(common::WAIT)).unwrap();
        let writer = tcp.try_clone().unwrap();
        let mut pop3 = Pop3 {
            reader: BufReader::new(tcp),
            writer,
        };
        let greeting = pop3.line();
        assert!(greeting.starts_with("+OK"), "{greeting}");
        pop3
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    fn send(&mut self, command: &str) {
        self.writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
    }

    fn command(&mut self, command: &str) -> String {
        self.send(command);
        self.line()
    }

    /// USER and PASS; the PASS reply.
    fn login(&mut self) -> String {
        let user = self.command(&format!("USER {USER}"));
        assert!(user.starts_with("+OK"), "{user}");
        self.command("PASS pop3")
    }

    /// UIDL: message number → unique-id.
    fn uidl(&mut self) -> Vec<String> {
        let status = self.command("UIDL");
        assert!(status.starts_with("+OK"), "{status}");
        let mut uids = Vec::new();
        loop {
            let line = self.line();
            if line == "." {
                return uids;
            }
            let (n, uid) = line.split_once(' ').unwrap();
            assert_eq!(n.parse::<usize>().unwrap(), uids.len() + 1);
            uids.push(uid.to_owned());
        }
    }
}

/// A tiny deterministic random source (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn two_stores_never_hold_one_maildrop_at_once() {
    let root = tempfile::tempdir().unwrap();
    let dir = make_maildir(root.path());
    for seq in 0..5 {
        deliver(&dir, seq);
    }
    // Two stores stand for two processes: each opens the lock file on its own, and flock locks
    // belong to the open file, so they exclude each other like two processes do.
    let holders = Arc::new(AtomicUsize::new(0));
    let wins: Vec<_> = (0..2)
        .map(|_| {
            let store = MaildirStore::open(root.path(), HashMap::new(), "pw".into()).unwrap();
            let holders = Arc::clone(&holders);
            std::thread::spawn(move || {
                let (mut won, mut in_use) = (0, 0);
                for i in 0..300 {
                    match store.lock(USER) {
                        Ok(infos) => {
                            assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                            assert_eq!(infos.len(), 5);
                            std::thread::sleep(Duration::from_micros(50 + i % 3 * 50));
                            holders.fetch_sub(1, Ordering::SeqCst);
                            if i % 2 == 0 {
                                store.release(USER);
                            } else {
                                store.commit(USER, &[]).unwrap();
                            }
                            won += 1;
                        }
                        Err(MailstoreError::InUse) => in_use += 1,
                        Err(e) => panic!("{e}"),
                    }
                    // Give the other store a chance.
                    std::thread::sleep(Duration::from_micros(30));
                }
                (won, in_use)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    println!("two stores, 300 tries each: (won, in use) = {wins:?}");
    assert!(wins.iter().all(|&(won, _)| won > 0), "{wins:?}");
    assert_eq!(on_disk(&dir).len(), 5);
}

#[test]
fn two_bridges_sharing_a_maildir_serve_a_maildrop_one_at_a_time() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = make_maildir(root.path());
    deliver(&dir, 1);
    let a = Bridge::start(root.path(), &work.path().join("a"));
    let b = Bridge::start(root.path(), &work.path().join("b"));
    let mut first = Pop3::connect(a.pop3);
    assert!(first.login().starts_with("+OK"));
    let mut second = Pop3::connect(b.pop3);
    let refused = second.login();
    assert!(refused.starts_with("-ERR [IN-USE]"), "{refused}");
    assert!(first.command("QUIT").starts_with("+OK"));
    let mut third = Pop3::connect(b.pop3);
    assert!(third.login().starts_with("+OK"));
    // And the other way round.
    let mut fourth = Pop3::connect(a.pop3);
    assert!(fourth.login().starts_with("-ERR [IN-USE]"));
    // A killed holder frees the maildrop at once.
    b.kill9();
    let mut fifth = Pop3::connect(a.pop3);
    assert!(fifth.login().starts_with("+OK"));
    a.kill9();
}

#[test]
fn kill_9_around_quit_never_locks_out_loses_or_duplicates() {
    const ROUNDS: usize = 250;
    // Delays between sending QUIT and SIGKILL, in microseconds; u64::MAX: after QUIT's reply.
    const DELAYS: [u64; 10] = [0, 0, 50, 100, 200, 300, 500, 1_000, 3_000, u64::MAX];
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = make_maildir(root.path());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut next_seq = 0u64;
    // What the last session saw, and which of it that session marked for deletion.
    let mut before: BTreeSet<u64> = BTreeSet::new();
    let mut marked: BTreeSet<u64> = BTreeSet::new();
    let (mut all_gone, mut none_gone, mut partly_gone) = (0, 0, 0);
    let mut lost = 0usize;
    let started = Instant::now();

    for round in 0..=ROUNDS {
        let mut delivered = BTreeSet::new();
        while before.len() - marked.len() + delivered.len() < 30 {
            deliver(&dir, next_seq);
            delivered.insert(next_seq);
            next_seq += 1;
        }
        let bridge = Bridge::start(root.path(), work.path());
        let mut pop3 = Pop3::connect(bridge.pop3);
        // At once: the killed process's lock died with it.
        let pass = pop3.login();
        assert!(pass.starts_with("+OK"), "round {round}: {pass}");

        let disk = on_disk(&dir);
        let present: BTreeSet<u64> = disk.values().copied().collect();
        let must: BTreeSet<u64> = before
            .difference(&marked)
            .chain(&delivered)
            .copied()
            .collect();
        let may: BTreeSet<u64> = before.union(&delivered).copied().collect();
        let missing: Vec<_> = must.difference(&present).collect();
        lost += missing.len();
        assert!(missing.is_empty(), "round {round}: lost {missing:?}");
        let unexpected: Vec<_> = present.difference(&may).collect();
        assert!(
            unexpected.is_empty(),
            "round {round}: {unexpected:?} came back"
        );
        let gone = marked.iter().filter(|s| !present.contains(s)).count();
        if round > 0 {
            match gone {
                0 => none_gone += 1,
                g if g == marked.len() => all_gone += 1,
                _ => partly_gone += 1,
            }
        }

        // The server lists exactly what is on disk, each once.
        let uids = pop3.uidl();
        let by_uid: BTreeMap<&str, u64> = disk.iter().map(|(u, s)| (u.as_str(), *s)).collect();
        assert_eq!(uids.len(), disk.len(), "round {round}");
        let listed: BTreeSet<u64> = uids.iter().map(|u| by_uid[u.as_str()]).collect();
        assert_eq!(listed, present, "round {round}");

        before = present;
        marked.clear();
        if round == ROUNDS {
            assert!(pop3.command("QUIT").starts_with("+OK"));
            bridge.kill9();
            break;
        }
        for (n, uid) in uids.iter().enumerate() {
            if rng.below(3) == 0 {
                assert!(pop3.command(&format!("DELE {}", n + 1)).starts_with("+OK"));
                marked.insert(by_uid[uid.as_str()]);
            }
        }
        let delay = DELAYS[round % DELAYS.len()];
        pop3.send("QUIT");
        if delay == u64::MAX {
            let reply = pop3.line();
            assert!(reply.starts_with("+OK"), "{reply}");
        } else if delay > 0 {
            std::thread::sleep(Duration::from_micros(delay));
        }
        bridge.kill9();
    }
    println!(
        "{ROUNDS} kill -9 rounds in {:.1} s: marked messages all gone in {all_gone}, none gone \
         in {none_gone}, some gone in {partly_gone}; {lost} messages lost, 0 duplicated, \
         0 logins refused",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lost, 0);
}
