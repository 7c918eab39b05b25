//! The default rule against RobustMPC (and BBA) under Pensieve's model with the Pensieve
//! ladder, on the real HSDPA (80) and FCC (500) traces: its mean QoE_lin must be higher
//! and its 10th percentile no lower. Both rules run here; nothing is hard-coded.

use streamsteer::Ladder;
use streamsteer::abr::{AbrConfig, build_rule};
use streamsteer_sim::ladder_io::load_pensieve_folder;
use streamsteer_sim::pensieve::PensieveModel;
use streamsteer_sim::summary::Stats;
use streamsteer_sim::trace::Trace;
use streamsteer_sim::{Model, SimConfig};
use streamsteer_tests::shared_dir;

fn qoe(rule: &str, ladder: &Ladder, traces: &[Trace]) -> Stats {
    let config = SimConfig::default();
    let values: Vec<f64> = traces
        .iter()
        .map(|t| {
            let mut r = build_rule(rule, &AbrConfig::default(), ladder).unwrap();
            let out = PensieveModel.run(ladder, t, r.as_mut(), &config).unwrap();
            assert_eq!(out.segments.len(), 48, "{rule} on {}", t.name);
            out.report.qoe_lin
        })
        .collect();
    Stats::of(&values)
}

fn check(set: &str, expected_traces: usize) {
    let shared = shared_dir();
    let ladder = load_pensieve_folder(&shared.join("ladders/pensieve-envivio-dash3")).unwrap();
    let traces = Trace::load_path(&shared.join("traces").join(set)).unwrap();
    assert_eq!(traces.len(), expected_traces, "{set} trace count");
    let ours = qoe("default", &ladder, &traces);
    let mpc = qoe("robustmpc", &ladder, &traces);
    let bba = qoe("bba", &ladder, &traces);
    let report = format!(
        "{set}: default mean {:.4} p10 {:.4} | robustmpc mean {:.4} p10 {:.4} | bba mean {:.4} p10 {:.4}",
        ours.mean, ours.p10, mpc.mean, mpc.p10, bba.mean, bba.p10
    );
    println!("{report}");
    assert!(ours.mean > mpc.mean, "default must beat RobustMPC on mean QoE_lin: {report}");
    assert!(ours.p10 >= mpc.p10, "default's p10 must not be worse than RobustMPC's: {report}");
    assert!(ours.mean > bba.mean && ours.p10 >= bba.p10, "default must beat BBA: {report}");
}

#[test]
fn default_beats_robustmpc_on_hsdpa() {
    check("hsdpa", 80);
}

#[test]
fn default_beats_robustmpc_on_fcc() {
    check("fcc", 500);
}
