//! URLs: every URL the engine resolves, checks and requests is a [`Url`], made by one
//! WHATWG-URL parser. The allowlist decision, the pathway rewrite and the request all
//! use the same parsed value, so the host that is checked is the host that is
//! requested.
//!
//! Two backends give [`Url`] the same API, checks and serializations:
//!
//! - with the `url-crate` feature (default; implied by `dash`), the `url` crate: the
//!   parser reqwest requests with natively, which adds `Url::as_url`, `Url::into_url`
//!   and `Url::from_fetched` for native HTTP clients;
//! - without it (the browser build, `--no-default-features --features
//!   hls,dash-lite`), [`small::Url`]: this crate's own parser, without the `url`
//!   crate's IDNA tables. It refuses hosts that need IDNA ([`UrlError::Idna`]) and
//!   Windows drive letters in `file:` URLs; see [`small`] for what it covers.
//!
//! [`small::Url`] is compiled in every build, so that `tests/uri_backends_agree.rs`
//! compares both on the same inputs.
//!
//! Construction is the only place where input is judged, and it is strict:
//!
//! - characters the URL Standard would silently rewrite or drop are refused, not
//!   normalised: `\` (a path separator for http(s), so `https://evil.example\@cdn/`
//!   is a request to `evil.example`), tab, CR and LF (removed anywhere), other control
//!   characters, space, `"`, `<`, `>`, `` ` ``, `{`, `}`, `'` in a query, non-ASCII
//!   text, and a host the parser would rewrite (percent-encoded, IDN, IPv4 shorthand
//!   such as `0x7f.1`). Whoever else reads the same text — a log, a CDN, a person
//!   writing an allowlist — then sees exactly the host that is requested;
//! - user information (`user:pass@`) is refused: it disguises the host
//!   (`https://cdn.example@evil.example/`) and has no place in streaming;
//! - only `http` and `https` are fetched; `file` only relative to a document that was
//!   itself local (a remote document never reaches the local file system); `data`
//!   only where a specification allows it (the HLS steering `SERVER-URI`).

use thiserror::Error;

/// Longest URL accepted, in bytes. Signed CDN URLs run to a few KB; nothing needs more.
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL parser rejects it (or it is relative where an absolute URL is needed).
    #[error("{uri:?} is not a valid URL: {reason}")]
    Syntax {
        /// The text as given.
        uri: String,
        /// The parser's reason.
        reason: String,
    },
    /// It holds a character the URL Standard would rewrite or drop.
    #[error("{uri:?} contains {what} at byte {at}, which URL parsers rewrite or drop")]
    Rewritten {
        /// The text as given.
        uri: String,
        /// What was found.
        what: &'static str,
        /// Byte offset in `uri`.
        at: usize,
    },
    /// Its host is written in a form the URL Standard rewrites.
    #[error("{uri:?}: the host {written:?} would be requested as {parsed:?}")]
    RewrittenHost {
        /// The text as given.
        uri: String,
        /// The host as written.
        written: String,
        /// The host as parsed.
        parsed: String,
    },
    /// It carries user information (`user@host`).
    #[error("{uri:?} carries user information (user@host), which is refused")]
    UserInfo {
        /// The text as given.
        uri: String,
    },
    /// Its scheme is not fetched here.
    #[error("{uri:?}: the {scheme}: scheme is not fetched (only http and https{also})")]
    Scheme {
        /// The text as given.
        uri: String,
        /// The scheme found.
        scheme: String,
        /// What else this place allows, for the message.
        also: &'static str,
    },
    /// A remote document names a local resource.
    #[error("{uri:?}: a document loaded over the network may not name a local file")]
    LocalFromRemote {
        /// The text as given.
        uri: String,
    },
    /// A relative reference against a `data:` URL, which has no hierarchy.
    #[error("relative reference {uri:?} cannot be resolved against a data: URL")]
    RelativeToData {
        /// The reference as given.
        uri: String,
    },
    /// Its host needs IDNA (international domain names: non-ASCII text or an
    /// `xn--` label), which the small backend (a build without the `url-crate`
    /// feature, such as the browser's) does not do. In a browser, `fetch` resolves
    /// hosts; the player itself never needs one.
    #[error(
        "{uri:?}: its host needs IDNA (international domain names), which this build does not do"
    )]
    Idna {
        /// The text as given.
        uri: String,
    },
    /// It is longer than [`MAX_URL_BYTES`].
    #[error("a URL of {len} bytes is over the {MAX_URL_BYTES}-byte limit")]
    TooLong {
        /// Its length.
        len: usize,
    },
}

