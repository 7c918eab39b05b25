//! Latency of a single ABR decision, per rule: criterion's mean over a synthetic sweep
//! of contexts, plus the per-call distribution (p50/p99/p99.9) in real sessions, which
//! criterion does not report.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use streamsteer::abr::{
    AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, FetchProgress, RULE_NAMES, build_rule,
};
use streamsteer_sim::defaults;
use streamsteer_sim::model::{ModelKind, SimConfig};

/// A deterministic sequence of contexts: buffer and throughput sweep through the range a
/// session meets, so every branch of the rules is exercised.
fn context_at(i: usize) -> (f64, f64) {
    let phase = (i % 97) as f64 / 97.0;
    let buffer = 60.0 * phase;
    let kbps = 200.0 + 5000.0 * ((i * 37) % 101) as f64 / 101.0;
    (buffer, kbps)
}

fn decisions(c: &mut Criterion) {
    let ladder = defaults::ladder().ladder;
    let mut config = AbrConfig::default();
    config.buffer_max_s = 60.0;
    let mut group = c.benchmark_group("decision");
    for name in RULE_NAMES {
        let mut rule = build_rule(name, &config, &ladder).expect("rule");
        // Warm the rule's history with a few downloads so estimators are primed.
        for i in 0..8 {
            let (buffer, kbps) = context_at(i);
            let ctx = AbrContext {
                ladder: &ladder,
                segment_index: i,
                buffer_level_s: buffer,
                buffer_max_s: 60.0,
                last_rendition: Some(1),
                throughput_kbps: Some(kbps),
                latency_s: Some(0.08),
                now_s: i as f64 * 4.0,
                playing: true,
            };
            let report = DownloadReport {
                segment_index: i,
                rendition: 1,
                size_bits: ladder.segment_size_bits(i, 1),
                ttfb_s: 0.08,
                duration_s: 0.08 + ladder.segment_size_bits(i, 1) / (kbps * 1000.0),
                buffer_level_s: buffer,
                abandoned: false,
            };
            rule.choose(&ctx);
            rule.on_download(&ctx, &report);
        }
        let mut i = 8usize;
        let make = |i: usize| {
            let (buffer, kbps) = context_at(i);
            AbrContext {
                ladder: &ladder,
                segment_index: 8 + i % 38,
                buffer_level_s: buffer,
                buffer_max_s: 60.0,
                last_rendition: Some(i % ladder.len()),
                throughput_kbps: Some(kbps),
                latency_s: Some(0.08),
                now_s: i as f64 * 4.0,
                playing: true,
            }
        };
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                i += 1;
                let ctx = make(i);
                black_box(rule.choose(black_box(&ctx)))
            })
        });
    }
    group.finish();
}

/// Times every `choose` of a rule as a real session calls it.
struct Timed<'a> {
    inner: &'a mut dyn AbrRule,
    samples: &'a mut Vec<u64>,
}

impl AbrRule for Timed<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let t = Instant::now();
        let d = self.inner.choose(ctx);
        self.samples.push(t.elapsed().as_nanos() as u64);
        d
    }
    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        self.inner.on_download(ctx, report)
    }
    fn on_delay(&mut self, delay_s: f64) {
        self.inner.on_delay(delay_s)
    }
    fn check_abandon(&mut self, ctx: &AbrContext<'_>, p: &FetchProgress) -> Option<usize> {
        self.inner.check_abandon(ctx, p)
    }
}

/// Per-call latency distribution in real sessions: every rule plays the built-in 80
/// HSDPA traces under the Pensieve model 20 times, each `choose` timed on its own.
fn distribution() {
    let ladder = defaults::ladder().ladder;
    let traces = defaults::traces().expect("built-in traces");
    let config = SimConfig::default().resolved_for(ModelKind::Pensieve);
    println!("\nsingle-decision latency in real sessions (Pensieve model, 80 HSDPA traces x 20):");
    for name in RULE_NAMES {
        let mut samples = Vec::with_capacity(80 * 47 * 20);
        for _ in 0..20 {
            for trace in &traces {
                let mut rule = build_rule(name, &config.abr, &ladder).expect("rule");
                let mut timed = Timed { inner: rule.as_mut(), samples: &mut samples };
                black_box(
                    ModelKind::Pensieve
                        .model()
                        .run(&ladder, trace, &mut timed, &config)
                        .expect("session"),
                );
            }
        }
        samples.sort_unstable();
        let q = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
        println!(
            "  {name:<12} {:>6} calls  p50 {:>6} ns  p99 {:>6} ns  p99.9 {:>7} ns",
            samples.len(),
            q(0.5),
            q(0.99),
            q(0.999)
        );
    }
}

fn all(c: &mut Criterion) {
    decisions(c);
    distribution();
}

criterion_group!(benches, all);
criterion_main!(benches);
