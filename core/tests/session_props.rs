//! Session invariants under random ladders, links and rules (proptest), and
//! failover/steering scenarios, on a small virtual-clock harness.

use proptest::prelude::*;
use std::collections::BTreeMap;
use streamsteer::Ladder;
use streamsteer::abr::RULE_NAMES;
use streamsteer::allowlist::HostAllowlist;
use streamsteer::qoe::{QoeReport, QoeWeights};
use streamsteer::session::{
    Action, ErrorKind, Event, FetchKind, FetchRequest, HistoryConfig, PlayerEvent, PlayerState,
    Retention, Session, SessionConfig, SyntheticOptions, TrackKind, presentation_from_ladder,
};
use streamsteer::steering::OverflowPolicy;
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

#[derive(Debug, Clone)]
struct Link {
    /// `(seconds, kbps)` steps, looping.
    steps: Vec<(f64, f64)>,
    rtt_s: f64,
    outages: Vec<(f64, f64)>,
}

impl Link {
    fn constant(kbps: f64) -> Self {
        Self { steps: vec![(1.0, kbps)], rtt_s: 0.05, outages: vec![] }
    }

    fn rate(&self, t: f64) -> (f64, f64) {
        let total: f64 = self.steps.iter().map(|s| s.0).sum();
        let mut local = t % total;
        for &(d, k) in &self.steps {
            if local < d {
                return (k, d - local);
            }
            local -= d;
        }
        (self.steps[0].1, self.steps[0].0)
    }

    /// Bits delivered between `from` and `to`.
    fn bits(&self, from: f64, to: f64) -> f64 {
        let (mut t, mut bits) = (from, 0.0);
        let mut n = 0;
        while t < to {
            let (k, stays) = self.rate(t);
            let dt = stays.min(to - t).max(1e-9);
            bits += k * 1000.0 * dt;
            t += dt;
            n += 1;
            assert!(n < 10_000_000, "bits({from}, {to}) stuck at {t}: {self:?}");
        }
        bits
    }

    /// When `bits` have arrived, starting at `from`.
    fn finish(&self, from: f64, bits: f64) -> f64 {
        let (mut t, mut left) = (from, bits);
        for _ in 0..1_000_000 {
            let (k, stays) = self.rate(t);
            // `t % total` can land a hair before a step's end: always move on.
            let stays = stays.max(1e-9);
            let can = k * 1000.0 * stays;
            if can >= left && k > 0.0 {
                return t + left / (k * 1000.0);
            }
            left -= can;
            t += stays;
        }
        f64::INFINITY
    }

    fn outage_in(&self, from: f64, to: f64) -> Option<f64> {
        self.outages
            .iter()
            .filter(|(s, e)| *e > from && *s < to)
            .map(|(s, _)| s.max(from))
            .reduce(f64::min)
    }
}

#[derive(Debug, Clone)]
enum Reply {
    Body(String),
    Status(u16, Option<f64>),
}

#[derive(Debug, Clone)]
struct Net {
    /// Links by host.
    links: BTreeMap<String, Link>,
    /// Steering replies in force from each time on.
    steering: Vec<(f64, Reply)>,
    /// Every n-th media request fails (0: never).
    fail_every: u64,
}

#[derive(Debug)]
struct Flight {
    req: FetchRequest,
    issued: f64,
    first_byte: f64,
    end: f64,
    fails: bool,
    next_progress: f64,
    /// Bits delivered up to `(time, bits)`, advanced at each progress report.
    delivered: (f64, f64),
}

struct Outcome<'r> {
    session: Session<'r>,
    /// Every action with the time it was drained.
    actions: Vec<(f64, Action)>,
    end_s: f64,
    steps: usize,
}

fn host(url: &str) -> String {
    url.split("//").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("").to_string()
}

fn link_for(net: &Net, url: &str) -> Link {
    net.links.get(&host(url)).cloned().unwrap_or_else(|| Link::constant(5000.0))
}