/// Which schemes a place admits besides `http` and `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admit {
    /// `file` too: a document the user or application named (a local manifest).
    Root,
    /// Relative to a document: `file` only from a local one; `data` if allowed.
    From { local: bool, data: bool },
    /// Anything the checks pass (deserialising a model written by this crate).
    Any,
}

/// What the checked type needs of a parser: the `url` crate's `url::Url`, or the
/// small backend's own (`parser::Raw`). Every check is written once, over this.
trait Backend: Clone + Sized {
    /// Parses `input`, absolute or relative to `base`.
    fn parse_with(base: Option<&Self>, input: &str) -> Result<Self, UrlError>;
    /// The serialization.
    fn serialization(&self) -> &str;
    /// The scheme, lower-case.
    fn scheme_of(&self) -> &str;
    /// The host as serialized (IPv6 in brackets), `None` when absent or empty.
    fn host_of(&self) -> Option<&str>;
    /// True when a user name or password is present.
    fn has_userinfo(&self) -> bool;
    /// The path, percent-encoded.
    fn path_of(&self) -> &str;
    /// The query, without `?`.
    fn query_of(&self) -> Option<&str>;
    /// Replaces the query (percent-encoding what the URL Standard encodes).
    fn replace_query(&mut self, query: &str);
    /// Replaces the host, keeping the port; `host` is also the error's `uri`.
    fn replace_host(&mut self, host: &str) -> Result<(), UrlError>;
    /// Sets the port (the scheme's default is dropped); fails where none may be.
    fn replace_port(&mut self, port: u16) -> Result<(), ()>;
}

#[cfg(feature = "url-crate")]
impl Backend for url::Url {
    fn parse_with(base: Option<&Self>, input: &str) -> Result<Self, UrlError> {
        url::Url::options()
            .base_url(base)
            .parse(input)
            .map_err(|e| UrlError::Syntax { uri: input.to_string(), reason: e.to_string() })
    }
    fn serialization(&self) -> &str {
        self.as_str()
    }
    fn scheme_of(&self) -> &str {
        self.scheme()
    }
    fn host_of(&self) -> Option<&str> {
        self.host_str().filter(|h| !h.is_empty())
    }
    fn has_userinfo(&self) -> bool {
        !self.username().is_empty() || self.password().is_some()
    }
    fn path_of(&self) -> &str {
        self.path()
    }
    fn query_of(&self) -> Option<&str> {
        self.query()
    }
    fn replace_query(&mut self, query: &str) {
        self.set_query(Some(query));
    }
    fn replace_host(&mut self, host: &str) -> Result<(), UrlError> {
        self.set_host(Some(host))
            .map_err(|e| UrlError::Syntax { uri: host.to_string(), reason: e.to_string() })
    }
    fn replace_port(&mut self, port: u16) -> Result<(), ()> {
        self.set_port(Some(port))
    }
}

