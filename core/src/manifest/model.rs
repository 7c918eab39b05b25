//! The presentation model shared by the HLS and DASH front ends.
//!
//! Both front ends produce exactly these types; nothing from the parser crates leaks
//! out, so a third front end (e.g. a small MPD parser for the browser build) can fill
//! the same model. Times are seconds (`f64`) relative to the start of the
//! presentation; wall-clock instants (DASH `availabilityStartTime`, "now" for live
//! templates) are Unix seconds and are always passed in by the caller, never read.
//!
//! Shape: a [`Presentation`] holds [`Period`]s (HLS always has exactly one), each
//! holding [`Track`]s (video, audio, text), each holding [`Rendition`]s (one per
//! bitrate/pathway), each with a [`SegmentIndex`].

use crate::uri::{Url, UrlError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most segments a whole presentation may list (all periods, tracks and renditions):
/// a small hostile MPD (a SegmentTimeline `@r` of 10^12, thousands of
/// Representations) must give an error, not exhaust memory. A segment costs about
/// 130 bytes, so this bounds a presentation near 65 MiB; a 12-hour VOD of 2 s
/// segments on 20 renditions lists 432,000.
pub const MAX_SEGMENTS_PER_PRESENTATION: usize = 500_000;

/// Which manifest format a presentation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManifestKind {
    /// HTTP Live Streaming (RFC 8216 / rfc8216bis).
    Hls,
    /// MPEG-DASH (ISO/IEC 23009-1).
    Dash,
}

/// Whether the presentation is on demand or live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresentationType {
    /// A finished presentation: HLS `EXT-X-ENDLIST`, DASH `type="static"`.
    Vod,
    /// A live presentation: an HLS media playlist without `EXT-X-ENDLIST`, DASH
    /// `type="dynamic"`.
    Live,
    /// An HLS multivariant playlist whose media playlists are not loaded yet: the
    /// multivariant playlist alone does not say. Set once a media playlist is applied.
    Undetermined,
}

/// A parsed presentation: one model for HLS and DASH.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presentation {
    /// The source format.
    pub kind: ManifestKind,
    /// The URL the manifest was loaded from, after redirects (the base for relative
    /// references).
    pub url: Url,
    /// VOD, live, or not yet known.
    pub presentation_type: PresentationType,
    /// Live window parameters; `Some` exactly when `presentation_type` is `Live`.
    pub live: Option<LiveWindow>,
    /// Total duration in seconds when known (DASH `mediaPresentationDuration`, or the
    /// sum of the main rendition's segments for a finished HLS playlist).
    pub duration_s: Option<f64>,
    /// Periods in presentation order; HLS always has exactly one.
    pub periods: Vec<Period>,
    /// Pathways (HLS `PATHWAY-ID`, DASH `BaseURL@serviceLocation`) in document order,
    /// without duplicates. Empty when the manifest names none.
    pub pathways: Vec<Pathway>,
    /// Content steering parameters, when the manifest asks for steering.
    pub steering: Option<ContentSteering>,
    /// Deviations from the specification that were tolerated (the "lenient" cases),
    /// in the order they were found. Media playlists (reloaded again and again when
    /// live) add each distinct warning once, up to 256 in all.
    pub warnings: Vec<String>,
}

/// Live-window parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LiveWindow {
    /// HLS: `EXT-X-MEDIA-SEQUENCE` of the first segment of the latest media playlist.
    pub media_sequence: Option<u64>,
    /// HLS: `EXT-X-TARGETDURATION` in seconds.
    pub target_duration_s: Option<f64>,
    /// DASH: `MPD@availabilityStartTime` as written (RFC 3339).
    pub availability_start_time: Option<String>,
    /// DASH: `MPD@availabilityStartTime` as Unix seconds.
    pub availability_start_unix_s: Option<f64>,
    /// DASH: `MPD@timeShiftBufferDepth` in seconds.
    pub time_shift_buffer_depth_s: Option<f64>,
    /// DASH: `MPD@minimumUpdatePeriod` in seconds (how often to reload the MPD).
    pub minimum_update_period_s: Option<f64>,
    /// DASH: `MPD@suggestedPresentationDelay` in seconds.
    pub suggested_presentation_delay_s: Option<f64>,
    /// DASH: the `UTCTiming` sources the MPD names, in document order (the preferred
    /// first), that this engine can use; others are dropped with a warning.
    #[serde(default)]
    pub utc_timing: Vec<UtcTiming>,
}

