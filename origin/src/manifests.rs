//! Manifest rendering from a [`ContentInfo`] and the listeners' base URLs.
//!
//! Everything is rendered per request, from the ports actually bound, so the same
//! content can be served on any set of listeners:
//!
//! - HLS multivariant playlist: `EXT-X-CONTENT-STEERING` (`SERVER-URI`, `PATHWAY-ID` =
//!   the first pathway), then per pathway one audio `EXT-X-MEDIA` (group
//!   `audio-<pathway>`) and one `EXT-X-STREAM-INF` per video rung, with absolute URIs
//!   on that pathway's host. `BANDWIDTH` and `AVERAGE-BANDWIDTH` add the audio
//!   rendition's bitrate to the rung's, since a variant's bandwidth covers every
//!   rendition played with it.
//! - HLS media playlists with relative URIs, so they resolve on whichever pathway
//!   served the playlist: VOD (`EXT-X-MAP`, `EXTINF` from the real durations at full
//!   precision, so their sums land on the `tfdt`s,
//!   `EXT-X-ENDLIST`) or live (sliding window, `EXT-X-MEDIA-SEQUENCE`, no end).
//! - DASH MPD, static or dynamic: one `BaseURL` per pathway (`serviceLocation`), a
//!   `ContentSteering` element, and per Representation a `SegmentTemplate` with a
//!   `SegmentTimeline` from the real durations in the track's own timescale.
//! - The VOD content played twice, for players that cross a boundary where media
//!   timestamps restart: a static MPD of two Periods over the same files
//!   ([`dash_periods`]), and HLS media playlists that repeat their segments after an
//!   `EXT-X-DISCONTINUITY` ([`hls_discontinuity_media`]), named by their own
//!   multivariant playlist ([`hls_discontinuity_multivariant`]).

use crate::content::ContentInfo;
use crate::live::{LiveSegment, LiveTimeline};
use crate::paths::{self, SteeringProtocol, Stream};
use crate::renditions::{self, MediaKind, RenditionRef};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One pathway's listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathwayBase {
    /// Pathway ID.
    pub name: String,
    /// Scheme, host and port, no trailing slash (`http://127.0.0.1:8001`).
    pub base_url: String,
}

/// Where everything is, as manifests must say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The pathways, most preferred (the default pathway) first.
    pub pathways: Vec<PathwayBase>,
    /// Base URL of the steering listener, no trailing slash.
    pub steering_base: String,
    /// DASH `ContentSteering@queryBeforeStart`.
    pub query_before_start: bool,
    /// DASH `ContentSteering@proxyServerURL`.
    pub proxy_server_url: Option<String>,
}

impl Site {
    /// The steering manifest URL for `protocol`.
    pub fn steering_url(&self, protocol: SteeringProtocol) -> String {
        format!("{}{}", self.steering_base, paths::steering(protocol))
    }
}

/// Media timescales (ticks per second) by rendition id, from the init segments'
/// `mdhd`; renditions missing here use 90 000 (video) or the sample rate (audio).
pub type Timescales = BTreeMap<String, u32>;

pub(crate) fn timescale(info: &ContentInfo, timescales: &Timescales, r: &RenditionRef<'_>) -> u32 {
    timescales.get(r.id).copied().unwrap_or(match r.kind {
        MediaKind::Video => 90_000,
        MediaKind::Audio => info.audio.sample_rate.max(1),
    })
}

fn audio_group(pathway: &str) -> String {
    format!("audio-{pathway}")
}

/// The HLS multivariant playlist of `stream`.
pub fn hls_multivariant(info: &ContentInfo, site: &Site, stream: Stream) -> String {
    multivariant(info, site, &|rid| paths::media_playlist(stream, rid))
}

/// The HLS multivariant playlist of the VOD content played twice: the variants,
/// audio groups, pathways and steering of [`hls_multivariant`], naming the media
/// playlists of [`hls_discontinuity_media`].
pub fn hls_discontinuity_multivariant(info: &ContentInfo, site: &Site) -> String {
    multivariant(info, site, &|rid| paths::discontinuity_playlist(rid))
}

