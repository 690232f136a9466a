//! popwire-bridge: the command line, logging, and graceful shutdown around
//! [`popwire_bridge::run`].

#![deny(clippy::indexing_slicing)]

use std::time::Duration;

use std::borrow::Cow;

use bytes::Bytes;
use clap::Parser;
use popwire_bridge::cli::Cli;
use popwire_bridge::page::Page;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder};
use tracing_subscriber::EnvFilter;

/// Log lines waiting for stderr at most; past this, new lines are dropped (and counted), so a
/// supervisor that stops reading the bridge's stderr never stalls a session.
const LOG_BUFFER_LINES: usize = 4096;
/// How often dropped log lines are reported (as a log line, when stderr drains again).
const DROPPED_REPORT_EVERY: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logging goes through a bounded queue to a thread of its own that writes stderr: a
    // blocked stderr (a full, unread pipe) blocks only that thread, never a session or the
    // shutdown. The guard flushes what is queued on exit (waiting at most about a second).
    let (writer, _guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .lossy(true)
        .thread_name("popwire-bridge-log")
        .finish(std::io::stderr());
    let dropped = writer.error_counter();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let reporter = tokio::spawn(report_dropped_lines(dropped.clone()));
    let cli = Cli::parse();
    let result = start(cli).await;
    reporter.abort();
    let lost = dropped.dropped_lines();
    if lost > 0 {
        tracing::warn!(
            dropped = lost,
            "{lost} log lines were dropped in all: stderr was not read fast enough"
        );
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("popwire-bridge: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Now and then, says how many log lines were dropped since the last report.
async fn report_dropped_lines(dropped: ErrorCounter) {
    let mut reported = 0;
    let mut every = tokio::time::interval(DROPPED_REPORT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = dropped.dropped_lines();
        if now > reported {
            tracing::warn!(
                dropped = now - reported,
                total = now,
                "{} log lines were dropped: stderr was not read fast enough",
                now - reported
            );
            reported = now;
        }
    }
}

/// `www/` as it was when this binary was compiled: the page, served unless `--www DIR`
/// (build.rs makes cargo recompile when `www/pkg/` appears or changes).
#[derive(rust_embed::RustEmbed)]
#[folder = "../www/"]
#[allow_missing = true]
struct Www;

/// The embedded files as the page the bridge serves.
fn built_in_page() -> Page {
    Page::new(Www::iter().filter_map(|path| {
        let file = Www::get(&path)?;
        let bytes = match file.data {
            Cow::Borrowed(bytes) => Bytes::from_static(bytes),
            Cow::Owned(bytes) => Bytes::from(bytes),
        };
        Some((path.into_owned(), bytes, file.metadata.sha256_hash()))
    }))
}

async fn start(cli: Cli) -> anyhow::Result<()> {
    let (listen, mut config) = cli.into_config()?;
    if config.www.is_none() {
        config.page = built_in_page();
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("binding {listen}: {e}"))?;
    popwire_bridge::run(listener, config, shutdown_signal()).await
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}
