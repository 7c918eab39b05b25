//! A 24-hour live session on the virtual clock runs in flat memory.
//!
//! A counting global allocator tracks the live heap bytes of this test binary (one
//! test, so nothing else allocates beside it). A synthetic live origin slides its
//! HLS media playlists (or its dynamic MPD) by a 6 s segment at a time for 24 hours;
//! the session joins, reloads them as they slide, rides a bandwidth dip every hour
//! (rung switches, a stall, a rejoin of the window) and plays on. The heap is sampled
//! at 1 h, 12 h and 24 h of session time and printed; at 24 h it must be within
//! 64 KiB of its size at 1 h, while the QoE report still counts every segment played.
//!
//! The histories are bounded lower than their defaults in the HLS run so that they
//! are full within the first hour: what is measured from then on is everything else
//! the session keeps. The DASH run keeps the default capacities, which fill by hour
//! 17, and is flat from there.
#![cfg(all(feature = "hls", feature = "dash-lite"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicIsize, Ordering};
use streamsteer::manifest::{Presentation, parse_dash, parse_hls};
use streamsteer::qoe::QoeReport;
use streamsteer::session::{
    Action, DEFAULT_EVENT_LOG, DEFAULT_SEGMENT_RECORDS, ErrorKind, Event, FetchKind, FetchRequest,
    HistoryConfig, PlayerEvent, PlayerState, Retention, Session, SessionConfig, TrackKind,
};
use streamsteer::time::{Duration, Instant};

/// Live heap bytes of the process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only the byte count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Segment duration, seconds.
const SEG: u64 = 6;
const SEG_S: f64 = SEG as f64;
const WINDOW: u64 = 6;
const RTT_S: f64 = 0.04;
const BASE: &str = "http://live.test/";
const RATES_BPS: [u64; 3] = [400_000, 1_200_000, 3_000_000];
const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

/// The live origin: segment `n` is listed from `(n + 1) · SEG_S` seconds after the
/// stream's start, `epoch_s` before the player's.
struct Origin {
    epoch_s: f64,
}

impl Origin {
    fn newest(&self, now: f64) -> u64 {
        (((now + self.epoch_s) / SEG_S).floor() as u64).saturating_sub(1)
    }

    fn multivariant(&self) -> String {
        let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
        for (r, bps) in RATES_BPS.iter().enumerate() {
            s += &format!("#EXT-X-STREAM-INF:BANDWIDTH={bps},CODECS=\"avc1.64001f\"\nv{r}.m3u8\n");
        }
        s
    }

    /// A media playlist of the window. It carries a tolerated deviation (a
    /// whitespace-only line), so that every reload yields a warning.
    fn media(&self, rung: usize, now: f64) -> String {
        let newest = self.newest(now);
        let first = newest.saturating_sub(WINDOW - 1);
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{SEG}\n#EXT-X-MEDIA-SEQUENCE:{first}\n  \n\
             #EXT-X-MAP:URI=\"v{rung}/init.mp4\"\n"
        );
        for n in first..=newest {
            s += &format!("#EXTINF:{SEG}.000,\nv{rung}/seg_{n}.m4s\n");
        }
        s
    }

    /// A dynamic MPD listing the same window as a SegmentTimeline.
    fn mpd(&self, now: f64) -> String {
        let newest = self.newest(now);
        let first = newest.saturating_sub(WINDOW - 1);
        let mut s = format!(
            "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" \
             availabilityStartTime=\"2026-01-01T00:00:00Z\" minimumUpdatePeriod=\"PT{SEG}S\" \
             timeShiftBufferDepth=\"PT{depth}S\" minBufferTime=\"PT{SEG}S\" \
             profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">\n<Period id=\"p0\" start=\"PT0S\">\n\
             <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\n\
             <SegmentTemplate timescale=\"1000\" initialization=\"v$RepresentationID$/init.mp4\" \
             media=\"v$RepresentationID$/seg_$Number$.m4s\" startNumber=\"{first}\">\n\
             <SegmentTimeline><S t=\"{}\" d=\"{}\" r=\"{}\"/></SegmentTimeline>\n</SegmentTemplate>\n",
            first * SEG * 1000,
            SEG * 1000,
            newest - first,
            depth = WINDOW * SEG,
        );
        for (r, bps) in RATES_BPS.iter().enumerate() {
            s += &format!(
                "<Representation id=\"{r}\" bandwidth=\"{bps}\" codecs=\"avc1.64001f\" width=\"640\" height=\"360\"/>\n"
            );
        }
        s + "</AdaptationSet>\n</Period>\n</MPD>\n"
    }
}

