//! Errors of the native player.

use thiserror::Error;

/// Why a [`Player`](crate::Player) could not load or finished without a report.
#[derive(Debug, Error)]
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
    #[error("cannot load the manifest {url}: {reason}")]
    ManifestFetch {
        /// The URL.
        url: String,
        /// The last attempt's failure.
        reason: String,
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
