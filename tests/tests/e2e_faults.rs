//! Faults end to end (issue 3, "What it must show"): every fault of the origin's
//! schedule (5xx, reset, stall, slow drip, truncated body, outage window), on each
//! request kind (manifest, init, media, steering), ends either in recovery (the
//! session plays to `Ended`) or in a clear typed error (a fatal `PlayerEvent::Error`
//! and a failed `Outcome` with its message, or `PlayerError::ManifestFetch` when the
//! manifest itself cannot be had); never a panic, never a hang.
//!
//! Each case is a fresh origin serving the committed 4 s fixture (1 s segments) and a
//! player with timeouts of a few seconds; the cases of a test run concurrently. Each
//! case states the outcome it must reach, and checks in the origin's log that its
//! fault was actually applied, so that no case passes without being exercised.

mod common;

use common::{Recorder, fixture_dir, quick_config};
use std::time::Duration;
use streamsteer::session::{ErrorKind, PlayerEvent, PlayerState};
use streamsteer_net::{FatalError, Player, PlayerConfig, PlayerError};
use streamsteer_origin::{Fault, FaultKind, Origin, OriginConfig, RequestKind};
use tokio::time::timeout;

/// Bound on one case: the slowest (a slow drip on both pathways) gives up after four
/// attempts of three seconds each, plus backoffs.
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// How a case must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Plays to the end.
    Recover,
    /// Ends in a typed error.
    TypedError,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    /// Played to the end; the engine's non-fatal reports on the way (steering errors,
    /// failed fetches) are counted.
    Ended { steering_errors: usize, failed_fetches: usize, errors: usize },
    /// The session failed with this error (also the fatal `Error` event's).
    Failed(FatalError),
    /// `Player::load` failed: the manifest could not be fetched.
    LoadFailed(String),
}

/// Where a fault is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// On `openconnect`, the preferred pathway; `cloudfront` stays healthy.
    Preferred,
    /// On both pathways.
    BothPathways,
    /// On the steering listener, which also serves the multivariant playlist: the
    /// only source of the manifest.
    SteeringListener,
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    fault: Fault,
    place: Place,
    expect: Expect,
}

fn kinds() -> Vec<FaultKind> {
    vec![
        FaultKind::Status { code: 503 },
        FaultKind::Reset { after_fraction: 0.5 },
        // Longer than the idle timeout (1.5 s): the request is given up.
        FaultKind::Stall { after_fraction: 0.5, seconds: 5.0 },
        // 20 B/s: every resource here (the smallest, a steering manifest, is ~150
        // bytes) takes longer than the total timeouts (3 s; 2 s for steering).
        FaultKind::SlowDrip { bytes_per_s: 20.0 },
        FaultKind::Truncate { fraction: 0.5 },
    ]
}

fn case(kind: FaultKind, on: RequestKind, place: Place, expect: Expect) -> Case {
    let fault = Fault::always(kind).on(&[on]);
    let name = format!("{} on {:?} at {:?}", fault.label(), on, place);
    Case { name, fault, place, expect }
}

/// Short timeouts so that stalls and drips are given up in seconds, few attempts per
/// segment so that a case with no way out fails in seconds, and a 2 s buffer target so
/// that fetching goes on for most of the 4 s of content (an outage window that opens
/// after start-up still meets requests).
fn player_config() -> PlayerConfig {
    let mut c = quick_config();
    for p in [&mut c.net.manifest, &mut c.net.init, &mut c.net.media, &mut c.net.steering] {
        p.total_timeout_s = 3.0;
    }
    c.session.max_attempts_per_segment = 4;
    // One steering attempt: a failed poll is reported at once rather than after a
    // retry, well before the 4 s of content have played.
    c.net.steering.retry.max_attempts = 1;
    c.net.steering.total_timeout_s = 2.0;
    c.session.buffer.startup_s = 1.0;
    c.session.buffer.resume_s = 1.0;
    c.session.buffer.forward_target_s = 2.0;
    c
}

