//! The small backend's parser: the parts of the WHATWG URL Standard's basic URL parser
//! that a player meets, written over RFC 3986's grammar (scheme, authority, path,
//! query, fragment; reference resolution as in RFC 3986 §5.2 with the Standard's
//! dot-segment rules), producing the same serialization as the `url` crate for every
//! input the checked [`Url`](super::small::Url) admits.
//!
//! What it does not do, and refuses instead of guessing (see [`Fail`]):
//!
//! - IDNA: a host with non-ASCII text or an `xn--` label. The `url` crate would map
//!   or validate it with Unicode tables (the bulk of its size); in a browser, `fetch`
//!   resolves hosts and the player has no use for them;
//! - user information (`user:pass@`), refused by the checked type anyway;
//! - a backslash in an `http`, `https` or `file` URL (the Standard reads it as `/`);
//! - Windows drive letters in `file:` URLs (`file:///C:/x`), whose quirks (a drive
//!   letter is never popped by `..`, `C|` becomes `C:`) only a native build needs.
//!
//! One difference from the Standard is kept on purpose, to serialize as the `url`
//! crate does: `..` never removes a segment that reads as a Windows drive letter
//! (`c:`, `c|`), whatever the scheme (`https://h/c|/..` is `https://h/c|/`).
//!
//! Nothing here panics: every index is found by a search in the same string, and
//! every failure is a [`Fail`].

use std::fmt::Write as _;

/// Why the small parser refused an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// Not a URL, or a form this parser does not take (the reason, for the message).
    Syntax(&'static str),
    /// A host that needs IDNA (non-ASCII text, or an `xn--` A-label to validate).
    Idna,
    /// User information before the host.
    UserInfo,
}

/// Characters percent-encoded in a path, a query or a fragment, beyond C0 controls,
/// DEL and non-ASCII bytes (always encoded): the sets of the URL Standard as the
/// `url` crate 2.5 applies them.
#[derive(Clone, Copy)]
enum Set {
    /// An opaque path (`data:…`): controls only.
    Controls,
    /// The fragment set: space `"` `<` `>` `` ` ``.
    Fragment,
    /// The query set: space `"` `#` `<` `>`.
    Query,
    /// The query set of special schemes: also `'`.
    SpecialQuery,
    /// The path set: the fragment set, `#`, `?`, `{`, `}`.
    Path,
    /// A whole path segment from a file path: also `/`, `%` and `\`.
    #[cfg_attr(not(unix), allow(dead_code))]
    FileSegment,
}

impl Set {
    fn contains(self, b: u8) -> bool {
        if !(0x20..0x7f).contains(&b) {
            return true;
        }
        match self {
            Set::Controls => false,
            Set::Fragment => matches!(b, b' ' | b'"' | b'<' | b'>' | b'`'),
            Set::Query => matches!(b, b' ' | b'"' | b'#' | b'<' | b'>'),
            Set::SpecialQuery => matches!(b, b' ' | b'"' | b'#' | b'<' | b'>' | b'\''),
            Set::Path => matches!(b, b' ' | b'"' | b'<' | b'>' | b'`' | b'#' | b'?' | b'{' | b'}'),
            Set::FileSegment => Set::Path.contains(b) || matches!(b, b'/' | b'%' | b'\\'),
        }
    }
}

/// Appends `bytes` to `out`, percent-encoding those in `set` (upper-case hex, as the
/// Standard serializes).
fn encode_into(out: &mut String, bytes: &[u8], set: Set) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut plain_from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if set.contains(b) {
            // Runs of bytes outside the set are ASCII, hence whole characters.
            out.push_str(std::str::from_utf8(&bytes[plain_from..i]).unwrap_or(""));
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
            plain_from = i + 1;
        }
    }
    out.push_str(std::str::from_utf8(&bytes[plain_from..]).unwrap_or(""));
}

fn encode(text: &str, set: Set) -> String {
    let mut out = String::with_capacity(text.len());
    encode_into(&mut out, text.as_bytes(), set);
    out
}

