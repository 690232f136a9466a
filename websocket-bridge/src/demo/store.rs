//! `DemoStore`: the teaching server's in-memory maildrops, one per user name, seeded with the
//! sample messages on first use and kept for the server's lifetime (up to a cap, least recently
//! used unlocked maildrops evicted first).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use popwire::server::{Mailstore, MailstoreError, MessageInfo, SAMPLES};
use sha2::{Digest, Sha256};

use crate::config::DemoConfig;
use crate::tls::hex;

use super::sent_form::to_sent_form;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DeliverError {
    /// The message is over the size cap.
    #[error("the message is {size} bytes; deliveries are capped at {max} bytes")]
    TooLarge {
        /// The message's size after CRLF normalisation.
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
pub(crate) struct Delivered {
    /// The maildrop's user.
    pub user: String,
    /// The message number a new session will see it under.
    pub id: usize,
    /// Its unique-id (UIDL).
    pub uid: String,
    /// Its size in octets.
    pub size: usize,
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
}

#[derive(Debug, Default)]
struct Inner {
    drops: HashMap<String, Maildrop>,
    clock: u64,
    delivered_bytes: usize,
}

/// In-memory maildrops for the teaching server. Any user name logs in with the configured
/// password (`pop3` by default, also the APOP secret).
#[derive(Debug)]
pub(crate) struct DemoStore {
    inner: Mutex<Inner>,
    /// The samples (shared by every maildrop) and a digest of each, for UIDs.
    samples: Vec<(Arc<[u8]>, [u8; 32])>,
    password: String,
    passwords: HashMap<String, String>,
    max_maildrops: usize,
    max_messages: usize,
    max_delivery_size: usize,
    max_delivered_bytes: usize,
}

impl DemoStore {
    /// A store with the caps and passwords of `config`.
    pub(crate) fn new(config: &DemoConfig) -> DemoStore {
        let samples = SAMPLES
            .iter()
            .map(|(_, bytes)| {
                let bytes: Arc<[u8]> = Arc::from(to_sent_form(bytes));
                let digest: [u8; 32] = Sha256::digest(&bytes).into();
                (bytes, digest)
            })
            .collect();
        DemoStore {
            inner: Mutex::new(Inner::default()),
            samples,
            password: config.password.clone(),
            passwords: config.passwords.clone(),
            max_maildrops: config.max_maildrops.max(1),
            max_messages: config.max_messages_per_maildrop,
            max_delivery_size: config.max_delivery_size,
            max_delivered_bytes: config.max_delivered_bytes,
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of maildrops held now.
    #[cfg(test)]
    pub(crate) fn maildrops(&self) -> usize {
        self.inner().drops.len()
    }

    /// Adds a message to `user`'s maildrop (created and seeded if new). Bare LFs become CRLF.
    pub(crate) fn deliver(&self, user: &str, message: &[u8]) -> Result<Delivered, DeliverError> {
        let bytes = to_sent_form(message);
        let size = bytes.len();
        if size > self.max_delivery_size {
            return Err(DeliverError::TooLarge {
                size,
                max: self.max_delivery_size,
            });
        }
        let mut inner = self.inner();
        if inner.delivered_bytes.saturating_add(size) > self.max_delivered_bytes {
            return Err(DeliverError::StoreFull(format!(
                "delivered mail is capped at {} bytes in all",
                self.max_delivered_bytes
            )));
        }
        let drop = self
            .maildrop(&mut inner, user)
            .map_err(|e| DeliverError::StoreFull(e.to_string()))?;
        if drop.messages.len() >= self.max_messages {
            return Err(DeliverError::MaildropFull {
                user: user.to_owned(),
                max: self.max_messages,
            });
        }
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let uid = make_uid(user, drop.next_seq, &digest);
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

    /// The maildrop of `user`, created and seeded if new (evicting the least recently used
    /// unlocked maildrop when at the cap).
    fn maildrop<'a>(
        &self,
        inner: &'a mut Inner,
        user: &str,
    ) -> Result<&'a mut Maildrop, MailstoreError> {
        inner.clock += 1;
        let now = inner.clock;
        if !inner.drops.contains_key(user) {
            if inner.drops.len() >= self.max_maildrops {
                let victim = inner
                    .drops
                    .iter()
                    .filter(|(_, d)| !d.locked)
                    .min_by_key(|(_, d)| d.last_used)
                    .map(|(name, _)| name.clone());
                let Some(victim) = victim else {
                    return Err(MailstoreError::Unavailable(format!(
                        "all {} demo maildrops are in use; try again later",
                        self.max_maildrops
                    )));
                };
                if let Some(gone) = inner.drops.remove(&victim) {
                    let freed: usize = gone
                        .messages
                        .iter()
                        .filter(|m| m.delivered)
                        .map(|m| m.bytes.len())
                        .sum();
                    inner.delivered_bytes = inner.delivered_bytes.saturating_sub(freed);
                }
            }
            let mut drop = Maildrop {
                messages: Vec::with_capacity(self.samples.len()),
                locked: false,
                last_used: now,
                next_seq: 1,
            };
            for (bytes, digest) in &self.samples {
                drop.messages.push(Stored {
                    uid: make_uid(user, drop.next_seq, digest),
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
}

/// `<per-maildrop counter>-<8 hex digits>`: unique within the maildrop, stable for its life,
/// and well inside RFC 1939's 1–70 characters of 0x21–0x7E.
fn make_uid(user: &str, seq: u64, digest: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(user.as_bytes());
    h.update([0]);
    h.update(seq.to_be_bytes());
    h.update(digest);
    let short = h.finalize();
    format!("{seq}-{}", hex(short.get(..4).unwrap_or_default()))
}

impl Mailstore for DemoStore {
    fn secret(&self, user: &str) -> Option<String> {
        Some(
            self.passwords
                .get(user)
                .cloned()
                .unwrap_or_else(|| self.password.clone()),
        )
    }

    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        let mut inner = self.inner();
        let drop = self.maildrop(&mut inner, user)?;
        if drop.locked {
            return Err(MailstoreError::InUse);
        }
        drop.locked = true;
        Ok(drop
            .messages
            .iter()
            .map(|m| MessageInfo {
                uid: m.uid.clone(),
                size: m.bytes.len() as u64,
            })
            .collect())
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
            drop.messages.retain(|m| {
                let gone = deleted.contains(&m.uid);
                if gone && m.delivered {
                    freed += m.bytes.len();
                }
                !gone
            });
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn store(max_maildrops: usize) -> DemoStore {
        DemoStore::new(&DemoConfig {
            max_maildrops,
            max_messages_per_maildrop: 10,
            max_delivery_size: 100,
            max_delivered_bytes: 250,
            ..DemoConfig::default()
        })
    }

    #[test]
    fn seeded_locked_and_stable_uids() {
        let s = store(10);
        let first = s.lock("alice").unwrap();
        assert_eq!(first.len(), SAMPLES.len());
        for (info, (_, bytes)) in first.iter().zip(SAMPLES.iter()) {
            assert_eq!(info.size, bytes.len() as u64);
            assert!((1..=70).contains(&info.uid.len()));
            assert!(info.uid.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        assert_eq!(s.lock("alice"), Err(MailstoreError::InUse));
        s.release("alice");
        assert_eq!(s.lock("alice").unwrap(), first);
        s.commit("alice", &[first[0].uid.clone()]).unwrap();
        let after = s.lock("alice").unwrap();
        assert_eq!(after, first[1..]);
        assert_ne!(s.lock("bob").unwrap()[0].uid, first[0].uid);
        assert_eq!(s.secret("anyone").as_deref(), Some("pop3"));
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
}
