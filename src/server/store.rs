//! What the teaching server needs from wherever the mail lives (memory, a Maildir). The bridge
//! implements it; the session only calls it.

use std::sync::Arc;

/// One message of a locked maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The unique-id (1–70 characters in 0x21–0x7E, RFC 1939 §7), stable across sessions.
    pub uid: String,
    /// The exact size in octets, as sent with CRLF line ends before byte-stuffing.
    pub size: u64,
}

/// Why a mailstore operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailstoreError {
    /// The maildrop is locked by another session (`[IN-USE]`).
    #[error("the maildrop is locked by another session")]
    InUse,
    /// A temporary problem (`[SYS/TEMP]`), e.g. too many maildrops.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// A permanent problem (`[SYS/PERM]`), e.g. an unreadable file.
    #[error("failed: {0}")]
    Failed(String),
}

/// The mail behind the server. Methods take `&self`: implementations share state between
/// sessions behind their own locks.
pub trait Mailstore {
    /// The secret of `user` (password and APOP secret), or `None` if there is no such user.
    fn secret(&self, user: &str) -> Option<String>;
    /// Takes the maildrop's exclusive lock and lists its messages in order.
    fn lock(&self, user: &str) -> Result<Vec<MessageInfo>, MailstoreError>;
    /// A message of the locked maildrop, with CRLF line ends.
    fn read(&self, user: &str, uid: &str) -> Result<Arc<[u8]>, MailstoreError>;
    /// The UPDATE state: removes `deleted` and releases the lock. Called once, at QUIT.
    fn commit(&self, user: &str, deleted: &[String]) -> Result<(), MailstoreError>;
    /// Releases the lock without deleting anything (dropped connection, autologout).
    fn release(&self, user: &str);
}
