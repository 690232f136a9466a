//! [`MemoryStore`]: the teaching server's in-memory maildrops, one per user name, seeded with
//! the [`SAMPLES`] on first use and kept for the store's lifetime (up to a cap, the least
//! recently used unlocked maildrop evicted first). No IO and no clock: "recently" is a counter
//! of store operations. The bridge's `--demo` and the in-browser simulated server both use it.
//!
//! # Unique-ids
//!
//! `<n>-<8 hex digits>`: `n` counts the maildrop's messages from 1 (never reused, so unique
//! within the maildrop), the digits are the first 4 octets of
//! `H(user ‖ 0x00 ‖ n as 8 octets big-endian ‖ H(message))`, with `H` the store's
//! [`UidHash`] (the bridge and the in-browser server pass SHA-256, so both give the same
//! unique-ids to the same maildrop; [`md5_hash`] is the default). Well inside RFC 1939 §7's
//! 1–70 characters of 0x21–0x7E.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Mailstore, MailstoreError, MessageInfo, SAMPLES};

/// The hash behind the unique-ids: the digest of the concatenated `parts` (at least 4 octets).
pub type UidHash = fn(parts: &[&[u8]]) -> Vec<u8>;

/// MD5 of the concatenated `parts`: the default [`UidHash`] (a label, not a security measure).
pub fn md5_hash(parts: &[&[u8]]) -> Vec<u8> {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().to_vec()
}

/// Caps and passwords of a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemoryConfig {
    /// Everyone's password and APOP secret unless `passwords` names them.
    pub password: String,
    /// Per-user passwords.
    pub passwords: HashMap<String, String>,
    /// Maildrops held at once (at least 1).
    pub max_maildrops: usize,
    /// Messages one maildrop may hold; a delivery beyond is refused.
    pub max_messages: usize,
    /// Largest delivery, in octets of its sent form.
    pub max_delivery_size: usize,
    /// Delivered octets all maildrops together may hold (the samples are shared, not counted).
    pub max_delivered_bytes: usize,
    /// The hash `H` of the unique-ids: `<n>-<hex of the first 4 octets of
    /// H(user ‖ 0x00 ‖ n ‖ H(message))>` ([`md5_hash`] by default).
    pub uid_hash: UidHash,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            password: "pop3".into(),
            passwords: HashMap::new(),
            max_maildrops: 1000,
            max_messages: 200,
            max_delivery_size: 1024 * 1024,
            max_delivered_bytes: 256 * 1024 * 1024,
            uid_hash: md5_hash,
        }
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliverError {
    /// The message is over the size cap.
    #[error("the message is {size} bytes; deliveries are capped at {max} bytes")]
    TooLarge {
        /// The message's size in its sent form.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// The maildrop already holds its cap of messages.
    #[error("{user}'s maildrop is full ({max} messages): log in and delete some first")]
    MaildropFull {
        /// The user.
        user: String,
        /// The cap.
        max: usize,
    },
    /// All maildrops together hold their cap of delivered bytes, or every maildrop slot is
    /// taken by a locked maildrop.
    #[error("the demo server's storage is full: {0}")]
    StoreFull(String),
}

/// What a delivery produced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivered {
    /// The maildrop's user.
    pub user: String,
    /// The message number a new session will see it under.
    pub id: usize,
    /// Its unique-id (UIDL).
    pub uid: String,
    /// Its size in octets.
    pub size: usize,
}

/// A maildrop as the store holds it, for a simulated server's view of its side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildropSnapshot {
    /// Whether a session holds the maildrop's lock.
    pub locked: bool,
    /// Its messages in order (without any session's deletion marks: those live in the session).
    pub messages: Vec<MessageInfo>,
    /// What the last UPDATE (a QUIT from TRANSACTION) removed; empty if none has yet.
    pub last_update: Vec<MessageInfo>,
    /// How many UPDATEs this maildrop has seen.
    pub updates: u64,
}