/// Schemes with the Standard's special parsing (a host is required, `.`/`..` are
/// resolved, the path is never empty), and their default ports.
fn special(scheme: &str) -> Option<Option<u16>> {
    match scheme {
        "http" | "ws" => Some(Some(80)),
        "https" | "wss" => Some(Some(443)),
        "ftp" => Some(Some(21)),
        "file" => Some(None),
        _ => None,
    }
}

/// A URL's path: segments (hierarchical) or one opaque string (`data:text/plain,x`).
#[derive(Debug, Clone)]
enum Path {
    Segments(Vec<String>),
    Opaque(String),
}

/// The parts of a URL being built, each already in its serialized form.
#[derive(Debug, Clone)]
struct Parts {
    scheme: String,
    /// `Some` when the URL has an authority (`//`); `Some("")` for `file:///x`.
    host: Option<String>,
    port: Option<u16>,
    path: Path,
    query: Option<String>,
    fragment: Option<String>,
}

/// A parsed URL: its serialization and where each part lies in it.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    s: String,
    scheme_end: usize,
    /// The host's byte range, when there is an authority.
    host: Option<(usize, usize)>,
    port: Option<u16>,
    path_start: usize,
    query_start: Option<usize>,
    fragment_start: Option<usize>,
}

impl Parts {
    fn into_raw(self) -> Raw {
        let mut s = self.scheme;
        let scheme_end = s.len();
        s.push(':');
        let mut host = None;
        if let Some(h) = &self.host {
            s.push_str("//");
            let start = s.len();
            s.push_str(h);
            host = Some((start, s.len()));
            if let Some(p) = self.port {
                let _ = write!(s, ":{p}");
            }
        }
        let port = if self.host.is_some() { self.port } else { None };
        match &self.path {
            Path::Opaque(p) => s.push_str(p),
            Path::Segments(segs) => {
                // Without a host, a path starting with an empty segment would read as
                // an authority: the Standard writes `/.` before it.
                if self.host.is_none() && segs.len() > 1 && segs[0].is_empty() {
                    s.push_str("/.");
                }
            }
        }
        let path_start = match &self.path {
            Path::Opaque(p) => s.len() - p.len(),
            Path::Segments(_) => s.len(),
        };
        if let Path::Segments(segs) = &self.path {
            for seg in segs {
                s.push('/');
                s.push_str(seg);
            }
        }
        let query_start = self.query.as_ref().map(|q| {
            let at = s.len();
            s.push('?');
            s.push_str(q);
            at
        });
        let fragment_start = self.fragment.as_ref().map(|f| {
            let at = s.len();
            s.push('#');
            s.push_str(f);
            at
        });
        Raw { s, scheme_end, host, port, path_start, query_start, fragment_start }
    }
}

impl Raw {
    /// Parses `input`, absolute or relative to `base` (the URL Standard's basic URL
    /// parser, within the limits of the module docs).
    pub(crate) fn parse(input: &str, base: Option<&Raw>) -> Result<Raw, Fail> {
        let trimmed = input.trim_matches(|c: char| c <= ' ');
        // The Standard removes tabs and line breaks anywhere.
        let cleaned: String;
        let input = if trimmed.contains(['\t', '\n', '\r']) {
            cleaned = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
            cleaned.as_str()
        } else {
            trimmed
        };
        if let Some((scheme, rest)) = split_scheme(input) {
            return Self::parse_with_scheme(scheme, rest, base).map(Parts::into_raw);
        }
        let Some(base) = base else {
            return Err(Fail::Syntax("a relative URL without a base"));
        };
        if input.starts_with('#') {
            return Ok(base.with_fragment_from(input));
        }
        let base_parts = base.parts();
        if matches!(base_parts.path, Path::Opaque(_)) {
            return Err(Fail::Syntax("a relative URL against a URL without hierarchy"));
        }
        let parts = if base_parts.scheme == "file" {
            parse_file(input, Some(base_parts))?
        } else {
            parse_relative(input, base_parts)?
        };
        Ok(parts.into_raw())
    }

