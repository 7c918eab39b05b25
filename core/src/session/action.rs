//! What the session asks the caller to do.

use super::event::{RequestId, TrackKind};
use crate::abr::Reason;
use crate::cmcd::{CmcdData, CmcdMode};
use crate::manifest::{ByteRange, UtcTimingScheme};
use crate::qoe::QoeReport;
use crate::steering::SelectionReason;
use crate::time::Instant;
use crate::uri::Url;
use crate::utc_timing::UtcTimingError;
use serde::{Deserialize, Serialize};

/// What a request fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FetchKind {
    /// A manifest (HLS media playlist).
    Manifest,
    /// An initialization segment.
    Init,
    /// A media segment.
    Media,
    /// A steering manifest.
    Steering,
    /// The segment index (`sidx`) of a DASH on-demand resource: the byte range
    /// `SegmentBase@indexRange`, answered with [`Event::SegmentIndexLoaded`](super::Event::SegmentIndexLoaded).
    SegmentIndex,
    /// A DASH `UTCTiming` source: the server's clock. `GET` the URL (or `HEAD` it
    /// when [`UtcTimingScheme::is_head`]) and answer with
    /// [`Event::UtcTimingLoaded`](super::Event::UtcTimingLoaded), passing the body
    /// and the `Date` header.
    UtcTiming {
        /// How the answer is read.
        scheme: UtcTimingScheme,
    },
}

impl FetchKind {
    /// Whether the request is an HTTP `HEAD` (only `http-head` clock sources); every
    /// other request is a `GET`.
    pub fn is_head(self) -> bool {
        matches!(self, Self::UtcTiming { scheme } if scheme.is_head())
    }
}

/// Where the session's wall clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
#[non_exhaustive]
pub enum ClockSource {
    /// The driver's [`Event::WallClock`](super::Event::WallClock).
    Driver,
    /// A `UTCTiming` source of the MPD.
    UtcTiming {
        /// Its scheme.
        scheme: UtcTimingScheme,
    },
}

/// A request to issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// Identifies the request in later events.
    pub id: RequestId,
    /// The URL to request, checked (see [`crate::uri`]) and admitted by the session's
    /// host allowlist: a driver requests exactly this value.
    pub url: Url,
    /// Byte range, when only part of the resource is wanted.
    pub byte_range: Option<ByteRange>,
    /// Pathway (CDN) the URL belongs to; `None` for steering requests.
    pub pathway: Option<String>,
    /// What is fetched.
    pub kind: FetchKind,
    /// Track, for init and media segments.
    pub track: Option<TrackKind>,
    /// Segment index, for media segments.
    pub segment: Option<usize>,
    /// Rung index, for init and media segments.
    pub rendition: Option<usize>,
    /// Expected size in bytes when the manifest says (byte range, or bitrate × duration).
    pub expected_bytes: Option<u64>,
    /// When the media must have arrived to avoid a stall (playing only).
    pub deadline: Option<Instant>,
    /// The CMCD keys of this request, computed by the session when
    /// [`SessionConfig::cmcd`](super::SessionConfig::cmcd) is on; send them with
    /// [`FetchRequest::wire`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmcd: Option<Box<CmcdData>>,
}

impl FetchRequest {
    /// A request for a whole document — a manifest, a media playlist or a steering
    /// manifest — which has no track, segment, range or deadline.
    pub fn document(id: RequestId, url: Url, kind: FetchKind, pathway: Option<String>) -> Self {
        Self {
            id,
            url,
            byte_range: None,
            pathway,
            kind,
            track: None,
            segment: None,
            rendition: None,
            expected_bytes: None,
            deadline: None,
            cmcd: None,
        }
    }

