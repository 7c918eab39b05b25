//! The small URL backend: [`Url`] with the same API, checks and serializations as
//! the `url`-crate one, on this crate's own parser instead of the `url` crate, whose
//! IDNA tables and code are most of its size (about 84 KB of a 200 KB gzipped wasm32
//! build with HLS and the lite MPD reader).
//!
//! It is [`crate::uri::Url`] itself in a build without the `url-crate` feature (the
//! browser build: `--no-default-features --features hls,dash-lite`), and is compiled
//! in every build so that a test can compare both backends on the same inputs
//! (`core/tests/uri_backends_agree.rs`).
//!
//! It covers what a player meets: `http`, `https`, `file` and `data` URLs, absolute
//! or relative (RFC 3986 §5.2 reference resolution, `.` and `..` as the URL Standard
//! resolves them, `%2e` included), IPv4 and IPv6 hosts in every form the Standard
//! reads (then refused by the checks when rewritten, as with the `url` crate),
//! ports (the default one dropped), lower-case schemes and hosts, the empty path of
//! `https://h` written `/`, and the percent-encoding the Standard applies in paths,
//! queries and fragments.
//!
//! It refuses, where the `url` crate would accept:
//!
//! - a host that needs IDNA — non-ASCII text or an `xn--` label — with
//!   [`UrlError::Idna`]. Non-ASCII text is refused by
//!   the checks in both backends anyway; only `xn--` hosts differ;
//! - a Windows drive letter in a `file:` URL (`file:///C:/x`), with
//!   [`UrlError::Syntax`]: a browser never loads one.
//!
//! There is no `url::Url` here, so no `from_fetched`/`into_url`; the HTTP client of a
//! browser build is `fetch`, which takes the string.

use super::UrlError;
use super::parser::{Fail, Raw};

impl super::Backend for Raw {
    fn parse_with(base: Option<&Self>, input: &str) -> Result<Self, UrlError> {
        Raw::parse(input, base).map_err(|f| fail(f, input))
    }
    fn serialization(&self) -> &str {
        self.as_str()
    }
    fn scheme_of(&self) -> &str {
        self.scheme()
    }
    fn host_of(&self) -> Option<&str> {
        self.host_str()
    }
    fn has_userinfo(&self) -> bool {
        // The parser refuses user information.
        false
    }
    fn path_of(&self) -> &str {
        self.path()
    }
    fn query_of(&self) -> Option<&str> {
        self.query()
    }
    fn replace_query(&mut self, query: &str) {
        self.set_query(query);
    }
    fn replace_host(&mut self, host: &str) -> Result<(), UrlError> {
        self.set_host(host).map_err(|f| fail(f, host))
    }
    fn replace_port(&mut self, port: u16) -> Result<(), ()> {
        self.set_port(port).map_err(|_| ())
    }
}

fn fail(f: Fail, input: &str) -> UrlError {
    let uri = input.to_string();
    match f {
        Fail::Syntax(reason) => UrlError::Syntax { uri, reason: reason.into() },
        Fail::Idna => UrlError::Idna { uri },
        Fail::UserInfo => UrlError::UserInfo { uri },
    }
}

checked_url!(
    /// An absolute, checked URL on the small backend (see the [module docs](self)):
    /// the same API and checks as [`crate::uri::Url`] on the `url` crate.
    ///
    /// It dereferences to its serialization (`&str`), which is exactly what is
    /// requested.
    Url(Raw)
);

impl Url {
    /// The URL of a local file (tools and tests load manifests from disk), written
    /// as the `url` crate writes it: each path component percent-encoded whole.
    #[cfg(unix)]
    pub fn from_file_path(path: &std::path::Path) -> Result<Url, UrlError> {
        use std::os::unix::ffi::OsStrExt;
        let absolute = super::absolute_path(path)?;
        let segments = absolute.components().skip(1).map(|c| c.as_os_str().as_bytes());
        Ok(Url(Raw::from_file_segments(segments)))
    }

    /// The local path of a `file:` URL.
    #[cfg(unix)]
    pub fn to_file_path(&self) -> Option<std::path::PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        if !self.is_local() {
            return None;
        }
        let bytes = self.0.file_path_bytes()?;
        Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)))
    }
}

/// The parts of a URL that decide whether two URLs share an origin (scheme, host,
/// port), as `url::Url::origin` gives them: `file:` and `data:` URLs have an opaque
/// origin, equal to no other.
#[cfg(not(feature = "url-crate"))]
#[derive(Debug, Clone)]
pub enum Origin {
    /// Scheme, host, port (the scheme's default when none is written).
    Tuple(String, String, Option<u16>),
    /// No origin to share.
    Opaque,
}

#[cfg(not(feature = "url-crate"))]
impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        match (self, other) {
            (Origin::Tuple(a, b, c), Origin::Tuple(x, y, z)) => a == x && b == y && c == z,
            // As `url::Origin::new_opaque`: every opaque origin is unique.
            _ => false,
        }
    }
}

/// The accessors code written against `url::Url` uses (the CMCD key computation of
/// this crate, tests), for a build without the `url-crate` feature.
#[cfg(not(feature = "url-crate"))]
impl Url {
    /// This URL itself: there is no `url::Url` in this build; [`Url::path`],
    /// [`Url::query`], [`Url::origin`] and [`Url::path_segments`] answer as
    /// `url::Url`'s do.
    pub fn as_url(&self) -> &Url {
        self
    }

    /// The origin: scheme, host and port for `http(s)`, opaque otherwise.
    pub fn origin(&self) -> Origin {
        let scheme = self.scheme();
        let default = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return Origin::Opaque,
        };
        match self.0.host_str() {
            Some(h) => {
                Origin::Tuple(scheme.into(), h.into(), Some(self.0.port().unwrap_or(default)))
            }
            None => Origin::Opaque,
        }
    }

    /// The path's `/`-separated segments; `None` for a URL without hierarchy
    /// (`data:`).
    pub fn path_segments(&self) -> Option<std::str::Split<'_, char>> {
        if self.0.has_opaque_path() {
            return None;
        }
        self.path().strip_prefix('/').map(|p| p.split('/'))
    }
}
