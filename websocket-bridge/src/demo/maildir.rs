//! Real Maildir accounts for the teaching server (`--maildir DIR`): `DIR/<user>/{new,cur}`.
//!
//! # What happens on disk
//!
//! - **Login** ([`Mailstore::lock`]): the maildrop is locked within the process (a set of
//!   locked users) and across processes (the file `DIR/<user>/.popwire.lock`, made with
//!   `create_new`). Leftovers in `DIR/<user>/.popwire-trash/` are purged: only committed
//!   deletions ever go there. Messages in `new/` are renamed into `cur/` with the `:2,` info
//!   suffix, then `cur/` is listed in the order of the files' modification times (then names).
//! - **QUIT** ([`Mailstore::commit`]): each deleted message is `rename`d into the trash (the same
//!   directory tree, so the rename is atomic) and then removed. Whenever the process is killed,
//!   a message is either whole in `cur/` or in the trash; messages not marked for deletion are
//!   never renamed, written or removed. Both locks are released, even when a deletion failed.
//! - **Dropped connection, autologout** ([`Mailstore::release`]): both locks are released and
//!   nothing else is touched.
//!
//! # Stale locks
//!
//! A lock file left behind by a killed process is taken over once its modification time is
//! [`STALE_LOCK_AGE`] (30 minutes) old. The store refreshes the modification time of the lock
//! files it holds at most once a minute whenever any of its sessions reads a message or any
//! login happens, so a lock in use is not mistaken for a stale one; a session that only sends
//! NOOPs for half an hour in an otherwise silent process can lose its cross-process lock to
//! another process (it still deletes only what its own user marked).
//!
//! # Unique-ids and sizes
//!
//! The unique-id of a message is the unique part of its Maildir name (before the first `:`)
//! when that is 1–70 characters of 0x21–0x7E (RFC 1939 §7); otherwise (non-UTF-8, spaces, too
//! long) it is the first 32 hex digits of the SHA-256 of that part. Sizes count the message as
//! [`Mailstore::read`] returns it: with bare LF line ends turned into CRLF (existing CRLF and
//! lone CR kept).

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use popwire::server::{Mailstore, MailstoreError, MessageInfo};
use sha2::{Digest, Sha256};

/// A lock file whose modification time is at least this old is taken over at login: the
/// process that made it was killed (the store refreshes the lock files it holds).
pub const STALE_LOCK_AGE: Duration = Duration::from_secs(30 * 60);

/// How often the lock files held by this process get a fresh modification time.
const LOCK_REFRESH_EVERY: Duration = Duration::from_secs(60);
/// The cross-process lock file inside a user's Maildir.
const LOCK_FILE: &str = ".popwire.lock";
/// Where deleted messages pass through on their way out (inside the user's Maildir).
const TRASH_DIR: &str = ".popwire-trash";
/// The longest accepted user name.
const MAX_USER_LEN: usize = 64;
/// The longest unique-id (RFC 1939 §7).
const MAX_UID_LEN: usize = 70;
/// Hex digits of a hashed unique-id.
const HASHED_UID_LEN: usize = 32;

/// Makes every lock token of this process different.
static TOKEN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Maildir accounts under one root directory: `root/<user>/{cur,new}`.
pub struct MaildirStore {
    root: PathBuf,
    passwords: HashMap<String, String>,
    default_password: String,
    stale_lock_age: Duration,
    /// The maildrops this process holds locked, with their listing.
    sessions: Mutex<HashMap<String, Held>>,
    /// Per user: CRLF sizes of the files seen at the last login (kept to avoid re-reading).
    sizes: Mutex<HashMap<String, HashMap<OsString, CachedSize>>>,
    /// When the held lock files were last refreshed.
    last_refresh: Mutex<Option<Instant>>,
}

/// A maildrop locked by this process.
#[derive(Debug, Default)]
struct Held {
    /// The content of our lock file (empty while the lock is being taken).
    token: String,
    /// unique-id → the message's file in `cur/`.
    files: HashMap<String, PathBuf>,
}

/// The CRLF size of a file, valid while its length and modification time stay the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedSize {
    len: u64,
    modified: Option<SystemTime>,
    crlf_size: u64,
}

/// A listed maildrop: the messages in order, and unique-id → file.
type Listing = (Vec<MessageInfo>, HashMap<String, PathBuf>);

/// A message file found in `cur/`.
struct Entry {
    name: OsString,
    path: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

impl fmt::Debug for MaildirStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords.
        f.debug_struct("MaildirStore")
            .field("root", &self.root)
            .field("users_with_own_password", &self.passwords.len())
            .field("stale_lock_age", &self.stale_lock_age)
            .field(
                "locked_maildrops",
                &lock_ignoring_poison(&self.sessions).len(),
            )
            .finish_non_exhaustive()
    }
}