/// How a DASH `UTCTiming` element says to learn the server's time (ISO/IEC 23009-1
/// §5.8.4.11 and Annex G).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtcTimingScheme {
    /// `urn:mpeg:dash:utc:http-xsdate:2014` (or `:2012`): GET the URL; the body is an
    /// `xs:dateTime`.
    HttpXsDate,
    /// `urn:mpeg:dash:utc:http-iso:2014` (or `:2012`): GET the URL; the body is an
    /// ISO 8601 date-time.
    HttpIso,
    /// `urn:mpeg:dash:utc:http-head:2014` (or `:2012`): HEAD the URL; the `Date`
    /// response header is the time.
    HttpHead,
    /// `urn:mpeg:dash:utc:direct:2014` (or `:2012`): the element's value is the
    /// server's `xs:dateTime` when it served the MPD; nothing to fetch.
    Direct,
}

impl UtcTimingScheme {
    /// The scheme named by `scheme_id_uri`, `None` for one this engine cannot use
    /// (NTP and SNTP need a UDP socket, `http-ntp` an NTP codec).
    pub fn from_uri(scheme_id_uri: &str) -> Option<Self> {
        let rest = scheme_id_uri.trim().strip_prefix("urn:mpeg:dash:utc:")?;
        let (name, year) = rest.split_once(':')?;
        if year != "2014" && year != "2012" {
            return None;
        }
        match name {
            "http-xsdate" => Some(Self::HttpXsDate),
            "http-iso" => Some(Self::HttpIso),
            "http-head" => Some(Self::HttpHead),
            "direct" => Some(Self::Direct),
            _ => None,
        }
    }

    /// Whether the driver fetches something (all but `direct`).
    pub fn needs_fetch(self) -> bool {
        self != Self::Direct
    }

    /// Whether the fetch is an HTTP `HEAD` (the answer is the `Date` header), not a
    /// `GET` (the answer is the body).
    pub fn is_head(self) -> bool {
        self == Self::HttpHead
    }
}

/// One usable DASH `UTCTiming` source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtcTiming {
    /// How to read it.
    pub scheme: UtcTimingScheme,
    /// For the HTTP schemes, one absolute URL (resolved against the MPD's; an element
    /// listing several URLs gives one source per URL, in order); for `direct`, the
    /// `xs:dateTime` as written.
    pub value: String,
}

/// A DASH Period (HLS: one period spanning the presentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// `Period@id` when present.
    pub id: Option<String>,
    /// Start in seconds from the presentation start.
    pub start_s: f64,
    /// Duration in seconds when known.
    pub duration_s: Option<f64>,
    /// Tracks of this period.
    pub tracks: Vec<Track>,
}

/// What a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// Video (HLS variant streams, which may also carry muxed audio).
    Video,
    /// Audio.
    Audio,
    /// Subtitles or other timed text.
    Text,
    /// In-band closed captions (HLS `TYPE=CLOSED-CAPTIONS`); no segments of their own.
    ClosedCaptions,
    /// Anything else (e.g. an image AdaptationSet).
    Other,
}

/// A track: a set of switchable renditions of the same content (a DASH AdaptationSet,
/// the HLS variant streams, or one HLS `EXT-X-MEDIA` name/language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Identifier unique within the period (`AdaptationSet@id`, or a generated one).
    pub id: String,
    /// What the track carries.
    pub media_type: MediaType,
    /// Language (RFC 5646) when given.
    pub language: Option<String>,
    /// Human-readable name (HLS `NAME`, DASH `Label`).
    pub name: Option<String>,
    /// HLS `DEFAULT=YES`, or a DASH `Role` of `main`.
    pub default: bool,
    /// HLS `AUTOSELECT=YES` (DASH: always true).
    pub autoselect: bool,
    /// I-frame (trick play) renditions only: HLS `EXT-X-I-FRAME-STREAM-INF`, DASH
    /// `trickmode` essential property. Never the main track of a ladder.
    pub trick_play: bool,
    /// Renditions in document order.
    pub renditions: Vec<Rendition>,
}

