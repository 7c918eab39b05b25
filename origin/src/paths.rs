//! The origin's URL layout, the same on every listener:
//!
//! ```text
//! /vod/master.m3u8            HLS multivariant playlist (VOD)
//! /vod/manifest.mpd           DASH MPD (static, SegmentTemplate)
//! /vod/ondemand.mpd           DASH MPD (static, on-demand profile: SegmentBase + sidx)
//! /vod/<rid>/ondemand.mp4     rendition <rid> as one file (init, sidx, segments),
//!                             served by byte range
//! /vod/periods.mpd            DASH MPD (static): the content played twice, as two
//!                             Periods over the same files (the second without the
//!                             top video rung)
//! /vod/discontinuity.m3u8     HLS multivariant playlist of the content played twice
//! /vod/<rid>/discontinuity.m3u8
//!                             HLS media playlist of rendition <rid>: its segments,
//!                             EXT-X-DISCONTINUITY, the same segments again
//! /vod/<rid>/playlist.m3u8    HLS media playlist of rendition <rid>
//! /vod/<rid>/init.mp4         init segment
//! /vod/<rid>/<n>.m4s          media segment n (0-based)
//! /live/...                   the same for the live stream (dynamic MPD, sliding window)
//! /live/template.mpd          the live stream as SegmentTemplate@duration + $Number$
//!                             (segments exist by the wall clock), with UTCTiming
//! /time                       the origin's clock: an xs:dateTime body and a Date
//!                             header (the UTCTiming http-xsdate / http-iso / http-head
//!                             endpoint)
//! /steering/hls.json          HLS steering manifest
//! /steering/dash.json         DASH steering manifest
//! ```

use crate::faults::RequestKind;

/// VOD or live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The ladder as on-demand content.
    Vod,
    /// The ladder looped as a live stream.
    Live,
}

impl Stream {
    /// The path prefix, `vod` or `live`.
    pub fn prefix(self) -> &'static str {
        match self {
            Stream::Vod => "vod",
            Stream::Live => "live",
        }
    }
}

/// Which steering manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SteeringProtocol {
    /// `_HLS_pathway` / `_HLS_throughput`.
    Hls,
    /// `_DASH_pathway` / `_DASH_throughput`.
    Dash,
}

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The HLS multivariant playlist.
    Multivariant(Stream),
    /// The DASH MPD.
    Mpd(Stream),
    /// A media playlist.
    MediaPlaylist(Stream, String),
    /// An init segment.
    Init(Stream, String),
    /// Media segment `n`.
    Segment(Stream, String, u64),
    /// A steering manifest.
    Steering(SteeringProtocol),
    /// The on-demand DASH MPD (VOD only).
    OnDemandMpd,
    /// A rendition's on-demand file (VOD only).
    OnDemandFile(String),
    /// The live MPD addressed by `SegmentTemplate@duration` and `$Number$`.
    TemplateMpd,
    /// The two-Period DASH MPD (VOD only).
    PeriodsMpd,
    /// The multivariant playlist of the content played twice (VOD only).
    DiscontinuityMultivariant,
    /// A rendition's media playlist with a discontinuity (VOD only).
    DiscontinuityPlaylist(String),
    /// The origin's clock.
    Time,
}

impl Resource {
    /// The request kind, for fault filters and the log.
    pub fn kind(&self) -> RequestKind {
        match self {
            // The clock counts as a document: manifest faults apply to it too.
            Resource::Multivariant(_)
            | Resource::Mpd(_)
            | Resource::MediaPlaylist(..)
            | Resource::OnDemandMpd
            | Resource::TemplateMpd
            | Resource::PeriodsMpd
            | Resource::DiscontinuityMultivariant
            | Resource::DiscontinuityPlaylist(_)
            | Resource::Time => RequestKind::Manifest,
            // Its init and index ranges too: the path alone does not tell them apart.
            Resource::OnDemandFile(_) => RequestKind::Media,
            Resource::Init(..) => RequestKind::Init,
            Resource::Segment(..) => RequestKind::Media,
            Resource::Steering(_) => RequestKind::Steering,
        }
    }

    /// Parses a request path (without query).
    pub fn parse(path: &str) -> Option<Resource> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let stream = |p: &str| match p {
            "vod" => Some(Stream::Vod),
            "live" => Some(Stream::Live),
            _ => None,
        };
        match parts.as_slice() {
            ["steering", "hls.json"] => Some(Resource::Steering(SteeringProtocol::Hls)),
            ["steering", "dash.json"] => Some(Resource::Steering(SteeringProtocol::Dash)),
            ["time"] => Some(Resource::Time),
            ["live", "template.mpd"] => Some(Resource::TemplateMpd),
            [s, "master.m3u8"] => Some(Resource::Multivariant(stream(s)?)),
            [s, "manifest.mpd"] => Some(Resource::Mpd(stream(s)?)),
            ["vod", "ondemand.mpd"] => Some(Resource::OnDemandMpd),
            ["vod", rid, ON_DEMAND_FILE] => Some(Resource::OnDemandFile(rid.to_string())),
            ["vod", PERIODS_MPD] => Some(Resource::PeriodsMpd),
            ["vod", DISCONTINUITY_PLAYLIST] => Some(Resource::DiscontinuityMultivariant),
            ["vod", rid, DISCONTINUITY_PLAYLIST] => {
                Some(Resource::DiscontinuityPlaylist(rid.to_string()))
            }
            [s, rid, file] => {
                let s = stream(s)?;
                let rid = rid.to_string();
                match *file {
                    "playlist.m3u8" => Some(Resource::MediaPlaylist(s, rid)),
                    "init.mp4" => Some(Resource::Init(s, rid)),
                    f => {
                        let n = f.strip_suffix(".m4s")?;
                        // Digits only: no signs, no spaces, no overflow.
                        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                            return None;
                        }
                        Some(Resource::Segment(s, rid, n.parse().ok()?))
                    }
                }
            }
            _ => None,
        }
    }
}