/// A multivariant playlist whose media playlist of rendition `rid` is at
/// `playlist_of(rid)` on each pathway's host.
fn multivariant(info: &ContentInfo, site: &Site, playlist_of: &dyn Fn(&str) -> String) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let steering = site.steering_url(SteeringProtocol::Hls);
    match site.pathways.first() {
        Some(first) => {
            let _ = writeln!(
                out,
                "#EXT-X-CONTENT-STEERING:SERVER-URI=\"{steering}\",PATHWAY-ID=\"{}\"",
                first.name
            );
        }
        None => {
            let _ = writeln!(out, "#EXT-X-CONTENT-STEERING:SERVER-URI=\"{steering}\"");
        }
    }
    let audio = &info.audio;
    for p in &site.pathways {
        let group = audio_group(&p.name);
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{group}\",NAME=\"main\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"{}\",STABLE-RENDITION-ID=\"{}\",URI=\"{}{}\"",
            audio.channels,
            audio.id,
            p.base_url,
            playlist_of(&audio.id)
        );
        for v in &info.video {
            let _ = writeln!(
                out,
                "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{},{}\",FRAME-RATE={:.3},AUDIO=\"{group}\",PATHWAY-ID=\"{}\",STABLE-VARIANT-ID=\"{}\"",
                v.bandwidth_bps + audio.bandwidth_bps,
                v.average_bandwidth_bps + audio.bandwidth_bps,
                v.width,
                v.height,
                v.codecs,
                audio.codecs,
                v.frame_rate,
                p.name,
                v.id
            );
            let _ = writeln!(out, "{}{}", p.base_url, playlist_of(&v.id));
        }
    }
    out
}

/// `EXT-X-TARGETDURATION`: no segment may round to more (RFC 8216 §4.3.3.1).
fn target_duration<'a>(durations: impl Iterator<Item = &'a f64>) -> u64 {
    durations.map(|d| d.round() as u64).max().unwrap_or(1).max(1)
}

/// The VOD media playlist of rendition `rid`; `None` if there is no such rendition.
pub fn hls_media_vod(info: &ContentInfo, rid: &str) -> Option<String> {
    let r = renditions::find(info, rid)?;
    let td = target_duration(r.segments.iter().map(|s| &s.duration_s));
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{td}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n"
    );
    for (n, s) in r.segments.iter().enumerate() {
        let _ = writeln!(out, "#EXTINF:{},\n{n}.m4s", s.duration_s);
    }
    out.push_str("#EXT-X-ENDLIST\n");
    Some(out)
}

/// The VOD media playlist of rendition `rid` played twice: its segments, then
/// `EXT-X-DISCONTINUITY` (the same files again, so media timestamps restart) and
/// `EXT-X-MAP` again, then its segments, then `EXT-X-ENDLIST`; `None` if there is no
/// such rendition.
///
/// Each half starts at its rendition's first segment, as in [`hls_media_vod`]. The
/// discontinuity is at [`content_span`]'s duration in every rendition, the instant
/// the second Period of [`dash_periods`] starts: a rendition that ends earlier than
/// the content (audio, whose frames do not divide the segment duration) has its last
/// `EXTINF` before the discontinuity stretched to that instant. Players place what
/// follows a discontinuity by the `EXTINF` sums, so without the stretch the second
/// half of the audio would start a few milliseconds before the video's.
pub fn hls_discontinuity_media(info: &ContentInfo, rid: &str) -> Option<String> {
    let r = renditions::find(info, rid)?;
    let (_, span_s) = content_span(info);
    let first_s = r.segments.first().map_or(0.0, |s| s.start_s);
    let mut first_half: Vec<f64> = r.segments.iter().map(|s| s.duration_s).collect();
    if let (Some(last_d), Some(last)) = (first_half.last_mut(), r.segments.last()) {
        let to_span = span_s - (last.start_s - first_s);
        // Float noise is not a gap: a rendition as long as the content keeps its
        // exact durations.
        if to_span > *last_d + 1e-6 {
            *last_d = to_span;
        }
    }
    let second_half = r.segments.iter().map(|s| &s.duration_s);
    let td = target_duration(first_half.iter().chain(second_half));
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{td}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n"
    );
    for (n, d) in first_half.iter().enumerate() {
        let _ = writeln!(out, "#EXTINF:{d},\n{n}.m4s");
    }
    // The same files again: their timestamps restart, which only a discontinuity
    // allows; the init segment is named again so the second half stands alone.
    out.push_str("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n");
    for (n, s) in r.segments.iter().enumerate() {
        let _ = writeln!(out, "#EXTINF:{},\n{n}.m4s", s.duration_s);
    }
    out.push_str("#EXT-X-ENDLIST\n");
    Some(out)
}

