//! The bridge's configuration: built from the command line, from a TOML file (`--config`), or
//! directly by tests. The command line adds to and overrides the file.
//!
//! # The TOML form
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! # www = "www"             # serve this folder instead of the page built into the binary
//! allow_origin = ["http://127.0.0.1:*"]
//! trust_proxy = ["127.0.0.1", "10.0.0.0/8"]
//! # tls_cert = "cert.pem"
//! # tls_key = "key.pem"
//! # ready_file = "ready.json"
//!
//! [limits]
//! max_sessions = 512
//! max_sessions_per_ip = 128
//! max_frame = 1048576
//! connect_timeout_secs = 10
//! idle_timeout_secs = 900
//!
//! [[target]]
//! name = "school"
//! host = "pop.example.edu"
//! port = 995
//! tls = "implicit"           # or "none" (the default)
//! # ca = "school-ca.pem"     # trust exactly these roots instead of the webpki roots
//! # insecure = true          # accept any certificate (reported as "verified": false)
//! # starttls = true          # advertised in /targets (default: true unless tls = "implicit")
//! description = "The school's POP3 server"
//!
//! [demo]
//! enabled = true
//! pop3 = "127.0.0.1:1110"
//! pop3s = "127.0.0.1:1995"
//! # maildir = "/srv/mail"
//! # password_file = "/srv/mail/passwords"   # lines user:password; only these users log in
//! autologout_secs = 600     # at least 600 (RFC 1939 §3) ...
//! # testing_timers = true    # ... unless this is set: for tests only
//! password = "pop3"
//!
//! [demo.passwords]
//! alice = "wonderland"
//! ```

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;

/// The address the bridge listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The demo server's plain port unless told otherwise.
pub const DEFAULT_DEMO_POP3: &str = "127.0.0.1:1110";
/// The demo server's implicit-TLS port unless told otherwise.
pub const DEFAULT_DEMO_POP3S: &str = "127.0.0.1:1995";
/// RFC 1939 §3: a server's autologout timer is at least 10 minutes (the demo server's too,
/// unless `--demo-testing-timers`); the bridge's idle timeout must exceed it so that the
/// server's own autologout (it closes the connection) reaches the page first.
pub const RFC1939_AUTOLOGOUT_SECS: u64 = 600;

/// Everything the bridge needs besides its listener.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// A folder to serve the page from instead of [`Config::page`] (`--www`).
    pub www: Option<PathBuf>,
    /// The page built into the binary, served unless `--www` names a folder; empty unless the
    /// caller fills it (the binary does), and then `/` says how to build the page.
    pub page: crate::page::Page,
    /// Named POP3 servers the bridge may dial (`--target`), in the order `/targets` lists them.
    pub targets: Vec<Target>,
    /// Extra allowed origins (`--allow-origin`); an origin ending in `:*` matches any port.
    pub allow_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (`--trust-proxy`).
    pub trust_proxies: Vec<IpNet>,
    /// Certificate chain (PEM) for serving https/wss (`--tls-cert`).
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for serving https/wss (`--tls-key`).
    pub tls_key: Option<PathBuf>,
    /// Caps and timeouts.
    pub limits: Limits,
    /// The embedded teaching server (`--demo`), if on.
    pub demo: Option<DemoConfig>,
    /// Where to write the bound addresses once everything listens (`--ready-file`).
    pub ready_file: Option<PathBuf>,
}

/// Caps and timeouts of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bridge sessions at once, all clients together.
    pub max_sessions: usize,
    /// Bridge sessions at once from one client address (an IPv6 client counts per /64). A
    /// school's classroom usually reaches the bridge from one NAT address, so the default
    /// (128) fits 40 students with two tabs each plus reconnects; see the bridge's README.
    pub max_sessions_per_ip: usize,
    /// Largest WebSocket frame or message the page may send, in bytes.
    pub max_frame: usize,
    /// How long connecting to a target (TCP, then TLS) may take.
    pub connect_timeout: Duration,
    /// A session with no bytes either way for this long is closed (`idle`).
    pub idle_timeout: Duration,
    /// On shutdown, how long open sessions get to say goodbye.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 512,
            max_sessions_per_ip: 128,
            max_frame: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(900),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// How a target's connection starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain TCP (the page may upgrade it with STLS).
    #[default]
    None,
    /// TLS from the first byte (port 995 style, RFC 8314).
    Implicit,
}

