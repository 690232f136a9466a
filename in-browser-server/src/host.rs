//! [`Host`]: one simulated teaching server: its [`MemoryStore`], its connections (each a
//! [`ServerSession`]), a virtual clock and the fault modes. Plain Rust, tested natively; the
//! wasm-bindgen `ServerHost` in `lib.rs` is a thin layer over it.
//!
//! # How a connection runs
//!
//! The client's bytes wait in the host, which feeds the session **one line at a time**, the
//! next only once the session has answered the previous one (a pipelining client sees the same
//! replies in the same order). So the host knows which command each reply answers and where a
//! reply begins, which the fault modes need; the session itself knows nothing of faults.
//!
//! # Fault modes ([`Faults`])
//!
//! Each mangles what goes between the session and the client, never the session's logic:
//!
//! - `bare_lf`: every CRLF the server sends becomes a bare LF (a CR at the end of one chunk is
//!   held until the next shows whether an LF follows). Stays on.
//! - `long_line`: the first line of the next reply is padded to [`LONG_LINE`] octets, over
//!   RFC 1939's 512-octet cap on a status line. Once.
//! - `err_greeting`: the connection is greeted with `-ERR` and closed. When it connects.
//! - `sys_temp`: the next command line is not given to the session; the host answers
//!   `-ERR [SYS/TEMP]` itself (RFC 3206), so the session never sees it (after `USER`, a `PASS`
//!   refused this way leaves the user name standing). Once.
//! - `drop_retr_after`: once a RETR's reply has sent this many octets (its `+OK` line counted,
//!   as the session made them), the connection drops: the client gets the octets before the
//!   cut and then the close; the lock is released and nothing is deleted. Once (a RETR whose
//!   reply is shorter leaves it armed).
//! - `latency_ms`, `bandwidth`: a slow link. The host only keeps them; the worker's scheduling
//!   applies them to the chunks in both directions (see docs/in-browser-server.md).

use std::collections::BTreeMap;

use popwire::server::{
    DeliverError, Delivered, MailstoreError, MemoryConfig, MemoryStore, ServerConfig, ServerEvent,
    ServerSession,
};

/// How long the `long_line` fault makes a line, CRLF included.
pub const LONG_LINE: usize = 1024;

/// Most client input a connection may have waiting before the host drops it (a page cannot be
/// pushed back the way TCP pushes back a client).
pub const INPUT_LIMIT: usize = 1024 * 1024;

/// Maildrops the simulated server holds at once.
pub const MAX_MAILDROPS: usize = 64;

/// What the `err_greeting` fault sends.
const ERR_GREETING: &[u8] =
    b"-ERR popwire simulated server: not accepting connections now (fault mode)\r\n";
/// What the `sys_temp` fault answers.
const SYS_TEMP: &[u8] =
    b"-ERR [SYS/TEMP] popwire simulated server: temporary failure, try again (fault mode)\r\n";

/// The fault modes of a connection (see the [module documentation](self)). Missing fields in
/// JS are off.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Every CRLF sent becomes a bare LF.
    pub bare_lf: bool,
    /// The next reply's first line is [`LONG_LINE`] octets.
    pub long_line: bool,
    /// The greeting is `-ERR`, then the connection closes.
    pub err_greeting: bool,
    /// The next command gets `-ERR [SYS/TEMP]` from the host.
    pub sys_temp: bool,
    /// Drop the connection after this many octets of a RETR reply.
    pub drop_retr_after: Option<u64>,
    /// One-way delay of every chunk, in milliseconds (applied by the worker).
    pub latency_ms: u32,
    /// Link speed in bytes per second, both directions; `None`: unlimited (by the worker).
    pub bandwidth: Option<u32>,
}

impl Faults {
    /// The fields' names in JS (camelCase).
    pub const FIELDS: [&'static str; 7] = [
        "bareLf",
        "longLine",
        "errGreeting",
        "sysTemp",
        "dropRetrAfter",
        "latencyMs",
        "bandwidth",
    ];
}