/// The live media playlist of rendition `rid` at `live_s` seconds of live time.
pub fn hls_media_live(
    info: &ContentInfo,
    timeline: &LiveTimeline,
    rid: &str,
    live_s: f64,
) -> Option<String> {
    let r = renditions::find(info, rid)?;
    let window = timeline.window(&r, live_s);
    let td = target_duration(r.segments.iter().map(|s| &s.duration_s));
    let first = window.first().map_or(0, |s| s.number);
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{td}\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n"
    );
    for s in &window {
        let _ = writeln!(out, "#EXTINF:{},\n{}.m4s", s.duration_s, s.number);
    }
    Some(out)
}

/// Escapes text for an XML attribute or element.
pub(crate) fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// An `xs:duration` of `s` seconds.
pub(crate) fn xs_duration(s: f64) -> String {
    format!("PT{:.3}S", s.max(0.0))
}

/// DASH `@frameRate`: an integer, or a `/1001` fraction when it is one.
pub(crate) fn frame_rate(fps: f64) -> String {
    if (fps - fps.round()).abs() < 1e-6 {
        format!("{}", fps.round() as u64)
    } else {
        let n = (fps * 1001.0).round();
        if (n / 1001.0 - fps).abs() < 1e-6 { format!("{n}/1001") } else { format!("{fps:.3}") }
    }
}

/// Unix seconds as RFC 3339 UTC with milliseconds (`2026-01-02T03:04:05.678Z`).
pub fn rfc3339(unix_s: f64) -> String {
    let ms_total = (unix_s * 1000.0).round() as i64;
    let secs = ms_total.div_euclid(1000);
    let ms = ms_total.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// One `SegmentTimeline` entry in ticks.
struct Tick {
    t: u64,
    d: u64,
}

/// `<S>` elements, with runs of equal, contiguous durations folded into `@r`.
fn timeline_xml(entries: &[Tick], indent: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut expected_t: Option<u64> = None;
    while i < entries.len() {
        let e = &entries[i];
        let mut r = 0;
        while let Some(next) = entries.get(i + r + 1) {
            if next.d == e.d && next.t == e.t + (r as u64 + 1) * e.d {
                r += 1;
            } else {
                break;
            }
        }
        let t_attr =
            if expected_t == Some(e.t) { String::new() } else { format!(" t=\"{}\"", e.t) };
        let r_attr = if r > 0 { format!(" r=\"{r}\"") } else { String::new() };
        let _ = writeln!(out, "{indent}<S{t_attr} d=\"{}\"{r_attr}/>", e.d);
        expected_t = Some(e.t + (r as u64 + 1) * e.d);
        i += r + 1;
    }
    out
}

pub(crate) fn ticks(s: f64, ts: u32) -> u64 {
    (s * f64::from(ts)).round().max(0.0) as u64
}

/// The `SegmentTemplate` of one Representation; `pto` is its
/// `@presentationTimeOffset`, written only when given.
fn segment_template(ts: u32, start_number: u64, pto: Option<u64>, entries: &[Tick]) -> String {
    let pto = pto.map(|t| format!(" presentationTimeOffset=\"{t}\"")).unwrap_or_default();
    format!(
        "        <SegmentTemplate timescale=\"{ts}\"{pto} initialization=\"$RepresentationID$/init.mp4\" media=\"$RepresentationID$/$Number$.m4s\" startNumber=\"{start_number}\">\n          <SegmentTimeline>\n{}          </SegmentTimeline>\n        </SegmentTemplate>\n",
        timeline_xml(entries, "            ")
    )
}

/// The MPD header's shared part: BaseURLs and ContentSteering.
pub(crate) fn mpd_locations(site: &Site, stream: Stream) -> String {
    let mut out = String::new();
    for p in &site.pathways {
        let _ = writeln!(
            out,
            "  <BaseURL serviceLocation=\"{}\">{}/{}/</BaseURL>",
            xml(&p.name),
            xml(&p.base_url),
            stream.prefix()
        );
    }
    let default = site.pathways.first().map(|p| p.name.as_str()).unwrap_or("");
    let proxy = site
        .proxy_server_url
        .as_deref()
        .map(|u| format!(" proxyServerURL=\"{}\"", xml(u)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  <ContentSteering defaultServiceLocation=\"{}\" queryBeforeStart=\"{}\"{proxy}>{}</ContentSteering>",
        xml(default),
        site.query_before_start,
        xml(&site.steering_url(SteeringProtocol::Dash))
    );
    out
}

/// Gives a rendition's `SegmentTemplate` element, given its timescale.
type TemplateOf<'f> = &'f dyn Fn(&RenditionRef<'_>, u32) -> String;

/// The `SegmentTemplate` of a rendition whose `(startNumber, timeline)` `timeline_of`
/// gives.
fn timeline_template(
    timeline_of: impl Fn(&RenditionRef<'_>, u32) -> (u64, Vec<Tick>),
) -> impl Fn(&RenditionRef<'_>, u32) -> String {
    move |r, ts| {
        let (start, entries) = timeline_of(r, ts);
        segment_template(ts, start, None, &entries)
    }
}

/// One Period: its id, when it plays, and which renditions it lists.
struct PeriodSpec<'a> {
    /// `@id`.
    id: &'a str,
    /// `@start`, seconds of presentation time.
    start_s: f64,
    /// `@duration`, seconds; `None` leaves it out (the Period runs to the end).
    duration_s: Option<f64>,
    /// Whether the Period lists a rendition.
    lists: &'a dyn Fn(&RenditionRef<'_>) -> bool,
}

impl PeriodSpec<'_> {
    /// The one Period of the single-period MPDs: every rendition, from the start.
    fn whole() -> PeriodSpec<'static> {
        PeriodSpec { id: "0", start_s: 0.0, duration_s: None, lists: &|_| true }
    }
}

