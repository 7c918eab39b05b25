//! CMCD: the keys of each request, computed when the session asks for it, from what
//! only the session knows then — the rung and its bitrate, the track's buffer, the
//! segment's duration and the next one, the throughput, whether playback starved.
//! Drivers only serialise them ([`FetchRequest::wire`]), so every driver sends the
//! same keys, live refreshes and pathway switches included.

use super::action::{FetchKind, FetchRequest, PlayerState};
use super::machine::Core;
use crate::cmcd::{CmcdContext, CmcdData, StreamType, StreamingFormat, request_data};
use crate::manifest::{ByteRange, ManifestKind, PresentationType};
use crate::uri::Url;

/// The session's CMCD state across requests.
#[derive(Debug, Default)]
pub(super) struct CmcdState {
    /// `sid`, fixed for the session.
    pub session_id: String,
    /// The buffer ran dry since the last media request (`bs`).
    pub starved: bool,
}

/// What a media or init segment request adds to the session-wide keys.
#[derive(Debug, Default)]
pub(super) struct ObjectKeys {
    /// `br`: the rung's bitrate, kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// `tb`: the track's top rung, kbit/s.
    pub top_kbps: Option<f64>,
    /// `d`: the segment's duration, seconds.
    pub duration_s: Option<f64>,
    /// `bl`: media buffered ahead of the playhead on this track, seconds.
    pub buffer_s: Option<f64>,
    /// `nor`/`nrr`: the segment after this one on the same rung and pathway.
    pub next: Option<(Url, Option<ByteRange>)>,
}

/// `to` relative to the directory of `from` when both are on the same origin and
/// `to` lies under that directory, else `to`'s absolute path (same origin) or URL.
fn relative(from: &Url, to: &Url) -> String {
    let (f, t) = (from.as_url(), to.as_url());
    if f.origin() != t.origin() {
        return to.to_string();
    }
    let dir = f.path().rfind('/').map_or("", |i| &f.path()[..=i]);
    let rel = match t.path().strip_prefix(dir) {
        Some(rest) if !dir.is_empty() && !rest.is_empty() => rest.to_string(),
        _ => t.path().to_string(),
    };
    match t.query() {
        Some(q) => format!("{rel}?{q}"),
        None => rel,
    }
}

impl Core<'_> {
    /// The CMCD keys of `req`, or `None` when CMCD is off, `req` asks a `UTCTiming`
    /// clock, or it is a steering request and CMCD on steering is off. A media request clears the
    /// starvation flag it reports.
    pub(super) fn cmcd_keys(
        &mut self,
        req: &FetchRequest,
        object: Option<ObjectKeys>,
    ) -> Option<CmcdData> {
        let config = &self.config.cmcd;
        let steering = req.kind == FetchKind::Steering;
        // A time server has no use for playback data.
        let clock = matches!(req.kind, FetchKind::UtcTiming { .. });
        if !config.enabled() || clock || (steering && !config.on_steering) {
            return None;
        }
        let object = object.unwrap_or_default();
        let current = self.steering.current().to_string();
        let ctx = CmcdContext {
            now: self.now,
            session_id: Some(self.cmcd.session_id.clone()),
            content_id: config.content_id.clone(),
            format: Some(match self.presentation.kind {
                ManifestKind::Hls => StreamingFormat::Hls,
                ManifestKind::Dash => StreamingFormat::Dash,
            }),
            stream_type: match self.presentation.presentation_type {
                PresentationType::Vod => Some(StreamType::Vod),
                PresentationType::Live => Some(StreamType::Live),
                PresentationType::Undetermined => None,
            },
            buffer_level_s: Some(object.buffer_s.unwrap_or_else(|| self.buffer_level_s())),
            throughput_kbps: self
                .steering
                .throughput_kbps(&current, self.now)
                .or_else(|| self.estimator.throughput_kbps()),
            // HLS audio renditions carry no bandwidth: the plan ranks them by order,
            // which is not a bitrate.
            bitrate_kbps: object.bitrate_kbps.filter(|k| *k >= 1.0),
            top_bitrate_kbps: object.top_kbps.filter(|k| *k >= 1.0),
            object_duration_s: object.duration_s,
            next_object: object.next.as_ref().map(|(next, _)| relative(&req.url, next)),
            next_range: object.next.and_then(|(_, range)| range),
            urgent: matches!(
                self.playback.state,
                PlayerState::Loading | PlayerState::Buffering | PlayerState::Stalled
            ),
            starved: self.cmcd.starved,
            playback_rate: if self.playback.state == PlayerState::Playing { 1.0 } else { 0.0 },
            requested_max_throughput_kbps: None,
        };
        let data = request_data(req, &ctx);
        if data.ot.is_some_and(|o| o.is_media()) {
            self.cmcd.starved = false;
        }
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_objects_are_relative_to_the_request() {
        let u = |s: &str| Url::parse(s).unwrap();
        let from = u("http://a/v/1/seg_1.m4s?t=x");
        assert_eq!(relative(&from, &u("http://a/v/1/seg_2.m4s")), "seg_2.m4s");
        assert_eq!(relative(&from, &u("http://a/v/1/seg_2.m4s?t=y")), "seg_2.m4s?t=y");
        assert_eq!(relative(&from, &u("http://a/v/2/seg_2.m4s")), "/v/2/seg_2.m4s");
        assert_eq!(relative(&from, &u("http://b/v/1/seg_2.m4s")), "http://b/v/1/seg_2.m4s");
    }
}