    fn parse_with_scheme(scheme: String, rest: &str, base: Option<&Raw>) -> Result<Parts, Fail> {
        match special(&scheme) {
            Some(None) => {
                no_backslash(rest)?;
                parse_file(rest, base.map(Raw::parts).filter(|b| b.scheme == "file"))
            }
            Some(Some(_)) => {
                no_backslash(rest)?;
                let slashes = rest.len() - rest.trim_start_matches('/').len();
                if let Some(b) = base
                    && slashes < 2
                    && b.scheme() == scheme
                {
                    // `http:x` against an http base is a relative reference.
                    return parse_relative(rest, b.parts());
                }
                authority_and_rest(scheme, &rest[slashes..])
            }
            None => {
                if let Some(after) = rest.strip_prefix("//") {
                    return authority_and_rest(scheme, after);
                }
                let (path_text, tail) = split_path(rest);
                let path = if let Some(p) = path_text.strip_prefix('/') {
                    let mut segs = Vec::new();
                    push_segments(&mut segs, p, false);
                    Path::Segments(segs)
                } else {
                    Path::Opaque(encode(path_text, Set::Controls))
                };
                let (query, fragment) = query_and_fragment(tail, false);
                Ok(Parts { scheme, host: None, port: None, path, query, fragment })
            }
        }
    }

    /// `base` (this URL) with the fragment of `input` (which starts with `#`).
    fn with_fragment_from(&self, input: &str) -> Raw {
        let mut parts = self.parts();
        parts.fragment = Some(encode(input.get(1..).unwrap_or(""), Set::Fragment));
        parts.into_raw()
    }

    /// The parts again, from the serialization (already encoded: encoding them again
    /// changes nothing, as `%` is in none of the sets).
    fn parts(&self) -> Parts {
        let path_text = &self.s
            [self.path_start..self.query_start.or(self.fragment_start).unwrap_or(self.s.len())];
        let path = if self.host.is_none() && !path_text.starts_with('/') {
            Path::Opaque(path_text.to_string())
        } else {
            Path::Segments(
                path_text
                    .strip_prefix('/')
                    .map(|p| p.split('/').map(str::to_string).collect())
                    .unwrap_or_default(),
            )
        };
        Parts {
            scheme: self.scheme().to_string(),
            host: self.host.map(|(a, b)| self.s[a..b].to_string()),
            port: self.port,
            path,
            query: self.query().map(str::to_string),
            fragment: self.fragment_start.map(|f| self.s[f + 1..].to_string()),
        }
    }

    /// The serialization.
    pub(crate) fn as_str(&self) -> &str {
        &self.s
    }

    /// The scheme, lower-case.
    pub(crate) fn scheme(&self) -> &str {
        &self.s[..self.scheme_end]
    }

    /// The host as serialized (IPv6 in brackets); `None` when there is none or it is
    /// empty, as in the `url` crate.
    pub(crate) fn host_str(&self) -> Option<&str> {
        self.host.map(|(a, b)| &self.s[a..b]).filter(|h| !h.is_empty())
    }

    /// The port, when it is not the scheme's default.
    #[cfg_attr(feature = "url-crate", allow(dead_code))]
    pub(crate) fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path (opaque or `/`-separated, percent-encoded).
    pub(crate) fn path(&self) -> &str {
        &self.s[self.path_start..self.query_start.or(self.fragment_start).unwrap_or(self.s.len())]
    }

    /// True for a URL without hierarchy (`data:…`), which cannot be a base.
    pub(crate) fn has_opaque_path(&self) -> bool {
        self.host.is_none() && !self.path().starts_with('/')
    }

    /// The query, without `?`.
    pub(crate) fn query(&self) -> Option<&str> {
        let q = self.query_start?;
        Some(&self.s[q + 1..self.fragment_start.unwrap_or(self.s.len())])
    }

    /// Replaces the query (the `url` crate's `set_query(Some(..))`: tabs and line
    /// breaks dropped, the query set percent-encoded, `#` included).
    pub(crate) fn set_query(&mut self, query: &str) {
        let special = special(self.scheme()).is_some();
        let mut parts = self.parts();
        let cleaned: String = query.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
        parts.query = Some(encode(&cleaned, if special { Set::SpecialQuery } else { Set::Query }));
        *self = parts.into_raw();
    }