/// Drives `session` over `net` until it ends, fails, or 300 000 steps pass, checking
/// per-step invariants.
fn run<'r>(mut session: Session<'r>, net: &Net) -> Outcome<'r> {
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut flights: Vec<Flight> = Vec::new();
    let mut actions = Vec::new();
    let mut events = vec![Event::Tick];
    let mut media_requests = 0u64;
    let mut last_position = 0.0;
    let mut steps = 0;
    while steps < 300_000 {
        steps += 1;
        for e in events.drain(..) {
            session.handle(Instant::from_secs_f64(now), e);
        }
        assert!(session.position_s() + 1e-9 >= last_position, "playhead went back");
        last_position = session.position_s();
        while let Some(a) = session.poll_action() {
            match &a {
                Action::Fetch(req) => {
                    let link = link_for(net, &req.url);
                    let mut fails = false;
                    if req.kind == FetchKind::Media {
                        media_requests += 1;
                        fails = net.fail_every > 0 && media_requests.is_multiple_of(net.fail_every);
                    }
                    let first_byte = now + link.rtt_s;
                    // Steering replies are tiny: they arrive after one RTT.
                    let bits = match req.kind {
                        FetchKind::Steering => 0.0,
                        _ => req.expected_bytes.unwrap_or(1000) as f64 * 8.0,
                    };
                    let mut end = link.finish(first_byte, bits);
                    if fails {
                        // An injected failure (a 503 or a reset) comes early in the transfer.
                        end = end.min(first_byte + 0.5);
                    }
                    if req.kind != FetchKind::Steering
                        && let Some(o) = link.outage_in(now, end)
                    {
                        end = o.max(now + 1e-3);
                        fails = true;
                    }
                    flights.push(Flight {
                        req: req.clone(),
                        issued: now,
                        first_byte,
                        end,
                        fails,
                        next_progress: first_byte + 0.5,
                        delivered: (first_byte, 0.0),
                    });
                }
                Action::Cancel { id } => flights.retain(|f| f.req.id != *id),
                Action::WakeAt(t) => {
                    assert!(t.as_secs_f64() > now - 1e-9, "wake in the past");
                    wake = Some(t.as_secs_f64());
                }
                _ => {}
            }
            actions.push((now, a));
        }
        if matches!(session.state(), PlayerState::Ended | PlayerState::Failed) {
            break;
        }
        let mut next = wake.unwrap_or(f64::INFINITY);
        for f in &flights {
            next = next.min(f.end);
            if f.req.kind == FetchKind::Media && f.next_progress < f.end {
                next = next.min(f.next_progress);
            }
        }
        assert!(next.is_finite(), "session waits for nothing at {now}: {:?}", session.state());
        now = next.max(now);
        let mut keep = Vec::new();
        for mut f in flights.drain(..) {
            if f.end <= now + 1e-12 {
                let link = link_for(net, &f.req.url);
                if f.req.kind == FetchKind::Steering {
                    let reply = net
                        .steering
                        .iter()
                        .rev()
                        .find(|(t, _)| *t <= f.issued)
                        .map(|r| r.1.clone());
                    events.push(match reply {
                        Some(Reply::Body(body)) => Event::SteeringLoaded { id: f.req.id, body },
                        Some(Reply::Status(s, ra)) => Event::SteeringFailed {
                            id: f.req.id,
                            status: Some(s),
                            retry_after: ra.map(Duration::from_secs_f64),
                        },
                        None => Event::SteeringFailed {
                            id: f.req.id,
                            status: Some(404),
                            retry_after: None,
                        },
                    });
                } else if f.fails {
                    let bits = f.delivered.1 + link.bits(f.delivered.0, now.max(f.first_byte));
                    let bytes = ((bits / 8.0) as u64).min(f.req.expected_bytes.unwrap_or(u64::MAX));
                    events.push(Event::FetchFailed { id: f.req.id, status: Some(503), bytes });
                } else {
                    events.push(Event::FetchCompleted {
                        id: f.req.id,
                        bytes: f.req.expected_bytes.unwrap_or(1000),
                        ttfb: Duration::from_secs_f64(f.first_byte - f.issued),
                        duration: Duration::from_secs_f64(now - f.issued),
                    });
                }
            } else {
                if f.req.kind == FetchKind::Media && f.next_progress <= now + 1e-12 {
                    f.next_progress = now + 0.5;
                    let link = link_for(net, &f.req.url);
                    let bits = f.delivered.1 + link.bits(f.delivered.0, now);
                    f.delivered = (now, bits);
                    let bytes = (bits / 8.0) as u64;
                    events.push(Event::FetchProgress {
                        id: f.req.id,
                        bytes: bytes.min(f.req.expected_bytes.unwrap_or(u64::MAX)),
                        ttfb: Some(Duration::from_secs_f64(f.first_byte - f.issued)),
                    });
                }
                keep.push(f);
            }
        }
        flights = keep;
        if wake.is_some_and(|w| w <= now + 1e-12) {
            wake = None;
            events.push(Event::Tick);
        }
    }
    Outcome { session, actions, end_s: now, steps }
}

