//! The URI rules steering adds on top of [`crate::uri`]: strict resolution (absolute
//! bases only, nothing against `data:`), host extraction and replacement, and
//! query-parameter merging for pathway clones and steering requests.

use super::SteeringError;
use crate::uri::{Parts, join, split};

fn invalid(uri: &str, why: &'static str) -> SteeringError {
    SteeringError::InvalidUri { uri: uri.to_string(), why }
}

fn check_chars(uri: &str) -> Result<(), SteeringError> {
    if uri.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid(uri, "contains whitespace or control characters"));
    }
    Ok(())
}

/// True if `uri` has a scheme (is absolute).
pub fn is_absolute(uri: &str) -> bool {
    split(uri).scheme.is_some()
}

/// Resolves `reference` against the absolute `base` (RFC 3986 §5.2).
///
/// A relative reference against a `data:` base is an error: the steering spec says
/// so, since a data URI has no hierarchy to resolve against.
pub fn resolve(base: &str, reference: &str) -> Result<String, SteeringError> {
    check_chars(reference)?;
    if split(reference).scheme.is_none() {
        match split(base).scheme {
            None => return Err(invalid(base, "base URI is not absolute")),
            Some(s) if s.eq_ignore_ascii_case("data") => {
                return Err(invalid(
                    reference,
                    "a relative URI cannot be resolved against a data: URI",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(crate::uri::resolve(base, reference))
}

/// The host of an absolute URI, lower-cased, without user info or port.
pub fn host(uri: &str) -> Option<String> {
    let authority = split(uri).authority?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(rest) = hostport.strip_prefix('[') {
        rest.split_once(']').map(|(h, _)| h)?
    } else {
        hostport.split(':').next().unwrap_or(hostport)
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Validates a clone's `HOST` value: a host name, IPv4 or bracketed IPv6 address,
/// optionally with a port; nothing that could smuggle a path, user info or query.
pub fn check_host(host: &str) -> Result<(), &'static str> {
    if host.is_empty() {
        return Err("HOST is empty");
    }
    if host.len() > 255 {
        return Err("HOST is longer than 255 characters");
    }
    let ok = host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
    if !ok {
        return Err("HOST may contain only a host name and an optional port");
    }
    Ok(())
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

/// Replaces the host of an absolute URI by `new_host`; the original port is kept
/// unless `new_host` carries its own (hls.js once lost it, issue #7655).
pub fn replace_host(uri: &str, new_host: &str) -> Result<String, SteeringError> {
    let p = split(uri);
    let Some(authority) = p.authority else {
        return Err(invalid(uri, "has no host to replace"));
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let port = if hostport.starts_with('[') {
        hostport.split_once("]:").map(|(_, port)| port)
    } else {
        hostport.split_once(':').map(|(_, port)| port)
    };
    let new_has_port =
        if new_host.starts_with('[') { new_host.contains("]:") } else { new_host.contains(':') };
    let mut auth = String::new();
    if let Some(u) = userinfo {
        auth.push_str(u);
        auth.push('@');
    }
    auth.push_str(new_host);
    if let (false, Some(port)) = (new_has_port, port) {
        auth.push(':');
        auth.push_str(port);
    }
    let parts = Parts { authority: Some(&auth), ..p };
    Ok(join(parts.scheme, parts.authority, p.path, p.query, p.fragment))
}

/// Sets query parameters on `uri`: a parameter of the same name is replaced in
/// place, others are appended in the order given. Values are used verbatim: the
/// steering server sends them already percent-encoded and re-encoding would break
/// signed tokens (hls.js issue #7969).
pub fn set_query_params(uri: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return uri.to_string();
    }
    let p = split(uri);
    let mut pairs: Vec<(String, Option<String>)> = p
        .query
        .filter(|q| !q.is_empty())
        .map(|q| {
            q.split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (kv.to_string(), None),
                })
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in params {
        let mut found = false;
        for pair in pairs.iter_mut().filter(|(name, _)| name == k) {
            pair.1 = Some(v.clone());
            found = true;
        }
        if !found {
            pairs.push((k.clone(), Some(v.clone())));
        }
    }
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k,
        })
        .collect();
    join(p.scheme, p.authority, p.path, Some(&query.join("&")), p.fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_resolution_checks_then_delegates() {
        // RFC 3986 resolution itself is tested in `crate::uri`; steering adds the
        // absolute-base and no-whitespace rules.
        assert_eq!(resolve("http://a/b/c/d;p?q", "../g").unwrap(), "http://a/b/g");
        assert!(resolve("/relative/base", "g").is_err());
        assert!(resolve("https://a.example/x", "has space").is_err());
    }

    #[test]
    fn relative_against_data_uri_is_an_error() {
        assert!(resolve("data:application/json,{}", "steer.json").is_err());
        assert_eq!(
            resolve("data:application/json,{}", "https://s.example/x").unwrap(),
            "https://s.example/x"
        );
    }

    #[test]
    fn extracts_hosts() {
        assert_eq!(host("https://User@CDN.Example:8443/a").as_deref(), Some("cdn.example"));
        assert_eq!(host("http://[::1]:80/a").as_deref(), Some("::1"));
        assert_eq!(host("/relative"), None);
    }

    #[test]
    fn replaces_host_keeping_port_path_and_query() {
        assert_eq!(
            replace_host("https://a.example:8443/v/seg.m4s?t=1", "b.example").unwrap(),
            "https://b.example:8443/v/seg.m4s?t=1"
        );
        assert_eq!(
            replace_host("https://a.example:8443/x", "b.example:9000").unwrap(),
            "https://b.example:9000/x"
        );
        assert!(replace_host("/no/host", "b.example").is_err());
    }

    #[test]
    fn merges_query_params_verbatim() {
        let p =
            vec![("token".to_string(), "a%2Fb~=".to_string()), ("x".to_string(), "2".to_string())];
        assert_eq!(set_query_params("https://h/p?x=1&y", &p), "https://h/p?x=2&y&token=a%2Fb~=");
        assert_eq!(set_query_params("https://h/p#f", &p[..1]), "https://h/p?token=a%2Fb~=#f");
    }

    #[test]
    fn host_values_cannot_smuggle_paths() {
        assert!(check_host("cdn-b.example:8080").is_ok());
        assert!(check_host("evil.example/path").is_err());
        assert!(check_host("user@evil.example").is_err());
        assert!(check_host("").is_err());
    }
}