/// The one construction path: trims, refuses what the module docs list, parses,
/// checks that the host requested is the host written, then admits the scheme.
fn build<B: Backend>(base: Option<&B>, input: &str, admit_as: Admit) -> Result<B, UrlError> {
    // A manifest line or attribute may carry stray surrounding whitespace; inner
    // whitespace is refused below.
    let input = input.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    if input.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong { len: input.len() });
    }
    check_characters(input)?;
    let written_host = written_authority(input)?;
    if let Some(b) = base
        && b.scheme_of() == "data"
        && !has_scheme(input)
    {
        return Err(UrlError::RelativeToData { uri: input.to_string() });
    }
    let parsed = B::parse_with(base, input)?;
    if parsed.serialization().len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong { len: parsed.serialization().len() });
    }
    if let Some(written) = written_host {
        let parsed_host = parsed.host_of().unwrap_or("");
        if !written.eq_ignore_ascii_case(parsed_host) {
            return Err(UrlError::RewrittenHost {
                uri: input.to_string(),
                written: written.to_string(),
                parsed: parsed_host.to_string(),
            });
        }
    }
    admit(&parsed, input, admit_as)?;
    Ok(parsed)
}

/// The host without brackets around an IPv6 address.
fn bare_host<B: Backend>(url: &B) -> Option<&str> {
    let h = url.host_of()?;
    Some(h.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(h))
}

fn with_host<B: Backend>(url: &B, host: &str) -> Result<B, UrlError> {
    let bad = |reason: &str| UrlError::Syntax { uri: host.to_string(), reason: reason.into() };
    // A data: URL names no server: there is no host to replace (and the `url` crate
    // would give a hierarchical one a host with an inconsistent path).
    if url.scheme_of() == "data" {
        return Err(bad("a data: URL has no host to replace"));
    }
    let (name, port) = split_host_port(host).ok_or_else(|| bad("not a host[:port]"))?;
    check_characters(name)?;
    let mut u = url.clone();
    u.replace_host(name)?;
    let parsed = u.host_of().unwrap_or("");
    if !parsed.eq_ignore_ascii_case(name) {
        return Err(UrlError::RewrittenHost {
            uri: host.to_string(),
            written: name.to_string(),
            parsed: parsed.to_string(),
        });
    }
    if let Some(p) = port {
        u.replace_port(p).map_err(|()| bad("this URL cannot carry a port"))?;
    }
    Ok(u)
}

fn with_query_params<B: Backend>(url: &B, params: &[(String, String)]) -> B {
    if params.is_empty() {
        return url.clone();
    }
    let mut pairs: Vec<(String, Option<String>)> = url
        .query_of()
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
    let mut u = url.clone();
    u.replace_query(&query.join("&"));
    u
}

fn with_appended_query<B: Backend>(url: &B, pair: &str) -> B {
    let query = match url.query_of() {
        None | Some("") => pair.to_string(),
        Some(q) if q.ends_with('&') => format!("{q}{pair}"),
        Some(q) => format!("{q}&{pair}"),
    };
    let mut u = url.clone();
    u.replace_query(&query);
    u
}

