//! Real Maildir accounts for the teaching server (`--maildir DIR`): `DIR/<user>/{new,cur}`.
//!
//! # What happens on disk
//!
//! - **Login** ([`Mailstore::lock`]): the maildrop is locked within the process (a set of
//!   locked users) and across processes by an exclusive kernel lock (`flock`, through
//!   [`File::try_lock`]) on `DIR/<user>/.popwire.lock`, held open for the whole session. The
//!   kernel drops that lock with the process, so a killed bridge never locks anyone out: a
//!   restarted one serves the user at once. The lock file itself stays (removing it could let
//!   two processes lock two different files of the same name). Leftovers in
//!   `DIR/<user>/.popwire-trash/` are purged: only committed deletions ever go there. Messages
//!   in `new/` are renamed into `cur/` with the `:2,` info suffix (under a fresh unique name
//!   if `cur/` already has that one), then `cur/` is listed in the order of the files'
//!   modification times (then names).
//! - **QUIT** ([`Mailstore::commit`]): each deleted message is `rename`d into the trash (the same
//!   directory tree, so the rename is atomic) and then removed. A message that another mail
//!   program renamed meanwhile (its flags changed: `x:2,` → `x:2,S`) is found again by its unique
//!   name in `cur/` or `new/`; one that cannot be found makes the answer `-ERR some deleted
//!   messages not removed` (RFC 1939 §6). Whenever the process is killed, a message is either
//!   whole in `cur/` or in the trash, and no message is ever copied, so nothing is duplicated;
//!   messages not marked for deletion are never written or removed. Both locks are released,
//!   even when a deletion failed.
//! - **Dropped connection, autologout** ([`Mailstore::release`]): both locks are released and
//!   nothing else is touched.
//!
//! # Unique-ids and sizes
//!
//! The unique-id of a message is the unique part of its Maildir name (before the first `:`)
//! when that is 1–70 characters of 0x21–0x7E (RFC 1939 §7); otherwise (non-UTF-8, spaces, too
//! long) it is the first 32 hex digits of the SHA-256 of that part. Flag changes by other mail
//! programs keep it. Two files of `cur/` with the same unique part (which Maildir forbids) would
//! share one unique-id, and the survivor would inherit it once the other is deleted, so at
//! login every such file but the first (by modification time, then name) is renamed to a fresh
//! unique name (32 hex digits of the SHA-256 of its whole old name), which is then its
//! unique-id for good.
//!
//! Sizes count the message exactly as RETR sends it before byte-stuffing: bare LF line ends
//! become CRLF (existing CRLF and lone CR kept), and a last line without LF gets CRLF.
//! [`Mailstore::read`] reads the file once, into the buffer the server streams from, converting
//! in place; messages over [`MaildirStore::max_message_size`] (default
//! [`DEFAULT_MAX_MESSAGE_SIZE`]) are refused with `-ERR`.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use popwire::server::{Mailstore, MailstoreError, MessageInfo};
use sha2::{Digest, Sha256};

use super::sent_form::{to_sent_form_in_place, SentSize};

/// The largest message RETR and TOP serve unless [`MaildirStore::with_max_message_size`] says
/// otherwise (the engine's default body cap).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 64 * 1024 * 1024;

/// The cross-process lock file inside a user's Maildir.
const LOCK_FILE: &str = ".popwire.lock";
/// Where deleted messages pass through on their way out (inside the user's Maildir).
const TRASH_DIR: &str = ".popwire-trash";
/// The longest unique-id (RFC 1939 §7).
const MAX_UID_LEN: usize = 70;
/// Hex digits of a hashed unique-id.
const HASHED_UID_LEN: usize = 32;

/// Maildir accounts under one root directory: `root/<user>/{cur,new}`.
pub struct MaildirStore {
    root: PathBuf,
    passwords: HashMap<String, String>,
    default_password: Option<String>,
    max_message_size: u64,
    /// The maildrops this process holds locked, with their listing.
    sessions: Mutex<HashMap<String, Held>>,
    /// Per user: CRLF sizes of the files seen at the last login (kept to avoid re-reading).
    sizes: Mutex<HashMap<String, HashMap<OsString, CachedSize>>>,
}

