//! The Origin allowlist. Browsers always send `Origin` on a WebSocket handshake; a request
//! without one comes from a non-browser client and is allowed. A request with one must match.
//!
//! Origins are compared by scheme, host and port (default ports filled in, host names
//! lower-cased, IP addresses compared as addresses). The request's `Host` header is never
//! consulted: matching it would let a DNS-rebinding page through.

use std::net::{IpAddr, SocketAddr};

use anyhow::{anyhow, bail};

/// A parsed origin or allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OriginPattern {
    scheme: Scheme,
    host: Host,
    /// `None` matches any port (`:*`).
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

impl OriginPattern {
    /// Parses `scheme://host[:port]` or `scheme://host:*`; a trailing `/` is tolerated.
    pub(crate) fn parse(text: &str) -> anyhow::Result<OriginPattern> {
        parse(text, true).ok_or_else(|| {
            anyhow!(
                "{text:?} is not an origin: write scheme://host[:port], e.g. http://127.0.0.1:*"
            )
        })
    }

    fn matches(&self, origin: &OriginPattern) -> bool {
        self.scheme == origin.scheme
            && self.host == origin.host
            && (self.port.is_none() || self.port == origin.port)
    }
}

fn parse(text: &str, allow_wildcard: bool) -> Option<OriginPattern> {
    let text = text.trim();
    let text = if allow_wildcard {
        text.strip_suffix('/').unwrap_or(text)
    } else {
        text
    };
    let (scheme, rest) = text.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return None,
    };
    let default_port = match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let ip: std::net::Ipv6Addr = addr.parse().ok()?;
        (Host::Ip(IpAddr::V6(ip).to_canonical()), after)
    } else {
        let end = rest.find(':').unwrap_or(rest.len());
        let (host, after) = rest.split_at(end);
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return None;
        }
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip.to_canonical()),
            Err(_) => Host::Name(host.to_ascii_lowercase()),
        };
        (host, after)
    };
    let port = match port {
        "" => Some(default_port),
        ":*" if allow_wildcard => None,
        p => {
            let digits = p.strip_prefix(':')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(digits.parse::<u16>().ok()?)
        }
    };
    Some(OriginPattern { scheme, host, port })
}

/// Which origins may open a bridge session or deliver demo mail.
#[derive(Debug, Clone)]
pub(crate) struct OriginPolicy {
    allowed: Vec<OriginPattern>,
}

impl OriginPolicy {
    /// The default origins of a listener at `listen` (`https` with `tls`), plus `extra`.
    ///
    /// The defaults are `scheme://IP:PORT` of the listen address and its localhost forms
    /// (`localhost`, `127.0.0.1`, `[::1]`) on the same port.
    pub(crate) fn new(
        listen: SocketAddr,
        tls: bool,
        extra: &[String],
    ) -> anyhow::Result<OriginPolicy> {
        let scheme = if tls { Scheme::Https } else { Scheme::Http };
        let port = Some(listen.port());
        let mut allowed = Vec::new();
        let ip = listen.ip().to_canonical();
        if !ip.is_unspecified() {
            allowed.push(OriginPattern {
                scheme,
                host: Host::Ip(ip),
                port,
            });
        }
        for host in [
            Host::Name("localhost".into()),
            Host::Ip(IpAddr::from([127, 0, 0, 1])),
            Host::Ip(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
        ] {
            let pattern = OriginPattern { scheme, host, port };
            if !allowed.contains(&pattern) {
                allowed.push(pattern);
            }
        }
        for text in extra {
            let pattern = OriginPattern::parse(text)?;
            if pattern.port == Some(0) {
                bail!("{text:?}: port 0 never appears in an origin");
            }
            allowed.push(pattern);
        }
        Ok(OriginPolicy { allowed })
    }

    /// Whether a request with this `Origin` header value may go ahead. `None` (no header)
    /// is allowed: only browsers send it, and they always do.
    pub(crate) fn allows(&self, origin: Option<&[u8]>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        match parse(origin, false) {
            Some(origin) => self.allowed.iter().any(|p| p.matches(&origin)),
            None => false, // "null", garbage, paths, userinfo: never allowed
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn policy(extra: &[&str]) -> OriginPolicy {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        OriginPolicy::new("127.0.0.1:8080".parse().unwrap(), false, &extra).unwrap()
    }

    #[test]
    fn defaults_are_the_listen_address_and_localhost_forms() {
        let p = policy(&[]);
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://LOCALHOST:8080",
            "http://[::1]:8080",
        ] {
            assert!(p.allows(Some(ok.as_bytes())), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:8081",
            "https://127.0.0.1:8080",
            "http://evil.example:8080",
            "http://127.0.0.1",
            "null",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080.evil.example",
            "http://user@127.0.0.1:8080",
            "http://127.0.0.1:+8080",
            "",
        ] {
            assert!(!p.allows(Some(bad.as_bytes())), "{bad}");
        }
        assert!(p.allows(None));
        assert!(!p.allows(Some(b"\xff")));
    }

    #[test]
    fn wildcard_ports_and_default_ports() {
        let p = policy(&["http://127.0.0.1:*", "https://class.example.org"]);
        assert!(p.allows(Some(b"http://127.0.0.1:41234")));
        assert!(!p.allows(Some(b"http://localhost:41234")));
        assert!(p.allows(Some(b"https://class.example.org")));
        assert!(p.allows(Some(b"https://class.example.org:443")));
        assert!(!p.allows(Some(b"http://class.example.org")));
        assert!(OriginPattern::parse("ftp://x").is_err());
        assert!(OriginPattern::parse("http://x:y").is_err());
    }

    #[test]
    fn unspecified_listen_address_keeps_the_localhost_forms() {
        let p = OriginPolicy::new("0.0.0.0:443".parse().unwrap(), true, &[]).unwrap();
        assert!(p.allows(Some(b"https://localhost")));
        assert!(!p.allows(Some(b"http://localhost")));
        assert!(!p.allows(Some(b"https://0.0.0.0")));
    }
}
