//! User control of a session on a virtual clock: pause and play, seek, pinning a
//! rendition. A small driver plays fetches over a constant-rate link.

use streamsteer::Ladder;
use streamsteer::session::{
    Action, Event, FetchKind, FetchRequest, PlayerState, Session, SessionConfig, SyntheticOptions,
    TrackKind, presentation_from_ladder,
};
use streamsteer::time::{Duration, Instant};

const RTT_S: f64 = 0.05;

/// A user action at a given time.
#[derive(Clone)]
struct UserAt(f64, Event);

struct Run {
    fetches: Vec<(f64, FetchRequest)>,
    appended: Vec<usize>,
    positions: Vec<(f64, f64, PlayerState)>,
    end_state: PlayerState,
}

/// Plays `session` over a `kbps` link, one transfer at a time in request order,
/// injecting `user` events at their times. Samples the playhead every 0.5 s.
fn drive(mut session: Session<'static>, kbps: f64, mut user: Vec<UserAt>) -> Run {
    user.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut user = user.into_iter().peekable();
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut queue: Vec<FetchRequest> = Vec::new();
    let mut current: Option<(FetchRequest, f64)> = None;
    let mut run = Run {
        fetches: vec![],
        appended: vec![],
        positions: vec![],
        end_state: PlayerState::Loading,
    };
    let mut next_sample = 0.0;
    session.handle(Instant::ZERO, Event::Tick);
    for _ in 0..200_000 {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(req) => {
                    run.fetches.push((now, req.clone()));
                    queue.push(req);
                }
                Action::Cancel { id } => {
                    queue.retain(|r| r.id != id);
                    if current.as_ref().is_some_and(|(r, _)| r.id == id) {
                        current = None;
                    }
                }
                Action::Append {
                    track: TrackKind::Video, init: false, segment: Some(s), ..
                } => run.appended.push(s),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        if matches!(session.state(), PlayerState::Ended | PlayerState::Failed) {
            break;
        }
        if current.is_none() && !queue.is_empty() {
            let req = queue.remove(0);
            // Unknown sizes (HLS without byte ranges) travel as 100 kB.
            let bytes = req.expected_bytes.or(req.byte_range.map(|b| b.length)).unwrap_or(100_000);
            let done = now + RTT_S + bytes as f64 * 8.0 / (kbps * 1000.0);
            current = Some((req, done));
        }
        let mut next = f64::INFINITY;
        if let Some((_, done)) = &current {
            next = next.min(*done);
        }
        if let Some(w) = wake.filter(|w| *w > now) {
            next = next.min(w);
        }
        if let Some(u) = user.peek() {
            next = next.min(u.0);
        }
        next = next.min(next_sample);
        assert!(next.is_finite(), "driver stuck at {now}");
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if now >= next_sample {
            session.handle(at, Event::Tick);
            run.positions.push((now, session.position_s(), session.state()));
            next_sample = now + 0.5;
        }
        if current.as_ref().is_some_and(|(_, done)| *done <= now) {
            let (req, done) = current.take().expect("checked");
            let bytes = req.expected_bytes.or(req.byte_range.map(|b| b.length)).unwrap_or(100_000);
            let issued = run.fetches.iter().find(|(_, r)| r.id == req.id).map_or(now, |f| f.0);
            if req.kind == FetchKind::Manifest {
                // Playlists are local fixture files: answer with their text.
                let path = req.url.to_file_path().expect("fixtures are local files");
                let text = std::fs::read_to_string(path).unwrap_or_default();
                session.handle(at, Event::ManifestLoaded { id: req.id, text, url: req.url });
            } else {
                session.handle(
                    at,
                    Event::FetchCompleted {
                        id: req.id,
                        bytes,
                        ttfb: Duration::from_secs_f64(RTT_S),
                        duration: Duration::from_secs_f64(done - issued),
                    },
                );
            }
        }
        while user.peek().is_some_and(|u| u.0 <= now) {
            let u = user.next().expect("peeked");
            session.handle(at, u.1);
        }
        if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    run.end_state = session.state();
    run
}

fn session(rule: &str) -> Session<'static> {
    let ladder = Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 2850.0], 4.0, 30).unwrap();
    let presentation = presentation_from_ladder(&ladder, &SyntheticOptions::default()).unwrap();
    let mut config = SessionConfig::default();
    config.abr_rule = rule.into();
    Session::new(presentation, config).unwrap()
}