impl Track {
    /// The main video track (id `video`, default, autoselected) over `renditions`:
    /// what an HLS multivariant playlist's variant streams, a lone media playlist and
    /// a ladder-built presentation each amount to.
    pub fn main_video(renditions: Vec<Rendition>) -> Self {
        Track {
            id: "video".to_string(),
            media_type: MediaType::Video,
            language: None,
            name: None,
            default: true,
            autoselect: true,
            trick_play: false,
            renditions,
        }
    }
}

/// Picture size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Width.
    pub width: u64,
    /// Height.
    pub height: u64,
}

/// One encoding of a track: an HLS variant stream or `EXT-X-MEDIA` rendition, a DASH
/// Representation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    /// Identifier: DASH `Representation@id`; for HLS a generated id unique in the
    /// presentation (`v0`, `v1`… for variants, `i0`… for I-frame variants, `a0`,
    /// `s0`, `c0`, `x0`… for audio, subtitle, closed-caption and alternate video
    /// renditions), the handle for
    /// [`Presentation::apply_media_playlist`](crate::manifest::Presentation::apply_media_playlist).
    pub id: String,
    /// Peak bandwidth in bits/s (HLS `BANDWIDTH`, DASH `@bandwidth`); `None` for HLS
    /// `EXT-X-MEDIA` renditions and bare media playlists.
    pub bandwidth: Option<u64>,
    /// HLS `AVERAGE-BANDWIDTH` in bits/s.
    pub average_bandwidth: Option<u64>,
    /// Picture size.
    pub resolution: Option<Resolution>,
    /// RFC 6381 codecs string.
    pub codecs: Option<String>,
    /// Frames per second.
    pub frame_rate: Option<f64>,
    /// MIME type (DASH `@mimeType`).
    pub mime_type: Option<String>,
    /// The pathway this rendition belongs to (HLS `PATHWAY-ID`, `"."` when absent but
    /// the presentation has pathways); `None` when the presentation names no
    /// pathways, and for DASH, where every rendition exists on every pathway (see
    /// [`Rendition::bases`]).
    pub pathway_id: Option<String>,
    /// HLS `STABLE-VARIANT-ID` / `STABLE-RENDITION-ID`: the same rendition on another
    /// pathway has the same stable id.
    pub stable_id: Option<String>,
    /// HLS variant: the `AUDIO` group it plays with.
    pub audio_group: Option<String>,
    /// HLS variant: the `SUBTITLES` group it plays with.
    pub subtitles_group: Option<String>,
    /// HLS `EXT-X-MEDIA` rendition: its `GROUP-ID`.
    pub group_id: Option<String>,
    /// HLS: the absolute URL of this rendition's media playlist (`None` for DASH and
    /// for renditions without a URI, e.g. audio muxed into the variants).
    pub playlist_url: Option<Url>,
    /// The resolved base URL of this rendition for each pathway, first = default.
    /// DASH: the `BaseURL` chain MPD→Period→AdaptationSet→Representation resolved
    /// once per `serviceLocation`; HLS: the media playlist URL on its own pathway.
    /// Segment references ([`Segment::uri`]) resolve against one of these.
    pub bases: Vec<BaseLocation>,
    /// Where the segments are.
    pub index: SegmentIndex,
}

/// A resolved base URL and the pathway it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseLocation {
    /// Pathway id (`BaseURL@serviceLocation`, HLS `PATHWAY-ID`); `None` if unnamed.
    pub pathway_id: Option<String>,
    /// Absolute URL.
    pub url: Url,
}

/// A byte range within a resource (both HLS `length@offset` and DASH `first-last`
/// end up here, with implicit HLS offsets already filled in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub offset: u64,
    /// Number of bytes.
    pub length: u64,
}

impl ByteRange {
    /// The HTTP `Range` header value (`bytes=first-last`), `None` for an empty range.
    pub fn http_range(&self) -> Option<String> {
        let last = self.offset.checked_add(self.length)?.checked_sub(1)?;
        (self.length > 0).then(|| format!("bytes={}-{last}", self.offset))
    }
}

/// An initialization segment (HLS `EXT-X-MAP`, DASH `Initialization` or
/// `SegmentTemplate@initialization`). Shared (`Arc`) by every segment it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitSegment {
    /// The reference as written (template variables substituted), resolved against
    /// the rendition's base on the pathway it is requested from
    /// ([`Rendition::url_on`]).
    pub uri: String,
    /// Byte range within the resource, when only part of it is the init segment.
    pub byte_range: Option<ByteRange>,
}

