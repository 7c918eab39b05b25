//! The whole session, fed a fuzzed sequence of events.
//!
//! The input picks a presentation (a synthetic ladder, the HLS and DASH fixtures, a live
//! HLS or DASH origin, an on-demand DASH one whose `sidx` indexes the origin writes,
//! DASH live by `SegmentTemplate@duration` with `UTCTiming`) and a configuration, then
//! drives a [`Session`] with events decoded
//! from the remaining bytes: time passing, replies to the requests the session actually
//! issued (well-formed, failed, or with mangled bodies; clock answers too), the
//! driver's wall clock (right, off, or not a time), events for ids it never issued or
//! has cancelled, steering failures with any status and `Retry-After`, playhead reports,
//! seeks, rendition pins, play and pause. When the bytes run out a well-behaved network
//! plays the session to its end.
//!
//! Checked after every event (the invariants of `core/tests/session_props.rs`, and the
//! contract of the `Action` and `Event` docs):
//! - no panic; request ids unique; a `Cancel` names a request still in flight;
//! - an `Append` names a completed init or media request of that track, segment and
//!   rung, once;
//! - at most one segment request in flight per track and one steering request;
//! - an event the session has no use for (an id it never issued, has cancelled or has
//!   finished with; a reply of the wrong kind; `FetchStarted`) acts like a `Tick`;
//! - `WakeAt` never in the past; buffer level and playhead finite and non-negative; the
//!   playhead moves back only on a seek or a position report;
//! - state changes chain (`from` is the state before), `Failed` is final, `Ended` is
//!   left only by a seek, `Play`/`Pause`/`Stall` go with their state change, `Failed`
//!   follows a fatal error, and a QoE report follows `Ended`/`Failed`;
//! - the QoE event log holds exactly the emitted events, in time order;
//! - a session that is neither paused nor finished is waiting for a request or a wake;
//! - the session ends once the network behaves, and replaying the recorded events on a
//!   fresh session gives the same actions (determinism).
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use streamsteer::Ladder;
use streamsteer::abr::RULE_NAMES;
use streamsteer::allowlist::HostAllowlist;
use streamsteer::manifest::Presentation;
use streamsteer::session::{
    Action, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, RequestId, Session,
    SessionConfig, SyntheticOptions, TrackKind, presentation_from_ladder,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::utc_timing::{format_date_time, format_http_date};

const STEERING_M3U8: &str = include_str!("../../tests/fixtures/steering/multivariant.m3u8");
const STEERING_MPD: &str = include_str!("../../tests/fixtures/steering/manifest.mpd");
const FFMPEG_M3U8: &str = include_str!("../../tests/fixtures/ffmpeg/hls/master.m3u8");
const FFMPEG_MPD: &str = include_str!("../../tests/fixtures/ffmpeg/dash/manifest.mpd");
const FFMPEG_MEDIA: [(&str, &str); 4] = [
    ("360p/index.m3u8", include_str!("../../tests/fixtures/ffmpeg/hls/360p/index.m3u8")),
    ("480p/index.m3u8", include_str!("../../tests/fixtures/ffmpeg/hls/480p/index.m3u8")),
    ("720p/index.m3u8", include_str!("../../tests/fixtures/ffmpeg/hls/720p/index.m3u8")),
    ("audio/index.m3u8", include_str!("../../tests/fixtures/ffmpeg/hls/audio/index.m3u8")),
];

/// On-demand DASH: a file per Representation on two CDNs, found through its `sidx`.
const ON_DEMAND_MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT48S" minBufferTime="PT2S">
  <BaseURL serviceLocation="a">https://a.example/vod/</BaseURL>
  <BaseURL serviceLocation="b">https://b.example/vod/</BaseURL>
  <Period id="0">
    <AdaptationSet contentType="video" mimeType="video/mp4" subsegmentAlignment="true">
      <Representation id="v0" bandwidth="400000" codecs="avc1.64001f" width="640" height="360">
        <BaseURL>v0.mp4</BaseURL>
        <SegmentBase indexRange="900-1199"><Initialization range="0-899"/></SegmentBase>
      </Representation>
      <Representation id="v1" bandwidth="1200000" codecs="avc1.64001f" width="960" height="540">
        <BaseURL>v1.mp4</BaseURL>
        <SegmentBase indexRange="900-1199" timescale="90000" presentationTimeOffset="0"><Initialization range="0-899"/></SegmentBase>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" subsegmentAlignment="true">
      <Representation id="a0" bandwidth="128000" codecs="mp4a.40.2">
        <BaseURL>a0.mp4</BaseURL>
        <SegmentBase indexRange="700-999"><Initialization range="0-699"/></SegmentBase>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#;

/// Two periods on two CDNs, timestamps restarting in the second, whose ladder differs
/// (an ad break with its own encoding): 5 + 3 segments of 4 s.
const PERIODS_MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT32S" minBufferTime="PT2S">
  <BaseURL serviceLocation="a">https://a.example/vod/</BaseURL>
  <BaseURL serviceLocation="b">https://b.example/vod/</BaseURL>
  <Period id="main" start="PT0S" duration="PT20S">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1000" duration="4000" startNumber="1" initialization="main/$RepresentationID$/init.mp4" media="main/$RepresentationID$/$Number$.m4s"/>
      <Representation id="v0" bandwidth="400000" codecs="avc1.64001f" width="640" height="360"/>
      <Representation id="v1" bandwidth="1200000" codecs="avc1.64001f" width="960" height="540"/>
      <Representation id="v2" bandwidth="3000000" codecs="avc1.64001f" width="1280" height="720"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="1000" duration="4000" startNumber="1" initialization="main/a0/init.mp4" media="main/a0/$Number$.m4s"/>
      <Representation id="a0" bandwidth="128000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
  <Period id="ad" start="PT20S" duration="PT12S">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="90000" duration="360000" startNumber="0" presentationTimeOffset="900000" initialization="ad/$RepresentationID$/init.mp4" media="ad/$RepresentationID$/$Number$.m4s"/>
      <Representation id="ad-low" bandwidth="700000" codecs="hvc1.1.6.L93.B0" width="640" height="360"/>
      <Representation id="ad-high" bandwidth="2000000" codecs="hvc1.1.6.L93.B0" width="1280" height="720"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="192000" startNumber="0" initialization="ad/a/init.mp4" media="ad/a/$Number$.m4s"/>
      <Representation id="ad-a" bandwidth="96000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
</MPD>
"#;

/// Segments of the first period of [`PERIODS_MPD`].
const PERIODS_FIRST: usize = 5;

/// Events fed while decoding the input, and in the well-behaved epilogue.
const MAX_FUZZED_EVENTS: usize = 400;
const MAX_EPILOGUE_STEPS: usize = 20_000;
/// The latest time a fuzzed step reaches, µs (some 36 000 years), and the latest time
/// fed at all (the epilogue plays on from there): far from the end of the clock, so
/// that the session can always ask for a later wake.
const TIME_CAP: u64 = 1 << 60;
const HARD_TIME_CAP: u64 = 1 << 62;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Some((origin, presentation, config)) = setup(&mut u) else { return };
    let Ok(session) = Session::new(presentation.clone(), config.clone()) else { return };
    let mut h = Harness::new(session, origin, config.cmcd.enabled());
    h.feed(0, Event::Tick);
    let mut n = 0;
    while !u.is_empty() && n < MAX_FUZZED_EVENTS {
        n += 1;
        h.fuzzed_event(&mut u);
    }
    h.epilogue();
    // Determinism: the same events on a fresh session give the same actions.
    let Ok(mut again) = Session::new(presentation, config) else {
        panic!("the session could be built once but not twice")
    };
    let mut actions = Vec::with_capacity(h.actions.len());
    for (at, e) in &h.record {
        again.handle(*at, e.clone());
        while let Some(a) = again.poll_action() {
            actions.push(a);
        }
    }
    assert_eq!(actions.len(), h.actions.len(), "replay: action count");
    for (a, b) in actions.iter().zip(&h.actions) {
        assert!(same(a, b), "replay differs: {a:?} vs {b:?}");
    }
    assert_eq!(again.state(), h.session.state());
});

