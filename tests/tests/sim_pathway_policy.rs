//! The simulator's `streamsteer` model reproduces the pathway policy and the one
//! buffer of issue 11 in the setup of the runs against the peers: the Pensieve ladder
//! (300–4,300 kbit/s, 4 s segments) with 96 kbit/s audio, two CDNs each on its own
//! constant 4 Mbit/s link with 80 ms to the first byte, the steering server ranking
//! `openconnect` first with a 10 s TTL. The same behaviours are checked on the
//! origin by `e2e_pathway_policy.rs` and `e2e_one_buffer.rs`.

use streamsteer::abr::build_rule;
use streamsteer::session::SessionConfig;
use streamsteer_sim::engine::{EngineConfig, PathwayLink, SteeringReply, run_engine};
use streamsteer_sim::ladder_io::load_ladder;
use streamsteer_sim::model::{SessionOutcome, SimConfig};
use streamsteer_sim::trace::{Period, Trace, TraceData};
use streamsteer_tests::shared_dir;

const TTL_S: f64 = 10.0;

fn link(steps: &[(f64, f64)]) -> Trace {
    let periods = steps
        .iter()
        .map(|&(s, kbps)| Period { duration_ms: s * 1000.0, bandwidth_kbps: kbps, latency_ms: 0.0 })
        .collect();
    Trace { name: "link".into(), data: TraceData::Periods(periods) }
}

/// Plays the ladder with `edge` as `openconnect`'s link (and outages), `cloudfront`
/// on 4 Mbit/s, the session trace `trace` (each pathway has its own link).
fn play(edge: PathwayLink) -> SessionOutcome {
    let mut cf = PathwayLink::new("cloudfront");
    cf.trace = Some(link(&[(1e6, 4000.0)]));
    play_on(edge, cf)
}

/// Plays the ladder on the two pathways, steering ranking `openconnect` first.
fn play_on(edge: PathwayLink, cf: PathwayLink) -> SessionOutcome {
    let ladder = load_ladder(&shared_dir().join("ladders/pensieve-envivio-dash3")).unwrap().ladder;
    let engine = EngineConfig {
        pathways: vec![edge, cf],
        steering: Some(vec![(
            0.0,
            SteeringReply::Body(format!(
                r#"{{"VERSION":1,"TTL":{TTL_S},"PATHWAY-PRIORITY":["openconnect","cloudfront"]}}"#
            )),
        )]),
        audio_kbps: Some(96.0),
        init_bytes: 900,
        session: SessionConfig::default(),
        ..Default::default()
    };
    let config = SimConfig::default();
    let mut rule = build_rule("default", &config.abr, &ladder).unwrap();
    let trace = link(&[(1e6, 4000.0)]);
    let out = run_engine(&ladder, &trace, rule.as_mut(), &config, &engine).unwrap();
    assert_eq!(out.segments.len(), ladder.segment_count());
    out
}

fn edge(steps: &[(f64, f64)]) -> PathwayLink {
    let mut p = PathwayLink::new("openconnect");
    p.trace = Some(link(steps));
    p
}

fn share_on_edge(out: &SessionOutcome) -> f64 {
    let bytes = |p: &str| out.report.pathways.get(p).map_or(0, |u| u.bytes) as f64;
    bytes("openconnect") / (bytes("openconnect") + bytes("cloudfront")).max(1.0)
}

#[test]
fn healthy_cdns_keep_the_model_on_the_ranked_pathway() {
    let out = play(edge(&[(1e6, 4000.0)]));
    let share = share_on_edge(&out);
    eprintln!(
        "{:.1} % of bytes on openconnect, {:.0} kbit/s",
        share * 100.0,
        out.report.avg_bitrate_kbps
    );
    assert!(share >= 0.95, "{share}");
    assert_eq!(out.report.rebuffer_count, 0);
}

#[test]
fn the_model_is_back_on_the_edge_within_a_ttl_of_its_recovery() {
    let mut e = edge(&[(1e6, 4000.0)]);
    e.outages = vec![(30.0, 75.0)];
    let out = play(e);
    assert_eq!(out.report.rebuffer_count, 0, "{:?}", out.report);
    let on =
        |p: &'static str| out.segments.iter().filter(move |s| s.pathway == p).map(|s| s.request_s);
    assert!(on("cloudfront").any(|t| (30.0..75.0).contains(&t)), "failed over");
    let back = on("openconnect").find(|t| *t >= 75.0).expect("back on openconnect");
    eprintln!("back on openconnect {:.2} s after its recovery", back - 75.0);
    // Within a TTL, plus the wait for the next segment's fetch (4 s).
    assert!(back <= 75.0 + TTL_S + 4.0, "back at {back:.2}");
    assert!(on("cloudfront").all(|t| t < back + 1e-9), "cloudfront after the return");
}

#[test]
fn the_model_leaves_a_starving_edge_within_a_segment() {
    let out = play(edge(&[(40.0, 4000.0), (1e6, 400.0)]));
    assert_eq!(out.report.rebuffer_count, 0, "{:?}", out.report);
    let first_cf =
        out.segments.iter().find(|s| s.pathway == "cloudfront").expect("left the starving edge");
    let end = first_cf.request_s + first_cf.download_s;
    eprintln!(
        "segment {} came from cloudfront {:.2} s after the slowdown",
        first_cf.index,
        end - 40.0
    );
    assert!(end <= 40.0 + 4.0 + 4.0, "{first_cf:?}");
    assert!(share_on_edge(&out) < 0.5, "{}", share_on_edge(&out));
}