/// One media segment. Its URL is not stored: it is the reference resolved against the
/// rendition's base on the pathway it is requested from ([`Rendition::url_on`]), so a
/// long list costs one short string per segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The reference as written (template variables substituted), checked when the
    /// manifest was parsed.
    pub uri: String,
    /// Presentation time of the segment start, seconds from the presentation start.
    pub start_s: f64,
    /// Duration in seconds.
    pub duration_s: f64,
    /// HLS media sequence number, DASH `$Number$`.
    pub number: u64,
    /// DASH `$Time$` in timescale units (SegmentTimeline / template), when defined.
    pub time: Option<u64>,
    /// Byte range within the resource, when the segment is a sub-range of it.
    pub byte_range: Option<ByteRange>,
    /// The initialization segment that applies to this segment.
    pub init: Option<Arc<InitSegment>>,
    /// HLS `EXT-X-DISCONTINUITY` before this segment (DASH: first segment of a
    /// period after the first).
    pub discontinuity: bool,
}

/// How a rendition's segments are found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SegmentIndex {
    /// An HLS rendition whose media playlist has not been loaded yet (see
    /// [`Rendition::playlist_url`]), or one with no playlist of its own.
    Unresolved,
    /// An explicit list of segments (HLS media playlist, DASH SegmentList,
    /// SegmentTemplate with a timeline or a known duration).
    Segments(SegmentList),
    /// DASH SegmentBase: one resource whose `sidx` box at `index_range` indexes it.
    Base(SegmentBaseIndex),
    /// DASH live SegmentTemplate with `@duration` and no timeline: which segments
    /// exist depends on the wall clock; see [`LiveTemplate`].
    LiveTemplate(LiveTemplate),
}

/// An explicit segment list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentList {
    /// Segments in presentation order.
    pub segments: Vec<Segment>,
    /// HLS `EXT-X-TARGETDURATION` (DASH: the longest segment), seconds.
    pub target_duration_s: Option<f64>,
    /// True when no segment will be added (HLS `EXT-X-ENDLIST`, static DASH).
    pub ended: bool,
}

/// A DASH SegmentBase resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentBaseIndex {
    /// The resource reference as written (usually empty: the BaseURL itself).
    pub uri: String,
    /// Absolute URL of the resource.
    pub url: Url,
    /// Initialization range or resource.
    pub init: Option<InitSegment>,
    /// Byte range of the `sidx` box (`SegmentBase@indexRange`).
    pub index_range: Option<ByteRange>,
    /// `@timescale` (ticks per second).
    pub timescale: u64,
    /// `@presentationTimeOffset` in timescale units.
    pub presentation_time_offset: u64,
    /// Duration in seconds (the period's), when known.
    pub duration_s: Option<f64>,
}

/// A DASH SegmentTemplate with a fixed `@duration` in a dynamic MPD.
///
/// Segment `n` (from `start_number`) covers media time
/// `[(n - start_number) × duration, … + duration)` ticks after the period start and is
/// available once it has ended on the wall clock. Expand it with
/// [`LiveTemplate::segments_at`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveTemplate {
    /// `@media` template (with `$Number$`/`$Time$`…; `$RepresentationID$` and
    /// `$Bandwidth$` already substituted).
    pub media: String,
    /// The initialization segment.
    pub init: Option<Arc<InitSegment>>,
    /// `@startNumber`.
    pub start_number: u64,
    /// `@endNumber` when given.
    pub end_number: Option<u64>,
    /// `@duration` in timescale units.
    pub duration: u64,
    /// `@timescale`.
    pub timescale: u64,
    /// `@presentationTimeOffset`.
    pub presentation_time_offset: u64,
    /// Period start, seconds after `availability_start_unix_s`.
    pub period_start_s: f64,
    /// Period duration when known.
    pub period_duration_s: Option<f64>,
    /// `MPD@availabilityStartTime` as Unix seconds.
    pub availability_start_unix_s: f64,
    /// `MPD@timeShiftBufferDepth` in seconds (`None`: the whole period).
    pub time_shift_buffer_depth_s: Option<f64>,
    /// The rendition's default base URL, to resolve segment references.
    pub base_url: Url,
}

/// A pathway: one delivery route (CDN) for the whole presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pathway {
    /// HLS `PATHWAY-ID` (`"."` for variants without one), DASH `serviceLocation`.
    pub id: String,
}