/// `FUZZ_TRACE=1` prints every event and action (to read a crash).
fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// Equal, or equal when printed (NaN is not equal to itself).
fn same<T: PartialEq + std::fmt::Debug>(a: &T, b: &T) -> bool {
    a == b || format!("{a:?}") == format!("{b:?}")
}

// ----- what is played ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Synthetic,
    HlsSteering,
    HlsFfmpeg,
    HlsLive,
    DashSteering,
    DashFfmpeg,
    DashLive,
    DashOnDemand,
    DashTemplate,
    DashPeriods,
}

/// Answers the session's requests as a well-behaved network would.
#[derive(Debug, Clone)]
struct Origin {
    source: Source,
    /// Segments of the generated VOD media playlists.
    vod_segments: usize,
    /// Live: seconds the stream had been running when the session started.
    live_epoch_s: f64,
    /// Live: the stream's last segment.
    live_end: u64,
    /// Steering: pathways to list, and the TTL to send.
    pathways: Vec<String>,
}

const LIVE_SEG_S: f64 = 2.0;
const LIVE_WINDOW: u64 = 6;
const LIVE_BASE: &str = "http://live.test/";
/// `availabilityStartTime` of the live MPDs, 2026-01-01T00:00:00Z.
const LIVE_AST_UNIX_S: f64 = 1_767_225_600.0;

impl Origin {
    fn live_newest(&self, now_s: f64) -> u64 {
        self.live_listed(now_s).min(self.live_end)
    }

    /// The newest segment at `now_s` were the stream never to end.
    fn live_listed(&self, now_s: f64) -> u64 {
        let n = ((now_s + self.live_epoch_s) / LIVE_SEG_S).floor() as u64;
        n.saturating_sub(1)
    }

    fn live_multivariant() -> String {
        let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
        for (r, bps) in [400_000, 1_200_000, 3_000_000].iter().enumerate() {
            s += &format!("#EXT-X-STREAM-INF:BANDWIDTH={bps},CODECS=\"avc1.64001f\"\nv{r}.m3u8\n");
        }
        s
    }

    fn live_media(&self, rung: &str, now_s: f64) -> String {
        let newest = self.live_newest(now_s);
        let first = newest.saturating_sub(LIVE_WINDOW - 1);
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n\
             #EXT-X-MAP:URI=\"{rung}/init.mp4\"\n"
        );
        for n in first..=newest {
            s += &format!("#EXTINF:2.000,\n{rung}/seg_{n}.m4s\n");
        }
        if newest >= self.live_end {
            s += "#EXT-X-ENDLIST\n";
        }
        s
    }

    fn live_mpd(&self, now_s: f64) -> String {
        let newest = self.live_newest(now_s);
        let first = newest.saturating_sub(LIVE_WINDOW - 1);
        let kind = if newest >= self.live_end { "static" } else { "dynamic" };
        let mut s = format!(
            "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"{kind}\" \
             availabilityStartTime=\"2026-01-01T00:00:00Z\" minimumUpdatePeriod=\"PT2S\" \
             timeShiftBufferDepth=\"PT12S\" minBufferTime=\"PT2S\" \
             profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">\n<Period id=\"p0\" start=\"PT0S\">\n\
             <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\n\
             <SegmentTemplate timescale=\"1000\" initialization=\"v$RepresentationID$/init.mp4\" \
             media=\"v$RepresentationID$/seg_$Number$.m4s\" startNumber=\"{first}\">\n\
             <SegmentTimeline><S t=\"{}\" d=\"2000\" r=\"{}\"/></SegmentTimeline>\n</SegmentTemplate>\n",
            first * 2000,
            newest - first
        );
        for (r, bps) in [400_000, 1_200_000, 3_000_000].iter().enumerate() {
            s += &format!(
                "<Representation id=\"{r}\" bandwidth=\"{bps}\" codecs=\"avc1.64001f\" width=\"640\" height=\"360\"/>\n"
            );
        }
        s + "</AdaptationSet>\n</Period>\n</MPD>\n"
    }

    /// The server's wall clock at session time `now_s`, Unix seconds: the stream
    /// (`availabilityStartTime` 2026-01-01T00:00:00Z) has run `live_epoch_s` by then.
    fn server_clock(&self, now_s: f64) -> f64 {
        LIVE_AST_UNIX_S + self.live_epoch_s + now_s
    }

    /// The same stream addressed by `SegmentTemplate@duration` and `$Number$` (its
    /// segments exist by the wall clock), ending at `live_end`, with the origin's clock
    /// as `UTCTiming` (`http-xsdate`, then `http-head`).
    fn live_template_mpd(&self) -> String {
        let mut s = format!(
            "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" \
             availabilityStartTime=\"2026-01-01T00:00:00Z\" minimumUpdatePeriod=\"PT2S\" \
             timeShiftBufferDepth=\"PT12S\" suggestedPresentationDelay=\"PT4S\" minBufferTime=\"PT2S\" \
             profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">\n<Period id=\"p0\" start=\"PT0S\">\n\
             <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\n\
             <SegmentTemplate timescale=\"1000\" duration=\"2000\" startNumber=\"0\" endNumber=\"{}\" \
             initialization=\"v$RepresentationID$/init.mp4\" media=\"v$RepresentationID$/seg_$Number$.m4s\"/>\n",
            self.live_end
        );
        for (r, bps) in [400_000, 1_200_000, 3_000_000].iter().enumerate() {
            s += &format!(
                "<Representation id=\"{r}\" bandwidth=\"{bps}\" codecs=\"avc1.64001f\" width=\"640\" height=\"360\"/>\n"
            );
        }
        s + "</AdaptationSet>\n</Period>\n\
             <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"/time\"/>\n\
             <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-head:2014\" value=\"/time\"/>\n</MPD>\n"
    }

    fn vod_media(&self) -> String {
        let mut s = String::from(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n",
        );
        for n in 0..self.vod_segments {
            s += &format!("#EXTINF:4.000,\nseg_{n}.m4s\n");
        }
        s + "#EXT-X-ENDLIST\n"
    }

    /// The body of a playlist (or MPD) request for `url` at `now_s`.
    fn playlist(&self, url: &str, now_s: f64) -> String {
        match self.source {
            Source::HlsLive => {
                let rung = url.rsplit('/').next().unwrap_or("v0").trim_end_matches(".m3u8");
                self.live_media(rung, now_s)
            }
            Source::DashLive => self.live_mpd(now_s),
            Source::DashTemplate => self.live_template_mpd(),
            Source::HlsFfmpeg => FFMPEG_MEDIA
                .iter()
                .find(|(suffix, _)| url.ends_with(suffix))
                .map_or_else(|| self.vod_media(), |(_, text)| (*text).to_string()),
            _ => self.vod_media(),
        }
    }

    /// The `sidx` of every on-demand file: the VOD segment count, 4 s each.
    fn sidx(&self) -> Vec<u8> {
        let mut body = vec![0, 0, 0, 0];
        body.extend(1u32.to_be_bytes());
        body.extend(1000u32.to_be_bytes());
        body.extend([0; 8]);
        body.extend([0, 0]);
        body.extend((self.vod_segments as u16).to_be_bytes());
        for n in 0..self.vod_segments as u32 {
            body.extend((20_000 + n).to_be_bytes());
            body.extend(4000u32.to_be_bytes());
            body.extend(0x9000_0000u32.to_be_bytes());
        }
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(b"sidx");
        out.extend(body);
        out
    }

    fn steering(&self, ttl: &str, order: u8) -> String {
        let mut ids = self.pathways.clone();
        if !ids.is_empty() {
            let k = usize::from(order) % ids.len();
            ids.rotate_left(k);
        }
        let list: Vec<String> = ids.iter().map(|p| format!("\"{p}\"")).collect();
        let clone = match (order / 16) % 4 {
            1 => ids.first().map_or(String::new(), |base| {
                format!(
                    ",\"PATHWAY-CLONES\":[{{\"BASE-ID\":\"{base}\",\"ID\":\"clone\",\
                     \"URI-REPLACEMENT\":{{\"HOST\":\"edge.cdn.example\",\"PARAMS\":{{\"t\":\"1\"}}}}}}]"
                )
            }),
            2 => ",\"RELOAD-URI\":\"/steer/next.json?s=2\"".to_string(),
            _ => String::new(),
        };
        let clone_first = if (order / 16) % 4 == 1 { "\"clone\"," } else { "" };
        format!(
            "{{\"VERSION\":1,\"TTL\":{ttl},\"PATHWAY-PRIORITY\":[{clone_first}{}]{clone}}}",
            list.join(",")
        )
    }
}