#[derive(Debug)]
struct Stored {
    uid: String,
    bytes: Arc<[u8]>,
    /// Delivered (counted against the delivered-bytes cap), not a shared sample.
    delivered: bool,
}

#[derive(Debug)]
struct Maildrop {
    messages: Vec<Stored>,
    locked: bool,
    last_used: u64,
    next_seq: u64,
    last_update: Vec<MessageInfo>,
    updates: u64,
}

#[derive(Debug, Default)]
struct Inner {
    drops: HashMap<String, Maildrop>,
    /// Counts operations: the least recently used maildrop has the smallest `last_used`.
    ops: u64,
    delivered_bytes: usize,
}

/// In-memory maildrops for the teaching server. Any user name logs in with the configured
/// password (`pop3` by default, also the APOP secret).
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// The samples in their sent form (shared by every maildrop) and a digest of each.
    samples: Vec<(Arc<[u8]>, Vec<u8>)>,
    config: MemoryConfig,
}

impl MemoryStore {
    /// A store with the caps and passwords of `config`, seeding maildrops with [`SAMPLES`].
    pub fn new(config: MemoryConfig) -> MemoryStore {
        let samples = SAMPLES.iter().map(|(_, bytes)| bytes.to_vec()).collect();
        MemoryStore::with_samples(config, samples)
    }

