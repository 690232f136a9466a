//! Session states and RFC 1939's table of which command is valid where: the one copy, asked by
//! the client ([`crate::Client::allowed_commands`]), the teaching server and the command
//! metadata ([`super::CommandMeta::states`]).

use serde::Serialize;

use super::Keyword;
use crate::explain::Explain;

/// Where a POP3 session is (RFC 1939 §3), plus `Closed` once the connection is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SessionState {
    /// Before login: the client identifies itself (RFC 1939 §4).
    Authorization,
    /// Logged in, maildrop locked: the client reads and marks messages (RFC 1939 §5).
    Transaction,
    /// After QUIT from TRANSACTION: the server removes marked messages and says goodbye (RFC 1939 §6).
    Update,
    /// The connection is closed.
    Closed,
}

const AUTHORIZATION: &[Keyword] = &[
    Keyword::Capa,
    Keyword::User,
    Keyword::Pass,
    Keyword::Apop,
    Keyword::Auth,
    Keyword::Stls,
    Keyword::Utf8,
    Keyword::Lang,
    Keyword::Quit,
];

const TRANSACTION: &[Keyword] = &[
    Keyword::Stat,
    Keyword::List,
    Keyword::Uidl,
    Keyword::Top,
    Keyword::Retr,
    Keyword::Dele,
    Keyword::Rset,
    Keyword::Noop,
    Keyword::Capa,
    Keyword::Lang,
    Keyword::Quit,
];

impl SessionState {
    /// The state's name as the page shows it: `AUTHORIZATION`, `TRANSACTION`, `UPDATE`, `CLOSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Authorization => "AUTHORIZATION",
            SessionState::Transaction => "TRANSACTION",
            SessionState::Update => "UPDATE",
            SessionState::Closed => "CLOSED",
        }
    }

    /// The explanation of being in this state (`state.TRANSACTION`, …).
    pub fn explain(self) -> Explain {
        match self {
            SessionState::Authorization => crate::explain!("state.AUTHORIZATION"),
            SessionState::Transaction => crate::explain!("state.TRANSACTION"),
            SessionState::Update => crate::explain!("state.UPDATE"),
            SessionState::Closed => crate::explain!("state.CLOSED"),
        }
    }

    /// Parses a state name (case-insensitive).
    pub fn parse(name: &str) -> Option<SessionState> {
        [
            SessionState::Authorization,
            SessionState::Transaction,
            SessionState::Update,
            SessionState::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// The commands RFC 1939 (and the extensions popwire speaks) allow in this state. A session
    /// narrows this further (e.g. PASS only right after a successful USER): see
    /// [`crate::Client::allowed_commands`].
    pub fn allowed_commands(self) -> &'static [Keyword] {
        match self {
            SessionState::Authorization => AUTHORIZATION,
            SessionState::Transaction => TRANSACTION,
            SessionState::Update | SessionState::Closed => &[],
        }
    }

    /// Whether `keyword` is valid in this state by the RFC table.
    pub fn allows(self, keyword: Keyword) -> bool {
        self.allowed_commands().contains(&keyword)
    }

    /// The states where the RFC table allows `keyword` (the table read by column).
    pub fn where_valid(keyword: Keyword) -> &'static [SessionState] {
        use SessionState::{Authorization, Transaction};
        match (Authorization.allows(keyword), Transaction.allows(keyword)) {
            (true, true) => &[Authorization, Transaction],
            (true, false) => &[Authorization],
            (false, true) => &[Transaction],
            (false, false) => &[],
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1939_table() {
        use SessionState::*;
        assert!(Authorization.allows(Keyword::User) && Authorization.allows(Keyword::Quit));
        assert!(!Authorization.allows(Keyword::Stat) && !Authorization.allows(Keyword::Retr));
        assert!(
            !Authorization.allows(Keyword::Noop),
            "NOOP is a TRANSACTION command"
        );
        assert!(Transaction.allows(Keyword::Retr) && Transaction.allows(Keyword::Noop));
        assert!(!Transaction.allows(Keyword::User) && !Transaction.allows(Keyword::Stls));
        assert!(Update.allowed_commands().is_empty() && Closed.allowed_commands().is_empty());
        assert_eq!(SessionState::parse("transaction"), Some(Transaction));
        assert_eq!(SessionState::parse("nope"), None);
    }
}
