//! popwire-bridge: a WebSocket-to-TCP bridge to named POP3 servers, with TLS, a static file
//! server for the page, and the embedded teaching POP3 server (`--demo`).
//!
//! The WebSocket protocol (endpoint, control messages, refusal codes, close codes, limits) is
//! `docs/bridge-protocol.md`, its messages the types of [`popwire::bridge_protocol`]; the flags
//! and endpoints are in the bridge's README. [`run`] is the whole bridge on a listener the caller bound (tests bind port 0);
//! [`Bridge::bind`] + [`Bridge::serve`] split it in two so a caller can read the bound
//! addresses ([`Bridge::ready`]) in between.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let config = popwire_bridge::Config {
//!     demo: Some(popwire_bridge::config::DemoConfig::default()),
//!     ..popwire_bridge::Config::default()
//! };
//! popwire_bridge::run(listener, config, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

// No indexing on anything a peer sends, nor anywhere else outside the tests (ARCHITECTURE.md).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

// The public surface is what the binary, the tests and the benches use: `run`, `Bridge`,
// `Config` (and `config`'s types), `cli::Cli` and the Maildir store; the rest is the crate's own.
mod bridge;
pub mod cli;
pub mod config;
pub mod demo;
mod http;
mod limits;
mod names;
mod origin;
pub mod page;
mod state;
mod tls;
mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use http::Ready;

use crate::config::{Target, TlsMode};
use crate::limits::SessionCounter;
use crate::origin::OriginPolicy;
use crate::state::{AppState, DemoState, ResolvedTarget, TargetView};
use crate::tls::Trust;

/// Runs the bridge on `listener` until `shutdown` resolves, then shuts down gracefully: stops
/// accepting, tells open sessions (`closed`, close 1001), closes the demo server's connections
/// (nothing is deleted), and waits up to [`config::Limits::shutdown_grace`] for them.
///
/// With `config.tls_cert`/`tls_key` the listener serves https/wss. With `config.ready_file` the
/// bound addresses are written there (atomically) once everything listens.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let ready_file = config.ready_file.clone();
    let bridge = Bridge::bind(listener, config).await?;
    if let Some(path) = ready_file {
        if let Err(e) = write_ready_file(&path, bridge.ready()) {
            bridge.shutdown.cancel();
            return Err(e);
        }
    }
    bridge.serve(shutdown).await
}