    /// A store whose maildrops start with `samples` (each converted to its sent form).
    pub fn with_samples(mut config: MemoryConfig, samples: Vec<Vec<u8>>) -> MemoryStore {
        config.max_maildrops = config.max_maildrops.max(1);
        let samples = samples
            .iter()
            .map(|bytes| {
                let bytes: Arc<[u8]> = Arc::from(to_sent_form(bytes));
                let digest = (config.uid_hash)(&[&bytes]);
                (bytes, digest)
            })
            .collect();
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            samples,
            config,
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of maildrops held now.
    pub fn maildrops(&self) -> usize {
        self.inner().drops.len()
    }

    /// Adds a message to `user`'s maildrop (created and seeded if new), in its sent form (see
    /// [`to_sent_form`]). A session holding the lock does not see it; the next one does.
    pub fn deliver(&self, user: &str, message: &[u8]) -> Result<Delivered, DeliverError> {
        let bytes = to_sent_form(message);
        let size = bytes.len();
        if size > self.config.max_delivery_size {
            return Err(DeliverError::TooLarge {
                size,
                max: self.config.max_delivery_size,
            });
        }
        let mut inner = self.inner();
        if inner.delivered_bytes.saturating_add(size) > self.config.max_delivered_bytes {
            return Err(DeliverError::StoreFull(format!(
                "delivered mail is capped at {} bytes in all",
                self.config.max_delivered_bytes
            )));
        }
        let drop = self
            .maildrop(&mut inner, user)
            .map_err(|e| DeliverError::StoreFull(e.to_string()))?;
        if drop.messages.len() >= self.config.max_messages {
            return Err(DeliverError::MaildropFull {
                user: user.to_owned(),
                max: self.config.max_messages,
            });
        }
        let digest = (self.config.uid_hash)(&[&bytes]);
        let uid = self.make_uid(user, drop.next_seq, &digest);
        drop.next_seq += 1;
        drop.messages.push(Stored {
            uid: uid.clone(),
            bytes: Arc::from(bytes),
            delivered: true,
        });
        let id = drop.messages.len();
        inner.delivered_bytes += size;
        Ok(Delivered {
            user: user.to_owned(),
            id,
            uid,
            size,
        })
    }

    /// Puts `user`'s maildrop back to the samples, as a new maildrop starts (unique-ids
    /// included); delivered mail and the record of the last UPDATE are gone. Refused with
    /// [`MailstoreError::InUse`] while a session holds the lock.
    pub fn reset(&self, user: &str) -> Result<(), MailstoreError> {
        let mut inner = self.inner();
        let freed = match inner.drops.get(user) {
            Some(drop) if drop.locked => return Err(MailstoreError::InUse),
            Some(drop) => delivered_size(drop),
            None => 0,
        };
        inner.drops.remove(user);
        inner.delivered_bytes = inner.delivered_bytes.saturating_sub(freed);
        self.maildrop(&mut inner, user).map(|_| ())
    }

    /// `user`'s maildrop as the store holds it, or `None` if it does not exist (yet: logging
    /// in or a delivery creates it). Does not count as a use for eviction.
    pub fn snapshot(&self, user: &str) -> Option<MaildropSnapshot> {
        let inner = self.inner();
        let drop = inner.drops.get(user)?;
        Some(MaildropSnapshot {
            locked: drop.locked,
            messages: drop.messages.iter().map(info).collect(),
            last_update: drop.last_update.clone(),
            updates: drop.updates,
        })
    }

    /// The maildrop of `user`, created and seeded if new (evicting the least recently used
    /// unlocked maildrop when at the cap).
    fn maildrop<'a>(
        &self,
        inner: &'a mut Inner,
        user: &str,
    ) -> Result<&'a mut Maildrop, MailstoreError> {
        inner.ops += 1;
        let now = inner.ops;
        if !inner.drops.contains_key(user) {
            if inner.drops.len() >= self.config.max_maildrops {
                let victim = inner
                    .drops
                    .iter()
                    .filter(|(_, d)| !d.locked)
                    .min_by_key(|(_, d)| d.last_used)
                    .map(|(name, _)| name.clone());
                let Some(victim) = victim else {
                    return Err(MailstoreError::Unavailable(format!(
                        "all {} demo maildrops are in use; try again later",
                        self.config.max_maildrops
                    )));
                };
                if let Some(gone) = inner.drops.remove(&victim) {
                    let freed = delivered_size(&gone);
                    inner.delivered_bytes = inner.delivered_bytes.saturating_sub(freed);
                }
            }
            let mut drop = Maildrop {
                messages: Vec::with_capacity(self.samples.len()),
                locked: false,
                last_used: now,
                next_seq: 1,
                last_update: Vec::new(),
                updates: 0,
            };
            for (bytes, digest) in &self.samples {
                drop.messages.push(Stored {
                    uid: self.make_uid(user, drop.next_seq, digest),
                    bytes: Arc::clone(bytes),
                    delivered: false,
                });
                drop.next_seq += 1;
            }
            inner.drops.insert(user.to_owned(), drop);
        }
        match inner.drops.get_mut(user) {
            Some(drop) => {
                drop.last_used = now;
                Ok(drop)
            }
            None => Err(MailstoreError::Failed("maildrop vanished".into())),
        }
    }

    /// The unique-id of the `seq`-th message of `user`'s maildrop (see the module docs).
    fn make_uid(&self, user: &str, seq: u64, digest: &[u8]) -> String {
        let h = (self.config.uid_hash)(&[user.as_bytes(), &[0], &seq.to_be_bytes(), digest]);
        let mut uid = format!("{seq}-");
        for b in h.iter().take(4) {
            uid.push_str(&format!("{b:02x}"));
        }
        uid
    }
}

fn info(m: &Stored) -> MessageInfo {
    MessageInfo {
        uid: m.uid.clone(),
        size: m.bytes.len() as u64,
    }
}

/// The delivered (not sample) octets a maildrop holds.
fn delivered_size(drop: &Maildrop) -> usize {
    drop.messages
        .iter()
        .filter(|m| m.delivered)
        .map(|m| m.bytes.len())
        .sum()
}

