//! Whole simulated sessions: a 48-chunk Pensieve-ladder session per rule and model,
//! and a batch over all cores.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use streamsteer::abr::build_rule;
use streamsteer_sim::batch::Batch;
use streamsteer_sim::defaults;
use streamsteer_sim::model::{ModelKind, SimConfig};

fn sessions(c: &mut Criterion) {
    let ladder = defaults::ladder().ladder;
    let traces = defaults::traces().expect("built-in traces");
    let trace = &traces[0];
    let mut group = c.benchmark_group("session_48_chunks");
    for model in [ModelKind::Pensieve, ModelKind::Sabre, ModelKind::Streamsteer] {
        let mut config = SimConfig::default();
        config.segments = Some(48);
        let config = config.resolved_for(model);
        for rule in ["throughput", "bola", "bba", "robustmpc", "default"] {
            group.bench_with_input(BenchmarkId::new(model.name(), rule), &rule, |b, rule| {
                b.iter(|| {
                    let mut r = build_rule(rule, &config.abr, &ladder).expect("rule");
                    black_box(
                        model.model().run(&ladder, trace, r.as_mut(), &config).expect("session"),
                    )
                })
            });
        }
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let ladder = defaults::ladder().ladder;
    let traces = defaults::traces().expect("built-in traces");
    let rules: Vec<String> = vec!["default".into()];
    let config = SimConfig::default();
    let mut group = c.benchmark_group("batch_80_traces_all_cores");
    group.sample_size(10);
    for model in [ModelKind::Pensieve, ModelKind::Streamsteer] {
        group.bench_function(model.name(), |b| {
            b.iter(|| {
                let batch = Batch {
                    ladder: &ladder,
                    traces: &traces,
                    rules: &rules,
                    model,
                    config: &config,
                };
                black_box(batch.run(&|| {}).expect("batch"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sessions, batch);
criterion_main!(benches);