/// Which connections a [`Host::set_faults`] call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One open connection.
    Conn(u32),
    /// The next connection only.
    Next,
    /// Every later connection (after the next, if that was set).
    All,
}

/// Why a host operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// No open connection has this id.
    #[error("no connection {0}")]
    NoConnection(u32),
    /// The maildrop is locked by a connection.
    #[error("{user}'s maildrop is locked by connection {conn}: close or QUIT it first")]
    Locked {
        /// The user.
        user: String,
        /// The connection holding the lock.
        conn: u32,
    },
    /// The store refused.
    #[error("{0}")]
    Store(#[from] MailstoreError),
    /// A delivery was refused.
    #[error("{0}")]
    Deliver(#[from] DeliverError),
}

/// One message in a [`MaildropView`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ViewMessage {
    /// Its message number (from 1).
    pub n: u32,
    /// Its unique-id.
    pub uid: String,
    /// Its size in octets.
    pub size: u64,
    /// Marked by DELE in the locking session (removed at its QUIT).
    pub marked: bool,
}

/// A message removed by an UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ViewRemoved {
    /// Its unique-id.
    pub uid: String,
    /// Its size in octets.
    pub size: u64,
}

/// The server's side of one maildrop.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaildropView {
    /// The user.
    pub user: String,
    /// Whether the maildrop exists (a login or a delivery creates it).
    pub exists: bool,
    /// The connection holding the lock, if any.
    pub locked_by: Option<u32>,
    /// The messages: as the locking session sees them (with its marks), else as stored.
    pub messages: Vec<ViewMessage>,
    /// What the last UPDATE removed.
    pub last_update: Vec<ViewRemoved>,
    /// How many UPDATEs the maildrop has seen.
    pub updates: u64,
}

/// One connection, for the controls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// Its id.
    pub id: u32,
    /// The logged-in user (TRANSACTION), if any.
    pub user: Option<String>,
    /// `"open"`, or why the server closed it (`"quit"`, `"autologout"`, `"fault"`, ...).
    pub state: String,
    /// Its fault modes now (fired one-shot faults are off).
    pub faults: Faults,
}

#[derive(Debug)]
struct Conn {
    session: ServerSession,
    faults: Faults,
    /// Client bytes not yet given to the session.
    input: Vec<u8>,
    /// The first octets of the line being given to the session (to see RETR).
    line_head: Vec<u8>,
    /// The next chunk from the session begins a reply.
    reply_start: bool,
    /// Octets of the current RETR reply so far, while `drop_retr_after` is armed.
    retr_sent: Option<u64>,
    /// `bare_lf`: a CR ended the last chunk.
    cr_held: bool,
    /// Bytes the host made (fault replies), sent before anything else.
    out: Vec<u8>,
    /// Why the server side closed it, once it did.
    closed: Option<&'static str>,
}

/// One simulated teaching server. See the [module documentation](self).
#[derive(Debug)]
pub struct Host {
    store: MemoryStore,
    config: ServerConfig,
    now: u64,
    nonce: String,
    next_id: u32,
    conns: BTreeMap<u32, Conn>,
    next_faults: Option<Faults>,
    all_faults: Faults,
}

/// SHA-256 of the concatenated `parts`: the bridge's unique-id hash.
fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().to_vec()
}

impl Host {
    /// A server with fresh maildrops at virtual time 0. `seed` makes its nonces (the APOP
    /// timestamp, the CRAM-MD5 challenges) differ from another host's: pass something random.
    pub fn new(seed: u32) -> Host {
        let store = MemoryStore::with_samples(
            MemoryConfig {
                max_maildrops: MAX_MAILDROPS,
                uid_hash: sha256,
                ..MemoryConfig::default()
            },
            crate::samples::samples(),
        );
        Host {
            store,
            config: ServerConfig {
                hostname: "in-browser.popwire.test".into(),
                implementation: format!(
                    "popwire-simulated-in-browser-{}",
                    env!("CARGO_PKG_VERSION")
                ),
                ..ServerConfig::default()
            },
            now: 0,
            nonce: format!("{seed:08x}"),
            next_id: 1,
            conns: BTreeMap::new(),
            next_faults: None,
            all_faults: Faults::default(),
        }
    }

