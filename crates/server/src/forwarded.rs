//! Whose lookup it is behind a reverse proxy: the public lookup's allowance is per client
//! address, and a proxy in front of the server would otherwise make every citizen one client.
//! Only proxies the operator names (`serve --trusted-proxy`) are believed: when the TCP peer is
//! one of them, `X-Forwarded-For` is read from the right, each trusted hop passed over, and the
//! first address not trusted is the client. Anyone else's header is ignored, so a client
//! cannot choose its own address. A header that cannot be read leaves the lookup counted
//! against the last trusted hop that handed it on.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// A trusted address or network (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not an IP address or network (such as 10.0.0.1, 10.0.0.0/8 or fd00::/8): {why}"
)]
pub struct NetworkError {
    /// What was given.
    pub text: String,
    /// What is wrong.
    pub why: &'static str,
}

impl std::str::FromStr for Network {
    type Err = NetworkError;

    fn from_str(text: &str) -> Result<Self, NetworkError> {
        let error = |why| NetworkError {
            text: text.to_owned(),
            why,
        };
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| error("not an address"))?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| error("the prefix length is out of range"))?,
        };
        Ok(Network { addr, prefix })
    }
}

impl Network {
    /// Whether `ip` lies in the network (an IPv4 address mapped into IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
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

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Network>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client a request came from: `peer` (the TCP connection's), or, when `peer` is a
    /// trusted proxy, the first untrusted address of `X-Forwarded-For` read from the right
    /// (the leftmost when every one is trusted).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<&str> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return peer;
            };
            hops.extend(text.split(','));
        }
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// One hop of `X-Forwarded-For`: an address, or an address with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn networks_are_read_and_matched() {
        let net: Network = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "mapped IPv4");
        let one: Network = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("2001:db8::1")));
        let v6: Network = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        for bad in [
            "",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0/8",
            "example.org",
            "10.0.0.0/x",
        ] {
            let e = bad.parse::<Network>().unwrap_err();
            assert_eq!(e.text, bad);
        }
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let header = forwarded(&["198.51.100.7"]);
        // A client that sends the header itself is still itself.
        assert_eq!(
            trusted.client(ip("203.0.113.5"), &header),
            ip("203.0.113.5")
        );
        assert_eq!(trusted.client(ip("10.0.0.2"), &header), ip("198.51.100.7"));
        // Nothing trusted: the header is never read.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), &header),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        let peer = ip("10.0.0.2");
        // A forged leftmost entry is passed over: the proxy appended the real one.
        let h = forwarded(&["1.1.1.1, 198.51.100.7, 192.0.2.1"]);
        assert_eq!(trusted.client(peer, &h), ip("198.51.100.7"));
        // Several headers are one list, in order; ports and brackets are read.
        let h = forwarded(&["1.1.1.1", "[2001:db8::5]:4711, 10.9.9.9:80"]);
        assert_eq!(trusted.client(peer, &h), ip("2001:db8::5"));
        // Every hop trusted: the leftmost.
        let h = forwarded(&["10.1.1.1, 10.2.2.2"]);
        assert_eq!(trusted.client(peer, &h), ip("10.1.1.1"));
        // No header: the proxy itself.
        assert_eq!(trusted.client(peer, &HeaderMap::new()), peer);
        // An unreadable hop: the last trusted hop that handed it on.
        let h = forwarded(&["198.51.100.7, garbage, 10.3.3.3"]);
        assert_eq!(trusted.client(peer, &h), ip("10.3.3.3"));
    }
}