/// Writes `{"http","pop3","pop3s"}` to `path` through a temporary file and a rename, so that a
/// reader never sees half of it.
pub fn write_ready_file(path: &Path, ready: &Ready) -> anyhow::Result<()> {
    let text = serde_json::to_string(ready)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

enum Listener {
    Plain(TcpListener),
    Tls(tls::TlsListener),
}

/// A bridge whose sockets are all bound, not yet serving.
pub struct Bridge {
    state: Arc<AppState>,
    listener: Listener,
    ready: Ready,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// Checks the configuration, loads certificates, starts the demo server (if configured)
    /// and prepares the routes. Nothing is served until [`Bridge::serve`].
    pub async fn bind(listener: TcpListener, config: Config) -> anyhow::Result<Bridge> {
        let local = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        match Self::prepare(listener, config, local, &shutdown, &tracker).await {
            Ok(bridge) => Ok(bridge),
            Err(e) => {
                shutdown.cancel();
                Err(e)
            }
        }
    }

    async fn prepare(
        listener: TcpListener,
        config: Config,
        local: SocketAddr,
        shutdown: &CancellationToken,
        tracker: &TaskTracker,
    ) -> anyhow::Result<Bridge> {
        config.validate()?;
        let https = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::https_config(cert, key)?),
            // `validate` refused one without the other.
            _ => None,
        };
        let encrypted = https.is_some();
        let loopback = local.ip().is_loopback();
        if !loopback && !encrypted {
            tracing::warn!(
                listen = %local,
                "listening on a non-loopback address without --tls-cert: the page's link to \
                 the bridge (passwords included) is NOT encrypted"
            );
        }
        let origins = OriginPolicy::new(local, encrypted, &config.allow_origins)?;

        let mut targets = Vec::new();
        let mut demo_state = None;
        let (mut pop3, mut pop3s) = (None, None);
        let max_delivery = config.demo.as_ref().map_or(0, |d| d.max_delivery_size);
        if let Some(demo_config) = &config.demo {
            let demo = demo::start(demo_config, shutdown.clone(), tracker).await?;
            let trust = Trust::Roots(vec![demo.certificate.clone()]);
            let [plain_name, tls_name] = config::DEMO_TARGETS;
            let plain = Target {
                name: plain_name.into(),
                host: demo.pop3.ip().to_string(),
                port: demo.pop3.port(),
                tls: TlsMode::None,
                ca: None,
                insecure: false,
                starttls: Some(true),
                description: "popwire teaching server (plain, STLS offered)".into(),
            };
            let implicit = Target {
                name: tls_name.into(),
                host: demo.pop3s.ip().to_string(),
                port: demo.pop3s.port(),
                tls: TlsMode::Implicit,
                ca: None,
                insecure: false,
                starttls: Some(false),
                description: "popwire teaching server (implicit TLS, port 995 style)".into(),
            };
            targets.push(resolve(plain, &trust)?);
            targets.push(resolve(implicit, &trust)?);
            pop3 = Some(demo.pop3);
            pop3s = Some(demo.pop3s);
            demo_state = Some(DemoState { store: demo.store });
        }
        // Checked by `validate`: each is valid, none named twice or after a demo target.
        for target in &config.targets {
            let trust = if target.insecure {
                tracing::warn!(target_name = %target.name, "certificates of this target are NOT verified (insecure)");
                Trust::Insecure
            } else if let Some(ca) = &target.ca {
                Trust::from_pem_file(ca).with_context(|| format!("target {}", target.name))?
            } else {
                Trust::WebPki
            };
            targets.push(resolve(target.clone(), &trust)?);
        }
        let target_views = targets.iter().map(|t| TargetView::of(&t.target)).collect();

        let limits = config.limits.clone();
        let state = Arc::new(AppState {
            targets,
            target_views,
            origins,
            trust_proxies: config.trust_proxies.clone(),
            sessions: SessionCounter::new(limits.max_sessions, limits.max_sessions_per_ip),
            limits,
            encrypted,
            loopback,
            demo: demo_state,
            max_delivery,
            www: config.www.clone(),
            page: config.page.clone(),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        });
        let listener = match https {
            Some(https) => Listener::Tls(tls::TlsListener::new(listener, https, shutdown.clone())?),
            None => Listener::Plain(listener),
        };
        tracing::info!(
            http = %local,
            encrypted,
            targets = state.targets.len(),
            "popwire bridge listening"
        );
        Ok(Bridge {
            state,
            listener,
            ready: Ready {
                http: local,
                pop3,
                pop3s,
            },
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        })
    }

    /// The bound addresses.
    pub fn ready(&self) -> &Ready {
        &self.ready
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully (see [`run`]).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let token = self.shutdown.clone();
        let watcher = tokio::spawn(async move {
            shutdown.await;
            token.cancel();
        });
        let grace = self.state.limits.shutdown_grace;
        let app = http::router(Arc::clone(&self.state))
            .into_make_service_with_connect_info::<SocketAddr>();
        let signal = self.shutdown.clone().cancelled_owned();
        let served = match self.listener {
            Listener::Plain(listener) => {
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(signal)
                    .await
            }
            Listener::Tls(listener) => {
                axum::serve(listener.tap_io(|_| {}), app)
                    .with_graceful_shutdown(signal)
                    .await
            }
        };
        // However serving ended, everything else stops too.
        self.shutdown.cancel();
        watcher.abort();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.state.sessions.open(),
                "some sessions did not finish within the shutdown grace period"
            );
        }
        tracing::info!("popwire bridge stopped");
        served.context("serving HTTP")
    }
}

fn resolve(target: Target, trust: &Trust) -> anyhow::Result<Arc<ResolvedTarget>> {
    let config = tls::client_config(trust)?;
    let server_name =
        tls::server_name(&target.host).with_context(|| format!("target {}", target.name))?;
    Ok(Arc::new(ResolvedTarget {
        verified: trust.verifies(),
        connector: tokio_rustls::TlsConnector::from(config),
        server_name,
        target,
    }))
}