/// A Period's `@start`: `PT0S` at zero, as the single-period MPDs have always said it.
fn period_time(s: f64) -> String {
    if s > 0.0 { xs_duration(s) } else { "PT0S".to_string() }
}

/// A Period: one video and one audio AdaptationSet holding the renditions `period`
/// lists, each Representation with its own template (timelines differ between
/// renditions).
fn mpd_period(
    info: &ContentInfo,
    timescales: &Timescales,
    period: &PeriodSpec<'_>,
    template_of: TemplateOf<'_>,
) -> String {
    let all: Vec<RenditionRef<'_>> =
        renditions::all(info).into_iter().filter(|r| (period.lists)(r)).collect();
    let duration =
        period.duration_s.map(|d| format!(" duration=\"{}\"", xs_duration(d))).unwrap_or_default();
    let mut out = format!(
        "  <Period id=\"{}\" start=\"{}\"{duration}>\n",
        xml(period.id),
        period_time(period.start_s)
    );
    // The largest picture this Period lists, not the ladder's.
    let listed_video = || {
        info.video.iter().filter(|v| all.iter().any(|r| r.kind == MediaKind::Video && r.id == v.id))
    };
    let max_w = listed_video().map(|v| v.width).max().unwrap_or(0);
    let max_h = listed_video().map(|v| v.height).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\">"
    );
    for r in all.iter().filter(|r| r.kind == MediaKind::Video) {
        let Some(v) = info.video.iter().find(|v| v.id == r.id) else { continue };
        let ts = timescale(info, timescales, r);
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\" sar=\"1:1\" frameRate=\"{}\" codecs=\"{}\">",
            xml(&v.id),
            v.bandwidth_bps,
            v.width,
            v.height,
            frame_rate(v.frame_rate),
            xml(&v.codecs)
        );
        out.push_str(&template_of(r, ts));
        out.push_str("      </Representation>\n");
    }
    out.push_str("    </AdaptationSet>\n");
    let a = &info.audio;
    let _ = writeln!(
        out,
        "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">"
    );
    if let Some(r) = all.iter().find(|r| r.kind == MediaKind::Audio) {
        let ts = timescale(info, timescales, r);
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"{}\" codecs=\"{}\">",
            xml(&a.id),
            a.bandwidth_bps,
            a.sample_rate,
            xml(&a.codecs)
        );
        let _ = writeln!(
            out,
            "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
            a.channels
        );
        out.push_str(&template_of(r, ts));
        out.push_str("      </Representation>\n");
    }
    out.push_str("    </AdaptationSet>\n  </Period>\n");
    out
}

const MPD_OPEN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"";

/// The `SegmentTimeline` of rendition `r` in VOD: every segment, at its media time.
fn vod_ticks(r: &RenditionRef<'_>, ts: u32) -> Vec<Tick> {
    r.segments
        .iter()
        .map(|s| Tick { t: ticks(s.start_s, ts), d: ticks(s.duration_s, ts) })
        .collect()
}

