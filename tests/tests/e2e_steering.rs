//! Content steering end to end (issue 3, "What it must show"): priority changes are
//! honoured within one TTL, 410 stops polling for good, 429 waits `Retry-After` and
//! then polls again, and a steering response that points outside the host allowlist
//! is refused (its clone never requested) while an allowed clone is used.
//!
//! Each test plays the ffmpeg-made 40 s ladder (2 s segments) from its own origin and
//! stops the player once the behaviour has been seen; what the origin logged is the
//! ground truth for what the player requested, and when.

mod common;

use common::{Recorder, is_player, is_request, media_log, media_ok_on, quick_config, steering_log};
use std::collections::BTreeMap;
use std::time::Duration;
use streamsteer::allowlist::HostAllowlist;
use streamsteer::session::{PlayerEvent, PlayerState};
use streamsteer_net::{Player, PlayerConfig};
use streamsteer_origin::{
    CloneConfig, Origin, OriginConfig, OriginHandle, PriorityStep, SteeringStatus,
};
use tokio::time::timeout;

/// Bound on one test.
const LIMIT: Duration = Duration::from_secs(90);
/// Bound on one awaited step.
const STEP: Duration = Duration::from_secs(20);
/// Segment duration of the e2e content, seconds.
const SEGMENT_S: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Hls,
    Dash,
}

async fn origin(ttl_s: u64, edit: impl FnOnce(&mut OriginConfig)) -> OriginHandle {
    let content = tokio::task::spawn_blocking(streamsteer_tests::e2e_content).await.unwrap();
    let mut c = OriginConfig::default();
    c.steering.ttl_s = ttl_s;
    edit(&mut c);
    Origin::start(content, c).await.unwrap()
}

/// Settings that keep media requests going all session long: with a 4 s buffer
/// target, one 2 s segment is fetched every 2 s of playback, so pathway moves show
/// in the origin's log within a segment's time.
fn paced_config() -> PlayerConfig {
    let mut c = quick_config();
    c.session.buffer.forward_target_s = 4.0;
    c
}

async fn load(
    origin: &OriginHandle,
    protocol: Protocol,
    config: PlayerConfig,
) -> (Player, Recorder) {
    let url = match protocol {
        Protocol::Hls => origin.hls_url(),
        Protocol::Dash => origin.dash_url(),
    };
    let player = Player::load(&url, config).await.unwrap();
    let rec = Recorder::start(player.events(), origin);
    (player, rec)
}

/// Waits until playback has started and `n` segments came from `pathway`.
async fn playing_from(rec: &Recorder, pathway: &str, n: usize) -> usize {
    let (i, _) = rec
        .wait_for("playback", 0, STEP, |s| {
            is_player(s, |e| {
                matches!(e, PlayerEvent::StateChanged { to: PlayerState::Playing, .. })
            })
        })
        .await;
    let mut seen = 0;
    let (j, _) = rec
        .wait_for(&format!("{n} segments from {pathway}"), i, STEP, |s| {
            if is_request(s, |r| media_ok_on(r, pathway)) {
                seen += 1;
            }
            seen >= n
        })
        .await;
    j
}

