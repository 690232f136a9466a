//! The embedded teaching POP3 server (`--demo`): the engine's sans-IO
//! [`popwire::server::ServerSession`] given sockets — a plain listener that offers STLS and an
//! implicit-TLS listener, both with a self-signed certificate made at start-up — and its
//! mail, in memory (`DemoStore`, seeded with the samples) or in Maildirs
//! ([`maildir::MaildirStore`], `--maildir`).

pub mod maildir;
mod sent_form;
mod server;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use popwire::server::{Mailstore, ServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) use store::{DeliverError, DemoStore};

use crate::config::DemoConfig;

/// A freshly made self-signed certificate for `localhost` and `127.0.0.1`.
pub(crate) struct DemoCertificate {
    /// The certificate (DER).
    pub(crate) cert: CertificateDer<'static>,
    /// Its private key (PKCS#8 DER).
    pub(crate) key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for DemoCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoCertificate").finish_non_exhaustive()
    }
}

/// Makes the demo server's certificate (CN and SAN `localhost`, SAN `127.0.0.1` and `::1`).
pub(crate) fn make_certificate() -> anyhow::Result<DemoCertificate> {
    let mut params = rcgen::CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .context("demo certificate parameters")?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, "localhost");
    name.push(
        rcgen::DnType::OrganizationName,
        "popwire teaching server (self-signed, made at start-up)",
    );
    params.distinguished_name = name;
    let key = rcgen::KeyPair::generate().context("demo key pair")?;
    let cert = params.self_signed(&key).context("demo certificate")?;
    Ok(DemoCertificate {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}

/// A running demo server.
#[derive(Debug)]
pub(crate) struct Demo {
    /// The plain listener's address.
    pub(crate) pop3: SocketAddr,
    /// The implicit-TLS listener's address.
    pub(crate) pop3s: SocketAddr,
    /// The certificate both listeners present (the bridge trusts exactly this one).
    pub(crate) certificate: CertificateDer<'static>,
    /// The in-memory store (`None` with `--maildir`), for `/demo/deliver`.
    pub(crate) store: Option<Arc<DemoStore>>,
}

/// Binds both listeners and serves them until `shutdown`; connection tasks join `tracker`.
pub(crate) async fn start(
    config: &DemoConfig,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<Demo> {
    let certificate = make_certificate()?;
    let tls = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.cert.clone()], certificate.key)
        .context("the demo certificate")?;

    let (store, demo_store): (Arc<dyn Mailstore + Send + Sync>, _) = match &config.maildir {
        Some(dir) => {
            let maildirs =
                maildir::MaildirStore::open(dir, config.passwords.clone(), config.password.clone())
                    .with_context(|| format!("--maildir {}", dir.display()))?
                    .listed_users_only(config.password_file.is_some());
            (Arc::new(maildirs), None)
        }
        None => {
            let store = Arc::new(DemoStore::new(config));
            (store.clone(), Some(store))
        }
    };

    let plain_listener = TcpListener::bind(config.pop3)
        .await
        .with_context(|| format!("binding the demo POP3 port {}", config.pop3))?;
    let tls_listener = TcpListener::bind(config.pop3s)
        .await
        .with_context(|| format!("binding the demo POP3S port {}", config.pop3s))?;
    let pop3 = plain_listener.local_addr()?;
    let pop3s = tls_listener.local_addr()?;

    let base = ServerConfig {
        hostname: config.hostname.clone(),
        autologout_ms: config.autologout.as_millis() as u64,
        failed_login_delay_ms: config.failed_login_delay.as_millis() as u64,
        implementation: format!("popwire-bridge-{}", env!("CARGO_PKG_VERSION")),
        ..ServerConfig::default()
    };
    let shared = Arc::new(server::Shared {
        store,
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(tls)),
        plain: ServerConfig {
            stls_available: true,
            tls_active: false,
            ..base.clone()
        },
        implicit: ServerConfig {
            stls_available: false,
            tls_active: true,
            ..base
        },
        shutdown: shutdown.clone(),
        epoch: Instant::now(),
        write_timeout: config.autologout.max(Duration::from_secs(1)),
        handshake_timeout: Duration::from_secs(10),
    });
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    for (listener, implicit) in [(plain_listener, false), (tls_listener, true)] {
        tracker.spawn(accept_loop(
            listener,
            implicit,
            Arc::clone(&shared),
            Arc::clone(&slots),
            tracker.clone(),
        ));
    }
    tracing::info!(%pop3, %pop3s, maildir = ?config.maildir, "demo POP3 server listening");
    Ok(Demo {
        pop3,
        pop3s,
        certificate: certificate.cert,
        store: demo_store,
    })
}

async fn accept_loop(
    listener: TcpListener,
    implicit: bool,
    shared: Arc<server::Shared>,
    slots: Arc<Semaphore>,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "demo accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, "demo server: too many connections, one refused");
            drop(tcp);
            continue;
        };
        let shared = Arc::clone(&shared);
        tracker.spawn(async move {
            server::serve(tcp, implicit, shared).await;
            drop(slot);
        });
    }
}