fn origin_config(case: &Case) -> OriginConfig {
    let mut c = OriginConfig::default();
    c.steering.ttl_s = 1;
    match case.place {
        Place::Preferred => c.pathways[0].faults.push(case.fault.clone()),
        Place::BothPathways => {
            for p in &mut c.pathways {
                p.faults.push(case.fault.clone());
            }
        }
        Place::SteeringListener => c.steering.faults.push(case.fault.clone()),
    }
    c
}

/// Runs one case to its end and checks it ended as expected.
async fn run(case: Case) -> (String, Ending) {
    let origin = Origin::start(fixture_dir(), origin_config(&case)).await.unwrap();
    let ending = match Player::load(&origin.hls_url(), player_config()).await {
        Err(e @ PlayerError::ManifestFetch { .. }) => {
            // A fault on the one source of the manifest: the CDN's failure, typed.
            assert_eq!(e.kind(), Some(ErrorKind::Network), "{}: {e}", case.name);
            Ending::LoadFailed(e.to_string())
        }
        Err(e) => panic!("{}: load failed with an unexpected error: {e}", case.name),
        Ok(mut player) => {
            let rec = Recorder::start(player.events(), &origin);
            let outcome = timeout(CASE_LIMIT, player.wait_until_done())
                .await
                .unwrap_or_else(|_| panic!("{}: the session hung", case.name))
                .unwrap_or_else(|e| panic!("{}: the player task failed: {e}", case.name));
            // The QoE report is the session's last event: once the recorder has it,
            // it has them all.
            rec.wait_for("the QoE report", 0, Duration::from_secs(5), |s| {
                common::is_player(s, |e| matches!(e, PlayerEvent::QoeReport { .. }))
            })
            .await;
            let events = rec.player_events();
            assert!(!outcome.stopped, "{}", case.name);
            match outcome.state {
                PlayerState::Ended => {
                    assert_eq!(outcome.error, None, "{}", case.name);
                    let count =
                        |f: fn(&PlayerEvent) -> bool| events.iter().filter(|(_, e)| f(e)).count();
                    Ending::Ended {
                        steering_errors: count(|e| matches!(e, PlayerEvent::SteeringError { .. })),
                        failed_fetches: count(|e| matches!(e, PlayerEvent::FetchFailed { .. })),
                        errors: count(|e| matches!(e, PlayerEvent::Error { fatal: false, .. })),
                    }
                }
                PlayerState::Failed => {
                    let error = outcome
                        .error
                        .clone()
                        .unwrap_or_else(|| panic!("{}: failed without an error", case.name));
                    assert!(!error.message.is_empty(), "{}", case.name);
                    assert!(
                        events.iter().any(|(_, e)| matches!(e, PlayerEvent::Error { kind, message: m, fatal: true } if *m == error.message && *kind == error.kind)),
                        "{}: no fatal error event", case.name
                    );
                    Ending::Failed(error)
                }
                other => panic!("{}: ended in state {other:?}", case.name),
            }
        }
    };
    let applied = origin
        .requests()
        .iter()
        .filter(|e| e.fault.as_deref() == Some(&case.fault.label()))
        .count();
    assert!(applied > 0, "{}: the fault was never applied: {:#?}", case.name, origin.requests());
    let ok = matches!(
        (case.expect, &ending),
        (Expect::Recover, Ending::Ended { .. })
            | (Expect::TypedError, Ending::Failed(_) | Ending::LoadFailed(_))
    );
    assert!(ok, "{}: expected {:?}, got {ending:?}", case.name, case.expect);
    origin.shutdown().await;
    (case.name, ending)
}