    /// Replaces the host, keeping the port (the `url` crate's `set_host(Some(..))`).
    pub(crate) fn set_host(&mut self, host: &str) -> Result<(), Fail> {
        if self.has_opaque_path() {
            return Err(Fail::Syntax("this URL cannot have a host"));
        }
        let scheme = self.scheme().to_string();
        let is_special = special(&scheme).is_some();
        if host.is_empty() && is_special && scheme != "file" {
            return Err(Fail::Syntax("empty host"));
        }
        let mut host = host;
        if !(host.starts_with('[') && host.ends_with(']')) {
            match host.find(':') {
                Some(0) => return Err(Fail::Syntax("invalid domain character")),
                Some(i) => host = &host[..i],
                None => {}
            }
        }
        let parsed = if is_special { special_host(host)? } else { opaque_host(host)? };
        let mut parts = self.parts();
        // The `url` crate keeps the `/.` written before a path that starts with an
        // empty segment (`data:/.//x`) when a host is added: it becomes a segment.
        if parts.host.is_none()
            && self.s.get(self.scheme_end..self.path_start) == Some(":/.")
            && let Path::Segments(segs) = &mut parts.path
        {
            segs.insert(0, ".".into());
        }
        parts.host = Some(parsed);
        *self = parts.into_raw();
        Ok(())
    }

    /// Sets the port (the `url` crate's `set_port(Some(..))`): refused without a
    /// host and for `file:`; the scheme's default port is dropped.
    pub(crate) fn set_port(&mut self, port: u16) -> Result<(), Fail> {
        let scheme = self.scheme().to_string();
        if self.host_str().is_none() || scheme == "file" {
            return Err(Fail::Syntax("this URL cannot have a port"));
        }
        let default = special(&scheme).flatten();
        let mut parts = self.parts();
        parts.port = (default != Some(port)).then_some(port);
        *self = parts.into_raw();
        Ok(())
    }

    /// The `file:` URL of an absolute path's segments (each already a path segment),
    /// built as the `url` crate's `from_file_path` builds it: each segment
    /// percent-encoded whole, nothing resolved.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn from_file_segments<'a>(segments: impl Iterator<Item = &'a [u8]>) -> Raw {
        let segs: Vec<String> = segments
            .map(|b| {
                let mut s = String::new();
                encode_into(&mut s, b, Set::FileSegment);
                s
            })
            .collect();
        let segs = if segs.is_empty() { vec![String::new()] } else { segs };
        Parts {
            scheme: "file".into(),
            host: Some(String::new()),
            port: None,
            path: Path::Segments(segs),
            query: None,
            fragment: None,
        }
        .into_raw()
    }

    /// The path's segments, percent-decoded, for a local `file:` URL (`None` with a
    /// host or an opaque path).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn file_path_bytes(&self) -> Option<Vec<u8>> {
        if self.host_str().is_some() || self.has_opaque_path() {
            return None;
        }
        let mut bytes = Vec::new();
        for seg in self.path().strip_prefix('/')?.split('/') {
            bytes.push(b'/');
            bytes.extend(percent_decode(seg.as_bytes()));
        }
        // As the `url` crate: a path ending in a drive letter gets its slash.
        if let [.., a, b] = bytes.as_slice()
            && bytes.len() > 2
            && a.is_ascii_alphabetic()
            && matches!(b, b':' | b'|')
        {
            bytes.push(b'/');
        }
        Some(bytes)
    }
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// `scheme:` at the start of `input` → (scheme lower-cased, the rest).
fn split_scheme(input: &str) -> Option<(String, &str)> {
    let colon = input.find(':')?;
    let scheme = &input[..colon];
    let mut chars = scheme.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then(|| (scheme.to_ascii_lowercase(), &input[colon + 1..]))
}

/// The Standard reads `\` as `/` in special URLs; this parser refuses it instead
/// (the checked type refuses it before), so that it never guesses.
fn no_backslash(rest: &str) -> Result<(), Fail> {
    if rest.contains('\\') {
        return Err(Fail::Syntax("a backslash in a special URL"));
    }
    Ok(())
}

