//! The command line (listed in the bridge's README), turned into a [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::config::{self, Config, FileConfig, Overrides, Target};

/// A WebSocket-to-TCP bridge to named POP3 servers, with TLS, the popwire page, and an
/// embedded teaching POP3 server.
// The field docs are the `--help` text (plain text, not Markdown).
#[allow(
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls,
    rustdoc::invalid_html_tags
)]
#[derive(Debug, Parser)]
#[command(name = "popwire-bridge", version, about, long_about = None)]
pub struct Cli {
    /// Address to serve HTTP/WebSocket on [default: 127.0.0.1:8080]; port 0 picks one.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve the page from this folder instead of the page built into the binary (for
    /// developing the page: edits show on reload, without recompiling).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// TOML configuration file; the command line adds to and overrides it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A named POP3 server: NAME=HOST:PORT[,tls=implicit][,ca=FILE][,insecure][,starttls=BOOL].
    #[arg(long = "target", value_name = "SPEC", value_parser = parse_target)]
    pub targets: Vec<Target>,
    /// An allowed page origin, e.g. https://class.example.org or http://127.0.0.1:* (any port).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// A proxy (IP or CIDR) whose X-Forwarded-For is believed.
    #[arg(long = "trust-proxy", value_name = "ADDR")]
    pub trust_proxies: Vec<String>,
    /// Certificate chain (PEM): serve https/wss.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Start the teaching POP3 server and add the targets `demo` and `demo-tls`.
    #[arg(long)]
    pub demo: bool,
    /// The demo server's plain port (STLS offered) [default: 127.0.0.1:1110].
    #[arg(long, value_name = "ADDR")]
    pub demo_pop3: Option<SocketAddr>,
    /// The demo server's implicit-TLS port [default: 127.0.0.1:1995].
    #[arg(long, value_name = "ADDR")]
    pub demo_pop3s: Option<SocketAddr>,
    /// Serve the Maildirs DIR/<user>/ instead of the in-memory sample maildrops.
    #[arg(long, value_name = "DIR")]
    pub maildir: Option<PathBuf>,
    /// With --maildir: a file of user:password lines; only the users it names can log in.
    /// Without it, every Maildir account has the demo password, which is refused unless every
    /// listener is on loopback.
    #[arg(long, value_name = "FILE")]
    pub demo_password_file: Option<PathBuf>,
    /// Write {"http","pop3","pop3s"} (the bound addresses) here once listening.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// Bridge sessions at once, all clients together [default: 512].
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,
    /// Bridge sessions at once per client address (IPv6: per /64); a classroom behind one NAT
    /// address counts as one client [default: 128].
    #[arg(long, value_name = "N")]
    pub max_sessions_per_ip: Option<usize>,
    /// Largest WebSocket frame/message from the page, in bytes [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_frame: Option<usize>,
    /// Connecting to a target (TCP, then TLS) may take this long [default: 10].
    #[arg(long, value_name = "SECS")]
    pub connect_timeout_secs: Option<u64>,
    /// Close a session with no bytes either way for this long; must exceed 600 (RFC 1939's
    /// autologout) [default: 900].
    #[arg(long, value_name = "SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Allow --idle-timeout-secs of 600 or less (for tests).
    #[arg(long)]
    pub allow_short_idle: bool,
    /// The demo server's autologout timer; at least 600 (RFC 1939 §3: 10 minutes) unless
    /// --demo-testing-timers [default: 600].
    #[arg(long, value_name = "SECS")]
    pub demo_autologout_secs: Option<u64>,
    /// FOR TESTS ONLY: allow a --demo-autologout-secs below 600, which RFC 1939 forbids.
    #[arg(long)]
    pub demo_testing_timers: bool,
}

fn parse_target(spec: &str) -> Result<Target, String> {
    Target::parse_cli(spec).map_err(|e| format!("{e:#}"))
}

impl Cli {
    /// The listen address and the configuration (the `--config` file, then the flags).
    pub fn into_config(self) -> anyhow::Result<(SocketAddr, Config)> {
        let file = match &self.config {
            Some(path) => Some(FileConfig::load(path)?),
            None => None,
        };
        let overrides = Overrides {
            listen: self.listen,
            www: self.www,
            targets: self.targets,
            allow_origins: self.allow_origins,
            trust_proxies: self.trust_proxies,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            demo: self.demo,
            demo_pop3: self.demo_pop3,
            demo_pop3s: self.demo_pop3s,
            maildir: self.maildir,
            demo_password_file: self.demo_password_file,
            ready_file: self.ready_file,
            max_sessions: self.max_sessions,
            max_sessions_per_ip: self.max_sessions_per_ip,
            max_frame: self.max_frame,
            connect_timeout_secs: self.connect_timeout_secs,
            idle_timeout_secs: self.idle_timeout_secs,
            allow_short_idle: self.allow_short_idle,
            demo_autologout_secs: self.demo_autologout_secs,
            demo_testing_timers: self.demo_testing_timers,
        };
        config::build(file, overrides)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_contracts_flags_parse() {
        let cli = Cli::try_parse_from([
            "popwire-bridge",
            "--listen",
            "127.0.0.1:0",
            "--www",
            "www",
            "--target",
            "a=127.0.0.1:110",
            "--target",
            "b=pop.example.org:995,tls=implicit,insecure",
            "--allow-origin",
            "http://127.0.0.1:*",
            "--trust-proxy",
            "127.0.0.1",
            "--demo",
            "--demo-pop3",
            "127.0.0.1:0",
            "--demo-pop3s",
            "127.0.0.1:0",
            "--ready-file",
            "/tmp/ready.json",
        ])
        .unwrap();
        let (listen, config) = cli.into_config().unwrap();
        assert_eq!(listen.port(), 0);
        assert_eq!(config.targets.len(), 2);
        assert!(config.demo.is_some());
        assert!(Cli::try_parse_from(["popwire-bridge", "--target", "nope"]).is_err());
        assert!(Cli::try_parse_from(["popwire-bridge", "--tls-cert", "c.pem"]).is_err());
    }

    #[test]
    fn a_short_demo_autologout_needs_the_testing_flag() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["popwire-bridge", "--demo", "--demo-autologout-secs", "5"];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args).unwrap().into_config()
        };
        let err = parse(&[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("--demo-testing-timers"),
            "{err:#}"
        );
        let (_, config) = parse(&["--demo-testing-timers"]).unwrap();
        assert_eq!(config.demo.unwrap().autologout.as_secs(), 5);
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("--demo-testing-timers"), "{help}");
        assert!(help.contains("FOR TESTS ONLY"), "{help}");
    }
}
