//! Text helpers every layer may use: percent-encoding a URL piece and an error's whole cause chain.
//!
//! It knows no project type, so `jira` and `peer` can share it without knowing each other.

/// Percent-encodes one path segment or query value (unreserved characters pass as they are).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error with its causes, `outer: cause: root`: reqwest's own message hides the TLS or policy reason.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_bytes_only() {
        assert_eq!(percent_encode("accountid:5b/1 x"), "accountid%3A5b%2F1%20x");
        assert_eq!(percent_encode("ED-1_a.b~c"), "ED-1_a.b~c");
    }

    #[test]
    fn chain_joins_every_cause() {
        let inner = std::io::Error::other("root");
        let outer = std::io::Error::other(inner);
        assert_eq!(error_chain(&outer), "root");
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        assert_eq!(
            error_chain(&Outer(std::io::Error::other("root"))),
            "outer: root"
        );
    }
}