/// Checks what must hold of any finished run.
fn check_invariants(o: &Outcome<'_>, segments: usize, tracks: &[TrackKind]) {
    let mut fetched: BTreeMap<u64, (TrackKind, usize)> = BTreeMap::new();
    let mut appended: BTreeMap<TrackKind, Vec<usize>> = BTreeMap::new();
    let mut last_t = 0.0;
    for (t, a) in &o.actions {
        assert!(*t >= last_t, "time monotonic");
        last_t = *t;
        match a {
            Action::Fetch(r) if r.kind == FetchKind::Media => {
                fetched.insert(r.id, (r.track.unwrap(), r.segment.unwrap()));
            }
            Action::Append { track, init: false, request, segment, .. } => {
                assert_eq!(
                    fetched.get(request),
                    Some(&(*track, segment.unwrap())),
                    "append of a fetched segment"
                );
                appended.entry(*track).or_default().push(segment.unwrap());
            }
            _ => {}
        }
    }
    let log_times: Vec<f64> = o.session.event_log().iter().map(|e| e.t_s).collect();
    assert!(log_times.windows(2).all(|w| w[0] <= w[1] + 1e-9), "log time monotonic");
    if o.session.state() == PlayerState::Ended {
        for track in tracks {
            assert_eq!(
                appended[track],
                (0..segments).collect::<Vec<_>>(),
                "{track:?}: each segment appended once, in order"
            );
        }
        let records = o.session.segment_records();
        assert_eq!(records.len(), segments);
        let r = o.session.qoe_report();
        assert!(r.rebuffer_s >= 0.0 && r.startup_delay_s >= 0.0);
        let stalls = o
            .session
            .event_log()
            .iter()
            .filter(|e| matches!(e.event, PlayerEvent::Stalled { .. }))
            .count();
        assert_eq!(r.rebuffer_count, stalls);
        let total: f64 = records.iter().map(|r| r.rebuffer_s).sum();
        assert!(
            total <= r.rebuffer_s + 1e-6,
            "per-segment rebuffering adds up: {total} vs {}",
            r.rebuffer_s
        );
        assert!(matches!(
            o.session.event_log().last().map(|e| &e.event),
            Some(PlayerEvent::QoeReport { .. })
        ));
    } else {
        assert_eq!(o.session.state(), PlayerState::Failed, "terminated ({} steps)", o.steps);
        assert!(
            o.session
                .event_log()
                .iter()
                .any(|e| matches!(e.event, PlayerEvent::Error { fatal: true, .. }))
        );
        for segs in appended.values() {
            assert!(segs.windows(2).all(|w| w[1] == w[0] + 1), "in order, no duplicates");
        }
    }
    assert!(o.session.buffer_level_s() >= 0.0);
}

fn ladder_strategy() -> impl Strategy<Value = Ladder> {
    (
        prop::collection::vec(50.0f64..3000.0, 1..6),
        1.0f64..6.0,
        2usize..30,
        prop::collection::vec(0.5f64..1.5, 8),
    )
        .prop_map(|(steps, seg_s, n, jitter)| {
            let mut rates = Vec::new();
            let mut acc = 0.0;
            for s in steps {
                acc += s;
                rates.push(acc);
            }
            let sizes = (0..n)
                .map(|i| {
                    rates.iter().map(|r| r * 1000.0 * seg_s * jitter[i % jitter.len()]).collect()
                })
                .collect();
            Ladder::new(rates, seg_s, sizes).unwrap()
        })
}

