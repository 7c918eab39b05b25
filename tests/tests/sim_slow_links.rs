//! The slowest shared links of issue 11, part 1, in the simulator's `streamsteer` model:
//! the Pensieve ladder (300–4,300 kbit/s, 4 s segments) with 96 kbit/s audio, audio
//! and video over one link that follows a real HSDPA trace, 80 ms to the first byte.
//! On `norway_tram_26` and `norway_tram_40` (0.27–0.6 Mbit/s at the start) a player
//! stalled and started late when audio ran ahead of video. The default rule must not
//! stall where a player of the lowest rung alone does not (nor longer), must score
//! above it, and start as soon as the link allows.
//!
//! The goal of a startup under 3 s cannot be met on these traces with whole
//! 4 s segments: the first video segment at 300 kbit/s (1.5 Mbit in this ladder) and
//! audio's need 4.5 s of tram_26's link and 5.2 s of tram_40's, before any round
//! trip. What the test holds is that startup waits for those two segments and
//! nothing more. Starting sooner needs playback of a partly received segment
//! (CMAF chunks), which belongs with low-latency live.

use streamsteer::abr::build_rule;
use streamsteer::session::SessionConfig;
use streamsteer_sim::engine::{EngineConfig, PathwayLink, run_engine};
use streamsteer_sim::ladder_io::load_ladder;
use streamsteer_sim::model::{SessionOutcome, SimConfig};
use streamsteer_sim::trace::Trace;
use streamsteer_tests::shared_dir;

const AUDIO_KBPS: f64 = 96.0;
const RTT_S: f64 = 0.08;
const INIT_BYTES: u64 = 900;

fn play(trace: &Trace, rule: &str, session: SessionConfig) -> SessionOutcome {
    let ladder = load_ladder(&shared_dir().join("ladders/pensieve-envivio-dash3")).unwrap().ladder;
    let mut edge = PathwayLink::new("openconnect");
    edge.rtt_s = RTT_S;
    let engine = EngineConfig {
        pathways: vec![edge],
        audio_kbps: Some(AUDIO_KBPS),
        init_bytes: INIT_BYTES,
        // As the origin serves it: no segment sizes in the manifest.
        sizes_in_manifest: false,
        session,
        ..Default::default()
    };
    let config = SimConfig::default();
    let mut rule = build_rule(rule, &config.abr, &ladder).unwrap();
    let out = run_engine(&ladder, trace, rule.as_mut(), &config, &engine).unwrap();
    assert_eq!(out.segments.len(), ladder.segment_count());
    out
}

fn trace(name: &str) -> Trace {
    Trace::load_file(&shared_dir().join("traces/hsdpa").join(name)).unwrap()
}

/// Seconds the link needs for `bits` from time 0 (the trace's rate times the payload
/// fraction the model applies).
fn transfer_time_s(trace: &Trace, bits: f64) -> f64 {
    let mut left = bits;
    let mut t = 0.0;
    for p in trace.to_periods(0.95, 0.0) {
        let rate = p.bandwidth_kbps * 1000.0;
        let d = p.duration_ms / 1000.0;
        if rate * d >= left {
            return t + left / rate;
        }
        left -= rate * d;
        t += d;
    }
    f64::INFINITY
}

#[test]
fn the_default_rule_beats_the_lowest_rung_on_the_slowest_shared_links() {
    for name in ["norway_tram_26", "norway_tram_40"] {
        let trace = trace(name);
        let default = play(&trace, "default", SessionConfig::default());
        let lowest = play(&trace, "lowest", SessionConfig::default());
        let (d, l) = (&default.report, &lowest.report);
        // The first video segment at the lowest rung, audio's first, and both inits, as
        // early as the link can carry them: no player of these segments starts sooner.
        let ladder =
            load_ladder(&shared_dir().join("ladders/pensieve-envivio-dash3")).unwrap().ladder;
        let first_bits = ladder.segment_size_bits(0, 0)
            + AUDIO_KBPS * 1000.0 * ladder.segment_duration_s()
            + 2.0 * INIT_BYTES as f64 * 8.0;
        let bound = transfer_time_s(&trace, first_bits);
        eprintln!(
            "{name}: default {:.0} kbit/s, QoE_lin {:.3}, {} stalls ({:.2} s), startup {:.2} s; \
             lowest QoE_lin {:.3}, {} stalls ({:.2} s), startup {:.2} s; the link's bound {bound:.2} s",
            d.avg_bitrate_kbps,
            d.qoe_lin,
            d.rebuffer_count,
            d.rebuffer_s,
            d.startup_delay_s,
            l.qoe_lin,
            l.rebuffer_count,
            l.rebuffer_s,
            l.startup_delay_s,
        );
        if l.rebuffer_count == 0 {
            assert_eq!(d.rebuffer_count, 0, "{name}: the default stalled where rung 0 did not");
        }
        assert!(d.rebuffer_s <= l.rebuffer_s + 0.05, "{name}: stalled longer than rung 0");
        assert!(d.qoe_lin > l.qoe_lin, "{name}: QoE_lin {} vs rung 0's {}", d.qoe_lin, l.qoe_lin);
        // Startup waits for the first segment of each track and nothing more: within
        // two round trips (the inits, then the segments) of the link's bound.
        assert!(d.startup_delay_s <= bound + 3.0 * RTT_S + 0.05, "{name}: {}", d.startup_delay_s);
    }
}

#[test]
fn one_buffer_starts_sooner_than_independent_tracks_on_a_slow_link() {
    let trace = trace("norway_tram_26");
    let mut apart = SessionConfig::default();
    apart.buffer.one_buffer = false;
    let one = play(&trace, "default", SessionConfig::default()).report;
    let two = play(&trace, "default", apart).report;
    eprintln!(
        "tram_26: one buffer startup {:.2} s, {:.2} s stalled, QoE_lin {:.3}; independent tracks {:.2} s, {:.2} s, {:.3}",
        one.startup_delay_s,
        one.rebuffer_s,
        one.qoe_lin,
        two.startup_delay_s,
        two.rebuffer_s,
        two.qoe_lin
    );
    assert!(one.startup_delay_s <= two.startup_delay_s + 1e-9);
    assert!(one.rebuffer_s <= two.rebuffer_s + 1e-9);
}