fn setup(u: &mut Unstructured<'_>) -> Option<(Origin, Presentation, SessionConfig)> {
    let b = u.arbitrary::<u8>().ok()?;
    // Sources added later take the top of the range (on demand) or the new residue
    // (template), which keeps what most of the committed corpus plays.
    let source = match if b >= 224 { 8 } else if b >= 216 { 9 } else { b % 8 } {
        0 => Source::Synthetic,
        1 => Source::HlsSteering,
        2 => Source::HlsFfmpeg,
        3 => Source::HlsLive,
        4 => Source::DashSteering,
        5 => Source::DashFfmpeg,
        6 => Source::DashLive,
        7 => Source::DashTemplate,
        9 => Source::DashPeriods,
        _ => Source::DashOnDemand,
    };
    let mut origin = Origin {
        source,
        vod_segments: 1 + usize::from(u.arbitrary::<u8>().ok()? % 12),
        live_epoch_s: f64::from(u.arbitrary::<u8>().ok()?),
        live_end: 0,
        pathways: Vec::new(),
    };
    origin.live_end = origin.live_listed(0.0) + u64::from(u.arbitrary::<u8>().ok()? % 16);
    let presentation = match source {
        Source::Synthetic => synthetic(u)?,
        Source::HlsSteering => parse(STEERING_M3U8, "https://oca.example.net/vod/master.m3u8")?,
        Source::HlsFfmpeg => parse(FFMPEG_M3U8, "https://media.example/hls/master.m3u8")?,
        Source::HlsLive => parse(&Origin::live_multivariant(), &format!("{LIVE_BASE}master.m3u8"))?,
        Source::DashSteering => parse(STEERING_MPD, "https://oca.example.net/vod/manifest.mpd")?,
        Source::DashFfmpeg => parse(FFMPEG_MPD, "https://media.example/dash/manifest.mpd")?,
        Source::DashLive => parse(&origin.live_mpd(0.0), &format!("{LIVE_BASE}live.mpd"))?,
        Source::DashOnDemand => parse(ON_DEMAND_MPD, "https://a.example/vod/ondemand.mpd")?,
        Source::DashPeriods => parse(PERIODS_MPD, "https://a.example/vod/periods.mpd")?,
        Source::DashTemplate => {
            parse(&origin.live_template_mpd(), &format!("{LIVE_BASE}template.mpd"))?
        }
    };
    origin.pathways = presentation.pathways.iter().map(|p| p.id.clone()).collect();

    let mut config = SessionConfig::default();
    config.abr_rule = RULE_NAMES[usize::from(u.arbitrary::<u8>().ok()?) % RULE_NAMES.len()].into();
    let flags = u.arbitrary::<u8>().ok()?;
    config.autoplay = flags & 1 == 0;
    config.steering.cost.enabled = flags & 2 != 0;
    if flags & 4 != 0 {
        config.allowed_hosts = HostAllowlist::only([
            "oca.example.net",
            "d111.cloudfront.net",
            "steering.example.net",
            "*.example",
        ]);
    }
    config.audio_max_kbps = (flags & 8 != 0).then_some(200.0);
    config.buffer.forward_target_s = 1.0 + f64::from(u.arbitrary::<u8>().ok()? % 40);
    config.buffer.startup_s = config.buffer.startup_s.min(config.buffer.forward_target_s);
    config.buffer.resume_s = config.buffer.resume_s.min(config.buffer.forward_target_s);
    config.steering.penalty_s = [0.0, 1.0, 10.0, 120.0][usize::from(flags >> 4) % 4];
    config.steering.failures_before_penalty = 1 + u32::from(flags >> 6);
    let more = u.arbitrary::<u8>().ok()?;
    config.max_attempts_per_segment = 1 + u32::from(more % 8);
    config.live_delay_segments = usize::from((more >> 3) % 6);
    config.retry_base_s = [0.0, 0.1, 1.0, 5.0][usize::from(more >> 6)];
    // The source byte's top bit (b % 7 uses it only weakly) turns CMCD on.
    if b & 0x80 != 0 {
        config.cmcd.mode = streamsteer::cmcd::CmcdMode::Query;
    }
    Some((origin, presentation, config))
}

