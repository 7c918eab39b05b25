//! DASH on-demand (`SegmentBase` + `sidx`) and `SegmentList` presentations in the
//! session, on real MPDs of `../shared/manifests`.
//!
//! `audio-only.mpd` is Shaka Packager output: one file per Representation with its
//! init segment at bytes 0-785 and a 224-byte `sidx` at 786-1009. Its media is not in
//! the corpus, so the index the session is answered with is written here, to the
//! size the MPD gives (16 references: 60 s in 3.75 s subsegments, as the MPD's
//! duration says); the test origin's ffmpeg-made files are played end to end in
//! `tests/tests/e2e_on_demand.rs`.

use std::path::PathBuf;
use streamsteer::manifest::{self, ByteRange, Presentation};
use streamsteer::session::{
    Action, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, Session, SessionConfig,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn corpus(rel: &str) -> Presentation {
    let text = std::fs::read_to_string(shared_dir().join("manifests").join(rel)).unwrap();
    let url = Url::parse(&format!("https://corpus.example/{rel}")).unwrap();
    manifest::parse_any(&text, &url).unwrap()
}

/// A version-0 `sidx` of `refs` as `(reference type, size, duration)`.
fn sidx(timescale: u32, first_offset: u32, refs: &[(u32, u32, u32)]) -> Vec<u8> {
    let mut body = vec![0, 0, 0, 0];
    body.extend(1u32.to_be_bytes());
    body.extend(timescale.to_be_bytes());
    body.extend(0u32.to_be_bytes());
    body.extend(first_offset.to_be_bytes());
    body.extend([0, 0]);
    body.extend((refs.len() as u16).to_be_bytes());
    for (ty, size, duration) in refs {
        body.extend(((ty << 31) | size).to_be_bytes());
        body.extend(duration.to_be_bytes());
        body.extend(0x9000_0000u32.to_be_bytes());
    }
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend(b"sidx");
    out.extend(body);
    out
}

/// The index of `audio-only.mpd`: 16 subsegments of 3.75 s at 48 kHz, 61 000 bytes
/// and up (about the MPD's 130 kbit/s).
fn audio_only_index() -> Vec<u8> {
    let refs: Vec<(u32, u32, u32)> = (0..16).map(|i| (0, 61_000 + i * 7, 180_000)).collect();
    let index = sidx(48_000, 0, &refs);
    assert_eq!(index.len(), 224, "the MPD's indexRange is 786-1009");
    index
}

/// How the test network answers a request.
enum Reply {
    /// With these bytes (a segment index).
    Index(Vec<u8>),
    /// Completed, with the byte range's length (or 1000 bytes).
    Complete,
    /// Failed with this status.
    Fail(u16),
}

/// Plays `session`, answering each request `latency_s` after it is issued as `answer`
/// says; returns the final state, every request issued and the fatal error, if any.
fn play(
    mut session: Session<'static>,
    latency_s: f64,
    answer: &mut dyn FnMut(&FetchRequest) -> Reply,
) -> (PlayerState, Vec<FetchRequest>, Option<String>, usize) {
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut in_flight: Vec<(f64, FetchRequest)> = Vec::new();
    let mut issued = Vec::new();
    let mut fatal = None;
    let mut stalls = 0;
    session.handle(Instant::ZERO, Event::Tick);
    for _ in 0..100_000 {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(r) => {
                    issued.push(r.clone());
                    in_flight.push((now + latency_s, r));
                }
                Action::Cancel { id } => in_flight.retain(|f| f.1.id != id),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                Action::Stall => stalls += 1,
                // The kind leads the message, so that the tests check both.
                Action::Emit(PlayerEvent::Error { kind, message, fatal: true }) => {
                    fatal = Some(format!("{kind:?}: {message}"))
                }
                _ => {}
            }
        }
        let state = session.state();
        if matches!(state, PlayerState::Ended | PlayerState::Failed) {
            return (state, issued, fatal, stalls);
        }
        let next = in_flight.iter().map(|f| f.0).chain(wake).fold(f64::INFINITY, f64::min);
        assert!(next.is_finite(), "{state:?} at {now:.3} s, waiting for nothing");
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if let Some(i) = in_flight.iter().position(|f| f.0 <= now) {
            let (_, r) = in_flight.remove(i);
            let event = match answer(&r) {
                Reply::Index(data) => Event::SegmentIndexLoaded { id: r.id, data },
                Reply::Complete => {
                    let bytes = r.byte_range.map_or(1000, |b| b.length);
                    let d = Duration::from_secs_f64(latency_s);
                    Event::FetchCompleted { id: r.id, bytes, ttfb: d, duration: d }
                }
                Reply::Fail(status) => {
                    Event::FetchFailed { id: r.id, status: Some(status), bytes: 0 }
                }
            };
            session.handle(at, event);
        } else if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    panic!("no end after 100 000 steps");
}