/// A maildrop locked by this process.
#[derive(Debug, Default)]
struct Held {
    /// The open lock file holding the kernel lock (`None` while the lock is being taken).
    lock: Option<File>,
    /// unique-id → the message.
    files: HashMap<String, Listed>,
}

/// A message of a locked maildrop.
#[derive(Debug, Clone)]
struct Listed {
    /// Its file in `cur/` at login.
    path: PathBuf,
    /// The unique part of its name (before the first `:`), to find it again once renamed.
    unique: Vec<u8>,
    /// Its size as sent (CRLF line ends, a final CRLF).
    size: u64,
}

/// The CRLF size of a file, valid while its length and modification time stay the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedSize {
    len: u64,
    modified: Option<SystemTime>,
    crlf_size: u64,
}

/// A listed maildrop: the messages in order, and unique-id → message.
type Listing = (Vec<MessageInfo>, HashMap<String, Listed>);

/// A message file found in `cur/`.
struct Entry {
    name: OsString,
    path: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file is gone (another program removed or renamed it).
    #[error("is no longer in the maildrop")]
    Vanished,
    /// The message is larger than the store serves.
    #[error("is {size} octets, over this server's limit of {max} octets")]
    TooLarge {
        /// Its size as it would be sent.
        size: u64,
        /// The limit ([`MaildirStore::max_message_size`]).
        max: u64,
    },
    /// The file changed since login, so the size announced then would be wrong.
    #[error("changed on disk since the maildrop was opened")]
    Changed,
    /// Reading failed.
    #[error("cannot be read")]
    Io,
}