/// The one call to the manifest front ends (kept to one place: its signature moves).
fn parse(text: &str, url: &str) -> Option<Presentation> {
    let url = streamsteer::uri::Url::parse(url).ok()?;
    streamsteer::manifest::parse_any(text, &url).ok()
}

fn synthetic(u: &mut Unstructured<'_>) -> Option<Presentation> {
    let rungs = 1 + usize::from(u.arbitrary::<u8>().ok()? % 4);
    let mut rates = Vec::with_capacity(rungs);
    let mut acc = 0.0;
    for _ in 0..rungs {
        acc += 50.0 + f64::from(u.arbitrary::<u16>().ok()? % 4000);
        rates.push(acc);
    }
    let seg_s = [0.5, 1.0, 2.0, 4.0, 6.0, 0.001][usize::from(u.arbitrary::<u8>().ok()? % 6)];
    let n = 1 + usize::from(u.arbitrary::<u8>().ok()? % 24);
    let mut sizes = Vec::with_capacity(n);
    for _ in 0..n {
        let f = 0.25 + f64::from(u.arbitrary::<u8>().ok()?) / 128.0;
        sizes.push(rates.iter().map(|r| r * 1000.0 * seg_s * f).collect());
    }
    let ladder = Ladder::new(rates, seg_s, sizes).ok()?;
    let flags = u.arbitrary::<u8>().ok()?;
    let hosts = [("a", "a.example"), ("b", "b.example"), ("c", "c.example")];
    let opts = SyntheticOptions {
        pathways: hosts[..1 + usize::from(flags % 3)]
            .iter()
            .map(|(p, h)| ((*p).to_string(), (*h).to_string()))
            .collect(),
        audio_kbps: (flags & 4 != 0).then_some(96.0),
        init_bytes: if flags & 8 != 0 { 700 } else { 0 },
        steering_url: (flags & 16 != 0)
            .then(|| streamsteer::uri::Url::parse("https://steer.example/s.json").ok())
            .flatten(),
    };
    presentation_from_ladder(&ladder, &opts).ok()
}

// ----- the harness -----------------------------------------------------------------

struct Harness {
    session: Session<'static>,
    origin: Origin,
    /// The latest time fed, µs (the session's clock never goes back past it).
    now: u64,
    /// The state as the `StateChanged` events tell it.
    state: PlayerState,
    issued: BTreeMap<RequestId, FetchRequest>,
    /// Issued, not cancelled, not finished by a reply the session takes.
    in_flight: BTreeSet<RequestId>,
    cancelled: BTreeSet<RequestId>,
    /// Init and media requests whose completion the session took.
    completed: BTreeSet<RequestId>,
    appended: BTreeSet<RequestId>,
    /// The last `WakeAt`, until a tick at or after it.
    wake: Option<u64>,
    /// Every event fed, for the replay.
    record: Vec<(Instant, Event)>,
    /// Every action drained.
    actions: Vec<Action>,
    /// Length of the QoE event log after the last drain.
    log_len: usize,
    /// Whether the session was configured with CMCD on.
    cmcd: bool,
}

/// What a drained batch of actions expects next.
#[derive(Debug, Default)]
struct Batch {
    count: usize,
    fatal_error: bool,
    left_loading: bool,
    expect_state: Option<PlayerState>,
    report_due: bool,
}

impl Harness {
    fn new(session: Session<'static>, origin: Origin, cmcd: bool) -> Self {
        let state = session.state();
        assert_eq!(state, PlayerState::Loading, "a new session is loading");
        Self {
            session,
            origin,
            now: 0,
            state,
            issued: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            cancelled: BTreeSet::new(),
            completed: BTreeSet::new(),
            appended: BTreeSet::new(),
            wake: None,
            record: Vec::new(),
            actions: Vec::new(),
            log_len: 0,
            cmcd,
        }
    }

    fn now_s(&self) -> f64 {
        self.now as f64 / 1e6
    }

    fn terminal(&self) -> bool {
        matches!(self.state, PlayerState::Ended | PlayerState::Failed)
    }

    /// Whether the session has a use for `event` (else it must act like a `Tick`).
    fn takes(&self, event: &Event) -> bool {
        let kind_of = |id: &RequestId| {
            self.in_flight.contains(id).then(|| self.issued.get(id)).flatten().map(|r| r.kind)
        };
        match event {
            Event::FetchStarted { .. } => false,
            Event::FetchProgress { id, .. } => {
                kind_of(id) == Some(FetchKind::Media)
                    && self.issued.get(id).and_then(|r| r.track) == Some(TrackKind::Video)
            }
            Event::FetchCompleted { id, .. } => {
                kind_of(id).is_some_and(|k| k != FetchKind::Steering)
            }
            Event::FetchFailed { id, .. } => kind_of(id).is_some(),
            // A clock request answered like a document is read from its body.
            Event::ManifestLoaded { id, .. } => {
                matches!(kind_of(id), Some(FetchKind::Manifest | FetchKind::UtcTiming { .. }))
            }
            Event::SegmentIndexLoaded { id, .. } => kind_of(id) == Some(FetchKind::SegmentIndex),
            Event::SteeringLoaded { id, .. } | Event::SteeringFailed { id, .. } => {
                kind_of(id) == Some(FetchKind::Steering)
            }
            Event::UtcTimingLoaded { id, .. } => {
                matches!(kind_of(id), Some(FetchKind::UtcTiming { .. }))
            }
            _ => true,
        }
    }

    /// Feeds `event` at `at` µs and checks everything that must hold after it.
    fn feed(&mut self, at: u64, event: Event) {
        // Beyond this the session cannot schedule anything later than now.
        let at = at.min(HARD_TIME_CAP);
        let inert = !self.takes(&event)
            || self.state == PlayerState::Failed
            || (self.state == PlayerState::Ended && !matches!(event, Event::UserSeek { .. }));
        // Settle first, so that what the inert event does can be told from what time does.
        let settled = !inert || self.settle(at);
        let log_before = self.session.event_log().len();
        let position_before = self.session.position_s();
        let state_before = self.state;
        self.now = self.now.max(at);
        if let Event::Tick = event
            && self.wake.is_some_and(|w| w <= self.now)
        {
            self.wake = None;
        }
        if tracing() {
            eprintln!("{:>12.6} {event:?}", at as f64 / 1e6);
        }
        self.record.push((Instant(at), event.clone()));
        self.session.handle(Instant(at), event.clone());
        self.note_reply(&event);
        let batch = self.drain();
        if tracing() {
            let (p, b) = (self.session.position_s(), self.session.buffer_level_s());
            eprintln!("             (playhead {p} s, buffer {b} s, {:?})", self.state);
        }
        if inert && settled {
            assert_eq!(batch.count, 0, "{event:?} is of no use to the session but acted");
            assert_eq!(self.session.event_log().len(), log_before);
            assert_eq!(self.state, state_before);
        }
        // The playhead moves back only when told to, or when the timeline becomes known.
        let told = matches!(event, Event::UserSeek { .. } | Event::PlaybackPosition { .. });
        if !told && !batch.left_loading {
            assert!(
                self.session.position_s() + 1e-9 >= position_before,
                "playhead went back on {event:?}: {position_before} -> {}",
                self.session.position_s()
            );
        }
        self.check_state(&event);
    }

