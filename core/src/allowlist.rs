//! The host allowlist: which hosts the player may send requests to.

use crate::uri::Url;
use serde::{Deserialize, Serialize};

/// Hosts the player may request from: manifests, segments, steering servers, pathway
/// clones and HTTP redirects alike. The check runs on the parsed [`Url`] that is then
/// requested, never on text.
///
/// `None` inside means any host, as in every peer player. With a list, a steering
/// response naming any other host (`RELOAD-URI`, a clone's `HOST`) is refused whole,
/// a redirect to another host is not followed, and a manifest's URL on another host
/// is not requested: a compromised steering server, CDN or manifest cannot send the
/// player elsewhere.
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

    /// True when any host is allowed (the default).
    pub fn is_any(&self) -> bool {
        self.0.is_none()
    }

    /// Whether `url` may be requested: its host is allowed, or it has none (`data:`,
    /// and `file:` URLs, which only a local document can name).
    pub fn allows_url(&self, url: &Url) -> bool {
        url.host().is_none_or(|h| self.allows(h))
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

    #[test]
    fn urls_are_judged_by_their_parsed_host() {
        let a = HostAllowlist::only(["*.cdn.allowed", "::1"]);
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(a.allows_url(&url("https://edge.cdn.allowed/x")));
        assert!(a.allows_url(&url("http://[::1]:8080/x")));
        assert!(!a.allows_url(&url("https://evil.example/?cdn.allowed")));
        assert!(!a.allows_url(&url("https://evil.example#.cdn.allowed")));
        assert!(a.allows_url(&url("file:///srv/master.m3u8")), "a local file has no host");
    }
}