/// Content steering parameters from the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSteering {
    /// Absolute URL of the steering server (HLS `SERVER-URI`, DASH element text).
    /// May be a `data:` URI for HLS.
    pub server_url: Url,
    /// Initial pathway(s): HLS `PATHWAY-ID` (one), DASH `@defaultServiceLocation`
    /// (space-separated list, split). Empty when not given.
    pub default_pathways: Vec<String>,
    /// DASH `@queryBeforeStart` (HLS: false).
    pub query_before_start: bool,
    /// DASH `@clientRequirement` (default true; HLS: true).
    pub client_requirement: bool,
    /// DASH `@proxyServerURL` (2022 draft only), absolute.
    pub proxy_server_url: Option<Url>,
}

/// What [`Presentation::apply_media_playlist`](crate::manifest::Presentation::apply_media_playlist)
/// changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistUpdate {
    /// Segments that were not known before.
    pub added: usize,
    /// Segments that slid out of the live window.
    pub removed: usize,
    /// True once the playlist has `EXT-X-ENDLIST`.
    pub ended: bool,
}

impl Presentation {
    /// All tracks of all periods, in order.
    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.periods.iter().flat_map(|p| p.tracks.iter())
    }

    /// All renditions of all periods, in order.
    pub fn renditions(&self) -> impl Iterator<Item = &Rendition> {
        self.tracks().flat_map(|t| t.renditions.iter())
    }

    /// The first rendition with this id (DASH ids repeat across periods: this is the
    /// one in the earliest period).
    pub fn rendition(&self, id: &str) -> Option<&Rendition> {
        self.renditions().find(|r| r.id == id)
    }

    /// Mutable access to the first rendition with this id.
    pub fn rendition_mut(&mut self, id: &str) -> Option<&mut Rendition> {
        self.periods
            .iter_mut()
            .flat_map(|p| p.tracks.iter_mut())
            .flat_map(|t| t.renditions.iter_mut())
            .find(|r| r.id == id)
    }

    /// True for a live presentation.
    pub fn is_live(&self) -> bool {
        self.presentation_type == PresentationType::Live
    }

    /// `(rendition id, media playlist URL)` of every HLS rendition whose playlist is
    /// not loaded yet, in document order: what a driver fetches and hands to
    /// [`Presentation::apply_media_playlist`](crate::manifest::Presentation::apply_media_playlist).
    pub fn pending_playlists(&self) -> Vec<(String, Url)> {
        self.renditions()
            .filter(|r| r.index == SegmentIndex::Unresolved)
            .filter_map(|r| r.playlist_url.clone().map(|u| (r.id.clone(), u)))
            .collect()
    }
}

impl Rendition {
    /// The explicit segments, if the index is a list.
    pub fn segments(&self) -> Option<&[Segment]> {
        match &self.index {
            SegmentIndex::Segments(list) => Some(&list.segments),
            _ => None,
        }
    }

    /// Bandwidth to rank renditions by: `BANDWIDTH`, else `AVERAGE-BANDWIDTH`.
    pub fn ranking_bandwidth(&self) -> Option<u64> {
        self.bandwidth.or(self.average_bandwidth)
    }

    /// The base URL on `pathway`, else the default (first) one.
    pub fn base_on(&self, pathway: Option<&str>) -> Option<&Url> {
        let own =
            pathway.and_then(|p| self.bases.iter().find(|b| b.pathway_id.as_deref() == Some(p)));
        own.or_else(|| self.bases.first()).map(|b| &b.url)
    }

    /// Resolves `reference` (a segment's or init segment's `uri`) against this
    /// rendition's base on `pathway` (`None`, or a pathway it has no base for: the
    /// default base).
    pub fn url_on(&self, reference: &str, pathway: Option<&str>) -> Result<Url, UrlError> {
        match self.base_on(pathway) {
            Some(base) => base.join(reference),
            None => Err(UrlError::Syntax {
                uri: reference.to_string(),
                reason: format!("rendition {} has no base URL to resolve it against", self.id),
            }),
        }
    }

    /// The URL of `segment` on `pathway` (see [`url_on`](Self::url_on)).
    pub fn segment_url_on(&self, segment: &Segment, pathway: &str) -> Result<Url, UrlError> {
        self.url_on(&segment.uri, Some(pathway))
    }
}