fn link_strategy() -> impl Strategy<Value = Link> {
    (
        prop::collection::vec((0.2f64..5.0, prop_oneof![Just(0.0), 100.0f64..20_000.0]), 1..8),
        1000.0f64..10_000.0,
        0.0f64..0.3,
        prop::collection::vec((0.0f64..300.0, 0.5f64..20.0), 0..3),
    )
        .prop_map(|(mut steps, floor, rtt_s, outages)| {
            // At least one long stretch carries data, or no session could finish (and a
            // link mostly at zero makes sessions take simulated days).
            steps.push((10.0, floor));
            Link { steps, rtt_s, outages: outages.into_iter().map(|(s, d)| (s, s + d)).collect() }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_on_random_sessions(
        ladder in ladder_strategy(),
        a in link_strategy(),
        b in link_strategy(),
        two_pathways in any::<bool>(),
        audio in any::<bool>(),
        init in any::<bool>(),
        rule in 0usize..RULE_NAMES.len(),
        fail_every in prop_oneof![Just(0u64), 3u64..20],
        target in 4.0f64..40.0,
        cost in any::<bool>(),
    ) {
        let mut pathways = vec![("a".to_string(), "a.example".to_string())];
        if two_pathways {
            pathways.push(("b".to_string(), "b.example".to_string()));
        }
        let opts = SyntheticOptions {
            pathways,
            audio_kbps: audio.then_some(96.0),
            init_bytes: if init { 700 } else { 0 },
            steering_url: None,
        };
        let p = presentation_from_ladder(&ladder, &opts).unwrap();
        let mut config = SessionConfig::default();
        config.abr_rule = RULE_NAMES[rule].to_string();
        config.buffer.forward_target_s = target;
        config.buffer.startup_s = config.buffer.startup_s.min(target);
        config.buffer.resume_s = config.buffer.resume_s.min(target);
        config.steering.cost.enabled = cost;
        config.steering.penalty_s = 10.0;
        let session = Session::new(p, config).unwrap();
        let net = Net {
            links: [("a.example".to_string(), a), ("b.example".to_string(), b)].into(),
            steering: vec![],
            fail_every,
        };
        let o = run(session, &net);
        let tracks: Vec<TrackKind> =
            if audio { vec![TrackKind::Video, TrackKind::Audio] } else { vec![TrackKind::Video] };
        check_invariants(&o, ladder.segment_count(), &tracks);
        if fail_every == 0 && !matches!(o.session.state(), PlayerState::Ended) {
            // Without injected failures only outages can exhaust the retries.
            let failed = o.session.event_log().iter().any(|e| matches!(e.event, PlayerEvent::FetchFailed { .. }));
            prop_assert!(failed, "a failure without fetch failures");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Bounding the event log and the segment records changes nothing but what is
    /// kept: the same session keeping everything has the same actions and the same
    /// report, which is `QoeReport::from_segments` over every record (bit for bit);
    /// the bounded histories hold the newest entries of the full ones.
    #[test]
    fn bounded_histories_keep_the_newest_and_the_same_report(
        ladder in ladder_strategy(),
        a in link_strategy(),
        audio in any::<bool>(),
        rule in 0usize..RULE_NAMES.len(),
        fail_every in prop_oneof![Just(0u64), 3u64..20],
        log_cap in 0usize..40,
        record_cap in 0usize..12,
    ) {
        let opts = SyntheticOptions {
            pathways: vec![("a".to_string(), "a.example".to_string())],
            audio_kbps: audio.then_some(96.0),
            init_bytes: 0,
            steering_url: None,
        };
        let run_with = |history: HistoryConfig| {
            let mut config = SessionConfig::default();
            config.abr_rule = RULE_NAMES[rule].to_string();
            config.history = history;
            let session = Session::new(presentation_from_ladder(&ladder, &opts).unwrap(), config).unwrap();
            let net = Net { links: [("a.example".to_string(), a.clone())].into(), steering: vec![], fail_every };
            run(session, &net)
        };
        let full = run_with(HistoryConfig::new(Retention::All, Retention::All));
        let bounded = run_with(HistoryConfig::new(
            Retention::Last(log_cap),
            Retention::Last(record_cap),
        ));
        prop_assert_eq!(&full.actions, &bounded.actions);
        let report = bounded.session.qoe_report();
        prop_assert_eq!(&report, &full.session.qoe_report());
        let all = full.session.segment_records().to_vec();
        let reference = QoeReport::from_segments(&all, report.startup_delay_s, QoeWeights::default());
        // The session accounts stalls and transfers itself; the rest comes from the records.
        let mut same = report.clone();
        same.rebuffer_count = reference.rebuffer_count;
        same.rebuffer_s = reference.rebuffer_s;
        same.pathways = reference.pathways.clone();
        prop_assert_eq!(same, reference);
        prop_assert_eq!(report.segments, all.len());
        let records = bounded.session.segment_records();
        prop_assert_eq!(records.total(), all.len() as u64);
        prop_assert_eq!(records.len(), all.len().min(record_cap));
        prop_assert_eq!(records.to_vec(), all[all.len() - records.len()..].to_vec());
        let log = full.session.event_log().to_vec();
        let kept = bounded.session.event_log();
        prop_assert_eq!(kept.len(), log.len().min(log_cap));
        prop_assert_eq!(kept.dropped() as usize, log.len() - kept.len());
        prop_assert_eq!(kept.to_vec(), log[log.len() - kept.len()..].to_vec());
    }
}

// ----- scenarios ---------------------------------------------------------------

fn two_cdn_ladder() -> Ladder {
    Ladder::constant_bitrate(vec![300.0, 1200.0, 2400.0], 4.0, 40).unwrap()
}

fn steered(steering_url: bool) -> streamsteer::manifest::Presentation {
    presentation_from_ladder(
        &two_cdn_ladder(),
        &SyntheticOptions {
            pathways: vec![
                ("oca".into(), "oca.example".into()),
                ("cf".into(), "cf.example".into()),
            ],
            audio_kbps: Some(128.0),
            init_bytes: 800,
            steering_url: steering_url
                .then(|| Url::parse("https://steer.example/steer.json").unwrap()),
        },
    )
    .unwrap()
}

fn media_fetches(o: &Outcome<'_>) -> Vec<(f64, FetchRequest)> {
    o.actions
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Fetch(r) if r.kind == FetchKind::Media && r.track == Some(TrackKind::Video) => {
                Some((*t, r.clone()))
            }
            _ => None,
        })
        .collect()
}

fn steering_fetches(o: &Outcome<'_>) -> Vec<f64> {
    o.actions
        .iter()
        .filter_map(|(t, a)| {
            matches!(a, Action::Fetch(r) if r.kind == FetchKind::Steering).then_some(*t)
        })
        .collect()
}

const PRIORITY_OCA: &str = r#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["oca","cf"]}"#;

fn fast_links() -> BTreeMap<String, Link> {
    [("oca.example".into(), Link::constant(8000.0)), ("cf.example".into(), Link::constant(8000.0))]
        .into()
}

#[test]
fn failover_mid_segment_keeps_playing_and_returns_within_a_ttl_of_recovery() {
    let config = SessionConfig::default();
    let net = |outage: Option<(f64, f64)>| {
        let mut links = fast_links();
        links.get_mut("oca.example").unwrap().outages = outage.into_iter().collect();
        Net { links, steering: vec![(0.0, Reply::Body(PRIORITY_OCA.into()))], fail_every: 0 }
    };
    // A dry run finds a video fetch on the edge in flight after 30 s of play.
    let dry = run(Session::new(steered(true), config.clone()).unwrap(), &net(None));
    let appended_at: BTreeMap<u64, f64> = dry
        .actions
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Append { request, .. } => Some((*request, *t)),
            _ => None,
        })
        .collect();
    let (issued, req) = media_fetches(&dry).into_iter().find(|(t, _)| *t > 30.0).unwrap();
    let done = appended_at[&req.id];
    let cut = (issued + done) / 2.0;
    assert!(done - issued > 0.5, "the fetch lasts long enough to cut it");

    // The same session with the edge dropping out mid-fetch for 5 s.
    let o = run(Session::new(steered(true), config).unwrap(), &net(Some((cut, cut + 5.0))));
    check_invariants(&o, 40, &[TrackKind::Video, TrackKind::Audio]);
    assert_eq!(o.session.state(), PlayerState::Ended);
    let r = o.session.qoe_report();
    assert_eq!(r.rebuffer_count, 0, "{r:?}");
    let fetches = media_fetches(&o);
    // The cut fetch failed; the same segment was refetched from cf at once.
    let refetch = fetches.iter().find(|(t, _)| *t >= cut).unwrap();
    assert_eq!(refetch.1.segment, req.segment);
    assert_eq!(refetch.1.pathway.as_deref(), Some("cf"));
    assert!((refetch.0 - cut).abs() < 1e-3, "failover is immediate: {} vs {cut}", refetch.0);
    // The edge is probed again once each penalty has ended (2 s, then 4 s…), never
    // before, and steering's first choice is back within one TTL (10 s) of its
    // recovery, for good.
    let to_edge: Vec<f64> = fetches
        .iter()
        .filter(|(t, r)| *t > cut && r.pathway.as_deref() == Some("oca"))
        .map(|(t, _)| *t)
        .collect();
    // (A probe is the next fetch after a penalty ends: fetches wait for the buffer.)
    let probe = to_edge.first().copied().unwrap();
    assert!(probe >= cut + 2.0, "first probe at {probe}, cut at {cut}");
    let back = to_edge.iter().copied().find(|t| *t >= cut + 5.0).unwrap();
    assert!(back <= cut + 5.0 + 10.0, "back at {back}, recovered at {}", cut + 5.0);
    assert!(
        fetches
            .iter()
            .filter(|(t, _)| *t >= back)
            .all(|(_, r)| r.pathway.as_deref() == Some("oca"))
    );
    assert!(o.session.event_log().iter().any(
        |e| matches!(&e.event, PlayerEvent::FetchFailed { pathway, penalized: true, .. } if pathway == "oca")
    ));
    assert!(r.pathways["cf"].bytes > 0);
    assert!(o.end_s > 160.0);
}