    /// The URL to request and the headers to add: [`Self::url`] with the CMCD keys
    /// in `mode` (the query argument, or the four headers), or unchanged when the
    /// request carries none.
    pub fn wire(&self, mode: CmcdMode) -> (Url, Vec<(&'static str, String)>) {
        match &self.cmcd {
            Some(data) => data.encode(mode, &self.url),
            None => (self.url.clone(), Vec::new()),
        }
    }
}

/// Player state, as reported in [`PlayerEvent::StateChanged`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlayerState {
    /// Loading media playlists (or DASH segment indexes).
    Loading,
    /// Buffering before the first frame (or after a seek).
    Buffering,
    /// Playing.
    Playing,
    /// Paused by the user.
    Paused,
    /// Stalled: the buffer ran dry mid-stream.
    Stalled,
    /// Played to the end.
    Ended,
    /// Gave up (see the preceding [`PlayerEvent::Error`]).
    Failed,
}

/// Why a rendition was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
#[non_exhaustive]
pub enum DecisionReason {
    /// The ABR rule's decision.
    Abr {
        /// The rule's reason.
        reason: Reason,
    },
    /// The audio policy (fixed rendition).
    AudioPolicy,
    /// Pinned by the user.
    User,
}

/// What kind of failure a [`PlayerEvent::Error`] reports, so that an application (and
/// the Kotlin, Swift and TypeScript wrappers) can react without reading messages: a
/// dead CDN is `Network`, a broken manifest `Manifest`, content the engine cannot play
/// `Unsupported`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Requests failed: HTTP errors, timeouts, refused connections, every pathway of
    /// a segment or playlist exhausted.
    Network,
    /// A manifest or media playlist is malformed or lists nothing playable.
    Manifest,
    /// The content needs something the engine does not do (an index form, a codec,
    /// encryption, an ABR rule name it does not know).
    Unsupported,
    /// A URL is off the host allowlist or breaks the URL rules.
    NotAllowed,
    /// The live window moved in a way playback could not follow without a skip.
    Live,
    /// The media itself: a segment the driver could not append or decode.
    Media,
}

/// Something that happened, for the application and the QoE event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The player state changed.
    StateChanged {
        /// Old state.
        from: PlayerState,
        /// New state.
        to: PlayerState,
    },
    /// A rendition was chosen for a segment.
    Decision {
        /// Track.
        track: TrackKind,
        /// Segment index.
        segment: usize,
        /// Rung index.
        rendition: usize,
        /// Its bitrate as the manifest declares it, kbit/s (0 when it declares none,
        /// as for HLS audio renditions).
        bitrate_kbps: f64,
        /// Why.
        reason: DecisionReason,
    },
    /// The rendition of a track changed from one segment to the next.
    RenditionChanged {
        /// Track.
        track: TrackKind,
        /// Previous rung.
        from: usize,
        /// New rung.
        to: usize,
    },
    /// A fetch was abandoned for a lower rung.
    Abandoned {
        /// Segment index.
        segment: usize,
        /// Rung given up.
        from: usize,
        /// Rung fetched instead.
        to: usize,
    },
    /// A fetch was abandoned because its pathway starved it: it was delivering far
    /// below the pathway's own recent throughput, too slowly to arrive before the
    /// buffer ran out. The pathway is penalised (as on a failure) and the segment
    /// fetched from the next one.
    PathwayStarved {
        /// The pathway given up.
        pathway: String,
        /// Segment index.
        segment: usize,
        /// What the fetch was getting, kbit/s.
        rate_kbps: f64,
        /// What the pathway delivered before, kbit/s.
        expected_kbps: f64,
    },
    /// Requests moved to another pathway.
    PathwayChanged {
        /// Previous pathway, if any.
        from: Option<String>,
        /// New pathway.
        to: String,
        /// Why.
        reason: SelectionReason,
    },
    /// A media fetch failed on a pathway.
    FetchFailed {
        /// Pathway.
        pathway: String,
        /// HTTP status, if any.
        status: Option<u16>,
        /// Whether the pathway is now penalised.
        penalized: bool,
    },
    /// A steering manifest was applied.
    SteeringUpdated {
        /// Priority now in force.
        priority: Vec<String>,
    },
    /// A steering manifest or request failed (playback is not affected).
    SteeringError {
        /// What went wrong.
        message: String,
    },
    /// Playback stalled.
    Stalled {
        /// Playhead, seconds of media.
        position_s: f64,
    },
    /// Playback resumed after a stall.
    Resumed {
        /// Stall length, seconds.
        stall_s: f64,
    },
    /// The wall clock that places live DASH segments in time was set.
    ClockSynced {
        /// Where it came from.
        source: ClockSource,
        /// The server's clock minus the driver's, seconds, when both are known (what
        /// the `UTCTiming` source corrected).
        skew_s: Option<f64>,
    },
    /// A `UTCTiming` source gave no usable time: the session tries the next one,
    /// then falls back to the driver's wall clock.
    ClockSyncFailed {
        /// The source's scheme.
        scheme: UtcTimingScheme,
        /// Why.
        error: UtcTimingError,
    },
    /// An error: fatal ones are followed by the `Failed` state.
    Error {
        /// What kind of failure.
        kind: ErrorKind,
        /// What went wrong, for people.
        message: String,
        /// True if the session gave up.
        fatal: bool,
    },
    /// The final QoE report (on `Ended` or `Failed`).
    QoeReport {
        /// The report.
        report: Box<QoeReport>,
    },
}