/// Flips the steering priority to put `to` first and returns how long it took until
/// the first media request reached `to` (origin clock), after checking the steps in
/// between: the next steering request came within one TTL, and the player applied
/// the new list and changed pathway.
async fn flip(
    origin: &OriginHandle,
    rec: &Recorder,
    to: &str,
    from: &str,
    ttl_s: f64,
) -> (f64, f64) {
    let mark = rec.len();
    let t0 = origin.elapsed_s();
    origin.set_priority(vec![to.to_string(), from.to_string()]);
    rec.wait_for(&format!("steering putting {to} first"), mark, STEP, |s| {
        is_player(s, |e| {
            matches!(e, PlayerEvent::SteeringUpdated { priority } if priority.first().is_some_and(|p| p == to))
        })
    })
    .await;
    rec.wait_for(&format!("the move to {to}"), mark, STEP, |s| {
        is_player(s, |e| matches!(e, PlayerEvent::PathwayChanged { to: p, .. } if p == to))
    })
    .await;
    rec.wait_for(&format!("a segment from {to}"), mark, STEP, |s| {
        is_request(s, |r| media_ok_on(r, to))
    })
    .await;
    let poll = steering_log(origin).into_iter().find(|e| e.t_s >= t0).expect("a steering poll");
    let poll_s = poll.t_s - t0;
    // The poll is due one TTL after the previous one, which came before t0; 0.5 s for
    // timer and scheduling slack on a loaded machine.
    assert!(
        poll_s <= ttl_s + 0.5,
        "steering polled {poll_s:.2} s after the change (TTL {ttl_s} s)"
    );
    let moved =
        media_log(origin, to).into_iter().find(|e| e.t_s >= t0).expect("media on the new pathway");
    // The move followed the steering answer: nothing went to `to` before it.
    assert!(moved.t_s >= poll.t_s, "media reached {to} before steering said so");
    (poll_s, moved.t_s - t0)
}

