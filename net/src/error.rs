//! Errors of the native player.

use crate::fetch::FetchError;
use serde::{Deserialize, Serialize};
use streamsteer::session::ErrorKind;
use thiserror::Error;

/// The error a session gave up on: the fatal [`PlayerEvent::Error`]'s kind and
/// message (see [`Outcome::error`](crate::Outcome::error)).
///
/// [`PlayerEvent::Error`]: streamsteer::session::PlayerEvent::Error
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct FatalError {
    /// What kind of failure: a dead CDN is [`ErrorKind::Network`].
    pub kind: ErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

/// Why a [`Player`](crate::Player) could not load or finished without a report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlayerError {
    /// The HTTP client could not be built (bad configuration).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The URL to load is refused by the engine's URL rules (see `streamsteer::uri`).
    #[error("cannot load {url:?}: {source}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why.
        #[source]
        source: streamsteer::uri::UrlError,
    },
    /// The URL to load is on a host `session.allowed_hosts` does not admit.
    #[error("cannot load {url}: its host is not in the host allowlist")]
    HostNotAllowed {
        /// The URL.
        url: String,
    },
    /// The manifest could not be fetched.
    #[error("cannot load the manifest {url}: {source}")]
    ManifestFetch {
        /// The URL.
        url: String,
        /// The last attempt's failure: HTTP status, timeout, body limit…
        #[source]
        source: FetchError,
    },
    /// The manifest is not a playable HLS playlist or DASH MPD.
    #[error("cannot parse the manifest {url}: {source}")]
    ManifestParse {
        /// The URL.
        url: String,
        /// The parser's error.
        #[source]
        source: streamsteer::manifest::ManifestError,
    },
    /// The engine refused the presentation or the configuration.
    #[error("cannot start the session: {0}")]
    Session(#[from] streamsteer::session::SessionError),
    /// The driver task ended abnormally (it panicked or was aborted).
    #[error("the player task ended abnormally: {0}")]
    Task(String),
    /// `wait_until_done` was already called.
    #[error("the player's outcome was already taken")]
    AlreadyTaken,
}

impl PlayerError {
    /// What kind of failure this is, in the terms of the session's errors, so that an
    /// application treats a load failure and a failure during playback alike; `None`
    /// for misuse of the API ([`Self::AlreadyTaken`]) and a broken driver task.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Client(_) => Some(ErrorKind::Unsupported),
            Self::InvalidUrl { .. } | Self::HostNotAllowed { .. } => Some(ErrorKind::NotAllowed),
            Self::ManifestFetch { source: FetchError::NotText, .. }
            | Self::ManifestParse { .. } => Some(ErrorKind::Manifest),
            Self::ManifestFetch { .. } => Some(ErrorKind::Network),
            Self::Session(e) => Some(e.kind()),
            Self::Task(_) | Self::AlreadyTaken => None,
        }
    }
}
