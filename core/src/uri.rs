//! URI arithmetic shared by manifests and steering: reference resolution (RFC 3986
//! §5.2) and the component split that host replacement and query merging build on.
//!
//! Kept in-house rather than pulling a URL crate, because the core must stay small for
//! wasm32 and needs only these operations. Manifests are also loaded from local paths
//! (tests, `streamsteer inspect file.m3u8`), so a base without a scheme is treated as a
//! bare path and merged the same way; steering adds its stricter checks on top.

/// The five components of a URI reference (RFC 3986 appendix B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub(crate) scheme: Option<&'a str>,
    pub(crate) authority: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) fragment: Option<&'a str>,
}

/// Splits a URI reference into its components.
pub(crate) fn split(s: &str) -> Parts<'_> {
    let (rest, fragment) = match s.find('#') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (rest, query) = match rest.find('?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (scheme, rest) = match scheme_len(rest) {
        Some(n) => (Some(&rest[..n]), &rest[n + 1..]),
        None => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    Parts { scheme, authority, path, query, fragment }
}

/// Length of a URI scheme at the start of `s` (before its `:`). A single letter is
/// not taken as a scheme, so Windows drive letters stay paths.
fn scheme_len(s: &str) -> Option<usize> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && colon > 1).then_some(colon)
}

/// True when `reference` carries its own scheme (`https:`, `data:`…).
pub fn is_absolute(reference: &str) -> bool {
    scheme_len(reference.trim()).is_some()
}

/// Resolves `reference` against `base` (RFC 3986 §5.2.2). Whitespace around the
/// reference is ignored; an empty reference gives the base without its fragment.
pub fn resolve(base: &str, reference: &str) -> String {
    let reference = reference.trim();
    let r = split(reference);
    let b = split(base.trim());
    if r.scheme.is_some() {
        return join(r.scheme, r.authority, &remove_dot_segments(r.path), r.query, r.fragment);
    }
    // Nothing resolves against an opaque `data:` (or other non-hierarchical) base.
    if b.scheme.is_some() && b.authority.is_none() && !b.path.starts_with('/') {
        return reference.to_string();
    }
    let (authority, path, query) = if r.authority.is_some() {
        (r.authority, remove_dot_segments(r.path), r.query)
    } else if r.path.is_empty() {
        (b.authority, b.path.to_string(), r.query.or(b.query))
    } else if r.path.starts_with('/') {
        (b.authority, remove_dot_segments(r.path), r.query)
    } else {
        let merged = if b.authority.is_some() && b.path.is_empty() {
            format!("/{}", r.path)
        } else {
            match b.path.rfind('/') {
                Some(i) => format!("{}{}", &b.path[..=i], r.path),
                None => r.path.to_string(),
            }
        };
        (b.authority, remove_dot_segments(&merged), r.query)
    };
    join(b.scheme, authority, &path, query, r.fragment)
}

/// Reassembles components into a URI reference.
pub(crate) fn join(
    scheme: Option<&str>,
    authority: Option<&str>,
    path: &str,
    query: Option<&str>,
    fragment: Option<&str>,
) -> String {
    let mut out = String::with_capacity(path.len() + 32);
    if let Some(s) = scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Removes `.` and `..` segments. Relative paths keep leading `..` segments that
/// cannot be cancelled; absolute paths never climb above the root.
fn remove_dot_segments(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                match out.last() {
                    Some(&top)
                        if top != ".." && !(absolute && top.is_empty() && out.len() == 1) =>
                    {
                        out.pop();
                    }
                    _ if !absolute => out.push(".."),
                    _ => {}
                }
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut joined = out.join("/");
    if absolute && !joined.starts_with('/') {
        joined.insert(0, '/');
    }
    if trailing_slash && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_normal_examples() {
        let base = "http://a/b/c/d;p?q";
        let cases = [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("https://cdn.example/x.m4s", "https://cdn.example/x.m4s"),
        ];
        for (r, want) in cases {
            assert_eq!(resolve(base, r), want, "reference {r:?}");
        }
    }

    #[test]
    fn paths_and_opaque_bases() {
        assert_eq!(resolve("/srv/hls/master.m3u8", "720p/index.m3u8"), "/srv/hls/720p/index.m3u8");
        assert_eq!(resolve("tests/a/master.m3u8", "../b/x.ts"), "tests/b/x.ts");
        assert_eq!(resolve("master.m3u8", "../x.ts"), "../x.ts");
        assert_eq!(resolve("data:application/json,{}", "x.json"), "x.json");
        assert_eq!(resolve("http://h/dir/", " seg.ts \t"), "http://h/dir/seg.ts");
        assert!(!is_absolute("C:\\video\\a.m3u8"));
        assert!(is_absolute("https://x/y"));
    }
}