    /// Ticks at `at` until the session has nothing more to do at that instant; false if
    /// it never settles (then an inert event cannot be told apart).
    fn settle(&mut self, at: u64) -> bool {
        for _ in 0..4 {
            self.now = self.now.max(at);
            if self.wake.is_some_and(|w| w <= self.now) {
                self.wake = None;
            }
            if tracing() {
                eprintln!("{:>12.6} Tick (settling)", at as f64 / 1e6);
            }
            self.record.push((Instant(at), Event::Tick));
            self.session.handle(Instant(at), Event::Tick);
            if self.drain().count == 0 {
                return true;
            }
        }
        false
    }

    /// Bookkeeping of the replies the session takes (before its actions are checked).
    fn note_reply(&mut self, event: &Event) {
        let (id, done) = match event {
            Event::FetchCompleted { id, .. } => (*id, true),
            Event::FetchFailed { id, .. }
            | Event::ManifestLoaded { id, .. }
            | Event::SegmentIndexLoaded { id, .. }
            | Event::SteeringLoaded { id, .. }
            | Event::SteeringFailed { id, .. }
            | Event::UtcTimingLoaded { id, .. } => (*id, false),
            _ => return,
        };
        if !self.in_flight.contains(&id) {
            return;
        }
        let Some(kind) = self.issued.get(&id).map(|r| r.kind) else { return };
        let finishes = match event {
            // A playlist that "completes" without its text fails the session but stays
            // pending in it.
            // A clock request that "completes" without its answer failed.
            Event::FetchCompleted { .. } => {
                matches!(kind, FetchKind::Init | FetchKind::Media | FetchKind::UtcTiming { .. })
            }
            Event::FetchFailed { .. } => true,
            Event::ManifestLoaded { .. } => {
                matches!(kind, FetchKind::Manifest | FetchKind::UtcTiming { .. })
            }
            Event::UtcTimingLoaded { .. } => matches!(kind, FetchKind::UtcTiming { .. }),
            Event::SegmentIndexLoaded { .. } => kind == FetchKind::SegmentIndex,
            _ => kind == FetchKind::Steering,
        };
        if finishes {
            self.in_flight.remove(&id);
            if done {
                self.completed.insert(id);
            }
        }
    }

