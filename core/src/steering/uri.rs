//! The one URI rule steering adds on top of [`crate::uri`]: what a clone's `HOST`
//! value may be.

use crate::uri::Url;

/// Validates a clone's `HOST` value: a host name, IPv4 or bracketed IPv6 address,
/// optionally with a port; nothing that could smuggle a path, user info or query, and
/// nothing the URL parser would rewrite into another host.
pub fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("HOST is empty".into());
    }
    if host.len() > 255 {
        return Err("HOST is longer than 255 characters".into());
    }
    let ok = host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
    if !ok {
        return Err("HOST may contain only a host name and an optional port".into());
    }
    // The same parser that will apply it: a host it rewrites (`0x7f.1`) is refused.
    let probe = Url::parse("https://host.invalid/").map_err(|e| e.to_string())?;
    probe.with_host(host).map(|_| ()).map_err(|e| e.to_string())
}

/// Strips a port from a `HOST` value (`cdn.example:8443` → `cdn.example`).
pub fn host_without_port(host: &str) -> String {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    h.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_cannot_smuggle_paths() {
        assert!(check_host("cdn-b.example:8080").is_ok());
        assert!(check_host("[::1]:8080").is_ok());
        assert!(check_host("evil.example/path").is_err());
        assert!(check_host("user@evil.example").is_err());
        assert!(check_host("evil.example\\x").is_err());
        assert!(check_host("0x7f.1").is_err(), "rewritten to 127.0.0.1 by the parser");
        assert!(check_host("").is_err());
        assert_eq!(host_without_port("CDN.example:8443"), "cdn.example");
        assert_eq!(host_without_port("[::1]:80"), "::1");
    }
}