/// Splits `text` where the path ends: at the first `?` or `#`.
fn split_path(text: &str) -> (&str, &str) {
    let end = text.find(['?', '#']).unwrap_or(text.len());
    text.split_at(end)
}

/// `tail` is empty or starts with `?` or `#`: → (query, fragment), encoded.
fn query_and_fragment(tail: &str, special: bool) -> (Option<String>, Option<String>) {
    let (query_text, fragment_text) = match tail.find('#') {
        Some(h) => (&tail[..h], Some(&tail[h + 1..])),
        None => (tail, None),
    };
    let query = query_text
        .strip_prefix('?')
        .map(|q| encode(q, if special { Set::SpecialQuery } else { Set::Query }));
    (query, fragment_text.map(|f| encode(f, Set::Fragment)))
}

fn is_single_dot(seg: &str) -> bool {
    seg == "." || seg.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(seg: &str) -> bool {
    let lower = seg.to_ascii_lowercase();
    matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e")
}

/// A Windows drive letter as a path segment (`C:`, `c|`).
fn is_drive_letter(seg: &str) -> bool {
    let b = seg.as_bytes();
    b.len() == 2 && b[0].is_ascii_alphabetic() && matches!(b[1], b':' | b'|')
}

/// Appends the segments of `text` (a path without its leading `/`, ending before any
/// query) to `segs`, resolving `.` and `..` as the Standard does: `..` drops the last
/// segment, and a trailing `.` or `..` leaves an empty last segment (a directory).
fn push_segments(segs: &mut Vec<String>, text: &str, file: bool) {
    let mut pieces = text.split('/').peekable();
    while let Some(seg) = pieces.next() {
        let last = pieces.peek().is_none();
        if is_double_dot(seg) {
            // As the `url` crate 2.5 does in every scheme (the Standard only in
            // `file:`), `..` leaves a segment that reads as a drive letter.
            if !segs.last().is_some_and(|s| is_drive_letter(s)) {
                segs.pop();
            }
            if last {
                segs.push(String::new());
            }
        } else if is_single_dot(seg) {
            if last {
                segs.push(String::new());
            }
        } else {
            segs.push(encode(seg, Set::Path));
        }
    }
    if file {
        trim_file_path(segs);
    }
}

/// Refuses the drive-letter forms of `file:` paths (see the module docs): any segment
/// of the path that reads as one, since `..` can bring it first.
fn no_drive_letter(text: &str) -> Result<(), Fail> {
    let (path_text, _) = split_path(text);
    if path_text.split('/').any(is_drive_letter) {
        return Err(Fail::Syntax("a Windows drive letter in a file: URL"));
    }
    Ok(())
}

/// A file URL's path never starts with an empty segment (`file:////x` is
/// `file:///x`): the Standard drops them, keeping one.
fn trim_file_path(segs: &mut Vec<String>) {
    let empties = segs.iter().take_while(|s| s.is_empty()).count();
    segs.drain(..empties.min(segs.len().saturating_sub(1)));
}

/// The authority after `//` (for a special scheme, after any number of slashes), then
/// the path, query and fragment.
fn authority_and_rest(scheme: String, after: &str) -> Result<Parts, Fail> {
    let default_port = special(&scheme).flatten();
    let is_special = special(&scheme).is_some();
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    if authority.contains('@') {
        return Err(Fail::UserInfo);
    }
    // The host ends at a `:` outside brackets.
    let mut in_brackets = false;
    let mut host_end = authority.len();
    for (i, c) in authority.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => {
                host_end = i;
                break;
            }
            _ => {}
        }
    }
    let host_text = &authority[..host_end];
    // A port ends at a `\` too, even where `\` is no separator (non-special schemes:
    // `data://h:\` has the path `/\`).
    let mut rest_start = end;
    let port_text = authority.get(host_end + 1..).map(|p| {
        let stop = p.find('\\').unwrap_or(p.len());
        rest_start = host_end + 1 + stop;
        &p[..stop]
    });
    let host = if is_special {
        if host_text.is_empty() {
            return Err(Fail::Syntax("empty host"));
        }
        special_host(host_text)?
    } else {
        if host_text.is_empty() && port_text.is_some() {
            return Err(Fail::Syntax("a port without a host"));
        }
        opaque_host(host_text)?
    };
    let port = match port_text {
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Fail::Syntax("invalid port number"));
            }
            // Leading zeros are allowed (`:0080`); the value must fit 16 bits.
            let digits = p.trim_start_matches('0');
            let n: u16 = if digits.is_empty() {
                0
            } else if digits.len() > 5 {
                return Err(Fail::Syntax("invalid port number"));
            } else {
                digits.parse().map_err(|_| Fail::Syntax("invalid port number"))?
            };
            (Some(n) != default_port).then_some(n)
        }
    };
    let rest = &after[rest_start..];
    let (path_text, tail) = split_path(rest);
    // A special URL always has a path; a non-special one only when something follows
    // the authority before any query.
    let path = if is_special || !path_text.is_empty() {
        let mut segs = Vec::new();
        push_segments(&mut segs, path_text.strip_prefix('/').unwrap_or(path_text), false);
        Path::Segments(segs)
    } else {
        Path::Segments(Vec::new())
    };
    let (query, fragment) = query_and_fragment(tail, is_special);
    Ok(Parts { scheme, host: Some(host), port, path, query, fragment })
}