impl TlsMode {
    /// The name used in `/targets`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Implicit => "implicit",
        }
    }
}

/// A named POP3 server the bridge may dial.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The name the page asks for: 1–64 characters of `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Plain or implicit TLS.
    #[serde(default)]
    pub tls: TlsMode,
    /// Trust exactly the certificates in this PEM file instead of the webpki roots.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// Accept any server certificate (reported to the page as `"verified": false`).
    #[serde(default)]
    pub insecure: bool,
    /// Whether `/targets` says STLS may be used (default: true unless implicit TLS).
    #[serde(default)]
    pub starttls: Option<bool>,
    /// A line for the page's target menu.
    #[serde(default)]
    pub description: String,
}

impl Target {
    /// Whether `/targets` advertises STLS for this target.
    pub fn starttls(&self) -> bool {
        self.starttls.unwrap_or(self.tls == TlsMode::None)
    }

    /// Parses `NAME=HOST:PORT[,tls=implicit|none][,ca=FILE][,insecure][,starttls=BOOL]`.
    pub fn parse_cli(spec: &str) -> anyhow::Result<Target> {
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| anyhow!("--target {spec:?}: expected NAME=HOST:PORT[,options]"))?;
        let mut parts = rest.split(',');
        let addr = parts.next().unwrap_or_default();
        let (host, port) = parse_host_port(addr)
            .with_context(|| format!("--target {spec:?}: bad HOST:PORT {addr:?}"))?;
        let mut target = Target {
            name: name.to_owned(),
            host,
            port,
            tls: TlsMode::None,
            ca: None,
            insecure: false,
            starttls: None,
            description: String::new(),
        };
        for option in parts {
            match option.split_once('=') {
                Some(("tls", "implicit")) => target.tls = TlsMode::Implicit,
                Some(("tls", "none")) => target.tls = TlsMode::None,
                Some(("ca", file)) if !file.is_empty() => target.ca = Some(PathBuf::from(file)),
                Some(("starttls", value)) => {
                    target.starttls =
                        Some(value.parse().map_err(|_| {
                            anyhow!("--target {spec:?}: starttls= takes true or false")
                        })?)
                }
                None if option == "insecure" => target.insecure = true,
                _ => bail!(
                    "--target {spec:?}: unknown option {option:?} \
                     (known: tls=implicit, tls=none, ca=FILE, insecure, starttls=BOOL)"
                ),
            }
        }
        target.validate()?;
        Ok(target)
    }

    /// Checks the name, host and port.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !crate::names::is_target_name(&self.name) {
            bail!(
                "target name {:?}: use 1–64 characters of A-Z a-z 0-9 . _ -",
                self.name
            );
        }
        if self.host.is_empty() || self.host.chars().any(|c| c.is_whitespace() || c == '/') {
            bail!("target {}: bad host {:?}", self.name, self.host);
        }
        if self.port == 0 {
            bail!("target {}: port 0 cannot be dialled", self.name);
        }
        if self.insecure && self.ca.is_some() {
            bail!(
                "target {}: choose either ca=FILE or insecure, not both",
                self.name
            );
        }
        Ok(())
    }
}

/// Splits `HOST:PORT` (`[v6]:PORT` for IPv6).
fn parse_host_port(addr: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("missing :PORT"))?;
    let port: u16 = port.parse().map_err(|_| anyhow!("bad port {port:?}"))?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            v6.parse::<std::net::Ipv6Addr>()
                .map_err(|_| anyhow!("bad IPv6 address {v6:?}"))?;
            v6.to_owned()
        }
        None if host.contains(':') => bail!("write an IPv6 address in brackets: [{host}]:{port}"),
        None => host.to_owned(),
    };
    Ok((host, port))
}