/// Path of the multivariant playlist.
pub fn multivariant(stream: Stream) -> String {
    format!("/{}/master.m3u8", stream.prefix())
}

/// Path of the MPD.
pub fn mpd(stream: Stream) -> String {
    format!("/{}/manifest.mpd", stream.prefix())
}

/// Path of the on-demand MPD.
pub fn on_demand_mpd() -> String {
    "/vod/ondemand.mpd".to_string()
}

/// File name of a rendition's on-demand file.
const ON_DEMAND_FILE: &str = "ondemand.mp4";

/// A rendition's on-demand file, relative to the `/vod/` base the MPD names.
pub fn on_demand_file_name(rid: &str) -> String {
    format!("{rid}/{ON_DEMAND_FILE}")
}

/// Path of a rendition's on-demand file.
pub fn on_demand_file(rid: &str) -> String {
    format!("/vod/{}", on_demand_file_name(rid))
}
/// File name of the two-Period MPD.
const PERIODS_MPD: &str = "periods.mpd";

/// File name of the playlists with a discontinuity, multivariant and media alike.
const DISCONTINUITY_PLAYLIST: &str = "discontinuity.m3u8";

/// Path of the two-Period DASH MPD.
pub fn periods_mpd() -> String {
    format!("/vod/{PERIODS_MPD}")
}

/// Path of the multivariant playlist whose media playlists have a discontinuity.
pub fn discontinuity_multivariant() -> String {
    format!("/vod/{DISCONTINUITY_PLAYLIST}")
}

/// Path of rendition `rid`'s media playlist with a discontinuity.
pub fn discontinuity_playlist(rid: &str) -> String {
    format!("/vod/{rid}/{DISCONTINUITY_PLAYLIST}")
}

/// Path of the live MPD addressed by `SegmentTemplate@duration` and `$Number$`.
pub const TEMPLATE_MPD: &str = "/live/template.mpd";

/// Path of the origin's clock (`UTCTiming` endpoint).
pub const TIME: &str = "/time";

/// Path of a media playlist.
pub fn media_playlist(stream: Stream, rid: &str) -> String {
    format!("/{}/{rid}/playlist.m3u8", stream.prefix())
}

/// Path of an init segment.
pub fn init(stream: Stream, rid: &str) -> String {
    format!("/{}/{rid}/init.mp4", stream.prefix())
}

/// Path of media segment `n`.
pub fn segment(stream: Stream, rid: &str, n: u64) -> String {
    format!("/{}/{rid}/{n}.m4s", stream.prefix())
}

/// Path of a steering manifest.
pub fn steering(protocol: SteeringProtocol) -> &'static str {
    match protocol {
        SteeringProtocol::Hls => "/steering/hls.json",
        SteeringProtocol::Dash => "/steering/dash.json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [Stream::Vod, Stream::Live] {
            assert_eq!(Resource::parse(&multivariant(s)), Some(Resource::Multivariant(s)));
            assert_eq!(Resource::parse(&mpd(s)), Some(Resource::Mpd(s)));
            assert_eq!(
                Resource::parse(&media_playlist(s, "v1")),
                Some(Resource::MediaPlaylist(s, "v1".into()))
            );
            assert_eq!(Resource::parse(&init(s, "a0")), Some(Resource::Init(s, "a0".into())));
            assert_eq!(
                Resource::parse(&segment(s, "v0", 12)),
                Some(Resource::Segment(s, "v0".into(), 12))
            );
        }
        assert_eq!(Resource::parse(TEMPLATE_MPD), Some(Resource::TemplateMpd));
        assert_eq!(Resource::parse(TIME), Some(Resource::Time));
        assert_eq!(
            Resource::parse(steering(SteeringProtocol::Dash)),
            Some(Resource::Steering(SteeringProtocol::Dash))
        );
        assert_eq!(Resource::parse(&on_demand_mpd()), Some(Resource::OnDemandMpd));
        assert_eq!(
            Resource::parse(&on_demand_file("v2")),
            Some(Resource::OnDemandFile("v2".into()))
        );
        // On demand is VOD only.
        assert_eq!(Resource::parse("/live/ondemand.mpd"), None);
        assert_eq!(Resource::parse("/live/v2/ondemand.mp4"), None);
        assert_eq!(Resource::parse(&periods_mpd()), Some(Resource::PeriodsMpd));
        assert_eq!(
            Resource::parse(&discontinuity_multivariant()),
            Some(Resource::DiscontinuityMultivariant)
        );
        assert_eq!(
            Resource::parse(&discontinuity_playlist("a0")),
            Some(Resource::DiscontinuityPlaylist("a0".into()))
        );
        for r in [Resource::PeriodsMpd, Resource::DiscontinuityPlaylist("v0".into())] {
            assert_eq!(r.kind(), RequestKind::Manifest);
        }
        // So are periods and discontinuities.
        for p in ["/live/periods.mpd", "/live/discontinuity.m3u8", "/live/v0/discontinuity.m3u8"] {
            assert_eq!(Resource::parse(p), None, "{p}");
        }
    }

    #[test]
    fn rejects_junk() {
        for p in [
            "/",
            "/vod",
            "/x/master.m3u8",
            "/vod/v0/-1.m4s",
            "/vod/v0/+1.m4s",
            "/vod/v0/.m4s",
            "/vod/v0/99999999999999999999999.m4s",
            "/vod/../etc/passwd",
            "/vod/v0/1.mp4",
        ] {
            assert_eq!(Resource::parse(p), None, "{p}");
        }
    }
}