impl fmt::Debug for MaildirStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords.
        f.debug_struct("MaildirStore")
            .field("root", &self.root)
            .field("users_with_own_password", &self.passwords.len())
            .field("default_password", &self.default_password.is_some())
            .field("max_message_size", &self.max_message_size)
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
            default_password: Some(default_password),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            sessions: Mutex::new(HashMap::new()),
            sizes: Mutex::new(HashMap::new()),
        })
    }

    /// With `true`, only the users `passwords` names can log in (a password file was given);
    /// with `false` (the default), everyone else has the default password.
    pub fn listed_users_only(mut self, only: bool) -> MaildirStore {
        if only {
            self.default_password = None;
        }
        self
    }

    /// Serves messages of at most `max` octets (as sent); larger ones get `-ERR`.
    pub fn with_max_message_size(mut self, max: u64) -> MaildirStore {
        self.max_message_size = max;
        self
    }

    /// The largest message served, in octets as sent.
    pub fn max_message_size(&self) -> u64 {
        self.max_message_size
    }

    /// The root directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/<user>` if `user` is a safe name and that directory is a Maildir.
    fn maildir(&self, user: &str) -> Option<PathBuf> {
        if !crate::names::is_user_name(user) {
            return None;
        }
        let dir = self.root.join(user);
        (dir.join("cur").is_dir() && dir.join("new").is_dir()).then_some(dir)
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        lock_ignoring_poison(&self.sessions)
    }

    /// Takes the cross-process lock and lists the maildrop (the in-process lock is held).
    fn lock_on_disk(&self, user: &str, dir: &Path) -> Result<(File, Listing), MailstoreError> {
        let lock = acquire_lock_file(dir)?;
        // On an error the lock file is closed, which drops the kernel lock.
        let listing = self.open_maildrop(user, dir)?;
        Ok((lock, listing))
    }

    /// Purges the trash, moves `new/` into `cur/` and lists `cur/`.
    fn open_maildrop(&self, user: &str, dir: &Path) -> Result<Listing, MailstoreError> {
        purge_trash(&dir.join(TRASH_DIR));
        let cur = dir.join("cur");
        let mut taken: HashSet<Vec<u8>> = list_cur(&cur)?
            .iter()
            .map(|e| unique_part(e.name.as_encoded_bytes()).to_vec())
            .collect();
        move_new_to_cur(&dir.join("new"), &cur, &mut taken);
        let mut entries = list_cur(&cur)?;
        entries.sort_by(|a, b| {
            a.modified
                .cmp(&b.modified)
                .then_with(|| a.name.as_encoded_bytes().cmp(b.name.as_encoded_bytes()))
        });
        for entry in &entries {
            taken.insert(unique_part(entry.name.as_encoded_bytes()).to_vec());
        }

        let old_sizes = lock_ignoring_poison(&self.sizes)
            .remove(user)
            .unwrap_or_default();
        let mut new_sizes = HashMap::with_capacity(entries.len());
        let mut infos = Vec::with_capacity(entries.len());
        let mut files = HashMap::with_capacity(entries.len());
        for mut entry in entries {
            let mut uid = base_uid(unique_part(entry.name.as_encoded_bytes()));
            if files.contains_key(&uid) {
                // A second file with this unique-id: it gets a fresh unique name for good, so
                // that the id never passes from one message to another.
                match rename_to_fresh_name(&cur, &entry.name, &mut taken) {
                    Some((name, path)) => {
                        uid = base_uid(unique_part(name.as_encoded_bytes()));
                        entry.name = name;
                        entry.path = path;
                    }
                    // Not listed, and not touched.
                    None => continue,
                }
                if files.contains_key(&uid) {
                    continue;
                }
            }
            let cached = old_sizes
                .get(&entry.name)
                .filter(|c| c.len == entry.len && c.modified == entry.modified);
            let size = match cached {
                Some(c) => c.crlf_size,
                None => match sent_size_of_file(&entry.path) {
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
            files.insert(
                uid.clone(),
                Listed {
                    path: entry.path,
                    unique: unique_part(entry.name.as_encoded_bytes()).to_vec(),
                    size,
                },
            );
            infos.push(MessageInfo { uid, size });
        }
        lock_ignoring_poison(&self.sizes).insert(user.to_owned(), new_sizes);
        Ok((infos, files))
    }
}

impl Mailstore for MaildirStore {
    fn secret(&self, user: &str) -> Option<String> {
        self.maildir(user)?;
        self.passwords
            .get(user)
            .or(self.default_password.as_ref())
            .cloned()
    }

    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
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
            Ok((lock, (infos, files))) => {
                sessions.insert(
                    user.to_owned(),
                    Held {
                        lock: Some(lock),
                        files,
                    },
                );
                Ok(infos)
            }
            Err(e) => {
                sessions.remove(user);
                Err(e)
            }
        }
    }

    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        let listed = {
            let sessions = self.sessions();
            let held = sessions
                .get(user)
                .filter(|held| held.lock.is_some())
                .ok_or_else(|| MailstoreError::Failed("the maildrop is not locked".into()))?;
            held.files.get(uid).cloned().ok_or_else(|| {
                MailstoreError::Failed(format!("no message {uid} in the maildrop"))
            })?
        };
        read_message(&listed.path, listed.size, self.max_message_size)
            .map_err(|e| MailstoreError::Failed(format!("message {uid} {e}")))
    }

    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError> {
        let files = self
            .sessions()
            .get_mut(user)
            .filter(|held| held.lock.is_some())
            .map(|held| std::mem::take(&mut held.files));
        let Some(files) = files else {
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
                    Some(listed) if remove_message(&dir, listed, &trash) => {}
                    _ => failed += 1,
                }
            }
        }
        // Released in any case (closing the lock file drops the kernel lock).
        self.release(user);
        if failed > 0 {
            Err(MailstoreError::Unavailable(
                "some deleted messages not removed".into(),
            ))
        } else {
            Ok(())
        }
    }

    fn release(&self, user: &str) {
        let mut sessions = self.sessions();
        if sessions.get(user).is_some_and(|held| held.lock.is_some()) {
            // Closed under the mutex: no session of this process sees the maildrop free while
            // the kernel lock is still held.
            drop(sessions.remove(user));
        }
    }
}

