//! The default rule against RobustMPC (and BBA) under Pensieve's model with the Pensieve
//! ladder, on the real HSDPA (80) and FCC (500) traces: its mean QoE_lin must be higher
//! and its 10th percentile no lower. All rules run here (in parallel through the batch
//! runner); nothing is hard-coded.

use streamsteer_sim::batch::Batch;
use streamsteer_sim::ladder_io::load_pensieve_folder;
use streamsteer_sim::summary::Stats;
use streamsteer_sim::trace::Trace;
use streamsteer_sim::{ModelKind, SimConfig};
use streamsteer_tests::shared_dir;

fn check(set: &str, expected_traces: usize) {
    let shared = shared_dir();
    let ladder = load_pensieve_folder(&shared.join("ladders/pensieve-envivio-dash3")).unwrap();
    let traces = Trace::load_path(&shared.join("traces").join(set)).unwrap();
    assert_eq!(traces.len(), expected_traces, "{set} trace count");
    let rules: Vec<String> = ["default", "robustmpc", "bba"].map(String::from).to_vec();
    let config = SimConfig::default();
    let batch = Batch {
        ladder: &ladder,
        traces: &traces,
        rules: &rules,
        model: ModelKind::Pensieve,
        config: &config,
    };
    let result = batch.run(&|| {}).unwrap();
    assert!(result.failures.is_empty(), "{set}: {:?}", result.failures);
    let stats = |rule: &str| {
        let values: Vec<f64> = result
            .outcomes
            .iter()
            .filter(|o| o.rule == rule)
            .map(|o| {
                assert_eq!(o.segments.len(), 48, "{rule} on {}", o.trace);
                o.report.qoe_lin
            })
            .collect();
        assert_eq!(values.len(), expected_traces, "{rule} sessions on {set}");
        Stats::of(&values)
    };
    let (ours, mpc, bba) = (stats("default"), stats("robustmpc"), stats("bba"));
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