/// A relative reference against a hierarchical, non-`file` base (RFC 3986 §5.2.2
/// with the Standard's path rules).
fn parse_relative(input: &str, base: Parts) -> Result<Parts, Fail> {
    let is_special = special(&base.scheme).is_some();
    if is_special {
        no_backslash(input)?;
    }
    let mut out = base;
    out.fragment = None;
    if input.is_empty() {
        return Ok(out);
    }
    if input.starts_with('?') || input.starts_with('#') {
        let (query, fragment) = query_and_fragment(input, is_special);
        if input.starts_with('?') {
            out.query = query;
        }
        out.fragment = fragment;
        return Ok(out);
    }
    if let Some(after) = input.strip_prefix("//") {
        return authority_and_rest(out.scheme, after);
    }
    let (path_text, tail) = split_path(input);
    let mut segs = match out.path {
        Path::Segments(segs) => segs,
        Path::Opaque(_) => {
            return Err(Fail::Syntax("a relative URL against a URL without hierarchy"));
        }
    };
    if let Some(abs) = path_text.strip_prefix('/') {
        segs.clear();
        push_segments(&mut segs, abs, false);
    } else {
        segs.pop();
        push_segments(&mut segs, path_text, false);
    }
    let (query, fragment) = query_and_fragment(tail, is_special);
    out.path = Path::Segments(segs);
    out.query = query;
    out.fragment = fragment;
    Ok(out)
}

/// The `file:` state of the Standard: `input` is what follows `file:` (or a relative
/// reference against a `file:` base).
fn parse_file(input: &str, base: Option<Parts>) -> Result<Parts, Fail> {
    no_backslash(input)?;
    let file = |host: String, segs: Vec<String>, tail: &str| {
        let (query, fragment) = query_and_fragment(tail, true);
        Parts {
            scheme: "file".into(),
            host: Some(host),
            port: None,
            path: Path::Segments(segs),
            query,
            fragment,
        }
    };
    if let Some(after) = input.strip_prefix("//") {
        // A host, up to the path.
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let host_text = &after[..end];
        if is_drive_letter(host_text) {
            return Err(Fail::Syntax("a Windows drive letter in a file: URL"));
        }
        let host = if host_text.is_empty() {
            String::new()
        } else {
            let h = special_host(host_text)?;
            if h == "localhost" { String::new() } else { h }
        };
        let rest = &after[end..];
        no_drive_letter(rest)?;
        let (path_text, tail) = split_path(rest);
        let mut segs = Vec::new();
        push_segments(&mut segs, path_text.strip_prefix('/').unwrap_or(path_text), true);
        return Ok(file(host, segs, tail));
    }
    no_drive_letter(input)?;
    if let Some(b) = &base
        && let Path::Segments(base_segs) = &b.path
        && base_segs.first().is_some_and(|s| is_drive_letter(s))
    {
        return Err(Fail::Syntax("a Windows drive letter in a file: URL"));
    }
    if let Some(abs) = input.strip_prefix('/') {
        let host = base.and_then(|b| b.host).unwrap_or_default();
        let (path_text, tail) = split_path(abs);
        let mut segs = Vec::new();
        push_segments(&mut segs, path_text, true);
        return Ok(file(host, segs, tail));
    }
    let Some(base) = base else {
        let (path_text, tail) = split_path(input);
        let mut segs = Vec::new();
        push_segments(&mut segs, path_text, true);
        return Ok(file(String::new(), segs, tail));
    };
    parse_relative(input, base).map(|mut p| {
        if let Path::Segments(segs) = &mut p.path {
            trim_file_path(segs);
        }
        p
    })
}

