//! The classroom deployment of docs/deploy/ as it is written: Debian's nginx (an instance of its
//! own, on a free loopback port, never the system's service) terminating TLS with the tested
//! site file docs/deploy/popwire.nginx.conf in front of popwire-bridge binaries started with
//! `--trust-proxy 127.0.0.1`. Clients bind 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8
//! to lo), so nginx sees two real clients.
//!
//! nginx is required: `scripts/setup.sh test` installs it; without it these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod spawn;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{http_on, Ws, WAIT};
use spawn::Bridge;
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TEMPLATE: &str = include_str!("../../docs/deploy/popwire.nginx.conf");

/// Debian's nginx binary, or a failure that says how to get it.
fn nginx_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is missing: these tests run Debian's nginx; install it with \
                 `bash scripts/setup.sh test` (apt-get install nginx)"
            )
        })
}

/// A free loopback port (bound, then released for nginx).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The site file with this listen address, certificate and bridges.
fn render(listen: SocketAddr, cert: &Path, key: &Path, bridges: &[SocketAddr]) -> String {
    let mut out = String::new();
    for line in TEMPLATE.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("server 127.0.0.1:8081") {
            continue;
        }
        if trimmed.starts_with("server 127.0.0.1:8080") {
            let rest = trimmed.trim_start_matches("server 127.0.0.1:8080");
            for bridge in bridges {
                out.push_str(&format!("    server {bridge}{rest}\n"));
            }
            continue;
        }
        let line = line
            .replace("listen 443 ssl;", &format!("listen {listen} ssl;"))
            .replace("/etc/ssl/popwire/fullchain.pem", cert.to_str().unwrap())
            .replace("/etc/ssl/popwire/privkey.pem", key.to_str().unwrap());
        out.push_str(&line);
        out.push('\n');
    }
    for original in [
        "listen 443 ssl;",
        "/etc/ssl/popwire/",
        "127.0.0.1:8080",
        "127.0.0.1:8081",
    ] {
        assert!(!out.contains(original), "the template changed: {original}");
    }
    out
}

/// Our own nginx: a prefix folder with its config, logs and temp files.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    prefix: PathBuf,
}