/// The link: 6 Mbit/s, with a dip every hour (three minutes at 700 kbit/s, then a
/// minute at 100 kbit/s, a quarter of the lowest rung: the session switches down,
/// stalls, and falls behind the window).
fn kbps_at(t: f64) -> f64 {
    match t % HOUR {
        m if (3000.0..3180.0).contains(&m) => 700.0,
        m if (3180.0..3240.0).contains(&m) => 100.0,
        _ => 6000.0,
    }
}

/// What a run measured.
struct Run {
    /// `(session hour, live heap bytes)` at each checkpoint.
    heap: Vec<(f64, isize)>,
    /// Video media segments appended.
    appended: u64,
    stalls: u64,
    skips: u64,
    report: QoeReport,
    records: (usize, u64),
    log: (usize, u64),
    /// Wall-clock time the run took, seconds.
    wall_s: f64,
}

/// Plays `presentation` from `origin` for `until_s` seconds of session time, one
/// transfer at a time, keeping nothing that grows; samples the heap at `checkpoints`.
fn drive(
    origin: &Origin,
    presentation: Presentation,
    history: HistoryConfig,
    until_s: f64,
    checkpoints: &[f64],
) -> Run {
    let started = std::time::Instant::now();
    let mut config = SessionConfig::default();
    config.history = history;
    let mut session = Session::new(presentation, config).unwrap();
    let mut run = Run {
        heap: Vec::with_capacity(checkpoints.len()),
        appended: 0,
        stalls: 0,
        skips: 0,
        report: QoeReport::default(),
        records: (0, 0),
        log: (0, 0),
        wall_s: 0.0,
    };
    let mut checkpoints: VecDeque<f64> = checkpoints.iter().copied().collect();
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut queue: VecDeque<(f64, FetchRequest)> = VecDeque::with_capacity(64);
    // (request, issued at, done at)
    let mut current: Option<(FetchRequest, f64, f64)> = None;
    session.handle(Instant::ZERO, Event::Tick);
    loop {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(req) => queue.push_back((now, req)),
                Action::Cancel { id } => {
                    queue.retain(|(_, r)| r.id != id);
                    if current.as_ref().is_some_and(|(r, _, _)| r.id == id) {
                        current = None;
                    }
                }
                Action::Append { track: TrackKind::Video, init: false, .. } => run.appended += 1,
                Action::Emit(PlayerEvent::Stalled { .. }) => run.stalls += 1,
                Action::Emit(PlayerEvent::Error { fatal, message, kind }) => {
                    assert!(!fatal, "{message}");
                    run.skips += u64::from(kind == ErrorKind::Live);
                }
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        assert_ne!(session.state(), PlayerState::Failed);
        while checkpoints.front().is_some_and(|c| *c <= now) {
            checkpoints.pop_front();
            run.heap.push((now / HOUR, live_bytes()));
        }
        if now >= until_s {
            break;
        }
        if current.is_none()
            && let Some((issued, req)) = queue.pop_front()
        {
            let bytes = if req.kind == FetchKind::Manifest {
                2_000
            } else {
                req.expected_bytes.unwrap_or(1_000)
            };
            let done = now + RTT_S + bytes as f64 * 8.0 / (kbps_at(now) * 1000.0);
            current = Some((req, issued, done));
        }
        let mut next = until_s;
        if let Some(c) = checkpoints.front() {
            next = next.min(*c);
        }
        if let Some((_, _, done)) = &current {
            next = next.min(*done);
        }
        if let Some(w) = wake.filter(|w| *w > now) {
            next = next.min(w);
        }
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if current.as_ref().is_some_and(|(_, _, done)| *done <= now)
            && let Some((req, issued, _)) = current.take()
        {
            let event = if req.kind != FetchKind::Manifest {
                Event::FetchCompleted {
                    id: req.id,
                    bytes: req.expected_bytes.unwrap_or(1_000),
                    ttfb: Duration::from_secs_f64(RTT_S),
                    duration: Duration::from_secs_f64(now - issued),
                }
            } else if req.url.ends_with(".mpd") {
                Event::ManifestLoaded { id: req.id, text: origin.mpd(now), url: req.url }
            } else {
                let rung = req
                    .url
                    .strip_prefix(BASE)
                    .and_then(|u| u.strip_prefix('v'))
                    .and_then(|u| u.strip_suffix(".m3u8"))
                    .and_then(|r| r.parse().ok())
                    .unwrap();
                Event::ManifestLoaded { id: req.id, text: origin.media(rung, now), url: req.url }
            };
            session.handle(at, event);
        }
        if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    assert_eq!(session.state(), PlayerState::Playing);
    run.report = session.qoe_report();
    run.records = (session.segment_records().len(), session.segment_records().total());
    run.log = (session.event_log().len(), session.event_log().total());
    run.wall_s = started.elapsed().as_secs_f64();
    run
}

fn print(label: &str, run: &Run) {
    for (h, b) in &run.heap {
        println!("{label}: live heap at {h:>5.2} h: {b:>9} bytes");
    }
    println!(
        "{label}: {} segments in the report, {} appended, {} stalls, {} window rejoins; \
         records kept {} of {}, log entries kept {} of {}; {:.1} s",
        run.report.segments,
        run.appended,
        run.stalls,
        run.skips,
        run.records.0,
        run.records.1,
        run.log.0,
        run.log.1,
        run.wall_s
    );
}

/// Heap growth allowed over the hours compared: 64 KiB or a tenth of the heap,
/// whichever is less (13 KiB for the HLS run: one byte per segment played from hour 1
/// on would exceed it). What grew before
/// grew far past it: a plan timeline entry per segment (16 bytes, 230 KB a day of
/// 6 s segments), a presentation warning per playlist reload (about 60 bytes, 2.6 MB a
/// day), the segment records (12 MB a day) and the event log. Allocator-level
/// variation (a string longer at one instant than at another, a buffer that happened
/// to double) stays well within it.
const SLACK: isize = 64 * 1024;

fn check_flat(label: &str, run: &Run, from_h: f64) {
    let at = |h: f64| run.heap.iter().find(|(x, _)| (*x - h).abs() < 1e-6).map(|(_, b)| *b);
    let (Some(from), Some(end)) = (at(from_h), at(24.0)) else { panic!("{label}: no samples") };
    assert!(
        end <= from + SLACK.min(from / 10),
        "{label}: heap grew from {from} bytes at {from_h} h to {end} at 24 h"
    );
    // Every segment played is counted, though few records are kept.
    let expected = DAY / SEG_S;
    let segments = run.report.segments as f64;
    assert_eq!(run.report.segments as u64, run.appended, "{label}");
    assert_eq!(run.records.1, run.appended, "{label}: every record passed through");
    assert!(
        (0.97 * expected..=expected + WINDOW as f64).contains(&segments),
        "{label}: {segments} segments in 24 h, {expected} expected"
    );
    // The dips happened and went into the report: switches down and back, stalls,
    // and rejoins of the window (the segments it skipped are not played).
    assert_eq!(run.report.rebuffer_count as u64, run.stalls, "{label}");
    assert!(run.stalls >= 24, "{label}: {} stalls", run.stalls);
    assert!(run.skips >= 24, "{label}: {} rejoins", run.skips);
    assert!(run.report.switch_count >= 48, "{label}: {} switches", run.report.switch_count);
}

#[test]
fn a_24_hour_live_session_runs_in_flat_memory() {
    let origin = Origin { epoch_s: 10_000.0 };

    // HLS, the three media playlists reloaded every 6 s; histories bounded to 500
    // entries, full within the first hour (600 segments an hour, about one log entry
    // each): from then on the heap must not grow.
    let mut small = HistoryConfig::default();
    small.event_log = Retention::Last(500);
    small.segment_records = Retention::Last(500);
    let hls = parse_hls(
        &origin.multivariant(),
        &streamsteer::uri::Url::parse(&format!("{BASE}master.m3u8")).unwrap(),
    )
    .unwrap();
    let run = drive(&origin, hls, small, DAY, &[HOUR, 12.0 * HOUR, DAY]);
    print("hls, histories of 500", &run);
    assert_eq!(run.records, (500, run.appended));
    assert_eq!((run.log.0 as u64, run.log.1 > 500), (500, true));
    check_flat("hls, histories of 500", &run, 1.0);

    // DASH, the MPD reloaded every 6 s, with the default capacities: the histories
    // fill by hour 17 (10 000 segments), then the heap stays flat.
    let dash = parse_dash(
        &origin.mpd(0.0),
        &streamsteer::uri::Url::parse(&format!("{BASE}live.mpd")).unwrap(),
    )
    .unwrap();
    let checkpoints = [HOUR, 12.0 * HOUR, 18.0 * HOUR, DAY];
    let run = drive(&origin, dash, HistoryConfig::default(), DAY, &checkpoints);
    print("dash, default histories", &run);
    assert_eq!(run.records, (DEFAULT_SEGMENT_RECORDS, run.appended));
    assert_eq!(run.log.0, DEFAULT_EVENT_LOG);
    check_flat("dash, default histories", &run, 18.0);
}
