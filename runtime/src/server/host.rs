//! The admin listener's `Host` check, against DNS rebinding.
//!
//! A web page whose name an attacker re-points at 127.0.0.1 is same-origin with the node
//! as far as the browser knows, so `Origin` and `Sec-Fetch-Site` let it through; only the
//! `Host` it sends still carries the attacker's name. The admin API therefore answers only
//! to the addresses it listens on, `localhost` when it listens on loopback, and the names an
//! operator lists in `node.admin_hosts`.

use std::net::{IpAddr, SocketAddr};

/// The hosts the admin API answers to.
#[derive(Debug, Clone)]
pub(crate) struct AdminHosts {
    listen: IpAddr,
    /// Lower case, without a trailing dot.
    names: Vec<String>,
}

impl AdminHosts {
    pub(crate) fn new(listen: SocketAddr, names: &[String]) -> Self {
        AdminHosts {
            listen: listen.ip(),
            names: names.iter().map(|n| normalise(n)).collect(),
        }
    }

    /// Whether a request whose `Host` header (or URI authority) is `host` may reach the
    /// admin API. The port is not compared: rebinding lives in the name, and a reverse
    /// proxy in front of the node may well answer on another port.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let Some(name) = host_part(host) else {
            return false;
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            // An address literal cannot be rebound; it must still be one the node listens on.
            return ip == self.listen
                || self.listen.is_unspecified()
                || (ip.is_loopback() && self.listen.is_loopback());
        }
        let name = normalise(name);
        if name == "localhost" && (self.listen.is_loopback() || self.listen.is_unspecified()) {
            return true;
        }
        self.names.contains(&name)
    }
}

/// `host[:port]` or `[v6][:port]` -> the host, brackets off; `None` when malformed.
fn host_part(host: &str) -> Option<&str> {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return (after.is_empty() || after.strip_prefix(':').is_some_and(is_port))
            .then_some(inside);
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return None,
        None => host,
    };
    (!name.is_empty() && !name.contains(['/', '@', ' '])).then_some(name)
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(listen: &str, names: &[&str]) -> AdminHosts {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        AdminHosts::new(listen.parse().expect("addr"), &names)
    }

    #[test]
    fn loopback_answers_to_its_address_and_localhost_only() {
        let h = hosts("127.0.0.1:7700", &[]);
        for ok in [
            "127.0.0.1:7700",
            "127.0.0.1",
            "localhost:7700",
            "LOCALHOST.",
            "[::1]:7700",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:7700",
            "evil.example",
            "localhost.evil.example",
            "10.0.0.5:7700",
            "",
            "127.0.0.1:77a",
            "user@127.0.0.1",
            "[::1",
        ] {
            assert!(!h.allows(refused), "{refused}");
        }
    }

    #[test]
    fn configured_names_are_added() {
        let h = hosts("10.0.0.5:7700", &["Twinsync.Example.com"]);
        assert!(h.allows("twinsync.example.com"));
        assert!(h.allows("twinsync.example.com.:443"));
        assert!(h.allows("10.0.0.5:7700"));
        assert!(!h.allows("localhost:7700"), "not listening on loopback");
        assert!(!h.allows("127.0.0.1:7700"));
        assert!(!h.allows("other.example.com"));
    }

    #[test]
    fn a_wildcard_listener_answers_to_address_literals_not_to_names() {
        let h = hosts("0.0.0.0:7700", &[]);
        assert!(h.allows("192.168.1.20:7700"));
        assert!(h.allows("localhost"));
        assert!(!h.allows("rebound.evil.example:7700"));
    }
}
