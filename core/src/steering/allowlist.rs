//! The host allowlist: which hosts a steering response may send the player to.

use serde::{Deserialize, Serialize};

/// Hosts a steering response may name in `RELOAD-URI` or a clone's `HOST`.
///
/// `None` inside means any host: steering responses are trusted, as in every peer
/// player. With a list, a response naming any other host is refused whole, since a
/// compromised steering server must not be able to redirect media or polling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostAllowlist(Option<Vec<String>>);

impl HostAllowlist {
    /// Any host is allowed.
    pub fn any() -> Self {
        Self(None)
    }

    /// Only these hosts: exact names (`cdn.example`) or wildcards (`*.example.com`,
    /// which match sub-domains but not `example.com` itself). Case-insensitive.
    pub fn only<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(Some(hosts.into_iter().map(|h| h.into().to_ascii_lowercase()).collect()))
    }

    /// Whether requests to `host` (no port) are allowed.
    pub fn allows(&self, host: &str) -> bool {
        let Some(list) = &self.0 else { return true };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        list.iter().any(|pattern| match pattern.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix)
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            }
            None => *pattern == host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard_matching() {
        let a = HostAllowlist::only(["steer.example", "*.nflxvideo.net"]);
        assert!(a.allows("steer.example"));
        assert!(a.allows("STEER.example."));
        assert!(a.allows("ipv4-c001.1.nflxvideo.net"));
        assert!(!a.allows("nflxvideo.net"));
        assert!(!a.allows("evilnflxvideo.net"));
        assert!(!a.allows("steer.example.evil.com"));
        assert!(HostAllowlist::any().allows("anything.example"));
        assert!(!HostAllowlist::only(Vec::<String>::new()).allows("a.example"));
    }
}