#[test]
fn gone_stops_polling_for_the_session() {
    let session = Session::new(steered(true), SessionConfig::default()).unwrap();
    let net = Net {
        links: fast_links(),
        steering: vec![(0.0, Reply::Body(PRIORITY_OCA.into())), (5.0, Reply::Status(410, None))],
        fail_every: 0,
    };
    let o = run(session, &net);
    assert_eq!(o.session.state(), PlayerState::Ended);
    let polls = steering_fetches(&o);
    assert_eq!(polls.len(), 2, "one success, one 410, then silence: {polls:?}");
    assert!((polls[1] - polls[0] - 10.0).abs() < 0.2, "second poll after the TTL: {polls:?}");
    assert_eq!(o.session.steering().poll_state(), streamsteer::steering::PollState::Gone);
    assert_eq!(o.session.steering().priority(), ["oca", "cf"], "the last list is kept");
}

#[test]
fn too_many_requests_waits_retry_after_then_resumes() {
    let session = Session::new(steered(true), SessionConfig::default()).unwrap();
    let net = Net {
        links: fast_links(),
        steering: vec![
            (0.0, Reply::Status(429, Some(7.0))),
            (1.0, Reply::Body(PRIORITY_OCA.into())),
        ],
        fail_every: 0,
    };
    let o = run(session, &net);
    let polls = steering_fetches(&o);
    // The first reply (429) arrives after the link's RTT; the next poll waits exactly
    // Retry-After, then polling follows the manifest's TTL.
    let rtt = 0.05;
    assert!((polls[1] - (polls[0] + rtt) - 7.0).abs() < 1e-3, "{polls:?}");
    assert!((polls[2] - (polls[1] + rtt) - 10.0).abs() < 1e-3, "{polls:?}");
    assert!(polls.len() > 10, "polling resumed for the whole session: {polls:?}");
}