    /// The virtual time in milliseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A new connection (its greeting is ready for [`Host::transmit`]); returns its id.
    pub fn connect(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let faults = self
            .next_faults
            .take()
            .unwrap_or_else(|| self.all_faults.clone());
        let nonce = format!("{}.{id}.{}", self.nonce, self.now);
        let mut conn = Conn {
            session: ServerSession::new(self.config.clone(), self.now, &nonce),
            faults,
            input: Vec::new(),
            line_head: Vec::new(),
            reply_start: true,
            retr_sent: None,
            cr_held: false,
            out: Vec::new(),
            closed: None,
        };
        if conn.faults.err_greeting {
            // The session's greeting is replaced; it holds no lock yet.
            conn.session.handle_close(&self.store);
            conn.out.extend_from_slice(ERR_GREETING);
            conn.closed = Some("fault");
        }
        self.conns.insert(id, conn);
        id
    }

    /// Bytes from the client of `conn`. Ignored once the server closed it; more than
    /// [`INPUT_LIMIT`] octets waiting drops the connection.
    pub fn feed(&mut self, conn: u32, bytes: &[u8]) -> Result<(), HostError> {
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(HostError::NoConnection(conn))?;
        if c.closed.is_some() {
            return Ok(());
        }
        if c.input.len().saturating_add(bytes.len()) > INPUT_LIMIT {
            c.session.handle_close(&self.store);
            c.input.clear();
            c.closed = Some("input-limit");
            return Ok(());
        }
        c.input.extend_from_slice(bytes);
        Ok(())
    }

    /// The next bytes to send to the client of `conn`, if any. Call it again after sending
    /// them (that is when the session counts them as gone), until `None`; then
    /// [`Host::closed`] says whether the server closed the connection.
    pub fn transmit(&mut self, conn: u32) -> Option<Vec<u8>> {
        let store = &self.store;
        let now = self.now;
        let c = self.conns.get_mut(&conn)?;
        if !c.out.is_empty() {
            return Some(c.take_out());
        }
        loop {
            if c.closed.is_some() {
                return None;
            }
            if let Some(bytes) = c.session.poll_transmit(now, store) {
                let bytes = c.mangle(bytes, store);
                c.events();
                if bytes.is_empty() {
                    continue;
                }
                return Some(bytes);
            }
            c.events();
            if c.closed.is_some() || c.session.has_unanswered() || !c.feed_line(now) {
                return None;
            }
            if !c.out.is_empty() {
                return Some(c.take_out());
            }
        }
    }