impl MaildirStore {
    /// A store serving the Maildirs under `root` (which must be an existing directory). A user's
    /// password (also the APOP secret) is `passwords[user]`, or `default_password`.
    pub fn open(
        root: &Path,
        passwords: HashMap<String, String>,
        default_password: String,
    ) -> io::Result<MaildirStore> {
        let metadata = fs::metadata(root)?;
        if !metadata.is_dir() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("{} is not a directory", root.display()),
            ));
        }
        let root = fs::canonicalize(root)?;
        Ok(MaildirStore {
            root,
            passwords,
            default_password,
            stale_lock_age: STALE_LOCK_AGE,
            sessions: Mutex::new(HashMap::new()),
            sizes: Mutex::new(HashMap::new()),
            last_refresh: Mutex::new(None),
        })
    }

    /// Takes over lock files at least `age` old instead of [`STALE_LOCK_AGE`].
    pub fn with_stale_lock_age(mut self, age: Duration) -> MaildirStore {
        self.stale_lock_age = age;
        self
    }

    /// The root directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/<user>` if `user` is a safe name and that directory is a Maildir.
    fn maildir(&self, user: &str) -> Option<PathBuf> {
        if !is_safe_user(user) {
            return None;
        }
        let dir = self.root.join(user);
        (dir.join("cur").is_dir() && dir.join("new").is_dir()).then_some(dir)
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        lock_ignoring_poison(&self.sessions)
    }

    /// Gives the lock files of the maildrops held by this process a fresh modification time,
    /// at most once every [`LOCK_REFRESH_EVERY`].
    fn refresh_held_locks(&self) {
        {
            let mut last = lock_ignoring_poison(&self.last_refresh);
            if last.is_some_and(|t| t.elapsed() < LOCK_REFRESH_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let users: Vec<String> = self
            .sessions()
            .iter()
            .filter(|(_, held)| !held.token.is_empty())
            .map(|(user, _)| user.clone())
            .collect();
        for user in users {
            let path = self.root.join(user).join(LOCK_FILE);
            // Opened without create: a lock file that vanished is not made again.
            if let Ok(file) = OpenOptions::new().write(true).open(path) {
                let _ = file.set_modified(SystemTime::now());
            }
        }
    }

    /// Takes the cross-process lock and lists the maildrop (the in-process lock is held).
    fn lock_on_disk(&self, user: &str, dir: &Path) -> Result<(String, Listing), MailstoreError> {
        let token = self.acquire_lock_file(dir)?;
        match self.open_maildrop(user, dir) {
            Ok(listing) => Ok((token, listing)),
            Err(e) => {
                release_lock_file(dir, &token);
                Err(e)
            }
        }
    }

    /// Creates `dir/.popwire.lock` with `create_new`, taking over a stale one.
    fn acquire_lock_file(&self, dir: &Path) -> Result<String, MailstoreError> {
        let path = dir.join(LOCK_FILE);
        let token = new_token();
        for attempt in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    if file.write_all(token.as_bytes()).is_err() {
                        drop(file);
                        let _ = fs::remove_file(&path);
                        return Err(MailstoreError::Unavailable(
                            "the maildrop's lock file cannot be written".into(),
                        ));
                    }
                    return Ok(token);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if attempt > 0 || !self.take_over_stale_lock(dir, &path) {
                        return Err(MailstoreError::InUse);
                    }
                }
                Err(_) => {
                    return Err(MailstoreError::Unavailable(
                        "the maildrop's lock file cannot be created".into(),
                    ))
                }
            }
        }
        Err(MailstoreError::InUse)
    }

    /// Moves a stale lock file out of the way; true if the lock may be tried again.
    ///
    /// The lock file is renamed aside first (only one process can win that rename) and checked
    /// again there, so a fresh lock made by another process in between is put back.
    fn take_over_stale_lock(&self, dir: &Path, path: &Path) -> bool {
        if !self.is_stale(path) {
            return false;
        }
        let aside = dir.join(format!("{LOCK_FILE}.stale-{}", token_suffix()));
        match fs::rename(path, &aside) {
            Ok(()) => {}
            // Released or taken over meanwhile: create_new decides.
            Err(e) if e.kind() == ErrorKind::NotFound => return true,
            Err(_) => return false,
        }
        if !self.is_stale(&aside) {
            // Someone took it over between our look and the rename: give it back, unless
            // another lock has appeared (hard_link never replaces).
            let _ = fs::hard_link(&aside, path);
            let _ = fs::remove_file(&aside);
            return false;
        }
        let _ = fs::remove_file(&aside);
        true
    }

    /// Whether the file's modification time is at least the stale age in the past.
    fn is_stale(&self, path: &Path) -> bool {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age >= self.stale_lock_age)
    }

    /// Purges the trash, moves `new/` into `cur/` and lists `cur/`.
    fn open_maildrop(&self, user: &str, dir: &Path) -> Result<Listing, MailstoreError> {
        purge_trash(&dir.join(TRASH_DIR));
        let cur = dir.join("cur");
        move_new_to_cur(&dir.join("new"), &cur);
        let mut entries = list_cur(&cur)?;
        entries.sort_by(|a, b| {
            a.modified
                .cmp(&b.modified)
                .then_with(|| a.name.as_encoded_bytes().cmp(b.name.as_encoded_bytes()))
        });

        let old_sizes = lock_ignoring_poison(&self.sizes)
            .remove(user)
            .unwrap_or_default();
        let mut new_sizes = HashMap::with_capacity(entries.len());
        let mut infos = Vec::with_capacity(entries.len());
        let mut files = HashMap::with_capacity(entries.len());
        let mut used = HashSet::with_capacity(entries.len());
        for entry in entries {
            let cached = old_sizes
                .get(&entry.name)
                .filter(|c| c.len == entry.len && c.modified == entry.modified);
            let size = match cached {
                Some(c) => c.crlf_size,
                None => match crlf_size_of_file(&entry.path) {
                    Ok(size) => size,
                    // Vanished or unreadable: not listed, and not touched.
                    Err(_) => continue,
                },
            };
            new_sizes.insert(
                entry.name.clone(),
                CachedSize {
                    len: entry.len,
                    modified: entry.modified,
                    crlf_size: size,
                },
            );
            let uid = unique_uid(entry.name.as_encoded_bytes(), &used);
            used.insert(uid.clone());
            files.insert(uid.clone(), entry.path);
            infos.push(MessageInfo { uid, size });
        }
        lock_ignoring_poison(&self.sizes).insert(user.to_owned(), new_sizes);
        Ok((infos, files))
    }
}