/// Defines a checked URL type over a [`Backend`]: the public API both backends share,
/// with the same semantics (the checks are the generic functions above).
macro_rules! checked_url {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($inner);

        impl $name {
            /// Parses an absolute URL that a user or application hands the player:
            /// `http`, `https`, or `file` (a local document, for tools and tests).
            pub fn parse(input: &str) -> Result<$name, $crate::uri::UrlError> {
                $crate::uri::build(None, input, $crate::uri::Admit::Root).map($name)
            }

            /// Resolves `reference` (as written in the document at this URL) into the
            /// URL to request: `http`/`https`, or `file` when this document is local.
            pub fn join(&self, reference: &str) -> Result<$name, $crate::uri::UrlError> {
                let local = self.is_local();
                let admit = $crate::uri::Admit::From { local, data: false };
                $crate::uri::build(Some(&self.0), reference, admit).map($name)
            }

            /// As [`join`](Self::join), also admitting a `data:` URL: the HLS steering
            /// `SERVER-URI` may carry the steering manifest inline (rfc8216bis §4.4.6.6).
            pub fn join_allowing_data(
                &self,
                reference: &str,
            ) -> Result<$name, $crate::uri::UrlError> {
                let local = self.is_local();
                let admit = $crate::uri::Admit::From { local, data: true };
                $crate::uri::build(Some(&self.0), reference, admit).map($name)
            }

            /// The serialization: what is requested.
            pub fn as_str(&self) -> &str {
                $crate::uri::Backend::serialization(&self.0)
            }

            /// The scheme, lower-case.
            pub fn scheme(&self) -> &str {
                $crate::uri::Backend::scheme_of(&self.0)
            }

            /// The host, lower-case, without brackets around an IPv6 address; `None`
            /// for `data:` and local files.
            pub fn host(&self) -> Option<&str> {
                $crate::uri::bare_host(&self.0)
            }

            /// The path, percent-encoded (`/` for `https://h`; the body of a `data:`
            /// URL).
            pub fn path(&self) -> &str {
                $crate::uri::Backend::path_of(&self.0)
            }

            /// The query, without `?`.
            pub fn query(&self) -> Option<&str> {
                $crate::uri::Backend::query_of(&self.0)
            }

            /// True for a `file:` URL.
            pub fn is_local(&self) -> bool {
                self.scheme() == "file"
            }

            /// True for a `data:` URL.
            pub fn is_data(&self) -> bool {
                self.scheme() == "data"
            }

            /// This URL with its host (and port, when `host` has one) replaced: a
            /// pathway clone's `HOST` (rfc8216bis §7.3; hls.js once lost the port,
            /// issue #7655). A `data:` URL has no host to replace: an error.
            pub fn with_host(&self, host: &str) -> Result<$name, $crate::uri::UrlError> {
                $crate::uri::with_host(&self.0, host).map($name)
            }

            /// This URL with query parameters set: a parameter of the same name is
            /// replaced in place, others are appended in the order given. Values are
            /// used verbatim: the steering server sends them already percent-encoded
            /// and re-encoding would break signed tokens (hls.js issue #7969).
            pub fn with_query_params(&self, params: &[(String, String)]) -> $name {
                $name($crate::uri::with_query_params(&self.0, params))
            }

            /// This URL with `pair` (already encoded, e.g. `CMCD=…`) appended to its
            /// query, before any fragment.
            pub fn with_appended_query(&self, pair: &str) -> $name {
                $name($crate::uri::with_appended_query(&self.0, pair))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "Url({:?})", self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::uri::UrlError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $crate::uri::build(None, &s, $crate::uri::Admit::Any)
                    .map($name)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

mod parser;
pub mod small;

#[cfg(feature = "url-crate")]
checked_url!(
    /// An absolute, checked URL (see the module docs for what is refused), on the
    /// `url` crate (feature `url-crate`).
    ///
    /// It dereferences to its serialization (`&str`), which is exactly what is
    /// requested.
    Url(url::Url)
);

/// An absolute, checked URL (see the module docs for what is refused), on the small
/// backend: this build has no `url-crate` feature. The same type as [`small::Url`].
#[cfg(not(feature = "url-crate"))]
pub use small::Url;

#[cfg(feature = "url-crate")]
impl Url {
    /// Checks a URL another component parsed with the same parser — an HTTP
    /// redirect's target, the final URL of a response — under the rules for a
    /// document loaded over the network (`http`/`https` only, no user information).
    pub fn from_fetched(url: url::Url) -> Result<Url, UrlError> {
        let uri = url.as_str().to_string();
        if uri.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong { len: uri.len() });
        }
        admit(&url, &uri, Admit::From { local: false, data: false })?;
        Ok(Url(url))
    }

    /// The URL of a local file (tools and tests load manifests from disk).
    #[cfg(any(unix, windows, target_os = "wasi"))]
    pub fn from_file_path(path: &std::path::Path) -> Result<Url, UrlError> {
        let absolute = absolute_path(path)?;
        url::Url::from_file_path(&absolute).map(Url).map_err(|()| UrlError::Syntax {
            uri: path.display().to_string(),
            reason: "not a representable file path".into(),
        })
    }

    /// The local path of a `file:` URL.
    #[cfg(any(unix, windows, target_os = "wasi"))]
    pub fn to_file_path(&self) -> Option<std::path::PathBuf> {
        self.is_local().then(|| self.0.to_file_path().ok()).flatten()
    }

    /// The parsed value, for an HTTP client (reqwest takes it as is).
    pub fn as_url(&self) -> &url::Url {
        &self.0
    }

    /// The parsed value.
    pub fn into_url(self) -> url::Url {
        self.0
    }
}

/// `path` made absolute against the current directory.
#[cfg(any(unix, windows, target_os = "wasi"))]
fn absolute_path(path: &std::path::Path) -> Result<std::path::PathBuf, UrlError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    std::env::current_dir().map(|d| d.join(path)).map_err(|e| UrlError::Syntax {
        uri: path.display().to_string(),
        reason: format!("cannot make the path absolute: {e}"),
    })
}

