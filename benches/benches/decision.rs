//! Latency of a single ABR decision, per rule: criterion's mean, plus a per-call
//! distribution (p50/p99/max) that criterion does not report.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use streamsteer::abr::{AbrConfig, AbrContext, DownloadReport, RULE_NAMES, build_rule};
use streamsteer_sim::defaults;

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
    let config = AbrConfig { buffer_max_s: 60.0, ..AbrConfig::default() };
    let mut group = c.benchmark_group("decision");
    let mut distribution = Vec::new();
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
        let mut samples = Vec::with_capacity(100_000);
        for j in 0..100_000 {
            let ctx = make(j);
            let t = Instant::now();
            black_box(rule.choose(black_box(&ctx)));
            samples.push(t.elapsed().as_nanos() as u64);
        }
        samples.sort_unstable();
        let q = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
        distribution.push(format!(
            "{name:<12} p50 {:>6} ns  p99 {:>6} ns  max {:>8} ns",
            q(0.5),
            q(0.99),
            samples[samples.len() - 1]
        ));
    }
    group.finish();
    println!("\nsingle-decision latency over 100000 calls:");
    for line in distribution {
        println!("  {line}");
    }
}

criterion_group!(benches, decisions);
criterion_main!(benches);
