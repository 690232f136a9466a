//! `DemoStore`: the teaching server's in-memory maildrops (`--demo` without `--maildir`): the
//! engine's [`MemoryStore`] (one maildrop per user name, seeded with the samples on first use,
//! kept up to a cap, least recently used unlocked maildrops evicted first) with the caps and
//! passwords of the bridge's configuration and SHA-256 unique-ids.

use std::sync::Arc;

use popwire::server::{Mailstore, MailstoreError, MemoryConfig, MemoryStore, MessageInfo};
use sha2::{Digest, Sha256};

use crate::config::DemoConfig;

pub(crate) use popwire::server::{DeliverError, Delivered};

/// SHA-256 of the concatenated `parts`: the bridge's unique-id hash (see
/// [`popwire::server::MemoryStore`]'s derivation).
fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().to_vec()
}

/// In-memory maildrops for the teaching server. Any user name logs in with the configured
/// password (`pop3` by default, also the APOP secret).
#[derive(Debug)]
pub(crate) struct DemoStore {
    inner: MemoryStore,
}

impl DemoStore {
    /// A store with the caps and passwords of `config`.
    pub(crate) fn new(config: &DemoConfig) -> DemoStore {
        DemoStore {
            inner: MemoryStore::new(MemoryConfig {
                password: config.password.clone(),
                passwords: config.passwords.clone(),
                max_maildrops: config.max_maildrops,
                max_messages: config.max_messages_per_maildrop,
                max_delivery_size: config.max_delivery_size,
                max_delivered_bytes: config.max_delivered_bytes,
                uid_hash: sha256,
            }),
        }
    }

    /// The number of maildrops held now.
    #[cfg(test)]
    pub(crate) fn maildrops(&self) -> usize {
        self.inner.maildrops()
    }

    /// Adds a message to `user`'s maildrop (created and seeded if new). Bare LFs become CRLF.
    pub(crate) fn deliver(&self, user: &str, message: &[u8]) -> Result<Delivered, DeliverError> {
        self.inner.deliver(user, message)
    }
}

impl Mailstore for DemoStore {
    fn secret(&self, user: &str) -> Option<String> {
        self.inner.secret(user)
    }

    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError> {
        self.inner.lock(user)
    }

    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError> {
        self.inner.read(user, uid)
    }

    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError> {
        self.inner.commit(user, deleted)
    }

    fn release(&self, user: &str) {
        self.inner.release(user)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use popwire::server::SAMPLES;

    use super::*;

    /// The unique-ids are those the bridge always gave (before the store moved into the
    /// engine): `<n>-` and the first 4 octets of SHA-256(user, 0, n, SHA-256(message)) in hex,
    /// the message in its sent form.
    #[test]
    fn uids_keep_the_bridge_derivation() {
        let s = store(10);
        let infos = s.lock("alice").unwrap();
        for (n, (info, (_, bytes))) in (1u64..).zip(infos.iter().zip(SAMPLES.iter())) {
            let mut h = Sha256::new();
            h.update(b"alice");
            h.update([0]);
            h.update(n.to_be_bytes());
            h.update(Sha256::digest(popwire::server::to_sent_form(bytes)));
            let hex = crate::tls::hex(&h.finalize()[..4]);
            assert_eq!(info.uid, format!("{n}-{hex}"));
        }
    }

    fn store(max_maildrops: usize) -> DemoStore {
        DemoStore::new(&DemoConfig {
            max_maildrops,
            max_messages_per_maildrop: 10,
            max_delivery_size: 100,
            max_delivered_bytes: 250,
            ..DemoConfig::default()
        })
    }

    /// The demo configuration's caps reach the engine's store (whose own tests cover eviction
    /// and delivery rules in full: `popwire::server::memory`).
    #[test]
    fn the_demo_configs_caps_reach_the_store() {
        let s = store(1);
        assert!(matches!(
            s.deliver("alice", &[b'x'; 200]),
            Err(DeliverError::TooLarge { max: 100, .. })
        ));
        s.lock("alice").unwrap();
        assert!(matches!(s.lock("bob"), Err(MailstoreError::Unavailable(_))));
        assert_eq!(s.maildrops(), 1);
    }
}