impl Mailstore for MemoryStore {
    fn secret(&self, user: &str) -> Option<String> {
        Some(
            self.config
                .passwords
                .get(user)
                .cloned()
                .unwrap_or_else(|| self.config.password.clone()),
        )
    }

    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        let mut inner = self.inner();
        let drop = self.maildrop(&mut inner, user)?;
        if drop.locked {
            return Err(MailstoreError::InUse);
        }
        drop.locked = true;
        Ok(drop.messages.iter().map(info).collect())
    }

    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        let inner = self.inner();
        inner
            .drops
            .get(user)
            .and_then(|d| d.messages.iter().find(|m| m.uid == uid))
            .map(|m| Arc::clone(&m.bytes))
            .ok_or_else(|| MailstoreError::Failed("the message is gone".into()))
    }

    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError> {
        let mut inner = self.inner();
        let mut freed = 0;
        if let Some(drop) = inner.drops.get_mut(user) {
            let mut removed = Vec::new();
            drop.messages.retain(|m| {
                let gone = deleted.contains(&m.uid);
                if gone {
                    removed.push(info(m));
                    if m.delivered {
                        freed += m.bytes.len();
                    }
                }
                !gone
            });
            drop.last_update = removed;
            drop.updates += 1;
            drop.locked = false;
        }
        inner.delivered_bytes = inner.delivered_bytes.saturating_sub(freed);
        Ok(())
    }

    fn release(&self, user: &str) {
        if let Some(drop) = self.inner().drops.get_mut(user) {
            drop.locked = false;
        }
    }
}