    fn drain(&mut self) -> Batch {
        let mut b = Batch::default();
        let mut emitted: Vec<PlayerEvent> = Vec::new();
        while let Some(a) = self.session.poll_action() {
            if tracing() {
                eprintln!("             -> {a:?}");
            }
            b.count += 1;
            self.check_action(&a, &mut b);
            if let Action::Emit(e) = &a {
                emitted.push(e.clone());
            }
            self.actions.push(a);
        }
        assert!(b.expect_state.is_none(), "{:?} without its state change", b.expect_state);
        assert!(!b.report_due, "{:?} entered without a QoE report", self.state);
        // The log holds exactly what was emitted, in order, at times not after now.
        // (The log keeps the newest entries: `total` counts every one ever added.)
        let log = self.session.event_log();
        let total = usize::try_from(log.total()).unwrap_or(usize::MAX);
        assert_eq!(total, self.log_len + emitted.len(), "log and emitted events differ");
        self.log_len = total;
        let keep = emitted.len().min(log.len());
        let new = log.iter().skip(log.len() - keep);
        for (entry, e) in new.zip(&emitted[emitted.len() - keep..]) {
            assert!(same(&entry.event, e), "log {:?} vs emitted {e:?}", entry.event);
            assert!(entry.t_s <= self.now_s() + 1e-6, "log entry in the future");
        }
        let start = log.len().saturating_sub(keep + 1);
        let times: Vec<f64> = log.iter().skip(start).map(|e| e.t_s).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1] + 1e-9), "log time goes back");
        b
    }

    fn check_action(&mut self, a: &Action, b: &mut Batch) {
        match a {
            Action::Fetch(r) => {
                assert!(!self.terminal(), "fetch after {:?}: {r:?}", self.state);
                assert!(!self.issued.contains_key(&r.id), "request id {} reused", r.id);
                assert!(
                    matches!(r.url.scheme(), "http" | "https"),
                    "only http(s) is requested: {r:?}"
                );
                match r.kind {
                    FetchKind::Media => assert!(
                        r.track.is_some() && r.segment.is_some() && r.rendition.is_some(),
                        "{r:?}"
                    ),
                    FetchKind::Init => assert!(
                        r.track.is_some() && r.segment.is_none() && r.rendition.is_some(),
                        "{r:?}"
                    ),
                    FetchKind::Manifest => assert!(r.track.is_none() && r.pathway.is_some()),
                    FetchKind::SegmentIndex => assert!(
                        r.track.is_none() && r.pathway.is_some() && r.byte_range.is_some(),
                        "{r:?}"
                    ),
                    FetchKind::Steering | FetchKind::UtcTiming { .. } => {
                        assert!(r.track.is_none() && r.pathway.is_none(), "{r:?}")
                    }
                    other => panic!("the harness does not know fetch kind {other:?}"),
                }
                if let Some(d) = r.deadline {
                    assert!(d.0 >= self.now, "deadline in the past: {r:?}");
                }
                // CMCD: keys on every request but steering and the clock exactly when it
                // is on, and
                // the object keys on every media request.
                let keyed = !matches!(r.kind, FetchKind::Steering | FetchKind::UtcTiming { .. });
                match (&r.cmcd, self.cmcd && keyed) {
                    (Some(d), true) => {
                        assert!(d.sid.is_some() && d.ot.is_some(), "{d:?}");
                        if r.kind == FetchKind::Media {
                            assert!(d.d.is_some() && d.bl.is_some(), "{d:?}");
                        }
                    }
                    (None, false) => {}
                    (d, on) => panic!("CMCD {d:?} on a request with CMCD on = {on}: {r:?}"),
                }
                self.issued.insert(r.id, r.clone());
                self.in_flight.insert(r.id);
            }
            Action::Cancel { id } => {
                assert!(self.issued.contains_key(id), "cancel of an id never issued: {id}");
                assert!(self.in_flight.remove(id), "cancel of a request not in flight: {id}");
                self.cancelled.insert(*id);
            }
            Action::Append { track, init, request, segment, rendition, timing, .. } => {
                // Media say where they go on the timeline; init segments do not.
                assert_eq!(timing.is_some(), !*init, "timing on an init, or none on media");
                if let Some(t) = timing {
                    assert!(t.start_s.is_finite() && t.duration_s.is_finite(), "timing {t:?}");
                    if self.origin.source == Source::DashPeriods
                        && let Some(i) = segment
                    {
                        // Timestamps restart at the second period, and only there.
                        let second = *i >= PERIODS_FIRST;
                        assert_eq!(t.media_timeline, u64::from(second), "segment {i}: {t:?}");
                        assert!((t.start_s - 4.0 * *i as f64).abs() < 1e-6, "segment {i}: {t:?}");
                    }
                }
                let r = self.issued.get(request);
                assert!(self.completed.contains(request), "append of {request}, not completed");
                assert!(self.appended.insert(*request), "append of {request} twice");
                assert!(!self.cancelled.contains(request), "append of a cancelled request");
                let r = r.map(|r| (r.kind, r.track, r.segment, r.rendition));
                let kind = if *init { FetchKind::Init } else { FetchKind::Media };
                assert_eq!(r, Some((kind, Some(*track), *segment, Some(*rendition))));
            }
            Action::WakeAt(t) => {
                assert!(t.0 > self.now, "wake in the past: {} <= {}", t.0, self.now);
                self.wake = Some(t.0);
            }
            Action::Play => self.expect(b, PlayerState::Playing),
            Action::Pause => self.expect(b, PlayerState::Paused),
            Action::Stall => self.expect(b, PlayerState::Stalled),
            Action::Emit(e) => self.check_emit(e, b),
            other => panic!("the harness does not know action {other:?}"),
        }
    }

    fn expect(&self, b: &mut Batch, s: PlayerState) {
        assert!(b.expect_state.is_none(), "two playback actions before a state change");
        b.expect_state = Some(s);
    }

    fn check_emit(&mut self, e: &PlayerEvent, b: &mut Batch) {
        match e {
            PlayerEvent::StateChanged { from, to } => {
                assert_eq!(*from, self.state, "state change from a state not in force");
                assert_ne!(from, to);
                assert!(!b.report_due, "state change before the QoE report");
                match from {
                    PlayerState::Failed => panic!("left Failed for {to:?}"),
                    PlayerState::Ended => assert!(
                        matches!(to, PlayerState::Buffering | PlayerState::Paused),
                        "left Ended for {to:?}"
                    ),
                    PlayerState::Loading => {
                        assert!(
                            matches!(to, PlayerState::Buffering | PlayerState::Failed),
                            "Loading -> {to:?}"
                        );
                        b.left_loading = true;
                    }
                    _ => {}
                }
                assert_ne!(*to, PlayerState::Loading, "back to Loading");
                if let Some(s) = b.expect_state.take() {
                    assert_eq!(*to, s, "playback action and state change disagree");
                }
                if *to == PlayerState::Failed {
                    assert!(b.fatal_error, "Failed without a fatal error");
                }
                if matches!(to, PlayerState::Ended | PlayerState::Failed) {
                    b.report_due = true;
                }
                self.state = *to;
            }
            PlayerEvent::Error { fatal: true, .. } => b.fatal_error = true,
            PlayerEvent::QoeReport { report } => {
                assert!(b.report_due, "QoE report outside Ended/Failed");
                b.report_due = false;
                for (name, v) in [
                    ("startup_delay_s", report.startup_delay_s),
                    ("rebuffer_s", report.rebuffer_s),
                    ("avg_bitrate_kbps", report.avg_bitrate_kbps),
                    ("switch_magnitude_kbps", report.switch_magnitude_kbps),
                ] {
                    assert!(v.is_finite() && v >= 0.0, "report {name} = {v}");
                }
            }
            _ => {}
        }
    }

    fn check_state(&self, event: &Event) {
        assert_eq!(self.session.state(), self.state, "state() disagrees with the events");
        let level = self.session.buffer_level_s();
        assert!(level.is_finite() && level >= 0.0, "buffer level {level}");
        let p = self.session.position_s();
        assert!(p.is_finite() && p >= 0.0, "playhead {p}");
        let per_track = |t: TrackKind| {
            self.in_flight
                .iter()
                .filter_map(|id| self.issued.get(id))
                .filter(|r| matches!(r.kind, FetchKind::Init | FetchKind::Media))
                .filter(|r| r.track == Some(t))
                .count()
        };
        if self.state != PlayerState::Failed {
            for t in [TrackKind::Video, TrackKind::Audio] {
                assert!(per_track(t) <= 1, "{t:?}: several segment requests in flight");
            }
        }
        let steering = self
            .in_flight
            .iter()
            .filter(|id| self.issued.get(id).is_some_and(|r| r.kind == FetchKind::Steering))
            .count();
        assert!(steering <= 1, "several steering requests in flight");
        if !self.terminal() && self.state != PlayerState::Paused {
            assert!(
                !self.in_flight.is_empty() || self.wake.is_some(),
                "{:?} after {event:?}, waiting for nothing",
                self.state
            );
        }
    }

    // ----- decoding events ---------------------------------------------------------

    /// An id: mostly one in flight, else one issued earlier, the next one, or any.
    fn pick_id(&self, u: &mut Unstructured<'_>) -> RequestId {
        let b = u.arbitrary::<u8>().unwrap_or(0);
        let nth = |set: &mut dyn Iterator<Item = RequestId>, len: usize| {
            if len == 0 { None } else { set.nth(usize::from(b >> 3) % len) }
        };
        let pick = match b % 8 {
            0..=4 => nth(&mut self.in_flight.iter().copied(), self.in_flight.len()),
            5 => nth(&mut self.issued.keys().copied(), self.issued.len()),
            6 => Some(self.issued.keys().next_back().map_or(1, |k| k + 1)),
            _ => None,
        };
        pick.unwrap_or_else(|| u.arbitrary::<u64>().unwrap_or(0))
    }

    fn oldest_in_flight(&self, u: &mut Unstructured<'_>) -> Option<RequestId> {
        let n = self.in_flight.len();
        if n == 0 {
            return None;
        }
        // Mostly the oldest; sometimes another, so that replies arrive out of order.
        let b = usize::from(u.arbitrary::<u8>().unwrap_or(0));
        let k = if b < 160 { 0 } else { b % n };
        self.in_flight.iter().nth(k).copied()
    }

    fn fuzzed_event(&mut self, u: &mut Unstructured<'_>) {
        let op = u.arbitrary::<u8>().unwrap_or(0);
        let at = self.event_time(u, op);
        match op % 26 {
            0..=2 => {
                let dt = self.time_step(u);
                self.feed(self.now.saturating_add(dt), Event::Tick);
            }
            3..=4 => {
                // What a driver does: tick at the requested wake.
                let w = self.wake.unwrap_or(self.now).max(self.now).min(TIME_CAP.max(self.now));
                self.feed(w, Event::Tick);
            }
            5..=9 => {
                if let Some(id) = self.oldest_in_flight(u) {
                    let dt = u64::from(u.arbitrary::<u16>().unwrap_or(0))
                        .min(TIME_CAP.saturating_sub(self.now));
                    self.reply_ok(id, self.now.saturating_add(dt), u);
                }
            }
            10 => {
                if let Some(id) = self.oldest_in_flight(u) {
                    self.reply_failed(id, at, u);
                }
            }
            11 => {
                let id = self.pick_id(u);
                self.feed(at, Event::FetchStarted { id });
            }
            12 => {
                let id = self.pick_id(u);
                let bytes = self.bytes(u, id);
                let ttfb = (u.arbitrary::<u8>().unwrap_or(0) & 1 == 0).then(|| duration(u));
                self.feed(at, Event::FetchProgress { id, bytes, ttfb });
            }
            13 => {
                let id = self.pick_id(u);
                let bytes = self.bytes(u, id);
                let (ttfb, d) = (duration(u), duration(u));
                self.feed(at, Event::FetchCompleted { id, bytes, ttfb, duration: d });
            }
            14 => {
                let id = self.pick_id(u);
                let status = status(u);
                let bytes = self.bytes(u, id);
                self.feed(at, Event::FetchFailed { id, status, bytes });
            }
            15 => {
                let id = self.pick_id(u);
                let issued = self.issued.get(&id).map(|r| r.url.clone());
                let fallback = streamsteer::uri::Url::parse("https://other.example/x.m3u8").ok();
                let Some(url) = issued.or(fallback) else { return };
                let good = self.origin.playlist(&url, self.now_s());
                let text = mangle(&good, u);
                // Sometimes the final URL is another one (a redirect), checked as a
                // driver checks it.
                let url = if u.arbitrary::<u8>().unwrap_or(0) < 32 {
                    url.join(&text_from(u, 64)).unwrap_or(url)
                } else {
                    url
                };
                self.feed(at, Event::ManifestLoaded { id, text, url });
            }
            16 if self.issued.values().any(|r| r.kind == FetchKind::SegmentIndex) => {
                // A segment index, as sent, cut short or with bytes replaced.
                let id = self.pick_id(u);
                let data = mangle_bytes(&self.origin.sidx(), u);
                self.feed(at, Event::SegmentIndexLoaded { id, data });
            }
            16 => {
                let id = self.pick_id(u);
                let good = self.origin.steering("10", u.arbitrary::<u8>().unwrap_or(0));
                let body = mangle(&good, u);
                self.feed(at, Event::SteeringLoaded { id, body });
            }
            17 => {
                let id = self.pick_id(u);
                let status = status(u);
                let retry_after = (u.arbitrary::<u8>().unwrap_or(0) & 1 == 0).then(|| duration(u));
                self.feed(at, Event::SteeringFailed { id, status, retry_after });
            }
            18 => self.feed(at, Event::PlaybackPosition { position_s: seconds(u) }),
            19 => self.feed(at, Event::UserSeek { position_s: seconds(u) }),
            20 => {
                let b = u.arbitrary::<u8>().unwrap_or(0);
                let track = if b & 1 == 0 { TrackKind::Video } else { TrackKind::Audio };
                let rendition = match b >> 1 {
                    0..=31 => None,
                    120..=127 => Some(usize::MAX - usize::from(b & 3)),
                    r => Some(usize::from(r % 5)),
                };
                self.feed(at, Event::UserSelectTrack { track, rendition });
            }
            21 => self.feed(at, Event::Play),
            22 => self.feed(at, Event::Pause),
            23 => {
                // The driver's clock: right, off by a fuzzed amount, or not a time.
                let right = self.origin.server_clock(self.now_s());
                let unix_s = match u.arbitrary::<u8>().unwrap_or(0) % 6 {
                    0 => right,
                    1 => right + f64::from(u.arbitrary::<i16>().unwrap_or(0)),
                    2 => f64::NAN,
                    3 => -1.0,
                    4 => f64::MAX,
                    _ => f64::from(u.arbitrary::<u32>().unwrap_or(0)),
                };
                self.feed(at, Event::WallClock { unix_s });
            }
            24 => {
                let id = self.pick_id(u);
                let good = format_date_time(self.origin.server_clock(self.now_s()));
                let body = mangle(&good, u);
                let date = match u.arbitrary::<u8>().unwrap_or(0) % 3 {
                    0 => None,
                    1 => Some(format_http_date(self.origin.server_clock(self.now_s()))),
                    _ => Some(text_from(u, 40)),
                };
                self.feed(at, Event::UtcTimingLoaded { id, body, date });
            }
            _ => {
                let dt = self.time_step(u);
                self.feed(self.now.saturating_add(dt), Event::Tick);
            }
        }
    }

    /// Mostly now; sometimes a time before it (the session must treat it as now).
    fn event_time(&self, u: &mut Unstructured<'_>, op: u8) -> u64 {
        if op >= 240 {
            self.now.saturating_sub(u64::from(u.arbitrary::<u16>().unwrap_or(0)) * 1000)
        } else {
            self.now
        }
    }

    /// A step forward, never past [`TIME_CAP`].
    fn time_step(&self, u: &mut Unstructured<'_>) -> u64 {
        let b = u.arbitrary::<u8>().unwrap_or(0);
        let wake = self.wake.map(|w| w.saturating_sub(self.now));
        let step = match b % 10 {
            0 => 0,
            1 => 1,
            2 => u64::from(u.arbitrary::<u8>().unwrap_or(0)),
            3 => u64::from(u.arbitrary::<u16>().unwrap_or(0)),
            4 | 5 => u64::from(u.arbitrary::<u16>().unwrap_or(0)) * 1000,
            6 => u64::from(u.arbitrary::<u32>().unwrap_or(0)) * 1000,
            7 => wake.unwrap_or(0).saturating_sub(1),
            8 => wake.unwrap_or(0).saturating_add(1),
            _ => u.arbitrary::<u64>().unwrap_or(0) >> (b % 48),
        };
        step.min(TIME_CAP.saturating_sub(self.now))
    }

    fn bytes(&self, u: &mut Unstructured<'_>, id: RequestId) -> u64 {
        let expected = self.issued.get(&id).and_then(|r| r.expected_bytes).unwrap_or(1000);
        match u.arbitrary::<u8>().unwrap_or(0) % 6 {
            0 => 0,
            1 => expected / 2,
            2 => u64::MAX,
            3 => u64::from(u.arbitrary::<u32>().unwrap_or(0)),
            _ => expected,
        }
    }

    /// The reply a well-behaved network gives to request `id`, received at `at`.
    fn reply_ok(&mut self, id: RequestId, at: u64, u: &mut Unstructured<'_>) {
        let Some(r) = self.issued.get(&id).cloned() else { return };
        let issued_at = self.now;
        let elapsed = Duration(at.saturating_sub(issued_at).max(1));
        let event = match r.kind {
            FetchKind::Init | FetchKind::Media => {
                let bytes = r.expected_bytes.unwrap_or(1000);
                if r.kind == FetchKind::Media && u.arbitrary::<u8>().unwrap_or(0) & 3 == 0 {
                    let half = Event::FetchProgress {
                        id,
                        bytes: bytes / 2,
                        ttfb: Some(Duration(elapsed.0 / 4)),
                    };
                    self.feed(issued_at.saturating_add(elapsed.0 / 2), half);
                }
                Event::FetchCompleted {
                    id,
                    bytes,
                    ttfb: Duration(elapsed.0 / 4),
                    duration: elapsed,
                }
            }
            FetchKind::Manifest => Event::ManifestLoaded {
                id,
                text: self.origin.playlist(&r.url, at as f64 / 1e6),
                url: r.url.clone(),
            },
            FetchKind::SegmentIndex => Event::SegmentIndexLoaded { id, data: self.origin.sidx() },
            FetchKind::UtcTiming { .. } => {
                // The origin reads its clock half-way through the round trip.
                let mid = (issued_at.saturating_add(at) / 2) as f64 / 1e6;
                let served = self.origin.server_clock(mid);
                Event::UtcTimingLoaded {
                    id,
                    body: format_date_time(served),
                    date: Some(format_http_date(served)),
                }
            }
            FetchKind::Steering => {
                let ttl = ["10", "1", "300", "0.001", "1e300"]
                    [usize::from(u.arbitrary::<u8>().unwrap_or(0) % 5)];
                Event::SteeringLoaded {
                    id,
                    body: self.origin.steering(ttl, u.arbitrary::<u8>().unwrap_or(0)),
                }
            }
            other => panic!("the harness does not know fetch kind {other:?}"),
        };
        self.feed(at, event);
    }

    fn reply_failed(&mut self, id: RequestId, at: u64, u: &mut Unstructured<'_>) {
        let Some(r) = self.issued.get(&id).cloned() else { return };
        let status = status(u);
        let event = if r.kind == FetchKind::Steering && u.arbitrary::<u8>().unwrap_or(0) & 1 == 0 {
            let retry_after = (u.arbitrary::<u8>().unwrap_or(0) & 1 == 0).then(|| duration(u));
            Event::SteeringFailed { id, status, retry_after }
        } else {
            let bytes = self.bytes(u, id);
            Event::FetchFailed { id, status, bytes }
        };
        self.feed(at, event);
    }

    /// A network that answers every request and a user who presses play: the session
    /// must end.
    fn epilogue(&mut self) {
        if self.terminal() {
            return;
        }
        self.feed(self.now, Event::Play);
        if self.origin.source == Source::DashTemplate {
            // A well-behaved driver's clock is right (the fuzzed one may have been set
            // decades off, and live templates follow it).
            let unix_s = self.origin.server_clock(self.now_s());
            self.feed(self.now, Event::WallClock { unix_s });
        }
        let mut steps = 0;
        let mut empty = Unstructured::new(&[]);
        while !self.terminal() {
            steps += 1;
            assert!(steps < MAX_EPILOGUE_STEPS, "no end in sight: {:?}", self.state);
            if let Some(&id) = self.in_flight.iter().next() {
                let at = self.now.saturating_add(30_000);
                self.reply_ok(id, at, &mut empty);
            } else if let Some(w) = self.wake {
                self.feed(w.max(self.now), Event::Tick);
            } else {
                panic!("{:?}: nothing in flight, no wake, after play", self.state);
            }
        }
    }
}