/// An output of the session, drained with [`Session::poll_action`](super::Session::poll_action).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Issue a request.
    Fetch(FetchRequest),
    /// Abort a request; no more events are expected for it (late ones are ignored).
    Cancel {
        /// Request.
        id: RequestId,
    },
    /// Append the body of a completed request to a track's buffer.
    ///
    /// Match it with `..`: fields may be added.
    #[non_exhaustive]
    Append {
        /// Track.
        track: TrackKind,
        /// True for an initialization segment.
        init: bool,
        /// The completed request whose bytes to append.
        request: RequestId,
        /// Segment index (media only).
        segment: Option<usize>,
        /// Rung.
        rendition: usize,
        /// Where a media segment goes on the presentation timeline (`None` for an
        /// init segment).
        timing: Option<MediaTiming>,
    },
    /// Start or resume playback.
    Play,
    /// Pause playback (user pause).
    Pause,
    /// Playback stalled (the sink ran dry).
    Stall,
    /// Tell the application something.
    Emit(PlayerEvent),
    /// Call back with [`Event::Tick`](super::Event::Tick) at this time (replaces any
    /// earlier request).
    WakeAt(Instant),
}

/// Where a media segment goes on the presentation timeline: what a sink needs to
/// place media whose timestamps do not follow the presentation's (the MSE
/// `timestampOffset` model).
///
/// Media timestamps restart at each period of a multi-period DASH presentation and at
/// each HLS `EXT-X-DISCONTINUITY`; the session numbers the stretches between those
/// restarts (`media_timeline`) and says, per append, whether the segment's timestamps
/// follow those of the media appended before it on the same track.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct MediaTiming {
    /// Presentation time of the segment's start, seconds (from the manifest).
    pub start_s: f64,
    /// Duration, seconds (from the manifest).
    pub duration_s: f64,
    /// The media timeline the segment belongs to (0 for the first period or the
    /// stretch before the first discontinuity; one more at each restart).
    pub media_timeline: u64,
    /// The segment's timestamps do not follow those appended before it on this track
    /// (its media timeline differs from theirs: a period boundary, a discontinuity,
    /// or a seek across one; or it is the track's first append on a media timeline
    /// other than 0). The sink maps the segment's first media timestamp to
    /// `start_s` and keeps that offset for what follows (MSE: set
    /// `timestampOffset` to `start_s` minus that timestamp before appending).
    pub new_timeline: bool,
}

impl MediaTiming {
    /// A segment's timing (what the session puts in [`Action::Append`]; sinks' tests
    /// build their own).
    pub fn new(start_s: f64, duration_s: f64, media_timeline: u64, new_timeline: bool) -> Self {
        Self { start_s, duration_s, media_timeline, new_timeline }
    }
}