#[test]
fn pause_freezes_the_playhead_and_play_resumes_it() {
    let run = drive(
        session("default"),
        5000.0,
        vec![UserAt(20.0, Event::Pause), UserAt(35.0, Event::Play)],
    );
    assert_eq!(run.end_state, PlayerState::Ended);
    let at = |t: f64| run.positions.iter().find(|(s, _, _)| *s >= t).copied().unwrap();
    let (_, p_paused, s_paused) = at(22.0);
    let (_, p_late, s_late) = at(33.0);
    assert_eq!(s_paused, PlayerState::Paused);
    assert_eq!(s_late, PlayerState::Paused);
    assert_eq!(p_paused, p_late, "playhead moved while paused");
    let (_, p_after, s_after) = at(40.0);
    assert_eq!(s_after, PlayerState::Playing);
    assert!(p_after > p_late + 3.0, "playhead did not resume: {p_late} -> {p_after}");
    // Every segment still plays exactly once, in order.
    assert_eq!(run.appended, (0..30).collect::<Vec<_>>());
}

#[test]
fn seek_jumps_the_playhead_and_fetches_from_the_target() {
    let run =
        drive(session("default"), 5000.0, vec![UserAt(10.0, Event::UserSeek { position_s: 80.0 })]);
    assert_eq!(run.end_state, PlayerState::Ended);
    // After the seek the first media request is for the segment holding 80 s (#20).
    let after: Vec<usize> = run
        .fetches
        .iter()
        .filter(|(t, r)| *t >= 10.0 && r.kind == FetchKind::Media)
        .filter_map(|(_, r)| r.segment)
        .collect();
    assert_eq!(after.first(), Some(&20), "{after:?}");
    let p = run.positions.iter().find(|(t, _, _)| *t >= 12.0).unwrap().1;
    assert!(p >= 80.0, "playhead at {p} after seeking to 80");
    // The tail after the target plays once each, in order.
    let tail: Vec<usize> = run.appended.iter().copied().filter(|s| *s >= 20).collect();
    assert_eq!(tail, (20..30).collect::<Vec<_>>());
}

#[test]
fn a_pinned_rendition_overrides_the_rule_until_released() {
    let run = drive(
        session("throughput"),
        20_000.0,
        vec![
            UserAt(15.0, Event::UserSelectTrack { track: TrackKind::Video, rendition: Some(0) }),
            UserAt(50.0, Event::UserSelectTrack { track: TrackKind::Video, rendition: None }),
        ],
    );
    assert_eq!(run.end_state, PlayerState::Ended);
    let video: Vec<(f64, usize)> = run
        .fetches
        .iter()
        .filter(|(_, r)| r.kind == FetchKind::Media && r.track == Some(TrackKind::Video))
        .map(|(t, r)| (*t, r.rendition.unwrap()))
        .collect();
    // A fast link: the rule climbs to the top before the pin...
    assert!(video.iter().any(|(t, r)| *t < 15.0 && *r == 3), "{video:?}");
    // ...the pin holds every request in between at rung 0...
    let pinned: Vec<usize> =
        video.iter().filter(|(t, _)| *t > 15.5 && *t < 50.0).map(|v| v.1).collect();
    assert!(!pinned.is_empty() && pinned.iter().all(|r| *r == 0), "{pinned:?}");
    // ...and releasing it hands control back to the rule.
    assert!(video.iter().any(|(t, r)| *t > 50.0 && *r == 3), "{video:?}");
}

#[cfg(feature = "hls")]
#[test]
fn hls_multivariant_loads_media_playlists_then_plays_their_segments() {
    let master = format!("{}/../tests/fixtures/ffmpeg/hls/master.m3u8", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&master).unwrap();
    let url = streamsteer::uri::Url::from_file_path(std::path::Path::new(&master)).unwrap();
    let presentation = streamsteer::manifest::parse_hls(&text, &url).unwrap();
    let session = Session::new(presentation, SessionConfig::default()).unwrap();
    let run = drive(session, 20_000.0, vec![]);
    assert_eq!(run.end_state, PlayerState::Ended);
    let manifests: Vec<&str> = run
        .fetches
        .iter()
        .filter(|(_, r)| r.kind == FetchKind::Manifest)
        .map(|(_, r)| r.url.as_str())
        .collect();
    assert!(manifests.iter().any(|u| u.ends_with("/index.m3u8")), "{manifests:?}");
    // Media requests name the segment files of the loaded playlists, 4 per track.
    let video: Vec<&FetchRequest> = run
        .fetches
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.kind == FetchKind::Media && r.track == Some(TrackKind::Video))
        .collect();
    assert!(video.iter().all(|r| r.url.contains("seg_") && r.url.ends_with(".m4s")), "{video:?}");
    assert_eq!(run.appended, vec![0, 1, 2, 3]);
}