/// `host[:port]` or `[v6][:port]` → (host as written, port).
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.starts_with('[') {
        let end = s.find(']')?;
        let (h, rest) = s.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(p) => Some((h, Some(p.parse().ok()?))),
            None if rest.is_empty() => Some((h, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((s, None)),
    }
}

fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Refuses characters the URL Standard rewrites or drops (see the module docs). A
/// `data:` URL's body is opaque: only controls and non-ASCII text are rewritten there.
fn check_characters(input: &str) -> Result<(), UrlError> {
    let refuse = |what, at| Err(UrlError::Rewritten { uri: input.to_string(), what, at });
    let opaque = input.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("data:"));
    let query_start = input.find('?');
    let fragment_start = input.find('#').unwrap_or(input.len());
    for (at, c) in input.char_indices() {
        if opaque && c.is_ascii() && !c.is_ascii_control() {
            continue;
        }
        let what = match c {
            '\\' => "a backslash",
            '\t' | '\r' | '\n' => "a tab or line break",
            c if c.is_control() => "a control character",
            ' ' => "a space",
            '"' | '<' | '>' | '`' | '{' | '}' => "a character that is percent-encoded",
            '\'' if query_start.is_some_and(|q| at > q) && at < fragment_start => {
                "a quote in the query, which is percent-encoded"
            }
            c if !c.is_ascii() => "a non-ASCII character",
            _ => continue,
        };
        return refuse(what, at);
    }
    Ok(())
}

