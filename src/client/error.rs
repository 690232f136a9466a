//! The session's error type: one enum, a stable `kind` for JavaScript, the response code if any.

use serde::Serialize;
use thiserror::Error;

use crate::auth::AuthError;
use crate::codec::SessionState;
use crate::codec::{CommandError, LimitError, ProtocolError, ResponseCode};
use crate::explain::{Explain, Note};

/// Why a command (or the session) failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Pop3Error {
    /// The server answered `-ERR`.
    #[error("the server answered -ERR{}: {text}", code.as_ref().map(|c| format!(" [{c}]")).unwrap_or_default())]
    Server {
        /// The server's text after the status (and code).
        text: String,
        /// The RFC 2449 / 3206 response code, if the server sent one.
        code: Option<ResponseCode>,
    },
    /// A typed command called where the RFC does not allow it. Nothing was sent.
    #[error("{command} is not valid in the {state} state{}", hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    State {
        /// The command.
        command: String,
        /// The session's state.
        state: SessionState,
        /// Why, when the state alone does not say it.
        hint: Option<Note>,
    },
    /// A malformed command line or argument. Nothing was sent.
    #[error(transparent)]
    Input(#[from] CommandError),
    /// Credentials that cannot be used with the chosen mechanism. Nothing was sent.
    #[error("cannot authenticate: {0}")]
    Credentials(AuthError),
    /// A cap was exceeded.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The server broke the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// No reply within the configured time.
    #[error("no reply from the server within {after_ms} ms")]
    Timeout {
        /// The timeout that expired.
        after_ms: u64,
    },
    /// The transport did not report TLS within the configured time after `+OK` to STLS
    /// ([`crate::ClientConfig::tls_timeout_ms`]).
    #[error("the TLS handshake after STLS did not finish within {after_ms} ms")]
    TlsTimeout {
        /// The timeout that expired.
        after_ms: u64,
    },
    /// The connection closed before the reply arrived.
    #[error("the connection closed: {reason}")]
    Closed {
        /// Why, as the transport reported it.
        reason: Note,
    },
}

/// A [`Pop3Error`] as a page shows it ([`Pop3Error::info`]): `{ kind, message, code, serverText,
/// explain, note }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorInfo {
    /// [`Pop3Error::kind`].
    pub kind: &'static str,
    /// The English description (the `Display` text).
    pub message: String,
    /// The response code of a `-ERR`, e.g. `SYS/TEMP`, full text as sent.
    pub code: Option<String>,
    /// The `-ERR` line's text after its code ([`Pop3Error::server_text`]).
    pub server_text: Option<String>,
    /// [`Pop3Error::explain`].
    pub explain: Explain,
    /// [`Pop3Error::note`]: `message` as a key and its values, for a page to say in its language.
    pub note: Note,
}

impl Pop3Error {
    /// The JavaScript `kind`: `server`, `state`, `input`, `limit`, `protocol`, `timeout` or `network`.
    pub fn kind(&self) -> &'static str {
        match self {
            Pop3Error::Server { .. } => "server",
            Pop3Error::State { .. } => "state",
            Pop3Error::Input(_) | Pop3Error::Credentials(_) => "input",
            Pop3Error::Limit(_) => "limit",
            Pop3Error::Protocol(_) => "protocol",
            Pop3Error::Timeout { .. } | Pop3Error::TlsTimeout { .. } => "timeout",
            Pop3Error::Closed { .. } => "network",
        }
    }

    /// The response code of a `-ERR`, if any.
    pub fn code(&self) -> Option<&ResponseCode> {
        match self {
            Pop3Error::Server { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The text of the server's `-ERR` line after its response code, for [`Pop3Error::Server`]:
    /// a page shows it as the server said it, without parsing [`Display`](std::fmt::Display).
    pub fn server_text(&self) -> Option<&str> {
        match self {
            Pop3Error::Server { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Everything a page shows of this error, as one serialisable value.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            kind: self.kind(),
            message: self.to_string(),
            code: self.code().map(|c| c.as_str().to_owned()),
            server_text: self.server_text().map(str::to_owned),
            explain: self.explain(),
            note: self.note(),
        }
    }

    /// What went wrong in popwire's own words, as a key and its values ([`Note`]): what a page
    /// shows in its language where [`Display`](std::fmt::Display) is the English.
    pub fn note(&self) -> Note {
        match self {
            Pop3Error::Server { text, code } => {
                let code = code.as_ref().map(|c| format!(" [{c}]")).unwrap_or_default();
                crate::note!("note.error.server", line = format!("-ERR{code} {text}"))
            }
            Pop3Error::State {
                command,
                state,
                hint: None,
            } => crate::note!(
                "note.error.state",
                command = command.as_str(),
                state = state.as_str()
            ),
            Pop3Error::State {
                command,
                state,
                hint: Some(hint),
            } => crate::note!(
                "note.error.state-hint",
                command = command.as_str(),
                state = state.as_str(),
                hint = hint.clone()
            ),
            Pop3Error::Input(e) => e.note(),
            Pop3Error::Credentials(_) => crate::note!("note.error.credentials"),
            Pop3Error::Limit(e) => e.note(),
            Pop3Error::Protocol(e) => e.note(),
            Pop3Error::Timeout { after_ms } => crate::note!("note.error.timeout", ms = *after_ms),
            Pop3Error::TlsTimeout { after_ms } => {
                crate::note!("note.error.tls-timeout", ms = *after_ms)
            }
            Pop3Error::Closed { reason } => {
                crate::note!("note.error.closed", reason = reason.clone())
            }
        }
    }

    /// What this error means, for the page.
    pub fn explain(&self) -> Explain {
        match self {
            Pop3Error::Server {
                code: Some(code), ..
            } => code.explain(),
            Pop3Error::Server { code: None, .. } => crate::explain!("reply.unknown.err"),
            Pop3Error::State { .. } => crate::explain!("error.state"),
            Pop3Error::Input(e) => e.explain(),
            Pop3Error::Credentials(_) => crate::explain!("error.sasl"),
            Pop3Error::Limit(_) => crate::explain!("error.limit"),
            Pop3Error::Protocol(_) => crate::explain!("error.protocol"),
            Pop3Error::Timeout { .. } | Pop3Error::TlsTimeout { .. } => {
                crate::explain!("error.timeout")
            }
            Pop3Error::Closed { .. } => crate::explain!("error.network"),
        }
    }
}
