//! A presentation synthesised from a [`Ladder`], for simulators and tests: what the
//! session would see from a real on-demand DASH manifest whose segment sizes are the
//! ladder's.

use crate::Ladder;
use crate::manifest::{
    BaseLocation, ByteRange, ContentSteering, InitSegment, LiveTemplate, LiveWindow, ManifestKind,
    MediaType, Pathway, Period, Presentation, PresentationType, Rendition, Segment, SegmentIndex,
    SegmentList, Track, UtcTiming,
};
use crate::uri::{Url, UrlError};
use std::sync::Arc;

/// How to dress the ladder up as a presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOptions {
    /// Pathways `(id, host)`, first = default; every rendition exists on each.
    pub pathways: Vec<(String, String)>,
    /// A separate audio track at this bitrate (kbit/s), if any.
    pub audio_kbps: Option<f64>,
    /// Size of each rendition's init segment in bytes (0 = no init segments).
    pub init_bytes: u64,
    /// Steering server URL (with `PATHWAY-ID` = the first pathway), if any.
    pub steering_url: Option<Url>,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        Self {
            pathways: vec![("cdn-a".into(), "cdn-a.example".into())],
            audio_kbps: None,
            init_bytes: 0,
            steering_url: None,
        }
    }
}

fn rendition(
    id: &str,
    kbps: f64,
    sizes_bits: impl Iterator<Item = f64>,
    seg_s: f64,
    opts: &SyntheticOptions,
    kind: &str,
) -> Result<Rendition, UrlError> {
    let mut bases: Vec<BaseLocation> = opts
        .pathways
        .iter()
        .map(|(p, host)| {
            Ok(BaseLocation {
                pathway_id: Some(p.clone()),
                url: Url::parse(&format!("https://{host}/{kind}/{id}/"))?,
            })
        })
        .collect::<Result<_, UrlError>>()?;
    if bases.is_empty() {
        let url = Url::parse(&format!("https://origin.example/{kind}/{id}/"))?;
        bases.push(BaseLocation { pathway_id: None, url });
    }
    let init = (opts.init_bytes > 0)
        .then(|| Arc::new(InitSegment { uri: "init.mp4".into(), byte_range: None }));
    let mut offset = 0u64;
    let segments = sizes_bits
        .enumerate()
        .map(|(n, bits)| {
            let length = (bits / 8.0).round().max(0.0) as u64;
            let range = ByteRange { offset, length };
            offset += length;
            Segment {
                uri: "media.mp4".into(),
                start_s: n as f64 * seg_s,
                duration_s: seg_s,
                number: n as u64 + 1,
                time: None,
                byte_range: Some(range),
                init: init.clone(),
                discontinuity: false,
            }
        })
        .collect();
    Ok(Rendition {
        id: id.into(),
        bandwidth: Some((kbps * 1000.0).round() as u64),
        average_bandwidth: None,
        resolution: None,
        codecs: None,
        frame_rate: None,
        mime_type: Some(format!("{kind}/mp4")),
        pathway_id: None,
        stable_id: None,
        audio_group: None,
        subtitles_group: None,
        group_id: None,
        playlist_url: None,
        bases,
        index: SegmentIndex::Segments(SegmentList {
            segments,
            target_duration_s: Some(seg_s),
            ended: true,
        }),
    })
}

