//! The `streamsteer` simulator model: the real session on real traces and ladders.

use streamsteer::abr::{
    AbrContext, AbrRule, Decision, DownloadReport, FetchProgress, RULE_NAMES, build_rule,
};
use streamsteer::qoe::QoeReport;
use streamsteer::steering::CostPreference;
use streamsteer_sim::engine::{
    EngineConfig, EngineModel, LiveModel, PathwayLink, SteeringReply, run_engine,
};
use streamsteer_sim::ladder_io::load_ladder;
use streamsteer_sim::model::{Model, SimConfig, SimError};
use streamsteer_sim::trace::Trace;
use streamsteer_tests::shared_dir;

fn pensieve_ladder() -> streamsteer::Ladder {
    load_ladder(&shared_dir().join("ladders/pensieve-envivio-dash3")).unwrap().ladder
}

fn traces(folder: &str, n: usize) -> Vec<Trace> {
    let mut t = Trace::load_path(&shared_dir().join("traces").join(folder)).unwrap();
    t.truncate(n);
    t
}

#[test]
fn plays_every_segment_of_real_sessions_with_every_rule() {
    let ladder = pensieve_ladder();
    let config = SimConfig::default();
    for trace in traces("hsdpa", 4).iter().chain(traces("fcc", 4).iter()) {
        for name in ["throughput", "bola", "bba", "robustmpc", "default"] {
            let mut rule = build_rule(name, &config.abr, &ladder).unwrap();
            let out = EngineModel.run(&ladder, trace, rule.as_mut(), &config).unwrap();
            assert_eq!(out.segments.len(), ladder.segment_count(), "{name} on {}", trace.name);
            let idx: Vec<usize> = out.segments.iter().map(|s| s.index).collect();
            assert_eq!(idx, (0..ladder.segment_count()).collect::<Vec<_>>());
            assert!(out.report.rebuffer_s >= 0.0 && out.report.startup_delay_s > 0.0);
            assert!(out.buffer_timeline.windows(2).all(|w| w[0].0 <= w[1].0), "time monotonic");
            assert!(out.buffer_timeline.iter().all(|(_, b)| *b >= 0.0), "buffer never negative");
            assert!(
                out.buffer_timeline.iter().all(|(_, b)| *b <= 30.0 + 1e-6),
                "never above the target"
            );
            let bytes: u64 = out.report.pathways.values().map(|u| u.bytes).sum();
            let seg_bytes: f64 = out.segments.iter().map(|s| s.size_bits / 8.0).sum();
            assert!(
                (bytes as f64 - seg_bytes).abs() <= out.segments.len() as f64,
                "{bytes} vs {seg_bytes}"
            );
        }
    }
}

/// A rule that starts at the top rung (a player's initial-bitrate guess) and then
/// defers to `0`: its sessions reach their lowest bitrate only later.
struct StartHigh(Box<dyn AbrRule>);

impl AbrRule for StartHigh {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let d = self.0.choose(ctx);
        if ctx.segment_index == 0 {
            return Decision { rendition: ctx.ladder.bitrates_kbps().len() - 1, ..d };
        }
        d
    }
    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        self.0.on_download(ctx, report)
    }
    fn on_delay(&mut self, delay_s: f64) {
        self.0.on_delay(delay_s)
    }
    fn on_seek(&mut self, segment_index: usize) {
        self.0.on_seek(segment_index)
    }
    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        self.0.check_abandon(ctx, progress)
    }
}