fn duration(u: &mut Unstructured<'_>) -> Duration {
    match u.arbitrary::<u8>().unwrap_or(0) % 6 {
        0 => Duration::ZERO,
        1 => Duration(u64::MAX),
        2 => Duration(u64::from(u.arbitrary::<u32>().unwrap_or(0))),
        3 => Duration(u.arbitrary::<u64>().unwrap_or(0)),
        _ => Duration(u64::from(u.arbitrary::<u16>().unwrap_or(0)) * 1000),
    }
}

fn status(u: &mut Unstructured<'_>) -> Option<u16> {
    match u.arbitrary::<u8>().unwrap_or(0) % 8 {
        0 => None,
        1 => Some(410),
        2 => Some(429),
        3 => Some(404),
        4 => Some(503),
        5 => Some(500),
        _ => Some(u.arbitrary::<u16>().unwrap_or(0)),
    }
}

fn seconds(u: &mut Unstructured<'_>) -> f64 {
    match u.arbitrary::<u8>().unwrap_or(0) % 8 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => -1.0,
        4 => f64::from(u.arbitrary::<u16>().unwrap_or(0)) / 100.0,
        5 => 1e300,
        _ => f64::from(u.arbitrary::<u8>().unwrap_or(0)),
    }
}

fn text_from(u: &mut Unstructured<'_>, max: usize) -> String {
    let n = usize::from(u.arbitrary::<u8>().unwrap_or(0)) % (max + 1);
    let bytes = u.bytes(n.min(u.len())).unwrap_or(&[]);
    String::from_utf8_lossy(bytes).into_owned()
}