    /// Why the server side closed `conn` (`"quit"`, `"autologout"`, `"fault"`,
    /// `"input-limit"`), once all it sent was taken; `None` while it is open or unknown.
    pub fn closed(&self, conn: u32) -> Option<&'static str> {
        self.conns
            .get(&conn)
            .filter(|c| c.out.is_empty())
            .and_then(|c| c.closed)
    }

    /// The client hung up, or the worker is done with a connection the server closed: the
    /// lock (if any) is released, nothing is deleted, and the id is forgotten.
    pub fn close(&mut self, conn: u32) {
        if let Some(mut c) = self.conns.remove(&conn) {
            c.session.handle_close(&self.store);
        }
    }

    /// When the next timer of any session is due (absolute virtual ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        self.conns
            .values()
            .filter(|c| c.closed.is_none())
            .filter_map(|c| c.session.poll_timeout())
            .min()
    }

    /// Moves the virtual clock `ms` forward and runs every session timer now due (a held
    /// failed-login reply goes out; an idle session is logged out without a response).
    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.saturating_add(ms);
        let now = self.now;
        for c in self.conns.values_mut() {
            if c.closed.is_none() && c.session.poll_timeout().is_some_and(|t| t <= now) {
                c.session.handle_timeout(now, &self.store);
                c.events();
            }
        }
    }

    /// Sets the fault modes of one connection, of the next, or of every later one.
    pub fn set_faults(&mut self, target: Target, faults: Faults) -> Result<(), HostError> {
        match target {
            Target::Conn(id) => {
                let c = self.conns.get_mut(&id).ok_or(HostError::NoConnection(id))?;
                if faults.drop_retr_after.is_none() {
                    c.retr_sent = None;
                }
                c.faults = faults;
            }
            Target::Next => self.next_faults = Some(faults),
            Target::All => self.all_faults = faults,
        }
        Ok(())
    }

    /// The fault modes of `conn` now.
    pub fn faults(&self, conn: u32) -> Option<&Faults> {
        self.conns.get(&conn).map(|c| &c.faults)
    }

    /// Delivers a message to `user`'s maildrop (bare LFs become CRLF). A session holding the
    /// lock does not see it; the next login does.
    pub fn deliver(&mut self, user: &str, message: &[u8]) -> Result<Delivered, HostError> {
        Ok(self.store.deliver(user, message)?)
    }

    /// Puts `user`'s maildrop back to the samples; refused while a connection holds the lock.
    pub fn reset(&mut self, user: &str) -> Result<(), HostError> {
        if let Some(conn) = self.locked_by(user) {
            return Err(HostError::Locked {
                user: user.to_owned(),
                conn,
            });
        }
        Ok(self.store.reset(user)?)
    }

    /// The open connection whose session holds `user`'s lock.
    fn locked_by(&self, user: &str) -> Option<u32> {
        self.conns.iter().find_map(|(id, c)| {
            c.session
                .maildrop()
                .filter(|(u, _)| *u == user)
                .map(|_| *id)
        })
    }

    /// The server's side of `user`'s maildrop.
    pub fn view(&self, user: &str) -> MaildropView {
        let snapshot = self.store.snapshot(user);
        let locked_by = self.locked_by(user);
        let messages = match locked_by.and_then(|id| self.conns.get(&id)) {
            Some(c) => c
                .session
                .maildrop()
                .map(|(_, list)| {
                    (1..)
                        .zip(list)
                        .map(|(n, (info, marked))| ViewMessage {
                            n,
                            uid: info.uid.clone(),
                            size: info.size,
                            marked,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            None => snapshot
                .as_ref()
                .map(|s| {
                    (1..)
                        .zip(&s.messages)
                        .map(|(n, info)| ViewMessage {
                            n,
                            uid: info.uid.clone(),
                            size: info.size,
                            marked: false,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        MaildropView {
            user: user.to_owned(),
            exists: snapshot.is_some(),
            locked_by,
            messages,
            last_update: snapshot
                .as_ref()
                .map(|s| {
                    s.last_update
                        .iter()
                        .map(|m| ViewRemoved {
                            uid: m.uid.clone(),
                            size: m.size,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            updates: snapshot.map_or(0, |s| s.updates),
        }
    }

    /// Every connection the host holds.
    pub fn connections(&self) -> Vec<ConnectionView> {
        self.conns
            .iter()
            .map(|(id, c)| ConnectionView {
                id: *id,
                user: c.session.maildrop().map(|(u, _)| u.to_owned()),
                state: c.closed.unwrap_or("open").to_owned(),
                faults: c.faults.clone(),
            })
            .collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
impl Host {
    /// `bare_lf` on `conn`, for the chunk-boundary test.
    pub(crate) fn bare_lf_for_test(&mut self, conn: u32, bytes: &[u8]) -> Vec<u8> {
        self.conns
            .get_mut(&conn)
            .map(|c| c.bare_lf(bytes))
            .unwrap_or_default()
    }
}

impl Conn {
    /// The host's own bytes (fault replies), with `bare_lf` applied like to the session's.
    fn take_out(&mut self) -> Vec<u8> {
        let out = std::mem::take(&mut self.out);
        if self.faults.bare_lf {
            self.bare_lf(&out)
        } else {
            out
        }
    }

    /// Notes the session's events: a close ends the connection.
    fn events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            if let ServerEvent::Close { reason } = event {
                self.closed.get_or_insert(reason);
            }
        }
    }

    /// Gives the session the next line of input (all of it if there is no LF yet), or answers
    /// it with the `sys_temp` fault. False if there was nothing to give.
    fn feed_line(&mut self, now: u64) -> bool {
        if self.input.is_empty() {
            return false;
        }
        let end = memchr_lf(&self.input).map_or(self.input.len(), |i| i + 1);
        let line: Vec<u8> = self.input.drain(..end).collect();
        let room = 8usize.saturating_sub(self.line_head.len());
        self.line_head
            .extend(line.iter().take(room).map(u8::to_ascii_uppercase));
        let complete = line.last() == Some(&b'\n');
        if !complete {
            self.session.feed(now, &line);
            return true;
        }
        let head = std::mem::take(&mut self.line_head);
        if std::mem::take(&mut self.faults.sys_temp) {
            self.out.extend_from_slice(SYS_TEMP);
            return true;
        }
        self.session.feed(now, &line);
        self.reply_start = true;
        let retr = head.starts_with(b"RETR ") || head.starts_with(b"RETR\t");
        self.retr_sent = (retr && self.faults.drop_retr_after.is_some()).then_some(0);
        true
    }

    /// Applies the byte-mangling faults to a chunk from the session.
    fn mangle(&mut self, mut bytes: Vec<u8>, store: &MemoryStore) -> Vec<u8> {
        if std::mem::take(&mut self.reply_start) && std::mem::take(&mut self.faults.long_line) {
            pad_first_line(&mut bytes);
        }
        if let (Some(sent), Some(limit)) = (self.retr_sent, self.faults.drop_retr_after) {
            let total = sent.saturating_add(bytes.len() as u64);
            if total >= limit {
                let keep = usize::try_from(limit.saturating_sub(sent)).unwrap_or(usize::MAX);
                bytes.truncate(keep);
                self.faults.drop_retr_after = None;
                self.retr_sent = None;
                self.session.handle_close(store);
                self.closed = Some("fault");
            } else {
                self.retr_sent = Some(total);
            }
        }
        if self.faults.bare_lf {
            bytes = self.bare_lf(&bytes);
        }
        bytes
    }

    /// CRLF → LF, carrying a chunk's final CR over to the next chunk.
    fn bare_lf(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        let mut iter = bytes.iter().peekable();
        if std::mem::take(&mut self.cr_held) && iter.peek() != Some(&&b'\n') {
            out.push(b'\r');
        }
        while let Some(&b) = iter.next() {
            if b == b'\r' {
                match iter.peek() {
                    Some(b'\n') => continue,
                    Some(_) => out.push(b),
                    None => self.cr_held = true,
                }
            } else {
                out.push(b);
            }
        }
        if self.closed.is_some() && std::mem::take(&mut self.cr_held) {
            out.push(b'\r');
        }
        out
    }
}

fn memchr_lf(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Pads the first line of `bytes` (before its CRLF) to [`LONG_LINE`] octets.
fn pad_first_line(bytes: &mut Vec<u8>) {
    let Some(lf) = memchr_lf(bytes) else {
        return;
    };
    let eol = if lf > 0 && bytes.get(lf - 1) == Some(&b'\r') {
        lf - 1
    } else {
        lf
    };
    let line_len = lf + 1;
    if line_len >= LONG_LINE {
        return;
    }
    let mut pad = b" (simulated fault: padded past 512 octets)".to_vec();
    pad.resize(LONG_LINE - line_len, b'x');
    bytes.splice(eol..eol, pad);
}