#[test]
fn a_manifest_pathway_outside_the_allowlist_is_never_requested() {
    // The presentation's own second CDN is on a host the application does not allow:
    // its URLs are never requested; the session plays from the allowed one.
    let config = |allow: &[&str]| {
        let mut c = SessionConfig::default();
        c.allowed_hosts = HostAllowlist::only(allow.iter().copied());
        c
    };
    let net = Net { links: fast_links(), steering: vec![], fail_every: 0 };
    let prefer_cf = presentation_from_ladder(
        &two_cdn_ladder(),
        &SyntheticOptions {
            pathways: vec![
                ("cf".into(), "cf.example".into()),
                ("oca".into(), "oca.example".into()),
            ],
            audio_kbps: Some(128.0),
            init_bytes: 800,
            steering_url: None,
        },
    )
    .unwrap();
    let o = run(Session::new(prefer_cf.clone(), config(&["oca.example"])).unwrap(), &net);
    assert_eq!(o.session.state(), PlayerState::Ended);
    let fetches: Vec<FetchRequest> = o
        .actions
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Fetch(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert!(!fetches.is_empty());
    assert!(fetches.iter().all(|f| f.url.host() == Some("oca.example")), "{fetches:?}");
    assert!(o.session.event_log().iter().any(|e| matches!(
        &e.event,
        PlayerEvent::Error { kind: ErrorKind::NotAllowed, message, fatal: false }
            if message.contains("not on an allowed host")
    )));
    // With no allowed pathway at all: a fatal error naming the reason, no request made.
    let o = run(Session::new(prefer_cf, config(&["elsewhere.example"])).unwrap(), &net);
    assert_eq!(o.session.state(), PlayerState::Failed);
    assert!(!o.actions.iter().any(|(_, a)| matches!(a, Action::Fetch(_))));
    let fatal = o.session.event_log().iter().find_map(|e| match &e.event {
        // The allowlist refuses every pathway: each attempt fails without a request,
        // and the session gives up as on a dead CDN.
        PlayerEvent::Error { kind: ErrorKind::Network, message, fatal: true } => {
            Some(message.clone())
        }
        _ => None,
    });
    assert!(fatal.is_some_and(|m| m.contains("failed 8 times")), "{:?}", o.session.event_log());
}

#[test]
fn steering_to_a_host_outside_the_allowlist_is_refused() {
    let clone = |host: &str| {
        format!(
            r#"{{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["x","oca"],
                "PATHWAY-CLONES":[{{"BASE-ID":"cf","ID":"x","URI-REPLACEMENT":{{"HOST":"{host}"}}}}]}}"#
        )
    };
    let config = |allow: &[&str]| {
        let mut c = SessionConfig::default();
        c.allowed_hosts = HostAllowlist::only(allow.iter().copied());
        c
    };
    let allow = ["steer.example", "oca.example", "cf.example", "*.cdn.example"];
    let refused = run(
        Session::new(steered(true), config(&allow)).unwrap(),
        &Net {
            links: fast_links(),
            steering: vec![(0.0, Reply::Body(clone("evil.example")))],
            fail_every: 0,
        },
    );
    assert_eq!(refused.session.state(), PlayerState::Ended);
    assert!(
        media_fetches(&refused)
            .iter()
            .all(|(_, r)| r.pathway.as_deref() == Some("oca") && r.url.contains("oca.example"))
    );
    assert!(refused.session.event_log().iter().any(
        |e| matches!(&e.event, PlayerEvent::SteeringError { message } if message.contains("evil.example"))
    ));
    assert!(!refused.session.steering().pathways().contains(&"x".to_string()));

    // Control: the same response naming an allowed host moves traffic to the clone.
    let allowed = run(
        Session::new(steered(true), config(&allow)).unwrap(),
        &Net {
            links: fast_links(),
            steering: vec![(0.0, Reply::Body(clone("edge2.cdn.example")))],
            fail_every: 0,
        },
    );
    let fetches = media_fetches(&allowed);
    let moved: Vec<_> = fetches.iter().filter(|(t, _)| *t > 1.0).collect();
    assert!(!moved.is_empty());
    assert!(
        moved
            .iter()
            .all(|(_, r)| r.pathway.as_deref() == Some("x") && r.url.contains("edge2.cdn.example"))
    );
}