/// A host of a special scheme, serialized: an IPv6 or IPv4 address in its canonical
/// form, or an ASCII domain lower-cased.
fn special_host(text: &str) -> Result<String, Fail> {
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(Fail::Syntax("invalid IPv6 address"))?;
        return Ok(format!("[{}]", write_ipv6(&parse_ipv6(inner)?)));
    }
    // The Standard decodes percent-escapes in a host first (the checked type then
    // sees the rewrite and refuses it).
    let decoded = percent_decode(text.as_bytes());
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return Err(Fail::Idna);
    };
    if !text.is_ascii() {
        return Err(Fail::Idna);
    }
    if text.bytes().any(|b| {
        b <= b' '
            || b == 0x7f
            || matches!(
                b,
                b'#' | b'%'
                    | b'/'
                    | b':'
                    | b'<'
                    | b'>'
                    | b'?'
                    | b'@'
                    | b'['
                    | b'\\'
                    | b']'
                    | b'^'
                    | b'|'
            )
    }) {
        return Err(Fail::Syntax("invalid domain character"));
    }
    let domain = text.to_ascii_lowercase();
    if domain.split('.').any(|label| label.starts_with("xn--")) {
        return Err(Fail::Idna);
    }
    if domain.is_empty() {
        return Err(Fail::Syntax("empty host"));
    }
    if ends_in_a_number(&domain) {
        let [a, b, c, d] = parse_ipv4(&domain)?.to_be_bytes();
        return Ok(format!("{a}.{b}.{c}.{d}"));
    }
    Ok(domain)
}

/// A host of a non-special scheme (`data://x/…`): kept as written, controls and
/// non-ASCII percent-encoded, IPv6 in brackets canonicalised.
fn opaque_host(text: &str) -> Result<String, Fail> {
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(Fail::Syntax("invalid IPv6 address"))?;
        return Ok(format!("[{}]", write_ipv6(&parse_ipv6(inner)?)));
    }
    if text.chars().any(|c| {
        matches!(
            c,
            '\0' | '\t'
                | '\n'
                | '\r'
                | ' '
                | '#'
                | '/'
                | ':'
                | '<'
                | '>'
                | '?'
                | '@'
                | '['
                | '\\'
                | ']'
                | '^'
                | '|'
        )
    }) {
        return Err(Fail::Syntax("invalid host character"));
    }
    Ok(encode(text, Set::Controls))
}

/// The Standard's test for a host to be read as an IPv4 address: its last label
/// (ignoring one trailing dot) is decimal digits or a `0x` hexadecimal number.
fn ends_in_a_number(domain: &str) -> bool {
    let mut labels = domain.rsplit('.');
    let mut last = labels.next().unwrap_or("");
    if last.is_empty() {
        match labels.next() {
            Some(l) => last = l,
            None => return false,
        }
    }
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    ipv4_number(last).is_ok()
}

/// One part of an IPv4 address: decimal, octal (leading `0`) or hex (`0x`);
/// `Ok(None)` when it overflows 32 bits.
fn ipv4_number(part: &str) -> Result<Option<u32>, ()> {
    if part.is_empty() {
        return Err(());
    }
    let (digits, radix) =
        if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (h, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        return Ok(Some(0));
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(());
    }
    Ok(u32::from_str_radix(digits, radix).ok())
}