/// An IP address or a CIDR block (`--trust-proxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| anyhow!("{s:?} is not an IP address or CIDR block"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| anyhow!("{s:?}: bad prefix length"))?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The embedded teaching POP3 server (`--demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// The plain listener (STLS offered); port 0 picks one.
    pub pop3: SocketAddr,
    /// The implicit-TLS listener; port 0 picks one.
    pub pop3s: SocketAddr,
    /// Serve `DIR/<user>/` Maildirs instead of the in-memory sample maildrops.
    pub maildir: Option<PathBuf>,
    /// Everyone's password and APOP secret unless `passwords` names them.
    pub password: String,
    /// Per-user passwords (`[demo.passwords]`, then the password file's lines).
    pub passwords: HashMap<String, String>,
    /// The password file (`--demo-password-file`), if one was given: with `--maildir`, only
    /// the users in `passwords` can log in then.
    pub password_file: Option<PathBuf>,
    /// The teaching server's autologout timer (RFC 1939: at least 10 minutes).
    pub autologout: Duration,
    /// How long the `-ERR` to a failed login is held back.
    pub failed_login_delay: Duration,
    /// In-memory maildrops at most; the least recently used unlocked one is evicted.
    pub max_maildrops: usize,
    /// Largest message `POST /demo/deliver` accepts, in bytes.
    pub max_delivery_size: usize,
    /// Messages one in-memory maildrop may hold at most (deliveries beyond are refused).
    pub max_messages_per_maildrop: usize,
    /// Delivered bytes all maildrops together may hold (the samples are shared and not counted).
    pub max_delivered_bytes: usize,
    /// Demo connections at once (both ports together).
    pub max_connections: usize,
    /// Host name in the greeting's APOP timestamp.
    pub hostname: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            pop3: SocketAddr::from(([127, 0, 0, 1], 1110)),
            pop3s: SocketAddr::from(([127, 0, 0, 1], 1995)),
            maildir: None,
            password: "pop3".into(),
            passwords: HashMap::new(),
            password_file: None,
            autologout: Duration::from_secs(RFC1939_AUTOLOGOUT_SECS),
            failed_login_delay: Duration::from_secs(1),
            max_maildrops: 1000,
            max_delivery_size: 1024 * 1024,
            max_messages_per_maildrop: 200,
            max_delivered_bytes: 256 * 1024 * 1024,
            max_connections: 512,
            hostname: "popwire.demo".into(),
        }
    }
}

/// The TOML file (`--config`), every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--www`.
    pub www: Option<PathBuf>,
    /// `--allow-origin`.
    #[serde(default)]
    pub allow_origin: Vec<String>,
    /// `--trust-proxy`.
    #[serde(default)]
    pub trust_proxy: Vec<String>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `--ready-file`.
    pub ready_file: Option<PathBuf>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: FileLimits,
    /// `[[target]]`.
    #[serde(default)]
    pub target: Vec<Target>,
    /// `[demo]`.
    pub demo: Option<FileDemo>,
}

/// `[limits]` of the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    /// `--max-sessions`.
    pub max_sessions: Option<usize>,
    /// `--max-sessions-per-ip`.
    pub max_sessions_per_ip: Option<usize>,
    /// `--max-frame`.
    pub max_frame: Option<usize>,
    /// `--connect-timeout-secs`.
    pub connect_timeout_secs: Option<u64>,
    /// `--idle-timeout-secs`.
    pub idle_timeout_secs: Option<u64>,
    /// Allow an idle timeout of 10 minutes or less (tests).
    pub allow_short_idle: Option<bool>,
}

