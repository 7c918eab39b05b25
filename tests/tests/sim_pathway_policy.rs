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
    let ladder = load_ladder(&shared_dir().join("ladders/pensieve-envivio-dash3")).unwrap().ladder;
    let mut cf = PathwayLink::new("cloudfront");
    cf.trace = Some(link(&[(1e6, 4000.0)]));
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