/// A message in the form RETR sends it (before byte-stuffing), the rule every store follows:
/// each bare LF (an LF with no CR before it) becomes CRLF, existing CRLF and lone CRs are kept,
/// and a non-empty message whose last line has no LF gets a CRLF. LIST and STAT announce the
/// size of this form, so it is exactly what RETR sends.
pub fn to_sent_form(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32 + 2);
    let mut prev = 0u8;
    let mut start = 0;
    for lf in memchr::memchr_iter(b'\n', bytes) {
        let line = bytes.get(start..lf).unwrap_or_default();
        out.extend_from_slice(line);
        let before = line.last().copied().unwrap_or(prev);
        if before != b'\r' {
            out.push(b'\r');
        }
        out.push(b'\n');
        prev = b'\n';
        start = lf + 1;
    }
    let tail = bytes.get(start..).unwrap_or_default();
    if !tail.is_empty() {
        out.extend_from_slice(tail);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn store(max_maildrops: usize) -> MemoryStore {
        MemoryStore::new(MemoryConfig {
            max_maildrops,
            max_messages: SAMPLES.len() + 2,
            max_delivery_size: 100,
            max_delivered_bytes: 250,
            ..MemoryConfig::default()
        })
    }

    #[test]
    fn the_sent_form() {
        for (raw, sent) in [
            (&b"a\nb\r\nc"[..], &b"a\r\nb\r\nc\r\n"[..]),
            (b"", b""),
            (b"\n", b"\r\n"),
            (b"a\r", b"a\r\r\n"),
            (b"a\rb\n", b"a\rb\r\n"),
            (b"a\r\n", b"a\r\n"),
            (b"\n\n", b"\r\n\r\n"),
            (b"\r\n\n", b"\r\n\r\n"),
        ] {
            assert_eq!(to_sent_form(raw), sent, "{raw:?}");
            assert_eq!(to_sent_form(sent), sent, "already sent form: {raw:?}");
        }
    }

    #[test]
    fn seeded_locked_and_stable_uids() {
        let s = store(10);
        let first = s.lock("alice").unwrap();
        assert_eq!(first.len(), SAMPLES.len());
        for (info, (_, bytes)) in first.iter().zip(SAMPLES.iter()) {
            assert_eq!(info.size, to_sent_form(bytes).len() as u64);
            assert!((1..=70).contains(&info.uid.len()));
            assert!(info.uid.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        assert_eq!(first[0].uid.len(), "1-".len() + 8);
        assert_eq!(s.lock("alice"), Err(MailstoreError::InUse));
        s.release("alice");
        assert_eq!(s.lock("alice").unwrap(), first);
        s.commit("alice", &[first[0].uid.clone()]).unwrap();
        let after = s.lock("alice").unwrap();
        assert_eq!(after, first[1..]);
        assert_ne!(s.lock("bob").unwrap()[0].uid, first[0].uid);
        assert_eq!(s.secret("anyone").as_deref(), Some("pop3"));
    }

    /// The unique-id is the documented derivation over the store's hash.
    #[test]
    fn uids_follow_the_documented_derivation() {
        let s = store(10);
        let infos = s.lock("alice").unwrap();
        let sample = to_sent_form(SAMPLES[1].1);
        let h = md5_hash(&[b"alice", &[0], &2u64.to_be_bytes(), &md5_hash(&[&sample])]);
        let hex: String = h[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(infos[1].uid, format!("2-{hex}"));
    }

    #[test]
    fn eviction_takes_the_least_recently_used_unlocked_maildrop() {
        let s = store(2);
        s.lock("a").unwrap();
        s.lock("b").unwrap();
        assert!(matches!(s.lock("c"), Err(MailstoreError::Unavailable(_))));
        s.release("a");
        s.release("b");
        s.deliver("b", b"Subject: x\r\n\r\nkeep\r\n").unwrap();
        s.lock("c").unwrap(); // evicts a (b was used more recently)
        assert_eq!(s.maildrops(), 2);
        assert!(s.snapshot("a").is_none());
        assert_eq!(s.lock("b").unwrap().len(), SAMPLES.len() + 1);
    }

    #[test]
    fn deliveries_are_capped_and_normalised() {
        let s = store(10);
        let d = s.deliver("alice", b"Subject: hi\n\nbody").unwrap();
        assert_eq!(d.id, SAMPLES.len() + 1);
        assert_eq!(d.size, "Subject: hi\r\n\r\nbody\r\n".len());
        let infos = s.lock("alice").unwrap();
        assert_eq!(infos.last().unwrap().uid, d.uid);
        assert_eq!(
            &*s.read("alice", &d.uid).unwrap(),
            b"Subject: hi\r\n\r\nbody\r\n"
        );
        assert!(matches!(
            s.deliver("alice", &[b'x'; 200]),
            Err(DeliverError::TooLarge { .. })
        ));
        s.deliver("alice", &[b'x'; 90]).unwrap();
        s.deliver("bob", &[b'x'; 90]).unwrap();
        assert!(matches!(
            s.deliver("carol", &[b'x'; 90]),
            Err(DeliverError::StoreFull(_))
        ));
        s.commit("alice", &[d.uid]).unwrap();
        s.deliver("alice", b"x").unwrap();
        assert!(matches!(
            s.deliver("alice", b"x"),
            Err(DeliverError::MaildropFull { .. })
        ));
    }

    /// UPDATE is recorded; reset refuses a locked maildrop, then restores the samples (same
    /// unique-ids as a new maildrop) and frees the delivered bytes.
    #[test]
    fn snapshot_update_record_and_reset() {
        let s = store(10);
        assert!(s.snapshot("alice").is_none());
        let d = s.deliver("alice", &[b'x'; 90]).unwrap();
        let infos = s.lock("alice").unwrap();
        let snap = s.snapshot("alice").unwrap();
        assert!(snap.locked);
        assert_eq!(snap.messages, infos);
        assert_eq!(s.reset("alice"), Err(MailstoreError::InUse));
        s.commit("alice", &[infos[0].uid.clone(), d.uid.clone()])
            .unwrap();
        let snap = s.snapshot("alice").unwrap();
        assert!(!snap.locked);
        assert_eq!(snap.updates, 1);
        assert_eq!(
            snap.last_update,
            vec![infos[0].clone(), infos[SAMPLES.len()].clone()]
        );
        assert_eq!(snap.messages.len(), SAMPLES.len() - 1);
        s.deliver("alice", &[b'x'; 90]).unwrap();
        s.reset("alice").unwrap();
        let snap = s.snapshot("alice").unwrap();
        assert_eq!(snap.messages, infos[..SAMPLES.len()]);
        assert!(snap.last_update.is_empty());
        // The delivered bytes were freed: two more deliveries of 90 fit under 250.
        s.deliver("bob", &[b'x'; 90]).unwrap();
        s.deliver("carol", &[b'x'; 90]).unwrap();
    }
}