async fn run_all(cases: Vec<Case>) -> Vec<(String, Ending)> {
    let handles: Vec<_> = cases.into_iter().map(|c| tokio::spawn(run(c))).collect();
    let mut out = Vec::new();
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            // A case's assertion: fail the test with its message.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("case task: {e}"),
        }
    }
    for (name, ending) in &out {
        eprintln!("{name}: {ending:?}");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_and_init_faults_recover_on_the_other_pathway() {
    let mut cases = Vec::new();
    for kind in kinds() {
        for on in [RequestKind::Media, RequestKind::Init] {
            cases.push(case(kind, on, Place::Preferred, Expect::Recover));
        }
    }
    for (_, ending) in run_all(cases).await {
        let Ending::Ended { failed_fetches, .. } = ending else { unreachable!() };
        assert!(failed_fetches > 0, "the failure is reported as it happens");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_faults_everywhere_end_in_a_typed_error() {
    let cases = kinds()
        .into_iter()
        .map(|k| case(k, RequestKind::Media, Place::BothPathways, Expect::TypedError))
        .collect();
    for (name, ending) in run_all(cases).await {
        let Ending::Failed(error) = ending else { unreachable!() };
        // Every pathway of a segment failing is a dead CDN, typed as such.
        assert_eq!(error.kind, ErrorKind::Network, "{name}: {error}");
        assert!(error.message.contains("segment"), "{name}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_faults() {
    let mut cases = Vec::new();
    for kind in kinds() {
        // Media playlists come from the pathways: cloudfront's copy is healthy.
        cases.push(case(kind, RequestKind::Manifest, Place::Preferred, Expect::Recover));
        // The multivariant playlist has one source: nothing to fall back on.
        cases.push(case(kind, RequestKind::Manifest, Place::SteeringListener, Expect::TypedError));
    }
    for (name, ending) in run_all(cases).await {
        if let Ending::Ended { errors, .. } = ending {
            // Each of openconnect's failed playlists is reported (not fatal).
            assert!(errors > 0, "{name}: the playlist failure is reported");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_faults_leave_playback_alone() {
    let cases: Vec<Case> = kinds()
        .into_iter()
        .map(|k| case(k, RequestKind::Steering, Place::SteeringListener, Expect::Recover))
        .collect();
    for (name, ending) in run_all(cases).await {
        let Ending::Ended { steering_errors, .. } = ending else { unreachable!() };
        assert!(steering_errors > 0, "{name}: the steering failure is reported");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_windows() {
    let outage = |from_s: f64| Fault::always(FaultKind::Outage).during(from_s, None);
    let cases = vec![
        // The preferred pathway goes down after start-up, for good: media and init
        // requests move to cloudfront.
        Case {
            name: "outage of openconnect from 1 s".into(),
            fault: outage(1.0),
            place: Place::Preferred,
            expect: Expect::Recover,
        },
        // Down from the start: its media playlists, init and media segments all fail.
        Case {
            name: "outage of openconnect from the start".into(),
            fault: outage(0.0),
            place: Place::Preferred,
            expect: Expect::Recover,
        },
        // Both pathways down after start-up: no media to be had.
        Case {
            name: "outage of both pathways from 1 s".into(),
            fault: outage(1.0),
            place: Place::BothPathways,
            expect: Expect::TypedError,
        },
        // The steering listener goes down after the manifest was loaded (within
        // milliseconds of the start; 1.5 s leaves room on a loaded machine): later
        // steering polls (TTL 1 s) fail, playback does not care.
        Case {
            name: "outage of the steering listener from 1.5 s".into(),
            fault: outage(1.5),
            place: Place::SteeringListener,
            expect: Expect::Recover,
        },
        // The only manifest source is down: nothing can be played.
        Case {
            name: "outage of the manifest source".into(),
            fault: outage(0.0),
            place: Place::SteeringListener,
            expect: Expect::TypedError,
        },
    ];
    for (name, ending) in run_all(cases).await {
        match ending {
            Ending::Ended { errors, .. } if name.contains("from the start") => {
                assert!(errors > 0, "{name}: openconnect's playlists failing is reported")
            }
            Ending::Ended { steering_errors, .. } if name.contains("steering") => {
                assert!(steering_errors > 0, "{name}: the failed polls are reported")
            }
            _ => {}
        }
    }
}