fn parse_ipv4(domain: &str) -> Result<u32, Fail> {
    let bad = Fail::Syntax("invalid IPv4 address");
    let mut parts: Vec<&str> = domain.split('.').collect();
    if parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.is_empty() || parts.len() > 4 {
        return Err(bad);
    }
    let mut numbers = Vec::with_capacity(4);
    for p in parts {
        numbers.push(ipv4_number(p).ok().flatten().ok_or(bad)?);
    }
    let last = numbers.pop().ok_or(bad)?;
    // The last number fills the bytes the others leave.
    if u64::from(last) >= 1u64 << (8 * (4 - numbers.len() as u32)) {
        return Err(bad);
    }
    let mut addr = u64::from(last);
    for (i, n) in numbers.iter().enumerate() {
        if *n > 255 {
            return Err(bad);
        }
        addr += u64::from(*n) << (8 * (3 - i as u32));
    }
    u32::try_from(addr).map_err(|_| bad)
}

/// An IPv6 address (RFC 4291 §2.2 text forms: hex pieces, one `::`, a dotted IPv4
/// tail) → its eight pieces.
fn parse_ipv6(text: &str) -> Result<[u16; 8], Fail> {
    let bad = Fail::Syntax("invalid IPv6 address");
    let (head, tail) = match text.find("::") {
        Some(i) => (&text[..i], Some(&text[i + 2..])),
        None => (text, None),
    };
    let pieces = |s: &str, allow_v4: bool| -> Result<Vec<u16>, Fail> {
        let mut out = Vec::new();
        if s.is_empty() {
            return Ok(out);
        }
        let fields: Vec<&str> = s.split(':').collect();
        for (i, f) in fields.iter().enumerate() {
            if allow_v4 && i + 1 == fields.len() && f.contains('.') {
                let v4 = ipv6_v4_tail(f).ok_or(bad)?;
                out.push((v4 >> 16) as u16);
                out.push(v4 as u16);
            } else {
                if f.is_empty() || f.len() > 4 || !f.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad);
                }
                out.push(u16::from_str_radix(f, 16).map_err(|_| bad)?);
            }
        }
        Ok(out)
    };
    let mut addr = [0u16; 8];
    match tail {
        None => {
            let p = pieces(head, true)?;
            if p.len() != 8 {
                return Err(bad);
            }
            addr.copy_from_slice(&p);
        }
        Some(tail) => {
            if tail.contains("::") {
                return Err(bad);
            }
            let h = pieces(head, false)?;
            let t = pieces(tail, true)?;
            if h.len() + t.len() > 7 {
                return Err(bad);
            }
            addr[..h.len()].copy_from_slice(&h);
            addr[8 - t.len()..].copy_from_slice(&t);
        }
    }
    Ok(addr)
}

/// The dotted IPv4 tail of an IPv6 address: four decimal parts, no leading zeros.
fn ipv6_v4_tail(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut v = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        if n > 255 {
            return None;
        }
        v = (v << 8) | n;
    }
    Some(v)
}

/// The canonical text of an IPv6 address (RFC 5952): lower-case hex, the longest run
/// of two or more zero pieces (the first of equals) written `::`.
fn write_ipv6(addr: &[u16; 8]) -> String {
    let (mut best, mut best_len) = (8, 0);
    let mut i = 0;
    while i < 8 {
        if addr[i] == 0 {
            let start = i;
            while i < 8 && addr[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = 8;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        let _ = write!(out, "{:x}", addr[i]);
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out
}

// Equality, hashing and order are the serialization's, as for `url::Url`.
impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        self.s == other.s
    }
}

impl Eq for Raw {}

impl std::hash::Hash for Raw {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.s.hash(state);
    }
}

impl PartialOrd for Raw {
    fn partial_cmp(&self, other: &Raw) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Raw {
    fn cmp(&self, other: &Raw) -> std::cmp::Ordering {
        self.s.cmp(&other.s)
    }
}
