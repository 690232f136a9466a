//! What the handlers share: the configured targets ready to dial and the bridge-wide state.
//! Its own module so that the routes ([`crate::http`]) and the WebSocket sessions
//! ([`crate::bridge`]) both depend on it and not on each other.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{IpNet, Limits, Target};
use crate::demo::DemoStore;
use crate::limits::SessionCounter;
use crate::origin::OriginPolicy;

/// A target ready to dial: its TLS client configuration is built once, at start-up.
pub(crate) struct ResolvedTarget {
    pub(crate) target: Target,
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) server_name: ServerName<'static>,
    /// Whether its certificates are verified (false only for `insecure`).
    pub(crate) verified: bool,
}

/// One entry of `GET /targets`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TargetView {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) tls: &'static str,
    pub(crate) starttls: bool,
}

impl TargetView {
    pub(crate) fn of(target: &Target) -> TargetView {
        TargetView {
            name: target.name.clone(),
            description: target.description.clone(),
            tls: target.tls.as_str(),
            starttls: target.starttls(),
        }
    }
}

/// What the demo server lends the HTTP side.
pub(crate) struct DemoState {
    /// `None` with `--maildir` (then `/demo/deliver` answers 501).
    pub(crate) store: Option<Arc<DemoStore>>,
}

/// Everything the handlers share.
pub(crate) struct AppState {
    pub(crate) targets: Vec<Arc<ResolvedTarget>>,
    pub(crate) target_views: Vec<TargetView>,
    pub(crate) origins: OriginPolicy,
    pub(crate) trust_proxies: Vec<IpNet>,
    pub(crate) limits: Limits,
    pub(crate) sessions: Arc<SessionCounter>,
    /// The page is served over https.
    pub(crate) encrypted: bool,
    /// The bridge listens on a loopback address.
    pub(crate) loopback: bool,
    pub(crate) demo: Option<DemoState>,
    pub(crate) max_delivery: usize,
    /// `--www`: serve this folder instead of `page`.
    pub(crate) www: Option<PathBuf>,
    /// The page built into the binary.
    pub(crate) page: crate::page::Page,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
}