impl Mailstore for MaildirStore {
    fn secret(&self, user: &str) -> Option<String> {
        self.maildir(user)?;
        Some(
            self.passwords
                .get(user)
                .cloned()
                .unwrap_or_else(|| self.default_password.clone()),
        )
    }

    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        self.refresh_held_locks();
        let dir = self
            .maildir(user)
            .ok_or_else(|| MailstoreError::Failed("no such maildrop".into()))?;
        {
            let mut sessions = self.sessions();
            if sessions.contains_key(user) {
                return Err(MailstoreError::InUse);
            }
            sessions.insert(user.to_owned(), Held::default());
        }
        let result = self.lock_on_disk(user, &dir);
        let mut sessions = self.sessions();
        match result {
            Ok((token, (infos, files))) => {
                sessions.insert(user.to_owned(), Held { token, files });
                Ok(infos)
            }
            Err(e) => {
                sessions.remove(user);
                Err(e)
            }
        }
    }

    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        self.refresh_held_locks();
        let path = {
            let sessions = self.sessions();
            let held = sessions
                .get(user)
                .filter(|held| !held.token.is_empty())
                .ok_or_else(|| MailstoreError::Failed("the maildrop is not locked".into()))?;
            held.files.get(uid).cloned().ok_or_else(|| {
                MailstoreError::Failed(format!("no message {uid} in the maildrop"))
            })?
        };
        match fs::read(&path) {
            Ok(bytes) => Ok(Arc::from(to_crlf(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(MailstoreError::Failed(format!(
                "message {uid} is no longer in the maildrop"
            ))),
            Err(_) => Err(MailstoreError::Failed(format!(
                "message {uid} cannot be read"
            ))),
        }
    }

    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError> {
        let held = self
            .sessions()
            .get_mut(user)
            .map(|held| (held.token.clone(), std::mem::take(&mut held.files)));
        let Some((token, files)) = held else {
            return Err(MailstoreError::Failed("the maildrop is not locked".into()));
        };
        let dir = self.root.join(user);
        let mut failed = 0usize;
        if !deleted.is_empty() {
            let trash = dir.join(TRASH_DIR);
            if let Err(e) = fs::create_dir(&trash) {
                if e.kind() != ErrorKind::AlreadyExists {
                    failed += 1;
                }
            }
            for uid in deleted {
                match files.get(uid) {
                    Some(path) if move_to_trash(path, &trash) => {}
                    _ => failed += 1,
                }
            }
        }
        // Released in any case: the lock file first, so that no session of this process finds
        // the maildrop free while the file still says otherwise.
        release_lock_file(&dir, &token);
        self.sessions().remove(user);
        if failed > 0 {
            Err(MailstoreError::Unavailable(
                "some deleted messages not removed".into(),
            ))
        } else {
            Ok(())
        }
    }

    fn release(&self, user: &str) {
        let held = self.sessions().get(user).map(|held| held.token.clone());
        if let Some(token) = held {
            release_lock_file(&self.root.join(user), &token);
            self.sessions().remove(user);
        }
    }
}

/// Locks a mutex; a panic elsewhere does not make the maildrops unusable.
fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 1–64 characters of `A-Z a-z 0-9 . _ @ + -`, not starting with `.`: one path component that
/// can name neither the root, its parent, nor the store's own files.
fn is_safe_user(user: &str) -> bool {
    (1..=MAX_USER_LEN).contains(&user.len())
        && !user.starts_with('.')
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-'))
}

/// Something unique for a lock file: process id, time, counter.
fn new_token() -> String {
    format!(
        "popwire-bridge pid {} {}\n",
        std::process::id(),
        token_suffix()
    )
}

fn token_suffix() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = TOKEN_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.{:09}-{}-{n}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    )
}