/// The static (VOD) MPD.
pub fn dash_static(info: &ContentInfo, site: &Site, timescales: &Timescales) -> String {
    let duration = renditions::all(info).iter().map(RenditionRef::end_s).fold(0.0, f64::max);
    let mut out = format!(
        "{MPD_OPEN} type=\"static\" mediaPresentationDuration=\"{}\" minBufferTime=\"{}\">\n",
        xs_duration(duration),
        xs_duration(info.segment_duration_s * 2.0)
    );
    out.push_str(&mpd_locations(site, Stream::Vod));
    out.push_str(&mpd_period(
        info,
        timescales,
        &PeriodSpec::whole(),
        &timeline_template(|r, ts| (0, vod_ticks(r, ts))),
    ));
    out.push_str("</MPD>\n");
    out
}

/// The static MPD of the VOD content played twice, as two Periods: `p0` from
/// `PT0S` and `p1` from D, each lasting D, the duration of [`content_span`]
/// (rounded to the millisecond, as `xs:duration`s are written, so that `p0`'s end,
/// `p1`'s start and `@mediaPresentationDuration` agree).
///
/// Both list the AdaptationSets and Representations of [`dash_static`] over the
/// same segment files, except that `p1` leaves out the highest-bandwidth video rung
/// (when there are several), so that a player must map its rungs across a ladder
/// that changes between Periods. As `p1` plays the same files, its media times
/// restart: every `SegmentTemplate` has `@presentationTimeOffset` at the content's
/// earliest segment time (in its own timescale), so that time is each Period's
/// start. One offset for all renditions, not each one's first segment, keeps audio
/// and video as far apart as they are in the files.
pub fn dash_periods(info: &ContentInfo, site: &Site, timescales: &Timescales) -> String {
    let (start_s, span_s) = content_span(info);
    let d = (span_s * 1000.0).round() / 1000.0;
    let mut out = format!(
        "{MPD_OPEN} type=\"static\" mediaPresentationDuration=\"{}\" minBufferTime=\"{}\">\n",
        xs_duration(2.0 * d),
        xs_duration(info.segment_duration_s * 2.0)
    );
    out.push_str(&mpd_locations(site, Stream::Vod));
    let template = |r: &RenditionRef<'_>, ts: u32| {
        segment_template(ts, 0, Some(ticks(start_s, ts)), &vod_ticks(r, ts))
    };
    // A one-rung ladder keeps its rung: an AdaptationSet needs a Representation.
    let top = (info.video.len() > 1)
        .then(|| info.video.iter().max_by_key(|v| v.bandwidth_bps).map(|v| v.id.as_str()))
        .flatten();
    let periods = [
        PeriodSpec { id: "p0", start_s: 0.0, duration_s: Some(d), lists: &|_| true },
        PeriodSpec { id: "p1", start_s: d, duration_s: Some(d), lists: &|r| Some(r.id) != top },
    ];
    for period in &periods {
        out.push_str(&mpd_period(info, timescales, period, &template));
    }
    out.push_str("</MPD>\n");
    out
}

/// When the content plays: `(start, duration)` in seconds, from the earliest
/// segment of any rendition to the latest end of any.
pub fn content_span(info: &ContentInfo) -> (f64, f64) {
    let all = renditions::all(info);
    let start = all
        .iter()
        .filter_map(|r| r.segments.first())
        .map(|s| s.start_s)
        .fold(f64::INFINITY, f64::min);
    let start = if start.is_finite() { start } else { 0.0 };
    let end = all.iter().map(RenditionRef::end_s).fold(0.0, f64::max);
    (start, (end - start).max(0.0))
}

fn live_tick(timeline: &LiveTimeline, r: &RenditionRef<'_>, s: &LiveSegment, ts: u32) -> Tick {
    // Exactly the shift the segment's tfdt gets (see LiveTimeline::rewrite).
    let file_start = r.segments.get(s.file_index).map_or(0.0, |f| f.start_s);
    Tick {
        t: ticks(s.loop_index as f64 * timeline.loop_s, ts) + ticks(file_start, ts),
        d: ticks(s.duration_s, ts),
    }
}