/// The session accumulates its QoE report as segments arrive (it keeps only the
/// latest records by default): over real traces and every rule, the report equals
/// `QoeReport::from_segments` over the full record list, bit for bit, also when the
/// lowest bitrate (QoE_log's `R_min`) first appears late in the session.
#[test]
fn accumulated_report_is_from_segments_over_every_record() {
    let ladder = pensieve_ladder();
    let config = SimConfig::default();
    let (mut sessions, mut late_minimum) = (0, 0);
    let rules = RULE_NAMES.iter().flat_map(|n| [(*n, false), (*n, true)]);
    for trace in traces("hsdpa", 6).iter().chain(traces("fcc", 6).iter()) {
        for (name, start_high) in rules.clone() {
            let mut rule = build_rule(name, &config.abr, &ladder).unwrap();
            if start_high {
                rule = Box::new(StartHigh(rule));
            }
            let out = EngineModel.run(&ladder, trace, rule.as_mut(), &config).unwrap();
            let r = &out.report;
            let reference = QoeReport::from_segments(&out.segments, r.startup_delay_s, config.qoe);
            // Stalls and transfers are the session's own accounting; the rest is the
            // records'.
            let mut same = r.clone();
            same.rebuffer_count = reference.rebuffer_count;
            same.rebuffer_s = reference.rebuffer_s;
            same.pathways = reference.pathways.clone();
            assert_eq!(same, reference, "{name} on {}", trace.name);
            assert_eq!(r.segments, ladder.segment_count());
            let min = out.segments.iter().map(|s| s.bitrate_kbps).fold(f64::INFINITY, f64::min);
            sessions += 1;
            late_minimum += usize::from(out.segments[0].bitrate_kbps > min);
        }
    }
    // Sessions whose lowest rung first appears after the start exercise QoE_log's
    // change of R_min.
    println!("{sessions} sessions, {late_minimum} with the lowest bitrate first seen late");
    assert!(late_minimum >= sessions / 4, "too few sessions changed R_min");
}

#[test]
fn is_deterministic() {
    let ladder = pensieve_ladder();
    let trace = &traces("hsdpa", 1)[0];
    let config = SimConfig::default();
    let run = || {
        let mut rule = build_rule("bola", &config.abr, &ladder).unwrap();
        EngineModel.run(&ladder, trace, rule.as_mut(), &config).unwrap()
    };
    assert_eq!(run(), run());
}

#[test]
fn dead_trace_is_an_error_not_a_hang() {
    let ladder = pensieve_ladder();
    let dead = Trace::parse("dead", "0 0\n1 0\n2 0\n").unwrap();
    let mut rule = build_rule("bola", &SimConfig::default().abr, &ladder).unwrap();
    let e = EngineModel.run(&ladder, &dead, rule.as_mut(), &SimConfig::default());
    assert!(matches!(e, Err(SimError::DeadTrace(_))), "{e:?}");
}

#[test]
fn outage_on_the_edge_fails_over_to_the_overflow_cdn_and_comes_back() {
    let ladder = pensieve_ladder();
    let trace = &traces("fcc", 1)[0];
    let mut edge = PathwayLink::new("oca");
    edge.outages = vec![(60.0, 90.0)];
    let mut session = streamsteer::session::SessionConfig::default();
    // Strict priority, so that only the outage moves traffic.
    session.steering.penalty_s = 40.0;
    session.steering.cost = CostPreference { enabled: false, ..Default::default() };
    let engine = EngineConfig {
        pathways: vec![edge, PathwayLink::new("cloudfront")],
        audio_kbps: Some(128.0),
        init_bytes: 900,
        session,
        ..Default::default()
    };
    let config = SimConfig::default();
    let mut rule = build_rule("bola", &config.abr, &ladder).unwrap();
    let out = run_engine(&ladder, trace, rule.as_mut(), &config, &engine).unwrap();
    assert_eq!(out.segments.len(), ladder.segment_count());
    let used: Vec<&str> = out.segments.iter().map(|s| s.pathway.as_str()).collect();
    let first_cf = used.iter().position(|p| *p == "cloudfront").expect("failed over");
    let back = used[first_cf..].iter().position(|p| *p == "oca").expect("came back to the edge");
    assert!(back > 0);
    // The first segment on the overflow CDN is the one in flight when the edge went
    // down (failed over mid-segment), or a later one.
    let s = &out.segments[first_cf];
    assert!(s.request_s + s.download_s >= 60.0, "{s:?}");
    assert!(out.segments[..first_cf].iter().all(|s| s.request_s + s.download_s <= 60.0 + 1e-6));
    assert_eq!(
        out.report.rebuffer_count, 0,
        "a buffered failover does not stall: {:?}",
        out.report
    );
    assert!(out.report.pathways["cloudfront"].bytes > 0 && out.report.pathways["oca"].bytes > 0);
}