/// Locks a mutex; a panic elsewhere does not make the maildrops unusable.
fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Opens (or creates) `dir/.popwire.lock` and takes its exclusive kernel lock without waiting.
fn acquire_lock_file(dir: &Path) -> Result<File, MailstoreError> {
    let path = dir.join(LOCK_FILE);
    // Never through a symbolic link (it could point anywhere).
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(MailstoreError::Unavailable(
            "the maildrop's lock file is not a regular file".into(),
        ));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|_| {
            MailstoreError::Unavailable("the maildrop's lock file cannot be opened".into())
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(MailstoreError::InUse),
        Err(TryLockError::Error(_)) => {
            return Err(MailstoreError::Unavailable(
                "the maildrop cannot be locked".into(),
            ))
        }
    }
    // For people looking: who holds it. The lock, not this text, is what counts.
    if file.set_len(0).is_ok() {
        let _ = writeln!(file, "popwire-bridge pid {}", std::process::id());
    }
    Ok(file)
}

/// Dotfiles, and names whose unique part ends in `.tmp`, are not messages.
fn is_hidden_or_temp(name: &OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.first() == Some(&b'.') || unique_part(bytes).ends_with(b".tmp")
}

/// The Maildir unique part: the name before the first `:`.
fn unique_part(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => name.get(..i).unwrap_or(name),
        None => name,
    }
}

/// A regular file (symbolic links are never followed: they could point anywhere).
fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Whether nothing at all is at `path` (not even a dangling symbolic link).
fn is_free(path: &Path) -> bool {
    fs::symlink_metadata(path).is_err_and(|e| e.kind() == ErrorKind::NotFound)
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

/// `name` with its unique part replaced by `part` (the info part, `:2,…`, kept).
fn with_unique_part(name: &OsStr, part: &[u8]) -> OsString {
    let bytes = name.as_encoded_bytes();
    let info = bytes.get(unique_part(bytes).len()..).unwrap_or_default();
    let mut out = Vec::with_capacity(part.len() + info.len());
    out.extend_from_slice(part);
    out.extend_from_slice(info);
    os_string_from_bytes(out)
}

/// An `OsString` from bytes made of `as_encoded_bytes` pieces split at ASCII characters.
#[cfg(unix)]
fn os_string_from_bytes(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

/// An `OsString` from bytes made of `as_encoded_bytes` pieces split at ASCII characters.
#[cfg(not(unix))]
fn os_string_from_bytes(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// Renames every message of `new/` to `cur/<name>:2,`, under a fresh unique part (`.dupN`
/// added) when `taken` (the unique parts in `cur/`) already has its own; never replaces a file.
fn move_new_to_cur(new: &Path, cur: &Path, taken: &mut HashSet<Vec<u8>>) {
    let Ok(entries) = fs::read_dir(new) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let from = entry.path();
        if is_hidden_or_temp(&name) || !is_regular_file(&from) {
            continue;
        }
        let bytes = name.as_encoded_bytes();
        let part = unique_part(bytes);
        let has_info = bytes.contains(&b':');
        // The only writer of cur/ is the lock holder, so "free, then rename" does not race.
        let target = (0..100u32).find_map(|n| {
            let mut fresh = part.to_vec();
            if n > 0 {
                fresh.extend_from_slice(format!(".dup{n}").as_bytes());
            }
            if taken.contains(&fresh) {
                return None;
            }
            let mut target = with_unique_part(&name, &fresh);
            if !has_info {
                target.push(":2,");
            }
            let path = cur.join(target);
            is_free(&path).then_some((fresh, path))
        });
        if let Some((fresh, target)) = target {
            // Atomic: the message is in new/ or in cur/. On failure it stays in new/.
            if fs::rename(&from, &target).is_ok() {
                taken.insert(fresh);
            }
        }
    }
}

/// Renames `cur/<name>` to a fresh unique part (the hash of the whole name, `-N` added if
/// needed) with the same info part; the new name and path, or `None` if it cannot be done.
fn rename_to_fresh_name(
    cur: &Path,
    name: &OsStr,
    taken: &mut HashSet<Vec<u8>>,
) -> Option<(OsString, PathBuf)> {
    let base = hashed(name.as_encoded_bytes());
    let (fresh, new_name, path) = (1..100u32).find_map(|n| {
        let fresh = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if taken.contains(fresh.as_bytes()) {
            return None;
        }
        let new_name = with_unique_part(name, fresh.as_bytes());
        let path = cur.join(&new_name);
        is_free(&path).then_some((fresh, new_name, path))
    })?;
    // Atomic: the message has its old name or its new one.
    fs::rename(cur.join(name), &path).ok()?;
    taken.insert(fresh.into_bytes());
    Some((new_name, path))
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

/// The unique part if it is a valid POP3 unique-id, else a hash of it.
fn base_uid(part: &[u8]) -> String {
    std::str::from_utf8(part)
        .ok()
        .filter(|s| is_pop3_uid(s))
        .map_or_else(|| hashed(part), str::to_owned)
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

/// The size of the file as RETR sends it ([`sent_form`](super::sent_form)), read in chunks.
fn sent_size_of_file(path: &Path) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = SentSize::new();
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => size.add(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(size.finish())
}

/// Reads the message at `path` whose size as sent was `size` at login: one read into the buffer
/// the server streams from, converted in place. Refused beyond `max` octets.
fn read_message(path: &Path, size: u64, max: u64) -> Result<Arc<[u8]>, ReadError> {
    if size > max {
        return Err(ReadError::TooLarge { size, max });
    }
    let mut file = File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => ReadError::Vanished,
        _ => ReadError::Io,
    })?;
    let len = file.metadata().map_err(|_| ReadError::Io)?.len();
    if len > max {
        return Err(ReadError::TooLarge { size: len, max });
    }
    // The file only ever grows when converted: a longer one is not the message listed.
    if len > size {
        return Err(ReadError::Changed);
    }
    let (Ok(size), Ok(len)) = (usize::try_from(size), usize::try_from(len)) else {
        return Err(ReadError::TooLarge { size, max });
    };
    let mut data: Arc<[u8]> = std::iter::repeat_n(0u8, size).collect();
    let Some(buf) = Arc::get_mut(&mut data) else {
        return Err(ReadError::Io);
    };
    let start = size - len;
    let Some(tail) = buf.get_mut(start..) else {
        return Err(ReadError::Io);
    };
    file.read_exact(tail).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => ReadError::Changed,
        _ => ReadError::Io,
    })?;
    let mut more = [0u8; 1];
    match file.read(&mut more) {
        Ok(0) => {}
        Ok(_) => return Err(ReadError::Changed),
        Err(_) => return Err(ReadError::Io),
    }
    if !to_sent_form_in_place(buf, start) {
        return Err(ReadError::Changed);
    }
    Ok(data)
}