async fn priority_case(protocol: Protocol) -> Vec<(f64, f64)> {
    let ttl_s = 2;
    let origin = origin(ttl_s, |_| {}).await;
    let (player, rec) = load(&origin, protocol, paced_config()).await;
    playing_from(&rec, "openconnect", 2).await;
    assert!(
        media_log(&origin, "cloudfront").is_empty(),
        "{protocol:?}: cloudfront used before any change"
    );
    let mut figures = Vec::new();
    for (to, from) in [("cloudfront", "openconnect"), ("openconnect", "cloudfront")] {
        let (poll_s, move_s) = flip(&origin, &rec, to, from, ttl_s as f64).await;
        // Within one TTL the new list is in force; the next media request then goes
        // out within one segment's time (the fetch cadence at the buffer target); 1 s
        // of slack for scheduling on a loaded 2-core machine.
        assert!(
            move_s <= ttl_s as f64 + SEGMENT_S + 1.0,
            "{protocol:?}: media moved to {to} {move_s:.2} s after the priority change"
        );
        figures.push((poll_s, move_s));
    }
    player.stop();
    origin.shutdown().await;
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_changes_are_honoured_within_one_ttl() {
    let (hls, dash) = timeout(LIMIT, async {
        tokio::join!(priority_case(Protocol::Hls), priority_case(Protocol::Dash))
    })
    .await
    .expect("timed out");
    eprintln!(
        "priority flips (steering poll after change s, media moved after change s): HLS {hls:?}, DASH {dash:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_stops_polling_for_the_rest_of_the_session() {
    timeout(LIMIT, async {
        let ttl_s = 1;
        let origin = origin(ttl_s, |_| {}).await;
        let (mut player, rec) = load(&origin, Protocol::Hls, paced_config()).await;
        playing_from(&rec, "openconnect", 1).await;
        let before = steering_log(&origin).len();
        origin.set_steering_status(Some(SteeringStatus::Gone));
        let gone = common::wait_for_log(&origin, "a 410", STEP, |e| {
            e.kind == Some(streamsteer_origin::RequestKind::Steering) && e.status == 410
        })
        .await;
        // Were the player to ask again, it would now get a manifest.
        origin.set_steering_status(None);
        let (i, _) = rec
            .wait_for("the player seeing the 410", 0, STEP, |s| {
                is_player(s, |e| matches!(e, PlayerEvent::SteeringError { message } if message.contains("410")))
            })
            .await;
        // Watch for many TTLs: until a segment arrives five TTLs after the 410 (the
        // media requests go on at the playback pace, one per 2 s).
        let t_gone = gone.t_s;
        rec.wait_for("a segment five TTLs after the 410", i, STEP, |s| {
            s.t_s >= t_gone + 5.0 * ttl_s as f64 && is_request(s, |r| media_ok_on(r, "openconnect"))
        })
        .await;
        let after: Vec<_> = steering_log(&origin).into_iter().filter(|e| e.t_s > gone.t_s).collect();
        assert!(after.is_empty(), "steering requests after the 410: {after:?}");
        assert!(before >= 1, "steering was polled before the 410");
        player.stop();
        let outcome = player.wait_until_done().await.unwrap();
        assert_eq!(outcome.report.rebuffer_count, 0, "steering's end does not touch playback");
        eprintln!(
            "410: {} steering request(s) before it, none in the {:.1} s after",
            before,
            origin.elapsed_s() - gone.t_s
        );
        origin.shutdown().await;
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_waits_retry_after_then_resumes() {
    timeout(LIMIT, async {
        // Retry-After well above the TTL: a client that ignored it and came back
        // after a TTL would ask again 1 s later, not 4.
        let (ttl_s, retry_after_s) = (1, 4);
        let origin = origin(ttl_s, |_| {}).await;
        let (player, rec) = load(&origin, Protocol::Hls, paced_config()).await;
        playing_from(&rec, "openconnect", 1).await;
        origin.set_steering_status(Some(SteeringStatus::TooManyRequests { retry_after_s }));
        let limited = common::wait_for_log(&origin, "a 429", STEP, |e| {
            e.kind == Some(streamsteer_origin::RequestKind::Steering) && e.status == 429
        })
        .await;
        origin.set_steering_status(None);
        let next = common::wait_for_log(&origin, "the poll after the 429", STEP, |e| {
            e.kind == Some(streamsteer_origin::RequestKind::Steering) && e.t_s > limited.t_s
        })
        .await;
        let gap = next.t_s - limited.t_s;
        // Both times are request arrivals; the client's wait starts when the 429
        // arrives back, after the first of them, so the gap cannot be shorter.
        assert!(gap >= retry_after_s as f64, "polled again {gap:.2} s after a 429 with Retry-After {retry_after_s}");
        // Nor much longer: the poll is due right when Retry-After ends (1.5 s slack
        // for scheduling on a loaded machine).
        assert!(gap <= retry_after_s as f64 + 1.5, "polled again only {gap:.2} s after the 429");
        assert_eq!(next.status, 200);
        // Polling resumed, and the answers are applied again.
        let resumed = common::wait_for_log(&origin, "a second poll after the 429", STEP, |e| {
            e.kind == Some(streamsteer_origin::RequestKind::Steering) && e.t_s > next.t_s
        })
        .await;
        // Polling resumed at the TTL's pace: the next poll one TTL later (1.5 s slack
        // for scheduling on a loaded machine).
        let interval = resumed.t_s - next.t_s;
        assert!(
            interval >= ttl_s as f64 - 0.05 && interval <= ttl_s as f64 + 1.5,
            "polled {interval:.2} s after the first poll past the 429 (TTL {ttl_s} s)"
        );
        let t_next = next.t_s;
        rec.wait_for("a steering update after the 429", 0, STEP, |s| {
            s.t_s > t_next && is_player(s, |e| matches!(e, PlayerEvent::SteeringUpdated { .. }))
        })
        .await;
        eprintln!(
            "429 (Retry-After {retry_after_s} s, TTL {ttl_s} s): next poll after {gap:.2} s, the one after {:.2} s later",
            resumed.t_s - next.t_s
        );
        player.stop();
        origin.shutdown().await;
    })
    .await
    .expect("timed out");
}

fn clone_of_cloudfront(id: &str, host: &str) -> CloneConfig {
    CloneConfig {
        base_id: "cloudfront".into(),
        id: id.into(),
        host: Some(host.into()),
        params: BTreeMap::from([("via".to_string(), id.to_string())]),
    }
}

/// Steering that sends `clone` and puts it first, then cloudfront.
fn with_clone(clone: CloneConfig) -> impl FnOnce(&mut OriginConfig) {
    move |c| {
        c.steering.schedule = vec![PriorityStep {
            at_s: 0.0,
            priority: vec![clone.id.clone(), "cloudfront".into(), "openconnect".into()],
        }];
        c.steering.clones = vec![clone];
    }
}

fn allowlisted() -> PlayerConfig {
    let mut c = paced_config();
    c.session.allowed_hosts = HostAllowlist::only(["127.0.0.1"]);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_outside_the_allowlist_is_refused() {
    timeout(LIMIT, async {
        // `localhost` is loopback too, so a player that followed the clone would
        // reach cloudfront's listener with `via=elsewhere`: only the allowlist stops it.
        let refused = origin(1, with_clone(clone_of_cloudfront("elsewhere", "localhost"))).await;
        let allowed = origin(1, with_clone(clone_of_cloudfront("cf-copy", "127.0.0.1"))).await;
        let (p1, r1) = load(&refused, Protocol::Hls, allowlisted()).await;
        let (p2, r2) = load(&allowed, Protocol::Hls, allowlisted()).await;

        let refused_case = async {
            let (i, e) = r1
                .wait_for("the refusal", 0, STEP, |s| {
                    is_player(s, |e| matches!(e, PlayerEvent::SteeringError { .. }))
                })
                .await;
            let streamsteer_net::Event::Player { event: PlayerEvent::SteeringError { message } } = e.event else {
                unreachable!()
            };
            assert!(message.contains("\"localhost\"") && message.contains("allowlist"), "{message}");
            // Playback goes on: four more segments (8 s of media).
            let mut n = 0;
            r1.wait_for("four segments after the refusal", i, STEP, |s| {
                if is_request(s, |r| media_ok_on(r, "openconnect")) {
                    n += 1;
                }
                n >= 4
            })
            .await;
            // Every answer was refused (after a refused answer the engine waits its
            // default TTL, 300 s, before asking again: no TTL was ever accepted).
            let refusals = r1
                .player_events()
                .iter()
                .filter(|(_, e)| matches!(e, PlayerEvent::SteeringError { .. }))
                .count();
            let answers = steering_log(&refused).iter().filter(|e| e.status == 200).count();
            assert_eq!(refusals, answers, "each steering answer refused");
            for (_, e) in r1.player_events() {
                match e {
                    PlayerEvent::SteeringUpdated { priority } => panic!("a refused answer was applied: {priority:?}"),
                    PlayerEvent::PathwayChanged { to, .. } => assert_eq!(to, "openconnect"),
                    _ => {}
                }
            }
            let to_clone: Vec<_> = r1
                .requests()
                .into_iter()
                .filter(|(_, r)| r.url.contains("localhost") || r.url.contains("via=elsewhere"))
                .collect();
            assert!(to_clone.is_empty(), "requests to the refused clone: {to_clone:?}");
            let via: Vec<_> =
                refused.requests().into_iter().filter(|e| e.query.contains_key("via")).collect();
            assert!(via.is_empty(), "the origin saw clone requests: {via:?}");
            assert!(media_log(&refused, "cloudfront").is_empty(), "the refused list was followed");
            refusals
        };
        let allowed_case = async {
            let mark = r2.len();
            r2.wait_for("the clone in force", 0, STEP, |s| {
                is_player(s, |e| {
                    matches!(e, PlayerEvent::SteeringUpdated { priority } if priority.first().is_some_and(|p| p == "cf-copy"))
                })
            })
            .await;
            r2.wait_for("the move to the clone", mark, STEP, |s| {
                is_player(s, |e| matches!(e, PlayerEvent::PathwayChanged { to, .. } if to == "cf-copy"))
            })
            .await;
            let mut n = 0;
            r2.wait_for("two segments from the clone", mark, STEP, |s| {
                if is_request(s, |r| media_ok_on(r, "cf-copy")) {
                    n += 1;
                }
                n >= 2
            })
            .await;
            let via: Vec<_> = media_log(&allowed, "cloudfront")
                .into_iter()
                .filter(|e| e.query.get("via").map(String::as_str) == Some("cf-copy"))
                .collect();
            assert!(via.len() >= 2, "the clone's requests reach cloudfront's listener with its PARAMS");
            via.len()
        };
        let (refusals, clone_requests) = tokio::join!(refused_case, allowed_case);
        eprintln!("allowlist: {refusals} answers refused, 0 requests to the refused clone; {clone_requests} media requests via the allowed clone");
        p1.stop();
        p2.stop();
        refused.shutdown().await;
        allowed.shutdown().await;
    })
    .await
    .expect("timed out");
}