#[test]
fn steering_script_moves_traffic_and_410_stops_polling() {
    let ladder = pensieve_ladder();
    let trace = &traces("fcc", 1)[0];
    let engine = EngineConfig {
        pathways: vec![PathwayLink::new("oca"), PathwayLink::new("cloudfront")],
        steering: Some(vec![
            (
                0.0,
                SteeringReply::Body(
                    r#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["oca","cloudfront"]}"#.into(),
                ),
            ),
            (
                50.0,
                SteeringReply::Body(
                    r#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["cloudfront","oca"]}"#.into(),
                ),
            ),
            (100.0, SteeringReply::Status(410, None)),
        ]),
        ..Default::default()
    };
    let config = SimConfig::default();
    let mut rule = build_rule("throughput", &config.abr, &ladder).unwrap();
    let out = run_engine(&ladder, trace, rule.as_mut(), &config, &engine).unwrap();
    let before: Vec<&str> =
        out.segments.iter().filter(|s| s.request_s < 50.0).map(|s| s.pathway.as_str()).collect();
    let after: Vec<&str> =
        out.segments.iter().filter(|s| s.request_s > 62.0).map(|s| s.pathway.as_str()).collect();
    assert!(before.iter().all(|p| *p == "oca"), "{before:?}");
    assert!(!after.is_empty() && after.iter().all(|p| *p == "cloudfront"), "{after:?}");
}

/// Live DASH (`SegmentTemplate@duration`) on a virtual wall clock: the Pensieve ladder
/// (4 s segments) live for a minute when the player starts, whose clock runs 25 s
/// fast, on a real FCC trace.
fn live_run(utc_timing: bool) -> streamsteer_sim::model::SessionOutcome {
    let ladder = pensieve_ladder();
    let trace = &traces("fcc", 1)[0];
    let live = LiveModel {
        running_for_s: 60.0,
        player_clock_error_s: 25.0,
        utc_timing,
        suggested_presentation_delay_s: Some(12.0),
        time_shift_buffer_depth_s: Some(30.0),
        ..LiveModel::default()
    };
    let engine = EngineConfig { audio_kbps: Some(128.0), live: Some(live), ..Default::default() };
    let config = SimConfig::default();
    let mut rule = build_rule("default", &config.abr, &ladder).unwrap();
    run_engine(&ladder, trace, rule.as_mut(), &config, &engine).unwrap()
}

#[test]
fn plays_live_dash_by_its_utc_timing_on_a_virtual_wall_clock() {
    let ladder = pensieve_ladder();
    let out = live_run(true);
    // Nothing was asked for before it existed on the server's clock.
    assert_eq!(out.metrics["too_early_requests"], 0.0, "{:?}", out.metrics);
    // Joined at the segment holding the live edge less 12 s, by the server's clock
    // (60 s plus the 80 ms clock round trip in: segment 12 of 0..48), and played every
    // segment from there to the end of the stream, once, in order.
    let joined = 12;
    assert_eq!(out.segments.len(), ladder.segment_count() - joined);
    assert!(out.segments.windows(2).all(|w| w[1].index == w[0].index + 1));
    // Live: the playhead cannot run ahead of the stream, so the session lasts about
    // until the last segment exists plus the delay, not the time to download it all.
    let stream_end_s = ladder.segment_count() as f64 * 4.0 - 60.0;
    assert!(out.metrics["session_s"] >= stream_end_s, "{:?}", out.metrics);
    // No segment was requested before it existed: request times (virtual seconds since
    // the player started) against availability (4 s per segment from 60 s before).
    let first_plan_index = out.segments[0].index;
    for s in &out.segments {
        let number = joined + (s.index - first_plan_index);
        let exists_at = (number + 1) as f64 * 4.0 - 60.0;
        assert!(s.request_s + 0.04 >= exists_at - 1e-6, "segment {number} at {}", s.request_s);
    }
}

#[test]
fn without_utc_timing_a_fast_player_clock_asks_for_segments_too_early() {
    // The control for the test above: the same clock error, nothing to correct it.
    let out = live_run(false);
    assert!(out.metrics["too_early_requests"] > 0.0, "{:?}", out.metrics);
}