#[test]
fn the_overflow_policy_decides_whether_a_slow_edge_is_left() {
    let run_with = |edge_kbps: f64, policy: OverflowPolicy| {
        let mut config = SessionConfig::default();
        config.abr_rule = "throughput".into();
        config.steering.cost.policy = policy;
        let links: BTreeMap<String, Link> = [
            ("oca.example".into(), Link::constant(edge_kbps)),
            ("cf.example".into(), Link::constant(20_000.0)),
        ]
        .into();
        let o = run(
            Session::new(steered(false), config).unwrap(),
            &Net { links, steering: vec![], fail_every: 0 },
        );
        assert_eq!(o.session.state(), PlayerState::Ended);
        o.session.qoe_report()
    };
    let segments = |r: &QoeReport, p: &str| r.pathways.get(p).map_or(0, |u| u.segments);
    for policy in [OverflowPolicy::Cost, OverflowPolicy::Quality] {
        // A fast edge carries everything.
        let fast = run_with(20_000.0, policy);
        assert_eq!(segments(&fast, "cf"), 0, "{policy:?}: {fast:?}");
    }
    // An edge that carries the lowest rung but not the top one: the default (cost)
    // stays on it and the rule adapts; quality overflows to cf for most of the session.
    let cost = run_with(1500.0, OverflowPolicy::Cost);
    assert_eq!(segments(&cost, "cf"), 0, "{cost:?}");
    assert_eq!(cost.rebuffer_count, 0, "{cost:?}");
    let quality = run_with(1500.0, OverflowPolicy::Quality);
    assert!(segments(&quality, "cf") > segments(&quality, "oca"), "{quality:?}");
    assert!(quality.avg_bitrate_kbps > 2000.0, "{quality:?}");
    assert!(cost.avg_bitrate_kbps < 1500.0, "{cost:?}");
    eprintln!(
        "edge at 1.5 Mbit/s: cost {:.0} kbit/s, quality {:.0} kbit/s with {} of {} segments on cf",
        cost.avg_bitrate_kbps,
        quality.avg_bitrate_kbps,
        segments(&quality, "cf"),
        quality.segments
    );
    // The README's figures (the session is deterministic).
    assert_eq!(cost.avg_bitrate_kbps.round(), 1200.0);
    assert_eq!(quality.avg_bitrate_kbps.round(), 2369.0);
    assert_eq!((segments(&quality, "cf"), quality.segments), (39, 40));
    // An edge that cannot carry even the lowest rung is left under either policy.
    let dead = run_with(100.0, OverflowPolicy::Cost);
    assert!(segments(&dead, "cf") > segments(&dead, "oca"), "{dead:?}");
}