/// The origin runs of `e2e_pathway_policy.rs`, replayed by the model on the same
/// content (the e2e ladder with its real segment sizes and audio), links, TTLs, outage
/// and slowdown: the model must show the same behaviours within the same bounds.
mod origin_setups {
    use super::*;
    use streamsteer_origin::sim_model::{LinkModel, SimContent};

    fn play(
        edge: PathwayLink,
        cf_kbps: f64,
        rtt_s: f64,
        ttl_s: f64,
        forward_target_s: f64,
    ) -> SessionOutcome {
        let sim = SimContent::load(&streamsteer_tests::e2e_content()).unwrap();
        let mut base = sim.engine_config(LinkModel { rtt_s, payload_fraction: 1.0 });
        let mut cf = PathwayLink::new("cloudfront");
        cf.trace = Some(link(&[(1e6, cf_kbps)]));
        cf.rtt_s = rtt_s;
        cf.payload_fraction = 1.0;
        let mut edge = edge;
        edge.rtt_s = rtt_s;
        edge.payload_fraction = 1.0;
        base.pathways = vec![edge, cf];
        base.steering = Some(vec![(
            0.0,
            SteeringReply::Body(format!(
                r#"{{"VERSION":1,"TTL":{ttl_s},"PATHWAY-PRIORITY":["openconnect","cloudfront"]}}"#
            )),
        )]);
        base.session.buffer.forward_target_s = forward_target_s;
        let config = SimConfig::default();
        let mut rule = build_rule("default", &config.abr, &sim.ladder).unwrap();
        let trace = link(&[(1e6, cf_kbps)]);
        run_engine(&sim.ladder, &trace, rule.as_mut(), &config, &base).unwrap()
    }

    fn edge_on(steps: &[(f64, f64)], outages: Vec<(f64, f64)>) -> PathwayLink {
        let mut p = edge(steps);
        p.outages = outages;
        p
    }

    #[test]
    fn outage_then_back_within_a_ttl() {
        // e2e: 3 × (top rung + audio) per CDN, TTL 3 s, openconnect down 6–16 s.
        let sim = SimContent::load(&streamsteer_tests::e2e_content()).unwrap();
        let top = sim.ladder.bitrates_kbps().iter().copied().fold(0.0, f64::max);
        let kbps = 3.0 * (top + sim.audio_kbps);
        let out = play(edge_on(&[(1e6, kbps)], vec![(6.0, 16.0)]), kbps, 0.0, 3.0, 6.0);
        assert_eq!(out.report.rebuffer_count, 0, "{:?}", out.report);
        let back = out
            .segments
            .iter()
            .filter(|s| s.pathway == "openconnect" && s.request_s >= 16.0)
            .map(|s| s.request_s)
            .next()
            .expect("back on openconnect");
        eprintln!(
            "model: back on openconnect {:.2} s after its recovery (origin: 0.11–2.1 s)",
            back - 16.0
        );
        assert!(back <= 16.0 + 3.0 + 2.0 + 1.5, "back at {back:.2}");
    }

    #[test]
    fn healthy_cdns_keep_the_traffic_on_the_ranked_pathway() {
        let out = play(edge(&[(1e6, 4000.0)]), 4000.0, 0.08, 10.0, 30.0);
        let share = share_on_edge(&out);
        eprintln!(
            "model: {:.1} % on openconnect, {:.0} kbit/s (origin: 100 %, 3,419–3,875 kbit/s)",
            share * 100.0,
            out.report.avg_bitrate_kbps
        );
        assert!(share >= 0.95, "{share}");
        assert_eq!(out.report.rebuffer_count, 0);
    }

    #[test]
    fn a_cdn_slowed_tenfold_is_left_within_a_segment() {
        let out = play(edge(&[(12.0, 8000.0), (1e6, 800.0)]), 8000.0, 0.04, 3.0, 8.0);
        assert_eq!(out.report.rebuffer_count, 0, "{:?}", out.report);
        let first_cf = out.segments.iter().find(|s| s.pathway == "cloudfront").expect("left");
        let end = first_cf.request_s + first_cf.download_s;
        eprintln!(
            "model: the segment in flight came from cloudfront {:.2} s after the slowdown (origin: left 0.87–1.37 s after)",
            end - 12.0
        );
        assert!(end <= 12.0 + 2.0 + 1.5 + 2.0, "{first_cf:?}");
    }
}

/// When the client's own link collapses, every CDN slows at once: leaving the first
/// for the second cannot help, and a segment moved once must not be moved again (it
/// would bounce between equally slow CDNs at the rung that no longer fits): the rule
/// abandons it for a lower rung instead. Found by the browser test of ABR under
/// shaping (`web/test/network.mjs`), where it stalled for 9 s.
#[test]
fn a_link_that_slows_for_every_cdn_is_left_to_the_rule_not_to_pathway_changes() {
    let steps = [(40.0, 4000.0), (20.0, 500.0), (1e6, 4000.0)];
    let mut cf = PathwayLink::new("cloudfront");
    cf.trace = Some(link(&steps));
    let out = play_on(edge(&steps), cf);
    let moved: Vec<_> = out
        .segments
        .windows(2)
        .filter(|w| w[0].pathway != w[1].pathway)
        .map(|w| (w[1].index, w[1].pathway.clone()))
        .collect();
    eprintln!(
        "rebuffer {:.2} s, {} pathway changes {moved:?}, rungs {:?}",
        out.report.rebuffer_s,
        moved.len(),
        out.segments.iter().map(|s| s.rendition).collect::<Vec<_>>()
    );
    assert!(out.report.rebuffer_s < 1.0, "{:?}", out.report);
}
