//! What a [`Player`](crate::Player) tells the application.

use serde::{Deserialize, Serialize};
use streamsteer::session::{FetchKind, PlayerEvent, PlayerState, TrackKind};

/// One event of a playing [`Player`](crate::Player).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Event {
    /// Something the engine reported: state, decision, rendition or pathway change,
    /// stall, error, the final QoE report.
    Player {
        /// The engine's event.
        event: PlayerEvent,
    },
    /// One HTTP attempt ended (success or failure), with its timing.
    Request(RequestTiming),
    /// A periodic snapshot, for a live status line.
    Status(Status),
    /// The sink refused a segment (it could not be parsed): the fetch is reported to
    /// the engine as failed, which fetches it again (from another pathway if any).
    Media(MediaError),
    /// The player was stopped by [`Player::stop`](crate::Player::stop) (or dropped)
    /// before the end.
    Stopped,
}

/// The timing of one HTTP attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestTiming {
    /// The engine's request id (`0` for the player's initial manifest load).
    pub id: u64,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// The URL requested (with any CMCD query argument).
    pub url: String,
    /// The pathway, when the request belongs to one.
    pub pathway: Option<String>,
    /// What was fetched.
    pub kind: FetchKind,
    /// HTTP status, if a response came.
    pub status: Option<u16>,
    /// Body bytes received.
    pub bytes: u64,
    /// Seconds from sending to the response headers, if they came.
    pub ttfb_s: Option<f64>,
    /// Seconds from sending to the end (success or failure).
    pub duration_s: f64,
    /// `None` on success, else why the attempt failed.
    pub error: Option<String>,
    /// `None` on success, else the kind of failure (a refused or reset connection is
    /// [`FailureKind::Connection`](crate::FailureKind::Connection), with no status).
    #[serde(default)]
    pub failure: Option<crate::FailureKind>,
    /// Whether another attempt follows.
    pub will_retry: bool,
}

/// A periodic snapshot of playback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// Seconds since the player started.
    pub time_s: f64,
    /// Playhead, seconds of media.
    pub position_s: f64,
    /// Seconds of media buffered ahead of the playhead (all tracks).
    pub buffer_s: f64,
    /// Video rung of the last segment appended.
    pub rendition: Option<usize>,
    /// Its bitrate, kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// The pathway requests go to.
    pub pathway: String,
    /// Measured throughput on that pathway, kbit/s.
    pub throughput_kbps: Option<f64>,
    /// Player state.
    pub state: PlayerState,
}

/// A segment the sink could not use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaError {
    /// Track.
    pub track: TrackKind,
    /// Rung.
    pub rendition: usize,
    /// Segment index (`None` for an initialization segment).
    pub segment: Option<usize>,
    /// The request that brought it.
    pub request: u64,
    /// What was wrong.
    pub message: String,
}