/// `[demo]` of the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDemo {
    /// `--demo`.
    pub enabled: Option<bool>,
    /// `--demo-pop3`.
    pub pop3: Option<SocketAddr>,
    /// `--demo-pop3s`.
    pub pop3s: Option<SocketAddr>,
    /// `--maildir`.
    pub maildir: Option<PathBuf>,
    /// `--demo-autologout-secs`.
    pub autologout_secs: Option<u64>,
    /// `--demo-testing-timers` (for tests only).
    pub testing_timers: Option<bool>,
    /// Everyone's password (default `pop3`).
    pub password: Option<String>,
    /// Milliseconds a failed login's `-ERR` is held back (default 1000).
    pub failed_login_delay_ms: Option<u64>,
    /// In-memory maildrops at most (default 1000).
    pub max_maildrops: Option<usize>,
    /// Largest delivered message in bytes (default 1 MiB).
    pub max_delivery_size: Option<usize>,
    /// Messages per maildrop at most (default 200).
    pub max_messages_per_maildrop: Option<usize>,
    /// Per-user passwords.
    #[serde(default)]
    pub passwords: HashMap<String, String>,
    /// `--demo-password-file`.
    pub password_file: Option<PathBuf>,
}

impl FileConfig {
    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
    }
}

/// What the command line says; `None` / empty means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--www`.
    pub www: Option<PathBuf>,
    /// `--target` (already parsed).
    pub targets: Vec<Target>,
    /// `--allow-origin`.
    pub allow_origins: Vec<String>,
    /// `--trust-proxy`.
    pub trust_proxies: Vec<String>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `--demo`.
    pub demo: bool,
    /// `--demo-pop3`.
    pub demo_pop3: Option<SocketAddr>,
    /// `--demo-pop3s`.
    pub demo_pop3s: Option<SocketAddr>,
    /// `--maildir`.
    pub maildir: Option<PathBuf>,
    /// `--demo-password-file`.
    pub demo_password_file: Option<PathBuf>,
    /// `--ready-file`.
    pub ready_file: Option<PathBuf>,
    /// `--max-sessions`.
    pub max_sessions: Option<usize>,
    /// `--max-sessions-per-ip`.
    pub max_sessions_per_ip: Option<usize>,
    /// `--max-frame`.
    pub max_frame: Option<usize>,
    /// `--connect-timeout-secs`.
    pub connect_timeout_secs: Option<u64>,
    /// `--idle-timeout-secs`.
    pub idle_timeout_secs: Option<u64>,
    /// `--allow-short-idle`.
    pub allow_short_idle: bool,
    /// `--demo-autologout-secs`.
    pub demo_autologout_secs: Option<u64>,
    /// `--demo-testing-timers`: allow an autologout below 10 minutes (tests only).
    pub demo_testing_timers: bool,
}