fn ok(r: &FetchRequest, index: &[u8]) -> Reply {
    if r.kind == FetchKind::SegmentIndex { Reply::Index(index.to_vec()) } else { Reply::Complete }
}

#[test]
fn on_demand_mpd_plays_by_byte_ranges_of_one_file() {
    let index = audio_only_index();
    let session =
        Session::new(corpus("videojs-mpd-parser/audio-only.mpd"), SessionConfig::default())
            .unwrap();
    let (state, issued, fatal, stalls) = play(session, 0.05, &mut |r| ok(r, &index));
    assert_eq!((state, fatal, stalls), (PlayerState::Ended, None, 0));
    // First the index, as the MPD places it, and nothing else before it arrived.
    let first = &issued[0];
    assert_eq!(first.kind, FetchKind::SegmentIndex);
    assert_eq!(first.byte_range, Some(ByteRange { offset: 786, length: 224 }));
    let file = first.url.to_string();
    assert!(file.ends_with("/audio_en_2c_128k_aac.mp4"), "{file}");
    // Then every request is a range of that one file: the init (Initialization@range),
    // and the 16 subsegments end to end after the index.
    let media: Vec<&FetchRequest> = issued.iter().filter(|r| r.kind == FetchKind::Media).collect();
    let init: Vec<&FetchRequest> = issued.iter().filter(|r| r.kind == FetchKind::Init).collect();
    assert!(issued.iter().all(|r| r.url == first.url), "{issued:#?}");
    assert_eq!(init.len(), 1);
    assert_eq!(init[0].byte_range, Some(ByteRange { offset: 0, length: 786 }));
    assert_eq!(media.len(), 16);
    let mut offset = 1010;
    for (i, m) in media.iter().enumerate() {
        let length = 61_000 + i as u64 * 7;
        assert_eq!(m.segment, Some(i));
        assert_eq!(m.byte_range, Some(ByteRange { offset, length }), "segment {i}");
        assert_eq!(m.expected_bytes, Some(length));
        offset += length;
    }
}

#[test]
fn the_index_timing_and_first_offset_place_the_segments() {
    // The index says media starts 100 bytes after it, at 2 s (after a 1 s
    // presentationTimeOffset: 1 s into the period).
    let text =
        std::fs::read_to_string(shared_dir().join("manifests/videojs-mpd-parser/audio-only.mpd"))
            .unwrap()
            .replace(
                "timescale=\"48000\">",
                "timescale=\"48000\" presentationTimeOffset=\"48000\">",
            );
    let url = Url::parse("https://corpus.example/audio-only.mpd").unwrap();
    let mut p = manifest::parse_dash(&text, &url).unwrap();
    let mut index = sidx(1000, 100, &[(0, 500, 2000), (0, 600, 2500)]);
    index[20..24].copy_from_slice(&2000u32.to_be_bytes());
    let n = p.apply_segment_index(0, "0", &index).unwrap();
    assert_eq!(n, 2);
    let segs = p.rendition("0").unwrap().segments().unwrap();
    let end = 786 + index.len() as u64;
    assert_eq!(segs[0].byte_range, Some(ByteRange { offset: end + 100, length: 500 }));
    assert_eq!(segs[1].byte_range, Some(ByteRange { offset: end + 600, length: 600 }));
    assert!((segs[0].start_s - 1.0).abs() < 1e-9 && (segs[0].duration_s - 2.0).abs() < 1e-9);
    assert!((segs[1].start_s - 3.0).abs() < 1e-9 && (segs[1].duration_s - 2.5).abs() < 1e-9);
    let init = segs[0].init.as_deref().unwrap();
    assert_eq!(init.byte_range, Some(ByteRange { offset: 0, length: 786 }));
}

