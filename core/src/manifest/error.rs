//! Why a manifest could not be parsed.

use crate::uri::UrlError;
use thiserror::Error;

/// A manifest parsing or merging error. HLS errors name the 1-based line, DASH errors
/// the element path where the parser could tell.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The text is empty or only whitespace.
    #[error("manifest is empty")]
    Empty,
    /// Neither `#EXTM3U` nor an `<MPD` element was found.
    #[error("not an HLS playlist (no #EXTM3U) nor a DASH MPD (no <MPD> element)")]
    UnknownFormat,
    /// The manifest needs a front end that this build left out.
    #[error("{0} support is not compiled in (enable the `{1}` feature of streamsteer)")]
    FeatureDisabled(&'static str, &'static str),
    /// An HLS playlist breaks RFC 8216.
    #[error("HLS line {line}: {message}")]
    Hls {
        /// 1-based line number (0 when the problem is the playlist as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A DASH MPD is malformed or unsupported.
    #[error("DASH {element}: {message}")]
    Dash {
        /// Element path, e.g. `MPD/Period[0]/AdaptationSet[1]/Representation[2]`.
        element: String,
        /// What is wrong.
        message: String,
    },
    /// A URI in the manifest is refused (see [`crate::uri`]).
    #[error("{at}: {source}")]
    Url {
        /// Where: `HLS line 12`, or a DASH element path.
        at: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// The presentation would list more segments than
    /// [`MAX_SEGMENTS_PER_PRESENTATION`](super::MAX_SEGMENTS_PER_PRESENTATION).
    #[error("{at}: the presentation would list more than {max} segments")]
    TooManySegments {
        /// Where the limit was reached.
        at: String,
        /// The limit.
        max: usize,
    },
    /// No rendition has this id.
    #[error("no rendition with id {0:?}")]
    UnknownRendition(String),
    /// A media playlist was applied to a presentation it cannot belong to.
    #[error("cannot apply a media playlist: {0}")]
    Merge(String),
}

impl ManifestError {
    #[cfg_attr(not(feature = "hls"), allow(dead_code))]
    pub(crate) fn hls(line: usize, message: impl Into<String>) -> Self {
        Self::Hls { line, message: message.into() }
    }

    #[cfg_attr(not(feature = "hls"), allow(dead_code))]
    pub(crate) fn hls_url(line: usize, source: UrlError) -> Self {
        Self::Url { at: format!("HLS line {line}"), source }
    }

    #[cfg_attr(not(feature = "dash-lite"), allow(dead_code))]
    pub(crate) fn dash_url(element: &str, source: UrlError) -> Self {
        Self::Url { at: format!("DASH {element}"), source }
    }

    #[cfg_attr(not(feature = "dash-lite"), allow(dead_code))]
    pub(crate) fn dash(element: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Dash { element: element.into(), message: message.into() }
    }
}