#[test]
fn a_cdn_that_starves_a_fetch_is_left_within_a_segment() {
    // The edge slows tenfold at 30 s, with no error; steering keeps ranking it first.
    const SLOW_AT: f64 = 30.0;
    let mut links = fast_links();
    links.get_mut("oca.example").unwrap().steps = vec![(SLOW_AT, 8000.0), (1e9, 800.0)];
    let net = Net { links, steering: vec![(0.0, Reply::Body(PRIORITY_OCA.into()))], fail_every: 0 };
    let o = run(Session::new(steered(true), SessionConfig::default()).unwrap(), &net);
    check_invariants(&o, 40, &[TrackKind::Video, TrackKind::Audio]);
    let r = o.session.qoe_report();
    assert_eq!(r.rebuffer_count, 0, "{r:?}");
    let starved: Vec<f64> = o
        .session
        .event_log()
        .iter()
        .filter(
            |e| matches!(&e.event, PlayerEvent::PathwayStarved { pathway, .. } if pathway == "oca"),
        )
        .map(|e| e.t_s)
        .collect();
    let first = *starved.first().expect("the starved fetch was abandoned");
    // Within one segment (4 s) of the slowdown the edge is left, and media come from
    // cf from then on but for the edge's probes (each starved again, and left).
    assert!((SLOW_AT..SLOW_AT + 4.0).contains(&first), "left at {first}");
    let after: Vec<_> = media_fetches(&o).into_iter().filter(|(t, _)| *t > first).collect();
    let on_cf = after.iter().filter(|(_, r)| r.pathway.as_deref() == Some("cf")).count();
    assert!(on_cf * 10 >= after.len() * 7, "{on_cf} of {} on cf", after.len());
    // The probes come further and further apart, up to one per TTL (10 s).
    let gaps: Vec<f64> = starved.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0] - 1e-6), "{gaps:?}");
    assert!(gaps.iter().all(|g| *g <= 10.0 + 4.0 + 1e-6), "{gaps:?}");
    eprintln!(
        "left oca {:.2} s after it slowed; {} probes starved",
        first - SLOW_AT,
        starved.len() - 1
    );
}