#[test]
fn malformed_or_hierarchical_indexes_fail_the_session_with_their_reason() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not a box".to_vec(), "truncated"),
        (Vec::new(), "no `sidx` box in the 0 bytes"),
        (sidx(0, 0, &[(0, 1, 1)]), "timescale is 0"),
        (sidx(1000, 0, &[(0, 500, 2000), (1, 90, 2000)]), "hierarchical"),
        (sidx(1000, 0, &[]), "lists no reference"),
    ];
    for (index, why) in cases {
        let session =
            Session::new(corpus("videojs-mpd-parser/audio-only.mpd"), SessionConfig::default())
                .unwrap();
        let (state, issued, fatal, _) = play(session, 0.05, &mut |r| ok(r, &index));
        assert_eq!(state, PlayerState::Failed);
        let fatal = fatal.unwrap();
        assert!(fatal.contains("segment index at byte 786") && fatal.contains(why), "{fatal}");
        // A form the engine does not read is unsupported; a broken index, malformed.
        let kind = if why == "hierarchical" { "Unsupported: " } else { "Manifest: " };
        assert!(fatal.starts_with(kind), "{fatal}");
        assert!(issued.iter().all(|r| r.kind == FetchKind::SegmentIndex), "{issued:?}");
    }
}

#[test]
fn a_failed_index_is_retried_then_fatal() {
    let index = audio_only_index();
    let config = SessionConfig::default();
    let attempts = config.max_attempts_per_segment;
    // Fails once, then loads: plays.
    let mut failures = 0;
    let session =
        Session::new(corpus("videojs-mpd-parser/audio-only.mpd"), config.clone()).unwrap();
    let (state, issued, ..) = play(session, 0.05, &mut |r| {
        if r.kind == FetchKind::SegmentIndex && failures == 0 {
            failures += 1;
            return Reply::Fail(503);
        }
        ok(r, &index)
    });
    assert_eq!(state, PlayerState::Ended);
    assert_eq!(issued.iter().filter(|r| r.kind == FetchKind::SegmentIndex).count(), 2);
    // Always fails: fatal after the attempts allowed, naming the rendition.
    let session = Session::new(corpus("videojs-mpd-parser/audio-only.mpd"), config).unwrap();
    let (state, issued, fatal, _) = play(session, 0.05, &mut |_| Reply::Fail(404));
    assert_eq!(state, PlayerState::Failed);
    assert_eq!(issued.len() as u32, attempts);
    let fatal = fatal.unwrap();
    assert!(fatal.contains("segment index of 0") && fatal.contains("404"), "{fatal}");
    assert!(fatal.starts_with("Network: "), "{fatal}");
}

#[test]
fn segment_base_without_index_range_is_refused() {
    // The videojs fixture names its index in another file (RepresentationIndex),
    // which is not read: no range to fetch.
    let session =
        Session::new(corpus("videojs-mpd-parser/segmentBase.mpd"), SessionConfig::default())
            .unwrap();
    let (state, issued, fatal, _) = play(session, 0.05, &mut |_| Reply::Complete);
    assert_eq!(state, PlayerState::Failed);
    assert!(issued.is_empty());
    let fatal = fatal.unwrap();
    assert!(fatal.starts_with("Unsupported: ") && fatal.contains("has no @indexRange"), "{fatal}");
}

#[test]
fn segment_list_mpd_plays_its_listed_urls() {
    let p = corpus("videojs-mpd-parser/segmentList.mpd");
    let session = Session::new(p, SessionConfig::default()).unwrap();
    let (state, issued, fatal, stalls) = play(session, 0.05, &mut |_| Reply::Complete);
    assert_eq!((state, fatal, stalls), (PlayerState::Ended, None, 0));
    let media: Vec<String> =
        issued.iter().filter(|r| r.kind == FetchKind::Media).map(|r| r.url.to_string()).collect();
    assert_eq!(media.len(), 10, "{media:?}");
    for (i, url) in media.iter().enumerate() {
        // Either rung's list, in order: low/segment-N.ts or high/segment-N.ts.
        let n = format!("/segment-{}.ts", i + 1);
        assert!(url.starts_with("https://www.example.com/") && url.ends_with(&n), "{url}");
    }
}