/// Moves a deleted message into the trash (atomic), then removes it there; if another program
/// renamed it (new flags), the file with its unique part in `cur/` or `new/` is the one. True if
/// it is gone from the maildrop; a file left in the trash is purged at the next login.
fn remove_message(dir: &Path, listed: &Listed, trash: &Path) -> bool {
    match move_to_trash(&listed.path, trash) {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::NotFound && is_free(&listed.path) => {
            match find_by_unique_part(dir, &listed.unique) {
                Found::One(path) => move_to_trash(&path, trash).is_ok(),
                // Already gone (another program removed it) is what was asked.
                Found::None => true,
                Found::Many => false,
            }
        }
        Err(_) => false,
    }
}

/// What a search by unique part found.
enum Found {
    None,
    One(PathBuf),
    Many,
}

/// The regular file of `cur/` or `new/` whose unique part is `unique`.
fn find_by_unique_part(dir: &Path, unique: &[u8]) -> Found {
    let mut found = Found::None;
    for sub in ["cur", "new"] {
        let Ok(entries) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if unique_part(name.as_encoded_bytes()) != unique || !is_regular_file(&entry.path()) {
                continue;
            }
            found = match found {
                Found::None => Found::One(entry.path()),
                _ => return Found::Many,
            };
        }
    }
    found
}