impl Nginx {
    fn start(prefix: &Path, site: &str) -> Nginx {
        // Workers run as `nobody` when we are root: they must reach the prefix.
        std::fs::create_dir_all(prefix.join("tmp")).unwrap();
        let _ = Command::new("chmod")
            .args(["0755"])
            .arg(prefix)
            .arg(prefix.parent().unwrap())
            .status();
        let p = prefix.display();
        std::fs::write(prefix.join("popwire.conf"), site).unwrap();
        std::fs::write(
            prefix.join("nginx.conf"),
            format!(
                "worker_processes 1;\n\
                 pid {p}/nginx.pid;\n\
                 error_log {p}/error.log info;\n\
                 events {{ worker_connections 256; }}\n\
                 http {{\n\
                 access_log {p}/access.log;\n\
                 client_body_temp_path {p}/tmp/body;\n\
                 proxy_temp_path {p}/tmp/proxy;\n\
                 fastcgi_temp_path {p}/tmp/fastcgi;\n\
                 uwsgi_temp_path {p}/tmp/uwsgi;\n\
                 scgi_temp_path {p}/tmp/scgi;\n\
                 include {p}/popwire.conf;\n\
                 }}\n"
            ),
        )
        .unwrap();
        let addr: SocketAddr = site
            .lines()
            .find_map(|l| l.trim().strip_prefix("listen "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        let conf = prefix.join("nginx.conf");
        let args = |extra: &[&str]| {
            let mut c = Command::new(nginx_binary());
            c.arg("-e")
                .arg(prefix.join("error.log"))
                .arg("-p")
                .arg(prefix)
                .arg("-c")
                .arg(&conf)
                .args(extra)
                .stdin(Stdio::null());
            c
        };
        let test = args(&["-t"]).output().unwrap();
        assert!(
            test.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let mut child = args(&["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "nginx exited ({status}): {}",
                    std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < WAIT, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            child,
            addr,
            prefix: prefix.to_owned(),
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers, then itself.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if started.elapsed() > WAIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and a client that trusts it.
struct Tls {
    cert: PathBuf,
    key: PathBuf,
    connector: tokio_rustls::TlsConnector,
}

impl Tls {
    fn new(dir: &Path) -> Tls {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let cert_path = dir.join("fullchain.pem");
        let key_path = dir.join("privkey.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Tls {
            cert: cert_path,
            key: key_path,
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        }
    }

    /// TLS to `to` from the local address `from` (port 0).
    async fn connect(&self, from: IpAddr, to: SocketAddr) -> TlsStream<TcpStream> {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        let tcp = socket.connect(to).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        self.connector.connect(name, tcp).await.unwrap()
    }

    /// A bridge session through nginx from `from`, with extra request headers.
    async fn session(
        &self,
        from: IpAddr,
        nginx: SocketAddr,
        headers: &[(&'static str, &str)],
    ) -> Ws<TlsStream<TcpStream>> {
        let mut request = format!("wss://127.0.0.1:{}/bridge?target=demo", nginx.port())
            .into_client_request()
            .unwrap();
        let origin = format!("https://127.0.0.1:{}", nginx.port());
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        let stream = self.connect(from, nginx).await;
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(request, stream))
            .await
            .expect("the handshake through nginx")
            .unwrap();
        Ws::new(ws)
    }
}

const ALICE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const BOB: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

/// A bridge as docs/deploy/README.md starts one behind nginx.
fn bridge(dir: &Path, name: &str, extra: &[&str]) -> Bridge {
    let mut args = vec![
        "--demo",
        "--demo-pop3",
        "127.0.0.1:0",
        "--demo-pop3s",
        "127.0.0.1:0",
        "--trust-proxy",
        "127.0.0.1",
        "--allow-origin",
        "https://127.0.0.1:*",
    ];
    args.extend_from_slice(extra);
    Bridge::start(dir, name, &args)
}

/// How many sessions a bridge's log says ended, and the log.
fn ended(bridge: &Bridge) -> (usize, String) {
    let log = bridge.log();
    (log.matches("bridge session ended").count(), log)
}

/// Waits until `done` holds for the logs.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "{what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[test]
fn the_nginx_template_outlasts_the_bridge_idle_timeout() {
    for directive in ["proxy_read_timeout", "proxy_send_timeout"] {
        let secs: u64 = TEMPLATE
            .lines()
            .find_map(|l| l.trim().strip_prefix(directive))
            .unwrap_or_else(|| panic!("{directive} missing"))
            .trim()
            .trim_end_matches(';')
            .trim_end_matches('s')
            .parse()
            .unwrap();
        let bridge_idle = popwire_bridge::config::Limits::default()
            .idle_timeout
            .as_secs();
        assert!(secs > bridge_idle, "{directive} {secs}s <= {bridge_idle}s");
    }
    for needed in [
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $popwire_connection;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    ] {
        assert!(TEMPLATE.contains(needed), "{needed}");
    }
}

#[tokio::test]
async fn behind_nginx_with_tls_the_real_client_is_logged_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let b = bridge(dir.path(), "bridge", &["--max-sessions-per-ip", "2"]);
    let tls = Tls::new(dir.path());
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let site = render(listen, &tls.cert, &tls.key, &[b.http]);
    let nginx = Nginx::start(&dir.path().join("nginx"), &site);

    // The page through the proxy, with the bridge's headers.
    let r = http_on(tls.connect(ALICE, nginx.addr).await, "GET", "/", &[], b"").await;
    assert_eq!(r.status, 200, "{}", nginx.error_log());
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("wasm-unsafe-eval"));
    let r = http_on(
        tls.connect(ALICE, nginx.addr).await,
        "GET",
        "/healthz",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.json()["demo"], true);

    // A whole POP3 session through nginx's WebSocket upgrade.
    let mut ws = tls.session(ALICE, nginx.addr, &[]).await;
    assert_eq!(ws.control().await["op"], "connected");
    assert!(ws.line().await.starts_with("+OK"));
    assert!(ws.login("alice").await.starts_with("+OK"));
    let (count, _) = ws.stat().await;
    assert!(count > 0);
    let message = ws.multi("RETR 1").await;
    assert!(message.len() > 100);
    assert!(ws.cmd("QUIT").await.starts_with("+OK"));
    drop(ws);
    until("the first session's log line", || ended(&b).0 == 1).await;

    // The cap counts real clients: Alice's third session is refused, Bob still gets in (and
    // a forged X-Forwarded-For does not make him someone else).
    let mut a1 = tls.session(ALICE, nginx.addr, &[]).await;
    assert_eq!(a1.control().await["op"], "connected");
    let mut a2 = tls.session(ALICE, nginx.addr, &[]).await;
    assert_eq!(a2.control().await["op"], "connected");
    let mut a3 = tls.session(ALICE, nginx.addr, &[]).await;
    let refusal = a3.expect_refusal("busy").await;
    assert!(refusal.contains("--max-sessions-per-ip"), "{refusal}");
    let mut b1 = tls
        .session(BOB, nginx.addr, &[("x-forwarded-for", "198.51.100.7")])
        .await;
    assert_eq!(b1.control().await["op"], "connected");
    for ws in [&mut a1, &mut a2, &mut b1] {
        assert!(ws.line().await.starts_with("+OK"));
        assert!(ws.cmd("QUIT").await.starts_with("+OK"));
    }
    drop((a1, a2, a3, b1));
    until("four session log lines", || ended(&b).0 == 4).await;

    let log = b.log();
    let ended_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("bridge session ended"))
        .collect();
    let from = |ip: &str| {
        ended_lines
            .iter()
            .filter(|l| l.contains(&format!("client={ip} ")))
            .count()
    };
    assert_eq!(from("127.0.0.2"), 3, "{log}");
    assert_eq!(from("127.0.0.3"), 1, "{log}");
    assert!(
        ended_lines.iter().all(|l| l.contains("peer=127.0.0.1:")),
        "the peer is nginx: {log}"
    );
    assert!(!log.contains("client=198.51.100.7"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("refused: busy") && l.contains("client=127.0.0.2")),
        "{log}"
    );
}

#[tokio::test]
async fn two_bridges_behind_nginx_share_the_sessions_and_one_killed_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = bridge(dir.path(), "a", &[]);
    let b = bridge(dir.path(), "b", &[]);
    let tls = Tls::new(dir.path());
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let site = render(listen, &tls.cert, &tls.key, &[a.http, b.http]);
    let nginx = Nginx::start(&dir.path().join("nginx"), &site);

    let one_session = || async {
        let mut ws = tls.session(ALICE, nginx.addr, &[]).await;
        let connected = ws.control().await;
        assert_eq!(connected["op"], "connected", "{connected}");
        assert!(ws.line().await.starts_with("+OK"));
        assert!(ws.cmd("QUIT").await.starts_with("+OK"));
    };
    for _ in 0..20 {
        one_session().await;
    }
    until("20 session log lines", || ended(&a).0 + ended(&b).0 == 20).await;
    let (on_a, on_b) = (ended(&a).0, ended(&b).0);
    assert!(
        on_a >= 5 && on_b >= 5,
        "round robin spreads the sessions: {on_a} on a, {on_b} on b"
    );

    // A crash: kill -9, no goodbye. nginx's first try at it is refused, it goes on to the
    // other (proxy_next_upstream error) and then skips the dead one for fail_timeout.
    a.kill9();
    for _ in 0..10 {
        one_session().await;
    }
    until("10 more sessions on b", || ended(&b).0 == on_b + 10).await;
    assert!(
        nginx.error_log().contains("Connection refused"),
        "nginx saw the dead bridge: {}",
        nginx.error_log()
    );
}

/// docs/deploy/popwire-bridge.service parses: `systemd-analyze verify` (systemd's own parser,
/// which also checks that ExecStart is an executable) on the unit with ExecStart pointed at
/// the built binary. It warns and exits 0 on a directive it cannot parse, so any line about
/// the unit fails the test. (Verifying is not running it: the hardening is not exercised here.)
#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy/popwire-bridge.service"),
    )
    .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/popwire-bridge "));
    for needed in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(unit.contains(needed), "{needed}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("popwire-bridge.service");
    std::fs::write(
        &path,
        unit.replace(
            "/usr/local/bin/popwire-bridge",
            env!("CARGO_BIN_EXE_popwire-bridge"),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("systemd-analyze: {e} (it comes with Debian's systemd package; scripts/setup.sh test installs it)")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("popwire-bridge.service"), "{stderr}");

    // The check itself works: a misspelt value is reported.
    std::fs::write(
        &path,
        unit.replace("ProtectSystem=strict", "ProtectSystem=strictest")
            .replace(
                "/usr/local/bin/popwire-bridge",
                env!("CARGO_BIN_EXE_popwire-bridge"),
            ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("popwire-bridge.service"));
}