#[test]
fn segment_list_with_a_timeline_and_no_measured_bandwidth_plays() {
    // A packager's SegmentList with a SegmentTimeline, absolute SegmentURLs, an
    // Initialization@sourceURL and `bandwidth="0"` on its only Representation (which
    // the ladder refused). Its 16.5 s segments also found a scheduler hole: the
    // second segment, held by the 30 s buffer target while buffering, was not asked
    // again once playing, and playback stalled at the end of each segment.
    let p = corpus("dash-mpd-rs/st-sl.mpd");
    let session = Session::new(p, SessionConfig::default()).unwrap();
    let (state, issued, fatal, stalls) = play(session, 0.05, &mut |_| Reply::Complete);
    assert_eq!((state, fatal, stalls), (PlayerState::Ended, None, 0));
    let urls: Vec<(FetchKind, String)> =
        issued.iter().map(|r| (r.kind, r.url.to_string())).collect();
    let expected: Vec<(FetchKind, String)> = [
        (FetchKind::Init, "https://foobar.com/init.mp4"),
        (FetchKind::Media, "https://foobar.com/fie.0.m4v"),
        (FetchKind::Media, "https://foobar.com/fie.1.m4v"),
        (FetchKind::Media, "https://foobar.com/fie.2.m4v"),
    ]
    .into_iter()
    .map(|(k, u)| (k, u.to_string()))
    .collect();
    assert_eq!(urls, expected);
}

#[test]
fn a_failing_pathway_hands_the_index_to_the_next() {
    // The same on-demand MPD served from two CDNs (BaseURL@serviceLocation), the
    // first of which answers nothing but 503.
    let text = std::fs::read_to_string(
        shared_dir().join("manifests/videojs-mpd-parser/audio-only.mpd"),
    )
    .unwrap()
    .replace(
        "<BaseURL>http://example.com/audio_en_2c_128k_aac.mp4</BaseURL>",
        "<BaseURL serviceLocation=\"a\">https://a.example/en.mp4</BaseURL>\n        <BaseURL serviceLocation=\"b\">https://b.example/en.mp4</BaseURL>",
    );
    let url = Url::parse("https://corpus.example/audio-only.mpd").unwrap();
    let p = manifest::parse_dash(&text, &url).unwrap();
    assert_eq!(p.pathways.len(), 2);
    let index = audio_only_index();
    let session = Session::new(p, SessionConfig::default()).unwrap();
    let (state, issued, fatal, _) = play(session, 0.05, &mut |r| {
        if r.url.host() == Some("a.example") { Reply::Fail(503) } else { ok(r, &index) }
    });
    assert_eq!((state, fatal), (PlayerState::Ended, None));
    let indexes: Vec<(Option<String>, String)> = issued
        .iter()
        .filter(|r| r.kind == FetchKind::SegmentIndex)
        .map(|r| (r.pathway.clone(), r.url.to_string()))
        .collect();
    assert_eq!(
        indexes,
        [
            (Some("a".to_string()), "https://a.example/en.mp4".to_string()),
            (Some("b".to_string()), "https://b.example/en.mp4".to_string()),
        ]
    );
    // Everything after comes from the pathway that answered, but for the probes of
    // the failing one, each after a penalty twice as long as the one before (2, 4, 8,
    // 16, 32 s over the 60 s played).
    let after: Vec<&FetchRequest> =
        issued.iter().filter(|r| r.kind != FetchKind::SegmentIndex).collect();
    let probes = after.iter().filter(|r| r.url.host() == Some("a.example")).count();
    assert!((1..=5).contains(&probes), "{probes} probes of a");
    assert!(after.iter().all(|r| matches!(r.url.host(), Some("a.example" | "b.example"))));
}