/// The host as written in `input` (lower-cased comparison happens later), when the
/// input has an authority; refuses user information and percent-encoded hosts.
fn written_authority(input: &str) -> Result<Option<&str>, UrlError> {
    let after = if let Some(rest) = input.strip_prefix("//") {
        rest
    } else if has_scheme(input) {
        let colon = input.find(':').unwrap_or(0);
        match input[colon + 1..].strip_prefix("//") {
            Some(rest) => rest,
            // `https:cdn.example/x` is read as `https://cdn.example/x`, or as a path
            // relative to an https base: say what is meant.
            None if ["http", "https"].iter().any(|s| input[..colon].eq_ignore_ascii_case(s)) => {
                return Err(UrlError::Rewritten {
                    uri: input.to_string(),
                    what: "an http(s) scheme without //",
                    at: colon,
                });
            }
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    if authority.contains('@') {
        return Err(UrlError::UserInfo { uri: input.to_string() });
    }
    if let Some(at) = authority.find('%') {
        let offset = input.len() - after.len() + at;
        return Err(UrlError::Rewritten {
            uri: input.to_string(),
            what: "a percent-encoded host",
            at: offset,
        });
    }
    let host = match split_host_port(authority) {
        Some((h, _)) => h,
        // An unparsable port: the URL parser will say what is wrong.
        None => return Ok(None),
    };
    Ok(Some(host))
}

/// The scheme and user-information rules of the module docs.
fn admit<B: Backend>(url: &B, input: &str, admit_as: Admit) -> Result<(), UrlError> {
    let uri = || input.to_string();
    if url.has_userinfo() {
        return Err(UrlError::UserInfo { uri: uri() });
    }
    let scheme = url.scheme_of();
    let (file_ok, data_ok, also) = match admit_as {
        Admit::Root => (true, false, ", or file for a local document"),
        Admit::From { local, data } => (
            local,
            data,
            match (local, data) {
                (true, true) => ", file and data here",
                (true, false) => ", or file from a local document",
                (false, true) => ", or data here",
                (false, false) => "",
            },
        ),
        Admit::Any => (true, true, ", file and data"),
    };
    match scheme {
        "http" | "https" => {
            if url.host_of().is_none() {
                return Err(UrlError::Syntax { uri: uri(), reason: "no host".into() });
            }
            Ok(())
        }
        "file" if file_ok => {
            // `file://host/...` names a remote share, which is not a local file.
            match url.host_of() {
                None | Some("localhost") => Ok(()),
                Some(_) => Err(UrlError::LocalFromRemote { uri: uri() }),
            }
        }
        "file" if matches!(admit_as, Admit::From { local: false, .. }) => {
            Err(UrlError::LocalFromRemote { uri: uri() })
        }
        "data" if data_ok => Ok(()),
        other => Err(UrlError::Scheme { uri: uri(), scheme: other.to_string(), also }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rfc3986_normal_examples() {
        let base = u("http://a/b/c/d;p?q");
        let cases = [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
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
            (" seg.ts \t", "http://a/b/c/seg.ts"),
            ("https://cdn.example/x.m4s", "https://cdn.example/x.m4s"),
        ];
        for (r, want) in cases {
            assert_eq!(base.join(r).unwrap(), want, "reference {r:?}");
        }
    }

    #[test]
    fn the_checked_host_is_the_requested_host() {
        // The finding of issue 9: a backslash ends the authority for http(s).
        for hostile in [
            "https://evil.example\\@cdn.allowed/x",
            "https://evil.example\\.cdn.allowed/",
            "https://cdn.allowed/a\\b",
        ] {
            let e = Url::parse(hostile).unwrap_err();
            assert!(matches!(e, UrlError::Rewritten { what: "a backslash", .. }), "{e}");
        }
        let base = u("https://cdn.allowed/v/master.m3u8");
        assert!(base.join("\\\\evil.example/x.m3u8").is_err());
        assert!(base.join("/\\evil.example/x.m3u8").is_err());
    }

    #[test]
    fn user_info_and_rewritten_hosts_are_refused() {
        assert!(matches!(
            Url::parse("https://cdn.example@evil.example/"),
            Err(UrlError::UserInfo { .. })
        ));
        assert!(matches!(Url::parse("https://u:p@cdn.example/"), Err(UrlError::UserInfo { .. })));
        assert!(matches!(u("https://a/").join("//x@evil/"), Err(UrlError::UserInfo { .. })));
        assert!(matches!(
            Url::parse("https://evil%2Eexample/"),
            Err(UrlError::Rewritten { what: "a percent-encoded host", .. })
        ));
        assert!(matches!(Url::parse("http://0x7f.1/x"), Err(UrlError::RewrittenHost { .. })));
        assert!(matches!(
            Url::parse("https:///cdn.example/x"),
            Err(UrlError::RewrittenHost { .. })
        ));
        assert!(matches!(
            u("https://a/").join("https:cdn.example/x"),
            Err(UrlError::Rewritten { .. })
        ));
        // An IDN look-alike (Cyrillic "а") is refused, not punycoded behind our back.
        assert!(matches!(
            Url::parse("https://cdn.\u{430}llowed/"),
            Err(UrlError::Rewritten { what: "a non-ASCII character", .. })
        ));
        // Case is not a rewrite that matters: hosts compare case-insensitively.
        assert_eq!(u("https://CDN.Example:443/x").host(), Some("cdn.example"));
        assert_eq!(u("http://[::1]:8080/x").host(), Some("::1"));
    }

    #[test]
    fn characters_the_standard_rewrites_are_refused() {
        for (s, what) in [
            ("https://h/a b", "a space"),
            ("https://h/a\tb", "a tab or line break"),
            ("https://h/a\nb", "a tab or line break"),
            ("https://h/a\u{1}b", "a control character"),
            ("https://h/a<b", "a character that is percent-encoded"),
            ("https://h/caf\u{e9}", "a non-ASCII character"),
            ("https://h/x?a='b'", "a quote in the query, which is percent-encoded"),
        ] {
            match Url::parse(s) {
                Err(UrlError::Rewritten { what: w, .. }) => assert_eq!(w, what, "{s:?}"),
                other => panic!("{s:?}: {other:?}"),
            }
        }
        assert!(Url::parse("https://h/it's/x?a=b#it's").is_ok(), "a quote in a path is kept");
        assert!(matches!(
            Url::parse(&format!("https://h/{}", "a".repeat(MAX_URL_BYTES))),
            Err(UrlError::TooLong { .. })
        ));
    }

    #[test]
    fn schemes_by_place() {
        let remote = u("https://cdn.example/v/master.m3u8");
        assert!(matches!(remote.join("file:///dev/zero"), Err(UrlError::LocalFromRemote { .. })));
        assert!(matches!(remote.join("ftp://h/x"), Err(UrlError::Scheme { .. })));
        assert!(matches!(remote.join("data:text/plain,x"), Err(UrlError::Scheme { .. })));
        assert!(matches!(remote.join("javascript:alert(1)"), Err(UrlError::Scheme { .. })));
        assert!(remote.join_allowing_data("data:application/json,{}").is_ok());
        let local = Url::parse("file:///srv/hls/master.m3u8").unwrap();
        assert_eq!(local.join("720p/index.m3u8").unwrap(), "file:///srv/hls/720p/index.m3u8");
        assert!(local.join("https://cdn.example/x.m4s").is_ok());
        assert!(matches!(
            local.join("//evil.example/share"),
            Err(UrlError::LocalFromRemote { .. })
        ));
        let data = remote.join_allowing_data("data:application/json,{}").unwrap();
        assert!(
            remote.join_allowing_data(r#"data:application/json,{"VERSION": 1}"#).is_ok(),
            "a data: body is opaque"
        );
        assert!(remote.join_allowing_data("data:application/json,{\n}").is_err());
        assert!(matches!(data.join("x.json"), Err(UrlError::RelativeToData { .. })));
        assert!(data.join("https://s.example/x").is_ok());
        assert!(matches!(Url::parse("master.m3u8"), Err(UrlError::Syntax { .. })));
    }

    #[cfg(feature = "url-crate")]
    #[test]
    fn redirect_targets_are_checked_like_remote_references() {
        let ok = url::Url::parse("https://edge.example/x").unwrap();
        assert!(Url::from_fetched(ok).is_ok());
        for bad in ["file:///etc/passwd", "https://u@edge.example/", "gopher://h/"] {
            assert!(Url::from_fetched(url::Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_replacement_keeps_port_path_and_query() {
        let x = u("https://a.example:8443/v/seg.m4s?t=1");
        assert_eq!(x.with_host("b.example").unwrap(), "https://b.example:8443/v/seg.m4s?t=1");
        assert_eq!(x.with_host("b.example:9000").unwrap(), "https://b.example:9000/v/seg.m4s?t=1");
        assert!(x.with_host("b.example/evil").is_err());
        assert!(x.with_host("0x7f.1").is_err());
    }

    #[test]
    fn query_params_merge_verbatim() {
        let p =
            vec![("token".to_string(), "a%2Fb~=".to_string()), ("x".to_string(), "2".to_string())];
        assert_eq!(u("https://h/p?x=1&y").with_query_params(&p), "https://h/p?x=2&y&token=a%2Fb~=");
        assert_eq!(u("https://h/p#f").with_query_params(&p[..1]), "https://h/p?token=a%2Fb~=#f");
    }

    #[test]
    fn serde_round_trip() {
        let x = u("https://h/a?b=c");
        let s = serde_json::to_string(&x).unwrap();
        assert_eq!(s, "\"https://h/a?b=c\"");
        assert_eq!(serde_json::from_str::<Url>(&s).unwrap(), x);
        assert!(serde_json::from_str::<Url>("\"https://e\\\\@h/\"").is_err());
    }
}
