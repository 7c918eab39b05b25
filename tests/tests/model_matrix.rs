//! Every model × every trace family × every ladder × every rule: each session completes,
//! plays every segment, and reports sane numbers. Guards against a model that only
//! works on the data it was written against (a 35 Mbit/s ladder on LTE once made the
//! streamsteer model spin on a sub-resolution transfer remainder).

use streamsteer::abr::RULE_NAMES;
use streamsteer_sim::batch::Batch;
use streamsteer_sim::ladder_io::load_ladder;
use streamsteer_sim::model::{ModelKind, SimConfig};
use streamsteer_sim::trace::Trace;
use streamsteer_tests::shared_dir;

const TRACE_DIRS: [&str; 8] = [
    "fcc",
    "hsdpa",
    "mahimahi",
    "sabre-example",
    "sabre-fcc-hd",
    "sabre-fcc-sd",
    "sabre-hsdpa-3g",
    "sabre-lte-belgium-4g",
];

#[test]
fn every_model_trace_family_ladder_and_rule_completes() {
    let shared = shared_dir();
    let mut traces = Vec::new();
    for dir in TRACE_DIRS {
        let all = Trace::load_path(&shared.join("traces").join(dir)).unwrap();
        // The first two of each family (sorted by name): different shapes, bounded cost.
        traces.extend(all.into_iter().take(2));
    }
    let ladders =
        ["ladders/pensieve-envivio-dash3", "ladders/sabre/bbb.json", "ladders/sabre/bbb4k.json"];
    let rules: Vec<String> = RULE_NAMES.iter().map(|s| s.to_string()).collect();
    for ladder_path in ladders {
        let loaded = load_ladder(&shared.join(ladder_path)).unwrap();
        // 60 segments keep the long Sabre ladders quick while spanning minutes of trace.
        let segments = loaded.ladder.segment_count().min(60);
        let ladder = loaded.ladder.with_segment_count(segments);
        let (lo, hi) = (ladder.bitrates_kbps()[0], ladder.bitrates_kbps()[ladder.len() - 1]);
        for model in ModelKind::ALL {
            let mut config = SimConfig::default();
            config.segments = Some(segments);
            let batch =
                Batch { ladder: &ladder, traces: &traces, rules: &rules, model, config: &config };
            let result = batch.run(&|| {}).unwrap();
            let failures: Vec<String> = result
                .failures
                .iter()
                .map(|f| format!("{model}/{ladder_path}/{}/{}: {}", f.rule, f.trace, f.error))
                .collect();
            assert!(failures.is_empty(), "{failures:#?}");
            assert_eq!(result.outcomes.len(), traces.len() * rules.len());
            for o in &result.outcomes {
                let what = format!("{model}/{ladder_path}/{}/{}", o.rule, o.trace);
                assert_eq!(o.segments.len(), segments, "{what}");
                let r = &o.report;
                assert!(
                    r.qoe_lin.is_finite() && r.qoe_log.is_finite() && r.qoe_hd.is_finite(),
                    "{what}"
                );
                assert!(
                    r.avg_bitrate_kbps >= lo - 1e-9 && r.avg_bitrate_kbps <= hi + 1e-9,
                    "{what}"
                );
                assert!(r.rebuffer_s >= 0.0 && r.startup_delay_s >= 0.0, "{what}");
                assert!(
                    o.buffer_timeline.iter().all(|&(t, b)| t.is_finite() && b >= -1e-9),
                    "{what}"
                );
                assert!(o.segments.windows(2).all(|w| w[0].index < w[1].index), "{what}");
            }
        }
    }
}
