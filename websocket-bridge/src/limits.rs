//! Session caps (total and per client) and who the client is (`X-Forwarded-For` from trusted
//! proxies only).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::HeaderMap;

use crate::config::IpNet;

/// Which cap refused a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapExceeded {
    /// All sessions together.
    Total(usize),
    /// Sessions from one client.
    PerClient(usize),
}

impl CapExceeded {
    /// The flag that sets this cap (for the refusal message and the log line).
    pub(crate) fn flag(self) -> &'static str {
        match self {
            CapExceeded::Total(_) => "--max-sessions",
            CapExceeded::PerClient(_) => "--max-sessions-per-ip",
        }
    }

    /// The cap that was reached.
    pub(crate) fn max(self) -> usize {
        match self {
            CapExceeded::Total(n) | CapExceeded::PerClient(n) => n,
        }
    }
}

impl std::fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flag = self.flag();
        match self {
            CapExceeded::Total(n) => write!(
                f,
                "the bridge is busy: it already carries {n} sessions (its limit); try again \
                 later, or whoever runs the bridge can raise the limit with {flag}"
            ),
            CapExceeded::PerClient(n) => write!(
                f,
                "too many sessions from your address: {n} at once is the limit (a whole class \
                 behind one NAT address shares it); close one first, or whoever runs the \
                 bridge can raise the limit with {flag}"
            ),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Counts open sessions against the caps. Cheap to share (`Arc`).
#[derive(Debug)]
pub(crate) struct SessionCounter {
    max_total: usize,
    max_per_client: usize,
    counts: Mutex<Counts>,
}

impl SessionCounter {
    /// A counter with these caps.
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<SessionCounter> {
        Arc::new(SessionCounter {
            max_total,
            max_per_client,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Takes a place for a session from `client`; the place is given back when the permit drops.
    pub(crate) fn try_acquire(self: &Arc<Self>, client: IpAddr) -> Result<Permit, CapExceeded> {
        let key = client_key(client);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.max_total {
            return Err(CapExceeded::Total(self.max_total));
        }
        let mine = counts.per_client.entry(key).or_insert(0);
        if *mine >= self.max_per_client {
            return Err(CapExceeded::PerClient(self.max_per_client));
        }
        *mine += 1;
        counts.total += 1;
        Ok(Permit {
            counter: Arc::clone(self),
            key,
        })
    }

    /// Sessions open now.
    pub(crate) fn open(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

/// A session's place under the caps.
#[derive(Debug)]
pub(crate) struct Permit {
    counter: Arc<SessionCounter>,
    key: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self
            .counter
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_client.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_client.remove(&self.key);
            }
        }
    }
}

/// The key a client is counted under: its IPv4 address, or its IPv6 /64 (one host usually
/// holds a whole /64, so counting single IPv6 addresses would be no cap at all).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let masked = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(masked))
        }
        v4 => v4,
    }
}

/// The client's address: the socket peer, or — only when the peer is a trusted proxy — the
/// right-most `X-Forwarded-For` hop that is not itself a trusted proxy.
pub(crate) fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer_ip = peer.ip().to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer_ip) {
        return peer_ip;
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return peer_ip;
        };
        hops.extend(value.split(',').map(str::trim));
    }
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage from (or before) the proxy: stop believing the header here.
            return peer_ip;
        };
        if !is_trusted(ip) {
            return ip;
        }
    }
    peer_ip
}

/// A hop of `X-Forwarded-For`: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_and_release() {
        let c = SessionCounter::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let p1 = c.try_acquire(a).unwrap();
        let _p2 = c.try_acquire(a).unwrap();
        assert_eq!(c.try_acquire(a).unwrap_err(), CapExceeded::PerClient(2));
        let _p3 = c.try_acquire(b).unwrap();
        assert_eq!(c.try_acquire(b).unwrap_err(), CapExceeded::Total(3));
        drop(p1);
        assert_eq!(c.open(), 2);
        let _p4 = c.try_acquire(a).unwrap();
    }

    #[test]
    fn ipv6_counts_per_64() {
        let c = SessionCounter::new(10, 1);
        let _p = c.try_acquire("2001:db8::1".parse().unwrap()).unwrap();
        assert!(c.try_acquire("2001:db8::2".parse().unwrap()).is_err());
        assert!(c.try_acquire("2001:db8:0:1::2".parse().unwrap()).is_ok());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        h.append("x-forwarded-for", "10.1.1.1".parse().unwrap());
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(stranger, &h, &trusted), stranger.ip());
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy.ip());
        let mut bad = HeaderMap::new();
        bad.append("x-forwarded-for", "203.0.113.9, junk".parse().unwrap());
        assert_eq!(client_ip(proxy, &bad, &trusted), proxy.ip());
        let mut port = HeaderMap::new();
        port.append("x-forwarded-for", "[2001:db8::7]:443".parse().unwrap());
        assert_eq!(
            client_ip(proxy, &port, &trusted),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
    }
}