/// The dynamic (live) MPD as published at Unix time `now_unix_s`.
pub fn dash_dynamic(
    info: &ContentInfo,
    site: &Site,
    timescales: &Timescales,
    timeline: &LiveTimeline,
    now_unix_s: f64,
) -> String {
    let live_s = timeline.live_s(now_unix_s);
    let mut out = format!(
        "{MPD_OPEN} type=\"dynamic\" availabilityStartTime=\"{}\" publishTime=\"{}\" minimumUpdatePeriod=\"{}\" timeShiftBufferDepth=\"{}\" suggestedPresentationDelay=\"{}\" minBufferTime=\"{}\">\n",
        rfc3339(timeline.epoch_unix_s),
        rfc3339(now_unix_s),
        xs_duration(timeline.segment_duration_s),
        xs_duration(timeline.time_shift_buffer_s()),
        xs_duration(timeline.segment_duration_s * 3.0),
        xs_duration(timeline.segment_duration_s * 2.0),
    );
    out.push_str(&mpd_locations(site, Stream::Live));
    out.push_str(&mpd_period(
        info,
        timescales,
        &PeriodSpec::whole(),
        &timeline_template(|r, ts| {
            let window = timeline.window(r, live_s);
            let start = window.first().map_or(0, |s| s.number);
            (start, window.iter().map(|s| live_tick(timeline, r, s, ts)).collect())
        }),
    ));
    let _ = writeln!(
        out,
        "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"{}\"/>",
        rfc3339(now_unix_s)
    );
    out.push_str("</MPD>\n");
    out
}

/// How much later than the live epoch the template MPD says segments become
/// available: a template places segment `n` at `n ×` the nominal duration, and an
/// audio segment's real end (AAC frames do not divide 2 s) can pass that by a few
/// milliseconds; the origin serves a segment only once it has really ended.
pub const TEMPLATE_AVAILABILITY_SLACK_S: f64 = 0.1;

/// The live stream as published at Unix time `now_unix_s` (the origin's clock),
/// addressed by `SegmentTemplate@duration` and `$Number$` instead of a timeline: the
/// MPD does not change as the stream goes on (segments exist by the wall clock), and
/// names the origin's `/time` endpoint as `UTCTiming` (`http-xsdate`, then
/// `http-head`), so that a client whose clock is off still asks for segments that
/// exist.
pub fn dash_dynamic_template(
    info: &ContentInfo,
    site: &Site,
    timescales: &Timescales,
    timeline: &LiveTimeline,
    now_unix_s: f64,
) -> String {
    let seg_s = timeline.segment_duration_s;
    let mut out = format!(
        "{MPD_OPEN} type=\"dynamic\" availabilityStartTime=\"{}\" publishTime=\"{}\" minimumUpdatePeriod=\"{}\" timeShiftBufferDepth=\"{}\" suggestedPresentationDelay=\"{}\" minBufferTime=\"{}\">\n",
        rfc3339(timeline.epoch_unix_s + TEMPLATE_AVAILABILITY_SLACK_S),
        rfc3339(now_unix_s),
        xs_duration(seg_s * 10.0),
        xs_duration(timeline.time_shift_buffer_s()),
        xs_duration(seg_s * 3.0),
        xs_duration(seg_s * 2.0),
    );
    out.push_str(&mpd_locations(site, Stream::Live));
    out.push_str(&mpd_period(info, timescales, &PeriodSpec::whole(), &|_, ts| {
        format!(
            "        <SegmentTemplate timescale=\"{ts}\" duration=\"{}\" startNumber=\"0\" initialization=\"$RepresentationID$/init.mp4\" media=\"$RepresentationID$/$Number$.m4s\"/>\n",
            ticks(seg_s, ts)
        )
    }));
    for scheme in ["http-xsdate", "http-head"] {
        let _ = writeln!(
            out,
            "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:{scheme}:2014\" value=\"{}\"/>",
            crate::paths::TIME
        );
    }
    out.push_str("</MPD>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400.5), "2000-02-29T00:00:00.500Z");
        assert_eq!(rfc3339(1_798_761_599.999), "2026-12-31T23:59:59.999Z");
    }

    #[test]
    fn timeline_folds_runs() {
        let e = [
            Tick { t: 0, d: 10 },
            Tick { t: 10, d: 10 },
            Tick { t: 20, d: 10 },
            Tick { t: 30, d: 7 },
            Tick { t: 40, d: 7 },
        ];
        assert_eq!(
            timeline_xml(&e, ""),
            "<S t=\"0\" d=\"10\" r=\"2\"/>\n<S d=\"7\"/>\n<S t=\"40\" d=\"7\"/>\n"
        );
    }

    #[test]
    fn frame_rates() {
        assert_eq!(frame_rate(30.0), "30");
        assert_eq!(frame_rate(30000.0 / 1001.0), "30000/1001");
        assert_eq!(frame_rate(12.5), "12.500");
    }
}
