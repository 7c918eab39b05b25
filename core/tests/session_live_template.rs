//! Live DASH with `SegmentTemplate@duration` and `$Number$` on a virtual wall clock:
//! a simulated origin whose segments exist by its own clock (404 before), a driver
//! whose clock may be off, `UTCTiming` sources (good, hostile, failing), and a session
//! that must join at the suggested delay behind the live edge, follow the new
//! segments, and never ask for one that does not exist yet.
#![cfg(feature = "dash-lite")]

use streamsteer::manifest::{UtcTimingScheme, parse_dash};
use streamsteer::session::{
    Action, ClockSource, ErrorKind, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState,
    Session, SessionConfig, TrackKind,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;
use streamsteer::utc_timing::{UtcTimingError, format_date_time, format_http_date};

const SEG_S: f64 = 2.0;
const START_NUMBER: u64 = 10;
const RTT_S: f64 = 0.06;
const KBPS: f64 = 20_000.0;
/// The stream's `availabilityStartTime`: 2026-12-07T06:00:00Z.
const AST: f64 = 1_796_623_200.0;
/// The server's clock at the session's time 0: 3,001.3 s into the stream (off a
/// segment boundary, so that the expected join does not hang on rounding).
const SERVER_AT_0: f64 = AST + 3001.3;
const SPD_S: f64 = 6.0;
const BASE: &str = "https://live.test/";

/// What the origin answers on its time endpoints.
#[derive(Clone, Copy)]
enum TimeAnswer {
    Good,
    /// A body no date parser should accept: control bytes, then megabytes of digits.
    Hostile,
    /// HTTP 503.
    Fails,
}

struct Origin {
    /// `UTCTiming` elements, inserted verbatim.
    utc_timing: String,
    /// Driver's wall clock minus the server's, seconds.
    driver_skew_s: f64,
    time_answer: TimeAnswer,
    /// Server time after which the MPD announces the end (`Period@duration`).
    ends_at: Option<f64>,
    /// `MPD@availabilityStartTime`.
    ast: f64,
}

impl Origin {
    fn new(utc_timing: &str, driver_skew_s: f64) -> Self {
        Self {
            utc_timing: utc_timing.to_string(),
            driver_skew_s,
            time_answer: TimeAnswer::Good,
            ends_at: None,
            ast: AST,
        }
    }

    fn server_s(&self, t: f64) -> f64 {
        SERVER_AT_0 + t
    }

    fn mpd(&self, t: f64) -> String {
        let ended = self.ends_at.is_some_and(|e| self.server_s(t) >= e);
        let period_duration = match self.ends_at {
            Some(e) if ended => format!(" duration=\"PT{}S\"", e - self.ast),
            _ => String::new(),
        };
        let ast = format_date_time(self.ast);
        format!(
            "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" \
             availabilityStartTime=\"{ast}\" minimumUpdatePeriod=\"PT10S\" \
             timeShiftBufferDepth=\"PT30S\" suggestedPresentationDelay=\"PT{SPD_S}S\" minBufferTime=\"PT2S\" \
             profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">\n<Period id=\"p0\" start=\"PT0S\"{period_duration}>\n\
             <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\n\
             <SegmentTemplate timescale=\"90000\" duration=\"{}\" startNumber=\"{START_NUMBER}\" \
             initialization=\"$RepresentationID$/init.mp4\" media=\"$RepresentationID$/seg_$Number$.m4s\"/>\n\
             <Representation id=\"lo\" bandwidth=\"500000\" codecs=\"avc1.64001f\" width=\"640\" height=\"360\"/>\n\
             <Representation id=\"hi\" bandwidth=\"3000000\" codecs=\"avc1.64001f\" width=\"1280\" height=\"720\"/>\n\
             </AdaptationSet>\n</Period>\n{}\n</MPD>\n",
            (SEG_S * 90000.0) as u64,
            self.utc_timing
        )
    }

    /// When segment `number` exists on the server's clock.
    fn available_at(&self, number: u64) -> f64 {
        self.ast + (number - START_NUMBER + 1) as f64 * SEG_S
    }
}

fn number(url: &str) -> Option<u64> {
    url.rsplit("seg_").next()?.strip_suffix(".m4s")?.parse().ok()
}

#[derive(Default)]
struct Run {
    fetches: Vec<(f64, FetchRequest)>,
    /// Media requests that reached the origin before their segment existed.
    too_early: Vec<u64>,
    appended: Vec<u64>,
    events: Vec<PlayerEvent>,
    /// (time, playhead, live edge in media time) every second.
    samples: Vec<(f64, f64, f64)>,
    state: Option<PlayerState>,
}

impl Run {
    fn media(&self) -> impl Iterator<Item = &(f64, FetchRequest)> {
        self.fetches.iter().filter(|(_, r)| r.kind == FetchKind::Media)
    }

    fn clock_events(&self) -> Vec<&PlayerEvent> {
        self.events
            .iter()
            .filter(|e| {
                matches!(e, PlayerEvent::ClockSynced { .. } | PlayerEvent::ClockSyncFailed { .. })
            })
            .collect()
    }
}

/// Plays for `until_s` seconds over a fast link, one transfer at a time; the driver
/// gives its wall clock first unless `wall_clock_at` says when.
fn play(origin: &Origin, until_s: f64, wall_clock_at: Option<f64>) -> Run {
    let url = Url::parse(&format!("{BASE}live.mpd")).unwrap();
    let presentation = parse_dash(&origin.mpd(0.0), &url).unwrap();
    let mut session = Session::new(presentation, SessionConfig::default()).unwrap();
    let mut run = Run::default();
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut queue: Vec<FetchRequest> = Vec::new();
    let mut current: Option<(FetchRequest, f64, f64)> = None;
    let mut next_sample = 0.0f64;
    let mut clock_at = Some(wall_clock_at.unwrap_or(0.0));
    if wall_clock_at.is_none() {
        let unix_s = origin.server_s(0.0) + origin.driver_skew_s;
        session.handle(Instant::ZERO, Event::WallClock { unix_s });
        clock_at = None;
    }
    session.handle(Instant::ZERO, Event::Tick);
    while now < until_s {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(req) => {
                    run.fetches.push((now, req.clone()));
                    queue.push(req);
                }
                Action::Cancel { id } => {
                    queue.retain(|r| r.id != id);
                    if current.as_ref().is_some_and(|(r, _, _)| r.id == id) {
                        current = None;
                    }
                }
                Action::Append { track: TrackKind::Video, init: false, request, .. } => {
                    let (_, r) = run.fetches.iter().find(|(_, r)| r.id == request).unwrap();
                    run.appended.push(number(&r.url).unwrap());
                }
                Action::Emit(e) => run.events.push(e),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        if matches!(session.state(), PlayerState::Ended | PlayerState::Failed) {
            break;
        }
        if current.is_none() && !queue.is_empty() {
            let req = queue.remove(0);
            let bytes = match req.kind {
                FetchKind::Media | FetchKind::Init => req.expected_bytes.unwrap_or(1_000),
                _ => 1_500,
            };
            let done = now + RTT_S + bytes as f64 * 8.0 / (KBPS * 1000.0);
            current = Some((req, now, done));
        }
        let mut next = next_sample;
        if let Some((_, _, done)) = &current {
            next = next.min(*done);
        }
        if let Some(w) = wake.filter(|w| *w > now) {
            next = next.min(w);
        }
        if let Some(c) = clock_at {
            next = next.min(c);
        }
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if clock_at.is_some_and(|c| c <= now) {
            clock_at = None;
            let unix_s = origin.server_s(now) + origin.driver_skew_s;
            session.handle(at, Event::WallClock { unix_s });
        }
        if now >= next_sample {
            session.handle(at, Event::Tick);
            let edge = origin.server_s(now) - origin.ast;
            run.samples.push((now, session.position_s(), edge));
            next_sample = now + 1.0;
        }
        if current.as_ref().is_some_and(|(_, _, done)| *done <= now) {
            let (req, issued, done) = current.take().unwrap();
            // The origin reads its clock when the request reaches it.
            let served_at = origin.server_s(issued + RTT_S / 2.0);
            let event = match req.kind {
                FetchKind::Manifest => {
                    Event::ManifestLoaded { id: req.id, text: origin.mpd(now), url: req.url }
                }
                FetchKind::UtcTiming { scheme } => match origin.time_answer {
                    TimeAnswer::Fails => {
                        Event::FetchFailed { id: req.id, status: Some(503), bytes: 0 }
                    }
                    TimeAnswer::Hostile if scheme != UtcTimingScheme::HttpHead => {
                        let body = format!("\u{0}\u{202e}{}", "9".repeat(2_000_000));
                        Event::UtcTimingLoaded { id: req.id, body, date: None }
                    }
                    _ => Event::UtcTimingLoaded {
                        id: req.id,
                        body: if scheme.is_head() {
                            String::new()
                        } else {
                            format_date_time(served_at)
                        },
                        date: Some(format_http_date(served_at)),
                    },
                },
                FetchKind::Media => {
                    let n = number(&req.url).unwrap();
                    if served_at < origin.available_at(n) {
                        run.too_early.push(n);
                        Event::FetchFailed { id: req.id, status: Some(404), bytes: 0 }
                    } else {
                        let bytes = req.expected_bytes.unwrap_or(1_000);
                        Event::FetchCompleted {
                            id: req.id,
                            bytes,
                            ttfb: Duration::from_secs_f64(RTT_S),
                            duration: Duration::from_secs_f64(done - issued),
                        }
                    }
                }
                _ => Event::FetchCompleted {
                    id: req.id,
                    bytes: req.expected_bytes.unwrap_or(1_000),
                    ttfb: Duration::from_secs_f64(RTT_S),
                    duration: Duration::from_secs_f64(done - issued),
                },
            };
            session.handle(at, event);
        }
        if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    run.state = Some(session.state());
    run
}

const XSDATE: &str =
    "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"/time\"/>";
const HEAD: &str =
    "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-head:2014\" value=\"https://live.test/\"/>";

/// The number the session should join at, when the clock it uses reads `server_s`:
/// the segment holding the live edge less the suggested presentation delay.
fn join_number(server_s: f64) -> u64 {
    START_NUMBER + ((server_s - AST - SPD_S) / SEG_S).floor() as u64
}

/// Every segment once, in order, from the first; none requested before it existed;
/// never stalled; the playhead stayed about the suggested delay behind the edge.
fn assert_follows_the_edge(run: &Run, from_s: f64) {
    assert_eq!(run.state, Some(PlayerState::Playing), "{:?}", run.events);
    let first = run.appended[0];
    let want: Vec<u64> = (first..first + run.appended.len() as u64).collect();
    assert_eq!(run.appended, want);
    assert!(run.too_early.is_empty(), "requested before available: {:?}", run.too_early);
    assert!(!run.events.iter().any(|e| matches!(e, PlayerEvent::Stalled { .. })));
    for &(t, pos, edge) in run.samples.iter().filter(|s| s.0 > from_s) {
        let behind = edge - pos;
        assert!(
            (SPD_S - SEG_S..=SPD_S + 2.0 * SEG_S).contains(&behind),
            "at {t}: {behind} s behind the edge"
        );
    }
}

#[test]
fn joins_at_the_suggested_delay_and_follows_new_segments() {
    let origin = Origin::new(XSDATE, 0.0);
    let run = play(&origin, 120.0, None);
    // The clock came from the time endpoint, and agreed with the driver's (to the
    // millisecond the xs:dateTime carries, plus the half round trip's rounding).
    match run.clock_events()[..] {
        [PlayerEvent::ClockSynced { source, skew_s: Some(skew) }] => {
            assert_eq!(*source, ClockSource::UtcTiming { scheme: UtcTimingScheme::HttpXsDate });
            assert!(skew.abs() < 0.002, "skew {skew}");
        }
        ref other => panic!("{other:?}"),
    }
    let time_fetch = &run.fetches[0].1;
    assert_eq!(time_fetch.url, "https://live.test/time");
    // Joined once the time answer came back (one round trip in).
    assert_eq!(run.appended[0], join_number(origin.server_s(RTT_S)));
    // Two minutes of 2 s segments: about sixty, every one as it appeared.
    assert!(run.appended.len() >= 58, "{} segments", run.appended.len());
    assert_follows_the_edge(&run, 10.0);
    // Each segment was requested within a second of existing, once the start-up
    // burst had caught up with the edge.
    for (t, r) in run.media().filter(|(t, _)| *t > 20.0) {
        let n = number(&r.url).unwrap();
        let late = origin.server_s(*t) - origin.available_at(n);
        assert!((0.0..1.0).contains(&late), "segment {n} requested {late} s after it existed");
    }
    // The MPD was still reloaded every @minimumUpdatePeriod (10 s).
    let reloads = run.fetches.iter().filter(|(_, r)| r.kind == FetchKind::Manifest).count();
    assert!((10..=13).contains(&reloads), "{reloads} MPD reloads in 120 s");
}

#[test]
fn utc_timing_corrects_a_driver_clock_that_runs_ahead() {
    // The driver's clock is 20 s fast: by it, ten segments exist that do not.
    let origin = Origin::new(HEAD, 20.0);
    let run = play(&origin, 60.0, None);
    match run.clock_events()[..] {
        [PlayerEvent::ClockSynced { source, skew_s: Some(skew) }] => {
            assert_eq!(*source, ClockSource::UtcTiming { scheme: UtcTimingScheme::HttpHead });
            // The Date header has whole seconds: the correction is right to within one.
            assert!((-21.0..=-19.0).contains(skew), "skew {skew}");
        }
        ref other => panic!("{other:?}"),
    }
    assert!(run.fetches[0].1.kind.is_head());
    let join = run.appended[0];
    let server = origin.server_s(RTT_S);
    assert!((join_number(server - 1.0)..=join_number(server)).contains(&join), "joined at {join}");
    assert_follows_the_edge(&run, 12.0);
}

#[test]
fn without_utc_timing_the_driver_clock_is_used_even_when_wrong() {
    // The control for the test above: the same fast clock, nothing to correct it.
    let origin = Origin::new("", 20.0);
    let run = play(&origin, 30.0, None);
    assert_eq!(
        run.clock_events(),
        [&PlayerEvent::ClockSynced { source: ClockSource::Driver, skew_s: None }]
    );
    assert!(!run.fetches.iter().any(|(_, r)| matches!(r.kind, FetchKind::UtcTiming { .. })));
    // Joined by the wrong clock: ten segments too far ahead, which the origin refused.
    assert_eq!(
        run.fetches.iter().find_map(|(_, r)| number(&r.url)),
        Some(join_number(origin.server_s(0.0) + 20.0))
    );
    assert!(!run.too_early.is_empty());
}

#[test]
fn a_hostile_utc_timing_answer_is_a_typed_warning_and_the_next_source_is_used() {
    let mut origin = Origin::new(&format!("{XSDATE}\n{HEAD}"), 15.0);
    origin.time_answer = TimeAnswer::Hostile;
    let run = play(&origin, 40.0, None);
    match run.clock_events()[..] {
        [
            PlayerEvent::ClockSyncFailed {
                scheme: UtcTimingScheme::HttpXsDate,
                error: UtcTimingError::Unparsable { value },
            },
            PlayerEvent::ClockSynced {
                source: ClockSource::UtcTiming { scheme: UtcTimingScheme::HttpHead },
                skew_s: Some(skew),
            },
        ] => {
            assert!(value.chars().count() <= 48, "the error quotes a bounded prefix");
            assert!((-16.0..=-14.0).contains(skew), "skew {skew}");
        }
        ref other => panic!("{other:?}"),
    }
    assert_follows_the_edge(&run, 12.0);
}

#[test]
fn failing_utc_timing_sources_fall_back_to_the_driver_clock() {
    let mut origin = Origin::new(&format!("{XSDATE}\n{HEAD}"), 0.0);
    origin.time_answer = TimeAnswer::Fails;
    let run = play(&origin, 40.0, None);
    let failed = UtcTimingError::FetchFailed { status: Some(503) };
    assert_eq!(
        run.clock_events(),
        [
            &PlayerEvent::ClockSyncFailed {
                scheme: UtcTimingScheme::HttpXsDate,
                error: failed.clone()
            },
            &PlayerEvent::ClockSyncFailed { scheme: UtcTimingScheme::HttpHead, error: failed },
            &PlayerEvent::ClockSynced { source: ClockSource::Driver, skew_s: None },
        ]
    );
    assert_follows_the_edge(&run, 12.0);
}

#[test]
fn direct_utc_timing_needs_no_fetch() {
    // The MPD says the server's time when it served it: 7 s behind the driver.
    let direct = format!(
        "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"{}\"/>",
        format_date_time(SERVER_AT_0)
    );
    let run = play(&Origin::new(&direct, 7.0), 40.0, None);
    assert!(!run.fetches.iter().any(|(_, r)| matches!(r.kind, FetchKind::UtcTiming { .. })));
    match run.clock_events()[..] {
        [PlayerEvent::ClockSynced { source, skew_s: Some(skew) }] => {
            assert_eq!(*source, ClockSource::UtcTiming { scheme: UtcTimingScheme::Direct });
            assert!((skew + 7.0).abs() < 1e-3, "skew {skew}");
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(run.appended[0], join_number(SERVER_AT_0));
    assert_follows_the_edge(&run, 12.0);
}

#[test]
fn without_any_clock_the_session_waits_for_the_drivers() {
    let origin = Origin::new("", 0.0);
    let run = play(&origin, 30.0, Some(5.0));
    // Nothing but the MPD before the clock arrived at 5 s.
    assert!(run.fetches.iter().all(|(t, r)| *t >= 5.0 || r.kind == FetchKind::Manifest));
    assert_eq!(
        run.fetches.iter().find_map(|(_, r)| number(&r.url)),
        Some(join_number(origin.server_s(5.0)))
    );
    assert_follows_the_edge(&run, 17.0);
}

#[test]
fn a_stream_that_has_not_started_plays_from_its_first_segment_once_it_exists() {
    let mut origin = Origin::new(XSDATE, 0.0);
    // Starts 5 s after the session: the first segment exists at 7 s.
    origin.ast = SERVER_AT_0 + 5.0;
    let run = play(&origin, 40.0, None);
    assert!(run.media().all(|(t, _)| *t >= 7.0), "{:?}", run.media().next());
    assert_eq!(run.appended[0], START_NUMBER);
    assert!(run.too_early.is_empty(), "{:?}", run.too_early);
    assert_eq!(run.state, Some(PlayerState::Playing));
}

#[test]
fn the_stream_ends_when_the_mpd_announces_its_last_period_duration() {
    let mut origin = Origin::new(XSDATE, 0.0);
    // Ends 30 s in; the MPD says so (a Period@duration) from then on.
    origin.ends_at = Some(SERVER_AT_0 + 30.0);
    let run = play(&origin, 120.0, None);
    assert_eq!(run.state, Some(PlayerState::Ended), "{:?}", run.events);
    let last = START_NUMBER + ((SERVER_AT_0 + 30.0 - AST) / SEG_S).floor() as u64 - 1;
    assert_eq!(run.appended.last(), Some(&last));
    assert!(run.too_early.is_empty(), "{:?}", run.too_early);
}

#[test]
fn a_driver_that_never_gives_its_clock_fails_the_session_instead_of_hanging() {
    let run = play(&Origin::new("", 0.0), 60.0, Some(f64::INFINITY));
    assert_eq!(run.state, Some(PlayerState::Failed), "{:?} {:?}", run.events, run.samples.last());
    assert!(run.media().next().is_none());
    let fatal = run.events.iter().find_map(|e| match e {
        PlayerEvent::Error { kind: ErrorKind::Live, message, fatal: true } => {
            Some(message.as_str())
        }
        _ => None,
    });
    assert!(fatal.is_some_and(|m| m.contains("Event::WallClock")), "{fatal:?}");
    // It waited ten seconds for the clock first.
    let failed_at = run.samples.last().map(|s| s.0).unwrap_or(0.0);
    assert!((10.0..=11.0).contains(&failed_at), "failed at {failed_at}");
}

#[test]
fn a_stream_that_ended_before_the_player_came_fails_with_a_clear_error() {
    let mut origin = Origin::new(XSDATE, 0.0);
    // Ended 100 s ago: its 30 s time-shift window holds nothing any more.
    origin.ends_at = Some(SERVER_AT_0 - 100.0);
    let run = play(&origin, 30.0, None);
    assert_eq!(run.state, Some(PlayerState::Failed));
    assert!(run.media().next().is_none());
    assert!(run.events.iter().any(
        |e| matches!(e, PlayerEvent::Error { kind: ErrorKind::Live, message, fatal: true } if message.contains("has ended"))
    ));
}

#[test]
fn a_template_of_nanosecond_segments_lists_a_bounded_window() {
    // 30 s of time-shift window in 1 ns segments is 3·10¹⁰ segments: the session
    // lists at most MAX_LIVE_SEGMENTS of them instead of allocating for every one.
    let origin = Origin::new("", 0.0);
    let text = origin.mpd(0.0).replace(
        &format!("timescale=\"90000\" duration=\"{}\"", (SEG_S * 90000.0) as u64),
        "timescale=\"1000000000\" duration=\"1\"",
    );
    assert!(text.contains("duration=\"1\""));
    let url = Url::parse(&format!("{BASE}live.mpd")).unwrap();
    let presentation = parse_dash(&text, &url).unwrap();
    let mut session = Session::new(presentation, SessionConfig::default()).unwrap();
    session.handle(Instant::ZERO, Event::WallClock { unix_s: origin.server_s(0.0) });
    session.handle(Instant::ZERO, Event::Tick);
    let mut numbers = Vec::new();
    let mut inits = Vec::new();
    for _ in 0..2 {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(r) if r.kind == FetchKind::Media => numbers.extend(number(&r.url)),
                Action::Fetch(r) if r.kind == FetchKind::Init => inits.push(r.id),
                _ => {}
            }
        }
        // The init segment arrives at once; the first media request follows.
        let ms = Duration::from_secs_f64(0.001);
        for id in inits.drain(..) {
            let done = Event::FetchCompleted { id, bytes: 1000, ttfb: ms, duration: ms };
            session.handle(Instant::ZERO, done);
        }
    }
    // The newest segment that exists, and the one asked for: within the bound.
    let newest = START_NUMBER + ((origin.server_s(0.0) - origin.ast) * 1e9) as u64;
    let first = *numbers.first().expect("a media segment is asked for");
    assert!(first <= newest, "{first} > {newest}");
    assert!(newest - first <= streamsteer::manifest::MAX_LIVE_SEGMENTS, "{first} .. {newest}");
}