/// Removes the lock file if it is still ours.
fn release_lock_file(dir: &Path, token: &str) {
    if token.is_empty() {
        return;
    }
    let path = dir.join(LOCK_FILE);
    if fs::read_to_string(&path).is_ok_and(|content| content == token) {
        let _ = fs::remove_file(&path);
    }
}

/// Dotfiles, and names whose unique part ends in `.tmp`, are not messages.
fn is_hidden_or_temp(name: &OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.first() == Some(&b'.') || unique_part(bytes).ends_with(b".tmp")
}

/// The Maildir unique part: the name before the first `:`.
fn unique_part(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[..i],
        None => name,
    }
}

/// A regular file (symbolic links are never followed: they could point anywhere).
fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Removes what an interrupted commit left in the trash (all of it was deleted at a QUIT).
fn purge_trash(trash: &Path) {
    let Ok(entries) = fs::read_dir(trash) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if is_regular_file(&path) {
            let _ = fs::remove_file(path);
        }
    }
}

/// Renames every message of `new/` to `cur/<name>:2,`; never replaces a file of `cur/`.
fn move_new_to_cur(new: &Path, cur: &Path) {
    let Ok(entries) = fs::read_dir(new) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let from = entry.path();
        if is_hidden_or_temp(&name) || !is_regular_file(&from) {
            continue;
        }
        let has_info = name.as_encoded_bytes().contains(&b':');
        // The only writer of cur/ is the lock holder, so "free, then rename" does not race.
        let target = (0..100u32)
            .map(|n| {
                let mut target = name.clone();
                if n > 0 {
                    target.push(format!(".dup{n}"));
                }
                if !has_info {
                    target.push(":2,");
                }
                cur.join(target)
            })
            .find(|path| fs::symlink_metadata(path).is_err());
        if let Some(target) = target {
            // Atomic: the message is in new/ or in cur/. On failure it stays in new/.
            let _ = fs::rename(&from, &target);
        }
    }
}

/// The message files of `cur/`, unsorted.
fn list_cur(cur: &Path) -> Result<Vec<Entry>, MailstoreError> {
    let entries = fs::read_dir(cur)
        .map_err(|_| MailstoreError::Failed("the maildrop cannot be read".into()))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if is_hidden_or_temp(&name) {
            continue;
        }
        let path = entry.path();
        let Ok(metadata) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !metadata.is_file() {
            continue;
        }
        found.push(Entry {
            name,
            path,
            modified: metadata.modified().ok(),
            len: metadata.len(),
        });
    }
    Ok(found)
}

/// The unique part if it is a valid POP3 unique-id, else a hash of it; never one in `used`.
fn unique_uid(name: &[u8], used: &HashSet<String>) -> String {
    let part = unique_part(name);
    let plain = std::str::from_utf8(part)
        .ok()
        .filter(|s| is_pop3_uid(s))
        .map(str::to_owned);
    let uid = plain.unwrap_or_else(|| hashed(part));
    if !used.contains(&uid) {
        return uid;
    }
    // Two files with the same unique part (different info): tell them apart by whole name.
    let base = hashed(name);
    let mut uid = base.clone();
    let mut n = 1u64;
    while used.contains(&uid) {
        n += 1;
        uid = format!("{base}-{n}");
    }
    uid
}

/// 1–70 characters in 0x21–0x7E (RFC 1939 §7).
fn is_pop3_uid(s: &str) -> bool {
    (1..=MAX_UID_LEN).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7E).contains(&b))
}