/// Builds the listen address and the [`Config`] from an optional file and the command line,
/// checked ([`Config::validate`]) so that a bad flag is reported before anything starts.
pub fn build(file: Option<FileConfig>, cli: Overrides) -> anyhow::Result<(SocketAddr, Config)> {
    let file = file.unwrap_or_default();
    let listen = match cli.listen.or(file.listen) {
        Some(addr) => addr,
        None => DEFAULT_LISTEN.parse()?,
    };
    let allow_short_idle = cli.allow_short_idle || file.limits.allow_short_idle.unwrap_or(false);
    let limits = merge_limits(&file.limits, &cli);
    check_limits(&limits, allow_short_idle)?;
    let mut allow_origins = file.allow_origin;
    allow_origins.extend(cli.allow_origins.iter().cloned());
    let trust_proxies = file
        .trust_proxy
        .iter()
        .chain(cli.trust_proxies.iter())
        .map(|proxy| {
            proxy
                .parse()
                .with_context(|| format!("--trust-proxy {proxy:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let config = Config {
        www: cli.www.clone().or(file.www),
        page: crate::page::Page::default(),
        targets: merge_targets(file.target, cli.targets.clone())?,
        allow_origins,
        trust_proxies,
        tls_cert: cli.tls_cert.clone().or(file.tls_cert),
        tls_key: cli.tls_key.clone().or(file.tls_key),
        limits,
        demo: merge_demo(file.demo.unwrap_or_default(), &cli, listen)?,
        ready_file: cli.ready_file.clone().or(file.ready_file),
    };
    config.validate()?;
    Ok((listen, config))
}

impl Config {
    /// Checks what every configuration must satisfy, however it was made (by [`build`] or
    /// directly): each target is valid, no name is defined twice or taken from the demo
    /// server, `tls_cert` and `tls_key` go together, and every allowed origin parses.
    /// [`crate::Bridge::bind`] calls it; [`build`] too, to report a bad flag early.
    pub fn validate(&self) -> anyhow::Result<()> {
        let reserved: &[&str] = if self.demo.is_some() {
            &DEMO_TARGETS
        } else {
            &[]
        };
        for (i, target) in self.targets.iter().enumerate() {
            target.validate()?;
            if reserved.contains(&target.name.as_str()) {
                bail!(
                    "the target name {:?} is reserved for the demo server (--demo)",
                    target.name
                );
            }
            if self.targets.iter().take(i).any(|t| t.name == target.name) {
                bail!("target {:?} is defined twice", target.name);
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!("--tls-cert and --tls-key go together");
        }
        for origin in &self.allow_origins {
            crate::origin::OriginPattern::parse(origin)?;
        }
        Ok(())
    }
}

/// The targets the demo server adds (`--demo`): plain with STLS, and implicit TLS.
pub use popwire::bridge_protocol::DEMO_TARGETS;

/// The file's targets, then the command line's (a CLI target replaces a file target of the
/// same name; the file may not name one twice).
fn merge_targets(file: Vec<Target>, cli: Vec<Target>) -> anyhow::Result<Vec<Target>> {
    let mut targets: Vec<Target> = Vec::new();
    for (target, replace) in file
        .into_iter()
        .map(|t| (t, false))
        .chain(cli.into_iter().map(|t| (t, true)))
    {
        match targets.iter_mut().find(|t| t.name == target.name) {
            Some(existing) if replace => *existing = target,
            Some(_) => bail!("target {:?} is defined twice", target.name),
            None => targets.push(target),
        }
    }
    Ok(targets)
}

/// `[limits]` overridden by the flags, defaults for the rest.
fn merge_limits(file: &FileLimits, cli: &Overrides) -> Limits {
    let defaults = Limits::default();
    Limits {
        max_sessions: cli
            .max_sessions
            .or(file.max_sessions)
            .unwrap_or(defaults.max_sessions),
        max_sessions_per_ip: cli
            .max_sessions_per_ip
            .or(file.max_sessions_per_ip)
            .unwrap_or(defaults.max_sessions_per_ip),
        max_frame: cli
            .max_frame
            .or(file.max_frame)
            .unwrap_or(defaults.max_frame),
        connect_timeout: cli
            .connect_timeout_secs
            .or(file.connect_timeout_secs)
            .map_or(defaults.connect_timeout, Duration::from_secs),
        idle_timeout: cli
            .idle_timeout_secs
            .or(file.idle_timeout_secs)
            .map_or(defaults.idle_timeout, Duration::from_secs),
        shutdown_grace: defaults.shutdown_grace,
    }
}

/// The caps are at least 1, a frame holds a command, and the idle timeout exceeds RFC 1939's
/// autologout unless `allow_short_idle` (tests).
fn check_limits(limits: &Limits, allow_short_idle: bool) -> anyhow::Result<()> {
    if limits.max_sessions == 0 || limits.max_sessions_per_ip == 0 {
        bail!("--max-sessions and --max-sessions-per-ip must be at least 1");
    }
    if limits.max_frame < 1024 {
        bail!("--max-frame must be at least 1024 bytes (a POP3 command is at most 255)");
    }
    if limits.connect_timeout.is_zero() {
        bail!("--connect-timeout-secs must be at least 1");
    }
    if limits.idle_timeout.as_secs() <= RFC1939_AUTOLOGOUT_SECS && !allow_short_idle {
        bail!(
            "--idle-timeout-secs must exceed {RFC1939_AUTOLOGOUT_SECS} (RFC 1939's 10-minute \
             autologout timer), got {}; --allow-short-idle permits it for tests",
            limits.idle_timeout.as_secs()
        );
    }
    if limits.idle_timeout.is_zero() {
        bail!("--idle-timeout-secs must be at least 1");
    }
    Ok(())
}

/// `[demo]` overridden by the flags: `None` unless `--demo` or `enabled = true` (the demo's
/// own flags without it are refused), checked and with the password file read.
fn merge_demo(
    fd: FileDemo,
    cli: &Overrides,
    listen: SocketAddr,
) -> anyhow::Result<Option<DemoConfig>> {
    if !(cli.demo || fd.enabled.unwrap_or(false)) {
        if cli.maildir.is_some()
            || cli.demo_pop3.is_some()
            || cli.demo_pop3s.is_some()
            || cli.demo_password_file.is_some()
        {
            bail!("--maildir, --demo-pop3, --demo-pop3s and --demo-password-file need --demo");
        }
        return Ok(None);
    }
    let d = DemoConfig::default();
    let testing_timers = cli.demo_testing_timers || fd.testing_timers.unwrap_or(false);
    let mut demo = DemoConfig {
        pop3: cli.demo_pop3.or(fd.pop3).unwrap_or(d.pop3),
        pop3s: cli.demo_pop3s.or(fd.pop3s).unwrap_or(d.pop3s),
        maildir: cli.maildir.clone().or(fd.maildir),
        password: fd.password.unwrap_or(d.password),
        passwords: fd.passwords,
        password_file: cli.demo_password_file.clone().or(fd.password_file),
        autologout: cli
            .demo_autologout_secs
            .or(fd.autologout_secs)
            .map_or(d.autologout, Duration::from_secs),
        failed_login_delay: fd
            .failed_login_delay_ms
            .map_or(d.failed_login_delay, Duration::from_millis),
        max_maildrops: fd.max_maildrops.unwrap_or(d.max_maildrops).max(1),
        max_delivery_size: fd.max_delivery_size.unwrap_or(d.max_delivery_size),
        max_messages_per_maildrop: fd
            .max_messages_per_maildrop
            .unwrap_or(d.max_messages_per_maildrop),
        ..d
    };
    check_demo_timers(&demo, testing_timers)?;
    if let Some(path) = &demo.password_file {
        demo.passwords.extend(load_password_file(path)?);
    }
    check_maildir_passwords(&demo, listen)?;
    Ok(Some(demo))
}

/// The autologout is at least RFC 1939's 10 minutes (unless `testing_timers`) and longer than
/// the failed-login delay.
fn check_demo_timers(demo: &DemoConfig, testing_timers: bool) -> anyhow::Result<()> {
    if demo.autologout.is_zero() {
        bail!("--demo-autologout-secs must be at least 1");
    }
    if demo.autologout.as_secs() < RFC1939_AUTOLOGOUT_SECS && !testing_timers {
        bail!(
            "--demo-autologout-secs must be at least {RFC1939_AUTOLOGOUT_SECS} (RFC 1939 §3: \
             the autologout timer is at least 10 minutes), got {}; --demo-testing-timers \
             permits it for tests",
            demo.autologout.as_secs()
        );
    }
    if demo.failed_login_delay >= demo.autologout {
        bail!("the demo's failed-login delay must be shorter than its autologout timer");
    }
    Ok(())
}

/// Reads a password file: one `user:password` per line (the password is the rest of the line);
/// blank lines and lines starting with `#` are skipped. Errors name the line, never its text.
pub fn load_password_file(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the password file {}", path.display()))?;
    let mut passwords = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                passwords.insert(user.to_owned(), password.to_owned());
            }
            _ => bail!(
                "the password file {} line {}: expected user:password",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(passwords)
}

/// `--maildir` without a password file lets every Maildir account in with the shared demo
/// password: refused unless the bridge and the demo ports all listen on loopback, where it is
/// only warned about.
fn check_maildir_passwords(demo: &DemoConfig, listen: SocketAddr) -> anyhow::Result<()> {
    let Some(maildir) = &demo.maildir else {
        return Ok(());
    };
    if demo.password_file.is_some() {
        return Ok(());
    }
    let password = if demo.password == DemoConfig::default().password {
        format!("the public demo password {:?}", demo.password)
    } else {
        "the one shared demo password".to_owned()
    };
    if let Some(open) = [listen, demo.pop3, demo.pop3s]
        .into_iter()
        .find(|addr| !addr.ip().to_canonical().is_loopback())
    {
        bail!(
            "--maildir {} without a password file would let every account in with {password}, \
             and {open} is not a loopback address: add --demo-password-file FILE (lines \
             user:password; only the users it names can log in), or listen on 127.0.0.1 only",
            maildir.display()
        );
    }
    tracing::warn!(
        "WARNING: --maildir {} has no password file: EVERY account under it logs in with \
         {password}. Acceptable on loopback only; add --demo-password-file FILE to give each \
         account its own password.",
        maildir.display()
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn target_specs_parse() {
        let t = Target::parse_cli("school=pop.example.edu:995,tls=implicit,ca=ca.pem").unwrap();
        assert_eq!(t.name, "school");
        assert_eq!(t.host, "pop.example.edu");
        assert_eq!(t.port, 995);
        assert_eq!(t.tls, TlsMode::Implicit);
        assert_eq!(t.ca.as_deref(), Some(Path::new("ca.pem")));
        assert!(!t.starttls());
        let t = Target::parse_cli("v6=[::1]:110,insecure").unwrap();
        assert_eq!(t.host, "::1");
        assert!(t.insecure);
        assert!(t.starttls());
        for bad in [
            "noequals",
            "x=host",
            "x=host:0",
            "x=host:99999",
            "x=::1:110",
            "bad name=h:1",
            "x=h:1,tls=maybe",
            "x=h:1,bogus",
            "x=h:1,ca=a.pem,insecure",
            "=h:1",
        ] {
            assert!(Target::parse_cli(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip_nets_match() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all: IpNet = "::/0".parse().unwrap();
        assert!(all.contains("2001:db8::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nope".parse::<IpNet>().is_err());
    }

    #[test]
    fn file_and_cli_merge() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "127.0.0.1:9000"
            allow_origin = ["http://127.0.0.1:*"]
            [limits]
            max_sessions = 10
            [[target]]
            name = "a"
            host = "127.0.0.1"
            port = 110
            description = "file a"
            [demo]
            enabled = true
            [demo.passwords]
            alice = "secret"
            "#,
        )
        .unwrap();
        let cli = Overrides {
            targets: vec![Target::parse_cli("a=127.0.0.1:111").unwrap()],
            max_sessions: Some(20),
            allow_origins: vec!["https://example.org".into()],
            ..Overrides::default()
        };
        let (listen, config) = build(Some(file), cli).unwrap();
        assert_eq!(listen.port(), 9000);
        assert_eq!(config.limits.max_sessions, 20);
        assert_eq!(config.targets.len(), 1);
        assert_eq!(
            config.targets[0].port, 111,
            "the CLI replaces the file's target"
        );
        assert_eq!(config.allow_origins.len(), 2);
        let demo = config.demo.unwrap();
        assert_eq!(
            demo.passwords.get("alice").map(String::as_str),
            Some("secret")
        );
    }

    #[test]
    fn short_idle_needs_the_flag() {
        let cli = Overrides {
            idle_timeout_secs: Some(5),
            ..Overrides::default()
        };
        assert!(build(None, cli.clone()).is_err());
        let cli = Overrides {
            allow_short_idle: true,
            ..cli
        };
        assert_eq!(
            build(None, cli).unwrap().1.limits.idle_timeout,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_demo_autologout_below_ten_minutes_needs_the_testing_flag() {
        let cli = Overrides {
            demo: true,
            demo_autologout_secs: Some(599),
            ..Overrides::default()
        };
        let err = build(None, cli.clone()).unwrap_err().to_string();
        assert!(err.contains("--demo-testing-timers"), "{err}");
        let at_least = Overrides {
            demo_autologout_secs: Some(600),
            ..cli.clone()
        };
        assert!(build(None, at_least).is_ok());
        let testing = Overrides {
            demo_testing_timers: true,
            ..cli
        };
        let demo = build(None, testing).unwrap().1.demo.unwrap();
        assert_eq!(demo.autologout, Duration::from_secs(599));
        // The file says the same.
        let file: FileConfig =
            toml::from_str("[demo]\nenabled = true\nautologout_secs = 5\n").unwrap();
        assert!(build(Some(file), Overrides::default()).is_err());
        let file: FileConfig =
            toml::from_str("[demo]\nenabled = true\nautologout_secs = 5\ntesting_timers = true\n")
                .unwrap();
        let demo = build(Some(file), Overrides::default())
            .unwrap()
            .1
            .demo
            .unwrap();
        assert_eq!(demo.autologout, Duration::from_secs(5));
    }

    #[test]
    fn maildir_without_a_password_file_stays_on_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Overrides {
            demo: true,
            maildir: Some(dir.path().to_owned()),
            ..Overrides::default()
        };
        // Loopback everywhere: allowed (with a warning).
        assert!(build(None, maildir.clone()).is_ok());
        // Any of the three listeners elsewhere: refused, naming the flag to add.
        for (listen, pop3, pop3s) in [
            (Some("0.0.0.0:8080"), None, None),
            (None, Some("192.0.2.1:110"), None),
            (None, None, Some("[::]:995")),
        ] {
            let cli = Overrides {
                listen: listen.map(|a| a.parse().unwrap()),
                demo_pop3: pop3.map(|a| a.parse().unwrap()),
                demo_pop3s: pop3s.map(|a| a.parse().unwrap()),
                ..maildir.clone()
            };
            let error = format!("{:#}", build(None, cli.clone()).unwrap_err());
            assert!(error.contains("--demo-password-file FILE"), "{error}");
            assert!(error.contains("\"pop3\""), "{error}");
            // With a password file it starts, and only the users in it log in.
            let file = dir.path().join("passwords");
            fs::write(&file, "# accounts\nalice:wonder:land\r\n\nbob:b0b\n").unwrap();
            let cli = Overrides {
                demo_password_file: Some(file),
                ..cli
            };
            let demo = build(None, cli).unwrap().1.demo.unwrap();
            assert!(demo.password_file.is_some());
            assert_eq!(demo.passwords.len(), 2);
            assert_eq!(demo.passwords["alice"], "wonder:land");
            assert_eq!(demo.passwords["bob"], "b0b");
        }
        // Without --maildir, the in-memory samples may be served anywhere.
        let cli = Overrides {
            demo: true,
            listen: Some("0.0.0.0:8080".parse().unwrap()),
            ..Overrides::default()
        };
        assert!(build(None, cli).is_ok());
    }

    #[test]
    fn bad_password_files_are_refused_without_echoing_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwords");
        for bad in ["alice\n", ":secret-one\n", "ok:fine\nbob:\n"] {
            fs::write(&file, bad).unwrap();
            let error = format!("{:#}", load_password_file(&file).unwrap_err());
            assert!(error.contains("line"), "{error}");
            assert!(
                !error.contains("secret") && !error.contains("fine"),
                "{error}"
            );
        }
        assert!(load_password_file(&dir.path().join("missing")).is_err());
        let cli = Overrides {
            demo_password_file: Some(file),
            ..Overrides::default()
        };
        assert!(build(None, cli).is_err(), "needs --demo");
    }

    #[test]
    fn demo_names_are_reserved() {
        let cli = Overrides {
            demo: true,
            targets: vec![Target::parse_cli("demo=127.0.0.1:110").unwrap()],
            ..Overrides::default()
        };
        assert!(build(None, cli).is_err());
        assert!(build(
            None,
            Overrides {
                maildir: Some("x".into()),
                ..Overrides::default()
            }
        )
        .is_err());
    }
}