/// A VOD presentation (DASH-shaped: one rendition per rung, a base URL per pathway)
/// whose video segments have exactly the ladder's sizes, as byte ranges of one file
/// per rendition. Fails only on a pathway host that is not a valid host name.
pub fn presentation_from_ladder(
    ladder: &Ladder,
    opts: &SyntheticOptions,
) -> Result<Presentation, UrlError> {
    let seg_s = ladder.segment_duration_s();
    let n = ladder.segment_count();
    let video: Vec<Rendition> = ladder
        .bitrates_kbps()
        .iter()
        .enumerate()
        .map(|(r, &kbps)| {
            rendition(
                &format!("v{r}"),
                kbps,
                (0..n).map(|i| ladder.segment_size_bits(i, r)),
                seg_s,
                opts,
                "video",
            )
        })
        .collect::<Result<_, _>>()?;
    let mut tracks = vec![Track::main_video(video)];
    if let Some(kbps) = opts.audio_kbps {
        let bits = kbps * 1000.0 * seg_s;
        tracks.push(Track {
            id: "audio".into(),
            media_type: MediaType::Audio,
            language: Some("en".into()),
            name: None,
            default: true,
            autoselect: true,
            trick_play: false,
            renditions: vec![rendition("a0", kbps, (0..n).map(|_| bits), seg_s, opts, "audio")?],
        });
    }
    let duration = n as f64 * seg_s;
    Ok(Presentation {
        kind: ManifestKind::Dash,
        url: Url::parse("https://origin.example/synthetic.mpd")?,
        presentation_type: PresentationType::Vod,
        live: None,
        duration_s: Some(duration),
        periods: vec![Period { id: None, start_s: 0.0, duration_s: Some(duration), tracks }],
        pathways: opts.pathways.iter().map(|(id, _)| Pathway { id: id.clone() }).collect(),
        steering: opts.steering_url.as_ref().map(|u| ContentSteering {
            server_url: u.clone(),
            default_pathways: opts.pathways.first().map(|p| vec![p.0.clone()]).unwrap_or_default(),
            query_before_start: true,
            client_requirement: true,
            proxy_server_url: None,
        }),
        warnings: Vec::new(),
    })
}

/// The wall-clock placing of a live presentation made from a ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticLive {
    /// DASH `availabilityStartTime`, Unix seconds: segment `n` (from 1) exists once
    /// `n` segment durations have passed since.
    pub availability_start_unix_s: f64,
    /// `@timeShiftBufferDepth`, seconds (`None`: the whole stream).
    pub time_shift_buffer_depth_s: Option<f64>,
    /// `@suggestedPresentationDelay`, seconds.
    pub suggested_presentation_delay_s: Option<f64>,
    /// The `UTCTiming` sources the MPD would name.
    pub utc_timing: Vec<UtcTiming>,
}

/// The ladder as a live DASH presentation addressed by `SegmentTemplate@duration` and
/// `$Number$` (media `seg-$Number$.m4s`, numbers from 1), which ends after the
/// ladder's last segment (`@endNumber`): what the simulator plays on a virtual wall
/// clock. Segment sizes are not in the manifest (a template has none).
pub fn live_presentation_from_ladder(
    ladder: &Ladder,
    opts: &SyntheticOptions,
    live: &SyntheticLive,
) -> Result<Presentation, UrlError> {
    let mut p = presentation_from_ladder(ladder, opts)?;
    let seg_s = ladder.segment_duration_s();
    const TIMESCALE: u64 = 1000;
    for r in p.periods.iter_mut().flat_map(|x| x.tracks.iter_mut()).flat_map(|t| &mut t.renditions)
    {
        let Some(base_url) = r.bases.first().map(|b| b.url.clone()) else { continue };
        let init = r.segments().and_then(|s| s.first()).and_then(|s| s.init.clone());
        r.index = SegmentIndex::LiveTemplate(LiveTemplate {
            media: "seg-$Number$.m4s".into(),
            init,
            start_number: 1,
            end_number: Some(ladder.segment_count() as u64),
            duration: (seg_s * TIMESCALE as f64).round().max(1.0) as u64,
            timescale: TIMESCALE,
            presentation_time_offset: 0,
            period_start_s: 0.0,
            period_duration_s: None,
            availability_start_unix_s: live.availability_start_unix_s,
            time_shift_buffer_depth_s: live.time_shift_buffer_depth_s,
            base_url,
        });
    }
    p.presentation_type = PresentationType::Live;
    p.duration_s = None;
    p.live = Some(LiveWindow {
        availability_start_unix_s: Some(live.availability_start_unix_s),
        time_shift_buffer_depth_s: live.time_shift_buffer_depth_s,
        suggested_presentation_delay_s: live.suggested_presentation_delay_s,
        utc_timing: live.utc_timing.clone(),
        ..LiveWindow::default()
    });
    Ok(p)
}