/// `good` bytes as they are, cut short, or with some replaced by fuzz.
fn mangle_bytes(good: &[u8], u: &mut Unstructured<'_>) -> Vec<u8> {
    let b = u.arbitrary::<u8>().unwrap_or(0);
    let at = usize::from(u.arbitrary::<u16>().unwrap_or(0)) % (good.len() + 1);
    match b % 4 {
        0 => good.to_vec(),
        1 => good[..at].to_vec(),
        2 => {
            let cut = (at + usize::from(b >> 2)).min(good.len());
            let mut v = good[..at].to_vec();
            let n = usize::from(u.arbitrary::<u8>().unwrap_or(0) % 16);
            v.extend_from_slice(u.bytes(n.min(u.len())).unwrap_or(&[]));
            v.extend_from_slice(&good[cut..]);
            v
        }
        _ => {
            let n = usize::from(u.arbitrary::<u8>().unwrap_or(0));
            u.bytes(n.min(u.len())).unwrap_or(&[]).to_vec()
        }
    }
}

/// `good` as it is, cut short, or with some bytes replaced by fuzz.
fn mangle(good: &str, u: &mut Unstructured<'_>) -> String {
    let b = u.arbitrary::<u8>().unwrap_or(0);
    let g = good.as_bytes();
    let at = usize::from(u.arbitrary::<u16>().unwrap_or(0)) % (g.len() + 1);
    match b % 4 {
        0 => good.to_string(),
        1 => String::from_utf8_lossy(&g[..at]).into_owned(),
        2 => {
            let cut = (at + usize::from(b >> 2)).min(g.len());
            let mut v = g[..at].to_vec();
            v.extend_from_slice(text_from(u, 64).as_bytes());
            v.extend_from_slice(&g[cut..]);
            String::from_utf8_lossy(&v).into_owned()
        }
        _ => text_from(u, 512),
    }
}