#[test]
fn cmcd_keys_come_with_each_fetch_from_the_session() {
    use streamsteer::cmcd::{CmcdMode, ObjectType, StreamType};
    let ladder = Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 2850.0], 4.0, 30).unwrap();
    let presentation = presentation_from_ladder(&ladder, &SyntheticOptions::default()).unwrap();
    let mut config = SessionConfig::default();
    config.cmcd.mode = CmcdMode::Headers;
    config.cmcd.content_id = Some("ladder".into());
    let session = Session::new(presentation, config).unwrap();
    let run = drive(session, 5000.0, vec![UserAt(20.0, Event::Pause), UserAt(35.0, Event::Play)]);
    assert_eq!(run.end_state, PlayerState::Ended);
    let media: Vec<&(f64, FetchRequest)> =
        run.fetches.iter().filter(|(_, r)| r.kind == FetchKind::Media).collect();
    assert!(media.len() >= 30);
    let sids: std::collections::BTreeSet<_> =
        run.fetches.iter().map(|(_, r)| r.cmcd.as_ref().expect("CMCD is on").sid.clone()).collect();
    assert_eq!(sids.len(), 1, "{sids:?}");
    let (mut paused, mut urgent) = (0, 0);
    for (at, req) in &media {
        let d = req.cmcd.as_ref().expect("CMCD is on");
        let rung = req.rendition.unwrap();
        let seg = req.segment.unwrap();
        assert_eq!(d.ot, Some(ObjectType::Video));
        assert_eq!(d.st, Some(StreamType::Vod));
        assert_eq!(d.cid.as_deref(), Some("ladder"));
        assert_eq!(d.br, Some([300, 750, 1200, 2850][rung]));
        assert_eq!(d.tb, Some(2850));
        assert_eq!(d.d, Some(4000));
        assert!(d.bl.is_some_and(|b| b % 100 == 0));
        // The next object is the following segment of the same rendition: here the
        // next byte range of the same file.
        let range = req.byte_range.expect("the synthetic ladder is one file per rung");
        if seg + 1 < 30 {
            let own = req.url.as_url().path_segments().and_then(|mut s| s.next_back()).unwrap();
            assert_eq!(d.nor.as_deref(), Some(own), "segment {seg}");
            let next = d.nrr.as_deref().unwrap_or_else(|| panic!("no nrr on segment {seg}"));
            let start: u64 = next.split('-').next().unwrap().parse().unwrap();
            assert_eq!(start, range.offset + range.length, "segment {seg}: {next}");
            assert!(
                run.fetches
                    .iter()
                    .filter(|(_, r)| r.segment == Some(seg + 1) && r.rendition == Some(rung))
                    .all(|(_, r)| r.byte_range.map(|b| b.offset) == Some(start)),
                "nrr {next} of segment {seg} is not segment {} of rung {rung}",
                seg + 1
            );
        } else {
            assert_eq!((d.nor.as_deref(), d.nrr.as_deref()), (None, None));
        }
        if (20.0..35.0).contains(at) {
            paused += 1;
            assert_eq!(d.pr, Some(0.0), "paused at {at}");
        }
        urgent += usize::from(d.su);
        // The headers carry the four shards the data has.
        let (url, headers) = req.wire(CmcdMode::Headers);
        assert_eq!(url, req.url);
        assert!(headers.iter().any(|(h, v)| *h == "CMCD-Object" && v.contains("ot=v")));
    }
    assert!(urgent >= 1, "the first segments are urgent");
    assert!(urgent < media.len(), "not every segment is urgent");
    eprintln!("{} media fetches, {paused} while paused, {urgent} urgent", media.len());
}