/// Renames a message into the trash (atomic), then removes it there.
fn move_to_trash(path: &Path, trash: &Path) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::from(ErrorKind::InvalidInput))?;
    let target = trash.join(name);
    fs::rename(path, &target)?;
    let _ = fs::remove_file(&target);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use popwire::server::{ServerConfig, ServerSession};
    use std::time::{Duration, UNIX_EPOCH};
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

    /// Whether someone holds the kernel lock of the maildrop's lock file.
    fn locked_on_disk(dir: &Path) -> bool {
        let Ok(file) = File::open(dir.join(LOCK_FILE)) else {
            return false;
        };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
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
            b"Subject: b\r\n\r\nx\ry\r\nz\r\n",
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
        assert!(locked_on_disk(&dir));
        // Another store on the same root stands for another process.
        let other = MaildirStore::open(root.path(), HashMap::new(), "pw".into()).unwrap();
        assert_eq!(other.lock("u"), Err(MailstoreError::InUse));
        store.release("u");
        assert!(!locked_on_disk(&dir));
        assert_eq!(other.lock("u").unwrap().len(), 3);
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        other.release("u");
        assert_eq!(store.lock("u").unwrap().len(), 3);
    }

    #[test]
    fn a_foreign_kernel_lock_is_respected_and_a_leftover_lock_file_is_not() {
        let (root, dir) = setup("u");
        three(&dir);
        // A lock file left by a killed process: nobody holds its lock, so it does not count.
        fs::write(dir.join(LOCK_FILE), "popwire-bridge pid 1 (killed)\n").unwrap();
        let store = store(root.path());
        assert_eq!(store.lock("u").unwrap().len(), 3);
        store.release("u");
        // Another process holding the lock (here: another open file description).
        let foreign = File::open(dir.join(LOCK_FILE)).unwrap();
        foreign.try_lock().unwrap();
        let new_before = names(&dir.join("cur"));
        put(&dir.join("new/400.d.host"), b"d\n", 40);
        assert_eq!(store.lock("u"), Err(MailstoreError::InUse));
        store.release("u");
        // Nothing was moved while the lock was refused.
        assert_eq!(names(&dir.join("new")), ["400.d.host"]);
        assert_eq!(names(&dir.join("cur")), new_before);
        drop(foreign);
        assert_eq!(store.lock("u").unwrap().len(), 4);
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
        assert!(!locked_on_disk(&dir));
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
        assert!(!locked_on_disk(&dir));
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
        fs::write(dir.join(LOCK_FILE), "popwire-bridge pid 1\n").unwrap();

        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        assert_eq!(uids(&infos), ["100.a.host", "200.b.host", "300.c.host"]);
        assert!(names(&dir.join(TRASH_DIR)).is_empty());
        let content = fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert_eq!(
            content,
            format!("popwire-bridge pid {}\n", std::process::id())
        );
        assert!(locked_on_disk(&dir));
        store.release("u");
        assert!(!locked_on_disk(&dir));
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
        // A password file was given: only the users it names have a secret.
        let passwords = HashMap::from([("alice".to_owned(), "s3cret-alice".to_owned())]);
        let listed = MaildirStore::open(root.path(), passwords, "d3fault-pw".into())
            .unwrap()
            .listed_users_only(true);
        assert_eq!(listed.secret("alice").as_deref(), Some("s3cret-alice"));
        assert_eq!(listed.secret("bob"), None);
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
        assert!(!locked_on_disk(&dir));

        // A trash that cannot take files: nothing is removed, nothing is lost.
        let infos = store.lock("u").unwrap();
        fs::remove_dir(dir.join(TRASH_DIR)).unwrap();
        fs::write(dir.join(TRASH_DIR), b"in the way").unwrap();
        assert!(matches!(
            store.commit("u", &[infos[0].uid.clone()]),
            Err(MailstoreError::Unavailable(_))
        ));
        assert_eq!(names(&dir.join("cur")), ["200.b.host:2,"]);
        assert!(!locked_on_disk(&dir));
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

    /// What RETR sends of a raw file, the slow obvious way.
    fn sent_form(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
        }
        if raw.last().is_some_and(|&b| b != b'\n') {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn sent_form_conversion() {
        let cases: [(&[u8], &[u8]); 9] = [
            (b"", b""),
            (b"\n", b"\r\n"),
            (b"a", b"a\r\n"),
            (b"a\nb", b"a\r\nb\r\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n"),
            (b"a\r\nb", b"a\r\nb\r\n"),
            (b"a\rb\r", b"a\rb\r\r\n"),
            (b"\n\r\n\r\r\n\n", b"\r\n\r\n\r\r\n\r\n"),
            (b"\n\n\nx", b"\r\n\r\n\r\nx\r\n"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let check = |i: usize, input: &[u8], want: &[u8]| {
            assert_eq!(sent_form(input), want, "case {i}");
            let path = dir.path().join(i.to_string());
            fs::write(&path, input).unwrap();
            let size = sent_size_of_file(&path).unwrap();
            assert_eq!(size, want.len() as u64, "case {i}");
            let got = read_message(&path, size, u64::MAX).unwrap();
            assert_eq!(&*got, want, "case {i}");
        };
        for (i, (input, want)) in cases.iter().enumerate() {
            check(i, input, want);
        }
        // Pseudo-random files of LF, CR, '.' and 'x', longer than one 64 KiB read chunk.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..200 {
            let len = if i % 20 == 0 { 70_000 } else { i * 3 };
            let raw: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b'\n', b'\r', b'.', b'x'][(seed % 4) as usize]
                })
                .collect();
            let want = sent_form(&raw);
            check(100 + i, &raw, &want);
        }
    }

    #[test]
    fn a_file_that_changed_since_login_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        fs::write(&path, b"a\nb\n").unwrap();
        let size = sent_size_of_file(&path).unwrap();
        assert_eq!(size, 6);
        // More bare LFs than at login, same length: the converted message would not fit.
        fs::write(&path, b"\n\n\n\n").unwrap();
        assert_eq!(read_message(&path, size, u64::MAX), Err(ReadError::Changed));
        // Fewer: it would not fill the announced size.
        fs::write(&path, b"ab\r\n").unwrap();
        assert_eq!(read_message(&path, size, u64::MAX), Err(ReadError::Changed));
        // Longer than its size as sent.
        fs::write(&path, b"a\r\nb\r\nc").unwrap();
        assert_eq!(read_message(&path, size, u64::MAX), Err(ReadError::Changed));
        // Already CRLF, but with a bare LF now.
        fs::write(&path, b"a\r\nb\r\n").unwrap();
        assert_eq!(&*read_message(&path, 6, u64::MAX).unwrap(), b"a\r\nb\r\n");
        fs::write(&path, b"a\r\n\nb\n").unwrap();
        assert_eq!(read_message(&path, 6, u64::MAX), Err(ReadError::Changed));
        fs::remove_file(&path).unwrap();
        assert_eq!(read_message(&path, 6, u64::MAX), Err(ReadError::Vanished));
    }

    #[test]
    fn messages_over_the_cap_get_an_error_not_memory() {
        let (root, dir) = setup("u");
        put(&dir.join("cur/big:2,"), &vec![b'x'; 10_000], 1);
        put(&dir.join("cur/small:2,"), b"ok\n", 2);
        let store = store(root.path()).with_max_message_size(4_096);
        assert_eq!(store.max_message_size(), 4_096);
        let infos = store.lock("u").unwrap();
        assert_eq!(infos[0].size, 10_002);
        let Err(MailstoreError::Failed(text)) = store.read("u", "big") else {
            panic!("expected Failed");
        };
        assert_eq!(
            text,
            "message big is 10002 octets, over this server's limit of 4096 octets"
        );
        assert_eq!(&*store.read("u", "small").unwrap(), b"ok\r\n");
        // Through the server: -ERR, and the session goes on.
        store.release("u");
        let mut session = ServerSession::new(ServerConfig::default(), 0, "3");
        session.feed(0, b"USER u\r\nPASS pw\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n");
        let mut out = Vec::new();
        while let Some(bytes) = session.poll_transmit(0, &store) {
            out.extend_from_slice(&bytes);
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("-ERR [SYS/PERM]"), "{text}");
        assert!(text.contains("over this server's limit"), "{text}");
        assert!(text.contains("+OK 4 octets\r\nok\r\n.\r\n"), "{text}");
    }

    #[test]
    fn a_read_is_one_buffer_the_size_of_the_message() {
        // The Arc the server streams from is exactly the message: no spare capacity, no copy
        // kept elsewhere (the store holds no reference).
        let (root, dir) = setup("u");
        put(&dir.join("cur/m:2,"), b"a\nb\nc", 1);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        let data = store.read("u", "m").unwrap();
        assert_eq!(data.len() as u64, infos[0].size);
        assert_eq!(Arc::strong_count(&data), 1);
        assert_eq!(&*data, b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn a_message_renamed_by_another_program_is_still_deleted() {
        let (root, dir) = setup("u");
        three(&dir);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        // Another mail program sets flags meanwhile (the unique part stays).
        fs::rename(
            dir.join("cur/200.b.host:2,"),
            dir.join("cur/200.b.host:2,S"),
        )
        .unwrap();
        fs::rename(dir.join("cur/300.c.host:2,"), dir.join("new/300.c.host")).unwrap();
        store
            .commit("u", &[infos[1].uid.clone(), infos[2].uid.clone()])
            .unwrap();
        assert_eq!(names(&dir.join("cur")), ["100.a.host:2,S"]);
        assert!(names(&dir.join("new")).is_empty());
        assert!(names(&dir.join(TRASH_DIR)).is_empty());

        // Two candidates with the same unique part: neither is guessed at; QUIT says so.
        let infos = store.lock("u").unwrap();
        fs::rename(
            dir.join("cur/100.a.host:2,S"),
            dir.join("cur/100.a.host:2,RS"),
        )
        .unwrap();
        fs::write(dir.join("new/100.a.host"), b"a copy\n").unwrap();
        assert_eq!(
            store.commit("u", &[infos[0].uid.clone()]),
            Err(MailstoreError::Unavailable(
                "some deleted messages not removed".into()
            ))
        );
        assert_eq!(names(&dir.join("cur")), ["100.a.host:2,RS"]);
        assert_eq!(names(&dir.join("new")), ["100.a.host"]);
        assert!(!locked_on_disk(&dir));
    }

    #[test]
    fn a_unique_id_is_never_passed_on_to_a_same_named_file() {
        let (root, dir) = setup("u");
        put(&dir.join("cur/same:2,S"), b"first\n", 1);
        put(&dir.join("cur/same:2,T"), b"second\n", 2);
        let store = store(root.path());
        let infos = store.lock("u").unwrap();
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[0].uid, "same");
        let second = infos[1].uid.clone();
        assert_ne!(second, "same");
        assert_eq!(&*store.read("u", &second).unwrap(), b"second\r\n");
        store.release("u");
        // Stable across sessions and processes.
        let again = MaildirStore::open(root.path(), HashMap::new(), "pw".into())
            .unwrap()
            .lock("u")
            .unwrap();
        assert_eq!(again, infos);
        // The first is deleted: the second keeps its own id, "same" is not reused.
        let infos = store.lock("u").unwrap();
        store.commit("u", &[infos[0].uid.clone()]).unwrap();
        let after = store.lock("u").unwrap();
        assert_eq!(uids(&after), std::slice::from_ref(&second));
        assert_eq!(&*store.read("u", &second).unwrap(), b"second\r\n");
        store.release("u");

        // Delivered into new/ under a name cur/ already has: a fresh unique name too.
        put(&dir.join("cur/x:2,"), b"x\n", 3);
        put(&dir.join("new/x"), b"new x\n", 4);
        let infos = store.lock("u").unwrap();
        let got = uids(&infos);
        assert_eq!(got, [second.clone(), "x".to_owned(), "x.dup1".to_owned()]);
        assert_eq!(&*store.read("u", "x.dup1").unwrap(), b"new x\r\n");
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
        assert!(!locked_on_disk(&dir));
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
        assert!(!locked_on_disk(&dir));
        assert_eq!(store.lock("u").unwrap().len(), 3);
    }
}