/// The first hex digits of the SHA-256 of `bytes`.
fn hashed(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(HASHED_UID_LEN);
    for byte in digest.iter().take(HASHED_UID_LEN / 2) {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The size of the file once bare LFs are CRLF, read in chunks.
fn crlf_size_of_file(path: &Path) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    let mut prev = 0u8;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(size),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        size += n as u64 + bare_lfs(chunk).count() as u64;
        // An LF at the chunk's start was counted as bare; it is not if the last chunk ended in CR.
        if chunk.first() == Some(&b'\n') && prev == b'\r' {
            size -= 1;
        }
        prev = chunk[n - 1];
    }
}

/// The offsets of the bare LFs (an LF with no CR before it) in `bytes`.
fn bare_lfs(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes).filter(move |&i| i == 0 || bytes[i - 1] != b'\r')
}

/// Bare LF becomes CRLF; CRLF and lone CR stay as they are. A file that is CRLF already is
/// returned as it is, without a copy.
fn to_crlf(bytes: Vec<u8>) -> Vec<u8> {
    let bare = bare_lfs(&bytes).count();
    if bare == 0 {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bare);
    let mut start = 0;
    for lf in bare_lfs(&bytes) {
        out.extend_from_slice(&bytes[start..lf]);
        out.extend_from_slice(b"\r\n");
        start = lf + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

/// Renames a message into the trash (atomic), then removes it there. True if it is gone from
/// `cur/`; a file left in the trash is purged at the next login.
fn move_to_trash(path: &Path, trash: &Path) -> bool {
    let Some(name) = path.file_name() else {
        return false;
    };
    let target = trash.join(name);
    match fs::rename(path, &target) {
        Ok(()) => {
            let _ = fs::remove_file(&target);
            true
        }
        // Already gone (another program removed it) is what was asked; a missing trash is not.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::symlink_metadata(path).is_err_and(|e| e.kind() == ErrorKind::NotFound)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use popwire::server::{ServerConfig, ServerSession};
    use tempfile::TempDir;

    const T0: u64 = 1_700_000_000;

    /// A root with a Maildir for `user` (cur, new, tmp).
    fn setup(user: &str) -> (TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = make_maildir(root.path(), user);
        (root, dir)
    }

    fn make_maildir(root: &Path, user: &str) -> PathBuf {
        let dir = root.join(user);
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        dir
    }

    /// Writes a file with a modification time `secs` after T0.
    fn put(path: &Path, content: &[u8], secs: u64) {
        fs::write(path, content).unwrap();
        set_mtime(path, UNIX_EPOCH + Duration::from_secs(T0 + secs));
    }

    fn set_mtime(path: &Path, time: SystemTime) {
        let file = OpenOptions::new().write(true).open(path).unwrap();
        file.set_modified(time).unwrap();
    }

    fn store(root: &Path) -> MaildirStore {
        MaildirStore::open(root, HashMap::new(), "pw".into()).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn uids(infos: &[MessageInfo]) -> Vec<String> {
        infos.iter().map(|m| m.uid.clone()).collect()
    }

    /// Three messages: LF in new/, CRLF in cur/, mixed with a lone CR and no final line end.
    fn three(dir: &Path) {
        put(&dir.join("new/300.c.host"), b"Subject: c\n\nthird\n", 30);
        put(
            &dir.join("cur/100.a.host:2,S"),
            b"Subject: a\r\n\r\nfirst\r\n",
            10,
        );
        put(
            &dir.join("cur/200.b.host:2,"),
            b"Subject: b\n\nx\ry\r\nz",
            20,
        );
    }

    #[test]
    fn store_is_send_sync_debug() {
        fn check<T: Send + Sync + fmt::Debug>() {}
        check::<MaildirStore>();
    }

    #[test]
    fn sizes_equal_read_lengths_and_new_moves_to_cur() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        assert_eq!(uids(&infos), ["100.a.host", "200.b.host", "300.c.host"]);
        let expected: [&[u8]; 3] = [
            b"Subject: a\r\n\r\nfirst\r\n",
            b"Subject: b\r\n\r\nx\ry\r\nz",
            b"Subject: c\r\n\r\nthird\r\n",
        ];
        for (info, want) in infos.iter().zip(expected) {
            let got = store.read("u", &info.uid).unwrap();
            assert_eq!(&*got, want);
            assert_eq!(info.size, got.len() as u64);
        }
        assert!(names(&dir.join("new")).is_empty());
        assert!(names(&dir.join("cur")).contains(&"300.c.host:2,".to_owned()));
        store.release("u");
    }

    #[test]
    fn order_is_by_mtime_then_name() {
        let (root, dir) = setup("u");
        put(&dir.join("cur/zzz:2,"), b"a\n", 1);
        put(&dir.join("cur/bbb:2,"), b"b\n", 5);
        put(&dir.join("cur/aaa:2,"), b"c\n", 5);
        put(&dir.join("new/000"), b"d\n", 9);
        let store = store(root.path());
        assert_eq!(
            uids(&store.lock("u").unwrap()),
            ["zzz", "aaa", "bbb", "000"]
        );
    }

    #[test]
    fn uids_are_stable_across_sessions() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let first = store.lock("u").unwrap();
        store.release("u");
        let second = store.lock("u").unwrap();
        store.release("u");
        assert_eq!(first, second);
        // Also from a fresh store (a restarted process), which has no size cache.
        let third = MaildirStore::open(root.path(), HashMap::new(), "pw".into())
            .unwrap()
            .lock("u")
            .unwrap();
        assert_eq!(first, third);
    }

    #[test]
    fn second_lock_is_in_use_until_released() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        store.lock("u").unwrap();
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        assert!(dir.join(LOCK_FILE).exists());
        // Another store on the same root stands for another process.
        let other = MaildirStore::open(root.path(), HashMap::new(), "pw".into()).unwrap();
        assert_eq!(other.lock("u"), Err(MailstoreError::InUse));
        store.release("u");
        assert!(!dir.join(LOCK_FILE).exists());
        assert_eq!(other.lock("u").unwrap().len(), 3);
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        other.release("u");
        assert_eq!(store.lock("u").unwrap().len(), 3);
    }

    #[test]
    fn a_fresh_foreign_lock_is_respected_and_left_alone() {
        let (root, dir) = setup("u");
        three(&dir);
        fs::write(dir.join(LOCK_FILE), "someone else\n").unwrap();
        let store = store(root.path());
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        store.release("u");
        assert_eq!(
            fs::read_to_string(dir.join(LOCK_FILE)).unwrap(),
            "someone else\n"
        );
        // Nothing was moved while the lock was refused.
        assert_eq!(names(&dir.join("new")), ["300.c.host"]);
    }

    #[test]
    fn commit_deletes_exactly_the_chosen_messages() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        store
            .commit("u", &[infos[0].uid.clone(), infos[2].uid.clone()])
            .unwrap();
        assert_eq!(names(&dir.join("cur")), ["200.b.host:2,"]);
        assert!(names(&dir.join(TRASH_DIR)).is_empty());
        assert!(!dir.join(LOCK_FILE).exists());
        let after = store.lock("u").unwrap();
        assert_eq!(uids(&after), ["200.b.host"]);
        assert_eq!(
            store.read("u", "200.b.host").unwrap().len() as u64,
            after[0].size
        );
        store.commit("u", &[]).unwrap();
        assert_eq!(names(&dir.join("cur")), ["200.b.host:2,"]);
    }

    #[test]
    fn release_deletes_nothing() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let before = store.lock("u").unwrap();
        let files = names(&dir.join("cur"));
        store.release("u");
        assert_eq!(names(&dir.join("cur")), files);
        assert!(!dir.join(LOCK_FILE).exists());
        assert_eq!(store.lock("u").unwrap(), before);
        // Reading after release is refused.
        store.release("u");
        assert!(matches!(
            store.read("u", &before[0].uid),
            Err(MailstoreError::Failed(_))
        ));
    }

    #[test]
    fn crash_between_trash_and_remove_is_recovered() {
        let (root, dir) = setup("u");
        three(&dir);
        // The state a kill leaves behind: a committed deletion in the trash, the lock file.
        fs::create_dir(dir.join(TRASH_DIR)).unwrap();
        fs::write(dir.join(TRASH_DIR).join("050.gone:2,"), b"deleted\n").unwrap();
        fs::write(dir.join(LOCK_FILE), "popwire-bridge pid 1 dead\n").unwrap();

        let store = store(root.path());
        // Still fresh: someone might hold it. Nothing is touched.
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        assert_eq!(names(&dir.join(TRASH_DIR)), ["050.gone:2,"]);

        let old = SystemTime::now() - STALE_LOCK_AGE - Duration::from_secs(60);
        set_mtime(&dir.join(LOCK_FILE), old);
        let infos = store.lock("u").unwrap();
        assert_eq!(uids(&infos), ["100.a.host", "200.b.host", "300.c.host"]);
        assert!(names(&dir.join(TRASH_DIR)).is_empty());
        let content = fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert!(content.contains(&format!("pid {}", std::process::id())));
        assert!(!names(&dir).iter().any(|n| n.contains("stale")));
        store.release("u");
        assert!(!dir.join(LOCK_FILE).exists());
    }

    #[test]
    fn a_taken_over_lock_is_not_removed_by_its_old_owner() {
        let (root, dir) = setup("u");
        three(&dir);
        let a = store(root.path());
        let b = MaildirStore::open(root.path(), HashMap::new(), "pw".into())
            .unwrap()
            .with_stale_lock_age(Duration::from_secs(60));
        a.lock("u").unwrap();
        set_mtime(
            &dir.join(LOCK_FILE),
            SystemTime::now() - Duration::from_secs(120),
        );
        b.lock("u").unwrap();
        a.release("u");
        assert!(dir.join(LOCK_FILE).exists(), "b's lock must survive");
        b.release("u");
        assert!(!dir.join(LOCK_FILE).exists());
    }

    #[test]
    fn unsafe_user_names_do_not_exist() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("base");
        make_maildir(&base, "x");
        make_maildir(&base, "ok.user@example+tag-1_");
        // Maildirs that the bad names would reach if they were joined.
        make_maildir(&base.join(".hidden"), "");
        make_maildir(&base.join("a"), "b");
        make_maildir(root.path(), "x");
        let store = store(&base);
        let long = "a".repeat(65);
        for bad in [
            "../x", ".hidden", "a/b", "", &long, ".", "..", "x/", "/x", "x\0",
        ] {
            assert_eq!(store.secret(bad), None, "{bad:?}");
            assert!(
                matches!(store.lock(bad), Err(MailstoreError::Failed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(store.secret("nobody"), None);
        assert_eq!(store.secret(&"a".repeat(64)), None);
        assert_eq!(store.secret("x").as_deref(), Some("pw"));
        assert_eq!(
            store.secret("ok.user@example+tag-1_").as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn passwords_override_the_default_and_debug_hides_them() {
        let (root, _) = setup("alice");
        make_maildir(root.path(), "bob");
        let passwords = HashMap::from([("alice".to_owned(), "s3cret-alice".to_owned())]);
        let store = MaildirStore::open(root.path(), passwords, "d3fault-pw".into()).unwrap();
        assert_eq!(store.secret("alice").as_deref(), Some("s3cret-alice"));
        assert_eq!(store.secret("bob").as_deref(), Some("d3fault-pw"));
        let debug = format!("{store:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("d3fault"),
            "{debug}"
        );
    }

    #[test]
    fn open_requires_an_existing_directory() {
        let root = tempfile::tempdir().unwrap();
        assert!(
            MaildirStore::open(&root.path().join("missing"), HashMap::new(), "pw".into()).is_err()
        );
        let file = root.path().join("file");
        fs::write(&file, b"").unwrap();
        assert!(MaildirStore::open(&file, HashMap::new(), "pw".into()).is_err());
    }

    #[test]
    fn odd_names_get_hashed_or_distinct_uids() {
        let (root, dir) = setup("u");
        put(&dir.join("cur/has space:2,"), b"a\n", 1);
        let long = "x".repeat(71);
        put(&dir.join(format!("cur/{long}:2,")), b"b\n", 2);
        put(&dir.join("cur/same:2,S"), b"c\n", 3);
        put(&dir.join("cur/same:2,T"), b"d\n", 4);
        put(&dir.join("cur/.hidden"), b"e\n", 5);
        put(&dir.join("cur/half.tmp"), b"f\n", 6);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        let got = uids(&infos);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], hashed(b"has space"));
        assert_eq!(got[1], hashed(long.as_bytes()));
        assert_eq!(got[2], "same");
        assert_eq!(got[3], hashed(b"same:2,T"));
        for info in &infos {
            assert!(is_pop3_uid(&info.uid));
            assert_eq!(store.read("u", &info.uid).unwrap().len() as u64, info.size);
        }
        assert_eq!(&*store.read("u", &got[3]).unwrap(), b"d\r\n");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_get_a_hashed_uid() {
        use std::os::unix::ffi::OsStrExt;
        let (root, dir) = setup("u");
        let name = OsStr::from_bytes(b"\xff\xfe.host:2,");
        put(&dir.join("cur").join(name), b"Subject: bytes\n\nok\n", 1);
        put(
            &dir.join("new").join(OsStr::from_bytes(b"\xc3\x28")),
            b"n\n",
            2,
        );
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[0].uid, hashed(b"\xff\xfe.host"));
        assert_eq!(infos[1].uid, hashed(b"\xc3\x28"));
        for info in &infos {
            assert_eq!(store.read("u", &info.uid).unwrap().len() as u64, info.size);
        }
        store.commit("u", &[infos[0].uid.clone()]).unwrap();
        assert_eq!(store.lock("u").unwrap().len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_not_messages() {
        let (root, dir) = setup("u");
        let secret = root.path().join("outside");
        fs::write(&secret, b"not mail\n").unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("cur/link:2,")).unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("new/link2")).unwrap();
        let store = store(root.path());
        assert!(store.lock("u").unwrap().is_empty());
        assert!(dir.join("new/link2").exists());
    }

    #[test]
    fn a_failed_deletion_keeps_going_and_still_releases() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        let deleted = [
            infos[0].uid.clone(),
            "no-such-uid".to_owned(),
            infos[2].uid.clone(),
        ];
        assert_eq!(
            store.commit("u", &deleted),
            Err(MailstoreError::Unavailable(
                "some deleted messages not removed".into()
            ))
        );
        assert_eq!(names(&dir.join("cur")), ["200.b.host:2,"]);
        assert!(!dir.join(LOCK_FILE).exists());

        // A trash that cannot take files: nothing is removed, nothing is lost.
        let infos = store.lock("u").unwrap();
        fs::remove_dir(dir.join(TRASH_DIR)).unwrap();
        fs::write(dir.join(TRASH_DIR), b"in the way").unwrap();
        assert!(matches!(
            store.commit("u", &[infos[0].uid.clone()]),
            Err(MailstoreError::Unavailable(_))
        ));
        assert_eq!(names(&dir.join("cur")), ["200.b.host:2,"]);
        assert!(!dir.join(LOCK_FILE).exists());
        assert_eq!(store.lock("u").unwrap(), infos);
    }

    #[test]
    fn a_vanished_message_reads_as_an_error_without_paths() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        fs::remove_file(dir.join("cur/100.a.host:2,S")).unwrap();
        let Err(MailstoreError::Failed(text)) = store.read("u", &infos[0].uid) else {
            panic!("expected Failed");
        };
        assert!(text.contains("100.a.host"), "{text}");
        assert!(!text.contains('/'), "{text}");
        // Deleting a message that is already gone is what was asked.
        store.commit("u", &[infos[0].uid.clone()]).unwrap();
    }

    #[test]
    fn crlf_conversion() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"", b""),
            (b"\n", b"\r\n"),
            (b"a\nb", b"a\r\nb"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n"),
            (b"a\rb\r", b"a\rb\r"),
            (b"\n\r\n\r\r\n\n", b"\r\n\r\n\r\r\n\r\n"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (i, (input, want)) in cases.iter().enumerate() {
            assert_eq!(to_crlf(input.to_vec()), *want);
            let path = dir.path().join(i.to_string());
            fs::write(&path, input).unwrap();
            assert_eq!(crlf_size_of_file(&path).unwrap(), want.len() as u64);
        }
    }

    #[test]
    fn a_whole_session_through_the_teaching_server() {
        let (root, dir) = setup("u");
        put(
            &dir.join("new/1.m.host"),
            b"Subject: hi\n\n.dot line\nbye\n",
            1,
        );
        let store = store(root.path());
        let mut session = ServerSession::new(ServerConfig::default(), 0, "1");
        session.feed(
            0,
            b"USER u\r\nPASS pw\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n",
        );
        let mut out = Vec::new();
        while let Some(bytes) = session.poll_transmit(0, &store) {
            out.extend_from_slice(&bytes);
        }
        let text = String::from_utf8(out).unwrap();
        let size = b"Subject: hi\r\n\r\n.dot line\r\nbye\r\n".len();
        assert!(
            text.starts_with("+OK popwire teaching POP3 server ready"),
            "{text}"
        );
        assert!(
            text.contains("+OK u's maildrop is locked and ready: 1 messages"),
            "{text}"
        );
        assert!(text.contains(&format!("\r\n1 {size}\r\n.\r\n")), "{text}");
        assert!(
            text.contains(&format!(
                "+OK {size} octets\r\nSubject: hi\r\n\r\n..dot line\r\nbye\r\n.\r\n"
            )),
            "{text}"
        );
        assert!(text.contains("+OK message 1 marked for deletion"), "{text}");
        assert!(text.contains("(1 deleted, 0 left)"), "{text}");
        assert!(!text.contains("-ERR"), "{text}");
        assert!(session.is_closed());
        assert!(names(&dir.join("cur")).is_empty());
        assert!(names(&dir.join("new")).is_empty());
        assert!(!dir.join(LOCK_FILE).exists());
    }

    #[test]
    fn a_dropped_connection_deletes_nothing() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let mut session = ServerSession::new(ServerConfig::default(), 0, "2");
        session.feed(0, b"USER u\r\nPASS pw\r\nDELE 1\r\nDELE 2\r\n");
        let mut replies = 0;
        while session.poll_transmit(0, &store).is_some() {
            replies += 1;
        }
        assert_eq!(replies, 5, "greeting, USER, PASS, DELE, DELE");
        session.handle_close(&store);
        assert_eq!(names(&dir.join("cur")).len(), 3);
        assert!(!dir.join(LOCK_FILE).exists());
        assert_eq!(store.lock("u").unwrap().len(), 3);
    }
}
