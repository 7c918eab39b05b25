//! What the caller tells the session.

use crate::time::Duration;
use crate::uri::Url;
use serde::{Deserialize, Serialize};

/// Identifies one request the session asked for (unique within a session).
pub type RequestId = u64;

/// Which media track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrackKind {
    /// The main (video) track, adapted by the ABR rule.
    Video,
    /// The audio track fetched alongside it.
    Audio,
}

/// An input to [`Session::handle`](super::Session::handle). The time of the event is
/// passed beside it, so that every event carries the caller's "now".
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Time has passed (typically at a requested [`WakeAt`](super::Action::WakeAt)).
    Tick,
    /// The first byte of a response arrived.
    FetchStarted {
        /// Request.
        id: RequestId,
    },
    /// A response is arriving.
    FetchProgress {
        /// Request.
        id: RequestId,
        /// Bytes received so far.
        bytes: u64,
        /// Time to first byte, if it has arrived.
        ttfb: Option<Duration>,
    },
    /// An init or media segment arrived whole.
    FetchCompleted {
        /// Request.
        id: RequestId,
        /// Bytes received.
        bytes: u64,
        /// Time to first byte.
        ttfb: Duration,
        /// Whole fetch time, TTFB included.
        duration: Duration,
    },
    /// A request failed (network error, HTTP error, timeout, truncation).
    FetchFailed {
        /// Request.
        id: RequestId,
        /// HTTP status, if a response came.
        status: Option<u16>,
        /// Bytes received before the failure (counted as delivered by the pathway).
        bytes: u64,
    },
    /// A manifest (an HLS media playlist) requested by the session arrived.
    ManifestLoaded {
        /// Request.
        id: RequestId,
        /// The body.
        text: String,
        /// The URL after redirects (relative references resolve against it); a driver
        /// makes it with `Url::from_fetched` (or `Url::parse`) from its HTTP client's final URL.
        url: Url,
    },
    /// The segment index requested by a [`FetchKind::SegmentIndex`](super::FetchKind::SegmentIndex)
    /// fetch arrived: the bytes of its range.
    SegmentIndexLoaded {
        /// Request.
        id: RequestId,
        /// The body (the bytes of the range asked for).
        data: Vec<u8>,
    },
    /// A steering manifest arrived.
    SteeringLoaded {
        /// Request.
        id: RequestId,
        /// The body.
        body: String,
    },
    /// A steering request failed.
    SteeringFailed {
        /// Request.
        id: RequestId,
        /// HTTP status, if a response came (410 stops steering, 429 backs off).
        status: Option<u16>,
        /// `Retry-After` in seconds, if given.
        retry_after: Option<Duration>,
    },
    /// The media element's playhead, for drivers whose sink plays on its own clock:
    /// overrides the session's own playhead model.
    PlaybackPosition {
        /// Playhead, seconds of media.
        position_s: f64,
    },
    /// The driver's wall clock: UTC as Unix seconds (with a fraction), read at the
    /// instant passed beside this event. The session keeps the difference between
    /// the two clocks and reads no clock of its own, so a simulator may pass a virtual
    /// wall clock.
    ///
    /// Live DASH with `SegmentTemplate@duration` (segments that exist by the wall
    /// clock) needs it unless a `UTCTiming` source of the MPD answers: send it as
    /// the first event, and again whenever the system clock is stepped. Other
    /// presentations ignore it. A non-finite value is ignored.
    WallClock {
        /// Seconds since 1970-01-01T00:00:00Z.
        unix_s: f64,
    },
    /// The answer to a [`FetchKind::UtcTiming`](super::FetchKind::UtcTiming)
    /// request (its failure is a [`FetchFailed`](Event::FetchFailed)). The session
    /// reads the time it names and corrects it by half the round trip.
    UtcTimingLoaded {
        /// Request.
        id: RequestId,
        /// The response body (`http-xsdate`, `http-iso`); empty for a `HEAD`.
        body: String,
        /// The response's `Date` header, if it had one (required for `http-head`).
        date: Option<String>,
    },
    /// The user sought to a position.
    UserSeek {
        /// Target, seconds of media.
        position_s: f64,
    },
    /// The user pinned a rendition of a track (`None`: back to automatic).
    UserSelectTrack {
        /// Track.
        track: TrackKind,
        /// Rung index (ascending bitrate) or `None`.
        rendition: Option<usize>,
    },
    /// The user pressed play.
    Play,
    /// The user pressed pause.
    Pause,
}
